#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-lookup.sh - ustack-lookup (us_getaddrinfo() through the
# stack, src/api/resolve.c) against a real DNS server, dnsmasq, on the
# kernel side of tap0:
#  - www.test has an A and an AAAA record: both come back, the A record
#    first, with the query sent over IPv4 (--dns 198.51.100.1) and over IPv6
#    (--dns 2001:db8:1::1), and with the port given;
#  - alias.test is a CNAME of real.test (which has an A and an AAAA
#    record): the CNAME chain is followed, canonname is real.test;
#  - six.test has only an AAAA record (the A query gets NOERROR, no data);
#  - nosuch.test does not exist (NXDOMAIN): exit 1, "Name or service not
#    known" (US_EAI_NONAME);
#  - a name server that never answers (a kernel socket that reads and stays
#    silent): exit 1, "Temporary failure in name resolution" (US_EAI_AGAIN)
#    after the default 3 tries of 2 s;
#  - no server listening on the address (ICMP port unreachable): the same
#    error, quickly;
#  - a --host entry answers without DNS; a bad flag exits 2.
# Every command is bounded with timeout(1); dnsmasq is stopped at the end.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

need_tool python3
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || skip "dnsmasq is not installed (tools/install-deps.sh installs dnsmasq-base)"

SILENT_IP4=198.51.100.3  # a socket reads port 53 there and never answers
CLOSED_IP4=198.51.100.4  # nothing listens on port 53 there

kernel_side_up
ip addr add "$SILENT_IP4/24" dev tap0
ip addr add "$CLOSED_IP4/24" dev tap0

dns_log=$tap_tmp/dnsmasq.log
"$DNSMASQ" --no-daemon --no-resolv --no-hosts --port 53 --bind-interfaces \
	--listen-address "$KERNEL_IP4" --listen-address "$KERNEL_IP6" \
	--user=root --pid-file= --log-queries --log-facility=- \
	--local=/test/ \
	--address=/www.test/198.51.100.7 --address=/www.test/2001:db8:1::7 \
	--host-record=six.test,2001:db8:1::8 \
	--host-record=real.test,198.51.100.10,2001:db8:1::10 \
	--cname=alias.test,real.test \
	>"$dns_log" 2>&1 &
dns_pid=$!
tap_pids="$tap_pids $dns_pid"
wait_for 10 grep -q "started, version" "$dns_log" || {
	echo "FAIL: dnsmasq did not start"
	sed 's/^/  | /' "$dns_log"
	exit 1
}

python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
end = time.time() + 120
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        s.recv(4096)
    except socket.timeout:
        pass
' "$SILENT_IP4" >/dev/null 2>&1 &
silent_pid=$!
tap_pids="$tap_pids $silent_pid"

out=$tap_tmp/lookup.out
link=(--tap tap0 --mac "$STACK_MAC")

# lookup DESC EXPECTED_STATUS ARGS...: runs ustack-lookup (bounded), output in $out.
lookup() {
	desc=$1
	want=$2
	shift 2
	start=$(date +%s)
	timeout 60 "$USTACK_LOOKUP" "$@" >"$out" 2>&1
	status=$?
	took=$(($(date +%s) - start))
	if grep -Eq "runtime error:|AddressSanitizer|LeakSanitizer" "$out"; then
		fail "$desc: sanitizer report in ustack-lookup's output"
		show "ustack-lookup $*" "$out"
		return 1
	fi
	if [ "$status" != "$want" ]; then
		fail "$desc: exit status $status, expected $want"
		show "ustack-lookup $*" "$out"
		return 1
	fi
	return 0
}

# expect_lines DESC ARGS... -- LINE...: exit 0 and exactly these lines, in order.
expect_lines() {
	desc=$1
	shift
	args=()
	while [ "$1" != "--" ]; do
		args+=("$1")
		shift
	done
	shift
	lookup "$desc" 0 "${link[@]}" "${args[@]}" || return
	want=$(printf '%s\n' "$@")
	if [ "$(cat "$out")" = "$want" ]; then
		pass "$desc: $(tr '\n' ';' <"$out")"
	else
		fail "$desc: not the expected lines"
		echo "  expected:"
		printf '%s\n' "$@" | sed 's/^/  | /'
		show "ustack-lookup ${link[*]} ${args[*]}" "$out"
	fi
}

# expect_error DESC TEXT ARGS...: exit 1 with the resolver's error text.
expect_error() {
	desc=$1
	text=$2
	shift 2
	lookup "$desc" 1 "${link[@]}" "$@" || return
	if grep -q "^ustack-lookup: .*: $text\$" "$out"; then
		pass "$desc: exit 1 in ${took}s: $(head -n 1 "$out")"
	else
		fail "$desc: exit 1 but not with \"$text\""
		show "ustack-lookup ${link[*]} $*" "$out"
	fi
}

for dns in "$KERNEL_IP4" "$KERNEL_IP6"; do
	expect_lines "www.test, A and AAAA, queries over $dns" --dns "$dns" www.test -- \
		"IPv4 198.51.100.7 port 0 canonname www.test" \
		"IPv6 2001:db8:1::7 port 0 canonname www.test"
done
expect_lines "www.test with a port" --dns "$KERNEL_IP4" www.test 8080 -- \
	"IPv4 198.51.100.7 port 8080 canonname www.test" \
	"IPv6 2001:db8:1::7 port 8080 canonname www.test"
expect_lines "alias.test (a CNAME of real.test)" --dns "$KERNEL_IP6" alias.test -- \
	"IPv4 198.51.100.10 port 0 canonname real.test" \
	"IPv6 2001:db8:1::10 port 0 canonname real.test"
expect_lines "six.test (AAAA only)" --dns "$KERNEL_IP4" six.test -- \
	"IPv6 2001:db8:1::8 port 0 canonname six.test"
expect_lines "a --host entry, no DNS" --host foo.test=198.51.100.9 foo.test -- \
	"IPv4 198.51.100.9 port 0 canonname foo.test"
for dns in "$KERNEL_IP4" "$KERNEL_IP6"; do
	expect_error "NXDOMAIN over $dns" "Name or service not known" --dns "$dns" nosuch.test
done
grep -q "nosuch.test" "$dns_log" || fail "dnsmasq never saw the query for nosuch.test"

expect_error "a silent name server" "Temporary failure in name resolution" \
	--dns "$SILENT_IP4" www.test
if [ "$status" = 1 ] && { [ "$took" -lt 5 ] || [ "$took" -gt 30 ]; }; then
	fail "a silent name server: gave up after ${took}s, expected about 6 s (3 tries of 2 s) plus start-up"
fi
expect_error "no name server listening (port unreachable)" \
	"Temporary failure in name resolution" --dns "$CLOSED_IP4" www.test

lookup "a bad flag" 2 --no-such-flag www.test &&
	if [ "$(head -n 1 "$out")" = "ustack-lookup: unknown option: --no-such-flag" ] &&
		grep -q '^usage: ustack-lookup' "$out"; then
		pass "a bad flag exits 2 with one error line and the usage"
	else
		fail "a bad flag: not one error line and the usage"
		show "ustack-lookup --no-such-flag www.test" "$out"
	fi
lookup "a bad --dns" 2 --dns not-an-address www.test &&
	pass "a bad --dns exits 2: $(head -n 1 "$out")"

if [ "$tap_failed" != 0 ]; then
	echo "--- dnsmasq's log:"
	tail -n 60 "$dns_log"
fi
finish

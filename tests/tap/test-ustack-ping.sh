#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-ustack-ping.sh - ustack-ping reaches the kernel side, over
# IPv4 and IPv6 (issue 3), and behaves like ping(8):
#  - 5 requests to 198.51.100.1 and to 2001:db8:1::1: exit 0, a line
#    "64 bytes from ADDR: icmp_seq=N ttl=64 time=T ms" for each N in 1..5,
#    and the summary "5 packets transmitted, 5 received, 0% packet loss" with
#    an rtt line;
#  - 3000-byte requests (fragmented by ustack, RFC 791 §3.2 / RFC 8200 §4.5;
#    the kernel's replies fragmented too and reassembled by ustack): the same;
#  - the kernel's link-local address (fe80::...%tap0): the same;
#  - a silent address (198.51.100.99: nobody answers its ARP): exit 1,
#    "2 packets transmitted, 0 received, 100% packet loss";
#  - a bad flag: exit 2, a one-line error and the usage.
# Each run brings up its own stack on tap0 (the device made here), so each
# IPv6 run first waits for its DAD; ustack-ping bounds that wait itself.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

kernel_side_up
link=(--tap tap0 --mac "$STACK_MAC")

# ustack_ping DESC EXPECTED_STATUS ARGS...: runs ustack-ping (bounded), output in $out.
out=$tap_tmp/ustack-ping.out
ustack_ping() {
	desc=$1
	want=$2
	shift 2
	timeout 60 "$USTACK_PING" "$@" >"$out" 2>&1
	status=$?
	cmd="ustack-ping $*"
	if [ "$status" != "$want" ]; then
		fail "$desc: exit status $status, expected $want"
		show "$cmd" "$out"
		return 1
	fi
	return 0
}

# expect_replies DESC FROM COUNT ARGS... (the destination last): COUNT replies from FROM.
expect_replies() {
	desc=$1
	dst=$2
	count=$3
	shift 3
	ustack_ping "$desc" 0 "${link[@]}" -c "$count" "$@" || return
	bad=
	for seq in $(seq "$count"); do
		grep -Eq "^[0-9]+ bytes from $dst: icmp_seq=$seq ttl=64 time=[0-9.]+ ms\$" "$out" ||
			bad="$bad no reply line for icmp_seq=$seq;"
	done
	grep -q "^$count packets transmitted, $count received, 0% packet loss, time [0-9]*ms\$" "$out" ||
		bad="$bad no summary with 0% loss;"
	grep -Eq '^rtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms$' "$out" ||
		bad="$bad no rtt line;"
	if [ -n "$bad" ]; then
		fail "$desc:$bad"
		show "ustack-ping ${link[*]} -c $count $*" "$out"
	else
		pass "$desc: $(grep 'packets transmitted' "$out")"
	fi
}

expect_replies "ustack-ping $KERNEL_IP4" "$KERNEL_IP4" 5 -i 0.2 "$KERNEL_IP4"
expect_replies "ustack-ping -6 $KERNEL_IP6" "$KERNEL_IP6" 5 -i 0.2 -6 "$KERNEL_IP6"
for dst in "$KERNEL_IP4" "$KERNEL_IP6"; do
	expect_replies "ustack-ping -s 3000 $dst" "$dst" 3 -i 0.2 -s 3000 "$dst"
	[ "$(grep -c "^3008 bytes from $dst: " "$out")" = 3 ] ||
		fail "ustack-ping -s 3000 $dst: the replies are not reported as 3008 bytes"
done
expect_replies "ustack-ping with --gw4 (on-link destination)" "$KERNEL_IP4" 2 -i 0.2 \
	--gw4 "$KERNEL_IP4" "$KERNEL_IP4"

kernel_ll=$(ip -6 -o addr show dev tap0 scope link | awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -n "$kernel_ll" ]; then
	expect_replies "ustack-ping $kernel_ll%tap0 (--ip6 none)" "$kernel_ll" 3 -i 0.2 \
		--ip6 none "$kernel_ll%tap0"
else
	fail "the kernel side of tap0 has no link-local address"
	ip -6 addr show dev tap0
fi

if ustack_ping "ustack-ping to a silent address" 1 "${link[@]}" -c 2 -i 0.2 -W 1 198.51.100.99; then
	if grep -q "^2 packets transmitted, 0 received, 100% packet loss" "$out"; then
		pass "ustack-ping to a silent address exits 1 with 100% packet loss"
	else
		fail "ustack-ping to a silent address: no summary with 100% loss"
		show "ustack-ping ${link[*]} -c 2 -i 0.2 -W 1 198.51.100.99" "$out"
	fi
fi

if ustack_ping "ustack-ping with a bad flag" 2 --no-such-flag "$KERNEL_IP4"; then
	if [ "$(head -n 1 "$out")" = "ustack-ping: unknown option: --no-such-flag" ] &&
		grep -q '^usage: ustack-ping' "$out"; then
		pass "ustack-ping with a bad flag exits 2 with one error line and the usage"
	else
		fail "ustack-ping with a bad flag: not one error line and the usage"
		show "ustack-ping --no-such-flag $KERNEL_IP4" "$out"
	fi
fi

finish

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-tcp-bulk.sh - 100 MB each way between the kernel's TCP and
# ustack's, the bytes equal at both ends (sha256):
#  (a) kernel -> stack: ncat --send-only pushes a file of seeded
#      pseudo-random bytes into the demo's discard server (RFC 863, port 9);
#      the demo's "discard: PEER N bytes sha256 HEX" line must name the file's
#      size and digest. Over IPv4, and again over IPv6.
#  (b) stack -> kernel: socat reads 100 MB from the demo's chargen server
#      (RFC 864, port 19); tcp_chargen.py checks them against the RFC 864
#      stream (sha256, and the first differing offset when they differ).
#  (c) the stack's client: ustack-fetch (its own stack on the same TAP
#      device, after the demo stopped) fetches the file from
#      `python3 -m http.server` on the kernel side; sha256 equal.
# Each transfer is bounded (USTACK_BULK_SECONDS, default 150 s) and its
# throughput printed. USTACK_BULK_BYTES (default 104857600) sets the size.
#
#   test-tcp-bulk.sh --impair
#
# runs the same transfers over a bad link (suite 'tcp-long', not in the
# default run): loss 5%, reordering 10%, duplication 2%, delay 1 ms, with
# `tc qdisc add dev tap0 root netem ...` when the kernel has netem (then
# only what the kernel sends is impaired), otherwise (or with
# USTACK_IMPAIR=relay) through tcp_impair.py, which impairs both directions
# between tap0 and a second TAP device, tap1, that the stack uses. Each
# transfer is then bounded by 600 s.
#
#   test-tcp-bulk.sh --sack-compare
#
# measures SACK (RFC 2018, RFC 6675) against its absence: over a link with
# loss 1% and a 20 ms round trip (netem "loss 1% delay 20ms", or
# tcp_impair.py with loss 1% and 10 ms each way), BYTES each way over IPv4
# (kernel -> stack, stack -> kernel), first with the kernel's
# net.ipv4.tcp_sack=1 (SACK used), then with 0 (SACK off for the
# connection: NewReno recovery on both sides). Prints both figures
# (docs/tcp-modern.md has a run's).
#
#   test-tcp-bulk.sh --offload [--impair]
#
# the same with TAP offloads (docs/performance.md): the demo and
# ustack-fetch run with --offload (virtio-net header, TSO, checksum
# offload); the demo's banner must name what the kernel granted, and its
# counters must show super-frames both ways (eth.in_gso_frames,
# eth.out_gso_frames).
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

here=$(dirname "$0")
impair=0
compare=0
offload=()
if [ "${1:-}" = --offload ]; then
	offload=(--offload)
	shift
fi
[ "${1:-}" = --impair ] && impair=1
if [ "${1:-}" = --sack-compare ]; then
	impair=1
	compare=1
fi
netem_args="loss 5% reorder 10% duplicate 2% delay 1ms"
relay_args="5 10 2 1"
if [ "$compare" = 1 ]; then
	netem_args="loss 1% delay 20ms"
	relay_args="1 0 0 10"
fi

need_tool python3
need_tool ncat
need_tool socat
need_tool sha256sum
: "${USTACK_FETCH:?set by tests/tap/meson.build}"

BYTES=${USTACK_BULK_BYTES:-104857600}
if [ "$impair" = 1 ]; then
	LIMIT=${USTACK_BULK_SECONDS:-600}
else
	LIMIT=${USTACK_BULK_SECONDS:-150}
fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# rate BYTES MS: "N ms, X MB/s (Y Mbit/s)".
rate() {
	awk -v b="$1" -v ms="$2" 'BEGIN { if (ms < 1) ms = 1;
		printf "%d ms, %.1f MB/s (%.0f Mbit/s)", ms, b / ms / 1000, b * 8 / ms / 1000 }'
}

# wait_up SECONDS CMD...: polls CMD every 0.1 s until it succeeds, at most
# SECONDS of wall-clock time; 1 on timeout.
wait_up() {
	local end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The data: BYTES seeded pseudo-random bytes (the same on every run, so a
# failure can be replayed), and their digest.
data=$tap_tmp/www/data.bin
mkdir -p "$tap_tmp/www"
python3 -c '
import random, sys
r, n = random.Random(793), int(sys.argv[2])
with open(sys.argv[1], "wb") as f:
    while n > 0:
        k = min(n, 1 << 20)
        f.write(r.randbytes(k))
        n -= k' "$data" "$BYTES" || exit 99
data_sha=$(sha256sum <"$data" | cut -d' ' -f1)
echo "data: $BYTES bytes, sha256 $data_sha"

kernel_side_up
stack_tap=tap0
if [ "$impair" = 1 ]; then
	mode=${USTACK_IMPAIR:-netem}
	if [ "$mode" = netem ]; then
		# shellcheck disable=SC2086
		if tc qdisc add dev tap0 root netem $netem_args >"$tap_tmp/tc.out" 2>&1; then
			echo "impairment: $(tc qdisc show dev tap0) (what the kernel sends)"
		else
			echo "note: netem is not available here ($(cat "$tap_tmp/tc.out"));" \
				"impairing both directions with tcp_impair.py instead"
			mode=relay
		fi
	fi
	if [ "$mode" = relay ]; then
		ip tuntap add tap1 mode tap || exit 99
		# The kernel stays silent on tap1: no IPv6, no ARP answers.
		sysctl -qw net.ipv6.conf.tap1.disable_ipv6=1
		sysctl -qw net.ipv4.conf.tap1.arp_ignore=8
		ip link set tap1 up
		# shellcheck disable=SC2086
		# With offloads the relay carries virtio-net headers both ways.
		vnet=()
		[ ${#offload[@]} -gt 0 ] && vnet=(--vnet)
		python3 "$here/tcp_impair.py" "${vnet[@]}" tap0 tap1 $relay_args 3600 \
			>"$tap_tmp/impair.log" 2>&1 &
		impair_pid=$!
		tap_pids="$tap_pids $impair_pid"
		if ! wait_for 10 grep -q "^impair: up" "$tap_tmp/impair.log"; then
			echo "FAIL: tcp_impair.py did not start"
			sed 's/^/  | /' "$tap_tmp/impair.log"
			exit 1
		fi
		head -1 "$tap_tmp/impair.log"
		stack_tap=tap1
	fi
fi

# lib.sh bounds the demo by --duration 600: the impaired transfers need
# longer (the last --duration given counts).
if [ "$impair" = 1 ]; then
	start_stack --tap "$stack_tap" --duration $((4 * LIMIT + 60)) "${offload[@]}"
else
	start_stack --tap "$stack_tap" "${offload[@]}"
fi
if [ ${#offload[@]} -gt 0 ]; then
	if grep -q "offloads csum tso4 tso6" "$stack_log"; then
		pass "offloads negotiated: $(grep -o 'offloads[a-z0-9 ]*' "$stack_log" | head -1)"
	else
		fail "the demo did not report csum, tso4 and tso6 granted"
		show "ustack-demo --offload" "$stack_log"
	fi
fi
wait_ping 20 "$STACK_IP4" || fail "no ping reply from $STACK_IP4"
wait_ping 30 -6 "$STACK_IP6" || fail "no ping reply from $STACK_IP6 (DAD not done?)"

# discard_lines_above N: true when the demo printed more than N discard lines.
discard_lines_above() {
	[ "$(grep -c '^discard: ' "$stack_log")" -gt "$1" ]
}

# (a) discard DESC ADDR: the file into port 9; the demo's discard line for
# this connection must name BYTES and the file's digest.
discard() {
	local desc=$1 addr=$2 out=$tap_tmp/ncat.out before t0 t1 status line
	before=$(grep -c '^discard: ' "$stack_log")
	t0=$(now_ms)
	timeout "$LIMIT" ncat --send-only "$addr" 9 <"$data" >"$out" 2>&1
	status=$?
	# ncat exits once its kernel holds the last bytes; the transfer ends
	# when the demo has read the FIN.
	wait_up $((status == 0 ? LIMIT : 5)) discard_lines_above "$before"
	t1=$(now_ms)
	line=$(grep '^discard: ' "$stack_log" | sed -n "$((before + 1))p")
	if [ "$status" = 0 ] && [ -n "$line" ] &&
		echo "$line" | grep -q " $BYTES bytes sha256 $data_sha\$"; then
		pass "$desc: $BYTES bytes, sha256 equal, $(rate "$BYTES" $((t1 - t0)))"
	else
		fail "$desc: ncat exit $status after $((t1 - t0)) ms; the demo said: '${line:-nothing}'" \
			"(want $BYTES bytes sha256 $data_sha)"
		show "ncat --send-only $addr 9 <data.bin" "$out"
	fi
}

# (b) chargen DESC SOCAT_ADDRESS: BYTES from port 19 into tcp_chargen.py.
chargen() {
	local desc=$1 addr=$2 out=$tap_tmp/chargen.out t0 t1 status
	t0=$(now_ms)
	timeout "$LIMIT" bash -c 'socat -u "$1" STDOUT 2>"$2.socat" |
		python3 "$3" check "$4"' _ "$addr" "$out" "$here/tcp_chargen.py" "$BYTES" >"$out" 2>&1
	status=$?
	t1=$(now_ms)
	if [ "$status" = 0 ]; then
		pass "$desc: $BYTES bytes equal to the RFC 864 stream (sha256), $(rate "$BYTES" $((t1 - t0)))"
	else
		fail "$desc: status $status after $((t1 - t0)) ms"
		show "socat -u $addr STDOUT | tcp_chargen.py check $BYTES" "$out"
		sed 's/^/  | socat: /' "$out.socat"
	fi
}

if [ "$compare" = 1 ]; then
	# SACK is used only when both SYNs offer it: the kernel's switch
	# (this namespace's) turns it off for the connection.
	for sack in 1 0; do
		sysctl -qw net.ipv4.tcp_sack=$sack || fail "cannot set net.ipv4.tcp_sack"
		what=$([ "$sack" = 1 ] && echo "SACK on" || echo "SACK off")
		discard "kernel -> stack, IPv4, $what" "$STACK_IP4"
		chargen "stack -> kernel, IPv4, $what" "TCP4:$STACK_IP4:19"
	done
	sysctl -qw net.ipv4.tcp_sack=1
	stop_stack
	grep -E '^ +tcp\.(sack|fast|rto|tlp|dsack)' "$stack_log" | sed 's/^ */  demo counter: /'
	kill -TERM "$impair_pid" 2>/dev/null
	wait "$impair_pid" 2>/dev/null
	forget_pid "$impair_pid"
	tail -1 "$tap_tmp/impair.log"
	finish
fi

discard "kernel -> stack, IPv4 (ncat into discard)" "$STACK_IP4"
discard "kernel -> stack, IPv6 (ncat into discard)" "$STACK_IP6"
chargen "stack -> kernel, IPv4 (socat from chargen)" "TCP4:$STACK_IP4:19"

# The demo prints its counters when it stops: show the TCP ones.
stop_stack
grep -E '^ +tcp\.' "$stack_log" | sed 's/^ */  demo counter: /' | head -40
if [ ${#offload[@]} -gt 0 ]; then
	grep -E '^ +eth\.' "$stack_log" | sed 's/^ */  demo counter: /'
	for c in eth.in_gso_frames eth.out_gso_frames eth.in_csum_trusted; do
		v=$(awk -v c="$c" '$1 == c { print $2 }' "$stack_log" | tail -1)
		if [ "${v:-0}" -gt 0 ] 2>/dev/null; then
			pass "with offloads, $c = $v"
		else
			fail "with offloads, $c is '${v:-absent}' (want > 0)"
		fi
	done
fi

# (c) ustack-fetch DESC URL: the stack's client fetches BYTES from the
# kernel's http.server.
python3 -m http.server 8000 --bind "$KERNEL_IP4" --directory "$tap_tmp/www" \
	>"$tap_tmp/http.log" 2>&1 &
http_pid=$!
tap_pids="$tap_pids $http_pid"
wait_up 10 bash -c "ss -Hltn '( sport = :8000 )' | grep -q ." ||
	fail "python3 -m http.server did not listen on port 8000"

fetch() {
	local desc=$1 url=$2 out=$tap_tmp/fetch.out got=$tap_tmp/fetched.bin t0 t1 status sha
	rm -f "$got"
	t0=$(now_ms)
	timeout "$LIMIT" "$USTACK_FETCH" --tap "$stack_tap" --mac "$STACK_MAC" --log drop \
		"${offload[@]}" "$url" -o "$got" --sha256 >"$out" 2>&1
	status=$?
	t1=$(now_ms)
	sha=$(sha256sum <"$got" 2>/dev/null | cut -d' ' -f1)
	if [ "$status" = 0 ] && [ "$sha" = "$data_sha" ] && grep -q "$data_sha" "$out"; then
		pass "$desc: $BYTES bytes, sha256 equal (file and --sha256), $(rate "$BYTES" $((t1 - t0)))"
	else
		fail "$desc: exit $status after $((t1 - t0)) ms, file sha256 '$sha'," \
			"$(stat -c %s "$got" 2>/dev/null || echo no) bytes (want $data_sha)"
		show "ustack-fetch --tap $stack_tap $url -o fetched.bin --sha256" "$out"
	fi
}

fetch "ustack-fetch <- python3 http.server, IPv4" "http://$KERNEL_IP4:8000/data.bin"
if [ -n "${impair_pid:-}" ]; then
	kill -TERM "$impair_pid"
	wait "$impair_pid" 2>/dev/null
	forget_pid "$impair_pid"
	tail -1 "$tap_tmp/impair.log"
fi

finish

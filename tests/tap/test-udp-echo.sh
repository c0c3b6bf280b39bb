#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-udp-echo.sh - ustack-demo's UDP echo server (RFC 862, port
# 7; tools/ustack-demo.c) answers the kernel's UDP, over IPv4 and IPv6:
#  - datagrams of 1, 100 and 1472 bytes come back byte for byte;
#  - a 60000-byte datagram each way: the kernel fragments it (RFC 791 §3.2,
#    RFC 8200 §4.5), ustack reassembles it, the echo server sends 60000
#    bytes back, fragmented by ustack and reassembled by the kernel, and the
#    bytes compare equal;
#  - `socat` (when installed) exchanges a line with the server too;
#  - with --no-udp-echo nothing listens: the kernel gets ICMP port
#    unreachable (RFC 1122 §4.1.3.1), seen as ECONNREFUSED;
#  - the demo stops cleanly on SIGTERM with both echo threads joined.
# The kernel-side client is python3 (a socket with a timeout: bounded).
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

need_tool python3

# echo_check DESC FAMILY ADDR SIZE...: sends one datagram of each size from
# the kernel to ADDR port 7 and checks the echo (2 s per try, 3 tries).
client=$tap_tmp/udp-client.py
cat >"$client" <<'PY'
import os, socket, sys
fam = socket.AF_INET if sys.argv[1] == "4" else socket.AF_INET6
addr, sizes = sys.argv[2], [int(x) for x in sys.argv[3:]]
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((addr, 7))
for n in sizes:
    data = os.urandom(n)
    for attempt in range(3):
        s.send(data)
        try:
            got = s.recv(65536)
        except socket.timeout:
            continue
        if got != data:
            print("size %d: echo differs (%d bytes back)" % (n, len(got)))
            sys.exit(1)
        print("size %d: echoed exactly" % n)
        break
    else:
        print("size %d: no echo in 3 tries" % n)
        sys.exit(1)
PY

echo_check() {
	desc=$1
	shift
	out=$tap_tmp/udp-client.out
	if run "$out" timeout 30 python3 "$client" "$@"; then
		pass "$desc: $(tr '\n' ';' <"$out")"
	else
		fail "$desc"
		show "python3 udp-client.py $*" "$out"
	fi
}

kernel_side_up
start_stack
grep -q "^udp echo (RFC 862) on port 7: IPv4 IPv6" "$stack_log" ||
	fail "ustack-demo does not report its UDP echo server on IPv4 and IPv6"
wait_ping 10 "$STACK_IP4" || fail "no ping reply from $STACK_IP4"
wait_ping 15 -6 "$STACK_IP6" || fail "no ping reply from $STACK_IP6 (DAD not done?)"

echo_check "UDP echo over IPv4" 4 "$STACK_IP4" 1 100 1472
echo_check "UDP echo over IPv6" 6 "$STACK_IP6" 1 100 1452
echo_check "60000-byte UDP echo over IPv4 (fragmented both ways)" 4 "$STACK_IP4" 60000 3000
echo_check "60000-byte UDP echo over IPv6 (fragmented both ways)" 6 "$STACK_IP6" 60000 3000

if command -v socat >/dev/null 2>&1; then
	for dst in "$STACK_IP4" "[$STACK_IP6]"; do
		out=$tap_tmp/socat.out
		if echo "hello ustack" | run "$out" timeout 10 socat -t 2 - "UDP:$dst:7" &&
			[ "$(cat "$out")" = "hello ustack" ]; then
			pass "socat UDP:$dst:7 gets its line back"
		else
			fail "socat UDP:$dst:7"
			show "echo 'hello ustack' | socat -t 2 - UDP:$dst:7" "$out"
		fi
	done
else
	echo "note: socat is not installed; the python3 client covered the exchange"
fi

stop_stack
grep -q "^udp echo over IPv4: [1-9][0-9]* datagrams echoed" "$stack_log" &&
	grep -q "^udp echo over IPv6: [1-9][0-9]* datagrams echoed" "$stack_log" ||
	fail "ustack-demo did not report its echo threads joined with datagrams echoed"

# --no-udp-echo: port 7 is closed, so the kernel's socket gets ECONNREFUSED.
start_stack --no-udp-echo
wait_ping 10 "$STACK_IP4" || fail "no ping reply from $STACK_IP4"
out=$tap_tmp/refused.out
if run "$out" timeout 10 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], 7))
s.send(b"x")
try:
    s.recv(100)
    print("an answer came")
except ConnectionRefusedError:
    sys.exit(0)
except socket.timeout:
    print("timeout, no ICMP port unreachable")
sys.exit(1)' "$STACK_IP4"; then
	pass "--no-udp-echo: port 7 refuses (ICMP port unreachable)"
else
	fail "--no-udp-echo: port 7 did not refuse"
	show "python3 (send to $STACK_IP4:7, expect ECONNREFUSED)" "$out"
fi
grep -q "^udp echo" "$stack_log" && fail "--no-udp-echo: the demo still reports an echo server"

finish

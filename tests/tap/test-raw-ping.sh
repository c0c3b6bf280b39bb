#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-raw-ping.sh - raw ICMP and ICMPv6 sockets of the socket API
# against the kernel: runs tests/tap/raw_ping (see its header for what it
# checks) once tap0's kernel side is up, and checks with the kernel's
# counters that it answered the Echo Requests.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

kernel_side_up
before4=$(snmp4 Icmp OutEchoReps)
before6=$(snmp6 Icmp6OutEchoReplies)
out=$tap_tmp/raw_ping.out
if run "$out" timeout 60 "$RAW_PING"; then
	pass "raw_ping: $(grep -c '^ok:' "$out") checks passed"
else
	fail "raw_ping"
	show "$RAW_PING" "$out"
fi
after4=$(snmp4 Icmp OutEchoReps)
after6=$(snmp6 Icmp6OutEchoReplies)
[ "$after4" -gt "$before4" ] || fail "the kernel sent no ICMP Echo Reply"
[ "$after6" -gt "$before6" ] || fail "the kernel sent no ICMPv6 Echo Reply"
if grep -Eq "runtime error:|AddressSanitizer|LeakSanitizer" "$out"; then
	fail "sanitizer report in raw_ping's output"
	show "$RAW_PING" "$out"
fi
finish

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-ping-frag.sh - 8000-byte pings, fragmented both ways, over
# IPv4 and IPv6 (issue 3: "ping -s 8000 (fragmented both ways) too, v4 and
# v6"), with 0% loss.
#
# The kernel fragments each 8028-byte request to tap0's MTU (1500); ustack
# reassembles it (RFC 791 §3.2, RFC 8200 §4.5), answers, and fragments the
# reply (RFC 791 §3.2, RFC 8200 §4.5), which the kernel reassembles. That
# both directions were fragmented is read from the kernel's own counters in
# this namespace: /proc/net/snmp (Ip: FragCreates, ReasmOKs) and
# /proc/net/snmp6 (Ip6FragCreates, Ip6ReasmOKs).
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

pings=5
kernel_side_up
start_stack

# check_grew DESC BEFORE AFTER AT_LEAST
check_grew() {
	if [ "$(($3 - $2))" -ge "$4" ]; then
		pass "$1 (+$(($3 - $2)))"
	else
		fail "$1: grew by $(($3 - $2)), expected at least $4"
	fi
}

wait_ping 10 "$STACK_IP4" || fail "no IPv4 ping reply from $STACK_IP4 within 10 s"
frag4=$(snmp4 Ip FragCreates)
reasm4=$(snmp4 Ip ReasmOKs)
expect_ping "ping -s 8000 $STACK_IP4" "$pings" -s 8000 -c "$pings" -i 0.2 -w 30 "$STACK_IP4"
# 8028 bytes at MTU 1500: 6 fragments each.
check_grew "the kernel fragmented the IPv4 requests" "$frag4" "$(snmp4 Ip FragCreates)" $((pings * 6))
check_grew "the kernel reassembled ustack's fragmented IPv4 replies" "$reasm4" \
	"$(snmp4 Ip ReasmOKs)" "$pings"

wait_ping 10 -6 "$STACK_IP6" || fail "no IPv6 ping reply from $STACK_IP6 within 10 s"
frag6=$(snmp6 Ip6FragCreates)
reasm6=$(snmp6 Ip6ReasmOKs)
expect_ping "ping -6 -s 8000 $STACK_IP6" "$pings" -6 -s 8000 -c "$pings" -i 0.2 -w 30 "$STACK_IP6"
check_grew "the kernel fragmented the IPv6 requests" "$frag6" "$(snmp6 Ip6FragCreates)" $((pings * 6))
check_grew "the kernel reassembled ustack's fragmented IPv6 replies" "$reasm6" \
	"$(snmp6 Ip6ReasmOKs)" "$pings"

finish

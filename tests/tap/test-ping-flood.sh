#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-ping-flood.sh - the kernel pings ustack 200 times at 10 ms
# intervals, over IPv4 and IPv6, and every request gets its reply (issue 3:
# "ping -c 200 -i 0.01 and ping -6 -c 200 -i 0.01 to the stack: 0% loss").
#
# Path under test: ARP or NDP resolution both ways, then ICMP Echo (RFC 792)
# and ICMPv6 Echo (RFC 4443 §4.1, §4.2) through the whole input and output
# chain (docs/network.md follows one ping through the code). IPv6 is pinged
# only after the stack's DAD is done (polled, at most 10 s).
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

kernel_side_up
start_stack

if wait_ping 10 "$STACK_IP4"; then
	pass "the stack answers a first IPv4 ping"
else
	fail "no IPv4 ping reply from $STACK_IP4 within 10 s"
fi
expect_ping "ping -c 200 -i 0.01 $STACK_IP4" 200 -c 200 -i 0.01 -w 60 "$STACK_IP4"

if wait_ping 10 -6 "$STACK_IP6"; then
	pass "the stack answers a first IPv6 ping (its DAD is done)"
else
	fail "no IPv6 ping reply from $STACK_IP6 within 10 s"
fi
expect_ping "ping -6 -c 200 -i 0.01 $STACK_IP6" 200 -6 -c 200 -i 0.01 -w 60 "$STACK_IP6"

finish

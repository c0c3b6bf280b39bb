#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-neigh.sh - the kernel's neighbour table learns ustack through
# ARP and through NDP (issue 3).
#
# With the kernel's neighbour table flushed and a capture running on tap0,
# the kernel pings the stack's IPv4 address, its global IPv6 address and its
# link-local address (fe80:: + EUI-64 of its MAC, RFC 4862 §5.3). Then:
#  - `ip neigh` lists each address with the stack's MAC, in REACHABLE, STALE
#    or DELAY (RFC 4861 §7.3.2), for 198.51.100.2 through ARP;
#  - the capture holds an ARP reply from the stack (RFC 826: op 2, sender
#    198.51.100.2 at its MAC) and a solicited Neighbor Advertisement (RFC 4861
#    §7.2.4: S flag set, target 2001:db8:1::2, Target Link-Layer Address
#    option with its MAC): that is how the kernel learned them.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

need_tool tcpdump
need_tool tshark

stack_ll=fe80::$(eui64_iid "$STACK_MAC")
kernel_side_up
start_stack

# The stack's DAD must be over before its IPv6 addresses answer.
wait_ping 10 "$STACK_IP4" || fail "no IPv4 ping reply from $STACK_IP4 within 10 s"
wait_ping 10 -6 "$STACK_IP6" || fail "no IPv6 ping reply from $STACK_IP6 within 10 s"
wait_ping 10 -6 "$stack_ll%tap0" || fail "no IPv6 ping reply from $stack_ll%tap0 within 10 s"

capture_start "$tap_tmp/neigh.pcap"
ip neigh flush dev tap0
expect_ping "ping -c 3 $STACK_IP4" 3 -c 3 -i 0.2 -w 10 "$STACK_IP4"
expect_ping "ping -6 -c 3 $STACK_IP6" 3 -6 -c 3 -i 0.2 -w 10 "$STACK_IP6"
expect_ping "ping -6 -c 3 $stack_ll%tap0" 3 -6 -c 3 -i 0.2 -w 10 "$stack_ll%tap0"
# Stop the capture once it holds the last replies (bounded): what tcpdump
# has not written yet would be lost.
wait_for 5 capture_has 3 "ip6 src $stack_ll and icmp6 and ip6[40] == 129"
capture_stop

ip neigh show dev tap0 >"$tap_tmp/neigh.out" 2>&1
for a in "$STACK_IP4" "$STACK_IP6" "$stack_ll"; do
	if grep -Eq "^$a lladdr $STACK_MAC (.* )?(REACHABLE|STALE|DELAY) *\$" "$tap_tmp/neigh.out"; then
		pass "ip neigh: $(grep "^$a " "$tap_tmp/neigh.out")"
	else
		fail "the kernel's neighbour table has no usable entry for $a at $STACK_MAC"
		show "ip neigh show dev tap0" "$tap_tmp/neigh.out"
	fi
done

tshark -r "$tap_tmp/neigh.pcap" -n -T fields -E separator=' ' -e frame.number -e eth.src \
	-e arp.opcode -e arp.src.hw_mac -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4 \
	-Y arp >"$tap_tmp/arp.txt" 2>"$tap_tmp/tshark.err"
if grep -Eq "^[0-9]+ $STACK_MAC 2 $STACK_MAC $STACK_IP4 $KERNEL_IP4\$" "$tap_tmp/arp.txt"; then
	pass "ustack answered the kernel's ARP request (op 2, $STACK_IP4 is-at $STACK_MAC)"
else
	fail "no ARP reply from ustack in the capture"
	show "tshark -Y arp (frame, eth.src, op, sender MAC, sender IP, target IP)" "$tap_tmp/arp.txt"
	sed 's/^/  | /' "$tap_tmp/tshark.err"
fi

tshark -r "$tap_tmp/neigh.pcap" -n -T fields -E separator=' ' -e frame.number -e eth.src \
	-e ipv6.src -e ipv6.dst -e icmpv6.nd.na.target_address -e icmpv6.nd.na.flag.s \
	-e icmpv6.opt.linkaddr -Y 'icmpv6.type == 136' >"$tap_tmp/na.txt" 2>"$tap_tmp/tshark.err"
for a in "$STACK_IP6" "$stack_ll"; do
	if grep -Eq "^[0-9]+ $STACK_MAC [^ ]+ [^ ]+ $a (1|True) $STACK_MAC\$" "$tap_tmp/na.txt"; then
		pass "ustack sent a solicited Neighbor Advertisement for $a with its MAC"
	else
		fail "no solicited Neighbor Advertisement for $a with target link-layer address $STACK_MAC"
		show "tshark -Y 'icmpv6.type == 136' (frame, eth.src, src, dst, target, S, lladdr)" \
			"$tap_tmp/na.txt"
		sed 's/^/  | /' "$tap_tmp/tshark.err"
	fi
done

finish

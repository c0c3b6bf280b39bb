#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-dad.sh - ustack runs Duplicate Address Detection before an
# IPv6 address answers (issue 3; RFC 4862 §5.4).
#
# A capture on the kernel side of tap0 starts before the stack. The kernel
# pings the stack's global address until it answers (bounded). Then, for the
# global address 2001:db8:1::2 and the link-local fe80::5e:10ff:fe00:2
# (fe80:: + EUI-64 of the MAC, RFC 4862 §5.3), the capture must show:
#  - a DAD probe from the stack: a Neighbor Solicitation from :: (RFC 4862
#    §5.4.2: "the source address of the packet MUST be the unspecified
#    address") to the target's solicited-node group ff02::1:ff00:2 (RFC 4291
#    §2.7.1), with the address as target;
#  - no packet from the address before that probe, and the first one at
#    least RetransTimer (RFC 4861 §10: 1 s; DupAddrDetectTransmits is 1)
#    minus 100 ms of slack after the last probe: until then the address is
#    tentative, and RFC 4862 §5.4: "a tentative address is not considered
#    assigned to an interface".
#
# Then DAD that finds a duplicate (RFC 4862 §5.4.4): with the stack stopped,
# the kernel side takes 2001:db8:1::2 too and the stack starts again. The
# kernel answers the stack's probe with a Neighbor Advertisement, so the
# address must become DUPLICATE (reported by ustack-demo) and never answer,
# while the link-local address still becomes PREFERRED.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

need_tool tcpdump
need_tool tshark

stack_ll=fe80::$(eui64_iid "$STACK_MAC")
kernel_side_up
capture_start "$tap_tmp/dad.pcap"
start_stack

# The link-local address has a DAD of its own, which may end later.
wait_ping 10 -6 "$STACK_IP6" || fail "no IPv6 ping reply from $STACK_IP6 within 10 s"
wait_ping 10 -6 "$stack_ll%tap0" || fail "no IPv6 ping reply from $stack_ll%tap0 within 10 s"
expect_ping "ping -6 -c 3 $STACK_IP6" 3 -6 -c 3 -i 0.2 -w 10 "$STACK_IP6"
expect_ping "ping -6 -c 3 $stack_ll%tap0" 3 -6 -c 3 -i 0.2 -w 10 "$stack_ll%tap0"
# Stop the capture once it holds the replies (bounded): what tcpdump has not
# written yet would be lost.
wait_for 5 capture_has 3 "ip6 src $STACK_IP6 and icmp6 and ip6[40] == 129"
wait_for 5 capture_has 3 "ip6 src $stack_ll and icmp6 and ip6[40] == 129"
capture_stop

# One line per IPv6 frame: time, Ethernet source, IPv6 source and destination,
# ICMPv6 type, NS target.
tshark -r "$tap_tmp/dad.pcap" -n -T fields -E separator=' ' -E occurrence=f \
	-e frame.time_relative -e eth.src -e ipv6.src -e ipv6.dst -e icmpv6.type \
	-e icmpv6.nd.ns.target_address -Y ipv6 >"$tap_tmp/ipv6.txt" 2>"$tap_tmp/tshark.err"

# check_dad ADDR SOLICITED_NODE_GROUP
check_dad() {
	awk -v mac="$STACK_MAC" -v addr="$1" -v group="$2" '
	$2 == mac && $3 == "::" && $4 == group && $5 == 135 && $6 == addr {
		if (used == "") { last_probe = $1; probes++ }
		next
	}
	$2 == mac && $3 == addr && used == "" { used = $1; what = $0 }
	END {
		if (!probes) { print "no DAD probe (NS from :: to " group " for " addr ") before its first use"; exit 1 }
		if (used == "") { print "the stack never sent from " addr; exit 1 }
		if (used - last_probe < 0.9) {
			printf "first use of %s %.3f s after the last DAD probe (RetransTimer is 1 s): %s\n", addr, used - last_probe, what
			exit 1
		}
		printf "%d DAD probe(s) for %s, first use %.3f s after the last\n", probes, addr, used - last_probe
	}' "$tap_tmp/ipv6.txt" >"$tap_tmp/check.out" 2>&1
}

for pair in "$STACK_IP6 ff02::1:ff00:2" "$stack_ll ff02::1:ff00:2"; do
	set -- $pair
	if check_dad "$1" "$2"; then
		pass "$(cat "$tap_tmp/check.out")"
	else
		fail "$(cat "$tap_tmp/check.out")"
		show "tshark -Y ipv6 (time, eth.src, src, dst, icmpv6 type, NS target)" "$tap_tmp/ipv6.txt"
		sed 's/^/  | /' "$tap_tmp/tshark.err"
	fi
done

stop_stack
ip -6 addr add "$STACK_IP6/64" dev tap0 nodad
start_stack
if wait_for 10 grep -q "^ipv6 $STACK_IP6/64: DUPLICATE" "$stack_log"; then
	pass "a kernel already on $STACK_IP6: the stack's DAD finds the duplicate"
else
	fail "the stack did not report $STACK_IP6 as DUPLICATE within 10 s"
fi
if wait_for 10 grep -q "^ipv6 $stack_ll/64: PREFERRED" "$stack_log"; then
	pass "the link-local address $stack_ll still becomes PREFERRED"
else
	fail "the link-local address $stack_ll did not become PREFERRED within 10 s"
fi

finish

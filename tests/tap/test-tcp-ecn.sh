#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-tcp-ecn.sh - ECN (RFC 3168 §6.1) against the Linux kernel:
# with net.ipv4.tcp_ecn=1 in this namespace the kernel's curl sends an
# ECN-setup SYN (ECE and CWR); ustack-demo --ecn answers with an
# ECN-setup SYN-ACK (ECE alone) and both send their data ECT(0), their pure
# ACKs not-ECT. Checked on a capture of tap0 (tcpdump filters on the
# header bits) and on the demo's counters (tcp.ecn_negotiated). Then the
# same curl against the demo without --ecn: a plain SYN-ACK, no ECT.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh. The sysctl
# is per namespace: the host's setting is not touched.
. "$(dirname "$0")/lib.sh"

need_tool curl
need_tool tcpdump

# TCP flags byte (tcp[13]): CWR 0x80, ECE 0x40, ACK 0x10, SYN 0x02.
SYN_ECN='tcp[13] & 0xd2 == 0xc2'     # SYN, ECE, CWR, no ACK
SYNACK_ECN='tcp[13] & 0xd2 == 0x52'  # SYN, ACK, ECE, no CWR
SYNACK_PLAIN='tcp[13] & 0xd2 == 0x12'
# The IP ECN field (ip[1] & 3) and a TCP payload.
ECT0='ip[1] & 3 == 2'
DATA='(ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) > 0'
PURE_ACK='tcp[13] & 0x17 == 0x10 and (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) == 0'

kernel_side_up
sysctl -qw net.ipv4.tcp_ecn=1 || skip "cannot set net.ipv4.tcp_ecn in this namespace"

# fetch DESC: one bounded curl of / (status 200 wanted).
fetch() {
	local out=$tap_tmp/curl.out
	if run "$out" timeout 30 curl -sS --max-time 20 -o /dev/null -w '%{http_code}' \
		"http://$STACK_IP4/" && [ "$(cat "$out")" = 200 ]; then
		pass "$1: GET / 200"
	else
		fail "$1: GET /"
		show "curl http://$STACK_IP4/" "$out"
	fi
}

# check DESC N FILTER: at least N captured frames match FILTER.
check() {
	local desc=$1 n=$2
	shift 2
	if capture_has "$n" "$@"; then
		pass "$desc ($(capture_count "$@") frames)"
	else
		fail "$desc: fewer than $n frames match: $*"
		tcpdump -r "$capture_file" -n -v 2>/dev/null | sed 's/^/  | /' | head -40
	fi
}

# none DESC FILTER: no captured frame matches FILTER.
none() {
	local desc=$1
	shift
	if [ "$(capture_count "$@")" = 0 ]; then
		pass "$desc"
	else
		fail "$desc: frames match: $*"
		tcpdump -r "$capture_file" -n -v "$@" 2>/dev/null | sed 's/^/  | /' | head -20
	fi
}

# 1. ustack-demo --ecn: agreed.
start_stack --ecn
wait_ping 10 "$STACK_IP4" || fail "no ping reply from $STACK_IP4"
capture_start "$tap_tmp/ecn.pcap"
fetch "with --ecn"
capture_stop
check "the kernel's SYN is ECN-setup (ECE, CWR)" 1 "src host $KERNEL_IP4 and tcp and $SYN_ECN"
check "our SYN-ACK is ECN-setup (ECE, not CWR)" 1 "src host $STACK_IP4 and tcp and $SYNACK_ECN"
check "our data leaves ECT(0)" 1 "src host $STACK_IP4 and tcp and $ECT0 and $DATA"
check "the kernel's data comes ECT(0)" 1 "src host $KERNEL_IP4 and tcp and $ECT0 and $DATA"
none "no ECT on our SYN-ACK or pure ACKs" "src host $STACK_IP4 and tcp and ip[1] & 3 != 0 and (tcp[13] & 0x02 != 0 or $PURE_ACK)"
stop_stack
if grep -Eq '^ +tcp\.ecn_negotiated +[1-9]' "$stack_log"; then
	pass "tcp.ecn_negotiated counted"
else
	fail "tcp.ecn_negotiated not counted"
	grep 'tcp\.' "$stack_log" | sed 's/^/  | /'
fi

# 2. Without --ecn (the default): a plain SYN-ACK, no ECT from us.
start_stack
wait_ping 10 "$STACK_IP4" || fail "no ping reply from $STACK_IP4"
capture_start "$tap_tmp/plain.pcap"
fetch "without --ecn"
capture_stop
check "the kernel still asks (ECN-setup SYN)" 1 "src host $KERNEL_IP4 and tcp and $SYN_ECN"
check "our SYN-ACK is plain" 1 "src host $STACK_IP4 and tcp and $SYNACK_PLAIN"
none "no ECT from us" "src host $STACK_IP4 and tcp and ip[1] & 3 != 0"
none "no ECT from the kernel either" "src host $KERNEL_IP4 and tcp and ip[1] & 3 != 0"

finish

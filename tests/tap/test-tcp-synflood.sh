#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-tcp-synflood.sh - a SYN flood from the kernel side with
# hping3 (bounded to 10 s) against ustack-demo's HTTP port, while a
# legitimate client (the kernel's curl) keeps connecting (issue 7; RFC 4987):
#  - the flood's SYNs come from 198.51.100.77, an address of the namespace's
#    subnet that nobody owns, so the stack's SYN-ACKs go unanswered (its ARP
#    requests too) and half-open connections pile up as in a real flood;
#    nothing leaves the namespace;
#  - every curl request made during the flood is answered 200 (SYN cookies,
#    src/stack/tcp_cookie.c, take over when the SYN queue is full);
#  - the stack counted cookies sent and accepted (tcp.syncookies_sent,
#    tcp.syncookies_recv) in the counters it prints when stopped;
#  - the demo's resident memory grows by less than MEM_BOUND_KB during the
#    flood (the SYN queue is bounded; a cookie costs no memory), sampled
#    every 0.2 s from /proc.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

need_tool hping3
need_tool curl

FLOOD_SECONDS=10
MEM_BOUND_KB=${USTACK_SYNFLOOD_MEM_KB:-16384}
SPOOF=198.51.100.77

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

kernel_side_up
start_stack
wait_ping 10 "$STACK_IP4" || fail "no ping reply from $STACK_IP4"
run "$tap_tmp/first" timeout 10 curl -sS --max-time 5 -o /dev/null "http://$STACK_IP4/" ||
	fail "no HTTP answer before the flood"

base=$(rss_kb "$stack_pid")
timeout "$FLOOD_SECONDS" hping3 -q -S -p 80 --flood -a "$SPOOF" "$STACK_IP4" \
	>"$tap_tmp/hping.log" 2>&1 &
flood=$!
tap_pids="$tap_pids $flood"

# Give the flood a second to fill the SYN queue, then connect as a client
# would, while sampling the stack's memory.
sleep 1
ok=0
tries=0
peak=$base
end=$(($(date +%s) + FLOOD_SECONDS - 2))
while [ "$(date +%s)" -lt "$end" ] && [ $tries -lt 200 ]; do
	tries=$((tries + 1))
	# A SYN may be lost in the flood (the TAP queue overflows): curl then
	# retries it after 1, 3, 7 s, so it gets until after the flood.
	code=$(timeout 20 curl -s --max-time 15 -o /dev/null -w '%{http_code}' "http://$STACK_IP4/")
	[ "$code" = 200 ] && ok=$((ok + 1))
	r=$(rss_kb "$stack_pid")
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 0.2
done
wait "$flood" 2>/dev/null
forget_pid "$flood"

if [ $tries -gt 0 ] && [ $ok = $tries ]; then
	pass "during the flood, $ok of $tries curl requests answered 200"
else
	fail "during the flood, $ok of $tries curl requests answered 200"
fi
grow=$((peak - base))
if [ $grow -lt "$MEM_BOUND_KB" ]; then
	pass "the stack's memory grew by $grow KB during the flood (bound $MEM_BOUND_KB KB; RSS $base -> $peak KB)"
else
	fail "the stack's memory grew by $grow KB during the flood (bound $MEM_BOUND_KB KB)"
fi

stop_stack
sent=$(awk '$1 == "tcp.syncookies_sent" { print $2 }' "$stack_log")
recv=$(awk '$1 == "tcp.syncookies_recv" { print $2 }' "$stack_log")
if [ "${sent:-0}" -gt 0 ] && [ "${recv:-0}" -gt 0 ]; then
	pass "SYN cookies sent: $sent, accepted: $recv"
else
	fail "SYN cookies sent: ${sent:-0}, accepted: ${recv:-0} (want both > 0)"
	grep -E "tcp\.|^  " "$stack_log" | sed 's/^/  | /' | head -40
fi
grep -E "tcp.syn_queue|tcp.syncookies|tcp.in_segs" "$stack_log" | sed 's/^/  /'

finish

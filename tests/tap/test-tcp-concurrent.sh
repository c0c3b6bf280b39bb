#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-tcp-concurrent.sh - 200 TCP connections at once to
# ustack-demo's echo server (RFC 862, port 7), over IPv4 and then IPv6:
#  - tcp_concurrent.py (kernel side) opens all 200, sends a different
#    payload on each, reads every echo back byte for byte, then closes all;
#  - the kernel closed first (active close, RFC 9293 §3.6), so afterwards
#    its 200 sockets are in TIME_WAIT, and the stack, closing after its peer
#    (CLOSE_WAIT -> LAST_ACK -> CLOSED), keeps none of them: GET /status
#    (the demo's list of every TCP socket of the stack) shows none of those
#    200 connections, in TIME_WAIT or any other state;
#  - /status itself: text/plain, one "tcp N NAME LOCAL REMOTE snd_queued=
#    rcv_queued=" line per socket with N the state's number (RFC 9293 §3.3.2
#    order, include/ustack/core.h), "total N" matching, and nothing but the
#    listeners and the /status connection itself left open.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

here=$(dirname "$0")
need_tool python3
need_tool curl
need_tool ss

COUNT=${USTACK_CONCURRENT:-200}

# wait_up SECONDS CMD...: polls CMD every 0.2 s until it succeeds, at most
# SECONDS of wall-clock time; 1 on timeout.
wait_up() {
	local end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# get_status: GET /status into $status_file; its connection's local port
# (the kernel side's) into $status_port. 1 when not 200 text/plain.
status_file=$tap_tmp/status.txt
get_status() {
	local w
	w=$(timeout 20 curl -sS --max-time 10 -o "$status_file" \
		-w '%{http_code} %{local_port} %{content_type}' "http://$STACK_IP4/status" 2>&1)
	status_port=$(echo "$w" | cut -d' ' -f2)
	case $w in
	"200 "*" text/plain"*) return 0 ;;
	esac
	echo "GET /status: $w" >"$tap_tmp/status.err"
	return 1
}

# check_status PORTS_FILE: classifies the lines of $status_file, prints
# "gone G time_wait T other O bad B" for the connections to port 7 from the
# ports in PORTS_FILE; lines of other sockets that are neither a listener
# nor the /status connection count in "stray"; malformed lines in "bad".
check_status() {
	awk -v ports="$1" -v me="$status_port" '
	BEGIN {
		split("CLOSED LISTEN SYN_SENT SYN_RCVD ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 " \
		      "CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT", names, " ")
		while ((getline p < ports) > 0) { want[p] = 1; n++ }
	}
	function port(a) { sub(/.*:/, "", a); return a }
	$1 == "total" { total = $2; next }
	$1 == "tcp" {
		lines++
		if (NF != 7 || names[$2 + 1] != $3 || $6 !~ /^snd_queued=[0-9]+$/ ||
		    $7 !~ /^rcv_queued=[0-9]+$/) { bad++; print "bad line: " $0 > "/dev/stderr"; next }
		lp = port($4); rp = port($5)
		if (lp == 7 && (rp in want)) {
			seen[rp] = 1
			if ($3 == "TIME_WAIT") tw++
			else { other++; print "echo connection: " $0 > "/dev/stderr" }
			next
		}
		if ($3 == "LISTEN") { listen++; next }
		if ($3 == "ESTABLISHED" && lp == 80 && rp == me) next
		stray++; print "stray: " $0 > "/dev/stderr"
		next
	}
	{ bad++; print "bad line: " $0 > "/dev/stderr" }
	END {
		for (p in want) if (!(p in seen)) gone++
		if (total != lines) { bad++; print "total " total " but " lines " lines" > "/dev/stderr" }
		printf "gone %d time_wait %d other %d stray %d bad %d listen %d\n",
			gone, tw, other, stray, bad, listen
	}' "$status_file"
}

# kernel_time_wait ADDR: the kernel's TIME_WAIT sockets to ADDR port 7.
kernel_time_wait() {
	ss -Htan state time-wait | awk -v peer="$1" '$NF == peer":7" { n++ } END { print n + 0 }'
}

# kernel_time_wait_reaches ADDR N: true when kernel_time_wait ADDR >= N.
kernel_time_wait_reaches() {
	[ "$(kernel_time_wait "$1")" -ge "$2" ]
}

concurrent() {
	local desc=$1 addr=$2 peer=$3 ports=$tap_tmp/ports.txt out=$tap_tmp/concurrent.out
	local tw_before summary i
	tw_before=$(kernel_time_wait "$peer")
	if run "$out" timeout 120 python3 "$here/tcp_concurrent.py" "$addr" 7 "$COUNT" 90 "$ports"; then
		pass "$desc: $(tail -2 "$out" | head -1)"
	else
		fail "$desc"
		show "tcp_concurrent.py $addr 7 $COUNT 90" "$out"
		return
	fi
	# The kernel side: every one of its sockets in TIME_WAIT.
	if wait_up 15 kernel_time_wait_reaches "$peer" $((tw_before + COUNT)); then
		pass "$desc: the kernel's $COUNT sockets are in TIME_WAIT (active close)"
	else
		fail "$desc: $(($(kernel_time_wait "$peer") - tw_before)) of the kernel's $COUNT sockets in TIME_WAIT"
		ss -Htan | awk -v peer="$peer" '$NF == peer":7"' | awk '{ print $1 }' | sort | uniq -c |
			sed 's/^/  | kernel: /'
	fi
	# The stack side: none of them left (LAST_ACK ends with the kernel's ACK).
	summary=
	for ((i = 0; i < 50; i++)); do
		if get_status; then
			summary=$(check_status "$ports" 2>"$tap_tmp/status.why")
			case $summary in
			"gone $COUNT time_wait 0 other 0 stray 0 bad 0 "*) break ;;
			esac
		fi
		sleep 0.2
	done
	case $summary in
	"gone $COUNT time_wait 0 other 0 stray 0 bad 0 "*)
		pass "$desc: /status lists none of the $COUNT connections (passive close: gone)," \
			"only listeners and itself (${summary##* })"
		;;
	*)
		fail "$desc: /status after 10 s: ${summary:-no answer}" \
			"(want gone $COUNT time_wait 0 other 0 stray 0 bad 0)"
		[ -s "$tap_tmp/status.err" ] && sed 's/^/  | /' "$tap_tmp/status.err"
		head -20 "$tap_tmp/status.why" 2>/dev/null | sed 's/^/  | /'
		echo "  /status (first 20 lines):"
		head -20 "$status_file" 2>/dev/null | sed 's/^/  | /'
		;;
	esac
}

kernel_side_up
start_stack
wait_ping 10 "$STACK_IP4" || fail "no ping reply from $STACK_IP4"
wait_ping 15 -6 "$STACK_IP6" || fail "no ping reply from $STACK_IP6 (DAD not done?)"
wait_up 10 get_status || fail "no answer to GET http://$STACK_IP4/status within 10 s"

# Before: only listeners (and the /status connection).
: >"$tap_tmp/none.txt"
summary=$(check_status "$tap_tmp/none.txt" 2>"$tap_tmp/status.why")
case $summary in
"gone 0 time_wait 0 other 0 stray 0 bad 0 listen "[1-9]*)
	pass "/status at the start: ${summary##* } listeners, well formed, total matches" ;;
*)
	fail "/status at the start: $summary"
	sed 's/^/  | /' "$tap_tmp/status.why" "$status_file" | head -30 ;;
esac

concurrent "$COUNT concurrent echo connections, IPv4" "$STACK_IP4" "$STACK_IP4"
concurrent "$COUNT concurrent echo connections, IPv6" "$STACK_IP6" "[$STACK_IP6]"

finish

#!/bin/sh
# SPDX-License-Identifier: MIT
#
# A TCB's six timers (t_rexmt, t_persist, t_keep, t_delack, t_close, t_tlp)
# are also its place in the stack's timer heap (src/stack/tcp_timer.c): a
# timer written directly, without us_tcp_timer_set(), leaves the heap with a
# stale key, and a deadline is lost. This check fails on any assignment to
# one of them in the C files under the directories given.
set -eu
[ $# -ge 1 ] || { echo "usage: check-tcp-timer-writes.sh DIR|FILE..." >&2; exit 2; }
pattern='(->|\.)t_(rexmt|persist|keep|delack|close|tlp)[[:space:]]*([-+*/%|&^]|<<|>>)?=([^=]|$)'
if grep -rnE --include='*.c' --include='*.h' "$pattern" "$@"; then
	echo "a TCP timer is written directly: use us_tcp_timer_set() (src/stack/tcp.h)"
	exit 1
fi
echo "ok: every TCP timer is written through us_tcp_timer_set()"

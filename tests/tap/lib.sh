# SPDX-License-Identifier: MIT
#
# tests/tap/lib.sh - shared by the TAP test scripts (test-*.sh, bash):
# sourced, never run. Each script runs inside a fresh network namespace that
# netns-run.sh made (it refuses to run anywhere else), sets up the kernel
# side of tap0, starts ustack (tools/ustack-demo or tools/ustack-ping)
# against it and checks what the kernel's own tools see.
#
# Addresses (documentation ranges, never routed): kernel side 198.51.100.1/24
# and 2001:db8:1::1/64, stack 198.51.100.2/24 and 2001:db8:1::2/64, stack MAC
# 02:5e:10:00:00:02 (so its EUI-64 addresses are known).
#
# Environment (set by tests/tap/meson.build): USTACK_DEMO and USTACK_PING, the
# tools' paths; USTACK_REQUIRE_TAP=1 turns a missing tool into a failure.
#
# Every wait is a poll with a bound, never a fixed sleep. A failing check
# prints the command and its output; at the end, when anything failed, the
# stack's log is printed too. Exit status: 0 pass, 1 fail, 77 skip.

set -u

STACK_MAC=02:5e:10:00:00:02
STACK_IP4=198.51.100.2
STACK_IP6=2001:db8:1::2
KERNEL_IP4=198.51.100.1
KERNEL_IP6=2001:db8:1::1

tap_failed=0
tap_pids=
tap_tmp=$(mktemp -d "${TMPDIR:-/tmp}/ustack-tap-XXXXXX") || exit 99
stack_log=$tap_tmp/stack.log
stack_pid=

# Processes started here and not yet waited for: tap_cleanup() stops them.
forget_pid() {
	tap_pids=$(echo " $tap_pids " | sed "s/ $1 / /")
}

tap_cleanup() {
	for p in $tap_pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $tap_pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tap_tmp"
}
trap tap_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# tshark reads the user's preferences: start from its defaults.
export HOME=$tap_tmp XDG_CONFIG_HOME=$tap_tmp/.config

fail() {
	echo "FAIL: $*"
	tap_failed=1
}

pass() {
	echo "ok: $*"
}

skip() {
	if [ "${USTACK_REQUIRE_TAP:-0}" = 1 ]; then
		echo "FAIL: $* (USTACK_REQUIRE_TAP=1)"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

need_tool() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed (tools/install-deps.sh installs it)"
}

# The end of a script: the stack's log when something failed, then the status.
finish() {
	stop_stack
	if [ "$tap_failed" != 0 ]; then
		if [ -s "$stack_log" ]; then
			echo "--- the stack's output ($stack_log):"
			tail -n 200 "$stack_log"
		fi
		echo "--- ip neigh:"
		ip neigh show 2>&1
		exit 1
	fi
	exit 0
}

# Refuse anything but a namespace fresh from netns-run.sh: only lo exists.
others=$(ip -o link show | awk -F': ' '$2 != "lo" { print $2 }')
if [ -n "$others" ]; then
	echo "lib.sh: this namespace has interfaces besides lo ($others): run me through netns-run.sh" >&2
	exit 99
fi

# run OUTFILE CMD...: runs CMD, stdout and stderr into OUTFILE; CMD's status.
run() {
	out=$1
	shift
	"$@" >"$out" 2>&1
}

# show CMD OUTFILE: what a failed check prints.
show() {
	echo "  command: $1"
	sed 's/^/  | /' "$2"
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
	limit=$(($1 * 10))
	shift
	i=0
	while [ "$i" -lt "$limit" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# The kernel side: tap0 up with .1 and ::1. No DAD on the kernel side
# (accept_dad 0, for its link-local address too): its addresses are usable
# at once, also after each time a stack attaches to tap0 (carrier up), so no
# test races the kernel's DAD; the tests are about the stack's.
kernel_side_up() {
	ip tuntap add tap0 mode tap || { echo "cannot create tap0" >&2; exit 99; }
	sysctl -qw net.ipv6.conf.tap0.accept_dad=0
	# The kernel side takes no Router Advertisement from anyone.
	sysctl -qw net.ipv6.conf.tap0.accept_ra=0
	ip link set tap0 up
	ip addr add "$KERNEL_IP4/24" dev tap0
	ip -6 addr add "$KERNEL_IP6/64" dev tap0 nodad
}

# start_stack ARGS...: ustack-demo on tap0 in the background (stack_pid), with
# the fixed MAC, bounded by --duration; waits until it says it is up.
start_stack() {
	"$USTACK_DEMO" --tap tap0 --mac "$STACK_MAC" --duration 600 --log drop "$@" \
		>"$stack_log" 2>&1 &
	stack_pid=$!
	tap_pids="$tap_pids $stack_pid"
	if ! wait_for 10 grep -q "ustack is up" "$stack_log"; then
		echo "FAIL: ustack-demo did not come up in 10 s: $USTACK_DEMO --tap tap0 --mac $STACK_MAC $*"
		sed 's/^/  | /' "$stack_log"
		exit 1
	fi
}

# Stops ustack-demo with SIGTERM, as a user would; it must exit 0 having
# printed its counters, with no sanitizer report (ASan/UBSan builds) in its
# output: a crash or a leak of the stack fails the test here.
stop_stack() {
	if [ -n "$stack_pid" ]; then
		kill -TERM "$stack_pid" 2>/dev/null
		wait "$stack_pid" 2>/dev/null
		status=$?
		forget_pid "$stack_pid"
		stack_pid=
		if [ "$status" != 0 ] || ! grep -q "^ustack stopped" "$stack_log"; then
			fail "ustack-demo did not stop cleanly on SIGTERM (exit status $status)"
		fi
		if grep -Eq "runtime error:|AddressSanitizer|LeakSanitizer" "$stack_log"; then
			fail "sanitizer report in ustack-demo's output"
		fi
	fi
}

# wait_ping SECONDS [-6] ADDR: polls one ping at a time until ADDR answers
# (for IPv6 that is after the stack's DAD). 1 on timeout.
wait_ping() {
	limit=$1
	shift
	end=$(($(date +%s) + limit))
	while [ "$(date +%s)" -lt "$end" ]; do
		ping -n -c 1 -W 1 "$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# expect_ping DESC COUNT PING_ARGS...: runs ping (bounded by its own -w) and
# checks that COUNT requests got COUNT replies.
expect_ping() {
	desc=$1
	count=$2
	shift 2
	out=$tap_tmp/ping.out
	if run "$out" timeout 120 ping -n "$@" && grep -q "^$count packets transmitted, $count received, 0% packet loss" "$out"; then
		pass "$desc: $(grep 'packets transmitted' "$out")"
	else
		fail "$desc"
		show "ping -n $*" "$out"
	fi
}

# capture_start FILE: tcpdump on tap0 into FILE (background), once it listens.
# --immediate-mode: each packet is handed to tcpdump as it comes (by default
# libpcap holds them in its ring for up to a second, and a capture stopped
# then loses them); -U: each is written to FILE at once, so the file can be
# read while the capture runs (capture_count).
capture_start() {
	capture_file=$1
	# A second capture must not take the first one's "listening on" for
	# its own: the background job truncates the log only once it runs.
	rm -f "$tap_tmp/tcpdump.log"
	tcpdump -i tap0 --immediate-mode -U -n -Z root -w "$capture_file" \
		>"$tap_tmp/tcpdump.log" 2>&1 &
	capture_pid=$!
	tap_pids="$tap_pids $capture_pid"
	if ! wait_for 10 grep -q "listening on" "$tap_tmp/tcpdump.log"; then
		echo "FAIL: tcpdump did not start"
		sed 's/^/  | /' "$tap_tmp/tcpdump.log"
		exit 1
	fi
}

# capture_count FILTER...: how many captured frames match the tcpdump FILTER.
capture_count() {
	tcpdump -r "$capture_file" -n "$@" 2>/dev/null | wc -l
}

# capture_has N FILTER...: true when at least N captured frames match.
capture_has() {
	n=$1
	shift
	[ "$(capture_count "$@")" -ge "$n" ]
}

# capture_stop: first lets tcpdump catch up: on SIGINT it stops reading,
# and frames still waiting in the kernel for it are lost (a loaded CI run
# lost a whole curl exchange), so it waits until the file has not grown for
# half a second (5 s at most). tcpdump then ends on SIGINT (its file,
# written with -U, is complete); one that does not within 5 s gets TERM,
# then KILL, so a test never hangs here (also seen once under load).
capture_stop() {
	local guard size last=-1 _
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		size=$(stat -c %s "$capture_file" 2>/dev/null || echo 0)
		[ "$size" = "$last" ] && break
		last=$size
		sleep 0.5
	done
	kill -INT "$capture_pid" 2>/dev/null
	(
		sleep 5
		kill -TERM "$capture_pid" 2>/dev/null
		sleep 2
		kill -KILL "$capture_pid" 2>/dev/null
	) >/dev/null 2>&1 &
	guard=$!
	wait "$capture_pid" 2>/dev/null
	kill "$guard" 2>/dev/null
	wait "$guard" 2>/dev/null
	forget_pid "$capture_pid"
}

# The EUI-64 interface identifier of a MAC (RFC 4291 §2.5.1, appendix A):
# ff:fe in the middle, the universal/local bit flipped. Prints e.g.
# "5e:10ff:fe00:2" for 02:5e:10:00:00:02 (groups without leading zeros).
eui64_iid() {
	local m0 m1 m2 m3 m4 m5
	IFS=: read -r m0 m1 m2 m3 m4 m5 <<<"$1"
	printf '%x:%x:%x:%x\n' $((((0x$m0 ^ 2) << 8) | 0x$m1)) $(((0x$m2 << 8) | 0xff)) \
		$(((0xfe << 8) | 0x$m3)) $(((0x$m4 << 8) | 0x$m5))
}

# A counter from /proc/net/snmp (IPv4) or /proc/net/snmp6: this namespace's.
snmp4() {
	awk -v key="$1" -v field="$2" '$1 == key":" {
		if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1; next }
		print $col[field]
	}' /proc/net/snmp
}

snmp6() {
	awk -v name="$1" '$1 == name { print $2 }' /proc/net/snmp6
}

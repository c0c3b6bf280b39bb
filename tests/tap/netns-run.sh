#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/tap/netns-run.sh - run a command in a network namespace of its own.
#
#   netns-run.sh [--tap] NAME CMD [ARG...]
#
# Creates the namespace ustack-t-NAME-PID-RANDOM, runs CMD in it with
# `ip netns exec`, deletes the namespace afterwards (also when CMD fails or the
# script gets INT or TERM; only SIGKILL can leave one behind), and exits with
# CMD's status. Everything the tests in tests/tap/ send stays in that
# namespace: it starts with only a loopback device and no routes.
#
# Exits 77 (skip), with the reason on stderr, when not root, when
# /dev/net/tun or ip(8) is missing, or when `ip netns add` is not permitted.
# With USTACK_REQUIRE_TAP=1 in the environment (meson -Dtap_tests=enabled)
# those are failures (exit 1) instead: a CI job that means to run these
# tests does not pass by skipping them.
#
# --tap: CMD speaks the TAP protocol. Meson counts any non-zero exit of a TAP
# test as an error, so a skip is printed as the TAP plan "1..0 # SKIP why"
# and the script exits 0; CMD's own exit 77 (after its own "1..0 # SKIP")
# becomes 0 too.

set -u

# `meson test --setup valgrind` runs every test under memcheck, this shell
# included, and the shell's own allocations would count as leaks. Under that
# setup (USTACK_UNDER_VALGRIND=1) the script leaves memcheck by exec'ing a
# fresh shell (valgrind follows no exec without --trace-children) and runs
# CMD under memcheck instead.
if [ "${USTACK_UNDER_VALGRIND:-0}" = 1 ] && [ -z "${USTACK_VALGRIND_REEXEC:-}" ]; then
	USTACK_VALGRIND_REEXEC=1 exec /bin/sh "$0" "$@"
fi

tap=0
if [ "${1:-}" = "--tap" ]; then
	tap=1
	shift
fi
if [ $# -lt 2 ]; then
	echo "usage: $0 [--tap] NAME CMD [ARG...]" >&2
	exit 2
fi
name=$1
shift

skip() {
	if [ "${USTACK_REQUIRE_TAP:-0}" = 1 ]; then
		echo "netns-run.sh: FAIL: $* (USTACK_REQUIRE_TAP=1)" >&2
		exit 1
	fi
	echo "netns-run.sh: SKIP: $*" >&2
	if [ "$tap" = 1 ]; then
		echo "1..0 # SKIP $*"
		exit 0
	fi
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces and TAP devices"
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (no tun module?)"
command -v ip >/dev/null 2>&1 || skip "ip(8) from iproute2 is missing"

rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
ns="ustack-t-$name-$$-$rand"

if ! err=$(ip netns add "$ns" 2>&1); then
	case $err in
	*"ermission denied"* | *"not permitted"*)
		skip "ip netns add is not permitted here: $err" ;;
	esac
	echo "netns-run.sh: ip netns add $ns failed: $err" >&2
	exit 1
fi

cleanup() {
	ip netns delete "$ns" 2>/dev/null ||
		echo "netns-run.sh: could not delete namespace $ns" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Loopback up, so a test that wants 127.0.0.1 has it; nothing else exists.
ip -n "$ns" link set lo up

if [ "${USTACK_UNDER_VALGRIND:-0}" = 1 ]; then
	set -- valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$@"
fi
ip netns exec "$ns" "$@"
status=$?
if [ "$tap" = 1 ] && [ "$status" = 77 ]; then
	[ "${USTACK_REQUIRE_TAP:-0}" = 1 ] && exit 1
	status=0
fi
exit "$status"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-demo.sh - the demo's self-check passes (issue 3):
#
#   tools/demo.sh --check --no-build --netns ustack-t-demo-PID-RANDOM \
#                 --build-dir "$USTACK_BUILD_DIR"
#
# demo.sh makes (and removes) a namespace of its own, so this test does not
# run through netns-run.sh; it skips the same way (77) without root,
# /dev/net/tun or ip(8), and fails instead under USTACK_REQUIRE_TAP=1. The
# namespace name is unique per run, so it may run beside the other tests.
# The demo's output is printed whole (meson keeps it in the test log).
set -u

skip() {
	if [ "${USTACK_REQUIRE_TAP:-0}" = 1 ]; then
		echo "FAIL: $* (USTACK_REQUIRE_TAP=1)"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces and TAP devices"
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (no tun module?)"
command -v ip >/dev/null 2>&1 || skip "ip(8) from iproute2 is missing"
command -v arping >/dev/null 2>&1 || skip "arping is not installed (tools/install-deps.sh installs it)"
: "${USTACK_SRCDIR:?set by tests/tap/meson.build}" "${USTACK_BUILD_DIR:?set by tests/tap/meson.build}"

rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
netns=ustack-t-demo-$$-$rand
cmd=("$USTACK_SRCDIR/tools/demo.sh" --check --no-build --netns "$netns" --build-dir "$USTACK_BUILD_DIR")
out=$(mktemp "${TMPDIR:-/tmp}/ustack-demo-test-XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT
timeout -s TERM 120 "${cmd[@]}" >"$out" 2>&1
status=$?
cat "$out"
failed=0
if [ "$status" != 0 ]; then
	echo "FAIL: ${cmd[*]} exited with status $status (output above)"
	failed=1
fi
# demo.sh must stop the stack it started: no ustack-demo may outlive it.
pid=$(sed -n 's/^demo.sh: ustack-demo runs as pid \([0-9]*\) .*/\1/p' "$out")
if [ -z "$pid" ]; then
	echo "FAIL: demo.sh did not say which pid ustack-demo has"
	failed=1
elif [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q ustack-demo; then
	echo "FAIL: ustack-demo (pid $pid) still runs after demo.sh ended"
	kill -TERM "$pid"
	failed=1
fi
# demo.sh removes its namespace on exit; after a timeout it may not have.
ip netns del "$netns" 2>/dev/null
[ "$failed" = 0 ] || exit 1
echo "ok: ${cmd[*]}, and ustack-demo (pid $pid) is gone"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tools/bench/profile.sh - where ustack's cycles go in one benchmark
# scenario (docs/benchmarks.md, "What limits each figure").
#
#   sudo tools/bench/profile.sh BIN_DIR SCENARIO [SECONDS]
#
# SCENARIO: k2u (kernel sends bulk TCP to ustack), u2k (ustack sends),
# short (16 clients, short connections), rr (1-byte ping-pong), udp64 (64-byte
# datagrams kernel -> ustack); k2u-cb, u2k-cb, short-cb, rr-cb: the same served by
# event callbacks (tools/bench/bench_callbacks.c). It makes a namespace of its own
# (ustack-prof-PID, 198.51.100.0/24, a TAP device), starts bench-upeer in it,
# runs the kernel's client (bench-kpeer) for SECONDS (default 5), and
# meanwhile records bench-upeer with `perf record -e cpu-clock -g` (this
# machine's perf has no hardware counters) and counts its system calls with
# `perf stat -e syscalls:...`. Prints the client's result, the system calls,
# the CPU time per thread and the top symbols. Removes everything on exit.
set -u
bin=${1:?usage: profile.sh BIN_DIR SCENARIO [SECONDS]}
scen=${2:?usage: profile.sh BIN_DIR SCENARIO [SECONDS]}
secs=${3:-5}
out=${PROFILE_OUT:-/tmp/ustack-prof-$scen}
ns=ustack-prof-$$
mkdir -p "$out"
pids=
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	ip netns delete "$ns" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)"; exit 77; }
ip netns add "$ns" || exit 1
x() { ip netns exec "$ns" "$@"; }
x ip link set lo up
x ip tuntap add ubtap0 mode tap
x sysctl -qw net.ipv6.conf.ubtap0.disable_ipv6=1
x ip link set ubtap0 up
x ip addr add 198.51.100.1/24 dev ubtap0
srcs=
for i in $(seq 101 116); do
	x ip addr add 198.51.100.$i/24 dev ubtap0
	srcs=$srcs${srcs:+,}198.51.100.$i
done
ip netns exec "$ns" "$bin/bench-upeer" --tap ubtap0 --ip4 198.51.100.2/24 --ip6 none --log quiet \
	--duration $((secs + 60)) ${PROFILE_UPEER_ARGS:-} >"$out/upeer.log" 2>&1 &
upeer=$!
pids="$pids $upeer"
for _ in $(seq 100); do grep -q ready "$out/upeer.log" && break; sleep 0.1; done
for _ in $(seq 10); do x ping -c1 -W1 198.51.100.2 >/dev/null && break; done

case $scen in
k2u) cmd=(send 198.51.100.2 5001 "$secs") ;;
u2k) cmd=(recv 198.51.100.2 5002 "$secs") ;;
short) cmd=(short 198.51.100.2 5003 "$secs" 16 "$srcs") ;;
rr) cmd=(rr 198.51.100.2 5004 "$secs") ;;
k2u-cb) cmd=(send 198.51.100.2 5101 "$secs") ;;
u2k-cb) cmd=(recv 198.51.100.2 5102 "$secs") ;;
short-cb) cmd=(short 198.51.100.2 5103 "$secs" 16 "$srcs") ;;
rr-cb) cmd=(rr 198.51.100.2 5104 "$secs") ;;
udp64) cmd=(udp-send 198.51.100.2 5005 64 "$secs") ;;
*) echo "unknown scenario $scen"; exit 2 ;;
esac

ev=syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_readv
ev=$ev,syscalls:sys_enter_ppoll,syscalls:sys_enter_futex,syscalls:sys_enter_clock_gettime
perf stat -e "$ev" -p "$upeer" -o "$out/syscalls.txt" -- sleep "$((secs + 1))" &
stat=$!
perf record -q -e cpu-clock -F 4999 -g -p "$upeer" -o "$out/perf.data" -- sleep "$((secs + 1))" \
	>/dev/null 2>&1 &
rec=$!
pids="$pids $stat $rec"
sleep 0.3
x "$bin/bench-kpeer" "${cmd[@]}" | tee "$out/result.txt"
wait "$stat" "$rec"
echo "--- system calls of bench-upeer in $((secs + 1)) s"
grep syscalls "$out/syscalls.txt"
echo "--- CPU per thread (samples)"
perf report -i "$out/perf.data" --stdio --sort pid --no-children -g none 2>/dev/null |
	grep -E "^ +[0-9]" | head -8
echo "--- top symbols (self)"
perf report -i "$out/perf.data" --stdio --sort sym --no-children -g none 2>/dev/null |
	grep -E "^ +[0-9]" | head -30

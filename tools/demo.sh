#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The demo: installs what is missing, builds, and brings ustack up on a TAP
# device inside a network namespace of its own (so nothing on the host
# changes), checks it with the kernel's own tools, then serves until Ctrl-C
# and removes everything it made.
#
#   tools/demo.sh [--check] [--netns NAME] [--no-build] [--build-dir DIR]
#
#   --check      run the self-check and stop (no serving); exit status says
#                whether the check passed
#   --netns NAME the namespace to create (default ustack-demo)
#   --no-build   use the existing build directory as it is
#
# Addresses: the stack is 198.51.100.2/24 and 2001:db8:1::2/64 on tap0, the
# kernel side 198.51.100.1/24 and 2001:db8:1::1/64 (documentation ranges).
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=0 netns=ustack-demo build=1 builddir=build
while (($#)); do
	case $1 in
	--check) check_only=1 ;;
	--netns) netns=${2:?--netns needs a name}; shift ;;
	--no-build) build=0 ;;
	--build-dir) builddir=${2:?--build-dir needs a directory}; shift ;;
	-h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

if ((EUID != 0)); then
	echo "demo.sh: run as root (it creates a network namespace and a TAP device)" >&2
	exit 1
fi

if ((build)); then
	bash tools/install-deps.sh
	[[ -d $builddir ]] || meson setup "$builddir" >/dev/null
	ninja -C "$builddir" >/dev/null
fi
demo_bin=$builddir/tools/ustack-demo
[[ -x $demo_bin ]] || { echo "demo.sh: $demo_bin is not built" >&2; exit 1; }

if ip netns list | grep -qx "$netns\( .*\)\?"; then
	echo "demo.sh: namespace $netns exists already (another demo running? remove it with: ip netns del $netns)" >&2
	exit 1
fi

workdir=$(mktemp -d /tmp/ustack-demo.XXXXXX)
pcap=$workdir/demo.pcap
stack_pid=
cleanup() {
	if [[ -n $stack_pid ]] && kill -0 "$stack_pid" 2>/dev/null; then
		kill -TERM "$stack_pid" 2>/dev/null || true
		wait "$stack_pid" 2>/dev/null || true
	fi
	ip netns del "$netns" 2>/dev/null || true
	rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns() { ip netns exec "$netns" "$@"; }

ip netns add "$netns"
ns ip link set lo up
ns ip tuntap add tap0 mode tap
ns ip link set tap0 up
ns ip addr add 198.51.100.1/24 dev tap0
ns ip -6 addr add 2001:db8:1::1/64 dev tap0 nodad

ns "$demo_bin" --tap tap0 --pcap "$pcap" --log info >"$workdir/stack.log" 2>&1 &
stack_pid=$!
for _ in $(seq 50); do
	grep -q "ustack is up" "$workdir/stack.log" 2>/dev/null && break
	kill -0 "$stack_pid" 2>/dev/null || { cat "$workdir/stack.log"; echo "demo.sh: the stack did not start" >&2; exit 1; }
	sleep 0.1
done
cat "$workdir/stack.log"

echo
echo "== Self-check, from the kernel side of tap0 in namespace $netns"
ok=1
if ns arping -c 3 -w 5 -I tap0 198.51.100.2; then
	echo "PASS: ustack answers ARP for 198.51.100.2"
else
	echo "FAIL: no ARP reply from ustack"; ok=0
fi
echo
echo "== The kernel's neighbour table, after it resolved 198.51.100.2 through ARP"
ns ping -c 1 -W 1 198.51.100.2 >/dev/null 2>&1 || true
if ns ip neigh show dev tap0 | grep -E '^198\.51\.100\.2 .*(REACHABLE|STALE|DELAY)'; then
	echo "PASS: the kernel learned ustack's MAC"
else
	ns ip neigh show dev tap0
	echo "FAIL: the kernel has no neighbour entry for 198.51.100.2"; ok=0
fi

sleep 0.2
echo
echo "== Every frame in and out, as captured by ustack ($pcap), read by tshark"
if command -v tshark >/dev/null; then
	tshark -r "$pcap" -n 2>/dev/null || true
fi

if ((check_only)); then
	((ok)) && echo "demo self-check passed" || echo "demo self-check FAILED"
	exit $((ok ? 0 : 1))
fi

cat <<EOT

ustack is serving on tap0 in namespace $netns. Try:
  ip netns exec $netns arping -I tap0 198.51.100.2
  ip netns exec $netns ip neigh
Press Ctrl-C to stop; the namespace and the device are removed.
EOT
wait "$stack_pid"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tools/netns.sh - the kernel side of the demo, with iproute2: a network
# namespace with a TAP device for ustack and the kernel's addresses on it,
# link impairment, and a bridge variant with more namespaces on the segment.
# Every command it runs is printed first ("+ ip ..."), so it also shows how
# to do it by hand. Root only.
#
#   tools/netns.sh up     [--netns NAME | --host] [--tap NAME]
#   tools/netns.sh down   [--netns NAME | --host] [--tap NAME]
#   tools/netns.sh impair on [--netns NAME | --host] [--tap NAME]
#                         [--delay MS] [--loss PCT] [--reorder PCT] [--duplicate PCT]
#   tools/netns.sh impair off [--netns NAME | --host] [--tap NAME]
#   tools/netns.sh bridge up   [--netns NAME] [--peers N]
#   tools/netns.sh bridge down [--netns NAME] [--peers N]
#   tools/netns.sh show   [--netns NAME | --host] [--tap NAME]
#
# up: the namespace NAME (default ustack-demo) with lo up and the TAP device
#   (default tap0) in it, up, with the kernel's addresses 198.51.100.1/24 and
#   2001:db8:1::1/64 (no DAD on the kernel side, no Router Advertisements
#   taken). ustack then runs in the namespace on the device:
#     ip netns exec ustack-demo ustack-demo --tap tap0
#   --host does the same in the current namespace (the host's tap0): the
#   only variant that changes the host, and `down --host` undoes it.
# down: deletes the namespace (the device goes with it), or with --host the
#   device.
# impair on: `tc qdisc ... netem` on the kernel's side of the device (delay
#   MS, default 50; loss PCT, default 1; reorder and duplicate, default 0).
#   netem impairs only what the kernel sends. Kernels without netem (the
#   sch_netem module) get an explanation instead and exit status 3: then
#   run the demo with `tools/demo.sh --impair LOSS,REORDER,DUP,DELAY_MS`,
#   which puts tests/tap/tcp_impair.py (a user-space relay impairing both
#   directions) between the kernel and the stack.
# impair off: removes the qdisc.
# bridge up: the namespace NAME with a bridge br0, tap0 a port of it and the
#   kernel's addresses on br0; and N (default 2) more namespaces NAME-p1 ...
#   NAME-pN, each joined to br0 by a veth pair, with 198.51.100.1I/24 and
#   2001:db8:1::1I/64 (I = 1..N): other hosts on the stack's segment.
#     ip netns exec ustack-demo-p1 curl http://198.51.100.2/
# bridge down: deletes the N peer namespaces and NAME.
#
# Addresses: documentation ranges only (RFC 5737, RFC 3849).
set -euo pipefail

KERNEL_IP4=198.51.100.1/24
KERNEL_IP6=2001:db8:1::1/64

usage() { sed -n '3,45p' "$0" | sed 's/^# \{0,1\}//'; }
die() {
	echo "netns.sh: $*" >&2
	echo "usage: tools/netns.sh up|down|impair on|impair off|bridge up|bridge down|show [options] (--help)" >&2
	exit 2
}

# run CMD...: prints it, then runs it.
run() {
	echo "+ $*"
	"$@"
}

cmd=${1:-}
[[ $cmd == -h || $cmd == --help ]] && { usage; exit 0; }
[[ -n $cmd ]] || die "no command"
shift
sub=
if [[ $cmd == impair || $cmd == bridge ]]; then
	sub=${1:-}
	[[ $cmd == impair && ($sub == on || $sub == off) ]] ||
		[[ $cmd == bridge && ($sub == up || $sub == down) ]] ||
		die "$cmd needs $([[ $cmd == impair ]] && echo 'on or off' || echo 'up or down')"
	shift
fi

netns=ustack-demo host=0 tap=tap0 delay=50 loss=1 reorder=0 duplicate=0 peers=2
while (($#)); do
	case $1 in
	--netns) netns=${2:?--netns needs a name}; shift ;;
	--host) host=1 ;;
	--tap) tap=${2:?--tap needs a name}; shift ;;
	--delay) delay=${2:?}; shift ;;
	--loss) loss=${2:?}; shift ;;
	--reorder) reorder=${2:?}; shift ;;
	--duplicate) duplicate=${2:?}; shift ;;
	--peers) peers=${2:?}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option $1" ;;
	esac
	shift
done
for v in delay loss reorder duplicate peers; do
	[[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--$v must be a number"
done
[[ $peers =~ ^[0-9]+$ ]] && ((peers >= 1 && peers <= 9)) || die "--peers must be 1..9"
((EUID == 0)) || { echo "netns.sh: run as root (namespaces and TAP devices)" >&2; exit 1; }

# In the namespace, or (--host) here.
if ((host)); then
	in_ns=()
else
	in_ns=(ip netns exec "$netns")
fi

ns_exists() { ip netns list | grep -q "^$1\( \|$\)"; }

kernel_addresses() { # DEV
	run "${in_ns[@]}" sysctl -qw "net.ipv6.conf.$1.accept_dad=0"
	run "${in_ns[@]}" sysctl -qw "net.ipv6.conf.$1.accept_ra=0"
	run "${in_ns[@]}" ip addr add "$KERNEL_IP4" dev "$1"
	run "${in_ns[@]}" ip -6 addr add "$KERNEL_IP6" dev "$1" nodad
}

case $cmd in
up)
	if ((!host)); then
		ns_exists "$netns" && { echo "netns.sh: namespace $netns exists already" >&2; exit 1; }
		run ip netns add "$netns"
		run "${in_ns[@]}" ip link set lo up
	fi
	run "${in_ns[@]}" ip tuntap add "$tap" mode tap
	run "${in_ns[@]}" ip link set "$tap" up
	kernel_addresses "$tap"
	;;
down)
	if ((host)); then
		run ip link del "$tap" 2>/dev/null || true
	elif ns_exists "$netns"; then
		run ip netns del "$netns"
	fi
	;;
impair)
	if [[ $sub == off ]]; then
		run "${in_ns[@]}" tc qdisc del dev "$tap" root 2>/dev/null || true
		exit 0
	fi
	args=(delay "${delay}ms")
	[[ $reorder != 0 ]] && args+=(reorder "$reorder%")
	args+=(loss "$loss%")
	[[ $duplicate != 0 ]] && args+=(duplicate "$duplicate%")
	if ! out=$(run "${in_ns[@]}" tc qdisc replace dev "$tap" root netem "${args[@]}" 2>&1); then
		echo "$out"
		cat >&2 <<EOT
netns.sh: this kernel has no netem qdisc (sch_netem). Impair the link in user
space instead: stop the demo and run it as
  bash tools/demo.sh --impair $loss,$reorder,$duplicate,$delay
(loss %, reorder %, duplicate %, delay ms), which puts tests/tap/tcp_impair.py
between the kernel's $tap and the stack (both directions impaired).
EOT
		exit 3
	fi
	echo "$out"
	run "${in_ns[@]}" tc qdisc show dev "$tap"
	;;
bridge)
	if [[ $sub == down ]]; then
		for i in $(seq "$peers"); do
			ns_exists "$netns-p$i" && run ip netns del "$netns-p$i"
		done
		ns_exists "$netns" && run ip netns del "$netns"
		exit 0
	fi
	ns_exists "$netns" && { echo "netns.sh: namespace $netns exists already" >&2; exit 1; }
	run ip netns add "$netns"
	run "${in_ns[@]}" ip link set lo up
	run "${in_ns[@]}" ip link add br0 type bridge mcast_snooping 0
	run "${in_ns[@]}" ip link set br0 up
	run "${in_ns[@]}" ip tuntap add "$tap" mode tap
	run "${in_ns[@]}" ip link set "$tap" master br0
	run "${in_ns[@]}" ip link set "$tap" up
	kernel_addresses br0
	for i in $(seq "$peers"); do
		p=$netns-p$i
		run ip netns add "$p"
		run ip netns exec "$p" ip link set lo up
		run "${in_ns[@]}" ip link add "veth$i" type veth peer name eth0 netns "$p"
		run "${in_ns[@]}" ip link set "veth$i" master br0
		run "${in_ns[@]}" ip link set "veth$i" up
		run ip netns exec "$p" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
		run ip netns exec "$p" ip addr add "198.51.100.1$i/24" dev eth0
		run ip netns exec "$p" ip -6 addr add "2001:db8:1::1$i/64" dev eth0 nodad
		run ip netns exec "$p" ip link set eth0 up
	done
	;;
show)
	run "${in_ns[@]}" ip -br addr
	run "${in_ns[@]}" ip neigh
	run "${in_ns[@]}" tc qdisc show dev "$tap"
	;;
*)
	die "unknown command $cmd"
	;;
esac

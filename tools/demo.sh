#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The demo: installs what is missing, builds, and brings ustack up on a TAP
# device inside a network namespace of its own (so nothing on the host
# changes), checks it with the kernel's own tools, prints how to reach each
# service, then serves until Ctrl-C (or SIGTERM, SIGHUP) and removes
# everything it made. The capture and the transition log stay, in the
# directory it names.
#
#   tools/demo.sh [--check] [--host | --bridge N | --impair L,R,D,MS]
#                 [--show-transitions] [--out DIR] [--netns NAME]
#                 [--no-build] [--build-dir DIR] [-- USTACK-DEMO-OPTIONS...]
#
#   --check         run the self-check and stop (no serving); the exit
#                   status says whether it passed
#   --host          no namespace: create tap0 on the host (or attach to the
#                   one there) and give the kernel its addresses, printing
#                   each iproute2 step; tap0 is removed at the end if the
#                   demo made it
#   --bridge N      the stack on a bridge (br0) in the namespace, with N more
#                   namespaces (NAME-p1 ... NAME-pN, 198.51.100.1I) on the
#                   segment through veth pairs (tools/netns.sh bridge)
#   --impair L,R,D,MS  loss %, reorder %, duplicate % and delay in ms on the
#                   link: tc netem where the kernel has it (what the kernel
#                   sends), else tests/tap/tcp_impair.py between tap0 and a
#                   second device tap1 that the stack uses (both directions)
#   --show-transitions  print every TCP state change as it happens
#   --out DIR       where the capture (demo.pcap, rotated at 20 MB into
#                   demo.pcap.1 ... demo.pcap.4), the transition log (demo.transitions) and the
#                   stack's output (stack.log) go (default: a new
#                   /tmp/ustack-demo.XXXXXX; with --check removed at the end)
#   --netns NAME    the namespace (default ustack-demo)
#   --no-build      use the build directory as it is
#   --build-dir DIR the Meson build directory (default build)
#   -- ...          more options for ustack-demo (see ustack-demo --help)
#
# Addresses: the stack is 198.51.100.2/24 and 2001:db8:1::2/64, the kernel
# side 198.51.100.1/24 and 2001:db8:1::1/64 (documentation ranges).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

usage() { sed -n '3,38p' "$0" | sed 's/^# \{0,1\}//'; }
die_usage() {
	echo "demo.sh: $*" >&2
	echo "usage: tools/demo.sh [--check] [--host | --bridge N | --impair L,R,D,MS] [--show-transitions] [--out DIR] [--netns NAME] [--no-build] [--build-dir DIR] [-- USTACK-DEMO-OPTIONS...] (--help for more)" >&2
	exit 2
}

check_only=0 netns=ustack-demo build=1 builddir=build mode=netns peers=0 impair=
show_transitions=0 outdir= demo_args=()
while (($#)); do
	case $1 in
	--check) check_only=1 ;;
	--host) mode=host ;;
	--bridge)
		mode=bridge; peers=${2:-}
		[[ $peers =~ ^[1-9]$ ]] || die_usage "--bridge needs a number of peer namespaces, 1..9"
		shift ;;
	--impair)
		impair=${2:-}
		[[ $impair =~ ^[0-9.]+,[0-9.]+,[0-9.]+,[0-9]+$ ]] ||
			die_usage "--impair needs LOSS,REORDER,DUPLICATE,DELAY_MS (e.g. 2,5,1,20)"
		shift ;;
	--show-transitions) show_transitions=1 ;;
	--out) outdir=${2:?--out needs a directory}; shift ;;
	--netns) netns=${2:?--netns needs a name}; shift ;;
	--no-build) build=0 ;;
	--build-dir) builddir=${2:?--build-dir needs a directory}; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; demo_args=("$@"); break ;;
	*) die_usage "unknown option $1" ;;
	esac
	shift
done
[[ -n $impair && $mode != netns ]] && die_usage "--impair goes with the default namespace setup only"

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
stat_bin=$builddir/tools/ustack-stat
[[ -x $demo_bin ]] || { echo "demo.sh: $demo_bin is not built" >&2; exit 1; }

# The kernel's side: ns() runs a command there; kdev is its interface to the
# stack, stack_tap the device ustack attaches to.
kdev=tap0 stack_tap=tap0
if [[ $mode == host ]]; then
	nsexec=() where="on the host"
else
	nsexec=(ip netns exec "$netns") where="in namespace $netns"
	[[ $mode == bridge ]] && kdev=br0
fi
ns() { "${nsexec[@]}" "$@"; }
# The prefix to print in front of the commands a user types.
if [[ $mode == host ]]; then pfx=""; else pfx="ip netns exec $netns "; fi

ns_exists() { ip netns list | grep -q "^$1\( \|$\)"; }
if [[ $mode != host ]] && ns_exists "$netns"; then
	if [[ -z $(ip netns pids "$netns" 2>/dev/null) ]]; then
		# Nothing runs in it: left by a demo that was killed (SIGKILL).
		echo "demo.sh: removing the namespace $netns that an earlier demo left behind"
		ip netns del "$netns"
		for i in 1 2 3 4 5 6 7 8 9; do ns_exists "$netns-p$i" && ip netns del "$netns-p$i"; done
	else
		echo "demo.sh: namespace $netns exists and has processes (another demo running?);" \
			"stop it, or remove it with: ip netns del $netns" >&2
		exit 1
	fi
fi
host_tap_made=0
if [[ $mode == host ]] && ip link show tap0 >/dev/null 2>&1; then
	[[ -e /sys/class/net/tap0/tun_flags ]] ||
		{ echo "demo.sh: the host has a tap0 that is not a TAP device" >&2; exit 1; }
fi

keep_out=1
if [[ -z $outdir ]]; then
	outdir=$(mktemp -d /tmp/ustack-demo.XXXXXX)
	((check_only)) && keep_out=0
else
	mkdir -p "$outdir"
fi
outdir=$(cd "$outdir" && pwd)
pcap=$outdir/demo.pcap
translog=$outdir/demo.transitions
stacklog=$outdir/stack.log
if [[ $netns == ustack-demo ]]; then
	statsock=/run/ustack-demo.sock
else
	statsock=/run/ustack-demo.$netns.sock
fi
stat_cmd=$stat_bin
[[ $statsock != /run/ustack-demo.sock ]] && stat_cmd="$stat_bin --socket $statsock"

stack_pid= relay_pid= tail_pid= made=0
cleanup() {
	local rc=$?
	trap '' INT TERM HUP
	set +e
	[[ -n $tail_pid ]] && kill "$tail_pid" 2>/dev/null
	if [[ -n $stack_pid ]] && kill -0 "$stack_pid" 2>/dev/null; then
		kill -TERM "$stack_pid" 2>/dev/null || true
		# It closes its connections (at most 5 s), the capture and the log.
		for _ in $(seq 150); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$stack_pid" 2>/dev/null; then
			echo "demo.sh: ustack-demo did not stop in 15 s: SIGKILL" >&2
			kill -KILL "$stack_pid" 2>/dev/null || true
		fi
		wait "$stack_pid" 2>/dev/null || true
		if ((!check_only)); then
			echo
			sed -n '/^ustack-demo: SIG/,$p' "$stacklog"
		fi
	fi
	if [[ -n $relay_pid ]]; then
		kill -TERM "$relay_pid" 2>/dev/null || true
		wait "$relay_pid" 2>/dev/null || true
	fi
	if ((made)); then
		case $mode in
		host)
			((host_tap_made)) && bash tools/netns.sh down --host >/dev/null ;;
		bridge)
			stray=$(ip netns pids "$netns" 2>/dev/null; for i in $(seq "$peers"); do ip netns pids "$netns-p$i" 2>/dev/null; done)
			[[ -n $stray ]] && kill -TERM $stray 2>/dev/null
			bash tools/netns.sh bridge down --netns "$netns" --peers "$peers" >/dev/null ;;
		netns)
			# Programs still running in the namespace (a transfer the user
			# started) would keep it, and tap0, alive unnamed: they end.
			stray=$(ip netns pids "$netns" 2>/dev/null || true)
			[[ -n $stray ]] && kill -TERM $stray 2>/dev/null
			ip -n "$netns" link del tap0 2>/dev/null || true
			ip -n "$netns" link del tap1 2>/dev/null || true
			bash tools/netns.sh down --netns "$netns" >/dev/null ;;
		esac
	fi
	if ((keep_out)); then
		echo
		echo "demo.sh: removed everything it made ($([[ $mode == host ]] && echo "tap0 on the host" || echo "namespace $netns and its devices"))."
		if [[ -s $pcap ]]; then
			frames=$(timeout 60 tshark -r "$pcap" 2>/dev/null | wc -l || true)
			older=$(ls "$pcap".[0-9]* 2>/dev/null | wc -l)
			echo "demo.sh: the capture: $pcap ($frames frames; tshark -r $pcap)$( ((older)) && echo ", and $older older files $pcap.1 ...")"
		fi
		[[ -s $translog ]] && echo "demo.sh: the transition log: $translog ($(grep -vc '^#' "$translog" || true) state changes)"
		echo "demo.sh: the stack's output: $stacklog"
	else
		rm -rf "$outdir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "== Setting up the kernel's side $where (tools/netns.sh)"
case $mode in
netns) made=1; bash tools/netns.sh up --netns "$netns" ;;
bridge) made=1; bash tools/netns.sh bridge up --netns "$netns" --peers "$peers" ;;
host)
	made=1
	if ip link show tap0 >/dev/null 2>&1; then
		echo "demo.sh: attaching to the host's existing tap0 as it is (its addresses are yours to set:"
		echo "         ip addr add 198.51.100.1/24 dev tap0; ip -6 addr add 2001:db8:1::1/64 dev tap0 nodad)"
	else
		host_tap_made=1
		bash tools/netns.sh up --host
	fi ;;
esac

if [[ -n $impair ]]; then
	IFS=, read -r i_loss i_reorder i_dup i_delay <<<"$impair"
	echo
	echo "== Impairing the link: loss $i_loss%, reorder $i_reorder%, duplicate $i_dup%, delay ${i_delay} ms"
	if bash tools/netns.sh impair on --netns "$netns" --loss "$i_loss" --reorder "$i_reorder" \
		--duplicate "$i_dup" --delay "$i_delay" 2>/dev/null; then
		echo "(netem impairs what the kernel sends; 'tools/netns.sh impair off' ends it)"
	else
		echo "no netem on this kernel: tests/tap/tcp_impair.py relays between tap0 and tap1, both directions"
		ns ip tuntap add tap1 mode tap
		ns sysctl -qw net.ipv6.conf.tap1.disable_ipv6=1
		ns sysctl -qw net.ipv4.conf.tap1.arp_ignore=8
		ns ip link set tap1 up
		ip netns exec "$netns" python3 tests/tap/tcp_impair.py tap0 tap1 "$i_loss" "$i_reorder" \
			"$i_dup" "$i_delay" 86400 >"$outdir/impair.log" 2>&1 &
		relay_pid=$!
		for _ in $(seq 100); do grep -q "^impair: up" "$outdir/impair.log" && break; sleep 0.1; done
		grep -q "^impair: up" "$outdir/impair.log" || { cat "$outdir/impair.log"; echo "demo.sh: tcp_impair.py did not start" >&2; exit 1; }
		stack_tap=tap1
	fi
fi

# Not through ns(): a function in the background is a subshell, and its pid
# is not the stack's. `ip netns exec` execs the command, so $! is
# ustack-demo itself, which cleanup() stops. --check bounds its life too.
extra=()
((check_only)) && extra+=(--duration 300)
((show_transitions)) && extra+=(--show-transitions)
"${nsexec[@]}" "$demo_bin" --tap "$stack_tap" --pcap "$pcap" --pcap-max 20M --pcap-files 5 \
	--transitions "$translog" --stat-socket "$statsock" --log info "${extra[@]}" \
	"${demo_args[@]}" >"$stacklog" 2>&1 &
stack_pid=$!
echo
echo "demo.sh: ustack-demo runs as pid $stack_pid $where"
for _ in $(seq 100); do
	grep -q "ustack is up" "$stacklog" 2>/dev/null && break
	kill -0 "$stack_pid" 2>/dev/null || { cat "$stacklog"; echo "demo.sh: the stack did not start" >&2; exit 1; }
	sleep 0.1
done
grep -q "ustack is up" "$stacklog" || { cat "$stacklog"; echo "demo.sh: the stack did not come up in 10 s" >&2; exit 1; }
for _ in $(seq 50); do grep -q "^tcp services\|^live view" "$stacklog" && break; sleep 0.1; done
cat "$stacklog"
stack_mac=$(sed -n 's/^ustack is up on [^:]*: mac \([0-9a-f:]\{17\}\).*/\1/p' "$stacklog" | head -n 1)

echo
echo "== Self-check, from the kernel side ($kdev $where)"
ok=1
if ns arping -c 3 -w 5 -I "$kdev" 198.51.100.2; then
	echo "PASS: ustack answers ARP for 198.51.100.2"
else
	echo "FAIL: no ARP reply from ustack"; ok=0
fi

echo
if ns ping -n -c 3 -i 0.2 -w 10 198.51.100.2; then
	echo "PASS: ustack answers ping 198.51.100.2"
else
	echo "FAIL: no IPv4 ping replies from ustack"; ok=0
fi

# The stack's IPv6 address answers only once its Duplicate Address Detection
# is over (RFC 4862 §5.4: about a second): poll, one ping at a time.
echo
echo "== Waiting for the stack's DAD on 2001:db8:1::2 (polling with ping -6, at most 10 s)"
dad_done=0
for _ in $(seq 10); do
	if ns ping -n -6 -c 1 -W 1 2001:db8:1::2 >/dev/null 2>&1; then dad_done=1; break; fi
done
if ((dad_done)) && ns ping -n -6 -c 3 -i 0.2 -w 10 2001:db8:1::2; then
	echo "PASS: ustack answers ping -6 2001:db8:1::2"
else
	echo "FAIL: no IPv6 ping replies from ustack"; ok=0
fi

echo
echo "== UDP echo (port 7), from the kernel's socat and ncat -u"
for dst in 198.51.100.2 '[2001:db8:1::2]'; do
	fam=UDP4; [[ $dst == \[* ]] && fam=UDP6
	got=$(echo "hello ustack" | ns timeout 10 socat -T 3 - "$fam:$dst:7" 2>&1 || true)
	if [[ $got == "hello ustack" ]]; then
		echo "PASS: ustack echoes a datagram on $dst:7 (socat)"
	else
		echo "FAIL: no UDP echo from $dst:7 (got: $got)"; ok=0
	fi
done
for dst in 198.51.100.2 2001:db8:1::2; do
	# stdin stays open half a second: ncat -u ends at its end of file.
	got=$({ echo "hello ncat -u"; sleep 0.5; } | ns timeout 10 ncat -u "$dst" 7 2>&1 || true)
	if [[ $got == "hello ncat -u" ]]; then
		echo "PASS: ustack echoes a datagram from ncat -u $dst 7"
	else
		echo "FAIL: no UDP echo for ncat -u $dst 7 (got: $got)"; ok=0
	fi
done

echo
echo "== TCP: the web page (port 80) over IPv4 and IPv6, from the kernel's curl"
for url in http://198.51.100.2/ 'http://[2001:db8:1::2]/'; do
	got=$(ns timeout 15 curl -sS --max-time 10 "$url" 2>&1 || true)
	if grep -q "Hello from ustack" <<<"$got"; then
		echo "PASS: curl $url gets the built-in page"
	else
		echo "FAIL: curl $url (got: ${got:0:200})"; ok=0
	fi
done

echo
echo "== TCP: /status lists the stack's LISTEN sockets"
status=$(ns timeout 15 curl -sS --max-time 10 http://198.51.100.2/status 2>&1 || true)
echo "$status"
listen_ok=1
for port in 7 9 19 80; do
	for local in "0.0.0.0:$port" "\\[::\\]:$port"; do
		grep -Eq "^tcp 1 LISTEN $local .* snd_queued=[0-9]+ rcv_queued=[0-9]+\$" <<<"$status" || listen_ok=0
	done
done
grep -Eq '^total [0-9]+$' <<<"$status" || listen_ok=0
if ((listen_ok)); then
	echo "PASS: /status shows LISTEN on ports 7, 9, 19 and 80 for IPv4 and IPv6, and a total"
else
	echo "FAIL: /status does not list every LISTEN socket (or has no total line)"; ok=0
fi

echo
echo "== TCP echo (port 7), from the kernel's ncat (IPv4) and socat (IPv6)"
got=$(echo "hello ustack tcp" | ns timeout 10 ncat 198.51.100.2 7 2>&1 || true)
if [[ $got == "hello ustack tcp" ]]; then
	echo "PASS: ustack echoes over TCP on 198.51.100.2:7"
else
	echo "FAIL: no TCP echo from 198.51.100.2:7 (got: $got)"; ok=0
fi
got=$(echo "hello ustack tcp6" | ns timeout 10 socat -T 5 - 'TCP6:[2001:db8:1::2]:7' 2>&1 || true)
if [[ $got == "hello ustack tcp6" ]]; then
	echo "PASS: ustack echoes over TCP on [2001:db8:1::2]:7"
else
	echo "FAIL: no TCP echo from [2001:db8:1::2]:7 (got: $got)"; ok=0
fi

echo
echo "== TCP chargen (port 19): the first line of RFC 864's pattern"
expected=$(awk 'BEGIN { for (i = 32; i < 104; i++) printf "%c", i }')
got=$(ns timeout 10 ncat --recv-only 198.51.100.2 19 2>/dev/null | head -n 1 | tr -d '\r' || true)
if [[ $got == "$expected" ]]; then
	echo "PASS: chargen's first line is the 72 characters from ' ' to 'g'"
else
	echo "FAIL: chargen's first line is not RFC 864's (got: $got)"; ok=0
fi

echo
echo "== TCP discard (port 9): the stack prints the SHA-256 of what it was sent"
head -c 200000 /dev/urandom >"$outdir/discard.bin"
want=$(sha256sum "$outdir/discard.bin" | cut -d' ' -f1)
ns timeout 10 ncat --send-only 198.51.100.2 9 <"$outdir/discard.bin" || true
rm -f "$outdir/discard.bin"
line=
for _ in $(seq 50); do
	line=$(grep -E "^discard: 198\.51\.100\.1:[0-9]+ 200000 bytes sha256 $want\$" "$stacklog" || true)
	[[ -n $line ]] && break
	sleep 0.1
done
if [[ -n $line ]]; then
	echo "PASS: $line"
else
	echo "FAIL: no discard line with 200000 bytes and sha256 $want in the stack's log"; ok=0
fi

if [[ $mode == bridge ]]; then
	echo
	echo "== The other hosts on the bridge reach the stack too"
	for i in $(seq "$peers"); do
		p=$netns-p$i
		if ip netns exec "$p" ping -n -c 1 -w 5 198.51.100.2 >/dev/null &&
			ip netns exec "$p" ping -n -6 -c 1 -w 5 2001:db8:1::2 >/dev/null &&
			ip netns exec "$p" timeout 15 curl -sS --max-time 10 http://198.51.100.2/ | grep -q "Hello from ustack"; then
			echo "PASS: $p (198.51.100.1$i) pings 198.51.100.2 and 2001:db8:1::2, and curl gets the page"
		else
			echo "FAIL: $p (198.51.100.1$i) does not reach the stack"; ok=0
		fi
	done
fi

echo
echo "== The transition log of one curl request ($translog)"
cport=$(ns timeout 15 curl -sS --max-time 10 -o /dev/null -w '%{local_port}' http://198.51.100.2/ 2>/dev/null || true)
tl_ok=0
if [[ -n $cport ]]; then
	for _ in $(seq 30); do
		grep -q " 198\.51\.100\.1:$cport .*-> \(TIME_WAIT\|CLOSED\)" "$translog" 2>/dev/null && { tl_ok=1; break; }
		sleep 0.1
	done
	grep " 198\.51\.100\.1:$cport " "$translog" || true
fi
if ((tl_ok)) && grep -q " 198\.51\.100\.1:$cport SYN_RCVD -> ESTABLISHED" "$translog"; then
	echo "PASS: the connection from port $cport went SYN_RCVD -> ESTABLISHED -> ... -> $(grep " 198\.51\.100\.1:$cport " "$translog" | tail -1 | sed 's/.*-> \([A-Z_0-9]*\) .*/\1/')"
else
	echo "FAIL: the transition log has no full life for the curl from port ${cport:-?}"; ok=0
fi

echo
echo "== The live view: $stat_cmd (every socket like ss -tan, counters like netstat -s)"
if [[ -x $stat_bin ]] && view=$($stat_cmd -t 2>&1) && grep -Eq '^LISTEN +1 .*0\.0\.0\.0:80 ' <<<"$view"; then
	echo "$view"
	echo "PASS: ustack-stat lists the LISTEN sockets"
else
	echo "${view:-}"
	echo "FAIL: ustack-stat does not answer"; ok=0
fi

echo
echo "== The kernel's neighbour table: it learned ustack ($stack_mac) through ARP and NDP"
neigh=$(ns ip neigh show dev "$kdev")
echo "$neigh"
for a in 198.51.100.2 2001:db8:1::2; do
	if grep -Eq "^$a lladdr $stack_mac (.* )?(REACHABLE|STALE|DELAY|PROBE) *\$" <<<"$neigh"; then
		echo "PASS: the kernel has $a at $stack_mac"
	else
		echo "FAIL: the kernel has no usable neighbour entry for $a at $stack_mac"; ok=0
	fi
done

if ((check_only)) && command -v tshark >/dev/null; then
	echo
	echo "== Every frame in and out, as captured by ustack ($pcap), read by tshark"
	# The capture is flushed whenever the stack goes idle: wait (bounded) for
	# the last echo reply to be in it.
	for _ in $(seq 20); do
		n=$(tshark -r "$pcap" -n -Y 'icmpv6.type == 129' 2>/dev/null | wc -l)
		((n >= 3)) && break
		sleep 0.1
	done
	tshark -r "$pcap" -n 2>/dev/null | head -n 60 || true
fi

echo
if ((ok)); then echo "demo self-check passed"; else echo "demo self-check FAILED"; fi
if ((check_only)); then
	exit $((ok ? 0 : 1))
fi

peer_pfx=$pfx
[[ $mode == bridge ]] && peer_pfx="ip netns exec $netns-p1 "
cat <<EOT

ustack is serving on $stack_tap $where: 198.51.100.2 and 2001:db8:1::2.
Reach it from the kernel's side$([[ $mode == bridge ]] && echo " (or from the peers $netns-p1 ... $netns-p$peers, 198.51.100.11 ...)"):
  ${peer_pfx}ping 198.51.100.2                         ICMP echo
  ${peer_pfx}ping -6 2001:db8:1::2                     ICMPv6 echo (-s 8000: fragmented both ways)
  ${peer_pfx}curl http://198.51.100.2/                 HTTP (also http://[2001:db8:1::2]/)
  ${peer_pfx}curl http://198.51.100.2/status           every TCP socket, one per line
  ${peer_pfx}curl http://198.51.100.2/stat             sockets like ss -tan, counters like netstat -s
  ${peer_pfx}ncat 198.51.100.2 7                       TCP echo (type, Ctrl-D ends)
  ${peer_pfx}ncat -u 198.51.100.2 7                    UDP echo (ncat -u 2001:db8:1::2 7 too)
  ${peer_pfx}ncat --recv-only 198.51.100.2 19 | head   TCP chargen
  ${peer_pfx}ncat --send-only 198.51.100.2 9 < FILE    TCP discard (the stack prints the SHA-256)
Watch it (from any shell on the host):
  every socket (state, queues, RTT, cwnd, retransmits) and the counters; -t -i 1: the sockets every second
    $stat_cmd
  every TCP state change as it happens (or: tail -f $translog)
    $stat_cmd --follow
  every frame so far
    tshark -r $pcap
Press Ctrl-C to stop: the stack stops, $([[ $mode == host ]] && echo "tap0 is removed" || echo "the namespace and its devices are removed"); the capture and the logs stay in $outdir.

The stack's output from here on:
EOT
tail -n 0 -f --pid="$stack_pid" "$stacklog" &
tail_pid=$!
wait "$stack_pid" || true
stack_pid=
# A Ctrl-C reaches ustack-demo too (same terminal): then it ended on it.
grep -q '^ustack-demo: SIG' "$stacklog" && exit 130
echo "demo.sh: ustack-demo ended by itself" >&2
exit 1

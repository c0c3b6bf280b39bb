#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The demo: installs what is missing, builds, and brings ustack up on a TAP
# device inside a network namespace of its own (so nothing on the host
# changes), checks it with the kernel's own tools (arping, ping and ping -6,
# the neighbour table), then serves until Ctrl-C and removes everything it
# made. The check covers ARP, ping and ping -6, UDP echo, and TCP: the
# built-in web page over IPv4 and IPv6 (curl), the LISTEN sockets on
# /status, TCP echo (ncat, socat), the first chargen line and the discard
# service's SHA-256 of what it was sent. (ustack-ping and ustack-fetch, which
# start a stack of their own, need a TAP device of their own: see
# docs/network.md, "Tools", and README.md.)
#
#   tools/demo.sh [--check] [--netns NAME] [--no-build] [--build-dir DIR]
#
#   --check         run the self-check and stop (no serving); exit status
#                   says whether the check passed
#   --netns NAME    the namespace to create (default ustack-demo)
#   --no-build      use the existing build directory as it is
#   --build-dir DIR the Meson build directory (default build; relative to
#                   the source tree)
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
	-h|--help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

if grep -qx "$netns\( .*\)\?" <<<"$(ip netns list)"; then
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
		# Serving ended: what the stack says on the way out (its counters).
		if ((!check_only)) && [[ -f $workdir/stack.log ]]; then
			sleep 0.2
			sed -n '/^ustack counters/,$p' "$workdir/stack.log"
		fi
	fi
	[[ -n ${tail_pid:-} ]] && kill "$tail_pid" 2>/dev/null
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

# Not through ns(): a function in the background is a subshell, and its pid
# is not the stack's. `ip netns exec` execs the command, so $! is
# ustack-demo itself, which cleanup() stops. --check bounds its life too.
duration=()
((check_only)) && duration=(--duration 300)
ip netns exec "$netns" "$demo_bin" --tap tap0 --pcap "$pcap" --log info "${duration[@]}" \
	>"$workdir/stack.log" 2>&1 &
stack_pid=$!
echo "demo.sh: ustack-demo runs as pid $stack_pid in namespace $netns"
for _ in $(seq 100); do
	grep -q "ustack is up" "$workdir/stack.log" 2>/dev/null && break
	kill -0 "$stack_pid" 2>/dev/null || { cat "$workdir/stack.log"; echo "demo.sh: the stack did not start" >&2; exit 1; }
	sleep 0.1
done
grep -q "ustack is up" "$workdir/stack.log" || { cat "$workdir/stack.log"; echo "demo.sh: the stack did not come up in 10 s" >&2; exit 1; }
cat "$workdir/stack.log"
stack_mac=$(sed -n 's/^ustack is up on [^:]*: mac \([0-9a-f:]\{17\}\).*/\1/p' "$workdir/stack.log" | head -n 1)

echo
echo "== Self-check, from the kernel side of tap0 in namespace $netns"
ok=1
if ns arping -c 3 -w 5 -I tap0 198.51.100.2; then
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
echo "== UDP echo (port 7), from the kernel's socat"
for dst in 198.51.100.2 '[2001:db8:1::2]'; do
	fam=UDP4; [[ $dst == \[* ]] && fam=UDP6
	got=$(echo "hello ustack" | ns timeout 10 socat -T 3 - "$fam:$dst:7" 2>&1 || true)
	if [[ $got == "hello ustack" ]]; then
		echo "PASS: ustack echoes a datagram on $dst:7"
	else
		echo "FAIL: no UDP echo from $dst:7 (got: $got)"; ok=0
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
head -c 200000 /dev/urandom >"$workdir/discard.bin"
want=$(sha256sum "$workdir/discard.bin" | cut -d' ' -f1)
ns timeout 10 ncat --send-only 198.51.100.2 9 <"$workdir/discard.bin" || true
line=
for _ in $(seq 50); do
	line=$(grep -E "^discard: 198\.51\.100\.1:[0-9]+ 200000 bytes sha256 $want\$" "$workdir/stack.log" || true)
	[[ -n $line ]] && break
	sleep 0.1
done
if [[ -n $line ]]; then
	echo "PASS: $line"
else
	echo "FAIL: no discard line with 200000 bytes and sha256 $want in the stack's log"; ok=0
fi

echo
echo "== The kernel's neighbour table: it learned ustack ($stack_mac) through ARP and NDP"
neigh=$(ns ip neigh show dev tap0)
echo "$neigh"
for a in 198.51.100.2 2001:db8:1::2; do
	if grep -Eq "^$a lladdr $stack_mac (.* )?(REACHABLE|STALE|DELAY) *\$" <<<"$neigh"; then
		echo "PASS: the kernel has $a at $stack_mac"
	else
		echo "FAIL: the kernel has no usable neighbour entry for $a at $stack_mac"; ok=0
	fi
done

echo
echo "== Every frame in and out, as captured by ustack ($pcap), read by tshark"
if command -v tshark >/dev/null; then
	# The runtime flushes the capture when it goes idle: wait (bounded) for the
	# last echo reply to be in it.
	for _ in $(seq 20); do
		n=$(tshark -r "$pcap" -n -Y 'icmpv6.type == 129' 2>/dev/null | wc -l)
		((n >= 3)) && break
		sleep 0.1
	done
	tshark -r "$pcap" -n 2>/dev/null || true
fi

if ((check_only)); then
	((ok)) && echo "demo self-check passed" || echo "demo self-check FAILED"
	exit $((ok ? 0 : 1))
fi

cat <<EOT

ustack is serving on tap0 in namespace $netns. Try:
  ip netns exec $netns ping 198.51.100.2
  ip netns exec $netns ping -6 2001:db8:1::2
  ip netns exec $netns ping -s 8000 198.51.100.2      (fragmented both ways)
  ip netns exec $netns arping -I tap0 198.51.100.2
  ip netns exec $netns ip neigh
  echo hi | ip netns exec $netns socat - UDP4:198.51.100.2:7   (UDP echo; UDP6:[2001:db8:1::2]:7 too)
  ip netns exec $netns curl http://198.51.100.2/             (HTTP; also http://[2001:db8:1::2]/)
  ip netns exec $netns curl http://198.51.100.2/status       (every TCP socket of the stack)
  ip netns exec $netns ncat 198.51.100.2 7                   (TCP echo; 9 discard, 19 chargen)
Press Ctrl-C to stop; the namespace and the device are removed.

The stack's log from here on:
EOT
tail -n 0 -f --pid="$stack_pid" "$workdir/stack.log" &
tail_pid=$!
wait "$stack_pid"

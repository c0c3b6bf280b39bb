# SPDX-License-Identifier: MIT
#
# tests/tap/tcp_impair.py - a lossy, reordering, duplicating link between the
# kernel and ustack, for kernels without the netem qdisc (sch_netem). It does
# in user space what
#   tc qdisc add dev KDEV root netem loss L% reorder R% duplicate D% delay Dms
# does, and in both directions (netem on the kernel's side of a TAP device
# only impairs what the kernel sends).
#
#   tcp_impair.py [--vnet] KDEV SDEV LOSS REORDER DUPLICATE DELAY_MS SECONDS [SEED]
#
# --vnet: for a stack using TAP offloads (docs/performance.md). Both ends
# then carry a virtio-net header before each frame (KDEV's user end with
# IFF_VNET_HDR and the checksum/TSO offloads, the AF_PACKET socket with
# PACKET_VNET_HDR), so super-frames and partial checksums cross as they
# are; loss, reordering and duplication then act on whole super-frames.
#
# KDEV: the kernel's TAP device (with the kernel's addresses); this script
# attaches to its user end, as ustack would. SDEV: a second TAP device, up,
# with no addresses, IPv6 off and arp_ignore 8 (the kernel stays silent on
# it); ustack attaches to its user end, and this script reaches it through
# an AF_PACKET socket bound to SDEV: a frame sent there goes to ustack, a
# frame ustack writes is received there. Each frame, either way, is dropped
# with probability LOSS %, else queued to leave DELAY_MS later, except
# REORDER % of them, which leave at once (so they overtake the queue: netem's
# reordering), and DUPLICATE % are sent twice. Runs SECONDS at most, or until
# SIGTERM; prints "impair: up" once both ends are open, and counts at exit.
#
# Used by test-tcp-bulk.sh --impair (the 'tcp-long' suite) when netem is not
# available.
import fcntl
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
TUNSETOFFLOAD = 0x400454D0
TUNSETVNETHDRSZ = 0x400454D8
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 = 0x01, 0x02, 0x04
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_VNET_HDR = 15
# struct virtio_net_hdr, the header PACKET_VNET_HDR uses (no num_buffers).
VNET_HDR_LEN = 10


def open_tap(name, vnet):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if vnet else 0)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    if vnet:
        fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", VNET_HDR_LEN))
        fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
    return fd


def main():
    vnet = len(sys.argv) > 1 and sys.argv[1] == "--vnet"
    if vnet:
        del sys.argv[1]
    if len(sys.argv) not in (8, 9):
        print("usage: tcp_impair.py [--vnet] KDEV SDEV LOSS REORDER DUPLICATE DELAY_MS SECONDS "
              "[SEED]", file=sys.stderr)
        return 2
    kdev, sdev = sys.argv[1], sys.argv[2]
    loss, reorder, dup = (float(x) / 100 for x in sys.argv[3:6])
    delay = float(sys.argv[6]) / 1000
    end = time.monotonic() + float(sys.argv[7])
    rnd = random.Random(int(sys.argv[8]) if len(sys.argv) == 9 else 5681)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    kfd = open_tap(kdev, vnet)
    ps = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    if vnet:
        ps.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    ps.bind((sdev, 0))
    ps.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    ps.setblocking(False)
    print("impair: up, %s <-> %s, loss %g%% reorder %g%% duplicate %g%% delay %g ms%s" %
          (kdev, sdev, loss * 100, reorder * 100, dup * 100, delay * 1000,
           ", virtio-net headers" if vnet else ""), flush=True)

    # The queue: (due, sequence, direction, frame); direction 0: to the
    # stack (out of ps), 1: to the kernel (into kfd).
    queue = []
    seq = 0
    counts = {"frames": 0, "lost": 0, "reordered": 0, "duplicated": 0, "send_errors": 0}

    def take(direction, frame, now):
        nonlocal seq
        counts["frames"] += 1
        if rnd.random() < loss:
            counts["lost"] += 1
            return
        copies = 2 if rnd.random() < dup else 1
        if copies == 2:
            counts["duplicated"] += 1
        for _ in range(copies):
            due = now + delay
            if rnd.random() < reorder:
                due = now
                counts["reordered"] += 1
            heapq.heappush(queue, (due, seq, direction, frame))
            seq += 1

    def send(direction, frame):
        try:
            if direction == 0:
                ps.send(frame)
            else:
                os.write(kfd, frame)
        except OSError:
            counts["send_errors"] += 1  # a full queue: as lost

    while not stop and time.monotonic() < end:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, direction, frame = heapq.heappop(queue)
            send(direction, frame)
        timeout = min(0.5, max(0.0, queue[0][0] - now)) if queue else 0.5
        try:
            ready, _, _ = select.select([kfd, ps], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        if kfd in ready:
            for _ in range(64):
                try:
                    frame = os.read(kfd, 65536 + VNET_HDR_LEN + 256)
                except BlockingIOError:
                    break
                take(0, frame, now)
        if ps in ready:
            for _ in range(64):
                try:
                    frame, addr = ps.recvfrom(65536 + VNET_HDR_LEN + 256)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue  # our own sends toward the stack
                take(1, frame, now)
    print("impair: " + ", ".join("%s %d" % kv for kv in counts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

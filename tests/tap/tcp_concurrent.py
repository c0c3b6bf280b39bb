# SPDX-License-Identifier: MIT
#
# tests/tap/tcp_concurrent.py - many TCP connections at once to an echo
# server (RFC 862, "any data received is sent back"), from the kernel side.
#
#   tcp_concurrent.py ADDR PORT COUNT SECONDS [PORTS_FILE]
#
# Opens COUNT connections (non-blocking connects, all in flight together),
# waits until every one is established, then sends a different payload on
# each (its number, then 1000..7999 seeded pseudo-random bytes), reads every
# echo back and compares it byte for byte, and only then closes them all
# (an ordinary close: FIN, so the kernel side does the active close and its
# sockets end in TIME_WAIT, the stack's passive close goes LAST_ACK ->
# CLOSED). Everything is bounded by SECONDS in all. Prints one summary line;
# the local ports used go to PORTS_FILE, one per line. Exit 0 only when all
# COUNT connections got exactly their own bytes back.
#
# Used by test-tcp-concurrent.sh.
import errno
import random
import selectors
import socket
import sys
import time


def main():
    if len(sys.argv) not in (5, 6):
        print("usage: tcp_concurrent.py ADDR PORT COUNT SECONDS [PORTS_FILE]", file=sys.stderr)
        return 2
    addr, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    ports_file = sys.argv[5] if len(sys.argv) == 6 else None
    deadline = time.monotonic() + seconds
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    rnd = random.Random(864)

    socks, payloads = [], []
    for i in range(count):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((addr, port))
        if err not in (0, errno.EINPROGRESS):
            print("connection %d: connect: %s" % (i, errno.errorcode.get(err, err)))
            return 1
        socks.append(s)
        body = ("connection %d\n" % i).encode() + rnd.randbytes(rnd.randrange(1000, 8000))
        payloads.append(body)

    # Phase 1: every connection established before any data moves.
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_WRITE, i)
    pending = set(range(count))
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
            i = key.data
            err = socks[i].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                print("connection %d: connect failed: %s" % (i, errno.errorcode.get(err, err)))
                return 1
            sel.unregister(socks[i])
            pending.discard(i)
    if pending:
        print("%d of %d connections not established in %.0f s" % (len(pending), count, seconds))
        return 1
    if ports_file:
        with open(ports_file, "w") as f:
            for s in socks:
                f.write("%d\n" % s.getsockname()[1])
    print("established: %d" % count)

    # Phase 2: send every payload and read every echo, interleaved.
    sent = [0] * count
    got = [bytearray() for _ in range(count)]
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, i)
    unfinished = set(range(count))
    while unfinished and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
            i, s = key.data, socks[key.data]
            if ev & selectors.EVENT_WRITE:
                try:
                    sent[i] += s.send(payloads[i][sent[i]:])
                except BlockingIOError:
                    pass
                if sent[i] == len(payloads[i]):
                    sel.modify(s, selectors.EVENT_READ, i)
            if ev & selectors.EVENT_READ:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    print("connection %d: recv: %s" % (i, e))
                    return 1
                if not data:
                    print("connection %d: EOF after %d of %d bytes" % (i, len(got[i]), len(payloads[i])))
                    return 1
                got[i] += data
                if len(got[i]) > len(payloads[i]) or not payloads[i].startswith(got[i]):
                    print("connection %d: echo differs from what was sent (%d bytes back)" % (i, len(got[i])))
                    return 1
                if len(got[i]) == len(payloads[i]):
                    sel.unregister(s)
                    unfinished.discard(i)
    if unfinished:
        print("%d of %d connections did not get their echo in %.0f s (e.g. connection %d: %d of %d bytes)"
              % (len(unfinished), count, seconds, min(unfinished), len(got[min(unfinished)]),
                 len(payloads[min(unfinished)])))
        return 1
    total = sum(len(p) for p in payloads)
    print("echoed: %d connections, %d bytes each way, each its own" % (count, total))

    # Phase 3: close them all (FIN from the kernel side first).
    for s in socks:
        s.close()
    print("closed: %d" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: MIT
#
# tests/tap/tcp_chargen.py - the character generator stream of RFC 864, to
# check what ustack-demo's chargen server (TCP port 19) sends.
#
# RFC 864 "TCP Based Character Generator Service": "Once a connection is
# established the server shall send a continuous stream of data"; its
# suggested pattern, which the demo follows: the 95 printable ASCII
# characters (32 ' ' to 126 '~'), lines of 72 of them followed by CR LF, each
# line starting one character further along than the line before. The
# stream repeats every 95 lines (95 * 74 = 7030 bytes).
#
#   tcp_chargen.py expect N    prints the sha256 of the first N bytes
#   tcp_chargen.py check N     reads stdin (at most N bytes), prints
#                              "bytes <n> sha256 <hex> expected <hex>" and,
#                              when they differ, the first differing offset;
#                              exit 0 only when exactly N equal bytes came
#
# Used by test-tcp-bulk.sh (and test-tcp-long.sh): a kernel-side client reads
# from the stack's chargen and pipes N bytes in here.
import hashlib
import sys

LINE = 72
CHARS = bytes(range(32, 127))
PERIOD = b"".join((CHARS * 2)[i:i + LINE] + b"\r\n" for i in range(len(CHARS)))
assert len(PERIOD) == 95 * 74


def expected_chunks(n, size=1 << 20):
    """The first n bytes of the stream, in chunks of about size bytes."""
    block = PERIOD * max(1, size // len(PERIOD))  # a whole number of periods
    blen = len(block)
    while n > 0:
        k = min(n, blen)
        yield block[:k]
        n -= k


def expect(n):
    h = hashlib.sha256()
    for c in expected_chunks(n):
        h.update(c)
    return h.hexdigest()


def check(n):
    got = hashlib.sha256()
    want = hashlib.sha256()
    pos = 0
    first_diff = None
    gen = expected_chunks(n)
    pending = b""
    inp = sys.stdin.buffer
    while pos < n:
        data = inp.read1(min(1 << 20, n - pos))
        if not data:
            break
        got.update(data)
        # Compare against the expected stream, as far as data goes.
        off = 0
        while off < len(data):
            if not pending:
                pending = next(gen)
                want.update(pending)
            k = min(len(pending), len(data) - off)
            if first_diff is None and data[off:off + k] != pending[:k]:
                for j in range(k):
                    if data[off + j] != pending[j]:
                        first_diff = pos + off + j
                        break
            pending = pending[k:]
            off += k
        pos += len(data)
    for c in gen:  # the rest of the expected digest (pending is in it already)
        want.update(c)
    gh, wh = got.hexdigest(), want.hexdigest()
    print("bytes %d sha256 %s expected %s" % (pos, gh, wh))
    if first_diff is not None:
        print("first difference at offset %d" % first_diff)
    if pos != n:
        print("short: %d of %d bytes" % (pos, n))
    return 0 if pos == n and gh == wh and first_diff is None else 1


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("expect", "check"):
        print("usage: tcp_chargen.py expect|check N", file=sys.stderr)
        return 2
    n = int(sys.argv[2])
    if sys.argv[1] == "expect":
        print(expect(n))
        return 0
    return check(n)


if __name__ == "__main__":
    sys.exit(main())

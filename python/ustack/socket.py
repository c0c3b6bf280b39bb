# SPDX-License-Identifier: MIT
"""The socket module of ../shared/spec/socket-module.zh.md, over ustack.

Every call is the C API's (include/ustack/ustack.h), through _ustack.c:
socket(af=AF_INET, type=SOCK_STREAM, proto=0), getaddrinfo, and on a socket
bind, listen, accept, connect, read, readinto, readline, write, send,
sendall, sendto, recv, recvfrom, close, setsockopt, getsockopt, setblocking,
settimeout, makefile, getsocketsta, shutdown, getsockname, getpeername.
This file adds what is Python rather than C: makefile() (a binary file
object from io) and the names CPython users expect (error, timeout).
Read docs/python.md.
"""
import errno as _errno
import io as _io

from . import _ustack
from ._ustack import getaddrinfo, gaierror  # noqa: F401

# The constants (AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, ..., and the
# TCP states CLOSED ... TIME_WAIT of getsocketsta()), as the C header has them.
globals().update({k: v for k, v in vars(_ustack).items() if k.isupper() and k != "SLICE_MS"})

error = OSError
# A timeout is an OSError with ETIMEDOUT, as the spec says: TimeoutError,
# which is what CPython's socket.timeout names since Python 3.10.
timeout = TimeoutError

TCP_STATE_NAMES = tuple(_ustack.state_name(i) for i in range(11))


class _SocketIO(_io.RawIOBase):
    """The raw stream under makefile(): recv_into and send of the socket.

    us_makefile() gives a stdio FILE *, which Python's io cannot wrap (it has
    no descriptor), so the file object is built from io's buffered classes
    over the socket's own calls instead, as CPython's socket.SocketIO does.
    Closing the file does not close the socket (us_makefile's rule)."""

    def __init__(self, sock, mode):
        super().__init__()
        self._sock = sock
        self._reading = mode == "rb"

    def readable(self):
        return self._reading

    def writable(self):
        return not self._reading

    def readinto(self, b):
        self._checkClosed()
        try:
            return self._sock.recv_into(b)
        except BlockingIOError:
            return None

    def write(self, b):
        self._checkClosed()
        try:
            return self._sock.send(b)
        except BlockingIOError:
            return None

    @property
    def name(self):
        return self._sock.handle

    @property
    def mode(self):
        return "rb" if self._reading else "wb"


class socket(_ustack.socket):
    """socket(af=AF_INET, type=SOCK_STREAM, proto=0, stack=None)

    A socket on `stack` (a ustack.Stack; None: the default one, the first
    started). proto 0 picks the type's protocol (TCP, UDP)."""

    __slots__ = ()

    def makefile(self, mode="rb", buffering=None):
        """A binary file object on the socket: mode 'rb' or 'wb' only."""
        if mode not in ("rb", "wb"):
            raise OSError(_errno.EINVAL, "makefile: only the modes 'rb' and 'wb'")
        raw = _SocketIO(self, mode)
        stream = self.type == _ustack.SOCK_STREAM
        if buffering == 0 or (mode == "wb" and not stream):
            return raw  # a datagram file sends one datagram per write
        if buffering is None or buffering < 0:
            # A datagram reader's buffer holds the largest datagram whole.
            buffering = _io.DEFAULT_BUFFER_SIZE if stream else 65535
        if mode == "rb":
            return _io.BufferedReader(raw, buffering)
        return _io.BufferedWriter(raw, buffering)

    def socket(self, af=_ustack.AF_INET, type=_ustack.SOCK_STREAM, proto=0):
        """A new socket on the same stack.

        The spec's example rebinds the name `socket` to a socket and then
        calls socket.socket(...) again; this method lets it run as written."""
        return socket(af, type, proto, stack=self.stack)

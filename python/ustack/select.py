# SPDX-License-Identifier: MIT
"""poll() in the shape of MicroPython's select.poll, over us_poll().

    p = select.poll()
    p.register(sock, select.POLLIN)
    for obj, events in p.poll(1000):   # timeout in milliseconds, -1 blocks
        ...

Only ustack sockets can be registered. The wait is us_poll() in slices, so
Ctrl-C interrupts it (docs/python.md).
"""
from . import _ustack
from ._ustack import POLLIN, POLLOUT, POLLERR, POLLHUP, POLLNVAL  # noqa: F401


class _Poll:
    def __init__(self):
        self._map = {}

    def register(self, obj, eventmask=POLLIN | POLLOUT):
        if not isinstance(obj, _ustack.socket):
            raise TypeError("poll: only ustack sockets can be registered")
        self._map[id(obj)] = [obj, eventmask]

    def modify(self, obj, eventmask):
        try:
            self._map[id(obj)][1] = eventmask
        except KeyError:
            raise OSError(2, "not registered") from None

    def unregister(self, obj):
        self._map.pop(id(obj), None)

    def poll(self, timeout=-1):
        entries = list(self._map.values())
        if timeout is None or timeout < 0:
            timeout = -1
        revents = _ustack.poll([(o.handle, ev) for o, ev in entries], int(timeout))
        return [(o, r) for (o, _), r in zip(entries, revents) if r]

    def ipoll(self, timeout=-1, flags=0):
        yield from self.poll(timeout)


def poll():
    """A new poll object."""
    return _Poll()

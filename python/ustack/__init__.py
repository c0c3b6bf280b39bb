# SPDX-License-Identifier: MIT
"""ustack from Python: the documented socket module over a user-space TCP/IP stack.

    import ustack
    from ustack import socket, usocket

    stack = ustack.Stack(tap="tap0", ipv4="198.51.100.2/24")   # starts the stack
    s = socket.socket(usocket.AF_INET, usocket.SOCK_STREAM)    # a socket on it

`ustack.socket` is the socket module of ../shared/spec/socket-module.zh.md
(MicroPython's, a subset of CPython's); `ustack.usocket` is the same module
under MicroPython's other name, and `ustack.select` (alias `uselect`) has
poll(). Stack, link_pair and the rest are the C half (_ustack.c): read
docs/python.md first.
"""
import atexit as _atexit
import sys as _sys

from . import _ustack
from ._ustack import Stack, Link, link_pair, default_stack, state_name
from . import socket
from . import select

usocket = socket
uselect = select
_sys.modules[__name__ + ".usocket"] = socket
_sys.modules[__name__ + ".uselect"] = select

# Every stack stops at exit: its thread ends and its pcap file is complete.
_atexit.register(_ustack.stop_all)

__all__ = ["Stack", "Link", "link_pair", "default_stack", "state_name",
           "socket", "usocket", "select", "uselect"]

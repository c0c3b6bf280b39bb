# SPDX-License-Identifier: MIT
"""Shared fixtures of the Python tests (tests/python/meson.build runs them).

Two stacks, A and B, on the two ends of an in-memory Ethernet link
(ustack.link_pair(): us_memlink_pair), on the real clock, no root needed:
A is 198.51.100.2 and 2001:db8:1::2, B is .3 and ::3. MSL is 0.25 s, so
TIME_WAIT lasts half a second. Every wait in a test is bounded.
"""
import time

import pytest

import ustack
from ustack import socket

A_IP4, B_IP4 = "198.51.100.2", "198.51.100.3"
A_IP6, B_IP6 = "2001:db8:1::2", "2001:db8:1::3"


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


@pytest.fixture
def pair():
    la, lb = ustack.link_pair()
    a = ustack.Stack(link=la, ipv4=A_IP4 + "/24", ipv6=A_IP6 + "/64", dad=False, msl=0.25,
                     hosts={"b.test": [B_IP4, B_IP6]}, default=True)
    b = ustack.Stack(link=lb, ipv4=B_IP4 + "/24", ipv6=B_IP6 + "/64", dad=False, msl=0.25,
                     hosts={"a.test": [A_IP4, A_IP6]})
    yield Pair(a, b)
    a.stop()
    b.stop()


def addr_of(family, which):
    if family == socket.AF_INET:
        return A_IP4 if which == "a" else B_IP4
    return A_IP6 if which == "a" else B_IP6


def connected(pair, family=socket.AF_INET, port=7000):
    """(listener on A, conn on A, client on B), a TCP connection."""
    srv = socket.socket(family, socket.SOCK_STREAM, stack=pair.a)
    srv.bind(("", port))
    srv.listen(4)
    cli = socket.socket(family, socket.SOCK_STREAM, stack=pair.b)
    cli.settimeout(5)
    cli.connect((addr_of(family, "a"), port))
    srv.settimeout(5)
    conn, _ = srv.accept()
    conn.settimeout(5)
    return srv, conn, cli


def wait_state(sock, state, timeout=5.0):
    """Polls getsocketsta() until it is state (True) or timeout passes (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sock.getsocketsta() == state:
            return True
        time.sleep(0.005)
    return sock.getsocketsta() == state

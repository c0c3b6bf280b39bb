# SPDX-License-Identifier: MIT
"""UDP both ways between two stacks: sendto/recvfrom, connect/send/recv,
the stream methods on datagrams (one datagram per call), errors, timeouts."""
import errno
import time

import pytest

import ustack
from ustack import socket

from conftest import A_IP4, A_IP6, B_IP4, addr_of


def udp(stack, family=socket.AF_INET, port=0):
    s = socket.socket(family, socket.SOCK_DGRAM, stack=stack)
    s.bind(("", port))
    s.settimeout(5)
    return s


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_sendto_and_recvfrom_both_ways(pair, family):
    a = udp(pair.a, family, 5000)
    b = udp(pair.b, family, 5001)
    assert b.sendto(b"from b", (addr_of(family, "a"), 5000)) == 6
    data, addr = a.recvfrom(100)
    assert data == b"from b" and addr[:2] == (addr_of(family, "b"), 5001)
    assert a.sendto(b"from a", addr) == 6
    data, addr = b.recvfrom(100)
    assert data == b"from a" and addr[:2] == (addr_of(family, "a"), 5000)
    if family == socket.AF_INET6:
        assert len(addr) == 4
    a.close(), b.close()


def test_connected_send_recv_and_one_datagram_per_call(pair):
    a = udp(pair.a, port=5002)
    b = udp(pair.b)
    b.connect((A_IP4, 5002))
    assert b.getpeername() == (A_IP4, 5002)
    b.send(b"one\ntwo")
    b.write(b"three")
    b.sendall(b"four")
    b.send(b"")
    peer = b.getsockname()
    assert a.recv(3) == b"one"  # the rest of the datagram is discarded
    assert a.read() == b"three"
    buf = bytearray(10)
    assert a.readinto(buf) == 4 and buf[:4] == b"four"
    assert a.recvfrom(10) == (b"", peer)
    b.send(b"line\nrest")
    assert a.readline() == b"line\n"
    b.send(b"x" * 100)
    assert a.read(10) == b"x" * 10
    a.sendto(b"reply", peer)
    assert b.recv(100) == b"reply"
    a.close(), b.close()


def test_large_datagrams_are_fragmented_and_whole(pair):
    a = udp(pair.a, socket.AF_INET6, 5003)
    b = udp(pair.b, socket.AF_INET6)
    data = bytes(range(256)) * 200  # 51200 bytes
    b.sendto(data, (A_IP6, 5003))
    assert a.recv(65535) == data
    with pytest.raises(OSError) as e:
        b.sendto(b"x" * 70000, (A_IP6, 5003))
    assert e.value.errno == errno.EMSGSIZE
    a.close(), b.close()


def test_recv_timeout_and_non_blocking(pair):
    a = udp(pair.a, port=5004)
    a.settimeout(0.2)
    t0 = time.monotonic()
    with pytest.raises(socket.timeout) as e:
        a.recvfrom(10)
    assert e.value.errno == errno.ETIMEDOUT and time.monotonic() - t0 >= 0.19
    a.setblocking(False)
    with pytest.raises(BlockingIOError):
        a.recv(10)
    a.close()


def test_icmp_port_unreachable_is_econnrefused_on_a_connected_socket(pair):
    b = udp(pair.b)
    b.connect((A_IP4, 5999))  # nobody there
    b.send(b"anyone?")
    with pytest.raises(ConnectionRefusedError):
        b.recv(10)
    b.close()


def test_sendto_errors(pair):
    b = udp(pair.b)
    with pytest.raises(OSError) as e:
        b.sendto(b"x", (A_IP4, 0))
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        b.send(b"x")
    assert e.value.errno == errno.EDESTADDRREQ
    with pytest.raises(OSError) as e:
        b.sendto(b"x", ("<broadcast>", 9))
    assert e.value.errno == errno.EACCES
    b.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    a = udp(pair.a, port=9)
    b.sendto(b"all", ("<broadcast>", 9))
    assert a.recvfrom(10) == (b"all", (B_IP4, b.getsockname()[1]))
    a.close(), b.close()


def test_makefile_on_datagrams(pair):
    a = udp(pair.a, port=5005)
    b = udp(pair.b)
    b.connect((A_IP4, 5005))
    w = b.makefile("wb")
    w.write(b"first\n")
    w.write(b"second\n")
    r = a.makefile("rb")
    assert r.readline() == b"first\n"
    assert r.readline() == b"second\n"
    r.close(), w.close(), a.close(), b.close()


def test_ipv6_socket_reaches_ipv4_peers(pair):
    a = udp(pair.a, socket.AF_INET, 5006)
    b = udp(pair.b, socket.AF_INET6)
    b.sendto(b"mapped", (A_IP4, 5006))
    data, addr = a.recvfrom(10)
    assert data == b"mapped" and addr[0] == B_IP4
    a.close(), b.close()



def test_busy_polling_stacks_exchange_datagrams_and_time_out():
    """Stack(busy_poll=US) (docs/performance.md): the same semantics, the
    waits spin first; a budget over a second is refused."""
    la, lb = ustack.link_pair()
    a = ustack.Stack(link=la, ipv4=A_IP4 + "/24", ipv6=None, dad=False, busy_poll=1000)
    b = ustack.Stack(link=lb, ipv4=B_IP4 + "/24", ipv6=None, dad=False, busy_poll=1000)
    try:
        sa, sb = udp(a, port=5000), udp(b, port=5001)
        for i in range(50):
            assert sb.sendto(b"%d" % i, (A_IP4, 5000)) == len(b"%d" % i)
            assert sa.recvfrom(100)[0] == b"%d" % i
        sa.settimeout(0.05)
        t0 = time.monotonic()
        with pytest.raises(OSError) as e:
            sa.recv(10)
        assert e.value.errno == errno.ETIMEDOUT and time.monotonic() - t0 >= 0.05
        sa.close(), sb.close()
    finally:
        a.stop()
        b.stop()
    with pytest.raises(ValueError):
        ustack.Stack(link=ustack.link_pair()[0], busy_poll=1000001)

# SPDX-License-Identifier: MIT
"""TCP between two stacks over an in-memory link: every call's normal use,
its errors and its timeouts, for IPv4 and IPv6."""
import errno
import os
import time

import pytest

from ustack import select, socket

from conftest import A_IP4, A_IP6, B_IP4, addr_of, connected, wait_state

FAMILIES = [socket.AF_INET, socket.AF_INET6]


@pytest.mark.parametrize("family", FAMILIES)
def test_connect_and_accept_return_the_addresses(pair, family):
    srv, conn, cli = connected(pair, family)
    assert srv.getsocketsta() == socket.LISTEN
    assert conn.getsocketsta() == cli.getsocketsta() == socket.ESTABLISHED
    assert cli.getpeername()[:2] == (addr_of(family, "a"), 7000)
    assert conn.getpeername() == cli.getsockname()
    assert conn.getsockname()[:2] == (addr_of(family, "a"), 7000)
    assert isinstance(conn, socket.socket)
    assert conn.gettimeout() == 5  # set by connected()
    for s in (srv, conn, cli):
        s.close()


def test_accept_returns_conn_and_address(pair):
    srv = socket.socket(stack=pair.a)
    srv.bind(("", 80))
    srv.listen(1)
    cli = socket.socket(stack=pair.b)
    cli.connect((A_IP4, 80))
    conn, address = srv.accept()
    assert address == cli.getsockname() and address[0] == B_IP4
    assert conn.gettimeout() is None  # a new connection blocks
    conn.close(), cli.close(), srv.close()


def test_connect_by_name_through_the_hosts_table(pair):
    srv = socket.socket(socket.AF_INET6, stack=pair.b)
    srv.bind(("", 8080))
    srv.listen()
    cli = socket.socket(socket.AF_INET6, stack=pair.a)
    cli.connect(("b.test", 8080))
    assert cli.getpeername()[0] == "2001:db8:1::3"
    cli.close(), srv.close()


def test_read_readinto_readline_write(pair):
    srv, conn, cli = connected(pair)
    assert cli.write(b"line one\nline two\nrest") == 22
    assert conn.readline() == b"line one\n"
    assert conn.read(4) == b"line"
    buf = bytearray(10)
    assert conn.readinto(buf, 5) == 5 and bytes(buf[:5]) == b" two\n"
    cli.shutdown(socket.SHUT_WR)
    assert conn.read() == b"rest"  # to the end of stream
    assert conn.read(10) == b"" and conn.readline() == b"" and conn.recv(10) == b""
    assert conn.readinto(buf) == 0
    for s in (srv, conn, cli):
        s.close()


def test_readinto_fills_the_whole_buffer_across_segments(pair):
    srv, conn, cli = connected(pair)
    cli.sendall(b"a" * 3000)
    cli.sendall(b"b" * 3000)
    buf = bytearray(6000)
    assert conn.readinto(buf) == 6000
    assert bytes(buf) == b"a" * 3000 + b"b" * 3000
    mv = memoryview(bytearray(100))
    cli.send(b"xyz")
    assert conn.readinto(mv, 3) == 3 and bytes(mv[:3]) == b"xyz"
    for s in (srv, conn, cli):
        s.close()


def test_readline_longer_than_one_buffer(pair):
    srv, conn, cli = connected(pair)
    line = os.urandom(5000).replace(b"\n", b"x") + b"\n"
    cli.sendall(line + b"next\n")
    assert conn.readline() == line
    assert conn.readline() == b"next\n"
    for s in (srv, conn, cli):
        s.close()


def test_send_recv_recvfrom(pair):
    srv, conn, cli = connected(pair)
    assert cli.send(b"hello") == 5
    assert conn.recv(100) == b"hello"
    assert conn.send(memoryview(b"back")) == 4
    data, addr = cli.recvfrom(100)
    assert data == b"back" and addr[:2] == (A_IP4, 7000)
    buf = bytearray(8)
    conn.send(b"into")
    assert cli.recv_into(buf) == 4 and buf[:4] == b"into"
    for s in (srv, conn, cli):
        s.close()


def test_sendall_a_megabyte_both_ways(pair):
    srv, conn, cli = connected(pair)
    data = os.urandom(1 << 20)
    import threading
    t = threading.Thread(target=cli.sendall, args=(data,))
    t.start()
    assert conn.read(len(data)) == data
    t.join(10)
    got = []
    t = threading.Thread(target=lambda: got.append(cli.read()))
    t.start()
    conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)
    t.join(10)
    assert got == [data]
    for s in (srv, conn, cli):
        s.close()


def test_recv_timeout_is_an_oserror_with_etimedout(pair):
    srv, conn, cli = connected(pair)
    conn.settimeout(0.2)
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        conn.recv(10)
    assert e.value.errno == errno.ETIMEDOUT
    assert isinstance(e.value, socket.timeout)
    assert 0.19 <= time.monotonic() - t0 < 2
    for call in (lambda: conn.read(1), lambda: conn.readline(), lambda: conn.read(),
                 lambda: conn.recvfrom(1), lambda: conn.readinto(bytearray(1))):
        with pytest.raises(TimeoutError):
            call()
    srv.settimeout(0.1)
    with pytest.raises(TimeoutError):
        srv.accept()
    for s in (srv, conn, cli):
        s.close()


def test_a_read_that_times_out_after_part_of_its_data_returns_the_part(pair):
    srv, conn, cli = connected(pair)
    conn.settimeout(0.2)
    cli.send(b"part")
    assert conn.read(100) == b"part"
    cli.send(b"no newline")
    assert conn.readline() == b"no newline"
    cli.send(b"abc")
    buf = bytearray(10)
    assert conn.readinto(buf) == 3
    for s in (srv, conn, cli):
        s.close()


def test_write_and_sendall_time_out_when_the_peer_does_not_read(pair):
    srv, conn, cli = connected(pair)
    cli.settimeout(0.3)
    big = b"x" * (8 << 20)
    with pytest.raises(TimeoutError):
        cli.sendall(big)
    n = cli.write(big)  # a part was queued before: its count
    assert 0 <= n < len(big)
    for s in (srv, conn, cli):
        s.close()


def test_non_blocking_calls_fail_with_eagain(pair):
    srv, conn, cli = connected(pair)
    conn.setblocking(False)
    srv.setblocking(False)
    for call in (lambda: conn.recv(1), lambda: conn.read(1), lambda: conn.readline(),
                 lambda: srv.accept(), lambda: conn.recvfrom(1)):
        with pytest.raises(BlockingIOError) as e:
            call()
        assert e.value.errno == errno.EAGAIN
    cli.send(b"ab")
    p = select.poll()
    p.register(conn, select.POLLIN)
    assert p.poll(2000) == [(conn, select.POLLIN)]
    assert conn.read(10) == b"ab"  # non-blocking: what was there
    cli.setblocking(False)
    big = b"y" * (8 << 20)
    sent = cli.write(big)
    assert 0 < sent < len(big)
    with pytest.raises(BlockingIOError) as e:
        cli.sendall(big)
    assert 0 <= e.value.characters_written < len(big)
    for s in (srv, conn, cli):
        s.close()


def test_non_blocking_connect_is_einprogress_then_pollout(pair):
    srv = socket.socket(stack=pair.a)
    srv.bind(("", 7001))
    srv.listen()
    cli = socket.socket(stack=pair.b)
    cli.setblocking(False)
    with pytest.raises(BlockingIOError) as e:
        cli.connect((A_IP4, 7001))
    assert e.value.errno == errno.EINPROGRESS
    p = select.poll()
    p.register(cli, select.POLLOUT)
    assert p.poll(5000) == [(cli, select.POLLOUT)]
    assert cli.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    assert cli.getsocketsta() == socket.ESTABLISHED
    cli.close(), srv.close()


def test_connect_refused(pair):
    cli = socket.socket(stack=pair.b)
    with pytest.raises(ConnectionRefusedError) as e:
        cli.connect((A_IP4, 9999))
    assert e.value.errno == errno.ECONNREFUSED
    cli.close()


def test_connect_timeout_when_the_peer_does_not_answer(pair):
    srv = socket.socket(stack=pair.a)
    srv.bind(("", 7002))
    srv.listen()
    pair.a.drop_tx = True  # A's SYN,ACK is lost
    cli = socket.socket(stack=pair.b)
    cli.settimeout(0.3)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        cli.connect((A_IP4, 7002))
    assert e.value.errno == errno.ETIMEDOUT
    assert time.monotonic() - t0 < 3
    assert pair.a.dropped[0] >= 1
    pair.a.drop_tx = False
    cli.close(), srv.close()


def test_connection_reset_by_the_peer(pair):
    srv, conn, cli = connected(pair)
    cli.send(b"unread")
    time.sleep(0.05)
    assert wait_state(conn, socket.ESTABLISHED)
    # conn closes with received data unread: an abort, a RST to the peer.
    select.poll().poll(10)
    p = select.poll()
    p.register(conn, select.POLLIN)
    assert p.poll(2000)
    conn.close()
    with pytest.raises(ConnectionResetError):
        cli.recv(10)
    cli.close(), srv.close()


def test_wrong_state_and_type_errors(pair):
    srv, conn, cli = connected(pair)
    with pytest.raises(OSError) as e:
        cli.sendto(b"x", (A_IP4, 1))
    assert e.value.errno == errno.EISCONN
    with pytest.raises(OSError) as e:
        cli.connect((A_IP4, 7000))
    assert e.value.errno == errno.EISCONN
    with pytest.raises(OSError) as e:
        srv.recv(1)
    assert e.value.errno == errno.ENOTCONN
    fresh = socket.socket(stack=pair.b)
    with pytest.raises(OSError) as e:
        fresh.getpeername()
    assert e.value.errno == errno.ENOTCONN
    with pytest.raises(OSError) as e:
        fresh.accept()
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        fresh.shutdown(socket.SHUT_WR)
    assert e.value.errno == errno.ENOTCONN
    with pytest.raises(OSError) as e:
        cli.shutdown(7)
    assert e.value.errno == errno.EINVAL
    cli.shutdown(socket.SHUT_WR)
    with pytest.raises(BrokenPipeError):
        cli.send(b"after shutdown")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, stack=pair.a)
    with pytest.raises(OSError) as e:
        u.listen(1)
    assert e.value.errno == errno.EOPNOTSUPP
    for s in (srv, conn, cli, fresh, u):
        s.close()


def test_so_reuseaddr_rebinds_while_time_wait(pair):
    srv, conn, cli = connected(pair, port=7010)
    conn.close()  # the server side closes first: its side goes to TIME_WAIT
    assert cli.recv(1) == b""
    cli.shutdown(socket.SHUT_WR)
    assert wait_state(cli, socket.CLOSED)  # A acknowledged B's FIN: A is in TIME_WAIT
    cli.close()
    srv.close()
    again = socket.socket(stack=pair.a)
    with pytest.raises(OSError) as e:
        again.bind(("", 7010))
    assert e.value.errno == errno.EADDRINUSE
    again.close()
    again = socket.socket(stack=pair.a)
    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    again.bind(("", 7010))
    again.listen()
    again.close()


def test_makefile_rb_and_wb(pair):
    srv, conn, cli = connected(pair)
    w = cli.makefile("wb")
    w.write(b"first line\n")
    w.write(b"second line\n")
    w.flush()
    r = conn.makefile("rb")
    assert r.readline() == b"first line\n"
    assert r.read(7) == b"second "
    w.write(b"tail")
    w.close()
    cli.shutdown(socket.SHUT_WR)
    assert r.read() == b"line\ntail"
    r.close()
    assert conn.getsocketsta() == socket.CLOSE_WAIT  # the file's close leaves the socket
    for s in (srv, conn, cli):
        s.close()


def test_poll_reports_readable_writable_and_closed(pair):
    srv, conn, cli = connected(pair)
    p = select.poll()
    p.register(conn)  # POLLIN | POLLOUT
    assert p.poll(0) == [(conn, select.POLLOUT)]
    p.modify(conn, select.POLLIN)
    assert p.poll(0) == []
    t0 = time.monotonic()
    assert p.poll(100) == []
    assert time.monotonic() - t0 >= 0.09
    cli.send(b"!")
    assert p.poll(2000) == [(conn, select.POLLIN)]
    assert list(p.ipoll(0)) == [(conn, select.POLLIN)]
    p.unregister(conn)
    assert p.poll(0) == []
    p.register(srv, select.POLLIN)
    srv.close()
    assert p.poll(0) == [(srv, select.POLLNVAL)]
    with pytest.raises(TypeError):
        p.register(object())
    conn.close(), cli.close()

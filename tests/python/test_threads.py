# SPDX-License-Identifier: MIT
"""Threads: the GIL is released while a call waits, several threads use
several sockets at once, a close from another thread (or a stopped stack)
wakes a blocked call cleanly."""
import errno
import threading
import time

import pytest

from ustack import select, socket

from conftest import A_IP4, connected


def in_thread(fn, *args):
    out = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as e:  # noqa: B902  handed to the test
            out["error"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_a_blocked_recv_does_not_hold_the_gil(pair):
    srv, conn, cli = connected(pair)
    conn.settimeout(None)
    t, out = in_thread(conn.recv, 10)
    # The main thread runs Python while the other waits in recv.
    n = 0
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        n += 1
    assert n > 1000 and t.is_alive()
    cli.send(b"wake")
    t.join(5)
    assert out == {"value": b"wake"}
    for s in (srv, conn, cli):
        s.close()


@pytest.mark.parametrize("call", ["recv", "accept", "read", "readline", "recvfrom"])
def test_close_from_another_thread_wakes_a_blocked_call_with_ebadf(pair, call):
    srv, conn, cli = connected(pair)
    target = srv if call == "accept" else conn
    target.settimeout(None)
    fn = {"recv": lambda: conn.recv(10), "accept": srv.accept, "read": lambda: conn.read(10),
          "readline": conn.readline, "recvfrom": lambda: conn.recvfrom(10)}[call]
    t, out = in_thread(fn)
    time.sleep(0.2)
    assert t.is_alive()
    t0 = time.monotonic()
    target.close()
    t.join(5)
    assert not t.is_alive() and time.monotonic() - t0 < 2
    assert isinstance(out.get("error"), OSError) and out["error"].errno == errno.EBADF
    for s in (srv, conn, cli):
        s.close()


def test_close_from_another_thread_wakes_a_blocked_udp_recv(pair):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, stack=pair.a)
    u.bind(("", 6000))
    t, out = in_thread(u.recvfrom, 100)
    time.sleep(0.1)
    u.close()
    t.join(5)
    assert out["error"].errno == errno.EBADF


def test_stopping_the_stack_wakes_a_blocked_call_with_enetdown(pair):
    srv, conn, cli = connected(pair)
    conn.settimeout(None)
    t, out = in_thread(conn.recv, 10)
    time.sleep(0.1)
    pair.a.stop()
    t.join(5)
    assert out["error"].errno == errno.ENETDOWN
    for s in (srv, conn, cli):
        s.close()


def test_several_threads_use_several_sockets_at_once(pair):
    srv = socket.socket(stack=pair.a)
    srv.bind(("", 7200))
    srv.listen(16)
    n_clients, rounds = 8, 50

    def serve_one(conn):
        with conn:
            while True:
                line = conn.readline()
                if not line:
                    return
                conn.write(line.upper())

    def server():
        for _ in range(n_clients):
            conn, _ = srv.accept()
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    def client(i):
        with socket.socket(stack=pair.b) as c:
            c.settimeout(10)
            c.connect((A_IP4, 7200))
            for r in range(rounds):
                msg = b"client %d round %d\n" % (i, r)
                c.sendall(msg)
                if c.readline() != msg.upper():
                    return False
            return True

    st, _ = in_thread(server)
    results = [in_thread(client, i) for i in range(n_clients)]
    for t, out in results:
        t.join(30)
        assert out == {"value": True}
    st.join(5)
    srv.close()


def test_one_socket_shared_by_a_reader_and_a_writer_thread(pair):
    srv, conn, cli = connected(pair)
    data = bytes(range(256)) * 4096  # 1 MB
    t, out = in_thread(conn.read, len(data))
    cli.sendall(data)
    t.join(10)
    assert out == {"value": data}
    for s in (srv, conn, cli):
        s.close()


def test_poll_in_a_thread_wakes_on_data(pair):
    srv, conn, cli = connected(pair)
    p = select.poll()
    p.register(conn, select.POLLIN)
    t, out = in_thread(p.poll, -1)
    time.sleep(0.1)
    assert t.is_alive()
    cli.send(b"x")
    t.join(5)
    assert out == {"value": [(conn, select.POLLIN)]}
    for s in (srv, conn, cli):
        s.close()

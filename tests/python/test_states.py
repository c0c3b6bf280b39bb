# SPDX-License-Identifier: MIT
"""getsocketsta() walking the TCP state diagram (RFC 9293 §3.3.2), with the
numbers of the spec's table. A state that lasts one round trip is held by
losing frames on purpose (Stack.drop_tx / drop_rx): the peer's answer is
lost, the state stays until the retransmission that comes once the frames
flow again."""
import time

from ustack import socket

from conftest import A_IP4, wait_state

HOLD = 0.3  # how long a held state must stay put


def stays(sock, state, seconds=HOLD):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if sock.getsocketsta() != state:
            return False
        time.sleep(0.01)
    return True


def test_passive_close_walks_listen_established_close_wait_last_ack_closed(pair):
    srv = socket.socket(stack=pair.a)
    assert srv.getsocketsta() == socket.CLOSED == 0
    srv.bind(("", 7100))
    srv.listen(1)
    assert srv.getsocketsta() == socket.LISTEN == 1
    cli = socket.socket(stack=pair.b)
    cli.settimeout(5)
    cli.connect((A_IP4, 7100))
    srv.settimeout(5)
    conn, _ = srv.accept()
    assert conn.getsocketsta() == socket.ESTABLISHED == 4
    cli.shutdown(socket.SHUT_WR)  # the peer closes: its FIN
    assert wait_state(conn, socket.CLOSE_WAIT)
    assert conn.getsocketsta() == 7
    pair.a.drop_rx = True  # the ACK of A's FIN will be lost
    conn.shutdown(socket.SHUT_WR)  # A's FIN
    assert conn.getsocketsta() == socket.LAST_ACK == 9
    assert stays(conn, socket.LAST_ACK)
    pair.a.drop_rx = False  # A retransmits its FIN; B, in TIME_WAIT, acknowledges it
    assert wait_state(conn, socket.CLOSED, 10)
    assert wait_state(cli, socket.TIME_WAIT)
    conn.close()
    assert conn.getsocketsta() == -1
    cli.close(), srv.close()


def test_active_close_walks_syn_sent_established_fin_wait_time_wait_closed(pair):
    srv = socket.socket(stack=pair.a)
    srv.bind(("", 7101))
    srv.listen(1)
    cli = socket.socket(stack=pair.b)
    pair.a.drop_tx = True  # the SYN,ACK is lost: B stays in SYN_SENT
    cli.setblocking(False)
    try:
        cli.connect((A_IP4, 7101))
    except BlockingIOError:
        pass
    assert cli.getsocketsta() == socket.SYN_SENT == 2
    assert stays(cli, socket.SYN_SENT)
    pair.a.drop_tx = False  # B's SYN is retransmitted and answered
    assert wait_state(cli, socket.ESTABLISHED, 10)
    srv.settimeout(5)
    conn, _ = srv.accept()
    pair.a.drop_rx = True  # B's FIN does not arrive: no ACK, B stays in FIN_WAIT_1
    cli.shutdown(socket.SHUT_WR)
    assert cli.getsocketsta() == socket.FIN_WAIT_1 == 5
    assert stays(cli, socket.FIN_WAIT_1)
    pair.a.drop_rx = False
    assert wait_state(cli, socket.FIN_WAIT_2, 10)
    assert cli.getsocketsta() == 6
    assert wait_state(conn, socket.CLOSE_WAIT)
    conn.shutdown(socket.SHUT_WR)
    assert wait_state(cli, socket.TIME_WAIT)
    assert cli.getsocketsta() == 10
    assert wait_state(conn, socket.CLOSED)
    # MSL is 0.25 s here (conftest): TIME_WAIT lasts 2 * MSL.
    assert wait_state(cli, socket.CLOSED, 5)
    cli.close(), conn.close(), srv.close()
    assert cli.getsocketsta() == -1


def test_simultaneous_close_goes_through_closing(pair):
    srv = socket.socket(stack=pair.a)
    srv.bind(("", 7102))
    srv.listen(1)
    cli = socket.socket(stack=pair.b)
    cli.connect((A_IP4, 7102))
    conn, _ = srv.accept()
    # Both FINs cross: each side's FIN arrives before the ACK of its own.
    pair.a.drop_tx = True
    pair.b.drop_tx = True
    cli.shutdown(socket.SHUT_WR)
    conn.shutdown(socket.SHUT_WR)
    assert cli.getsocketsta() == conn.getsocketsta() == socket.FIN_WAIT_1
    pair.a.drop_tx = False  # A's FIN reaches B before any ACK of B's FIN
    assert wait_state(cli, socket.CLOSING, 10)
    assert cli.getsocketsta() == 8
    pair.b.drop_tx = False
    assert wait_state(cli, socket.TIME_WAIT, 10)
    assert wait_state(conn, socket.TIME_WAIT, 10)
    cli.close(), conn.close(), srv.close()


def test_getsocketsta_is_minus_one_after_close_whatever_the_state(pair):
    srv = socket.socket(stack=pair.a)
    srv.bind(("", 7103))
    srv.listen(1)
    srv.close()
    assert srv.getsocketsta() == -1
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, stack=pair.a)
    assert u.getsocketsta() == 0
    u.close()
    assert u.getsocketsta() == -1

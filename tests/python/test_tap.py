# SPDX-License-Identifier: MIT
"""ustack's Python module against the Linux kernel over a TAP device.

Runs inside a network namespace made by tests/tap/netns-run.sh (it refuses
any other: only lo may exist). The kernel side of tap0 is 198.51.100.1/24
and 2001:db8:1::1/64; the stack is .2 and ::2 (tests/tap/lib.sh's plan).
The kernel's peers are CPython's own socket module and http.server, in
this same process. Without root the tests skip; with USTACK_REQUIRE_TAP=1
or CI=true a skip is a failure.
"""
import http.server
import os
import socket as ksocket
import subprocess
import threading
import time

import pytest

from ustack import socket

from test_demo import load
from conftest import wait_state

KERNEL4, KERNEL6 = "198.51.100.1", "2001:db8:1::1"
STACK4, STACK6 = "198.51.100.2", "2001:db8:1::2"
STACK_MAC = "02:5e:10:00:00:02"


def must_run():
    return os.environ.get("USTACK_REQUIRE_TAP") == "1" or os.environ.get("CI") == "true"


def skip(reason):
    if must_run():
        pytest.fail(reason + " (USTACK_REQUIRE_TAP=1 or CI=true: the TAP tests must run)")
    pytest.skip(reason)


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def stack():
    import ustack
    if os.geteuid() != 0:
        skip("needs root (run through tests/tap/netns-run.sh)")
    links = subprocess.run(["ip", "-o", "link", "show"], stdout=subprocess.PIPE, text=True).stdout
    others = [line.split(": ")[1] for line in links.splitlines() if line.split(": ")[1] != "lo"]
    if others:
        pytest.fail("this namespace has interfaces besides lo (%s): run me through netns-run.sh" % others)
    sh("ip", "tuntap", "add", "tap0", "mode", "tap")
    sh("sysctl", "-qw", "net.ipv6.conf.tap0.accept_dad=0")
    sh("sysctl", "-qw", "net.ipv6.conf.tap0.accept_ra=0")
    sh("ip", "link", "set", "tap0", "up")
    sh("ip", "addr", "add", KERNEL4 + "/24", "dev", "tap0")
    sh("ip", "-6", "addr", "add", KERNEL6 + "/64", "dev", "tap0", "nodad")
    st = ustack.Stack(tap="tap0", ipv4=STACK4 + "/24", ipv6=STACK6 + "/64", mac=STACK_MAC)
    assert st.wait_ipv6(10), "the stack's IPv6 address did not pass DAD in 10 s"
    yield st
    st.stop()
    subprocess.run(["ip", "link", "del", "tap0"])


def kernel_connect(family, addr, port, tries=50):
    """A kernel TCP socket connected to the stack (retrying while the stack's
    listener is not up yet); bounded."""
    for _ in range(tries):
        k = ksocket.socket(family, ksocket.SOCK_STREAM)
        k.settimeout(5)
        try:
            k.connect((addr, port))
            return k
        except (ConnectionRefusedError, TimeoutError, OSError):
            k.close()
            time.sleep(0.05)
    raise AssertionError("could not connect to %s port %d" % (addr, port))


@pytest.mark.parametrize("fam", ["4", "6"])
def test_ustack_server_kernel_client(stack, fam):
    af = socket.AF_INET if fam == "4" else socket.AF_INET6
    srv = socket.socket(af, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("", 7000))
    srv.listen(1)
    srv.settimeout(10)
    k = kernel_connect(ksocket.AF_INET if fam == "4" else ksocket.AF_INET6,
                       STACK4 if fam == "4" else STACK6, 7000)
    conn, addr = srv.accept()
    assert addr[0] == (KERNEL4 if fam == "4" else KERNEL6)
    conn.settimeout(10)
    data = os.urandom(300000)
    t = threading.Thread(target=k.sendall, args=(data,))
    t.start()
    assert conn.read(len(data)) == data
    t.join(10)
    conn.sendall(b"line one\nline two\n")
    kf = k.makefile("rb")
    assert kf.readline() == b"line one\n" and kf.readline() == b"line two\n"
    k.shutdown(ksocket.SHUT_WR)
    assert conn.read() == b""
    k.close()
    conn.close()
    srv.close()


def test_ustack_client_kernel_server(stack):
    ks = ksocket.socket(ksocket.AF_INET6, ksocket.SOCK_STREAM)
    ks.setsockopt(ksocket.SOL_SOCKET, ksocket.SO_REUSEADDR, 1)
    ks.bind(("::", 7001))
    ks.listen(1)
    ks.settimeout(10)
    got = {}

    def kernel_side():
        c, _ = ks.accept()
        with c:
            f = c.makefile("rb")
            got["line"] = f.readline()
            c.sendall(got["line"].upper())
            got["rest"] = f.read()
    t = threading.Thread(target=kernel_side)
    t.start()
    s = socket.socket(socket.AF_INET)
    s.settimeout(10)
    s.connect((KERNEL4, 7001))
    s.write(b"hello kernel\n")
    assert s.readline() == b"HELLO KERNEL\n"
    s.sendall(b"x" * 200000)
    s.close()
    t.join(10)
    ks.close()
    assert got == {"line": b"hello kernel\n", "rest": b"x" * 200000}


@pytest.mark.parametrize("fam", ["4", "6"])
def test_udp_both_ways_with_the_kernel(stack, fam):
    kaf = ksocket.AF_INET if fam == "4" else ksocket.AF_INET6
    k = ksocket.socket(kaf, ksocket.SOCK_DGRAM)
    k.bind((KERNEL4 if fam == "4" else KERNEL6, 9000))
    k.settimeout(5)
    u = socket.socket(socket.AF_INET if fam == "4" else socket.AF_INET6, socket.SOCK_DGRAM)
    u.bind(("", 9001))
    u.settimeout(5)
    u.sendto(b"to the kernel", (KERNEL4 if fam == "4" else KERNEL6, 9000))
    data, addr = k.recvfrom(100)
    assert data == b"to the kernel" and addr[1] == 9001
    k.sendto(b"from the kernel " * 2000, addr)  # 32000 bytes: fragmented
    data, addr = u.recvfrom(65535)
    assert data == b"from the kernel " * 2000 and addr[1] == 9000
    k.close()
    u.close()


def test_getsocketsta_walks_the_passive_close_against_the_kernel(stack):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("", 7002))
    srv.listen(1)
    assert srv.getsocketsta() == socket.LISTEN
    k = kernel_connect(ksocket.AF_INET, STACK4, 7002)
    srv.settimeout(10)
    conn, _ = srv.accept()
    assert conn.getsocketsta() == socket.ESTABLISHED
    k.shutdown(ksocket.SHUT_WR)
    assert wait_state(conn, socket.CLOSE_WAIT)
    stack.drop_rx = True  # the kernel's ACK of our FIN is lost
    conn.shutdown(socket.SHUT_WR)
    assert conn.getsocketsta() == socket.LAST_ACK
    time.sleep(0.2)
    assert conn.getsocketsta() == socket.LAST_ACK
    stack.drop_rx = False
    assert wait_state(conn, socket.CLOSED, 10)
    conn.close()
    assert conn.getsocketsta() == -1
    k.close()
    srv.close()


def test_getsocketsta_walks_the_active_close_to_time_wait(stack):
    ks = ksocket.socket(ksocket.AF_INET, ksocket.SOCK_STREAM)
    ks.setsockopt(ksocket.SOL_SOCKET, ksocket.SO_REUSEADDR, 1)
    ks.bind((KERNEL4, 7003))
    ks.listen(1)
    s = socket.socket()
    assert s.getsocketsta() == socket.CLOSED
    s.settimeout(10)
    s.connect((KERNEL4, 7003))
    assert s.getsocketsta() == socket.ESTABLISHED
    kc, _ = ks.accept()
    s.shutdown(socket.SHUT_WR)
    assert wait_state(s, socket.FIN_WAIT_2)
    kc.close()
    assert wait_state(s, socket.TIME_WAIT)
    s.close()
    ks.close()


def test_demos_against_the_kernel(stack):
    echo = load("echo_server")
    t = threading.Thread(target=echo.serve, kwargs={"port": 7, "connections": 1}, daemon=True)
    t.start()
    k = kernel_connect(ksocket.AF_INET6, STACK6, 7)
    k.sendall(b"echo me\n")
    assert k.makefile("rb").readline() == b"echo me\n"
    k.close()
    t.join(5)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    root = os.path.join(os.environ.get("USTACK_SRCDIR", "."), "docs")
    handler = lambda *a: Quiet(*a, directory=root)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer((KERNEL4, 8000), handler)
    ht = threading.Thread(target=httpd.serve_forever, daemon=True)
    ht.start()
    http_get = load("http_get")
    status, headers, body = http_get.http_get("http://%s:8000/python.md" % KERNEL4)
    httpd.shutdown()
    httpd.server_close()
    assert status.startswith("HTTP/1.0 200")
    with open(os.path.join(root, "python.md"), "rb") as f:
        assert body == f.read()

# SPDX-License-Identifier: MIT
"""The Python demos of tools/python/ (echo server, HTTP client) between two
stacks over an in-memory link; test_tap.py runs them against the kernel."""
import importlib.util
import os
import threading

from ustack import socket

from conftest import A_IP4, A_IP6

TOOLS = os.path.join(os.environ.get("USTACK_SRCDIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                     "tools", "python")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(TOOLS, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_echo_server_echoes_over_ipv4_and_ipv6(pair):
    echo = load("echo_server")
    t = threading.Thread(target=echo.serve, kwargs={"port": 7, "stack": pair.a, "connections": 2},
                         daemon=True)
    t.start()
    for host in (A_IP4, A_IP6):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, stack=pair.b) as c:
            c.settimeout(5)
            for _ in range(50):  # the listener may not be up yet
                try:
                    c.connect((host, 7))
                    break
                except ConnectionRefusedError:
                    c.close()
                    c = socket.socket(family, stack=pair.b)
                    c.settimeout(5)
                    threading.Event().wait(0.02)
            c.sendall(b"hello " * 1000)
            c.shutdown(socket.SHUT_WR)
            assert c.read() == b"hello " * 1000
    t.join(5)
    assert not t.is_alive()


def serve_http_once(stack, port, body):
    srv = socket.socket(stack=stack)
    srv.bind(("", port))
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        with conn, srv:
            f = conn.makefile("rb")
            request = [f.readline()]
            while request[-1] not in (b"\r\n", b""):
                request.append(f.readline())
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            served.append(request)
    served = []
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, served


def test_http_client_gets_a_page(pair):
    http = load("http_get")
    body = b"ustack says hello\n" * 100
    t, served = serve_http_once(pair.a, 8080, body)
    status, headers, got = http.http_get("http://a.test:8080/page", stack=pair.b)
    t.join(5)
    assert status == "HTTP/1.0 200 OK"
    assert headers["Content-Length"] == str(len(body))
    assert got == body
    assert served[0][0] == b"GET /page HTTP/1.0\r\n"
    assert served[0][1] == b"Host: a.test:8080\r\n"

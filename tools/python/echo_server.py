#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An echo server (RFC 862) on ustack, written against the documented socket
module: one thread per connection, IPv4 and IPv6 (a dual-stack listener).

    sudo ip tuntap add tap0 mode tap && sudo ip link set tap0 up
    sudo ip addr add 198.51.100.1/24 dev tap0
    sudo PYTHONPATH=build/python python3 tools/python/echo_server.py --tap tap0
    ncat 198.51.100.2 7            # from the kernel side

Read docs/python.md.
"""
import threading

from ustack import socket


def echo(conn, addr):
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)


def serve(port=7, stack=None, connections=None):
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, stack=stack)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("", port))
    srv.listen(8)
    with srv:
        while connections is None or connections > 0:
            conn, addr = srv.accept()
            threading.Thread(target=echo, args=(conn, addr), daemon=True).start()
            connections = None if connections is None else connections - 1


if __name__ == "__main__":
    import argparse
    import ustack
    ap = argparse.ArgumentParser(description="TCP echo server on ustack")
    ap.add_argument("--tap", default="tap0")
    ap.add_argument("--ip4", default="198.51.100.2/24")
    ap.add_argument("--ip6", default="2001:db8:1::2/64")
    ap.add_argument("--pcap")
    ap.add_argument("--port", type=int, default=7)
    ap.add_argument("--log", choices=["info", "state", "drop", "debug"])
    a = ap.parse_args()
    with ustack.Stack(tap=a.tap, ipv4=a.ip4, ipv6=a.ip6, pcap=a.pcap, log=a.log):
        print(f"echo server on port {a.port} ({a.tap}); Ctrl-C stops it", flush=True)
        try:
            serve(a.port)
        except KeyboardInterrupt:
            pass

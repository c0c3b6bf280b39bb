#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An HTTP/1.0 client on ustack, written against the documented socket
module: getaddrinfo, connect, sendall, and a makefile('rb') to read the
status line, the headers and the body (RFC 9112 §4-§6; no redirects).

    sudo PYTHONPATH=build/python python3 tools/python/http_get.py \\
        --tap tap1 --ip4 198.51.100.3/24 http://198.51.100.1:8000/

Read docs/python.md.
"""
from urllib.parse import urlsplit

from ustack import socket


def http_get(url, stack=None, timeout=10):
    u = urlsplit(url)
    family, type_, proto, _, addr = socket.getaddrinfo(u.hostname, u.port or 80, stack=stack)[0]
    with socket.socket(family, type_, proto, stack=stack) as s:
        s.settimeout(timeout)
        s.connect(addr)
        s.sendall(b"GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % ((u.path or "/").encode(), u.netloc.encode()))
        f = s.makefile("rb")
        status = f.readline().decode().rstrip()
        headers = dict(line.decode().rstrip().split(": ", 1) for line in iter(f.readline, b"\r\n"))
        return status, headers, f.read()


if __name__ == "__main__":
    import argparse
    import sys
    import ustack
    ap = argparse.ArgumentParser(description="HTTP GET through ustack")
    ap.add_argument("url")
    ap.add_argument("--tap", default="tap1")
    ap.add_argument("--ip4", default="198.51.100.3/24")
    ap.add_argument("--ip6", default=None)
    ap.add_argument("--gw4")
    ap.add_argument("--dns")
    ap.add_argument("--pcap")
    a = ap.parse_args()
    with ustack.Stack(tap=a.tap, ipv4=a.ip4, ipv6=a.ip6, gateway=a.gw4, dns=a.dns, pcap=a.pcap):
        status, headers, body = http_get(a.url)
        print(status, file=sys.stderr)
        sys.stdout.buffer.write(body)

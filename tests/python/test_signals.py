# SPDX-License-Identifier: MIT
"""Ctrl-C: SIGINT to a process blocked in a call raises KeyboardInterrupt
there (the module waits in slices and runs the signal handlers between
them, docs/python.md). Each case runs in a subprocess that says "blocked"
and then blocks; the test sends it SIGINT."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

CHILD = textwrap.dedent("""\
    import sys, time
    import ustack
    from ustack import select, socket
    la, lb = ustack.link_pair()
    a = ustack.Stack(link=la, ipv4="198.51.100.2/24", ipv6=None, dad=False)
    b = ustack.Stack(link=lb, ipv4="198.51.100.3/24", ipv6=None, dad=False)
    srv = socket.socket(stack=a)
    srv.bind(("", 7))
    srv.listen()
    cli = socket.socket(stack=b)
    cli.connect(("198.51.100.2", 7))
    conn, _ = srv.accept()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, stack=a)
    u.bind(("", 9))
    p = select.poll()
    p.register(conn, select.POLLIN)
    calls = {
        "recv": lambda: conn.recv(10),
        "read": lambda: conn.read(10),
        "readline": conn.readline,
        "accept": srv.accept,
        "recvfrom_udp": lambda: u.recvfrom(10),
        "recv_with_timeout": lambda: (conn.settimeout(60), conn.recv(10)),
        "poll": lambda: p.poll(-1),
        "makefile_read": lambda: conn.makefile("rb").read(10),
    }
    print("blocked", flush=True)
    t0 = time.monotonic()
    try:
        calls[sys.argv[1]]()
    except KeyboardInterrupt:
        print("interrupted after %.3f s" % (time.monotonic() - t0), flush=True)
        conn.close()
        sys.exit(0)
    print("returned", flush=True)
    sys.exit(1)
    """)


@pytest.mark.parametrize("call", ["recv", "read", "readline", "accept", "recvfrom_udp",
                                  "recv_with_timeout", "poll", "makefile_read"])
def test_sigint_interrupts_a_blocking_call(call, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    p = subprocess.Popen([sys.executable, str(script), call], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert p.stdout.readline().strip() == "blocked"
        time.sleep(0.3)  # well inside the call
        assert p.poll() is None
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, (out, err)
    assert out.startswith("interrupted"), (out, err)

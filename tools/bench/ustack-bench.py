#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ustack-bench: ustack against the Linux kernel and the TAP device's own
ceiling, side by side in one run (issue 9; docs/benchmarks.md).

    sudo tools/bench/ustack-bench.py --bin-dir BUILD/tools/bench [--quick]
         [--runs N] [--out FILE] [--compare SAVED] [--only GROUP,...] [--offload]
         [--busy-poll US] [--bp-budget US]

It makes its own network namespaces and devices (names ustack-bench-PID-*,
addresses 198.51.100.0/24 only; no traffic leaves them):
  tap   a TAP device, the kernel at .1 (and .101-.116 as client sources),
        ustack (bench-upeer) at .2;
  tapbp the same as tap, with a second bench-upeer that busy-polls
        (--busy-poll BP-BUDGET, idle but for the rr group's *.bp figures);
  ceil  the same with the TAP ceiling (bench-tapceil) at .2;
  k1/k2 a veth pair, the kernel at .1 and the kernel's bench-kpeer server at
        .2: the kernel-to-kernel reference.
It runs every figure RUNS times (interleaved), tears everything down (also
on an error or SIGINT/SIGTERM), and prints one table of medians, min-max and
ratios to the references measured in the same run; the table also goes to
FILE. --compare SAVED flags every figure more than 10% worse than in SAVED
(a table this tool wrote) and exits 3 when there is one. Exit 77 (skip)
without root, ip(8) or /dev/net/tun.

Groups: core (two stacks in one process, no syscalls), bulk, short, rr
(request/response and ICMP echo), udp. Every client is bounded in time by
its own arguments and by a subprocess timeout here.

Read bench_server.h (the services) and bench-kpeer.c (the clients) first.
"""

import argparse
import atexit
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

NET = "198.51.100"
KERNEL_IP = NET + ".1"
PEER_IP = NET + ".2"
SRC_IPS = [f"{NET}.{101 + i}" for i in range(16)]
USTACK_MAC = "02:5e:10:00:00:02"
PORT_SINK, PORT_SOURCE, PORT_SHORT, PORT_ECHO, PORT_UDP_SINK, PORT_UDP_SOURCE = range(5001, 5007)
# The same services on ustack's event callbacks (bench_callbacks.h).
CALLBACK_PORT_OFFSET = 100

# key: (group, label, unit, higher_is_better, reference key or number, target factor, target text)
FIGURES = [
    ("core.gbps", "core", "core alone: 1 GB bulk, MTU 1500, one thread", "Gbit/s", True, 10.0, 1.0, ">= 10 Gbit/s"),
    ("core.cpu", "core", "core alone: CPU time per byte", "ns/B", False, None, None, ""),
    ("core.gbps9k", "core", "core alone: 1 GB bulk, MTU 9000", "Gbit/s", True, None, None, ""),
    ("core.rss", "core", "idle connection: RSS per endpoint (10,000 conns)", "B", False, 2048.0, 1.0, "<= 2 KB"),
    ("core.heap", "core", "idle connection: heap reserved per endpoint", "B", False, 2048.0, 1.0, "<= 2 KB (buffers on demand)"),
    ("bulk.ceil_rx", "bulk", "TAP ceiling: kernel -> hand-built ACKer", "Gbit/s", True, None, None, ""),
    ("bulk.ceil_tx", "bulk", "TAP ceiling: hand-built sender -> kernel", "Gbit/s", True, None, None, ""),
    ("bulk.k2u", "bulk", "bulk TCP kernel -> ustack, TAP, MTU 1500", "Gbit/s", True, "bulk.ceil_rx", 0.8, ">= 0.8x ceiling"),
    ("bulk.u2k", "bulk", "bulk TCP ustack -> kernel, TAP, MTU 1500", "Gbit/s", True, "bulk.ceil_tx", 0.8, ">= 0.8x ceiling"),
    ("bulk.k2u.cb", "bulk", "bulk TCP kernel -> ustack, TAP, MTU 1500, callbacks, zero-copy reads", "Gbit/s", True, "bulk.ceil_rx", 0.9, ">= 0.9x ceiling"),
    ("bulk.u2k.cb", "bulk", "bulk TCP ustack -> kernel, TAP, MTU 1500, callbacks", "Gbit/s", True, "bulk.ceil_tx", 0.9, ">= 0.9x ceiling"),
    ("bulk.veth", "bulk", "bulk TCP kernel -> kernel, veth, MTU 1500", "Gbit/s", True, None, None, ""),
    ("short.u1", "short", "short connections/s, 1 client -> ustack", "conn/s", True, "short.k1", 0.7, ">= 0.7x kernel"),
    ("short.k1", "short", "short connections/s, 1 client -> kernel (veth)", "conn/s", True, None, None, ""),
    ("short.u16", "short", "short connections/s, 16 clients -> ustack", "conn/s", True, "short.k16", 0.7, ">= 0.7x kernel"),
    ("short.k16", "short", "short connections/s, 16 clients -> kernel (veth)", "conn/s", True, None, None, ""),
    ("short.c1", "short", "short connections/s, 1 client -> ustack callbacks", "conn/s", True, "short.k1", 1.2, ">= 1.2x kernel"),
    ("short.c16", "short", "short connections/s, 16 clients -> ustack callbacks", "conn/s", True, "short.k16", 1.2, ">= 1.2x kernel"),
    ("rr.u", "rr", "TCP 1-byte ping-pong, median, ustack", "us", False, "rr.k", 2.0, "<= 2x kernel"),
    ("rr.u.bp", "rr", "TCP 1-byte ping-pong, median, ustack busy-polling", "us", False, "rr.k", 2.0, "<= 2x kernel"),
    ("rr.c", "rr", "TCP 1-byte ping-pong, median, ustack callbacks", "us", False, "rr.k", 2.0, "<= 2x kernel"),
    ("rr.k", "rr", "TCP 1-byte ping-pong, median, kernel (veth)", "us", False, None, None, ""),
    ("rr.u99", "rr", "TCP 1-byte ping-pong, p99, ustack", "us", False, "rr.k99", None, ""),
    ("rr.u99.bp", "rr", "TCP 1-byte ping-pong, p99, ustack busy-polling", "us", False, "rr.k99", None, ""),
    ("rr.c99", "rr", "TCP 1-byte ping-pong, p99, ustack callbacks", "us", False, "rr.k99", None, ""),
    ("rr.k99", "rr", "TCP 1-byte ping-pong, p99, kernel (veth)", "us", False, None, None, ""),
    ("rr.cpu", "rr", "ping-pong: ustack's CPU time per exchange", "us", False, None, None, ""),
    ("rr.cpu.bp", "rr", "ping-pong: ustack's CPU time per exchange, busy-polling", "us", False, "rr.cpu", None, ""),
    ("icmp.u", "rr", "ICMP echo RTT, median, ustack", "us", False, "icmp.k", None, ""),
    ("icmp.u.bp", "rr", "ICMP echo RTT, median, ustack busy-polling", "us", False, "icmp.k", None, ""),
    ("icmp.k", "rr", "ICMP echo RTT, median, kernel (veth)", "us", False, None, None, ""),
    ("icmp.u99", "rr", "ICMP echo RTT, p99, ustack", "us", False, "icmp.k99", None, ""),
    ("icmp.u99.bp", "rr", "ICMP echo RTT, p99, ustack busy-polling", "us", False, "icmp.k99", None, ""),
    ("icmp.k99", "rr", "ICMP echo RTT, p99, kernel (veth)", "us", False, None, None, ""),
    ("icmp.cpu", "rr", "ICMP echo: ustack's CPU time per echo", "us", False, None, None, ""),
    ("icmp.cpu.bp", "rr", "ICMP echo: ustack's CPU time per echo, busy-polling", "us", False, "icmp.cpu", None, ""),
    ("udp.k2u.64", "udp", "UDP 64 B kernel -> ustack, received", "dgram/s", True, "udp.vs.64", None, ""),
    ("udp.u2k.64", "udp", "UDP 64 B ustack -> kernel, received", "dgram/s", True, "udp.vr.64", None, ""),
    ("udp.vs.64", "udp", "UDP 64 B kernel -> kernel (veth)", "dgram/s", True, None, None, ""),
    ("udp.vr.64", "udp", "UDP 64 B kernel server -> kernel (veth)", "dgram/s", True, None, None, ""),
    ("udp.k2u.1400", "udp", "UDP 1400 B kernel -> ustack, received", "dgram/s", True, "udp.vs.1400", None, ""),
    ("udp.u2k.1400", "udp", "UDP 1400 B ustack -> kernel, received", "dgram/s", True, "udp.vr.1400", None, ""),
    ("udp.vs.1400", "udp", "UDP 1400 B kernel -> kernel (veth)", "dgram/s", True, None, None, ""),
    ("udp.vr.1400", "udp", "UDP 1400 B kernel server -> kernel (veth)", "dgram/s", True, None, None, ""),
]
FIG = {f[0]: f for f in FIGURES}
GROUPS = ["core", "bulk", "short", "rr", "udp"]


class Skip(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.a = args
        self.bin = args.bin_dir
        self.tag = f"ustack-bench-{os.getpid()}"
        self.ns = {k: f"{self.tag}-{k}" for k in ("tap", "tapbp", "ceil", "k1", "k2")}
        self.procs = []
        self.made_ns = []
        self.results = {}  # key -> list of values
        self.notes = []
        self.logdir = args.out + ".logs"
        os.makedirs(self.logdir, exist_ok=True)

    # ---- plumbing -------------------------------------------------------
    def sh(self, *cmd, check=True, timeout=30):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
        return r

    def nsx(self, ns, *cmd, **kw):
        return self.sh("ip", "netns", "exec", self.ns[ns], *cmd, **kw)

    def start(self, ns, name, *cmd, ready=None):
        log = open(os.path.join(self.logdir, name + ".log"), "w")
        p = subprocess.Popen(("ip", "netns", "exec", self.ns[ns]) + cmd, stdout=log,
                             stderr=subprocess.STDOUT, text=True)
        self.procs.append((p, name))
        if ready:
            end = time.monotonic() + 10
            while time.monotonic() < end:
                with open(log.name) as f:
                    if ready in f.read():
                        return p
                if p.poll() is not None:
                    break
                time.sleep(0.05)
            with open(log.name) as f:
                raise RuntimeError(f"{name} did not come up: {f.read()[-2000:]}")
        return p

    def stop_all(self):
        for p, _ in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, name in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        self.procs = []
        for ns in self.made_ns:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        self.made_ns = []

    def remove_stale(self):
        """Namespaces of an earlier run of this tool whose process is gone."""
        r = self.sh("ip", "netns", "list", check=False)
        for line in r.stdout.splitlines():
            m = re.match(r"(ustack-bench-(\d+)-\w+)", line)
            if m and not os.path.exists(f"/proc/{m.group(2)}"):
                subprocess.run(["ip", "netns", "delete", m.group(1)], capture_output=True)

    def setup(self):
        if os.geteuid() != 0:
            raise Skip("needs root to create network namespaces and TAP devices")
        if not shutil.which("ip") or not os.path.exists("/dev/net/tun"):
            raise Skip("needs ip(8) and /dev/net/tun")
        for b in ("bench-upeer", "bench-kpeer", "bench-tapceil", "bench-core"):
            if not os.access(os.path.join(self.bin, b), os.X_OK):
                raise RuntimeError(f"{b} is not built in {self.bin}")
        self.remove_stale()
        for k, ns in self.ns.items():
            self.sh("ip", "netns", "add", ns)
            self.made_ns.append(ns)
            self.nsx(k, "ip", "link", "set", "lo", "up")
        for k in ("tap", "tapbp", "ceil"):
            self.nsx(k, "ip", "tuntap", "add", "ubtap0", "mode", "tap")
            self.nsx(k, "sysctl", "-qw", "net.ipv6.conf.ubtap0.disable_ipv6=1")
            self.nsx(k, "ip", "link", "set", "ubtap0", "up")
            self.nsx(k, "ip", "addr", "add", KERNEL_IP + "/24", "dev", "ubtap0")
        for ip in SRC_IPS:
            self.nsx("tap", "ip", "addr", "add", ip + "/24", "dev", "ubtap0")
        v0, v1 = f"ubv{os.getpid()}a"[-15:], f"ubv{os.getpid()}b"[-15:]
        self.sh("ip", "link", "add", v0, "netns", self.ns["k1"], "type", "veth", "peer", "name",
                v1, "netns", self.ns["k2"])
        self.nsx("k1", "ip", "link", "set", v0, "name", "ubveth0")
        self.nsx("k2", "ip", "link", "set", v1, "name", "ubveth0")
        for k, ip in (("k1", KERNEL_IP), ("k2", PEER_IP)):
            self.nsx(k, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            self.nsx(k, "ip", "link", "set", "ubveth0", "up")
            self.nsx(k, "ip", "addr", "add", ip + "/24", "dev", "ubveth0")
        for ip in SRC_IPS:
            self.nsx("k1", "ip", "addr", "add", ip + "/24", "dev", "ubveth0")
        limit = str(int(self.total_seconds_bound()))
        self.upeer = self.start("tap", "bench-upeer", os.path.join(self.bin, "bench-upeer"),
                                "--tap", "ubtap0", "--ip4", PEER_IP + "/24", "--ip6", "none",
                                "--mac", USTACK_MAC, "--log", "quiet", "--counters",
                                "--duration", limit, *(["--offload"] if self.a.offload else []),
                                *(["--busy-poll", str(self.a.busy_poll)] if self.a.busy_poll else []),
                                ready="bench-upeer ready")
        self.upeer_bp = self.start("tapbp", "bench-upeer-bp",
                                   os.path.join(self.bin, "bench-upeer"), "--tap", "ubtap0",
                                   "--ip4", PEER_IP + "/24", "--ip6", "none", "--mac", USTACK_MAC,
                                   "--log", "quiet", "--duration", limit,
                                   *(["--offload"] if self.a.offload else []),
                                   "--busy-poll", str(self.a.bp_budget),
                                   ready="bench-upeer ready")
        self.start("ceil", "bench-tapceil", os.path.join(self.bin, "bench-tapceil"), "--tap",
                   "ubtap0", "--ip4", PEER_IP, "--duration", limit, ready="bench-tapceil ready")
        self.start("k2", "bench-kpeer-serve", os.path.join(self.bin, "bench-kpeer"), "serve",
                   limit, ready="bench-kpeer ready")
        # The first exchange resolves ARP; wait until every peer answers.
        for k in ("tap", "tapbp", "ceil", "k1"):
            ok = any(self.nsx(k, "ping", "-n", "-c", "1", "-W", "1", PEER_IP,
                              check=False).returncode == 0 for _ in range(10))
            if not ok:
                raise RuntimeError(f"no answer to ping from {PEER_IP} in {self.ns[k]}")

    def total_seconds_bound(self):
        return 1800

    # ---- one measurement ------------------------------------------------
    def kpeer(self, ns, *args, secs):
        cmd = [os.path.join(self.bin, "bench-kpeer")] + [str(x) for x in args]
        r = self.nsx(ns, *cmd, check=False, timeout=secs + 40)
        m = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
        if r.returncode != 0 or not m:
            raise RuntimeError(f"bench-kpeer {' '.join(map(str, args))}: "
                               f"{(r.stderr or r.stdout).strip()[-500:]}")
        if r.stderr.strip():
            self.note(f"bench-kpeer {' '.join(map(str, args))}: {r.stderr.strip()[-300:]}")
        return dict(kv.split("=", 1) for kv in m[-1].split()[1:])

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)
            print("  note: " + text, file=sys.stderr)

    def record(self, key, value):
        self.results.setdefault(key, []).append(float(value))
        print(f"  {key:14} {float(value):12.3f} {FIG[key][3]}", file=sys.stderr)

    def attempt(self, key, fn):
        try:
            fn()
        except Exception as e:  # one figure failing leaves the others
            self.note(f"{key}: failed: {e}")

    def ping(self, ns):
        n = self.a.ping_count
        r = self.nsx(ns, "ping", "-n", "-c", str(n), "-i", "0.002", "-W", "1", "-w",
                     str(max(5, n // 100)), PEER_IP, check=False, timeout=60)
        t = sorted(float(x) * 1000 for x in re.findall(r"time=([\d.]+) ms", r.stdout))
        if len(t) < n // 2:
            raise RuntimeError(f"ping: {len(t)} of {n} replies")
        return statistics.median(t), t[min(len(t) - 1, len(t) * 99 // 100)], len(t)

    # ---- groups ----------------------------------------------------------
    def run_core(self):
        core = os.path.join(self.bin, "bench-core")

        def bulk(key, mtu):
            r = self.sh(core, "bulk", "--bytes", str(self.a.core_bytes), "--mtu", str(mtu),
                        timeout=200)
            kv = dict(x.split("=", 1) for x in r.stdout.split()[1:])
            self.record(key, kv["gbps"])
            if mtu == 1500:
                self.record("core.cpu", kv["cpu_ns_per_byte"])
            if int(kv["dropped"]):
                self.note(f"core bulk MTU {mtu}: {kv['dropped']} frames dropped by the cable")

        def idle():
            r = self.sh(core, "idle", "--conns", str(self.a.conns), timeout=300)
            kv = dict(x.split("=", 1) for x in r.stdout.split()[1:])
            self.record("core.rss", kv["rss_per_endpoint"])
            self.record("core.heap", kv["heap_per_endpoint"])

        self.attempt("core.gbps", lambda: bulk("core.gbps", 1500))
        self.attempt("core.gbps9k", lambda: bulk("core.gbps9k", 9000))
        self.attempt("core.rss", idle)

    def run_bulk(self):
        s = self.a.bulk_secs
        for key, ns, mode, port in (("bulk.ceil_rx", "ceil", "send", PORT_SINK),
                                    ("bulk.ceil_tx", "ceil", "recv", PORT_SOURCE),
                                    ("bulk.k2u", "tap", "send", PORT_SINK),
                                    ("bulk.u2k", "tap", "recv", PORT_SOURCE),
                                    ("bulk.k2u.cb", "tap", "send", PORT_SINK + CALLBACK_PORT_OFFSET),
                                    ("bulk.u2k.cb", "tap", "recv", PORT_SOURCE + CALLBACK_PORT_OFFSET),
                                    ("bulk.veth", "k1", "send", PORT_SINK)):
            self.attempt(key, lambda: self.record(
                key, self.kpeer(ns, mode, PEER_IP, port, s, secs=s)["gbps"]))

    def run_short(self):
        s = self.a.short_secs
        src = ",".join(SRC_IPS)
        cb = PORT_SHORT + CALLBACK_PORT_OFFSET
        for key, ns, par, port in (("short.u1", "tap", 1, PORT_SHORT), ("short.k1", "k1", 1, PORT_SHORT),
                                   ("short.c1", "tap", 1, cb),
                                   ("short.u16", "tap", 16, PORT_SHORT), ("short.k16", "k1", 16, PORT_SHORT),
                                   ("short.c16", "tap", 16, cb)):
            def one():
                r = self.kpeer(ns, "short", PEER_IP, port, s, par, src, secs=s)
                if int(r["errors"]):
                    self.note(f"{key}: {r['errors']} of {int(r['conns']) + int(r['errors'])} "
                              "connections failed")
                self.record(key, r["cps"])
            self.attempt(key, one)

    def run_rr(self):
        s = self.a.rr_secs
        # (median key, p99 key, CPU key, namespace, the server process or None)
        for rr, rr99, rrcpu, icmp, icmp99, icmpcpu, ns, proc in (
                ("rr.u", "rr.u99", "rr.cpu", "icmp.u", "icmp.u99", "icmp.cpu", "tap", self.upeer),
                ("rr.u.bp", "rr.u99.bp", "rr.cpu.bp", "icmp.u.bp", "icmp.u99.bp", "icmp.cpu.bp",
                 "tapbp", self.upeer_bp),
                ("rr.k", "rr.k99", None, "icmp.k", "icmp.k99", None, "k1", None)):
            def one():
                c0 = cpu_seconds(proc)
                r = self.kpeer(ns, "rr", PEER_IP, PORT_ECHO, s, secs=s)
                self.record(rr, r["median_us"])
                self.record(rr99, r["p99_us"])
                if rrcpu and c0 is not None:
                    self.record(rrcpu, (cpu_seconds(proc) - c0) * 1e6 / (int(r["count"]) + 100))

            # The echo thread ends with its connection: whole-process
            # times. ICMP is the stack thread's alone: precise times.
            def echo():
                c0 = live_thread_cpu_seconds(proc)
                med, p99, n = self.ping(ns)
                self.record(icmp, med)
                self.record(icmp99, p99)
                if icmpcpu and c0 is not None:
                    self.record(icmpcpu, (live_thread_cpu_seconds(proc) - c0) * 1e6 / n)
            self.attempt(rr, one)
            self.attempt(icmp, echo)

        # The echo on event callbacks, without busy polling.
        def callbacks():
            r = self.kpeer("tap", "rr", PEER_IP, PORT_ECHO + CALLBACK_PORT_OFFSET, s, secs=s)
            self.record("rr.c", r["median_us"])
            self.record("rr.c99", r["p99_us"])
        self.attempt("rr.c", callbacks)

    def run_udp(self):
        s = self.a.udp_secs
        for size in (64, 1400):
            for key, ns, mode, port in ((f"udp.k2u.{size}", "tap", "udp-send", PORT_UDP_SINK),
                                        (f"udp.u2k.{size}", "tap", "udp-recv", PORT_UDP_SOURCE),
                                        (f"udp.vs.{size}", "k1", "udp-send", PORT_UDP_SINK),
                                        (f"udp.vr.{size}", "k1", "udp-recv", PORT_UDP_SOURCE)):
                self.attempt(key, lambda: self.record(
                    key, self.kpeer(ns, mode, PEER_IP, port, size, s, secs=s)["pps"]))

    def run(self):
        groups = [g for g in GROUPS if g in self.a.only]
        t0 = time.monotonic()
        if "core" in groups:
            for r in range(self.a.runs):
                print(f"core, run {r + 1}/{self.a.runs}", file=sys.stderr)
                self.run_core()
        net = [g for g in groups if g != "core"]
        if net:
            self.setup()
            for r in range(self.a.runs):
                for g in net:
                    print(f"{g}, run {r + 1}/{self.a.runs}", file=sys.stderr)
                    getattr(self, "run_" + g)()
            if not self.upeer.poll() is None:
                self.note(f"bench-upeer ended early (status {self.upeer.returncode}); "
                          f"see {self.logdir}/bench-upeer.log")
        self.elapsed = time.monotonic() - t0

    # ---- the table --------------------------------------------------------
    def table(self):
        lines = []
        mode = "quick" if self.a.quick else "full"
        lines.append(f"ustack benchmarks, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
                     f", {mode} run: {self.a.runs} run(s) per figure, medians with min-max; "
                     f"took {self.elapsed:.0f} s")
        lines.append(f"machine: {machine()}")
        lines.append(f"commit: {commit()}")
        lines.append("ustack over TAP: " + ("offloads asked for (--offload: virtio-net header, "
                                            "TSO, checksum offload)" if self.a.offload
                                            else "plain frames (no offloads)") +
                     (f"; busy polling {self.a.busy_poll} us" if self.a.busy_poll
                      else "; no busy polling") +
                     f" (the *.bp figures: {self.a.bp_budget} us)")
        lines.append(f"bulk {self.a.bulk_secs:g} s, short {self.a.short_secs:g} s, rr "
                     f"{self.a.rr_secs:g} s, udp {self.a.udp_secs:g} s, ping {self.a.ping_count}"
                     f" echoes, core {self.a.core_bytes} bytes, idle {self.a.conns} connections")
        lines.append("")
        head = ["key", "figure", "median", "min-max", "unit", "ratio", "target", "met"]
        rows = []
        for key, group, label, unit, hib, ref, factor, ttext in FIGURES:
            if group not in self.a.only:
                continue
            v = self.results.get(key)
            if not v:
                rows.append([key, label, "failed", "", unit, "", ttext, ""])
                continue
            med = statistics.median(v)
            ratio, met = "", ""
            if isinstance(ref, str) and self.results.get(ref):
                rm = statistics.median(self.results[ref])
                if rm:
                    r = med / rm
                    ratio = f"{r:.2f}x {ref}"
                    if factor is not None:
                        met = "yes" if (r >= factor if hib else r <= factor) else "NO"
            elif isinstance(ref, float):
                met = "yes" if (med >= ref if hib else med <= ref) else "NO"
            rows.append([key, label, fmt(med), f"{fmt(min(v))}-{fmt(max(v))}", unit, ratio,
                         ttext, met])
        w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
        sep = "|" + "|".join("-" * (x + 2) for x in w) + "|"
        fmtrow = lambda r: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"
        lines += [fmtrow(head), sep] + [fmtrow(r) for r in rows]
        if self.notes:
            lines.append("")
            lines += ["note: " + n for n in self.notes]
        return "\n".join(lines) + "\n"


def cpu_seconds(proc):
    """CPU time of a running process, all its threads, those that have
    ended included (utime + stime of /proc/PID/stat; clock-tick resolution,
    10 ms), or None. proc is the `ip netns exec` Popen, which execs the
    program."""
    if proc is None:
        return None
    try:
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def live_thread_cpu_seconds(proc):
    """CPU time of the threads a process has now (the sum of their
    /proc/PID/task/TID/schedstat run times, in ns), or None: precise, but
    blind to threads that end meanwhile (a connection's thread)."""
    if proc is None:
        return None
    total = 0
    try:
        for tid in os.listdir(f"/proc/{proc.pid}/task"):
            with open(f"/proc/{proc.pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


def fmt(x):
    if x >= 1000:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if x >= 0.01 else f"{x:.2g}"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}"


def commit():
    if os.environ.get("USTACK_BENCH_COMMIT"):
        return os.environ["USTACK_BENCH_COMMIT"]
    r = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe",
                        "--always", "--dirty"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def read_table(path):
    """key -> median from a table this tool wrote."""
    out = {}
    with open(path) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 5 and cells[0] in FIG:
                try:
                    out[cells[0]] = float(cells[2])
                except ValueError:
                    pass
    return out


def compare(old_path, new_path):
    old, new = read_table(old_path), read_table(new_path)
    worse = []
    for key, nv in new.items():
        if key not in old or old[key] == 0:
            continue
        ov, hib = old[key], FIG[key][4]
        change = (nv - ov) / ov
        if (hib and change < -0.10) or (not hib and change > 0.10):
            worse.append(f"WORSE {key}: {fmt(ov)} -> {fmt(nv)} {FIG[key][3]} ({change:+.0%})")
    text = f"compared with {old_path}: " + (
        f"{len(worse)} figure(s) worse by more than 10%\n" + "\n".join(worse) if worse
        else "no figure worse by more than 10%")
    return text + "\n", bool(worse)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--bin-dir", default=os.environ.get("USTACK_BENCH_BIN"),
                   help="where bench-upeer, bench-kpeer, bench-tapceil and bench-core are "
                        "(BUILD/tools/bench)")
    p.add_argument("--quick", action="store_true", help="one short run of everything (~40 s)")
    p.add_argument("--runs", type=int, help="runs per figure (default 3, quick 1)")
    p.add_argument("--out", default="ustack-bench.txt", help="the table also goes here")
    p.add_argument("--compare", metavar="SAVED", help="flag figures >10%% worse than SAVED")
    p.add_argument("--only", default=",".join(GROUPS), help="groups: " + ",".join(GROUPS))
    p.add_argument("--offload", action="store_true",
                   help="run bench-upeer with --offload (TAP offloads: TSO, checksum offload; "
                        "docs/performance.md); run with and without to compare")
    p.add_argument("--busy-poll", type=int, default=0, metavar="US",
                   help="run bench-upeer (every ustack figure) with --busy-poll US "
                        "(docs/performance.md); default 0: off")
    p.add_argument("--bp-budget", type=int, default=50, metavar="US",
                   help="the busy-poll budget of the second ustack server, measured in the "
                        "rr group's *.bp figures (default 50)")
    a = p.parse_args()
    if not a.bin_dir:
        p.error("--bin-dir BUILD/tools/bench is needed (or USTACK_BENCH_BIN)")
    a.only = [g.strip() for g in a.only.split(",") if g.strip()]
    bad = [g for g in a.only if g not in GROUPS]
    if bad:
        p.error("unknown group: " + ",".join(bad))
    if not 0 <= a.busy_poll <= 1000000 or not 1 <= a.bp_budget <= 1000000:
        p.error("busy-poll budgets are microseconds, at most 1000000 (--bp-budget at least 1)")
    q = a.quick
    a.runs = max(1, min(a.runs or (1 if q else 3), 20))
    a.bulk_secs = 2 if q else 10
    a.short_secs = 1 if q else 2
    a.rr_secs = 1 if q else 2
    a.udp_secs = 1 if q else 1.5
    a.ping_count = 100 if q else 500
    a.core_bytes = 100_000_000 if q else 1_000_000_000
    a.conns = 1000 if q else 10000

    b = Bench(a)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    atexit.register(b.stop_all)
    try:
        b.run()
    except Skip as e:
        print(f"ustack-bench: SKIP: {e}")
        return 77
    except KeyboardInterrupt:
        print("ustack-bench: interrupted; cleaning up", file=sys.stderr)
        b.stop_all()
        return 130
    except Exception as e:
        print(f"ustack-bench: {e}", file=sys.stderr)
        b.stop_all()
        return 1
    finally:
        b.stop_all()
    text = b.table()
    with open(a.out, "w") as f:
        f.write(text)
    with open(a.out + ".json", "w") as f:
        json.dump({"results": b.results, "notes": b.notes}, f, indent=1)
    print(text, end="")
    print(f"(table written to {a.out}; logs in {b.logdir})")
    if a.compare:
        msg, worse = compare(a.compare, a.out)
        print(msg, end="")
        if worse:
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())

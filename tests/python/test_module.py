# SPDX-License-Identifier: MIT
"""The module itself: the spec's examples, constants, names, errors of every
call that needs no peer, Stack's configuration, getaddrinfo, options."""
import errno
import struct
import textwrap

import pytest

import ustack
from ustack import _ustack, socket, usocket

from conftest import A_IP4, A_IP6, B_IP4, B_IP6


def test_spec_examples_run_as_written_with_only_the_import_adapted(pair):
    # ../shared/spec/socket-module.zh.md, its examples in order; the
    # original's first line is `import socket`.
    src = textwrap.dedent("""\
        from ustack import socket, usocket
        # 创建基于TCP的流式套接字
        socket = socket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
        # 创建基于UDP的数据报套接字
        socket = socket.socket(usocket.AF_INET, usocket.SOCK_DGRAM)
        socket.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, 1)
        """)
    env = {}
    exec(compile(src, "spec-example", "exec"), env)
    s = env["socket"]
    assert s.type == usocket.SOCK_DGRAM
    assert s.getsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR) == 1
    s.close()


def test_usocket_is_the_same_module_under_micropythons_name():
    import ustack.usocket
    import ustack.uselect
    assert usocket is socket
    assert ustack.usocket is socket
    assert ustack.uselect is ustack.select


def test_constants_have_the_documented_values():
    assert (socket.AF_INET, socket.AF_INET6) == (2, 10)
    assert (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW) == (1, 2, 3)
    assert (socket.IPPROTO_TCP, socket.IPPROTO_UDP) == (6, 17)
    assert (socket.SOL_SOCKET, socket.SO_REUSEADDR) == (1, 2)
    names = ["CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
             "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"]
    assert list(socket.TCP_STATE_NAMES) == names
    for i, n in enumerate(names):
        assert getattr(socket, n) == i
        assert ustack.state_name(i) == n
    with pytest.raises(ValueError):
        ustack.state_name(11)
    assert socket.timeout is TimeoutError and socket.error is OSError
    assert issubclass(socket.gaierror, OSError)


def test_socket_defaults_to_a_tcp_socket_on_the_default_stack(pair):
    s = socket.socket()
    assert (s.family, s.type, s.proto) == (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    assert s.stack is pair.a and ustack.default_stack() is pair.a
    assert s.getsocketsta() == socket.CLOSED
    s.close()
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, stack=pair.b)
    assert u.proto == socket.IPPROTO_UDP and u.stack is pair.b
    assert u.getsocketsta() == 0  # not TCP
    u.close()
    t = socket.socket(af=socket.AF_INET, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    t.close()


def test_socket_without_a_running_stack_fails_with_enetdown():
    _ustack.stop_all()
    with pytest.raises(OSError) as e:
        socket.socket()
    assert e.value.errno == errno.ENETDOWN
    with pytest.raises(OSError) as e:
        socket.getaddrinfo("198.51.100.2", 7)
    assert e.value.errno == errno.ENETDOWN


@pytest.mark.parametrize("af,type_,proto,err", [
    (99, socket.SOCK_STREAM, 0, errno.EAFNOSUPPORT),
    (socket.AF_INET, 99, 0, errno.ESOCKTNOSUPPORT),
    (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_UDP, errno.EPROTONOSUPPORT),
    (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_TCP, errno.EPROTONOSUPPORT),
])
def test_socket_refuses_what_the_c_api_refuses(pair, af, type_, proto, err):
    with pytest.raises(OSError) as e:
        socket.socket(af, type_, proto)
    assert e.value.errno == err


def test_a_closed_socket_fails_with_ebadf_and_getsocketsta_is_minus_one(pair):
    s = socket.socket()
    s.close()
    s.close()  # twice is fine, as in CPython
    assert s.getsocketsta() == -1
    for call in (lambda: s.bind(("", 1)), lambda: s.listen(1), lambda: s.recv(1),
                 lambda: s.send(b"x"), lambda: s.getsockname(), lambda: s.settimeout(1),
                 lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1),
                 lambda: s.connect((B_IP4, 7)), lambda: s.accept(), lambda: s.read(1),
                 lambda: s.readline(), lambda: s.write(b"x"), lambda: s.sendall(b"x")):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.EBADF


def test_context_manager_closes_the_socket(pair):
    with socket.socket() as s:
        assert s.getsocketsta() == socket.CLOSED
    assert s.getsocketsta() == -1


def test_getaddrinfo_returns_five_tuples(pair):
    r = socket.getaddrinfo(A_IP4, 80)
    assert r == [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, A_IP4, (A_IP4, 80))]
    r6 = socket.getaddrinfo(A_IP6, "443")
    assert r6[0][0] == socket.AF_INET6 and r6[0][4][:2] == (A_IP6, 443)
    names = socket.getaddrinfo("b.test", 7)
    assert {t[4][0] for t in names} == {B_IP4, B_IP6}
    assert all(len(t) == 5 for t in names)
    only6 = socket.getaddrinfo("b.test", 7, socket.AF_INET6)
    assert [t[4][0] for t in only6] == [B_IP6]
    dg = socket.getaddrinfo("b.test", 7, socket.AF_INET, socket.SOCK_DGRAM)
    assert dg[0][1:3] == (socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    a = socket.getaddrinfo("a.test", 1, stack=pair.b)
    assert A_IP4 in [t[4][0] for t in a]


def test_getaddrinfo_errors_are_gaierror(pair):
    with pytest.raises(socket.gaierror) as e:
        socket.getaddrinfo("nowhere.test", 80)  # no DNS server configured
    assert e.value.errno == socket.EAI_NONAME
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(A_IP4, "http")  # no service names
    with pytest.raises(OverflowError):
        socket.getaddrinfo(A_IP4, 70000)


def test_setsockopt_takes_an_int_or_a_bytes_like_value(pair):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, True)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, struct.pack("i", 1))
    assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, bytearray(struct.pack("ii", 1, 3)))
    assert struct.unpack("ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)) == (1, 3)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM
    with pytest.raises(OSError) as e:
        s.setsockopt(socket.SOL_SOCKET, 999, 1)
    assert e.value.errno == errno.ENOPROTOOPT
    with pytest.raises(OSError) as e:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01")
    assert e.value.errno == errno.EINVAL
    with pytest.raises(TypeError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, "yes")
    s.close()


def test_settimeout_and_setblocking(pair):
    s = socket.socket()
    assert s.gettimeout() is None and s.getblocking()
    s.settimeout(0)
    assert s.gettimeout() == 0.0 and not s.getblocking()
    s.settimeout(1.5)
    assert s.gettimeout() == 1.5
    s.setblocking(True)
    assert s.gettimeout() is None
    s.setblocking(False)
    assert s.gettimeout() == 0.0
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            s.settimeout(bad)
    with pytest.raises(TypeError):
        s.settimeout("1")
    s.close()


def test_makefile_takes_only_rb_and_wb(pair):
    s = socket.socket()
    for mode in ("r", "w", "rw", "rb+", "b"):
        with pytest.raises(OSError) as e:
            s.makefile(mode)
        assert e.value.errno == errno.EINVAL
    f = s.makefile()
    assert f.readable() and not f.writable()
    f.close()
    assert s.getsocketsta() == socket.CLOSED  # closing the file leaves the socket
    s.close()


def test_bind_errors(pair):
    s = socket.socket()
    with pytest.raises(OSError) as e:
        s.bind(("198.51.100.99", 80))
    assert e.value.errno == errno.EADDRNOTAVAIL
    with pytest.raises(TypeError):
        s.bind("198.51.100.2:80")
    with pytest.raises(OverflowError):
        s.bind(("", 65536))
    s.bind((A_IP4, 0))
    assert s.getsockname()[0] == A_IP4 and 49152 <= s.getsockname()[1] <= 65535
    with pytest.raises(OSError) as e:
        s.bind(("", 81))
    assert e.value.errno == errno.EINVAL  # already bound
    s.close()


def test_stack_configuration_errors():
    la, lb = ustack.link_pair()
    with pytest.raises(ValueError):
        ustack.Stack(link=la, ipv4="198.51.100.2/33")
    with pytest.raises(ValueError):
        ustack.Stack(link=la, ipv6="198.51.100.2")
    with pytest.raises(ValueError):
        ustack.Stack(link=la, mac="01:00:00:00:00:01")
    with pytest.raises(ValueError):
        ustack.Stack(link=la, log="loud")
    with pytest.raises(TypeError):
        ustack.Stack(link="mem-a")
    st = ustack.Stack(link=la, ipv4="198.51.100.2/24", ipv6=None, mac="02:00:00:00:00:02")
    with pytest.raises(ValueError):
        ustack.Stack(link=la)  # the end is taken
    assert st.running and st.name == "mem-a"
    st.stop()
    assert not st.running
    st.stop()
    del lb


def test_a_stopped_stack_fails_its_sockets_with_enetdown(pair):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, stack=pair.b)
    pair.b.stop()
    with pytest.raises(OSError) as e:
        s.sendto(b"x", (A_IP4, 7))
    assert e.value.errno == errno.ENETDOWN
    with pytest.raises(OSError) as e:
        socket.socket(stack=pair.b)
    assert e.value.errno == errno.ENETDOWN
    s.close()


def test_stack_writes_a_pcap_file(tmp_path):
    la, lb = ustack.link_pair()
    pcap = tmp_path / "a.pcap"
    with ustack.Stack(link=la, ipv4="198.51.100.2/24", ipv6=None, pcap=str(pcap)) as a, \
            ustack.Stack(link=lb, ipv4="198.51.100.3/24", ipv6=None) as b:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, stack=b)
        u.bind(("", 9))
        u.settimeout(5)
        v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, stack=a)
        v.sendto(b"to the capture", (B_IP4, 9))
        assert u.recv(100) == b"to the capture"
        u.close()
        v.close()
    data = pcap.read_bytes()
    assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d")
    assert b"to the capture" in data

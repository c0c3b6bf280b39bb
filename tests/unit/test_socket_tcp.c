/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the stream (SOCK_STREAM, TCP) half of the socket API
 * (src/api/socket.c over the core's us_tcp_* calls, RFC 9293 §3.10).
 *
 * Two runtimes, A (198.51.100.1, 2001:db8:1::1) and B (.2, ::2), are joined
 * by the in-memory link and run on one virtual clock that only the test
 * moves. A call under test that must block runs in a thread (struct job),
 * and the clock is moved only once us_socket_waiters() says the call waits.
 * Tests that move bulk data, where delayed ACKs, Nagle or a retransmission
 * may need time to pass, run a pump thread that moves the clock 10 ms
 * whenever one of their sockets has a blocked call; they assert on data
 * and states, never on times.
 *
 * Read tests/unit/test_socket.c first (the datagram half, same set-up).
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <ustack/memlink.h>
#include <ustack/ustack.h>

#include "socket_impl.h"
#include "testnet.h"

#define NOBODY 0xc6336409u /* 198.51.100.9: no host answers ARP for it */


/* Waits (bounded: 20 s of real time) until s is in TCP state want. */
static void wait_state(int s, int want)
{
	int st = -2;
	for (int i = 0; i < 20000; i++) {
		st = us_getsocketsta(s);
		if (st == want)
			return;
		us_test_sleep_ms(1);
	}
	ck_abort_msg("socket %d is in state %d (%s), not %d (%s)", s, st, us_tcp_state_name(st), want,
		     us_tcp_state_name(want));
}


/* Waits until something is to be read on s (no clock move needed). */
static void wait_readable(int s)
{
	struct us_pollfd p = { .sock = s, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&p, 1, -1), 1);
	ck_assert(p.revents & US_POLLIN);
}


/* ---- The clock pump --------------------------------------------------------- */

/* Moves the clock 10 ms whenever one of the sockets has a blocked call,
 * for at most 600 s of virtual time. */
struct pump {
	const struct us_test_net *n;
	int socks[4];
	int nsocks;
	atomic_bool stop;
	pthread_t thread;
};

static void *pump_run(void *arg)
{
	struct pump *p = arg;
	us_time_t moved = 0;
	while (!atomic_load(&p->stop) && moved < US_SEC(600)) {
		us_test_sleep_ms(2);
		bool waiting = false;
		for (int i = 0; i < p->nsocks; i++)
			waiting |= us_socket_waiters(p->socks[i]) > 0;
		if (waiting) {
			us_test_advance(p->n, US_MSEC(10));
			moved += US_MSEC(10);
		}
	}
	return NULL;
}

static void pump_start(struct pump *p, const struct us_test_net *n, int s1, int s2)
{
	p->n = n;
	p->socks[0] = s1;
	p->socks[1] = s2;
	p->nsocks = 2;
	atomic_init(&p->stop, false);
	ck_assert_int_eq(pthread_create(&p->thread, NULL, pump_run, p), 0);
}

static void pump_stop(struct pump *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
}

/* ---- Threads that run one blocking call ---------------------------------- */

struct job;
typedef long (*job_fn)(struct job *j);

struct job {
	job_fn fn;
	int sock;
	size_t size;         /* read: how much */
	struct us_addr addr; /* connect: where; accept: the peer */
	const uint8_t *data; /* sendall: what */
	size_t sent;
	pthread_t thread;
	/* Results. */
	long rc;
	int err;
	uint8_t buf[512];
	us_time_t started, ended; /* virtual times */
	atomic_bool done;
};

static long do_read(struct job *j)
{
	return us_read(j->sock, j->buf, j->size);
}

static long do_recv(struct job *j)
{
	return us_recv(j->sock, j->buf, sizeof j->buf);
}

static long do_connect(struct job *j)
{
	return us_connect(j->sock, &j->addr);
}

static long do_accept(struct job *j)
{
	return us_accept(j->sock, &j->addr);
}

static long do_sendall(struct job *j)
{
	long rc = us_sendall(j->sock, j->data, j->size, &j->sent);
	if (rc == 0)
		rc = us_shutdown(j->sock, US_SHUT_WR);
	return rc;
}

static long do_close(struct job *j)
{
	return us_close(j->sock);
}

static void *run_job(void *arg)
{
	struct job *j = arg;
	j->started = us_test_now();
	errno = 0;
	j->rc = j->fn(j);
	j->err = errno;
	j->ended = us_test_now();
	atomic_store(&j->done, true);
	return NULL;
}

static void job_start(struct job *j, job_fn fn, int sock)
{
	j->fn = fn;
	j->sock = sock;
	atomic_init(&j->done, false);
	ck_assert_int_eq(pthread_create(&j->thread, NULL, run_job, j), 0);
}

/* Joins the job's thread, waiting at most 60 s of real time for it. */
static void job_join(struct job *j)
{
	us_test_join_within(j->thread, &j->done, 60);
}

/* ---- Connections ------------------------------------------------------------ */

/* A listening socket on rt, port port of family af's wildcard address. */
static int listener(struct us_runtime *rt, int af, uint16_t port)
{
	int l = us_socket(rt, af, US_SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	struct us_addr any = { .family = af, .port = port };
	int rc = us_bind(l, &any);
	ck_assert_msg(rc == 0, "bind to port %u: %s", port, strerror(errno));
	ck_assert_int_eq(us_listen(l, 4), 0);
	return l;
}

struct conn {
	int l; /* B's listener */
	int a; /* A's end */
	int b; /* B's end, accepted */
	struct us_addr peer; /* what accept said of A */
};

/* A (family af_a) connects to a listener of family af_l on B's port 80,
 * reached at B's address of family af_a; B accepts. Nagle is off on both
 * ends, so that small writes leave at once. */
static void connect_pair(struct us_test_net *n, int af_a, int af_l, struct conn *c)
{
	c->l = listener(n->b, af_l, 80);
	c->a = us_socket(n->a, af_a, US_SOCK_STREAM, US_IPPROTO_TCP);
	ck_assert_int_ge(c->a, 0);
	struct us_addr to = af_a == US_AF_INET ? us_test_addr4(B_IP4, 80) : us_test_addr6(2, 80);
	ck_assert_int_eq(us_connect(c->a, &to), 0);
	c->b = us_accept(c->l, &c->peer);
	ck_assert_int_ge(c->b, 0);
	ck_assert_int_eq(us_setsockopt_int(c->a, US_IPPROTO_TCP, US_TCP_NODELAY, 1), 0);
	ck_assert_int_eq(us_setsockopt_int(c->b, US_IPPROTO_TCP, US_TCP_NODELAY, 1), 0);
}

static void conn_close(struct conn *c)
{
	us_close(c->a);
	us_close(c->b);
	us_close(c->l);
}

/* A's socket a connects to B's port 80 (IPv4), where l listens. Option opt
 * of a, agreed in the SYN, is then fixed: setting it to val is EISCONN.
 * Returns B's end, accepted from l. */
static int connect_and_see_option_fixed(int a, int l, int opt, int val)
{
	struct us_addr to = us_test_addr4(B_IP4, 80);
	ck_assert_int_eq(us_connect(a, &to), 0);
	ck_assert_int_eq(us_setsockopt_int(a, US_IPPROTO_TCP, opt, val), -1);
	ck_assert_int_eq(errno, EISCONN);
	int b = us_accept(l, NULL);
	ck_assert_int_ge(b, 0);
	return b;
}

/* Reads s's US_TCP_INFO into *i with a buffer its size; *len: the size
 * written. */
static void read_tcp_info(int s, struct us_tcp_info *i, size_t *len)
{
	*len = sizeof *i;
	ck_assert_int_eq(us_getsockopt(s, US_IPPROTO_TCP, US_TCP_INFO, i, len), 0);
}

/* Reads exactly len bytes (blocking) and compares them with want. */
static void expect_bytes(int s, const char *want)
{
	char buf[512];
	size_t len = strlen(want);
	ck_assert_uint_lt(len, sizeof buf);
	ck_assert_int_eq(us_read(s, buf, len), (ssize_t)len);
	ck_assert_mem_eq(buf, want, len);
}

/* ---- Connecting and accepting ------------------------------------------------ */

START_TEST(an_ipv4_client_connects_and_both_ends_name_each_other)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	ck_assert_int_eq(us_getsocketsta(c.l), US_TCP_LISTEN);
	ck_assert_int_eq(us_getsocketsta(c.a), US_TCP_ESTABLISHED);
	ck_assert_int_eq(us_getsocketsta(c.b), US_TCP_ESTABLISHED);

	struct us_addr a_local, a_peer, b_local, b_peer;
	ck_assert_int_eq(us_getsockname(c.a, &a_local), 0);
	ck_assert_int_eq(us_getpeername(c.a, &a_peer), 0);
	ck_assert_int_eq(us_getsockname(c.b, &b_local), 0);
	ck_assert_int_eq(us_getpeername(c.b, &b_peer), 0);
	ck_assert_int_eq(a_local.family, US_AF_INET);
	ck_assert_uint_eq(a_local.ip4, A_IP4);
	ck_assert_int_ge(a_local.port, 49152); /* RFC 6056's range */
	ck_assert_uint_eq(a_peer.ip4, B_IP4);
	ck_assert_uint_eq(a_peer.port, 80);
	ck_assert_uint_eq(b_local.ip4, B_IP4);
	ck_assert_uint_eq(b_local.port, 80);
	ck_assert_uint_eq(b_peer.ip4, A_IP4);
	ck_assert_uint_eq(b_peer.port, a_local.port);
	/* accept() filled in the same peer. */
	ck_assert_int_eq(c.peer.family, US_AF_INET);
	ck_assert_uint_eq(c.peer.ip4, A_IP4);
	ck_assert_uint_eq(c.peer.port, a_local.port);
	/* The accepted socket is a stream socket of its own, blocking. */
	int v = 0;
	size_t len = sizeof v;
	ck_assert_int_eq(us_getsockopt(c.b, US_SOL_SOCKET, US_SO_TYPE, &v, &len), 0);
	ck_assert_int_eq(v, US_SOCK_STREAM);
	double t = 0;
	ck_assert_int_eq(us_gettimeout(c.b, &t), 0);
	ck_assert(t == US_TIMEOUT_NONE);
	ck_assert_int_ne(c.b, c.l);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

/* The modern TCP switches (docs/tcp-modern.md) as socket options: SACK
 * off on A's socket before connect() is not offered, so the connection has
 * none; TCP_CONGESTION picks CUBIC (an int, enum us_tcp_cc_algo); TCP_INFO
 * reads struct us_tcp_info, and cannot be set. */
START_TEST(modern_tcp_options_switch_sack_and_congestion_control_and_read_tcp_info)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int l = listener(n.b, US_AF_INET, 80);
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, US_IPPROTO_TCP);
	ck_assert_int_ge(a, 0);
	int v = -1;
	size_t len = sizeof v;
	ck_assert_int_eq(us_getsockopt(a, US_IPPROTO_TCP, US_TCP_SACK_ENABLE, &v, &len), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(us_setsockopt_int(a, US_IPPROTO_TCP, US_TCP_SACK_ENABLE, 0), 0);
	ck_assert_int_eq(us_setsockopt_int(a, US_IPPROTO_TCP, US_TCP_TIMESTAMPS_ENABLE, 1), 0);
	ck_assert_int_eq(us_setsockopt_int(a, US_IPPROTO_TCP, US_TCP_WSCALE_ENABLE, 1), 0);
	ck_assert_int_eq(us_setsockopt_int(a, US_IPPROTO_TCP, US_TCP_CONGESTION, US_TCP_CC_CUBIC),
			 0);
	ck_assert_int_eq(us_setsockopt_int(a, US_IPPROTO_TCP, US_TCP_CONGESTION, 9), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Connects; SACK is fixed once the SYN has left. */
	int b = connect_and_see_option_fixed(a, l, US_TCP_SACK_ENABLE, 1);
	struct us_tcp_info i;
	read_tcp_info(a, &i, &len);
	ck_assert_uint_eq(len, sizeof i);
	ck_assert_int_eq(i.state, US_TCP_ESTABLISHED);
	ck_assert(!i.sack_ok);
	ck_assert(i.ts_ok && i.wscale_ok);
	ck_assert_int_eq(i.cc, US_TCP_CC_CUBIC);
	read_tcp_info(b, &i, &len);
	ck_assert(!i.sack_ok);
	ck_assert_int_eq(i.cc, US_TCP_CC_NEWRENO);
	/* Shorter buffers take the start of the struct, as Linux. */
	len = sizeof(int);
	ck_assert_int_eq(us_getsockopt(b, US_IPPROTO_TCP, US_TCP_INFO, &v, &len), 0);
	ck_assert_int_eq(v, US_TCP_ESTABLISHED);
	ck_assert_int_eq(us_setsockopt(b, US_IPPROTO_TCP, US_TCP_INFO, &i, sizeof i), -1);
	ck_assert_int_eq(errno, ENOPROTOOPT);
	us_close(a);
	us_close(b);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

/* ECN (RFC 3168) through the socket API: off by default; on at both ends
 * with US_TCP_ECN_ENABLE (the listener's before listen(), inherited by the
 * accepted socket) it is agreed, and fixed once the SYN has left. */
START_TEST(tcp_ecn_enable_is_off_by_default_and_negotiates_when_both_ends_set_it)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int l = us_socket(n.b, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	int v = -1;
	size_t len = sizeof v;
	ck_assert_int_eq(us_getsockopt(l, US_IPPROTO_TCP, US_TCP_ECN_ENABLE, &v, &len), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(us_setsockopt_int(l, US_IPPROTO_TCP, US_TCP_ECN_ENABLE, 1), 0);
	struct us_addr any = { .family = US_AF_INET, .port = 80 };
	ck_assert_int_eq(us_bind(l, &any), 0);
	ck_assert_int_eq(us_listen(l, 4), 0);
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, US_IPPROTO_TCP);
	ck_assert_int_ge(a, 0);
	ck_assert_int_eq(us_setsockopt_int(a, US_IPPROTO_TCP, US_TCP_ECN_ENABLE, 1), 0);
	int b = connect_and_see_option_fixed(a, l, US_TCP_ECN_ENABLE, 0);
	struct us_tcp_info i;
	read_tcp_info(a, &i, &len);
	ck_assert(i.ecn_ok);
	read_tcp_info(b, &i, &len);
	ck_assert(i.ecn_ok);
	ck_assert_int_eq(us_write(a, "ecn", 3), 3);
	char buf[3];
	ck_assert_int_eq(us_read(b, buf, 3), 3);
	ck_assert_mem_eq(buf, "ecn", 3);
	us_close(a);
	us_close(b);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(an_ipv6_connection_echoes_data_both_ways)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET6, US_AF_INET6, &c);
	struct us_ip6 a_ip = us_test_ip6(1);
	ck_assert_int_eq(c.peer.family, US_AF_INET6);
	ck_assert_mem_eq(c.peer.ip6.b, a_ip.b, 16);

	ck_assert_int_eq(us_send(c.a, "hello, ", 7), 7);
	ck_assert_int_eq(us_write(c.a, "world", 5), 5);
	expect_bytes(c.b, "hello, world");
	/* B echoes it back. */
	ck_assert_int_eq(us_sendall(c.b, "hello, world", 12, NULL), 0);
	char buf[64];
	struct us_addr from;
	size_t got = 0;
	while (got < 12) {
		ssize_t k = us_recvfrom(c.a, buf + got, sizeof buf - got, &from);
		ck_assert_int_gt(k, 0);
		got += (size_t)k;
		ck_assert_int_eq(from.family, US_AF_INET6);
		ck_assert_uint_eq(from.port, 80);
	}
	ck_assert_uint_eq(got, 12);
	ck_assert_mem_eq(buf, "hello, world", 12);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(an_ipv4_client_reaches_a_dual_stack_ipv6_listener)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET6, &c);
	/* The IPv6 socket names its IPv4 peer ::ffff:198.51.100.1 (RFC 4291
	 * §2.5.5.2), as Linux does. */
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1 };
	ck_assert_int_eq(c.peer.family, US_AF_INET6);
	ck_assert_mem_eq(c.peer.ip6.b, mapped, 16);
	ck_assert_int_eq(us_send(c.a, "v4 over v6\n", 11), 11);
	char line[32];
	ck_assert_int_eq(us_readline(c.b, line, sizeof line), 11);
	ck_assert_str_eq(line, "v4 over v6\n");
	conn_close(&c);

	/* Under IPV6_V6ONLY the listener takes no IPv4: the SYN meets a RST. */
	int l = us_socket(n.b, US_AF_INET6, US_SOCK_STREAM, 0);
	ck_assert_int_eq(us_setsockopt_int(l, US_IPPROTO_IPV6, US_IPV6_V6ONLY, 1), 0);
	struct us_addr any = { .family = US_AF_INET6, .port = 81 };
	ck_assert_int_eq(us_bind(l, &any), 0);
	ck_assert_int_eq(us_listen(l, 1), 0);
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	struct us_addr to = us_test_addr4(B_IP4, 81);
	EXPECT_ERR(us_connect(a, &to), ECONNREFUSED);
	us_close(a);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_refused_connect_is_econnrefused_blocking_or_not)
{
	struct us_test_net n;
	us_test_net_start(&n);
	for (int af = US_AF_INET; af <= US_AF_INET6; af += US_AF_INET6 - US_AF_INET) {
		int a = us_socket(n.a, af, US_SOCK_STREAM, 0);
		/* A port per family: the first one's connection holds its port
		 * in TIME_WAIT afterwards. */
		uint16_t port = af == US_AF_INET ? 9 : 13;
		struct us_addr to = af == US_AF_INET ? us_test_addr4(B_IP4, port) : us_test_addr6(2, port);
		/* RFC 9293 §3.10.7.1: no endpoint on the port, so B answers RST. */
		EXPECT_ERR(us_connect(a, &to), ECONNREFUSED);
		ck_assert_int_eq(us_getsocketsta(a), US_TCP_CLOSED);
		/* The socket may try again, and get there once B listens. */
		int l = listener(n.b, af, port);
		ck_assert_int_eq(us_connect(a, &to), 0);
		int b = us_accept(l, NULL);
		ck_assert_int_ge(b, 0);
		us_close(b);
		us_close(l);
		us_close(a);

		a = us_socket(n.a, af, US_SOCK_STREAM, 0);
		ck_assert_int_eq(us_setblocking(a, false), 0);
		EXPECT_ERR(us_connect(a, &to), EINPROGRESS);
		struct us_pollfd p = { .sock = a, .events = US_POLLOUT };
		ck_assert_int_eq(us_poll(&p, 1, -1), 1);
		ck_assert(p.revents & US_POLLERR);
		ck_assert(!(p.revents & US_POLLOUT));
		int err = 0;
		size_t len = sizeof err;
		ck_assert_int_eq(us_getsockopt(a, US_SOL_SOCKET, US_SO_ERROR, &err, &len), 0);
		ck_assert_int_eq(err, ECONNREFUSED);
		/* Reported once. */
		ck_assert_int_eq(us_getsockopt(a, US_SOL_SOCKET, US_SO_ERROR, &err, &len), 0);
		ck_assert_int_eq(err, 0);
		us_close(a);
	}
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_non_blocking_connect_completes_through_poll_and_so_error)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int l = listener(n.b, US_AF_INET, 80);
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_eq(us_setblocking(a, false), 0);
	struct us_addr to = us_test_addr4(B_IP4, 80);
	EXPECT_ERR(us_connect(a, &to), EINPROGRESS);
	struct us_pollfd p = { .sock = a, .events = US_POLLOUT | US_POLLIN };
	ck_assert_int_eq(us_poll(&p, 1, -1), 1);
	ck_assert_int_eq(p.revents, US_POLLOUT);
	int err = -1;
	size_t len = sizeof err;
	ck_assert_int_eq(us_getsockopt(a, US_SOL_SOCKET, US_SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(us_getsocketsta(a), US_TCP_ESTABLISHED);
	EXPECT_ERR(us_connect(a, &to), EISCONN);

	/* The listener polls readable with a connection to accept. */
	struct us_pollfd pl = { .sock = l, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&pl, 1, -1), 1);
	ck_assert_int_eq(pl.revents, US_POLLIN);
	int b = us_accept(l, NULL);
	ck_assert_int_ge(b, 0);
	/* Nothing to read yet on a non-blocking socket. */
	char buf[8];
	EXPECT_ERR(us_recv(a, buf, sizeof buf), EAGAIN);
	us_close(b);
	us_close(a);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_second_connect_while_the_first_runs_is_ealready)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_eq(us_setblocking(a, false), 0);
	/* Nobody answers for 198.51.100.9: the SYN waits for ARP. */
	struct us_addr to = us_test_addr4(NOBODY, 80);
	EXPECT_ERR(us_connect(a, &to), EINPROGRESS);
	ck_assert_int_eq(us_getsocketsta(a), US_TCP_SYN_SENT);
	EXPECT_ERR(us_connect(a, &to), EALREADY);
	struct us_pollfd p = { .sock = a, .events = US_POLLOUT | US_POLLIN };
	ck_assert_int_eq(us_poll(&p, 1, 0), 0);
	us_close(a);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_connect_timeout_aborts_the_attempt_and_the_socket_connects_later)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_eq(us_setsockopt_int(a, US_IPPROTO_TCP, US_TCP_NODELAY, 1), 0);
	ck_assert_int_eq(us_settimeout(a, 1.0), 0);
	struct job j = { .addr = us_test_addr4(NOBODY, 80) };
	job_start(&j, do_connect, a);
	us_test_wait_blocked(a, 1);
	us_test_advance(&n, US_MSEC(999));
	us_test_sleep_ms(20);
	ck_assert_msg(!atomic_load(&j.done), "the timeout fired early");
	us_test_advance(&n, US_MSEC(1));
	job_join(&j);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, ETIMEDOUT);
	ck_assert_int_eq(j.ended - j.started, US_SEC(1));
	/* The attempt is gone: the socket is as new, its options kept. */
	ck_assert_int_eq(us_getsocketsta(a), US_TCP_CLOSED);
	int v = 0;
	size_t len = sizeof v;
	ck_assert_int_eq(us_getsockopt(a, US_IPPROTO_TCP, US_TCP_NODELAY, &v, &len), 0);
	ck_assert_int_eq(v, 1);

	int l = listener(n.b, US_AF_INET, 80);
	struct us_addr to = us_test_addr4(B_IP4, 80);
	ck_assert_int_eq(us_connect(a, &to), 0);
	int b = us_accept(l, NULL);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(us_send(a, "late", 4), 4);
	expect_bytes(b, "late");
	us_close(b);
	us_close(a);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(an_unanswered_syn_fails_a_blocking_connect_with_etimedout)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	struct job j = { .addr = us_test_addr4(NOBODY, 80) };
	job_start(&j, do_connect, a);
	us_test_wait_blocked(a, 1);
	/* RFC 6298 backoff from 1 s, 6 retransmissions, the RTO capped at
	 * 60 s: 1 + 2 + 4 + 8 + 16 + 32 + 60 = 123 s. */
	for (int i = 0; i < 400 && !atomic_load(&j.done); i++) {
		us_test_advance(&n, US_SEC(1));
		us_test_sleep_ms(2);
	}
	job_join(&j);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_msg(j.err == ETIMEDOUT, "connect failed with %s", strerror(j.err));
	ck_assert_int_ge(j.ended - j.started, US_SEC(123));
	ck_assert_int_eq(us_getsocketsta(a), US_TCP_CLOSED);
	us_close(a);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(an_accept_times_out_and_a_non_blocking_one_says_eagain)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int l = listener(n.b, US_AF_INET6, 80);
	ck_assert_int_eq(us_settimeout(l, 0.2), 0);
	struct job j = { 0 };
	job_start(&j, do_accept, l);
	us_test_wait_blocked(l, 1);
	us_test_advance(&n, US_MSEC(200));
	job_join(&j);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, ETIMEDOUT);
	ck_assert_int_eq(j.ended - j.started, US_MSEC(200));
	ck_assert_int_eq(us_setblocking(l, false), 0);
	struct us_addr peer;
	EXPECT_ERR(us_accept(l, &peer), EAGAIN);

	/* A blocking accept waits until a connection comes. */
	ck_assert_int_eq(us_setblocking(l, true), 0);
	struct job ja = { 0 };
	job_start(&ja, do_accept, l);
	us_test_wait_blocked(l, 1);
	int a = us_socket(n.a, US_AF_INET6, US_SOCK_STREAM, 0);
	struct us_addr to = us_test_addr6(2, 80);
	ck_assert_int_eq(us_connect(a, &to), 0);
	job_join(&ja);
	ck_assert_int_ge(ja.rc, 0);
	ck_assert_int_eq(ja.addr.family, US_AF_INET6);
	us_close((int)ja.rc);
	us_close(a);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Reading ------------------------------------------------------------------ */

START_TEST(a_blocking_read_waits_for_the_exact_size)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	struct job j = { .size = 100 };
	job_start(&j, do_read, c.b);
	us_test_wait_blocked(c.b, 1);
	static uint8_t data[100];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 3 + 1);
	ck_assert_int_eq(us_send(c.a, data, 30), 30);
	/* 30 bytes came: the read takes them and waits on for the rest. */
	for (int i = 0; i < 2000 && us_socket_waiters(c.b) == 0; i++)
		us_test_sleep_ms(1);
	us_test_sleep_ms(20);
	ck_assert_msg(!atomic_load(&j.done), "read returned before it had 100 bytes");
	ck_assert_int_eq(us_send(c.a, data + 30, 70), 70);
	job_join(&j);
	ck_assert_int_eq(j.rc, 100);
	ck_assert_mem_eq(j.buf, data, 100);

	/* read(size) stops short only at end of stream. */
	ck_assert_int_eq(us_send(c.a, data, 10), 10);
	ck_assert_int_eq(us_shutdown(c.a, US_SHUT_WR), 0);
	uint8_t buf[100];
	ck_assert_int_eq(us_read(c.b, buf, sizeof buf), 10);
	ck_assert_mem_eq(buf, data, 10);
	ck_assert_int_eq(us_read(c.b, buf, sizeof buf), 0);
	ck_assert_int_eq(us_recv(c.b, buf, sizeof buf), 0);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_read_timeout_returns_the_part_that_came_and_loses_nothing)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	ck_assert_int_eq(us_send(c.a, "0123456789012345678901234567890123456789", 40), 40);
	wait_readable(c.b);
	ck_assert_int_eq(us_settimeout(c.b, 0.5), 0);
	struct job j = { .size = 100 };
	job_start(&j, do_read, c.b);
	us_test_wait_blocked(c.b, 1);
	us_test_advance(&n, US_MSEC(500));
	job_join(&j);
	ck_assert_int_eq(j.rc, 40);
	ck_assert_mem_eq(j.buf, "0123456789012345678901234567890123456789", 40);
	ck_assert_int_eq(j.ended - j.started, US_MSEC(500));

	/* Nothing came at all: ETIMEDOUT. */
	struct job j2 = { .size = 10 };
	job_start(&j2, do_read, c.b);
	us_test_wait_blocked(c.b, 1);
	us_test_advance(&n, US_MSEC(500));
	job_join(&j2);
	ck_assert_int_eq(j2.rc, -1);
	ck_assert_int_eq(j2.err, ETIMEDOUT);

	/* The next bytes are the next ones sent. */
	ck_assert_int_eq(us_send(c.a, "abc", 3), 3);
	expect_bytes(c.b, "abc");
	/* Non-blocking: what is there, then EAGAIN. */
	ck_assert_int_eq(us_setblocking(c.b, false), 0);
	ck_assert_int_eq(us_send(c.a, "xyz", 3), 3);
	wait_readable(c.b);
	char buf[16];
	ck_assert_int_eq(us_read(c.b, buf, sizeof buf), 3);
	ck_assert_mem_eq(buf, "xyz", 3);
	EXPECT_ERR(us_read(c.b, buf, sizeof buf), EAGAIN);
	EXPECT_ERR(us_recv(c.b, buf, sizeof buf), EAGAIN);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(readline_takes_one_line_and_not_a_byte_more)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET6, US_AF_INET6, &c);
	const char *text = "one\ntwo\nthree is long\nrest";
	ck_assert_int_eq(us_sendall(c.a, text, strlen(text), NULL), 0);
	ck_assert_int_eq(us_shutdown(c.a, US_SHUT_WR), 0);
	char line[64];
	ck_assert_int_eq(us_readline(c.b, line, sizeof line), 4);
	ck_assert_str_eq(line, "one\n");
	/* The bytes after the line are the next call's, whatever the call. */
	char buf[4];
	ck_assert_int_eq(us_read(c.b, buf, 2), 2);
	ck_assert_mem_eq(buf, "tw", 2);
	ck_assert_int_eq(us_readline(c.b, line, sizeof line), 2);
	ck_assert_str_eq(line, "o\n");
	/* A line longer than the buffer comes in pieces of cap - 1. */
	ck_assert_int_eq(us_readline(c.b, line, 6), 5);
	ck_assert_str_eq(line, "three");
	ck_assert_int_eq(us_readline(c.b, line, sizeof line), 9);
	ck_assert_str_eq(line, " is long\n");
	/* The last line has no '\n': end of stream ends it. */
	ck_assert_int_eq(us_readline(c.b, line, sizeof line), 4);
	ck_assert_str_eq(line, "rest");
	ck_assert_int_eq(us_readline(c.b, line, sizeof line), 0);
	ck_assert_str_eq(line, "");
	EXPECT_ERR(us_readline(c.b, line, 1), EINVAL);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(readline_waits_for_the_newline_across_segments)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	ck_assert_int_eq(us_send(c.a, "GET / HT", 8), 8);
	wait_readable(c.b);
	ck_assert_int_eq(us_send(c.a, "TP/1.0\r\nHost: x\r\n", 17), 17);
	char line[64];
	ck_assert_int_eq(us_readline(c.b, line, sizeof line), 16);
	ck_assert_str_eq(line, "GET / HTTP/1.0\r\n");
	/* What readline read ahead makes the socket readable. */
	struct us_pollfd p = { .sock = c.b, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&p, 1, 0), 1);
	ck_assert_int_eq(us_recv(c.b, line, sizeof line), 9);
	ck_assert_mem_eq(line, "Host: x\r\n", 9);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(readall_and_readinto_read_until_the_peer_closes)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	static uint8_t data[10000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	ck_assert_int_eq(us_sendall(c.a, data, 3000, NULL), 0);
	ck_assert_int_eq(us_sendall(c.a, data + 3000, 7000, NULL), 0);
	uint8_t head[16];
	ck_assert_int_eq(us_readinto(c.b, head, sizeof head, 10), 10);
	ck_assert_mem_eq(head, data, 10);
	ck_assert_int_eq(us_close(c.a), 0);
	uint8_t *all = NULL;
	size_t len = 0;
	ck_assert_int_eq(us_readall(c.b, &all, &len), 0);
	ck_assert_uint_eq(len, sizeof data - 10);
	ck_assert_mem_eq(all, data + 10, len);
	free(all);
	/* At end of stream: 0 bytes, still a buffer to free. */
	ck_assert_int_eq(us_readall(c.b, &all, &len), 0);
	ck_assert_uint_eq(len, 0);
	free(all);
	ck_assert_int_eq(us_readinto(c.b, head, sizeof head, 0), 0);
	us_close(c.b);
	us_close(c.l);
	us_test_net_stop(&n);
}
END_TEST

/* FNV-1a, 64 bits. */
static uint64_t checksum(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3u;
	}
	return h;
}

START_TEST(sendall_moves_a_megabyte_intact)
{
	enum { MB = 1 << 20 };
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	uint8_t *data = malloc(MB);
	ck_assert_ptr_nonnull(data);
	uint64_t x = 88172645463325252u;
	for (size_t i = 0; i < MB; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = (uint8_t)x;
	}
	struct pump p;
	pump_start(&p, &n, c.a, c.b);
	struct job j = { .data = data, .size = MB };
	job_start(&j, do_sendall, c.a);
	uint8_t *got = NULL;
	size_t len = 0;
	ck_assert_int_eq(us_readall(c.b, &got, &len), 0);
	job_join(&j);
	pump_stop(&p);
	ck_assert_int_eq(j.rc, 0);
	ck_assert_uint_eq(j.sent, MB);
	ck_assert_uint_eq(len, MB);
	ck_assert_uint_eq(checksum(got, len), checksum(data, MB));
	ck_assert_mem_eq(got, data, MB);
	free(got);
	free(data);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_non_blocking_sendall_reports_what_it_queued)
{
	enum { BIG = 1 << 20 };
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	uint8_t *data = calloc(1, BIG);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(us_setblocking(c.a, false), 0);
	/* B does not read: B's window and A's send buffer fill up. Each
	 * sendall queues what fits and says EAGAIN; once the ACKs in flight
	 * have come back, nothing fits any more. */
	size_t sent = 0;
	for (int round = 0; round < 200; round++) {
		size_t now_sent = 0;
		EXPECT_ERR(us_sendall(c.a, data + sent, BIG - sent, &now_sent), EAGAIN);
		if (round == 0)
			ck_assert_uint_gt(now_sent, 0);
		sent += now_sent;
		if (round > 0 && now_sent == 0)
			break;
		us_test_sleep_ms(50);
	}
	ck_assert_uint_gt(sent, 0);
	ck_assert_uint_lt(sent, BIG);
	EXPECT_ERR(us_send(c.a, data, BIG), EAGAIN);
	/* write() on a non-blocking socket: what fits, or EAGAIN. */
	EXPECT_ERR(us_write(c.a, data, BIG), EAGAIN);
	struct us_pollfd pw = { .sock = c.a, .events = US_POLLOUT };
	ck_assert_int_eq(us_poll(&pw, 1, 0), 0);
	/* B reads it all: exactly what sendall said it queued. */
	struct pump p;
	pump_start(&p, &n, c.a, c.b);
	ck_assert_int_eq(us_shutdown(c.a, US_SHUT_WR), 0);
	uint8_t *got = NULL;
	size_t len = 0;
	ck_assert_int_eq(us_readall(c.b, &got, &len), 0);
	pump_stop(&p);
	ck_assert_uint_eq(len, sent);
	free(got);
	free(data);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Closing ------------------------------------------------------------------ */

START_TEST(shutdown_wr_half_closes_and_the_peer_still_answers)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET6, US_AF_INET6, &c);
	ck_assert_int_eq(us_send(c.a, "question", 8), 8);
	ck_assert_int_eq(us_shutdown(c.a, US_SHUT_WR), 0);
	EXPECT_ERR(us_send(c.a, "more", 4), EPIPE);
	uint8_t *q = NULL;
	size_t len = 0;
	ck_assert_int_eq(us_readall(c.b, &q, &len), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(q, "question", 8);
	free(q);
	ck_assert_int_eq(us_getsocketsta(c.b), US_TCP_CLOSE_WAIT);
	struct us_pollfd p = { .sock = c.b, .events = US_POLLIN | US_POLLOUT };
	ck_assert_int_eq(us_poll(&p, 1, 0), 1);
	ck_assert_int_eq(p.revents, US_POLLIN | US_POLLOUT);
	ck_assert_int_eq(us_send(c.b, "answer", 6), 6);
	ck_assert_int_eq(us_close(c.b), 0);
	ck_assert_int_eq(us_readall(c.a, &q, &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(q, "answer", 6);
	free(q);
	/* Both directions are over: POLLHUP. */
	wait_state(c.a, US_TCP_TIME_WAIT);
	struct us_pollfd pa = { .sock = c.a, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&pa, 1, 0), 1);
	ck_assert(pa.revents & US_POLLHUP);
	us_close(c.a);
	us_close(c.l);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(shutdown_rd_ends_the_stream_for_a_blocked_reader)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	struct job j = { 0 };
	job_start(&j, do_recv, c.b);
	us_test_wait_blocked(c.b, 1);
	ck_assert_int_eq(us_shutdown(c.b, US_SHUT_RD), 0);
	job_join(&j);
	ck_assert_int_eq(j.rc, 0);
	char buf[4];
	ck_assert_int_eq(us_recv(c.b, buf, sizeof buf), 0);
	/* Writing still works. */
	ck_assert_int_eq(us_send(c.b, "ok", 2), 2);
	expect_bytes(c.a, "ok");
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(so_linger_zero_aborts_and_the_peer_sees_econnreset)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	struct job j = { 0 };
	job_start(&j, do_recv, c.b);
	us_test_wait_blocked(c.b, 1);
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	ck_assert_int_eq(us_setsockopt(c.a, US_SOL_SOCKET, US_SO_LINGER, &l, sizeof l), 0);
	ck_assert_int_eq(us_close(c.a), 0);
	job_join(&j);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, ECONNRESET);
	ck_assert_int_eq(us_getsocketsta(c.b), US_TCP_CLOSED);
	struct us_pollfd p = { .sock = c.b, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&p, 1, 0), 1);
	ck_assert(p.revents & US_POLLHUP);
	us_close(c.b);
	us_close(c.l);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(closing_with_unread_data_resets_the_connection)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET6, US_AF_INET6, &c);
	ck_assert_int_eq(us_send(c.b, "unread", 6), 6);
	wait_readable(c.a);
	ck_assert_int_eq(us_close(c.a), 0);
	char buf[8];
	EXPECT_ERR(us_recv(c.b, buf, sizeof buf), ECONNRESET);
	/* Reported once; then the stream is over. */
	ck_assert_int_eq(us_recv(c.b, buf, sizeof buf), 0);
	us_close(c.b);

	/* The same for bytes readline read ahead and nobody took. */
	int a = us_socket(n.a, US_AF_INET6, US_SOCK_STREAM, 0);
	struct us_addr to = us_test_addr6(2, 80);
	ck_assert_int_eq(us_connect(a, &to), 0);
	int b = us_accept(c.l, NULL);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(us_send(b, "line\nmore", 9), 9);
	char line[16];
	ck_assert_int_eq(us_readline(a, line, sizeof line), 5);
	ck_assert_int_eq(us_close(a), 0);
	EXPECT_ERR(us_recv(b, buf, sizeof buf), ECONNRESET);
	us_close(b);
	us_close(c.l);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(so_linger_close_waits_for_the_ack_at_most_the_linger_time)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	struct linger l = { .l_onoff = 1, .l_linger = 5 };
	ck_assert_int_eq(us_setsockopt(c.a, US_SOL_SOCKET, US_SO_LINGER, &l, sizeof l), 0);
	ck_assert_int_eq(us_send(c.a, "bye", 3), 3);
	/* The peer is up: the close returns once data and FIN are acked. */
	struct job j = { 0 };
	job_start(&j, do_close, c.a);
	job_join(&j);
	ck_assert_int_eq(j.rc, 0);
	uint8_t *all = NULL;
	size_t len = 0;
	ck_assert_int_eq(us_readall(c.b, &all, &len), 0);
	ck_assert_uint_eq(len, 3);
	free(all);
	us_close(c.b);

	/* The peer does not read: its window closes, the data and the FIN
	 * are not all acknowledged, and the close gives up after 5 s. */
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	struct us_addr to = us_test_addr4(B_IP4, 80);
	ck_assert_int_eq(us_connect(a, &to), 0);
	int b = us_accept(c.l, NULL);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(us_setsockopt(a, US_SOL_SOCKET, US_SO_LINGER, &l, sizeof l), 0);
	ck_assert_int_eq(us_setblocking(a, false), 0);
	static uint8_t chunk[65536];
	size_t queued = 0;
	/* Until the send buffer stays full: with window scaling the peer's
	 * whole 256 KB buffer is offered, and a send buffer full for a moment
	 * may still drain into it (so stop only after 10 stalls in a row). */
	int stalls = 0;
	for (int round = 0; round < 400 && stalls < 10; round++) {
		size_t now_sent = 0;
		int rc = us_sendall(a, chunk, sizeof chunk, &now_sent);
		queued += now_sent;
		if (rc == 0)
			continue;
		ck_assert_int_eq(errno, EAGAIN);
		stalls = now_sent == 0 ? stalls + 1 : 0;
		us_test_sleep_ms(20);
	}
	ck_assert_uint_gt(queued, 0);
	struct job jc = { 0 };
	job_start(&jc, do_close, a);
	/* The handle is dead while close waits: move the clock until it returns. */
	for (int i = 0; i < 20000 && !atomic_load(&jc.done); i++) {
		us_test_sleep_ms(1);
		if (i % 5 == 4)
			us_test_advance(&n, US_MSEC(100));
	}
	job_join(&jc);
	ck_assert_int_eq(jc.rc, 0);
	ck_assert_int_ge(jc.ended - jc.started, US_SEC(5));
	EXPECT_ERR(us_getsocketsta(a), EBADF);
	us_close(b);
	us_close(c.l);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(getsocketsta_follows_a_connection_through_its_life)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_eq(us_getsocketsta(a), US_TCP_CLOSED);
	int l = listener(n.b, US_AF_INET, 80);
	ck_assert_int_eq(us_getsocketsta(l), US_TCP_LISTEN);
	struct us_addr to = us_test_addr4(B_IP4, 80);
	ck_assert_int_eq(us_connect(a, &to), 0);
	ck_assert_int_eq(us_getsocketsta(a), US_TCP_ESTABLISHED);
	int b = us_accept(l, NULL);
	ck_assert_int_eq(us_getsocketsta(b), US_TCP_ESTABLISHED);

	/* A closes its half: FIN_WAIT_1, then FIN_WAIT_2 once B acks. */
	ck_assert_int_eq(us_shutdown(a, US_SHUT_WR), 0);
	int st = us_getsocketsta(a);
	ck_assert(st == US_TCP_FIN_WAIT_1 || st == US_TCP_FIN_WAIT_2);
	wait_state(a, US_TCP_FIN_WAIT_2);
	wait_state(b, US_TCP_CLOSE_WAIT);
	/* B closes too: LAST_ACK, then gone; A waits in TIME_WAIT. */
	ck_assert_int_eq(us_shutdown(b, US_SHUT_WR), 0);
	st = us_getsocketsta(b);
	ck_assert(st == US_TCP_LAST_ACK || st == US_TCP_CLOSED);
	wait_state(a, US_TCP_TIME_WAIT);
	wait_state(b, US_TCP_CLOSED);
	/* TIME_WAIT lasts 2 * MSL (60 s by default). */
	us_test_advance(&n, US_SEC(59));
	us_test_sleep_ms(20);
	ck_assert_int_eq(us_getsocketsta(a), US_TCP_TIME_WAIT);
	us_test_advance(&n, US_SEC(1));
	wait_state(a, US_TCP_CLOSED);
	ck_assert_int_eq(us_close(a), 0);
	ck_assert_int_eq(us_close(b), 0);
	ck_assert_int_eq(us_close(l), 0);
	EXPECT_ERR(us_getsocketsta(a), EBADF);
	EXPECT_ERR(us_getsocketsta(b), EBADF);
	EXPECT_ERR(us_getsocketsta(l), EBADF);

	/* An active open that waits for its SYN-ACK is SYN_SENT. */
	a = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_eq(us_setblocking(a, false), 0);
	to = us_test_addr4(NOBODY, 80);
	EXPECT_ERR(us_connect(a, &to), EINPROGRESS);
	ck_assert_int_eq(us_getsocketsta(a), US_TCP_SYN_SENT);
	us_close(a);
	EXPECT_ERR(us_getsocketsta(a), EBADF);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Errors, options, files, poll ------------------------------------------------- */

/* us_runtime_with_core(): is a connection from port `port` in TIME_WAIT? */
struct time_wait_probe {
	uint16_t port;
	bool found;
};

static void find_time_wait(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	struct time_wait_probe *p = arg;
	struct us_tcp_info info[16];
	size_t n = us_stack_tcp_table(s, info, 16);
	for (size_t i = 0; i < n && i < 16; i++)
		if (info[i].state == US_TCP_TIME_WAIT && info[i].local.port == p->port)
			p->found = true;
}

/* The server closes first, so its end of the connection sits in TIME_WAIT
 * holding port 80: a new listener binds there only with SO_REUSEADDR (as
 * on Linux), and then serves a new connection. */
START_TEST(so_reuseaddr_rebinds_a_listener_while_an_old_connection_is_in_time_wait)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	ck_assert_int_eq(us_close(c.l), 0);
	ck_assert_int_eq(us_close(c.b), 0); /* active close: FIN from B */
	wait_state(c.a, US_TCP_CLOSE_WAIT);
	ck_assert_int_eq(us_close(c.a), 0); /* A's FIN: B's end goes to TIME_WAIT */

	/* Wait (bounded) for B's orphan to reach TIME_WAIT in its stack. */
	bool in_time_wait = false;
	for (int i = 0; i < 20000 && !in_time_wait; i++) {
		struct time_wait_probe tw = { .port = 80 };
		us_runtime_with_core(n.b, find_time_wait, &tw);
		in_time_wait = tw.found;
		if (!in_time_wait)
			us_test_sleep_ms(1);
	}
	ck_assert_msg(in_time_wait, "port 80 was never held by B's TIME_WAIT");

	int l2 = us_socket(n.b, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_ge(l2, 0);
	struct us_addr p80 = us_test_addr4(0, 80);
	EXPECT_ERR(us_bind(l2, &p80), EADDRINUSE);
	us_close(l2);
	l2 = us_socket(n.b, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_eq(us_setsockopt_int(l2, US_SOL_SOCKET, US_SO_REUSEADDR, 1), 0);
	ck_assert_int_eq(us_bind(l2, &p80), 0);
	ck_assert_int_eq(us_listen(l2, 4), 0);

	int a2 = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	struct us_addr to = us_test_addr4(B_IP4, 80);
	ck_assert_int_eq(us_connect(a2, &to), 0);
	int b2 = us_accept(l2, NULL);
	ck_assert_int_ge(b2, 0);
	ck_assert_int_eq(us_send(a2, "again", 5), 5);
	expect_bytes(b2, "again");
	us_close(a2);
	us_close(b2);
	us_close(l2);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(calls_in_the_wrong_state_get_clear_errnos)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	char buf[8];
	struct us_addr got, to = us_test_addr4(B_IP4, 80);
	EXPECT_ERR(us_send(s, "x", 1), ENOTCONN);
	EXPECT_ERR(us_write(s, "x", 1), ENOTCONN);
	EXPECT_ERR(us_sendall(s, "x", 1, NULL), ENOTCONN);
	EXPECT_ERR(us_recv(s, buf, sizeof buf), ENOTCONN);
	EXPECT_ERR(us_read(s, buf, sizeof buf), ENOTCONN);
	EXPECT_ERR(us_sendto(s, "x", 1, &to), ENOTCONN);
	EXPECT_ERR(us_sendto(s, "x", 1, NULL), EFAULT);
	EXPECT_ERR(us_accept(s, &got), EINVAL);
	EXPECT_ERR(us_shutdown(s, US_SHUT_RDWR), ENOTCONN);
	EXPECT_ERR(us_shutdown(s, 7), EINVAL);
	EXPECT_ERR(us_getpeername(s, &got), ENOTCONN);
	EXPECT_ERR(us_connect(s, NULL), EFAULT);
	struct us_addr six = us_test_addr6(2, 80);
	EXPECT_ERR(us_connect(s, &six), EAFNOSUPPORT);
	EXPECT_ERR(us_bind(s, &six), EAFNOSUPPORT);
	struct us_addr any = { .family = US_AF_INET, .port = 0 };
	ck_assert_int_eq(us_bind(s, &any), 0);
	EXPECT_ERR(us_bind(s, &any), EINVAL);
	us_close(s);

	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	EXPECT_ERR(us_listen(c.a, 5), EINVAL);
	EXPECT_ERR(us_accept(c.a, &got), EINVAL);
	EXPECT_ERR(us_connect(c.a, &to), EISCONN);
	EXPECT_ERR(us_connect(c.l, &to), EINVAL);
	EXPECT_ERR(us_sendto(c.a, "x", 1, &to), EISCONN);
	EXPECT_ERR(us_send(c.l, "x", 1), ENOTCONN);
	EXPECT_ERR(us_recv(c.l, buf, sizeof buf), ENOTCONN);
	/* A listener may be given a new backlog. */
	ck_assert_int_eq(us_listen(c.l, 16), 0);
	/* Two listeners on one port: EADDRINUSE. */
	int l2 = us_socket(n.b, US_AF_INET, US_SOCK_STREAM, 0);
	struct us_addr port80 = { .family = US_AF_INET, .port = 80 };
	EXPECT_ERR(us_bind(l2, &port80), EADDRINUSE);
	us_close(l2);
	conn_close(&c);
	/* Every call on a closed stream handle: EBADF. */
	EXPECT_ERR(us_send(c.a, "x", 1), EBADF);
	EXPECT_ERR(us_accept(c.l, NULL), EBADF);
	EXPECT_ERR(us_listen(c.l, 1), EBADF);
	EXPECT_ERR(us_close(c.b), EBADF);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(stream_options_are_set_and_read_back)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, US_IPPROTO_TCP);
	int v = -1;
	size_t len = sizeof v;
#define ROUND_TRIP(level, opt, set, want)                                              \
	do {                                                                           \
		ck_assert_int_eq(us_setsockopt_int(s, level, opt, set), 0);            \
		len = sizeof v;                                                        \
		ck_assert_int_eq(us_getsockopt(s, level, opt, &v, &len), 0);           \
		ck_assert_uint_eq(len, sizeof v);                                      \
		ck_assert_int_eq(v, want);                                             \
	} while (0)
	ROUND_TRIP(US_SOL_SOCKET, US_SO_REUSEADDR, 5, 1);
	ROUND_TRIP(US_SOL_SOCKET, US_SO_REUSEADDR, 0, 0);
	ROUND_TRIP(US_SOL_SOCKET, US_SO_KEEPALIVE, 1, 1);
	ROUND_TRIP(US_SOL_SOCKET, US_SO_RCVBUF, 65536, 65536);
	ROUND_TRIP(US_SOL_SOCKET, US_SO_SNDBUF, 65536, 65536);
	ROUND_TRIP(US_IPPROTO_TCP, US_TCP_NODELAY, 1, 1);
	ROUND_TRIP(US_IPPROTO_TCP, US_TCP_NODELAY, 0, 0);
	ROUND_TRIP(US_IPPROTO_TCP, US_TCP_KEEPIDLE, 60, 60);
	ROUND_TRIP(US_IPPROTO_TCP, US_TCP_KEEPINTVL, 10, 10);
	ROUND_TRIP(US_IPPROTO_TCP, US_TCP_KEEPCNT, 3, 3);
	ROUND_TRIP(US_IPPROTO_IP, US_IP_TTL, 17, 17);
	ROUND_TRIP(US_IPPROTO_IP, US_IP_TTL, -1, 64);
	ROUND_TRIP(US_IPPROTO_IP, US_IP_TOS, 0x10, 0x10);
	len = sizeof v;
	ck_assert_int_eq(us_getsockopt(s, US_SOL_SOCKET, US_SO_TYPE, &v, &len), 0);
	ck_assert_int_eq(v, US_SOCK_STREAM);
	ck_assert_int_eq(us_getsockopt(s, US_SOL_SOCKET, US_SO_ERROR, &v, &len), 0);
	ck_assert_int_eq(v, 0);

	/* SO_LINGER takes and gives a struct linger. */
	struct linger l = { 0 }, out = { .l_onoff = 9, .l_linger = 9 };
	len = sizeof out;
	ck_assert_int_eq(us_getsockopt(s, US_SOL_SOCKET, US_SO_LINGER, &out, &len), 0);
	ck_assert_int_eq(out.l_onoff, 0);
	l.l_onoff = 1;
	l.l_linger = 7;
	ck_assert_int_eq(us_setsockopt(s, US_SOL_SOCKET, US_SO_LINGER, &l, sizeof l), 0);
	len = sizeof out;
	ck_assert_int_eq(us_getsockopt(s, US_SOL_SOCKET, US_SO_LINGER, &out, &len), 0);
	ck_assert_uint_eq(len, sizeof out);
	ck_assert_int_eq(out.l_onoff, 1);
	ck_assert_int_eq(out.l_linger, 7);
	l.l_onoff = 0;
	ck_assert_int_eq(us_setsockopt(s, US_SOL_SOCKET, US_SO_LINGER, &l, sizeof l), 0);
	len = sizeof out;
	ck_assert_int_eq(us_getsockopt(s, US_SOL_SOCKET, US_SO_LINGER, &out, &len), 0);
	ck_assert_int_eq(out.l_onoff, 0);
	EXPECT_ERR(us_setsockopt_int(s, US_SOL_SOCKET, US_SO_LINGER, 1), EINVAL);
	len = sizeof(int);
	EXPECT_ERR(us_getsockopt(s, US_SOL_SOCKET, US_SO_LINGER, &v, &len), EINVAL);
	l.l_onoff = 1;
	l.l_linger = -1;
	EXPECT_ERR(us_setsockopt(s, US_SOL_SOCKET, US_SO_LINGER, &l, sizeof l), EINVAL);

	/* What a stream socket does not take. */
	EXPECT_ERR(us_setsockopt_int(s, US_SOL_SOCKET, US_SO_BROADCAST, 1), ENOPROTOOPT);
	len = sizeof v;
	EXPECT_ERR(us_getsockopt(s, US_SOL_SOCKET, US_SO_BROADCAST, &v, &len), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s, US_IPPROTO_TCP, 999, 1), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s, US_IPPROTO_TCP, US_TCP_KEEPCNT, 0), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s, US_IPPROTO_TCP, US_TCP_KEEPCNT, 128), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s, US_IPPROTO_TCP, US_TCP_KEEPIDLE, 0), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s, US_IPPROTO_IPV6, US_IPV6_V6ONLY, 1), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s, US_SOL_SOCKET, US_SO_TYPE, 1), ENOPROTOOPT);
	us_close(s);

	/* IPv6: V6ONLY, the hop limit. */
	s = us_socket(n.a, US_AF_INET6, US_SOCK_STREAM, 0);
	ROUND_TRIP(US_IPPROTO_IPV6, US_IPV6_V6ONLY, 1, 1);
	ROUND_TRIP(US_IPPROTO_IPV6, US_IPV6_V6ONLY, 0, 0);
	ROUND_TRIP(US_IPPROTO_IPV6, US_IPV6_UNICAST_HOPS, 9, 9);
	EXPECT_ERR(us_setsockopt_int(s, US_IPPROTO_IP, US_IP_TTL, 9), ENOPROTOOPT);
	us_close(s);
#undef ROUND_TRIP

	/* Datagram sockets still refuse the stream options. */
	int u = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	EXPECT_ERR(us_setsockopt_int(u, US_SOL_SOCKET, US_SO_KEEPALIVE, 1), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(u, US_IPPROTO_TCP, US_TCP_NODELAY, 1), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt(u, US_SOL_SOCKET, US_SO_LINGER, &l, sizeof l), ENOPROTOOPT);
	EXPECT_ERR(us_listen(u, 1), EOPNOTSUPP);
	us_close(u);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(options_reach_the_connection)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	/* The accepted socket's options are its own. */
	int v = -1;
	size_t len = sizeof v;
	ck_assert_int_eq(us_setsockopt_int(c.b, US_IPPROTO_TCP, US_TCP_NODELAY, 0), 0);
	ck_assert_int_eq(us_getsockopt(c.b, US_IPPROTO_TCP, US_TCP_NODELAY, &v, &len), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(us_getsockopt(c.a, US_IPPROTO_TCP, US_TCP_NODELAY, &v, &len), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(us_setsockopt_int(c.a, US_SOL_SOCKET, US_SO_KEEPALIVE, 1), 0);
	ck_assert_int_eq(us_getsockopt(c.a, US_SOL_SOCKET, US_SO_KEEPALIVE, &v, &len), 0);
	ck_assert_int_eq(v, 1);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(makefile_reads_lines_and_writes_when_flushed)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	FILE *w = us_makefile(c.a, "wb");
	ck_assert_ptr_nonnull(w);
	FILE *r = us_makefile(c.b, "rb");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_ge(fprintf(w, "line %d\n", 1), 0);
	ck_assert_int_ge(fputs("line 2\n", w), 0);
	/* Fully buffered: nothing has left yet. */
	us_test_sleep_ms(20);
	struct us_pollfd p = { .sock = c.b, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&p, 1, 0), 0);
	ck_assert_int_eq(fflush(w), 0);
	char line[32];
	ck_assert_ptr_nonnull(fgets(line, sizeof line, r));
	ck_assert_str_eq(line, "line 1\n");
	ck_assert_ptr_nonnull(fgets(line, sizeof line, r));
	ck_assert_str_eq(line, "line 2\n");
	/* Binary data passes unchanged; fclose flushes. */
	static const uint8_t bin[6] = { 0, 1, 0xff, '\n', 0, 2 };
	ck_assert_uint_eq(fwrite(bin, 1, sizeof bin, w), sizeof bin);
	ck_assert_int_eq(fclose(w), 0);
	uint8_t got[6];
	ck_assert_uint_eq(fread(got, 1, sizeof got, r), sizeof got);
	ck_assert_mem_eq(got, bin, sizeof bin);
	ck_assert_int_eq(us_shutdown(c.a, US_SHUT_WR), 0);
	ck_assert_int_eq(fgetc(r), EOF);
	ck_assert(feof(r));
	ck_assert_int_eq(fclose(r), 0);
	/* Closing the files left the sockets open. */
	ck_assert_int_eq(us_getsocketsta(c.b), US_TCP_CLOSE_WAIT);
	ck_assert_int_eq(us_send(c.b, "k", 1), 1);
	expect_bytes(c.a, "k");
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(stopping_the_runtime_wakes_stream_calls_and_frees_the_connections)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	ck_assert_int_eq(us_send(c.a, "pending", 7), 7);
	wait_readable(c.b);
	struct job j = { .size = 100 };
	job_start(&j, do_read, c.b);
	struct job ja = { 0 };
	job_start(&ja, do_accept, c.l);
	us_test_wait_blocked(c.l, 1);
	/* The read took the 7 bytes and waits for more. */
	us_test_wait_blocked(c.b, 1);
	us_runtime_stop(n.b);
	job_join(&j);
	job_join(&ja);
	/* The part read is returned, not lost. */
	ck_assert_int_eq(j.rc, 7);
	ck_assert_mem_eq(j.buf, "pending", 7);
	ck_assert_int_eq(ja.rc, -1);
	ck_assert_int_eq(ja.err, ENETDOWN);
	char buf[4];
	EXPECT_ERR(us_recv(c.b, buf, sizeof buf), ENETDOWN);
	ck_assert_int_eq(us_getsocketsta(c.b), US_TCP_CLOSED);
	ck_assert_int_eq(us_close(c.b), 0);
	ck_assert_int_eq(us_close(c.l), 0);
	us_close(c.a);
	us_runtime_stop(n.a);
}
END_TEST

START_TEST(poll_watches_listeners_and_connections_together)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct conn c;
	connect_pair(&n, US_AF_INET, US_AF_INET, &c);
	struct us_pollfd p[3] = {
		{ .sock = c.l, .events = US_POLLIN },
		{ .sock = c.b, .events = US_POLLIN },
		{ .sock = c.a, .events = US_POLLOUT },
	};
	/* Only A's end is writable; nothing to read or accept. */
	ck_assert_int_eq(us_poll(p, 3, 0), 1);
	ck_assert_int_eq(p[0].revents, 0);
	ck_assert_int_eq(p[1].revents, 0);
	ck_assert_int_eq(p[2].revents, US_POLLOUT);
	/* A blocked poll wakes on data. */
	p[2].events = US_POLLIN;
	ck_assert_int_eq(us_send(c.a, "wake", 4), 4);
	ck_assert_int_eq(us_poll(p, 3, -1), 1);
	ck_assert_int_eq(p[1].revents, US_POLLIN);
	expect_bytes(c.b, "wake");
	ck_assert_int_eq(us_poll(p, 3, 0), 0);
	conn_close(&c);
	us_test_net_stop(&n);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("socket_tcp");
	TCase *tc = tcase_create("socket_tcp");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, an_ipv4_client_connects_and_both_ends_name_each_other);
	tcase_add_test(tc, an_ipv6_connection_echoes_data_both_ways);
	tcase_add_test(tc, an_ipv4_client_reaches_a_dual_stack_ipv6_listener);
	tcase_add_test(tc, a_refused_connect_is_econnrefused_blocking_or_not);
	tcase_add_test(tc, a_non_blocking_connect_completes_through_poll_and_so_error);
	tcase_add_test(tc, a_second_connect_while_the_first_runs_is_ealready);
	tcase_add_test(tc, a_connect_timeout_aborts_the_attempt_and_the_socket_connects_later);
	tcase_add_test(tc, an_unanswered_syn_fails_a_blocking_connect_with_etimedout);
	tcase_add_test(tc, an_accept_times_out_and_a_non_blocking_one_says_eagain);
	tcase_add_test(tc, a_blocking_read_waits_for_the_exact_size);
	tcase_add_test(tc, a_read_timeout_returns_the_part_that_came_and_loses_nothing);
	tcase_add_test(tc, readline_takes_one_line_and_not_a_byte_more);
	tcase_add_test(tc, readline_waits_for_the_newline_across_segments);
	tcase_add_test(tc, readall_and_readinto_read_until_the_peer_closes);
	tcase_add_test(tc, sendall_moves_a_megabyte_intact);
	tcase_add_test(tc, a_non_blocking_sendall_reports_what_it_queued);
	tcase_add_test(tc, shutdown_wr_half_closes_and_the_peer_still_answers);
	tcase_add_test(tc, shutdown_rd_ends_the_stream_for_a_blocked_reader);
	tcase_add_test(tc, so_linger_zero_aborts_and_the_peer_sees_econnreset);
	tcase_add_test(tc, closing_with_unread_data_resets_the_connection);
	tcase_add_test(tc, so_linger_close_waits_for_the_ack_at_most_the_linger_time);
	tcase_add_test(tc, getsocketsta_follows_a_connection_through_its_life);
	tcase_add_test(tc, so_reuseaddr_rebinds_a_listener_while_an_old_connection_is_in_time_wait);
	tcase_add_test(tc, calls_in_the_wrong_state_get_clear_errnos);
	tcase_add_test(tc, stream_options_are_set_and_read_back);
	tcase_add_test(tc, options_reach_the_connection);
	tcase_add_test(tc, makefile_reads_lines_and_writes_when_flushed);
	tcase_add_test(tc, stopping_the_runtime_wakes_stream_calls_and_frees_the_connections);
	tcase_add_test(tc, poll_watches_listeners_and_connections_together);
	tcase_add_test(tc, modern_tcp_options_switch_sack_and_congestion_control_and_read_tcp_info);
	tcase_add_test(tc, tcp_ecn_enable_is_off_by_default_and_negotiates_when_both_ends_set_it);
	suite_add_tcase(s, tc);
	return s;
}

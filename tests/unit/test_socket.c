/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the socket API (src/api/socket.c) and the runtime's side of
 * it (src/api/runtime.c: default runtime, waking blocked calls, the resolver
 * configuration).
 *
 * Two runtimes on one virtual clock, joined by the in-memory link
 * (testnet.h). A call under test that must block is started in a thread,
 * and the clock is moved only once us_socket_waiters() says the call waits.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/memlink.h>
#include <ustack/ustack.h>

#include "socket_impl.h"
#include "testnet.h"

/* A UDP socket bound to the wildcard address and port. */
static int udp_bound(struct us_runtime *rt, int af, uint16_t port)
{
	int s = us_socket(rt, af, US_SOCK_DGRAM, 0);
	ck_assert_int_ge(s, 0);
	struct us_addr any = { .family = af, .port = port };
	ck_assert_int_eq(us_bind(s, &any), 0);
	return s;
}

/* The same for calls that return a pointer. */
#define EXPECT_NULL_ERR(call, want)                                                              \
	do {                                                                                     \
		errno = 0;                                                                       \
		const void *p_ = (call);                                                         \
		int e_ = errno;                                                                  \
		ck_assert_msg(p_ == NULL && e_ == (want), "%s: errno %d (%s); want NULL, %s", #call, \
			      e_, strerror(e_), strerror(want));                                 \
	} while (0)

/* ---- Threads that run one blocking call ---------------------------------- */

enum op { OP_RECV, OP_RECVFROM, OP_READ, OP_READLINE, OP_POLL };

struct job {
	enum op op;
	int sock;
	int timeout_ms; /* OP_POLL */
	const struct us_test_net *net;
	pthread_t thread;
	/* Results. */
	long rc;
	int err;
	uint8_t buf[256];
	struct us_addr from;
	short revents;
	us_time_t started, ended; /* virtual times */
	atomic_bool done;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	j->started = us_test_now();
	errno = 0;
	switch (j->op) {
	case OP_RECV:
		j->rc = us_recv(j->sock, j->buf, sizeof j->buf);
		break;
	case OP_RECVFROM:
		j->rc = us_recvfrom(j->sock, j->buf, sizeof j->buf, &j->from);
		break;
	case OP_READ:
		j->rc = us_read(j->sock, j->buf, sizeof j->buf);
		break;
	case OP_READLINE:
		j->rc = us_readline(j->sock, (char *)j->buf, sizeof j->buf);
		break;
	case OP_POLL: {
		struct us_pollfd p = { .sock = j->sock, .events = US_POLLIN };
		j->rc = us_poll(&p, 1, j->timeout_ms);
		j->revents = p.revents;
		break;
	}
	}
	j->err = errno;
	j->ended = us_test_now();
	atomic_store(&j->done, true);
	return NULL;
}

static void job_start(struct job *j, enum op op, int sock)
{
	j->op = op;
	j->sock = sock;
	atomic_init(&j->done, false);
	ck_assert_int_eq(pthread_create(&j->thread, NULL, run_job, j), 0);
}

/* Joins the job's thread, waiting at most 20 s of real time for it. */
static void job_join(struct job *j)
{
	us_test_join_within(j->thread, &j->done, 20);
}

/* ---- Datagrams between the runtimes --------------------------------------- */

START_TEST(udp_datagrams_cross_between_two_runtimes_over_ipv4)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sa = udp_bound(n.a, US_AF_INET, 5000);
	int sb = udp_bound(n.b, US_AF_INET, 7);

	struct us_addr to = us_test_addr4(B_IP4, 7);
	ck_assert_int_eq(us_sendto(sa, "ping", 4, &to), 4);
	char buf[64];
	struct us_addr from;
	ck_assert_int_eq(us_recvfrom(sb, buf, sizeof buf, &from), 4);
	ck_assert_mem_eq(buf, "ping", 4);
	ck_assert_int_eq(from.family, US_AF_INET);
	ck_assert_uint_eq(from.ip4, A_IP4);
	ck_assert_uint_eq(from.port, 5000);

	/* And back to where it came from. */
	ck_assert_int_eq(us_sendto(sb, "pong!", 5, &from), 5);
	ck_assert_int_eq(us_recvfrom(sa, buf, sizeof buf, &from), 5);
	ck_assert_mem_eq(buf, "pong!", 5);
	ck_assert_uint_eq(from.ip4, B_IP4);
	ck_assert_uint_eq(from.port, 7);

	us_close(sa);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(udp_datagrams_cross_between_two_runtimes_over_ipv6)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sa = udp_bound(n.a, US_AF_INET6, 0);
	int sb = udp_bound(n.b, US_AF_INET6, 7);
	struct us_addr local;
	ck_assert_int_eq(us_getsockname(sa, &local), 0);
	/* Port 0 picked an ephemeral port (RFC 6056 §2.1's range). */
	ck_assert_int_ge(local.port, 49152);

	struct us_addr to = us_test_addr6(2, 7);
	ck_assert_int_eq(us_sendto(sa, "ping6", 5, &to), 5);
	char buf[64];
	struct us_addr from;
	ck_assert_int_eq(us_recvfrom(sb, buf, sizeof buf, &from), 5);
	ck_assert_mem_eq(buf, "ping6", 5);
	ck_assert_int_eq(from.family, US_AF_INET6);
	struct us_ip6 a_ip = us_test_ip6(1);
	ck_assert_mem_eq(from.ip6.b, a_ip.b, 16);
	ck_assert_uint_eq(from.port, local.port);

	ck_assert_int_eq(us_sendto(sb, "pong6", 5, &from), 5);
	ck_assert_int_eq(us_recvfrom(sa, buf, sizeof buf, &from), 5);
	ck_assert_mem_eq(buf, "pong6", 5);
	ck_assert_uint_eq(from.port, 7);

	us_close(sa);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_connected_socket_sends_to_its_peer_and_names_both_ends)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sb = udp_bound(n.b, US_AF_INET, 9000);
	int sa = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, US_IPPROTO_UDP);
	ck_assert_int_ge(sa, 0);
	struct us_addr peer = us_test_addr4(B_IP4, 9000), got;
	EXPECT_ERR(us_getpeername(sa, &got), ENOTCONN);
	ck_assert_int_eq(us_connect(sa, &peer), 0);
	ck_assert_int_eq(us_getpeername(sa, &got), 0);
	ck_assert_int_eq(got.family, US_AF_INET);
	ck_assert_uint_eq(got.ip4, B_IP4);
	ck_assert_uint_eq(got.port, 9000);
	/* connect() bound the socket: our address toward B, an ephemeral port. */
	ck_assert_int_eq(us_getsockname(sa, &got), 0);
	ck_assert_uint_eq(got.ip4, A_IP4);
	ck_assert_int_ge(got.port, 49152);
	uint16_t a_port = got.port;

	ck_assert_int_eq(us_send(sa, "one", 3), 3);
	ck_assert_int_eq(us_write(sa, "two", 3), 3);
	size_t sent = 0;
	ck_assert_int_eq(us_sendall(sa, "three", 5, &sent), 0);
	ck_assert_uint_eq(sent, 5);
	char buf[16];
	struct us_addr from;
	ck_assert_int_eq(us_recvfrom(sb, buf, sizeof buf, &from), 3);
	ck_assert_mem_eq(buf, "one", 3);
	ck_assert_uint_eq(from.port, a_port);
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 3);
	ck_assert_mem_eq(buf, "two", 3);
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 5);
	ck_assert_mem_eq(buf, "three", 5);

	/* US_AF_UNSPEC dissolves the association. */
	struct us_addr none = { .family = US_AF_UNSPEC };
	ck_assert_int_eq(us_connect(sa, &none), 0);
	EXPECT_ERR(us_getpeername(sa, &got), ENOTCONN);
	EXPECT_ERR(us_send(sa, "x", 1), EDESTADDRREQ);
	us_close(sa);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_60000_byte_datagram_crosses_fragmented_and_oversize_ones_are_emsgsize)
{
	struct us_test_net n;
	us_test_net_start(&n);
	static uint8_t big[65600], got[65600];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	for (int af = US_AF_INET; af <= US_AF_INET6; af += US_AF_INET6 - US_AF_INET) {
		int sa = udp_bound(n.a, af, 0);
		int sb = udp_bound(n.b, af, 4000);
		struct us_addr to = af == US_AF_INET ? us_test_addr4(B_IP4, 4000) : us_test_addr6(2, 4000);
		/* A small one first: the fragments of the first datagram to a
		 * neighbour not yet resolved would overflow the queue that waits
		 * for its address (8 frames; they are dropped and counted). */
		ck_assert_int_eq(us_sendto(sa, "hi", 2, &to), 2);
		ck_assert_int_eq(us_recv(sb, got, sizeof got), 2);
		ck_assert_int_eq(us_sendto(sa, big, 60000, &to), 60000);
		memset(got, 0, sizeof got);
		ck_assert_int_eq(us_recv(sb, got, sizeof got), 60000);
		ck_assert_mem_eq(got, big, 60000);
		/* RFC 768 / RFC 791: 65535 - 20 - 8 bytes at most over IPv4;
		 * RFC 8200: 65535 - 8 over IPv6 (no jumbograms). */
		size_t over = af == US_AF_INET ? 65508 : 65528;
		EXPECT_ERR(us_sendto(sa, big, over, &to), EMSGSIZE);
		ck_assert_int_eq(us_sendto(sa, big, over - 1, &to), (ssize_t)(over - 1));
		/* us_readall() hands over the whole datagram, however large. */
		uint8_t *all = NULL;
		size_t len = 0;
		ck_assert_int_eq(us_readall(sb, &all, &len), 0);
		ck_assert_uint_eq(len, over - 1);
		ck_assert_mem_eq(all, big, over - 1);
		free(all);
		us_close(sa);
		us_close(sb);
	}
	us_test_net_stop(&n);
}
END_TEST

/* ---- Timeouts, on the virtual clock ---------------------------------------- */

START_TEST(a_100_ms_timeout_fires_when_the_virtual_clock_passes_it)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	ck_assert_int_eq(us_settimeout(sb, 0.1), 0);
	struct job j = { .net = &n };
	job_start(&j, OP_RECV, sb);
	us_test_wait_blocked(sb, 1);

	/* 99.999 ms later the call still waits ... */
	us_test_advance(&n, US_MSEC(100) - 1);
	us_test_sleep_ms(50);
	ck_assert_msg(!atomic_load(&j.done), "the timeout fired early");
	ck_assert_uint_eq(us_socket_waiters(sb), 1);
	/* ... and at 100 ms it ends. */
	us_test_advance(&n, 1);
	job_join(&j);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, ETIMEDOUT);
	ck_assert_int_eq(j.ended - j.started, US_MSEC(100));
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_none_timeout_waits_until_data_comes)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sb = udp_bound(n.b, US_AF_INET6, 7);
	int sa = udp_bound(n.a, US_AF_INET6, 0);
	double t = 0;
	ck_assert_int_eq(us_gettimeout(sb, &t), 0);
	ck_assert(t == US_TIMEOUT_NONE); /* blocking is the default */
	struct job j = { .net = &n };
	job_start(&j, OP_RECVFROM, sb);
	us_test_wait_blocked(sb, 1);

	/* An hour passes: no timeout. */
	us_test_advance(&n, US_SEC(3600));
	us_test_sleep_ms(50);
	ck_assert(!atomic_load(&j.done));
	ck_assert_uint_eq(us_socket_waiters(sb), 1);

	struct us_addr to = us_test_addr6(2, 7);
	ck_assert_int_eq(us_sendto(sa, "late", 4, &to), 4);
	job_join(&j);
	ck_assert_int_eq(j.rc, 4);
	ck_assert_mem_eq(j.buf, "late", 4);
	ck_assert_int_eq(j.from.family, US_AF_INET6);
	us_close(sa);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_non_blocking_socket_says_eagain_at_once)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	ck_assert_int_eq(us_setblocking(sb, false), 0);
	double t = -5;
	ck_assert_int_eq(us_gettimeout(sb, &t), 0);
	ck_assert(t == 0.0);
	char buf[8];
	struct us_addr from;
	uint8_t *p;
	size_t len;
	EXPECT_ERR(us_recv(sb, buf, sizeof buf), EAGAIN);
	EXPECT_ERR(us_recvfrom(sb, buf, sizeof buf, &from), EAGAIN);
	EXPECT_ERR(us_read(sb, buf, sizeof buf), EAGAIN);
	EXPECT_ERR(us_readinto(sb, buf, sizeof buf, 0), EAGAIN);
	EXPECT_ERR(us_readline(sb, buf, sizeof buf), EAGAIN);
	EXPECT_ERR(us_readall(sb, &p, &len), EAGAIN);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(us_socket_waiters(sb), 0);
	ck_assert_int_eq(us_setblocking(sb, true), 0);
	ck_assert_int_eq(us_gettimeout(sb, &t), 0);
	ck_assert(t == US_TIMEOUT_NONE);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(settimeout_keeps_the_value_and_rounds_tiny_ones_up)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s = udp_bound(n.b, US_AF_INET, 7);
	double t;
	ck_assert_int_eq(us_settimeout(s, 2.5), 0);
	ck_assert_int_eq(us_gettimeout(s, &t), 0);
	ck_assert(t == 2.5);
	/* 1 ns is still a blocking timeout (1 µs on the clock), not "non-blocking". */
	ck_assert_int_eq(us_settimeout(s, 1e-9), 0);
	struct job j = { .net = &n };
	job_start(&j, OP_RECV, s);
	us_test_wait_blocked(s, 1);
	us_test_advance(&n, 1);
	job_join(&j);
	ck_assert_int_eq(j.err, ETIMEDOUT);
	ck_assert_int_eq(j.ended - j.started, 1);
	us_close(s);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(on_the_real_clock_a_timeout_ends_after_its_time)
{
	/* The one test on real time: it checks the pthread_cond_timedwait()
	 * path, bounded to a few tens of milliseconds. */
	struct us_driver d, peer;
	ck_assert_int_eq(us_memlink_pair(&d, &peer, NULL), 0);
	struct us_runtime_config cfg = { .driver = d, .ipv4 = A_IP4, .ipv4_prefix = 24,
					 .fixed_seed = true };
	int err;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_ptr_nonnull(rt);
	int s = udp_bound(rt, US_AF_INET, 7);
	ck_assert_int_eq(us_settimeout(s, 0.03), 0);
	char buf[8];
	us_time_t t0 = us_test_monotonic_us();
	EXPECT_ERR(us_recv(s, buf, sizeof buf), ETIMEDOUT);
	us_time_t waited = us_test_monotonic_us() - t0;
	ck_assert_int_ge(waited, US_MSEC(30));
	ck_assert_int_lt(waited, US_SEC(10));
	struct us_pollfd pf = { .sock = s, .events = US_POLLIN };
	t0 = us_test_monotonic_us();
	ck_assert_int_eq(us_poll(&pf, 1, 20), 0);
	waited = us_test_monotonic_us() - t0;
	ck_assert_int_ge(waited, US_MSEC(20));
	ck_assert_int_lt(waited, US_SEC(10));
	us_close(s);
	us_runtime_stop(rt);
	peer.ops->close(peer.ctx);
}
END_TEST

/* ---- Receiving calls on datagrams ------------------------------------------ */

static void send_to_b(int sa, const char *text, size_t len, uint16_t port)
{
	struct us_addr to = us_test_addr4(B_IP4, port);
	ck_assert_int_eq(us_sendto(sa, text, len, &to), (ssize_t)len);
}

START_TEST(each_read_takes_one_datagram_cut_to_the_buffer)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sa = udp_bound(n.a, US_AF_INET, 0);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	char buf[64];

	/* recv: truncated to the buffer, the rest of the datagram is gone. */
	send_to_b(sa, "0123456789", 10, 7);
	send_to_b(sa, "next", 4, 7);
	ck_assert_int_eq(us_recv(sb, buf, 4), 4);
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 4);
	ck_assert_mem_eq(buf, "next", 4);

	/* read(size): one datagram, at most size bytes. */
	send_to_b(sa, "abcdef", 6, 7);
	ck_assert_int_eq(us_read(sb, buf, 3), 3);
	ck_assert_mem_eq(buf, "abc", 3);

	/* readinto: nbytes 0 means the whole buffer; nbytes caps it. */
	send_to_b(sa, "ABCDEFGH", 8, 7);
	send_to_b(sa, "xyz", 3, 7);
	memset(buf, '.', sizeof buf);
	ck_assert_int_eq(us_readinto(sb, buf, sizeof buf, 5), 5);
	ck_assert_mem_eq(buf, "ABCDE.", 6);
	ck_assert_int_eq(us_readinto(sb, buf, 8, 0), 3);
	ck_assert_mem_eq(buf, "xyz", 3);

	/* readline: within one datagram, up to and including the first '\n'. */
	send_to_b(sa, "line one\nline two\n", 18, 7);
	send_to_b(sa, "no newline", 10, 7);
	send_to_b(sa, "a long line\n", 12, 7);
	ck_assert_int_eq(us_readline(sb, buf, sizeof buf), 9);
	ck_assert_str_eq(buf, "line one\n");
	ck_assert_int_eq(us_readline(sb, buf, sizeof buf), 10);
	ck_assert_str_eq(buf, "no newline");
	ck_assert_int_eq(us_readline(sb, buf, 5), 4); /* cap - 1 bytes and the NUL */
	ck_assert_str_eq(buf, "a lo");

	/* readall: the whole next datagram, also an empty one. */
	send_to_b(sa, "", 0, 7);
	uint8_t *p = NULL;
	size_t len = 99;
	ck_assert_int_eq(us_readall(sb, &p, &len), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 0);
	free(p);

	us_close(sa);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(zero_lengths_send_empty_datagrams_and_read_nothing)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sa = udp_bound(n.a, US_AF_INET, 0);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	struct us_addr to = us_test_addr4(B_IP4, 7), from;
	char buf[16];
	size_t sent = 77;

	/* An empty datagram is a datagram (RFC 768: length 8 is legal). */
	ck_assert_int_eq(us_sendto(sa, NULL, 0, &to), 0);
	ck_assert_int_eq(us_connect(sa, &to), 0);
	ck_assert_int_eq(us_send(sa, NULL, 0), 0);
	ck_assert_int_eq(us_write(sa, NULL, 0), 0);
	ck_assert_int_eq(us_sendall(sa, NULL, 0, &sent), 0);
	ck_assert_uint_eq(sent, 0);
	ck_assert_int_eq(us_send(sa, "mark", 4), 4);

	ck_assert_int_eq(us_recvfrom(sb, buf, sizeof buf, &from), 0);
	ck_assert_uint_eq(from.ip4, A_IP4);
	/* recv(2) with len 0 still takes one datagram. */
	ck_assert_int_eq(us_recv(sb, NULL, 0), 0);
	ck_assert_int_eq(us_recv(sb, buf, 0), 0);
	/* read(0) and an empty readinto read nothing (Python's file semantics). */
	ck_assert_int_eq(us_read(sb, NULL, 0), 0);
	ck_assert_int_eq(us_readinto(sb, NULL, 0, 0), 0);
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 0);
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 4);
	ck_assert_mem_eq(buf, "mark", 4);

	/* readline needs room for a byte and the NUL. */
	EXPECT_ERR(us_readline(sb, buf, 0), EINVAL);
	EXPECT_ERR(us_readline(sb, buf, 1), EINVAL);
	EXPECT_ERR(us_readline(sb, NULL, 0), EINVAL);
	/* An option value of size 0 is the wrong size. */
	int v = 1;
	size_t vlen = 0;
	EXPECT_ERR(us_setsockopt(sb, US_SOL_SOCKET, US_SO_REUSEADDR, &v, 0), EINVAL);
	EXPECT_ERR(us_getsockopt(sb, US_SOL_SOCKET, US_SO_REUSEADDR, &v, &vlen), EINVAL);
	/* Polling nothing returns at once. */
	ck_assert_int_eq(us_poll(NULL, 0, 0), 0);
	ck_assert_int_eq(us_poll(NULL, 0, 100), 0);
	us_close(sa);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

/* ---- shutdown ------------------------------------------------------------ */

START_TEST(shut_rd_ends_the_stream_and_wakes_a_blocked_reader)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sa = udp_bound(n.a, US_AF_INET, 6000);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	EXPECT_ERR(us_shutdown(sb, US_SHUT_RD), ENOTCONN);
	struct us_addr peer = us_test_addr4(A_IP4, 6000);
	ck_assert_int_eq(us_connect(sb, &peer), 0);
	EXPECT_ERR(us_shutdown(sb, 3), EINVAL);
	EXPECT_ERR(us_shutdown(sb, -1), EINVAL);

	struct job j = { .net = &n };
	job_start(&j, OP_READLINE, sb);
	us_test_wait_blocked(sb, 1);
	ck_assert_int_eq(us_shutdown(sb, US_SHUT_RD), 0);
	job_join(&j);
	ck_assert_int_eq(j.rc, 0);
	ck_assert_str_eq((char *)j.buf, "");

	/* Datagrams that come later are not delivered: end of stream. */
	send_to_b(sa, "after", 5, 7);
	char buf[8];
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 0);
	uint8_t *p;
	size_t len = 5;
	ck_assert_int_eq(us_readall(sb, &p, &len), 0);
	ck_assert_uint_eq(len, 0);
	free(p);
	struct us_pollfd pf = { .sock = sb, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&pf, 1, -1), 1);
	ck_assert_int_eq(pf.revents, US_POLLIN);

	/* SHUT_WR: sending is over (EPIPE); both: POLLHUP. */
	ck_assert_int_eq(us_send(sb, "x", 1), 1);
	ck_assert_int_eq(us_shutdown(sb, US_SHUT_WR), 0);
	EXPECT_ERR(us_send(sb, "x", 1), EPIPE);
	EXPECT_ERR(us_write(sb, "x", 1), EPIPE);
	size_t sent = 9;
	EXPECT_ERR(us_sendall(sb, "x", 1, &sent), EPIPE);
	ck_assert_uint_eq(sent, 0);
	pf.events = US_POLLIN | US_POLLOUT;
	ck_assert_int_eq(us_poll(&pf, 1, 0), 1);
	ck_assert_int_eq(pf.revents, US_POLLIN | US_POLLOUT | US_POLLHUP);
	us_close(sa);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Errors from the network --------------------------------------------- */

START_TEST(port_unreachable_is_econnrefused_on_a_connected_socket_and_in_so_error)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sa = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	struct us_addr nobody = us_test_addr4(B_IP4, 9);
	ck_assert_int_eq(us_connect(sa, &nobody), 0);

	/* RFC 1122 §4.1.3.3: the ICMP error reaches the application. */
	ck_assert_int_eq(us_send(sa, "anyone?", 7), 7);
	char buf[8];
	EXPECT_ERR(us_recv(sa, buf, sizeof buf), ECONNREFUSED);

	/* Again, this time read through poll and SO_ERROR, which clears it. */
	ck_assert_int_eq(us_send(sa, "anyone?", 7), 7);
	struct us_pollfd pf = { .sock = sa, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&pf, 1, -1), 1);
	ck_assert_int_eq(pf.revents, US_POLLIN | US_POLLERR);
	int err = -1;
	size_t len = sizeof err;
	ck_assert_int_eq(us_getsockopt(sa, US_SOL_SOCKET, US_SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, ECONNREFUSED);
	ck_assert_uint_eq(len, sizeof(int));
	ck_assert_int_eq(us_getsockopt(sa, US_SOL_SOCKET, US_SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(us_poll(&pf, 1, 0), 0);
	us_close(sa);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Options --------------------------------------------------------------- */

static int getopt_int(int s, int level, int opt)
{
	int v = -12345;
	size_t len = sizeof v;
	ck_assert_int_eq(us_getsockopt(s, level, opt, &v, &len), 0);
	ck_assert_uint_eq(len, sizeof v);
	return v;
}

START_TEST(options_are_set_and_read_back)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s4 = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	int s6 = us_socket(n.a, US_AF_INET6, US_SOCK_DGRAM, 0);
	int r4 = us_socket(n.a, US_AF_INET, US_SOCK_RAW, US_IPPROTO_ICMP);
	ck_assert_int_ge(r4, 0);

	ck_assert_int_eq(getopt_int(s4, US_SOL_SOCKET, US_SO_TYPE), US_SOCK_DGRAM);
	ck_assert_int_eq(getopt_int(r4, US_SOL_SOCKET, US_SO_TYPE), US_SOCK_RAW);
	ck_assert_int_eq(getopt_int(s4, US_SOL_SOCKET, US_SO_REUSEADDR), 0);
	ck_assert_int_eq(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_REUSEADDR, 5), 0);
	ck_assert_int_eq(getopt_int(s4, US_SOL_SOCKET, US_SO_REUSEADDR), 1);
	ck_assert_int_eq(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_BROADCAST, 1), 0);
	ck_assert_int_eq(getopt_int(s4, US_SOL_SOCKET, US_SO_BROADCAST), 1);
	ck_assert_int_eq(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_RCVBUF, 65536), 0);
	ck_assert_int_eq(getopt_int(s4, US_SOL_SOCKET, US_SO_RCVBUF), 65536);
	ck_assert_int_eq(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_SNDBUF, 32768), 0);
	ck_assert_int_eq(getopt_int(s4, US_SOL_SOCKET, US_SO_SNDBUF), 32768);
	/* IP_TTL: 64 while the default is in use (RFC 1122 §3.2.1.7); -1 is
	 * "the default" again, as in Linux. */
	ck_assert_int_eq(getopt_int(s4, US_IPPROTO_IP, US_IP_TTL), 64);
	ck_assert_int_eq(us_setsockopt_int(s4, US_IPPROTO_IP, US_IP_TTL, 3), 0);
	ck_assert_int_eq(getopt_int(s4, US_IPPROTO_IP, US_IP_TTL), 3);
	ck_assert_int_eq(us_setsockopt_int(s4, US_IPPROTO_IP, US_IP_TTL, -1), 0);
	ck_assert_int_eq(getopt_int(s4, US_IPPROTO_IP, US_IP_TTL), 64);
	ck_assert_int_eq(us_setsockopt_int(s4, US_IPPROTO_IP, US_IP_TOS, 0x10), 0);
	ck_assert_int_eq(getopt_int(s4, US_IPPROTO_IP, US_IP_TOS), 0x10);
	ck_assert_int_eq(us_setsockopt_int(r4, US_IPPROTO_IP, US_IP_TTL, 9), 0);
	ck_assert_int_eq(getopt_int(r4, US_IPPROTO_IP, US_IP_TTL), 9);

	ck_assert_int_eq(getopt_int(s6, US_IPPROTO_IPV6, US_IPV6_V6ONLY), 0);
	ck_assert_int_eq(us_setsockopt_int(s6, US_IPPROTO_IPV6, US_IPV6_V6ONLY, 1), 0);
	ck_assert_int_eq(getopt_int(s6, US_IPPROTO_IPV6, US_IPV6_V6ONLY), 1);
	ck_assert_int_eq(us_setsockopt_int(s6, US_IPPROTO_IPV6, US_IPV6_UNICAST_HOPS, 200), 0);
	ck_assert_int_eq(getopt_int(s6, US_IPPROTO_IPV6, US_IPV6_UNICAST_HOPS), 200);

	/* V6ONLY: the IPv6 socket no longer reaches IPv4 peers. */
	struct us_addr v4peer = us_test_addr4(B_IP4, 7);
	EXPECT_ERR(us_connect(s6, &v4peer), EAFNOSUPPORT);
	/* ... and can no longer change once bound (as in Linux). */
	struct us_addr any6 = { .family = US_AF_INET6 };
	ck_assert_int_eq(us_bind(s6, &any6), 0);
	EXPECT_ERR(us_setsockopt_int(s6, US_IPPROTO_IPV6, US_IPV6_V6ONLY, 0), EINVAL);

	us_close(s4);
	us_close(s6);
	us_close(r4);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(bad_options_get_enoprotoopt_or_einval)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s4 = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	int s6 = us_socket(n.a, US_AF_INET6, US_SOCK_DGRAM, 0);
	int v = 1;
	size_t len = sizeof v;
	long long wide = 1;
	char narrow = 1;

	/* Unknown level or option, or one of another family or of TCP. */
	EXPECT_ERR(us_setsockopt_int(s4, 999, US_SO_REUSEADDR, 1), ENOPROTOOPT);
	EXPECT_ERR(us_getsockopt(s4, 999, US_SO_REUSEADDR, &v, &len), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s4, US_SOL_SOCKET, 999, 1), ENOPROTOOPT);
	EXPECT_ERR(us_getsockopt(s4, US_SOL_SOCKET, 999, &v, &len), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s4, US_IPPROTO_IP, 999, 1), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s4, US_IPPROTO_IPV6, US_IPV6_V6ONLY, 1), ENOPROTOOPT);
	EXPECT_ERR(us_getsockopt(s4, US_IPPROTO_IPV6, US_IPV6_V6ONLY, &v, &len), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s6, US_IPPROTO_IP, US_IP_TTL, 1), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s6, US_IPPROTO_IPV6, 999, 1), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s4, US_IPPROTO_TCP, US_TCP_NODELAY, 1), ENOPROTOOPT);
	EXPECT_ERR(us_getsockopt(s4, US_IPPROTO_TCP, US_TCP_NODELAY, &v, &len), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_KEEPALIVE, 1), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_LINGER, 1), ENOPROTOOPT);
	/* Read-only options. */
	EXPECT_ERR(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_TYPE, US_SOCK_RAW), ENOPROTOOPT);
	EXPECT_ERR(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_ERROR, 0), ENOPROTOOPT);

	/* A value of the wrong size. */
	EXPECT_ERR(us_setsockopt(s4, US_SOL_SOCKET, US_SO_REUSEADDR, &narrow, 1), EINVAL);
	EXPECT_ERR(us_setsockopt(s4, US_SOL_SOCKET, US_SO_REUSEADDR, &wide, sizeof wide), EINVAL);
	len = 2;
	EXPECT_ERR(us_getsockopt(s4, US_SOL_SOCKET, US_SO_RCVBUF, &v, &len), EINVAL);
	len = sizeof v;
	/* Values out of range. */
	EXPECT_ERR(us_setsockopt_int(s4, US_IPPROTO_IP, US_IP_TTL, 0), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s4, US_IPPROTO_IP, US_IP_TTL, 256), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s4, US_IPPROTO_IP, US_IP_TTL, -2), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s4, US_IPPROTO_IP, US_IP_TOS, 256), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s4, US_SOL_SOCKET, US_SO_RCVBUF, -1), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s6, US_IPPROTO_IPV6, US_IPV6_UNICAST_HOPS, 256), EINVAL);
	EXPECT_ERR(us_setsockopt_int(s6, US_IPPROTO_IPV6, US_IPV6_UNICAST_HOPS, 0), EINVAL);
	/* NULL pointers. */
	EXPECT_ERR(us_setsockopt(s4, US_SOL_SOCKET, US_SO_REUSEADDR, NULL, sizeof v), EFAULT);
	EXPECT_ERR(us_getsockopt(s4, US_SOL_SOCKET, US_SO_REUSEADDR, NULL, &len), EFAULT);
	EXPECT_ERR(us_getsockopt(s4, US_SOL_SOCKET, US_SO_REUSEADDR, &v, NULL), EFAULT);
	/* Nothing changed on the way. */
	ck_assert_int_eq(getopt_int(s4, US_IPPROTO_IP, US_IP_TTL), 64);
	ck_assert_int_eq(getopt_int(s4, US_SOL_SOCKET, US_SO_REUSEADDR), 0);
	us_close(s4);
	us_close(s6);
	us_test_net_stop(&n);
}
END_TEST

/* ---- The bad-input matrix ---------------------------------------------------- */

/* Every call of the API on handle h, each failing with want (EBADF for a
 * bad or closed handle, ENETDOWN after the runtime stopped): also with
 * arguments that would be wrong, since the handle is checked first. */
static void every_call_fails_with(int h, int want, bool close_too)
{
	char buf[16];
	struct us_addr a = us_test_addr4(B_IP4, 7);
	int v = 1;
	size_t len = sizeof v, sent = 42;
	double t;
	uint8_t *p = (uint8_t *)buf;

	if (close_too) {
		EXPECT_ERR(us_close(h), want);
		EXPECT_ERR(us_getsocketsta(h), want);
	}
	EXPECT_ERR(us_bind(h, &a), want);
	EXPECT_ERR(us_bind(h, NULL), want);
	EXPECT_ERR(us_connect(h, &a), want);
	EXPECT_ERR(us_listen(h, 5), want);
	EXPECT_ERR(us_accept(h, &a), want);
	EXPECT_ERR(us_send(h, "x", 1), want);
	EXPECT_ERR(us_send(h, NULL, 1), want);
	EXPECT_ERR(us_sendto(h, "x", 1, &a), want);
	EXPECT_ERR(us_sendto(h, "x", 1, NULL), want);
	EXPECT_ERR(us_sendall(h, "x", 1, &sent), want);
	ck_assert_uint_eq(sent, 0);
	EXPECT_ERR(us_write(h, "x", 1), want);
	EXPECT_ERR(us_recv(h, buf, sizeof buf), want);
	EXPECT_ERR(us_recvfrom(h, buf, sizeof buf, &a), want);
	EXPECT_ERR(us_recvfrom(h, buf, sizeof buf, NULL), want);
	EXPECT_ERR(us_read(h, buf, sizeof buf), want);
	EXPECT_ERR(us_read(h, buf, 0), want);
	EXPECT_ERR(us_readall(h, &p, &len), want);
	ck_assert_ptr_null(p);
	EXPECT_ERR(us_readinto(h, buf, sizeof buf, 0), want);
	EXPECT_ERR(us_readline(h, buf, sizeof buf), want);
	EXPECT_ERR(us_setsockopt(h, US_SOL_SOCKET, US_SO_REUSEADDR, &v, sizeof v), want);
	EXPECT_ERR(us_setsockopt_int(h, 999, 999, 1), want);
	EXPECT_ERR(us_getsockopt(h, US_SOL_SOCKET, US_SO_REUSEADDR, &v, &len), want);
	EXPECT_ERR(us_settimeout(h, 1.0), want);
	EXPECT_ERR(us_settimeout(h, NAN), want);
	EXPECT_ERR(us_gettimeout(h, &t), want);
	EXPECT_ERR(us_setblocking(h, false), want);
	EXPECT_NULL_ERR(us_makefile(h, "rb"), want);
	EXPECT_ERR(us_shutdown(h, US_SHUT_RD), want);
	EXPECT_ERR(us_getsockname(h, &a), want);
	EXPECT_ERR(us_getpeername(h, &a), want);
}

START_TEST(every_call_on_a_bad_handle_fails_with_ebadf)
{
	struct us_test_net n;
	us_test_net_start(&n);
	/* Never given out: negative, generation 0 (handle 0), a huge one. */
	every_call_fails_with(-1, EBADF, true);
	every_call_fails_with(INT_MIN, EBADF, true);
	every_call_fails_with(0, EBADF, true);
	every_call_fails_with(INT_MAX, EBADF, true);
	/* A live socket's slot with another generation. */
	int s = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	every_call_fails_with(s + (1 << US_SOCK_SLOT_BITS), EBADF, true);
	ck_assert_int_eq(us_getsocketsta(s), US_TCP_CLOSED);
	ck_assert_int_eq(us_close(s), 0);
	/* us_poll() marks it POLLNVAL, counts it, and skips negative handles. */
	struct us_pollfd pf[2] = { { .sock = -1, .events = US_POLLIN, .revents = 7 },
				   { .sock = s, .events = US_POLLIN } };
	ck_assert_int_eq(us_poll(pf, 2, -1), 1);
	ck_assert_int_eq(pf[0].revents, 0);
	ck_assert_int_eq(pf[1].revents, US_POLLNVAL);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(every_call_on_a_closed_handle_fails_with_ebadf)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int kinds[][3] = {
		{ US_AF_INET, US_SOCK_DGRAM, 0 },
		{ US_AF_INET6, US_SOCK_DGRAM, US_IPPROTO_UDP },
		{ US_AF_INET, US_SOCK_RAW, US_IPPROTO_ICMP },
		{ US_AF_INET6, US_SOCK_RAW, US_IPPROTO_ICMPV6 },
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		int s = us_socket(n.b, kinds[i][0], kinds[i][1], kinds[i][2]);
		ck_assert_int_ge(s, 0);
		ck_assert_int_eq(us_getsocketsta(s), 0);
		ck_assert_int_eq(us_close(s), 0);
		every_call_fails_with(s, EBADF, true);
	}
	us_test_net_stop(&n);
}
END_TEST

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

START_TEST(handles_never_alias_a_newer_socket)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int old = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	ck_assert_int_eq(us_close(old), 0);
	int fresh = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	ck_assert_int_ne(fresh, old);
	EXPECT_ERR(us_getsocketsta(old), EBADF);
	EXPECT_ERR(us_close(old), EBADF);
	ck_assert_int_eq(us_getsocketsta(fresh), 0);

	/* Thousands of sockets later, every handle ever given out is new and
	 * every closed one stays dead, even once its slot is used again. */
	enum { ROUNDS = 6000 };
	static int seen[ROUNDS + 2];
	int failures = 0;
	for (int i = 0; i < ROUNDS; i++) {
		seen[i] = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
		failures += seen[i] < 0 || us_close(seen[i]) != 0;
	}
	ck_assert_int_eq(failures, 0);
	for (int i = 0; i < ROUNDS; i++)
		failures += us_getsocketsta(seen[i]) != -1 || errno != EBADF;
	ck_assert_int_eq(failures, 0);
	seen[ROUNDS] = old;
	seen[ROUNDS + 1] = fresh;
	qsort(seen, ROUNDS + 2, sizeof seen[0], compare_ints);
	for (int i = 1; i < ROUNDS + 2; i++)
		failures += seen[i] == seen[i - 1];
	ck_assert_int_eq(failures, 0);
	EXPECT_ERR(us_getsocketsta(old), EBADF);
	ck_assert_int_eq(us_close(fresh), 0);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(the_handle_table_is_bounded_and_a_full_one_says_emfile)
{
	/* US_MAX_SOCKETS handles in all: four runtimes of 1024 UDP sockets
	 * each (the core's own bound: ENOBUFS beyond it on one runtime). */
	struct us_test_net n1, n2;
	us_test_net_start(&n1);
	us_test_net_start(&n2);
	struct us_runtime *rts[4] = { n1.a, n1.b, n2.a, n2.b };
	static int socks[US_MAX_SOCKETS];
	int k = 0, failures = 0;
	for (int r = 0; r < 4; r++)
		for (int i = 0; i < US_MAX_SOCKETS / 4; i++) {
			socks[k] = us_socket(rts[r], US_AF_INET, US_SOCK_DGRAM, 0);
			failures += socks[k++] < 0;
		}
	ck_assert_int_eq(failures, 0);
	EXPECT_ERR(us_socket(n1.a, US_AF_INET, US_SOCK_DGRAM, 0), EMFILE);
	ck_assert_int_eq(us_close(socks[5]), 0);
	/* One handle free again, but n1.b's core is full. */
	EXPECT_ERR(us_socket(n1.b, US_AF_INET, US_SOCK_DGRAM, 0), ENOBUFS);
	socks[5] = us_socket(n1.a, US_AF_INET, US_SOCK_DGRAM, 0);
	ck_assert_int_ge(socks[5], 0);
	for (k = 0; k < US_MAX_SOCKETS; k++)
		failures += us_close(socks[k]) != 0;
	ck_assert_int_eq(failures, 0);
	us_test_net_stop(&n1);
	us_test_net_stop(&n2);
}
END_TEST

START_TEST(socket_refuses_unknown_families_types_and_protocols)
{
	struct us_test_net n;
	us_test_net_start(&n);
	EXPECT_ERR(us_socket(n.a, 99, US_SOCK_DGRAM, 0), EAFNOSUPPORT);
	EXPECT_ERR(us_socket(n.a, US_AF_UNSPEC, US_SOCK_DGRAM, 0), EAFNOSUPPORT);
	/* A stream of another protocol (TCP itself: test_socket_tcp.c). */
	EXPECT_ERR(us_socket(n.a, US_AF_INET, US_SOCK_STREAM, US_IPPROTO_UDP), EPROTONOSUPPORT);
	EXPECT_ERR(us_socket(n.a, US_AF_INET6, US_SOCK_STREAM, US_IPPROTO_ICMPV6), EPROTONOSUPPORT);
	/* A type/protocol mismatch. */
	EXPECT_ERR(us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, US_IPPROTO_TCP), EPROTONOSUPPORT);
	EXPECT_ERR(us_socket(n.a, US_AF_INET, US_SOCK_RAW, 0), EPROTONOSUPPORT);
	EXPECT_ERR(us_socket(n.a, US_AF_INET, US_SOCK_RAW, 255), EPROTONOSUPPORT);
	EXPECT_ERR(us_socket(n.a, US_AF_INET, US_SOCK_RAW, -1), EPROTONOSUPPORT);
	/* No such type. */
	EXPECT_ERR(us_socket(n.a, US_AF_INET, 5, 0), ESOCKTNOSUPPORT);
	EXPECT_ERR(us_socket(n.a, US_AF_INET, -1, 0), ESOCKTNOSUPPORT);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(calls_that_do_not_fit_a_datagram_socket_are_eopnotsupp)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s = udp_bound(n.a, US_AF_INET, 0);
	int r = us_socket(n.a, US_AF_INET6, US_SOCK_RAW, US_IPPROTO_ICMPV6);
	struct us_addr peer;
	EXPECT_ERR(us_listen(s, 5), EOPNOTSUPP);
	EXPECT_ERR(us_listen(s, -1), EOPNOTSUPP);
	EXPECT_ERR(us_accept(s, &peer), EOPNOTSUPP);
	EXPECT_ERR(us_accept(s, NULL), EOPNOTSUPP);
	EXPECT_ERR(us_listen(r, 0), EOPNOTSUPP);
	EXPECT_ERR(us_accept(r, &peer), EOPNOTSUPP);
	us_close(s);
	us_close(r);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(addresses_of_the_wrong_family_are_eafnosupport)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s4 = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	int s6 = us_socket(n.a, US_AF_INET6, US_SOCK_DGRAM, 0);
	int r4 = us_socket(n.a, US_AF_INET, US_SOCK_RAW, US_IPPROTO_ICMP);
	int r6 = us_socket(n.a, US_AF_INET6, US_SOCK_RAW, US_IPPROTO_ICMPV6);
	struct us_addr v4 = us_test_addr4(B_IP4, 7), v6 = us_test_addr6(2, 7);
	struct us_addr odd = { .family = 99, .port = 7 }, none = { .family = US_AF_UNSPEC };

	EXPECT_ERR(us_bind(s4, &v6), EAFNOSUPPORT);
	EXPECT_ERR(us_bind(s6, &v4), EAFNOSUPPORT);
	EXPECT_ERR(us_bind(s4, &odd), EAFNOSUPPORT);
	EXPECT_ERR(us_bind(s4, &none), EAFNOSUPPORT);
	EXPECT_ERR(us_connect(s4, &v6), EAFNOSUPPORT);
	EXPECT_ERR(us_connect(s4, &odd), EAFNOSUPPORT);
	EXPECT_ERR(us_sendto(s4, "x", 1, &v6), EAFNOSUPPORT);
	EXPECT_ERR(us_sendto(s4, "x", 1, &none), EAFNOSUPPORT);
	EXPECT_ERR(us_sendto(s6, "x", 1, &odd), EAFNOSUPPORT);
	EXPECT_ERR(us_bind(r4, &v6), EAFNOSUPPORT);
	EXPECT_ERR(us_connect(r4, &v6), EAFNOSUPPORT);
	EXPECT_ERR(us_sendto(r4, "x", 1, &v6), EAFNOSUPPORT);
	EXPECT_ERR(us_bind(r6, &v4), EAFNOSUPPORT);
	EXPECT_ERR(us_connect(r6, &v4), EAFNOSUPPORT);
	EXPECT_ERR(us_sendto(r6, "x", 1, &v4), EAFNOSUPPORT);

	/* A dual-stack IPv6 UDP socket reaches an IPv4 peer (as ::ffff:198.51.100.2). */
	int sb = udp_bound(n.b, US_AF_INET, 7);
	ck_assert_int_eq(us_sendto(s6, "mapped", 6, &v4), 6);
	char buf[8];
	struct us_addr from;
	ck_assert_int_eq(us_recvfrom(sb, buf, sizeof buf, &from), 6);
	ck_assert_uint_eq(from.ip4, A_IP4);
	us_close(sb);
	us_close(s4);
	us_close(s6);
	us_close(r4);
	us_close(r6);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(null_pointers_are_efault)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s = udp_bound(n.a, US_AF_INET, 0);
	char buf[8];
	struct us_addr a = us_test_addr4(B_IP4, 7);
	size_t len, sent = 5;
	uint8_t *p;

	EXPECT_ERR(us_bind(s, NULL), EFAULT);
	EXPECT_ERR(us_connect(s, NULL), EFAULT);
	EXPECT_ERR(us_send(s, NULL, 1), EFAULT);
	EXPECT_ERR(us_write(s, NULL, 1), EFAULT);
	EXPECT_ERR(us_sendall(s, NULL, 1, &sent), EFAULT);
	ck_assert_uint_eq(sent, 0);
	EXPECT_ERR(us_sendto(s, NULL, 1, &a), EFAULT);
	EXPECT_ERR(us_sendto(s, "x", 1, NULL), EFAULT);
	EXPECT_ERR(us_recv(s, NULL, 1), EFAULT);
	EXPECT_ERR(us_recvfrom(s, NULL, 1, &a), EFAULT);
	EXPECT_ERR(us_recvfrom(s, buf, sizeof buf, NULL), EFAULT);
	EXPECT_ERR(us_read(s, NULL, 1), EFAULT);
	EXPECT_ERR(us_readinto(s, NULL, 1, 0), EFAULT);
	EXPECT_ERR(us_readline(s, NULL, 8), EFAULT);
	EXPECT_ERR(us_readall(s, NULL, &len), EFAULT);
	EXPECT_ERR(us_readall(s, &p, NULL), EFAULT);
	EXPECT_ERR(us_gettimeout(s, NULL), EFAULT);
	EXPECT_ERR(us_getsockname(s, NULL), EFAULT);
	EXPECT_ERR(us_getpeername(s, NULL), EFAULT);
	EXPECT_NULL_ERR(us_makefile(s, NULL), EFAULT);
	EXPECT_ERR(us_poll(NULL, 1, 0), EFAULT);
	/* readinto: nbytes beyond the buffer. */
	EXPECT_ERR(us_readinto(s, buf, sizeof buf, sizeof buf + 1), EINVAL);
	/* The socket is still fine. */
	ck_assert_int_eq(us_sendto(s, "x", 1, &a), 1);
	us_close(s);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(timeouts_of_nan_or_negative_are_einval)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s = udp_bound(n.a, US_AF_INET, 0);
	ck_assert_int_eq(us_settimeout(s, 0.25), 0);
	EXPECT_ERR(us_settimeout(s, NAN), EINVAL);
	EXPECT_ERR(us_settimeout(s, -0.5), EINVAL);
	EXPECT_ERR(us_settimeout(s, -2.0), EINVAL);
	EXPECT_ERR(us_settimeout(s, -0.999999), EINVAL);
	EXPECT_ERR(us_settimeout(s, -INFINITY), EINVAL);
	EXPECT_ERR(us_settimeout(s, INFINITY), EINVAL);
	EXPECT_ERR(us_settimeout(s, 1e300), EINVAL);
	double t;
	ck_assert_int_eq(us_gettimeout(s, &t), 0);
	ck_assert(t == 0.25); /* unchanged */
	ck_assert_int_eq(us_settimeout(s, US_TIMEOUT_NONE), 0);
	ck_assert_int_eq(us_settimeout(s, 0.0), 0);
	ck_assert_int_eq(us_settimeout(s, -0.0), 0); /* -0.0 == 0: non-blocking */
	us_close(s);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(makefile_takes_only_rb_and_wb)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int s = udp_bound(n.a, US_AF_INET, 0);
	const char *bad[] = { "r", "w", "rb+", "wb+", "ab", "", "br", "rw" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		EXPECT_NULL_ERR(us_makefile(s, bad[i]), EINVAL);
	us_close(s);
	us_test_net_stop(&n);
}
END_TEST

/* ---- us_makefile ----------------------------------------------------------- */

START_TEST(a_file_from_makefile_reads_lines_and_writes_datagrams)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sa = udp_bound(n.a, US_AF_INET, 0);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	struct us_addr to = us_test_addr4(B_IP4, 7);
	ck_assert_int_eq(us_connect(sa, &to), 0);

	/* Writing: unbuffered, each fwrite()/fprintf() is one datagram. */
	FILE *w = us_makefile(sa, "wb");
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(fprintf(w, "hello %d\nworld\n", 42), 15);
	ck_assert_uint_eq(fwrite("third line\n", 1, 11, w), 11);
	ck_assert_int_eq(fclose(w), 0);
	ck_assert_int_eq(us_getsocketsta(sa), 0); /* fclose() left the socket open */

	char buf[64];
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 15);
	ck_assert_mem_eq(buf, "hello 42\nworld\n", 15);

	/* Reading: the datagrams' bytes follow each other; lines across them. */
	FILE *r = us_makefile(sb, "rb");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, r));
	ck_assert_str_eq(buf, "third line\n");
	ck_assert_int_eq(us_send(sa, "split ", 6), 6);
	ck_assert_int_eq(us_send(sa, "line\nrest", 9), 9);
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, r));
	ck_assert_str_eq(buf, "split line\n");
	ck_assert_uint_eq(fread(buf, 1, 4, r), 4);
	ck_assert_mem_eq(buf, "rest", 4);
	/* End of stream after SHUT_RD (the socket is connected to A's port). */
	struct us_addr a_local;
	ck_assert_int_eq(us_getsockname(sa, &a_local), 0);
	struct us_addr back = us_test_addr4(A_IP4, a_local.port);
	ck_assert_int_eq(us_connect(sb, &back), 0);
	ck_assert_int_eq(us_shutdown(sb, US_SHUT_RD), 0);
	ck_assert_ptr_null(fgets(buf, sizeof buf, r));
	ck_assert(feof(r));
	ck_assert_int_eq(fclose(r), 0);

	/* A file over a closed socket reports the error. */
	r = us_makefile(sa, "rb");
	ck_assert_ptr_nonnull(r);
	us_close(sa);
	errno = 0;
	ck_assert_int_eq(fgetc(r), EOF);
	ck_assert(ferror(r));
	ck_assert_int_eq(errno, EBADF);
	fclose(r);
	us_close(sb);
	us_test_net_stop(&n);
}
END_TEST

/* ---- us_poll ---------------------------------------------------------------- */

START_TEST(poll_watches_many_sockets_of_both_runtimes)
{
	struct us_test_net n;
	us_test_net_start(&n);
	enum { N = 6 };
	int sb[N];
	struct us_pollfd pf[N + 3];
	for (int i = 0; i < N; i++) {
		sb[i] = udp_bound(i % 2 ? n.b : n.a, US_AF_INET, (uint16_t)(7000 + i));
		pf[i] = (struct us_pollfd){ .sock = sb[i], .events = US_POLLIN };
	}
	int dead = us_socket(n.a, US_AF_INET, US_SOCK_DGRAM, 0);
	us_close(dead);
	int sender = udp_bound(n.a, US_AF_INET, 0);
	int sender_b = udp_bound(n.b, US_AF_INET, 0);
	pf[N] = (struct us_pollfd){ .sock = -5, .events = US_POLLIN };
	pf[N + 1] = (struct us_pollfd){ .sock = dead, .events = US_POLLIN };
	pf[N + 2] = (struct us_pollfd){ .sock = sender, .events = US_POLLOUT };

	/* Nothing to read: the sender is writable, the dead handle POLLNVAL. */
	ck_assert_int_eq(us_poll(pf, N + 3, 0), 2);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(pf[i].revents, 0);
	ck_assert_int_eq(pf[N].revents, 0);
	ck_assert_int_eq(pf[N + 1].revents, US_POLLNVAL);
	ck_assert_int_eq(pf[N + 2].revents, US_POLLOUT);

	/* The live sockets alone, with a 50 ms timeout on the virtual clock. */
	us_time_t t = us_test_now();
	struct job j = { .net = &n };
	j.timeout_ms = 50;
	job_start(&j, OP_POLL, sb[3]);
	us_test_wait_blocked(sb[3], 1);
	us_test_advance(&n, US_MSEC(49));
	us_test_sleep_ms(30);
	ck_assert(!atomic_load(&j.done));
	us_test_advance(&n, US_MSEC(1));
	job_join(&j);
	ck_assert_int_eq(j.rc, 0);
	ck_assert_int_eq(j.revents, 0);
	ck_assert_int_eq(j.ended - t, US_MSEC(50));

	/* Blocking over all of them: datagrams to sockets 1 (on B, from A)
	 * and 4 (on A, from B) wake it. */
	struct us_addr to1 = us_test_addr4(B_IP4, 7001), to4 = us_test_addr4(A_IP4, 7004);
	ck_assert_int_eq(us_sendto(sender, "1", 1, &to1), 1);
	ck_assert_int_eq(us_sendto(sender_b, "4", 1, &to4), 1);
	int got = 0;
	while (got < 2) {
		int rc = us_poll(pf, N, -1);
		ck_assert_int_ge(rc, 1);
		got = rc;
	}
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(pf[i].revents, i == 1 || i == 4 ? US_POLLIN : 0);

	for (int i = 0; i < N; i++)
		us_close(sb[i]);
	us_close(sender);
	us_close(sender_b);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_blocked_poll_wakes_on_data_and_on_close)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sa = udp_bound(n.a, US_AF_INET, 0);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	struct job j = { .net = &n };
	j.timeout_ms = -1;
	job_start(&j, OP_POLL, sb);
	us_test_wait_blocked(sb, 1);
	send_to_b(sa, "wake", 4, 7);
	job_join(&j);
	ck_assert_int_eq(j.rc, 1);
	ck_assert_int_eq(j.revents, US_POLLIN);

	char buf[8];
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 4);
	struct job k = { .net = &n };
	k.timeout_ms = -1;
	job_start(&k, OP_POLL, sb);
	us_test_wait_blocked(sb, 1);
	ck_assert_int_eq(us_close(sb), 0);
	job_join(&k);
	ck_assert_int_eq(k.rc, 1);
	ck_assert_int_eq(k.revents, US_POLLNVAL);
	us_close(sa);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Raw sockets ------------------------------------------------------------ */

static uint16_t inet_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

START_TEST(a_raw_icmp_socket_sends_an_echo_request_and_reads_the_reply)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int r = us_socket(n.a, US_AF_INET, US_SOCK_RAW, US_IPPROTO_ICMP);
	ck_assert_int_ge(r, 0);
	ck_assert_int_eq(us_getsocketsta(r), 0);
	/* RFC 792 echo: type 8, code 0, checksum, identifier 0x1234, sequence 1. */
	uint8_t req[12] = { 8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g' };
	uint16_t c = inet_csum(req, sizeof req);
	req[2] = (uint8_t)(c >> 8);
	req[3] = (uint8_t)c;
	struct us_addr b = us_test_addr4(B_IP4, 0), from;
	ck_assert_int_eq(us_sendto(r, req, sizeof req, &b), (ssize_t)sizeof req);
	uint8_t got[128];
	ssize_t len = us_recvfrom(r, got, sizeof got, &from);
	/* IPv4 raw input comes with its IP header (20 bytes here). */
	ck_assert_int_eq(len, 20 + 12);
	ck_assert_uint_eq(got[0], 0x45);
	ck_assert_uint_eq(got[9], US_IPPROTO_ICMP);
	ck_assert_uint_eq(got[20], 0); /* echo reply */
	ck_assert_mem_eq(got + 24, req + 4, 8);
	ck_assert_uint_eq(from.ip4, B_IP4);

	/* Connected, send() goes to the peer. */
	ck_assert_int_eq(us_connect(r, &b), 0);
	struct us_addr peer;
	ck_assert_int_eq(us_getpeername(r, &peer), 0);
	ck_assert_uint_eq(peer.ip4, B_IP4);
	req[7] = 2;
	req[2] = req[3] = 0;
	c = inet_csum(req, sizeof req);
	req[2] = (uint8_t)(c >> 8);
	req[3] = (uint8_t)c;
	ck_assert_int_eq(us_send(r, req, sizeof req), (ssize_t)sizeof req);
	ck_assert_int_eq(us_recv(r, got, sizeof got), 32);
	ck_assert_uint_eq(got[27], 2);
	us_close(r);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(a_raw_icmpv6_socket_gets_the_echo_reply_payload)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int r = us_socket(n.a, US_AF_INET6, US_SOCK_RAW, US_IPPROTO_ICMPV6);
	ck_assert_int_ge(r, 0);
	/* RFC 4443 §4.1; the stack fills the checksum in (RFC 3542 §3.1). */
	uint8_t req[10] = { 128, 0, 0, 0, 0xab, 0xcd, 0x00, 0x07, 'h', 'i' };
	struct us_addr b = us_test_addr6(2, 0), from;
	ck_assert_int_eq(us_sendto(r, req, sizeof req, &b), (ssize_t)sizeof req);
	uint8_t got[128];
	ssize_t len;
	/* Neighbor Discovery comes by too; the echo reply is what we want. */
	do
		len = us_recvfrom(r, got, sizeof got, &from);
	while (len > 0 && got[0] != 129);
	ck_assert_int_eq(len, 10);
	ck_assert_mem_eq(got + 4, req + 4, 6);
	struct us_ip6 b_ip = us_test_ip6(2);
	ck_assert_mem_eq(from.ip6.b, b_ip.b, 16);
	us_close(r);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Closing and stopping under a blocked call ------------------------------ */

START_TEST(closing_a_socket_wakes_a_call_blocked_on_it_with_ebadf)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	struct job j = { .net = &n }, k = { .net = &n };
	job_start(&j, OP_RECV, sb);
	job_start(&k, OP_READ, sb);
	us_test_wait_blocked(sb, 2);
	ck_assert_int_eq(us_close(sb), 0);
	job_join(&j);
	job_join(&k);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, EBADF);
	ck_assert_int_eq(k.rc, -1);
	ck_assert_int_eq(k.err, EBADF);
	us_test_net_stop(&n);
}
END_TEST

START_TEST(stopping_a_runtime_wakes_blocked_calls_with_enetdown)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	int sb2 = udp_bound(n.b, US_AF_INET6, 8);
	ck_assert_int_eq(us_settimeout(sb2, 30.0), 0);
	struct job j = { .net = &n }, k = { .net = &n }, p = { .net = &n };
	job_start(&j, OP_RECV, sb);
	job_start(&k, OP_READLINE, sb2);
	p.timeout_ms = -1;
	job_start(&p, OP_POLL, sb);
	us_test_wait_blocked(sb, 2);
	us_test_wait_blocked(sb2, 1);

	us_runtime_stop(n.b);
	n.b = NULL;
	job_join(&j);
	job_join(&k);
	job_join(&p);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, ENETDOWN);
	ck_assert_int_eq(k.rc, -1);
	ck_assert_int_eq(k.err, ENETDOWN);
	ck_assert_int_eq(p.rc, 1);
	ck_assert_int_eq(p.revents, US_POLLERR | US_POLLHUP);

	/* The handles stay valid until us_close: every call says ENETDOWN. */
	every_call_fails_with(sb, ENETDOWN, false);
	ck_assert_int_eq(us_getsocketsta(sb), US_TCP_CLOSED);
	ck_assert_int_eq(us_close(sb), 0);
	ck_assert_int_eq(us_close(sb2), 0);
	EXPECT_ERR(us_close(sb), EBADF);
	EXPECT_ERR(us_getsocketsta(sb2), EBADF);
	us_runtime_stop(n.a);
}
END_TEST

START_TEST(the_first_runtime_started_is_the_default_until_it_stops)
{
	/* Other tests in this process (CK_FORK=no) left no runtime running. */
	ck_assert_ptr_null(us_runtime_default());
	EXPECT_ERR(us_socket(NULL, US_AF_INET, US_SOCK_DGRAM, 0), ENETDOWN);
	struct us_test_net n;
	us_test_net_start(&n);
	ck_assert_ptr_eq(us_runtime_default(), n.a);
	/* us_socket(NULL, ...) is A's: B sees A's address as the source. */
	int s = us_socket(NULL, US_AF_INET, US_SOCK_DGRAM, 0);
	ck_assert_int_ge(s, 0);
	int sb = udp_bound(n.b, US_AF_INET, 7);
	send_to_b(s, "who", 3, 7);
	char buf[4];
	struct us_addr from;
	ck_assert_int_eq(us_recvfrom(sb, buf, sizeof buf, &from), 3);
	ck_assert_uint_eq(from.ip4, A_IP4);

	us_runtime_set_default(n.b);
	ck_assert_ptr_eq(us_runtime_default(), n.b);
	int s2 = us_socket(NULL, US_AF_INET, US_SOCK_DGRAM, 0);
	int sa = udp_bound(n.a, US_AF_INET, 7);
	struct us_addr to_a = us_test_addr4(A_IP4, 7);
	ck_assert_int_eq(us_sendto(s2, "me", 2, &to_a), 2);
	ck_assert_int_eq(us_recvfrom(sa, buf, sizeof buf, &from), 2);
	ck_assert_uint_eq(from.ip4, B_IP4);
	us_close(sa);
	us_close(s);
	us_close(s2);
	us_close(sb);
	us_runtime_stop(n.b);
	ck_assert_ptr_null(us_runtime_default());
	EXPECT_ERR(us_socket(NULL, US_AF_INET, US_SOCK_DGRAM, 0), ENETDOWN);
	us_runtime_set_default(n.a);
	ck_assert_ptr_eq(us_runtime_default(), n.a);
	us_runtime_stop(n.a);
	ck_assert_ptr_null(us_runtime_default());
}
END_TEST

/* ---- The resolver's configuration ----------------------------------------------- */

START_TEST(the_runtime_keeps_a_copy_of_the_hosts_table_and_name_server)
{
	us_test_set_now(T0);
	struct us_driver da, db;
	ck_assert_int_eq(us_memlink_pair(&da, &db, NULL), 0);
	char name[] = "echo.example";
	struct us_host_entry hosts[2] = {
		{ .name = name, .addr = us_test_addr4(B_IP4, 0) },
		{ .name = "echo6.example", .addr = us_test_addr6(2, 0) },
	};
	struct us_runtime_config cfg = {
		.driver = da,
		.ipv4 = A_IP4,
		.ipv4_prefix = 24,
		.hosts = hosts,
		.n_hosts = 2,
		.dns_server = us_test_addr4(B_IP4, 0),
		.clock = us_test_clock(),
		.fixed_seed = true,
	};
	int err;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_ptr_nonnull(rt);
	/* The caller's memory may change: the runtime has its copy. */
	memset(name, 'x', sizeof name - 1);
	hosts[0].addr.ip4 = 0;
	size_t nh = 0;
	const struct us_host_entry *h = us_runtime_hosts(rt, &nh);
	ck_assert_uint_eq(nh, 2);
	ck_assert_str_eq(h[0].name, "echo.example");
	ck_assert_uint_eq(h[0].addr.ip4, B_IP4);
	ck_assert_str_eq(h[1].name, "echo6.example");
	ck_assert_int_eq(h[1].addr.family, US_AF_INET6);
	double timeout = 0;
	int tries = 0;
	const struct us_addr *dns = us_runtime_dns(rt, &timeout, &tries);
	ck_assert_ptr_nonnull(dns);
	ck_assert_uint_eq(dns->ip4, B_IP4);
	ck_assert_uint_eq(dns->port, 53); /* RFC 1035 §4.2.1 */
	ck_assert(timeout == 2.0);
	ck_assert_int_eq(tries, 3);
	us_runtime_stop(rt);
	db.ops->close(db.ctx);

	/* No name server; given timeouts and tries are kept. */
	ck_assert_int_eq(us_memlink_pair(&da, &db, NULL), 0);
	struct us_runtime_config c2 = { .driver = da, .dns_timeout = 0.5, .dns_tries = 7,
					.clock = cfg.clock, .fixed_seed = true };
	rt = us_runtime_start(&c2, &err);
	ck_assert_ptr_nonnull(rt);
	ck_assert_ptr_null(us_runtime_dns(rt, &timeout, &tries));
	ck_assert(timeout == 0.5);
	ck_assert_int_eq(tries, 7);
	ck_assert_ptr_null(us_runtime_hosts(rt, &nh));
	ck_assert_uint_eq(nh, 0);
	us_runtime_stop(rt);
	db.ops->close(db.ctx);
}
END_TEST

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

START_TEST(bad_resolver_configurations_fail_the_start_and_close_the_driver)
{
	int fds = count_dir("/proc/self/fd");
	struct us_host_entry nameless = { .name = NULL, .addr = us_test_addr4(B_IP4, 0) };
	struct us_host_entry familyless = { .name = "x" };
	struct us_runtime_config bad[] = {
		{ .dns_timeout = NAN },
		{ .dns_timeout = -1 },
		{ .dns_timeout = INFINITY },
		{ .dns_tries = -1 },
		{ .dns_server = { .family = 99 } },
		{ .n_hosts = 1 },
		{ .hosts = &nameless, .n_hosts = 1 },
		{ .hosts = &familyless, .n_hosts = 1 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct us_driver da, db;
		ck_assert_int_eq(us_memlink_pair(&da, &db, NULL), 0);
		bad[i].driver = da;
		bad[i].fixed_seed = true;
		int err = 0;
		ck_assert_ptr_null(us_runtime_start(&bad[i], &err));
		ck_assert_int_eq(err, -EINVAL);
		db.ops->close(db.ctx);
	}
	ck_assert_int_eq(count_dir("/proc/self/fd"), fds);
}
END_TEST

/* ---- Threads -------------------------------------------------------------------- */

enum { RX_SOCKS = 4, SENDERS = 3, PER_SENDER = 150 };

struct stress {
	struct us_test_net *n;
	int rx[RX_SOCKS];
	atomic_int received;
	atomic_int sent;
	atomic_int unexpected; /* an errno nobody should see */
};

struct reader {
	struct stress *st;
	int sock;
	int final_errno;
	pthread_t t;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[64];
	for (;;) {
		ssize_t n = us_recv(r->sock, buf, sizeof buf);
		if (n < 0) {
			r->final_errno = errno;
			return NULL;
		}
		atomic_fetch_add(&r->st->received, 1);
	}
}

struct sender {
	struct stress *st;
	int id;
	pthread_t t;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	int af = s->id % 2 ? US_AF_INET6 : US_AF_INET;
	int sock = us_socket(s->st->n->a, af, US_SOCK_DGRAM, 0);
	for (int i = 0; i < PER_SENDER; i++) {
		uint16_t port = (uint16_t)(8000 + i % RX_SOCKS);
		struct us_addr to = af == US_AF_INET6 ? us_test_addr6(2, port) : us_test_addr4(B_IP4, port);
		ssize_t rc = us_sendto(sock, "stress", 6, &to);
		if (rc == 6)
			atomic_fetch_add(&s->st->sent, 1);
		else if (errno != ENOBUFS && errno != EAGAIN)
			atomic_fetch_add(&s->st->unexpected, 1);
		if (i % 16 == 0) {
			/* Options and names from another thread meanwhile. */
			int v;
			size_t len = sizeof v;
			struct us_addr me;
			if (us_getsockopt(s->st->rx[i % RX_SOCKS], US_SOL_SOCKET, US_SO_RCVBUF, &v,
					  &len) < 0 ||
			    us_getsockname(sock, &me) < 0 || us_settimeout(sock, 5.0) < 0)
				atomic_fetch_add(&s->st->unexpected, 1);
		}
	}
	us_close(sock);
	return NULL;
}

/* Opens and closes sockets on both runtimes while the others work. */
static void *churn_main(void *arg)
{
	struct stress *st = arg;
	for (int i = 0; i < 200; i++) {
		int s = us_socket(i % 2 ? st->n->a : st->n->b, i % 3 ? US_AF_INET : US_AF_INET6,
				  US_SOCK_DGRAM, 0);
		struct us_addr any = { .family = i % 3 ? US_AF_INET : US_AF_INET6 };
		if (s < 0 || us_bind(s, &any) < 0 || us_close(s) < 0)
			atomic_fetch_add(&st->unexpected, 1);
	}
	return NULL;
}

struct poller_job {
	struct stress *st;
	int rounds;
	bool saw_nval;
	pthread_t t;
};

/* Polls the receiving sockets until they are all closed. */
static void *poller_main(void *arg)
{
	struct poller_job *p = arg;
	for (;;) {
		struct us_pollfd pf[RX_SOCKS];
		for (int i = 0; i < RX_SOCKS; i++)
			pf[i] = (struct us_pollfd){ .sock = p->st->rx[i], .events = US_POLLIN };
		int rc = us_poll(pf, RX_SOCKS, -1);
		p->rounds++;
		if (rc < 0) {
			atomic_fetch_add(&p->st->unexpected, 1);
			return NULL;
		}
		int nval = 0;
		for (int i = 0; i < RX_SOCKS; i++)
			nval += pf[i].revents == US_POLLNVAL;
		if (nval == RX_SOCKS) {
			p->saw_nval = true;
			return NULL;
		}
		/* Let the readers have the data. */
		sched_yield();
	}
}

struct closer {
	int sock;
	int rc, err;
	pthread_t t;
};

static void *closer_main(void *arg)
{
	struct closer *c = arg;
	errno = 0;
	c->rc = us_close(c->sock);
	c->err = errno;
	return NULL;
}

START_TEST(many_threads_on_many_sockets_with_concurrent_close)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct stress st = { .n = &n };
	atomic_init(&st.received, 0);
	atomic_init(&st.sent, 0);
	atomic_init(&st.unexpected, 0);
	for (int i = 0; i < RX_SOCKS; i++)
		st.rx[i] = udp_bound(n.b, US_AF_INET6, (uint16_t)(8000 + i)); /* dual stack */
	/* ARP and ND resolved first: else the senders, fast enough (with busy
	 * polling, us_runtime_wake() makes no system call), can finish with
	 * every datagram still parked in those queues, to arrive only after
	 * the readers are closed. */
	static const int fams[] = { US_AF_INET, US_AF_INET6 };
	for (int f = 0; f < 2; f++) {
		int af = fams[f];
		int s = udp_bound(n.a, af, 0);
		struct us_addr to = af == US_AF_INET6 ? us_test_addr6(2, 8000) : us_test_addr4(B_IP4, 8000);
		char buf[8];
		ck_assert_int_eq(us_sendto(s, "arp", 3, &to), 3);
		ck_assert_int_eq(us_recv(st.rx[0], buf, sizeof buf), 3);
		us_close(s);
	}

	/* Two readers on socket 0, one on each other socket. */
	struct reader rd[RX_SOCKS + 1];
	for (int i = 0; i < RX_SOCKS + 1; i++) {
		rd[i] = (struct reader){ .st = &st, .sock = st.rx[i % RX_SOCKS] };
		ck_assert_int_eq(pthread_create(&rd[i].t, NULL, reader_main, &rd[i]), 0);
	}
	struct poller_job pj = { .st = &st };
	ck_assert_int_eq(pthread_create(&pj.t, NULL, poller_main, &pj), 0);
	struct sender sd[SENDERS];
	for (int i = 0; i < SENDERS; i++) {
		sd[i] = (struct sender){ .st = &st, .id = i };
		ck_assert_int_eq(pthread_create(&sd[i].t, NULL, sender_main, &sd[i]), 0);
	}
	pthread_t churn;
	ck_assert_int_eq(pthread_create(&churn, NULL, churn_main, &st), 0);
	for (int i = 0; i < SENDERS; i++)
		pthread_join(sd[i].t, NULL);
	pthread_join(churn, NULL);

	/* Until everything sent has been read or dropped: B has taken every
	 * frame off the link and no receiving socket has data left (with busy
	 * polling the senders can finish well before B's stack thread and the
	 * readers run, and a reader woken but not yet run still counts as
	 * waiting); and every reader waits (the poller counts as one more
	 * waiter on each socket). */
	for (int i = 0; i < 20000; i++) {
		struct us_memlink_stats ma, mb;
		ck_assert_int_eq(us_memlink_stats(&n.a->driver, &ma), 0);
		ck_assert_int_eq(us_memlink_stats(&n.b->driver, &mb), 0);
		struct us_pollfd pf[RX_SOCKS];
		for (int k = 0; k < RX_SOCKS; k++)
			pf[k] = (struct us_pollfd){ .sock = st.rx[k], .events = US_POLLIN };
		if (mb.rx + mb.rx_too_big >= ma.tx && us_poll(pf, RX_SOCKS, 0) == 0)
			break;
		us_test_sleep_ms(1);
	}
	us_test_wait_blocked(st.rx[0], 3);
	for (int i = 1; i < RX_SOCKS; i++)
		us_test_wait_blocked(st.rx[i], 2);

	/* Close each socket while its readers are blocked in it; socket 0 from
	 * two threads at once: one close wins, the other finds EBADF. */
	struct closer cl[2] = { { .sock = st.rx[0] }, { .sock = st.rx[0] } };
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&cl[i].t, NULL, closer_main, &cl[i]), 0);
	for (int i = 1; i < RX_SOCKS; i++)
		ck_assert_int_eq(us_close(st.rx[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(cl[i].t, NULL);
	ck_assert_int_eq((cl[0].rc == 0) + (cl[1].rc == 0), 1);
	ck_assert_int_eq(cl[0].rc == 0 ? cl[1].err : cl[0].err, EBADF);

	for (int i = 0; i < RX_SOCKS + 1; i++) {
		pthread_join(rd[i].t, NULL);
		ck_assert_int_eq(rd[i].final_errno, EBADF);
	}
	pthread_join(pj.t, NULL);
	ck_assert(pj.saw_nval);
	ck_assert_int_eq(atomic_load(&st.unexpected), 0);
	ck_assert_int_gt(atomic_load(&st.sent), 0);
	ck_assert_int_gt(atomic_load(&st.received), 0);
	ck_assert_int_le(atomic_load(&st.received), atomic_load(&st.sent));
	us_test_net_stop(&n);
}
END_TEST

/* ---- Leaks ------------------------------------------------------------------------ */

static void read_pbufs(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	*(uint32_t *)arg = us_stack_pbufs_in_use(s);
}

static uint32_t pbufs(struct us_runtime *rt)
{
	uint32_t v = 0;
	us_runtime_with_core(rt, read_pbufs, &v);
	return v;
}

/* One round: sockets of every kind, with datagrams left waiting in them. */
static void open_use_close(const struct us_test_net *n)
{
	int sa = udp_bound(n->a, US_AF_INET, 0);
	int sb = udp_bound(n->b, US_AF_INET, 7);
	int s6 = udp_bound(n->b, US_AF_INET6, 8);
	int r = us_socket(n->b, US_AF_INET, US_SOCK_RAW, US_IPPROTO_UDP);
	ck_assert_int_ge(r, 0);
	send_to_b(sa, "left", 4, 7);
	send_to_b(sa, "read", 4, 8);
	char buf[8];
	ck_assert_int_eq(us_recv(s6, buf, sizeof buf), 4);
	/* The raw socket saw both; sb still holds one datagram. */
	FILE *f = us_makefile(sb, "rb");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(us_close(r), 0);
	ck_assert_int_eq(us_close(sb), 0);
	ck_assert_int_eq(us_close(s6), 0);
	ck_assert_int_eq(us_close(sa), 0);
}

START_TEST(open_and_close_cycles_leak_no_descriptor_thread_or_memory)
{
	struct us_test_net n;
	us_test_net_start(&n);
	/* Warm-up: glibc keeps up to 7 freed chunks of each size in its
	 * per-thread cache, which mallinfo2() still counts as in use. */
	for (int i = 0; i < 10; i++)
		open_use_close(&n);
	int fds = count_dir("/proc/self/fd");
	int threads = count_dir("/proc/self/task");
	struct mallinfo2 before = mallinfo2();
	for (int i = 0; i < 200; i++)
		open_use_close(&n);
	struct mallinfo2 after = mallinfo2();
	ck_assert_int_eq(count_dir("/proc/self/fd"), fds);
	ck_assert_int_eq(count_dir("/proc/self/task"), threads);
	ck_assert_uint_eq(after.uordblks, before.uordblks);
	/* The closed sockets' waiting datagrams went back to the pools. */
	ck_assert_uint_eq(pbufs(n.a), 0);
	ck_assert_uint_eq(pbufs(n.b), 0);
	us_test_net_stop(&n);
	fds = count_dir("/proc/self/fd");
	threads = count_dir("/proc/self/task");

	/* Runtimes with sockets left open at stop: their stop releases the
	 * core's side, us_close() the rest. */
	for (int i = 0; i < 5; i++) {
		us_test_net_start(&n);
		int s = udp_bound(n.b, US_AF_INET, 7);
		int sa = udp_bound(n.a, US_AF_INET, 0);
		send_to_b(sa, "stay", 4, 7);
		us_test_net_stop(&n);
		ck_assert_int_eq(us_close(s), 0);
		ck_assert_int_eq(us_close(sa), 0);
	}
	ck_assert_int_eq(count_dir("/proc/self/fd"), fds);
	ck_assert_int_eq(count_dir("/proc/self/task"), threads);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("socket");
	TCase *tc = tcase_create("socket");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, udp_datagrams_cross_between_two_runtimes_over_ipv4);
	tcase_add_test(tc, udp_datagrams_cross_between_two_runtimes_over_ipv6);
	tcase_add_test(tc, a_connected_socket_sends_to_its_peer_and_names_both_ends);
	tcase_add_test(tc, a_60000_byte_datagram_crosses_fragmented_and_oversize_ones_are_emsgsize);
	tcase_add_test(tc, a_100_ms_timeout_fires_when_the_virtual_clock_passes_it);
	tcase_add_test(tc, a_none_timeout_waits_until_data_comes);
	tcase_add_test(tc, a_non_blocking_socket_says_eagain_at_once);
	tcase_add_test(tc, settimeout_keeps_the_value_and_rounds_tiny_ones_up);
	tcase_add_test(tc, on_the_real_clock_a_timeout_ends_after_its_time);
	tcase_add_test(tc, each_read_takes_one_datagram_cut_to_the_buffer);
	tcase_add_test(tc, zero_lengths_send_empty_datagrams_and_read_nothing);
	tcase_add_test(tc, shut_rd_ends_the_stream_and_wakes_a_blocked_reader);
	tcase_add_test(tc, port_unreachable_is_econnrefused_on_a_connected_socket_and_in_so_error);
	tcase_add_test(tc, options_are_set_and_read_back);
	tcase_add_test(tc, bad_options_get_enoprotoopt_or_einval);
	tcase_add_test(tc, every_call_on_a_bad_handle_fails_with_ebadf);
	tcase_add_test(tc, every_call_on_a_closed_handle_fails_with_ebadf);
	tcase_add_test(tc, handles_never_alias_a_newer_socket);
	tcase_add_test(tc, the_handle_table_is_bounded_and_a_full_one_says_emfile);
	tcase_add_test(tc, socket_refuses_unknown_families_types_and_protocols);
	tcase_add_test(tc, calls_that_do_not_fit_a_datagram_socket_are_eopnotsupp);
	tcase_add_test(tc, addresses_of_the_wrong_family_are_eafnosupport);
	tcase_add_test(tc, null_pointers_are_efault);
	tcase_add_test(tc, timeouts_of_nan_or_negative_are_einval);
	tcase_add_test(tc, makefile_takes_only_rb_and_wb);
	tcase_add_test(tc, a_file_from_makefile_reads_lines_and_writes_datagrams);
	tcase_add_test(tc, poll_watches_many_sockets_of_both_runtimes);
	tcase_add_test(tc, a_blocked_poll_wakes_on_data_and_on_close);
	tcase_add_test(tc, a_raw_icmp_socket_sends_an_echo_request_and_reads_the_reply);
	tcase_add_test(tc, a_raw_icmpv6_socket_gets_the_echo_reply_payload);
	tcase_add_test(tc, closing_a_socket_wakes_a_call_blocked_on_it_with_ebadf);
	tcase_add_test(tc, stopping_a_runtime_wakes_blocked_calls_with_enetdown);
	tcase_add_test(tc, the_first_runtime_started_is_the_default_until_it_stops);
	tcase_add_test(tc, the_runtime_keeps_a_copy_of_the_hosts_table_and_name_server);
	tcase_add_test(tc, bad_resolver_configurations_fail_the_start_and_close_the_driver);
	tcase_add_test(tc, many_threads_on_many_sockets_with_concurrent_close);
	tcase_add_test(tc, open_and_close_cycles_leak_no_descriptor_thread_or_memory);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the socket API's event callbacks (us_socket_callback(),
 * src/api/socket.c): application code run by the stack thread, with the
 * core lock held, after each batch of work.
 *
 * Two runtimes, A (198.51.100.1) and B (.2), joined by the in-memory link on
 * one virtual clock (tests/unit/testnet.h). The callbacks run on a stack
 * thread; they record what they saw in atomics that the test thread waits
 * for (bounded in real time) and then checks.
 *
 * Read tests/unit/test_socket_tcp.c first (the same set-up, blocking calls).
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#include "socket_impl.h"
#include "testnet.h"

/* Waits (bounded: 20 s of real time) until *v reaches want. */
static void wait_count(atomic_int *v, int want, const char *what)
{
	for (int i = 0; i < 20000; i++) {
		if (atomic_load(v) >= want)
			return;
		us_test_sleep_ms(1);
	}
	ck_abort_msg("%s is %d, not %d, after 20 s", what, atomic_load(v), want);
}

static int listener(struct us_runtime *rt, uint16_t port)
{
	int l = us_socket(rt, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	struct us_addr any = { .family = US_AF_INET, .port = port };
	ck_assert_int_eq(us_bind(l, &any), 0);
	ck_assert_int_eq(us_listen(l, 8), 0);
	return l;
}

static int client(struct us_runtime *rt, uint16_t port)
{
	int s = us_socket(rt, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	struct us_addr to = us_test_addr4(B_IP4, port);
	ck_assert_int_eq(us_connect(s, &to), 0);
	ck_assert_int_eq(us_setsockopt_int(s, US_IPPROTO_TCP, US_TCP_NODELAY, 1), 0);
	return s;
}

/* A connection from A to B's port: B's listener *l, A's end *a; B's end
 * (accepted) is returned. */
static int accepted_pair(const struct us_test_net *n, uint16_t port, int *l, int *a)
{
	*l = listener(n->b, port);
	*a = client(n->a, port);
	int b = us_accept(*l, NULL);
	ck_assert_int_ge(b, 0);
	return b;
}

static void expect_bytes(int s, const char *want)
{
	char buf[256];
	size_t len = strlen(want);
	ck_assert_int_eq(us_read(s, buf, len), (ssize_t)len);
	ck_assert_mem_eq(buf, want, len);
}

/* ---- An echo server made of callbacks ------------------------------------ */

struct echo {
	pthread_t test_thread;
	atomic_int accepted, closed, calls;
	atomic_int echoed;         /* bytes sent back */
	atomic_bool off_thread;    /* every call came on another thread than the test's */
	atomic_int unexpected;     /* calls that failed in a way they must not */
};

static void echo_conn(int s, int events, void *arg)
{
	struct echo *e = arg;
	atomic_fetch_add(&e->calls, 1);
	if (pthread_equal(pthread_self(), e->test_thread))
		atomic_store(&e->off_thread, false);
	if (!(events & (US_POLLIN | US_POLLHUP | US_POLLERR)))
		return;
	char buf[512];
	for (;;) {
		ssize_t n = us_recv(s, buf, sizeof buf);
		if (n > 0) {
			if (us_send(s, buf, (size_t)n) != n)
				atomic_fetch_add(&e->unexpected, 1);
			atomic_fetch_add(&e->echoed, (int)n);
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		/* End of stream (or an error): done with it. */
		if (us_close(s) != 0)
			atomic_fetch_add(&e->unexpected, 1);
		atomic_fetch_add(&e->closed, 1);
		return;
	}
}

static void echo_listener(int l, int events, void *arg)
{
	struct echo *e = arg;
	atomic_fetch_add(&e->calls, 1);
	if (!(events & US_POLLIN))
		return;
	for (;;) {
		int s = us_accept(l, NULL);
		if (s < 0) {
			if (errno != EAGAIN)
				atomic_fetch_add(&e->unexpected, 1);
			return;
		}
		atomic_fetch_add(&e->accepted, 1);
		if (us_socket_callback(s, echo_conn, e) != 0)
			atomic_fetch_add(&e->unexpected, 1);
	}
}

static void echo_init(struct echo *e)
{
	memset(e, 0, sizeof *e);
	e->test_thread = pthread_self();
	atomic_init(&e->off_thread, true);
}

START_TEST(a_callback_server_accepts_echoes_and_closes_on_the_stack_thread)
{
	struct us_test_net n;
	us_test_net_start(&n);
	struct echo e;
	echo_init(&e);
	int l = listener(n.b, 7);
	ck_assert_int_eq(us_socket_callback(l, echo_listener, &e), 0);

	/* One after the other, each a whole life: connect, echo, close. */
	for (int i = 0; i < 5; i++) {
		int s = client(n.a, 7);
		ck_assert_int_eq(us_send(s, "hello", 5), 5);
		expect_bytes(s, "hello");
		ck_assert_int_eq(us_send(s, " again", 6), 6);
		expect_bytes(s, " again");
		ck_assert_int_eq(us_shutdown(s, US_SHUT_WR), 0);
		/* The server closes on the end of stream: ours ends too. */
		char b;
		ck_assert_int_eq(us_recv(s, &b, 1), 0);
		us_close(s);
		wait_count(&e.closed, i + 1, "connections the server closed");
	}
	/* Three at once. */
	int s[3];
	for (int i = 0; i < 3; i++)
		s[i] = client(n.a, 7);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(us_send(s[i], "abc", 3), 3);
	for (int i = 0; i < 3; i++) {
		expect_bytes(s[i], "abc");
		us_shutdown(s[i], US_SHUT_WR);
	}
	wait_count(&e.closed, 8, "connections the server closed");
	for (int i = 0; i < 3; i++)
		us_close(s[i]);

	ck_assert_int_eq(atomic_load(&e.accepted), 8);
	ck_assert_int_eq(atomic_load(&e.echoed), 5 * 11 + 3 * 3);
	ck_assert_int_eq(atomic_load(&e.unexpected), 0);
	ck_assert(atomic_load(&e.off_thread));
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Calls in a callback never block --------------------------------------- */

struct probe {
	atomic_int calls;
	int done; /* written by the callback, read after the counter moved */
	long recv_rc, recv_err;
	long read_rc;
	long accept_rc, accept_err;
	long poll_rc;
	long sendall_rc, sendall_err;
	size_t sendall_sent;
	int other_sock; /* a socket of the other runtime */
	long other_rc, other_err;
	long socket_rc, socket_err;
	struct us_runtime *other_rt, *own_rt;
	int stop_err;
	int listener;
};

static uint8_t big[4 << 20];

static void probing(int s, int events, void *arg)
{
	struct probe *p = arg;
	if (p->done || !(events & US_POLLIN))
		return;
	char buf[64];
	/* "abc" came: a read of 10 (blocking socket) returns the part. */
	errno = 0;
	p->read_rc = us_read(s, buf, 10);
	/* Nothing left: EAGAIN, not a wait. */
	errno = 0;
	p->recv_rc = us_recv(s, buf, sizeof buf);
	p->recv_err = errno;
	errno = 0;
	p->accept_rc = us_accept(p->listener, NULL);
	p->accept_err = errno;
	struct us_pollfd pf = { .sock = s, .events = US_POLLIN };
	p->poll_rc = us_poll(&pf, 1, -1);
	/* More than the send buffer holds: what fits, then EAGAIN. */
	errno = 0;
	p->sendall_rc = us_sendall(s, big, sizeof big, &p->sendall_sent);
	p->sendall_err = errno;
	/* Another runtime's socket, and a new socket on it: refused. */
	errno = 0;
	p->other_rc = us_send(p->other_sock, "x", 1);
	p->other_err = errno;
	errno = 0;
	p->socket_rc = us_socket(p->other_rt, US_AF_INET, US_SOCK_DGRAM, 0);
	p->socket_err = errno;
	/* Its own runtime cannot be stopped from here. */
	errno = 0;
	us_runtime_stop(p->own_rt);
	p->stop_err = errno;
	p->done = 1;
	atomic_fetch_add(&p->calls, 1);
}

START_TEST(calls_in_a_callback_never_block_and_other_runtimes_are_refused)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int l, a;
	int b = accepted_pair(&n, 9, &l, &a);
	struct probe p = { .other_sock = a, .other_rt = n.a, .own_rt = n.b, .listener = l };
	atomic_init(&p.calls, 0);
	ck_assert_int_eq(us_socket_callback(b, probing, &p), 0);
	ck_assert_int_eq(us_send(a, "abc", 3), 3);
	wait_count(&p.calls, 1, "probe calls");

	ck_assert_int_eq(p.read_rc, 3);
	ck_assert_int_eq(p.recv_rc, -1);
	ck_assert_int_eq(p.recv_err, EAGAIN);
	ck_assert_int_eq(p.accept_rc, -1);
	ck_assert_int_eq(p.accept_err, EAGAIN);
	ck_assert_int_eq(p.poll_rc, 0);
	ck_assert_int_eq(p.sendall_rc, -1);
	ck_assert_int_eq(p.sendall_err, EAGAIN);
	ck_assert_uint_gt(p.sendall_sent, 0);
	ck_assert_uint_lt(p.sendall_sent, sizeof big);
	ck_assert_int_eq(p.other_rc, -1);
	ck_assert_int_eq(p.other_err, EDEADLK);
	ck_assert_int_eq(p.socket_rc, -1);
	ck_assert_int_eq(p.socket_err, EDEADLK);
	ck_assert_int_eq(p.stop_err, EDEADLK);

	/* B still runs: the bytes sendall queued arrive at A, whole. */
	uint8_t *got = malloc(p.sendall_sent);
	ck_assert_ptr_nonnull(got);
	/* Delayed ACKs and Nagle may want the clock to move: it moves 10 ms
	 * whenever nothing is to be read (at most 1000 times). */
	ck_assert_int_eq(us_setblocking(a, false), 0);
	size_t have = 0;
	for (int idle = 0; have < p.sendall_sent && idle < 1000;) {
		ssize_t k = us_recv(a, got + have, p.sendall_sent - have);
		if (k > 0) {
			have += (size_t)k;
			continue;
		}
		ck_assert_int_eq(errno, EAGAIN);
		us_test_advance(&n, US_MSEC(10));
		us_test_sleep_ms(1);
		idle++;
	}
	ck_assert_uint_eq(have, p.sendall_sent);
	ck_assert_mem_eq(got, big, p.sendall_sent);
	free(got);
	us_close(a);
	us_close(b);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Setting and removing --------------------------------------------------- */

struct counter {
	atomic_int calls;
	atomic_int last_events;
};

static void count_only(int s, int events, void *arg)
{
	(void)s;
	struct counter *c = arg;
	atomic_store(&c->last_events, events);
	atomic_fetch_add(&c->calls, 1);
}

START_TEST(a_callback_set_on_a_readable_socket_is_called_and_a_removed_one_is_not)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int l, a;
	int b = accepted_pair(&n, 11, &l, &a);
	ck_assert_int_eq(us_send(a, "early", 5), 5);
	struct us_pollfd pf = { .sock = b, .events = US_POLLIN };
	ck_assert_int_eq(us_poll(&pf, 1, -1), 1);

	/* The data came before the callback: it hears of it all the same. */
	struct counter c;
	atomic_init(&c.calls, 0);
	atomic_init(&c.last_events, 0);
	ck_assert_int_eq(us_socket_callback(b, count_only, &c), 0);
	wait_count(&c.calls, 1, "callback calls");
	ck_assert_int_eq(atomic_load(&c.last_events), US_POLLIN | US_POLLOUT);

	/* Removed: more data comes, no call; the bytes wait for a reader. */
	ck_assert_int_eq(us_socket_callback(b, NULL, NULL), 0);
	int before = atomic_load(&c.calls);
	ck_assert_int_eq(us_send(a, " late", 5), 5);
	expect_bytes(b, "early late");
	ck_assert_int_eq(atomic_load(&c.calls), before);

	EXPECT_ERR(us_socket_callback(-1, count_only, &c), EBADF);
	us_close(a);
	us_close(b);
	us_close(l);
	EXPECT_ERR(us_socket_callback(b, count_only, &c), EBADF);
	us_test_net_stop(&n);
}
END_TEST

/* One callback closes a socket queued behind it in the same round: the
 * round must not call, or even touch, the closed one (ASan and valgrind
 * run this suite too). */
struct closer {
	int first, second, trigger;
	atomic_int first_calls, second_calls;
	atomic_int armed;
};

static void second_cb(int s, int events, void *arg)
{
	(void)s;
	(void)events;
	struct closer *c = arg;
	atomic_fetch_add(&c->second_calls, 1);
}

static void first_cb(int s, int events, void *arg)
{
	(void)s;
	(void)events;
	struct closer *c = arg;
	atomic_fetch_add(&c->first_calls, 1);
	us_close(c->second);
}

/* Sets both callbacks from a callback: both sockets are readable, so
 * both are queued for the next round, first before second. */
static void arming_cb(int s, int events, void *arg)
{
	(void)s;
	(void)events;
	struct closer *c = arg;
	if (atomic_exchange(&c->armed, 1))
		return;
	us_socket_callback(c->first, first_cb, c);
	us_socket_callback(c->second, second_cb, c);
}

START_TEST(a_callback_may_close_a_socket_queued_behind_it)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int l = listener(n.b, 13);
	int a[3], b[3];
	for (int i = 0; i < 3; i++) {
		a[i] = client(n.a, 13);
		b[i] = us_accept(l, NULL);
		ck_assert_int_ge(b[i], 0);
	}
	/* Data waits on the first two before any callback is set. */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(us_send(a[i], "x", 1), 1);
		struct us_pollfd pf = { .sock = b[i], .events = US_POLLIN };
		ck_assert_int_eq(us_poll(&pf, 1, -1), 1);
	}
	struct closer c = { .first = b[0], .second = b[1], .trigger = b[2] };
	atomic_init(&c.first_calls, 0);
	atomic_init(&c.second_calls, 0);
	atomic_init(&c.armed, 0);
	ck_assert_int_eq(us_socket_callback(b[2], arming_cb, &c), 0);
	ck_assert_int_eq(us_send(a[2], "go", 2), 2);
	wait_count(&c.first_calls, 1, "first callback calls");
	/* The second socket was closed in the round before its turn: it is
	 * never called, and its handle is dead. */
	us_test_sleep_ms(20);
	ck_assert_int_eq(atomic_load(&c.second_calls), 0);
	EXPECT_ERR(us_socket_callback(b[1], second_cb, &c), EBADF);
	/* It was closed with unread data: its peer sees a reset. */
	char buf[4];
	EXPECT_ERR(us_recv(a[1], buf, sizeof buf), ECONNRESET);
	for (int i = 0; i < 3; i++) {
		us_close(a[i]);
		if (i != 1)
			us_close(b[i]);
	}
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

/* A non-blocking connect reports its end through the callback, on A's
 * stack thread, when the SYN-ACK comes; a refused one as an error. */
START_TEST(a_connect_completes_through_the_callback)
{
	struct us_test_net n;
	us_test_net_start(&n);
	int l = listener(n.b, 15);
	struct counter c;
	atomic_init(&c.calls, 0);
	atomic_init(&c.last_events, 0);
	int s = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(us_setblocking(s, false), 0);
	ck_assert_int_eq(us_socket_callback(s, count_only, &c), 0);
	struct us_addr to = us_test_addr4(B_IP4, 15);
	EXPECT_ERR(us_connect(s, &to), EINPROGRESS);
	wait_count(&c.calls, 1, "callback calls");
	ck_assert(atomic_load(&c.last_events) & US_POLLOUT);
	ck_assert_int_eq(us_getsocketsta(s), US_TCP_ESTABLISHED);

	/* No listener on port 16: a RST, seen as POLLERR. */
	struct counter r;
	atomic_init(&r.calls, 0);
	atomic_init(&r.last_events, 0);
	int s2 = us_socket(n.a, US_AF_INET, US_SOCK_STREAM, 0);
	ck_assert_int_eq(us_setblocking(s2, false), 0);
	ck_assert_int_eq(us_socket_callback(s2, count_only, &r), 0);
	to.port = 16;
	EXPECT_ERR(us_connect(s2, &to), EINPROGRESS);
	wait_count(&r.calls, 1, "callback calls");
	ck_assert_msg(atomic_load(&r.last_events) & US_POLLERR, "events %#x",
		      (unsigned)atomic_load(&r.last_events));
	int err = 0;
	size_t len = sizeof err;
	ck_assert_int_eq(us_getsockopt(s2, US_SOL_SOCKET, US_SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, ECONNREFUSED);
	us_close(s);
	us_close(s2);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

/* ---- Zero-copy reads -------------------------------------------------------- */

#define ZC_BYTES (1u << 20)

struct zc {
	uint8_t got[ZC_BYTES];
	atomic_int have;
	atomic_int eof;
	atomic_int too_much_err; /* errno of a consume beyond the peek */
	atomic_int unexpected;
};

static void zc_sink(int s, int events, void *arg)
{
	(void)events;
	struct zc *z = arg;
	for (;;) {
		const void *p;
		ssize_t n = us_recv_peek(s, &p);
		if (n < 0) {
			atomic_fetch_add(&z->unexpected, 1);
			return;
		}
		if (n == 0)
			break;
		int have = atomic_load(&z->have);
		if ((size_t)have + (size_t)n > ZC_BYTES) {
			atomic_fetch_add(&z->unexpected, 1);
			return;
		}
		memcpy(z->got + have, p, (size_t)n);
		if (atomic_load(&z->too_much_err) == 0) {
			errno = 0;
			if (us_recv_consume(s, (size_t)n + 1) == 0)
				atomic_fetch_add(&z->unexpected, 1);
			atomic_store(&z->too_much_err, errno);
		}
		if (us_recv_consume(s, (size_t)n) != 0)
			atomic_fetch_add(&z->unexpected, 1);
		atomic_store(&z->have, have + (int)n);
	}
	char c;
	ssize_t r = us_recv(s, &c, 1);
	if (r == 0) {
		atomic_store(&z->eof, 1);
		us_close(s);
	} else if (!(r < 0 && errno == EAGAIN)) {
		atomic_fetch_add(&z->unexpected, 1);
	}
}

START_TEST(zero_copy_reads_see_the_bytes_in_place_and_consuming_opens_the_window)
{
	struct us_test_net n;
	us_test_net_start(&n);
	static struct zc z;
	memset(&z, 0, sizeof z);
	static uint8_t sent[ZC_BYTES];
	for (size_t i = 0; i < ZC_BYTES; i++)
		sent[i] = (uint8_t)(i * 131 + (i >> 9));
	int l, a;
	int b = accepted_pair(&n, 17, &l, &a);

	/* Outside a callback, and on a datagram socket: refused. */
	const void *p = &p;
	EXPECT_ERR(us_recv_peek(b, &p), EINVAL);
	ck_assert_ptr_null(p);
	EXPECT_ERR(us_recv_consume(b, 0), EINVAL);
	int u = us_socket(n.b, US_AF_INET, US_SOCK_DGRAM, 0);
	EXPECT_ERR(us_recv_peek(u, &p), EOPNOTSUPP);
	EXPECT_ERR(us_recv_peek(b, NULL), EFAULT);
	us_close(u);

	ck_assert_int_eq(us_socket_callback(b, zc_sink, &z), 0);
	/* A megabyte, four times the receive buffer: only consuming opens
	 * the window again. The clock moves 10 ms when A cannot send (at
	 * most 2000 times). */
	ck_assert_int_eq(us_setblocking(a, false), 0);
	size_t off = 0;
	for (int idle = 0; off < ZC_BYTES && idle < 2000;) {
		ssize_t k = us_send(a, sent + off, ZC_BYTES - off);
		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		ck_assert_int_eq(errno, EAGAIN);
		us_test_advance(&n, US_MSEC(10));
		us_test_sleep_ms(1);
		idle++;
	}
	ck_assert_uint_eq(off, ZC_BYTES);
	ck_assert_int_eq(us_shutdown(a, US_SHUT_WR), 0);
	for (int i = 0; i < 2000 && !atomic_load(&z.eof); i++) {
		us_test_advance(&n, US_MSEC(10));
		us_test_sleep_ms(1);
	}
	ck_assert_int_eq(atomic_load(&z.eof), 1);
	ck_assert_int_eq(atomic_load(&z.have), (int)ZC_BYTES);
	ck_assert_int_eq(memcmp(z.got, sent, ZC_BYTES), 0);
	ck_assert_int_eq(atomic_load(&z.too_much_err), EINVAL);
	ck_assert_int_eq(atomic_load(&z.unexpected), 0);
	us_close(a);
	us_close(l);
	us_test_net_stop(&n);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("socket_callback");
	TCase *tc = tcase_create("socket_callback");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_callback_server_accepts_echoes_and_closes_on_the_stack_thread);
	tcase_add_test(tc, calls_in_a_callback_never_block_and_other_runtimes_are_refused);
	tcase_add_test(tc, a_callback_set_on_a_readable_socket_is_called_and_a_removed_one_is_not);
	tcase_add_test(tc, a_callback_may_close_a_socket_queued_behind_it);
	tcase_add_test(tc, a_connect_completes_through_the_callback);
	tcase_add_test(tc, zero_copy_reads_see_the_bytes_in_place_and_consuming_opens_the_window);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for busy polling (us_runtime_config.busy_poll_us; src/api/
 * runtime.c's stack_busy_poll() and socket.c's busy_wait()): a waiting
 * call that spins first must keep the semantics of one that sleeps. A
 * blocking receive returns the data, a timeout still fires at its time, a
 * close from another thread and a stop still interrupt it; with the link
 * quiet nothing spins, and a budget over a second is refused.
 *
 * Two runtimes joined by the in-memory link (testnet.h's addresses), on the
 * virtual clock except where the real clock's timeout path is the point.
 * Whether a wait spun, and whether its spin saw the event, is read from the
 * runtime's busy-poll counts (runtime_impl.h). Read test_socket.c first.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <ustack/memlink.h>
#include <ustack/ustack.h>

#include "runtime_impl.h"
#include "socket_impl.h"
#include "testnet.h"

/* Budgets: long enough that a spin outlasts the test's own steps (it ends
 * as soon as the event comes), short for the quiet-link test. */
#define LONG_BUDGET_US 1000000u
#define SHORT_BUDGET_US 1000u

static struct us_runtime *start_runtime(struct us_driver d, uint8_t last, uint32_t budget,
					bool real_clock)
{
	struct us_runtime_config cfg = {
		.driver = d,
		.mac = { 0x02, 0, 0, 0, 0, last },
		.ipv4 = 0xc6336400u | last,
		.ipv4_prefix = 24,
		.busy_poll_us = budget,
		.stack = { .seed = last, .no_dad = true, .no_router_solicit = true },
		.fixed_seed = true,
	};
	if (!real_clock)
		cfg.clock = us_test_clock();
	int err = 0;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_msg(rt != NULL, "runtime did not start: %d", err);
	return rt;
}

/* A and B with busy polling on both (budget), on the virtual clock. */
static void net_start(struct us_test_net *n, uint32_t budget)
{
	us_test_set_now(T0);
	struct us_driver da, db;
	ck_assert_int_eq(us_memlink_pair(&da, &db, NULL), 0);
	n->a = start_runtime(da, 1, budget, false);
	n->b = start_runtime(db, 2, budget, false);
}

static int udp_bound(struct us_runtime *rt, uint16_t port)
{
	int s = us_socket(rt, US_AF_INET, US_SOCK_DGRAM, 0);
	ck_assert_int_ge(s, 0);
	struct us_addr any = { .family = US_AF_INET, .port = port };
	ck_assert_int_eq(us_bind(s, &any), 0);
	return s;
}

static uint64_t count(atomic_uint_fast64_t *c)
{
	return (uint64_t)atomic_load(c);
}

/* A datagram from A to B's port 7, received there: it makes the link busy
 * (a frame in and out within the budget) and resolves ARP. */
static void warm_up(int sa, int sb)
{
	struct us_addr to = us_test_addr4(B_IP4, 7);
	ck_assert_int_eq(us_sendto(sa, "warm", 4, &to), 4);
	char buf[8];
	ck_assert_int_eq(us_recv(sb, buf, sizeof buf), 4);
}

/* The fixture of most tests: A and B with a busy-poll budget of budget µs
 * (0: off), on the virtual clock; A's UDP socket sa on port 5000, B's sb on port 7, the
 * link warmed up (warm_up()). */
struct udp_pair {
	struct us_test_net n;
	int sa, sb;
};

static void pair_start(struct udp_pair *p, uint32_t budget)
{
	net_start(&p->n, budget);
	p->sb = udp_bound(p->n.b, 7);
	p->sa = udp_bound(p->n.a, 5000);
	warm_up(p->sa, p->sb);
}

/* Closes both sockets and stops both runtimes. */
static void pair_stop(struct udp_pair *p)
{
	us_close(p->sa);
	us_close(p->sb);
	us_test_net_stop(&p->n);
}

/* ---- One blocking receive in a thread ------------------------------------- */

struct job {
	int sock;
	pthread_t thread;
	long rc;
	int err;
	char buf[64];
	us_time_t started, ended; /* virtual times */
	atomic_bool done;
};

static void *recv_main(void *arg)
{
	struct job *j = arg;
	j->started = us_test_now();
	errno = 0;
	j->rc = us_recv(j->sock, j->buf, sizeof j->buf);
	j->err = errno;
	j->ended = us_test_now();
	atomic_store(&j->done, true);
	return NULL;
}

static void job_start(struct job *j, int sock)
{
	j->sock = sock;
	atomic_init(&j->done, false);
	ck_assert_int_eq(pthread_create(&j->thread, NULL, recv_main, j), 0);
}

/* Joins the job's thread, waiting at most 20 s of real time for it. */
static void job_join(struct job *j)
{
	us_test_join_within(j->thread, &j->done, 20);
}

/* A blocking receive on B's socket in a thread (j), woken by the datagram
 * "ping" that A sends once it waits; returns when it has returned. */
static void recv_woken_by_ping(struct udp_pair *p, struct job *j)
{
	job_start(j, p->sb);
	us_test_wait_blocked(p->sb, 1);
	struct us_addr to = us_test_addr4(B_IP4, 7);
	ck_assert_int_eq(us_sendto(p->sa, "ping", 4, &to), 4);
	job_join(j);
}

/* ---- Tests --------------------------------------------------------------- */

START_TEST(a_blocking_recv_that_spins_returns_the_data_without_sleeping)
{
	struct udp_pair p;
	pair_start(&p, LONG_BUDGET_US);

	uint64_t spins = count(&p.n.b->bp_spins), hits = count(&p.n.b->bp_hits);
	struct job j;
	recv_woken_by_ping(&p, &j);
	ck_assert_int_eq(j.rc, 4);
	ck_assert_mem_eq(j.buf, "ping", 4);
	/* It spun (the link was busy) and its spin saw the datagram come. */
	ck_assert_uint_gt(count(&p.n.b->bp_spins), spins);
	ck_assert_uint_gt(count(&p.n.b->bp_hits), hits);
	ck_assert_uint_eq(us_socket_waiters(p.sb), 0);
	pair_stop(&p);
}
END_TEST

START_TEST(many_datagrams_each_read_by_a_spinning_recv_come_in_order)
{
	/* The reader spins (reading the driver itself) while the stack thread
	 * spins too: rx_lock keeps the frames in the link's order. */
	struct udp_pair p;
	pair_start(&p, LONG_BUDGET_US);
	struct us_addr to = us_test_addr4(B_IP4, 7);
	for (int i = 0; i < 200; i++) {
		char out[8], in[8];
		int len = snprintf(out, sizeof out, "%d", i);
		ck_assert_int_eq(us_sendto(p.sa, out, (size_t)len, &to), len);
		ck_assert_int_eq(us_recv(p.sb, in, sizeof in), len);
		ck_assert_mem_eq(in, out, (size_t)len);
	}
	pair_stop(&p);
}
END_TEST

START_TEST(a_timeout_fires_at_its_time_when_the_wait_spins)
{
	struct udp_pair p;
	pair_start(&p, LONG_BUDGET_US);
	ck_assert_int_eq(us_settimeout(p.sb, 0.1), 0);
	uint64_t spins = count(&p.n.b->bp_spins);
	struct job j;
	job_start(&j, p.sb);
	us_test_wait_blocked(p.sb, 1);
	ck_assert_uint_gt(count(&p.n.b->bp_spins), spins);

	/* 99.999 ms later the call still waits (the clock's move ends its
	 * spin: it looks again and waits again) ... */
	us_test_advance(&p.n, US_MSEC(100) - 1);
	us_test_sleep_ms(50);
	ck_assert_msg(!atomic_load(&j.done), "the timeout fired early");
	ck_assert_uint_eq(us_socket_waiters(p.sb), 1);
	/* ... and at 100 ms it ends. */
	us_test_advance(&p.n, 1);
	job_join(&j);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, ETIMEDOUT);
	ck_assert_int_eq(j.ended - j.started, US_MSEC(100));
	pair_stop(&p);
}
END_TEST

START_TEST(on_the_real_clock_a_spin_stops_at_the_call_s_timeout)
{
	/* Real time, bounded: a 20 ms timeout under a one-second budget. The
	 * spin is cut at the deadline, so the call ends long before the
	 * budget would (the bound asserted is the budget, 50 times the
	 * timeout). */
	struct us_driver da, db;
	ck_assert_int_eq(us_memlink_pair(&da, &db, NULL), 0);
	struct us_runtime *a = start_runtime(da, 1, LONG_BUDGET_US, true);
	struct us_runtime *b = start_runtime(db, 2, LONG_BUDGET_US, true);
	int sb = udp_bound(b, 7);
	int sa = udp_bound(a, 5000);
	warm_up(sa, sb);
	ck_assert_int_eq(us_settimeout(sb, 0.02), 0);
	uint64_t spins = count(&b->bp_spins);
	char buf[8];
	us_time_t t0 = us_test_monotonic_us();
	EXPECT_ERR(us_recv(sb, buf, sizeof buf), ETIMEDOUT);
	us_time_t waited = us_test_monotonic_us() - t0;
	ck_assert_uint_gt(count(&b->bp_spins), spins);
	ck_assert_int_ge(waited, US_MSEC(20));
	ck_assert_int_lt(waited, (us_time_t)LONG_BUDGET_US);
	us_close(sa);
	us_close(sb);
	us_runtime_stop(a);
	us_runtime_stop(b);
}
END_TEST

START_TEST(a_close_from_another_thread_interrupts_a_spinning_recv)
{
	struct udp_pair p;
	pair_start(&p, LONG_BUDGET_US);
	uint64_t hits = count(&p.n.b->bp_hits);
	struct job j;
	job_start(&j, p.sb);
	us_test_wait_blocked(p.sb, 1);
	ck_assert_int_eq(us_close(p.sb), 0);
	job_join(&j);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, EBADF);
	ck_assert_uint_gt(count(&p.n.b->bp_hits), hits);
	us_close(p.sa);
	us_test_net_stop(&p.n);
}
END_TEST

START_TEST(stopping_the_runtime_interrupts_a_spinning_recv_with_enetdown)
{
	struct udp_pair p;
	pair_start(&p, LONG_BUDGET_US);
	struct job j;
	job_start(&j, p.sb);
	us_test_wait_blocked(p.sb, 1);
	us_runtime_stop(p.n.b);
	p.n.b = NULL;
	job_join(&j);
	ck_assert_int_eq(j.rc, -1);
	ck_assert_int_eq(j.err, ENETDOWN);
	ck_assert_int_eq(us_close(p.sb), 0);
	us_close(p.sa);
	us_runtime_stop(p.n.a);
}
END_TEST

START_TEST(on_a_quiet_link_a_wait_does_not_spin)
{
	struct udp_pair p;
	pair_start(&p, SHORT_BUDGET_US);
	/* Real time passes beyond the budget with no frame. */
	us_test_sleep_ms(20);
	uint64_t spins = count(&p.n.b->bp_spins);
	struct job j;
	job_start(&j, p.sb);
	us_test_wait_blocked(p.sb, 1);
	ck_assert_uint_eq(count(&p.n.b->bp_spins), spins);
	/* It sleeps, and a datagram still wakes it. */
	struct us_addr to = us_test_addr4(B_IP4, 7);
	ck_assert_int_eq(us_sendto(p.sa, "late", 4, &to), 4);
	job_join(&j);
	ck_assert_int_eq(j.rc, 4);
	ck_assert_mem_eq(j.buf, "late", 4);
	pair_stop(&p);
}
END_TEST

START_TEST(without_busy_polling_nothing_spins)
{
	struct udp_pair p;
	pair_start(&p, 0);
	struct job j;
	recv_woken_by_ping(&p, &j);
	ck_assert_int_eq(j.rc, 4);
	ck_assert_uint_eq(count(&p.n.b->bp_spins), 0);
	ck_assert_uint_eq(count(&p.n.b->bp_frames), 0);
	pair_stop(&p);
}
END_TEST

START_TEST(a_budget_over_a_second_is_einval_and_closes_the_driver)
{
	struct us_driver d, peer;
	ck_assert_int_eq(us_memlink_pair(&d, &peer, NULL), 0);
	struct us_runtime_config cfg = { .driver = d, .busy_poll_us = 1000001, .fixed_seed = true };
	int err = 0;
	ck_assert_ptr_null(us_runtime_start(&cfg, &err));
	ck_assert_int_eq(err, -EINVAL);
	/* The runtime owns the driver from the call on: it closed it. */
	peer.ops->close(peer.ctx);
	cfg.busy_poll_us = 1000000;
	ck_assert_int_eq(us_memlink_pair(&cfg.driver, &peer, NULL), 0);
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_ptr_nonnull(rt);
	us_runtime_stop(rt);
	peer.ops->close(peer.ctx);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("busy_poll");
	TCase *tc = tcase_create("busy_poll");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_blocking_recv_that_spins_returns_the_data_without_sleeping);
	tcase_add_test(tc, many_datagrams_each_read_by_a_spinning_recv_come_in_order);
	tcase_add_test(tc, a_timeout_fires_at_its_time_when_the_wait_spins);
	tcase_add_test(tc, on_the_real_clock_a_spin_stops_at_the_call_s_timeout);
	tcase_add_test(tc, a_close_from_another_thread_interrupts_a_spinning_recv);
	tcase_add_test(tc, stopping_the_runtime_interrupts_a_spinning_recv_with_enetdown);
	tcase_add_test(tc, on_a_quiet_link_a_wait_does_not_spin);
	tcase_add_test(tc, without_busy_polling_nothing_spins);
	tcase_add_test(tc, a_budget_over_a_second_is_einval_and_closes_the_driver);
	suite_add_tcase(s, tc);
	return s;
}

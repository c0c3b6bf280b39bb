/* SPDX-License-Identifier: MIT */
/* tests/unit/testnet.c - two runtimes on one virtual clock (testnet.h). */
#include "testnet.h"

#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <ustack/memlink.h>

#include "socket_impl.h"

static _Atomic us_time_t virtual_now;

static us_time_t virtual_clock(void *ctx)
{
	(void)ctx;
	return atomic_load(&virtual_now);
}

us_time_t us_test_now(void)
{
	return atomic_load(&virtual_now);
}

void us_test_set_now(us_time_t t)
{
	atomic_store(&virtual_now, t);
}

struct us_clock us_test_clock(void)
{
	struct us_clock c = { .now = virtual_clock, .is_virtual = true };
	return c;
}

struct us_ip6 us_test_ip6(uint8_t last)
{
	struct us_ip6 a = { { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01 } };
	a.b[15] = last;
	return a;
}

struct us_runtime *us_test_runtime(struct us_driver d, uint8_t last)
{
	struct us_runtime_config cfg = {
		.driver = d,
		.mac = { 0x02, 0, 0, 0, 0, last },
		.ipv4 = 0xc6336400u | last,
		.ipv4_prefix = 24,
		.has_ipv6 = true,
		.ipv6 = us_test_ip6(last),
		.ipv6_prefix = 64,
		.clock = us_test_clock(),
		.stack = { .seed = last, .no_dad = true, .no_router_solicit = true },
		.fixed_seed = true,
	};
	cfg.stack.secret[0] = last;
	/* The suites run again with busy polling on (tests/meson.build). */
	const char *bp = getenv("USTACK_TEST_BUSY_POLL_US");
	if (bp)
		cfg.busy_poll_us = (uint32_t)strtoul(bp, NULL, 10);
	int err = 0;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_msg(rt != NULL, "runtime did not start: %d", err);
	return rt;
}

void us_test_net_start(struct us_test_net *n)
{
	us_test_set_now(T0);
	struct us_driver da, db;
	ck_assert_int_eq(us_memlink_pair(&da, &db, NULL), 0);
	n->a = us_test_runtime(da, 1);
	n->b = us_test_runtime(db, 2);
}

void us_test_net_stop(struct us_test_net *n)
{
	us_runtime_stop(n->a);
	us_runtime_stop(n->b);
}

void us_test_advance(const struct us_test_net *n, us_time_t d)
{
	atomic_fetch_add(&virtual_now, d);
	if (n->a)
		us_runtime_wake(n->a);
	if (n->b)
		us_runtime_wake(n->b);
}

struct us_addr us_test_addr4(uint32_t ip, uint16_t port)
{
	struct us_addr a = { .family = US_AF_INET, .port = port, .ip4 = ip };
	return a;
}

struct us_addr us_test_addr6(uint8_t last, uint16_t port)
{
	struct us_addr a = { .family = US_AF_INET6, .port = port, .ip6 = us_test_ip6(last) };
	return a;
}

void us_test_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

us_time_t us_test_monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (us_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void us_test_join_within(pthread_t t, atomic_bool *done, int max_s)
{
	for (int i = 0; i < max_s * 1000 && !atomic_load(done); i++)
		us_test_sleep_ms(1);
	ck_assert_msg(atomic_load(done), "the blocked call never returned");
	pthread_join(t, NULL);
}

void us_test_wait_blocked(int s, unsigned n)
{
	for (int i = 0; i < 20000; i++) {
		if (us_socket_waiters(s) >= n)
			return;
		us_test_sleep_ms(1);
	}
	ck_abort_msg("no call blocked on socket %d", s);
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/testnet.h - two runtimes on one virtual clock, for the socket
 * API's tests (test_socket.c, test_socket_tcp.c).
 *
 * A (198.51.100.1, 2001:db8:1::1) and B (.2, ::2) are joined by the
 * in-memory link and run on a virtual clock that only the test moves
 * (us_test_advance()). Nothing waits on real time for protocol timing; real
 * time is only spent, bounded, letting threads run: a call under test that
 * must block runs in a thread, and the clock moves once
 * us_test_wait_blocked() has seen it wait.
 */
#ifndef USTACK_TESTNET_H
#define USTACK_TESTNET_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <ustack/ustack.h>

#define A_IP4 0xc6336401u /* 198.51.100.1 */
#define B_IP4 0xc6336402u /* 198.51.100.2 */
#define T0 US_SEC(100)    /* the clock at us_test_net_start() */

struct us_test_net {
	struct us_runtime *a, *b;
};

/* The shared virtual clock, and a struct us_clock that reads it. */
us_time_t us_test_now(void);
void us_test_set_now(us_time_t t);
struct us_clock us_test_clock(void);

/* Sets the clock to T0 and starts A and B. */
void us_test_net_start(struct us_test_net *n);
void us_test_net_stop(struct us_test_net *n);
/* One runtime on driver d with the addresses ending in last. */
struct us_runtime *us_test_runtime(struct us_driver d, uint8_t last);
/* Moves the clock by d and tells both stack threads. */
void us_test_advance(const struct us_test_net *n, us_time_t d);

/* 2001:db8:1::last; addresses with a port. */
struct us_ip6 us_test_ip6(uint8_t last);
struct us_addr us_test_addr4(uint32_t ip, uint16_t port);
struct us_addr us_test_addr6(uint8_t last, uint16_t port);

void us_test_sleep_ms(int ms);
/* The real monotonic clock in µs, for the few tests that measure real time. */
us_time_t us_test_monotonic_us(void);
/* Waits (bounded: 20 s of real time) until n calls are blocked on s. */
void us_test_wait_blocked(int s, unsigned n);
/* Joins a thread that sets *done when its blocked call returns, failing
 * the test if that takes more than max_s seconds of real time. */
void us_test_join_within(pthread_t t, atomic_bool *done, int max_s);

/* Fails the test unless call returned -1 with errno want. */
#define EXPECT_ERR(call, want)                                                                   \
	do {                                                                                     \
		errno = 0;                                                                       \
		long rc_ = (long)(call);                                                         \
		int e_ = errno;                                                                  \
		ck_assert_msg(rc_ == -1 && e_ == (want), "%s: returned %ld, errno %d (%s); want -1, %s", \
			      #call, rc_, e_, strerror(e_), strerror(want));                     \
	} while (0)

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for what us_close() leaves running (src/api/socket.c): the
 * core finishes a closed connection alone (RFC 9293 §3.10.4), so the
 * stack thread must hear of the timers the close armed.
 *
 * On the real clock, on purpose: on the virtual clock every move of the
 * clock wakes the stack thread, which would hide a thread that was never
 * told of a new deadline. The FIN's retransmission timer is the RTO, 200
 * ms here (RFC 6298 §2 with the 200 ms floor, a sub-millisecond RTT); the
 * peer's read waits up to 1 s for it, five times that. A stack thread that
 * did not hear of the timer sends the FIN at its next unrelated wake-up,
 * 2 s later here, and the read times out.
 *
 * Read tests/unit/test_socket_tcp.c first.
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <ustack/memlink.h>
#include <ustack/ustack.h>

#define A_IP 0xc6336401u /* 198.51.100.1 */
#define B_IP 0xc6336402u /* 198.51.100.2 */
#define PORT 80

static struct us_runtime *start(struct us_driver d, uint8_t last)
{
	struct us_runtime_config cfg = {
		.driver = d,
		.mac = { 0x02, 0, 0, 0, 0, last },
		.ipv4 = 0xc6336400u | last,
		.ipv4_prefix = 24,
		.stack = { .seed = last, .no_dad = true, .no_router_solicit = true },
		.fixed_seed = true,
	};
	int err = 0;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_msg(rt != NULL, "runtime did not start: %d", err);
	return rt;
}

struct pair {
	struct us_driver da, db;
	struct us_runtime *a, *b;
	int l, ca, cb; /* B's listener, A's end, B's end */
};

/* A connects to B; a_to_b_drop_every: the link loses A's Nth frame. */
static void connect_pair(struct pair *p, uint32_t a_to_b_drop_every)
{
	struct us_memlink_options opt = { .a_to_b = { .drop_every = a_to_b_drop_every } };
	ck_assert_int_eq(us_memlink_pair(&p->da, &p->db, &opt), 0);
	p->a = start(p->da, 1);
	p->b = start(p->db, 2);
	p->l = us_socket(p->b, US_AF_INET, US_SOCK_STREAM, 0);
	struct us_addr any = { .family = US_AF_INET, .port = PORT };
	ck_assert_int_eq(us_bind(p->l, &any), 0);
	ck_assert_int_eq(us_listen(p->l, 1), 0);
	p->ca = us_socket(p->a, US_AF_INET, US_SOCK_STREAM, 0);
	struct us_addr to = { .family = US_AF_INET, .ip4 = B_IP, .port = PORT };
	ck_assert_int_eq(us_connect(p->ca, &to), 0);
	p->cb = us_accept(p->l, NULL);
	ck_assert_int_ge(p->cb, 0);
}

static uint64_t a_tx(const struct pair *p, uint64_t *lost)
{
	struct us_memlink_stats st;
	ck_assert_int_eq(us_memlink_stats(&p->da, &st), 0);
	if (lost)
		*lost = st.dropped_impaired;
	return st.tx;
}

static void stop_pair(struct pair *p)
{
	us_close(p->cb);
	us_close(p->l);
	us_runtime_stop(p->a);
	us_runtime_stop(p->b);
}

/* The FIN of a close is lost; only its retransmission, on the timer the
 * close armed, reaches the peer, whose read then ends. */
START_TEST(a_lost_fin_after_close_is_sent_again)
{
	/* A dry run counts A's frames up to the close (ARP, SYN, ACK), so
	 * that the link can lose exactly the next one, the FIN. */
	struct pair p;
	connect_pair(&p, 0);
	uint64_t before_fin = a_tx(&p, NULL);
	us_close(p.ca);
	stop_pair(&p);

	connect_pair(&p, (uint32_t)before_fin + 1);
	ck_assert_uint_eq(a_tx(&p, NULL), before_fin);
	ck_assert_int_eq(us_close(p.ca), 0);
	ck_assert_int_eq(us_settimeout(p.cb, 1.0), 0);
	char buf[8];
	errno = 0;
	ssize_t n = us_recv(p.cb, buf, sizeof buf);
	ck_assert_msg(n == 0, "the peer's read returned %zd (%s), not the end of stream", n,
		      strerror(errno));
	uint64_t lost;
	a_tx(&p, &lost);
	ck_assert_uint_eq(lost, 1); /* the FIN, and only it */
	stop_pair(&p);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("socket_close");
	TCase *tc = tcase_create("socket_close");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_lost_fin_after_close_is_sent_again);
	suite_add_tcase(s, tc);
	return s;
}

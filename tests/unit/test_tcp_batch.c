/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_tcp_batch.c - ACKs coalesced over a batch of received
 * frames (us_stack_batch_begin()/_end(), src/stack/tcp_input.c
 * defer_ack()), on the virtual clock.
 *
 * RFC 5681 §4.2: "an ACK SHOULD be generated for at least every second
 * full-sized segment" is the rule a batch relaxes (one ACK per connection
 * at the batch's end, as Linux's GRO); "Out-of-order data segments SHOULD
 * be acknowledged immediately" and "an immediate ACK SHOULD be generated
 * when a segment fills in all or part of a gap" are the ones it must not.
 * The ACK of a FIN and a window update wait for the batch's end, where
 * they leave unless a reply carried them (us_tcp_defer_ack()).
 *
 * Read first: tests/unit/harness.h. The stack (198.51.100.2) opens a
 * connection to a fake peer (198.51.100.1), which answers with MSS 1460
 * and window scaling (so the stack's window is its 256 KB buffer), then
 * sends data segments written by hand; what the stack sends back is read
 * off the test link. Sequence numbers in the tests are relative: the
 * peer's from its ISS, the stack's from the ISS of its SYN.
 */
#include "harness.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <ustack/core.h>

#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/wire.h"

#define STACK_IP 0xc6336402u /* 198.51.100.2 */
#define PEER_IP 0xc6336401u  /* 198.51.100.1 */
#define PEER_PORT 5001
#define PEER_ISS 7000000u
#define MSS 1460
#define T0 US_SEC(1)

/* One connection as the peer sees it. */
struct conn {
	struct us_tcp *t;
	uint16_t port;  /* the peer's */
	uint16_t sport; /* the stack's */
	uint32_t siss;  /* the stack's ISS */
};

struct peer {
	struct us_test_link link;
	struct us_stack *s;
	us_time_t now;
	struct conn conns[2];
	struct conn *c;    /* the connection put_opt() and expect_ack_of() are about */
	int seen;          /* frames of link already read */
	uint8_t data[MSS]; /* what every data segment carries */
};

static void on_event(void *ctx, int events)
{
	(void)ctx;
	(void)events;
}

/* The peer sends one TCP segment: seq relative to its ISS, ack relative
 * to the stack's, raw options (a multiple of 4) and len bytes of data. */
static void put_opt(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
		    const uint8_t *opt, size_t optlen, size_t len)
{
	uint8_t f[14 + 20 + 60 + MSS];
	size_t n = 20 + optlen + len;
	struct us_ipv4_hdr ip = { .id = 1, .ttl = 64, .proto = US_IPPROTO_TCP,
				  .src = PEER_IP, .dst = STACK_IP, .payload_len = n };
	uint8_t *tcp = f + us_test_eth_ipv4(f, sizeof f, &ip);
	struct us_tcp_hdr h = { .sport = p->c->port, .dport = p->c->sport, .seq = PEER_ISS + seq,
				.ack = p->c->siss + ack, .flags = flags, .window = 65535 };
	ck_assert_uint_eq(us_tcp_emit(&h, tcp, sizeof f - 34), 20);
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4); /* Data Offset */
	if (optlen)
		memcpy(tcp + 20, opt, optlen);
	memcpy(tcp + 20 + optlen, p->data, len);
	us_tcp_csum_fill(tcp, n, us_csum_pseudo4(PEER_IP, STACK_IP, US_IPPROTO_TCP, (uint32_t)n));
	us_stack_input(p->s, p->now, 0, f, 34 + n);
}

/* Data segment number i (0, 1, ...) of MSS bytes. */
static void put_seg(struct peer *p, uint32_t i)
{
	put_opt(p, US_TCP_ACK, 1 + i * MSS, 1, NULL, 0, MSS);
}

/* Data segments first, first + 1, ..., end - 1, in order. */
static void put_segs(struct peer *p, uint32_t first, uint32_t end)
{
	for (uint32_t i = first; i < end; i++)
		put_seg(p, i);
}

/* The next frame the stack sent, parsed; false when there is none. */
static bool next_seg(struct peer *p, struct us_tcp_hdr *h)
{
	if (p->seen >= p->link.count)
		return false;
	ck_assert_int_lt(p->seen, US_TEST_MAX_FRAMES);
	const uint8_t *f = p->link.frame[p->seen];
	size_t len = p->link.len[p->seen];
	p->seen++;
	struct us_eth_hdr eth;
	struct us_ipv4_hdr ip;
	ck_assert_int_eq(us_eth_parse(f, len, &eth), US_WIRE_OK);
	ck_assert_uint_eq(eth.ethertype, US_ETHERTYPE_IPV4);
	ck_assert_int_eq(us_ipv4_parse(eth.payload, eth.payload_len, &ip), US_WIRE_OK);
	ck_assert_uint_eq(ip.proto, US_IPPROTO_TCP);
	ck_assert_int_eq(us_tcp_parse(ip.payload, ip.payload_len, h), US_WIRE_OK);
	return true;
}

/* The next frame must be a pure ACK of ack (relative to the peer's ISS)
 * on the current connection. */
static void expect_ack_of(struct peer *p, uint32_t ack)
{
	struct us_tcp_hdr h;
	ck_assert_msg(next_seg(p, &h), "no ACK sent; expected one of %u", ack);
	ck_assert_uint_eq(h.dport, p->c->port);
	ck_assert_uint_eq(h.flags & (US_TCP_SYN | US_TCP_FIN | US_TCP_RST | US_TCP_ACK), US_TCP_ACK);
	ck_assert_uint_eq(h.payload_len, 0);
	ck_assert_msg(h.ack - PEER_ISS == ack, "ACK of %u, expected %u", h.ack - PEER_ISS, ack);
}

static void expect_nothing(struct peer *p)
{
	struct us_tcp_hdr h;
	if (next_seg(p, &h))
		ck_assert_msg(0, "unexpected segment: flags %#x ack %u", h.flags, h.ack - PEER_ISS);
}

/* Connection i (the peer's port PEER_PORT + i) opened by the stack,
 * with a receive buffer of rcvbuf bytes (0: the default) and, when
 * wscale, window scaling: established, both sides at relative 1. */
static void connect_conn(struct peer *p, int i, int rcvbuf, bool wscale)
{
	struct conn *c = p->c = &p->conns[i];
	c->port = (uint16_t)(PEER_PORT + i);
	int err = 0;
	c->t = us_tcp_open(p->s, US_AF_INET, on_event, NULL, &err);
	ck_assert_ptr_nonnull(c->t);
	if (rcvbuf)
		ck_assert_int_eq(us_tcp_setopt(c->t, US_OPT_RCVBUF, rcvbuf), 0);
	struct us_addr to = { .family = US_AF_INET, .ip4 = PEER_IP, .port = c->port };
	ck_assert_int_eq(us_tcp_connect(c->t, p->now, &to), -EINPROGRESS);
	struct us_tcp_hdr syn;
	ck_assert(next_seg(p, &syn));
	ck_assert_uint_eq(syn.flags, US_TCP_SYN);
	c->siss = syn.seq;
	c->sport = syn.sport;
	p->now += US_MSEC(1);
	/* MSS 1460, then NOP, window scale 7 (or two NOPs more). */
	uint8_t opt[8] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, opt, wscale ? 8 : 4, 0);
	expect_ack_of(p, 1);
	ck_assert_int_eq(us_tcp_state(c->t), US_TCP_ESTABLISHED);
}

/* A stack with connection 0 established, window scaling on (the stack's
 * window is its 256 KB buffer). */
static struct peer *peer_new(void)
{
	static struct peer peer;
	struct peer *p = &peer;
	memset(p, 0, sizeof *p);
	for (int i = 0; i < MSS; i++)
		p->data[i] = (uint8_t)(i * 7 + 3);
	p->now = T0;
	p->s = us_test_stack(&p->link, 1);
	us_test_meet_ipv4(p->s, &p->link, p->now, PEER_IP, 1);
	connect_conn(p, 0, 0, true);
	return p;
}

static void peer_free(struct peer *p)
{
	for (int i = 0; i < 2; i++)
		if (p->conns[i].t)
			us_tcp_abort(p->conns[i].t, p->now);
	us_test_stack_free(p->s);
}

/* The control: outside a batch, every second full-sized segment is
 * acknowledged at once, as RFC 5681 §4.2 says. */
START_TEST(without_a_batch_every_second_segment_is_acked_at_once)
{
	struct peer *p = peer_new();
	for (uint32_t i = 0; i < 6; i++) {
		put_seg(p, i);
		if (i % 2)
			expect_ack_of(p, 1 + (i + 1) * MSS);
		else
			expect_nothing(p);
	}
	peer_free(p);
}
END_TEST

START_TEST(a_batch_of_in_order_segments_gets_one_ack_covering_all_of_them)
{
	struct peer *p = peer_new();
	us_stack_batch_begin(p->s);
	put_segs(p, 0, 10);
	expect_nothing(p);
	us_stack_batch_end(p->s, p->now);
	expect_ack_of(p, 1 + 10 * MSS);
	expect_nothing(p);
	/* The ACK that left is the one the delayed-ACK timer waited for. */
	ck_assert_int_eq(us_stack_next_deadline(p->s) > p->now + US_MSEC(40), true);
	peer_free(p);
}
END_TEST

/* One segment is not "every second": it waits for the delayed-ACK timer
 * (40 ms), batch or not. */
START_TEST(a_lone_segment_in_a_batch_waits_for_the_delayed_ack_timer)
{
	struct peer *p = peer_new();
	us_stack_batch_begin(p->s);
	put_seg(p, 0);
	us_stack_batch_end(p->s, p->now);
	expect_nothing(p);
	ck_assert_int_eq(us_stack_next_deadline(p->s), p->now + US_MSEC(40));
	p->now += US_MSEC(40);
	us_stack_poll(p->s, p->now);
	expect_ack_of(p, 1 + MSS);
	peer_free(p);
}
END_TEST

/* RFC 5681 §4.2: "Out-of-order data segments SHOULD be acknowledged
 * immediately", each with its duplicate ACK (the sender counts them for
 * fast retransmit), and the segment that fills the gap at once too. */
START_TEST(out_of_order_segments_in_a_batch_get_immediate_duplicate_acks)
{
	struct peer *p = peer_new();
	us_stack_batch_begin(p->s);
	put_seg(p, 0);
	put_seg(p, 1);
	expect_nothing(p); /* two in order: deferred to the batch's end */
	put_seg(p, 3);     /* segment 2 is missing */
	expect_ack_of(p, 1 + 2 * MSS);
	put_seg(p, 4);
	expect_ack_of(p, 1 + 2 * MSS);
	put_seg(p, 5);
	expect_ack_of(p, 1 + 2 * MSS);
	expect_nothing(p);
	put_seg(p, 2); /* fills the gap: everything up to 5 is in */
	expect_ack_of(p, 1 + 6 * MSS);
	expect_nothing(p);
	us_stack_batch_end(p->s, p->now);
	expect_nothing(p); /* nothing is owed any more */
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.7.4 eighth: "send an acknowledgment for the FIN". In a
 * batch it leaves at the batch's end (us_tcp_defer_ack()), covering the
 * data before it; the state moves at once. */
START_TEST(a_fin_in_a_batch_is_acked_at_the_batch_end)
{
	struct peer *p = peer_new();
	us_stack_batch_begin(p->s);
	put_seg(p, 0);
	put_seg(p, 1);
	put_seg(p, 2);
	put_opt(p, US_TCP_FIN | US_TCP_ACK, 1 + 3 * MSS, 1, NULL, 0, 0);
	ck_assert_int_eq(us_tcp_state(p->c->t), US_TCP_CLOSE_WAIT);
	expect_nothing(p);
	us_stack_batch_end(p->s, p->now);
	expect_ack_of(p, 1 + 3 * MSS + 1);
	expect_nothing(p);
	/* Outside a batch, at once. */
	connect_conn(p, 1, 0, true);
	put_opt(p, US_TCP_FIN | US_TCP_ACK, 1, 1, NULL, 0, 0);
	expect_ack_of(p, 2);
	peer_free(p);
}
END_TEST

/* The application answers the FIN in the same batch (its event callback
 * closes): the FIN it sends carries the ACK, and nothing else leaves. */
START_TEST(a_close_in_the_batch_carries_the_ack_of_the_fin)
{
	struct peer *p = peer_new();
	us_stack_batch_begin(p->s);
	put_opt(p, US_TCP_FIN | US_TCP_ACK, 1, 1, NULL, 0, 0);
	expect_nothing(p);
	us_tcp_close(p->c->t, p->now);
	p->c->t = NULL; /* the core's now */
	struct us_tcp_hdr h;
	ck_assert(next_seg(p, &h));
	ck_assert_uint_eq(h.flags & (US_TCP_SYN | US_TCP_FIN | US_TCP_RST | US_TCP_ACK),
			  US_TCP_FIN | US_TCP_ACK);
	ck_assert_uint_eq(h.ack - PEER_ISS, 2);
	us_stack_batch_end(p->s, p->now);
	expect_nothing(p);
	peer_free(p);
}
END_TEST

/* RFC 1122 §4.2.3.3: a read that opens the window by enough sends a
 * window update. In a batch it waits for the batch's end, and a reply
 * sent meanwhile carries it. */
START_TEST(a_window_update_in_a_batch_rides_on_the_reply)
{
	struct peer *p = peer_new();
	put_segs(p, 0, 10);
	for (int i = 0; i < 5; i++)
		expect_ack_of(p, 1 + (uint32_t)(i + 1) * 2 * MSS);
	uint8_t buf[10 * MSS];

	/* Read, then reply, in one batch: one segment, with the data. */
	us_stack_batch_begin(p->s);
	ck_assert_int_eq(us_tcp_recv(p->c->t, p->now, buf, 5 * MSS), 5 * MSS);
	expect_nothing(p);
	ck_assert_int_eq(us_tcp_send(p->c->t, p->now, (const uint8_t *)"reply", 5), 5);
	struct us_tcp_hdr h;
	ck_assert(next_seg(p, &h));
	ck_assert_uint_eq(h.payload_len, 5);
	uint32_t win_reply = h.window;
	us_stack_batch_end(p->s, p->now);
	expect_nothing(p);

	/* Read with no reply: the update leaves at the batch's end, a
	 * larger window than the reply's. */
	us_stack_batch_begin(p->s);
	ck_assert_int_eq(us_tcp_recv(p->c->t, p->now, buf, 5 * MSS), 5 * MSS);
	expect_nothing(p);
	us_stack_batch_end(p->s, p->now);
	ck_assert(next_seg(p, &h));
	ck_assert_uint_eq(h.payload_len, 0);
	ck_assert_uint_eq(h.ack - PEER_ISS, 1 + 10 * MSS);
	ck_assert_uint_gt(h.window, win_reply);
	expect_nothing(p);
	peer_free(p);
}
END_TEST

/* A batch never holds back an ACK for more than 64 KB of data (GRO's
 * largest merged packet): the 45th segment (65,700 bytes) is acknowledged
 * at once, the rest at the batch's end. */
START_TEST(a_batch_acks_at_once_when_64_kb_are_unacknowledged)
{
	struct peer *p = peer_new();
	us_stack_batch_begin(p->s);
	put_segs(p, 0, 44);
	expect_nothing(p);
	put_seg(p, 44);
	expect_ack_of(p, 1 + 45 * MSS);
	put_segs(p, 45, 50);
	expect_nothing(p);
	us_stack_batch_end(p->s, p->now);
	expect_ack_of(p, 1 + 50 * MSS);
	peer_free(p);
}
END_TEST

/* Half the receive buffer is the bound when that is less than 64 KB. */
START_TEST(a_batch_acks_at_once_at_half_a_small_receive_buffer)
{
	struct peer *p = peer_new();
	connect_conn(p, 1, 8192, false);
	us_stack_batch_begin(p->s);
	put_seg(p, 0);
	put_seg(p, 1);
	expect_nothing(p); /* 2,920 bytes: below 4,096 */
	put_seg(p, 2);
	expect_ack_of(p, 1 + 3 * MSS);
	us_stack_batch_end(p->s, p->now);
	expect_nothing(p);
	peer_free(p);
}
END_TEST

/* A connection that goes away inside the batch leaves the list of those
 * owing an ACK (ASan and valgrind would see a use after free). */
START_TEST(a_connection_aborted_inside_a_batch_is_forgotten_by_it)
{
	struct peer *p = peer_new();
	connect_conn(p, 1, 0, true);
	us_stack_batch_begin(p->s);
	p->c = &p->conns[0];
	put_seg(p, 0);
	put_seg(p, 1);
	p->c = &p->conns[1];
	put_seg(p, 0);
	put_seg(p, 1);
	expect_nothing(p);
	us_tcp_abort(p->conns[0].t, p->now);
	p->conns[0].t = NULL;
	struct us_tcp_hdr h;
	ck_assert(next_seg(p, &h));
	ck_assert(h.flags & US_TCP_RST);
	us_stack_batch_end(p->s, p->now);
	expect_ack_of(p, 1 + 2 * MSS); /* the other one's */
	expect_nothing(p);
	peer_free(p);
}
END_TEST

/* Two connections in one batch, their segments interleaved: one ACK
 * each, at the batch's end. */
START_TEST(each_connection_in_a_batch_gets_its_own_ack_at_its_end)
{
	struct peer *p = peer_new();
	connect_conn(p, 1, 0, true);
	us_stack_batch_begin(p->s);
	for (uint32_t i = 0; i < 6; i++) {
		p->c = &p->conns[i % 2];
		put_seg(p, i / 2);
	}
	expect_nothing(p);
	us_stack_batch_end(p->s, p->now);
	struct us_tcp_hdr h[2];
	ck_assert(next_seg(p, &h[0]) && next_seg(p, &h[1]));
	expect_nothing(p);
	ck_assert_uint_ne(h[0].dport, h[1].dport);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(h[i].flags, US_TCP_ACK);
		ck_assert_uint_eq(h[i].ack - PEER_ISS, 1 + 3 * MSS);
	}
	peer_free(p);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("tcp_batch");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, without_a_batch_every_second_segment_is_acked_at_once);
	tcase_add_test(tc, a_batch_of_in_order_segments_gets_one_ack_covering_all_of_them);
	tcase_add_test(tc, a_lone_segment_in_a_batch_waits_for_the_delayed_ack_timer);
	tcase_add_test(tc, out_of_order_segments_in_a_batch_get_immediate_duplicate_acks);
	tcase_add_test(tc, a_fin_in_a_batch_is_acked_at_the_batch_end);
	tcase_add_test(tc, a_close_in_the_batch_carries_the_ack_of_the_fin);
	tcase_add_test(tc, a_window_update_in_a_batch_rides_on_the_reply);
	tcase_add_test(tc, a_batch_acks_at_once_when_64_kb_are_unacknowledged);
	tcase_add_test(tc, a_batch_acks_at_once_at_half_a_small_receive_buffer);
	tcase_add_test(tc, a_connection_aborted_inside_a_batch_is_forgotten_by_it);
	tcase_add_test(tc, each_connection_in_a_batch_gets_its_own_ack_at_its_end);
	suite_add_tcase(s, tc);
	return s;
}

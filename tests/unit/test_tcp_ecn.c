/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_tcp_ecn.c - Explicit Congestion Notification for TCP
 * (RFC 3168 §6.1, src/stack/tcp_ecn.c) on the virtual clock: negotiation
 * both ways and off by default (§6.1.1), the SYN fallback (§6.1.1.1), SYN
 * cookies, ECT(0) on new data only (§6.1.2, §6.1.4-6), the receiver's ECE
 * from a CE mark until a CWR (§6.1.3), and the sender's one reduction per
 * window for ECE with CWR on the next new data (§6.1.2).
 *
 * Read first: tests/unit/harness.h, then src/stack/tcp_ecn.c. The stack is
 * 198.51.100.2 (02:00:00:00:00:02), the fake peer 198.51.100.1; the peer
 * writes segments with the wire emitters, with the IP ECN field it wants,
 * and reads back each segment the stack sent with its IP header. Sequence
 * numbers: the peer's absolute from PEER_ISS, the stack's relative to its
 * ISS (read off its SYN or SYN-ACK).
 */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/core.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/wire.h"

#define STACK_IP 0xc6336402u /* 198.51.100.2 */
#define PEER_IP 0xc6336401u  /* 198.51.100.1 */
#define PEER_PORT 40000
#define SRV_PORT 80
#define PEER_ISS 1000000u
#define MSS 1460
#define ECE_CWR (US_TCP_ECE | US_TCP_CWR)

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };

/* One segment the stack sent, with its IP ECN field. */
struct out {
	uint8_t ecn;
	uint8_t flags;
	uint32_t seq, ack; /* seq relative to the stack's ISS */
	uint32_t len;
	struct us_tcp_opts opts;
};

struct peer {
	struct us_test_link link;
	int seen;             /* frames of link already read */
	struct us_stack *s;
	us_time_t now;
	struct us_tcp *l, *t; /* listener (passive tests), the connection */
	uint32_t siss;        /* the stack's ISS */
	uint32_t seq;         /* the peer's next sequence number, absolute */
	uint16_t sport;       /* the stack's port */
	uint16_t pport;       /* the peer's port */
	bool window_zero;     /* the peer advertises a zero window */
};

static struct us_stack *stack_new(struct us_test_link *link, bool ecn, bool ts)
{
	struct us_stack_config cfg = { .seed = 1, .small_bufs = 128, .large_bufs = 4,
				       .no_dad = true, .no_router_solicit = true,
				       .tcp_no_wscale = true, .tcp_no_timestamps = !ts,
				       .tcp_no_sack = true, .tcp_ecn = ecn };
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)i;
	struct us_stack *s = us_stack_new(&cfg);
	ck_assert_ptr_nonnull(s);
	struct us_iface_config ic = { .name = "test0", .mtu = 1500,
				      .transmit = us_test_link_transmit, .transmit_ctx = link };
	memcpy(ic.mac, our_mac, 6);
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 0);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, STACK_IP, 24), 0);
	us_test_meet_ipv4(s, link, 0, PEER_IP, 1);
	return s;
}

/* The peer sends a segment: flags, ack (relative to the stack's ISS),
 * len bytes of data, the IP ECN field ecn, TCP options (SYNs: MSS, and a
 * TSopt with tsecr when ts). */
static void put_ts(struct peer *p, uint8_t flags, uint32_t ack, uint32_t len, uint8_t ecn,
		   bool ts, uint32_t tsecr)
{
	uint8_t seg[40 + 2000], f[14 + 20 + sizeof seg];
	uint8_t opt[16];
	size_t optlen = 0;
	if (flags & US_TCP_SYN) {
		opt[optlen++] = US_TCP_OPT_MSS;
		opt[optlen++] = 4;
		us_put_be16(opt + optlen, MSS);
		optlen += 2;
	}
	if (ts) {
		opt[optlen++] = US_TCP_OPT_NOP;
		opt[optlen++] = US_TCP_OPT_NOP;
		opt[optlen++] = US_TCP_OPT_TS;
		opt[optlen++] = 10;
		us_put_be32(opt + optlen, 1000 + (uint32_t)(p->now / 1000));
		us_put_be32(opt + optlen + 4, tsecr);
		optlen += 8;
	}
	struct us_tcp_hdr h = { .sport = p->pport, .dport = p->sport, .seq = p->seq,
				.ack = (flags & US_TCP_ACK) ? p->siss + ack : 0, .flags = flags,
				.window = p->window_zero ? 0 : 65535 };
	ck_assert_uint_eq(us_tcp_emit(&h, seg, sizeof seg), 20);
	seg[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	memcpy(seg + 20, opt, optlen);
	for (uint32_t i = 0; i < len; i++)
		seg[20 + optlen + i] = (uint8_t)i;
	size_t n = 20 + optlen + len;
	us_tcp_csum_fill(seg, n, us_csum_pseudo4(PEER_IP, STACK_IP, US_IPPROTO_TCP, (uint32_t)n));
	struct us_ipv4_hdr ip = { .id = 1, .df = true, .ttl = 64, .tos = ecn,
				  .proto = US_IPPROTO_TCP, .src = PEER_IP, .dst = STACK_IP,
				  .payload_len = n };
	memcpy(f + us_test_eth_ipv4(f, sizeof f, &ip), seg, n);
	size_t fl = 34 + n < 60 ? 60 : 34 + n;
	if (34 + n < 60)
		memset(f + 34 + n, 0, 60 - 34 - n);
	us_stack_input(p->s, p->now, 0, f, fl);
	p->seq += len + !!(flags & US_TCP_SYN) + !!(flags & US_TCP_FIN);
}

static void put(struct peer *p, uint8_t flags, uint32_t ack, uint32_t len, uint8_t ecn)
{
	put_ts(p, flags, ack, len, ecn, false, 0);
}

/* The next segment the stack sent (false: none waits). */
static bool next(struct peer *p, struct out *o)
{
	while (p->seen < p->link.count) {
		ck_assert_int_lt(p->seen, US_TEST_MAX_FRAMES);
		const uint8_t *fr = p->link.frame[p->seen];
		size_t len = p->link.len[p->seen++];
		struct us_eth_hdr eth;
		struct us_ipv4_hdr ip;
		struct us_tcp_hdr h;
		ck_assert_int_eq(us_eth_parse(fr, len, &eth), US_WIRE_OK);
		if (eth.ethertype != US_ETHERTYPE_IPV4)
			continue;
		ck_assert_int_eq(us_ipv4_parse(eth.payload, eth.payload_len, &ip), US_WIRE_OK);
		if (ip.proto != US_IPPROTO_TCP)
			continue;
		ck_assert_int_eq(us_tcp_parse(ip.payload, ip.payload_len, &h), US_WIRE_OK);
		if (h.flags & US_TCP_SYN)
			p->siss = h.seq;
		p->sport = h.sport;
		o->ecn = ip.tos & US_IP_ECN_MASK;
		o->flags = h.flags;
		o->seq = h.seq - p->siss;
		o->ack = h.ack;
		o->len = (uint32_t)h.payload_len;
		o->opts = h.opts;
		return true;
	}
	return false;
}

static struct out expect(struct peer *p)
{
	struct out o;
	ck_assert_msg(next(p, &o), "the stack sent nothing");
	return o;
}

static void expect_none(struct peer *p)
{
	struct out o;
	ck_assert_msg(!next(p, &o), "unexpected segment flags 0x%x seq %u len %u", o.flags, o.seq,
		      o.len);
}

/* Moves the clock to t, firing the stack's deadlines on the way. */
static void at(struct peer *p, us_time_t t)
{
	for (;;) {
		us_time_t d = us_stack_next_deadline(p->s);
		if (d == US_TIME_NEVER || d > t)
			break;
		p->now = d;
		us_stack_poll(p->s, d);
	}
	p->now = t;
	us_stack_poll(p->s, t);
}

static struct peer *peer_new(bool stack_ecn, bool ts)
{
	struct peer *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	p->s = stack_new(&p->link, stack_ecn, ts);
	p->seq = PEER_ISS;
	p->sport = SRV_PORT;
	p->pport = PEER_PORT;
	return p;
}

static void peer_free(struct peer *p)
{
	if (p->t)
		us_tcp_abort(p->t, p->now);
	if (p->l)
		us_tcp_close(p->l, p->now);
	us_test_stack_free(p->s);
	free(p);
}

static void listen_on(struct peer *p, int sock_ecn)
{
	int err = 0;
	p->l = us_tcp_open(p->s, US_AF_INET, NULL, NULL, &err);
	ck_assert_ptr_nonnull(p->l);
	if (sock_ecn >= 0)
		ck_assert_int_eq(us_tcp_setopt(p->l, US_OPT_ECN, sock_ecn), 0);
	struct us_addr a = { .family = US_AF_INET, .port = SRV_PORT };
	ck_assert_int_eq(us_tcp_bind(p->l, &a), 0);
	ck_assert_int_eq(us_tcp_listen(p->l, 0, 8), 0);
}

/* Passive open with the SYN's ECN flags syn_flags; returns the SYN-ACK. */
static struct out accept_with(struct peer *p, uint8_t syn_flags)
{
	put(p, US_TCP_SYN | syn_flags, 0, 0, US_IP_ECN_NOT_ECT);
	struct out sa = expect(p);
	ck_assert_uint_eq(sa.flags & (US_TCP_SYN | US_TCP_ACK), US_TCP_SYN | US_TCP_ACK);
	p->now += US_MSEC(100);
	put(p, US_TCP_ACK, 1, 0, US_IP_ECN_NOT_ECT);
	int err = 0;
	p->t = us_tcp_accept(p->l, NULL, NULL, NULL, &err);
	ck_assert_ptr_nonnull(p->t);
	return sa;
}

/* An ECN connection accepted by the stack (the listener has US_OPT_ECN). */
static struct peer *ecn_server(void)
{
	struct peer *p = peer_new(false, false);
	listen_on(p, 1);
	accept_with(p, ECE_CWR);
	return p;
}

static struct us_tcp_info info(const struct peer *p)
{
	struct us_tcp_info i;
	ck_assert_int_eq(us_tcp_get_info(p->t, &i), 0);
	return i;
}

static void send_data(struct peer *p, size_t n)
{
	static uint8_t buf[65536];
	ck_assert_uint_le(n, sizeof buf);
	ck_assert_int_eq(us_tcp_send(p->t, p->now, buf, n), (int)n);
}

/* ---- Negotiation (§6.1.1) ---------------------------------------------------- */

START_TEST(ecn_is_off_by_default_syn_and_data_without_it)
{
	struct peer *p = peer_new(false, false);
	int err = 0;
	p->t = us_tcp_open(p->s, US_AF_INET, NULL, NULL, &err);
	int v = -1;
	ck_assert_int_eq(us_tcp_getopt(p->t, US_OPT_ECN, &v), 0);
	ck_assert_int_eq(v, 0);
	struct us_addr a = { .family = US_AF_INET, .ip4 = PEER_IP, .port = PEER_PORT };
	ck_assert_int_eq(us_tcp_connect(p->t, p->now, &a), -EINPROGRESS);
	struct out syn = expect(p);
	ck_assert_uint_eq(syn.flags, US_TCP_SYN);
	ck_assert_uint_eq(syn.ecn, US_IP_ECN_NOT_ECT);
	/* Even an ECN-setup SYN-ACK does not turn it on. */
	p->now += US_MSEC(50);
	put(p, US_TCP_SYN | US_TCP_ACK | US_TCP_ECE, 1, 0, US_IP_ECN_NOT_ECT);
	ck_assert_uint_eq(expect(p).flags, US_TCP_ACK);
	send_data(p, 100);
	struct out d = expect(p);
	ck_assert_uint_eq(d.len, 100);
	ck_assert_uint_eq(d.ecn, US_IP_ECN_NOT_ECT);
	ck_assert(!info(p).ecn_ok);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_negotiated"), 0);
	peer_free(p);
}
END_TEST

START_TEST(ecn_off_listener_answers_ecn_setup_syn_with_plain_syn_ack)
{
	struct peer *p = peer_new(false, false);
	listen_on(p, -1);
	struct out sa = accept_with(p, ECE_CWR);
	ck_assert_uint_eq(sa.flags, US_TCP_SYN | US_TCP_ACK);
	ck_assert(!info(p).ecn_ok);
	send_data(p, 100);
	ck_assert_uint_eq(expect(p).ecn, US_IP_ECN_NOT_ECT);
	peer_free(p);
}
END_TEST

START_TEST(active_open_with_ecn_sends_ecn_setup_syn_and_agrees_on_ece_syn_ack)
{
	struct peer *p = peer_new(true, false);
	int err = 0;
	p->t = us_tcp_open(p->s, US_AF_INET, NULL, NULL, &err);
	struct us_addr a = { .family = US_AF_INET, .ip4 = PEER_IP, .port = PEER_PORT };
	ck_assert_int_eq(us_tcp_connect(p->t, p->now, &a), -EINPROGRESS);
	/* "An ECN-setup SYN packet is a SYN packet with the ECE and CWR flags
	 * set"; "A host MUST NOT set ECT on SYN or SYN-ACK packets." */
	struct out syn = expect(p);
	ck_assert_uint_eq(syn.flags, US_TCP_SYN | ECE_CWR);
	ck_assert_uint_eq(syn.ecn, US_IP_ECN_NOT_ECT);
	/* After the SYN left, the choice is fixed. */
	ck_assert_int_eq(us_tcp_setopt(p->t, US_OPT_ECN, 0), -EISCONN);
	p->now += US_MSEC(50);
	put(p, US_TCP_SYN | US_TCP_ACK | US_TCP_ECE, 1, 0, US_IP_ECN_NOT_ECT);
	struct out ack = expect(p);
	ck_assert_uint_eq(ack.flags, US_TCP_ACK);
	ck_assert_uint_eq(ack.ecn, US_IP_ECN_NOT_ECT);
	ck_assert(info(p).ecn_ok);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_negotiated"), 1);
	peer_free(p);
}
END_TEST

START_TEST(syn_ack_with_ece_and_cwr_is_not_an_ecn_setup_syn_ack)
{
	struct peer *p = peer_new(true, false);
	int err = 0;
	p->t = us_tcp_open(p->s, US_AF_INET, NULL, NULL, &err);
	struct us_addr a = { .family = US_AF_INET, .ip4 = PEER_IP, .port = PEER_PORT };
	ck_assert_int_eq(us_tcp_connect(p->t, p->now, &a), -EINPROGRESS);
	expect(p);
	p->now += US_MSEC(50);
	/* A reflected SYN (both flags) or a plain SYN-ACK: no ECN. */
	put(p, US_TCP_SYN | US_TCP_ACK | ECE_CWR, 1, 0, US_IP_ECN_NOT_ECT);
	expect(p);
	ck_assert(!info(p).ecn_ok);
	send_data(p, 100);
	ck_assert_uint_eq(expect(p).ecn, US_IP_ECN_NOT_ECT);
	peer_free(p);
}
END_TEST

START_TEST(passive_open_agrees_only_to_an_ecn_setup_syn)
{
	/* The listener has ECN on (per socket): an ECN-setup SYN gets an
	 * ECN-setup SYN-ACK (ECE, not CWR) ... */
	struct peer *p = peer_new(false, false);
	listen_on(p, 1);
	struct out sa = accept_with(p, ECE_CWR);
	ck_assert_uint_eq(sa.flags, US_TCP_SYN | US_TCP_ACK | US_TCP_ECE);
	ck_assert_uint_eq(sa.ecn, US_IP_ECN_NOT_ECT);
	ck_assert(info(p).ecn_ok);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_negotiated"), 1);
	peer_free(p);
	/* ... a SYN with ECE alone is not ECN-setup: a plain SYN-ACK. */
	p = peer_new(false, false);
	listen_on(p, 1);
	sa = accept_with(p, US_TCP_ECE);
	ck_assert_uint_eq(sa.flags, US_TCP_SYN | US_TCP_ACK);
	ck_assert(!info(p).ecn_ok);
	peer_free(p);
}
END_TEST

START_TEST(ecn_setup_syn_sent_again_goes_without_ece_and_cwr)
{
	struct peer *p = peer_new(true, false);
	int err = 0;
	p->t = us_tcp_open(p->s, US_AF_INET, NULL, NULL, &err);
	struct us_addr a = { .family = US_AF_INET, .ip4 = PEER_IP, .port = PEER_PORT };
	ck_assert_int_eq(us_tcp_connect(p->t, p->now, &a), -EINPROGRESS);
	ck_assert_uint_eq(expect(p).flags, US_TCP_SYN | ECE_CWR);
	/* RFC 3168 §6.1.1.1: the retransmission is a plain SYN ... */
	at(p, US_SEC(1));
	ck_assert_uint_eq(expect(p).flags, US_TCP_SYN);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_syn_fallbacks"), 1);
	/* ... and having sent it, ECN stays off whatever the SYN-ACK says. */
	p->now += US_MSEC(50);
	put(p, US_TCP_SYN | US_TCP_ACK | US_TCP_ECE, 1, 0, US_IP_ECN_NOT_ECT);
	expect(p);
	ck_assert(!info(p).ecn_ok);
	peer_free(p);
}
END_TEST

/* A listener with ECN whose SYN queue (max(backlog, 8) = 8) is full of
 * half-open connections from other ports: the next SYN gets a cookie. */
static struct peer *cookie_listener(bool ts)
{
	struct peer *p = peer_new(false, ts);
	listen_on(p, 1);
	for (int i = 0; i < 8; i++) {
		p->pport = (uint16_t)(41000 + i);
		put(p, US_TCP_SYN, 0, 0, US_IP_ECN_NOT_ECT);
	}
	struct out o;
	while (next(p, &o))
		;
	p->pport = PEER_PORT;
	p->seq = PEER_ISS;
	return p;
}

START_TEST(syn_cookie_carries_ecn_in_the_tsval_with_timestamps)
{
	struct peer *p = cookie_listener(true);
	/* The cookie SYN-ACK agrees (ECE); the ECN bit of its TSval comes
	 * back in TSecr on the ACK that makes the connection. */
	put_ts(p, US_TCP_SYN | ECE_CWR, 0, 0, US_IP_ECN_NOT_ECT, true, 0);
	struct out sa = expect(p);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.syncookies_sent"), 1);
	ck_assert_uint_eq(sa.flags, US_TCP_SYN | US_TCP_ACK | US_TCP_ECE);
	ck_assert(sa.opts.has_ts);
	ck_assert_uint_eq(sa.opts.ts_val & 0x20, 0x20);
	put_ts(p, US_TCP_ACK, 1, 0, US_IP_ECN_NOT_ECT, true, sa.opts.ts_val);
	int err = 0;
	p->t = us_tcp_accept(p->l, NULL, NULL, NULL, &err);
	ck_assert_ptr_nonnull(p->t);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.syncookies_recv"), 1);
	ck_assert(info(p).ecn_ok);
	peer_free(p);
}
END_TEST

START_TEST(syn_cookie_without_timestamps_offers_no_ecn)
{
	struct peer *p = cookie_listener(false);
	put(p, US_TCP_SYN | ECE_CWR, 0, 0, US_IP_ECN_NOT_ECT);
	struct out sa = expect(p);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.syncookies_sent"), 1);
	ck_assert_uint_eq(sa.flags, US_TCP_SYN | US_TCP_ACK);
	put(p, US_TCP_ACK, 1, 0, US_IP_ECN_NOT_ECT);
	int err = 0;
	p->t = us_tcp_accept(p->l, NULL, NULL, NULL, &err);
	ck_assert_ptr_nonnull(p->t);
	ck_assert(!info(p).ecn_ok);
	peer_free(p);
}
END_TEST

/* ---- ECT on new data only (§6.1.2, §6.1.4-6) ------------------------------------ */

START_TEST(ect0_on_new_data_only_not_on_acks_retransmissions_or_probes)
{
	struct peer *p = ecn_server();
	/* New data: ECT(0). */
	send_data(p, 1000);
	struct out d = expect(p);
	ck_assert_uint_eq(d.len, 1000);
	ck_assert_uint_eq(d.ecn, US_IP_ECN_ECT0);
	ck_assert_uint_eq(d.flags & ECE_CWR, 0);
	/* Its retransmissions after the RTO (backed off): not-ECT (§6.1.5). */
	at(p, p->now + US_SEC(1));
	int n = 0;
	struct out r;
	while (next(p, &r)) {
		ck_assert_uint_eq(r.seq, 1);
		ck_assert_uint_eq(r.len, 1000);
		ck_assert_uint_eq(r.ecn, US_IP_ECN_NOT_ECT);
		n++;
	}
	ck_assert_int_ge(n, 1);
	/* A pure ACK: not-ECT (§6.1.4). */
	put(p, US_TCP_ACK | US_TCP_PSH, 1001, 10, US_IP_ECN_ECT0);
	at(p, p->now + US_MSEC(200));
	struct out a = expect(p);
	ck_assert_uint_eq(a.len, 0);
	ck_assert_uint_eq(a.flags, US_TCP_ACK);
	ck_assert_uint_eq(a.ecn, US_IP_ECN_NOT_ECT);
	/* A zero window, then data: the window probe is not-ECT (§6.1.6). */
	p->window_zero = true;
	put(p, US_TCP_ACK, 1001, 0, US_IP_ECN_NOT_ECT);
	p->window_zero = false;
	send_data(p, 100);
	expect_none(p);
	at(p, p->now + US_SEC(2));
	struct out probe;
	n = 0;
	while (next(p, &probe)) {
		ck_assert_uint_eq(probe.len, 1);
		ck_assert_uint_eq(probe.ecn, US_IP_ECN_NOT_ECT);
		n++;
	}
	ck_assert_int_ge(n, 1);
	/* A RST: not-ECT. */
	us_tcp_abort(p->t, p->now);
	p->t = NULL;
	struct out rst = expect(p);
	ck_assert(rst.flags & US_TCP_RST);
	ck_assert_uint_eq(rst.ecn, US_IP_ECN_NOT_ECT);
	peer_free(p);
}
END_TEST

START_TEST(ip_tos_ecn_bits_never_reach_the_wire_from_the_user)
{
	/* The ECN field belongs to TCP: IP_TOS 0x13 leaves as 0x10 plus
	 * TCP's own codepoint. */
	struct peer *p = peer_new(false, false);
	listen_on(p, -1);
	ck_assert_int_eq(us_tcp_setopt(p->l, US_OPT_TOS, 0x13), 0);
	accept_with(p, 0);
	send_data(p, 100);
	const uint8_t *fr = p->link.frame[p->link.count - 1];
	ck_assert_uint_eq(fr[14 + 1], 0x10);
	peer_free(p);
}
END_TEST

/* ---- The receiver: CE -> ECE until CWR (§6.1.3) --------------------------------- */

START_TEST(ce_mark_sets_ece_on_every_ack_until_cwr)
{
	struct peer *p = ecn_server();
	/* ECT data without a mark: a plain ACK (delayed). */
	put(p, US_TCP_ACK | US_TCP_PSH, 1, 100, US_IP_ECN_ECT0);
	at(p, p->now + US_MSEC(40));
	ck_assert_uint_eq(expect(p).flags, US_TCP_ACK);
	/* CE: an ACK with ECE at once. */
	put(p, US_TCP_ACK | US_TCP_PSH, 1, 100, US_IP_ECN_CE);
	struct out e1 = expect(p);
	ck_assert_uint_eq(e1.flags, US_TCP_ACK | US_TCP_ECE);
	ck_assert_uint_eq(e1.ack, PEER_ISS + 1 + 200);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_ce_received"), 1);
	ck_assert_uint_eq(info(p).ecn_ce_rcvd, 1);
	/* Unmarked data still gets ECE, on the delayed ACK. */
	put(p, US_TCP_ACK | US_TCP_PSH, 1, 100, US_IP_ECN_ECT0);
	expect_none(p);
	at(p, p->now + US_MSEC(40));
	ck_assert_uint_eq(expect(p).flags, US_TCP_ACK | US_TCP_ECE);
	/* Our own data carries ECE too (any ACK). */
	send_data(p, 10);
	struct out d = expect(p);
	ck_assert_uint_eq(d.flags & US_TCP_ECE, US_TCP_ECE);
	ck_assert_uint_eq(d.ecn, US_IP_ECN_ECT0);
	/* CWR ends the echo. */
	put(p, US_TCP_ACK | US_TCP_PSH | US_TCP_CWR, 11, 100, US_IP_ECN_ECT0);
	at(p, p->now + US_MSEC(40));
	struct out a = expect(p);
	ck_assert_uint_eq(a.flags, US_TCP_ACK);
	/* CE and CWR on one segment: the CWR is taken first, the CE echoed. */
	put(p, US_TCP_ACK | US_TCP_PSH | US_TCP_CWR, 11, 100, US_IP_ECN_CE);
	ck_assert_uint_eq(expect(p).flags, US_TCP_ACK | US_TCP_ECE);
	peer_free(p);
}
END_TEST

START_TEST(ce_is_ignored_without_ecn_and_outside_the_window)
{
	/* Without ECN a CE mark changes nothing. */
	struct peer *p = peer_new(false, false);
	listen_on(p, -1);
	accept_with(p, ECE_CWR);
	put(p, US_TCP_ACK | US_TCP_PSH, 1, 100, US_IP_ECN_CE);
	at(p, p->now + US_MSEC(40));
	ck_assert_uint_eq(expect(p).flags, US_TCP_ACK);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_ce_received"), 0);
	peer_free(p);
	/* With ECN, an old duplicate marked CE is no news (§6.1.5). */
	p = ecn_server();
	put(p, US_TCP_ACK | US_TCP_PSH, 1, 100, US_IP_ECN_ECT0);
	at(p, p->now + US_MSEC(40));
	expect(p);
	p->seq -= 100;
	put(p, US_TCP_ACK | US_TCP_PSH, 1, 100, US_IP_ECN_CE);
	ck_assert_uint_eq(expect(p).flags, US_TCP_ACK);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_ce_received"), 0);
	peer_free(p);
}
END_TEST

/* ---- The sender: ECE -> one reduction per window, CWR (§6.1.2) ------------------- */

START_TEST(ece_halves_cwnd_once_per_window_and_cwr_goes_on_the_next_new_data)
{
	struct peer *p = ecn_server();
	/* The initial window: ten segments. */
	send_data(p, 10 * MSS);
	for (int i = 0; i < 10; i++)
		ck_assert_uint_eq(expect(p).ecn, US_IP_ECN_ECT0);
	uint32_t retrans = info(p).retransmits;
	/* An ECN-Echo ACK: ssthresh = cwnd = FlightSize / 2, nothing resent. */
	p->now += US_MSEC(100);
	put(p, US_TCP_ACK | US_TCP_ECE, MSS + 1, 0, US_IP_ECN_NOT_ECT);
	struct us_tcp_info i1 = info(p);
	ck_assert_uint_eq(i1.ssthresh, 5 * MSS);
	ck_assert_uint_eq(i1.cwnd, 5 * MSS);
	ck_assert_uint_eq(i1.retransmits, retrans);
	ck_assert_uint_eq(i1.ecn_reductions, 1);
	ck_assert(!i1.in_recovery);
	expect_none(p);
	/* More ECN-Echo ACKs for the same window: no second reduction, and
	 * no growth either ("SHOULD NOT increase the congestion window"). */
	put(p, US_TCP_ACK | US_TCP_ECE, 2 * MSS + 1, 0, US_IP_ECN_NOT_ECT);
	put(p, US_TCP_ACK | US_TCP_ECE, 3 * MSS + 1, 0, US_IP_ECN_NOT_ECT);
	struct us_tcp_info i2 = info(p);
	ck_assert_uint_eq(i2.cwnd, 5 * MSS);
	ck_assert_uint_eq(i2.ssthresh, 5 * MSS);
	ck_assert_uint_eq(i2.ecn_reductions, 1);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_cwnd_reductions"), 1);
	/* The window of the reduction acknowledged (no ECE): the first new
	 * segment carries CWR, the next does not. */
	put(p, US_TCP_ACK, 10 * MSS + 1, 0, US_IP_ECN_NOT_ECT);
	send_data(p, 2 * MSS);
	struct out c1 = expect(p), c2 = expect(p);
	ck_assert_uint_eq(c1.flags & ECE_CWR, US_TCP_CWR);
	ck_assert_uint_eq(c1.ecn, US_IP_ECN_ECT0);
	ck_assert_uint_eq(c2.flags & ECE_CWR, 0);
	/* An ECE for data sent after the reduction is new congestion. */
	p->now += US_MSEC(100);
	put(p, US_TCP_ACK | US_TCP_ECE, 11 * MSS + 1, 0, US_IP_ECN_NOT_ECT);
	ck_assert_uint_eq(info(p).ecn_reductions, 2);
	peer_free(p);
}
END_TEST

START_TEST(ece_is_ignored_without_ecn)
{
	struct peer *p = peer_new(false, false);
	listen_on(p, -1);
	accept_with(p, 0);
	send_data(p, 10 * MSS);
	for (int i = 0; i < 10; i++)
		expect(p);
	uint32_t cwnd = info(p).cwnd;
	p->now += US_MSEC(100);
	put(p, US_TCP_ACK | US_TCP_ECE, MSS + 1, 0, US_IP_ECN_NOT_ECT);
	ck_assert_uint_gt(info(p).cwnd, cwnd); /* slow start went on */
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.ecn_cwnd_reductions"), 0);
	peer_free(p);
}
END_TEST

START_TEST(loss_in_the_window_an_ece_reduced_does_not_halve_again)
{
	struct peer *p = ecn_server();
	send_data(p, 10 * MSS);
	for (int i = 0; i < 10; i++)
		expect(p);
	p->now += US_MSEC(100);
	put(p, US_TCP_ACK | US_TCP_ECE, MSS + 1, 0, US_IP_ECN_NOT_ECT);
	ck_assert_uint_eq(info(p).ssthresh, 5 * MSS);
	/* Three duplicate ACKs: fast retransmit, ssthresh kept. */
	for (int i = 0; i < 3; i++)
		put(p, US_TCP_ACK, MSS + 1, 0, US_IP_ECN_NOT_ECT);
	struct us_tcp_info i = info(p);
	ck_assert(i.in_recovery);
	ck_assert_uint_eq(i.ssthresh, 5 * MSS);
	/* The retransmission: not-ECT. */
	struct out r;
	bool found = false;
	while (next(p, &r))
		if (r.seq == MSS + 1) {
			found = true;
			ck_assert_uint_eq(r.ecn, US_IP_ECN_NOT_ECT);
		}
	ck_assert(found);
	peer_free(p);
}
END_TEST

START_TEST(loss_reduction_sets_cwr_on_the_next_new_data)
{
	struct peer *p = ecn_server();
	send_data(p, 4 * MSS);
	for (int i = 0; i < 4; i++)
		expect(p);
	/* The RTO: a reduction without any ECE; §6.1.2 wants CWR on the
	 * first new data after it. */
	at(p, p->now + US_SEC(1));
	struct out r;
	int n = 0;
	while (next(p, &r)) {
		ck_assert_uint_eq(r.seq, 1);
		ck_assert_uint_eq(r.ecn, US_IP_ECN_NOT_ECT);
		ck_assert_uint_eq(r.flags & US_TCP_CWR, 0);
		n++;
	}
	ck_assert_int_ge(n, 1);
	p->now += US_MSEC(10);
	put(p, US_TCP_ACK, 4 * MSS + 1, 0, US_IP_ECN_NOT_ECT);
	send_data(p, 100);
	struct out d = expect(p);
	ck_assert_uint_eq(d.flags & US_TCP_CWR, US_TCP_CWR);
	ck_assert_uint_eq(d.ecn, US_IP_ECN_ECT0);
	peer_free(p);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("tcp_ecn");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, ecn_is_off_by_default_syn_and_data_without_it);
	tcase_add_test(tc, ecn_off_listener_answers_ecn_setup_syn_with_plain_syn_ack);
	tcase_add_test(tc, active_open_with_ecn_sends_ecn_setup_syn_and_agrees_on_ece_syn_ack);
	tcase_add_test(tc, syn_ack_with_ece_and_cwr_is_not_an_ecn_setup_syn_ack);
	tcase_add_test(tc, passive_open_agrees_only_to_an_ecn_setup_syn);
	tcase_add_test(tc, ecn_setup_syn_sent_again_goes_without_ece_and_cwr);
	tcase_add_test(tc, syn_cookie_carries_ecn_in_the_tsval_with_timestamps);
	tcase_add_test(tc, syn_cookie_without_timestamps_offers_no_ecn);
	tcase_add_test(tc, ect0_on_new_data_only_not_on_acks_retransmissions_or_probes);
	tcase_add_test(tc, ip_tos_ecn_bits_never_reach_the_wire_from_the_user);
	tcase_add_test(tc, ce_mark_sets_ece_on_every_ack_until_cwr);
	tcase_add_test(tc, ce_is_ignored_without_ecn_and_outside_the_window);
	tcase_add_test(tc, ece_halves_cwnd_once_per_window_and_cwr_goes_on_the_next_new_data);
	tcase_add_test(tc, ece_is_ignored_without_ecn);
	tcase_add_test(tc, loss_in_the_window_an_ece_reduced_does_not_halve_again);
	tcase_add_test(tc, loss_reduction_sets_cwr_on_the_next_new_data);
	suite_add_tcase(s, tc);
	return s;
}

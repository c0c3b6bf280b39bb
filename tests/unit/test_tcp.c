/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_tcp.c - the TCP core (src/stack/tcp*.c) on the virtual
 * clock: every edge of the RFC 9293 §3.3.2 state diagram (Figure 5) and the
 * events of §3.10 (OPEN, SEND, RECEIVE, CLOSE, ABORT, SEGMENT ARRIVES and
 * the timeouts), RFC 6298 (RTO, backoff, Karn), RFC 5681 / RFC 6582
 * (slow start, fast retransmit, NewReno), RFC 1122 §4.2.3 (delayed ACK,
 * Nagle, window updates, zero-window probes, keep-alive), RFC 5961 (blind
 * RST, SYN and data injection), the MSS option (RFC 9293 §3.7.1) and the
 * listener's queues.
 *
 * Read first: tests/unit/harness.h, then docs/tcp.md (the transition table
 * names the test that covers each edge), then "The peer" below.
 *
 * The stack is 02:00:00:00:00:02, 198.51.100.2/24 and 2001:db8:1::2/64; a
 * fake peer is 02:00:00:00:00:01, 198.51.100.1 and 2001:db8:1::1. The peer
 * writes its segments by hand with the wire emitters (correct checksums
 * unless a test spoils them) and reads what the stack sends back as parsed
 * struct us_tcp_hdr, each stamped with the virtual time it left at. Sequence
 * numbers in the tests are relative, as tcpdump and packetdrill show them:
 * the peer's from its ISS (its SYN is 0), the stack's from the ISS read off
 * its SYN or SYN-ACK (never predicted: RFC 6528).
 *
 * Time only moves through at(): it fires every deadline of the stack in
 * order (us_stack_next_deadline / us_stack_poll), so a frame's time is the
 * exact deadline it left at. No test sleeps.
 */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/core.h>

#include "tcp.h" /* the congestion control state, for the CUBIC test */
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"
#include "wire/wire.h"

#define STACK_IP 0xc6336402u /* 198.51.100.2 */
#define PEER_IP 0xc6336401u  /* 198.51.100.1 */
#define STACK_IP6 "2001:db8:1::2"
#define PEER_IP6 "2001:db8:1::1"

#define PEER_PORT 40000 /* the peer's first port; connection i uses PEER_PORT + i */
#define SRV_PORT 80     /* where the stack listens */
#define PEER_ISS 1000000u

#define MSS4 1460 /* 1500 - 20 - 20 */
#define MSS6 1440 /* 1500 - 40 - 20 */
#define MSL US_SEC(30)
#define RTT US_MSEC(100) /* how long the peer takes to answer a SYN */

#define NCONN 16
#define QMAX 512
#define NONE (-1) /* no such connection in the stack's table */

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };

/* ---- The peer ------------------------------------------------------------- */

/* One connection as the peer sees it. */
struct conn {
	uint16_t port;	 /* the peer's port */
	uint16_t sport;	 /* the stack's port */
	uint32_t iss;	 /* the peer's ISS */
	uint32_t siss;	 /* the stack's ISS, read from its SYN or SYN-ACK */
	bool siss_known;
	uint32_t seq;	 /* relative to iss: the next sequence number the peer sends */
	uint32_t ack;	 /* relative to siss: what the peer acknowledges */
	uint32_t high;	 /* relative to siss: the end of what the stack has sent */
	uint16_t win;	 /* the window the peer advertises */
};

/* One segment the stack sent. */
struct seg {
	us_time_t t; /* when it left */
	struct us_tcp_hdr h;
	uint8_t data[US_TEST_FRAME_CAP]; /* the payload; h.payload points here */
};

struct evlog {
	int calls;
	int last; /* the events of the last call */
	int seen; /* every event ever reported */
};

struct peer {
	struct us_test_link link;
	struct us_stack *s;
	int family; /* US_AF_INET or US_AF_INET6: the peer's and the stack's sockets */
	us_time_t now;
	struct conn conns[NCONN];
	struct conn *c; /* the connection put() and expect() are about */
	struct seg q[QMAX];
	int head, tail;
	int arp_replies, na_replies, other_frames;
	struct evlog ev;
	uint8_t scratch[US_TEST_MAX_FRAMES][US_TEST_FRAME_CAP];
	size_t scratch_len[US_TEST_MAX_FRAMES];
};

static struct us_ip6 ip6(const char *text)
{
	struct us_ip6 a;
	ck_assert_int_eq(us_ip6_parse_text(text, &a), 0);
	return a;
}

static uint64_t ctr(const struct peer *p, const char *name)
{
	return us_stack_counter(p->s, name);
}

static void on_event(void *ctx, int events)
{
	struct evlog *l = ctx;
	l->calls++;
	l->last = events;
	l->seen |= events;
}

static void pump(struct peer *p);

/* Sends one frame from the peer (eth + IP + the given upper-layer bytes). */
static int inject_ip(struct peer *p, uint8_t proto, const uint8_t *body, size_t n, bool v6,
		     const struct us_ip6 *dst6, uint8_t hop)
{
	uint8_t f[US_TEST_FRAME_CAP];
	struct us_eth_hdr eth = { .ethertype = v6 ? US_ETHERTYPE_IPV6 : US_ETHERTYPE_IPV4 };
	memcpy(eth.dst, our_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	ck_assert_uint_eq(us_eth_emit(&eth, f, sizeof f), 14);
	size_t off;
	if (!v6) {
		struct us_ipv4_hdr ip = { .id = 0x4242, .ttl = 64, .proto = proto,
					  .src = PEER_IP, .dst = STACK_IP, .payload_len = n };
		ck_assert_uint_eq(us_ipv4_emit(&ip, f + 14, sizeof f - 14), 20);
		off = 34;
	} else {
		struct us_ipv6_hdr ip = { .payload_len = (uint16_t)n, .next_header = proto,
					  .hop_limit = hop, .src = ip6(PEER_IP6),
					  .dst = dst6 ? *dst6 : ip6(STACK_IP6) };
		ck_assert_uint_eq(us_ipv6_emit(&ip, f + 14, sizeof f - 14), 40);
		off = 54;
	}
	ck_assert_uint_le(off + n, sizeof f);
	memcpy(f + off, body, n);
	size_t len = off + n;
	if (len < 60) { /* Ethernet padding: the stack must go by the IP length */
		memset(f + len, 0, 60 - len);
		len = 60;
	}
	return us_stack_input(p->s, p->now, 0, f, len);
}

/* The peer answers the stack's ARP requests and Neighbor Solicitations for
 * its addresses, so that long tests survive neighbour cache ageing. */
static void answer_arp(struct peer *p, const struct us_arp_pkt *a)
{
	if (a->op != US_ARP_REQUEST || a->tpa != PEER_IP)
		return;
	uint8_t f[60] = { 0 };
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_ARP };
	memcpy(eth.dst, our_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	struct us_arp_pkt r = { .op = US_ARP_REPLY, .spa = PEER_IP, .tpa = STACK_IP };
	memcpy(r.sha, peer_mac, 6);
	memcpy(r.tha, our_mac, 6);
	us_eth_emit(&eth, f, sizeof f);
	ck_assert_uint_eq(us_arp_emit(&r, f + 14, sizeof f - 14), 28);
	p->arp_replies++;
	us_stack_input(p->s, p->now, 0, f, sizeof f);
}

static void answer_ns(struct peer *p, const struct us_ipv6_hdr *ip)
{
	struct us_ndp_ns ns;
	if (ip->payload_len < 8 || ip->payload[0] != US_ICMP6_ND_NS)
		return;
	if (us_ndp_ns_parse(ip->payload, ip->payload_len, &ns) != US_WIRE_OK)
		return;
	struct us_ip6 me = ip6(PEER_IP6);
	if (memcmp(&ns.target, &me, sizeof me) != 0)
		return;
	uint8_t m[64];
	struct us_ndp_na na = { .solicited = true, .override = true, .target = me };
	size_t n = us_ndp_na_emit(&na, m, sizeof m);
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_TLLA, peer_mac, m + n, sizeof m - n);
	us_icmp6_csum_fill(m, n, us_csum_pseudo6(&me, &ip->src, US_IPPROTO_ICMPV6, (uint32_t)n));
	p->na_replies++;
	inject_ip(p, US_IPPROTO_ICMPV6, m, n, true, &ip->src, 255);
}

static void enqueue_tcp(struct peer *p, const uint8_t *seg, size_t n, uint32_t pseudo)
{
	ck_assert_msg(us_tcp_csum_ok(seg, n, pseudo), "the stack sent a bad TCP checksum");
	if (p->tail == QMAX && p->head > 0) {
		memmove(&p->q[0], &p->q[p->head], (size_t)(p->tail - p->head) * sizeof p->q[0]);
		p->tail -= p->head;
		p->head = 0;
		for (int i = 0; i < p->tail; i++)
			p->q[i].h.payload = p->q[i].data;
	}
	ck_assert_msg(p->tail < QMAX, "more than %d segments waiting to be read", QMAX);
	struct seg *sg = &p->q[p->tail++];
	ck_assert_int_eq(us_tcp_parse(seg, n, &sg->h), US_WIRE_OK);
	memcpy(sg->data, sg->h.payload, sg->h.payload_len);
	sg->h.payload = sg->data;
	sg->t = p->now;
}

static void take_frame(struct peer *p, const uint8_t *f, size_t len)
{
	struct us_eth_hdr eth;
	ck_assert_int_eq(us_eth_parse(f, len, &eth), US_WIRE_OK);
	if (eth.ethertype == US_ETHERTYPE_ARP) {
		struct us_arp_pkt a;
		if (us_arp_parse(eth.payload, eth.payload_len, &a) == US_WIRE_OK)
			answer_arp(p, &a);
		return;
	}
	if (eth.ethertype == US_ETHERTYPE_IPV4) {
		struct us_ipv4_hdr ip;
		ck_assert_int_eq(us_ipv4_parse(eth.payload, eth.payload_len, &ip), US_WIRE_OK);
		if (ip.proto != US_IPPROTO_TCP) {
			p->other_frames++;
			return;
		}
		ck_assert_mem_eq(eth.dst, peer_mac, 6);
		ck_assert_uint_eq(ip.src, STACK_IP);
		ck_assert_uint_eq(ip.dst, PEER_IP);
		enqueue_tcp(p, ip.payload, ip.payload_len,
			    us_csum_pseudo4(ip.src, ip.dst, US_IPPROTO_TCP,
					    (uint32_t)ip.payload_len));
		return;
	}
	if (eth.ethertype == US_ETHERTYPE_IPV6) {
		struct us_ipv6_hdr ip;
		ck_assert_int_eq(us_ipv6_parse(eth.payload, eth.payload_len, &ip), US_WIRE_OK);
		if (ip.next_header == US_IPPROTO_ICMPV6) {
			answer_ns(p, &ip);
			return;
		}
		if (ip.next_header != US_IPPROTO_TCP) {
			p->other_frames++;
			return;
		}
		struct us_ip6 st = ip6(STACK_IP6), pe = ip6(PEER_IP6);
		ck_assert_mem_eq(&ip.src, &st, 16);
		ck_assert_mem_eq(&ip.dst, &pe, 16);
		enqueue_tcp(p, ip.payload, ip.payload_len,
			    us_csum_pseudo6(&ip.src, &ip.dst, US_IPPROTO_TCP, ip.payload_len));
		return;
	}
	p->other_frames++;
}

/* Moves what the stack transmitted into the peer's queue (answering ARP
 * and NDP on the way: that may make the stack send more). */
static void pump(struct peer *p)
{
	for (int round = 0; p->link.count > 0; round++) {
		ck_assert_msg(round < 1000, "the stack keeps sending");
		int n = p->link.count;
		ck_assert_msg(n <= US_TEST_MAX_FRAMES, "%d frames in one step", n);
		for (int i = 0; i < n; i++) {
			memcpy(p->scratch[i], p->link.frame[i], p->link.len[i]);
			p->scratch_len[i] = p->link.len[i];
		}
		p->link.count = 0;
		for (int i = 0; i < n; i++)
			take_frame(p, p->scratch[i], p->scratch_len[i]);
	}
}

/* Runs the virtual clock to t, firing every deadline on the way at its
 * exact time. */
static void at(struct peer *p, us_time_t t)
{
	ck_assert_msg(t >= p->now, "time runs backwards: %lld -> %lld", (long long)p->now,
		      (long long)t);
	us_time_t last_poll = -1;
	int same = 0; /* polls in a row at one time */
	for (int i = 0;; i++) {
		ck_assert_msg(i < 200000, "too many deadlines before %lld", (long long)t);
		us_time_t d = us_stack_next_deadline(p->s);
		if (d > t)
			break;
		if (d > p->now)
			p->now = d;
		same = last_poll == p->now ? same + 1 : 0;
		ck_assert_msg(same < 10, "deadline %lld stays due after polls at %lld",
			      (long long)d, (long long)p->now);
		us_stack_poll(p->s, p->now);
		last_poll = p->now;
		pump(p);
	}
	p->now = t;
	us_stack_poll(p->s, t);
	pump(p);
}

static void later(struct peer *p, us_time_t dt)
{
	at(p, p->now + dt);
}

static struct us_addr peer_addr(const struct peer *p, uint16_t port)
{
	struct us_addr a;
	memset(&a, 0, sizeof a);
	a.family = p->family;
	a.port = port;
	if (p->family == US_AF_INET)
		a.ip4 = PEER_IP;
	else
		a.ip6 = ip6(PEER_IP6);
	return a;
}

static struct us_addr any_addr(const struct peer *p, uint16_t port)
{
	struct us_addr a;
	memset(&a, 0, sizeof a);
	a.family = p->family;
	a.port = port;
	return a;
}

/* The peer introduces itself with a Neighbor Solicitation (test_udp.c). */
static void meet_peer6(struct peer *p)
{
	uint8_t m[64];
	struct us_ip6 src = ip6(PEER_IP6), dst = ip6(STACK_IP6);
	struct us_ndp_ns ns = { .target = dst };
	size_t n = us_ndp_ns_emit(&ns, m, sizeof m);
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, peer_mac, m + n, sizeof m - n);
	us_icmp6_csum_fill(m, n, us_csum_pseudo6(&src, &dst, US_IPPROTO_ICMPV6, (uint32_t)n));
	ck_assert_int_eq(inject_ip(p, US_IPPROTO_ICMPV6, m, n, true, &dst, 255), 0);
	p->link.count = 0; /* the Neighbor Advertisement */
}

/* A stack with both addresses that has met the peer on both; the peer's
 * connections set up with ports PEER_PORT + i, ISS PEER_ISS + i * 2^20,
 * window 65535. family: which sockets the test uses. */
static struct peer *peer_new(int family)
{
	struct peer *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	p->family = family;
	p->s = us_test_stack(&p->link, 1);
	struct us_ip6 g = ip6(STACK_IP6);
	ck_assert_int_eq(us_stack_add_ipv6(p->s, 0, 0, &g, 64), 0);
	us_test_meet_ipv4(p->s, &p->link, 0, PEER_IP, 1);
	meet_peer6(p);
	for (int i = 0; i < NCONN; i++) {
		p->conns[i].port = (uint16_t)(PEER_PORT + i);
		p->conns[i].iss = PEER_ISS + (uint32_t)i * 0x100000u;
		p->conns[i].win = 65535;
	}
	p->c = &p->conns[0];
	return p;
}

/* The leak check of the harness, then the peer. */
static void peer_free(struct peer *p)
{
	us_test_stack_free(p->s);
	free(p);
}

/* Writes a TCP segment from the peer's current connection: absolute seq and
 * ack, raw option bytes (a multiple of 4) and data; correct checksum. */
static size_t build_seg(const struct peer *p, uint8_t *buf, size_t cap, uint8_t flags, uint32_t seq,
			uint32_t ack, const uint8_t *opt, size_t optlen, const void *data,
			size_t len)
{
	struct us_tcp_hdr h = { .sport = p->c->port, .dport = p->c->sport, .seq = seq,
				.ack = ack, .flags = flags, .window = p->c->win };
	ck_assert_uint_eq(optlen % 4, 0);
	ck_assert_uint_le(optlen, 40);
	ck_assert_uint_le(20 + optlen + len, cap);
	ck_assert_uint_eq(us_tcp_emit(&h, buf, cap), 20);
	buf[12] = (uint8_t)(((20 + optlen) / 4) << 4); /* Data Offset, reserved bits 0 */
	if (optlen)
		memcpy(buf + 20, opt, optlen);
	if (len)
		memcpy(buf + 20 + optlen, data, len);
	size_t n = 20 + optlen + len;
	uint32_t pseudo;
	if (p->family == US_AF_INET) {
		pseudo = us_csum_pseudo4(PEER_IP, STACK_IP, US_IPPROTO_TCP, (uint32_t)n);
	} else {
		struct us_ip6 src = ip6(PEER_IP6), dst = ip6(STACK_IP6);
		pseudo = us_csum_pseudo6(&src, &dst, US_IPPROTO_TCP, (uint32_t)n);
	}
	us_tcp_csum_fill(buf, n, pseudo);
	return n;
}

/* Hands the bytes of a TCP segment to the stack in an IP packet of the
 * peer's family; returns what us_stack_input() said. */
static int inject_tcp(struct peer *p, const uint8_t *seg, size_t n)
{
	int rc = inject_ip(p, US_IPPROTO_TCP, seg, n, p->family == US_AF_INET6, NULL, 64);
	pump(p);
	return rc;
}

static const uint8_t mss1460[4] = { 2, 4, 0x05, 0xb4 };

/* The peer sends flags with seq relative to its ISS and ack relative to the
 * stack's ISS, options opt, and data. */
static int put_opt(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *opt,
		   size_t optlen, const void *data, size_t len)
{
	uint8_t buf[US_TEST_FRAME_CAP];
	size_t n = build_seg(p, buf, sizeof buf, flags, p->c->iss + seq, p->c->siss + ack, opt,
			     optlen, data, len);
	return inject_tcp(p, buf, n);
}

static int put(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
	       size_t len)
{
	return put_opt(p, flags, seq, ack, NULL, 0, data, len);
}

/* The peer's next data segment, acknowledging c->ack. */
static void peer_data(struct peer *p, const void *data, size_t len)
{
	put(p, US_TCP_ACK | US_TCP_PSH, p->c->seq, p->c->ack, data, len);
	p->c->seq += (uint32_t)len;
}

static void peer_ack(struct peer *p)
{
	put(p, US_TCP_ACK, p->c->seq, p->c->ack, NULL, 0);
}

/* Acknowledges everything the stack has sent on this connection. */
static void peer_ack_all(struct peer *p)
{
	p->c->ack = p->c->high;
	peer_ack(p);
}

static void peer_fin(struct peer *p)
{
	put(p, US_TCP_FIN | US_TCP_ACK, p->c->seq, p->c->ack, NULL, 0);
	p->c->seq++;
}

/* Segments sent and not yet read (user calls transmit too: pump first). */
static int pending(struct peer *p)
{
	pump(p);
	return p->tail - p->head;
}

static const char *fl(uint8_t flags, char buf[9])
{
	return us_tcp_flags_str(flags, buf);
}

/* The next segment the stack sent, whatever it is. Its relative numbers are
 * those of the current connection; it must be for that connection. */
static struct seg *next_seg(struct peer *p)
{
	ck_assert_msg(pending(p) > 0, "the stack sent nothing (at %lld)", (long long)p->now);
	struct seg *sg = &p->q[p->head++];
	if (p->head == p->tail)
		p->head = p->tail = 0;
	ck_assert_msg(sg->h.dport == p->c->port, "segment to port %u, expected %u", sg->h.dport,
		      p->c->port);
	if ((sg->h.flags & US_TCP_SYN) && !p->c->siss_known) {
		p->c->siss = sg->h.seq;
		p->c->siss_known = true;
		p->c->sport = sg->h.sport;
	}
	ck_assert_uint_eq(sg->h.sport, p->c->sport);
	uint32_t end = sg->h.seq - p->c->siss + (uint32_t)sg->h.payload_len;
	end += ((sg->h.flags & US_TCP_SYN) ? 1u : 0u) + ((sg->h.flags & US_TCP_FIN) ? 1u : 0u);
	if (!(sg->h.flags & US_TCP_RST) && (int32_t)(end - p->c->high) > 0)
		p->c->high = end;
	return sg;
}

static uint32_t rseq(const struct peer *p, const struct seg *sg)
{
	return sg->h.seq - p->c->siss;
}

static uint32_t rack(const struct peer *p, const struct seg *sg)
{
	return sg->h.ack - p->c->iss;
}

/* The next segment must carry exactly flags (PSH aside), seq (relative to
 * the stack's ISS) and, when flags has ACK, ack (relative to the peer's). */
static struct seg *expect(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct seg *sg = next_seg(p);
	char a[9], b[9];
	uint8_t got = sg->h.flags & (uint8_t)~US_TCP_PSH;
	uint8_t want = flags & (uint8_t)~US_TCP_PSH;
	bool ok = got == want && rseq(p, sg) == seq &&
		  (!(flags & US_TCP_ACK) || rack(p, sg) == ack);
	ck_assert_msg(ok, "expected [%s] seq %u ack %u, got [%s] seq %u ack %u len %zu at %lld",
		      fl(want, a), seq, ack, fl(sg->h.flags, b), rseq(p, sg), rack(p, sg),
		      sg->h.payload_len, (long long)sg->t);
	return sg;
}

/* A data segment (ACK, PSH allowed) of len bytes at seq. */
static struct seg *expect_data(struct peer *p, uint32_t seq, uint32_t ack, size_t len)
{
	struct seg *sg = expect(p, US_TCP_ACK, seq, ack);
	ck_assert_msg(sg->h.payload_len == len, "segment at seq %u has %zu bytes, expected %zu",
		      seq, sg->h.payload_len, len);
	return sg;
}

/* A reset with seq (RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>; an ACK bit
 * may come with it, as Linux sends). */
static struct seg *expect_rst(struct peer *p, uint32_t seq)
{
	struct seg *sg = next_seg(p);
	char a[9];
	ck_assert_msg((sg->h.flags & US_TCP_RST) && !(sg->h.flags & (US_TCP_SYN | US_TCP_FIN)) &&
			      rseq(p, sg) == seq && sg->h.payload_len == 0,
		      "expected a RST with seq %u, got [%s] seq %u len %zu", seq,
		      fl(sg->h.flags, a), rseq(p, sg), sg->h.payload_len);
	return sg;
}

static void expect_nothing(struct peer *p)
{
	if (pending(p) == 0)
		return;
	struct seg *sg = &p->q[p->head];
	char a[9];
	ck_assert_msg(0, "unexpected segment [%s] seq %u ack %u len %zu at %lld",
		      fl(sg->h.flags, a), sg->h.seq - p->c->siss, sg->h.ack - p->c->iss,
		      sg->h.payload_len, (long long)sg->t);
}

static void drain(struct peer *p)
{
	pump(p);
	p->head = p->tail = 0;
}

/* The state of the current connection in the stack's table (orphans and
 * listener children included), NONE when it has none. */
static int table_state(const struct peer *p, bool *orphan)
{
	struct us_tcp_info info[64];
	size_t n = us_stack_tcp_table(p->s, info, 64);
	ck_assert_uint_le(n, 64);
	int st = NONE;
	for (size_t i = 0; i < n; i++) {
		if (info[i].state == US_TCP_LISTEN || info[i].remote.port != p->c->port)
			continue;
		ck_assert_msg(st == NONE, "two connections from port %u", p->c->port);
		st = info[i].state;
		if (orphan)
			*orphan = info[i].orphan;
	}
	return st;
}

static size_t table_size(const struct peer *p)
{
	return us_stack_tcp_table(p->s, NULL, 0);
}

#define ck_state(t, want)                                                                          \
	ck_assert_msg(us_tcp_state(t) == (want), "state %s, expected %s",                          \
		      us_tcp_state_name(us_tcp_state(t)), us_tcp_state_name(want))
#define ck_table_state(p, want)                                                                    \
	do {                                                                                       \
		int st_ = table_state(p, NULL);                                                    \
		ck_assert_msg(st_ == (want), "table state %s, expected %s",                        \
			      st_ == NONE ? "none" : us_tcp_state_name(st_),                       \
			      (want) == NONE ? "none" : us_tcp_state_name(want));                  \
	} while (0)

static struct us_tcp_info info_of(const struct us_tcp *t)
{
	struct us_tcp_info i;
	memset(&i, 0, sizeof i);
	ck_assert_int_eq(us_tcp_get_info(t, &i), 0);
	return i;
}

static struct us_tcp *tcp_open(struct peer *p)
{
	int err = 0;
	struct us_tcp *t = us_tcp_open(p->s, p->family, on_event, &p->ev, &err);
	ck_assert_msg(t != NULL, "us_tcp_open: %d", err);
	return t;
}

static uint16_t our_mss(const struct peer *p)
{
	return p->family == US_AF_INET ? MSS4 : MSS6;
}

/* Active OPEN: the stack's SYN (RFC 9293 §3.10.1) carries the MSS option
 * and offers the modern ones; its ISS becomes the base of the stack's relative numbers. */
static struct us_tcp *connect_syn(struct peer *p)
{
	struct us_tcp *t = tcp_open(p);
	struct us_addr to = peer_addr(p, p->c->port);
	ck_assert_int_eq(us_tcp_connect(t, p->now, &to), -EINPROGRESS);
	ck_state(t, US_TCP_SYN_SENT);
	struct seg *syn = expect(p, US_TCP_SYN, 0, 0);
	ck_assert(syn->h.opts.has_mss);
	ck_assert_uint_eq(syn->h.opts.mss, our_mss(p));
	/* RFC 7323 §2.2, §3.2 and RFC 2018 §2: window scaling (shift 3 for
	 * the 256 KB ring), SACK-permitted and a TSopt with TSecr 0 are
	 * offered by default; the peer here answers without them. */
	ck_assert(syn->h.opts.has_wscale && syn->h.opts.sack_permitted && syn->h.opts.has_ts);
	ck_assert_uint_eq(syn->h.opts.wscale, 3);
	ck_assert_uint_eq(syn->h.opts.ts_ecr, 0);
	ck_assert_uint_eq(syn->h.hdr_len, 40);
	ck_assert_uint_eq(syn->h.payload_len, 0);
	return t;
}

/* connect_syn, then the peer's SYN-ACK (MSS 1460) RTT later and the stack's
 * ACK: ESTABLISHED, both sides at relative 1. */
static struct us_tcp *connect_est(struct peer *p)
{
	struct us_tcp *t = connect_syn(p);
	later(p, RTT);
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss1460, 4, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	ck_state(t, US_TCP_ESTABLISHED);
	p->c->seq = 1;
	p->c->ack = 1;
	return t;
}

static struct us_tcp *listen_on(struct peer *p, uint16_t port, int backlog)
{
	struct us_tcp *l = tcp_open(p);
	struct us_addr a = any_addr(p, port);
	ck_assert_int_eq(us_tcp_bind(l, &a), 0);
	ck_assert_int_eq(us_tcp_listen(l, p->now, backlog), 0);
	ck_state(l, US_TCP_LISTEN);
	for (int i = 0; i < NCONN; i++)
		p->conns[i].sport = port;
	return l;
}

/* The peer's SYN (MSS 1460) to the listener and the stack's SYN-ACK. */
static void syn_to_listener(struct peer *p)
{
	put_opt(p, US_TCP_SYN, 0, 0, mss1460, 4, NULL, 0);
	struct seg *sa = expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	ck_assert(sa->h.opts.has_mss);
	ck_assert_uint_eq(sa->h.opts.mss, our_mss(p));
	p->c->seq = 1;
	p->c->ack = 1;
}

static struct us_tcp *accept_one(struct peer *p, struct us_tcp *l)
{
	int err = 1;
	struct us_addr from;
	struct us_tcp *t = us_tcp_accept(l, on_event, &p->ev, &from, &err);
	ck_assert_msg(t != NULL, "accept failed: %d", err);
	ck_assert_uint_eq(from.port, p->c->port);
	return t;
}

/* A connection from the peer to the listener, completed and accepted. */
static struct us_tcp *accept_est(struct peer *p, struct us_tcp *l)
{
	syn_to_listener(p);
	later(p, RTT);
	peer_ack(p);
	expect_nothing(p);
	struct us_tcp *t = accept_one(p, l);
	ck_state(t, US_TCP_ESTABLISHED);
	return t;
}

static void fill(uint8_t *b, size_t n, uint32_t from)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((from + i) * 7 + 3);
}

static void check_fill(const uint8_t *b, size_t n, uint32_t from)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(b[i] == (uint8_t)((from + i) * 7 + 3),
			      "byte %zu of the stream differs", (size_t)from + i);
}

/* Ends a test: the endpoint goes with an ABORT (RST when synchronized). */
static void abort_and_free(struct peer *p, struct us_tcp *t)
{
	if (t)
		us_tcp_abort(t, p->now);
	drain(p);
	peer_free(p);
}

/* ---- Opening: RFC 9293 §3.5, §3.10.1, §3.10.7.2-3 ------------------------- */

START_TEST(active_open_sends_syn_with_mss_and_syn_ack_establishes)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	ck_assert_uint_eq(p->q[0].h.window, 65535); /* the SYN: min(131072 free, 65535) */
	ck_assert_uint_ge(p->c->sport, 49152);	     /* RFC 6056 range */
	ck_assert_int_eq(p->ev.seen & US_EV_WRITABLE, 0);
	struct us_addr to = peer_addr(p, PEER_PORT);
	ck_assert_int_eq(us_tcp_connect(t, p->now, &to), -EALREADY);
	ck_assert_uint_eq(ctr(p, "tcp.active_opens"), 1);

	later(p, RTT);
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss1460, 4, NULL, 0);
	struct seg *ack = expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(ack->h.hdr_len, 20); /* options only on SYNs */
	ck_assert_uint_eq(ack->h.payload_len, 0);
	ck_state(t, US_TCP_ESTABLISHED);
	ck_assert(us_tcp_events(t) & US_EV_WRITABLE);
	ck_assert(p->ev.seen & US_EV_WRITABLE);
	struct us_addr r;
	ck_assert_int_eq(us_tcp_remote(t, &r), 0);
	ck_assert_uint_eq(r.ip4, PEER_IP);
	ck_assert_uint_eq(r.port, PEER_PORT);
	struct us_tcp_info i = info_of(t);
	ck_assert_uint_eq(i.mss, 1460);
	ck_assert_uint_eq(i.cwnd, 14600); /* RFC 6928 §2: IW = min(10 * SMSS, max(2 * SMSS, 14600)) */
	ck_assert_str_eq(us_tcp_state_name(US_TCP_SYN_RCVD), "SYN_RCVD");
	ck_assert_str_eq(us_tcp_state_name(11), "?");
	expect_nothing(p);
	us_tcp_abort(t, p->now);
	expect_rst(p, 1);
	peer_free(p);
}
END_TEST

START_TEST(passive_open_syn_gets_syn_ack_and_ack_establishes_the_accepted_child)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	int err = 0;
	ck_assert_ptr_null(us_tcp_accept(l, NULL, NULL, NULL, &err));
	ck_assert_int_eq(err, -EAGAIN);

	syn_to_listener(p); /* LISTEN -> SYN_RCVD (a child) */
	bool orphan = false;
	ck_table_state(p, US_TCP_SYN_RCVD);
	ck_assert_ptr_null(us_tcp_accept(l, NULL, NULL, NULL, &err));
	ck_assert_int_eq(us_tcp_events(l) & US_EV_READABLE, 0);

	later(p, RTT);
	peer_ack(p); /* SYN_RCVD -> ESTABLISHED */
	expect_nothing(p);
	ck_assert_int_eq(table_state(p, &orphan), US_TCP_ESTABLISHED);
	ck_assert(us_tcp_events(l) & US_EV_READABLE);
	ck_assert_uint_eq(ctr(p, "tcp.passive_opens"), 1);
	struct us_tcp *t = accept_one(p, l);
	ck_state(t, US_TCP_ESTABLISHED);
	ck_state(l, US_TCP_LISTEN);

	peer_data(p, "hello", 5);
	uint8_t buf[16];
	ck_assert_int_eq(us_tcp_recv(t, p->now, buf, sizeof buf), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"world", 5), 5);
	expect_data(p, 1, 6, 5);
	us_tcp_close(l, p->now);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.10.7.3 fourth: a SYN without ACK in SYN_SENT: "enter
 * SYN-RECEIVED, form a SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>". */
static struct us_tcp *simultaneous_open_to_syn_rcvd(struct peer *p)
{
	struct us_tcp *t = connect_syn(p);
	later(p, US_MSEC(10));
	put_opt(p, US_TCP_SYN, 0, 0, mss1460, 4, NULL, 0);
	ck_state(t, US_TCP_SYN_RCVD);
	struct seg *sa = expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	ck_assert(sa->h.opts.has_mss);
	p->c->seq = 1;
	p->c->ack = 1;
	return t;
}

START_TEST(simultaneous_open_goes_syn_sent_to_syn_rcvd_to_established)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = simultaneous_open_to_syn_rcvd(p);
	ck_assert_int_eq(us_tcp_events(t) & US_EV_WRITABLE, 0);
	later(p, US_MSEC(10));
	peer_ack(p);
	ck_state(t, US_TCP_ESTABLISHED);
	ck_assert(us_tcp_events(t) & US_EV_WRITABLE);
	expect_nothing(p);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.10.7.4 second, SYN-RECEIVED: "If this connection was initiated
 * with a passive OPEN (i.e., came from the LISTEN state), then return this
 * connection to LISTEN state and return." */
START_TEST(syn_rcvd_from_a_passive_open_goes_back_to_listen_on_rst)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	syn_to_listener(p);
	ck_table_state(p, US_TCP_SYN_RCVD);
	put(p, US_TCP_RST, 1, 0, NULL, 0);
	ck_table_state(p, NONE);
	ck_state(l, US_TCP_LISTEN);
	ck_assert_uint_eq(table_size(p), 1);
	expect_nothing(p);
	int err = 0;
	ck_assert_ptr_null(us_tcp_accept(l, NULL, NULL, NULL, &err));
	ck_assert_int_eq(err, -EAGAIN);
	/* The listener still answers the next SYN from the same port. */
	p->c->siss_known = false;
	later(p, US_SEC(1));
	syn_to_listener(p);
	us_tcp_close(l, p->now);
	drain(p);
	peer_free(p);
}
END_TEST

/* Same step: "If this connection was initiated with an active OPEN (i.e.,
 * came from SYN-SENT state), then the connection was refused". */
START_TEST(syn_rcvd_from_an_active_open_goes_to_closed_on_rst_refused)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = simultaneous_open_to_syn_rcvd(p);
	put(p, US_TCP_RST, 1, 0, NULL, 0);
	ck_state(t, US_TCP_CLOSED);
	ck_assert(us_tcp_events(t) & US_EV_ERROR);
	ck_assert_int_eq(us_tcp_take_error(t), -ECONNREFUSED);
	expect_nothing(p);
	us_tcp_close(t, p->now);
	ck_assert_uint_eq(table_size(p), 0);
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.4 CLOSE, SYN-RECEIVED: "If no SENDs have been issued and
 * there is no pending data to send, then form a FIN segment and send it, and
 * enter FIN-WAIT-1 state". */
START_TEST(syn_rcvd_close_sends_fin_and_goes_to_fin_wait_1)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = simultaneous_open_to_syn_rcvd(p);
	us_tcp_close(t, p->now);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	ck_table_state(p, US_TCP_FIN_WAIT_1);
	later(p, US_MSEC(10));
	p->c->ack = 2; /* our SYN and FIN */
	peer_ack(p);
	ck_table_state(p, US_TCP_FIN_WAIT_2);
	peer_fin(p);
	expect(p, US_TCP_ACK, 2, 2);
	ck_table_state(p, US_TCP_TIME_WAIT);
	later(p, 2 * MSL);
	ck_table_state(p, NONE);
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.7.3 first: "If the RST bit is set, If the ACK was
 * acceptable, then signal to the user "error: connection reset", drop the
 * segment, enter CLOSED state"; connect() reports it as ECONNREFUSED. */
START_TEST(syn_sent_rst_with_an_acceptable_ack_refuses_the_connection)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	later(p, US_MSEC(5));
	put(p, US_TCP_RST | US_TCP_ACK, 0, 1, NULL, 0);
	ck_state(t, US_TCP_CLOSED);
	ck_assert(p->ev.seen & US_EV_ERROR);
	ck_assert_int_eq(us_tcp_take_error(t), -ECONNREFUSED);
	ck_assert_int_eq(us_tcp_take_error(t), 0);
	ck_assert_uint_eq(ctr(p, "tcp.attempt_fails"), 1);
	expect_nothing(p);
	later(p, US_SEC(5)); /* and no SYN is sent again */
	expect_nothing(p);
	us_tcp_close(t, p->now);
	peer_free(p);
}
END_TEST

/* Same step: "If the ACK bit is set, If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
 * send a reset (unless the RST bit is set, if so drop the segment and
 * return) <SEQ=SEG.ACK><CTL=RST>"; a RST without an ACK: "drop the segment
 * and return". */
START_TEST(syn_sent_ignores_a_rst_without_an_acceptable_ack)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	put(p, US_TCP_RST, 0, 0, NULL, 0);
	ck_state(t, US_TCP_SYN_SENT);
	put(p, US_TCP_RST | US_TCP_ACK, 0, 7, NULL, 0);
	ck_state(t, US_TCP_SYN_SENT);
	put(p, US_TCP_RST | US_TCP_ACK, 0, 0, NULL, 0); /* SEG.ACK == ISS */
	ck_state(t, US_TCP_SYN_SENT);
	expect_nothing(p);
	ck_assert_int_eq(us_tcp_take_error(t), 0);
	abort_and_free(p, t);
}
END_TEST

START_TEST(syn_sent_answers_an_unacceptable_ack_with_a_rst_from_that_ack)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	uint64_t bad = ctr(p, "tcp.drop_syn_sent_bad");
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 5, mss1460, 4, NULL, 0); /* beyond SND.NXT */
	struct seg *r = expect(p, US_TCP_RST, 5, 0);
	ck_assert_int_eq(r->h.flags, US_TCP_RST);
	ck_state(t, US_TCP_SYN_SENT);
	put(p, US_TCP_ACK, 0, 0, NULL, 0); /* SEG.ACK == ISS */
	expect(p, US_TCP_RST, 0, 0);
	ck_state(t, US_TCP_SYN_SENT);
	ck_assert_uint_ge(ctr(p, "tcp.drop_syn_sent_bad"), bad + 2);
	/* The right SYN-ACK still completes the handshake. */
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss1460, 4, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.10.4 CLOSE, SYN-SENT: "Delete the TCB and return "error:
 * closing" responses to any queued SENDs". A late SYN-ACK then meets a
 * closed port (§3.10.7.1). */
START_TEST(syn_sent_close_goes_to_closed_and_sends_nothing)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	us_tcp_close(t, p->now);
	expect_nothing(p);
	ck_assert_uint_eq(table_size(p), 0);
	later(p, US_SEC(10)); /* no retransmission of the SYN */
	expect_nothing(p);
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss1460, 4, NULL, 0);
	struct seg *r = expect(p, US_TCP_RST, 1, 0);
	ck_assert_int_eq(r->h.flags, US_TCP_RST);
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.4 CLOSE, LISTEN: "Any outstanding RECEIVEs are returned
 * with "error: closing" responses. Delete TCB, enter CLOSED state"; the
 * contract: its unaccepted children are reset. */
START_TEST(listen_close_goes_to_closed_and_resets_unaccepted_children)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	syn_to_listener(p);
	peer_ack(p);
	ck_table_state(p, US_TCP_ESTABLISHED);
	us_tcp_close(l, p->now);
	expect_rst(p, 1);
	ck_assert_uint_eq(table_size(p), 0);
	/* The port is closed now: RST, ACK (RFC 9293 §3.10.7.1). */
	p->c = &p->conns[1];
	put(p, US_TCP_SYN, 0, 0, NULL, 0);
	struct seg *r = next_seg(p);
	ck_assert_int_eq(r->h.flags, US_TCP_RST | US_TCP_ACK);
	ck_assert_uint_eq(r->h.seq, 0);
	ck_assert_uint_eq(rack(p, r), 1);
	peer_free(p);
}
END_TEST

/* A port's bucket keeps its listeners first (tcp.c, port_insert()), so a
 * SYN's listener lookup stops at the first endpoint that is not
 * listening. An endpoint bound before others and listening only later must
 * still be found: entering LISTEN moves it to the front; and the
 * connections it makes go behind every listener. */
START_TEST(a_listener_is_found_behind_endpoints_bound_after_it)
{
	struct peer *p = peer_new(US_AF_INET);
	/* Three ports of one bucket: SRV_PORT, + 256, + 512. */
	struct us_tcp *b1 = tcp_open(p), *l = tcp_open(p), *b2 = tcp_open(p);
	struct us_addr a1 = any_addr(p, SRV_PORT + US_TCP_PORT_BUCKETS);
	struct us_addr al = any_addr(p, SRV_PORT);
	struct us_addr a2 = any_addr(p, SRV_PORT + 2 * US_TCP_PORT_BUCKETS);
	ck_assert_int_eq(us_tcp_bind(b1, &a1), 0);
	ck_assert_int_eq(us_tcp_bind(l, &al), 0);
	ck_assert_int_eq(us_tcp_bind(b2, &a2), 0);
	ck_assert_int_eq(us_tcp_listen(l, p->now, 4), 0);
	for (int i = 0; i < NCONN; i++)
		p->conns[i].sport = SRV_PORT;
	syn_to_listener(p);
	peer_ack(p);
	ck_table_state(p, US_TCP_ESTABLISHED);
	/* b1 listens too, behind the child now in the bucket. */
	ck_assert_int_eq(us_tcp_listen(b1, p->now, 4), 0);
	struct us_tcp_tuple tu = { .lport = SRV_PORT + US_TCP_PORT_BUCKETS };
	ck_assert_ptr_eq(us_tcp_find_listener(p->s, &tu, true), b1);
	tu.lport = SRV_PORT;
	ck_assert_ptr_eq(us_tcp_find_listener(p->s, &tu, true), l);
	tu.lport = SRV_PORT + 2 * US_TCP_PORT_BUCKETS;
	ck_assert_ptr_null(us_tcp_find_listener(p->s, &tu, true));
	/* A listener that closes leaves the others findable. */
	us_tcp_close(b1, p->now);
	tu.lport = SRV_PORT;
	ck_assert_ptr_eq(us_tcp_find_listener(p->s, &tu, true), l);
	us_tcp_abort(b2, p->now);
	us_tcp_close(l, p->now);
	expect_rst(p, 1);
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.2: data queued before the connection is established goes
 * once it is. */
START_TEST(send_in_syn_sent_is_queued_and_leaves_once_established)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"early", 5), 5);
	expect_nothing(p);
	later(p, RTT);
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss1460, 4, NULL, 0);
	bool found = false;
	while (pending(p) > 0) {
		struct seg *sg = next_seg(p);
		ck_assert(sg->h.flags & US_TCP_ACK);
		ck_assert_uint_eq(rack(p, sg), 1);
		if (sg->h.payload_len) {
			ck_assert_uint_eq(rseq(p, sg), 1);
			ck_assert_uint_eq(sg->h.payload_len, 5);
			ck_assert_mem_eq(sg->h.payload, "early", 5);
			found = true;
		}
	}
	ck_assert_msg(found, "the queued data did not leave");
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* ---- Closing: RFC 9293 §3.6, §3.10.4, §3.10.7.4 eighth -------------------- */

/* ESTABLISHED -> FIN_WAIT_1 (SHUT_WR keeps the socket ours) -> FIN_WAIT_2
 * (our FIN acked) -> TIME_WAIT (the peer's FIN) -> CLOSED after 2 MSL. */
START_TEST(active_close_goes_fin_wait_1_fin_wait_2_time_wait_then_closed_after_2msl)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_shutdown(t, p->now, 1), 0);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	ck_state(t, US_TCP_FIN_WAIT_1);
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"x", 1), -EPIPE);

	later(p, US_MSEC(50));
	p->c->ack = 2;
	peer_ack(p);
	ck_state(t, US_TCP_FIN_WAIT_2);
	expect_nothing(p);

	/* A socket that is still ours waits in FIN_WAIT_2 as long as the peer
	 * likes, and still receives (a half-close). */
	later(p, US_SEC(100));
	ck_state(t, US_TCP_FIN_WAIT_2);
	expect_nothing(p);
	peer_data(p, "late", 4);
	later(p, US_MSEC(200));
	expect(p, US_TCP_ACK, 2, 5);

	peer_fin(p);
	us_time_t entered = p->now;
	expect(p, US_TCP_ACK, 2, 6); /* a FIN is acked at once */
	ck_state(t, US_TCP_TIME_WAIT);
	uint8_t buf[8];
	ck_assert_int_eq(us_tcp_recv(t, p->now, buf, sizeof buf), 4);
	ck_assert_int_eq(us_tcp_recv(t, p->now, buf, sizeof buf), 0);
	ck_assert(us_tcp_events(t) & US_EV_HUP);

	at(p, entered + 2 * MSL - 1);
	ck_state(t, US_TCP_TIME_WAIT);
	at(p, entered + 2 * MSL);
	ck_state(t, US_TCP_CLOSED);
	expect_nothing(p);
	us_tcp_close(t, p->now);
	ck_assert_uint_eq(table_size(p), 0);
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed
 * (perhaps in this segment), then enter TIME-WAIT ...; otherwise, enter
 * the CLOSING state"; fifth, CLOSING: "if the ACK acknowledges our FIN,
 * then enter the TIME-WAIT state". */
START_TEST(fin_wait_1_fin_before_ack_goes_to_closing_then_time_wait)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_shutdown(t, p->now, 1), 0);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	peer_fin(p); /* acknowledges 1 only: our FIN is not acked */
	ck_state(t, US_TCP_CLOSING);
	expect(p, US_TCP_ACK, 2, 2);
	later(p, US_MSEC(10));
	p->c->ack = 2;
	peer_ack(p);
	ck_state(t, US_TCP_TIME_WAIT);
	us_time_t entered = p->now;
	us_tcp_close(t, p->now); /* an orphan in TIME_WAIT runs out alone */
	ck_table_state(p, US_TCP_TIME_WAIT);
	at(p, entered + 2 * MSL - 1);
	ck_table_state(p, US_TCP_TIME_WAIT);
	at(p, entered + 2 * MSL);
	ck_table_state(p, NONE);
	expect_nothing(p);
	peer_free(p);
}
END_TEST

START_TEST(fin_wait_1_fin_with_the_ack_of_our_fin_goes_straight_to_time_wait)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_shutdown(t, p->now, 1), 0);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	later(p, US_MSEC(10));
	p->c->ack = 2;
	peer_fin(p);
	ck_state(t, US_TCP_TIME_WAIT);
	expect(p, US_TCP_ACK, 2, 2);
	later(p, 2 * MSL);
	ck_state(t, US_TCP_CLOSED);
	us_tcp_close(t, p->now);
	peer_free(p);
}
END_TEST

/* ESTABLISHED -> CLOSE_WAIT (FIN received, acked at once, end of stream),
 * CLOSE -> LAST_ACK (our FIN), ACK of it -> CLOSED. */
START_TEST(passive_close_goes_close_wait_then_last_ack_then_closed)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	peer_fin(p);
	expect(p, US_TCP_ACK, 1, 2);
	ck_state(t, US_TCP_CLOSE_WAIT);
	ck_assert(us_tcp_events(t) & US_EV_READABLE);
	uint8_t buf[8];
	ck_assert_int_eq(us_tcp_recv(t, p->now, buf, sizeof buf), 0);
	ck_assert(us_tcp_events(t) & US_EV_WRITABLE);
	ck_assert_int_eq(us_tcp_events(t) & US_EV_HUP, 0);
	/* CLOSE_WAIT may still send. */
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"bye", 3), 3);
	expect_data(p, 1, 2, 3);
	later(p, US_MSEC(10));
	peer_ack_all(p);
	us_tcp_close(t, p->now);
	expect(p, US_TCP_FIN | US_TCP_ACK, 4, 2);
	ck_table_state(p, US_TCP_LAST_ACK);
	later(p, US_MSEC(10));
	peer_ack_all(p);
	ck_table_state(p, NONE);
	expect_nothing(p);
	peer_free(p);
}
END_TEST

START_TEST(last_ack_owned_socket_reports_hup_once_our_fin_is_acked)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	peer_fin(p);
	expect(p, US_TCP_ACK, 1, 2);
	ck_assert_int_eq(us_tcp_shutdown(t, p->now, 1), 0);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 2);
	ck_state(t, US_TCP_LAST_ACK);
	ck_assert_int_eq(us_tcp_events(t) & US_EV_HUP, 0);
	peer_ack_all(p);
	ck_state(t, US_TCP_CLOSED);
	ck_assert(us_tcp_events(t) & US_EV_HUP);
	ck_assert_int_eq(us_tcp_take_error(t), 0);
	us_tcp_close(t, p->now);
	ck_assert_uint_eq(table_size(p), 0);
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.7.4 eighth, TIME-WAIT: "Remain in the TIME-WAIT state.
 * Restart the 2 MSL time-wait timeout." The peer that lost our last ACK
 * sends its FIN again; it is acked again so that it can close. */
START_TEST(retransmitted_fin_in_time_wait_is_acked_again_and_restarts_2msl)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_shutdown(t, p->now, 1), 0);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	p->c->ack = 2;
	peer_fin(p);
	expect(p, US_TCP_ACK, 2, 2);
	ck_state(t, US_TCP_TIME_WAIT);
	later(p, US_SEC(20));
	put(p, US_TCP_FIN | US_TCP_ACK, 1, 2, NULL, 0);
	expect(p, US_TCP_ACK, 2, 2);
	ck_state(t, US_TCP_TIME_WAIT);
	/* "Restart the 2 MSL time-wait timeout." */
	us_time_t restarted = p->now;
	at(p, restarted + 2 * MSL - 1);
	ck_state(t, US_TCP_TIME_WAIT);
	at(p, restarted + 2 * MSL);
	ck_state(t, US_TCP_CLOSED);
	us_tcp_close(t, p->now);
	peer_free(p);
}
END_TEST

/* Contract (Deviation, Linux tcp_fin_timeout): a connection closed by its
 * owner does not wait in FIN_WAIT_2 more than 60 s for the peer's FIN. */
START_TEST(orphaned_fin_wait_2_ends_after_60_seconds_without_a_fin)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	us_tcp_close(t, p->now);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	bool orphan = false;
	ck_assert_int_eq(table_state(p, &orphan), US_TCP_FIN_WAIT_1);
	ck_assert(orphan);
	later(p, US_MSEC(10));
	peer_ack_all(p);
	us_time_t entered = p->now;
	ck_table_state(p, US_TCP_FIN_WAIT_2);
	at(p, entered + US_SEC(59));
	ck_table_state(p, US_TCP_FIN_WAIT_2);
	at(p, entered + US_SEC(60));
	ck_table_state(p, NONE);
	drain(p);
	peer_free(p);
}
END_TEST

/* RFC 1122 §4.2.2.13: "If such a host issues a CLOSE call while received
 * data is still pending in TCP, or if new data is received after CLOSE is
 * called, its TCP SHOULD send a RST to show that data was lost." */
START_TEST(close_with_unread_data_sends_rst_and_goes_to_closed)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	peer_data(p, "unread", 6);
	us_tcp_close(t, p->now);
	expect_rst(p, 1);
	ck_assert_uint_eq(table_size(p), 0);
	later(p, US_SEC(1));
	expect_nothing(p);
	peer_free(p);
}
END_TEST

START_TEST(data_arriving_after_close_is_answered_with_rst)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	us_tcp_close(t, p->now);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	p->c->ack = 2;
	peer_ack(p);
	ck_table_state(p, US_TCP_FIN_WAIT_2);
	uint64_t before = ctr(p, "tcp.drop_data_after_close");
	peer_data(p, "too late", 8);
	expect_rst(p, 2);
	ck_table_state(p, NONE);
	ck_assert_uint_eq(ctr(p, "tcp.drop_data_after_close"), before + 1);
	peer_free(p);
}
END_TEST

START_TEST(linger_zero_close_sends_rst_at_once)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_LINGER, 0), 0);
	us_tcp_close(t, p->now);
	expect_rst(p, 1);
	ck_assert_uint_eq(table_size(p), 0);
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.5 ABORT, ESTABLISHED...: "Send a reset segment:
 * <SEQ=SND.NXT><CTL=RST>". */
START_TEST(abort_sends_rst_from_snd_nxt)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"abc", 3), 3);
	expect_data(p, 1, 1, 3);
	uint64_t rsts = ctr(p, "tcp.out_rsts");
	us_tcp_abort(t, p->now);
	expect_rst(p, 4);
	ck_assert_uint_eq(ctr(p, "tcp.out_rsts"), rsts + 1);
	ck_assert_uint_eq(table_size(p), 0);
	peer_free(p);
}
END_TEST

/* ---- RST in each synchronized state: RFC 9293 §3.10.7.4 second, with
 * RFC 5961 §3.2's exact match ------------------------------------------------ */

/* Brings a connection (the socket still ours) to state. */
static struct us_tcp *reach(struct peer *p, int state)
{
	struct us_tcp *t;
	switch (state) {
	case US_TCP_SYN_RCVD:
		return simultaneous_open_to_syn_rcvd(p);
	case US_TCP_ESTABLISHED:
		return connect_est(p);
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSING:
	case US_TCP_TIME_WAIT:
		t = connect_est(p);
		ck_assert_int_eq(us_tcp_shutdown(t, p->now, 1), 0);
		expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
		if (state == US_TCP_FIN_WAIT_1)
			break;
		if (state == US_TCP_CLOSING) {
			peer_fin(p);
			expect(p, US_TCP_ACK, 2, 2);
			break;
		}
		p->c->ack = 2;
		peer_ack(p);
		if (state == US_TCP_TIME_WAIT) {
			peer_fin(p);
			expect(p, US_TCP_ACK, 2, 2);
		}
		break;
	case US_TCP_CLOSE_WAIT:
	case US_TCP_LAST_ACK:
		t = connect_est(p);
		peer_fin(p);
		expect(p, US_TCP_ACK, 1, 2);
		if (state == US_TCP_LAST_ACK) {
			ck_assert_int_eq(us_tcp_shutdown(t, p->now, 1), 0);
			expect(p, US_TCP_FIN | US_TCP_ACK, 1, 2);
		}
		break;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	default:
		ck_abort_msg("reach: not a synchronized state");
		return NULL;
	}
	ck_state(t, state);
	return t;
}

/* A RST whose seq is exactly RCV.NXT closes the connection, sends nothing;
 * in ESTABLISHED, FIN_WAIT_1/2 and CLOSE_WAIT the user gets ECONNRESET. */
static void exact_rst_closes(int state, bool reports_reset)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = reach(p, state);
	later(p, US_MSEC(10));
	uint64_t rx = ctr(p, "tcp.rst_received");
	put(p, US_TCP_RST, p->c->seq, 0, NULL, 0);
	ck_state(t, US_TCP_CLOSED);
	ck_assert_uint_eq(ctr(p, "tcp.rst_received"), rx + 1);
	expect_nothing(p);
	if (reports_reset) {
		ck_assert(us_tcp_events(t) & US_EV_ERROR);
		ck_assert(us_tcp_events(t) & US_EV_HUP);
		ck_assert_int_eq(us_tcp_take_error(t), -ECONNRESET);
	}
	later(p, US_SEC(5)); /* nothing is retransmitted after a reset */
	expect_nothing(p);
	us_tcp_close(t, p->now);
	ck_assert_uint_eq(table_size(p), 0);
	peer_free(p);
}

START_TEST(rst_in_established_closes_with_econnreset)
{
	exact_rst_closes(US_TCP_ESTABLISHED, true);
}
END_TEST

START_TEST(rst_in_fin_wait_1_closes_with_econnreset)
{
	exact_rst_closes(US_TCP_FIN_WAIT_1, true);
}
END_TEST

START_TEST(rst_in_fin_wait_2_closes_with_econnreset)
{
	exact_rst_closes(US_TCP_FIN_WAIT_2, true);
}
END_TEST

START_TEST(rst_in_close_wait_closes_with_econnreset)
{
	exact_rst_closes(US_TCP_CLOSE_WAIT, true);
}
END_TEST

START_TEST(rst_in_closing_closes)
{
	exact_rst_closes(US_TCP_CLOSING, false);
}
END_TEST

START_TEST(rst_in_last_ack_closes)
{
	exact_rst_closes(US_TCP_LAST_ACK, false);
}
END_TEST

START_TEST(rst_in_time_wait_closes)
{
	exact_rst_closes(US_TCP_TIME_WAIT, false);
}
END_TEST

START_TEST(rst_counts_an_established_reset)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	put(p, US_TCP_RST | US_TCP_ACK, 1, 1, NULL, 0);
	ck_state(t, US_TCP_CLOSED);
	ck_assert_uint_eq(ctr(p, "tcp.estab_resets"), 1);
	uint8_t b[4];
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), -ECONNRESET);
	ck_assert_int_eq(us_tcp_send(t, p->now, b, 1), -EPIPE);
	us_tcp_close(t, p->now);
	peer_free(p);
}
END_TEST

/* ---- RFC 5961 ------------------------------------------------------------- */

/* RFC 5961 §3.2: "If the RST bit is set and the sequence number exactly
 * matches the next expected sequence number (RCV.NXT), then TCP MUST reset
 * the connection"; "Otherwise (the sequence number is within the current
 * receive window), TCP MUST send an ACK (challenge ACK)". */
START_TEST(in_window_rst_that_is_not_exact_gets_a_challenge_ack)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	put(p, US_TCP_RST, 1 + 100, 0, NULL, 0);
	ck_state(t, US_TCP_ESTABLISHED);
	expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(ctr(p, "tcp.challenge_acks"), 1);
	ck_assert_int_eq(us_tcp_take_error(t), 0);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5961 §3.2: "If the RST bit is set and the sequence number is outside
 * the current receive window, silently drop the segment." */
START_TEST(rst_outside_the_window_is_dropped_silently)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	/* Counted by the first step's drop (tcp.drop_not_acceptable) or as
	 * tcp.drop_rst_not_at_rcv_nxt: either name, but counted. */
	uint64_t drops = ctr(p, "tcp.drop_rst_not_at_rcv_nxt") + ctr(p, "tcp.drop_not_acceptable");
	put(p, US_TCP_RST, 1 + 70000, 0, NULL, 0); /* beyond RCV.NXT + 65535 */
	put(p, US_TCP_RST, 0, 0, NULL, 0);	  /* RCV.NXT - 1 */
	ck_state(t, US_TCP_ESTABLISHED);
	expect_nothing(p);
	ck_assert_uint_eq(ctr(p, "tcp.drop_rst_not_at_rcv_nxt") + ctr(p, "tcp.drop_not_acceptable"),
			  drops + 2);
	ck_assert_uint_eq(ctr(p, "tcp.challenge_acks"), 0);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5961 §4.2: "If the SYN bit is set, irrespective of the sequence
 * number, TCP MUST send an ACK (also referred to as challenge ACK) to the
 * remote peer". */
START_TEST(syn_in_established_gets_a_challenge_ack)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	put_opt(p, US_TCP_SYN, 1 + 500, 0, mss1460, 4, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	ck_state(t, US_TCP_ESTABLISHED);
	ck_assert_uint_eq(ctr(p, "tcp.challenge_acks"), 1);
	put_opt(p, US_TCP_SYN | US_TCP_FIN, 1, 0, mss1460, 4, NULL, 0); /* SYN+FIN too */
	expect(p, US_TCP_ACK, 1, 1);
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.10.7.4 fifth: "If the ACK acks something not yet sent
 * (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and return";
 * RFC 5961 §5.2. */
START_TEST(ack_of_unsent_data_is_dropped_and_answered_with_an_ack)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint64_t bad = ctr(p, "tcp.drop_bad_ack");
	put(p, US_TCP_ACK | US_TCP_PSH, 1, 1000, "x", 1);
	expect(p, US_TCP_ACK, 1, 1); /* the data was not taken */
	uint8_t b[4];
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), -EAGAIN);
	ck_assert_uint_eq(ctr(p, "tcp.drop_bad_ack"), bad + 1);
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5961 §5.2: acceptable ACKs are SND.UNA - MAX.SND.WND =< SEG.ACK =<
 * SND.NXT; an older one is dropped with its data. A merely duplicate ACK
 * (inside that range) does not stop the data (RFC 9293 §3.10.7.4 fifth: "it
 * can be ignored"). */
START_TEST(ack_older_than_the_max_window_is_dropped_but_a_duplicate_is_not)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint64_t bad = ctr(p, "tcp.drop_bad_ack");
	put(p, US_TCP_ACK | US_TCP_PSH, 1, (uint32_t)(1 - 70000), "old", 3);
	uint8_t b[8];
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), -EAGAIN);
	ck_assert_uint_eq(ctr(p, "tcp.drop_bad_ack"), bad + 1);
	drain(p); /* RFC 5961 says ACK it, the contract says drop: not asserted */
	put(p, US_TCP_ACK | US_TCP_PSH, 1, (uint32_t)(1 - 1000), "dup", 3);
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), 3);
	ck_assert_mem_eq(b, "dup", 3);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5961 §7 / contract: at most 100 challenge ACKs per second per stack. */
START_TEST(challenge_acks_are_limited_to_100_per_second)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	for (int i = 0; i < 150; i++) {
		put(p, US_TCP_RST, 1 + 100 + (uint32_t)i, 0, NULL, 0);
		drain(p);
	}
	ck_assert_uint_eq(ctr(p, "tcp.challenge_acks"), 100);
	ck_assert_uint_eq(ctr(p, "tcp.challenge_acks_limited"), 50);
	ck_state(t, US_TCP_ESTABLISHED);
	later(p, US_MSEC(1100));
	put(p, US_TCP_RST, 1 + 100, 0, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(ctr(p, "tcp.challenge_acks"), 101);
	abort_and_free(p, t);
}
END_TEST

/* ---- No endpoint: RFC 9293 §3.10.7.1 --------------------------------------- */

/* "If the ACK bit is off, sequence number zero is used,
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"; SEG.LEN counts the SYN. */
START_TEST(rst_for_a_syn_to_a_closed_port_acks_the_syn_and_its_data)
{
	struct peer *p = peer_new(US_AF_INET);
	p->c->sport = 81;
	put(p, US_TCP_SYN, 0, 0, "0123456789", 10);
	struct seg *r = next_seg(p);
	ck_assert_int_eq(r->h.flags, US_TCP_RST | US_TCP_ACK);
	ck_assert_uint_eq(r->h.seq, 0);
	ck_assert_uint_eq(rack(p, r), 11);
	ck_assert_uint_eq(r->h.payload_len, 0);
	ck_assert_uint_eq(ctr(p, "tcp.drop_no_socket"), 1);
	ck_assert_uint_eq(ctr(p, "tcp.out_rsts"), 1);
	/* A FIN alone counts one too. */
	put(p, US_TCP_FIN, 5, 0, NULL, 0);
	r = next_seg(p);
	ck_assert_int_eq(r->h.flags, US_TCP_RST | US_TCP_ACK);
	ck_assert_uint_eq(rack(p, r), 6);
	peer_free(p);
}
END_TEST

/* "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"; "An incoming segment
 * containing a RST is discarded." */
START_TEST(rst_for_an_ack_to_a_closed_port_takes_its_seq_from_the_ack_and_rst_gets_none)
{
	struct peer *p = peer_new(US_AF_INET);
	p->c->sport = 81;
	uint8_t buf[64];
	size_t n = build_seg(p, buf, sizeof buf, US_TCP_ACK, 5, 0xdeadbeef, NULL, 0, "ab", 2);
	inject_tcp(p, buf, n);
	struct seg *r = next_seg(p);
	ck_assert_int_eq(r->h.flags, US_TCP_RST);
	ck_assert_uint_eq(r->h.seq, 0xdeadbeef);
	put(p, US_TCP_RST, 0, 0, NULL, 0);
	put(p, US_TCP_RST | US_TCP_ACK, 0, 0, NULL, 0);
	expect_nothing(p);
	ck_assert_uint_eq(ctr(p, "tcp.drop_no_socket"), 3);
	peer_free(p);
}
END_TEST

/* RFC 9293 §3.10.7.2 LISTEN: "second, check for an ACK: Any acknowledgment
 * is bad if it arrives on a connection still in the LISTEN state. An
 * acceptable reset segment should be formed for any arriving ACK-bearing
 * segment ... <SEQ=SEG.ACK><CTL=RST>"; first: "An incoming RST segment
 * could not be valid ... should be ignored". A SYN with a FIN is dropped
 * (Linux does; counted tcp.drop_listen_bad_flags). */
START_TEST(listener_answers_an_ack_with_rst_and_ignores_rst_and_syn_fin)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	uint8_t buf[64];
	size_t n = build_seg(p, buf, sizeof buf, US_TCP_ACK, 5, 0x12345678, NULL, 0, NULL, 0);
	inject_tcp(p, buf, n);
	struct seg *r = next_seg(p);
	ck_assert_int_eq(r->h.flags, US_TCP_RST);
	ck_assert_uint_eq(r->h.seq, 0x12345678);
	put(p, US_TCP_RST, 0, 0, NULL, 0);
	expect_nothing(p);
	uint64_t bad = ctr(p, "tcp.drop_listen_bad_flags");
	put_opt(p, US_TCP_SYN | US_TCP_FIN, 0, 0, mss1460, 4, NULL, 0);
	expect_nothing(p);
	ck_assert_uint_eq(ctr(p, "tcp.drop_listen_bad_flags"), bad + 1);
	ck_assert_uint_eq(table_size(p), 1);
	ck_state(l, US_TCP_LISTEN);
	us_tcp_close(l, p->now);
	peer_free(p);
}
END_TEST

/* ---- Bad input -------------------------------------------------------------- */

/* RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and
 * return". */
START_TEST(segment_without_ack_in_a_synchronized_state_is_dropped)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint64_t before = ctr(p, "tcp.drop_no_ack");
	put(p, US_TCP_PSH, 1, 0, "zzz", 3);
	uint8_t b[8];
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), -EAGAIN);
	ck_assert_uint_eq(ctr(p, "tcp.drop_no_ack"), before + 1);
	later(p, US_SEC(1));
	expect_nothing(p);
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.10.7.4 first: "If an incoming segment is not acceptable, an
 * acknowledgment should be sent in reply (unless the RST bit is set ...)
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After sending the acknowledgment,
 * drop the unacceptable segment and return." */
START_TEST(data_beyond_the_window_or_wholly_old_is_dropped_and_acked)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint64_t before = ctr(p, "tcp.drop_not_acceptable");
	put(p, US_TCP_ACK | US_TCP_PSH, 1 + 65535 + 10, 1, "far", 3);
	expect(p, US_TCP_ACK, 1, 1);
	peer_data(p, "abcdef", 6);
	put(p, US_TCP_ACK | US_TCP_PSH, 1, 1, "abc", 3); /* an old duplicate */
	/* the duplicate is acked at once; the new data at most a delayed ACK later */
	later(p, US_MSEC(50));
	bool saw_dup_ack = false;
	while (pending(p) > 0) {
		struct seg *sg = expect(p, US_TCP_ACK, 1, 7);
		ck_assert_uint_eq(sg->h.payload_len, 0);
		saw_dup_ack = true;
	}
	ck_assert(saw_dup_ack);
	uint8_t b[16];
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), 6);
	ck_assert_mem_eq(b, "abcdef", 6);
	ck_assert_uint_ge(ctr(p, "tcp.drop_not_acceptable"), before + 2);
	abort_and_free(p, t);
}
END_TEST

START_TEST(bad_checksum_is_dropped_and_counted)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint8_t buf[64];
	size_t n = build_seg(p, buf, sizeof buf, US_TCP_ACK | US_TCP_PSH, p->c->iss + 1,
			     p->c->siss + 1, NULL, 0, "data", 4);
	buf[16] ^= 0x01;
	inject_tcp(p, buf, n);
	uint8_t b[8];
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), -EAGAIN);
	ck_assert_uint_eq(ctr(p, "tcp.drop_bad_checksum"), 1);
	later(p, US_SEC(1));
	expect_nothing(p);
	buf[16] ^= 0x01;
	inject_tcp(p, buf, n);
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), 4);
	abort_and_free(p, t);
}
END_TEST

/* wire/tcp.h: TRUNCATED (< 20 bytes), BAD_HDR_LEN (Data Offset < 5),
 * HDR_PAST_END; each dropped and counted before any state is touched. */
START_TEST(truncated_or_impossible_headers_are_dropped_and_counted)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint8_t buf[64];
	size_t n = build_seg(p, buf, sizeof buf, US_TCP_ACK, p->c->iss + 1, p->c->siss + 1, NULL,
			     0, NULL, 0);
	ck_assert_uint_eq(n, 20);
	uint32_t pseudo12 = us_csum_pseudo4(PEER_IP, STACK_IP, US_IPPROTO_TCP, 12);
	uint32_t pseudo20 = us_csum_pseudo4(PEER_IP, STACK_IP, US_IPPROTO_TCP, 20);

	uint8_t shortseg[12];
	memcpy(shortseg, buf, 12);
	/* bytes 10-11 made to balance the sum, so the segment is refused for
	 * its length whether the checksum or the length is checked first */
	us_csum_fill(shortseg, 12, 10, pseudo12);
	inject_tcp(p, shortseg, sizeof shortseg);
	ck_assert_uint_eq(ctr(p, "tcp.drop_truncated"), 1);

	uint8_t off4[20];
	memcpy(off4, buf, 20);
	off4[12] = 0x40; /* Data Offset 4 */
	us_csum_fill(off4, 20, 16, pseudo20);
	inject_tcp(p, off4, sizeof off4);
	ck_assert_uint_eq(ctr(p, "tcp.drop_bad_header"), 1);

	uint8_t off15[20];
	memcpy(off15, buf, 20);
	off15[12] = 0xf0; /* Data Offset 15 in a 20-byte segment */
	us_csum_fill(off15, 20, 16, pseudo20);
	inject_tcp(p, off15, sizeof off15);
	ck_assert_uint_eq(ctr(p, "tcp.drop_bad_header") + ctr(p, "tcp.drop_truncated"), 3);

	expect_nothing(p);
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.1 MUST-7: "TCP implementations MUST be prepared to handle an
 * illegal option length (e.g., zero)": options whose lengths lie are
 * dropped; MUST-6: an unknown kind with a length is skipped; §3.7.1: an MSS
 * option outside a SYN means nothing. */
START_TEST(lying_options_are_dropped_and_unknown_ones_skipped)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	static const uint8_t zero_len[4] = { 2, 0, 5, 0xb4 };
	static const uint8_t past_end[4] = { 1, 1, 8, 10 }; /* timestamps need 10 bytes */
	static const uint8_t mss_len3[4] = { 2, 3, 5, 0 };
	static const uint8_t unknown[8] = { 0xfe, 4, 0xaa, 0xbb, 2, 4, 0x03, 0xe8 }; /* MSS 1000 */
	uint64_t bad = ctr(p, "tcp.drop_bad_header");
	put_opt(p, US_TCP_SYN, 0, 0, zero_len, 4, NULL, 0);
	put_opt(p, US_TCP_SYN, 0, 0, past_end, 4, NULL, 0);
	put_opt(p, US_TCP_SYN, 0, 0, mss_len3, 4, NULL, 0);
	expect_nothing(p);
	ck_assert_uint_eq(ctr(p, "tcp.drop_bad_header"), bad + 3);
	ck_assert_uint_eq(table_size(p), 1);

	put_opt(p, US_TCP_SYN, 0, 0, unknown, 8, NULL, 0);
	expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	p->c->seq = p->c->ack = 1;
	peer_ack(p);
	struct us_tcp *t = accept_one(p, l);
	ck_assert_uint_eq(info_of(t).mss, 1000);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	/* An MSS option on data is ignored: the send MSS stays 1000. */
	static const uint8_t mss100[4] = { 2, 4, 0, 100 };
	put_opt(p, US_TCP_ACK, 1, 1, mss100, 4, NULL, 0);
	ck_assert_uint_eq(info_of(t).mss, 1000);
	uint8_t data[1500];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 1500);
	expect_data(p, 1, 1, 1000);
	expect_data(p, 1001, 1, 500);
	us_tcp_close(l, p->now);
	abort_and_free(p, t);
}
END_TEST

/* Sequence numbers are compared modulo 2^32 (RFC 9293 §3.4): the peer's
 * ISS just below 2^32 makes its stream wrap. */
START_TEST(peer_sequence_numbers_wrapping_past_zero_are_handled)
{
	struct peer *p = peer_new(US_AF_INET);
	p->c->iss = 0xfffffe00u;
	struct us_tcp *t = connect_est(p);
	uint8_t data[1400], got[1400];
	fill(data, sizeof data, 0);
	peer_data(p, data, 700);
	peer_data(p, data + 700, 700); /* crosses 0 */
	later(p, US_MSEC(40));
	struct seg *a = expect(p, US_TCP_ACK, 1, 1401);
	ck_assert_uint_eq(a->h.ack, 889); /* 0xfffffe00 + 1401, modulo 2^32 */
	ck_assert_int_eq(us_tcp_recv(t, p->now, got, sizeof got), 1400);
	check_fill(got, 1400, 0);
	abort_and_free(p, t);
}
END_TEST

/* ---- Timers ----------------------------------------------------------------- */

/* RFC 6298 §2.2 (first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT +
 * max(G, 4 * RTTVAR)), §5.5 (back off: double the RTO), §3 (Karn: "RTT
 * samples MUST NOT be made using segments that were retransmitted"), §2.3
 * (later samples, alpha 1/8, beta 1/4). Seen through the times frames leave. */
START_TEST(rto_doubles_on_each_timeout_and_karn_ignores_retransmitted_samples)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p); /* the SYN took RTT = 100 ms */
	struct us_tcp_info i = info_of(t);
	ck_assert_int_eq(i.srtt_us, 100000);
	ck_assert_int_eq(i.rttvar_us, 50000);
	ck_assert_int_eq(i.rto_us, 300000);

	at(p, US_SEC(1));
	uint8_t data[100];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 100);
	expect_data(p, 1, 1, 100);
	us_time_t sent = p->now, rto = US_MSEC(300);
	us_time_t want = sent;
	for (int k = 0; k < 5; k++) {
		want += rto << k;
		at(p, want - 1);
		expect_nothing(p);
		at(p, want);
		struct seg *r = expect_data(p, 1, 1, 100);
		ck_assert_int_eq(r->t, want);
		i = info_of(t);
		ck_assert_uint_eq(i.backoff, (uint32_t)k + 1);
		ck_assert_uint_eq(i.cwnd, 1460); /* RFC 5681 §3.1: LW = 1 SMSS */
		ck_assert_uint_eq(i.ssthresh, 2920); /* max(FlightSize / 2, 2 * SMSS) */
	}
	ck_assert_uint_eq(ctr(p, "tcp.rto_timeouts"), 5);
	ck_assert_uint_eq(ctr(p, "tcp.retrans_segs"), 5);

	later(p, US_MSEC(10));
	peer_ack_all(p); /* acks a retransmitted segment: no sample */
	i = info_of(t);
	ck_assert_int_eq(i.srtt_us, 100000);
	ck_assert_int_eq(i.rttvar_us, 50000);

	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 100);
	expect_data(p, 101, 1, 100);
	later(p, US_MSEC(50));
	peer_ack_all(p); /* a clean sample of 50 ms */
	i = info_of(t);
	ck_assert_int_eq(i.rttvar_us, 50000); /* 3/4 * 50 + 1/4 * |100 - 50| */
	ck_assert_int_eq(i.srtt_us, 93750);   /* 7/8 * 100 + 1/8 * 50 */
	ck_assert_uint_eq(i.backoff, 0);
	abort_and_free(p, t);
}
END_TEST

/* RFC 6298 §2.1: initial RTO 1 s; contract: at most 6 SYN retransmissions,
 * then ETIMEDOUT: SYNs at 0, 1, 3, 7, 15, 31, 63 s; the next wait would be
 * 64 s but the RTO is capped at 60 s (RFC 6298 §2.5), so the failure comes
 * at 123 s (Linux, whose cap is 120 s, fails at 127 s). */
START_TEST(syn_is_retransmitted_six_times_then_connect_fails_with_etimedout)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	static const int when[] = { 1, 3, 7, 15, 31, 63 };
	for (size_t k = 0; k < 6; k++) {
		at(p, US_SEC(when[k]) - 1);
		expect_nothing(p);
		at(p, US_SEC(when[k]));
		struct seg *s = expect(p, US_TCP_SYN, 0, 0);
		ck_assert_int_eq(s->t, US_SEC(when[k]));
		ck_assert(s->h.opts.has_mss);
	}
	at(p, US_SEC(123) - 1);
	ck_state(t, US_TCP_SYN_SENT);
	at(p, US_SEC(123));
	ck_state(t, US_TCP_CLOSED);
	expect_nothing(p); /* no RST: nothing was synchronized */
	ck_assert(p->ev.seen & US_EV_ERROR);
	ck_assert_int_eq(us_tcp_take_error(t), -ETIMEDOUT);
	ck_assert_uint_eq(ctr(p, "tcp.attempt_fails"), 1);
	us_tcp_close(t, p->now);
	peer_free(p);
}
END_TEST

START_TEST(listener_child_retransmits_its_syn_ack)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	syn_to_listener(p);
	at(p, US_SEC(1));
	expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	at(p, US_SEC(3));
	expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	peer_ack(p);
	struct us_tcp *t = accept_one(p, l);
	ck_state(t, US_TCP_ESTABLISHED);
	us_tcp_close(l, p->now);
	abort_and_free(p, t);
}
END_TEST

/* Contract: at most 12 consecutive timeouts of data, then RST and
 * ETIMEDOUT. Intervals double up to 60 s (RFC 6298 §2.5 allows a maximum). */
START_TEST(data_is_retransmitted_twelve_times_then_reset_with_etimedout)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	at(p, US_SEC(1));
	uint8_t data[100];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 100);
	expect_data(p, 1, 1, 100);
	us_time_t want = p->now, rto = US_MSEC(300);
	for (int k = 0; k < 12; k++) {
		us_time_t iv = rto << k;
		if (iv > US_SEC(60))
			iv = US_SEC(60);
		want += iv;
		at(p, want);
		struct seg *r = expect_data(p, 1, 1, 100);
		ck_assert_msg(r->t == want, "retransmission %d at %lld, expected %lld", k + 1,
			      (long long)r->t, (long long)want);
		ck_state(t, US_TCP_ESTABLISHED);
	}
	want += US_SEC(60);
	at(p, want - 1);
	expect_nothing(p);
	ck_state(t, US_TCP_ESTABLISHED);
	at(p, want);
	expect_rst(p, 101);
	expect_nothing(p);
	ck_state(t, US_TCP_CLOSED);
	ck_assert_int_eq(us_tcp_take_error(t), -ETIMEDOUT);
	ck_assert_uint_eq(ctr(p, "tcp.timeout_drops"), 1);
	us_tcp_close(t, p->now);
	peer_free(p);
}
END_TEST

/* RFC 1122 §4.2.3.2: "an ACK should not be excessively delayed; in
 * particular, the delay MUST be less than 0.5 seconds"; contract: 40 ms. */
START_TEST(delayed_ack_is_sent_within_40_ms_for_a_single_segment)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	later(p, US_SEC(1));
	us_time_t t0 = p->now;
	peer_data(p, "one", 3);
	expect_nothing(p);
	at(p, t0 + US_MSEC(40));
	struct seg *a = expect(p, US_TCP_ACK, 1, 4);
	ck_assert_int_gt(a->t, t0);
	ck_assert_int_le(a->t - t0, US_MSEC(40));
	ck_assert_uint_ge(ctr(p, "tcp.delayed_acks"), 1);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5681 §4.2: "an ACK SHOULD be generated for at least every second
 * full-sized segment". */
START_TEST(every_second_full_sized_segment_is_acked_at_once)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint8_t data[2920];
	fill(data, sizeof data, 0);
	later(p, US_SEC(1));
	peer_data(p, data, 1460);
	expect_nothing(p);
	later(p, US_MSEC(1));
	peer_data(p, data + 1460, 1460);
	struct seg *a = expect(p, US_TCP_ACK, 1, 2921);
	ck_assert_int_eq(a->t, p->now);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5681 §4.2: "A TCP receiver SHOULD send an immediate duplicate ACK
 * when an out-of-order segment arrives" and "an immediate ACK when the
 * incoming segment fills in all or part of a gap"; RFC 9293 §3.10.7.4
 * seventh: out-of-order data is kept and delivered in order. */
START_TEST(out_of_order_segments_are_kept_acked_at_once_and_delivered_in_order)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint8_t data[3000], got[3001];
	fill(data, sizeof data, 0);
	later(p, US_SEC(1));
	put(p, US_TCP_ACK, 1001, 1, data + 1000, 1000);
	expect(p, US_TCP_ACK, 1, 1);
	put(p, US_TCP_ACK, 2001, 1, data + 2000, 1000);
	expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(us_tcp_readable(t), 0);
	ck_assert_uint_ge(ctr(p, "tcp.out_of_order_segs"), 2);
	put(p, US_TCP_ACK, 1, 1, data, 1000);
	expect(p, US_TCP_ACK, 1, 3001);
	ck_assert_uint_eq(us_tcp_readable(t), 3000);
	ck_assert_int_eq(us_tcp_recv(t, p->now, got, sizeof got), 3000);
	check_fill(got, 3000, 0);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.8.6.1 / RFC 1122 §4.2.2.17: probe a zero window, back off,
 * and "MUST NOT close the connection ... as long as the receiving TCP
 * continues to send acknowledgments in response to the probe segments". */
START_TEST(persist_probes_a_zero_window_backing_off_without_giving_up)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	p->c->win = 0;
	peer_ack(p);
	later(p, US_SEC(1));
	uint8_t data[100];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 100);
	expect_nothing(p);
	us_time_t rto = info_of(t).rto_us, last = p->now, iv = rto;
	for (int k = 0; k < 15; k++) {
		at(p, last + iv - 1);
		expect_nothing(p);
		at(p, last + iv);
		struct seg *pr = expect(p, US_TCP_ACK, 1, 1);
		ck_assert_uint_eq(pr->h.payload_len, 1);
		ck_assert_uint_eq(pr->h.payload[0], data[0]);
		last = p->now;
		peer_ack(p); /* still a zero window */
		iv = iv * 2 > US_SEC(60) ? US_SEC(60) : iv * 2;
	}
	ck_state(t, US_TCP_ESTABLISHED);
	ck_assert_uint_eq(ctr(p, "tcp.persist_probes"), 15);
	p->c->win = 65535;
	peer_ack(p);
	/* The rest leaves at once: from 1, or from 2 when the probe byte counts as sent. */
	struct seg *sg = next_seg(p);
	ck_assert_msg((rseq(p, sg) == 1 && sg->h.payload_len == 100) ||
			      (rseq(p, sg) == 2 && sg->h.payload_len == 99),
		      "after the window opened: seq %u len %zu", rseq(p, sg), sg->h.payload_len);
	abort_and_free(p, t);
}
END_TEST

/* RFC 1122 §4.2.3.6 with the contract's probe (seq SND.UNA - 1, no data):
 * idle, interval and count from the socket options; unanswered: RST and
 * ETIMEDOUT. */
START_TEST(keepalive_probes_an_idle_connection_then_times_out_with_rst)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	us_time_t idle_from = p->now;
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_KEEPIDLE, 10), 0);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_KEEPINTVL, 2), 0);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_KEEPCNT, 3), 0);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_KEEPALIVE, 1), 0);
	int v = 0;
	ck_assert_int_eq(us_tcp_getopt(t, US_OPT_KEEPALIVE, &v), 0);
	ck_assert_int_eq(v, 1);
	static const int when[] = { 10, 12, 14 };
	for (int k = 0; k < 3; k++) {
		at(p, idle_from + US_SEC(when[k]) - 1);
		expect_nothing(p);
		at(p, idle_from + US_SEC(when[k]));
		struct seg *pr = expect(p, US_TCP_ACK, 0, 1);
		ck_assert_uint_eq(pr->h.payload_len, 0);
	}
	ck_assert_uint_eq(ctr(p, "tcp.keepalive_probes"), 3);
	at(p, idle_from + US_SEC(16) - 1);
	ck_state(t, US_TCP_ESTABLISHED);
	at(p, idle_from + US_SEC(16));
	expect_rst(p, 1);
	ck_state(t, US_TCP_CLOSED);
	ck_assert_int_eq(us_tcp_take_error(t), -ETIMEDOUT);
	us_tcp_close(t, p->now);
	peer_free(p);
}
END_TEST

START_TEST(keepalive_answered_waits_the_full_idle_time_again)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	us_time_t idle_from = p->now;
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_KEEPALIVE, 1), 0); /* 7200 s, 75 s, 9 */
	at(p, idle_from + US_SEC(7200) - 1);
	expect_nothing(p);
	at(p, idle_from + US_SEC(7200));
	expect(p, US_TCP_ACK, 0, 1);
	peer_ack(p); /* the answer */
	us_time_t answered = p->now;
	at(p, answered + US_SEC(7200) - 1);
	expect_nothing(p);
	at(p, answered + US_SEC(7200));
	expect(p, US_TCP_ACK, 0, 1);
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* ---- Modern TCP: RFC 7323, RFC 2018 (docs/tcp-modern.md) -------------------- */

/* NOP, NOP, TSopt (RFC 7323 Appendix A's layout). */
static void ts_opt(uint8_t o[12], uint32_t val, uint32_t ecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	us_put_be32(o + 4, val);
	us_put_be32(o + 8, ecr);
}

/* connect_syn, then a SYN-ACK that answers every option (wscale 7, SACK,
 * TSopt val 500 echoing the SYN's TSval); returns the SYN's TSval. */
static struct us_tcp *connect_modern(struct peer *p, uint32_t *syn_tsval)
{
	struct us_tcp *t = tcp_open(p);
	struct us_addr to = peer_addr(p, p->c->port);
	ck_assert_int_eq(us_tcp_connect(t, p->now, &to), -EINPROGRESS);
	struct seg *syn = expect(p, US_TCP_SYN, 0, 0);
	ck_assert(syn->h.opts.has_ts);
	*syn_tsval = syn->h.opts.ts_val;
	later(p, RTT);
	uint8_t o[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2 };
	uint8_t ts[12];
	ts_opt(ts, 500, *syn_tsval);
	uint8_t all[24];
	memcpy(all, o, 12);
	memcpy(all + 12, ts, 12);
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, all, 24, NULL, 0);
	struct seg *ack = expect(p, US_TCP_ACK, 1, 1);
	/* RFC 7323 §4.3 (3): TSecr is TS.Recent, the SYN-ACK's TSval; §2.3:
	 * the window is scaled from here on (262144 >> 3). */
	ck_assert(ack->h.opts.has_ts);
	ck_assert_uint_eq(ack->h.opts.ts_ecr, 500);
	ck_assert_uint_eq(ack->h.window, 32768);
	ck_state(t, US_TCP_ESTABLISHED);
	p->c->seq = 1;
	p->c->ack = 1;
	return t;
}

/* RFC 7323 §2.2-2.3, §3.2 and RFC 2018 §2: a SYN-ACK that answers the
 * options turns them on; the peer's windows are then scaled by its shift. */
START_TEST(active_open_negotiates_window_scale_timestamps_and_sack)
{
	struct peer *p = peer_new(US_AF_INET);
	uint32_t tsv;
	struct us_tcp *t = connect_modern(p, &tsv);
	struct us_tcp_info i = info_of(t);
	ck_assert(i.wscale_ok && i.ts_ok && i.sack_ok);
	ck_assert_uint_eq(i.snd_wscale, 7);
	ck_assert_uint_eq(i.rcv_wscale, 3);
	/* RFC 6691 §2: 12 bytes of TSopt come off every segment. */
	ck_assert_uint_eq(i.mss, 1448);
	/* "win 2" means 2 << 7 = 256 bytes: only that much leaves. */
	uint8_t ts[12];
	ts_opt(ts, 510, tsv);
	p->c->win = 2;
	put_opt(p, US_TCP_ACK, 1, 1, ts, 12, NULL, 0);
	ck_assert_uint_eq(info_of(t).snd_wnd, 256);
	static uint8_t data[1000];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 1000);
	struct seg *sg = expect_data(p, 1, 1, 256);
	ck_assert(sg->h.opts.has_ts);
	ck_assert_uint_eq(sg->h.opts.ts_ecr, 510);
	expect_nothing(p);
	abort_and_free(p, t);
}
END_TEST

/* Each option can be switched off per socket before the SYN leaves, and is
 * then not offered; after it, the options are fixed (-EISCONN). */
START_TEST(options_switched_off_per_socket_are_not_offered)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = tcp_open(p);
	int v = -1;
	ck_assert_int_eq(us_tcp_getopt(t, US_OPT_SACK, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_WSCALE, 0), 0);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_TIMESTAMPS, 0), 0);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_SACK, 0), 0);
	ck_assert_int_eq(us_tcp_getopt(t, US_OPT_SACK, &v), 0);
	ck_assert_int_eq(v, 0);
	struct us_addr to = peer_addr(p, p->c->port);
	ck_assert_int_eq(us_tcp_connect(t, p->now, &to), -EINPROGRESS);
	struct seg *syn = expect(p, US_TCP_SYN, 0, 0);
	ck_assert(syn->h.opts.has_mss);
	ck_assert(!syn->h.opts.has_wscale && !syn->h.opts.sack_permitted && !syn->h.opts.has_ts);
	ck_assert_uint_eq(syn->h.hdr_len, 24);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_SACK, 1), -EISCONN);
	/* A peer that offers them anyway gets none. */
	later(p, RTT);
	uint8_t o[12] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2 };
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, o, 12, NULL, 0);
	struct seg *ack = expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(ack->h.hdr_len, 20);
	struct us_tcp_info i = info_of(t);
	ck_assert(!i.wscale_ok && !i.ts_ok && !i.sack_ok);
	abort_and_free(p, t);
}
END_TEST

/* RFC 7323 §5.3 R1 drops an old timestamp with an ACK; §5.5: after 24 days
 * of idleness TS.Recent is no longer valid and the same segment is taken. */
START_TEST(paws_drops_an_old_timestamp_until_ts_recent_is_24_days_old)
{
	struct peer *p = peer_new(US_AF_INET);
	uint32_t tsv;
	struct us_tcp *t = connect_modern(p, &tsv);
	uint8_t ts[12];
	ts_opt(ts, 400, tsv); /* older than TS.Recent (500) */
	later(p, US_MSEC(10));
	put_opt(p, US_TCP_ACK | US_TCP_PSH, 1, 1, ts, 12, "abc", 3);
	struct seg *a = expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(a->h.opts.ts_ecr, 500);
	ck_assert_uint_eq(us_tcp_readable(t), 0);
	ck_assert_uint_eq(ctr(p, "tcp.drop_paws"), 1);
	ck_assert_uint_eq(info_of(t).paws_drops, 1);
	/* 24 days and a second later, the old clock value is accepted. */
	later(p, US_SEC(24 * 24 * 3600 + 1));
	put_opt(p, US_TCP_ACK | US_TCP_PSH, 1, 1, ts, 12, "abc", 3);
	ck_assert_uint_eq(us_tcp_readable(t), 3);
	ck_assert_uint_eq(ctr(p, "tcp.drop_paws"), 1);
	later(p, US_MSEC(40));
	a = expect(p, US_TCP_ACK, 1, 4);
	ck_assert_uint_eq(a->h.opts.ts_ecr, 400); /* TS.Recent is the new one */
	abort_and_free(p, t);
}
END_TEST

/* RFC 7323 §4.1: the TSecr of an ACK of new data is an RTT sample (here 30
 * ms, against the handshake's 100 ms), even for a retransmitted segment. */
START_TEST(timestamps_give_rtt_samples_from_the_echoed_tsval)
{
	struct peer *p = peer_new(US_AF_INET);
	uint32_t tsv;
	struct us_tcp *t = connect_modern(p, &tsv);
	ck_assert_int_eq(info_of(t).srtt_us, RTT);
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"hello", 5), 5);
	struct seg *sg = expect_data(p, 1, 1, 5);
	uint32_t echo = sg->h.opts.ts_val;
	later(p, US_MSEC(30));
	uint8_t ts[12];
	ts_opt(ts, 530, echo);
	p->c->ack = 6;
	put_opt(p, US_TCP_ACK, 1, 6, ts, 12, NULL, 0);
	/* RFC 6298 (2.3): SRTT = 7/8 * 100 + 1/8 * 30 ms. */
	ck_assert_int_eq(info_of(t).srtt_us, US_USEC(91250));
	/* An echo of a value we never sent (0, or from the future) is no
	 * sample: the segment's own timing (RFC 6298 §3) gives one instead,
	 * 60 ms: SRTT = 91250 + (60000 - 91250) / 8. */
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"x", 1), 1);
	expect_data(p, 6, 1, 1);
	later(p, US_MSEC(60));
	ts_opt(ts, 560, 0);
	put_opt(p, US_TCP_ACK, 1, 7, ts, 12, NULL, 0);
	ck_assert_int_eq(info_of(t).srtt_us, US_USEC(87344));
	abort_and_free(p, t);
}
END_TEST

/* RFC 2018 §4 on our ACKs: the block of the segment that triggered the ACK
 * first; RFC 2883: a duplicate is reported once, in the first block. */
START_TEST(out_of_order_data_is_reported_in_sack_blocks_most_recent_first)
{
	struct peer *p = peer_new(US_AF_INET);
	uint32_t tsv;
	struct us_tcp *t = connect_modern(p, &tsv);
	uint8_t ts[12];
	ts_opt(ts, 600, tsv);
	static uint8_t d[100];
	put_opt(p, US_TCP_ACK, 101, 1, ts, 12, d, 100);
	struct seg *a = expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(a->h.opts.sack_count, 1);
	ck_assert_uint_eq(a->h.opts.sack[0].left - p->c->iss, 101);
	put_opt(p, US_TCP_ACK, 301, 1, ts, 12, d, 100);
	a = expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(a->h.opts.sack_count, 2);
	ck_assert_uint_eq(a->h.opts.sack[0].left - p->c->iss, 301);
	ck_assert_uint_eq(a->h.opts.sack[1].left - p->c->iss, 101);
	put_opt(p, US_TCP_ACK, 101, 1, ts, 12, d, 100); /* a duplicate */
	a = expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(a->h.opts.sack_count, 3);
	ck_assert_uint_eq(a->h.opts.sack[0].left - p->c->iss, 101); /* D-SACK */
	ck_assert_uint_eq(a->h.opts.sack[0].right - p->c->iss, 201);
	ck_assert_uint_eq(ctr(p, "tcp.dsacks_sent"), 0); /* above RCV.NXT */
	put_opt(p, US_TCP_ACK, 301, 1, ts, 12, d, 100);
	a = expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(a->h.opts.sack_count, 3);
	ck_assert_uint_eq(a->h.opts.sack[1].left - p->c->iss, 301);
	ck_assert_uint_ge(info_of(t).sack_blocks_sent, 9);
	abort_and_free(p, t);
}
END_TEST

/* ---- Sending: congestion control, Nagle, MSS ---------------------------------- */

#define SEG(k) (1u + ((uint32_t)(k) - 1u) * 1460u) /* relative seq of full segment k */

/* RFC 6928 §2: IW 10 segments; slow start (RFC 5681 §3.1) adds one SMSS
 * per ACK. */
START_TEST(initial_window_is_ten_segments_and_slow_start_grows_it)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	static uint8_t data[20 * 1460];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), (int)sizeof data);
	for (int k = 1; k <= 10; k++)
		expect_data(p, SEG(k), 1, 1460);
	expect_nothing(p);
	later(p, RTT);
	p->c->ack = SEG(2);
	peer_ack(p);
	ck_assert_uint_eq(info_of(t).cwnd, 16060);
	expect_data(p, SEG(11), 1, 1460);
	expect_data(p, SEG(12), 1, 1460);
	expect_nothing(p);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5681 §3.2: on the third duplicate ACK, retransmit at once,
 * ssthresh = max(FlightSize / 2, 2 * SMSS); RFC 6582 §3.2 step 5: a partial
 * ACK during recovery retransmits the first unacknowledged segment at once;
 * step 6: a full ACK ends recovery with cwnd <= ssthresh. */
START_TEST(third_dup_ack_fast_retransmits_and_newreno_partial_ack_resends_the_next_hole)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	static uint8_t data[30 * 1460];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), (int)sizeof data);
	for (int k = 1; k <= 10; k++) /* RFC 6928 IW */
		expect_data(p, SEG(k), 1, 1460);
	later(p, RTT);
	p->c->ack = SEG(2);
	peer_ack(p); /* cwnd 16060: segments 11, 12 */
	expect_data(p, SEG(11), 1, 1460);
	expect_data(p, SEG(12), 1, 1460);
	later(p, US_MSEC(1));
	p->c->ack = SEG(3);
	peer_ack(p); /* cwnd 17520: segments 13, 14; 3..14 in flight */
	expect_data(p, SEG(13), 1, 1460);
	expect_data(p, SEG(14), 1, 1460);
	expect_nothing(p);

	/* Segments 3 and 5 are lost; the others arrive: three duplicate ACKs
	 * (the peer here does not do SACK: NewReno). The first two may send
	 * new data (RFC 3042 limited transmit). */
	later(p, RTT);
	uint32_t next_new = SEG(15);
	for (int d = 1; d <= 2; d++) {
		peer_ack(p);
		while (pending(p) > 0) {
			struct seg *sg = expect_data(p, next_new, 1, 1460);
			(void)sg;
			next_new += 1460;
		}
	}
	bool limited = next_new != SEG(15);
	peer_ack(p);
	bool retransmitted = false;
	while (pending(p) > 0) {
		struct seg *sg = next_seg(p);
		if (rseq(p, sg) == SEG(3)) {
			ck_assert_uint_eq(sg->h.payload_len, 1460);
			retransmitted = true;
		}
	}
	ck_assert_msg(retransmitted, "no fast retransmit of segment 3 on the third dup ACK");
	ck_assert_uint_eq(ctr(p, "tcp.fast_retransmits"), 1);
	ck_assert_uint_ge(ctr(p, "tcp.dup_acks"), 3);
	struct us_tcp_info i = info_of(t);
	if (!limited)
		ck_assert_uint_eq(i.ssthresh, 8760); /* max(12 * 1460 / 2, 2920) */
	ck_assert_uint_ge(i.ssthresh, 2920);

	/* More dup ACKs (for segments sent meanwhile) inflate cwnd; then the
	 * retransmitted 3 arrives: a partial ACK up to the hole at 5. */
	later(p, RTT);
	p->c->ack = SEG(5);
	peer_ack(p);
	retransmitted = false;
	while (pending(p) > 0) {
		struct seg *sg = next_seg(p);
		if (rseq(p, sg) == SEG(5)) {
			ck_assert_int_eq(sg->t, p->now);
			retransmitted = true;
		}
	}
	ck_assert_msg(retransmitted, "no retransmission of segment 5 on the partial ACK");

	/* The full ACK ends recovery. */
	later(p, RTT);
	p->c->ack = p->c->high;
	peer_ack(p);
	i = info_of(t);
	ck_assert_uint_le(i.cwnd, i.ssthresh);
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* ---- Tail Loss Probe (RFC 8985 §7) ------------------------------------------- */

/* connect_syn, then a SYN-ACK with MSS 1460 and SACK-permitted only. */
static struct us_tcp *connect_sack(struct peer *p)
{
	struct us_tcp *t = connect_syn(p);
	later(p, RTT);
	static const uint8_t o[8] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2 };
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, o, 8, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	ck_assert(info_of(t).sack_ok);
	p->c->seq = 1;
	p->c->ack = 1;
	return t;
}

/* The peer's ACK of c->ack with one SACK block [left, right) (relative). */
static void peer_sack(struct peer *p, uint32_t left, uint32_t right)
{
	uint8_t o[12] = { 1, 1, 5, 10 };
	us_put_be32(o + 4, p->c->siss + left);
	us_put_be32(o + 8, p->c->siss + right);
	put_opt(p, US_TCP_ACK, p->c->seq, p->c->ack, o, sizeof o, NULL, 0);
}

/* Five segments, the last two lost: RFC 8985 §7.2's PTO (2 * SRTT after
 * the last ACK of new data) sends the last segment again; its SACK shows
 * the hole below it lost (§6.2) and fast recovery resends it. No RTO. */
START_TEST(tail_loss_probe_resends_the_last_segment_and_its_sack_starts_recovery)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_sack(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	static uint8_t data[5 * 1460];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), (int)sizeof data);
	for (int k = 1; k <= 5; k++)
		expect_data(p, SEG(k), 1, 1460);
	later(p, RTT);
	p->c->ack = SEG(4);
	peer_ack(p); /* SRTT stays 100 ms: the PTO is 200 ms */
	us_time_t acked_at = p->now;
	expect_nothing(p);
	later(p, US_MSEC(199));
	expect_nothing(p);
	later(p, US_MSEC(1));
	struct seg *probe = expect_data(p, SEG(5), 1, 1460);
	ck_assert_int_eq(probe->t, acked_at + US_MSEC(200));
	ck_assert_uint_eq(ctr(p, "tcp.tlp_probes"), 1);
	ck_assert_uint_eq(info_of(t).tlp_probes, 1);
	later(p, RTT);
	peer_sack(p, SEG(5), SEG(6));
	expect_data(p, SEG(4), 1, 1460);
	ck_assert_uint_eq(ctr(p, "tcp.tlp_loss_detected"), 1);
	ck_assert(info_of(t).in_recovery);
	later(p, RTT);
	p->c->ack = SEG(6);
	peer_ack(p);
	expect_nothing(p);
	later(p, US_SEC(5));
	expect_nothing(p);
	struct us_tcp_info i = info_of(t);
	ck_assert(!i.in_recovery);
	ck_assert_uint_eq(i.rto_timeouts, 0);
	ck_assert_uint_eq(i.tlp_recoveries, 1);
	abort_and_free(p, t);
}
END_TEST

/* Without SACK there is no probe (RFC 8985 needs it): the RTO repairs
 * the same loss, 250 ms after the ACK. */
START_TEST(without_sack_a_tail_loss_waits_for_the_rto)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	static uint8_t data[5 * 1460];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), (int)sizeof data);
	for (int k = 1; k <= 5; k++)
		expect_data(p, SEG(k), 1, 1460);
	later(p, RTT);
	p->c->ack = SEG(4);
	peer_ack(p);
	us_time_t acked_at = p->now;
	later(p, US_MSEC(249));
	expect_nothing(p);
	later(p, US_MSEC(1));
	struct seg *sg = expect_data(p, SEG(4), 1, 1460);
	ck_assert_int_eq(sg->t, acked_at + US_MSEC(250));
	ck_assert_uint_eq(ctr(p, "tcp.tlp_probes"), 0);
	ck_assert_uint_eq(info_of(t).rto_timeouts, 1);
	abort_and_free(p, t);
}
END_TEST

/* A flight of one segment: the PTO adds WCDelAckT (200 ms) and is capped
 * by the RTO (§7.2.1): the probe goes at the RTO's time in its place, and
 * the window is not collapsed to one segment. An ACK beyond TLPHighRxt then
 * says the probe repaired a loss (§7.4): the window is halved. */
START_TEST(a_lone_lost_segment_is_probed_at_the_rto_time_without_collapsing_the_window)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_sack(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	static uint8_t data[4 * 1460];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, 2 * 1460), 2 * 1460);
	expect_data(p, SEG(1), 1, 1460);
	expect_data(p, SEG(2), 1, 1460);
	later(p, RTT);
	p->c->ack = SEG(2);
	peer_ack(p); /* RTO 250 ms; PTO 2 * 100 + 200 ms */
	us_time_t acked_at = p->now;
	later(p, US_MSEC(250));
	struct seg *probe = expect_data(p, SEG(2), 1, 1460);
	ck_assert_int_eq(probe->t, acked_at + US_MSEC(250));
	struct us_tcp_info i = info_of(t);
	ck_assert_uint_eq(i.tlp_probes, 1);
	ck_assert_uint_eq(i.rto_timeouts, 0);
	uint32_t cwnd = i.cwnd;
	ck_assert_uint_ge(cwnd, 10 * 1460);
	later(p, RTT);
	p->c->ack = SEG(3);
	peer_ack(p);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, 2 * 1460), 2 * 1460);
	expect_data(p, SEG(3), 1, 1460);
	expect_data(p, SEG(4), 1, 1460);
	later(p, RTT);
	p->c->ack = SEG(5);
	peer_ack(p);
	i = info_of(t);
	ck_assert_uint_lt(i.cwnd, cwnd);
	ck_assert_uint_eq(ctr(p, "tcp.tlp_repairs"), 1);
	abort_and_free(p, t);
}
END_TEST

/* ---- Congestion control (tcp_cc.c) ----------------------------------------------- */

/* An established connection switched to CUBIC. */
static struct us_tcp *connect_cubic(struct peer *p)
{
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_CONGESTION, US_TCP_CC_CUBIC), 0);
	return t;
}

/* RFC 9438 §4.2's W_cubic(t) = C * (t - K)^3 + W_max in segments and
 * seconds, with K = cubic_root(W_max * (1 - beta) / C), in doubles: the
 * RFC's own arithmetic, against the core's integer one. */
static double w_cubic(double w_max, double t)
{
	double x = w_max * (1 - 0.7) / 0.4, k = x;
	for (int i = 0; i < 100; i++) /* Newton: k = cbrt(x) */
		k = k - (k * k * k - x) / (3 * k * k);
	return 0.4 * (t - k) * (t - k) * (t - k) + w_max;
}

/* CUBIC after a loss at W_max = 1000 segments: ssthresh = cwnd = 700
 * (beta 0.7), then, with one ACK per segment and a 100 ms RTT, the window
 * climbs concave to W_max at t = K (9.09 s), stays near it, then grows
 * convex: within 3% of W_cubic(t) at every round trip over 15 s. */
START_TEST(cubic_window_follows_w_cubic_over_virtual_time)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_cubic(p);
	int v = -1;
	ck_assert_int_eq(us_tcp_getopt(t, US_OPT_CONGESTION, &v), 0);
	ck_assert_int_eq(v, US_TCP_CC_CUBIC);
	ck_assert_int_eq(info_of(t).cc, US_TCP_CC_CUBIC);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_CONGESTION, 7), -EINVAL);
	const uint32_t mss = 1460;
	t->cwnd = 1000 * mss;
	t->ssthresh = t->cc->on_congestion(t, mss);
	ck_assert_uint_eq(t->ssthresh, 700 * mss);
	t->cwnd = t->ssthresh;
	ck_assert_int_eq(t->srtt, RTT);
	us_time_t start = p->now;
	bool below = false, above = false;
	for (int round = 1; round <= 150; round++) {
		uint32_t n = t->cwnd / mss;
		for (uint32_t i = 0; i < n; i++)
			t->cc->on_ack(t, mss, mss);
		double sec = (double)(p->now - start) / 1e6;
		double want = w_cubic(1000, sec + 0.1);
		double got = (double)t->cwnd / mss;
		ck_assert_msg(got > want * 0.97 && got < want * 1.03,
			      "at %.1f s cwnd is %.1f segments, W_cubic(t + RTT) %.1f", sec, got,
			      want);
		below |= sec < 8 && got < 990;
		above |= sec > 12 && got > 1050;
		later(p, RTT);
	}
	ck_assert(below && above);
	/* The core's K: cbrt(300 / 0.4) s. */
	ck_assert_int_eq(us_tcp_cubic_k(1000 * mss, 700 * mss, mss) / 1000, 9085);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5681 §3.1's RECOMMENDED byte counting (RFC 3465 §2.1): a receiver
 * that acknowledges every second segment (half as many ACKs) still grows
 * NewReno's window by one SMSS per window of acknowledged bytes, not by
 * half of one as SMSS*SMSS/cwnd per ACK would. */
START_TEST(newreno_congestion_avoidance_counts_bytes_not_acks)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(info_of(t).cc, US_TCP_CC_NEWRENO);
	const uint32_t mss = 1460;
	t->cwnd = 20 * mss;
	t->ssthresh = 10 * mss;
	for (int i = 0; i < 9; i++)
		t->cc->on_ack(t, 2 * mss, mss);
	ck_assert_uint_eq(t->cwnd, 20 * mss); /* 18 of 20 segments counted */
	t->cc->on_ack(t, 2 * mss, mss);
	ck_assert_uint_eq(t->cwnd, 21 * mss);
	/* The count starts again from what is left over (none here), and a
	 * congestion event drops what was counted. */
	for (int i = 0; i < 10; i++)
		t->cc->on_ack(t, 2 * mss, mss);
	ck_assert_uint_eq(t->cwnd, 21 * mss); /* 20 of 21 */
	t->ssthresh = t->cc->on_congestion(t, mss);
	t->cwnd = t->ssthresh;
	t->cc->on_ack(t, mss, mss);
	ck_assert_uint_eq(t->cwnd, t->ssthresh);
	abort_and_free(p, t);
}
END_TEST

/* After a recovery that left cwnd below ssthresh, CUBIC's slow start
 * (with HyStart++'s L = 8 segments per ACK) stops at ssthresh, even when
 * one ACK covers more: the window must not come back above the
 * multiplicative decrease's ssthresh in one step. */
START_TEST(cubic_slow_start_after_recovery_stops_at_ssthresh)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_cubic(p);
	const uint32_t mss = 1460;
	t->cwnd = 18 * mss;
	t->ssthresh = t->cc->on_congestion(t, mss);
	ck_assert_uint_eq(t->ssthresh, 18 * mss * 7 / 10);
	t->cwnd = 3 * mss;
	t->cc->on_ack(t, 20 * mss, mss);
	ck_assert_uint_eq(t->cwnd, 11 * mss); /* + L * SMSS */
	t->cc->on_ack(t, 20 * mss, mss);
	ck_assert_uint_eq(t->cwnd, t->ssthresh);
	abort_and_free(p, t);
}
END_TEST

/* HyStart++ (RFC 9406): in slow start, a round whose minimum RTT is
 * RttThresh above the last round's enters Conservative Slow Start (growth
 * divided by 4), and CSS_ROUNDS (5) such rounds end slow start
 * (ssthresh = cwnd). */
START_TEST(hystart_plus_plus_leaves_slow_start_when_the_rtt_grows)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_cubic(p);
	const uint32_t mss = 1460;
	ck_assert_uint_eq(t->ssthresh, UINT32_MAX);
	/* Rounds of 8 RTT samples and 8 ACKs each; the round ends when
	 * SND.UNA passes window_end (here: moved by hand). */
	us_time_t rtt = US_MSEC(100);
	for (int round = 0; round < 12 && !t->cubic.hystart_done; round++) {
		if (round >= 2)
			rtt = US_MSEC(120); /* the queue builds: +20 ms > 100/8 */
		t->snd_max += 8 * mss;
		t->snd_una = t->cubic.window_end;
		uint32_t before = t->cwnd;
		for (int i = 0; i < 8; i++) {
			t->cc->on_rtt(t, rtt);
			t->cc->on_ack(t, mss, mss);
		}
		if (round == 1)
			ck_assert_uint_eq(t->cwnd - before, 8 * mss); /* slow start */
		if (t->cubic.css && round >= 3)
			ck_assert_uint_eq(t->cwnd - before, 8 * mss / 4);
	}
	ck_assert(t->cubic.hystart_done);
	/* ssthresh = cwnd at the exit; this round's ACKs then grew cwnd a
	 * little in congestion avoidance. */
	ck_assert_uint_le(t->ssthresh, t->cwnd);
	ck_assert_uint_lt(t->cwnd - t->ssthresh, mss);
	ck_assert_uint_eq(ctr(p, "tcp.hystart_css_entered"), 1);
	ck_assert_uint_eq(ctr(p, "tcp.hystart_slow_start_exits"), 1);
	abort_and_free(p, t);
}
END_TEST

/* RFC 7661: an application-limited sender (pipeACK < cwnd / 2) keeps its
 * window, does not grow it, and after five minutes in the non-validated
 * phase halves it (not below IW). */
START_TEST(an_application_limited_window_is_kept_not_grown_and_halved_after_five_minutes)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	t->cwnd = 100 * 1460;
	uint32_t cwnd = 0;
	for (int i = 0; i < 40; i++) {
		if (i == 20) /* in the non-validated phase by now */
			cwnd = t->cwnd;
		ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"x", 1), 1);
		drain(p);
		later(p, RTT);
		p->c->ack = (uint32_t)i + 2;
		peer_ack(p);
	}
	struct us_tcp_info i = info_of(t);
	ck_assert(!i.cwnd_validated);
	ck_assert_uint_gt(i.pipeack, 0);
	ck_assert_uint_eq(i.cwnd, cwnd);
	ck_assert_uint_ge(ctr(p, "tcp.cwv_non_validated"), 1);
	later(p, US_SEC(301));
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"x", 1), 1);
	drain(p);
	ck_assert_uint_eq(info_of(t).cwnd, cwnd / 2);
	ck_assert_uint_eq(ctr(p, "tcp.cwv_nvp_cwnd_halved"), 1);
	abort_and_free(p, t);
}
END_TEST

/* RFC 1122 §4.2.3.4: "If there is unacknowledged data (i.e., SND.NXT >
 * SND.UNA), then the sending TCP buffers all user data (regardless of the
 * PSH bit), until the outstanding data has been acknowledged or until the
 * TCP can send a full-sized segment". */
START_TEST(nagle_holds_small_segments_while_data_is_unacknowledged)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint8_t data[1500];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, 10), 10);
	expect_data(p, 1, 1, 10);
	ck_assert_int_eq(us_tcp_send(t, p->now, data + 10, 10), 10);
	expect_nothing(p);
	ck_assert_int_eq(us_tcp_send(t, p->now, data + 20, 1460), 1460);
	expect_data(p, 11, 1, 1460); /* a full-sized segment may go */
	expect_nothing(p);	      /* the last 10 bytes wait */
	later(p, RTT);
	p->c->ack = 11;
	peer_ack(p);
	expect_nothing(p); /* 1460 still unacknowledged */
	p->c->ack = 1471;
	peer_ack(p);
	struct seg *sg = expect_data(p, 1471, 1, 10);
	check_fill(sg->h.payload, 10, 1470);
	abort_and_free(p, t);
}
END_TEST

START_TEST(nodelay_sends_small_segments_at_once)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	int v = 0;
	ck_assert_int_eq(us_tcp_getopt(t, US_OPT_NODELAY, &v), 0);
	ck_assert_int_eq(v, 1);
	uint8_t data[30];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, 10), 10);
	ck_assert_int_eq(us_tcp_send(t, p->now, data + 10, 10), 10);
	ck_assert_int_eq(us_tcp_send(t, p->now, data + 20, 10), 10);
	expect_data(p, 1, 1, 10);
	expect_data(p, 11, 1, 10);
	expect_data(p, 21, 1, 10);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.7.1: "If an MSS Option is not received at connection setup,
 * TCP implementations MUST assume a default send MSS of 536 (576 - 40) for
 * IPv4" (MUST-15). RFC 5681 §3.1: IW = 4 * SMSS when SMSS <= 1095. */
START_TEST(send_mss_defaults_to_536_without_the_option)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	later(p, RTT);
	put(p, US_TCP_SYN | US_TCP_ACK, 0, 1, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(info_of(t).mss, 536);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	uint8_t data[2000];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 2000);
	expect_data(p, 1, 1, 536);
	expect_data(p, 537, 1, 536);
	expect_data(p, 1073, 1, 536);
	expect_data(p, 1609, 1, 392);
	abort_and_free(p, t);
}
END_TEST

/* Contract: send MSS = min(the peer's option, MTU - headers). */
START_TEST(send_mss_is_clamped_to_our_mtu)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	static const uint8_t mss9000[4] = { 2, 4, 0x23, 0x28 };
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss9000, 4, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	ck_assert_uint_eq(info_of(t).mss, 1460);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	uint8_t data[3000];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 3000);
	expect_data(p, 1, 1, 1460);
	expect_data(p, 1461, 1, 1460);
	expect_data(p, 2921, 1, 80);
	abort_and_free(p, t);
}
END_TEST

/* ---- Receiving: the window ---------------------------------------------------- */

/* An active open with an 8192-byte receive buffer; the peer fills it: the
 * last ACK offers a zero window. */
static struct us_tcp *fill_an_8k_window(struct peer *p, uint8_t *data)
{
	struct us_tcp *t = tcp_open(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_RCVBUF, 8192), 0);
	struct us_addr to = peer_addr(p, p->c->port);
	ck_assert_int_eq(us_tcp_connect(t, p->now, &to), -EINPROGRESS);
	struct seg *syn = expect(p, US_TCP_SYN, 0, 0);
	ck_assert_uint_eq(syn->h.window, 8192); /* min(free buffer, 65535) */
	later(p, RTT);
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss1460, 4, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	p->c->seq = p->c->ack = 1;
	fill(data, 8192 + 100, 0);
	for (size_t off = 0; off < 8192; off += 1460)
		peer_data(p, data + off, off + 1460 <= 8192 ? 1460 : 8192 - off);
	later(p, US_MSEC(40));
	struct seg *last = NULL;
	while (pending(p) > 0)
		last = next_seg(p);
	ck_assert_ptr_nonnull(last);
	ck_assert_uint_eq(rack(p, last), 8193);
	ck_assert_uint_eq(last->h.window, 0);
	return t;
}

/* RFC 9293 §3.10.7.4 first: "If the RCV.WND is zero, no segments will be
 * acceptable, but special allowance should be made to accept valid ACKs,
 * URGs, and RSTs. If an incoming segment is not acceptable, an
 * acknowledgment should be sent in reply"; §3.8.6.1 (RFC 793 §3.7): "When
 * the receiving TCP has a zero window and a segment arrives, it must still
 * send an acknowledgment showing its next expected sequence number and
 * current window (zero)". This is the answer to the peer's window probe. */
START_TEST(data_into_a_zero_window_is_dropped_and_acked_with_window_zero)
{
	struct peer *p = peer_new(US_AF_INET);
	static uint8_t data[8192 + 100];
	struct us_tcp *t = fill_an_8k_window(p, data);
	put(p, US_TCP_ACK | US_TCP_PSH, 8193, 1, data + 8192, 1); /* a 1-byte probe */
	struct seg *z = expect(p, US_TCP_ACK, 1, 8193);
	ck_assert_uint_eq(z->h.window, 0);
	put(p, US_TCP_ACK | US_TCP_PSH, 8193, 1, data + 8192, 100);
	z = expect(p, US_TCP_ACK, 1, 8193);
	ck_assert_uint_eq(z->h.window, 0);
	ck_assert_uint_eq(us_tcp_readable(t), 8192);
	abort_and_free(p, t);
}
END_TEST

/* Contract: window = min(free buffer, 65535); RFC 1122 §4.2.3.3 receiver
 * SWS avoidance: the right edge moves on only by min(rcvbuf / 2, MSS) or
 * more. Reading sends the window update (RFC 1122 §4.2.3.3: "the receiver
 * ... sends a window update"). */
START_TEST(reading_opens_the_window_and_sends_an_update_past_the_sws_threshold)
{
	struct peer *p = peer_new(US_AF_INET);
	static uint8_t data[8192 + 100];
	struct us_tcp *t = fill_an_8k_window(p, data);
	uint8_t got[8192];
	ck_assert_int_eq(us_tcp_recv(t, p->now, got, 100), 100);
	later(p, US_MSEC(100));
	expect_nothing(p); /* 100 free bytes: less than an MSS, no update */
	ck_assert_int_eq(us_tcp_recv(t, p->now, got + 100, 1400), 1400);
	struct seg *u = expect(p, US_TCP_ACK, 1, 8193);
	ck_assert_uint_eq(u->h.window, 1500);
	ck_assert_int_eq(us_tcp_recv(t, p->now, got + 1500, sizeof got - 1500), 8192 - 1500);
	check_fill(got, 8192, 0);
	struct seg *w = expect(p, US_TCP_ACK, 1, 8193);
	ck_assert_uint_eq(w->h.window, 8192);
	/* The peer may fill the window it was offered. */
	p->c->seq = 8193;
	peer_data(p, data, 1000);
	ck_assert_uint_eq(us_tcp_readable(t), 1000);
	abort_and_free(p, t);
}
END_TEST

/* ---- TIME_WAIT and new SYNs: RFC 9293 §3.10.7.4, RFC 1122 §4.2.2.13 ------------ */

/* The stack closes first (a server), so the stack's side sits in TIME_WAIT. */
static struct us_tcp *server_in_time_wait(struct peer *p)
{
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	struct us_tcp *t = accept_est(p, l);
	us_tcp_close(t, p->now);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	p->c->ack = 2;
	peer_fin(p);
	expect(p, US_TCP_ACK, 2, 2);
	ck_table_state(p, US_TCP_TIME_WAIT);
	return l;
}

START_TEST(syn_in_time_wait_with_a_higher_seq_starts_a_new_connection)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = server_in_time_wait(p);
	later(p, US_SEC(1));
	uint32_t old_siss = p->c->siss;
	p->c->iss += 100000; /* > RCV.NXT */
	p->c->siss_known = false;
	syn_to_listener(p);
	ck_assert_uint_eq(ctr(p, "tcp.time_wait_reused"), 1);
	ck_assert_msg((int32_t)(p->c->siss - (old_siss + 2)) > 0,
		      "the new ISS must be above the old connection's SND.NXT");
	ck_table_state(p, US_TCP_SYN_RCVD);
	peer_ack(p);
	struct us_tcp *t = accept_one(p, l);
	ck_state(t, US_TCP_ESTABLISHED);
	us_tcp_close(l, p->now);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5961 §4 / contract: any other SYN in TIME_WAIT gets an ACK. */
START_TEST(syn_in_time_wait_with_an_old_seq_gets_an_ack)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = server_in_time_wait(p);
	later(p, US_SEC(1));
	put_opt(p, US_TCP_SYN, 0, 0, mss1460, 4, NULL, 0);
	expect(p, US_TCP_ACK, 2, 2);
	ck_table_state(p, US_TCP_TIME_WAIT);
	ck_assert_uint_eq(ctr(p, "tcp.time_wait_reused"), 0);
	us_tcp_close(l, p->now);
	drain(p);
	peer_free(p);
}
END_TEST

/* ---- The listener's queues -------------------------------------------------------- */

START_TEST(accept_queue_overflow_drops_the_final_ack_and_completes_after_accept)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 1);
	p->c = &p->conns[0];
	syn_to_listener(p);
	p->c = &p->conns[1];
	syn_to_listener(p);
	later(p, US_MSEC(100));
	p->c = &p->conns[0];
	peer_ack(p);
	ck_table_state(p, US_TCP_ESTABLISHED);
	p->c = &p->conns[1];
	peer_ack(p); /* the accept queue (1) is full */
	ck_assert_uint_eq(ctr(p, "tcp.accept_queue_full"), 1);
	ck_table_state(p, US_TCP_SYN_RCVD);
	expect_nothing(p);
	at(p, US_SEC(1));
	expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1); /* the SYN-ACK again */
	p->c = &p->conns[0];
	struct us_tcp *a = accept_one(p, l);
	p->c = &p->conns[1];
	peer_ack(p);
	ck_table_state(p, US_TCP_ESTABLISHED);
	struct us_tcp *b = accept_one(p, l);
	ck_state(b, US_TCP_ESTABLISHED);
	us_tcp_close(l, p->now);
	us_tcp_abort(a, p->now);
	abort_and_free(p, b);
}
END_TEST

/* With SYN cookies off, a full SYN queue (max(backlog, 8)) recycles its
 * oldest half-open connection for each new SYN (RFC 4987 §3.4): every SYN
 * is answered, the queue stays bounded, the drops are counted. */
START_TEST(with_syn_cookies_off_a_full_syn_queue_drops_its_oldest_entry)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 1);
	ck_assert_int_eq(us_tcp_setopt(l, US_OPT_SYNCOOKIES, 0), 0);
	for (int i = 0; i < NCONN; i++) {
		p->c = &p->conns[i];
		put_opt(p, US_TCP_SYN, 0, 0, mss1460, 4, NULL, 0);
		expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	}
	ck_assert_uint_eq(ctr(p, "tcp.syn_queue_early_drops"), NCONN - 8);
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_sent"), 0);
	ck_assert_uint_eq(table_size(p), 8 + 1);
	/* The first connection's entry was recycled: its ACK gets a RST. */
	p->c = &p->conns[0];
	p->c->seq = 1;
	p->c->ack = 1;
	peer_ack(p);
	expect_rst(p, 1);
	/* The last one's is there. */
	p->c = &p->conns[NCONN - 1];
	p->c->seq = 1;
	p->c->ack = 1;
	peer_ack(p);
	expect_nothing(p);
	struct us_tcp *t = accept_one(p, l);
	ck_state(t, US_TCP_ESTABLISHED);
	us_tcp_abort(t, p->now);
	us_tcp_close(l, p->now);
	drain(p);
	ck_assert_uint_eq(table_size(p), 0);
	peer_free(p);
}
END_TEST

/* Fills the SYN queue of a listener with backlog 1 (8 entries) from the
 * peer's connections 0..7. */
static struct us_tcp *listen_with_full_syn_queue(struct peer *p)
{
	struct us_tcp *l = listen_on(p, SRV_PORT, 1);
	for (int i = 0; i < 8; i++) {
		p->c = &p->conns[i];
		put_opt(p, US_TCP_SYN, 0, 0, mss1460, 4, NULL, 0);
		expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	}
	ck_assert_uint_eq(table_size(p), 9);
	return l;
}

/* RFC 4987 §3.6: with the SYN queue full, a SYN gets a SYN-ACK whose ISS is
 * a cookie and the stack keeps nothing; the ACK returning it makes the
 * connection, with the MSS from the cookie and, through the TSval the peer
 * echoes, window scaling and SACK. */
START_TEST(syn_cookie_completes_a_handshake_when_the_syn_queue_is_full)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_with_full_syn_queue(p);
	p->c = &p->conns[8];
	/* MSS 1400 (rounded down to 1380 by the cookie), SACK, TS, wscale 7. */
	uint8_t o[20] = { 2, 4, 0x05, 0x78, 4, 2, 8, 10, 0, 0, 1, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
	put_opt(p, US_TCP_SYN, 0, 0, o, sizeof o, NULL, 0);
	struct seg *sa = expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	ck_assert(sa->h.opts.has_wscale && sa->h.opts.sack_permitted && sa->h.opts.has_ts);
	ck_assert_uint_eq(sa->h.opts.ts_ecr, 256);
	ck_assert_uint_eq(sa->h.opts.ts_val & 0x3f, 7 | 0x10); /* wscale 7, SACK */
	uint32_t tsval = sa->h.opts.ts_val;
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_sent"), 1);
	ck_assert_uint_eq(table_size(p), 9); /* no state kept */
	later(p, RTT);
	uint8_t ts[12];
	ts_opt(ts, 300, tsval);
	p->c->win = 1024; /* scaled by 7: 128 KB */
	put_opt(p, US_TCP_ACK, 1, 1, ts, 12, NULL, 0);
	expect_nothing(p);
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_recv"), 1);
	struct us_tcp *t = accept_one(p, l);
	ck_state(t, US_TCP_ESTABLISHED);
	struct us_tcp_info i = info_of(t);
	ck_assert(i.wscale_ok && i.sack_ok && i.ts_ok);
	ck_assert_uint_eq(i.snd_wscale, 7);
	ck_assert_uint_eq(i.snd_wnd, 1024u << 7);
	ck_assert_uint_eq(i.mss, 1380 - 12);
	/* Data both ways. */
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"hello", 5), 5);
	struct seg *d = expect_data(p, 1, 1, 5);
	ck_assert(d->h.opts.has_ts);
	ck_assert_uint_eq(d->h.opts.ts_ecr, 300);
	ck_assert_uint_ge(d->h.opts.ts_val, tsval);
	put_opt(p, US_TCP_ACK | US_TCP_PSH, 1, 6, ts, 12, "abc", 3);
	ck_assert_uint_eq(us_tcp_readable(t), 3);
	us_tcp_close(l, p->now);
	abort_and_free(p, t);
}
END_TEST

/* A cookie ACK that does not hold a cookie of ours (forged), or holds one
 * more than two 64 s periods old (stale), makes no connection: it is an
 * ACK to a listener, answered with a RST (RFC 9293 §3.10.7.2). */
START_TEST(a_forged_or_stale_syn_cookie_ack_gets_no_connection)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_with_full_syn_queue(p);
	/* 60 s on (the queue is still full: its SYN-ACKs go until 63 s). */
	later(p, US_SEC(60));
	drain(p);
	p->c = &p->conns[8];
	put_opt(p, US_TCP_SYN, 0, 0, mss1460, 4, NULL, 0);
	expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_sent"), 1);
	p->c->seq = 1;
	later(p, RTT);
	/* Forged: one off. */
	p->c->ack = 2;
	peer_ack(p);
	expect_rst(p, 2);
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_failed"), 1);
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_recv"), 0);
	/* Another connection's cookie does not fit this one. */
	p->c = &p->conns[9];
	p->c->siss = p->conns[8].siss;
	p->c->siss_known = true;
	p->c->seq = 1;
	p->c->ack = 1;
	peer_ack(p);
	expect_rst(p, 1);
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_failed"), 2);
	/* Stale: the right cookie, 128 s later (two periods on). */
	drain(p);
	at(p, US_SEC(128) + US_MSEC(50));
	drain(p);
	p->c = &p->conns[8];
	p->c->ack = 1;
	peer_ack(p);
	expect_rst(p, 1);
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_failed"), 3);
	ck_assert_uint_eq(ctr(p, "tcp.syncookies_recv"), 0);
	int err = 0;
	ck_assert_ptr_null(us_tcp_accept(l, on_event, &p->ev, NULL, &err));
	ck_assert_int_eq(err, -EAGAIN);
	us_tcp_close(l, p->now);
	drain(p);
	ck_assert_uint_eq(table_size(p), 0);
	peer_free(p);
}
END_TEST

/* ---- More of the same paths ------------------------------------------------------ */

/* RFC 9293 §3.10.7.4 first step: a SYN-ACK sent again (our ACK was lost)
 * is old (SEG.SEQ < RCV.NXT): acked again, nothing else. */
START_TEST(retransmitted_syn_ack_in_established_is_acked_again)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	later(p, US_SEC(1));
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss1460, 4, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	ck_state(t, US_TCP_ESTABLISHED);
	abort_and_free(p, t);
}
END_TEST

/* The peer's SYN again while the child waits in SYN_RCVD: our SYN-ACK
 * again (RFC 9293 §3.10.7.4 first step: not acceptable, "send an
 * acknowledgment"), with the same ISS. */
START_TEST(retransmitted_syn_in_syn_rcvd_gets_the_same_syn_ack_again)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	syn_to_listener(p);
	later(p, US_MSEC(500));
	put_opt(p, US_TCP_SYN, 0, 0, mss1460, 4, NULL, 0);
	expect(p, US_TCP_SYN | US_TCP_ACK, 0, 1);
	expect_nothing(p);
	ck_table_state(p, US_TCP_SYN_RCVD);
	ck_assert_uint_eq(table_size(p), 2);
	peer_ack(p);
	struct us_tcp *t = accept_one(p, l);
	us_tcp_close(l, p->now);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "enter ESTABLISHED state and
 * continue processing": data on the ACK that completes the handshake is
 * delivered, and a FIN on it takes the child to CLOSE_WAIT. */
START_TEST(data_and_fin_on_the_handshake_ack_reach_the_accepted_child)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	syn_to_listener(p);
	put(p, US_TCP_ACK | US_TCP_PSH | US_TCP_FIN, 1, 1, "GET", 3);
	p->c->seq = 5;
	expect(p, US_TCP_ACK, 1, 5); /* a FIN is acked at once */
	struct us_tcp *t = accept_one(p, l);
	ck_state(t, US_TCP_CLOSE_WAIT);
	uint8_t b[8];
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), 3);
	ck_assert_mem_eq(b, "GET", 3);
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), 0);
	us_tcp_close(l, p->now);
	abort_and_free(p, t);
}
END_TEST

/* RFC 6298 §5.4: the timer retransmits "the earliest segment that has not
 * been acknowledged"; the FIN is part of the sequence space. */
START_TEST(a_lost_fin_is_retransmitted_on_timeout)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_shutdown(t, p->now, 1), 0);
	expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	us_time_t sent = p->now;
	at(p, sent + US_MSEC(300));
	struct seg *f = expect(p, US_TCP_FIN | US_TCP_ACK, 1, 1);
	ck_assert_int_eq(f->t, sent + US_MSEC(300));
	p->c->ack = 2;
	peer_ack(p);
	ck_state(t, US_TCP_FIN_WAIT_2);
	abort_and_free(p, t);
}
END_TEST

/* RFC 5681 §3.1 after an RTO: cwnd = LW = 1 SMSS, go back to SND.UNA;
 * each ACK then opens the window again (slow start). */
START_TEST(rto_goes_back_to_snd_una_one_segment_then_slow_starts)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	static uint8_t data[3 * 1460];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), (int)sizeof data);
	for (int k = 1; k <= 3; k++)
		expect_data(p, SEG(k), 1, 1460);
	later(p, US_MSEC(300));
	expect_data(p, SEG(1), 1, 1460);
	expect_nothing(p); /* one segment: cwnd is 1 SMSS */
	later(p, US_MSEC(10));
	p->c->ack = SEG(2);
	peer_ack(p);
	expect_data(p, SEG(2), 1, 1460);
	expect_data(p, SEG(3), 1, 1460);
	expect_nothing(p);
	abort_and_free(p, t);
}
END_TEST

/* RFC 9293 §3.8.6: the sender keeps within the window the peer offers. */
START_TEST(sender_keeps_within_the_peer_window)
{
	struct peer *p = peer_new(US_AF_INET);
	p->c->win = 1000;
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	uint8_t data[2500];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 2500);
	expect_data(p, 1, 1, 1000);
	expect_nothing(p);
	later(p, US_MSEC(50));
	p->c->ack = 1001;
	peer_ack(p);
	expect_data(p, 1001, 1, 1000);
	expect_nothing(p);
	p->c->ack = 2001;
	p->c->win = 3000;
	peer_ack(p);
	expect_data(p, 2001, 1, 500);
	abort_and_free(p, t);
}
END_TEST

/* The peer accepts the zero-window probe's byte once its window opens:
 * the byte is not sent again and the rest follows it. */
START_TEST(persist_probe_byte_taken_by_a_reopened_window_is_not_sent_again)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	p->c->win = 0;
	peer_ack(p);
	uint8_t data[100];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 100);
	later(p, info_of(t).rto_us);
	expect_data(p, 1, 1, 1); /* the probe */
	p->c->win = 65535;
	p->c->ack = 2;
	peer_ack(p);
	struct seg *rest = expect_data(p, 2, 1, 99);
	check_fill(rest->h.payload, 99, 1);
	peer_ack_all(p);
	later(p, US_SEC(5));
	expect_nothing(p);
	ck_assert_uint_eq(info_of(t).snd_queued, 0);
	abort_and_free(p, t);
}
END_TEST

/* core.h: send() returns a short count when the send buffer fills, then
 * -EAGAIN; WRITABLE comes back (with an event) once ACKs free a quarter. */
START_TEST(a_full_send_buffer_gives_a_short_count_then_eagain_then_writable)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = tcp_open(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_SNDBUF, 4096), 0);
	struct us_addr to = peer_addr(p, p->c->port);
	ck_assert_int_eq(us_tcp_connect(t, p->now, &to), -EINPROGRESS);
	expect(p, US_TCP_SYN, 0, 0);
	p->c->win = 1000;
	put_opt(p, US_TCP_SYN | US_TCP_ACK, 0, 1, mss1460, 4, NULL, 0);
	expect(p, US_TCP_ACK, 1, 1);
	p->c->seq = p->c->ack = 1;
	static uint8_t data[10000];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 4096);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), -EAGAIN);
	ck_assert_int_eq(us_tcp_events(t) & US_EV_WRITABLE, 0);
	expect_data(p, 1, 1, 1000);
	p->ev.seen = 0;
	p->c->ack = 1001;
	peer_ack(p); /* 1000 bytes free: less than a quarter of 4096 */
	ck_assert_int_eq(us_tcp_events(t) & US_EV_WRITABLE, 0);
	expect_data(p, 1001, 1, 1000);
	p->c->ack = 2001;
	peer_ack(p); /* 2000 free */
	ck_assert(us_tcp_events(t) & US_EV_WRITABLE);
	ck_assert(p->ev.seen & US_EV_WRITABLE);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 2000);
	abort_and_free(p, t);
}
END_TEST

/* An ICMP error from the peer about the stack's segment with absolute
 * sequence number seq on the current connection (RFC 792: the IP header and
 * the first 64 bits of the segment). mtu: the Next-Hop MTU field (RFC 1191). */
static void icmp4_about(struct peer *p, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq,
			uint16_t total_len)
{
	uint8_t msg[8 + 20 + 8];
	memset(msg, 0, sizeof msg);
	msg[0] = type;
	msg[1] = code;
	us_put_be16(msg + 6, mtu);
	struct us_ipv4_hdr q = { .id = 1, .df = true, .ttl = 64, .proto = US_IPPROTO_TCP,
				 .src = STACK_IP, .dst = PEER_IP,
				 .payload_len = (size_t)total_len - 20 };
	ck_assert_uint_eq(us_ipv4_emit(&q, msg + 8, 20), 20);
	us_put_be16(msg + 28, p->c->sport);
	us_put_be16(msg + 30, p->c->port);
	us_put_be32(msg + 32, seq);
	us_csum_fill(msg, sizeof msg, 2, 0);
	inject_ip(p, US_IPPROTO_ICMP, msg, sizeof msg, false, NULL, 64);
	pump(p);
}

/* RFC 1122 §4.2.3.9 and RFC 5461 §4: a port unreachable (a hard error)
 * ends a connection still being set up; RFC 5927 §4.1: only when the
 * quoted sequence number is in flight. */
START_TEST(icmp_port_unreachable_refuses_a_connection_being_set_up)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_syn(p);
	icmp4_about(p, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_PORT, 0, p->c->siss + 5, 44);
	ck_state(t, US_TCP_SYN_SENT); /* not in flight: ignored */
	ck_assert_uint_eq(ctr(p, "tcp.icmp_errors_ignored"), 1);
	icmp4_about(p, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_PORT, 0, p->c->siss, 44);
	ck_state(t, US_TCP_CLOSED);
	ck_assert_int_eq(us_tcp_take_error(t), -ECONNREFUSED);
	us_tcp_close(t, p->now);
	peer_free(p);
}
END_TEST

/* RFC 1122 §4.2.3.9: in a synchronized state, "Destination Unreachable
 * codes 2-4" SHOULD abort; like Linux (RFC 5461 §4) the core only keeps the
 * error: the connection goes on. */
START_TEST(icmp_port_unreachable_on_an_established_connection_is_soft)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"abc", 3), 3);
	expect_data(p, 1, 1, 3);
	icmp4_about(p, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_PORT, 0, p->c->siss + 1, 43);
	ck_assert_uint_eq(ctr(p, "tcp.icmp_errors"), 1);
	ck_state(t, US_TCP_ESTABLISHED);
	ck_assert_int_eq(us_tcp_take_error(t), 0);
	abort_and_free(p, t);
}
END_TEST

/* RFC 1191 §6.1 / RFC 9293 §3.7.2: "fragmentation needed" lowers the path
 * MTU; what is in flight is sent again in segments that fit. */
START_TEST(fragmentation_needed_resends_in_smaller_segments)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0);
	static uint8_t data[2920];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 2920);
	expect_data(p, 1, 1, 1460);
	expect_data(p, 1461, 1, 1460);
	later(p, US_MSEC(10));
	icmp4_about(p, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_FRAG_NEEDED, 1000, p->c->siss + 1,
		    1500);
	ck_assert_uint_eq(info_of(t).mss, 960);
	uint32_t seq = 1;
	while (pending(p) > 0) {
		struct seg *sg = next_seg(p);
		ck_assert_uint_le(sg->h.payload_len, 960);
		if (rseq(p, sg) == seq)
			seq += (uint32_t)sg->h.payload_len;
	}
	ck_assert_msg(seq > 1, "nothing was sent again after the MTU went down");
	abort_and_free(p, t);
}
END_TEST

/* RFC 1122 §4.2.3.2 / RFC 9293 §3.8.6.3: an ACK waiting for the delayed-ACK
 * timer rides on the data the application sends meanwhile. */
START_TEST(a_reply_within_the_delay_carries_the_ack)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	later(p, US_SEC(1));
	peer_data(p, "ping", 4);
	expect_nothing(p);
	uint64_t delayed = ctr(p, "tcp.delayed_acks");
	later(p, US_MSEC(10));
	ck_assert_int_eq(us_tcp_send(t, p->now, (const uint8_t *)"pong", 4), 4);
	expect_data(p, 1, 5, 4);
	later(p, US_MSEC(100));
	expect_nothing(p); /* no separate ACK */
	ck_assert_uint_eq(ctr(p, "tcp.delayed_acks"), delayed);
	abort_and_free(p, t);
}
END_TEST

/* tcp.h: US_TCP_OOO_RANGES (8) out-of-order ranges per connection; a
 * segment that would need a ninth is dropped and counted (the sender sends
 * it again). */
START_TEST(out_of_order_ranges_are_bounded_and_the_excess_is_counted)
{
	struct peer *p = peer_new(US_AF_INET);
	struct us_tcp *t = connect_est(p);
	uint8_t data[100];
	fill(data, sizeof data, 0);
	for (uint32_t i = 0; i < 9; i++) {
		put(p, US_TCP_ACK, 1 + 200 * (i + 1), 1, data, 100); /* holes between */
		expect(p, US_TCP_ACK, 1, 1);
	}
	ck_assert_uint_eq(ctr(p, "tcp.drop_out_of_order_full"), 1);
	ck_assert_uint_eq(us_tcp_readable(t), 0);
	abort_and_free(p, t);
}
END_TEST

/* A dual-stack listener (AF_INET6, V6ONLY off) takes IPv4 connections. */
START_TEST(dual_stack_listener_accepts_an_ipv4_peer)
{
	struct peer *p = peer_new(US_AF_INET6);
	struct us_tcp *l = listen_on(p, SRV_PORT, 4);
	p->family = US_AF_INET; /* the peer comes over IPv4 */
	struct us_tcp *t = accept_est(p, l);
	ck_assert_uint_eq(info_of(t).mss, 1460);
	peer_data(p, "v4", 2);
	uint8_t b[4];
	ck_assert_int_eq(us_tcp_recv(t, p->now, b, sizeof b), 2);
	us_tcp_close(l, p->now);
	abort_and_free(p, t);
}
END_TEST

/* ---- Both families: handshake, transfer, close ----------------------------------- */

static void handshake_transfer_close(int family, bool active)
{
	struct peer *p = peer_new(family);
	struct us_tcp *l = NULL, *t;
	if (active) {
		t = connect_est(p);
	} else {
		l = listen_on(p, SRV_PORT, 4);
		t = accept_est(p, l);
	}
	ck_assert_int_eq(us_tcp_setopt(t, US_OPT_NODELAY, 1), 0); /* the last small segment too */
	struct us_addr r;
	ck_assert_int_eq(us_tcp_remote(t, &r), 0);
	ck_assert_int_eq(r.family, family);
	ck_assert_uint_eq(r.port, p->c->port);
	uint16_t mss = our_mss(p);
	ck_assert_uint_eq(info_of(t).mss, family == US_AF_INET ? 1460 : 1440);

	/* The stack sends 3000 bytes: IW allows all of them. */
	static uint8_t data[3000], got[3000];
	fill(data, sizeof data, 0);
	ck_assert_int_eq(us_tcp_send(t, p->now, data, sizeof data), 3000);
	uint32_t off = 0;
	while (off < 3000) {
		size_t len = 3000 - off < mss ? 3000 - off : mss;
		struct seg *sg = expect_data(p, 1 + off, 1, len);
		check_fill(sg->h.payload, len, off);
		off += (uint32_t)len;
	}
	later(p, RTT);
	peer_ack_all(p);
	ck_assert_uint_eq(info_of(t).snd_queued, 0);

	/* The peer sends 3000 bytes. */
	peer_data(p, data, 1000);
	peer_data(p, data + 1000, 2000 > mss ? mss : 2000);
	peer_data(p, data + 1000 + mss, 2000 - mss);
	later(p, US_MSEC(40));
	struct seg *last = NULL;
	while (pending(p) > 0)
		last = next_seg(p);
	ck_assert_ptr_nonnull(last);
	ck_assert_uint_eq(rack(p, last), 3001);
	ck_assert_int_eq(us_tcp_recv(t, p->now, got, sizeof got), 3000);
	check_fill(got, 3000, 0);

	/* The stack closes first. */
	us_tcp_close(t, p->now);
	expect(p, US_TCP_FIN | US_TCP_ACK, 3001, 3001);
	later(p, RTT);
	p->c->ack = 3002;
	peer_fin(p);
	expect(p, US_TCP_ACK, 3002, 3002);
	ck_table_state(p, US_TCP_TIME_WAIT);
	later(p, 2 * MSL);
	ck_table_state(p, NONE);
	if (l)
		us_tcp_close(l, p->now);
	expect_nothing(p);
	peer_free(p);
}

START_TEST(ipv4_active_open_transfer_and_close)
{
	handshake_transfer_close(US_AF_INET, true);
}
END_TEST

START_TEST(ipv4_passive_open_transfer_and_close)
{
	handshake_transfer_close(US_AF_INET, false);
}
END_TEST

START_TEST(ipv6_active_open_transfer_and_close)
{
	handshake_transfer_close(US_AF_INET6, true);
}
END_TEST

START_TEST(ipv6_passive_open_transfer_and_close)
{
	handshake_transfer_close(US_AF_INET6, false);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("tcp");

	TCase *open = tcase_create("open");
	tcase_add_test(open, active_open_sends_syn_with_mss_and_syn_ack_establishes);
	tcase_add_test(open, passive_open_syn_gets_syn_ack_and_ack_establishes_the_accepted_child);
	tcase_add_test(open, simultaneous_open_goes_syn_sent_to_syn_rcvd_to_established);
	tcase_add_test(open, syn_rcvd_from_a_passive_open_goes_back_to_listen_on_rst);
	tcase_add_test(open, syn_rcvd_from_an_active_open_goes_to_closed_on_rst_refused);
	tcase_add_test(open, syn_rcvd_close_sends_fin_and_goes_to_fin_wait_1);
	tcase_add_test(open, syn_sent_rst_with_an_acceptable_ack_refuses_the_connection);
	tcase_add_test(open, syn_sent_ignores_a_rst_without_an_acceptable_ack);
	tcase_add_test(open, syn_sent_answers_an_unacceptable_ack_with_a_rst_from_that_ack);
	tcase_add_test(open, syn_sent_close_goes_to_closed_and_sends_nothing);
	tcase_add_test(open, listen_close_goes_to_closed_and_resets_unaccepted_children);
	tcase_add_test(open, a_listener_is_found_behind_endpoints_bound_after_it);
	tcase_add_test(open, send_in_syn_sent_is_queued_and_leaves_once_established);
	suite_add_tcase(s, open);

	TCase *close = tcase_create("close");
	tcase_add_test(close,
		       active_close_goes_fin_wait_1_fin_wait_2_time_wait_then_closed_after_2msl);
	tcase_add_test(close, fin_wait_1_fin_before_ack_goes_to_closing_then_time_wait);
	tcase_add_test(close, fin_wait_1_fin_with_the_ack_of_our_fin_goes_straight_to_time_wait);
	tcase_add_test(close, passive_close_goes_close_wait_then_last_ack_then_closed);
	tcase_add_test(close, last_ack_owned_socket_reports_hup_once_our_fin_is_acked);
	tcase_add_test(close, retransmitted_fin_in_time_wait_is_acked_again_and_restarts_2msl);
	tcase_add_test(close, orphaned_fin_wait_2_ends_after_60_seconds_without_a_fin);
	tcase_add_test(close, close_with_unread_data_sends_rst_and_goes_to_closed);
	tcase_add_test(close, data_arriving_after_close_is_answered_with_rst);
	tcase_add_test(close, linger_zero_close_sends_rst_at_once);
	tcase_add_test(close, abort_sends_rst_from_snd_nxt);
	suite_add_tcase(s, close);

	TCase *rst = tcase_create("rst");
	tcase_add_test(rst, rst_in_established_closes_with_econnreset);
	tcase_add_test(rst, rst_in_fin_wait_1_closes_with_econnreset);
	tcase_add_test(rst, rst_in_fin_wait_2_closes_with_econnreset);
	tcase_add_test(rst, rst_in_close_wait_closes_with_econnreset);
	tcase_add_test(rst, rst_in_closing_closes);
	tcase_add_test(rst, rst_in_last_ack_closes);
	tcase_add_test(rst, rst_in_time_wait_closes);
	tcase_add_test(rst, rst_counts_an_established_reset);
	suite_add_tcase(s, rst);

	TCase *r5961 = tcase_create("rfc5961");
	tcase_add_test(r5961, in_window_rst_that_is_not_exact_gets_a_challenge_ack);
	tcase_add_test(r5961, rst_outside_the_window_is_dropped_silently);
	tcase_add_test(r5961, syn_in_established_gets_a_challenge_ack);
	tcase_add_test(r5961, ack_of_unsent_data_is_dropped_and_answered_with_an_ack);
	tcase_add_test(r5961, ack_older_than_the_max_window_is_dropped_but_a_duplicate_is_not);
	tcase_add_test(r5961, challenge_acks_are_limited_to_100_per_second);
	suite_add_tcase(s, r5961);

	TCase *closed = tcase_create("no_endpoint");
	tcase_add_test(closed, rst_for_a_syn_to_a_closed_port_acks_the_syn_and_its_data);
	tcase_add_test(
		closed,
		rst_for_an_ack_to_a_closed_port_takes_its_seq_from_the_ack_and_rst_gets_none);
	tcase_add_test(closed, listener_answers_an_ack_with_rst_and_ignores_rst_and_syn_fin);
	suite_add_tcase(s, closed);

	TCase *bad = tcase_create("bad_input");
	tcase_add_test(bad, segment_without_ack_in_a_synchronized_state_is_dropped);
	tcase_add_test(bad, data_beyond_the_window_or_wholly_old_is_dropped_and_acked);
	tcase_add_test(bad, bad_checksum_is_dropped_and_counted);
	tcase_add_test(bad, truncated_or_impossible_headers_are_dropped_and_counted);
	tcase_add_test(bad, lying_options_are_dropped_and_unknown_ones_skipped);
	tcase_add_test(bad, peer_sequence_numbers_wrapping_past_zero_are_handled);
	suite_add_tcase(s, bad);

	TCase *tm = tcase_create("timers");
	tcase_add_test(tm, rto_doubles_on_each_timeout_and_karn_ignores_retransmitted_samples);
	tcase_add_test(tm, syn_is_retransmitted_six_times_then_connect_fails_with_etimedout);
	tcase_add_test(tm, listener_child_retransmits_its_syn_ack);
	tcase_add_test(tm, data_is_retransmitted_twelve_times_then_reset_with_etimedout);
	tcase_add_test(tm, delayed_ack_is_sent_within_40_ms_for_a_single_segment);
	tcase_add_test(tm, every_second_full_sized_segment_is_acked_at_once);
	tcase_add_test(tm, persist_probes_a_zero_window_backing_off_without_giving_up);
	tcase_add_test(tm, keepalive_probes_an_idle_connection_then_times_out_with_rst);
	tcase_add_test(tm, keepalive_answered_waits_the_full_idle_time_again);
	suite_add_tcase(s, tm);

	TCase *tx = tcase_create("send");
	tcase_add_test(tx, initial_window_is_ten_segments_and_slow_start_grows_it);
	tcase_add_test(
		tx, third_dup_ack_fast_retransmits_and_newreno_partial_ack_resends_the_next_hole);
	tcase_add_test(tx, cubic_window_follows_w_cubic_over_virtual_time);
	tcase_add_test(tx, newreno_congestion_avoidance_counts_bytes_not_acks);
	tcase_add_test(tx, cubic_slow_start_after_recovery_stops_at_ssthresh);
	tcase_add_test(tx, hystart_plus_plus_leaves_slow_start_when_the_rtt_grows);
	tcase_add_test(
		tx, an_application_limited_window_is_kept_not_grown_and_halved_after_five_minutes);
	tcase_add_test(tx, nagle_holds_small_segments_while_data_is_unacknowledged);
	tcase_add_test(tx, nodelay_sends_small_segments_at_once);
	tcase_add_test(tx, send_mss_defaults_to_536_without_the_option);
	tcase_add_test(tx, send_mss_is_clamped_to_our_mtu);
	suite_add_tcase(s, tx);

	TCase *rx = tcase_create("receive");
	tcase_add_test(rx, out_of_order_segments_are_kept_acked_at_once_and_delivered_in_order);
	tcase_add_test(rx, data_into_a_zero_window_is_dropped_and_acked_with_window_zero);
	tcase_add_test(rx, reading_opens_the_window_and_sends_an_update_past_the_sws_threshold);
	suite_add_tcase(s, rx);

	TCase *tw = tcase_create("time_wait");
	tcase_add_test(tw, syn_in_time_wait_with_a_higher_seq_starts_a_new_connection);
	tcase_add_test(tw, syn_in_time_wait_with_an_old_seq_gets_an_ack);
	suite_add_tcase(s, tw);

	TCase *lq = tcase_create("listen");
	tcase_add_test(lq, accept_queue_overflow_drops_the_final_ack_and_completes_after_accept);
	tcase_add_test(lq, with_syn_cookies_off_a_full_syn_queue_drops_its_oldest_entry);
	tcase_add_test(lq, syn_cookie_completes_a_handshake_when_the_syn_queue_is_full);
	tcase_add_test(lq, a_forged_or_stale_syn_cookie_ack_gets_no_connection);
	suite_add_tcase(s, lq);

	TCase *more = tcase_create("more");
	tcase_add_test(more, retransmitted_syn_ack_in_established_is_acked_again);
	tcase_add_test(more, retransmitted_syn_in_syn_rcvd_gets_the_same_syn_ack_again);
	tcase_add_test(more, data_and_fin_on_the_handshake_ack_reach_the_accepted_child);
	tcase_add_test(more, a_lost_fin_is_retransmitted_on_timeout);
	tcase_add_test(more, rto_goes_back_to_snd_una_one_segment_then_slow_starts);
	tcase_add_test(more, sender_keeps_within_the_peer_window);
	tcase_add_test(more, persist_probe_byte_taken_by_a_reopened_window_is_not_sent_again);
	tcase_add_test(more, a_full_send_buffer_gives_a_short_count_then_eagain_then_writable);
	tcase_add_test(more, icmp_port_unreachable_refuses_a_connection_being_set_up);
	tcase_add_test(more, icmp_port_unreachable_on_an_established_connection_is_soft);
	tcase_add_test(more, fragmentation_needed_resends_in_smaller_segments);
	tcase_add_test(more, a_reply_within_the_delay_carries_the_ack);
	tcase_add_test(more, out_of_order_ranges_are_bounded_and_the_excess_is_counted);
	tcase_add_test(more, dual_stack_listener_accepts_an_ipv4_peer);
	suite_add_tcase(s, more);

	TCase *modern = tcase_create("modern");
	tcase_add_test(modern, active_open_negotiates_window_scale_timestamps_and_sack);
	tcase_add_test(modern, options_switched_off_per_socket_are_not_offered);
	tcase_add_test(modern, paws_drops_an_old_timestamp_until_ts_recent_is_24_days_old);
	tcase_add_test(modern, timestamps_give_rtt_samples_from_the_echoed_tsval);
	tcase_add_test(modern, out_of_order_data_is_reported_in_sack_blocks_most_recent_first);
	tcase_add_test(modern,
		       tail_loss_probe_resends_the_last_segment_and_its_sack_starts_recovery);
	tcase_add_test(modern, without_sack_a_tail_loss_waits_for_the_rto);
	tcase_add_test(
		modern,
		a_lone_lost_segment_is_probed_at_the_rto_time_without_collapsing_the_window);
	suite_add_tcase(s, modern);

	TCase *fam = tcase_create("families");
	tcase_add_test(fam, ipv4_active_open_transfer_and_close);
	tcase_add_test(fam, ipv4_passive_open_transfer_and_close);
	tcase_add_test(fam, ipv6_active_open_transfer_and_close);
	tcase_add_test(fam, ipv6_passive_open_transfer_and_close);
	suite_add_tcase(s, fam);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_offload.c - the core with link offloads (docs/performance.md):
 * what us_stack_input_meta() takes (a checksum the kernel vouches for, TCP
 * super-frames whole, UDP super-frames split), and what TCP sends on an
 * interface with US_OFFLOAD_CSUM | TSO4 | TSO6 (partial checksums, TSO
 * super-frames of whole segments, IP IDs reserved per segment, MSS-sized
 * retransmissions after a burst is partly acknowledged); and that none of
 * it happens without offloads.
 *
 * The stack is 02:00:00:00:00:02, 198.51.100.2/24 on a virtual clock; the
 * peer 02:00:00:00:00:01, 198.51.100.1, writing its segments with the wire
 * emitters. The link here keeps frames of up to 64 KB with their offload
 * fields (the harness's link keeps 2 KB).
 *
 * Read first: include/ustack/core.h (struct us_frame, struct us_rx_meta,
 * us_stack_input_meta), then src/stack/tcp_output.c (output_data()).
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
#include "wire/udp.h"
#include "wire/wire.h"

#define STACK_IP 0xc6336402u /* 198.51.100.2 */
#define PEER_IP 0xc6336401u  /* 198.51.100.1 */
#define PEER_PORT 40000
#define SRV_PORT 80
#define PEER_ISS 1000000u
#define MSS 1460
#define FRAME_MAX (65535 + 14)
#define NFRAMES 64

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };

/* One frame the stack sent, with the offload fields it came with. */
struct sent {
	struct us_frame f; /* f.data points into buf */
	uint8_t *buf;
};

struct link {
	int count;
	struct sent fr[NFRAMES];
};

struct peer {
	struct link link;
	struct us_stack *s;
	us_time_t now;
	struct us_tcp *l, *t; /* listener, accepted */
	uint32_t siss;        /* the stack's ISS */
	uint32_t seq;         /* the peer's next sequence number, absolute */
};

static int link_transmit(void *ctx, const struct us_frame *f)
{
	struct link *l = ctx;
	ck_assert_int_lt(l->count, NFRAMES);
	ck_assert_uint_le(f->len, FRAME_MAX);
	struct sent *s = &l->fr[l->count++];
	s->buf = malloc(f->len);
	ck_assert_ptr_nonnull(s->buf);
	memcpy(s->buf, f->data, f->len);
	s->f = *f;
	s->f.data = s->buf;
	return 0;
}

static void link_clear(struct link *l)
{
	for (int i = 0; i < l->count; i++)
		free(l->fr[i].buf);
	l->count = 0;
}

static struct us_stack *stack_new(struct link *link, uint32_t offloads)
{
	struct us_stack_config cfg = { .seed = 1, .small_bufs = 64, .large_bufs = 8,
				       .no_dad = true, .no_router_solicit = true,
				       .tcp_no_wscale = true, .tcp_no_timestamps = true,
				       .tcp_no_sack = true };
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)i;
	struct us_stack *s = us_stack_new(&cfg);
	ck_assert_ptr_nonnull(s);
	struct us_iface_config ic = { .name = "test0", .mtu = 1500, .transmit = link_transmit,
				      .transmit_ctx = link, .offloads = offloads };
	memcpy(ic.mac, our_mac, 6);
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 0);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, STACK_IP, 24), 0);
	struct us_test_link dummy;
	us_test_meet_ipv4(s, &dummy, 0, PEER_IP, 1);
	link_clear(link);
	return s;
}

/* An IPv4 frame from the peer around body (a TCP segment or UDP datagram);
 * returns its length in f. */
static size_t frame4(uint8_t *f, size_t cap, uint8_t proto, const uint8_t *body, size_t n)
{
	struct us_ipv4_hdr ip = { .id = 0x4242, .df = true, .ttl = 64, .proto = proto,
				  .src = PEER_IP, .dst = STACK_IP, .payload_len = n };
	ck_assert_uint_eq(us_test_eth_ipv4(f, cap, &ip), 34);
	ck_assert_uint_le(34 + n, cap);
	memcpy(f + 34, body, n);
	return 34 + n < 60 ? 60 : 34 + n;
}

/* A TCP segment from the peer with a correct checksum (spoil: off by one). */
static size_t tcp_seg(uint8_t *buf, size_t cap, uint8_t flags, uint32_t seq, uint32_t ack,
		      const uint8_t *opt, size_t optlen, const uint8_t *data, size_t len, bool spoil)
{
	struct us_tcp_hdr h = { .sport = PEER_PORT, .dport = SRV_PORT, .seq = seq, .ack = ack,
				.flags = flags, .window = 65535 };
	ck_assert_uint_le(20 + optlen + len, cap);
	ck_assert_uint_eq(us_tcp_emit(&h, buf, cap), 20);
	buf[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	if (optlen)
		memcpy(buf + 20, opt, optlen);
	if (len)
		memcpy(buf + 20 + optlen, data, len);
	size_t n = 20 + optlen + len;
	us_tcp_csum_fill(buf, n, us_csum_pseudo4(PEER_IP, STACK_IP, US_IPPROTO_TCP, (uint32_t)n));
	if (spoil)
		buf[16] ^= 1;
	return n;
}

/* The peer sends a segment, with meta (may be NULL); returns the input's result. */
static int put(struct peer *p, uint8_t flags, const uint8_t *data, size_t len, bool spoil,
	       const struct us_rx_meta *meta)
{
	static uint8_t seg[FRAME_MAX], f[FRAME_MAX + 64];
	static const uint8_t mss_opt[4] = { 2, 4, MSS >> 8, MSS & 0xff };
	bool syn = flags & US_TCP_SYN;
	size_t n = tcp_seg(seg, sizeof seg, flags, p->seq, syn ? 0 : p->siss + 1,
			   syn ? mss_opt : NULL, syn ? 4 : 0, data, len, spoil);
	size_t fl = frame4(f, sizeof f, US_IPPROTO_TCP, seg, n);
	return us_stack_input_meta(p->s, p->now, 0, f, fl, meta);
}

/* The peer acknowledges up to ack_rel (relative to the stack's ISS). */
static void ack(struct peer *p, uint32_t ack_rel)
{
	static uint8_t seg[64], f[128];
	size_t n = tcp_seg(seg, sizeof seg, US_TCP_ACK, p->seq, p->siss + ack_rel, NULL, 0, NULL, 0,
			   false);
	size_t fl = frame4(f, sizeof f, US_IPPROTO_TCP, seg, n);
	ck_assert_int_eq(us_stack_input(p->s, p->now, 0, f, fl), 0);
}

/* The TCP header of a frame the stack sent (IPv4, no options). */
static void parse_sent(const struct sent *s, struct us_ipv4_hdr *ip, struct us_tcp_hdr *h)
{
	struct us_eth_hdr eth;
	ck_assert_int_eq(us_eth_parse(s->f.data, s->f.len, &eth), US_WIRE_OK);
	ck_assert_int_eq(us_ipv4_parse(eth.payload, eth.payload_len, ip), US_WIRE_OK);
	ck_assert_uint_eq(ip->proto, US_IPPROTO_TCP);
	ck_assert_int_eq(us_tcp_parse(ip->payload, ip->payload_len, h), US_WIRE_OK);
}

/* What a link does with a partial checksum (virtio 1.x §5.1.6.2), in a copy;
 * then whether the TCP checksum verifies. */
static bool completed_csum_ok(const struct sent *s)
{
	uint8_t *c = malloc(s->f.len);
	ck_assert_ptr_nonnull(c);
	memcpy(c, s->f.data, s->f.len);
	if (s->f.csum_partial) {
		uint8_t *l4 = c + s->f.csum_start;
		us_put_be16(l4 + s->f.csum_offset,
			    us_csum_fold(us_csum_partial(l4, s->f.len - s->f.csum_start, 0)));
	}
	struct us_ipv4_hdr ip;
	bool ok = us_ipv4_parse(c + 14, s->f.len - 14, &ip) == US_WIRE_OK &&
		  us_tcp_csum_ok(ip.payload, ip.payload_len,
				 us_csum_pseudo4(ip.src, ip.dst, US_IPPROTO_TCP,
						 (uint32_t)ip.payload_len));
	free(c);
	return ok;
}

/* A stack with offloads listening on port 80 and a connection from the peer
 * accepted (MSS 1460, no window scaling, timestamps or SACK). */
static struct peer *peer_new(uint32_t offloads)
{
	struct peer *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	p->s = stack_new(&p->link, offloads);
	int err = 0;
	p->l = us_tcp_open(p->s, US_AF_INET, NULL, NULL, &err);
	ck_assert_ptr_nonnull(p->l);
	struct us_addr a = { .family = US_AF_INET, .port = SRV_PORT };
	ck_assert_int_eq(us_tcp_bind(p->l, &a), 0);
	ck_assert_int_eq(us_tcp_listen(p->l, 0, 8), 0);
	p->seq = PEER_ISS;
	ck_assert_int_eq(put(p, US_TCP_SYN, NULL, 0, false, NULL), 0);
	ck_assert_int_eq(p->link.count, 1);
	struct us_ipv4_hdr ip;
	struct us_tcp_hdr h;
	parse_sent(&p->link.fr[0], &ip, &h);
	ck_assert_uint_eq(h.flags, US_TCP_SYN | US_TCP_ACK);
	ck_assert(completed_csum_ok(&p->link.fr[0]));
	p->siss = h.seq;
	link_clear(&p->link);
	p->seq++;
	ck_assert_int_eq(put(p, US_TCP_ACK, NULL, 0, false, NULL), 0);
	p->t = us_tcp_accept(p->l, NULL, NULL, NULL, &err);
	ck_assert_ptr_nonnull(p->t);
	return p;
}

static void peer_free(struct peer *p)
{
	us_tcp_abort(p->t, p->now);
	us_tcp_close(p->l, p->now);
	link_clear(&p->link);
	us_test_stack_free(p->s);
	free(p);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 8));
}

/* ---- Receive -------------------------------------------------------------- */

START_TEST(gso_tcp_super_frame_of_60000_bytes_is_delivered_whole)
{
	struct peer *p = peer_new(0);
	static uint8_t data[60000], got[65536];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = pattern(i);
	/* As tun hands it over: TSO, gso_size the MSS, checksum partial. */
	struct us_rx_meta m = { .gso_type = US_GSO_TCPV4, .gso_size = MSS, .hdr_len = 54,
				.csum_partial = true, .csum_start = 34, .csum_offset = 16 };
	ck_assert_int_eq(put(p, US_TCP_ACK | US_TCP_PSH, data, sizeof data, false, &m), 0);
	ck_assert_uint_eq(us_stack_counter(p->s, "eth.in_gso_frames"), 1);
	ck_assert_uint_eq(us_tcp_readable(p->t), sizeof data);
	ck_assert_int_eq(us_tcp_recv(p->t, p->now, got, sizeof got), (int)sizeof data);
	ck_assert_mem_eq(got, data, sizeof data);
	peer_free(p);
}
END_TEST

START_TEST(gso_super_frame_out_of_order_waits_for_the_hole)
{
	struct peer *p = peer_new(0);
	static uint8_t data[30000], got[65536];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = pattern(i);
	struct us_rx_meta m = { .gso_type = US_GSO_TCPV4, .gso_size = MSS, .csum_valid = true };
	uint32_t first = p->seq;
	/* The second half first, as one super-frame: held out of order. */
	p->seq = first + 10000;
	ck_assert_int_eq(put(p, US_TCP_ACK, data + 10000, 20000, false, &m), 0);
	ck_assert_uint_eq(us_tcp_readable(p->t), 0);
	link_clear(&p->link);
	/* The hole filled: everything readable at once. */
	p->seq = first;
	ck_assert_int_eq(put(p, US_TCP_ACK, data, 10000, false, &m), 0);
	ck_assert_uint_eq(us_tcp_readable(p->t), sizeof data);
	ck_assert_int_eq(us_tcp_recv(p->t, p->now, got, sizeof got), (int)sizeof data);
	ck_assert_mem_eq(got, data, sizeof data);
	peer_free(p);
}
END_TEST

START_TEST(csum_valid_skips_a_wrong_checksum_only_when_set)
{
	struct peer *p = peer_new(0);
	uint8_t data[100];
	memset(data, 'x', sizeof data);
	/* Plain frame, spoiled checksum: dropped. */
	ck_assert_int_lt(put(p, US_TCP_ACK, data, sizeof data, true, NULL), 0);
	struct us_rx_meta none = { 0 };
	ck_assert_int_lt(put(p, US_TCP_ACK, data, sizeof data, true, &none), 0);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.drop_bad_checksum"), 2);
	ck_assert_uint_eq(us_tcp_readable(p->t), 0);
	/* DATA_VALID: the kernel checked it; taken as is. */
	struct us_rx_meta valid = { .csum_valid = true };
	ck_assert_int_eq(put(p, US_TCP_ACK, data, sizeof data, true, &valid), 0);
	ck_assert_uint_eq(us_tcp_readable(p->t), 100);
	p->seq += 100;
	/* NEEDS_CSUM: it never left the host; taken as is. */
	struct us_rx_meta partial = { .csum_partial = true, .csum_start = 34, .csum_offset = 16 };
	ck_assert_int_eq(put(p, US_TCP_ACK, data, sizeof data, true, &partial), 0);
	ck_assert_uint_eq(us_tcp_readable(p->t), 200);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.drop_bad_checksum"), 2);
	ck_assert_uint_eq(us_stack_counter(p->s, "eth.in_csum_trusted"), 2);
	peer_free(p);
}
END_TEST

static int udp_events;
static void on_udp(void *ctx, int ev)
{
	(void)ctx;
	udp_events |= ev;
}

START_TEST(uso_super_frame_is_split_into_its_datagrams)
{
	struct link link = { 0 };
	struct us_stack *s = stack_new(&link, US_OFFLOAD_CSUM | US_OFFLOAD_USO4);
	int err = 0;
	struct us_udp *u = us_udp_open(s, US_AF_INET, on_udp, NULL, &err);
	ck_assert_ptr_nonnull(u);
	struct us_addr a = { .family = US_AF_INET, .port = 9999 };
	ck_assert_int_eq(us_udp_bind(u, &a), 0);
	/* 1000 + 1000 + 500 bytes behind one UDP header, as UDP_SEGMENT makes them. */
	static uint8_t body[8 + 2500], f[4096];
	for (size_t i = 0; i < 2500; i++)
		body[8 + i] = pattern(i);
	struct us_udp_hdr h = { .sport = 5555, .dport = 9999, .length = sizeof body };
	ck_assert_uint_eq(us_udp_emit(&h, body, sizeof body), 8);
	/* The partial checksum: the pseudo-header sum only. */
	us_put_be16(body + 6, (uint16_t)~us_csum_fold(us_csum_pseudo4(PEER_IP, STACK_IP,
								      US_IPPROTO_UDP,
								      sizeof body)));
	size_t fl = frame4(f, sizeof f, US_IPPROTO_UDP, body, sizeof body);
	struct us_rx_meta m = { .gso_type = US_GSO_UDP_L4, .gso_size = 1000, .hdr_len = 42,
				.csum_partial = true, .csum_start = 34, .csum_offset = 6 };
	ck_assert_int_eq(us_stack_input_meta(s, 0, 0, f, fl, &m), 0);
	uint8_t got[2000];
	struct us_addr from;
	size_t sizes[3] = { 1000, 1000, 500 };
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(us_udp_recvfrom(u, got, sizeof got, &from), (int)sizes[i]);
		ck_assert_uint_eq(from.port, 5555);
		for (size_t j = 0; j < sizes[i]; j++)
			ck_assert_uint_eq(got[j], pattern((size_t)i * 1000 + j));
	}
	ck_assert_int_eq(us_udp_recvfrom(u, got, sizeof got, &from), -EAGAIN);
	us_udp_close(u);
	link_clear(&link);
	us_test_stack_free(s);
}
END_TEST

/* ---- Transmit ------------------------------------------------------------- */

#define TSO (US_OFFLOAD_CSUM | US_OFFLOAD_TSO4 | US_OFFLOAD_TSO6)

START_TEST(tso_sends_the_initial_window_as_one_super_frame)
{
	struct peer *p = peer_new(TSO);
	static uint8_t data[40000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = pattern(i);
	ck_assert_int_eq(us_tcp_send(p->t, p->now, data, sizeof data), (int)sizeof data);
	/* RFC 6928: an initial window of 10 segments, in one frame. */
	ck_assert_int_eq(p->link.count, 1);
	const struct sent *s = &p->link.fr[0];
	ck_assert_uint_eq(s->f.gso_type, US_GSO_TCPV4);
	ck_assert_uint_eq(s->f.gso_size, MSS);
	ck_assert_uint_eq(s->f.hdr_len, 54);
	ck_assert(s->f.csum_partial);
	ck_assert_uint_eq(s->f.csum_start, 34);
	ck_assert_uint_eq(s->f.csum_offset, 16);
	ck_assert_uint_eq(s->f.len, 54 + 10 * MSS);
	struct us_ipv4_hdr ip;
	struct us_tcp_hdr h;
	parse_sent(s, &ip, &h);
	/* The IP length field tells the whole: 20 + 20 + 14600. */
	ck_assert_uint_eq(ip.payload_len, 20 + 10 * MSS);
	ck_assert(ip.df);
	ck_assert_uint_eq(h.seq, p->siss + 1);
	ck_assert_mem_eq(h.payload, data, 10 * MSS);
	/* The field holds the pseudo-header sum: completed, it verifies. */
	ck_assert(completed_csum_ok(s));
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.out_segs") >= 10, 1);
	uint16_t id0 = ip.id;
	link_clear(&p->link);
	/* All acknowledged: cwnd 20 segments; the next frame's IP ID skips the
	 * 10 the link gave the first frame's segments. */
	ack(p, 1 + 10 * MSS);
	ck_assert_int_ge(p->link.count, 1);
	parse_sent(&p->link.fr[0], &ip, &h);
	ck_assert_uint_eq(ip.id, (uint16_t)(id0 + 10));
	ck_assert_uint_eq(p->link.fr[0].f.gso_type, US_GSO_TCPV4);
	ck_assert_uint_gt(h.payload_len, MSS);
	ck_assert_uint_eq(h.payload_len % MSS, 0);
	ck_assert_mem_eq(h.payload, data + 10 * MSS, h.payload_len);
	peer_free(p);
}
END_TEST

START_TEST(tso_burst_partly_acknowledged_is_resent_in_mss_segments)
{
	struct peer *p = peer_new(TSO);
	static uint8_t data[10 * MSS];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = pattern(i);
	ck_assert_int_eq(us_tcp_send(p->t, p->now, data, sizeof data), (int)sizeof data);
	ck_assert_int_eq(p->link.count, 1);
	ck_assert_uint_eq(p->link.fr[0].f.len, 54 + 10 * MSS);
	link_clear(&p->link);
	/* Three segments of the burst arrive; the rest is lost. */
	ack(p, 1 + 3 * MSS);
	ck_assert_int_eq(p->link.count, 0);
	/* The retransmission timeout: one MSS from SND.UNA, a plain frame. */
	us_time_t d = us_stack_next_deadline(p->s);
	ck_assert(d != US_TIME_NEVER);
	p->now = d;
	us_stack_poll(p->s, p->now);
	ck_assert_int_eq(p->link.count, 1);
	const struct sent *s = &p->link.fr[0];
	struct us_ipv4_hdr ip;
	struct us_tcp_hdr h;
	parse_sent(s, &ip, &h);
	ck_assert_uint_eq(s->f.gso_type, US_GSO_NONE);
	ck_assert_uint_eq(h.seq, p->siss + 1 + 3 * MSS);
	ck_assert_uint_eq(h.payload_len, MSS);
	ck_assert_mem_eq(h.payload, data + 3 * MSS, MSS);
	ck_assert(completed_csum_ok(s));
	link_clear(&p->link);
	/* Acknowledged: slow start resends the rest, 2 segments as one frame. */
	ack(p, 1 + 4 * MSS);
	ck_assert_int_ge(p->link.count, 1);
	s = &p->link.fr[0];
	parse_sent(s, &ip, &h);
	ck_assert_uint_eq(h.seq, p->siss + 1 + 4 * MSS);
	ck_assert_uint_eq(h.payload_len % MSS, 0);
	ck_assert_mem_eq(h.payload, data + 4 * MSS, h.payload_len);
	ck_assert(completed_csum_ok(s));
	peer_free(p);
}
END_TEST

START_TEST(without_offloads_segments_are_plain_frames)
{
	struct peer *p = peer_new(0);
	static uint8_t data[40000];
	memset(data, 'y', sizeof data);
	ck_assert_int_eq(us_tcp_send(p->t, p->now, data, sizeof data), (int)sizeof data);
	ck_assert_int_eq(p->link.count, 10);
	for (int i = 0; i < p->link.count; i++) {
		const struct sent *s = &p->link.fr[i];
		ck_assert_uint_eq(s->f.gso_type, US_GSO_NONE);
		ck_assert(!s->f.csum_partial);
		ck_assert_uint_eq(s->f.len, 54 + MSS);
		ck_assert(completed_csum_ok(s));
	}
	ck_assert_uint_eq(us_stack_counter(p->s, "eth.out_gso_frames"), 0);
	ck_assert_uint_eq(us_stack_counter(p->s, "eth.out_csum_partial"), 0);
	peer_free(p);
}
END_TEST

START_TEST(csum_offload_without_tso_sends_mss_segments_with_partial_checksums)
{
	struct peer *p = peer_new(US_OFFLOAD_CSUM);
	static uint8_t data[5000];
	memset(data, 'z', sizeof data);
	ck_assert_int_eq(us_tcp_send(p->t, p->now, data, sizeof data), (int)sizeof data);
	/* Three full segments; Nagle holds the last 620 bytes. */
	ck_assert_int_eq(p->link.count, 3);
	for (int i = 0; i < p->link.count; i++) {
		const struct sent *s = &p->link.fr[i];
		ck_assert_uint_eq(s->f.gso_type, US_GSO_NONE);
		ck_assert(s->f.csum_partial);
		ck_assert(completed_csum_ok(s));
	}
	peer_free(p);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("offload");
	TCase *rx = tcase_create("receive");
	tcase_add_test(rx, gso_tcp_super_frame_of_60000_bytes_is_delivered_whole);
	tcase_add_test(rx, gso_super_frame_out_of_order_waits_for_the_hole);
	tcase_add_test(rx, csum_valid_skips_a_wrong_checksum_only_when_set);
	tcase_add_test(rx, uso_super_frame_is_split_into_its_datagrams);
	suite_add_tcase(s, rx);
	TCase *tx = tcase_create("transmit");
	tcase_add_test(tx, tso_sends_the_initial_window_as_one_super_frame);
	tcase_add_test(tx, tso_burst_partly_acknowledged_is_resent_in_mss_segments);
	tcase_add_test(tx, without_offloads_segments_are_plain_frames);
	tcase_add_test(tx, csum_offload_without_tso_sends_mss_segments_with_partial_checksums);
	suite_add_tcase(s, tx);
	return s;
}

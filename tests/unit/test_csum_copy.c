/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_csum_copy.c - copying and summing in one pass: us_csum_copy()
 * and us_csum_add_at() (wire/checksum.h) against memcpy plus us_csum_partial()
 * and a byte-at-a-time RFC 1071 reference; the rings' summing read and write
 * (us_tcp_ring_read_csum, us_tcp_ring_write_csum) at every wrap; and TCP using
 * them: segments cut across the send ring's wrap carry valid checksums (RFC
 * 9293 §3.1), and a segment with data and a wrong checksum changes nothing
 * (no data, no RCV.NXT or SND.UNA move, no ACK), even when its text was
 * being copied across the receive ring's wrap.
 *
 * Read first: src/stack/wire/checksum.h (Chaining), then tcp_input.c
 * csum_check().
 *
 * The stack is 02:00:00:00:00:02, 198.51.100.2/24 on a virtual clock (no
 * window scaling, timestamps or SACK: plain 20-byte headers); the peer is
 * 02:00:00:00:00:01, 198.51.100.1, writing its segments with the wire
 * emitters and checking the stack's with us_tcp_csum_ok().
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include <ustack/core.h>

#include "tcp.h" /* the rings, RCV.NXT and SND.UNA */
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/wire.h"

/* ---- The functions ----------------------------------------------------------- */

#define MAXLEN 9000
#define GUARD 64

/* us_csum_copy of src+sa to dst+da: the copy is exact, nothing around it is
 * written, and the sum is memcpy + us_csum_partial's, and the reference's. */
static void check_copy(const uint8_t *src, size_t sa, size_t da, size_t len, uint32_t sum)
{
	static uint8_t dst[MAXLEN + 3 * GUARD], guard[GUARD];
	uint8_t *d = dst + GUARD + da;

	memset(guard, 0xa5, sizeof guard);
	memset(d - GUARD, 0xa5, len + 2 * GUARD);
	uint32_t got = us_csum_copy(d, src + sa, len, sum);
	ck_assert_msg(memcmp(d, src + sa, len) == 0, "copy differs: len %zu sa %zu da %zu", len, sa,
		      da);
	ck_assert_msg(memcmp(d - GUARD, guard, GUARD) == 0 && memcmp(d + len, guard, GUARD) == 0,
		      "written outside: len %zu sa %zu da %zu", len, sa, da);
	uint32_t want = us_csum_partial(src + sa, len, sum);
	ck_assert_msg(got == want, "len %zu sa %zu da %zu sum %#x: %#x, partial %#x", len, sa, da, sum,
		      got, want);
	ck_assert_uint_eq(us_test_csum_fold(got),
			  us_test_csum_ref(src + sa, len, us_test_csum_fold(sum)));
}

START_TEST(copy_equals_memcpy_and_partial_at_every_alignment)
{
	static uint8_t src[MAXLEN + GUARD];
	static const size_t lens[] = { 1448, 1449, 1460, 4095, 4096, 9000 - 16 };

	us_test_rng_state = 0x1234567887654321ull;
	us_test_fill_random(src, sizeof src);
	for (size_t sa = 0; sa < 16; sa++) {
		for (size_t da = 0; da < 16; da++) {
			for (size_t len = 0; len <= 130; len++)
				check_copy(src, sa, da, len, (uint32_t)(len * 977));
			for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
				check_copy(src, sa, da, lens[i], 0);
		}
	}
}
END_TEST

START_TEST(copy_equals_memcpy_and_partial_at_random_lengths_and_sums)
{
	static uint8_t src[MAXLEN + GUARD];
	static const uint32_t sums[] = { 0, 1, 0xffff, 0x10000, 0x1fffe, 0xffffffffu };

	us_test_rng_state = 0x0badc0ffee15600dull;
	us_test_fill_random(src, sizeof src);
	for (int i = 0; i < 600; i++) {
		size_t len = (size_t)(us_test_rng() % (MAXLEN + 1));
		size_t sa = (size_t)(us_test_rng() % 64), da = (size_t)(us_test_rng() % 64);
		if (len + sa > MAXLEN + GUARD)
			len = MAXLEN + GUARD - sa;
		if (len + da > MAXLEN + GUARD)
			len = MAXLEN + GUARD - da;
		check_copy(src, sa, da, len, sums[i % 6]);
		check_copy(src, sa, da, len, (uint32_t)us_test_rng());
	}
}
END_TEST

/* The vector loop's lanes are widest on all-zero words (each counts
 * -0x8000) and on all-0xffff words; blocks longer than its block size
 * (256 KB) must carry over. Every carry must survive. */
START_TEST(copy_of_long_uniform_and_random_data_keeps_every_carry)
{
	const size_t n = 700001;
	uint8_t *src = malloc(n), *dst = malloc(n);
	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(dst);
	static const int fills[] = { 0x00, 0xff, 0x80, 0x7f, -1 };

	us_test_rng_state = 99;
	for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
		if (fills[f] < 0)
			us_test_fill_random(src, n);
		else
			memset(src, fills[f], n);
		for (size_t len = n - 3; len <= n; len++) {
			uint32_t got = us_csum_copy(dst, src, len, 0);
			ck_assert_mem_eq(dst, src, len);
			ck_assert_uint_eq(got, us_csum_partial(src, len, 0));
			ck_assert_uint_eq(us_test_csum_fold(got), us_test_csum_ref(src, len, 0));
		}
	}
	/* All zero: a sum of 0 stays 0, the ones' complement zero it is. */
	memset(src, 0, n);
	ck_assert_uint_eq(us_csum_copy(dst, src, n, 0), 0);
	free(src);
	free(dst);
}
END_TEST

START_TEST(copies_of_even_chunks_chain_to_the_sum_of_the_whole)
{
	static uint8_t src[4000], dst[4000];

	us_test_rng_state = 7;
	us_test_fill_random(src, sizeof src);
	for (size_t cut = 0; cut <= sizeof src; cut += 2) {
		uint32_t s = us_csum_copy(dst, src, cut, 0x4321);
		s = us_csum_copy(dst + cut, src + cut, sizeof src - cut, s);
		ck_assert_mem_eq(dst, src, sizeof src);
		ck_assert_uint_eq(us_test_csum_fold(s),
				  us_test_csum_fold(us_csum_partial(src, sizeof src, 0x4321)));
	}
}
END_TEST

/* RFC 1071 §2(B): a chunk that starts at an odd offset has its sum swapped;
 * us_csum_add_at() does it, the chunk before it may then be odd. */
START_TEST(add_at_swaps_the_sum_of_a_chunk_at_an_odd_offset)
{
	static uint8_t src[1501], dst[1501];

	us_test_rng_state = 11;
	us_test_fill_random(src, sizeof src);
	for (size_t len = sizeof src - 1; len <= sizeof src; len++) {
		for (size_t cut = 0; cut <= len; cut++) {
			uint32_t s1 = us_csum_copy(dst, src, cut, 0xbeef);
			uint32_t s2 = us_csum_copy(dst + cut, src + cut, len - cut, 0);
			uint32_t s = us_csum_add_at(s1, s2, cut);
			ck_assert_uint_eq(us_test_csum_fold(s), us_test_csum_ref(src, len, 0xbeef));
			ck_assert_uint_eq(us_test_csum_fold(s),
					  us_test_csum_fold(us_csum_partial(src, len, 0xbeef)));
		}
	}
	/* Without the swap an odd cut gives another sum (the test can fail). */
	uint32_t s1 = us_csum_partial(src, 3, 0);
	uint32_t s2 = us_csum_partial(src + 3, 100, 0);
	ck_assert_uint_ne(us_test_csum_fold(us_csum_add_at(s1, s2, 0)),
			  us_test_csum_ref(src, 103, 0));
}
END_TEST

/* ---- The rings ----------------------------------------------------------------- */

static struct us_tcp_ring ring_new(uint32_t cap, uint32_t head, uint32_t len)
{
	struct us_tcp_ring r = { .buf = malloc(cap), .cap = cap, .head = head, .len = len };
	ck_assert_ptr_nonnull(r.buf);
	us_test_fill_random(r.buf, cap);
	return r;
}

START_TEST(ring_read_csum_equals_read_and_partial_at_every_wrap)
{
	static const uint32_t caps[] = { 61, 64 };
	uint8_t want[64], got[64 + 8];

	us_test_rng_state = 5;
	for (size_t c = 0; c < 2; c++) {
		uint32_t cap = caps[c];
		struct us_tcp_ring r = ring_new(cap, 0, cap);
		for (r.head = 0; r.head < cap; r.head++) {
			for (uint32_t off = 0; off < 3; off++) {
				for (uint32_t n = 0; n + off <= cap; n++) {
					memset(got, 0x5a, sizeof got);
					us_tcp_ring_read(&r, off, want, n);
					uint32_t s = us_tcp_ring_read_csum(&r, off, got, n, 0x1234);
					ck_assert_mem_eq(got, want, n);
					ck_assert_uint_eq(got[n], 0x5a);
					ck_assert_msg(us_test_csum_fold(s) ==
							  us_test_csum_ref(want, n, 0x1234),
						      "cap %u head %u off %u n %u", cap, r.head,
						      off, n);
				}
			}
		}
		free(r.buf);
	}
}
END_TEST

START_TEST(ring_write_csum_equals_write_and_partial_at_every_wrap)
{
	static const uint32_t caps[] = { 61, 64 };
	uint8_t in[64];

	us_test_rng_state = 6;
	us_test_fill_random(in, sizeof in);
	for (size_t c = 0; c < 2; c++) {
		uint32_t cap = caps[c];
		struct us_tcp_ring a = ring_new(cap, 0, 0);
		struct us_tcp_ring b = ring_new(cap, 0, 0);
		for (uint32_t head = 0; head < cap; head++) {
			for (uint32_t off = 0; off < 2; off++) {
				for (uint32_t n = 0; n + off <= cap; n++) {
					memcpy(b.buf, a.buf, cap);
					a.head = b.head = head;
					us_tcp_ring_write(&a, off, in, n);
					uint32_t s = us_tcp_ring_write_csum(&b, off, in, n, 0);
					ck_assert_mem_eq(a.buf, b.buf, cap);
					ck_assert_msg(
					    us_test_csum_fold(s) == us_test_csum_ref(in, n, 0),
					    "cap %u head %u off %u n %u", cap, head, off, n);
				}
			}
		}
		free(a.buf);
		free(b.buf);
	}
}
END_TEST

/* ---- TCP ------------------------------------------------------------------------ */

#define STACK_IP 0xc6336402u /* 198.51.100.2 */
#define PEER_IP 0xc6336401u  /* 198.51.100.1 */
#define PEER_PORT 40000
#define SRV_PORT 80
#define PEER_ISS 1000000u
#define MSS 1460
#define RING 4096 /* SO_SNDBUF and SO_RCVBUF: the rings wrap soon */

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };

struct peer {
	struct us_test_link link;
	struct us_stack *s;
	us_time_t now;
	struct us_tcp *l, *t; /* listener, accepted */
	uint32_t siss;        /* the stack's ISS */
	uint32_t seq;         /* the peer's next sequence number, absolute */
};

/* How the peer spoils a segment after its checksum is computed. */
enum spoil { CLEAN, FLIP_DATA_BYTE };

/* An IPv4 frame from the peer around a TCP segment with data; the checksum
 * is right unless spoil flips a data byte after it was computed (at
 * flip_at), as a link error would. */
static int put(struct peer *p, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *data,
	       size_t len, enum spoil spoil, size_t flip_at)
{
	static uint8_t f[2048];
	static const uint8_t mss_opt[4] = { 2, 4, MSS >> 8, MSS & 0xff };
	bool syn = flags & US_TCP_SYN;
	size_t optlen = syn ? 4 : 0, n = 20 + optlen + len;
	ck_assert_uint_le(34 + n, sizeof f);
	struct us_ipv4_hdr ip = { .id = 0x4242, .df = true, .ttl = 64, .proto = US_IPPROTO_TCP,
				  .src = PEER_IP, .dst = STACK_IP, .payload_len = n };
	uint8_t *tcp = f + us_test_eth_ipv4(f, sizeof f, &ip);
	struct us_tcp_hdr h = { .sport = PEER_PORT, .dport = SRV_PORT, .seq = seq, .ack = ack,
				.flags = flags, .window = 65535 };
	ck_assert_uint_eq(us_tcp_emit(&h, tcp, sizeof f - 34), 20);
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	if (optlen)
		memcpy(tcp + 20, mss_opt, optlen);
	if (len)
		memcpy(tcp + 20 + optlen, data, len);
	us_tcp_csum_fill(tcp, n, us_csum_pseudo4(PEER_IP, STACK_IP, US_IPPROTO_TCP, (uint32_t)n));
	if (spoil == FLIP_DATA_BYTE)
		tcp[20 + optlen + flip_at] ^= 0x40;
	size_t fl = 34 + n < 60 ? 60 : 34 + n;
	return us_stack_input(p->s, p->now, 0, f, fl);
}

/* The TCP header of frame i the stack sent, which must carry a valid
 * checksum (RFC 9293 §3.1), checked as a receiver checks it. */
static void sent(const struct peer *p, int i, struct us_tcp_hdr *h)
{
	struct us_eth_hdr eth;
	struct us_ipv4_hdr ip;
	ck_assert_int_lt(i, p->link.count);
	ck_assert_int_eq(us_eth_parse(p->link.frame[i], p->link.len[i], &eth), US_WIRE_OK);
	ck_assert_int_eq(us_ipv4_parse(eth.payload, eth.payload_len, &ip), US_WIRE_OK);
	ck_assert_uint_eq(ip.proto, US_IPPROTO_TCP);
	ck_assert_msg(us_tcp_csum_ok(ip.payload, ip.payload_len,
				     us_csum_pseudo4(ip.src, ip.dst, US_IPPROTO_TCP,
						     (uint32_t)ip.payload_len)),
		      "frame %d: bad TCP checksum", i);
	ck_assert_int_eq(us_tcp_parse(ip.payload, ip.payload_len, h), US_WIRE_OK);
}

/* A stack listening on port 80 with RING-byte buffers, and a connection
 * from the peer accepted, NODELAY (segments leave as soon as they may). */
static struct peer *peer_new(void)
{
	struct peer *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	struct us_stack_config cfg = { .seed = 1, .small_bufs = 64, .large_bufs = 16,
				       .no_dad = true, .no_router_solicit = true,
				       .tcp_no_wscale = true, .tcp_no_timestamps = true,
				       .tcp_no_sack = true };
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)i;
	p->s = us_stack_new(&cfg);
	ck_assert_ptr_nonnull(p->s);
	struct us_iface_config ic = { .name = "test0", .mtu = 1500,
				      .transmit = us_test_link_transmit, .transmit_ctx = &p->link };
	memcpy(ic.mac, our_mac, 6);
	ck_assert_int_eq(us_stack_add_iface(p->s, 0, &ic), 0);
	ck_assert_int_eq(us_stack_add_ipv4(p->s, 0, 0, STACK_IP, 24), 0);
	us_test_meet_ipv4(p->s, &p->link, 0, PEER_IP, 1);
	int err = 0;
	p->l = us_tcp_open(p->s, US_AF_INET, NULL, NULL, &err);
	ck_assert_ptr_nonnull(p->l);
	ck_assert_int_eq(us_tcp_setopt(p->l, US_OPT_SNDBUF, RING), 0);
	ck_assert_int_eq(us_tcp_setopt(p->l, US_OPT_RCVBUF, RING), 0);
	struct us_addr a = { .family = US_AF_INET, .port = SRV_PORT };
	ck_assert_int_eq(us_tcp_bind(p->l, &a), 0);
	ck_assert_int_eq(us_tcp_listen(p->l, 0, 8), 0);
	p->link.count = 0;
	ck_assert_int_eq(put(p, PEER_ISS, 0, US_TCP_SYN, NULL, 0, CLEAN, 0), 0);
	ck_assert_int_eq(p->link.count, 1);
	struct us_tcp_hdr h;
	sent(p, 0, &h);
	ck_assert_uint_eq(h.flags, US_TCP_SYN | US_TCP_ACK);
	p->siss = h.seq;
	p->seq = PEER_ISS + 1;
	ck_assert_int_eq(put(p, p->seq, p->siss + 1, US_TCP_ACK, NULL, 0, CLEAN, 0), 0);
	p->t = us_tcp_accept(p->l, NULL, NULL, NULL, &err);
	ck_assert_ptr_nonnull(p->t);
	ck_assert_int_eq(us_tcp_setopt(p->t, US_OPT_NODELAY, 1), 0);
	p->link.count = 0;
	return p;
}

static void peer_free(struct peer *p)
{
	us_tcp_abort(p->t, p->now);
	us_tcp_close(p->l, p->now);
	us_test_stack_free(p->s);
	free(p);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) + 1);
}

/* The stack sends first bytes, the peer acknowledges them (the send ring's
 * head moves to first), then the stack sends 3000 more, which wrap around
 * the end of the 4096-byte ring after 4096 - first bytes: every segment
 * leaves with a valid checksum and the right bytes. */
static void send_across_the_wrap(uint32_t first)
{
	struct peer *p = peer_new();
	static uint8_t data[RING + 3000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = pattern(i);
	ck_assert_int_eq(us_tcp_send(p->t, p->now, data, first), (int)first);
	uint32_t got = 0;
	struct us_tcp_hdr h;
	for (int i = 0; i < p->link.count; i++) {
		sent(p, i, &h);
		got += (uint32_t)h.payload_len;
	}
	ck_assert_uint_eq(got, first);
	ck_assert_int_eq(put(p, p->seq, p->siss + 1 + first, US_TCP_ACK, NULL, 0, CLEAN, 0), 0);
	ck_assert_uint_eq(p->t->sndq.len, 0);
	ck_assert_uint_eq(p->t->sndq.head, first);
	p->link.count = 0;

	ck_assert_int_eq(us_tcp_send(p->t, p->now, data + first, 3000), 3000);
	ck_assert_int_ge(p->link.count, 3);
	uint32_t at = first;
	for (int i = 0; i < p->link.count; i++) {
		sent(p, i, &h);
		ck_assert_uint_eq(h.seq, p->siss + 1 + at);
		ck_assert_mem_eq(h.payload, data + at, h.payload_len);
		at += (uint32_t)h.payload_len;
	}
	ck_assert_uint_eq(at, first + 3000);
	peer_free(p);
}

START_TEST(segment_cut_across_an_odd_send_ring_wrap_has_a_valid_checksum)
{
	/* 4096 - 3095 = 1001 bytes before the wrap: the second piece of the
	 * first segment starts at an odd offset of its data. */
	send_across_the_wrap(3095);
	send_across_the_wrap(3097);
}
END_TEST

START_TEST(segment_cut_across_an_even_send_ring_wrap_has_a_valid_checksum)
{
	send_across_the_wrap(3096);
	send_across_the_wrap(4000);
}
END_TEST

/*
 * The peer's first bytes are read by the user, so the receive ring's head
 * is at `first` and the next segment's text wraps after 4096 - first bytes.
 * The stack has 10 bytes of its own in flight, so that an ACK in a spoiled
 * segment would have something to acknowledge.
 */
static struct peer *peer_with_ring_at(uint32_t first, uint8_t *data)
{
	struct peer *p = peer_new();
	static uint8_t got[RING];
	ck_assert_int_eq(us_tcp_send(p->t, p->now, (const uint8_t *)"0123456789", 10), 10);
	for (uint32_t off = 0; off < first;) {
		uint32_t n = first - off < MSS ? first - off : MSS;
		ck_assert_int_eq(put(p, p->seq, p->siss + 1, US_TCP_ACK, data + off, n, CLEAN, 0), 0);
		p->seq += n;
		off += n;
	}
	ck_assert_int_eq(us_tcp_recv(p->t, p->now, got, sizeof got), (int)first);
	ck_assert_mem_eq(got, data, first);
	ck_assert_uint_eq(p->t->rcvq.head, first);
	ck_assert_uint_eq(p->t->rcvq.len, 0);
	p->link.count = 0;
	return p;
}

START_TEST(data_with_a_wrong_checksum_across_the_receive_ring_wrap_changes_nothing)
{
	static uint8_t data[RING + MSS], got[RING];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = pattern(i);
	static const uint32_t firsts[] = { 3095, 3096 };
	for (size_t k = 0; k < 2; k++) {
		uint32_t first = firsts[k];
		struct peer *p = peer_with_ring_at(first, data);
		uint32_t rcv_nxt = p->t->rcv_nxt, snd_una = p->t->snd_una;
		/* In order, acknowledging our 10 bytes, with a FIN; a byte
		 * before the wrap and one after it spoiled in turn. */
		uint8_t fl = US_TCP_ACK | US_TCP_PSH | US_TCP_FIN;
		size_t flips[] = { 3, RING - first + 5 };
		for (size_t j = 0; j < 2; j++) {
			ck_assert_int_lt(put(p, p->seq, p->siss + 11, fl, data + first, MSS,
					     FLIP_DATA_BYTE, flips[j]),
					 0);
			ck_assert_uint_eq(us_stack_counter(p->s, "tcp.drop_bad_checksum"), j + 1);
			ck_assert_uint_eq(us_tcp_readable(p->t), 0);
			ck_assert_uint_eq(p->t->rcvq.len, 0);
			ck_assert_uint_eq(p->t->rcv_nxt, rcv_nxt);
			ck_assert_uint_eq(p->t->snd_una, snd_una);
			ck_assert_int_eq(us_tcp_state(p->t), US_TCP_ESTABLISHED);
			ck_assert_int_eq(p->link.count, 0); /* no ACK */
		}
		/* The same segment unspoiled is taken whole. */
		ck_assert_int_eq(put(p, p->seq, p->siss + 11, fl, data + first, MSS, CLEAN, 0), 0);
		ck_assert_uint_eq(p->t->rcv_nxt, rcv_nxt + MSS + 1);
		ck_assert_uint_eq(p->t->snd_una, snd_una + 10);
		ck_assert_int_eq(us_tcp_state(p->t), US_TCP_CLOSE_WAIT);
		ck_assert_uint_eq(us_tcp_readable(p->t), MSS);
		ck_assert_int_eq(us_tcp_recv(p->t, p->now, got, sizeof got), MSS);
		ck_assert_mem_eq(got, data + first, MSS);
		ck_assert_int_ge(p->link.count, 1);
		struct us_tcp_hdr h;
		sent(p, p->link.count - 1, &h);
		ck_assert_uint_eq(h.ack, p->seq + MSS + 1);
		peer_free(p);
	}
}
END_TEST

/* Out-of-order data lies in the receive ring's free space: a spoiled
 * in-order segment that overlaps it must not write over it. */
START_TEST(data_with_a_wrong_checksum_leaves_out_of_order_data_alone)
{
	static uint8_t data[3 * MSS], got[RING];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = pattern(i);
	struct peer *p = peer_with_ring_at(3095, data);
	uint32_t base = p->seq;
	const uint8_t *more = data + 100; /* what the peer sends next */
	/* [1000, 2460) first: kept out of order, across the wrap. */
	ck_assert_int_eq(put(p, base + 1000, p->siss + 1, US_TCP_ACK, more + 1000, MSS, CLEAN, 0), 0);
	ck_assert_uint_eq(us_tcp_readable(p->t), 0);
	p->link.count = 0;
	/* [0, 1400) spoiled at 1200, inside the out-of-order range. */
	ck_assert_int_lt(put(p, base, p->siss + 11, US_TCP_ACK, more, 1400, FLIP_DATA_BYTE, 1200), 0);
	ck_assert_uint_eq(us_tcp_readable(p->t), 0);
	ck_assert_uint_eq(p->t->snd_una, p->siss + 1);
	ck_assert_int_eq(p->link.count, 0);
	/* [0, 1000) clean: everything to 2460 readable, as sent. */
	ck_assert_int_eq(put(p, base, p->siss + 11, US_TCP_ACK, more, 1000, CLEAN, 0), 0);
	ck_assert_uint_eq(us_tcp_readable(p->t), 1000 + MSS);
	ck_assert_int_eq(us_tcp_recv(p->t, p->now, got, sizeof got), 1000 + MSS);
	ck_assert_mem_eq(got, more, 1000 + MSS);
	peer_free(p);
}
END_TEST

/* A segment that is not in order is checked in place: a wrong checksum
 * there changes nothing either (no ACK processed, no duplicate ACK). */
START_TEST(out_of_order_data_with_a_wrong_checksum_changes_nothing)
{
	static uint8_t data[2 * MSS];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = pattern(i);
	struct peer *p = peer_with_ring_at(100, data);
	uint32_t snd_una = p->t->snd_una;
	ck_assert_int_lt(put(p, p->seq + 500, p->siss + 11, US_TCP_ACK, data, 700, FLIP_DATA_BYTE, 0),
			 0);
	ck_assert_uint_eq(p->t->snd_una, snd_una);
	ck_assert_int_eq(p->t->n_ooo, 0);
	ck_assert_int_eq(p->link.count, 0);
	ck_assert_uint_eq(us_stack_counter(p->s, "tcp.drop_bad_checksum"), 1);
	peer_free(p);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("csum_copy");
	TCase *fn = tcase_create("functions");
	tcase_add_test(fn, copy_equals_memcpy_and_partial_at_every_alignment);
	tcase_add_test(fn, copy_equals_memcpy_and_partial_at_random_lengths_and_sums);
	tcase_add_test(fn, copy_of_long_uniform_and_random_data_keeps_every_carry);
	tcase_add_test(fn, copies_of_even_chunks_chain_to_the_sum_of_the_whole);
	tcase_add_test(fn, add_at_swaps_the_sum_of_a_chunk_at_an_odd_offset);
	tcase_set_timeout(fn, 60);
	suite_add_tcase(s, fn);
	TCase *ring = tcase_create("rings");
	tcase_add_test(ring, ring_read_csum_equals_read_and_partial_at_every_wrap);
	tcase_add_test(ring, ring_write_csum_equals_write_and_partial_at_every_wrap);
	tcase_set_timeout(ring, 60);
	suite_add_tcase(s, ring);
	TCase *tcp = tcase_create("tcp");
	tcase_add_test(tcp, segment_cut_across_an_odd_send_ring_wrap_has_a_valid_checksum);
	tcase_add_test(tcp, segment_cut_across_an_even_send_ring_wrap_has_a_valid_checksum);
	tcase_add_test(tcp, data_with_a_wrong_checksum_across_the_receive_ring_wrap_changes_nothing);
	tcase_add_test(tcp, data_with_a_wrong_checksum_leaves_out_of_order_data_alone);
	tcase_add_test(tcp, out_of_order_data_with_a_wrong_checksum_changes_nothing);
	suite_add_tcase(s, tcp);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/stack/reass.c: IPv4 and IPv6 fragment reassembly in
 * every order, duplicates, overlaps (RFC 5722) and the poisoned key,
 * inconsistent and impossible lengths, the 65535-byte limit, timeouts at
 * their exact virtual time with the ICMP Time Exceeded they cause, and the
 * memory bound under a flood of datagrams that never complete.
 *
 * Read first: src/stack/reass.h (the data structures and return codes).
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <ustack/core.h>

#include "arp.h"
#include "reass.h"
#include "stack.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp6.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

/* Tests start at T0, after the test stack's second ARP announcement (2 s). */
#define T0 US_SEC(10)
#define PEER4 0xc6336401u /* 198.51.100.1 */
#define OURS4 0xc6336402u /* 198.51.100.2, the test stack */

/* fe80::1 and the test stack's link-local fe80::ff:fe00:2 (from 02:00:00:00:00:02). */
static const uint8_t peer6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t ours6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 0x02 };

/* The datagram payloads: no two 8-byte blocks alike, so a misplaced
 * fragment shows. */
static uint8_t payload[65536];

static void fill_payload(void)
{
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
}

static struct us_stack *reass_stack(struct us_test_link *link)
{
	fill_payload();
	struct us_stack *s = us_test_stack(link, 1);
	us_stack_poll(s, T0);
	link->count = 0;
	return s;
}

static struct us_reass_key key4(uint16_t id, uint8_t proto)
{
	struct us_reass_key k;
	memset(&k, 0, sizeof k);
	k.family = 4;
	k.proto = proto;
	k.id = id;
	us_put_be32(k.src, PEER4);
	us_put_be32(k.dst, OURS4);
	return k;
}

static struct us_reass_key key6(uint32_t id)
{
	struct us_reass_key k;
	memset(&k, 0, sizeof k);
	k.family = 6;
	k.id = id;
	memcpy(k.src, peer6, 16);
	memcpy(k.dst, ours6, 16);
	return k;
}

/* The header in front of the fragment at offset/len, as ip_input.c and
 * ip6_input.c pass it: the IPv4 header of the fragment; the IPv6 header of
 * the fragment packet and its Fragment header. */
static size_t make_hdr(const struct us_reass_key *k, uint32_t offset, size_t len, bool more,
		       uint8_t *hdr)
{
	if (k->family == 4) {
		struct us_ipv4_hdr h = {
			.id = (uint16_t)k->id,
			.mf = more,
			.frag_offset = (uint16_t)offset,
			.ttl = 64,
			.proto = k->proto,
			.src = us_get_be32(k->src),
			.dst = us_get_be32(k->dst),
			.payload_len = len,
		};
		ck_assert_uint_eq(us_ipv4_emit(&h, hdr, 60), 20);
		return 20;
	}
	struct us_ipv6_hdr h = {
		.payload_len = (uint16_t)(US_IPV6_FRAG_HDR_LEN + len),
		.next_header = US_IPPROTO_FRAGMENT,
		.hop_limit = 64,
	};
	memcpy(h.src.b, k->src, 16);
	memcpy(h.dst.b, k->dst, 16);
	ck_assert_uint_eq(us_ipv6_emit(&h, hdr, 40), 40);
	struct us_ipv6_frag fh = {
		.next_header = US_IPPROTO_UDP,
		.offset = (uint16_t)offset,
		.more = more,
		.id = k->id,
	};
	ck_assert_uint_eq(us_ipv6_frag_emit(&fh, hdr + 40, 8), 8);
	return 48;
}

/* Adds the fragment [offset, offset+len) of `payload` at time t. */
static int add(struct us_stack *s, us_time_t t, const struct us_reass_key *k, uint32_t offset,
	       uint32_t len, bool more, struct us_pbuf **out)
{
	uint8_t hdr[US_REASS_MAX_HDR];
	size_t hl = make_hdr(k, offset, len, more, hdr);
	s->now = t;
	return us_reass_add(s, k, offset, more, payload + offset, len, hdr, hl, out);
}

/* The same, expecting "still missing" (0) and no buffer out. */
static void add_missing(struct us_stack *s, us_time_t t, const struct us_reass_key *k,
			uint32_t offset, uint32_t len, bool more)
{
	struct us_pbuf *out = (struct us_pbuf *)&out; /* any non-NULL value */
	ck_assert_int_eq(add(s, t, k, offset, len, more, &out), 0);
	ck_assert_ptr_null(out);
}

/* out holds the header of the offset-0 fragment (first_len bytes of data)
 * and then `total` bytes of payload; it is freed. */
static void check_datagram(struct us_stack *s, struct us_pbuf *out, const struct us_reass_key *k,
			   uint32_t first_len, uint32_t total)
{
	uint8_t hdr[US_REASS_MAX_HDR];
	size_t hl = make_hdr(k, 0, first_len, true, hdr);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(out->len, hl + total);
	ck_assert_mem_eq(us_pbuf_data(out), hdr, hl);
	ck_assert_int_eq(memcmp(us_pbuf_data(out) + hl, payload, total), 0);
	ck_assert_uint_ge(us_pbuf_headroom(out), US_PBUF_HEADROOM);
	us_pbuf_free(&s->pool, out);
}

/* Feeds the datagram of `total` bytes cut in `piece`-byte fragments, in the
 * order order[] gives (indexes of fragments); it must complete exactly at
 * the last one. */
static void feed(struct us_stack *s, us_time_t t, const struct us_reass_key *k, uint32_t total,
		 uint32_t piece, const uint32_t *order, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = order[i] * piece;
		uint32_t len = off + piece < total ? piece : total - off;
		bool more = off + len < total;
		struct us_pbuf *out = NULL;
		int rc = add(s, t, k, off, len, more, &out);
		if (i + 1 < n) {
			ck_assert_int_eq(rc, 0);
			ck_assert_ptr_null(out);
		} else {
			ck_assert_int_eq(rc, 1);
			check_datagram(s, out, k, piece < total ? piece : total, total);
		}
	}
}

static uint32_t pieces(uint32_t total, uint32_t piece)
{
	return (total + piece - 1) / piece;
}

/* A reproducible shuffle (xorshift32, Fisher-Yates). */
static void shuffle(uint32_t *a, uint32_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (uint32_t i = n - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint32_t j = x % (i + 1);
		uint32_t tmp = a[i];
		a[i] = a[j];
		a[j] = tmp;
	}
}

static void in_order(uint32_t *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		a[i] = i;
}

/* ---- Orders ----------------------------------------------------------------- */

START_TEST(in_order_ipv4_fragments_reassemble_into_one_datagram)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key4(0x1234, US_IPPROTO_UDP);
	add_missing(s, T0, &k, 0, 1480, true);
	add_missing(s, T0, &k, 1480, 1480, true);
	/* One range so far: pieces in order merge. */
	ck_assert_uint_eq(s->reass.dgram[0].n_ranges, 1);
	ck_assert_int_eq(us_reass_in_progress(s), 1);
	ck_assert_int_eq(us_reass_next_deadline(s), T0 + US_SEC(30));
	struct us_pbuf *out = NULL;
	ck_assert_int_eq(add(s, T0, &k, 2960, 40, false, &out), 1);
	check_datagram(s, out, &k, 1480, 3000);
	ck_assert_uint_eq(us_stack_counter(s, "reass.in_fragments"), 3);
	ck_assert_uint_eq(us_stack_counter(s, "reass.completed"), 1);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	ck_assert_int_eq(us_reass_next_deadline(s), US_TIME_NEVER);
	us_test_stack_free(s);
}
END_TEST

START_TEST(reverse_order_fragments_reassemble_with_the_first_fragments_header)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key4(7, US_IPPROTO_UDP);
	uint32_t order[] = { 2, 1, 0 };
	feed(s, T0, &k, 3000, 1480, order, 3);
	/* IPv6 the same way. */
	struct us_reass_key k6 = key6(0xdeadbeef);
	uint32_t n = pieces(5000, 1232), o6[8];
	for (uint32_t i = 0; i < n; i++)
		o6[i] = n - 1 - i;
	feed(s, T0, &k6, 5000, 1232, o6, n);
	ck_assert_uint_eq(us_stack_counter(s, "reass.completed"), 2);
	us_test_stack_free(s);
}
END_TEST

START_TEST(fragments_in_random_orders_reassemble)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	uint32_t order[64];
	for (uint32_t seed = 1; seed <= 50; seed++) {
		struct us_reass_key k = key6(seed);
		uint32_t n = pieces(20000, 1232);
		in_order(order, n);
		shuffle(order, n, seed);
		feed(s, T0 + seed, &k, 20000, 1232, order, n);
		struct us_reass_key k4 = key4((uint16_t)seed, US_IPPROTO_UDP);
		n = pieces(9000, 552);
		in_order(order, n);
		shuffle(order, n, seed + 1000);
		feed(s, T0 + seed, &k4, 9000, 552, order, n);
	}
	ck_assert_uint_eq(us_stack_counter(s, "reass.completed"), 100);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_largest_datagrams_reassemble)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	uint32_t order[64];
	/* IPv4: Total Length 65535 = 20 bytes of header + 65515 of payload. */
	struct us_reass_key k = key4(1, US_IPPROTO_ICMP);
	uint32_t n = pieces(65515, 1480);
	ck_assert_uint_eq(n, 45);
	in_order(order, n);
	feed(s, T0, &k, 65515, 1480, order, n);
	/* IPv6: Payload Length 65535 after the 40-byte header, in random order. */
	struct us_reass_key k6 = key6(1);
	n = pieces(65535, 1232);
	in_order(order, n);
	shuffle(order, n, 99);
	feed(s, T0, &k6, 65535, 1232, order, n);
	ck_assert_uint_eq(us_stack_counter(s, "reass.completed"), 2);
	us_test_stack_free(s);
}
END_TEST

/* ---- Lengths ----------------------------------------------------------------- */

START_TEST(a_fragment_past_65535_bytes_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_pbuf *out;
	/* IPv4: payload may end at 65515 (20-byte header), not one byte later. */
	struct us_reass_key k = key4(1, US_IPPROTO_UDP);
	ck_assert_int_eq(add(s, T0, &k, 65504, 12, false, &out), -EMSGSIZE);
	ck_assert_int_eq(add(s, T0, &k, 65504, 11, false, &out), 0);
	/* With a 24-byte header (options), the data already here (to 65515)
	 * no longer fits: that first fragment is the one dropped. */
	uint8_t hdr[24] = { 0x46 };
	s->now = T0;
	ck_assert_int_eq(us_reass_add(s, &k, 0, true, payload, 8, hdr, 24, &out), -EMSGSIZE);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_too_big"), 2);
	/* IPv6: the fragmentable part may end at 65535 (ip6_input.c checks the
	 * Unfragmentable Part's share before). */
	struct us_reass_key k6 = key6(1);
	ck_assert_int_eq(add(s, T0, &k6, 65528, 8, false, &out), -EMSGSIZE);
	ck_assert_int_eq(add(s, T0, &k6, 65528, 7, false, &out), 0);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_too_big"), 3);
	/* Once an IPv4 header of 24 bytes is known, it counts for later fragments. */
	struct us_reass_key k2 = key4(2, US_IPPROTO_UDP);
	s->now = T0;
	ck_assert_int_eq(us_reass_add(s, &k2, 0, true, payload, 8, hdr, 24, &out), 0);
	ck_assert_int_eq(add(s, T0, &k2, 65504, 8, false, &out), -EMSGSIZE);
	ck_assert_int_eq(add(s, T0, &k2, 65504, 7, false, &out), 0);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_too_big"), 4);
	ck_assert_int_eq(us_reass_in_progress(s), 3);
	us_reass_fini(s);
	us_test_stack_free(s);
}
END_TEST

START_TEST(fragments_with_impossible_lengths_are_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key4(1, US_IPPROTO_UDP);
	struct us_pbuf *out;
	/* More Fragments set, 1479 bytes: not a multiple of 8. */
	ck_assert_int_eq(add(s, T0, &k, 0, 1479, true, &out), -EINVAL);
	ck_assert_int_eq(add(s, T0, &k, 8, 1479, true, &out), -EINVAL);
	/* Empty: dropped, but no ICMP is due (RFC 8200 asks none). */
	ck_assert_int_eq(add(s, T0, &k, 8, 0, true, &out), -EPROTO);
	ck_assert_int_eq(add(s, T0, &k, 8, 0, false, &out), -EPROTO);
	/* An offset that is not a multiple of 8 cannot come off the wire. */
	s->now = T0;
	ck_assert_int_eq(us_reass_add(s, &k, 4, true, payload, 8, NULL, 0, &out), -EINVAL);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_bad_length"), 5);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	ck_assert_ptr_null(out);
	/* A header over the bound in front of the first fragment. */
	uint8_t big[US_REASS_MAX_HDR + 1];
	memset(big, 0, sizeof big);
	ck_assert_int_eq(us_reass_add(s, &k, 0, true, payload, 8, big, sizeof big, &out), -ENOBUFS);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_hdr_too_long"), 1);
	ck_assert_int_eq(us_reass_add(s, &k, 0, true, payload, 8, big, US_REASS_MAX_HDR, &out), 0);
	/* Neither IPv4 nor IPv6. */
	struct us_reass_key bad = key4(1, US_IPPROTO_UDP);
	bad.family = 5;
	ck_assert_int_eq(us_reass_add(s, &bad, 8, true, payload, 8, NULL, 0, &out), -EAFNOSUPPORT);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_bad_family"), 1);
	us_reass_fini(s);
	us_test_stack_free(s);
}
END_TEST

START_TEST(lengths_that_disagree_drop_and_poison_the_datagram)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_pbuf *out;
	/* Two last fragments that end apart. */
	struct us_reass_key a = key4(1, US_IPPROTO_UDP);
	add_missing(s, T0, &a, 1480, 520, false);
	ck_assert_int_eq(add(s, T0, &a, 2960, 40, false, &out), -EPROTO);
	/* Data past the end the last fragment gave. */
	struct us_reass_key b = key4(2, US_IPPROTO_UDP);
	add_missing(s, T0, &b, 1480, 520, false);
	ck_assert_int_eq(add(s, T0, &b, 2000, 960, true, &out), -EPROTO);
	/* A last fragment ending before data already received. */
	struct us_reass_key c = key4(3, US_IPPROTO_UDP);
	add_missing(s, T0, &c, 1480, 1480, true);
	ck_assert_int_eq(add(s, T0, &c, 8, 100, false, &out), -EPROTO);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_inconsistent"), 3);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	/* Their keys stay refused. */
	ck_assert_int_eq(add(s, T0 + 1, &c, 0, 1480, true, &out), -EPROTO);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_poisoned"), 1);
	us_test_stack_free(s);
}
END_TEST

/* ---- Duplicates and overlaps (RFC 5722) ------------------------------------- */

START_TEST(exact_duplicates_are_ignored)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key4(9, US_IPPROTO_UDP);
	add_missing(s, T0, &k, 0, 1480, true);
	add_missing(s, T0, &k, 0, 1480, true);   /* the same fragment again */
	add_missing(s, T0, &k, 2960, 40, false);
	add_missing(s, T0, &k, 2960, 40, false); /* the last one again */
	add_missing(s, T0, &k, 8, 16, true);     /* the same bytes, cut differently */
	ck_assert_uint_eq(us_stack_counter(s, "reass.duplicates"), 3);
	struct us_pbuf *out = NULL;
	ck_assert_int_eq(add(s, T0, &k, 1480, 1480, true, &out), 1);
	check_datagram(s, out, &k, 1480, 3000);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_overlap"), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(overlapping_fragments_drop_the_whole_datagram)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key6(77);
	struct us_pbuf *out = NULL;
	add_missing(s, T0, &k, 0, 1232, true);
	add_missing(s, T0, &k, 2464, 100, false);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 1);
	/* The first fragment again, one byte changed: RFC 5722's attack. */
	uint8_t hdr[48], evil[1232];
	memcpy(evil, payload, sizeof evil);
	evil[600] ^= 0xff;
	make_hdr(&k, 0, 1232, true, hdr);
	s->now = T0 + US_SEC(1);
	ck_assert_int_eq(us_reass_add(s, &k, 0, true, evil, sizeof evil, hdr, 48, &out), -EPROTO);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_overlap"), 1);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	/* The missing middle would have completed it: refused, the key is
	 * poisoned until the datagram's 60 s would have run out. */
	ck_assert_int_eq(add(s, T0 + US_SEC(2), &k, 1232, 1232, true, &out), -EPROTO);
	ck_assert_int_eq(add(s, T0 + US_SEC(60) - 1, &k, 0, 1232, true, &out), -EPROTO);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_poisoned"), 2);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	/* No timer runs for it, and nothing is sent. */
	ck_assert_int_eq(us_reass_next_deadline(s), US_TIME_NEVER);
	us_stack_poll(s, T0 + US_SEC(60) - 1);
	ck_assert_int_eq(link.count, 0);
	/* Then the key is free again. */
	add_missing(s, T0 + US_SEC(60), &k, 0, 1232, true);
	ck_assert_int_eq(us_reass_in_progress(s), 1);
	us_reass_fini(s);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_partial_overlap_drops_the_datagram_even_with_equal_bytes)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key4(5, US_IPPROTO_UDP);
	struct us_pbuf *out = NULL;
	add_missing(s, T0, &k, 0, 1480, true);
	/* [1472, 1488): 8 bytes already here, 8 new; the bytes agree. */
	ck_assert_int_eq(add(s, T0, &k, 1472, 16, true, &out), -EPROTO);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_overlap"), 1);
	/* A copy of data received that claims to be the last fragment, while
	 * no last fragment is known, is no duplicate either. */
	struct us_reass_key k2 = key4(6, US_IPPROTO_UDP);
	add_missing(s, T0, &k2, 8, 1480, true);
	ck_assert_int_eq(add(s, T0, &k2, 1480, 8, false, &out), -EPROTO);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_overlap"), 2);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- Keys ------------------------------------------------------------------- */

START_TEST(ipv4_and_ipv6_keys_never_mix)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	/* The same identification and the same first address bytes. */
	struct us_reass_key k4 = key4(42, 0);
	struct us_reass_key k6 = key6(42);
	memset(k6.src, 0, 16);
	memset(k6.dst, 0, 16);
	memcpy(k6.src, k4.src, 4);
	memcpy(k6.dst, k4.dst, 4);
	add_missing(s, T0, &k4, 0, 8, true);
	add_missing(s, T0, &k6, 8, 8, false);
	ck_assert_int_eq(us_reass_in_progress(s), 2);
	/* IPv4 keys with another protocol are other datagrams too. */
	struct us_reass_key k4tcp = key4(42, US_IPPROTO_TCP);
	add_missing(s, T0, &k4tcp, 8, 8, false);
	ck_assert_int_eq(us_reass_in_progress(s), 3);
	struct us_pbuf *out = NULL;
	ck_assert_int_eq(add(s, T0, &k4, 8, 8, false, &out), 1);
	check_datagram(s, out, &k4, 8, 16);
	ck_assert_int_eq(add(s, T0, &k6, 0, 8, true, &out), 1);
	check_datagram(s, out, &k6, 8, 16);
	ck_assert_int_eq(us_reass_in_progress(s), 1);
	us_reass_fini(s);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_atomic_fragment_is_returned_alone)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key6(3);
	add_missing(s, T0, &k, 0, 8, true);
	/* Offset 0, More Fragments clear, the same key (RFC 6946 §4). */
	struct us_pbuf *out = NULL;
	ck_assert_int_eq(add(s, T0, &k, 0, 100, false, &out), 1);
	uint8_t hdr[48];
	make_hdr(&k, 0, 100, false, hdr);
	ck_assert_uint_eq(out->len, 148);
	ck_assert_mem_eq(us_pbuf_data(out), hdr, 48);
	ck_assert_mem_eq(us_pbuf_data(out) + 48, payload, 100);
	us_pbuf_free(&s->pool, out);
	ck_assert_uint_eq(us_stack_counter(s, "reass.atomic"), 1);
	/* The datagram in progress did not see it. */
	ck_assert_int_eq(us_reass_in_progress(s), 1);
	ck_assert_int_eq(add(s, T0, &k, 8, 8, false, &out), 1);
	check_datagram(s, out, &k, 8, 16);
	us_test_stack_free(s);
}
END_TEST

/* ---- Timeouts ------------------------------------------------------------------ */

START_TEST(an_ipv4_datagram_times_out_at_30_s_with_time_exceeded)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key4(0x4242, US_IPPROTO_UDP);
	add_missing(s, T0, &k, 0, 1480, true);
	add_missing(s, T0 + US_SEC(10), &k, 1480, 1480, true);
	/* The sender is a known neighbour, so the ICMP goes out at once. */
	const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	us_test_meet_ipv4(s, &link, T0 + US_SEC(20), PEER4, 0x01);

	/* 30 s from the first-arriving fragment, not from the last. */
	ck_assert_int_eq(us_reass_next_deadline(s), T0 + US_SEC(30));
	us_stack_poll(s, T0 + US_SEC(30) - 1);
	ck_assert_int_eq(us_reass_in_progress(s), 1);
	ck_assert_int_eq(link.count, 0);
	us_stack_poll(s, T0 + US_SEC(30));
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_timeout"), 1);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	ck_assert_int_eq(us_reass_next_deadline(s), US_TIME_NEVER);

	/* RFC 1122 §3.3.2: Time Exceeded (11), code 1, to the source, quoting
	 * the first fragment's header and the start of its data. */
	ck_assert_int_eq(link.count, 1);
	const uint8_t *fr = link.frame[0];
	ck_assert_mem_eq(fr, peer_mac, 6);
	ck_assert_uint_eq(us_get_be16(fr + 12), US_ETHERTYPE_IPV4);
	struct us_ipv4_hdr ip;
	ck_assert_int_eq(us_ipv4_parse(fr + 14, link.len[0] - 14, &ip), US_WIRE_OK);
	ck_assert_uint_eq(ip.proto, US_IPPROTO_ICMP);
	ck_assert_uint_eq(ip.src, OURS4);
	ck_assert_uint_eq(ip.dst, PEER4);
	ck_assert_uint_ge(ip.payload_len, 8 + 20 + 8);
	ck_assert_uint_eq(ip.payload[0], 11);
	ck_assert_uint_eq(ip.payload[1], 1);
	uint8_t hdr[20];
	make_hdr(&k, 0, 1480, true, hdr);
	ck_assert_mem_eq(ip.payload + 8, hdr, 20);
	ck_assert_mem_eq(ip.payload + 28, payload, 8);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_datagram_without_its_first_fragment_times_out_silently)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key4(1, US_IPPROTO_UDP);
	add_missing(s, T0, &k, 1480, 1480, true);
	add_missing(s, T0, &k, 2960, 40, false);
	struct us_reass_key k6 = key6(1);
	add_missing(s, T0 + US_SEC(1), &k6, 1232, 100, false);
	us_stack_poll(s, T0 + US_SEC(30));
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_timeout"), 1);
	ck_assert_int_eq(us_reass_next_deadline(s), T0 + US_SEC(61));
	us_stack_poll(s, T0 + US_SEC(61));
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_timeout"), 2);
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.out_errors"), 0);
	ck_assert_uint_eq(us_stack_counter(s, "icmp6.out_time_exceeded"), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

/* A Neighbor Advertisement from fe80::1 (02:00:00:00:00:01) answering our
 * solicitation: Solicited and Override, with its link-layer address. */
static int advertise_peer6(struct us_stack *s, us_time_t t)
{
	uint8_t f[14 + 40 + 32];
	const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct us_eth_hdr eh = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(eh.dst, our_mac, 6);
	memcpy(eh.src, peer_mac, 6);
	us_eth_emit(&eh, f, 14);
	struct us_ipv6_hdr ip = { .payload_len = 32, .next_header = US_IPPROTO_ICMPV6, .hop_limit = 255 };
	memcpy(ip.src.b, peer6, 16);
	memcpy(ip.dst.b, ours6, 16);
	ck_assert_uint_eq(us_ipv6_emit(&ip, f + 14, 40), 40);
	struct us_ndp_na na = { .solicited = true, .override = true };
	memcpy(na.target.b, peer6, 16);
	uint8_t *m = f + 14 + 40;
	ck_assert_uint_eq(us_ndp_na_emit(&na, m, 24), 24);
	ck_assert_uint_eq(us_ndp_opt_lladdr_emit(2, peer_mac, m + 24, 8), 8);
	us_icmp6_csum_fill(m, 32, us_csum_pseudo6(&ip.src, &ip.dst, US_IPPROTO_ICMPV6, 32));
	return us_stack_input(s, t, 0, f, sizeof f);
}

START_TEST(an_ipv6_datagram_times_out_at_60_s_with_time_exceeded)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key6(0x01020304);
	add_missing(s, T0, &k, 0, 1232, true);
	add_missing(s, T0 + US_SEC(30), &k, 2464, 8, false);
	ck_assert_int_eq(us_reass_next_deadline(s), T0 + US_SEC(60));
	us_stack_poll(s, T0 + US_SEC(60) - 1);
	ck_assert_int_eq(us_reass_in_progress(s), 1);
	ck_assert_int_eq(link.count, 0);
	us_stack_poll(s, T0 + US_SEC(60));
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_timeout"), 1);
	ck_assert_int_eq(us_reass_next_deadline(s), US_TIME_NEVER);
	/* RFC 8200 §4.5: ICMPv6 Time Exceeded, code 1, to the source. It waits
	 * for the neighbour's address: a Neighbor Solicitation goes first. */
	ck_assert_uint_eq(us_stack_counter(s, "icmp6.out_time_exceeded"), 1);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(us_get_be16(link.frame[0] + 12), US_ETHERTYPE_IPV6);
	ck_assert_uint_eq(link.frame[0][14 + 6], US_IPPROTO_ICMPV6);
	ck_assert_uint_eq(link.frame[0][14 + 40], 135);
	ck_assert_mem_eq(link.frame[0] + 14 + 40 + 8, peer6, 16);
	ck_assert_int_eq(advertise_peer6(s, T0 + US_SEC(60) + US_MSEC(1)), 0);
	ck_assert_int_eq(link.count, 2);
	const uint8_t *fr = link.frame[1];
	struct us_ipv6_hdr ip;
	ck_assert_int_eq(us_ipv6_parse(fr + 14, link.len[1] - 14, &ip), US_WIRE_OK);
	ck_assert_uint_eq(ip.next_header, US_IPPROTO_ICMPV6);
	ck_assert_mem_eq(ip.dst.b, peer6, 16);
	ck_assert_uint_ge(ip.payload_len, 8 + 48 + 8);
	ck_assert_uint_eq(ip.payload[0], 3); /* Time Exceeded */
	ck_assert_uint_eq(ip.payload[1], 1); /* fragment reassembly time exceeded */
	/* The first fragment as it came: its headers, Fragment header included. */
	uint8_t hdr[48];
	make_hdr(&k, 0, 1232, true, hdr);
	ck_assert_mem_eq(ip.payload + 8, hdr, 48);
	ck_assert_mem_eq(ip.payload + 56, payload, 8);
	us_test_stack_free(s);
}
END_TEST

/* ---- Memory ------------------------------------------------------------------ */

START_TEST(a_flood_of_incomplete_datagrams_stays_within_the_bound)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	for (uint32_t i = 0; i < 1000; i++) {
		struct us_reass_key k = key4((uint16_t)i, US_IPPROTO_UDP);
		add_missing(s, T0 + (us_time_t)i, &k, 8, 8, true);
		ck_assert_uint_le(us_stack_pbufs_in_use(s), US_REASS_MAX_DATAGRAMS);
	}
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 4);
	ck_assert_int_eq(us_reass_in_progress(s), 4);
	ck_assert_uint_eq(us_stack_counter(s, "reass.evicted"), 996);
	/* The newest four are the ones kept. */
	ck_assert_uint_eq(s->reass.dgram[0].key.id + s->reass.dgram[1].key.id +
				  s->reass.dgram[2].key.id + s->reass.dgram[3].key.id,
			  996 + 997 + 998 + 999);
	/* A real datagram still gets through. */
	struct us_reass_key k = key6(5);
	uint32_t order[] = { 0, 1, 2 };
	feed(s, T0 + US_SEC(1), &k, 3000, 1232, order, 3);
	ck_assert_uint_eq(us_stack_counter(s, "reass.evicted"), 997);
	ck_assert_uint_le(us_stack_pbufs_in_use(s), 3);
	/* And the rest expires. */
	us_stack_poll(s, T0 + US_SEC(31));
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_timeout"), 3);
	us_test_stack_free(s);
}
END_TEST

START_TEST(too_many_separate_pieces_drop_the_datagram)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	struct us_reass_key k = key4(1, US_IPPROTO_UDP);
	struct us_pbuf *out = NULL;
	/* 8-byte fragments with 8-byte holes between them. */
	for (uint32_t i = 0; i < US_REASS_MAX_RANGES; i++)
		add_missing(s, T0, &k, 16 * i, 8, true);
	ck_assert_uint_eq(s->reass.dgram[0].n_ranges, US_REASS_MAX_RANGES);
	/* Filling a hole joins two pieces: no new range needed. */
	add_missing(s, T0, &k, 8, 8, true);
	ck_assert_uint_eq(s->reass.dgram[0].n_ranges, US_REASS_MAX_RANGES - 1);
	add_missing(s, T0, &k, 16 * US_REASS_MAX_RANGES, 8, true);
	ck_assert_int_eq(add(s, T0, &k, 16 * (US_REASS_MAX_RANGES + 1), 8, true, &out), -ENOBUFS);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_too_many_holes"), 1);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_empty_pool_evicts_the_oldest_datagram_or_drops)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	/* The test stack has 4 large buffers: take them all. */
	struct us_pbuf *held[4];
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(held[i] = us_stack_alloc(s, 60000));
	struct us_reass_key a = key4(1, US_IPPROTO_UDP), b = key4(2, US_IPPROTO_UDP),
			    c = key4(3, US_IPPROTO_UDP);
	struct us_pbuf *out = NULL;
	ck_assert_int_eq(add(s, T0, &a, 8, 8, true, &out), -ENOBUFS);
	ck_assert_uint_eq(us_stack_counter(s, "reass.drop_no_memory"), 1);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	/* With two given back, two datagrams start; a third takes the oldest's. */
	us_pbuf_free(&s->pool, held[0]);
	us_pbuf_free(&s->pool, held[1]);
	add_missing(s, T0, &a, 8, 8, true);
	add_missing(s, T0 + 1, &b, 8, 8, true);
	add_missing(s, T0 + 2, &c, 8, 8, true);
	ck_assert_uint_eq(us_stack_counter(s, "reass.evicted"), 1);
	ck_assert_int_eq(us_reass_in_progress(s), 2);
	/* a is gone: its next fragment starts it over. */
	ck_assert_int_eq(add(s, T0 + 3, &c, 0, 8, true, &out), 0);
	ck_assert_int_eq(add(s, T0 + 3, &c, 16, 8, false, &out), 1);
	check_datagram(s, out, &c, 8, 24);
	us_pbuf_free(&s->pool, held[2]);
	us_pbuf_free(&s->pool, held[3]);
	us_reass_fini(s);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(fini_releases_every_datagram_in_progress)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = reass_stack(&link);
	for (uint32_t i = 0; i < 3; i++) {
		struct us_reass_key k = key6(i);
		add_missing(s, T0, &k, 0, 8, true);
	}
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 3);
	us_reass_fini(s);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	ck_assert_int_eq(us_reass_in_progress(s), 0);
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("reass");
	TCase *order = tcase_create("orders");
	tcase_add_test(order, in_order_ipv4_fragments_reassemble_into_one_datagram);
	tcase_add_test(order, reverse_order_fragments_reassemble_with_the_first_fragments_header);
	tcase_add_test(order, fragments_in_random_orders_reassemble);
	tcase_add_test(order, the_largest_datagrams_reassemble);
	suite_add_tcase(s, order);

	TCase *bad = tcase_create("bad fragments");
	tcase_add_test(bad, a_fragment_past_65535_bytes_is_dropped);
	tcase_add_test(bad, fragments_with_impossible_lengths_are_dropped);
	tcase_add_test(bad, lengths_that_disagree_drop_and_poison_the_datagram);
	tcase_add_test(bad, exact_duplicates_are_ignored);
	tcase_add_test(bad, overlapping_fragments_drop_the_whole_datagram);
	tcase_add_test(bad, a_partial_overlap_drops_the_datagram_even_with_equal_bytes);
	suite_add_tcase(s, bad);

	TCase *keys = tcase_create("keys");
	tcase_add_test(keys, ipv4_and_ipv6_keys_never_mix);
	tcase_add_test(keys, an_atomic_fragment_is_returned_alone);
	suite_add_tcase(s, keys);

	TCase *timers = tcase_create("timeouts");
	tcase_add_test(timers, an_ipv4_datagram_times_out_at_30_s_with_time_exceeded);
	tcase_add_test(timers, a_datagram_without_its_first_fragment_times_out_silently);
	tcase_add_test(timers, an_ipv6_datagram_times_out_at_60_s_with_time_exceeded);
	suite_add_tcase(s, timers);

	TCase *mem = tcase_create("memory");
	tcase_add_test(mem, a_flood_of_incomplete_datagrams_stays_within_the_bound);
	tcase_add_test(mem, too_many_separate_pieces_drop_the_datagram);
	tcase_add_test(mem, an_empty_pool_evicts_the_oldest_datagram_or_drops);
	tcase_add_test(mem, fini_releases_every_datagram_in_progress);
	suite_add_tcase(s, mem);
	return s;
}

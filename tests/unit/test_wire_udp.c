/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_wire_udp.c - UDP on the wire (wire/udp.h): DNS queries
 * over IPv4 and IPv6 with their pseudo-header checksums, every truncation,
 * lying length fields, the "no checksum" zero and the computed zero sent as
 * 0xffff (RFC 768).
 *
 * Read first: src/stack/wire/udp.h. Checksums in the literals were computed
 * outside ustack.
 */
#include "harness.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/udp.h"
#include "wire/wire.h"

#define PROTO_UDP 17 /* IP protocol number of UDP (RFC 768) */

/* Literal frames: kept as written, one field per line. */
/* clang-format off */
/* `dig example.com` from 192.0.2.1:53000 to 192.0.2.53:53. */
static const char dns4[] =
	"cf 08 00 35"  /* source port 53000, destination port 53 */
	"00 25 1d d2"  /* length 37, checksum 1dd2 */
	"be ef 01 00 00 01 00 00 00 00 00 00"           /* id beef, RD, 1 question */
	"07 65 78 61 6d 70 6c 65 03 63 6f 6d 00"        /* example.com */
	"00 01 00 01";                                  /* type A, class IN */

/* The same query from [2001:db8::1]:54321 to [2001:db8::53]:53. */
static const char dns6[] =
	"d4 31 00 35"  /* source port 54321, destination port 53 */
	"00 25 41 1a"  /* length 37, checksum 411a */
	"be ef 01 00 00 01 00 00 00 00 00 00"
	"07 65 78 61 6d 70 6c 65 03 63 6f 6d 00"
	"00 01 00 01";
/* clang-format on */

static uint32_t ps4(size_t len)
{
	/* 192.0.2.1 -> 192.0.2.53 */
	return us_csum_pseudo4(0xc0000201, 0xc0000235, PROTO_UDP, (uint32_t)len);
}

static uint32_t ps6(size_t len)
{
	static const struct us_ip6 src = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x01}};
	static const struct us_ip6 dst = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x53}};

	return us_csum_pseudo6(&src, &dst, PROTO_UDP, (uint32_t)len);
}

START_TEST(dns_query_over_ipv4_parses_and_verifies)
{
	uint8_t b[64];
	size_t n = us_test_hex(dns4, b, sizeof b);
	struct us_udp_hdr h;

	ck_assert_uint_eq(n, 37);
	ck_assert_int_eq(us_udp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.sport, 53000);
	ck_assert_uint_eq(h.dport, 53);
	ck_assert_uint_eq(h.length, 37);
	ck_assert_uint_eq(h.checksum, 0x1dd2);
	ck_assert_ptr_eq(h.payload, b + 8);
	ck_assert_uint_eq(h.payload_len, 29);
	ck_assert_uint_eq(h.payload[0], 0xbe);
	ck_assert(us_udp_csum_ok(b, h.length, ps4(h.length)));
	/* to another address it does not verify */
	ck_assert(
	    !us_udp_csum_ok(b, h.length, us_csum_pseudo4(0xc0000201, 0xc0000236, PROTO_UDP, 37)));
}
END_TEST

START_TEST(dns_query_over_ipv6_parses_and_verifies)
{
	uint8_t b[64];
	size_t n = us_test_hex(dns6, b, sizeof b);
	struct us_udp_hdr h;

	ck_assert_int_eq(us_udp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.sport, 54321);
	ck_assert_uint_eq(h.checksum, 0x411a);
	ck_assert(us_udp_csum_ok(b, h.length, ps6(h.length)));
	ck_assert(!us_udp_csum_ok(b, h.length, ps4(h.length)));
}
END_TEST

START_TEST(every_single_bit_flip_fails_the_checksum)
{
	uint8_t b[64];
	size_t n = us_test_hex(dns4, b, sizeof b);

	for (size_t i = 0; i < n; i++) {
		if (i == 6 || i == 7)
			continue; /* flipping the checksum to 0 would mean "none" */
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(!us_udp_csum_ok(b, n, ps4(n)), "byte %zu bit %d", i, bit);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert(us_udp_csum_ok(b, n, ps4(n)));
}
END_TEST

START_TEST(truncated_at_every_length_below_8)
{
	uint8_t b[64];
	struct us_udp_hdr h;

	us_test_hex(dns4, b, sizeof b);
	for (size_t len = 0; len < 8; len++)
		ck_assert_int_eq(us_udp_parse(b, len, &h), US_WIRE_TRUNCATED);
}
END_TEST

START_TEST(a_cut_datagram_has_a_lying_length)
{
	uint8_t b[64];
	size_t n = us_test_hex(dns4, b, sizeof b);
	struct us_udp_hdr h;

	/* the length field says 37: any shorter IP payload is a lie */
	for (size_t len = 8; len < n; len++)
		ck_assert_int_eq(us_udp_parse(b, len, &h), US_WIRE_BAD_TOTAL_LEN);
}
END_TEST

START_TEST(length_field_below_8_is_bad)
{
	uint8_t b[16];
	size_t n = us_test_hex("00 07 00 09 00 00 00 00 01 02 03 04", b, sizeof b);
	struct us_udp_hdr h;

	for (unsigned l = 0; l < 8; l++) {
		us_put_be16(b + 4, (uint16_t)l);
		ck_assert_int_eq(us_udp_parse(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
	}
	us_put_be16(b + 4, 8);
	ck_assert_int_eq(us_udp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 0);
	us_put_be16(b + 4, 0xffff);
	ck_assert_int_eq(us_udp_parse(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
}
END_TEST

START_TEST(link_padding_after_the_datagram_is_trimmed)
{
	/* A 1-byte datagram in a minimum Ethernet frame: the IP payload is
	 * longer than the UDP length; the padding is not data. */
	uint8_t b[32];
	size_t n = us_test_hex("04 d2 16 2e"			   /* ports 1234 -> 5678 */
			       "00 09 00 00"			   /* length 9, no checksum */
			       "41"				   /* 'A' */
			       "00 00 00 00 00 00 00 00 00 00 00", /* padding */
			       b, sizeof b);
	struct us_udp_hdr h;

	ck_assert_int_eq(us_udp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.length, 9);
	ck_assert_uint_eq(h.payload_len, 1);
	ck_assert_uint_eq(h.payload[0], 'A');
}
END_TEST

START_TEST(zero_checksum_means_none)
{
	uint8_t b[64];
	size_t n = us_test_hex(dns4, b, sizeof b);

	/* RFC 768: a zero checksum field means "none" (valid over IPv4; an
	 * IPv6 caller rejects it before asking, RFC 8200 §8.1) */
	b[6] = 0;
	b[7] = 0;
	ck_assert(us_udp_csum_ok(b, n, ps4(n)));
	ck_assert(us_udp_csum_ok(b, n, 0x1234));
	ck_assert(!us_udp_csum_ok(b, 7, ps4(n)));
}
END_TEST

START_TEST(emit_then_fill_matches_the_literal)
{
	uint8_t want[64], b[64];
	size_t n = us_test_hex(dns4, want, sizeof want);
	struct us_udp_hdr h = {
	    .sport = 53000,
	    .dport = 53,
	    .length = 9999, /* not read: the length is 8 + payload_len */
	    .checksum = 0,
	    .payload_len = 29,
	};

	memset(b, 0xee, sizeof b);
	memcpy(b + 8, want + 8, 29);
	ck_assert_uint_eq(us_udp_emit(&h, b, sizeof b), 8);
	ck_assert_uint_eq(us_get_be16(b + 4), 37);
	ck_assert_uint_eq(us_get_be16(b + 6), 0);
	us_udp_csum_fill(b, n, ps4(n));
	ck_assert_mem_eq(b, want, n);
	ck_assert_uint_eq(b[n], 0xee);

	/* the same payload over IPv6 */
	n = us_test_hex(dns6, want, sizeof want);
	h.sport = 54321;
	ck_assert_uint_eq(us_udp_emit(&h, b, sizeof b), 8);
	us_udp_csum_fill(b, n, ps6(n));
	ck_assert_mem_eq(b, want, n);
}
END_TEST

START_TEST(emit_writes_the_given_checksum)
{
	uint8_t b[8], want[8];
	struct us_udp_hdr h = {.sport = 1, .dport = 2, .checksum = 0xabcd, .payload_len = 0};

	us_test_hex("00 01 00 02 00 08 ab cd", want, sizeof want);
	ck_assert_uint_eq(us_udp_emit(&h, b, sizeof b), 8);
	ck_assert_mem_eq(b, want, 8);
}
END_TEST

START_TEST(a_computed_zero_is_sent_as_ffff)
{
	/* 10.0.0.1:1000 -> 10.0.0.2:2000 with a payload chosen so that the
	 * sum is 0xffff: RFC 768 "If the computed checksum is zero, it is
	 * transmitted as all ones". */
	uint8_t b[10], want[10];
	uint32_t p = us_csum_pseudo4(0x0a000001, 0x0a000002, PROTO_UDP, 10);
	size_t n = us_test_hex("03 e8 07 d0" /* ports 1000 -> 2000 */
			       "00 0a ff ff" /* length 10, checksum ffff */
			       "e0 1f",	     /* payload */
			       want, sizeof want);
	struct us_udp_hdr h = {.sport = 1000, .dport = 2000, .payload_len = 2};

	b[8] = 0xe0;
	b[9] = 0x1f;
	ck_assert_uint_eq(us_udp_emit(&h, b, sizeof b), 8);
	ck_assert_uint_eq(us_csum_fold(us_csum_partial(b, n, p)), 0); /* really zero */
	us_udp_csum_fill(b, n, p);
	ck_assert_mem_eq(b, want, n);
	ck_assert(us_udp_csum_ok(b, n, p));
}
END_TEST

START_TEST(emit_refuses_a_small_buffer_or_a_giant_payload)
{
	uint8_t b[8];
	struct us_udp_hdr h = {.sport = 1, .dport = 2, .payload_len = 0xffff - 8};

	ck_assert_uint_eq(us_udp_emit(&h, b, 7), 0);
	ck_assert_uint_eq(us_udp_emit(&h, b, 8), 8);
	ck_assert_uint_eq(us_get_be16(b + 4), 0xffff);
	h.payload_len = 0xffff - 7; /* Length would not fit 16 bits */
	ck_assert_uint_eq(us_udp_emit(&h, b, 8), 0);
	h.payload_len = (size_t)-1;
	ck_assert_uint_eq(us_udp_emit(&h, b, 8), 0);
}
END_TEST

START_TEST(fill_ignores_a_runt)
{
	uint8_t b[7] = {1, 2, 3, 4, 5, 6, 7};

	us_udp_csum_fill(b, sizeof b, 0);
	ck_assert_uint_eq(b[6], 7);
	ck_assert_uint_eq(b[5], 6);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("wire_udp");
	TCase *tc = tcase_create("udp");

	tcase_add_test(tc, dns_query_over_ipv4_parses_and_verifies);
	tcase_add_test(tc, dns_query_over_ipv6_parses_and_verifies);
	tcase_add_test(tc, every_single_bit_flip_fails_the_checksum);
	tcase_add_test(tc, truncated_at_every_length_below_8);
	tcase_add_test(tc, a_cut_datagram_has_a_lying_length);
	tcase_add_test(tc, length_field_below_8_is_bad);
	tcase_add_test(tc, link_padding_after_the_datagram_is_trimmed);
	tcase_add_test(tc, zero_checksum_means_none);
	tcase_add_test(tc, emit_then_fill_matches_the_literal);
	tcase_add_test(tc, emit_writes_the_given_checksum);
	tcase_add_test(tc, a_computed_zero_is_sent_as_ffff);
	tcase_add_test(tc, emit_refuses_a_small_buffer_or_a_giant_payload);
	tcase_add_test(tc, fill_ignores_a_runt);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_wire_icmp4.c - ICMPv4 parsing and building (wire/icmp4.h):
 * a Linux ping, a "fragmentation needed" with its next-hop MTU (RFC 1191
 * §4), a parameter problem, every truncation, every corrupted bit, and
 * byte-exact emission.
 *
 * Read first: src/stack/wire/icmp4.h. Checksums in the literals were
 * computed outside ustack.
 */
#include "harness.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/icmp4.h"
#include "wire/wire.h"

/* Literal frames: kept as written, one field per line. */
/* clang-format off */
/* `ping -c1 192.0.2.1` from Linux iputils: id 0x1c46, seq 1, 56 bytes of
 * data (a 16-byte struct timeval, then 0x10..0x37). */
static const char echo_request[] =
	"08 00 18 ae"  /* type 8 (echo), code 0, checksum 18ae */
	"1c 46 00 01"  /* identifier 0x1c46, sequence 1 */
	"d4 2b 5f 66 00 00 00 00 c3 a5 0d 00 00 00 00 00"  /* timeval */
	"10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f"
	"20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f"
	"30 31 32 33 34 35 36 37";

/* The reply a host sends back: only the type changes, and the checksum by
 * 0x0800. */
static const char echo_reply[] =
	"00 00 20 ae"  /* type 0 (echo reply), code 0, checksum 20ae */
	"1c 46 00 01"
	"d4 2b 5f 66 00 00 00 00 c3 a5 0d 00 00 00 00 00"
	"10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f"
	"20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f"
	"30 31 32 33 34 35 36 37";

/* A router's "fragmentation needed and DF set" for a UDP datagram of 548
 * bytes from 192.0.2.1 to 198.51.100.2, next-hop MTU 1400. */
static const char frag_needed[] =
	"03 04 7a 68"  /* type 3 (unreachable), code 4 (frag needed), checksum 7a68 */
	"00 00 05 78"  /* unused, next-hop MTU 1400 */
	"45 00 02 24 ab cd 40 00 40 11 a0 c4 c0 00 02 01 c6 33 64 02"  /* the IPv4 header */
	"cf 08 00 35 02 10 ab cd";                                     /* its first 8 bytes */
/* clang-format on */

START_TEST(linux_echo_request_parses)
{
	uint8_t b[128];
	size_t n = us_test_hex(echo_request, b, sizeof b);
	struct us_icmp4_hdr h;

	ck_assert_uint_eq(n, 64);
	ck_assert_int_eq(us_icmp4_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.type, US_ICMP4_ECHO);
	ck_assert_uint_eq(h.code, 0);
	ck_assert_uint_eq(h.checksum, 0x18ae);
	ck_assert_uint_eq(h.rest, 0x1c460001);
	ck_assert_uint_eq(us_icmp4_echo_id(&h), 0x1c46);
	ck_assert_uint_eq(us_icmp4_echo_seq(&h), 1);
	ck_assert_ptr_eq(h.payload, b + 8);
	ck_assert_uint_eq(h.payload_len, 56);
	ck_assert_uint_eq(h.payload[16], 0x10);
	ck_assert(!us_icmp4_is_error(h.type));
}
END_TEST

START_TEST(frag_needed_gives_the_next_hop_mtu)
{
	uint8_t b[64];
	size_t n = us_test_hex(frag_needed, b, sizeof b);
	struct us_icmp4_hdr h;

	ck_assert_uint_eq(n, 36);
	ck_assert_int_eq(us_icmp4_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.type, US_ICMP4_DEST_UNREACH);
	ck_assert_uint_eq(h.code, US_ICMP4_UNREACH_FRAG_NEEDED);
	ck_assert_uint_eq(us_icmp4_next_hop_mtu(&h), 1400);
	ck_assert_uint_eq(h.payload_len, 28);
	ck_assert_uint_eq(h.payload[0], 0x45); /* the quoted IPv4 header */
	ck_assert(us_icmp4_is_error(h.type));
}
END_TEST

START_TEST(param_problem_gives_the_pointer)
{
	uint8_t b[64];
	size_t n = us_test_hex("0c 00 62 e4" /* type 12, code 0, checksum 62e4 */
			       "14 00 00 00" /* pointer 20, unused */
			       "45 00 02 24 ab cd 40 00 40 11 a0 c4 c0 00 02 01 c6 33 64 02"
			       "cf 08 00 35 02 10 ab cd",
			       b, sizeof b);
	struct us_icmp4_hdr h;

	ck_assert_int_eq(us_icmp4_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.type, US_ICMP4_PARAM_PROBLEM);
	ck_assert_uint_eq(us_icmp4_param_pointer(&h), 20);
}
END_TEST

START_TEST(truncated_at_every_length_below_8)
{
	uint8_t b[128];
	size_t n = us_test_hex(echo_request, b, sizeof b);
	struct us_icmp4_hdr h;

	(void)n;
	for (size_t len = 0; len < 8; len++)
		ck_assert_int_eq(us_icmp4_parse(b, len, &h), US_WIRE_TRUNCATED);
}
END_TEST

START_TEST(a_cut_message_fails_its_checksum)
{
	uint8_t b[128];
	size_t n = us_test_hex(echo_request, b, sizeof b);
	struct us_icmp4_hdr h;

	/* The checksum covers the whole message: no cut of this one happens
	 * to leave a valid sum (checked outside ustack). */
	for (size_t len = 8; len < n; len++)
		ck_assert_msg(us_icmp4_parse(b, len, &h) == US_WIRE_BAD_CHECKSUM, "len %zu", len);
}
END_TEST

START_TEST(every_single_bit_flip_is_a_bad_checksum)
{
	uint8_t b[128];
	size_t n = us_test_hex(echo_request, b, sizeof b);
	struct us_icmp4_hdr h;

	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			ck_assert_int_eq(us_icmp4_parse(b, n, &h), US_WIRE_BAD_CHECKSUM);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_int_eq(us_icmp4_parse(b, n, &h), US_WIRE_OK);
}
END_TEST

START_TEST(emit_echo_reply_matches_the_literal)
{
	uint8_t want[128], b[128];
	size_t n = us_test_hex(echo_reply, want, sizeof want);
	struct us_icmp4_hdr h = {
	    .type = US_ICMP4_ECHO_REPLY,
	    .code = 0,
	    .checksum = 0x5555, /* ignored */
	    .rest = us_icmp4_echo_rest(0x1c46, 1),
	    .payload = NULL, /* not read: the payload is already at b + 8 */
	    .payload_len = 56,
	};

	memset(b, 0xee, sizeof b);
	memcpy(b + 8, want + 8, 56);
	ck_assert_uint_eq(us_icmp4_emit(&h, b, n), 8);
	ck_assert_mem_eq(b, want, n);
	ck_assert_uint_eq(b[n], 0xee); /* nothing written past the message */
}
END_TEST

START_TEST(emit_frag_needed_round_trips)
{
	uint8_t want[64], b[64];
	size_t n = us_test_hex(frag_needed, want, sizeof want);
	struct us_icmp4_hdr h = {
	    .type = US_ICMP4_DEST_UNREACH,
	    .code = US_ICMP4_UNREACH_FRAG_NEEDED,
	    .rest = us_icmp4_frag_needed_rest(1400),
	    .payload_len = 28,
	};
	struct us_icmp4_hdr p;

	memcpy(b + 8, want + 8, 28);
	ck_assert_uint_eq(us_icmp4_emit(&h, b, sizeof b), 8);
	ck_assert_mem_eq(b, want, n);
	ck_assert_int_eq(us_icmp4_parse(b, n, &p), US_WIRE_OK);
	ck_assert_uint_eq(us_icmp4_next_hop_mtu(&p), 1400);
}
END_TEST

START_TEST(emit_param_problem_puts_the_pointer_in_the_top_byte)
{
	uint8_t b[16] = {0};
	struct us_icmp4_hdr h = {
	    .type = US_ICMP4_PARAM_PROBLEM,
	    .rest = us_icmp4_param_rest(9),
	    .payload_len = 0,
	};
	uint8_t want[8];

	/* type 12, code 0, checksum ~(0c00 + 0900) = eaff, pointer 9 */
	us_test_hex("0c 00 ea ff 09 00 00 00", want, sizeof want);
	ck_assert_uint_eq(us_icmp4_emit(&h, b, sizeof b), 8);
	ck_assert_mem_eq(b, want, 8);
}
END_TEST

START_TEST(emit_odd_payload_verifies)
{
	uint8_t b[16];
	struct us_icmp4_hdr h = {
	    .type = US_ICMP4_ECHO,
	    .rest = us_icmp4_echo_rest(7, 9),
	    .payload_len = 3,
	};
	struct us_icmp4_hdr p;

	b[8] = 0xab;
	b[9] = 0xcd;
	b[10] = 0xef;
	ck_assert_uint_eq(us_icmp4_emit(&h, b, 11), 8);
	/* words 0800 + 0007 + 0009 + abcd + ef00 = 1a2dd -> a2de, ~ = 5d21 */
	ck_assert_uint_eq(us_get_be16(b + 2), 0x5d21);
	ck_assert_int_eq(us_icmp4_parse(b, 11, &p), US_WIRE_OK);
	ck_assert_uint_eq(p.payload_len, 3);
}
END_TEST

START_TEST(emit_refuses_a_small_buffer)
{
	uint8_t b[64];
	struct us_icmp4_hdr h = {.type = US_ICMP4_ECHO, .payload_len = 20};
	struct us_icmp4_hdr z = {.type = US_ICMP4_ECHO, .payload_len = 0};

	memset(b, 0, sizeof b);
	ck_assert_uint_eq(us_icmp4_emit(&h, b, 27), 0);
	ck_assert_uint_eq(us_icmp4_emit(&h, b, 28), 8);
	ck_assert_uint_eq(us_icmp4_emit(&z, b, 7), 0);
	ck_assert_uint_eq(us_icmp4_emit(&z, b, 0), 0);
	ck_assert_uint_eq(us_icmp4_emit(&z, b, 8), 8);
	/* a payload length that would wrap 8 + len */
	h.payload_len = (size_t)-4;
	ck_assert_uint_eq(us_icmp4_emit(&h, b, sizeof b), 0);
}
END_TEST

START_TEST(is_error_is_true_for_exactly_the_rfc1122_errors)
{
	for (unsigned t = 0; t < 256; t++) {
		bool want = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;

		ck_assert_msg(us_icmp4_is_error((uint8_t)t) == want, "type %u", t);
	}
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("wire_icmp4");
	TCase *tc = tcase_create("icmp4");

	tcase_add_test(tc, linux_echo_request_parses);
	tcase_add_test(tc, frag_needed_gives_the_next_hop_mtu);
	tcase_add_test(tc, param_problem_gives_the_pointer);
	tcase_add_test(tc, truncated_at_every_length_below_8);
	tcase_add_test(tc, a_cut_message_fails_its_checksum);
	tcase_add_test(tc, every_single_bit_flip_is_a_bad_checksum);
	tcase_add_test(tc, emit_echo_reply_matches_the_literal);
	tcase_add_test(tc, emit_frag_needed_round_trips);
	tcase_add_test(tc, emit_param_problem_puts_the_pointer_in_the_top_byte);
	tcase_add_test(tc, emit_odd_payload_verifies);
	tcase_add_test(tc, emit_refuses_a_small_buffer);
	tcase_add_test(tc, is_error_is_true_for_exactly_the_rfc1122_errors);
	suite_add_tcase(s, tc);
	return s;
}

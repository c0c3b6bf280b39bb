/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_checksum.c - the Internet checksum (wire/checksum.h)
 * against a byte-at-a-time reference, RFC 1071's worked example, a real IPv4
 * header, the pseudo-headers and RFC 1624's incremental update; and the
 * names of the wire error codes (wire/wire.c).
 *
 * Read first: src/stack/wire/checksum.h.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/wire.h"

START_TEST(rfc1071_example_sums_to_ddf2)
{
	/* RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0, which
	 * folds to ddf2; the checksum is its complement 220d. */
	uint8_t b[8];
	size_t n = us_test_hex("00 01 f2 03 f4 f5 f6 f7", b, sizeof b);

	ck_assert_uint_eq(us_csum_partial(b, n, 0), 0xddf2);
	ck_assert_uint_eq(us_csum_fold(us_csum_partial(b, n, 0)), 0x220d);
}
END_TEST

START_TEST(real_ipv4_header_verifies_and_refills_to_b861)
{
	uint8_t h[20];
	size_t n = us_test_hex("45 00 00 73"  /* version 4, IHL 5, TOS 0, total length 115 */
			       "00 00 40 00"  /* id 0, DF, offset 0 */
			       "40 11 b8 61"  /* TTL 64, protocol 17 (UDP), checksum b861 */
			       "c0 a8 00 01"  /* source 192.168.0.1 */
			       "c0 a8 00 c7", /* destination 192.168.0.199 */
			       h, sizeof h);

	ck_assert_uint_eq(n, 20);
	ck_assert(us_csum_ok(h, n, 0));
	h[10] = 0x12;
	ck_assert(!us_csum_ok(h, n, 0));
	us_csum_fill(h, n, 10, 0);
	ck_assert_uint_eq(us_get_be16(h + 10), 0xb861);
	ck_assert(us_csum_ok(h, n, 0));
}
END_TEST

START_TEST(every_length_and_alignment_matches_the_reference)
{
	us_test_rng_state = 0x9e3779b97f4a7c15u;
	for (size_t len = 0; len <= 2000; len++) {
		for (size_t align = 0; align < 8; align++) {
			/* Exactly align + len bytes, so a sanitizer sees any read
			 * past the end. */
			uint8_t *mem = malloc(align + len > 0 ? align + len : 1);
			uint8_t *p = mem + align;
			uint32_t seed = (uint32_t)us_test_rng();

			ck_assert_ptr_nonnull(mem);
			us_test_fill_random(p, len);
			ck_assert_msg(us_csum_partial(p, len, 0) == us_test_csum_ref(p, len, 0),
				      "len %zu align %zu", len, align);
			ck_assert_msg(us_test_csum_fold(us_csum_partial(p, len, seed)) ==
					  us_test_csum_ref(p, len, seed),
				      "len %zu align %zu seed %08x", len, align, seed);
			free(mem);
		}
	}
}
END_TEST

START_TEST(all_ones_data_and_extreme_sums_do_not_overflow)
{
	/* 64 KiB of 0xff and a starting sum of 0xffffffff: the worst case
	 * for carries. Every 0xffff word is ones' complement zero, so the
	 * folded sum stays 0xffff. */
	static uint8_t big[65536];

	memset(big, 0xff, sizeof big);
	ck_assert_uint_eq(us_csum_partial(big, sizeof big, 0), 0xffff);
	ck_assert_uint_eq(us_csum_partial(big, sizeof big, 0xffffffffu), 0xffff);
	ck_assert_uint_eq(us_csum_partial(big, sizeof big - 1, 0),
			  us_test_csum_ref(big, sizeof big - 1, 0));

	us_test_rng_state = 42;
	us_test_fill_random(big, sizeof big);
	ck_assert_uint_eq(us_csum_partial(big, sizeof big, 0xfffffffeu),
			  us_test_csum_ref(big, sizeof big, 0xfffffffeu));
	ck_assert_uint_eq(us_csum_partial(big + 3, sizeof big - 3, 0),
			  us_test_csum_ref(big + 3, sizeof big - 3, 0));
}
END_TEST

START_TEST(chained_even_chunks_equal_one_sum)
{
	uint8_t buf[1500];

	us_test_rng_state = 7;
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(us_test_rng() % sizeof buf);
		uint32_t whole, chained = 0;
		size_t off = 0;

		us_test_fill_random(buf, len);
		whole = us_csum_partial(buf, len, 0x1234);
		chained = 0x1234;
		while (off < len) {
			/* even chunk sizes, the last one whatever is left */
			size_t chunk = (size_t)(us_test_rng() % 64) * 2;

			if (chunk > len - off)
				chunk = len - off;
			chained = us_csum_partial(buf + off, chunk, chained);
			off += chunk;
		}
		ck_assert_uint_eq(us_test_csum_fold(chained), us_test_csum_fold(whole));
		ck_assert_uint_eq(us_test_csum_fold(whole), us_test_csum_ref(buf, len, 0x1234));
	}
}
END_TEST

START_TEST(odd_last_byte_is_padded_with_zero)
{
	uint8_t b[3] = {0xab, 0x01, 0xcd};

	ck_assert_uint_eq(us_csum_partial(b, 1, 0), 0xab00);
	ck_assert_uint_eq(us_csum_partial(b, 3, 0), 0xab01 + 0xcd00 - 0xffff);
}
END_TEST

START_TEST(empty_buffer_leaves_the_sum_alone)
{
	ck_assert_uint_eq(us_csum_partial(NULL, 0, 0), 0);
	ck_assert_uint_eq(us_csum_partial(NULL, 0, 0x1234), 0x1234);
	/* folded, not changed in value */
	ck_assert_uint_eq(us_csum_partial(NULL, 0, 0x12345), 0x2346);
}
END_TEST

START_TEST(fold_complements_and_handles_zero_and_all_ones)
{
	uint8_t zeros[10] = {0};

	ck_assert_uint_eq(us_csum_fold(0), 0xffff);
	ck_assert_uint_eq(us_csum_fold(0xffff), 0x0000);
	ck_assert_uint_eq(us_csum_fold(0x2ddf0), 0x220d);
	ck_assert_uint_eq(us_csum_fold(0xffffffffu), 0x0000);
	/* All-zero data sums to 0: it does not verify as is, and its
	 * checksum is 0xffff. */
	ck_assert(!us_csum_ok(zeros, sizeof zeros, 0));
	us_csum_fill(zeros, sizeof zeros, 4, 0);
	ck_assert_uint_eq(us_get_be16(zeros + 4), 0xffff);
	ck_assert(us_csum_ok(zeros, sizeof zeros, 0));
}
END_TEST

START_TEST(pseudo4_equals_the_sum_of_the_pseudo_header_bytes)
{
	/* RFC 9293 §3.1: source, destination, zero, PTCL, TCP length. */
	uint8_t ph[12];
	size_t n = us_test_hex("c6 33 64 02" /* 198.51.100.2 */
			       "c0 00 02 01" /* 192.0.2.1 */
			       "00 06"	     /* zero, protocol 6 (TCP) */
			       "05 dc",	     /* length 1500 */
			       ph, sizeof ph);

	ck_assert_uint_eq(us_csum_pseudo4(0xc6336402, 0xc0000201, 6, 1500),
			  us_test_csum_ref(ph, n, 0));
	/* a length above 16 bits still counts in full */
	ck_assert_uint_eq(us_test_csum_fold(us_csum_pseudo4(0, 0, 0, 0x10001)), 2);
}
END_TEST

START_TEST(pseudo6_equals_the_sum_of_the_pseudo_header_bytes)
{
	/* RFC 8200 §8.1: source, destination, 32-bit length, 3 zero bytes,
	 * next header. */
	uint8_t ph[40];
	struct us_ip6 src, dst;
	size_t n = us_test_hex(
	    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01" /* 2001:db8::1 */
	    "fe 80 00 00 00 00 00 00 02 11 22 ff fe 33 44 55" /* fe80::211:22ff:fe33:4455 */
	    "00 01 00 20"				      /* length 65568 */
	    "00 00 00 3a",				      /* next header 58 */
	    ph, sizeof ph);

	ck_assert_uint_eq(n, 40);
	memcpy(src.b, ph, 16);
	memcpy(dst.b, ph + 16, 16);
	ck_assert_uint_eq(us_csum_pseudo6(&src, &dst, 58, 65568), us_test_csum_ref(ph, n, 0));
}
END_TEST

START_TEST(pseudo_sum_chains_into_a_real_udp_datagram)
{
	/* A DNS query 10.0.0.1:53000 -> 10.0.0.2:53 whose checksum was
	 * computed independently (by summing the 16-bit words by hand). */
	uint8_t d[64];
	size_t n = us_test_hex("cf 08 00 35"  /* sport 53000, dport 53 */
			       "00 0c 00 00"  /* length 12, checksum (to fill) */
			       "12 34 01 00", /* 4 bytes of payload */
			       d, sizeof d);
	uint32_t ph = us_csum_pseudo4(0x0a000001, 0x0a000002, 17, (uint32_t)n);

	/* words: 0a00+0001+0a00+0002+0011+000c + cf08+0035+000c+0000+1234+0100 */
	uint32_t expect = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0011 + 0x000c + 0xcf08 + 0x0035 +
			  0x000c + 0x0000 + 0x1234 + 0x0100;

	us_csum_fill(d, n, 6, ph);
	ck_assert_uint_eq(us_get_be16(d + 6), (uint16_t)~us_test_csum_fold(expect));
	ck_assert(us_csum_ok(d, n, ph));
	ck_assert(!us_csum_ok(d, n, us_csum_pseudo4(0x0a000001, 0x0a000003, 17, (uint32_t)n)));
}
END_TEST

START_TEST(fill_ignores_a_field_outside_the_buffer)
{
	uint8_t b[4] = {1, 2, 3, 4};

	us_csum_fill(b, 4, 3, 0);
	us_csum_fill(b, 4, 4, 0);
	us_csum_fill(b, 4, (size_t)-1, 0);
	ck_assert_uint_eq(b[0], 1);
	ck_assert_uint_eq(b[1], 2);
	ck_assert_uint_eq(b[2], 3);
	ck_assert_uint_eq(b[3], 4);
	us_csum_fill(b, 4, 2, 0);
	ck_assert_uint_eq(us_get_be16(b + 2), (uint16_t)~0x0102);
}
END_TEST

START_TEST(incremental_update_equals_a_full_recompute)
{
	uint8_t h[20];

	us_test_rng_state = 1624;
	for (int round = 0; round < 5000; round++) {
		uint16_t old16, new16, want;
		uint32_t old32, new32;

		us_test_fill_random(h, sizeof h);
		us_csum_fill(h, sizeof h, 10, 0);

		/* RFC 1624's case: the TTL/protocol word changes (a router
		 * decrementing the TTL). */
		old16 = us_get_be16(h + 8);
		new16 = (round % 3 == 0) ? (uint16_t)(old16 - 0x100) : (uint16_t)us_test_rng();
		us_put_be16(h + 8, new16);
		want = us_get_be16(h + 10);
		us_csum_fill(h, sizeof h, 10, 0);
		ck_assert_uint_eq(us_csum_update16(want, old16, new16), us_get_be16(h + 10));

		/* an address rewrite */
		old32 = us_get_be32(h + 12);
		new32 = (uint32_t)us_test_rng();
		us_put_be32(h + 12, new32);
		want = us_get_be16(h + 10);
		us_csum_fill(h, sizeof h, 10, 0);
		ck_assert_uint_eq(us_csum_update32(want, old32, new32), us_get_be16(h + 10));
		ck_assert(us_csum_ok(h, sizeof h, 0));
	}
}
END_TEST

START_TEST(rfc1624_minus_zero_example)
{
	/* RFC 1624 §4: a header whose checksum is 0xdd2f, a word changing
	 * from 0x5555 to 0x3285: eqn. 3 gives 0x0000, where eqn. 2 gave the
	 * wrong 0xffff. */
	ck_assert_uint_eq(us_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}
END_TEST

START_TEST(wire_strerror_names_every_code_distinctly)
{
	static const char *const want[US_WIRE_ERR_COUNT] = {
	    "ok",	    "truncated",     "bad-version",  "bad-hdr-len",
	    "hdr-past-end", "bad-total-len", "bad-checksum", "opt-past-end",
	    "opt-bad-len",  "bad-arp",	     "bad-vlan",     "ext-past-end",
	    "ext-too-many", "ext-bad-order", "bad-field",
	};

	ck_assert_int_eq(US_WIRE_BAD_FIELD, -(US_WIRE_ERR_COUNT - 1));
	for (int i = 0; i < US_WIRE_ERR_COUNT; i++) {
		ck_assert_str_eq(us_wire_strerror(-i), want[i]);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(us_wire_strerror(-i), us_wire_strerror(-j));
	}
	ck_assert_str_eq(us_wire_strerror(-US_WIRE_ERR_COUNT), "unknown");
	ck_assert_str_eq(us_wire_strerror(1), "unknown");
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("checksum");
	TCase *tc = tcase_create("checksum");

	tcase_add_test(tc, rfc1071_example_sums_to_ddf2);
	tcase_add_test(tc, real_ipv4_header_verifies_and_refills_to_b861);
	tcase_add_test(tc, every_length_and_alignment_matches_the_reference);
	tcase_add_test(tc, all_ones_data_and_extreme_sums_do_not_overflow);
	tcase_add_test(tc, chained_even_chunks_equal_one_sum);
	tcase_add_test(tc, odd_last_byte_is_padded_with_zero);
	tcase_add_test(tc, empty_buffer_leaves_the_sum_alone);
	tcase_add_test(tc, fold_complements_and_handles_zero_and_all_ones);
	tcase_add_test(tc, pseudo4_equals_the_sum_of_the_pseudo_header_bytes);
	tcase_add_test(tc, pseudo6_equals_the_sum_of_the_pseudo_header_bytes);
	tcase_add_test(tc, pseudo_sum_chains_into_a_real_udp_datagram);
	tcase_add_test(tc, fill_ignores_a_field_outside_the_buffer);
	tcase_add_test(tc, incremental_update_equals_a_full_recompute);
	tcase_add_test(tc, rfc1624_minus_zero_example);
	tcase_add_test(tc, wire_strerror_names_every_code_distinctly);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_sha256.c - tools/sha256.c against the known answers of
 * FIPS 180-4's examples (NIST "SHA256.pdf", the one-block "abc", the
 * two-block 448-bit message, the million 'a'), the empty message, the
 * 896-bit message, and feeding the same bytes in pieces of every size.
 *
 * Read first: tools/sha256.h.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static void hex_of(const void *data, size_t len, char out[US_SHA256_HEX])
{
	uint8_t d[US_SHA256_DIGEST];
	us_sha256(data, len, d);
	us_sha256_hex(d, out);
}

START_TEST(abc_is_the_one_block_example)
{
	char hex[US_SHA256_HEX];
	hex_of("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(empty_message_has_the_known_digest)
{
	char hex[US_SHA256_HEX];
	hex_of("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(message_of_448_bits_pads_into_a_second_block)
{
	static const char m[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[US_SHA256_HEX];
	ck_assert_uint_eq(strlen(m) * 8, 448);
	hex_of(m, strlen(m), hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(message_of_896_bits_has_the_known_digest)
{
	static const char m[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
				"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	char hex[US_SHA256_HEX];
	hex_of(m, strlen(m), hex);
	ck_assert_str_eq(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(million_a_fed_in_uneven_pieces_has_the_known_digest)
{
	/* FIPS 180-4 example: 1,000,000 repetitions of 'a'. Fed in pieces of
	 * 1, 2, ... 130 bytes in turn, so every block boundary is crossed
	 * at every offset. */
	char a[130];
	memset(a, 'a', sizeof a);
	struct us_sha256 c;
	us_sha256_init(&c);
	size_t left = 1000000, piece = 1;
	while (left) {
		size_t n = piece < left ? piece : left;
		us_sha256_update(&c, a, n);
		left -= n;
		piece = piece % sizeof a + 1;
	}
	uint8_t d[US_SHA256_DIGEST];
	char hex[US_SHA256_HEX];
	us_sha256_final(&c, d);
	us_sha256_hex(d, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(pieces_and_one_buffer_agree_at_every_padding_length)
{
	/* Lengths 0..200 cover the padding edge cases (55, 56, 63, 64 bytes
	 * and their multiples): byte by byte equals all at once. */
	uint8_t msg[200];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof msg; len++) {
		uint8_t whole[US_SHA256_DIGEST], bytes[US_SHA256_DIGEST];
		us_sha256(msg, len, whole);
		struct us_sha256 c;
		us_sha256_init(&c);
		for (size_t i = 0; i < len; i++)
			us_sha256_update(&c, msg + i, 1);
		us_sha256_final(&c, bytes);
		ck_assert_mem_eq(whole, bytes, US_SHA256_DIGEST);
	}
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc = tcase_create("fips180_4");
	tcase_add_test(tc, abc_is_the_one_block_example);
	tcase_add_test(tc, empty_message_has_the_known_digest);
	tcase_add_test(tc, message_of_448_bits_pads_into_a_second_block);
	tcase_add_test(tc, message_of_896_bits_has_the_known_digest);
	tcase_add_test(tc, million_a_fed_in_uneven_pieces_has_the_known_digest);
	tcase_add_test(tc, pieces_and_one_buffer_agree_at_every_padding_length);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/stack/arp.c: answering requests for our addresses
 * (RFC 826), and dropping what is malformed or not for us.
 */
#include "harness.h"

#include <string.h>

#include <ustack/core.h>

/* The stack: 02:00:00:00:00:02, 198.51.100.2. The peer: 02:00:00:00:00:01, 198.51.100.1. */
static const char request_for_us[] =
	"ff ff ff ff ff ff 02 00 00 00 00 01 08 06"   /* broadcast, from the peer, ARP */
	" 00 01 08 00 06 04 00 01"                    /* htype 1, ptype IPv4, hlen 6, plen 4, op request */
	" 02 00 00 00 00 01 c6 33 64 01"              /* sha, spa 198.51.100.1 */
	" 00 00 00 00 00 00 c6 33 64 02";             /* tha unknown, tpa 198.51.100.2 */

START_TEST(a_request_for_our_address_gets_a_reply)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64], want[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 1);
	size_t wn = us_test_hex(
		"02 00 00 00 00 01 02 00 00 00 00 02 08 06"  /* to the peer, from us, ARP */
		" 00 01 08 00 06 04 00 02"                   /* op reply */
		" 02 00 00 00 00 02 c6 33 64 02"             /* sha us, spa 198.51.100.2 */
		" 02 00 00 00 00 01 c6 33 64 01"             /* tha, tpa: the asker */
		" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", /* padding to 60 bytes */
		want, sizeof want);
	ck_assert_uint_eq(wn, 60);
	ck_assert_uint_eq(link.len[0], 60);
	ck_assert_mem_eq(link.frame[0], want, 60);
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_answered"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "eth.out_frames"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_request_for_another_address_is_not_answered)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	f[41] = 0x09; /* tpa 198.51.100.9 */
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_not_for_us"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_stack_without_addresses_answers_nothing)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 0);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(truncated_arp_packets_are_dropped_at_every_length)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	us_test_hex(request_for_us, f, sizeof f);
	for (size_t n = 14; n < 42; n++)
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_malformed"), 28);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(arp_for_other_hardware_or_protocols_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	const size_t field[] = { 15, 17, 18, 19 }; /* htype, ptype, hlen, plen */
	for (size_t i = 0; i < 4; i++) {
		uint8_t g[64];
		memcpy(g, f, n);
		g[field[i]] ^= 0x40;
		ck_assert_int_lt(us_stack_input(s, 0, 0, g, n), 0);
	}
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_malformed"), 4);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_multicast_sender_hardware_address_is_refused)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	f[22] = 0x01; /* sha 01:00:00:00:00:01 */
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_bad_source"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_transmit_failure_is_counted_and_frees_the_buffer)
{
	struct us_test_link link = { .fail_with = -11 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "eth.tx_errors"), 1);
	us_test_stack_free(s); /* checks that no buffer is held */
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("arp");
	TCase *tc = tcase_create("arp");
	tcase_add_test(tc, a_request_for_our_address_gets_a_reply);
	tcase_add_test(tc, a_request_for_another_address_is_not_answered);
	tcase_add_test(tc, a_stack_without_addresses_answers_nothing);
	tcase_add_test(tc, truncated_arp_packets_are_dropped_at_every_length);
	tcase_add_test(tc, arp_for_other_hardware_or_protocols_is_dropped);
	tcase_add_test(tc, a_multicast_sender_hardware_address_is_refused);
	tcase_add_test(tc, a_transmit_failure_is_counted_and_frees_the_buffer);
	suite_add_tcase(s, tc);
	return s;
}

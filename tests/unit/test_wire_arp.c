/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_wire_arp.c - ARP packets for Ethernet/IPv4 (RFC 826).
 *
 * Read first: src/stack/wire/arp.h.
 */
#include "harness.h"

#include <string.h>

#include "wire/arp.h"

/* Literal frames are annotated field by field throughout, aligned by hand:
 * clang-format would fold them. It formats only us_test_suite() below. */
/* clang-format off */
/* A who-has 192.0.2.1 tell 192.0.2.2, as tcpdump would print it. */
#define REQUEST_HEX                                                         \
	"00 01"             /* hardware type: Ethernet */                   \
	"08 00"             /* protocol type: IPv4 */                       \
	"06"                /* hardware length */                           \
	"04"                /* protocol length */                           \
	"00 01"             /* op: request */                               \
	"52 54 00 12 34 56" /* sha */                                       \
	"c0 00 02 02"       /* spa 192.0.2.2 */                             \
	"00 00 00 00 00 00" /* tha: unknown */                              \
	"c0 00 02 01"       /* tpa 192.0.2.1 */

static const uint8_t sha[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t zero_mac[6] = { 0 };

START_TEST(request_yields_every_field)
{
	uint8_t p[64];
	size_t n = us_test_hex(REQUEST_HEX, p, sizeof p);
	ck_assert_uint_eq(n, 28);
	struct us_arp_pkt a;
	ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_OK);
	ck_assert_uint_eq(a.op, US_ARP_REQUEST);
	ck_assert_mem_eq(a.sha, sha, 6);
	ck_assert_uint_eq(a.spa, 0xc0000202u);
	ck_assert_mem_eq(a.tha, zero_mac, 6);
	ck_assert_uint_eq(a.tpa, 0xc0000201u);
}
END_TEST

START_TEST(reply_yields_every_field)
{
	uint8_t p[64];
	size_t n = us_test_hex("00 01 08 00 06 04"
			       "00 02"             /* op: reply */
			       "02 00 00 00 00 01" /* sha */
			       "c0 00 02 01"       /* spa 192.0.2.1 */
			       "52 54 00 12 34 56" /* tha */
			       "c0 00 02 02",      /* tpa 192.0.2.2 */
			       p, sizeof p);
	struct us_arp_pkt a;
	const uint8_t sha2[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_OK);
	ck_assert_uint_eq(a.op, US_ARP_REPLY);
	ck_assert_mem_eq(a.sha, sha2, 6);
	ck_assert_uint_eq(a.spa, 0xc0000201u);
	ck_assert_mem_eq(a.tha, sha, 6);
	ck_assert_uint_eq(a.tpa, 0xc0000202u);
}
END_TEST

START_TEST(every_length_below_28_is_truncated)
{
	uint8_t p[28];
	size_t n = us_test_hex(REQUEST_HEX, p, sizeof p);
	struct us_arp_pkt a;
	for (size_t len = 0; len < n; len++)
		ck_assert_int_eq(us_arp_parse(p, len, &a), US_WIRE_TRUNCATED);
}
END_TEST

START_TEST(ethernet_padding_after_the_packet_is_ignored)
{
	uint8_t p[46];
	memset(p, 0xa5, sizeof p);
	us_test_hex(REQUEST_HEX, p, sizeof p);
	struct us_arp_pkt a;
	ck_assert_int_eq(us_arp_parse(p, sizeof p, &a), US_WIRE_OK);
	ck_assert_uint_eq(a.tpa, 0xc0000201u);
}
END_TEST

START_TEST(other_hardware_type_is_bad_arp)
{
	uint8_t p[28];
	size_t n = us_test_hex("00 06"  /* hardware type: IEEE 802 */
			       "08 00 06 04 00 01"
			       "52 54 00 12 34 56 c0 00 02 02"
			       "00 00 00 00 00 00 c0 00 02 01",
			       p, sizeof p);
	struct us_arp_pkt a;
	ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_BAD_ARP);
}
END_TEST

START_TEST(other_protocol_type_is_bad_arp)
{
	uint8_t p[28];
	size_t n = us_test_hex("00 01"
			       "86 dd"  /* protocol type: IPv6 */
			       "06 04 00 01"
			       "52 54 00 12 34 56 c0 00 02 02"
			       "00 00 00 00 00 00 c0 00 02 01",
			       p, sizeof p);
	struct us_arp_pkt a;
	ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_BAD_ARP);
}
END_TEST

START_TEST(wrong_address_lengths_are_bad_arp)
{
	uint8_t p[28];
	size_t n = us_test_hex(REQUEST_HEX, p, sizeof p);
	struct us_arp_pkt a;
	p[4] = 8; /* hardware length 8 */
	ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_BAD_ARP);
	p[4] = 6;
	p[5] = 16; /* protocol length 16 */
	ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_BAD_ARP);
	p[5] = 0;
	ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_BAD_ARP);
	p[5] = 4;
	ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_OK);
}
END_TEST

START_TEST(operation_other_than_request_or_reply_is_bad_field)
{
	uint8_t p[28];
	size_t n = us_test_hex(REQUEST_HEX, p, sizeof p);
	struct us_arp_pkt a;
	const uint16_t bad[] = { 0, 3, 4, 8, 9, 0x0101, 0xffff };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p[6] = (uint8_t)(bad[i] >> 8);
		p[7] = (uint8_t)bad[i];
		ck_assert_int_eq(us_arp_parse(p, n, &a), US_WIRE_BAD_FIELD);
	}
}
END_TEST

START_TEST(emit_writes_the_exact_request)
{
	struct us_arp_pkt a = {
		.op = US_ARP_REQUEST,
		.spa = 0xc0000202u,
		.tpa = 0xc0000201u,
	};
	memcpy(a.sha, sha, 6);
	uint8_t want[28], buf[32];
	us_test_hex(REQUEST_HEX, want, sizeof want);
	memset(buf, 0xee, sizeof buf);
	ck_assert_uint_eq(us_arp_emit(&a, buf, sizeof buf), 28);
	ck_assert_mem_eq(buf, want, 28);
	ck_assert_uint_eq(buf[28], 0xee);
}
END_TEST

START_TEST(emit_then_parse_gives_the_same_reply)
{
	struct us_arp_pkt a = { .op = US_ARP_REPLY, .spa = 0x0a000001u, .tpa = 0x0a0000feu };
	memcpy(a.sha, sha, 6);
	memset(a.tha, 0x77, 6);
	uint8_t buf[28];
	ck_assert_uint_eq(us_arp_emit(&a, buf, sizeof buf), 28);
	struct us_arp_pkt b;
	ck_assert_int_eq(us_arp_parse(buf, 28, &b), US_WIRE_OK);
	ck_assert_uint_eq(b.op, US_ARP_REPLY);
	ck_assert_mem_eq(b.sha, a.sha, 6);
	ck_assert_mem_eq(b.tha, a.tha, 6);
	ck_assert_uint_eq(b.spa, 0x0a000001u);
	ck_assert_uint_eq(b.tpa, 0x0a0000feu);
}
END_TEST

START_TEST(emit_into_27_bytes_returns_zero)
{
	struct us_arp_pkt a = { .op = US_ARP_REQUEST };
	uint8_t buf[28];
	memset(buf, 0xee, sizeof buf);
	ck_assert_uint_eq(us_arp_emit(&a, buf, 27), 0);
	ck_assert_uint_eq(buf[0], 0xee);
}
END_TEST

/* clang-format on */

Suite *us_test_suite(void)
{
	Suite *s = suite_create("wire_arp");
	TCase *tc = tcase_create("arp");
	tcase_add_test(tc, request_yields_every_field);
	tcase_add_test(tc, reply_yields_every_field);
	tcase_add_test(tc, every_length_below_28_is_truncated);
	tcase_add_test(tc, ethernet_padding_after_the_packet_is_ignored);
	tcase_add_test(tc, other_hardware_type_is_bad_arp);
	tcase_add_test(tc, other_protocol_type_is_bad_arp);
	tcase_add_test(tc, wrong_address_lengths_are_bad_arp);
	tcase_add_test(tc, operation_other_than_request_or_reply_is_bad_field);
	tcase_add_test(tc, emit_writes_the_exact_request);
	tcase_add_test(tc, emit_then_parse_gives_the_same_reply);
	tcase_add_test(tc, emit_into_27_bytes_returns_zero);
	suite_add_tcase(s, tc);
	return s;
}

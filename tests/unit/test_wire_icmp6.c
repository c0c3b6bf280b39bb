/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_wire_icmp6.c - ICMPv6 (RFC 4443) and Neighbor Discovery
 * (RFC 4861, RFC 8106) on the wire (wire/icmp6.h): literal messages with
 * their pseudo-header checksums, every truncation, every rule the ND
 * parsers enforce, the option walker's errors, and byte-exact emission.
 *
 * Read first: src/stack/wire/icmp6.h. Checksums in the literals were
 * computed outside ustack.
 */
#include "harness.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp6.h"
#include "wire/wire.h"

#define NH_ICMPV6 58 /* IPv6 next header for ICMPv6 (RFC 4443 §1) */

/* Addresses of the scenes below. */
static const struct us_ip6 doc1 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const struct us_ip6 doc2 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
static const struct us_ip6 docfe = {
    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe}};
/* fe80::211:22ff:fe33:4455, the host (MAC 00:11:22:33:44:55) */
static const struct us_ip6 ll_host = {
    {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55}};
static const struct us_ip6 ll_router = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const struct us_ip6 ll_peer = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
static const struct us_ip6 ll_router3 = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}};
/* ff02::1:ff00:2, the solicited-node group of fe80::2 */
static const struct us_ip6 snm_peer = {
    {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x00, 0x02}};
static const struct us_ip6 all_nodes = {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const struct us_ip6 all_routers = {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
/* 2001:db8:2::5 */
static const struct us_ip6 far_dest = {
    {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}};

static uint32_t ps(const struct us_ip6 *src, const struct us_ip6 *dst, size_t len)
{
	return us_csum_pseudo6(src, dst, NH_ICMPV6, (uint32_t)len);
}

/* Literal frames: kept as written, one field per line. */
/* clang-format off */
/* `ping -6 -c1 2001:db8::2` from 2001:db8::1 (iputils): id 0x2a2b, seq 1. */
static const char echo_request[] =
	"80 00 36 d9"  /* type 128 (echo request), code 0, checksum 36d9 */
	"2a 2b 00 01"  /* identifier 0x2a2b, sequence 1 */
	"d4 2b 5f 66 00 00 00 00 c3 a5 0d 00 00 00 00 00"  /* timeval */
	"10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f"
	"20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f"
	"30 31 32 33 34 35 36 37";

static const char echo_reply[] =
	"81 00 35 d9"  /* type 129 (echo reply), code 0, checksum 35d9 */
	"2a 2b 00 01"
	"d4 2b 5f 66 00 00 00 00 c3 a5 0d 00 00 00 00 00"
	"10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f"
	"20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f"
	"30 31 32 33 34 35 36 37";

/* Address resolution: fe80::211:22ff:fe33:4455 -> ff02::1:ff00:2. */
static const char ns_msg[] =
	"87 00 ae 66"  /* type 135 (NS), code 0, checksum ae66 */
	"00 00 00 00"  /* reserved */
	"fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02"  /* target fe80::2 */
	"01 01 00 11 22 33 44 55";                        /* SLLA, length 1, 00:11:22:33:44:55 */

/* The answer: fe80::2 -> fe80::211:22ff:fe33:4455. */
static const char na_msg[] =
	"88 00 b0 81"  /* type 136 (NA), code 0, checksum b081 */
	"60 00 00 00"  /* R=0 S=1 O=1, reserved */
	"fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02"  /* target fe80::2 */
	"02 01 02 00 00 00 00 02";                        /* TLLA, length 1, 02:00:00:00:00:02 */

/* fe80::211:22ff:fe33:4455 -> ff02::2 */
static const char rs_msg[] =
	"85 00 ad fb"  /* type 133 (RS), code 0, checksum adfb */
	"00 00 00 00"  /* reserved */
	"01 01 00 11 22 33 44 55";  /* SLLA */

/* A radvd-style RA: fe80::1 -> ff02::1. */
static const char ra_msg[] =
	"86 00 5d 5d"  /* type 134 (RA), code 0, checksum 5d5d */
	"40 40 07 08"  /* cur hop limit 64, M=0 O=1, router lifetime 1800 s */
	"00 00 00 00"  /* reachable time 0 (unspecified) */
	"00 00 00 00"  /* retrans timer 0 (unspecified) */
	"01 01 52 54 00 12 34 56"  /* SLLA 52:54:00:12:34:56 */
	"05 01 00 00 00 00 05 dc"  /* MTU 1500 */
	"03 04 40 c0"              /* prefix info, length 4, /64, L=1 A=1 */
	"00 01 51 80"              /* valid lifetime 86400 s */
	"00 00 38 40"              /* preferred lifetime 14400 s */
	"00 00 00 00"              /* reserved2 */
	"20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 00"  /* 2001:db8:1:: */
	"19 03 00 00 00 00 02 58"  /* RDNSS, length 3, lifetime 600 s */
	"20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 53"; /* 2001:db8::53 */

/* fe80::1 -> fe80::211:22ff:fe33:4455: "reach 2001:db8:2::5 via fe80::3". */
static const char redirect_msg[] =
	"89 00 c2 c4"  /* type 137 (redirect), code 0, checksum c2c4 */
	"00 00 00 00"  /* reserved */
	"fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 03"  /* target fe80::3 */
	"20 01 0d b8 00 02 00 00 00 00 00 00 00 00 00 05"  /* destination 2001:db8:2::5 */
	"02 01 52 54 00 ab cd ef";                        /* TLLA 52:54:00:ab:cd:ef */

/* 2001:db8::fe -> 2001:db8::1: Packet Too Big, MTU 1280. */
static const char ptb_msg[] =
	"02 00 48 9b"  /* type 2 (packet too big), code 0, checksum 489b */
	"00 00 05 00"  /* MTU 1280 */
	"60 00 00 00 05 d8 11 40"  /* the quoted IPv6 header: payload 1496, UDP, hop limit 64 */
	"20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
	"20 01 0d b8 00 09 00 00 00 00 00 00 00 00 00 09"
	"cf 08 00 35 05 d8 ab cd";  /* and its first 8 bytes */
/* clang-format on */

/* ---- ICMPv6 header ----------------------------------------------------- */

START_TEST(linux_echo_request_parses_with_its_pseudo_header)
{
	uint8_t b[128];
	size_t n = us_test_hex(echo_request, b, sizeof b);
	struct us_icmp6_hdr h;

	ck_assert_uint_eq(n, 64);
	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&doc1, &doc2, n), &h), US_WIRE_OK);
	ck_assert_uint_eq(h.type, US_ICMP6_ECHO_REQUEST);
	ck_assert_uint_eq(h.code, 0);
	ck_assert_uint_eq(h.checksum, 0x36d9);
	ck_assert_uint_eq(us_icmp6_echo_id(&h), 0x2a2b);
	ck_assert_uint_eq(us_icmp6_echo_seq(&h), 1);
	ck_assert_ptr_eq(h.payload, b + 8);
	ck_assert_uint_eq(h.payload_len, 56);
	ck_assert(!us_icmp6_is_error(h.type));
}
END_TEST

START_TEST(another_pseudo_header_is_a_bad_checksum)
{
	uint8_t b[128];
	size_t n = us_test_hex(echo_request, b, sizeof b);
	struct us_icmp6_hdr h;

	/* swapped addresses sum the same: the pseudo-header is a sum */
	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&doc2, &doc1, n), &h), US_WIRE_OK);
	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&doc1, &docfe, n), &h), US_WIRE_BAD_CHECKSUM);
	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&doc1, &doc2, n + 1), &h), US_WIRE_BAD_CHECKSUM);
	/* without the pseudo-header (as if it were ICMPv4) */
	ck_assert_int_eq(us_icmp6_parse(b, n, 0, &h), US_WIRE_BAD_CHECKSUM);
}
END_TEST

START_TEST(a_zero_checksum_is_not_special)
{
	uint8_t b[128];
	size_t n = us_test_hex(echo_request, b, sizeof b);
	struct us_icmp6_hdr h;

	/* RFC 4443 §2.3: the checksum is mandatory; 0 is just wrong here */
	b[2] = 0;
	b[3] = 0;
	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&doc1, &doc2, n), &h), US_WIRE_BAD_CHECKSUM);
}
END_TEST

START_TEST(truncated_at_every_length_below_8)
{
	uint8_t b[128];
	struct us_icmp6_hdr h;

	us_test_hex(echo_request, b, sizeof b);
	for (size_t len = 0; len < 8; len++)
		ck_assert_int_eq(us_icmp6_parse(b, len, ps(&doc1, &doc2, len), &h),
				 US_WIRE_TRUNCATED);
}
END_TEST

START_TEST(every_single_bit_flip_is_a_bad_checksum)
{
	uint8_t b[128];
	size_t n = us_test_hex(ns_msg, b, sizeof b);
	uint32_t p = ps(&ll_host, &snm_peer, n);
	struct us_icmp6_hdr h;

	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			ck_assert_int_eq(us_icmp6_parse(b, n, p, &h), US_WIRE_BAD_CHECKSUM);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_int_eq(us_icmp6_parse(b, n, p, &h), US_WIRE_OK);
}
END_TEST

START_TEST(packet_too_big_gives_the_mtu)
{
	uint8_t b[128];
	size_t n = us_test_hex(ptb_msg, b, sizeof b);
	struct us_icmp6_hdr h;

	ck_assert_uint_eq(n, 56);
	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&docfe, &doc1, n), &h), US_WIRE_OK);
	ck_assert_uint_eq(h.type, US_ICMP6_PACKET_TOO_BIG);
	ck_assert_uint_eq(us_icmp6_mtu(&h), 1280);
	ck_assert_uint_eq(h.payload_len, 48);
	ck_assert_uint_eq(h.payload[0], 0x60);
	ck_assert(us_icmp6_is_error(h.type));
}
END_TEST

START_TEST(param_problem_pointer_is_32_bits)
{
	struct us_icmp6_hdr h = {.type = US_ICMP6_PARAM_PROBLEM, .rest = 0x00010028};

	ck_assert_uint_eq(us_icmp6_param_pointer(&h), 0x10028);
}
END_TEST

START_TEST(is_error_is_true_below_128)
{
	for (unsigned t = 0; t < 256; t++)
		ck_assert_msg(us_icmp6_is_error((uint8_t)t) == (t < 128), "type %u", t);
}
END_TEST

START_TEST(emit_echo_reply_matches_the_literal)
{
	uint8_t want[128], b[128];
	size_t n = us_test_hex(echo_reply, want, sizeof want);
	struct us_icmp6_hdr h = {
	    .type = US_ICMP6_ECHO_REPLY,
	    .checksum = 0x1234, /* ignored */
	    .rest = us_icmp6_echo_rest(0x2a2b, 1),
	    .payload_len = 56, /* already at b + 8 */
	};

	memset(b, 0xee, sizeof b);
	memcpy(b + 8, want + 8, 56);
	ck_assert_uint_eq(us_icmp6_emit(&h, b, sizeof b, ps(&doc2, &doc1, n)), 8);
	ck_assert_mem_eq(b, want, n);
	ck_assert_uint_eq(b[n], 0xee);
}
END_TEST

START_TEST(emit_refuses_a_small_buffer)
{
	uint8_t b[32];
	struct us_icmp6_hdr h = {.type = US_ICMP6_ECHO_REQUEST, .payload_len = 10};

	ck_assert_uint_eq(us_icmp6_emit(&h, b, 17, 0), 0);
	ck_assert_uint_eq(us_icmp6_emit(&h, b, 18, 0), 8);
	h.payload_len = 0;
	ck_assert_uint_eq(us_icmp6_emit(&h, b, 7, 0), 0);
	h.payload_len = (size_t)-2;
	ck_assert_uint_eq(us_icmp6_emit(&h, b, sizeof b, 0), 0);
}
END_TEST

/* ---- ND messages ------------------------------------------------------- */

START_TEST(neighbor_solicitation_parses)
{
	uint8_t b[64];
	size_t n = us_test_hex(ns_msg, b, sizeof b);
	struct us_icmp6_hdr h;
	struct us_ndp_ns ns;

	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&ll_host, &snm_peer, n), &h), US_WIRE_OK);
	ck_assert_uint_eq(h.type, US_ICMP6_ND_NS);
	ck_assert_int_eq(us_ndp_ns_parse(b, n, &ns), US_WIRE_OK);
	ck_assert_mem_eq(ns.target.b, ll_peer.b, 16);
	ck_assert_ptr_eq(ns.opts, b + 24);
	ck_assert_uint_eq(ns.opts_len, 8);
}
END_TEST

START_TEST(neighbor_advertisement_parses_its_flags)
{
	uint8_t b[64];
	size_t n = us_test_hex(na_msg, b, sizeof b);
	struct us_icmp6_hdr h;
	struct us_ndp_na na;

	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&ll_peer, &ll_host, n), &h), US_WIRE_OK);
	ck_assert_int_eq(us_ndp_na_parse(b, n, &na), US_WIRE_OK);
	ck_assert(!na.router);
	ck_assert(na.solicited);
	ck_assert(na.override);
	ck_assert_mem_eq(na.target.b, ll_peer.b, 16);
	ck_assert_uint_eq(na.opts_len, 8);

	b[4] = 0x80; /* R alone */
	ck_assert_int_eq(us_ndp_na_parse(b, n, &na), US_WIRE_OK);
	ck_assert(na.router);
	ck_assert(!na.solicited);
	ck_assert(!na.override);
}
END_TEST

START_TEST(router_solicitation_parses)
{
	uint8_t b[32];
	size_t n = us_test_hex(rs_msg, b, sizeof b);
	struct us_icmp6_hdr h;
	struct us_ndp_rs rs;

	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&ll_host, &all_routers, n), &h), US_WIRE_OK);
	ck_assert_int_eq(us_ndp_rs_parse(b, n, &rs), US_WIRE_OK);
	ck_assert_ptr_eq(rs.opts, b + 8);
	ck_assert_uint_eq(rs.opts_len, 8);
	/* 8 bytes with no option is a valid RS */
	ck_assert_int_eq(us_ndp_rs_parse(b, 8, &rs), US_WIRE_OK);
	ck_assert_uint_eq(rs.opts_len, 0);
}
END_TEST

START_TEST(router_advertisement_parses)
{
	uint8_t b[128];
	size_t n = us_test_hex(ra_msg, b, sizeof b);
	struct us_icmp6_hdr h;
	struct us_ndp_ra ra;

	ck_assert_uint_eq(n, 88);
	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&ll_router, &all_nodes, n), &h), US_WIRE_OK);
	ck_assert_int_eq(us_ndp_ra_parse(b, n, &ra), US_WIRE_OK);
	ck_assert_uint_eq(ra.cur_hop_limit, 64);
	ck_assert(!ra.managed);
	ck_assert(ra.other);
	ck_assert_uint_eq(ra.flags, 0x40);
	ck_assert_uint_eq(ra.router_lifetime_s, 1800);
	ck_assert_uint_eq(ra.reachable_time_ms, 0);
	ck_assert_uint_eq(ra.retrans_timer_ms, 0);
	ck_assert_ptr_eq(ra.opts, b + 16);
	ck_assert_uint_eq(ra.opts_len, 72);

	/* other values in the fixed part */
	us_test_hex("c0 ff 00 00 00 00 75 30 00 00 03 e8", b + 4, 12);
	ck_assert_int_eq(us_ndp_ra_parse(b, n, &ra), US_WIRE_OK);
	ck_assert_uint_eq(ra.cur_hop_limit, 0xc0);
	ck_assert(ra.managed);
	ck_assert(ra.other);
	ck_assert_uint_eq(ra.flags, 0xff);
	ck_assert_uint_eq(ra.router_lifetime_s, 0);
	ck_assert_uint_eq(ra.reachable_time_ms, 30000);
	ck_assert_uint_eq(ra.retrans_timer_ms, 1000);
}
END_TEST

START_TEST(redirect_parses)
{
	uint8_t b[64];
	size_t n = us_test_hex(redirect_msg, b, sizeof b);
	struct us_icmp6_hdr h;
	struct us_ndp_redirect rd;

	ck_assert_int_eq(us_icmp6_parse(b, n, ps(&ll_router, &ll_host, n), &h), US_WIRE_OK);
	ck_assert_int_eq(us_ndp_redirect_parse(b, n, &rd), US_WIRE_OK);
	ck_assert_mem_eq(rd.target.b, ll_router3.b, 16);
	ck_assert_mem_eq(rd.dest.b, far_dest.b, 16);
	ck_assert_ptr_eq(rd.opts, b + 40);
	ck_assert_uint_eq(rd.opts_len, 8);
}
END_TEST

START_TEST(nd_messages_are_truncated_below_their_fixed_length)
{
	uint8_t b[128];
	struct us_ndp_rs rs;
	struct us_ndp_ra ra;
	struct us_ndp_ns ns;
	struct us_ndp_na na;
	struct us_ndp_redirect rd;

	us_test_hex(rs_msg, b, sizeof b);
	for (size_t len = 0; len < 8; len++)
		ck_assert_int_eq(us_ndp_rs_parse(b, len, &rs), US_WIRE_TRUNCATED);
	us_test_hex(ra_msg, b, sizeof b);
	for (size_t len = 0; len < 16; len++)
		ck_assert_int_eq(us_ndp_ra_parse(b, len, &ra), US_WIRE_TRUNCATED);
	ck_assert_int_eq(us_ndp_ra_parse(b, 16, &ra), US_WIRE_OK);
	us_test_hex(ns_msg, b, sizeof b);
	for (size_t len = 0; len < 24; len++)
		ck_assert_int_eq(us_ndp_ns_parse(b, len, &ns), US_WIRE_TRUNCATED);
	ck_assert_int_eq(us_ndp_ns_parse(b, 24, &ns), US_WIRE_OK);
	us_test_hex(na_msg, b, sizeof b);
	for (size_t len = 0; len < 24; len++)
		ck_assert_int_eq(us_ndp_na_parse(b, len, &na), US_WIRE_TRUNCATED);
	ck_assert_int_eq(us_ndp_na_parse(b, 24, &na), US_WIRE_OK);
	us_test_hex(redirect_msg, b, sizeof b);
	for (size_t len = 0; len < 40; len++)
		ck_assert_int_eq(us_ndp_redirect_parse(b, len, &rd), US_WIRE_TRUNCATED);
	ck_assert_int_eq(us_ndp_redirect_parse(b, 40, &rd), US_WIRE_OK);
}
END_TEST

START_TEST(nd_messages_with_a_nonzero_code_are_bad)
{
	/* RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1: "ICMP Code is 0." */
	uint8_t b[128];
	size_t n;
	struct us_ndp_rs rs;
	struct us_ndp_ra ra;
	struct us_ndp_ns ns;
	struct us_ndp_na na;
	struct us_ndp_redirect rd;

	n = us_test_hex(rs_msg, b, sizeof b);
	b[1] = 1;
	ck_assert_int_eq(us_ndp_rs_parse(b, n, &rs), US_WIRE_BAD_FIELD);
	n = us_test_hex(ra_msg, b, sizeof b);
	b[1] = 0x80;
	ck_assert_int_eq(us_ndp_ra_parse(b, n, &ra), US_WIRE_BAD_FIELD);
	n = us_test_hex(ns_msg, b, sizeof b);
	b[1] = 1;
	ck_assert_int_eq(us_ndp_ns_parse(b, n, &ns), US_WIRE_BAD_FIELD);
	n = us_test_hex(na_msg, b, sizeof b);
	b[1] = 0xff;
	ck_assert_int_eq(us_ndp_na_parse(b, n, &na), US_WIRE_BAD_FIELD);
	n = us_test_hex(redirect_msg, b, sizeof b);
	b[1] = 2;
	ck_assert_int_eq(us_ndp_redirect_parse(b, n, &rd), US_WIRE_BAD_FIELD);
}
END_TEST

START_TEST(nd_parsers_refuse_another_type)
{
	uint8_t b[128];
	size_t n = us_test_hex(ns_msg, b, sizeof b);
	struct us_ndp_na na;
	struct us_ndp_rs rs;
	struct us_ndp_ra ra;
	struct us_ndp_redirect rd;
	struct us_ndp_ns ns;

	ck_assert_int_eq(us_ndp_na_parse(b, n, &na), US_WIRE_BAD_FIELD);
	ck_assert_int_eq(us_ndp_rs_parse(b, n, &rs), US_WIRE_BAD_FIELD);
	ck_assert_int_eq(us_ndp_ra_parse(b, n, &ra), US_WIRE_BAD_FIELD);
	n = us_test_hex(redirect_msg, b, sizeof b);
	ck_assert_int_eq(us_ndp_ns_parse(b, n, &ns), US_WIRE_BAD_FIELD);
	n = us_test_hex(na_msg, b, sizeof b);
	ck_assert_int_eq(us_ndp_redirect_parse(b, 40, &rd), US_WIRE_BAD_FIELD);
}
END_TEST

START_TEST(a_multicast_target_is_bad_in_ns_and_na)
{
	uint8_t b[64];
	size_t n;
	struct us_ndp_ns ns;
	struct us_ndp_na na;

	/* RFC 4861 §7.1.1 / §7.1.2: "Target Address is not a multicast address." */
	n = us_test_hex(ns_msg, b, sizeof b);
	memcpy(b + 8, snm_peer.b, 16);
	ck_assert_int_eq(us_ndp_ns_parse(b, n, &ns), US_WIRE_BAD_FIELD);
	n = us_test_hex(na_msg, b, sizeof b);
	memcpy(b + 8, all_nodes.b, 16);
	ck_assert_int_eq(us_ndp_na_parse(b, n, &na), US_WIRE_BAD_FIELD);
}
END_TEST

START_TEST(redirect_target_and_destination_rules)
{
	uint8_t b[64];
	size_t n = us_test_hex(redirect_msg, b, sizeof b);
	struct us_ndp_redirect rd;

	/* RFC 4861 §8.1: the destination is not multicast */
	memcpy(b + 24, all_nodes.b, 16);
	ck_assert_int_eq(us_ndp_redirect_parse(b, n, &rd), US_WIRE_BAD_FIELD);
	/* a global target that is not the destination */
	memcpy(b + 8, doc2.b, 16);
	memcpy(b + 24, far_dest.b, 16);
	ck_assert_int_eq(us_ndp_redirect_parse(b, n, &rd), US_WIRE_BAD_FIELD);
	/* target == destination: the destination is on-link */
	memcpy(b + 8, far_dest.b, 16);
	ck_assert_int_eq(us_ndp_redirect_parse(b, n, &rd), US_WIRE_OK);
	ck_assert_mem_eq(rd.target.b, rd.dest.b, 16);
	/* fec0::/10 is not link-local: fe80::/10 is checked on 10 bits */
	b[8] = 0xfe;
	b[9] = 0xc0;
	ck_assert_int_eq(us_ndp_redirect_parse(b, n, &rd), US_WIRE_BAD_FIELD);
	b[9] = 0xbf; /* febf:: is inside fe80::/10 */
	ck_assert_int_eq(us_ndp_redirect_parse(b, n, &rd), US_WIRE_OK);
}
END_TEST

/* ---- ND options -------------------------------------------------------- */

START_TEST(option_walk_over_a_router_advertisement)
{
	uint8_t b[128];
	size_t n = us_test_hex(ra_msg, b, sizeof b);
	struct us_ndp_ra ra;
	struct us_ndp_opt_iter it;
	struct us_ndp_opt o;
	uint8_t mac[6];
	uint32_t mtu;
	struct us_ndp_prefix pfx;
	struct us_ndp_rdnss rdnss;
	struct us_ip6 a;
	static const uint8_t want_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	static const uint8_t want_prefix[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
	static const uint8_t want_dns[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x53};

	ck_assert_int_eq(us_ndp_ra_parse(b, n, &ra), US_WIRE_OK);
	us_ndp_opt_iter_init(&it, ra.opts, ra.opts_len);

	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_uint_eq(o.type, US_NDP_OPT_SLLA);
	ck_assert_uint_eq(o.len_units, 1);
	ck_assert_uint_eq(o.len, 8);
	ck_assert_ptr_eq(o.data, b + 16);
	ck_assert_int_eq(us_ndp_opt_lladdr(&o, mac), US_WIRE_OK);
	ck_assert_mem_eq(mac, want_mac, 6);

	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_uint_eq(o.type, US_NDP_OPT_MTU);
	ck_assert_int_eq(us_ndp_opt_mtu(&o, &mtu), US_WIRE_OK);
	ck_assert_uint_eq(mtu, 1500);

	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_uint_eq(o.type, US_NDP_OPT_PREFIX);
	ck_assert_uint_eq(o.len, 32);
	ck_assert_int_eq(us_ndp_opt_prefix(&o, &pfx), US_WIRE_OK);
	ck_assert_uint_eq(pfx.prefix_len, 64);
	ck_assert(pfx.onlink);
	ck_assert(pfx.autonomous);
	ck_assert_uint_eq(pfx.valid_lifetime_s, 86400);
	ck_assert_uint_eq(pfx.preferred_lifetime_s, 14400);
	ck_assert_mem_eq(pfx.prefix.b, want_prefix, 16);

	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_uint_eq(o.type, US_NDP_OPT_RDNSS);
	ck_assert_int_eq(us_ndp_opt_rdnss(&o, &rdnss), US_WIRE_OK);
	ck_assert_uint_eq(rdnss.lifetime_s, 600);
	ck_assert_uint_eq(rdnss.count, 1);
	us_ndp_rdnss_addr(&rdnss, 0, &a);
	ck_assert_mem_eq(a.b, want_dns, 16);

	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 0);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 0);
}
END_TEST

START_TEST(option_walk_of_nothing_ends_at_once)
{
	struct us_ndp_opt_iter it;
	struct us_ndp_opt o;

	us_ndp_opt_iter_init(&it, NULL, 0);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 0);
}
END_TEST

START_TEST(option_length_zero_is_bad_and_stays_bad)
{
	uint8_t b[24];
	size_t n = us_test_hex("01 01 00 11 22 33 44 55"  /* SLLA */
			       "05 00 00 00 00 00 05 dc", /* MTU with length 0 */
			       b, sizeof b);
	struct us_ndp_opt_iter it;
	struct us_ndp_opt o;

	us_ndp_opt_iter_init(&it, b, n);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	/* RFC 4861 §4.6: "Nodes MUST silently discard an ND packet that
	 * contains an option with length zero." */
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), US_WIRE_OPT_BAD_LEN);
}
END_TEST

START_TEST(option_running_past_the_end_is_bad)
{
	uint8_t b[24];
	size_t n = us_test_hex(
	    "03 04 40 c0 00 01 51 80 00 00 38 40 00 00 00 00", /* prefix: 16 of 32 bytes */
	    b, sizeof b);
	struct us_ndp_opt_iter it;
	struct us_ndp_opt o;

	us_ndp_opt_iter_init(&it, b, n);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), US_WIRE_OPT_PAST_END);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), US_WIRE_OPT_PAST_END);

	/* every cut of a valid 8-byte option but 0 and 8 is past the end;
	 * a cut of 1 leaves a type with no length byte */
	n = us_test_hex("01 01 00 11 22 33 44 55", b, sizeof b);
	for (size_t len = 1; len < 8; len++) {
		us_ndp_opt_iter_init(&it, b, len);
		ck_assert_int_eq(us_ndp_opt_next(&it, &o), US_WIRE_OPT_PAST_END);
	}
	us_ndp_opt_iter_init(&it, b, n);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 0);
}
END_TEST

START_TEST(unknown_options_are_walked_over)
{
	uint8_t b[32];
	size_t n =
	    us_test_hex("0e 01 01 02 03 04 05 06" /* nonce (RFC 3971), not parsed here */
			"fd 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00" /* type 253, 16 bytes */
			"02 01 02 00 00 00 00 02",			  /* TLLA */
			b, sizeof b);
	struct us_ndp_opt_iter it;
	struct us_ndp_opt o;
	uint8_t mac[6];

	us_ndp_opt_iter_init(&it, b, n);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_uint_eq(o.type, US_NDP_OPT_NONCE);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_uint_eq(o.type, 253);
	ck_assert_uint_eq(o.len, 16);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_uint_eq(o.type, US_NDP_OPT_TLLA);
	ck_assert_int_eq(us_ndp_opt_lladdr(&o, mac), US_WIRE_OK);
	ck_assert_uint_eq(mac[5], 0x02);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 0);
}
END_TEST

START_TEST(typed_option_parsers_check_type_and_length)
{
	uint8_t b[64];
	struct us_ndp_opt o;
	uint8_t mac[6];
	uint32_t mtu;
	struct us_ndp_prefix pfx;
	struct us_ndp_rdnss r;

	/* an SLLA of length 2 (16 bytes): not Ethernet's */
	us_test_hex("01 02 00 11 22 33 44 55 00 00 00 00 00 00 00 00", b, sizeof b);
	o = (struct us_ndp_opt){.type = 1, .len_units = 2, .data = b, .len = 16};
	ck_assert_int_eq(us_ndp_opt_lladdr(&o, mac), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(us_ndp_opt_mtu(&o, &mtu), US_WIRE_BAD_FIELD);
	ck_assert_int_eq(us_ndp_opt_prefix(&o, &pfx), US_WIRE_BAD_FIELD);
	ck_assert_int_eq(us_ndp_opt_rdnss(&o, &r), US_WIRE_BAD_FIELD);

	/* an MTU of length 2 */
	us_test_hex("05 02 00 00 00 00 05 dc 00 00 00 00 00 00 00 00", b, sizeof b);
	o = (struct us_ndp_opt){.type = 5, .len_units = 2, .data = b, .len = 16};
	ck_assert_int_eq(us_ndp_opt_mtu(&o, &mtu), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(us_ndp_opt_lladdr(&o, mac), US_WIRE_BAD_FIELD);

	/* a prefix option of length 3 */
	us_test_hex("03 03 40 c0 00 01 51 80 00 00 38 40 00 00 00 00"
		    "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 00",
		    b, sizeof b);
	o = (struct us_ndp_opt){.type = 3, .len_units = 3, .data = b, .len = 24};
	ck_assert_int_eq(us_ndp_opt_prefix(&o, &pfx), US_WIRE_OPT_BAD_LEN);
}
END_TEST

START_TEST(prefix_length_above_128_is_bad)
{
	uint8_t b[32];
	struct us_ndp_opt o = {.type = 3, .len_units = 4, .data = b, .len = 32};
	struct us_ndp_prefix pfx;

	us_test_hex("03 04 81 c0 00 01 51 80 00 00 38 40 00 00 00 00" /* prefix length 129 */
		    "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 00",
		    b, sizeof b);
	ck_assert_int_eq(us_ndp_opt_prefix(&o, &pfx), US_WIRE_BAD_FIELD);
	b[2] = 0xff;
	ck_assert_int_eq(us_ndp_opt_prefix(&o, &pfx), US_WIRE_BAD_FIELD);
	b[2] = 128;
	ck_assert_int_eq(us_ndp_opt_prefix(&o, &pfx), US_WIRE_OK);
	ck_assert_uint_eq(pfx.prefix_len, 128);
	ck_assert_uint_eq(pfx.prefix.b[5], 0x01);
}
END_TEST

START_TEST(prefix_bits_past_the_length_are_ignored)
{
	uint8_t b[32];
	struct us_ndp_opt o = {.type = 3, .len_units = 4, .data = b, .len = 32};
	struct us_ndp_prefix pfx;
	static const uint8_t want60[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0xff, 0xf0};

	us_test_hex("03 04 3c 00 ff ff ff ff 00 00 00 00 00 00 00 00" /* /60, L=0 A=0 */
		    "20 01 0d b8 ff ff ff ff ff ff ff ff ff ff ff ff",
		    b, sizeof b);
	ck_assert_int_eq(us_ndp_opt_prefix(&o, &pfx), US_WIRE_OK);
	ck_assert_uint_eq(pfx.prefix_len, 60);
	ck_assert(!pfx.onlink);
	ck_assert(!pfx.autonomous);
	ck_assert_uint_eq(pfx.valid_lifetime_s, 0xffffffffu);
	ck_assert_uint_eq(pfx.preferred_lifetime_s, 0);
	ck_assert_mem_eq(pfx.prefix.b, want60, 16);

	b[2] = 0; /* ::/0 */
	ck_assert_int_eq(us_ndp_opt_prefix(&o, &pfx), US_WIRE_OK);
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(pfx.prefix.b[i], 0);
}
END_TEST

START_TEST(rdnss_lengths_must_be_odd_and_at_least_3)
{
	uint8_t b[48] = {0};
	struct us_ndp_opt o = {.type = US_NDP_OPT_RDNSS, .data = b};
	struct us_ndp_rdnss r;
	struct us_ip6 a;

	us_test_hex("19 05 00 00 ff ff ff ff" /* RDNSS, length 5, lifetime infinity */
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 53"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 35",
		    b, sizeof b);
	for (unsigned units = 1; units <= 4; units++) {
		o.len_units = (uint8_t)units;
		o.len = units * 8;
		if (units == 3) {
			/* one address: valid */
			ck_assert_int_eq(us_ndp_opt_rdnss(&o, &r), US_WIRE_OK);
			ck_assert_uint_eq(r.count, 1);
			continue;
		}
		ck_assert_int_eq(us_ndp_opt_rdnss(&o, &r), US_WIRE_OPT_BAD_LEN);
	}
	o.len_units = 5;
	o.len = 40;
	ck_assert_int_eq(us_ndp_opt_rdnss(&o, &r), US_WIRE_OK);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_uint_eq(r.lifetime_s, 0xffffffffu);
	us_ndp_rdnss_addr(&r, 1, &a);
	ck_assert_uint_eq(a.b[15], 0x35);
	ck_assert_uint_eq(a.b[0], 0x20);
}
END_TEST

/* ---- ND emission ------------------------------------------------------- */

START_TEST(emit_neighbor_solicitation_matches_the_literal)
{
	uint8_t want[64], b[64];
	size_t n = us_test_hex(ns_msg, want, sizeof want), len;
	struct us_ndp_ns ns = {.target = ll_peer};
	static const uint8_t mac[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};

	memset(b, 0xee, sizeof b);
	len = us_ndp_ns_emit(&ns, b, sizeof b);
	ck_assert_uint_eq(len, 24);
	len += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, mac, b + len, sizeof b - len);
	ck_assert_uint_eq(len, n);
	us_icmp6_csum_fill(b, len, ps(&ll_host, &snm_peer, len));
	ck_assert_mem_eq(b, want, n);
	ck_assert_uint_eq(b[n], 0xee);
}
END_TEST

START_TEST(emit_neighbor_advertisement_matches_the_literal)
{
	uint8_t want[64], b[64];
	size_t n = us_test_hex(na_msg, want, sizeof want), len;
	struct us_ndp_na na = {.solicited = true, .override = true, .target = ll_peer};
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x02};

	memset(b, 0xee, sizeof b);
	len = us_ndp_na_emit(&na, b, sizeof b);
	ck_assert_uint_eq(len, 24);
	len += us_ndp_opt_lladdr_emit(US_NDP_OPT_TLLA, mac, b + len, sizeof b - len);
	us_icmp6_csum_fill(b, len, ps(&ll_peer, &ll_host, len));
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(b, want, n);

	na = (struct us_ndp_na){.router = true, .target = ll_peer};
	ck_assert_uint_eq(us_ndp_na_emit(&na, b, sizeof b), 24);
	ck_assert_uint_eq(b[4], 0x80);
}
END_TEST

START_TEST(emit_router_solicitation_matches_the_literal)
{
	uint8_t want[32], b[32];
	size_t n = us_test_hex(rs_msg, want, sizeof want), len;
	static const uint8_t mac[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};

	memset(b, 0xee, sizeof b);
	len = us_ndp_rs_emit(NULL, b, sizeof b);
	ck_assert_uint_eq(len, 8);
	len += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, mac, b + len, sizeof b - len);
	us_icmp6_csum_fill(b, len, ps(&ll_host, &all_routers, len));
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(b, want, n);
}
END_TEST

START_TEST(emit_router_advertisement_matches_the_literal)
{
	uint8_t want[128], b[128];
	size_t n = us_test_hex(ra_msg, want, sizeof want), len;
	struct us_ndp_ra ra = {
	    .cur_hop_limit = 64,
	    .other = true,
	    .flags = 0xc0, /* M and O come from the bools, not from here */
	    .router_lifetime_s = 1800,
	};
	struct us_ndp_prefix pfx = {
	    .prefix_len = 64,
	    .onlink = true,
	    .autonomous = true,
	    .valid_lifetime_s = 86400,
	    .preferred_lifetime_s = 14400,
	    /* 2001:db8:1::, with junk past /64 that must not be sent */
	    .prefix = {{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0xde, 0xad, [15] = 1}},
	};
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	struct us_ip6 dns = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x53}};

	memset(b, 0xee, sizeof b);
	len = us_ndp_ra_emit(&ra, b, sizeof b);
	ck_assert_uint_eq(len, 16);
	len += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, mac, b + len, sizeof b - len);
	len += us_ndp_opt_mtu_emit(1500, b + len, sizeof b - len);
	len += us_ndp_opt_prefix_emit(&pfx, b + len, sizeof b - len);
	len += us_ndp_opt_rdnss_emit(600, &dns, 1, b + len, sizeof b - len);
	ck_assert_uint_eq(len, n);
	us_icmp6_csum_fill(b, len, ps(&ll_router, &all_nodes, len));
	ck_assert_mem_eq(b, want, n);
	ck_assert_uint_eq(b[n], 0xee);
}
END_TEST

START_TEST(emit_redirect_matches_the_literal)
{
	uint8_t want[64], b[64];
	size_t n = us_test_hex(redirect_msg, want, sizeof want), len;
	struct us_ndp_redirect rd = {.target = ll_router3, .dest = far_dest};
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};

	len = us_ndp_redirect_emit(&rd, b, sizeof b);
	ck_assert_uint_eq(len, 40);
	len += us_ndp_opt_lladdr_emit(US_NDP_OPT_TLLA, mac, b + len, sizeof b - len);
	us_icmp6_csum_fill(b, len, ps(&ll_router, &ll_host, len));
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(b, want, n);
}
END_TEST

START_TEST(emit_then_parse_every_nd_message)
{
	uint8_t b[128];
	struct us_ndp_ra ra = {
	    .cur_hop_limit = 255,
	    .managed = true,
	    .flags = 0x18,
	    .router_lifetime_s = 65535,
	    .reachable_time_ms = 0xffffffffu,
	    .retrans_timer_ms = 1,
	};
	struct us_ndp_ra ra2;
	struct us_ndp_ns ns = {.target = doc1}, ns2;
	struct us_ndp_na na = {.router = true, .override = true, .target = doc2}, na2;
	struct us_ndp_redirect rd = {.target = ll_peer, .dest = doc2}, rd2;
	struct us_ndp_rs rs2;
	size_t len;

	len = us_ndp_ra_emit(&ra, b, sizeof b);
	ck_assert_int_eq(us_ndp_ra_parse(b, len, &ra2), US_WIRE_OK);
	ck_assert_uint_eq(ra2.cur_hop_limit, 255);
	ck_assert(ra2.managed);
	ck_assert(!ra2.other);
	ck_assert_uint_eq(ra2.flags, 0x98);
	ck_assert_uint_eq(ra2.router_lifetime_s, 65535);
	ck_assert_uint_eq(ra2.reachable_time_ms, 0xffffffffu);
	ck_assert_uint_eq(ra2.retrans_timer_ms, 1);
	ck_assert_uint_eq(ra2.opts_len, 0);

	len = us_ndp_ns_emit(&ns, b, sizeof b);
	ck_assert_int_eq(us_ndp_ns_parse(b, len, &ns2), US_WIRE_OK);
	ck_assert_mem_eq(ns2.target.b, doc1.b, 16);

	len = us_ndp_na_emit(&na, b, sizeof b);
	ck_assert_int_eq(us_ndp_na_parse(b, len, &na2), US_WIRE_OK);
	ck_assert(na2.router && !na2.solicited && na2.override);
	ck_assert_mem_eq(na2.target.b, doc2.b, 16);

	len = us_ndp_redirect_emit(&rd, b, sizeof b);
	ck_assert_int_eq(us_ndp_redirect_parse(b, len, &rd2), US_WIRE_OK);
	ck_assert_mem_eq(rd2.target.b, ll_peer.b, 16);
	ck_assert_mem_eq(rd2.dest.b, doc2.b, 16);

	len = us_ndp_rs_emit(NULL, b, sizeof b);
	ck_assert_int_eq(us_ndp_rs_parse(b, len, &rs2), US_WIRE_OK);

	/* and a checksum over a message built in place verifies */
	us_icmp6_csum_fill(b, len, ps(&ll_host, &all_routers, len));
	{
		struct us_icmp6_hdr h;

		ck_assert_int_eq(us_icmp6_parse(b, len, ps(&ll_host, &all_routers, len), &h),
				 US_WIRE_OK);
	}
}
END_TEST

START_TEST(nd_emitters_refuse_a_small_buffer)
{
	uint8_t b[64];
	struct us_ndp_ra ra = {0};
	struct us_ndp_ns ns = {.target = doc1};
	struct us_ndp_na na = {.target = doc1};
	struct us_ndp_redirect rd = {.target = ll_peer, .dest = doc1};
	struct us_ndp_prefix pfx = {.prefix_len = 64};
	static const uint8_t mac[6] = {1, 2, 3, 4, 5, 6};

	ck_assert_uint_eq(us_ndp_rs_emit(NULL, b, 7), 0);
	ck_assert_uint_eq(us_ndp_ra_emit(&ra, b, 15), 0);
	ck_assert_uint_eq(us_ndp_ns_emit(&ns, b, 23), 0);
	ck_assert_uint_eq(us_ndp_na_emit(&na, b, 23), 0);
	ck_assert_uint_eq(us_ndp_redirect_emit(&rd, b, 39), 0);
	ck_assert_uint_eq(us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, mac, b, 7), 0);
	ck_assert_uint_eq(us_ndp_opt_mtu_emit(1500, b, 7), 0);
	ck_assert_uint_eq(us_ndp_opt_prefix_emit(&pfx, b, 31), 0);
	ck_assert_uint_eq(us_ndp_opt_prefix_emit(&pfx, b, 32), 32);
	pfx.prefix_len = 129;
	ck_assert_uint_eq(us_ndp_opt_prefix_emit(&pfx, b, 32), 0);
	ck_assert_uint_eq(us_ndp_opt_rdnss_emit(1, &doc1, 1, b, 23), 0);
	ck_assert_uint_eq(us_ndp_opt_rdnss_emit(1, &doc1, 0, b, 64), 0);
	ck_assert_uint_eq(us_ndp_opt_rdnss_emit(1, &doc1, 128, b, 64), 0);
}
END_TEST

START_TEST(emitted_options_walk_back)
{
	uint8_t b[128];
	size_t len = 0;
	struct us_ip6 dns[3] = {doc1, doc2, docfe};
	struct us_ndp_opt_iter it;
	struct us_ndp_opt o;
	struct us_ndp_rdnss r;
	struct us_ip6 a;
	uint32_t mtu;

	len += us_ndp_opt_mtu_emit(9000, b + len, sizeof b - len);
	len += us_ndp_opt_rdnss_emit(3600, dns, 3, b + len, sizeof b - len);
	ck_assert_uint_eq(len, 8 + 56);
	us_ndp_opt_iter_init(&it, b, len);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_int_eq(us_ndp_opt_mtu(&o, &mtu), US_WIRE_OK);
	ck_assert_uint_eq(mtu, 9000);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 1);
	ck_assert_uint_eq(o.len_units, 7);
	ck_assert_int_eq(us_ndp_opt_rdnss(&o, &r), US_WIRE_OK);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_uint_eq(r.lifetime_s, 3600);
	us_ndp_rdnss_addr(&r, 2, &a);
	ck_assert_mem_eq(a.b, docfe.b, 16);
	ck_assert_int_eq(us_ndp_opt_next(&it, &o), 0);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("wire_icmp6");
	TCase *tc = tcase_create("icmp6");
	TCase *nd = tcase_create("ndp");

	tcase_add_test(tc, linux_echo_request_parses_with_its_pseudo_header);
	tcase_add_test(tc, another_pseudo_header_is_a_bad_checksum);
	tcase_add_test(tc, a_zero_checksum_is_not_special);
	tcase_add_test(tc, truncated_at_every_length_below_8);
	tcase_add_test(tc, every_single_bit_flip_is_a_bad_checksum);
	tcase_add_test(tc, packet_too_big_gives_the_mtu);
	tcase_add_test(tc, param_problem_pointer_is_32_bits);
	tcase_add_test(tc, is_error_is_true_below_128);
	tcase_add_test(tc, emit_echo_reply_matches_the_literal);
	tcase_add_test(tc, emit_refuses_a_small_buffer);
	suite_add_tcase(s, tc);

	tcase_add_test(nd, neighbor_solicitation_parses);
	tcase_add_test(nd, neighbor_advertisement_parses_its_flags);
	tcase_add_test(nd, router_solicitation_parses);
	tcase_add_test(nd, router_advertisement_parses);
	tcase_add_test(nd, redirect_parses);
	tcase_add_test(nd, nd_messages_are_truncated_below_their_fixed_length);
	tcase_add_test(nd, nd_messages_with_a_nonzero_code_are_bad);
	tcase_add_test(nd, nd_parsers_refuse_another_type);
	tcase_add_test(nd, a_multicast_target_is_bad_in_ns_and_na);
	tcase_add_test(nd, redirect_target_and_destination_rules);
	tcase_add_test(nd, option_walk_over_a_router_advertisement);
	tcase_add_test(nd, option_walk_of_nothing_ends_at_once);
	tcase_add_test(nd, option_length_zero_is_bad_and_stays_bad);
	tcase_add_test(nd, option_running_past_the_end_is_bad);
	tcase_add_test(nd, unknown_options_are_walked_over);
	tcase_add_test(nd, typed_option_parsers_check_type_and_length);
	tcase_add_test(nd, prefix_length_above_128_is_bad);
	tcase_add_test(nd, prefix_bits_past_the_length_are_ignored);
	tcase_add_test(nd, rdnss_lengths_must_be_odd_and_at_least_3);
	tcase_add_test(nd, emit_neighbor_solicitation_matches_the_literal);
	tcase_add_test(nd, emit_neighbor_advertisement_matches_the_literal);
	tcase_add_test(nd, emit_router_solicitation_matches_the_literal);
	tcase_add_test(nd, emit_router_advertisement_matches_the_literal);
	tcase_add_test(nd, emit_redirect_matches_the_literal);
	tcase_add_test(nd, emit_then_parse_every_nd_message);
	tcase_add_test(nd, nd_emitters_refuse_a_small_buffer);
	tcase_add_test(nd, emitted_options_walk_back);
	suite_add_tcase(s, nd);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_wire_ipv4.c - IPv4 header parsing and building (RFC 791
 * §3.1, RFC 1122 §3.2.1), address classes and dotted-quad text.
 *
 * Read first: src/stack/wire/ipv4.h (the order of the checks). Every literal
 * header below carries a correct checksum unless the test says otherwise.
 */
#include "harness.h"

#include <string.h>

#include "wire/ipv4.h"

/* Literal frames are annotated field by field throughout, aligned by hand:
 * clang-format would fold them. It formats only us_test_suite() below. */
/* clang-format off */
/* A UDP datagram 192.0.2.1 -> 192.0.2.2 with 16 bytes of payload. */
#define UDP_DGRAM_HEX                                                        \
	"45"          /* version 4, IHL 5 */                                 \
	"00"          /* TOS */                                              \
	"00 24"       /* total length 36 */                                  \
	"1c 46"       /* identification */                                   \
	"40 00"       /* flags DF, fragment offset 0 */                      \
	"40"          /* TTL 64 */                                           \
	"11"          /* protocol UDP */                                     \
	"9a 7f"       /* header checksum */                                  \
	"c0 00 02 01" /* source 192.0.2.1 */                                 \
	"c0 00 02 02" /* destination 192.0.2.2 */                            \
	"04 00 00 35 00 10 00 00"   /* UDP header (payload to IP) */         \
	"de ad be ef 01 02 03 04"   /* UDP data */

/* A bare 20-byte header, total length 20, TCP 10.0.0.1 -> 10.0.0.2. */
#define BARE_HDR_HEX                                                         \
	"45 00 00 14" /* v4 IHL 5, TOS 0, total length 20 */                 \
	"00 01 00 00" /* id 1, no flags, offset 0 */                         \
	"40 06 66 e1" /* TTL 64, TCP, checksum */                            \
	"0a 00 00 01" /* source 10.0.0.1 */                                  \
	"0a 00 00 02" /* destination 10.0.0.2 */

/* IHL 6 headers that differ only in their 4 option bytes (and checksum). */
#define OPT_HDR_HEX(csum, opts)                                              \
	"46 00 00 18" /* v4 IHL 6, total length 24 */                        \
	"00 01 00 00" /* id 1 */                                             \
	"40 06 " csum /* TTL 64, TCP, checksum */                            \
	"0a 00 00 01 0a 00 00 02" opts

static int parse_hex(const char *hex, struct us_ipv4_hdr *h, uint8_t *buf, size_t cap)
{
	size_t n = us_test_hex(hex, buf, cap);
	return us_ipv4_parse(buf, n, h);
}

START_TEST(udp_datagram_yields_every_field)
{
	uint8_t b[64];
	size_t n = us_test_hex(UDP_DGRAM_HEX, b, sizeof b);
	ck_assert_uint_eq(n, 36);
	struct us_ipv4_hdr h;
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 20);
	ck_assert_uint_eq(h.tos, 0);
	ck_assert_uint_eq(h.total_len, 36);
	ck_assert_uint_eq(h.id, 0x1c46);
	ck_assert(h.df);
	ck_assert(!h.mf);
	ck_assert_uint_eq(h.frag_offset, 0);
	ck_assert_uint_eq(h.ttl, 64);
	ck_assert_uint_eq(h.proto, US_IPPROTO_UDP);
	ck_assert_uint_eq(h.checksum, 0x9a7f);
	ck_assert_uint_eq(h.src, 0xc0000201u);
	ck_assert_uint_eq(h.dst, 0xc0000202u);
	ck_assert_ptr_null(h.options);
	ck_assert_uint_eq(h.options_len, 0);
	ck_assert_ptr_eq(h.payload, b + 20);
	ck_assert_uint_eq(h.payload_len, 16);
}
END_TEST

START_TEST(every_length_below_20_is_truncated)
{
	uint8_t b[20];
	size_t n = us_test_hex(BARE_HDR_HEX, b, sizeof b);
	struct us_ipv4_hdr h;
	for (size_t len = 0; len < 20; len++)
		ck_assert_int_eq(us_ipv4_parse(b, len, &h), US_WIRE_TRUNCATED);
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 0);
}
END_TEST

START_TEST(version_other_than_4_is_bad_version)
{
	uint8_t b[20];
	size_t n = us_test_hex(BARE_HDR_HEX, b, sizeof b);
	struct us_ipv4_hdr h;
	const uint8_t versions[] = { 0, 1, 5, 6, 15 };
	for (size_t i = 0; i < sizeof versions; i++) {
		b[0] = (uint8_t)(versions[i] << 4 | 5);
		ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_VERSION);
	}
}
END_TEST

START_TEST(ihl_below_5_is_bad_hdr_len)
{
	uint8_t b[20];
	size_t n = us_test_hex(BARE_HDR_HEX, b, sizeof b);
	struct us_ipv4_hdr h;
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_HDR_LEN);
	}
}
END_TEST

START_TEST(ihl_past_the_buffer_is_hdr_past_end)
{
	/* IHL 6 needs 24 bytes: 20..23 of them are not enough. */
	uint8_t b[24];
	size_t n = us_test_hex(OPT_HDR_HEX("63 dc", "01 01 01 00"), b, sizeof b);
	struct us_ipv4_hdr h;
	for (size_t len = 20; len < n; len++)
		ck_assert_int_eq(us_ipv4_parse(b, len, &h), US_WIRE_HDR_PAST_END);
	/* IHL 15 (60 bytes) in a 20-byte buffer. */
	uint8_t c[20];
	us_test_hex(BARE_HDR_HEX, c, sizeof c);
	c[0] = 0x4f;
	ck_assert_int_eq(us_ipv4_parse(c, sizeof c, &h), US_WIRE_HDR_PAST_END);
}
END_TEST

START_TEST(total_length_below_header_length_is_bad_total_len)
{
	uint8_t b[20];
	size_t n = us_test_hex("45 00"
			       "00 13"  /* total length 19 < 20 */
			       "00 01 00 00 40 06"
			       "66 e2"  /* checksum (correct for these bytes) */
			       "0a 00 00 01 0a 00 00 02",
			       b, sizeof b);
	struct us_ipv4_hdr h;
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
	b[2] = 0;
	b[3] = 0; /* total length 0 */
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
}
END_TEST

START_TEST(datagram_cut_before_its_total_length_is_bad_total_len)
{
	uint8_t b[64];
	size_t n = us_test_hex(UDP_DGRAM_HEX, b, sizeof b);
	struct us_ipv4_hdr h;
	for (size_t len = 20; len < n; len++)
		ck_assert_int_eq(us_ipv4_parse(b, len, &h), US_WIRE_BAD_TOTAL_LEN);
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_OK);
}
END_TEST

START_TEST(ethernet_padding_after_total_length_is_trimmed)
{
	uint8_t b[46];
	memset(b, 0, sizeof b);
	us_test_hex(UDP_DGRAM_HEX, b, sizeof b);
	struct us_ipv4_hdr h;
	ck_assert_int_eq(us_ipv4_parse(b, sizeof b, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.total_len, 36);
	ck_assert_uint_eq(h.payload_len, 16);
}
END_TEST

START_TEST(wrong_header_checksum_is_bad_checksum)
{
	uint8_t b[64];
	size_t n = us_test_hex(UDP_DGRAM_HEX, b, sizeof b);
	struct us_ipv4_hdr h;
	b[11] ^= 0x01; /* checksum 9a7e */
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_CHECKSUM);
	b[11] ^= 0x01;
	b[8] = 0x3f; /* TTL changed without updating the checksum */
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_CHECKSUM);
	/* A zero checksum is not "no checksum" in IPv4. */
	b[8] = 0x40;
	b[10] = 0;
	b[11] = 0;
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_CHECKSUM);
}
END_TEST

START_TEST(checksum_covers_the_options)
{
	uint8_t b[24];
	size_t n = us_test_hex(OPT_HDR_HEX("63 dc", "01 01 01 00"), b, sizeof b);
	struct us_ipv4_hdr h;
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_OK);
	b[22] = 0x00; /* an option byte changed */
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_CHECKSUM);
}
END_TEST

START_TEST(nop_and_eol_options_are_walked)
{
	uint8_t b[24];
	struct us_ipv4_hdr h;
	ck_assert_int_eq(parse_hex(OPT_HDR_HEX("63 dc", "01 01 01 00" /* NOP NOP NOP EOL */), &h,
				   b, sizeof b),
			 US_WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 24);
	ck_assert_uint_eq(h.options_len, 4);
	ck_assert_ptr_eq(h.options, b + 20);
	ck_assert_uint_eq(h.payload_len, 0);
}
END_TEST

START_TEST(bytes_after_end_of_option_list_are_not_examined)
{
	/* EOL, then bytes that would be a bad option if read as one. */
	uint8_t b[24];
	struct us_ipv4_hdr h;
	ck_assert_int_eq(parse_hex(OPT_HDR_HEX("63 9a", "00 44 01 ff"), &h, b, sizeof b),
			 US_WIRE_OK);
	ck_assert_uint_eq(h.options_len, 4);
}
END_TEST

START_TEST(record_route_option_is_walked)
{
	uint8_t b[28];
	struct us_ipv4_hdr h;
	ck_assert_int_eq(parse_hex("47 00 00 1c"  /* IHL 7, total length 28 */
				   "00 01 00 00 40 06"
				   "59 d2"        /* checksum */
				   "0a 00 00 01 0a 00 00 02"
				   "07 07 04"     /* Record Route, length 7, pointer 4 */
				   "00 00 00 00"  /* one empty slot */
				   "00",          /* EOL padding */
				   &h, b, sizeof b),
			 US_WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 28);
	ck_assert_uint_eq(h.options_len, 8);
	ck_assert_uint_eq(h.options[0], 7);
}
END_TEST

START_TEST(option_length_below_2_is_opt_bad_len)
{
	uint8_t b[24];
	struct us_ipv4_hdr h;
	/* NOP, then Record Route with length 1. */
	ck_assert_int_eq(parse_hex(OPT_HDR_HEX("63 d6", "01 07 01 00"), &h, b, sizeof b),
			 US_WIRE_OPT_BAD_LEN);
	/* NOP NOP, then Record Route with length 0 (would loop forever). */
	ck_assert_int_eq(parse_hex(OPT_HDR_HEX("5d dc", "01 01 07 00"), &h, b, sizeof b),
			 US_WIRE_OPT_BAD_LEN);
}
END_TEST

START_TEST(option_running_past_the_header_is_opt_past_end)
{
	uint8_t b[24];
	struct us_ipv4_hdr h;
	/* NOP NOP NOP, then a type byte with no room for its length. */
	ck_assert_int_eq(parse_hex(OPT_HDR_HEX("63 d5", "01 01 01 07"), &h, b, sizeof b),
			 US_WIRE_OPT_PAST_END);
	/* NOP NOP, then length 3 with 2 bytes left. */
	ck_assert_int_eq(parse_hex(OPT_HDR_HEX("5d d9", "01 01 07 03"), &h, b, sizeof b),
			 US_WIRE_OPT_PAST_END);
}
END_TEST

START_TEST(flags_and_fragment_offset_in_bytes)
{
	uint8_t b[28];
	struct us_ipv4_hdr h;
	ck_assert_int_eq(parse_hex("45 00 00 1c"  /* total length 28 */
				   "ab cd"        /* id */
				   "a0 b9"        /* reserved 1, DF 0, MF 1, offset 185 */
				   "01 01 e9 56"  /* TTL 1, ICMP, checksum */
				   "c0 00 02 01 c0 00 02 02"
				   "08 00 00 00 00 00 00 00",
				   &h, b, sizeof b),
			 US_WIRE_OK);
	ck_assert_uint_eq(h.id, 0xabcd);
	ck_assert(!h.df);
	ck_assert(h.mf);
	ck_assert_uint_eq(h.frag_offset, 1480); /* the reserved bit was ignored */
	ck_assert_uint_eq(h.ttl, 1);
	ck_assert_uint_eq(h.proto, US_IPPROTO_ICMP);
}
END_TEST

START_TEST(fragment_ending_past_65535_is_bad_field)
{
	uint8_t b[28];
	struct us_ipv4_hdr h;
	/* Offset 8191 * 8 = 65528, 8 data bytes: ends at 65536. */
	ck_assert_int_eq(parse_hex("45 00 00 1c ab cd"
				   "3f ff"        /* MF, offset 8191 */
				   "01 01 4a 11"
				   "c0 00 02 01 c0 00 02 02"
				   "00 00 00 00 00 00 00 00",
				   &h, b, sizeof b),
			 US_WIRE_BAD_FIELD);
	/* Seven data bytes end at 65535: still possible. */
	ck_assert_int_eq(parse_hex("45 00 00 1b ab cd 3f ff"
				   "01 01 4a 12"
				   "c0 00 02 01 c0 00 02 02"
				   "00 00 00 00 00 00 00",
				   &h, b, sizeof b),
			 US_WIRE_OK);
	ck_assert_uint_eq(h.frag_offset, 65528);
	ck_assert(h.mf);
}
END_TEST

START_TEST(quoted_header_may_be_cut_short_and_skips_the_checksum)
{
	/* What an ICMP error carries: the header and the first 8 data bytes
	 * of a 1500-byte datagram. */
	uint8_t b[28];
	size_t n = us_test_hex("45 00 05 dc"  /* total length 1500 */
			       "1c 46 40 00 40 06"
			       "00 00"        /* checksum: not verified */
			       "c0 00 02 02 c0 00 02 01"
			       "c3 50 00 50 00 00 00 01", /* TCP ports and sequence */
			       b, sizeof b);
	struct us_ipv4_hdr h;
	ck_assert_int_eq(us_ipv4_parse(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
	ck_assert_int_eq(us_ipv4_parse_quoted(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.total_len, 1500);
	ck_assert_uint_eq(h.payload_len, 8);
	ck_assert_ptr_eq(h.payload, b + 20);
	ck_assert_uint_eq(h.proto, US_IPPROTO_TCP);
	ck_assert_uint_eq(h.src, 0xc0000202u);
	ck_assert_uint_eq(h.dst, 0xc0000201u);
}
END_TEST

START_TEST(quoted_header_keeps_the_structural_checks)
{
	uint8_t b[28];
	size_t n = us_test_hex("45 00 05 dc 1c 46 40 00 40 06 00 00"
			       "c0 00 02 02 c0 00 02 01 c3 50 00 50 00 00 00 01",
			       b, sizeof b);
	struct us_ipv4_hdr h;
	for (size_t len = 0; len < 20; len++)
		ck_assert_int_eq(us_ipv4_parse_quoted(b, len, &h), US_WIRE_TRUNCATED);
	b[0] = 0x65;
	ck_assert_int_eq(us_ipv4_parse_quoted(b, n, &h), US_WIRE_BAD_VERSION);
	b[0] = 0x44;
	ck_assert_int_eq(us_ipv4_parse_quoted(b, n, &h), US_WIRE_BAD_HDR_LEN);
	b[0] = 0x48; /* IHL 8: 32 bytes */
	ck_assert_int_eq(us_ipv4_parse_quoted(b, n, &h), US_WIRE_HDR_PAST_END);
	b[0] = 0x45;
	b[2] = 0;
	b[3] = 19;
	ck_assert_int_eq(us_ipv4_parse_quoted(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
	b[3] = 24; /* shorter than what is present: trimmed as usual */
	ck_assert_int_eq(us_ipv4_parse_quoted(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 4);
	b[0] = 0x46;
	b[3] = 28;
	b[20] = 0x07; /* an option: Record Route of length 0 */
	b[21] = 0x00;
	ck_assert_int_eq(us_ipv4_parse_quoted(b, n, &h), US_WIRE_OPT_BAD_LEN);
}
END_TEST

START_TEST(emit_writes_the_exact_header_and_checksum)
{
	struct us_ipv4_hdr h = {
		.id = 0x1c46,
		.df = true,
		.ttl = 64,
		.proto = US_IPPROTO_UDP,
		.src = 0xc0000201u,
		.dst = 0xc0000202u,
		.payload_len = 16,
		.total_len = 999,   /* ignored */
		.checksum = 0xbeef, /* ignored */
	};
	uint8_t want[36], buf[24];
	us_test_hex(UDP_DGRAM_HEX, want, sizeof want);
	memset(buf, 0xee, sizeof buf);
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 20);
	ck_assert_mem_eq(buf, want, 20);
	ck_assert_uint_eq(buf[20], 0xee);
}
END_TEST

START_TEST(emit_writes_mf_tos_and_offset)
{
	struct us_ipv4_hdr h = {
		.tos = 0xb8,
		.id = 0x1234,
		.mf = true,
		.frag_offset = 1480,
		.ttl = 63,
		.proto = US_IPPROTO_TCP,
		.src = 0x0a000001u,
		.dst = 0x0a000002u,
		.payload_len = 20,
	};
	uint8_t want[20], buf[20];
	us_test_hex("45 b8 00 28"  /* TOS EF, total length 40 */
		    "12 34 20 b9"  /* id, MF, offset 185 */
		    "3f 06 34 29"  /* TTL 63, TCP, checksum */
		    "0a 00 00 01 0a 00 00 02",
		    want, sizeof want);
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 20);
	ck_assert_mem_eq(buf, want, 20);
}
END_TEST

START_TEST(emit_pads_options_to_four_bytes)
{
	static const uint8_t opts[3] = { 0x01, 0x01, 0x01 };
	struct us_ipv4_hdr h = {
		.ttl = 1,
		.id = 7,
		.proto = 2,
		.src = 0xc0000201u,
		.dst = 0xe0000016u,
		.options = opts,
		.options_len = 3,
		.payload_len = 4,
	};
	uint8_t want[24], buf[24];
	us_test_hex("46 00 00 1c"  /* IHL 6, total length 28 */
		    "00 07 00 00"
		    "01 02 14 c1"  /* TTL 1, IGMP, checksum */
		    "c0 00 02 01"
		    "e0 00 00 16"  /* 224.0.0.22 */
		    "01 01 01 00", /* NOP NOP NOP, padding */
		    want, sizeof want);
	memset(buf, 0xee, sizeof buf);
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 24);
	ck_assert_mem_eq(buf, want, 24);
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, 23), 0);
}
END_TEST

START_TEST(emit_refuses_impossible_headers)
{
	uint8_t opts[41] = { 0 };
	uint8_t buf[64];
	struct us_ipv4_hdr h = { .ttl = 64, .proto = US_IPPROTO_TCP };
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, 19), 0);
	h.frag_offset = 12; /* not a multiple of 8 */
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 0);
	h.frag_offset = 65528;
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 20);
	h.frag_offset = 0;
	h.options = opts;
	h.options_len = 41;
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 0);
	h.options_len = 40;
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 60);
	h.options_len = 0;
	h.payload_len = 65516; /* 20 + 65516 = 65536 */
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 0);
	h.payload_len = 65515;
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 20);
	ck_assert_uint_eq(buf[2], 0xff);
	ck_assert_uint_eq(buf[3], 0xff);
}
END_TEST

START_TEST(emitted_header_parses_back)
{
	static const uint8_t opts[4] = { 0x94, 0x04, 0x00, 0x00 }; /* Router Alert */
	struct us_ipv4_hdr h = {
		.tos = 0x02,
		.id = 0xfffe,
		.df = true,
		.mf = true,
		.frag_offset = 8,
		.ttl = 255,
		.proto = US_IPPROTO_ICMP,
		.src = 0xc6336402u,
		.dst = 0xc6336401u,
		.options = opts,
		.options_len = 4,
		.payload_len = 0,
	};
	uint8_t buf[24];
	ck_assert_uint_eq(us_ipv4_emit(&h, buf, sizeof buf), 24);
	struct us_ipv4_hdr back;
	ck_assert_int_eq(us_ipv4_parse(buf, 24, &back), US_WIRE_OK);
	ck_assert_uint_eq(back.hdr_len, 24);
	ck_assert_uint_eq(back.total_len, 24);
	ck_assert_uint_eq(back.tos, 0x02);
	ck_assert_uint_eq(back.id, 0xfffe);
	ck_assert(back.df && back.mf);
	ck_assert_uint_eq(back.frag_offset, 8);
	ck_assert_uint_eq(back.ttl, 255);
	ck_assert_uint_eq(back.proto, US_IPPROTO_ICMP);
	ck_assert_uint_eq(back.src, 0xc6336402u);
	ck_assert_uint_eq(back.dst, 0xc6336401u);
	ck_assert_mem_eq(back.options, opts, 4);
}
END_TEST

START_TEST(address_classes)
{
	ck_assert(us_ipv4_is_multicast(0xe0000000u));  /* 224.0.0.0 */
	ck_assert(us_ipv4_is_multicast(0xefffffffu));  /* 239.255.255.255 */
	ck_assert(!us_ipv4_is_multicast(0xdfffffffu)); /* 223.255.255.255 */
	ck_assert(!us_ipv4_is_multicast(0xf0000000u)); /* 240.0.0.0 */

	ck_assert(us_ipv4_is_limited_broadcast(0xffffffffu));
	ck_assert(!us_ipv4_is_limited_broadcast(0xfffffffeu));
	ck_assert(!us_ipv4_is_limited_broadcast(0xc00002ffu)); /* directed: not limited */

	ck_assert(us_ipv4_is_loopback(0x7f000001u));   /* 127.0.0.1 */
	ck_assert(us_ipv4_is_loopback(0x7fffffffu));   /* 127.255.255.255 */
	ck_assert(!us_ipv4_is_loopback(0x80000001u));  /* 128.0.0.1 */
	ck_assert(!us_ipv4_is_loopback(0x7e000001u));  /* 126.0.0.1 */

	ck_assert(us_ipv4_is_zero_net(0));
	ck_assert(us_ipv4_is_zero_net(0x00ffffffu));
	ck_assert(!us_ipv4_is_zero_net(0x01000000u));
}
END_TEST

START_TEST(martian_sources)
{
	const uint32_t martian[] = {
		0x00000000u, /* 0.0.0.0: the caller allows it where it may */
		0x00010203u, /* 0.1.2.3 */
		0x7f000001u, /* 127.0.0.1 */
		0x7f123456u, /* 127.18.52.86 */
		0xe0000001u, /* 224.0.0.1 */
		0xefffffffu, /* 239.255.255.255 */
		0xf0000001u, /* 240.0.0.1 */
		0xfffffffeu, /* 255.255.255.254 */
		0xffffffffu, /* 255.255.255.255 */
	};
	const uint32_t fine[] = {
		0x01000000u, /* 1.0.0.0 */
		0x0a000001u, /* 10.0.0.1 */
		0x7effffffu, /* 126.255.255.255 */
		0x80000000u, /* 128.0.0.0 */
		0xa9fe0101u, /* 169.254.1.1: link-local is a valid source */
		0xc0000201u, /* 192.0.2.1 */
		0xdfffffffu, /* 223.255.255.255 */
	};
	for (size_t i = 0; i < sizeof martian / sizeof martian[0]; i++)
		ck_assert_msg(us_ipv4_is_martian_src(martian[i]), "0x%08x should be martian",
			      martian[i]);
	for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
		ck_assert_msg(!us_ipv4_is_martian_src(fine[i]), "0x%08x should not be martian",
			      fine[i]);
}
END_TEST

START_TEST(text_parses_strict_dotted_quads)
{
	static const struct {
		const char *s;
		uint32_t v;
	} good[] = {
		{ "0.0.0.0", 0 },
		{ "255.255.255.255", 0xffffffffu },
		{ "192.0.2.1", 0xc0000201u },
		{ "10.0.100.10", 0x0a00640au },
		{ "198.51.100.2", 0xc6336402u },
		{ "1.22.133.4", 0x01168504u },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		uint32_t v = 0x12345678u;
		ck_assert_msg(us_ipv4_parse_text(good[i].s, &v) == 0, "%s refused", good[i].s);
		ck_assert_msg(v == good[i].v, "%s gave 0x%08x", good[i].s, v);
	}
}
END_TEST

START_TEST(text_refuses_anything_but_a_strict_dotted_quad)
{
	static const char *const bad[] = {
		"", ".", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1.2.3.999",
		"1000.1.1.1", "01.2.3.4", "1.2.3.04", "00.0.0.0", "1..2.3", ".1.2.3",
		"1.2.3.", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "0x7f.0.0.1", "-1.2.3.4",
		"+1.2.3.4", "1.2.3.4/24", "1.2.3.a", "127.1", "1.2.3.4.", "1,2,3,4",
		"::1", "4294967295",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t v = 0x12345678u;
		ck_assert_msg(us_ipv4_parse_text(bad[i], &v) == US_WIRE_BAD_FIELD,
			      "\"%s\" accepted", bad[i]);
		ck_assert_msg(v == 0x12345678u, "\"%s\" wrote the output", bad[i]);
	}
}
END_TEST

START_TEST(format_writes_dotted_quads)
{
	char buf[US_IPV4_TEXT_MAX];
	ck_assert_uint_eq(us_ipv4_format(0, buf), 7);
	ck_assert_str_eq(buf, "0.0.0.0");
	ck_assert_uint_eq(us_ipv4_format(0xffffffffu, buf), 15);
	ck_assert_str_eq(buf, "255.255.255.255");
	ck_assert_uint_eq(us_ipv4_format(0xc0000201u, buf), 9);
	ck_assert_str_eq(buf, "192.0.2.1");
	ck_assert_uint_eq(us_ipv4_format(0x0a00640au, buf), 11);
	ck_assert_str_eq(buf, "10.0.100.10");
	ck_assert_uint_eq(us_ipv4_format(0x6463090au, buf), 11);
	ck_assert_str_eq(buf, "100.99.9.10");
}
END_TEST

START_TEST(format_and_parse_round_trip)
{
	char buf[US_IPV4_TEXT_MAX];
	uint32_t a = 0x9e3779b9u;
	for (int i = 0; i < 2000; i++) {
		a = a * 1103515245u + 12345u;
		uint32_t back = ~a;
		us_ipv4_format(a, buf);
		ck_assert_int_eq(us_ipv4_parse_text(buf, &back), 0);
		ck_assert_uint_eq(back, a);
	}
}
END_TEST

/* clang-format on */

Suite *us_test_suite(void)
{
	Suite *s = suite_create("wire_ipv4");
	TCase *p = tcase_create("parse");
	tcase_add_test(p, udp_datagram_yields_every_field);
	tcase_add_test(p, every_length_below_20_is_truncated);
	tcase_add_test(p, version_other_than_4_is_bad_version);
	tcase_add_test(p, ihl_below_5_is_bad_hdr_len);
	tcase_add_test(p, ihl_past_the_buffer_is_hdr_past_end);
	tcase_add_test(p, total_length_below_header_length_is_bad_total_len);
	tcase_add_test(p, datagram_cut_before_its_total_length_is_bad_total_len);
	tcase_add_test(p, ethernet_padding_after_total_length_is_trimmed);
	tcase_add_test(p, wrong_header_checksum_is_bad_checksum);
	tcase_add_test(p, checksum_covers_the_options);
	tcase_add_test(p, nop_and_eol_options_are_walked);
	tcase_add_test(p, bytes_after_end_of_option_list_are_not_examined);
	tcase_add_test(p, record_route_option_is_walked);
	tcase_add_test(p, option_length_below_2_is_opt_bad_len);
	tcase_add_test(p, option_running_past_the_header_is_opt_past_end);
	tcase_add_test(p, flags_and_fragment_offset_in_bytes);
	tcase_add_test(p, fragment_ending_past_65535_is_bad_field);
	tcase_add_test(p, quoted_header_may_be_cut_short_and_skips_the_checksum);
	tcase_add_test(p, quoted_header_keeps_the_structural_checks);
	suite_add_tcase(s, p);

	TCase *e = tcase_create("emit");
	tcase_add_test(e, emit_writes_the_exact_header_and_checksum);
	tcase_add_test(e, emit_writes_mf_tos_and_offset);
	tcase_add_test(e, emit_pads_options_to_four_bytes);
	tcase_add_test(e, emit_refuses_impossible_headers);
	tcase_add_test(e, emitted_header_parses_back);
	suite_add_tcase(s, e);

	TCase *a = tcase_create("addresses");
	tcase_add_test(a, address_classes);
	tcase_add_test(a, martian_sources);
	tcase_add_test(a, text_parses_strict_dotted_quads);
	tcase_add_test(a, text_refuses_anything_but_a_strict_dotted_quad);
	tcase_add_test(a, format_writes_dotted_quads);
	tcase_add_test(a, format_and_parse_round_trip);
	suite_add_tcase(s, a);
	return s;
}

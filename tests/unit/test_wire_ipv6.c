/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_wire_ipv6.c - the IPv6 fixed header, the Fragment header,
 * the extension header walk (RFC 8200 §4), special addresses (RFC 4291) and
 * text forms (RFC 4291 §2.2, RFC 5952).
 *
 * Read first: src/stack/wire/ipv6.h (the walk's contract and its two offset
 * bases: upper_offset counts from the payload, every other offset from the
 * IPv6 header).
 */
#include "harness.h"

#include <string.h>

#include "wire/ipv6.h"

/* Literal frames are annotated field by field throughout, aligned by hand:
 * clang-format would fold them. It formats only us_test_suite() below. */
/* clang-format off */
/* Fixed header, 2001:db8::1 -> 2001:db8::2, hop limit 64; the caller's
 * string supplies Payload Length and Next Header. */
#define V6(plen, nh)                                                          \
	"60 00 00 00"  /* version 6, traffic class 0, flow label 0 */         \
	plen           /* payload length */                                   \
	nh             /* next header */                                      \
	"40"           /* hop limit 64 */                                     \
	"20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01" /* 2001:db8::1 */   \
	"20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02" /* 2001:db8::2 */

#define UDP8 "04 00 00 35 00 08 00 00" /* an 8-byte UDP header */

static struct us_ip6 ip6(const char *hex)
{
	struct us_ip6 a;
	ck_assert_uint_eq(us_test_hex(hex, a.b, sizeof a.b), 16);
	return a;
}

/* Parse the fixed header and walk the chain of a literal packet. */
static int walk_hex(const char *hex, uint8_t *buf, size_t cap, struct us_ipv6_ext *x)
{
	struct us_ipv6_hdr h;
	size_t n = us_test_hex(hex, buf, cap);
	ck_assert_int_eq(us_ipv6_parse(buf, n, &h), US_WIRE_OK);
	return us_ipv6_walk(&h, x);
}

/* ---- Fixed header -------------------------------------------------------- */

START_TEST(udp_packet_yields_every_field)
{
	uint8_t b[64];
	size_t n = us_test_hex("6b 81 23 45"  /* version 6, TC 0xb8, flow label 0x12345 */
			       "00 08"        /* payload length 8 */
			       "11"           /* next header UDP */
			       "ff"           /* hop limit 255 */
			       "fe 80 00 00 00 00 00 00 50 54 00 ff fe 12 34 56"
			       "ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01" UDP8,
			       b, sizeof b);
	ck_assert_uint_eq(n, 48);
	struct us_ipv6_hdr h;
	ck_assert_int_eq(us_ipv6_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.traffic_class, 0xb8);
	ck_assert_uint_eq(h.flow_label, 0x12345);
	ck_assert_uint_eq(h.payload_len, 8);
	ck_assert_uint_eq(h.next_header, US_IPPROTO_UDP);
	ck_assert_uint_eq(h.hop_limit, 255);
	struct us_ip6 src = ip6("fe80 0000 0000 0000 5054 00ff fe12 3456");
	struct us_ip6 dst = ip6("ff02 0000 0000 0000 0000 0000 0000 0001");
	ck_assert_mem_eq(h.src.b, src.b, 16);
	ck_assert_mem_eq(h.dst.b, dst.b, 16);
	ck_assert_ptr_eq(h.payload, b + 40);
}
END_TEST

START_TEST(every_length_below_40_is_truncated)
{
	uint8_t b[48];
	size_t n = us_test_hex(V6("00 08", "11") UDP8, b, sizeof b);
	struct us_ipv6_hdr h;
	for (size_t len = 0; len < 40; len++)
		ck_assert_int_eq(us_ipv6_parse(b, len, &h), US_WIRE_TRUNCATED);
	ck_assert_int_eq(us_ipv6_parse(b, n, &h), US_WIRE_OK);
}
END_TEST

START_TEST(version_other_than_6_is_bad_version)
{
	uint8_t b[48];
	size_t n = us_test_hex(V6("00 08", "11") UDP8, b, sizeof b);
	struct us_ipv6_hdr h;
	const uint8_t versions[] = { 0, 4, 5, 7, 15 };
	for (size_t i = 0; i < sizeof versions; i++) {
		b[0] = (uint8_t)(versions[i] << 4);
		ck_assert_int_eq(us_ipv6_parse(b, n, &h), US_WIRE_BAD_VERSION);
	}
}
END_TEST

START_TEST(payload_length_past_the_buffer_is_bad_total_len)
{
	uint8_t b[48];
	size_t n = us_test_hex(V6("00 08", "11") UDP8, b, sizeof b);
	struct us_ipv6_hdr h;
	for (size_t len = 40; len < n; len++)
		ck_assert_int_eq(us_ipv6_parse(b, len, &h), US_WIRE_BAD_TOTAL_LEN);
	b[4] = 0xff; /* payload length 0xff08 */
	ck_assert_int_eq(us_ipv6_parse(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
}
END_TEST

START_TEST(payload_length_zero_jumbogram_is_bad_total_len)
{
	uint8_t b[48];
	size_t n = us_test_hex(V6("00 00", "00") /* payload length 0, Hop-by-Hop */
			       "3a 00 c2 04 00 01 00 00", /* Jumbo Payload option */
			       b, sizeof b);
	struct us_ipv6_hdr h;
	ck_assert_int_eq(us_ipv6_parse(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
}
END_TEST

START_TEST(ethernet_padding_after_payload_length_is_trimmed)
{
	uint8_t b[64];
	memset(b, 0xa5, sizeof b);
	us_test_hex(V6("00 08", "11") UDP8, b, sizeof b);
	struct us_ipv6_hdr h;
	struct us_ipv6_ext x;
	ck_assert_int_eq(us_ipv6_parse(b, sizeof b, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 8);
	ck_assert_int_eq(us_ipv6_walk(&h, &x), US_WIRE_OK);
	ck_assert_uint_eq(x.upper_len, 8);
}
END_TEST

START_TEST(quoted_packet_may_be_cut_short)
{
	/* What an ICMPv6 error carries when the invoking packet was long. */
	uint8_t b[56];
	size_t n = us_test_hex(V6("05 c8", "3c")  /* payload length 1480 */
			       "11 00 01 04 00 00 00 00" /* DstOpts -> UDP */
			       "c3 50 00 35",            /* the UDP ports, cut there */
			       b, sizeof b);
	struct us_ipv6_hdr h;
	struct us_ipv6_ext x;
	ck_assert_int_eq(us_ipv6_parse(b, n, &h), US_WIRE_BAD_TOTAL_LEN);
	ck_assert_int_eq(us_ipv6_parse_quoted(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 12); /* the bytes present */
	ck_assert_uint_eq(h.next_header, US_IPPROTO_DSTOPTS);
	ck_assert_int_eq(us_ipv6_walk(&h, &x), US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_UDP);
	ck_assert_uint_eq(x.upper_offset, 8);
	ck_assert_uint_eq(x.upper_len, 4);
	/* A zero Payload Length is accepted the same way. */
	b[4] = 0;
	b[5] = 0;
	ck_assert_int_eq(us_ipv6_parse_quoted(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 12);
	/* Shorter than present: trimmed as usual. */
	b[5] = 8;
	ck_assert_int_eq(us_ipv6_parse_quoted(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 8);
	/* The quote ending inside the header chain. */
	b[5] = 0;
	ck_assert_int_eq(us_ipv6_parse_quoted(b, 44, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 4);
	ck_assert_int_eq(us_ipv6_walk(&h, &x), US_WIRE_EXT_PAST_END);
	for (size_t len = 0; len < 40; len++)
		ck_assert_int_eq(us_ipv6_parse_quoted(b, len, &h), US_WIRE_TRUNCATED);
	b[0] = 0x40;
	ck_assert_int_eq(us_ipv6_parse_quoted(b, n, &h), US_WIRE_BAD_VERSION);
}
END_TEST

START_TEST(emit_writes_the_exact_fixed_header)
{
	struct us_ipv6_hdr h = {
		.traffic_class = 0xb8,
		.flow_label = 0x12345,
		.payload_len = 8,
		.next_header = US_IPPROTO_UDP,
		.hop_limit = 255,
	};
	h.src = ip6("fe80 0000 0000 0000 5054 00ff fe12 3456");
	h.dst = ip6("ff02 0000 0000 0000 0000 0000 0000 0001");
	uint8_t want[40], buf[44];
	us_test_hex("6b 81 23 45 00 08 11 ff"
		    "fe 80 00 00 00 00 00 00 50 54 00 ff fe 12 34 56"
		    "ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01",
		    want, sizeof want);
	memset(buf, 0xee, sizeof buf);
	ck_assert_uint_eq(us_ipv6_emit(&h, buf, sizeof buf), 40);
	ck_assert_mem_eq(buf, want, 40);
	ck_assert_uint_eq(buf[40], 0xee);
}
END_TEST

START_TEST(emit_refuses_small_buffer_and_wide_flow_label)
{
	struct us_ipv6_hdr h = { .payload_len = 1, .next_header = 59, .hop_limit = 1 };
	uint8_t buf[40];
	ck_assert_uint_eq(us_ipv6_emit(&h, buf, 39), 0);
	h.flow_label = 0x100000;
	ck_assert_uint_eq(us_ipv6_emit(&h, buf, sizeof buf), 0);
	h.flow_label = 0xfffff;
	ck_assert_uint_eq(us_ipv6_emit(&h, buf, sizeof buf), 40);
	ck_assert_uint_eq(buf[0], 0x60);
	ck_assert_uint_eq(buf[1], 0x0f);
	ck_assert_uint_eq(buf[2], 0xff);
	ck_assert_uint_eq(buf[3], 0xff);
}
END_TEST

START_TEST(emitted_header_parses_back)
{
	struct us_ipv6_hdr h = {
		.traffic_class = 0x03,
		.flow_label = 0xabcde,
		.payload_len = 4,
		.next_header = US_IPPROTO_NONE,
		.hop_limit = 1,
	};
	h.src = ip6("2001 0db8 0000 0000 0000 0000 0000 0001");
	h.dst = ip6("ff02 0000 0000 0000 0000 0001 ff00 0002");
	uint8_t buf[44] = { 0 };
	ck_assert_uint_eq(us_ipv6_emit(&h, buf, sizeof buf), 40);
	struct us_ipv6_hdr back;
	ck_assert_int_eq(us_ipv6_parse(buf, sizeof buf, &back), US_WIRE_OK);
	ck_assert_uint_eq(back.traffic_class, 0x03);
	ck_assert_uint_eq(back.flow_label, 0xabcde);
	ck_assert_uint_eq(back.payload_len, 4);
	ck_assert_uint_eq(back.next_header, US_IPPROTO_NONE);
	ck_assert_uint_eq(back.hop_limit, 1);
	ck_assert_mem_eq(back.src.b, h.src.b, 16);
	ck_assert_mem_eq(back.dst.b, h.dst.b, 16);
}
END_TEST

/* ---- Fragment header ----------------------------------------------------- */

START_TEST(fragment_header_yields_offset_in_bytes_m_and_id)
{
	uint8_t b[8];
	size_t n = us_test_hex("11"           /* next header UDP */
			       "ff"           /* reserved: ignored */
			       "05 cf"        /* offset 185 (1480 bytes), res 11, M 1 */
			       "de ad be ef", /* identification */
			       b, sizeof b);
	struct us_ipv6_frag f;
	for (size_t len = 0; len < n; len++)
		ck_assert_int_eq(us_ipv6_frag_parse(b, len, &f), US_WIRE_TRUNCATED);
	ck_assert_int_eq(us_ipv6_frag_parse(b, n, &f), US_WIRE_OK);
	ck_assert_uint_eq(f.next_header, US_IPPROTO_UDP);
	ck_assert_uint_eq(f.offset, 1480);
	ck_assert(f.more);
	ck_assert_uint_eq(f.id, 0xdeadbeefu);
}
END_TEST

START_TEST(fragment_header_emit_writes_exact_bytes)
{
	struct us_ipv6_frag f = { .next_header = 58, .offset = 65528, .more = false, .id = 7 };
	uint8_t want[8], buf[9];
	us_test_hex("3a"          /* next header ICMPv6 */
		    "00"          /* reserved */
		    "ff f8"       /* offset 8191, res 0, M 0 */
		    "00 00 00 07", /* identification */
		    want, sizeof want);
	memset(buf, 0xee, sizeof buf);
	ck_assert_uint_eq(us_ipv6_frag_emit(&f, buf, sizeof buf), 8);
	ck_assert_mem_eq(buf, want, 8);
	ck_assert_uint_eq(buf[8], 0xee);
	f.offset = 8;
	f.more = true;
	ck_assert_uint_eq(us_ipv6_frag_emit(&f, buf, sizeof buf), 8);
	ck_assert_uint_eq(buf[2], 0x00);
	ck_assert_uint_eq(buf[3], 0x09);
	ck_assert_uint_eq(us_ipv6_frag_emit(&f, buf, 7), 0);
	f.offset = 12;
	ck_assert_uint_eq(us_ipv6_frag_emit(&f, buf, sizeof buf), 0);
}
END_TEST

/* ---- Extension header walk ----------------------------------------------- */

START_TEST(walk_without_extension_headers_finds_the_upper_layer)
{
	uint8_t b[48];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 08", "11") UDP8, b, sizeof b, &x), US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_UDP);
	ck_assert_uint_eq(x.upper_offset, 0);
	ck_assert_uint_eq(x.upper_len, 8);
	ck_assert_uint_eq(x.nh_offset, 6);
	ck_assert_uint_eq(x.ext_count, 0);
	ck_assert(!x.has_hbh && !x.has_routing && !x.has_frag && !x.has_ah);
	ck_assert_int_eq(x.opt_action, US_IPV6_OPT_SKIP);
}
END_TEST

START_TEST(hop_by_hop_router_alert_is_recorded)
{
	/* An MLD report's header chain. */
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 10", "00")
				  "3a"    /* next header ICMPv6 */
				  "00"    /* hdr ext len 0: 8 bytes */
				  "05 02 00 00" /* Router Alert, value 0 (MLD) */
				  "01 00" /* PadN, 0 data bytes */
				  "8f 00 00 00 00 00 00 00", /* ICMPv6 */
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert(x.has_hbh);
	ck_assert(x.has_router_alert);
	ck_assert_uint_eq(x.router_alert, 0);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_ICMPV6);
	ck_assert_uint_eq(x.upper_offset, 8);
	ck_assert_uint_eq(x.upper_len, 8);
	ck_assert_uint_eq(x.nh_offset, 40);
	ck_assert_uint_eq(x.ext_count, 1);
}
END_TEST

START_TEST(hop_by_hop_after_another_header_is_ext_bad_order)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 18", "3c")
				  "00 00 01 04 00 00 00 00" /* Dest. Options -> Hop-by-Hop */
				  "3b 00 01 04 00 00 00 00" /* Hop-by-Hop -> No Next Header */
				  "00 00 00 00 00 00 00 00",
				  b, sizeof b, &x),
			 US_WIRE_EXT_BAD_ORDER);
	/* The pointer for Parameter Problem code 1: the Destination Options
	 * header's Next Header byte, right after the fixed header. */
	ck_assert_uint_eq(x.nh_offset, 40);

	ck_assert_int_eq(walk_hex(V6("00 10", "00")
				  "00 00 01 04 00 00 00 00" /* Hop-by-Hop -> Hop-by-Hop */
				  "3b 00 01 04 00 00 00 00",
				  b, sizeof b, &x),
			 US_WIRE_EXT_BAD_ORDER);
	ck_assert_uint_eq(x.nh_offset, 40);
}
END_TEST

START_TEST(full_chain_reports_every_header_and_offset)
{
	uint8_t b[128];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 28", "00")  /* payload 40, Hop-by-Hop */
				  "2b 00 01 04 00 00 00 00" /* @40 HBH -> Routing, PadN(4) */
				  "2c 00"                   /* @48 Routing -> Fragment, 8 bytes */
				  "fd"                      /*     routing type 253 (RFC 4727) */
				  "00"                      /*     segments left 0 */
				  "00 00 00 00"
				  "3c 00 00 00 12 34 56 78" /* @56 atomic Fragment -> DstOpts */
				  "11 00 01 04 00 00 00 00" /* @64 DstOpts -> UDP */
				  UDP8,                     /* @72 */
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_UDP);
	ck_assert_uint_eq(x.upper_offset, 32); /* from the payload */
	ck_assert_uint_eq(x.upper_len, 8);
	ck_assert_uint_eq(x.nh_offset, 64);    /* from the IPv6 header */
	ck_assert_uint_eq(x.ext_count, 4);
	ck_assert(x.has_hbh);
	ck_assert(!x.has_router_alert);
	ck_assert(x.has_routing);
	ck_assert_uint_eq(x.routing_type, 253);
	ck_assert_uint_eq(x.segments_left, 0);
	ck_assert_uint_eq(x.routing_offset, 48);
	ck_assert(x.has_frag);
	ck_assert_uint_eq(x.frag.next_header, US_IPPROTO_DSTOPTS);
	ck_assert_uint_eq(x.frag.offset, 0);
	ck_assert(!x.frag.more);
	ck_assert_uint_eq(x.frag.id, 0x12345678u);
	ck_assert_uint_eq(x.frag_hdr_offset, 56);
	ck_assert_uint_eq(x.frag_nh_offset, 48);
	ck_assert_uint_eq(x.dstopts_count, 1);
	ck_assert(!x.has_ah);
	ck_assert_int_eq(x.opt_action, US_IPV6_OPT_SKIP);
}
END_TEST

START_TEST(routing_header_with_segments_left_is_recorded_not_acted_on)
{
	uint8_t b[128];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 20", "2b")
				  "3a"      /* Routing -> ICMPv6 */
				  "02"      /* hdr ext len 2: 24 bytes */
				  "00"      /* type 0 (deprecated, RFC 5095) */
				  "01"      /* segments left 1 */
				  "00 00 00 00"
				  "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 03"
				  "80 00 00 00 00 00 00 00",
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert(x.has_routing);
	ck_assert_uint_eq(x.routing_type, 0);
	ck_assert_uint_eq(x.segments_left, 1);
	ck_assert_uint_eq(x.routing_offset, 40);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_ICMPV6);
	ck_assert_uint_eq(x.upper_offset, 24);
	ck_assert_uint_eq(x.nh_offset, 40);
}
END_TEST

START_TEST(non_first_fragment_ends_the_walk)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 10", "2c")
				  "11"          /* Fragment -> UDP */
				  "00"
				  "05 c9"       /* offset 185 (1480 bytes), M 1 */
				  "de ad be ef" /* identification */
				  "3b 00 00 00 00 00 00 00", /* data, not a header */
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_FRAGMENT);
	ck_assert_uint_eq(x.upper_offset, 8);
	ck_assert_uint_eq(x.upper_len, 8);
	ck_assert_uint_eq(x.nh_offset, 6);
	ck_assert(x.has_frag);
	ck_assert_uint_eq(x.frag.next_header, US_IPPROTO_UDP);
	ck_assert_uint_eq(x.frag.offset, 1480);
	ck_assert(x.frag.more);
	ck_assert_uint_eq(x.frag.id, 0xdeadbeefu);
	ck_assert_uint_eq(x.frag_hdr_offset, 40); /* unfragmentable part: 40 bytes */
	ck_assert_uint_eq(x.frag_nh_offset, 6);
	ck_assert_uint_eq(x.ext_count, 1);
}
END_TEST

START_TEST(first_fragment_ends_the_walk_after_an_unfragmentable_header)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 18", "3c")
				  "2c 00 01 04 00 00 00 00" /* @40 DstOpts -> Fragment */
				  "3a 00 00 01 00 00 00 2a" /* @48 Fragment: offset 0, M 1 */
				  "80 00 00 00 00 00 00 00", /* @56 first data bytes */
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_FRAGMENT);
	ck_assert_uint_eq(x.upper_offset, 16);
	ck_assert_uint_eq(x.upper_len, 8);
	ck_assert_uint_eq(x.frag.offset, 0);
	ck_assert(x.frag.more);
	ck_assert_uint_eq(x.frag.id, 42);
	ck_assert_uint_eq(x.frag.next_header, US_IPPROTO_ICMPV6);
	ck_assert_uint_eq(x.frag_hdr_offset, 48);
	ck_assert_uint_eq(x.frag_nh_offset, 40);
	ck_assert_uint_eq(x.nh_offset, 40);
	ck_assert_uint_eq(x.ext_count, 2);
}
END_TEST

START_TEST(no_next_header_ignores_what_follows)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 04", "3b") "de ad be ef", b, sizeof b, &x), US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_NONE);
	ck_assert_uint_eq(x.upper_offset, 0);
	ck_assert_uint_eq(x.upper_len, 0);
	ck_assert_uint_eq(x.nh_offset, 6);

	ck_assert_int_eq(walk_hex(V6("00 0c", "3c")
				  "3b 00 01 04 00 00 00 00" /* DstOpts -> No Next Header */
				  "ff ff ff ff",
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_NONE);
	ck_assert_uint_eq(x.upper_offset, 8);
	ck_assert_uint_eq(x.upper_len, 0);
	ck_assert_uint_eq(x.nh_offset, 40);
}
END_TEST

START_TEST(ah_length_counts_four_octet_units_plus_two)
{
	uint8_t b[96];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 20", "33")
				  "11"          /* AH -> UDP */
				  "04"          /* payload len 4: (4 + 2) * 4 = 24 bytes */
				  "00 00"       /* reserved */
				  "00 00 01 00" /* SPI */
				  "00 00 00 01" /* sequence number */
				  "00 00 00 00 00 00 00 00 00 00 00 00" /* ICV, 96 bits */
				  UDP8,
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert(x.has_ah);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_UDP);
	ck_assert_uint_eq(x.upper_offset, 24);
	ck_assert_uint_eq(x.upper_len, 8);
	ck_assert_uint_eq(x.nh_offset, 40);
}
END_TEST

START_TEST(esp_stops_the_walk)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 08", "32") "00 00 01 00 00 00 00 01", b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_ESP);
	ck_assert_uint_eq(x.upper_offset, 0);
	ck_assert_uint_eq(x.upper_len, 8);
}
END_TEST

START_TEST(extension_header_past_the_payload_is_ext_past_end)
{
	uint8_t b[96];
	struct us_ipv6_ext x;
	/* Hdr Ext Len 1 (16 bytes) with 8 bytes of payload. */
	ck_assert_int_eq(walk_hex(V6("00 08", "3c") "11 01 01 04 00 00 00 00", b, sizeof b, &x),
			 US_WIRE_EXT_PAST_END);
	/* One byte: not even the length octet. */
	ck_assert_int_eq(walk_hex(V6("00 01", "00") "11", b, sizeof b, &x), US_WIRE_EXT_PAST_END);
	/* A Fragment header cut to 7 bytes. */
	ck_assert_int_eq(walk_hex(V6("00 07", "2c") "11 00 00 00 00 00 00", b, sizeof b, &x),
			 US_WIRE_EXT_PAST_END);
	/* AH claiming 24 bytes in 16. */
	ck_assert_int_eq(walk_hex(V6("00 10", "33")
				  "11 04 00 00 00 00 01 00 00 00 00 01 00 00 00 00",
				  b, sizeof b, &x),
			 US_WIRE_EXT_PAST_END);
	/* A second header that does not fit after a good first one. */
	ck_assert_int_eq(walk_hex(V6("00 0c", "3c")
				  "2b 00 01 04 00 00 00 00"
				  "11 00 00 00",
				  b, sizeof b, &x),
			 US_WIRE_EXT_PAST_END);
	ck_assert(x.dstopts_count == 1);
}
END_TEST

START_TEST(extension_header_cut_at_every_length_is_ext_past_end)
{
	uint8_t b[128];
	size_t n = us_test_hex(V6("00 18", "00")
			       "2c 00 01 04 00 00 00 00" /* HBH -> Fragment */
			       "3c 00 00 00 00 00 00 01" /* atomic Fragment -> DstOpts */
			       "3b 00 01 04 00 00 00 00", /* DstOpts -> none */
			       b, sizeof b);
	struct us_ipv6_hdr h;
	struct us_ipv6_ext x;
	ck_assert_int_eq(us_ipv6_parse(b, n, &h), US_WIRE_OK);
	ck_assert_int_eq(us_ipv6_walk(&h, &x), US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_NONE);
	/* Shorten the Payload Length (as a lying sender would) byte by byte. */
	for (uint16_t plen = 1; plen < 24; plen++) {
		h.payload_len = plen;
		ck_assert_msg(us_ipv6_walk(&h, &x) == US_WIRE_EXT_PAST_END, "plen %u", plen);
	}
}
END_TEST

START_TEST(eight_extension_headers_are_walked_and_a_ninth_is_too_many)
{
	uint8_t b[128];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 48", "3c")
				  "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
				  "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
				  "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
				  "3c 00 01 04 00 00 00 00" "11 00 01 04 00 00 00 00" UDP8,
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_uint_eq(x.ext_count, 8);
	ck_assert_uint_eq(x.dstopts_count, 8);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_UDP);
	ck_assert_uint_eq(x.upper_offset, 64);
	ck_assert_uint_eq(x.nh_offset, 96);

	ck_assert_int_eq(walk_hex(V6("00 50", "3c")
				  "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
				  "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
				  "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
				  "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
				  "11 00 01 04 00 00 00 00" UDP8,
				  b, sizeof b, &x),
			 US_WIRE_EXT_TOO_MANY);
}
END_TEST

START_TEST(unknown_option_with_00_bits_is_skipped)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 10", "3c")
				  "11 00"
				  "1e 02 00 00" /* type 0x1e (bits 00, RFC 4727), 2 bytes */
				  "00 00"       /* Pad1 Pad1 */
				  UDP8,
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_int_eq(x.opt_action, US_IPV6_OPT_SKIP);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_UDP);
	ck_assert_uint_eq(x.upper_offset, 8);
}
END_TEST

START_TEST(unknown_option_high_bits_give_the_action_and_pointer)
{
	static const struct {
		const char *type;
		enum us_ipv6_opt_action action;
	} cases[] = {
		{ "5e", US_IPV6_OPT_DISCARD },              /* 01 011110 */
		{ "9e", US_IPV6_OPT_DISCARD_ICMP },         /* 10 011110 */
		{ "de", US_IPV6_OPT_DISCARD_ICMP_UNICAST }, /* 11 011110 */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char hex[512];
		uint8_t b[96];
		struct us_ipv6_ext x;
		/* DstOpts: PadN(0) at 42, the option at 44. */
		int k = 0;
		const char *head = V6("00 10", "3c") "11 00 01 00 ";
		while (*head)
			hex[k++] = *head++;
		hex[k++] = cases[i].type[0];
		hex[k++] = cases[i].type[1];
		const char *tail = " 02 00 00" UDP8;
		while (*tail)
			hex[k++] = *tail++;
		hex[k] = '\0';
		ck_assert_int_eq(walk_hex(hex, b, sizeof b, &x), US_WIRE_OK);
		ck_assert_int_eq(x.opt_action, cases[i].action);
		ck_assert_uint_eq(x.opt_pointer, 44);
		ck_assert_uint_eq(x.dstopts_count, 1);
		/* The walk stopped: nothing about an upper layer. */
		ck_assert_uint_eq(x.upper_proto, 0);
		ck_assert_uint_eq(x.upper_len, 0);
	}
}
END_TEST

START_TEST(jumbo_payload_option_in_a_normal_packet_is_an_unknown_11_option)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 10", "00")
				  "11 00"
				  "c2 04 00 01 00 00" /* Jumbo Payload, not spoken */
				  UDP8,
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_int_eq(x.opt_action, US_IPV6_OPT_DISCARD_ICMP_UNICAST);
	ck_assert_uint_eq(x.opt_pointer, 42);
	ck_assert(x.has_hbh);
}
END_TEST

START_TEST(first_option_action_wins_and_later_bytes_are_not_examined)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 10", "3c")
				  "3c 00"
				  "9e 00"       /* @42 action 10 */
				  "5e 00"       /* @44 action 01, never reached */
				  "01 00"
				  "3c 05 00 00 00 00 00 00", /* a next header past the end */
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_int_eq(x.opt_action, US_IPV6_OPT_DISCARD_ICMP);
	ck_assert_uint_eq(x.opt_pointer, 42);
}
END_TEST

START_TEST(option_running_past_its_header_is_opt_past_end)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	/* PadN claiming 5 data bytes with 4 left. */
	ck_assert_int_eq(walk_hex(V6("00 10", "3c") "11 00 01 05 00 00 00 00" UDP8, b, sizeof b,
				  &x),
			 US_WIRE_OPT_PAST_END);
	/* An option type in the last byte with no room for its length. */
	ck_assert_int_eq(walk_hex(V6("00 10", "3c") "11 00 01 03 00 00 00 1e" UDP8, b, sizeof b,
				  &x),
			 US_WIRE_OPT_PAST_END);
	/* The same in a Hop-by-Hop header. */
	ck_assert_int_eq(walk_hex(V6("00 10", "00") "11 00 00 00 00 01 02 00" UDP8, b, sizeof b,
				  &x),
			 US_WIRE_OPT_PAST_END);
}
END_TEST

START_TEST(router_alert_of_wrong_length_is_opt_bad_len)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 10", "00")
				  "11 00"
				  "05 03 00 00 00" /* Router Alert with 3 data bytes */
				  "00"             /* Pad1 */
				  UDP8,
				  b, sizeof b, &x),
			 US_WIRE_OPT_BAD_LEN);
	/* In a Destination Options header, type 5 is just an unknown option
	 * with action 00: skipped, whatever its length. */
	ck_assert_int_eq(walk_hex(V6("00 10", "3c") "11 00 05 03 00 00 00 00" UDP8, b, sizeof b,
				  &x),
			 US_WIRE_OK);
	ck_assert(!x.has_router_alert);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_UDP);
}
END_TEST

START_TEST(pad1_only_options_are_fine)
{
	uint8_t b[64];
	struct us_ipv6_ext x;
	ck_assert_int_eq(walk_hex(V6("00 10", "00") "3a 00 00 00 00 00 00 00"
				  "80 00 00 00 00 00 00 00",
				  b, sizeof b, &x),
			 US_WIRE_OK);
	ck_assert_uint_eq(x.upper_proto, US_IPPROTO_ICMPV6);
	ck_assert_uint_eq(x.upper_offset, 8);
}
END_TEST

/* ---- Addresses ----------------------------------------------------------- */

START_TEST(address_classes)
{
	struct us_ip6 a = ip6("0000 0000 0000 0000 0000 0000 0000 0000");
	ck_assert(us_ip6_is_unspecified(&a));
	ck_assert(!us_ip6_is_loopback(&a));
	a.b[15] = 1;
	ck_assert(!us_ip6_is_unspecified(&a));
	ck_assert(us_ip6_is_loopback(&a));
	a.b[0] = 1;
	ck_assert(!us_ip6_is_loopback(&a));
	a = ip6("0000 0000 0000 0000 0000 0000 0000 0100");
	ck_assert(!us_ip6_is_loopback(&a));

	a = ip6("ff02 0000 0000 0000 0000 0000 0000 0001");
	ck_assert(us_ip6_is_multicast(&a));
	ck_assert(!us_ip6_is_link_local(&a));
	a = ip6("fe80 0000 0000 0000 0000 0000 0000 0001");
	ck_assert(us_ip6_is_link_local(&a));
	ck_assert(!us_ip6_is_multicast(&a));
	a = ip6("febf ffff 0000 0000 0000 0000 0000 0001");
	ck_assert(us_ip6_is_link_local(&a));
	a = ip6("fec0 0000 0000 0000 0000 0000 0000 0001"); /* site-local, deprecated */
	ck_assert(!us_ip6_is_link_local(&a));
	a = ip6("fe7f 0000 0000 0000 0000 0000 0000 0001");
	ck_assert(!us_ip6_is_link_local(&a));
	a = ip6("2001 0db8 0000 0000 0000 0000 0000 0001");
	ck_assert(!us_ip6_is_multicast(&a) && !us_ip6_is_link_local(&a));
}
END_TEST

START_TEST(solicited_node_address_takes_the_low_24_bits)
{
	/* RFC 4291 §2.7.1: 4037::01:800:200E:8C6C -> FF02::1:FF0E:8C6C. */
	struct us_ip6 unicast = ip6("4037 0000 0000 0000 0001 0800 200e 8c6c");
	struct us_ip6 want = ip6("ff02 0000 0000 0000 0000 0001 ff0e 8c6c");
	struct us_ip6 out;
	us_ip6_solicited_node(&unicast, &out);
	ck_assert_mem_eq(out.b, want.b, 16);
	/* In place. */
	us_ip6_solicited_node(&unicast, &unicast);
	ck_assert_mem_eq(unicast.b, want.b, 16);
}
END_TEST

START_TEST(link_local_from_mac_uses_modified_eui64)
{
	const uint8_t mac1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	const uint8_t mac2[6] = { 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01 }; /* RFC 7042 doc MAC */
	struct us_ip6 out;
	struct us_ip6 want1 = ip6("fe80 0000 0000 0000 5054 00ff fe12 3456");
	struct us_ip6 want2 = ip6("fe80 0000 0000 0000 0200 5eff fe00 5301");
	us_ip6_link_local_from_mac(mac1, &out);
	ck_assert_mem_eq(out.b, want1.b, 16);
	us_ip6_link_local_from_mac(mac2, &out);
	ck_assert_mem_eq(out.b, want2.b, 16);
	ck_assert(us_ip6_is_link_local(&out));
}
END_TEST

/* ---- Text ---------------------------------------------------------------- */

static void expect_text(const char *in, const char *canonical)
{
	struct us_ip6 a;
	memset(&a, 0xaa, sizeof a);
	ck_assert_msg(us_ip6_parse_text(in, &a) == 0, "\"%s\" refused", in);
	char buf[US_IP6_TEXT_MAX];
	size_t n = us_ip6_format(&a, buf);
	ck_assert_msg(strcmp(buf, canonical) == 0, "\"%s\" formatted as \"%s\", want \"%s\"", in,
		      buf, canonical);
	ck_assert_uint_eq(n, strlen(canonical));
}

START_TEST(text_rfc_5952_section_2_forms_all_give_one_canonical_text)
{
	/* RFC 5952 §2: the many ways of writing 2001:db8:0:0:1:0:0:1. */
	static const char *const forms[] = {
		"2001:db8:0:0:1:0:0:1", "2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1",
		"2001:db8::0:1:0:0:1",  "2001:0db8::1:0:0:1",    "2001:db8:0:0:1::1",
		"2001:db8:0000:0:1::1", "2001:DB8:0:0:1::1",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
		expect_text(forms[i], "2001:db8::1:0:0:1");
	/* §2.1: leading zeros. */
	expect_text("2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1");
	expect_text("2001:db8:aaaa:bbbb:cccc:dddd:eeee:001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1");
	expect_text("2001:db8:aaaa:bbbb:cccc:dddd:eeee:01", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1");
	/* §2.3: case. */
	expect_text("2001:db8:aaaa:bbbb:cccc:dddd:eeee:AAAA", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa");
	expect_text("2001:db8:aaaa:bbbb:cccc:dddd:eeee:AaAa", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa");
}
END_TEST

START_TEST(text_rfc_5952_section_4_rules)
{
	/* §4.1 leading zeros suppressed. */
	expect_text("2001:0db8::0001", "2001:db8::1");
	/* §4.2.1 shorten as much as possible. */
	expect_text("2001:db8:0:0:0:0:2:1", "2001:db8::2:1");
	/* §4.2.2 not for a single 16-bit 0 field. */
	expect_text("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	expect_text("2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	/* §4.2.3 the longest run; the first on a tie. */
	expect_text("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");
	expect_text("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	/* §4.3 lowercase. */
	expect_text("2001:DB8::ABCD:EF", "2001:db8::abcd:ef");
}
END_TEST

START_TEST(text_rfc_4291_section_2_2_examples)
{
	expect_text("2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a");
	expect_text("FF01:0:0:0:0:0:0:101", "ff01::101");
	expect_text("0:0:0:0:0:0:0:1", "::1");
	expect_text("0:0:0:0:0:0:0:0", "::");
	expect_text("2001:DB8::8:800:200C:417A", "2001:db8::8:800:200c:417a");
	expect_text("FF01::101", "ff01::101");
	expect_text("::1", "::1");
	expect_text("::", "::");
	expect_text("0:0:0:0:0:0:13.1.68.3", "::d01:4403");
	expect_text("::13.1.68.3", "::d01:4403");
	expect_text("0:0:0:0:0:FFFF:129.144.52.38", "::ffff:129.144.52.38");
	expect_text("::FFFF:129.144.52.38", "::ffff:129.144.52.38");
}
END_TEST

START_TEST(text_edges_of_the_compression)
{
	expect_text("1:0:0:0:0:0:0:0", "1::");
	expect_text("1::", "1::");
	expect_text("0:0:0:0:0:0:0:1", "::1");
	expect_text("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0");
	expect_text("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8");
	expect_text("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
	expect_text("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0");
	expect_text("1:0:0:2:0:0:3:4", "1::2:0:0:3:4");
	expect_text("1:0:0:2:0:0:0:4", "1:0:0:2::4");
	expect_text("0:0:1:0:0:0:0:0", "0:0:1::");
	expect_text("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	expect_text("fe80::5054:ff:fe12:3456", "fe80::5054:ff:fe12:3456");
	expect_text("ff02::1:ff00:1", "ff02::1:ff00:1");
	expect_text("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304");
	expect_text("::ffff:0.0.0.0", "::ffff:0.0.0.0");
	expect_text("::ffff:255.255.255.255", "::ffff:255.255.255.255");
	/* Not IPv4-mapped (RFC 6052 / IPv4-compatible): plain hex. */
	expect_text("64:ff9b::192.0.2.33", "64:ff9b::c000:221");
	expect_text("::fffe:1.2.3.4", "::fffe:102:304");
}
END_TEST

START_TEST(text_parse_writes_the_exact_bytes)
{
	struct us_ip6 a;
	ck_assert_int_eq(us_ip6_parse_text("2001:db8:1:2:3:4:5:6", &a), 0);
	struct us_ip6 want = ip6("2001 0db8 0001 0002 0003 0004 0005 0006");
	ck_assert_mem_eq(a.b, want.b, 16);
	ck_assert_int_eq(us_ip6_parse_text("::ffff:192.0.2.1", &a), 0);
	want = ip6("0000 0000 0000 0000 0000 ffff c000 0201");
	ck_assert_mem_eq(a.b, want.b, 16);
	ck_assert_int_eq(us_ip6_parse_text("fe80::1", &a), 0);
	want = ip6("fe80 0000 0000 0000 0000 0000 0000 0001");
	ck_assert_mem_eq(a.b, want.b, 16);
}
END_TEST

START_TEST(text_refuses_malformed_addresses)
{
	static const char *const bad[] = {
		"", ":", ":::", "1:::2", "::1:::", "1::2::3", "::1::", "1::2::",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
		"1::2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8", "12345::", "::12345", "02001::", "1:",
		":1", ":1::", "1::2:", "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7:8", "g::", "::g",
		"1:2:3:4:5:6:7:g", "::ffff:1.2.3", "::ffff:256.1.1.1", "::ffff:1.2.3.4:5",
		"::ffff:1.2.3.4.5", "::ffff:01.2.3.4", "1.2.3.4", "1.2.3.4::", "::1.2.3.4:1",
		"1:2:3:4:5:6:7:1.2.3.4", "1::2:3:4:5:6:1.2.3.4", "1:2:3:4:5:1.2.3.4",
		"fe80::1%eth0", "::/64", "2001:db8::/32", "[::1]", " ::1", "::1 ", ":: 1",
		"-1::", "+1::", "0x1::", "1::2:3:4:5:6:7:8:9",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct us_ip6 a;
		memset(&a, 0xaa, sizeof a);
		ck_assert_msg(us_ip6_parse_text(bad[i], &a) == US_WIRE_BAD_FIELD,
			      "\"%s\" accepted", bad[i]);
		for (int k = 0; k < 16; k++)
			ck_assert_msg(a.b[k] == 0xaa, "\"%s\" wrote the output", bad[i]);
	}
}
END_TEST

START_TEST(text_format_and_parse_round_trip)
{
	uint32_t r = 0x2545f491u;
	for (int i = 0; i < 5000; i++) {
		struct us_ip6 a, back;
		for (int k = 0; k < 8; k++) {
			r = r * 1664525u + 1013904223u;
			/* Mostly zero groups, so that runs of every length occur. */
			uint16_t g = (r >> 28) < 10 ? 0 : (uint16_t)(r >> 8);
			a.b[2 * k] = (uint8_t)(g >> 8);
			a.b[2 * k + 1] = (uint8_t)g;
		}
		char buf[US_IP6_TEXT_MAX];
		size_t n = us_ip6_format(&a, buf);
		ck_assert_uint_eq(n, strlen(buf));
		ck_assert_uint_le(n, 39);
		ck_assert_msg(us_ip6_parse_text(buf, &back) == 0, "\"%s\" refused", buf);
		ck_assert_msg(memcmp(a.b, back.b, 16) == 0, "\"%s\" did not round-trip", buf);
		ck_assert_msg(strstr(buf, ":::") == NULL, "\"%s\"", buf);
	}
}
END_TEST

/* clang-format on */

Suite *us_test_suite(void)
{
	Suite *s = suite_create("wire_ipv6");
	TCase *p = tcase_create("fixed");
	tcase_add_test(p, udp_packet_yields_every_field);
	tcase_add_test(p, every_length_below_40_is_truncated);
	tcase_add_test(p, version_other_than_6_is_bad_version);
	tcase_add_test(p, payload_length_past_the_buffer_is_bad_total_len);
	tcase_add_test(p, payload_length_zero_jumbogram_is_bad_total_len);
	tcase_add_test(p, ethernet_padding_after_payload_length_is_trimmed);
	tcase_add_test(p, quoted_packet_may_be_cut_short);
	tcase_add_test(p, emit_writes_the_exact_fixed_header);
	tcase_add_test(p, emit_refuses_small_buffer_and_wide_flow_label);
	tcase_add_test(p, emitted_header_parses_back);
	tcase_add_test(p, fragment_header_yields_offset_in_bytes_m_and_id);
	tcase_add_test(p, fragment_header_emit_writes_exact_bytes);
	suite_add_tcase(s, p);

	TCase *w = tcase_create("walk");
	tcase_add_test(w, walk_without_extension_headers_finds_the_upper_layer);
	tcase_add_test(w, hop_by_hop_router_alert_is_recorded);
	tcase_add_test(w, hop_by_hop_after_another_header_is_ext_bad_order);
	tcase_add_test(w, full_chain_reports_every_header_and_offset);
	tcase_add_test(w, routing_header_with_segments_left_is_recorded_not_acted_on);
	tcase_add_test(w, non_first_fragment_ends_the_walk);
	tcase_add_test(w, first_fragment_ends_the_walk_after_an_unfragmentable_header);
	tcase_add_test(w, no_next_header_ignores_what_follows);
	tcase_add_test(w, ah_length_counts_four_octet_units_plus_two);
	tcase_add_test(w, esp_stops_the_walk);
	tcase_add_test(w, extension_header_past_the_payload_is_ext_past_end);
	tcase_add_test(w, extension_header_cut_at_every_length_is_ext_past_end);
	tcase_add_test(w, eight_extension_headers_are_walked_and_a_ninth_is_too_many);
	tcase_add_test(w, unknown_option_with_00_bits_is_skipped);
	tcase_add_test(w, unknown_option_high_bits_give_the_action_and_pointer);
	tcase_add_test(w, jumbo_payload_option_in_a_normal_packet_is_an_unknown_11_option);
	tcase_add_test(w, first_option_action_wins_and_later_bytes_are_not_examined);
	tcase_add_test(w, option_running_past_its_header_is_opt_past_end);
	tcase_add_test(w, router_alert_of_wrong_length_is_opt_bad_len);
	tcase_add_test(w, pad1_only_options_are_fine);
	suite_add_tcase(s, w);

	TCase *a = tcase_create("addresses");
	tcase_add_test(a, address_classes);
	tcase_add_test(a, solicited_node_address_takes_the_low_24_bits);
	tcase_add_test(a, link_local_from_mac_uses_modified_eui64);
	tcase_add_test(a, text_rfc_5952_section_2_forms_all_give_one_canonical_text);
	tcase_add_test(a, text_rfc_5952_section_4_rules);
	tcase_add_test(a, text_rfc_4291_section_2_2_examples);
	tcase_add_test(a, text_edges_of_the_compression);
	tcase_add_test(a, text_parse_writes_the_exact_bytes);
	tcase_add_test(a, text_refuses_malformed_addresses);
	tcase_add_test(a, text_format_and_parse_round_trip);
	suite_add_tcase(s, a);
	return s;
}

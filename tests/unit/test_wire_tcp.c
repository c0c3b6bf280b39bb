/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_wire_tcp.c - TCP on the wire (wire/tcp.h): segments as
 * Linux, macOS and Windows send them, every header and option error with its
 * own code, every option kind, emission in Linux's layout byte for byte, a
 * round trip over every combination of options, and tcpdump's flag notation.
 *
 * Read first: src/stack/wire/tcp.h. Checksums in the literals were computed
 * outside ustack.
 */
#include "harness.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/tcp.h"
#include "wire/wire.h"

#define PROTO_TCP 6 /* IP protocol number of TCP (RFC 9293 §3.1) */

#define IP_A 0x0a000001u /* 10.0.0.1, the client */
#define IP_B 0x0a000002u /* 10.0.0.2, the server */

/* Literal frames: kept as written, one field per line. */
/* clang-format off */
/* Linux 6.x `curl http://10.0.0.2/`: SYN from 10.0.0.1:45678. */
static const char linux_syn[] =
	"b2 6e 00 50"  /* source port 45678, destination port 80 */
	"3c 1a 5b 2e"  /* sequence number */
	"00 00 00 00"  /* acknowledgment number */
	"a0 02 fa f0"  /* data offset 10 (40 bytes), flags SYN, window 64240 */
	"b2 4d 00 00"  /* checksum b24d, urgent pointer 0 */
	"02 04 05 b4"  /* MSS 1460 */
	"04 02"        /* SACK permitted */
	"08 0a 00 9b 3c 1d 00 00 00 00"  /* timestamps, TSval 0x009b3c1d, TSecr 0 */
	"01"           /* NOP */
	"03 03 07";    /* window scale 7 */

/* The server's SYN-ACK. */
static const char linux_syn_ack[] =
	"00 50 b2 6e"  /* 80 -> 45678 */
	"8f 3e 1a 07"  /* sequence number */
	"3c 1a 5b 2f"  /* acknowledgment number: the SYN's + 1 */
	"a0 12 fe 88"  /* data offset 10, flags SYN|ACK, window 65160 */
	"9d 21 00 00"  /* checksum 9d21 */
	"02 04 05 b4 04 02 08 0a 5e 2c 0a 11 00 9b 3c 1d 01 03 03 07";

/* The client's request: PSH|ACK with NOP,NOP,TS and 34 bytes of data. */
static const char linux_data[] =
	"b2 6e 00 50"
	"3c 1a 5b 2f"  /* sequence number */
	"8f 3e 1a 08"  /* acknowledgment number */
	"80 18 01 f6"  /* data offset 8 (32 bytes), flags PSH|ACK, window 502 */
	"2a dd 00 00"  /* checksum 2add */
	"01 01 08 0a 00 9b 3c 25 5e 2c 0a 11"  /* NOP, NOP, TS 0x009b3c25 0x5e2c0a11 */
	"47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a"  /* GET / HTTP/1.1 */
	"48 6f 73 74 3a 20 31 30 2e 30 2e 30 2e 32 0d 0a"  /* Host: 10.0.0.2 */
	"0d 0a";

/* An ACK carrying one SACK block, as Linux lays it out. */
static const char linux_sack[] =
	"00 50 b2 6e"
	"8f 3e 1a 08"
	"3c 1a 5b 2f"
	"b0 10 01 fb"  /* data offset 11 (44 bytes), ACK, window 507 */
	"53 79 00 00"  /* checksum 5379 */
	"01 01 08 0a 5e 2c 0b 00 00 9b 3c 30"  /* NOP, NOP, TS */
	"01 01 05 0a 3c 1a 60 00 3c 1a 65 b4"; /* NOP, NOP, SACK 0x3c1a6000-0x3c1a65b4 */

/* macOS over IPv6, [2001:db8::a]:61906 -> [2001:db8::b]:443: its own order,
 * and EOL padding at the end. */
static const char macos_syn6[] =
	"f1 d2 01 bb"
	"9a 8b 7c 6d"
	"00 00 00 00"
	"b0 02 ff ff"  /* data offset 11, SYN, window 65535 */
	"67 cd 00 00"  /* checksum 67cd */
	"02 04 05 a0"  /* MSS 1440 */
	"01 03 03 06"  /* NOP, window scale 6 */
	"01 01 08 0a 4d 2a 1c 0b 00 00 00 00"  /* NOP, NOP, TS */
	"04 02"        /* SACK permitted */
	"00 00";       /* EOL, padding */

/* Windows, 198.51.100.10:50011 -> 198.51.100.1:443, asking for ECN. */
static const char windows_syn[] =
	"c3 5b 01 bb"
	"1a 2b 3c 4d"
	"00 00 00 00"
	"80 c2 fa f0"  /* data offset 8, SYN|ECE|CWR, window 64240 */
	"03 5e 00 00"  /* checksum 035e */
	"02 04 05 b4"  /* MSS 1460 */
	"01 03 03 08"  /* NOP, window scale 8 */
	"01 01 04 02"; /* NOP, NOP, SACK permitted */
/* clang-format on */

static uint32_t ps_ab(size_t len)
{
	return us_csum_pseudo4(IP_A, IP_B, PROTO_TCP, (uint32_t)len);
}

/*
 * A 20-byte header (ports 1 -> 2, ACK) followed by the given options,
 * whose length must be a multiple of 4; the data offset covers them.
 */
static size_t seg_with_opts(uint8_t *b, size_t cap, const char *opts_hex)
{
	size_t n =
	    us_test_hex("00 01 00 02 00 00 00 01 00 00 00 02 50 10 10 00 00 00 00 00", b, cap);
	size_t o = us_test_hex(opts_hex, b + n, cap - n);

	ck_assert_msg(o % 4 == 0, "options must fill whole words");
	b[12] = (uint8_t)((n + o) / 4 << 4);
	return n + o;
}

static int parse_opts_hex(const char *opts_hex, struct us_tcp_hdr *h)
{
	uint8_t b[64];
	size_t n = seg_with_opts(b, sizeof b, opts_hex);

	return us_tcp_parse(b, n, h);
}

/* ---- Real segments ----------------------------------------------------- */

START_TEST(linux_syn_parses)
{
	uint8_t b[64];
	size_t n = us_test_hex(linux_syn, b, sizeof b);
	struct us_tcp_hdr h;
	char f[9];

	ck_assert_uint_eq(n, 40);
	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.sport, 45678);
	ck_assert_uint_eq(h.dport, 80);
	ck_assert_uint_eq(h.seq, 0x3c1a5b2e);
	ck_assert_uint_eq(h.ack, 0);
	ck_assert_uint_eq(h.hdr_len, 40);
	ck_assert_uint_eq(h.flags, US_TCP_SYN);
	ck_assert_str_eq(us_tcp_flags_str(h.flags, f), "S");
	ck_assert_uint_eq(h.window, 64240);
	ck_assert_uint_eq(h.checksum, 0xb24d);
	ck_assert_uint_eq(h.urgent, 0);
	ck_assert(h.opts.has_mss);
	ck_assert_uint_eq(h.opts.mss, 1460);
	ck_assert(h.opts.sack_permitted);
	ck_assert(h.opts.has_ts);
	ck_assert_uint_eq(h.opts.ts_val, 0x009b3c1d);
	ck_assert_uint_eq(h.opts.ts_ecr, 0);
	ck_assert(h.opts.has_wscale);
	ck_assert_uint_eq(h.opts.wscale, 7);
	ck_assert(!h.opts.wscale_clamped);
	ck_assert_uint_eq(h.opts.sack_count, 0);
	ck_assert_ptr_eq(h.payload, b + 40);
	ck_assert_uint_eq(h.payload_len, 0);
	ck_assert(us_tcp_csum_ok(b, n, ps_ab(n)));
}
END_TEST

START_TEST(linux_syn_ack_parses)
{
	uint8_t b[64];
	size_t n = us_test_hex(linux_syn_ack, b, sizeof b);
	struct us_tcp_hdr h;
	char f[9];

	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.seq, 0x8f3e1a07);
	ck_assert_uint_eq(h.ack, 0x3c1a5b2f);
	ck_assert_str_eq(us_tcp_flags_str(h.flags, f), "S.");
	ck_assert_uint_eq(h.window, 65160);
	ck_assert_uint_eq(h.opts.ts_val, 0x5e2c0a11);
	ck_assert_uint_eq(h.opts.ts_ecr, 0x009b3c1d);
	ck_assert_uint_eq(h.opts.wscale, 7);
	ck_assert(us_tcp_csum_ok(b, n, us_csum_pseudo4(IP_B, IP_A, PROTO_TCP, (uint32_t)n)));
}
END_TEST

START_TEST(linux_data_segment_gives_its_payload)
{
	uint8_t b[80];
	size_t n = us_test_hex(linux_data, b, sizeof b);
	struct us_tcp_hdr h;
	char f[9];

	ck_assert_uint_eq(n, 66);
	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 32);
	ck_assert_str_eq(us_tcp_flags_str(h.flags, f), "P.");
	ck_assert(!h.opts.has_mss);
	ck_assert(!h.opts.sack_permitted);
	ck_assert(!h.opts.has_wscale);
	ck_assert(h.opts.has_ts);
	ck_assert_uint_eq(h.opts.ts_val, 0x009b3c25);
	ck_assert_ptr_eq(h.payload, b + 32);
	ck_assert_uint_eq(h.payload_len, 34);
	ck_assert_mem_eq(h.payload, "GET / HTTP/1.1\r\n", 16);
	ck_assert(us_tcp_csum_ok(b, n, ps_ab(n)));
}
END_TEST

START_TEST(linux_sack_block_parses)
{
	uint8_t b[64];
	size_t n = us_test_hex(linux_sack, b, sizeof b);
	struct us_tcp_hdr h;

	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 44);
	ck_assert_uint_eq(h.opts.sack_count, 1);
	ck_assert_uint_eq(h.opts.sack[0].left, 0x3c1a6000);
	ck_assert_uint_eq(h.opts.sack[0].right, 0x3c1a65b4);
	ck_assert(h.opts.has_ts);
	ck_assert(us_tcp_csum_ok(b, n, us_csum_pseudo4(IP_B, IP_A, PROTO_TCP, (uint32_t)n)));
}
END_TEST

START_TEST(macos_syn_over_ipv6_parses_up_to_eol)
{
	static const struct us_ip6 src = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x0a}};
	static const struct us_ip6 dst = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x0b}};
	uint8_t b[64];
	size_t n = us_test_hex(macos_syn6, b, sizeof b);
	struct us_tcp_hdr h;

	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.opts.mss, 1440);
	ck_assert_uint_eq(h.opts.wscale, 6);
	ck_assert(h.opts.sack_permitted);
	ck_assert_uint_eq(h.opts.ts_val, 0x4d2a1c0b);
	ck_assert(us_tcp_csum_ok(b, n, us_csum_pseudo6(&src, &dst, PROTO_TCP, (uint32_t)n)));
	ck_assert(!us_tcp_csum_ok(b, n, ps_ab(n)));
}
END_TEST

START_TEST(windows_ecn_syn_parses)
{
	uint8_t b[64];
	size_t n = us_test_hex(windows_syn, b, sizeof b);
	struct us_tcp_hdr h;
	char f[9];

	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.flags, US_TCP_SYN | US_TCP_ECE | US_TCP_CWR);
	ck_assert_str_eq(us_tcp_flags_str(h.flags, f), "SEW");
	ck_assert_uint_eq(h.opts.mss, 1460);
	ck_assert_uint_eq(h.opts.wscale, 8);
	ck_assert(h.opts.sack_permitted);
	ck_assert(!h.opts.has_ts);
	ck_assert(
	    us_tcp_csum_ok(b, n, us_csum_pseudo4(0xc633640a, 0xc6336401, PROTO_TCP, (uint32_t)n)));
}
END_TEST

START_TEST(every_single_bit_flip_fails_the_checksum)
{
	uint8_t b[80];
	size_t n = us_test_hex(linux_data, b, sizeof b);

	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			ck_assert(!us_tcp_csum_ok(b, n, ps_ab(n)));
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert(us_tcp_csum_ok(b, n, ps_ab(n)));
	ck_assert(!us_tcp_csum_ok(b, 19, ps_ab(n)));
}
END_TEST

START_TEST(parse_does_not_verify_the_checksum)
{
	uint8_t b[64];
	size_t n = us_test_hex(linux_syn, b, sizeof b);
	struct us_tcp_hdr h;

	b[16] ^= 0xff;
	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert(!us_tcp_csum_ok(b, n, ps_ab(n)));
}
END_TEST

/* ---- Header errors ----------------------------------------------------- */

START_TEST(truncated_at_every_length_below_20)
{
	uint8_t b[64];
	struct us_tcp_hdr h;

	us_test_hex(linux_syn, b, sizeof b);
	for (size_t len = 0; len < 20; len++)
		ck_assert_int_eq(us_tcp_parse(b, len, &h), US_WIRE_TRUNCATED);
}
END_TEST

START_TEST(data_offset_below_5_is_bad)
{
	uint8_t b[64];
	size_t n = us_test_hex(linux_syn, b, sizeof b);
	struct us_tcp_hdr h;

	for (unsigned doff = 0; doff < 5; doff++) {
		b[12] = (uint8_t)(doff << 4);
		ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_BAD_HDR_LEN);
	}
	b[12] = 5 << 4; /* no options: the option bytes become payload */
	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 20);
	ck_assert_uint_eq(h.payload_len, 20);
	ck_assert(!h.opts.has_mss);
}
END_TEST

START_TEST(data_offset_past_the_segment_is_bad)
{
	uint8_t b[64];
	size_t n = us_test_hex(linux_syn, b, sizeof b);
	struct us_tcp_hdr h;

	/* data offset 10 needs 40 bytes: every shorter segment lies */
	for (size_t len = 20; len < n; len++)
		ck_assert_int_eq(us_tcp_parse(b, len, &h), US_WIRE_HDR_PAST_END);
	b[12] = 0xf0; /* data offset 15: 60 bytes */
	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_HDR_PAST_END);
}
END_TEST

START_TEST(reserved_bits_are_ignored)
{
	uint8_t b[64];
	size_t n = us_test_hex(linux_syn, b, sizeof b);
	struct us_tcp_hdr h;

	b[12] |= 0x0f;
	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 40);
	ck_assert_uint_eq(h.flags, US_TCP_SYN);
}
END_TEST

/* ---- Option errors ----------------------------------------------------- */

START_TEST(option_length_0_or_1_is_bad)
{
	struct us_tcp_hdr h;

	/* RFC 9293 §3.1 MUST-7: an illegal option length, e.g. zero */
	ck_assert_int_eq(parse_opts_hex("02 00 05 b4", &h), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("02 01 05 b4", &h), US_WIRE_OPT_BAD_LEN);
	/* for unknown kinds too: nothing could be skipped */
	ck_assert_int_eq(parse_opts_hex("fe 00 00 00", &h), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("1e 01 00 00", &h), US_WIRE_OPT_BAD_LEN);
	/* after valid options */
	ck_assert_int_eq(parse_opts_hex("01 01 04 02 08 00 00 00", &h), US_WIRE_OPT_BAD_LEN);
}
END_TEST

START_TEST(option_without_room_for_its_length_byte_is_past_the_end)
{
	struct us_tcp_hdr h;

	ck_assert_int_eq(parse_opts_hex("01 01 01 02", &h), US_WIRE_OPT_PAST_END);
	ck_assert_int_eq(parse_opts_hex("01 01 01 fe", &h), US_WIRE_OPT_PAST_END);
}
END_TEST

START_TEST(option_running_past_the_header_is_bad)
{
	struct us_tcp_hdr h;
	uint8_t b[80];
	size_t n;

	ck_assert_int_eq(parse_opts_hex("02 08 05 b4", &h), US_WIRE_OPT_PAST_END);
	/* NOP x3 then a 10-byte TS in a 12-byte area */
	ck_assert_int_eq(parse_opts_hex("01 01 01 08 0a 00 00 00 01 00 00 00", &h),
			 US_WIRE_OPT_PAST_END);
	ck_assert_int_eq(parse_opts_hex("01 1e 04 00", &h), US_WIRE_OPT_PAST_END);
	/* the header ends where the data offset says, even with data after
	 * it: the option may not reach into the payload */
	n = seg_with_opts(b, sizeof b, "01 01 08 0a");
	memset(b + n, 0, 8);
	ck_assert_int_eq(us_tcp_parse(b, n + 8, &h), US_WIRE_OPT_PAST_END);
}
END_TEST

START_TEST(known_kinds_with_the_wrong_length_are_bad)
{
	struct us_tcp_hdr h;

	/* MSS must be 4 */
	ck_assert_int_eq(parse_opts_hex("02 03 05 01", &h), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("02 05 05 b4 00 01 01 01", &h), US_WIRE_OPT_BAD_LEN);
	/* window scale must be 3 */
	ck_assert_int_eq(parse_opts_hex("03 02 01 01", &h), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("03 04 07 00", &h), US_WIRE_OPT_BAD_LEN);
	/* SACK-permitted must be 2 */
	ck_assert_int_eq(parse_opts_hex("04 03 00 01", &h), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("04 04 00 00", &h), US_WIRE_OPT_BAD_LEN);
	/* timestamps must be 10 */
	ck_assert_int_eq(parse_opts_hex("08 08 00 00 00 01 00 00 00 00 00 00", &h),
			 US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("08 0c 00 00 00 01 00 00 00 02 00 00", &h),
			 US_WIRE_OPT_BAD_LEN);
	/* SACK must be 2 + 8n, n = 1..4 */
	ck_assert_int_eq(parse_opts_hex("05 02 01 01", &h), US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("05 09 00 00 00 01 00 00 00 02 00 00", &h),
			 US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("05 0b 00 00 00 01 00 00 00 02 00 00", &h),
			 US_WIRE_OPT_BAD_LEN);
	ck_assert_int_eq(parse_opts_hex("05 0a 00 00 00 01 00 00 00 02 01 01", &h), US_WIRE_OK);
}
END_TEST

/* ---- Every option kind ------------------------------------------------- */

START_TEST(eol_ends_the_list_and_hides_what_follows)
{
	struct us_tcp_hdr h;

	/* after EOL, even bytes that would be errors are padding */
	ck_assert_int_eq(parse_opts_hex("02 04 05 b4 00 00 ff 00", &h), US_WIRE_OK);
	ck_assert(h.opts.has_mss);
	ck_assert_uint_eq(h.opts.mss, 1460);
	ck_assert_int_eq(parse_opts_hex("00 02 04 05", &h), US_WIRE_OK);
	ck_assert(!h.opts.has_mss);
}
END_TEST

START_TEST(nops_alone_are_fine)
{
	struct us_tcp_hdr h;

	ck_assert_int_eq(parse_opts_hex("01 01 01 01 01 01 01 01", &h), US_WIRE_OK);
	ck_assert(!h.opts.has_mss && !h.opts.has_ts && !h.opts.has_wscale);
	ck_assert(!h.opts.sack_permitted);
	ck_assert_uint_eq(h.opts.sack_count, 0);
	ck_assert_uint_eq(h.hdr_len, 28);
}
END_TEST

START_TEST(unaligned_options_parse)
{
	struct us_tcp_hdr h;

	/* RFC 9293 §3.2 MUST-64: options need not begin on a word boundary */
	ck_assert_int_eq(parse_opts_hex("01 03 03 02 08 0a 00 00 00 05 00 00 00 06 02 04"
					"02 18 04 02",
					&h),
			 US_WIRE_OK);
	ck_assert_uint_eq(h.opts.wscale, 2);
	ck_assert_uint_eq(h.opts.ts_val, 5);
	ck_assert_uint_eq(h.opts.ts_ecr, 6);
	ck_assert_uint_eq(h.opts.mss, 0x0218);
	ck_assert(h.opts.sack_permitted);
}
END_TEST

START_TEST(window_scale_above_14_is_clamped)
{
	struct us_tcp_hdr h;

	/* RFC 7323 §2.3: "MUST use 14 instead of the specified value" */
	ck_assert_int_eq(parse_opts_hex("01 03 03 0f", &h), US_WIRE_OK);
	ck_assert(h.opts.has_wscale);
	ck_assert_uint_eq(h.opts.wscale, 14);
	ck_assert(h.opts.wscale_clamped);
	ck_assert_int_eq(parse_opts_hex("01 03 03 ff", &h), US_WIRE_OK);
	ck_assert_uint_eq(h.opts.wscale, 14);
	ck_assert(h.opts.wscale_clamped);
	ck_assert_int_eq(parse_opts_hex("01 03 03 0e", &h), US_WIRE_OK);
	ck_assert_uint_eq(h.opts.wscale, 14);
	ck_assert(!h.opts.wscale_clamped);
	ck_assert_int_eq(parse_opts_hex("01 03 03 00", &h), US_WIRE_OK);
	ck_assert(h.opts.has_wscale);
	ck_assert_uint_eq(h.opts.wscale, 0);
}
END_TEST

START_TEST(four_sack_blocks_fill_the_header)
{
	uint8_t b[64];
	size_t n = seg_with_opts(b, sizeof b,
				 "01 01 05 22" /* NOP, NOP, SACK, 34 bytes */
				 "00 00 00 10 00 00 00 20"
				 "00 00 00 30 00 00 00 40"
				 "00 00 00 50 00 00 00 60"
				 "ff ff ff f0 00 00 00 10" /* wraps around 2^32 */
				 "00 00 00 00");	   /* EOL padding */
	struct us_tcp_hdr h;

	ck_assert_uint_eq(n, 60);
	ck_assert_int_eq(us_tcp_parse(b, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 60);
	ck_assert_uint_eq(h.opts.sack_count, 4);
	ck_assert_uint_eq(h.opts.sack[0].left, 0x10);
	ck_assert_uint_eq(h.opts.sack[0].right, 0x20);
	ck_assert_uint_eq(h.opts.sack[2].right, 0x60);
	ck_assert_uint_eq(h.opts.sack[3].left, 0xfffffff0);
	ck_assert_uint_eq(h.opts.sack[3].right, 0x10);
}
END_TEST

START_TEST(unknown_kinds_are_skipped_by_their_length)
{
	struct us_tcp_hdr h;

	/* RFC 9293 §3.1 MUST-6: ignore without error an option not implemented */
	ck_assert_int_eq(parse_opts_hex("1e 04 20 01"	     /* MPTCP (30), 4 bytes */
					"22 02"		     /* TFO cookie request (34), 2 bytes */
					"02 04 05 78"	     /* MSS 1400 */
					"fd 06 f9 89 00 00", /* experimental (253), RFC 6994 */
					&h),
			 US_WIRE_OK);
	ck_assert(h.opts.has_mss);
	ck_assert_uint_eq(h.opts.mss, 1400);
	/* TCP-MD5 (19), 18 bytes, its digest full of would-be kinds */
	ck_assert_int_eq(parse_opts_hex("13 12 02 00 03 00 05 00 08 00 00 00 00 00 00 00"
					"00 00 01 01",
					&h),
			 US_WIRE_OK);
	ck_assert(!h.opts.has_mss && !h.opts.has_wscale && !h.opts.has_ts);
	ck_assert_uint_eq(h.opts.sack_count, 0);
}
END_TEST

START_TEST(a_repeated_option_keeps_the_last_value)
{
	struct us_tcp_hdr h;

	ck_assert_int_eq(parse_opts_hex("02 04 05 b4 02 04 02 18", &h), US_WIRE_OK);
	ck_assert_uint_eq(h.opts.mss, 536);
}
END_TEST

START_TEST(parse_clears_options_from_a_previous_segment)
{
	struct us_tcp_hdr h;

	ck_assert_int_eq(parse_opts_hex("02 04 05 b4 01 03 03 0f", &h), US_WIRE_OK);
	ck_assert(h.opts.has_mss && h.opts.wscale_clamped);
	ck_assert_int_eq(parse_opts_hex("01 01 01 01", &h), US_WIRE_OK);
	ck_assert(!h.opts.has_mss);
	ck_assert(!h.opts.has_wscale);
	ck_assert(!h.opts.wscale_clamped);
}
END_TEST

/* ---- Emission ---------------------------------------------------------- */

START_TEST(emit_reproduces_the_linux_syn)
{
	uint8_t want[64], b[64];
	size_t n = us_test_hex(linux_syn, want, sizeof want);
	struct us_tcp_hdr h = {
	    .sport = 45678,
	    .dport = 80,
	    .seq = 0x3c1a5b2e,
	    .flags = US_TCP_SYN,
	    .window = 64240,
	    .hdr_len = 99, /* not read */
	    .opts =
		{
		    .has_mss = true,
		    .mss = 1460,
		    .sack_permitted = true,
		    .has_ts = true,
		    .ts_val = 0x009b3c1d,
		    .has_wscale = true,
		    .wscale = 7,
		},
	};

	memset(b, 0xee, sizeof b);
	ck_assert_uint_eq(us_tcp_opts_len(&h.opts), 20);
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 40);
	us_tcp_csum_fill(b, 40, ps_ab(40));
	ck_assert_mem_eq(b, want, n);
	ck_assert_uint_eq(b[40], 0xee);
}
END_TEST

START_TEST(emit_reproduces_the_linux_data_segment)
{
	uint8_t want[80], b[80];
	size_t n = us_test_hex(linux_data, want, sizeof want);
	struct us_tcp_hdr h = {
	    .sport = 45678,
	    .dport = 80,
	    .seq = 0x3c1a5b2f,
	    .ack = 0x8f3e1a08,
	    .flags = US_TCP_PSH | US_TCP_ACK,
	    .window = 502,
	    .opts = {.has_ts = true, .ts_val = 0x009b3c25, .ts_ecr = 0x5e2c0a11},
	};
	size_t hl = us_tcp_emit(&h, b, sizeof b);

	ck_assert_uint_eq(hl, 32);
	memcpy(b + hl, "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n", 34);
	us_tcp_csum_fill(b, hl + 34, ps_ab(hl + 34));
	ck_assert_uint_eq(hl + 34, n);
	ck_assert_mem_eq(b, want, n);
}
END_TEST

START_TEST(emit_reproduces_the_linux_sack)
{
	uint8_t want[64], b[64];
	size_t n = us_test_hex(linux_sack, want, sizeof want);
	struct us_tcp_hdr h = {
	    .sport = 80,
	    .dport = 45678,
	    .seq = 0x8f3e1a08,
	    .ack = 0x3c1a5b2f,
	    .flags = US_TCP_ACK,
	    .window = 507,
	    .opts =
		{
		    .has_ts = true,
		    .ts_val = 0x5e2c0b00,
		    .ts_ecr = 0x009b3c30,
		    .sack_count = 1,
		    .sack = {{0x3c1a6000, 0x3c1a65b4}},
		},
	};

	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 44);
	us_tcp_csum_fill(b, 44, us_csum_pseudo4(IP_B, IP_A, PROTO_TCP, 44));
	ck_assert_mem_eq(b, want, n);
}
END_TEST

START_TEST(emit_lays_out_each_option_as_linux_does)
{
	uint8_t b[64], want[64];
	size_t n;
	struct us_tcp_hdr h = {.flags = US_TCP_ACK};

	/* no options: a bare 20-byte header */
	n = us_test_hex("00 00 00 00 00 00 00 00 00 00 00 00 50 10 00 00 00 00 00 00", want,
			sizeof want);
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), n);
	ck_assert_mem_eq(b, want, n);

	/* SACK-permitted without timestamps: NOP, NOP, SACK-permitted */
	h.opts = (struct us_tcp_opts){.sack_permitted = true};
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 24);
	ck_assert_uint_eq(b[12], 0x60);
	n = us_test_hex("01 01 04 02", want, sizeof want);
	ck_assert_mem_eq(b + 20, want, n);

	/* window scale alone: NOP, WS */
	h.opts = (struct us_tcp_opts){.has_wscale = true, .wscale = 14};
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 24);
	n = us_test_hex("01 03 03 0e", want, sizeof want);
	ck_assert_mem_eq(b + 20, want, n);

	/* MSS and SACK-permitted: MSS, NOP, NOP, SACK-permitted */
	h.opts = (struct us_tcp_opts){.has_mss = true, .mss = 536, .sack_permitted = true};
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 28);
	n = us_test_hex("02 04 02 18 01 01 04 02", want, sizeof want);
	ck_assert_mem_eq(b + 20, want, n);

	/* two SACK blocks: NOP, NOP, SACK len 18 */
	h.opts = (struct us_tcp_opts){.sack_count = 2, .sack = {{1, 2}, {3, 4}}};
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 40);
	n = us_test_hex("01 01 05 12 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04", want,
			sizeof want);
	ck_assert_mem_eq(b + 20, want, n);
}
END_TEST

START_TEST(emit_writes_every_fixed_field)
{
	uint8_t b[20], want[20];
	struct us_tcp_hdr h = {
	    .sport = 0x1234,
	    .dport = 0xfedc,
	    .seq = 0x89abcdef,
	    .ack = 0x01234567,
	    .flags = 0xff,
	    .window = 0xbeef,
	    .checksum = 0xcafe,
	    .urgent = 0x0102,
	};

	us_test_hex("12 34 fe dc 89 ab cd ef 01 23 45 67 50 ff be ef ca fe 01 02", want,
		    sizeof want);
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 20);
	ck_assert_mem_eq(b, want, 20);
}
END_TEST

START_TEST(opts_len_counts_each_option)
{
	struct us_tcp_opts o = {0};

	ck_assert_uint_eq(us_tcp_opts_len(&o), 0);
	o.has_mss = true;
	ck_assert_uint_eq(us_tcp_opts_len(&o), 4);
	o.sack_permitted = true;
	ck_assert_uint_eq(us_tcp_opts_len(&o), 8);
	o.has_ts = true; /* sackOK now shares a word pair with TS */
	ck_assert_uint_eq(us_tcp_opts_len(&o), 16);
	o.has_wscale = true;
	ck_assert_uint_eq(us_tcp_opts_len(&o), 20);
	o.sack_count = 3;
	ck_assert_uint_eq(us_tcp_opts_len(&o), 48); /* too long to send */
	o = (struct us_tcp_opts){.has_ts = true, .sack_count = 3};
	ck_assert_uint_eq(us_tcp_opts_len(&o), 40);
}
END_TEST

START_TEST(emit_refuses_what_cannot_fit)
{
	uint8_t b[64];
	struct us_tcp_hdr h = {.flags = US_TCP_ACK};

	/* TS and 3 SACK blocks: exactly 40 bytes, data offset 15 */
	h.opts = (struct us_tcp_opts){.has_ts = true, .sack_count = 3};
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 60);
	ck_assert_uint_eq(b[12], 0xf0);
	ck_assert_uint_eq(us_tcp_emit(&h, b, 59), 0);
	/* TS and 4 SACK blocks: 48 bytes */
	h.opts.sack_count = 4;
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 0);
	/* 4 SACK blocks alone: 36 bytes, fine */
	h.opts.has_ts = false;
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 56);
	/* more than 4 blocks is never valid */
	h.opts.sack_count = 5;
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 0);
	/* a window scale above 14 is never sent (RFC 7323 §2.3) */
	h.opts = (struct us_tcp_opts){.has_wscale = true, .wscale = 15};
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 0);
	h.opts.has_wscale = false; /* the value is not read when absent */
	ck_assert_uint_eq(us_tcp_emit(&h, b, sizeof b), 20);
	/* a bare header needs 20 bytes */
	ck_assert_uint_eq(us_tcp_emit(&h, b, 19), 0);
	ck_assert_uint_eq(us_tcp_emit(&h, b, 0), 0);
}
END_TEST

START_TEST(emit_then_parse_every_combination_of_options)
{
	uint8_t b[80];
	unsigned tried = 0, refused = 0;

	for (unsigned mask = 0; mask < 16; mask++) {
		for (unsigned sacks = 0; sacks <= US_TCP_MAX_SACK; sacks++) {
			struct us_tcp_hdr h = {
			    .sport = 443,
			    .dport = (uint16_t)(1000 + mask),
			    .seq = 0xfffffff0u + mask,
			    .ack = 0x01020304u * sacks,
			    .flags = (uint8_t)(US_TCP_ACK | (mask & 1 ? US_TCP_SYN : 0)),
			    .window = (uint16_t)(mask * 4099),
			    .urgent = 0,
			};
			struct us_tcp_hdr p;
			size_t ol, hl;

			h.opts.has_mss = mask & 1;
			h.opts.mss = (uint16_t)(1200 + mask);
			h.opts.has_wscale = (mask & 2) != 0;
			h.opts.wscale = (uint8_t)(mask % 15);
			h.opts.sack_permitted = (mask & 4) != 0;
			h.opts.has_ts = (mask & 8) != 0;
			h.opts.ts_val = 0x11111111u * mask;
			h.opts.ts_ecr = ~h.opts.ts_val;
			h.opts.sack_count = (uint8_t)sacks;
			for (unsigned i = 0; i < sacks; i++) {
				h.opts.sack[i].left = 0x1000u * (i + 1) + mask;
				h.opts.sack[i].right = 0x1000u * (i + 1) + 0x800u;
			}

			ol = us_tcp_opts_len(&h.opts);
			ck_assert_uint_eq(ol % 4, 0);
			hl = us_tcp_emit(&h, b, sizeof b);
			tried++;
			if (ol > US_TCP_MAX_OPT_LEN) {
				ck_assert_uint_eq(hl, 0);
				refused++;
				continue;
			}
			ck_assert_uint_eq(hl, 20 + ol);
			/* timestamps land 32-bit aligned, 2 bytes past a word */
			if (h.opts.has_ts)
				ck_assert_uint_eq(b[20 + (h.opts.has_mss ? 4 : 0) + 2],
						  US_TCP_OPT_TS);
			memcpy(b + hl, "xyz", 3);
			us_tcp_csum_fill(b, hl + 3, ps_ab(hl + 3));
			ck_assert(us_tcp_csum_ok(b, hl + 3, ps_ab(hl + 3)));

			ck_assert_int_eq(us_tcp_parse(b, hl + 3, &p), US_WIRE_OK);
			ck_assert_uint_eq(p.hdr_len, hl);
			ck_assert_uint_eq(p.sport, h.sport);
			ck_assert_uint_eq(p.dport, h.dport);
			ck_assert_uint_eq(p.seq, h.seq);
			ck_assert_uint_eq(p.ack, h.ack);
			ck_assert_uint_eq(p.flags, h.flags);
			ck_assert_uint_eq(p.window, h.window);
			ck_assert_uint_eq(p.payload_len, 3);
			ck_assert_mem_eq(p.payload, "xyz", 3);
			ck_assert(p.opts.has_mss == h.opts.has_mss);
			if (h.opts.has_mss)
				ck_assert_uint_eq(p.opts.mss, h.opts.mss);
			ck_assert(p.opts.has_wscale == h.opts.has_wscale);
			if (h.opts.has_wscale)
				ck_assert_uint_eq(p.opts.wscale, h.opts.wscale);
			ck_assert(p.opts.sack_permitted == h.opts.sack_permitted);
			ck_assert(p.opts.has_ts == h.opts.has_ts);
			if (h.opts.has_ts) {
				ck_assert_uint_eq(p.opts.ts_val, h.opts.ts_val);
				ck_assert_uint_eq(p.opts.ts_ecr, h.opts.ts_ecr);
			}
			ck_assert_uint_eq(p.opts.sack_count, sacks);
			for (unsigned i = 0; i < sacks; i++) {
				ck_assert_uint_eq(p.opts.sack[i].left, h.opts.sack[i].left);
				ck_assert_uint_eq(p.opts.sack[i].right, h.opts.sack[i].right);
			}
		}
	}
	ck_assert_uint_eq(tried, 80);
	/* Over 40 bytes: with TS (12) and 4 blocks (36), all 8 masks; with TS
	 * and 3 blocks (28), the 6 masks that add MSS or WS; without TS, 4
	 * blocks plus two or three of MSS, WS, sackOK (4 each): 4 masks. */
	ck_assert_uint_eq(refused, 8 + 6 + 4);
}
END_TEST

START_TEST(fill_ignores_a_runt)
{
	uint8_t b[19];

	memset(b, 0x5a, sizeof b);
	us_tcp_csum_fill(b, sizeof b, 0);
	ck_assert_uint_eq(b[16], 0x5a);
	ck_assert_uint_eq(b[17], 0x5a);
}
END_TEST

/* ---- tcpdump flags ----------------------------------------------------- */

START_TEST(flags_print_as_tcpdump_does)
{
	char f[9];

	ck_assert_str_eq(us_tcp_flags_str(0, f), "none");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_SYN, f), "S");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_SYN | US_TCP_ACK, f), "S.");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_ACK, f), ".");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_FIN | US_TCP_ACK, f), "F.");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_PSH | US_TCP_ACK, f), "P.");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_RST, f), "R");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_RST | US_TCP_ACK, f), "R.");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_FIN | US_TCP_PSH | US_TCP_ACK, f), "FP.");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_URG | US_TCP_ACK, f), ".U");
	ck_assert_str_eq(us_tcp_flags_str(US_TCP_ECE | US_TCP_ACK, f), ".E");
	ck_assert_str_eq(us_tcp_flags_str(0xff, f), "FSRP.UEW");
	ck_assert_ptr_eq(us_tcp_flags_str(US_TCP_SYN, f), f);
	for (unsigned fl = 1; fl < 256; fl++)
		ck_assert_uint_eq(strlen(us_tcp_flags_str((uint8_t)fl, f)),
				  (size_t)__builtin_popcount(fl));
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("wire_tcp");
	TCase *real = tcase_create("real");
	TCase *err = tcase_create("errors");
	TCase *opt = tcase_create("options");
	TCase *emit = tcase_create("emit");

	tcase_add_test(real, linux_syn_parses);
	tcase_add_test(real, linux_syn_ack_parses);
	tcase_add_test(real, linux_data_segment_gives_its_payload);
	tcase_add_test(real, linux_sack_block_parses);
	tcase_add_test(real, macos_syn_over_ipv6_parses_up_to_eol);
	tcase_add_test(real, windows_ecn_syn_parses);
	tcase_add_test(real, every_single_bit_flip_fails_the_checksum);
	tcase_add_test(real, parse_does_not_verify_the_checksum);
	suite_add_tcase(s, real);

	tcase_add_test(err, truncated_at_every_length_below_20);
	tcase_add_test(err, data_offset_below_5_is_bad);
	tcase_add_test(err, data_offset_past_the_segment_is_bad);
	tcase_add_test(err, reserved_bits_are_ignored);
	tcase_add_test(err, option_length_0_or_1_is_bad);
	tcase_add_test(err, option_without_room_for_its_length_byte_is_past_the_end);
	tcase_add_test(err, option_running_past_the_header_is_bad);
	tcase_add_test(err, known_kinds_with_the_wrong_length_are_bad);
	suite_add_tcase(s, err);

	tcase_add_test(opt, eol_ends_the_list_and_hides_what_follows);
	tcase_add_test(opt, nops_alone_are_fine);
	tcase_add_test(opt, unaligned_options_parse);
	tcase_add_test(opt, window_scale_above_14_is_clamped);
	tcase_add_test(opt, four_sack_blocks_fill_the_header);
	tcase_add_test(opt, unknown_kinds_are_skipped_by_their_length);
	tcase_add_test(opt, a_repeated_option_keeps_the_last_value);
	tcase_add_test(opt, parse_clears_options_from_a_previous_segment);
	suite_add_tcase(s, opt);

	tcase_add_test(emit, emit_reproduces_the_linux_syn);
	tcase_add_test(emit, emit_reproduces_the_linux_data_segment);
	tcase_add_test(emit, emit_reproduces_the_linux_sack);
	tcase_add_test(emit, emit_lays_out_each_option_as_linux_does);
	tcase_add_test(emit, emit_writes_every_fixed_field);
	tcase_add_test(emit, opts_len_counts_each_option);
	tcase_add_test(emit, emit_refuses_what_cannot_fit);
	tcase_add_test(emit, emit_then_parse_every_combination_of_options);
	tcase_add_test(emit, fill_ignores_a_runt);
	tcase_add_test(emit, flags_print_as_tcpdump_does);
	suite_add_tcase(s, emit);
	return s;
}

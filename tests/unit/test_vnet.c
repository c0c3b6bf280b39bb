/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vnet.c - the virtio-net header of the TAP driver
 * (src/drivers/tap/vnet.c): decoding into struct us_rx_meta and encoding from
 * struct us_frame, on literal bytes annotated field by field (virtio 1.x
 * §5.1.6, struct virtio_net_hdr_v1, little-endian), and refusing what does
 * not make sense.
 *
 * Read include/ustack/tap.h first (the header's diagram).
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <ustack/tap.h>

START_TEST(decode_tso4_frame_with_partial_checksum)
{
	/* What tun hands a reader for a 45,000-byte TCP/IPv4 super-frame. */
	const uint8_t h[US_VNET_HDR_LEN] = {
		0x01,       /* flags: NEEDS_CSUM */
		0x01,       /* gso_type: TCPV4 */
		0x42, 0x00, /* hdr_len 66 */
		0xa8, 0x05, /* gso_size 1448 */
		0x22, 0x00, /* csum_start 34 */
		0x10, 0x00, /* csum_offset 16 */
		0x00, 0x00, /* num_buffers */
	};
	struct us_rx_meta m;
	ck_assert_int_eq(us_vnet_hdr_decode(h, 45066, &m), 0);
	ck_assert(m.csum_partial);
	ck_assert(!m.csum_valid);
	ck_assert_uint_eq(m.gso_type, US_GSO_TCPV4);
	ck_assert_uint_eq(m.hdr_len, 66);
	ck_assert_uint_eq(m.gso_size, 1448);
	ck_assert_uint_eq(m.csum_start, 34);
	ck_assert_uint_eq(m.csum_offset, 16);
}
END_TEST

START_TEST(decode_tso6_with_ecn_and_data_valid)
{
	const uint8_t h[US_VNET_HDR_LEN] = {
		0x02,       /* flags: DATA_VALID */
		0x84,       /* gso_type: TCPV6 | ECN */
		0x56, 0x00, /* hdr_len 86 */
		0x94, 0x05, /* gso_size 1428 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct us_rx_meta m;
	ck_assert_int_eq(us_vnet_hdr_decode(h, 20000, &m), 0);
	ck_assert(m.csum_valid);
	ck_assert(!m.csum_partial);
	ck_assert_uint_eq(m.gso_type, US_GSO_TCPV6);
	ck_assert_uint_eq(m.gso_size, 1428);
}
END_TEST

START_TEST(decode_plain_frame_is_all_zero)
{
	const uint8_t h[US_VNET_HDR_LEN] = { 0 };
	struct us_rx_meta m;
	memset(&m, 0xaa, sizeof m);
	ck_assert_int_eq(us_vnet_hdr_decode(h, 60, &m), 0);
	ck_assert(!m.csum_valid && !m.csum_partial);
	ck_assert_uint_eq(m.gso_type, US_GSO_NONE);
	ck_assert_uint_eq(m.gso_size, 0);
}
END_TEST

START_TEST(decode_refuses_ufo_unknown_flags_and_checksum_outside_the_frame)
{
	struct us_rx_meta m;
	const uint8_t ufo[US_VNET_HDR_LEN] = { 0x01, 0x03, 42, 0, 0xdc, 0x05, 34, 0, 6, 0 };
	ck_assert_int_eq(us_vnet_hdr_decode(ufo, 3000, &m), -EINVAL);
	const uint8_t unknown_type[US_VNET_HDR_LEN] = { 0x00, 0x07 };
	ck_assert_int_eq(us_vnet_hdr_decode(unknown_type, 3000, &m), -EINVAL);
	const uint8_t unknown_flag[US_VNET_HDR_LEN] = { 0x08 };
	ck_assert_int_eq(us_vnet_hdr_decode(unknown_flag, 60, &m), -EINVAL);
	/* csum_start 34 + csum_offset 16 + 2 = 52 > 51 bytes of frame. */
	const uint8_t outside[US_VNET_HDR_LEN] = { 0x01, 0x00, 0, 0, 0, 0, 34, 0, 16, 0 };
	ck_assert_int_eq(us_vnet_hdr_decode(outside, 51, &m), -EINVAL);
	ck_assert_int_eq(us_vnet_hdr_decode(outside, 52, &m), 0);
	/* A GSO type with gso_size 0. */
	const uint8_t no_size[US_VNET_HDR_LEN] = { 0x01, 0x01, 54, 0, 0, 0, 34, 0, 16, 0 };
	ck_assert_int_eq(us_vnet_hdr_decode(no_size, 3000, &m), -EINVAL);
}
END_TEST

START_TEST(encode_tso4_super_frame)
{
	static uint8_t frame[54 + 14600];
	struct us_frame f = { .data = frame, .len = sizeof frame, .gso_type = US_GSO_TCPV4,
			      .gso_size = 1460, .hdr_len = 54, .csum_partial = true,
			      .csum_start = 34, .csum_offset = 16 };
	uint8_t h[US_VNET_HDR_LEN];
	memset(h, 0xee, sizeof h);
	ck_assert_int_eq(us_vnet_hdr_encode(&f, h), 0);
	const uint8_t want[US_VNET_HDR_LEN] = {
		0x01,       /* NEEDS_CSUM */
		0x01,       /* TCPV4 */
		0x36, 0x00, /* hdr_len 54 */
		0xb4, 0x05, /* gso_size 1460 */
		0x22, 0x00, /* csum_start 34 */
		0x10, 0x00, /* csum_offset 16 */
		0x00, 0x00, /* num_buffers: 0 on transmit */
	};
	ck_assert_mem_eq(h, want, sizeof want);
}
END_TEST

START_TEST(encode_partial_checksum_tcp6_and_plain)
{
	uint8_t frame[1514];
	uint8_t h[US_VNET_HDR_LEN];
	/* A single TCP/IPv6 segment, checksum left to the kernel. */
	struct us_frame f = { .data = frame, .len = sizeof frame, .csum_partial = true,
			      .csum_start = 54, .csum_offset = 16 };
	ck_assert_int_eq(us_vnet_hdr_encode(&f, h), 0);
	const uint8_t want[US_VNET_HDR_LEN] = { 0x01, 0x00, 0, 0, 0, 0, 0x36, 0x00, 0x10, 0x00, 0, 0 };
	ck_assert_mem_eq(h, want, sizeof want);
	/* A plain frame: all zero. */
	struct us_frame plain = { .data = frame, .len = 60 };
	const uint8_t zero[US_VNET_HDR_LEN] = { 0 };
	memset(h, 0xee, sizeof h);
	ck_assert_int_eq(us_vnet_hdr_encode(&plain, h), 0);
	ck_assert_mem_eq(h, zero, sizeof zero);
}
END_TEST

START_TEST(encode_refuses_gso_without_partial_checksum)
{
	uint8_t frame[3000];
	uint8_t h[US_VNET_HDR_LEN];
	struct us_frame f = { .data = frame, .len = sizeof frame, .gso_type = US_GSO_TCPV4,
			      .gso_size = 1460, .hdr_len = 54 };
	ck_assert_int_eq(us_vnet_hdr_encode(&f, h), -EINVAL);
	f.csum_partial = true;
	f.csum_start = 34;
	f.csum_offset = 16;
	f.gso_size = 0;
	ck_assert_int_eq(us_vnet_hdr_encode(&f, h), -EINVAL);
	f.gso_size = 1460;
	f.gso_type = US_GSO_UDP; /* UFO is gone from Linux */
	ck_assert_int_eq(us_vnet_hdr_encode(&f, h), -EINVAL);
	f.gso_type = US_GSO_TCPV4;
	f.csum_start = 2990; /* + 16 + 2 past the end */
	ck_assert_int_eq(us_vnet_hdr_encode(&f, h), -EINVAL);
}
END_TEST

START_TEST(decode_of_encode_gives_back_the_fields)
{
	static uint8_t frame[86 + 30000];
	struct us_frame f = { .data = frame, .len = sizeof frame, .gso_type = US_GSO_TCPV6,
			      .gso_size = 1428, .hdr_len = 86, .csum_partial = true,
			      .csum_start = 54, .csum_offset = 16 };
	uint8_t h[US_VNET_HDR_LEN];
	struct us_rx_meta m;
	ck_assert_int_eq(us_vnet_hdr_encode(&f, h), 0);
	ck_assert_int_eq(us_vnet_hdr_decode(h, f.len, &m), 0);
	ck_assert_uint_eq(m.gso_type, f.gso_type);
	ck_assert_uint_eq(m.gso_size, f.gso_size);
	ck_assert_uint_eq(m.hdr_len, f.hdr_len);
	ck_assert(m.csum_partial);
	ck_assert_uint_eq(m.csum_start, f.csum_start);
	ck_assert_uint_eq(m.csum_offset, f.csum_offset);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("vnet");
	TCase *tc = tcase_create("header");
	tcase_add_test(tc, decode_tso4_frame_with_partial_checksum);
	tcase_add_test(tc, decode_tso6_with_ecn_and_data_valid);
	tcase_add_test(tc, decode_plain_frame_is_all_zero);
	tcase_add_test(tc, decode_refuses_ufo_unknown_flags_and_checksum_outside_the_frame);
	tcase_add_test(tc, encode_tso4_super_frame);
	tcase_add_test(tc, encode_partial_checksum_tcp6_and_plain);
	tcase_add_test(tc, encode_refuses_gso_without_partial_checksum);
	tcase_add_test(tc, decode_of_encode_gives_back_the_fields);
	suite_add_tcase(s, tc);
	return s;
}

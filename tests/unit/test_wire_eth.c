/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_wire_eth.c - Ethernet II / 802.1Q parsing and building,
 * and the multicast MAC mappings of RFC 1112 §6.4 and RFC 2464 §7.
 *
 * Read first: src/stack/wire/eth.h.
 */
#include "harness.h"

#include <string.h>

#include "wire/eth.h"

/* Literal frames are annotated field by field throughout, aligned by hand:
 * clang-format would fold them. It formats only us_test_suite() below. */
/* clang-format off */
static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

START_TEST(ipv4_frame_yields_addresses_type_and_payload)
{
	uint8_t f[64];
	size_t n = us_test_hex("02 00 00 00 00 01"  /* dst */
			       "52 54 00 12 34 56"  /* src */
			       "08 00"              /* type: IPv4 */
			       "45 00 00 14",       /* first payload bytes */
			       f, sizeof f);
	struct us_eth_hdr h;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_OK);
	ck_assert_mem_eq(h.dst, mac_a, 6);
	ck_assert_mem_eq(h.src, mac_b, 6);
	ck_assert_uint_eq(h.ethertype, 0x0800);
	ck_assert(!h.has_vlan);
	ck_assert_uint_eq(h.vlan_tci, 0);
	ck_assert_uint_eq(h.hdr_len, 14);
	ck_assert_ptr_eq(h.payload, f + 14);
	ck_assert_uint_eq(h.payload_len, 4);
	ck_assert_uint_eq(h.payload[0], 0x45);
}
END_TEST

START_TEST(header_alone_gives_empty_payload)
{
	uint8_t f[14];
	size_t n = us_test_hex("ff ff ff ff ff ff"  /* dst: broadcast */
			       "52 54 00 12 34 56"  /* src */
			       "08 06",             /* type: ARP */
			       f, sizeof f);
	struct us_eth_hdr h;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.ethertype, US_ETHERTYPE_ARP);
	ck_assert_uint_eq(h.payload_len, 0);
	ck_assert_ptr_eq(h.payload, f + 14);
}
END_TEST

START_TEST(every_length_below_14_is_truncated)
{
	uint8_t f[14];
	size_t n = us_test_hex("02 00 00 00 00 01 52 54 00 12 34 56 86 dd", f, sizeof f);
	ck_assert_uint_eq(n, 14);
	struct us_eth_hdr h;
	for (size_t len = 0; len < 14; len++)
		ck_assert_int_eq(us_eth_parse(f, len, &h), US_WIRE_TRUNCATED);
	ck_assert_int_eq(us_eth_parse(f, 14, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.ethertype, US_ETHERTYPE_IPV6);
}
END_TEST

START_TEST(vlan_tag_is_skipped_and_its_tci_recorded)
{
	uint8_t f[64];
	size_t n = us_test_hex("02 00 00 00 00 01"  /* dst */
			       "52 54 00 12 34 56"  /* src */
			       "81 00"              /* TPID: 802.1Q */
			       "a0 2a"              /* TCI: PCP 5, DEI 0, VID 42 */
			       "86 dd"              /* inner type: IPv6 */
			       "60 00",             /* payload */
			       f, sizeof f);
	struct us_eth_hdr h;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_OK);
	ck_assert(h.has_vlan);
	ck_assert_uint_eq(h.vlan_tci, 0xa02a);
	ck_assert_uint_eq(h.ethertype, US_ETHERTYPE_IPV6);
	ck_assert_uint_eq(h.hdr_len, 18);
	ck_assert_ptr_eq(h.payload, f + 18);
	ck_assert_uint_eq(h.payload_len, 2);
}
END_TEST

START_TEST(vlan_tag_cut_short_is_bad_vlan)
{
	uint8_t f[18];
	size_t n = us_test_hex("02 00 00 00 00 01 52 54 00 12 34 56"
			       "81 00"  /* TPID */
			       "00 07"  /* TCI: VID 7 */
			       "08 00", /* inner type */
			       f, sizeof f);
	ck_assert_uint_eq(n, 18);
	struct us_eth_hdr h;
	for (size_t len = 14; len < 18; len++)
		ck_assert_int_eq(us_eth_parse(f, len, &h), US_WIRE_BAD_VLAN);
	ck_assert_int_eq(us_eth_parse(f, 18, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.vlan_tci, 7);
}
END_TEST

START_TEST(qinq_outer_tag_is_refused)
{
	uint8_t f[64];
	size_t n = us_test_hex("02 00 00 00 00 01 52 54 00 12 34 56"
			       "88 a8"  /* TPID: 802.1ad S-tag */
			       "00 64"  /* TCI */
			       "81 00"  /* inner C-tag */
			       "00 07"
			       "08 00",
			       f, sizeof f);
	struct us_eth_hdr h;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_BAD_VLAN);
}
END_TEST

START_TEST(vlan_tag_inside_vlan_tag_is_refused)
{
	uint8_t f[64];
	size_t n = us_test_hex("02 00 00 00 00 01 52 54 00 12 34 56"
			       "81 00 00 64"  /* outer 802.1Q tag, VID 100 */
			       "81 00 00 07"  /* inner 802.1Q tag, VID 7 */
			       "08 00 45 00",
			       f, sizeof f);
	struct us_eth_hdr h;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_BAD_VLAN);
	/* An S-tag type inside a C-tag is stacking as well. */
	f[16] = 0x88;
	f[17] = 0xa8;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_BAD_VLAN);
}
END_TEST

START_TEST(ieee_802_3_length_field_is_bad_field)
{
	uint8_t f[64];
	size_t n = us_test_hex("02 00 00 00 00 01 52 54 00 12 34 56"
			       "00 26"  /* length 38: 802.3/LLC framing */
			       "42 42 03",
			       f, sizeof f);
	struct us_eth_hdr h;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_BAD_FIELD);
	const uint16_t bad[] = { 0x0000, 0x05dc, 0x05ff };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f[12] = (uint8_t)(bad[i] >> 8);
		f[13] = (uint8_t)bad[i];
		ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_BAD_FIELD);
	}
	/* 0x0600 is the first EtherType (IEEE 802.3 §3.2.6). */
	f[12] = 0x06;
	f[13] = 0x00;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.ethertype, 0x0600);
}
END_TEST

START_TEST(length_field_inside_vlan_tag_is_bad_field)
{
	uint8_t f[64];
	size_t n = us_test_hex("02 00 00 00 00 01 52 54 00 12 34 56"
			       "81 00 00 07"  /* 802.1Q, VID 7 */
			       "00 2e"        /* inner: an 802.3 length */
			       "aa aa 03",
			       f, sizeof f);
	struct us_eth_hdr h;
	ck_assert_int_eq(us_eth_parse(f, n, &h), US_WIRE_BAD_FIELD);
}
END_TEST

START_TEST(padding_stays_in_payload_len)
{
	uint8_t f[60];
	memset(f, 0, sizeof f);
	us_test_hex("ff ff ff ff ff ff 52 54 00 12 34 56 08 06", f, sizeof f);
	struct us_eth_hdr h;
	ck_assert_int_eq(us_eth_parse(f, 60, &h), US_WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 46);
}
END_TEST

START_TEST(emit_writes_exact_14_bytes)
{
	struct us_eth_hdr h;
	memset(&h, 0, sizeof h);
	memcpy(h.dst, mac_b, 6);
	memcpy(h.src, mac_a, 6);
	h.ethertype = US_ETHERTYPE_ARP;
	uint8_t buf[20], want[14];
	memset(buf, 0xee, sizeof buf);
	us_test_hex("52 54 00 12 34 56"  /* dst */
		    "02 00 00 00 00 01"  /* src */
		    "08 06",             /* type: ARP */
		    want, sizeof want);
	ck_assert_uint_eq(us_eth_emit(&h, buf, sizeof buf), 14);
	ck_assert_mem_eq(buf, want, 14);
	ck_assert_uint_eq(buf[14], 0xee); /* nothing written past the header */
}
END_TEST

START_TEST(emit_with_vlan_writes_exact_18_bytes)
{
	struct us_eth_hdr h;
	memset(&h, 0, sizeof h);
	memcpy(h.dst, mac_b, 6);
	memcpy(h.src, mac_a, 6);
	h.ethertype = US_ETHERTYPE_IPV4;
	h.has_vlan = true;
	h.vlan_tci = 0x2123; /* PCP 1, DEI 0, VID 0x123 */
	uint8_t buf[18], want[18];
	us_test_hex("52 54 00 12 34 56"  /* dst */
		    "02 00 00 00 00 01"  /* src */
		    "81 00"              /* TPID */
		    "21 23"              /* TCI */
		    "08 00",             /* inner type */
		    want, sizeof want);
	ck_assert_uint_eq(us_eth_emit(&h, buf, sizeof buf), 18);
	ck_assert_mem_eq(buf, want, 18);

	struct us_eth_hdr back;
	ck_assert_int_eq(us_eth_parse(buf, 18, &back), US_WIRE_OK);
	ck_assert(back.has_vlan);
	ck_assert_uint_eq(back.vlan_tci, 0x2123);
	ck_assert_uint_eq(back.ethertype, US_ETHERTYPE_IPV4);
	ck_assert_mem_eq(back.dst, mac_b, 6);
	ck_assert_mem_eq(back.src, mac_a, 6);
}
END_TEST

START_TEST(emit_into_too_small_buffer_returns_zero)
{
	struct us_eth_hdr h;
	memset(&h, 0, sizeof h);
	h.ethertype = US_ETHERTYPE_IPV6;
	uint8_t buf[18];
	memset(buf, 0xee, sizeof buf);
	ck_assert_uint_eq(us_eth_emit(&h, buf, 13), 0);
	ck_assert_uint_eq(buf[0], 0xee);
	h.has_vlan = true;
	ck_assert_uint_eq(us_eth_emit(&h, buf, 17), 0);
	ck_assert_uint_eq(buf[0], 0xee);
	ck_assert_uint_eq(us_eth_emit(&h, buf, 18), 18);
}
END_TEST

START_TEST(broadcast_and_multicast_are_told_apart)
{
	const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t almost[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	const uint8_t v6m[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	const uint8_t v4m[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	ck_assert(us_eth_is_broadcast(bcast));
	ck_assert(us_eth_is_multicast(bcast));
	ck_assert(!us_eth_is_broadcast(almost));
	ck_assert(us_eth_is_multicast(almost));
	ck_assert(!us_eth_is_broadcast(v6m));
	ck_assert(us_eth_is_multicast(v6m));
	ck_assert(us_eth_is_multicast(v4m));
	/* 0x02 is the U/L bit, not the I/G bit. */
	ck_assert(!us_eth_is_multicast(mac_a));
	ck_assert(!us_eth_is_broadcast(mac_a));
	ck_assert(!us_eth_is_multicast(mac_b));
}
END_TEST

START_TEST(ipv6_multicast_maps_to_33_33_and_low_32_bits)
{
	/* RFC 2464 §7. ff02::1 (all nodes) and a solicited-node group. */
	struct us_ip6 all_nodes, sol;
	us_test_hex("ff02 0000 0000 0000 0000 0000 0000 0001", all_nodes.b, 16);
	us_test_hex("ff02 0000 0000 0000 0000 0001 ff28 9c5a", sol.b, 16);
	uint8_t mac[6];
	const uint8_t want1[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	const uint8_t want2[6] = { 0x33, 0x33, 0xff, 0x28, 0x9c, 0x5a };
	us_eth_mcast_from_ip6(&all_nodes, mac);
	ck_assert_mem_eq(mac, want1, 6);
	us_eth_mcast_from_ip6(&sol, mac);
	ck_assert_mem_eq(mac, want2, 6);
}
END_TEST

START_TEST(ipv4_multicast_maps_low_23_bits_under_01_00_5e)
{
	/* RFC 1112 §6.4. */
	uint8_t mac[6];
	const uint8_t all_hosts[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	const uint8_t ssdp[6] = { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa };
	us_eth_mcast_from_ip4(0xe0000001u, mac); /* 224.0.0.1 */
	ck_assert_mem_eq(mac, all_hosts, 6);
	us_eth_mcast_from_ip4(0xeffffffau, mac); /* 239.255.255.250 */
	ck_assert_mem_eq(mac, ssdp, 6);
	/* 224.128.0.1: bit 23 is dropped, so it shares 224.0.0.1's MAC. */
	us_eth_mcast_from_ip4(0xe0800001u, mac);
	ck_assert_mem_eq(mac, all_hosts, 6);
}
END_TEST

/* clang-format on */

Suite *us_test_suite(void)
{
	Suite *s = suite_create("wire_eth");
	TCase *tc = tcase_create("eth");
	tcase_add_test(tc, ipv4_frame_yields_addresses_type_and_payload);
	tcase_add_test(tc, header_alone_gives_empty_payload);
	tcase_add_test(tc, every_length_below_14_is_truncated);
	tcase_add_test(tc, vlan_tag_is_skipped_and_its_tci_recorded);
	tcase_add_test(tc, vlan_tag_cut_short_is_bad_vlan);
	tcase_add_test(tc, qinq_outer_tag_is_refused);
	tcase_add_test(tc, vlan_tag_inside_vlan_tag_is_refused);
	tcase_add_test(tc, ieee_802_3_length_field_is_bad_field);
	tcase_add_test(tc, length_field_inside_vlan_tag_is_bad_field);
	tcase_add_test(tc, padding_stays_in_payload_len);
	tcase_add_test(tc, emit_writes_exact_14_bytes);
	tcase_add_test(tc, emit_with_vlan_writes_exact_18_bytes);
	tcase_add_test(tc, emit_into_too_small_buffer_returns_zero);
	tcase_add_test(tc, broadcast_and_multicast_are_told_apart);
	tcase_add_test(tc, ipv6_multicast_maps_to_33_33_and_low_32_bits);
	tcase_add_test(tc, ipv4_multicast_maps_low_23_bits_under_01_00_5e);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_ip6.c - IPv6 (src/stack/ip6_input.c, ip6_output.c): every
 * input drop reason, the extension header rules (RFC 8200 §4), reassembly
 * (RFC 8200 §4.5, with reass.c) and its timeout, fragmentation on output,
 * source address selection (RFC 6724).
 *
 * Read first: tests/unit/harness.h, then test_ip6_icmp.c's opening comment
 * (meet_peer(): how a peer gets into nd6.c's neighbour cache so that our
 * answers leave at once).
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include "stack.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp6.h"
#include "wire/ipv6.h"

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };

static struct us_ip6 ip6(const char *text)
{
	struct us_ip6 a;
	ck_assert_int_eq(us_ip6_parse_text(text, &a), 0);
	return a;
}

/* A stack (harness: MAC 02:00:00:00:00:02, no DAD) with fe80::ff:fe00:2
 * from the MAC (nd6.c) and 2001:db8:1::2/64. */
static struct us_stack *stack6(struct us_test_link *link)
{
	struct us_stack *s = us_test_stack(link, 0);
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	ck_assert(us_ip6_iface_owns(&s->iface[0], &g));
	link->count = 0;
	return s;
}

/* Ethernet from the peer to dst_mac, an IPv6 header (hop limit 64), the
 * payload. Returns the frame's length. */
static size_t frame6(uint8_t *f, const uint8_t *dst_mac, const struct us_ip6 *src,
		     const struct us_ip6 *dst, uint8_t nh, const uint8_t *payload, size_t plen)
{
	struct us_eth_hdr e = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(e.dst, dst_mac, 6);
	memcpy(e.src, peer_mac, 6);
	ck_assert_uint_eq(us_eth_emit(&e, f, 14), 14);
	struct us_ipv6_hdr h = {
		.payload_len = (uint16_t)plen,
		.next_header = nh,
		.hop_limit = nh == US_IPPROTO_ICMPV6 && payload[0] == US_ICMP6_ND_NS ? 255 : 64,
		.src = *src,
		.dst = *dst,
	};
	ck_assert_uint_eq(us_ipv6_emit(&h, f + 14, 40), 40);
	memcpy(f + 54, payload, plen);
	return 54 + plen;
}

static void icmp6_sum(uint8_t *msg, size_t len, const struct us_ip6 *src, const struct us_ip6 *dst)
{
	us_icmp6_csum_fill(msg, len, us_csum_pseudo6(src, dst, US_IPPROTO_ICMPV6, (uint32_t)len));
}

/* A Neighbor Solicitation from src (MAC 02:00:00:00:00:01, in a Source
 * Link-Layer Address option) to dst for target. */
static size_t ns_frame(uint8_t *f, const uint8_t *dst_mac, const char *src, const char *dst,
		       const char *target)
{
	uint8_t msg[64];
	struct us_ndp_ns ns = { .target = ip6(target) };
	size_t n = us_ndp_ns_emit(&ns, msg, sizeof msg);
	struct us_ip6 a = ip6(src), b = ip6(dst);
	if (!us_ip6_is_unspecified(&a))
		n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, peer_mac, msg + n, sizeof msg - n);
	icmp6_sum(msg, n, &a, &b);
	return frame6(f, dst_mac, &a, &b, US_IPPROTO_ICMPV6, msg, n);
}

/* The peer introduces itself (see test_ip6_icmp.c); we answer with an NA. */
static void meet_peer(struct us_stack *s, struct us_test_link *link, const char *peer_ip,
		      const char *our_ip)
{
	uint8_t f[128];
	size_t n = ns_frame(f, our_mac, peer_ip, our_ip, our_ip);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link->count, 1);
	ck_assert_uint_eq(link->frame[0][54], US_ICMP6_ND_NA);
	link->count = 0;
}

static int inject_hex(struct us_stack *s, us_time_t t, const char *hex)
{
	uint8_t f[2048];
	size_t n = us_test_hex(hex, f, sizeof f);
	return us_stack_input(s, t, 0, f, n);
}

static void expect_frame(const struct us_test_link *l, int i, const char *hex)
{
	uint8_t want[2048];
	size_t n = us_test_hex(hex, want, sizeof want);
	ck_assert_int_gt(l->count, i);
	ck_assert_uint_eq(l->len[i], n);
	ck_assert_mem_eq(l->frame[i], want, n);
}

static uint64_t ctr(const struct us_stack *s, const char *name)
{
	return us_stack_counter(s, name);
}

/* An ICMPv6 error we sent: its type, code and pointer (or MTU). */
static void expect_error(const struct us_test_link *l, int i, uint8_t type, uint8_t code,
			 uint32_t param)
{
	ck_assert_int_gt(l->count, i);
	ck_assert_uint_eq(l->frame[i][20], US_IPPROTO_ICMPV6);
	ck_assert_uint_eq(l->frame[i][54], type);
	ck_assert_uint_eq(l->frame[i][55], code);
	ck_assert_uint_eq(us_get_be32(l->frame[i] + 58), param);
}

/* The first frame at or after `from` carrying an ICMPv6 message of type, or -1. */
static int find_icmp(const struct us_test_link *l, int from, uint8_t type)
{
	for (int i = from; i < l->count && i < US_TEST_MAX_FRAMES; i++)
		if (l->frame[i][20] == US_IPPROTO_ICMPV6 && l->frame[i][54] == type)
			return i;
	return -1;
}

/* clang-format off */
#define ETH_TO_US   "02 00 00 00 00 02"  /* destination: us */                 \
		    "02 00 00 00 00 01"  /* source: the peer */                 \
		    "86 dd"              /* IPv6 */
#define ETH_TO_PEER "02 00 00 00 00 01"  /* destination: the peer */           \
		    "02 00 00 00 00 02"  /* source: us */                       \
		    "86 dd"              /* IPv6 */
#define PEER "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01" /* 2001:db8:1::1 */
#define US   "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 02" /* 2001:db8:1::2 */
/* IPv6 header from the peer to us: version 6, no class or label, the given
 * payload length and next header, hop limit 64. */
#define V6_TO_US(plen, nh) "60 00 00 00" plen nh "40" PEER US

/* An echo request (id 1, seq 1, no data) from the peer to us, and our reply. */
#define ECHO_REQUEST "80 00 24 44"  /* type 128, code 0, checksum */           \
		     "00 01 00 01"  /* identifier 1, sequence 1 */
#define ECHO_REPLY_FRAME                                                       \
	ETH_TO_PEER                                                            \
	"60 00 00 00" "00 08" "3a" "40" US PEER                                \
	"81 00 23 44"  /* echo reply, checksum */                              \
	"00 01 00 01"
/* clang-format on */

/* ---- The fixed header and the addresses --------------------------------------- */

START_TEST(packet_shorter_than_40_bytes_is_dropped_at_every_length)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	uint8_t f[128];
	size_t n = us_test_hex(ETH_TO_US V6_TO_US("00 08", "3a") ECHO_REQUEST, f, sizeof f);

	for (size_t len = 14; len < 14 + 40; len++)
		ck_assert_int_eq(us_stack_input(s, 0, 0, f, len), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.drop_truncated"), 40);
	/* Cut inside the payload: Payload Length lies. */
	for (size_t len = 14 + 40; len < n; len++)
		ck_assert_int_eq(us_stack_input(s, 0, 0, f, len), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.drop_bad_length"), 8);
	ck_assert_uint_eq(ctr(s, "ip6.in"), 48);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(version_other_than_6_and_jumbo_payload_length_are_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);

	/* clang-format off */
	ck_assert_int_eq(inject_hex(s, 0, ETH_TO_US
				    "40 00 00 00"  /* version 4 in an IPv6 EtherType */
				    "00 08 3a 40" PEER US ECHO_REQUEST), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.drop_bad_version"), 1);
	/* Payload Length 0: a Jumbo Payload (RFC 2675), not implemented. */
	ck_assert_int_eq(inject_hex(s, 0, ETH_TO_US V6_TO_US("00 00", "00")
				    "3a 00 c2 04 00 01 00 08" ECHO_REQUEST), -EINVAL);
	/* clang-format on */
	ck_assert_uint_eq(ctr(s, "ip6.drop_bad_length"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(link_padding_after_the_payload_is_not_echoed)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");

	/* Ethernet pads runts to 60 bytes; 6 bytes of padding here. */
	ck_assert_int_eq(inject_hex(s, 0, ETH_TO_US V6_TO_US("00 08", "3a") ECHO_REQUEST
				    "00 00 00 00 00 00"),
			 0);
	ck_assert_int_eq(link.count, 1);
	expect_frame(&link, 0, ECHO_REPLY_FRAME);
	us_test_stack_free(s);
}
END_TEST

START_TEST(bad_source_and_destination_addresses_are_dropped_each_by_its_counter)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");
	uint8_t f[128], echo[8] = { US_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1 };
	struct {
		const char *src, *dst, *counter;
	} cases[] = {
		{ "ff02::1", "2001:db8:1::2", "ip6.drop_multicast_source" }, /* RFC 4291 §2.7 */
		{ "::1", "2001:db8:1::2", "ip6.drop_loopback_address" },     /* §2.5.3 */
		{ "2001:db8:1::1", "::1", "ip6.drop_loopback_address" },
		{ "2001:db8:1::1", "ff00::1", "ip6.drop_multicast_scope" }, /* scope 0 */
		{ "2001:db8:1::1", "ff01::1", "ip6.drop_multicast_scope" }, /* interface-local */
		{ "2001:db8:1::1", "ff02::1:ff00:99", "ip6.drop_group_not_joined" },
		{ "2001:db8:1::1", "ff02::2", "ip6.drop_group_not_joined" }, /* all routers */
		{ "2001:db8:1::1", "2001:db8:1::3", "ip6.drop_not_for_us" },
		{ "2001:db8:1::1", "::", "ip6.drop_not_for_us" },
	};

	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct us_ip6 a = ip6(cases[i].src), b = ip6(cases[i].dst);
		uint64_t before = ctr(s, cases[i].counter);
		icmp6_sum(echo, sizeof echo, &a, &b);
		size_t n = frame6(f, our_mac, &a, &b, US_IPPROTO_ICMPV6, echo, sizeof echo);
		ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
		ck_assert_uint_eq(ctr(s, cases[i].counter), before + 1);
	}
	ck_assert_uint_eq(ctr(s, "ip6.delivered"), 1); /* meet_peer's NS */
	ck_assert_int_eq(link.count, 0);

	/* Groups we joined are taken: all-nodes, and the solicited-node group
	 * of our address (nd6.c answers the NS). */
	struct us_ip6 a = ip6("2001:db8:1::1"), b = ip6("ff02::1");
	icmp6_sum(echo, sizeof echo, &a, &b);
	size_t n = frame6(f, all_nodes_mac, &a, &b, US_IPPROTO_ICMPV6, echo, sizeof echo);
	ck_assert_int_ge(us_stack_input(s, 0, 0, f, n), 0);
	static const uint8_t sn_mac[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x02 };
	n = ns_frame(f, sn_mac, "2001:db8:1::1", "ff02::1:ff00:2", "2001:db8:1::2");
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(ctr(s, "ip6.delivered"), 3);
	ck_assert_uint_eq(ctr(s, "icmp6.in_ndp"), 2);
	ck_assert_int_ge(find_icmp(&link, 0, US_ICMP6_ECHO_REPLY), 0);
	ck_assert_int_ge(find_icmp(&link, 0, US_ICMP6_ND_NA), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(tentative_destination_gets_nothing_but_dad_reaches_nd6)
{
	struct us_test_link link = { 0 };
	struct us_stack_config cfg = { .seed = 1, .small_bufs = 64, .large_bufs = 4,
				       .no_router_solicit = true };
	struct us_stack *s = us_stack_new(&cfg);
	struct us_iface_config ic = {
		.name = "test0",
		.mac = { 0x02, 0, 0, 0, 0, 0x02 },
		.transmit = us_test_link_transmit,
		.transmit_ctx = &link,
	};
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 0);
	struct us_ip6 g = ip6("2001:db8:1::2"), peer = ip6("2001:db8:1::1");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	struct us_addr6_info info[4];
	ck_assert_int_eq(us_stack_ipv6_addrs(s, 0, info, 4), 2);
	ck_assert_int_eq(info[1].state, US_ADDR6_TENTATIVE);

	/* RFC 4862 §5.4: "Other packets addressed to the tentative address
	 * should be silently discarded", NS included. */
	uint8_t f[128], echo[8] = { US_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1 };
	icmp6_sum(echo, sizeof echo, &peer, &g);
	size_t n = frame6(f, our_mac, &peer, &g, US_IPPROTO_ICMPV6, echo, sizeof echo);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	n = ns_frame(f, our_mac, "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::2");
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.drop_dst_tentative"), 2);
	/* Nothing to send from either: no usable source. */
	ck_assert_int_eq(us_stack_ping6(s, 0, &peer, 1, 1, NULL, 0, 0), -EADDRNOTAVAIL);
	ck_assert_uint_eq(ctr(s, "ip6.out_drop_no_source"), 1);

	/* Another node's DAD probe comes to the solicited-node group and
	 * reaches nd6.c, which finds our address duplicate. */
	static const uint8_t sn_mac[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x02 };
	n = ns_frame(f, sn_mac, "::", "ff02::1:ff00:2", "2001:db8:1::2");
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(ctr(s, "icmp6.in_ndp"), 1);
	ck_assert_int_eq(us_stack_ipv6_addrs(s, 0, info, 4), 2);
	ck_assert_int_eq(info[1].state, US_ADDR6_DUPLICATE);
	n = frame6(f, our_mac, &peer, &g, US_IPPROTO_ICMPV6, echo, sizeof echo);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.drop_not_for_us"), 1);
	us_test_stack_free(s);
}
END_TEST

/* ---- Extension headers (RFC 8200 §4) -------------------------------------------- */

START_TEST(malformed_extension_headers_are_dropped_each_by_its_counter)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);

	/* clang-format off */
	/* A Hop-by-Hop header of 16 bytes in an 8-byte payload. */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 08", "00") "3a 01 00 00 00 00 00 00");
	ck_assert_uint_eq(ctr(s, "ip6.drop_ext_past_end"), 1);
	/* PadN of 5 bytes where 4 are left. */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 10", "00") "3a 00 01 05 00 00 00 00" ECHO_REQUEST);
	ck_assert_uint_eq(ctr(s, "ip6.drop_opt_past_end"), 1);
	/* Router Alert with 3 data bytes (RFC 2711 §2.1: 2). */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 10", "00") "3a 00 05 03 00 00 00 00" ECHO_REQUEST);
	ck_assert_uint_eq(ctr(s, "ip6.drop_opt_bad_len"), 1);
	/* Nine Destination Options headers (US_IPV6_MAX_EXT is 8). */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 50", "3c")
		   "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
		   "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
		   "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
		   "3c 00 01 04 00 00 00 00" "3c 00 01 04 00 00 00 00"
		   "3a 00 01 04 00 00 00 00" ECHO_REQUEST);
	ck_assert_uint_eq(ctr(s, "ip6.drop_ext_too_many"), 1);
	/* clang-format on */
	ck_assert_int_eq(link.count, 0); /* all silent */
	ck_assert_uint_eq(ctr(s, "ip6.delivered"), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(hop_by_hop_not_first_gets_parameter_problem_code_1)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");

	/* clang-format off */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 18", "3c")
		   "00 00 01 04 00 00 00 00"  /* Destination Options naming Hop-by-Hop */
		   "3a 00 01 04 00 00 00 00"  /* Hop-by-Hop, second: RFC 8200 §4.1 */
		   ECHO_REQUEST);
	/* clang-format on */
	ck_assert_uint_eq(ctr(s, "ip6.drop_ext_bad_order"), 1);
	expect_error(&link, 0, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_NEXT_HEADER, 40);
	us_test_stack_free(s);
}
END_TEST

START_TEST(unknown_options_act_by_their_two_high_bits)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");

	/* clang-format off */
	/* 00: skip over it (and Pad1, PadN, in a Destination Options header). */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 18", "00")
		   "3c 00 1e 04 00 00 00 00"  /* HBH: option 0x1e, 4 bytes */
		   "3a 00 00 01 02 00 00 00"  /* DO: Pad1, PadN 2, option 0x00 ... */
		   ECHO_REQUEST);
	ck_assert_int_eq(link.count, 1);
	expect_frame(&link, 0, ECHO_REPLY_FRAME);
	/* 01: discard silently. */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 10", "00") "3a 00 7f 04 00 00 00 00" ECHO_REQUEST);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(ctr(s, "ip6.drop_unknown_option"), 1);
	/* 10: Parameter Problem code 2 at the option type. */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 10", "00")
		   "3a 00"              /* HBH: next header ICMPv6, length 8 */
		   "80 04 00 00 00 00"  /* option 0x80: action 10 */
		   ECHO_REQUEST);
	expect_frame(&link, 1,
		     ETH_TO_PEER
		     "60 00 00 00" "00 40" "3a" "40" US PEER
		     "04 02 85 cf"      /* parameter problem, code 2, checksum */
		     "00 00 00 2a"      /* pointer 42 */
		     V6_TO_US("00 10", "00") "3a 00 80 04 00 00 00 00" ECHO_REQUEST);
	/* 11: the same for a unicast destination. */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 10", "00") "3a 00 c0 04 00 00 00 00" ECHO_REQUEST);
	expect_frame(&link, 2,
		     ETH_TO_PEER
		     "60 00 00 00" "00 40" "3a" "40" US PEER
		     "04 02 45 cf" "00 00 00 2a"
		     V6_TO_US("00 10", "00") "3a 00 c0 04 00 00 00 00" ECHO_REQUEST);
	/* clang-format on */
	ck_assert_int_eq(link.count, 3);
	ck_assert_uint_eq(ctr(s, "ip6.drop_unknown_option"), 3);
	us_test_stack_free(s);
}
END_TEST

START_TEST(routing_header_is_ignored_at_segments_left_0_and_refused_above)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");

	/* clang-format off */
	/* RFC 8200 §4.4: Segments Left 0, "ignore the Routing header". */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 20", "2b")
		   "3a 02 00 00 00 00 00 00"  /* type 0, segments left 0 */
		   "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 03"
		   ECHO_REQUEST);
	expect_frame(&link, 0, ECHO_REPLY_FRAME);
	/* Segments Left 1: Parameter Problem code 0 at the Routing Type (type
	 * 0 is deprecated, RFC 5095; a host routes nothing). */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 20", "2b")
		   "3a 02 00 01 00 00 00 00"
		   "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 03"
		   ECHO_REQUEST);
	expect_frame(&link, 1,
		     ETH_TO_PEER
		     "60 00 00 00" "00 50" "3a" "40" US PEER
		     "04 00 ac f5"      /* parameter problem, code 0, checksum */
		     "00 00 00 2a"      /* pointer 42: Routing Type */
		     V6_TO_US("00 20", "2b")
		     "3a 02 00 01 00 00 00 00"
		     "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 03"
		     ECHO_REQUEST);
	/* A Segment Routing Header (type 4) too. */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 20", "2b")
		   "3a 02 04 01 00 00 00 00"
		   "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 03"
		   ECHO_REQUEST);
	/* clang-format on */
	expect_error(&link, 2, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_HEADER, 42);
	ck_assert_int_eq(link.count, 3);
	ck_assert_uint_eq(ctr(s, "ip6.drop_routing_header"), 2);
	us_test_stack_free(s);
}
END_TEST

START_TEST(unrecognized_next_header_gets_parameter_problem_code_1_at_its_field)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");

	/* clang-format off */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 08", "fd") "de ad be ef 00 00 00 00");
	expect_error(&link, 0, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_NEXT_HEADER, 6);
	/* Named by a Destination Options header: its first byte, 40. */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 10", "3c") "fd 00 01 04 00 00 00 00"
		   "de ad be ef 00 00 00 00");
	expect_error(&link, 1, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_NEXT_HEADER, 40);
	/* ESP (IPsec is not implemented), and SCTP (132, nor is it). */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 08", "32") "00 00 00 01 00 00 00 01");
	expect_error(&link, 2, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_NEXT_HEADER, 6);
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 08", "84") "04 00 00 35 00 08 00 00");
	expect_error(&link, 3, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_NEXT_HEADER, 6);
	ck_assert_uint_eq(ctr(s, "ip6.drop_unknown_next_header"), 4);

	/* An Authentication Header is dropped (its authentication would be
	 * ignored); No Next Header is consumed silently (RFC 8200 §4.7). */
	inject_hex(s, 0, ETH_TO_US V6_TO_US("00 14", "33")
		   "3a 01 00 00 00 00 01 00 00 00 00 01" ECHO_REQUEST);
	ck_assert_uint_eq(ctr(s, "ip6.drop_ah_not_implemented"), 1);
	ck_assert_int_eq(inject_hex(s, 0, ETH_TO_US V6_TO_US("00 08", "3b") ECHO_REQUEST), 0);
	ck_assert_uint_eq(ctr(s, "ip6.in_no_next_header"), 1);
	/* clang-format on */
	ck_assert_int_eq(link.count, 4);
	us_test_stack_free(s);
}
END_TEST

/* ---- Fragments (RFC 8200 §4.5) ---------------------------------------------------- */

/* An echo request of len message bytes (identifier 5, sequence 1, data
 * bytes i & 0xff) from the peer to us, checksummed. */
static void echo_msg(uint8_t *m, size_t len, uint8_t type, const char *src, const char *dst)
{
	struct us_ip6 a = ip6(src), b = ip6(dst);
	m[0] = type;
	m[1] = 0;
	us_put_be32(m + 4, us_icmp6_echo_rest(5, 1));
	for (size_t i = 8; i < len; i++)
		m[i] = (uint8_t)i;
	icmp6_sum(m, len, &a, &b);
}

/* A fragment from the peer to us: the IPv6 header, a Fragment header, data. */
static size_t frag_frame(uint8_t *f, uint8_t nh, uint16_t offset, bool more, uint32_t id,
			 const uint8_t *data, size_t len)
{
	static uint8_t p[2048];
	struct us_ipv6_frag fh = { .next_header = nh, .offset = offset, .more = more, .id = id };
	struct us_ip6 a = ip6("2001:db8:1::1"), b = ip6("2001:db8:1::2");
	ck_assert_uint_eq(us_ipv6_frag_emit(&fh, p, 8), 8);
	memcpy(p + 8, data, len);
	return frame6(f, our_mac, &a, &b, US_IPPROTO_FRAGMENT, p, 8 + len);
}

START_TEST(fragmented_echo_request_is_reassembled_and_answered)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");
	uint8_t m[600], f[1600];
	echo_msg(m, sizeof m, US_ICMP6_ECHO_REQUEST, "2001:db8:1::1", "2001:db8:1::2");

	/* The last fragment first. */
	size_t n = frag_frame(f, US_IPPROTO_ICMPV6, 304, false, 0xabcd, m + 304, 296);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 0);
	n = frag_frame(f, US_IPPROTO_ICMPV6, 0, true, 0xabcd, m, 304);
	ck_assert_int_eq(us_stack_input(s, US_MSEC(1), 0, f, n), 0);
	ck_assert_uint_eq(ctr(s, "ip6.frag_in"), 2);
	ck_assert_uint_eq(ctr(s, "ip6.reassembled"), 1);

	/* One reply of 600 bytes: the request's, type 129. */
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(link.len[0], 14 + 40 + 600);
	uint8_t hdr[54];
	us_test_hex(ETH_TO_PEER "60 00 00 00" "02 58" "3a" "40" US PEER, hdr, sizeof hdr);
	ck_assert_mem_eq(link.frame[0], hdr, 54);
	echo_msg(m, sizeof m, US_ICMP6_ECHO_REPLY, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_mem_eq(link.frame[0] + 54, m, sizeof m);
	us_test_stack_free(s);
}
END_TEST

/* Puts the fragments our stack sent (frames [first, first + count)) back
 * together into out; checks their headers; returns the payload length and
 * the Identification they shared. */
static size_t reassemble_ours(const struct us_test_link *l, int first, int count, uint8_t *out,
			      uint32_t *id, uint16_t max_data)
{
	size_t total = 0;
	for (int i = first; i < first + count; i++) {
		const uint8_t *p = l->frame[i];
		struct us_ipv6_hdr h;
		struct us_ipv6_frag fh;
		ck_assert_int_eq(us_ipv6_parse(p + 14, l->len[i] - 14, &h), US_WIRE_OK);
		ck_assert_uint_eq(h.next_header, US_IPPROTO_FRAGMENT);
		ck_assert_int_eq(us_ipv6_frag_parse(h.payload, h.payload_len, &fh), US_WIRE_OK);
		size_t n = h.payload_len - 8u;
		ck_assert_uint_eq(fh.next_header, US_IPPROTO_ICMPV6);
		ck_assert_uint_eq(fh.offset, (size_t)(i - first) * max_data);
		ck_assert_int_eq(fh.more, i < first + count - 1);
		if (fh.more)
			ck_assert_uint_eq(n, max_data);
		if (i == first)
			*id = fh.id;
		ck_assert_uint_eq(fh.id, *id);
		memcpy(out + fh.offset, h.payload + 8, n);
		total = fh.offset + n;
	}
	return total;
}

START_TEST(large_fragmented_echo_request_gets_a_fragmented_reply)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");
	/* `ping -6 -s 8000`: 8008 bytes of ICMPv6, in fragments of 1448. */
	static uint8_t m[8008], back[8008], f[1600];
	echo_msg(m, sizeof m, US_ICMP6_ECHO_REQUEST, "2001:db8:1::1", "2001:db8:1::2");
	for (size_t off = 0; off < sizeof m; off += 1448) {
		size_t len = sizeof m - off < 1448 ? sizeof m - off : 1448;
		size_t n = frag_frame(f, US_IPPROTO_ICMPV6, (uint16_t)off, off + len < sizeof m, 77,
				      m + off, len);
		ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	}
	ck_assert_uint_eq(ctr(s, "ip6.reassembled"), 1);
	ck_assert_int_eq(link.count, 6);
	uint32_t id;
	ck_assert_uint_eq(reassemble_ours(&link, 0, 6, back, &id, 1448), sizeof m);
	echo_msg(m, sizeof m, US_ICMP6_ECHO_REPLY, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_mem_eq(back, m, sizeof m);
	us_test_stack_free(s);
}
END_TEST

START_TEST(atomic_fragment_is_processed_at_once)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");

	/* clang-format off */
	ck_assert_int_eq(inject_hex(s, 0, ETH_TO_US V6_TO_US("00 10", "2c")
				    "3a 00 00 00"   /* offset 0, M 0: RFC 6946 */
				    "00 00 00 42"   /* identification */
				    ECHO_REQUEST), 0);
	/* clang-format on */
	expect_frame(&link, 0, ECHO_REPLY_FRAME);
	ck_assert_uint_eq(ctr(s, "ip6.frag_atomic"), 1);
	ck_assert_uint_eq(ctr(s, "ip6.reassembled"), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(ndp_messages_in_fragments_are_ignored)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	/* An NS for our address, as meet_peer() sends it (and gets an NA)... */
	uint8_t msg[64], f[256];
	struct us_ndp_ns ns = { .target = ip6("2001:db8:1::2") };
	size_t n = us_ndp_ns_emit(&ns, msg, sizeof msg);
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, peer_mac, msg + n, sizeof msg - n);
	struct us_ip6 a = ip6("2001:db8:1::1"), b = ip6("2001:db8:1::2");
	icmp6_sum(msg, n, &a, &b);
	/* ...but behind a Fragment header: atomic (offset 0, M 0), then the same
	 * message cut in two. Hop limit 255, so only RFC 6980 §5 can refuse it. */
	size_t fn = frag_frame(f, US_IPPROTO_ICMPV6, 0, false, 9, msg, n);
	f[14 + 7] = 255;
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, fn), 0);
	fn = frag_frame(f, US_IPPROTO_ICMPV6, 0, true, 10, msg, 16);
	f[14 + 7] = 255;
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, fn), 0);
	fn = frag_frame(f, US_IPPROTO_ICMPV6, 16, false, 10, msg + 16, n - 16);
	f[14 + 7] = 255;
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, fn), 0);
	ck_assert_uint_eq(ctr(s, "ip6.drop_fragmented_ndp"), 2);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(fragment_with_bad_length_or_past_65535_gets_parameter_problem)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");
	uint8_t data[16] = { 0 }, f[128];

	/* M set and 12 bytes: "pointing to the Payload Length field". */
	size_t n = frag_frame(f, US_IPPROTO_ICMPV6, 8, true, 1, data, 12);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.drop_frag_bad_length"), 1);
	expect_error(&link, 0, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_HEADER, 4);
	/* 16 bytes at offset 65528: "pointing to the Fragment Offset field". */
	n = frag_frame(f, US_IPPROTO_ICMPV6, 65528, false, 1, data, 16);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.drop_frag_too_big"), 1);
	expect_error(&link, 1, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_HEADER, 42);
	/* Exactly up to 65535 is fine (kept, waiting for the rest). */
	n = frag_frame(f, US_IPPROTO_ICMPV6, 65528, false, 2, data, 7);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 2);
	us_stack_poll(s, US_REASS_TIMEOUT6); /* reass.c lets it go */
	us_test_stack_free(s);
}
END_TEST

START_TEST(first_fragment_without_whole_chain_gets_parameter_problem_code_3)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");
	uint8_t f[128];
	/* A Destination Options header of 16 bytes cut after 8. */
	static const uint8_t dopts[8] = { US_IPPROTO_ICMPV6, 1, 1, 4 };
	/* 8 bytes of a 20-byte TCP header. */
	static const uint8_t tcp[8] = { 0x04, 0x00, 0x00, 0x50 };

	size_t n = frag_frame(f, US_IPPROTO_DSTOPTS, 0, true, 3, dopts, 8);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	expect_error(&link, 0, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_HEADER_CHAIN, 0);
	n = frag_frame(f, US_IPPROTO_TCP, 0, true, 4, tcp, 8);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	expect_error(&link, 1, US_ICMP6_PARAM_PROBLEM, US_ICMP6_PARAM_HEADER_CHAIN, 0);
	ck_assert_uint_eq(ctr(s, "ip6.drop_frag_incomplete_chain"), 2);
	/* A later fragment cannot be judged so: kept. */
	n = frag_frame(f, US_IPPROTO_TCP, 8, true, 4, tcp, 8);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 2);
	us_stack_poll(s, US_REASS_TIMEOUT6);
	us_test_stack_free(s);
}
END_TEST

START_TEST(fragment_inside_a_reassembled_packet_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	uint8_t inner[24] = { US_IPPROTO_ICMPV6, 0, 0x00, 0x01, 0, 0, 0, 9 }, f[128];

	/* Outer fragments whose data is an inner Fragment header (offset 0,
	 * M 1) and 16 bytes. */
	size_t n = frag_frame(f, US_IPPROTO_FRAGMENT, 0, true, 10, inner, 16);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	n = frag_frame(f, US_IPPROTO_FRAGMENT, 16, false, 10, inner + 16, 8);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.reassembled"), 1);
	ck_assert_uint_eq(ctr(s, "ip6.drop_frag_nested"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(reassembly_timeout_sends_time_exceeded_quoting_the_first_fragment)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, "2001:db8:1::1", "2001:db8:1::2");
	uint8_t m[64], f[128], first[128];
	echo_msg(m, sizeof m, US_ICMP6_ECHO_REQUEST, "2001:db8:1::1", "2001:db8:1::2");

	size_t first_len = frag_frame(first, US_IPPROTO_ICMPV6, 0, true, 21, m, 32);
	ck_assert_int_eq(us_stack_input(s, US_SEC(1), 0, first, first_len), 0);
	/* Another datagram whose first fragment never came. */
	size_t n = frag_frame(f, US_IPPROTO_ICMPV6, 32, false, 22, m + 32, 32);
	ck_assert_int_eq(us_stack_input(s, US_SEC(2), 0, f, n), 0);

	/* (nd6.c probes the peer meanwhile: its NS are not looked at.) */
	us_stack_poll(s, US_SEC(1) + US_REASS_TIMEOUT6 - 1);
	ck_assert_int_eq(find_icmp(&link, 0, US_ICMP6_TIME_EXCEEDED), -1);
	us_stack_poll(s, US_SEC(2) + US_REASS_TIMEOUT6);
	int i = find_icmp(&link, 0, US_ICMP6_TIME_EXCEEDED);
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(find_icmp(&link, i + 1, US_ICMP6_TIME_EXCEEDED), -1);
	/* RFC 4443 §3.3, code 1, quoting the first fragment as it came. */
	expect_error(&link, i, US_ICMP6_TIME_EXCEEDED, US_ICMP6_TIMEX_REASSEMBLY, 0);
	ck_assert_uint_eq(link.len[i], 14 + 40 + 8 + first_len - 14);
	ck_assert_mem_eq(link.frame[i] + 62, first + 14, first_len - 14);
	struct us_ip6 us = ip6("2001:db8:1::2"), peer = ip6("2001:db8:1::1");
	ck_assert_mem_eq(link.frame[i] + 22, us.b, 16);
	ck_assert_mem_eq(link.frame[i] + 38, peer.b, 16);
	ck_assert_uint_eq(ctr(s, "icmp6.out_time_exceeded"), 1);
	us_test_stack_free(s);
}
END_TEST

/* ---- Output --------------------------------------------------------------------------- */

START_TEST(message_of_4000_bytes_leaves_in_three_fragments_at_mtu_1500)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	static uint8_t data[3992], back[4000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	struct us_ip6 group = ip6("ff02::1"), ll = ip6("fe80::ff:fe00:2");

	ck_assert_int_eq(us_stack_ping6(s, 0, &group, 9, 4, data, sizeof data, 0), 0);
	ck_assert_int_eq(link.count, 3);
	/* RFC 8200 §4.5: 1448 = (1500 - 40 - 8) rounded down to 8. */
	ck_assert_uint_eq(link.len[0], 14 + 40 + 8 + 1448);
	ck_assert_uint_eq(link.len[1], 14 + 40 + 8 + 1448);
	ck_assert_uint_eq(link.len[2], 14 + 40 + 8 + 1104);
	for (int i = 0; i < 3; i++) {
		ck_assert_mem_eq(link.frame[i], all_nodes_mac, 6);
		ck_assert_uint_eq(link.frame[i][21], 1); /* hop limit */
		ck_assert_mem_eq(link.frame[i] + 22, ll.b, 16);
		ck_assert_mem_eq(link.frame[i] + 38, group.b, 16);
	}
	/* Offsets in 8-byte units with M: 0|M, 181|M, 362. */
	ck_assert_uint_eq(us_get_be16(link.frame[0] + 56), 0x0001);
	ck_assert_uint_eq(us_get_be16(link.frame[1] + 56), 0x05a9);
	ck_assert_uint_eq(us_get_be16(link.frame[2] + 56), 0x0b50);
	uint32_t id;
	ck_assert_uint_eq(reassemble_ours(&link, 0, 3, back, &id, 1448), 4000);
	/* The checksum was computed over the whole message before cutting. */
	ck_assert(us_csum_ok(back, 4000, us_csum_pseudo6(&ll, &group, 58, 4000)));
	ck_assert_uint_eq(back[0], US_ICMP6_ECHO_REQUEST);
	ck_assert_uint_eq(us_get_be32(back + 4), 0x00090004);
	ck_assert_mem_eq(back + 8, data, sizeof data);
	ck_assert_uint_eq(ctr(s, "ip6.out_fragmented"), 1);
	ck_assert_uint_eq(ctr(s, "ip6.out_fragments"), 3);
	us_test_stack_free(s);
}
END_TEST

START_TEST(message_of_65535_bytes_leaves_in_46_fragments)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	static uint8_t data[65527], back[65535];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i >> 8 ^ i);
	struct us_ip6 group = ip6("ff02::1"), ll = ip6("fe80::ff:fe00:2");

	ck_assert_int_eq(us_stack_ping6(s, 0, &group, 1, 1, data, sizeof data, 0), 0);
	/* 45 fragments of 1448 and one of 375. */
	ck_assert_int_eq(link.count, 46);
	ck_assert_uint_eq(link.len[45], 14 + 40 + 8 + 375);
	uint32_t id;
	ck_assert_uint_eq(reassemble_ours(&link, 0, 46, back, &id, 1448), 65535);
	ck_assert(us_csum_ok(back, 65535, us_csum_pseudo6(&ll, &group, 58, 65535)));
	ck_assert_mem_eq(back + 8, data, sizeof data);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(fragment_identifications_count_per_destination_from_a_keyed_start)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	static uint8_t data[2000], back[2008];
	struct us_ip6 all_nodes = ip6("ff02::1"), other = ip6("ff02::1:2");
	uint32_t id1, id2, id3;

	ck_assert_int_eq(us_stack_ping6(s, 0, &all_nodes, 1, 1, data, sizeof data, 0), 0);
	ck_assert_int_eq(us_stack_ping6(s, 0, &all_nodes, 1, 2, data, sizeof data, 0), 0);
	ck_assert_int_eq(us_stack_ping6(s, 0, &other, 1, 3, data, sizeof data, 0), 0);
	ck_assert_int_eq(link.count, 6);
	reassemble_ours(&link, 0, 2, back, &id1, 1448);
	reassemble_ours(&link, 2, 2, back, &id2, 1448);
	reassemble_ours(&link, 4, 2, back, &id3, 1448);
	/* RFC 7739 §5.3: one counter per hash slot, starting at random. */
	ck_assert_uint_eq(id2, id1 + 1);
	ck_assert_uint_ne(id3, id2 + 1);
	ck_assert_uint_ne(id3, id1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(output_refuses_what_cannot_be_sent)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	struct us_ip6_tx tx = {
		.dst = ip6("ff02::1"),
		.next_header = US_IPPROTO_NONE,
		.ifindex = -1,
	};

	/* RFC 8200 §3: 16 bits of Payload Length. */
	struct us_pbuf *b = us_stack_alloc(s, 65536);
	ck_assert_ptr_nonnull(b);
	memset(us_pbuf_data(b), 0, b->len);
	ck_assert_int_eq(us_ip6_output(s, b, &tx), -EMSGSIZE);
	ck_assert_uint_eq(ctr(s, "ip6.out_drop_too_big"), 1);
	/* A second interface: a link-local destination needs one named. */
	struct us_iface_config ic = { .name = "test1", .mac = { 2, 0, 0, 0, 0, 3 },
				      .transmit = us_test_link_transmit, .transmit_ctx = &link };
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 1);
	link.count = 0;
	b = us_stack_alloc(s, 8);
	memset(us_pbuf_data(b), 0, 8);
	ck_assert_int_eq(us_ip6_output(s, b, &tx), -ENETUNREACH);
	tx.ifindex = 1;
	b = us_stack_alloc(s, 8);
	memset(us_pbuf_data(b), 0, 8);
	ck_assert_int_eq(us_ip6_output(s, b, &tx), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_mem_eq(link.frame[0] + 6, ic.mac, 6);
	ck_assert_uint_eq(ctr(s, "ip6.out_drop_no_route"), 1);
	us_test_stack_free(s);
}
END_TEST

/* ---- Source address selection (RFC 6724) --------------------------------------------- */

static void expect_src(struct us_stack *s, const char *dst, const char *want)
{
	struct us_ip6 d = ip6(dst), got, w = ip6(want);
	ck_assert_int_eq(us_ip6_select_src(s, &s->iface[0], &d, &got), 0);
	char text[US_IP6_TEXT_MAX];
	us_ip6_format(&got, text);
	ck_assert_msg(memcmp(got.b, w.b, 16) == 0, "for %s: got %s, want %s", dst, text, want);
	ck_assert_int_eq(us_ip6_select_src(s, NULL, &d, &got), 0);
	ck_assert_mem_eq(got.b, w.b, 16);
}

static void add_addr(struct us_stack *s, const char *text, int prefix_len)
{
	struct us_ip6 a = ip6(text);
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &a, prefix_len), 0);
}

static struct us_addr6 *addr_entry(struct us_stack *s, const char *text)
{
	struct us_ip6 a = ip6(text);
	for (int i = 0; i < US_MAX_ADDR6; i++)
		if (s->iface[0].addr6[i].used && memcmp(s->iface[0].addr6[i].addr.b, a.b, 16) == 0)
			return &s->iface[0].addr6[i];
	ck_abort_msg("no address %s", text);
	return NULL;
}

START_TEST(source_selection_follows_rfc_6724)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);

	/* Rule 2: the scope that fits. */
	expect_src(s, "fe80::1", "fe80::ff:fe00:2");
	expect_src(s, "ff02::1", "fe80::ff:fe00:2");
	expect_src(s, "ff0e::1", "2001:db8:1::2");
	expect_src(s, "2001:db8:1::1", "2001:db8:1::2");

	add_addr(s, "2001:db8:2::2", 64);
	add_addr(s, "f000::2", 64);
	add_addr(s, "fd00:1::2", 3);
	/* Rule 8: the longest common prefix, up to the source's prefix. */
	expect_src(s, "2001:db8:1::1", "2001:db8:1::2");
	expect_src(s, "2001:db8:2::99", "2001:db8:2::2");
	expect_src(s, "ff0e::1", "f000::2"); /* 4 bits in common, the others 0 */
	/* Rule 1: the destination itself. */
	expect_src(s, "2001:db8:2::2", "2001:db8:2::2");
	/* Rule 6 before rule 8: fd00:1::2/3 shares 3 bits with fd00:5::1 (its
	 * prefix caps it), f000::2 shares 4, but only the former is labelled
	 * 13 (fc00::/7) like the destination. */
	expect_src(s, "fd00:5::1", "fd00:1::2");
	/* Rule 3 before rule 8: avoid a deprecated address. */
	addr_entry(s, "2001:db8:2::2")->state = US_ADDR6_DEPRECATED;
	expect_src(s, "2001:db8:2::99", "2001:db8:1::2");
	/* ... but it is still a candidate: rule 1 comes first. */
	expect_src(s, "2001:db8:2::2", "2001:db8:2::2");
	/* Tentative and duplicate addresses are never candidates. */
	addr_entry(s, "2001:db8:2::2")->state = US_ADDR6_TENTATIVE;
	addr_entry(s, "2001:db8:1::2")->state = US_ADDR6_DUPLICATE;
	expect_src(s, "2001:db8:2::99", "f000::2");
	for (int i = 0; i < US_MAX_ADDR6; i++)
		if (s->iface[0].addr6[i].used)
			s->iface[0].addr6[i].state = US_ADDR6_TENTATIVE;
	struct us_ip6 d = ip6("2001:db8:2::99"), got;
	ck_assert_int_eq(us_ip6_select_src(s, &s->iface[0], &d, &got), -EADDRNOTAVAIL);
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("ip6");
	TCase *in = tcase_create("input");
	tcase_add_test(in, packet_shorter_than_40_bytes_is_dropped_at_every_length);
	tcase_add_test(in, version_other_than_6_and_jumbo_payload_length_are_dropped);
	tcase_add_test(in, link_padding_after_the_payload_is_not_echoed);
	tcase_add_test(in, bad_source_and_destination_addresses_are_dropped_each_by_its_counter);
	tcase_add_test(in, tentative_destination_gets_nothing_but_dad_reaches_nd6);
	suite_add_tcase(s, in);

	TCase *ext = tcase_create("extension_headers");
	tcase_add_test(ext, malformed_extension_headers_are_dropped_each_by_its_counter);
	tcase_add_test(ext, hop_by_hop_not_first_gets_parameter_problem_code_1);
	tcase_add_test(ext, unknown_options_act_by_their_two_high_bits);
	tcase_add_test(ext, routing_header_is_ignored_at_segments_left_0_and_refused_above);
	tcase_add_test(ext, unrecognized_next_header_gets_parameter_problem_code_1_at_its_field);
	suite_add_tcase(s, ext);

	TCase *frag = tcase_create("fragments");
	tcase_add_test(frag, fragmented_echo_request_is_reassembled_and_answered);
	tcase_add_test(frag, large_fragmented_echo_request_gets_a_fragmented_reply);
	tcase_add_test(frag, atomic_fragment_is_processed_at_once);
	tcase_add_test(frag, ndp_messages_in_fragments_are_ignored);
	tcase_add_test(frag, fragment_with_bad_length_or_past_65535_gets_parameter_problem);
	tcase_add_test(frag, first_fragment_without_whole_chain_gets_parameter_problem_code_3);
	tcase_add_test(frag, fragment_inside_a_reassembled_packet_is_dropped);
	tcase_add_test(frag, reassembly_timeout_sends_time_exceeded_quoting_the_first_fragment);
	suite_add_tcase(s, frag);

	TCase *out = tcase_create("output");
	tcase_add_test(out, message_of_4000_bytes_leaves_in_three_fragments_at_mtu_1500);
	tcase_add_test(out, message_of_65535_bytes_leaves_in_46_fragments);
	tcase_add_test(out, fragment_identifications_count_per_destination_from_a_keyed_start);
	tcase_add_test(out, output_refuses_what_cannot_be_sent);
	tcase_add_test(out, source_selection_follows_rfc_6724);
	suite_add_tcase(s, out);
	return s;
}

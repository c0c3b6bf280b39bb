/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/stack/ip_input.c and ip_output.c: every input drop
 * reason (RFC 1122 §3.2.1, §3.3.1, §3.3.6), reassembly into delivery,
 * routing (connected, gateway, default, longest match), per-destination
 * Identification (RFC 6864, RFC 7739), fragmentation (RFC 791 §3.2) and the
 * path MTU cache (RFC 1191).
 *
 * The stack is 02:00:00:00:00:02 / 198.51.100.2/24; the peer 02:00:00:00:00:01
 * / 198.51.100.1. Frames leave through ARP (arp.c): tests first make the
 * stack learn a neighbour's MAC with an ARP request from it for our address
 * (RFC 826's merge rule creates the entry). Identification values are a
 * keyed hash (ip_output.c); with the harness's fixed secret the first
 * datagram from .2 to .1 with protocol 253 has ID 0x2b26 and the first to .7
 * has 0x1de4 (SipHash-2-4, key 00..0f, computed independently of the C code).
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <ustack/core.h>

#include "ip.h"
#include "stack.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

#define STACK_IP 0xc6336402u /* 198.51.100.2 */
#define PEER_IP 0xc6336401u  /* 198.51.100.1 */
#define PEER7_IP 0xc6336407u /* 198.51.100.7 */
#define EXPERIMENTAL 253     /* RFC 3692 protocol number: nobody here speaks it */

static const uint8_t stack_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void mac_of(uint8_t last, uint8_t mac[6])
{
	static const uint8_t base[6] = { 2, 0, 0, 0, 0, 0 };
	memcpy(mac, base, 6);
	mac[5] = last;
}

static void learn_neighbour(struct us_stack *s, struct us_test_link *link, uint32_t ip,
			    uint8_t last)
{
	us_test_meet_ipv4(s, link, 0, ip, last);
}

static struct us_stack *stack_with_peer(struct us_test_link *link)
{
	struct us_stack *s = us_test_stack(link, 1);
	learn_neighbour(s, link, PEER_IP, 1);
	return s;
}

static struct us_ipv4_hdr from_peer(uint8_t proto)
{
	return (struct us_ipv4_hdr){ .id = 0x1234, .ttl = 64, .proto = proto, .src = PEER_IP,
				     .dst = STACK_IP };
}

/* An Ethernet frame from the peer carrying the datagram h + payload. */
static size_t ip_frame(uint8_t *f, size_t cap, const uint8_t dst_mac[6], struct us_ipv4_hdr h,
		       const uint8_t *payload, size_t plen)
{
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV4 };
	memcpy(eth.dst, dst_mac, 6);
	mac_of(1, eth.src);
	size_t n = us_eth_emit(&eth, f, cap);
	h.payload_len = plen;
	size_t hl = us_ipv4_emit(&h, f + n, cap - n);
	ck_assert_uint_gt(hl, 0);
	ck_assert_uint_le(n + hl + plen, cap);
	memcpy(f + n + hl, payload, plen);
	return n + hl + plen;
}

/* An echo request message with len bytes of data (byte i = i * 3). */
static size_t echo_msg(uint8_t *buf, size_t cap, uint16_t id, uint16_t seq, size_t len)
{
	ck_assert_uint_le(8 + len, cap);
	for (size_t i = 0; i < len; i++)
		buf[8 + i] = (uint8_t)(i * 3);
	struct us_icmp4_hdr h = { .type = US_ICMP4_ECHO, .rest = us_icmp4_echo_rest(id, seq),
				  .payload_len = len };
	ck_assert_uint_eq(us_icmp4_emit(&h, buf, cap), 8);
	return 8 + len;
}

static struct us_ipv4_hdr sent_ip(const struct us_test_link *link, int i)
{
	ck_assert_int_lt(i, link->count);
	ck_assert_uint_eq(us_get_be16(link->frame[i] + 12), 0x0800);
	struct us_ipv4_hdr h;
	ck_assert_int_eq(us_ipv4_parse(link->frame[i] + 14, link->len[i] - 14, &h), US_WIRE_OK);
	return h;
}

/* Sends len bytes (byte i = i) to dst with protocol 253 through us_ip_output. */
static int send_payload(struct us_stack *s, uint32_t dst, uint32_t len, bool df)
{
	struct us_pbuf *b = us_stack_alloc(s, len);
	ck_assert_ptr_nonnull(b);
	for (uint32_t i = 0; i < len; i++)
		us_pbuf_data(b)[i] = (uint8_t)i;
	struct us_ip_tx tx = { .dst = dst, .proto = EXPERIMENTAL, .df = df, .ifindex = -1 };
	return us_ip_output(s, b, &tx);
}

/* ---- Input: the header ------------------------------------------------------ */

/* A 28-byte echo request from the peer, header and ICMP header only. */
static const char small_echo[] =
	"02 00 00 00 00 02 02 00 00 00 00 01 08 00"  /* to us, from the peer, IPv4 */
	" 45 00 00 1c 12 34 00 00"                   /* v4 IHL 5, length 28, ID 0x1234 */
	" 40 01 00 00 c6 33 64 01 c6 33 64 02"       /* TTL 64, ICMP, checksum (filled), .1 -> .2 */
	" 08 00 f7 fe 00 01 00 00";                  /* echo request id 1 seq 0 */

static size_t small_echo_frame(uint8_t *f, size_t cap)
{
	size_t n = us_test_hex(small_echo, f, cap);
	us_csum_fill(f + 14, 20, 10, 0);
	return n;
}

START_TEST(truncated_datagrams_are_dropped_at_every_length)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t f[64];
	size_t n = small_echo_frame(f, sizeof f);
	for (size_t len = 14; len < 14 + 20; len++)
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, len), 0);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_truncated"), 20);
	/* A whole header, but less than Total Length says. */
	for (size_t len = 14 + 20; len < n; len++)
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, len), 0);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_bad_total_len"), 8);
	ck_assert_uint_eq(us_stack_counter(s, "ip.in"), 28);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(each_header_error_has_its_own_counter)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t f[64];
	size_t n;
	const struct {
		size_t at;
		uint8_t value;
		const char *ctr;
	} cases[] = {
		{ 0, 0x65, "ip.drop_bad_version" },   /* version 6 under EtherType IPv4 */
		{ 0, 0x44, "ip.drop_bad_hdr_len" },   /* IHL 4 */
		{ 0, 0x48, "ip.drop_hdr_past_end" },  /* IHL 8: 32 bytes, 28 present */
		{ 3, 0x13, "ip.drop_bad_total_len" }, /* length 19, under the header */
	};
	for (int i = 0; i < 4; i++) {
		n = small_echo_frame(f, sizeof f);
		f[14 + cases[i].at] = cases[i].value;
		f[14 + 10] = f[14 + 11] = 0;
		us_csum_fill(f + 14, 20, 10, 0);
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
		ck_assert_uint_eq(us_stack_counter(s, cases[i].ctr), 1);
	}
	n = small_echo_frame(f, sizeof f);
	f[14 + 11] ^= 0x01; /* a checksum one bit off */
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_bad_checksum"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(malformed_options_have_their_own_counters)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t f[64];
	const char *frames[] = {
		/* IHL 6: a Timestamp option (68) claiming 8 bytes in a 4-byte area. */
		"02 00 00 00 00 02 02 00 00 00 00 01 08 00 46 00 00 20 12 34 00 00"
		" 40 01 00 00 c6 33 64 01 c6 33 64 02 44 08 05 00 08 00 f7 fe 00 01 00 00",
		/* IHL 6: Record Route (7) with a length of 1. */
		"02 00 00 00 00 02 02 00 00 00 00 01 08 00 46 00 00 20 12 34 00 00"
		" 40 01 00 00 c6 33 64 01 c6 33 64 02 07 01 00 00 08 00 f7 fe 00 01 00 00",
	};
	for (int i = 0; i < 2; i++) {
		size_t n = us_test_hex(frames[i], f, sizeof f);
		us_csum_fill(f + 14, 24, 10, 0);
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	}
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_opt_past_end"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_opt_bad_len"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_fragment_that_would_end_past_65535_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t f[128];
	uint8_t data[16] = { 0 };
	/* The "ping of death": offset 65528 + 16 bytes. The parser refuses it. */
	struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
	h.frag_offset = 65528;
	size_t n = ip_frame(f, sizeof f, stack_mac, h, data, 16);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	/* Offset 65512 + 8 ends at 65520: fine for the parser, but no
	 * datagram with a header in front can be that long. */
	h.frag_offset = 65512;
	n = ip_frame(f, sizeof f, stack_mac, h, data, 8);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_frag_too_big"), 2);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- Input: addresses ---------------------------------------------------------- */

START_TEST(a_datagram_for_another_host_is_dropped_not_forwarded)
{
	struct us_test_link link = { 0 }, link2 = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	struct us_iface_config ic = { .name = "test1", .mac = { 2, 0, 0, 0, 1, 2 },
				      .transmit = us_test_link_transmit, .transmit_ctx = &link2 };
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 1);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 1, 0xcb007105u, 24), 0);
	link2.count = 0; /* its gratuitous ARP */
	static uint8_t f[128];
	uint8_t msg[16];
	size_t m = echo_msg(msg, sizeof msg, 1, 1, 0);
	struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
	h.dst = 0xc6336409u; /* 198.51.100.9: a neighbour, not us */
	size_t n = ip_frame(f, sizeof f, stack_mac, h, msg, m);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	/* Strong end system: our other interface's address is not taken here. */
	h.dst = 0xcb007105u;
	n = ip_frame(f, sizeof f, stack_mac, h, msg, m);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	/* No multicast group is joined. */
	h.dst = 0xe0000001u;
	n = ip_frame(f, sizeof f, stack_mac, h, msg, m);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_not_for_us"), 3);
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(link2.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(broadcast_destinations_are_accepted)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t f[128];
	uint8_t msg[16];
	size_t m = echo_msg(msg, sizeof msg, 1, 1, 0);
	const uint32_t dsts[] = { 0xffffffffu, 0xc63364ffu };
	for (int i = 0; i < 2; i++) {
		struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
		h.dst = dsts[i];
		size_t n = ip_frame(f, sizeof f, bcast_mac, h, msg, m);
		us_stack_input(s, 0, 0, f, n);
	}
	/* They reach ICMP (which then ignores broadcast pings). */
	ck_assert_uint_eq(us_stack_counter(s, "ip.in_delivered"), 2);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.in_echo_requests"), 2);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_not_for_us"), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_unicast_datagram_in_a_link_layer_broadcast_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t f[128];
	uint8_t msg[16];
	size_t m = echo_msg(msg, sizeof msg, 1, 1, 0);
	size_t n = ip_frame(f, sizeof f, bcast_mac, from_peer(US_IPPROTO_ICMP), msg, m);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_link_bcast_unicast"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(martian_sources_are_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t f[128];
	uint8_t msg[16];
	size_t m = echo_msg(msg, sizeof msg, 1, 1, 0);
	const uint32_t srcs[] = {
		0,	       /* this host */
		0x00000005u, /* a host on "this network" */
		0x7f000001u, /* loopback */
		0xe0000001u, /* multicast */
		0xf0000001u, /* class E */
		0xffffffffu, /* limited broadcast */
		0xc63364ffu, /* our subnet's broadcast */
		STACK_IP,    /* ourselves */
	};
	for (int i = 0; i < 8; i++) {
		struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
		h.src = srcs[i];
		size_t n = ip_frame(f, sizeof f, stack_mac, h, msg, m);
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	}
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_martian_src"), 8);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_host_answers_datagrams_with_ttl_0_and_1)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t f[128];
	uint8_t msg[16];
	size_t m = echo_msg(msg, sizeof msg, 1, 1, 4);
	for (uint8_t ttl = 0; ttl < 2; ttl++) {
		struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
		h.ttl = ttl;
		size_t n = ip_frame(f, sizeof f, stack_mac, h, msg, m);
		ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	}
	ck_assert_int_eq(link.count, 2);
	ck_assert_uint_eq(sent_ip(&link, 1).ttl, 64);
	us_test_stack_free(s);
}
END_TEST

START_TEST(source_routed_datagrams_are_dropped_other_options_ignored)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t f[64];
	const char *frames[] = {
		/* IHL 7: NOP, Loose Source Route (0x83), length 7, pointer 8 (done), one hop. */
		"02 00 00 00 00 02 02 00 00 00 00 01 08 00 47 00 00 24 12 34 00 00"
		" 40 01 00 00 c6 33 64 01 c6 33 64 02 01 83 07 08 c6 33 64 09"
		" 08 00 f7 fe 00 01 00 00",
		/* The same with Strict Source Route (0x89). */
		"02 00 00 00 00 02 02 00 00 00 00 01 08 00 47 00 00 24 12 34 00 00"
		" 40 01 00 00 c6 33 64 01 c6 33 64 02 01 89 07 08 c6 33 64 09"
		" 08 00 f7 fe 00 01 00 00",
		/* NOP, Record Route (7), length 7, pointer 4 (room for one): ignored. */
		"02 00 00 00 00 02 02 00 00 00 00 01 08 00 47 00 00 24 12 34 00 00"
		" 40 01 00 00 c6 33 64 01 c6 33 64 02 01 07 07 04 00 00 00 00"
		" 08 00 f7 fe 00 01 00 00",
	};
	for (int i = 0; i < 3; i++) {
		size_t n = us_test_hex(frames[i], f, sizeof f);
		us_csum_fill(f + 14, 28, 10, 0);
		ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), i < 2 ? -EINVAL : 0);
	}
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_source_route"), 2);
	/* The Record Route datagram was answered, without options. */
	ck_assert_int_eq(link.count, 1);
	struct us_ipv4_hdr r = sent_ip(&link, 0);
	ck_assert_uint_eq(r.hdr_len, 20);
	ck_assert_uint_eq(r.payload[0], US_ICMP4_ECHO_REPLY);
	us_test_stack_free(s);
}
END_TEST

/* ---- Input: reassembly --------------------------------------------------------- */

/* With reass.c (helper "link4"): an echo request of 3008 ICMP bytes in
 * three fragments, the last first, is answered in three fragments. */
START_TEST(a_fragmented_echo_request_is_reassembled_and_answered_in_fragments)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t msg[3008], f[1600];
	size_t m = echo_msg(msg, sizeof msg, 0x77, 3, 3000);
	const uint16_t offs[] = { 2960, 0, 1480 };
	for (int i = 0; i < 3; i++) {
		struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
		h.frag_offset = offs[i];
		h.mf = offs[i] != 2960;
		size_t len = offs[i] == 2960 ? m - 2960 : 1480;
		size_t n = ip_frame(f, sizeof f, stack_mac, h, msg + offs[i], len);
		ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
		ck_assert_int_eq(link.count, i < 2 ? 0 : 3);
	}
	ck_assert_uint_eq(us_stack_counter(s, "ip.in_fragments"), 3);
	ck_assert_uint_eq(us_stack_counter(s, "ip.reassembled"), 1);
	static uint8_t whole[3008];
	for (int i = 0; i < 3; i++) {
		struct us_ipv4_hdr r = sent_ip(&link, i);
		ck_assert_uint_eq(r.frag_offset, 1480u * (unsigned)i);
		ck_assert(r.mf == (i < 2));
		ck_assert_uint_eq(r.payload_len, i < 2 ? 1480 : 48);
		ck_assert_uint_eq(r.dst, PEER_IP);
		memcpy(whole + r.frag_offset, r.payload, r.payload_len);
	}
	struct us_icmp4_hdr e;
	ck_assert_int_eq(us_icmp4_parse(whole, sizeof whole, &e), US_WIRE_OK);
	ck_assert_uint_eq(e.type, US_ICMP4_ECHO_REPLY);
	ck_assert_uint_eq(us_icmp4_echo_id(&e), 0x77);
	ck_assert_uint_eq(us_icmp4_echo_seq(&e), 3);
	ck_assert_mem_eq(whole + 8, msg + 8, 3000);
	us_test_stack_free(s);
}
END_TEST

/* ---- Output: fragmentation --------------------------------------------------- */

START_TEST(a_4000_byte_datagram_leaves_in_three_exact_fragments)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(send_payload(s, PEER_IP, 4000, false), 0);
	ck_assert_int_eq(link.count, 3);
	uint8_t want[3][20];
	us_test_hex("45 00 05 dc 2b 26 20 00"              /* length 1500, ID, MF, offset 0 */
		    " 40 fd d4 94 c6 33 64 02 c6 33 64 01", /* TTL 64, protocol 253, .2 -> .1 */
		    want[0], 20);
	us_test_hex("45 00 05 dc 2b 26 20 b9"              /* length 1500, MF, offset 185 (1480) */
		    " 40 fd d3 db c6 33 64 02 c6 33 64 01",
		    want[1], 20);
	us_test_hex("45 00 04 24 2b 26 01 72"              /* length 1060, offset 370 (2960) */
		    " 40 fd f4 da c6 33 64 02 c6 33 64 01",
		    want[2], 20);
	const size_t lens[] = { 1480, 1480, 1040 };
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(link.len[i], 14 + 20 + lens[i]);
		ck_assert_mem_eq(link.frame[i], "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
		ck_assert_mem_eq(link.frame[i] + 14, want[i], 20);
		for (size_t j = 0; j < lens[i]; j++)
			ck_assert_uint_eq(link.frame[i][34 + j], (uint8_t)(1480 * i + j));
	}
	ck_assert_uint_eq(us_stack_counter(s, "ip.out_fragmented"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "ip.out_fragments"), 3);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_64_kb_datagram_leaves_in_45_fragments)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(send_payload(s, PEER_IP, 65515, false), 0);
	ck_assert_int_eq(link.count, 45);
	uint16_t id = sent_ip(&link, 0).id;
	for (int i = 0; i < 45; i++) {
		struct us_ipv4_hdr h = sent_ip(&link, i);
		ck_assert_uint_eq(h.id, id);
		ck_assert_uint_eq(h.frag_offset, 1480u * (unsigned)i);
		ck_assert(h.mf == (i < 44));
		ck_assert(!h.df);
		ck_assert_uint_eq(h.payload_len, i < 44 ? 1480 : 65515 - 44 * 1480);
		for (size_t j = 0; j < h.payload_len; j++)
			ck_assert_uint_eq(h.payload[j], (uint8_t)(h.frag_offset + j));
	}
	/* One byte more does not fit in an IPv4 datagram at all. */
	ck_assert_int_eq(send_payload(s, PEER_IP, 65516, false), -EMSGSIZE);
	ck_assert_uint_eq(us_stack_counter(s, "ip.out_too_big"), 1);
	ck_assert_int_eq(link.count, 45);
	us_test_stack_free(s);
}
END_TEST

START_TEST(dont_fragment_and_too_big_is_emsgsize)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(send_payload(s, PEER_IP, 1481, true), -EMSGSIZE);
	ck_assert_uint_eq(us_stack_counter(s, "ip.out_df_too_big"), 1);
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(send_payload(s, PEER_IP, 1480, true), 0);
	ck_assert_int_eq(link.count, 1);
	struct us_ipv4_hdr h = sent_ip(&link, 0);
	ck_assert(h.df && !h.mf);
	ck_assert_uint_eq(h.total_len, 1500);
	/* DF datagrams take their ID from the same per-destination counter. */
	ck_assert_uint_eq(h.id, 0x2b26);
	us_test_stack_free(s);
}
END_TEST

START_TEST(fragments_follow_a_learned_path_mtu)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert(us_ip_pmtu_learn(s, PEER_IP, 1000));
	ck_assert_uint_eq(us_ip_pmtu(s, PEER_IP), 1000);
	ck_assert_int_eq(send_payload(s, PEER_IP, 1480, false), 0);
	ck_assert_int_eq(link.count, 2);
	ck_assert_uint_eq(sent_ip(&link, 0).total_len, 996); /* 976 data: a multiple of 8 */
	ck_assert_uint_eq(sent_ip(&link, 1).frag_offset, 976);
	ck_assert_uint_eq(sent_ip(&link, 1).payload_len, 504);
	ck_assert_int_eq(send_payload(s, PEER_IP, 981, true), -EMSGSIZE);
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_path_mtu_cache_is_bounded_and_never_above_the_link)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, PEER_IP, 0), 0);
	/* Not above the link MTU, nor for a destination with no route. */
	ck_assert(!us_ip_pmtu_learn(s, PEER_IP, 9000));
	ck_assert(!us_ip_pmtu_learn(s, PEER_IP, 1500));
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, PEER_IP, 0), 0);
	ck_assert_uint_eq(us_ip_pmtu(s, 0x7f000001u), 576);
	/* 20 destinations learned one second apart: the 16 latest stay. */
	for (uint32_t i = 0; i < 20; i++) {
		s->now = US_SEC(i);
		ck_assert(us_ip_pmtu_learn(s, 0xcb007100u + i, 1400 - i));
	}
	for (uint32_t i = 0; i < 20; i++)
		ck_assert_uint_eq(us_ip_pmtu(s, 0xcb007100u + i), i < 4 ? 1500 : 1400 - i);
	ck_assert_int_eq(us_ip_next_deadline(s), US_SEC(4) + US_SEC(600));
	us_test_stack_free(s);
}
END_TEST

/* ---- Routing ------------------------------------------------------------------ */

START_TEST(routes_pick_connected_gateway_default_by_longest_match)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	struct us_iface *ifc;
	uint32_t hop, src;
	ck_assert_int_eq(us_ip_route(s, PEER_IP, &ifc, &hop, &src), 0);
	ck_assert_int_eq(ifc->index, 0);
	ck_assert_uint_eq(hop, PEER_IP);
	ck_assert_uint_eq(src, STACK_IP);
	/* No default route yet. */
	ck_assert_int_eq(us_ip_route(s, 0x08080808u, &ifc, &hop, &src), -ENETUNREACH);

	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, PEER_IP, 0), 0);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a010000u, 16, PEER7_IP, 0), 0);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, 0xc63364feu, 0), 0);
	ck_assert_int_eq(us_ip_route(s, 0x0a010203u, &ifc, &hop, &src), 0); /* 10.1.2.3 */
	ck_assert_uint_eq(hop, PEER7_IP);
	ck_assert_int_eq(us_ip_route(s, 0x0a020001u, &ifc, &hop, &src), 0); /* 10.2.0.1 */
	ck_assert_uint_eq(hop, PEER_IP);
	ck_assert_int_eq(us_ip_route(s, 0x08080808u, &ifc, &hop, &src), 0); /* 8.8.8.8 */
	ck_assert_uint_eq(hop, 0xc63364feu);
	ck_assert_uint_eq(src, STACK_IP);
	/* The connected subnet is still reached directly. */
	ck_assert_int_eq(us_ip_route(s, 0xc6336480u, &ifc, &hop, &src), 0);
	ck_assert_uint_eq(hop, 0xc6336480u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_connected_route_wins_over_a_gateway_route_of_equal_length)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint32_t hop;
	ck_assert_int_eq(us_stack_add_route4(s, 0xc6336400u, 24, PEER7_IP, 0), 0);
	ck_assert_int_eq(us_ip_route(s, 0xc6336409u, NULL, &hop, NULL), 0);
	ck_assert_uint_eq(hop, 0xc6336409u);
	/* A longer gateway route does win. */
	ck_assert_int_eq(us_stack_add_route4(s, 0xc6336408u, 29, PEER7_IP, 0), 0);
	ck_assert_int_eq(us_ip_route(s, 0xc6336409u, NULL, &hop, NULL), 0);
	ck_assert_uint_eq(hop, PEER7_IP);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_on_link_route_sends_directly_from_the_first_address)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint32_t hop, src;
	ck_assert_int_eq(us_stack_add_route4(s, 0xc0000200u, 24, 0, 0), 0); /* 192.0.2.0/24 */
	ck_assert_int_eq(us_ip_route(s, 0xc0000205u, NULL, &hop, &src), 0);
	ck_assert_uint_eq(hop, 0xc0000205u);
	ck_assert_uint_eq(src, STACK_IP);
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_source_is_the_address_on_the_next_hops_subnet)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0xcb007105u, 24), 0); /* 203.0.113.5 */
	uint32_t hop, src;
	ck_assert_int_eq(us_ip_route(s, 0xcb007109u, NULL, &hop, &src), 0);
	ck_assert_uint_eq(src, 0xcb007105u);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, 0xcb007101u, 0), 0);
	ck_assert_int_eq(us_ip_route(s, 0x0a000001u, NULL, &hop, &src), 0);
	ck_assert_uint_eq(hop, 0xcb007101u);
	ck_assert_uint_eq(src, 0xcb007105u);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, PEER_IP, 0), 0);
	ck_assert_int_eq(us_ip_route(s, 0x08080808u, NULL, &hop, &src), 0);
	ck_assert_uint_eq(src, STACK_IP);
	us_test_stack_free(s);
}
END_TEST

START_TEST(some_destinations_are_never_routed)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, PEER_IP, 0), 0);
	const uint32_t dsts[] = { 0, 0x00000005u, 0x7f000001u, 0xffffffffu, STACK_IP };
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(us_ip_route(s, dsts[i], NULL, NULL, NULL), -ENETUNREACH);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(send_payload(s, dsts[i], 10, false), -ENETUNREACH);
	ck_assert_uint_eq(us_stack_counter(s, "ip.out_no_route"), 5);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(add_route4_checks_its_arguments)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	ck_assert_int_eq(us_stack_add_route4(NULL, 0, 0, PEER_IP, 0), -EINVAL);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 33, PEER_IP, 0), -EINVAL);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, -1, PEER_IP, 0), -EINVAL);
	/* Host bits set under the prefix. */
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000001u, 8, PEER_IP, 0), -EINVAL);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, PEER_IP, 1), -ENODEV);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, PEER_IP, -1), -ENODEV);
	/* The gateway must be a neighbour on a connected subnet. */
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, 0xcb007101u, 0), -EINVAL);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, STACK_IP, 0), -EINVAL);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, 0xc63364ffu, 0), -EINVAL);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, PEER_IP, 0), 0);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0a000000u, 8, PEER7_IP, 0), -EEXIST);
	for (uint32_t i = 1; i < US_IP_MAX_ROUTES; i++)
		ck_assert_int_eq(us_stack_add_route4(s, 0x0b000000u + (i << 8), 24, PEER_IP, 0), 0);
	ck_assert_int_eq(us_stack_add_route4(s, 0x0c000000u, 8, PEER_IP, 0), -ENOSPC);
	us_test_stack_free(s);
}
END_TEST

START_TEST(limited_broadcast_needs_an_interface)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	struct us_pbuf *b = us_stack_alloc(s, 8);
	memset(us_pbuf_data(b), 0, 8);
	struct us_ip_tx tx = { .dst = 0xffffffffu, .proto = EXPERIMENTAL, .ifindex = -1 };
	ck_assert_int_eq(us_ip_output(s, b, &tx), -ENETUNREACH);
	b = us_stack_alloc(s, 8);
	memset(us_pbuf_data(b), 0, 8);
	tx.ifindex = 0;
	ck_assert_int_eq(us_ip_output(s, b, &tx), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_mem_eq(link.frame[0], bcast_mac, 6);
	struct us_ipv4_hdr h = sent_ip(&link, 0);
	ck_assert_uint_eq(h.src, STACK_IP);
	ck_assert_uint_eq(h.dst, 0xffffffffu);
	us_test_stack_free(s);
}
END_TEST

START_TEST(multicast_leaves_with_ttl_1_to_the_group_mac)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	struct us_pbuf *b = us_stack_alloc(s, 8);
	memset(us_pbuf_data(b), 0, 8);
	struct us_ip_tx tx = { .dst = 0xe00000fbu, .proto = EXPERIMENTAL, .ifindex = 0 };
	ck_assert_int_eq(us_ip_output(s, b, &tx), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_mem_eq(link.frame[0], "\x01\x00\x5e\x00\x00\xfb", 6);
	ck_assert_uint_eq(sent_ip(&link, 0).ttl, 1);
	us_test_stack_free(s);
}
END_TEST

/* ---- Identification ------------------------------------------------------------ */

START_TEST(ids_count_per_destination_and_differ_across_destinations)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	learn_neighbour(s, &link, PEER7_IP, 7);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(send_payload(s, PEER_IP, 8, false), 0);
		ck_assert_int_eq(send_payload(s, PEER7_IP, 8, false), 0);
	}
	ck_assert_int_eq(link.count, 6);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(sent_ip(&link, 2 * i).id, 0x2b26 + i);
		ck_assert_uint_eq(sent_ip(&link, 2 * i + 1).id, 0x1de4 + i);
	}
	/* Another secret, other IDs: they cannot be predicted without it. */
	struct us_stack_config cfg = { .seed = 1, .secret = { 9 } };
	struct us_stack *other = us_stack_new(&cfg);
	ck_assert_uint_ne(us_ip_next_id(other, STACK_IP, PEER_IP, EXPERIMENTAL), 0x2b26);
	us_stack_free(other);
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *su = suite_create("ip");
	TCase *tc = tcase_create("input");
	tcase_add_test(tc, truncated_datagrams_are_dropped_at_every_length);
	tcase_add_test(tc, each_header_error_has_its_own_counter);
	tcase_add_test(tc, malformed_options_have_their_own_counters);
	tcase_add_test(tc, a_fragment_that_would_end_past_65535_is_dropped);
	tcase_add_test(tc, a_datagram_for_another_host_is_dropped_not_forwarded);
	tcase_add_test(tc, broadcast_destinations_are_accepted);
	tcase_add_test(tc, a_unicast_datagram_in_a_link_layer_broadcast_is_dropped);
	tcase_add_test(tc, martian_sources_are_dropped);
	tcase_add_test(tc, a_host_answers_datagrams_with_ttl_0_and_1);
	tcase_add_test(tc, source_routed_datagrams_are_dropped_other_options_ignored);
	tcase_add_test(tc, a_fragmented_echo_request_is_reassembled_and_answered_in_fragments);
	suite_add_tcase(su, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, a_4000_byte_datagram_leaves_in_three_exact_fragments);
	tcase_add_test(tc, a_64_kb_datagram_leaves_in_45_fragments);
	tcase_add_test(tc, dont_fragment_and_too_big_is_emsgsize);
	tcase_add_test(tc, fragments_follow_a_learned_path_mtu);
	tcase_add_test(tc, the_path_mtu_cache_is_bounded_and_never_above_the_link);
	tcase_add_test(tc, limited_broadcast_needs_an_interface);
	tcase_add_test(tc, multicast_leaves_with_ttl_1_to_the_group_mac);
	tcase_add_test(tc, ids_count_per_destination_and_differ_across_destinations);
	suite_add_tcase(su, tc);

	tc = tcase_create("routing");
	tcase_add_test(tc, routes_pick_connected_gateway_default_by_longest_match);
	tcase_add_test(tc, a_connected_route_wins_over_a_gateway_route_of_equal_length);
	tcase_add_test(tc, an_on_link_route_sends_directly_from_the_first_address);
	tcase_add_test(tc, the_source_is_the_address_on_the_next_hops_subnet);
	tcase_add_test(tc, some_destinations_are_never_routed);
	tcase_add_test(tc, add_route4_checks_its_arguments);
	suite_add_tcase(su, tc);
	return su;
}

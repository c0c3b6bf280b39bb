/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/stack/ip_icmp.c: the echo server (RFC 792, RFC 1122
 * §3.2.2.6), errors we send and when we must not (RFC 1122 §3.2.2), their
 * rate limit, "fragmentation needed" and the path MTU (RFC 1191), errors we
 * receive, and us_stack_ping4.
 *
 * The stack is 02:00:00:00:00:02 / 198.51.100.2/24; the peer 02:00:00:00:00:01
 * / 198.51.100.1. Frames leave through ARP (arp.c): each test first makes the
 * stack learn the peer's MAC with an ARP request from the peer for our
 * address (RFC 826's merge rule creates the entry). The Identification of
 * our datagrams is a keyed hash (ip_output.c): with the harness's fixed
 * secret the first datagram from .2 to .1 with protocol 1 has ID 0x1dcb
 * (SipHash-2-4, key 00..0f, computed independently of the C code).
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
#define FAR_IP 0xcb007109u   /* 203.0.113.9, behind the peer */

static const uint8_t stack_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void mac_of(uint8_t last, uint8_t mac[6])
{
	static const uint8_t base[6] = { 2, 0, 0, 0, 0, 0 };
	memcpy(mac, base, 6);
	mac[5] = last;
}

static void learn_neighbour(struct us_stack *s, struct us_test_link *link, us_time_t now,
			    uint32_t ip, uint8_t last)
{
	us_test_meet_ipv4(s, link, now, ip, last);
}

static struct us_stack *stack_with_peer(struct us_test_link *link)
{
	struct us_stack *s = us_test_stack(link, 1);
	learn_neighbour(s, link, 0, PEER_IP, 1);
	return s;
}

/* An Ethernet frame carrying the IPv4 datagram h + payload. */
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

/* An ICMP message in buf. */
static size_t icmp_msg(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest,
		       const uint8_t *payload, size_t plen)
{
	ck_assert_uint_le(8 + plen, cap);
	if (plen)
		memmove(buf + 8, payload, plen);
	struct us_icmp4_hdr h = { .type = type, .code = code, .rest = rest, .payload_len = plen };
	ck_assert_uint_eq(us_icmp4_emit(&h, buf, cap), 8);
	return 8 + plen;
}

static struct us_ipv4_hdr from_peer(uint8_t proto)
{
	return (struct us_ipv4_hdr){ .id = 0x1234, .ttl = 64, .proto = proto, .src = PEER_IP,
				     .dst = STACK_IP };
}

/* Sends the ICMP message msg/len from src to dst, to our MAC. */
static int inject_icmp(struct us_stack *s, us_time_t now, uint32_t src, uint32_t dst,
		       const uint8_t *msg, size_t len)
{
	static uint8_t f[2048];
	struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
	h.src = src;
	h.dst = dst;
	size_t n = ip_frame(f, sizeof f, stack_mac, h, msg, len);
	return us_stack_input(s, now, 0, f, n);
}

/* Frame i of the link as a parsed IPv4 datagram (after checking Ethernet). */
static struct us_ipv4_hdr sent_ip(const struct us_test_link *link, int i)
{
	ck_assert_int_lt(i, link->count);
	ck_assert_uint_eq(us_get_be16(link->frame[i] + 12), 0x0800);
	struct us_ipv4_hdr h;
	ck_assert_int_eq(us_ipv4_parse(link->frame[i] + 14, link->len[i] - 14, &h), US_WIRE_OK);
	return h;
}

static struct us_icmp4_hdr sent_icmp(const struct us_test_link *link, int i)
{
	struct us_ipv4_hdr ip = sent_ip(link, i);
	ck_assert_uint_eq(ip.proto, US_IPPROTO_ICMP);
	struct us_icmp4_hdr h;
	ck_assert_int_eq(us_icmp4_parse(ip.payload, ip.payload_len, &h), US_WIRE_OK);
	return h;
}

/* ---- Echo ---------------------------------------------------------------- */

/* What iputils ping sends: a 56-byte payload, struct timeval first, then
 * the bytes 0x10..0x37. */
static const char linux_ping[] =
	"02 00 00 00 00 02 02 00 00 00 00 01 08 00"  /* to us, from the peer, IPv4 */
	" 45 00 00 54 4f 21 40 00"                   /* v4 IHL 5, TOS 0, length 84; ID, DF */
	" 40 01 97 1d c6 33 64 01 c6 33 64 02"       /* TTL 64, ICMP, checksum; .1 -> .2 */
	" 08 00 4a b2 0d 2b 00 01"                   /* echo request, checksum, id 0x0d2b, seq 1 */
	" 6b 5f 3e 65 00 00 00 00 2c 8a 0b 00 00 00 00 00" /* the sender's timeval */
	" 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f"
	" 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f"
	" 30 31 32 33 34 35 36 37";

START_TEST(a_linux_ping_gets_the_exact_echo_reply)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t f[128], want[128];
	size_t n = us_test_hex(linux_ping, f, sizeof f);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	size_t wn = us_test_hex(
		"02 00 00 00 00 01 02 00 00 00 00 02 08 00"  /* to the peer, from us, IPv4 */
		" 45 00 00 54 1d cb 00 00"                   /* length 84; our ID, DF clear */
		" 40 01 08 74 c6 33 64 02 c6 33 64 01"       /* TTL 64, ICMP; from .2, pinged */
		" 00 00 52 b2 0d 2b 00 01"                   /* echo reply, same id and seq */
		" 6b 5f 3e 65 00 00 00 00 2c 8a 0b 00 00 00 00 00" /* the same data */
		" 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f"
		" 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f"
		" 30 31 32 33 34 35 36 37",
		want, sizeof want);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(link.len[0], wn);
	ck_assert_mem_eq(link.frame[0], want, wn);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.in_echo_requests"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.out_echo_replies"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_echo_reply_keeps_the_dscp_and_clears_ecn)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t f[128];
	size_t n = us_test_hex(linux_ping, f, sizeof f);
	f[15] = 0xb9; /* DSCP 46 (EF), ECN CE... */
	f[14 + 10] = 0;
	f[14 + 11] = 0;
	us_csum_fill(f + 14, 20, 10, 0);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(sent_ip(&link, 0).tos, 0xb8);
	us_test_stack_free(s);
}
END_TEST

START_TEST(echo_requests_to_broadcast_addresses_are_ignored)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t f[256];
	uint8_t msg[64];
	uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t m = icmp_msg(msg, sizeof msg, US_ICMP4_ECHO, 0, us_icmp4_echo_rest(7, 1), data, 8);
	const uint32_t dsts[] = { 0xffffffffu, 0xc63364ffu /* 198.51.100.255 */ };
	for (int i = 0; i < 2; i++) {
		struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
		h.dst = dsts[i];
		size_t n = ip_frame(f, sizeof f, bcast_mac, h, msg, m);
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	}
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.in_echo_requests"), 2);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.drop_echo_broadcast"), 2);
	us_test_stack_free(s);
}
END_TEST

START_TEST(icmp_with_a_bad_checksum_or_truncated_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t msg[64];
	uint8_t data[8] = { 0 };
	size_t m = icmp_msg(msg, sizeof msg, US_ICMP4_ECHO, 0, us_icmp4_echo_rest(7, 1), data, 8);
	msg[9] ^= 1;
	ck_assert_int_lt(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.drop_bad_checksum"), 1);
	for (size_t len = 0; len < 8; len++)
		ck_assert_int_lt(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, len), 0);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.drop_truncated"), 8);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.in"), 9);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(unknown_and_unanswered_icmp_types_are_discarded)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t msg[64];
	uint8_t data[12] = { 0 };
	/* Timestamp (13), Address Mask Request (17), and an unassigned type. */
	const uint8_t types[] = { 13, 17, 99 };
	for (int i = 0; i < 3; i++) {
		size_t m = icmp_msg(msg, sizeof msg, types[i], 0, 0, data, sizeof data);
		ck_assert_int_lt(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	}
	ck_assert_uint_eq(us_stack_counter(s, "icmp.drop_unknown_type"), 3);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- Errors we send -------------------------------------------------------- */

static const char unknown_proto[] =
	"02 00 00 00 00 02 02 00 00 00 00 01 08 00"  /* to us, from the peer, IPv4 */
	" 45 00 00 24 12 34 00 00"                   /* length 36, ID 0x1234 */
	" 40 fd 13 3f c6 33 64 01 c6 33 64 02"       /* TTL 64, protocol 253 (RFC 3692), .1 -> .2 */
	" 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"; /* 16 bytes of data */

START_TEST(an_unknown_protocol_gets_the_exact_protocol_unreachable)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t f[128], want[128];
	size_t n = us_test_hex(unknown_proto, f, sizeof f);
	/* Ethernet pads the frame to 60 bytes: the padding is not quoted. */
	memset(f + n, 0xee, 60 - n);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, 60), 0);
	size_t wn = us_test_hex(
		"02 00 00 00 00 01 02 00 00 00 00 02 08 00"  /* to the peer, from us */
		" 45 c0 00 40 1d cb 00 00"                   /* TOS 0xc0 (prec. 6), length 64 */
		" 40 01 07 c8 c6 33 64 02 c6 33 64 01"       /* TTL 64, ICMP, .2 -> .1 */
		" 03 02 c4 bd 00 00 00 00"                   /* unreachable, protocol; unused */
		" 45 00 00 24 12 34 00 00"                   /* the offending datagram, whole */
		" 40 fd 13 3f c6 33 64 01 c6 33 64 02"
		" 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
		want, sizeof want);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(link.len[0], wn);
	ck_assert_mem_eq(link.frame[0], want, wn);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_unknown_protocol"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.out_errors"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_error_quotes_at_most_576_bytes_in_all)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t f[1600], data[1400];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	size_t n = ip_frame(f, sizeof f, stack_mac, from_peer(253), data, sizeof data);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 1);
	struct us_ipv4_hdr ip = sent_ip(&link, 0);
	ck_assert_uint_eq(ip.total_len, 576);
	struct us_icmp4_hdr h = sent_icmp(&link, 0);
	ck_assert_uint_eq(h.payload_len, 548);
	ck_assert_mem_eq(h.payload, f + 14, 548);
	us_test_stack_free(s);
}
END_TEST

/* An offending datagram, header and 16 bytes, to feed us_icmp_error(). */
static size_t offending(uint8_t *buf, size_t cap, struct us_ipv4_hdr h, const uint8_t *data,
		       size_t len)
{
	h.payload_len = len;
	size_t hl = us_ipv4_emit(&h, buf, cap);
	ck_assert_uint_eq(hl, 20);
	memcpy(buf + hl, data, len);
	return hl + len;
}

START_TEST(no_error_is_sent_about_an_icmp_error)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t pkt[128], msg[64];
	uint8_t quoted[28] = { 0x45 };
	size_t m = icmp_msg(msg, sizeof msg, US_ICMP4_DEST_UNREACH, 3, 0, quoted, sizeof quoted);
	size_t n = offending(pkt, sizeof pkt, from_peer(US_IPPROTO_ICMP), msg, m);
	us_icmp_error(s, US_ICMP4_PARAM_PROBLEM, 0, us_icmp4_param_rest(1), pkt, n, false);
	/* Not even about one too short to show its type. */
	n = offending(pkt, sizeof pkt, from_peer(US_IPPROTO_ICMP), msg, 0);
	us_icmp_error(s, US_ICMP4_PARAM_PROBLEM, 0, 0, pkt, n, false);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.error_suppressed_about_error"), 2);
	/* An echo request is not an error: it may be answered with one. */
	m = icmp_msg(msg, sizeof msg, US_ICMP4_ECHO, 0, 0, quoted, 8);
	n = offending(pkt, sizeof pkt, from_peer(US_IPPROTO_ICMP), msg, m);
	us_icmp_error(s, US_ICMP4_PARAM_PROBLEM, 0, 0, pkt, n, false);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(sent_icmp(&link, 0).type, US_ICMP4_PARAM_PROBLEM);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_error_is_sent_about_a_broadcast_or_multicast_destination)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t pkt[64], data[16] = { 0 };
	const uint32_t dsts[] = { 0xffffffffu, 0xc63364ffu, 0xe0000001u };
	for (int i = 0; i < 3; i++) {
		struct us_ipv4_hdr h = from_peer(253);
		h.dst = dsts[i];
		size_t n = offending(pkt, sizeof pkt, h, data, sizeof data);
		us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	}
	ck_assert_uint_eq(us_stack_counter(s, "icmp.error_suppressed_group_dst"), 3);
	/* Through the input path too: unknown protocol to the subnet broadcast. */
	static uint8_t f[128];
	struct us_ipv4_hdr h = from_peer(253);
	h.dst = 0xc63364ffu;
	size_t n = ip_frame(f, sizeof f, bcast_mac, h, data, sizeof data);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "ip.drop_unknown_protocol"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.error_suppressed_group_dst"), 4);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_error_is_sent_about_a_link_layer_broadcast)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t pkt[64], data[16] = { 0 };
	size_t n = offending(pkt, sizeof pkt, from_peer(253), data, sizeof data);
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, true);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.error_suppressed_link_bcast"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_error_is_sent_about_a_non_initial_fragment)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t pkt[64], data[16] = { 0 };
	struct us_ipv4_hdr h = from_peer(253);
	h.frag_offset = 8;
	size_t n = offending(pkt, sizeof pkt, h, data, sizeof data);
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.error_suppressed_fragment"), 1);
	/* The first fragment (offset 0, MF) may be answered. */
	h.frag_offset = 0;
	h.mf = true;
	n = offending(pkt, sizeof pkt, h, data, sizeof data);
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	ck_assert_int_eq(link.count, 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_error_is_sent_to_a_source_that_is_not_one_host)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t pkt[64], data[16] = { 0 };
	/* Zero, loopback, directed broadcast, limited broadcast, multicast, class E. */
	const uint32_t srcs[] = { 0,	       0x7f000001u, 0xc63364ffu,
				  0xffffffffu, 0xe0000001u, 0xf0000001u };
	for (int i = 0; i < 6; i++) {
		struct us_ipv4_hdr h = from_peer(253);
		h.src = srcs[i];
		size_t n = offending(pkt, sizeof pkt, h, data, sizeof data);
		us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	}
	ck_assert_uint_eq(us_stack_counter(s, "icmp.error_suppressed_bad_source"), 6);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_error_is_sent_about_what_cannot_be_parsed)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t pkt[64] = { 0x45 };
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, 19, false);
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, NULL, 0, false);
	pkt[0] = 0x65; /* version 6 */
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, 40, false);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.error_suppressed_malformed"), 3);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(errors_to_one_destination_are_limited_to_a_burst_of_6_then_1_per_second)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t pkt[64], data[16] = { 0 };
	size_t n = offending(pkt, sizeof pkt, from_peer(253), data, sizeof data);
	for (int i = 0; i < 8; i++)
		us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	ck_assert_int_eq(link.count, 6);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.out_rate_limited"), 2);
	s->now = US_MSEC(999);
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	ck_assert_int_eq(link.count, 6);
	s->now = US_SEC(1);
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	ck_assert_int_eq(link.count, 7);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.out_rate_limited"), 4);
	us_test_stack_free(s);
}
END_TEST

START_TEST(errors_to_all_destinations_are_limited_to_a_burst_of_50)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, PEER_IP, 0), 0);
	uint8_t pkt[64], data[16] = { 0 };
	for (uint32_t i = 0; i < 60; i++) {
		struct us_ipv4_hdr h = from_peer(253);
		h.src = 0xcb007100u + 1 + i; /* 203.0.113.1 .. 60, each once */
		size_t n = offending(pkt, sizeof pkt, h, data, sizeof data);
		us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	}
	ck_assert_int_eq(link.count, 50);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.out_rate_limited"), 10);
	/* 1000 per second: 10 ms later, 10 more. */
	s->now = US_MSEC(10);
	for (uint32_t i = 0; i < 12; i++) {
		struct us_ipv4_hdr h = from_peer(253);
		h.src = 0xcb007200u + 1 + i; /* 203.0.114.x: fresh destinations */
		size_t n = offending(pkt, sizeof pkt, h, data, sizeof data);
		us_icmp_error(s, US_ICMP4_DEST_UNREACH, 2, 0, pkt, n, false);
	}
	ck_assert_int_eq(link.count, 60);
	us_test_stack_free(s);
}
END_TEST

START_TEST(reassembly_timeout_sends_time_exceeded_quoting_the_first_fragment)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t pkt[64], want[128];
	size_t n = us_test_hex(
		"45 00 00 24 42 42 20 00"                    /* length 36, ID 0x4242, MF, off 0 */
		" 40 01 c4 2c c6 33 64 01 c6 33 64 02"       /* TTL 64, ICMP, .1 -> .2 */
		" 08 00 f7 f7 00 07 00 01 00 00 00 00 00 00 00 00", /* the echo request's start */
		pkt, sizeof pkt);
	us_icmp_reass_timeout(s, pkt, n);
	size_t wn = us_test_hex(
		"02 00 00 00 00 01 02 00 00 00 00 02 08 00"  /* to the peer, from us */
		" 45 c0 00 40 1d cb 00 00"                   /* TOS 0xc0, length 64 */
		" 40 01 07 c8 c6 33 64 02 c6 33 64 01"       /* TTL 64, ICMP, .2 -> .1 */
		" 0b 01 f4 fe 00 00 00 00"                   /* time exceeded, reassembly; unused */
		" 45 00 00 24 42 42 20 00"                   /* the first fragment, quoted */
		" 40 01 c4 2c c6 33 64 01 c6 33 64 02"
		" 08 00 f7 f7 00 07 00 01 00 00 00 00 00 00 00 00",
		want, sizeof want);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(link.len[0], wn);
	ck_assert_mem_eq(link.frame[0], want, wn);
	us_test_stack_free(s);
}
END_TEST

/* With reass.c (helper "link4"): a first fragment alone times out and the
 * peer hears Time Exceeded, code 1. */
START_TEST(a_lone_first_fragment_times_out_into_time_exceeded)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t f[256];
	uint8_t msg[128], data[64] = { 0 };
	size_t m = icmp_msg(msg, sizeof msg, US_ICMP4_ECHO, 0, us_icmp4_echo_rest(7, 1), data, 64);
	struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
	h.mf = true;
	size_t n = ip_frame(f, sizeof f, stack_mac, h, msg, 32); /* the first 32 of 72 bytes */
	(void)m;
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 0);
	/* Run the timers until nothing is pending (bounded). */
	for (int i = 0; i < 64 && us_stack_next_deadline(s) != US_TIME_NEVER; i++)
		us_stack_poll(s, us_stack_next_deadline(s));
	int te = -1;
	for (int i = 0; i < link.count && i < US_TEST_MAX_FRAMES; i++)
		if (us_get_be16(link.frame[i] + 12) == 0x0800 && sent_icmp(&link, i).type == 11)
			te = i;
	ck_assert_int_ge(te, 0);
	struct us_icmp4_hdr e = sent_icmp(&link, te);
	ck_assert_uint_eq(e.code, US_ICMP4_TIMEX_REASSEMBLY);
	ck_assert_mem_eq(e.payload, f + 14, 20 + 8);
	us_test_stack_free(s);
}
END_TEST

/* ---- Errors we receive ---------------------------------------------------- */

/* An error of type/code about a datagram we sent to dst (header + 8 bytes). */
static size_t error_about_ours(uint8_t *msg, size_t cap, uint8_t type, uint8_t code,
			       uint32_t rest, uint32_t dst, uint16_t total_len)
{
	uint8_t q[28] = { 0 };
	struct us_ipv4_hdr h = { .id = 7, .ttl = 64, .proto = 17, .src = STACK_IP, .dst = dst,
				 .payload_len = total_len - 20u };
	ck_assert_uint_eq(us_ipv4_emit(&h, q, sizeof q), 20);
	return icmp_msg(msg, cap, type, code, rest, q, sizeof q);
}

START_TEST(fragmentation_needed_lowers_the_path_mtu_until_it_expires)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, PEER_IP, 0), 0);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 1500);
	uint8_t msg[64];
	size_t m = error_about_ours(msg, sizeof msg, US_ICMP4_DEST_UNREACH,
				    US_ICMP4_UNREACH_FRAG_NEEDED, us_icmp4_frag_needed_rest(1400),
				    FAR_IP, 1500);
	ck_assert_int_eq(inject_icmp(s, US_SEC(5), PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 1400);
	ck_assert_uint_eq(us_ip_pmtu(s, PEER_IP), 1500); /* only that destination */
	ck_assert_uint_eq(us_stack_counter(s, "icmp.in_frag_needed"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "ip.pmtu_learned"), 1);
	ck_assert_int_eq(us_ip_next_deadline(s), US_SEC(5) + US_SEC(600));

	/* A higher value never raises it. */
	m = error_about_ours(msg, sizeof msg, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_FRAG_NEEDED,
			     us_icmp4_frag_needed_rest(1450), FAR_IP, 1400);
	ck_assert_int_eq(inject_icmp(s, US_SEC(6), PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 1400);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.frag_needed_ignored"), 1);

	/* Ten minutes after it was learned it is forgotten. */
	us_stack_poll(s, US_SEC(5) + US_SEC(600) - 1);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 1400);
	us_stack_poll(s, US_SEC(5) + US_SEC(600));
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 1500);
	ck_assert_uint_eq(us_stack_counter(s, "ip.pmtu_expired"), 1);
	ck_assert_int_eq(us_ip_next_deadline(s), US_TIME_NEVER);
	us_test_stack_free(s);
}
END_TEST

START_TEST(fragmentation_needed_without_an_mtu_takes_the_next_plateau)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, PEER_IP, 0), 0);
	uint8_t msg[64];
	/* RFC 1191 §7: a 1500-byte datagram did not pass: try 1492. */
	size_t m = error_about_ours(msg, sizeof msg, US_ICMP4_DEST_UNREACH,
				    US_ICMP4_UNREACH_FRAG_NEEDED, 0, FAR_IP, 1500);
	ck_assert_int_eq(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 1492);
	/* Then 1006 for a 1492-byte one; then 508, raised to the 576 floor. */
	m = error_about_ours(msg, sizeof msg, US_ICMP4_DEST_UNREACH,
			     US_ICMP4_UNREACH_FRAG_NEEDED, 0, FAR_IP, 1492);
	ck_assert_int_eq(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 1006);
	m = error_about_ours(msg, sizeof msg, US_ICMP4_DEST_UNREACH,
			     US_ICMP4_UNREACH_FRAG_NEEDED, 0, FAR_IP, 1006);
	ck_assert_int_eq(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 576);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_tiny_reported_mtu_is_raised_to_576_and_df_is_then_cleared)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, PEER_IP, 0), 0);
	uint8_t msg[64];
	size_t m = error_about_ours(msg, sizeof msg, US_ICMP4_DEST_UNREACH,
				    US_ICMP4_UNREACH_FRAG_NEEDED, us_icmp4_frag_needed_rest(68),
				    FAR_IP, 1500);
	ck_assert_int_eq(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 576);
	/* A 1000-byte datagram with DF asked for is fragmented anyway, DF clear. */
	struct us_pbuf *b = us_stack_alloc(s, 1000);
	memset(us_pbuf_data(b), 0x5a, 1000);
	struct us_ip_tx tx = { .dst = FAR_IP, .proto = 253, .df = true, .ifindex = -1 };
	ck_assert_int_eq(us_ip_output(s, b, &tx), 0);
	ck_assert_int_eq(link.count, 2);
	struct us_ipv4_hdr a = sent_ip(&link, 0), z = sent_ip(&link, 1);
	ck_assert(!a.df && a.mf && a.total_len == 572 && a.frag_offset == 0);
	ck_assert(!z.df && !z.mf && z.total_len == 20 + 1000 - 552 && z.frag_offset == 552);
	us_test_stack_free(s);
}
END_TEST

START_TEST(errors_about_datagrams_we_did_not_send_are_ignored)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	ck_assert_int_eq(us_stack_add_route4(s, 0, 0, PEER_IP, 0), 0);
	uint8_t msg[64];
	size_t m = error_about_ours(msg, sizeof msg, US_ICMP4_DEST_UNREACH,
				    US_ICMP4_UNREACH_FRAG_NEEDED, us_icmp4_frag_needed_rest(1000),
				    FAR_IP, 1500);
	/* The quoted source (bytes 8+12..15) becomes someone else. */
	msg[8 + 15] = 0x77;
	us_csum_fill(msg, m, 2, 0);
	ck_assert_int_lt(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.drop_quote_not_ours"), 1);
	/* A quote that is not an IPv4 header. */
	msg[8] = 0x60;
	us_csum_fill(msg, m, 2, 0);
	ck_assert_int_lt(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	/* A quote cut inside its header. */
	m = error_about_ours(msg, sizeof msg, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_FRAG_NEEDED,
			     us_icmp4_frag_needed_rest(1000), FAR_IP, 1500);
	m = icmp_msg(msg, sizeof msg, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_FRAG_NEEDED,
		     us_icmp4_frag_needed_rest(1000), msg + 8, 12);
	ck_assert_int_lt(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.drop_bad_quote"), 2);
	ck_assert_uint_eq(us_ip_pmtu(s, FAR_IP), 1500);
	us_test_stack_free(s);
}
END_TEST

START_TEST(other_errors_are_counted_by_type)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t msg[64];
	const struct {
		uint8_t type, code;
		const char *ctr;
	} cases[] = {
		{ US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_PORT, "icmp.in_dest_unreach" },
		{ US_ICMP4_TIME_EXCEEDED, US_ICMP4_TIMEX_TTL, "icmp.in_time_exceeded" },
		{ US_ICMP4_PARAM_PROBLEM, 0, "icmp.in_param_problem" },
		{ US_ICMP4_SOURCE_QUENCH, 0, "icmp.in_source_quench" },
		{ US_ICMP4_REDIRECT, 1, "icmp.in_redirect" },
	};
	for (int i = 0; i < 5; i++) {
		size_t m = error_about_ours(msg, sizeof msg, cases[i].type, cases[i].code, 0,
					    PEER_IP, 48);
		ck_assert_int_eq(inject_icmp(s, 0, PEER_IP, STACK_IP, msg, m), 0);
		ck_assert_uint_eq(us_stack_counter(s, cases[i].ctr), 1);
	}
	/* Unreachable, time exceeded and parameter problem go up to the
	 * transport the quote names: UDP, where no socket sent it. */
	ck_assert_uint_eq(us_stack_counter(s, "udp.icmp_error_no_socket"), 3);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.in_errors_unclaimed"), 0);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- us_stack_ping4 ---------------------------------------------------------- */

struct echo_log {
	int n;
	us_time_t when;
	struct us_echo_reply r;
	uint8_t data[64];
};

static void record_echo(void *ctx, us_time_t now, const struct us_echo_reply *r)
{
	struct echo_log *l = ctx;
	l->n++;
	l->when = now;
	l->r = *r;
	memcpy(l->data, r->data, r->len < sizeof l->data ? r->len : sizeof l->data);
}

START_TEST(ping4_checks_its_arguments)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	uint8_t d[1] = { 0 };
	ck_assert_int_eq(us_stack_ping4(NULL, 0, PEER_IP, 1, 1, d, 1, 0), -EINVAL);
	ck_assert_int_eq(us_stack_ping4(s, 0, 0, 1, 1, d, 1, 0), -EINVAL);
	ck_assert_int_eq(us_stack_ping4(s, 0, PEER_IP, 1, 1, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(us_stack_ping4(s, 0, PEER_IP, 1, 1, d, 65508, 0), -EMSGSIZE);
	ck_assert_int_eq(us_stack_ping4(s, 0, 0x0a000001u, 1, 1, d, 1, 0), -ENETUNREACH);
	ck_assert_int_eq(us_stack_ping4(s, 0, 0xffffffffu, 1, 1, d, 1, 0), -ENETUNREACH);
	ck_assert_int_eq(us_stack_ping4(s, 0, STACK_IP, 1, 1, d, 1, 0), -ENETUNREACH);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(ping4_sends_an_echo_request_and_reports_the_reply)
{
	struct echo_log log = { 0 };
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	s->cfg.on_echo_reply = record_echo;
	s->cfg.echo_ctx = &log;
	const uint8_t data[4] = { 0xde, 0xad, 0xbe, 0xef };
	ck_assert_int_eq(us_stack_ping4(s, US_MSEC(10), PEER_IP, 0x0d2b, 5, data, 4, 0), 0);
	ck_assert_int_eq(link.count, 1);
	struct us_ipv4_hdr ip = sent_ip(&link, 0);
	ck_assert_uint_eq(ip.ttl, 64);
	ck_assert(!ip.df);
	ck_assert_uint_eq(ip.src, STACK_IP);
	ck_assert_uint_eq(ip.dst, PEER_IP);
	uint8_t want[12];
	us_test_hex("08 00 4d 32 0d 2b 00 05 de ad be ef", /* echo, checksum, id, seq, data */
		    want, sizeof want);
	ck_assert_uint_eq(ip.payload_len, 12);
	ck_assert_mem_eq(ip.payload, want, 12);

	/* The reply, as the peer sends it, reaches the hook. */
	uint8_t msg[16];
	size_t m = icmp_msg(msg, sizeof msg, US_ICMP4_ECHO_REPLY, 0, us_icmp4_echo_rest(0x0d2b, 5),
			    data, 4);
	static uint8_t f[128];
	struct us_ipv4_hdr h = from_peer(US_IPPROTO_ICMP);
	h.ttl = 61;
	size_t n = ip_frame(f, sizeof f, stack_mac, h, msg, m);
	ck_assert_int_eq(us_stack_input(s, US_MSEC(12), 0, f, n), 0);
	ck_assert_int_eq(log.n, 1);
	ck_assert_int_eq(log.when, US_MSEC(12));
	ck_assert_int_eq(log.r.family, 4);
	ck_assert_uint_eq(log.r.src4, PEER_IP);
	ck_assert_uint_eq(log.r.id, 0x0d2b);
	ck_assert_uint_eq(log.r.seq, 5);
	ck_assert_uint_eq(log.r.ttl, 61);
	ck_assert_uint_eq(log.r.len, 4);
	ck_assert_mem_eq(log.data, data, 4);

	/* A reply with an identifier we never used is not reported. */
	m = icmp_msg(msg, sizeof msg, US_ICMP4_ECHO_REPLY, 0, us_icmp4_echo_rest(0x0d2c, 5), data,
		     4);
	n = ip_frame(f, sizeof f, stack_mac, h, msg, m);
	ck_assert_int_lt(us_stack_input(s, US_MSEC(13), 0, f, n), 0);
	ck_assert_int_eq(log.n, 1);
	ck_assert_uint_eq(us_stack_counter(s, "icmp.drop_echo_reply_unmatched"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(ping4_remembers_the_last_8_identifiers)
{
	struct echo_log log = { 0 };
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	s->cfg.on_echo_reply = record_echo;
	s->cfg.echo_ctx = &log;
	for (uint16_t id = 1; id <= 9; id++)
		ck_assert_int_eq(us_stack_ping4(s, US_MSEC(id), PEER_IP, id, 0, NULL, 0, 0), 0);
	uint8_t msg[16];
	static uint8_t f[128];
	for (uint16_t id = 1; id <= 9; id++) {
		size_t m = icmp_msg(msg, sizeof msg, US_ICMP4_ECHO_REPLY, 0,
				    us_icmp4_echo_rest(id, 0), NULL, 0);
		size_t n = ip_frame(f, sizeof f, stack_mac, from_peer(US_IPPROTO_ICMP), msg, m);
		us_stack_input(s, US_MSEC(20), 0, f, n);
	}
	ck_assert_int_eq(log.n, 8); /* id 1 was forgotten for id 9 */
	ck_assert_uint_eq(us_stack_counter(s, "icmp.drop_echo_reply_unmatched"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_large_ping4_is_fragmented_to_the_mtu)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack_with_peer(&link);
	static uint8_t data[8000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(us_stack_ping4(s, 0, PEER_IP, 9, 1, data, sizeof data, 0), 0);
	/* 8008 ICMP bytes: five fragments of 1480 and one of 608. */
	ck_assert_int_eq(link.count, 6);
	static uint8_t whole[8008];
	uint16_t id = sent_ip(&link, 0).id;
	for (int i = 0; i < 6; i++) {
		struct us_ipv4_hdr h = sent_ip(&link, i);
		ck_assert_uint_eq(h.id, id);
		ck_assert_uint_eq(h.frag_offset, 1480u * (unsigned)i);
		ck_assert(h.mf == (i < 5));
		ck_assert_uint_eq(h.payload_len, i < 5 ? 1480 : 608);
		memcpy(whole + h.frag_offset, h.payload, h.payload_len);
	}
	struct us_icmp4_hdr e;
	ck_assert_int_eq(us_icmp4_parse(whole, sizeof whole, &e), US_WIRE_OK);
	ck_assert_uint_eq(e.type, US_ICMP4_ECHO);
	ck_assert_mem_eq(e.payload, data, sizeof data);
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *su = suite_create("ip_icmp");
	TCase *tc = tcase_create("echo");
	tcase_add_test(tc, a_linux_ping_gets_the_exact_echo_reply);
	tcase_add_test(tc, an_echo_reply_keeps_the_dscp_and_clears_ecn);
	tcase_add_test(tc, echo_requests_to_broadcast_addresses_are_ignored);
	tcase_add_test(tc, icmp_with_a_bad_checksum_or_truncated_is_dropped);
	tcase_add_test(tc, unknown_and_unanswered_icmp_types_are_discarded);
	suite_add_tcase(su, tc);

	tc = tcase_create("errors_sent");
	tcase_add_test(tc, an_unknown_protocol_gets_the_exact_protocol_unreachable);
	tcase_add_test(tc, an_error_quotes_at_most_576_bytes_in_all);
	tcase_add_test(tc, no_error_is_sent_about_an_icmp_error);
	tcase_add_test(tc, no_error_is_sent_about_a_broadcast_or_multicast_destination);
	tcase_add_test(tc, no_error_is_sent_about_a_link_layer_broadcast);
	tcase_add_test(tc, no_error_is_sent_about_a_non_initial_fragment);
	tcase_add_test(tc, no_error_is_sent_to_a_source_that_is_not_one_host);
	tcase_add_test(tc, no_error_is_sent_about_what_cannot_be_parsed);
	tcase_add_test(tc, errors_to_one_destination_are_limited_to_a_burst_of_6_then_1_per_second);
	tcase_add_test(tc, errors_to_all_destinations_are_limited_to_a_burst_of_50);
	tcase_add_test(tc, reassembly_timeout_sends_time_exceeded_quoting_the_first_fragment);
	tcase_add_test(tc, a_lone_first_fragment_times_out_into_time_exceeded);
	suite_add_tcase(su, tc);

	tc = tcase_create("errors_received");
	tcase_add_test(tc, fragmentation_needed_lowers_the_path_mtu_until_it_expires);
	tcase_add_test(tc, fragmentation_needed_without_an_mtu_takes_the_next_plateau);
	tcase_add_test(tc, a_tiny_reported_mtu_is_raised_to_576_and_df_is_then_cleared);
	tcase_add_test(tc, errors_about_datagrams_we_did_not_send_are_ignored);
	tcase_add_test(tc, other_errors_are_counted_by_type);
	suite_add_tcase(su, tc);

	tc = tcase_create("ping4");
	tcase_add_test(tc, ping4_checks_its_arguments);
	tcase_add_test(tc, ping4_sends_an_echo_request_and_reports_the_reply);
	tcase_add_test(tc, ping4_remembers_the_last_8_identifiers);
	tcase_add_test(tc, a_large_ping4_is_fragmented_to_the_mtu);
	suite_add_tcase(su, tc);
	return su;
}

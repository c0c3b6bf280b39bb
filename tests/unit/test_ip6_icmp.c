/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_ip6_icmp.c - ICMPv6 (src/stack/ip6_icmp.c): echo (RFC 4443
 * §4) byte for byte against frames of Linux's `ping -6`, echo replies to
 * us_stack_ping6(), Packet Too Big and the path MTU table (RFC 8201), the
 * errors we receive, and the rules (RFC 4443 §2.4 (e)) and rate limit
 * (§2.4 (f)) of the errors we send.
 *
 * Read first: tests/unit/harness.h. Replies to a unicast address go through
 * nd6.c's neighbour cache: meet_peer() has the peer introduce itself with a
 * Neighbor Solicitation (RFC 4861 §7.2.3: nd6.c keeps its link-layer address
 * as STALE and answers with a Neighbor Advertisement), after which our
 * frames to it leave at once.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
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
	struct us_ip6 ll = ip6("fe80::ff:fe00:2");
	ck_assert(us_ip6_iface_owns(&s->iface[0], &ll));
	link->count = 0;
	return s;
}

/* Ethernet from the peer to dst_mac, an IPv6 header (hop limit 64), the
 * payload. Returns the frame's length. */
static size_t frame6(uint8_t *f, const uint8_t *dst_mac, const struct us_ip6 *src,
		     const struct us_ip6 *dst, uint8_t nh, uint8_t hop, const uint8_t *payload,
		     size_t plen)
{
	struct us_eth_hdr e = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(e.dst, dst_mac, 6);
	memcpy(e.src, peer_mac, 6);
	ck_assert_uint_eq(us_eth_emit(&e, f, 14), 14);
	struct us_ipv6_hdr h = {
		.payload_len = (uint16_t)plen,
		.next_header = nh,
		.hop_limit = hop,
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

/* The peer (MAC 02:00:00:00:00:01) at peer_ip sends a Neighbor Solicitation
 * for our_ip with its link-layer address; we answer (one NA), and know it. */
static void meet_peer(struct us_stack *s, struct us_test_link *link, us_time_t t,
		      const char *peer_ip, const char *our_ip)
{
	uint8_t msg[64], f[128];
	struct us_ndp_ns ns = { .target = ip6(our_ip) };
	size_t n = us_ndp_ns_emit(&ns, msg, sizeof msg);
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, peer_mac, msg + n, sizeof msg - n);
	struct us_ip6 src = ip6(peer_ip), dst = ip6(our_ip);
	icmp6_sum(msg, n, &src, &dst);
	size_t len = frame6(f, our_mac, &src, &dst, US_IPPROTO_ICMPV6, 255, msg, n);
	ck_assert_int_eq(us_stack_input(s, t, 0, f, len), 0);
	ck_assert_int_eq(link->count, 1);
	ck_assert_uint_eq(link->frame[0][54], US_ICMP6_ND_NA);
	link->count = 0;
}

static void inject_hex(struct us_stack *s, us_time_t t, const char *hex)
{
	uint8_t f[2048];
	size_t n = us_test_hex(hex, f, sizeof f);
	us_stack_input(s, t, 0, f, n);
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

/* Literal frames are annotated field by field, aligned by hand. */
/* clang-format off */
#define ETH_TO_US   "02 00 00 00 00 02"  /* destination: us */                 \
		    "02 00 00 00 00 01"  /* source: the peer */                 \
		    "86 dd"              /* IPv6 */
#define ETH_TO_PEER "02 00 00 00 00 01"  /* destination: the peer */           \
		    "02 00 00 00 00 02"  /* source: us */                       \
		    "86 dd"              /* IPv6 */
#define PEER_GLOBAL "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01" /* 2001:db8:1::1 */
#define OUR_GLOBAL  "20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 02" /* 2001:db8:1::2 */
#define PEER_LL     "fe 80 00 00 00 00 00 00 00 00 00 ff fe 00 00 01" /* fe80::ff:fe00:1 */
#define OUR_LL      "fe 80 00 00 00 00 00 00 00 00 00 ff fe 00 00 02" /* fe80::ff:fe00:2 */
#define ALL_NODES   "ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01" /* ff02::1 */

/* The 56 data bytes of iputils ping: a struct timeval, then 0x10..0x37. */
#define PING_DATA_TAIL                                                         \
	"10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f"                     \
	"20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f"                     \
	"30 31 32 33 34 35 36 37"

/* Captured from Linux 6.x `ping -6 -c 1 2001:db8:1::2` on a TAP device. */
static const char linux_ping_global[] =
	ETH_TO_US
	"60 02 18 22"   /* version 6, traffic class 0, flow label 0x21822 */
	"00 40"         /* payload length 64 */
	"3a"            /* next header ICMPv6 */
	"40"            /* hop limit 64 */
	PEER_GLOBAL OUR_GLOBAL
	"80 00 5f df"   /* echo request, code 0, checksum */
	"11 ca 00 01"   /* identifier 0x11ca, sequence 1 */
	"d9 f5 04 6b 00 00 00 00 0b 30 0a 00 00 00 00 00" /* timeval */
	PING_DATA_TAIL;

static const char reply_global[] =
	ETH_TO_PEER
	"60 00 00 00"   /* version 6, traffic class 0, flow label 0 */
	"00 40"         /* payload length 64 */
	"3a"            /* next header ICMPv6 */
	"40"            /* hop limit 64 */
	OUR_GLOBAL PEER_GLOBAL
	"81 00 5e df"   /* echo reply, code 0, checksum */
	"11 ca 00 01"   /* the request's identifier and sequence */
	"d9 f5 04 6b 00 00 00 00 0b 30 0a 00 00 00 00 00"
	PING_DATA_TAIL;

/* Captured from `ping -6 -c 1 fe80::ff:fe00:2%tap9`. */
static const char linux_ping_ll[] =
	ETH_TO_US
	"60 02 cc ac"   /* version 6, traffic class 0, flow label 0x2ccac */
	"00 40"         /* payload length 64 */
	"3a"            /* next header ICMPv6 */
	"40"            /* hop limit 64 */
	PEER_LL OUR_LL
	"80 00 ff 44"   /* echo request, code 0, checksum */
	"11 cb 00 01"   /* identifier 0x11cb, sequence 1 */
	"d9 f5 04 6b 00 00 00 00 cc 3b 0a 00 00 00 00 00"
	PING_DATA_TAIL;

static const char reply_ll[] =
	ETH_TO_PEER
	"60 00 00 00" "00 40" "3a" "40"
	OUR_LL PEER_LL
	"81 00 fe 44"   /* echo reply, checksum */
	"11 cb 00 01"
	"d9 f5 04 6b 00 00 00 00 cc 3b 0a 00 00 00 00 00"
	PING_DATA_TAIL;

/* An echo request (id 1, seq 1, no data) from 2001:db8:1::1 to us. */
#define ECHO_FROM_PEER "80 00 24 44 00 01 00 01"
/* clang-format on */

/* ---- Echo ------------------------------------------------------------------ */

START_TEST(linux_ping_to_global_address_is_answered_byte_for_byte)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");

	inject_hex(s, 1000, linux_ping_global);
	ck_assert_int_eq(link.count, 1);
	expect_frame(&link, 0, reply_global);
	ck_assert_uint_eq(ctr(s, "icmp6.in_echo_requests"), 1);
	ck_assert_uint_eq(ctr(s, "icmp6.out_echo_replies"), 1);
	ck_assert_uint_eq(ctr(s, "ip6.delivered"), 2); /* the NS and the request */
	us_test_stack_free(s);
}
END_TEST

START_TEST(linux_ping_to_link_local_address_is_answered_byte_for_byte)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "fe80::ff:fe00:1", "fe80::ff:fe00:2");

	inject_hex(s, 1000, linux_ping_ll);
	ck_assert_int_eq(link.count, 1);
	expect_frame(&link, 0, reply_ll);
	us_test_stack_free(s);
}
END_TEST

START_TEST(echo_to_all_nodes_is_answered_from_a_link_local_address)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "fe80::ff:fe00:1", "fe80::ff:fe00:2");

	/* clang-format off */
	inject_hex(s, 1000,
		   "33 33 00 00 00 01"  /* destination: the all-nodes group's MAC */
		   "02 00 00 00 00 01" "86 dd"
		   "60 00 00 00" "00 10" "3a" "40"
		   PEER_LL ALL_NODES
		   "80 00 f1 56"        /* echo request, checksum */
		   "00 42 00 01"        /* identifier 0x42, sequence 1 */
		   "61 62 63 64 65 66 67 68");
	ck_assert_int_eq(link.count, 1);
	/* RFC 4443 §4.2: from "a unicast address belonging to the interface on
	 * which the Echo Request message was received"; RFC 6724 rule 2 picks
	 * the link-local one for a link-local peer. */
	expect_frame(&link, 0,
		     ETH_TO_PEER
		     "60 00 00 00" "00 10" "3a" "40"
		     OUR_LL PEER_LL
		     "81 00 f1 d7"      /* echo reply, checksum */
		     "00 42 00 01"
		     "61 62 63 64 65 66 67 68");
	/* clang-format on */
	us_test_stack_free(s);
}
END_TEST

START_TEST(echo_to_all_nodes_from_a_global_source_is_answered_from_our_global)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");

	/* clang-format off */
	inject_hex(s, 1000,
		   "33 33 00 00 00 01" "02 00 00 00 00 01" "86 dd"
		   "60 00 00 00" "00 10" "3a" "40"
		   PEER_GLOBAL ALL_NODES
		   "80 00 c1 1d" "00 42 00 01" "61 62 63 64 65 66 67 68");
	expect_frame(&link, 0,
		     ETH_TO_PEER
		     "60 00 00 00" "00 10" "3a" "40"
		     OUR_GLOBAL PEER_GLOBAL /* RFC 6724 rule 2: global scope */
		     "81 00 91 65" "00 42 00 01" "61 62 63 64 65 66 67 68");
	/* clang-format on */
	us_test_stack_free(s);
}
END_TEST

START_TEST(echo_request_from_the_unspecified_address_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	uint8_t msg[8] = { US_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1 }, f[128];
	struct us_ip6 src = ip6("::"), dst = ip6("2001:db8:1::2");
	icmp6_sum(msg, sizeof msg, &src, &dst);
	size_t n = frame6(f, our_mac, &src, &dst, US_IPPROTO_ICMPV6, 64, msg, sizeof msg);

	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(ctr(s, "icmp6.drop_echo_bad_source"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(icmp_message_too_short_or_with_bad_checksum_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");
	uint8_t msg[8] = { US_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1 }, f[128];
	struct us_ip6 src = ip6("2001:db8:1::1"), dst = ip6("2001:db8:1::2");
	icmp6_sum(msg, sizeof msg, &src, &dst);

	/* Every length below the 8-byte header (0 is a Payload Length of 0:
	 * a jumbogram, refused by IPv6). */
	for (size_t len = 0; len < 8; len++) {
		size_t n = frame6(f, our_mac, &src, &dst, US_IPPROTO_ICMPV6, 64, msg, len);
		ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	}
	ck_assert_uint_eq(ctr(s, "icmp6.drop_truncated"), 7);
	ck_assert_uint_eq(ctr(s, "ip6.drop_bad_length"), 1);

	msg[7] ^= 1; /* the sequence number changes, the checksum does not */
	size_t n = frame6(f, our_mac, &src, &dst, US_IPPROTO_ICMPV6, 64, msg, sizeof msg);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "icmp6.drop_bad_checksum"), 1);
	/* The checksum covers the pseudo-header: the same message sent to
	 * another of our addresses fails too. */
	msg[7] ^= 1;
	struct us_ip6 ll = ip6("fe80::ff:fe00:2");
	n = frame6(f, our_mac, &src, &ll, US_IPPROTO_ICMPV6, 64, msg, sizeof msg);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "icmp6.drop_bad_checksum"), 2);
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(ctr(s, "icmp6.in"), 1); /* the NS only */
	us_test_stack_free(s);
}
END_TEST

struct echo_log {
	int calls;
	us_time_t now;
	struct us_echo_reply r;
	uint8_t data[64];
};

static void on_echo(void *ctx, us_time_t now, const struct us_echo_reply *r)
{
	struct echo_log *log = ctx;
	log->calls++;
	log->now = now;
	log->r = *r;
	ck_assert_uint_le(r->len, sizeof log->data);
	memcpy(log->data, r->data, r->len);
}

START_TEST(ping6_sends_an_exact_echo_request_and_reports_the_reply)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	struct echo_log log = { 0 };
	s->cfg.on_echo_reply = on_echo;
	s->cfg.echo_ctx = &log;
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");

	struct us_ip6 peer = ip6("2001:db8:1::1");
	const uint8_t *data = (const uint8_t *)"ustack!!";
	ck_assert_int_eq(us_stack_ping6(s, 500, &peer, 0x7777, 3, data, 8, 0), 0);
	/* clang-format off */
	expect_frame(&link, 0,
		     ETH_TO_PEER
		     "60 00 00 00"  /* flow label 0 */
		     "00 10"        /* payload length 16 */
		     "3a"           /* ICMPv6 */
		     "40"           /* hop limit 64: RFC 4861 §6.3.2's default */
		     OUR_GLOBAL PEER_GLOBAL
		     "80 00 3e 62"  /* echo request, checksum */
		     "77 77 00 03"  /* identifier 0x7777, sequence 3 */
		     "75 73 74 61 63 6b 21 21"); /* "ustack!!" */
	ck_assert_uint_eq(ctr(s, "icmp6.out_echo_requests"), 1);

	/* The reply, hop limit 63. */
	inject_hex(s, 2500,
		   ETH_TO_US
		   "60 00 00 00" "00 10" "3a"
		   "3f"             /* hop limit 63 */
		   PEER_GLOBAL OUR_GLOBAL
		   "81 00 3d 62"    /* echo reply, checksum */
		   "77 77 00 03"
		   "75 73 74 61 63 6b 21 21");
	/* clang-format on */
	ck_assert_int_eq(log.calls, 1);
	ck_assert_int_eq(log.now, 2500);
	ck_assert_int_eq(log.r.family, 6);
	ck_assert_mem_eq(log.r.src6.b, peer.b, 16);
	ck_assert_uint_eq(log.r.id, 0x7777);
	ck_assert_uint_eq(log.r.seq, 3);
	ck_assert_uint_eq(log.r.ttl, 63);
	ck_assert_uint_eq(log.r.len, 8);
	ck_assert_mem_eq(log.data, "ustack!!", 8);
	ck_assert_uint_eq(ctr(s, "icmp6.in_echo_replies"), 1);

	/* A reply to an identifier we never used does not reach the hook. */
	/* clang-format off */
	inject_hex(s, 2600,
		   ETH_TO_US
		   "60 00 00 00" "00 10" "3a" "3f"
		   PEER_GLOBAL OUR_GLOBAL
		   "81 00 3d 61"    /* echo reply, checksum */
		   "77 78 00 03"    /* identifier 0x7778: not ours */
		   "75 73 74 61 63 6b 21 21");
	/* clang-format on */
	ck_assert_int_eq(log.calls, 1);
	ck_assert_uint_eq(ctr(s, "icmp6.in_echo_replies"), 2);
	ck_assert_uint_eq(ctr(s, "icmp6.drop_echo_reply_unmatched"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(ping6_checks_its_arguments)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	struct us_ip6 peer = ip6("2001:db8:1::1"), any = ip6("::"), lo = ip6("::1");
	struct us_ip6 far = ip6("2001:db8:99::1"), scope0 = ip6("ff00::1");
	uint8_t data[8] = { 0 };

	ck_assert_int_eq(us_stack_ping6(NULL, 0, &peer, 1, 1, data, 8, 0), -EINVAL);
	ck_assert_int_eq(us_stack_ping6(s, 0, NULL, 1, 1, data, 8, 0), -EINVAL);
	ck_assert_int_eq(us_stack_ping6(s, 0, &peer, 1, 1, NULL, 8, 0), -EINVAL);
	/* The message must fit a 16-bit Payload Length: 65535 - 8 bytes of data. */
	ck_assert_int_eq(us_stack_ping6(s, 0, &peer, 1, 1, data, 65528, 0), -EMSGSIZE);
	ck_assert_int_eq(us_stack_ping6(s, 0, &any, 1, 1, data, 8, 0), -EINVAL);
	ck_assert_int_eq(us_stack_ping6(s, 0, &lo, 1, 1, data, 8, 0), -EINVAL);
	ck_assert_int_eq(us_stack_ping6(s, 0, &scope0, 1, 1, data, 8, 0), -EINVAL);
	ck_assert_uint_eq(ctr(s, "ip6.out_drop_bad_destination"), 3);
	/* No router, not on-link. */
	ck_assert_int_eq(us_stack_ping6(s, 0, &far, 1, 1, data, 8, 0), -ENETUNREACH);
	ck_assert_uint_eq(ctr(s, "ip6.out_drop_no_route"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(ping6_to_a_group_goes_one_hop_unless_asked)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	struct us_ip6 group = ip6("ff02::1");

	ck_assert_int_eq(us_stack_ping6(s, 0, &group, 1, 1, NULL, 0, 0), 0);
	ck_assert_int_eq(us_stack_ping6(s, 0, &group, 1, 2, NULL, 0, 9), 0);
	ck_assert_int_eq(link.count, 2);
	ck_assert_mem_eq(link.frame[0], all_nodes_mac, 6); /* RFC 2464 §7 */
	ck_assert_uint_eq(link.frame[0][21], 1);           /* RFC 3493 §5.2 default */
	ck_assert_uint_eq(link.frame[1][21], 9);
	/* RFC 6724 rule 2: a link-local group gets the link-local source. */
	struct us_ip6 ll = ip6("fe80::ff:fe00:2");
	ck_assert_mem_eq(link.frame[0] + 22, ll.b, 16);
	us_test_stack_free(s);
}
END_TEST

/* ---- Packet Too Big and the path MTU ------------------------------------------ */

/* A Packet Too Big from a router (2001:db8:1::ff) about a packet we sent from
 * quote_src to quote_dst, quoting its first 48 bytes. */
static void inject_ptb(struct us_stack *s, us_time_t t, uint32_t mtu, const char *quote_src,
		       const char *quote_dst)
{
	uint8_t msg[8 + 48], f[256];
	struct us_ipv6_hdr q = {
		.payload_len = 1452,
		.next_header = US_IPPROTO_ICMPV6,
		.hop_limit = 64,
		.src = ip6(quote_src),
		.dst = ip6(quote_dst),
	};
	struct us_icmp6_hdr h = { .type = US_ICMP6_PACKET_TOO_BIG, .rest = mtu, .payload_len = 48 };
	memset(msg, 0, sizeof msg);
	us_ipv6_emit(&q, msg + 8, 40);
	msg[48] = US_ICMP6_ECHO_REQUEST;
	struct us_ip6 src = ip6("2001:db8:1::ff"), dst = ip6("2001:db8:1::2");
	us_icmp6_emit(&h, msg, sizeof msg, us_csum_pseudo6(&src, &dst, 58, sizeof msg));
	size_t n = frame6(f, our_mac, &src, &dst, US_IPPROTO_ICMPV6, 64, msg, sizeof msg);
	us_stack_input(s, t, 0, f, n);
}

START_TEST(packet_too_big_lowers_the_path_mtu_until_it_expires_after_10_minutes)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	struct us_ip6 peer = ip6("2001:db8:1::1"), other = ip6("2001:db8:1::7");
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");

	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1500);
	ck_assert_int_eq(us_ip6_next_deadline(s), US_TIME_NEVER);
	inject_ptb(s, US_SEC(1), 1400, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_uint_eq(ctr(s, "icmp6.in_packet_too_big"), 1);
	ck_assert_uint_eq(ctr(s, "ip6.pmtu_updates"), 1);
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1400);
	ck_assert_uint_eq(us_ip6_pmtu(s, &other), 1500); /* per destination */
	ck_assert_int_eq(us_ip6_next_deadline(s), US_SEC(601));

	/* A 1400-byte message now leaves in fragments of 1352 data bytes. */
	static uint8_t data[1392];
	ck_assert_int_eq(us_stack_ping6(s, US_SEC(2), &peer, 1, 1, data, sizeof data, 0), 0);
	ck_assert_int_eq(link.count, 2);
	ck_assert_uint_eq(link.len[0], 14 + 40 + 8 + 1352);
	ck_assert_uint_eq(link.len[1], 14 + 40 + 8 + 48);
	ck_assert_uint_eq(link.frame[0][20], US_IPPROTO_FRAGMENT);

	/* RFC 8201 §4: not before 5 minutes; we wait 10. */
	us_stack_poll(s, US_SEC(601) - 1);
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1400);
	us_stack_poll(s, US_SEC(601));
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1500);
	ck_assert_uint_eq(ctr(s, "ip6.pmtu_expired"), 1);
	ck_assert_int_eq(us_ip6_next_deadline(s), US_TIME_NEVER);
	us_test_stack_free(s);
}
END_TEST

START_TEST(packet_too_big_below_1280_is_discarded)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	struct us_ip6 peer = ip6("2001:db8:1::1");

	inject_ptb(s, 0, 1279, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_uint_eq(ctr(s, "icmp6.drop_ptb_below_min_mtu"), 1);
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1500);
	inject_ptb(s, 0, 576, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_uint_eq(ctr(s, "icmp6.drop_ptb_below_min_mtu"), 2);
	/* 1280 itself is taken. */
	inject_ptb(s, 0, 1280, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1280);
	us_ip6_pmtu_update(s, &peer, 1000); /* never below 1280, whoever asks */
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1280);
	us_test_stack_free(s);
}
END_TEST

START_TEST(packet_too_big_never_raises_the_estimate)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	struct us_ip6 peer = ip6("2001:db8:1::1");

	inject_ptb(s, 0, 9000, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1500); /* not above the link */
	ck_assert_uint_eq(ctr(s, "ip6.pmtu_updates"), 0);
	inject_ptb(s, US_SEC(10), 1300, "2001:db8:1::2", "2001:db8:1::1");
	inject_ptb(s, US_SEC(20), 1400, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1300);
	ck_assert_int_eq(us_ip6_next_deadline(s), US_SEC(610));
	/* One that confirms the estimate restarts the timer. */
	inject_ptb(s, US_SEC(30), 1300, "2001:db8:1::2", "2001:db8:1::1");
	ck_assert_int_eq(us_ip6_next_deadline(s), US_SEC(630));
	ck_assert_uint_eq(ctr(s, "ip6.pmtu_updates"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(errors_about_packets_we_did_not_send_or_cut_short_are_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	struct us_ip6 peer = ip6("2001:db8:1::1");

	inject_ptb(s, 0, 1300, "2001:db8:1::9", "2001:db8:1::1");
	ck_assert_uint_eq(ctr(s, "icmp6.drop_error_not_ours"), 1);
	ck_assert_uint_eq(us_ip6_pmtu(s, &peer), 1500);

	/* A quote shorter than an IPv6 header. */
	uint8_t msg[8 + 39] = { US_ICMP6_PACKET_TOO_BIG, 0, 0, 0, 0, 0, 0x05, 0x14, 0x60 };
	uint8_t f[128];
	struct us_ip6 src = ip6("2001:db8:1::ff"), dst = ip6("2001:db8:1::2");
	icmp6_sum(msg, sizeof msg, &src, &dst);
	size_t n = frame6(f, our_mac, &src, &dst, US_IPPROTO_ICMPV6, 64, msg, sizeof msg);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "icmp6.drop_error_bad_quote"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(path_mtu_table_is_bounded_and_evicts_the_entry_closest_to_expiry)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	char dst[40];

	for (int i = 0; i < US_IP6_PMTU_ENTRIES + 4; i++) {
		snprintf(dst, sizeof dst, "2001:db8:1::%x", 0x100 + i);
		inject_ptb(s, US_SEC(i), 1400, "2001:db8:1::2", dst);
	}
	ck_assert_uint_eq(ctr(s, "ip6.pmtu_updates"), US_IP6_PMTU_ENTRIES + 4);
	ck_assert_uint_eq(ctr(s, "ip6.pmtu_evicted"), 4);
	int used = 0;
	for (int i = 0; i < US_IP6_PMTU_ENTRIES; i++)
		used += s->ip6.pmtu[i].used;
	ck_assert_int_eq(used, US_IP6_PMTU_ENTRIES);
	/* The four oldest went: ::100 .. ::103. */
	struct us_ip6 first = ip6("2001:db8:1::100"), fifth = ip6("2001:db8:1::104");
	ck_assert_uint_eq(us_ip6_pmtu(s, &first), 1500);
	ck_assert_uint_eq(us_ip6_pmtu(s, &fifth), 1400);
	us_test_stack_free(s);
}
END_TEST

/* ---- Errors we receive --------------------------------------------------------- */

static void inject_error(struct us_stack *s, uint8_t type, const char *quote_src)
{
	uint8_t msg[8 + 48] = { type }, f[256];
	struct us_ipv6_hdr q = {
		.payload_len = 8,
		.next_header = US_IPPROTO_ICMPV6,
		.hop_limit = 64,
		.src = ip6(quote_src),
		.dst = ip6("2001:db8:1::1"),
	};
	us_ipv6_emit(&q, msg + 8, 40);
	struct us_ip6 src = ip6("2001:db8:1::1"), dst = ip6("2001:db8:1::2");
	icmp6_sum(msg, sizeof msg, &src, &dst);
	size_t n = frame6(f, our_mac, &src, &dst, US_IPPROTO_ICMPV6, 64, msg, sizeof msg);
	us_stack_input(s, 0, 0, f, n);
}

START_TEST(errors_received_are_counted_by_type)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);

	inject_error(s, US_ICMP6_DEST_UNREACH, "2001:db8:1::2");
	inject_error(s, US_ICMP6_TIME_EXCEEDED, "2001:db8:1::2");
	inject_error(s, US_ICMP6_PARAM_PROBLEM, "2001:db8:1::2");
	inject_error(s, 100, "2001:db8:1::2"); /* an error type we do not know */
	ck_assert_uint_eq(ctr(s, "icmp6.in_dest_unreach"), 1);
	ck_assert_uint_eq(ctr(s, "icmp6.in_time_exceeded"), 1);
	ck_assert_uint_eq(ctr(s, "icmp6.in_param_problem"), 1);
	ck_assert_uint_eq(ctr(s, "icmp6.in_unknown_errors"), 1);
	ck_assert_uint_eq(ctr(s, "icmp6.drop_error_not_ours"), 0);
	inject_error(s, US_ICMP6_DEST_UNREACH, "2001:db8:1::5");
	ck_assert_uint_eq(ctr(s, "icmp6.drop_error_not_ours"), 1);

	/* RFC 4443 §2.4 (b): unknown informational types are discarded; MLD is
	 * not implemented. */
	inject_error(s, 200, "2001:db8:1::2");
	ck_assert_uint_eq(ctr(s, "icmp6.drop_unknown_type"), 1);
	inject_error(s, US_ICMP6_MLD_QUERY, "2001:db8:1::2");
	inject_error(s, US_ICMP6_MLD2_REPORT, "2001:db8:1::2");
	ck_assert_uint_eq(ctr(s, "icmp6.drop_mld"), 2);
	ck_assert_int_eq(link.count, 0); /* never an error about an error */
	us_test_stack_free(s);
}
END_TEST

/* ---- Errors we send -------------------------------------------------------------- */

/* A packet from src to dst with Next Header 253 (RFC 3692 experimentation)
 * and 8 bytes, in a frame to dst_mac: Parameter Problem code 1 material. */
static void inject_unknown_nh(struct us_stack *s, us_time_t t, const uint8_t *dst_mac,
			      const char *src, const char *dst)
{
	uint8_t f[128], payload[8] = { 0xde, 0xad, 0xbe, 0xef };
	struct us_ip6 a = ip6(src), b = ip6(dst);
	size_t n = frame6(f, dst_mac, &a, &b, 253, 64, payload, sizeof payload);
	us_stack_input(s, t, 0, f, n);
}

START_TEST(unknown_next_header_gets_parameter_problem_from_the_address_it_hit)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");

	inject_unknown_nh(s, 0, our_mac, "2001:db8:1::1", "2001:db8:1::2");
	/* clang-format off */
	expect_frame(&link, 0,
		     ETH_TO_PEER
		     "60 00 00 00"
		     "00 38"        /* payload length 56: 8 + the 48-byte packet */
		     "3a" "40"
		     OUR_GLOBAL PEER_GLOBAL /* RFC 4443 §2.2 (a): the address it was sent to */
		     "04 01 49 b1"  /* parameter problem, code 1, checksum */
		     "00 00 00 06"  /* pointer: the Next Header field */
		     "60 00 00 00" "00 08" "fd" "40" PEER_GLOBAL OUR_GLOBAL
		     "de ad be ef 00 00 00 00");
	/* clang-format on */
	ck_assert_uint_eq(ctr(s, "icmp6.out_errors"), 1);
	ck_assert_uint_eq(ctr(s, "icmp6.out_param_problem"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_error_about_a_multicast_destination_or_link_layer_multicast_frame)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");

	/* RFC 4443 §2.4 (e.3) */
	inject_unknown_nh(s, 0, all_nodes_mac, "2001:db8:1::1", "ff02::1");
	/* (e.4): a unicast destination in a link-layer multicast frame */
	inject_unknown_nh(s, 0, all_nodes_mac, "2001:db8:1::1", "2001:db8:1::2");
	/* (e.5): link-layer broadcast */
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	inject_unknown_nh(s, 0, bcast, "2001:db8:1::1", "2001:db8:1::2");
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(ctr(s, "ip6.drop_unknown_next_header"), 3);
	ck_assert_uint_eq(ctr(s, "icmp6.error_not_sent_multicast"), 3);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_error_to_a_source_that_is_not_one_node)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);

	/* (e.6) "the IPv6 Unspecified Address" */
	inject_unknown_nh(s, 0, our_mac, "::", "2001:db8:1::2");
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(ctr(s, "icmp6.error_not_sent_bad_source"), 1);
	/* A multicast source never gets that far: ip6.drop_multicast_source. */
	us_ip6_icmp_error(s, US_ICMP6_PARAM_PROBLEM, 0, 0,
			  (const uint8_t[40]){ 0x60, 0, 0, 0, 0, 0, 59, 64, 0xff, 2 }, 40, false);
	ck_assert_uint_eq(ctr(s, "icmp6.error_not_sent_bad_source"), 2);
	/* Nor about a packet shorter than its IPv6 header. */
	us_ip6_icmp_error(s, US_ICMP6_PARAM_PROBLEM, 0, 0, (const uint8_t[8]){ 0x60 }, 8, false);
	ck_assert_uint_eq(ctr(s, "icmp6.error_not_sent_malformed"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(parameter_problem_code_2_is_sent_even_for_a_multicast_destination)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");

	/* clang-format off */
	inject_hex(s, 0,
		   "33 33 00 00 00 01" "02 00 00 00 00 01" "86 dd"
		   "60 00 00 00" "00 10"
		   "00"           /* next header: Hop-by-Hop */
		   "40" PEER_GLOBAL ALL_NODES
		   "3a 00"        /* HBH: next header ICMPv6, length 8 */
		   "80 04 00 00 00 00" /* option 0x80 (action 10), 4 bytes */
		   "80 00 52 fc 00 01 00 01"); /* echo request */
	/* RFC 4443 §2.4 (e.3.2) */
	expect_frame(&link, 0,
		     ETH_TO_PEER
		     "60 00 00 00" "00 40" "3a" "40"
		     OUR_GLOBAL PEER_GLOBAL /* RFC 6724: a unicast source for the peer */
		     "04 02 85 cf"  /* parameter problem, code 2, checksum */
		     "00 00 00 2a"  /* pointer 42: the option type */
		     "60 00 00 00" "00 10" "00" "40" PEER_GLOBAL ALL_NODES
		     "3a 00 80 04 00 00 00 00"
		     "80 00 52 fc 00 01 00 01");
	/* The same option with action 11 gets nothing (RFC 8200 §4.2). */
	inject_hex(s, 0,
		   "33 33 00 00 00 01" "02 00 00 00 00 01" "86 dd"
		   "60 00 00 00" "00 10" "00" "40" PEER_GLOBAL ALL_NODES
		   "3a 00 c0 04 00 00 00 00"
		   "80 00 52 fc 00 01 00 01");
	/* clang-format on */
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(ctr(s, "ip6.drop_unknown_option"), 2);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_error_about_an_icmp_error_or_a_redirect)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");
	struct us_ip6 src = ip6("2001:db8:1::1"), dst = ip6("2001:db8:1::2");
	static const uint8_t types[] = { US_ICMP6_DEST_UNREACH, US_ICMP6_PARAM_PROBLEM,
					 US_ICMP6_ND_REDIRECT, US_ICMP6_ECHO_REQUEST };

	/* A Routing header with Segments Left 1 (Parameter Problem code 0
	 * material) in front of each message type. */
	for (unsigned i = 0; i < sizeof types; i++) {
		uint8_t p[24 + 8] = { US_IPPROTO_ICMPV6, 2, 0, 1 }, f[128];
		p[24] = types[i];
		size_t n = frame6(f, our_mac, &src, &dst, US_IPPROTO_ROUTING, 64, p, sizeof p);
		us_stack_input(s, 0, 0, f, n);
	}
	ck_assert_uint_eq(ctr(s, "ip6.drop_routing_header"), 4);
	/* (e.1) and (e.2): only the echo request is answered. */
	ck_assert_uint_eq(ctr(s, "icmp6.error_not_sent_about_error"), 3);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(link.frame[0][54], US_ICMP6_PARAM_PROBLEM);
	ck_assert_uint_eq(link.frame[0][54 + 8 + 40 + 24], US_ICMP6_ECHO_REQUEST);

	/* An error in a first fragment is recognised too. */
	uint8_t p[8 + 12] = { US_IPPROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 9, US_ICMP6_DEST_UNREACH };
	uint8_t f[128];
	size_t n = frame6(f, our_mac, &src, &dst, US_IPPROTO_FRAGMENT, 64, p, sizeof p);
	us_stack_input(s, 0, 0, f, n); /* M set, 12 bytes: not a multiple of 8 */
	ck_assert_uint_eq(ctr(s, "ip6.drop_frag_bad_length"), 1);
	ck_assert_uint_eq(ctr(s, "icmp6.error_not_sent_about_error"), 4);
	ck_assert_int_eq(link.count, 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(errors_are_rate_limited_to_a_burst_of_10_then_10_per_second)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");
	us_time_t t = US_SEC(100);

	for (int i = 0; i < 15; i++)
		inject_unknown_nh(s, t, our_mac, "2001:db8:1::1", "2001:db8:1::2");
	ck_assert_int_eq(link.count, 10);
	ck_assert_uint_eq(ctr(s, "icmp6.error_rate_limited"), 5);
	ck_assert_uint_eq(ctr(s, "ip6.drop_unknown_next_header"), 15);

	/* One token every 100 ms. */
	inject_unknown_nh(s, t + US_MSEC(99), our_mac, "2001:db8:1::1", "2001:db8:1::2");
	ck_assert_int_eq(link.count, 10);
	inject_unknown_nh(s, t + US_MSEC(100), our_mac, "2001:db8:1::1", "2001:db8:1::2");
	ck_assert_int_eq(link.count, 11);
	inject_unknown_nh(s, t + US_MSEC(150), our_mac, "2001:db8:1::1", "2001:db8:1::2");
	ck_assert_int_eq(link.count, 11);
	inject_unknown_nh(s, t + US_MSEC(200), our_mac, "2001:db8:1::1", "2001:db8:1::2");
	ck_assert_int_eq(link.count, 12);
	/* After a long quiet spell, the bucket holds 10 again, not more. */
	for (int i = 0; i < 12; i++)
		inject_unknown_nh(s, t + US_SEC(60), our_mac, "2001:db8:1::1", "2001:db8:1::2");
	ck_assert_int_eq(link.count, 22);
	ck_assert_uint_eq(ctr(s, "icmp6.error_rate_limited"), 9);
	/* Echo replies are not errors: never limited. */
	for (int i = 0; i < 3; i++)
		inject_hex(s, t + US_SEC(60),
			   ETH_TO_US "60 00 00 00 00 08 3a 40" PEER_GLOBAL OUR_GLOBAL
				   ECHO_FROM_PEER);
	ck_assert_int_eq(link.count, 25);
	us_test_stack_free(s);
}
END_TEST

START_TEST(error_quotes_as_much_as_fits_in_1280_bytes)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack6(&link);
	meet_peer(s, &link, 0, "2001:db8:1::1", "2001:db8:1::2");
	static uint8_t payload[1460], f[1600];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)i;
	struct us_ip6 src = ip6("2001:db8:1::1"), dst = ip6("2001:db8:1::2");
	size_t n = frame6(f, our_mac, &src, &dst, 253, 64, payload, sizeof payload);

	us_stack_input(s, 0, 0, f, n);
	ck_assert_int_eq(link.count, 1);
	/* RFC 4443 §2.4 (c): 40 + 8 + 1232 = 1280. */
	ck_assert_uint_eq(link.len[0], 14 + 1280);
	ck_assert_uint_eq(us_get_be16(link.frame[0] + 18), 1240);
	ck_assert_mem_eq(link.frame[0] + 14 + 48, f + 14, 1232);
	struct us_ip6 us = ip6("2001:db8:1::2");
	ck_assert(us_csum_ok(link.frame[0] + 54, 1240, us_csum_pseudo6(&us, &src, 58, 1240)));
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("ip6_icmp");
	TCase *echo = tcase_create("echo");
	tcase_add_test(echo, linux_ping_to_global_address_is_answered_byte_for_byte);
	tcase_add_test(echo, linux_ping_to_link_local_address_is_answered_byte_for_byte);
	tcase_add_test(echo, echo_to_all_nodes_is_answered_from_a_link_local_address);
	tcase_add_test(echo, echo_to_all_nodes_from_a_global_source_is_answered_from_our_global);
	tcase_add_test(echo, echo_request_from_the_unspecified_address_is_dropped);
	tcase_add_test(echo, icmp_message_too_short_or_with_bad_checksum_is_dropped);
	tcase_add_test(echo, ping6_sends_an_exact_echo_request_and_reports_the_reply);
	tcase_add_test(echo, ping6_checks_its_arguments);
	tcase_add_test(echo, ping6_to_a_group_goes_one_hop_unless_asked);
	suite_add_tcase(s, echo);

	TCase *pmtu = tcase_create("pmtu");
	tcase_add_test(pmtu, packet_too_big_lowers_the_path_mtu_until_it_expires_after_10_minutes);
	tcase_add_test(pmtu, packet_too_big_below_1280_is_discarded);
	tcase_add_test(pmtu, packet_too_big_never_raises_the_estimate);
	tcase_add_test(pmtu, errors_about_packets_we_did_not_send_or_cut_short_are_dropped);
	tcase_add_test(pmtu, path_mtu_table_is_bounded_and_evicts_the_entry_closest_to_expiry);
	tcase_add_test(pmtu, errors_received_are_counted_by_type);
	suite_add_tcase(s, pmtu);

	TCase *err = tcase_create("errors");
	tcase_add_test(err, unknown_next_header_gets_parameter_problem_from_the_address_it_hit);
	tcase_add_test(err, no_error_about_a_multicast_destination_or_link_layer_multicast_frame);
	tcase_add_test(err, no_error_to_a_source_that_is_not_one_node);
	tcase_add_test(err, parameter_problem_code_2_is_sent_even_for_a_multicast_destination);
	tcase_add_test(err, no_error_about_an_icmp_error_or_a_redirect);
	tcase_add_test(err, errors_are_rate_limited_to_a_burst_of_10_then_10_per_second);
	tcase_add_test(err, error_quotes_as_much_as_fits_in_1280_bytes);
	suite_add_tcase(s, err);
	return s;
}

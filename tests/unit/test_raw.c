/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_raw.c - raw IP sockets (src/stack/raw.c): copies of
 * received packets (IPv4 with the IP header, as Linux's raw(7); IPv6 the
 * payload only, RFC 3542 §3), packets sent with the header the stack builds
 * (and for ICMPv6 the checksum it computes, RFC 3542 §3.1), filters by
 * bound and connected address, a raw socket standing in for a protocol the
 * stack does not speak, the bounded queue, events, and argument checks.
 *
 * Read first: tests/unit/harness.h and test_udp.c's opening comment (the
 * same stack and peer).
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <ustack/core.h>

#include "raw.h"
#include "stack.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

#define STACK_IP 0xc6336402u     /* 198.51.100.2 */
#define STACK_IP3 0xc6336403u    /* 198.51.100.3 */
#define PEER_IP 0xc6336401u      /* 198.51.100.1 */
#define PEER7_IP 0xc6336407u     /* 198.51.100.7 */
#define SUBNET_BCAST 0xc63364ffu /* 198.51.100.255 */
#define EXPERIMENTAL 253         /* RFC 3692: a protocol nobody here speaks */

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- Helpers ----------------------------------------------------------------- */

static struct us_ip6 ip6(const char *text)
{
	struct us_ip6 a;
	ck_assert_int_eq(us_ip6_parse_text(text, &a), 0);
	return a;
}

static struct us_addr a4(uint32_t ip)
{
	struct us_addr a;
	memset(&a, 0, sizeof a);
	a.family = US_AF_INET;
	a.ip4 = ip;
	return a;
}

static struct us_addr a6(const char *text)
{
	struct us_addr a;
	memset(&a, 0, sizeof a);
	a.family = US_AF_INET6;
	a.ip6 = ip6(text);
	return a;
}

static uint64_t ctr(const struct us_stack *s, const char *name)
{
	return us_stack_counter(s, name);
}

static void learn_arp(struct us_stack *s, struct us_test_link *link, uint32_t ip, uint8_t last)
{
	us_test_meet_ipv4(s, link, 0, ip, last);
}

static void meet_peer6(struct us_stack *s, struct us_test_link *link)
{
	uint8_t msg[64], f[128];
	struct us_ndp_ns ns = { .target = ip6("2001:db8:1::2") };
	size_t n = us_ndp_ns_emit(&ns, msg, sizeof msg);
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, peer_mac, msg + n, sizeof msg - n);
	struct us_ip6 src = ip6("2001:db8:1::1"), dst = ip6("2001:db8:1::2");
	us_icmp6_csum_fill(msg, n, us_csum_pseudo6(&src, &dst, US_IPPROTO_ICMPV6, (uint32_t)n));
	struct us_eth_hdr e = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(e.dst, our_mac, 6);
	memcpy(e.src, peer_mac, 6);
	us_eth_emit(&e, f, 14);
	struct us_ipv6_hdr h = { .payload_len = (uint16_t)n, .next_header = US_IPPROTO_ICMPV6,
				 .hop_limit = 255, .src = src, .dst = dst };
	us_ipv6_emit(&h, f + 14, 40);
	memcpy(f + 54, msg, n);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, 54 + n), 0);
	link->count = 0;
}

static struct us_stack *stack46(struct us_test_link *link)
{
	struct us_stack *s = us_test_stack(link, 1);
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	learn_arp(s, link, PEER_IP, 1);
	meet_peer6(s, link);
	link->count = 0;
	return s;
}

/* An IPv4 frame from the peer's MAC: src -> dst, protocol proto, payload. */
static size_t ip4_frame(uint8_t *f, size_t cap, uint32_t src, uint32_t dst, uint8_t proto,
			const uint8_t *payload, size_t len)
{
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV4 };
	memcpy(eth.dst, our_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	ck_assert_uint_le(34 + len, cap);
	us_eth_emit(&eth, f, cap);
	struct us_ipv4_hdr ip = { .id = 0x4321, .ttl = 61, .proto = proto, .src = src, .dst = dst,
				  .payload_len = len };
	ck_assert_uint_eq(us_ipv4_emit(&ip, f + 14, cap - 14), 20);
	memcpy(f + 34, payload, len);
	return 34 + len;
}

static size_t ip6_frame(uint8_t *f, size_t cap, const char *src, const char *dst, uint8_t nh,
			const uint8_t *payload, size_t len)
{
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(eth.dst, our_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	ck_assert_uint_le(54 + len, cap);
	us_eth_emit(&eth, f, cap);
	struct us_ipv6_hdr ip = { .payload_len = (uint16_t)len, .next_header = nh,
				  .hop_limit = 64, .src = ip6(src), .dst = ip6(dst) };
	ck_assert_uint_eq(us_ipv6_emit(&ip, f + 14, 40), 40);
	memcpy(f + 54, payload, len);
	return 54 + len;
}

static int inject(struct us_stack *s, const uint8_t *f, size_t n)
{
	return us_stack_input(s, 0, 0, f, n);
}

struct evlog {
	int calls;
	int last;
};

static void on_event(void *ctx, int events)
{
	struct evlog *l = ctx;
	l->calls++;
	l->last = events;
}

static struct us_raw *open_raw(struct us_stack *s, int family, int proto, struct evlog *log)
{
	int err = 1;
	struct us_raw *r = us_raw_open(s, family, proto, log ? on_event : NULL, log, &err);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(err, 0);
	return r;
}

/* clang-format off */
/* Echo messages, identifier 0x1234, sequence 1, data "ping". */
#define ECHO4_REQUEST "08 00 06 fa 12 34 00 01 70 69 6e 67"
#define ECHO4_REPLY   "00 00 0e fa 12 34 00 01 70 69 6e 67"
#define ECHO6_REPLY   "81 00 32 3c 12 34 00 01 70 69 6e 67"
/* clang-format on */

/* ---- IPv4 ---------------------------------------------------------------------- */

START_TEST(raw_icmp_socket_sees_echo_replies_with_their_ip_header)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct evlog log = { 0 };
	struct us_raw *r = open_raw(s, US_AF_INET, US_IPPROTO_ICMP, &log);
	uint8_t msg[12], f[128], buf[128];
	us_test_hex(ECHO4_REPLY, msg, sizeof msg);
	size_t n = ip4_frame(f, sizeof f, PEER_IP, STACK_IP, US_IPPROTO_ICMP, msg, sizeof msg);
	/* The stack's own ping did not send it (icmp.drop_echo_reply_unmatched),
	 * but the raw socket has its copy. */
	inject(s, f, n);
	ck_assert_int_eq(log.calls, 1);
	ck_assert_int_eq(log.last, US_EV_READABLE | US_EV_WRITABLE);
	struct us_addr from;
	memset(&from, 0x5a, sizeof from);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, &from), 32);
	ck_assert_mem_eq(buf, f + 14, 32); /* from the IP header on, as it came */
	struct us_addr want = a4(PEER_IP);
	ck_assert_mem_eq(&from, &want, sizeof from);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, &from), -EAGAIN);
	ck_assert_int_eq(us_raw_events(r), US_EV_WRITABLE);

	/* An echo request: the raw socket sees it and the stack answers it. */
	us_test_hex(ECHO4_REQUEST, msg, sizeof msg);
	n = ip4_frame(f, sizeof f, PEER_IP, STACK_IP, US_IPPROTO_ICMP, msg, sizeof msg);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, &from), 32);
	ck_assert_uint_eq(buf[20], US_ICMP4_ECHO);
	/* Other protocols are not its business. */
	n = ip4_frame(f, sizeof f, PEER_IP, STACK_IP, US_IPPROTO_UDP, msg, sizeof msg);
	inject(s, f, n);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, &from), -EAGAIN);
	ck_assert_uint_eq(ctr(s, "raw.in_delivered"), 2);
	us_raw_close(r);
	us_test_stack_free(s);
}
END_TEST

START_TEST(raw_icmp_socket_sends_the_echo_request_it_built)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_raw *r = open_raw(s, US_AF_INET, US_IPPROTO_ICMP, NULL);
	uint8_t msg[12], want[64];
	us_test_hex(ECHO4_REQUEST, msg, sizeof msg);
	struct us_addr to = a4(PEER_IP);
	ck_assert_int_eq(us_raw_sendto(r, 0, &to, msg, sizeof msg), 12);
	ck_assert_int_eq(link.count, 1);
	/* clang-format off */
	size_t n = us_test_hex(
		"02 00 00 00 00 01 02 00 00 00 00 02 08 00" /* to the peer, IPv4 */
		"45 00 00 20 00 00 00 00"                   /* length 32, ID (keyed), DF clear */
		"40 01 00 00"                               /* TTL 64, ICMP, checksum */
		"c6 33 64 02 c6 33 64 01"                   /* .2 -> .1 */
		ECHO4_REQUEST                               /* as given, checksum included */
		"00 00 00 00 00 00 00 00 00 00 00 00 00 00", /* padding to 60 */
		want, sizeof want);
	/* clang-format on */
	ck_assert_uint_eq(link.len[0], n);
	memcpy(want + 18, link.frame[0] + 18, 2); /* the keyed Identification */
	memcpy(want + 24, link.frame[0] + 24, 2);
	ck_assert(us_csum_ok(link.frame[0] + 14, 20, 0));
	ck_assert_mem_eq(link.frame[0], want, n);
	ck_assert_uint_eq(ctr(s, "raw.out"), 1);

	/* The TTL option applies; a connected socket needs no destination. */
	ck_assert_int_eq(us_raw_setopt(r, US_OPT_TTL, 9), 0);
	ck_assert_int_eq(us_raw_connect(r, &to), 0);
	ck_assert_int_eq(us_raw_sendto(r, 0, NULL, msg, sizeof msg), 12);
	ck_assert_uint_eq(link.frame[1][22], 9);
	us_raw_close(r);
	us_test_stack_free(s);
}
END_TEST

START_TEST(raw_socket_speaks_for_a_protocol_the_stack_does_not)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	uint8_t f[128], buf[64];
	const uint8_t data[4] = { 1, 2, 3, 4 };
	size_t n = ip4_frame(f, sizeof f, PEER_IP, STACK_IP, EXPERIMENTAL, data, 4);
	/* Nobody: Protocol Unreachable (RFC 1122 §3.2.2.1). */
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(link.frame[0][34], US_ICMP4_DEST_UNREACH);
	ck_assert_uint_eq(link.frame[0][35], US_ICMP4_UNREACH_PROTO);
	struct us_raw *r = open_raw(s, US_AF_INET, EXPERIMENTAL, NULL);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, NULL), 24);
	ck_assert_mem_eq(buf + 20, data, 4);
	ck_assert_uint_eq(ctr(s, "ip.drop_unknown_protocol"), 1);

	/* IPv6: no Parameter Problem once a raw socket takes the Next Header;
	 * it gets the payload alone. */
	n = ip6_frame(f, sizeof f, "2001:db8:1::1", "2001:db8:1::2", EXPERIMENTAL, data, 4);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_int_eq(link.count, 2);
	ck_assert_uint_eq(link.frame[1][54], US_ICMP6_PARAM_PROBLEM);
	struct us_raw *r6 = open_raw(s, US_AF_INET6, EXPERIMENTAL, NULL);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(link.count, 2);
	struct us_addr from;
	ck_assert_int_eq(us_raw_recvfrom(r6, buf, sizeof buf, &from), 4);
	ck_assert_mem_eq(buf, data, 4);
	struct us_addr want = a6("2001:db8:1::1");
	ck_assert_mem_eq(&from, &want, sizeof from);
	/* The IPv4 socket saw none of it. */
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, NULL), -EAGAIN);
	us_raw_close(r);
	us_raw_close(r6);
	us_test_stack_free(s);
}
END_TEST

START_TEST(bind_and_connect_filter_what_a_raw_socket_sees)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, STACK_IP3, 24), 0);
	struct us_raw *r = open_raw(s, US_AF_INET, EXPERIMENTAL, NULL);
	struct us_addr at = a4(PEER7_IP);
	ck_assert_int_eq(us_raw_bind(r, &at), -EADDRNOTAVAIL);
	at = a6("2001:db8:1::2");
	ck_assert_int_eq(us_raw_bind(r, &at), -EINVAL);
	at = a4(STACK_IP3);
	at.port = 99; /* ignored */
	ck_assert_int_eq(us_raw_bind(r, &at), 0);
	struct us_addr got;
	ck_assert_int_eq(us_raw_local(r, &got), 0);
	ck_assert_uint_eq(got.ip4, STACK_IP3);
	ck_assert_uint_eq(got.port, 0);

	uint8_t f[128], buf[64];
	const uint8_t data[1] = { 7 };
	size_t n = ip4_frame(f, sizeof f, PEER_IP, STACK_IP, EXPERIMENTAL, data, 1);
	inject(s, f, n);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, NULL), -EAGAIN);
	n = ip4_frame(f, sizeof f, PEER_IP, STACK_IP3, EXPERIMENTAL, data, 1);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, NULL), 21);

	/* Connected to .7: the peer at .1 is not heard. */
	learn_arp(s, &link, PEER7_IP, 7);
	struct us_addr peer7 = a4(PEER7_IP);
	ck_assert_int_eq(us_raw_connect(r, &peer7), 0);
	inject(s, f, n);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, NULL), -EAGAIN);
	n = ip4_frame(f, sizeof f, PEER7_IP, STACK_IP3, EXPERIMENTAL, data, 1);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, NULL), 21);
	/* Dissolved: everyone again. */
	struct us_addr unspec = { .family = US_AF_UNSPEC };
	ck_assert_int_eq(us_raw_connect(r, &unspec), 0);
	n = ip4_frame(f, sizeof f, PEER_IP, STACK_IP3, EXPERIMENTAL, data, 1);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, NULL), 21);
	us_raw_close(r);
	us_test_stack_free(s);
}
END_TEST

START_TEST(raw_sendto_checks_its_arguments)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_raw *r = open_raw(s, US_AF_INET, EXPERIMENTAL, NULL);
	static uint8_t big[65536];
	struct us_addr to = a4(PEER_IP), bc = a4(SUBNET_BCAST), six = a6("2001:db8:1::1");
	ck_assert_int_eq(us_raw_sendto(r, 0, NULL, big, 1), -EDESTADDRREQ);
	ck_assert_int_eq(us_raw_sendto(r, 0, &six, big, 1), -EAFNOSUPPORT);
	ck_assert_int_eq(us_raw_sendto(r, 0, &to, NULL, 1), -EFAULT);
	ck_assert_int_eq(us_raw_sendto(r, 0, &to, big, 65516), -EMSGSIZE);
	ck_assert_int_eq(us_raw_sendto(r, 0, &bc, big, 1), -EACCES);
	ck_assert_int_eq(us_raw_connect(r, &bc), -EACCES);
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(us_raw_setopt(r, US_OPT_BROADCAST, 1), 0);
	ck_assert_int_eq(us_raw_sendto(r, 0, &bc, big, 1), 1);
	ck_assert_int_eq(link.count, 1);
	ck_assert_mem_eq(link.frame[0], bcast_mac, 6);
	/* The largest datagram leaves in fragments. */
	ck_assert_int_eq(us_raw_sendto(r, 0, &to, big, 65515), 65515);
	ck_assert_int_eq(link.count, 1 + 45);

	struct us_raw *r6 = open_raw(s, US_AF_INET6, US_IPPROTO_ICMPV6, NULL);
	ck_assert_int_eq(us_raw_sendto(r6, 0, &six, big, 65536), -EMSGSIZE);
	ck_assert_int_eq(us_raw_sendto(r6, 0, &six, big, 7), -EINVAL); /* no room for a checksum */
	struct us_addr mapped = a6("::ffff:198.51.100.1");
	ck_assert_int_eq(us_raw_sendto(r6, 0, &mapped, big, 8), -ENETUNREACH);
	ck_assert_int_eq(us_raw_sendto(NULL, 0, &six, big, 8), -EINVAL);
	us_raw_close(r);
	us_raw_close(r6);
	us_test_stack_free(s);
}
END_TEST

/* ---- IPv6 ------------------------------------------------------------------------ */

START_TEST(raw_icmpv6_socket_gets_the_message_alone_and_the_stack_fills_its_sum)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_raw *r = open_raw(s, US_AF_INET6, US_IPPROTO_ICMPV6, NULL);
	/* RFC 3542 §3.1: the application leaves the checksum to the stack. */
	uint8_t msg[12] = { US_ICMP6_ECHO_REQUEST, 0, 0xde, 0xad, 0x12, 0x34, 0, 1,
			    'p', 'i', 'n', 'g' };
	struct us_addr to = a6("2001:db8:1::1");
	ck_assert_int_eq(us_raw_sendto(r, 0, &to, msg, sizeof msg), 12);
	ck_assert_int_eq(link.count, 1);
	uint8_t want[128];
	/* clang-format off */
	size_t n = us_test_hex(
		"02 00 00 00 00 01 02 00 00 00 00 02 86 dd" /* to the peer, IPv6 */
		"60 00 00 00 00 0c 3a 40"                   /* length 12, ICMPv6, hop limit 64 */
		"20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 02"
		"20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01"
		"80 00 33 3c 12 34 00 01 70 69 6e 67",      /* echo request, checksum filled */
		want, sizeof want);
	/* clang-format on */
	ck_assert_uint_eq(link.len[0], n);
	ck_assert_mem_eq(link.frame[0], want, n);

	/* The reply: the ICMPv6 message only, from the peer. */
	uint8_t reply[12], f[128], buf[64];
	us_test_hex(ECHO6_REPLY, reply, sizeof reply);
	n = ip6_frame(f, sizeof f, "2001:db8:1::1", "2001:db8:1::2", US_IPPROTO_ICMPV6, reply,
		      sizeof reply);
	ck_assert_int_eq(inject(s, f, n), 0);
	struct us_addr from;
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, &from), 12);
	ck_assert_mem_eq(buf, reply, 12);
	ck_assert_mem_eq(&from, &to, sizeof from);
	/* A bad checksum is not copied (and the ICMPv6 module drops it). */
	reply[3] ^= 1;
	n = ip6_frame(f, sizeof f, "2001:db8:1::1", "2001:db8:1::2", US_IPPROTO_ICMPV6, reply,
		      sizeof reply);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "raw.drop_icmp6_bad_checksum"), 1);
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, &from), -EAGAIN);
	us_raw_close(r);
	us_test_stack_free(s);
}
END_TEST

START_TEST(raw_ipv6_socket_bound_to_an_address_takes_only_packets_to_it)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_raw *r = open_raw(s, US_AF_INET6, EXPERIMENTAL, NULL);
	struct us_addr at = a6("2001:db8:1::9");
	ck_assert_int_eq(us_raw_bind(r, &at), -EADDRNOTAVAIL);
	at = a6("fe80::ff:fe00:2");
	ck_assert_int_eq(us_raw_bind(r, &at), 0);
	struct us_addr got;
	us_raw_local(r, &got);
	ck_assert_uint_eq(got.scope_id, 1);
	uint8_t f[128], buf[16];
	const uint8_t data[2] = { 9, 9 };
	size_t n = ip6_frame(f, sizeof f, "2001:db8:1::1", "2001:db8:1::2", EXPERIMENTAL, data, 2);
	ck_assert_int_eq(inject(s, f, n), -EINVAL); /* nobody: Parameter Problem */
	n = ip6_frame(f, sizeof f, "fe80::1", "fe80::ff:fe00:2", EXPERIMENTAL, data, 2);
	ck_assert_int_eq(inject(s, f, n), 0);
	struct us_addr from;
	ck_assert_int_eq(us_raw_recvfrom(r, buf, sizeof buf, &from), 2);
	ck_assert_uint_eq(from.scope_id, 1);
	us_raw_close(r);
	us_test_stack_free(s);
}
END_TEST

/* ---- Queue and lifetime ---------------------------------------------------------- */

START_TEST(raw_queue_is_bounded_and_close_frees_it)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct evlog log = { 0 };
	struct us_raw *r = open_raw(s, US_AF_INET, EXPERIMENTAL, &log);
	ck_assert_int_eq(us_raw_setopt(r, US_OPT_RCVBUF, 2 * US_PBUF_SMALL), 0);
	int v = 0;
	ck_assert_int_eq(us_raw_getopt(r, US_OPT_RCVBUF, &v), 0);
	ck_assert_int_eq(v, 4096);
	ck_assert_int_eq(us_raw_getopt(r, US_OPT_V6ONLY, &v), -ENOPROTOOPT);
	uint8_t f[128];
	const uint8_t data[1] = { 1 };
	size_t n = ip4_frame(f, sizeof f, PEER_IP, STACK_IP, EXPERIMENTAL, data, 1);
	for (int i = 0; i < 3; i++)
		inject(s, f, n);
	ck_assert_uint_eq(ctr(s, "raw.in_delivered"), 2);
	ck_assert_uint_eq(ctr(s, "raw.drop_rcvbuf_full"), 1);
	ck_assert_int_eq(log.calls, 2);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 2);
	us_raw_close(r);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_raw_close(NULL);
	/* One left open goes with the stack. */
	r = open_raw(s, US_AF_INET, EXPERIMENTAL, NULL);
	inject(s, f, n);
	us_stack_free(s);
}
END_TEST

START_TEST(raw_open_refuses_bad_families_and_protocols)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	int err = 0;
	const int bad[] = { 0, 255, -1, 256 };
	for (int i = 0; i < 4; i++) {
		ck_assert_ptr_null(us_raw_open(s, US_AF_INET, bad[i], NULL, NULL, &err));
		ck_assert_int_eq(err, -EPROTONOSUPPORT);
	}
	ck_assert_ptr_null(us_raw_open(s, US_AF_UNSPEC, US_IPPROTO_ICMP, NULL, NULL, &err));
	ck_assert_int_eq(err, -EAFNOSUPPORT);
	ck_assert_ptr_null(us_raw_open(NULL, US_AF_INET, US_IPPROTO_ICMP, NULL, NULL, &err));
	ck_assert_int_eq(err, -EINVAL);
	struct us_raw *all[US_RAW_MAX_SOCKETS];
	for (int i = 0; i < US_RAW_MAX_SOCKETS; i++)
		all[i] = open_raw(s, US_AF_INET, US_IPPROTO_ICMP, NULL);
	ck_assert_ptr_null(us_raw_open(s, US_AF_INET, US_IPPROTO_ICMP, NULL, NULL, &err));
	ck_assert_int_eq(err, -ENOBUFS);
	for (int i = 0; i < US_RAW_MAX_SOCKETS; i++)
		us_raw_close(all[i]);
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("raw");

	TCase *v4 = tcase_create("ipv4");
	tcase_add_test(v4, raw_icmp_socket_sees_echo_replies_with_their_ip_header);
	tcase_add_test(v4, raw_icmp_socket_sends_the_echo_request_it_built);
	tcase_add_test(v4, raw_socket_speaks_for_a_protocol_the_stack_does_not);
	tcase_add_test(v4, bind_and_connect_filter_what_a_raw_socket_sees);
	tcase_add_test(v4, raw_sendto_checks_its_arguments);
	suite_add_tcase(s, v4);

	TCase *v6 = tcase_create("ipv6");
	tcase_add_test(v6, raw_icmpv6_socket_gets_the_message_alone_and_the_stack_fills_its_sum);
	tcase_add_test(v6, raw_ipv6_socket_bound_to_an_address_takes_only_packets_to_it);
	suite_add_tcase(s, v6);

	TCase *life = tcase_create("lifetime");
	tcase_add_test(life, raw_queue_is_bounded_and_close_frees_it);
	tcase_add_test(life, raw_open_refuses_bad_families_and_protocols);
	suite_add_tcase(s, life);
	return s;
}

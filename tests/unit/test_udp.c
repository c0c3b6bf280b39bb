/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_udp.c - UDP in the core (src/stack/udp.c, sock.c) and the
 * address text of addr.c: bind rules (RFC 6056 ephemeral ports,
 * SO_REUSEADDR, IPv4-mapped addresses and V6ONLY), connect filtering, the
 * exact datagrams sent over IPv4 and IPv6, receiving (source, truncation,
 * the bounded queue), checksums (RFC 1122 §4.1.3.4, RFC 8200 §8.1), Port
 * Unreachable sent (RFC 1122 §4.1.3.1) and received (§4.1.3.3), broadcast,
 * 60000-byte datagrams through fragmentation and reassembly, events, close.
 *
 * Read first: tests/unit/harness.h. The stack is 02:00:00:00:00:02,
 * 198.51.100.2/24 and 2001:db8:1::2/64; the peer 02:00:00:00:00:01,
 * 198.51.100.1 and 2001:db8:1::1. As in test_ip.c and test_ip6.c, the
 * stack meets the peer first (an ARP request and a Neighbor Solicitation
 * from it), so our datagrams leave at once.
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <ustack/core.h>

#include "rand.h"
#include "stack.h"
#include "udp.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/udp.h"

#define STACK_IP 0xc6336402u     /* 198.51.100.2 */
#define STACK_IP3 0xc6336403u    /* 198.51.100.3, a second address in some tests */
#define PEER_IP 0xc6336401u      /* 198.51.100.1 */
#define PEER7_IP 0xc6336407u     /* 198.51.100.7 */
#define SUBNET_BCAST 0xc63364ffu /* 198.51.100.255 */

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };

/* ---- Helpers ----------------------------------------------------------------- */

static struct us_ip6 ip6(const char *text)
{
	struct us_ip6 a;
	ck_assert_int_eq(us_ip6_parse_text(text, &a), 0);
	return a;
}

static struct us_addr a4(uint32_t ip, uint16_t port)
{
	struct us_addr a;
	memset(&a, 0, sizeof a);
	a.family = US_AF_INET;
	a.ip4 = ip;
	a.port = port;
	return a;
}

static struct us_addr a6(const char *text, uint16_t port)
{
	struct us_addr a;
	memset(&a, 0, sizeof a);
	a.family = US_AF_INET6;
	a.ip6 = ip6(text);
	a.port = port;
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

/* The peer introduces itself with a Neighbor Solicitation (see test_ip6_icmp.c). */
static void meet_peer6(struct us_stack *s, struct us_test_link *link, const char *peer,
		       const char *ours)
{
	uint8_t msg[64], f[128];
	struct us_ndp_ns ns = { .target = ip6(ours) };
	size_t n = us_ndp_ns_emit(&ns, msg, sizeof msg);
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, peer_mac, msg + n, sizeof msg - n);
	struct us_ip6 src = ip6(peer), dst = ip6(ours);
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
	ck_assert_int_eq(link->count, 1);
	link->count = 0;
}

/* The harness stack with 2001:db8:1::2/64 too, having met the peer on both. */
static struct us_stack *stack46(struct us_test_link *link)
{
	struct us_stack *s = us_test_stack(link, 1);
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	learn_arp(s, link, PEER_IP, 1);
	meet_peer6(s, link, "2001:db8:1::1", "2001:db8:1::2");
	link->count = 0;
	return s;
}

enum csum_mode { CSUM_GOOD, CSUM_ZERO, CSUM_BAD };

/* An Ethernet frame from the peer's MAC to dst_mac with an IPv4 datagram
 * src -> dst carrying UDP sport -> dport and data/len. */
static size_t udp4_frame(uint8_t *f, size_t cap, const uint8_t *dst_mac, uint32_t src,
			 uint32_t dst, uint16_t sport, uint16_t dport, const void *data,
			 size_t len, enum csum_mode m)
{
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV4 };
	memcpy(eth.dst, dst_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	ck_assert_uint_le(14 + 20 + 8 + len, cap);
	us_eth_emit(&eth, f, cap);
	struct us_ipv4_hdr ip = { .id = 0x1234, .ttl = 64, .proto = US_IPPROTO_UDP, .src = src,
				  .dst = dst, .payload_len = 8 + len };
	ck_assert_uint_eq(us_ipv4_emit(&ip, f + 14, cap - 14), 20);
	uint8_t *u = f + 34;
	struct us_udp_hdr h = { .sport = sport, .dport = dport, .payload_len = len };
	us_udp_emit(&h, u, 8);
	if (len)
		memcpy(u + 8, data, len);
	if (m != CSUM_ZERO)
		us_udp_csum_fill(u, 8 + len,
				 us_csum_pseudo4(src, dst, US_IPPROTO_UDP, (uint32_t)(8 + len)));
	if (m == CSUM_BAD)
		u[7] ^= 0x01;
	return 34 + 8 + len;
}

/* The same over IPv6 (hop limit 64). */
static size_t udp6_frame(uint8_t *f, size_t cap, const uint8_t *dst_mac, const char *src,
			 const char *dst, uint16_t sport, uint16_t dport, const void *data,
			 size_t len, enum csum_mode m)
{
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(eth.dst, dst_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	ck_assert_uint_le(14 + 40 + 8 + len, cap);
	us_eth_emit(&eth, f, cap);
	struct us_ipv6_hdr ip = { .payload_len = (uint16_t)(8 + len),
				  .next_header = US_IPPROTO_UDP,
				  .hop_limit = 64,
				  .src = ip6(src),
				  .dst = ip6(dst) };
	ck_assert_uint_eq(us_ipv6_emit(&ip, f + 14, 40), 40);
	uint8_t *u = f + 54;
	struct us_udp_hdr h = { .sport = sport, .dport = dport, .payload_len = len };
	us_udp_emit(&h, u, 8);
	if (len)
		memcpy(u + 8, data, len);
	if (m != CSUM_ZERO)
		us_udp_csum_fill(u, 8 + len,
				 us_csum_pseudo6(&ip.src, &ip.dst, US_IPPROTO_UDP,
						 (uint32_t)(8 + len)));
	if (m == CSUM_BAD)
		u[7] ^= 0x01;
	return 54 + 8 + len;
}

static int inject(struct us_stack *s, const uint8_t *f, size_t n)
{
	return us_stack_input(s, 0, 0, f, n);
}

/* Injects an IPv4 frame written in hex, its header checksum computed here. */
static int inject_hex4(struct us_stack *s, const char *hex)
{
	uint8_t f[2048];
	size_t n = us_test_hex(hex, f, sizeof f);
	us_csum_fill(f + 14, 20, 10, 0);
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

static struct us_udp *open_udp(struct us_stack *s, int family, struct evlog *log)
{
	int err = 1;
	struct us_udp *u = us_udp_open(s, family, log ? on_event : NULL, log, &err);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(err, 0);
	return u;
}

static struct us_udp *bound_udp(struct us_stack *s, struct us_addr local, struct evlog *log)
{
	struct us_udp *u = open_udp(s, local.family, log);
	ck_assert_int_eq(us_udp_bind(u, &local), 0);
	return u;
}

/* ---- Address text (addr.c) ------------------------------------------------------ */

static void expect_round_trip(const char *text, uint16_t port, int family, const char *want)
{
	struct us_addr a;
	char buf[US_ADDR_TEXT_MAX];
	ck_assert_int_eq(us_addr_parse(text, port, &a), 0);
	ck_assert_int_eq(a.family, family);
	ck_assert_uint_eq(a.port, port);
	size_t n = us_addr_format(&a, buf, sizeof buf);
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(addresses_parse_and_format_round_trip)
{
	expect_round_trip("198.51.100.2", 7, US_AF_INET, "198.51.100.2:7");
	expect_round_trip("198.51.100.2", 0, US_AF_INET, "198.51.100.2");
	expect_round_trip("0.0.0.0", 65535, US_AF_INET, "0.0.0.0:65535");
	expect_round_trip("2001:db8:1::2", 53, US_AF_INET6, "[2001:db8:1::2]:53");
	expect_round_trip("2001:DB8:0:0:0:0:0:1", 0, US_AF_INET6, "2001:db8::1");
	expect_round_trip("::", 0, US_AF_INET6, "::");
	expect_round_trip("::ffff:198.51.100.1", 9, US_AF_INET6, "[::ffff:198.51.100.1]:9");
	expect_round_trip("fe80::1%0", 7, US_AF_INET6, "[fe80::1%0]:7");
	expect_round_trip("ff02::1%3", 0, US_AF_INET6, "ff02::1%3");

	struct us_addr a;
	ck_assert_int_eq(us_addr_parse("198.51.100.2", 7, &a), 0);
	ck_assert_uint_eq(a.ip4, STACK_IP);
	ck_assert_uint_eq(a.scope_id, 0);
	ck_assert_int_eq(us_addr_parse("fe80::1%1", 0, &a), 0);
	ck_assert_uint_eq(a.scope_id, 2); /* interface index 1, plus one */
	ck_assert_uint_eq(a.ip6.b[0], 0xfe);
	ck_assert_uint_eq(a.ip6.b[15], 0x01);
	ck_assert_int_eq(us_addr_parse("fe80::1%4294967294", 0, &a), 0);
	ck_assert_uint_eq(a.scope_id, 4294967295u);
}
END_TEST

START_TEST(addresses_refuse_bad_text_and_leave_the_output_alone)
{
	const char *bad[] = {
		"",                   /* nothing */
		"198.51.100",         /* three parts: inet_aton's shorthand is refused */
		"256.1.1.1",          /* out of range */
		"198.51.100.2 ",      /* trailing space */
		"010.0.0.1",          /* a leading zero (octal to inet_aton) */
		"1.2.3.4%1",          /* a zone on IPv4 */
		"[2001:db8::1]",      /* brackets belong to the formatter */
		"2001:db8::1%1",      /* a zone on a global address (RFC 4007 §6) */
		"fe80::1%",           /* an empty zone */
		"fe80::1%eth0",       /* zone names: the core knows indices only */
		"fe80::1%01",         /* a leading zero */
		"fe80::1%-1",         /* a sign */
		"fe80::1%4294967295", /* index + 1 would not fit */
		"fe80::1%1%2",        /* two zones */
		"2001:db8:::1",       /* ":::" */
		"1:2:3:4:5:6:7:8:9",  /* nine groups */
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789", /* too long */
		"example.com",        /* a name is not an address */
	};
	struct us_addr a, keep;
	memset(&keep, 0x5a, sizeof keep);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		a = keep;
		ck_assert_msg(us_addr_parse(bad[i], 7, &a) == -EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_mem_eq(&a, &keep, sizeof a);
	}
	ck_assert_int_eq(us_addr_parse(NULL, 7, &a), -EINVAL);
	ck_assert_int_eq(us_addr_parse("198.51.100.2", 7, NULL), -EINVAL);
}
END_TEST

START_TEST(address_format_cuts_to_the_buffer_and_names_no_address)
{
	struct us_addr a = a4(STACK_IP, 7);
	char buf[8];
	memset(buf, 'x', sizeof buf);
	ck_assert_uint_eq(us_addr_format(&a, buf, 5), 4);
	ck_assert_str_eq(buf, "198.");
	ck_assert_int_eq(buf[5], 'x');
	memset(buf, 'x', sizeof buf);
	ck_assert_uint_eq(us_addr_format(&a, buf, 0), 0);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_uint_eq(us_addr_format(&a, buf, 1), 0);
	ck_assert_str_eq(buf, "");

	char big[US_ADDR_TEXT_MAX];
	struct us_addr none = { .family = US_AF_UNSPEC };
	ck_assert_uint_eq(us_addr_format(&none, big, sizeof big), 6);
	ck_assert_str_eq(big, "(none)");
	ck_assert_uint_eq(us_addr_format(NULL, big, sizeof big), 6);
	/* The longest form fits US_ADDR_TEXT_MAX. */
	struct us_addr wide = a6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	wide.scope_id = 0xffffffffu;
	ck_assert_uint_eq(us_addr_format(&wide, big, sizeof big), 58);
	ck_assert_str_eq(big, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967294]:65535");
}
END_TEST

/* ---- Bind ---------------------------------------------------------------------- */

START_TEST(bind_takes_our_address_or_the_wildcard_and_refuses_others)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = open_udp(s, US_AF_INET, NULL);
	struct us_addr got;

	ck_assert_int_eq(us_udp_local(u, &got), 0); /* unbound: the wildcard, port 0 */
	ck_assert_int_eq(got.family, US_AF_INET);
	ck_assert_uint_eq(got.ip4, 0);
	ck_assert_uint_eq(got.port, 0);

	struct us_addr want = a4(PEER7_IP, 5000);
	ck_assert_int_eq(us_udp_bind(u, &want), -EADDRNOTAVAIL); /* not ours */
	want = a6("2001:db8:1::2", 5000);
	ck_assert_int_eq(us_udp_bind(u, &want), -EINVAL); /* wrong family */
	want = a4(STACK_IP, 5000);
	ck_assert_int_eq(us_udp_bind(u, &want), 0);
	ck_assert_int_eq(us_udp_local(u, &got), 0);
	ck_assert_uint_eq(got.ip4, STACK_IP);
	ck_assert_uint_eq(got.port, 5000);
	ck_assert_int_eq(us_udp_bind(u, &want), -EINVAL); /* already bound */

	/* The wildcard on the same port overlaps: taken. */
	struct us_udp *w = open_udp(s, US_AF_INET, NULL);
	want = a4(0, 5000);
	ck_assert_int_eq(us_udp_bind(w, &want), -EADDRINUSE);
	want = a4(0, 5001);
	ck_assert_int_eq(us_udp_bind(w, &want), 0);

	/* Broadcast addresses may be bound (to receive broadcasts). */
	struct us_udp *b = open_udp(s, US_AF_INET, NULL);
	want = a4(SUBNET_BCAST, 5000);
	ck_assert_int_eq(us_udp_bind(b, &want), 0);

	/* IPv6: ours, a tentative-free global; not someone else's. */
	struct us_udp *v6 = open_udp(s, US_AF_INET6, NULL);
	want = a6("2001:db8:1::9", 5000);
	ck_assert_int_eq(us_udp_bind(v6, &want), -EADDRNOTAVAIL);
	want = a6("2001:db8:1::2", 5000);
	ck_assert_int_eq(us_udp_bind(v6, &want), 0);
	/* A link-local address without a scope takes its interface's. */
	struct us_udp *ll = open_udp(s, US_AF_INET6, NULL);
	want = a6("fe80::ff:fe00:2", 5000);
	ck_assert_int_eq(us_udp_bind(ll, &want), 0);
	ck_assert_int_eq(us_udp_local(ll, &got), 0);
	ck_assert_uint_eq(got.scope_id, 1);
	struct us_udp *ll2 = open_udp(s, US_AF_INET6, NULL);
	want.scope_id = 5; /* no interface 4 */
	ck_assert_int_eq(us_udp_bind(ll2, &want), -EINVAL);

	ck_assert_int_eq(us_udp_bind(NULL, &want), -EINVAL);
	ck_assert_int_eq(us_udp_bind(ll2, NULL), -EINVAL);
	us_udp_close(u);
	us_udp_close(w);
	us_udp_close(b);
	us_udp_close(v6);
	us_udp_close(ll);
	us_udp_close(ll2);
	us_test_stack_free(s);
}
END_TEST

/* RFC 6056 §3.3.1 with SipHash-2-4 under the harness's key (00 01 .. 0f) as
 * random(): the first draw is over "udpe" and a 64-bit zero count. */
static uint16_t first_ephemeral(const struct us_stack *s)
{
	uint8_t in[12] = { 'u', 'd', 'p', 'e' };
	return (uint16_t)(49152 + us_siphash(s->cfg.secret, in, sizeof in) % 16384);
}

START_TEST(port_zero_picks_unpredictable_ephemeral_ports_in_range)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	enum { N = 16 };
	struct us_udp *u[N];
	uint16_t port[N];
	for (int i = 0; i < N; i++) {
		u[i] = bound_udp(s, a4(0, 0), NULL);
		struct us_addr got;
		ck_assert_int_eq(us_udp_local(u[i], &got), 0);
		port[i] = got.port;
		ck_assert_uint_ge(port[i], US_UDP_EPHEMERAL_MIN);
		ck_assert_uint_le(port[i], US_UDP_EPHEMERAL_MAX);
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(port[i], port[j]);
	}
	ck_assert_uint_eq(port[0], first_ephemeral(s));
	/* Not a counter from one offset: consecutive binds land far apart. */
	int far = 0;
	for (int i = 1; i < N; i++)
		far += (port[i] > port[i - 1] ? port[i] - port[i - 1] : port[i - 1] - port[i]) > 16;
	ck_assert_int_ge(far, N - 3);
	/* The same for IPv6, and a port held by anybody is never picked. */
	struct us_udp *v6 = bound_udp(s, a6("::", 0), NULL);
	struct us_addr got;
	us_udp_local(v6, &got);
	for (int i = 0; i < N; i++)
		ck_assert_uint_ne(got.port, port[i]);
	ck_assert_uint_ge(got.port, US_UDP_EPHEMERAL_MIN);
	for (int i = 0; i < N; i++)
		us_udp_close(u[i]);
	us_udp_close(v6);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_port_is_shared_only_when_both_sockets_set_reuseaddr)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, STACK_IP3, 24), 0);
	struct us_udp *a = bound_udp(s, a4(0, 6000), NULL);
	struct us_udp *b = open_udp(s, US_AF_INET, NULL);
	struct us_addr want = a4(0, 6000);
	int v = -1;
	ck_assert_int_eq(us_udp_getopt(b, US_OPT_REUSEADDR, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(us_udp_setopt(b, US_OPT_REUSEADDR, 1), 0);
	ck_assert_int_eq(us_udp_bind(b, &want), -EADDRINUSE); /* a did not agree */
	ck_assert_int_eq(us_udp_setopt(a, US_OPT_REUSEADDR, 1), 0);
	ck_assert_int_eq(us_udp_bind(b, &want), 0);
	ck_assert_int_eq(us_udp_getopt(b, US_OPT_REUSEADDR, &v), 0);
	ck_assert_int_eq(v, 1);

	/* Two different specific addresses never overlap. */
	struct us_udp *c = bound_udp(s, a4(STACK_IP, 6001), NULL);
	struct us_udp *d = bound_udp(s, a4(STACK_IP3, 6001), NULL);
	/* ... but the wildcard overlaps both. */
	struct us_udp *e = open_udp(s, US_AF_INET, NULL);
	want = a4(0, 6001);
	ck_assert_int_eq(us_udp_bind(e, &want), -EADDRINUSE);
	/* A closed socket gives its port back. */
	us_udp_close(c);
	us_udp_close(d);
	ck_assert_int_eq(us_udp_bind(e, &want), 0);
	us_udp_close(a);
	us_udp_close(b);
	us_udp_close(e);
	us_test_stack_free(s);
}
END_TEST

START_TEST(dual_stack_socket_holds_ipv4_ports_unless_v6only)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *dual = bound_udp(s, a6("::", 7000), NULL);
	struct us_udp *v4 = open_udp(s, US_AF_INET, NULL);
	struct us_addr want = a4(0, 7000);
	ck_assert_int_eq(us_udp_bind(v4, &want), -EADDRINUSE);
	want = a4(STACK_IP, 7000);
	ck_assert_int_eq(us_udp_bind(v4, &want), -EADDRINUSE);

	struct us_udp *only = open_udp(s, US_AF_INET6, NULL);
	int v = -1;
	ck_assert_int_eq(us_udp_getopt(only, US_OPT_V6ONLY, &v), 0);
	ck_assert_int_eq(v, 0); /* dual stack by default */
	ck_assert_int_eq(us_udp_setopt(only, US_OPT_V6ONLY, 1), 0);
	want = a6("::", 7001);
	ck_assert_int_eq(us_udp_bind(only, &want), 0);
	want = a4(0, 7001);
	ck_assert_int_eq(us_udp_bind(v4, &want), 0); /* IPv4 7001 is free */
	/* V6ONLY is fixed once bound; IPv4 sockets do not have it. */
	ck_assert_int_eq(us_udp_setopt(only, US_OPT_V6ONLY, 0), -EINVAL);
	ck_assert_int_eq(us_udp_setopt(v4, US_OPT_V6ONLY, 1), -ENOPROTOOPT);
	ck_assert_int_eq(us_udp_getopt(v4, US_OPT_V6ONLY, &v), -ENOPROTOOPT);
	/* A V6ONLY socket cannot bind an IPv4-mapped address; a dual one can,
	 * and then holds that IPv4 address. */
	struct us_udp *only2 = open_udp(s, US_AF_INET6, NULL);
	us_udp_setopt(only2, US_OPT_V6ONLY, 1);
	want = a6("::ffff:198.51.100.2", 7002);
	ck_assert_int_eq(us_udp_bind(only2, &want), -EINVAL);
	struct us_udp *mapped = bound_udp(s, want, NULL);
	struct us_udp *v4b = open_udp(s, US_AF_INET, NULL);
	want = a4(STACK_IP, 7002);
	ck_assert_int_eq(us_udp_bind(v4b, &want), -EADDRINUSE);
	/* ... but no IPv6 address: :: on 7002 is free for a V6ONLY socket. */
	want = a6("::", 7002);
	ck_assert_int_eq(us_udp_bind(only2, &want), 0);
	us_udp_close(dual);
	us_udp_close(v4);
	us_udp_close(only);
	us_udp_close(only2);
	us_udp_close(mapped);
	us_udp_close(v4b);
	us_test_stack_free(s);
}
END_TEST

/* ---- Receiving ------------------------------------------------------------------ */

START_TEST(datagram_is_received_with_its_source_and_truncation_gives_full_length)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct evlog log = { 0 };
	struct us_udp *u = bound_udp(s, a4(0, 5000), &log);
	uint8_t f[128], buf[16];
	struct us_addr from;

	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, &from), -EAGAIN);
	ck_assert_int_eq(us_udp_events(u), US_EV_WRITABLE);
	size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 1234, 5000, "0123456789",
			      10, CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(log.calls, 1);
	ck_assert_int_eq(log.last, US_EV_READABLE | US_EV_WRITABLE);
	ck_assert_int_eq(us_udp_events(u), US_EV_READABLE | US_EV_WRITABLE);
	ck_assert_uint_gt(us_stack_pbufs_in_use(s), 0);

	memset(buf, 0, sizeof buf);
	memset(&from, 0x5a, sizeof from);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, 4, &from), 10); /* the whole length */
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert_int_eq(buf[4], 0);
	ck_assert_int_eq(from.family, US_AF_INET);
	ck_assert_uint_eq(from.ip4, PEER_IP);
	ck_assert_uint_eq(from.port, 1234);
	ck_assert_uint_eq(from.scope_id, 0);
	/* The rest of a truncated datagram is gone. */
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, &from), -EAGAIN);
	ck_assert_int_eq(us_udp_events(u), US_EV_WRITABLE);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);

	/* A zero-length read discards a datagram; NULL from is fine. */
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, NULL, 0, NULL), 10);
	ck_assert_int_eq(us_udp_recvfrom(u, NULL, 0, NULL), -EAGAIN);
	ck_assert_int_eq(us_udp_recvfrom(u, NULL, 4, NULL), -EFAULT);
	/* An empty datagram is a datagram. */
	n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 1234, 5000, "", 0, CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, &from), 0);

	ck_assert_uint_eq(ctr(s, "udp.in"), 3);
	ck_assert_uint_eq(ctr(s, "udp.in_delivered"), 3);
	ck_assert_uint_eq(ctr(s, "ip.in_delivered"), 3);
	ck_assert_int_eq(link.count, 0);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(ipv6_datagram_from_a_link_local_peer_carries_its_scope)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = bound_udp(s, a6("::", 5000), NULL);
	uint8_t f[128], buf[16];
	struct us_addr from;
	size_t n = udp6_frame(f, sizeof f, our_mac, "fe80::1", "fe80::ff:fe00:2", 547, 5000, "hi",
			      2, CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, &from), 2);
	ck_assert_int_eq(from.family, US_AF_INET6);
	struct us_ip6 ll = ip6("fe80::1");
	ck_assert_mem_eq(&from.ip6, &ll, 16);
	ck_assert_uint_eq(from.port, 547);
	ck_assert_uint_eq(from.scope_id, 1); /* interface 0 */
	n = udp6_frame(f, sizeof f, our_mac, "2001:db8:1::1", "2001:db8:1::2", 53, 5000, "yo", 2,
		       CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, &from), 2);
	ck_assert_uint_eq(from.scope_id, 0);
	ck_assert_uint_eq(from.port, 53);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(dual_stack_socket_receives_ipv4_from_a_mapped_address_unless_v6only)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *dual = bound_udp(s, a6("::", 7000), NULL);
	struct us_udp *only = open_udp(s, US_AF_INET6, NULL);
	us_udp_setopt(only, US_OPT_V6ONLY, 1);
	struct us_addr want = a6("::", 7001);
	ck_assert_int_eq(us_udp_bind(only, &want), 0);
	uint8_t f[128], buf[16];
	struct us_addr from;

	size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 4000, 7000, "v4", 2,
			      CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(dual, buf, sizeof buf, &from), 2);
	ck_assert_int_eq(from.family, US_AF_INET6);
	struct us_addr mapped = a6("::ffff:198.51.100.1", 4000);
	ck_assert_mem_eq(&from, &mapped, sizeof from);

	/* The V6ONLY socket does not take IPv4: nobody does, Port Unreachable. */
	n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 4000, 7001, "v4", 2, CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.no_port"), 1);
	ck_assert_int_eq(link.count, 1);
	ck_assert_int_eq(us_udp_recvfrom(only, buf, sizeof buf, &from), -EAGAIN);
	us_udp_close(dual);
	us_udp_close(only);
	us_test_stack_free(s);
}
END_TEST

START_TEST(lookup_prefers_connected_then_specific_then_own_family_sockets)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	learn_arp(s, &link, PEER7_IP, 7);
	struct us_udp *sock[4];
	for (int i = 0; i < 4; i++) {
		sock[i] = open_udp(s, i == 0 ? US_AF_INET6 : US_AF_INET, NULL);
		ck_assert_int_eq(us_udp_setopt(sock[i], US_OPT_REUSEADDR, 1), 0);
	}
	/* Bound in this order, so that the list order is no help. */
	struct us_addr want = a4(0, 8000);
	ck_assert_int_eq(us_udp_bind(sock[1], &want), 0); /* IPv4 wildcard */
	want = a6("::", 8000);
	ck_assert_int_eq(us_udp_bind(sock[0], &want), 0); /* dual stack wildcard */
	want = a4(STACK_IP, 8000);
	ck_assert_int_eq(us_udp_bind(sock[2], &want), 0); /* our address */
	want = a4(0, 8000);
	ck_assert_int_eq(us_udp_bind(sock[3], &want), 0);
	struct us_addr peer = a4(PEER_IP, 53);
	ck_assert_int_eq(us_udp_connect(sock[3], &peer), 0); /* connected to the peer */

	uint8_t f[128], buf[8];
	/* From the peer's port 53: the connected socket. */
	size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 53, 8000, "c", 1, CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(sock[3], buf, sizeof buf, NULL), 1);
	/* From elsewhere, to our address: the socket bound to it. */
	n = udp4_frame(f, sizeof f, our_mac, PEER7_IP, STACK_IP, 53, 8000, "b", 1, CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(sock[2], buf, sizeof buf, NULL), 1);
	us_udp_close(sock[2]);
	/* Then the IPv4 wildcard before the dual-stack one. */
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(sock[1], buf, sizeof buf, NULL), 1);
	us_udp_close(sock[1]);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(sock[0], buf, sizeof buf, NULL), 1);
	ck_assert_int_eq(us_udp_recvfrom(sock[3], buf, sizeof buf, NULL), -EAGAIN);
	us_udp_close(sock[0]);
	us_udp_close(sock[3]);
	us_test_stack_free(s);
}
END_TEST

START_TEST(receive_queue_is_bounded_by_rcvbuf_and_drops_are_counted)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct evlog log = { 0 };
	struct us_udp *u = bound_udp(s, a4(0, 5000), &log);
	int v = 0;
	ck_assert_int_eq(us_udp_getopt(u, US_OPT_RCVBUF, &v), 0);
	ck_assert_int_eq(v, 212992);
	/* Each small datagram is charged its whole 2048-byte buffer. */
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_RCVBUF, 2 * US_PBUF_SMALL), 0);
	ck_assert_int_eq(us_udp_getopt(u, US_OPT_RCVBUF, &v), 0);
	ck_assert_int_eq(v, 4096);
	uint8_t f[128], buf[8];
	for (int i = 0; i < 3; i++) {
		size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 1000, 5000,
				      (char[]){ (char)('a' + i) }, 1, CSUM_GOOD);
		ck_assert_int_eq(inject(s, f, n), i < 2 ? 0 : -EINVAL);
	}
	ck_assert_uint_eq(ctr(s, "udp.drop_rcvbuf_full"), 1);
	ck_assert_uint_eq(ctr(s, "udp.in_delivered"), 2);
	ck_assert_int_eq(log.calls, 2); /* no event for the drop */
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 2);
	/* Reading makes room again; order is kept. */
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), 1);
	ck_assert_int_eq(buf[0], 'a');
	size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 1000, 5000, "d", 1,
			      CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), 1);
	ck_assert_int_eq(buf[0], 'b');
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), 1);
	ck_assert_int_eq(buf[0], 'd');

	/* A datagram is queued only when its buffer fits what is left. */
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_RCVBUF, 3000), 0);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), 1);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -EAGAIN);
	ck_assert_uint_eq(ctr(s, "udp.drop_rcvbuf_full"), 2);

	/* Below the minimum it is raised to 256: one datagram still fits an
	 * empty queue, the next does not. */
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_RCVBUF, 1), 0);
	ck_assert_int_eq(us_udp_getopt(u, US_OPT_RCVBUF, &v), 0);
	ck_assert_int_eq(v, 256);
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_RCVBUF, -1), -EINVAL);
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_RCVBUF, 1 << 30), 0);
	ck_assert_int_eq(us_udp_getopt(u, US_OPT_RCVBUF, &v), 0);
	ck_assert_int_eq(v, 4 * 1024 * 1024); /* and capped */
	us_udp_setopt(u, US_OPT_RCVBUF, 256);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.drop_rcvbuf_full"), 3);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(bad_headers_and_checksums_are_dropped_and_zero_checksum_only_over_ipv4)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u4 = bound_udp(s, a4(0, 5000), NULL);
	struct us_udp *u6 = open_udp(s, US_AF_INET6, NULL);
	struct us_addr any6 = a6("::", 5000);
	ck_assert_int_eq(us_udp_setopt(u6, US_OPT_V6ONLY, 1), 0);
	ck_assert_int_eq(us_udp_bind(u6, &any6), 0);
	uint8_t f[128], buf[8];

	/* RFC 1122 §4.1.3.4: a non-zero invalid checksum, silently. */
	size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 1, 5000, "x", 1, CSUM_BAD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.drop_bad_checksum"), 1);
	/* Zero over IPv4: "no checksum", taken. */
	n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 1, 5000, "x", 1, CSUM_ZERO);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u4, buf, sizeof buf, NULL), 1);
	/* Over IPv6 zero is refused (RFC 8200 §8.1), and a bad one too. */
	n = udp6_frame(f, sizeof f, our_mac, "2001:db8:1::1", "2001:db8:1::2", 1, 5000, "x", 1,
		       CSUM_ZERO);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.drop_zero_checksum_ipv6"), 1);
	n = udp6_frame(f, sizeof f, our_mac, "2001:db8:1::1", "2001:db8:1::2", 1, 5000, "x", 1,
		       CSUM_BAD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.drop_bad_checksum"), 2);
	n = udp6_frame(f, sizeof f, our_mac, "2001:db8:1::1", "2001:db8:1::2", 1, 5000, "x", 1,
		       CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u6, buf, sizeof buf, NULL), 1);

	/* clang-format off */
	/* Lying lengths: 7 (below the header), 10 (past the IP payload of 9). */
	ck_assert_int_eq(inject_hex4(s,
		"02 00 00 00 00 02 02 00 00 00 00 01 08 00"
		"45 00 00 1d 12 34 00 00 40 11 00 00 c6 33 64 01 c6 33 64 02" /* 29 bytes */
		"00 01 13 88 00 07 00 00 78"),                /* UDP length 7 */
		-EINVAL);
	ck_assert_int_eq(inject_hex4(s,
		"02 00 00 00 00 02 02 00 00 00 00 01 08 00"
		"45 00 00 1d 12 34 00 00 40 11 00 00 c6 33 64 01 c6 33 64 02"
		"00 01 13 88 00 0a 00 00 78"),                /* UDP length 10 */
		-EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.drop_bad_length"), 2);
	/* Fewer than 8 bytes of UDP at every length. */
	for (int len = 0; len < 8; len++) {
		uint8_t g[64] = { 0 };
		n = us_test_hex("02 00 00 00 00 02 02 00 00 00 00 01 08 00"
				"45 00 00 14 12 34 00 00 40 11 00 00 c6 33 64 01 c6 33 64 02"
				"00 01 13 88 00 08 00 00", g, sizeof g);
		us_put_be16(g + 16, (uint16_t)(20 + len));
		us_csum_fill(g + 14, 20, 10, 0);
		ck_assert_int_eq(inject(s, g, 34 + (size_t)len), -EINVAL);
	}
	/* clang-format on */
	ck_assert_uint_eq(ctr(s, "udp.drop_truncated"), 8);
	/* None of these is answered. */
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(us_udp_recvfrom(u4, buf, sizeof buf, NULL), -EAGAIN);
	us_udp_close(u4);
	us_udp_close(u6);
	us_test_stack_free(s);
}
END_TEST

START_TEST(port_unreachable_is_sent_for_unicast_and_never_for_broadcast_or_multicast)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	uint8_t f[128];
	size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 1234, 9, "ping", 4,
			      CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.no_port"), 1);
	ck_assert_int_eq(link.count, 1);
	/* RFC 792: type 3 code 3 to the sender, quoting the datagram whole. */
	struct us_ipv4_hdr ip;
	ck_assert_int_eq(us_ipv4_parse(link.frame[0] + 14, link.len[0] - 14, &ip), US_WIRE_OK);
	ck_assert_uint_eq(ip.proto, US_IPPROTO_ICMP);
	ck_assert_uint_eq(ip.src, STACK_IP);
	ck_assert_uint_eq(ip.dst, PEER_IP);
	ck_assert_mem_eq(link.frame[0], peer_mac, 6);
	ck_assert_uint_eq(ip.payload_len, 8 + n - 14);
	ck_assert_uint_eq(ip.payload[0], US_ICMP4_DEST_UNREACH);
	ck_assert_uint_eq(ip.payload[1], US_ICMP4_UNREACH_PORT);
	ck_assert_uint_eq(us_get_be32(ip.payload + 4), 0);
	ck_assert_mem_eq(ip.payload + 8, f + 14, n - 14);
	ck_assert(us_csum_ok(ip.payload, ip.payload_len, 0));

	/* To the subnet broadcast or 255.255.255.255 in a broadcast frame:
	 * counted, never answered (RFC 1122 §3.2.2, §4.1.3.1). */
	n = udp4_frame(f, sizeof f, bcast_mac, PEER_IP, SUBNET_BCAST, 1234, 9, "ping", 4,
		       CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	n = udp4_frame(f, sizeof f, bcast_mac, PEER_IP, 0xffffffffu, 1234, 9, "ping", 4,
		       CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.no_port_broadcast"), 2);
	ck_assert_int_eq(link.count, 1);

	/* IPv6: Destination Unreachable code 4 (RFC 4443 §3.1). */
	n = udp6_frame(f, sizeof f, our_mac, "2001:db8:1::1", "2001:db8:1::2", 1234, 9, "ping", 4,
		       CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_int_eq(link.count, 2);
	const uint8_t *e = link.frame[1];
	ck_assert_uint_eq(e[20], US_IPPROTO_ICMPV6);
	ck_assert_uint_eq(e[54], US_ICMP6_DEST_UNREACH);
	ck_assert_uint_eq(e[55], US_ICMP6_UNREACH_PORT);
	ck_assert_uint_eq(us_get_be32(e + 58), 0);
	ck_assert_mem_eq(e + 62, f + 14, n - 14);
	ck_assert_uint_eq(link.len[1], 62 + n - 14);
	/* To all-nodes: no error. */
	n = udp6_frame(f, sizeof f, all_nodes_mac, "2001:db8:1::1", "ff02::1", 1234, 9, "ping", 4,
		       CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_int_eq(link.count, 2);
	ck_assert_uint_eq(ctr(s, "udp.no_port"), 2);
	ck_assert_uint_eq(ctr(s, "udp.no_port_broadcast"), 3);
	us_test_stack_free(s);
}
END_TEST

START_TEST(broadcasts_reach_every_matching_socket)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *a = open_udp(s, US_AF_INET, NULL);
	struct us_udp *b = open_udp(s, US_AF_INET, NULL);
	struct us_udp *c = open_udp(s, US_AF_INET6, NULL);
	struct us_udp *d = open_udp(s, US_AF_INET, NULL);
	us_udp_setopt(a, US_OPT_REUSEADDR, 1);
	us_udp_setopt(b, US_OPT_REUSEADDR, 1);
	us_udp_setopt(c, US_OPT_REUSEADDR, 1);
	struct us_addr want = a4(0, 67);
	ck_assert_int_eq(us_udp_bind(a, &want), 0);
	want = a4(SUBNET_BCAST, 67);
	ck_assert_int_eq(us_udp_bind(b, &want), 0);
	want = a6("::", 67);
	ck_assert_int_eq(us_udp_bind(c, &want), 0);
	want = a4(STACK_IP, 68); /* another port */
	ck_assert_int_eq(us_udp_bind(d, &want), 0);
	uint8_t f[128], buf[8];
	/* No option is needed to receive a broadcast. */
	size_t n = udp4_frame(f, sizeof f, bcast_mac, PEER_IP, SUBNET_BCAST, 68, 67, "all", 3,
			      CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(a, buf, sizeof buf, NULL), 3);
	ck_assert_int_eq(us_udp_recvfrom(b, buf, sizeof buf, NULL), 3);
	ck_assert_int_eq(us_udp_recvfrom(c, buf, sizeof buf, NULL), 3);
	ck_assert_int_eq(us_udp_recvfrom(d, buf, sizeof buf, NULL), -EAGAIN);
	/* 255.255.255.255: not for the socket bound to the subnet's broadcast. */
	n = udp4_frame(f, sizeof f, bcast_mac, PEER_IP, 0xffffffffu, 68, 67, "all", 3, CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(a, buf, sizeof buf, NULL), 3);
	ck_assert_int_eq(us_udp_recvfrom(b, buf, sizeof buf, NULL), -EAGAIN);
	ck_assert_int_eq(us_udp_recvfrom(c, buf, sizeof buf, NULL), 3);
	ck_assert_uint_eq(ctr(s, "udp.in_delivered"), 2);
	us_udp_close(a);
	us_udp_close(b);
	us_udp_close(c);
	us_udp_close(d);
	us_test_stack_free(s);
}
END_TEST

/* ---- Connect ------------------------------------------------------------------- */

START_TEST(connected_socket_takes_only_its_peer_and_disconnect_undoes_connect)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = bound_udp(s, a4(0, 5000), NULL);
	struct us_addr peer = a4(PEER_IP, 53), got;
	ck_assert_int_eq(us_udp_remote(u, &got), -ENOTCONN);
	ck_assert_int_eq(us_udp_connect(u, &peer), 0);
	ck_assert_int_eq(us_udp_remote(u, &got), 0);
	ck_assert_mem_eq(&got, &peer, sizeof got);
	/* The route's source becomes the local address (bind named none). */
	ck_assert_int_eq(us_udp_local(u, &got), 0);
	ck_assert_uint_eq(got.ip4, STACK_IP);
	ck_assert_uint_eq(got.port, 5000);

	uint8_t f[128], buf[8];
	size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 53, 5000, "ok", 2,
			      CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), 2);
	/* Another port of the peer: dropped, counted, and as in Linux
	 * answered with Port Unreachable (no socket takes it). */
	n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 54, 5000, "no", 2, CSUM_GOOD);
	ck_assert_int_eq(inject(s, f, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "udp.drop_not_from_connected_peer"), 1);
	ck_assert_int_eq(link.count, 1);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -EAGAIN);
	/* A peer that cannot be reached leaves the association as it was. */
	struct us_addr far = a4(0x0a000001u, 53);
	ck_assert_int_eq(us_udp_connect(u, &far), -ENETUNREACH);
	ck_assert_int_eq(us_udp_local(u, &got), 0);
	ck_assert_uint_eq(got.ip4, STACK_IP);
	ck_assert_int_eq(us_udp_remote(u, &got), 0);
	ck_assert_mem_eq(&got, &peer, sizeof got);

	/* US_AF_UNSPEC dissolves it: the wildcard comes back, the port
	 * (named by bind) stays, anybody may send again. */
	struct us_addr unspec = { .family = US_AF_UNSPEC };
	ck_assert_int_eq(us_udp_connect(u, &unspec), 0);
	ck_assert_int_eq(us_udp_remote(u, &got), -ENOTCONN);
	ck_assert_int_eq(us_udp_local(u, &got), 0);
	ck_assert_uint_eq(got.ip4, 0);
	ck_assert_uint_eq(got.port, 5000);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), 2);

	/* Bad peers. */
	struct us_addr bad = a6("2001:db8:1::1", 53);
	ck_assert_int_eq(us_udp_connect(u, &bad), -EAFNOSUPPORT);
	bad = a4(PEER_IP, 0);
	ck_assert_int_eq(us_udp_connect(u, &bad), -EINVAL);
	bad = a4(0x0a000001u, 53); /* 10.0.0.1: no route */
	ck_assert_int_eq(us_udp_connect(u, &bad), -ENETUNREACH);
	ck_assert_int_eq(us_udp_remote(u, &got), -ENOTCONN);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(connect_binds_an_ephemeral_port_that_disconnect_gives_back)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = open_udp(s, US_AF_INET6, NULL);
	struct us_addr peer = a6("2001:db8:1::1", 53), got;
	ck_assert_int_eq(us_udp_connect(u, &peer), 0);
	ck_assert_int_eq(us_udp_local(u, &got), 0);
	struct us_addr want = a6("2001:db8:1::2", first_ephemeral(s));
	ck_assert_mem_eq(&got, &want, sizeof got);
	struct us_addr unspec = { .family = US_AF_UNSPEC };
	ck_assert_int_eq(us_udp_connect(u, &unspec), 0);
	ck_assert_int_eq(us_udp_local(u, &got), 0);
	want = a6("::", 0);
	ck_assert_mem_eq(&got, &want, sizeof got);

	/* A dual-stack socket connects to an IPv4 peer as a mapped one. */
	peer = a4(PEER_IP, 53);
	ck_assert_int_eq(us_udp_connect(u, &peer), 0);
	ck_assert_int_eq(us_udp_remote(u, &got), 0);
	want = a6("::ffff:198.51.100.1", 53);
	ck_assert_mem_eq(&got, &want, sizeof got);
	ck_assert_int_eq(us_udp_local(u, &got), 0);
	struct us_addr ours = a6("::ffff:198.51.100.2", 0);
	ck_assert_mem_eq(&got.ip6, &ours.ip6, 16);
	/* V6ONLY refuses it. */
	struct us_udp *only = open_udp(s, US_AF_INET6, NULL);
	us_udp_setopt(only, US_OPT_V6ONLY, 1);
	ck_assert_int_eq(us_udp_connect(only, &peer), -EAFNOSUPPORT);
	ck_assert_int_eq(us_udp_connect(only, &want), -ENETUNREACH);
	us_udp_close(u);
	us_udp_close(only);
	us_test_stack_free(s);
}
END_TEST

/* ---- Sending ------------------------------------------------------------------- */

/* clang-format off */
static const char hello4[] =
	"02 00 00 00 00 01 02 00 00 00 00 02 08 00" /* to the peer, from us, IPv4 */
	"45 00 00 21"                               /* v4 IHL 5, length 33 */
	"ID ID 00 00"                               /* a keyed ID, DF clear */
	"40 11 SU MM"                               /* TTL 64, UDP, header checksum */
	"c6 33 64 02 c6 33 64 01"                   /* 198.51.100.2 -> .1 */
	"13 88 00 07 00 0d 54 08"                   /* 5000 -> 7, length 13, checksum */
	"68 65 6c 6c 6f"                            /* "hello" */
	"00 00 00 00 00 00 00 00 00 00 00 00 00";   /* padding to 60 bytes */
static const char hello6[] =
	"02 00 00 00 00 01 02 00 00 00 00 02 86 dd" /* to the peer, from us, IPv6 */
	"60 00 00 00 00 0d 11 40"                   /* length 13, UDP, hop limit 64 */
	"20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 02" /* 2001:db8:1::2 */
	"20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01" /* 2001:db8:1::1 */
	"13 88 00 07 00 0d 4c fc"                   /* 5000 -> 7, length 13, checksum */
	"68 65 6c 6c 6f";                           /* "hello" */
/* clang-format on */

/* Compares frame i with hex, where "ID ID" and "SU MM" (the IPv4
 * Identification and header checksum, both depending on the keyed ID) are
 * taken from the frame; the header checksum is verified instead. */
static void expect_frame(const struct us_test_link *l, int i, const char *hex)
{
	char text[1024];
	size_t len = strlen(hex);
	bool keyed = false;
	ck_assert_uint_lt(len, sizeof text);
	memcpy(text, hex, len + 1);
	for (char *p = text; *p; p++) {
		if (strncmp(p, "ID ID", 5) == 0 || strncmp(p, "SU MM", 5) == 0) {
			memcpy(p, "00 00", 5);
			keyed = true;
		}
	}
	uint8_t want[256];
	size_t n = us_test_hex(text, want, sizeof want);
	ck_assert_int_gt(l->count, i);
	ck_assert_uint_eq(l->len[i], n);
	if (keyed) {
		memcpy(want + 18, l->frame[i] + 18, 2);
		memcpy(want + 24, l->frame[i] + 24, 2);
		ck_assert(us_csum_ok(l->frame[i] + 14, 20, 0));
	}
	ck_assert_mem_eq(l->frame[i], want, n);
}

START_TEST(sendto_puts_the_exact_ipv4_datagram_on_the_wire)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = bound_udp(s, a4(0, 5000), NULL);
	struct us_addr to = a4(PEER_IP, 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, (const uint8_t *)"hello", 5), 5);
	ck_assert_int_eq(link.count, 1);
	expect_frame(&link, 0, hello4);
	ck_assert_uint_eq(ctr(s, "udp.out"), 1);

	/* TTL and TOS options show in the header. */
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_TTL, 5), 0);
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_TOS, 0xb8), 0);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, (const uint8_t *)"hello", 5), 5);
	ck_assert_uint_eq(link.frame[1][14 + 1], 0xb8);
	ck_assert_uint_eq(link.frame[1][14 + 8], 5);
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_TTL, 256), -EINVAL);
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_TTL, -1), -EINVAL);
	int v;
	ck_assert_int_eq(us_udp_getopt(u, US_OPT_TTL, &v), 0);
	ck_assert_int_eq(v, 5);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(sendto_puts_the_exact_ipv6_datagram_on_the_wire)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = bound_udp(s, a6("::", 5000), NULL);
	struct us_addr to = a6("2001:db8:1::1", 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, (const uint8_t *)"hello", 5), 5);
	ck_assert_int_eq(link.count, 1);
	expect_frame(&link, 0, hello6);
	/* The same socket sends IPv4 to a mapped address, byte for byte as an
	 * IPv4 socket would. */
	to = a6("::ffff:198.51.100.1", 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, (const uint8_t *)"hello", 5), 5);
	expect_frame(&link, 1, hello4);
	to = a4(PEER_IP, 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, (const uint8_t *)"hello", 5), 5);
	expect_frame(&link, 2, hello4);
	/* TOS is the traffic class (RFC 8200 §7): version 6, then 0xb8. */
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_TOS, 0xb8), 0);
	to = a6("2001:db8:1::1", 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, (const uint8_t *)"hello", 5), 5);
	ck_assert_uint_eq(link.frame[3][14], 0x6b);
	ck_assert_uint_eq(link.frame[3][15] & 0xf0, 0x80);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(sendto_checks_its_destination_and_binds_an_ephemeral_port)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = open_udp(s, US_AF_INET, NULL);
	const uint8_t *d = (const uint8_t *)"x";
	ck_assert_int_eq(us_udp_sendto(u, 0, NULL, d, 1), -EDESTADDRREQ);
	struct us_addr to = a6("2001:db8:1::1", 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, d, 1), -EAFNOSUPPORT);
	to = a4(PEER_IP, 0);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, d, 1), -EINVAL);
	to = a4(PEER_IP, 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, NULL, 1), -EFAULT);
	to = a4(0x0a000001u, 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, d, 1), -ENETUNREACH);
	to = a4(STACK_IP, 7); /* ourselves: there is no loopback path */
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, d, 1), -ENETUNREACH);
	ck_assert_int_eq(link.count, 0);
	struct us_addr got;
	us_udp_local(u, &got);
	ck_assert_uint_eq(got.port, 0); /* nothing went: still unbound */

	to = a4(PEER_IP, 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, NULL, 0), 0); /* an empty datagram */
	us_udp_local(u, &got);
	ck_assert_uint_eq(got.port, first_ephemeral(s));
	ck_assert_uint_eq(got.ip4, 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(us_get_be16(link.frame[0] + 34), first_ephemeral(s));
	ck_assert_uint_eq(us_get_be16(link.frame[0] + 38), 8);

	/* A connected socket sends to its peer with no destination. */
	struct us_addr peer = a4(PEER_IP, 9);
	ck_assert_int_eq(us_udp_connect(u, &peer), 0);
	ck_assert_int_eq(us_udp_sendto(u, 0, NULL, d, 1), 1);
	ck_assert_uint_eq(us_get_be16(link.frame[1] + 36), 9);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(broadcast_needs_the_option)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = bound_udp(s, a4(0, 68), NULL);
	const uint8_t *d = (const uint8_t *)"dhcp";
	struct us_addr all = a4(0xffffffffu, 67), subnet = a4(SUBNET_BCAST, 67);
	ck_assert_int_eq(us_udp_sendto(u, 0, &all, d, 4), -EACCES);
	ck_assert_int_eq(us_udp_sendto(u, 0, &subnet, d, 4), -EACCES);
	ck_assert_int_eq(us_udp_connect(u, &subnet), -EACCES);
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(us_udp_setopt(u, US_OPT_BROADCAST, 1), 0);
	int v = 0;
	ck_assert_int_eq(us_udp_getopt(u, US_OPT_BROADCAST, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(us_udp_sendto(u, 0, &all, d, 4), 4);
	ck_assert_int_eq(us_udp_sendto(u, 0, &subnet, d, 4), 4);
	ck_assert_int_eq(link.count, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_mem_eq(link.frame[i], bcast_mac, 6);
		struct us_ipv4_hdr ip;
		ck_assert_int_eq(us_ipv4_parse(link.frame[i] + 14, link.len[i] - 14, &ip), 0);
		ck_assert_uint_eq(ip.src, STACK_IP);
		ck_assert_uint_eq(ip.dst, i == 0 ? 0xffffffffu : SUBNET_BCAST);
		ck_assert(us_udp_csum_ok(ip.payload, ip.payload_len,
					 us_csum_pseudo4(ip.src, ip.dst, 17, 12)));
	}
	ck_assert_int_eq(us_udp_connect(u, &subnet), 0);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(datagrams_over_the_maximum_get_emsgsize)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	static uint8_t big[US_UDP_MAX_PAYLOAD6 + 1];
	struct us_udp *u = bound_udp(s, a6("::", 5000), NULL);
	struct us_addr to4 = a4(PEER_IP, 7), to6 = a6("2001:db8:1::1", 7);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to4, big, 65508), -EMSGSIZE);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to6, big, 65528), -EMSGSIZE);
	ck_assert_int_eq(link.count, 0);
	/* The largest ones leave (65535-byte IP datagram, 65535-byte payload). */
	ck_assert_int_eq(us_udp_sendto(u, 0, &to4, big, 65507), 65507);
	ck_assert_int_eq(link.count, 45); /* 44 * 1480 + 395 */
	link.count = 0;
	ck_assert_int_eq(us_udp_sendto(u, 0, &to6, big, 65527), 65527);
	ck_assert_int_eq(link.count, 46); /* 45 * 1448 + 375 */
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

/* A stack for the peer: 02:00:00:00:00:01, 198.51.100.1/24, 2001:db8:1::1/64,
 * so that our fragments can be reassembled by a real receiver. */
static struct us_stack *peer_stack(struct us_test_link *link)
{
	struct us_stack_config cfg = { .seed = 2, .small_bufs = 128, .large_bufs = 4,
				       .no_dad = true, .no_router_solicit = true };
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(0xa0 + i);
	struct us_stack *p = us_stack_new(&cfg);
	ck_assert_ptr_nonnull(p);
	struct us_iface_config ic = { .name = "peer0", .mac = { 2, 0, 0, 0, 0, 1 }, .mtu = 1500,
				      .transmit = us_test_link_transmit, .transmit_ctx = link };
	ck_assert_int_eq(us_stack_add_iface(p, 0, &ic), 0);
	ck_assert_int_eq(us_stack_add_ipv4(p, 0, 0, PEER_IP, 24), 0);
	struct us_ip6 g = ip6("2001:db8:1::1");
	ck_assert_int_eq(us_stack_add_ipv6(p, 0, 0, &g, 64), 0);
	link->count = 0;
	return p;
}

static void carry_frames(struct us_test_link *from, struct us_stack *to)
{
	ck_assert_int_le(from->count, US_TEST_MAX_FRAMES);
	for (int i = 0; i < from->count; i++)
		ck_assert_int_eq(us_stack_input(to, 0, 0, from->frame[i], from->len[i]), 0);
	from->count = 0;
}

static void big_datagram_crosses(struct us_stack *s, struct us_test_link *link,
				  struct us_stack *p, struct us_addr to, struct us_addr bind_at,
				  int frames)
{
	static uint8_t data[60000], got[60001];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
	struct us_udp *rx = bound_udp(p, bind_at, NULL);
	struct us_udp *tx = bound_udp(s, (struct us_addr){ .family = to.family, .port = 4444 },
				      NULL);
	ck_assert_int_eq(us_udp_sendto(tx, 0, &to, data, sizeof data), 60000);
	ck_assert_int_eq(link->count, frames);
	carry_frames(link, p);
	struct us_addr from;
	memset(got, 0, sizeof got);
	ck_assert_int_eq(us_udp_recvfrom(rx, got, sizeof got, &from), 60000);
	ck_assert_mem_eq(got, data, sizeof data);
	ck_assert_uint_eq(from.port, 4444);
	ck_assert_uint_eq(us_stack_pbufs_in_use(p), 0);
	us_udp_close(rx);
	us_udp_close(tx);
}

START_TEST(datagrams_of_60000_bytes_are_fragmented_out_and_reassembled_in)
{
	struct us_test_link link = { 0 }, plink = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_stack *p = peer_stack(&plink);
	/* 60008 bytes of UDP: 40 fragments of 1480 and one of 808 (IPv4),
	 * 41 of 1448 and one of 640 (IPv6). */
	big_datagram_crosses(s, &link, p, a4(PEER_IP, 9), a4(0, 9), 41);
	ck_assert_uint_eq(ctr(p, "ip.reassembled"), 1);
	big_datagram_crosses(s, &link, p, a6("2001:db8:1::1", 9), a6("::", 9), 42);
	ck_assert_uint_eq(ctr(p, "ip6.reassembled"), 1);
	ck_assert_uint_eq(ctr(p, "udp.in_delivered"), 2);
	ck_assert_uint_eq(ctr(s, "ip.out_fragments"), 41);
	ck_assert_uint_eq(ctr(s, "ip6.out_fragments"), 42);
	us_test_stack_free(p);
	us_test_stack_free(s);
}
END_TEST

/* ---- ICMP errors received ----------------------------------------------------------- */

/* An ICMP error from the peer quoting the datagram we sent in frame i. */
static size_t icmp4_error_about(uint8_t *f, size_t cap, const struct us_test_link *l, int i,
				uint8_t type, uint8_t code)
{
	const uint8_t *q = l->frame[i] + 14;
	size_t qlen = 28; /* the IP header and the UDP header: RFC 792's minimum */
	uint8_t msg[64] = { type, code };
	memcpy(msg + 8, q, qlen);
	us_csum_fill(msg, 8 + qlen, 2, 0);
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV4 };
	memcpy(eth.dst, our_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	us_eth_emit(&eth, f, cap);
	struct us_ipv4_hdr ip = { .id = 99, .ttl = 64, .proto = US_IPPROTO_ICMP, .src = PEER_IP,
				  .dst = STACK_IP, .payload_len = 8 + qlen };
	us_ipv4_emit(&ip, f + 14, cap - 14);
	memcpy(f + 34, msg, 8 + qlen);
	return 34 + 8 + qlen;
}

static size_t icmp6_error_about(uint8_t *f, size_t cap, const struct us_test_link *l, int i,
				uint8_t type, uint8_t code)
{
	const uint8_t *q = l->frame[i] + 14;
	size_t qlen = l->len[i] - 14;
	ck_assert_uint_le(54 + 8 + qlen, cap);
	struct us_ip6 src = ip6("2001:db8:1::1"), dst = ip6("2001:db8:1::2");
	uint8_t *msg = f + 54;
	memset(msg, 0, 8);
	msg[0] = type;
	msg[1] = code;
	memcpy(msg + 8, q, qlen);
	us_icmp6_csum_fill(msg, 8 + qlen,
			   us_csum_pseudo6(&src, &dst, US_IPPROTO_ICMPV6, (uint32_t)(8 + qlen)));
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(eth.dst, our_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	us_eth_emit(&eth, f, cap);
	struct us_ipv6_hdr ip = { .payload_len = (uint16_t)(8 + qlen),
				  .next_header = US_IPPROTO_ICMPV6,
				  .hop_limit = 64,
				  .src = src,
				  .dst = dst };
	us_ipv6_emit(&ip, f + 14, 40);
	return 54 + 8 + qlen;
}

START_TEST(port_unreachable_gives_econnrefused_once_on_a_connected_socket)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct evlog log = { 0 };
	struct us_udp *u = open_udp(s, US_AF_INET, &log);
	struct us_addr peer = a4(PEER_IP, 53);
	ck_assert_int_eq(us_udp_connect(u, &peer), 0);
	ck_assert_int_eq(us_udp_sendto(u, 0, NULL, (const uint8_t *)"q", 1), 1);
	uint8_t f[128], g[128], buf[8];
	size_t n = icmp4_error_about(f, sizeof f, &link, 0, US_ICMP4_DEST_UNREACH,
				     US_ICMP4_UNREACH_PORT);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_uint_eq(ctr(s, "udp.icmp_error_reported"), 1);
	ck_assert_int_eq(log.calls, 1);
	ck_assert_int_eq(log.last, US_EV_READABLE | US_EV_WRITABLE | US_EV_ERROR);
	ck_assert_int_eq(us_udp_events(u), US_EV_READABLE | US_EV_WRITABLE | US_EV_ERROR);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -ECONNREFUSED);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -EAGAIN);
	ck_assert_int_eq(us_udp_events(u), US_EV_WRITABLE);

	/* The error goes before data that came after the datagram it quotes,
	 * and is reported once, by sendto too (as Linux's sock_error()). */
	ck_assert_int_eq(inject(s, f, n), 0);
	size_t m = udp4_frame(g, sizeof g, our_mac, PEER_IP, STACK_IP, 53,
			      us_get_be16(link.frame[0] + 34), "a", 1, CSUM_GOOD);
	ck_assert_int_eq(inject(s, g, m), 0);
	ck_assert_int_eq(us_udp_sendto(u, 0, NULL, (const uint8_t *)"q", 1), -ECONNREFUSED);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), 1);
	ck_assert_int_eq(us_udp_sendto(u, 0, NULL, (const uint8_t *)"q", 1), 1);

	/* SO_ERROR's way: read and cleared. */
	n = icmp4_error_about(f, sizeof f, &link, 0, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_PORT);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_take_error(u), -ECONNREFUSED);
	ck_assert_int_eq(us_udp_take_error(u), 0);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(icmpv6_port_unreachable_gives_econnrefused_on_a_connected_socket)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = open_udp(s, US_AF_INET6, NULL);
	struct us_addr peer = a6("2001:db8:1::1", 53);
	ck_assert_int_eq(us_udp_connect(u, &peer), 0);
	ck_assert_int_eq(us_udp_sendto(u, 0, NULL, (const uint8_t *)"q", 1), 1);
	uint8_t f[256], buf[8];
	size_t n = icmp6_error_about(f, sizeof f, &link, 0, US_ICMP6_DEST_UNREACH,
				     US_ICMP6_UNREACH_PORT);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -ECONNREFUSED);
	/* Administratively prohibited is hard too: EACCES. */
	n = icmp6_error_about(f, sizeof f, &link, 0, US_ICMP6_DEST_UNREACH, US_ICMP6_UNREACH_ADMIN);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -EACCES);
	/* Time exceeded and packet too big are soft: not reported. */
	n = icmp6_error_about(f, sizeof f, &link, 0, US_ICMP6_TIME_EXCEEDED, 0);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_uint_eq(ctr(s, "udp.icmp_error_ignored_soft"), 1);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -EAGAIN);
	ck_assert_uint_eq(ctr(s, "udp.icmp_error_reported"), 2);
	us_udp_close(u);
	us_test_stack_free(s);
}
END_TEST

START_TEST(icmp_errors_to_unconnected_sockets_and_soft_errors_are_counted_not_reported)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct evlog log = { 0 };
	struct us_udp *u = bound_udp(s, a4(0, 5000), &log);
	struct us_addr to = a4(PEER_IP, 53);
	ck_assert_int_eq(us_udp_sendto(u, 0, &to, (const uint8_t *)"q", 1), 1);
	uint8_t f[128], buf[8];
	/* Deviation from RFC 1122 §4.1.3.3, as Linux without IP_RECVERR. */
	size_t n = icmp4_error_about(f, sizeof f, &link, 0, US_ICMP4_DEST_UNREACH,
				     US_ICMP4_UNREACH_PORT);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_uint_eq(ctr(s, "udp.icmp_error_ignored_unconnected"), 1);
	ck_assert_int_eq(log.calls, 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -EAGAIN);

	/* Connected, but a host unreachable or a time exceeded may pass. */
	ck_assert_int_eq(us_udp_connect(u, &to), 0);
	n = icmp4_error_about(f, sizeof f, &link, 0, US_ICMP4_DEST_UNREACH,
			      US_ICMP4_UNREACH_HOST);
	ck_assert_int_eq(inject(s, f, n), 0);
	n = icmp4_error_about(f, sizeof f, &link, 0, US_ICMP4_TIME_EXCEEDED, 0);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_uint_eq(ctr(s, "udp.icmp_error_ignored_soft"), 2);
	/* A parameter problem is hard: EPROTO. */
	n = icmp4_error_about(f, sizeof f, &link, 0, US_ICMP4_PARAM_PROBLEM, 0);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof buf, NULL), -EPROTO);

	/* About a port nobody holds any more. */
	us_udp_close(u);
	ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_uint_eq(ctr(s, "udp.icmp_error_no_socket"), 1);
	us_test_stack_free(s);
}
END_TEST

/* ---- Lifetime --------------------------------------------------------------------- */

START_TEST(close_frees_queued_buffers_and_freeing_the_stack_closes_open_sockets)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	struct us_udp *u = bound_udp(s, a4(0, 5000), NULL);
	uint8_t f[128];
	size_t n = udp4_frame(f, sizeof f, our_mac, PEER_IP, STACK_IP, 1, 5000, "x", 1, CSUM_GOOD);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(inject(s, f, n), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 3);
	us_udp_close(u);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_udp_close(NULL);
	/* The port is free again. */
	u = bound_udp(s, a4(0, 5000), NULL);
	ck_assert_int_eq(inject(s, f, n), 0);
	/* Sockets still open (and their datagrams) go with the stack: the
	 * sanitizer build checks nothing leaks. */
	us_stack_free(s);
}
END_TEST

START_TEST(open_checks_family_and_the_socket_limit)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = stack46(&link);
	int err = 0;
	ck_assert_ptr_null(us_udp_open(s, 3, NULL, NULL, &err));
	ck_assert_int_eq(err, -EAFNOSUPPORT);
	ck_assert_ptr_null(us_udp_open(NULL, US_AF_INET, NULL, NULL, &err));
	ck_assert_int_eq(err, -EINVAL);
	static struct us_udp *all[US_UDP_MAX_SOCKETS];
	for (int i = 0; i < US_UDP_MAX_SOCKETS; i++)
		all[i] = open_udp(s, US_AF_INET, NULL);
	ck_assert_ptr_null(us_udp_open(s, US_AF_INET, NULL, NULL, &err));
	ck_assert_int_eq(err, -ENOBUFS);
	for (int i = 0; i < US_UDP_MAX_SOCKETS; i++)
		us_udp_close(all[i]);
	ck_assert_ptr_nonnull(all[0] = us_udp_open(s, US_AF_INET, NULL, NULL, NULL));
	us_udp_close(all[0]);
	/* NULL sockets are refused, not followed. */
	struct us_addr a = a4(PEER_IP, 7);
	int v;
	ck_assert_int_eq(us_udp_connect(NULL, &a), -EINVAL);
	ck_assert_int_eq(us_udp_sendto(NULL, 0, &a, NULL, 0), -EINVAL);
	ck_assert_int_eq(us_udp_recvfrom(NULL, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(us_udp_setopt(NULL, US_OPT_TTL, 1), -EINVAL);
	ck_assert_int_eq(us_udp_getopt(NULL, US_OPT_TTL, &v), -EINVAL);
	ck_assert_int_eq(us_udp_local(NULL, &a), -EINVAL);
	ck_assert_int_eq(us_udp_remote(NULL, &a), -EINVAL);
	ck_assert_int_eq(us_udp_events(NULL), 0);
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("udp");

	TCase *addr = tcase_create("addresses");
	tcase_add_test(addr, addresses_parse_and_format_round_trip);
	tcase_add_test(addr, addresses_refuse_bad_text_and_leave_the_output_alone);
	tcase_add_test(addr, address_format_cuts_to_the_buffer_and_names_no_address);
	suite_add_tcase(s, addr);

	TCase *bind = tcase_create("bind");
	tcase_add_test(bind, bind_takes_our_address_or_the_wildcard_and_refuses_others);
	tcase_add_test(bind, port_zero_picks_unpredictable_ephemeral_ports_in_range);
	tcase_add_test(bind, a_port_is_shared_only_when_both_sockets_set_reuseaddr);
	tcase_add_test(bind, dual_stack_socket_holds_ipv4_ports_unless_v6only);
	suite_add_tcase(s, bind);

	TCase *rx = tcase_create("receive");
	tcase_add_test(rx, datagram_is_received_with_its_source_and_truncation_gives_full_length);
	tcase_add_test(rx, ipv6_datagram_from_a_link_local_peer_carries_its_scope);
	tcase_add_test(rx, dual_stack_socket_receives_ipv4_from_a_mapped_address_unless_v6only);
	tcase_add_test(rx, lookup_prefers_connected_then_specific_then_own_family_sockets);
	tcase_add_test(rx, receive_queue_is_bounded_by_rcvbuf_and_drops_are_counted);
	tcase_add_test(rx, bad_headers_and_checksums_are_dropped_and_zero_checksum_only_over_ipv4);
	tcase_add_test(rx,
		       port_unreachable_is_sent_for_unicast_and_never_for_broadcast_or_multicast);
	tcase_add_test(rx, broadcasts_reach_every_matching_socket);
	suite_add_tcase(s, rx);

	TCase *conn = tcase_create("connect");
	tcase_add_test(conn, connected_socket_takes_only_its_peer_and_disconnect_undoes_connect);
	tcase_add_test(conn, connect_binds_an_ephemeral_port_that_disconnect_gives_back);
	suite_add_tcase(s, conn);

	TCase *tx = tcase_create("send");
	tcase_add_test(tx, sendto_puts_the_exact_ipv4_datagram_on_the_wire);
	tcase_add_test(tx, sendto_puts_the_exact_ipv6_datagram_on_the_wire);
	tcase_add_test(tx, sendto_checks_its_destination_and_binds_an_ephemeral_port);
	tcase_add_test(tx, broadcast_needs_the_option);
	tcase_add_test(tx, datagrams_over_the_maximum_get_emsgsize);
	tcase_add_test(tx, datagrams_of_60000_bytes_are_fragmented_out_and_reassembled_in);
	suite_add_tcase(s, tx);

	TCase *err = tcase_create("icmp_errors");
	tcase_add_test(err, port_unreachable_gives_econnrefused_once_on_a_connected_socket);
	tcase_add_test(err, icmpv6_port_unreachable_gives_econnrefused_on_a_connected_socket);
	tcase_add_test(err,
		       icmp_errors_to_unconnected_sockets_and_soft_errors_are_counted_not_reported);
	suite_add_tcase(s, err);

	TCase *life = tcase_create("lifetime");
	tcase_add_test(life, close_frees_queued_buffers_and_freeing_the_stack_closes_open_sockets);
	tcase_add_test(life, open_checks_family_and_the_socket_limit);
	suite_add_tcase(s, life);
	return s;
}

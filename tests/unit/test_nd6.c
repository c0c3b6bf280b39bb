/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/stack/nd6.c and nd6_rtr.c: Neighbor Discovery (RFC
 * 4861) and SLAAC (RFC 4862) on the virtual clock.
 *
 * Our interface has MAC 02:00:00:00:00:02, so its link-local address is
 * fe80::ff:fe00:2 and its solicited-node group ff02::1:ff00:2
 * (33:33:ff:00:00:02). The peer is fe80::1 / 2001:db8:1::1 at
 * 52:54:00:00:00:01. ND messages are handed to us_nd6_input() with a parsed
 * IPv6 header (the way ip6_icmp.c does), except for the end-to-end test,
 * which goes through us_stack_input(). Frames the stack sends are compared
 * byte for byte.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ip6.h"
#include "stack.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp6.h"
#include "wire/ipproto.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_PEER[6] = { 0x52, 0x54, 0, 0, 0, 0x01 };
static const uint8_t MAC_PEER2[6] = { 0x52, 0x54, 0, 0, 0, 0x99 };

#define LL_US "fe80::ff:fe00:2"
#define G_US "2001:db8:1::2"
#define G_PEER "2001:db8:1::1"

enum { DAD = 1, RS = 2, NO_SLAAC = 4 };

static struct us_test_link link;

static struct us_ip6 ip6(const char *text)
{
	struct us_ip6 a;
	ck_assert_int_eq(us_ip6_parse_text(text, &a), 0);
	return a;
}

/* A stack with DAD and RS as asked and a pool of small_bufs, on the fake
 * link, up at time 0. */
static struct us_stack *nd_stack_bufs(unsigned flags, uint64_t seed, uint32_t small_bufs)
{
	memset(&link, 0, sizeof link);
	struct us_stack_config cfg = { .seed = seed, .small_bufs = small_bufs, .large_bufs = 4,
				       .no_dad = !(flags & DAD),
				       .no_router_solicit = !(flags & RS),
				       .no_slaac = (flags & NO_SLAAC) != 0 };
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)i;
	struct us_stack *s = us_stack_new(&cfg);
	ck_assert_ptr_nonnull(s);
	struct us_iface_config ic = { .name = "nd0", .mtu = 1500, .transmit = us_test_link_transmit,
				      .transmit_ctx = &link };
	memcpy(ic.mac, MAC_US, 6);
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 0);
	return s;
}

static struct us_stack *nd_stack_seed(unsigned flags, uint64_t seed)
{
	return nd_stack_bufs(flags, seed, 64);
}

static struct us_stack *nd_stack(unsigned flags)
{
	return nd_stack_seed(flags, 1);
}

static struct us_addr6 *find_addr(struct us_stack *s, const char *text)
{
	struct us_ip6 a = ip6(text);
	for (int i = 0; i < US_MAX_ADDR6; i++)
		if (s->iface[0].addr6[i].used && memcmp(&s->iface[0].addr6[i].addr, &a, 16) == 0)
			return &s->iface[0].addr6[i];
	return NULL;
}

static bool has_addr(struct us_stack *s, const char *text)
{
	return find_addr(s, text) != NULL;
}

/* The interface's address; the test fails when there is none. */
static struct us_addr6 *addr_of(struct us_stack *s, const char *text)
{
	struct us_addr6 *a = find_addr(s, text);
	if (!a)
		ck_abort_msg("no address %s", text);
	return a;
}

static int addr_count(struct us_stack *s)
{
	return us_stack_ipv6_addrs(s, 0, NULL, 0);
}

static bool has_neigh(struct us_stack *s, const char *text)
{
	struct us_ip6 a = ip6(text);
	return us_nd6_neigh_find(s, &s->iface[0], &a) != NULL;
}

/* The neighbour cache entry; the test fails when there is none. */
static const struct us_nd6_neigh *neigh(struct us_stack *s, const char *text)
{
	struct us_ip6 a = ip6(text);
	const struct us_nd6_neigh *e = us_nd6_neigh_find(s, &s->iface[0], &a);
	if (!e)
		ck_abort_msg("no neighbour %s", text);
	return e;
}

static int neigh_count(struct us_stack *s)
{
	int n = 0;
	for (int i = 0; i < US_ND6_NEIGH_MAX; i++)
		n += s->nd6.neigh[i].used;
	return n;
}

static uint64_t ctr(struct us_stack *s, const char *name)
{
	return us_stack_counter(s, name);
}

/* Fires every deadline up to until, in order, and leaves the clock there. */
static void run_until(struct us_stack *s, us_time_t until)
{
	int guard = 0;
	for (;;) {
		us_time_t t = us_stack_next_deadline(s);
		if (t > until)
			break;
		ck_assert_int_lt(++guard, 100000);
		us_stack_poll(s, t);
	}
	us_stack_poll(s, until);
}

/* Hands an ND message from src to dst (hop limit hop) to us_nd6_input(),
 * with its checksum filled in, at time t. */
static int deliver(struct us_stack *s, us_time_t t, const char *src, const char *dst, uint8_t hop,
		   const uint8_t *msg, size_t mlen)
{
	static uint8_t pkt[2048];
	struct us_ip6 a = ip6(src), b = ip6(dst);
	struct us_ipv6_hdr h = { .payload_len = (uint16_t)mlen, .next_header = US_IPPROTO_ICMPV6,
				 .hop_limit = hop, .src = a, .dst = b };
	ck_assert_uint_le(mlen, sizeof pkt - 40);
	ck_assert_uint_eq(us_ipv6_emit(&h, pkt, sizeof pkt), 40);
	memcpy(pkt + 40, msg, mlen);
	uint32_t pseudo = us_csum_pseudo6(&a, &b, US_IPPROTO_ICMPV6, (uint32_t)mlen);
	us_icmp6_csum_fill(pkt + 40, mlen, pseudo);
	struct us_ipv6_hdr in;
	ck_assert_int_eq(us_ipv6_parse(pkt, 40 + mlen, &in), US_WIRE_OK);
	s->now = t;
	return us_nd6_input(s, &s->iface[0], &in, in.payload, in.payload_len);
}

static size_t ns_msg(uint8_t *m, const char *target, const uint8_t *slla)
{
	struct us_ndp_ns ns = { .target = ip6(target) };
	size_t n = us_ndp_ns_emit(&ns, m, 64);
	if (slla)
		n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, slla, m + n, 64 - n);
	return n;
}

enum { NA_R = 1, NA_S = 2, NA_O = 4 };

static size_t na_msg(uint8_t *m, const char *target, unsigned flags, const uint8_t *tlla)
{
	struct us_ndp_na na = { .router = flags & NA_R, .solicited = flags & NA_S,
				.override = flags & NA_O, .target = ip6(target) };
	size_t n = us_ndp_na_emit(&na, m, 64);
	if (tlla)
		n += us_ndp_opt_lladdr_emit(US_NDP_OPT_TLLA, tlla, m + n, 64 - n);
	return n;
}

struct ra_build {
	uint8_t m[1400];
	size_t n;
};

static void ra_start(struct ra_build *r, uint8_t hop, uint16_t lifetime_s, uint32_t reach_ms,
		     uint32_t retrans_ms, const uint8_t *slla)
{
	struct us_ndp_ra ra = { .cur_hop_limit = hop, .router_lifetime_s = lifetime_s,
				.reachable_time_ms = reach_ms, .retrans_timer_ms = retrans_ms };
	r->n = us_ndp_ra_emit(&ra, r->m, sizeof r->m);
	if (slla)
		r->n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, slla, r->m + r->n,
					       sizeof r->m - r->n);
}

static void ra_prefix(struct ra_build *r, const char *prefix, uint8_t len, bool onlink,
		      bool autonomous, uint32_t valid_s, uint32_t preferred_s)
{
	struct us_ndp_prefix p = { .prefix_len = len, .onlink = onlink, .autonomous = autonomous,
				   .valid_lifetime_s = valid_s, .preferred_lifetime_s = preferred_s,
				   .prefix = ip6(prefix) };
	size_t n = us_ndp_opt_prefix_emit(&p, r->m + r->n, sizeof r->m - r->n);
	ck_assert_uint_eq(n, 32);
	r->n += n;
}

static void ra_mtu(struct ra_build *r, uint32_t mtu)
{
	r->n += us_ndp_opt_mtu_emit(mtu, r->m + r->n, sizeof r->m - r->n);
}

static int deliver_ra(struct us_stack *s, us_time_t t, const char *src, const struct ra_build *r)
{
	return deliver(s, t, src, "ff02::1", 255, r->m, r->n);
}

/* Sends a len-byte IPv6 packet (No Next Header, payload bytes = tag) from
 * src to dst through us_nd6_output() to next hop nh. */
static int send_pkt_len(struct us_stack *s, us_time_t t, const char *src, const char *dst,
			const char *nh, uint8_t tag, uint32_t len)
{
	struct us_pbuf *b = us_stack_alloc(s, len);
	ck_assert_ptr_nonnull(b);
	uint8_t *p = us_pbuf_data(b);
	struct us_ipv6_hdr h = { .payload_len = (uint16_t)(len - 40),
				 .next_header = US_IPPROTO_NONE, .hop_limit = 64,
				 .src = ip6(src), .dst = ip6(dst) };
	ck_assert_uint_eq(us_ipv6_emit(&h, p, len), 40);
	memset(p + 40, tag, len - 40);
	s->now = t;
	struct us_ip6 n = ip6(nh);
	return us_nd6_output(s, &s->iface[0], &n, b);
}

/* The same, 48 bytes: 8 of payload. */
static int send_pkt(struct us_stack *s, us_time_t t, const char *src, const char *dst,
		    const char *nh, uint8_t tag)
{
	return send_pkt_len(s, t, src, dst, nh, tag, 48);
}

static void expect_frame(int i, const char *hex)
{
	uint8_t want[256];
	size_t n = us_test_hex(hex, want, sizeof want);
	ck_assert_int_lt(i, link.count);
	ck_assert_uint_eq(link.len[i], n);
	ck_assert_mem_eq(link.frame[i], want, n);
}

/* The ICMPv6 type of captured frame i (0 when it is not ICMPv6). */
static uint8_t frame_icmp_type(int i)
{
	if (link.len[i] < 55 || link.frame[i][12] != 0x86 || link.frame[i][20] != 58)
		return 0;
	return link.frame[i][54];
}

/* ---- Link-local address and DAD ----------------------------------------- */

START_TEST(iface_up_forms_the_link_local_address_from_the_mac_and_joins_its_groups)
{
	struct us_stack *s = nd_stack(DAD);
	struct us_addr6_info info[8];
	ck_assert_int_eq(us_stack_ipv6_addrs(s, 0, info, 8), 1);
	struct us_ip6 ll = ip6(LL_US);
	ck_assert_mem_eq(&info[0].addr, &ll, 16);
	ck_assert_int_eq(info[0].prefix_len, 64);
	ck_assert_int_eq(info[0].state, US_ADDR6_TENTATIVE);
	ck_assert(!info[0].autoconf);
	ck_assert_int_eq(info[0].valid_until, US_TIME_NEVER);
	struct us_ip6 all = ip6("ff02::1"), sol = ip6("ff02::1:ff00:2");
	struct us_ip6 other = ip6("ff02::1:ff00:3");
	ck_assert(us_nd6_joined(&s->iface[0], &all));
	ck_assert(us_nd6_joined(&s->iface[0], &sol));
	ck_assert(!us_nd6_joined(&s->iface[0], &other));
	ck_assert_int_eq(link.count, 0); /* nothing before the random delay */
	us_test_stack_free(s);
}
END_TEST

START_TEST(dad_probes_from_unspecified_after_a_random_delay_then_prefers)
{
	struct us_stack *s = nd_stack(DAD);
	us_time_t t0 = us_stack_next_deadline(s);
	/* RFC 4862 §5.4.2: a delay between 0 and MAX_RTR_SOLICITATION_DELAY. */
	ck_assert_int_ge(t0, 0);
	ck_assert_int_le(t0, US_SEC(1));
	us_stack_poll(s, t0);
	ck_assert_int_eq(link.count, 1);
	expect_frame(0, "33 33 ff 00 00 02  02 00 00 00 00 02  86 dd" /* to the solicited-node */
			" 60 00 00 00  00 18  3a  ff"	/* payload 24, ICMPv6, hop limit 255 */
			" 00000000 00000000 00000000 00000000"	/* source :: */
			" ff020000 00000000 00000001 ff000002"	/* ff02::1:ff00:2 */
			" 87 00 7d 23  00 00 00 00"		/* NS, code 0, checksum, reserved */
			" fe800000 00000000 0000 00ff fe00 0002"); /* target, no SLLA option */
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_TENTATIVE);
	/* RetransTimer (1 s) after the one probe, the address is unique. */
	ck_assert_int_eq(us_stack_next_deadline(s), t0 + US_SEC(1));
	us_stack_poll(s, t0 + US_SEC(1) - 1);
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_TENTATIVE);
	us_stack_poll(s, t0 + US_SEC(1));
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_PREFERRED);
	ck_assert_uint_eq(ctr(s, "nd6.dad_succeeded"), 1);
	ck_assert_uint_eq(ctr(s, "nd6.out_ns"), 1);
	ck_assert_int_eq(link.count, 1);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	us_test_stack_free(s);
}
END_TEST

START_TEST(dad_delay_is_random_and_bounded_by_one_second)
{
	us_time_t first = -1;
	bool differ = false;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct us_stack *s = nd_stack_seed(DAD, seed);
		us_time_t t = us_stack_next_deadline(s);
		ck_assert_int_ge(t, 0);
		ck_assert_int_le(t, US_ND6_MAX_RTR_SOLICITATION_DELAY);
		if (first < 0)
			first = t;
		else if (t != first)
			differ = true;
		us_test_stack_free(s);
	}
	ck_assert(differ);
}
END_TEST

START_TEST(dad_fails_when_an_na_for_the_tentative_address_arrives)
{
	struct us_stack *s = nd_stack(DAD);
	run_until(s, US_SEC(3)); /* the link-local address is PREFERRED */
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, US_SEC(3), 0, &g, 64), 0);
	struct us_ip6 sol = ip6("ff02::1:ff00:2"); /* shared with the link-local address */
	int slot = -1;
	for (int i = 0; i < US_MAX_GROUPS6; i++)
		if (s->iface[0].groups6_refs[i] && memcmp(&s->iface[0].groups6[i], &sol, 16) == 0)
			slot = i;
	ck_assert_int_ge(slot, 0);
	ck_assert_uint_eq(s->iface[0].groups6_refs[slot], 2);
	uint8_t m[64];
	size_t n = na_msg(m, "2001:db8:1::2", NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, US_SEC(3) + 1, "fe80::1", "ff02::1", 255, m, n), 0);
	ck_assert_int_eq(addr_of(s, "2001:db8:1::2")->state, US_ADDR6_DUPLICATE);
	ck_assert_uint_eq(ctr(s, "nd6.dad_duplicate"), 1);
	ck_assert_uint_eq(s->iface[0].groups6_refs[slot], 1);
	ck_assert(us_nd6_joined(&s->iface[0], &sol));
	/* No probe goes out for it any more, and IPv6 stays up. */
	int before = link.count;
	run_until(s, US_SEC(10));
	ck_assert_int_eq(link.count, before);
	ck_assert(!s->nd6.ifs[0].disabled);
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_PREFERRED);
	us_test_stack_free(s);
}
END_TEST

START_TEST(dad_fails_when_another_node_probes_for_the_tentative_address)
{
	struct us_stack *s = nd_stack(DAD);
	run_until(s, US_SEC(3));
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, US_SEC(3), 0, &g, 64), 0);
	uint8_t m[64];
	size_t n = ns_msg(m, "2001:db8:1::2", NULL);
	ck_assert_int_eq(deliver(s, US_SEC(3), "::", "ff02::1:ff00:2", 255, m, n), 0);
	ck_assert_int_eq(addr_of(s, "2001:db8:1::2")->state, US_ADDR6_DUPLICATE);
	ck_assert_uint_eq(ctr(s, "nd6.dad_duplicate"), 1);
	ck_assert_uint_eq(ctr(s, "nd6.out_na"), 0); /* a tentative address is not defended */
	us_test_stack_free(s);
}
END_TEST

START_TEST(ns_from_a_unicast_source_for_a_tentative_address_is_ignored)
{
	struct us_stack *s = nd_stack(DAD);
	uint8_t m[64];
	size_t n = ns_msg(m, LL_US, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1:ff00:2", 255, m, n), 0);
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_TENTATIVE);
	ck_assert_uint_eq(ctr(s, "nd6.ns_for_tentative_ignored"), 1);
	ck_assert(!has_neigh(s, "fe80::1"));
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_duplicate_link_local_address_disables_ipv6_on_the_interface)
{
	struct us_stack *s = nd_stack(DAD | RS);
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	ck_assert_int_eq(addr_count(s), 2);
	uint8_t m[64];
	size_t n = na_msg(m, LL_US, NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, 1, "fe80::ff:fe00:2", "ff02::1", 255, m, n), 0);
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_DUPLICATE);
	ck_assert(s->nd6.ifs[0].disabled);
	ck_assert_uint_eq(ctr(s, "nd6.iface_disabled"), 1);
	/* Only the duplicate stays listed; every group is left. */
	ck_assert_int_eq(addr_count(s), 1);
	ck_assert(!has_addr(s, "2001:db8:1::2"));
	struct us_ip6 all = ip6("ff02::1");
	ck_assert(!us_nd6_joined(&s->iface[0], &all));
	/* No RS, no DAD probe, no output, no input. */
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	run_until(s, US_SEC(20));
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(send_pkt(s, US_SEC(20), LL_US, "fe80::1", "ff02::1", 1), -ENETDOWN);
	ck_assert_uint_eq(ctr(s, "nd6.drop_ipv6_disabled"), 1);
	n = ns_msg(m, LL_US, MAC_PEER);
	ck_assert_int_eq(deliver(s, US_SEC(20), "fe80::1", "ff02::1:ff00:2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_ipv6_disabled"), 2);
	struct us_iface *out;
	struct us_ip6 nh, dst = ip6("fe80::1");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, 0, &out, &nh), -ENETUNREACH);
	/* No address can be added any more (stack.c refuses it). */
	ck_assert_int_eq(us_stack_add_ipv6(s, US_SEC(20), 0, &g, 64), -ENETDOWN);
	run_until(s, US_SEC(30));
	ck_assert(!has_addr(s, "2001:db8:1::2"));
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(without_dad_addresses_are_preferred_at_once)
{
	struct us_stack *s = nd_stack(0);
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_PREFERRED);
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	ck_assert_int_eq(addr_of(s, "2001:db8:1::2")->state, US_ADDR6_PREFERRED);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_link_mtu_below_1280_disables_ipv6)
{
	memset(&link, 0, sizeof link);
	struct us_stack_config cfg = { .seed = 1 };
	struct us_stack *s = us_stack_new(&cfg);
	struct us_iface_config ic = { .name = "small", .mtu = 1000,
				      .transmit = us_test_link_transmit, .transmit_ctx = &link };
	memcpy(ic.mac, MAC_US, 6);
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 0);
	ck_assert_int_eq(addr_count(s), 0);
	ck_assert(s->nd6.ifs[0].disabled);
	ck_assert_uint_eq(ctr(s, "nd6.iface_disabled"), 1);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	us_test_stack_free(s);
}
END_TEST

/* ---- Address resolution --------------------------------------------------- */

/* A stack without DAD, with 2001:db8:1::2/64 and a pool of small_bufs. */
static struct us_stack *global_stack_bufs(uint32_t small_bufs)
{
	struct us_stack *s = nd_stack_bufs(0, 1, small_bufs);
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	link.count = 0;
	return s;
}

/* The same with the usual pool of 64. */
static struct us_stack *global_stack(void)
{
	struct us_stack *s = nd_stack(0);
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	link.count = 0;
	return s;
}

START_TEST(resolution_sends_an_ns_queues_packets_and_sends_them_in_order_on_the_na)
{
	struct us_stack *s = global_stack();
	for (uint8_t i = 1; i <= 3; i++)
		ck_assert_int_eq(send_pkt(s, 0, G_US, G_PEER, G_PEER, i), 0);
	ck_assert_int_eq(link.count, 1);
	/* RFC 4861 §7.2.2: from the queued packet's source, to the target's
	 * solicited-node group, with our link-layer address. */
	expect_frame(0, "33 33 ff 00 00 01  02 00 00 00 00 02  86 dd"
			" 60 00 00 00  00 20  3a  ff"		/* payload 32, hop limit 255 */
			" 20010db8 00010000 00000000 00000002"	/* 2001:db8:1::2 */
			" ff020000 00000000 00000001 ff000001"	/* ff02::1:ff00:1 */
			" 87 00 1c 25  00 00 00 00"		/* NS */
			" 20010db8 00010000 00000000 00000001"	/* target 2001:db8:1::1 */
			" 01 01 02 00 00 00 00 02");		/* SLLA 02:00:00:00:00:02 */
	const struct us_nd6_neigh *e = neigh(s, "2001:db8:1::1");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->state, US_ND6_INCOMPLETE);
	ck_assert_uint_eq(e->q_len, 3);
	ck_assert_uint_eq(s->nd6.queued, 3);

	uint8_t m[64];
	size_t n = na_msg(m, "2001:db8:1::1", NA_S | NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, US_MSEC(300), "2001:db8:1::1", "2001:db8:1::2", 255, m, n), 0);
	ck_assert_int_eq(link.count, 4);
	for (int i = 1; i <= 3; i++) {
		ck_assert_mem_eq(link.frame[i], MAC_PEER, 6);
		ck_assert_uint_eq(link.len[i], 14 + 48);
		ck_assert_uint_eq(link.frame[i][14 + 40], i); /* in order */
	}
	ck_assert_int_eq(e->state, US_ND6_REACHABLE);
	ck_assert_uint_eq(s->nd6.queued, 0);
	ck_assert_mem_eq(e->mac, MAC_PEER, 6);
	/* The next packet goes straight out. */
	ck_assert_int_eq(send_pkt(s, US_SEC(1), G_US, G_PEER, G_PEER, 9), 0);
	ck_assert_int_eq(link.count, 5);
	ck_assert_int_eq(e->state, US_ND6_REACHABLE);
	us_test_stack_free(s);
}
END_TEST

START_TEST(resolution_is_retried_three_times_then_its_packets_are_dropped)
{
	struct us_stack *s = global_stack();
	ck_assert_int_eq(send_pkt(s, 0, "2001:db8:1::2", "2001:db8:1::1", "2001:db8:1::1", 1), 0);
	ck_assert_int_eq(send_pkt(s, 0, "2001:db8:1::2", "2001:db8:1::1", "2001:db8:1::1", 2), 0);
	ck_assert_int_eq(us_stack_next_deadline(s), US_SEC(1));
	us_stack_poll(s, US_SEC(1));
	ck_assert_int_eq(link.count, 2);
	us_stack_poll(s, US_SEC(2));
	ck_assert_int_eq(link.count, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(frame_icmp_type(i), US_ICMP6_ND_NS);
	ck_assert_uint_eq(ctr(s, "nd6.out_ns"), 3); /* MAX_MULTICAST_SOLICIT */
	us_stack_poll(s, US_SEC(3) - 1);
	ck_assert(has_neigh(s, "2001:db8:1::1"));
	us_stack_poll(s, US_SEC(3));
	ck_assert(!has_neigh(s, "2001:db8:1::1"));
	ck_assert_int_eq(link.count, 3);
	ck_assert_uint_eq(ctr(s, "nd6.drop_resolution_failed"), 2);
	ck_assert_uint_eq(s->nd6.queued, 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	us_test_stack_free(s);
}
END_TEST

/* Full-sized packets: the byte bound, not the count, fills a queue. */
#define BIG_PKT 1500u

START_TEST(a_full_resolution_queue_gives_up_its_oldest_packet)
{
	struct us_stack *s = global_stack_bufs(2 * US_ND6_QUEUE_MAX);
	uint32_t fit = US_ND6_QUEUE_BYTES / BIG_PKT; /* 87 */
	ck_assert_uint_lt(fit, US_ND6_QUEUE_MAX);
	for (uint32_t i = 1; i <= fit + 2; i++)
		ck_assert_int_eq(send_pkt_len(s, 0, G_US, G_PEER, G_PEER, (uint8_t)i, BIG_PKT), 0);
	ck_assert_uint_eq(neigh(s, "2001:db8:1::1")->q_len, fit);
	ck_assert_uint_eq(neigh(s, "2001:db8:1::1")->q_bytes, fit * BIG_PKT);
	ck_assert_uint_eq(ctr(s, "nd6.drop_queue_full"), 2);
	ck_assert_uint_eq(ctr(s, "nd6.drop_queue_total"), 0);
	uint8_t m[64];
	size_t n = na_msg(m, "2001:db8:1::1", NA_S | NA_O, MAC_PEER);
	deliver(s, 1, "2001:db8:1::1", "2001:db8:1::2", 255, m, n);
	ck_assert_int_eq(link.count, 1 + (int)fit);
	/* Packets 3 to fit + 2, in order (as far as the link keeps them). */
	for (int i = 1; i < US_TEST_MAX_FRAMES; i++) {
		ck_assert_uint_eq(link.len[i], 14 + BIG_PKT);
		ck_assert_uint_eq(link.frame[i][14 + 40], i + 2);
	}
	us_test_stack_free(s);
}
END_TEST

START_TEST(resolution_queues_are_bounded_in_total)
{
	struct us_stack *s = global_stack_bufs(2 * US_ND6_QUEUE_MAX);
	const char *dst[5] = { "2001:db8:1::a", "2001:db8:1::b", "2001:db8:1::c", "2001:db8:1::d",
			       "2001:db8:1::e" };
	const int per = US_ND6_QUEUE_MAX / 4; /* small packets: far below the byte bound */
	for (int d = 0; d < 5; d++)
		for (int i = 0; i < per; i++)
			send_pkt(s, 0, "2001:db8:1::2", dst[d], dst[d], (uint8_t)i);
	ck_assert_uint_eq(s->nd6.queued, US_ND6_QUEUE_MAX);
	/* Four queues filled the total; the fifth entry had nothing to give. */
	ck_assert_uint_eq(ctr(s, "nd6.drop_queue_total"), per);
	ck_assert_uint_eq(neigh(s, "2001:db8:1::e")->q_len, 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), US_ND6_QUEUE_MAX);
	/* One with packets waiting gives up its oldest for the new one. */
	ck_assert_int_eq(send_pkt(s, 0, "2001:db8:1::2", dst[0], dst[0], 0xee), 0);
	ck_assert_uint_eq(ctr(s, "nd6.drop_queue_total"), per + 1);
	ck_assert_uint_eq(neigh(s, "2001:db8:1::a")->q_len, per);
	ck_assert_uint_eq(s->nd6.queued, US_ND6_QUEUE_MAX);
	ck_assert_uint_eq(ctr(s, "nd6.drop_queue_full"), 0);
	run_until(s, US_SEC(5));
	ck_assert_uint_eq(ctr(s, "nd6.drop_resolution_failed"), US_ND6_QUEUE_MAX);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

/* The bug a packet count had: a datagram fragmented into more packets than
 * the count allowed lost its first fragments while the neighbour resolved. */
START_TEST(a_60000_byte_datagram_to_an_unresolved_neighbour_leaves_whole)
{
	struct us_stack *s = global_stack();
	/* Fragments of 1448 bytes: (1500 - 40 - 8) rounded down to 8 (RFC 8200 §4.5). */
	const uint32_t len = 60000, frag = 1448, nfrag = (len + frag - 1) / frag; /* 42 */
	ck_assert_uint_le(nfrag * (40 + 8 + frag), US_ND6_QUEUE_BYTES);
	struct us_pbuf *b = us_stack_alloc(s, len);
	ck_assert_ptr_nonnull(b);
	for (uint32_t i = 0; i < len; i++)
		us_pbuf_data(b)[i] = (uint8_t)i;
	struct us_ip6_tx tx = { .dst = ip6(G_PEER), .next_header = 253, .ifindex = -1 };
	ck_assert_int_eq(us_ip6_output(s, b, &tx), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(frame_icmp_type(0), 135); /* the NS */
	ck_assert_uint_eq(neigh(s, G_PEER)->q_len, nfrag);
	ck_assert_uint_eq(ctr(s, "nd6.drop_queue_full"), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), nfrag);

	uint8_t m[64];
	size_t n = na_msg(m, G_PEER, NA_S | NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, US_MSEC(1), G_PEER, G_US, 255, m, n), 0);
	ck_assert_int_eq(link.count, 1 + (int)nfrag);
	uint32_t id = us_get_be32(link.frame[1] + 14 + 40 + 4);
	for (uint32_t i = 0; i < nfrag; i++) {
		const uint8_t *f = link.frame[1 + i];
		uint32_t plen = i < nfrag - 1 ? frag : len - frag * (nfrag - 1);
		ck_assert_mem_eq(f, MAC_PEER, 6);
		ck_assert_uint_eq(link.len[1 + i], 14 + 40 + 8 + plen);
		ck_assert_uint_eq(f[14 + 6], 44); /* Next Header: Fragment */
		const uint8_t *fh = f + 14 + 40;
		ck_assert_uint_eq(fh[0], 253);
		uint16_t off_m = us_get_be16(fh + 2);
		ck_assert_uint_eq(off_m & 0xfff8u, frag * i);
		ck_assert_uint_eq(off_m & 1u, i < nfrag - 1);
		ck_assert_uint_eq(us_get_be32(fh + 4), id);
		for (uint32_t j = 0; j < plen; j++)
			ck_assert_uint_eq(fh[8 + j], (uint8_t)(frag * i + j));
	}
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_resolution_flood_keeps_the_cache_bounded)
{
	struct us_stack *s = global_stack_bufs(2 * US_ND6_QUEUE_MAX);
	char dst[64];
	for (int i = 0; i < 100; i++) {
		snprintf(dst, sizeof dst, "2001:db8:1::%x", 0x1000 + i);
		send_pkt(s, 0, "2001:db8:1::2", dst, dst, (uint8_t)i);
	}
	ck_assert_int_eq(neigh_count(s), US_ND6_NEIGH_MAX);
	/* Entries still resolving are never evicted: the rest is refused. */
	ck_assert_uint_eq(ctr(s, "nd6.drop_cache_full"), 100 - US_ND6_NEIGH_MAX);
	ck_assert_uint_eq(ctr(s, "nd6.neigh_evicted"), 0);
	ck_assert_uint_le(s->nd6.queued, US_ND6_QUEUE_MAX);
	run_until(s, US_SEC(5));
	ck_assert_int_eq(neigh_count(s), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_multicast_next_hop_maps_to_33_33_without_resolution)
{
	struct us_stack *s = global_stack();
	ck_assert_int_eq(send_pkt(s, 0, LL_US, "ff02::1:2", "ff02::1:2", 7), 0);
	ck_assert_int_eq(link.count, 1);
	const uint8_t want[6] = { 0x33, 0x33, 0x00, 0x01, 0x00, 0x02 };
	ck_assert_mem_eq(link.frame[0], want, 6);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(our_own_address_or_unspecified_is_no_next_hop)
{
	struct us_stack *s = global_stack();
	ck_assert_int_eq(send_pkt(s, 0, LL_US, "2001:db8:1::2", "2001:db8:1::2", 1), -EINVAL);
	ck_assert_int_eq(send_pkt(s, 0, LL_US, "2001:db8:1::9", "::", 1), -EINVAL);
	ck_assert_int_eq(send_pkt(s, 0, LL_US, "2001:db8:1::9", "::1", 1), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_bad_next_hop"), 3);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(resolution_without_a_usable_source_sends_nothing_and_fails)
{
	struct us_stack *s = nd_stack(DAD); /* the link-local address is still tentative */
	ck_assert_int_eq(send_pkt(s, 0, "::", "fe80::1", "fe80::1", 1), 0);
	ck_assert_uint_eq(ctr(s, "nd6.ns_no_source_address"), 1);
	ck_assert_uint_eq(ctr(s, "nd6.out_ns"), 0);
	run_until(s, US_SEC(5));
	ck_assert_uint_eq(ctr(s, "nd6.drop_resolution_failed"), 1);
	us_test_stack_free(s);
}
END_TEST

/* ---- Reachability states ------------------------------------------------- */

/* fe80::1 resolved at time 0: REACHABLE. */
static struct us_stack *reachable_stack(void)
{
	struct us_stack *s = nd_stack(0);
	ck_assert_int_eq(send_pkt(s, 0, LL_US, "fe80::1", "fe80::1", 1), 0);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_S | NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", LL_US, 255, m, n), 0);
	ck_assert_int_eq(neigh(s, "fe80::1")->state, US_ND6_REACHABLE);
	link.count = 0;
	return s;
}

START_TEST(reachable_becomes_stale_after_reachable_time)
{
	struct us_stack *s = reachable_stack();
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	us_time_t rt = s->nd6.ifs[0].reachable_us;
	/* RFC 4861 §6.3.2: 0.5 to 1.5 times BaseReachableTime (30 s). */
	ck_assert_int_ge(rt, US_SEC(15));
	ck_assert_int_le(rt, US_SEC(45));
	ck_assert_int_eq(e->deadline, rt);
	ck_assert_int_eq(us_stack_next_deadline(s), rt);
	us_stack_poll(s, rt - 1);
	ck_assert_int_eq(e->state, US_ND6_REACHABLE);
	us_stack_poll(s, rt);
	ck_assert_int_eq(e->state, US_ND6_STALE);
	ck_assert_int_eq(e->deadline, US_TIME_NEVER);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(reachable_time_is_drawn_from_the_seeded_source)
{
	bool differ = false;
	us_time_t first = 0;
	for (uint64_t seed = 1; seed <= 50; seed++) {
		struct us_stack *s = nd_stack_seed(0, seed);
		us_time_t rt = s->nd6.ifs[0].reachable_us;
		ck_assert_int_ge(rt, US_SEC(15));
		ck_assert_int_le(rt, US_SEC(45));
		if (seed == 1)
			first = rt;
		else if (rt != first)
			differ = true;
		us_test_stack_free(s);
	}
	ck_assert(differ);
}
END_TEST

START_TEST(a_stale_entry_in_use_goes_to_delay_then_probes_after_five_seconds)
{
	struct us_stack *s = reachable_stack();
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	us_time_t t = s->nd6.ifs[0].reachable_us;
	run_until(s, t);
	ck_assert_int_eq(e->state, US_ND6_STALE);
	/* The packet goes at once, to the cached address. */
	ck_assert_int_eq(send_pkt(s, t + US_SEC(100), LL_US, "fe80::1", "fe80::1", 2), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_mem_eq(link.frame[0], MAC_PEER, 6);
	ck_assert_int_eq(e->state, US_ND6_DELAY);
	ck_assert_int_eq(e->deadline, t + US_SEC(105));
	us_stack_poll(s, t + US_SEC(105) - 1);
	ck_assert_int_eq(e->state, US_ND6_DELAY);
	us_stack_poll(s, t + US_SEC(105));
	ck_assert_int_eq(e->state, US_ND6_PROBE);
	ck_assert_int_eq(link.count, 2);
	/* RFC 4861 §7.3.3: a unicast NS to the cached link-layer address. */
	expect_frame(1, "52 54 00 00 00 01  02 00 00 00 00 02  86 dd"
			" 60 00 00 00  00 20  3a  ff"
			" fe800000 00000000 000000ff fe000002"	/* from fe80::ff:fe00:2 */
			" fe800000 00000000 00000000 00000001"	/* to fe80::1 */
			" 87 00 7b 1b  00 00 00 00"		/* NS */
			" fe800000 00000000 00000000 00000001"	/* target fe80::1 */
			" 01 01 02 00 00 00 00 02");		/* SLLA */
	us_test_stack_free(s);
}
END_TEST

START_TEST(probe_is_sent_three_times_then_the_entry_is_deleted)
{
	struct us_stack *s = reachable_stack();
	us_time_t t = s->nd6.ifs[0].reachable_us;
	run_until(s, t);
	send_pkt(s, t, LL_US, "fe80::1", "fe80::1", 2);
	run_until(s, t + US_SEC(5));
	ck_assert_int_eq(neigh(s, "fe80::1")->state, US_ND6_PROBE);
	run_until(s, t + US_SEC(7));
	ck_assert_uint_eq(ctr(s, "nd6.out_ns"), 1 + 3); /* the resolution, then 3 probes */
	ck_assert(has_neigh(s, "fe80::1"));
	run_until(s, t + US_SEC(8) - 1);
	ck_assert(has_neigh(s, "fe80::1"));
	run_until(s, t + US_SEC(8));
	ck_assert(!has_neigh(s, "fe80::1"));
	ck_assert_uint_eq(ctr(s, "nd6.neigh_unreachable"), 1);
	ck_assert_int_eq(link.count, 1 + 3);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_solicited_na_in_probe_makes_the_entry_reachable)
{
	struct us_stack *s = reachable_stack();
	us_time_t t = s->nd6.ifs[0].reachable_us;
	run_until(s, t);
	send_pkt(s, t, LL_US, "fe80::1", "fe80::1", 2);
	run_until(s, t + US_SEC(6));
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	ck_assert_int_eq(e->state, US_ND6_PROBE);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_S, NULL); /* no TLLA: fine outside INCOMPLETE */
	ck_assert_int_eq(deliver(s, t + US_SEC(6) + 5, "fe80::1", LL_US, 255, m, n), 0);
	ck_assert_int_eq(e->state, US_ND6_REACHABLE);
	ck_assert_int_eq(e->deadline, t + US_SEC(6) + 5 + s->nd6.ifs[0].reachable_us);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_solicited_na_in_delay_makes_the_entry_reachable_without_probing)
{
	struct us_stack *s = reachable_stack();
	us_time_t t = s->nd6.ifs[0].reachable_us;
	run_until(s, t);
	send_pkt(s, t, LL_US, "fe80::1", "fe80::1", 2);
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	ck_assert_int_eq(e->state, US_ND6_DELAY);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_S | NA_O, MAC_PEER);
	deliver(s, t + US_SEC(1), "fe80::1", LL_US, 255, m, n);
	ck_assert_int_eq(e->state, US_ND6_REACHABLE);
	run_until(s, t + US_SEC(10));
	ck_assert_uint_eq(ctr(s, "nd6.out_ns"), 1); /* only the first resolution */
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_unsolicited_na_with_override_and_new_address_makes_it_stale)
{
	struct us_stack *s = reachable_stack();
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_O, MAC_PEER2);
	ck_assert_int_eq(deliver(s, US_SEC(1), "fe80::1", "ff02::1", 255, m, n), 0);
	ck_assert_int_eq(e->state, US_ND6_STALE);
	ck_assert_mem_eq(e->mac, MAC_PEER2, 6);
	/* The same address again without S changes nothing. */
	deliver(s, US_SEC(2), "fe80::1", "ff02::1", 255, m, n);
	ck_assert_int_eq(e->state, US_ND6_STALE);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_na_without_override_and_a_new_address_only_turns_reachable_to_stale)
{
	struct us_stack *s = reachable_stack();
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_S, MAC_PEER2);
	ck_assert_int_eq(deliver(s, US_SEC(1), "fe80::1", LL_US, 255, m, n), 0);
	/* RFC 4861 §7.2.5 I.a: STALE, the cached address kept. */
	ck_assert_int_eq(e->state, US_ND6_STALE);
	ck_assert_mem_eq(e->mac, MAC_PEER, 6);
	/* I.b: otherwise the advertisement is ignored. */
	deliver(s, US_SEC(2), "fe80::1", LL_US, 255, m, n);
	ck_assert_int_eq(e->state, US_ND6_STALE);
	ck_assert_mem_eq(e->mac, MAC_PEER, 6);
	ck_assert_uint_eq(ctr(s, "nd6.na_ignored_no_override"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_na_for_an_unknown_neighbour_creates_no_entry)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::7", NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::7", "ff02::1", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_na_no_entry"), 1);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_unsolicited_na_completes_an_incomplete_entry_as_stale_then_delay)
{
	struct us_stack *s = nd_stack(0);
	send_pkt(s, 0, LL_US, "fe80::1", "fe80::1", 1);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, 10, "fe80::1", "ff02::1", 255, m, n), 0);
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	/* STALE, and sending the queued packet made it DELAY (§7.3.3). */
	ck_assert_int_eq(e->state, US_ND6_DELAY);
	ck_assert_int_eq(e->deadline, 10 + US_SEC(5));
	ck_assert_int_eq(link.count, 2);
	ck_assert_mem_eq(link.frame[1], MAC_PEER, 6);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_na_without_tlla_for_an_incomplete_entry_is_discarded)
{
	struct us_stack *s = nd_stack(0);
	send_pkt(s, 0, LL_US, "fe80::1", "fe80::1", 1);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_S | NA_O, NULL);
	ck_assert_int_eq(deliver(s, 10, "fe80::1", LL_US, 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_na_incomplete_without_tlla"), 1);
	ck_assert_int_eq(neigh(s, "fe80::1")->state, US_ND6_INCOMPLETE);
	run_until(s, US_SEC(5));
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_na_for_our_own_preferred_address_is_counted_and_ignored)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = na_msg(m, LL_US, NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1", 255, m, n), 0);
	ck_assert_uint_eq(ctr(s, "nd6.na_for_our_address"), 1);
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_PREFERRED);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- NS answered ---------------------------------------------------------- */

START_TEST(an_ns_with_slla_creates_an_entry_and_gets_a_solicited_na)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = ns_msg(m, LL_US, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1:ff00:2", 255, m, n), 0);
	ck_assert_int_eq(link.count, 1);
	/* RFC 4861 §7.2.4: unicast to the solicitation's source, S and O set,
	 * with our link-layer address. */
	expect_frame(0, "52 54 00 00 00 01  02 00 00 00 00 02  86 dd"
			" 60 00 00 00  00 20  3a  ff"
			" fe800000 00000000 000000ff fe000002"	/* from the target */
			" fe800000 00000000 00000000 00000001"	/* to fe80::1 */
			" 88 00 1a 1a  60 00 00 00"		/* NA, S and O */
			" fe800000 00000000 000000ff fe000002"	/* target */
			" 02 01 02 00 00 00 00 02");		/* TLLA */
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	ck_assert_ptr_nonnull(e);
	ck_assert_mem_eq(e->mac, MAC_PEER, 6);
	ck_assert(!e->is_router);
	/* Created STALE; the NA we sent to it made it DELAY. */
	ck_assert_int_eq(e->state, US_ND6_DELAY);
	ck_assert_uint_eq(ctr(s, "nd6.out_na"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_from_unspecified_is_answered_to_all_nodes)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = ns_msg(m, LL_US, NULL);
	ck_assert_int_eq(deliver(s, 0, "::", "ff02::1:ff00:2", 255, m, n), 0);
	expect_frame(0, "33 33 00 00 00 01  02 00 00 00 00 02  86 dd"
			" 60 00 00 00  00 20  3a  ff"
			" fe800000 00000000 000000ff fe000002"
			" ff020000 00000000 00000000 00000001"	/* to ff02::1 */
			" 88 00 59 98  20 00 00 00"		/* NA, O only */
			" fe800000 00000000 000000ff fe000002"
			" 02 01 02 00 00 00 00 02");
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_with_a_new_slla_updates_the_entry_to_stale)
{
	struct us_stack *s = reachable_stack();
	uint8_t m[64];
	size_t n = ns_msg(m, LL_US, MAC_PEER2);
	deliver(s, US_SEC(1), "fe80::1", LL_US, 255, m, n);
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	ck_assert_mem_eq(e->mac, MAC_PEER2, 6);
	ck_assert_int_eq(e->state, US_ND6_DELAY); /* STALE, then our NA to it */
	ck_assert_mem_eq(link.frame[0], MAC_PEER2, 6);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_with_slla_completes_an_incomplete_entry)
{
	struct us_stack *s = nd_stack(0);
	send_pkt(s, 0, LL_US, "fe80::1", "fe80::1", 1);
	uint8_t m[64];
	size_t n = ns_msg(m, LL_US, MAC_PEER);
	deliver(s, 5, "fe80::1", "ff02::1:ff00:2", 255, m, n);
	/* The NS, then the queued packet, then our NA. */
	ck_assert_int_eq(link.count, 3);
	ck_assert_uint_eq(link.frame[1][14 + 40], 1);
	ck_assert_uint_eq(frame_icmp_type(2), US_ICMP6_ND_NA);
	ck_assert_int_eq(neigh(s, "fe80::1")->state, US_ND6_DELAY);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_for_someone_else_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = ns_msg(m, "fe80::99", MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1:ff00:99", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_ns_not_for_us"), 1);
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- Validation (RFC 4861 §6.1.2, §7.1.1, §7.1.2, §8.1) ----------------- */

START_TEST(an_ns_with_hop_limit_254_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = ns_msg(m, LL_US, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1:ff00:2", 254, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_hop_limit"), 1);
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_with_a_nonzero_code_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = us_test_hex("87 01 00 00  00 00 00 00" /* NS, code 1 */
			       " fe800000 00000000 000000ff fe000002"
			       " 01 01 52 54 00 00 00 01", m, sizeof m);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1:ff00:2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_bad_code"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_with_a_multicast_target_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = us_test_hex("87 00 00 00  00 00 00 00"
			       " ff020000 00000000 00000000 00000001", /* target ff02::1 */
			       m, sizeof m);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_multicast_target"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_with_a_zero_length_option_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = us_test_hex("87 00 00 00  00 00 00 00"
			       " fe800000 00000000 000000ff fe000002"
			       " 01 00 52 54 00 00 00 01", /* SLLA, length 0 */
			       m, sizeof m);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1:ff00:2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_option_zero_length"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_with_an_option_running_past_the_end_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = us_test_hex("87 00 00 00  00 00 00 00"
			       " fe800000 00000000 000000ff fe000002"
			       " 01 02 52 54 00 00 00 01", /* SLLA says 16 bytes, 8 are left */
			       m, sizeof m);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1:ff00:2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_option_past_end"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_with_an_slla_of_the_wrong_length_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = us_test_hex("87 00 00 00  00 00 00 00"
			       " fe800000 00000000 000000ff fe000002"
			       " 01 02 52 54 00 00 00 01 00 00 00 00 00 00 00 00", /* 16 bytes */
			       m, sizeof m);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1:ff00:2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_bad_lladdr_option"), 1);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_from_unspecified_with_slla_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = ns_msg(m, LL_US, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "::", "ff02::1:ff00:2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_ns_unspecified_src_with_slla"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ns_from_unspecified_not_to_a_solicited_node_group_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = ns_msg(m, LL_US, NULL);
	ck_assert_int_eq(deliver(s, 0, "::", LL_US, 255, m, n), -EINVAL);
	ck_assert_int_eq(deliver(s, 0, "::", "ff02::1", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_ns_unspecified_src_not_solicited_node"), 2);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_solicited_na_to_a_multicast_address_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	send_pkt(s, 0, LL_US, "fe80::1", "fe80::1", 1);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_S | NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_na_solicited_to_multicast"), 1);
	ck_assert_int_eq(neigh(s, "fe80::1")->state, US_ND6_INCOMPLETE);
	run_until(s, US_SEC(5));
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_na_with_a_multicast_target_or_hop_limit_254_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = us_test_hex("88 00 00 00  20 00 00 00" /* NA, O */
			       " ff020000 00000000 00000000 00000001", /* target ff02::1 */
			       m, sizeof m);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_multicast_target"), 1);
	n = na_msg(m, "fe80::1", NA_O, MAC_PEER);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1", 64, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_hop_limit"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(nd_messages_truncated_at_every_length_are_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	uint64_t drops = 0;
	/* Type and code 0 then zeros: every length below the fixed part. */
	const uint8_t types[] = { US_ICMP6_ND_NS, US_ICMP6_ND_NA, US_ICMP6_ND_RA,
				  US_ICMP6_ND_REDIRECT };
	const size_t fixed[] = { 24, 24, 16, 40 };
	for (int t = 0; t < 4; t++) {
		for (size_t len = 1; len < fixed[t]; len++) {
			memset(m, 0, sizeof m);
			m[0] = types[t];
			ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1", 255, m, len), -EINVAL);
			drops++;
			ck_assert_uint_eq(ctr(s, "nd6.drop_truncated"), drops);
		}
	}
	ck_assert_int_eq(link.count, 0);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_router_solicitation_is_discarded_by_a_host)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[64];
	size_t n = us_test_hex("85 00 00 00  00 00 00 00  01 01 52 54 00 00 00 01", m, sizeof m);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_rs_host"), 1);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_message_that_is_not_nd_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	uint8_t m[8] = { US_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1 };
	ck_assert_int_eq(deliver(s, 0, "fe80::1", LL_US, 255, m, sizeof m), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_unknown_type"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ra_from_a_global_source_or_with_hop_limit_254_is_dropped)
{
	struct us_stack *s = nd_stack(0);
	struct ra_build r;
	ra_start(&r, 64, 1800, 0, 0, MAC_PEER);
	ck_assert_int_eq(deliver_ra(s, 0, "2001:db8:1::1", &r), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_ra_src_not_link_local"), 1);
	ck_assert_int_eq(deliver(s, 0, "fe80::1", "ff02::1", 254, r.m, r.n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_hop_limit"), 1);
	r.m[1] = 1; /* code 1 */
	ck_assert_int_eq(deliver_ra(s, 0, "fe80::1", &r), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_bad_code"), 1);
	r.m[1] = 0;
	r.m[17] = 0; /* the SLLA's length: zero */
	ck_assert_int_eq(deliver_ra(s, 0, "fe80::1", &r), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_option_zero_length"), 1);
	ck_assert_int_eq(s->nd6.routers[0].used, false);
	ck_assert_int_eq(neigh_count(s), 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- Router Solicitation -------------------------------------------------- */

START_TEST(rs_is_sent_three_times_four_seconds_apart_then_stops)
{
	struct us_stack *s = nd_stack(RS); /* DAD off: the link-local address is usable */
	us_time_t t0 = us_stack_next_deadline(s);
	ck_assert_int_ge(t0, 0);
	ck_assert_int_le(t0, US_SEC(1));
	us_stack_poll(s, t0);
	ck_assert_int_eq(link.count, 1);
	expect_frame(0, "33 33 00 00 00 02  02 00 00 00 00 02  86 dd" /* to all-routers */
			" 60 00 00 00  00 10  3a  ff"
			" fe800000 00000000 000000ff fe000002"	/* from the link-local address */
			" ff020000 00000000 00000000 00000002"	/* ff02::2 */
			" 85 00 7b 2a  00 00 00 00"		/* RS */
			" 01 01 02 00 00 00 00 02");		/* SLLA */
	ck_assert_int_eq(us_stack_next_deadline(s), t0 + US_SEC(4));
	us_stack_poll(s, t0 + US_SEC(4) - 1);
	ck_assert_int_eq(link.count, 1);
	us_stack_poll(s, t0 + US_SEC(4));
	ck_assert_int_eq(link.count, 2);
	ck_assert_int_eq(us_stack_next_deadline(s), t0 + US_SEC(8));
	us_stack_poll(s, t0 + US_SEC(8));
	ck_assert_int_eq(link.count, 3);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	run_until(s, US_SEC(100));
	ck_assert_int_eq(link.count, 3);
	ck_assert_uint_eq(ctr(s, "nd6.out_rs"), 3);
	for (int i = 1; i < 3; i++) {
		ck_assert_uint_eq(link.len[i], link.len[0]);
		ck_assert_mem_eq(link.frame[i], link.frame[0], link.len[0]);
	}
	us_test_stack_free(s);
}
END_TEST

START_TEST(rs_goes_from_unspecified_without_slla_while_the_link_local_is_tentative)
{
	struct us_stack *s = nd_stack(DAD | RS);
	us_time_t rs0 = s->nd6.ifs[0].rs_deadline;
	us_time_t dad0 = addr_of(s, LL_US)->dad_deadline;
	ck_assert_int_lt(rs0, dad0 + US_SEC(1)); /* the first RS comes before DAD ends */
	run_until(s, rs0);
	int rs = -1;
	for (int i = 0; i < link.count; i++)
		if (frame_icmp_type(i) == US_ICMP6_ND_RS)
			rs = i;
	ck_assert_int_ge(rs, 0);
	expect_frame(rs, "33 33 00 00 00 02  02 00 00 00 00 02  86 dd"
			 " 60 00 00 00  00 08  3a  ff"		/* payload 8: no option */
			 " 00000000 00000000 00000000 00000000"	/* from :: */
			 " ff020000 00000000 00000000 00000002"
			 " 85 00 7b b8  00 00 00 00");
	/* The second one, after DAD, from the link-local address with SLLA. */
	link.count = 0;
	run_until(s, rs0 + US_SEC(4));
	rs = -1;
	for (int i = 0; i < link.count; i++)
		if (frame_icmp_type(i) == US_ICMP6_ND_RS)
			rs = i;
	ck_assert_int_ge(rs, 0);
	expect_frame(rs, "33 33 00 00 00 02  02 00 00 00 00 02  86 dd"
			" 60 00 00 00  00 10  3a  ff"
			" fe800000 00000000 000000ff fe000002"
			" ff020000 00000000 00000000 00000002"
			" 85 00 7b 2a  00 00 00 00"
			" 01 01 02 00 00 00 00 02");
	us_test_stack_free(s);
}
END_TEST

START_TEST(rs_stops_when_an_ra_with_a_router_lifetime_arrives)
{
	struct us_stack *s = nd_stack(RS);
	us_time_t t0 = us_stack_next_deadline(s);
	us_stack_poll(s, t0);
	ck_assert_int_eq(link.count, 1);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL); /* lifetime 0: not a default router */
	ck_assert_int_eq(deliver_ra(s, t0 + 1, "fe80::1", &r), 0);
	ck_assert_int_eq(us_stack_next_deadline(s), t0 + US_SEC(4));
	ra_start(&r, 0, 1800, 0, 0, NULL);
	ck_assert_int_eq(deliver_ra(s, t0 + 2, "fe80::1", &r), 0);
	ck_assert_int_eq(s->nd6.ifs[0].rs_deadline, US_TIME_NEVER);
	run_until(s, US_SEC(20));
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(ctr(s, "nd6.out_rs"), 1);
	us_test_stack_free(s);
}
END_TEST

/* ---- Router Advertisement ------------------------------------------------- */

START_TEST(an_ra_adds_a_default_router_until_its_lifetime_ends)
{
	struct us_stack *s = global_stack();
	struct ra_build r;
	ra_start(&r, 0, 1800, 0, 0, MAC_PEER);
	ck_assert_int_eq(deliver_ra(s, US_SEC(10), "fe80::1", &r), 0);
	ck_assert_uint_eq(ctr(s, "nd6.router_added"), 1);
	struct us_iface *out = NULL;
	struct us_ip6 nh, dst = ip6("2001:db8:99::5"), rtr = ip6("fe80::1");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_ptr_eq(out, &s->iface[0]);
	ck_assert_mem_eq(&nh, &rtr, 16);
	/* The SLLA made a STALE entry for the router. */
	const struct us_nd6_neigh *e = neigh(s, "fe80::1");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->state, US_ND6_STALE);
	ck_assert(e->is_router);
	ck_assert_mem_eq(e->mac, MAC_PEER, 6);
	ck_assert_int_eq(us_stack_next_deadline(s), US_SEC(10) + US_SEC(1800));
	run_until(s, US_SEC(1810) - 1);
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	run_until(s, US_SEC(1810));
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), -ENETUNREACH);
	ck_assert_uint_eq(ctr(s, "nd6.router_expired"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ra_with_router_lifetime_zero_removes_the_router)
{
	struct us_stack *s = global_stack();
	struct ra_build r;
	ra_start(&r, 0, 1800, 0, 0, NULL);
	deliver_ra(s, 0, "fe80::1", &r);
	struct us_iface *out;
	struct us_ip6 nh, dst = ip6("2001:db8:99::5");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ra_start(&r, 0, 0, 0, 0, NULL);
	deliver_ra(s, 1, "fe80::1", &r);
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), -ENETUNREACH);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_na_clearing_the_router_flag_removes_the_default_router)
{
	struct us_stack *s = global_stack();
	struct ra_build r;
	ra_start(&r, 0, 1800, 0, 0, MAC_PEER);
	deliver_ra(s, 0, "fe80::1", &r);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_O, MAC_PEER); /* R clear */
	deliver(s, 1, "fe80::1", "ff02::1", 255, m, n);
	ck_assert(!neigh(s, "fe80::1")->is_router);
	struct us_iface *out;
	struct us_ip6 nh, dst = ip6("2001:db8:99::5");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), -ENETUNREACH);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ra_sets_hop_limit_reachable_time_and_retrans_timer)
{
	struct us_stack *s = nd_stack(0);
	ck_assert_uint_eq(us_nd6_hop_limit(s, &s->iface[0]), 64);
	struct ra_build r;
	ra_start(&r, 200, 0, 10000, 500, NULL);
	ck_assert_int_eq(deliver_ra(s, 0, "fe80::1", &r), 0);
	ck_assert_uint_eq(us_nd6_hop_limit(s, &s->iface[0]), 200);
	ck_assert_uint_eq(s->nd6.ifs[0].base_reachable_ms, 10000);
	ck_assert_int_ge(s->nd6.ifs[0].reachable_us, US_SEC(5));
	ck_assert_int_le(s->nd6.ifs[0].reachable_us, US_SEC(15));
	ck_assert_int_eq(s->nd6.ifs[0].retrans_us, US_MSEC(500));
	/* Zero fields leave the values alone; over an hour is refused. */
	ra_start(&r, 0, 0, 3600001, 0, NULL);
	deliver_ra(s, 1, "fe80::1", &r);
	ck_assert_uint_eq(us_nd6_hop_limit(s, &s->iface[0]), 200);
	ck_assert_uint_eq(s->nd6.ifs[0].base_reachable_ms, 10000);
	ck_assert_int_eq(s->nd6.ifs[0].retrans_us, US_MSEC(500));
	ck_assert_uint_eq(ctr(s, "nd6.ra_reachable_time_too_long"), 1);
	/* Address resolution now retries every 500 ms. */
	send_pkt(s, US_SEC(1), LL_US, "fe80::5", "fe80::5", 1);
	ck_assert_int_eq(us_stack_next_deadline(s), US_SEC(1) + US_MSEC(500));
	run_until(s, US_SEC(3));
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_mtu_option_is_taken_only_between_1280_and_the_link_mtu)
{
	struct us_stack *s = nd_stack(0);
	ck_assert_uint_eq(us_nd6_link_mtu(s, &s->iface[0]), 1500);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_mtu(&r, 1400);
	deliver_ra(s, 0, "fe80::1", &r);
	ck_assert_uint_eq(us_nd6_link_mtu(s, &s->iface[0]), 1400);
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_mtu(&r, 1279);
	deliver_ra(s, 0, "fe80::1", &r);
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_mtu(&r, 9000);
	deliver_ra(s, 0, "fe80::1", &r);
	ck_assert_uint_eq(us_nd6_link_mtu(s, &s->iface[0]), 1400);
	ck_assert_uint_eq(ctr(s, "nd6.ra_mtu_out_of_range"), 2);
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_mtu(&r, 1280);
	deliver_ra(s, 0, "fe80::1", &r);
	ck_assert_uint_eq(us_nd6_link_mtu(s, &s->iface[0]), 1280);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_prefix_forms_a_slaac_address_that_goes_through_dad)
{
	struct us_stack *s = nd_stack(DAD);
	run_until(s, US_SEC(3));
	link.count = 0;
	struct ra_build r;
	ra_start(&r, 0, 1800, 0, 0, MAC_PEER);
	ra_prefix(&r, "2001:db8:1::", 64, true, true, 7200, 3600);
	ck_assert_int_eq(deliver_ra(s, US_SEC(3), "fe80::1", &r), 0);
	struct us_addr6 *a = addr_of(s, "2001:db8:1::ff:fe00:2");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->state, US_ADDR6_TENTATIVE);
	ck_assert(a->autoconf);
	ck_assert_int_eq(a->prefix_len, 64);
	ck_assert_int_eq(a->valid_until, US_SEC(3) + US_SEC(7200));
	ck_assert_int_eq(a->preferred_until, US_SEC(3) + US_SEC(3600));
	ck_assert_uint_eq(ctr(s, "nd6.slaac_addresses"), 1);
	us_time_t t = a->dad_deadline;
	ck_assert_int_le(t, US_SEC(4));
	run_until(s, t);
	ck_assert_int_eq(link.count, 1);
	expect_frame(0, "33 33 ff 00 00 02  02 00 00 00 00 02  86 dd"
			" 60 00 00 00  00 18  3a  ff"
			" 00000000 00000000 00000000 00000000"
			" ff020000 00000000 00000001 ff000002"
			" 87 00 4d ea  00 00 00 00"
			" 20010db8 00010000 0000 00ff fe00 0002"); /* 2001:db8:1::ff:fe00:2 */
	run_until(s, t + US_SEC(1));
	ck_assert_int_eq(a->state, US_ADDR6_PREFERRED);
	/* The prefix is on-link (L), the address alone would not be (RFC 5942). */
	struct us_iface *out;
	struct us_ip6 nh, dst = ip6("2001:db8:1::77");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_mem_eq(&nh, &dst, 16);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_slaac_address_is_deprecated_then_removed_by_its_lifetimes)
{
	struct us_stack *s = nd_stack(0);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 600, 300);
	deliver_ra(s, 0, "fe80::1", &r);
	struct us_addr6 *a = addr_of(s, "2001:db8:1::ff:fe00:2");
	ck_assert_int_eq(a->state, US_ADDR6_PREFERRED);
	ck_assert_int_eq(us_stack_next_deadline(s), US_SEC(300));
	run_until(s, US_SEC(300) - 1);
	ck_assert_int_eq(a->state, US_ADDR6_PREFERRED);
	run_until(s, US_SEC(300));
	ck_assert_int_eq(a->state, US_ADDR6_DEPRECATED);
	ck_assert_uint_eq(ctr(s, "nd6.addr_deprecated"), 1);
	ck_assert_int_eq(us_stack_next_deadline(s), US_SEC(600));
	run_until(s, US_SEC(600));
	ck_assert(!has_addr(s, "2001:db8:1::ff:fe00:2"));
	ck_assert_uint_eq(ctr(s, "nd6.addr_expired"), 1);
	ck_assert_int_eq(addr_count(s), 1);
	/* Its share of the solicited-node group went with it. */
	struct us_ip6 sol = ip6("ff02::1:ff00:2");
	ck_assert(us_nd6_joined(&s->iface[0], &sol));
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ra_refreshes_a_slaac_address_without_adding_another)
{
	struct us_stack *s = nd_stack(0);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 7200 * 2, 3600);
	deliver_ra(s, 0, "fe80::1", &r);
	deliver_ra(s, US_SEC(10), "fe80::1", &r);
	ck_assert_int_eq(addr_count(s), 2);
	struct us_addr6 *a = addr_of(s, "2001:db8:1::ff:fe00:2");
	ck_assert_int_eq(a->preferred_until, US_SEC(10) + US_SEC(3600));
	ck_assert_int_eq(a->valid_until, US_SEC(10) + US_SEC(14400));
	/* Preferred lifetime 0 deprecates it at once; a later one prefers it again. */
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 14400, 0);
	deliver_ra(s, US_SEC(20), "fe80::1", &r);
	ck_assert_int_eq(a->state, US_ADDR6_DEPRECATED);
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 14400, 100);
	deliver_ra(s, US_SEC(30), "fe80::1", &r);
	ck_assert_int_eq(a->state, US_ADDR6_PREFERRED);
	ck_assert_uint_eq(ctr(s, "nd6.slaac_addresses"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_two_hour_rule_limits_valid_lifetime_updates)
{
	struct us_stack *s = nd_stack(0);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 3 * 3600, 600);
	deliver_ra(s, 0, "fe80::1", &r);
	struct us_addr6 *a = addr_of(s, "2001:db8:1::ff:fe00:2");
	ck_assert_int_eq(a->valid_until, US_SEC(3 * 3600));
	/* 3. Remaining 3 h > 2 h, received 1 h: reset to 2 hours. */
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 3600, 600);
	deliver_ra(s, 0, "fe80::1", &r);
	ck_assert_int_eq(a->valid_until, US_SEC(2 * 3600));
	/* 2. Remaining 1 h (at 1 h) <= 2 h, received 30 min: ignored. */
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 1800, 600);
	deliver_ra(s, US_SEC(3600), "fe80::1", &r);
	ck_assert_int_eq(a->valid_until, US_SEC(2 * 3600));
	/* 1. Received greater than the remaining lifetime: taken. */
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 5400, 600);
	deliver_ra(s, US_SEC(3600), "fe80::1", &r);
	ck_assert_int_eq(a->valid_until, US_SEC(3600 + 5400));
	/* 1. Received over 2 hours: taken even when shorter than remaining. */
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 7201, 600);
	deliver_ra(s, US_SEC(3600), "fe80::1", &r);
	ck_assert_int_eq(a->valid_until, US_SEC(3600 + 7201));
	/* Infinity is over 2 hours. */
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 0xffffffff, 0xffffffff);
	deliver_ra(s, US_SEC(3600), "fe80::1", &r);
	ck_assert_int_eq(a->valid_until, US_TIME_NEVER);
	ck_assert_int_eq(a->preferred_until, US_TIME_NEVER);
	/* From infinity, 1 h received: 2 hours. */
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 3600, 600);
	deliver_ra(s, US_SEC(3600), "fe80::1", &r);
	ck_assert_int_eq(a->valid_until, US_SEC(3600 + 7200));
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_prefix_of_length_65_is_ignored_for_slaac)
{
	struct us_stack *s = nd_stack(0);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 65, false, true, 7200, 3600);
	ck_assert_int_eq(deliver_ra(s, 0, "fe80::1", &r), 0);
	ck_assert_int_eq(addr_count(s), 1);
	ck_assert_uint_eq(ctr(s, "nd6.ra_prefix_bad_length"), 1);
	/* A prefix length above 128 is bogus too. */
	r.m[r.n - 32 + 2] = 129;
	ck_assert_int_eq(deliver_ra(s, 0, "fe80::1", &r), 0);
	ck_assert_uint_eq(ctr(s, "nd6.ra_prefix_bad_length"), 2);
	ck_assert_int_eq(addr_count(s), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_link_local_prefix_is_ignored)
{
	struct us_stack *s = nd_stack(0);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "fe80::", 64, true, true, 7200, 3600);
	ck_assert_int_eq(deliver_ra(s, 0, "fe80::1", &r), 0);
	ck_assert_int_eq(addr_count(s), 1);
	ck_assert(!s->nd6.prefixes[0].used);
	ck_assert_uint_eq(ctr(s, "nd6.ra_prefix_link_local"), 1);
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "ff00::", 64, true, true, 7200, 3600);
	deliver_ra(s, 0, "fe80::1", &r);
	ck_assert_uint_eq(ctr(s, "nd6.ra_prefix_multicast"), 1);
	ck_assert_int_eq(addr_count(s), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_preferred_lifetime_over_the_valid_lifetime_is_ignored)
{
	struct us_stack *s = nd_stack(0);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, false, true, 600, 601);
	deliver_ra(s, 0, "fe80::1", &r);
	ck_assert_int_eq(addr_count(s), 1);
	ck_assert_uint_eq(ctr(s, "nd6.ra_prefix_preferred_over_valid"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(no_slaac_ignores_autonomous_prefixes_but_keeps_on_link_ones)
{
	struct us_stack *s = nd_stack(NO_SLAAC);
	struct ra_build r;
	ra_start(&r, 0, 0, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:1::", 64, true, true, 600, 300);
	deliver_ra(s, 0, "fe80::1", &r);
	ck_assert_int_eq(addr_count(s), 1);
	struct us_iface *out;
	struct us_ip6 nh, dst = ip6("2001:db8:1::77");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_on_link_prefix_is_its_own_next_hop_until_it_expires)
{
	struct us_stack *s = nd_stack(0);
	struct ra_build r;
	ra_start(&r, 0, 1800, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:5::", 48, true, false, 100, 50);
	deliver_ra(s, 0, "fe80::1", &r);
	struct us_iface *out;
	struct us_ip6 nh, dst = ip6("2001:db8:5:7::9"), rtr = ip6("fe80::1");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_mem_eq(&nh, &dst, 16);
	ck_assert_int_eq(addr_count(s), 1); /* A clear: no address */
	run_until(s, US_SEC(100));
	ck_assert_uint_eq(ctr(s, "nd6.prefix_expired"), 1);
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_mem_eq(&nh, &rtr, 16); /* through the router now */
	/* Valid lifetime 0 times a prefix out at once. */
	ra_start(&r, 0, 1800, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:5::", 48, true, false, 100, 50);
	deliver_ra(s, US_SEC(200), "fe80::1", &r);
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_mem_eq(&nh, &dst, 16);
	ra_start(&r, 0, 1800, 0, 0, NULL);
	ra_prefix(&r, "2001:db8:5::", 48, true, false, 0, 0);
	deliver_ra(s, US_SEC(201), "fe80::1", &r);
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_mem_eq(&nh, &rtr, 16);
	us_test_stack_free(s);
}
END_TEST

/* ---- Next-hop determination ---------------------------------------------- */

START_TEST(a_static_address_makes_its_prefix_on_link)
{
	struct us_stack *s = global_stack();
	struct us_iface *out = NULL;
	struct us_ip6 nh, dst = ip6("2001:db8:1::99"), far = ip6("2001:db8:2::1");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_ptr_eq(out, &s->iface[0]);
	ck_assert_mem_eq(&nh, &dst, 16);
	ck_assert_int_eq(us_nd6_next_hop(s, &far, -1, &out, &nh), -ENETUNREACH);
	struct us_ip6 un = ip6("::"), lo = ip6("::1");
	ck_assert_int_eq(us_nd6_next_hop(s, &un, 0, &out, &nh), -ENETUNREACH);
	ck_assert_int_eq(us_nd6_next_hop(s, &lo, 0, &out, &nh), -ENETUNREACH);
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, 5, &out, &nh), -ENETUNREACH);
	us_test_stack_free(s);
}
END_TEST

START_TEST(link_local_and_multicast_need_an_interface_when_there_are_several)
{
	struct us_stack *s = nd_stack(0);
	struct us_iface *out = NULL;
	struct us_ip6 nh, ll = ip6("fe80::1"), mc = ip6("ff02::1");
	ck_assert_int_eq(us_nd6_next_hop(s, &ll, -1, &out, &nh), 0); /* the only one */
	ck_assert_ptr_eq(out, &s->iface[0]);
	ck_assert_mem_eq(&nh, &ll, 16);
	static struct us_test_link other;
	struct us_iface_config ic = { .name = "nd1", .mac = { 2, 0, 0, 0, 0, 3 },
				      .transmit = us_test_link_transmit, .transmit_ctx = &other };
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 1);
	ck_assert_int_eq(us_nd6_next_hop(s, &ll, -1, &out, &nh), -ENETUNREACH);
	ck_assert_int_eq(us_nd6_next_hop(s, &mc, -1, &out, &nh), -ENETUNREACH);
	ck_assert_int_eq(us_nd6_next_hop(s, &ll, 1, &out, &nh), 0);
	ck_assert_ptr_eq(out, &s->iface[1]);
	ck_assert_int_eq(us_nd6_next_hop(s, &mc, 0, &out, &nh), 0);
	ck_assert_ptr_eq(out, &s->iface[0]);
	ck_assert_mem_eq(&nh, &mc, 16);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_router_with_a_cache_entry_is_preferred)
{
	struct us_stack *s = global_stack();
	struct ra_build r;
	ra_start(&r, 0, 1800, 0, 0, NULL); /* no SLLA: no entry */
	deliver_ra(s, 0, "fe80::1", &r);
	ra_start(&r, 0, 1800, 0, 0, MAC_PEER2);
	deliver_ra(s, 0, "fe80::2", &r);
	struct us_iface *out;
	struct us_ip6 nh, dst = ip6("2001:db8:99::5"), r2 = ip6("fe80::2"), r1 = ip6("fe80::1");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_mem_eq(&nh, &r2, 16);
	/* Once fe80::2 is forgotten, fe80::1 is used. */
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::2", NA_O, MAC_PEER2);
	deliver(s, 1, "fe80::2", "ff02::1", 255, m, n);
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_mem_eq(&nh, &r1, 16);
	us_test_stack_free(s);
}
END_TEST

START_TEST(redirects_are_validated_and_counted)
{
	struct us_stack *s = global_stack();
	struct ra_build r;
	ra_start(&r, 0, 1800, 0, 0, MAC_PEER);
	deliver_ra(s, 0, "fe80::1", &r);
	uint8_t m[64];
	struct us_ndp_redirect rd = { .target = ip6("fe80::7"), .dest = ip6("2001:db8:99::5") };
	size_t n = us_ndp_redirect_emit(&rd, m, sizeof m);
	ck_assert_uint_eq(n, 40);
	ck_assert_int_eq(deliver(s, 1, "fe80::1", "2001:db8:1::2", 255, m, n), 0);
	ck_assert_uint_eq(ctr(s, "nd6.redirect_ignored"), 1);
	ck_assert_int_eq(deliver(s, 1, "fe80::2", "2001:db8:1::2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_redirect_not_first_hop"), 1);
	ck_assert_int_eq(deliver(s, 1, "2001:db8:1::1", "2001:db8:1::2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_redirect_src_not_link_local"), 1);
	ck_assert_int_eq(deliver(s, 1, "fe80::1", "2001:db8:1::2", 255, m, n - 1), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_truncated"), 1);
	rd.target = ip6("2001:db8:1::7"); /* neither link-local nor the destination */
	n = us_ndp_redirect_emit(&rd, m, sizeof m);
	ck_assert_int_eq(deliver(s, 1, "fe80::1", "2001:db8:1::2", 255, m, n), -EINVAL);
	ck_assert_uint_eq(ctr(s, "nd6.drop_redirect_bad_address"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ra_option_of_a_wrong_length_is_skipped_and_the_rest_is_used)
{
	struct us_stack *s = global_stack();
	struct ra_build r;
	ra_start(&r, 0, 1800, 0, 0, NULL);
	/* MTU option of length 2 (16 bytes) instead of 1. */
	r.n += us_test_hex("05 02 00 00 00 00 05 00  00 00 00 00 00 00 00 00", r.m + r.n,
			   sizeof r.m - r.n);
	ra_prefix(&r, "2001:db8:9::", 64, false, true, 600, 300);
	ck_assert_int_eq(deliver_ra(s, 0, "fe80::1", &r), 0);
	ck_assert_uint_eq(ctr(s, "nd6.ra_bad_option"), 1);
	ck_assert_uint_eq(us_nd6_link_mtu(s, &s->iface[0]), 1500);
	ck_assert(has_addr(s, "2001:db8:9::ff:fe00:2"));
	ck_assert_uint_eq(ctr(s, "nd6.router_added"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_full_group_table_is_counted_and_the_address_still_works)
{
	struct us_stack *s = nd_stack(0);
	struct us_iface *ifc = &s->iface[0];
	for (int i = 0; i < US_MAX_GROUPS6; i++) {
		if (ifc->groups6_refs[i])
			continue;
		ifc->groups6[i] = ip6("ff05::1:3");
		ifc->groups6[i].b[14] = (uint8_t)i;
		ifc->groups6_refs[i] = 1;
	}
	struct us_ip6 g = ip6("2001:db8:1::1:2345");
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &g, 64), 0);
	ck_assert_uint_eq(ctr(s, "nd6.groups_full"), 1);
	ck_assert_int_eq(addr_of(s, "2001:db8:1::1:2345")->state, US_ADDR6_PREFERRED);
	ck_assert(!addr_of(s, "2001:db8:1::1:2345")->in_group);
	us_test_stack_free(s);
}
END_TEST

struct trace_lines {
	int n;
	char line[16][160];
};

static void record_trace(void *ctx, const struct us_trace_event *ev)
{
	struct trace_lines *t = ctx;
	if (t->n < 16)
		snprintf(t->line[t->n], sizeof t->line[0], "%s", ev->msg);
	t->n++;
}

START_TEST(every_neighbour_state_change_is_traced_with_its_reason)
{
	static struct trace_lines t;
	memset(&t, 0, sizeof t);
	struct us_stack *s = nd_stack(0);
	s->cfg.trace = record_trace;
	s->cfg.trace_ctx = &t;
	send_pkt(s, 0, LL_US, "fe80::1", "fe80::1", 1);
	uint8_t m[64];
	size_t n = na_msg(m, "fe80::1", NA_S | NA_O, MAC_PEER);
	deliver(s, 0, "fe80::1", LL_US, 255, m, n);
	run_until(s, s->nd6.ifs[0].reachable_us);
	ck_assert_int_eq(t.n, 3);
	ck_assert_str_eq(t.line[0], "neighbour fe80::1: new -> INCOMPLETE (packet to send)");
	ck_assert_str_eq(t.line[1], "neighbour fe80::1: INCOMPLETE -> REACHABLE (solicited NA)");
	ck_assert_str_eq(t.line[2], "neighbour fe80::1: REACHABLE -> STALE (ReachableTime over)");
	ck_assert_str_eq(us_nd6_state_name(US_ND6_PROBE), "PROBE");
	ck_assert_str_eq(us_nd6_state_name((enum us_nd6_neigh_state)9), "?");
	us_test_stack_free(s);
}
END_TEST

/* ---- Bounds under floods -------------------------------------------------- */

START_TEST(an_ns_flood_from_random_sources_keeps_the_cache_bounded)
{
	struct us_stack *s = nd_stack(0);
	struct us_rand rnd;
	us_rand_seed(&rnd, 99);
	uint8_t m[64];
	char src[64];
	for (int i = 0; i < 500; i++) {
		uint32_t v = us_rand_u32(&rnd);
		uint8_t mac[6] = { 0x52, 0x54, (uint8_t)(v >> 24), (uint8_t)(v >> 16),
				   (uint8_t)(v >> 8), (uint8_t)i };
		snprintf(src, sizeof src, "fe80::%x:%x", (unsigned)(v >> 16), (unsigned)i);
		size_t n = ns_msg(m, LL_US, mac);
		ck_assert_int_eq(deliver(s, i, src, "ff02::1:ff00:2", 255, m, n), 0);
		ck_assert_int_le(neigh_count(s), US_ND6_NEIGH_MAX);
	}
	ck_assert_int_eq(neigh_count(s), US_ND6_NEIGH_MAX);
	ck_assert_uint_eq(ctr(s, "nd6.neigh_evicted"), 500 - US_ND6_NEIGH_MAX);
	ck_assert_uint_eq(ctr(s, "nd6.out_na"), 500);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	/* The entries age out through DELAY and PROBE. */
	run_until(s, US_SEC(60));
	ck_assert_int_eq(neigh_count(s), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ra_flood_with_many_prefixes_keeps_every_list_bounded)
{
	struct us_stack *s = nd_stack(0);
	char src[32], pfx[32];
	int k = 0;
	for (int i = 1; i <= 20; i++) {
		struct ra_build r;
		ra_start(&r, 0, 1800, 0, 0, NULL);
		for (int j = 0; j < 3; j++) {
			snprintf(pfx, sizeof pfx, "2001:db8:%x::", ++k);
			ra_prefix(&r, pfx, 64, true, true, 600, 300);
		}
		snprintf(src, sizeof src, "fe80::%x", i);
		ck_assert_int_eq(deliver_ra(s, 0, src, &r), 0);
	}
	int routers = 0, prefixes = 0;
	for (int i = 0; i < US_ND6_ROUTERS_MAX; i++)
		routers += s->nd6.routers[i].used;
	for (int i = 0; i < US_ND6_PREFIXES_MAX; i++)
		prefixes += s->nd6.prefixes[i].used;
	ck_assert_int_eq(routers, US_ND6_ROUTERS_MAX);
	ck_assert_int_eq(prefixes, US_ND6_PREFIXES_MAX);
	ck_assert_int_eq(addr_count(s), US_MAX_ADDR6);
	ck_assert_uint_eq(ctr(s, "nd6.router_list_full"), 20 - US_ND6_ROUTERS_MAX);
	ck_assert_uint_eq(ctr(s, "nd6.prefix_list_full"), 60 - US_ND6_PREFIXES_MAX);
	ck_assert_uint_eq(ctr(s, "nd6.slaac_addresses"), US_MAX_ADDR6 - 1);
	ck_assert_uint_eq(ctr(s, "nd6.slaac_no_room"), 60 - (US_MAX_ADDR6 - 1));
	/* Every entry expires on the virtual clock. */
	run_until(s, US_SEC(1800));
	ck_assert_int_eq(addr_count(s), 1);
	for (int i = 0; i < US_ND6_ROUTERS_MAX; i++)
		ck_assert(!s->nd6.routers[i].used);
	for (int i = 0; i < US_ND6_PREFIXES_MAX; i++)
		ck_assert(!s->nd6.prefixes[i].used);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_stack_freed_with_packets_waiting_for_resolution_leaks_nothing)
{
	struct us_stack *s = global_stack();
	for (uint8_t i = 0; i < 5; i++)
		send_pkt(s, 0, "2001:db8:1::2", "2001:db8:1::1", "2001:db8:1::1", i);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 5);
	us_nd6_fini(s);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- End to end through us_stack_input() --------------------------------- */

START_TEST(an_ns_frame_through_stack_input_is_answered_with_an_na)
{
	struct us_stack *s = nd_stack(0);
	uint8_t f[128];
	size_t n = us_test_hex("33 33 ff 00 00 02  52 54 00 00 00 01  86 dd"
			       " 60 00 00 00  00 20  3a  ff"		/* 32 bytes, ICMPv6, 255 */
			       " fe800000 00000000 00000000 00000001"	/* from fe80::1 */
			       " ff020000 00000000 00000001 ff000002"	/* to ff02::1:ff00:2 */
			       " 87 00 00 00  00 00 00 00"		/* NS, checksum below */
			       " fe800000 00000000 000000ff fe000002"	/* target: us */
			       " 01 01 52 54 00 00 00 01",		/* SLLA */
			       f, sizeof f);
	struct us_ip6 a = ip6("fe80::1"), b = ip6("ff02::1:ff00:2");
	us_icmp6_csum_fill(f + 54, 32, us_csum_pseudo6(&a, &b, US_IPPROTO_ICMPV6, 32));
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 1);
	expect_frame(0, "52 54 00 00 00 01  02 00 00 00 00 02  86 dd"
			" 60 00 00 00  00 20  3a  ff"
			" fe800000 00000000 000000ff fe000002"
			" fe800000 00000000 00000000 00000001"
			" 88 00 1a 1a  60 00 00 00"
			" fe800000 00000000 000000ff fe000002"
			" 02 01 02 00 00 00 00 02");
	us_test_stack_free(s);
}
END_TEST

/* An Ethernet frame carrying an ND message, checksum filled in. */
static size_t nd_frame(uint8_t *f, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		       const char *src, const char *dst, const uint8_t *msg, size_t mlen)
{
	struct us_ip6 a = ip6(src), b = ip6(dst);
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(eth.dst, dst_mac, 6);
	memcpy(eth.src, src_mac, 6);
	ck_assert_uint_le(14 + 40 + mlen, cap);
	ck_assert_uint_eq(us_eth_emit(&eth, f, cap), 14);
	struct us_ipv6_hdr h = { .payload_len = (uint16_t)mlen, .next_header = US_IPPROTO_ICMPV6,
				 .hop_limit = 255, .src = a, .dst = b };
	ck_assert_uint_eq(us_ipv6_emit(&h, f + 14, cap - 14), 40);
	memcpy(f + 54, msg, mlen);
	uint32_t pseudo = us_csum_pseudo6(&a, &b, US_IPPROTO_ICMPV6, (uint32_t)mlen);
	us_icmp6_csum_fill(f + 54, mlen, pseudo);
	return 54 + mlen;
}

START_TEST(a_ping_through_ip6_output_waits_for_resolution_and_goes_on_the_na)
{
	struct us_stack *s = global_stack();
	struct us_ip6 peer = ip6("2001:db8:1::1");
	const uint8_t data[4] = { 1, 2, 3, 4 };
	ck_assert_int_eq(us_stack_ping6(s, 0, &peer, 7, 1, data, sizeof data, 0), 0);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(frame_icmp_type(0), US_ICMP6_ND_NS);
	ck_assert_uint_eq(neigh(s, "2001:db8:1::1")->q_len, 1);
	uint8_t m[64], f[256];
	size_t n = na_msg(m, "2001:db8:1::1", NA_S | NA_O, MAC_PEER);
	n = nd_frame(f, sizeof f, MAC_US, MAC_PEER, "2001:db8:1::1", "2001:db8:1::2", m, n);
	ck_assert_int_eq(us_stack_input(s, US_MSEC(2), 0, f, n), 0);
	ck_assert_int_eq(link.count, 2);
	ck_assert_mem_eq(link.frame[1], MAC_PEER, 6);
	ck_assert_uint_eq(frame_icmp_type(1), US_ICMP6_ECHO_REQUEST);
	ck_assert_int_eq(neigh(s, "2001:db8:1::1")->state, US_ND6_REACHABLE);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_ra_frame_through_stack_input_gives_a_slaac_address_after_dad)
{
	struct us_stack *s = nd_stack(DAD);
	run_until(s, US_SEC(3));
	ck_assert_int_eq(addr_of(s, LL_US)->state, US_ADDR6_PREFERRED);
	struct ra_build r;
	ra_start(&r, 64, 1800, 0, 0, MAC_PEER);
	ra_prefix(&r, "2001:db8:1::", 64, true, true, 86400, 14400);
	ra_mtu(&r, 1500);
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t f[256];
	size_t n = nd_frame(f, sizeof f, all_nodes_mac, MAC_PEER, "fe80::1", "ff02::1", r.m, r.n);
	ck_assert_int_eq(us_stack_input(s, US_SEC(3), 0, f, n), 0);
	ck_assert_uint_eq(ctr(s, "nd6.in_ra"), 1);
	ck_assert_int_eq(addr_of(s, "2001:db8:1::ff:fe00:2")->state, US_ADDR6_TENTATIVE);
	run_until(s, US_SEC(6));
	ck_assert_int_eq(addr_of(s, "2001:db8:1::ff:fe00:2")->state, US_ADDR6_PREFERRED);
	struct us_iface *out;
	struct us_ip6 nh, dst = ip6("2001:db8:77::1"), rtr = ip6("fe80::1");
	ck_assert_int_eq(us_nd6_next_hop(s, &dst, -1, &out, &nh), 0);
	ck_assert_mem_eq(&nh, &rtr, 16);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_dad_probe_frame_from_another_node_makes_ours_a_duplicate)
{
	struct us_stack *s = nd_stack(DAD);
	run_until(s, US_SEC(3));
	struct us_ip6 g = ip6("2001:db8:1::2");
	ck_assert_int_eq(us_stack_add_ipv6(s, US_SEC(3), 0, &g, 64), 0);
	static const uint8_t sol_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 2 };
	uint8_t m[64], f[256];
	size_t n = ns_msg(m, "2001:db8:1::2", NULL);
	n = nd_frame(f, sizeof f, sol_mac, MAC_PEER, "::", "ff02::1:ff00:2", m, n);
	ck_assert_int_eq(us_stack_input(s, US_SEC(3), 0, f, n), 0);
	ck_assert_int_eq(addr_of(s, "2001:db8:1::2")->state, US_ADDR6_DUPLICATE);
	ck_assert_uint_eq(ctr(s, "nd6.dad_duplicate"), 1);
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("nd6");
	TCase *tc = tcase_create("nd6");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, iface_up_forms_the_link_local_address_from_the_mac_and_joins_its_groups);
	tcase_add_test(tc, dad_probes_from_unspecified_after_a_random_delay_then_prefers);
	tcase_add_test(tc, dad_delay_is_random_and_bounded_by_one_second);
	tcase_add_test(tc, dad_fails_when_an_na_for_the_tentative_address_arrives);
	tcase_add_test(tc, dad_fails_when_another_node_probes_for_the_tentative_address);
	tcase_add_test(tc, ns_from_a_unicast_source_for_a_tentative_address_is_ignored);
	tcase_add_test(tc, a_duplicate_link_local_address_disables_ipv6_on_the_interface);
	tcase_add_test(tc, without_dad_addresses_are_preferred_at_once);
	tcase_add_test(tc, a_link_mtu_below_1280_disables_ipv6);
	tcase_add_test(tc, resolution_sends_an_ns_queues_packets_and_sends_them_in_order_on_the_na);
	tcase_add_test(tc, resolution_is_retried_three_times_then_its_packets_are_dropped);
	tcase_add_test(tc, a_full_resolution_queue_gives_up_its_oldest_packet);
	tcase_add_test(tc, resolution_queues_are_bounded_in_total);
	tcase_add_test(tc, a_60000_byte_datagram_to_an_unresolved_neighbour_leaves_whole);
	tcase_add_test(tc, a_resolution_flood_keeps_the_cache_bounded);
	tcase_add_test(tc, a_multicast_next_hop_maps_to_33_33_without_resolution);
	tcase_add_test(tc, our_own_address_or_unspecified_is_no_next_hop);
	tcase_add_test(tc, resolution_without_a_usable_source_sends_nothing_and_fails);
	tcase_add_test(tc, reachable_becomes_stale_after_reachable_time);
	tcase_add_test(tc, reachable_time_is_drawn_from_the_seeded_source);
	tcase_add_test(tc, a_stale_entry_in_use_goes_to_delay_then_probes_after_five_seconds);
	tcase_add_test(tc, probe_is_sent_three_times_then_the_entry_is_deleted);
	tcase_add_test(tc, a_solicited_na_in_probe_makes_the_entry_reachable);
	tcase_add_test(tc, a_solicited_na_in_delay_makes_the_entry_reachable_without_probing);
	tcase_add_test(tc, an_unsolicited_na_with_override_and_new_address_makes_it_stale);
	tcase_add_test(tc, an_na_without_override_and_a_new_address_only_turns_reachable_to_stale);
	tcase_add_test(tc, an_na_for_an_unknown_neighbour_creates_no_entry);
	tcase_add_test(tc, an_unsolicited_na_completes_an_incomplete_entry_as_stale_then_delay);
	tcase_add_test(tc, an_na_without_tlla_for_an_incomplete_entry_is_discarded);
	tcase_add_test(tc, an_na_for_our_own_preferred_address_is_counted_and_ignored);
	tcase_add_test(tc, an_ns_with_slla_creates_an_entry_and_gets_a_solicited_na);
	tcase_add_test(tc, an_ns_from_unspecified_is_answered_to_all_nodes);
	tcase_add_test(tc, an_ns_with_a_new_slla_updates_the_entry_to_stale);
	tcase_add_test(tc, an_ns_with_slla_completes_an_incomplete_entry);
	tcase_add_test(tc, an_ns_for_someone_else_is_dropped);
	tcase_add_test(tc, an_ns_with_hop_limit_254_is_dropped);
	tcase_add_test(tc, an_ns_with_a_nonzero_code_is_dropped);
	tcase_add_test(tc, an_ns_with_a_multicast_target_is_dropped);
	tcase_add_test(tc, an_ns_with_a_zero_length_option_is_dropped);
	tcase_add_test(tc, an_ns_with_an_option_running_past_the_end_is_dropped);
	tcase_add_test(tc, an_ns_with_an_slla_of_the_wrong_length_is_dropped);
	tcase_add_test(tc, an_ns_from_unspecified_with_slla_is_dropped);
	tcase_add_test(tc, an_ns_from_unspecified_not_to_a_solicited_node_group_is_dropped);
	tcase_add_test(tc, a_solicited_na_to_a_multicast_address_is_dropped);
	tcase_add_test(tc, an_na_with_a_multicast_target_or_hop_limit_254_is_dropped);
	tcase_add_test(tc, nd_messages_truncated_at_every_length_are_dropped);
	tcase_add_test(tc, a_router_solicitation_is_discarded_by_a_host);
	tcase_add_test(tc, a_message_that_is_not_nd_is_dropped);
	tcase_add_test(tc, an_ra_from_a_global_source_or_with_hop_limit_254_is_dropped);
	tcase_add_test(tc, rs_is_sent_three_times_four_seconds_apart_then_stops);
	tcase_add_test(tc, rs_goes_from_unspecified_without_slla_while_the_link_local_is_tentative);
	tcase_add_test(tc, rs_stops_when_an_ra_with_a_router_lifetime_arrives);
	tcase_add_test(tc, an_ra_adds_a_default_router_until_its_lifetime_ends);
	tcase_add_test(tc, an_ra_with_router_lifetime_zero_removes_the_router);
	tcase_add_test(tc, an_na_clearing_the_router_flag_removes_the_default_router);
	tcase_add_test(tc, an_ra_sets_hop_limit_reachable_time_and_retrans_timer);
	tcase_add_test(tc, the_mtu_option_is_taken_only_between_1280_and_the_link_mtu);
	tcase_add_test(tc, a_prefix_forms_a_slaac_address_that_goes_through_dad);
	tcase_add_test(tc, a_slaac_address_is_deprecated_then_removed_by_its_lifetimes);
	tcase_add_test(tc, an_ra_refreshes_a_slaac_address_without_adding_another);
	tcase_add_test(tc, the_two_hour_rule_limits_valid_lifetime_updates);
	tcase_add_test(tc, a_prefix_of_length_65_is_ignored_for_slaac);
	tcase_add_test(tc, a_link_local_prefix_is_ignored);
	tcase_add_test(tc, a_preferred_lifetime_over_the_valid_lifetime_is_ignored);
	tcase_add_test(tc, no_slaac_ignores_autonomous_prefixes_but_keeps_on_link_ones);
	tcase_add_test(tc, an_on_link_prefix_is_its_own_next_hop_until_it_expires);
	tcase_add_test(tc, a_static_address_makes_its_prefix_on_link);
	tcase_add_test(tc, link_local_and_multicast_need_an_interface_when_there_are_several);
	tcase_add_test(tc, a_router_with_a_cache_entry_is_preferred);
	tcase_add_test(tc, redirects_are_validated_and_counted);
	tcase_add_test(tc, an_ra_option_of_a_wrong_length_is_skipped_and_the_rest_is_used);
	tcase_add_test(tc, a_full_group_table_is_counted_and_the_address_still_works);
	tcase_add_test(tc, every_neighbour_state_change_is_traced_with_its_reason);
	tcase_add_test(tc, an_ns_flood_from_random_sources_keeps_the_cache_bounded);
	tcase_add_test(tc, an_ra_flood_with_many_prefixes_keeps_every_list_bounded);
	tcase_add_test(tc, a_stack_freed_with_packets_waiting_for_resolution_leaks_nothing);
	tcase_add_test(tc, an_ns_frame_through_stack_input_is_answered_with_an_na);
	tcase_add_test(tc, a_ping_through_ip6_output_waits_for_resolution_and_goes_on_the_na);
	tcase_add_test(tc, an_ra_frame_through_stack_input_gives_a_slaac_address_after_dad);
	tcase_add_test(tc, a_dad_probe_frame_from_another_node_makes_ours_a_duplicate);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_tcp_route_cache.c - the lean path of the TCP core: the
 * route each connection caches (src/stack/tcp_output.c, tcb_route(); the
 * generation s->route_gen, stack.h) and the last-hit cache of the
 * connection lookup (src/stack/tcp.c, us_tcp_lookup()), on the virtual
 * clock.
 *
 * What the caches must never change is what the stack does: a segment
 * leaves by the route a fresh lookup would choose (RFC 1122 §3.3.1 for
 * IPv4, RFC 4861 §5.2 for IPv6: a route added or a default router
 * removed counts from the next segment on, and with no route left the
 * segment fails with ENETUNREACH), it is cut at the path MTU learned a
 * moment ago (RFC 1191 §3, RFC 8201 §4), and a segment reaches the
 * connection its 4-tuple names (RFC 9293 §3.10.7), whatever segment came
 * before it.
 *
 * Read first: tests/unit/harness.h. The stack is 198.51.100.2/24 and
 * 2001:db8:1::2/128 on one interface (MAC 02:00:00:00:00:02); the hosts
 * around it (the peer, gateways, routers) are played by the test, which
 * writes their frames by hand and reads the stack's off the test link.
 */
#include "harness.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <ustack/core.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"
#include "wire/wire.h"

#define STACK_IP 0xc6336402u /* 198.51.100.2 */
#define PEER_IP 0xc63364c8u  /* 198.51.100.200, MAC ...:c8 */
#define GW_IP 0xc6336401u    /* 198.51.100.1, MAC ...:01 */
#define PEER_MAC_LAST 0xc8
#define GW_MAC_LAST 0x01
#define R1_MAC_LAST 0x11
#define R2_MAC_LAST 0x12
#define PEER_PORT 5001
#define PEER_ISS 7000000u
#define T0 US_SEC(1)

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };

struct peer {
	struct us_test_link link;
	struct us_stack *s;
	us_time_t now;
	int seen; /* frames of link already read */
};

/* What the test reads of a frame the stack sent. */
struct out {
	uint8_t dst_mac_last; /* the last byte of the Ethernet destination */
	bool v4;
	uint32_t ip_len;      /* the IP datagram's length, header included */
	struct us_tcp_hdr h;
};

static void on_event(void *ctx, int events)
{
	(void)ctx;
	(void)events;
}

static struct us_ip6 ip6_last(uint8_t last)
{
	struct us_ip6 a = { .b = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 } };
	a.b[15] = last;
	return a;
}

static struct us_ip6 link_local(uint8_t last)
{
	struct us_ip6 a = { .b = { 0xfe, 0x80 } };
	a.b[15] = last;
	return a;
}

static uint64_t ctr(struct peer *p, const char *name)
{
	return us_stack_counter(p->s, name);
}

static struct peer *peer_new(void)
{
	static struct peer peer;
	struct peer *p = &peer;
	memset(p, 0, sizeof *p);
	p->now = T0;
	p->s = us_test_stack(&p->link, 1);
	struct us_ip6 me = ip6_last(2);
	ck_assert_int_eq(us_stack_add_ipv6(p->s, p->now, 0, &me, 128), 0);
	us_test_meet_ipv4(p->s, &p->link, p->now, PEER_IP, PEER_MAC_LAST);
	us_test_meet_ipv4(p->s, &p->link, p->now, GW_IP, GW_MAC_LAST);
	p->link.count = 0;
	return p;
}

static void peer_free(struct peer *p)
{
	us_test_stack_free(p->s);
}

/* Hands the stack an Ethernet frame from 02:00:00:00:00:<src_last>
 * carrying an IP packet (pkt, len bytes). */
static void put_frame(struct peer *p, uint8_t src_last, uint16_t ethertype, const uint8_t *dst_mac,
		      const uint8_t *pkt, size_t len)
{
	static uint8_t f[14 + 1500];
	struct us_eth_hdr eth = { .src = { 2, 0, 0, 0, 0, src_last }, .ethertype = ethertype };
	memcpy(eth.dst, dst_mac ? dst_mac : our_mac, 6);
	ck_assert_uint_le(len, sizeof f - 14);
	ck_assert_uint_eq(us_eth_emit(&eth, f, sizeof f), 14);
	memcpy(f + 14, pkt, len);
	us_stack_input(p->s, p->now, 0, f, 14 + len);
}

/* A TCP segment to the stack: over IPv4 from src4 (to STACK_IP) when
 * v4, else from src6 to 2001:db8:1::2; sent by the host with MAC last
 * byte mac_last. */
static void put_tcp(struct peer *p, bool v4, uint32_t src4, const struct us_ip6 *src6,
		    uint8_t mac_last, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
		    uint32_t ack, const uint8_t *opt, size_t optlen, const uint8_t *data, size_t len)
{
	static uint8_t pkt[1500];
	size_t iph = v4 ? 20 : 40;
	size_t n = 20 + optlen + len;
	struct us_ip6 dst6 = ip6_last(2);
	if (v4) {
		struct us_ipv4_hdr ip = { .id = 1, .ttl = 64, .proto = US_IPPROTO_TCP,
					  .src = src4, .dst = STACK_IP, .payload_len = n };
		ck_assert_uint_eq(us_ipv4_emit(&ip, pkt, sizeof pkt), 20);
	} else {
		struct us_ipv6_hdr ip = { .payload_len = (uint16_t)n, .next_header = US_IPPROTO_TCP,
					  .hop_limit = 64, .src = *src6, .dst = dst6 };
		ck_assert_uint_eq(us_ipv6_emit(&ip, pkt, sizeof pkt), 40);
	}
	uint8_t *tcp = pkt + iph;
	struct us_tcp_hdr h = { .sport = sport, .dport = dport, .seq = seq, .ack = ack,
				.flags = flags, .window = 65535 };
	ck_assert_uint_eq(us_tcp_emit(&h, tcp, sizeof pkt - iph), 20);
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4); /* Data Offset */
	if (optlen)
		memcpy(tcp + 20, opt, optlen);
	if (len)
		memcpy(tcp + 20 + optlen, data, len);
	uint32_t pseudo = v4 ? us_csum_pseudo4(src4, STACK_IP, US_IPPROTO_TCP, (uint32_t)n)
			     : us_csum_pseudo6(src6, &dst6, US_IPPROTO_TCP, (uint32_t)n);
	us_tcp_csum_fill(tcp, n, pseudo);
	put_frame(p, mac_last, v4 ? US_ETHERTYPE_IPV4 : US_ETHERTYPE_IPV6, NULL, pkt, iph + n);
}

/* The next frame the stack sent, if it is a TCP segment; false when there
 * is none. */
static bool next_out(struct peer *p, struct out *o)
{
	while (p->seen < p->link.count) {
		ck_assert_int_lt(p->seen, US_TEST_MAX_FRAMES);
		const uint8_t *f = p->link.frame[p->seen];
		size_t len = p->link.len[p->seen];
		p->seen++;
		struct us_eth_hdr eth;
		ck_assert_int_eq(us_eth_parse(f, len, &eth), US_WIRE_OK);
		memset(o, 0, sizeof *o);
		o->dst_mac_last = eth.dst[5];
		if (eth.ethertype == US_ETHERTYPE_IPV4) {
			struct us_ipv4_hdr ip;
			ck_assert_int_eq(us_ipv4_parse(eth.payload, eth.payload_len, &ip), US_WIRE_OK);
			if (ip.proto != US_IPPROTO_TCP)
				continue;
			o->v4 = true;
			o->ip_len = (uint32_t)(20 + ip.payload_len);
			ck_assert_int_eq(us_tcp_parse(ip.payload, ip.payload_len, &o->h), US_WIRE_OK);
			return true;
		}
		if (eth.ethertype == US_ETHERTYPE_IPV6) {
			struct us_ipv6_hdr ip;
			ck_assert_int_eq(us_ipv6_parse(eth.payload, eth.payload_len, &ip), US_WIRE_OK);
			if (ip.next_header != US_IPPROTO_TCP)
				continue;
			o->ip_len = (uint32_t)(40 + ip.payload_len);
			ck_assert_int_eq(us_tcp_parse(ip.payload, ip.payload_len, &o->h), US_WIRE_OK);
			return true;
		}
	}
	return false;
}

static void expect_nothing(struct peer *p)
{
	struct out o;
	if (next_out(p, &o))
		ck_abort_msg("unexpected segment: flags %#x to port %u", o.h.flags, o.h.dport);
}

/* One connection as the peer sees it. */
struct conn {
	struct us_tcp *t;
	bool v4;
	uint16_t sport; /* the stack's port */
	uint16_t port;  /* the peer's */
	uint32_t siss;  /* the stack's ISS */
	uint32_t rcv;   /* the peer's next sequence number, relative to PEER_ISS */
};

/* The stack opens a connection to the peer (IPv4: PEER_IP; IPv6:
 * 2001:db8:1::1 via whichever router the stack chooses) port port; the
 * peer answers with MSS 1460. Established; TCP_NODELAY on. */
static void connect_conn(struct peer *p, struct conn *c, bool v4, uint16_t port,
			 uint8_t mac_last)
{
	memset(c, 0, sizeof *c);
	c->v4 = v4;
	c->port = port;
	int err = 0;
	c->t = us_tcp_open(p->s, v4 ? US_AF_INET : US_AF_INET6, on_event, NULL, &err);
	ck_assert_ptr_nonnull(c->t);
	ck_assert_int_eq(us_tcp_setopt(c->t, US_OPT_NODELAY, 1), 0);
	struct us_addr to = { .family = v4 ? US_AF_INET : US_AF_INET6, .port = port };
	if (v4)
		to.ip4 = PEER_IP;
	else
		to.ip6 = ip6_last(1);
	ck_assert_int_eq(us_tcp_connect(c->t, p->now, &to), -EINPROGRESS);
	struct out syn;
	ck_assert(next_out(p, &syn));
	ck_assert_uint_eq(syn.h.flags, US_TCP_SYN);
	c->siss = syn.h.seq;
	c->sport = syn.h.sport;
	p->now += US_MSEC(1);
	uint8_t opt[4] = { 2, 4, 0x05, 0xb4 };
	struct us_ip6 src6 = ip6_last(1);
	put_tcp(p, v4, PEER_IP, &src6, mac_last, port, c->sport, US_TCP_SYN | US_TCP_ACK, PEER_ISS,
		c->siss + 1, opt, 4, NULL, 0);
	c->rcv = 1;
	struct out ack;
	ck_assert(next_out(p, &ack));
	ck_assert_uint_eq(ack.h.flags, US_TCP_ACK);
	ck_assert_int_eq(us_tcp_state(c->t), US_TCP_ESTABLISHED);
}

/* The stack sends n bytes on c; the next frame must carry them to the
 * host with MAC last byte mac_last. */
static void send_expect_via(struct peer *p, struct conn *c, size_t n, uint8_t mac_last)
{
	static uint8_t data[1000];
	ck_assert_uint_le(n, sizeof data);
	ck_assert_int_eq(us_tcp_send(c->t, p->now, data, n), (int)n);
	struct out o;
	ck_assert_msg(next_out(p, &o), "no segment left");
	ck_assert_uint_eq(o.h.payload_len, n);
	ck_assert_uint_eq(o.h.dport, c->port);
	ck_assert_msg(o.dst_mac_last == mac_last, "segment to MAC ...:%02x, expected ...:%02x",
		      o.dst_mac_last, mac_last);
}

/* ---- The route cache ------------------------------------------------------ */

/* RFC 1122 §3.3.1.1: the longest match decides. A /32 route through a
 * gateway, added while a connection to that host runs on the connected
 * route, takes the connection's next segment. */
START_TEST(a_route_added_mid_connection_takes_its_next_segment_to_the_gateway)
{
	struct peer *p = peer_new();
	struct conn c;
	connect_conn(p, &c, true, PEER_PORT, PEER_MAC_LAST);
	send_expect_via(p, &c, 100, PEER_MAC_LAST);
	ck_assert_int_eq(us_stack_add_route4(p->s, PEER_IP, 32, GW_IP, 0), 0);
	send_expect_via(p, &c, 100, GW_MAC_LAST);
	send_expect_via(p, &c, 100, GW_MAC_LAST);
	us_tcp_abort(c.t, p->now);
	peer_free(p);
}
END_TEST

/* An address that makes the peer's address our own: the route is gone
 * (a datagram to ourselves has no path: ip_output.c), and the next
 * segment fails as an uncached lookup fails, nothing on the wire. */
START_TEST(an_address_taking_the_peers_address_fails_the_next_segment_with_no_route)
{
	struct peer *p = peer_new();
	struct conn c;
	connect_conn(p, &c, true, PEER_PORT, PEER_MAC_LAST);
	send_expect_via(p, &c, 100, PEER_MAC_LAST);
	uint64_t no_route = ctr(p, "ip.out_no_route"), errors = ctr(p, "tcp.out_errors");
	ck_assert_int_eq(us_stack_add_ipv4(p->s, p->now, 0, PEER_IP, 32), 0);
	p->link.count = p->seen = 0; /* the gratuitous ARP for the new address */
	static const uint8_t data[100];
	ck_assert_int_eq(us_tcp_send(c.t, p->now, data, sizeof data), (int)sizeof data);
	expect_nothing(p);
	ck_assert_uint_eq(ctr(p, "ip.out_no_route"), no_route + 1);
	ck_assert_uint_eq(ctr(p, "tcp.out_errors"), errors + 1);
	us_tcp_abort(c.t, p->now);
	peer_free(p);
}
END_TEST

/* A Router Advertisement from fe80::<last> (MAC ...:<last>) with router
 * lifetime lifetime_s and the router's link-layer address. */
static void put_ra(struct peer *p, uint8_t last, uint16_t lifetime_s)
{
	uint8_t pkt[40 + 64];
	uint8_t *m = pkt + 40;
	struct us_ndp_ra ra = { .cur_hop_limit = 64, .router_lifetime_s = lifetime_s };
	size_t n = us_ndp_ra_emit(&ra, m, 64);
	uint8_t mac[6] = { 2, 0, 0, 0, 0, last };
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, mac, m + n, 64 - n);
	struct us_ip6 src = link_local(last), dst = { .b = { 0xff, 0x02 } };
	dst.b[15] = 1; /* ff02::1 */
	struct us_ipv6_hdr h = { .payload_len = (uint16_t)n, .next_header = US_IPPROTO_ICMPV6,
				 .hop_limit = 255, .src = src, .dst = dst };
	ck_assert_uint_eq(us_ipv6_emit(&h, pkt, sizeof pkt), 40);
	us_icmp6_csum_fill(m, n, us_csum_pseudo6(&src, &dst, US_IPPROTO_ICMPV6, (uint32_t)n));
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	put_frame(p, last, US_ETHERTYPE_IPV6, all_nodes_mac, pkt, 40 + n);
}

/* The stack learns n default routers (1: R1; 2: R1, then R2) from their
 * RAs (lifetime 1800 s); the frames sent so far are forgotten. */
static void meet_routers(struct peer *p, int n)
{
	put_ra(p, R1_MAC_LAST, 1800);
	if (n > 1)
		put_ra(p, R2_MAC_LAST, 1800);
	p->link.count = p->seen = 0;
}

/* RFC 4861 §6.3.4: an RA with Router Lifetime 0 times the router out at
 * once; §6.3.6 picks another from the Default Router List for the next
 * packet; with none left the destination is unreachable. */
START_TEST(a_default_router_removed_mid_connection_moves_it_to_the_other_then_fails)
{
	struct peer *p = peer_new();
	meet_routers(p, 2);
	struct conn c;
	connect_conn(p, &c, false, PEER_PORT, R1_MAC_LAST);
	send_expect_via(p, &c, 100, R1_MAC_LAST);
	p->now += US_MSEC(1);
	put_ra(p, R1_MAC_LAST, 0);
	send_expect_via(p, &c, 100, R2_MAC_LAST);
	put_ra(p, R2_MAC_LAST, 0);
	uint64_t no_route = ctr(p, "ip6.out_drop_no_route"), errors = ctr(p, "tcp.out_errors");
	static const uint8_t data[100];
	ck_assert_int_eq(us_tcp_send(c.t, p->now, data, sizeof data), (int)sizeof data);
	expect_nothing(p);
	ck_assert_uint_eq(ctr(p, "ip6.out_drop_no_route"), no_route + 1);
	ck_assert_uint_eq(ctr(p, "tcp.out_errors"), errors + 1);
	/* A router again: the retransmission finds its way. */
	put_ra(p, R2_MAC_LAST, 1800);
	p->now += US_SEC(2);
	us_stack_poll(p->s, p->now);
	struct out o;
	ck_assert(next_out(p, &o));
	ck_assert_uint_eq(o.dst_mac_last, R2_MAC_LAST);
	us_tcp_abort(c.t, p->now);
	peer_free(p);
}
END_TEST

/* RFC 4861 §5.2: a destination inside an on-link prefix is its own next
 * hop. A prefix announced on-link while a connection to a host inside it
 * runs through a router moves the connection's next segment off the
 * router: the stack resolves the host (a Neighbor Solicitation) and the
 * segment follows to the host's link-layer address. */
START_TEST(a_prefix_announced_on_link_mid_connection_takes_it_off_the_router)
{
	struct peer *p = peer_new();
	meet_routers(p, 1);
	struct conn c;
	connect_conn(p, &c, false, PEER_PORT, R1_MAC_LAST);
	send_expect_via(p, &c, 100, R1_MAC_LAST);
	/* The RA again, now with 2001:db8:1::/64 on-link (no SLAAC). */
	uint8_t pkt[40 + 96];
	uint8_t *m = pkt + 40;
	struct us_ndp_ra ra = { .cur_hop_limit = 64, .router_lifetime_s = 1800 };
	size_t n = us_ndp_ra_emit(&ra, m, 96);
	struct us_ndp_prefix pi = { .prefix_len = 64, .onlink = true, .valid_lifetime_s = 3600,
				    .preferred_lifetime_s = 3600, .prefix = ip6_last(0) };
	n += us_ndp_opt_prefix_emit(&pi, m + n, 96 - n);
	struct us_ip6 r1 = link_local(R1_MAC_LAST), all = { .b = { 0xff, 0x02, [15] = 1 } };
	struct us_ipv6_hdr h = { .payload_len = (uint16_t)n, .next_header = US_IPPROTO_ICMPV6,
				 .hop_limit = 255, .src = r1, .dst = all };
	ck_assert_uint_eq(us_ipv6_emit(&h, pkt, 40), 40);
	us_icmp6_csum_fill(m, n, us_csum_pseudo6(&r1, &all, US_IPPROTO_ICMPV6, (uint32_t)n));
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	put_frame(p, R1_MAC_LAST, US_ETHERTYPE_IPV6, all_nodes_mac, pkt, 40 + n);
	/* The next segment waits for the host's address: only an NS leaves. */
	static const uint8_t data[100];
	p->link.count = p->seen = 0;
	ck_assert_int_eq(us_tcp_send(c.t, p->now, data, sizeof data), (int)sizeof data);
	ck_assert_int_eq(p->link.count, 1);
	expect_nothing(p);
	ck_assert_uint_eq(ctr(p, "nd6.out_ns"), 1);
	/* The host answers (solicited, override, its MAC): the segment goes
	 * to it. */
	struct us_ndp_na na = { .solicited = true, .override = true, .target = ip6_last(1) };
	uint8_t mac[6] = { 2, 0, 0, 0, 0, PEER_MAC_LAST };
	n = us_ndp_na_emit(&na, m, 96);
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_TLLA, mac, m + n, 96 - n);
	struct us_ip6 peer6 = ip6_last(1), me = ip6_last(2);
	h = (struct us_ipv6_hdr){ .payload_len = (uint16_t)n, .next_header = US_IPPROTO_ICMPV6,
				  .hop_limit = 255, .src = peer6, .dst = me };
	ck_assert_uint_eq(us_ipv6_emit(&h, pkt, 40), 40);
	us_icmp6_csum_fill(m, n, us_csum_pseudo6(&peer6, &me, US_IPPROTO_ICMPV6, (uint32_t)n));
	put_frame(p, PEER_MAC_LAST, US_ETHERTYPE_IPV6, NULL, pkt, 40 + n);
	struct out o;
	ck_assert(next_out(p, &o));
	ck_assert_uint_eq(o.h.payload_len, sizeof data);
	ck_assert_uint_eq(o.dst_mac_last, PEER_MAC_LAST);
	send_expect_via(p, &c, 100, PEER_MAC_LAST);
	us_tcp_abort(c.t, p->now);
	peer_free(p);
}
END_TEST

/* The peer acknowledges everything c sent so far (ack relative to the
 * stack's ISS). */
static void ack_all(struct peer *p, struct conn *c, uint32_t ack, uint8_t mac_last)
{
	struct us_ip6 src6 = ip6_last(1);
	put_tcp(p, c->v4, PEER_IP, &src6, mac_last, c->port, c->sport, US_TCP_ACK,
		PEER_ISS + c->rcv, c->siss + ack, NULL, 0, NULL, 0);
}

/* Every data segment up to the next pure ACK (or the end): their payload
 * at most max_payload and their IP datagram at most max_ip bytes; the
 * first one's payload length is returned. */
static uint32_t expect_cut_at(struct peer *p, uint32_t max_payload, uint32_t max_ip, int *count)
{
	struct out o;
	uint32_t first = 0;
	*count = 0;
	while (next_out(p, &o)) {
		if (!o.h.payload_len)
			continue;
		ck_assert_msg(o.h.payload_len <= max_payload, "segment of %zu bytes, at most %u",
			      o.h.payload_len, max_payload);
		ck_assert_msg(o.ip_len <= max_ip, "datagram of %u bytes, at most %u", o.ip_len,
			      max_ip);
		if (!*count)
			first = (uint32_t)o.h.payload_len;
		(*count)++;
	}
	return first;
}

/* RFC 1191 §3 with RFC 9293 §3.7.2: after "fragmentation needed" with a
 * next-hop MTU of 1000, what is resent and what is new leaves in
 * segments that fit 1000 bytes. */
START_TEST(after_fragmentation_needed_segments_are_cut_at_the_new_path_mtu)
{
	struct peer *p = peer_new();
	struct conn c;
	connect_conn(p, &c, true, PEER_PORT, PEER_MAC_LAST);
	static uint8_t data[4000];
	ck_assert_int_eq(us_tcp_send(c.t, p->now, data, sizeof data), (int)sizeof data);
	int n;
	ck_assert_uint_eq(expect_cut_at(p, 1460, 1500, &n), 1460);
	ck_assert_int_eq(n, 3);
	/* The router says: 1000. The quoted segment is the first in flight. */
	uint8_t pkt[20 + 8 + 20 + 8];
	uint8_t *msg = pkt + 20;
	memset(msg, 0, 36);
	msg[0] = US_ICMP4_DEST_UNREACH;
	msg[1] = US_ICMP4_UNREACH_FRAG_NEEDED;
	us_put_be16(msg + 6, 1000);
	struct us_ipv4_hdr q = { .id = 1, .df = true, .ttl = 64, .proto = US_IPPROTO_TCP,
				 .src = STACK_IP, .dst = PEER_IP, .payload_len = 1480 };
	ck_assert_uint_eq(us_ipv4_emit(&q, msg + 8, 20), 20);
	us_put_be16(msg + 28, c.sport);
	us_put_be16(msg + 30, c.port);
	us_put_be32(msg + 32, c.siss + 1);
	us_csum_fill(msg, 36, 2, 0);
	struct us_ipv4_hdr ip = { .id = 2, .ttl = 64, .proto = US_IPPROTO_ICMP, .src = GW_IP,
				  .dst = STACK_IP, .payload_len = 36 };
	ck_assert_uint_eq(us_ipv4_emit(&ip, pkt, 20), 20);
	p->now += US_MSEC(1);
	put_frame(p, GW_MAC_LAST, US_ETHERTYPE_IPV4, NULL, pkt, sizeof pkt);
	ck_assert_uint_eq(ctr(p, "ip.pmtu_learned"), 1);
	/* Resent from SND.UNA, cut at 1000 - 40. */
	ck_assert_uint_eq(expect_cut_at(p, 960, 1000, &n), 960);
	ck_assert_int_ge(n, 1);
	/* New data after the window moves: cut the same way. */
	ack_all(p, &c, 1 + 4000, PEER_MAC_LAST);
	ck_assert_int_eq(us_tcp_send(c.t, p->now, data, 2000), 2000);
	ck_assert_uint_eq(expect_cut_at(p, 960, 1000, &n), 960);
	ck_assert_int_eq(n, 3);
	us_tcp_abort(c.t, p->now);
	peer_free(p);
}
END_TEST

/* RFC 8201 §4: "Packet Too Big" lowers the path MTU of the destination;
 * the connection's segments fit it from then on. */
START_TEST(after_packet_too_big_ipv6_segments_are_cut_at_the_new_path_mtu)
{
	struct peer *p = peer_new();
	meet_routers(p, 1);
	struct conn c;
	connect_conn(p, &c, false, PEER_PORT, R1_MAC_LAST);
	static uint8_t data[3000];
	ck_assert_int_eq(us_tcp_send(c.t, p->now, data, sizeof data), (int)sizeof data);
	int n;
	ck_assert_uint_eq(expect_cut_at(p, 1440, 1500, &n), 1440);
	/* Packet Too Big from the router, MTU 1280, quoting our first segment. */
	uint8_t pkt[40 + 8 + 40 + 8];
	uint8_t *msg = pkt + 40;
	memset(msg, 0, 56);
	msg[0] = US_ICMP6_PACKET_TOO_BIG;
	us_put_be32(msg + 4, 1280);
	struct us_ip6 me = ip6_last(2), peer6 = ip6_last(1), r1 = link_local(R1_MAC_LAST);
	struct us_ipv6_hdr q = { .payload_len = 1460, .next_header = US_IPPROTO_TCP,
				 .hop_limit = 64, .src = me, .dst = peer6 };
	ck_assert_uint_eq(us_ipv6_emit(&q, msg + 8, 40), 40);
	us_put_be16(msg + 48, c.sport);
	us_put_be16(msg + 50, c.port);
	us_put_be32(msg + 52, c.siss + 1);
	us_icmp6_csum_fill(msg, 56, us_csum_pseudo6(&r1, &me, US_IPPROTO_ICMPV6, 56));
	struct us_ipv6_hdr ip = { .payload_len = 56, .next_header = US_IPPROTO_ICMPV6,
				  .hop_limit = 64, .src = r1, .dst = me };
	ck_assert_uint_eq(us_ipv6_emit(&ip, pkt, 40), 40);
	p->now += US_MSEC(1);
	put_frame(p, R1_MAC_LAST, US_ETHERTYPE_IPV6, NULL, pkt, sizeof pkt);
	ck_assert_uint_eq(ctr(p, "ip6.pmtu_updates"), 1);
	ck_assert_uint_eq(expect_cut_at(p, 1220, 1280, &n), 1220);
	ck_assert_int_ge(n, 1);
	ack_all(p, &c, 1 + 3000, R1_MAC_LAST);
	ck_assert_int_eq(us_tcp_send(c.t, p->now, data, 2000), 2000);
	ck_assert_uint_eq(expect_cut_at(p, 1220, 1280, &n), 1220);
	ck_assert_int_eq(n, 2);
	us_tcp_abort(c.t, p->now);
	peer_free(p);
}
END_TEST

/* ---- The last-hit cache of the connection lookup ---------------------------- */

/* The peer sends len bytes (each byte = tag) on c. */
static void put_data(struct peer *p, struct conn *c, uint8_t tag, size_t len)
{
	uint8_t d[200];
	ck_assert_uint_le(len, sizeof d);
	memset(d, tag, len);
	struct us_ip6 src6 = ip6_last(1);
	put_tcp(p, c->v4, PEER_IP, &src6, PEER_MAC_LAST, c->port, c->sport, US_TCP_ACK | US_TCP_PSH,
		PEER_ISS + c->rcv, c->siss + 1, NULL, 0, d, len);
	c->rcv += (uint32_t)len;
}

/* c's user reads exactly len bytes, each = tag. */
static void expect_read(struct peer *p, struct conn *c, uint8_t tag, size_t len)
{
	uint8_t d[400];
	int n = us_tcp_recv(c->t, p->now, d, sizeof d);
	ck_assert_int_eq(n, (int)len);
	for (int i = 0; i < n; i++)
		ck_assert_msg(d[i] == tag, "byte %d is %#x, expected %#x", i, d[i], tag);
}

/* Segments of two connections, alternating and in runs, each reach its
 * own connection: the last hit is compared by the whole tuple. The two
 * differ in the peer's port only. */
START_TEST(segments_of_two_connections_alternating_each_reach_their_own)
{
	struct peer *p = peer_new();
	struct conn a, b;
	connect_conn(p, &a, true, PEER_PORT, PEER_MAC_LAST);
	connect_conn(p, &b, true, PEER_PORT + 1, PEER_MAC_LAST);
	static const int order[] = { 0, 1, 0, 1, 1, 1, 0, 0, 1, 0 };
	for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++) {
		struct conn *c = order[i] ? &b : &a;
		put_data(p, c, (uint8_t)(0xa0 + order[i]), 10);
	}
	expect_read(p, &a, 0xa0, 50);
	expect_read(p, &b, 0xa1, 50);
	us_tcp_abort(a.t, p->now);
	us_tcp_abort(b.t, p->now);
	peer_free(p);
}
END_TEST

/* A server connection: the peer at PEER_IP:port connects to the stack's
 * listener l; the child is accepted. */
static void accept_conn(struct peer *p, struct us_tcp *l, struct conn *c, uint16_t port,
			uint16_t lport)
{
	memset(c, 0, sizeof *c);
	c->v4 = true;
	c->port = port;
	c->sport = lport;
	uint8_t opt[4] = { 2, 4, 0x05, 0xb4 };
	put_tcp(p, true, PEER_IP, NULL, PEER_MAC_LAST, port, lport, US_TCP_SYN, PEER_ISS, 0, opt,
		4, NULL, 0);
	struct out sa;
	ck_assert(next_out(p, &sa));
	ck_assert_uint_eq(sa.h.flags, US_TCP_SYN | US_TCP_ACK);
	ck_assert_uint_eq(sa.h.dport, port);
	c->siss = sa.h.seq;
	c->rcv = 1;
	put_tcp(p, true, PEER_IP, NULL, PEER_MAC_LAST, port, lport, US_TCP_ACK, PEER_ISS + 1,
		c->siss + 1, NULL, 0, NULL, 0);
	int err = 0;
	c->t = us_tcp_accept(l, on_event, NULL, NULL, &err);
	ck_assert_ptr_nonnull(c->t);
	ck_assert_int_eq(us_tcp_state(c->t), US_TCP_ESTABLISHED);
}

static struct us_tcp *listen_on(struct peer *p, uint16_t port)
{
	int err = 0;
	struct us_tcp *l = us_tcp_open(p->s, US_AF_INET, on_event, NULL, &err);
	ck_assert_ptr_nonnull(l);
	struct us_addr at = { .family = US_AF_INET, .port = port };
	ck_assert_int_eq(us_tcp_bind(l, &at), 0);
	ck_assert_int_eq(us_tcp_listen(l, p->now, 8), 0);
	return l;
}

/* A connection reset by the peer leaves the table (its TCB stays, CLOSED,
 * until its user closes it); a new connection on the same 4-tuple gets
 * the segments, never the old TCB. */
START_TEST(a_new_connection_on_the_tuple_of_a_reset_one_gets_its_segments)
{
	struct peer *p = peer_new();
	struct us_tcp *l = listen_on(p, 80);
	struct conn old, c;
	accept_conn(p, l, &old, 40000, 80);
	put_data(p, &old, 0x11, 10); /* the old one is the last hit */
	put_tcp(p, true, PEER_IP, NULL, PEER_MAC_LAST, 40000, 80, US_TCP_RST, PEER_ISS + old.rcv, 0,
		NULL, 0, NULL, 0);
	ck_assert_int_eq(us_tcp_state(old.t), US_TCP_CLOSED);
	p->seen = p->link.count;
	p->now += US_SEC(1);
	accept_conn(p, l, &c, 40000, 80);
	put_data(p, &c, 0x22, 20);
	expect_read(p, &c, 0x22, 20);
	ck_assert_int_eq(us_tcp_state(old.t), US_TCP_CLOSED);
	us_tcp_close(old.t, p->now);
	us_tcp_abort(c.t, p->now);
	us_tcp_close(l, p->now);
	peer_free(p);
}
END_TEST

/* A listener and established connections on one port: a SYN from a new
 * peer port reaches the listener right after a segment of an established
 * connection, and the established one's segments right after it reach the
 * connection (a listener never shadows it, nor it the listener). */
START_TEST(a_listener_and_an_established_connection_on_one_port_each_get_theirs)
{
	struct peer *p = peer_new();
	struct us_tcp *l = listen_on(p, 80);
	struct conn a, b;
	accept_conn(p, l, &a, 40000, 80);
	put_data(p, &a, 0x31, 10);
	accept_conn(p, l, &b, 40001, 80); /* the SYN just after a's data */
	put_data(p, &a, 0x31, 10);
	put_data(p, &b, 0x32, 10);
	put_data(p, &a, 0x31, 10);
	expect_read(p, &a, 0x31, 30);
	expect_read(p, &b, 0x32, 10);
	us_tcp_abort(a.t, p->now);
	us_tcp_abort(b.t, p->now);
	us_tcp_close(l, p->now);
	peer_free(p);
}
END_TEST

/* TIME_WAIT is still found, between segments of another connection: a
 * retransmitted FIN is acknowledged again (RFC 9293 §3.10.7.4, TIME-WAIT:
 * "The only thing that can arrive in this state is a retransmission of
 * the remote FIN. Acknowledge it"). */
START_TEST(a_connection_in_time_wait_is_found_between_segments_of_another)
{
	struct peer *p = peer_new();
	struct conn a, b;
	connect_conn(p, &a, true, PEER_PORT, PEER_MAC_LAST);
	connect_conn(p, &b, true, PEER_PORT + 1, PEER_MAC_LAST);
	/* a closes actively: FIN, the peer's ACK and FIN: TIME_WAIT. */
	struct us_tcp *t = a.t;
	us_tcp_close(t, p->now);
	struct out fin;
	ck_assert(next_out(p, &fin));
	ck_assert_uint_eq(fin.h.flags & US_TCP_FIN, US_TCP_FIN);
	put_tcp(p, true, PEER_IP, NULL, PEER_MAC_LAST, a.port, a.sport, US_TCP_ACK | US_TCP_FIN,
		PEER_ISS + a.rcv, a.siss + 2, NULL, 0, NULL, 0);
	struct out ack;
	ck_assert(next_out(p, &ack));
	ck_assert_uint_eq(ack.h.ack, PEER_ISS + a.rcv + 1);
	put_data(p, &b, 0x41, 10); /* b is the last hit */
	p->seen = p->link.count;
	put_tcp(p, true, PEER_IP, NULL, PEER_MAC_LAST, a.port, a.sport, US_TCP_ACK | US_TCP_FIN,
		PEER_ISS + a.rcv, a.siss + 2, NULL, 0, NULL, 0);
	ck_assert(next_out(p, &ack));
	ck_assert_uint_eq(ack.h.dport, a.port);
	ck_assert_uint_eq(ack.h.flags, US_TCP_ACK);
	ck_assert_uint_eq(ack.h.ack, PEER_ISS + a.rcv + 1);
	put_data(p, &b, 0x41, 10);
	expect_read(p, &b, 0x41, 20);
	us_tcp_abort(b.t, p->now);
	peer_free(p);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("tcp_route_cache");
	TCase *tc = tcase_create("route");
	tcase_add_test(tc, a_route_added_mid_connection_takes_its_next_segment_to_the_gateway);
	tcase_add_test(tc, an_address_taking_the_peers_address_fails_the_next_segment_with_no_route);
	tcase_add_test(tc, a_default_router_removed_mid_connection_moves_it_to_the_other_then_fails);
	tcase_add_test(tc, a_prefix_announced_on_link_mid_connection_takes_it_off_the_router);
	tcase_add_test(tc, after_fragmentation_needed_segments_are_cut_at_the_new_path_mtu);
	tcase_add_test(tc, after_packet_too_big_ipv6_segments_are_cut_at_the_new_path_mtu);
	suite_add_tcase(s, tc);
	tc = tcase_create("lookup");
	tcase_add_test(tc, segments_of_two_connections_alternating_each_reach_their_own);
	tcase_add_test(tc, a_new_connection_on_the_tuple_of_a_reset_one_gets_its_segments);
	tcase_add_test(tc, a_listener_and_an_established_connection_on_one_port_each_get_theirs);
	tcase_add_test(tc, a_connection_in_time_wait_is_found_between_segments_of_another);
	suite_add_tcase(s, tc);
	return s;
}

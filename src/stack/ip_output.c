/* SPDX-License-Identifier: MIT */
/*
 * ip_output.c - IPv4 routing and output: the route table (RFC 1122 §3.3.1),
 * the Identification field (RFC 791 §3.2, RFC 6864 §4, RFC 7739 §5),
 * fragmentation (RFC 791 §3.2 "Fragmentation and Reassembly") and the path
 * MTU cache (RFC 1191).
 *
 * Read first: ip.h (the state this file keeps), then wire/ipv4.h (the header
 * us_ipv4_emit() writes). The way out is us_ip_output() -> route ->
 * fragment -> us_arp_output() (arp.c) -> us_eth_output() (stack.c).
 *
 * Routes. Connected routes are implied by the interfaces' addresses (an
 * address a/n makes a/n on-link) and are not stored; us_stack_add_route4()
 * adds gateway routes (a default route is 0.0.0.0/0) and on-link routes
 * (gateway 0). The lookup is the longest prefix match over both; on a tie a
 * connected route wins, as Linux's lower metric for it does.
 *
 * Not implemented: a loopback path. A datagram to one of our own addresses
 * (or to 127/8) is refused with -ENETUNREACH rather than put on the wire.
 */
#include "ip.h"

#include "stack.h"

#include <errno.h>
#include <string.h>

#include "arp.h"
#include "rand.h"
#include "wire/bytes.h"
#include "wire/ipv4.h"

static uint32_t prefix_mask(int prefix_len)
{
	return prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
}

static bool prefix_match(uint32_t addr, uint32_t net, int prefix_len)
{
	return ((addr ^ net) & prefix_mask(prefix_len)) == 0;
}

bool us_ip_is_subnet_broadcast(const struct us_iface *ifc, uint32_t addr)
{
	for (int i = 0; i < US_MAX_ADDR4; i++) {
		const struct us_addr4 *a = &ifc->addr4[i];
		/* RFC 3021: a /31 has no broadcast address; a /32 no subnet. */
		if (!a->used || a->prefix_len > 30)
			continue;
		uint32_t mask = prefix_mask(a->prefix_len);
		if (prefix_match(addr, a->addr, a->prefix_len) && (addr | mask) == 0xffffffffu)
			return true;
	}
	return false;
}

bool us_ip_is_group(const struct us_stack *s, uint32_t addr)
{
	if (us_ipv4_is_limited_broadcast(addr) || us_ipv4_is_multicast(addr))
		return true;
	for (int i = 0; i < s->n_iface; i++)
		if (us_ip_is_subnet_broadcast(&s->iface[i], addr))
			return true;
	return false;
}

bool us_ip_is_local(const struct us_stack *s, uint32_t addr)
{
	for (int i = 0; i < s->n_iface; i++)
		if (us_iface_has_ip4(&s->iface[i], addr))
			return true;
	return false;
}

void us_ip_init(struct us_stack *s)
{
	struct us_ip_state *st = &s->ip;
	memset(st, 0, sizeof *st);
	/* RFC 7739 §5.3 (double-hash IDs): each counter starts at a value
	 * keyed by the secret, so the first ID towards a destination says
	 * nothing about the stack's past traffic or start time. */
	for (uint32_t i = 0; i < US_IP_ID_BUCKETS; i++) {
		uint8_t in[5] = { 'i', 'd', 'c', 't', (uint8_t)i };
		st->id_next[i] = (uint16_t)us_siphash(s->cfg.secret, in, sizeof in);
	}
	us_icmp_init(s);
}

/* ---- Routes -------------------------------------------------------------- */

/* The interface's address on the subnet of addr, else its first address,
 * else 0 (RFC 1122 §3.3.4.3: the source is one of the addresses of the
 * interface the datagram leaves by). */
static uint32_t source_for(const struct us_iface *ifc, uint32_t addr)
{
	uint32_t first = 0;
	for (int i = 0; i < US_MAX_ADDR4; i++) {
		const struct us_addr4 *a = &ifc->addr4[i];
		if (!a->used)
			continue;
		if (prefix_match(addr, a->addr, a->prefix_len))
			return a->addr;
		if (!first)
			first = a->addr;
	}
	return first;
}

/* True when gw may be a next hop on ifc: inside one of its subnets, and
 * neither our own address, the subnet's broadcast, nor a martian. */
static bool gateway_on_link(const struct us_iface *ifc, uint32_t gw)
{
	if (us_ipv4_is_martian_src(gw) || us_iface_has_ip4(ifc, gw) ||
	    us_ip_is_subnet_broadcast(ifc, gw))
		return false;
	for (int i = 0; i < US_MAX_ADDR4; i++) {
		const struct us_addr4 *a = &ifc->addr4[i];
		if (a->used && a->prefix_len < 32 && prefix_match(gw, a->addr, a->prefix_len))
			return true;
	}
	return false;
}

int us_stack_add_route4(struct us_stack *s, uint32_t dst, int prefix_len, uint32_t gateway,
			int ifindex)
{
	if (!s || prefix_len < 0 || prefix_len > 32)
		return -EINVAL;
	if (dst & ~prefix_mask(prefix_len))
		return -EINVAL; /* host bits set: "10.1.2.3/8" is a typo, not a route */
	struct us_iface *ifc = us_iface_get(s, ifindex);
	if (!ifc)
		return -ENODEV;
	/* RFC 1122 §3.3.1.1: what is not on a connected network is sent to
	 * a gateway that is. */
	if (gateway && !gateway_on_link(ifc, gateway))
		return -EINVAL;
	struct us_ip_route4 *slot = NULL;
	for (int i = 0; i < US_IP_MAX_ROUTES; i++) {
		struct us_ip_route4 *r = &s->ip.routes[i];
		if (r->used && r->dst == dst && r->prefix_len == prefix_len)
			return -EEXIST;
		if (!r->used && !slot)
			slot = r;
	}
	if (!slot)
		return -ENOSPC;
	*slot = (struct us_ip_route4){ .used = true, .prefix_len = (uint8_t)prefix_len, .dst = dst,
				       .gateway = gateway, .ifindex = ifindex };
	us_routes_changed(s);
	return 0;
}

struct route_choice {
	struct us_iface *ifc;
	uint32_t next_hop;
	uint32_t src;
};

/*
 * RFC 1122 §3.3.1: a host sends to a destination on a connected network
 * directly and everything else to a gateway. Longest prefix match over the
 * connected subnets and the route table; ifindex >= 0 restricts the search
 * to one interface.
 */
static bool lookup(struct us_stack *s, uint32_t dst, int ifindex, struct route_choice *out)
{
	int best = -1;
	for (int i = 0; i < s->n_iface; i++) {
		struct us_iface *ifc = &s->iface[i];
		if (ifindex >= 0 && ifc->index != ifindex)
			continue;
		for (int j = 0; j < US_MAX_ADDR4; j++) {
			const struct us_addr4 *a = &ifc->addr4[j];
			if (!a->used || a->prefix_len <= best ||
			    !prefix_match(dst, a->addr, a->prefix_len))
				continue;
			best = a->prefix_len;
			*out = (struct route_choice){ .ifc = ifc, .next_hop = dst, .src = a->addr };
		}
	}
	for (int i = 0; i < US_IP_MAX_ROUTES; i++) {
		const struct us_ip_route4 *r = &s->ip.routes[i];
		if (!r->used || r->prefix_len <= best || (ifindex >= 0 && r->ifindex != ifindex))
			continue;
		if (!prefix_match(dst, r->dst, r->prefix_len))
			continue;
		struct us_iface *ifc = us_iface_get(s, r->ifindex);
		if (!ifc)
			continue;
		uint32_t hop = r->gateway ? r->gateway : dst;
		best = r->prefix_len;
		*out = (struct route_choice){ .ifc = ifc, .next_hop = hop,
					      .src = source_for(ifc, hop) };
	}
	return best >= 0;
}

int us_ip_route(struct us_stack *s, uint32_t dst, struct us_iface **ifc, uint32_t *next_hop,
		uint32_t *src)
{
	struct route_choice c;
	if (!s || us_ipv4_is_zero_net(dst) || us_ipv4_is_loopback(dst) ||
	    us_ipv4_is_limited_broadcast(dst) || us_ip_is_local(s, dst) || !lookup(s, dst, -1, &c))
		return -ENETUNREACH;
	if (ifc)
		*ifc = c.ifc;
	if (next_hop)
		*next_hop = c.next_hop;
	if (src)
		*src = c.src;
	return 0;
}

/* ---- Path MTU (RFC 1191) -------------------------------------------------- */

static struct us_ip_pmtu_entry *pmtu_find(struct us_stack *s, uint32_t dst)
{
	for (int i = 0; i < US_IP_PMTU_ENTRIES; i++) {
		struct us_ip_pmtu_entry *e = &s->ip.pmtu[i];
		/* An entry past its expiry is gone even before us_ip_poll() runs. */
		if (e->used && e->dst == dst && e->expires > s->now)
			return e;
	}
	return NULL;
}

static uint32_t path_mtu(struct us_stack *s, const struct us_iface *ifc, uint32_t dst)
{
	const struct us_ip_pmtu_entry *e = pmtu_find(s, dst);
	return e && e->mtu < ifc->mtu ? e->mtu : ifc->mtu;
}

uint32_t us_ip_pmtu(struct us_stack *s, uint32_t dst)
{
	struct us_iface *ifc;
	if (us_ip_route(s, dst, &ifc, NULL, NULL) < 0)
		return US_IP_PMTU_MIN;
	return path_mtu(s, ifc, dst);
}

/*
 * RFC 1191 §3: "When a host receives a Datagram Too Big message, it MUST
 * reduce its estimate of the PMTU for the relevant path". The estimate is
 * only ever lowered by a message (RFC 8201 §4 spells out the MUST NOT
 * increase for IPv6; the same care here) and raised only by expiry.
 *
 * Floor: 576, not RFC 791's 68. An attacker who can forge "fragmentation
 * needed, MTU 68" would otherwise make us send tiny fragments (the PMTUD
 * attack of RFC 5927, "ICMP Attacks against TCP"). Linux clamps at its
 * min_pmtu, 552, and then clears DF; we clamp at 576, which RFC 791 §3.2
 * requires every destination to take, and also clear DF for that
 * destination (the entry is "locked"), so a real path below 576 still works
 * through router fragmentation.
 */
bool us_ip_pmtu_learn(struct us_stack *s, uint32_t dst, uint32_t mtu)
{
	struct us_iface *ifc;
	if (us_ip_route(s, dst, &ifc, NULL, NULL) < 0)
		return false;
	bool locked = false;
	if (mtu < US_IP_PMTU_MIN) {
		mtu = US_IP_PMTU_MIN;
		locked = true;
	}
	uint32_t cur = path_mtu(s, ifc, dst);
	struct us_ip_pmtu_entry *e = pmtu_find(s, dst);
	if (mtu > cur || (mtu == cur && (!locked || (e && e->locked))))
		return false;
	for (int i = 0; !e && i < US_IP_PMTU_ENTRIES; i++)
		if (!s->ip.pmtu[i].used || s->ip.pmtu[i].expires <= s->now)
			e = &s->ip.pmtu[i];
	/* Full: the entry that would expire first makes room (it is the one
	 * learned longest ago). */
	if (!e) {
		e = &s->ip.pmtu[0];
		for (int i = 1; i < US_IP_PMTU_ENTRIES; i++)
			if (s->ip.pmtu[i].expires < e->expires)
				e = &s->ip.pmtu[i];
	}
	*e = (struct us_ip_pmtu_entry){ .used = true, .locked = locked, .dst = dst, .mtu = mtu,
					.expires = s->now + US_IP_PMTU_EXPIRY };
	us_routes_changed(s);
	us_count(s, US_CTR_IP_PMTU_LEARNED);
	return true;
}

void us_ip_poll(struct us_stack *s)
{
	for (int i = 0; i < US_IP_PMTU_ENTRIES; i++) {
		struct us_ip_pmtu_entry *e = &s->ip.pmtu[i];
		if (e->used && e->expires <= s->now) {
			e->used = false;
			us_routes_changed(s);
			us_count(s, US_CTR_IP_PMTU_EXPIRED);
		}
	}
}

us_time_t us_ip_next_deadline(const struct us_stack *s)
{
	us_time_t t = US_TIME_NEVER;
	for (int i = 0; i < US_IP_PMTU_ENTRIES; i++)
		if (s->ip.pmtu[i].used && s->ip.pmtu[i].expires < t)
			t = s->ip.pmtu[i].expires;
	return t;
}

/* ---- Identification ------------------------------------------------------- */

/*
 * RFC 791 §3.2: the ID must be unique for the (source, destination,
 * protocol) tuple while the datagram may be alive. RFC 6864 §4.1 lets the
 * ID of an atomic datagram (DF set, not a fragment) be anything, and RFC
 * 7739 §3 (written for IPv6; IPv4 has the same problem in 16 bits) warns
 * against a global counter: it leaks the host's traffic rate and lets an
 * off-path attacker predict IDs (fragment injection, idle scans). So, as
 * RFC 7739 §5.3's double-hash algorithm: the tuple, hashed with SipHash
 * under the stack's secret, picks one of US_IP_ID_BUCKETS counters and an
 * offset; the ID is counter + offset, and the counter steps by one. IDs to
 * one destination are sequential (no early reuse), IDs to different
 * destinations unrelated, and none can be predicted without the secret.
 *
 * Choice: DF datagrams get an ID from the same counter rather than 0. RFC
 * 6864 §4.1 allows either; a real ID keeps the datagram safe if a
 * middlebox clears DF and fragments it anyway, and costs nothing.
 */
/* The tuple's counter and offset: the keyed hash, which a path
 * (us_ip_path()) keeps so that its datagrams need not hash again. */
static void id_key(struct us_stack *s, uint32_t src, uint32_t dst, uint8_t proto,
		   uint8_t *bucket, uint16_t *offset)
{
	uint8_t in[11] = { 'i', 'd' };
	us_put_be32(in + 2, src);
	us_put_be32(in + 6, dst);
	in[10] = proto;
	uint64_t h = us_siphash(s->cfg.secret, in, sizeof in);
	*bucket = (uint8_t)(h % US_IP_ID_BUCKETS);
	*offset = (uint16_t)(h >> 48);
}

/* count IDs in a row, the first returned: a TSO super-frame of count
 * segments takes one each, as the link numbers its segments ID, ID+1, ...
 * (Linux's TSO without SKB_GSO_TCP_FIXEDID). */
static uint16_t take_ids(struct us_stack *s, uint8_t bucket, uint16_t offset, uint16_t count)
{
	uint16_t *ctr = &s->ip.id_next[bucket];
	uint16_t id = (uint16_t)(*ctr + offset);
	*ctr = (uint16_t)(*ctr + count);
	return id;
}

uint16_t us_ip_next_id(struct us_stack *s, uint32_t src, uint32_t dst, uint8_t proto)
{
	uint8_t bucket;
	uint16_t offset;
	id_key(s, src, dst, proto, &bucket, &offset);
	return take_ids(s, bucket, offset, 1);
}

/* The segments a TCP super-frame b (TCP header first) becomes. */
static uint16_t gso_segments(const struct us_pbuf *b)
{
	const uint8_t *p = us_pbuf_data(b);
	uint32_t thl = b->len > 12 ? (uint32_t)(p[12] >> 4) * 4 : 0;
	uint32_t data = b->len > thl ? b->len - thl : 0;
	uint32_t n = b->gso_size ? (data + b->gso_size - 1) / b->gso_size : 1;
	return (uint16_t)(n ? n : 1);
}

/* ---- Output --------------------------------------------------------------- */

static int out_drop(struct us_stack *s, struct us_pbuf *b, enum us_counter_id id, int err)
{
	us_count(s, id);
	us_pbuf_free(&s->pool, b);
	return err;
}

/* Where a datagram goes: an explicit interface for limited broadcast and
 * multicast, the route table for everything else. */
static int choose_path(struct us_stack *s, const struct us_ip_tx *tx, struct route_choice *c)
{
	uint32_t dst = tx->dst;
	if (us_ipv4_is_zero_net(dst) || us_ipv4_is_loopback(dst) || us_ip_is_local(s, dst))
		return -ENETUNREACH;
	if (us_ipv4_is_limited_broadcast(dst) || us_ipv4_is_multicast(dst)) {
		struct us_iface *ifc = NULL;
		if (tx->ifindex >= 0) {
			ifc = us_iface_get(s, tx->ifindex);
		} else if (us_ipv4_is_multicast(dst) && lookup(s, dst, -1, c)) {
			ifc = c->ifc;
		}
		/* 255.255.255.255 leaves by no route (RFC 1122 §3.2.1.3 (c): it
		 * is never forwarded beyond the connected network): the caller
		 * names the interface. */
		if (!ifc)
			return -ENETUNREACH;
		*c = (struct route_choice){ .ifc = ifc, .next_hop = dst,
					    .src = source_for(ifc, dst) };
		return 0;
	}
	return lookup(s, dst, tx->ifindex, c) ? 0 : -ENETUNREACH;
}

static bool pmtu_locked(struct us_stack *s, uint32_t dst)
{
	const struct us_ip_pmtu_entry *e = pmtu_find(s, dst);
	return e && e->locked;
}

/*
 * RFC 791 §3.2 "Fragmentation": every fragment carries a copy of the
 * header; its data is a multiple of 8 octets except in the last one; the
 * Fragment Offset counts 8-octet units; MF is set on all but the last. The
 * payload may be one 64 KB buffer: each fragment gets a buffer of its own
 * from the pool and a copy of its slice.
 */
static int fragment(struct us_stack *s, const struct route_choice *c, struct us_ipv4_hdr *h,
		    struct us_pbuf *b, uint32_t mtu)
{
	const uint8_t *p = us_pbuf_data(b);
	uint32_t left = b->len, off = 0;
	uint32_t per = (mtu - US_IPV4_HDR_LEN) & ~7u;
	int rc = 0;
	us_count(s, US_CTR_IP_OUT_FRAGMENTED);
	while (left) {
		uint32_t n = left < per ? left : per;
		struct us_pbuf *f = us_stack_alloc(s, n);
		if (!f) {
			us_count(s, US_CTR_IP_OUT_NO_BUFFER);
			rc = -ENOBUFS;
			break;
		}
		memcpy(us_pbuf_data(f), p + off, n);
		h->frag_offset = (uint16_t)off;
		h->mf = left > n;
		h->payload_len = n;
		uint8_t *hp = us_pbuf_push(f, US_IPV4_HDR_LEN);
		if (!hp || us_ipv4_emit(h, hp, US_IPV4_HDR_LEN) != US_IPV4_HDR_LEN) {
			us_pbuf_free(&s->pool, f);
			us_count(s, US_CTR_IP_OUT_NO_BUFFER);
			rc = -ENOBUFS;
			break;
		}
		us_count(s, US_CTR_IP_OUT_FRAGMENTS);
		rc = us_arp_output(s, c->ifc, c->next_hop, f);
		if (rc < 0)
			break;
		off += n;
		left -= n;
	}
	us_pbuf_free(&s->pool, b);
	return rc;
}

/* The datagram of b (its route chosen: c; the path MTU, whether its
 * entry is locked, the Identification counter and offset) onto the link. */
static int output_on(struct us_stack *s, struct us_pbuf *b, const struct us_ip_tx *tx,
		     const struct route_choice *c, uint32_t mtu, bool locked, uint8_t id_bucket,
		     uint16_t id_offset)
{
	if ((uint64_t)b->len + US_IPV4_HDR_LEN > US_IPV4_MAX_LEN)
		return out_drop(s, b, US_CTR_IP_OUT_TOO_BIG, -EMSGSIZE);

	/* RFC 1122 §3.2.1.7: "A host MUST NOT send a datagram with a TTL
	 * of zero": 0 asks for the default. */
	uint8_t ttl = tx->ttl;
	if (!ttl)
		ttl = us_ipv4_is_multicast(tx->dst) ? US_IP_MCAST_DEFAULT_TTL : US_IP_DEFAULT_TTL;
	struct us_ipv4_hdr h = {
		.tos = tx->tos,
		.df = tx->df && !locked,
		.ttl = ttl,
		.proto = tx->proto,
		.src = tx->src ? tx->src : c->src,
		.dst = tx->dst,
		.payload_len = b->len,
	};
	/* A TCP super-frame (TSO) is never fragmented: the link cuts it
	 * into segments that each fit, copying this header (DF included). */
	bool gso = b->gso_type != US_GSO_NONE;
	bool too_big = !gso && b->len + US_IPV4_HDR_LEN > mtu;
	/* RFC 791 §2.3: "If the Don't Fragment flag (DF) bit is set, then
	 * internet fragmentation of this datagram is NOT permitted, although
	 * it may be discarded"; the sender learns it must send less
	 * (EMSGSIZE, as with Linux's IP_PMTUDISC_DO). */
	if (too_big && h.df)
		return out_drop(s, b, US_CTR_IP_OUT_DF_TOO_BIG, -EMSGSIZE);
	/* Only a datagram that leaves takes an ID. */
	h.id = take_ids(s, id_bucket, id_offset, gso ? gso_segments(b) : 1);
	if (too_big) {
		/* The fragments cannot carry a partial checksum. */
		us_pbuf_csum_complete(b);
		return fragment(s, c, &h, b, mtu);
	}
	uint8_t *hp = us_pbuf_push(b, US_IPV4_HDR_LEN);
	if (!hp || us_ipv4_emit(&h, hp, US_IPV4_HDR_LEN) != US_IPV4_HDR_LEN)
		return out_drop(s, b, US_CTR_IP_OUT_NO_BUFFER, -ENOBUFS);
	return us_arp_output(s, c->ifc, c->next_hop, b);
}

int us_ip_output(struct us_stack *s, struct us_pbuf *b, const struct us_ip_tx *tx)
{
	if (!b)
		return -EINVAL;
	if (!tx)
		return out_drop(s, b, US_CTR_IP_OUT_NO_ROUTE, -EINVAL);
	us_count(s, US_CTR_IP_OUT);
	struct route_choice c;
	if (choose_path(s, tx, &c) < 0)
		return out_drop(s, b, US_CTR_IP_OUT_NO_ROUTE, -ENETUNREACH);
	uint8_t bucket;
	uint16_t offset;
	id_key(s, tx->src ? tx->src : c.src, tx->dst, tx->proto, &bucket, &offset);
	return output_on(s, b, tx, &c, path_mtu(s, c.ifc, tx->dst), pmtu_locked(s, tx->dst),
			 bucket, offset);
}

/* ---- Paths: a route looked up once ---------------------------------------- */

/* A path keeps the interface in a byte and the MTU in 16 bits (an
 * interface's MTU is at most 65535, us_stack_add_iface()). */
_Static_assert(US_MAX_IFACES <= 256, "an interface index fits struct us_ip_path");

int us_ip_path(struct us_stack *s, uint32_t src, uint32_t dst, uint8_t proto,
	       struct us_ip_path *p)
{
	struct route_choice c;
	/* What choose_path() answers for a unicast destination. */
	if (us_ipv4_is_limited_broadcast(dst) || us_ipv4_is_multicast(dst))
		return -ENETUNREACH;
	struct us_ip_tx tx = { .src = src, .dst = dst, .proto = proto, .ifindex = -1 };
	if (choose_path(s, &tx, &c) < 0)
		return -ENETUNREACH;
	*p = (struct us_ip_path){
		.next_hop = c.next_hop,
		.mtu = (uint16_t)path_mtu(s, c.ifc, dst),
		.ifindex = (uint8_t)c.ifc->index,
		.df_locked = pmtu_locked(s, dst),
	};
	id_key(s, src ? src : c.src, dst, proto, &p->id_bucket, &p->id_offset);
	return 0;
}

int us_ip_output_path(struct us_stack *s, struct us_pbuf *b, const struct us_ip_tx *tx,
		      const struct us_ip_path *p)
{
	if (!b)
		return -EINVAL;
	us_count(s, US_CTR_IP_OUT);
	struct us_iface *ifc = &s->iface[p->ifindex];
	struct route_choice c = { .ifc = ifc, .next_hop = p->next_hop,
				  .src = tx->src ? tx->src : source_for(ifc, p->next_hop) };
	return output_on(s, b, tx, &c, p->mtu, p->df_locked, p->id_bucket, p->id_offset);
}

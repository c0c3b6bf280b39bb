/* SPDX-License-Identifier: MIT */
/*
 * ip6_output.c - IPv6 output (RFC 8200 §3, §4.5): source address selection
 * (RFC 6724 §5), the next hop from nd6.c, fragmentation by the source with
 * unpredictable Identifications (RFC 7739), and the path MTU table
 * (RFC 8201).
 *
 * Read first: us_ip6_output() below, then ip6.h for the table sizes and
 * timeouts. The way out is
 *
 *   us_ip6_output -> us_nd6_next_hop (nd6.c: interface and next hop)
 *                 -> us_ip6_select_src (unless the caller chose)
 *                 -> the ICMPv6 checksum, when the payload is ICMPv6
 *                 -> one packet, or send_fragments() above the path MTU
 *                 -> us_nd6_output (nd6.c: link-layer address) -> Ethernet
 *
 * Not implemented: flow labels (RFC 6437 §3 RECOMMENDS one per transport
 * flow; we send 0, "not labeled"); extension headers of our own.
 */
#include "stack.h"

#include <errno.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp6.h"
#include "wire/ipv6.h"

/* Multicast scope values (RFC 4291 §2.7) double as the unicast scopes of
 * RFC 6724 §3.1. */
enum {
	SCOPE_LINK = 0x2,
	SCOPE_SITE = 0x5,
	SCOPE_GLOBAL = 0xe,
};

void us_ip6_init(struct us_stack *s)
{
	struct us_ip6_state *st = &s->ip6;

	memset(st, 0, sizeof *st);
	/* RFC 7739 §5.3: "table[i] = random()" for every slot. */
	for (int i = 0; i < US_IP6_FRAG_ID_SLOTS; i++)
		st->frag_ids[i] = us_rand_u32(&s->rand);
	st->err_tokens = US_ICMP6_ERR_BURST;
	st->err_refilled = s->now;
}

static bool ip6_equal(const struct us_ip6 *a, const struct us_ip6 *b)
{
	return memcmp(a->b, b->b, sizeof a->b) == 0;
}

/* ---- Source address selection (RFC 6724) ---------------------------------- */

/* RFC 6724 §3.1: multicast scope from the address; "loopback address is
 * treated as having link-local scope"; unique local addresses count as
 * global. */
static int scope_of(const struct us_ip6 *a)
{
	if (us_ip6_is_multicast(a))
		return a->b[1] & 0x0f;
	if (us_ip6_is_link_local(a) || us_ip6_is_loopback(a))
		return SCOPE_LINK;
	if (a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0xc0)
		return SCOPE_SITE; /* fec0::/10, deprecated by RFC 3879 */
	return SCOPE_GLOBAL;
}

/* The label of RFC 6724 §2.1's default policy table (longest match). */
static int label_of(const struct us_ip6 *a)
{
	static const uint8_t zero[12];

	if (us_ip6_is_loopback(a))
		return 0; /* ::1/128 */
	if (memcmp(a->b, zero, 10) == 0 && a->b[10] == 0xff && a->b[11] == 0xff)
		return 4; /* ::ffff:0:0/96 */
	if (memcmp(a->b, zero, 12) == 0)
		return 3; /* ::/96 */
	if (a->b[0] == 0x20 && a->b[1] == 0x02)
		return 2; /* 2002::/16 */
	if (a->b[0] == 0x20 && a->b[1] == 0x01 && a->b[2] == 0 && a->b[3] == 0)
		return 5; /* 2001::/32 */
	if ((a->b[0] & 0xfe) == 0xfc)
		return 13; /* fc00::/7 */
	if (a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0xc0)
		return 11; /* fec0::/10 */
	if (a->b[0] == 0x3f && a->b[1] == 0xfe)
		return 12; /* 3ffe::/16 */
	return 1; /* ::/0 */
}

/* RFC 6724 §2.2: CommonPrefixLen(S, D), "up to the length of S's prefix". */
static unsigned common_prefix_len(const struct us_ip6 *a, const struct us_ip6 *b, unsigned max)
{
	unsigned n = 0;

	for (int i = 0; i < 16; i++) {
		uint8_t x = a->b[i] ^ b->b[i];
		if (x == 0) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			n++;
			x = (uint8_t)(x << 1);
		}
		break;
	}
	return n < max ? n : max;
}

/* RFC 6724 §5: true when SA is to be preferred over SB as the source for D. */
static bool prefer(const struct us_addr6 *sa, const struct us_addr6 *sb, const struct us_ip6 *d)
{
	/* Rule 1: Prefer same address. */
	bool same_a = ip6_equal(&sa->addr, d), same_b = ip6_equal(&sb->addr, d);
	if (same_a != same_b)
		return same_a;

	/* Rule 2: Prefer appropriate scope. "If Scope(SA) < Scope(SB): If
	 * Scope(SA) < Scope(D), then prefer SB and otherwise prefer SA.
	 * Similarly, if Scope(SB) < Scope(SA): If Scope(SB) < Scope(D), then
	 * prefer SA and otherwise prefer SB." */
	int scope_a = scope_of(&sa->addr), scope_b = scope_of(&sb->addr), scope_d = scope_of(d);
	if (scope_a < scope_b)
		return scope_a >= scope_d;
	if (scope_b < scope_a)
		return scope_b < scope_d;

	/* Rule 3: Avoid deprecated addresses. */
	if (sa->state != sb->state)
		return sa->state == US_ADDR6_PREFERRED;

	/* Rule 4 (home addresses: no Mobile IPv6 here), Rule 5 (outgoing
	 * interface: the candidates are its addresses) and Rule 5.5 (next-hop
	 * hints) do not separate them. */

	/* Rule 6: Prefer matching label. */
	int label_d = label_of(d);
	bool label_a = label_of(&sa->addr) == label_d, label_b = label_of(&sb->addr) == label_d;
	if (label_a != label_b)
		return label_a;

	/* Rule 7 (prefer temporary addresses): we make none (RFC 8981 is not
	 * implemented). Rule 8: Use longest matching prefix. */
	return common_prefix_len(&sa->addr, d, sa->prefix_len) >
	       common_prefix_len(&sb->addr, d, sb->prefix_len);
}

static bool state_usable(enum us_addr6_state st)
{
	switch (st) {
	case US_ADDR6_PREFERRED:
	case US_ADDR6_DEPRECATED:
		return true;
	case US_ADDR6_TENTATIVE:
	case US_ADDR6_DUPLICATE:
		return false;
	}
	return false;
}

int us_ip6_select_src(struct us_stack *s, const struct us_iface *ifc, const struct us_ip6 *dst,
		      struct us_ip6 *src)
{
	const struct us_addr6 *best = NULL;
	int n = ifc ? 1 : s->n_iface;

	/* RFC 6724 §4: the candidate set is the outgoing interface's
	 * addresses; "Only PREFERRED/DEPRECATED" ones (RFC 4862 §5.4: a
	 * tentative address is not assigned yet). */
	for (int i = 0; i < n; i++) {
		const struct us_iface *f = ifc ? ifc : &s->iface[i];
		for (int j = 0; j < US_MAX_ADDR6; j++) {
			const struct us_addr6 *a = &f->addr6[j];
			if (!a->used || !state_usable(a->state))
				continue;
			if (!best || prefer(a, best, dst))
				best = a;
		}
	}
	if (!best)
		return -EADDRNOTAVAIL;
	*src = best->addr;
	return 0;
}

/* ---- Path MTU (RFC 8201) ---------------------------------------------------- */

static struct us_ip6_pmtu *pmtu_find(struct us_stack *s, const struct us_ip6 *dst)
{
	for (int i = 0; i < US_IP6_PMTU_ENTRIES; i++)
		if (s->ip6.pmtu[i].used && ip6_equal(&s->ip6.pmtu[i].dst, dst))
			return &s->ip6.pmtu[i];
	return NULL;
}

/* The link's MTU for IPv6 (nd6.c: the interface's, or less when a Router
 * Advertisement said so). nd6.c disables IPv6 on a link below 1280 (RFC 8200
 * §5); the floor here only keeps the arithmetic safe. */
static uint32_t link_mtu(const struct us_stack *s, const struct us_iface *ifc)
{
	uint32_t mtu = us_nd6_link_mtu(s, ifc);
	return mtu < US_IP6_MIN_MTU ? US_IP6_MIN_MTU : mtu;
}

static uint32_t path_mtu(struct us_stack *s, const struct us_iface *ifc, const struct us_ip6 *dst)
{
	uint32_t mtu = link_mtu(s, ifc);
	const struct us_ip6_pmtu *e = pmtu_find(s, dst);

	if (e && e->mtu < mtu)
		mtu = e->mtu;
	return mtu;
}

uint32_t us_ip6_pmtu(struct us_stack *s, const struct us_ip6 *dst)
{
	struct us_iface *ifc;
	struct us_ip6 next_hop;

	if (us_nd6_next_hop(s, dst, -1, &ifc, &next_hop) < 0) {
		const struct us_ip6_pmtu *e = pmtu_find(s, dst);
		return e ? e->mtu : US_IP6_MIN_MTU;
	}
	return path_mtu(s, ifc, dst);
}

void us_ip6_pmtu_update(struct us_stack *s, const struct us_ip6 *dst, uint32_t mtu)
{
	/* RFC 8201 §4: "A node must not reduce its estimate of the Path MTU
	 * below the IPv6 minimum link MTU on receipt of a Packet Too Big
	 * message." */
	if (mtu < US_IP6_MIN_MTU)
		return;
	struct us_ip6_pmtu *e = pmtu_find(s, dst);
	if (e) {
		/* "A node MUST NOT increase its estimate of the Path MTU in
		 * response to the contents of a Packet Too Big message." One
		 * that confirms the estimate restarts its timer. */
		if (mtu > e->mtu)
			return;
		if (mtu < e->mtu) {
			us_count(s, US_CTR_IP6_PMTU_UPDATES);
			us_routes_changed(s);
		}
		e->mtu = mtu;
		e->expires = s->now + US_IP6_PMTU_TIMEOUT;
		return;
	}
	if (mtu >= us_ip6_pmtu(s, dst))
		return; /* the link MTU is no larger: nothing to remember */

	for (int i = 0; i < US_IP6_PMTU_ENTRIES; i++) {
		struct us_ip6_pmtu *c = &s->ip6.pmtu[i];
		if (!c->used) {
			e = c;
			break;
		}
		if (!e || c->expires < e->expires)
			e = c;
	}
	if (e->used)
		us_count(s, US_CTR_IP6_PMTU_EVICTED);
	*e = (struct us_ip6_pmtu){
		.used = true,
		.dst = *dst,
		.mtu = mtu,
		.expires = s->now + US_IP6_PMTU_TIMEOUT,
	};
	us_routes_changed(s);
	us_count(s, US_CTR_IP6_PMTU_UPDATES);
}

void us_ip6_poll(struct us_stack *s)
{
	/* RFC 8201 §4: after the timer, try the link MTU again (a larger
	 * path shows itself by the absence of Packet Too Big). */
	for (int i = 0; i < US_IP6_PMTU_ENTRIES; i++) {
		struct us_ip6_pmtu *e = &s->ip6.pmtu[i];
		if (e->used && e->expires <= s->now) {
			e->used = false;
			us_routes_changed(s);
			us_count(s, US_CTR_IP6_PMTU_EXPIRED);
		}
	}
}

us_time_t us_ip6_next_deadline(const struct us_stack *s)
{
	us_time_t t = US_TIME_NEVER;

	for (int i = 0; i < US_IP6_PMTU_ENTRIES; i++)
		if (s->ip6.pmtu[i].used && s->ip6.pmtu[i].expires < t)
			t = s->ip6.pmtu[i].expires;
	return t;
}

/* ---- Fragmentation (RFC 8200 §4.5) ------------------------------------------ */

/*
 * RFC 7739 §5.3's double-hash algorithm: "offset = F(Src IP, Dst IP,
 * secret1); index = G(Src IP, Dst IP, secret2); id = offset + table[index];
 * table[index] = table[index] + 1". F and G are the two halves of one keyed
 * SipHash (the config's secret, with a label of its own), so the
 * Identifications of one pair of addresses count up from a point an
 * observer cannot learn from another pair's (RFC 7739 §3, §4).
 */
static uint32_t fragment_id(struct us_stack *s, const struct us_ip6 *src, const struct us_ip6 *dst)
{
	uint8_t in[4 + 32] = { 'f', 'r', 'a', 'g' };

	memcpy(in + 4, src->b, 16);
	memcpy(in + 20, dst->b, 16);
	uint64_t h = us_siphash(s->cfg.secret, in, sizeof in);
	uint32_t *slot = &s->ip6.frag_ids[(h >> 32) % US_IP6_FRAG_ID_SLOTS];
	uint32_t id = (uint32_t)h + *slot;
	(*slot)++;
	return id;
}

/*
 * Sends b's payload as fragments of at most mtu bytes (RFC 8200 §4.5
 * "Fragmentation"): each is the IPv6 header (our Unfragmentable Part), a
 * Fragment header, and a piece of the payload whose length is a multiple of
 * 8 but for the last. Each fragment is a buffer of its own, copied from b
 * (which may be a 64 KB large buffer). Consumes b.
 */
static int send_fragments(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *next_hop,
			  struct us_ipv6_hdr *h, struct us_pbuf *b, uint32_t mtu)
{
	const uint8_t *payload = us_pbuf_data(b);
	size_t total = b->len;
	size_t max_data = (mtu - US_IPV6_HDR_LEN - US_IPV6_FRAG_HDR_LEN) & ~(size_t)7;
	struct us_ipv6_frag fh = {
		.next_header = h->next_header,
		.id = fragment_id(s, &h->src, &h->dst),
	};
	int rc = 0;

	us_count(s, US_CTR_IP6_OUT_FRAGMENTED);
	h->next_header = US_IPPROTO_FRAGMENT;
	for (size_t off = 0; off < total;) {
		size_t n = total - off;
		fh.more = n > max_data;
		if (fh.more)
			n = max_data;
		fh.offset = (uint16_t)off;

		struct us_pbuf *f = us_stack_alloc(s, (uint32_t)(US_IPV6_FRAG_HDR_LEN + n));
		if (!f) {
			us_count(s, US_CTR_IP6_OUT_DROP_NO_BUFS);
			rc = -ENOBUFS;
			break;
		}
		uint8_t *p = us_pbuf_data(f);
		us_ipv6_frag_emit(&fh, p, US_IPV6_FRAG_HDR_LEN);
		memcpy(p + US_IPV6_FRAG_HDR_LEN, payload + off, n);
		h->payload_len = (uint16_t)(US_IPV6_FRAG_HDR_LEN + n);
		p = us_pbuf_push(f, US_IPV6_HDR_LEN);
		if (!p) {
			us_pbuf_free(&s->pool, f);
			us_count(s, US_CTR_IP6_OUT_DROP_NO_BUFS);
			rc = -ENOBUFS;
			break;
		}
		us_ipv6_emit(h, p, US_IPV6_HDR_LEN);

		us_count(s, US_CTR_IP6_OUT_FRAGMENTS);
		rc = us_nd6_output(s, ifc, next_hop, f);
		if (rc < 0)
			break; /* the rest could never be reassembled */
		off += n;
	}
	us_pbuf_free(&s->pool, b);
	return rc;
}

/* ---- Output ------------------------------------------------------------------ */

static int out_drop(struct us_stack *s, struct us_pbuf *b, enum us_counter_id id, int err)
{
	us_count(s, id);
	us_pbuf_free(&s->pool, b);
	return err;
}

/* The destination checks of us_ip6_output(), before any route. */
static int check_dst(struct us_stack *s, struct us_pbuf *b, const struct us_ip6_tx *tx)
{
	/* RFC 4291 §2.5.2: the unspecified address "must not be used as the
	 * destination address of IPv6 packets"; §2.5.3: loopback never
	 * leaves the node; §2.7: "Nodes must not originate a packet to a
	 * multicast address whose scope field contains the reserved value
	 * 0". */
	if (us_ip6_is_unspecified(&tx->dst) || us_ip6_is_loopback(&tx->dst) ||
	    (us_ip6_is_multicast(&tx->dst) && scope_of(&tx->dst) == 0))
		return out_drop(s, b, US_CTR_IP6_OUT_DROP_BAD_DST, -EINVAL);
	/* RFC 8200 §3: Payload Length is 16 bits (no jumbograms here). */
	if (b->len > UINT16_MAX)
		return out_drop(s, b, US_CTR_IP6_OUT_DROP_TOO_BIG, -EMSGSIZE);
	return 0;
}

/* The packet b leaves by ifc to next_hop; mtu: the path MTU, 0 when not
 * yet known. */
static int output_on(struct us_stack *s, struct us_pbuf *b, const struct us_ip6_tx *tx,
		     struct us_iface *ifc, const struct us_ip6 *next_hop, uint32_t mtu)
{
	struct us_ipv6_hdr h = {
		.traffic_class = tx->traffic_class,
		.next_header = tx->next_header,
		.hop_limit = tx->hop_limit,
		.dst = tx->dst,
		.src = tx->src,
	};
	if (!tx->unspecified_src && us_ip6_is_unspecified(&h.src) &&
	    us_ip6_select_src(s, ifc, &h.dst, &h.src) < 0)
		return out_drop(s, b, US_CTR_IP6_OUT_DROP_NO_SOURCE, -EADDRNOTAVAIL);
	/* RFC 4861 §6.3.2 CurHopLimit for unicast; RFC 3493 §5.2: multicast
	 * goes one hop unless the sender asks for more. */
	if (h.hop_limit == 0)
		h.hop_limit = us_ip6_is_multicast(&h.dst) ? 1 : us_nd6_hop_limit(s, ifc);

	/* RFC 4443 §2.3: the checksum covers the whole message and the
	 * pseudo-header of RFC 8200 §8.1; computed before fragmenting. */
	if (tx->next_header == US_IPPROTO_ICMPV6 && b->len >= US_ICMP6_HDR_LEN)
		us_icmp6_csum_fill(us_pbuf_data(b), b->len,
				   us_csum_pseudo6(&h.src, &h.dst, US_IPPROTO_ICMPV6, b->len));

	us_count(s, US_CTR_IP6_OUT);
	if (!mtu)
		mtu = path_mtu(s, ifc, &h.dst);
	/* A TCP super-frame (TSO) leaves whole: the link cuts it into
	 * segments that each fit; anything else too big is fragmented, its
	 * partial checksum completed first (the fragments cannot carry it). */
	if (US_IPV6_HDR_LEN + b->len > mtu && b->gso_type == US_GSO_NONE) {
		us_pbuf_csum_complete(b);
		return send_fragments(s, ifc, next_hop, &h, b, mtu);
	}

	h.payload_len = (uint16_t)b->len;
	uint8_t *p = us_pbuf_push(b, US_IPV6_HDR_LEN);
	if (!p)
		return out_drop(s, b, US_CTR_IP6_OUT_DROP_NO_BUFS, -ENOBUFS);
	us_ipv6_emit(&h, p, US_IPV6_HDR_LEN);
	return us_nd6_output(s, ifc, next_hop, b);
}

int us_ip6_output(struct us_stack *s, struct us_pbuf *b, const struct us_ip6_tx *tx)
{
	struct us_iface *ifc;
	struct us_ip6 next_hop;
	int err = check_dst(s, b, tx);
	if (err < 0)
		return err;

	/* RFC 4861 §5.2 (nd6.c): the interface and the next hop; a link-local
	 * or multicast destination needs tx->ifindex unless there is one
	 * interface (RFC 4007 §6, the default zone). */
	err = us_nd6_next_hop(s, &tx->dst, tx->ifindex, &ifc, &next_hop);
	if (err < 0)
		return out_drop(s, b, US_CTR_IP6_OUT_DROP_NO_ROUTE, err);
	return output_on(s, b, tx, ifc, &next_hop, 0);
}

/* ---- Paths: a route looked up once ------------------------------------------- */

/* A path keeps the interface in a byte and the MTU in 16 bits (no
 * jumbograms: an interface's MTU is at most 65535). */
_Static_assert(US_MAX_IFACES <= 256, "an interface index fits struct us_ip6_path");

int us_ip6_path(struct us_stack *s, const struct us_ip6 *dst, int ifindex,
		struct us_ip6_path *p)
{
	struct us_iface *ifc;
	int err = us_nd6_next_hop(s, dst, ifindex, &ifc, &p->next_hop);
	if (err < 0)
		return err;
	p->mtu = (uint16_t)path_mtu(s, ifc, dst);
	p->ifindex = (uint8_t)ifc->index;
	return 0;
}

int us_ip6_output_path(struct us_stack *s, struct us_pbuf *b, const struct us_ip6_tx *tx,
		       const struct us_ip6_path *p)
{
	int err = check_dst(s, b, tx);
	if (err < 0)
		return err;
	return output_on(s, b, tx, &s->iface[p->ifindex], &p->next_hop, p->mtu);
}

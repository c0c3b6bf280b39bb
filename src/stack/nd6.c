/* SPDX-License-Identifier: MIT */
/*
 * nd6.c - Neighbor Discovery for IPv6 on a host (RFC 4861): the neighbour
 * cache and its reachability states (§7.3), address resolution (§7.2.2),
 * Neighbor Solicitation and Advertisement (§7.1.1, §7.1.2, §7.2.3-§7.2.5),
 * Duplicate Address Detection and address lifetimes (RFC 4862 §5.4,
 * §5.5.4), the link-local address (RFC 4862 §5.3), and the multicast groups
 * an interface listens to (RFC 4861 §7.2.1, RFC 4291 §2.7.1, §2.8).
 *
 * Read first: nd6.h (the tables, bounds and constants), then RFC 4861
 * Appendix C, the state table that every neigh_set_state() call enacts.
 * Every change of a neighbour's deadline ends in neigh_deadlines_moved(),
 * which finds the earliest again (a new entry's US_TIME_NEVER moves
 * nothing), so that the next deadline and a poll with no neighbour due cost
 * no scan of the cache.
 * nd6_rtr.c has routers, prefixes, SLAAC and next-hop determination.
 *
 * The neighbour cache is one table for all interfaces, bounded
 * (US_ND6_NEIGH_MAX); a new entry evicts the least recently used entry that
 * is not INCOMPLETE (counted as nd6.neigh_evicted), and when every entry is
 * INCOMPLETE the new one is refused (nd6.drop_cache_full). Packets waiting
 * for resolution are bounded per entry in bytes, as Linux bounds them
 * (unres_qlen_bytes): US_ND6_QUEUE_BYTES of packet data (b->len), room for
 * every fragment of one 64 KB datagram, which a packet count would cut
 * short. They are bounded in all by count (US_ND6_QUEUE_MAX), so the
 * buffers held stay bounded.
 *
 * Decisions:
 * - ND messages carry an IPv6 header built here, with Hop Limit 255 and the
 *   source each message's rule asks for (:: for DAD probes), and go straight
 *   to us_nd6_output() or us_eth_output(), as Linux's ndisc_send_skb() does:
 *   they are link-scoped, never fragmented, and sent from addresses that
 *   source selection must refuse (tentative ones, ::).
 * - Not implemented: upper-layer reachability confirmation (RFC 4861
 *   §7.3.1). There is no TCP yet to give "forward progress" hints, so an
 *   entry becomes REACHABLE only through a solicited NA; a STALE entry in
 *   use goes through DELAY and PROBE, as RFC 4861 §7.3.1 allows when no
 *   hints are available.
 * - Not implemented: MLD (RFC 3810). Groups are joined in the table that
 *   us_nd6_joined() reads, but no MLDv2 Report is sent. RFC 4862 §5.4.2 asks
 *   for a report before DAD so that MLD-snooping switches forward the
 *   solicited-node group; on a TAP device, a plain bridge, or a switch
 *   without snooping every multicast frame arrives anyway. Linux does send
 *   them (with a Hop-by-Hop Router Alert), and answers Queries, which a
 *   real MLD implementation would have to do too.
 * - Deviation: RFC 4861 §7.2.2 says "The sender MUST return ICMP
 *   destination unreachable indications with code 3 (Address Unreachable)
 *   for each packet queued awaiting address resolution" when resolution
 *   fails. A host only queues packets it sent itself, so the indication is
 *   for the local sender (Linux reports it on the socket's error queue), and
 *   there are no sockets yet: the drops are counted as
 *   nd6.drop_resolution_failed and traced. The transports add the report.
 * - Deviation: every address waits the random delay before its DAD probe,
 *   not only the first message after the interface came up (RFC 4862
 *   §5.4.2); Linux does the same. It costs a later address up to a second.
 * - Not implemented: anycast and proxy NAs (Override is always set, RFC 4861
 *   §7.2.4), unsolicited NAs on address changes (§7.2.6, a MAY), the DAD
 *   nonce of RFC 7527 (our own looped-back probes never get here: stack.c
 *   drops frames from our own MAC).
 * - A duplicate link-local address formed from the MAC disables IPv6 on the
 *   interface, as RFC 4862 §5.4.5 says it SHOULD ("IP operation on the
 *   interface SHOULD be disabled"), the way Linux does with accept_dad=2:
 *   every other IPv6 address of the interface is removed, every group left,
 *   neighbours, routers and prefixes forgotten, RS stopped; ND input and
 *   output on it are dropped (nd6.drop_ipv6_disabled). The duplicate address
 *   stays listed in state DUPLICATE; addresses added later stay TENTATIVE
 *   and are never used. An interface whose MTU is below 1280 (RFC 8200 §5)
 *   is disabled the same way from the start, without a link-local address.
 * - Eviction counts recency of creation or of sending, whichever is later:
 *   an NS flood with SLLAs can push out idle entries, never more than the
 *   table holds, and an evicted router is resolved again on next use.
 */
#include "nd6.h"

#include "stack.h"

#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp6.h"
#include "wire/ipproto.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

_Static_assert(US_ND6_MAX_IFACES == US_MAX_IFACES, "one nd6 record per interface");
_Static_assert(US_MAX_IFACES <= 256, "an ifindex fits in a uint8_t");
_Static_assert(US_ND6_QUEUE_MAX <= UINT8_MAX, "an entry's q_len fits in a uint8_t");
_Static_assert(US_MAX_GROUPS6 >= US_MAX_ADDR6 + 1,
	       "room for all-nodes and one solicited-node group per address");

/* RFC 4861 §6.3.2: ReachableTime "should be re-computed ... at least every
 * few hours"; it is drawn again when an entry enters REACHABLE after this. */
#define REACHABLE_REDRAW US_SEC(2 * 3600)

static const char *const state_names[] = {
	[US_ND6_INCOMPLETE] = "INCOMPLETE", [US_ND6_REACHABLE] = "REACHABLE",
	[US_ND6_STALE] = "STALE",	    [US_ND6_DELAY] = "DELAY",
	[US_ND6_PROBE] = "PROBE",
};
_Static_assert(sizeof state_names / sizeof state_names[0] == US_ND6_NSTATES,
	       "one name per neighbour state");

static const struct us_ip6 all_nodes = { .b = { 0xff, 0x02, [15] = 0x01 } };
static const struct us_ip6 unspecified;

const char *us_nd6_state_name(enum us_nd6_neigh_state st)
{
	if ((unsigned)st >= US_ND6_NSTATES)
		return "?";
	return state_names[st];
}

static bool ip6_eq(const struct us_ip6 *a, const struct us_ip6 *b)
{
	return memcmp(a->b, b->b, sizeof a->b) == 0;
}

/* ff02::1:ff00:0/104 (RFC 4291 §2.7.1). */
static bool is_solicited_node(const struct us_ip6 *a)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	return memcmp(a->b, prefix, sizeof prefix) == 0;
}

static struct us_nd6_iface *ifstate(struct us_stack *s, const struct us_iface *ifc)
{
	return &s->nd6.ifs[ifc->index];
}

/* "<what><addr><tail>" through the trace hook. */
static void trace_addr(struct us_stack *s, enum us_trace_kind kind, int ifindex, const char *what,
		       const struct us_ip6 *a, const char *tail)
{
	if (!s->cfg.trace)
		return;
	char buf[160];
	struct us_fmt f;
	us_fmt_init(&f, buf, sizeof buf);
	us_fmt_str(&f, what);
	us_fmt_ip6(&f, a);
	if (tail)
		us_fmt_str(&f, tail);
	us_trace(s, kind, ifindex, buf);
}

static bool addr_usable(const struct us_addr6 *a)
{
	switch (a->state) {
	case US_ADDR6_PREFERRED:
	case US_ADDR6_DEPRECATED:
		return true;
	case US_ADDR6_TENTATIVE:
	case US_ADDR6_DUPLICATE:
		return false;
	}
	return false;
}

/* The index of addr among ifc's addresses (any state), or -1. */
static int addr_index(const struct us_iface *ifc, const struct us_ip6 *addr)
{
	for (int i = 0; i < US_MAX_ADDR6; i++)
		if (ifc->addr6[i].used && ip6_eq(&ifc->addr6[i].addr, addr))
			return i;
	return -1;
}

bool us_nd6_usable_src(const struct us_iface *ifc, struct us_ip6 *src)
{
	int any = -1;
	for (int i = 0; i < US_MAX_ADDR6; i++) {
		const struct us_addr6 *a = &ifc->addr6[i];
		if (!a->used || !addr_usable(a))
			continue;
		if (us_ip6_is_link_local(&a->addr)) {
			*src = a->addr;
			return true;
		}
		if (any < 0)
			any = i;
	}
	if (any < 0)
		return false;
	*src = ifc->addr6[any].addr;
	return true;
}

/* ---- Multicast groups ---------------------------------------------------- */

static int group_find(const struct us_iface *ifc, const struct us_ip6 *group)
{
	for (int i = 0; i < US_MAX_GROUPS6; i++)
		if (ifc->groups6_refs[i] && ip6_eq(&ifc->groups6[i], group))
			return i;
	return -1;
}

/* One more reference to group. The link-local address and every SLAAC
 * address share one solicited-node group (the same interface identifier),
 * hence the counts. */
static bool group_join(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *group)
{
	int i = group_find(ifc, group);
	if (i >= 0 && ifc->groups6_refs[i] < UINT8_MAX) {
		ifc->groups6_refs[i]++;
		return true;
	}
	for (i = 0; i < US_MAX_GROUPS6; i++) {
		if (ifc->groups6_refs[i] == 0) {
			ifc->groups6[i] = *group;
			ifc->groups6_refs[i] = 1;
			return true;
		}
	}
	us_count(s, US_CTR_ND6_GROUPS_FULL);
	return false;
}

static void group_leave(struct us_iface *ifc, const struct us_ip6 *group)
{
	int i = group_find(ifc, group);
	if (i >= 0 && --ifc->groups6_refs[i] == 0)
		memset(&ifc->groups6[i], 0, sizeof ifc->groups6[i]);
}

bool us_nd6_joined(const struct us_iface *ifc, const struct us_ip6 *group)
{
	return ifc && group && group_find(ifc, group) >= 0;
}

/* ---- Sending ND messages ------------------------------------------------- */

int us_nd6_send(struct us_stack *s, struct us_iface *ifc, struct us_pbuf *b,
		const struct us_ip6 *src, const struct us_ip6 *dst, const uint8_t *dst_mac)
{
	uint32_t len = b->len;
	us_icmp6_csum_fill(us_pbuf_data(b), len, us_csum_pseudo6(src, dst, US_IPPROTO_ICMPV6, len));
	/* RFC 4861 §4: every ND message is sent with IP Hop Limit 255, so that
	 * a receiver knows it was not forwarded (§6.1.1, §7.1.1 ...). */
	struct us_ipv6_hdr h = {
		.payload_len = (uint16_t)len,
		.next_header = US_IPPROTO_ICMPV6,
		.hop_limit = 255,
		.src = *src,
		.dst = *dst,
	};
	uint8_t *p = us_pbuf_push(b, US_IPV6_HDR_LEN);
	if (!p || us_ipv6_emit(&h, p, US_IPV6_HDR_LEN) != US_IPV6_HDR_LEN) {
		us_pbuf_free(&s->pool, b);
		return -ENOBUFS;
	}
	if (dst_mac)
		return us_eth_output(s, ifc, b, dst_mac, US_ETHERTYPE_IPV6);
	return us_nd6_output(s, ifc, dst, b);
}

/* An NS for target (RFC 4861 §4.3). src NULL: a DAD probe from ::, which
 * "MUST NOT" carry a Source Link-Layer Address option (§4.3); otherwise the
 * SLLA goes with it (§7.2.2: "the sender SHOULD include its link-layer
 * address"). dst_mac NULL: dst is multicast. */
static void send_ns(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *src,
		    const struct us_ip6 *dst, const struct us_ip6 *target, const uint8_t *dst_mac)
{
	size_t len = US_NDP_NS_LEN + (src ? 8 : 0);
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)len);
	if (!b)
		return;
	uint8_t *m = us_pbuf_data(b);
	struct us_ndp_ns ns = { .target = *target };
	size_t n = us_ndp_ns_emit(&ns, m, len);
	if (src)
		n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, ifc->mac, m + n, len - n);
	if (n != len) {
		us_pbuf_free(&s->pool, b);
		return;
	}
	us_count(s, US_CTR_ND6_OUT_NS);
	us_nd6_send(s, ifc, b, src ? src : &unspecified, dst, dst_mac);
}

/* RFC 4861 §7.2.4: the NA answering an NS for target, from target, with
 * its Target Link-Layer Address. solicited: to the NS's source with S set;
 * otherwise (the NS came from ::) "multicast the advertisement to the
 * all-nodes address" with S clear. Override is set: "Otherwise [not anycast
 * or proxy], the Override flag SHOULD be set to one." */
static void send_na(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *target,
		    const struct us_ip6 *dst, bool solicited)
{
	size_t len = US_NDP_NA_LEN + 8;
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)len);
	if (!b)
		return;
	uint8_t *m = us_pbuf_data(b);
	struct us_ndp_na na = { .router = false, .solicited = solicited, .override = true,
				.target = *target };
	size_t n = us_ndp_na_emit(&na, m, len);
	n += us_ndp_opt_lladdr_emit(US_NDP_OPT_TLLA, ifc->mac, m + n, len - n);
	if (n != len) {
		us_pbuf_free(&s->pool, b);
		return;
	}
	us_count(s, US_CTR_ND6_OUT_NA);
	us_nd6_send(s, ifc, b, target, dst, NULL);
}

/* ---- The neighbour cache ------------------------------------------------- */

static int neigh_index(const struct us_stack *s, int ifindex, const struct us_ip6 *addr)
{
	for (int i = 0; i < US_ND6_NEIGH_MAX; i++) {
		const struct us_nd6_neigh *e = &s->nd6.neigh[i];
		if (e->used && e->ifindex == ifindex && ip6_eq(&e->addr, addr))
			return i;
	}
	return -1;
}

static struct us_nd6_neigh *neigh_lookup(struct us_stack *s, const struct us_iface *ifc,
					 const struct us_ip6 *addr)
{
	int i = neigh_index(s, ifc->index, addr);
	return i < 0 ? NULL : &s->nd6.neigh[i];
}

const struct us_nd6_neigh *us_nd6_neigh_find(const struct us_stack *s, const struct us_iface *ifc,
					     const struct us_ip6 *addr)
{
	if (!s || !ifc || !addr)
		return NULL;
	int i = neigh_index(s, ifc->index, addr);
	return i < 0 ? NULL : &s->nd6.neigh[i];
}

/* ReachableTime, drawn again when it is a few hours old (RFC 4861 §6.3.2). */
static us_time_t reachable_time(struct us_stack *s, struct us_nd6_iface *is)
{
	if (s->now - is->reachable_drawn >= REACHABLE_REDRAW)
		us_nd6_draw_reachable(s, is);
	return is->reachable_us;
}

void us_nd6_draw_reachable(struct us_stack *s, struct us_nd6_iface *is)
{
	/* RFC 4861 §6.3.2: "a uniformly distributed random value between
	 * MIN_RANDOM_FACTOR and MAX_RANDOM_FACTOR times BaseReachableTime
	 * milliseconds". Milliseconds times per mille are microseconds. */
	uint32_t span = US_ND6_MAX_RANDOM_FACTOR_PERMILLE - US_ND6_MIN_RANDOM_FACTOR_PERMILLE + 1;
	uint32_t permille = US_ND6_MIN_RANDOM_FACTOR_PERMILLE + us_rand_below(&s->rand, span);
	is->reachable_us = (us_time_t)is->base_reachable_ms * permille;
	is->reachable_drawn = s->now;
}

/* The earliest deadline of the neighbour cache, after any of them changed. */
static void neigh_deadlines_moved(struct us_stack *s)
{
	us_time_t t = US_TIME_NEVER;
	for (int i = 0; i < US_ND6_NEIGH_MAX; i++) {
		const struct us_nd6_neigh *e = &s->nd6.neigh[i];
		if (e->used && e->deadline < t)
			t = e->deadline;
	}
	s->nd6.neigh_next = t;
}

/* The only writer of an entry's state: sets the state's timer (RFC 4861
 * §7.3.2, §7.3.3) and reports "neighbour A: X -> Y (why)". */
static void neigh_set_state(struct us_stack *s, struct us_nd6_neigh *e,
			    enum us_nd6_neigh_state st, const char *why)
{
	struct us_nd6_iface *is = &s->nd6.ifs[e->ifindex];
	if (s->cfg.trace) {
		char buf[160];
		struct us_fmt f;
		us_fmt_init(&f, buf, sizeof buf);
		us_fmt_str(&f, "neighbour ");
		us_fmt_ip6(&f, &e->addr);
		us_fmt_str(&f, ": ");
		us_fmt_str(&f, us_nd6_state_name(e->state));
		us_fmt_str(&f, " -> ");
		us_fmt_str(&f, us_nd6_state_name(st));
		us_fmt_str(&f, " (");
		us_fmt_str(&f, why);
		us_fmt_str(&f, ")");
		us_trace(s, US_TRACE_DEBUG, e->ifindex, buf);
	}
	/* The next hop prefers routers that are not INCOMPLETE (nd6_rtr.c,
	 * us_nd6_next_hop()): cached routes are looked up again. */
	if ((e->state == US_ND6_INCOMPLETE) != (st == US_ND6_INCOMPLETE))
		us_routes_changed(s);
	e->state = st;
	switch (st) {
	case US_ND6_INCOMPLETE:
	case US_ND6_PROBE:
		/* "retransmitting ... every RetransTimer milliseconds" */
		e->probes = 0;
		e->deadline = s->now + is->retrans_us;
		break;
	case US_ND6_REACHABLE:
		e->deadline = s->now + reachable_time(s, is);
		break;
	case US_ND6_STALE:
		/* STALE has no timer: "no action takes place until a packet is
		 * sent" (§7.3.2). */
		e->deadline = US_TIME_NEVER;
		break;
	case US_ND6_DELAY:
		e->deadline = s->now + US_ND6_DELAY_FIRST_PROBE_TIME;
		break;
	}
	neigh_deadlines_moved(s);
}

static void queue_drop(struct us_stack *s, struct us_nd6_neigh *e, enum us_counter_id ctr,
		       const char *why)
{
	while (e->q_head) {
		struct us_pbuf *b = e->q_head;
		e->q_head = b->next;
		b->next = NULL;
		us_pbuf_free(&s->pool, b);
		s->nd6.queued--;
		us_drop(s, ctr, e->ifindex, why);
	}
	e->q_tail = NULL;
	e->q_len = 0;
	e->q_bytes = 0;
}

static void neigh_free(struct us_stack *s, struct us_nd6_neigh *e, enum us_counter_id ctr,
		       const char *why)
{
	queue_drop(s, e, ctr, why);
	memset(e, 0, sizeof *e);
	neigh_deadlines_moved(s);
	us_routes_changed(s); /* as in neigh_set_state() */
}

/* A free entry for addr on ifc, evicting the least recently used entry
 * that is not INCOMPLETE when the table is full. NULL when every entry is
 * INCOMPLETE (resolutions in progress are never cut short). */
static struct us_nd6_neigh *neigh_alloc(struct us_stack *s, const struct us_iface *ifc,
					const struct us_ip6 *addr)
{
	struct us_nd6_neigh *e = NULL;
	for (int i = 0; i < US_ND6_NEIGH_MAX && !e; i++)
		if (!s->nd6.neigh[i].used)
			e = &s->nd6.neigh[i];
	if (!e) {
		for (int i = 0; i < US_ND6_NEIGH_MAX; i++) {
			struct us_nd6_neigh *c = &s->nd6.neigh[i];
			if (c->state == US_ND6_INCOMPLETE)
				continue;
			if (!e || c->last_used < e->last_used)
				e = c;
		}
		if (!e)
			return NULL;
		us_count(s, US_CTR_ND6_NEIGH_EVICTED);
		trace_addr(s, US_TRACE_DEBUG, e->ifindex, "neighbour evicted: ", &e->addr, NULL);
		neigh_free(s, e, US_CTR_ND6_NEIGH_EVICTED, "evicted");
	}
	memset(e, 0, sizeof *e);
	e->used = true;
	e->ifindex = (uint8_t)ifc->index;
	e->addr = *addr;
	e->last_used = s->now;
	e->deadline = US_TIME_NEVER;
	us_routes_changed(s); /* as in neigh_set_state() */
	return e;
}

/* The source of a solicitation (RFC 4861 §7.2.2): "If the source address of
 * the packet prompting the solicitation is the same as one of the addresses
 * assigned to the outgoing interface, that address SHOULD be placed in the
 * IP Source Address of the outgoing solicitation. Otherwise, any one of the
 * addresses assigned to the interface should be used." */
static bool ns_source(const struct us_iface *ifc, const struct us_pbuf *prompt,
		      struct us_ip6 *src)
{
	if (prompt && prompt->len >= US_IPV6_HDR_LEN) {
		struct us_ip6 a;
		memcpy(a.b, us_pbuf_data(prompt) + 8, sizeof a.b);
		int i = addr_index(ifc, &a);
		if (i >= 0 && addr_usable(&ifc->addr6[i])) {
			*src = a;
			return true;
		}
	}
	return us_nd6_usable_src(ifc, src);
}

/* One multicast NS of address resolution (§7.2.2), to the target's
 * solicited-node group. With no usable address to send from, nothing goes
 * out (as Linux's ndisc_send_ns()), but the timer runs: resolution fails
 * after the same time. */
static void resolve_send(struct us_stack *s, struct us_iface *ifc, struct us_nd6_neigh *e)
{
	struct us_ip6 src, group;
	if (ns_source(ifc, e->q_head, &src)) {
		us_ip6_solicited_node(&e->addr, &group);
		send_ns(s, ifc, &src, &group, &e->addr, NULL);
	} else {
		us_count(s, US_CTR_ND6_NS_NO_SOURCE);
	}
	e->probes++;
	e->deadline = s->now + ifstate(s, ifc)->retrans_us;
	neigh_deadlines_moved(s);
}

/* One unicast NS of Neighbor Unreachability Detection (§7.3.3, PROBE), to
 * the cached link-layer address. */
static void probe_send(struct us_stack *s, struct us_iface *ifc, struct us_nd6_neigh *e)
{
	struct us_ip6 src;
	if (us_nd6_usable_src(ifc, &src))
		send_ns(s, ifc, &src, &e->addr, &e->addr, e->mac);
	else
		us_count(s, US_CTR_ND6_NS_NO_SOURCE);
	e->probes++;
	e->deadline = s->now + ifstate(s, ifc)->retrans_us;
	neigh_deadlines_moved(s);
}

/* Drops e's oldest waiting packet, counted as ctr. */
static void queue_drop_oldest(struct us_stack *s, struct us_nd6_neigh *e, enum us_counter_id ctr)
{
	struct us_pbuf *old = e->q_head;
	e->q_head = old->next;
	if (!e->q_head)
		e->q_tail = NULL;
	old->next = NULL;
	e->q_len--;
	e->q_bytes -= old->len;
	s->nd6.queued--;
	us_pbuf_free(&s->pool, old);
	us_drop(s, ctr, e->ifindex, "resolution queue full: oldest packet replaced");
}

/* RFC 4861 §7.2.2: "If the queue overflows, the new arrival SHOULD replace
 * the oldest entry." The entry's queue overflows when its bytes would pass
 * US_ND6_QUEUE_BYTES: the oldest packets go until the new one fits. The
 * same when all queues together hold US_ND6_QUEUE_MAX packets, if this entry
 * has an oldest packet to give up; else the new one is dropped. */
static int enqueue(struct us_stack *s, struct us_nd6_neigh *e, struct us_pbuf *b)
{
	while (e->q_head && e->q_bytes + b->len > US_ND6_QUEUE_BYTES)
		queue_drop_oldest(s, e, US_CTR_ND6_DROP_QUEUE_FULL);
	if (s->nd6.queued >= US_ND6_QUEUE_MAX) {
		if (!e->q_head) {
			us_pbuf_free(&s->pool, b);
			us_drop(s, US_CTR_ND6_DROP_QUEUE_TOTAL, e->ifindex,
				"all resolution queues full");
			return -ENOBUFS;
		}
		queue_drop_oldest(s, e, US_CTR_ND6_DROP_QUEUE_TOTAL);
	}
	b->next = NULL;
	if (e->q_tail)
		e->q_tail->next = b;
	else
		e->q_head = b;
	e->q_tail = b;
	e->q_len++;
	e->q_bytes += b->len;
	s->nd6.queued++;
	return 0;
}

/* The link-layer address is known: send what waited, in order (§7.2.5
 * "send any packets queued for the neighbor awaiting address resolution").
 * Sending to a STALE entry moves it to DELAY (§7.3.3). */
static void neigh_flush(struct us_stack *s, struct us_nd6_neigh *e)
{
	struct us_iface *ifc = &s->iface[e->ifindex];
	bool sent = e->q_head != NULL;
	while (e->q_head) {
		struct us_pbuf *b = e->q_head;
		e->q_head = b->next;
		b->next = NULL;
		e->q_len--;
		e->q_bytes -= b->len;
		s->nd6.queued--;
		us_eth_output(s, ifc, b, e->mac, US_ETHERTYPE_IPV6);
	}
	e->q_tail = NULL;
	if (sent) {
		e->last_used = s->now;
		if (e->state == US_ND6_STALE)
			neigh_set_state(s, e, US_ND6_DELAY, "queued packets sent");
	}
}

void us_nd6_neigh_learn(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *addr,
			const uint8_t mac[US_ETH_ALEN], bool is_router)
{
	struct us_nd6_neigh *e = neigh_lookup(s, ifc, addr);
	if (!mac) {
		/* RFC 4861 §6.3.4: an RA without SLLA still sets IsRouter on an
		 * existing entry. */
		if (e && is_router)
			e->is_router = true;
		return;
	}
	if (!e) {
		/* §7.2.3: "If an entry does not already exist, the node SHOULD
		 * create a new one and set its reachability state to STALE". */
		e = neigh_alloc(s, ifc, addr);
		if (!e) {
			us_count(s, US_CTR_ND6_DROP_CACHE_FULL);
			return;
		}
		memcpy(e->mac, mac, US_ETH_ALEN);
		e->is_router = is_router;
		e->state = US_ND6_STALE;
		trace_addr(s, US_TRACE_DEBUG, ifc->index, "neighbour ", addr,
			   ": new -> STALE (link-layer address option)");
		return;
	}
	if (is_router)
		e->is_router = true;
	if (e->state == US_ND6_INCOMPLETE) {
		/* §7.2.3: "If an entry already exists, and the cached link-layer
		 * address differs ... STALE"; INCOMPLETE has none, so the same,
		 * and the queue goes out. */
		memcpy(e->mac, mac, US_ETH_ALEN);
		neigh_set_state(s, e, US_ND6_STALE, "link-layer address option");
		neigh_flush(s, e);
		return;
	}
	if (memcmp(e->mac, mac, US_ETH_ALEN) != 0) {
		memcpy(e->mac, mac, US_ETH_ALEN);
		neigh_set_state(s, e, US_ND6_STALE, "link-layer address changed");
	}
}

/* ---- Output -------------------------------------------------------------- */

int us_nd6_output(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *next_hop,
		  struct us_pbuf *b)
{
	if (!s || !b)
		return -EINVAL;
	if (!ifc || !next_hop) {
		us_pbuf_free(&s->pool, b);
		return -EINVAL;
	}
	if (ifstate(s, ifc)->disabled) {
		us_pbuf_free(&s->pool, b);
		us_drop(s, US_CTR_ND6_DROP_DISABLED, ifc->index,
			"IPv6 is disabled on the interface");
		return -ENETDOWN;
	}
	if (us_ip6_is_multicast(next_hop)) {
		/* RFC 2464 §7: 33:33 and the group's last four octets; RFC
		 * 4861 §7.2: "Address resolution is never performed on
		 * multicast addresses." */
		uint8_t mac[US_ETH_ALEN];
		us_eth_mcast_from_ip6(next_hop, mac);
		return us_eth_output(s, ifc, b, mac, US_ETHERTYPE_IPV6);
	}
	/* ::, ::1 (RFC 4291 §2.5.3: "must never be sent on any link") and our
	 * own addresses (which no NA would ever answer) are no next hop. */
	int own = addr_index(ifc, next_hop);
	if (us_ip6_is_unspecified(next_hop) || us_ip6_is_loopback(next_hop) ||
	    (own >= 0 && ifc->addr6[own].state != US_ADDR6_DUPLICATE)) {
		us_pbuf_free(&s->pool, b);
		return us_drop(s, US_CTR_ND6_DROP_BAD_NEXT_HOP, ifc->index,
			       "next hop is ::, ::1 or our own address");
	}

	struct us_nd6_neigh *e = neigh_lookup(s, ifc, next_hop);
	if (!e) {
		/* §7.2.2: "the sender creates one, sets its state to
		 * INCOMPLETE, initiates Address Resolution, and then queues
		 * the data packet pending completion". */
		e = neigh_alloc(s, ifc, next_hop);
		if (!e) {
			us_pbuf_free(&s->pool, b);
			us_drop(s, US_CTR_ND6_DROP_CACHE_FULL, ifc->index,
				"neighbour cache full of resolutions in progress");
			return -ENOBUFS;
		}
		e->state = US_ND6_INCOMPLETE;
		trace_addr(s, US_TRACE_DEBUG, ifc->index, "neighbour ", next_hop,
			   ": new -> INCOMPLETE (packet to send)");
		enqueue(s, e, b);
		resolve_send(s, ifc, e);
		return 0;
	}
	e->last_used = s->now;
	switch (e->state) {
	case US_ND6_INCOMPLETE:
		return enqueue(s, e, b);
	case US_ND6_STALE:
		/* §7.3.3: "The first time a node sends a packet to a neighbor
		 * whose entry is STALE, the sender changes the state to DELAY
		 * and sets a timer to expire in DELAY_FIRST_PROBE_TIME
		 * seconds." */
		neigh_set_state(s, e, US_ND6_DELAY, "packet sent");
		break;
	case US_ND6_REACHABLE:
	case US_ND6_DELAY:
	case US_ND6_PROBE:
		break;
	}
	return us_eth_output(s, ifc, b, e->mac, US_ETHERTYPE_IPV6);
}

/* ---- Timers of the cache ------------------------------------------------- */

static void neigh_timer(struct us_stack *s, struct us_nd6_neigh *e)
{
	struct us_iface *ifc = &s->iface[e->ifindex];
	switch (e->state) {
	case US_ND6_INCOMPLETE:
		if (e->probes < US_ND6_MAX_MULTICAST_SOLICIT) {
			resolve_send(s, ifc, e);
			break;
		}
		/* §7.2.2: "If no Neighbor Advertisement is received after
		 * MAX_MULTICAST_SOLICIT solicitations, address resolution has
		 * failed." The entry goes, its packets are dropped. */
		trace_addr(s, US_TRACE_INFO, ifc->index, "neighbour ", &e->addr,
			   ": address resolution failed");
		neigh_free(s, e, US_CTR_ND6_DROP_RESOLUTION_FAILED, "address resolution failed");
		break;
	case US_ND6_REACHABLE:
		/* §7.3.3: "When ReachableTime milliseconds have passed since
		 * receipt of the last reachability confirmation for a
		 * neighbor, the Neighbor Cache entry's state changes from
		 * REACHABLE to STALE." */
		neigh_set_state(s, e, US_ND6_STALE, "ReachableTime over");
		break;
	case US_ND6_STALE:
		e->deadline = US_TIME_NEVER;
		break;
	case US_ND6_DELAY:
		/* §7.3.3: "If the entry is still in the DELAY state when the
		 * timer expires, the entry's state changes to PROBE." */
		neigh_set_state(s, e, US_ND6_PROBE,
				"no confirmation within DELAY_FIRST_PROBE_TIME");
		probe_send(s, ifc, e);
		break;
	case US_ND6_PROBE:
		if (e->probes < US_ND6_MAX_UNICAST_SOLICIT) {
			probe_send(s, ifc, e);
			break;
		}
		/* §7.3.3: "If no response is received after waiting
		 * RetransTimer milliseconds after sending the
		 * MAX_UNICAST_SOLICIT solicitations, retransmissions cease and
		 * the entry SHOULD be deleted." */
		us_count(s, US_CTR_ND6_NEIGH_UNREACHABLE);
		trace_addr(s, US_TRACE_INFO, ifc->index, "neighbour ", &e->addr,
			   ": unreachable, entry deleted");
		neigh_free(s, e, US_CTR_ND6_DROP_RESOLUTION_FAILED, "neighbour unreachable");
		break;
	}
}

/* ---- Addresses: DAD and lifetimes --------------------------------------- */

static void iface_disable(struct us_stack *s, struct us_iface *ifc, const char *why);

static void addr_set_usable(struct us_stack *s, struct us_iface *ifc, struct us_addr6 *a)
{
	/* RFC 4862 §5.5.4: an address whose preferred lifetime is over is
	 * deprecated. */
	a->state = a->preferred_until <= s->now ? US_ADDR6_DEPRECATED : US_ADDR6_PREFERRED;
	a->dad_deadline = US_TIME_NEVER;
	us_routes_changed(s);
	trace_addr(s, US_TRACE_INFO, ifc->index, "ipv6 address ", &a->addr,
		   a->state == US_ADDR6_PREFERRED ? " preferred" : " deprecated");
}

/* RFC 4862 §5.4.5: "If the address is a link-local address formed from an
 * interface identifier based on the hardware address ... IP operation on
 * the interface SHOULD be disabled." */
static bool is_mac_link_local(const struct us_iface *ifc, const struct us_ip6 *a)
{
	struct us_ip6 ll;
	us_ip6_link_local_from_mac(ifc->mac, &ll);
	return ip6_eq(&ll, a);
}

/* RFC 4862 §5.4.5: "the address MUST NOT be assigned to the interface, and
 * the node SHOULD log a system management error". */
static void dad_failed(struct us_stack *s, struct us_iface *ifc, int idx, const char *why)
{
	struct us_addr6 *a = &ifc->addr6[idx];
	struct us_ip6 group;
	a->state = US_ADDR6_DUPLICATE;
	a->dad_deadline = US_TIME_NEVER;
	a->dad_probes_left = 0;
	us_routes_changed(s);
	if (a->in_group) {
		us_ip6_solicited_node(&a->addr, &group);
		group_leave(ifc, &group);
		a->in_group = false;
	}
	us_count(s, US_CTR_ND6_DAD_DUPLICATE);
	trace_addr(s, US_TRACE_INFO, ifc->index, "ipv6 address ", &a->addr, why);
	if (is_mac_link_local(ifc, &a->addr))
		iface_disable(s, ifc,
			      "IPv6 disabled: duplicate link-local address (RFC 4862 §5.4.5)");
}

void us_nd6_addr_added(struct us_stack *s, struct us_iface *ifc, int idx)
{
	if (!s || !ifc || idx < 0 || idx >= US_MAX_ADDR6 || !ifc->addr6[idx].used)
		return;
	struct us_addr6 *a = &ifc->addr6[idx];
	struct us_ip6 group;
	us_routes_changed(s);
	a->in_group = false;
	a->dad_probes_left = 0;
	a->dad_deadline = US_TIME_NEVER;
	if (ifstate(s, ifc)->disabled) {
		a->state = US_ADDR6_TENTATIVE;
		trace_addr(s, US_TRACE_INFO, ifc->index, "ipv6 address ", &a->addr,
			   " stays tentative: IPv6 is disabled on the interface");
		return;
	}
	/* RFC 4861 §7.2.1: "joining the solicited-node multicast address ...
	 * MUST be done for all unicast and anycast addresses"; RFC 4862
	 * §5.4.2: before DAD's probe. */
	us_ip6_solicited_node(&a->addr, &group);
	a->in_group = group_join(s, ifc, &group);
	if (s->cfg.no_dad) {
		addr_set_usable(s, ifc, a);
		return;
	}
	/* RFC 4862 §5.4: "Duplicate Address Detection MUST be performed on
	 * all unicast addresses prior to assigning them to an interface".
	 * §5.4.2: the first probe after a random delay "between 0 and
	 * MAX_RTR_SOLICITATION_DELAY"; here for every address (Deviation,
	 * see the top of the file). */
	a->state = US_ADDR6_TENTATIVE;
	a->dad_probes_left = US_ND6_DUP_ADDR_DETECT_TRANSMITS;
	a->dad_deadline = s->now + us_rand_below(&s->rand, US_ND6_MAX_RTR_SOLICITATION_DELAY + 1);
}

int us_nd6_addr_add(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *addr,
		    int prefix_len, bool autoconf, us_time_t valid_until,
		    us_time_t preferred_until)
{
	if (addr_index(ifc, addr) >= 0)
		return -EEXIST;
	for (int i = 0; i < US_MAX_ADDR6; i++) {
		struct us_addr6 *a = &ifc->addr6[i];
		if (a->used)
			continue;
		*a = (struct us_addr6){
			.used = true,
			.prefix_len = (uint8_t)prefix_len,
			.addr = *addr,
			.state = US_ADDR6_TENTATIVE,
			.autoconf = autoconf,
			.valid_until = valid_until,
			.preferred_until = preferred_until,
		};
		if (s->cfg.trace) {
			char buf[100];
			struct us_fmt f;
			us_fmt_init(&f, buf, sizeof buf);
			us_fmt_str(&f, "ipv6 address ");
			us_fmt_ip6(&f, addr);
			us_fmt_str(&f, "/");
			us_fmt_u64(&f, (uint64_t)prefix_len);
			us_fmt_str(&f, autoconf ? " added (SLAAC)" : " added");
			us_trace(s, US_TRACE_INFO, ifc->index, buf);
		}
		us_nd6_addr_added(s, ifc, i);
		return i;
	}
	return -ENOSPC;
}

void us_nd6_addr_remove(struct us_stack *s, struct us_iface *ifc, int idx, const char *why)
{
	struct us_addr6 *a = &ifc->addr6[idx];
	if (!a->used)
		return;
	if (a->in_group) {
		struct us_ip6 group;
		us_ip6_solicited_node(&a->addr, &group);
		group_leave(ifc, &group);
	}
	trace_addr(s, US_TRACE_INFO, ifc->index, "ipv6 address ", &a->addr, why);
	memset(a, 0, sizeof *a);
	us_routes_changed(s);
}

static void addr_timer(struct us_stack *s, struct us_iface *ifc, int idx)
{
	struct us_addr6 *a = &ifc->addr6[idx];
	if (a->valid_until <= s->now) {
		/* RFC 4862 §5.5.4: "An address (and its association with an
		 * interface) becomes invalid when its valid lifetime expires.
		 * An invalid address MUST NOT be used". */
		us_count(s, US_CTR_ND6_ADDR_EXPIRED);
		us_nd6_addr_remove(s, ifc, idx, " removed: valid lifetime over");
		return;
	}
	switch (a->state) {
	case US_ADDR6_TENTATIVE:
		if (a->dad_deadline > s->now)
			break;
		if (a->dad_probes_left > 0) {
			/* RFC 4862 §5.4.2: the probe is an NS "with the
			 * unspecified address as source, the solicited-node
			 * multicast address of the tentative address as
			 * destination, the tentative address as target". */
			struct us_ip6 group;
			us_ip6_solicited_node(&a->addr, &group);
			send_ns(s, ifc, NULL, &group, &a->addr, NULL);
			a->dad_probes_left--;
			a->dad_deadline = s->now + ifstate(s, ifc)->retrans_us;
			break;
		}
		/* §5.4: "If no Neighbor Advertisement ... after
		 * RetransTimer milliseconds, the address is considered
		 * unique" (§5.4.3 and §5.4.4 said otherwise when it was not). */
		us_count(s, US_CTR_ND6_DAD_SUCCEEDED);
		addr_set_usable(s, ifc, a);
		break;
	case US_ADDR6_PREFERRED:
		if (a->preferred_until <= s->now) {
			us_count(s, US_CTR_ND6_ADDR_DEPRECATED);
			a->state = US_ADDR6_DEPRECATED;
			us_routes_changed(s);
			trace_addr(s, US_TRACE_INFO, ifc->index, "ipv6 address ", &a->addr,
				   " deprecated: preferred lifetime over");
		}
		break;
	case US_ADDR6_DEPRECATED:
	case US_ADDR6_DUPLICATE:
		break;
	}
}

static us_time_t addr_deadline(const struct us_addr6 *a)
{
	us_time_t t = a->valid_until;
	switch (a->state) {
	case US_ADDR6_TENTATIVE:
		if (a->dad_deadline < t)
			t = a->dad_deadline;
		break;
	case US_ADDR6_PREFERRED:
		if (a->preferred_until < t)
			t = a->preferred_until;
		break;
	case US_ADDR6_DEPRECATED:
	case US_ADDR6_DUPLICATE:
		break;
	}
	return t;
}

static void iface_disable(struct us_stack *s, struct us_iface *ifc, const char *why)
{
	struct us_nd6_iface *is = ifstate(s, ifc);
	is->disabled = true;
	us_routes_changed(s);
	us_count(s, US_CTR_ND6_IFACE_DISABLED);
	us_trace(s, US_TRACE_INFO, ifc->index, why);
	for (int i = 0; i < US_MAX_ADDR6; i++)
		if (ifc->addr6[i].used && ifc->addr6[i].state != US_ADDR6_DUPLICATE)
			us_nd6_addr_remove(s, ifc, i, " removed: IPv6 disabled on the interface");
	memset(ifc->groups6, 0, sizeof ifc->groups6);
	memset(ifc->groups6_refs, 0, sizeof ifc->groups6_refs);
	for (int i = 0; i < US_ND6_NEIGH_MAX; i++) {
		struct us_nd6_neigh *e = &s->nd6.neigh[i];
		if (e->used && e->ifindex == ifc->index)
			neigh_free(s, e, US_CTR_ND6_DROP_DISABLED,
				   "IPv6 disabled on the interface");
	}
	us_nd6_rtr_iface_down(s, ifc);
}

/* ---- Interfaces ---------------------------------------------------------- */

void us_nd6_iface_up(struct us_stack *s, struct us_iface *ifc)
{
	if (!s || !ifc || ifc->index < 0 || ifc->index >= US_ND6_MAX_IFACES)
		return;
	struct us_nd6_iface *is = ifstate(s, ifc);
	*is = (struct us_nd6_iface){
		.up = true,
		.cur_hop_limit = US_ND6_DEFAULT_HOP_LIMIT,
		.mtu = ifc->mtu,
		.base_reachable_ms = US_ND6_REACHABLE_TIME_MS,
		.retrans_us = US_ND6_RETRANS_TIMER,
		.rs_deadline = US_TIME_NEVER,
	};
	us_nd6_draw_reachable(s, is);
	if (ifc->mtu < US_ND6_MIN_MTU) {
		/* RFC 8200 §5: "IPv6 requires that every link in the Internet
		 * have an MTU of 1280 octets or greater." */
		iface_disable(s, ifc, "IPv6 disabled: link MTU below 1280 (RFC 8200 §5)");
		return;
	}
	/* RFC 4291 §2.8: a host must recognise the all-nodes addresses. */
	group_join(s, ifc, &all_nodes);
	/* RFC 4862 §5.3: "A node forms a link-local address whenever an
	 * interface becomes enabled", fe80::/64 and the interface identifier
	 * (RFC 4291 Appendix A: modified EUI-64 from the MAC). */
	struct us_ip6 ll;
	us_ip6_link_local_from_mac(ifc->mac, &ll);
	us_nd6_addr_add(s, ifc, &ll, 64, false, US_TIME_NEVER, US_TIME_NEVER);
	us_nd6_rtr_iface_up(s, ifc);
}

uint8_t us_nd6_hop_limit(const struct us_stack *s, const struct us_iface *ifc)
{
	if (!s || !ifc || ifc->index < 0 || ifc->index >= US_ND6_MAX_IFACES)
		return US_ND6_DEFAULT_HOP_LIMIT;
	uint8_t h = s->nd6.ifs[ifc->index].cur_hop_limit;
	return h ? h : US_ND6_DEFAULT_HOP_LIMIT;
}

uint32_t us_nd6_link_mtu(const struct us_stack *s, const struct us_iface *ifc)
{
	if (!s || !ifc || ifc->index < 0 || ifc->index >= US_ND6_MAX_IFACES)
		return US_ND6_MIN_MTU;
	uint32_t mtu = s->nd6.ifs[ifc->index].mtu;
	return mtu ? mtu : ifc->mtu;
}

/* ---- Input: options, NS, NA --------------------------------------------- */

int us_nd6_opts_check(struct us_stack *s, struct us_iface *ifc, const uint8_t *opts, size_t len,
		      struct us_nd6_opts *out)
{
	struct us_ndp_opt_iter it;
	struct us_ndp_opt opt;
	int r;
	memset(out, 0, sizeof *out);
	us_ndp_opt_iter_init(&it, opts, len);
	while ((r = us_ndp_opt_next(&it, &opt)) > 0) {
		switch (opt.type) {
		case US_NDP_OPT_SLLA:
			if (out->has_slla)
				break;
			if (us_ndp_opt_lladdr(&opt, out->slla) != US_WIRE_OK)
				return us_drop(s, US_CTR_ND6_DROP_BAD_LLADDR, ifc->index,
					       "source link-layer address option of wrong length");
			out->has_slla = true;
			break;
		case US_NDP_OPT_TLLA:
			if (out->has_tlla)
				break;
			if (us_ndp_opt_lladdr(&opt, out->tlla) != US_WIRE_OK)
				return us_drop(s, US_CTR_ND6_DROP_BAD_LLADDR, ifc->index,
					       "target link-layer address option of wrong length");
			out->has_tlla = true;
			break;
		default:
			/* RFC 4861 §4.6: "Receivers MUST silently ignore any
			 * options they do not recognize and continue
			 * processing the message." */
			break;
		}
	}
	if (r == US_WIRE_OPT_BAD_LEN)
		return us_drop(s, US_CTR_ND6_DROP_OPT_ZERO_LEN, ifc->index,
			       "option with length zero (RFC 4861 §4.6)");
	if (r < 0)
		return us_drop(s, US_CTR_ND6_DROP_OPT_PAST_END, ifc->index,
			       "option runs past the message");
	return 0;
}

static int ns_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		    const uint8_t *msg, size_t len)
{
	struct us_ndp_ns ns;
	struct us_nd6_opts o;
	us_count(s, US_CTR_ND6_IN_NS);
	/* RFC 4861 §7.1.1, the checks not made in us_nd6_input(). */
	if (len < US_NDP_NS_LEN)
		return us_drop(s, US_CTR_ND6_DROP_TRUNCATED, ifc->index,
			       "NS shorter than 24 bytes");
	if (msg[8] == 0xff)
		return us_drop(s, US_CTR_ND6_DROP_MCAST_TARGET, ifc->index,
			       "NS target is multicast");
	int err = us_ndp_ns_parse(msg, len, &ns);
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ND6_DROP_TRUNCATED, ifc->index, us_wire_strerror(err));
	int rc = us_nd6_opts_check(s, ifc, ns.opts, ns.opts_len, &o);
	if (rc)
		return rc;
	bool from_unspec = us_ip6_is_unspecified(&ip->src);
	if (from_unspec && !is_solicited_node(&ip->dst))
		return us_drop(s, US_CTR_ND6_DROP_NS_UNSPEC_DST, ifc->index,
			       "NS from :: not to a solicited-node address");
	if (from_unspec && o.has_slla)
		return us_drop(s, US_CTR_ND6_DROP_NS_UNSPEC_SLLA, ifc->index,
			       "NS from :: with a source link-layer address option");

	/* §7.2.3: "If the Target Address is not a valid 'individual' address
	 * of the receiving interface ... the solicitation is silently
	 * discarded." */
	int idx = addr_index(ifc, &ns.target);
	if (idx < 0 || ifc->addr6[idx].state == US_ADDR6_DUPLICATE)
		return us_drop(s, US_CTR_ND6_DROP_NS_NOT_FOR_US, ifc->index,
			       "NS target is not our address");
	if (ifc->addr6[idx].state == US_ADDR6_TENTATIVE) {
		/* RFC 4862 §5.4.3: "If the source address of the Neighbor
		 * Solicitation is the unspecified address, the solicitation is
		 * from a node performing Duplicate Address Detection": ours
		 * is a duplicate. "If the target address is tentative, and
		 * the source address is a unicast address, ... the
		 * solicitation should be silently ignored." */
		if (from_unspec) {
			dad_failed(s, ifc, idx,
				   " is a duplicate (DAD: NS from :: for it), not used");
			return 0;
		}
		us_count(s, US_CTR_ND6_NS_TENTATIVE_IGNORED);
		return 0;
	}
	/* §7.2.3: "If the Source Address is not the unspecified address and,
	 * on link layers that have addresses, the solicitation includes a
	 * Source Link-Layer Address option, then the recipient SHOULD create
	 * or update the Neighbor Cache entry". */
	if (!from_unspec && o.has_slla)
		us_nd6_neigh_learn(s, ifc, &ip->src, o.slla, false);
	struct us_ip6 target = ns.target;
	send_na(s, ifc, &target, from_unspec ? &all_nodes : &ip->src, !from_unspec);
	return 0;
}

/* RFC 4861 §7.2.5 for an entry that exists. */
static void na_update(struct us_stack *s, struct us_iface *ifc, struct us_nd6_neigh *e,
		      const struct us_ndp_na *na, const struct us_nd6_opts *o)
{
	bool was_router = e->is_router;
	if (e->state == US_ND6_INCOMPLETE) {
		/* "it records the link-layer address in the Neighbor Cache
		 * entry ... If the advertisement's Solicited flag is set, the
		 * state of the entry is set to REACHABLE; otherwise, it is set
		 * to STALE. It sets the IsRouter flag ... [and] sends any
		 * packets queued". */
		memcpy(e->mac, o->tlla, US_ETH_ALEN);
		e->is_router = na->router;
		neigh_set_state(s, e, na->solicited ? US_ND6_REACHABLE : US_ND6_STALE,
				na->solicited ? "solicited NA" : "unsolicited NA");
		neigh_flush(s, e);
		return;
	}
	bool differs = o->has_tlla && memcmp(o->tlla, e->mac, US_ETH_ALEN) != 0;
	if (!na->override && differs) {
		/* "I. If the Override flag is clear and the supplied
		 * link-layer address differs from that in the cache, then
		 * one of two actions takes place: a. If the state of the entry
		 * is REACHABLE, set it to STALE, but do not update the entry
		 * in any other way. b. Otherwise, the received advertisement
		 * should be ignored and MUST NOT update the cache." */
		if (e->state == US_ND6_REACHABLE)
			neigh_set_state(s, e, US_ND6_STALE, "NA without override, other address");
		else
			us_count(s, US_CTR_ND6_NA_NO_OVERRIDE);
		return;
	}
	/* "II. If the Override flag is set, or the supplied link-layer
	 * address is the same as that in the cache, or no Target Link-Layer
	 * Address option was supplied, the received advertisement MUST
	 * update the Neighbor Cache entry as follows": */
	if (differs)
		memcpy(e->mac, o->tlla, US_ETH_ALEN);
	if (na->solicited)
		neigh_set_state(s, e, US_ND6_REACHABLE, "solicited NA");
	else if (differs)
		neigh_set_state(s, e, US_ND6_STALE, "NA with a new link-layer address");
	e->is_router = na->router;
	/* "In those cases where the IsRouter flag changes from TRUE to FALSE
	 * ..., the node MUST remove that router from the Default Router List". */
	if (was_router && !na->router)
		us_nd6_router_forget(s, ifc, &e->addr);
}

static int na_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		    const uint8_t *msg, size_t len)
{
	struct us_ndp_na na;
	struct us_nd6_opts o;
	us_count(s, US_CTR_ND6_IN_NA);
	/* RFC 4861 §7.1.2, the checks not made in us_nd6_input(). */
	if (len < US_NDP_NA_LEN)
		return us_drop(s, US_CTR_ND6_DROP_TRUNCATED, ifc->index,
			       "NA shorter than 24 bytes");
	if (msg[8] == 0xff)
		return us_drop(s, US_CTR_ND6_DROP_MCAST_TARGET, ifc->index,
			       "NA target is multicast");
	int err = us_ndp_na_parse(msg, len, &na);
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ND6_DROP_TRUNCATED, ifc->index, us_wire_strerror(err));
	int rc = us_nd6_opts_check(s, ifc, na.opts, na.opts_len, &o);
	if (rc)
		return rc;
	/* "If the IP Destination Address is a multicast address the
	 * Solicited flag is zero." */
	if (us_ip6_is_multicast(&ip->dst) && na.solicited)
		return us_drop(s, US_CTR_ND6_DROP_NA_SOLICITED_MCAST, ifc->index,
			       "solicited NA to a multicast address");

	int idx = addr_index(ifc, &na.target);
	if (idx >= 0) {
		switch (ifc->addr6[idx].state) {
		case US_ADDR6_TENTATIVE:
			/* RFC 4862 §5.4.4: "If the target address is
			 * tentative, the tentative address is not unique." */
			dad_failed(s, ifc, idx, " is a duplicate (DAD: NA for it), not used");
			return 0;
		case US_ADDR6_PREFERRED:
		case US_ADDR6_DEPRECATED:
		case US_ADDR6_DUPLICATE:
			/* Someone else claims an address we hold. RFC 4862
			 * §5.4.4 leaves it to the node; like Linux, log it
			 * and never cache our own address. */
			us_count(s, US_CTR_ND6_NA_FOR_OUR_ADDR);
			trace_addr(s, US_TRACE_INFO, ifc->index,
				   "another node advertises our address ", &na.target, NULL);
			return 0;
		}
	}
	struct us_nd6_neigh *e = neigh_lookup(s, ifc, &na.target);
	/* §7.2.5: "If no entry exists, the advertisement SHOULD be silently
	 * discarded. There is no need to create an entry if none exists". */
	if (!e)
		return us_drop(s, US_CTR_ND6_DROP_NA_NO_ENTRY, ifc->index,
			       "NA for a neighbour not in the cache");
	/* "If the link layer has addresses and no Target Link-Layer Address
	 * option is included, the receiving node SHOULD silently discard the
	 * received advertisement." (INCOMPLETE) */
	if (e->state == US_ND6_INCOMPLETE && !o.has_tlla)
		return us_drop(s, US_CTR_ND6_DROP_NA_NO_TLLA, ifc->index,
			       "NA without target link-layer address for an INCOMPLETE entry");
	na_update(s, ifc, e, &na, &o);
	return 0;
}

int us_nd6_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		 const uint8_t *msg, size_t len)
{
	if (!s || !ifc || !ip || !msg)
		return -EINVAL;
	us_count(s, US_CTR_ND6_IN);
	if (len < US_ICMP6_HDR_LEN)
		return us_drop(s, US_CTR_ND6_DROP_TRUNCATED, ifc->index, "ICMPv6 header truncated");
	if (msg[0] == US_ICMP6_ND_RS)
		return us_nd6_rs_input(s, ifc, ip, msg, len);
	if (ifstate(s, ifc)->disabled)
		return us_drop(s, US_CTR_ND6_DROP_DISABLED, ifc->index,
			       "IPv6 is disabled on the interface");
	/* RFC 4861 §6.1.2, §7.1.1, §7.1.2, §8.1: "The IP Hop Limit field has
	 * a value of 255, i.e., the packet could not possibly have been
	 * forwarded by a router." */
	if (ip->hop_limit != 255)
		return us_drop(s, US_CTR_ND6_DROP_HOP_LIMIT, ifc->index, "IP hop limit is not 255");
	/* "ICMP Code is 0." */
	if (msg[1] != 0)
		return us_drop(s, US_CTR_ND6_DROP_BAD_CODE, ifc->index, "ICMP code is not 0");
	switch (msg[0]) {
	case US_ICMP6_ND_RA:
		return us_nd6_ra_input(s, ifc, ip, msg, len);
	case US_ICMP6_ND_NS:
		return ns_input(s, ifc, ip, msg, len);
	case US_ICMP6_ND_NA:
		return na_input(s, ifc, ip, msg, len);
	case US_ICMP6_ND_REDIRECT:
		return us_nd6_redirect_input(s, ifc, ip, msg, len);
	default:
		return us_drop(s, US_CTR_ND6_DROP_UNKNOWN_TYPE, ifc->index,
			       "not a Neighbor Discovery message");
	}
}

/* ---- Module life and timers ---------------------------------------------- */

void us_nd6_init(struct us_stack *s)
{
	memset(&s->nd6, 0, sizeof s->nd6);
	s->nd6.neigh_next = US_TIME_NEVER;
	for (int i = 0; i < US_ND6_MAX_IFACES; i++)
		s->nd6.ifs[i].rs_deadline = US_TIME_NEVER;
}

void us_nd6_fini(struct us_stack *s)
{
	for (int i = 0; i < US_ND6_NEIGH_MAX; i++) {
		struct us_nd6_neigh *e = &s->nd6.neigh[i];
		while (e->q_head) {
			struct us_pbuf *b = e->q_head;
			e->q_head = b->next;
			b->next = NULL;
			us_pbuf_free(&s->pool, b);
		}
		e->q_tail = NULL;
		e->q_len = 0;
		e->q_bytes = 0;
	}
	s->nd6.queued = 0;
}

void us_nd6_poll(struct us_stack *s)
{
	if (s->nd6.neigh_next <= s->now) {
		for (int i = 0; i < US_ND6_NEIGH_MAX; i++) {
			struct us_nd6_neigh *e = &s->nd6.neigh[i];
			if (e->used && e->deadline <= s->now)
				neigh_timer(s, e);
		}
		neigh_deadlines_moved(s);
	}
	for (int n = 0; n < s->n_iface; n++) {
		struct us_iface *ifc = &s->iface[n];
		for (int i = 0; i < US_MAX_ADDR6; i++)
			if (ifc->addr6[i].used && addr_deadline(&ifc->addr6[i]) <= s->now)
				addr_timer(s, ifc, i);
	}
	us_nd6_rtr_poll(s);
}

us_time_t us_nd6_next_deadline(const struct us_stack *s)
{
	us_time_t t = s->nd6.neigh_next;
	for (int n = 0; n < s->n_iface; n++) {
		const struct us_iface *ifc = &s->iface[n];
		for (int i = 0; i < US_MAX_ADDR6; i++) {
			if (!ifc->addr6[i].used)
				continue;
			us_time_t a = addr_deadline(&ifc->addr6[i]);
			if (a < t)
				t = a;
		}
	}
	us_time_t r = us_nd6_rtr_next_deadline(s);
	return r < t ? r : t;
}

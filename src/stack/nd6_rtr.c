/* SPDX-License-Identifier: MIT */
/*
 * nd6_rtr.c - the router side of Neighbor Discovery on a host (RFC 4861):
 * Router Solicitation (§6.3.7), Router Advertisement validation (§6.1.2) and
 * processing (§6.3.4) into the Default Router List and the Prefix List
 * (§5.1), stateless address autoconfiguration from prefixes (RFC 4862
 * §5.5.3, §5.5.4), Redirect validation (§8.1), and next-hop determination
 * (§5.2, §6.3.6).
 *
 * Read first: nd6.c's opening comment (the cache, DAD, the decisions), then
 * RFC 4861 §6.3.4 and RFC 4862 §5.5.3, which process_prefix() walks step by
 * step.
 *
 * Decisions:
 * - Both lists are bounded (US_ND6_ROUTERS_MAX, US_ND6_PREFIXES_MAX for
 *   all interfaces); a router or prefix that finds them full is ignored and
 *   counted (nd6.router_list_full, nd6.prefix_list_full). SLAAC addresses
 *   share the interface's US_MAX_ADDR6 slots (nd6.slaac_no_room).
 * - RFC 5942 §4: "The assignment of an address ... MUST NOT implicitly
 *   create an on-link prefix". On-link comes from an L-flagged prefix, or
 *   from the prefix length of an address configured by hand (like Linux's
 *   prefix route for a static address); a SLAAC address alone makes nothing
 *   on-link.
 * - s->cfg.no_slaac turns off address autoconfiguration only (RFC 4862
 *   §5.5.3): on-link prefixes, routers and the RA's parameters are still
 *   learnt (RFC 4861 §6.3.4), as Linux does with autoconf=0.
 * - A SLAAC prefix must be /64 (our interface identifier from the MAC is 64
 *   bits); anything else is ignored for SLAAC and counted
 *   (nd6.ra_prefix_bad_length), as is a prefix length above 128.
 * - The RS stops on the first valid RA with a non-zero Router Lifetime
 *   (§6.3.7: "receives a valid Router Advertisement with a non-zero Router
 *   Lifetime, the host MUST desist from sending additional solicitations").
 * - Not implemented: acting on Redirects (§8.3). There is no destination
 *   cache to update; a valid Redirect is counted (nd6.redirect_ignored) and
 *   traced, and traffic keeps going through the default router, which
 *   still forwards it. RFC 4861 §8.3 makes updating a SHOULD.
 * - Not implemented: Default Router Preferences and Route Information
 *   (RFC 4191), RDNSS/DNSSL (RFC 8106: no resolver yet), the M and O flags
 *   (no DHCPv6), round-robin among unreachable routers (§6.3.6; the first
 *   one is used). ReachableTime above one hour (RFC 4861 §6.2.1 forbids
 *   routers to advertise it) is ignored and counted.
 */
#include "nd6.h"

#include "stack.h"

#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "wire/bytes.h"
#include "wire/icmp6.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

/* RFC 4862 §5.5.3 (e): "2 hours". */
#define TWO_HOURS US_SEC(2 * 3600)
/* RFC 4861 §6.2.1: AdvReachableTime "MUST be no greater than 3,600,000
 * milliseconds (1 hour)". */
#define MAX_REACHABLE_TIME_MS 3600000u
/* An interface identifier from a MAC is 64 bits (RFC 4291 §2.5.1), so a
 * prefix for SLAAC must be 128 - 64 (RFC 4862 §5.5.3 (d)). */
#define SLAAC_PREFIX_LEN 64
#define LIFETIME_INFINITY 0xffffffffu

static const struct us_ip6 all_routers = { .b = { 0xff, 0x02, [15] = 0x02 } };
static const struct us_ip6 unspecified;

static bool ip6_eq(const struct us_ip6 *a, const struct us_ip6 *b)
{
	return memcmp(a->b, b->b, sizeof a->b) == 0;
}

/* The first len bits of a and b are equal. */
static bool prefix_match(const struct us_ip6 *a, const struct us_ip6 *b, unsigned len)
{
	unsigned bytes = len / 8, bits = len % 8;
	if (len > 128)
		return false;
	if (memcmp(a->b, b->b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));
	return (a->b[bytes] & mask) == (b->b[bytes] & mask);
}

static struct us_nd6_iface *ifstate(struct us_stack *s, const struct us_iface *ifc)
{
	return &s->nd6.ifs[ifc->index];
}

static void trace_addr(struct us_stack *s, int ifindex, const char *what, const struct us_ip6 *a,
		       const char *tail)
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
	us_trace(s, US_TRACE_INFO, ifindex, buf);
}

/* A lifetime in seconds from an RA as a deadline; all ones is infinity
 * (RFC 4861 §4.6.2). */
static us_time_t lifetime_deadline(const struct us_stack *s, uint32_t secs)
{
	if (secs == LIFETIME_INFINITY)
		return US_TIME_NEVER;
	return s->now + US_SEC((us_time_t)secs);
}

/* ---- Router Solicitation (RFC 4861 §6.3.7) ------------------------------ */

void us_nd6_rtr_iface_up(struct us_stack *s, struct us_iface *ifc)
{
	struct us_nd6_iface *is = ifstate(s, ifc);
	is->rs_sent = 0;
	is->rs_deadline = US_TIME_NEVER;
	if (s->cfg.no_router_solicit)
		return;
	/* "Before a host sends an initial solicitation, it SHOULD delay the
	 * transmission for a random amount of time between 0 and
	 * MAX_RTR_SOLICITATION_DELAY." */
	is->rs_deadline = s->now + us_rand_below(&s->rand, US_ND6_MAX_RTR_SOLICITATION_DELAY + 1);
}

/* RFC 4861 §4.1 / §6.3.7: to all-routers, from an address of the interface
 * (the link-local one) with the Source Link-Layer Address option, or from
 * :: without it when none is usable yet (the option "MUST NOT be included
 * if the Source Address is the unspecified address"). */
static void send_rs(struct us_stack *s, struct us_iface *ifc)
{
	struct us_ip6 src;
	bool have_src = us_nd6_usable_src(ifc, &src);
	size_t len = US_NDP_RS_LEN + (have_src ? 8 : 0);
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)len);
	if (!b)
		return;
	uint8_t *m = us_pbuf_data(b);
	size_t n = us_ndp_rs_emit(NULL, m, len);
	if (have_src)
		n += us_ndp_opt_lladdr_emit(US_NDP_OPT_SLLA, ifc->mac, m + n, len - n);
	if (n != len) {
		us_pbuf_free(&s->pool, b);
		return;
	}
	us_count(s, US_CTR_ND6_OUT_RS);
	us_nd6_send(s, ifc, b, have_src ? &src : &unspecified, &all_routers, NULL);
}

static void rs_timer(struct us_stack *s, struct us_iface *ifc)
{
	struct us_nd6_iface *is = ifstate(s, ifc);
	send_rs(s, ifc);
	is->rs_sent++;
	/* "a host SHOULD transmit up to MAX_RTR_SOLICITATIONS Router
	 * Solicitation messages, each separated by at least
	 * RTR_SOLICITATION_INTERVAL seconds." */
	if (is->rs_sent < US_ND6_MAX_RTR_SOLICITATIONS)
		is->rs_deadline = s->now + US_ND6_RTR_SOLICITATION_INTERVAL;
	else
		is->rs_deadline = US_TIME_NEVER;
}

int us_nd6_rs_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		    const uint8_t *msg, size_t len)
{
	(void)ip, (void)msg, (void)len;
	/* RFC 4861 §6.2.6: "A host MUST silently discard any received Router
	 * Solicitation messages." */
	return us_drop(s, US_CTR_ND6_DROP_RS_HOST, ifc->index, "Router Solicitation to a host");
}

/* ---- The Default Router List and the Prefix List ------------------------ */

static struct us_nd6_router *router_find(struct us_stack *s, const struct us_iface *ifc,
					 const struct us_ip6 *addr)
{
	for (int i = 0; i < US_ND6_ROUTERS_MAX; i++) {
		struct us_nd6_router *r = &s->nd6.routers[i];
		if (r->used && r->ifindex == ifc->index && ip6_eq(&r->addr, addr))
			return r;
	}
	return NULL;
}

void us_nd6_router_forget(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *addr)
{
	struct us_nd6_router *r = router_find(s, ifc, addr);
	if (!r)
		return;
	trace_addr(s, ifc->index, "default router ", addr, " removed: no longer a router");
	memset(r, 0, sizeof *r);
	us_routes_changed(s);
}

/* RFC 4861 §6.3.4: "If the address is not already present in the host's
 * Default Router List, and the advertisement's Router Lifetime is non-zero,
 * create a new entry ... If the address is already present ..., and the
 * received Router Lifetime value is zero, immediately time-out the entry". */
static void router_update(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *addr,
			  uint16_t lifetime_s)
{
	struct us_nd6_router *r = router_find(s, ifc, addr);
	if (lifetime_s == 0) {
		if (r) {
			trace_addr(s, ifc->index, "default router ", addr, " removed: lifetime 0");
			memset(r, 0, sizeof *r);
			us_routes_changed(s);
		}
		return;
	}
	us_time_t expires = s->now + US_SEC((us_time_t)lifetime_s);
	if (r) {
		r->expires = expires;
		return;
	}
	for (int i = 0; i < US_ND6_ROUTERS_MAX; i++) {
		r = &s->nd6.routers[i];
		if (r->used)
			continue;
		*r = (struct us_nd6_router){ .used = true, .ifindex = (uint8_t)ifc->index,
					     .addr = *addr, .expires = expires };
		us_count(s, US_CTR_ND6_ROUTER_ADDED);
		us_routes_changed(s);
		trace_addr(s, ifc->index, "default router ", addr, " added");
		return;
	}
	us_count(s, US_CTR_ND6_ROUTER_LIST_FULL);
}

static struct us_nd6_prefix *prefix_find(struct us_stack *s, const struct us_iface *ifc,
					 const struct us_ndp_prefix *p)
{
	for (int i = 0; i < US_ND6_PREFIXES_MAX; i++) {
		struct us_nd6_prefix *e = &s->nd6.prefixes[i];
		if (e->used && e->ifindex == ifc->index && e->len == p->prefix_len &&
		    ip6_eq(&e->prefix, &p->prefix))
			return e;
	}
	return NULL;
}

/* RFC 4861 §6.3.4, for a prefix with the on-link flag set: "If the prefix
 * is not already present in the Prefix List, and the Prefix Information
 * option's Valid Lifetime field is non-zero, create a new entry ... If the
 * prefix is already present ..., reset its invalidation timer to the Valid
 * Lifetime value ... If the new Lifetime value is zero, time-out the prefix
 * immediately." */
static void prefix_onlink(struct us_stack *s, struct us_iface *ifc, const struct us_ndp_prefix *p)
{
	struct us_nd6_prefix *e = prefix_find(s, ifc, p);
	if (p->valid_lifetime_s == 0) {
		if (e) {
			memset(e, 0, sizeof *e);
			us_routes_changed(s);
		}
		return;
	}
	us_time_t expires = lifetime_deadline(s, p->valid_lifetime_s);
	if (e) {
		e->expires = expires;
		return;
	}
	for (int i = 0; i < US_ND6_PREFIXES_MAX; i++) {
		e = &s->nd6.prefixes[i];
		if (e->used)
			continue;
		*e = (struct us_nd6_prefix){ .used = true, .ifindex = (uint8_t)ifc->index,
					     .len = p->prefix_len, .prefix = p->prefix,
					     .expires = expires };
		us_routes_changed(s);
		return;
	}
	us_count(s, US_CTR_ND6_PREFIX_LIST_FULL);
}

/* ---- SLAAC (RFC 4862 §5.5.3) -------------------------------------------- */

/* The address SLAAC made from prefix p on ifc, or -1: "the two prefix
 * lengths are the same and the first prefix-length bits of the prefixes are
 * identical". */
static int slaac_find(const struct us_iface *ifc, const struct us_ndp_prefix *p)
{
	for (int i = 0; i < US_MAX_ADDR6; i++) {
		const struct us_addr6 *a = &ifc->addr6[i];
		if (a->used && a->autoconf && a->prefix_len == p->prefix_len &&
		    prefix_match(&a->addr, &p->prefix, p->prefix_len))
			return i;
	}
	return -1;
}

/* §5.5.3 (e) for an address SLAAC made earlier. */
static void slaac_refresh(struct us_stack *s, struct us_iface *ifc, struct us_addr6 *a,
			  const struct us_ndp_prefix *p)
{
	/* "The preferred lifetime of the address is reset to the Preferred
	 * Lifetime in the received advertisement." */
	a->preferred_until = lifetime_deadline(s, p->preferred_lifetime_s);
	switch (a->state) {
	case US_ADDR6_PREFERRED:
		if (a->preferred_until <= s->now) {
			us_count(s, US_CTR_ND6_ADDR_DEPRECATED);
			a->state = US_ADDR6_DEPRECATED;
			us_routes_changed(s);
			trace_addr(s, ifc->index, "ipv6 address ", &a->addr,
				   " deprecated: preferred lifetime 0");
		}
		break;
	case US_ADDR6_DEPRECATED:
		/* §5.5.4: "a deprecated address ... [becomes] preferred again
		 * if its preferred lifetime is extended". */
		if (a->preferred_until > s->now) {
			a->state = US_ADDR6_PREFERRED;
			us_routes_changed(s);
			trace_addr(s, ifc->index, "ipv6 address ", &a->addr, " preferred again");
		}
		break;
	case US_ADDR6_TENTATIVE:
	case US_ADDR6_DUPLICATE:
		break;
	}
	/* "The specific action to perform for the valid lifetime of the
	 * address depends on the Valid Lifetime in the received advertisement
	 * and the remaining time to the valid lifetime expiration of the
	 * previously autoconfigured address.":
	 * "1. If the received Valid Lifetime is greater than 2 hours or
	 *  greater than RemainingLifetime, set the valid lifetime of the
	 *  corresponding address to the advertised Valid Lifetime.
	 *  2. If RemainingLifetime is less than or equal to 2 hours, ignore
	 *  the Prefix Information option with regards to the valid lifetime,
	 *  unless the Router Advertisement from which this option was obtained
	 *  has been authenticated (e.g., via Secure Neighbor Discovery).
	 *  3. Otherwise, reset the valid lifetime of the corresponding address
	 *  to 2 hours." (No SEND here: nothing is authenticated.) */
	us_time_t received = lifetime_deadline(s, p->valid_lifetime_s);
	bool received_over_2h = p->valid_lifetime_s == LIFETIME_INFINITY ||
				US_SEC((us_time_t)p->valid_lifetime_s) > TWO_HOURS;
	bool remaining_le_2h = a->valid_until != US_TIME_NEVER &&
			       a->valid_until - s->now <= TWO_HOURS;
	if (received_over_2h || received > a->valid_until)
		a->valid_until = received;
	else if (!remaining_le_2h)
		a->valid_until = s->now + TWO_HOURS;
}

static void slaac(struct us_stack *s, struct us_iface *ifc, const struct us_ndp_prefix *p)
{
	/* "a) If the Autonomous flag is not set, silently ignore the Prefix
	 * Information option." (b: the link-local prefix, done by the caller.) */
	if (s->cfg.no_slaac || !p->autonomous)
		return;
	/* "c) If the preferred lifetime is greater than the valid lifetime,
	 * silently ignore the Prefix Information option." */
	if (p->preferred_lifetime_s > p->valid_lifetime_s) {
		us_count(s, US_CTR_ND6_RA_PREFIX_BAD_LIFETIME);
		return;
	}
	/* "If the sum of the prefix length and interface identifier length
	 * does not equal 128 bits, the Prefix Information option MUST be
	 * ignored." */
	if (p->prefix_len != SLAAC_PREFIX_LEN) {
		us_count(s, US_CTR_ND6_RA_PREFIX_BAD_LENGTH);
		trace_addr(s, ifc->index, "RA prefix ", &p->prefix,
			   " ignored for SLAAC: prefix length is not 64");
		return;
	}
	int idx = slaac_find(ifc, p);
	if (idx >= 0) {
		slaac_refresh(s, ifc, &ifc->addr6[idx], p);
		return;
	}
	/* "d) If the prefix advertised is not equal to the prefix of an
	 * address configured by stateless autoconfiguration already in the
	 * list of addresses associated with the interface ..., and if the
	 * Valid Lifetime is not 0, form an address (and add it to the list)
	 * by combining the advertised prefix with an interface identifier". */
	if (p->valid_lifetime_s == 0)
		return;
	struct us_ip6 addr;
	us_ip6_link_local_from_mac(ifc->mac, &addr);
	memcpy(addr.b, p->prefix.b, SLAAC_PREFIX_LEN / 8);
	/* The new address is TENTATIVE and goes through DAD (§5.4). */
	int rc = us_nd6_addr_add(s, ifc, &addr, SLAAC_PREFIX_LEN, true,
				 lifetime_deadline(s, p->valid_lifetime_s),
				 lifetime_deadline(s, p->preferred_lifetime_s));
	if (rc == -ENOSPC)
		us_count(s, US_CTR_ND6_SLAAC_NO_ROOM);
	else if (rc >= 0)
		us_count(s, US_CTR_ND6_SLAAC_ADDED);
	/* -EEXIST: the same address is configured by hand; it stays as it is. */
}

static void process_prefix(struct us_stack *s, struct us_iface *ifc, const struct us_ndp_prefix *p)
{
	/* RFC 4861 §6.3.4 and RFC 4862 §5.5.3 b): "If the prefix is the
	 * link-local prefix, silently ignore the Prefix Information option." */
	if (us_ip6_is_link_local(&p->prefix)) {
		us_count(s, US_CTR_ND6_RA_PREFIX_LINK_LOCAL);
		return;
	}
	/* A multicast prefix is no prefix of the link; Linux ignores it too. */
	if (us_ip6_is_multicast(&p->prefix)) {
		us_count(s, US_CTR_ND6_RA_PREFIX_MULTICAST);
		return;
	}
	if (p->onlink)
		prefix_onlink(s, ifc, p);
	slaac(s, ifc, p);
}

/* ---- Router Advertisement ------------------------------------------------ */

/* The options of a valid RA, in the order they came. */
static void ra_options(struct us_stack *s, struct us_iface *ifc, const struct us_ndp_ra *ra)
{
	struct us_nd6_iface *is = ifstate(s, ifc);
	struct us_ndp_opt_iter it;
	struct us_ndp_opt opt;
	us_ndp_opt_iter_init(&it, ra->opts, ra->opts_len);
	/* us_nd6_opts_check() walked the area already: every option is whole. */
	while (us_ndp_opt_next(&it, &opt) > 0) {
		switch (opt.type) {
		case US_NDP_OPT_MTU: {
			uint32_t mtu;
			if (us_ndp_opt_mtu(&opt, &mtu) != US_WIRE_OK) {
				us_count(s, US_CTR_ND6_RA_BAD_OPTION);
				break;
			}
			/* §6.3.4: "hosts SHOULD copy the option's value into
			 * LinkMTU so long as the value is greater than or
			 * equal to the minimum link MTU [IPv6] and does not
			 * exceed the maximum LinkMTU value specified in the
			 * link-type-specific document". The link's maximum
			 * is the interface's MTU. */
			if (mtu < US_ND6_MIN_MTU || mtu > ifc->mtu) {
				us_count(s, US_CTR_ND6_RA_MTU_IGNORED);
				break;
			}
			if (is->mtu != mtu)
				us_routes_changed(s);
			is->mtu = mtu;
			break;
		}
		case US_NDP_OPT_PREFIX: {
			struct us_ndp_prefix p;
			int err = us_ndp_opt_prefix(&opt, &p);
			if (err == US_WIRE_BAD_FIELD) {
				/* A prefix length above 128. */
				us_count(s, US_CTR_ND6_RA_PREFIX_BAD_LENGTH);
				break;
			}
			if (err != US_WIRE_OK) {
				us_count(s, US_CTR_ND6_RA_BAD_OPTION);
				break;
			}
			process_prefix(s, ifc, &p);
			break;
		}
		default:
			break;
		}
	}
}

int us_nd6_ra_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		    const uint8_t *msg, size_t len)
{
	struct us_ndp_ra ra;
	struct us_nd6_opts o;
	struct us_nd6_iface *is = ifstate(s, ifc);
	us_count(s, US_CTR_ND6_IN_RA);
	/* RFC 4861 §6.1.2, the checks not made in us_nd6_input(): "IP Source
	 * Address is a link-local address. Routers must use their link-local
	 * address as the source for Router Advertisement messages so that
	 * hosts can uniquely identify routers." */
	if (!us_ip6_is_link_local(&ip->src))
		return us_drop(s, US_CTR_ND6_DROP_RA_SRC, ifc->index,
			       "RA source is not link-local");
	/* "ICMP length (derived from the IP length) is 16 or more octets." */
	if (len < US_NDP_RA_LEN)
		return us_drop(s, US_CTR_ND6_DROP_TRUNCATED, ifc->index,
			       "RA shorter than 16 bytes");
	int err = us_ndp_ra_parse(msg, len, &ra);
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ND6_DROP_TRUNCATED, ifc->index, us_wire_strerror(err));
	/* "All included options have a length that is greater than zero." */
	int rc = us_nd6_opts_check(s, ifc, ra.opts, ra.opts_len, &o);
	if (rc)
		return rc;

	/* §6.3.7: "receives a valid Router Advertisement with a non-zero
	 * Router Lifetime, the host MUST desist from sending additional
	 * solicitations on that interface". */
	if (ra.router_lifetime_s != 0)
		is->rs_deadline = US_TIME_NEVER;

	/* §6.3.4, the Default Router List. */
	router_update(s, ifc, &ip->src, ra.router_lifetime_s);
	/* "If the received Cur Hop Limit value is non-zero, the host SHOULD
	 * set its CurHopLimit variable to the received value." */
	if (ra.cur_hop_limit != 0)
		is->cur_hop_limit = ra.cur_hop_limit;
	/* "If the received Reachable Time value is non-zero, the host SHOULD
	 * set its BaseReachableTime variable to the received value. If the
	 * new value differs from the previous value, the host SHOULD
	 * re-compute a new random ReachableTime value." */
	if (ra.reachable_time_ms > MAX_REACHABLE_TIME_MS) {
		us_count(s, US_CTR_ND6_RA_REACHABLE_IGNORED);
	} else if (ra.reachable_time_ms != 0 && ra.reachable_time_ms != is->base_reachable_ms) {
		is->base_reachable_ms = ra.reachable_time_ms;
		us_nd6_draw_reachable(s, is);
	}
	/* "The RetransTimer variable SHOULD be copied from the Retrans Timer
	 * field, if the received value is non-zero." */
	if (ra.retrans_timer_ms != 0)
		is->retrans_us = US_MSEC((us_time_t)ra.retrans_timer_ms);
	/* "If the advertisement contains a Source Link-Layer Address option,
	 * the link-layer address SHOULD be recorded in the Neighbor Cache
	 * entry for the router (creating an entry if necessary) and the
	 * IsRouter flag in the Neighbor Cache entry MUST be set to TRUE." */
	us_nd6_neigh_learn(s, ifc, &ip->src, o.has_slla ? o.slla : NULL, true);
	ra_options(s, ifc, &ra);
	return 0;
}

/* ---- Redirect (RFC 4861 §8.1) -------------------------------------------- */

int us_nd6_redirect_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
			  const uint8_t *msg, size_t len)
{
	struct us_ndp_redirect rd;
	struct us_nd6_opts o;
	us_count(s, US_CTR_ND6_IN_REDIRECT);
	/* §8.1, the checks not made in us_nd6_input(): "IP Source Address is
	 * a link-local address." */
	if (!us_ip6_is_link_local(&ip->src))
		return us_drop(s, US_CTR_ND6_DROP_REDIRECT_SRC, ifc->index,
			       "Redirect source is not link-local");
	if (len < US_NDP_REDIRECT_LEN)
		return us_drop(s, US_CTR_ND6_DROP_TRUNCATED, ifc->index,
			       "Redirect shorter than 40 bytes");
	/* "The ICMP Destination Address field in the redirect message does
	 * not contain a multicast address." "The ICMP Target Address is
	 * either a link-local address ... or the same as the ICMP Destination
	 * Address" (both checked by the parser). */
	int err = us_ndp_redirect_parse(msg, len, &rd);
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ND6_DROP_REDIRECT_BAD_ADDR, ifc->index,
			       "Redirect to a multicast destination, or target neither "
			       "link-local nor the destination");
	int rc = us_nd6_opts_check(s, ifc, rd.opts, rd.opts_len, &o);
	if (rc)
		return rc;
	/* "The IP source address of the Redirect is the same as the current
	 * first-hop router for the specified ICMP Destination Address." */
	struct us_iface *out;
	struct us_ip6 nh;
	if (us_nd6_next_hop(s, &rd.dest, ifc->index, &out, &nh) != 0 || out != ifc ||
	    !ip6_eq(&nh, &ip->src))
		return us_drop(s, US_CTR_ND6_DROP_REDIRECT_NOT_ROUTER, ifc->index,
			       "Redirect not from the first-hop router for its destination");
	us_count(s, US_CTR_ND6_REDIRECT_IGNORED);
	trace_addr(s, ifc->index, "Redirect for ", &rd.dest,
		   " is valid but not acted on (no destination cache)");
	return 0;
}

/* ---- Next-hop determination (RFC 4861 §5.2) ----------------------------- */

/* §5.2: "a longest prefix match against the Prefix List"; any match will
 * do for a host, since every on-link prefix leads to the same answer: the
 * destination itself. */
static bool on_link(const struct us_stack *s, const struct us_iface *ifc, const struct us_ip6 *dst)
{
	for (int i = 0; i < US_MAX_ADDR6; i++) {
		const struct us_addr6 *a = &ifc->addr6[i];
		if (a->used && !a->autoconf && a->state != US_ADDR6_DUPLICATE &&
		    prefix_match(&a->addr, dst, a->prefix_len))
			return true;
	}
	for (int i = 0; i < US_ND6_PREFIXES_MAX; i++) {
		const struct us_nd6_prefix *p = &s->nd6.prefixes[i];
		if (p->used && p->ifindex == ifc->index && prefix_match(&p->prefix, dst, p->len))
			return true;
	}
	return false;
}

int us_nd6_next_hop(struct us_stack *s, const struct us_ip6 *dst, int ifindex,
		    struct us_iface **ifc, struct us_ip6 *next_hop)
{
	if (!s || !dst || !ifc || !next_hop)
		return -ENETUNREACH;
	struct us_iface *pinned = NULL;
	if (ifindex >= 0) {
		pinned = us_iface_get(s, ifindex);
		if (!pinned)
			return -ENETUNREACH;
	}
	/* RFC 4291 §2.5.2, §2.5.3: :: and ::1 never leave a node. */
	if (us_ip6_is_unspecified(dst) || us_ip6_is_loopback(dst))
		return -ENETUNREACH;
	/* Link-local and multicast destinations are on the link they are
	 * sent on (RFC 4291 §2.5.6; RFC 4861 §7.2: no resolution for
	 * multicast): the caller names it, unless there is only one. */
	if (us_ip6_is_link_local(dst) || us_ip6_is_multicast(dst)) {
		if (!pinned && s->n_iface == 1)
			pinned = &s->iface[0];
		if (!pinned || ifstate(s, pinned)->disabled)
			return -ENETUNREACH;
		*ifc = pinned;
		*next_hop = *dst;
		return 0;
	}
	/* §5.2: "the sender performs a longest prefix match against the
	 * Prefix List to determine whether the packet's destination is on- or
	 * off-link. If the destination is on-link, the next-hop address is
	 * the same as the packet's destination address." */
	for (int n = 0; n < s->n_iface; n++) {
		struct us_iface *c = &s->iface[n];
		if ((pinned && c != pinned) || ifstate(s, c)->disabled)
			continue;
		if (on_link(s, c, dst)) {
			*ifc = c;
			*next_hop = *dst;
			return 0;
		}
	}
	/* "Otherwise, the sender selects a router from the Default Router
	 * List". §6.3.6: "Routers that are reachable or probably reachable
	 * (i.e., in any state other than INCOMPLETE) SHOULD be preferred over
	 * routers whose reachability is unknown or suspect". */
	const struct us_nd6_router *best = NULL;
	for (int i = 0; i < US_ND6_ROUTERS_MAX; i++) {
		const struct us_nd6_router *r = &s->nd6.routers[i];
		if (!r->used || (pinned && r->ifindex != pinned->index))
			continue;
		const struct us_nd6_neigh *e =
			us_nd6_neigh_find(s, &s->iface[r->ifindex], &r->addr);
		if (e && e->state != US_ND6_INCOMPLETE) {
			best = r;
			break;
		}
		if (!best)
			best = r;
	}
	if (!best)
		return -ENETUNREACH;
	*ifc = &s->iface[best->ifindex];
	*next_hop = best->addr;
	return 0;
}

/* ---- Timers -------------------------------------------------------------- */

void us_nd6_rtr_iface_down(struct us_stack *s, struct us_iface *ifc)
{
	for (int i = 0; i < US_ND6_ROUTERS_MAX; i++)
		if (s->nd6.routers[i].used && s->nd6.routers[i].ifindex == ifc->index)
			memset(&s->nd6.routers[i], 0, sizeof s->nd6.routers[i]);
	for (int i = 0; i < US_ND6_PREFIXES_MAX; i++)
		if (s->nd6.prefixes[i].used && s->nd6.prefixes[i].ifindex == ifc->index)
			memset(&s->nd6.prefixes[i], 0, sizeof s->nd6.prefixes[i]);
	ifstate(s, ifc)->rs_deadline = US_TIME_NEVER;
	us_routes_changed(s);
}

void us_nd6_rtr_poll(struct us_stack *s)
{
	for (int i = 0; i < US_ND6_ROUTERS_MAX; i++) {
		struct us_nd6_router *r = &s->nd6.routers[i];
		if (r->used && r->expires <= s->now) {
			/* §6.3.5: "Whenever the Lifetime of an entry in the
			 * Default Router List expires, that entry is
			 * discarded." */
			us_count(s, US_CTR_ND6_ROUTER_EXPIRED);
			trace_addr(s, r->ifindex, "default router ", &r->addr,
				   " removed: lifetime over");
			memset(r, 0, sizeof *r);
			us_routes_changed(s);
		}
	}
	for (int i = 0; i < US_ND6_PREFIXES_MAX; i++) {
		struct us_nd6_prefix *p = &s->nd6.prefixes[i];
		if (p->used && p->expires <= s->now) {
			/* §6.3.5: "When removing an entry from the Prefix
			 * List, there is no need to purge any entries from the
			 * Destination or Neighbor Caches." */
			us_count(s, US_CTR_ND6_PREFIX_EXPIRED);
			memset(p, 0, sizeof *p);
			us_routes_changed(s);
		}
	}
	for (int n = 0; n < s->n_iface; n++)
		if (s->nd6.ifs[n].rs_deadline <= s->now)
			rs_timer(s, &s->iface[n]);
}

us_time_t us_nd6_rtr_next_deadline(const struct us_stack *s)
{
	us_time_t t = US_TIME_NEVER;
	for (int i = 0; i < US_ND6_ROUTERS_MAX; i++)
		if (s->nd6.routers[i].used && s->nd6.routers[i].expires < t)
			t = s->nd6.routers[i].expires;
	for (int i = 0; i < US_ND6_PREFIXES_MAX; i++)
		if (s->nd6.prefixes[i].used && s->nd6.prefixes[i].expires < t)
			t = s->nd6.prefixes[i].expires;
	for (int n = 0; n < s->n_iface; n++)
		if (s->nd6.ifs[n].rs_deadline < t)
			t = s->nd6.ifs[n].rs_deadline;
	return t;
}

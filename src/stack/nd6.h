/* SPDX-License-Identifier: MIT */
/*
 * nd6.h - Neighbor Discovery (RFC 4861) and stateless address
 * autoconfiguration (RFC 4862): the IPv6 neighbour cache with its
 * reachability states, NS/NA, Duplicate Address Detection, Router
 * Solicitation, Router Advertisements (default routers, prefixes, SLAAC),
 * next-hop determination, and the multicast groups an interface has joined.
 *
 * nd6.c holds the neighbour cache, address resolution, NS/NA, DAD, the
 * address lifetimes and the group table; nd6_rtr.c holds everything about
 * routers: RS, RA, the default router list, the prefix list, SLAAC,
 * Redirect, and next-hop determination. Read nd6.c's opening comment first.
 */
#ifndef USTACK_ND6_H
#define USTACK_ND6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

struct us_stack;
struct us_iface;
struct us_pbuf;
struct us_ipv6_hdr;

/* Bounds: every table is sized here, once. */
#define US_ND6_NEIGH_MAX     64 /* neighbour cache entries, all interfaces */
#define US_ND6_QUEUE_BYTES   131072 /* bytes (b->len) waiting for one neighbour's resolution */
#define US_ND6_QUEUE_MAX     128    /* packets waiting for resolution, all neighbours */
#define US_ND6_ROUTERS_MAX   8	/* default router list, all interfaces */
#define US_ND6_PREFIXES_MAX  16 /* on-link prefix list, all interfaces */
#define US_ND6_MAX_IFACES    8	/* must equal US_MAX_IFACES (checked in nd6.c) */

/* RFC 4861 §10 "Protocol Constants" (host constants) and the defaults of the
 * node variables, RFC 4862 §5.1 for DupAddrDetectTransmits. */
#define US_ND6_MAX_RTR_SOLICITATION_DELAY US_SEC(1)
#define US_ND6_RTR_SOLICITATION_INTERVAL  US_SEC(4)
#define US_ND6_MAX_RTR_SOLICITATIONS	  3
#define US_ND6_MAX_MULTICAST_SOLICIT	  3
#define US_ND6_MAX_UNICAST_SOLICIT	  3
#define US_ND6_REACHABLE_TIME_MS	  30000u
#define US_ND6_RETRANS_TIMER		  US_SEC(1)
#define US_ND6_DELAY_FIRST_PROBE_TIME	  US_SEC(5)
#define US_ND6_MIN_RANDOM_FACTOR_PERMILLE 500  /* 0.5 */
#define US_ND6_MAX_RANDOM_FACTOR_PERMILLE 1500 /* 1.5 */
#define US_ND6_DUP_ADDR_DETECT_TRANSMITS  1
#define US_ND6_DEFAULT_HOP_LIMIT	  64 /* RFC 4861 §6.3.2: IANA's default hop limit */
#define US_ND6_MIN_MTU			  1280 /* RFC 8200 §5 */

/* RFC 4861 §7.3.2: the reachability states of a neighbour cache entry. */
enum us_nd6_neigh_state {
	US_ND6_INCOMPLETE = 0, /* resolution in progress, no link-layer address yet */
	US_ND6_REACHABLE = 1,  /* confirmed within ReachableTime */
	US_ND6_STALE = 2,      /* not known to be reachable; nothing sent since */
	US_ND6_DELAY = 3,      /* sent to while STALE: waiting before probing */
	US_ND6_PROBE = 4,      /* unicast NS probes being sent */
};
#define US_ND6_NSTATES 5

struct us_nd6_neigh {
	bool used;
	bool is_router;	      /* IsRouter (RFC 4861 §7.2.5) */
	uint8_t ifindex;
	enum us_nd6_neigh_state state;
	uint8_t probes;	      /* solicitations sent in INCOMPLETE or PROBE */
	struct us_ip6 addr;
	uint8_t mac[US_ETH_ALEN];
	us_time_t deadline;   /* the state's timer; US_TIME_NEVER in STALE */
	us_time_t last_used;  /* for eviction: least recently used goes first */
	struct us_pbuf *q_head, *q_tail; /* packets waiting (INCOMPLETE only) */
	uint8_t q_len;	      /* at most US_ND6_QUEUE_MAX */
	uint32_t q_bytes;     /* their bytes (b->len), at most US_ND6_QUEUE_BYTES */
};

/* RFC 4861 §5.1 Default Router List. */
struct us_nd6_router {
	bool used;
	uint8_t ifindex;
	struct us_ip6 addr;
	us_time_t expires; /* from the Router Lifetime */
};

/* RFC 4861 §5.1 Prefix List: on-link prefixes learnt from RAs. */
struct us_nd6_prefix {
	bool used;
	uint8_t ifindex;
	uint8_t len;
	struct us_ip6 prefix;
	us_time_t expires; /* from the Valid Lifetime; US_TIME_NEVER for infinity */
};

/* The per-interface variables of RFC 4861 §6.3.2 and the RS state (§6.3.7). */
struct us_nd6_iface {
	bool up;
	bool disabled;		    /* IPv6 off: duplicate link-local or MTU below 1280 */
	uint8_t cur_hop_limit;	    /* CurHopLimit */
	uint32_t mtu;		    /* LinkMTU for IPv6 */
	uint32_t base_reachable_ms; /* BaseReachableTime */
	us_time_t reachable_us;	    /* ReachableTime, randomised */
	us_time_t reachable_drawn;  /* when ReachableTime was last drawn */
	us_time_t retrans_us;	    /* RetransTimer */
	uint8_t rs_sent;	    /* Router Solicitations sent */
	us_time_t rs_deadline;	    /* next RS, or US_TIME_NEVER */
};

struct us_nd6_state {
	struct us_nd6_neigh neigh[US_ND6_NEIGH_MAX];
	/* The earliest deadline of the neighbour cache, found again (a scan)
	 * after each change of one: the runtime asks for the next deadline
	 * at every turn, and entries change with NDP traffic only. */
	us_time_t neigh_next;
	uint32_t queued; /* packets in all neighbour queues */
	struct us_nd6_router routers[US_ND6_ROUTERS_MAX];
	struct us_nd6_prefix prefixes[US_ND6_PREFIXES_MAX];
	struct us_nd6_iface ifs[US_ND6_MAX_IFACES];
};

void us_nd6_init(struct us_stack *s);
/* Releases every packet still waiting for resolution. */
void us_nd6_fini(struct us_stack *s);

/* An interface came up: its link-local address (RFC 4862 §5.3), the
 * all-nodes group, a Router Solicitation to come. */
void us_nd6_iface_up(struct us_stack *s, struct us_iface *ifc);

/* ifc->addr6[idx] was just added: join its solicited-node group, start DAD. */
void us_nd6_addr_added(struct us_stack *s, struct us_iface *ifc, int idx);

/* An NDP message (ICMPv6 types 133-137) arrived; checksum verified. */
int us_nd6_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		 const uint8_t *msg, size_t len);

/* Sends the IPv6 packet in b to next_hop on ifc, resolving its link-layer
 * address first when needed (multicast maps directly, RFC 2464 §7).
 * Always consumes b. 0, or a negative errno. */
int us_nd6_output(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *next_hop,
		  struct us_pbuf *b);

/* Next-hop determination (RFC 4861 §5.2): on-link destinations are their
 * own next hop, others go to a default router. ifindex >= 0 pins the
 * interface (link-local and multicast destinations). 0 or -ENETUNREACH. */
int us_nd6_next_hop(struct us_stack *s, const struct us_ip6 *dst, int ifindex,
		    struct us_iface **ifc, struct us_ip6 *next_hop);

/* True when ifc listens to the multicast group. */
bool us_nd6_joined(const struct us_iface *ifc, const struct us_ip6 *group);

/* The hop limit for packets leaving ifc (RA's Cur Hop Limit, else 64). */
uint8_t us_nd6_hop_limit(const struct us_stack *s, const struct us_iface *ifc);

/* The IPv6 link MTU of ifc: the interface MTU, or less when a Router
 * Advertisement's MTU option said so (RFC 4861 §6.3.4). ip6 output
 * fragments to this. */
uint32_t us_nd6_link_mtu(const struct us_stack *s, const struct us_iface *ifc);

/* The neighbour cache entry for addr on ifc, or NULL. */
const struct us_nd6_neigh *us_nd6_neigh_find(const struct us_stack *s, const struct us_iface *ifc,
					     const struct us_ip6 *addr);

/* "INCOMPLETE", "REACHABLE", ... */
const char *us_nd6_state_name(enum us_nd6_neigh_state st);

void us_nd6_poll(struct us_stack *s);
us_time_t us_nd6_next_deadline(const struct us_stack *s);

/* ---- Shared by nd6.c and nd6_rtr.c (not for other modules) --------------- */

/* Options an ND message carried, after the whole area was walked. */
struct us_nd6_opts {
	bool has_slla, has_tlla;
	uint8_t slla[US_ETH_ALEN];
	uint8_t tlla[US_ETH_ALEN];
};

/* Walks every option (RFC 4861 §4.6: "Nodes MUST silently discard an ND
 * packet that contains an option with length zero") and picks out the
 * link-layer address options. 0, or the result of us_drop(). */
int us_nd6_opts_check(struct us_stack *s, struct us_iface *ifc, const uint8_t *opts, size_t len,
		      struct us_nd6_opts *out);

/* Sends the ND message in b (the ICMPv6 message, checksum field zero) from
 * src to dst with IP Hop Limit 255, to dst_mac, or resolving dst when
 * dst_mac is NULL. Always consumes b. */
int us_nd6_send(struct us_stack *s, struct us_iface *ifc, struct us_pbuf *b,
		const struct us_ip6 *src, const struct us_ip6 *dst, const uint8_t *dst_mac);

/* A link-layer address learnt from an NS, RS, RA or Redirect (RFC 4861
 * §7.2.3, §6.3.4): creates a STALE entry, or updates one (STALE when the
 * address changed). is_router: set IsRouter (RA). */
void us_nd6_neigh_learn(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *addr,
			const uint8_t mac[US_ETH_ALEN], bool is_router);

/* A usable (PREFERRED or DEPRECATED) address of ifc to send from: the
 * link-local one when there is one. False when there is none. */
bool us_nd6_usable_src(const struct us_iface *ifc, struct us_ip6 *src);

/* Adds addr/prefix_len to ifc as the stack does for a static address, then
 * starts DAD. The index, or -ENOSPC. */
int us_nd6_addr_add(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *addr,
		    int prefix_len, bool autoconf, us_time_t valid_until,
		    us_time_t preferred_until);

/* Removes ifc->addr6[idx] (valid lifetime over, interface disabled). */
void us_nd6_addr_remove(struct us_stack *s, struct us_iface *ifc, int idx, const char *why);

/* Draws ReachableTime from BaseReachableTime (RFC 4861 §6.3.2). */
void us_nd6_draw_reachable(struct us_stack *s, struct us_nd6_iface *is);

/* nd6_rtr.c. */
void us_nd6_rtr_iface_up(struct us_stack *s, struct us_iface *ifc);
int us_nd6_rs_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		    const uint8_t *msg, size_t len);
int us_nd6_ra_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		    const uint8_t *msg, size_t len);
int us_nd6_redirect_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
			  const uint8_t *msg, size_t len);
/* IsRouter went from true to false (RFC 4861 §7.2.5): forget the router. */
void us_nd6_router_forget(struct us_stack *s, struct us_iface *ifc, const struct us_ip6 *addr);
/* Forgets every router, prefix and RS of a disabled interface. */
void us_nd6_rtr_iface_down(struct us_stack *s, struct us_iface *ifc);
void us_nd6_rtr_poll(struct us_stack *s);
us_time_t us_nd6_rtr_next_deadline(const struct us_stack *s);

#endif

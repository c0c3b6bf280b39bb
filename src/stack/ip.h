/* SPDX-License-Identifier: MIT */
/*
 * ip.h - IPv4 (RFC 791, RFC 1122 §3): input, routing, output with
 * fragmentation (ip_input.c, ip_output.c), and ICMPv4 (RFC 792, RFC 1122
 * §3.2.2, RFC 1191: ip_icmp.c).
 *
 * Read first: wire/ipv4.h and wire/icmp4.h (the header parsers and
 * emitters this module uses), then ip_input.c (the way in), ip_output.c
 * (routes, IDs, path MTUs, fragmentation) and ip_icmp.c.
 *
 * Everything this module keeps is bounded and lives in struct us_ip_state:
 * the gateway routes (connected routes are implied by the interfaces'
 * addresses and not stored), the per-destination Identification counters,
 * the path MTU cache, the ICMP rate limit buckets and the identifiers of
 * echo requests sent by us_stack_ping4(). It holds no buffers.
 */
#ifndef USTACK_IP_H
#define USTACK_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

struct us_stack;
struct us_iface;
struct us_pbuf;
struct us_ipv4_hdr;

/* RFC 1122 §3.2.1.7: the default TTL is "the current suggested value ...
 * published in the 'Assigned Numbers' RFC"; 64, as Linux and the BSDs. */
#define US_IP_DEFAULT_TTL 64
/* RFC 1112 §6.1: multicast datagrams default to a TTL of 1. */
#define US_IP_MCAST_DEFAULT_TTL 1

#define US_IP_MAX_ROUTES 16   /* gateway and on-link routes (us_stack_add_route4) */
#define US_IP_ID_BUCKETS 64   /* per-destination Identification counters (hashed) */
#define US_IP_PMTU_ENTRIES 16 /* path MTU cache */
/* RFC 1191 §6.3: a learned PMTU is raised again after "twice its minimum
 * value (10 minutes)"; we forget it then and fall back to the link MTU. */
#define US_IP_PMTU_EXPIRY US_SEC(600)
/* The lowest path MTU we accept from a "fragmentation needed" message: RFC
 * 791 §3.2's 576 octets ("every internet destination must be able to
 * receive a datagram of 576 octets"). See us_ip_pmtu_learn(). */
#define US_IP_PMTU_MIN 576

#define US_ICMP_RATE_BUCKETS 64 /* per-destination ICMP error buckets (hashed) */
#define US_ICMP_PINGS 8	        /* identifiers of our own echo requests remembered */
/* The largest echo data: 65535 - 20 (IP header) - 8 (ICMP header). */
#define US_ICMP_MAX_ECHO_DATA 65507

/* A route added with us_stack_add_route4(). */
struct us_ip_route4 {
	bool used;
	uint8_t prefix_len;
	uint32_t dst;	  /* host bits zero */
	uint32_t gateway; /* 0: on-link */
	int ifindex;
};

/* A path MTU learned from ICMP "fragmentation needed" (RFC 1191 §4). */
struct us_ip_pmtu_entry {
	bool used;
	bool locked;	   /* the reported MTU was below US_IP_PMTU_MIN: DF is cleared */
	uint32_t dst;
	uint32_t mtu;
	us_time_t expires; /* RFC 1191 §6.3: forgotten after US_IP_PMTU_EXPIRY */
};

/* A token bucket counted in microseconds of credit (as Linux's xrlim_allow):
 * every message costs the bucket's interval; credit grows with time up to the
 * burst. */
struct us_icmp_bucket {
	us_time_t credit;
	us_time_t last;
};

struct us_ip_ping {
	bool used;
	uint16_t id;
	us_time_t last_used;
};

struct us_ip_state {
	struct us_ip_route4 routes[US_IP_MAX_ROUTES];
	uint16_t id_next[US_IP_ID_BUCKETS];
	struct us_ip_pmtu_entry pmtu[US_IP_PMTU_ENTRIES];
	struct us_icmp_bucket rate_global;
	struct us_icmp_bucket rate_dst[US_ICMP_RATE_BUCKETS];
	struct us_ip_ping pings[US_ICMP_PINGS];
};

/* How to send one IPv4 datagram. */
struct us_ip_tx {
	uint32_t src;    /* 0: the address the route picks */
	uint32_t dst;
	uint8_t proto;
	uint8_t ttl;     /* 0: the default (64; 1 for multicast) */
	uint8_t tos;
	bool df;         /* Don't Fragment */
	int ifindex;     /* -1: by route; else this interface (limited broadcast needs it) */
};

/*
 * Where unicast datagrams from src to dst (protocol proto) go, looked up
 * once by us_ip_path() and kept by the caller for as long as
 * s->route_gen does not change (TCP keeps one per connection: tcp.h, "the
 * route cache"): the interface, the next hop, the path MTU, whether the
 * path MTU entry is locked (DF cleared, us_ip_pmtu_learn()), and which
 * RFC 7739 Identification counter the pair takes, with its offset (the
 * keyed hash of the pair, computed once here instead of per datagram).
 */
struct us_ip_path {
	uint32_t next_hop;
	uint16_t mtu;
	uint16_t id_offset;
	uint8_t id_bucket; /* < US_IP_ID_BUCKETS */
	uint8_t ifindex;
	bool df_locked;
};

void us_ip_init(struct us_stack *s);

/* An IPv4 packet arrived on ifc (payload of the Ethernet frame). link_bcast:
 * the frame was sent to a link-layer broadcast or multicast address. */
int us_ip_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt, size_t len,
		bool link_bcast);

/* Sends b (the IP payload, with US_PBUF_HEADROOM free in front) as one
 * datagram, fragmented when larger than the path MTU and df is clear.
 * Always consumes b. 0, or a negative errno (-ENETUNREACH, -EMSGSIZE, ...). */
int us_ip_output(struct us_stack *s, struct us_pbuf *b, const struct us_ip_tx *tx);
/* The path of unicast datagrams from src (0: the route's source) to dst:
 * 0, or -ENETUNREACH where us_ip_output() would find no route. */
int us_ip_path(struct us_stack *s, uint32_t src, uint32_t dst, uint8_t proto,
	       struct us_ip_path *p);
/* us_ip_output() along a path from us_ip_path() that is still current
 * (same s->route_gen) for tx->src, tx->dst and tx->proto: no route
 * lookup, no hash. */
int us_ip_output_path(struct us_stack *s, struct us_pbuf *b, const struct us_ip_tx *tx,
		      const struct us_ip_path *p);

/* Picks the interface, next hop and source address for dst. 0 or -ENETUNREACH. */
int us_ip_route(struct us_stack *s, uint32_t dst, struct us_iface **ifc, uint32_t *next_hop,
		uint32_t *src);

/* The path MTU known for dst (RFC 1191), at most the link MTU. */
uint32_t us_ip_pmtu(struct us_stack *s, uint32_t dst);

/*
 * A "fragmentation needed" message says the path to dst takes at most mtu
 * octets (RFC 1191 §4). A value under US_IP_PMTU_MIN is raised to it and the
 * entry is locked (DF is then cleared on datagrams to dst, so routers may
 * fragment them, as Linux does below its min_pmtu). The estimate is only
 * ever lowered, never above the link MTU; it expires after
 * US_IP_PMTU_EXPIRY. Returns true when the cache changed.
 */
bool us_ip_pmtu_learn(struct us_stack *s, uint32_t dst, uint32_t mtu);

/* The Identification for the next datagram from src to dst carrying proto
 * (RFC 6864 §4.1, RFC 7739 §5.3): a hashed per-destination counter. */
uint16_t us_ip_next_id(struct us_stack *s, uint32_t src, uint32_t dst, uint8_t proto);

/* True when addr is the directed broadcast of one of ifc's subnets
 * (RFC 1122 §3.2.1.3 (e): { <Network-number>, -1 }). */
bool us_ip_is_subnet_broadcast(const struct us_iface *ifc, uint32_t addr);
/* Limited broadcast, multicast, or a directed broadcast of any interface. */
bool us_ip_is_group(const struct us_stack *s, uint32_t addr);
/* True when addr is one of the stack's addresses, on any interface. */
bool us_ip_is_local(const struct us_stack *s, uint32_t addr);

/* ICMP (ip_icmp.c). Fills the rate limit buckets; us_ip_init() calls it. */
void us_icmp_init(struct us_stack *s);

/* An ICMP message arrived for us. */
int us_icmp_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		  const uint8_t *msg, size_t len, bool link_bcast);

/* Sends an ICMP error about the datagram pkt/len (its IPv4 header first),
 * unless RFC 1122 §3.2.2 forbids it (about an ICMP error, a broadcast or
 * multicast, a non-first fragment, an odd source) or the rate limit says no. */
void us_icmp_error(struct us_stack *s, uint8_t type, uint8_t code, uint32_t rest,
		   const uint8_t *pkt, size_t len, bool link_bcast);

/* The echo identifiers of the stack's own pings (us_stack_ping4/6), so
 * that only replies to them reach the echo hook: both families share the
 * memory of the last US_ICMP_PINGS identifiers. */
void us_icmp_ping_remember(struct us_stack *s, uint16_t id);
bool us_icmp_ping_known(struct us_stack *s, uint16_t id);

/* Reassembly of pkt (first fragment: header and its data) timed out. */
void us_icmp_reass_timeout(struct us_stack *s, const uint8_t *pkt, size_t len);

void us_ip_poll(struct us_stack *s);
us_time_t us_ip_next_deadline(const struct us_stack *s);

#endif

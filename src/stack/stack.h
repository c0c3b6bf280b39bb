/* SPDX-License-Identifier: MIT */
/*
 * stack.h - the core's insides, shared by its modules (not installed).
 *
 * struct us_stack holds everything: interfaces and their addresses, the
 * buffer pools, the random source, the counters. There are no globals: two
 * stacks in one process (joined by the in-memory link) never share a byte.
 * Every entry point (us_stack_input, us_stack_poll, ...) records the time it
 * was given in s->now, so modules below it read the clock from there.
 */
#ifndef USTACK_STACK_H
#define USTACK_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <ustack/core.h>

#include "arp.h"
#include "counters.h"
#include "ip.h"
#include "ip6.h"
#include "nd6.h"
#include "pbuf.h"
#include "rand.h"
#include "raw.h"
#include "reass.h"
#include "tcp.h"
#include "udp.h"

#define US_MAX_IFACES 8
#define US_MAX_ADDR4 8
#define US_MAX_ADDR6 8
#define US_MAX_GROUPS6 24 /* IPv6 multicast groups joined per interface */

/* A case that falls through to the next, on purpose (STYLE.md). */
#define US_FALLTHROUGH __attribute__((fallthrough))

/* Ethernet's minimum frame without the FCS (IEEE 802.3 §3.2.8). */
#define US_ETH_MIN_FRAME 60

struct us_addr4 {
	bool used;
	uint8_t prefix_len;
	uint32_t addr;
};

/* An IPv6 address of an interface. Managed by nd6.c (DAD, SLAAC lifetimes):
 * add addresses through us_stack_add_ipv6(), never by filling an entry (a
 * zero valid_until would expire it at once). */
struct us_addr6 {
	bool used;
	uint8_t prefix_len;
	struct us_ip6 addr;
	enum us_addr6_state state;
	bool autoconf;             /* made by SLAAC */
	us_time_t valid_until;     /* US_TIME_NEVER for static addresses */
	us_time_t preferred_until;
	uint8_t dad_probes_left;   /* Neighbor Solicitations DAD still has to send */
	us_time_t dad_deadline;    /* next DAD probe, or the end of DAD */
	bool in_group;             /* holds a reference to its solicited-node group */
};

struct us_iface {
	int index;
	char name[16];
	uint8_t mac[US_ETH_ALEN];
	uint32_t mtu;
	us_transmit_fn transmit;
	void *transmit_ctx;
	uint32_t offloads; /* enum us_offload bits the link takes */
	struct us_addr4 addr4[US_MAX_ADDR4];
	struct us_addr6 addr6[US_MAX_ADDR6];
	/* IPv6 multicast groups joined (all-nodes, solicited-node of each
	 * address), with a reference count each. Managed by nd6.c. */
	struct us_ip6 groups6[US_MAX_GROUPS6];
	uint8_t groups6_refs[US_MAX_GROUPS6];
};

struct us_stack {
	struct us_stack_config cfg;
	us_time_t now; /* the time given to the call in progress */
	struct us_rand rand;
	struct us_pool pool;
	int n_iface;
	struct us_iface iface[US_MAX_IFACES];
	uint64_t ctr[US_CTR_COUNT];
	/* What the link said of the frame being input (us_stack_input_meta),
	 * NULL outside input and for plain frames. TCP and UDP read it to
	 * skip verifying a checksum the kernel vouches for. */
	const struct us_rx_meta *rx_meta;
	bool any_offload; /* some interface has offloads: TCP looks them up */
	/* Between us_stack_batch_begin() and _end(): the frames going in were
	 * read from the link in one go (TCP may coalesce their ACKs). */
	bool batch;
	/* The generation of the routing inputs: bumped (us_routes_changed())
	 * whenever what a route lookup answers may change (an interface,
	 * address or route comes or goes, an address changes state, a default
	 * router or on-link prefix comes or goes, a link or path MTU
	 * changes, a neighbour enters or leaves INCOMPLETE, which decides
	 * between default routers). A route cached under another generation
	 * is stale (TCP's route cache, tcp.h). Never 0, which marks "nothing
	 * cached". */
	uint32_t route_gen;

	/* Each protocol module's state, defined in its own header. */
	struct us_arp_state arp;
	struct us_reass_state reass;
	struct us_ip_state ip;
	struct us_ip6_state ip6;
	struct us_nd6_state nd6;
	struct us_udp_state udp;
	struct us_raw_state raw;
	struct us_tcp_module tcp;
};

static inline void us_count(struct us_stack *s, enum us_counter_id id)
{
	s->ctr[id]++;
}

/* Routes, addresses, interfaces or path MTUs changed: every cached route
 * is stale. */
static inline void us_routes_changed(struct us_stack *s)
{
	if (++s->route_gen == 0)
		s->route_gen = 1;
}

/* Reports through the trace hook, if there is one. */
void us_trace(struct us_stack *s, enum us_trace_kind kind, int ifindex, const char *msg);

/* Counts a dropped input and reports why. Returns -EINVAL for the caller to pass on. */
int us_drop(struct us_stack *s, enum us_counter_id id, int ifindex, const char *why);

struct us_iface *us_iface_get(struct us_stack *s, int ifindex);

/* True when the frame being input carries the kernel's word for its
 * transport checksum (DATA_VALID, or NEEDS_CSUM: it came from the local
 * kernel, which completes the checksum only on the way to a wire). */
static inline bool us_rx_csum_trusted(const struct us_stack *s)
{
	return s->rx_meta && (s->rx_meta->csum_valid || s->rx_meta->csum_partial);
}
/* True when addr is one of the interface's IPv4 addresses. */
bool us_iface_has_ip4(const struct us_iface *ifc, uint32_t addr);

/* A buffer with room for every header in front (US_PBUF_HEADROOM), or NULL
 * (counted as pbuf.exhausted). */
struct us_pbuf *us_stack_alloc(struct us_stack *s, uint32_t len);

/* Completes a partial checksum (b->csum_at, set by TCP for a link with
 * US_OFFLOAD_CSUM) in software and clears the mark, for a datagram that
 * is about to be cut into fragments; a no-op when there is none. */
void us_pbuf_csum_complete(struct us_pbuf *b);

/*
 * Sends b (which starts at the layer above Ethernet) on ifc to dst with the
 * given ethertype: pushes the Ethernet header, pads to the minimum frame and
 * hands it to the interface's transmit callback. Always consumes b.
 */
int us_eth_output(struct us_stack *s, struct us_iface *ifc, struct us_pbuf *b,
		  const uint8_t dst[US_ETH_ALEN], uint16_t ethertype);

#endif

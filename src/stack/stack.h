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

#include "counters.h"
#include "pbuf.h"
#include "rand.h"

#define US_MAX_IFACES 8
#define US_MAX_ADDR4 8
#define US_MAX_ADDR6 8

/* Ethernet's minimum frame without the FCS (IEEE 802.3 §3.2.8). */
#define US_ETH_MIN_FRAME 60

struct us_addr4 {
	bool used;
	uint8_t prefix_len;
	uint32_t addr;
};

struct us_addr6 {
	bool used;
	uint8_t prefix_len;
	struct us_ip6 addr;
};

struct us_iface {
	int index;
	char name[16];
	uint8_t mac[US_ETH_ALEN];
	uint32_t mtu;
	us_transmit_fn transmit;
	void *transmit_ctx;
	struct us_addr4 addr4[US_MAX_ADDR4];
	struct us_addr6 addr6[US_MAX_ADDR6];
};

struct us_stack {
	struct us_stack_config cfg;
	us_time_t now; /* the time given to the call in progress */
	struct us_rand rand;
	struct us_pool pool;
	int n_iface;
	struct us_iface iface[US_MAX_IFACES];
	uint64_t ctr[US_CTR_COUNT];
};

static inline void us_count(struct us_stack *s, enum us_counter_id id)
{
	s->ctr[id]++;
}

/* Reports through the trace hook, if there is one. */
void us_trace(struct us_stack *s, enum us_trace_kind kind, int ifindex, const char *msg);

/* Counts a dropped input and reports why. Returns -EINVAL for the caller to pass on. */
int us_drop(struct us_stack *s, enum us_counter_id id, int ifindex, const char *why);

struct us_iface *us_iface_get(struct us_stack *s, int ifindex);
/* True when addr is one of the interface's IPv4 addresses. */
bool us_iface_has_ip4(const struct us_iface *ifc, uint32_t addr);

/* A buffer with room for every header in front (US_PBUF_HEADROOM), or NULL
 * (counted as pbuf.exhausted). */
struct us_pbuf *us_stack_alloc(struct us_stack *s, uint32_t len);

/*
 * Sends b (which starts at the layer above Ethernet) on ifc to dst with the
 * given ethertype: pushes the Ethernet header, pads to the minimum frame and
 * hands it to the interface's transmit callback. Always consumes b.
 */
int us_eth_output(struct us_stack *s, struct us_iface *ifc, struct us_pbuf *b,
		  const uint8_t dst[US_ETH_ALEN], uint16_t ethertype);

#endif

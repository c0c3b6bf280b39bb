/* SPDX-License-Identifier: MIT */
/*
 * arp.h - the Address Resolution Protocol (RFC 826) for IPv4 over Ethernet,
 * and the IPv4 neighbour cache (RFC 1122 §2.3.2).
 *
 * Read first: src/stack/wire/arp.h (the packet), then arp.c (the rules).
 *
 * A cache entry is in one of four states (RFC 826 has one, "in the table";
 * these follow RFC 4861 §7.3.2's names, without DELAY, so both neighbour
 * caches read alike):
 *
 *   INCOMPLETE  a request is out, no MAC yet; packets wait in the entry's
 *               queue. Broadcast requests at 0, 1 and 2 s; at 3 s the entry
 *               fails and its packets are dropped (counted).
 *   REACHABLE   the MAC was confirmed (an ARP packet from the neighbour)
 *               less than US_ARP_REACHABLE_TIME ago; used as it is.
 *   STALE       not confirmed for US_ARP_REACHABLE_TIME; still used. The
 *               first use moves it to PROBE; unused for US_ARP_STALE_TIME,
 *               it is purged (RFC 1122 §2.3.2.1 (1), "Timeout").
 *   PROBE       used while STALE: the MAC is still used, and unicast
 *               requests go to it at 0, 1 and 2 s (RFC 1122 §2.3.2.1 (2),
 *               "Unicast Poll"); unanswered at 3 s, the entry is removed and
 *               the next packet resolves afresh with a broadcast.
 *
 *   new packet, no entry --> INCOMPLETE --(ARP from it)--> REACHABLE
 *   REACHABLE --(30 s)--> STALE --(used)--> PROBE --(ARP from it)--> REACHABLE
 *   STALE --(60 s unused)--> gone;  INCOMPLETE, PROBE --(3 s unanswered)--> gone
 *   any state --(ARP from it: RFC 826 merge)--> REACHABLE
 */
#ifndef USTACK_ARP_H
#define USTACK_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

struct us_stack;
struct us_iface;
struct us_pbuf;

#define US_ARP_CACHE_SIZE     64 /* neighbour entries, all interfaces together */
#define US_ARP_QUEUE_BYTES    131072 /* bytes waiting for one neighbour's MAC (b->len) */
#define US_ARP_QUEUE_TOTAL    128    /* packets waiting in all */
#define US_ARP_RECENT_SLOTS   64 /* memory of recent requests, for the rate limit */
#define US_ARP_OWN_SLOTS      64 /* our own addresses: announcements and defence */

#define US_ARP_REACHABLE_TIME US_SEC(30) /* confirmed -> STALE */
#define US_ARP_STALE_TIME     US_SEC(60) /* STALE and unused -> purged */
#define US_ARP_RETRANS_TIME   US_SEC(1)	 /* between requests; also the rate limit */
#define US_ARP_MAX_REQUESTS   3		 /* per resolution, and per probe */
#define US_ARP_ANNOUNCE_WAIT  US_SEC(2)	 /* RFC 5227 §1.1 ANNOUNCE_INTERVAL */
#define US_ARP_DEFEND_TIME    US_SEC(10) /* RFC 5227 §1.1 DEFEND_INTERVAL */

/* enum us_arp_nstate is public: ustack/core.h. */

struct us_arp_entry {
	bool used;
	enum us_arp_nstate state;
	int ifindex;
	uint32_t ip;
	uint8_t mac[US_ETH_ALEN]; /* meaningless while INCOMPLETE */
	uint8_t tries;		  /* requests sent in INCOMPLETE or PROBE */
	uint8_t queued;		  /* packets in the queue (INCOMPLETE only) */
	uint32_t q_bytes;	  /* their bytes (b->len), at most US_ARP_QUEUE_BYTES */
	us_time_t deadline;	  /* the next retry, state change or purge */
	us_time_t last_used;	  /* for LRU eviction */
	struct us_pbuf *q_head;	  /* packets waiting, oldest first, linked by next */
	struct us_pbuf *q_tail;
};

/* The last request sent to one destination (RFC 1122 §2.3.2.1 rate limit):
 * kept apart from the cache so that evicting an entry does not forget it. */
struct us_arp_recent {
	bool used;
	int ifindex;
	uint32_t ip;
	us_time_t sent_at;
};

/* One of our addresses: its second announcement, and its last defence. */
struct us_arp_own {
	bool used;
	int ifindex;
	uint32_t addr;
	bool announce_pending;
	us_time_t announce_at;
	bool defended;
	us_time_t defended_at;
};

struct us_arp_state {
	struct us_arp_entry cache[US_ARP_CACHE_SIZE];
	uint32_t queued_total;
	struct us_arp_recent recent[US_ARP_RECENT_SLOTS];
	struct us_arp_own own[US_ARP_OWN_SLOTS];
	/* The earliest deadline of the cache and of the announcements, found
	 * again (a scan) after each change of one: the runtime asks for it at
	 * every turn, and changes come with ARP traffic only. */
	us_time_t next;
};

void us_arp_init(struct us_stack *s);
/* Releases every packet still waiting for resolution. */
void us_arp_fini(struct us_stack *s);

/* An ARP packet arrived on ifc (payload of the Ethernet frame). 0 when it was
 * used (answered, or it taught the cache something), else a negative errno
 * (counted). */
int us_arp_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt, size_t len);

/* Sends the IPv4 packet in b to next_hop on ifc: at once when its MAC is
 * known (or next_hop is a broadcast or multicast address), else after
 * resolution. Always consumes b. 0 (sent or queued), or a negative errno:
 * -EINVAL (a next hop that cannot be on a link), -ENOBUFS (no room to queue
 * it: counted), or the transmit callback's error. */
int us_arp_output(struct us_stack *s, struct us_iface *ifc, uint32_t next_hop, struct us_pbuf *b);

/* A gratuitous ARP for a newly added address (RFC 5227 §3), now and once
 * more US_ARP_ANNOUNCE_WAIT later. */
void us_arp_announce(struct us_stack *s, struct us_iface *ifc, uint32_t addr);

/* The MAC for ip on ifindex when the cache has one (REACHABLE, STALE or
 * PROBE): 0, or -ENOENT. Does not count as a use. */
int us_arp_lookup(const struct us_stack *s, int ifindex, uint32_t ip, uint8_t mac[US_ETH_ALEN]);

/* One cache entry, for tools (`ip neigh` for IPv4). */
/* struct us_arp_info is public: ustack/core.h. */

/* Fills up to max entries (in cache order); returns how many there are. */
size_t us_arp_table(const struct us_stack *s, struct us_arp_info *out, size_t max);

/* "INCOMPLETE", "REACHABLE", ... */
const char *us_arp_state_name(enum us_arp_nstate st);

/* Fires due retries and expiries; the earliest next deadline. */
void us_arp_poll(struct us_stack *s);
us_time_t us_arp_next_deadline(const struct us_stack *s);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * arp.c - the Address Resolution Protocol, RFC 826, for IPv4 over Ethernet:
 * the neighbour cache and its ageing (RFC 1122 §2.3.2), our own requests with
 * retries and a rate limit, the queue of packets waiting for resolution, and
 * announcements and address defence (RFC 5227 §2.3, §2.4, §3).
 *
 * Read first: arp.h (the cache states and timers), then wire/arp.h (the
 * packet). us_arp_input() walks RFC 826 "Packet Reception" in its order;
 * us_arp_output() maps broadcast and multicast next hops directly and
 * resolves everything else through the cache; us_arp_poll() fires the
 * timers. Every change of a deadline (an entry's, an announcement's) ends
 * in deadlines_moved(), which finds the earliest again, so that
 * us_arp_next_deadline() and a poll with nothing due cost no scan.
 *
 * Decisions:
 * - RFC 826's merge rule is applied to every ARP packet, for us or not: an
 *   entry for the sender's address takes the sender's MAC and becomes
 *   REACHABLE (hearing the neighbour is the confirmation). New entries come
 *   only from packets whose target is one of our addresses (RFC 826), and
 *   from our own output.
 * - Waiting packets: each neighbour's queue is bounded in bytes, as Linux
 *   bounds it (unres_qlen_bytes): at most US_ARP_QUEUE_BYTES of packet data
 *   (b->len), room for every fragment of one 64 KB datagram, which a packet
 *   count would cut short. When a new packet would pass the bound the
 *   OLDEST packets are dropped until it fits (RFC 1122 §2.3.2.2 asks to keep
 *   "at least one (the latest) packet"), each counted as
 *   arp.drop_queue_full. At most US_ARP_QUEUE_TOTAL packets wait for all
 *   neighbours together, so the buffers held stay bounded; past it the NEW
 *   packet is dropped (arp.drop_queue_total). A failed resolution drops its
 *   queue, one count of arp.drop_resolve_failed per packet; no ICMP is sent.
 * - Cache full: the least recently used entry that is not INCOMPLETE is
 *   evicted (arp.cache_evicted); when all are INCOMPLETE the packet is
 *   dropped (arp.drop_cache_full). An INCOMPLETE entry lives 4 s at most
 *   (a deferred first request, then three), so this cannot last.
 * - Rate limit (RFC 1122 §2.3.2.1): at most one request per
 *   US_ARP_RETRANS_TIME per destination, remembered in a small table
 *   (us_arp_recent, indexed by a keyed hash) apart from the cache, so an
 *   evicted and re-created entry cannot send early. A colliding destination
 *   overwrites a slot: the limit may then be looser, never the cache wrong.
 * - Sender address of our requests: our address on the target's subnet, else
 *   the interface's first address, else 0.0.0.0 (an RFC 5227 probe's form).
 * - Sender MACs that are multicast, all-zero or our own, and sender addresses
 *   that no host can have (wire/ipv4.h us_ipv4_is_martian_src, or a
 *   subnet-directed broadcast of ours) are dropped before they reach the
 *   cache (arp.drop_bad_source).
 * - Conflicts (RFC 5227 §2.4): a packet whose sender address is ours, from
 *   another MAC, is counted (arp.conflicts) and traced with the MAC; we keep
 *   the address and defend it as §2.4 (c) allows for a host that "should not
 *   give up its address": one announcement, then no other for
 *   DEFEND_INTERVAL (US_ARP_DEFEND_TIME).
 * - Deviation: RFC 5227 §2.1 probing before an address is used is not done
 *   (addresses here are configured by hand; Linux does not probe for `ip
 *   addr add` either); the two announcements of §2.3 are sent, 2 s apart.
 * - Deviation: the timeouts are compile-time constants (arp.h); RFC 1122
 *   §2.3.2.1 says it "SHOULD be possible to configure the timeout value".
 * - Not implemented: higher-layer advice (RFC 1122 §2.3.2.1 (4)) to confirm
 *   entries (TCP progress), proxy ARP, static entries.
 */
#include "arp.h"

#include "stack.h"

#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

/* Every address of every interface has its slot, so the table never fills. */
_Static_assert(US_ARP_OWN_SLOTS >= US_MAX_IFACES * US_MAX_ADDR4, "one slot per address");
_Static_assert(US_ARP_QUEUE_TOTAL <= UINT8_MAX, "an entry's packet count fits in a uint8_t");

static const uint8_t broadcast_mac[US_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero_mac[US_ETH_ALEN] = { 0 };

static const char *const state_names[] = {
	[US_ARP_INCOMPLETE] = "INCOMPLETE",
	[US_ARP_REACHABLE] = "REACHABLE",
	[US_ARP_STALE] = "STALE",
	[US_ARP_PROBE] = "PROBE",
};
_Static_assert(sizeof state_names / sizeof state_names[0] == US_ARP_PROBE + 1, "a name per state");

const char *us_arp_state_name(enum us_arp_nstate st)
{
	if ((unsigned)st > US_ARP_PROBE)
		return "?";
	return state_names[st];
}

/* ---- Addresses ------------------------------------------------------------ */

static uint32_t prefix_mask(int prefix_len)
{
	return prefix_len == 0 ? 0 : ~(uint32_t)0 << (32 - prefix_len);
}

/* { <Network>, -1 } for one of the interface's prefixes (RFC 1122 §3.2.1.3
 * (d)). /31 (RFC 3021) and /32 have no broadcast address. */
static bool is_subnet_broadcast(const struct us_iface *ifc, uint32_t ip)
{
	for (int i = 0; i < US_MAX_ADDR4; i++) {
		const struct us_addr4 *a = &ifc->addr4[i];
		if (!a->used || a->prefix_len > 30)
			continue;
		uint32_t mask = prefix_mask(a->prefix_len);
		if ((ip & mask) == (a->addr & mask) && (ip | mask) == 0xffffffffu)
			return true;
	}
	return false;
}

/* Our address to put in a request for target. */
static uint32_t request_source(const struct us_iface *ifc, uint32_t target)
{
	uint32_t first = 0;
	for (int i = 0; i < US_MAX_ADDR4; i++) {
		const struct us_addr4 *a = &ifc->addr4[i];
		if (!a->used)
			continue;
		uint32_t mask = prefix_mask(a->prefix_len);
		if ((target & mask) == (a->addr & mask))
			return a->addr;
		if (!first)
			first = a->addr;
	}
	return first;
}

/* ---- Sending ARP packets --------------------------------------------------- */

/* Builds one ARP packet from us (sha = our MAC) and sends it to eth_dst. The
 * target hardware address is zero in requests (RFC 5227 §2.1.1 "SHOULD be
 * set to all zeroes"), the asker's in replies. */
static int send_arp(struct us_stack *s, struct us_iface *ifc, uint16_t op,
		    const uint8_t eth_dst[US_ETH_ALEN], uint32_t spa,
		    const uint8_t tha[US_ETH_ALEN], uint32_t tpa)
{
	struct us_pbuf *b = us_stack_alloc(s, US_ARP_LEN);
	if (!b)
		return -ENOBUFS;
	struct us_arp_pkt p = { .op = op, .spa = spa, .tpa = tpa };
	memcpy(p.sha, ifc->mac, US_ETH_ALEN);
	memcpy(p.tha, tha, US_ETH_ALEN);
	us_arp_emit(&p, us_pbuf_data(b), b->len);
	us_count(s, US_CTR_ARP_OUT);
	return us_eth_output(s, ifc, b, eth_dst, US_ETHERTYPE_ARP);
}

/* RFC 826: "Swap hardware and protocol fields, putting the local hardware
 * and protocol addresses in the sender fields. Set the ar$op field to
 * ares_op$REPLY. Send the packet to the (new) target hardware address". */
static int send_reply(struct us_stack *s, struct us_iface *ifc, const struct us_arp_pkt *req)
{
	us_count(s, US_CTR_ARP_REQUESTS_ANSWERED);
	return send_arp(s, ifc, US_ARP_REPLY, req->sha, req->tpa, req->sha, req->spa);
}

/* RFC 5227 §3: an ARP Announcement is a broadcast request "identical to the
 * ARP Probe ... except that both the sender and target IP address fields
 * contain the IP address being announced". */
static void send_announcement(struct us_stack *s, struct us_iface *ifc, uint32_t addr)
{
	us_count(s, US_CTR_ARP_ANNOUNCEMENTS_OUT);
	send_arp(s, ifc, US_ARP_REQUEST, broadcast_mac, addr, zero_mac, addr);
}

/* ---- Tracing --------------------------------------------------------------- */

static void fmt_entry(struct us_fmt *f, const struct us_arp_entry *e)
{
	us_fmt_str(f, "arp ");
	us_fmt_ip4(f, e->ip);
	us_fmt_str(f, ": ");
}

/* The only writer of e->state: every transition is reported, with why. */
static void set_state(struct us_stack *s, struct us_arp_entry *e, enum us_arp_nstate st,
		      const char *why)
{
	if (s->cfg.trace) {
		char buf[128];
		struct us_fmt f;
		us_fmt_init(&f, buf, sizeof buf);
		fmt_entry(&f, e);
		us_fmt_str(&f, us_arp_state_name(e->state));
		us_fmt_str(&f, " -> ");
		us_fmt_str(&f, us_arp_state_name(st));
		us_fmt_str(&f, " (");
		us_fmt_str(&f, why);
		us_fmt_str(&f, ")");
		us_trace(s, US_TRACE_DEBUG, e->ifindex, buf);
	}
	e->state = st;
}

static void trace_entry(struct us_stack *s, const struct us_arp_entry *e, const char *what)
{
	if (!s->cfg.trace)
		return;
	char buf[128];
	struct us_fmt f;
	us_fmt_init(&f, buf, sizeof buf);
	fmt_entry(&f, e);
	us_fmt_str(&f, what);
	us_trace(s, US_TRACE_DEBUG, e->ifindex, buf);
}

/* ---- The rate limit -------------------------------------------------------- */

static struct us_arp_recent *recent_slot(struct us_stack *s, int ifindex, uint32_t ip)
{
	uint8_t key[5];
	us_put_be32(key, ip);
	key[4] = (uint8_t)ifindex;
	uint64_t h = us_siphash(s->cfg.secret, key, sizeof key);
	return &s->arp.recent[h % US_ARP_RECENT_SLOTS];
}

/* RFC 1122 §2.3.2.1: "A mechanism to prevent ARP flooding (repeatedly
 * sending an ARP Request for the same IP address, at a high rate) MUST be
 * included. The recommended maximum rate is 1 per second per destination." */
static us_time_t request_allowed_at(struct us_stack *s, int ifindex, uint32_t ip)
{
	const struct us_arp_recent *r = recent_slot(s, ifindex, ip);
	if (r->used && r->ifindex == ifindex && r->ip == ip)
		return r->sent_at + US_ARP_RETRANS_TIME;
	return s->now;
}

/* The earliest deadline of the module, after any of them changed. */
static void deadlines_moved(struct us_stack *s)
{
	us_time_t t = US_TIME_NEVER;
	for (int i = 0; i < US_ARP_CACHE_SIZE; i++) {
		const struct us_arp_entry *e = &s->arp.cache[i];
		if (e->used && e->deadline < t)
			t = e->deadline;
	}
	for (int i = 0; i < US_ARP_OWN_SLOTS; i++) {
		const struct us_arp_own *o = &s->arp.own[i];
		if (o->used && o->announce_pending && o->announce_at < t)
			t = o->announce_at;
	}
	s->arp.next = t;
}

/* Sends the entry's next request (broadcast while INCOMPLETE, unicast to
 * the cached MAC in PROBE) when the rate limit allows, and sets the entry's
 * deadline to the next retry; else defers it to when it may be sent. An
 * attempt that found no buffer counts as a try, so failure stays bounded. */
static void try_request(struct us_stack *s, struct us_iface *ifc, struct us_arp_entry *e)
{
	us_time_t at = request_allowed_at(s, e->ifindex, e->ip);
	if (at > s->now) {
		us_count(s, US_CTR_ARP_REQUESTS_RATE_LIMITED);
		e->deadline = at;
		deadlines_moved(s);
		return;
	}
	struct us_arp_recent *r = recent_slot(s, e->ifindex, e->ip);
	*r = (struct us_arp_recent){
		.used = true,
		.ifindex = e->ifindex,
		.ip = e->ip,
		.sent_at = s->now,
	};
	e->tries++;
	e->deadline = s->now + US_ARP_RETRANS_TIME;
	deadlines_moved(s);
	uint32_t spa = request_source(ifc, e->ip);
	if (e->state == US_ARP_PROBE) {
		us_count(s, US_CTR_ARP_PROBES_OUT);
		send_arp(s, ifc, US_ARP_REQUEST, e->mac, spa, zero_mac, e->ip);
	} else {
		us_count(s, US_CTR_ARP_REQUESTS_OUT);
		send_arp(s, ifc, US_ARP_REQUEST, broadcast_mac, spa, zero_mac, e->ip);
	}
}

/* ---- The cache ------------------------------------------------------------- */

static struct us_arp_entry *entry_find(struct us_stack *s, int ifindex, uint32_t ip)
{
	for (int i = 0; i < US_ARP_CACHE_SIZE; i++) {
		struct us_arp_entry *e = &s->arp.cache[i];
		if (e->used && e->ifindex == ifindex && e->ip == ip)
			return e;
	}
	return NULL;
}

/* Frees the entry and drops what waits in it, each packet counted as ctr. */
static void entry_free(struct us_stack *s, struct us_arp_entry *e, enum us_counter_id ctr,
		       const char *why)
{
	while (e->q_head) {
		struct us_pbuf *b = e->q_head;
		e->q_head = b->next;
		b->next = NULL;
		us_pbuf_free(&s->pool, b);
		s->arp.queued_total--;
		us_drop(s, ctr, e->ifindex, why);
	}
	*e = (struct us_arp_entry){ 0 };
	deadlines_moved(s);
}

/* A free entry for (ifindex, ip), INCOMPLETE, evicting the least recently
 * used one that is not INCOMPLETE when the cache is full; NULL when every
 * entry is. */
static struct us_arp_entry *entry_new(struct us_stack *s, int ifindex, uint32_t ip)
{
	struct us_arp_entry *e = NULL;
	for (int i = 0; i < US_ARP_CACHE_SIZE && !e; i++)
		if (!s->arp.cache[i].used)
			e = &s->arp.cache[i];
	if (!e) {
		for (int i = 0; i < US_ARP_CACHE_SIZE; i++) {
			struct us_arp_entry *c = &s->arp.cache[i];
			if (c->state != US_ARP_INCOMPLETE && (!e || c->last_used < e->last_used))
				e = c;
		}
		if (!e)
			return NULL;
		trace_entry(s, e, "evicted (cache full)");
		us_count(s, US_CTR_ARP_CACHE_EVICTED);
		entry_free(s, e, US_CTR_ARP_DROP_CACHE_FULL, "evicted");
	}
	*e = (struct us_arp_entry){
		.used = true,
		.state = US_ARP_INCOMPLETE,
		.ifindex = ifindex,
		.ip = ip,
		.last_used = s->now,
	};
	deadlines_moved(s);
	us_count(s, US_CTR_ARP_CACHE_ADDED);
	return e;
}

/* The neighbour answered or spoke: its MAC is known and current. */
static void confirm(struct us_stack *s, struct us_arp_entry *e, const uint8_t mac[US_ETH_ALEN],
		    const char *why)
{
	if (e->state != US_ARP_INCOMPLETE && memcmp(e->mac, mac, US_ETH_ALEN) != 0)
		trace_entry(s, e, "MAC changed");
	memcpy(e->mac, mac, US_ETH_ALEN);
	e->tries = 0;
	e->deadline = s->now + US_ARP_REACHABLE_TIME;
	deadlines_moved(s);
	if (e->state != US_ARP_REACHABLE)
		set_state(s, e, US_ARP_REACHABLE, why);
}

/* Sends what waited for the entry's MAC, oldest first. */
static void flush_queue(struct us_stack *s, struct us_iface *ifc, struct us_arp_entry *e)
{
	while (e->q_head) {
		struct us_pbuf *b = e->q_head;
		e->q_head = b->next;
		b->next = NULL;
		e->queued--;
		e->q_bytes -= b->len;
		s->arp.queued_total--;
		us_eth_output(s, ifc, b, e->mac, US_ETHERTYPE_IPV4);
	}
	e->q_tail = NULL;
}

/* Queues b behind e's packets: the oldest make room when e's bytes would
 * pass US_ARP_QUEUE_BYTES; b is refused when US_ARP_QUEUE_TOTAL packets
 * already wait. */
static int enqueue(struct us_stack *s, struct us_arp_entry *e, struct us_pbuf *b)
{
	while (e->q_head && e->q_bytes + b->len > US_ARP_QUEUE_BYTES) {
		struct us_pbuf *old = e->q_head;
		e->q_head = old->next;
		if (!e->q_head)
			e->q_tail = NULL;
		old->next = NULL;
		e->queued--;
		e->q_bytes -= old->len;
		s->arp.queued_total--;
		us_pbuf_free(&s->pool, old);
		us_drop(s, US_CTR_ARP_DROP_QUEUE_FULL, e->ifindex, "oldest packet waiting for ARP");
	}
	if (s->arp.queued_total >= US_ARP_QUEUE_TOTAL) {
		us_pbuf_free(&s->pool, b);
		us_drop(s, US_CTR_ARP_DROP_QUEUE_TOTAL, e->ifindex,
			"too many packets waiting for ARP");
		return -ENOBUFS;
	}
	b->next = NULL;
	if (e->q_tail)
		e->q_tail->next = b;
	else
		e->q_head = b;
	e->q_tail = b;
	e->queued++;
	e->q_bytes += b->len;
	s->arp.queued_total++;
	us_count(s, US_CTR_ARP_QUEUED);
	return 0;
}

/* ---- Our own addresses ----------------------------------------------------- */

static struct us_arp_own *own_slot(struct us_stack *s, struct us_iface *ifc, uint32_t addr)
{
	struct us_arp_own *free_slot = NULL;
	for (int i = 0; i < US_ARP_OWN_SLOTS; i++) {
		struct us_arp_own *o = &s->arp.own[i];
		if (o->used && o->ifindex == ifc->index && o->addr == addr)
			return o;
		/* A slot whose address is gone from its interface is free again. */
		if (!free_slot && (!o->used || !us_iface_has_ip4(&s->iface[o->ifindex], o->addr)))
			free_slot = o;
	}
	if (free_slot) {
		*free_slot =
			(struct us_arp_own){ .used = true, .ifindex = ifc->index, .addr = addr };
		deadlines_moved(s);
	}
	return free_slot;
}

void us_arp_announce(struct us_stack *s, struct us_iface *ifc, uint32_t addr)
{
	/* RFC 5227 §2.3: "broadcasting ANNOUNCE_NUM ARP Announcements, spaced
	 * ANNOUNCE_INTERVAL seconds apart" (2 of them, 2 s). */
	send_announcement(s, ifc, addr);
	struct us_arp_own *o = own_slot(s, ifc, addr);
	if (o) {
		o->announce_pending = true;
		o->announce_at = s->now + US_ARP_ANNOUNCE_WAIT;
		deadlines_moved(s);
	}
}

/* RFC 5227 §2.4: another host says it has our address. */
static int conflict(struct us_stack *s, struct us_iface *ifc, const struct us_arp_pkt *p)
{
	char why[96];
	struct us_fmt f;
	us_fmt_init(&f, why, sizeof why);
	us_fmt_ip4(&f, p->spa);
	us_fmt_str(&f, " claimed by ");
	us_fmt_mac(&f, p->sha);
	int rc = us_drop(s, US_CTR_ARP_CONFLICTS, ifc->index, why);
	/* §2.4 (c): "If the host has not seen any other conflicting ARP packets
	 * recently, within the last DEFEND_INTERVAL seconds, then it MUST record
	 * the time that the conflicting ARP packet was received, and then
	 * broadcast one single ARP Announcement ... the host must then ignore any
	 * other conflicting ARP packets received within DEFEND_INTERVAL". */
	struct us_arp_own *o = own_slot(s, ifc, p->spa);
	if (o && (!o->defended || s->now - o->defended_at >= US_ARP_DEFEND_TIME)) {
		o->defended = true;
		o->defended_at = s->now;
		us_count(s, US_CTR_ARP_DEFENCES);
		send_announcement(s, ifc, p->spa);
	}
	return rc;
}

/* ---- Input ----------------------------------------------------------------- */

/* RFC 826: "If the pair <protocol type, sender protocol address> is already
 * in my translation table, update the sender hardware address field of the
 * entry with the new information in the packet and set Merge_flag to true." */
static bool merge(struct us_stack *s, struct us_iface *ifc, const struct us_arp_pkt *p)
{
	struct us_arp_entry *e = entry_find(s, ifc->index, p->spa);
	if (!e)
		return false;
	us_count(s, US_CTR_ARP_CACHE_UPDATED);
	bool was_incomplete = e->state == US_ARP_INCOMPLETE;
	confirm(s, e, p->sha, p->op == US_ARP_REPLY ? "reply" : "request");
	if (was_incomplete)
		flush_queue(s, ifc, e);
	return true;
}

/* RFC 826: "If Merge_flag is false, add the triplet <protocol type, sender
 * protocol address, sender hardware address> to the translation table." */
static void add(struct us_stack *s, struct us_iface *ifc, const struct us_arp_pkt *p)
{
	struct us_arp_entry *e = entry_new(s, ifc->index, p->spa);
	if (!e) {
		/* The packet is still answered; only the cache could not learn. */
		us_count(s, US_CTR_ARP_DROP_CACHE_FULL);
		return;
	}
	confirm(s, e, p->sha, "learned from a packet for us");
}

/* RFC 5227 §2.1.1: a probe has sender address 0 and must not touch the
 * cache. One for our address is answered (the prober learns the address is
 * taken: RFC 5227 §2.1.1 "any ARP packet ... where the packet's 'sender IP
 * address' is the address being probed for"), with target address 0. */
static int probe_received(struct us_stack *s, struct us_iface *ifc, const struct us_arp_pkt *p)
{
	if (p->op != US_ARP_REQUEST)
		return us_drop(s, US_CTR_ARP_DROP_BAD_SOURCE, ifc->index, "reply from 0.0.0.0");
	if (!us_iface_has_ip4(ifc, p->tpa))
		return us_drop(s, US_CTR_ARP_DROP_NOT_FOR_US, ifc->index,
			       "probe for another address");
	return send_reply(s, ifc, p);
}

int us_arp_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt, size_t len)
{
	struct us_arp_pkt arp;
	us_count(s, US_CTR_ARP_IN);
	/* RFC 826: "?Do I have the hardware type in ar$hrd? ... ?Do I speak the
	 * protocol in ar$pro?" (and the lengths): us_arp_parse checks them. */
	int err = us_arp_parse(pkt, len, &arp);
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ARP_DROP_MALFORMED, ifc->index, us_wire_strerror(err));

	/* A sender hardware address that is multicast or broadcast cannot be
	 * answered and would poison any cache (RFC 1812 §3.3.2 says the same
	 * for routers); nor can all-zero or our own. */
	if (us_eth_is_multicast(arp.sha))
		return us_drop(s, US_CTR_ARP_DROP_BAD_SOURCE, ifc->index, "multicast sender MAC");
	if (memcmp(arp.sha, zero_mac, US_ETH_ALEN) == 0)
		return us_drop(s, US_CTR_ARP_DROP_BAD_SOURCE, ifc->index, "zero sender MAC");
	if (memcmp(arp.sha, ifc->mac, US_ETH_ALEN) == 0)
		return us_drop(s, US_CTR_ARP_DROP_BAD_SOURCE, ifc->index, "sender MAC is ours");
	if (arp.op == US_ARP_REPLY)
		us_count(s, US_CTR_ARP_REPLIES_IN);

	if (arp.spa == 0)
		return probe_received(s, ifc, &arp);
	if (us_iface_has_ip4(ifc, arp.spa))
		return conflict(s, ifc, &arp);
	if (us_ipv4_is_martian_src(arp.spa) || is_subnet_broadcast(ifc, arp.spa))
		return us_drop(s, US_CTR_ARP_DROP_BAD_SOURCE, ifc->index,
			       "sender address cannot be a host");

	/* RFC 826: "Merge_flag := false ... ?Am I the target protocol address?" */
	bool merged = merge(s, ifc, &arp);
	if (!us_iface_has_ip4(ifc, arp.tpa)) {
		if (merged)
			return 0;
		return us_drop(s, US_CTR_ARP_DROP_NOT_FOR_US, ifc->index,
			       "target address not ours");
	}
	if (!merged)
		add(s, ifc, &arp);
	/* RFC 826: "?Is the opcode ares_op$REQUEST? (NOW look at the opcode!!)" */
	if (arp.op == US_ARP_REQUEST)
		return send_reply(s, ifc, &arp);
	return 0;
}

/* ---- Output ---------------------------------------------------------------- */

int us_arp_output(struct us_stack *s, struct us_iface *ifc, uint32_t next_hop, struct us_pbuf *b)
{
	/* Broadcast and multicast need no resolution: the limited broadcast
	 * and our subnets' directed broadcasts go to ff:ff:ff:ff:ff:ff, groups
	 * to 01:00:5e and their low 23 bits (RFC 1112 §6.4). */
	if (us_ipv4_is_limited_broadcast(next_hop) || is_subnet_broadcast(ifc, next_hop))
		return us_eth_output(s, ifc, b, broadcast_mac, US_ETHERTYPE_IPV4);
	if (us_ipv4_is_multicast(next_hop)) {
		uint8_t mac[US_ETH_ALEN];
		us_eth_mcast_from_ip4(next_hop, mac);
		return us_eth_output(s, ifc, b, mac, US_ETHERTYPE_IPV4);
	}
	/* No neighbour has these: resolving them would only flood the link. */
	if (us_ipv4_is_martian_src(next_hop) || us_iface_has_ip4(ifc, next_hop)) {
		us_pbuf_free(&s->pool, b);
		return us_drop(s, US_CTR_ARP_DROP_BAD_NEXT_HOP, ifc->index,
			       "next hop cannot be a neighbour");
	}

	struct us_arp_entry *e = entry_find(s, ifc->index, next_hop);
	if (!e) {
		e = entry_new(s, ifc->index, next_hop);
		if (!e) {
			us_pbuf_free(&s->pool, b);
			us_drop(s, US_CTR_ARP_DROP_CACHE_FULL, ifc->index,
				"every entry is resolving");
			return -ENOBUFS;
		}
		trace_entry(s, e, "added, INCOMPLETE");
		int rc = enqueue(s, e, b);
		/* RFC 826 leaves retries to the implementation; the first request
		 * goes at once. */
		try_request(s, ifc, e);
		return rc;
	}
	switch (e->state) {
	case US_ARP_INCOMPLETE:
		return enqueue(s, e, b);
	case US_ARP_STALE:
		/* RFC 1122 §2.3.2.1 (2) "Unicast Poll": keep using the MAC, and
		 * ask the neighbour directly whether it is still there. */
		set_state(s, e, US_ARP_PROBE, "used while stale");
		e->tries = 0;
		try_request(s, ifc, e);
		break;
	case US_ARP_REACHABLE:
	case US_ARP_PROBE:
		break;
	}
	e->last_used = s->now;
	return us_eth_output(s, ifc, b, e->mac, US_ETHERTYPE_IPV4);
}

/* ---- Lookups --------------------------------------------------------------- */

int us_arp_lookup(const struct us_stack *s, int ifindex, uint32_t ip, uint8_t mac[US_ETH_ALEN])
{
	for (int i = 0; i < US_ARP_CACHE_SIZE; i++) {
		const struct us_arp_entry *e = &s->arp.cache[i];
		if (!e->used || e->ifindex != ifindex || e->ip != ip ||
		    e->state == US_ARP_INCOMPLETE)
			continue;
		if (mac)
			memcpy(mac, e->mac, US_ETH_ALEN);
		return 0;
	}
	return -ENOENT;
}

size_t us_arp_table(const struct us_stack *s, struct us_arp_info *out, size_t max)
{
	size_t n = 0;
	for (int i = 0; i < US_ARP_CACHE_SIZE; i++) {
		const struct us_arp_entry *e = &s->arp.cache[i];
		if (!e->used)
			continue;
		if (out && n < max) {
			out[n] = (struct us_arp_info){
				.ifindex = e->ifindex,
				.ip = e->ip,
				.state = e->state,
				.expires = e->deadline,
				.queued = e->queued,
			};
			if (e->state != US_ARP_INCOMPLETE)
				memcpy(out[n].mac, e->mac, US_ETH_ALEN);
		}
		n++;
	}
	return n;
}

/* ---- Timers ---------------------------------------------------------------- */

/* One due deadline of e: every branch moves the deadline past s->now or
 * frees the entry, so the caller's loop ends. */
static void entry_timer(struct us_stack *s, struct us_iface *ifc, struct us_arp_entry *e)
{
	switch (e->state) {
	case US_ARP_INCOMPLETE:
		if (e->tries < US_ARP_MAX_REQUESTS) {
			try_request(s, ifc, e);
			return;
		}
		trace_entry(s, e, "no answer, resolution failed");
		us_count(s, US_CTR_ARP_RESOLVE_FAILED);
		entry_free(s, e, US_CTR_ARP_DROP_RESOLVE_FAILED, "no ARP reply");
		return;
	case US_ARP_REACHABLE:
		/* RFC 1122 §2.3.2.1 (1) "Timeout": unconfirmed for a while, the
		 * entry must be checked again before it is trusted for long. */
		set_state(s, e, US_ARP_STALE, "reachable time over");
		e->deadline += US_ARP_STALE_TIME;
		return;
	case US_ARP_STALE:
		trace_entry(s, e, "unused, purged");
		us_count(s, US_CTR_ARP_CACHE_EXPIRED);
		entry_free(s, e, US_CTR_ARP_DROP_RESOLVE_FAILED, "purged");
		return;
	case US_ARP_PROBE:
		if (e->tries < US_ARP_MAX_REQUESTS) {
			try_request(s, ifc, e);
			return;
		}
		/* RFC 1122 §2.3.2.1 (2): "delete the entry if no ARP Reply is
		 * received from N successive polls". */
		trace_entry(s, e, "no answer to unicast polls, removed");
		us_count(s, US_CTR_ARP_PROBE_FAILED);
		entry_free(s, e, US_CTR_ARP_DROP_RESOLVE_FAILED, "probe failed");
		return;
	}
}

void us_arp_poll(struct us_stack *s)
{
	if (s->arp.next > s->now)
		return;
	for (int i = 0; i < US_ARP_CACHE_SIZE; i++) {
		struct us_arp_entry *e = &s->arp.cache[i];
		while (e->used && e->deadline <= s->now) {
			struct us_iface *ifc = us_iface_get(s, e->ifindex);
			if (!ifc) {
				entry_free(s, e, US_CTR_ARP_DROP_RESOLVE_FAILED, "interface gone");
				break;
			}
			entry_timer(s, ifc, e);
		}
	}
	for (int i = 0; i < US_ARP_OWN_SLOTS; i++) {
		struct us_arp_own *o = &s->arp.own[i];
		if (!o->used || !o->announce_pending || o->announce_at > s->now)
			continue;
		o->announce_pending = false;
		struct us_iface *ifc = us_iface_get(s, o->ifindex);
		if (ifc && us_iface_has_ip4(ifc, o->addr))
			send_announcement(s, ifc, o->addr);
	}
	deadlines_moved(s);
}

us_time_t us_arp_next_deadline(const struct us_stack *s)
{
	return s->arp.next;
}

/* ---- Life ------------------------------------------------------------------ */

void us_arp_init(struct us_stack *s)
{
	memset(&s->arp, 0, sizeof s->arp);
	s->arp.next = US_TIME_NEVER;
}

void us_arp_fini(struct us_stack *s)
{
	for (int i = 0; i < US_ARP_CACHE_SIZE; i++) {
		struct us_arp_entry *e = &s->arp.cache[i];
		while (e->q_head) {
			struct us_pbuf *b = e->q_head;
			e->q_head = b->next;
			b->next = NULL;
			us_pbuf_free(&s->pool, b);
		}
		*e = (struct us_arp_entry){ 0 };
	}
	s->arp.queued_total = 0;
	s->arp.next = US_TIME_NEVER;
}

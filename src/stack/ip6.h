/* SPDX-License-Identifier: MIT */
/*
 * ip6.h - IPv6 (RFC 8200): input with the extension header walk and
 * reassembly (ip6_input.c), output with source selection (RFC 6724),
 * fragmentation and the path MTU table (RFC 8201: ip6_output.c), and ICMPv6
 * (RFC 4443: ip6_icmp.c), which hands NDP messages to nd6.c.
 *
 * Read first: wire/ipv6.h (the header walk and its offsets), then
 * ip6_input.c from us_ip6_input() down.
 */
#ifndef USTACK_IP6_H
#define USTACK_IP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

struct us_stack;
struct us_iface;
struct us_pbuf;
struct us_ipv6_hdr;

/* RFC 8200 §5: "IPv6 requires that every link in the Internet have an MTU
 * of 1280 octets or greater." */
#define US_IP6_MIN_MTU 1280

/* Path MTU entries (RFC 8201 §5.2 "Storing PMTU information"). Bounded:
 * when full, the entry closest to expiring gives way (ip6.pmtu_evicted). */
#define US_IP6_PMTU_ENTRIES 16
/* RFC 8201 §4: an attempt to detect an increase "must not be done less than
 * 5 minutes after a Packet Too Big message has been received for the given
 * path. The recommended setting for this timer is twice its minimum value
 * (10 minutes)." We forget the entry then, and start again at the link MTU. */
#define US_IP6_PMTU_TIMEOUT US_SEC(600)

/* Fragment Identification (RFC 7739 §5.3.3): a table of counters, each
 * starting at a random value, picked by a keyed hash of the addresses. */
#define US_IP6_FRAG_ID_SLOTS 64

/* RFC 4443 §2.4 (f): a token bucket for the ICMPv6 errors we originate,
 * with the defaults the RFC gives "in a small/mid-size device": B = 10
 * messages in a burst, N = 10 messages per second on average. */
#define US_ICMP6_ERR_BURST    10
#define US_ICMP6_ERR_INTERVAL US_MSEC(100)


/* One remembered path MTU (RFC 8201). */
struct us_ip6_pmtu {
	bool used;
	struct us_ip6 dst;
	uint32_t mtu;      /* from a Packet Too Big: 1280 .. the link MTU */
	us_time_t expires; /* US_IP6_PMTU_TIMEOUT after the last Packet Too Big */
};

struct us_ip6_state {
	struct us_ip6_pmtu pmtu[US_IP6_PMTU_ENTRIES];
	uint32_t frag_ids[US_IP6_FRAG_ID_SLOTS]; /* RFC 7739 §5.3.3 table[] */
	uint32_t err_tokens;                     /* ICMPv6 error token bucket */
	us_time_t err_refilled;                  /* when tokens were last added */
};

/* How to send one IPv6 packet. */
struct us_ip6_tx {
	struct us_ip6 src;       /* unspecified: picked by source selection (RFC 6724) */
	struct us_ip6 dst;
	uint8_t next_header;
	uint8_t hop_limit;       /* 0: the interface's current hop limit (1 for multicast) */
	uint8_t traffic_class;   /* RFC 8200 §7 (DSCP and ECN) */
	int ifindex;             /* -1: by route; needed for link-local and multicast dst */
	bool unspecified_src;    /* send from :: on purpose (DAD probes, RFC 4862 §5.4.2) */
};

void us_ip6_init(struct us_stack *s);

/* An IPv6 packet arrived on ifc (payload of the Ethernet frame). link_mcast:
 * the frame was sent to a link-layer multicast or broadcast address.
 * 0 when taken (delivered, or a fragment kept), or a negative errno when
 * dropped (counted). */
int us_ip6_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt, size_t len,
		 bool link_mcast);

/* Sends b (the upper-layer payload, with US_PBUF_HEADROOM free in front),
 * fragmented when larger than the path MTU. For ICMPv6, b holds the whole
 * message with its checksum field zero: ip6_output fills it in.
 * Always consumes b. 0, or a negative errno. */
int us_ip6_output(struct us_stack *s, struct us_pbuf *b, const struct us_ip6_tx *tx);

/* Where unicast packets to one destination go, looked up once by
 * us_ip6_path() and kept by the caller for as long as s->route_gen does
 * not change (TCP keeps one per connection: tcp.h, "the route cache"):
 * the interface, the next hop (nd6.c), the path MTU. */
struct us_ip6_path {
	struct us_ip6 next_hop;
	uint16_t mtu;
	uint8_t ifindex;
};
/* The path of unicast packets to dst (ifindex: as us_ip6_tx's): 0, or the
 * error us_ip6_output() would return for want of a route. */
int us_ip6_path(struct us_stack *s, const struct us_ip6 *dst, int ifindex,
		struct us_ip6_path *p);
/* us_ip6_output() along a path from us_ip6_path() that is still current
 * (same s->route_gen) for tx->dst and tx->ifindex: no next-hop lookup. */
int us_ip6_output_path(struct us_stack *s, struct us_pbuf *b, const struct us_ip6_tx *tx,
		       const struct us_ip6_path *p);

/* Source address selection for dst on ifc (RFC 6724 §5, the rules that
 * apply to a host with few addresses); ifc NULL: among every interface's
 * addresses. 0 or -EADDRNOTAVAIL. */
int us_ip6_select_src(struct us_stack *s, const struct us_iface *ifc, const struct us_ip6 *dst,
		      struct us_ip6 *src);

/* The path MTU known for dst (RFC 8201), at least 1280. */
uint32_t us_ip6_pmtu(struct us_stack *s, const struct us_ip6 *dst);

/* A Packet Too Big said the path to dst carries at most mtu bytes: lower the
 * estimate (never raise it, never below 1280: RFC 8201 §4). */
void us_ip6_pmtu_update(struct us_stack *s, const struct us_ip6 *dst, uint32_t mtu);

/* True when a is an address of ifc that may be used (RFC 4862 §5.5.4:
 * preferred or deprecated; not tentative, not duplicate). */
bool us_ip6_iface_owns(const struct us_iface *ifc, const struct us_ip6 *a);

/* The interface owning the usable address a, or NULL. */
struct us_iface *us_ip6_owner(struct us_stack *s, const struct us_ip6 *a);

/*
 * The upper-layer header of the packet h (from us_ipv6_parse or
 * us_ipv6_parse_quoted): its protocol, where it starts and how many bytes of
 * it are present. Walks through the extension headers, and for a first
 * fragment on into the fragment's data. 0, or a negative us_wire_err from
 * the walk (US_WIRE_EXT_PAST_END: the chain is cut short), or
 * US_WIRE_BAD_FIELD when it cannot tell: a later fragment, or an option
 * that says to discard the packet stopped the walk.
 */
int us_ip6_upper_layer(const struct us_ipv6_hdr *h, uint8_t *proto, const uint8_t **upper,
		       size_t *upper_len);

/* ICMPv6 (ip6_icmp.c). msg/len is the whole ICMPv6 message; its checksum
 * (with ip's pseudo-header) is verified here. */
int us_ip6_icmp_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		      const uint8_t *msg, size_t len, bool link_mcast);

/* Sends an ICMPv6 error about pkt/len (its IPv6 header first) unless RFC
 * 4443 §2.4 (e) forbids it or the rate limit (§2.4 (f)) says no. The
 * interface is the one owning the packet's destination (or that joined its
 * group); us_ip6_icmp_error_on() names it. param is the MTU or Pointer. */
void us_ip6_icmp_error(struct us_stack *s, uint8_t type, uint8_t code, uint32_t param,
		       const uint8_t *pkt, size_t len, bool link_mcast);

/* The same, about a packet that arrived on ifc (NULL: find it as above). */
void us_ip6_icmp_error_on(struct us_stack *s, struct us_iface *ifc, uint8_t type, uint8_t code,
			  uint32_t param, const uint8_t *pkt, size_t len, bool link_mcast);

/* Reassembly of pkt (first fragment) timed out: Time Exceeded code 1. */
void us_ip6_icmp_reass_timeout(struct us_stack *s, const uint8_t *pkt, size_t len);

void us_ip6_poll(struct us_stack *s);
us_time_t us_ip6_next_deadline(const struct us_stack *s);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * reass.h - reassembly of IPv4 (RFC 791 §3.2, RFC 815) and IPv6 (RFC 8200
 * §4.5) fragments, one mechanism for both families.
 *
 * Read first: this file, then reass.c (the rules, with their RFC sections).
 *
 * Each datagram in progress owns one large buffer (US_PBUF_LARGE) from the
 * pool, where fragment data is copied at its offset, and a sorted list of
 * the byte ranges received. Overlapping fragments drop the whole datagram
 * (RFC 5722 for IPv6; the same care for IPv4, where overlaps only serve
 * attacks), and its key stays refused until its timeout would have fired.
 * Memory is bounded: at most US_REASS_MAX_DATAGRAMS buffers are held (the
 * bytes held are at most US_REASS_MAX_DATAGRAMS * US_PBUF_LARGE); when one
 * more datagram starts, the oldest in progress is dropped to make room. A
 * datagram not complete within its timeout (30 s for IPv4, 60 s for IPv6)
 * is dropped, and the family's ICMP module is told so it can send Time
 * Exceeded (fragment reassembly) when the first fragment came.
 */
#ifndef USTACK_REASS_H
#define USTACK_REASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

struct us_stack;
struct us_pbuf;

#define US_REASS_MAX_DATAGRAMS 4     /* in progress at once, each holding one large buffer */
#define US_REASS_MAX_RANGES    128   /* separate pieces received for one datagram */
#define US_REASS_POISON_SLOTS  16    /* keys refused after an overlap */
#define US_REASS_MAX_PAYLOAD   65535 /* fragmentable part: offset + length never exceeds it */
#define US_REASS_MAX_HDR       128   /* bytes kept in front of the fragmentable part */
#define US_REASS_TIMEOUT4      US_SEC(30)
#define US_REASS_TIMEOUT6      US_SEC(60)

/* What identifies the fragments of one datagram: RFC 791's (source,
 * destination, protocol, identification); RFC 8200's (source, destination,
 * identification). Addresses as 16 bytes (IPv4 in the first 4, network
 * order, the other 12 zero: all 16 are compared). */
struct us_reass_key {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;  /* IPv4 protocol; 0 for IPv6 */
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
};

/* A received piece of the fragmentable part, [start, end) in bytes. */
struct us_reass_range {
	uint32_t start, end;
};

struct us_reass_dgram {
	bool used;
	struct us_reass_key key;
	us_time_t started;   /* when its first-arriving fragment came */
	us_time_t deadline;  /* started + the family's timeout */
	struct us_pbuf *buf; /* a large buffer, the data at its offset US_PBUF_LARGE - 65535 */
	bool have_first;     /* the fragment at offset 0 came: hdr is kept */
	bool have_last;      /* the fragment with More Fragments clear came */
	uint16_t hdr_len;
	uint32_t first_len;  /* data bytes of the offset-0 fragment */
	uint32_t total;      /* the fragmentable part's length, known with the last fragment */
	uint32_t n_ranges;
	struct us_reass_range ranges[US_REASS_MAX_RANGES]; /* sorted, disjoint, not adjacent */
};

/* A key whose datagram was dropped for an overlap or an inconsistency:
 * its later fragments are refused until `until`. */
struct us_reass_poison {
	bool used;
	struct us_reass_key key;
	us_time_t until;
};

struct us_reass_state {
	struct us_reass_dgram dgram[US_REASS_MAX_DATAGRAMS];
	struct us_reass_poison poison[US_REASS_POISON_SLOTS];
};

void us_reass_init(struct us_stack *s);
/* Releases every buffer held. */
void us_reass_fini(struct us_stack *s);

/*
 * Adds one fragment: data/len is its fragmentable part, at byte offset
 * offset of the datagram; more is the More Fragments flag. hdr/hdr_len are
 * the bytes in front of the fragmentable part (the IPv4 header; the IPv6
 * header and the extension headers up to the fragmentable part: ip6_input.c
 * includes the Fragment header), kept from the fragment at offset 0 for the
 * reassembled packet and for an ICMP error. They are read only from that
 * fragment (at most US_REASS_MAX_HDR bytes).
 *
 * A fragment at offset 0 without More Fragments (an IPv6 "atomic fragment")
 * is returned at once, on its own, never mixed with others (RFC 6946 §4).
 *
 * Returns 1 with *out a buffer holding hdr followed by the whole payload
 * (length fields not yet fixed up: the caller does that; at least
 * US_PBUF_HEADROOM bytes of headroom), 0 when fragments are still missing
 * (or this one was an exact duplicate, ignored), or a negative errno when
 * the fragment (and with an overlap, the whole datagram) was dropped; each
 * drop is counted. The errno tells the caller which ICMP, if any, is due:
 *   -EINVAL    length not a multiple of 8 with More Fragments set (RFC 8200
 *              §4.5: Parameter Problem code 0 at Payload Length), or an
 *              offset not a multiple of 8 (no wire format can give one)
 *   -EMSGSIZE  IPv4: the header plus offset + length beyond 65535 bytes;
 *              IPv6: offset + length beyond 65535 (the caller checks the
 *              Unfragmentable Part's share: RFC 8200 §4.5, Parameter
 *              Problem code 0 at Fragment Offset)
 *   -EPROTO    overlap, inconsistent lengths or a refused key (RFC 8200
 *              §4.5: "no ICMP error messages should be sent"); an empty
 *              fragment
 *   -ENOBUFS   no buffer, too many pieces, or a header over US_REASS_MAX_HDR
 *   -EAFNOSUPPORT  key->family is neither 4 nor 6
 * *out is NULL unless 1 is returned.
 */
int us_reass_add(struct us_stack *s, const struct us_reass_key *k, uint32_t offset, bool more,
		 const uint8_t *data, size_t len, const uint8_t *hdr, size_t hdr_len,
		 struct us_pbuf **out);

/* Datagrams in progress (for tests and tools). */
int us_reass_in_progress(const struct us_stack *s);

/* Drops datagrams past their timeout, telling ICMP about those whose first
 * fragment came; the earliest deadline. */
void us_reass_poll(struct us_stack *s);
us_time_t us_reass_next_deadline(const struct us_stack *s);

#endif

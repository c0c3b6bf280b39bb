/* SPDX-License-Identifier: MIT */
/*
 * reass.c - fragment reassembly for IPv4 (RFC 791 §3.2 "Fragmentation and
 * reassembly", RFC 815, RFC 1122 §3.3.2) and IPv6 (RFC 8200 §4.5, RFC 5722,
 * RFC 6946), one mechanism for both.
 *
 * Read first: reass.h (the data structures and the return codes), then
 * us_reass_add() below, which checks a fragment in the order the RFCs give
 * their rules. ip_input.c and ip6_input.c call it; the timeouts call back
 * into ip_icmp.c and ip6_icmp.c.
 *
 * How it keeps a datagram: one US_PBUF_LARGE buffer per datagram, the
 * fragmentable part at offset REASS_DATA_OFF (so the largest possible
 * payload, 65535 bytes, ends exactly at the end of the buffer) and the header
 * of the offset-0 fragment right in front of it, so the finished datagram is
 * one contiguous piece and the buffer is handed to the caller without a
 * copy. The pieces received are a sorted list of disjoint byte ranges
 * (adjacent ones merged, so fragments in order keep one range): RFC 815's
 * hole list, seen from the other side.
 *
 * Decisions:
 * - Overlaps: RFC 5722 §4, "the entire datagram (and any constituent
 *   fragments, including those not yet received) MUST be silently
 *   discarded"; RFC 8200 §4.5, "reassembly of that packet must be abandoned
 *   and all the fragments that have been received for that packet must be
 *   discarded, and no ICMP error messages should be sent". Applied to IPv4
 *   as well. "Those not yet received" is why the key is then remembered
 *   (poisoned) until the datagram's timeout would have fired: its later
 *   fragments are dropped too, instead of starting a new datagram that could
 *   complete with the attacker's bytes (OpenBSD's pf does the same).
 * - Exact duplicates are ignored (RFC 8200 §4.5: "an implementation may
 *   choose to detect this case and drop exact duplicate fragments while
 *   keeping the other fragments"): a fragment lying wholly inside data
 *   already received, with identical bytes. Anything else that touches
 *   received data is an overlap.
 * - Lengths that disagree (a last fragment ending before data already
 *   received, two last fragments ending apart, data past the end the last
 *   fragment gave) abandon and poison the datagram like an overlap.
 * - A fragment with More Fragments set whose length is not a multiple of 8
 *   is dropped (RFC 8200 §4.5 "must be discarded"; RFC 791 §3.2 makes every
 *   fragment but the last a multiple of 8 octets), as is an empty one.
 * - A fragment that would make the datagram larger than its Total Length
 *   field can say (IPv4: the "ping of death"), or whose fragmentable part
 *   would end past 65535 bytes (IPv6; RFC 8200 §4.5 "must be discarded"), is
 *   dropped: see payload_limit().
 * - Timeouts: RFC 8200 §4.5 gives 60 s from the first-arriving fragment.
 *   Deviation: IPv4 uses 30 s, as Linux (ipfrag_time) does; RFC 1122 §3.3.2
 *   recommends 60 to 120 s. With memory this bounded, holding a datagram
 *   longer only helps an attacker. On expiry, "if fragment zero has been
 *   received", ICMP Time Exceeded code 1 is the ICMP module's to send (RFC
 *   1122 §3.3.2 MUST, RFC 8200 §4.5 should): we hand it that fragment.
 * - Full: when a datagram starts while US_REASS_MAX_DATAGRAMS are in
 *   progress (or the pool has no large buffer for it), the oldest in
 *   progress is dropped (reass.evicted), so a flood of incomplete datagrams
 *   can delay reassembly but never stop it for good.
 * - RFC 6946 §4: a fragment with offset 0 and More Fragments clear "MUST
 *   [be processed] in isolation": it is returned on its own at once.
 * - Not implemented: a per-source bound (one host can still fill every
 *   slot; eviction keeps the others working, only slower).
 */
#include "reass.h"

#include "stack.h"

#include <errno.h>
#include <string.h>

/* Where the fragmentable part starts in a datagram's buffer. */
#define REASS_DATA_OFF (US_PBUF_LARGE - US_REASS_MAX_PAYLOAD)

/* The header fits in front of the data with the usual headroom left. */
_Static_assert(REASS_DATA_OFF >= US_PBUF_HEADROOM + US_REASS_MAX_HDR, "room for the header");

#define IPV4_MIN_HDR 20
#define IP_MAX_LEN   65535 /* IPv4 Total Length: 16 bits */

/* ---- Keys ------------------------------------------------------------------ */

static bool key_equal(const struct us_reass_key *a, const struct us_reass_key *b)
{
	return a->family == b->family && a->proto == b->proto && a->id == b->id &&
	       memcmp(a->src, b->src, sizeof a->src) == 0 &&
	       memcmp(a->dst, b->dst, sizeof a->dst) == 0;
}

static us_time_t timeout_of(uint8_t family)
{
	return family == 4 ? US_REASS_TIMEOUT4 : US_REASS_TIMEOUT6;
}

/*
 * The largest end offset of the fragmentable part that the datagram's length
 * field can express. IPv4: Total Length (RFC 791 §3.1) counts the header, at
 * least 20 bytes, and the header is what hdr holds; with it not yet known,
 * its smallest size is assumed. IPv6: Payload Length (RFC 8200 §3) counts
 * the unfragmentable extension headers as well, but which of them hdr
 * holds is the caller's choice (ip6_input.c includes the Fragment header,
 * which the reassembled packet loses), so here only the fragmentable part
 * is bounded, and the caller applies RFC 8200 §4.5 ("If the length and
 * offset of a fragment are such that the Payload Length of the packet
 * reassembled from that fragment would exceed 65,535 octets, then that
 * fragment must be discarded") with the Unfragmentable Part it parsed.
 */
#define IPV6_HDR_WITH_FRAG 48 /* the IPv6 header and a Fragment header */

static uint32_t payload_limit(uint8_t family, bool hdr_known, size_t hdr_len)
{
	if (family == 4) {
		size_t h = hdr_known && hdr_len > IPV4_MIN_HDR ? hdr_len : IPV4_MIN_HDR;
		return (uint32_t)(IP_MAX_LEN - h);
	}
	/* RFC 8200 §4.5: the Payload Length of the reassembled packet, which
	 * counts the unfragmentable extension headers (hdr_len holds the IPv6
	 * header and, from ip6_input.c, the Fragment header too: 48 bytes at
	 * the least), may not exceed 65535. */
	if (hdr_known && hdr_len > IPV6_HDR_WITH_FRAG)
		return (uint32_t)(US_REASS_MAX_PAYLOAD - (hdr_len - IPV6_HDR_WITH_FRAG));
	return US_REASS_MAX_PAYLOAD;
}

/* Counts and traces a dropped fragment; returns err for the caller. */
static int refuse(struct us_stack *s, enum us_counter_id ctr, const char *why, int err)
{
	us_drop(s, ctr, -1, why);
	return err;
}

/* ---- Poisoned keys --------------------------------------------------------- */

static bool poisoned(const struct us_stack *s, const struct us_reass_key *k)
{
	for (int i = 0; i < US_REASS_POISON_SLOTS; i++) {
		const struct us_reass_poison *p = &s->reass.poison[i];
		if (p->used && p->until > s->now && key_equal(&p->key, k))
			return true;
	}
	return false;
}

/* Remembers k until `until`; when every slot is taken, the one that would
 * expire first makes room. */
static void poison(struct us_stack *s, const struct us_reass_key *k, us_time_t until)
{
	struct us_reass_poison *slot = NULL;
	for (int i = 0; i < US_REASS_POISON_SLOTS; i++) {
		struct us_reass_poison *p = &s->reass.poison[i];
		if (!p->used || p->until <= s->now || key_equal(&p->key, k)) {
			slot = p;
			break;
		}
		if (!slot || p->until < slot->until)
			slot = p;
	}
	*slot = (struct us_reass_poison){ .used = true, .key = *k, .until = until };
}

/* ---- Datagrams in progress ------------------------------------------------- */

static void release(struct us_stack *s, struct us_reass_dgram *d)
{
	us_pbuf_free(&s->pool, d->buf);
	memset(d, 0, sizeof *d);
}

/* Drops the datagram and everything received for it. */
static int abandon(struct us_stack *s, struct us_reass_dgram *d, enum us_counter_id ctr,
		   const char *why, bool poison_key, int err)
{
	us_drop(s, ctr, -1, why);
	if (poison_key)
		poison(s, &d->key, d->deadline);
	release(s, d);
	return err;
}

static struct us_reass_dgram *find(struct us_stack *s, const struct us_reass_key *k)
{
	for (int i = 0; i < US_REASS_MAX_DATAGRAMS; i++) {
		struct us_reass_dgram *d = &s->reass.dgram[i];
		if (d->used && key_equal(&d->key, k))
			return d;
	}
	return NULL;
}

/* Drops the datagram in progress that started first; false when none is. */
static bool evict_oldest(struct us_stack *s)
{
	struct us_reass_dgram *old = NULL;
	for (int i = 0; i < US_REASS_MAX_DATAGRAMS; i++) {
		struct us_reass_dgram *d = &s->reass.dgram[i];
		if (d->used && (!old || d->started < old->started))
			old = d;
	}
	if (!old)
		return false;
	abandon(s, old, US_CTR_REASS_EVICTED, "oldest datagram dropped to make room", false, 0);
	return true;
}

static struct us_reass_dgram *free_slot(struct us_stack *s)
{
	for (int i = 0; i < US_REASS_MAX_DATAGRAMS; i++)
		if (!s->reass.dgram[i].used)
			return &s->reass.dgram[i];
	return NULL;
}

/* A new datagram for k, with its buffer; NULL when no buffer can be had. */
static struct us_reass_dgram *start(struct us_stack *s, const struct us_reass_key *k)
{
	struct us_reass_dgram *d = free_slot(s);
	if (!d) {
		evict_oldest(s);
		d = free_slot(s);
	}
	struct us_pbuf *b = us_stack_alloc(s, US_PBUF_LARGE - US_PBUF_HEADROOM);
	if (!b && evict_oldest(s))
		b = us_stack_alloc(s, US_PBUF_LARGE - US_PBUF_HEADROOM);
	if (!b)
		return NULL;
	memset(d, 0, sizeof *d);
	d->used = true;
	d->key = *k;
	d->started = s->now;
	/* RFC 8200 §4.5: "within 60 seconds of the reception of the
	 * first-arriving fragment of that packet". */
	d->deadline = s->now + timeout_of(k->family);
	d->buf = b;
	return d;
}

static uint32_t received_end(const struct us_reass_dgram *d)
{
	return d->n_ranges ? d->ranges[d->n_ranges - 1].end : 0;
}

/* Index of the first range that touches [start, end) with at least one
 * byte, or -1. */
static int overlapping(const struct us_reass_dgram *d, uint32_t start_off, uint32_t end)
{
	for (uint32_t i = 0; i < d->n_ranges; i++)
		if (d->ranges[i].start < end && start_off < d->ranges[i].end)
			return (int)i;
	return -1;
}

/* Records [start, end), which overlaps nothing, merging it with the ranges
 * it touches. false when it needs a new range and there is no room. */
static bool insert_range(struct us_reass_dgram *d, uint32_t start_off, uint32_t end)
{
	uint32_t i = 0;
	while (i < d->n_ranges && d->ranges[i].start < start_off)
		i++;
	/* Now ranges[i-1] lies before, ranges[i] after. */
	bool join_left = i > 0 && d->ranges[i - 1].end == start_off;
	bool join_right = i < d->n_ranges && d->ranges[i].start == end;
	if (join_left && join_right) {
		d->ranges[i - 1].end = d->ranges[i].end;
		memmove(&d->ranges[i], &d->ranges[i + 1],
			(d->n_ranges - i - 1) * sizeof d->ranges[0]);
		d->n_ranges--;
	} else if (join_left) {
		d->ranges[i - 1].end = end;
	} else if (join_right) {
		d->ranges[i].start = start_off;
	} else {
		if (d->n_ranges == US_REASS_MAX_RANGES)
			return false;
		memmove(&d->ranges[i + 1], &d->ranges[i], (d->n_ranges - i) * sizeof d->ranges[0]);
		d->ranges[i] = (struct us_reass_range){ start_off, end };
		d->n_ranges++;
	}
	return true;
}

static uint8_t *data_at(const struct us_reass_dgram *d, uint32_t offset)
{
	return d->buf->mem + REASS_DATA_OFF + offset;
}

static bool complete(const struct us_reass_dgram *d)
{
	return d->have_first && d->have_last && d->n_ranges == 1 && d->ranges[0].start == 0 &&
	       d->ranges[0].end == d->total;
}

/* Hands the finished datagram's buffer to the caller: header, then payload. */
static int finish(struct us_stack *s, struct us_reass_dgram *d, struct us_pbuf **out)
{
	struct us_pbuf *b = d->buf;
	b->off = REASS_DATA_OFF - d->hdr_len;
	b->len = d->hdr_len + d->total;
	b->next = NULL;
	d->buf = NULL;
	release(s, d);
	us_count(s, US_CTR_REASS_COMPLETED);
	*out = b;
	return 1;
}

/* RFC 6946 §4: an atomic fragment is processed "in isolation from any other
 * packets/fragments, even if such packets/fragments contain the same set
 * {IPv6 Source Address, IPv6 Destination Address, Fragment Identification}". */
static int atomic(struct us_stack *s, const uint8_t *data, size_t len, const uint8_t *hdr,
		  size_t hdr_len, struct us_pbuf **out)
{
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)(hdr_len + len));
	if (!b)
		return refuse(s, US_CTR_REASS_DROP_NO_MEMORY, "no buffer for an atomic fragment",
			      -ENOBUFS);
	if (hdr_len)
		memcpy(us_pbuf_data(b), hdr, hdr_len);
	memcpy(us_pbuf_data(b) + hdr_len, data, len);
	us_count(s, US_CTR_REASS_ATOMIC);
	*out = b;
	return 1;
}

/* The fragment [offset, end) for the datagram d in progress. */
static int add_fragment(struct us_stack *s, struct us_reass_dgram *d, uint32_t offset, uint32_t end,
			bool more, const uint8_t *data, const uint8_t *hdr, size_t hdr_len,
			struct us_pbuf **out)
{
	/* RFC 791 §3.2: the last fragment gives the total length; every other
	 * fragment must lie inside it. */
	if (d->have_last && end > d->total)
		return abandon(s, d, US_CTR_REASS_DROP_INCONSISTENT, "data past the last fragment",
			       true, -EPROTO);
	if (!more && d->have_last && end != d->total)
		return abandon(s, d, US_CTR_REASS_DROP_INCONSISTENT, "two different last fragments",
			       true, -EPROTO);
	if (!more && !d->have_last && end < received_end(d))
		return abandon(s, d, US_CTR_REASS_DROP_INCONSISTENT,
			       "last fragment ends before data received", true, -EPROTO);

	/* The length field's limit, now that the header may be known. */
	if (d->have_first && end > payload_limit(d->key.family, true, d->hdr_len))
		return refuse(s, US_CTR_REASS_DROP_TOO_BIG, "datagram would exceed 65535 bytes",
			      -EMSGSIZE);
	if (offset == 0 && !d->have_first &&
	    received_end(d) > payload_limit(d->key.family, true, hdr_len))
		return refuse(s, US_CTR_REASS_DROP_TOO_BIG,
			      "header makes the datagram exceed 65535 bytes", -EMSGSIZE);

	/* RFC 5722 §4, RFC 8200 §4.5: overlaps abandon the datagram; exact
	 * duplicates may be dropped alone ("Instead of treating these exact
	 * duplicate fragments as overlapping fragments, an implementation may
	 * choose to detect this case"). A copy of data received that claims to
	 * be the last fragment is a duplicate only once the last is known. */
	uint32_t len = end - offset;
	int r = overlapping(d, offset, end);
	if (r >= 0) {
		const struct us_reass_range *g = &d->ranges[r];
		if (g->start <= offset && end <= g->end &&
		    memcmp(data_at(d, offset), data, len) == 0 && (more || d->have_last)) {
			us_count(s, US_CTR_REASS_DUPLICATES);
			return 0;
		}
		return abandon(s, d, US_CTR_REASS_DROP_OVERLAP, "overlapping fragments", true,
			       -EPROTO);
	}
	if (!insert_range(d, offset, end))
		return abandon(s, d, US_CTR_REASS_DROP_TOO_MANY_HOLES,
			       "too many separate fragments", false, -ENOBUFS);

	memcpy(data_at(d, offset), data, len);
	if (offset == 0) {
		/* Keep the first fragment's header in front of the data: it
		 * becomes the datagram's header (RFC 791 §3.2, RFC 8200 §4.5 "the
		 * Unfragmentable Part of the reassembled packet consists of all
		 * headers up to, but not including, the Fragment header of the
		 * first fragment packet"). */
		if (hdr_len)
			memcpy(data_at(d, 0) - hdr_len, hdr, hdr_len);
		d->hdr_len = (uint16_t)hdr_len;
		d->have_first = true;
		d->first_len = len;
	}
	if (!more) {
		d->have_last = true;
		d->total = end;
	}
	if (complete(d))
		return finish(s, d, out);
	return 0;
}

int us_reass_add(struct us_stack *s, const struct us_reass_key *k, uint32_t offset, bool more,
		 const uint8_t *data, size_t len, const uint8_t *hdr, size_t hdr_len,
		 struct us_pbuf **out)
{
	*out = NULL;
	us_count(s, US_CTR_REASS_IN_FRAGMENTS);
	if (k->family != 4 && k->family != 6)
		return refuse(s, US_CTR_REASS_DROP_BAD_FAMILY, "not IPv4 or IPv6", -EAFNOSUPPORT);

	/* Lengths first: RFC 8200 §4.5 "If the length of a fragment ... is not a
	 * multiple of 8 octets and the M flag of that fragment is 1, then that
	 * fragment must be discarded". Offsets are in 8-octet units on the
	 * wire, so a byte offset here is a multiple of 8. */
	if (len == 0)
		return refuse(s, US_CTR_REASS_DROP_BAD_LENGTH, "empty fragment", -EPROTO);
	if (offset % 8 != 0)
		return refuse(s, US_CTR_REASS_DROP_BAD_LENGTH, "offset not a multiple of 8",
			      -EINVAL);
	if (more && len % 8 != 0)
		return refuse(s, US_CTR_REASS_DROP_BAD_LENGTH,
			      "fragment with More Fragments not a multiple of 8 bytes", -EINVAL);
	uint64_t end = (uint64_t)offset + len;
	if (end > payload_limit(k->family, offset == 0, hdr_len))
		return refuse(s, US_CTR_REASS_DROP_TOO_BIG, "datagram would exceed 65535 bytes",
			      -EMSGSIZE);
	if (offset == 0 && hdr_len > US_REASS_MAX_HDR)
		return refuse(s, US_CTR_REASS_DROP_HDR_TOO_LONG,
			      "header in front of the fragment too long", -ENOBUFS);

	if (offset == 0 && !more)
		return atomic(s, data, len, hdr, hdr_len, out);

	if (poisoned(s, k))
		return refuse(s, US_CTR_REASS_DROP_POISONED,
			      "fragment of a datagram dropped for overlap", -EPROTO);
	struct us_reass_dgram *d = find(s, k);
	if (!d) {
		d = start(s, k);
		if (!d)
			return refuse(s, US_CTR_REASS_DROP_NO_MEMORY,
				      "no buffer for a new datagram", -ENOBUFS);
	}
	return add_fragment(s, d, offset, (uint32_t)end, more, data, hdr, hdr_len, out);
}

int us_reass_in_progress(const struct us_stack *s)
{
	int n = 0;
	for (int i = 0; i < US_REASS_MAX_DATAGRAMS; i++)
		n += s->reass.dgram[i].used;
	return n;
}

/* ---- Timers ---------------------------------------------------------------- */

void us_reass_poll(struct us_stack *s)
{
	for (int i = 0; i < US_REASS_MAX_DATAGRAMS; i++) {
		struct us_reass_dgram *d = &s->reass.dgram[i];
		if (!d->used || d->deadline > s->now)
			continue;
		us_drop(s, US_CTR_REASS_DROP_TIMEOUT, -1, "reassembly timed out");
		/* Detach first: the ICMP module sends from inside this call. */
		struct us_reass_dgram gone = *d;
		memset(d, 0, sizeof *d);
		/* RFC 1122 §3.3.2: "If this timeout expires, the partially-
		 * reassembled datagram MUST be discarded and an ICMP Time Exceeded
		 * message sent to the source host (if fragment zero has been
		 * received)." RFC 8200 §4.5 says the same for IPv6. */
		if (gone.have_first) {
			const uint8_t *pkt = data_at(&gone, 0) - gone.hdr_len;
			size_t n = gone.hdr_len + gone.first_len;
			if (gone.key.family == 4)
				us_icmp_reass_timeout(s, pkt, n);
			else
				us_ip6_icmp_reass_timeout(s, pkt, n);
		}
		us_pbuf_free(&s->pool, gone.buf);
	}
	for (int i = 0; i < US_REASS_POISON_SLOTS; i++)
		if (s->reass.poison[i].used && s->reass.poison[i].until <= s->now)
			s->reass.poison[i].used = false;
}

us_time_t us_reass_next_deadline(const struct us_stack *s)
{
	us_time_t t = US_TIME_NEVER;
	for (int i = 0; i < US_REASS_MAX_DATAGRAMS; i++) {
		const struct us_reass_dgram *d = &s->reass.dgram[i];
		if (d->used && d->deadline < t)
			t = d->deadline;
	}
	return t;
}

/* ---- Life ------------------------------------------------------------------ */

void us_reass_init(struct us_stack *s)
{
	memset(&s->reass, 0, sizeof s->reass);
}

void us_reass_fini(struct us_stack *s)
{
	for (int i = 0; i < US_REASS_MAX_DATAGRAMS; i++)
		if (s->reass.dgram[i].used)
			release(s, &s->reass.dgram[i]);
}

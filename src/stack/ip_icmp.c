/* SPDX-License-Identifier: MIT */
/*
 * ip_icmp.c - ICMP for IPv4: RFC 792, RFC 1122 §3.2.2 (what a host must do
 * with each message, and when it must not send an error), RFC 1191 §4
 * ("fragmentation needed" lowers a path MTU), and echo requests from the
 * stack (us_stack_ping4).
 *
 * Read first: wire/icmp4.h (the message formats), then us_icmp_input().
 *
 * Decisions:
 * - Echo requests to a broadcast or multicast address are dropped. RFC 1122
 *   §3.2.2.6: "An ICMP Echo Request destined to an IP broadcast or IP
 *   multicast address MAY be silently discarded." Linux does by default
 *   (icmp_echo_ignore_broadcasts = 1): answering them turns one forged
 *   request into a flood at the victim ("smurf").
 * - An echo reply goes back with the request's DSCP (Linux reflects the TOS
 *   octet too) but ECN bits clear: ICMP did not negotiate ECN (RFC 3168 §5).
 * - Errors quote as much of the offending datagram as fits in a 576-octet
 *   error (RFC 1812 §4.3.2.3, and what Linux does), not only RFC 792's
 *   "Internet Header + 64 bits": the more the peer gets, the better it can
 *   match the error to a connection.
 * - Errors are sent with precedence 6, TOS 0xc0 (RFC 1812 §4.3.2.5: errors
 *   "SHOULD have their precedence value set to 6 (INTERNETWORK CONTROL)";
 *   Linux does the same for hosts).
 * - Rate limit (RFC 1812 §4.3.2.8, RFC 4443 §2.4 (f) in spirit): every
 *   error must pass two token buckets, Linux's defaults: a global one of 1000
 *   per second with a burst of 50 (net.ipv4.icmp_msgs_per_sec/_burst), and
 *   one per destination of 1 per second with a burst of 6 (icmp_ratelimit
 *   1000 ms, XRLIM_BURST_FACTOR 6). Per-destination buckets live in a
 *   table of US_ICMP_RATE_BUCKETS indexed by a keyed hash of the address:
 *   two destinations that collide share a bucket (never more messages, and
 *   bounded memory whatever the number of sources). Echo replies are not
 *   limited (they answer a request one for one, as in Linux's ratemask).
 * - "Fragmentation needed" with a Next-Hop MTU of 0 (a router older than
 *   RFC 1191) takes the next plateau below the quoted datagram's length
 *   (RFC 1191 §5 and the table of §7).
 * - Echo replies are reported through s->cfg.on_echo_reply only when their
 *   identifier is one of the last US_ICMP_PINGS identifiers used by
 *   us_stack_ping4(); others are counted and dropped.
 * - Source Quench is counted and ignored (RFC 6633 deprecates it: hosts
 *   may silently discard it). Redirects are counted and ignored.
 *   Deviation: RFC 1122 §3.2.2.2 says a host SHOULD update its routes from
 *   a Redirect; we keep static routes only, like Linux with
 *   accept_redirects = 0 (its default on routers, common on hardened hosts).
 * - Not implemented: Timestamp (RFC 1122 §3.2.2.8 MAY) and Address Mask
 *   (§3.2.2.9: a host MUST NOT answer unless authoritative) messages; like
 *   every type we do not know, they are counted and silently discarded
 *   (RFC 1122 §3.2.2: "If an ICMP message of unknown type is received, it
 *   MUST be silently discarded").
 */
#include "ip.h"

#include "stack.h"

#include <errno.h>
#include <string.h>

#include "rand.h"
#include "wire/bytes.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

/* Rate limit: one message costs `cost` microseconds of credit. */
#define RATE_GLOBAL_COST US_MSEC(1)	  /* 1000 per second */
#define RATE_GLOBAL_BURST (50 * RATE_GLOBAL_COST)
#define RATE_DST_COST US_SEC(1)		  /* 1 per second per destination */
#define RATE_DST_BURST (6 * RATE_DST_COST)

/* RFC 1812 §4.3.2.3: an error, IP header included, is at most 576 octets. */
#define ICMP_ERROR_MAX_LEN 576
/* RFC 1812 §4.3.2.5: precedence 6, INTERNETWORK CONTROL. */
#define ICMP_ERROR_TOS 0xc0
/* RFC 3168 §5: the two low bits of the TOS octet are ECN's. */
#define IP_TOS_ECN_MASK 0x03

void us_icmp_init(struct us_stack *s)
{
	struct us_ip_state *st = &s->ip;
	st->rate_global = (struct us_icmp_bucket){ .credit = RATE_GLOBAL_BURST, .last = s->now };
	for (int i = 0; i < US_ICMP_RATE_BUCKETS; i++)
		st->rate_dst[i] =
			(struct us_icmp_bucket){ .credit = RATE_DST_BURST, .last = s->now };
	memset(st->pings, 0, sizeof st->pings);
}

/* ---- Rate limit ------------------------------------------------------------ */

static us_time_t bucket_credit(const struct us_icmp_bucket *b, us_time_t now, us_time_t burst)
{
	us_time_t elapsed = now > b->last ? now - b->last : 0;
	if (elapsed >= burst)
		return burst;
	us_time_t c = b->credit + elapsed;
	return c > burst ? burst : c;
}

static struct us_icmp_bucket *dst_bucket(struct us_stack *s, uint32_t dst)
{
	uint8_t in[6] = { 'r', 'l' };
	us_put_be32(in + 2, dst);
	return &s->ip.rate_dst[us_siphash(s->cfg.secret, in, sizeof in) % US_ICMP_RATE_BUCKETS];
}

/* True, and one message charged to both buckets, when both have credit. */
static bool rate_allow(struct us_stack *s, uint32_t dst)
{
	struct us_icmp_bucket *g = &s->ip.rate_global, *d = dst_bucket(s, dst);
	us_time_t gc = bucket_credit(g, s->now, RATE_GLOBAL_BURST);
	us_time_t dc = bucket_credit(d, s->now, RATE_DST_BURST);
	if (gc < RATE_GLOBAL_COST || dc < RATE_DST_COST)
		return false;
	*g = (struct us_icmp_bucket){ .credit = gc - RATE_GLOBAL_COST,
				      .last = s->now > g->last ? s->now : g->last };
	*d = (struct us_icmp_bucket){ .credit = dc - RATE_DST_COST,
				      .last = s->now > d->last ? s->now : d->last };
	return true;
}

/* ---- Sending errors ---------------------------------------------------------- */

/*
 * RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result of
 * receiving:
 *   * an ICMP error message, or
 *   * a datagram destined to an IP broadcast or IP multicast address, or
 *   * a datagram sent as a link-layer broadcast, or
 *   * a non-initial fragment, or
 *   * a datagram whose source address does not define a single host -- e.g.,
 *     a zero address, a loopback address, a broadcast address, a multicast
 *     address, or a Class E address."
 * Each rule has its own counter, then the rate limit has its say.
 */
static enum us_counter_id error_forbidden(const struct us_stack *s, const struct us_ipv4_hdr *q,
					   bool link_bcast)
{
	/* An ICMP datagram too short to show its type is treated as an error:
	 * in doubt, stay silent. */
	if (q->proto == US_IPPROTO_ICMP && q->frag_offset == 0 &&
	    (q->payload_len < 1 || us_icmp4_is_error(q->payload[0])))
		return US_CTR_ICMP_NOERR_ABOUT_ERROR;
	if (us_ip_is_group(s, q->dst))
		return US_CTR_ICMP_NOERR_GROUP_DST;
	if (link_bcast)
		return US_CTR_ICMP_NOERR_LINK_BCAST;
	if (q->frag_offset != 0)
		return US_CTR_ICMP_NOERR_FRAGMENT;
	if (us_ipv4_is_martian_src(q->src) || us_ip_is_group(s, q->src))
		return US_CTR_ICMP_NOERR_BAD_SOURCE;
	return US_CTR_COUNT;
}

void us_icmp_error(struct us_stack *s, uint8_t type, uint8_t code, uint32_t rest,
		   const uint8_t *pkt, size_t len, bool link_bcast)
{
	struct us_ipv4_hdr q;
	if (!pkt || us_ipv4_parse_quoted(pkt, len, &q) != US_WIRE_OK) {
		us_count(s, US_CTR_ICMP_NOERR_MALFORMED);
		return;
	}
	enum us_counter_id no = error_forbidden(s, &q, link_bcast);
	if (no != US_CTR_COUNT) {
		us_count(s, no);
		return;
	}
	if (!rate_allow(s, q.src)) {
		us_count(s, US_CTR_ICMP_OUT_RATE_LIMITED);
		return;
	}

	size_t quote = (size_t)q.hdr_len + q.payload_len;
	size_t max_quote = ICMP_ERROR_MAX_LEN - US_IPV4_HDR_LEN - US_ICMP4_HDR_LEN;
	if (quote > max_quote)
		quote = max_quote;
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)(US_ICMP4_HDR_LEN + quote));
	if (!b)
		return; /* counted as pbuf.exhausted */
	uint8_t *d = us_pbuf_data(b);
	memcpy(d + US_ICMP4_HDR_LEN, pkt, quote);
	struct us_icmp4_hdr h = { .type = type, .code = code, .rest = rest, .payload_len = quote };
	us_icmp4_emit(&h, d, b->len);

	/* The error comes from the address the offending datagram was sent
	 * to (it is ours: group destinations were refused above). */
	struct us_ip_tx tx = {
		.src = us_ip_is_local(s, q.dst) ? q.dst : 0,
		.dst = q.src,
		.proto = US_IPPROTO_ICMP,
		.tos = ICMP_ERROR_TOS,
		.ifindex = -1,
	};
	us_count(s, US_CTR_ICMP_OUT_ERRORS);
	us_ip_output(s, b, &tx);
}

void us_icmp_reass_timeout(struct us_stack *s, const uint8_t *pkt, size_t len)
{
	/* RFC 1122 §3.3.2: "If the reassembly timeout expires, the partially-
	 * reassembled datagram MUST be discarded and an ICMP Time Exceeded
	 * message sent to the source host (if fragment zero has been
	 * received)"; reass.c calls only then. RFC 792: code 1, "fragment
	 * reassembly time exceeded". */
	us_icmp_error(s, US_ICMP4_TIME_EXCEEDED, US_ICMP4_TIMEX_REASSEMBLY, 0, pkt, len, false);
}

/* ---- Echo -------------------------------------------------------------------- */

/* RFC 792 "Echo or Echo Reply Message": "The data received in the echo
 * message must be returned in the echo reply message", with the same
 * identifier and sequence number; RFC 1122 §3.2.2.6: "Every host MUST
 * implement an ICMP Echo server function". */
static int echo_request(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
			const struct us_icmp4_hdr *h, const uint8_t *msg, size_t len, bool to_group)
{
	us_count(s, US_CTR_ICMP_IN_ECHO_REQUESTS);
	if (to_group)
		return us_drop(s, US_CTR_ICMP_DROP_ECHO_BROADCAST, ifc->index,
			       "echo request to a broadcast or multicast address");
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)len);
	if (!b)
		return -ENOBUFS;
	uint8_t *d = us_pbuf_data(b);
	memcpy(d, msg, len);
	struct us_icmp4_hdr r = { .type = US_ICMP4_ECHO_REPLY, .code = 0, .rest = h->rest,
				  .payload_len = h->payload_len };
	us_icmp4_emit(&r, d, len);
	/* RFC 1122 §3.2.2.6: "The IP source address in an ICMP Echo Reply
	 * MUST be the same as the specific-destination address ... of the
	 * corresponding ICMP Echo Request message." */
	struct us_ip_tx tx = {
		.src = ip->dst,
		.dst = ip->src,
		.proto = US_IPPROTO_ICMP,
		.tos = (uint8_t)(ip->tos & ~IP_TOS_ECN_MASK),
		.ifindex = -1,
	};
	us_count(s, US_CTR_ICMP_OUT_ECHO_REPLIES);
	return us_ip_output(s, b, &tx);
}

static struct us_ip_ping *ping_find(struct us_stack *s, uint16_t id)
{
	for (int i = 0; i < US_ICMP_PINGS; i++)
		if (s->ip.pings[i].used && s->ip.pings[i].id == id)
			return &s->ip.pings[i];
	return NULL;
}

bool us_icmp_ping_known(struct us_stack *s, uint16_t id)
{
	return ping_find(s, id) != NULL;
}

void us_icmp_ping_remember(struct us_stack *s, uint16_t id)
{
	struct us_ip_ping *p = ping_find(s, id);
	for (int i = 0; !p && i < US_ICMP_PINGS; i++)
		if (!s->ip.pings[i].used)
			p = &s->ip.pings[i];
	if (!p) {
		/* Full: the identifier used longest ago is forgotten. */
		p = &s->ip.pings[0];
		for (int i = 1; i < US_ICMP_PINGS; i++)
			if (s->ip.pings[i].last_used < p->last_used)
				p = &s->ip.pings[i];
	}
	*p = (struct us_ip_ping){ .used = true, .id = id, .last_used = s->now };
}

static int echo_reply(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		      const struct us_icmp4_hdr *h)
{
	us_count(s, US_CTR_ICMP_IN_ECHO_REPLIES);
	if (!ping_find(s, us_icmp4_echo_id(h)))
		return us_drop(s, US_CTR_ICMP_DROP_ECHO_REPLY_UNMATCHED, ifc->index,
			       "echo reply to no ping of ours");
	if (s->cfg.on_echo_reply) {
		struct us_echo_reply r = {
			.family = 4,
			.src4 = ip->src,
			.id = us_icmp4_echo_id(h),
			.seq = us_icmp4_echo_seq(h),
			.ttl = ip->ttl,
			.data = h->payload,
			.len = h->payload_len,
		};
		s->cfg.on_echo_reply(s->cfg.echo_ctx, s->now, &r);
	}
	return 0;
}

int us_stack_ping4(struct us_stack *s, us_time_t now, uint32_t dst, uint16_t id, uint16_t seq,
		   const uint8_t *data, size_t len, uint8_t ttl)
{
	if (!s)
		return -EINVAL;
	s->now = now;
	if (len > US_ICMP_MAX_ECHO_DATA)
		return -EMSGSIZE;
	if (dst == 0 || (!data && len))
		return -EINVAL;
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)(US_ICMP4_HDR_LEN + len));
	if (!b)
		return -ENOBUFS;
	uint8_t *d = us_pbuf_data(b);
	if (len)
		memcpy(d + US_ICMP4_HDR_LEN, data, len);
	struct us_icmp4_hdr h = { .type = US_ICMP4_ECHO, .code = 0,
				  .rest = us_icmp4_echo_rest(id, seq), .payload_len = len };
	us_icmp4_emit(&h, d, b->len);
	us_icmp_ping_remember(s, id);
	us_count(s, US_CTR_ICMP_OUT_ECHO_REQUESTS);
	/* DF clear: a large ping is fragmented (ping -s 8000), as ping(8)'s
	 * default "-M want" does for sizes above the path MTU. */
	struct us_ip_tx tx = { .dst = dst, .proto = US_IPPROTO_ICMP, .ttl = ttl, .ifindex = -1 };
	return us_ip_output(s, b, &tx);
}

/* ---- Errors received ----------------------------------------------------------- */

/* RFC 1191 §5 / §7: the plateaus, for a "fragmentation needed" from a router
 * that does not fill in the Next-Hop MTU. */
static const uint16_t mtu_plateaus[] = { 65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508,
					 296,   68 };

static uint32_t plateau_below(uint32_t len)
{
	for (size_t i = 0; i < sizeof mtu_plateaus / sizeof mtu_plateaus[0]; i++)
		if (mtu_plateaus[i] < len)
			return mtu_plateaus[i];
	return 68;
}

/* RFC 1191 §4: the router's Next-Hop MTU is the new estimate for the quoted
 * datagram's destination. */
static void frag_needed(struct us_stack *s, const struct us_icmp4_hdr *h,
			const struct us_ipv4_hdr *q)
{
	us_count(s, US_CTR_ICMP_IN_FRAG_NEEDED);
	uint32_t mtu = us_icmp4_next_hop_mtu(h);
	if (mtu == 0)
		mtu = plateau_below(q->total_len);
	if (!us_ip_pmtu_learn(s, q->dst, mtu))
		us_count(s, US_CTR_ICMP_PMTU_IGNORED);
}

/*
 * The hook for errors about datagrams we sent, by the quoted protocol. RFC
 * 1122 §3.2.2: "the IP protocol number MUST be extracted from the original
 * header and used to select the appropriate transport protocol entity to
 * handle the error".
 * UDP: RFC 1122 §4.1.3.3 (udp.c decides which socket hears of it). TCP:
 * RFC 1122 §4.2.3.9 with RFC 5927's checks (tcp_input.c).
 */
static void error_to_transport(struct us_stack *s, const struct us_icmp4_hdr *h,
			       const struct us_ipv4_hdr *q)
{
	switch (q->proto) {
	case US_IPPROTO_UDP:
		us_udp_icmp_error4(s, h->type, h->code, q);
		break;
	case US_IPPROTO_TCP:
		us_tcp_icmp_error4(s, h->type, h->code, q);
		break;
	default:
		/* No transport here claims errors yet: counted, as netstat's
		 * "ICMP input histogram" would show them. */
		us_count(s, US_CTR_ICMP_IN_ERRORS_UNCLAIMED);
		break;
	}
}

static int error_input(struct us_stack *s, struct us_iface *ifc, const struct us_icmp4_hdr *h,
		       enum us_counter_id ctr)
{
	us_count(s, ctr);
	/* RFC 792: the error carries "Internet Header + 64 bits of Original
	 * Data Datagram"; it must be a datagram we could have sent. */
	struct us_ipv4_hdr q;
	int err = us_ipv4_parse_quoted(h->payload, h->payload_len, &q);
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ICMP_DROP_BAD_QUOTE, ifc->index, us_wire_strerror(err));
	if (!us_ip_is_local(s, q.src))
		return us_drop(s, US_CTR_ICMP_DROP_QUOTE_NOT_OURS, ifc->index,
			       "error about a datagram we did not send");
	if (h->type == US_ICMP4_DEST_UNREACH && h->code == US_ICMP4_UNREACH_FRAG_NEEDED)
		frag_needed(s, h, &q);
	error_to_transport(s, h, &q);
	return 0;
}

/* ---- Input --------------------------------------------------------------------- */

int us_icmp_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		  const uint8_t *msg, size_t len, bool link_bcast)
{
	us_count(s, US_CTR_ICMP_IN);
	struct us_icmp4_hdr h;
	int err = us_icmp4_parse(msg, len, &h);
	if (err == US_WIRE_TRUNCATED)
		return us_drop(s, US_CTR_ICMP_DROP_TRUNCATED, ifc->index, us_wire_strerror(err));
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ICMP_DROP_BAD_CHECKSUM, ifc->index, us_wire_strerror(err));

	bool to_group = link_bcast || us_ip_is_group(s, ip->dst);
	switch (h.type) {
	case US_ICMP4_ECHO:
		return echo_request(s, ifc, ip, &h, msg, len, to_group);
	case US_ICMP4_ECHO_REPLY:
		return echo_reply(s, ifc, ip, &h);
	case US_ICMP4_DEST_UNREACH:
		return error_input(s, ifc, &h, US_CTR_ICMP_IN_DEST_UNREACH);
	case US_ICMP4_TIME_EXCEEDED:
		return error_input(s, ifc, &h, US_CTR_ICMP_IN_TIME_EXCEEDED);
	case US_ICMP4_PARAM_PROBLEM:
		return error_input(s, ifc, &h, US_CTR_ICMP_IN_PARAM_PROBLEM);
	case US_ICMP4_SOURCE_QUENCH:
		us_count(s, US_CTR_ICMP_IN_SOURCE_QUENCH);
		return 0;
	case US_ICMP4_REDIRECT:
		us_count(s, US_CTR_ICMP_IN_REDIRECT);
		return 0;
	default:
		return us_drop(s, US_CTR_ICMP_DROP_UNKNOWN_TYPE, ifc->index, "unknown ICMP type");
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * ip_input.c - IPv4 input for a host: RFC 791 §3.2, RFC 1122 §3.2.1 (the
 * checks; §3.2.1.3: which destinations are ours, which sources are valid; a
 * host does not forward), §3.3.6 (broadcasts), and reassembly through
 * reass.c (RFC 791 §3.2 "Fragmentation and Reassembly").
 *
 * Read first: wire/ipv4.h (what us_ipv4_parse() checks, in which order),
 * then us_ip_input() below, which walks the steps in order:
 *   1. parse and verify the header (each parser error its own counter);
 *   2. destination: ours, or a broadcast we listen to, else drop;
 *   3. RFC 1122 §3.3.6: a link-layer broadcast must carry an IP broadcast;
 *   4. source: not martian, not a broadcast, not our own;
 *   5. options: source routes are refused, the rest ignored;
 *   6. fragments go to reassembly;
 *   7. deliver: a copy to every matching raw socket (raw.c), then by
 *      protocol (deliver(): ICMP, UDP, TCP).
 *
 * Decisions:
 * - TTL is not checked. RFC 1122 §3.2.1.7: "A host MUST NOT discard a
 *   datagram just because it was received with TTL less than 2." A host
 *   does not forward, so TTL 0 or 1 is no reason to drop.
 * - Strong end system (RFC 1122 §3.3.4.2 allows either model): a unicast
 *   datagram is accepted only for an address of the interface it came in on.
 * - Deviation: the old {<Network-number>, 0} broadcast form, which RFC 1122
 *   §3.3.6 says hosts SHOULD accept, is not a broadcast here; Linux does not
 *   accept it either, and nothing has sent it for thirty years.
 * - Not implemented: multicast reception (IGMP, RFC 1112 level 2). A
 *   datagram to a multicast group is "not for us" until a later issue adds
 *   group membership; the place is marked in dst_acceptable().
 * - Not implemented: Record Route and Timestamp options are not updated or
 *   reflected into echo replies (RFC 1122 §3.2.2.6 SHOULD); like every
 *   option we do not interpret, they are ignored (RFC 1122 §3.2.1.8 "MUST
 *   ignore" unknown ones).
 */
#include "ip.h"

#include "stack.h"

#include <errno.h>
#include <string.h>

#include "reass.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

/* RFC 791 §3.1 option types (copied flag, class, number). */
#define IPOPT_LSRR 0x83 /* Loose Source and Record Route */
#define IPOPT_SSRR 0x89 /* Strict Source and Record Route */

#define IPV4_FLAG_DF 0x4000

/* Step 1: each us_ipv4_parse() error has its own counter. */
static int drop_malformed(struct us_stack *s, struct us_iface *ifc, int err)
{
	enum us_counter_id id = US_CTR_IP_DROP_MALFORMED;
	switch ((enum us_wire_err)err) {
	case US_WIRE_TRUNCATED:
		id = US_CTR_IP_DROP_TRUNCATED;
		break;
	case US_WIRE_BAD_VERSION:
		id = US_CTR_IP_DROP_BAD_VERSION;
		break;
	case US_WIRE_BAD_HDR_LEN:
		id = US_CTR_IP_DROP_BAD_HDR_LEN;
		break;
	case US_WIRE_HDR_PAST_END:
		id = US_CTR_IP_DROP_HDR_PAST_END;
		break;
	case US_WIRE_BAD_TOTAL_LEN:
		id = US_CTR_IP_DROP_BAD_TOTAL_LEN;
		break;
	case US_WIRE_BAD_CHECKSUM:
		id = US_CTR_IP_DROP_BAD_CHECKSUM;
		break;
	case US_WIRE_OPT_PAST_END:
		id = US_CTR_IP_DROP_OPT_PAST_END;
		break;
	case US_WIRE_OPT_BAD_LEN:
		id = US_CTR_IP_DROP_OPT_BAD_LEN;
		break;
	case US_WIRE_BAD_FIELD:
		/* The only impossible field us_ipv4_parse() reports: a fragment
		 * ending past 65535 octets (the "ping of death"). */
		id = US_CTR_IP_DROP_FRAG_TOO_BIG;
		break;
	case US_WIRE_OK:
	case US_WIRE_BAD_ARP:
	case US_WIRE_BAD_VLAN:
	case US_WIRE_EXT_PAST_END:
	case US_WIRE_EXT_TOO_MANY:
	case US_WIRE_EXT_BAD_ORDER:
		/* Not codes the IPv4 parser returns. */
		break;
	}
	return us_drop(s, id, ifc->index, us_wire_strerror(err));
}

/*
 * Step 2. RFC 1122 §3.2.1.3: "A host MUST silently discard an incoming
 * datagram that is not destined for the host" (a host is not a router: it
 * forwards nothing). Ours are: an address of ifc; the limited broadcast
 * 255.255.255.255 (§3.2.1.3 (c)); a directed broadcast of one of ifc's
 * subnets (§3.2.1.3 (e)); a multicast group joined on ifc (none yet).
 */
static bool dst_acceptable(const struct us_iface *ifc, uint32_t dst)
{
	if (us_iface_has_ip4(ifc, dst) || us_ipv4_is_limited_broadcast(dst))
		return true;
	if (us_ip_is_subnet_broadcast(ifc, dst))
		return true;
	/* Multicast groups joined on ifc will be accepted here (IGMP issue). */
	return false;
}

/*
 * Step 4. RFC 1122 §3.2.1.3: a host MUST silently discard a datagram whose
 * source is not a single host: 0/8, 127/8 ("MUST NOT appear outside a
 * host"), multicast, class E and 255.255.255.255
 * (us_ipv4_is_martian_src()), a directed broadcast of one of our subnets;
 * and one of our own addresses, which can only be a loop or a spoof.
 */
static const char *martian_reason(const struct us_stack *s, uint32_t src)
{
	if (us_ipv4_is_martian_src(src))
		return "martian source address";
	for (int i = 0; i < s->n_iface; i++)
		if (us_ip_is_subnet_broadcast(&s->iface[i], src))
			return "source is a broadcast address";
	if (us_ip_is_local(s, src))
		return "source is one of our addresses";
	return NULL;
}

/*
 * Step 5. RFC 1122 §3.2.1.8 says a host "MUST be able to act as the final
 * destination of a source route". Deviation: we drop every datagram with a
 * Loose or Strict Source Route option instead, as Linux does by default
 * (accept_source_route = 0) and as RFC 7126 §4.3 and §4.4 recommend: source
 * routes serve mostly to get around address-based filters, and a host that
 * reversed them for its answers would help spoofing.
 */
static bool has_source_route(const struct us_ipv4_hdr *ip)
{
	size_t i = 0;
	/* us_ipv4_parse() has checked every option length already. */
	while (i < ip->options_len) {
		uint8_t type = ip->options[i];
		if (type == US_IPV4_OPT_EOL)
			break;
		if (type == US_IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (type == IPOPT_LSRR || type == IPOPT_SSRR)
			return true;
		i += ip->options[i + 1];
	}
	return false;
}

/*
 * Step 7: the delivery switch, one case per protocol this stack speaks. pkt/len is the whole datagram
 * (header first), for the ICMP error quote and for raw sockets, which get
 * their copies first, as Linux's raw_local_deliver does: a raw socket sees
 * every packet of its protocol, and the stack still handles it.
 */
static int deliver(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		   const uint8_t *pkt, size_t len, bool link_bcast)
{
	bool raw = us_raw_input4(s, ifc, ip, pkt, len);
	switch (ip->proto) {
	case US_IPPROTO_ICMP: {
		us_count(s, US_CTR_IP_IN_DELIVERED);
		int rc = us_icmp_input(s, ifc, ip, ip->payload, ip->payload_len, link_bcast);
		/* What ICMP itself has no use for (a reply to another program's
		 * ping) was still delivered when a raw socket took its copy. */
		return raw ? 0 : rc;
	}
	case US_IPPROTO_UDP:
		us_count(s, US_CTR_IP_IN_DELIVERED);
		return us_udp_input4(s, ifc, ip, pkt, len, link_bcast);
	case US_IPPROTO_TCP:
		us_count(s, US_CTR_IP_IN_DELIVERED);
		return us_tcp_input4(s, ifc, ip, link_bcast);
	default:
		/* A raw socket speaks the protocol for us. */
		if (raw) {
			us_count(s, US_CTR_IP_IN_DELIVERED);
			return 0;
		}
		/* RFC 1122 §3.2.2.1: a host SHOULD generate Destination
		 * Unreachable "protocol unreachable" when the designated
		 * transport protocol is not supported. us_icmp_error() applies
		 * the rules on when not to. */
		us_icmp_error(s, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_PROTO, 0, pkt, len,
			      link_bcast);
		return us_drop(s, US_CTR_IP_DROP_UNKNOWN_PROTOCOL, ifc->index, "no such protocol");
	}
}

/*
 * Step 6. RFC 791 §3.2: the fragments of one datagram share (source,
 * destination, protocol, identification). reass.c keeps the first
 * fragment's header; once it hands the datagram back, Total Length, the
 * flags and the checksum of that header are made true for the whole, and
 * the datagram goes through the parser again before delivery.
 */
static int reassemble(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		      const uint8_t *pkt, bool link_bcast)
{
	us_count(s, US_CTR_IP_IN_FRAGMENTS);
	/* The whole datagram, header included, must fit in 65535 octets
	 * (RFC 791 §3.1 Total Length); the parser allowed data up to offset
	 * 65535, so a fragment that cannot fit even behind a bare header is
	 * refused before it takes memory. */
	if ((size_t)ip->frag_offset + ip->payload_len > US_IPV4_MAX_LEN - US_IPV4_HDR_LEN)
		return us_drop(s, US_CTR_IP_DROP_FRAG_TOO_BIG, ifc->index,
			       "fragment ends past 65535 octets");

	struct us_reass_key k;
	memset(&k, 0, sizeof k);
	k.family = 4;
	k.proto = ip->proto;
	k.id = ip->id;
	us_put_be32(k.src, ip->src);
	us_put_be32(k.dst, ip->dst);
	struct us_pbuf *out = NULL;
	int rc = us_reass_add(s, &k, ip->frag_offset, ip->mf, ip->payload, ip->payload_len, pkt,
			      ip->hdr_len, &out);
	if (rc <= 0)
		return rc; /* held, or dropped and counted by reass.c */

	int ret;
	uint8_t *d = us_pbuf_data(out);
	if (out->len > US_IPV4_MAX_LEN) {
		ret = us_drop(s, US_CTR_IP_DROP_FRAG_TOO_BIG, ifc->index,
			      "reassembled datagram over 65535 octets");
		goto out;
	}
	/* The header is the first fragment's, as it arrived (and was parsed). */
	size_t hdr_len = (size_t)(d[0] & 0x0f) * 4;
	if (hdr_len < US_IPV4_HDR_LEN || hdr_len > out->len) {
		ret = us_drop(s, US_CTR_IP_DROP_MALFORMED, ifc->index,
			      "reassembled header inconsistent");
		goto out;
	}
	us_put_be16(d + 2, (uint16_t)out->len);
	us_put_be16(d + 6, (uint16_t)(us_get_be16(d + 6) & IPV4_FLAG_DF));
	us_csum_fill(d, hdr_len, 10, 0);
	struct us_ipv4_hdr whole;
	int err = us_ipv4_parse(d, out->len, &whole);
	if (err != US_WIRE_OK) {
		ret = drop_malformed(s, ifc, err);
		goto out;
	}
	us_count(s, US_CTR_IP_REASSEMBLED);
	/* What the link said of this fragment's frame (a checksum vouched
	 * for) is not true of the whole datagram. */
	const struct us_rx_meta *meta = s->rx_meta;
	s->rx_meta = NULL;
	ret = deliver(s, ifc, &whole, d, out->len, link_bcast);
	s->rx_meta = meta;
out:
	us_pbuf_free(&s->pool, out);
	return ret;
}

int us_ip_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt, size_t len,
		bool link_bcast)
{
	us_count(s, US_CTR_IP_IN);

	/* First, the header (RFC 1122 §3.2.1.1 version, §3.2.1.2 checksum,
	 * lengths, options well formed): wire/ipv4.c. */
	struct us_ipv4_hdr ip;
	int err = us_ipv4_parse(pkt, len, &ip);
	if (err != US_WIRE_OK)
		return drop_malformed(s, ifc, err);

	/* Second, is it for us? */
	if (!dst_acceptable(ifc, ip.dst))
		return us_drop(s, US_CTR_IP_DROP_NOT_FOR_US, ifc->index,
			       us_ipv4_is_multicast(ip.dst) ? "multicast group not joined"
							    : "destination not ours");

	/* Third, RFC 1122 §3.3.6: "A host SHOULD silently discard a datagram
	 * that is received via a link-layer broadcast (see Section 2.4) but
	 * does not specify an IP multicast or broadcast destination address." */
	if (link_bcast && !us_ipv4_is_limited_broadcast(ip.dst) && !us_ipv4_is_multicast(ip.dst) &&
	    !us_ip_is_subnet_broadcast(ifc, ip.dst))
		return us_drop(s, US_CTR_IP_DROP_LINK_BCAST, ifc->index,
			       "unicast datagram in a link-layer broadcast");

	/* Fourth, the source. */
	const char *why = martian_reason(s, ip.src);
	if (why)
		return us_drop(s, US_CTR_IP_DROP_MARTIAN_SRC, ifc->index, why);

	/* Fifth, options. */
	if (ip.options_len && has_source_route(&ip))
		return us_drop(s, US_CTR_IP_DROP_SOURCE_ROUTE, ifc->index,
			       "source-routed datagram");

	/* Sixth, fragments. */
	if (ip.mf || ip.frag_offset)
		return reassemble(s, ifc, &ip, pkt, link_bcast);

	/* Seventh, up the stack. */
	return deliver(s, ifc, &ip, pkt, (size_t)ip.hdr_len + ip.payload_len, link_bcast);
}

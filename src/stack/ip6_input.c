/* SPDX-License-Identifier: MIT */
/*
 * ip6_input.c - IPv6 input: the fixed header and the addresses (RFC 8200 §3,
 * RFC 4291 §2.5.3 and §2.7, RFC 4862 §5.4), the extension header rules
 * (RFC 8200 §4-§4.7, RFC 5095), reassembly (RFC 8200 §4.5 with reass.c,
 * RFC 6946, RFC 7112) and delivery by Next Header.
 *
 * Read first: wire/ipv6.h (what us_ipv6_walk() reports, and its two offset
 * bases), then us_ip6_input() at the bottom, which takes a packet through
 * the steps in the order it meets them:
 *
 *   us_ip6_input     parse the fixed header; check_addresses()
 *   process          walk the extension headers and act on what the walk
 *                    found: routing_header(), unknown_option(), AH, a
 *                    fragment (fragment_input()), else deliver()
 *   fragment_input   RFC 8200 §4.5 checks, then us_reass_add(); when the
 *                    datagram is complete, reassembled() rebuilds it and
 *                    hands it to process() again
 *   deliver          a copy to every matching raw socket (raw.c), then
 *                    ICMPv6 -> us_ip6_icmp_input() (ip6_icmp.c), UDP ->
 *                    us_udp_input6() (udp.c); anything else (that no raw
 *                    socket took) -> Parameter Problem code 1
 *
 * We are a host (RFC 8200 §2 "node that is not a router"): nothing is
 * forwarded, and a packet is taken only on the interface owning its
 * destination (the strong host model of RFC 1122 §3.3.4.2; Linux takes the
 * weak one for global addresses).
 *
 * What reass.c keeps of each datagram's first fragment (`hdr` of
 * us_reass_add()) is the Unfragmentable Part *and the Fragment header*: the
 * reassembled buffer then starts with the first fragment's headers exactly
 * as they came, which is what reassembled() walks to find the Fragment header
 * to remove, and what a Time Exceeded quotes (us_ip6_icmp_reass_timeout():
 * the first fragment as it was sent).
 *
 * Not implemented: Jumbo Payload (RFC 2675: us_ipv6_parse refuses Payload
 * Length 0); IPsec (RFC 4301): a packet with an Authentication Header is
 * dropped (ip6.drop_ah_not_implemented), since taking it would ignore its
 * authentication, and ESP is an unrecognized Next Header.
 * Not implemented: the ICMPv6 errors of RFC 8883 for packets over our
 * extension header limits (US_IPV6_MAX_EXT): those are dropped silently.
 */
#include "stack.h"

#include <errno.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/icmp6.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"
#include "wire/udp.h"
#include "wire/wire.h"

/* ---- Addresses ----------------------------------------------------------- */

static bool ip6_equal(const struct us_ip6 *a, const struct us_ip6 *b)
{
	return memcmp(a->b, b->b, sizeof a->b) == 0;
}

static const struct us_addr6 *find_addr(const struct us_iface *ifc, const struct us_ip6 *a)
{
	for (int i = 0; i < US_MAX_ADDR6; i++)
		if (ifc->addr6[i].used && ip6_equal(&ifc->addr6[i].addr, a))
			return &ifc->addr6[i];
	return NULL;
}

/* RFC 4862 §5.5.4: preferred and deprecated addresses are "valid"; a
 * tentative one is not yet assigned (§5.4), a duplicate one never is
 * (§5.4.5). */
static bool state_usable(enum us_addr6_state st)
{
	switch (st) {
	case US_ADDR6_PREFERRED:
	case US_ADDR6_DEPRECATED:
		return true;
	case US_ADDR6_TENTATIVE:
	case US_ADDR6_DUPLICATE:
		return false;
	}
	return false;
}

bool us_ip6_iface_owns(const struct us_iface *ifc, const struct us_ip6 *a)
{
	const struct us_addr6 *e = find_addr(ifc, a);
	return e && state_usable(e->state);
}

struct us_iface *us_ip6_owner(struct us_stack *s, const struct us_ip6 *a)
{
	for (int i = 0; i < s->n_iface; i++)
		if (us_ip6_iface_owns(&s->iface[i], a))
			return &s->iface[i];
	return NULL;
}

/* ---- Errors --------------------------------------------------------------- */

/* The counter for an error of us_ipv6_parse() or us_ipv6_walk(). Codes those
 * two never return land in ip6.drop_malformed. */
static enum us_counter_id wire_counter(int err)
{
	switch ((enum us_wire_err)err) {
	case US_WIRE_TRUNCATED:
		return US_CTR_IP6_DROP_TRUNCATED;
	case US_WIRE_BAD_VERSION:
		return US_CTR_IP6_DROP_BAD_VERSION;
	case US_WIRE_BAD_TOTAL_LEN:
		return US_CTR_IP6_DROP_BAD_LENGTH;
	case US_WIRE_EXT_PAST_END:
		return US_CTR_IP6_DROP_EXT_PAST_END;
	case US_WIRE_EXT_TOO_MANY:
		return US_CTR_IP6_DROP_EXT_TOO_MANY;
	case US_WIRE_EXT_BAD_ORDER:
		return US_CTR_IP6_DROP_EXT_BAD_ORDER;
	case US_WIRE_OPT_PAST_END:
		return US_CTR_IP6_DROP_OPT_PAST_END;
	case US_WIRE_OPT_BAD_LEN:
		return US_CTR_IP6_DROP_OPT_BAD_LEN;
	case US_WIRE_OK:
	case US_WIRE_BAD_HDR_LEN:
	case US_WIRE_HDR_PAST_END:
	case US_WIRE_BAD_CHECKSUM:
	case US_WIRE_BAD_ARP:
	case US_WIRE_BAD_VLAN:
	case US_WIRE_BAD_FIELD:
		break;
	}
	return US_CTR_IP6_DROP_MALFORMED;
}

static void param_problem(struct us_stack *s, struct us_iface *ifc, uint8_t code, size_t pointer,
			  const uint8_t *pkt, size_t len, bool link_mcast)
{
	us_ip6_icmp_error_on(s, ifc, US_ICMP6_PARAM_PROBLEM, code, (uint32_t)pointer, pkt, len,
			     link_mcast);
}

/* ---- The upper-layer header ---------------------------------------------- */

int us_ip6_upper_layer(const struct us_ipv6_hdr *h, uint8_t *proto, const uint8_t **upper,
		       size_t *upper_len)
{
	struct us_ipv6_ext x;
	struct us_ipv6_hdr frag;
	int err = us_ipv6_walk(h, &x);

	if (err != US_WIRE_OK)
		return err;
	if (x.opt_action != US_IPV6_OPT_SKIP)
		return US_WIRE_BAD_FIELD;
	if (x.upper_proto == US_IPPROTO_FRAGMENT) {
		if (x.frag.offset != 0)
			return US_WIRE_BAD_FIELD;
		/* RFC 8200 §4.5: the first fragment's data begins with the
		 * rest of the header chain, named by the Fragment header. */
		frag = *h;
		frag.next_header = x.frag.next_header;
		frag.payload = h->payload + x.upper_offset;
		frag.payload_len = (uint16_t)x.upper_len;
		err = us_ipv6_walk(&frag, &x);
		if (err != US_WIRE_OK)
			return err;
		if (x.opt_action != US_IPV6_OPT_SKIP || x.upper_proto == US_IPPROTO_FRAGMENT)
			return US_WIRE_BAD_FIELD;
		h = &frag;
	}
	*proto = x.upper_proto;
	*upper = h->payload + x.upper_offset;
	*upper_len = x.upper_len;
	return US_WIRE_OK;
}

/* The fixed length of the upper-layer headers we know; 0 for the others
 * (and for No Next Header), whose length we cannot judge. */
static size_t upper_min_len(uint8_t proto)
{
	switch (proto) {
	case US_IPPROTO_ICMPV6:
		return US_ICMP6_HDR_LEN;
	case US_IPPROTO_UDP:
		return US_UDP_HDR_LEN;
	case US_IPPROTO_TCP:
		return US_TCP_HDR_LEN;
	default:
		return 0;
	}
}

/* ---- Input steps ----------------------------------------------------------- */

static int check_addresses(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip)
{
	int ifx = ifc->index;

	/* RFC 4291 §2.7: "Multicast addresses must not be used as source
	 * addresses in IPv6 packets or appear in any Routing header." */
	if (us_ip6_is_multicast(&ip->src))
		return us_drop(s, US_CTR_IP6_DROP_MULTICAST_SOURCE, ifx, "multicast source");
	/* RFC 4291 §2.5.3: the loopback address "must not be used as the
	 * source address in IPv6 packets that are sent outside of a single
	 * node", and "An IPv6 packet received on an interface with a
	 * destination address of loopback must be dropped." */
	if (us_ip6_is_loopback(&ip->src) || us_ip6_is_loopback(&ip->dst))
		return us_drop(s, US_CTR_IP6_DROP_LOOPBACK, ifx, "loopback address on the wire");

	if (us_ip6_is_multicast(&ip->dst)) {
		unsigned scope = ip->dst.b[1] & 0x0f;
		/* RFC 4291 §2.7: "Nodes must not originate a packet to a
		 * multicast address whose scope field contains the reserved
		 * value 0; if such a packet is received, it must be silently
		 * dropped." Interface-local scope (1) "is useful only for
		 * loopback transmission of multicast": it never comes from a
		 * link (Linux drops it too). */
		if (scope == 0 || scope == 1)
			return us_drop(s, US_CTR_IP6_DROP_MULTICAST_SCOPE, ifx,
				       "multicast scope 0 or 1 from the link");
		if (!us_nd6_joined(ifc, &ip->dst))
			return us_drop(s, US_CTR_IP6_DROP_NOT_JOINED, ifx, "group not joined");
		return 0;
	}

	const struct us_addr6 *a = find_addr(ifc, &ip->dst);
	if (!a)
		return us_drop(s, US_CTR_IP6_DROP_NOT_FOR_US, ifx, "destination not ours");
	switch (a->state) {
	case US_ADDR6_PREFERRED:
	case US_ADDR6_DEPRECATED:
		return 0;
	case US_ADDR6_TENTATIVE:
		/* RFC 4862 §5.4: "Other packets addressed to the tentative
		 * address should be silently discarded", Neighbor
		 * Solicitations and Advertisements sent to it included. DAD's
		 * own messages come to the solicited-node and all-nodes
		 * groups, above. */
		return us_drop(s, US_CTR_IP6_DROP_DST_TENTATIVE, ifx, "destination is tentative");
	case US_ADDR6_DUPLICATE:
		/* RFC 4862 §5.4.5: a duplicate address is not assigned. */
		return us_drop(s, US_CTR_IP6_DROP_NOT_FOR_US, ifx,
			       "destination is a duplicate address");
	}
	return us_drop(s, US_CTR_IP6_DROP_NOT_FOR_US, ifx, "destination not ours");
}

/*
 * RFC 8200 §4.4: "If Segments Left is non-zero, the node must discard the
 * packet and send an ICMP Parameter Problem, Code 0, message to the packet's
 * Source Address, pointing to the unrecognized Routing Type." A host routes
 * for nobody, so every type is unrecognized here, type 0 included: RFC 5095
 * §3 deprecates it and says to treat it so. With Segments Left 0 the header
 * is ignored ("proceed to process the next header").
 */
static int routing_header(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_ext *x,
			  const uint8_t *pkt, size_t len, bool link_mcast)
{
	param_problem(s, ifc, US_ICMP6_PARAM_HEADER, x->routing_offset + 2, pkt, len, link_mcast);
	return us_drop(s, US_CTR_IP6_DROP_ROUTING_HEADER, ifc->index,
		       "routing header with segments left");
}

/* RFC 8200 §4.2: what to do with an option we do not recognize, from the two
 * high-order bits of its type. */
static int unknown_option(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
			  const struct us_ipv6_ext *x, const uint8_t *pkt, size_t len,
			  bool link_mcast)
{
	switch (x->opt_action) {
	case US_IPV6_OPT_SKIP:
	case US_IPV6_OPT_DISCARD:
		/* 01: "discard the packet." */
		break;
	case US_IPV6_OPT_DISCARD_ICMP:
		/* 10: "discard the packet and, regardless of whether or not
		 * the packet's Destination Address was a multicast address,
		 * send an ICMP Parameter Problem, Code 2, message to the
		 * packet's Source Address, pointing to the unrecognized
		 * Option Type." */
		param_problem(s, ifc, US_ICMP6_PARAM_OPTION, x->opt_pointer, pkt, len, link_mcast);
		break;
	case US_IPV6_OPT_DISCARD_ICMP_UNICAST:
		/* 11: the same, "only if the packet's Destination Address
		 * was not a multicast address". RFC 4443 §2.4 (e.3.2) makes
		 * the multicast exception for "10" only, so a link-layer
		 * multicast frame gets no error either (e.4, e.5). */
		if (!us_ip6_is_multicast(&ip->dst) && !link_mcast)
			param_problem(s, ifc, US_ICMP6_PARAM_OPTION, x->opt_pointer, pkt, len,
				      link_mcast);
		break;
	}
	return us_drop(s, US_CTR_IP6_DROP_UNKNOWN_OPTION, ifc->index, "unrecognized option");
}

/* NDP's message types, RFC 4861 §4: Router Solicitation .. Redirect. */
static bool is_ndp(const uint8_t *icmp, size_t len)
{
	return len >= 1 && icmp[0] >= US_ICMP6_ND_RS && icmp[0] <= US_ICMP6_ND_REDIRECT;
}

static int deliver(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		   const struct us_ipv6_ext *x, const uint8_t *pkt, bool link_mcast,
		   bool fragmented)
{
	size_t len = US_IPV6_HDR_LEN + ip->payload_len;
	const uint8_t *upper = ip->payload + x->upper_offset;

	/* RFC 6980 §5: "nodes MUST silently ignore NDP messages if the packet
	 * carrying them includes an IPv6 Fragmentation Header" (atomic
	 * fragments and reassembled packets alike). */
	if (x->upper_proto == US_IPPROTO_ICMPV6 && (fragmented || x->has_frag) &&
	    is_ndp(upper, x->upper_len))
		return us_drop(s, US_CTR_IP6_DROP_FRAGMENTED_NDP, ifc->index,
			       "NDP message in a fragmented packet");
	/* Raw sockets get their copies first (RFC 3542 §3: the payload after
	 * the extension headers), as Linux's raw6_local_deliver. */
	bool raw = x->upper_proto != US_IPPROTO_NONE &&
		   us_raw_input6(s, ifc, ip, x->upper_proto, upper, x->upper_len);

	switch (x->upper_proto) {
	case US_IPPROTO_ICMPV6: {
		us_count(s, US_CTR_IP6_DELIVERED);
		int rc = us_ip6_icmp_input(s, ifc, ip, upper, x->upper_len, link_mcast);
		/* What ICMPv6 itself has no use for (a reply to another
		 * program's ping) was still delivered to a raw socket's copy. */
		return raw ? 0 : rc;
	}
	case US_IPPROTO_UDP:
		us_count(s, US_CTR_IP6_DELIVERED);
		return us_udp_input6(s, ifc, ip, upper, x->upper_len, pkt, len, link_mcast);
	case US_IPPROTO_NONE:
		/* RFC 8200 §4.7: "If the Payload Length field of the IPv6
		 * header indicates the presence of octets past the end of a
		 * header whose Next Header field contains 59, those octets
		 * must be ignored." */
		us_count(s, US_CTR_IP6_NO_NEXT_HEADER);
		return 0;
	case US_IPPROTO_TCP:
		us_count(s, US_CTR_IP6_DELIVERED);
		return us_tcp_input6(s, ifc, ip, upper, x->upper_len, link_mcast);
	default:
		if (raw) {
			us_count(s, US_CTR_IP6_DELIVERED);
			return 0;
		}
		/* RFC 8200 §4: when "the Next Header value in the current
		 * header is unrecognized by the node, it should discard the
		 * packet and send an ICMP Parameter Problem message to the
		 * source of the packet, with an ICMP Code value of 1
		 * ("unrecognized Next Header type encountered") and the ICMP
		 * Pointer field containing the offset of the unrecognized
		 * value within the original packet." */
		param_problem(s, ifc, US_ICMP6_PARAM_NEXT_HEADER, x->nh_offset, pkt, len,
			      link_mcast);
		return us_drop(s, US_CTR_IP6_DROP_UNKNOWN_NEXT_HEADER, ifc->index,
			       "unrecognized next header");
	}
}

/*
 * RFC 8200 §4.5 (from RFC 7112 §5): "If the first fragment does not include
 * all headers through an Upper-Layer header, then that fragment should be
 * discarded and an ICMP Parameter Problem, Code 3, message should be sent to
 * the source of the fragment, with the Pointer field set to zero." An
 * upper-layer header we know must be there whole (as Linux checks); any
 * other fault of the chain is the reassembled packet's to report.
 */
static bool first_fragment_complete(const struct us_ipv6_hdr *ip)
{
	uint8_t proto;
	const uint8_t *upper;
	size_t upper_len;
	int err = us_ip6_upper_layer(ip, &proto, &upper, &upper_len);

	if (err == US_WIRE_EXT_PAST_END)
		return false;
	if (err != US_WIRE_OK)
		return true;
	return upper_len >= upper_min_len(proto);
}

static int process(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt,
		   const struct us_ipv6_hdr *ip, bool link_mcast, bool reassembled);

/*
 * A datagram is complete: out holds the first fragment's headers, its
 * Fragment header included, then the whole fragmentable part. Rebuild it as
 * RFC 8200 §4.5 "Reassembly" says and process it.
 */
static int reassembled(struct us_stack *s, struct us_iface *ifc, struct us_pbuf *out,
		       bool link_mcast)
{
	uint8_t *p = us_pbuf_data(out);
	struct us_ipv6_hdr ip;
	struct us_ipv6_ext x;
	int rc;

	us_count(s, US_CTR_IP6_REASSEMBLED);
	/* The first fragment's Payload Length still counts only its own
	 * bytes: enough to walk to its Fragment header. */
	if (us_ipv6_parse(p, out->len, &ip) != US_WIRE_OK || us_ipv6_walk(&ip, &x) != US_WIRE_OK ||
	    x.upper_proto != US_IPPROTO_FRAGMENT || x.frag.offset != 0 ||
	    out->len - US_IPV6_HDR_LEN - US_IPV6_FRAG_HDR_LEN > UINT16_MAX) {
		rc = us_drop(s, US_CTR_IP6_DROP_REASS_MALFORMED, ifc->index,
			     "reassembled packet does not start with its first fragment");
		goto out;
	}
	/* "The Next Header field of the last header of the Unfragmentable
	 * Part is obtained from the Next Header field of the first fragment's
	 * Fragment header"; the Fragment header itself goes, and "The Payload
	 * Length of the reassembled packet is computed from the length of the
	 * Unfragmentable Part and the length and offset of the last fragment":
	 * all that reass.c gave us. */
	p[x.frag_nh_offset] = x.frag.next_header;
	memmove(p + US_IPV6_FRAG_HDR_LEN, p, x.frag_hdr_offset);
	us_pbuf_pull(out, US_IPV6_FRAG_HDR_LEN);
	p = us_pbuf_data(out);
	us_put_be16(p + 4, (uint16_t)(out->len - US_IPV6_HDR_LEN));

	rc = us_ipv6_parse(p, out->len, &ip);
	if (rc != US_WIRE_OK) {
		rc = us_drop(s, wire_counter(rc), ifc->index, us_wire_strerror(rc));
		goto out;
	}
	rc = process(s, ifc, p, &ip, link_mcast, true);
out:
	us_pbuf_free(&s->pool, out);
	return rc;
}

static int fragment_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt,
			  const struct us_ipv6_hdr *ip, const struct us_ipv6_ext *x,
			  bool link_mcast)
{
	size_t len = US_IPV6_HDR_LEN + ip->payload_len;
	const uint8_t *data = ip->payload + x->upper_offset;
	size_t data_len = x->upper_len;
	int ifx = ifc->index;

	us_count(s, US_CTR_IP6_FRAG_IN);
	/* RFC 8200 §4.5: "If the length of a fragment, as derived from the
	 * fragment packet's Payload Length field, is not a multiple of 8
	 * octets and the M flag of that fragment is 1, then that fragment must
	 * be discarded and an ICMP Parameter Problem, Code 0, message should
	 * be sent to the source of the fragment, pointing to the Payload
	 * Length field of the fragment packet." */
	if (x->frag.more && data_len % 8 != 0) {
		param_problem(s, ifc, US_ICMP6_PARAM_HEADER, 4, pkt, len, link_mcast);
		return us_drop(s, US_CTR_IP6_DROP_FRAG_BAD_LENGTH, ifx,
			       "fragment length not a multiple of 8");
	}
	/* "If the length and offset of a fragment are such that the Payload
	 * Length of the packet reassembled from that fragment would exceed
	 * 65,535 octets, then that fragment must be discarded and an ICMP
	 * Parameter Problem, Code 0, message should be sent to the source of
	 * the fragment, pointing to the Fragment Offset field of the fragment
	 * packet." */
	size_t unfragmentable = x->frag_hdr_offset - US_IPV6_HDR_LEN;
	if (unfragmentable + x->frag.offset + data_len > UINT16_MAX) {
		param_problem(s, ifc, US_ICMP6_PARAM_HEADER, x->frag_hdr_offset + 2, pkt, len,
			      link_mcast);
		return us_drop(s, US_CTR_IP6_DROP_FRAG_TOO_BIG, ifx,
			       "fragment ends past 65535 bytes");
	}
	if (x->frag.offset == 0 && !first_fragment_complete(ip)) {
		param_problem(s, ifc, US_ICMP6_PARAM_HEADER_CHAIN, 0, pkt, len, link_mcast);
		return us_drop(s, US_CTR_IP6_DROP_FRAG_INCOMPLETE_CHAIN, ifx,
			       "first fragment without the whole header chain");
	}

	/* RFC 8200 §4.5: fragments belong together by "the same Source
	 * Address, Destination Address, and Fragment Identification". */
	struct us_reass_key k = { .family = 6, .proto = 0, .id = x->frag.id };
	memcpy(k.src, ip->src.b, 16);
	memcpy(k.dst, ip->dst.b, 16);
	struct us_pbuf *out = NULL;
	int rc = us_reass_add(s, &k, x->frag.offset, x->frag.more, data, data_len, pkt,
			      x->frag_hdr_offset + US_IPV6_FRAG_HDR_LEN, &out);
	if (rc <= 0)
		return rc;
	if (!out)
		return us_drop(s, US_CTR_IP6_DROP_REASS_MALFORMED, ifx,
			       "reassembly gave no packet");
	/* What the link said of this fragment's frame (a checksum vouched
	 * for) is not true of the whole packet. */
	const struct us_rx_meta *meta = s->rx_meta;
	s->rx_meta = NULL;
	rc = reassembled(s, ifc, out, link_mcast);
	s->rx_meta = meta;
	return rc;
}

/* Everything after the fixed header and the address checks: also the way in
 * for a reassembled packet. */
static int process(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt,
		   const struct us_ipv6_hdr *ip, bool link_mcast, bool reassembled)
{
	size_t len = US_IPV6_HDR_LEN + ip->payload_len;
	struct us_ipv6_ext x;
	int err = us_ipv6_walk(ip, &x);

	if (err == US_WIRE_EXT_BAD_ORDER) {
		/* RFC 8200 §4.1: Hop-by-Hop "must immediately follow the IPv6
		 * header"; elsewhere its Next Header value is one we do not
		 * recognize there (RFC 8200 §4: Code 1, as Linux answers). */
		param_problem(s, ifc, US_ICMP6_PARAM_NEXT_HEADER, x.nh_offset, pkt, len,
			      link_mcast);
		return us_drop(s, US_CTR_IP6_DROP_EXT_BAD_ORDER, ifc->index,
			       "hop-by-hop header not first");
	}
	if (err != US_WIRE_OK)
		return us_drop(s, wire_counter(err), ifc->index, us_wire_strerror(err));

	/* RFC 8200 §4: extension headers "must be processed strictly in the
	 * order they appear in the packet": a Routing header ahead of the
	 * option that stopped the walk acts first. */
	if (x.has_routing && x.segments_left > 0 &&
	    (x.opt_action == US_IPV6_OPT_SKIP || x.routing_offset < x.opt_pointer))
		return routing_header(s, ifc, &x, pkt, len, link_mcast);
	if (x.opt_action != US_IPV6_OPT_SKIP)
		return unknown_option(s, ifc, ip, &x, pkt, len, link_mcast);
	if (x.has_ah)
		return us_drop(s, US_CTR_IP6_DROP_AH, ifc->index, "authentication header");
	if (x.upper_proto == US_IPPROTO_FRAGMENT) {
		/* Deviation: RFC 8200 does not forbid a Fragment header
		 * inside a reassembled packet, and Linux reassembles again;
		 * it has no use but to make us hold a datagram twice, so it
		 * is refused (ip6.drop_frag_nested). */
		if (reassembled)
			return us_drop(s, US_CTR_IP6_DROP_FRAG_NESTED, ifc->index,
				       "fragment inside a reassembled packet");
		return fragment_input(s, ifc, pkt, ip, &x, link_mcast);
	}
	/* RFC 6946 §4: an atomic fragment (offset 0, M 0) is "processed as a
	 * fully reassembled packet": the walk went through its header. */
	if (x.has_frag)
		us_count(s, US_CTR_IP6_FRAG_ATOMIC);
	return deliver(s, ifc, ip, &x, pkt, link_mcast, reassembled);
}

int us_ip6_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt, size_t len,
		 bool link_mcast)
{
	struct us_ipv6_hdr ip;

	us_count(s, US_CTR_IP6_IN);
	/* RFC 8200 §3: version 6, and a Payload Length that the frame holds
	 * (the link's padding beyond it is left out from here on). */
	int err = us_ipv6_parse(pkt, len, &ip);
	if (err != US_WIRE_OK)
		return us_drop(s, wire_counter(err), ifc->index, us_wire_strerror(err));
	err = check_addresses(s, ifc, &ip);
	if (err < 0)
		return err;
	return process(s, ifc, pkt, &ip, link_mcast, false);
}

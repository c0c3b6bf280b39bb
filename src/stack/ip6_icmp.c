/* SPDX-License-Identifier: MIT */
/*
 * ip6_icmp.c - ICMPv6 (RFC 4443): echo (§4), the errors we receive (§3,
 * §2.4 (a)-(d)) with Packet Too Big feeding the path MTU (RFC 8201 §4), the
 * errors we send (§2.4 (c), (e), (f)), Neighbor Discovery handed to nd6.c,
 * and us_stack_ping6().
 *
 * Read first: wire/icmp6.h (the message formats), then us_ip6_icmp_input()
 * and us_ip6_icmp_error_on() below.
 *
 * Echo requests to a multicast group are answered (RFC 4443 §4.2: "An Echo
 * Reply SHOULD be sent in response to an Echo Request message sent to an
 * IPv6 multicast or anycast address"), from a unicast address of the
 * interface, as Linux does unless icmp.echo_ignore_multicast is set.
 *
 * The errors we send are rate limited by one token bucket for the whole
 * stack (RFC 4443 §2.4 (f)), B = 10 and N = 10/s (ip6.h). Linux keeps a
 * global bucket too and a per-destination one besides.
 *
 * Deviation: RFC 4443 §2.4 (e.1) forbids errors about ICMPv6 errors; a
 * packet whose header walk stops at an unrecognized option (RFC 8200 §4.2)
 * cannot be seen into (wire/ipv6.h), so an ICMPv6 error behind such an
 * option still gets its Parameter Problem. Linux skips the options and would
 * stay silent. No loop can come of it: our Parameter Problem carries no
 * options.
 *
 * Not implemented: Multicast Listener Discovery (RFC 2710, RFC 3810): we
 * send no reports, and queries and reports are dropped (icmp6.drop_mld), so
 * a switch that snoops MLD may not forward our solicited-node groups to us.
 * Errors quoting our packets go to the transport that sent them (RFC 4443
 * §2.4 (d)): UDP (udp.c) and TCP (tcp_input.c).
 */
#include "stack.h"

#include <errno.h>
#include <string.h>

#include "wire/checksum.h"
#include "wire/icmp6.h"
#include "wire/ipv6.h"

/* RFC 4443 §2.4 (c): "as much of the IPv6 offending (invoking) packet ... as
 * possible without making the error message packet exceed the minimum IPv6
 * MTU". */
#define ERROR_QUOTE_MAX (US_IP6_MIN_MTU - US_IPV6_HDR_LEN - US_ICMP6_HDR_LEN)

/* ---- Errors we send ---------------------------------------------------------- */

/* RFC 4443 §2.4 (f): a token bucket, refilled lazily from s->now. */
static bool take_error_token(struct us_stack *s)
{
	struct us_ip6_state *st = &s->ip6;

	if (s->now < st->err_refilled) {
		st->err_refilled = s->now; /* a caller's clock with another origin */
	} else {
		us_time_t n = (s->now - st->err_refilled) / US_ICMP6_ERR_INTERVAL;
		if (n >= (us_time_t)(US_ICMP6_ERR_BURST - st->err_tokens)) {
			st->err_tokens = US_ICMP6_ERR_BURST;
			st->err_refilled = s->now;
		} else if (n > 0) {
			st->err_tokens += (uint32_t)n;
			st->err_refilled += n * US_ICMP6_ERR_INTERVAL;
		}
	}
	if (st->err_tokens == 0)
		return false;
	st->err_tokens--;
	return true;
}

/* RFC 4443 §2.4 (e.1), (e.2): is the packet an ICMPv6 error or a Redirect?
 * Undecidable packets (a later fragment, a chain cut short) are not. */
static bool is_error_or_redirect(const struct us_ipv6_hdr *q)
{
	uint8_t proto;
	const uint8_t *upper;
	size_t upper_len;

	if (us_ip6_upper_layer(q, &proto, &upper, &upper_len) != US_WIRE_OK)
		return false;
	if (proto != US_IPPROTO_ICMPV6 || upper_len < 1)
		return false;
	return us_icmp6_is_error(upper[0]) || upper[0] == US_ICMP6_ND_REDIRECT;
}

/* The interface a packet to dst came in on: the owner of the address, or
 * the first that joined the group. */
static struct us_iface *arrival_iface(struct us_stack *s, const struct us_ip6 *dst)
{
	if (!us_ip6_is_multicast(dst))
		return us_ip6_owner(s, dst);
	for (int i = 0; i < s->n_iface; i++)
		if (us_nd6_joined(&s->iface[i], dst))
			return &s->iface[i];
	return NULL;
}

static void count_error_out(struct us_stack *s, uint8_t type)
{
	us_count(s, US_CTR_ICMP6_OUT_ERRORS);
	if (type == US_ICMP6_PARAM_PROBLEM)
		us_count(s, US_CTR_ICMP6_OUT_PARAM_PROBLEM);
	else if (type == US_ICMP6_TIME_EXCEEDED)
		us_count(s, US_CTR_ICMP6_OUT_TIME_EXCEEDED);
}

void us_ip6_icmp_error_on(struct us_stack *s, struct us_iface *ifc, uint8_t type, uint8_t code,
			  uint32_t param, const uint8_t *pkt, size_t len, bool link_mcast)
{
	struct us_ipv6_hdr q;

	if (us_ipv6_parse_quoted(pkt, len, &q) != US_WIRE_OK) {
		us_count(s, US_CTR_ICMP6_ERR_NOT_SENT_MALFORMED);
		return;
	}
	/* RFC 4443 §2.4 (e) "An ICMPv6 error message MUST NOT be originated
	 * as a result of receiving the following:" ...
	 * (e.6) "A packet whose source address does not uniquely identify a
	 * single node -- e.g., the IPv6 Unspecified Address, an IPv6
	 * multicast address". */
	if (us_ip6_is_unspecified(&q.src) || us_ip6_is_multicast(&q.src)) {
		us_count(s, US_CTR_ICMP6_ERR_NOT_SENT_SOURCE);
		return;
	}
	/* (e.3) "A packet destined to an IPv6 multicast address", (e.4) "sent
	 * as a link-layer multicast", (e.5) "as a link-layer broadcast", with
	 * two exceptions: (e.3.1) Packet Too Big, (e.3.2) "the Parameter
	 * Problem Message, Code 2 reporting an unrecognized IPv6 option ...
	 * that has the Option Type highest-order two bits set to 10" (the
	 * caller does not ask for "11" ones: ip6_input.c). */
	bool excepted = type == US_ICMP6_PACKET_TOO_BIG ||
			(type == US_ICMP6_PARAM_PROBLEM && code == US_ICMP6_PARAM_OPTION);
	if ((us_ip6_is_multicast(&q.dst) || link_mcast) && !excepted) {
		us_count(s, US_CTR_ICMP6_ERR_NOT_SENT_MULTICAST);
		return;
	}
	/* (e.1) "An ICMPv6 error message." (e.2) "An ICMPv6 redirect
	 * message." */
	if (is_error_or_redirect(&q)) {
		us_count(s, US_CTR_ICMP6_ERR_NOT_SENT_ABOUT_ERROR);
		return;
	}
	/* (f) "an IPv6 node MUST limit the rate of ICMPv6 error messages it
	 * originates". */
	if (!take_error_token(s)) {
		us_count(s, US_CTR_ICMP6_ERR_RATE_LIMITED);
		return;
	}

	if (!ifc)
		ifc = arrival_iface(s, &q.dst);
	size_t quote = len < ERROR_QUOTE_MAX ? len : ERROR_QUOTE_MAX;
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)(US_ICMP6_HDR_LEN + quote));
	if (!b) {
		us_count(s, US_CTR_ICMP6_ERR_NOT_SENT_NO_BUFS);
		return;
	}
	uint8_t *p = us_pbuf_data(b);
	memcpy(p + US_ICMP6_HDR_LEN, pkt, quote);
	struct us_icmp6_hdr h = { .type = type, .code = code, .rest = param, .payload_len = quote };
	us_icmp6_emit(&h, p, b->len, 0); /* us_ip6_output fills the checksum */

	/* RFC 4443 §2.2 (a): a reply to a packet "sent to one of the node's
	 * unicast or anycast addresses" comes from "that same address";
	 * otherwise (b)-(d) a unicast address of the interface, which source
	 * selection picks. */
	struct us_ip6_tx tx = {
		.dst = q.src,
		.next_header = US_IPPROTO_ICMPV6,
		.ifindex = ifc ? ifc->index : -1,
	};
	if (ifc && us_ip6_iface_owns(ifc, &q.dst))
		tx.src = q.dst;
	count_error_out(s, type);
	us_ip6_output(s, b, &tx);
}

void us_ip6_icmp_error(struct us_stack *s, uint8_t type, uint8_t code, uint32_t param,
		       const uint8_t *pkt, size_t len, bool link_mcast)
{
	us_ip6_icmp_error_on(s, NULL, type, code, param, pkt, len, link_mcast);
}

void us_ip6_icmp_reass_timeout(struct us_stack *s, const uint8_t *pkt, size_t len)
{
	/* RFC 8200 §4.5: "If the first fragment (i.e., the one with a
	 * Fragment Offset of zero) has been received, an ICMP Time Exceeded --
	 * Fragment Reassembly Time Exceeded message should be sent to the
	 * source of that fragment." */
	us_ip6_icmp_error_on(s, NULL, US_ICMP6_TIME_EXCEEDED, US_ICMP6_TIMEX_REASSEMBLY, 0, pkt,
			     len, false);
}

/* ---- Messages we receive ------------------------------------------------------ */

/* RFC 4443 §4.2: "Every node MUST implement an ICMPv6 Echo responder
 * function that receives Echo Requests and originates corresponding Echo
 * Replies." */
static int echo_request(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
			const struct us_icmp6_hdr *h, const uint8_t *msg, size_t len)
{
	us_count(s, US_CTR_ICMP6_IN_ECHO_REQUESTS);
	/* A reply to :: reaches nobody. */
	if (us_ip6_is_unspecified(&ip->src))
		return us_drop(s, US_CTR_ICMP6_DROP_ECHO_BAD_SOURCE, ifc->index,
			       "echo request from the unspecified address");

	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)len);
	if (!b)
		return -ENOBUFS;
	uint8_t *p = us_pbuf_data(b);
	/* "The data received in the ICMPv6 Echo Request message MUST be
	 * returned entirely and unmodified in the ICMPv6 Echo Reply message",
	 * with the request's Identifier and Sequence Number. */
	memcpy(p, msg, len);
	struct us_icmp6_hdr r = {
		.type = US_ICMP6_ECHO_REPLY,
		.code = 0,
		.rest = h->rest,
		.payload_len = h->payload_len,
	};
	us_icmp6_emit(&r, p, len, 0); /* us_ip6_output fills the checksum */

	/* "The source address of the reply to a unicast Echo Request message
	 * MUST be the same as the destination address of that Echo Request";
	 * to a multicast one, "a unicast address belonging to the interface
	 * on which the Echo Request message was received": source selection
	 * on ifc. */
	struct us_ip6_tx tx = {
		.dst = ip->src,
		.next_header = US_IPPROTO_ICMPV6,
		.ifindex = ifc->index,
	};
	if (!us_ip6_is_multicast(&ip->dst))
		tx.src = ip->dst;
	us_count(s, US_CTR_ICMP6_OUT_ECHO_REPLIES);
	return us_ip6_output(s, b, &tx);
}

static int echo_reply(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		      const struct us_icmp6_hdr *h)
{
	us_count(s, US_CTR_ICMP6_IN_ECHO_REPLIES);
	/* Only replies to our own pings reach the hook, as for IPv4; a raw
	 * ICMPv6 socket has had its copy already. */
	if (!us_icmp_ping_known(s, us_icmp6_echo_id(h)))
		return us_drop(s, US_CTR_ICMP6_DROP_ECHO_REPLY_UNMATCHED, ifc->index,
			       "echo reply to no ping of ours");
	if (s->cfg.on_echo_reply) {
		struct us_echo_reply r = {
			.family = 6,
			.src6 = ip->src,
			.id = us_icmp6_echo_id(h),
			.seq = us_icmp6_echo_seq(h),
			.ttl = ip->hop_limit,
			.data = h->payload,
			.len = h->payload_len,
		};
		s->cfg.on_echo_reply(s->cfg.echo_ctx, s->now, &r);
	}
	return 0;
}

/* The packet an error quotes must be one we sent (RFC 4443 §2.4 (d) hands
 * it to "the upper-layer process that originated the packet"; RFC 8201 §4
 * warns of forged Packet Too Big). 0, or a counted drop. */
static int quoted_packet(struct us_stack *s, struct us_iface *ifc, const struct us_icmp6_hdr *h,
			 struct us_ipv6_hdr *q)
{
	int err = us_ipv6_parse_quoted(h->payload, h->payload_len, q);
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ICMP6_DROP_BAD_QUOTE, ifc->index, us_wire_strerror(err));
	if (!us_ip6_owner(s, &q->src))
		return us_drop(s, US_CTR_ICMP6_DROP_QUOTE_NOT_OURS, ifc->index,
			       "error about a packet we did not send");
	return 0;
}

/* RFC 4443 §2.4 (d): "An ICMPv6 error message MUST be passed to the
 * upper-layer process that originated the packet", found by the upper-layer
 * protocol of the quoted packet. A quote cut short inside its extension
 * headers names nobody. */
static void error_to_transport(struct us_stack *s, const struct us_icmp6_hdr *h,
			       const struct us_ipv6_hdr *q)
{
	uint8_t proto;
	const uint8_t *upper;
	size_t upper_len;

	if (us_ip6_upper_layer(q, &proto, &upper, &upper_len) != US_WIRE_OK)
		return;
	switch (proto) {
	case US_IPPROTO_UDP:
		us_udp_icmp_error6(s, h->type, h->code, q, upper, upper_len);
		break;
	case US_IPPROTO_TCP:
		us_tcp_icmp_error6(s, h->type, h->code, q, upper, upper_len);
		break;
	default:
		break;
	}
}

static int packet_too_big(struct us_stack *s, struct us_iface *ifc, const struct us_icmp6_hdr *h)
{
	struct us_ipv6_hdr q;
	uint32_t mtu = us_icmp6_mtu(h);

	us_count(s, US_CTR_ICMP6_IN_PACKET_TOO_BIG);
	int err = quoted_packet(s, ifc, h, &q);
	if (err < 0)
		return err;
	/* RFC 8201 §4: "If a node receives a Packet Too Big message reporting
	 * a next-hop MTU that is less than the IPv6 minimum link MTU, it must
	 * discard it." (RFC 8021 deprecated the atomic fragments that RFC
	 * 1981 sent instead.) The estimate stays where it was: 1280 or more. */
	if (mtu < US_IP6_MIN_MTU)
		return us_drop(s, US_CTR_ICMP6_DROP_PTB_BELOW_MIN, ifc->index,
			       "packet too big below 1280");
	us_ip6_pmtu_update(s, &q.dst, mtu);
	error_to_transport(s, h, &q);
	return 0;
}

static int error_message(struct us_stack *s, struct us_iface *ifc, const struct us_icmp6_hdr *h,
			 enum us_counter_id ctr)
{
	struct us_ipv6_hdr q;

	us_count(s, ctr);
	int err = quoted_packet(s, ifc, h, &q);
	if (err < 0)
		return err;
	error_to_transport(s, h, &q);
	return 0;
}

int us_ip6_icmp_input(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		      const uint8_t *msg, size_t len, bool link_mcast)
{
	struct us_icmp6_hdr h;
	(void)link_mcast;

	/* RFC 4443 §2.3: the checksum over the message and the pseudo-header
	 * of RFC 8200 §8.1, with the final destination (ours: any Routing
	 * header has Segments Left 0 by now). */
	uint32_t pseudo = us_csum_pseudo6(&ip->src, &ip->dst, US_IPPROTO_ICMPV6, (uint32_t)len);
	int err = us_icmp6_parse(msg, len, pseudo, &h);
	if (err == US_WIRE_TRUNCATED)
		return us_drop(s, US_CTR_ICMP6_DROP_TRUNCATED, ifc->index,
			       "icmpv6 message too short");
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ICMP6_DROP_BAD_CHECKSUM, ifc->index,
			       us_wire_strerror(err));
	us_count(s, US_CTR_ICMP6_IN);

	switch (h.type) {
	case US_ICMP6_ECHO_REQUEST:
		return echo_request(s, ifc, ip, &h, msg, len);
	case US_ICMP6_ECHO_REPLY:
		return echo_reply(s, ifc, ip, &h);
	case US_ICMP6_PACKET_TOO_BIG:
		return packet_too_big(s, ifc, &h);
	case US_ICMP6_DEST_UNREACH:
		return error_message(s, ifc, &h, US_CTR_ICMP6_IN_DEST_UNREACH);
	case US_ICMP6_TIME_EXCEEDED:
		return error_message(s, ifc, &h, US_CTR_ICMP6_IN_TIME_EXCEEDED);
	case US_ICMP6_PARAM_PROBLEM:
		return error_message(s, ifc, &h, US_CTR_ICMP6_IN_PARAM_PROBLEM);
	case US_ICMP6_ND_RS:
	case US_ICMP6_ND_RA:
	case US_ICMP6_ND_NS:
	case US_ICMP6_ND_NA:
	case US_ICMP6_ND_REDIRECT:
		/* RFC 4861: nd6.c checks the rest (hop limit 255, code 0,
		 * lengths, options). */
		us_count(s, US_CTR_ICMP6_IN_NDP);
		return us_nd6_input(s, ifc, ip, msg, len);
	case US_ICMP6_MLD_QUERY:
	case US_ICMP6_MLD_REPORT:
	case US_ICMP6_MLD_DONE:
	case US_ICMP6_MLD2_REPORT:
		return us_drop(s, US_CTR_ICMP6_DROP_MLD, ifc->index, "MLD is not implemented");
	default:
		/* RFC 4443 §2.4 (a): "If an ICMPv6 error message of unknown
		 * type is received at its destination, it MUST be passed to
		 * the upper-layer process that originated the packet";
		 * (b): "If an ICMPv6 informational message of unknown type is
		 * received, it MUST be silently discarded." */
		if (us_icmp6_is_error(h.type))
			return error_message(s, ifc, &h, US_CTR_ICMP6_IN_UNKNOWN_ERRORS);
		return us_drop(s, US_CTR_ICMP6_DROP_UNKNOWN_TYPE, ifc->index,
			       "unknown informational type");
	}
}

/* ---- Echo from the stack ------------------------------------------------------- */

int us_stack_ping6(struct us_stack *s, us_time_t now, const struct us_ip6 *dst, uint16_t id,
		   uint16_t seq, const uint8_t *data, size_t len, uint8_t hop_limit)
{
	if (!s || !dst || (!data && len))
		return -EINVAL;
	s->now = now;
	/* The message must fit a 16-bit Payload Length (RFC 8200 §3). */
	if (len > UINT16_MAX - US_ICMP6_HDR_LEN)
		return -EMSGSIZE;
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)(US_ICMP6_HDR_LEN + len));
	if (!b)
		return -ENOBUFS;
	uint8_t *p = us_pbuf_data(b);
	if (len)
		memcpy(p + US_ICMP6_HDR_LEN, data, len);
	struct us_icmp6_hdr h = {
		.type = US_ICMP6_ECHO_REQUEST,
		.code = 0,
		.rest = us_icmp6_echo_rest(id, seq),
		.payload_len = len,
	};
	us_icmp6_emit(&h, p, b->len, 0); /* us_ip6_output fills the checksum */
	struct us_ip6_tx tx = {
		.dst = *dst,
		.next_header = US_IPPROTO_ICMPV6,
		.hop_limit = hop_limit,
		.ifindex = -1,
	};
	us_count(s, US_CTR_ICMP6_OUT_ECHO_REQUESTS);
	us_icmp_ping_remember(s, id);
	return us_ip6_output(s, b, &tx);
}

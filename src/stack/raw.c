/* SPDX-License-Identifier: MIT */
/*
 * raw.c - raw IP sockets: every received packet of a protocol, copied to
 * the raw sockets of that protocol; packets sent with the stack building the
 * IP header. IPv4 follows Linux's SOCK_RAW without IP_HDRINCL (raw(7)):
 * input comes with its IP header, output is the payload. IPv6 follows RFC
 * 3542 §3: input and output are the payload only, and for ICMPv6 "the
 * kernel will calculate and insert the ICMPv6 checksum" on output and
 * verify it on input (§3.1).
 *
 * Read first: raw.h, sock.h; the copies are taken in ip_input.c's and
 * ip6_input.c's deliver(), before the protocol's own handler runs (as
 * Linux's raw_local_deliver), so the stack still answers echo requests and
 * the raw socket sees the requests and the answers it gets.
 *
 * Decisions:
 * - A socket bound to an address takes only packets to it; a connected one
 *   only packets from its peer (Linux's raw_v4_match / raw_v6_match).
 * - US_OPT_BROADCAST is needed to send to an IPv4 broadcast address
 *   (-EACCES), as for UDP.
 * - Protocol 0 (IPPROTO_IP / Hop-by-Hop) and 255 (IPPROTO_RAW, which
 *   implies IP_HDRINCL in Linux) are refused with -EPROTONOSUPPORT.
 * - Not implemented: IP_HDRINCL, IPV6_CHECKSUM for protocols other than
 *   ICMPv6, the ICMP_FILTER and ICMP6_FILTER options (RFC 3542 §3.2: every
 *   type passes, as its default says), ICMP errors reported to raw sockets,
 *   and the ancillary data of RFC 3542 (hop limit, packet info).
 */
#include "raw.h"

#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/checksum.h"
#include "wire/icmp6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

static bool ip6_equal(const struct us_ip6 *a, const struct us_ip6 *b)
{
	return memcmp(a->b, b->b, sizeof a->b) == 0;
}

static void any_addr(int family, struct us_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = family;
}

void us_raw_init(struct us_stack *s)
{
	memset(&s->raw, 0, sizeof s->raw);
}

struct us_raw *us_raw_open(struct us_stack *s, int family, int proto, us_sock_event_fn ev,
			   void *ctx, int *err)
{
	int e = 0;
	struct us_raw *r = NULL;
	if (!s)
		e = -EINVAL;
	else if (family != US_AF_INET && family != US_AF_INET6)
		e = -EAFNOSUPPORT;
	else if (proto <= 0 || proto >= 255)
		e = -EPROTONOSUPPORT;
	else if (s->raw.n_socks >= US_RAW_MAX_SOCKETS)
		e = -ENOBUFS;
	else if (!(r = calloc(1, sizeof *r)))
		e = -ENOMEM;
	if (e) {
		if (err)
			*err = e;
		return NULL;
	}
	r->s = s;
	r->family = family;
	r->proto = (uint8_t)proto;
	any_addr(family, &r->local);
	any_addr(US_AF_UNSPEC, &r->remote);
	us_sock_opts_init(&r->opt);
	us_sock_queue_init(&r->q, ev, ctx);
	r->next = s->raw.all;
	s->raw.all = r;
	s->raw.n_socks++;
	if (err)
		*err = 0;
	return r;
}

void us_raw_close(struct us_raw *r)
{
	if (!r)
		return;
	struct us_stack *s = r->s;
	us_sock_queue_flush(s, &r->q);
	for (struct us_raw **p = &s->raw.all; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	s->raw.n_socks--;
	free(r);
}

void us_raw_fini(struct us_stack *s)
{
	while (s->raw.all)
		us_raw_close(s->raw.all);
}

int us_raw_bind(struct us_raw *r, const struct us_addr *local)
{
	if (!r || !local || local->family != r->family)
		return -EINVAL;
	struct us_addr a;
	any_addr(r->family, &a);
	if (r->family == US_AF_INET) {
		if (!us_sock_local_ok4(r->s, local->ip4))
			return -EADDRNOTAVAIL;
		a.ip4 = local->ip4;
	} else {
		if (us_sock_is_v4mapped(&local->ip6))
			return -EINVAL;
		a.ip6 = local->ip6;
		int err = us_sock_local_ok6(r->s, local, &a.scope_id);
		if (err < 0)
			return err;
	}
	r->local = a; /* the port means nothing here */
	return 0;
}

int us_raw_connect(struct us_raw *r, const struct us_addr *remote)
{
	if (!r || !remote)
		return -EINVAL;
	if (remote->family == US_AF_UNSPEC) {
		r->connected = false;
		any_addr(US_AF_UNSPEC, &r->remote);
		return 0;
	}
	if (remote->family != r->family)
		return -EAFNOSUPPORT;
	int ifindex;
	if (r->family == US_AF_INET) {
		uint32_t src;
		if (us_sock_is_bcast4(r->s, remote->ip4) && !r->opt.broadcast)
			return -EACCES;
		int err = us_sock_route4(r->s, r->local.ip4, remote->ip4, &ifindex, &src);
		if (err < 0)
			return err;
	} else {
		struct us_ip6 src;
		if (us_sock_is_v4mapped(&remote->ip6))
			return -ENETUNREACH;
		int err = us_sock_route6(r->s, &r->local, remote, &ifindex, &src);
		if (err < 0)
			return err;
	}
	any_addr(r->family, &r->remote);
	if (r->family == US_AF_INET) {
		r->remote.ip4 = remote->ip4;
	} else {
		r->remote.ip6 = remote->ip6;
		if (us_ip6_is_link_local(&remote->ip6))
			r->remote.scope_id = (uint32_t)ifindex + 1;
	}
	r->connected = true;
	return 0;
}

int us_raw_sendto(struct us_raw *r, us_time_t now, const struct us_addr *to, const uint8_t *data,
		  size_t len)
{
	if (!r)
		return -EINVAL;
	if (!data && len)
		return -EFAULT;
	struct us_stack *s = r->s;
	s->now = now;
	if (!to) {
		if (!r->connected)
			return -EDESTADDRREQ;
		to = &r->remote;
	}
	if (to->family != r->family)
		return -EAFNOSUPPORT;

	int rc, ifindex;
	if (r->family == US_AF_INET) {
		uint32_t src;
		if (len > US_RAW_MAX_PAYLOAD4)
			return -EMSGSIZE;
		if (us_sock_is_bcast4(s, to->ip4) && !r->opt.broadcast)
			return -EACCES;
		rc = us_sock_route4(s, r->local.ip4, to->ip4, &ifindex, &src);
		if (rc < 0)
			return rc;
		struct us_pbuf *b = us_stack_alloc(s, (uint32_t)len);
		if (!b) {
			us_count(s, US_CTR_RAW_OUT_ERRORS);
			return -ENOBUFS;
		}
		if (len)
			memcpy(us_pbuf_data(b), data, len);
		struct us_ip_tx tx = {
			.src = src,
			.dst = to->ip4,
			.proto = r->proto,
			.ttl = us_ipv4_is_multicast(to->ip4) ? 0 : r->opt.ttl,
			.tos = r->opt.tos,
			.ifindex = ifindex,
		};
		rc = us_ip_output(s, b, &tx);
	} else {
		struct us_ip6 src;
		if (len > US_RAW_MAX_PAYLOAD6)
			return -EMSGSIZE;
		if (us_sock_is_v4mapped(&to->ip6))
			return -ENETUNREACH;
		/* RFC 3542 §3.1: the checksum goes at offset 2, which must
		 * lie inside the message; us_ip6_output fills it in for
		 * messages of at least the 8-byte ICMPv6 header. */
		if (r->proto == US_IPPROTO_ICMPV6 && len < US_ICMP6_HDR_LEN)
			return -EINVAL;
		rc = us_sock_route6(s, &r->local, to, &ifindex, &src);
		if (rc < 0)
			return rc;
		struct us_pbuf *b = us_stack_alloc(s, (uint32_t)len);
		if (!b) {
			us_count(s, US_CTR_RAW_OUT_ERRORS);
			return -ENOBUFS;
		}
		if (len)
			memcpy(us_pbuf_data(b), data, len);
		struct us_ip6_tx tx = {
			.src = src,
			.dst = to->ip6,
			.next_header = r->proto,
			.hop_limit = us_ip6_is_multicast(&to->ip6) ? 0 : r->opt.ttl,
			.traffic_class = r->opt.tos,
			.ifindex = ifindex,
		};
		rc = us_ip6_output(s, b, &tx);
	}
	if (rc < 0) {
		us_count(s, US_CTR_RAW_OUT_ERRORS);
		return rc;
	}
	us_count(s, US_CTR_RAW_OUT);
	return (int)len;
}

int us_raw_recvfrom(struct us_raw *r, uint8_t *buf, size_t cap, struct us_addr *from)
{
	if (!r)
		return -EINVAL;
	if (!buf && cap)
		return -EFAULT;
	int err = us_sock_take_error(&r->q);
	if (err)
		return err;
	return us_sock_queue_pop(r->s, &r->q, buf, cap, from);
}

int us_raw_events(const struct us_raw *r)
{
	return r ? us_sock_events(&r->q) : 0;
}

int us_raw_setopt(struct us_raw *r, enum us_sock_opt opt, int value)
{
	if (!r)
		return -EINVAL;
	return us_sock_setopt(&r->opt, r->family, false, opt, value);
}

int us_raw_getopt(const struct us_raw *r, enum us_sock_opt opt, int *value)
{
	if (!r)
		return -EINVAL;
	return us_sock_getopt(&r->opt, r->family, opt, value);
}

int us_raw_local(const struct us_raw *r, struct us_addr *out)
{
	if (!r || !out)
		return -EINVAL;
	*out = r->local;
	return 0;
}

/* ---- Input ------------------------------------------------------------------ */

static void copy_to(struct us_stack *s, struct us_raw *r, int ifindex, const struct us_addr *from,
		    const uint8_t *data, size_t len)
{
	int err = us_sock_queue_push(s, &r->q, r->opt.rcvbuf, from, data, len);
	if (err == -ENOSPC)
		us_drop(s, US_CTR_RAW_DROP_RCVBUF_FULL, ifindex, "raw socket receive buffer full");
	else if (err < 0)
		us_drop(s, US_CTR_RAW_DROP_NO_BUFFER, ifindex, "no buffer for a raw copy");
	else
		us_count(s, US_CTR_RAW_IN_DELIVERED);
}

bool us_raw_input4(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		   const uint8_t *pkt, size_t len)
{
	bool matched = false;
	struct us_addr from;
	any_addr(US_AF_INET, &from);
	from.ip4 = ip->src;
	for (struct us_raw *r = s->raw.all; r; r = r->next) {
		if (r->family != US_AF_INET || r->proto != ip->proto)
			continue;
		if (r->local.ip4 && r->local.ip4 != ip->dst)
			continue;
		if (r->connected && r->remote.ip4 != ip->src)
			continue;
		matched = true;
		copy_to(s, r, ifc->index, &from, pkt, len);
	}
	return matched;
}

static bool raw6_matches(const struct us_raw *r, const struct us_iface *ifc,
			 const struct us_ipv6_hdr *ip, uint8_t proto)
{
	if (r->family != US_AF_INET6 || r->proto != proto)
		return false;
	if (!us_ip6_is_unspecified(&r->local.ip6) &&
	    (!ip6_equal(&r->local.ip6, &ip->dst) ||
	     (r->local.scope_id && r->local.scope_id != (uint32_t)ifc->index + 1)))
		return false;
	if (r->connected && !ip6_equal(&r->remote.ip6, &ip->src))
		return false;
	return true;
}

bool us_raw_input6(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		   uint8_t proto, const uint8_t *upper, size_t len)
{
	bool matched = false, checked = false;
	struct us_addr from;
	any_addr(US_AF_INET6, &from);
	from.ip6 = ip->src;
	if (us_ip6_is_link_local(&ip->src))
		from.scope_id = (uint32_t)ifc->index + 1;
	for (struct us_raw *r = s->raw.all; r; r = r->next) {
		if (!raw6_matches(r, ifc, ip, proto))
			continue;
		/* RFC 3542 §3.1: for ICMPv6 the kernel verifies the checksum
		 * (the ICMPv6 module drops and counts a bad one too). */
		if (proto == US_IPPROTO_ICMPV6 && !checked) {
			uint32_t pseudo = us_csum_pseudo6(&ip->src, &ip->dst, proto, (uint32_t)len);
			if (len < 4 || !us_csum_ok(upper, len, pseudo)) {
				us_count(s, US_CTR_RAW_DROP_BAD_CHECKSUM);
				return false;
			}
			checked = true;
		}
		matched = true;
		copy_to(s, r, ifc->index, &from, upper, len);
	}
	return matched;
}

/* SPDX-License-Identifier: MIT */
/*
 * sock.c - the parts of the core's sockets that UDP (udp.c) and raw IP
 * (raw.c) share: the bounded receive queue, the pending error and the
 * event callback, the options, IPv4-mapped addresses (RFC 4291 §2.5.5.2),
 * and the interface and source address for a destination (RFC 1122
 * §3.3.4.3 for IPv4, RFC 6724 §5 for IPv6).
 *
 * Read first: sock.h (how the queue is charged against the receive buffer).
 */
#include "sock.h"

#include "stack.h"

#include <errno.h>
#include <string.h>

#include "wire/ipv4.h"
#include "wire/ipv6.h"

/* ---- The receive queue ------------------------------------------------------ */

void us_sock_queue_init(struct us_sock_queue *q, us_sock_event_fn ev, void *ctx)
{
	memset(q, 0, sizeof *q);
	q->ev = ev;
	q->ev_ctx = ctx;
}

void us_sock_opts_init(struct us_sock_opts *o)
{
	memset(o, 0, sizeof *o);
	o->rcvbuf = US_SOCK_RCVBUF_DEFAULT;
	o->sndbuf = US_SOCK_SNDBUF_DEFAULT;
}

static void notify(const struct us_sock_queue *q)
{
	if (q->ev)
		q->ev(q->ev_ctx, us_sock_events(q));
}

int us_sock_queue_push(struct us_stack *s, struct us_sock_queue *q, uint32_t rcvbuf,
		       const struct us_addr *from, const uint8_t *data, size_t len)
{
	/* Full already: no need to take a buffer to find out. */
	if (q->count > 0 && q->charged >= rcvbuf)
		return -ENOSPC;
	if (len > US_PBUF_LARGE)
		return -ENOBUFS;
	struct us_pbuf *b = us_pbuf_alloc(&s->pool, 0, (uint32_t)(sizeof *from + len));
	if (!b) {
		us_count(s, US_CTR_PBUF_EXHAUSTED);
		return -ENOBUFS;
	}
	if (q->count > 0 && (uint64_t)q->charged + b->cap > rcvbuf) {
		us_pbuf_free(&s->pool, b);
		return -ENOSPC;
	}
	uint8_t *p = us_pbuf_data(b);
	memcpy(p, from, sizeof *from);
	if (len)
		memcpy(p + sizeof *from, data, len);
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->count++;
	q->charged += b->cap;
	notify(q);
	return 0;
}

int us_sock_queue_pop(struct us_stack *s, struct us_sock_queue *q, uint8_t *buf, size_t cap,
		      struct us_addr *from)
{
	struct us_pbuf *b = q->head;
	if (!b)
		return -EAGAIN;
	q->head = b->next;
	if (!q->head)
		q->tail = NULL;
	b->next = NULL;
	q->count--;
	q->charged -= b->cap;

	const uint8_t *p = us_pbuf_data(b);
	size_t len = b->len - sizeof *from;
	if (from)
		memcpy(from, p, sizeof *from);
	if (buf && cap)
		memcpy(buf, p + sizeof *from, len < cap ? len : cap);
	us_pbuf_free(&s->pool, b);
	return (int)len;
}

void us_sock_queue_flush(struct us_stack *s, struct us_sock_queue *q)
{
	while (q->head) {
		struct us_pbuf *b = q->head;
		q->head = b->next;
		us_pbuf_free(&s->pool, b);
	}
	q->tail = NULL;
	q->count = 0;
	q->charged = 0;
}

void us_sock_set_error(struct us_sock_queue *q, int err)
{
	q->error = err;
	notify(q);
}

int us_sock_take_error(struct us_sock_queue *q)
{
	int err = q->error;
	q->error = 0;
	return err;
}

int us_sock_events(const struct us_sock_queue *q)
{
	int ev = US_EV_WRITABLE;
	if (q->count || q->error)
		ev |= US_EV_READABLE;
	if (q->error)
		ev |= US_EV_ERROR;
	return ev;
}

/* ---- Options ---------------------------------------------------------------- */

static uint32_t clamp_buf(int value)
{
	uint32_t v = (uint32_t)value;
	if (v < US_SOCK_BUF_MIN)
		return US_SOCK_BUF_MIN;
	if (v > US_SOCK_BUF_MAX)
		return US_SOCK_BUF_MAX;
	return v;
}

int us_sock_setopt(struct us_sock_opts *o, int family, bool bound, enum us_sock_opt opt,
		   int value)
{
	switch (opt) {
	case US_OPT_REUSEADDR:
		o->reuseaddr = value != 0;
		return 0;
	case US_OPT_BROADCAST:
		o->broadcast = value != 0;
		return 0;
	case US_OPT_RCVBUF:
		if (value < 0)
			return -EINVAL;
		o->rcvbuf = clamp_buf(value);
		return 0;
	case US_OPT_SNDBUF:
		if (value < 0)
			return -EINVAL;
		o->sndbuf = clamp_buf(value);
		return 0;
	case US_OPT_TTL:
		/* RFC 1122 §3.2.1.7: "A host MUST NOT send a datagram with a
		 * Time-to-Live (TTL) value of zero": 0 asks for the default. */
		if (value < 0 || value > 255)
			return -EINVAL;
		o->ttl = (uint8_t)value;
		return 0;
	case US_OPT_TOS:
		if (value < 0 || value > 255)
			return -EINVAL;
		o->tos = (uint8_t)value;
		return 0;
	case US_OPT_V6ONLY:
		if (family != US_AF_INET6)
			return -ENOPROTOOPT;
		/* It decides which ports the socket holds: fixed at bind, as
		 * in Linux. */
		if (bound)
			return -EINVAL;
		o->v6only = value != 0;
		return 0;
	case US_OPT_NODELAY:
	case US_OPT_KEEPALIVE:
	case US_OPT_KEEPIDLE:
	case US_OPT_KEEPINTVL:
	case US_OPT_KEEPCNT:
	case US_OPT_LINGER:
	case US_OPT_WSCALE:
	case US_OPT_TIMESTAMPS:
	case US_OPT_SACK:
	case US_OPT_SYNCOOKIES:
	case US_OPT_CONGESTION:
	case US_OPT_ECN:
		/* TCP's own: tcp.c keeps them. */
		return -ENOPROTOOPT;
	}
	return -ENOPROTOOPT;
}

int us_sock_getopt(const struct us_sock_opts *o, int family, enum us_sock_opt opt, int *value)
{
	if (!value)
		return -EINVAL;
	switch (opt) {
	case US_OPT_REUSEADDR:
		*value = o->reuseaddr;
		return 0;
	case US_OPT_BROADCAST:
		*value = o->broadcast;
		return 0;
	case US_OPT_RCVBUF:
		*value = (int)o->rcvbuf;
		return 0;
	case US_OPT_SNDBUF:
		*value = (int)o->sndbuf;
		return 0;
	case US_OPT_TTL:
		*value = o->ttl;
		return 0;
	case US_OPT_TOS:
		*value = o->tos;
		return 0;
	case US_OPT_V6ONLY:
		if (family != US_AF_INET6)
			return -ENOPROTOOPT;
		*value = o->v6only;
		return 0;
	case US_OPT_NODELAY:
	case US_OPT_KEEPALIVE:
	case US_OPT_KEEPIDLE:
	case US_OPT_KEEPINTVL:
	case US_OPT_KEEPCNT:
	case US_OPT_LINGER:
	case US_OPT_WSCALE:
	case US_OPT_TIMESTAMPS:
	case US_OPT_SACK:
	case US_OPT_SYNCOOKIES:
	case US_OPT_CONGESTION:
	case US_OPT_ECN:
		return -ENOPROTOOPT;
	}
	return -ENOPROTOOPT;
}

/* ---- Addresses -------------------------------------------------------------- */

bool us_sock_is_v4mapped(const struct us_ip6 *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a->b, prefix, sizeof prefix) == 0;
}

void us_sock_v4mapped(uint32_t ip4, struct us_ip6 *out)
{
	memset(out->b, 0, 10);
	out->b[10] = 0xff;
	out->b[11] = 0xff;
	out->b[12] = (uint8_t)(ip4 >> 24);
	out->b[13] = (uint8_t)(ip4 >> 16);
	out->b[14] = (uint8_t)(ip4 >> 8);
	out->b[15] = (uint8_t)ip4;
}

bool us_sock_addr_v4(const struct us_addr *a, uint32_t *ip4)
{
	if (a->family == US_AF_INET) {
		*ip4 = a->ip4;
		return true;
	}
	if (a->family == US_AF_INET6 && us_sock_is_v4mapped(&a->ip6)) {
		*ip4 = (uint32_t)a->ip6.b[12] << 24 | (uint32_t)a->ip6.b[13] << 16 |
		       (uint32_t)a->ip6.b[14] << 8 | a->ip6.b[15];
		return true;
	}
	return false;
}

bool us_sock_is_bcast4(const struct us_stack *s, uint32_t dst)
{
	return us_ip_is_group(s, dst) && !us_ipv4_is_multicast(dst);
}

bool us_sock_local_ok4(const struct us_stack *s, uint32_t ip4)
{
	return ip4 == 0 || us_ip_is_local(s, ip4) || us_ip_is_group(s, ip4);
}

int us_sock_local_ok6(struct us_stack *s, const struct us_addr *a, uint32_t *scope_id)
{
	*scope_id = 0;
	if (us_ip6_is_unspecified(&a->ip6))
		return 0;
	if (us_ip6_is_multicast(&a->ip6)) {
		if (a->scope_id > (uint32_t)s->n_iface)
			return -EINVAL;
		*scope_id = a->scope_id;
		return 0;
	}
	struct us_iface *owner;
	if (a->scope_id) {
		owner = us_iface_get(s, (int)a->scope_id - 1);
		if (!owner)
			return -EINVAL;
		if (!us_ip6_iface_owns(owner, &a->ip6))
			return -EADDRNOTAVAIL;
	} else {
		owner = us_ip6_owner(s, &a->ip6);
		if (!owner)
			return -EADDRNOTAVAIL;
	}
	if (us_ip6_is_link_local(&a->ip6))
		*scope_id = (uint32_t)owner->index + 1;
	return 0;
}

/* ---- Routes ------------------------------------------------------------------ */

static uint32_t first_addr4(const struct us_iface *ifc)
{
	for (int i = 0; i < US_MAX_ADDR4; i++)
		if (ifc->addr4[i].used)
			return ifc->addr4[i].addr;
	return 0;
}

int us_sock_route4(struct us_stack *s, uint32_t bound_src, uint32_t dst, int *ifindex,
		   uint32_t *src)
{
	bool own = bound_src && us_ip_is_local(s, bound_src);

	if (us_ipv4_is_limited_broadcast(dst)) {
		const struct us_iface *ifc = NULL;
		for (int i = 0; i < s->n_iface && !ifc; i++) {
			const struct us_iface *c = &s->iface[i];
			if (own ? us_iface_has_ip4(c, bound_src) : first_addr4(c) != 0)
				ifc = c;
		}
		if (!ifc)
			return -ENETUNREACH;
		*ifindex = ifc->index;
		*src = own ? bound_src : first_addr4(ifc);
		return 0;
	}
	uint32_t route_src;
	if (us_ip_route(s, dst, NULL, NULL, &route_src) < 0)
		return -ENETUNREACH;
	*ifindex = -1;
	*src = own ? bound_src : route_src;
	return 0;
}

int us_sock_route6(struct us_stack *s, const struct us_addr *bound, const struct us_addr *dst,
		   int *ifindex, struct us_ip6 *src)
{
	int pin = -1;
	bool scoped = us_ip6_is_link_local(&dst->ip6) || us_ip6_is_multicast(&dst->ip6);
	bool own = bound && bound->family == US_AF_INET6 && !us_ip6_is_unspecified(&bound->ip6) &&
		   !us_ip6_is_multicast(&bound->ip6);

	/* RFC 4007 §6: a link-local or multicast destination's zone is its
	 * scope_id (interface index + 1); a socket bound to a link-local
	 * address lives in that address's zone. */
	if (scoped && dst->scope_id) {
		if (dst->scope_id > (uint32_t)s->n_iface)
			return -EINVAL;
		pin = (int)dst->scope_id - 1;
	}
	if (own && bound->scope_id) {
		if (pin >= 0 && pin != (int)bound->scope_id - 1)
			return -EINVAL;
		pin = (int)bound->scope_id - 1;
	}
	/* There is no loopback path: ip_output.c lists the gap. */
	if (us_ip6_owner(s, &dst->ip6))
		return -ENETUNREACH;
	struct us_iface *ifc;
	struct us_ip6 next_hop;
	if (us_nd6_next_hop(s, &dst->ip6, pin, &ifc, &next_hop) < 0)
		return -ENETUNREACH;
	*ifindex = ifc->index;
	if (own)
		*src = bound->ip6;
	else if (us_ip6_select_src(s, ifc, &dst->ip6, src) < 0)
		return -EADDRNOTAVAIL;
	return 0;
}

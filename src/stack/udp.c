/* SPDX-License-Identifier: MIT */
/*
 * udp.c - UDP: RFC 768, RFC 1122 §4.1 (what a host's UDP must do), RFC 8200
 * §8.1 (the checksum is mandatory over IPv6), RFC 6056 (ephemeral ports),
 * RFC 4291 §2.5.5.2 and RFC 3493 §3.7 (IPv4-mapped addresses on IPv6
 * sockets).
 *
 * Read first: udp.h and sock.h, then us_udp_input4() (the way in) and
 * us_udp_sendto() (the way out).
 *
 * The way in: ip_input.c / ip6_input.c call us_udp_input4/6(), which
 * checks the header and the checksum, then finds the socket (lookup()):
 * among the sockets bound to the destination port, a connected one whose
 * peer is the sender beats one bound to the destination address, which
 * beats a wildcard one; a socket of the datagram's own family beats an
 * IPv6 socket taking IPv4 as IPv4-mapped addresses (Linux's compute_score
 * does the same). A datagram to a broadcast or multicast address goes to
 * every socket that matches. The datagram is copied into the socket's
 * bounded queue (sock.c).
 *
 * The way out: us_udp_sendto() picks the source address (sock.c's route
 * helpers, so that the checksum's pseudo-header is right), builds the header,
 * always computes the checksum, and hands the datagram to us_ip_output() or
 * us_ip6_output(), which fragment it when it is larger than the path MTU.
 *
 * Decisions:
 * - RFC 1122 §4.1.3.4: "If a UDP datagram is received with a checksum that
 *   is non-zero and invalid, UDP MUST silently discard the datagram." Over
 *   IPv4 a zero checksum means none was sent (RFC 768) and is accepted;
 *   over IPv6 it is dropped (RFC 8200 §8.1: "IPv6 receivers must discard
 *   UDP packets containing a zero checksum"). We always send one (RFC 1122
 *   §4.1.3.4: an application MAY choose to send none; we offer no way to).
 * - RFC 1122 §4.1.3.1: "If a datagram arrives addressed to a UDP port for
 *   which there is no pending LISTEN call, UDP SHOULD send an ICMP Port
 *   Unreachable message": sent, except for datagrams to a broadcast or
 *   multicast address or in a link-layer broadcast, about which RFC 1122
 *   §3.2.2 forbids errors (us_icmp_error() and us_ip6_icmp_error_on() check
 *   again, and rate-limit).
 * - Deviation: RFC 1122 §4.1.3.3 says "UDP MUST pass to the application
 *   layer all ICMP error messages that it receives from the IP layer". We
 *   pass them as Linux does for a socket without IP_RECVERR: only to a
 *   connected socket (an unconnected one cannot tell which of its sends the
 *   error is about, and anybody could forge one), and only the "hard" ones
 *   of Linux's icmp_err_convert table (port, protocol, administratively
 *   prohibited, ...; not net/host unreachable, time exceeded or packet too
 *   big, which may be transient). The error becomes the socket's pending
 *   error, returned once by the next recvfrom or sendto (as Linux returns
 *   sk_err from both). Ignored ones are counted.
 * - A connected socket takes datagrams only from its peer; datagrams from
 *   anybody else on that port, when no other socket takes them, are counted
 *   (udp.drop_not_from_connected_peer) and answered with Port Unreachable,
 *   as Linux does.
 * - Ephemeral ports: RFC 6056 §3.3.1 Algorithm 1 ("Simple Port
 *   Randomization"), with a keyed hash as random(): SipHash-2-4 under the
 *   stack's secret over a count of draws, so no two binds are related and
 *   nobody without the secret can predict a port. Algorithms 3 and 4 hash
 *   the connection's addresses, which a UDP socket does not know when bind()
 *   with port 0 picks its port: every such bind would get the next port
 *   after one offset, which an attacker reads off one sample (DNS clients
 *   rely on random source ports, RFC 5452 §9.2). Linux picks UDP ports at
 *   random too. A port is picked only when no socket holds it at all.
 * - Binding: a port is shared only when both sockets set US_OPT_REUSEADDR
 *   (Linux's rule for UDP); otherwise two sockets conflict when their local
 *   addresses overlap: equal, or one of them a wildcard. An IPv6 socket bound
 *   to :: also holds the IPv4 wildcard unless it is V6ONLY (RFC 3493 §5.3).
 *   A link-local address may be bound without a scope: the interface owning
 *   it is taken (Linux insists on the scope id).
 * - connect() fixes the local address to the route's source when bind() did
 *   not name one, and disconnecting (US_AF_UNSPEC) undoes what connect did,
 *   as Linux's ip4_datagram_connect and __udp_disconnect do.
 * - Datagrams leave with DF clear and are fragmented by us_ip_output when
 *   larger than the path MTU (Linux's IP_PMTUDISC_DONT; its default for UDP
 *   sets DF on datagrams that fit). IP_TTL / IPV6_UNICAST_HOPS
 *   (US_OPT_TTL) apply to unicast only, as in Linux; multicast goes one hop.
 * - Not implemented: IP options (RFC 1122 §4.1.3.2: received options
 *   passed to the application, options chosen by it); the rest of RFC 1122
 *   §4.1.3.5's interface beyond TTL, TOS and the source address
 *   (GET_MAXSIZES, the destination address and TOS of a received datagram:
 *   Linux's IP_MTU, IP_PKTINFO, IP_RECVTOS); IPV6_TCLASS (the IPv6 output
 *   path has no traffic class: US_OPT_TOS is kept but not sent on IPv6);
 *   multicast group membership; SO_REUSEPORT; zero-checksum UDP over IPv6
 *   for tunnels (RFC 6935, RFC 6936); UDP-Lite.
 */
#include "udp.h"

#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/udp.h"
#include "wire/wire.h"

static bool ip6_equal(const struct us_ip6 *a, const struct us_ip6 *b)
{
	return memcmp(a->b, b->b, sizeof a->b) == 0;
}

/* ---- What a socket holds ----------------------------------------------------- */

/*
 * The local addresses a socket takes datagrams for, per family. An IPv4
 * socket holds IPv4 only; an IPv6 socket bound to an IPv4-mapped address
 * holds that IPv4 address only; one bound to :: holds every IPv6 address and,
 * unless V6ONLY, every IPv4 address too (RFC 3493 §3.7, §5.3).
 */
struct holding {
	bool v4, v6;
	uint32_t ip4;      /* 0: any */
	struct us_ip6 ip6; /* ::: any */
	uint32_t scope;    /* a link-local ip6's interface index + 1 */
};

static struct holding holding_of(const struct us_udp *u)
{
	struct holding h;
	memset(&h, 0, sizeof h);
	if (u->family == US_AF_INET) {
		h.v4 = true;
		h.ip4 = u->local.ip4;
	} else if (us_sock_addr_v4(&u->local, &h.ip4)) {
		h.v4 = true;
	} else {
		h.v6 = true;
		h.ip6 = u->local.ip6;
		h.scope = u->local.scope_id;
		h.v4 = us_ip6_is_unspecified(&h.ip6) && !u->opt.v6only;
	}
	return h;
}

static bool holdings_overlap(const struct holding *a, const struct holding *b)
{
	if (a->v4 && b->v4 && (a->ip4 == 0 || b->ip4 == 0 || a->ip4 == b->ip4))
		return true;
	if (a->v6 && b->v6 &&
	    (us_ip6_is_unspecified(&a->ip6) || us_ip6_is_unspecified(&b->ip6) ||
	     ip6_equal(&a->ip6, &b->ip6)))
		return true;
	return false;
}

/* ---- The port table ------------------------------------------------------------ */

static struct us_udp **bucket(struct us_stack *s, uint16_t port)
{
	return &s->udp.ports[port % US_UDP_PORT_BUCKETS];
}

static void hash_insert(struct us_udp *u)
{
	struct us_udp **b = bucket(u->s, u->local.port);
	u->hnext = *b;
	*b = u;
	u->bound = true;
}

static void hash_remove(struct us_udp *u)
{
	if (!u->bound)
		return;
	for (struct us_udp **p = bucket(u->s, u->local.port); *p; p = &(*p)->hnext) {
		if (*p == u) {
			*p = u->hnext;
			break;
		}
	}
	u->hnext = NULL;
	u->bound = false;
}

static bool port_held(struct us_stack *s, uint16_t port)
{
	for (const struct us_udp *o = *bucket(s, port); o; o = o->hnext)
		if (o->local.port == port)
			return true;
	return false;
}

/* True when binding self to port with holding h would take datagrams
 * another socket holds. Sharing needs US_OPT_REUSEADDR on both. */
static bool port_conflict(struct us_stack *s, const struct us_udp *self, uint16_t port,
			  const struct holding *h)
{
	for (const struct us_udp *o = *bucket(s, port); o; o = o->hnext) {
		if (o == self || o->local.port != port)
			continue;
		struct holding oh = holding_of(o);
		if (holdings_overlap(h, &oh) && !(self->opt.reuseaddr && o->opt.reuseaddr))
			return true;
	}
	return false;
}

/*
 * RFC 6056 §3.3.1, Algorithm 1, "Simple Port Randomization":
 *     next_ephemeral = min_ephemeral + (random() % num_ephemeral);
 *     count = num_ephemeral;
 *     do { if (check_suitable_port(next_ephemeral)) return next_ephemeral;
 *          next_ephemeral++ (wrapping to min_ephemeral); count--;
 *     } while (count > 0);
 * with random() a SipHash-2-4 of a draw counter under the stack's secret
 * (see the decisions at the top of the file). A port is suitable when no
 * socket holds it.
 */
static int pick_ephemeral(struct us_stack *s, uint16_t *port)
{
	const uint32_t num = US_UDP_EPHEMERAL_MAX - US_UDP_EPHEMERAL_MIN + 1;
	uint8_t in[12] = { 'u', 'd', 'p', 'e' };
	uint64_t draw = s->udp.eph_draws++;
	us_put_be32(in + 4, (uint32_t)(draw >> 32));
	us_put_be32(in + 8, (uint32_t)draw);
	uint32_t next = (uint32_t)(us_siphash(s->cfg.secret, in, sizeof in) % num);
	for (uint32_t count = 0; count < num; count++) {
		uint16_t p = (uint16_t)(US_UDP_EPHEMERAL_MIN + (next + count) % num);
		if (!port_held(s, p)) {
			*port = p;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

/* Binds an unbound socket to the wildcard address and an ephemeral port,
 * before sendto() or connect(). */
static int autobind(struct us_udp *u)
{
	if (u->bound)
		return 0;
	uint16_t port;
	int err = pick_ephemeral(u->s, &port);
	if (err < 0)
		return err;
	u->local.port = port;
	u->port_locked = false;
	hash_insert(u);
	return 0;
}

/* ---- Open, close, options ---------------------------------------------------- */

void us_udp_init(struct us_stack *s)
{
	memset(&s->udp, 0, sizeof s->udp);
}

static void any_addr(int family, struct us_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = family;
}

struct us_udp *us_udp_open(struct us_stack *s, int family, us_sock_event_fn ev, void *ctx,
			   int *err)
{
	int e = 0;
	struct us_udp *u = NULL;
	if (!s)
		e = -EINVAL;
	else if (family != US_AF_INET && family != US_AF_INET6)
		e = -EAFNOSUPPORT;
	else if (s->udp.n_socks >= US_UDP_MAX_SOCKETS)
		e = -ENOBUFS;
	else if (!(u = calloc(1, sizeof *u)))
		e = -ENOMEM;
	if (e) {
		if (err)
			*err = e;
		return NULL;
	}
	u->s = s;
	u->family = family;
	any_addr(family, &u->local);
	any_addr(US_AF_UNSPEC, &u->remote);
	us_sock_opts_init(&u->opt);
	us_sock_queue_init(&u->q, ev, ctx);
	u->next = s->udp.all;
	s->udp.all = u;
	s->udp.n_socks++;
	if (err)
		*err = 0;
	return u;
}

void us_udp_close(struct us_udp *u)
{
	if (!u)
		return;
	struct us_stack *s = u->s;
	hash_remove(u);
	us_sock_queue_flush(s, &u->q);
	for (struct us_udp **p = &s->udp.all; *p; p = &(*p)->next) {
		if (*p == u) {
			*p = u->next;
			break;
		}
	}
	s->udp.n_socks--;
	free(u);
}

void us_udp_fini(struct us_stack *s)
{
	while (s->udp.all)
		us_udp_close(s->udp.all);
}

int us_udp_setopt(struct us_udp *u, enum us_sock_opt opt, int value)
{
	if (!u)
		return -EINVAL;
	return us_sock_setopt(&u->opt, u->family, u->bound, opt, value);
}

int us_udp_getopt(const struct us_udp *u, enum us_sock_opt opt, int *value)
{
	if (!u)
		return -EINVAL;
	return us_sock_getopt(&u->opt, u->family, opt, value);
}

int us_udp_local(const struct us_udp *u, struct us_addr *out)
{
	if (!u || !out)
		return -EINVAL;
	*out = u->local;
	return 0;
}

int us_udp_remote(const struct us_udp *u, struct us_addr *out)
{
	if (!u || !out)
		return -EINVAL;
	if (!u->connected)
		return -ENOTCONN;
	*out = u->remote;
	return 0;
}

int us_udp_events(const struct us_udp *u)
{
	return u ? us_sock_events(&u->q) : 0;
}

int us_udp_take_error(struct us_udp *u)
{
	return u ? us_sock_take_error(&u->q) : -EINVAL;
}

/* ---- Bind ------------------------------------------------------------------------ */

/* The address part of bind(): may the socket take this local address?
 * Fills *a (a link-local IPv6 address gets its interface as scope). */
static int check_local(struct us_udp *u, const struct us_addr *in, struct us_addr *a)
{
	struct us_stack *s = u->s;
	*a = *in;
	if (in->family == US_AF_INET) {
		a->scope_id = 0;
		memset(&a->ip6, 0, sizeof a->ip6);
		return us_sock_local_ok4(s, in->ip4) ? 0 : -EADDRNOTAVAIL;
	}
	a->ip4 = 0;
	uint32_t ip4;
	if (us_sock_addr_v4(in, &ip4)) {
		/* RFC 3493 §5.3: a V6ONLY socket sends and receives IPv6 only. */
		if (u->opt.v6only)
			return -EINVAL;
		a->scope_id = 0;
		return us_sock_local_ok4(s, ip4) ? 0 : -EADDRNOTAVAIL;
	}
	return us_sock_local_ok6(s, in, &a->scope_id);
}

int us_udp_bind(struct us_udp *u, const struct us_addr *local)
{
	if (!u || !local)
		return -EINVAL;
	if (u->bound || local->family != u->family)
		return -EINVAL;
	struct us_addr a;
	int err = check_local(u, local, &a);
	if (err < 0)
		return err;

	struct us_addr saved = u->local;
	u->local = a;
	struct holding h = holding_of(u);
	if (a.port == 0) {
		err = pick_ephemeral(u->s, &u->local.port);
	} else if (port_conflict(u->s, u, a.port, &h)) {
		err = -EADDRINUSE;
	}
	if (err < 0) {
		u->local = saved;
		return err;
	}
	u->port_locked = a.port != 0;
	uint32_t ip4;
	u->addr_locked = us_sock_addr_v4(&a, &ip4) ? ip4 != 0 : !us_ip6_is_unspecified(&a.ip6);
	hash_insert(u);
	return 0;
}

/* ---- Destinations ------------------------------------------------------------------ */

/* Where a datagram goes and from which source, in the family it leaves with. */
struct dest {
	bool v4;
	uint32_t dst4, src4;
	struct us_addr dst6; /* family US_AF_INET6 */
	struct us_ip6 src6;
	uint16_t port;
	int ifindex;
};

/*
 * The checks and the route for a datagram from u to `to`. An IPv6 socket
 * sends IPv4 to an IPv4 or IPv4-mapped address unless it is V6ONLY or bound
 * to an IPv6 address (as Linux's udpv6_sendmsg hands those to udp_sendmsg).
 */
static int resolve(struct us_udp *u, const struct us_addr *to, struct dest *d)
{
	struct us_stack *s = u->s;
	memset(d, 0, sizeof *d);
	uint32_t l4;
	bool local_v4 = us_sock_addr_v4(&u->local, &l4);

	if (u->family == US_AF_INET) {
		if (to->family != US_AF_INET)
			return -EAFNOSUPPORT;
		d->v4 = true;
		d->dst4 = to->ip4;
	} else if (to->family == US_AF_INET || to->family == US_AF_INET6) {
		d->v4 = us_sock_addr_v4(to, &d->dst4);
		bool bound6 = !local_v4 && !us_ip6_is_unspecified(&u->local.ip6);
		if (d->v4 && (u->opt.v6only || bound6))
			return -ENETUNREACH;
		if (!d->v4 && local_v4 && u->bound)
			return -ENETUNREACH;
	} else {
		return -EAFNOSUPPORT;
	}
	if (to->port == 0)
		return -EINVAL;
	d->port = to->port;

	if (d->v4) {
		/* RFC 1122 §4.1.3.6 leaves broadcast to the application; as in
		 * BSD and Linux, it must ask for it (SO_BROADCAST). */
		if (us_sock_is_bcast4(s, d->dst4) && !u->opt.broadcast)
			return -EACCES;
		return us_sock_route4(s, local_v4 ? l4 : 0, d->dst4, &d->ifindex, &d->src4);
	}
	d->dst6 = *to;
	return us_sock_route6(s, &u->local, &d->dst6, &d->ifindex, &d->src6);
}

/* ---- Connect ------------------------------------------------------------------------ */

static void disconnect(struct us_udp *u)
{
	u->connected = false;
	any_addr(US_AF_UNSPEC, &u->remote);
	if (!u->addr_locked) {
		uint16_t port = u->local.port;
		any_addr(u->family, &u->local);
		u->local.port = port;
	}
	if (!u->port_locked) {
		hash_remove(u);
		u->local.port = 0;
	}
}

int us_udp_connect(struct us_udp *u, const struct us_addr *remote)
{
	if (!u || !remote)
		return -EINVAL;
	if (remote->family == US_AF_UNSPEC) {
		disconnect(u);
		return 0;
	}
	if (u->family == US_AF_INET6 && remote->family == US_AF_INET && u->opt.v6only)
		return -EAFNOSUPPORT;
	/* A new peer: the source connect() chose for the old one goes (and
	 * comes back if the new peer cannot be reached). */
	struct us_addr saved = u->local;
	if (!u->addr_locked) {
		any_addr(u->family, &u->local);
		u->local.port = saved.port;
	}
	struct dest d;
	int err = resolve(u, remote, &d);
	if (err == 0)
		err = autobind(u);
	if (err < 0) {
		u->local.ip4 = saved.ip4;
		u->local.ip6 = saved.ip6;
		u->local.scope_id = saved.scope_id;
		return err;
	}

	any_addr(u->family, &u->remote);
	u->remote.port = d.port;
	if (d.v4 && u->family == US_AF_INET)
		u->remote.ip4 = d.dst4;
	else if (d.v4)
		us_sock_v4mapped(d.dst4, &u->remote.ip6);
	else
		u->remote = d.dst6;
	if (!u->addr_locked) {
		if (d.v4 && u->family == US_AF_INET)
			u->local.ip4 = d.src4;
		else if (d.v4)
			us_sock_v4mapped(d.src4, &u->local.ip6);
		else {
			u->local.ip6 = d.src6;
			u->local.scope_id =
				us_ip6_is_link_local(&d.src6) ? (uint32_t)d.ifindex + 1 : 0;
		}
	}
	u->connected = true;
	return 0;
}

/* ---- Send ------------------------------------------------------------------------ */

int us_udp_sendto(struct us_udp *u, us_time_t now, const struct us_addr *to, const uint8_t *data,
		  size_t len)
{
	if (!u)
		return -EINVAL;
	if (!data && len)
		return -EFAULT;
	struct us_stack *s = u->s;
	s->now = now;
	/* A pending error is reported once, by whichever call comes first
	 * (Linux: sock_error() in sock_alloc_send_pskb). */
	int err = us_sock_take_error(&u->q);
	if (err)
		return err;
	if (!to) {
		if (!u->connected)
			return -EDESTADDRREQ;
		to = &u->remote;
	}
	struct dest d;
	err = resolve(u, to, &d);
	if (err < 0)
		return err;
	if (len > (d.v4 ? US_UDP_MAX_PAYLOAD4 : US_UDP_MAX_PAYLOAD6))
		return -EMSGSIZE;
	err = autobind(u);
	if (err < 0)
		return err;

	uint32_t udp_len = (uint32_t)(US_UDP_HDR_LEN + len);
	struct us_pbuf *b = us_stack_alloc(s, udp_len);
	if (!b) {
		us_count(s, US_CTR_UDP_OUT_ERRORS);
		return -ENOBUFS;
	}
	uint8_t *p = us_pbuf_data(b);
	struct us_udp_hdr h = { .sport = u->local.port, .dport = d.port, .payload_len = len };
	us_udp_emit(&h, p, udp_len);
	if (len)
		memcpy(p + US_UDP_HDR_LEN, data, len);

	int rc;
	if (d.v4) {
		us_udp_csum_fill(p, udp_len,
				 us_csum_pseudo4(d.src4, d.dst4, US_IPPROTO_UDP, udp_len));
		struct us_ip_tx tx = {
			.src = d.src4,
			.dst = d.dst4,
			.proto = US_IPPROTO_UDP,
			.ttl = us_ipv4_is_multicast(d.dst4) ? 0 : u->opt.ttl,
			.tos = u->opt.tos,
			.ifindex = d.ifindex,
		};
		rc = us_ip_output(s, b, &tx);
	} else {
		us_udp_csum_fill(p, udp_len,
				 us_csum_pseudo6(&d.src6, &d.dst6.ip6, US_IPPROTO_UDP, udp_len));
		struct us_ip6_tx tx = {
			.src = d.src6,
			.dst = d.dst6.ip6,
			.next_header = US_IPPROTO_UDP,
			.hop_limit = us_ip6_is_multicast(&d.dst6.ip6) ? 0 : u->opt.ttl,
			.traffic_class = u->opt.tos,
			.ifindex = d.ifindex,
		};
		rc = us_ip6_output(s, b, &tx);
	}
	if (rc < 0) {
		us_count(s, US_CTR_UDP_OUT_ERRORS);
		return rc;
	}
	us_count(s, US_CTR_UDP_OUT);
	return (int)len;
}

/* ---- Receive ------------------------------------------------------------------------ */

int us_udp_recvfrom(struct us_udp *u, uint8_t *buf, size_t cap, struct us_addr *from)
{
	if (!u)
		return -EINVAL;
	if (!buf && cap)
		return -EFAULT;
	int err = us_sock_take_error(&u->q);
	if (err)
		return err;
	return us_sock_queue_pop(u->s, &u->q, buf, cap, from);
}

/* ---- Demultiplexing ------------------------------------------------------------------ */

/* A received datagram's addresses, as the lookup sees them. */
struct flow {
	bool v4;
	uint32_t src4, dst4;
	struct us_ip6 src6, dst6;
	uint16_t sport, dport;
	int ifindex;
};

static bool peer_matches(const struct us_udp *u, const struct flow *f)
{
	if (u->remote.port != f->sport)
		return false;
	uint32_t r4;
	if (f->v4)
		return us_sock_addr_v4(&u->remote, &r4) && r4 == f->src4;
	return u->remote.family == US_AF_INET6 && !us_sock_is_v4mapped(&u->remote.ip6) &&
	       ip6_equal(&u->remote.ip6, &f->src6);
}

/*
 * How well u matches the datagram f: -1 not at all; else 4 for a connected
 * socket (its peer sent it), + 2 for a socket bound to the destination
 * address, + 1 for a socket of the datagram's own family. *other_peer is
 * set when u would have matched but is connected to somebody else.
 */
static int score(const struct us_udp *u, const struct flow *f, bool *other_peer)
{
	if (!u->bound || u->local.port != f->dport)
		return -1;
	struct holding h = holding_of(u);
	int sc = 0;
	if (f->v4) {
		if (!h.v4 || (h.ip4 && h.ip4 != f->dst4))
			return -1;
		if (h.ip4)
			sc += 2;
		if (u->family == US_AF_INET)
			sc += 1;
	} else {
		if (!h.v6)
			return -1;
		if (!us_ip6_is_unspecified(&h.ip6)) {
			if (!ip6_equal(&h.ip6, &f->dst6))
				return -1;
			/* RFC 4007 §6: a link-local address is only itself
			 * on its own link. */
			if (h.scope && h.scope != (uint32_t)f->ifindex + 1)
				return -1;
			sc += 2;
		}
		sc += 1;
	}
	if (u->connected) {
		if (!peer_matches(u, f)) {
			*other_peer = true;
			return -1;
		}
		sc += 4;
	}
	return sc;
}

/* The socket a unicast datagram goes to, or NULL. */
static struct us_udp *lookup(struct us_stack *s, const struct flow *f, bool *other_peer)
{
	struct us_udp *best = NULL;
	int best_sc = -1;
	for (struct us_udp *u = *bucket(s, f->dport); u; u = u->hnext) {
		int sc = score(u, f, other_peer);
		if (sc > best_sc) {
			best = u;
			best_sc = sc;
		}
	}
	return best;
}

static void source_of(const struct us_udp *u, const struct flow *f, struct us_addr *from)
{
	any_addr(u->family, from);
	from->port = f->sport;
	if (f->v4 && u->family == US_AF_INET) {
		from->ip4 = f->src4;
	} else if (f->v4) {
		/* RFC 3493 §3.7: IPv4 peers of an IPv6 socket appear as
		 * IPv4-mapped IPv6 addresses. */
		us_sock_v4mapped(f->src4, &from->ip6);
	} else {
		from->ip6 = f->src6;
		if (us_ip6_is_link_local(&f->src6))
			from->scope_id = (uint32_t)f->ifindex + 1;
	}
}

static bool enqueue(struct us_stack *s, struct us_udp *u, const struct flow *f,
		    const uint8_t *data, size_t len)
{
	struct us_addr from;
	source_of(u, f, &from);
	int err = us_sock_queue_push(s, &u->q, u->opt.rcvbuf, &from, data, len);
	if (err == -ENOSPC)
		us_drop(s, US_CTR_UDP_DROP_RCVBUF_FULL, f->ifindex, "socket receive buffer full");
	else if (err < 0)
		us_drop(s, US_CTR_UDP_DROP_NO_BUFFER, f->ifindex, "no buffer for the datagram");
	return err == 0;
}

/*
 * A checked datagram goes to its socket(s). group: sent to a broadcast or
 * multicast address (or in a link-layer broadcast); then every matching
 * socket gets a copy and nobody answers when none matches.
 */
static int deliver(struct us_stack *s, const struct flow *f, bool group, const uint8_t *data,
		   size_t len, bool *no_socket)
{
	bool other_peer = false;
	*no_socket = false;
	if (group) {
		int taken = 0, matched = 0;
		for (struct us_udp *u = *bucket(s, f->dport); u; u = u->hnext) {
			if (score(u, f, &other_peer) < 0)
				continue;
			matched++;
			taken += enqueue(s, u, f, data, len);
		}
		if (!matched)
			return us_drop(s, US_CTR_UDP_NO_PORT_GROUP, f->ifindex,
				       "no socket for a broadcast or multicast datagram");
		if (!taken)
			return -EINVAL; /* counted by enqueue() */
		us_count(s, US_CTR_UDP_IN_DELIVERED);
		return 0;
	}
	struct us_udp *u = lookup(s, f, &other_peer);
	if (!u) {
		*no_socket = true;
		if (other_peer)
			return us_drop(s, US_CTR_UDP_DROP_OTHER_PEER, f->ifindex,
				       "datagram from another peer than the socket's");
		return us_drop(s, US_CTR_UDP_NO_PORT, f->ifindex, "no socket on the port");
	}
	if (!enqueue(s, u, f, data, len))
		return -EINVAL;
	us_count(s, US_CTR_UDP_IN_DELIVERED);
	return 0;
}

/* RFC 768: the header's Length must fit what IP delivered. */
static int header_drop(struct us_stack *s, struct us_iface *ifc, int err)
{
	if (err == US_WIRE_TRUNCATED)
		return us_drop(s, US_CTR_UDP_DROP_TRUNCATED, ifc->index,
			       "shorter than a UDP header");
	return us_drop(s, US_CTR_UDP_DROP_BAD_LENGTH, ifc->index, us_wire_strerror(err));
}

int us_udp_input4(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		  const uint8_t *pkt, size_t len, bool link_bcast)
{
	us_count(s, US_CTR_UDP_IN);
	struct us_udp_hdr h;
	int err = us_udp_parse(ip->payload, ip->payload_len, &h);
	if (err != US_WIRE_OK)
		return header_drop(s, ifc, err);
	/* RFC 1122 §4.1.3.4: a non-zero invalid checksum MUST be discarded
	 * silently; zero means the sender computed none (RFC 768). */
	uint32_t pseudo = us_csum_pseudo4(ip->src, ip->dst, US_IPPROTO_UDP, h.length);
	if (!us_rx_csum_trusted(s) && !us_udp_csum_ok(ip->payload, h.length, pseudo))
		return us_drop(s, US_CTR_UDP_DROP_BAD_CHECKSUM, ifc->index, "bad UDP checksum");

	struct flow f = { .v4 = true, .src4 = ip->src, .dst4 = ip->dst, .sport = h.sport,
			  .dport = h.dport, .ifindex = ifc->index };
	bool group = link_bcast || us_ip_is_group(s, ip->dst);
	bool no_socket;
	int rc = deliver(s, &f, group, h.payload, h.payload_len, &no_socket);
	/* RFC 1122 §4.1.3.1: Port Unreachable for a unicast datagram nobody
	 * takes (RFC 1122 §3.2.2: never about a broadcast). */
	if (no_socket)
		us_icmp_error(s, US_ICMP4_DEST_UNREACH, US_ICMP4_UNREACH_PORT, 0, pkt, len,
			      link_bcast);
	return rc;
}

int us_udp_input6(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		  const uint8_t *udp, size_t udp_len, const uint8_t *pkt, size_t len,
		  bool link_mcast)
{
	us_count(s, US_CTR_UDP_IN);
	struct us_udp_hdr h;
	int err = us_udp_parse(udp, udp_len, &h);
	if (err != US_WIRE_OK)
		return header_drop(s, ifc, err);
	/* RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing
	 * a zero checksum and should log the error." */
	if (h.checksum == 0 && !us_rx_csum_trusted(s))
		return us_drop(s, US_CTR_UDP_DROP_ZERO_CHECKSUM6, ifc->index,
			       "zero UDP checksum over IPv6");
	/* Checked here, or by the kernel that vouches for it. */
	uint32_t pseudo = us_csum_pseudo6(&ip->src, &ip->dst, US_IPPROTO_UDP, h.length);
	if (!us_rx_csum_trusted(s) && !us_udp_csum_ok(udp, h.length, pseudo))
		return us_drop(s, US_CTR_UDP_DROP_BAD_CHECKSUM, ifc->index, "bad UDP checksum");

	struct flow f = { .v4 = false, .src6 = ip->src, .dst6 = ip->dst, .sport = h.sport,
			  .dport = h.dport, .ifindex = ifc->index };
	bool group = link_mcast || us_ip6_is_multicast(&ip->dst);
	bool no_socket;
	int rc = deliver(s, &f, group, h.payload, h.payload_len, &no_socket);
	/* RFC 4443 §3.1: Destination Unreachable code 4 "if the transport
	 * protocol (e.g., UDP) has no listener"; never about multicast (RFC
	 * 4443 §2.4 (e.3)). */
	if (no_socket)
		us_ip6_icmp_error_on(s, ifc, US_ICMP6_DEST_UNREACH, US_ICMP6_UNREACH_PORT, 0, pkt,
				     len, link_mcast);
	return rc;
}

/* ---- ICMP errors ------------------------------------------------------------------------ */

/* What an error means to the application, and whether it is "hard": Linux's
 * icmp_err_convert[] and __udp4_lib_err(). */
struct err_map {
	int err;
	bool hard;
};

static struct err_map map_icmp4(uint8_t type, uint8_t code)
{
	static const struct err_map unreach[16] = {
		[US_ICMP4_UNREACH_NET] = { ENETUNREACH, false },
		[US_ICMP4_UNREACH_HOST] = { EHOSTUNREACH, false },
		[US_ICMP4_UNREACH_PROTO] = { ENOPROTOOPT, true },
		[US_ICMP4_UNREACH_PORT] = { ECONNREFUSED, true },
		/* We send with DF clear: a "fragmentation needed" only
		 * teaches the path MTU (ip_icmp.c). */
		[US_ICMP4_UNREACH_FRAG_NEEDED] = { EMSGSIZE, false },
		[US_ICMP4_UNREACH_SRC_ROUTE] = { EOPNOTSUPP, false },
		[6] = { ENETUNREACH, true },   /* destination network unknown */
		[7] = { EHOSTDOWN, true },     /* destination host unknown */
		[8] = { ENONET, true },        /* source host isolated */
		[9] = { ENETUNREACH, true },   /* network administratively prohibited */
		[10] = { EHOSTUNREACH, true }, /* host administratively prohibited */
		[11] = { ENETUNREACH, false }, /* network unreachable for TOS */
		[12] = { EHOSTUNREACH, false }, /* host unreachable for TOS */
		[US_ICMP4_UNREACH_ADMIN] = { EHOSTUNREACH, true },
		[14] = { EHOSTUNREACH, true }, /* host precedence violation */
		[15] = { EHOSTUNREACH, true }, /* precedence cutoff in effect */
	};
	switch (type) {
	case US_ICMP4_DEST_UNREACH:
		if (code < 16)
			return unreach[code];
		return (struct err_map){ EHOSTUNREACH, false };
	case US_ICMP4_PARAM_PROBLEM:
		return (struct err_map){ EPROTO, true };
	case US_ICMP4_TIME_EXCEEDED:
	default:
		return (struct err_map){ EHOSTUNREACH, false };
	}
}

/* Linux's icmpv6_err_convert(). */
static struct err_map map_icmp6(uint8_t type, uint8_t code)
{
	static const struct err_map unreach[7] = {
		[US_ICMP6_UNREACH_NOROUTE] = { ENETUNREACH, false },
		[US_ICMP6_UNREACH_ADMIN] = { EACCES, true },
		[US_ICMP6_UNREACH_BEYOND_SCOPE] = { EHOSTUNREACH, false },
		[US_ICMP6_UNREACH_ADDR] = { EHOSTUNREACH, false },
		[US_ICMP6_UNREACH_PORT] = { ECONNREFUSED, true },
		[US_ICMP6_UNREACH_SRC_POLICY] = { EACCES, true },
		[US_ICMP6_UNREACH_REJECT_ROUTE] = { EACCES, true },
	};
	switch (type) {
	case US_ICMP6_DEST_UNREACH:
		if (code < 7)
			return unreach[code];
		return (struct err_map){ EPROTO, true };
	case US_ICMP6_PACKET_TOO_BIG:
		return (struct err_map){ EMSGSIZE, false };
	case US_ICMP6_PARAM_PROBLEM:
		return (struct err_map){ EPROTO, true };
	case US_ICMP6_TIME_EXCEEDED:
		return (struct err_map){ EHOSTUNREACH, false };
	default:
		return (struct err_map){ EPROTO, false };
	}
}

/*
 * The datagram an error quotes went from us to the peer; the socket that
 * sent it is the one a datagram coming back the other way would reach
 * (Linux looks it up the same way).
 */
static void error_to_socket(struct us_stack *s, const struct flow *back, struct err_map m)
{
	bool other_peer = false;
	struct us_udp *u = lookup(s, back, &other_peer);
	if (!u) {
		us_count(s, US_CTR_UDP_ICMP_ERR_NO_SOCKET);
		return;
	}
	if (!u->connected) {
		us_count(s, US_CTR_UDP_ICMP_ERR_UNCONNECTED);
		return;
	}
	if (!m.hard) {
		us_count(s, US_CTR_UDP_ICMP_ERR_SOFT);
		return;
	}
	us_count(s, US_CTR_UDP_ICMP_ERR_REPORTED);
	us_sock_set_error(&u->q, -m.err);
}

void us_udp_icmp_error4(struct us_stack *s, uint8_t type, uint8_t code,
			const struct us_ipv4_hdr *q)
{
	/* RFC 792: the quote holds "the first 64 bits of the original
	 * datagram's data", the whole UDP header. */
	if (q->frag_offset != 0 || q->payload_len < US_UDP_HDR_LEN) {
		us_count(s, US_CTR_UDP_ICMP_ERR_BAD_QUOTE);
		return;
	}
	struct flow back = {
		.v4 = true,
		.src4 = q->dst,
		.dst4 = q->src,
		.sport = us_get_be16(q->payload + 2),
		.dport = us_get_be16(q->payload),
		.ifindex = -1,
	};
	error_to_socket(s, &back, map_icmp4(type, code));
}

void us_udp_icmp_error6(struct us_stack *s, uint8_t type, uint8_t code,
			const struct us_ipv6_hdr *q, const uint8_t *upper, size_t len)
{
	if (len < US_UDP_HDR_LEN) {
		us_count(s, US_CTR_UDP_ICMP_ERR_BAD_QUOTE);
		return;
	}
	struct us_iface *owner = us_ip6_owner(s, &q->src);
	struct flow back = {
		.v4 = false,
		.src6 = q->dst,
		.dst6 = q->src,
		.sport = us_get_be16(upper + 2),
		.dport = us_get_be16(upper),
		.ifindex = owner ? owner->index : -1,
	};
	error_to_socket(s, &back, map_icmp6(type, code));
}

/* SPDX-License-Identifier: MIT */
/*
 * tcp.c - TCP's user calls and bookkeeping: OPEN (RFC 9293 §3.10.1), SEND
 * (§3.10.2), RECEIVE (§3.10.3), CLOSE (§3.10.4), ABORT (§3.10.5), STATUS
 * (§3.10.6); set_state(); the tables that find a TCB for a segment; the
 * listener's SYN and accept queues; Initial Sequence Numbers (RFC 6528) and
 * ephemeral ports (RFC 6056).
 *
 * Read tcp.h first. SEGMENT ARRIVES is in tcp_input.c, output in
 * tcp_output.c, the timers in tcp_timer.c.
 *
 * Who owns a TCB. The user, from us_tcp_open() or us_tcp_accept() until
 * us_tcp_close()/us_tcp_abort(); then the core ("orphan") until it reaches
 * CLOSED. A child created by a SYN to a listener belongs to the listener
 * until accepted. A TCB the user owns stays allocated in CLOSED (after a
 * reset or a timeout) until the user closes it, so the pointer stays good.
 */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "ip.h"
#include "ip6.h"
#include "rand.h"
#include "stack.h"
#include "tcp_seq.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

static const char *const state_names[US_TCP_NSTATES] = {
	[US_TCP_CLOSED] = "CLOSED",	      [US_TCP_LISTEN] = "LISTEN",
	[US_TCP_SYN_SENT] = "SYN_SENT",	      [US_TCP_SYN_RCVD] = "SYN_RCVD",
	[US_TCP_ESTABLISHED] = "ESTABLISHED", [US_TCP_FIN_WAIT_1] = "FIN_WAIT_1",
	[US_TCP_FIN_WAIT_2] = "FIN_WAIT_2",   [US_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[US_TCP_CLOSING] = "CLOSING",	      [US_TCP_LAST_ACK] = "LAST_ACK",
	[US_TCP_TIME_WAIT] = "TIME_WAIT",
};
_Static_assert(sizeof state_names / sizeof state_names[0] == US_TCP_NSTATES,
	       "one name per TCP state");

const char *us_tcp_state_name(int state)
{
	if (state < 0 || state >= US_TCP_NSTATES)
		return "?";
	return state_names[state];
}

/* RFC 9293 §3.3.2: the states after the handshake, where both sides know
 * each other's sequence numbers. */
bool us_tcp_is_synchronized(enum us_tcp_state st)
{
	switch (st) {
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
		return false;
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		return true;
	}
	return false;
}

/* ---- Rings ------------------------------------------------------------------ */

static int ring_alloc(struct us_tcp_ring *r, uint32_t cap)
{
	r->buf = malloc(cap);
	if (!r->buf)
		return -ENOMEM;
	r->cap = cap;
	r->head = 0;
	r->len = 0;
	return 0;
}

static void ring_free(struct us_tcp_ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
}

void us_tcp_ring_read(const struct us_tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
	uint32_t at = (r->head + off) % r->cap;
	uint32_t first = r->cap - at < n ? r->cap - at : n;
	memcpy(out, r->buf + at, first);
	memcpy(out + first, r->buf, n - first);
}

uint32_t us_tcp_ring_read_csum(const struct us_tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n,
			       uint32_t sum)
{
	uint32_t at = (r->head + off) % r->cap;
	uint32_t first = r->cap - at < n ? r->cap - at : n;
	if (first == n)
		return us_csum_copy(out, r->buf + at, n, sum);
	/* The wrap: the second piece starts at offset `first` of the data,
	 * which may be odd (RFC 1071 §2(B), us_csum_add_at()). */
	sum = us_csum_copy(out, r->buf + at, first, sum);
	uint32_t s2 = us_csum_copy(out + first, r->buf, n - first, 0);
	return us_csum_add_at(sum, s2, first);
}

void us_tcp_ring_write(struct us_tcp_ring *r, uint32_t off, const uint8_t *in, uint32_t n)
{
	uint32_t at = (r->head + off) % r->cap;
	uint32_t first = r->cap - at < n ? r->cap - at : n;
	memcpy(r->buf + at, in, first);
	memcpy(r->buf, in + first, n - first);
}

uint32_t us_tcp_ring_write_csum(struct us_tcp_ring *r, uint32_t off, const uint8_t *in, uint32_t n,
				uint32_t sum)
{
	uint32_t at = (r->head + off) % r->cap;
	uint32_t first = r->cap - at < n ? r->cap - at : n;
	if (first == n)
		return us_csum_copy(r->buf + at, in, n, sum);
	/* As in us_tcp_ring_read_csum(): the piece after the wrap starts at
	 * offset `first` of the data. */
	sum = us_csum_copy(r->buf + at, in, first, sum);
	uint32_t s2 = us_csum_copy(r->buf, in + first, n - first, 0);
	return us_csum_add_at(sum, s2, first);
}

void us_tcp_ring_drop(struct us_tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	r->head = r->cap ? (r->head + n) % r->cap : 0;
	r->len -= n;
}

uint32_t us_tcp_rcv_cap(const struct us_tcp *t)
{
	return t->rcvq.buf ? t->rcvq.cap : t->opt.rcvbuf;
}

static uint32_t snd_cap(const struct us_tcp *t)
{
	return t->sndq.buf ? t->sndq.cap : t->opt.sndbuf;
}

uint32_t us_tcp_rcv_space(const struct us_tcp *t)
{
	return us_tcp_rcv_cap(t) - t->rcvq.len;
}

/* ---- Addresses and tables ------------------------------------------------------ */

static void map4(uint32_t ip4, struct us_ip6 *out)
{
	us_sock_v4mapped(ip4, out);
}

static bool ip6_eq(const struct us_ip6 *a, const struct us_ip6 *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* The wildcard local address of the endpoint's kind. */
static bool local_is_any(const struct us_tcp *t)
{
	static const struct us_ip6 zero;
	if (ip6_eq(&t->tu.laddr, &zero))
		return true;
	uint32_t v4;
	struct us_addr a = { .family = US_AF_INET6, .ip6 = t->tu.laddr };
	return us_sock_addr_v4(&a, &v4) && v4 == 0;
}

uint32_t us_tcp_keyed_hash(const struct us_stack *s, const char *tag,
			   const struct us_tcp_tuple *tu, bool ports, const uint8_t *extra,
			   size_t extra_len)
{
	uint8_t in[4 + 32 + 4 + US_TCP_HASH_EXTRA_MAX];
	size_t n = 0;
	if (tag) {
		memcpy(in, tag, 4);
		n = 4;
	}
	memcpy(in + n, tu->laddr.b, 16);
	memcpy(in + n + 16, tu->raddr.b, 16);
	n += 32;
	if (ports) {
		us_put_be16(in + n, tu->lport);
		us_put_be16(in + n + 2, tu->rport);
		n += 4;
	}
	if (extra_len > US_TCP_HASH_EXTRA_MAX)
		extra_len = US_TCP_HASH_EXTRA_MAX;
	if (extra_len)
		memcpy(in + n, extra, extra_len);
	return (uint32_t)us_siphash(s->cfg.secret, in, n + extra_len);
}

static bool tuple_eq(const struct us_tcp_tuple *a, const struct us_tcp_tuple *b)
{
	return a->lport == b->lport && a->rport == b->rport && ip6_eq(&a->laddr, &b->laddr) &&
	       ip6_eq(&a->raddr, &b->raddr);
}

/*
 * The connection table. A 4-tuple's bucket is its SipHash under the stack
 * secret (keyed, so that no one can aim many tuples at one bucket), which
 * costs more than the rest of the lookup, so it is computed as rarely as
 * it can be:
 *
 *  - the last hit: consecutive segments mostly belong to one connection
 *    (a bulk transfer, a burst of short ones), so the connection found
 *    last is compared first, by its whole tuple and family, and the hash
 *    is computed only when it is another. It is always a connection in
 *    the table (a listener never is one), and is forgotten when it leaves
 *    the table (freed, CLOSED, or a new SYN recycling its TIME_WAIT); an
 *    insert of the same tuple forgets it too, so the last hit never
 *    answers differently from a walk of the bucket.
 *  - the memo: the last tuple hashed and its bucket, so that the insert
 *    after a lookup that missed (a SYN making a child, connect() checking
 *    its tuple) does not hash again;
 *  - each TCB keeps its bucket (conn_bucket) for its removal.
 */
static uint16_t tuple_bucket(struct us_stack *s, const struct us_tcp_tuple *tu)
{
	struct us_tcp_module *m = &s->tcp;
	if (m->memo_valid && tuple_eq(&m->memo_tu, tu))
		return m->memo_bucket;
	m->memo_tu = *tu;
	m->memo_bucket =
		(uint16_t)(us_tcp_keyed_hash(s, NULL, tu, true, NULL, 0) % US_TCP_CONN_BUCKETS);
	m->memo_valid = true;
	return m->memo_bucket;
}

static void conn_insert(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	uint16_t h = tuple_bucket(s, &t->tu);
	struct us_tcp *hit = s->tcp.last_hit;
	/* The new connection is first in its bucket: a walk would find it
	 * before an older one with the same tuple. */
	if (hit && tuple_eq(&hit->tu, &t->tu))
		s->tcp.last_hit = NULL;
	t->conn_bucket = h;
	t->hnext = s->tcp.conns[h];
	s->tcp.conns[h] = t;
	t->in_conn_hash = true;
}

static void conn_remove(struct us_tcp *t)
{
	if (!t->in_conn_hash)
		return;
	struct us_stack *s = t->s;
	if (s->tcp.last_hit == t)
		s->tcp.last_hit = NULL;
	struct us_tcp **pp = &s->tcp.conns[t->conn_bucket];
	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
	t->in_conn_hash = false;
}

/*
 * A port's bucket holds its listeners first, then everything else bound
 * to a port of the bucket (connections, their children, TIME_WAITs): a
 * SYN's listener lookup stops at the first endpoint that is not listening,
 * however many connections a busy server has on its port.
 * us_tcp_set_state() keeps the order when an endpoint enters or leaves
 * LISTEN.
 */
static void port_insert(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	struct us_tcp **b = &s->tcp.ports[t->tu.lport % US_TCP_PORT_BUCKETS];
	if (t->state != US_TCP_LISTEN)
		while (*b && (*b)->state == US_TCP_LISTEN)
			b = &(*b)->pnext;
	t->pnext = *b;
	*b = t;
	t->in_port_hash = true;
}

static void port_remove(struct us_tcp *t)
{
	if (!t->in_port_hash)
		return;
	struct us_tcp **pp = &t->s->tcp.ports[t->tu.lport % US_TCP_PORT_BUCKETS];
	while (*pp && *pp != t)
		pp = &(*pp)->pnext;
	if (*pp)
		*pp = t->pnext;
	t->in_port_hash = false;
}

struct us_tcp *us_tcp_lookup(struct us_stack *s, const struct us_tcp_tuple *tu, bool v4)
{
	struct us_tcp *t = s->tcp.last_hit;
	if (t && t->v4 == v4 && tuple_eq(&t->tu, tu))
		return t;
	for (t = s->tcp.conns[tuple_bucket(s, tu)]; t; t = t->hnext) {
		if (t->v4 == v4 && tuple_eq(&t->tu, tu)) {
			s->tcp.last_hit = t;
			return t;
		}
	}
	return NULL;
}

/* May endpoint t, listening, take a segment of this family to laddr? */
static bool listener_takes(const struct us_tcp *t, const struct us_ip6 *laddr, bool v4)
{
	if (v4 && t->family == US_AF_INET6 && t->opt.v6only)
		return false;
	if (!v4 && t->family == US_AF_INET)
		return false;
	if (local_is_any(t)) {
		/* An IPv4 socket's wildcard is ::ffff:0.0.0.0; an IPv6
		 * socket's :: takes both families. */
		return t->family == US_AF_INET6 || v4;
	}
	return ip6_eq(&t->tu.laddr, laddr);
}

struct us_tcp *us_tcp_find_listener(struct us_stack *s, const struct us_tcp_tuple *tu, bool v4)
{
	struct us_tcp *best = NULL;
	for (struct us_tcp *t = s->tcp.ports[tu->lport % US_TCP_PORT_BUCKETS];
	     t && t->state == US_TCP_LISTEN; t = t->pnext) {
		if (t->tu.lport != tu->lport)
			continue;
		if (!listener_takes(t, &tu->laddr, v4))
			continue;
		/* A listener on the exact address beats a wildcard one. */
		if (!local_is_any(t))
			return t;
		if (!best || (v4 && best->family == US_AF_INET6 && t->family == US_AF_INET))
			best = t;
	}
	return best;
}

/* Do a and b hold overlapping local addresses on the same port? */
static bool overlaps(const struct us_tcp *a, const struct us_tcp *b)
{
	bool a_any = local_is_any(a), b_any = local_is_any(b);
	if (!a_any && !b_any)
		return ip6_eq(&a->tu.laddr, &b->tu.laddr);
	/* A V6ONLY wildcard and an IPv4 socket share nothing. */
	const struct us_tcp *w = a_any ? a : b, *o = a_any ? b : a;
	if (w->family == US_AF_INET6 && w->opt.v6only && o->v4)
		return false;
	if (w->family == US_AF_INET && !o->v4 && !(o->family == US_AF_INET6 && local_is_any(o) &&
						   !o->opt.v6only))
		return false;
	return true;
}

/*
 * May t take its local port? As Linux's inet_csk_bind_conflict(): another
 * endpoint with an overlapping address conflicts unless t has
 * SO_REUSEADDR and the other is in TIME_WAIT, or both have it and the
 * other is not listening.
 */
static bool port_conflict(const struct us_tcp *t, bool listening)
{
	for (struct us_tcp *o = t->s->tcp.ports[t->tu.lport % US_TCP_PORT_BUCKETS]; o;
	     o = o->pnext) {
		if (o == t || o->tu.lport != t->tu.lport || !overlaps(t, o))
			continue;
		if (t->opt.reuseaddr && o->state == US_TCP_TIME_WAIT)
			continue;
		if (listening) {
			if (o->state == US_TCP_LISTEN)
				return true;
			continue;
		}
		if (t->opt.reuseaddr && o->opt.reuseaddr && o->state != US_TCP_LISTEN)
			continue;
		return true;
	}
	return false;
}

/* Is port suitable for a connection to raddr:rport from laddr (RFC 6056
 * §2.3: "check_suitable_port")? Not when a bound or listening endpoint
 * holds it, nor when a connection with this very 4-tuple exists. */
static bool port_suitable(struct us_stack *s, const struct us_tcp_tuple *tu, uint16_t port)
{
	for (struct us_tcp *o = s->tcp.ports[port % US_TCP_PORT_BUCKETS]; o; o = o->pnext) {
		if (o->tu.lport != port)
			continue;
		if (!o->in_conn_hash)
			return false;
		if (o->tu.rport == tu->rport && ip6_eq(&o->tu.raddr, &tu->raddr))
			return false;
	}
	return true;
}

/*
 * RFC 6056 §3.3.3, Algorithm 3, "Simple Hash-Based Port Selection":
 *     offset = F(local_IP, remote_IP, remote_port, secret_key);
 *     port = min_ephemeral + (next_ephemeral + offset) % num_ephemeral;
 * with F a SipHash-2-4 under the stack secret, so a peer cannot guess the
 * ports we use towards others, and next_ephemeral a draw counter.
 */
static int pick_port(struct us_stack *s, const struct us_tcp_tuple *tu, uint16_t *port)
{
	const uint32_t num = US_UDP_EPHEMERAL_MAX - US_UDP_EPHEMERAL_MIN + 1;
	uint32_t offset = us_tcp_keyed_hash(s, "tcpe", tu, false, NULL, 0) + tu->rport;
	for (uint32_t count = 0; count < num; count++) {
		uint16_t p = (uint16_t)(US_UDP_EPHEMERAL_MIN +
					(uint32_t)((offset + s->tcp.eph_draws + count) % num));
		if (port_suitable(s, tu, p)) {
			s->tcp.eph_draws += count + 1;
			*port = p;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

/*
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), "where M is the 4 microsecond timer" and F a keyed hash
 * (SipHash-2-4 with the stack's secret, from the runtime's getrandom()).
 */
static uint32_t make_iss(struct us_stack *s, const struct us_tcp_tuple *tu)
{
	/* A tag of its own: were F the connection table's hash, a peer could
	 * read its tuples' buckets off our ISNs, and fill one bucket. */
	return (uint32_t)(s->now / 4) + us_tcp_keyed_hash(s, "isn0", tu, true, NULL, 0);
}

/* ---- State and events ---------------------------------------------------------- */

int us_tcp_events(const struct us_tcp *t)
{
	int ev = 0;
	if (t->error)
		ev |= US_EV_ERROR | US_EV_READABLE;
	switch (t->state) {
	case US_TCP_LISTEN:
		if (t->acceptq)
			ev |= US_EV_READABLE;
		break;
	case US_TCP_CLOSED:
		/* Not connected (as Linux's tcp_poll: POLLHUP in CLOSE); a
		 * connection that was, ended: a read says so at once. */
		ev |= US_EV_HUP;
		if (t->was_connected)
			ev |= US_EV_READABLE;
		break;
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
		break;
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		if (t->rcvq.len || t->eof || t->shut_rd)
			ev |= US_EV_READABLE;
		if (!t->fin_queued && snd_cap(t) - t->sndq.len >= snd_cap(t) / 4)
			ev |= US_EV_WRITABLE;
		if (t->eof && us_tcp_fin_acked(t))
			ev |= US_EV_HUP;
		break;
	}
	return ev;
}

void us_tcp_notify(struct us_tcp *t)
{
	if (t->ev)
		t->ev(t->ev_ctx, us_tcp_events(t));
}

void us_tcp_set_state(struct us_tcp *t, enum us_tcp_state st, const char *why)
{
	enum us_tcp_state old = t->state;
	t->state = st;
	if ((old == US_TCP_LISTEN) != (st == US_TCP_LISTEN) && t->in_port_hash) {
		/* Listeners lead their port's bucket (port_insert()). */
		port_remove(t);
		port_insert(t);
	}
	if (st == US_TCP_ESTABLISHED)
		t->was_connected = true;
	if (t->s->cfg.trace) {
		char buf[200];
		struct us_fmt f;
		us_fmt_init(&f, buf, sizeof buf);
		us_fmt_str(&f, "tcp ");
		us_fmt_u64(&f, t->tu.lport);
		us_fmt_str(&f, "->");
		us_fmt_u64(&f, t->tu.rport);
		us_fmt_str(&f, " ");
		us_fmt_str(&f, state_names[old]);
		us_fmt_str(&f, " -> ");
		us_fmt_str(&f, state_names[st]);
		us_fmt_str(&f, " (");
		us_fmt_str(&f, why);
		us_fmt_str(&f, ")");
		us_trace(t->s, US_TRACE_STATE, t->ifindex, buf);
	}
	us_tcp_notify(t);
}

/* ---- Life of a TCB --------------------------------------------------------- */

static struct us_tcp *tcb_new(struct us_stack *s, int family, int *err)
{
	if (s->tcp.n_conns >= US_TCP_MAX_CONNS) {
		us_count(s, US_CTR_TCP_CONN_LIMIT);
		*err = -ENOBUFS;
		return NULL;
	}
	struct us_tcp *t = calloc(1, sizeof *t);
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	t->s = s;
	t->family = family;
	t->v4 = family == US_AF_INET;
	t->ifindex = -1;
	t->state = US_TCP_CLOSED;
	us_sock_opts_init(&t->opt);
	t->opt.rcvbuf = US_TCP_RCVBUF_DEFAULT;
	t->opt.sndbuf = US_TCP_SNDBUF_DEFAULT;
	t->keepidle_s = US_TCP_KEEPIDLE_DEFAULT;
	t->keepintvl_s = US_TCP_KEEPINTVL_DEFAULT;
	t->keepcnt = US_TCP_KEEPCNT_DEFAULT;
	t->linger_s = -1;
	t->peer_mss = US_TCP_DEFAULT_MSS;
	t->rto = US_TCP_RTO_INIT;
	us_tcp_opt_defaults(t);
	t->syncookies = !s->cfg.tcp_no_syncookies;
	if (us_tcp_cc_set(t, s->cfg.tcp_cc) < 0)
		us_tcp_cc_set(t, US_TCP_CC_NEWRENO);
	t->nvp_since = US_TIME_NEVER;
	int rc = us_tcp_timer_init(t);
	if (rc < 0) {
		free(t);
		*err = rc;
		return NULL;
	}
	if (t->v4)
		map4(0, &t->tu.laddr);
	t->next_all = s->tcp.all;
	if (s->tcp.all)
		s->tcp.all->prev_all = t;
	s->tcp.all = t;
	s->tcp.n_conns++;
	return t;
}

/* Removes a child from its listener's queues. */
static void unlink_child(struct us_tcp *t)
{
	struct us_tcp *l = t->listener;
	if (!l)
		return;
	if (t->qprev)
		t->qprev->qnext = t->qnext;
	else if (t->in_accept_q)
		l->acceptq = t->qnext;
	else
		l->synq = t->qnext;
	if (t->qnext)
		t->qnext->qprev = t->qprev;
	else if (t->in_accept_q)
		l->acceptq_tail = t->qprev;
	else
		l->synq_tail = t->qprev;
	if (t->in_accept_q)
		l->accept_len--;
	else
		l->syn_len--;
	t->qnext = t->qprev = NULL;
	t->listener = NULL;
	t->in_accept_q = false;
}

static void tcb_free(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	us_tcp_cancel_timers(t); /* out of the timer heap */
	us_tcp_batch_forget(t);
	unlink_child(t);
	conn_remove(t);
	port_remove(t);
	ring_free(&t->sndq);
	ring_free(&t->rcvq);
	if (t->prev_all)
		t->prev_all->next_all = t->next_all;
	else
		s->tcp.all = t->next_all;
	if (t->next_all)
		t->next_all->prev_all = t->prev_all;
	s->tcp.n_conns--;
	free(t);
}

/* The rings come when first needed: the receive ring with the first data
 * that arrives, the send ring with the first SEND. A connection that moves
 * no data (an idle one, a half-open one) costs its TCB only, and the
 * window it offers is SO_RCVBUF all the same (us_tcp_rcv_cap()). */
int us_tcp_rcv_ring(struct us_tcp *t)
{
	if (t->rcvq.buf)
		return 0;
	return ring_alloc(&t->rcvq, t->opt.rcvbuf);
}

bool us_tcp_drop(struct us_tcp *t, int err, const char *why)
{
	us_tcp_cancel_timers(t);
	if (err)
		t->error = err;
	enum us_tcp_state old = t->state;
	/* The 4-tuple is free for others; the port is kept while the user
	 * holds the endpoint, as a closed socket still holds its bind. */
	conn_remove(t);
	if (old != US_TCP_CLOSED)
		us_tcp_set_state(t, US_TCP_CLOSED, why);
	if (t->orphan || t->listener) {
		tcb_free(t);
		return true;
	}
	return false;
}

void us_tcp_init(struct us_stack *s)
{
	memset(&s->tcp, 0, sizeof s->tcp);
}

void us_tcp_fini(struct us_stack *s)
{
	while (s->tcp.all)
		tcb_free(s->tcp.all);
	us_tcp_timer_fini(s);
}

/* ---- OPEN ------------------------------------------------------------------ */

struct us_tcp *us_tcp_open(struct us_stack *s, int family, us_sock_event_fn ev, void *ctx,
			   int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	if (!s || (family != US_AF_INET && family != US_AF_INET6)) {
		*err = -EAFNOSUPPORT;
		return NULL;
	}
	struct us_tcp *t = tcb_new(s, family, err);
	if (!t)
		return NULL;
	t->ev = ev;
	t->ev_ctx = ctx;
	return t;
}

int us_tcp_bind(struct us_tcp *t, const struct us_addr *local)
{
	if (!t || !local)
		return -EINVAL;
	if (t->bound || t->state != US_TCP_CLOSED)
		return -EINVAL;
	if (local->family != t->family)
		return -EAFNOSUPPORT;
	struct us_stack *s = t->s;
	struct us_tcp_tuple saved = t->tu;
	if (t->family == US_AF_INET) {
		/* TCP is unicast only (RFC 1122 §4.2.3.10). */
		if (local->ip4 && (!us_ip_is_local(s, local->ip4) || us_ip_is_group(s, local->ip4)))
			return -EADDRNOTAVAIL;
		map4(local->ip4, &t->tu.laddr);
		t->v4 = true;
	} else {
		uint32_t v4;
		if (us_sock_addr_v4(local, &v4)) {
			if (t->opt.v6only)
				return -EADDRNOTAVAIL;
			if (v4 && !us_ip_is_local(s, v4))
				return -EADDRNOTAVAIL;
			t->v4 = v4 != 0;
		} else if (us_ip6_is_multicast(&local->ip6)) {
			return -EADDRNOTAVAIL;
		} else {
			uint32_t scope;
			int rc = us_sock_local_ok6(s, local, &scope);
			if (rc < 0)
				return rc;
			if (scope)
				t->ifindex = (int)scope - 1;
		}
		t->tu.laddr = local->ip6;
	}
	if (local->port) {
		t->tu.lport = local->port;
		if (port_conflict(t, false)) {
			t->tu = saved;
			t->ifindex = -1;
			return -EADDRINUSE;
		}
	} else {
		/* An ephemeral port no one holds (RFC 6056 ranges). */
		struct us_tcp_tuple any = t->tu;
		uint16_t p;
		int rc = -EADDRNOTAVAIL;
		for (int tries = 0; tries < 64 && rc < 0; tries++) {
			if (pick_port(s, &any, &p) < 0)
				break;
			t->tu.lport = p;
			if (!port_conflict(t, false))
				rc = 0;
		}
		if (rc < 0) {
			t->tu = saved;
			return rc;
		}
	}
	t->bound = true;
	port_insert(t);
	return 0;
}

int us_tcp_listen(struct us_tcp *t, us_time_t now, int backlog)
{
	if (!t)
		return -EINVAL;
	t->s->now = now;
	if (t->state != US_TCP_CLOSED && t->state != US_TCP_LISTEN)
		return -EINVAL;
	if (t->was_connected)
		return -EINVAL;
	if (backlog < 1)
		backlog = 1;
	if (backlog > US_TCP_MAX_BACKLOG)
		backlog = US_TCP_MAX_BACKLOG;
	if (t->state == US_TCP_LISTEN) {
		t->backlog = backlog;
		return 0;
	}
	if (!t->bound) {
		struct us_addr any = { .family = t->family };
		int rc = us_tcp_bind(t, &any);
		if (rc < 0)
			return rc;
	}
	if (port_conflict(t, true))
		return -EADDRINUSE;
	t->backlog = backlog;
	us_tcp_set_state(t, US_TCP_LISTEN, "passive OPEN");
	return 0;
}

/* Where a connection to raddr goes from: the route's source address and
 * interface, unless bound to an address. */
static int route_connection(struct us_tcp *t, const struct us_addr *remote)
{
	struct us_stack *s = t->s;
	uint32_t r4;
	bool to_v4 = us_sock_addr_v4(remote, &r4);
	if (t->family == US_AF_INET && remote->family != US_AF_INET)
		return -EAFNOSUPPORT;
	if (t->family == US_AF_INET6 && to_v4 && t->opt.v6only)
		return -ENETUNREACH;
	if (remote->port == 0)
		return -EINVAL;
	if (to_v4) {
		if (us_ip_is_group(s, r4) || r4 == 0)
			return -ENETUNREACH;
		uint32_t l4 = 0;
		struct us_addr la = { .family = US_AF_INET6, .ip6 = t->tu.laddr };
		bool local_v4 = us_sock_addr_v4(&la, &l4);
		if (t->bound && !local_is_any(t) && !local_v4)
			return -ENETUNREACH;
		struct us_iface *ifc;
		uint32_t next_hop, src;
		if (us_ip_route(s, r4, &ifc, &next_hop, &src) < 0)
			return -ENETUNREACH;
		if (!l4)
			map4(src, &t->tu.laddr);
		map4(r4, &t->tu.raddr);
		t->ifindex = ifc->index;
		t->v4 = true;
		t->adv_mss = (uint16_t)(ifc->mtu - US_IPV4_HDR_LEN - US_TCP_HDR_LEN);
		return 0;
	}
	if (us_ip6_is_multicast(&remote->ip6) || us_ip6_is_unspecified(&remote->ip6))
		return -ENETUNREACH;
	if (t->bound && !local_is_any(t)) {
		struct us_addr la = { .family = US_AF_INET6, .ip6 = t->tu.laddr };
		uint32_t dummy;
		if (us_sock_addr_v4(&la, &dummy))
			return -ENETUNREACH;
	}
	struct us_addr bound = { .family = US_AF_INET6, .ip6 = t->tu.laddr };
	if (t->ifindex >= 0)
		bound.scope_id = (uint32_t)t->ifindex + 1;
	int ifindex;
	struct us_ip6 src;
	int rc = us_sock_route6(s, &bound, remote, &ifindex, &src);
	if (rc < 0)
		return rc;
	t->tu.laddr = src;
	t->tu.raddr = remote->ip6;
	t->v4 = false;
	struct us_iface *ifc = NULL;
	if (ifindex >= 0)
		ifc = us_iface_get(s, ifindex);
	if (!ifc)
		ifc = us_ip6_owner(s, &src);
	if (!ifc)
		return -ENETUNREACH;
	t->ifindex = us_ip6_is_link_local(&remote->ip6) ? ifc->index : ifindex;
	t->adv_mss = (uint16_t)(ifc->mtu - US_IPV6_HDR_LEN - US_TCP_HDR_LEN);
	return 0;
}

/* The send variables of a new connection, our side (RFC 9293 §3.4.1). */
static void start_sequence(struct us_tcp *t)
{
	t->iss = make_iss(t->s, &t->tu);
	t->snd_una = t->iss;
	t->snd_nxt = t->iss;
	t->snd_max = t->iss;
	t->snd_buf_seq = t->iss + 1;
	t->rcv_adv = 0;
	/* RFC 6582 §3.2 (1): "When the TCP protocol control block is
	 * initialized, recover is set to the initial send sequence number." */
	t->recover = t->iss;
	us_tcp_route(t); /* the initial window takes the MSS from it */
	us_tcp_start_cwnd(t);
}

int us_tcp_connect(struct us_tcp *t, us_time_t now, const struct us_addr *remote)
{
	if (!t || !remote)
		return -EINVAL;
	struct us_stack *s = t->s;
	s->now = now;
	switch (t->state) {
	case US_TCP_CLOSED:
		break;
	case US_TCP_LISTEN:
		return -EINVAL;
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
		return -EALREADY;
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		return -EISCONN;
	}
	if (t->was_connected)
		return -EISCONN; /* a connection that ended is not reused */
	if (remote->family != US_AF_INET && remote->family != US_AF_INET6)
		return -EAFNOSUPPORT;
	struct us_tcp_tuple saved = t->tu;
	int saved_if = t->ifindex;
	int rc = route_connection(t, remote);
	if (rc == 0) {
		t->tu.rport = remote->port;
		if (!t->bound) {
			uint16_t p;
			rc = pick_port(s, &t->tu, &p);
			if (rc == 0)
				t->tu.lport = p;
		} else if (us_tcp_lookup(s, &t->tu, t->v4)) {
			rc = -EADDRNOTAVAIL;
		}
	}
	if (rc < 0) {
		t->tu = saved;
		t->ifindex = saved_if;
		return rc;
	}
	if (!t->bound) {
		t->bound = true;
		port_insert(t);
	}
	conn_insert(t);
	start_sequence(t);
	us_count(s, US_CTR_TCP_ACTIVE_OPENS);
	us_tcp_set_state(t, US_TCP_SYN_SENT, "active OPEN");
	us_tcp_output(t);
	return -EINPROGRESS;
}

/* ---- The listener's queues ------------------------------------------------- */

uint32_t us_tcp_synq_max(const struct us_tcp *l)
{
	/* RFC 9293 §3.10.7.2 leaves the queue to the implementation. Ours
	 * holds max(backlog, 8) half-open connections: enough for a burst to
	 * a small backlog, bounded for a SYN flood (RFC 4987 §3.2). */
	return (uint32_t)(l->backlog > 8 ? l->backlog : 8);
}

bool us_tcp_synq_early_drop(struct us_tcp *l)
{
	/* RFC 4987 §3.4, "Recycling the Oldest Half-Open TCB": "once the
	 * entire space for TCBs is exhausted, an incoming SYN could overwrite
	 * the least-recently created TCB". New children join at the head, so
	 * the oldest is the tail. */
	struct us_tcp *old = l->synq_tail;
	if (!old)
		return false;
	us_count(l->s, US_CTR_TCP_SYN_QUEUE_EARLY_DROPS);
	us_tcp_drop(old, 0, "SYN queue full: the oldest half-open connection recycled");
	return true;
}

void us_tcp_child_init(struct us_tcp *t, const struct us_tcp *l, const struct us_tcp_seg *seg)
{
	struct us_stack *s = l->s;
	t->opt = l->opt;
	t->nodelay = l->nodelay;
	t->keepalive = l->keepalive;
	t->keepidle_s = l->keepidle_s;
	t->keepintvl_s = l->keepintvl_s;
	t->keepcnt = l->keepcnt;
	t->linger_s = l->linger_s;
	t->want_wscale = l->want_wscale;
	t->want_ts = l->want_ts;
	t->want_sack = l->want_sack;
	t->want_ecn = l->want_ecn;
	us_tcp_cc_set(t, l->cc_algo);
	t->nvp_since = US_TIME_NEVER;
	t->tu = seg->tu;
	t->v4 = seg->v4;
	t->bound = true;
	struct us_iface *ifc = us_iface_get(s, seg->ifindex);
	t->ifindex = seg->v4 || !us_ip6_is_link_local(&seg->tu.raddr) ? -1 : seg->ifindex;
	uint32_t mtu = ifc ? ifc->mtu : 1500;
	t->adv_mss = (uint16_t)(mtu - (seg->v4 ? US_IPV4_HDR_LEN : US_IPV6_HDR_LEN) -
				US_TCP_HDR_LEN);
}

struct us_tcp *us_tcp_new_child(struct us_tcp *l, const struct us_tcp_seg *seg, bool cookie)
{
	struct us_stack *s = l->s;
	/* Beyond the bound the SYN is dropped and counted (the peer retries);
	 * listen_arrives() first sends a SYN cookie or recycles the oldest
	 * entry. A valid cookie ACK makes its child whatever the bound. */
	if (!cookie && l->syn_len >= us_tcp_synq_max(l)) {
		us_drop(s, US_CTR_TCP_SYN_QUEUE_FULL, seg->ifindex, "SYN queue full");
		return NULL;
	}
	int err;
	struct us_tcp *t = tcb_new(s, l->family, &err);
	if (!t) {
		us_drop(s, US_CTR_TCP_DROP_NO_MEMORY, seg->ifindex, "no TCB for a SYN");
		return NULL;
	}
	us_tcp_child_init(t, l, seg);
	/* No buffers yet: a half-open connection (a SYN flood is made of
	 * them) costs its TCB only; us_tcp_child_established() gives it its
	 * rings. */
	port_insert(t);
	conn_insert(t);
	start_sequence(t);
	/* Into the SYN queue, at its head (the tail is the oldest). */
	t->listener = l;
	t->qnext = l->synq;
	if (l->synq)
		l->synq->qprev = t;
	else
		l->synq_tail = t;
	l->synq = t;
	l->syn_len++;
	return t;
}

bool us_tcp_child_established(struct us_tcp *t)
{
	struct us_tcp *l = t->listener;
	if (!l)
		return true;
	if (l->accept_len >= (uint32_t)l->backlog) {
		/* As Linux (tcp_abort_on_overflow off): the final ACK is
		 * dropped, the child stays in SYN_RCVD and its SYN-ACK is sent
		 * again, so it completes once the application accepts. */
		us_drop(t->s, US_CTR_TCP_LISTEN_OVERFLOW, -1, "accept queue full");
		return false;
	}
	/* From the SYN queue to the tail of the accept queue. */
	if (t->qprev)
		t->qprev->qnext = t->qnext;
	else
		l->synq = t->qnext;
	if (t->qnext)
		t->qnext->qprev = t->qprev;
	else
		l->synq_tail = t->qprev;
	l->syn_len--;
	t->qnext = NULL;
	t->qprev = l->acceptq_tail;
	if (l->acceptq_tail)
		l->acceptq_tail->qnext = t;
	else
		l->acceptq = t;
	l->acceptq_tail = t;
	l->accept_len++;
	t->in_accept_q = true;
	us_count(t->s, US_CTR_TCP_PASSIVE_OPENS);
	us_tcp_notify(l);
	return true;
}

struct us_tcp *us_tcp_accept(struct us_tcp *l, us_sock_event_fn ev, void *ctx,
			     struct us_addr *peer, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	if (!l || l->state != US_TCP_LISTEN) {
		*err = -EINVAL;
		return NULL;
	}
	struct us_tcp *t = l->acceptq;
	if (!t) {
		*err = -EAGAIN;
		return NULL;
	}
	unlink_child(t);
	t->ev = ev;
	t->ev_ctx = ctx;
	if (peer)
		us_tcp_remote(t, peer);
	*err = 0;
	return t;
}

/* ---- SEND and RECEIVE -------------------------------------------------------- */

int us_tcp_send(struct us_tcp *t, us_time_t now, const uint8_t *data, size_t len)
{
	if (!t)
		return -EINVAL;
	if (!data && len)
		return -EFAULT;
	t->s->now = now;
	if (t->error) {
		int e = t->error;
		t->error = 0;
		return e;
	}
	switch (t->state) {
	case US_TCP_CLOSED:
		return t->was_connected ? -EPIPE : -ENOTCONN;
	case US_TCP_LISTEN:
		return -ENOTCONN;
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
	case US_TCP_ESTABLISHED:
	case US_TCP_CLOSE_WAIT:
		/* RFC 9293 §3.10.2: in SYN-SENT and SYN-RECEIVED "Queue the
		 * data for transmission after entering ESTABLISHED state". */
		break;
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		/* "error: connection closing" */
		return -EPIPE;
	}
	if (t->fin_queued)
		return -EPIPE;
	if (!t->sndq.buf && ring_alloc(&t->sndq, t->opt.sndbuf) < 0)
		return -ENOBUFS;
	uint32_t room = t->sndq.cap - t->sndq.len;
	if (room == 0)
		return -EAGAIN;
	uint32_t n = len < room ? (uint32_t)len : room;
	if (n > INT32_MAX)
		n = INT32_MAX;
	us_tcp_ring_write(&t->sndq, t->sndq.len, data, n);
	t->sndq.len += n;
	us_tcp_output(t);
	return (int)n;
}

size_t us_tcp_readable(const struct us_tcp *t)
{
	return t && !t->shut_rd ? t->rcvq.len : 0;
}

/* The application took n bytes (n <= rcvq.len) out of the receive ring. */
static void consumed(struct us_tcp *t, uint32_t n)
{
	uint32_t old_wnd = us_tcp_rcv_space(t);
	us_tcp_ring_drop(&t->rcvq, n);
	/* RFC 1122 §4.2.3.3: reading opens the window; tell the peer when it
	 * has opened by enough to matter (at least two full segments, or half
	 * the largest window we can offer), or when it was closed. The largest
	 * window is the buffer, or less without window scaling: a threshold
	 * above it would never be reached, and the sender would wait for a
	 * delayed ACK. In a batch the update waits for its end, so that a
	 * reply carries it (us_tcp_defer_ack()). */
	if (us_tcp_is_synchronized(t->state) && !t->eof) {
		uint32_t mss = t->adv_mss ? t->adv_mss : US_TCP_DEFAULT_MSS;
		uint32_t edge = t->rcv_nxt + us_tcp_rcv_window(t);
		uint32_t grown = seq_gt(edge, t->rcv_adv) ? edge - t->rcv_adv : 0;
		uint64_t max_win = (uint64_t)US_TCP_MAX_WIN << (t->wscale_ok ? t->rcv_wscale : 0);
		if (max_win > us_tcp_rcv_cap(t))
			max_win = us_tcp_rcv_cap(t);
		uint32_t thresh = 2 * mss < max_win / 2 ? 2 * mss : (uint32_t)(max_win / 2);
		if ((grown >= thresh || (old_wnd < mss && grown > 0)) && !us_tcp_defer_ack(t)) {
			t->ack_now = true;
			us_tcp_output(t);
		}
	}
}

size_t us_tcp_peek(const struct us_tcp *t, const uint8_t **data)
{
	*data = NULL;
	if (!t || t->shut_rd || !t->rcvq.len)
		return 0;
	const struct us_tcp_ring *r = &t->rcvq;
	*data = r->buf + r->head;
	return r->cap - r->head < r->len ? r->cap - r->head : r->len;
}

int us_tcp_consume(struct us_tcp *t, us_time_t now, size_t n)
{
	if (!t || t->shut_rd || n > t->rcvq.len || n > INT32_MAX)
		return -EINVAL;
	t->s->now = now;
	if (n)
		consumed(t, (uint32_t)n);
	return (int)n;
}

int us_tcp_recv(struct us_tcp *t, us_time_t now, uint8_t *buf, size_t cap)
{
	if (!t)
		return -EINVAL;
	if (!buf && cap)
		return -EFAULT;
	t->s->now = now;
	if (t->state == US_TCP_LISTEN)
		return -ENOTCONN;
	if (t->rcvq.len && !t->shut_rd && cap) {
		uint32_t n = cap < t->rcvq.len ? (uint32_t)cap : t->rcvq.len;
		if (n > INT32_MAX)
			n = INT32_MAX;
		us_tcp_ring_read(&t->rcvq, 0, buf, n);
		consumed(t, n);
		return (int)n;
	}
	if (t->error) {
		int e = t->error;
		t->error = 0;
		return e;
	}
	if (t->eof || t->shut_rd)
		return 0;
	switch (t->state) {
	case US_TCP_CLOSED:
		return t->was_connected ? 0 : -ENOTCONN;
	case US_TCP_LISTEN:
		return -ENOTCONN;
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
		return cap ? -EAGAIN : 0;
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		/* The peer's FIN is in: end of stream. */
		return 0;
	}
	return -EAGAIN;
}

/* ---- CLOSE, shutdown, ABORT ------------------------------------------------ */

/* CLOSE's FIN: queued after the data; the state that says we sent it. */
static void queue_fin(struct us_tcp *t)
{
	if (t->fin_queued)
		return;
	t->fin_queued = true;
	switch (t->state) {
	case US_TCP_SYN_RCVD:
	case US_TCP_ESTABLISHED:
		us_tcp_set_state(t, US_TCP_FIN_WAIT_1, "CLOSE");
		break;
	case US_TCP_CLOSE_WAIT:
		us_tcp_set_state(t, US_TCP_LAST_ACK, "CLOSE");
		break;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		break;
	}
	us_tcp_output(t);
}

int us_tcp_shutdown(struct us_tcp *t, us_time_t now, int how)
{
	if (!t)
		return -EINVAL;
	if (how < 0 || how > 2)
		return -EINVAL;
	t->s->now = now;
	switch (t->state) {
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
		return -ENOTCONN;
	case US_TCP_SYN_RCVD:
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		break;
	}
	if (how != 1) {
		t->shut_rd = true;
		us_tcp_ring_drop(&t->rcvq, t->rcvq.len);
	}
	if (how != 0)
		queue_fin(t);
	us_tcp_notify(t);
	return 0;
}

/* RFC 9293 §3.10.5 ABORT: "Send a reset segment: <SEQ=SND.NXT><CTL=RST>" in
 * the states where the peer knows us. */
static void send_abort_rst(struct us_tcp *t)
{
	switch (t->state) {
	case US_TCP_SYN_RCVD:
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
		us_tcp_send_rst(t);
		if (t->state == US_TCP_ESTABLISHED || t->state == US_TCP_CLOSE_WAIT)
			us_count(t->s, US_CTR_TCP_ESTAB_RESETS);
		break;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		break;
	}
}

/* A listener going away resets the connections that wait in it. */
static void reset_children(struct us_tcp *l)
{
	while (l->synq || l->acceptq) {
		struct us_tcp *c = l->acceptq ? l->acceptq : l->synq;
		send_abort_rst(c);
		us_tcp_drop(c, -ECONNABORTED, "listener closed");
	}
}

void us_tcp_abort(struct us_tcp *t, us_time_t now)
{
	if (!t)
		return;
	t->s->now = now;
	t->ev = NULL;
	t->orphan = true;
	if (t->state == US_TCP_LISTEN)
		reset_children(t);
	send_abort_rst(t);
	if (t->state == US_TCP_CLOSED) {
		tcb_free(t);
		return;
	}
	us_tcp_drop(t, 0, "ABORT");
}

void us_tcp_close(struct us_tcp *t, us_time_t now)
{
	if (!t)
		return;
	struct us_stack *s = t->s;
	s->now = now;
	/* RFC 1122 §4.2.2.13: "If such a host issues a CLOSE call while
	 * received data is still pending in TCP, or if new data is received
	 * after CLOSE is called, its TCP SHOULD send a RST to show that data
	 * was lost." SO_LINGER with a zero time asks for the same. */
	if (t->rcvq.len > 0 || t->linger_s == 0) {
		us_tcp_abort(t, now);
		return;
	}
	t->ev = NULL;
	t->orphan = true;
	switch (t->state) {
	case US_TCP_CLOSED:
		tcb_free(t);
		return;
	case US_TCP_LISTEN:
		reset_children(t);
		us_tcp_drop(t, 0, "CLOSE");
		return;
	case US_TCP_SYN_SENT:
		/* "Delete the TCB and return 'error: closing' responses to any
		 * queued SENDs, or RECEIVEs." */
		us_tcp_drop(t, 0, "CLOSE");
		return;
	case US_TCP_SYN_RCVD:
	case US_TCP_ESTABLISHED:
	case US_TCP_CLOSE_WAIT:
		queue_fin(t);
		return;
	case US_TCP_FIN_WAIT_2:
		if (t->t_close == US_TIME_NEVER)
			us_tcp_timer_set(t, US_TCP_T_CLOSE, s->now + US_TCP_FIN_WAIT_2_TIMEOUT);
		return;
	case US_TCP_FIN_WAIT_1:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		/* Closing already: it finishes on its own. */
		return;
	}
}

/* ---- STATUS and options ------------------------------------------------------ */

int us_tcp_state(const struct us_tcp *t)
{
	return t ? (int)t->state : -EINVAL;
}

int us_tcp_take_error(struct us_tcp *t)
{
	if (!t)
		return -EINVAL;
	int e = t->error;
	t->error = 0;
	return e;
}

/* The SYN announced a window (and its scale) from the buffer sizes. */
static bool buffers_fixed(const struct us_tcp *t)
{
	return t->state != US_TCP_CLOSED && t->state != US_TCP_LISTEN;
}

int us_tcp_setopt(struct us_tcp *t, enum us_sock_opt opt, int value)
{
	if (!t)
		return -EINVAL;
	switch (opt) {
	case US_OPT_BROADCAST:
		return -ENOPROTOOPT;
	case US_OPT_RCVBUF:
	case US_OPT_SNDBUF:
		/* Fixed once a SYN has told the peer the window. */
		if (buffers_fixed(t))
			return -EISCONN;
		return us_sock_setopt(&t->opt, t->family, t->bound, opt, value);
	case US_OPT_REUSEADDR:
	case US_OPT_TTL:
	case US_OPT_TOS:
	case US_OPT_V6ONLY:
		return us_sock_setopt(&t->opt, t->family, t->bound, opt, value);
	case US_OPT_NODELAY:
		t->nodelay = value != 0;
		if (t->nodelay)
			us_tcp_output(t);
		return 0;
	case US_OPT_KEEPALIVE:
		t->keepalive = value != 0;
		us_tcp_arm_keepalive(t);
		return 0;
	case US_OPT_KEEPIDLE:
	case US_OPT_KEEPINTVL:
		/* Linux's bounds: 1 .. MAX_TCP_KEEPIDLE (32767). */
		if (value < 1 || value > 32767)
			return -EINVAL;
		if (opt == US_OPT_KEEPIDLE)
			t->keepidle_s = (uint32_t)value;
		else
			t->keepintvl_s = (uint32_t)value;
		us_tcp_arm_keepalive(t);
		return 0;
	case US_OPT_KEEPCNT:
		if (value < 1 || value > 127)
			return -EINVAL;
		t->keepcnt = (uint32_t)value;
		return 0;
	case US_OPT_LINGER:
		if (value < -1)
			return -EINVAL;
		t->linger_s = value;
		return 0;
	case US_OPT_SYNCOOKIES:
		t->syncookies = value != 0;
		return 0;
	case US_OPT_CONGESTION:
		return us_tcp_cc_set(t, value) < 0 ? -EINVAL : 0;
	case US_OPT_WSCALE:
	case US_OPT_TIMESTAMPS:
	case US_OPT_SACK:
		/* Offered on the SYN: fixed once it has left. */
		if (t->state != US_TCP_CLOSED && t->state != US_TCP_LISTEN)
			return -EISCONN;
		if (opt == US_OPT_WSCALE)
			t->want_wscale = value != 0;
		else if (opt == US_OPT_TIMESTAMPS)
			t->want_ts = value != 0;
		else
			t->want_sack = value != 0;
		return 0;
	case US_OPT_ECN:
		/* RFC 3168 §6.1.1: agreed by the SYNs, fixed once ours left. */
		if (t->state != US_TCP_CLOSED && t->state != US_TCP_LISTEN)
			return -EISCONN;
		t->want_ecn = value != 0;
		return 0;
	}
	return -ENOPROTOOPT;
}

int us_tcp_getopt(const struct us_tcp *t, enum us_sock_opt opt, int *value)
{
	if (!t || !value)
		return -EINVAL;
	switch (opt) {
	case US_OPT_BROADCAST:
		return -ENOPROTOOPT;
	case US_OPT_REUSEADDR:
	case US_OPT_RCVBUF:
	case US_OPT_SNDBUF:
	case US_OPT_TTL:
	case US_OPT_TOS:
	case US_OPT_V6ONLY:
		return us_sock_getopt(&t->opt, t->family, opt, value);
	case US_OPT_NODELAY:
		*value = t->nodelay;
		return 0;
	case US_OPT_KEEPALIVE:
		*value = t->keepalive;
		return 0;
	case US_OPT_KEEPIDLE:
		*value = (int)t->keepidle_s;
		return 0;
	case US_OPT_KEEPINTVL:
		*value = (int)t->keepintvl_s;
		return 0;
	case US_OPT_KEEPCNT:
		*value = (int)t->keepcnt;
		return 0;
	case US_OPT_LINGER:
		*value = t->linger_s;
		return 0;
	case US_OPT_WSCALE:
		*value = t->want_wscale;
		return 0;
	case US_OPT_TIMESTAMPS:
		*value = t->want_ts;
		return 0;
	case US_OPT_SACK:
		*value = t->want_sack;
		return 0;
	case US_OPT_SYNCOOKIES:
		*value = t->syncookies;
		return 0;
	case US_OPT_CONGESTION:
		*value = t->cc_algo;
		return 0;
	case US_OPT_ECN:
		*value = t->want_ecn;
		return 0;
	}
	return -ENOPROTOOPT;
}

/* An address of the tuple in the socket's family form. */
static void to_addr(const struct us_tcp *t, const struct us_ip6 *a, uint16_t port,
		    struct us_addr *out)
{
	memset(out, 0, sizeof *out);
	out->port = port;
	struct us_addr m = { .family = US_AF_INET6, .ip6 = *a };
	uint32_t v4;
	if (t->family == US_AF_INET) {
		/* Mapped, or all zero (a listener's unknown peer). */
		if (!us_sock_addr_v4(&m, &v4))
			v4 = us_get_be32(a->b + 12);
		out->family = US_AF_INET;
		out->ip4 = v4;
		return;
	}
	out->family = US_AF_INET6;
	out->ip6 = *a;
	if (us_ip6_is_link_local(a) && t->ifindex >= 0)
		out->scope_id = (uint32_t)t->ifindex + 1;
}

int us_tcp_local(const struct us_tcp *t, struct us_addr *out)
{
	if (!t || !out)
		return -EINVAL;
	to_addr(t, &t->tu.laddr, t->tu.lport, out);
	return 0;
}

int us_tcp_remote(const struct us_tcp *t, struct us_addr *out)
{
	if (!t || !out)
		return -EINVAL;
	if (!t->in_conn_hash && t->state != US_TCP_TIME_WAIT)
		return -ENOTCONN;
	to_addr(t, &t->tu.raddr, t->tu.rport, out);
	return 0;
}

int us_tcp_get_info(const struct us_tcp *t, struct us_tcp_info *out)
{
	if (!t || !out)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	out->state = t->state;
	out->family = t->family;
	to_addr(t, &t->tu.laddr, t->tu.lport, &out->local);
	to_addr(t, &t->tu.raddr, t->tu.rport, &out->remote);
	out->orphan = t->orphan;
	out->listener_child = t->listener != NULL;
	out->snd_queued = t->sndq.len;
	out->rcv_queued = t->rcvq.len;
	out->mss = us_tcp_send_mss(t);
	out->cwnd = t->cwnd;
	out->ssthresh = t->ssthresh;
	out->snd_wnd = t->snd_wnd;
	out->rcv_wnd = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	out->srtt_us = t->srtt;
	out->rttvar_us = t->rttvar;
	out->rto_us = t->rto;
	out->retransmits = t->retransmits;
	out->backoff = t->timeouts;
	out->wscale_ok = t->wscale_ok;
	out->snd_wscale = t->wscale_ok ? t->snd_wscale : 0;
	out->rcv_wscale = t->wscale_ok ? t->rcv_wscale : 0;
	out->ts_ok = t->ts_ok;
	out->sack_ok = t->sack_ok;
	out->in_recovery = t->in_recovery;
	out->bytes_in_flight = t->snd_max - t->snd_una;
	out->pipe = t->in_recovery && t->sack_ok ? us_tcp_sack_pipe(t) : 0;
	for (int i = 0; i < t->n_sacked; i++)
		out->sacked_bytes += t->sacked[i].end - t->sacked[i].start;
	out->sack_blocks_rcvd = t->sack_blocks_rcvd;
	out->dsacks_rcvd = t->dsacks_rcvd;
	out->sack_blocks_sent = t->sack_blocks_sent;
	out->fast_recoveries = t->fast_recoveries;
	out->rto_timeouts = t->rto_timeouts;
	out->paws_drops = t->paws_drops;
	out->ts_recent = t->ts_recent;
	out->tlp_probes = t->tlp_probes;
	out->tlp_recoveries = t->tlp_recoveries;
	out->cc = t->cc_algo;
	out->cwnd_validated = t->nvp_since == US_TIME_NEVER;
	out->pipeack = t->pipeack;
	out->ecn_ok = t->ecn_ok;
	out->ecn_ce_rcvd = t->ecn_ce_rcvd;
	out->ecn_reductions = t->ecn_reductions;
	if (t->cc_algo == US_TCP_CC_CUBIC) {
		out->cubic_w_max = t->cubic.w_max;
		out->cubic_k_us = t->cubic.k;
	}
	return 0;
}

size_t us_stack_tcp_table(const struct us_stack *s, struct us_tcp_info *out, size_t max)
{
	size_t n = 0;
	for (const struct us_tcp *t = s->tcp.all; t; t = t->next_all, n++)
		if (out && n < max)
			us_tcp_get_info(t, &out[n]);
	return n;
}

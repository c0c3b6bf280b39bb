/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_tcp_timers.c - the TCP timer heap (src/stack/tcp_timer.c,
 * "The timer heap"): us_tcp_next_deadline() must always be the earliest
 * timer of any TCB, and us_tcp_poll() must fire every TCB whose timer is
 * due, and no other, while connections come and go with every kind of
 * timer running: retransmission (RFC 6298), loss probe (RFC 8985 §7),
 * zero-window probe (RFC 1122 §4.2.2.17), keep-alive (RFC 1122 §4.2.3.6),
 * delayed ACK (RFC 1122 §4.2.3.2), TIME_WAIT (RFC 9293 §3.10.8), the
 * orphaned FIN_WAIT_2, SYN and SYN-ACK retransmission. In the same world,
 * the earliest deadlines that ARP (arp.c) and the IPv6 neighbour cache
 * (nd6.c) keep instead of scanning their tables at every call.
 *
 * Read first: tests/unit/harness.h, then "The timer heap" in
 * src/stack/tcp_timer.c. The truth each check compares with is computed
 * here by brute force: a walk of every TCB of the stack (s->tcp.all)
 * reading its six timer fields, as us_tcp_next_deadline() did before the
 * heap, and a scan of the ARP and neighbour tables.
 *
 * Two stacks, A (198.51.100.1) and B (198.51.100.2), on a virtual clock,
 * joined by an in-memory cable that the test owns: a frame arrives DELAY
 * after it left (so RTTs are not zero), handed over by deliver(), never from
 * inside a transmit. The cable swallows the frames of a TCP port in one
 * direction (a black hole) or one chosen data segment: that is how
 * retransmission, unanswered keep-alives and lost SYN-ACKs are made.
 */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/core.h>

#include "stack.h"
#include "tcp.h"
#include "wire/eth.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"
#include "wire/wire.h"

#define A_IP 0xc6336401u /* 198.51.100.1 */
#define B_IP 0xc6336402u /* 198.51.100.2 */
#define NOBODY_IP 0xc6336409u /* 198.51.100.9: no host answers ARP for it */
#define A_IP6 "2001:db8:1::1"
#define B_IP6 "2001:db8:1::2"
#define NOBODY_IP6 "2001:db8:1::9"
#define V6_PORT 86 /* B's IPv6 listener */
#define DELAY US_MSEC(1) /* one way, on the cable */

#define CABLE_FRAMES 4096
#define FRAME_MAX 1600
#define MAX_TCBS 256

/* ---- The cable ------------------------------------------------------------ */

/* One direction of the cable: frames in flight, in order of arrival. */
struct wire {
	uint8_t frame[CABLE_FRAMES][FRAME_MAX];
	uint16_t len[CABLE_FRAMES];
	us_time_t arrives[CABLE_FRAMES];
	int head, count;
	bool hole[65536]; /* TCP ports whose frames this direction swallows */
	uint16_t drop_port; /* ... and the drop_nth-th data segment of this port */
	int drop_nth;
	unsigned long long swallowed;
};

struct node {
	struct us_stack *s;
	struct wire *out; /* what this node transmits */
	struct node *peer;
	unsigned long long polls, fired; /* polls, and TCBs due at one */
	int closes_2msl, closes_fin_wait_2; /* t_close firings, from the trace */
};

static struct wire ab, ba;
static struct node A, B;
static us_time_t now;

/* The TCP ports of a frame, if it is a TCP segment; its payload length. */
static bool tcp_ports(const uint8_t *f, size_t len, uint16_t *sport, uint16_t *dport,
		      size_t *payload)
{
	struct us_eth_hdr eth;
	struct us_ipv4_hdr ip;
	struct us_tcp_hdr h;
	if (us_eth_parse(f, len, &eth) != US_WIRE_OK || eth.ethertype != US_ETHERTYPE_IPV4)
		return false;
	if (us_ipv4_parse(eth.payload, eth.payload_len, &ip) != US_WIRE_OK ||
	    ip.proto != US_IPPROTO_TCP)
		return false;
	if (us_tcp_parse(ip.payload, ip.payload_len, &h) != US_WIRE_OK)
		return false;
	*sport = h.sport;
	*dport = h.dport;
	*payload = h.payload_len;
	return true;
}

static int cable_transmit(void *ctx, const struct us_frame *f)
{
	struct wire *w = ctx;
	uint16_t sport, dport;
	size_t payload;
	if (tcp_ports(f->data, f->len, &sport, &dport, &payload)) {
		if (w->hole[sport] || w->hole[dport]) {
			w->swallowed++;
			return 0;
		}
		if (payload && w->drop_nth && sport == w->drop_port && --w->drop_nth == 0) {
			w->swallowed++;
			return 0;
		}
	}
	ck_assert_msg(w->count < CABLE_FRAMES, "the cable is full");
	ck_assert_uint_le(f->len, FRAME_MAX);
	int i = (w->head + w->count) % CABLE_FRAMES;
	memcpy(w->frame[i], f->data, f->len);
	w->len[i] = (uint16_t)f->len;
	w->arrives[i] = now + DELAY;
	w->count++;
	return 0;
}

static void on_trace(void *ctx, const struct us_trace_event *ev)
{
	struct node *n = ctx;
	if (ev->kind != US_TRACE_STATE)
		return;
	if (strstr(ev->msg, "2MSL timeout"))
		n->closes_2msl++;
	if (strstr(ev->msg, "FIN_WAIT_2 timeout"))
		n->closes_fin_wait_2++;
}

static void node_up(struct node *n, struct wire *out, struct node *peer, uint8_t last,
		    us_time_t msl)
{
	struct us_stack_config cfg = { .seed = last, .small_bufs = 1024, .large_bufs = 8,
				       .no_dad = true, .no_slaac = true,
				       .no_router_solicit = true, .tcp_msl = msl,
				       .trace = on_trace, .trace_ctx = n };
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(i + last);
	memset(n, 0, sizeof *n);
	n->out = out;
	n->peer = peer;
	n->s = us_stack_new(&cfg);
	ck_assert_ptr_nonnull(n->s);
	struct us_iface_config ic = { .name = "cable", .mtu = 1500, .transmit = cable_transmit,
				      .transmit_ctx = out };
	memcpy(ic.mac, (uint8_t[]){ 2, 0, 0, 0, 0, last }, 6);
	ck_assert_int_eq(us_stack_add_iface(n->s, now, &ic), 0);
	ck_assert_int_eq(us_stack_add_ipv4(n->s, now, 0, 0xc6336400u | last, 24), 0);
	struct us_ip6 a6;
	ck_assert_int_eq(us_ip6_parse_text(last == 1 ? A_IP6 : B_IP6, &a6), 0);
	ck_assert_int_eq(us_stack_add_ipv6(n->s, now, 0, &a6, 64), 0);
}

/* ---- The truth, by brute force ------------------------------------------- */

static us_time_t tcb_earliest(const struct us_tcp *t)
{
	us_time_t timers[] = { t->t_rexmt, t->t_persist, t->t_keep,
			       t->t_delack, t->t_close, t->t_tlp };
	us_time_t d = US_TIME_NEVER;
	for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++)
		if (timers[i] < d)
			d = timers[i];
	return d;
}

/* The earliest timer of any TCB of s: what us_tcp_next_deadline() must say. */
static us_time_t brute_next_deadline(const struct us_stack *s)
{
	us_time_t d = US_TIME_NEVER;
	for (const struct us_tcp *t = s->tcp.all; t; t = t->next_all) {
		us_time_t e = tcb_earliest(t);
		if (e < d)
			d = e;
	}
	return d;
}

/* The earliest deadline of ARP's cache and announcements. */
static us_time_t brute_arp_deadline(const struct us_stack *s)
{
	us_time_t d = US_TIME_NEVER;
	for (int i = 0; i < US_ARP_CACHE_SIZE; i++)
		if (s->arp.cache[i].used && s->arp.cache[i].deadline < d)
			d = s->arp.cache[i].deadline;
	for (int i = 0; i < US_ARP_OWN_SLOTS; i++) {
		const struct us_arp_own *o = &s->arp.own[i];
		if (o->used && o->announce_pending && o->announce_at < d)
			d = o->announce_at;
	}
	return d;
}

/* The earliest deadline of the IPv6 neighbour cache. */
static us_time_t brute_neigh_deadline(const struct us_stack *s)
{
	us_time_t d = US_TIME_NEVER;
	for (int i = 0; i < US_ND6_NEIGH_MAX; i++)
		if (s->nd6.neigh[i].used && s->nd6.neigh[i].deadline < d)
			d = s->nd6.neigh[i].deadline;
	return d;
}

static void check_stack(const struct node *n)
{
	ck_assert_msg(us_arp_next_deadline(n->s) == brute_arp_deadline(n->s),
		      "ARP's next deadline %lld, but an entry's is %lld (now %lld)",
		      (long long)us_arp_next_deadline(n->s), (long long)brute_arp_deadline(n->s),
		      (long long)now);
	ck_assert_msg(n->s->nd6.neigh_next == brute_neigh_deadline(n->s),
		      "the neighbour cache's next deadline %lld, but an entry's is %lld (now %lld)",
		      (long long)n->s->nd6.neigh_next, (long long)brute_neigh_deadline(n->s),
		      (long long)now);
	ck_assert_int_le(us_stack_next_deadline(n->s), brute_arp_deadline(n->s));
	ck_assert_int_le(us_stack_next_deadline(n->s), brute_neigh_deadline(n->s));
	ck_assert_msg(us_tcp_timer_heap_ok(n->s), "the timer heap is out of order at %lld",
		      (long long)now);
	us_time_t truth = brute_next_deadline(n->s);
	ck_assert_msg(us_tcp_next_deadline(n->s) == truth,
		      "next deadline %lld, but a TCB's timer is at %lld (now %lld)",
		      (long long)us_tcp_next_deadline(n->s), (long long)truth, (long long)now);
	ck_assert_int_le(us_stack_next_deadline(n->s), truth);
}

/* One TCB's timers before a poll. */
struct snap {
	const struct us_tcp *t;
	us_time_t timer[6];
};

static int snapshot(const struct us_stack *s, struct snap *out)
{
	int n = 0;
	for (const struct us_tcp *t = s->tcp.all; t; t = t->next_all, n++) {
		ck_assert_int_lt(n, MAX_TCBS);
		out[n] = (struct snap){ t, { t->t_rexmt, t->t_persist, t->t_keep, t->t_delack,
					     t->t_close, t->t_tlp } };
	}
	return n;
}

static bool snap_due(const struct snap *sn)
{
	for (int k = 0; k < 6; k++)
		if (sn->timer[k] <= now)
			return true;
	return false;
}

/* us_stack_poll(), checked: every TCB that was due has no timer due any
 * more (it fired, or firing freed it), and every TCB that was not due kept
 * its timers as they were (nothing fired early). A TCB that is gone after
 * the poll must have been due. */
static void poll_checked(struct node *n)
{
	static struct snap before[MAX_TCBS];
	static bool seen[MAX_TCBS];
	int nb = snapshot(n->s, before);
	us_stack_poll(n->s, now);
	n->polls++;
	memset(seen, 0, sizeof seen);
	for (const struct us_tcp *t = n->s->tcp.all; t; t = t->next_all) {
		int i = 0;
		while (i < nb && before[i].t != t)
			i++;
		ck_assert_msg(i < nb, "a TCB appeared during a poll");
		seen[i] = true;
		struct snap after = { t, { t->t_rexmt, t->t_persist, t->t_keep, t->t_delack,
					   t->t_close, t->t_tlp } };
		if (!snap_due(&before[i]))
			ck_assert_msg(memcmp(after.timer, before[i].timer, sizeof after.timer) == 0,
				      "a TCB not due had its timers moved by a poll at %lld",
				      (long long)now);
		ck_assert_msg(tcb_earliest(t) > now,
			      "a timer due at %lld is still due after the poll at %lld",
			      (long long)tcb_earliest(t), (long long)now);
	}
	for (int i = 0; i < nb; i++) {
		if (snap_due(&before[i]))
			n->fired++;
		else
			ck_assert_msg(seen[i], "a TCB not due was freed by a poll at %lld",
				      (long long)now);
	}
	check_stack(n);
}

/* Hands over every frame that has arrived by now. */
static void deliver(void)
{
	for (int round = 0;; round++) {
		ck_assert_int_lt(round, 100000);
		struct wire *w = NULL;
		struct node *to = NULL;
		if (ab.count && ab.arrives[ab.head] <= now) {
			w = &ab;
			to = &B;
		} else if (ba.count && ba.arrives[ba.head] <= now) {
			w = &ba;
			to = &A;
		} else {
			return;
		}
		us_stack_input(to->s, now, 0, w->frame[w->head], w->len[w->head]);
		w->head = (w->head + 1) % CABLE_FRAMES;
		w->count--;
		check_stack(to);
	}
}

static us_time_t earlier(us_time_t a, us_time_t b)
{
	return a < b ? a : b;
}

/* The next moment anything happens on its own: a stack's deadline or a
 * frame's arrival. */
static us_time_t next_event(void)
{
	us_time_t d = earlier(us_stack_next_deadline(A.s), us_stack_next_deadline(B.s));
	if (ab.count)
		d = earlier(d, ab.arrives[ab.head]);
	if (ba.count)
		d = earlier(d, ba.arrives[ba.head]);
	return d;
}

/* Runs the world to time t: deadlines fire at their exact time. */
static void run_until(us_time_t t)
{
	for (int i = 0;; i++) {
		ck_assert_msg(i < 1000000, "too many events before %lld", (long long)t);
		check_stack(&A);
		check_stack(&B);
		us_time_t d = next_event();
		if (d > t)
			break;
		if (d > now)
			now = d;
		if (us_stack_next_deadline(A.s) <= now)
			poll_checked(&A);
		if (us_stack_next_deadline(B.s) <= now)
			poll_checked(&B);
		deliver();
	}
	now = t;
}

static void world_up(void)
{
	memset(&ab, 0, sizeof ab);
	memset(&ba, 0, sizeof ba);
	now = 0;
	node_up(&A, &ab, &B, 1, US_SEC(7));
	node_up(&B, &ba, &A, 2, US_SEC(11));
	check_stack(&A);
	check_stack(&B);
}

static void world_down(void)
{
	us_test_stack_free(A.s);
	us_test_stack_free(B.s);
}

/* ---- Connections ----------------------------------------------------------- */

static struct us_tcp *listen_on(struct node *n, int family, uint16_t port, int rcvbuf)
{
	int err;
	struct us_tcp *l = us_tcp_open(n->s, family, NULL, NULL, &err);
	ck_assert_ptr_nonnull(l);
	struct us_addr any = { .family = family, .port = port };
	if (rcvbuf)
		ck_assert_int_eq(us_tcp_setopt(l, US_OPT_RCVBUF, rcvbuf), 0);
	ck_assert_int_eq(us_tcp_bind(l, &any), 0);
	ck_assert_int_eq(us_tcp_listen(l, now, 128), 0);
	return l;
}

static struct us_addr addr4(uint32_t ip, uint16_t port)
{
	return (struct us_addr){ .family = US_AF_INET, .ip4 = ip, .port = port };
}

static struct us_addr addr6(const char *text, uint16_t port)
{
	struct us_addr a = { .family = US_AF_INET6, .port = port };
	ck_assert_int_eq(us_ip6_parse_text(text, &a.ip6), 0);
	return a;
}

/* A connection from A's port lport to to. */
static struct us_tcp *connect_to(uint16_t lport, struct us_addr to)
{
	int err;
	struct us_tcp *t = us_tcp_open(A.s, to.family, NULL, NULL, &err);
	ck_assert_ptr_nonnull(t);
	struct us_addr me = to.family == US_AF_INET ? addr4(A_IP, lport) : addr6(A_IP6, lport);
	ck_assert_int_eq(us_tcp_bind(t, &me), 0);
	ck_assert_int_eq(us_tcp_connect(t, now, &to), -EINPROGRESS);
	check_stack(&A);
	return t;
}

/* A connection from A's port lport to B's port, over IPv4. */
static struct us_tcp *connect_from(uint16_t lport, uint16_t port)
{
	return connect_to(lport, addr4(B_IP, port));
}

static void send_bytes(struct us_tcp *t, us_time_t at, size_t n)
{
	static const uint8_t junk[8192];
	ck_assert_uint_le(n, sizeof junk);
	ck_assert_int_eq(us_tcp_send(t, at, junk, n), (int)n);
}

static void read_all(struct us_tcp *t)
{
	uint8_t buf[4096];
	while (us_tcp_recv(t, now, buf, sizeof buf) > 0)
		;
}

/* ---- The tests ------------------------------------------------------------- */

/*
 * One connection per kind of timer, several of each, started at different
 * times; the clock runs for 400 s of virtual time, which outlasts every
 * timer (SYN retries end at 123 s, data retries at about 280 s). At every
 * step the heap is checked against the brute-force truth, and every poll
 * against the TCBs it had to fire.
 */
enum role {
	R_KEEPALIVE,	/* keep-alives, unanswered from some time on: the peer is given up */
	R_PERSIST,	/* B reads nothing into a 2 KB window: zero-window probes */
	R_RTO,		/* data into a black hole: retransmissions, given up or healed */
	R_DELACK,	/* B sends a little now and then: A's delayed ACKs */
	R_FIN_WAIT_2,	/* A closes; B never does: the orphan's 60 s in FIN_WAIT_2 */
	R_TIME_WAIT_A,	/* A closes first: A in TIME_WAIT (2 x 7 s) */
	R_TIME_WAIT_B,	/* B closes first: B in TIME_WAIT (2 x 11 s) */
	R_ABORT,	/* timers running, then ABORT: the TCB leaves */
	R_TLP,		/* the last segment of a burst lost: a loss probe */
	R_SYN_SENT,	/* A's SYNs into a black hole */
	R_SYN_RCVD,	/* B's SYN-ACKs into a black hole: B's half-open children */
	R_V6,		/* over IPv6, a little data both ways now and then: neighbour
			 * entries go REACHABLE, STALE, DELAY, PROBE */
	R_NOBODY,	/* to an address no one has: ARP or ND resolution fails,
			 * again at every SYN */
	R_COUNT
};

#define PER_ROLE 4
#define NCONN (R_COUNT * PER_ROLE)

struct pair {
	enum role role;
	uint16_t port; /* A's */
	struct us_tcp *a, *b; /* NULL once closed (or never accepted) */
};

static struct pair pairs[NCONN];

static void accept_all(struct us_tcp *l)
{
	int err;
	struct us_tcp *c;
	while ((c = us_tcp_accept(l, NULL, NULL, NULL, &err)) != NULL) {
		struct us_addr r;
		ck_assert_int_eq(us_tcp_remote(c, &r), 0);
		int i = 0;
		while (i < NCONN && pairs[i].port != r.port)
			i++;
		ck_assert_int_lt(i, NCONN);
		pairs[i].b = c;
	}
}

static void close_a(struct pair *p)
{
	if (p->a) {
		us_tcp_close(p->a, now);
		p->a = NULL;
		check_stack(&A);
	}
}

static void close_b(struct pair *p)
{
	if (p->b) {
		us_tcp_close(p->b, now);
		p->b = NULL;
		check_stack(&B);
	}
}

START_TEST(next_deadline_and_poll_follow_every_timer_of_many_connections)
{
	world_up();
	struct us_tcp *l80 = listen_on(&B, US_AF_INET, 80, 0);
	struct us_tcp *l82 = listen_on(&B, US_AF_INET, 82, 2048);
	struct us_tcp *l86 = listen_on(&B, US_AF_INET6, V6_PORT, 0);
	for (int i = 0; i < NCONN; i++) {
		struct pair *p = &pairs[i];
		p->role = (enum role)(i % R_COUNT);
		p->port = (uint16_t)(20000 + i);
		p->b = NULL;
		switch (p->role) {
		case R_SYN_SENT:
			ab.hole[p->port] = true;
			p->a = connect_from(p->port, 81);
			break;
		case R_SYN_RCVD:
			ba.hole[p->port] = true;
			p->a = connect_from(p->port, 80);
			break;
		case R_PERSIST:
			p->a = connect_from(p->port, 82);
			break;
		case R_V6:
			p->a = connect_to(p->port, addr6(B_IP6, V6_PORT));
			break;
		case R_NOBODY:
			p->a = connect_to(p->port, i % 2 ? addr6(NOBODY_IP6, 80)
							 : addr4(NOBODY_IP, 80));
			break;
		case R_KEEPALIVE:
		case R_RTO:
		case R_DELACK:
		case R_FIN_WAIT_2:
		case R_TIME_WAIT_A:
		case R_TIME_WAIT_B:
		case R_ABORT:
		case R_TLP:
		case R_COUNT:
			p->a = connect_from(p->port, 80);
			break;
		}
		/* The connections start 13 ms apart. */
		run_until(now + US_MSEC(13));
	}
	run_until(US_SEC(1));
	accept_all(l80);
	accept_all(l82);
	accept_all(l86);
	for (int i = 0; i < NCONN; i++) {
		struct pair *p = &pairs[i];
		if (p->role == R_SYN_SENT || p->role == R_SYN_RCVD || p->role == R_NOBODY) {
			ck_assert_ptr_null(p->b);
			continue;
		}
		ck_assert_ptr_nonnull(p->b);
		ck_assert_int_eq(us_tcp_state(p->a), US_TCP_ESTABLISHED);
	}

	/* Second by second, what each role does; the rest is timers. */
	for (int sec = 1; sec < 400; sec++) {
		for (int i = 0; i < NCONN; i++) {
			struct pair *p = &pairs[i];
			int k = i / R_COUNT; /* which of the role's connections */
			switch (p->role) {
			case R_KEEPALIVE:
				if (sec == 1) {
					ck_assert_int_eq(us_tcp_setopt(p->a, US_OPT_KEEPALIVE, 1), 0);
					ck_assert_int_eq(us_tcp_setopt(p->a, US_OPT_KEEPIDLE, 3 + k), 0);
					ck_assert_int_eq(us_tcp_setopt(p->a, US_OPT_KEEPINTVL, 2 + k), 0);
					ck_assert_int_eq(us_tcp_setopt(p->a, US_OPT_KEEPCNT, 2), 0);
				}
				if (sec == 20 + 5 * k)
					ba.hole[p->port] = true;
				if (sec == 120 && p->a) {
					ck_assert_int_eq(us_tcp_state(p->a), US_TCP_CLOSED);
					ck_assert_int_eq(us_tcp_take_error(p->a), -ETIMEDOUT);
					close_a(p);
				}
				break;
			case R_PERSIST:
				if (sec == 2)
					send_bytes(p->a, now, 8000);
				if (sec >= 60 + 10 * k)
					read_all(p->b);
				break;
			case R_RTO:
				if (sec == 3 + k) {
					ab.hole[p->port] = true;
					send_bytes(p->a, now, 3000);
				}
				if (k % 2 == 0 && sec == 30 + k)
					ab.hole[p->port] = false;
				break;
			case R_DELACK:
				if (sec % (2 + k) == 0 && sec < 200)
					send_bytes(p->b, now, 10);
				break;
			case R_FIN_WAIT_2:
				if (sec == 5 + k)
					close_a(p);
				if (sec == 200 + k)
					close_b(p);
				break;
			case R_TIME_WAIT_A:
				if (sec == 6 + 3 * k)
					close_a(p);
				if (sec == 7 + 3 * k)
					close_b(p);
				break;
			case R_TIME_WAIT_B:
				if (sec == 8 + 2 * k)
					close_b(p);
				if (sec == 9 + 2 * k)
					close_a(p);
				break;
			case R_ABORT:
				if (sec == 2) {
					ck_assert_int_eq(us_tcp_setopt(p->a, US_OPT_KEEPALIVE, 1), 0);
					ck_assert_int_eq(us_tcp_setopt(p->a, US_OPT_KEEPIDLE, 1), 0);
					ab.hole[p->port] = true;
					send_bytes(p->a, now, 500);
				}
				if (sec == 4 + k && p->a) {
					us_tcp_abort(p->a, now);
					p->a = NULL;
					check_stack(&A);
				}
				break;
			case R_TLP:
				if (sec == 10 + 7 * k) {
					/* 3000 bytes: two full segments and a short one,
					 * which the cable loses. */
					ab.drop_port = p->port;
					ab.drop_nth = 3;
					send_bytes(p->a, now, 3000);
				}
				break;
			case R_V6:
				if (sec % (3 + 5 * k) == 0 && sec < 300) {
					send_bytes(p->b, now, 100);
					send_bytes(p->a, now + 1, 100);
				}
				if (sec % 7 == 0) {
					read_all(p->a);
					read_all(p->b);
				}
				break;
			case R_SYN_SENT:
			case R_SYN_RCVD:
			case R_NOBODY:
				if (sec == 130 + k && p->a) {
					ck_assert_int_eq(us_tcp_state(p->a), US_TCP_CLOSED);
					close_a(p);
				}
				break;
			case R_COUNT:
				break;
			}
		}
		/* Each second's actions happen at a different offset in it. */
		run_until(US_SEC(sec) + US_MSEC(sec * 37 % 1000));
	}
	run_until(US_SEC(400));

	/* Every kind of timer fired, on the stack it was meant for. */
	ck_assert_uint_gt(us_stack_counter(A.s, "tcp.keepalive_probes"), 0);
	ck_assert_uint_gt(us_stack_counter(A.s, "tcp.persist_probes"), 0);
	ck_assert_uint_gt(us_stack_counter(A.s, "tcp.rto_timeouts"), 0);
	ck_assert_uint_gt(us_stack_counter(A.s, "tcp.timeout_drops"), 0);
	ck_assert_uint_gt(us_stack_counter(A.s, "tcp.attempt_fails"), 0);
	ck_assert_uint_gt(us_stack_counter(A.s, "tcp.delayed_acks"), 0);
	ck_assert_uint_gt(us_stack_counter(A.s, "tcp.tlp_probes"), 0);
	ck_assert_uint_gt(us_stack_counter(B.s, "tcp.timeout_drops"), 0); /* SYN-ACKs */
	ck_assert_uint_gt(us_stack_counter(A.s, "arp.resolve_failed"), 1);
	ck_assert_uint_gt(us_stack_counter(A.s, "nd6.drop_resolution_failed"), 1);
	ck_assert_int_eq(A.closes_fin_wait_2, PER_ROLE);
	ck_assert_int_ge(A.closes_2msl, PER_ROLE);
	ck_assert_int_ge(B.closes_2msl, PER_ROLE);
	ck_assert_uint_gt(A.fired, 100);
	/* What is left holds no timer: only idle connections and listeners. */
	ck_assert_int_eq(us_tcp_next_deadline(A.s), US_TIME_NEVER);
	ck_assert_int_eq(us_tcp_next_deadline(B.s), US_TIME_NEVER);
	(void)l80;
	(void)l82;
	(void)l86;
	world_down();
}
END_TEST

/* N connections whose only timer is the keep-alive, armed in a shuffled
 * order of idle times: the deadlines must come out sorted, each probe
 * leaving at its connection's exact deadline. */
START_TEST(keepalives_set_in_any_order_fire_in_deadline_order)
{
	world_up();
	struct us_tcp *l = listen_on(&B, US_AF_INET, 80, 0);
	enum { N = 24 };
	struct us_tcp *c[N];
	for (int i = 0; i < N; i++)
		c[i] = connect_from((uint16_t)(30000 + i), 80);
	run_until(US_SEC(1));
	/* Idle times 10..33 s, in the order i * 7 mod 24 (7 is prime to 24). */
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(us_tcp_state(c[i]), US_TCP_ESTABLISHED);
		ck_assert_int_eq(us_tcp_setopt(c[i], US_OPT_KEEPIDLE, 10 + (i * 7) % N), 0);
		ck_assert_int_eq(us_tcp_setopt(c[i], US_OPT_KEEPCNT, 1), 0);
		ck_assert_int_eq(us_tcp_setopt(c[i], US_OPT_KEEPALIVE, 1), 0);
		check_stack(&A);
	}
	/* The peer is gone: no keep-alive is answered, each connection dies
	 * at its own deadline plus one interval. */
	for (int i = 0; i < N; i++)
		ba.hole[30000 + i] = true;
	us_time_t prev = 0;
	for (int n = 0; n < N; n++) {
		us_time_t d = us_tcp_next_deadline(A.s);
		ck_assert_int_gt(d, prev);
		/* The connection due: the one whose idle time ends at d. */
		int who = -1;
		for (int i = 0; i < N; i++)
			if (c[i] && c[i]->t_keep == d)
				who = i;
		ck_assert_int_ge(who, 0);
		ck_assert_int_eq(d, c[who]->last_rcv + US_SEC(10 + (who * 7) % N));
		uint64_t probes = us_stack_counter(A.s, "tcp.keepalive_probes");
		run_until(d - 1);
		ck_assert_uint_eq(us_stack_counter(A.s, "tcp.keepalive_probes"), probes);
		run_until(d);
		ck_assert_uint_eq(us_stack_counter(A.s, "tcp.keepalive_probes"), probes + 1);
		/* Its next deadline is the probe's interval; close it now, so
		 * that the heap must forget it. */
		ck_assert_int_eq(c[who]->t_keep, d + US_SEC(US_TCP_KEEPINTVL_DEFAULT));
		us_tcp_abort(c[who], now);
		c[who] = NULL;
		check_stack(&A);
		prev = d;
	}
	ck_assert_int_eq(us_tcp_next_deadline(A.s), US_TIME_NEVER);
	ck_assert_uint_eq(A.s->tcp.heap_len, 0);
	(void)l;
	world_down();
}
END_TEST

/* Equal deadlines fire newest connection first, the order of the TCB list
 * that the poll walked before the heap (packet scripts' goldens keep it). */
START_TEST(equal_deadlines_fire_newest_connection_first)
{
	world_up();
	struct us_tcp *l = listen_on(&B, US_AF_INET, 80, 0);
	enum { N = 9 };
	struct us_tcp *c[N];
	/* A first connection, so that A and B know each other's MAC. */
	struct us_tcp *first = connect_from(30999, 80);
	run_until(US_MSEC(500));
	ck_assert_int_eq(us_tcp_state(first), US_TCP_ESTABLISHED);
	for (int i = 0; i < N; i++) {
		/* All SYNs lost, all sent at 0.5 s: every SYN timer is due at
		 * 1.5 s. */
		ab.hole[31000 + i] = true;
		c[i] = connect_from((uint16_t)(31000 + i), 80);
	}
	ck_assert_int_eq(us_tcp_next_deadline(A.s), US_MSEC(1500));
	ck_assert_int_eq(ab.count, 0);
	for (int i = 0; i < N; i++) {
		ab.hole[31000 + i] = false;
		ck_assert_int_eq(c[i]->t_rexmt, US_MSEC(1500));
	}
	now = US_MSEC(1500);
	poll_checked(&A);
	/* The retransmitted SYNs on the cable, newest connection first. */
	ck_assert_int_eq(ab.count, N);
	for (int k = 0; k < N; k++) {
		int idx = (ab.head + k) % CABLE_FRAMES;
		uint16_t sport, dport;
		size_t payload;
		ck_assert(tcp_ports(ab.frame[idx], ab.len[idx], &sport, &dport, &payload));
		ck_assert_uint_eq(sport, 31000 + (N - 1 - k));
	}
	(void)l;
	world_down();
}
END_TEST

/* A TCB freed with timers running leaves the heap from wherever it is; the
 * ones left keep their order. */
START_TEST(closed_connections_leave_the_heap_from_any_place)
{
	world_up();
	struct us_tcp *l = listen_on(&B, US_AF_INET, 80, 0);
	enum { N = 40 };
	struct us_tcp *c[N];
	for (int i = 0; i < N; i++) {
		ab.hole[32000 + i] = true;
		c[i] = connect_from((uint16_t)(32000 + i), 80);
		/* SYN timers 1 s after 40 different moments. */
		run_until(now + US_MSEC(3 + (i * 11) % 17));
	}
	ck_assert_uint_eq(A.s->tcp.heap_len, N);
	/* Close them in an order unrelated to their deadlines. */
	for (int n = 0; n < N; n++) {
		int i = (n * 13) % N;
		us_tcp_close(c[i], now);
		c[i] = NULL;
		check_stack(&A);
		ck_assert_uint_eq(A.s->tcp.heap_len, N - 1 - n);
	}
	ck_assert_int_eq(us_tcp_next_deadline(A.s), US_TIME_NEVER);
	(void)l;
	world_down();
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("tcp_timers");
	TCase *tc = tcase_create("heap");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, next_deadline_and_poll_follow_every_timer_of_many_connections);
	tcase_add_test(tc, keepalives_set_in_any_order_fire_in_deadline_order);
	tcase_add_test(tc, equal_deadlines_fire_newest_connection_first);
	tcase_add_test(tc, closed_connections_leave_the_heap_from_any_place);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * socket.c - the socket API of ustack/ustack.h: blocking, thread-safe
 * sockets built on the core's non-blocking endpoints (us_udp_* for
 * SOCK_DGRAM, RFC 768 / RFC 1122 §4.1; us_raw_* for SOCK_RAW). The spec is
 * ../shared/spec/socket-api.md (the MicroPython socket module, in C).
 *
 * Read runtime_impl.h first (the API lock, the core lock, and how a stopping
 * runtime drains the calls in progress), then ustack/ustack.h.
 *
 * Handles. One process-wide table of US_MAX_SOCKETS slots under the API
 * lock; a handle is the slot index plus the slot's generation, so a closed
 * handle never names a newer socket (socket_impl.h). Freed slots queue at
 * the tail of a FIFO, so a slot comes back as late as possible.
 *
 * A call. Every call does the same steps, and its errors come in this order:
 *   1. enter(): look the handle up (EBADF), pin the socket and its runtime
 *      (ENETDOWN when the runtime stops);
 *   2. check that the call fits the socket's type (EOPNOTSUPP), then the
 *      arguments (EFAULT for a NULL pointer that must not be, EINVAL for a bad
 *      value, EAFNOSUPPORT for an address of the other family);
 *   3. lock_core(): take the core lock; the socket may have been closed by
 *      another thread meanwhile (EBADF) or its runtime stopped (ENETDOWN);
 *   4. call the core; when a receive finds nothing (-EAGAIN) and the socket
 *      may block, wait on the socket's condition variable (tied to the core
 *      lock) until the core's event callback, a close, a shutdown, a stop,
 *      or the deadline, and look again (a datagram send never waits);
 *   5. leave(): unpin. The last one out of a closed socket frees it.
 *
 * Time. A timeout is measured on the runtime's clock. On the real clock a
 * waiter sleeps in pthread_cond_timedwait() on CLOCK_MONOTONIC; on a virtual
 * clock it sleeps without a timeout and the stack thread wakes every waiter
 * of the runtime whenever it sees the clock moved (us_socket_clock_moved()),
 * so each one compares its deadline with us_runtime_now() again.
 *
 * Datagram semantics (documented per call below, for docs/api.md):
 * every receiving call takes exactly one datagram, truncated to the buffer
 * (the rest of it is discarded, as recv(2) does without MSG_PEEK); every
 * sending call sends exactly one datagram, whole or not at all.
 */
#include <ustack/ustack.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime_impl.h"
#include "socket_impl.h"

#define SLOT_MASK ((1u << US_SOCK_SLOT_BITS) - 1)
/* The last generation a slot may use: handles stay non-negative ints. */
#define GEN_MAX ((1u << (31 - US_SOCK_SLOT_BITS)) - 1)

/* The largest datagram a receive can hand over whole: a raw IPv4 socket
 * receives the IP header too, and an IPv4 total length is 16 bits (RFC 791
 * §3.1). A UDP payload is at most 65527 bytes (RFC 768 over RFC 8200). */
#define DGRAM_MAX 65535u

/* Timeouts beyond this many seconds are refused: deadlines stay in range. */
#define TIMEOUT_MAX_SECONDS 1e12

/* The TTL / hop limit getsockopt reports while the socket uses the core's
 * default: IPv4's is 64 (RFC 1122 §3.2.1.7, the core's US_IP_DEFAULT_TTL);
 * IPv6 uses the interface's Cur Hop Limit, 64 unless a Router
 * Advertisement changed it (RFC 4861 §6.3.4), which is not looked up. */
#define DEFAULT_HOPS 64

struct us_sock {
	/* Fixed at creation. */
	int handle;
	int family; /* US_AF_INET or US_AF_INET6 */
	int type;   /* US_SOCK_DGRAM or US_SOCK_RAW */
	int proto;  /* US_IPPROTO_UDP, or the raw socket's protocol */
	struct us_runtime *home; /* its runtime; used only while pinned */

	/* Under the API lock. */
	unsigned refs;  /* calls in progress on it */
	bool ready;     /* opened: lookups may find it */
	bool in_table;  /* its handle is alive (until us_close) */
	bool linked;    /* in home->socks (until close or detach) */
	bool detached;  /* home has stopped and is gone */

	/* Under home's core lock. */
	struct us_sock *next, *prev; /* home->socks */
	struct us_udp *udp;
	struct us_raw *raw;
	pthread_cond_t cond; /* the core's events, close, stop, clock moves */
	unsigned waiters;    /* calls blocked on cond */
	bool closed;         /* us_close() has begun: calls fail with EBADF */
	bool down;           /* home stopped: calls fail with ENETDOWN */
	bool shut_rd, shut_wr;
	bool raw_connected;  /* raw sockets: us_connect() fixed raw_peer */
	struct us_addr raw_peer;
	double timeout;      /* as given: seconds, or US_TIMEOUT_NONE */
	us_time_t timeout_us; /* -1: none (block), 0: non-blocking */
};

/* The handle table, under the API lock. */
struct slot {
	struct us_sock *sock;
	uint32_t gen;  /* generation of the handle last given out */
	int next_free; /* FIFO of free slots; -1 ends it */
};
static struct slot table[US_MAX_SOCKETS];
static bool table_ready;
static int free_head = -1, free_tail = -1;

/* ---- Handles ------------------------------------------------------------ */

static void table_init(void)
{
	if (table_ready)
		return;
	for (int i = 0; i < US_MAX_SOCKETS; i++)
		table[i].next_free = i + 1 < US_MAX_SOCKETS ? i + 1 : -1;
	free_head = 0;
	free_tail = US_MAX_SOCKETS - 1;
	table_ready = true;
}

/* API lock held. A new handle for sk, or -EMFILE. */
static int slot_alloc(struct us_sock *sk)
{
	table_init();
	if (free_head < 0)
		return -EMFILE;
	int i = free_head;
	free_head = table[i].next_free;
	if (free_head < 0)
		free_tail = -1;
	table[i].sock = sk;
	table[i].gen++;
	return (int)(table[i].gen << US_SOCK_SLOT_BITS | (uint32_t)i);
}

/* API lock held. The handle is dead from here on. */
static void slot_release(int handle)
{
	int i = (int)((uint32_t)handle & SLOT_MASK);
	table[i].sock = NULL;
	/* A slot that gave out its last generation is never used again: the
	 * alternative, wrapping, would let an old handle name a new socket. */
	if (table[i].gen >= GEN_MAX)
		return;
	table[i].next_free = -1;
	if (free_tail < 0)
		free_head = i;
	else
		table[free_tail].next_free = i;
	free_tail = i;
}

/* API lock held. The live socket a handle names, or NULL. */
static struct us_sock *lookup(int handle)
{
	if (handle < 0 || !table_ready)
		return NULL;
	struct slot *sl = &table[(uint32_t)handle & SLOT_MASK];
	if (!sl->sock || sl->gen != (uint32_t)handle >> US_SOCK_SLOT_BITS || !sl->sock->ready)
		return NULL;
	return sl->sock;
}

/* API lock held. Frees sk once nothing refers to it any more. */
static void maybe_free(struct us_sock *sk)
{
	if (sk->refs || sk->in_table || sk->linked)
		return;
	pthread_cond_destroy(&sk->cond);
	free(sk);
}

/* ---- Calls --------------------------------------------------------------- */

struct call {
	struct us_sock *sk;
	struct us_runtime *rt;
	bool nonblock;     /* timeout 0 */
	us_time_t deadline; /* US_TIME_NEVER, or when the call gives up */
};

/* Step 1: 0, -EBADF (no such handle) or -ENETDOWN (its runtime stopped). */
static int enter(int handle, struct call *c)
{
	int rc = 0;
	us_api_lock();
	struct us_sock *sk = lookup(handle);
	if (!sk)
		rc = -EBADF;
	else if (sk->detached || !us_runtime_pin(sk->home))
		rc = -ENETDOWN;
	else
		sk->refs++;
	us_api_unlock();
	if (rc == 0) {
		c->sk = sk;
		c->rt = sk->home;
	}
	return rc;
}

/* Step 5. */
static void leave(struct call *c)
{
	us_api_lock();
	us_runtime_unpin(c->rt);
	c->sk->refs--;
	maybe_free(c->sk);
	us_api_unlock();
}

/* Core lock held: the socket may still be used. */
static int alive(const struct call *c)
{
	if (c->sk->closed)
		return -EBADF;
	if (c->sk->down)
		return -ENETDOWN;
	return 0;
}

/* Step 3. On failure the lock is not held. */
static int lock_core(struct call *c)
{
	pthread_mutex_lock(&c->rt->lock);
	int rc = alive(c);
	if (rc < 0)
		pthread_mutex_unlock(&c->rt->lock);
	return rc;
}

static void unlock_core(struct call *c)
{
	pthread_mutex_unlock(&c->rt->lock);
}

static us_time_t deadline_after(us_time_t now, us_time_t wait)
{
	return wait >= US_TIME_NEVER - now ? US_TIME_NEVER : now + wait;
}

/* Core lock held: starts the clock of a call that may block. */
static void start_timer(struct call *c)
{
	us_time_t t = c->sk->timeout_us;
	c->nonblock = t == 0;
	c->deadline = t < 0 ? US_TIME_NEVER : deadline_after(us_runtime_now(c->rt), t);
}

/* CLOCK_MONOTONIC now plus wait_us, for pthread_cond_timedwait(). */
static struct timespec monotonic_after(us_time_t wait_us)
{
	/* Long waits are cut to a day: the waiter looks again and goes back. */
	if (wait_us > US_SEC(86400))
		wait_us = US_SEC(86400);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(wait_us / 1000000);
	ts.tv_nsec += (long)(wait_us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/*
 * Step 4, core lock held (and held again on return): the call could not
 * finish now. -EAGAIN on a non-blocking socket, -ETIMEDOUT once the
 * deadline has passed; else sleeps until something may have changed and
 * returns 0 for the caller to look again (after alive()).
 */
static int wait_for_event(struct call *c)
{
	struct us_runtime *rt = c->rt;
	if (c->nonblock)
		return -EAGAIN;
	us_time_t now = us_runtime_now(rt);
	if (c->deadline != US_TIME_NEVER && now >= c->deadline)
		return -ETIMEDOUT;
	c->sk->waiters++;
	if (c->deadline == US_TIME_NEVER || rt->clock.is_virtual) {
		pthread_cond_wait(&c->sk->cond, &rt->lock);
	} else {
		struct timespec ts = monotonic_after(c->deadline - now);
		pthread_cond_timedwait(&c->sk->cond, &rt->lock, &ts);
	}
	c->sk->waiters--;
	return 0;
}

/* errno from a negative code; -1 for the caller to return. */
static int fail(int rc)
{
	errno = -rc;
	return -1;
}

/* ---- Poll waiters --------------------------------------------------------- */

/* One us_poll() call: it may wait on sockets of several runtimes, so it has
 * its own mutex and condition variable, and a node in each runtime's
 * pollers list (under that runtime's core lock). */
struct poller {
	pthread_mutex_t m;
	pthread_cond_t cv;
	bool fired; /* something happened since the poller last looked */
};

struct us_poll_node {
	struct poller *p;
	struct us_runtime *rt;
	struct us_poll_node *next, *prev;
};

static void poller_fire(struct poller *p)
{
	pthread_mutex_lock(&p->m);
	p->fired = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->m);
}

/* Core lock held: every us_poll() waiting on rt looks again. */
static void fire_pollers(struct us_runtime *rt)
{
	for (struct us_poll_node *n = rt->pollers; n; n = n->next)
		poller_fire(n->p);
}

/* Core lock held: everyone waiting on sk looks again. */
static void wake_sock(struct us_sock *sk)
{
	pthread_cond_broadcast(&sk->cond);
	fire_pollers(sk->home);
}

/* The core's event callback: called under the core lock, from the stack
 * thread (input, timers) or from a socket call. It only wakes; the waiters
 * ask the core what changed. */
static void on_core_event(void *ctx, int events)
{
	(void)events;
	wake_sock(ctx);
}

void us_socket_clock_moved(struct us_runtime *rt)
{
	for (struct us_sock *sk = rt->socks; sk; sk = sk->next)
		pthread_cond_broadcast(&sk->cond);
	fire_pollers(rt);
}

/* Core lock held: gives the core's endpoint back. */
static void release_endpoint(struct us_sock *sk)
{
	if (sk->udp)
		us_udp_close(sk->udp);
	if (sk->raw)
		us_raw_close(sk->raw);
	sk->udp = NULL;
	sk->raw = NULL;
}

void us_socket_runtime_down(struct us_runtime *rt)
{
	for (struct us_sock *sk = rt->socks; sk; sk = sk->next) {
		release_endpoint(sk);
		sk->down = true;
		pthread_cond_broadcast(&sk->cond);
	}
	fire_pollers(rt);
}

void us_socket_runtime_detach(struct us_runtime *rt)
{
	struct us_sock *next;
	for (struct us_sock *sk = rt->socks; sk; sk = next) {
		next = sk->next;
		sk->next = sk->prev = NULL;
		sk->linked = false;
		sk->detached = true;
		maybe_free(sk);
	}
	rt->socks = NULL;
}

unsigned us_socket_waiters(int s)
{
	struct call c;
	if (enter(s, &c) < 0)
		return 0;
	unsigned n = 0;
	if (lock_core(&c) == 0) {
		n = c.sk->waiters;
		unlock_core(&c);
	}
	leave(&c);
	return n;
}

/* ---- Creating and closing -------------------------------------------------- */

/* The protocol us_socket() uses, or a negative errno. */
static int pick_protocol(int af, int type, int proto)
{
	if (af != US_AF_INET && af != US_AF_INET6)
		return -EAFNOSUPPORT;
	switch (type) {
	case US_SOCK_DGRAM:
		if (proto != 0 && proto != US_IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		return US_IPPROTO_UDP;
	case US_SOCK_RAW:
		/* A raw socket names its protocol; 255 (IPPROTO_RAW, the caller
		 * writes the IP header) is not offered: the stack builds it. */
		if (proto <= 0 || proto >= 255)
			return -EPROTONOSUPPORT;
		return proto;
	case US_SOCK_STREAM:
		/* Not implemented: TCP comes with its own issue. */
		return -EPROTONOSUPPORT;
	default:
		return -ESOCKTNOSUPPORT;
	}
}

int us_socket(struct us_runtime *rt, int af, int type, int proto)
{
	int p = pick_protocol(af, type, proto);
	if (p < 0)
		return fail(p);
	struct us_sock *sk = calloc(1, sizeof *sk);
	if (!sk)
		return fail(-ENOMEM);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = -pthread_cond_init(&sk->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc < 0) {
		free(sk);
		return fail(rc);
	}
	sk->family = af;
	sk->type = type;
	sk->proto = p;
	sk->timeout = US_TIMEOUT_NONE;
	sk->timeout_us = -1;

	/* A handle first (not yet visible: ready is false), pinning the runtime. */
	us_api_lock();
	if (!rt)
		rt = us_runtime_default_locked();
	if (!rt || !us_runtime_pin(rt)) {
		us_api_unlock();
		pthread_cond_destroy(&sk->cond);
		free(sk);
		return fail(-ENETDOWN);
	}
	rc = slot_alloc(sk);
	if (rc < 0) {
		us_runtime_unpin(rt);
		us_api_unlock();
		pthread_cond_destroy(&sk->cond);
		free(sk);
		return fail(rc);
	}
	sk->handle = rc;
	sk->home = rt;
	sk->in_table = true;
	sk->linked = true;
	sk->refs = 1;
	us_api_unlock();

	/* Then the core's endpoint. */
	struct call c = { .sk = sk, .rt = rt };
	pthread_mutex_lock(&rt->lock);
	rc = 0;
	if (rt->down)
		rc = -ENETDOWN;
	else if (type == US_SOCK_DGRAM)
		sk->udp = us_udp_open(rt->stack, af, on_core_event, sk, &rc);
	else
		sk->raw = us_raw_open(rt->stack, af, p, on_core_event, sk, &rc);
	if (!sk->udp && !sk->raw) {
		if (rc >= 0)
			rc = -ENOMEM;
	} else {
		sk->next = rt->socks;
		if (rt->socks)
			rt->socks->prev = sk;
		rt->socks = sk;
	}
	pthread_mutex_unlock(&rt->lock);

	us_api_lock();
	if (rc < 0) {
		slot_release(sk->handle);
		sk->in_table = false;
		sk->linked = false;
	} else {
		sk->ready = true;
	}
	us_api_unlock();
	int handle = sk->handle;
	leave(&c);
	return rc < 0 ? fail(rc) : handle;
}

int us_close(int s)
{
	us_api_lock();
	struct us_sock *sk = lookup(s);
	if (!sk) {
		us_api_unlock();
		return fail(-EBADF);
	}
	slot_release(s);
	sk->in_table = false;
	bool pinned = !sk->detached && us_runtime_pin(sk->home);
	if (!pinned) {
		/* The runtime has stopped: its endpoint is gone already, and the
		 * socket is freed here or, while the stop is still detaching, there. */
		maybe_free(sk);
		us_api_unlock();
		return 0;
	}
	sk->refs++;
	us_api_unlock();

	struct call c = { .sk = sk, .rt = sk->home };
	struct us_runtime *rt = c.rt;
	pthread_mutex_lock(&rt->lock);
	sk->closed = true;
	release_endpoint(sk);
	if (sk->prev)
		sk->prev->next = sk->next;
	else
		rt->socks = sk->next;
	if (sk->next)
		sk->next->prev = sk->prev;
	sk->next = sk->prev = NULL;
	/* Calls blocked on it wake and fail with EBADF; us_poll() sees POLLNVAL. */
	wake_sock(sk);
	pthread_mutex_unlock(&rt->lock);

	us_api_lock();
	sk->linked = false;
	us_api_unlock();
	leave(&c);
	return 0;
}

int us_getsocketsta(int s)
{
	us_api_lock();
	struct us_sock *sk = lookup(s);
	us_api_unlock();
	/* Datagram and raw sockets have no TCP state: CLOSED, "not in use". */
	return sk ? US_TCP_CLOSED : fail(-EBADF);
}

/* ---- Addresses ------------------------------------------------------------ */

/* Which address families a call takes besides the socket's own. */
enum family_rule {
	SAME_FAMILY,  /* bind: the socket's family only (as Linux's inet6_bind) */
	PEER_FAMILY,  /* sendto: an IPv6 UDP socket also reaches IPv4 peers
		       * (the core maps them to ::ffff:a.b.c.d, or refuses
		       * with EAFNOSUPPORT under V6ONLY) */
	PEER_OR_NONE, /* connect: the same, and US_AF_UNSPEC dissolves */
};

/* A socket's address argument: EFAULT for NULL, EAFNOSUPPORT for a family
 * the call does not take. */
static int check_family(const struct us_sock *sk, const struct us_addr *a, enum family_rule rule)
{
	if (!a)
		return -EFAULT;
	if (a->family == sk->family)
		return 0;
	if (rule == SAME_FAMILY)
		return -EAFNOSUPPORT;
	if (a->family == US_AF_UNSPEC && rule == PEER_OR_NONE)
		return 0;
	if (a->family == US_AF_INET && sk->family == US_AF_INET6 && sk->type == US_SOCK_DGRAM)
		return 0;
	return -EAFNOSUPPORT;
}

int us_bind(int s, const struct us_addr *local)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if ((rc = check_family(c.sk, local, SAME_FAMILY)) == 0 && (rc = lock_core(&c)) == 0) {
		if (c.sk->udp)
			rc = us_udp_bind(c.sk->udp, local);
		else
			rc = us_raw_bind(c.sk->raw, local);
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

int us_connect(int s, const struct us_addr *remote)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	/* US_AF_UNSPEC dissolves the association (connect(2) with AF_UNSPEC). */
	if ((rc = check_family(c.sk, remote, PEER_OR_NONE)) == 0 && (rc = lock_core(&c)) == 0) {
		if (c.sk->udp) {
			rc = us_udp_connect(c.sk->udp, remote);
		} else {
			rc = us_raw_connect(c.sk->raw, remote);
			if (rc >= 0) {
				c.sk->raw_connected = remote->family != US_AF_UNSPEC;
				c.sk->raw_peer = *remote;
			}
		}
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

int us_listen(int s, int backlog)
{
	(void)backlog;
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	/* Only stream sockets listen, and there are none yet. */
	leave(&c);
	return fail(-EOPNOTSUPP);
}

int us_accept(int s, struct us_addr *peer)
{
	(void)peer;
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	leave(&c);
	return fail(-EOPNOTSUPP);
}

int us_getsockname(int s, struct us_addr *a)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if (!a)
		rc = -EFAULT;
	else if ((rc = lock_core(&c)) == 0) {
		rc = c.sk->udp ? us_udp_local(c.sk->udp, a) : us_raw_local(c.sk->raw, a);
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

int us_getpeername(int s, struct us_addr *a)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if (!a)
		rc = -EFAULT;
	else if ((rc = lock_core(&c)) == 0) {
		if (c.sk->udp)
			rc = us_udp_remote(c.sk->udp, a);
		else if (c.sk->raw_connected)
			*a = c.sk->raw_peer;
		else
			rc = -ENOTCONN;
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

/* Core lock held: has the socket a fixed peer? */
static bool connected(const struct us_sock *sk)
{
	struct us_addr peer;
	if (sk->udp)
		return us_udp_remote(sk->udp, &peer) == 0;
	return sk->raw_connected;
}

/* Core lock held: the next datagram into buf (its full length, which may be
 * more than cap), or a negative errno (-EAGAIN: none waits). */
static int core_recv(struct us_sock *sk, uint8_t *buf, size_t cap, struct us_addr *from)
{
	struct us_addr dummy;
	if (!from)
		from = &dummy;
	if (sk->udp)
		return us_udp_recvfrom(sk->udp, buf, cap, from);
	return us_raw_recvfrom(sk->raw, buf, cap, from);
}

/* Core lock held: discards what waits (after SHUT_RD), so that its buffers
 * go back to the core's pools. */
static void drain(struct us_sock *sk)
{
	uint8_t byte;
	while (core_recv(sk, &byte, 0, NULL) != -EAGAIN) {
	}
}

/*
 * Datagram semantics of shutdown(): both need a fixed peer (ENOTCONN, as
 * Linux says for unconnected UDP). SHUT_RD: what waits is discarded, and
 * every receiving call from then on returns 0 (end of stream) at once, also
 * a call blocked at the time; datagrams arriving later are discarded by the
 * next receiving call. SHUT_WR: every sending call fails with EPIPE.
 */
int us_shutdown(int s, int how)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if (how != US_SHUT_RD && how != US_SHUT_WR && how != US_SHUT_RDWR)
		rc = -EINVAL;
	else if ((rc = lock_core(&c)) == 0) {
		if (!connected(c.sk)) {
			rc = -ENOTCONN;
		} else {
			if (how != US_SHUT_WR) {
				c.sk->shut_rd = true;
				drain(c.sk);
			}
			if (how != US_SHUT_RD)
				c.sk->shut_wr = true;
			wake_sock(c.sk);
		}
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

/* ---- Sending ------------------------------------------------------------ */

/*
 * One datagram to `to` (NULL: the connected peer), whole or not at all.
 * Returns len or a negative errno. A datagram socket is always writable: a
 * send never waits, whatever the timeout. When the link cannot take the
 * frame now (the driver's queue is full: -EAGAIN from the core) the
 * datagram is lost and the call says ENOBUFS, as Linux UDP does with
 * IP_RECVERR; the pools running short is ENOBUFS too.
 */
static ssize_t send_dgram(int s, const void *buf, size_t len, const struct us_addr *to)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return rc;
	if (!buf && len > 0)
		rc = -EFAULT;
	else if (to)
		rc = check_family(c.sk, to, PEER_FAMILY);
	if (rc == 0 && (rc = lock_core(&c)) == 0) {
		struct us_runtime *rt = c.rt;
		us_time_t before = us_stack_next_deadline(rt->stack);
		rt->core_now = us_runtime_now(rt);
		if (c.sk->shut_wr)
			rc = -EPIPE;
		else if (c.sk->udp)
			rc = us_udp_sendto(c.sk->udp, rt->core_now, to, buf, len);
		else if (to || c.sk->raw_connected)
			rc = us_raw_sendto(c.sk->raw, rt->core_now, to ? to : &c.sk->raw_peer, buf, len);
		else
			rc = -EDESTADDRREQ;
		if (rc == -EAGAIN)
			rc = -ENOBUFS;
		/* A datagram waiting for its neighbour's address sets a timer
		 * the stack thread must hear of. */
		bool new_deadline = us_stack_next_deadline(rt->stack) != before;
		unlock_core(&c);
		if (new_deadline)
			us_runtime_wake(rt);
	}
	leave(&c);
	return rc < 0 ? rc : (ssize_t)len;
}

ssize_t us_send(int s, const void *buf, size_t len)
{
	ssize_t rc = send_dgram(s, buf, len, NULL);
	return rc < 0 ? fail((int)rc) : rc;
}

ssize_t us_sendto(int s, const void *buf, size_t len, const struct us_addr *to)
{
	if (!to) {
		/* Checked after the handle, like every argument. */
		struct call c;
		int rc = enter(s, &c);
		if (rc == 0)
			leave(&c);
		return fail(rc < 0 ? rc : -EFAULT);
	}
	ssize_t rc = send_dgram(s, buf, len, to);
	return rc < 0 ? fail((int)rc) : rc;
}

/* A datagram goes whole or not at all, so write() is send(): never short. */
ssize_t us_write(int s, const void *buf, size_t len)
{
	return us_send(s, buf, len);
}

int us_sendall(int s, const void *buf, size_t len, size_t *sent)
{
	ssize_t rc = send_dgram(s, buf, len, NULL);
	if (sent)
		*sent = rc < 0 ? 0 : (size_t)rc;
	return rc < 0 ? fail((int)rc) : 0;
}

/* ---- Receiving ----------------------------------------------------------- */

/*
 * One datagram into buf (truncated to cap), waiting as the timeout says.
 * Returns its full length (may exceed cap), 0 at end of stream (after
 * SHUT_RD), or a negative errno.
 */
static int recv_in_call(struct call *c, uint8_t *buf, size_t cap, struct us_addr *from)
{
	int rc = lock_core(c);
	if (rc < 0)
		return rc;
	start_timer(c);
	for (;;) {
		if (c->sk->shut_rd) {
			drain(c->sk);
			if (from)
				memset(from, 0, sizeof *from);
			rc = 0;
			break;
		}
		rc = core_recv(c->sk, buf, cap, from);
		if (rc != -EAGAIN || (rc = wait_for_event(c)) < 0 || (rc = alive(c)) < 0)
			break;
	}
	unlock_core(c);
	return rc;
}

/* recv_in_call() for one handle, with argument checks. */
static int recv_dgram(int s, void *buf, size_t cap, struct us_addr *from)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return rc;
	if (!buf && cap > 0)
		rc = -EFAULT;
	else
		rc = recv_in_call(&c, buf, cap, from);
	leave(&c);
	return rc;
}

static ssize_t truncated(int full, size_t cap)
{
	if (full < 0)
		return fail(full);
	return (size_t)full < cap ? full : (ssize_t)cap;
}

/* recv(2) semantics: len 0 still takes (and discards) one datagram. */
ssize_t us_recv(int s, void *buf, size_t len)
{
	return truncated(recv_dgram(s, buf, len, NULL), len);
}

ssize_t us_recvfrom(int s, void *buf, size_t len, struct us_addr *from)
{
	if (!from) {
		struct call c;
		int rc = enter(s, &c);
		if (rc == 0)
			leave(&c);
		return fail(rc < 0 ? rc : -EFAULT);
	}
	return truncated(recv_dgram(s, buf, len, from), len);
}

/* File semantics (Python's read(0)): size 0 reads nothing and returns 0. */
ssize_t us_read(int s, void *buf, size_t size)
{
	if (size == 0) {
		struct call c;
		int rc = enter(s, &c);
		if (rc < 0)
			return fail(rc);
		leave(&c);
		return 0;
	}
	return truncated(recv_dgram(s, buf, size, NULL), size);
}

ssize_t us_readinto(int s, void *buf, size_t buflen, size_t nbytes)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	size_t want = nbytes ? nbytes : buflen;
	if (!buf && buflen > 0)
		rc = -EFAULT;
	else if (nbytes > buflen)
		rc = -EINVAL; /* Python: "buffer too small for requested bytes" */
	else if (want > 0)
		rc = recv_in_call(&c, buf, want, NULL);
	leave(&c);
	return truncated(rc, want);
}

/* Datagram: one datagram, cut after its first '\n' (or at cap - 1); the rest
 * of that datagram is discarded. cap must hold a byte and the NUL. */
ssize_t us_readline(int s, char *buf, size_t cap)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if (!buf && cap > 0)
		rc = -EFAULT;
	else if (cap < 2)
		rc = -EINVAL;
	else
		rc = recv_in_call(&c, (uint8_t *)buf, cap - 1, NULL);
	leave(&c);
	if (rc < 0)
		return fail(rc);
	size_t n = (size_t)rc < cap - 1 ? (size_t)rc : cap - 1;
	const char *nl = memchr(buf, '\n', n);
	if (nl)
		n = (size_t)(nl - buf) + 1;
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Datagram: the next datagram whole (read() without a size has no length
 * to cut at); 0 bytes at end of stream. *buf is malloc'd in both cases. */
int us_readall(int s, uint8_t **buf, size_t *len)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0) {
		if (buf)
			*buf = NULL;
		if (len)
			*len = 0;
		return fail(rc);
	}
	uint8_t *data = NULL;
	if (!buf || !len) {
		rc = -EFAULT;
	} else if (!(data = malloc(DGRAM_MAX))) {
		rc = -ENOMEM;
	} else {
		rc = recv_in_call(&c, data, DGRAM_MAX, NULL);
	}
	leave(&c);
	if (rc < 0) {
		free(data);
		if (buf)
			*buf = NULL;
		if (len)
			*len = 0;
		return fail(rc);
	}
	size_t n = (size_t)rc < DGRAM_MAX ? (size_t)rc : DGRAM_MAX;
	uint8_t *fit = realloc(data, n ? n : 1);
	*buf = fit ? fit : data;
	*len = n;
	return 0;
}

/* ---- Timeouts ------------------------------------------------------------ */

int us_settimeout(int s, double seconds)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	us_time_t t = -1;
	if (isnan(seconds) || (seconds < 0 && seconds != US_TIMEOUT_NONE) ||
	    seconds > TIMEOUT_MAX_SECONDS)
		rc = -EINVAL;
	else if (seconds >= 0) {
		/* Rounded up: a positive timeout never turns into "non-blocking". */
		double us = seconds * 1e6;
		t = (us_time_t)us;
		if ((double)t < us)
			t++;
	}
	if (rc == 0 && (rc = lock_core(&c)) == 0) {
		c.sk->timeout = seconds;
		c.sk->timeout_us = t;
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

int us_gettimeout(int s, double *seconds)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if (!seconds)
		rc = -EFAULT;
	else if ((rc = lock_core(&c)) == 0) {
		*seconds = c.sk->timeout;
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

int us_setblocking(int s, bool blocking)
{
	return us_settimeout(s, blocking ? US_TIMEOUT_NONE : 0.0);
}

/* ---- Options ------------------------------------------------------------- */

/* How one (level, option) maps onto the socket. */
enum opt_kind {
	OPT_CORE,  /* an option the core keeps: enum us_sock_opt */
	OPT_TYPE,  /* SO_TYPE: read-only */
	OPT_ERROR, /* SO_ERROR: read-only, reading clears it */
};

struct opt_map {
	enum opt_kind kind;
	enum us_sock_opt core;
	int min, max;   /* the values setsockopt takes */
	bool boolean;   /* any non-zero value is 1 */
	bool hops;      /* TTL / hop limit: -1 means the default (the core's 0) */
};

/*
 * The options of datagram and raw sockets, as Linux names them. An option
 * of another level or family (IP_TTL on an IPv6 socket), or of TCP
 * (SO_KEEPALIVE, SO_LINGER, TCP_*: they mean nothing without a connection),
 * is -ENOPROTOOPT.
 */
static int map_option(const struct us_sock *sk, int level, int opt, struct opt_map *m)
{
	memset(m, 0, sizeof *m);
	m->kind = OPT_CORE;
	m->max = 1;
	if (level == US_SOL_SOCKET) {
		switch (opt) {
		case US_SO_REUSEADDR:
			m->core = US_OPT_REUSEADDR;
			m->boolean = true;
			return 0;
		case US_SO_BROADCAST:
			m->core = US_OPT_BROADCAST;
			m->boolean = true;
			return 0;
		case US_SO_RCVBUF:
			m->core = US_OPT_RCVBUF;
			m->max = INT_MAX;
			return 0;
		case US_SO_SNDBUF:
			m->core = US_OPT_SNDBUF;
			m->max = INT_MAX;
			return 0;
		case US_SO_TYPE:
			m->kind = OPT_TYPE;
			return 0;
		case US_SO_ERROR:
			m->kind = OPT_ERROR;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == US_IPPROTO_IP && sk->family == US_AF_INET) {
		switch (opt) {
		case US_IP_TTL:
			/* RFC 791 §3.2: 1..255; Linux takes -1 for the default. */
			m->core = US_OPT_TTL;
			m->min = -1;
			m->max = 255;
			m->hops = true;
			return 0;
		case US_IP_TOS:
			m->core = US_OPT_TOS;
			m->max = 255;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == US_IPPROTO_IPV6 && sk->family == US_AF_INET6) {
		switch (opt) {
		case US_IPV6_UNICAST_HOPS:
			/* RFC 3493 §5.1: -1 (the default) or 0..255. Deviation: 0
			 * is refused (EINVAL), the core reads it as "the default". */
			m->core = US_OPT_TTL;
			m->min = -1;
			m->max = 255;
			m->hops = true;
			return 0;
		case US_IPV6_V6ONLY:
			m->core = US_OPT_V6ONLY;
			m->boolean = true;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	return -ENOPROTOOPT;
}

static int core_setopt(struct us_sock *sk, enum us_sock_opt opt, int v)
{
	return sk->udp ? us_udp_setopt(sk->udp, opt, v) : us_raw_setopt(sk->raw, opt, v);
}

static int core_getopt(const struct us_sock *sk, enum us_sock_opt opt, int *v)
{
	return sk->udp ? us_udp_getopt(sk->udp, opt, v) : us_raw_getopt(sk->raw, opt, v);
}

int us_setsockopt(int s, int level, int opt, const void *value, size_t len)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	struct opt_map m;
	int v = 0;
	if ((rc = map_option(c.sk, level, opt, &m)) < 0)
		goto out;
	if (m.kind != OPT_CORE) {
		rc = -ENOPROTOOPT; /* read-only, as Linux says */
		goto out;
	}
	if (!value) {
		rc = -EFAULT;
		goto out;
	}
	if (len != sizeof(int)) {
		rc = -EINVAL;
		goto out;
	}
	memcpy(&v, value, sizeof v);
	if (m.boolean)
		v = v != 0;
	if (v < m.min || v > m.max || (m.hops && v == 0)) {
		rc = -EINVAL;
		goto out;
	}
	if (m.hops && v == -1)
		v = 0;
	if ((rc = lock_core(&c)) == 0) {
		rc = core_setopt(c.sk, m.core, v);
		unlock_core(&c);
	}
out:
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

int us_setsockopt_int(int s, int level, int opt, int value)
{
	return us_setsockopt(s, level, opt, &value, sizeof value);
}

int us_getsockopt(int s, int level, int opt, void *value, size_t *len)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	struct opt_map m;
	int v = 0;
	if ((rc = map_option(c.sk, level, opt, &m)) < 0)
		goto out;
	if (!value || !len) {
		rc = -EFAULT;
		goto out;
	}
	if (*len < sizeof(int)) {
		rc = -EINVAL;
		goto out;
	}
	if ((rc = lock_core(&c)) < 0)
		goto out;
	switch (m.kind) {
	case OPT_TYPE:
		v = c.sk->type;
		break;
	case OPT_ERROR:
		/* The pending error (ICMP port unreachable: ECONNREFUSED, RFC
		 * 1122 §4.1.3.3); reading it clears it, as it is reported once. */
		if ((c.sk->udp ? us_udp_events(c.sk->udp) : us_raw_events(c.sk->raw)) & US_EV_ERROR) {
			uint8_t byte;
			int e = core_recv(c.sk, &byte, 0, NULL);
			v = e < 0 && e != -EAGAIN ? -e : 0;
		}
		break;
	case OPT_CORE:
		rc = core_getopt(c.sk, m.core, &v);
		if (rc == 0 && m.hops && v == 0)
			v = DEFAULT_HOPS;
		break;
	}
	unlock_core(&c);
	if (rc == 0) {
		memcpy(value, &v, sizeof v);
		*len = sizeof v;
	}
out:
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

/* ---- us_poll ------------------------------------------------------------- */

/* us_poll() blocked on these sockets counts as one waiter on each
 * (us_socket_waiters()). */
static void count_poll_waiter(struct call *calls, size_t n, int delta)
{
	for (size_t i = 0; i < n; i++) {
		if (!calls[i].sk)
			continue;
		pthread_mutex_lock(&calls[i].rt->lock);
		calls[i].sk->waiters += (unsigned)delta;
		pthread_mutex_unlock(&calls[i].rt->lock);
	}
}

/* Core lock of sk's runtime held: the revents of one socket. */
static short sock_revents(const struct us_sock *sk, short events)
{
	if (sk->closed)
		return US_POLLNVAL;
	if (sk->down)
		return US_POLLERR | US_POLLHUP;
	int ev = sk->udp ? us_udp_events(sk->udp) : us_raw_events(sk->raw);
	short r = 0;
	if ((ev & US_EV_READABLE) || sk->shut_rd)
		r |= US_POLLIN;
	if (ev & US_EV_WRITABLE)
		r |= US_POLLOUT;
	if (ev & US_EV_ERROR)
		r |= US_POLLERR;
	if (sk->shut_rd && sk->shut_wr)
		r |= US_POLLHUP;
	return (short)(r & (events | US_POLLERR | US_POLLHUP));
}

/*
 * poll(2) over socket handles. Negative handles are skipped (revents 0),
 * as poll(2) skips negative descriptors. A dead handle gets POLLNVAL, a
 * socket whose runtime stopped POLLERR|POLLHUP; both count in the result.
 * The sockets may belong to several runtimes; the timeout runs on the clock
 * of the first live socket's runtime. Deviation: unlike poll(2), with no live
 * socket to wait on, it returns at once (it has no clock to wait on).
 */
int us_poll(struct us_pollfd *fds, size_t n, int timeout_ms)
{
	if (n && !fds)
		return fail(-EFAULT);
	if (n > (size_t)US_MAX_SOCKETS * 16)
		return fail(-EINVAL); /* as poll(2) beyond RLIMIT_NOFILE */
	struct call *calls = n ? calloc(n, sizeof *calls) : NULL;
	struct us_poll_node *nodes = n ? calloc(n, sizeof *nodes) : NULL;
	if (n && (!calls || !nodes)) {
		free(calls);
		free(nodes);
		return fail(-ENOMEM);
	}
	struct poller p = { .fired = false };
	pthread_mutex_init(&p.m, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.cv, &ca);
	pthread_condattr_destroy(&ca);

	/* Pin every live socket; register with each runtime once. */
	int ready = 0;
	size_t n_nodes = 0;
	struct us_runtime *timing = NULL;
	for (size_t i = 0; i < n; i++) {
		fds[i].revents = 0;
		if (fds[i].sock < 0)
			continue;
		int rc = enter(fds[i].sock, &calls[i]);
		if (rc < 0) {
			fds[i].revents = rc == -EBADF ? US_POLLNVAL : US_POLLERR | US_POLLHUP;
			calls[i].sk = NULL;
			ready++;
			continue;
		}
		struct us_runtime *rt = calls[i].rt;
		if (!timing)
			timing = rt;
		size_t k = 0;
		while (k < n_nodes && nodes[k].rt != rt)
			k++;
		if (k == n_nodes) {
			nodes[k].p = &p;
			nodes[k].rt = rt;
			pthread_mutex_lock(&rt->lock);
			nodes[k].next = rt->pollers;
			if (rt->pollers)
				rt->pollers->prev = &nodes[k];
			rt->pollers = &nodes[k];
			pthread_mutex_unlock(&rt->lock);
			n_nodes++;
		}
	}

	us_time_t deadline = US_TIME_NEVER;
	if (timing && timeout_ms >= 0)
		deadline = deadline_after(us_runtime_now(timing), US_MSEC(timeout_ms));
	int count;
	for (;;) {
		pthread_mutex_lock(&p.m);
		p.fired = false;
		pthread_mutex_unlock(&p.m);

		count = ready;
		for (size_t i = 0; i < n; i++) {
			if (!calls[i].sk)
				continue;
			pthread_mutex_lock(&calls[i].rt->lock);
			fds[i].revents = sock_revents(calls[i].sk, fds[i].events);
			pthread_mutex_unlock(&calls[i].rt->lock);
			if (fds[i].revents)
				count++;
		}
		if (count || !timing || timeout_ms == 0)
			break;
		us_time_t now = us_runtime_now(timing);
		if (now >= deadline)
			break;
		count_poll_waiter(calls, n, 1);
		pthread_mutex_lock(&p.m);
		if (!p.fired) {
			if (deadline == US_TIME_NEVER || timing->clock.is_virtual) {
				pthread_cond_wait(&p.cv, &p.m);
			} else {
				struct timespec ts = monotonic_after(deadline - now);
				pthread_cond_timedwait(&p.cv, &p.m, &ts);
			}
		}
		pthread_mutex_unlock(&p.m);
		count_poll_waiter(calls, n, -1);
	}

	for (size_t k = 0; k < n_nodes; k++) {
		struct us_runtime *rt = nodes[k].rt;
		pthread_mutex_lock(&rt->lock);
		if (nodes[k].prev)
			nodes[k].prev->next = nodes[k].next;
		else
			rt->pollers = nodes[k].next;
		if (nodes[k].next)
			nodes[k].next->prev = nodes[k].prev;
		pthread_mutex_unlock(&rt->lock);
	}
	for (size_t i = 0; i < n; i++)
		if (calls[i].sk)
			leave(&calls[i]);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.m);
	free(calls);
	free(nodes);
	return count;
}

/* ---- us_makefile --------------------------------------------------------- */

/* A stdio stream over a socket (fopencookie). "rb": fully buffered through a
 * buffer that holds the largest datagram, so that no datagram is cut; the
 * datagrams' bytes follow each other in the stream. "wb": unbuffered, so
 * that each fwrite() (fputs(), fprintf()) sends one datagram. */
struct file_cookie {
	int sock;
	char *rbuf; /* "rb": the stream's buffer, DGRAM_MAX bytes */
};

static ssize_t cookie_read(void *ctx, char *buf, size_t size)
{
	struct file_cookie *fc = ctx;
	return us_read(fc->sock, buf, size);
}

static ssize_t cookie_write(void *ctx, const char *buf, size_t size)
{
	struct file_cookie *fc = ctx;
	ssize_t n = us_write(fc->sock, buf, size);
	/* fopencookie(3): 0 (with errno set) on error, never negative. */
	return n < 0 ? 0 : n;
}

static int cookie_close(void *ctx)
{
	struct file_cookie *fc = ctx;
	/* fclose() has flushed, and does not touch a caller's buffer again. */
	free(fc->rbuf);
	free(fc);
	return 0;
}

FILE *us_makefile(int s, const char *mode)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	leave(&c);
	bool reading;
	if (!mode) {
		errno = EFAULT;
		return NULL;
	}
	if (strcmp(mode, "rb") == 0) {
		reading = true;
	} else if (strcmp(mode, "wb") == 0) {
		reading = false;
	} else {
		errno = EINVAL;
		return NULL;
	}
	struct file_cookie *fc = calloc(1, sizeof *fc);
	if (!fc || (reading && !(fc->rbuf = malloc(DGRAM_MAX)))) {
		free(fc);
		errno = ENOMEM;
		return NULL;
	}
	fc->sock = s;
	cookie_io_functions_t io = {
		.read = reading ? cookie_read : NULL,
		.write = reading ? NULL : cookie_write,
		.close = cookie_close,
	};
	FILE *f = fopencookie(fc, reading ? "r" : "w", io);
	if (!f) {
		free(fc->rbuf);
		free(fc);
		return NULL;
	}
	if (reading)
		setvbuf(f, fc->rbuf, _IOFBF, DGRAM_MAX);
	else
		setvbuf(f, NULL, _IONBF, 0);
	return f;
}

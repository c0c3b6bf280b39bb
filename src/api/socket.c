/* SPDX-License-Identifier: MIT */
/*
 * socket.c - the socket API of ustack/ustack.h: blocking, thread-safe
 * sockets built on the core's non-blocking endpoints (us_tcp_* for
 * SOCK_STREAM, RFC 9293 §3.10's user calls; us_udp_* for SOCK_DGRAM, RFC 768
 * / RFC 1122 §4.1; us_raw_* for SOCK_RAW). The spec is
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
 *      or the deadline, and look again (a datagram send never waits; a
 *      stream send waits for room in the send buffer, a connect for the
 *      handshake, an accept for a connection). A call that changed the
 *      core's deadlines (a segment to retransmit, a delayed ACK) wakes the
 *      stack thread, so that it sleeps until the new deadline;
 *   5. leave(): unpin. The last one out of a closed socket frees it.
 *
 * Time. A timeout is measured on the runtime's clock. On the real clock a
 * waiter sleeps in pthread_cond_timedwait() on CLOCK_MONOTONIC; on a virtual
 * clock it sleeps without a timeout and the stack thread wakes every waiter
 * of the runtime whenever it sees the clock moved (us_socket_clock_moved()),
 * so each one compares its deadline with us_runtime_now() again.
 *
 * Busy polling (us_runtime_config.busy_poll_us; runtime.c): before it
 * sleeps, a waiter spins with the core lock released, for at most the
 * budget and only while the link is busy, watching the socket's event
 * count (bumped with every wake of its condition variable) and reading the
 * driver itself when no other thread is (busy_wait()). It then looks again
 * as after a wake, so a spin changes when a call sees an event, never what
 * it returns.
 *
 * Datagram semantics (documented per call below, for docs/api.md):
 * every receiving call takes exactly one datagram, truncated to the buffer
 * (the rest of it is discarded, as recv(2) does without MSG_PEEK); every
 * sending call sends exactly one datagram, whole or not at all.
 *
 * Stream semantics (the MicroPython stream methods over TCP): us_recv and
 * us_recvfrom return what has arrived (at least one byte, 0 at end of
 * stream); us_read, us_readinto and us_readline are file reads that wait
 * for all they were asked (the size, or a '\n') and stop short only at end
 * of stream; us_readall reads to end of stream. A read that times out (or
 * would block, or meets an error) after part of its data came returns the
 * part, and an error it met is kept for the next call: no byte is lost.
 * us_readline must not take bytes beyond the '\n' out of the stream, and
 * the core cannot peek: what it read past the line waits in the socket's
 * read-ahead buffer, which every receiving call empties first. us_send
 * queues what fits (it may be short); us_write and us_sendall wait until
 * everything is queued.
 */
#include <ustack/ustack.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h> /* struct linger */
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

/* readline's read-ahead buffer: it reads at most this much from the core
 * at once, so what it reads past a '\n' always fits. */
#define AHEAD_CAP 4096u

/* us_readall's first buffer on a stream; it doubles as data comes. */
#define READALL_FIRST 4096u

/* TCP_KEEPIDLE / TCP_KEEPINTVL and TCP_KEEPCNT limits, as Linux's
 * MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL and MAX_TCP_KEEPCNT. */
#define KEEP_TIME_MAX 32767
#define KEEP_COUNT_MAX 127

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
	int type;   /* US_SOCK_STREAM, US_SOCK_DGRAM or US_SOCK_RAW */
	int proto;  /* US_IPPROTO_TCP, US_IPPROTO_UDP, or the raw socket's protocol */
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
	struct us_tcp *tcp;  /* NULL once closed, or when the runtime stopped */
	pthread_cond_t cond; /* the core's events, close, stop, clock moves */
	atomic_uint events;  /* bumped with every wake of cond (busy_wait() reads it unlocked) */
	unsigned waiters;    /* calls blocked on cond */
	bool wake_queued;    /* in home->wake_list (runtime_impl.h) */
	struct us_sock *wake_next;
	us_socket_cb cb;     /* the event callback (us_socket_callback()), or NULL */
	void *cb_arg;
	bool cb_queued;      /* in home->cb_list or home->cb_round */
	struct us_sock *cb_next;
	bool closed;         /* us_close() has begun: calls fail with EBADF */
	bool down;           /* home stopped: calls fail with ENETDOWN */
	bool shut_rd, shut_wr;
	bool raw_connected;  /* raw sockets: us_connect() fixed raw_peer */
	struct us_addr raw_peer;
	/* Streams. */
	uint8_t *ahead;      /* readline's read-ahead: AHEAD_CAP bytes, or NULL */
	size_t ahead_off, ahead_len; /* the bytes waiting in it */
	int stream_err;      /* an error a read met after part of its data: the next call's */
	bool user_bound;     /* us_bind() chose bound_to (kept when a connect is undone) */
	struct us_addr bound_to;
	double timeout;      /* as given: seconds, or US_TIMEOUT_NONE */
	us_time_t timeout_us; /* -1: none (block), 0: non-blocking */
};

_Thread_local struct us_runtime *us_callback_runtime;

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
	free(sk->ahead);
	free(sk);
}

/* ---- Calls --------------------------------------------------------------- */

struct call {
	struct us_sock *sk;
	struct us_runtime *rt;
	bool nonblock;     /* timeout 0 */
	us_time_t deadline; /* US_TIME_NEVER, or when the call gives up */
	us_time_t before;   /* the core's next deadline before the call's step */
	bool wake;          /* the deadline moved: the stack thread must hear of it */
};

static void leave(struct call *c);

/* Is this thread running rt's event callbacks, with its core lock held? */
static bool in_callback(const struct us_runtime *rt)
{
	return us_callback_runtime == rt;
}

/* The core lock for a section that calls no core function, unless this
 * thread holds it for rt's callbacks already. */
static void core_lock(struct us_runtime *rt)
{
	if (!in_callback(rt))
		pthread_mutex_lock(&rt->lock);
}

static void core_unlock(struct us_runtime *rt)
{
	if (!in_callback(rt))
		pthread_mutex_unlock(&rt->lock);
}

/* Step 1: 0, -EBADF (no such handle), -ENETDOWN (its runtime stopped) or
 * -EDEADLK (a callback of another runtime). */
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
	if (rc == 0)
		*c = (struct call){ .sk = sk, .rt = sk->home };
	/* A callback holds its own runtime's core lock: taking another's
	 * could deadlock with that runtime's callbacks doing the same. */
	if (rc == 0 && us_callback_runtime && us_callback_runtime != sk->home) {
		leave(c);
		rc = -EDEADLK;
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
	core_lock(c->rt);
	int rc = alive(c);
	if (rc < 0)
		core_unlock(c->rt);
	return rc;
}

/* Step 5's first half: the frames the call sent leave now (the core lock
 * is never held across the driver's system calls: runtime_impl.h). */
static void unlock_core(struct call *c)
{
	/* In a callback, the stack thread keeps the lock; the frames leave and
	 * the new deadlines count when its round ends. */
	if (in_callback(c->rt)) {
		c->wake = false;
		return;
	}
	us_runtime_unlock(c->rt);
	/* The stack thread hears of a new deadline after the frames are out:
	 * woken first, on the other CPU, it took that CPU from the peer that
	 * the frames wake (the 1-byte ping-pong was 11 us slower: 79 against
	 * 67 us, the kernel's 65). */
	if (c->wake) {
		c->wake = false;
		us_runtime_wake(c->rt);
	}
}

static us_time_t deadline_after(us_time_t now, us_time_t wait)
{
	return wait >= US_TIME_NEVER - now ? US_TIME_NEVER : now + wait;
}

/* Core lock held: starts the clock of a call that may block. In an event
 * callback every call is non-blocking (us_socket_callback()). */
static void start_timer(struct call *c)
{
	us_time_t t = c->sk->timeout_us;
	c->nonblock = t == 0 || in_callback(c->rt);
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

/* A spinning waiter yields its CPU once every this many turns (the
 * stack thread, or the peer on a small machine, may need it; runtime.c's
 * BUSY_POLL_YIELD_EVERY says why every turn). */
#define SPIN_YIELD_EVERY 1

/*
 * Core lock held (and held again on return): spins, the lock released,
 * until the socket's event count moves or the budget is spent; true when
 * it moved (the caller looks again without sleeping). Spins only when the
 * link is busy (a frame in or out within the budget), for at most the
 * budget, never past the call's deadline on the monotonic clock, and only
 * when fewer than US_BUSY_POLL_APP_SPINNERS calls of the runtime spin. The driver is read here when no other
 * thread is reading it: a frame for this socket then needs no hand-off.
 */
static bool busy_wait(struct call *c, us_time_t now)
{
	struct us_runtime *rt = c->rt;
	us_time_t t = us_runtime_monotonic_us();
	if (t - atomic_load_explicit(&rt->last_io_us, memory_order_relaxed) >= rt->busy_poll_us)
		return false;
	if (atomic_fetch_add(&rt->app_spinners, 1) >= US_BUSY_POLL_APP_SPINNERS) {
		atomic_fetch_sub(&rt->app_spinners, 1);
		return false;
	}
	us_time_t end = t + rt->busy_poll_us;
	/* On the monotonic clock (the default) the deadline compares. */
	if (c->deadline != US_TIME_NEVER && !rt->clock.now && c->deadline - now < rt->busy_poll_us)
		end = t + (c->deadline - now);
	unsigned seen = atomic_load_explicit(&c->sk->events, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt->bp_spins, 1, memory_order_relaxed);
	pthread_mutex_unlock(&rt->lock);
	for (unsigned turn = 1; us_runtime_monotonic_us() < end; turn++) {
		if (atomic_load_explicit(&c->sk->events, memory_order_acquire) != seen)
			break;
		if (us_runtime_busy_poll_driver(rt))
			continue;
		if (turn % SPIN_YIELD_EVERY == 0)
			sched_yield();
		else
			us_runtime_cpu_relax();
	}
	atomic_fetch_sub(&rt->app_spinners, 1);
	pthread_mutex_lock(&rt->lock);
	bool moved = atomic_load_explicit(&c->sk->events, memory_order_relaxed) != seen;
	if (moved)
		atomic_fetch_add_explicit(&rt->bp_hits, 1, memory_order_relaxed);
	return moved;
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
	/* What the call sent leaves before it sleeps (its peer's answer may
	 * be what it waits for), with the core lock free; then it looks again. */
	if (us_runtime_tx_pending(rt)) {
		us_runtime_unlock(rt);
		pthread_mutex_lock(&rt->lock);
		return 0;
	}
	if (c->wake || rt->cb_kick) {
		/* It sleeps: the stack thread must keep the call's timers, and
		 * run the callbacks the call gave work to. */
		c->wake = false;
		rt->cb_kick = false;
		us_runtime_wake(rt);
	}
	c->sk->waiters++;
	if (rt->busy_poll_us && busy_wait(c, now)) {
		c->sk->waiters--;
		return 0;
	}
	/* The spin may have used the time up: the caller looks once more. */
	if (c->deadline != US_TIME_NEVER && us_runtime_now(rt) >= c->deadline) {
		c->sk->waiters--;
		return 0;
	}
	if (c->deadline == US_TIME_NEVER || rt->clock.is_virtual) {
		pthread_cond_wait(&c->sk->cond, &rt->lock);
	} else {
		struct timespec ts = monotonic_after(c->deadline - now);
		pthread_cond_timedwait(&c->sk->cond, &rt->lock, &ts);
	}
	c->sk->waiters--;
	return 0;
}

/* Core lock held: the time for a call into the core (also stamped on the
 * frames it sends), noting the core's next deadline. */
static us_time_t core_begin(struct call *c)
{
	c->before = us_stack_next_deadline(c->rt->stack);
	c->rt->core_now = us_runtime_now(c->rt);
	return c->rt->core_now;
}

/* Core lock held, after core_begin() and the call: a deadline the call set
 * or moved must be heard by the stack thread, asleep until the old one. */
static void core_end(struct call *c)
{
	if (us_stack_next_deadline(c->rt->stack) == c->before)
		return;
	/* Sleeping in ppoll, the stack thread is woken after the frames are
	 * out (unlock_core(), or wait_for_event() before the call sleeps).
	 * Busy polling, a wake is a flag it sees while spinning: raised now,
	 * it has gone round before the peer answers; raised after the write,
	 * the 1-byte ping-pong took 30 us instead of 10. */
	if (c->rt->busy_poll_us)
		us_runtime_wake(c->rt);
	else
		c->wake = true;
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

/* Core lock held: the calls waiting on sk, sleeping or spinning, look again. */
static void signal_sock(struct us_sock *sk)
{
	atomic_fetch_add_explicit(&sk->events, 1, memory_order_release);
	pthread_cond_broadcast(&sk->cond);
}

/* Core lock held: everyone waiting on sk looks again. */
static void wake_sock(struct us_sock *sk)
{
	signal_sock(sk);
	fire_pollers(sk->home);
}

/* Core lock held: sk's event callback is to run (us_socket_callback()).
 * Queued by another thread than the stack thread, which then must wake. */
static void queue_callback(struct us_sock *sk)
{
	struct us_runtime *rt = sk->home;
	if (sk->cb_queued)
		return;
	sk->cb_queued = true;
	sk->cb_next = rt->cb_list;
	rt->cb_list = sk;
	if (!us_runtime_on_loop(rt))
		rt->cb_kick = true;
}

/* Core lock held: sk's callback is not to run (removed, or closing). */
static void unqueue_callback(struct us_sock *sk)
{
	if (!sk->cb_queued)
		return;
	struct us_sock **lists[] = { &sk->home->cb_list, &sk->home->cb_round };
	for (size_t i = 0; i < 2; i++) {
		struct us_sock **pp = lists[i];
		while (*pp && *pp != sk)
			pp = &(*pp)->cb_next;
		if (*pp) {
			*pp = sk->cb_next;
			break;
		}
	}
	sk->cb_queued = false;
	sk->cb_next = NULL;
}

/* The core's event callback: called under the core lock, from the stack
 * thread (input, timers) or from a socket call. It only wakes, or queues
 * the socket's callback; the waiters ask the core what changed. */
static void on_core_event(void *ctx, int events)
{
	(void)events;
	struct us_sock *sk = ctx;
	struct us_runtime *rt = sk->home;
	if (sk->cb)
		queue_callback(sk);
	if (!rt->defer_wakes) {
		wake_sock(sk);
		return;
	}
	if (!sk->wake_queued) {
		sk->wake_queued = true;
		sk->wake_next = rt->wake_list;
		rt->wake_list = sk;
	}
}

void us_socket_flush_wakes(struct us_runtime *rt)
{
	bool any = rt->wake_list != NULL;
	while (rt->wake_list) {
		struct us_sock *sk = rt->wake_list;
		rt->wake_list = sk->wake_next;
		sk->wake_queued = false;
		sk->wake_next = NULL;
		signal_sock(sk);
	}
	if (any)
		fire_pollers(rt);
}

/* Core lock held: sk leaves the list of sockets to wake (it is closing). */
static void unqueue_wake(struct us_sock *sk)
{
	if (!sk->wake_queued)
		return;
	struct us_sock **pp = &sk->home->wake_list;
	while (*pp && *pp != sk)
		pp = &(*pp)->wake_next;
	if (*pp)
		*pp = sk->wake_next;
	sk->wake_queued = false;
	sk->wake_next = NULL;
}

void us_socket_clock_moved(struct us_runtime *rt)
{
	for (struct us_sock *sk = rt->socks; sk; sk = sk->next)
		signal_sock(sk);
	fire_pollers(rt);
}

/* Core lock held: gives the core's endpoint back. A TCP connection still
 * open is aborted (RFC 9293 §3.10.5: RST to a synchronized peer): the
 * runtime is stopping and will not drive a graceful close to its end. */
static void release_endpoint(struct us_sock *sk)
{
	if (sk->udp)
		us_udp_close(sk->udp);
	if (sk->raw)
		us_raw_close(sk->raw);
	if (sk->tcp) {
		struct us_runtime *rt = sk->home;
		rt->core_now = us_runtime_now(rt);
		us_tcp_abort(sk->tcp, rt->core_now);
	}
	sk->udp = NULL;
	sk->raw = NULL;
	sk->tcp = NULL;
}

void us_socket_runtime_down(struct us_runtime *rt)
{
	us_socket_flush_wakes(rt);
	for (struct us_sock *sk = rt->socks; sk; sk = sk->next) {
		unqueue_callback(sk);
		release_endpoint(sk);
		sk->down = true;
		signal_sock(sk);
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
		if (proto != 0 && proto != US_IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		return US_IPPROTO_TCP;
	default:
		return -ESOCKTNOSUPPORT;
	}
}

/* A new socket, blocking, with no endpoint yet; NULL with *err. */
static struct us_sock *sock_new(int af, int type, int proto, int *err)
{
	struct us_sock *sk = calloc(1, sizeof *sk);
	if (!sk) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = -pthread_cond_init(&sk->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc < 0) {
		free(sk);
		*err = rc;
		return NULL;
	}
	sk->family = af;
	sk->type = type;
	sk->proto = proto;
	sk->timeout = US_TIMEOUT_NONE;
	sk->timeout_us = -1;
	return sk;
}

int us_socket(struct us_runtime *rt, int af, int type, int proto)
{
	int p = pick_protocol(af, type, proto);
	if (p < 0)
		return fail(p);
	int rc = 0;
	struct us_sock *sk = sock_new(af, type, p, &rc);
	if (!sk)
		return fail(rc);

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
	if (us_callback_runtime && us_callback_runtime != rt) {
		us_runtime_unpin(rt);
		us_api_unlock();
		pthread_cond_destroy(&sk->cond);
		free(sk);
		return fail(-EDEADLK);
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
	core_lock(rt);
	rc = 0;
	if (rt->down)
		rc = -ENETDOWN;
	else if (type == US_SOCK_STREAM)
		sk->tcp = us_tcp_open(rt->stack, af, on_core_event, sk, &rc);
	else if (type == US_SOCK_DGRAM)
		sk->udp = us_udp_open(rt->stack, af, on_core_event, sk, &rc);
	else
		sk->raw = us_raw_open(rt->stack, af, p, on_core_event, sk, &rc);
	if (!sk->udp && !sk->raw && !sk->tcp) {
		if (rc >= 0)
			rc = -ENOMEM;
	} else {
		sk->next = rt->socks;
		if (rt->socks)
			rt->socks->prev = sk;
		rt->socks = sk;
	}
	core_unlock(rt);

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

/* Has our FIN yet to be acknowledged, with the connection still on? The
 * states where SO_LINGER's close waits (Linux's sk_stream_wait_close()
 * waits in FIN_WAIT_1, CLOSING and LAST_ACK, after sending the FIN). */
static bool fin_unacked(int state)
{
	switch ((enum us_tcp_state)state) {
	case US_TCP_ESTABLISHED:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
		return true;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_TIME_WAIT:
		return false;
	}
	return false;
}

/*
 * Core lock held, sk->closed set: hands the stream's endpoint to the core.
 * By default the close is graceful and does not wait (RFC 9293 §3.10.4: the
 * queued data and a FIN leave, the core finishes alone). SO_LINGER
 * {1, 0}, or received bytes nobody read (also in the read-ahead), make it
 * an abort: RST (RFC 1122 §4.2.2.13: "If such a host issues a CLOSE call
 * while received data is still pending in TCP, or if new data is received
 * after CLOSE is called, its TCP SHOULD send a RST"). SO_LINGER {1, n > 0}
 * sends the FIN first and waits, at most n seconds, until the peer has
 * acknowledged everything and the FIN; then the core finishes alone.
 */
static void close_stream(struct call *c)
{
	struct us_sock *sk = c->sk;
	us_time_t now = core_begin(c);
	int linger = -1;
	if (us_tcp_getopt(sk->tcp, US_OPT_LINGER, &linger) < 0)
		linger = -1;
	struct us_tcp_info info;
	memset(&info, 0, sizeof info);
	us_tcp_get_info(sk->tcp, &info);
	if (linger == 0 || sk->ahead_len > 0) {
		us_tcp_abort(sk->tcp, now);
		sk->tcp = NULL;
		core_end(c);
		return;
	}
	if (linger > 0 && info.rcv_queued == 0 && fin_unacked(us_tcp_state(sk->tcp))) {
		us_tcp_shutdown(sk->tcp, now, US_SHUT_WR);
		core_end(c);
		/* It waits, as a blocking close, except in a callback. */
		c->nonblock = in_callback(c->rt);
		c->deadline = deadline_after(us_runtime_now(c->rt), US_SEC(linger));
		for (;;) {
			/* A stop aborts the endpoint meanwhile. */
			if (!sk->tcp || sk->down)
				return;
			us_tcp_get_info(sk->tcp, &info);
			if (info.snd_queued == 0 && !fin_unacked(info.state))
				break;
			if (wait_for_event(c) < 0)
				break;
		}
		if (!sk->tcp || sk->down)
			return;
		now = core_begin(c);
	}
	us_tcp_close(sk->tcp, now);
	sk->tcp = NULL;
	core_end(c);
}

int us_close(int s)
{
	us_api_lock();
	struct us_sock *sk = lookup(s);
	if (!sk) {
		us_api_unlock();
		return fail(-EBADF);
	}
	if (us_callback_runtime && !sk->detached && us_callback_runtime != sk->home) {
		us_api_unlock();
		return fail(-EDEADLK);
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
	core_lock(rt);
	sk->closed = true;
	/* Calls blocked on it wake and fail with EBADF; us_poll() sees POLLNVAL.
	 * They run once the lock is free: a lingering close lets them go first. */
	wake_sock(sk);
	if (sk->tcp && !sk->down)
		close_stream(&c);
	release_endpoint(sk);
	unqueue_wake(sk);
	unqueue_callback(sk);
	if (sk->prev)
		sk->prev->next = sk->next;
	else
		rt->socks = sk->next;
	if (sk->next)
		sk->next->prev = sk->prev;
	sk->next = sk->prev = NULL;
	/* A FIN or RST leaves; the stack thread hears of the retransmission
	 * timer the FIN armed (core_end() noted it). */
	unlock_core(&c);

	us_api_lock();
	sk->linked = false;
	us_api_unlock();
	leave(&c);
	return 0;
}

int us_getsocketsta(int s)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc == -EBADF)
		return fail(rc);
	/* A stopped runtime has released the endpoint: CLOSED. */
	if (rc < 0)
		return US_TCP_CLOSED;
	/* Datagram and raw sockets have no TCP state: CLOSED, "not in use". */
	int state = US_TCP_CLOSED;
	if (c.sk->type == US_SOCK_STREAM) {
		rc = lock_core(&c);
		if (rc == 0) {
			if (c.sk->tcp)
				state = us_tcp_state(c.sk->tcp);
			unlock_core(&c);
		}
	}
	leave(&c);
	if (rc == -EBADF)
		return fail(rc);
	return state;
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
 * the call does not take. A stream socket takes only its own family, as
 * Linux's tcp_v6_connect(): an IPv6 one reaches an IPv4 peer through its
 * ::ffff:a.b.c.d address. */
static int check_family(const struct us_sock *sk, const struct us_addr *a, enum family_rule rule)
{
	if (!a)
		return -EFAULT;
	if (a->family == sk->family)
		return 0;
	if (rule == SAME_FAMILY || sk->type == US_SOCK_STREAM)
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
		struct us_sock *sk = c.sk;
		if (sk->tcp) {
			rc = us_tcp_bind(sk->tcp, local);
			/* Kept, with the port the core picked, for undo_connect(). */
			if (rc == 0 && us_tcp_local(sk->tcp, &sk->bound_to) == 0)
				sk->user_bound = true;
		} else if (sk->udp) {
			rc = us_udp_bind(sk->udp, local);
		} else if (sk->raw) {
			rc = us_raw_bind(sk->raw, local);
		} else {
			rc = -EINVAL;
		}
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

/* Core lock held: how an active open stands. 0 once the handshake is over
 * (ESTABLISHED, or already further: the peer may have closed), -EINPROGRESS
 * while it runs, or its error (RFC 9293 §3.10.7.3: a RST in SYN-SENT is
 * "connection reset", which connect() reports as ECONNREFUSED). */
static int handshake_result(struct us_tcp *t)
{
	if (us_tcp_events(t) & US_EV_ERROR) {
		int e = us_tcp_take_error(t);
		if (e)
			return e < 0 ? e : -e;
	}
	switch ((enum us_tcp_state)us_tcp_state(t)) {
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
		return -EINPROGRESS;
	case US_TCP_CLOSED:
		/* Failed, and its error taken by someone else (SO_ERROR). */
		return -ECONNREFUSED;
	case US_TCP_LISTEN:
		return -EINVAL;
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		return 0;
	}
	return -EINVAL;
}

/* The options a stream socket keeps when undo_connect() renews it. */
static const enum us_sock_opt kept_options[] = {
	US_OPT_REUSEADDR, US_OPT_RCVBUF,   US_OPT_SNDBUF,    US_OPT_TTL,
	US_OPT_TOS,       US_OPT_V6ONLY,   US_OPT_NODELAY,   US_OPT_KEEPALIVE,
	US_OPT_KEEPIDLE,  US_OPT_KEEPINTVL, US_OPT_KEEPCNT,  US_OPT_LINGER,
};
#define N_KEPT (sizeof kept_options / sizeof kept_options[0])

/*
 * Core lock held: a blocking connect ran out of time. The attempt is
 * aborted (RFC 9293 §3.10.5; no RST, as SYN-SENT is not synchronized).
 * Deviation: Linux lets it run on after SO_SNDTIMEO (EINPROGRESS); CPython
 * leaves the socket's state unspecified after a timeout; aborting means
 * nothing keeps retransmitting SYNs for a caller that gave up. Then
 * the socket gets a fresh endpoint with the same options and, when us_bind()
 * chose it, the same local address: it is as before the connect, and may
 * connect again. Should the core refuse a new endpoint, the socket has none
 * and its calls fail with ENOTCONN.
 */
static void undo_connect(struct call *c)
{
	struct us_sock *sk = c->sk;
	int vals[N_KEPT];
	bool have[N_KEPT];
	for (size_t i = 0; i < N_KEPT; i++)
		have[i] = us_tcp_getopt(sk->tcp, kept_options[i], &vals[i]) == 0;
	us_time_t now = core_begin(c);
	us_tcp_abort(sk->tcp, now);
	int err = 0;
	sk->tcp = us_tcp_open(c->rt->stack, sk->family, on_core_event, sk, &err);
	if (sk->tcp) {
		for (size_t i = 0; i < N_KEPT; i++)
			if (have[i])
				us_tcp_setopt(sk->tcp, kept_options[i], vals[i]);
		if (sk->user_bound)
			us_tcp_bind(sk->tcp, &sk->bound_to);
	}
	core_end(c);
}

/*
 * Stream connect in call c (RFC 9293 §3.10.1 OPEN, active): sends the SYN.
 * Non-blocking: EINPROGRESS, and the outcome shows in us_poll() (POLLOUT,
 * or POLLERR) and SO_ERROR. Otherwise waits for the handshake: 0, its error
 * (ECONNREFUSED, ETIMEDOUT after the SYN retransmissions, EHOSTUNREACH ...),
 * or ETIMEDOUT when the socket's timeout ends first (undo_connect()).
 */
static int connect_stream(struct call *c, const struct us_addr *remote)
{
	int rc = lock_core(c);
	if (rc < 0)
		return rc;
	struct us_sock *sk = c->sk;
	start_timer(c);
	if (!sk->tcp) {
		unlock_core(c);
		return -ENOTCONN;
	}
	us_time_t now = core_begin(c);
	rc = us_tcp_connect(sk->tcp, now, remote);
	core_end(c);
	if (rc == -EINPROGRESS && !c->nonblock) {
		for (;;) {
			rc = handshake_result(sk->tcp);
			if (rc != -EINPROGRESS)
				break;
			if ((rc = wait_for_event(c)) < 0 || (rc = alive(c)) < 0)
				break;
		}
		if (rc == -ETIMEDOUT && !sk->closed && !sk->down && sk->tcp &&
		    handshake_result(sk->tcp) == -EINPROGRESS)
			undo_connect(c);
	}
	unlock_core(c);
	return rc;
}

int us_connect(int s, const struct us_addr *remote)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if (c.sk->type == US_SOCK_STREAM) {
		if ((rc = check_family(c.sk, remote, PEER_FAMILY)) == 0)
			rc = connect_stream(&c, remote);
		leave(&c);
		return rc < 0 ? fail(rc) : 0;
	}
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

/* RFC 9293 §3.10.1 OPEN, passive. backlog < 0 is taken as 0 (the spec: "at
 * least 0"); the core keeps at least one completed connection waiting. */
int us_listen(int s, int backlog)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if (c.sk->type != US_SOCK_STREAM)
		rc = -EOPNOTSUPP; /* only stream sockets listen */
	else if ((rc = lock_core(&c)) == 0) {
		if (c.sk->tcp) {
			us_time_t now = core_begin(&c);
			rc = us_tcp_listen(c.sk->tcp, now, backlog < 0 ? 0 : backlog);
			core_end(&c);
		} else {
			rc = -EINVAL;
		}
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

/*
 * Takes the oldest completed connection of listener c->sk into the new
 * socket ch (its handle given out, not yet findable), waiting as the
 * listener's timeout says. The core calls ch's callback from the moment it
 * hands the connection over, so ch is whole before.
 */
static int accept_in_call(struct call *c, struct us_sock *ch, struct us_addr *peer)
{
	int rc = lock_core(c);
	if (rc < 0)
		return rc;
	struct us_sock *sk = c->sk;
	struct us_runtime *rt = c->rt;
	start_timer(c);
	for (;;) {
		if (!sk->tcp) {
			rc = -EINVAL;
			break;
		}
		core_begin(c);
		int err = 0;
		ch->tcp = us_tcp_accept(sk->tcp, on_core_event, ch, peer, &err);
		core_end(c);
		if (ch->tcp) {
			ch->next = rt->socks;
			if (rt->socks)
				rt->socks->prev = ch;
			rt->socks = ch;
			rc = 0;
			break;
		}
		rc = err < 0 ? err : -EINVAL;
		if (rc != -EAGAIN || (rc = wait_for_event(c)) < 0 || (rc = alive(c)) < 0)
			break;
	}
	unlock_core(c);
	return rc;
}

/* The new socket is blocking (CPython's default timeout None) whatever the
 * listener's timeout, and of the listener's family: an IPv6 listener's
 * connection from an IPv4 peer names it ::ffff:a.b.c.d. */
int us_accept(int s, struct us_addr *peer)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if (c.sk->type != US_SOCK_STREAM) {
		leave(&c);
		return fail(-EOPNOTSUPP);
	}
	struct us_sock *ch = sock_new(c.sk->family, US_SOCK_STREAM, US_IPPROTO_TCP, &rc);
	if (!ch) {
		leave(&c);
		return fail(rc);
	}
	ch->home = c.rt;
	/* A handle first (not yet findable: ready is false); EMFILE leaves the
	 * connection waiting, as accept(2) does. */
	us_api_lock();
	rc = slot_alloc(ch);
	if (rc >= 0) {
		ch->handle = rc;
		ch->in_table = true;
		ch->linked = true;
	}
	us_api_unlock();
	struct us_addr who;
	if (rc >= 0)
		rc = accept_in_call(&c, ch, &who);

	us_api_lock();
	if (rc < 0) {
		if (ch->in_table)
			slot_release(ch->handle);
		ch->in_table = false;
		ch->linked = false;
		maybe_free(ch);
	} else {
		ch->ready = true;
	}
	us_api_unlock();
	leave(&c);
	if (rc < 0)
		return fail(rc);
	if (peer)
		*peer = who;
	return ch->handle;
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
		if (c.sk->tcp)
			rc = us_tcp_local(c.sk->tcp, a);
		else if (c.sk->udp)
			rc = us_udp_local(c.sk->udp, a);
		else if (c.sk->raw)
			rc = us_raw_local(c.sk->raw, a);
		else
			rc = -ENOTCONN;
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
		if (c.sk->tcp)
			rc = us_tcp_remote(c.sk->tcp, a);
		else if (c.sk->udp)
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
	if (sk->tcp)
		return us_tcp_remote(sk->tcp, &peer) == 0;
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

/* Core lock held: forgets readline's read-ahead. */
static void drop_ahead(struct us_sock *sk)
{
	sk->ahead_off = 0;
	sk->ahead_len = 0;
}

/*
 * Datagram semantics of shutdown(): both need a fixed peer (ENOTCONN, as
 * Linux says for unconnected UDP). SHUT_RD: what waits is discarded, and
 * every receiving call from then on returns 0 (end of stream) at once, also
 * a call blocked at the time; datagrams arriving later are discarded by the
 * next receiving call. SHUT_WR: every sending call fails with EPIPE.
 *
 * Streams (RFC 9293 §3.10.4 for SHUT_WR: the FIN follows the queued data):
 * the core's us_tcp_shutdown(), ENOTCONN unless connected; SHUT_RD makes
 * every receiving call return 0 at once, as for datagrams (the read-ahead
 * is dropped, the core discards what arrives), SHUT_WR every send EPIPE.
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
		struct us_sock *sk = c.sk;
		if (sk->type == US_SOCK_STREAM) {
			if (sk->tcp) {
				us_time_t now = core_begin(&c);
				rc = us_tcp_shutdown(sk->tcp, now, how);
				core_end(&c);
			} else {
				rc = -ENOTCONN;
			}
		} else if (!connected(sk)) {
			rc = -ENOTCONN;
		}
		if (rc == 0) {
			if (how != US_SHUT_WR) {
				sk->shut_rd = true;
				if (sk->tcp)
					drop_ahead(sk);
				else
					drain(sk);
			}
			if (how != US_SHUT_RD)
				sk->shut_wr = true;
			wake_sock(sk);
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
 * frame now (the driver's queue is full: -EAGAIN) the datagram is lost and
 * the call says ENOBUFS, as Linux UDP does with IP_RECVERR; the pools
 * running short is ENOBUFS too. The driver's answer comes when the frames
 * are written, after the core lock is released (rt->tx_err: the write of
 * any frame the call sent that fails reports here), or from the core when
 * the transmit queue was full and it wrote them itself.
 */
static ssize_t send_dgram(struct call *c, const void *buf, size_t len, const struct us_addr *to)
{
	int rc = 0, werr = 0;
	if (!buf && len > 0)
		rc = -EFAULT;
	else if (to)
		rc = check_family(c->sk, to, PEER_FAMILY);
	if (rc == 0 && (rc = lock_core(c)) == 0) {
		struct us_runtime *rt = c->rt;
		/* A datagram waiting for its neighbour's address sets a timer
		 * the stack thread must hear of (core_end()). */
		core_begin(c);
		rt->tx_err = &werr;
		if (c->sk->shut_wr)
			rc = -EPIPE;
		else if (c->sk->udp)
			rc = us_udp_sendto(c->sk->udp, rt->core_now, to, buf, len);
		else if (to || c->sk->raw_connected)
			rc = us_raw_sendto(c->sk->raw, rt->core_now, to ? to : &c->sk->raw_peer, buf, len);
		else
			rc = -EDESTADDRREQ;
		rt->tx_err = NULL;
		core_end(c);
		unlock_core(c); /* writes the frames: werr is final after it */
		if (rc >= 0 && werr < 0)
			rc = werr;
		if (rc == -EAGAIN)
			rc = -ENOBUFS;
	}
	return rc < 0 ? rc : (ssize_t)len;
}

/* Is e an error of the connection (the core's pending error, reported
 * once), which a call that already moved data keeps for the next call? */
static bool connection_error(int e)
{
	return e < 0 && e != -EAGAIN && e != -EPIPE && e != -ENOTCONN && e != -ENOMEM;
}

/*
 * A stream send in call c (RFC 9293 §3.10.2 SEND): queues buf in the core's
 * send buffer, waiting for room as the timeout says. all: until everything
 * is queued (write, sendall), else until something is (send). *done counts
 * what was queued, also when the call fails. With keep, an error of the
 * connection met after part of the data is kept for the next call and the
 * call succeeds with the part.
 */
static int send_stream(struct call *c, const uint8_t *buf, size_t len, bool all, bool keep,
		       size_t *done)
{
	*done = 0;
	if (!buf && len > 0)
		return -EFAULT;
	int rc = lock_core(c);
	if (rc < 0)
		return rc;
	struct us_sock *sk = c->sk;
	start_timer(c);
	for (;;) {
		if (sk->stream_err) {
			rc = sk->stream_err;
			sk->stream_err = 0;
			break;
		}
		if (!sk->tcp) {
			rc = -ENOTCONN;
			break;
		}
		if (sk->shut_wr) {
			rc = -EPIPE;
			break;
		}
		size_t chunk = len - *done;
		if (chunk > INT_MAX)
			chunk = INT_MAX;
		us_time_t now = core_begin(c);
		int n = us_tcp_send(sk->tcp, now, buf + *done, chunk);
		core_end(c);
		if (n > 0) {
			*done += (size_t)n;
			if (*done == len || !all) {
				rc = 0;
				break;
			}
			continue;
		}
		if (n == 0 && *done == len) {
			rc = 0; /* len 0 */
			break;
		}
		if (n == 0)
			n = -EAGAIN;
		if (n != -EAGAIN) {
			rc = n;
			if (keep && *done > 0 && connection_error(n)) {
				sk->stream_err = n;
				rc = 0;
			}
			break;
		}
		if ((rc = wait_for_event(c)) < 0 || (rc = alive(c)) < 0)
			break;
	}
	unlock_core(c);
	return rc;
}

/* sendto() on a stream socket: EISCONN when connected (POSIX sendto(): "A
 * destination address was specified and the socket is already connected"),
 * ENOTCONN otherwise. Deviation: Linux ignores the address on a connected
 * TCP socket and sends; a stream has one peer, and saying so is clearer. */
static int stream_sendto(struct call *c)
{
	int rc = lock_core(c);
	if (rc < 0)
		return rc;
	rc = connected(c->sk) ? -EISCONN : -ENOTCONN;
	unlock_core(c);
	return rc;
}

/* send() and write(): one datagram, or stream bytes; all: wait until every
 * byte is queued (write), else until at least one is (send). A part queued
 * before a timeout or an error is returned. */
static ssize_t send_or_write(int s, const void *buf, size_t len, bool all)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	ssize_t n;
	if (c.sk->type == US_SOCK_STREAM) {
		size_t done;
		rc = send_stream(&c, buf, len, all, true, &done);
		n = done > 0 ? (ssize_t)done : rc < 0 ? rc : 0;
	} else {
		n = send_dgram(&c, buf, len, NULL);
	}
	leave(&c);
	return n < 0 ? fail((int)n) : n;
}

/* Stream: what was queued (at least a byte), waiting for room as the
 * timeout says. */
ssize_t us_send(int s, const void *buf, size_t len)
{
	return send_or_write(s, buf, len, false);
}

ssize_t us_sendto(int s, const void *buf, size_t len, const struct us_addr *to)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	ssize_t n;
	if (!to)
		n = -EFAULT; /* checked after the handle, like every argument */
	else if (c.sk->type == US_SOCK_STREAM)
		n = !buf && len > 0 ? -EFAULT : stream_sendto(&c);
	else
		n = send_dgram(&c, buf, len, to);
	leave(&c);
	return n < 0 ? fail((int)n) : n;
}

/* A datagram goes whole or not at all, so write() is send(): never short.
 * A stream write waits until all is queued; it is short only when the
 * socket does not block (or its timeout ends) after part went. */
ssize_t us_write(int s, const void *buf, size_t len)
{
	return send_or_write(s, buf, len, true);
}

int us_sendall(int s, const void *buf, size_t len, size_t *sent)
{
	if (sent)
		*sent = 0;
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	size_t done = 0;
	if (c.sk->type == US_SOCK_STREAM) {
		rc = send_stream(&c, buf, len, true, false, &done);
	} else {
		ssize_t n = send_dgram(&c, buf, len, NULL);
		rc = n < 0 ? (int)n : 0;
		done = n < 0 ? 0 : (size_t)n;
	}
	leave(&c);
	if (sent)
		*sent = done;
	return rc < 0 ? fail(rc) : 0;
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

/* How much a stream read waits for. */
enum fill {
	FILL_SOME, /* recv: what has come, at least a byte */
	FILL_ALL,  /* read, readinto: the whole buffer */
	FILL_LINE, /* readline: up to and including a '\n' */
};

/*
 * Core lock held: up to cap bytes of the stream into buf, the read-ahead
 * first, else the core's. A count, 0 at end of stream, or a negative errno
 * (-EAGAIN: nothing now; an error an earlier read kept). line: stop after
 * a '\n'; a core read is then at most AHEAD_CAP bytes, and what it brings
 * past the '\n' waits in the read-ahead.
 */
static int stream_take(struct call *c, uint8_t *buf, size_t cap, bool line)
{
	struct us_sock *sk = c->sk;
	if (sk->ahead_len) {
		const uint8_t *from = sk->ahead + sk->ahead_off;
		size_t n = sk->ahead_len < cap ? sk->ahead_len : cap;
		const uint8_t *nl = line ? memchr(from, '\n', n) : NULL;
		if (nl)
			n = (size_t)(nl - from) + 1;
		memcpy(buf, from, n);
		sk->ahead_off += n;
		sk->ahead_len -= n;
		if (!sk->ahead_len)
			sk->ahead_off = 0;
		return (int)n;
	}
	if (sk->stream_err) {
		int e = sk->stream_err;
		sk->stream_err = 0;
		return e;
	}
	if (!sk->tcp)
		return -ENOTCONN;
	if (cap > INT_MAX)
		cap = INT_MAX;
	if (line) {
		if (!sk->ahead && !(sk->ahead = malloc(AHEAD_CAP)))
			return -ENOMEM;
		if (cap > AHEAD_CAP)
			cap = AHEAD_CAP;
	}
	us_time_t now = core_begin(c);
	int n = us_tcp_recv(sk->tcp, now, buf, cap);
	/* Reading opens the window: a window update may be due. */
	core_end(c);
	if (line && n > 0) {
		const uint8_t *nl = memchr(buf, '\n', (size_t)n);
		if (nl) {
			size_t keep = (size_t)(nl - buf) + 1;
			memcpy(sk->ahead, nl + 1, (size_t)n - keep);
			sk->ahead_off = 0;
			sk->ahead_len = (size_t)n - keep;
			n = (int)keep;
		}
	}
	return n;
}

/*
 * A stream read in call c into buf, waiting as fill and the timeout say.
 * Returns the count read (0: end of stream, or cap 0), or a negative errno
 * when nothing was read. An end of the waiting (EAGAIN, ETIMEDOUT, EBADF,
 * ENETDOWN) after part of the data returns the part; so does an error of
 * the connection, which is kept for the next call. from (may be NULL) gets
 * the peer's address.
 */
static ssize_t recv_stream(struct call *c, uint8_t *buf, size_t cap, enum fill fill,
			   struct us_addr *from)
{
	int rc = lock_core(c);
	if (rc < 0)
		return rc;
	struct us_sock *sk = c->sk;
	start_timer(c);
	size_t got = 0;
	for (;;) {
		if (sk->shut_rd) {
			drop_ahead(sk);
			rc = 0;
			break;
		}
		if (got == cap) {
			rc = 0;
			break;
		}
		int n = stream_take(c, buf + got, cap - got, fill == FILL_LINE);
		if (n > 0) {
			got += (size_t)n;
			if (fill == FILL_SOME || (fill == FILL_LINE && buf[got - 1] == '\n')) {
				rc = 0;
				break;
			}
			continue;
		}
		if (n == 0) {
			rc = 0; /* end of stream */
			break;
		}
		if (n != -EAGAIN) {
			rc = n;
			if (got > 0) {
				sk->stream_err = n;
				rc = 0;
			}
			break;
		}
		if ((rc = wait_for_event(c)) < 0 || (rc = alive(c)) < 0)
			break;
	}
	if (from && (got > 0 || rc == 0)) {
		if (!sk->tcp || us_tcp_remote(sk->tcp, from) < 0)
			memset(from, 0, sizeof *from);
	}
	unlock_core(c);
	return got > 0 ? (ssize_t)got : rc;
}

/* Stream: us_readall() in call c: to end of stream into a malloc'd *out. */
static int readall_stream(struct call *c, uint8_t **out, size_t *outlen)
{
	int rc = lock_core(c);
	if (rc < 0)
		return rc;
	struct us_sock *sk = c->sk;
	start_timer(c);
	uint8_t *data = NULL;
	size_t size = 0, got = 0;
	for (;;) {
		if (sk->shut_rd) {
			drop_ahead(sk);
			rc = 0;
			break;
		}
		if (got == size) {
			size_t bigger = size ? size * 2 : READALL_FIRST;
			uint8_t *p = bigger > size ? realloc(data, bigger) : NULL;
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			data = p;
			size = bigger;
		}
		int n = stream_take(c, data + got, size - got, false);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			rc = 0;
			break;
		}
		if (n != -EAGAIN) {
			rc = n;
			break;
		}
		if ((rc = wait_for_event(c)) < 0 || (rc = alive(c)) < 0)
			break;
	}
	if (rc < 0 && got > 0) {
		/* The part read is returned; an error of the connection waits
		 * for the next call. */
		if (connection_error(rc) || rc == -ENOMEM)
			sk->stream_err = rc;
		rc = 0;
	}
	unlock_core(c);
	if (rc < 0) {
		free(data);
		return rc;
	}
	uint8_t *fit = realloc(data, got ? got : 1);
	*out = fit ? fit : data;
	*outlen = got;
	return 0;
}

/*
 * One receive for handle s: a datagram (truncated to cap; its bytes stored
 * are returned) or stream bytes as fill says. Returns the count or a
 * negative errno.
 */
static ssize_t recv_call(int s, void *buf, size_t cap, struct us_addr *from, enum fill fill)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return rc;
	ssize_t n;
	if (!buf && cap > 0)
		n = -EFAULT;
	else if (c.sk->type == US_SOCK_STREAM)
		n = recv_stream(&c, buf, cap, fill, from);
	else if ((n = recv_in_call(&c, buf, cap, from)) > (ssize_t)cap)
		n = (ssize_t)cap;
	leave(&c);
	return n;
}

static ssize_t result(ssize_t n)
{
	return n < 0 ? fail((int)n) : n;
}

/* Datagram: recv(2) semantics, len 0 still takes (and discards) one
 * datagram. Stream: len 0 returns 0 at once. */
ssize_t us_recv(int s, void *buf, size_t len)
{
	return result(recv_call(s, buf, len, NULL, FILL_SOME));
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
	return result(recv_call(s, buf, len, from, FILL_SOME));
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
	return result(recv_call(s, buf, size, NULL, FILL_ALL));
}

ssize_t us_readinto(int s, void *buf, size_t buflen, size_t nbytes)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	size_t want = nbytes ? nbytes : buflen;
	ssize_t n = 0;
	if (!buf && buflen > 0)
		n = -EFAULT;
	else if (nbytes > buflen)
		n = -EINVAL; /* Python: "buffer too small for requested bytes" */
	else if (want > 0 && c.sk->type == US_SOCK_STREAM)
		n = recv_stream(&c, buf, want, FILL_ALL, NULL);
	else if (want > 0 && (n = recv_in_call(&c, buf, want, NULL)) > (ssize_t)want)
		n = (ssize_t)want;
	leave(&c);
	return result(n);
}

/* Datagram: one datagram, cut after its first '\n' (or at cap - 1); the rest
 * of that datagram is discarded. Stream: byte-exact up to and including the
 * '\n' (or cap - 1 bytes, or end of stream). cap must hold a byte and the NUL. */
ssize_t us_readline(int s, char *buf, size_t cap)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	ssize_t n;
	if (!buf && cap > 0)
		n = -EFAULT;
	else if (cap < 2)
		n = -EINVAL;
	else if (c.sk->type == US_SOCK_STREAM)
		n = recv_stream(&c, (uint8_t *)buf, cap - 1, FILL_LINE, NULL);
	else
		n = recv_in_call(&c, (uint8_t *)buf, cap - 1, NULL);
	bool stream = c.sk->type == US_SOCK_STREAM;
	leave(&c);
	if (n < 0)
		return fail((int)n);
	size_t len = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
	const char *nl = stream ? NULL : memchr(buf, '\n', len);
	if (nl)
		len = (size_t)(nl - buf) + 1;
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Datagram: the next datagram whole (read() without a size has no length
 * to cut at); 0 bytes at end of stream. Stream: everything until end of
 * stream (a part, when the timeout ends first). *buf is malloc'd in both
 * cases. */
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
	size_t n = 0;
	if (!buf || !len) {
		rc = -EFAULT;
	} else if (c.sk->type == US_SOCK_STREAM) {
		rc = readall_stream(&c, &data, &n);
	} else if (!(data = malloc(DGRAM_MAX))) {
		rc = -ENOMEM;
	} else if ((rc = recv_in_call(&c, data, DGRAM_MAX, NULL)) >= 0) {
		n = (size_t)rc < DGRAM_MAX ? (size_t)rc : DGRAM_MAX;
		uint8_t *fit = realloc(data, n ? n : 1);
		data = fit ? fit : data;
		rc = 0;
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
	*buf = data;
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
	OPT_LINGER, /* SO_LINGER: a struct linger, the core's US_OPT_LINGER */
	OPT_TCP_INFO, /* TCP_INFO: read-only, a struct us_tcp_info */
};

struct opt_map {
	enum opt_kind kind;
	enum us_sock_opt core;
	int min, max;   /* the values setsockopt takes */
	bool boolean;   /* any non-zero value is 1 */
	bool hops;      /* TTL / hop limit: -1 means the default (the core's 0) */
};

/*
 * The options, as Linux names them. An option of another level or family
 * (IP_TTL on an IPv6 socket) is -ENOPROTOOPT; so are the stream ones
 * (SO_KEEPALIVE, SO_LINGER, TCP_*: they mean nothing without a connection)
 * on datagram and raw sockets, and SO_BROADCAST on stream sockets.
 * Deviation: Linux takes SO_BROADCAST on a TCP socket and ignores it;
 * refusing it says that it does nothing.
 */
static int map_option(const struct us_sock *sk, int level, int opt, struct opt_map *m)
{
	bool stream = sk->type == US_SOCK_STREAM;
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
			if (stream)
				return -ENOPROTOOPT;
			m->core = US_OPT_BROADCAST;
			m->boolean = true;
			return 0;
		case US_SO_KEEPALIVE:
			if (!stream)
				return -ENOPROTOOPT;
			m->core = US_OPT_KEEPALIVE;
			m->boolean = true;
			return 0;
		case US_SO_LINGER:
			if (!stream)
				return -ENOPROTOOPT;
			m->kind = OPT_LINGER;
			m->core = US_OPT_LINGER;
			m->max = INT_MAX;
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
	if (level == US_IPPROTO_TCP && stream) {
		m->min = 1;
		switch (opt) {
		case US_TCP_NODELAY:
			m->core = US_OPT_NODELAY;
			m->min = 0;
			m->boolean = true;
			return 0;
		case US_TCP_KEEPIDLE:
			m->core = US_OPT_KEEPIDLE;
			m->max = KEEP_TIME_MAX;
			return 0;
		case US_TCP_KEEPINTVL:
			m->core = US_OPT_KEEPINTVL;
			m->max = KEEP_TIME_MAX;
			return 0;
		case US_TCP_KEEPCNT:
			m->core = US_OPT_KEEPCNT;
			m->max = KEEP_COUNT_MAX;
			return 0;
		case US_TCP_CONGESTION:
			m->core = US_OPT_CONGESTION;
			m->min = US_TCP_CC_NEWRENO;
			m->max = US_TCP_CC_CUBIC;
			return 0;
		case US_TCP_SACK_ENABLE:
		case US_TCP_TIMESTAMPS_ENABLE:
		case US_TCP_WSCALE_ENABLE:
			m->core = opt == US_TCP_SACK_ENABLE	  ? US_OPT_SACK
				  : opt == US_TCP_TIMESTAMPS_ENABLE ? US_OPT_TIMESTAMPS
								    : US_OPT_WSCALE;
			m->min = 0;
			m->boolean = true;
			return 0;
		case US_TCP_ECN_ENABLE:
			m->core = US_OPT_ECN;
			m->min = 0;
			m->boolean = true;
			return 0;
		case US_TCP_INFO:
			m->kind = OPT_TCP_INFO;
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
	if (sk->tcp)
		return us_tcp_setopt(sk->tcp, opt, v);
	if (sk->udp)
		return us_udp_setopt(sk->udp, opt, v);
	if (sk->raw)
		return us_raw_setopt(sk->raw, opt, v);
	return -ENOTCONN;
}

static int core_getopt(const struct us_sock *sk, enum us_sock_opt opt, int *v)
{
	if (sk->tcp)
		return us_tcp_getopt(sk->tcp, opt, v);
	if (sk->udp)
		return us_udp_getopt(sk->udp, opt, v);
	if (sk->raw)
		return us_raw_getopt(sk->raw, opt, v);
	return -ENOTCONN;
}

/* Core lock held: SO_ERROR, the pending error as a positive errno (0: none),
 * cleared. Datagram: an ICMP port unreachable (ECONNREFUSED, RFC 1122
 * §4.1.3.3). Stream: an error a read kept, else the core's (a failed
 * non-blocking connect, a reset, a timeout). */
static int take_so_error(struct us_sock *sk)
{
	int e = 0;
	if (sk->type == US_SOCK_STREAM) {
		if (sk->stream_err) {
			e = sk->stream_err;
			sk->stream_err = 0;
		} else if (sk->tcp) {
			e = us_tcp_take_error(sk->tcp);
		}
		return e < 0 ? -e : e;
	}
	if ((sk->udp ? us_udp_events(sk->udp) : us_raw_events(sk->raw)) & US_EV_ERROR) {
		uint8_t byte;
		e = core_recv(sk, &byte, 0, NULL);
		e = e < 0 && e != -EAGAIN ? -e : 0;
	}
	return e;
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
	if (m.kind != OPT_CORE && m.kind != OPT_LINGER) {
		rc = -ENOPROTOOPT; /* read-only, as Linux says */
		goto out;
	}
	if (!value) {
		rc = -EFAULT;
		goto out;
	}
	if (m.kind == OPT_LINGER) {
		/* {0, any}: off (the core's -1); {1, n}: n seconds, 0 aborts. */
		struct linger l;
		if (len != sizeof l) {
			rc = -EINVAL;
			goto out;
		}
		memcpy(&l, value, sizeof l);
		if (l.l_onoff && l.l_linger < 0) {
			rc = -EINVAL;
			goto out;
		}
		v = l.l_onoff ? l.l_linger : -1;
		if ((rc = lock_core(&c)) == 0) {
			rc = core_setopt(c.sk, m.core, v);
			unlock_core(&c);
		}
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
	if (m.kind == OPT_TCP_INFO) {
		/* As Linux: as much of the struct as fits, *len says how much. */
		struct us_tcp_info info;
		if ((rc = lock_core(&c)) < 0)
			goto out;
		rc = us_tcp_get_info(c.sk->tcp, &info);
		unlock_core(&c);
		if (rc == 0) {
			size_t n = *len < sizeof info ? *len : sizeof info;
			memcpy(value, &info, n);
			*len = n;
		}
		goto out;
	}
	if (*len < (m.kind == OPT_LINGER ? sizeof(struct linger) : sizeof(int))) {
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
		/* Reading it clears it, as it is reported once. */
		v = take_so_error(c.sk);
		break;
	case OPT_TCP_INFO:
		break;
	case OPT_CORE:
	case OPT_LINGER:
		rc = core_getopt(c.sk, m.core, &v);
		if (rc == 0 && m.hops && v == 0)
			v = DEFAULT_HOPS;
		break;
	}
	unlock_core(&c);
	if (rc == 0 && m.kind == OPT_LINGER) {
		struct linger l = { .l_onoff = v >= 0, .l_linger = v > 0 ? v : 0 };
		memcpy(value, &l, sizeof l);
		*len = sizeof l;
	} else if (rc == 0) {
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
		core_lock(calls[i].rt);
		calls[i].sk->waiters += (unsigned)delta;
		core_unlock(calls[i].rt);
	}
}

/* Core lock of sk's runtime held: the revents of one socket. */
static short sock_revents(const struct us_sock *sk, short events)
{
	if (sk->closed)
		return US_POLLNVAL;
	if (sk->down)
		return US_POLLERR | US_POLLHUP;
	short r = 0;
	if (sk->type == US_SOCK_STREAM) {
		/* READABLE: data, end of stream, an error, or a connection to
		 * accept; also what readline read ahead and an error a read kept. */
		int ev = sk->tcp ? us_tcp_events(sk->tcp) : US_EV_ERROR | US_EV_HUP;
		if ((ev & US_EV_READABLE) || sk->ahead_len || sk->stream_err || sk->shut_rd)
			r |= US_POLLIN;
		if (ev & US_EV_WRITABLE)
			r |= US_POLLOUT;
		if ((ev & US_EV_ERROR) || sk->stream_err)
			r |= US_POLLERR;
		if (ev & US_EV_HUP)
			r |= US_POLLHUP;
		return (short)(r & (events | US_POLLERR | US_POLLHUP));
	}
	int ev = sk->udp ? us_udp_events(sk->udp) : us_raw_events(sk->raw);
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
			core_lock(rt);
			nodes[k].next = rt->pollers;
			if (rt->pollers)
				rt->pollers->prev = &nodes[k];
			rt->pollers = &nodes[k];
			core_unlock(rt);
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
			core_lock(calls[i].rt);
			fds[i].revents = sock_revents(calls[i].sk, fds[i].events);
			core_unlock(calls[i].rt);
			if (fds[i].revents)
				count++;
		}
		/* In a callback, us_poll() does not wait either. */
		if (count || !timing || timeout_ms == 0 || us_callback_runtime)
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
		core_lock(rt);
		if (nodes[k].prev)
			nodes[k].prev->next = nodes[k].next;
		else
			rt->pollers = nodes[k].next;
		if (nodes[k].next)
			nodes[k].next->prev = nodes[k].prev;
		core_unlock(rt);
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

/* ---- Event callbacks ------------------------------------------------------ */

int us_socket_callback(int s, us_socket_cb fn, void *arg)
{
	struct call c;
	int rc = enter(s, &c);
	if (rc < 0)
		return fail(rc);
	if ((rc = lock_core(&c)) == 0) {
		struct us_sock *sk = c.sk;
		sk->cb = fn;
		sk->cb_arg = arg;
		if (!fn)
			unqueue_callback(sk);
		else if (sock_revents(sk, US_POLLIN | US_POLLOUT) & (US_POLLIN | US_POLLOUT))
			queue_callback(sk); /* what happened before is news to fn */
		unlock_core(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

/* Core lock held, in a callback: the bytes a zero-copy read sees first,
 * what readline read ahead before the socket's buffer. */
static size_t peek_stream(const struct us_sock *sk, const uint8_t **data)
{
	if (sk->ahead_len) {
		*data = sk->ahead + sk->ahead_off;
		return sk->ahead_len;
	}
	return sk->tcp ? us_tcp_peek(sk->tcp, data) : 0;
}

/* The checks both zero-copy calls make; then the core lock is "held". */
static int zero_copy_call(int s, struct call *c)
{
	int rc = enter(s, c);
	if (rc < 0)
		return rc;
	if (c->sk->type != US_SOCK_STREAM)
		rc = -EOPNOTSUPP;
	else if (!in_callback(c->rt))
		rc = -EINVAL;
	else
		rc = alive(c);
	if (rc < 0)
		leave(c);
	return rc;
}

ssize_t us_recv_peek(int s, const void **data)
{
	struct call c;
	if (!data)
		return fail(-EFAULT);
	*data = NULL;
	int rc = zero_copy_call(s, &c);
	if (rc < 0)
		return fail(rc);
	const uint8_t *p = NULL;
	size_t n = peek_stream(c.sk, &p);
	*data = p;
	leave(&c);
	return (ssize_t)n;
}

int us_recv_consume(int s, size_t n)
{
	struct call c;
	int rc = zero_copy_call(s, &c);
	if (rc < 0)
		return fail(rc);
	struct us_sock *sk = c.sk;
	const uint8_t *p;
	if (n > peek_stream(sk, &p)) {
		rc = -EINVAL;
	} else if (sk->ahead_len) {
		sk->ahead_off += n;
		sk->ahead_len -= n;
		if (!sk->ahead_len)
			sk->ahead_off = 0;
	} else if (n) {
		us_time_t now = core_begin(&c);
		rc = us_tcp_consume(sk->tcp, now, n);
		core_end(&c);
	}
	leave(&c);
	return rc < 0 ? fail(rc) : 0;
}

/*
 * A round calls the sockets queued when it starts, oldest first, each
 * once with its poll bits (none: nothing to say, not called). What the
 * callbacks make the core report (a connection accepted and given a
 * callback, its data already in) is queued for the next round, run at
 * once, up to CALLBACK_ROUNDS rounds: so a callback that always finds
 * work (a sender refilling its buffer) cannot keep the loop from the
 * driver and the timers. The round's list is rt->cb_round, where a close
 * or a removal by an earlier callback of the round finds the socket
 * (unqueue_callback()): the loop never holds a socket that may be freed.
 */
#define CALLBACK_ROUNDS 4

bool us_socket_run_callbacks(struct us_runtime *rt)
{
	us_callback_runtime = rt;
	for (int round = 0; round < CALLBACK_ROUNDS && rt->cb_list; round++) {
		while (rt->cb_list) {
			struct us_sock *sk = rt->cb_list;
			rt->cb_list = sk->cb_next;
			sk->cb_next = rt->cb_round;
			rt->cb_round = sk;
		}
		while (rt->cb_round) {
			struct us_sock *sk = rt->cb_round;
			rt->cb_round = sk->cb_next;
			sk->cb_next = NULL;
			sk->cb_queued = false;
			if (!sk->cb || sk->closed || sk->down)
				continue;
			short ev = sock_revents(sk, US_POLLIN | US_POLLOUT);
			if (ev)
				sk->cb(sk->handle, ev, sk->cb_arg);
		}
	}
	us_callback_runtime = NULL;
	return rt->cb_list != NULL;
}

/* ---- us_makefile --------------------------------------------------------- */

/* A stdio stream over a socket (fopencookie). Datagram sockets: "rb" is
 * fully buffered through a buffer that holds the largest datagram, so that
 * no datagram is cut; the datagrams' bytes follow each other in the stream.
 * "wb" is unbuffered, so that each fwrite() (fputs(), fprintf()) sends one
 * datagram. Stream sockets: both are fully buffered with stdio's usual
 * BUFSIZ buffer; "rb" fills it with what has arrived (us_recv: a line
 * protocol does not wait for a whole buffer), "wb" sends it whole (us_write)
 * when full and on fflush()/fclose(). */
struct file_cookie {
	int sock;
	bool stream;
	char *rbuf; /* datagram "rb": the stream's buffer, DGRAM_MAX bytes */
};

static ssize_t cookie_read(void *ctx, char *buf, size_t size)
{
	struct file_cookie *fc = ctx;
	if (fc->stream)
		return us_recv(fc->sock, buf, size);
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
	bool stream = c.sk->type == US_SOCK_STREAM;
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
	if (!fc || (reading && !stream && !(fc->rbuf = malloc(DGRAM_MAX)))) {
		free(fc);
		errno = ENOMEM;
		return NULL;
	}
	fc->sock = s;
	fc->stream = stream;
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
	if (stream)
		setvbuf(f, NULL, _IOFBF, BUFSIZ);
	else if (reading)
		setvbuf(f, fc->rbuf, _IOFBF, DGRAM_MAX);
	else
		setvbuf(f, NULL, _IONBF, 0);
	return f;
}

/* SPDX-License-Identifier: MIT */
/*
 * runtime_impl.h - the runtime's insides, shared by the files of src/api/
 * (runtime.c, socket.c, resolve.c). Not installed.
 *
 * Two kinds of lock. The API lock is never held while a core lock is
 * taken; the other way round happens in one place only, the event
 * callbacks, which the stack thread runs with its core lock held and whose
 * socket calls take the API lock to look their handles up:
 *  - the API lock (us_api_lock()): one per process. It guards the default
 *    runtime, each runtime's liveness (dead, users), and the socket handle
 *    table of socket.c. Held only for short bookkeeping, never while waiting
 *    for the network.
 *  - each runtime's core lock (rt->lock): held for every call into the core
 *    and for the socket state kept beside it. Socket calls wait on condition
 *    variables tied to it. Never held across a system call on the driver:
 *    the frames the core sends are queued (rt->txq, txq.h) and written by
 *    us_runtime_unlock(), which every section under the core lock ends
 *    with, and wait_for_event() (socket.c) before it sleeps.
 * A poll waiter's own mutex (socket.c) may be taken with a core lock held,
 * never the other way round. A third, rt->rx_lock, is held by whichever
 * thread reads the driver (the stack thread, or a busy-polling socket
 * call): it is taken before the core lock, never with it held. Below the
 * core lock, in this order, come the transmit queue's write lock (held
 * while frames are written to the driver, by one thread at a time), the
 * capture's lock (rt->pcap_lock) and the queue's ring lock; none of them
 * is ever held while taking the core lock.
 *
 * A runtime's life, as seen from the sockets: us_runtime_stop() first marks
 * it dead under the API lock (no call can start on it: ENETDOWN), joins the
 * stack thread, wakes every call in progress under the core lock (they
 * return ENETDOWN; us_socket_runtime_down()), waits under the API lock until
 * none is left (users == 0), detaches its sockets from it
 * (us_socket_runtime_detach(): their handles stay valid until us_close) and
 * only then frees it.
 *
 * Read runtime.c first, then socket.c.
 */
#ifndef USTACK_RUNTIME_IMPL_H
#define USTACK_RUNTIME_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <ustack/ustack.h>

#include "txq.h"

struct us_pcap_writer;
struct us_sock;      /* socket.c */
struct us_poll_node; /* socket.c */

struct us_runtime {
	pthread_mutex_t lock; /* the core lock: held for every call into the core */
	pthread_t thread;
	atomic_bool stopping;
	int wake_fd;

	struct us_stack *stack;
	int ifindex;
	struct us_driver driver;
	struct us_clock clock;
	us_time_t core_now; /* the time given to the core call in progress */

	/* Frames the core sent, on their way to the driver (txq.h). */
	struct us_txq txq;
	int *tx_err;             /* under the core lock: where a failed write of
				  * what the call in progress sends is reported */
	uint64_t tx_failed_seen; /* under the core lock: txq.failed counted */

	/* The capture, written by whichever thread moves a frame. */
	pthread_mutex_t pcap_lock;
	struct us_pcap_writer *pcap;
	bool pcap_dirty;     /* under pcap_lock: written since the last flush */
	us_time_t pcap_last; /* under pcap_lock: the last record's time */

	uint8_t *rx_buf;   /* under rx_lock */
	uint32_t offloads; /* enum us_offload bits the interface uses */

	/*
	 * Busy polling (us_runtime_config.busy_poll_us, docs/performance.md).
	 * Frames are read by one thread at a time, under rx_lock, so that they
	 * enter the core in the order the link gave them. busy_poll_us is
	 * fixed at start (0: off). The other fields are atomics, read and
	 * written without any lock:
	 *  - last_io_us: CLOCK_MONOTONIC time of the last frame received or
	 *    sent. Polling happens only within busy_poll_us of it (adaptive:
	 *    an idle stack never spins).
	 *  - spinning / kicked: the stack thread is polling instead of
	 *    sleeping in ppoll; us_runtime_wake() then sets kicked instead of
	 *    writing the eventfd. Both sequentially consistent: the waker
	 *    stores kicked then loads spinning, the stack thread stores
	 *    spinning = false then exchanges kicked, so one of the two sees
	 *    the other (no wake is lost).
	 */
	pthread_mutex_t rx_lock;
	us_time_t busy_poll_us;
	atomic_int_fast64_t last_io_us;
	atomic_bool spinning;
	atomic_bool kicked;
	atomic_uint app_spinners; /* socket calls spinning now (at most US_BUSY_POLL_APP_SPINNERS) */
	/* What busy polling did (relaxed counts; the unit tests read them):
	 * frames read while polling, by either thread; socket waits that
	 * spun; and those whose spin saw the event, so they never slept. */
	atomic_uint_fast64_t bp_frames;
	atomic_uint_fast64_t bp_spins;
	atomic_uint_fast64_t bp_hits;

	/* Under the core lock. */
	struct us_sock *socks;        /* the runtime's open sockets (socket.c) */
	struct us_poll_node *pollers; /* us_poll() calls waiting on its sockets */
	bool down;                    /* stopped: every socket call fails with ENETDOWN */
	us_time_t clock_seen;         /* the virtual time the loop last announced */
	/* While the stack thread works through a batch of received frames,
	 * the core's events only mark their sockets here; the waiters wake
	 * once, at the end of the batch (us_socket_flush_wakes()), not once
	 * per segment. */
	bool defer_wakes;
	struct us_sock *wake_list;
	/* Sockets with an event callback that the core reported something
	 * for, to be called by the stack thread (us_socket_run_callbacks());
	 * cb_kick: one was queued by another thread, which wakes the stack
	 * thread when it releases the lock (us_runtime_unlock()). */
	struct us_sock *cb_list;
	struct us_sock *cb_round; /* the round being called */
	bool cb_kick;

	/* Under the API lock. */
	bool dead;               /* stopping: no call may start on it */
	unsigned users;          /* calls in progress on it (us_runtime_pin) */
	pthread_cond_t drained;  /* signalled when users drops to 0 while dead */

	/* Name resolution: copied at start, read-only afterwards. */
	struct us_host_entry *hosts; /* names point into the same allocation */
	size_t n_hosts;
	struct us_addr dns;          /* family US_AF_UNSPEC: no DNS */
	double dns_timeout;          /* seconds per try */
	int dns_tries;
};

/* The runtime whose event callbacks this thread is running (its stack
 * thread, with the core lock held), or NULL: socket calls on it then take
 * no lock and never wait (socket.c, us_socket_callback()). */
extern _Thread_local struct us_runtime *us_callback_runtime;

/* Is this thread rt's stack thread? */
bool us_runtime_on_loop(const struct us_runtime *rt);

/* Socket calls of one runtime that may spin at once; the others sleep at
 * once. With the stack thread, at most two threads per runtime spin: more
 * spinners than cores would starve the threads that do the work (the
 * stack threads, the peer), which a test with a dozen waiting threads on
 * two cores showed. */
#define US_BUSY_POLL_APP_SPINNERS 1

/* CLOCK_MONOTONIC in microseconds (busy polling is timed on it whatever
 * the runtime's clock). */
us_time_t us_runtime_monotonic_us(void);

/* Busy polling, from a socket call waiting without the core lock: reads
 * one frame from the driver and gives it to the core, as the stack thread
 * does. Does nothing (false) when another thread is reading the driver or
 * rt is stopping; true when it read a frame. */
bool us_runtime_busy_poll_driver(struct us_runtime *rt);

/* A pause for a spinning thread: the CPU's spin-wait hint. */
void us_runtime_cpu_relax(void);

/* Releases rt's core lock, then writes to the driver the frames this
 * thread's core calls queued (and any queued before them; by this thread
 * or the one writing meanwhile). */
void us_runtime_unlock(struct us_runtime *rt);
/* Frames this thread queued on rt wait to be written. */
bool us_runtime_tx_pending(struct us_runtime *rt);

/* The process-wide API lock (see above). */
void us_api_lock(void);
void us_api_unlock(void);

/* With the API lock held: marks a call in progress on rt, so that rt is not
 * freed before us_runtime_unpin(). False (nothing done) when rt is stopping. */
bool us_runtime_pin(struct us_runtime *rt);
/* With the API lock held: the call is over. */
void us_runtime_unpin(struct us_runtime *rt);
/* With the API lock held: the default runtime, or NULL. */
struct us_runtime *us_runtime_default_locked(void);

/* The hosts table given at start (a copy): *n entries. */
const struct us_host_entry *us_runtime_hosts(const struct us_runtime *rt, size_t *n);
/* The name server (port filled in: 53 when the configuration said 0), with
 * the per-try timeout in seconds and the number of tries (defaults applied:
 * 2 s, 3 tries); NULL when the runtime has none. timeout and tries may be NULL. */
const struct us_addr *us_runtime_dns(const struct us_runtime *rt, double *timeout, int *tries);

#endif

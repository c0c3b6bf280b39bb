/* SPDX-License-Identifier: MIT */
/*
 * txq.h - the runtime's transmit queue: frames the core sent, copied out
 * of its buffers while the core lock is held, and written to the driver
 * after it is released (issue 11: no lock held across syscalls). Not
 * installed. No RFC applies.
 *
 * Producers push with the core lock held, so the order of the queue is
 * the order in which the core sent. After releasing the core lock, each
 * producer calls us_txq_flush() up to the last frame it pushed: one thread
 * at a time writes (the write lock), oldest first, everything queued up to
 * there, its own frames and any another thread pushed before them, so
 * frames reach the driver in the core's order and never wait for a thread
 * that is not writing. A flush returns once those frames are written, by
 * this thread or by the one that held the write lock; a thread that pushed
 * nothing has nothing to wait for, but writes what waits if no one else is
 * writing (us_txq_help()), so a frame leaves with the first thread free.
 *
 * Frames are copied, not kept by reference: the core's buffers belong to
 * pools that only the core lock guards, and us_eth_output() frees each as
 * soon as the transmit callback returns (taking ownership would change that
 * contract for every driver and tie up the pools' 16 large buffers while
 * frames wait). The copy costs 30-45 ns for a full-sized frame, 1.4-2 us
 * for a 64 KB super-frame, against ~2.7 us for one write to the TAP
 * device (docs/architecture.md). The copy goes into one arena
 * allocated at start, used as a ring in the order of the queue (a frame
 * takes what it needs, from 60 bytes to a 64 KB super-frame: nothing here
 * assumes a frame fits an MTU). A frame that finds no room is written at
 * once, after everything queued (us_txq_write_through()), with the core
 * lock still held: the old, slower way, never a loss.
 *
 * Locks: the write lock, then the ring lock (held only for bookkeeping and
 * the copy, never across a write); the write callback runs with the write
 * lock alone. A caller may hold its own lock (the core lock) around push
 * and write_through, never around flush.
 *
 * Read runtime.c's transmit_frame() first, then txq.c.
 */
#ifndef USTACK_TXQ_H
#define USTACK_TXQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

/* Writes one frame to the link (the runtime's capture and driver): 0 or a
 * negative errno. Called with the write lock held, in queue order. */
typedef int (*us_txq_write_fn)(void *ctx, const struct us_frame *f, us_time_t stamp);

struct us_txq_slot {
	size_t off;      /* the frame's bytes: arena + off */
	struct us_frame f; /* f.data is set when it is written */
	us_time_t stamp; /* the core's time when it was sent */
	int *err;        /* where a failed write's error goes (first one), or NULL */
};

struct us_txq {
	pthread_mutex_t lock;       /* the ring: slots, arena space, head, count */
	pthread_mutex_t write_lock; /* held by the one thread writing */
	us_txq_write_fn write;
	void *ctx;
	uint8_t *arena;
	size_t arena_cap;
	struct us_txq_slot *slots;
	uint32_t nslots;
	uint32_t head, count; /* the oldest frame's slot; frames queued */
	/* Frames pushed and written since the start (written also counts
	 * frames whose write failed): written == pushed when nothing waits.
	 * Changed under the lock, read without it. */
	_Atomic uint64_t pushed, written;
	_Atomic uint64_t failed;        /* queued frames whose write failed */
	_Atomic uint64_t written_through; /* frames that found the queue full */
};

/* An empty queue of nslots frames and arena_bytes of frame data (at least
 * two 64 KB super-frames' worth). 0 or -ENOMEM. */
int us_txq_init(struct us_txq *q, size_t arena_bytes, uint32_t nslots, us_txq_write_fn write,
		void *ctx);
/* Frees the queue; frames still queued are dropped. */
void us_txq_fini(struct us_txq *q);

/* Queues a copy of f, sent by the core at stamp; err (or NULL): where the
 * error goes if its write fails. 0 and *ticket (the frame's number, from 1
 * on), or -ENOBUFS when there is no room (the caller then uses
 * us_txq_write_through()). Pushes must be serialised by the caller (the
 * core lock): their order is the order of the writes. */
int us_txq_push(struct us_txq *q, const struct us_frame *f, us_time_t stamp, int *err,
		uint64_t *ticket);

/* Writes the frames queued up to ticket upto (and any queued meanwhile
 * that come in the same rounds), oldest first; returns at once when they
 * are written already. Never call it holding a lock a pusher takes. */
void us_txq_flush(struct us_txq *q, uint64_t upto);
/* The same for every frame queued now. */
void us_txq_flush_all(struct us_txq *q);
/* Writes every frame queued now if no other thread is writing; returns at
 * once otherwise (that thread, or the frames' own pushers, write them). */
void us_txq_help(struct us_txq *q);

/* For a frame that found no room: writes everything queued, then f, and
 * returns f's write result. May be called by a pusher with its lock held. */
int us_txq_write_through(struct us_txq *q, const struct us_frame *f, us_time_t stamp);

/* Are frames waiting to be written? (A hint without the lock.) */
static inline bool us_txq_pending(struct us_txq *q)
{
	return atomic_load(&q->written) != atomic_load(&q->pushed);
}

#endif

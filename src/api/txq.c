/* SPDX-License-Identifier: MIT */
/*
 * txq.c - the runtime's transmit queue (txq.h explains what and why).
 * No RFC applies.
 *
 * The arena is a byte ring whose frames are freed in the order they were
 * queued, so where free space is follows from the oldest and the newest
 * frame: after the newest up to the end (then from 0 up to the oldest)
 * while the frames do not wrap, between the newest and the oldest once
 * they do. An empty queue starts again at 0.
 */
#include "txq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Frames start on a cache line. */
#define TXQ_ALIGN 64u

static size_t align_up(size_t n)
{
	return (n + TXQ_ALIGN - 1) & ~(size_t)(TXQ_ALIGN - 1);
}

int us_txq_init(struct us_txq *q, size_t arena_bytes, uint32_t nslots, us_txq_write_fn write,
		void *ctx)
{
	memset(q, 0, sizeof *q);
	q->arena = malloc(arena_bytes);
	q->slots = calloc(nslots, sizeof *q->slots);
	if (!q->arena || !q->slots || nslots == 0) {
		free(q->arena);
		free(q->slots);
		q->arena = NULL;
		q->slots = NULL;
		return -ENOMEM;
	}
	q->arena_cap = arena_bytes;
	q->nslots = nslots;
	q->write = write;
	q->ctx = ctx;
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->write_lock, NULL);
	atomic_init(&q->pushed, 0);
	atomic_init(&q->written, 0);
	atomic_init(&q->failed, 0);
	atomic_init(&q->written_through, 0);
	return 0;
}

void us_txq_fini(struct us_txq *q)
{
	if (!q->slots)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->write_lock);
	free(q->arena);
	free(q->slots);
	q->arena = NULL;
	q->slots = NULL;
}

/* Lock held: where len bytes fit in the arena, or false. */
static bool arena_place(const struct us_txq *q, size_t len, size_t *off)
{
	if (q->count == 0) {
		*off = 0;
		return len <= q->arena_cap;
	}
	const struct us_txq_slot *first = &q->slots[q->head];
	const struct us_txq_slot *last = &q->slots[(q->head + q->count - 1) % q->nslots];
	size_t head = first->off;
	size_t tail = align_up(last->off + last->f.len);
	if (tail > head) {
		/* Not wrapped: after the newest, or else from the start. */
		if (tail <= q->arena_cap && len <= q->arena_cap - tail) {
			*off = tail;
			return true;
		}
		*off = 0;
		return len <= head;
	}
	/* Wrapped: between the newest and the oldest. */
	*off = tail;
	return len <= head - tail;
}

int us_txq_push(struct us_txq *q, const struct us_frame *f, us_time_t stamp, int *err,
		uint64_t *ticket)
{
	if (f->len == 0)
		return -ENOBUFS;
	pthread_mutex_lock(&q->lock);
	size_t off;
	if (q->count == q->nslots || !arena_place(q, f->len, &off)) {
		pthread_mutex_unlock(&q->lock);
		return -ENOBUFS;
	}
	struct us_txq_slot *s = &q->slots[(q->head + q->count) % q->nslots];
	memcpy(q->arena + off, f->data, f->len);
	s->off = off;
	s->f = *f;
	s->f.data = NULL;
	s->stamp = stamp;
	s->err = err;
	q->count++;
	*ticket = atomic_fetch_add(&q->pushed, 1) + 1;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/*
 * Write lock held: writes what is queued, in rounds (each takes every frame
 * queued at its start), until the frames up to ticket target are written.
 * The frames of a round stay in the ring while they are written, so no
 * push can take their bytes; the ring lock is not held meanwhile.
 */
static void write_queued(struct us_txq *q, uint64_t target)
{
	for (;;) {
		pthread_mutex_lock(&q->lock);
		uint32_t head = q->head, n = q->count;
		bool done = atomic_load(&q->written) >= target || n == 0;
		pthread_mutex_unlock(&q->lock);
		if (done)
			return;
		uint64_t failed = 0;
		for (uint32_t i = 0; i < n; i++) {
			struct us_txq_slot *s = &q->slots[(head + i) % q->nslots];
			struct us_frame f = s->f;
			f.data = q->arena + s->off;
			int rc = q->write(q->ctx, &f, s->stamp);
			if (rc < 0) {
				failed++;
				if (s->err && *s->err == 0)
					*s->err = rc;
			}
		}
		pthread_mutex_lock(&q->lock);
		q->head = (head + n) % q->nslots;
		q->count -= n;
		if (failed)
			atomic_fetch_add(&q->failed, failed);
		atomic_fetch_add(&q->written, n);
		pthread_mutex_unlock(&q->lock);
	}
}

void us_txq_flush(struct us_txq *q, uint64_t upto)
{
	if (atomic_load(&q->written) >= upto)
		return;
	pthread_mutex_lock(&q->write_lock);
	write_queued(q, upto);
	pthread_mutex_unlock(&q->write_lock);
}

void us_txq_flush_all(struct us_txq *q)
{
	us_txq_flush(q, atomic_load(&q->pushed));
}

void us_txq_help(struct us_txq *q)
{
	uint64_t target = atomic_load(&q->pushed);
	if (atomic_load(&q->written) >= target || pthread_mutex_trylock(&q->write_lock) != 0)
		return;
	write_queued(q, target);
	pthread_mutex_unlock(&q->write_lock);
}

int us_txq_write_through(struct us_txq *q, const struct us_frame *f, us_time_t stamp)
{
	pthread_mutex_lock(&q->write_lock);
	write_queued(q, atomic_load(&q->pushed));
	int rc = q->write(q->ctx, f, stamp);
	atomic_fetch_add(&q->written_through, 1);
	pthread_mutex_unlock(&q->write_lock);
	return rc;
}

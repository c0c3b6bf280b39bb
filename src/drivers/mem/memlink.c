/* SPDX-License-Identifier: MIT */
/*
 * drivers/mem/memlink.c - an in-process Ethernet link between two drivers.
 *
 * Implements ustack/memlink.h. No RFC applies: this is the test bench's
 * cable. Read include/ustack/driver.h, then include/ustack/memlink.h.
 *
 * The link is two directions, each a bounded FIFO (a ring of slots) that is
 * the receive queue of one endpoint: endpoint i receives from to[i] and
 * transmits into to[1 - i]. A direction has its own mutex, so the two
 * endpoints can run on different threads; the receiving endpoint's eventfd
 * is written when its queue turns non-empty and drained when it turns empty,
 * both under that mutex, so the eventfd is readable exactly while a frame
 * waits.
 *
 * Impairment is decided per direction from a counter and an xorshift64
 * generator seeded at pair time, so a test that sends the same frames sees
 * the same ones lost, run after run.
 */
#include <ustack/memlink.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define DEFAULT_MTU 1500u

struct slot {
	uint32_t len;
	struct us_rx_meta meta; /* the sender's offload fields, handed to the receiver */
};

/* Frames on their way to one endpoint: that endpoint's receive queue. */
struct direction {
	pthread_mutex_t lock;
	uint8_t *mem;       /* nslots * US_MEMLINK_MAX_FRAME bytes: slot i at i * MAX_FRAME */
	struct slot *slots;
	uint32_t nslots;
	uint32_t head;      /* oldest frame */
	uint32_t count;     /* frames waiting */
	int efd;            /* the receiver's eventfd; -1 once the receiver closed */

	/* Impairment of frames entering this queue. */
	uint32_t drop_every;
	double drop_probability;
	uint64_t rng;       /* xorshift64 state, never 0 */
	uint64_t offered;   /* frames offered so far, for drop_every */

	/* Counters: the sender's tx side, the receiver's rx side. */
	uint64_t queued;
	uint64_t dropped_full;
	uint64_t dropped_impaired;
	uint64_t delivered;
	uint64_t rx_too_big;
};

struct endpoint {
	struct memlink *link;
	int side; /* 0 for a, 1 for b */
};

struct memlink {
	struct direction to[2]; /* to[0]: frames for a, to[1]: frames for b */
	struct endpoint end[2];
	atomic_int open_ends;
	bool locks_ready;
};

/* splitmix64 (Steele, Lea, Flood 2014): spreads any seed, 0 included, into
 * a well-mixed xorshift state. */
static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Marsaglia's xorshift64 (13, 7, 17). */
static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* Whether impairment loses the next frame offered to q. Called with q->lock held. */
static bool impairment_drops(struct direction *q)
{
	bool drop = false;

	q->offered++;
	if (q->drop_every && q->offered % q->drop_every == 0)
		drop = true;
	if (q->drop_probability > 0.0) {
		/* The top 53 bits as a uniform double in [0, 1). */
		double u = (double)(xorshift64(&q->rng) >> 11) * 0x1.0p-53;

		if (u < q->drop_probability)
			drop = true;
	}
	return drop;
}

static uint8_t *slot_bytes(const struct direction *q, uint32_t i)
{
	return q->mem + (size_t)i * US_MEMLINK_MAX_FRAME;
}

static void signal_readable(int efd)
{
	/* Adding 1 fails only when the counter would pass 2^64 - 2. */
	(void)eventfd_write(efd, 1);
}

static void clear_readable(int efd)
{
	eventfd_t drained;

	/* Reads the counter back to zero; EAGAIN when it already was. */
	(void)eventfd_read(efd, &drained);
}

static int memlink_fd(void *ctx)
{
	const struct endpoint *e = ctx;
	struct direction *q = &e->link->to[e->side];
	int fd;

	pthread_mutex_lock(&q->lock);
	fd = q->efd;
	pthread_mutex_unlock(&q->lock);
	return fd;
}

static int memlink_transmit(void *ctx, const struct us_frame *frame)
{
	const struct endpoint *e = ctx;
	struct direction *q = &e->link->to[1 - e->side];
	struct slot *s;
	uint32_t tail;
	int ret = 0;

	if (!frame->data || frame->len == 0)
		return -EINVAL;
	if (frame->len > US_MEMLINK_MAX_FRAME)
		return -EMSGSIZE;

	pthread_mutex_lock(&q->lock);
	if (q->efd < 0) {
		ret = -ENOTCONN;
	} else if (impairment_drops(q)) {
		q->dropped_impaired++;
	} else if (q->count == q->nslots) {
		q->dropped_full++;
		ret = -EAGAIN;
	} else {
		tail = (q->head + q->count) % q->nslots;
		s = &q->slots[tail];
		memcpy(slot_bytes(q, tail), frame->data, frame->len);
		s->len = (uint32_t)frame->len;
		s->meta = (struct us_rx_meta){
			.csum_valid = false,
			.csum_partial = frame->csum_partial,
			.csum_start = frame->csum_start,
			.csum_offset = frame->csum_offset,
			.gso_type = frame->gso_type,
			.gso_size = frame->gso_size,
			.hdr_len = frame->hdr_len,
		};
		q->count++;
		q->queued++;
		if (q->count == 1)
			signal_readable(q->efd);
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int memlink_recv(void *ctx, uint8_t *buf, size_t cap, struct us_rx_meta *meta)
{
	const struct endpoint *e = ctx;
	struct direction *q = &e->link->to[e->side];
	const struct slot *s;
	int ret;

	if (meta)
		memset(meta, 0, sizeof *meta);
	pthread_mutex_lock(&q->lock);
	if (q->count == 0) {
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	s = &q->slots[q->head];
	if (s->len > cap) {
		q->rx_too_big++;
		ret = -EMSGSIZE;
	} else {
		memcpy(buf, slot_bytes(q, q->head), s->len);
		if (meta)
			*meta = s->meta;
		q->delivered++;
		ret = (int)s->len;
	}
	q->head = (q->head + 1) % q->nslots;
	q->count--;
	if (q->count == 0)
		clear_readable(q->efd);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static void destroy(struct memlink *l)
{
	for (int i = 0; i < 2; i++) {
		struct direction *q = &l->to[i];

		if (l->locks_ready)
			pthread_mutex_destroy(&q->lock);
		if (q->efd >= 0)
			close(q->efd);
		free(q->slots);
		free(q->mem);
	}
	free(l);
}

static void memlink_close(void *ctx)
{
	const struct endpoint *e = ctx;
	struct memlink *l = e->link;
	struct direction *q = &l->to[e->side];

	/* The peer's transmits now fail with -ENOTCONN instead of filling a
	 * queue nobody reads, and never touch the closed descriptor. */
	pthread_mutex_lock(&q->lock);
	close(q->efd);
	q->efd = -1;
	q->count = 0;
	pthread_mutex_unlock(&q->lock);

	if (atomic_fetch_sub(&l->open_ends, 1) == 1)
		destroy(l);
}

static const struct us_driver_ops memlink_ops = {
	.fd = memlink_fd,
	.recv = memlink_recv,
	.transmit = memlink_transmit,
	.close = memlink_close,
};

static bool impairment_valid(const struct us_memlink_impairment *imp)
{
	/* Written so that a NaN fails too. */
	return imp->drop_probability >= 0.0 && imp->drop_probability <= 1.0;
}

static int direction_init(struct direction *q, uint32_t nslots,
			  const struct us_memlink_impairment *imp, uint64_t stream)
{
	q->nslots = nslots;
	q->mem = malloc((size_t)nslots * US_MEMLINK_MAX_FRAME);
	q->slots = calloc(nslots, sizeof *q->slots);
	if (!q->mem || !q->slots)
		return -ENOMEM;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return -errno;
	q->drop_every = imp->drop_every;
	q->drop_probability = imp->drop_probability;
	/* The two directions draw from different streams even with one seed. */
	q->rng = splitmix64(imp->seed ^ stream);
	if (q->rng == 0)
		q->rng = 0x9e3779b97f4a7c15ull;
	return 0;
}

static void fill_driver(struct us_driver *d, struct endpoint *e, const char *name, uint32_t mtu)
{
	memset(d, 0, sizeof *d);
	d->ops = &memlink_ops;
	d->ctx = e;
	memcpy(d->name, name, strlen(name) + 1);
	d->mtu = mtu;
}

int us_memlink_pair(struct us_driver *a, struct us_driver *b, const struct us_memlink_options *opt)
{
	static const struct us_memlink_options defaults;
	struct memlink *l;
	uint32_t nslots, mtu;
	int err;

	if (!a || !b || a == b)
		return -EINVAL;
	if (!opt)
		opt = &defaults;
	nslots = opt->queue_frames ? opt->queue_frames : US_MEMLINK_DEFAULT_QUEUE;
	mtu = opt->mtu ? opt->mtu : DEFAULT_MTU;
	if (nslots > US_MEMLINK_MAX_QUEUE || !impairment_valid(&opt->a_to_b) ||
	    !impairment_valid(&opt->b_to_a))
		return -EINVAL;

	l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->to[0].efd = -1;
	l->to[1].efd = -1;
	for (int i = 0; i < 2; i++) {
		if (pthread_mutex_init(&l->to[i].lock, NULL) != 0) {
			if (i == 1)
				pthread_mutex_destroy(&l->to[0].lock);
			free(l);
			return -ENOMEM;
		}
	}
	l->locks_ready = true;
	/* to[1] carries a's frames to b, to[0] b's frames to a. */
	err = direction_init(&l->to[1], nslots, &opt->a_to_b, 0xa2b);
	if (!err)
		err = direction_init(&l->to[0], nslots, &opt->b_to_a, 0xb2a);
	if (err) {
		destroy(l);
		return err;
	}
	for (int i = 0; i < 2; i++) {
		l->end[i].link = l;
		l->end[i].side = i;
	}
	atomic_init(&l->open_ends, 2);
	fill_driver(a, &l->end[0], "mem-a", mtu);
	fill_driver(b, &l->end[1], "mem-b", mtu);
	return 0;
}

int us_memlink_stats(const struct us_driver *d, struct us_memlink_stats *out)
{
	const struct endpoint *e;
	struct direction *tx, *rx;

	if (!d || !out || d->ops != &memlink_ops)
		return -EINVAL;
	e = d->ctx;
	tx = &e->link->to[1 - e->side];
	rx = &e->link->to[e->side];

	pthread_mutex_lock(&tx->lock);
	out->tx = tx->queued;
	out->dropped_full = tx->dropped_full;
	out->dropped_impaired = tx->dropped_impaired;
	pthread_mutex_unlock(&tx->lock);

	pthread_mutex_lock(&rx->lock);
	out->rx = rx->delivered;
	out->rx_too_big = rx->rx_too_big;
	pthread_mutex_unlock(&rx->lock);
	return 0;
}

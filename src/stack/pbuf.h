/* SPDX-License-Identifier: MIT */
/*
 * pbuf.h - frame buffers with headroom, from pools sized at creation.
 *
 * A pbuf is one contiguous piece of storage holding one frame (or one TCP
 * super-segment: up to 64 KB for TSO/GSO). Its data lies at [off, off+len);
 * the bytes before off are headroom, so each layer on the way out pushes its
 * header in front without copying the payload. There are two size classes:
 * small ones for a frame of one MTU, large ones for 64 KB GSO frames. Both
 * pools are allocated once by us_stack_new(): the data path never calls
 * malloc, and an empty pool is a counted drop, not a crash.
 */
#ifndef USTACK_PBUF_H
#define USTACK_PBUF_H

#include <stdint.h>

struct us_pbuf {
	struct us_pbuf *next; /* free list, or a queue of the owner's */
	uint8_t *mem;         /* the storage */
	uint32_t cap;         /* bytes of storage */
	uint32_t off;         /* where the data starts */
	uint32_t len;         /* bytes of data */
	uint8_t cls;          /* size class it came from */
	/* Transmit offloads (virtio-net semantics, docs/performance.md), all
	 * zero for a plain frame; us_stack_alloc() clears them, TCP output
	 * sets them, us_eth_output() turns them into struct us_frame's. */
	uint8_t gso_type;     /* enum us_gso_type */
	uint16_t gso_size;    /* payload bytes per segment */
	uint32_t csum_at;     /* storage offset (from mem) of the transport header
			       * whose checksum is partial; 0: none */
	uint16_t csum_offset; /* the checksum field within that header */
};

enum { US_PBUF_CLS_SMALL, US_PBUF_CLS_LARGE, US_PBUF_NCLS };

struct us_pool {
	struct us_pbuf *free[US_PBUF_NCLS];
	uint32_t count[US_PBUF_NCLS];
	uint32_t in_use[US_PBUF_NCLS];
	uint64_t exhausted; /* allocations refused: pool empty or too large a request */
	struct us_pbuf *descs;
	uint8_t *storage;
};

/* Allocates the pools. 0 on success, -ENOMEM. */
int us_pool_init(struct us_pool *p, uint32_t small_bufs, uint32_t large_bufs);
void us_pool_fini(struct us_pool *p);

/* A buffer with at least headroom bytes free in front of len bytes of data
 * (contents undefined), or NULL when the pool is empty. */
struct us_pbuf *us_pbuf_alloc(struct us_pool *p, uint32_t headroom, uint32_t len);
void us_pbuf_free(struct us_pool *p, struct us_pbuf *b);
uint32_t us_pool_in_use(const struct us_pool *p);

static inline uint8_t *us_pbuf_data(const struct us_pbuf *b)
{
	return b->mem + b->off;
}

static inline uint32_t us_pbuf_headroom(const struct us_pbuf *b)
{
	return b->off;
}

static inline uint32_t us_pbuf_tailroom(const struct us_pbuf *b)
{
	return b->cap - b->off - b->len;
}

/* Prepends n bytes of header space; returns its start, or NULL (no headroom). */
static inline uint8_t *us_pbuf_push(struct us_pbuf *b, uint32_t n)
{
	if (n > b->off)
		return 0;
	b->off -= n;
	b->len += n;
	return b->mem + b->off;
}

/* Removes n bytes from the front; returns the new start, or NULL (too short). */
static inline uint8_t *us_pbuf_pull(struct us_pbuf *b, uint32_t n)
{
	if (n > b->len)
		return 0;
	b->off += n;
	b->len -= n;
	return b->mem + b->off;
}

/* Appends n bytes at the end; returns where they go, or NULL (no tailroom). */
static inline uint8_t *us_pbuf_put(struct us_pbuf *b, uint32_t n)
{
	if (n > us_pbuf_tailroom(b))
		return 0;
	uint8_t *p = b->mem + b->off + b->len;
	b->len += n;
	return p;
}

/* Shortens the data to len bytes (no-op when already shorter). */
static inline void us_pbuf_trim(struct us_pbuf *b, uint32_t len)
{
	if (len < b->len)
		b->len = len;
}

#endif

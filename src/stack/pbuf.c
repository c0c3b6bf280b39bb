/* SPDX-License-Identifier: MIT */
/*
 * pbuf.c - the two buffer pools (see pbuf.h). All storage is taken once, at
 * us_stack_new(); after that a buffer is a pointer off a free list.
 */
#include "pbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/core.h>

static const uint32_t class_size[US_PBUF_NCLS] = { US_PBUF_SMALL, US_PBUF_LARGE };

int us_pool_init(struct us_pool *p, uint32_t small_bufs, uint32_t large_bufs)
{
	memset(p, 0, sizeof *p);
	p->count[US_PBUF_CLS_SMALL] = small_bufs;
	p->count[US_PBUF_CLS_LARGE] = large_bufs;
	size_t n = (size_t)small_bufs + large_bufs;
	size_t bytes = (size_t)small_bufs * US_PBUF_SMALL + (size_t)large_bufs * US_PBUF_LARGE;
	p->descs = calloc(n ? n : 1, sizeof *p->descs);
	p->storage = malloc(bytes ? bytes : 1);
	if (!p->descs || !p->storage) {
		us_pool_fini(p);
		return -ENOMEM;
	}
	uint8_t *mem = p->storage;
	struct us_pbuf *d = p->descs;
	for (int cls = 0; cls < US_PBUF_NCLS; cls++) {
		for (uint32_t i = 0; i < p->count[cls]; i++, d++) {
			d->mem = mem;
			d->cap = class_size[cls];
			d->cls = (uint8_t)cls;
			d->next = p->free[cls];
			p->free[cls] = d;
			mem += class_size[cls];
		}
	}
	return 0;
}

void us_pool_fini(struct us_pool *p)
{
	free(p->descs);
	free(p->storage);
	p->descs = NULL;
	p->storage = NULL;
}

struct us_pbuf *us_pbuf_alloc(struct us_pool *p, uint32_t headroom, uint32_t len)
{
	uint64_t need = (uint64_t)headroom + len;
	for (int cls = 0; cls < US_PBUF_NCLS; cls++) {
		if (need > class_size[cls])
			continue;
		struct us_pbuf *b = p->free[cls];
		if (!b)
			continue; /* a small request may borrow a large buffer */
		p->free[cls] = b->next;
		p->in_use[cls]++;
		b->next = NULL;
		b->off = headroom;
		b->len = len;
		return b;
	}
	p->exhausted++;
	return NULL;
}

void us_pbuf_free(struct us_pool *p, struct us_pbuf *b)
{
	if (!b)
		return;
	b->next = p->free[b->cls];
	p->free[b->cls] = b;
	p->in_use[b->cls]--;
}

uint32_t us_pool_in_use(const struct us_pool *p)
{
	return p->in_use[US_PBUF_CLS_SMALL] + p->in_use[US_PBUF_CLS_LARGE];
}

/* SPDX-License-Identifier: MIT */
/*
 * wire/bytes.h - big-endian accessors over byte buffers.
 *
 * Every header in ustack is read and written through these: a frame's IPv4
 * header sits at offset 14 and is not aligned, so casting frame bytes to a
 * struct is undefined behaviour (UBSan reports it). Compilers turn these
 * into single loads and byte swaps.
 */
#ifndef USTACK_WIRE_BYTES_H
#define USTACK_WIRE_BYTES_H

#include <stdint.h>

static inline uint16_t us_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t us_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void us_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void us_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif

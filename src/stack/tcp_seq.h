/* SPDX-License-Identifier: MIT */
/*
 * tcp_seq.h - sequence number arithmetic (RFC 9293 §3.4).
 *
 * "It is essential to remember that the actual sequence number space is
 * finite, though very large ... all arithmetic dealing with sequence numbers
 * must be performed modulo 2**32." Comparisons are made on the signed
 * difference, which is right as long as the two numbers are less than 2**31
 * apart: always true of numbers inside one window. A plain `<` on sequence
 * numbers is a bug; use these.
 */
#ifndef USTACK_TCP_SEQ_H
#define USTACK_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* lo <= x < hi, modulo 2**32. */
static inline bool seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return seq_le(lo, x) && seq_lt(x, hi);
}

static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}

static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

#endif

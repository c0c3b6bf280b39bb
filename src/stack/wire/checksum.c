/* SPDX-License-Identifier: MIT */
/*
 * wire/checksum.c - the Internet checksum (RFC 1071, RFC 1624) and the IPv4
 * and IPv6 pseudo-headers (RFC 9293 §3.1, RFC 8200 §8.1).
 *
 * Read first: checksum.h, which fixes the byte-order convention. The hot
 * loop loads 8 bytes at a time with memcpy (any alignment, no casts of byte
 * pointers), adds them into a 64-bit ones' complement accumulator with
 * end-around carry, and folds the result to 16 bits at the end (RFC 1071
 * §2(C) "parallel summation" and §4.1's deferred carries).
 */
#include "wire/checksum.h"

#include <string.h>

#include "wire/bytes.h"

/* One ones' complement addition in 64 bits: a carry out of bit 63 comes
 * back in at bit 0. Compilers turn this into add + adc. */
static inline uint64_t add_carry64(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

/* Fold to 16 bits with end-around carry; nonzero stays nonzero. */
static inline uint32_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint32_t)s;
}

/* Folded to a constant by the compiler: no reliance on predefined macros,
 * which -Wundef would make us test for. */
static inline int host_is_little_endian(void)
{
	const uint16_t one = 1;
	uint8_t first;

	memcpy(&first, &one, 1);
	return first == 1;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return w;
}

uint32_t us_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = 0;
	uint32_t s16;

	/* Four independent loads per iteration; the adds still chain through
	 * the carry, which is what an adc sequence does anyway. */
	while (len >= 32) {
		acc = add_carry64(acc, load64(p));
		acc = add_carry64(acc, load64(p + 8));
		acc = add_carry64(acc, load64(p + 16));
		acc = add_carry64(acc, load64(p + 24));
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		acc = add_carry64(acc, load64(p));
		p += 8;
		len -= 8;
	}
	if (len) {
		/* The tail in memory order followed by zero bytes: this pads an
		 * odd last byte with zero in either byte order. */
		uint64_t t = 0;

		memcpy(&t, p, len);
		acc = add_carry64(acc, t);
	}

	s16 = fold64(acc);
	if (host_is_little_endian())
		s16 = ((s16 & 0xffu) << 8) | (s16 >> 8);
	return fold64((uint64_t)sum + s16);
}

uint16_t us_csum_fold(uint32_t sum)
{
	return (uint16_t)~fold64(sum);
}

uint32_t us_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	uint64_t s = 0;

	s += src >> 16;
	s += src & 0xffffu;
	s += dst >> 16;
	s += dst & 0xffffu;
	s += proto; /* the word is (zero, protocol) */
	s += len >> 16;
	s += len & 0xffffu;
	return fold64(s);
}

uint32_t us_csum_pseudo6(const struct us_ip6 *src, const struct us_ip6 *dst, uint8_t next,
			 uint32_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i < 16; i += 2) {
		s += us_get_be16(&src->b[i]);
		s += us_get_be16(&dst->b[i]);
	}
	s += len >> 16;
	s += len & 0xffffu;
	s += next; /* the last word is (zero, next header) */
	return fold64(s);
}

bool us_csum_ok(const void *buf, size_t len, uint32_t pseudo)
{
	return us_csum_fold(us_csum_partial(buf, len, pseudo)) == 0;
}

void us_csum_fill(uint8_t *buf, size_t len, size_t csum_at, uint32_t pseudo)
{
	if (csum_at > len || len - csum_at < 2)
		return;
	buf[csum_at] = 0;
	buf[csum_at + 1] = 0;
	us_put_be16(buf + csum_at, us_csum_fold(us_csum_partial(buf, len, pseudo)));
}

uint16_t us_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
	/* RFC 1624 §3: HC' = ~(~HC + ~m + m'). Eqn. 2 (~(HC + m' - m) in
	 * twos' complement) gets the -0 case wrong; eqn. 3 does not. */
	uint32_t s = (uint16_t)~csum;

	s += (uint16_t)~old_word;
	s += new_word;
	return us_csum_fold(s);
}

uint16_t us_csum_update32(uint16_t csum, uint32_t old_word, uint32_t new_word)
{
	uint32_t s = (uint16_t)~csum;

	s += (uint16_t) ~(old_word >> 16);
	s += (uint16_t) ~(old_word & 0xffffu);
	s += new_word >> 16;
	s += new_word & 0xffffu;
	return us_csum_fold(s);
}

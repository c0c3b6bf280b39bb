/* SPDX-License-Identifier: MIT */
/*
 * wire/checksum.c - the Internet checksum (RFC 1071, RFC 1624) and the IPv4
 * and IPv6 pseudo-headers (RFC 9293 §3.1, RFC 8200 §8.1).
 *
 * Read first: checksum.h, which fixes the byte-order convention. The hot
 * loop loads 8 bytes at a time with memcpy (any alignment, no casts of byte
 * pointers), adds them into a 64-bit ones' complement accumulator with
 * end-around carry, and folds the result to 16 bits at the end (RFC 1071
 * §2(C) "parallel summation" and §4.1's deferred carries). us_csum_copy()
 * copies and sums in one pass, for TCP's copies between its rings and
 * frames: with SSE2 (every x86-64) 16 bytes at a time in vector lanes,
 * elsewhere with the same 8-byte loop plus a store.
 */
#include "wire/checksum.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* The folded 16-bit sum of an accumulator over memory-order words, in
 * the network-order convention of checksum.h, added to sum. */
static inline uint32_t finish(uint64_t acc, uint32_t sum)
{
	uint32_t s16 = fold64(acc);

	if (host_is_little_endian())
		s16 = ((s16 & 0xffu) << 8) | (s16 >> 8);
	return fold64((uint64_t)sum + s16);
}

uint32_t us_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = 0;

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

	return finish(acc, sum);
}

#ifdef __SSE2__
/*
 * The exact (not folded) sum of the little-endian 16-bit words of
 * p[0..n), n a multiple of 16 and at most COPY_BLOCK, copied to q on the
 * way. SSE2, which every x86-64 has: pmaddwd multiplies eight signed
 * 16-bit words by 1 and adds neighbours into four 32-bit lanes, so 16
 * bytes cost a load, a store and three operations (the add-with-carry
 * chain of us_csum_partial() costs about eight instructions per 16 bytes
 * and a memcpy pass on top of it about one more). The words are unsigned:
 * each is made signed by subtracting 0x8000 (xor of its top bit), and the
 * n / 2 * 0x8000 taken off is added back at the end. A lane gains at most
 * 4 * 65536 in magnitude per 64 bytes, so a block of COPY_BLOCK bytes keeps
 * it far inside int32_t.
 */
#define COPY_BLOCK (64u * 4096u)

static inline __m128i load128(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i_u *)(const void *)p);
}

static inline void store128(uint8_t *q, __m128i x)
{
	_mm_storeu_si128((__m128i_u *)(void *)q, x);
}

static uint64_t copy_sum_sse2(uint8_t *q, const uint8_t *p, size_t n)
{
	const __m128i flip = _mm_set1_epi16((short)0x8000);
	const __m128i ones = _mm_set1_epi16(1);
	__m128i acc = _mm_setzero_si128();
	int32_t lane[4];
	size_t i = 0;

	for (; i + 64 <= n; i += 64) {
		__m128i x0 = load128(p + i), x1 = load128(p + i + 16);
		__m128i x2 = load128(p + i + 32), x3 = load128(p + i + 48);

		store128(q + i, x0);
		store128(q + i + 16, x1);
		store128(q + i + 32, x2);
		store128(q + i + 48, x3);
		x0 = _mm_madd_epi16(_mm_xor_si128(x0, flip), ones);
		x1 = _mm_madd_epi16(_mm_xor_si128(x1, flip), ones);
		x2 = _mm_madd_epi16(_mm_xor_si128(x2, flip), ones);
		x3 = _mm_madd_epi16(_mm_xor_si128(x3, flip), ones);
		x0 = _mm_add_epi32(_mm_add_epi32(x0, x1), _mm_add_epi32(x2, x3));
		acc = _mm_add_epi32(acc, x0);
	}
	for (; i < n; i += 16) {
		__m128i x = load128(p + i);

		store128(q + i, x);
		acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_xor_si128(x, flip), ones));
	}
	store128((uint8_t *)lane, acc);
	int64_t sum = (int64_t)lane[0] + lane[1] + lane[2] + lane[3];

	return (uint64_t)(sum + (int64_t)(n / 2) * 0x8000);
}
#endif

/*
 * One pass: each word is loaded once, stored once and summed from the
 * register it was loaded into (RFC 1071 §4.1's deferred carries, as in
 * us_csum_partial()), instead of a memcpy pass and a second pass that
 * reads the bytes again. The sum is the same as us_csum_partial()'s: the
 * 16-bit words in memory order, swapped once at the end (finish()).
 */
uint32_t us_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
	const uint8_t *p = src;
	uint8_t *q = dst;
	uint64_t acc = 0;

#ifdef __SSE2__
	while (len >= 16) {
		size_t n = len < COPY_BLOCK ? len & ~(size_t)15 : COPY_BLOCK;

		acc = add_carry64(acc, copy_sum_sse2(q, p, n));
		p += n;
		q += n;
		len -= n;
	}
#endif
	while (len >= 8) {
		uint64_t w = load64(p);

		memcpy(q, &w, sizeof w);
		acc = add_carry64(acc, w);
		p += 8;
		q += 8;
		len -= 8;
	}
	if (len) {
		/* As in us_csum_partial(): the tail, then zero bytes. */
		uint64_t t = 0;

		memcpy(&t, p, len);
		memcpy(q, p, len);
		acc = add_carry64(acc, t);
	}
	return finish(acc, sum);
}

uint32_t us_csum_add_at(uint32_t sum, uint32_t part, size_t at)
{
	part = fold64(part);
	if (at & 1)
		part = ((part & 0xffu) << 8) | (part >> 8);
	return fold64((uint64_t)sum + part);
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

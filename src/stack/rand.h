/* SPDX-License-Identifier: MIT */
/*
 * rand.h - the core's seeded random source and keyed hash.
 *
 * The core draws no randomness of its own: the runtime hands it a seed (from
 * getrandom()) and a secret key, and tests hand it fixed ones, so every run
 * on a virtual clock is reproducible. The generator is xoshiro256**
 * (Blackman and Vigna), seeded through splitmix64. It is fast and
 * well distributed, not cryptographic: anything an attacker must not predict
 * (RFC 6528 initial sequence numbers, RFC 6056 port offsets, SYN cookies,
 * IPv4 fragment IDs per destination) goes through SipHash-2-4 keyed with the
 * secret instead.
 */
#ifndef USTACK_RAND_H
#define USTACK_RAND_H

#include <stddef.h>
#include <stdint.h>

struct us_rand {
	uint64_t s[4];
};

void us_rand_seed(struct us_rand *r, uint64_t seed);
uint64_t us_rand_u64(struct us_rand *r);
uint32_t us_rand_u32(struct us_rand *r);
/* Uniform in [0, n); n > 0. */
uint32_t us_rand_below(struct us_rand *r, uint32_t n);

/* SipHash-2-4 (Aumasson and Bernstein) of data under a 128-bit key. */
uint64_t us_siphash(const uint8_t key[16], const void *data, size_t len);

#endif

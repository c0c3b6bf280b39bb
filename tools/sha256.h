/* SPDX-License-Identifier: MIT */
/*
 * tools/sha256.h - SHA-256 (FIPS 180-4 §6.2), small and dependency-free,
 * for the demo's discard service and ustack-fetch --sha256: both print the
 * digest of what crossed the stack, to compare with sha256sum(1).
 *
 * Streaming: us_sha256_init(), us_sha256_update() any number of times with
 * pieces of any size, us_sha256_final(). Read tools/sha256.c for the
 * algorithm, tests/unit/test_sha256.c for the known answers.
 */
#ifndef USTACK_TOOLS_SHA256_H
#define USTACK_TOOLS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define US_SHA256_DIGEST 32
#define US_SHA256_HEX	 (2 * US_SHA256_DIGEST + 1) /* 64 hex digits and a NUL */

struct us_sha256 {
	uint32_t h[8];	    /* H(i), the intermediate hash value */
	uint64_t len_bytes; /* message length so far */
	uint8_t block[64];  /* the message block being filled */
	size_t used;	    /* bytes in block */
};

void us_sha256_init(struct us_sha256 *c);
void us_sha256_update(struct us_sha256 *c, const void *data, size_t len);
/* Pads (FIPS 180-4 §5.1.1), writes the digest; c must be initialised again
 * before reuse. */
void us_sha256_final(struct us_sha256 *c, uint8_t out[US_SHA256_DIGEST]);
/* The digest as 64 lowercase hex digits, NUL-terminated. */
void us_sha256_hex(const uint8_t digest[US_SHA256_DIGEST], char out[US_SHA256_HEX]);
/* One call over one buffer. */
void us_sha256(const void *data, size_t len, uint8_t out[US_SHA256_DIGEST]);

#endif

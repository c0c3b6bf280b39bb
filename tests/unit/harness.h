/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/harness.h - the main() every unit test shares.
 *
 * A test file defines us_test_suite() returning its Check suite; the harness
 * runs it with TAP output (one line per case, by name) and exits non-zero
 * when any case failed.
 */
#ifndef USTACK_TEST_HARNESS_H
#define USTACK_TEST_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

Suite *us_test_suite(void);

/* Hex helper for literal frames: "ff ff ff" -> bytes. Returns the length;
 * aborts the test on a malformed string. */
size_t us_test_hex(const char *hex, uint8_t *out, size_t cap);

/* A fixed xorshift64: random-looking but repeatable. us_test_rng_state is
 * the seed (set it, never 0); us_test_fill_random() fills n bytes. */
extern uint64_t us_test_rng_state;
uint64_t us_test_rng(void);
void us_test_fill_random(uint8_t *p, size_t n);

/* The Internet checksum's reference (RFC 1071 §4.1), one byte at a time:
 * even offsets are the high byte of a big-endian word, odd offsets the low
 * byte; sum is added in and the result folded with end-around carry (it is
 * not complemented). us_test_csum_fold() folds any partial sum to its
 * canonical 16-bit value, for comparing sums. */
uint32_t us_test_csum_ref(const uint8_t *p, size_t len, uint32_t sum);
uint32_t us_test_csum_fold(uint32_t s);

/*
 * A fake interface for core tests (as lwIP's unit tests do): every frame the
 * core transmits is copied here, in order, to be asserted on byte by byte.
 */
#include <ustack/core.h>

#define US_TEST_MAX_FRAMES 64
#define US_TEST_FRAME_CAP 2048

struct us_test_link {
	int count;            /* frames captured (only the first US_TEST_MAX_FRAMES are kept) */
	int fail_with;        /* when non-zero, transmit returns this (a negative errno) */
	size_t len[US_TEST_MAX_FRAMES];
	uint8_t frame[US_TEST_MAX_FRAMES][US_TEST_FRAME_CAP];
};

int us_test_link_transmit(void *ctx, const struct us_frame *f);

/* A stack on a virtual clock (at 0) with one interface (index 0) on link, MAC
 * 02:00:00:00:00:02, and 198.51.100.2/24 when with_ip4. Seed and secret
 * fixed; no DAD and no Router Solicitation; link->count is reset to 0 after
 * setup, so frames sent while coming up (a gratuitous ARP) are not counted. */
struct us_stack *us_test_stack(struct us_test_link *link, int with_ip4);

/* The stack (198.51.100.2 on interface 0) learns ip -> 02:00:00:00:00:<last>
 * from that host's broadcast ARP request for 198.51.100.2 at time now
 * (RFC 826: a request for us creates the entry); the stack's reply is
 * forgotten (link->count is reset to 0). */
void us_test_meet_ipv4(struct us_stack *s, struct us_test_link *link, us_time_t now, uint32_t ip,
		       uint8_t last);

/* The Ethernet and IPv4 headers of a frame from the peer 02:00:00:00:00:01
 * to the stack's MAC 02:00:00:00:00:02, written at f (cap bytes): ip is
 * the caller's IPv4 header (addresses, id, DF, TOS, payload_len: each test
 * keeps its own). Returns 34, where the payload goes. */
struct us_ipv4_hdr;
size_t us_test_eth_ipv4(uint8_t *f, size_t cap, const struct us_ipv4_hdr *ip);

/* Frees the stack after checking that it holds no buffer (leak check). */
void us_test_stack_free(struct us_stack *s);

#endif

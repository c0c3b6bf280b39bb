/* SPDX-License-Identifier: MIT */
/*
 * ustack/memlink.h - an in-process Ethernet link between two drivers.
 *
 * us_memlink_pair() makes two connected endpoints, a and b, like the two
 * ends of a cable: what a transmits, b receives, and back. Tests wire two
 * stacks together with it (or a stack and a test that plays the peer), and
 * can make the link lose frames reproducibly.
 *
 * Each direction is a bounded FIFO of frame copies. Every slot is allocated
 * once, at pair time, big enough for the largest frame, so nothing is
 * allocated per frame; the slot memory is reserved up front and the OS
 * commits the pages as frames touch them. Both endpoints may be used from
 * different threads (one mutex per direction).
 *
 * Read ustack/driver.h first; the code is src/drivers/mem/memlink.c.
 */
#ifndef USTACK_MEMLINK_H
#define USTACK_MEMLINK_H

#include <ustack/driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest frame the link carries: a 64 KB GSO super-frame and headers. */
#define US_MEMLINK_MAX_FRAME (65536u + 256u)
#define US_MEMLINK_DEFAULT_QUEUE 256u
/* The most frames one direction may queue (bounds the memory reserved). */
#define US_MEMLINK_MAX_QUEUE 4096u

/*
 * Loss on one direction of the link, reproducible from seed. A frame is lost
 * when either rule says so; both rules count every frame offered. The frame's
 * transmit still returns 0: the sender cannot tell, as on a real wire.
 */
struct us_memlink_impairment {
	uint32_t drop_every;     /* lose the Nth, 2Nth, ... frame; 0: never */
	double drop_probability; /* lose each frame with this probability, 0..1 */
	uint64_t seed;           /* seeds this direction's xorshift64 generator */
};

struct us_memlink_options {
	uint32_t queue_frames; /* frames each direction holds; 0 picks US_MEMLINK_DEFAULT_QUEUE */
	uint32_t mtu;          /* the link's IP MTU reported in both drivers; 0 picks 1500 */
	struct us_memlink_impairment a_to_b; /* all zero: no loss */
	struct us_memlink_impairment b_to_a;
};

/*
 * Makes the pair. opt may be NULL (defaults, no loss). Returns 0, or a
 * negative errno: -EINVAL for a queue_frames above US_MEMLINK_MAX_QUEUE or a
 * drop_probability outside 0..1, -ENOMEM, or an eventfd() failure.
 *
 * The endpoints are named "mem-a" and "mem-b"; peer_mac is zero. Their ops:
 *  - fd is an eventfd (non-blocking, close-on-exec) that polls readable
 *    exactly while the endpoint's receive queue holds a frame.
 *  - transmit copies the frame into the peer's receive queue: 0 (also when
 *    impairment loses it), -EAGAIN when the queue is full (counted in
 *    dropped_full), -EMSGSIZE above US_MEMLINK_MAX_FRAME, -EINVAL for an
 *    empty frame, -ENOTCONN when the peer is closed. The link does not
 *    enforce the MTU. A frame's offload fields (gso_*, csum_*) travel with it
 *    and come out in the receiver's us_rx_meta, as across a virtio-net link.
 *  - recv takes the oldest frame: its length, 0 when the queue is empty,
 *    -EMSGSIZE when it is longer than cap (it is dropped, counted in
 *    rx_too_big).
 *  - close releases the endpoint; the shared memory goes with the second.
 */
int us_memlink_pair(struct us_driver *a, struct us_driver *b, const struct us_memlink_options *opt);

/* Counters of one endpoint. */
struct us_memlink_stats {
	uint64_t tx;               /* frames it transmitted into the peer's queue */
	uint64_t rx;               /* frames it received (recv returned them) */
	uint64_t dropped_full;     /* frames it transmitted while the peer's queue was full */
	uint64_t dropped_impaired; /* frames it transmitted that impairment lost */
	uint64_t rx_too_big;       /* frames it dropped because recv's buffer was too small */
};

/* Fills *out for endpoint d. Returns 0, or -EINVAL when d is not a memlink. */
int us_memlink_stats(const struct us_driver *d, struct us_memlink_stats *out);

#ifdef __cplusplus
}
#endif
#endif

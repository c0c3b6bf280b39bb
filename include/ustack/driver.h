/* SPDX-License-Identifier: MIT */
/*
 * ustack/driver.h - what the runtime needs of a link driver.
 *
 * A driver moves whole Ethernet frames between the core and something else:
 * a Linux TAP device (ustack/tap.h), or another stack in the same process
 * (ustack/memlink.h). The runtime waits for fd() to become readable, calls
 * recv() until it returns 0 (on its stack thread), and writes the frames the
 * core sends with transmit(): one call at a time, in the core's order, from
 * whichever thread writes its transmit queue, never with the core lock
 * held. recv() and transmit() may run at the same time.
 */
#ifndef USTACK_DRIVER_H
#define USTACK_DRIVER_H

#include <ustack/core.h>

#ifdef __cplusplus
extern "C" {
#endif

struct us_driver_ops {
	/* A descriptor that polls readable while frames wait, or -1. */
	int (*fd)(void *ctx);
	/* Reads one frame into buf: its length, 0 when none waits, or a negative
	 * errno. meta may be NULL; a driver without offloads zeroes it. A frame
	 * longer than cap is dropped and reported as -EMSGSIZE. */
	int (*recv)(void *ctx, uint8_t *buf, size_t cap, struct us_rx_meta *meta);
	/* Sends one frame; same contract as us_transmit_fn. */
	int (*transmit)(void *ctx, const struct us_frame *frame);
	/* Releases everything the driver holds (descriptors, memory). */
	void (*close)(void *ctx);
};

struct us_driver {
	const struct us_driver_ops *ops;
	void *ctx;
	char name[16];                 /* interface name, e.g. "tap0" */
	uint32_t mtu;                  /* the link's IP MTU */
	uint8_t peer_mac[US_ETH_ALEN]; /* the far side's MAC where known (TAP: the kernel's), else zero */
	/* enum us_offload bits the link granted (TAP with vnet_hdr: what
	 * TUNSETOFFLOAD took); 0 for plain frames. A driver with offloads
	 * fills us_rx_meta in recv and honours struct us_frame's offload
	 * fields in transmit. */
	uint32_t offloads;
};

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: MIT */
/*
 * ustack/ustack.h - the public API: the runtime that owns a core and drives
 * it from one thread (and, from the socket API issue on, the sockets).
 *
 * The runtime is thread-safe; the core is not. All calls into the core are
 * made with the runtime's one core lock held ("only one thread in the core
 * at a time", as lwIP puts it). The clock and the driver are parameters:
 * by default the monotonic clock and a TAP device; tests pass a virtual clock
 * and an in-memory link, and then nothing depends on real time.
 */
#ifndef USTACK_USTACK_H
#define USTACK_USTACK_H

#include <ustack/core.h>
#include <ustack/driver.h>

#ifdef __cplusplus
extern "C" {
#endif

struct us_clock {
	/* The current time; NULL means CLOCK_MONOTONIC. */
	us_time_t (*now)(void *ctx);
	void *ctx;
	/* A virtual clock moves only when its owner moves it: the runtime then
	 * never sleeps on a deadline but waits for us_runtime_wake(). */
	bool is_virtual;
};

struct us_runtime_config {
	/* The link. With ops NULL the runtime opens (or creates) the TAP device
	 * tap_name. The runtime owns the driver from the call on: it closes it at
	 * stop, or at once when the start fails. */
	struct us_driver driver;
	const char *tap_name;

	uint8_t mac[US_ETH_ALEN];   /* the stack's MAC; all zero picks a random locally administered one */
	uint32_t mtu;               /* 0: the driver's */
	uint32_t ipv4;              /* host order; 0: none */
	int ipv4_prefix;
	uint32_t ipv4_gateway;      /* default route through it; 0: none */
	bool has_ipv6;
	struct us_ip6 ipv6;
	int ipv6_prefix;

	const char *pcap_path;      /* capture of every frame in and out, or NULL */
	struct us_clock clock;

	/* Pools and trace hook for the core. Its seed and secret are drawn with
	 * getrandom() unless fixed_seed is set (tests, reproducible runs). */
	struct us_stack_config stack;
	bool fixed_seed;
};

struct us_runtime;

/* Starts the stack thread. NULL on failure with *err a negative errno (err may be NULL). */
struct us_runtime *us_runtime_start(const struct us_runtime_config *cfg, int *err);

/* Stops the thread, flushes and closes the capture, closes the driver, frees
 * everything. Blocked calls wake with an error. NULL is a no-op. */
void us_runtime_stop(struct us_runtime *rt);

/* Tells the stack thread to look at the clock again: after moving a
 * virtual clock, or to have a new deadline noticed. */
void us_runtime_wake(struct us_runtime *rt);

/* The runtime's clock. */
us_time_t us_runtime_now(const struct us_runtime *rt);

/* Runs fn with the core lock held: the one way for other threads to look
 * into the core (counters, tables). fn must not block. */
void us_runtime_with_core(struct us_runtime *rt,
			  void (*fn)(struct us_stack *s, us_time_t now, void *arg), void *arg);

/* The interface index of the runtime's link in its core (0). */
int us_runtime_ifindex(const struct us_runtime *rt);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench_callbacks.c - four of the benchmark services again,
 * served by event callbacks on ustack's stack thread (us_socket_callback(),
 * docs/api.md) instead of threads blocked in socket calls: no thread is
 * woken and no lock handed over per event. The kernel has no counterpart
 * (its own handshake and receive run in softirq context, which is what
 * these mimic); the figures are compared with the kernel's threaded
 * services (bench_server.c) in the same run.
 *
 *   BENCH_PORT_SINK + 100   (5101) sink:  throws away what comes, unread
 *                                         (zero-copy reads)
 *   BENCH_PORT_SOURCE + 100 (5102) source: sends whenever there is room
 *   BENCH_PORT_SHORT + 100  (5103) short: 1 byte back, then closes at the
 *                                         client's end of stream
 *   BENCH_PORT_ECHO + 100   (5104) echo:  TCP_NODELAY, every read back
 *
 * Every callback reads until EAGAIN (a callback is called once per batch
 * in which something happened, not while data waits). Only the stack
 * thread runs them, so the buffers are shared.
 *
 * Read bench_server.h first.
 */
#include "bench_callbacks.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <ustack/ustack.h>

#include "bench_server.h"

#define IO_BUF 65536

/* Only the stack thread touches them. */
static uint8_t buf[IO_BUF];
static uint8_t pattern[IO_BUF];

/* End of stream, or an error: the connection is done. */
static bool finished(ssize_t n)
{
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* Reads and throws away everything waiting; closes s and returns true at
 * its end of stream (or an error). */
static bool drain(int s)
{
	ssize_t n;
	while ((n = us_recv(s, buf, sizeof buf)) > 0)
		;
	if (!finished(n))
		return false;
	us_close(s);
	return true;
}

/* The sink looks at the bytes where they lie and lets them go: zero-copy
 * reads (us_recv_peek(), us_recv_consume()), no copy out of the socket's
 * buffer. */
static void sink_conn(int s, int events, void *arg)
{
	(void)events;
	(void)arg;
	const void *p;
	ssize_t n;
	while ((n = us_recv_peek(s, &p)) > 0)
		us_recv_consume(s, (size_t)n);
	if (n == 0)
		n = us_recv(s, buf, sizeof buf); /* end of stream, EAGAIN or an error */
	if (finished(n))
		us_close(s);
}

/* Fills the send buffer whenever there is room (POLLOUT), until the
 * client goes away. What is read is thrown away. */
static void source_conn(int s, int events, void *arg)
{
	(void)arg;
	if (events & (US_POLLIN | US_POLLERR | US_POLLHUP)) {
		if (drain(s))
			return;
		if (events & US_POLLHUP) {
			us_close(s);
			return;
		}
	}
	while (us_send(s, pattern, sizeof pattern) > 0)
		;
	if (errno != EAGAIN && errno != EINTR)
		us_close(s);
}

/* After the byte went back: wait for the client's FIN (its side holds
 * TIME_WAIT), then close. */
static void short_drain(int s, int events, void *arg)
{
	(void)events;
	(void)arg;
	drain(s);
}

static void short_conn(int s, int events, void *arg)
{
	(void)events;
	ssize_t n = us_recv(s, buf, 1);
	if (n == 1) {
		if (us_send(s, buf, 1) != 1) {
			us_close(s);
			return;
		}
		us_socket_callback(s, short_drain, arg);
		short_drain(s, events, arg);
	} else if (finished(n)) {
		us_close(s);
	}
}

/* Every read goes back whole. The ping-pong sends one byte at a time;
 * a reply the send buffer cannot take ends the connection (a benchmark
 * peer does not queue). */
static void echo_conn(int s, int events, void *arg)
{
	(void)events;
	(void)arg;
	ssize_t n;
	while ((n = us_recv(s, buf, sizeof buf)) > 0) {
		if (us_send(s, buf, (size_t)n) != n) {
			us_close(s);
			return;
		}
	}
	if (finished(n))
		us_close(s);
}

struct service {
	uint16_t port;
	us_socket_cb serve; /* the connections' callback */
	bool nodelay;
};

static struct service services[] = {
	{ BENCH_PORT_SINK + BENCH_CALLBACK_PORT_OFFSET, sink_conn, false },
	{ BENCH_PORT_SOURCE + BENCH_CALLBACK_PORT_OFFSET, source_conn, false },
	{ BENCH_PORT_SHORT + BENCH_CALLBACK_PORT_OFFSET, short_conn, false },
	{ BENCH_PORT_ECHO + BENCH_CALLBACK_PORT_OFFSET, echo_conn, true },
};

/* A listener's callback: arg is its struct service. */
static void accept_all(int l, int events, void *arg)
{
	(void)events;
	const struct service *sv = arg;
	for (;;) {
		int s = us_accept(l, NULL);
		if (s < 0)
			return; /* EAGAIN: none left; EMFILE: the client retries */
		if (sv->nodelay)
			us_setsockopt_int(s, US_IPPROTO_TCP, US_TCP_NODELAY, 1);
		/* Set, a callback hears of what came with the connection. */
		if (us_socket_callback(s, sv->serve, NULL) < 0)
			us_close(s);
	}
}

static int listen_with(struct service *sv)
{
	uint16_t port = sv->port;
	int l = us_socket(NULL, US_AF_INET, US_SOCK_STREAM, 0);
	struct us_addr any = { .family = US_AF_INET, .port = port };
	if (l < 0 || us_setsockopt_int(l, US_SOL_SOCKET, US_SO_REUSEADDR, 1) < 0 ||
	    us_bind(l, &any) < 0 || us_listen(l, 1024) < 0 ||
	    us_socket_callback(l, accept_all, sv) < 0) {
		fprintf(stderr, "bench-upeer: callback service on port %u: %s\n", port,
			strerror(errno));
		if (l >= 0)
			us_close(l);
		return -1;
	}
	return l;
}

int bench_callbacks_start(void)
{
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
		if (listen_with(&services[i]) < 0)
			return -1;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * tools/demo_tcp.h - the TCP services of ustack-demo: echo (RFC 862, port
 * 7), discard (RFC 863, port 9), chargen (RFC 864, port 19) and HTTP/1.1
 * (RFC 9110, RFC 9112; port 80 unless told), on IPv4 and IPv6, built on the
 * public socket API only. tools/http_server.h holds the HTTP side.
 *
 * Read include/ustack/ustack.h (the socket calls) first, then demo_tcp.c.
 */
#ifndef USTACK_TOOLS_DEMO_TCP_H
#define USTACK_TOOLS_DEMO_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <ustack/ustack.h>

/* Connections served at once, all services together; more are refused
 * (HTTP with a 503, the others closed at once). */
#define US_DEMO_TCP_MAX_CONNS 512

struct us_demo_tcp_config {
	struct us_runtime *rt;
	bool ipv4, ipv6;       /* which families to listen on */
	uint16_t http_port;    /* 0: no HTTP */
	const char *http_root; /* static files from here; NULL: the built-in page */
	bool no_echo, no_discard, no_chargen; /* leave these services out */
};

struct us_demo_tcp;

/* Opens the listeners and their accepting threads; prints one line saying
 * what listens where. NULL with a message on stderr when nothing could be
 * started (e.g. --http-root is not a directory). */
struct us_demo_tcp *us_demo_tcp_start(const struct us_demo_tcp_config *cfg);

/* After us_runtime_stop(): every blocked call has woken with ENETDOWN;
 * joins the accepting threads, waits (bounded) for the connections to end,
 * closes the listeners and frees d. NULL is a no-op. */
void us_demo_tcp_finish(struct us_demo_tcp *d);

#endif

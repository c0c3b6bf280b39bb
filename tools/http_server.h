/* SPDX-License-Identifier: MIT */
/*
 * tools/http_server.h - the small HTTP/1.1 origin server of ustack-demo
 * (RFC 9110 semantics, RFC 9112 message syntax): GET and HEAD, persistent
 * connections, static files under a root directory or a built-in page, and
 * the stack's TCP table at /status (text) and /status.html.
 *
 * Read tools/demo_tcp.h first; http_server.c says which rules it enacts.
 */
#ifndef USTACK_TOOLS_HTTP_SERVER_H
#define USTACK_TOOLS_HTTP_SERVER_H

#include <limits.h>
#include <stdbool.h>

#include <ustack/ustack.h>

struct us_http_server {
	struct us_runtime *rt; /* for /status: us_runtime_with_core */
	bool has_root;
	char root[PATH_MAX]; /* realpath() of --http-root, no trailing '/' */
};

/* Checks and resolves root (NULL: the built-in page only). false with a
 * message on stderr when it is not a readable directory. */
bool us_http_server_init(struct us_http_server *h, struct us_runtime *rt, const char *root);

/* Serves requests on the connected socket until the client or a rule
 * closes the connection; does not close sock. */
void us_http_serve(const struct us_http_server *h, int sock, const struct us_addr *peer);

/* Answers 503 (too many connections) without reading a request; does not
 * close sock. */
void us_http_refuse(int sock);

#endif

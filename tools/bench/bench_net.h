/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench_net.h - the few socket calls the benchmark servers make,
 * behind a table of functions, so that one server (bench_server.c) runs on
 * the kernel's sockets (bench_net_posix.c, in bench-kpeer) and on ustack's
 * (bench_net_ustack.c, in bench-upeer): the kernel reference and the stack
 * are measured with the same code. IPv4 only; no RFC here.
 *
 * Read this first, then bench_server.h.
 */
#ifndef USTACK_BENCH_NET_H
#define USTACK_BENCH_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A datagram peer, as the backend keeps it (a sockaddr_in or a us_addr). */
struct bench_peer {
	union {
		uint64_t align;
		unsigned char raw[128];
	} u;
};

struct bench_net {
	const char *name;
	/* A TCP listener on port (any address); a handle or -1 with errno. */
	int (*tcp_listen)(uint16_t port, int backlog);
	int (*accept)(int l);
	ssize_t (*recv)(int s, void *buf, size_t len);
	ssize_t (*send)(int s, const void *buf, size_t len);
	int (*close)(int s);
	int (*nodelay)(int s);
	/* A UDP socket bound to port. */
	int (*udp_bind)(uint16_t port);
	ssize_t (*recvfrom)(int s, void *buf, size_t len, struct bench_peer *from);
	ssize_t (*sendto)(int s, const void *buf, size_t len, const struct bench_peer *to);
};

extern const struct bench_net bench_net_posix;
extern const struct bench_net bench_net_ustack;

#endif

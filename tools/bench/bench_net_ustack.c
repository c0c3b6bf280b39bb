/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench_net_ustack.c - bench_net on ustack's socket API
 * (include/ustack/ustack.h), on the default runtime. IPv4.
 * Read bench_net.h first.
 */
#include "bench_net.h"

#include <string.h>

#include <ustack/ustack.h>

_Static_assert(sizeof(struct us_addr) <= sizeof(struct bench_peer), "us_addr fits");

static int ustack_tcp_listen(uint16_t port, int backlog)
{
	int s = us_socket(NULL, US_AF_INET, US_SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	struct us_addr any = { .family = US_AF_INET, .port = port };
	us_setsockopt_int(s, US_SOL_SOCKET, US_SO_REUSEADDR, 1);
	if (us_bind(s, &any) < 0 || us_listen(s, backlog) < 0) {
		us_close(s);
		return -1;
	}
	return s;
}

static int ustack_accept(int l)
{
	return us_accept(l, NULL);
}

static int ustack_nodelay(int s)
{
	return us_setsockopt_int(s, US_IPPROTO_TCP, US_TCP_NODELAY, 1);
}

static int ustack_udp_bind(uint16_t port)
{
	int s = us_socket(NULL, US_AF_INET, US_SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	struct us_addr any = { .family = US_AF_INET, .port = port };
	if (us_bind(s, &any) < 0) {
		us_close(s);
		return -1;
	}
	return s;
}

static ssize_t ustack_recvfrom(int s, void *buf, size_t len, struct bench_peer *from)
{
	struct us_addr a;
	ssize_t n = us_recvfrom(s, buf, len, &a);
	memset(from, 0, sizeof *from);
	memcpy(from->u.raw, &a, sizeof a);
	return n;
}

static ssize_t ustack_sendto(int s, const void *buf, size_t len, const struct bench_peer *to)
{
	struct us_addr a;
	memcpy(&a, to->u.raw, sizeof a);
	return us_sendto(s, buf, len, &a);
}

const struct bench_net bench_net_ustack = {
	.name = "ustack",
	.tcp_listen = ustack_tcp_listen,
	.accept = ustack_accept,
	.recv = us_recv,
	.send = us_send,
	.close = us_close,
	.nodelay = ustack_nodelay,
	.udp_bind = ustack_udp_bind,
	.recvfrom = ustack_recvfrom,
	.sendto = ustack_sendto,
};

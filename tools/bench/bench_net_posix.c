/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench_net_posix.c - bench_net on the kernel's sockets (IPv4).
 * Read bench_net.h first.
 */
#include "bench_net.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int posix_tcp_listen(uint16_t port, int backlog)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, backlog) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static int posix_accept(int l)
{
	return accept4(l, NULL, NULL, SOCK_CLOEXEC);
}

static ssize_t posix_recv(int s, void *buf, size_t len)
{
	return recv(s, buf, len, 0);
}

static ssize_t posix_send(int s, const void *buf, size_t len)
{
	return send(s, buf, len, MSG_NOSIGNAL);
}

static int posix_nodelay(int s)
{
	int one = 1;
	return setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int posix_udp_bind(uint16_t port)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static ssize_t posix_recvfrom(int s, void *buf, size_t len, struct bench_peer *from)
{
	socklen_t alen = sizeof(struct sockaddr_in);
	memset(from, 0, sizeof *from);
	return recvfrom(s, buf, len, 0, (struct sockaddr *)from->u.raw, &alen);
}

static ssize_t posix_sendto(int s, const void *buf, size_t len, const struct bench_peer *to)
{
	return sendto(s, buf, len, 0, (const struct sockaddr *)to->u.raw,
		      sizeof(struct sockaddr_in));
}

const struct bench_net bench_net_posix = {
	.name = "kernel",
	.tcp_listen = posix_tcp_listen,
	.accept = posix_accept,
	.recv = posix_recv,
	.send = posix_send,
	.close = close,
	.nodelay = posix_nodelay,
	.udp_bind = posix_udp_bind,
	.recvfrom = posix_recvfrom,
	.sendto = posix_sendto,
};

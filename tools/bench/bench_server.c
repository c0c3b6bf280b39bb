/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench_server.c - the benchmark services (bench_server.h) on
 * any bench_net backend. Thread per bulk or echo connection, a fixed pool of
 * accepting threads for short connections, one thread per UDP service.
 * Every thread ends when its calls fail (the process exits at the end of a
 * run; the callers bound it with --duration).
 *
 * Read bench_server.h first.
 */
#include "bench_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IO_BUF 65536
#define STACK_BYTES (256 * 1024)
#define UDP_SOURCE_MAX_MS 30000
#define UDP_BUF 65536

static const struct bench_net *net;
static uint8_t pattern[IO_BUF];

typedef void (*serve_fn)(int sock, uint8_t *buf);

struct conn {
	int sock;
	serve_fn serve;
};

struct listener {
	int sock;
	serve_fn serve;
};

static void serve_sink(int s, uint8_t *buf)
{
	for (;;) {
		ssize_t n = net->recv(s, buf, IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
	}
}

static void serve_source(int s, uint8_t *buf)
{
	(void)buf;
	for (;;) {
		ssize_t n = net->send(s, pattern, IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
	}
}

/* Writes everything, or false. */
static bool send_all(int s, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = net->send(s, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void serve_echo(int s, uint8_t *buf)
{
	net->nodelay(s);
	for (;;) {
		ssize_t n = net->recv(s, buf, IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || !send_all(s, buf, (size_t)n))
			return;
	}
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	uint8_t *buf = malloc(IO_BUF);
	if (buf)
		c->serve(c->sock, buf);
	free(buf);
	net->close(c->sock);
	free(c);
	return NULL;
}

static void pause_ms(long ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static bool stopping(int err)
{
	return err == ENETDOWN || err == EBADF;
}

static int start_thread(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_BYTES);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

/* Accepts and starts a thread per connection. */
static void *accept_main(void *arg)
{
	struct listener *l = arg;
	for (;;) {
		int s = net->accept(l->sock);
		if (s < 0) {
			if (stopping(errno))
				return NULL;
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				pause_ms(10);
			continue;
		}
		struct conn *c = malloc(sizeof *c);
		if (!c || (*c = (struct conn){ .sock = s, .serve = l->serve },
			   start_thread(conn_main, c) != 0)) {
			free(c);
			net->close(s);
		}
	}
}

/* One of the pool on the short-connection port: 1 byte there and back,
 * then wait for the client's FIN and close. */
static void *short_main(void *arg)
{
	struct listener *l = arg;
	uint8_t b[64];
	for (;;) {
		int s = net->accept(l->sock);
		if (s < 0) {
			if (stopping(errno))
				return NULL;
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				pause_ms(10);
			continue;
		}
		ssize_t n;
		do
			n = net->recv(s, b, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1 && send_all(s, b, 1)) {
			while ((n = net->recv(s, b, sizeof b)) > 0 || (n < 0 && errno == EINTR))
				;
		}
		net->close(s);
	}
}

/* Only the sink's thread touches it. */
static unsigned long long udp_count;

static void *udp_sink_main(void *arg)
{
	int s = *(int *)arg;
	uint8_t *buf = malloc(UDP_BUF);
	if (!buf)
		return NULL;
	for (;;) {
		struct bench_peer from;
		ssize_t n = net->recvfrom(s, buf, UDP_BUF, &from);
		if (n < 0) {
			if (stopping(errno))
				break;
			continue;
		}
		if (n >= 2 && buf[0] == 'B' && buf[1] == 'R') {
			udp_count = 0;
		} else if (n >= 2 && buf[0] == 'B' && buf[1] == 'Q') {
			char msg[64];
			int len = snprintf(msg, sizeof msg, "BC %llu", udp_count);
			net->sendto(s, msg, (size_t)len, &from);
		} else {
			udp_count++;
		}
	}
	free(buf);
	return NULL;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *udp_source_main(void *arg)
{
	int s = *(int *)arg;
	uint8_t *buf = malloc(UDP_BUF);
	if (!buf)
		return NULL;
	for (;;) {
		struct bench_peer from;
		ssize_t n = net->recvfrom(s, buf, UDP_BUF - 1, &from);
		if (n < 0) {
			if (stopping(errno))
				break;
			continue;
		}
		buf[n] = 0;
		unsigned size = 0;
		long ms = 0;
		if (sscanf((char *)buf, "BS %u %ld", &size, &ms) != 2 || size < 2 ||
		    size > 65000 || ms <= 0)
			continue;
		if (ms > UDP_SOURCE_MAX_MS)
			ms = UDP_SOURCE_MAX_MS;
		memset(buf, 'D', size);
		unsigned long long sent = 0, failed = 0;
		long long end = now_ms() + ms;
		/* Bounded in time; the clock is read every 64 datagrams. */
		for (unsigned long i = 0;; i++) {
			if ((i & 63) == 0 && now_ms() >= end)
				break;
			if (net->sendto(s, buf, size, &from) == (ssize_t)size)
				sent++;
			else if (stopping(errno))
				goto out;
			else
				failed++;
		}
		char msg[96];
		int len = snprintf(msg, sizeof msg, "BE %llu %llu", sent, failed);
		for (int k = 0; k < 3; k++)
			net->sendto(s, msg, (size_t)len, &from);
	}
out:
	free(buf);
	return NULL;
}

static int listen_on(uint16_t port, int backlog)
{
	int s = net->tcp_listen(port, backlog);
	if (s < 0)
		fprintf(stderr, "bench-server (%s): listen on %u: %s\n", net->name, port,
			strerror(errno));
	return s;
}

int bench_server_start(const struct bench_net *backend)
{
	static struct listener ls[3];
	static struct listener shortl;
	static int udp_socks[2];
	static const struct {
		uint16_t port;
		serve_fn serve;
	} bulk[3] = {
		{ BENCH_PORT_SINK, serve_sink },
		{ BENCH_PORT_SOURCE, serve_source },
		{ BENCH_PORT_ECHO, serve_echo },
	};

	net = backend;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)('a' + i % 26);
	for (int i = 0; i < 3; i++) {
		ls[i].serve = bulk[i].serve;
		ls[i].sock = listen_on(bulk[i].port, 128);
		if (ls[i].sock < 0 || start_thread(accept_main, &ls[i]) != 0)
			return -1;
	}
	shortl.sock = listen_on(BENCH_PORT_SHORT, 1024);
	if (shortl.sock < 0)
		return -1;
	for (int i = 0; i < BENCH_SHORT_WORKERS; i++)
		if (start_thread(short_main, &shortl) != 0)
			return -1;
	udp_socks[0] = net->udp_bind(BENCH_PORT_UDP_SINK);
	udp_socks[1] = net->udp_bind(BENCH_PORT_UDP_SOURCE);
	if (udp_socks[0] < 0 || udp_socks[1] < 0) {
		fprintf(stderr, "bench-server (%s): udp bind: %s\n", net->name, strerror(errno));
		return -1;
	}
	if (start_thread(udp_sink_main, &udp_socks[0]) != 0 ||
	    start_thread(udp_source_main, &udp_socks[1]) != 0)
		return -1;
	return 0;
}

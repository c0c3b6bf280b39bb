/* SPDX-License-Identifier: MIT */
/*
 * bench-kpeer - the kernel's side of the benchmarks, on plain Linux
 * sockets (IPv4): the clients that load a server, and the same server that
 * bench-upeer runs on ustack (bench_server.h), for the kernel reference.
 *
 *   bench-kpeer serve [SECONDS]                 the services, until a signal
 *   bench-kpeer send HOST PORT SECONDS          bulk: write for SECONDS
 *   bench-kpeer recv HOST PORT SECONDS          bulk: read for SECONDS
 *   bench-kpeer short HOST PORT SECONDS PAR [SRC,SRC...]
 *                     PAR threads: connect, 1 byte there and back, close;
 *                     each connection bound to the next SRC address in turn
 *   bench-kpeer rr HOST PORT SECONDS            1-byte ping-pong, one connection
 *   bench-kpeer udp-send HOST PORT SIZE SECONDS datagrams to a UDP sink
 *   bench-kpeer udp-recv HOST PORT SIZE SECONDS datagrams from a UDP source
 *
 * Each client prints one line "RESULT key=value ..." (what
 * tools/bench/ustack-bench.py reads) and exits 0, or 1 with a message.
 * Every loop ends at its deadline and after a bounded count.
 *
 * Read bench_server.h first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_server.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define IO_BUF 65536
#define MAX_SRC 64
#define MAX_SHORT_CONNS 5000000ull
#define MAX_RR_SAMPLES 4000000u
#define MAX_SECONDS 3600.0

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-kpeer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in parse_addr(const char *host, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "bench-kpeer: not an IPv4 address: %s\n", host);
		exit(2);
	}
	return a;
}

static double parse_seconds(const char *arg)
{
	double s = atof(arg);
	if (!(s > 0 && s <= MAX_SECONDS)) {
		fprintf(stderr, "bench-kpeer: seconds must be in (0, %g]: %s\n", MAX_SECONDS, arg);
		exit(2);
	}
	return s;
}

static int tcp_connect(const struct sockaddr_in *to)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	/* A connect that gets no answer gives up after 5 s. */
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(s, (const struct sockaddr *)to, sizeof *to) < 0)
		die("connect");
	/* Reads and writes wake at least every 200 ms to look at the clock. */
	tv = (struct timeval){ .tv_usec = 200000 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return s;
}

/* ---- bulk ---------------------------------------------------------------- */

static int bulk(const struct sockaddr_in *to, double secs, bool sending)
{
	static uint8_t buf[IO_BUF];
	memset(buf, 'k', sizeof buf);
	int s = tcp_connect(to);
	unsigned long long bytes = 0;
	double t0 = now_s(), end = t0 + secs, t;
	while ((t = now_s()) < end) {
		ssize_t n = sending ? send(s, buf, sizeof buf, MSG_NOSIGNAL)
				    : recv(s, buf, sizeof buf, 0);
		if (n > 0) {
			bytes += (unsigned long long)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		fprintf(stderr, "bench-kpeer: %s: %s\n", sending ? "send" : "recv",
			n == 0 ? "end of stream" : strerror(errno));
		close(s);
		return 1;
	}
	double el = t - t0;
	close(s);
	printf("RESULT bytes=%llu secs=%.3f gbps=%.4f\n", bytes, el, (double)bytes * 8 / el / 1e9);
	return 0;
}

/* ---- short connections --------------------------------------------------- */

struct short_run {
	struct sockaddr_in to;
	struct in_addr src[MAX_SRC];
	int nsrc;
	double end;
	atomic_ullong next, done, errors;
	char first_error[128];
	pthread_mutex_t lock;
};

static void short_error(struct short_run *r, const char *what)
{
	atomic_fetch_add(&r->errors, 1);
	pthread_mutex_lock(&r->lock);
	if (!r->first_error[0])
		snprintf(r->first_error, sizeof r->first_error, "%s: %s", what, strerror(errno));
	pthread_mutex_unlock(&r->lock);
}

/* One connection: connect, 1 byte each way, close. */
static void short_one(struct short_run *r, unsigned long long k)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		short_error(r, "socket");
		return;
	}
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (r->nsrc > 0) {
		int one = 1;
		setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = r->src[k % (unsigned)r->nsrc] };
		if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
			short_error(r, "bind");
			close(s);
			return;
		}
	}
	char b = 'x';
	if (connect(s, (const struct sockaddr *)&r->to, sizeof r->to) < 0)
		short_error(r, "connect");
	else if (send(s, &b, 1, MSG_NOSIGNAL) != 1)
		short_error(r, "send");
	else if (recv(s, &b, 1, 0) != 1)
		short_error(r, "recv");
	else
		atomic_fetch_add(&r->done, 1);
	close(s);
}

static void *short_main(void *arg)
{
	struct short_run *r = arg;
	while (now_s() < r->end) {
		unsigned long long k = atomic_fetch_add(&r->next, 1);
		if (k >= MAX_SHORT_CONNS)
			break;
		short_one(r, k);
	}
	return NULL;
}

static int short_conns(const struct sockaddr_in *to, double secs, int par, const char *srcs)
{
	static struct short_run r;
	r.to = *to;
	pthread_mutex_init(&r.lock, NULL);
	if (srcs) {
		char *copy = strdup(srcs), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t && r.nsrc < MAX_SRC;
		     t = strtok_r(NULL, ",", &save))
			if (inet_pton(AF_INET, t, &r.src[r.nsrc]) == 1)
				r.nsrc++;
		free(copy);
	}
	if (par < 1 || par > 256) {
		fprintf(stderr, "bench-kpeer: parallel clients must be 1..256\n");
		return 2;
	}
	pthread_t th[256];
	double t0 = now_s();
	r.end = t0 + secs;
	for (int i = 0; i < par; i++)
		if (pthread_create(&th[i], NULL, short_main, &r) != 0)
			die("pthread_create");
	for (int i = 0; i < par; i++)
		pthread_join(th[i], NULL);
	double el = now_s() - t0;
	unsigned long long done = atomic_load(&r.done), errors = atomic_load(&r.errors);
	printf("RESULT conns=%llu errors=%llu secs=%.3f cps=%.1f\n", done, errors, el,
	       (double)done / el);
	if (errors)
		fprintf(stderr, "bench-kpeer: %llu failed connections; the first: %s\n", errors,
			r.first_error);
	return done > 0 ? 0 : 1;
}

/* ---- request/response ---------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int rr(const struct sockaddr_in *to, double secs)
{
	int s = tcp_connect(to);
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	uint64_t *lat = malloc(MAX_RR_SAMPLES * sizeof *lat);
	if (!lat)
		die("malloc");
	unsigned n = 0;
	char b = 'r';
	/* A short warm-up: the first exchanges fill caches and ARP. */
	for (int i = 0; i < 100; i++)
		if (send(s, &b, 1, 0) != 1 || recv(s, &b, 1, 0) != 1)
			die("rr warm-up");
	double end = now_s() + secs;
	while (n < MAX_RR_SAMPLES) {
		uint64_t t0 = now_ns();
		if (send(s, &b, 1, 0) != 1 || recv(s, &b, 1, 0) != 1)
			die("rr exchange");
		uint64_t t1 = now_ns();
		lat[n++] = t1 - t0;
		if ((double)t1 / 1e9 >= end)
			break;
	}
	close(s);
	qsort(lat, n, sizeof *lat, cmp_u64);
	printf("RESULT count=%u median_us=%.2f p99_us=%.2f min_us=%.2f\n", n,
	       (double)lat[n / 2] / 1e3, (double)lat[(size_t)n * 99 / 100] / 1e3,
	       (double)lat[0] / 1e3);
	free(lat);
	return 0;
}

/* ---- UDP ------------------------------------------------------------------ */

static int udp_connected(const struct sockaddr_in *to)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	if (connect(s, (const struct sockaddr *)to, sizeof *to) < 0)
		die("connect");
	struct timeval tv = { .tv_usec = 200000 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int big = 4 << 20;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	return s;
}

static int udp_send(const struct sockaddr_in *to, size_t size, double secs)
{
	int s = udp_connected(to);
	uint8_t *buf = calloc(1, size < 64 ? 64 : size);
	if (!buf)
		die("calloc");
	for (int i = 0; i < 3; i++) {
		send(s, "BR", 2, 0);
		usleep(20000);
	}
	memset(buf, 'D', size);
	unsigned long long sent = 0, failed = 0;
	double t0 = now_s(), end = t0 + secs;
	for (unsigned long i = 0;; i++) {
		if ((i & 31) == 0 && now_s() >= end)
			break;
		if (send(s, buf, size, 0) == (ssize_t)size)
			sent++;
		else
			failed++;
	}
	double el = now_s() - t0;
	usleep(300000); /* the receiver drains its queues */
	long long got = -1;
	char ans[128];
	for (int i = 0; i < 10 && got < 0; i++) {
		send(s, "BQ", 2, 0);
		ssize_t n = recv(s, ans, sizeof ans - 1, 0);
		if (n > 3 && ans[0] == 'B' && ans[1] == 'C') {
			ans[n] = 0;
			got = atoll(ans + 3);
		}
	}
	close(s);
	free(buf);
	if (got < 0) {
		fprintf(stderr, "bench-kpeer: the UDP sink did not answer\n");
		return 1;
	}
	printf("RESULT sent=%llu failed=%llu received=%lld secs=%.3f pps=%.1f\n", sent, failed,
	       got, el, (double)got / el);
	return 0;
}

static int udp_recv(const struct sockaddr_in *to, size_t size, double secs)
{
	int s = udp_connected(to);
	uint8_t *buf = malloc(IO_BUF);
	if (!buf)
		die("malloc");
	char cmd[64];
	int len = snprintf(cmd, sizeof cmd, "BS %zu %ld", size, (long)(secs * 1000));
	unsigned long long got = 0, server_sent = 0;
	double first = 0, last = 0;
	bool ended = false;
	for (int attempt = 0; attempt < 3 && got == 0; attempt++) {
		send(s, cmd, (size_t)len, 0);
		double end = now_s() + secs + 1.0;
		while (!ended && now_s() < end) {
			ssize_t n = recv(s, buf, IO_BUF, 0);
			if (n < 0) {
				if (got == 0 && errno == EAGAIN && now_s() > end - secs)
					break; /* no answer at all: ask again */
				continue;
			}
			if (n >= 2 && buf[0] == 'B' && buf[1] == 'E') {
				buf[n < 63 ? n : 63] = 0;
				server_sent = strtoull((char *)buf + 3, NULL, 10);
				ended = true;
			} else if ((size_t)n == size) {
				if (!got)
					first = now_s();
				last = now_s();
				got++;
			}
		}
	}
	close(s);
	free(buf);
	if (!got) {
		fprintf(stderr, "bench-kpeer: no datagram from the UDP source\n");
		return 1;
	}
	(void)first;
	(void)last;
	printf("RESULT received=%llu sent=%llu secs=%.3f pps=%.1f\n", got, server_sent, secs,
	       (double)got / secs);
	return 0;
}

/* ---- serve ---------------------------------------------------------------- */

static int serve(double secs)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (bench_server_start(&bench_net_posix) < 0)
		return 1;
	printf("bench-kpeer ready\n");
	fflush(stdout);
	struct timespec limit = { .tv_sec = (time_t)secs };
	int sig;
	do
		sig = sigtimedwait(&stop, NULL, &limit);
	while (sig < 0 && errno == EINTR);
	_exit(0);
}

static const char usage[] =
	"usage: bench-kpeer serve [SECONDS]\n"
	"       bench-kpeer send|recv|rr HOST PORT SECONDS\n"
	"       bench-kpeer short HOST PORT SECONDS PARALLEL [SRC,...]\n"
	"       bench-kpeer udp-send|udp-recv HOST PORT SIZE SECONDS\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *m = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(m, "serve"))
		return serve(argc > 2 ? parse_seconds(argv[2]) : 600);
	if (argc < 5) {
		fputs(usage, stderr);
		return 2;
	}
	struct sockaddr_in to = parse_addr(argv[2], argv[3]);
	if (!strcmp(m, "send") || !strcmp(m, "recv"))
		return bulk(&to, parse_seconds(argv[4]), m[0] == 's');
	if (!strcmp(m, "rr"))
		return rr(&to, parse_seconds(argv[4]));
	if (!strcmp(m, "short") && argc >= 6)
		return short_conns(&to, parse_seconds(argv[4]), atoi(argv[5]),
				   argc > 6 ? argv[6] : NULL);
	if ((!strcmp(m, "udp-send") || !strcmp(m, "udp-recv")) && argc >= 6) {
		long size = atol(argv[4]);
		if (size < 2 || size > 65000) {
			fprintf(stderr, "bench-kpeer: size must be 2..65000\n");
			return 2;
		}
		double secs = parse_seconds(argv[5]);
		return m[4] == 's' ? udp_send(&to, (size_t)size, secs)
				   : udp_recv(&to, (size_t)size, secs);
	}
	fputs(usage, stderr);
	return 2;
}

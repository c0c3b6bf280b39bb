/* SPDX-License-Identifier: MIT */
/*
 * tools/demo_tcp.c - the TCP services of ustack-demo, on the public socket
 * API (us_socket, us_bind, us_listen, us_accept, us_recv, us_sendall, ...):
 *
 *   echo     port 7   RFC 862: "Once a connection is established any data
 *                     received is sent back. This continues until the
 *                     calling user terminates the connection."
 *   discard  port 9   RFC 863: "Once a connection is established any data
 *                     received is thrown away. No response is sent."
 *   chargen  port 19  RFC 864: "Once a connection is established a stream
 *                     of data is sent out the connection (and any data
 *                     received is thrown away). This continues until the
 *                     calling user terminates the connection." The data is
 *                     the "popular pattern" of RFC 864: 72-character lines
 *                     of the 95 printing ASCII characters, line n starting
 *                     at character n mod 95, each ended by CR LF.
 *   http     port 80  tools/http_server.c.
 *
 * Listeners: one per service and family (the IPv6 one with IPV6_V6ONLY), as
 * the UDP echo does, rather than one dual-stack socket per service: each
 * family can be switched off on its own (--ip4 none), IPv4 peers show as
 * plain IPv4 addresses (not ::ffff:a.b.c.d) in the logs and in /status, and
 * /status lists the IPv4 and IPv6 LISTEN sockets apart.
 *
 * Concurrency: one thread per connection, at most US_DEMO_TCP_MAX_CONNS
 * (512) at once, plus one accepting thread per listener; a connection
 * beyond the bound is refused politely (HTTP gets "503 Service
 * Unavailable", the others an orderly close). Chosen over a us_poll() loop
 * because each service then reads like its RFC, as straight-line blocking
 * code (chargen alone polls, to throw away what it receives while it
 * sends), and one slow client (a stalled HTTP file transfer, a chargen peer
 * that stopped reading) holds only its own thread. The socket API is
 * thread-safe and blocks each caller on a condition variable of its own
 * socket, so 512 threads cost 512 small stacks (STACK_BYTES each, buffers
 * on the heap) and no polling. Stopping the runtime wakes every blocked
 * call with ENETDOWN; the threads then close their sockets and end.
 *
 * Output (an interface other tests rely on): when a connection ends, the
 * discard service prints "discard: PEER N bytes sha256 HEX" and echo
 * prints "echo: PEER N bytes" (N: bytes received), PEER as us_addr_format()
 * writes it.
 *
 * Read tools/demo_tcp.h first.
 */
#include "demo_tcp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_server.h"
#include "sha256.h"

#define ECHO_PORT    7
#define DISCARD_PORT 9
#define CHARGEN_PORT 19

#define BACKLOG	    128
#define IO_BUF	    65536
#define STACK_BYTES (256 * 1024)
/* How long finish waits for connection threads after the stop. */
#define FINISH_WAIT_MS 5000

enum service {
	SVC_ECHO,
	SVC_DISCARD,
	SVC_CHARGEN,
	SVC_HTTP,
};
#define N_SERVICES 4

static const char *const service_names[N_SERVICES] = {"echo", "discard", "chargen", "http"};

struct us_demo_tcp;

struct listener {
	struct us_demo_tcp *d;
	enum service svc;
	int af;
	uint16_t port;
	int sock;
	bool running; /* its accepting thread was started */
	pthread_t thread;
};

struct us_demo_tcp {
	struct us_http_server http;
	struct listener l[2 * N_SERVICES];
	int n_listeners;

	/* Connection threads alive, under lock; done is signalled at each end. */
	pthread_mutex_t lock;
	pthread_cond_t done;
	int live;
	unsigned long long refused;
};

struct conn {
	struct us_demo_tcp *d;
	enum service svc;
	int sock;
	struct us_addr peer;
};

/* ---- Services ------------------------------------------------------------ */

static bool stopping_error(int err)
{
	return err == ENETDOWN || err == EBADF;
}

/* RFC 862: what comes in goes back, until the client ends its side. */
static void serve_echo(struct conn *c, uint8_t *buf)
{
	unsigned long long total = 0;
	/* Echo answers each piece at once: without Nagle, a reply never waits
	 * for the ACK of the previous one (which a client may delay). */
	us_setsockopt_int(c->sock, US_IPPROTO_TCP, US_TCP_NODELAY, 1);
	for (;;) {
		ssize_t n = us_recv(c->sock, buf, IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (unsigned long long)n;
		if (us_sendall(c->sock, buf, (size_t)n, NULL) < 0)
			break;
	}
	char txt[US_ADDR_TEXT_MAX];
	us_addr_format(&c->peer, txt, sizeof txt);
	printf("echo: %s %llu bytes\n", txt, total);
	fflush(stdout);
}

/* RFC 863: everything is thrown away; its count and SHA-256 are printed. */
static void serve_discard(struct conn *c, uint8_t *buf)
{
	struct us_sha256 h;
	unsigned long long total = 0;
	us_sha256_init(&h);
	for (;;) {
		ssize_t n = us_recv(c->sock, buf, IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		us_sha256_update(&h, buf, (size_t)n);
		total += (unsigned long long)n;
	}
	uint8_t digest[US_SHA256_DIGEST];
	char hex[US_SHA256_HEX], txt[US_ADDR_TEXT_MAX];
	us_sha256_final(&h, digest);
	us_sha256_hex(digest, hex);
	us_addr_format(&c->peer, txt, sizeof txt);
	printf("discard: %s %llu bytes sha256 %s\n", txt, total, hex);
	fflush(stdout);
}

/* RFC 864's pattern: one full cycle is 95 lines of 72 characters + CR LF. */
#define CHARGEN_LINE	  72
#define CHARGEN_PRINTABLE 95
#define CHARGEN_CYCLE	  (CHARGEN_PRINTABLE * (CHARGEN_LINE + 2))
/* Cycles in the send buffer: any offset in the first cycle starts a long
 * contiguous run of the pattern. */
#define CHARGEN_CYCLES 9

static void fill_chargen(uint8_t *out)
{
	for (int line = 0; line < CHARGEN_PRINTABLE; line++) {
		uint8_t *p = out + line * (CHARGEN_LINE + 2);
		for (int i = 0; i < CHARGEN_LINE; i++)
			p[i] = (uint8_t)(' ' + (line + i) % CHARGEN_PRINTABLE);
		p[CHARGEN_LINE] = '\r';
		p[CHARGEN_LINE + 1] = '\n';
	}
	for (int k = 1; k < CHARGEN_CYCLES; k++)
		memcpy(out + k * CHARGEN_CYCLE, out, CHARGEN_CYCLE);
}

static uint8_t chargen_pattern[CHARGEN_CYCLES * CHARGEN_CYCLE];
static pthread_once_t chargen_once = PTHREAD_ONCE_INIT;

static void chargen_init(void)
{
	fill_chargen(chargen_pattern);
}

/* RFC 864: sends until the client resets or the runtime stops, throwing
 * away what it receives. A client that only half-closes (a FIN) may still
 * be reading, as `nc host 19 </dev/null | head` is: sending goes on. */
static void serve_chargen(struct conn *c, uint8_t *junk)
{
	pthread_once(&chargen_once, chargen_init);

	if (us_settimeout(c->sock, 0) < 0)
		return;
	size_t off = 0;
	unsigned long long total = 0;
	bool peer_done = false;
	for (;;) {
		struct us_pollfd p = {.sock = c->sock,
				      .events = (short)(US_POLLOUT | (peer_done ? 0 : US_POLLIN))};
		int r = us_poll(&p, 1, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p.revents & (US_POLLERR | US_POLLNVAL))
			break;
		if (p.revents & US_POLLIN) {
			ssize_t n;
			while ((n = us_recv(c->sock, junk, IO_BUF)) > 0)
				;
			if (n == 0)
				peer_done = true;
			else if (errno != EAGAIN && errno != EINTR)
				break;
		}
		if (p.revents & US_POLLOUT) {
			size_t len = (CHARGEN_CYCLES - 1) * CHARGEN_CYCLE;
			ssize_t n = us_send(c->sock, chargen_pattern + off, len);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				break;
			if (n > 0) {
				off = (off + (size_t)n) % CHARGEN_CYCLE;
				total += (unsigned long long)n;
			}
		}
		if ((p.revents & US_POLLHUP) && !(p.revents & US_POLLOUT))
			break;
	}
	char txt[US_ADDR_TEXT_MAX];
	us_addr_format(&c->peer, txt, sizeof txt);
	printf("chargen: %s %llu bytes\n", txt, total);
	fflush(stdout);
}

/* ---- Connections ------------------------------------------------------- */

static void conn_end(struct us_demo_tcp *d)
{
	pthread_mutex_lock(&d->lock);
	d->live--;
	pthread_cond_broadcast(&d->done);
	pthread_mutex_unlock(&d->lock);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct us_demo_tcp *d = c->d;
	uint8_t *buf = malloc(IO_BUF);
	if (buf) {
		switch (c->svc) {
		case SVC_ECHO:
			serve_echo(c, buf);
			break;
		case SVC_DISCARD:
			serve_discard(c, buf);
			break;
		case SVC_CHARGEN:
			serve_chargen(c, buf);
			break;
		case SVC_HTTP:
			us_http_serve(&d->http, c->sock, &c->peer);
			break;
		}
		free(buf);
	}
	us_close(c->sock);
	free(c);
	conn_end(d);
	return NULL;
}

/* Beyond the bound: an answer that says so, then an orderly close. */
static void refuse(struct us_demo_tcp *d, enum service svc, int sock)
{
	if (svc == SVC_HTTP)
		us_http_refuse(sock);
	us_close(sock);
	pthread_mutex_lock(&d->lock);
	if (d->refused++ % 100 == 0)
		fprintf(stderr,
			"ustack-demo: %d connections at once: refusing more (%llu so far)\n",
			US_DEMO_TCP_MAX_CONNS, d->refused);
	pthread_mutex_unlock(&d->lock);
}

static void sleep_ms(int ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* Starts the thread for one accepted connection, or refuses it. */
static void dispatch(struct listener *l, int sock, const struct us_addr *peer)
{
	struct us_demo_tcp *d = l->d;
	pthread_mutex_lock(&d->lock);
	bool room = d->live < US_DEMO_TCP_MAX_CONNS;
	if (room)
		d->live++;
	pthread_mutex_unlock(&d->lock);
	if (!room) {
		refuse(d, l->svc, sock);
		return;
	}
	struct conn *c = malloc(sizeof *c);
	pthread_attr_t attr;
	pthread_t t;
	int rc = ENOMEM;
	if (c) {
		*c = (struct conn){.d = d, .svc = l->svc, .sock = sock, .peer = *peer};
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, STACK_BYTES);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &attr, conn_main, c);
		pthread_attr_destroy(&attr);
	}
	if (rc) {
		fprintf(stderr, "ustack-demo: %s: no thread for a connection: %s\n",
			service_names[l->svc], strerror(rc));
		free(c);
		us_close(sock);
		conn_end(d);
	}
}

/* Accepts until the runtime stops (ENETDOWN) or the listener is closed. */
static void *accept_main(void *arg)
{
	struct listener *l = arg;
	for (;;) {
		struct us_addr peer;
		int s = us_accept(l->sock, &peer);
		if (s >= 0) {
			dispatch(l, s, &peer);
			continue;
		}
		if (stopping_error(errno))
			break;
		if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED ||
		    errno == ETIMEDOUT)
			continue;
		/* Out of handles or memory: say so, and give the connections
		 * in progress time to end. */
		fprintf(stderr, "ustack-demo: %s: accept: %s\n", service_names[l->svc],
			strerror(errno));
		sleep_ms(100);
	}
	return NULL;
}

static bool listener_open(struct us_runtime *rt, struct listener *l)
{
	struct us_addr any = {.family = l->af, .port = l->port};
	l->sock = us_socket(rt, l->af, US_SOCK_STREAM, 0);
	if (l->sock < 0) {
		fprintf(stderr, "ustack-demo: %s: socket: %s\n", service_names[l->svc],
			strerror(errno));
		return false;
	}
	if (l->af == US_AF_INET6 &&
	    us_setsockopt_int(l->sock, US_IPPROTO_IPV6, US_IPV6_V6ONLY, 1) < 0) {
		fprintf(stderr, "ustack-demo: %s: IPV6_V6ONLY: %s\n", service_names[l->svc],
			strerror(errno));
		goto fail;
	}
	/* A restarted demo finds its ports free while old connections sit
	 * in TIME_WAIT. */
	us_setsockopt_int(l->sock, US_SOL_SOCKET, US_SO_REUSEADDR, 1);
	if (us_bind(l->sock, &any) < 0 || us_listen(l->sock, BACKLOG) < 0) {
		fprintf(stderr, "ustack-demo: %s: listen on port %u (IPv%d): %s\n",
			service_names[l->svc], (unsigned)l->port, l->af == US_AF_INET ? 4 : 6,
			strerror(errno));
		goto fail;
	}
	int rc = pthread_create(&l->thread, NULL, accept_main, l);
	if (rc) {
		fprintf(stderr, "ustack-demo: %s: thread: %s\n", service_names[l->svc],
			strerror(rc));
		goto fail;
	}
	l->running = true;
	return true;
fail:
	us_close(l->sock);
	l->sock = -1;
	return false;
}

struct us_demo_tcp *us_demo_tcp_start(const struct us_demo_tcp_config *cfg)
{
	struct us_demo_tcp *d = calloc(1, sizeof *d);
	if (!d) {
		fprintf(stderr, "ustack-demo: tcp: out of memory\n");
		return NULL;
	}
	if (!us_http_server_init(&d->http, cfg->rt, cfg->http_root)) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->done, NULL);

	static const uint16_t fixed_ports[N_SERVICES] = {ECHO_PORT, DISCARD_PORT, CHARGEN_PORT, 0};
	const int families[2] = {US_AF_INET, US_AF_INET6};
	const bool wanted[2] = {cfg->ipv4, cfg->ipv6};
	char summary[256] = "";
	size_t used = 0;
	for (int svc = 0; svc < N_SERVICES; svc++) {
		uint16_t port = svc == SVC_HTTP ? cfg->http_port : fixed_ports[svc];
		if ((svc == SVC_ECHO && cfg->no_echo) || (svc == SVC_DISCARD && cfg->no_discard) ||
		    (svc == SVC_CHARGEN && cfg->no_chargen))
			port = 0;
		if (!port)
			continue;
		bool ok[2] = {false, false};
		for (int f = 0; f < 2; f++) {
			if (!wanted[f])
				continue;
			struct listener *l = &d->l[d->n_listeners];
			*l = (struct listener){.d = d,
					       .svc = (enum service)svc,
					       .af = families[f],
					       .port = port,
					       .sock = -1};
			if (listener_open(cfg->rt, l)) {
				ok[f] = true;
				d->n_listeners++;
			}
		}
		if (ok[0] || ok[1]) {
			int n = snprintf(summary + used, sizeof summary - used, "%s%s %u%s",
					 used ? ", " : "", service_names[svc], (unsigned)port,
					 ok[0] && ok[1] ? ""
					 : ok[0]	? " (IPv4)"
							: " (IPv6)");
			if (n > 0 && (size_t)n < sizeof summary - used)
				used += (size_t)n;
		}
	}
	if (d->n_listeners == 0) {
		fprintf(stderr, "ustack-demo: tcp: no service could listen\n");
		pthread_cond_destroy(&d->done);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	printf("tcp services: %s (up to %d connections at once)%s%s\n", summary,
	       US_DEMO_TCP_MAX_CONNS, d->http.has_root ? "; http files from " : "",
	       d->http.has_root ? d->http.root : "");
	fflush(stdout);
	return d;
}

void us_demo_tcp_finish(struct us_demo_tcp *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->n_listeners; i++)
		if (d->l[i].running)
			pthread_join(d->l[i].thread, NULL);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FINISH_WAIT_MS / 1000;
	pthread_mutex_lock(&d->lock);
	while (d->live > 0)
		if (pthread_cond_timedwait(&d->done, &d->lock, &until) == ETIMEDOUT)
			break;
	int left = d->live;
	pthread_mutex_unlock(&d->lock);
	for (int i = 0; i < d->n_listeners; i++)
		us_close(d->l[i].sock);
	if (left) {
		/* Threads still hold d: leave it to the process's exit. */
		fprintf(stderr, "ustack-demo: tcp: %d connections did not end in time\n", left);
		return;
	}
	pthread_cond_destroy(&d->done);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* SPDX-License-Identifier: MIT */
/*
 * tools/demo_live.c - ustack-demo's views of itself: the capture with
 * rotation (a driver wrapping the TAP driver), the transition log (every
 * TCP state change, from the core's trace hook), and the live view (the TCP
 * table like `ss -tan`, the counters like `netstat -s`) served on a UNIX
 * socket to ustack-stat and on the HTTP page /stat.
 *
 * Why a UNIX socket for ustack-stat, rather than fetching /stat over the
 * stack: looking must not change what is looked at. A request over the
 * stack would add its own connection to the table, its frames to the pcap
 * and its seven state changes to the transition log, and would fail just
 * when the stack is in trouble (a full connection table, a wedged link),
 * which is when a live view is wanted most. The UNIX socket needs no
 * address, works from the host and from inside the namespace alike (a
 * path-named socket lives in the file system, not in a network
 * namespace), and is reachable by root only (mode 0600).
 *
 * No RFC here. Read tools/demo_live.h first.
 */
#include "demo_live.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ustack/capture.h>

/* ---- The clock ------------------------------------------------------------------ */

static us_time_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (us_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Read once: the runtime's clock is CLOCK_MONOTONIC in microseconds, so
 * origin + now is wall-clock time for the whole run. */
static us_time_t clock_origin;
static pthread_once_t clock_origin_once = PTHREAD_ONCE_INIT;

static void read_clock_origin(void)
{
	clock_origin = clock_us(CLOCK_REALTIME) - clock_us(CLOCK_MONOTONIC);
}

us_time_t us_demo_clock_origin(void)
{
	pthread_once(&clock_origin_once, read_clock_origin);
	return clock_origin;
}

/* ---- Capture with rotation -------------------------------------------------------- */

struct capture {
	struct us_driver inner;
	struct us_pcap_writer *w;
	pthread_mutex_t lock; /* recv (stack thread) and transmit (the thread writing
			       * the runtime's transmit queue) may overlap */
	bool failed;          /* a write failed: reported once */
};

/* Appends one frame, stamped on the runtime's clock; a checksum the link
 * completes (offloads) is completed in the record. */
static void capture_frame(struct capture *c, const uint8_t *data, size_t len, bool partial,
			  uint16_t csum_start, uint16_t csum_offset)
{
	pthread_mutex_lock(&c->lock);
	us_time_t now = clock_us(CLOCK_MONOTONIC);
	int rc = partial ? us_pcap_writer_write_partial(c->w, now, data, len, csum_start, csum_offset)
			 : us_pcap_writer_write(c->w, now, data, len);
	if (rc < 0 && !c->failed) {
		c->failed = true;
		fprintf(stderr, "ustack-demo: capture: %s (frames from now on are not saved)\n",
			strerror(-rc));
	}
	pthread_mutex_unlock(&c->lock);
}

static int capture_fd(void *ctx)
{
	struct capture *c = ctx;
	return c->inner.ops->fd(c->inner.ctx);
}

static int capture_recv(void *ctx, uint8_t *buf, size_t cap, struct us_rx_meta *meta)
{
	struct capture *c = ctx;
	int n = c->inner.ops->recv(c->inner.ctx, buf, cap, meta);
	if (n > 0) {
		bool partial = meta && meta->csum_partial;
		capture_frame(c, buf, (size_t)n, partial, partial ? meta->csum_start : 0,
			      partial ? meta->csum_offset : 0);
	} else if (n == 0) {
		/* The device is drained: the runtime is about to sleep. Let a
		 * reader of the live capture (tshark -r) see everything. */
		pthread_mutex_lock(&c->lock);
		us_pcap_writer_flush(c->w);
		pthread_mutex_unlock(&c->lock);
	}
	return n;
}

static int capture_transmit(void *ctx, const struct us_frame *f)
{
	struct capture *c = ctx;
	capture_frame(c, f->data, f->len, f->csum_partial, f->csum_start, f->csum_offset);
	return c->inner.ops->transmit(c->inner.ctx, f);
}

static void capture_close(void *ctx)
{
	struct capture *c = ctx;
	us_pcap_writer_close(c->w);
	if (c->inner.ops->close)
		c->inner.ops->close(c->inner.ctx);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct us_driver_ops capture_ops = {
	.fd = capture_fd,
	.recv = capture_recv,
	.transmit = capture_transmit,
	.close = capture_close,
};

int us_demo_capture_wrap(struct us_driver *inner, const char *path, uint64_t max_bytes,
			 unsigned max_files)
{
	struct capture *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	int rc;
	c->w = us_pcap_writer_open(path, &rc);
	if (!c->w) {
		free(c);
		return rc;
	}
	us_pcap_writer_set_origin(c->w, us_demo_clock_origin());
	if (max_bytes && (rc = us_pcap_writer_set_limit(c->w, max_bytes, max_files)) < 0) {
		us_pcap_writer_close(c->w);
		free(c);
		return rc;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->inner = *inner;
	inner->ops = &capture_ops;
	inner->ctx = c;
	return 0;
}

/* ---- Text ---------------------------------------------------------------------------- */

struct text {
	char *p;
	size_t len, cap;
	bool failed;
};

static void text_printf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
	if (t->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if (t->p && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
		char *p = realloc(t->p, cap);
		if (!p) {
			t->failed = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
}

/* "198.51.100.2:80", "[2001:db8:1::2]:80", and for port 0 (a listener's
 * peer, an unbound side) "0.0.0.0:*" as ss writes it. */
static void format_endpoint(const struct us_addr *a, char *out, size_t cap)
{
	if (a->port) {
		us_addr_format(a, out, cap);
		return;
	}
	char addr[US_ADDR_TEXT_MAX];
	us_addr_format(a, addr, sizeof addr);
	snprintf(out, cap, a->family == US_AF_INET6 ? "[%s]:*" : "%s:*", addr);
}

/* "2026-11-24 10:00:01.123456" for runtime time t (local time, as tshark
 * -t ad shows a frame's). */
static void format_time(us_time_t t, char *out, size_t cap)
{
	us_time_t wall = us_demo_clock_origin() + t;
	time_t sec = (time_t)(wall / 1000000);
	struct tm tm;
	localtime_r(&sec, &tm);
	char day[32];
	strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, cap, "%s.%06lld", day, (long long)(wall % 1000000));
}

/* ---- The transition log ------------------------------------------------------------ */

#define MAX_FOLLOWERS 8

struct us_demo_translog {
	FILE *f;
	bool live;
	struct us_stack *s;        /* set and read with the core lock held */
	struct us_tcp_info *tab;   /* scratch for the lookup, core lock held */
	size_t tab_cap;
	pthread_mutex_t lock;      /* followers */
	int followers[MAX_FOLLOWERS];
	int n_followers;
};

struct us_demo_translog *us_demo_translog_open(const char *path, bool live)
{
	struct us_demo_translog *tl = calloc(1, sizeof *tl);
	if (!tl)
		return NULL;
	if (path) {
		tl->f = fopen(path, "we");
		if (!tl->f) {
			int e = errno;
			free(tl);
			errno = e;
			return NULL;
		}
		fprintf(tl->f, "# ustack-demo transition log: TIME LOCAL REMOTE OLD -> NEW (CAUSE);\n"
			       "# TIME is the pcap's clock (tshark -t ad), one line per TCP state "
			       "change\n");
		fflush(tl->f);
	}
	tl->live = live;
	pthread_mutex_init(&tl->lock, NULL);
	return tl;
}

static void attach_stack(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	struct us_demo_translog *tl = arg;
	tl->s = s;
}

void us_demo_translog_attach(struct us_demo_translog *tl, struct us_runtime *rt)
{
	if (tl)
		us_runtime_with_core(rt, attach_stack, tl);
}

static int state_number(const char *name)
{
	for (int i = 0; i < US_TCP_NSTATES; i++)
		if (!strcmp(us_tcp_state_name(i), name))
			return i;
	return -1;
}

/*
 * The endpoint that just changed: the core's message names the ports only,
 * so look in the table (with the core lock held, as the hook runs) for the
 * one with these ports that is now in the new state. The table lists the
 * newest endpoint first, so of two listeners on one port (IPv4 and IPv6)
 * the one that just began to listen is found.
 */
static bool find_endpoint(struct us_demo_translog *tl, unsigned lport, unsigned rport, int state,
			  struct us_tcp_info *out)
{
	if (!tl->s || state < 0)
		return false;
	size_t n = us_stack_tcp_table(tl->s, tl->tab, tl->tab_cap);
	if (n > tl->tab_cap) {
		size_t cap = n + 64;
		struct us_tcp_info *v = realloc(tl->tab, cap * sizeof *v);
		if (!v)
			return false;
		tl->tab = v;
		tl->tab_cap = cap;
		n = us_stack_tcp_table(tl->s, tl->tab, tl->tab_cap);
		if (n > tl->tab_cap)
			n = tl->tab_cap;
	}
	for (size_t i = 0; i < n; i++) {
		const struct us_tcp_info *e = &tl->tab[i];
		if (e->local.port == lport && e->remote.port == rport && e->state == state) {
			*out = *e;
			return true;
		}
	}
	return false;
}

static void send_to_followers(struct us_demo_translog *tl, const char *line, size_t len)
{
	pthread_mutex_lock(&tl->lock);
	for (int i = 0; i < tl->n_followers;) {
		ssize_t n = send(tl->followers[i], line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == (ssize_t)len) {
			i++;
			continue;
		}
		/* Gone, or not reading: dropped rather than holding the core. */
		close(tl->followers[i]);
		tl->followers[i] = tl->followers[--tl->n_followers];
	}
	pthread_mutex_unlock(&tl->lock);
}

void us_demo_translog_event(struct us_demo_translog *tl, const struct us_trace_event *ev)
{
	if (!tl || ev->kind != US_TRACE_STATE)
		return;
	/* "tcp 80->40000 SYN_RCVD -> ESTABLISHED (ACK of our SYN)" */
	unsigned lport, rport;
	char old[32], new[32];
	int cause_at = 0;
	char line[512], when[64];
	format_time(ev->now, when, sizeof when);
	if (sscanf(ev->msg, "tcp %u->%u %31s -> %31s (%n", &lport, &rport, old, new, &cause_at) < 4 ||
	    !cause_at) {
		/* Not the form we know: logged as the core wrote it. */
		snprintf(line, sizeof line, "%s %s\n", when, ev->msg);
	} else {
		const char *cause = ev->msg + cause_at;
		size_t cause_len = strlen(cause);
		if (cause_len && cause[cause_len - 1] == ')')
			cause_len--;
		char l[US_ADDR_TEXT_MAX + 8] = "*", r[US_ADDR_TEXT_MAX + 8] = "*";
		struct us_tcp_info e;
		bool found = find_endpoint(tl, lport, rport, state_number(new), &e);
		if (found) {
			format_endpoint(&e.local, l, sizeof l);
			format_endpoint(&e.remote, r, sizeof r);
		} else {
			snprintf(l, sizeof l, "*:%u", lport);
			snprintf(r, sizeof r, rport ? "*:%u" : "*:*", rport);
		}
		/* A connection a listener made for a SYN starts CLOSED in the
		 * core, where RFC 9293's diagram has the listener itself go
		 * LISTEN -> SYN_RCVD: say whose it is. */
		char child[64] = "";
		if (found && e.listener_child && !strcmp(old, "CLOSED"))
			snprintf(child, sizeof child, "; a new connection of the LISTEN socket :%u",
				 lport);
		snprintf(line, sizeof line, "%s tcp %s %s %s -> %s (%.*s%s)\n", when, l, r, old, new,
			 (int)cause_len, cause, child);
	}
	size_t len = strlen(line);
	if (tl->f) {
		fputs(line, tl->f);
		fflush(tl->f);
	}
	if (tl->live) {
		fputs(line, stdout);
		fflush(stdout);
	}
	send_to_followers(tl, line, len);
}

void us_demo_translog_follow(struct us_demo_translog *tl, int fd)
{
	pthread_mutex_lock(&tl->lock);
	if (tl->n_followers < MAX_FOLLOWERS) {
		tl->followers[tl->n_followers++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&tl->lock);
	if (fd >= 0) {
		static const char busy[] = "ustack-demo: too many followers\n";
		if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL) < 0) {
			/* Nothing more to tell it. */
		}
		close(fd);
	}
}

void us_demo_translog_close(struct us_demo_translog *tl)
{
	if (!tl)
		return;
	for (int i = 0; i < tl->n_followers; i++)
		close(tl->followers[i]);
	if (tl->f)
		fclose(tl->f);
	pthread_mutex_destroy(&tl->lock);
	free(tl->tab);
	free(tl);
}

/* ---- The live view ------------------------------------------------------------------ */

struct snapshot {
	struct us_tcp_info *v;
	size_t cap, n;
	struct us_counter *c;
	size_t ccap, cn;
	us_time_t now;
};

static void read_snapshot(struct us_stack *s, us_time_t now, void *arg)
{
	struct snapshot *sn = arg;
	sn->now = now;
	sn->n = us_stack_tcp_table(s, sn->v, sn->cap);
	sn->cn = us_stack_counters(s, sn->c, sn->ccap);
}

int us_demo_cmp_tcp_info(const void *a, const void *b)
{
	const struct us_tcp_info *x = a, *y = b;
	if (x->state != y->state)
		return x->state - y->state;
	if (x->local.port != y->local.port)
		return (int)x->local.port - (int)y->local.port;
	if (x->family != y->family)
		return x->family - y->family;
	return (int)x->remote.port - (int)y->remote.port;
}

/* Reads the table and the counters at one instant; false when out of memory. */
static bool take_snapshot(struct us_runtime *rt, struct snapshot *sn)
{
	memset(sn, 0, sizeof *sn);
	sn->cap = 64;
	sn->ccap = 256;
	for (int i = 0; i < 4; i++) {
		struct us_tcp_info *v = realloc(sn->v, sn->cap * sizeof *v);
		struct us_counter *c = v ? realloc(sn->c, sn->ccap * sizeof *c) : NULL;
		if (v)
			sn->v = v;
		if (c)
			sn->c = c;
		if (!v || !c)
			return false;
		us_runtime_with_core(rt, read_snapshot, sn);
		if (sn->n <= sn->cap && sn->cn <= sn->ccap)
			break;
		/* More than fit (connections came): larger, and again. */
		sn->cap = sn->n + sn->n / 2 + 16;
		sn->ccap = sn->cn + 16;
	}
	if (sn->n > sn->cap)
		sn->n = sn->cap;
	if (sn->cn > sn->ccap)
		sn->cn = sn->ccap;
	qsort(sn->v, sn->n, sizeof *sn->v, us_demo_cmp_tcp_info);
	return true;
}

static void sockets_text(const struct snapshot *sn, struct text *t)
{
	text_printf(t, "%-12s %2s %7s %7s %-26s %-26s %5s %7s %8s %8s %15s %6s %7s %s\n", "State",
		    "#", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "mss", "cwnd",
		    "ssthresh", "inflight", "rtt/rttvar(ms)", "rto", "retrans", "note");
	for (size_t i = 0; i < sn->n; i++) {
		const struct us_tcp_info *e = &sn->v[i];
		char l[US_ADDR_TEXT_MAX + 8], r[US_ADDR_TEXT_MAX + 8], rtt[48], rto[24], ssth[16];
		format_endpoint(&e->local, l, sizeof l);
		format_endpoint(&e->remote, r, sizeof r);
		bool conn = e->state != US_TCP_LISTEN && e->state != US_TCP_CLOSED;
		if (conn && e->srtt_us > 0)
			snprintf(rtt, sizeof rtt, "%.3f/%.3f", (double)e->srtt_us / 1000.0,
				 (double)e->rttvar_us / 1000.0);
		else
			snprintf(rtt, sizeof rtt, "-");
		if (conn)
			snprintf(rto, sizeof rto, "%lld", (long long)(e->rto_us / 1000));
		else
			snprintf(rto, sizeof rto, "-");
		/* An ssthresh still at its initial "arbitrarily high" value. */
		if (e->ssthresh >= 0x3fffffff)
			snprintf(ssth, sizeof ssth, "inf");
		else
			snprintf(ssth, sizeof ssth, "%u", e->ssthresh);
		char mss[16] = "-", cwnd[16] = "-", flight[16] = "-";
		if (conn) {
			snprintf(mss, sizeof mss, "%u", e->mss);
			snprintf(cwnd, sizeof cwnd, "%u", e->cwnd);
			snprintf(flight, sizeof flight, "%u", e->bytes_in_flight);
		} else {
			snprintf(ssth, sizeof ssth, "-");
		}
		/* The options the handshake agreed on, as `ss -ti` lists them. */
		char opts[96] = "";
		if (conn && e->wscale_ok)
			snprintf(opts, sizeof opts, "wscale:%u,%u ", e->snd_wscale, e->rcv_wscale);
		/* The algorithm, and SACK blocks seen (D-SACK among them). */
		if (conn) {
			size_t o = strlen(opts);
			snprintf(opts + o, sizeof opts - o, "%s ",
				 e->cc == US_TCP_CC_CUBIC ? "cubic" : "newreno");
			o = strlen(opts);
			if (e->sack_blocks_rcvd)
				snprintf(opts + o, sizeof opts - o, "sacks:%llu/%llu ",
					 (unsigned long long)e->sack_blocks_rcvd,
					 (unsigned long long)e->dsacks_rcvd);
		}
		text_printf(t, "%-12s %2d %7u %7u %-26s %-26s %5s %7s %8s %8s %15s %6s %7u %s%s%s%s%s%s%s%s\n",
			    us_tcp_state_name(e->state), e->state, e->rcv_queued, e->snd_queued, l, r,
			    mss, cwnd, ssth, flight, rtt, rto, e->retransmits, conn && e->ts_ok ? "ts " : "",
			    conn && e->sack_ok ? "sack " : "", conn && e->ecn_ok ? "ecn " : "", opts,
			    e->in_recovery ? "recovery " : "", e->orphan ? "orphan " : "",
			    e->listener_child ? "not-accepted " : "", e->backoff ? "backoff" : "");
	}
	int per_state[US_TCP_NSTATES] = {0};
	for (size_t i = 0; i < sn->n; i++)
		if (sn->v[i].state >= 0 && sn->v[i].state < US_TCP_NSTATES)
			per_state[sn->v[i].state]++;
	text_printf(t, "total %zu:", sn->n);
	for (int s = 0; s < US_TCP_NSTATES; s++)
		if (per_state[s])
			text_printf(t, " %s %d", us_tcp_state_name(s), per_state[s]);
	text_printf(t, "\n");
}

static void counters_text(const struct snapshot *sn, bool zero, struct text *t)
{
	char group[32] = "";
	for (size_t i = 0; i < sn->cn; i++) {
		const struct us_counter *c = &sn->c[i];
		if (!c->value && !zero)
			continue;
		const char *dot = strchr(c->name, '.');
		size_t gl = dot ? (size_t)(dot - c->name) : 0;
		if (gl >= sizeof group)
			gl = sizeof group - 1;
		if (strlen(group) != gl || strncmp(group, c->name, gl)) {
			memcpy(group, c->name, gl);
			group[gl] = '\0';
			text_printf(t, "%s:\n", gl ? group : "other");
		}
		text_printf(t, "    %-40s %llu\n", dot ? dot + 1 : c->name,
			    (unsigned long long)c->value);
	}
}

char *us_demo_stat_text(struct us_runtime *rt, unsigned what, size_t *len)
{
	struct snapshot sn;
	struct text t = {0};
	if (!take_snapshot(rt, &sn)) {
		free(sn.v);
		free(sn.c);
		return NULL;
	}
	if (what & US_DEMO_STAT_SOCKETS)
		sockets_text(&sn, &t);
	if ((what & US_DEMO_STAT_SOCKETS) && (what & US_DEMO_STAT_COUNTERS))
		text_printf(&t, "\n");
	if (what & US_DEMO_STAT_COUNTERS)
		counters_text(&sn, what & US_DEMO_STAT_ZERO, &t);
	if (!t.p)
		text_printf(&t, "%s", "");
	free(sn.v);
	free(sn.c);
	if (t.failed) {
		free(t.p);
		return NULL;
	}
	*len = t.len;
	return t.p;
}

/* ---- The UNIX socket server ----------------------------------------------------------- */

struct us_demo_statsrv {
	struct us_runtime *rt;
	struct us_demo_translog *tl;
	int fd;
	int stop_pipe[2];
	pthread_t thread;
	char path[sizeof ((struct sockaddr_un *)0)->sun_path];
};

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Reads the client's one-line request (bounded in time by SO_RCVTIMEO). */
static bool read_request(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	while (have + 1 < cap) {
		ssize_t n = recv(fd, buf + have, cap - 1 - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		if (memchr(buf, '\n', have))
			break;
	}
	buf[have] = '\0';
	char *nl = strpbrk(buf, "\r\n");
	if (nl)
		*nl = '\0';
	return have > 0;
}

static void serve_client(struct us_demo_statsrv *srv, int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	char req[64];
	if (!read_request(fd, req, sizeof req)) {
		close(fd);
		return;
	}
	unsigned what = 0, zero = 0;
	size_t rl = strlen(req);
	if (rl > 5 && !strcmp(req + rl - 5, " zero")) {
		zero = US_DEMO_STAT_ZERO;
		req[rl - 5] = '\0';
	}
	if (!strcmp(req, "sockets"))
		what = US_DEMO_STAT_SOCKETS;
	else if (!strcmp(req, "counters"))
		what = US_DEMO_STAT_COUNTERS | zero;
	else if (!strcmp(req, "all"))
		what = US_DEMO_STAT_SOCKETS | US_DEMO_STAT_COUNTERS | zero;
	if (!strcmp(req, "follow") && srv->tl) {
		static const char hello[] = "# following the transition log: TIME LOCAL REMOTE "
					    "OLD -> NEW (CAUSE)\n";
		send_all(fd, hello, sizeof hello - 1);
		us_demo_translog_follow(srv->tl, fd);
		return;
	}
	if (!what) {
		char msg[128];
		int n = snprintf(msg, sizeof msg, "error: unknown request '%.40s'\n", req);
		send_all(fd, msg, (size_t)n);
		close(fd);
		return;
	}
	size_t len;
	char *text = us_demo_stat_text(srv->rt, what, &len);
	if (text)
		send_all(fd, text, len);
	else
		send_all(fd, "error: out of memory\n", 21);
	free(text);
	close(fd);
}

static void *statsrv_main(void *arg)
{
	struct us_demo_statsrv *srv = arg;
	struct pollfd pfd[2] = {
		{ .fd = srv->fd, .events = POLLIN },
		{ .fd = srv->stop_pipe[0], .events = POLLIN },
	};
	for (;;) {
		int n = poll(pfd, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN) {
			int c = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				serve_client(srv, c);
		}
	}
	return NULL;
}

/* 0 when path is free (or held by a stale socket, now removed). */
static int claim_path(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST; /* not ours to remove */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	if (rc == 0)
		return -EADDRINUSE; /* another demo serves there */
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

struct us_demo_statsrv *us_demo_statsrv_start(struct us_runtime *rt, struct us_demo_translog *tl,
					      const char *path, int *err)
{
	struct us_demo_statsrv *srv = calloc(1, sizeof *srv);
	if (!srv) {
		*err = -ENOMEM;
		return NULL;
	}
	srv->rt = rt;
	srv->tl = tl;
	srv->fd = -1;
	srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	if (strlen(path) >= sizeof srv->path) {
		*err = -ENAMETOOLONG;
		goto fail;
	}
	strcpy(srv->path, path);
	if ((*err = claim_path(path)) < 0)
		goto fail;
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->fd < 0 || pipe2(srv->stop_pipe, O_CLOEXEC) < 0) {
		*err = -errno;
		goto fail;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	mode_t old = umask(077);
	int rc = bind(srv->fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0 || listen(srv->fd, 8) < 0) {
		*err = -errno;
		goto fail;
	}
	if ((rc = pthread_create(&srv->thread, NULL, statsrv_main, srv))) {
		*err = -rc;
		unlink(path);
		goto fail;
	}
	return srv;
fail:
	if (srv->fd >= 0)
		close(srv->fd);
	if (srv->stop_pipe[0] >= 0) {
		close(srv->stop_pipe[0]);
		close(srv->stop_pipe[1]);
	}
	free(srv);
	return NULL;
}

void us_demo_statsrv_stop(struct us_demo_statsrv *srv)
{
	if (!srv)
		return;
	if (write(srv->stop_pipe[1], "x", 1) < 0) {
		/* A pipe with room never fails; the join below would hang. */
	}
	pthread_join(srv->thread, NULL);
	close(srv->fd);
	close(srv->stop_pipe[0]);
	close(srv->stop_pipe[1]);
	unlink(srv->path);
	free(srv);
}

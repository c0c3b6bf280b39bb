/* SPDX-License-Identifier: MIT */
/*
 * bench-core - the core alone: two stacks in one process joined by an
 * in-memory cable, driven from one thread through the core API
 * (include/ustack/core.h): no TAP, no runtime, no lock, no system call on
 * the data path (the clock is CLOCK_MONOTONIC through the vDSO).
 *
 *   bench-core bulk [--bytes N] [--mtu N]   N bytes from A to B over one
 *                                           TCP connection (default 1 GB,
 *                                           MTU 1500): Gbit/s of wall time,
 *                                           CPU time per byte
 *   bench-core idle [--conns N]             N connections from A to B,
 *                                           established and idle (default
 *                                           10,000): memory per endpoint
 *   bench-core path [--bytes N] [--rtt-ms N] [--rate-mbit N] [--loss PCT]
 *                   [--ack-loss PCT] [--seed N] [--cc newreno|cubic]
 *                   [--no-sack] [--classic]
 *                                           N bytes (default 20 MB) from A
 *                                           to B over an emulated path, on
 *                                           a virtual clock: a bottleneck
 *                                           (default 100 Mbit/s, a drop-tail
 *                                           queue of one BDP), a round trip
 *                                           (default 20 ms) and random loss
 *                                           per direction, like netem but
 *                                           deterministic (same seed, same
 *                                           run): how the congestion control
 *                                           and loss recovery fare
 *   bench-core short [--conns N] [--held M] N short connections (default
 *                                           2,000) on a virtual clock, one
 *                                           per millisecond, with M idle
 *                                           ones held (default 0): the
 *                                           core's work per connection,
 *                                           driven as the runtime drives it
 *
 * The cable is a pair of frame queues that this program owns: a stack's
 * transmit callback copies the frame into the queue towards the other
 * stack, and the pump hands queued frames to us_stack_input() (never from
 * inside a transmit, so no stack is entered twice). It is the in-memory
 * link of src/drivers/mem without its mutex and eventfd, which are there
 * for two threads and would add system calls here.
 *
 * Prints one "RESULT key=value ..." line. Read include/ustack/core.h first.
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ustack/core.h>

#define QUEUE_FRAMES 4096
#define PORT 5001
#define IO_CHUNK 65536
#define MAX_WALL_S 120.0

struct queue {
	uint8_t *mem;
	size_t slot;
	uint32_t len[QUEUE_FRAMES];
	us_time_t at[QUEUE_FRAMES]; /* path mode: when the frame arrives */
	uint32_t head, count;
	unsigned long long frames, dropped;
	/* path mode */
	double loss;        /* probability that a TCP segment is lost */
	us_time_t busy_until; /* the bottleneck sends the previous frame until then */
	unsigned long long lost, tail_drops;
};

struct node {
	struct us_stack *s;
	int ifindex;
	struct queue *out; /* frames this node transmits */
};

static struct queue q_ab, q_ba;
static struct node A, B;

/* Path mode (bench-core path): the virtual clock, the path's shape, and
 * the seeded generator of losses (xorshift64*: the same seed gives the
 * same losses). */
static bool path_mode, path_lossy;
static us_time_t vnow, one_way_delay;
static double rate_bps;
static size_t queue_limit;
static uint64_t rng_state = 88172645463325252ull;

static us_time_t clock_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (us_time_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Path mode runs on the virtual clock, the others on the real one. */
static us_time_t stack_now(void)
{
	return path_mode ? vnow : clock_us();
}

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static bool is_tcp(const struct us_frame *f)
{
	/* Ethernet type IPv4 and protocol TCP (bytes 12-13 and 23). */
	return f->len >= 54 && f->data[12] == 0x08 && f->data[13] == 0x00 && f->data[23] == 6;
}

/* The bottleneck: a frame waits behind the ones queued before it (drop
 * tail beyond queue_limit bytes), is serialised at rate_bps, then
 * travels one_way_delay. Losses strike TCP segments only once the
 * connection is up, so that ARP and the handshake are not the story. */
static bool path_admit(struct queue *q, const struct us_frame *f, us_time_t *arrive)
{
	us_time_t start = q->busy_until > vnow ? q->busy_until : vnow;
	double backlog_bytes = (double)(start - vnow) * rate_bps / 8e6;
	if (backlog_bytes + (double)f->len > (double)queue_limit) {
		q->tail_drops++;
		return false;
	}
	if (path_lossy && is_tcp(f) && uniform() < q->loss) {
		q->lost++;
		return false;
	}
	us_time_t tx = (us_time_t)((double)f->len * 8e6 / rate_bps);
	q->busy_until = start + (tx ? tx : 1);
	*arrive = q->busy_until + one_way_delay;
	return true;
}

static int cable_transmit(void *ctx, const struct us_frame *f)
{
	struct queue *q = ctx;
	us_time_t arrive = 0;
	if (q->count == QUEUE_FRAMES || f->len > q->slot) {
		q->dropped++;
		return -ENOBUFS;
	}
	if (path_mode && !path_admit(q, f, &arrive))
		return 0; /* lost on the way: the sender does not know */
	uint32_t i = (q->head + q->count) % QUEUE_FRAMES;
	memcpy(q->mem + (size_t)i * q->slot, f->data, f->len);
	q->len[i] = (uint32_t)f->len;
	q->at[i] = arrive;
	q->count++;
	q->frames++;
	return 0;
}

/* Hands the oldest queued frame to the node (its slot is free once the
 * node has sent what it answers: that goes to the other queue). */
static void deliver_one(struct queue *q, struct node *to, us_time_t now)
{
	uint32_t i = q->head;
	q->head = (q->head + 1) % QUEUE_FRAMES;
	q->count--;
	us_stack_input(to->s, now, to->ifindex, q->mem + (size_t)i * q->slot, q->len[i]);
}

/* Hands the frames queued now to the node; returns how many. */
static uint32_t deliver(struct queue *q, struct node *to, us_time_t now)
{
	uint32_t n = q->count;
	for (uint32_t k = 0; k < n; k++)
		deliver_one(q, to, now);
	return n;
}

/* Until both queues are empty (bounded: a frame storm ends after 64 rounds). */
static void pump(us_time_t now)
{
	for (int round = 0; round < 64; round++)
		if (deliver(&q_ab, &B, now) + deliver(&q_ba, &A, now) == 0)
			return;
}

static void poll_timers(us_time_t now)
{
	if (us_stack_next_deadline(A.s) <= now)
		us_stack_poll(A.s, now);
	if (us_stack_next_deadline(B.s) <= now)
		us_stack_poll(B.s, now);
}

/* --classic: TCP without window scaling, timestamps and SACK (RFC 9293
 * alone), to measure what the modern options bring. */
static bool classic, no_sack;
static int cc_algo = US_TCP_CC_NEWRENO;

static void node_up(struct node *n, struct queue *out, const char *name, uint8_t last, uint32_t mtu)
{
	struct us_stack_config cfg = {
		.seed = last,
		.secret = { last },
		.no_dad = true,
		.no_slaac = true,
		.no_router_solicit = true,
		.large_bufs = 64,
		.small_bufs = 2048,
		.tcp_no_wscale = classic,
		.tcp_no_timestamps = classic,
		.tcp_no_sack = classic || no_sack,
		.tcp_cc = cc_algo,
	};
	/* The cable first: adding the address already sends (ARP). */
	n->out = out;
	out->slot = mtu + 64;
	out->mem = malloc(out->slot * QUEUE_FRAMES);
	if (!out->mem) {
		fprintf(stderr, "bench-core: out of memory\n");
		exit(1);
	}
	n->s = us_stack_new(&cfg);
	if (!n->s) {
		fprintf(stderr, "bench-core: us_stack_new failed\n");
		exit(1);
	}
	struct us_iface_config ic = { .mtu = mtu, .transmit = cable_transmit, .transmit_ctx = out };
	snprintf(ic.name, sizeof ic.name, "%s", name);
	memcpy(ic.mac, (uint8_t[]){ 0x02, 0x5e, 0x10, 0, 0, last }, 6);
	n->ifindex = us_stack_add_iface(n->s, stack_now(), &ic);
	if (n->ifindex < 0 ||
	    us_stack_add_ipv4(n->s, stack_now(), n->ifindex, 0xc6336400u | last, 24) < 0) {
		fprintf(stderr, "bench-core: interface setup failed\n");
		exit(1);
	}
}

static struct us_tcp *listen_on_b(int backlog)
{
	int err;
	struct us_tcp *l = us_tcp_open(B.s, US_AF_INET, NULL, NULL, &err);
	struct us_addr any = { .family = US_AF_INET, .port = PORT };
	if (!l || us_tcp_bind(l, &any) < 0 || us_tcp_listen(l, stack_now(), backlog) < 0) {
		fprintf(stderr, "bench-core: listen failed\n");
		exit(1);
	}
	return l;
}

static struct us_tcp *connect_a_at(us_time_t now)
{
	int err;
	struct us_tcp *t = us_tcp_open(A.s, US_AF_INET, NULL, NULL, &err);
	struct us_addr to = { .family = US_AF_INET, .ip4 = 0xc6336402u, .port = PORT };
	if (!t) {
		fprintf(stderr, "bench-core: us_tcp_open: %s\n", strerror(-err));
		exit(1);
	}
	int rc = us_tcp_connect(t, now, &to);
	if (rc != -EINPROGRESS) {
		fprintf(stderr, "bench-core: us_tcp_connect: %s\n", strerror(-rc));
		exit(1);
	}
	return t;
}

static struct us_tcp *connect_a(void)
{
	return connect_a_at(stack_now());
}

static int bulk(unsigned long long total, uint32_t mtu)
{
	node_up(&A, &q_ab, "a", 1, mtu);
	node_up(&B, &q_ba, "b", 2, mtu);
	struct us_tcp *l = listen_on_b(8);
	struct us_tcp *c = connect_a(), *srv = NULL;
	int err;
	for (int i = 0; i < 1000 && !srv; i++) {
		pump(clock_us());
		srv = us_tcp_accept(l, NULL, NULL, NULL, &err);
	}
	if (!srv || us_tcp_state(c) != US_TCP_ESTABLISHED) {
		fprintf(stderr, "bench-core: no connection\n");
		return 1;
	}
	static uint8_t out[IO_CHUNK], in[IO_CHUNK];
	memset(out, 'c', sizeof out);
	unsigned long long sent = 0, got = 0, rounds = 0;
	double w0 = (double)clock_us() / 1e6, c0 = cpu_s();
	double wall_end = w0 + MAX_WALL_S;
	while (got < total) {
		us_time_t now = clock_us();
		while (sent < total) {
			size_t want = total - sent < IO_CHUNK ? (size_t)(total - sent) : IO_CHUNK;
			int n = us_tcp_send(c, now, out, want);
			if (n <= 0)
				break;
			sent += (unsigned long long)n;
		}
		pump(now);
		int n;
		while ((n = us_tcp_recv(srv, now, in, sizeof in)) > 0)
			got += (unsigned long long)n;
		pump(now);
		poll_timers(now);
		if ((++rounds & 255) == 0 && (double)now / 1e6 > wall_end) {
			fprintf(stderr, "bench-core: not done after %.0f s\n", MAX_WALL_S);
			return 1;
		}
	}
	double wall = (double)clock_us() / 1e6 - w0, cpu = cpu_s() - c0;
	printf("RESULT bytes=%llu mtu=%u wall_s=%.3f cpu_s=%.3f gbps=%.3f cpu_ns_per_byte=%.4f "
	       "frames_ab=%llu frames_ba=%llu dropped=%llu rounds=%llu\n",
	       got, mtu, wall, cpu, (double)got * 8 / wall / 1e9, cpu * 1e9 / (double)got,
	       q_ab.frames, q_ba.frames, q_ab.dropped + q_ba.dropped, rounds);
	return 0;
}

/* Path mode: hands each node the frames that have arrived by vnow. */
static bool path_deliver(void)
{
	bool any = false;
	for (bool more = true; more;) {
		more = false;
		if (q_ab.count && q_ab.at[q_ab.head] <= vnow) {
			deliver_one(&q_ab, &B, vnow);
			more = any = true;
		}
		if (q_ba.count && q_ba.at[q_ba.head] <= vnow) {
			deliver_one(&q_ba, &A, vnow);
			more = any = true;
		}
	}
	return any;
}

static us_time_t earliest(us_time_t a, us_time_t b)
{
	return a < b ? a : b;
}

/* The next moment something happens: a frame arrives or a timer fires. */
static us_time_t path_next_event(void)
{
	us_time_t t = earliest(us_stack_next_deadline(A.s), us_stack_next_deadline(B.s));
	if (q_ab.count)
		t = earliest(t, q_ab.at[q_ab.head]);
	if (q_ba.count)
		t = earliest(t, q_ba.at[q_ba.head]);
	return t;
}

/* --trace-ms N: the sender's window every N ms of virtual time, for plots. */
static double trace_ms;

static void path_trace(struct us_tcp *c, us_time_t start)
{
	static us_time_t next;
	if (trace_ms <= 0 || vnow < next)
		return;
	next = vnow + (us_time_t)(trace_ms * 1000);
	struct us_tcp_info ti;
	us_tcp_get_info(c, &ti);
	printf("TRACE t=%.3f cwnd=%u ssthresh=%u flight=%u pipe=%u recovery=%d retransmits=%u\n",
	       (double)(vnow - start) / 1e6, ti.cwnd / ti.mss, ti.ssthresh / ti.mss,
	       ti.bytes_in_flight / ti.mss, ti.pipe / ti.mss, ti.in_recovery, ti.retransmits);
}

static int path(unsigned long long total, double rtt_ms, double mbit, double loss_pct,
		double ack_loss_pct)
{
	path_mode = true;
	vnow = US_SEC(1);
	one_way_delay = (us_time_t)(rtt_ms * 1000 / 2);
	rate_bps = mbit * 1e6;
	/* One bandwidth-delay product of buffer, at least 64 frames. */
	queue_limit = (size_t)(rate_bps / 8 * rtt_ms / 1000);
	if (queue_limit < 64 * 1514)
		queue_limit = 64 * 1514;
	q_ab.loss = loss_pct / 100;
	q_ba.loss = ack_loss_pct / 100;
	node_up(&A, &q_ab, "a", 1, 1500);
	node_up(&B, &q_ba, "b", 2, 1500);
	struct us_tcp *l = listen_on_b(8);
	struct us_tcp *c = connect_a(), *srv = NULL;
	static uint8_t out[IO_CHUNK], in[IO_CHUNK];
	memset(out, 'p', sizeof out);
	unsigned long long sent = 0, got = 0, events = 0;
	us_time_t start = 0;
	int err;
	while (got < total) {
		if (!srv && (srv = us_tcp_accept(l, NULL, NULL, NULL, &err))) {
			start = vnow;
			path_lossy = true;
		}
		if (srv) {
			while (sent < total) {
				size_t want = total - sent < IO_CHUNK ? (size_t)(total - sent) : IO_CHUNK;
				int n = us_tcp_send(c, vnow, out, want);
				if (n <= 0)
					break;
				sent += (unsigned long long)n;
			}
			int n;
			while ((n = us_tcp_recv(srv, vnow, in, sizeof in)) > 0)
				got += (unsigned long long)n;
			path_trace(c, start);
		}
		if (us_stack_next_deadline(A.s) <= vnow)
			us_stack_poll(A.s, vnow);
		if (us_stack_next_deadline(B.s) <= vnow)
			us_stack_poll(B.s, vnow);
		if (path_deliver())
			continue; /* the applications may act on what arrived */
		us_time_t t = path_next_event();
		if (t == US_TIME_NEVER || ++events > 500000000ull || vnow > US_SEC(36000)) {
			fprintf(stderr, "bench-core: path stalled at %.3f s, %llu of %llu bytes\n",
				(double)vnow / 1e6, got, total);
			return 1;
		}
		if (t > vnow)
			vnow = t;
	}
	double secs = (double)(vnow - start) / 1e6;
	struct us_tcp_info ti;
	us_tcp_get_info(c, &ti);
	printf("RESULT bytes=%llu rtt_ms=%.1f rate_mbit=%.1f loss_pct=%.2f ack_loss_pct=%.2f "
	       "cc=%s sack=%d virtual_s=%.3f mbytes_per_s=%.3f mbit_per_s=%.2f lost=%llu "
	       "acks_lost=%llu tail_drops=%llu retransmits=%u fast_recoveries=%llu rtos=%llu "
	       "tlp_probes=%llu\n",
	       got, rtt_ms, mbit, loss_pct, ack_loss_pct, ti.cc == US_TCP_CC_CUBIC ? "cubic" : "newreno",
	       ti.sack_ok, secs, (double)got / secs / 1e6, (double)got * 8 / secs / 1e6, q_ab.lost,
	       q_ba.lost, q_ab.tail_drops + q_ba.tail_drops, ti.retransmits,
	       (unsigned long long)ti.fast_recoveries, (unsigned long long)ti.rto_timeouts,
	       (unsigned long long)ti.tlp_probes);
	return 0;
}

static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * sysconf(_SC_PAGESIZE);
}

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static int idle(int n)
{
	node_up(&A, &q_ab, "a", 1, 1500);
	node_up(&B, &q_ba, "b", 2, 1500);
	struct us_tcp *l = listen_on_b(US_TCP_MAX_BACKLOG);
	struct us_tcp **cl = calloc((size_t)n, sizeof *cl), **sv = calloc((size_t)n, sizeof *sv);
	if (!cl || !sv)
		return 1;
	/* ARP first, so that the measurement holds TCBs only. */
	struct us_tcp *warm = connect_a();
	pump(clock_us());
	us_tcp_abort(warm, clock_us());
	struct us_tcp *warm_srv;
	int err;
	while ((warm_srv = us_tcp_accept(l, NULL, NULL, NULL, &err)))
		us_tcp_abort(warm_srv, clock_us());
	pump(clock_us());

	long rss0 = rss_bytes();
	size_t heap0 = heap_bytes();
	int accepted = 0;
	double t0 = (double)clock_us() / 1e6;
	for (int i = 0; i < n; i++) {
		cl[i] = connect_a();
		if ((i & 63) == 63 || i == n - 1) {
			for (int k = 0; k < 4; k++) {
				pump(clock_us());
				struct us_tcp *t;
				while (accepted < n &&
				       (t = us_tcp_accept(l, NULL, NULL, NULL, &err)))
					sv[accepted++] = t;
			}
		}
		if ((double)clock_us() / 1e6 - t0 > MAX_WALL_S)
			break;
	}
	int est = 0;
	for (int i = 0; i < n; i++)
		est += cl[i] && us_tcp_state(cl[i]) == US_TCP_ESTABLISHED;
	long rss1 = rss_bytes();
	size_t heap1 = heap_bytes();
	int endpoints = est + accepted;
	if (est != n || accepted != n) {
		fprintf(stderr, "bench-core: %d of %d established, %d accepted\n", est, n, accepted);
		return 1;
	}
	printf("RESULT conns=%d endpoints=%d rss_per_endpoint=%.0f heap_per_endpoint=%.0f "
	       "rss_delta=%ld heap_delta=%zu\n",
	       n, endpoints, (double)(rss1 - rss0) / endpoints,
	       (double)(heap1 - heap0) / endpoints, rss1 - rss0, heap1 - heap0);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bench-core bulk [--classic] [--bytes N] [--mtu N]\n"
		"       bench-core idle [--conns N]\n"
		"       bench-core short [--conns N] [--held M]\n"
		"       bench-core path [--bytes N] [--rtt-ms N] [--rate-mbit N] [--loss PCT]\n"
		"                       [--ack-loss PCT] [--seed N] [--cc newreno|cubic]\n"
		"                       [--no-sack] [--classic] [--trace-ms N]\n");
	return 2;
}

/* One turn of the runtime's loop (src/api/runtime.c): poll, then ask for
 * the next deadline; a socket call (src/api/socket.c) asks for it before
 * and after. */
static void turn(struct node *n, us_time_t now)
{
	us_stack_poll(n->s, now);
	(void)us_stack_next_deadline(n->s);
}

static void socket_call(struct node *n)
{
	(void)us_stack_next_deadline(n->s);
	(void)us_stack_next_deadline(n->s);
}

/* pump(), with a turn of the receiving stack after each frame, as the
 * stack thread takes one. */
static void pump_turns(us_time_t now)
{
	for (int round = 0; round < 64; round++) {
		uint32_t moved = 0;
		struct queue *qs[2] = { &q_ab, &q_ba };
		struct node *to[2] = { &B, &A };
		for (int d = 0; d < 2; d++) {
			for (uint32_t k = qs[d]->count; k > 0; k--, moved++) {
				deliver_one(qs[d], to[d], now);
				turn(to[d], now);
			}
		}
		if (!moved)
			return;
	}
}

/* The clock moves to t, every deadline on the way firing at its time. */
static void advance(us_time_t *now, us_time_t t)
{
	for (int i = 0; i < 100000; i++) {
		us_time_t da = us_stack_next_deadline(A.s), db = us_stack_next_deadline(B.s);
		us_time_t d = da < db ? da : db;
		if (d > t)
			break;
		if (d > *now)
			*now = d;
		turn(&A, *now);
		turn(&B, *now);
		pump_turns(*now);
	}
	*now = t;
	turn(&A, *now);
	turn(&B, *now);
	pump_turns(*now);
}

/* Short connections (the benchmark's "short connections" row, without the
 * sockets): A connects, sends one byte; B accepts, reads it and closes
 * first, so B holds each connection in TIME_WAIT for 60 s; A reads the
 * end and closes. One per millisecond of a virtual clock, so the TIME_WAIT
 * population grows by a thousand a second, as on a busy server. Run it
 * under valgrind --tool=callgrind for instructions per connection. */
static int shortconns(int n, int held)
{
	node_up(&A, &q_ab, "a", 1, 1500);
	node_up(&B, &q_ba, "b", 2, 1500);
	struct us_tcp *l = listen_on_b(US_TCP_MAX_BACKLOG);
	us_time_t now = clock_us();
	int err;
	for (int i = 0; i < held; i++) {
		connect_a_at(now);
		if ((i & 63) == 63 || i == held - 1) {
			pump(now);
			while (us_tcp_accept(l, NULL, NULL, NULL, &err))
				;
		}
	}
	advance(&now, now + US_MSEC(1));
	double c0 = cpu_s();
	uint8_t byte = 'x', buf[16];
	for (int i = 0; i < n; i++) {
		struct us_tcp *c = connect_a_at(now);
		socket_call(&A);
		pump_turns(now);
		struct us_tcp *srv = us_tcp_accept(l, NULL, NULL, NULL, &err);
		socket_call(&B);
		if (!srv || us_tcp_send(c, now, &byte, 1) != 1) {
			fprintf(stderr, "bench-core: connection %d failed\n", i);
			return 1;
		}
		socket_call(&A);
		pump_turns(now);
		if (us_tcp_recv(srv, now, buf, sizeof buf) != 1) {
			fprintf(stderr, "bench-core: connection %d: no byte\n", i);
			return 1;
		}
		socket_call(&B);
		us_tcp_close(srv, now);
		socket_call(&B);
		pump_turns(now);
		if (us_tcp_recv(c, now, buf, sizeof buf) != 0) {
			fprintf(stderr, "bench-core: connection %d: no end\n", i);
			return 1;
		}
		socket_call(&A);
		us_tcp_close(c, now);
		socket_call(&A);
		pump_turns(now);
		advance(&now, now + US_MSEC(1));
	}
	double cpu = cpu_s() - c0;
	printf("RESULT conns=%d held=%d cpu_s=%.3f cpu_us_per_conn=%.2f b_tcbs=%zu\n", n, held, cpu,
	       cpu * 1e6 / n, us_stack_tcp_table(B.s, NULL, 0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	bool is_path = !strcmp(argv[1], "path");
	unsigned long long bytes = is_path ? 20000000ull : 1000000000ull;
	long mtu = 1500, conns = -1, held = 0;
	double rtt_ms = 20, mbit = 100, loss = 0, ack_loss = 0;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--classic")) {
			classic = true;
			continue;
		}
		if (!strcmp(o, "--no-sack")) {
			no_sack = true;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(o, "--bytes"))
			bytes = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--mtu"))
			mtu = atol(v);
		else if (!strcmp(o, "--conns"))
			conns = atol(v);
		else if (!strcmp(o, "--held"))
			held = atol(v);
		else if (!strcmp(o, "--rtt-ms"))
			rtt_ms = atof(v);
		else if (!strcmp(o, "--rate-mbit"))
			mbit = atof(v);
		else if (!strcmp(o, "--loss"))
			loss = atof(v);
		else if (!strcmp(o, "--trace-ms"))
			trace_ms = atof(v);
		else if (!strcmp(o, "--ack-loss"))
			ack_loss = atof(v);
		else if (!strcmp(o, "--seed"))
			rng_state ^= strtoull(v, NULL, 0) * 0x9e3779b97f4a7c15ull;
		else if (!strcmp(o, "--cc") && !strcmp(v, "newreno"))
			cc_algo = US_TCP_CC_NEWRENO;
		else if (!strcmp(o, "--cc") && !strcmp(v, "cubic"))
			cc_algo = US_TCP_CC_CUBIC;
		else
			return usage();
	}
	if (!rng_state)
		rng_state = 1; /* xorshift never leaves zero */
	if (!strcmp(argv[1], "short")) {
		/* Every connection stays in TIME_WAIT: all of them, held ones
		 * included, must fit under US_TCP_MAX_CONNS. */
		if (conns < 0)
			conns = 2000;
		if (conns > 0 && held >= 0 && conns + held <= 16000)
			return shortconns((int)conns, (int)held);
		fprintf(stderr, "bench-core: short: 1 <= conns, 0 <= held, conns + held <= 16000\n");
		return 2;
	}
	if (conns < 0)
		conns = 10000;
	if (!strcmp(argv[1], "bulk") && bytes > 0 && bytes <= 100000000000ull && mtu >= 1280 &&
	    mtu <= 65000)
		return bulk(bytes, (uint32_t)mtu);
	if (!strcmp(argv[1], "idle") && conns > 0 && conns <= 16000)
		return idle((int)conns);
	if (is_path && bytes > 0 && bytes <= 10000000000ull && rtt_ms >= 0.1 && rtt_ms <= 10000 &&
	    mbit >= 0.1 && mbit <= 100000 && loss >= 0 && loss < 50 && ack_loss >= 0 && ack_loss < 50)
		return path(bytes, rtt_ms, mbit, loss, ack_loss);
	fprintf(stderr, "bench-core: bad arguments\n");
	return usage();
}

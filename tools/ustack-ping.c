/* SPDX-License-Identifier: MIT */
/*
 * ustack-ping - ping FROM ustack: brings the stack up on a TAP device, sends
 * ICMP or ICMPv6 Echo Requests (RFC 792, RFC 4443 §4.1) with
 * us_stack_ping4/us_stack_ping6, and reports the Echo Replies (RFC 792,
 * RFC 4443 §4.2) like iputils' ping, with its summary.
 *
 *   ustack-ping [-4|-6] [-c COUNT] [-i INTERVAL] [-s SIZE] [-W TIMEOUT]
 *               [-w DEADLINE] [--tap NAME] [--ip4 ADDR/LEN|none]
 *               [--ip6 ADDR/LEN|none] [--gw4 ADDR] [--mac MAC] [--mtu N]
 *               [--pcap FILE] [--log LEVEL] DESTINATION
 *
 * Threads: the runtime's stack thread runs the core; this program's main
 * thread sends each request inside us_runtime_with_core() (the one way into
 * the core from another thread) and waits in ppoll() on a pipe and a
 * signalfd. The core reports a reply through the stack config's
 * on_echo_reply hook, on the stack thread with the core lock held: the hook
 * copies what it needs into a fixed-size record and writes it to the pipe
 * without blocking, so the core never waits for this thread.
 *
 * Before the first request it waits (at most 3 s) until the kernel side of
 * the TAP device is running (wait_link_running()), and for IPv6 (at most
 * 10 s) until the source address has left TENTATIVE: RFC 4862 §5.4 forbids
 * using an address before Duplicate Address Detection ends.
 *
 * Exit status as ping's: 0 when at least one reply came, 1 when none did,
 * 2 on a usage error or when the stack cannot be brought up.
 *
 * Read tools/cli.h, include/ustack/ustack.h and include/ustack/core.h first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ustack/ustack.h>

#include "cli.h"

static const char usage[] =
	"usage: ustack-ping [-4|-6] [-c COUNT] [-i INTERVAL] [-s SIZE] [-W TIMEOUT]\n"
	"                   [-w DEADLINE] [--tap NAME] [--ip4 ADDR/LEN|none]\n"
	"                   [--ip6 ADDR/LEN|none] [--gw4 ADDR] [--mac MAC] [--mtu N]\n"
	"                   [--pcap FILE] [--log quiet|info|drop|debug] DESTINATION\n"
	"\n"
	"Brings ustack up on a TAP device (created when missing) and pings\n"
	"DESTINATION from it, printing each reply and a summary like ping(8).\n"
	"  -c COUNT     stop after COUNT requests (default: until Ctrl-C or -w)\n"
	"  -i INTERVAL  seconds between requests, at least 0.001 (default 1)\n"
	"  -s SIZE      data bytes per request (default 56)\n"
	"  -W TIMEOUT   seconds to wait for the last reply (default 2)\n"
	"  -w DEADLINE  stop after DEADLINE seconds whatever happened\n"
	"  -4, -6       the family; by default the destination's\n"
	"The link flags are ustack-demo's; defaults --tap tap0 --ip4 198.51.100.2/24\n"
	"--ip6 2001:db8:1::2/64, --log quiet. Exit status: 0 when a reply came, 1\n"
	"when none did, 2 on errors.\n";

#define DEFAULT_SIZE 56
#define MAX_SIZE4 65507 /* 65535 - 20 (IPv4 header) - 8 (ICMP header) */
#define MAX_SIZE6 65527 /* 65535 (Payload Length) - 8 (ICMPv6 header) */
#define ICMP_HDR_LEN 8
#define READY_TIMEOUT US_SEC(10)
#define READY_POLL_MS 10

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ustack-ping: %s%s%s\n\n%s", msg, arg ? ": " : "", arg ? arg : "", usage);
	exit(2);
}

/* One reply, as the stack thread hands it to the main thread. */
struct reply_msg {
	int family;
	uint32_t src4;
	struct us_ip6 src6;
	uint16_t seq;
	uint8_t ttl;
	uint32_t len;      /* echoed data bytes */
	int32_t bad_at;    /* the first data byte that differs from what was sent, or -1 */
	uint8_t bad_want, bad_got;
	us_time_t at;      /* when the core received it */
};

struct pinger {
	int family;
	uint32_t dst4;
	struct us_ip6 dst6;
	uint16_t id;
	const uint8_t *payload; /* read-only once the runtime runs */
	size_t size;
	int pipe_w;
	atomic_uint lost; /* replies the pipe had no room for */
};

/* On the stack thread, with the core lock held: copy and hand over, never block. */
static void on_echo_reply(void *ctx, us_time_t now, const struct us_echo_reply *r)
{
	struct pinger *p = ctx;
	if (r->family != p->family || r->id != p->id)
		return;
	struct reply_msg m = {
		.family = r->family,
		.src4 = r->src4,
		.src6 = r->src6,
		.seq = r->seq,
		.ttl = r->ttl,
		.len = (uint32_t)r->len,
		.bad_at = -1,
		.at = now,
	};
	size_t n = r->len < p->size ? r->len : p->size;
	for (size_t i = 0; i < n; i++) {
		if (r->data[i] != p->payload[i]) {
			m.bad_at = (int32_t)i;
			m.bad_want = p->payload[i];
			m.bad_got = r->data[i];
			break;
		}
	}
	/* A record is far below PIPE_BUF, so the write is all or nothing. */
	if (write(p->pipe_w, &m, sizeof m) != (ssize_t)sizeof m)
		atomic_fetch_add(&p->lost, 1);
}

/* ---- Waiting for a usable source address -------------------------------- */

#define MAX_ADDRS 16

struct addr_query {
	int ifindex;
	int n;
	struct us_addr6_info a[MAX_ADDRS];
};

static void read_addrs(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	struct addr_query *q = arg;
	int n = us_stack_ipv6_addrs(s, q->ifindex, q->a, MAX_ADDRS);
	q->n = n < 0 ? 0 : (n > MAX_ADDRS ? MAX_ADDRS : n);
}

static bool usable(enum us_addr6_state st)
{
	switch (st) {
	case US_ADDR6_PREFERRED:
	case US_ADDR6_DEPRECATED:
		return true;
	case US_ADDR6_TENTATIVE:
	case US_ADDR6_DUPLICATE:
		return false;
	}
	return false;
}

/*
 * 1 when the source for dst is usable (*src set), 0 while DAD runs, -1 when
 * DAD found the address in use. For a link-local destination the source is
 * the link-local address; else the static --ip6 address, or with --ip6 none
 * any global address (SLAAC).
 */
static int source_ready(const struct addr_query *q, const struct us_cli_link *l,
			const struct us_ip6 *dst, struct us_ip6 *src)
{
	bool want_ll = us_cli_ip6_is_link_local(dst);
	for (int i = 0; i < q->n; i++) {
		const struct us_addr6_info *a = &q->a[i];
		bool ll = us_cli_ip6_is_link_local(&a->addr);
		bool wanted;
		if (want_ll)
			wanted = ll;
		else if (l->cfg.has_ipv6)
			wanted = !memcmp(&a->addr, &l->cfg.ipv6, sizeof a->addr);
		else
			wanted = !ll;
		if (!wanted)
			continue;
		if (a->state == US_ADDR6_DUPLICATE && (want_ll || l->cfg.has_ipv6)) {
			*src = a->addr;
			return -1;
		}
		if (usable(a->state)) {
			*src = a->addr;
			return 1;
		}
	}
	return 0;
}

/* True when a stop signal is waiting on sfd. */
static bool stop_signalled(int sfd)
{
	struct signalfd_siginfo si;
	bool stop = false;
	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
		stop = true;
	return stop;
}

/* Waits, bounded, until the IPv6 source is usable. 0, or exits 2 / returns 1 on a signal. */
static int wait_ipv6_source(struct us_runtime *rt, const struct us_cli_link *l,
			    const struct us_ip6 *dst, int sfd, struct us_ip6 *src)
{
	struct addr_query q = { .ifindex = us_runtime_ifindex(rt) };
	us_time_t until = us_runtime_now(rt) + READY_TIMEOUT;
	char txt[INET6_ADDRSTRLEN];
	for (;;) {
		us_runtime_with_core(rt, read_addrs, &q);
		int r = source_ready(&q, l, dst, src);
		if (r > 0)
			return 0;
		if (r < 0) {
			us_cli_format_ip6(src, txt, sizeof txt);
			fprintf(stderr, "ustack-ping: %s is in use by another node on the link "
				"(duplicate address detection failed)\n", txt);
			return -1;
		}
		if (us_runtime_now(rt) >= until) {
			fprintf(stderr, "ustack-ping: no usable IPv6 source address after %d s "
				"(duplicate address detection or SLAAC did not finish)\n",
				(int)(READY_TIMEOUT / US_SEC(1)));
			return -1;
		}
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		if (poll(&p, 1, READY_POLL_MS) > 0 && stop_signalled(sfd))
			return 1;
	}
}

/* ---- Waiting for the link ------------------------------------------------ */

#define LINK_TIMEOUT_MS 3000

/*
 * Attaching to the TAP device turns its carrier on, but the kernel sends on
 * its side only once its link watcher has run (it sets the operational state
 * and swaps the device's no-op queueing discipline for the real one; until
 * then the kernel's frames, such as its ARP reply to our first request, are
 * dropped). IFF_RUNNING, the operational state, says it has. Waits for it,
 * at most LINK_TIMEOUT_MS; 1 when a stop signal came.
 */
static int wait_link_running(const char *name, int sfd)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0; /* cannot tell: go on */
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	int rc = 0;
	for (int waited = 0;; waited += READY_POLL_MS) {
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags & IFF_RUNNING))
			break;
		if (waited >= LINK_TIMEOUT_MS) {
			fprintf(stderr, "ustack-ping: the kernel side of %s is not running after "
				"%d ms; sending anyway\n", name, LINK_TIMEOUT_MS);
			break;
		}
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		if (poll(&p, 1, READY_POLL_MS) > 0 && stop_signalled(sfd)) {
			rc = 1;
			break;
		}
	}
	close(fd);
	return rc;
}

/* ---- Sending ------------------------------------------------------------- */

struct send_req {
	struct pinger *p;
	uint16_t seq;
	int rc;
	us_time_t at;
};

static void send_one(struct us_stack *s, us_time_t now, void *arg)
{
	struct send_req *rq = arg;
	struct pinger *p = rq->p;
	rq->at = now;
	if (p->family == 4)
		rq->rc = us_stack_ping4(s, now, p->dst4, p->id, rq->seq, p->payload, p->size, 0);
	else
		rq->rc = us_stack_ping6(s, now, &p->dst6, p->id, rq->seq, p->payload, p->size, 0);
}

/* ---- Statistics, printed like iputils ------------------------------------ */

#define SEQ_SPACE 65536

struct stats {
	unsigned long transmitted, received, duplicates, corrupted, errors;
	double rtt_min, rtt_max, rtt_sum, rtt_sum2; /* ms */
	us_time_t sent_at[SEQ_SPACE];
	uint8_t sent[SEQ_SPACE / 8], got[SEQ_SPACE / 8];
};

static bool bit(const uint8_t *map, uint16_t i)
{
	return map[i / 8] & (1u << (i % 8));
}

static void set_bit(uint8_t *map, uint16_t i, bool on)
{
	if (on)
		map[i / 8] = (uint8_t)(map[i / 8] | (1u << (i % 8)));
	else
		map[i / 8] = (uint8_t)(map[i / 8] & ~(1u << (i % 8)));
}

/* iputils' precision: three significant digits down to the microsecond. */
static void print_ms(double ms)
{
	if (ms >= 100)
		printf("%.0f", ms);
	else if (ms >= 10)
		printf("%.1f", ms);
	else if (ms >= 1)
		printf("%.2f", ms);
	else
		printf("%.3f", ms);
}

static void handle_reply(struct stats *st, const struct pinger *p, const struct reply_msg *m)
{
	if (!bit(st->sent, m->seq))
		return; /* not one of ours (an earlier run with the same id) */
	bool dup = bit(st->got, m->seq);
	double ms = (double)(m->at - st->sent_at[m->seq]) / 1000.0;
	if (dup) {
		st->duplicates++;
	} else {
		set_bit(st->got, m->seq, true);
		st->received++;
		if (st->received == 1 || ms < st->rtt_min)
			st->rtt_min = ms;
		if (ms > st->rtt_max)
			st->rtt_max = ms;
		st->rtt_sum += ms;
		st->rtt_sum2 += ms * ms;
	}
	char from[INET6_ADDRSTRLEN];
	if (m->family == 4)
		us_cli_format_ip4(m->src4, from, sizeof from);
	else
		us_cli_format_ip6(&m->src6, from, sizeof from);
	printf("%u bytes from %s: icmp_seq=%u ttl=%u time=", m->len + ICMP_HDR_LEN, from, m->seq,
	       m->ttl);
	print_ms(ms);
	printf(" ms%s%s\n", dup ? " (DUP!)" : "", m->len < p->size ? " (truncated)" : "");
	if (m->bad_at >= 0) {
		st->corrupted++;
		printf("wrong data byte #%d should be 0x%02x but was 0x%02x\n", (int)m->bad_at,
		       m->bad_want, m->bad_got);
	}
	fflush(stdout);
}

static void print_summary(const struct stats *st, const char *dst, us_time_t elapsed)
{
	printf("\n--- %s ping statistics ---\n", dst);
	printf("%lu packets transmitted, %lu received", st->transmitted, st->received);
	if (st->duplicates)
		printf(", +%lu duplicates", st->duplicates);
	if (st->corrupted)
		printf(", +%lu corrupted", st->corrupted);
	if (st->errors)
		printf(", +%lu errors", st->errors);
	double loss = st->transmitted
			      ? 100.0 * (double)(st->transmitted - st->received) / (double)st->transmitted
			      : 0.0;
	printf(", %g%% packet loss, time %lldms\n", loss, (long long)(elapsed / 1000));
	if (st->received) {
		double n = (double)st->received;
		double avg = st->rtt_sum / n;
		double var = st->rtt_sum2 / n - avg * avg;
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", st->rtt_min, avg,
		       st->rtt_max, var > 0 ? sqrt(var) : 0.0);
	}
	fflush(stdout);
}

/* ---- The destination ------------------------------------------------------ */

/* Parses DESTINATION for the family asked (0: either). Returns its family. */
static int parse_destination(const char *arg, int family, const char *tap, struct pinger *p)
{
	struct in_addr a4;
	if (family != 6 && inet_pton(AF_INET, arg, &a4) == 1) {
		p->dst4 = ntohl(a4.s_addr);
		return 4;
	}
	char buf[INET6_ADDRSTRLEN + 20];
	if (strlen(arg) >= sizeof buf)
		die_usage("destination too long", arg);
	strcpy(buf, arg);
	/* fe80::1%tap0: one interface only, so the zone must name it. */
	char *zone = strchr(buf, '%');
	if (zone) {
		*zone++ = '\0';
		if (strcmp(zone, tap))
			die_usage("the zone of a link-local destination must be the TAP device", arg);
	}
	if (family != 4 && inet_pton(AF_INET6, buf, p->dst6.b) == 1)
		return 6;
	if (family == 4)
		die_usage("not an IPv4 address (ustack-ping takes numeric addresses)", arg);
	if (family == 6)
		die_usage("not an IPv6 address (ustack-ping takes numeric addresses)", arg);
	die_usage("not an IPv4 or IPv6 address (ustack-ping takes numeric addresses)", arg);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		US_CLI_LINK_OPTIONS,
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct us_cli_link l;
	us_cli_link_defaults(&l, US_CLI_LOG_QUIET);
	long count = 0, size = DEFAULT_SIZE;
	double interval = 1.0, linger = 2.0, deadline = 0;
	int family = 0;

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":46c:i:s:W:w:h", opts, NULL)) != -1) {
		const char *err = NULL;
		switch (c) {
		case '4':
		case '6':
			if (family && family != c - '0')
				die_usage("-4 and -6 exclude each other", NULL);
			family = c - '0';
			break;
		case 'c':
			if (us_cli_long(optarg, 1, 1000000000L, &count))
				err = "count must be a positive integer";
			break;
		case 'i':
			if (us_cli_seconds(optarg, 0.001, 3600, &interval))
				err = "interval must be 0.001 to 3600 seconds";
			break;
		case 's':
			if (us_cli_long(optarg, 0, MAX_SIZE6, &size))
				err = "size must be 0 to 65527 bytes (65507 for IPv4)";
			break;
		case 'W':
			if (us_cli_seconds(optarg, 0.001, 3600, &linger))
				err = "timeout must be 0.001 to 3600 seconds";
			break;
		case 'w':
			if (us_cli_seconds(optarg, 0.001, 1e6, &deadline))
				err = "deadline must be 0.001 to 1000000 seconds";
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case ':':
			die_usage("option needs an argument", argv[optind - 1]);
			break;
		default:
			if (!us_cli_link_option(&l, c, optarg, &err))
				die_usage("unknown option", argv[optind - 1]);
		}
		if (err)
			die_usage(err, optarg);
	}
	if (optind == argc)
		die_usage("no destination", NULL);
	if (optind + 1 < argc)
		die_usage("one destination only", argv[optind + 1]);
	const char *dst_arg = argv[optind];
	const char *err = us_cli_link_check(&l);
	if (err)
		die_usage(err, NULL);

	static struct pinger p;
	p.family = parse_destination(dst_arg, family, l.cfg.tap_name, &p);
	if (p.family == 4 && size > MAX_SIZE4)
		die_usage("size must be 0 to 65507 bytes for IPv4", NULL);
	if (p.family == 4 && !l.has_ipv4)
		die_usage("an IPv4 destination needs an IPv4 address (--ip4)", NULL);
	p.id = (uint16_t)getpid();
	p.size = (size_t)size;
	uint8_t *payload = malloc(p.size ? p.size : 1);
	static struct stats st;
	int fds[2];
	if (!payload || pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		perror("ustack-ping");
		free(payload);
		return 2;
	}
	/* iputils' pattern: byte i is i. */
	for (size_t i = 0; i < p.size; i++)
		payload[i] = (uint8_t)i;
	p.payload = payload;
	p.pipe_w = fds[1];
	atomic_init(&p.lost, 0);

	us_cli_link_trace(&l);
	l.cfg.stack.on_echo_reply = on_echo_reply;
	l.cfg.stack.echo_ctx = &p;

	/* The stop signals come through a signalfd; blocked in every thread. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	int sfd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		perror("ustack-ping: signalfd");
		free(payload);
		close(fds[0]);
		close(fds[1]);
		return 2;
	}

	int rc, status = 2;
	struct us_runtime *rt = us_runtime_start(&l.cfg, &rc);
	if (!rt) {
		fprintf(stderr, "ustack-ping: cannot start on %s: %s\n", l.cfg.tap_name, strerror(-rc));
		goto out;
	}

	if (wait_link_running(l.cfg.tap_name, sfd)) {
		status = 1;
		goto out;
	}
	char dst_txt[INET6_ADDRSTRLEN], src_txt[INET6_ADDRSTRLEN];
	if (p.family == 4) {
		us_cli_format_ip4(p.dst4, dst_txt, sizeof dst_txt);
		us_cli_format_ip4(l.cfg.ipv4, src_txt, sizeof src_txt);
		printf("PING %s (%s) from %s %s: %ld(%ld) bytes of data.\n", dst_txt, dst_txt,
		       src_txt, l.cfg.tap_name, size, size + 28);
	} else {
		struct us_ip6 src;
		int w = wait_ipv6_source(rt, &l, &p.dst6, sfd, &src);
		if (w != 0) {
			status = w < 0 ? 2 : 1;
			goto out;
		}
		us_cli_format_ip6(&p.dst6, dst_txt, sizeof dst_txt);
		us_cli_format_ip6(&src, src_txt, sizeof src_txt);
		printf("PING %s(%s) from %s %s: %ld data bytes\n", dst_txt, dst_txt, src_txt,
		       l.cfg.tap_name, size);
	}
	fflush(stdout);

	us_time_t step = (us_time_t)(interval * 1e6);
	us_time_t wait_last = (us_time_t)(linger * 1e6);
	us_time_t start = us_runtime_now(rt);
	us_time_t end_by = deadline > 0 ? start + (us_time_t)(deadline * 1e6) : US_TIME_NEVER;
	us_time_t next_send = start, last_send = start;
	uint16_t seq = 1;
	struct pollfd pfd[2] = { { .fd = fds[0], .events = POLLIN }, { .fd = sfd, .events = POLLIN } };

	for (;;) {
		us_time_t now = us_runtime_now(rt);
		if (now >= end_by)
			break;
		bool sending = (count == 0 || st.transmitted < (unsigned long)count);
		if (sending && now >= next_send) {
			struct send_req rq = { .p = &p, .seq = seq };
			/* Cleared before the request leaves: its reply may come at once. */
			set_bit(st.got, seq, false);
			set_bit(st.sent, seq, false);
			us_runtime_with_core(rt, send_one, &rq);
			st.transmitted++;
			if (rq.rc < 0) {
				st.errors++;
				fprintf(stderr, "ustack-ping: icmp_seq=%u: cannot send: %s\n", seq,
					strerror(-rq.rc));
			} else {
				st.sent_at[seq] = rq.at;
				set_bit(st.sent, seq, true);
			}
			last_send = rq.at;
			seq++;
			next_send += step;
			/* Late (a slow machine): go on from now rather than burst. */
			if (next_send + step < now)
				next_send = now;
			continue;
		}
		if (!sending) {
			if (st.received + st.errors >= st.transmitted)
				break; /* every request answered */
			if (now >= last_send + wait_last)
				break;
		}
		us_time_t wake = sending ? next_send : last_send + wait_last;
		if (end_by < wake)
			wake = end_by;
		us_time_t left = wake > now ? wake - now : 0;
		struct timespec ts = { .tv_sec = left / 1000000, .tv_nsec = (long)(left % 1000000) * 1000 };
		int n = ppoll(pfd, 2, &ts, NULL);
		if (n < 0 && errno != EINTR) {
			perror("ustack-ping: ppoll");
			break;
		}
		struct reply_msg m;
		while (read(fds[0], &m, sizeof m) == (ssize_t)sizeof m)
			handle_reply(&st, &p, &m);
		if (stop_signalled(sfd))
			break; /* Ctrl-C: the summary now, as ping does */
	}
	us_time_t elapsed = us_runtime_now(rt) - start;
	us_runtime_stop(rt);
	rt = NULL;
	/* Replies that came while stopping. */
	struct reply_msg m;
	while (read(fds[0], &m, sizeof m) == (ssize_t)sizeof m)
		handle_reply(&st, &p, &m);
	unsigned lost = atomic_load(&p.lost);
	if (lost)
		fprintf(stderr, "ustack-ping: %u replies lost: the reply pipe was full\n", lost);
	print_summary(&st, dst_txt, elapsed);
	status = st.received ? 0 : 1;
out:
	us_runtime_stop(rt);
	free(payload);
	close(fds[0]);
	close(fds[1]);
	close(sfd);
	return status;
}

/* SPDX-License-Identifier: MIT */
/*
 * ustack-demo - brings ustack up on a TAP device and serves until stopped.
 *
 *   ustack-demo [--tap NAME] [--ip4 ADDR/LEN|none] [--ip6 ADDR/LEN|slaac|none]
 *               [--gw4 ADDR] [--mac MAC] [--mtu N] [--log LEVEL]
 *               [--pcap FILE [--pcap-max SIZE] [--pcap-files N]]
 *               [--transitions FILE|none] [--show-transitions]
 *               [--stat-socket PATH|none] [--services LIST]
 *               [--duration SECONDS] [--no-udp-echo] [--no-tcp] [--ecn]
 *               [--http-root DIR] [--http-port N] [--dns ADDR] [--host NAME=ADDR]...
 *
 * It attaches to the TAP device NAME (made beforehand with
 * `ip tuntap add NAME mode tap`) or creates it when there is none, writes
 * every frame in and out to FILE, reports how the kernel side reaches it and
 * every change of its IPv6 addresses (DAD done, a SLAAC address from a Router
 * Advertisement), and stops cleanly on SIGINT or SIGTERM, printing the
 * stack's counters.
 *
 * Unless --no-udp-echo is given it serves the UDP echo protocol (RFC 862:
 * "When a datagram is received, the data from it is sent back in an
 * answering datagram") on port 7, over IPv4 and IPv6: two sockets of the
 * socket API (the IPv6 one with IPV6_V6ONLY), each served by a thread of its
 * own with blocking us_recvfrom()/us_sendto(). Stopping the runtime wakes
 * the blocked calls with ENETDOWN; the threads then end and are joined.
 *
 * Unless --no-tcp is given it serves over TCP, IPv4 and IPv6: echo (RFC
 * 862, port 7), discard (RFC 863, port 9; it prints the byte count and
 * SHA-256 of what each connection sent), chargen (RFC 864, port 19) and
 * HTTP/1.1 (port 80 or --http-port; files from --http-root DIR, or a
 * built-in page, and the stack's TCP table at /status and /status.html).
 * tools/demo_tcp.c and tools/http_server.c hold them.
 *
 * What it shows of itself (tools/demo_live.c): the capture (--pcap, with
 * --pcap-max and --pcap-files rotating as tcpdump -C -W does), the
 * transition log (every TCP state change with its time, endpoints and
 * cause; beside the capture, and on stdout with --show-transitions), and
 * the live view that ustack-stat reads from the UNIX socket --stat-socket
 * (and HTTP serves at /stat).
 *
 * tools/demo.sh runs it inside a network namespace of its own; the TAP
 * tests in tests/tap/ run it against the kernel's ping and UDP sockets.
 *
 * Read tools/cli.h and include/ustack/ustack.h first, then tools/demo_tcp.h
 * and tools/demo_live.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ustack/tap.h>
#include <ustack/ustack.h>

#include "cli.h"
#include "demo_live.h"
#include "demo_tcp.h"

static const char usage[] =
	"usage: ustack-demo [OPTION]...\n"
	"Brings ustack up on a TAP device (created when missing) and serves until\n"
	"SIGINT/SIGTERM or the duration ends, over IPv4 and IPv6.\n"
	"\n"
	"Link and addresses:\n"
	"  --tap NAME             the TAP device (default tap0)\n"
	"  --ip4 ADDR/LEN|none    the stack's IPv4 address (default 198.51.100.2/24)\n"
	"  --ip6 ADDR/LEN|slaac|none  its IPv6 address (default 2001:db8:1::2/64);\n"
	"                         slaac (or none): only the link-local address and what\n"
	"                         SLAAC makes from Router Advertisements\n"
	"  --gw4 ADDR             IPv4 default route (default none)\n"
	"  --mac MAC              (default random, locally administered)\n"
	"  --mtu N                1280..65535 (default the device's)\n"
	"  --offload              TAP offloads: TSO and checksum offload (virtio-net\n"
	"                         header; docs/performance.md)\n"
	"  --busy-poll US         busy polling for latency: spin up to US microseconds\n"
	"                         after traffic before sleeping (default 0: off; costs\n"
	"                         CPU; docs/performance.md)\n"
	"  --dns ADDR, --host NAME=ADDR  the stack's resolver\n"
	"Services (all by default):\n"
	"  --services LIST        a comma list of udp-echo, echo, discard, chargen,\n"
	"                         http, or all: UDP echo on port 7 (RFC 862); TCP echo\n"
	"                         (7), discard (9, RFC 863: prints each connection's\n"
	"                         byte count and SHA-256), chargen (19, RFC 864), HTTP/1.1\n"
	"  --no-udp-echo, --no-tcp  leave out UDP echo, all TCP services\n"
	"  --ecn                  TCP negotiates ECN (RFC 3168; off by default)\n"
	"  --http-port N          (default 80): GET and HEAD, files from --http-root DIR\n"
	"                         (else a built-in page at /), the TCP table at /status\n"
	"                         and /status.html, the live view at /stat\n"
	"What it shows:\n"
	"  --log LEVEL            quiet, info (default), drop or debug: core messages\n"
	"                         on stderr\n"
	"  --pcap FILE            every frame in and out (Wireshark, tshark -r)\n"
	"  --pcap-max SIZE        rotate at SIZE bytes (N, Nk, NM, NG) into FILE.1,\n"
	"                         FILE.2, ... as tcpdump -C does (default: no limit)\n"
	"  --pcap-files N         keep at most N files, the oldest is removed (default 10)\n"
	"  --transitions FILE|none  the transition log: every TCP state change (time,\n"
	"                         endpoints, OLD -> NEW, cause); default FILE beside\n"
	"                         the capture (FILE.pcap -> FILE.transitions), none\n"
	"                         without --pcap\n"
	"  --show-transitions     print the transition log on stdout as well\n"
	"  --stat-socket PATH|none  serve the live view to ustack-stat on this UNIX\n"
	"                         socket (default " "/run/ustack-demo.sock as root)\n"
	"  --duration SECONDS     stop after this long\n"
	"  -h, --help             this text\n"
	"\n"
	"The kernel side of the default addresses is 198.51.100.1 and 2001:db8:1::1.\n";

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ustack-demo: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "", usage);
	exit(2);
}

/* The trace hook: the core's messages on stderr by --log, and each TCP
 * state change into the transition log. Core lock held. */
struct trace_ctx {
	const struct us_cli_link *l;
	struct us_demo_translog *tl;
	bool show_transitions; /* then the log prints state changes, not --log */
};

static void trace(void *ctx, const struct us_trace_event *ev)
{
	const struct trace_ctx *t = ctx;
	if (!(t->show_transitions && ev->kind == US_TRACE_STATE))
		us_cli_trace_print(t->l, ev);
	us_demo_translog_event(t->tl, ev);
}

/* The services --services names; false for an unknown one. */
struct services {
	bool udp_echo, echo, discard, chargen, http;
};

static bool parse_services(const char *arg, struct services *sv)
{
	*sv = (struct services){0};
	char buf[256];
	if (!*arg || strlen(arg) >= sizeof buf)
		return false;
	strcpy(buf, arg);
	char *save = NULL;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "all"))
			*sv = (struct services){true, true, true, true, true};
		else if (!strcmp(w, "udp-echo"))
			sv->udp_echo = true;
		else if (!strcmp(w, "echo"))
			sv->echo = true;
		else if (!strcmp(w, "discard"))
			sv->discard = true;
		else if (!strcmp(w, "chargen"))
			sv->chargen = true;
		else if (!strcmp(w, "http"))
			sv->http = true;
		else
			return false;
	}
	return true;
}

static void print_counters(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	(void)arg;
	size_t n = us_stack_counters(s, NULL, 0);
	struct us_counter *c = calloc(n ? n : 1, sizeof *c);
	if (!c)
		return;
	us_stack_counters(s, c, n);
	for (size_t i = 0; i < n; i++)
		if (c[i].value)
			printf("  %-36s %llu\n", c[i].name, (unsigned long long)c[i].value);
	free(c);
}

/* ---- UDP echo (RFC 862) ------------------------------------------------- */

#define ECHO_PORT 7
/* The largest UDP payload over IPv6 (65535 - 8); IPv4's is smaller. */
#define ECHO_BUF 65527

struct echo {
	int sock;
	int af;
	pthread_t thread;
	bool running;
	unsigned long long served;
};

/* Serves until the runtime stops (ENETDOWN) or the socket is closed (EBADF). */
static void *echo_main(void *arg)
{
	struct echo *e = arg;
	uint8_t *buf = malloc(ECHO_BUF);
	if (!buf)
		return NULL;
	for (;;) {
		struct us_addr from;
		ssize_t n = us_recvfrom(e->sock, buf, ECHO_BUF, &from);
		if (n < 0) {
			if (errno == ENETDOWN || errno == EBADF)
				break;
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* A pending error (an ICMP error about an earlier reply):
			 * reported, and serving goes on. */
			fprintf(stderr, "ustack-demo: udp echo: recvfrom: %s\n", strerror(errno));
			continue;
		}
		if (us_sendto(e->sock, buf, (size_t)n, &from) < 0) {
			if (errno == ENETDOWN || errno == EBADF)
				break;
			char txt[US_ADDR_TEXT_MAX];
			us_addr_format(&from, txt, sizeof txt);
			fprintf(stderr, "ustack-demo: udp echo: sendto %s: %s\n", txt, strerror(errno));
			continue;
		}
		e->served++;
	}
	free(buf);
	return NULL;
}

/* Opens, binds and starts one family's echo socket; false with a message. */
static bool echo_start(struct us_runtime *rt, struct echo *e, int af)
{
	struct us_addr any = { .family = af, .port = ECHO_PORT };
	e->af = af;
	e->sock = us_socket(rt, af, US_SOCK_DGRAM, 0);
	if (e->sock < 0) {
		fprintf(stderr, "ustack-demo: udp echo: socket: %s\n", strerror(errno));
		return false;
	}
	if ((af == US_AF_INET6 &&
	     us_setsockopt_int(e->sock, US_IPPROTO_IPV6, US_IPV6_V6ONLY, 1) < 0) ||
	    us_bind(e->sock, &any) < 0) {
		fprintf(stderr, "ustack-demo: udp echo: bind port %d: %s\n", ECHO_PORT,
			strerror(errno));
		us_close(e->sock);
		return false;
	}
	int rc = pthread_create(&e->thread, NULL, echo_main, e);
	if (rc) {
		fprintf(stderr, "ustack-demo: udp echo: thread: %s\n", strerror(rc));
		us_close(e->sock);
		return false;
	}
	e->running = true;
	return true;
}

/* After us_runtime_stop(): the thread has woken with ENETDOWN. */
static void echo_finish(struct echo *e)
{
	if (!e->running)
		return;
	pthread_join(e->thread, NULL);
	us_close(e->sock);
	printf("udp echo over IPv%d: %llu datagrams echoed\n", e->af == US_AF_INET ? 4 : 6,
	       e->served);
	e->running = false;
}

/* The IPv6 addresses as last seen, to report what changed. */
#define MAX_WATCH 16

struct addr_view {
	int n;
	struct us_addr6_info a[MAX_WATCH];
	uint8_t mac[US_ETH_ALEN];
	int ifindex;
};

static void read_addrs(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	struct addr_view *v = arg;
	int n = us_stack_ipv6_addrs(s, v->ifindex, v->a, MAX_WATCH);
	v->n = n < 0 ? 0 : (n > MAX_WATCH ? MAX_WATCH : n);
	us_stack_iface_info(s, v->ifindex, v->mac, NULL);
}

static const struct us_addr6_info *find_addr(const struct addr_view *v, const struct us_ip6 *a)
{
	for (int i = 0; i < v->n; i++)
		if (!memcmp(&v->a[i].addr, a, sizeof *a))
			return &v->a[i];
	return NULL;
}

/* Prints each address that appeared, changed state or went away. */
static void report_changes(const struct addr_view *old, const struct addr_view *cur)
{
	char txt[INET6_ADDRSTRLEN];
	for (int i = 0; i < cur->n; i++) {
		const struct us_addr6_info *a = &cur->a[i];
		const struct us_addr6_info *was = find_addr(old, &a->addr);
		if (was && was->state == a->state)
			continue;
		us_cli_format_ip6(&a->addr, txt, sizeof txt);
		printf("ipv6 %s/%d%s: %s%s\n", txt, a->prefix_len, a->autoconf ? " (SLAAC)" : "",
		       us_cli_addr6_state_name(a->state),
		       a->state == US_ADDR6_PREFERRED && was && was->state == US_ADDR6_TENTATIVE
			       ? " (duplicate address detection done)"
			       : "");
	}
	for (int i = 0; i < old->n; i++) {
		if (find_addr(cur, &old->a[i].addr))
			continue;
		us_cli_format_ip6(&old->a[i].addr, txt, sizeof txt);
		printf("ipv6 %s/%d: removed\n", txt, old->a[i].prefix_len);
	}
	fflush(stdout);
}

static void print_banner(const struct us_cli_link *l, const struct addr_view *v, uint32_t offloads)
{
	const struct us_runtime_config *cfg = &l->cfg;
	char mac[18], a4[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	char ll[INET6_ADDRSTRLEN] = "";
	us_cli_format_mac(v->mac, mac);
	us_cli_format_ip4(cfg->ipv4, a4, sizeof a4);
	us_cli_format_ip4(cfg->ipv4_gateway, gw, sizeof gw);
	us_cli_format_ip6(&cfg->ipv6, a6, sizeof a6);
	for (int i = 0; i < v->n; i++)
		if (us_cli_ip6_is_link_local(&v->a[i].addr))
			us_cli_format_ip6(&v->a[i].addr, ll, sizeof ll);

	printf("ustack is up on %s: mac %s", cfg->tap_name, mac);
	if (l->has_ipv4)
		printf(", %s/%d", a4, cfg->ipv4_prefix);
	if (cfg->ipv4_gateway)
		printf(" (gateway %s)", gw);
	if (cfg->has_ipv6)
		printf(", %s/%d", a6, cfg->ipv6_prefix);
	if (*ll)
		printf(", %s/64", ll);
	if (cfg->pcap_path)
		printf(", capture in %s", cfg->pcap_path);
	if (cfg->offloads)
		printf(", offloads%s%s%s", offloads & US_OFFLOAD_CSUM ? " csum" : " none",
		       offloads & US_OFFLOAD_TSO4 ? " tso4" : "",
		       offloads & US_OFFLOAD_TSO6 ? " tso6" : "");
	if (cfg->busy_poll_us)
		printf(", busy polling %u us", cfg->busy_poll_us);
	printf("\n");

	printf("from the kernel side of %s:", cfg->tap_name);
	if (l->has_ipv4)
		printf(" ping %s /", a4);
	if (cfg->has_ipv6)
		printf(" ping -6 %s (once DAD is done, about a second)", a6);
	else
		printf(" ping -6 %s%%%s; a global address comes from a Router Advertisement "
		       "(SLAAC)", ll, cfg->tap_name);
	printf("\n");
	fflush(stdout);
}

/* "demo.pcap" -> "demo.transitions", "x" -> "x.transitions". */
static char *transitions_beside(const char *pcap)
{
	size_t n = strlen(pcap);
	const char *dot = strrchr(pcap, '.');
	const char *slash = strrchr(pcap, '/');
	if (dot && (!slash || dot > slash + 1))
		n = (size_t)(dot - pcap);
	char *out = malloc(n + sizeof ".transitions");
	if (out) {
		memcpy(out, pcap, n);
		strcpy(out + n, ".transitions");
	}
	return out;
}

int main(int argc, char **argv)
{
	enum {
		OPT_DURATION = 0x200,
		OPT_NO_UDP_ECHO,
		OPT_NO_TCP,
		OPT_HTTP_ROOT,
		OPT_HTTP_PORT,
		OPT_PCAP_MAX,
		OPT_PCAP_FILES,
		OPT_TRANSITIONS,
		OPT_SHOW_TRANSITIONS,
		OPT_STAT_SOCKET,
		OPT_SERVICES,
		OPT_ECN,
	};
	static const struct option opts[] = {
		US_CLI_LINK_OPTIONS,
		US_CLI_NAME_OPTIONS,
		{ "duration", required_argument, 0, OPT_DURATION },
		{ "no-udp-echo", no_argument, 0, OPT_NO_UDP_ECHO },
		{ "no-tcp", no_argument, 0, OPT_NO_TCP },
		{ "http-root", required_argument, 0, OPT_HTTP_ROOT },
		{ "http-port", required_argument, 0, OPT_HTTP_PORT },
		{ "pcap-max", required_argument, 0, OPT_PCAP_MAX },
		{ "pcap-files", required_argument, 0, OPT_PCAP_FILES },
		{ "transitions", required_argument, 0, OPT_TRANSITIONS },
		{ "show-transitions", no_argument, 0, OPT_SHOW_TRANSITIONS },
		{ "stat-socket", required_argument, 0, OPT_STAT_SOCKET },
		{ "services", required_argument, 0, OPT_SERVICES },
		{ "ecn", no_argument, 0, OPT_ECN },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	static struct us_cli_link l; /* large (the hosts table); cfg.hosts points into it */
	us_cli_link_defaults(&l, US_CLI_LOG_INFO);
	double duration = -1;
	struct services sv = { true, true, true, true, true };
	const char *http_root = NULL;
	long http_port = 80;
	uint64_t pcap_max = 0;
	long pcap_files = 10;
	const char *transitions = NULL;
	bool show_transitions = false;
	bool ecn = false;
	char stat_default[64];
	if (geteuid() == 0)
		snprintf(stat_default, sizeof stat_default, US_DEMO_STAT_SOCKET_ROOT);
	else
		snprintf(stat_default, sizeof stat_default, US_DEMO_STAT_SOCKET_USER,
			 (unsigned)geteuid());
	const char *stat_socket = stat_default;

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		const char *err = NULL;
		switch (c) {
		case OPT_DURATION:
			if (us_cli_seconds(optarg, 0.001, 1e9, &duration))
				err = "duration must be a positive number of seconds";
			break;
		case OPT_NO_UDP_ECHO:
			sv.udp_echo = false;
			break;
		case OPT_NO_TCP:
			sv.echo = sv.discard = sv.chargen = sv.http = false;
			break;
		case OPT_ECN:
			ecn = true;
			break;
		case OPT_HTTP_ROOT:
			http_root = optarg;
			break;
		case OPT_HTTP_PORT:
			if (us_cli_long(optarg, 1, 65535, &http_port))
				err = "HTTP port must be 1..65535";
			break;
		case OPT_PCAP_MAX:
			if (us_cli_size(optarg, 1000, UINT64_C(1) << 40, &pcap_max))
				err = "--pcap-max must be a size from 1k to 1099G (N, Nk, NM or NG)";
			break;
		case OPT_PCAP_FILES:
			if (us_cli_long(optarg, 1, 100000, &pcap_files))
				err = "--pcap-files must be 1..100000";
			break;
		case OPT_TRANSITIONS:
			transitions = optarg;
			break;
		case OPT_SHOW_TRANSITIONS:
			show_transitions = true;
			break;
		case OPT_STAT_SOCKET:
			stat_socket = optarg;
			break;
		case OPT_SERVICES:
			if (!parse_services(optarg, &sv))
				err = "services are a comma list of udp-echo, echo, discard, chargen, "
				      "http, all";
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case ':':
			die_usage("option needs an argument", argv[optind - 1]);
			break;
		case '?':
			die_usage("unknown option", argv[optind - 1]);
			break;
		default:
			if (!us_cli_link_option(&l, c, optarg, &err))
				die_usage("unknown option", argv[optind - 1]);
		}
		if (err)
			die_usage(err, optarg);
	}
	if (optind < argc)
		die_usage("unexpected argument", argv[optind]);
	const char *err = us_cli_link_check(&l);
	if (err)
		die_usage(err, NULL);
	struct stat root_st;
	if (http_root && (stat(http_root, &root_st) < 0 || !S_ISDIR(root_st.st_mode)))
		die_usage("--http-root is not a directory", http_root);
	if (strlen(stat_socket) >= 100)
		die_usage("--stat-socket path too long (at most 99 bytes)", stat_socket);
	/* The capture is ours (with rotation), not the runtime's. */
	const char *pcap = l.cfg.pcap_path;
	l.cfg.pcap_path = NULL;
	if ((pcap_max || pcap_files != 10) && !pcap)
		die_usage("--pcap-max and --pcap-files need --pcap", NULL);
	char *transitions_path = NULL;
	if (!transitions && pcap)
		transitions_path = transitions_beside(pcap);
	else if (transitions && strcmp(transitions, "none"))
		transitions_path = strdup(transitions);
	struct us_demo_translog *tl = NULL;
	if (transitions_path || show_transitions) {
		tl = us_demo_translog_open(transitions_path, show_transitions);
		if (!tl) {
			fprintf(stderr, "ustack-demo: cannot write the transition log %s: %s\n",
				transitions_path, strerror(errno));
			return 1;
		}
	}
	struct trace_ctx tctx = { .l = &l, .tl = tl, .show_transitions = show_transitions };
	l.cfg.stack.trace = trace;
	l.cfg.stack.trace_ctx = &tctx;
	l.cfg.stack.tcp_ecn = ecn;

	/* Block the stop signals in every thread; this one waits for them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	int rc;
	if (pcap) {
		/* Open the device here, as the runtime would, and put the
		 * capture between it and the stack. */
		struct us_tap_options topt = { .bring_up = true, .vnet_hdr = l.cfg.offloads };
		rc = us_tap_open(&l.cfg.driver, l.cfg.tap_name, &topt);
		if (rc < 0) {
			fprintf(stderr, "ustack-demo: cannot start on %s: %s\n", l.cfg.tap_name,
				strerror(-rc));
			return 1;
		}
		rc = us_demo_capture_wrap(&l.cfg.driver, pcap, pcap_max, (unsigned)pcap_files);
		if (rc < 0) {
			fprintf(stderr, "ustack-demo: cannot write the capture %s: %s\n", pcap,
				strerror(-rc));
			l.cfg.driver.ops->close(l.cfg.driver.ctx);
			return 1;
		}
	}
	struct us_runtime *rt = us_runtime_start(&l.cfg, &rc);
	if (!rt) {
		fprintf(stderr, "ustack-demo: cannot start on %s: %s\n", l.cfg.tap_name, strerror(-rc));
		return 1;
	}
	us_demo_translog_attach(tl, rt);
	l.cfg.pcap_path = pcap; /* for the banner */
	struct addr_view seen = { .ifindex = us_runtime_ifindex(rt) }, now_view = seen;
	us_runtime_with_core(rt, read_addrs, &seen);
	print_banner(&l, &seen, us_runtime_offloads(rt));
	struct addr_view none = { .n = 0 };
	report_changes(&none, &seen);
	if (pcap && pcap_max)
		printf("capture rotates at %llu bytes, at most %ld files (%s, %s.1, ...)\n",
		       (unsigned long long)pcap_max, pcap_files, pcap, pcap);
	if (transitions_path)
		printf("transition log in %s\n", transitions_path);

	struct echo echo4 = { .sock = -1 }, echo6 = { .sock = -1 };
	if (sv.udp_echo) {
		bool ok4 = echo_start(rt, &echo4, US_AF_INET);
		bool ok6 = echo_start(rt, &echo6, US_AF_INET6);
		printf("udp echo (RFC 862) on port %d:%s%s\n", ECHO_PORT, ok4 ? " IPv4" : "",
		       ok6 ? " IPv6" : "");
		fflush(stdout);
	}
	struct us_demo_tcp *tcp_services = NULL;
	if (sv.echo || sv.discard || sv.chargen || sv.http) {
		struct us_demo_tcp_config tc = {
			.rt = rt,
			.ipv4 = l.has_ipv4,
			.ipv6 = true, /* the link-local and SLAAC addresses at least */
			.http_port = sv.http ? (uint16_t)http_port : 0,
			.http_root = http_root,
			.no_echo = !sv.echo,
			.no_discard = !sv.discard,
			.no_chargen = !sv.chargen,
		};
		tcp_services = us_demo_tcp_start(&tc);
		if (!tcp_services && http_root) {
			/* A wrong --http-root is a usage error: stop now. */
			us_runtime_stop(rt);
			echo_finish(&echo4);
			echo_finish(&echo6);
			us_demo_translog_close(tl);
			free(transitions_path);
			return 1;
		}
	}
	struct us_demo_statsrv *statsrv = NULL;
	if (strcmp(stat_socket, "none")) {
		statsrv = us_demo_statsrv_start(rt, tl, stat_socket, &rc);
		if (statsrv)
			printf("live view: ustack-stat --socket %s (sockets, counters, --follow)\n",
			       stat_socket);
		else
			/* Not fatal: another demo may hold the default socket. */
			fprintf(stderr, "ustack-demo: no live view on %s: %s\n", stat_socket,
				rc == -EADDRINUSE ? "another ustack-demo serves there" : strerror(-rc));
		fflush(stdout);
	}

	/* Wait for a stop signal, looking at the addresses ten times a second
	 * to report DAD and SLAAC as they happen. */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int sig = 0;
	for (;;) {
		struct timespec tick = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
		if (duration > 0) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			double left = duration - ((double)(t.tv_sec - start.tv_sec) +
						  (double)(t.tv_nsec - start.tv_nsec) / 1e9);
			if (left <= 0)
				break;
			if (left < 0.1)
				tick.tv_nsec = (long)(left * 1e9);
		}
		sig = sigtimedwait(&stop, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			break;
		us_runtime_with_core(rt, read_addrs, &now_view);
		report_changes(&seen, &now_view);
		seen = now_view;
	}
	if (sig == SIGINT || sig == SIGTERM)
		printf("ustack-demo: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	printf("ustack counters:\n");
	us_runtime_with_core(rt, print_counters, NULL);
	us_demo_statsrv_stop(statsrv);
	us_runtime_stop(rt); /* closes the capture too */
	echo_finish(&echo4);
	echo_finish(&echo6);
	us_demo_tcp_finish(tcp_services);
	us_demo_translog_close(tl);
	if (pcap)
		printf("capture: %s\n", pcap);
	if (transitions_path)
		printf("transition log: %s\n", transitions_path);
	free(transitions_path);
	printf("ustack stopped\n");
	return 0;
}

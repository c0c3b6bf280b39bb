/* SPDX-License-Identifier: MIT */
/*
 * ustack-demo - brings ustack up on a TAP device and serves until stopped.
 *
 *   ustack-demo [--tap NAME] [--ip4 ADDR/LEN] [--ip6 ADDR/LEN] [--mac MAC]
 *               [--mtu N] [--pcap FILE] [--log LEVEL] [--duration SECONDS]
 *
 * It attaches to the TAP device NAME (made beforehand with
 * `ip tuntap add NAME mode tap`) or creates it when there is none, writes
 * every frame in and out to FILE, and stops cleanly on SIGINT or SIGTERM,
 * printing the stack's counters. tools/demo.sh runs it inside a network
 * namespace of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/ustack.h>

static const char usage[] =
	"usage: ustack-demo [--tap NAME] [--ip4 ADDR/LEN] [--ip6 ADDR/LEN] [--mac MAC]\n"
	"                   [--mtu N] [--pcap FILE] [--log quiet|info|drop|debug]\n"
	"                   [--duration SECONDS]\n"
	"\n"
	"Brings ustack up on a TAP device (created when missing) and serves until\n"
	"SIGINT/SIGTERM or the duration ends. Defaults: --tap tap0\n"
	"--ip4 198.51.100.2/24 --ip6 2001:db8:1::2/64 (kernel side: 198.51.100.1,\n"
	"2001:db8:1::1), MAC random and locally administered, MTU the device's.\n";

static int log_level = US_TRACE_INFO; /* show kinds <= this, in the order quiet<info<drop<debug */

static int trace_rank(enum us_trace_kind k)
{
	switch (k) {
	case US_TRACE_INFO:
	case US_TRACE_STATE:
		return 1;
	case US_TRACE_DROP:
		return 2;
	case US_TRACE_DEBUG:
		return 3;
	}
	return 3;
}

static void trace(void *ctx, const struct us_trace_event *ev)
{
	(void)ctx;
	if (trace_rank(ev->kind) <= log_level)
		fprintf(stderr, "[%10.6f] %s\n", (double)ev->now / 1e6, ev->msg);
}

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ustack-demo: %s%s%s\n\n%s", msg, arg ? ": " : "", arg ? arg : "", usage);
	exit(2);
}

/* "ADDR/LEN" for one family; LEN defaults to the host route when missing. */
static void parse_prefix(const char *arg, int af, void *addr, int *len)
{
	char buf[80];
	if (strlen(arg) >= sizeof buf)
		die_usage("address too long", arg);
	strcpy(buf, arg);
	char *slash = strchr(buf, '/');
	int max = af == AF_INET ? 32 : 128;
	*len = max;
	if (slash) {
		*slash = '\0';
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || v < 0 || v > max)
			die_usage("bad prefix length", arg);
		*len = (int)v;
	}
	if (inet_pton(af, buf, addr) != 1)
		die_usage(af == AF_INET ? "bad IPv4 address" : "bad IPv6 address", arg);
}

static void print_counter(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	(void)arg;
	struct us_counter c[256];
	size_t n = us_stack_counters(s, c, 256);
	for (size_t i = 0; i < n && i < 256; i++)
		if (c[i].value)
			printf("  %-32s %llu\n", c[i].name, (unsigned long long)c[i].value);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tap", required_argument, 0, 't' },  { "ip4", required_argument, 0, '4' },
		{ "ip6", required_argument, 0, '6' },  { "mac", required_argument, 0, 'm' },
		{ "mtu", required_argument, 0, 'M' },  { "pcap", required_argument, 0, 'p' },
		{ "log", required_argument, 0, 'l' },  { "duration", required_argument, 0, 'd' },
		{ "help", no_argument, 0, 'h' },       { 0, 0, 0, 0 },
	};
	struct us_runtime_config cfg = { .tap_name = "tap0" };
	struct in_addr a4;
	parse_prefix("198.51.100.2/24", AF_INET, &a4, &cfg.ipv4_prefix);
	cfg.ipv4 = ntohl(a4.s_addr);
	parse_prefix("2001:db8:1::2/64", AF_INET6, cfg.ipv6.b, &cfg.ipv6_prefix);
	cfg.has_ipv6 = true;
	double duration = -1;

	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (strlen(optarg) >= 16 || !*optarg)
				die_usage("interface name must be 1 to 15 characters", optarg);
			cfg.tap_name = optarg;
			break;
		case '4':
			parse_prefix(optarg, AF_INET, &a4, &cfg.ipv4_prefix);
			cfg.ipv4 = ntohl(a4.s_addr);
			break;
		case '6':
			parse_prefix(optarg, AF_INET6, cfg.ipv6.b, &cfg.ipv6_prefix);
			break;
		case 'm': {
			unsigned m[6];
			char extra;
			if (sscanf(optarg, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
				   &extra) != 6)
				die_usage("bad MAC address", optarg);
			for (int i = 0; i < 6; i++) {
				if (m[i] > 255)
					die_usage("bad MAC address", optarg);
				cfg.mac[i] = (uint8_t)m[i];
			}
			if (cfg.mac[0] & 1)
				die_usage("MAC address must be unicast", optarg);
			break;
		}
		case 'M': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1280 || v > 65535)
				die_usage("MTU must be 1280..65535", optarg);
			cfg.mtu = (uint32_t)v;
			break;
		}
		case 'p':
			cfg.pcap_path = optarg;
			break;
		case 'l':
			if (!strcmp(optarg, "quiet"))
				log_level = 0;
			else if (!strcmp(optarg, "info"))
				log_level = 1;
			else if (!strcmp(optarg, "drop"))
				log_level = 2;
			else if (!strcmp(optarg, "debug"))
				log_level = 3;
			else
				die_usage("log level is one of quiet, info, drop, debug", optarg);
			break;
		case 'd': {
			char *end;
			duration = strtod(optarg, &end);
			if (*end || !(duration > 0) || duration > 1e9)
				die_usage("duration must be a positive number of seconds", optarg);
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			die_usage("unknown option", NULL);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument", argv[optind]);

	cfg.stack.trace = trace;

	/* Block the stop signals in every thread; this one waits for them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	int err;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	if (!rt) {
		fprintf(stderr, "ustack-demo: cannot start on %s: %s\n", cfg.tap_name, strerror(-err));
		return 1;
	}
	char a4s[INET_ADDRSTRLEN], a6s[INET6_ADDRSTRLEN];
	a4.s_addr = htonl(cfg.ipv4);
	inet_ntop(AF_INET, &a4, a4s, sizeof a4s);
	inet_ntop(AF_INET6, cfg.ipv6.b, a6s, sizeof a6s);
	printf("ustack is up on %s: %s/%d and %s/%d%s%s\n", cfg.tap_name, a4s, cfg.ipv4_prefix, a6s,
	       cfg.ipv6_prefix, cfg.pcap_path ? ", capture in " : "", cfg.pcap_path ? cfg.pcap_path : "");
	fflush(stdout);

	int sig;
	if (duration > 0) {
		struct timespec ts = { .tv_sec = (time_t)duration,
				       .tv_nsec = (long)((duration - (double)(time_t)duration) * 1e9) };
		sig = sigtimedwait(&stop, NULL, &ts);
	} else {
		sig = sigwaitinfo(&stop, NULL);
	}
	(void)sig;
	printf("ustack counters:\n");
	us_runtime_with_core(rt, print_counter, NULL);
	us_runtime_stop(rt);
	printf("ustack stopped\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * tools/cli.c - command-line helpers shared by the tools: parsing the link
 * and resolver flags into a struct us_runtime_config, printing the core's
 * trace messages, waiting for the link and for IPv6 DAD. No RFC here. Read
 * tools/cli.h first.
 */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void us_cli_link_defaults(struct us_cli_link *l, enum us_cli_log log)
{
	memset(l, 0, sizeof *l);
	l->cfg.tap_name = US_CLI_DEFAULT_TAP;
	l->log = log;
	/* The defaults are literals that parse. */
	if (us_cli_ip4(l, US_CLI_DEFAULT_IP4) || us_cli_ip6(l, US_CLI_DEFAULT_IP6))
		abort();
}

/* "ADDR/LEN" for one family; LEN defaults to the host route when missing. */
static const char *parse_prefix(const char *arg, int af, void *addr, int *len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(arg) >= sizeof buf)
		return "address too long";
	strcpy(buf, arg);
	char *slash = strchr(buf, '/');
	int max = af == AF_INET ? 32 : 128;
	*len = max;
	if (slash) {
		*slash = '\0';
		char *end;
		errno = 0;
		long v = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || v < 0 || v > max)
			return "bad prefix length";
		*len = (int)v;
	}
	if (inet_pton(af, buf, addr) != 1)
		return af == AF_INET ? "bad IPv4 address" : "bad IPv6 address";
	return NULL;
}

const char *us_cli_tap(struct us_cli_link *l, const char *arg)
{
	if (!*arg || strlen(arg) >= 16)
		return "interface name must be 1 to 15 characters";
	l->cfg.tap_name = arg;
	return NULL;
}

const char *us_cli_ip4(struct us_cli_link *l, const char *arg)
{
	if (!strcmp(arg, "none")) {
		l->has_ipv4 = false;
		l->cfg.ipv4 = 0;
		return NULL;
	}
	struct in_addr a;
	int len;
	const char *err = parse_prefix(arg, AF_INET, &a, &len);
	if (err)
		return err;
	if (a.s_addr == 0)
		return "0.0.0.0 is not an address for the stack";
	l->cfg.ipv4 = ntohl(a.s_addr);
	l->cfg.ipv4_prefix = len;
	l->has_ipv4 = true;
	return NULL;
}

const char *us_cli_ip6(struct us_cli_link *l, const char *arg)
{
	if (!strcmp(arg, "none") || !strcmp(arg, "slaac")) {
		l->cfg.has_ipv6 = false;
		return NULL;
	}
	struct us_ip6 a;
	int len;
	const char *err = parse_prefix(arg, AF_INET6, a.b, &len);
	if (err)
		return err;
	l->cfg.ipv6 = a;
	l->cfg.ipv6_prefix = len;
	l->cfg.has_ipv6 = true;
	return NULL;
}

const char *us_cli_gw4(struct us_cli_link *l, const char *arg)
{
	struct in_addr a;
	if (inet_pton(AF_INET, arg, &a) != 1)
		return "bad IPv4 gateway address";
	if (a.s_addr == 0)
		return "0.0.0.0 is not a gateway";
	l->cfg.ipv4_gateway = ntohl(a.s_addr);
	return NULL;
}

const char *us_cli_mac(struct us_cli_link *l, const char *arg)
{
	unsigned m[US_ETH_ALEN];
	char extra;
	if (sscanf(arg, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &extra) !=
	    US_ETH_ALEN)
		return "bad MAC address";
	uint8_t mac[US_ETH_ALEN];
	for (int i = 0; i < US_ETH_ALEN; i++) {
		if (m[i] > 255)
			return "bad MAC address";
		mac[i] = (uint8_t)m[i];
	}
	if (mac[0] & 1)
		return "MAC address must be unicast";
	static const uint8_t zero[US_ETH_ALEN];
	if (!memcmp(mac, zero, US_ETH_ALEN))
		return "MAC address must not be all zero";
	memcpy(l->cfg.mac, mac, US_ETH_ALEN);
	return NULL;
}

const char *us_cli_mtu(struct us_cli_link *l, const char *arg)
{
	long v;
	if (us_cli_long(arg, 1280, 65535, &v))
		return "MTU must be 1280..65535";
	l->cfg.mtu = (uint32_t)v;
	return NULL;
}

const char *us_cli_busy_poll(struct us_cli_link *l, const char *arg)
{
	long v;
	if (us_cli_long(arg, 0, 1000000, &v))
		return "busy-poll microseconds must be 0..1000000";
	l->cfg.busy_poll_us = (uint32_t)v;
	return NULL;
}

const char *us_cli_log_level(struct us_cli_link *l, const char *arg)
{
	static const char *const names[] = { "quiet", "info", "drop", "debug" };
	for (int i = 0; i < 4; i++) {
		if (!strcmp(arg, names[i])) {
			l->log = (enum us_cli_log)i;
			return NULL;
		}
	}
	return "log level is one of quiet, info, drop, debug";
}

const char *us_cli_dns(struct us_cli_link *l, const char *arg)
{
	struct us_addr a;
	if (us_addr_parse(arg, 53, &a) < 0)
		return "name server must be a numeric IPv4 or IPv6 address";
	l->cfg.dns_server = a;
	return NULL;
}

const char *us_cli_host(struct us_cli_link *l, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return "host entry must be NAME=ADDR";
	size_t len = (size_t)(eq - arg);
	if (len >= US_CLI_HOST_NAME_MAX)
		return "host name too long";
	if (l->cfg.n_hosts >= US_CLI_MAX_HOSTS)
		return "too many --host entries";
	size_t i = l->cfg.n_hosts;
	if (us_addr_parse(eq + 1, 0, &l->host_tab[i].addr) < 0)
		return "host address must be a numeric IPv4 or IPv6 address";
	memcpy(l->host_names[i], arg, len);
	l->host_names[i][len] = '\0';
	l->host_tab[i].name = l->host_names[i];
	l->cfg.hosts = l->host_tab;
	l->cfg.n_hosts = i + 1;
	return NULL;
}

const char *us_cli_link_check(const struct us_cli_link *l)
{
	if (l->cfg.ipv4_gateway && !l->has_ipv4)
		return "--gw4 needs an IPv4 address (--ip4)";
	return NULL;
}

static enum us_cli_log trace_rank(enum us_trace_kind k)
{
	switch (k) {
	case US_TRACE_INFO:
	case US_TRACE_STATE:
		return US_CLI_LOG_INFO;
	case US_TRACE_DROP:
		return US_CLI_LOG_DROP;
	case US_TRACE_DEBUG:
		return US_CLI_LOG_DEBUG;
	}
	return US_CLI_LOG_DEBUG;
}

void us_cli_trace_print(const struct us_cli_link *l, const struct us_trace_event *ev)
{
	if (trace_rank(ev->kind) <= l->log)
		fprintf(stderr, "[%10.6f] %s\n", (double)ev->now / 1e6, ev->msg);
}

/* Runs on the stack thread with the core lock held: prints and returns. */
static void trace(void *ctx, const struct us_trace_event *ev)
{
	us_cli_trace_print(ctx, ev);
}

void us_cli_link_trace(struct us_cli_link *l)
{
	l->cfg.stack.trace = trace;
	l->cfg.stack.trace_ctx = l;
}

static void sleep_ms(int ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

#define WAIT_STEP_MS 10

bool us_cli_wait_link_running(const char *tap_name, int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", tap_name);
	bool running = false;
	for (int waited = 0; waited <= timeout_ms; waited += WAIT_STEP_MS) {
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
			break;
		if (ifr.ifr_flags & IFF_RUNNING) {
			running = true;
			break;
		}
		sleep_ms(WAIT_STEP_MS);
	}
	close(fd);
	return running;
}

struct dad_query {
	int ifindex;
	struct us_ip6 want;
	int state; /* -1: not found, else enum us_addr6_state */
};

#define DAD_MAX_ADDRS 16

static void read_dad_state(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	struct dad_query *q = arg;
	struct us_addr6_info a[DAD_MAX_ADDRS];
	int n = us_stack_ipv6_addrs(s, q->ifindex, a, DAD_MAX_ADDRS);
	q->state = -1;
	for (int i = 0; i < n && i < DAD_MAX_ADDRS; i++)
		if (!memcmp(&a[i].addr, &q->want, sizeof q->want))
			q->state = (int)a[i].state;
}

int us_cli_wait_ipv6_dad(struct us_runtime *rt, const struct us_cli_link *l, int timeout_ms)
{
	if (!l->cfg.has_ipv6)
		return 0;
	struct dad_query q = { .ifindex = us_runtime_ifindex(rt), .want = l->cfg.ipv6 };
	for (int waited = 0; waited <= timeout_ms; waited += WAIT_STEP_MS) {
		us_runtime_with_core(rt, read_dad_state, &q);
		if (q.state == US_ADDR6_PREFERRED || q.state == US_ADDR6_DEPRECATED)
			return 0;
		if (q.state == US_ADDR6_DUPLICATE)
			return -2;
		sleep_ms(WAIT_STEP_MS);
	}
	return -1;
}

const char *us_cli_seconds(const char *arg, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= min) || !(v <= max))
		return "not a number of seconds in range";
	*out = v;
	return NULL;
}

const char *us_cli_size(const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*arg == '-')
		return "not a size in range";
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg)
		return "not a size in range";
	uint64_t mult = 1;
	if (*end) {
		switch (*end) {
		case 'k':
		case 'K':
			mult = 1000;
			break;
		case 'M':
			mult = 1000 * 1000;
			break;
		case 'G':
			mult = 1000 * 1000 * 1000;
			break;
		default:
			return "not a size (N, Nk, NM or NG)";
		}
		if (end[1])
			return "not a size (N, Nk, NM or NG)";
	}
	if (v > max / mult || v * mult < min || v * mult > max)
		return "not a size in range";
	*out = v * mult;
	return NULL;
}

const char *us_cli_long(const char *arg, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return "not an integer in range";
	*out = v;
	return NULL;
}

void us_cli_format_mac(const uint8_t mac[US_ETH_ALEN], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

void us_cli_format_ip4(uint32_t addr, char *out, size_t cap)
{
	struct in_addr a = { .s_addr = htonl(addr) };
	if (!inet_ntop(AF_INET, &a, out, (socklen_t)cap) && cap)
		out[0] = '\0';
}

void us_cli_format_ip6(const struct us_ip6 *addr, char *out, size_t cap)
{
	if (!inet_ntop(AF_INET6, addr->b, out, (socklen_t)cap) && cap)
		out[0] = '\0';
}

const char *us_cli_addr6_state_name(enum us_addr6_state st)
{
	switch (st) {
	case US_ADDR6_TENTATIVE:
		return "TENTATIVE";
	case US_ADDR6_PREFERRED:
		return "PREFERRED";
	case US_ADDR6_DEPRECATED:
		return "DEPRECATED";
	case US_ADDR6_DUPLICATE:
		return "DUPLICATE";
	}
	return "?";
}

bool us_cli_ip6_is_link_local(const struct us_ip6 *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

bool us_cli_link_option(struct us_cli_link *l, int opt, const char *arg, const char **err)
{
	*err = NULL;
	switch ((enum us_cli_opt)opt) {
	case US_CLI_OPT_TAP:
		*err = us_cli_tap(l, arg);
		return true;
	case US_CLI_OPT_IP4:
		*err = us_cli_ip4(l, arg);
		return true;
	case US_CLI_OPT_IP6:
		*err = us_cli_ip6(l, arg);
		return true;
	case US_CLI_OPT_GW4:
		*err = us_cli_gw4(l, arg);
		return true;
	case US_CLI_OPT_MAC:
		*err = us_cli_mac(l, arg);
		return true;
	case US_CLI_OPT_MTU:
		*err = us_cli_mtu(l, arg);
		return true;
	case US_CLI_OPT_PCAP:
		l->cfg.pcap_path = arg;
		return true;
	case US_CLI_OPT_OFFLOAD:
		/* TAP offloads: virtio-net header, TSO, checksum offload. */
		l->cfg.offloads = true;
		return true;
	case US_CLI_OPT_BUSY_POLL:
		*err = us_cli_busy_poll(l, arg);
		return true;
	case US_CLI_OPT_LOG:
		*err = us_cli_log_level(l, arg);
		return true;
	case US_CLI_OPT_DNS:
		*err = us_cli_dns(l, arg);
		return true;
	case US_CLI_OPT_HOST:
		*err = us_cli_host(l, arg);
		return true;
	}
	return false;
}

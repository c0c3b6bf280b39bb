/* SPDX-License-Identifier: MIT */
/*
 * tools/cli.h - command-line helpers shared by ustack-demo, ustack-ping and
 * ustack-lookup: the flags that bring a runtime up on a TAP device (--tap,
 * --ip4, --ip6, --gw4, --mac, --mtu, --pcap, --log, --offload, --busy-poll) and name resolution
 * (--dns, --host), parsed the same way in every tool, the trace hook that
 * prints the core's messages to stderr, and waits for the link and for
 * IPv6 duplicate address detection.
 *
 * No RFC here. Read include/ustack/ustack.h (struct us_runtime_config) first.
 */
#ifndef USTACK_TOOLS_CLI_H
#define USTACK_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <ustack/ustack.h>

/* The defaults of issue 3: stack .2 and ::2, kernel side .1 and ::1. */
#define US_CLI_DEFAULT_TAP "tap0"
#define US_CLI_DEFAULT_IP4 "198.51.100.2/24"
#define US_CLI_DEFAULT_IP6 "2001:db8:1::2/64"

/* Trace levels, in the order quiet < info < drop < debug. */
enum us_cli_log {
	US_CLI_LOG_QUIET = 0,
	US_CLI_LOG_INFO = 1,
	US_CLI_LOG_DROP = 2,
	US_CLI_LOG_DEBUG = 3,
};

/*
 * The link flags both tools take. Each us_cli_* parser returns NULL on
 * success or a short message saying what is wrong with arg (the caller
 * prints it with its usage and exits 2).
 */
#define US_CLI_MAX_HOSTS 16
#define US_CLI_HOST_NAME_MAX 256

struct us_cli_link {
	struct us_runtime_config cfg; /* tap_name, mac, mtu, addresses, gateway, pcap,
				       * dns_server, hosts (pointing into host_tab) */
	bool has_ipv4;                /* false after --ip4 none */
	enum us_cli_log log;          /* --log, for us_cli_trace */
	/* --host entries; cfg.hosts points here, so a us_cli_link is not copied. */
	struct us_host_entry host_tab[US_CLI_MAX_HOSTS];
	char host_names[US_CLI_MAX_HOSTS][US_CLI_HOST_NAME_MAX];
};

/* Fills l with the defaults (tap0, 198.51.100.2/24, 2001:db8:1::2/64, random
 * MAC, the device's MTU, no gateway, no capture) and the given log level. */
void us_cli_link_defaults(struct us_cli_link *l, enum us_cli_log log);

/* --tap NAME: 1 to 15 characters. */
const char *us_cli_tap(struct us_cli_link *l, const char *arg);
/* --ip4 ADDR/LEN or "none"; LEN defaults to 32. */
const char *us_cli_ip4(struct us_cli_link *l, const char *arg);
/* --ip6 ADDR/LEN, or "none" or "slaac" (the same: only the link-local
 * address, plus what SLAAC makes from Router Advertisements); LEN defaults
 * to 128. */
const char *us_cli_ip6(struct us_cli_link *l, const char *arg);
/* --gw4 ADDR: default route through ADDR. */
const char *us_cli_gw4(struct us_cli_link *l, const char *arg);
/* --mac aa:bb:cc:dd:ee:ff, unicast. */
const char *us_cli_mac(struct us_cli_link *l, const char *arg);
/* --mtu N, 1280..65535. */
const char *us_cli_mtu(struct us_cli_link *l, const char *arg);
/* --busy-poll US: us_runtime_config.busy_poll_us, 0..1000000. */
const char *us_cli_busy_poll(struct us_cli_link *l, const char *arg);
/* --log quiet|info|drop|debug. */
const char *us_cli_log_level(struct us_cli_link *l, const char *arg);
/* --dns ADDR: the name server for us_getaddrinfo(), a numeric IPv4 or IPv6
 * address, port 53. */
const char *us_cli_dns(struct us_cli_link *l, const char *arg);
/* --host NAME=ADDR: one more hosts-table entry (at most US_CLI_MAX_HOSTS). */
const char *us_cli_host(struct us_cli_link *l, const char *arg);
/* Checks the combination (a gateway needs an IPv4 address). */
const char *us_cli_link_check(const struct us_cli_link *l);

/* The flags every tool shares, as getopt_long entries: their val is one of
 * these codes, handled by us_cli_link_option(). */
enum us_cli_opt {
	US_CLI_OPT_TAP = 0x100,
	US_CLI_OPT_IP4,
	US_CLI_OPT_IP6,
	US_CLI_OPT_GW4,
	US_CLI_OPT_MAC,
	US_CLI_OPT_MTU,
	US_CLI_OPT_PCAP,
	US_CLI_OPT_LOG,
	US_CLI_OPT_DNS,
	US_CLI_OPT_HOST,
	US_CLI_OPT_OFFLOAD,
	US_CLI_OPT_BUSY_POLL,
};
#define US_CLI_LINK_OPTIONS                                                                        \
	{ "tap", required_argument, 0, US_CLI_OPT_TAP },                                           \
		{ "ip4", required_argument, 0, US_CLI_OPT_IP4 },                                   \
		{ "ip6", required_argument, 0, US_CLI_OPT_IP6 },                                   \
		{ "gw4", required_argument, 0, US_CLI_OPT_GW4 },                                   \
		{ "mac", required_argument, 0, US_CLI_OPT_MAC },                                   \
		{ "mtu", required_argument, 0, US_CLI_OPT_MTU },                                   \
		{ "pcap", required_argument, 0, US_CLI_OPT_PCAP },                                 \
		{ "log", required_argument, 0, US_CLI_OPT_LOG },                                   \
		{ "offload", no_argument, 0, US_CLI_OPT_OFFLOAD },                                 \
		{ "busy-poll", required_argument, 0, US_CLI_OPT_BUSY_POLL }
#define US_CLI_NAME_OPTIONS                                                                        \
	{ "dns", required_argument, 0, US_CLI_OPT_DNS },                                           \
		{ "host", required_argument, 0, US_CLI_OPT_HOST }

/* Handles one of the shared flags: true when opt is one (with *err the
 * message for a bad argument, or NULL), false when it is not. */
bool us_cli_link_option(struct us_cli_link *l, int opt, const char *arg, const char **err);

/* Installs a trace hook that calls us_cli_trace_print. */
void us_cli_link_trace(struct us_cli_link *l);
/* Prints one core trace message to stderr when its kind is within l->log
 * ("[  12.345678] msg"); for a tool with a trace hook of its own. */
void us_cli_trace_print(const struct us_cli_link *l, const struct us_trace_event *ev);

/*
 * Attaching to the TAP device turns its carrier on, but the kernel sends on
 * its side only once its link watcher has run (until then its frames, such
 * as the ARP reply to the stack's first request, are dropped). Waits until
 * the device is IFF_RUNNING, at most timeout_ms; false on timeout (or when
 * the flags cannot be read).
 */
bool us_cli_wait_link_running(const char *tap_name, int timeout_ms);
/* Waits until the configured IPv6 address (cfg.ipv6) has passed duplicate
 * address detection, at most timeout_ms of real time. 0 when usable (or
 * when there is none), -1 on timeout, -2 when DAD found it in use. */
int us_cli_wait_ipv6_dad(struct us_runtime *rt, const struct us_cli_link *l, int timeout_ms);

/* A positive number of seconds in [min, max]; NULL or a message. */
const char *us_cli_seconds(const char *arg, double min, double max, double *out);
/* A byte count "N", "Nk", "NM" or "NG" (powers of 1000, as tcpdump -C) in
 * [min, max]; NULL or a message. */
const char *us_cli_size(const char *arg, uint64_t min, uint64_t max, uint64_t *out);
/* An integer in [min, max]; NULL or a message. */
const char *us_cli_long(const char *arg, long min, long max, long *out);

/* "aa:bb:cc:dd:ee:ff" into out (18 bytes). */
void us_cli_format_mac(const uint8_t mac[US_ETH_ALEN], char out[18]);
/* The address in text (INET6_ADDRSTRLEN bytes for v6, INET_ADDRSTRLEN for v4). */
void us_cli_format_ip4(uint32_t addr, char *out, size_t cap);
void us_cli_format_ip6(const struct us_ip6 *addr, char *out, size_t cap);
/* "TENTATIVE", "PREFERRED", ... */
const char *us_cli_addr6_state_name(enum us_addr6_state st);
/* True for fe80::/10. */
bool us_cli_ip6_is_link_local(const struct us_ip6 *a);

#endif

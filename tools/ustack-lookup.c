/* SPDX-License-Identifier: MIT */
/*
 * ustack-lookup - resolves a name through ustack: brings a runtime up on a
 * TAP device and calls us_getaddrinfo(), which asks the name server given
 * with --dns over the stack's own UDP (A and AAAA queries; RFC 1035 §4.2.1)
 * after the numeric forms and the --host table.
 *
 *   ustack-lookup [--tap NAME] [--ip4 ADDR/LEN|none] [--ip6 ADDR/LEN|none]
 *                 [--gw4 ADDR] [--mac MAC] [--mtu N] [--pcap FILE]
 *                 [--log LEVEL] [--dns ADDR] [--host NAME=ADDR]... NAME [PORT]
 *
 * Prints one line per address: "FAMILY ADDRESS canonname CANON". Exit
 * status: 0 when the name has an address, 1 when not (with the
 * us_gai_strerror() text), 2 for a bad command line.
 *
 * Read tools/cli.h, include/ustack/ustack.h (us_getaddrinfo) and
 * src/api/resolve.c (the order of the lookup and its errors) first.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#include "cli.h"

static const char usage[] =
	"usage: ustack-lookup [--tap NAME] [--ip4 ADDR/LEN|none] [--ip6 ADDR/LEN|none]\n"
	"                     [--gw4 ADDR] [--mac MAC] [--mtu N] [--pcap FILE]\n"
	"                     [--log quiet|info|drop|debug] [--dns ADDR]\n"
	"                     [--host NAME=ADDR]... NAME [PORT]\n"
	"\n"
	"Brings ustack up on a TAP device (created when missing), waits for IPv6\n"
	"duplicate address detection, and resolves NAME with us_getaddrinfo():\n"
	"numeric addresses, then the --host table, then DNS (A and AAAA) to the\n"
	"--dns name server. Prints each address; exits 0 when found, 1 when not,\n"
	"2 on bad flags. Link defaults as ustack-demo (--tap tap0 --ip4\n"
	"198.51.100.2/24 --ip6 2001:db8:1::2/64), --log quiet.\n";

/* How long to wait for the kernel side of the TAP device and for DAD. */
#define LINK_TIMEOUT_MS 3000
#define DAD_TIMEOUT_MS 10000

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ustack-lookup: %s%s%s\n\n%s", msg, arg ? ": " : "", arg ? arg : "",
		usage);
	exit(2);
}

static void print_results(const struct us_addrinfo *res)
{
	for (const struct us_addrinfo *ai = res; ai; ai = ai->next) {
		char txt[US_ADDR_TEXT_MAX];
		struct us_addr bare = ai->addr;
		bare.port = 0;
		us_addr_format(&bare, txt, sizeof txt);
		printf("%s %s port %u canonname %s\n", ai->family == US_AF_INET ? "IPv4" : "IPv6",
		       txt, (unsigned)ai->addr.port, ai->canonname);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		US_CLI_LINK_OPTIONS,
		US_CLI_NAME_OPTIONS,
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	static struct us_cli_link l; /* cfg.hosts points into it */
	us_cli_link_defaults(&l, US_CLI_LOG_QUIET);

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		const char *err = NULL;
		switch (c) {
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
		die_usage("no name to look up", NULL);
	if (optind + 2 < argc)
		die_usage("unexpected argument", argv[optind + 2]);
	const char *name = argv[optind];
	long port = 0;
	if (optind + 1 < argc && us_cli_long(argv[optind + 1], 0, 65535, &port))
		die_usage("port must be 0..65535", argv[optind + 1]);
	const char *err = us_cli_link_check(&l);
	if (err)
		die_usage(err, NULL);
	us_cli_link_trace(&l);

	int rc;
	struct us_runtime *rt = us_runtime_start(&l.cfg, &rc);
	if (!rt) {
		fprintf(stderr, "ustack-lookup: cannot start on %s: %s\n", l.cfg.tap_name,
			strerror(-rc));
		return 1;
	}
	if (!us_cli_wait_link_running(l.cfg.tap_name, LINK_TIMEOUT_MS))
		fprintf(stderr, "ustack-lookup: the kernel side of %s is not running after %d ms; "
			"going on\n", l.cfg.tap_name, LINK_TIMEOUT_MS);
	/* A tentative address may not be the source of a query (RFC 4862
	 * §5.4): wait for DAD before a query goes over IPv6. */
	int dad = us_cli_wait_ipv6_dad(rt, &l, DAD_TIMEOUT_MS);
	if (dad == -2)
		fprintf(stderr, "ustack-lookup: the IPv6 address is in use by another node "
			"(duplicate address detection failed)\n");
	else if (dad < 0)
		fprintf(stderr, "ustack-lookup: duplicate address detection did not finish in "
			"%d ms; going on\n", DAD_TIMEOUT_MS);

	struct us_addrinfo *res = NULL;
	int gai = us_getaddrinfo(rt, name, (uint16_t)port, &res);
	int saved = errno;
	int status = 0;
	if (gai == 0) {
		print_results(res);
		us_freeaddrinfo(res);
	} else if (gai == US_EAI_SYSTEM) {
		fprintf(stderr, "ustack-lookup: %s: %s: %s\n", name, us_gai_strerror(gai),
			strerror(saved));
		status = 1;
	} else {
		fprintf(stderr, "ustack-lookup: %s: %s\n", name, us_gai_strerror(gai));
		status = 1;
	}
	fflush(stdout);
	us_runtime_stop(rt);
	return status;
}

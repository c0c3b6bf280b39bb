/* SPDX-License-Identifier: MIT */
/*
 * ustack-stat - the live view of a running ustack-demo: every TCP socket of
 * the stack like `ss -tan` (state by name and number, queues, MSS, cwnd,
 * ssthresh, RTT, RTO, retransmits) and the stack's counters like
 * `netstat -s`; with --follow, the transition log as it happens.
 *
 *   ustack-stat [--socket PATH] [-t] [-s] [-z] [-f] [-i SECONDS [-n COUNT]]
 *
 * It asks ustack-demo over the local UNIX socket the demo serves
 * (--stat-socket there; tools/demo_live.c says why a UNIX socket and not
 * HTTP over the stack: looking must not add connections to what is looked
 * at). The demo formats the text, so this page, ustack-stat and the HTTP
 * page /stat show the same thing.
 *
 * No RFC here. Read tools/demo_live.h first.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "demo_live.h"

static const char usage[] =
	"usage: ustack-stat [--socket PATH] [-t|--sockets] [-s|--counters] [-z|--zero]\n"
	"                   [-f|--follow] [-i|--interval SECONDS [-n|--count N]]\n"
	"Shows a running ustack-demo from inside: every TCP socket like `ss -tan`\n"
	"(-t), the counters like `netstat -s` (-s; -z with the zero ones), both by\n"
	"default; -i repeats every SECONDS (N times, default until Ctrl-C); -f\n"
	"prints every TCP state change as it happens (the transition log).\n"
	"--socket is ustack-demo's --stat-socket (default " US_DEMO_STAT_SOCKET_ROOT
	" as root,\n"
	"/tmp/ustack-demo-UID.sock otherwise).\n";

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ustack-stat: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "", usage);
	exit(2);
}

/* Sends the request and copies the answer to stdout until the demo closes;
 * 0, or 1 with a message. */
static int ask(const char *path, const char *req)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("ustack-stat: socket");
		return 1;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr,
			"ustack-stat: cannot reach ustack-demo on %s: %s (is it running, with "
			"--stat-socket %s?)\n",
			path, strerror(errno), path);
		close(fd);
		return 1;
	}
	size_t len = strlen(req);
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len || send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		fprintf(stderr, "ustack-stat: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	char buf[16384];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, 0, 'S' },
		{ "sockets", no_argument, 0, 't' },
		{ "counters", no_argument, 0, 's' },
		{ "zero", no_argument, 0, 'z' },
		{ "follow", no_argument, 0, 'f' },
		{ "interval", required_argument, 0, 'i' },
		{ "count", required_argument, 0, 'n' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	char path[108];
	if (geteuid() == 0)
		snprintf(path, sizeof path, US_DEMO_STAT_SOCKET_ROOT);
	else
		snprintf(path, sizeof path, US_DEMO_STAT_SOCKET_USER, (unsigned)geteuid());
	bool sockets = false, counters = false, zero = false, follow = false;
	double interval = 0;
	long count = -1;

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":tszfi:n:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'S':
			if (strlen(optarg) >= sizeof ((struct sockaddr_un *)0)->sun_path)
				die_usage("socket path too long", optarg);
			snprintf(path, sizeof path, "%s", optarg);
			break;
		case 't':
			sockets = true;
			break;
		case 's':
			counters = true;
			break;
		case 'z':
			zero = true;
			break;
		case 'f':
			follow = true;
			break;
		case 'i':
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(interval >= 0.1) || interval > 86400)
				die_usage("interval must be 0.1 to 86400 seconds", optarg);
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || count < 1)
				die_usage("count must be a positive integer", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case ':':
			die_usage("option needs an argument", argv[optind - 1]);
			break;
		default:
			die_usage("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument", argv[optind]);
	if (follow && (sockets || counters || interval > 0))
		die_usage("--follow goes alone", NULL);
	if (count > 0 && interval <= 0)
		die_usage("--count needs --interval", NULL);
	if (follow)
		return ask(path, "follow");
	if (!sockets && !counters)
		sockets = counters = true;
	char req[32];
	snprintf(req, sizeof req, "%s%s",
		 sockets && counters ? "all" : sockets ? "sockets" : "counters",
		 zero && counters ? " zero" : "");
	for (long i = 0;; i++) {
		if (interval > 0) {
			time_t t = time(NULL);
			char when[64];
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
			printf("%s--- %s\n", i ? "\n" : "", when);
		}
		int rc = ask(path, req);
		if (rc || interval <= 0 || (count > 0 && i + 1 >= count))
			return rc;
		struct timespec ts = { .tv_sec = (time_t)interval,
				       .tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9) };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

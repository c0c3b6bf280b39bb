/* SPDX-License-Identifier: MIT */
/*
 * bench-upeer - ustack's side of the benchmarks: brings the stack up on a
 * TAP device and serves the benchmark services (bench_server.h) on its
 * socket API, and four of them again on event callbacks
 * (bench_callbacks.h), until SIGINT/SIGTERM or --duration ends.
 *
 *   bench-upeer [--tap NAME] [--ip4 ADDR/LEN] [--mac MAC] [--mtu N]
 *               [--log LEVEL] [--duration SECONDS] [--counters] [--offload]
 *               [--busy-poll US]
 *
 * It prints "bench-upeer ready" once it serves; with --counters, the stack's
 * non-zero counters when it stops. tools/bench/ustack-bench.py runs it.
 * Read bench_server.h and tools/cli.h first.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ustack/ustack.h>

#include "bench_callbacks.h"
#include "bench_server.h"
#include "cli.h"

static const char usage[] =
	"usage: bench-upeer [--tap NAME] [--ip4 ADDR/LEN] [--mac MAC] [--mtu N]\n"
	"                   [--log quiet|info|drop|debug] [--duration SECONDS] [--counters]\n"
	"                   [--offload] [--busy-poll US]\n";

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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		US_CLI_LINK_OPTIONS,
		{ "duration", required_argument, 0, 'd' },
		{ "counters", no_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	static struct us_cli_link l;
	us_cli_link_defaults(&l, US_CLI_LOG_INFO);
	double duration = 600;
	bool counters = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		const char *err = NULL;
		switch (c) {
		case 'd':
			err = us_cli_seconds(optarg, 0.001, 3600, &duration);
			break;
		case 'c':
			counters = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			if (!us_cli_link_option(&l, c, optarg, &err)) {
				fputs(usage, stderr);
				return 2;
			}
		}
		if (err) {
			fprintf(stderr, "bench-upeer: %s: %s\n%s", err, optarg, usage);
			return 2;
		}
	}
	const char *err = us_cli_link_check(&l);
	if (err) {
		fprintf(stderr, "bench-upeer: %s\n", err);
		return 2;
	}
	/* With --log quiet no hook at all: the core formats a message for every
	 * drop whenever a hook is installed, which costs the hot path. */
	if (l.log != US_CLI_LOG_QUIET)
		us_cli_link_trace(&l);

	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	int rc;
	struct us_runtime *rt = us_runtime_start(&l.cfg, &rc);
	if (!rt) {
		fprintf(stderr, "bench-upeer: cannot start on %s: %s\n", l.cfg.tap_name,
			strerror(-rc));
		return 1;
	}
	us_runtime_set_default(rt);
	if (!us_cli_wait_link_running(l.cfg.tap_name, 5000))
		fprintf(stderr, "bench-upeer: %s is not running after 5 s\n", l.cfg.tap_name);
	if (bench_server_start(&bench_net_ustack) < 0 || bench_callbacks_start() < 0) {
		us_runtime_stop(rt);
		return 1;
	}
	printf("bench-upeer ready\n");
	fflush(stdout);

	struct timespec limit = { .tv_sec = (time_t)duration,
				  .tv_nsec = (long)((duration - (double)(time_t)duration) * 1e9) };
	int sig;
	do
		sig = sigtimedwait(&stop, NULL, &limit);
	while (sig < 0 && errno == EINTR);
	if (counters) {
		printf("ustack counters:\n");
		us_runtime_with_core(rt, print_counters, NULL);
	}
	fflush(stdout);
	/* The service threads are blocked in the stack: they wake with
	 * ENETDOWN; the process ends without waiting for them. */
	us_runtime_stop(rt);
	_exit(0);
}

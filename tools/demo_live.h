/* SPDX-License-Identifier: MIT */
/*
 * tools/demo_live.h - what ustack-demo shows of itself while it runs:
 *
 *  - a capture of every frame in and out with a size limit and rotation
 *    (a link driver that wraps the TAP driver and writes through
 *    ustack/capture.h, as `tcpdump -C SIZE -W FILES` does);
 *  - the transition log: every TCP state change of every connection, with
 *    the time (the pcap's clock), both endpoints, old and new state and the
 *    cause the core gives, written beside the pcap and printable live;
 *  - the live view: every TCP socket like `ss -tan` and the counters like
 *    `netstat -s`, as text, served on a local UNIX socket to ustack-stat
 *    and on the HTTP page /stat.
 *
 * No RFC here. Read include/ustack/driver.h and include/ustack/capture.h
 * first, then tools/ustack-stat.c (the client of the UNIX socket).
 */
#ifndef USTACK_TOOLS_DEMO_LIVE_H
#define USTACK_TOOLS_DEMO_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

/* ---- Capture with rotation ------------------------------------------------ */

/*
 * Wraps *inner (an opened driver: the TAP device) so that every frame it
 * receives and every frame the stack transmits is written to path, rotating
 * at max_bytes into path.1 ... path.<max_files-1> (max_bytes 0: no limit).
 * On success *inner is replaced by the wrapping driver (same name, MTU and
 * peer MAC): hand it to the runtime, whose stop closes the capture and the
 * TAP device. Returns 0, or a negative errno (then *inner is unchanged and
 * still the caller's).
 */
int us_demo_capture_wrap(struct us_driver *inner, const char *path, uint64_t max_bytes,
			 unsigned max_files);

/* Wall-clock microseconds since the epoch at the runtime clock's zero (the
 * monotonic clock): time t of the runtime is origin + t on the pcap. */
us_time_t us_demo_clock_origin(void);

/* ---- The transition log ---------------------------------------------------- */

struct us_demo_translog;

/* Writes to path (NULL: no file), and to stdout when live. NULL with errno
 * when path cannot be created. */
struct us_demo_translog *us_demo_translog_open(const char *path, bool live);
/* Once the runtime is up: the stack to look connections up in (the core
 * message names only the ports). */
void us_demo_translog_attach(struct us_demo_translog *tl, struct us_runtime *rt);
/* Takes one trace event (the runtime's trace hook, core lock held); logs it
 * when it is a TCP state change. */
void us_demo_translog_event(struct us_demo_translog *tl, const struct us_trace_event *ev);
/* Adds a socket that receives every line from now on (ustack-stat
 * --follow); it is dropped (closed) when it stops reading. */
void us_demo_translog_follow(struct us_demo_translog *tl, int fd);
/* After us_runtime_stop(): flushes, closes and frees. NULL is a no-op. */
void us_demo_translog_close(struct us_demo_translog *tl);

/* ---- The live view ------------------------------------------------------------ */

enum us_demo_stat_what {
	US_DEMO_STAT_SOCKETS = 1,     /* the TCP table, like ss -tan */
	US_DEMO_STAT_COUNTERS = 2,    /* non-zero counters, like netstat -s */
	US_DEMO_STAT_ZERO = 4,        /* with COUNTERS: the zero ones too */
};

/* The view as text (malloc'd, NUL-terminated; *len its length), or NULL
 * when out of memory. what: a mix of enum us_demo_stat_what. */
char *us_demo_stat_text(struct us_runtime *rt, unsigned what, size_t *len);

struct us_demo_statsrv;

/* Where ustack-demo serves the view and ustack-stat looks, unless told:
 * /run/ustack-demo.sock as root, else /tmp/ustack-demo-UID.sock. */
#define US_DEMO_STAT_SOCKET_ROOT "/run/ustack-demo.sock"
#define US_DEMO_STAT_SOCKET_USER "/tmp/ustack-demo-%u.sock"

/* Serves the view on the UNIX socket path (removing a stale socket there;
 * refusing with -EADDRINUSE when a live server answers on it). A client
 * writes one line, "sockets", "counters", "all" (the last two
 * with " zero" after them to list the zero counters too) or "follow", and reads the answer until the server closes. tl may be NULL
 * (then "follow" is refused). Returns NULL with *err a negative errno. */
struct us_demo_statsrv *us_demo_statsrv_start(struct us_runtime *rt, struct us_demo_translog *tl,
					      const char *path, int *err);
/* Stops the thread, removes the socket file. NULL is a no-op. */
void us_demo_statsrv_stop(struct us_demo_statsrv *srv);

/* qsort() order of struct us_tcp_info rows for the status pages and the
 * live view: by state, then local port, family, remote port. */
int us_demo_cmp_tcp_info(const void *a, const void *b);

#endif

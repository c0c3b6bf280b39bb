/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench_server.h - the services the benchmark measures, served
 * the same way by the kernel (bench-kpeer serve) and by ustack
 * (bench-upeer), on the ports below, IPv4:
 *
 *   5001 TCP sink    reads and throws away until end of stream
 *   5002 TCP source  sends a fixed pattern until the peer goes away
 *   5003 TCP short   reads 1 byte, writes it back, reads until end of
 *                    stream, closes (the client closes first: its side
 *                    holds TIME_WAIT); a pool of accepting threads
 *   5004 TCP echo    TCP_NODELAY; every read is written back (ping-pong)
 *   5005 UDP sink    counts datagrams; "BR" resets the count, "BQ" is
 *                    answered with "BC <count>"
 *   5006 UDP source  "BS <size> <ms>" makes it send datagrams of size bytes
 *                    to the asker for ms milliseconds (at most 30 s),
 *                    then "BE <sent>"
 *
 * Read bench_net.h first.
 */
#ifndef USTACK_BENCH_SERVER_H
#define USTACK_BENCH_SERVER_H

#include "bench_net.h"

#define BENCH_PORT_SINK 5001
#define BENCH_PORT_SOURCE 5002
#define BENCH_PORT_SHORT 5003
#define BENCH_PORT_ECHO 5004
#define BENCH_PORT_UDP_SINK 5005
#define BENCH_PORT_UDP_SOURCE 5006

/* Threads accepting short connections at once (one per parallel client). */
#define BENCH_SHORT_WORKERS 16

/* Opens every listener and starts its threads; 0, or -1 with a message. */
int bench_server_start(const struct bench_net *net);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench_callbacks.h - the sink, source, short and echo services again,
 * on ustack's event callbacks (bench_callbacks.c), each on its threaded
 * twin's port plus BENCH_CALLBACK_PORT_OFFSET. Read bench_server.h first.
 */
#ifndef USTACK_BENCH_CALLBACKS_H
#define USTACK_BENCH_CALLBACKS_H

#define BENCH_CALLBACK_PORT_OFFSET 100

/* Opens the four listeners on the default runtime; 0, or -1 with a
 * message. */
int bench_callbacks_start(void);

#endif

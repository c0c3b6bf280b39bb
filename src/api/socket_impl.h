/* SPDX-License-Identifier: MIT */
/*
 * socket_impl.h - what socket.c offers the rest of src/api/ and the unit
 * tests. Not installed. Read runtime_impl.h first (the locks and a
 * runtime's life), then socket.c.
 */
#ifndef USTACK_SOCKET_IMPL_H
#define USTACK_SOCKET_IMPL_H

#include "runtime_impl.h"

/* The most sockets open at once in a process (us_socket fails with EMFILE
 * beyond), and how a handle is made: the slot index in the low
 * US_SOCK_SLOT_BITS bits, the slot's generation (1, 2, ...) above. A slot
 * whose generation is used up is retired, so a handle never names a second
 * socket: the process can open 2^31 sockets in all. */
#define US_SOCK_SLOT_BITS 12
#define US_MAX_SOCKETS (1 << US_SOCK_SLOT_BITS)

/* Called by the stack thread, core lock held, when a virtual clock has
 * moved: every blocked call and us_poll() on rt re-checks its deadline. */
void us_socket_clock_moved(struct us_runtime *rt);

/* The stack thread, core lock held, at the end of a batch of received
 * frames: wakes every socket whose events came in during the batch. */
void us_socket_flush_wakes(struct us_runtime *rt);

/* The stack thread, core lock held, after each batch of work (frames,
 * timers): calls the event callbacks of the sockets the core reported
 * something for (us_socket_callback()). True when callbacks are still
 * queued (reported during this round): the loop goes round again without
 * sleeping. */
bool us_socket_run_callbacks(struct us_runtime *rt);

/* us_runtime_stop(), core lock held, once the stack thread has ended:
 * releases the core's endpoints of every socket of rt and wakes every call
 * blocked on them (they return ENETDOWN). */
void us_socket_runtime_down(struct us_runtime *rt);

/* us_runtime_stop(), API lock held, once no call is left on rt: the sockets
 * forget rt (their later calls fail with ENETDOWN; us_close works). */
void us_socket_runtime_detach(struct us_runtime *rt);

/* How many calls are blocked on socket s right now, a us_poll() over it
 * included (0 for a bad handle). For tests: move a virtual clock only once
 * the call under test waits. */
unsigned us_socket_waiters(int s);

#endif

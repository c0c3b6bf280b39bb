/* SPDX-License-Identifier: MIT */
/* A timer written behind the heap's back: check-tcp-timer-writes.sh must
 * reject it (the test tcp_timer_write_check_can_fail proves the check can
 * fail). Never compiled. */
#include "tcp.h"

static void forgets_the_heap(struct us_tcp *t)
{
	t->t_delack = t->s->now + US_TCP_DELACK;
}

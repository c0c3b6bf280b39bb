/* SPDX-License-Identifier: MIT */
/* A library that reads the clock: check-core-symbols.sh must reject it
 * (the test core_symbol_check_can_fail proves the check can fail). */
#include <time.h>

int reads_the_clock(void);

int reads_the_clock(void)
{
	struct timespec ts;
	return clock_gettime(CLOCK_MONOTONIC, &ts);
}

/* SPDX-License-Identifier: MIT */
/*
 * reass_counters.h - reassembly's counters (see counters.h): fragments in,
 * datagrams out, and one counter per reason a fragment or a datagram in
 * progress is dropped (see reass.c for each rule).
 */
#ifndef USTACK_REASS_COUNTERS_H
#define USTACK_REASS_COUNTERS_H

#define US_REASS_COUNTERS(X)                                                                       \
	X(REASS_IN_FRAGMENTS, "reass.in_fragments")                                                \
	X(REASS_COMPLETED, "reass.completed")                                                      \
	X(REASS_ATOMIC, "reass.atomic")                                                            \
	X(REASS_DUPLICATES, "reass.duplicates")                                                    \
	X(REASS_EVICTED, "reass.evicted")                                                          \
	X(REASS_DROP_OVERLAP, "reass.drop_overlap")                                                \
	X(REASS_DROP_INCONSISTENT, "reass.drop_inconsistent")                                      \
	X(REASS_DROP_POISONED, "reass.drop_poisoned")                                              \
	X(REASS_DROP_TIMEOUT, "reass.drop_timeout")                                                \
	X(REASS_DROP_TOO_BIG, "reass.drop_too_big")                                                \
	X(REASS_DROP_BAD_LENGTH, "reass.drop_bad_length")                                          \
	X(REASS_DROP_HDR_TOO_LONG, "reass.drop_hdr_too_long")                                      \
	X(REASS_DROP_TOO_MANY_HOLES, "reass.drop_too_many_holes")                                  \
	X(REASS_DROP_NO_MEMORY, "reass.drop_no_memory")                                            \
	X(REASS_DROP_BAD_FAMILY, "reass.drop_bad_family")

#endif

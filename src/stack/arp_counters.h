/* SPDX-License-Identifier: MIT */
/*
 * arp_counters.h - ARP's counters (see counters.h). One per drop reason;
 * the rest say what the cache did (see arp.h for its states).
 */
#ifndef USTACK_ARP_COUNTERS_H
#define USTACK_ARP_COUNTERS_H

#define US_ARP_COUNTERS(X)                                                                         \
	X(ARP_IN, "arp.in")                                                                        \
	X(ARP_OUT, "arp.out")                                                                      \
	X(ARP_DROP_MALFORMED, "arp.drop_malformed")                                                \
	X(ARP_DROP_BAD_SOURCE, "arp.drop_bad_source")                                              \
	X(ARP_DROP_NOT_FOR_US, "arp.drop_not_for_us")                                              \
	X(ARP_REQUESTS_ANSWERED, "arp.requests_answered")                                          \
	X(ARP_REPLIES_IN, "arp.replies_in")                                                        \
	X(ARP_REQUESTS_OUT, "arp.requests_out")                                                    \
	X(ARP_PROBES_OUT, "arp.probes_out")                                                        \
	X(ARP_ANNOUNCEMENTS_OUT, "arp.announcements_out")                                          \
	X(ARP_REQUESTS_RATE_LIMITED, "arp.requests_rate_limited")                                  \
	X(ARP_CONFLICTS, "arp.conflicts")                                                          \
	X(ARP_DEFENCES, "arp.defences")                                                            \
	X(ARP_CACHE_ADDED, "arp.cache_added")                                                      \
	X(ARP_CACHE_UPDATED, "arp.cache_updated")                                                  \
	X(ARP_CACHE_EVICTED, "arp.cache_evicted")                                                  \
	X(ARP_CACHE_EXPIRED, "arp.cache_expired")                                                  \
	X(ARP_RESOLVE_FAILED, "arp.resolve_failed")                                                \
	X(ARP_PROBE_FAILED, "arp.probe_failed")                                                    \
	X(ARP_QUEUED, "arp.queued")                                                                \
	X(ARP_DROP_QUEUE_FULL, "arp.drop_queue_full")                                              \
	X(ARP_DROP_QUEUE_TOTAL, "arp.drop_queue_total")                                            \
	X(ARP_DROP_CACHE_FULL, "arp.drop_cache_full")                                              \
	X(ARP_DROP_RESOLVE_FAILED, "arp.drop_resolve_failed")                                      \
	X(ARP_DROP_BAD_NEXT_HOP, "arp.drop_bad_next_hop")

#endif

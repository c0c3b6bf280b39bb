/* SPDX-License-Identifier: MIT */
/*
 * counters.h - every counter the core keeps, like `netstat -s`.
 *
 * One table: an id for the code and a stable dotted name for users
 * (us_stack_counters()). Every drop has its own counter, named for its
 * reason, so nothing is ever lost silently. Each protocol module lists its
 * own counters in its *_counters.h; this file puts the lists together.
 */
#ifndef USTACK_COUNTERS_H
#define USTACK_COUNTERS_H

#include "arp_counters.h"
#include "ip6_counters.h"
#include "ip_counters.h"
#include "nd6_counters.h"
#include "reass_counters.h"
#include "tcp_counters.h"
#include "udp_counters.h"

#define US_STACK_COUNTERS(X)                                                                       \
	X(ETH_IN, "eth.in_frames")                                                                 \
	X(ETH_OUT, "eth.out_frames")                                                               \
	X(ETH_TX_ERRORS, "eth.tx_errors")                                                          \
	X(ETH_DROP_MALFORMED, "eth.drop_malformed")                                                \
	X(ETH_DROP_VLAN, "eth.drop_vlan")                                                          \
	X(ETH_DROP_NOT_FOR_US, "eth.drop_not_for_us")                                              \
	X(ETH_DROP_OWN_SOURCE, "eth.drop_own_source")                                              \
	X(ETH_DROP_UNKNOWN_TYPE, "eth.drop_unknown_ethertype")                                     \
	X(ETH_DROP_BAD_IFACE, "eth.drop_bad_iface")                                                \
	X(ETH_IN_GSO, "eth.in_gso_frames")                                                         \
	X(ETH_IN_CSUM_TRUSTED, "eth.in_csum_trusted")                                              \
	X(ETH_DROP_BAD_GSO, "eth.drop_bad_gso")                                                    \
	X(ETH_OUT_GSO, "eth.out_gso_frames")                                                       \
	X(ETH_OUT_CSUM_PARTIAL, "eth.out_csum_partial")                                            \
	X(PBUF_EXHAUSTED, "pbuf.exhausted")

#define US_COUNTER_LIST(X)                                                                         \
	US_STACK_COUNTERS(X)                                                                       \
	US_ARP_COUNTERS(X)                                                                         \
	US_IP_COUNTERS(X)                                                                          \
	US_REASS_COUNTERS(X)                                                                       \
	US_IP6_COUNTERS(X)                                                                         \
	US_ND6_COUNTERS(X)                                                                         \
	US_UDP_COUNTERS(X)                                                                         \
	US_RAW_COUNTERS(X)                                                                         \
	US_TCP_COUNTERS(X)

enum us_counter_id {
#define US_COUNTER_ENUM(id, name) US_CTR_##id,
	US_COUNTER_LIST(US_COUNTER_ENUM)
#undef US_COUNTER_ENUM
	US_CTR_COUNT
};

#endif

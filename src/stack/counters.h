/* SPDX-License-Identifier: MIT */
/*
 * counters.h - every counter the core keeps, like `netstat -s`.
 *
 * One table: an id for the code and a stable dotted name for users
 * (us_stack_counters()). Every drop has its own counter, named for its
 * reason, so nothing is ever lost silently.
 */
#ifndef USTACK_COUNTERS_H
#define USTACK_COUNTERS_H

#define US_COUNTER_LIST(X)                                                                         \
	X(ETH_IN, "eth.in_frames")                                                                 \
	X(ETH_OUT, "eth.out_frames")                                                               \
	X(ETH_TX_ERRORS, "eth.tx_errors")                                                          \
	X(ETH_DROP_MALFORMED, "eth.drop_malformed")                                                \
	X(ETH_DROP_VLAN, "eth.drop_vlan")                                                          \
	X(ETH_DROP_NOT_FOR_US, "eth.drop_not_for_us")                                              \
	X(ETH_DROP_OWN_SOURCE, "eth.drop_own_source")                                              \
	X(ETH_DROP_UNKNOWN_TYPE, "eth.drop_unknown_ethertype")                                     \
	X(ETH_DROP_BAD_IFACE, "eth.drop_bad_iface")                                                \
	X(PBUF_EXHAUSTED, "pbuf.exhausted")                                                        \
	X(ARP_IN, "arp.in")                                                                        \
	X(ARP_OUT, "arp.out")                                                                      \
	X(ARP_DROP_MALFORMED, "arp.drop_malformed")                                                \
	X(ARP_DROP_BAD_SOURCE, "arp.drop_bad_source")                                              \
	X(ARP_DROP_NOT_FOR_US, "arp.drop_not_for_us")                                              \
	X(ARP_REQUESTS_ANSWERED, "arp.requests_answered")                                          \
	X(ARP_REPLIES_IN, "arp.replies_in")                                                        \
	X(IPV4_IN, "ipv4.in")                                                                      \
	X(IPV4_DROP_UNSUPPORTED, "ipv4.drop_not_implemented")                                      \
	X(IPV6_IN, "ipv6.in")                                                                      \
	X(IPV6_DROP_UNSUPPORTED, "ipv6.drop_not_implemented")

enum us_counter_id {
#define US_COUNTER_ENUM(id, name) US_CTR_##id,
	US_COUNTER_LIST(US_COUNTER_ENUM)
#undef US_COUNTER_ENUM
	US_CTR_COUNT
};

#endif

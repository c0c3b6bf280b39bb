/* SPDX-License-Identifier: MIT */
/*
 * nd6_counters.h - Neighbor Discovery's counters (see counters.h): one per
 * message kind in and out, one per validity check of RFC 4861 §6.1, §7.1
 * and §8.1 that failed, one per table that was full, one per DAD outcome.
 */
#ifndef USTACK_ND6_COUNTERS_H
#define USTACK_ND6_COUNTERS_H

#define US_ND6_COUNTERS(X)                                                                         \
	X(ND6_IN, "nd6.in")                                                                        \
	X(ND6_IN_NS, "nd6.in_ns")                                                                  \
	X(ND6_IN_NA, "nd6.in_na")                                                                  \
	X(ND6_IN_RA, "nd6.in_ra")                                                                  \
	X(ND6_IN_REDIRECT, "nd6.in_redirect")                                                      \
	X(ND6_OUT_NS, "nd6.out_ns")                                                                \
	X(ND6_OUT_NA, "nd6.out_na")                                                                \
	X(ND6_OUT_RS, "nd6.out_rs")                                                                \
	X(ND6_DROP_TRUNCATED, "nd6.drop_truncated")                                                \
	X(ND6_DROP_HOP_LIMIT, "nd6.drop_hop_limit")                                                \
	X(ND6_DROP_BAD_CODE, "nd6.drop_bad_code")                                                  \
	X(ND6_DROP_UNKNOWN_TYPE, "nd6.drop_unknown_type")                                          \
	X(ND6_DROP_OPT_ZERO_LEN, "nd6.drop_option_zero_length")                                    \
	X(ND6_DROP_OPT_PAST_END, "nd6.drop_option_past_end")                                       \
	X(ND6_DROP_BAD_LLADDR, "nd6.drop_bad_lladdr_option")                                       \
	X(ND6_DROP_MCAST_TARGET, "nd6.drop_multicast_target")                                      \
	X(ND6_DROP_NS_UNSPEC_DST, "nd6.drop_ns_unspecified_src_not_solicited_node")                \
	X(ND6_DROP_NS_UNSPEC_SLLA, "nd6.drop_ns_unspecified_src_with_slla")                        \
	X(ND6_DROP_NS_NOT_FOR_US, "nd6.drop_ns_not_for_us")                                        \
	X(ND6_DROP_NA_SOLICITED_MCAST, "nd6.drop_na_solicited_to_multicast")                       \
	X(ND6_DROP_NA_NO_ENTRY, "nd6.drop_na_no_entry")                                            \
	X(ND6_DROP_NA_NO_TLLA, "nd6.drop_na_incomplete_without_tlla")                              \
	X(ND6_NA_NO_OVERRIDE, "nd6.na_ignored_no_override")                                        \
	X(ND6_NA_FOR_OUR_ADDR, "nd6.na_for_our_address")                                           \
	X(ND6_NS_TENTATIVE_IGNORED, "nd6.ns_for_tentative_ignored")                                \
	X(ND6_DROP_RS_HOST, "nd6.drop_rs_host")                                                    \
	X(ND6_DROP_RA_SRC, "nd6.drop_ra_src_not_link_local")                                       \
	X(ND6_DROP_REDIRECT_SRC, "nd6.drop_redirect_src_not_link_local")                           \
	X(ND6_DROP_REDIRECT_BAD_ADDR, "nd6.drop_redirect_bad_address")                             \
	X(ND6_DROP_REDIRECT_NOT_ROUTER, "nd6.drop_redirect_not_first_hop")                         \
	X(ND6_REDIRECT_IGNORED, "nd6.redirect_ignored")                                            \
	X(ND6_DROP_DISABLED, "nd6.drop_ipv6_disabled")                                             \
	X(ND6_DROP_BAD_NEXT_HOP, "nd6.drop_bad_next_hop")                                          \
	X(ND6_DROP_CACHE_FULL, "nd6.drop_cache_full")                                              \
	X(ND6_DROP_QUEUE_FULL, "nd6.drop_queue_full")                                              \
	X(ND6_DROP_QUEUE_TOTAL, "nd6.drop_queue_total")                                            \
	X(ND6_DROP_RESOLUTION_FAILED, "nd6.drop_resolution_failed")                                \
	X(ND6_NS_NO_SOURCE, "nd6.ns_no_source_address")                                            \
	X(ND6_NEIGH_EVICTED, "nd6.neigh_evicted")                                                  \
	X(ND6_NEIGH_UNREACHABLE, "nd6.neigh_unreachable")                                          \
	X(ND6_DAD_SUCCEEDED, "nd6.dad_succeeded")                                                  \
	X(ND6_DAD_DUPLICATE, "nd6.dad_duplicate")                                                  \
	X(ND6_IFACE_DISABLED, "nd6.iface_disabled")                                                \
	X(ND6_GROUPS_FULL, "nd6.groups_full")                                                      \
	X(ND6_ADDR_DEPRECATED, "nd6.addr_deprecated")                                              \
	X(ND6_ADDR_EXPIRED, "nd6.addr_expired")                                                    \
	X(ND6_ROUTER_ADDED, "nd6.router_added")                                                    \
	X(ND6_ROUTER_EXPIRED, "nd6.router_expired")                                                \
	X(ND6_ROUTER_LIST_FULL, "nd6.router_list_full")                                            \
	X(ND6_PREFIX_EXPIRED, "nd6.prefix_expired")                                                \
	X(ND6_PREFIX_LIST_FULL, "nd6.prefix_list_full")                                            \
	X(ND6_RA_BAD_OPTION, "nd6.ra_bad_option")                                                  \
	X(ND6_RA_PREFIX_LINK_LOCAL, "nd6.ra_prefix_link_local")                                    \
	X(ND6_RA_PREFIX_MULTICAST, "nd6.ra_prefix_multicast")                                      \
	X(ND6_RA_PREFIX_BAD_LENGTH, "nd6.ra_prefix_bad_length")                                    \
	X(ND6_RA_PREFIX_BAD_LIFETIME, "nd6.ra_prefix_preferred_over_valid")                        \
	X(ND6_RA_MTU_IGNORED, "nd6.ra_mtu_out_of_range")                                           \
	X(ND6_RA_REACHABLE_IGNORED, "nd6.ra_reachable_time_too_long")                              \
	X(ND6_SLAAC_ADDED, "nd6.slaac_addresses")                                                  \
	X(ND6_SLAAC_NO_ROOM, "nd6.slaac_no_room")

#endif

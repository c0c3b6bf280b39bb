/* SPDX-License-Identifier: MIT */
/*
 * ip6_counters.h - the counters of IPv6 (ip6_input.c, ip6_output.c) and
 * ICMPv6 (ip6_icmp.c), like `netstat -s -6`. One counter per drop reason,
 * each named for it; see counters.h for how the lists are put together.
 */
#ifndef USTACK_IP6_COUNTERS_H
#define USTACK_IP6_COUNTERS_H

#define US_IP6_COUNTERS(X)                                                                         \
	X(IP6_IN, "ip6.in")                                                                        \
	X(IP6_DELIVERED, "ip6.delivered")                                                          \
	X(IP6_DROP_FRAGMENTED_NDP, "ip6.drop_fragmented_ndp")                                      \
	X(IP6_DROP_TRUNCATED, "ip6.drop_truncated")                                                \
	X(IP6_DROP_BAD_VERSION, "ip6.drop_bad_version")                                            \
	X(IP6_DROP_BAD_LENGTH, "ip6.drop_bad_length")                                              \
	X(IP6_DROP_MALFORMED, "ip6.drop_malformed")                                                \
	X(IP6_DROP_MULTICAST_SOURCE, "ip6.drop_multicast_source")                                  \
	X(IP6_DROP_LOOPBACK, "ip6.drop_loopback_address")                                          \
	X(IP6_DROP_MULTICAST_SCOPE, "ip6.drop_multicast_scope")                                    \
	X(IP6_DROP_NOT_JOINED, "ip6.drop_group_not_joined")                                        \
	X(IP6_DROP_NOT_FOR_US, "ip6.drop_not_for_us")                                              \
	X(IP6_DROP_DST_TENTATIVE, "ip6.drop_dst_tentative")                                        \
	X(IP6_DROP_EXT_PAST_END, "ip6.drop_ext_past_end")                                          \
	X(IP6_DROP_EXT_TOO_MANY, "ip6.drop_ext_too_many")                                          \
	X(IP6_DROP_EXT_BAD_ORDER, "ip6.drop_ext_bad_order")                                        \
	X(IP6_DROP_OPT_PAST_END, "ip6.drop_opt_past_end")                                          \
	X(IP6_DROP_OPT_BAD_LEN, "ip6.drop_opt_bad_len")                                            \
	X(IP6_DROP_UNKNOWN_OPTION, "ip6.drop_unknown_option")                                      \
	X(IP6_DROP_ROUTING_HEADER, "ip6.drop_routing_header")                                      \
	X(IP6_DROP_AH, "ip6.drop_ah_not_implemented")                                              \
	X(IP6_DROP_UNKNOWN_NEXT_HEADER, "ip6.drop_unknown_next_header")                            \
	X(IP6_NO_NEXT_HEADER, "ip6.in_no_next_header")                                             \
	X(IP6_FRAG_IN, "ip6.frag_in")                                                              \
	X(IP6_FRAG_ATOMIC, "ip6.frag_atomic")                                                      \
	X(IP6_DROP_FRAG_BAD_LENGTH, "ip6.drop_frag_bad_length")                                    \
	X(IP6_DROP_FRAG_TOO_BIG, "ip6.drop_frag_too_big")                                          \
	X(IP6_DROP_FRAG_INCOMPLETE_CHAIN, "ip6.drop_frag_incomplete_chain")                        \
	X(IP6_DROP_FRAG_NESTED, "ip6.drop_frag_nested")                                            \
	X(IP6_DROP_REASS_MALFORMED, "ip6.drop_reass_malformed")                                    \
	X(IP6_REASSEMBLED, "ip6.reassembled")                                                      \
	X(IP6_OUT, "ip6.out")                                                                      \
	X(IP6_OUT_FRAGMENTED, "ip6.out_fragmented")                                                \
	X(IP6_OUT_FRAGMENTS, "ip6.out_fragments")                                                  \
	X(IP6_OUT_DROP_BAD_DST, "ip6.out_drop_bad_destination")                                    \
	X(IP6_OUT_DROP_TOO_BIG, "ip6.out_drop_too_big")                                            \
	X(IP6_OUT_DROP_NO_ROUTE, "ip6.out_drop_no_route")                                          \
	X(IP6_OUT_DROP_NO_SOURCE, "ip6.out_drop_no_source")                                        \
	X(IP6_OUT_DROP_NO_BUFS, "ip6.out_drop_no_buffers")                                         \
	X(IP6_PMTU_UPDATES, "ip6.pmtu_updates")                                                    \
	X(IP6_PMTU_EXPIRED, "ip6.pmtu_expired")                                                    \
	X(IP6_PMTU_EVICTED, "ip6.pmtu_evicted")                                                    \
	X(ICMP6_IN, "icmp6.in")                                                                    \
	X(ICMP6_DROP_TRUNCATED, "icmp6.drop_truncated")                                            \
	X(ICMP6_DROP_BAD_CHECKSUM, "icmp6.drop_bad_checksum")                                      \
	X(ICMP6_IN_ECHO_REQUESTS, "icmp6.in_echo_requests")                                        \
	X(ICMP6_IN_ECHO_REPLIES, "icmp6.in_echo_replies")                                          \
	X(ICMP6_DROP_ECHO_REPLY_UNMATCHED, "icmp6.drop_echo_reply_unmatched")                      \
	X(ICMP6_DROP_ECHO_BAD_SOURCE, "icmp6.drop_echo_bad_source")                                \
	X(ICMP6_IN_PACKET_TOO_BIG, "icmp6.in_packet_too_big")                                      \
	X(ICMP6_IN_DEST_UNREACH, "icmp6.in_dest_unreach")                                          \
	X(ICMP6_IN_TIME_EXCEEDED, "icmp6.in_time_exceeded")                                        \
	X(ICMP6_IN_PARAM_PROBLEM, "icmp6.in_param_problem")                                        \
	X(ICMP6_IN_UNKNOWN_ERRORS, "icmp6.in_unknown_errors")                                      \
	X(ICMP6_DROP_BAD_QUOTE, "icmp6.drop_error_bad_quote")                                      \
	X(ICMP6_DROP_QUOTE_NOT_OURS, "icmp6.drop_error_not_ours")                                  \
	X(ICMP6_DROP_PTB_BELOW_MIN, "icmp6.drop_ptb_below_min_mtu")                                \
	X(ICMP6_IN_NDP, "icmp6.in_ndp")                                                            \
	X(ICMP6_DROP_MLD, "icmp6.drop_mld")                                                        \
	X(ICMP6_DROP_UNKNOWN_TYPE, "icmp6.drop_unknown_type")                                      \
	X(ICMP6_OUT_ECHO_REQUESTS, "icmp6.out_echo_requests")                                      \
	X(ICMP6_OUT_ECHO_REPLIES, "icmp6.out_echo_replies")                                        \
	X(ICMP6_OUT_ERRORS, "icmp6.out_errors")                                                    \
	X(ICMP6_OUT_PARAM_PROBLEM, "icmp6.out_param_problem")                                      \
	X(ICMP6_OUT_TIME_EXCEEDED, "icmp6.out_time_exceeded")                                      \
	X(ICMP6_ERR_NOT_SENT_MALFORMED, "icmp6.error_not_sent_malformed")                          \
	X(ICMP6_ERR_NOT_SENT_SOURCE, "icmp6.error_not_sent_bad_source")                            \
	X(ICMP6_ERR_NOT_SENT_MULTICAST, "icmp6.error_not_sent_multicast")                          \
	X(ICMP6_ERR_NOT_SENT_ABOUT_ERROR, "icmp6.error_not_sent_about_error")                      \
	X(ICMP6_ERR_NOT_SENT_NO_BUFS, "icmp6.error_not_sent_no_buffers")                           \
	X(ICMP6_ERR_RATE_LIMITED, "icmp6.error_rate_limited")

#endif

/* SPDX-License-Identifier: MIT */
/*
 * ip_counters.h - the IPv4 and ICMPv4 counters (see counters.h): one per
 * drop reason, named for it, so nothing is lost silently.
 */
#ifndef USTACK_IP_COUNTERS_H
#define USTACK_IP_COUNTERS_H

#define US_IP_COUNTERS(X)                                                                          \
	X(IP_IN, "ip.in")                                                                          \
	X(IP_IN_DELIVERED, "ip.in_delivered")                                                      \
	X(IP_IN_FRAGMENTS, "ip.in_fragments")                                                      \
	X(IP_REASSEMBLED, "ip.reassembled")                                                        \
	X(IP_DROP_TRUNCATED, "ip.drop_truncated")                                                  \
	X(IP_DROP_BAD_VERSION, "ip.drop_bad_version")                                              \
	X(IP_DROP_BAD_HDR_LEN, "ip.drop_bad_hdr_len")                                              \
	X(IP_DROP_HDR_PAST_END, "ip.drop_hdr_past_end")                                            \
	X(IP_DROP_BAD_TOTAL_LEN, "ip.drop_bad_total_len")                                          \
	X(IP_DROP_BAD_CHECKSUM, "ip.drop_bad_checksum")                                            \
	X(IP_DROP_OPT_PAST_END, "ip.drop_opt_past_end")                                            \
	X(IP_DROP_OPT_BAD_LEN, "ip.drop_opt_bad_len")                                              \
	X(IP_DROP_FRAG_TOO_BIG, "ip.drop_frag_too_big")                                            \
	X(IP_DROP_MALFORMED, "ip.drop_malformed")                                                  \
	X(IP_DROP_NOT_FOR_US, "ip.drop_not_for_us")                                                \
	X(IP_DROP_LINK_BCAST, "ip.drop_link_bcast_unicast")                                        \
	X(IP_DROP_MARTIAN_SRC, "ip.drop_martian_src")                                              \
	X(IP_DROP_SOURCE_ROUTE, "ip.drop_source_route")                                            \
	X(IP_DROP_UNKNOWN_PROTOCOL, "ip.drop_unknown_protocol")                                    \
	X(IP_OUT, "ip.out")                                                                        \
	X(IP_OUT_FRAGMENTED, "ip.out_fragmented")                                                  \
	X(IP_OUT_FRAGMENTS, "ip.out_fragments")                                                    \
	X(IP_OUT_NO_ROUTE, "ip.out_no_route")                                                      \
	X(IP_OUT_DF_TOO_BIG, "ip.out_df_too_big")                                                  \
	X(IP_OUT_TOO_BIG, "ip.out_too_big")                                                        \
	X(IP_OUT_NO_BUFFER, "ip.out_no_buffer")                                                    \
	X(IP_PMTU_LEARNED, "ip.pmtu_learned")                                                      \
	X(IP_PMTU_EXPIRED, "ip.pmtu_expired")                                                      \
	X(ICMP_IN, "icmp.in")                                                                      \
	X(ICMP_IN_ECHO_REQUESTS, "icmp.in_echo_requests")                                          \
	X(ICMP_IN_ECHO_REPLIES, "icmp.in_echo_replies")                                            \
	X(ICMP_IN_DEST_UNREACH, "icmp.in_dest_unreach")                                            \
	X(ICMP_IN_FRAG_NEEDED, "icmp.in_frag_needed")                                              \
	X(ICMP_IN_TIME_EXCEEDED, "icmp.in_time_exceeded")                                          \
	X(ICMP_IN_PARAM_PROBLEM, "icmp.in_param_problem")                                          \
	X(ICMP_IN_SOURCE_QUENCH, "icmp.in_source_quench")                                          \
	X(ICMP_IN_REDIRECT, "icmp.in_redirect")                                                    \
	X(ICMP_IN_ERRORS_UNCLAIMED, "icmp.in_errors_unclaimed")                                    \
	X(ICMP_DROP_TRUNCATED, "icmp.drop_truncated")                                              \
	X(ICMP_DROP_BAD_CHECKSUM, "icmp.drop_bad_checksum")                                        \
	X(ICMP_DROP_UNKNOWN_TYPE, "icmp.drop_unknown_type")                                        \
	X(ICMP_DROP_ECHO_BROADCAST, "icmp.drop_echo_broadcast")                                    \
	X(ICMP_DROP_ECHO_REPLY_UNMATCHED, "icmp.drop_echo_reply_unmatched")                        \
	X(ICMP_DROP_BAD_QUOTE, "icmp.drop_bad_quote")                                              \
	X(ICMP_DROP_QUOTE_NOT_OURS, "icmp.drop_quote_not_ours")                                    \
	X(ICMP_PMTU_IGNORED, "icmp.frag_needed_ignored")                                           \
	X(ICMP_OUT_ECHO_REQUESTS, "icmp.out_echo_requests")                                        \
	X(ICMP_OUT_ECHO_REPLIES, "icmp.out_echo_replies")                                          \
	X(ICMP_OUT_ERRORS, "icmp.out_errors")                                                      \
	X(ICMP_OUT_RATE_LIMITED, "icmp.out_rate_limited")                                          \
	X(ICMP_NOERR_ABOUT_ERROR, "icmp.error_suppressed_about_error")                             \
	X(ICMP_NOERR_GROUP_DST, "icmp.error_suppressed_group_dst")                                 \
	X(ICMP_NOERR_LINK_BCAST, "icmp.error_suppressed_link_bcast")                               \
	X(ICMP_NOERR_FRAGMENT, "icmp.error_suppressed_fragment")                                   \
	X(ICMP_NOERR_BAD_SOURCE, "icmp.error_suppressed_bad_source")                               \
	X(ICMP_NOERR_MALFORMED, "icmp.error_suppressed_malformed")

#endif

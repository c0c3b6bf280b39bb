/* SPDX-License-Identifier: MIT */
/*
 * udp_counters.h - the counters of UDP (udp.c) and raw IP sockets (raw.c),
 * like `netstat -s -u`: one per drop reason, named for it, so nothing is
 * lost silently. See counters.h for how the lists are put together.
 */
#ifndef USTACK_UDP_COUNTERS_H
#define USTACK_UDP_COUNTERS_H

#define US_UDP_COUNTERS(X)                                                                         \
	X(UDP_IN, "udp.in")                                                                        \
	X(UDP_IN_DELIVERED, "udp.in_delivered")                                                    \
	X(UDP_DROP_TRUNCATED, "udp.drop_truncated")                                                \
	X(UDP_DROP_BAD_LENGTH, "udp.drop_bad_length")                                              \
	X(UDP_DROP_BAD_CHECKSUM, "udp.drop_bad_checksum")                                          \
	X(UDP_DROP_ZERO_CHECKSUM6, "udp.drop_zero_checksum_ipv6")                                  \
	X(UDP_NO_PORT, "udp.no_port")                                                              \
	X(UDP_NO_PORT_GROUP, "udp.no_port_broadcast")                                              \
	X(UDP_DROP_OTHER_PEER, "udp.drop_not_from_connected_peer")                                 \
	X(UDP_DROP_RCVBUF_FULL, "udp.drop_rcvbuf_full")                                            \
	X(UDP_DROP_NO_BUFFER, "udp.drop_no_buffer")                                                \
	X(UDP_OUT, "udp.out")                                                                      \
	X(UDP_OUT_ERRORS, "udp.out_errors")                                                        \
	X(UDP_ICMP_ERR_REPORTED, "udp.icmp_error_reported")                                        \
	X(UDP_ICMP_ERR_UNCONNECTED, "udp.icmp_error_ignored_unconnected")                          \
	X(UDP_ICMP_ERR_SOFT, "udp.icmp_error_ignored_soft")                                        \
	X(UDP_ICMP_ERR_NO_SOCKET, "udp.icmp_error_no_socket")                                      \
	X(UDP_ICMP_ERR_BAD_QUOTE, "udp.icmp_error_bad_quote")

#define US_RAW_COUNTERS(X)                                                                         \
	X(RAW_IN_DELIVERED, "raw.in_delivered")                                                    \
	X(RAW_DROP_RCVBUF_FULL, "raw.drop_rcvbuf_full")                                            \
	X(RAW_DROP_NO_BUFFER, "raw.drop_no_buffer")                                                \
	X(RAW_DROP_BAD_CHECKSUM, "raw.drop_icmp6_bad_checksum")                                    \
	X(RAW_OUT, "raw.out")                                                                      \
	X(RAW_OUT_ERRORS, "raw.out_errors")

#endif

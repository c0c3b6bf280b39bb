/* SPDX-License-Identifier: MIT */
/*
 * tcp_counters.h - the counters of TCP (tcp*.c), like `netstat -s -t`: one
 * per drop reason and per notable event, so nothing is lost silently. See
 * counters.h for how the lists are put together.
 */
#ifndef USTACK_TCP_COUNTERS_H
#define USTACK_TCP_COUNTERS_H

#define US_TCP_COUNTERS(X)                                                                         \
	X(TCP_IN_SEGS, "tcp.in_segs")                                                              \
	X(TCP_OUT_SEGS, "tcp.out_segs")                                                            \
	X(TCP_OUT_ERRORS, "tcp.out_errors")                                                        \
	X(TCP_RETRANS_SEGS, "tcp.retrans_segs")                                                    \
	X(TCP_ACTIVE_OPENS, "tcp.active_opens")                                                    \
	X(TCP_PASSIVE_OPENS, "tcp.passive_opens")                                                  \
	X(TCP_ESTAB_RESETS, "tcp.estab_resets")                                                    \
	X(TCP_ATTEMPT_FAILS, "tcp.attempt_fails")                                                  \
	X(TCP_OUT_RSTS, "tcp.out_rsts")                                                            \
	X(TCP_DROP_TRUNCATED, "tcp.drop_truncated")                                                \
	X(TCP_DROP_BAD_HEADER, "tcp.drop_bad_header")                                              \
	X(TCP_DROP_BAD_CHECKSUM, "tcp.drop_bad_checksum")                                          \
	X(TCP_DROP_BAD_ADDRESS, "tcp.drop_bad_address")                                            \
	X(TCP_DROP_NO_SOCKET, "tcp.drop_no_socket")                                                \
	X(TCP_DROP_NOT_ACCEPTABLE, "tcp.drop_not_acceptable")                                      \
	X(TCP_DROP_BAD_ACK, "tcp.drop_bad_ack")                                                    \
	X(TCP_DROP_RST_INEXACT, "tcp.drop_rst_not_at_rcv_nxt")                                     \
	X(TCP_DROP_BEYOND_WINDOW, "tcp.drop_data_beyond_window")                                   \
	X(TCP_DROP_NO_ACK, "tcp.drop_no_ack")                                                      \
	X(TCP_DROP_LISTEN_BAD_FLAGS, "tcp.drop_listen_bad_flags")                                  \
	X(TCP_DROP_SYN_SENT_BAD, "tcp.drop_syn_sent_bad")                                          \
	X(TCP_DROP_OUT_OF_ORDER_FULL, "tcp.drop_out_of_order_full")                                \
	X(TCP_DROP_AFTER_CLOSE, "tcp.drop_data_after_close")                                       \
	X(TCP_DROP_NO_MEMORY, "tcp.drop_no_memory")                                                \
	X(TCP_SYN_QUEUE_FULL, "tcp.syn_queue_full")                                                \
	X(TCP_LISTEN_OVERFLOW, "tcp.accept_queue_full")                                            \
	X(TCP_CONN_LIMIT, "tcp.connection_limit")                                                  \
	X(TCP_CHALLENGE_ACKS, "tcp.challenge_acks")                                                \
	X(TCP_CHALLENGE_ACK_LIMITED, "tcp.challenge_acks_limited")                                 \
	X(TCP_RST_RECEIVED, "tcp.rst_received")                                                    \
	X(TCP_OUT_OF_ORDER, "tcp.out_of_order_segs")                                               \
	X(TCP_DUP_ACKS, "tcp.dup_acks")                                                            \
	X(TCP_FAST_RETRANS, "tcp.fast_retransmits")                                                \
	X(TCP_RTO_TIMEOUTS, "tcp.rto_timeouts")                                                    \
	X(TCP_PERSIST_PROBES, "tcp.persist_probes")                                                \
	X(TCP_KEEPALIVE_PROBES, "tcp.keepalive_probes")                                            \
	X(TCP_TIMEOUT_DROPS, "tcp.timeout_drops")                                                  \
	X(TCP_DELAYED_ACKS, "tcp.delayed_acks")                                                    \
	X(TCP_TIME_WAIT_REUSED, "tcp.time_wait_reused")                                            \
	X(TCP_ICMP_ERRORS, "tcp.icmp_errors")                                                      \
	X(TCP_ICMP_ERRORS_IGNORED, "tcp.icmp_errors_ignored")                                      \
	X(TCP_WSCALE_CLAMPED, "tcp.wscale_above_14")                                               \
	X(TCP_DROP_NO_TIMESTAMP, "tcp.drop_no_timestamp")                                          \
	X(TCP_DROP_PAWS, "tcp.drop_paws")                                                          \
	X(TCP_DSACKS_SENT, "tcp.dsacks_sent")                                                      \
	X(TCP_DSACKS_RECEIVED, "tcp.dsacks_received")                                              \
	X(TCP_SACK_RECOVERIES, "tcp.sack_recoveries")                                              \
	X(TCP_SACK_RESCUES, "tcp.sack_rescue_retransmits")                                         \
	X(TCP_TLP_PROBES, "tcp.tlp_probes")                                                        \
	X(TCP_TLP_SKIPPED, "tcp.tlp_skipped")                                                      \
	X(TCP_TLP_RECOVERIES, "tcp.tlp_loss_detected")                                             \
	X(TCP_TLP_REPAIRS, "tcp.tlp_repairs")                                                      \
	X(TCP_SYN_QUEUE_EARLY_DROPS, "tcp.syn_queue_early_drops")                                  \
	X(TCP_SYNCOOKIES_SENT, "tcp.syncookies_sent")                                              \
	X(TCP_SYNCOOKIES_RECV, "tcp.syncookies_recv")                                              \
	X(TCP_SYNCOOKIES_FAILED, "tcp.syncookies_failed")                                        \
	X(TCP_ECN_NEGOTIATED, "tcp.ecn_negotiated")                                                \
	X(TCP_ECN_SYN_FALLBACKS, "tcp.ecn_syn_fallbacks")                                          \
	X(TCP_ECN_CE_RECEIVED, "tcp.ecn_ce_received")                                              \
	X(TCP_ECN_CWND_REDUCTIONS, "tcp.ecn_cwnd_reductions")                                      \
	X(TCP_HYSTART_CSS, "tcp.hystart_css_entered")                                              \
	X(TCP_HYSTART_EXITS, "tcp.hystart_slow_start_exits")                                       \
	X(TCP_CWV_NVP, "tcp.cwv_non_validated")                                                    \
	X(TCP_CWV_NVP_END, "tcp.cwv_nvp_cwnd_halved")

#endif

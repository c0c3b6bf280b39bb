/* SPDX-License-Identifier: MIT */
/*
 * wire/tcp.h - the TCP header and its options on the wire: RFC 9293 §3.1
 * (header format) and §3.2 (options: EOL, NOP, MSS), RFC 7323 §2-3 (window
 * scale, timestamps), RFC 2018 §2-3 (SACK-permitted, SACK), RFC 6691 (what
 * the MSS value means).
 *
 * Read first: RFC 9293 §3.1-3.2, then checksum.h. The state machine that
 * uses these structs is in tcp_*.c, not here.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Source Port          |       Destination Port        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                        Sequence Number                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Acknowledgment Number                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Data |       |C|E|U|A|P|R|S|F|                               |
 *   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *   |       |       |R|E|G|K|H|T|N|N|                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           Checksum            |         Urgent Pointer        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           [Options]                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                             Data ...
 *
 *   Data Offset counts 32-bit words (5..15: a 20 to 60 byte header, so at
 *   most 40 bytes of options). The checksum covers the pseudo-header
 *   (us_csum_pseudo4/6 with protocol 6 and the segment length), the header
 *   and the data.
 *
 *   Options (kind, length in bytes including kind and length):
 *     0  EOL             1 byte           end of option list
 *     1  NOP             1 byte           padding
 *     2  MSS             4   | MSS (16)                          RFC 9293 §3.2
 *     3  Window scale    3   | shift.cnt (8)                     RFC 7323 §2.2
 *     4  SACK-permitted  2                                       RFC 2018 §2
 *     5  SACK            2+8n| n x (left edge (32), right edge (32))  RFC 2018 §3
 *     8  Timestamps      10  | TSval (32) | TSecr (32)           RFC 7323 §3.2
 */
#ifndef USTACK_WIRE_TCP_H
#define USTACK_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define US_TCP_HDR_LEN	   20 /* without options */
#define US_TCP_MAX_HDR_LEN 60 /* Data Offset 15 */
#define US_TCP_MAX_OPT_LEN 40

/* Flags (byte 13). */
#define US_TCP_FIN 0x01
#define US_TCP_SYN 0x02
#define US_TCP_RST 0x04
#define US_TCP_PSH 0x08
#define US_TCP_ACK 0x10
#define US_TCP_URG 0x20
#define US_TCP_ECE 0x40 /* RFC 3168 §6.1 */
#define US_TCP_CWR 0x80

/* Option kinds. */
#define US_TCP_OPT_EOL	     0
#define US_TCP_OPT_NOP	     1
#define US_TCP_OPT_MSS	     2
#define US_TCP_OPT_WSCALE    3
#define US_TCP_OPT_SACK_PERM 4
#define US_TCP_OPT_SACK	     5
#define US_TCP_OPT_TS	     8

/* The largest shift RFC 7323 §2.3 allows. */
#define US_TCP_MAX_WSCALE 14
/* SACK blocks that fit in 40 bytes of options (RFC 2018 §3). */
#define US_TCP_MAX_SACK 4

struct us_tcp_opts {
	bool has_mss;
	uint16_t mss;
	bool has_wscale;
	uint8_t wscale;	     /* 0..14 */
	bool wscale_clamped; /* the segment said more than 14 (RFC 7323 §2.3) */
	bool sack_permitted;
	uint8_t sack_count; /* 0..4 */
	struct {
		uint32_t left, right;
	} sack[US_TCP_MAX_SACK];
	bool has_ts;
	uint32_t ts_val, ts_ecr;
};

struct us_tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len; /* bytes, options included (Data Offset * 4) */
	uint8_t flags;	 /* US_TCP_FIN ... US_TCP_CWR */
	uint16_t window, checksum, urgent;
	struct us_tcp_opts opts;
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Parse a TCP segment of len bytes (the IP payload; TCP has no length field
 * of its own). Returns:
 *   US_WIRE_TRUNCATED     len < 20
 *   US_WIRE_BAD_HDR_LEN   Data Offset < 5
 *   US_WIRE_HDR_PAST_END  Data Offset * 4 > len
 *   US_WIRE_OPT_PAST_END  an option's length byte, or its body, is past the header
 *   US_WIRE_OPT_BAD_LEN   an option length of 0 or 1 (RFC 9293 §3.1, MUST-7:
 *                         "TCP implementations MUST be prepared to handle an
 *                         illegal option length (e.g., zero)"), or a known kind
 *                         with the wrong length: MSS != 4, WS != 3,
 *                         SACK-permitted != 2, TS != 10, SACK not 2+8n, n in 1..4
 * EOL ends the list (bytes after it are padding). Options are read in any
 * segment (RFC 9293 §3.1, MUST-5) at any byte offset (§3.2, MUST-64); unknown
 * kinds are skipped by their length (§3.1, MUST-6: "ignore without error any
 * TCP Option it does not implement, assuming that the option has a length
 * field"). A window scale above 14 becomes 14 with wscale_clamped set
 * (RFC 7323 §2.3: "MUST use 14 instead of the specified value"). When a kind
 * appears twice the last one wins. Whether an option is allowed in this segment (WS and MSS only on
 * a SYN) is the state machine's business. The checksum is not verified:
 * us_tcp_csum_ok() does that, and the caller may skip it when the driver
 * vouches for the checksum.
 */
int us_tcp_parse(const uint8_t *buf, size_t len, struct us_tcp_hdr *out);

/* True when the segment buf[0..seg_len) plus the pseudo-header sum verifies. */
bool us_tcp_csum_ok(const uint8_t *buf, size_t seg_len, uint32_t pseudo);

/*
 * The bytes us_tcp_emit() writes for these options, always a multiple of 4.
 * May exceed 40, in which case emit refuses them. Layout, as Linux writes
 * it (tcp_options_write), so that 32-bit fields stay 32-bit aligned:
 *   MSS                        02 04 mm mm                    4 bytes
 *   SACK-permitted with TS     04 02 08 0a <TSval> <TSecr>    12 ("sackOK,TS")
 *   TS alone                   01 01 08 0a <TSval> <TSecr>    12 ("nop,nop,TS")
 *   SACK-permitted alone       01 01 04 02                    4
 *   window scale               01 03 03 ss                    4 ("nop,wscale")
 *   SACK blocks                01 01 05 ll <blocks>           4 + 8n
 */
size_t us_tcp_opts_len(const struct us_tcp_opts *o);

/*
 * Write the header and the options of h->opts (layout above) at buf:
 * Data Offset computed (h->hdr_len is not read), reserved bits zero,
 * checksum = h->checksum (0 to fill later). h->payload is not read: the
 * caller puts the payload after the header, then calls us_tcp_csum_fill().
 * The MSS value is the caller's choice: RFC 6691 §2 / RFC 9293 §3.7.1 say
 * it is the MTU less the fixed IP and TCP headers (1460 on a 1500 IPv4 link).
 * Returns the header length, or 0 when the options do not fit in 40 bytes,
 * sack_count > 4, wscale > 14, or cap is too small.
 */
size_t us_tcp_emit(const struct us_tcp_hdr *h, uint8_t *buf, size_t cap);

/* Compute and store the checksum of the segment buf[0..seg_len) (header
 * and payload in place) plus pseudo = us_csum_pseudo4(src, dst, 6, seg_len)
 * or us_csum_pseudo6(src, dst, 6, seg_len). Nothing when seg_len < 20. */
void us_tcp_csum_fill(uint8_t *buf, size_t seg_len, uint32_t pseudo);

/*
 * Flags in tcpdump's notation, in tcpdump's order: F S R P . U E W, where
 * '.' is ACK, 'E' is ECE and 'W' is CWR. So a SYN is "S", a SYN-ACK "S.",
 * a pure ACK ".", FIN-ACK "F.", PSH-ACK "P.", RST "R", RST-ACK "R.", and a
 * segment with no flag at all "none". Writes into buf and returns it.
 */
const char *us_tcp_flags_str(uint8_t flags, char buf[9]);

#endif

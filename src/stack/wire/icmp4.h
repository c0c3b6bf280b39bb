/* SPDX-License-Identifier: MIT */
/*
 * wire/icmp4.h - ICMP for IPv4 on the wire: RFC 792, with the next-hop MTU
 * of RFC 1191 §4 and the error classes of RFC 1122 §3.2.2.
 *
 * Read first: RFC 792's message formats (pages 4-9), then checksum.h.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     Type      |     Code      |          Checksum             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 rest of header (type specific)                |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 payload ...
 *
 *   rest of header, by type:
 *     echo / echo reply       Identifier (16)  | Sequence Number (16)
 *     dest unreachable        unused (16)      | Next-Hop MTU (16)  (code 4, RFC 1191 §4)
 *     time exceeded           unused (32)
 *     parameter problem       Pointer (8)      | unused (24)
 *   An error's payload is the offending datagram's IP header and at least its
 *   first 8 data bytes (RFC 792; RFC 1812 §4.3.2.3 allows more).
 *
 * The checksum covers the whole ICMP message, with no pseudo-header
 * (RFC 792: "the 16-bit one's complement of the one's complement sum of the
 * ICMP message starting with the ICMP Type").
 */
#ifndef USTACK_WIRE_ICMP4_H
#define USTACK_WIRE_ICMP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define US_ICMP4_HDR_LEN 8

/* Types (RFC 792). */
#define US_ICMP4_ECHO_REPLY    0
#define US_ICMP4_DEST_UNREACH  3
#define US_ICMP4_SOURCE_QUENCH 4 /* deprecated by RFC 6633; still an error message */
#define US_ICMP4_REDIRECT      5
#define US_ICMP4_ECHO	       8
#define US_ICMP4_TIME_EXCEEDED 11
#define US_ICMP4_PARAM_PROBLEM 12

/* Destination unreachable codes (RFC 792, RFC 1191, RFC 1812 §5.2.7.1). */
#define US_ICMP4_UNREACH_NET	     0
#define US_ICMP4_UNREACH_HOST	     1
#define US_ICMP4_UNREACH_PROTO	     2
#define US_ICMP4_UNREACH_PORT	     3
#define US_ICMP4_UNREACH_FRAG_NEEDED 4 /* "fragmentation needed and DF set" */
#define US_ICMP4_UNREACH_SRC_ROUTE   5
#define US_ICMP4_UNREACH_ADMIN	     13 /* communication administratively prohibited */

/* Time exceeded codes. */
#define US_ICMP4_TIMEX_TTL	  0 /* time to live exceeded in transit */
#define US_ICMP4_TIMEX_REASSEMBLY 1 /* fragment reassembly time exceeded */

/* Parameter problem codes. */
#define US_ICMP4_PARAM_POINTER 0 /* the pointer indicates the error */

/*
 * A parsed ICMPv4 message. `rest` is bytes 4..7 in host order; read it
 * through the accessors below. payload points into the parsed buffer.
 */
struct us_icmp4_hdr {
	uint8_t type, code;
	uint16_t checksum;
	uint32_t rest;
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Parse an ICMPv4 message of len bytes (the IP payload). Returns
 * US_WIRE_TRUNCATED when len < 8 and US_WIRE_BAD_CHECKSUM when the checksum
 * over the whole message does not verify (dropping it, and counting the
 * drop, is the caller's business).
 */
int us_icmp4_parse(const uint8_t *buf, size_t len, struct us_icmp4_hdr *out);

/*
 * Write the 8-byte header at buf and the checksum over buf[0 .. 8 +
 * h->payload_len). The payload must already be in place at buf + 8:
 * h->payload is not read, and h->checksum is ignored. Returns 8, or 0 when
 * cap < 8 + h->payload_len.
 */
size_t us_icmp4_emit(const struct us_icmp4_hdr *h, uint8_t *buf, size_t cap);

/* True for the error messages of RFC 1122 §3.2.2 (destination unreachable,
 * source quench, redirect, time exceeded, parameter problem), which must
 * never be sent in answer to another error (RFC 1122 §3.2.2). */
bool us_icmp4_is_error(uint8_t type);

static inline uint16_t us_icmp4_echo_id(const struct us_icmp4_hdr *h)
{
	return (uint16_t)(h->rest >> 16);
}

static inline uint16_t us_icmp4_echo_seq(const struct us_icmp4_hdr *h)
{
	return (uint16_t)h->rest;
}

/* RFC 1191 §4: the low 16 bits of a "fragmentation needed" message; 0 from
 * routers that predate RFC 1191. */
static inline uint16_t us_icmp4_next_hop_mtu(const struct us_icmp4_hdr *h)
{
	return (uint16_t)h->rest;
}

/* The octet of the original datagram where a parameter problem was found. */
static inline uint8_t us_icmp4_param_pointer(const struct us_icmp4_hdr *h)
{
	return (uint8_t)(h->rest >> 24);
}

/* `rest` values for emitting. */
static inline uint32_t us_icmp4_echo_rest(uint16_t id, uint16_t seq)
{
	return (uint32_t)id << 16 | seq;
}

static inline uint32_t us_icmp4_frag_needed_rest(uint16_t next_hop_mtu)
{
	return next_hop_mtu;
}

static inline uint32_t us_icmp4_param_rest(uint8_t pointer)
{
	return (uint32_t)pointer << 24;
}

#endif

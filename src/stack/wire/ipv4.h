/* SPDX-License-Identifier: MIT */
/*
 * wire/ipv4.h - the IPv4 header (RFC 791 §3.1, RFC 1122 §3.2.1), IPv4
 * address classes (RFC 1122 §3.2.1.3, RFC 6890) and dotted-quad text.
 *
 * Read first: wire/wire.h (error codes, parser/emitter contract),
 * wire/bytes.h, and wire/checksum.h (the header checksum).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Identification        |R|D|M|      Fragment Offset    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Source Address                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Destination Address                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Options                    |    Padding    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   IHL is in 32-bit words (5..15); Total Length counts header and data;
 *   flags: R reserved, D don't fragment, M more fragments; the Fragment
 *   Offset is in 8-octet units (this API uses bytes).
 *
 * Parser decisions (checks run in this order, each with its own code):
 *   len < 20                         US_WIRE_TRUNCATED
 *   version != 4                     US_WIRE_BAD_VERSION
 *   IHL < 5                          US_WIRE_BAD_HDR_LEN
 *   IHL * 4 > len                    US_WIRE_HDR_PAST_END
 *   total length < IHL*4 or > len    US_WIRE_BAD_TOTAL_LEN
 *   header checksum wrong            US_WIRE_BAD_CHECKSUM (RFC 1122 §3.2.1.2 MUST)
 *   option runs past the header      US_WIRE_OPT_PAST_END
 *   option length < 2                US_WIRE_OPT_BAD_LEN
 *   fragment offset + data > 65535   US_WIRE_BAD_FIELD (no datagram can reassemble
 *                                    from it: the "ping of death")
 * - A total length shorter than the buffer is normal (Ethernet pads frames to
 *   60 bytes): the padding is trimmed, payload_len = total_len - hdr_len.
 * - The reserved flag bit is ignored (RFC 791 §3.1 "must be zero" is a rule
 *   for senders; Linux ignores it as well).
 * - Options are walked only for well-formedness (RFC 791 §3.1: option-type
 *   0 End of Option List ends the list, 1 No Operation is one byte, every
 *   other option has a length octet counting type and length). Their meaning
 *   is not interpreted; RFC 1122 §3.2.1.8 "MUST ignore" unknown ones.
 * - Source address checks (martians) are the caller's: the helpers below.
 */
#ifndef USTACK_WIRE_IPV4_H
#define USTACK_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/ipproto.h"
#include "wire/wire.h"

#define US_IPV4_HDR_LEN	    20 /* without options */
#define US_IPV4_MAX_HDR_LEN 60 /* IHL 15 */
#define US_IPV4_MAX_OPT_LEN 40
#define US_IPV4_MAX_LEN	    65535 /* Total Length is 16 bits */

#define US_IPV4_OPT_EOL 0 /* End of Option List */
#define US_IPV4_OPT_NOP 1 /* No Operation */

/* "255.255.255.255" and its NUL. */
#define US_IPV4_TEXT_MAX 16

struct us_ipv4_hdr {
	uint8_t hdr_len;    /* bytes, IHL * 4 (parse output only) */
	uint8_t tos;	    /* DSCP (6) and ECN (2), RFC 2474 / RFC 3168 */
	uint16_t total_len; /* header + data, bytes (parse output only) */
	uint16_t id;
	bool df, mf;	      /* Don't Fragment, More Fragments */
	uint16_t frag_offset; /* bytes: the field times 8 */
	uint8_t ttl;
	uint8_t proto;		/* US_IPPROTO_* */
	uint16_t checksum;	/* as received (parse output only) */
	uint32_t src, dst;	/* host order */
	const uint8_t *options; /* NULL when options_len is 0 */
	size_t options_len;	/* bytes between the fixed header and hdr_len */
	const uint8_t *payload; /* buf + hdr_len */
	size_t payload_len;	/* total_len - hdr_len */
};

/* Parse and verify an IPv4 header; see the table above for the codes. */
int us_ipv4_parse(const uint8_t *buf, size_t len, struct us_ipv4_hdr *out);

/*
 * Parse the IPv4 header quoted in an ICMP error (RFC 792: "Internet Header +
 * 64 bits of Original Data Datagram"; RFC 1812 §4.3.2.3 allows more), to
 * find the protocol, addresses and ports it was about. The datagram is cut
 * short by design, so a Total Length beyond len is accepted and payload_len
 * is the bytes present (min(total_len, len) - hdr_len); the header checksum
 * is not verified (RFC 1122 §3.2.2 does not ask it, and NATs rewrite quoted
 * addresses without fixing it), nor is the fragment limit. Every other check,
 * and its code, is that of us_ipv4_parse().
 */
int us_ipv4_parse_quoted(const uint8_t *buf, size_t len, struct us_ipv4_hdr *out);

/*
 * Write an IPv4 header and return its length (20 + options, padded with
 * End-of-Option-List zeros to a multiple of 4), or 0 when cap is too small,
 * options_len > 40, frag_offset is not a multiple of 8, or the header plus
 * payload_len exceeds 65535.
 *
 * Read from h: tos, id, df, mf, frag_offset, ttl, proto, src, dst, options,
 * options_len, payload_len. Total Length is written as the header length plus
 * h->payload_len; h->hdr_len, h->total_len and h->checksum are ignored, and
 * the header checksum is computed (RFC 791 §3.1). The reserved flag is 0.
 */
size_t us_ipv4_emit(const struct us_ipv4_hdr *h, uint8_t *buf, size_t cap);

/* ---- Address classes (host order) ---------------------------------------- */

/* 224.0.0.0/4, RFC 1112 §4 (class D). */
bool us_ipv4_is_multicast(uint32_t addr);
/* 255.255.255.255, RFC 1122 §3.2.1.3 (c). */
bool us_ipv4_is_limited_broadcast(uint32_t addr);
/* 127.0.0.0/8, RFC 1122 §3.2.1.3 (g). */
bool us_ipv4_is_loopback(uint32_t addr);
/* 0.0.0.0/8 ("this network"), RFC 1122 §3.2.1.3 (a)/(b), RFC 6890. */
bool us_ipv4_is_zero_net(uint32_t addr);

/*
 * A source address that must never appear on a wire, as a host sees it:
 *   0.0.0.0/8    RFC 1122 §3.2.1.3 (a)/(b): { 0, 0 } "MUST NOT be sent, except
 *                as a source address as part of an initialization procedure"
 *                (DHCP, RFC 5227 ARP probes); { 0, Host } MUST NOT be sent.
 *                0.0.0.0 itself IS reported martian: a caller that allows it
 *                (a DHCP server, ARP probe handling) tests for 0 first.
 *   127.0.0.0/8  RFC 1122 §3.2.1.3 (g): "MUST NOT appear outside a host".
 *   224.0.0.0/4  multicast: RFC 1122 §3.2.1.3 "An IP source address is ...
 *                never ... multicast", RFC 1112 §4.
 *   240.0.0.0/4  reserved (RFC 1112 §4 class E, RFC 6890 "Source: False"),
 *                including 255.255.255.255, which RFC 1122 §3.2.1.3 (c) says
 *                "MUST NOT be used as a source address". Linux treats 240/4
 *                the same way by default.
 * Subnet-directed broadcasts ({ Network, -1 }) are martian too, but only the
 * caller knows the prefixes: it checks them itself.
 */
bool us_ipv4_is_martian_src(uint32_t addr);

/* ---- Text ----------------------------------------------------------------- */

/*
 * Strict dotted quad: exactly four decimal numbers 0..255 separated by '.',
 * each 1..3 digits with no leading zero ("0" itself is fine), no sign, no
 * spaces, nothing after. inet_aton's shorthand ("10.1", "0x7f.1", "010.0.0.1"
 * as octal) is refused: it is a classic source of confusion. Returns 0 and
 * writes *out (host order), or US_WIRE_BAD_FIELD and leaves *out alone.
 */
int us_ipv4_parse_text(const char *s, uint32_t *out);

/* Write "a.b.c.d" and a NUL into buf; returns the length without the NUL
 * (7..15). */
size_t us_ipv4_format(uint32_t addr, char buf[US_IPV4_TEXT_MAX]);

#endif

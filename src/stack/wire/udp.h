/* SPDX-License-Identifier: MIT */
/*
 * wire/udp.h - the UDP header (RFC 768), its checksum over the IPv4
 * (RFC 768) or IPv6 (RFC 8200 §8.1) pseudo-header.
 *
 * Read first: RFC 768 (three pages), then checksum.h.
 *
 *    0      7 8     15 16    23 24    31
 *   +--------+--------+--------+--------+
 *   |     Source      |   Destination   |
 *   |      Port       |      Port       |
 *   +--------+--------+--------+--------+
 *   |                 |                 |
 *   |     Length      |    Checksum     |
 *   +--------+--------+--------+--------+
 *   |          data octets ...
 *
 * Length counts the header and the data (so >= 8). The checksum covers the
 * pseudo-header, the UDP header and the data. A checksum field of 0 means
 * "no checksum" (RFC 768: "An all zero transmitted checksum value means that
 * the transmitter generated no checksum"), so a computed 0 is sent as 0xffff.
 * Over IPv6 the checksum is mandatory (RFC 8200 §8.1: "IPv6 receivers must
 * discard UDP packets containing a zero checksum").
 */
#ifndef USTACK_WIRE_UDP_H
#define USTACK_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define US_UDP_HDR_LEN 8

struct us_udp_hdr {
	uint16_t sport, dport, length, checksum;
	const uint8_t *payload;
	size_t payload_len; /* length - 8 */
};

/*
 * Parse a UDP datagram of len bytes (the IP payload). Returns
 * US_WIRE_TRUNCATED when len < 8, US_WIRE_BAD_TOTAL_LEN when the length
 * field is below 8 or above len. A length field shorter than len trims the
 * payload (the rest is link padding or junk, and is not the datagram's).
 * The checksum is not verified: see us_udp_csum_ok(), which a caller may
 * skip when the driver vouches for the checksum.
 */
int us_udp_parse(const uint8_t *buf, size_t len, struct us_udp_hdr *out);

/*
 * True when the datagram buf[0..udp_len) (udp_len: its length field, as
 * parsed) with the pseudo-header sum verifies, or when its checksum field is
 * 0 ("none": valid over IPv4 only). Callers on IPv6 MUST reject a zero
 * checksum field themselves before calling this (RFC 8200 §8.1). False when
 * udp_len < 8.
 */
bool us_udp_csum_ok(const uint8_t *buf, size_t udp_len, uint32_t pseudo);

/*
 * Write the 8-byte header: ports from h, Length = 8 + h->payload_len
 * (h->length is not read), Checksum = h->checksum (0 to fill it later with
 * us_udp_csum_fill(), or to send none over IPv4). Returns 8, or 0 when
 * cap < 8 or 8 + payload_len does not fit the 16-bit Length field.
 */
size_t us_udp_emit(const struct us_udp_hdr *h, uint8_t *buf, size_t cap);

/*
 * Compute the checksum over buf[0..udp_len) (header, with the payload in
 * place after it) plus pseudo, and store it; a computed 0 is stored as
 * 0xffff (RFC 768). pseudo is us_csum_pseudo4(src, dst, 17, udp_len) or
 * us_csum_pseudo6(src, dst, 17, udp_len). Does nothing when udp_len < 8.
 */
void us_udp_csum_fill(uint8_t *buf, size_t udp_len, uint32_t pseudo);

#endif

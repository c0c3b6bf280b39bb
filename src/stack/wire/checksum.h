/* SPDX-License-Identifier: MIT */
/*
 * wire/checksum.h - the Internet checksum: RFC 1071 (computing it), RFC 1624
 * (updating it incrementally), and the pseudo-headers of RFC 9293 §3.1 /
 * RFC 768 (IPv4) and RFC 8200 §8.1 (IPv6).
 *
 * Read first: RFC 1071 §1-2, which explains why a ones' complement sum can be
 * computed in any byte order, in any word width, and in pieces.
 *
 * Byte order. A *partial sum* here is the ones' complement sum of the data
 * read as big-endian (network order) 16-bit words, kept in a uint32_t that is
 * not yet complemented and may not be fully folded. Because it is a plain
 * number in host order, the pseudo-header helpers can add host-order fields
 * (an IPv4 address as a uint32_t, a length) to it directly, and
 * us_csum_fold() returns a host-order value to store with us_put_be16().
 * Internally us_csum_partial() sums the bytes as they lie in memory, 8 at a
 * time, and byte-swaps the folded result once on a little-endian host
 * (RFC 1071 §2(B): the sum is byte-order independent up to that swap).
 *
 * Chaining. A sum over several buffers is us_csum_partial(b2, n2,
 * us_csum_partial(b1, n1, pseudo)). Every chunk but the last MUST have an
 * even length: an odd chunk is padded with a zero byte (RFC 1071 §4.1's
 * "odd byte"), which is right only at the very end of the data.
 *
 * Zero. With end-around carry the sum of data that is not all zero bytes is
 * never 0 (where a twos' complement sum would wrap to 0 it gives 0xffff, the
 * other ones' complement zero), so a computed checksum is 0x0000 only
 * when the sum is 0xffff; it is 0xffff only for all-zero data. UDP, where
 * 0 means "no checksum", maps a computed 0 to 0xffff (udp.h).
 */
#ifndef USTACK_WIRE_CHECKSUM_H
#define USTACK_WIRE_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

/*
 * Add buf[0..len) to the partial sum `sum` (any uint32_t value is accepted)
 * and return the new partial sum, folded to 0..0xffff. Any alignment of buf,
 * any length; an odd length pads the last byte with a zero (see Chaining).
 */
uint32_t us_csum_partial(const void *buf, size_t len, uint32_t sum);

/*
 * Copy src[0..len) to dst and add it to the partial sum `sum` in the same
 * pass: the result equals memcpy(dst, src, len) followed by
 * us_csum_partial(src, len, sum), with the same chaining and odd-length
 * rules (an odd length pads the last byte, so only the last chunk of the
 * data may be odd; see us_csum_add_at() for chunks that start at an odd
 * offset). Any alignment of either buffer; they must not overlap. One pass
 * over the bytes instead of two is the point: the bytes are loaded once,
 * stored once and summed from the register they were loaded into.
 */
uint32_t us_csum_copy(void *dst, const void *src, size_t len, uint32_t sum);

/*
 * Add `part`, the partial sum (us_csum_partial/us_csum_copy started from
 * 0) of a chunk that lies at byte offset `at` of the data, to `sum`. RFC
 * 1071 §2(B): a chunk that starts at an odd offset has each of its bytes
 * in the other half of a 16-bit word than its own sum assumed, so its sum
 * is byte-swapped first. This is how a sum survives a ring that wraps at
 * an odd position: sum = us_csum_add_at(s1, s2, len1).
 */
uint32_t us_csum_add_at(uint32_t sum, uint32_t part, size_t at);

/* Fold a partial sum to 16 bits and complement it: the value to store in a
 * checksum field, in host order (write it with us_put_be16). */
uint16_t us_csum_fold(uint32_t sum);

/*
 * The IPv4 pseudo-header's partial sum (RFC 9293 §3.1, RFC 768):
 * source, destination, zero, protocol, and the TCP/UDP length (header plus
 * data), all host order. len is 32 bits for symmetry with IPv6; IPv4 callers
 * pass at most 65535.
 */
uint32_t us_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len);

/*
 * The IPv6 pseudo-header's partial sum (RFC 8200 §8.1): source, destination,
 * 32-bit upper-layer packet length, three zero bytes, next header. "If the
 * IPv6 packet contains a Routing header, the Destination Address used in the
 * pseudo-header is that of the final destination": the caller passes that.
 */
uint32_t us_csum_pseudo6(const struct us_ip6 *src, const struct us_ip6 *dst, uint8_t next,
			 uint32_t len);

/* True when buf[0..len), checksum field included, plus the pseudo-header sum
 * `pseudo` (0 when there is none, as for IPv4 and ICMPv4) verifies: its ones'
 * complement sum is 0xffff ("all ones", RFC 1071 §1 (3)). */
bool us_csum_ok(const void *buf, size_t len, uint32_t pseudo);

/*
 * Zero the 16-bit field at buf+csum_at, compute the checksum over buf[0..len)
 * plus `pseudo`, and store it there in network order. The field must lie
 * inside buf (csum_at + 2 <= len); otherwise nothing is written.
 */
void us_csum_fill(uint8_t *buf, size_t len, size_t csum_at, uint32_t pseudo);

/*
 * RFC 1624 §3 eqn. 3: the new checksum field value after one 16-bit word of
 * the checksummed data changed from old_word to new_word (all host order):
 * HC' = ~(~HC + ~m + m'). Use it to rewrite a TTL or a port without
 * summing the whole packet again.
 */
uint16_t us_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);

/* The same for an aligned 32-bit field (an IPv4 address, a sequence number). */
uint16_t us_csum_update32(uint16_t csum, uint32_t old_word, uint32_t new_word);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * wire/icmp4.c - parse and build ICMPv4 messages (RFC 792, RFC 1191 §4).
 *
 * Read first: icmp4.h. What to do with a message (answer an echo, lower a
 * path MTU, hand an error to TCP) is the icmp module's business, not this one.
 */
#include "wire/icmp4.h"

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/wire.h"

int us_icmp4_parse(const uint8_t *buf, size_t len, struct us_icmp4_hdr *out)
{
	if (len < US_ICMP4_HDR_LEN)
		return US_WIRE_TRUNCATED;
	/* RFC 792: the checksum covers the ICMP message from the Type on. */
	if (!us_csum_ok(buf, len, 0))
		return US_WIRE_BAD_CHECKSUM;

	out->type = buf[0];
	out->code = buf[1];
	out->checksum = us_get_be16(buf + 2);
	out->rest = us_get_be32(buf + 4);
	out->payload = buf + US_ICMP4_HDR_LEN;
	out->payload_len = len - US_ICMP4_HDR_LEN;
	return US_WIRE_OK;
}

size_t us_icmp4_emit(const struct us_icmp4_hdr *h, uint8_t *buf, size_t cap)
{
	if (cap < US_ICMP4_HDR_LEN || cap - US_ICMP4_HDR_LEN < h->payload_len)
		return 0;
	buf[0] = h->type;
	buf[1] = h->code;
	us_put_be32(buf + 4, h->rest);
	us_csum_fill(buf, US_ICMP4_HDR_LEN + h->payload_len, 2, 0);
	return US_ICMP4_HDR_LEN;
}

bool us_icmp4_is_error(uint8_t type)
{
	switch (type) {
	case US_ICMP4_DEST_UNREACH:
	case US_ICMP4_SOURCE_QUENCH:
	case US_ICMP4_REDIRECT:
	case US_ICMP4_TIME_EXCEEDED:
	case US_ICMP4_PARAM_PROBLEM:
		return true;
	default:
		return false;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * wire/udp.c - parse and build UDP headers and their checksum (RFC 768,
 * RFC 8200 §8.1).
 *
 * Read first: udp.h. Demultiplexing to sockets is the udp module's job.
 */
#include "wire/udp.h"

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/wire.h"

int us_udp_parse(const uint8_t *buf, size_t len, struct us_udp_hdr *out)
{
	uint16_t length;

	if (len < US_UDP_HDR_LEN)
		return US_WIRE_TRUNCATED;
	length = us_get_be16(buf + 4);
	/* RFC 768: "the minimum value of the length is eight"; a length past
	 * the IP payload claims bytes that did not arrive. */
	if (length < US_UDP_HDR_LEN || length > len)
		return US_WIRE_BAD_TOTAL_LEN;

	out->sport = us_get_be16(buf);
	out->dport = us_get_be16(buf + 2);
	out->length = length;
	out->checksum = us_get_be16(buf + 6);
	out->payload = buf + US_UDP_HDR_LEN;
	out->payload_len = (size_t)length - US_UDP_HDR_LEN;
	return US_WIRE_OK;
}

bool us_udp_csum_ok(const uint8_t *buf, size_t udp_len, uint32_t pseudo)
{
	if (udp_len < US_UDP_HDR_LEN)
		return false;
	if (us_get_be16(buf + 6) == 0)
		return true; /* RFC 768: the transmitter generated no checksum */
	return us_csum_ok(buf, udp_len, pseudo);
}

size_t us_udp_emit(const struct us_udp_hdr *h, uint8_t *buf, size_t cap)
{
	if (cap < US_UDP_HDR_LEN || h->payload_len > 0xffffu - US_UDP_HDR_LEN)
		return 0;
	us_put_be16(buf, h->sport);
	us_put_be16(buf + 2, h->dport);
	us_put_be16(buf + 4, (uint16_t)(US_UDP_HDR_LEN + h->payload_len));
	us_put_be16(buf + 6, h->checksum);
	return US_UDP_HDR_LEN;
}

void us_udp_csum_fill(uint8_t *buf, size_t udp_len, uint32_t pseudo)
{
	uint16_t c;

	if (udp_len < US_UDP_HDR_LEN)
		return;
	us_put_be16(buf + 6, 0);
	c = us_csum_fold(us_csum_partial(buf, udp_len, pseudo));
	/* RFC 768: "If the computed checksum is zero, it is transmitted as all
	 * ones (the equivalent in one's complement arithmetic)." */
	us_put_be16(buf + 6, c ? c : 0xffff);
}

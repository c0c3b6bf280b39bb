/* SPDX-License-Identifier: MIT */
/*
 * wire/arp.c - ARP packet parsing and building for Ethernet/IPv4 (RFC 826
 * "Packet format" and "Packet Reception").
 *
 * Read first: wire/arp.h (the packet diagram and what is refused).
 */
#include "wire/arp.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/eth.h"

#define ARP_PLEN_IPV4 4

int us_arp_parse(const uint8_t *buf, size_t len, struct us_arp_pkt *out)
{
	if (len < US_ARP_LEN)
		return US_WIRE_TRUNCATED;

	/* RFC 826 "Packet Reception": check ar$hrd and ar$pro first; the
	 * lengths are checked too, because only with 6 and 4 do the fields
	 * below lie where we read them. */
	if (us_get_be16(buf) != US_ARP_HTYPE_ETHER || us_get_be16(buf + 2) != US_ETHERTYPE_IPV4 ||
	    buf[4] != US_ETH_ALEN || buf[5] != ARP_PLEN_IPV4)
		return US_WIRE_BAD_ARP;

	uint16_t op = us_get_be16(buf + 6);
	if (op != US_ARP_REQUEST && op != US_ARP_REPLY)
		return US_WIRE_BAD_FIELD;

	out->op = op;
	memcpy(out->sha, buf + 8, US_ETH_ALEN);
	out->spa = us_get_be32(buf + 14);
	memcpy(out->tha, buf + 18, US_ETH_ALEN);
	out->tpa = us_get_be32(buf + 24);
	return US_WIRE_OK;
}

size_t us_arp_emit(const struct us_arp_pkt *p, uint8_t *buf, size_t cap)
{
	if (cap < US_ARP_LEN)
		return 0;
	us_put_be16(buf, US_ARP_HTYPE_ETHER);
	us_put_be16(buf + 2, US_ETHERTYPE_IPV4);
	buf[4] = US_ETH_ALEN;
	buf[5] = ARP_PLEN_IPV4;
	us_put_be16(buf + 6, p->op);
	memcpy(buf + 8, p->sha, US_ETH_ALEN);
	us_put_be32(buf + 14, p->spa);
	memcpy(buf + 18, p->tha, US_ETH_ALEN);
	us_put_be32(buf + 24, p->tpa);
	return US_ARP_LEN;
}

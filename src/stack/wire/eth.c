/* SPDX-License-Identifier: MIT */
/*
 * wire/eth.c - Ethernet II and 802.1Q parsing and building; multicast MAC
 * mappings (RFC 1112 §6.4, RFC 2464 §7).
 *
 * Read first: wire/eth.h (the header diagram and the decisions on VLAN tags
 * and 802.3 length framing).
 */
#include "wire/eth.h"

#include <string.h>

#include "wire/bytes.h"

static bool is_vlan_tpid(uint16_t type)
{
	return type == US_ETHERTYPE_VLAN || type == US_ETHERTYPE_QINQ;
}

int us_eth_parse(const uint8_t *buf, size_t len, struct us_eth_hdr *out)
{
	if (len < US_ETH_HDR_LEN)
		return US_WIRE_TRUNCATED;

	uint16_t type = us_get_be16(buf + 12);
	size_t hdr_len = US_ETH_HDR_LEN;
	bool has_vlan = false;
	uint16_t tci = 0;

	/* An outer 802.1ad S-tag means stacked tags (Q-in-Q): refused. */
	if (type == US_ETHERTYPE_QINQ)
		return US_WIRE_BAD_VLAN;
	if (type == US_ETHERTYPE_VLAN) {
		if (len < US_ETH_VLAN_HDR_LEN)
			return US_WIRE_BAD_VLAN;
		tci = us_get_be16(buf + 14);
		type = us_get_be16(buf + 16);
		/* A second tag inside the first: refused (see eth.h). */
		if (is_vlan_tpid(type))
			return US_WIRE_BAD_VLAN;
		has_vlan = true;
		hdr_len = US_ETH_VLAN_HDR_LEN;
	}
	/* IEEE 802.3 §3.2.6: values below 1536 are a length, not a type. */
	if (type < US_ETHERTYPE_MIN)
		return US_WIRE_BAD_FIELD;

	memcpy(out->dst, buf, US_ETH_ALEN);
	memcpy(out->src, buf + 6, US_ETH_ALEN);
	out->ethertype = type;
	out->has_vlan = has_vlan;
	out->vlan_tci = tci;
	out->hdr_len = hdr_len;
	out->payload = buf + hdr_len;
	out->payload_len = len - hdr_len;
	return US_WIRE_OK;
}

size_t us_eth_emit(const struct us_eth_hdr *h, uint8_t *buf, size_t cap)
{
	size_t n = h->has_vlan ? US_ETH_VLAN_HDR_LEN : US_ETH_HDR_LEN;
	if (cap < n)
		return 0;
	memcpy(buf, h->dst, US_ETH_ALEN);
	memcpy(buf + 6, h->src, US_ETH_ALEN);
	if (h->has_vlan) {
		us_put_be16(buf + 12, US_ETHERTYPE_VLAN);
		us_put_be16(buf + 14, h->vlan_tci);
		us_put_be16(buf + 16, h->ethertype);
	} else {
		us_put_be16(buf + 12, h->ethertype);
	}
	return n;
}

bool us_eth_is_broadcast(const uint8_t mac[US_ETH_ALEN])
{
	for (int i = 0; i < US_ETH_ALEN; i++)
		if (mac[i] != 0xff)
			return false;
	return true;
}

bool us_eth_is_multicast(const uint8_t mac[US_ETH_ALEN])
{
	return (mac[0] & 0x01) != 0;
}

void us_eth_mcast_from_ip6(const struct us_ip6 *group, uint8_t mac[US_ETH_ALEN])
{
	/* RFC 2464 §7: "the first two octets are 3333, the last four octets are
	 * the last four octets of DST". */
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group->b + 12, 4);
}

void us_eth_mcast_from_ip4(uint32_t group, uint8_t mac[US_ETH_ALEN])
{
	/* RFC 1112 §6.4: "placing the low-order 23-bits of the IP address into
	 * the low-order 23 bits of the Ethernet multicast address
	 * 01-00-5E-00-00-00". */
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((group >> 16) & 0x7f);
	mac[4] = (uint8_t)(group >> 8);
	mac[5] = (uint8_t)group;
}

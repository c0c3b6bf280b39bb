/* SPDX-License-Identifier: MIT */
/*
 * arp.c - the Address Resolution Protocol, RFC 826, for IPv4 over Ethernet.
 *
 * This layer answers requests for our own addresses ("Is the opcode
 * ares_op$REQUEST? ... swap hardware and protocol fields, putting the local
 * hardware and protocol addresses in the sender fields; set the opcode to
 * ares_op$REPLY; send the packet", RFC 826, "Packet Reception").
 * Not implemented yet: the neighbour cache with its merge rule, requests of
 * our own, and the queue of packets waiting for resolution; they come with
 * the IPv4 output path (issue "Link and network layers").
 */
#include "arp.h"

#include <errno.h>
#include <string.h>

#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

static int send_reply(struct us_stack *s, struct us_iface *ifc, const struct us_arp_pkt *req)
{
	struct us_pbuf *b = us_stack_alloc(s, US_ARP_LEN);
	if (!b)
		return -ENOBUFS;
	struct us_arp_pkt rep = { .op = US_ARP_REPLY, .spa = req->tpa, .tpa = req->spa };
	memcpy(rep.sha, ifc->mac, US_ETH_ALEN);
	memcpy(rep.tha, req->sha, US_ETH_ALEN);
	us_arp_emit(&rep, us_pbuf_data(b), b->len);
	us_count(s, US_CTR_ARP_OUT);
	return us_eth_output(s, ifc, b, req->sha, US_ETHERTYPE_ARP);
}

int us_arp_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt, size_t len)
{
	struct us_arp_pkt arp;
	us_count(s, US_CTR_ARP_IN);
	int err = us_arp_parse(pkt, len, &arp);
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ARP_DROP_MALFORMED, ifc->index, us_wire_strerror(err));

	/* A sender hardware address that is multicast or broadcast cannot be
	 * answered and would poison any cache: RFC 1812 §3.3.2 and what every
	 * host does. */
	if (us_eth_is_multicast(arp.sha))
		return us_drop(s, US_CTR_ARP_DROP_BAD_SOURCE, ifc->index, "multicast sender MAC");

	if (arp.op == US_ARP_REPLY) {
		us_count(s, US_CTR_ARP_REPLIES_IN);
		return 0;
	}
	if (!us_iface_has_ip4(ifc, arp.tpa))
		return us_drop(s, US_CTR_ARP_DROP_NOT_FOR_US, ifc->index, "target address not ours");
	us_count(s, US_CTR_ARP_REQUESTS_ANSWERED);
	return send_reply(s, ifc, &arp);
}

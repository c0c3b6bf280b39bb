/* SPDX-License-Identifier: MIT */
/*
 * arp.h - the Address Resolution Protocol (RFC 826) for IPv4 over Ethernet.
 */
#ifndef USTACK_ARP_H
#define USTACK_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "stack.h"

/* An ARP packet arrived on ifc (payload of the Ethernet frame). */
int us_arp_input(struct us_stack *s, struct us_iface *ifc, const uint8_t *pkt, size_t len);

#endif

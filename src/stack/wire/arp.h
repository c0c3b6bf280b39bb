/* SPDX-License-Identifier: MIT */
/*
 * wire/arp.h - ARP packets for IPv4 over Ethernet (RFC 826; the operation
 * codes as renamed by RFC 5227 §1.1 for probes and announcements, which are
 * ordinary requests on the wire).
 *
 * Read first: wire/wire.h (error codes, parser/emitter contract). The ARP
 * cache and its state machine are in src/stack/arp.c, not here.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Hardware type (ar$hrd = 1)  |  Protocol type (ar$pro=0x0800)|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | HLEN (ar$hln=6)| PLEN (ar$pln=4)|      Operation (ar$op)       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |            Sender hardware address (ar$sha, 6 bytes)          |
 *   +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                               |  Sender protocol address      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  (ar$spa, 4 bytes)            +
 *   |                               |                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *   |            Target hardware address (ar$tha, 6 bytes)          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Target protocol address (ar$tpa, 4 bytes)            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Decisions:
 * - Only Ethernet/IPv4 is spoken: hardware type 1, protocol type 0x0800,
 *   hardware length 6, protocol length 4. Anything else is US_WIRE_BAD_ARP
 *   (RFC 826: "?Do I have the hardware type in ar$hrd? ... ?Do I speak the
 *   protocol in ar$pro? ... [if not] discard the packet").
 * - The operation must be 1 (request) or 2 (reply); any other value
 *   (RARP's 3/4, InARP's 8/9, 0) is US_WIRE_BAD_FIELD.
 * - Bytes after the 28-byte packet (Ethernet padding to 60 bytes) are allowed
 *   and ignored.
 * - The emitter writes hardware/protocol type and sizes itself and h->op as
 *   given; it does not check op (the caller builds only requests and replies).
 */
#ifndef USTACK_WIRE_ARP_H
#define USTACK_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

#include "wire/wire.h"

#define US_ARP_LEN	   28
#define US_ARP_HTYPE_ETHER 1 /* ar$hrd: Ethernet (10Mb), RFC 826 */
#define US_ARP_REQUEST	   1
#define US_ARP_REPLY	   2

/* IPv4 addresses are host order. */
struct us_arp_pkt {
	uint16_t op; /* US_ARP_REQUEST or US_ARP_REPLY */
	uint8_t sha[US_ETH_ALEN];
	uint32_t spa;
	uint8_t tha[US_ETH_ALEN];
	uint32_t tpa;
};

/*
 * Parse an ARP packet (the Ethernet payload). Returns US_WIRE_OK,
 * US_WIRE_TRUNCATED (len < 28), US_WIRE_BAD_ARP (not Ethernet/IPv4) or
 * US_WIRE_BAD_FIELD (op not 1 or 2).
 */
int us_arp_parse(const uint8_t *buf, size_t len, struct us_arp_pkt *out);

/* Write the 28-byte packet; 0 when cap < 28. */
size_t us_arp_emit(const struct us_arp_pkt *p, uint8_t *buf, size_t cap);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * wire/eth.h - Ethernet II frames (IEEE 802.3 clause 3 with the DIX type
 * field), one optional IEEE 802.1Q VLAN tag, and the multicast MAC mappings
 * of RFC 1112 §6.4 (IPv4) and RFC 2464 §7 (IPv6).
 *
 * Read first: wire/wire.h (error codes, parser/emitter contract), then
 * wire/bytes.h (the only way headers are read and written).
 *
 *   Ethernet II (14 bytes; the FCS is stripped by the NIC or TAP device):
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |              Destination MAC address (6 bytes)                |
 *   +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                               |                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *   |                 Source MAC address (6 bytes)                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           EtherType           |  payload ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   With one 802.1Q tag (18 bytes), between the source MAC and the type:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        TPID = 0x8100          | PCP |D|        VLAN ID        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |    EtherType (inner type)     |  payload ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   (PCP: priority, D: drop eligible; the 16 bits together are the TCI.)
 *
 * Decisions:
 * - Not implemented: 802.1ad stacked tags and 802.3 LLC/SNAP framing (below).
 * - One 802.1Q tag is recognised and skipped: its TCI is recorded and
 *   `ethertype` is the inner type. Stacked tags (an 802.1ad S-tag 0x88a8
 *   anywhere, or 0x8100 inside 0x8100) are refused on purpose with
 *   US_WIRE_BAD_VLAN: a host has no use for them and they are a known way to
 *   slip past VLAN filters. A tag cut short (a frame of 14..17 bytes typed
 *   0x8100) is US_WIRE_BAD_VLAN too, as wire.h defines it.
 * - A type/length field below 0x0600 is an IEEE 802.3 length (LLC/SNAP
 *   framing), which ustack does not speak: US_WIRE_BAD_FIELD. Values
 *   0x05dc..0x05ff are undefined by 802.3 and fall in the same bucket.
 * - The parser does not require the 60-byte minimum frame: a TAP device hands
 *   over short frames, and the IP layer trims padding by its own lengths.
 */
#ifndef USTACK_WIRE_ETH_H
#define USTACK_WIRE_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

#include "wire/wire.h"

#define US_ETHERTYPE_IPV4 0x0800
#define US_ETHERTYPE_ARP  0x0806
#define US_ETHERTYPE_IPV6 0x86dd
#define US_ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q C-tag */
#define US_ETHERTYPE_QINQ 0x88a8 /* IEEE 802.1ad S-tag */

/* The smallest value of the type/length field that is an EtherType. */
#define US_ETHERTYPE_MIN 0x0600

#define US_ETH_HDR_LEN	    14
#define US_ETH_VLAN_TAG_LEN 4
#define US_ETH_VLAN_HDR_LEN (US_ETH_HDR_LEN + US_ETH_VLAN_TAG_LEN)

/* A parsed Ethernet header, host order. For us_eth_emit() only dst, src,
 * ethertype, has_vlan and vlan_tci are read. */
struct us_eth_hdr {
	uint8_t dst[US_ETH_ALEN];
	uint8_t src[US_ETH_ALEN];
	uint16_t ethertype;	/* the inner type when has_vlan */
	bool has_vlan;		/* one 802.1Q tag was present */
	uint16_t vlan_tci;	/* PCP(3) DEI(1) VID(12); 0 when !has_vlan */
	size_t hdr_len;		/* 14, or 18 with a VLAN tag */
	const uint8_t *payload; /* buf + hdr_len */
	size_t payload_len;	/* len - hdr_len (padding included) */
};

/*
 * Parse an Ethernet II frame. Returns US_WIRE_OK, US_WIRE_TRUNCATED (len < 14),
 * US_WIRE_BAD_VLAN (stacked or cut-short tag) or US_WIRE_BAD_FIELD (an 802.3
 * length instead of an EtherType, outer or inner).
 */
int us_eth_parse(const uint8_t *buf, size_t len, struct us_eth_hdr *out);

/* Write the header: 14 bytes, or 18 when h->has_vlan. 0 when cap is too small. */
size_t us_eth_emit(const struct us_eth_hdr *h, uint8_t *buf, size_t cap);

/* ff:ff:ff:ff:ff:ff. */
bool us_eth_is_broadcast(const uint8_t mac[US_ETH_ALEN]);

/* The I/G bit (least significant bit of the first octet) is set: a group
 * address. True for broadcast as well. */
bool us_eth_is_multicast(const uint8_t mac[US_ETH_ALEN]);

/* RFC 2464 §7: 33:33 followed by the last four octets of the IPv6 multicast
 * address. */
void us_eth_mcast_from_ip6(const struct us_ip6 *group, uint8_t mac[US_ETH_ALEN]);

/* RFC 1112 §6.4: 01:00:5e, then the low-order 23 bits of the IPv4 group
 * address (host order). */
void us_eth_mcast_from_ip4(uint32_t group, uint8_t mac[US_ETH_ALEN]);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * wire/ipv6.h - the IPv6 header (RFC 8200 §3), the extension header chain
 * (RFC 8200 §4, §4.1-§4.7; AH's length from RFC 4302 §2.2), the Fragment
 * header (RFC 8200 §4.5), address classes and special addresses
 * (RFC 4291 §2.4-§2.7, Appendix A; RFC 4862 §5.3) and text (RFC 4291 §2.2,
 * RFC 5952).
 *
 * Read first: wire/wire.h (error codes, parser/emitter contract), then
 * RFC 8200 §4 for the order of extension headers.
 *
 *   Fixed header (40 bytes):
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version| Traffic Class |           Flow Label                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Payload Length        |  Next Header  |   Hop Limit   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +                  Source Address (16 bytes)                    +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +               Destination Address (16 bytes)                  +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Hop-by-Hop (0), Routing (43), Destination Options (60) all begin with:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Next Header  |  Hdr Ext Len  |  (type-specific) ...          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   length (Hdr Ext Len + 1) * 8 bytes. Routing adds Routing Type (byte 2)
 *   and Segments Left (byte 3). AH (51) counts its length in 4-octet units
 *   minus 2: (Payload Len + 2) * 4 bytes (RFC 4302 §2.2).
 *
 *   Fragment header (44), 8 bytes:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         Identification                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Option TLVs inside Hop-by-Hop and Destination Options (RFC 8200 §4.2):
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
 *   |  Option Type  |  Opt Data Len |  Option Data
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
 *   except Pad1 (type 0), a single zero byte.
 *
 * Parser decisions (us_ipv6_parse, the fixed header only):
 *   len < 40                            US_WIRE_TRUNCATED
 *   version != 6                        US_WIRE_BAD_VERSION
 *   Payload Length 0 (a jumbogram,      US_WIRE_BAD_TOTAL_LEN
 *   RFC 2675: not implemented)
 *   Payload Length > len - 40           US_WIRE_BAD_TOTAL_LEN
 * A Payload Length shorter than the buffer is fine: the link's padding is
 * trimmed and `payload` spans exactly payload_len bytes.
 * Not implemented: Jumbo Payload (RFC 2675); links here have 1500-65535
 * byte MTUs, and Linux hosts drop jumbograms unless on such a link too.
 * Not implemented: walking Mobility (135), HIP (139), Shim6 (140) headers.
 *
 * Offsets. Everything the caller may quote in an ICMPv6 Parameter Problem
 * pointer (RFC 4443 §3.4: "the octet offset within the invoking packet") is
 * counted from the first byte of the IPv6 header: nh_offset, opt_pointer,
 * routing_offset, frag_hdr_offset, frag_nh_offset. Only upper_offset is
 * counted from the start of the IPv6 payload, where the upper-layer parser
 * starts. The two bases differ by US_IPV6_HDR_LEN.
 */
#ifndef USTACK_WIRE_IPV6_H
#define USTACK_WIRE_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

#include "wire/ipproto.h"
#include "wire/wire.h"

#define US_IPV6_HDR_LEN	       40
#define US_IPV6_FRAG_HDR_LEN   8
#define US_IPV6_FLOW_LABEL_MAX 0xfffffu
/* The most extension headers us_ipv6_walk() follows before US_WIRE_EXT_TOO_MANY.
 * Deviation: RFC 8200 sets no limit. RFC 8504 §5.3 ("Protecting a Node from
 * Excessive Extension Header Options") lets a node set limits, and RFC 8883
 * defines the ICMPv6 errors for packets dropped by them. RFC 8200 §4.1's
 * recommended order holds at most seven (Hop-by-Hop, Destination Options,
 * Routing, Fragment, AH, ESP, Destination Options). */
#define US_IPV6_MAX_EXT 8

/* Hop-by-Hop / Destination option types. */
#define US_IPV6_OPT_PAD1	 0x00 /* RFC 8200 §4.2 */
#define US_IPV6_OPT_PADN	 0x01 /* RFC 8200 §4.2 */
#define US_IPV6_OPT_ROUTER_ALERT 0x05 /* RFC 2711, Hop-by-Hop only, 2 data bytes */

/* The longest text form ("ffff:...:ffff" is 39; with an embedded IPv4
 * address, 45) plus the NUL: INET6_ADDRSTRLEN. */
#define US_IP6_TEXT_MAX 46

struct us_ipv6_hdr {
	uint8_t traffic_class; /* DSCP (6) and ECN (2) */
	uint32_t flow_label;   /* 20 bits */
	uint16_t payload_len;  /* bytes after the fixed header, extension headers included
				* (for a quoted packet: the bytes present) */
	uint8_t next_header;   /* US_IPPROTO_* */
	uint8_t hop_limit;
	struct us_ip6 src, dst;
	const uint8_t *payload; /* buf + 40, exactly payload_len bytes (parse output only) */
};

/* Parse the fixed header; see the table above for the codes. */
int us_ipv6_parse(const uint8_t *buf, size_t len, struct us_ipv6_hdr *out);

/*
 * Parse the packet quoted in an ICMPv6 error (RFC 4443 §3: "As much of
 * invoking packet as possible without the ICMPv6 packet exceeding the minimum
 * IPv6 MTU"), to find the protocol, addresses and ports it was about. The
 * quote is usually cut short: a Payload Length of 0 or beyond the buffer is
 * accepted and payload_len is then set to the bytes present (len - 40), so
 * that us_ipv6_walk() reads only those; its EXT_PAST_END then means the
 * quote ends inside the header chain. The other codes are us_ipv6_parse()'s.
 */
int us_ipv6_parse_quoted(const uint8_t *buf, size_t len, struct us_ipv6_hdr *out);

/* Write the 40-byte fixed header from every field but payload; 0 when cap is
 * too small or flow_label does not fit in 20 bits. */
size_t us_ipv6_emit(const struct us_ipv6_hdr *h, uint8_t *buf, size_t cap);

/* ---- Fragment header (RFC 8200 §4.5) ------------------------------------- */

struct us_ipv6_frag {
	uint8_t next_header;
	uint16_t offset; /* bytes: a multiple of 8 (the 13-bit field times 8) */
	bool more;	 /* M flag */
	uint32_t id;
};

/* Parse an 8-byte Fragment header: US_WIRE_OK or US_WIRE_TRUNCATED (len < 8).
 * The reserved bits are "ignored on reception" (RFC 8200 §4.5). */
int us_ipv6_frag_parse(const uint8_t *buf, size_t len, struct us_ipv6_frag *out);

/* Write an 8-byte Fragment header (reserved bits zero); 0 when cap < 8 or
 * offset is not a multiple of 8. */
size_t us_ipv6_frag_emit(const struct us_ipv6_frag *f, uint8_t *buf, size_t cap);

/* ---- Extension header walk (RFC 8200 §4) --------------------------------- */

/*
 * What RFC 8200 §4.2 says to do with an option whose type the node does not
 * recognise, from the two high-order bits of the type. The values equal
 * those bits.
 */
enum us_ipv6_opt_action {
	US_IPV6_OPT_SKIP = 0,		      /* 00: skip over it and go on */
	US_IPV6_OPT_DISCARD = 1,	      /* 01: discard the packet silently */
	US_IPV6_OPT_DISCARD_ICMP = 2,	      /* 10: discard and send Parameter Problem,
					       * Code 2, pointing at the option type,
					       * whatever the destination */
	US_IPV6_OPT_DISCARD_ICMP_UNICAST = 3, /* 11: the same, but send the ICMP only
					       * when the destination is not multicast */
};

struct us_ipv6_ext {
	/* The first header that is not an extension header we walk. */
	uint8_t upper_proto; /* US_IPPROTO_*; US_IPPROTO_FRAGMENT for a fragment (below) */
	size_t upper_offset; /* from the start of the IPv6 PAYLOAD */
	size_t upper_len;    /* bytes from upper_offset to the end of the payload; 0 for 59 */
	size_t nh_offset;    /* the Next Header field naming upper_proto (from the IPv6 header) */
	unsigned ext_count;  /* extension headers walked */

	bool has_hbh;
	bool has_router_alert; /* RFC 2711 option in the Hop-by-Hop header */
	uint16_t router_alert; /* its value (0: MLD, RFC 2710 §3) */

	bool has_routing; /* the last Routing header seen */
	uint8_t routing_type;
	uint8_t segments_left;
	size_t routing_offset; /* of the Routing header (its Routing Type is at +2) */

	bool has_frag; /* the last Fragment header seen */
	struct us_ipv6_frag frag;
	size_t frag_hdr_offset; /* of the Fragment header = the unfragmentable part's length */
	size_t frag_nh_offset;	/* the Next Header field that names the Fragment header */

	unsigned dstopts_count; /* Destination Options headers (at most two are usual) */
	bool has_ah;

	/* The first option that says not to go on (RFC 8200 §4.2). */
	enum us_ipv6_opt_action opt_action;
	size_t opt_pointer; /* its Option Type byte, for the Parameter Problem pointer */
};

/*
 * Walk the extension headers of a parsed packet (h from us_ipv6_parse(), or
 * any struct whose payload holds payload_len bytes).
 *
 * Follows Hop-by-Hop (0), Routing (43), Fragment (44), Destination Options
 * (60) and AH (51), and stops at the first other Next Header value, which is
 * reported as upper_proto with its offset and length. ESP (50) stops the walk
 * too (what follows is encrypted). No Next Header (59) stops it with
 * upper_len 0: RFC 8200 §4.7 "those octets must be ignored". Extension
 * headers of other RFCs (Mobility 135, HIP 139, Shim6 140, 253/254) are not
 * walked: they come back as upper_proto, and a host that does not speak them
 * answers Parameter Problem code 1 at nh_offset (RFC 8200 §4).
 *
 * Options in Hop-by-Hop and Destination Options headers are walked: Pad1,
 * PadN and (Hop-by-Hop only) Router Alert are understood; for any other
 * option, the two high bits of its type give the action. When that action is
 * not US_IPV6_OPT_SKIP the walk stops there and returns US_WIRE_OK with
 * opt_action and opt_pointer set, and upper_* are zero: the packet is to be
 * discarded, and deciding whether to answer (using h->dst for the "11" case)
 * is the caller's. Nothing after that option is examined.
 *
 * A Fragment header with a nonzero offset or the M flag set ends the walk:
 * what follows it is fragment data (RFC 8200 §4.5), not headers. Then
 * upper_proto is US_IPPROTO_FRAGMENT, upper_offset/upper_len describe the
 * fragment data, frag.next_header names the protocol of the reassembled
 * packet, and frag_hdr_offset / frag_nh_offset let reassembly rebuild the
 * unfragmentable part (RFC 8200 §4.5 "Reassembly"), after which the caller
 * walks the reassembled packet again. An atomic fragment (offset 0, M 0;
 * RFC 6946) is walked through like any other header. Fragment length and
 * 65535-byte limits (RFC 8200 §4.5) are for the reassembler to check.
 *
 * Errors:
 *   US_WIRE_EXT_BAD_ORDER  a Hop-by-Hop header not right after the fixed
 *                          header (RFC 8200 §4.1, §4.3); nh_offset is the
 *                          Next Header field that names it, for a Parameter
 *                          Problem code 1 pointer
 *   US_WIRE_EXT_TOO_MANY   a 9th extension header
 *   US_WIRE_EXT_PAST_END   an extension header runs past the payload
 *   US_WIRE_OPT_PAST_END   an option TLV runs past its header
 *   US_WIRE_OPT_BAD_LEN    a Router Alert option whose length is not 2
 * On error the fields already walked are filled in.
 *
 * Routing headers are recorded, not acted on: a host that gets one with
 * Segments Left > 0 and an unknown type answers Parameter Problem code 0
 * pointing at routing_offset + 2 (RFC 8200 §4.4); type 0 is deprecated
 * (RFC 5095).
 */
int us_ipv6_walk(const struct us_ipv6_hdr *h, struct us_ipv6_ext *out);

/* ---- Addresses (RFC 4291) ------------------------------------------------- */

/* :: (RFC 4291 §2.5.2). */
bool us_ip6_is_unspecified(const struct us_ip6 *a);
/* ::1 (RFC 4291 §2.5.3). */
bool us_ip6_is_loopback(const struct us_ip6 *a);
/* ff00::/8 (RFC 4291 §2.7). */
bool us_ip6_is_multicast(const struct us_ip6 *a);
/* fe80::/10 (RFC 4291 §2.5.6). */
bool us_ip6_is_link_local(const struct us_ip6 *a);

/* The solicited-node multicast address ff02::1:ffXX:XXXX made of the low 24
 * bits of addr (RFC 4291 §2.7.1). out may be addr. */
void us_ip6_solicited_node(const struct us_ip6 *addr, struct us_ip6 *out);

/* fe80::/64 with the modified EUI-64 interface identifier of mac: ff:fe in
 * the middle and the universal/local bit inverted (RFC 4291 Appendix A,
 * RFC 4862 §5.3). */
void us_ip6_link_local_from_mac(const uint8_t mac[US_ETH_ALEN], struct us_ip6 *out);

/*
 * Parse the RFC 4291 §2.2 text forms: eight groups of 1..4 hex digits (either
 * case) separated by ':'; one "::" standing for one or more zero groups;
 * the last 32 bits as a strict dotted quad (us_ipv4_parse_text rules).
 * Refused: ":::", two "::", a single leading or trailing ':', more than 8
 * groups (or 8 with "::"), fewer than 8 without "::", groups of more than
 * 4 digits, an empty string, zone indices ("%eth0"), prefixes ("/64"),
 * brackets and spaces. Returns 0 and writes *out, or US_WIRE_BAD_FIELD and
 * leaves *out alone.
 */
int us_ip6_parse_text(const char *s, struct us_ip6 *out);

/*
 * Write the RFC 5952 §4 canonical text form and a NUL: lowercase hex, no
 * leading zeros in a group, the longest run of two or more zero groups
 * replaced by "::" (the first one on a tie; a lone zero group stays "0").
 * IPv4-mapped addresses (::ffff:0:0/96) are written as ::ffff:a.b.c.d, as
 * RFC 5952 §5 recommends. Returns the length without the NUL (2..39).
 */
size_t us_ip6_format(const struct us_ip6 *a, char buf[US_IP6_TEXT_MAX]);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * wire/ipproto.h - IP protocol numbers: the IPv4 Protocol field (RFC 791
 * §3.1) and the IPv6 Next Header field (RFC 8200 §3, §4) share one IANA
 * registry ("Assigned Internet Protocol Numbers").
 *
 * Read first: nothing; wire/ipv4.h and wire/ipv6.h include this.
 * Prefixed US_ because <netinet/in.h> owns IPPROTO_*.
 */
#ifndef USTACK_WIRE_IPPROTO_H
#define USTACK_WIRE_IPPROTO_H

#define US_IPPROTO_HOPOPTS  0  /* IPv6 Hop-by-Hop Options, RFC 8200 §4.3 */
#define US_IPPROTO_ICMP	    1  /* RFC 792 */
#define US_IPPROTO_TCP	    6  /* RFC 9293 */
#define US_IPPROTO_UDP	    17 /* RFC 768 */
#define US_IPPROTO_ROUTING  43 /* IPv6 Routing header, RFC 8200 §4.4 */
#define US_IPPROTO_FRAGMENT 44 /* IPv6 Fragment header, RFC 8200 §4.5 */
#define US_IPPROTO_ESP	    50 /* RFC 4303 */
#define US_IPPROTO_AH	    51 /* RFC 4302 */
#define US_IPPROTO_ICMPV6   58 /* RFC 4443 */
#define US_IPPROTO_NONE	    59 /* IPv6 No Next Header, RFC 8200 §4.7 */
#define US_IPPROTO_DSTOPTS  60 /* IPv6 Destination Options, RFC 8200 §4.6 */

/* The ECN field: the two low bits of the IPv4 TOS byte and of the IPv6
 * Traffic Class (RFC 3168 §5, Figure 1). */
#define US_IP_ECN_MASK	  0x3
#define US_IP_ECN_NOT_ECT 0x0 /* not ECN-capable */
#define US_IP_ECN_ECT1	  0x1 /* ECN-capable transport, ECT(1) */
#define US_IP_ECN_ECT0	  0x2 /* ECN-capable transport, ECT(0) */
#define US_IP_ECN_CE	  0x3 /* Congestion Experienced */

#endif

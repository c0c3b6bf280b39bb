/* SPDX-License-Identifier: MIT */
/*
 * wire/icmp6.h - ICMPv6 on the wire (RFC 4443 §2-4) and the Neighbor
 * Discovery messages and options it carries (RFC 4861 §4, RFC 8106 §5.1).
 *
 * Read first: RFC 4443 §2.1-2.3 (message format, checksum), then RFC 4861
 * §4 (the five ND messages) and §4.6 (options), then checksum.h.
 *
 * The ICMPv6 header (RFC 4443 §2.1):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     Type      |     Code      |          Checksum             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 rest of header (type specific)                |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 message body ...
 *
 *   rest of header, by type:
 *     echo request / reply    Identifier (16) | Sequence Number (16)   (§4.1, §4.2)
 *     packet too big          MTU (32)                                 (§3.2)
 *     parameter problem       Pointer (32)                             (§3.4)
 *     dest unreach, time ex.  unused (32)                              (§3.1, §3.3)
 *
 * Unlike ICMPv4 the checksum covers the IPv6 pseudo-header too (RFC 4443
 * §2.3, RFC 8200 §8.1, next header 58), and it is mandatory. Parse and emit
 * take the pseudo-header's partial sum: us_csum_pseudo6(src, dst, 58, len),
 * where len is the whole ICMPv6 message's length.
 *
 * The ND messages (RFC 4861 §4.1-4.5) continue the same header; every byte
 * offset below is from the ICMPv6 Type:
 *
 *   RS (133)      4: Reserved (32)                      8: options
 *   RA (134)      4: Cur Hop Limit (8)  5: |M|O|H|Prf|Resv|  6: Router Lifetime (16)
 *                 8: Reachable Time (32)  12: Retrans Timer (32)   16: options
 *   NS (135)      4: Reserved (32)      8: Target Address (128)    24: options
 *   NA (136)      4: |R|S|O| Reserved (29)  8: Target Address      24: options
 *   Redirect(137) 4: Reserved (32)      8: Target Address  24: Destination Address  40: options
 *
 * An option (RFC 4861 §4.6): Type (8), Length (8, in units of 8 octets,
 * including type and length), then type-specific data.
 *
 *   SLLA/TLLA (1/2)  Type | Length=1 | Link-Layer Address (48, Ethernet: RFC 2464 §6)
 *   Prefix (3)       Type | Length=4 | Prefix Length (8) | L|A|Reserved1 (8)
 *                    Valid Lifetime (32) | Preferred Lifetime (32) | Reserved2 (32) | Prefix (128)
 *   MTU (5)          Type | Length=1 | Reserved (16) | MTU (32)
 *   RDNSS (25)       Type | Length=1+2n | Reserved (16) | Lifetime (32) | n addresses
 *                    (RFC 8106 §5.1)
 *
 * The ND parsers here check what the message bytes alone can tell: length,
 * code 0, the fields that must not be multicast. The caller checks what needs
 * the IP header (RFC 4861 §6.1.1, §7.1.1, §8.1: IP Hop Limit is 255, the
 * source rules for the unspecified address, an RA's link-local source) and
 * must have verified the checksum first with us_icmp6_parse().
 */
#ifndef USTACK_WIRE_ICMP6_H
#define USTACK_WIRE_ICMP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

#define US_ICMP6_HDR_LEN 8

/* Types (RFC 4443 §2.1: 0-127 are errors, 128-255 informational). */
#define US_ICMP6_DEST_UNREACH	1
#define US_ICMP6_PACKET_TOO_BIG 2
#define US_ICMP6_TIME_EXCEEDED	3
#define US_ICMP6_PARAM_PROBLEM	4
#define US_ICMP6_ECHO_REQUEST	128
#define US_ICMP6_ECHO_REPLY	129
#define US_ICMP6_MLD_QUERY	130 /* RFC 2710 §3, RFC 3810 §5.1 */
#define US_ICMP6_MLD_REPORT	131 /* MLDv1 */
#define US_ICMP6_MLD_DONE	132
#define US_ICMP6_ND_RS		133 /* Router Solicitation */
#define US_ICMP6_ND_RA		134 /* Router Advertisement */
#define US_ICMP6_ND_NS		135 /* Neighbor Solicitation */
#define US_ICMP6_ND_NA		136 /* Neighbor Advertisement */
#define US_ICMP6_ND_REDIRECT	137
#define US_ICMP6_MLD2_REPORT	143 /* RFC 3810 §5.2 */

/* Destination unreachable codes (RFC 4443 §3.1). */
#define US_ICMP6_UNREACH_NOROUTE      0
#define US_ICMP6_UNREACH_ADMIN	      1
#define US_ICMP6_UNREACH_BEYOND_SCOPE 2
#define US_ICMP6_UNREACH_ADDR	      3
#define US_ICMP6_UNREACH_PORT	      4
#define US_ICMP6_UNREACH_SRC_POLICY   5
#define US_ICMP6_UNREACH_REJECT_ROUTE 6

/* Time exceeded codes (RFC 4443 §3.3). */
#define US_ICMP6_TIMEX_HOP_LIMIT  0
#define US_ICMP6_TIMEX_REASSEMBLY 1

/* Parameter problem codes (RFC 4443 §3.4). */
#define US_ICMP6_PARAM_HEADER	   0 /* erroneous header field encountered */
#define US_ICMP6_PARAM_NEXT_HEADER 1 /* unrecognized Next Header type */
#define US_ICMP6_PARAM_OPTION	   2 /* unrecognized IPv6 option */
#define US_ICMP6_PARAM_HEADER_CHAIN 3 /* first fragment has an incomplete header chain (RFC 7112 §5) */

/* A parsed ICMPv6 message; `rest` is bytes 4..7 in host order. */
struct us_icmp6_hdr {
	uint8_t type, code;
	uint16_t checksum;
	uint32_t rest;
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Parse an ICMPv6 message of len bytes (the upper-layer payload). pseudo is
 * us_csum_pseudo6(src, dst, 58, len). Returns US_WIRE_TRUNCATED when len < 8,
 * US_WIRE_BAD_CHECKSUM when the checksum does not verify.
 */
int us_icmp6_parse(const uint8_t *buf, size_t len, uint32_t pseudo, struct us_icmp6_hdr *out);

/*
 * Write the 8-byte header at buf and the checksum over buf[0 .. 8 +
 * h->payload_len) plus pseudo, which must be us_csum_pseudo6(src, dst, 58,
 * 8 + h->payload_len). The payload must already be at buf + 8 (h->payload
 * is not read; h->checksum is ignored). Returns 8, or 0 when cap < 8 +
 * h->payload_len.
 */
size_t us_icmp6_emit(const struct us_icmp6_hdr *h, uint8_t *buf, size_t cap, uint32_t pseudo);

/* Compute and store the checksum of a complete ICMPv6 message of len bytes
 * built in place (the ND emitters below leave it zero). */
void us_icmp6_csum_fill(uint8_t *buf, size_t len, uint32_t pseudo);

/* RFC 4443 §2.1: "error messages are identified as such by a zero in the
 * high-order bit of their message Type field values". */
static inline bool us_icmp6_is_error(uint8_t type)
{
	return type < 128;
}

static inline uint16_t us_icmp6_echo_id(const struct us_icmp6_hdr *h)
{
	return (uint16_t)(h->rest >> 16);
}

static inline uint16_t us_icmp6_echo_seq(const struct us_icmp6_hdr *h)
{
	return (uint16_t)h->rest;
}

/* RFC 4443 §3.2: the MTU of the next-hop link. */
static inline uint32_t us_icmp6_mtu(const struct us_icmp6_hdr *h)
{
	return h->rest;
}

/* RFC 4443 §3.4: the octet offset within the invoking packet. */
static inline uint32_t us_icmp6_param_pointer(const struct us_icmp6_hdr *h)
{
	return h->rest;
}

static inline uint32_t us_icmp6_echo_rest(uint16_t id, uint16_t seq)
{
	return (uint32_t)id << 16 | seq;
}

/* ---- Neighbor Discovery messages (RFC 4861 §4.1-4.5) ---------------------- */

/* Minimum ICMP lengths (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1). */
#define US_NDP_RS_LEN	    8
#define US_NDP_RA_LEN	    16
#define US_NDP_NS_LEN	    24
#define US_NDP_NA_LEN	    24
#define US_NDP_REDIRECT_LEN 40

/* RA flags byte (offset 5). */
#define US_NDP_RA_MANAGED 0x80 /* M: addresses via DHCPv6 */
#define US_NDP_RA_OTHER	  0x40 /* O: other configuration via DHCPv6 */
/* NA flags (the top bits of offset 4). */
#define US_NDP_NA_ROUTER    0x80
#define US_NDP_NA_SOLICITED 0x40
#define US_NDP_NA_OVERRIDE  0x20

/*
 * Every ND parser below takes a whole ICMPv6 message (buf at its Type byte,
 * len from the IP payload length) whose checksum us_icmp6_parse() has
 * already verified. Each returns US_WIRE_TRUNCATED when len is below the
 * message's fixed length, US_WIRE_BAD_FIELD when the type is not its own,
 * the code is not 0 ("ICMP Code is 0", RFC 4861 §6.1.1 and §7.1.1), or an
 * address field breaks a rule stated below. opts/opts_len are the options
 * area, to walk with us_ndp_opt_iter_init(). Reserved fields are ignored
 * ("MUST be ignored by the receiver").
 *
 * Every ND emitter writes the message's fixed part (Type, Code 0, a zero
 * checksum, the body) and returns its length (0 when cap is too small); the
 * caller appends options with the us_ndp_opt_*_emit() functions, then calls
 * us_icmp6_csum_fill() over the whole message. The opts fields are not read.
 */

struct us_ndp_rs {
	const uint8_t *opts;
	size_t opts_len;
};

struct us_ndp_ra {
	uint8_t cur_hop_limit;	    /* 0: unspecified by this router */
	bool managed, other;	    /* M and O */
	uint8_t flags;		    /* the whole flags byte (H, Prf: RFC 6275, RFC 4191) */
	uint16_t router_lifetime_s; /* 0: not a default router */
	uint32_t reachable_time_ms; /* 0: unspecified */
	uint32_t retrans_timer_ms;  /* 0: unspecified */
	const uint8_t *opts;
	size_t opts_len;
};

struct us_ndp_ns {
	struct us_ip6 target; /* never multicast (RFC 4861 §7.1.1) */
	const uint8_t *opts;
	size_t opts_len;
};

struct us_ndp_na {
	bool router, solicited, override; /* R, S, O */
	struct us_ip6 target;		  /* never multicast (RFC 4861 §7.1.2) */
	const uint8_t *opts;
	size_t opts_len;
};

struct us_ndp_redirect {
	struct us_ip6 target; /* link-local, or equal to dest (RFC 4861 §8.1) */
	struct us_ip6 dest;   /* never multicast (RFC 4861 §8.1) */
	const uint8_t *opts;
	size_t opts_len;
};

int us_ndp_rs_parse(const uint8_t *buf, size_t len, struct us_ndp_rs *out);
int us_ndp_ra_parse(const uint8_t *buf, size_t len, struct us_ndp_ra *out);
int us_ndp_ns_parse(const uint8_t *buf, size_t len, struct us_ndp_ns *out);
int us_ndp_na_parse(const uint8_t *buf, size_t len, struct us_ndp_na *out);
int us_ndp_redirect_parse(const uint8_t *buf, size_t len, struct us_ndp_redirect *out);

/* An RS has no fields of its own: rs is not read and may be NULL. */
size_t us_ndp_rs_emit(const struct us_ndp_rs *rs, uint8_t *buf, size_t cap);
/* Writes flags as (ra->flags & 0x3f) with M and O from the bools. */
size_t us_ndp_ra_emit(const struct us_ndp_ra *ra, uint8_t *buf, size_t cap);
size_t us_ndp_ns_emit(const struct us_ndp_ns *ns, uint8_t *buf, size_t cap);
size_t us_ndp_na_emit(const struct us_ndp_na *na, uint8_t *buf, size_t cap);
size_t us_ndp_redirect_emit(const struct us_ndp_redirect *rd, uint8_t *buf, size_t cap);

/* ---- Neighbor Discovery options (RFC 4861 §4.6) --------------------------- */

#define US_NDP_OPT_SLLA		  1 /* source link-layer address */
#define US_NDP_OPT_TLLA		  2 /* target link-layer address */
#define US_NDP_OPT_PREFIX	  3 /* prefix information */
#define US_NDP_OPT_REDIRECTED_HDR 4 /* redirected header */
#define US_NDP_OPT_MTU		  5
#define US_NDP_OPT_NONCE	  14 /* RFC 3971 §5.3.2 */
#define US_NDP_OPT_RDNSS	  25 /* recursive DNS server, RFC 8106 §5.1 */
#define US_NDP_OPT_DNSSL	  31 /* DNS search list, RFC 8106 §5.2 */

/* Prefix information flags (offset 3 of the option). */
#define US_NDP_PREFIX_ONLINK 0x80 /* L */
#define US_NDP_PREFIX_AUTO   0x40 /* A: usable for SLAAC (RFC 4862 §5.5.3) */

/* The option walker. Initialise it on an options area, then call
 * us_ndp_opt_next() until it returns 0 (end) or a negative error. */
struct us_ndp_opt_iter {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* One option: data points at its Type byte, len is its length in bytes
 * (len_units * 8), all inside the walked area. */
struct us_ndp_opt {
	uint8_t type;
	uint8_t len_units;
	const uint8_t *data;
	size_t len;
};

void us_ndp_opt_iter_init(struct us_ndp_opt_iter *it, const uint8_t *opts, size_t len);

/*
 * Returns 1 and fills opt for the next option, 0 at the end of the area, or
 * a negative error, which then repeats on every later call:
 * US_WIRE_OPT_BAD_LEN for a length of 0 (RFC 4861 §4.6: "Nodes MUST silently
 * discard an ND packet that contains an option with length zero"),
 * US_WIRE_OPT_PAST_END when an option (or a lone trailing byte) runs past
 * the end. Since a whole packet must be discarded, walk all options and
 * check for an error before acting on any of them.
 */
int us_ndp_opt_next(struct us_ndp_opt_iter *it, struct us_ndp_opt *opt);

/*
 * Typed option parsers. Each returns US_WIRE_BAD_FIELD when opt is of
 * another type and US_WIRE_OPT_BAD_LEN when its length is wrong for its type.
 */

/* SLLA or TLLA on Ethernet: length 1, a 6-byte MAC (RFC 2464 §6). */
int us_ndp_opt_lladdr(const struct us_ndp_opt *opt, uint8_t mac[US_ETH_ALEN]);

struct us_ndp_prefix {
	uint8_t prefix_len;	       /* 0..128 */
	bool onlink, autonomous;       /* L and A */
	uint32_t valid_lifetime_s;     /* 0xffffffff: infinity */
	uint32_t preferred_lifetime_s; /* 0xffffffff: infinity */
	struct us_ip6 prefix;	       /* bits past prefix_len are zero */
};

/*
 * Prefix information: length 4; a prefix length above 128 is
 * US_WIRE_BAD_FIELD. "The bits in the prefix after the prefix length are
 * reserved and MUST be ... ignored by the receiver" (RFC 4861 §4.6.2): they
 * are cleared in out->prefix. The consumer's own checks (preferred >
 * valid, link-local prefixes: RFC 4862 §5.5.3) are left to it.
 */
int us_ndp_opt_prefix(const struct us_ndp_opt *opt, struct us_ndp_prefix *out);

/* MTU: length 1 (RFC 4861 §4.6.4). */
int us_ndp_opt_mtu(const struct us_ndp_opt *opt, uint32_t *mtu);

struct us_ndp_rdnss {
	uint32_t lifetime_s;  /* 0: stop using these; 0xffffffff: infinity */
	size_t count;	      /* number of addresses, >= 1 */
	const uint8_t *addrs; /* count * 16 bytes inside the option */
};

/* RDNSS (RFC 8106 §5.1): length 3 + 2k ("The minimum value is 3 if one IPv6
 * address is contained in the option"); an even length is US_WIRE_OPT_BAD_LEN. */
int us_ndp_opt_rdnss(const struct us_ndp_opt *opt, struct us_ndp_rdnss *out);

/* The i-th address of a parsed RDNSS option (i < r->count). */
void us_ndp_rdnss_addr(const struct us_ndp_rdnss *r, size_t i, struct us_ip6 *out);

/* Option emitters: each returns the option's length in bytes (a multiple of
 * 8), or 0 when cap is too small. Reserved fields are written as zero. */
size_t us_ndp_opt_lladdr_emit(uint8_t type, const uint8_t mac[US_ETH_ALEN], uint8_t *buf,
			      size_t cap);
/* Bits of the prefix past prefix_len are written as zero; prefix_len > 128
 * returns 0. */
size_t us_ndp_opt_prefix_emit(const struct us_ndp_prefix *p, uint8_t *buf, size_t cap);
size_t us_ndp_opt_mtu_emit(uint32_t mtu, uint8_t *buf, size_t cap);
/* count must be 1..127; otherwise returns 0. */
size_t us_ndp_opt_rdnss_emit(uint32_t lifetime_s, const struct us_ip6 *addrs, size_t count,
			     uint8_t *buf, size_t cap);

#endif

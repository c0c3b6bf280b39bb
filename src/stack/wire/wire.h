/* SPDX-License-Identifier: MIT */
/*
 * wire/wire.h - what every wire parser shares: its error codes.
 *
 * A parser is `int us_X_parse(const uint8_t *buf, size_t len, struct us_X_hdr *out)`:
 * it checks every length once, up front, and fills a host-order struct whose
 * payload pointer and length lie inside buf. It returns US_WIRE_OK or one of
 * the negative codes below, reads nothing outside [buf, buf+len) and never
 * aborts. An emitter is `size_t us_X_emit(const struct us_X_hdr *h, uint8_t *buf, size_t cap)`:
 * it writes the header and returns its length, or 0 when cap is too small.
 */
#ifndef USTACK_WIRE_WIRE_H
#define USTACK_WIRE_WIRE_H

enum us_wire_err {
	US_WIRE_OK = 0,
	US_WIRE_TRUNCATED = -1,	     /* fewer bytes than the fixed header */
	US_WIRE_BAD_VERSION = -2,    /* IP version field is not 4 (6) */
	US_WIRE_BAD_HDR_LEN = -3,    /* IHL < 5, TCP data offset < 5, ... */
	US_WIRE_HDR_PAST_END = -4,   /* header length runs past the buffer */
	US_WIRE_BAD_TOTAL_LEN = -5,  /* IP total/payload length, UDP length lies */
	US_WIRE_BAD_CHECKSUM = -6,   /* checksum does not verify */
	US_WIRE_OPT_PAST_END = -7,   /* an option's length runs past the header */
	US_WIRE_OPT_BAD_LEN = -8,    /* an option length of 0 or 1, or wrong for its kind */
	US_WIRE_BAD_ARP = -9,	     /* ARP hardware/protocol type or sizes we do not speak */
	US_WIRE_BAD_VLAN = -10,	     /* 802.1Q tag we refuse (stacked or truncated) */
	US_WIRE_EXT_PAST_END = -11,  /* IPv6 extension header runs past the packet */
	US_WIRE_EXT_TOO_MANY = -12,  /* more IPv6 extension headers than we walk */
	US_WIRE_EXT_BAD_ORDER = -13, /* hop-by-hop not first (RFC 8200 4.3) */
	US_WIRE_BAD_FIELD = -14,     /* a field holds an impossible value */
};

#define US_WIRE_ERR_COUNT 15

/* A short stable name for the code ("truncated", "bad-checksum", ...). */
const char *us_wire_strerror(int err);

#endif

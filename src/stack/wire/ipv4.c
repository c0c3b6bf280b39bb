/* SPDX-License-Identifier: MIT */
/*
 * wire/ipv4.c - IPv4 header parsing and building (RFC 791 §3.1, RFC 1122
 * §3.2.1), address classes (RFC 1122 §3.2.1.3, RFC 6890) and dotted-quad
 * text without libc.
 *
 * Read first: wire/ipv4.h (the header diagram, the order of the checks and
 * what each error code means).
 */
#include "wire/ipv4.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"

#define IPV4_FLAG_DF   0x4000
#define IPV4_FLAG_MF   0x2000
#define IPV4_FRAG_MASK 0x1fff

/*
 * RFC 791 §3.1 "Options": case 1 is a single octet of option-type (End of
 * Option List, No Operation); case 2 is option-type, option-length (counting
 * both and the data) and data. EOL ends the list: what follows is padding.
 */
static int walk_options(const uint8_t *opt, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t type = opt[i];
		if (type == US_IPV4_OPT_EOL)
			break;
		if (type == US_IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return US_WIRE_OPT_PAST_END; /* no room for the length octet */
		uint8_t olen = opt[i + 1];
		if (olen < 2)
			return US_WIRE_OPT_BAD_LEN;
		if (olen > len - i)
			return US_WIRE_OPT_PAST_END;
		i += olen;
	}
	return US_WIRE_OK;
}

/* The checks of us_ipv4_parse(); `quoted` relaxes them for a header quoted
 * in an ICMP error (see ipv4.h). */
static int parse_header(const uint8_t *buf, size_t len, bool quoted, struct us_ipv4_hdr *out)
{
	if (len < US_IPV4_HDR_LEN)
		return US_WIRE_TRUNCATED;
	if (buf[0] >> 4 != 4)
		return US_WIRE_BAD_VERSION;

	size_t hdr_len = (size_t)(buf[0] & 0x0f) * 4;
	if (hdr_len < US_IPV4_HDR_LEN)
		return US_WIRE_BAD_HDR_LEN;
	if (hdr_len > len)
		return US_WIRE_HDR_PAST_END;

	/* RFC 1122 §3.2.1.1 hands over datagrams whose Total Length is honest;
	 * a link may add padding after it, never remove bytes before it. */
	size_t total_len = us_get_be16(buf + 2);
	if (total_len < hdr_len || (total_len > len && !quoted))
		return US_WIRE_BAD_TOTAL_LEN;

	/* RFC 1122 §3.2.1.2: "A host MUST verify the IP header checksum on
	 * every received datagram and silently discard every datagram that
	 * has a bad checksum." */
	if (!quoted && !us_csum_ok(buf, hdr_len, 0))
		return US_WIRE_BAD_CHECKSUM;

	int err = walk_options(buf + US_IPV4_HDR_LEN, hdr_len - US_IPV4_HDR_LEN);
	if (err != US_WIRE_OK)
		return err;

	uint16_t frag = us_get_be16(buf + 6);
	size_t frag_offset = (size_t)(frag & IPV4_FRAG_MASK) * 8;
	size_t payload_len = (total_len < len ? total_len : len) - hdr_len;
	/* RFC 791 §3.2: a datagram is at most 65535 octets; a fragment whose
	 * data would end past that can never be reassembled. */
	if (!quoted && frag_offset + payload_len > US_IPV4_MAX_LEN)
		return US_WIRE_BAD_FIELD;

	out->hdr_len = (uint8_t)hdr_len;
	out->tos = buf[1];
	out->total_len = (uint16_t)total_len;
	out->id = us_get_be16(buf + 4);
	out->df = (frag & IPV4_FLAG_DF) != 0;
	out->mf = (frag & IPV4_FLAG_MF) != 0;
	out->frag_offset = (uint16_t)frag_offset;
	out->ttl = buf[8];
	out->proto = buf[9];
	out->checksum = us_get_be16(buf + 10);
	out->src = us_get_be32(buf + 12);
	out->dst = us_get_be32(buf + 16);
	out->options_len = hdr_len - US_IPV4_HDR_LEN;
	out->options = out->options_len ? buf + US_IPV4_HDR_LEN : NULL;
	out->payload = buf + hdr_len;
	out->payload_len = payload_len;
	return US_WIRE_OK;
}

int us_ipv4_parse(const uint8_t *buf, size_t len, struct us_ipv4_hdr *out)
{
	return parse_header(buf, len, false, out);
}

int us_ipv4_parse_quoted(const uint8_t *buf, size_t len, struct us_ipv4_hdr *out)
{
	return parse_header(buf, len, true, out);
}

size_t us_ipv4_emit(const struct us_ipv4_hdr *h, uint8_t *buf, size_t cap)
{
	if (h->options_len > US_IPV4_MAX_OPT_LEN)
		return 0;
	if (h->frag_offset % 8 != 0)
		return 0;
	size_t hdr_len = US_IPV4_HDR_LEN + ((h->options_len + 3) & ~(size_t)3);
	if (h->payload_len > US_IPV4_MAX_LEN - hdr_len)
		return 0;
	if (cap < hdr_len)
		return 0;

	uint16_t frag = (uint16_t)(h->frag_offset / 8);
	if (h->df)
		frag |= IPV4_FLAG_DF;
	if (h->mf)
		frag |= IPV4_FLAG_MF;

	buf[0] = (uint8_t)(4 << 4 | hdr_len / 4);
	buf[1] = h->tos;
	us_put_be16(buf + 2, (uint16_t)(hdr_len + h->payload_len));
	us_put_be16(buf + 4, h->id);
	us_put_be16(buf + 6, frag);
	buf[8] = h->ttl;
	buf[9] = h->proto;
	us_put_be16(buf + 10, 0);
	us_put_be32(buf + 12, h->src);
	us_put_be32(buf + 16, h->dst);
	if (h->options_len) {
		memcpy(buf + US_IPV4_HDR_LEN, h->options, h->options_len);
		/* RFC 791 §3.1 "Padding": zeros up to a 32-bit boundary. */
		memset(buf + US_IPV4_HDR_LEN + h->options_len, 0,
		       hdr_len - US_IPV4_HDR_LEN - h->options_len);
	}
	us_csum_fill(buf, hdr_len, 10, 0);
	return hdr_len;
}

/* ---- Address classes ----------------------------------------------------- */

bool us_ipv4_is_multicast(uint32_t addr)
{
	return (addr & 0xf0000000u) == 0xe0000000u;
}

bool us_ipv4_is_limited_broadcast(uint32_t addr)
{
	return addr == 0xffffffffu;
}

bool us_ipv4_is_loopback(uint32_t addr)
{
	return (addr >> 24) == 127;
}

bool us_ipv4_is_zero_net(uint32_t addr)
{
	return (addr >> 24) == 0;
}

static bool is_reserved_class_e(uint32_t addr)
{
	return (addr & 0xf0000000u) == 0xf0000000u;
}

bool us_ipv4_is_martian_src(uint32_t addr)
{
	return us_ipv4_is_zero_net(addr) || us_ipv4_is_loopback(addr) ||
	       us_ipv4_is_multicast(addr) || is_reserved_class_e(addr);
}

/* ---- Text ---------------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int us_ipv4_parse_text(const char *s, uint32_t *out)
{
	uint32_t addr = 0;
	const char *p = s;

	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (*p != '.')
				return US_WIRE_BAD_FIELD;
			p++;
		}
		if (!is_digit(*p))
			return US_WIRE_BAD_FIELD;
		/* No leading zero: "010" is octal to inet_aton, decimal to
		 * others; refusing it removes the doubt. */
		if (p[0] == '0' && is_digit(p[1]))
			return US_WIRE_BAD_FIELD;
		unsigned v = 0;
		int digits = 0;
		while (is_digit(*p)) {
			if (++digits > 3)
				return US_WIRE_BAD_FIELD;
			v = v * 10 + (unsigned)(*p - '0');
			p++;
		}
		if (v > 255)
			return US_WIRE_BAD_FIELD;
		addr = addr << 8 | v;
	}
	if (*p != '\0')
		return US_WIRE_BAD_FIELD;
	*out = addr;
	return 0;
}

size_t us_ipv4_format(uint32_t addr, char buf[US_IPV4_TEXT_MAX])
{
	size_t n = 0;
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned v = (addr >> shift) & 0xff;
		if (v >= 100)
			buf[n++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[n++] = (char)('0' + v / 10 % 10);
		buf[n++] = (char)('0' + v % 10);
		if (shift)
			buf[n++] = '.';
	}
	buf[n] = '\0';
	return n;
}

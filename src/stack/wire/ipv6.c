/* SPDX-License-Identifier: MIT */
/*
 * wire/ipv6.c - IPv6 fixed header, Fragment header and extension header
 * walk (RFC 8200 §3, §4), special addresses (RFC 4291), text forms
 * (RFC 4291 §2.2, RFC 5952).
 *
 * Read first: wire/ipv6.h (diagrams, the walk's contract, the two offset
 * bases).
 */
#include "wire/ipv6.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/ipv4.h"

#define IPV6_FRAG_OFFSET_MASK 0xfff8
#define IPV6_FRAG_M	      0x0001

/* The checks of us_ipv6_parse(); `quoted` relaxes them for a packet quoted
 * in an ICMPv6 error (see ipv6.h). */
static int parse_header(const uint8_t *buf, size_t len, bool quoted, struct us_ipv6_hdr *out)
{
	if (len < US_IPV6_HDR_LEN)
		return US_WIRE_TRUNCATED;
	uint32_t w0 = us_get_be32(buf);
	if (w0 >> 28 != 6)
		return US_WIRE_BAD_VERSION;

	/* RFC 8200 §3: Payload Length is "the rest of the packet following
	 * this IPv6 header". Zero means a Jumbo Payload (RFC 2675), which we do
	 * not implement; more than we hold means the packet was cut. */
	size_t plen = us_get_be16(buf + 4);
	size_t have = len - US_IPV6_HDR_LEN;
	if (plen == 0 || plen > have) {
		if (!quoted)
			return US_WIRE_BAD_TOTAL_LEN;
		plen = have < UINT16_MAX ? have : UINT16_MAX;
	}

	out->traffic_class = (uint8_t)(w0 >> 20);
	out->flow_label = w0 & US_IPV6_FLOW_LABEL_MAX;
	out->payload_len = (uint16_t)plen;
	out->next_header = buf[6];
	out->hop_limit = buf[7];
	memcpy(out->src.b, buf + 8, 16);
	memcpy(out->dst.b, buf + 24, 16);
	out->payload = buf + US_IPV6_HDR_LEN;
	return US_WIRE_OK;
}

int us_ipv6_parse(const uint8_t *buf, size_t len, struct us_ipv6_hdr *out)
{
	return parse_header(buf, len, false, out);
}

int us_ipv6_parse_quoted(const uint8_t *buf, size_t len, struct us_ipv6_hdr *out)
{
	return parse_header(buf, len, true, out);
}

size_t us_ipv6_emit(const struct us_ipv6_hdr *h, uint8_t *buf, size_t cap)
{
	if (cap < US_IPV6_HDR_LEN || h->flow_label > US_IPV6_FLOW_LABEL_MAX)
		return 0;
	us_put_be32(buf, (uint32_t)6 << 28 | (uint32_t)h->traffic_class << 20 | h->flow_label);
	us_put_be16(buf + 4, h->payload_len);
	buf[6] = h->next_header;
	buf[7] = h->hop_limit;
	memcpy(buf + 8, h->src.b, 16);
	memcpy(buf + 24, h->dst.b, 16);
	return US_IPV6_HDR_LEN;
}

/* ---- Fragment header ----------------------------------------------------- */

int us_ipv6_frag_parse(const uint8_t *buf, size_t len, struct us_ipv6_frag *out)
{
	if (len < US_IPV6_FRAG_HDR_LEN)
		return US_WIRE_TRUNCATED;
	uint16_t w = us_get_be16(buf + 2);
	out->next_header = buf[0];
	/* The 13-bit offset in 8-octet units sits in the top bits: masking
	 * the low three bits leaves it multiplied by 8 already. */
	out->offset = (uint16_t)(w & IPV6_FRAG_OFFSET_MASK);
	out->more = (w & IPV6_FRAG_M) != 0;
	out->id = us_get_be32(buf + 4);
	return US_WIRE_OK;
}

size_t us_ipv6_frag_emit(const struct us_ipv6_frag *f, uint8_t *buf, size_t cap)
{
	if (cap < US_IPV6_FRAG_HDR_LEN || f->offset % 8 != 0)
		return 0;
	buf[0] = f->next_header;
	buf[1] = 0;
	us_put_be16(buf + 2, (uint16_t)(f->offset | (f->more ? IPV6_FRAG_M : 0)));
	us_put_be32(buf + 4, f->id);
	return US_IPV6_FRAG_HDR_LEN;
}

/* ---- Extension header walk ----------------------------------------------- */

static bool is_walked_ext(uint8_t nh)
{
	return nh == US_IPPROTO_HOPOPTS || nh == US_IPPROTO_ROUTING || nh == US_IPPROTO_FRAGMENT ||
	       nh == US_IPPROTO_DSTOPTS || nh == US_IPPROTO_AH;
}

/*
 * RFC 8200 §4.2: walk the option TLVs of a Hop-by-Hop or Destination Options
 * header e[0..hlen), which starts at byte `base` of the packet. Stops at the
 * first option whose action is not "skip" and records it in out.
 */
static int walk_options(const uint8_t *e, size_t hlen, size_t base, bool hbh,
			struct us_ipv6_ext *out)
{
	size_t i = 2; /* after Next Header and Hdr Ext Len */
	while (i < hlen) {
		uint8_t type = e[i];
		if (type == US_IPV6_OPT_PAD1) {
			i++;
			continue;
		}
		if (hlen - i < 2)
			return US_WIRE_OPT_PAST_END;
		size_t dlen = e[i + 1];
		if (dlen > hlen - i - 2)
			return US_WIRE_OPT_PAST_END;

		if (type == US_IPV6_OPT_PADN) {
			/* nothing to check: PadN carries dlen zero bytes */
		} else if (hbh && type == US_IPV6_OPT_ROUTER_ALERT) {
			/* RFC 2711 §2.1: Opt Data Len = 2. */
			if (dlen != 2)
				return US_WIRE_OPT_BAD_LEN;
			out->has_router_alert = true;
			out->router_alert = us_get_be16(e + i + 2);
		} else {
			/* RFC 8200 §4.2: "The Option Type identifiers are
			 * internally encoded such that their highest-order 2
			 * bits specify the action that must be taken if the
			 * processing IPv6 node does not recognize the Option
			 * Type." */
			enum us_ipv6_opt_action act = (enum us_ipv6_opt_action)(type >> 6);
			if (act != US_IPV6_OPT_SKIP) {
				out->opt_action = act;
				out->opt_pointer = base + i;
				return US_WIRE_OK;
			}
		}
		i += 2 + dlen;
	}
	return US_WIRE_OK;
}

int us_ipv6_walk(const struct us_ipv6_hdr *h, struct us_ipv6_ext *out)
{
	const uint8_t *p = h->payload;
	size_t plen = h->payload_len;
	uint8_t nh = h->next_header;
	size_t off = 0;	  /* payload-relative: the current header */
	size_t nh_at = 6; /* packet-relative: the field naming nh */

	memset(out, 0, sizeof *out);
	out->opt_action = US_IPV6_OPT_SKIP;

	while (is_walked_ext(nh)) {
		/* RFC 8200 §4.1: "The Hop-by-Hop Options header, when present,
		 * must immediately follow the IPv6 header." */
		if (nh == US_IPPROTO_HOPOPTS && out->ext_count != 0) {
			out->nh_offset = nh_at;
			return US_WIRE_EXT_BAD_ORDER;
		}
		if (out->ext_count == US_IPV6_MAX_EXT)
			return US_WIRE_EXT_TOO_MANY;

		size_t left = plen - off;
		size_t hlen;
		if (nh == US_IPPROTO_FRAGMENT) {
			hlen = US_IPV6_FRAG_HDR_LEN;
		} else {
			if (left < 2)
				return US_WIRE_EXT_PAST_END;
			if (nh == US_IPPROTO_AH)
				hlen = ((size_t)p[off + 1] + 2) * 4; /* RFC 4302 §2.2 */
			else
				hlen = ((size_t)p[off + 1] + 1) * 8; /* RFC 8200 §4.3-§4.6 */
		}
		if (hlen > left)
			return US_WIRE_EXT_PAST_END;

		const uint8_t *e = p + off;
		size_t at = US_IPV6_HDR_LEN + off; /* packet-relative */
		int err;

		if (nh == US_IPPROTO_HOPOPTS || nh == US_IPPROTO_DSTOPTS) {
			bool hbh = nh == US_IPPROTO_HOPOPTS;
			if (hbh)
				out->has_hbh = true;
			else
				out->dstopts_count++;
			err = walk_options(e, hlen, at, hbh, out);
			if (err != US_WIRE_OK)
				return err;
			if (out->opt_action != US_IPV6_OPT_SKIP) {
				out->ext_count++;
				return US_WIRE_OK;
			}
		} else if (nh == US_IPPROTO_ROUTING) {
			out->has_routing = true;
			out->routing_type = e[2];
			out->segments_left = e[3];
			out->routing_offset = at;
		} else if (nh == US_IPPROTO_FRAGMENT) {
			err = us_ipv6_frag_parse(e, hlen, &out->frag);
			if (err != US_WIRE_OK)
				return err;
			out->has_frag = true;
			out->frag_hdr_offset = at;
			out->frag_nh_offset = nh_at;
			if (out->frag.offset != 0 || out->frag.more) {
				/* RFC 8200 §4.5: past this header lies the
				 * fragmentable part, cut at an arbitrary byte. */
				out->ext_count++;
				out->upper_proto = US_IPPROTO_FRAGMENT;
				out->upper_offset = off + hlen;
				out->upper_len = plen - off - hlen;
				out->nh_offset = nh_at;
				return US_WIRE_OK;
			}
		} else {
			out->has_ah = true;
		}

		out->ext_count++;
		nh_at = at; /* every extension header starts with its Next Header */
		nh = e[0];
		off += hlen;
	}

	out->upper_proto = nh;
	out->upper_offset = off;
	out->upper_len = nh == US_IPPROTO_NONE ? 0 : plen - off;
	out->nh_offset = nh_at;
	return US_WIRE_OK;
}

/* ---- Addresses ----------------------------------------------------------- */

bool us_ip6_is_unspecified(const struct us_ip6 *a)
{
	for (int i = 0; i < 16; i++)
		if (a->b[i] != 0)
			return false;
	return true;
}

bool us_ip6_is_loopback(const struct us_ip6 *a)
{
	for (int i = 0; i < 15; i++)
		if (a->b[i] != 0)
			return false;
	return a->b[15] == 1;
}

bool us_ip6_is_multicast(const struct us_ip6 *a)
{
	return a->b[0] == 0xff;
}

bool us_ip6_is_link_local(const struct us_ip6 *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

void us_ip6_solicited_node(const struct us_ip6 *addr, struct us_ip6 *out)
{
	/* RFC 4291 §2.7.1: FF02:0:0:0:0:1:FFXX:XXXX, "formed by taking the
	 * low-order 24 bits of an address (unicast or anycast) and appending
	 * those bits to the prefix FF02:0:0:0:0:1:FF00::/104". */
	uint8_t low[3] = {addr->b[13], addr->b[14], addr->b[15]};
	memset(out->b, 0, 16);
	out->b[0] = 0xff;
	out->b[1] = 0x02;
	out->b[11] = 0x01;
	out->b[12] = 0xff;
	memcpy(out->b + 13, low, 3);
}

void us_ip6_link_local_from_mac(const uint8_t mac[US_ETH_ALEN], struct us_ip6 *out)
{
	memset(out->b, 0, 16);
	out->b[0] = 0xfe;
	out->b[1] = 0x80;
	/* RFC 4291 Appendix A: insert 0xFFFE between the company id and the
	 * extension id, and invert the "u" (universal/local) bit, 0x02 of
	 * the first octet. */
	out->b[8] = mac[0] ^ 0x02;
	out->b[9] = mac[1];
	out->b[10] = mac[2];
	out->b[11] = 0xff;
	out->b[12] = 0xfe;
	out->b[13] = mac[3];
	out->b[14] = mac[4];
	out->b[15] = mac[5];
}

/* ---- Text ---------------------------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int us_ip6_parse_text(const char *s, struct us_ip6 *out)
{
	uint16_t groups[8];
	int n = 0;    /* groups written */
	int gap = -1; /* groups[] index where "::" stands, or -1 */
	const char *p = s;

	/* A leading ':' is only allowed as the start of "::". */
	if (p[0] == ':') {
		if (p[1] != ':')
			return US_WIRE_BAD_FIELD;
		gap = 0;
		p += 2;
	}

	while (*p != '\0') {
		const char *start = p;
		unsigned v = 0;
		int digits = 0;
		int d;
		while ((d = hex_value(*p)) >= 0) {
			if (++digits > 4)
				return US_WIRE_BAD_FIELD;
			v = v << 4 | (unsigned)d;
			p++;
		}
		if (*p == '.') {
			/* RFC 4291 §2.2 (3): x:x:x:x:x:x:d.d.d.d, the dotted
			 * quad ends the address and fills two groups. */
			uint32_t v4;
			if (n > 6 || us_ipv4_parse_text(start, &v4) != 0)
				return US_WIRE_BAD_FIELD;
			groups[n++] = (uint16_t)(v4 >> 16);
			groups[n++] = (uint16_t)v4;
			break;
		}
		if (digits == 0 || n == 8)
			return US_WIRE_BAD_FIELD;
		groups[n++] = (uint16_t)v;
		if (*p == '\0')
			break;
		if (*p != ':')
			return US_WIRE_BAD_FIELD;
		p++;
		if (*p == ':') {
			if (gap >= 0)
				return US_WIRE_BAD_FIELD; /* a second "::" */
			gap = n;
			p++;
			/* A third ':' leaves an empty group: refused at the
			 * top of the loop. */
		} else if (*p == '\0') {
			return US_WIRE_BAD_FIELD; /* a single trailing ':' */
		}
	}

	if (gap < 0 && n != 8)
		return US_WIRE_BAD_FIELD;
	/* "::" stands for one or more zero groups (RFC 4291 §2.2 (2)). */
	if (gap >= 0 && n > 7)
		return US_WIRE_BAD_FIELD;

	uint16_t full[8] = {0};
	if (gap < 0) {
		memcpy(full, groups, sizeof full);
	} else {
		int tail = n - gap;
		for (int i = 0; i < gap; i++)
			full[i] = groups[i];
		for (int i = 0; i < tail; i++)
			full[8 - tail + i] = groups[gap + i];
	}
	for (int i = 0; i < 8; i++)
		us_put_be16(out->b + 2 * i, full[i]);
	return 0;
}

static bool is_v4_mapped(const struct us_ip6 *a)
{
	for (int i = 0; i < 10; i++)
		if (a->b[i] != 0)
			return false;
	return a->b[10] == 0xff && a->b[11] == 0xff;
}

static size_t put_hex_group(char *buf, uint16_t v)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	bool started = false;
	/* RFC 5952 §4.1: leading zeros MUST be suppressed; §4.3: lowercase. */
	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned d = (v >> shift) & 0xf;
		if (d || started || shift == 0) {
			buf[n++] = digits[d];
			started = true;
		}
	}
	return n;
}

size_t us_ip6_format(const struct us_ip6 *a, char buf[US_IP6_TEXT_MAX])
{
	size_t n = 0;

	if (is_v4_mapped(a)) {
		memcpy(buf, "::ffff:", 7);
		n = 7;
		n += us_ipv4_format(us_get_be32(a->b + 12), buf + n);
		return n;
	}

	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = us_get_be16(a->b + 2 * i);

	/* RFC 5952 §4.2.1-§4.2.3: "::" replaces the longest run of zero
	 * groups, only if it is two or more groups long, and the first such
	 * run when lengths tie. */
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		if (g[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	if (best_len < 2)
		best = -1;

	for (int i = 0; i < 8;) {
		if (i == best) {
			buf[n++] = ':';
			buf[n++] = ':';
			i += best_len;
			continue;
		}
		if (i > 0 && !(best >= 0 && i == best + best_len))
			buf[n++] = ':';
		n += put_hex_group(buf + n, g[i]);
		i++;
	}
	buf[n] = '\0';
	return n;
}

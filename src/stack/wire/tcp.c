/* SPDX-License-Identifier: MIT */
/*
 * wire/tcp.c - parse and build TCP headers and options (RFC 9293 §3.1-3.2,
 * RFC 7323 §2-3, RFC 2018 §2-3).
 *
 * Read first: tcp.h (header diagram, option table, the emitted layout).
 */
#include "wire/tcp.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/wire.h"

/* One option of a known kind whose length fits the header; olen >= 2. */
static int parse_known_opt(const uint8_t *p, uint8_t kind, size_t olen, struct us_tcp_opts *o)
{
	switch (kind) {
	case US_TCP_OPT_MSS:
		if (olen != 4)
			return US_WIRE_OPT_BAD_LEN;
		o->has_mss = true;
		o->mss = us_get_be16(p + 2);
		break;
	case US_TCP_OPT_WSCALE:
		if (olen != 3)
			return US_WIRE_OPT_BAD_LEN;
		o->has_wscale = true;
		/* RFC 7323 §2.3: "If a Window Scale option is received with a
		 * shift.cnt value larger than 14, the TCP SHOULD log the error
		 * but MUST use 14 instead of the specified value." */
		if (p[2] > US_TCP_MAX_WSCALE) {
			o->wscale = US_TCP_MAX_WSCALE;
			o->wscale_clamped = true;
		} else {
			o->wscale = p[2];
			o->wscale_clamped = false;
		}
		break;
	case US_TCP_OPT_SACK_PERM:
		if (olen != 2)
			return US_WIRE_OPT_BAD_LEN;
		o->sack_permitted = true;
		break;
	case US_TCP_OPT_SACK: {
		size_t n = (olen - 2) / 8;

		if ((olen - 2) % 8 != 0 || n < 1 || n > US_TCP_MAX_SACK)
			return US_WIRE_OPT_BAD_LEN;
		o->sack_count = (uint8_t)n;
		for (size_t i = 0; i < n; i++) {
			o->sack[i].left = us_get_be32(p + 2 + 8 * i);
			o->sack[i].right = us_get_be32(p + 6 + 8 * i);
		}
		break;
	}
	case US_TCP_OPT_TS:
		if (olen != 10)
			return US_WIRE_OPT_BAD_LEN;
		o->has_ts = true;
		o->ts_val = us_get_be32(p + 2);
		o->ts_ecr = us_get_be32(p + 6);
		break;
	default:
		/* RFC 9293 §3.1, MUST-6: an option we do not implement is
		 * ignored without error, skipped by its length. */
		break;
	}
	return US_WIRE_OK;
}

static int parse_opts(const uint8_t *buf, size_t hdr_len, struct us_tcp_opts *o)
{
	size_t off = US_TCP_HDR_LEN;

	while (off < hdr_len) {
		uint8_t kind = buf[off];
		size_t olen;
		int err;

		if (kind == US_TCP_OPT_EOL)
			break; /* the rest of the header is padding */
		if (kind == US_TCP_OPT_NOP) {
			off++;
			continue;
		}
		if (hdr_len - off < 2)
			return US_WIRE_OPT_PAST_END; /* no room for the length byte */
		olen = buf[off + 1];
		if (olen < 2)
			return US_WIRE_OPT_BAD_LEN;
		if (olen > hdr_len - off)
			return US_WIRE_OPT_PAST_END;
		err = parse_known_opt(buf + off, kind, olen, o);
		if (err)
			return err;
		off += olen;
	}
	return US_WIRE_OK;
}

int us_tcp_parse(const uint8_t *buf, size_t len, struct us_tcp_hdr *out)
{
	size_t hdr_len;
	int err;

	if (len < US_TCP_HDR_LEN)
		return US_WIRE_TRUNCATED;
	hdr_len = (size_t)(buf[12] >> 4) * 4;
	if (hdr_len < US_TCP_HDR_LEN)
		return US_WIRE_BAD_HDR_LEN;
	if (hdr_len > len)
		return US_WIRE_HDR_PAST_END;

	memset(&out->opts, 0, sizeof out->opts);
	err = parse_opts(buf, hdr_len, &out->opts);
	if (err)
		return err;

	out->sport = us_get_be16(buf);
	out->dport = us_get_be16(buf + 2);
	out->seq = us_get_be32(buf + 4);
	out->ack = us_get_be32(buf + 8);
	out->hdr_len = (uint8_t)hdr_len;
	out->flags = buf[13];
	out->window = us_get_be16(buf + 14);
	out->checksum = us_get_be16(buf + 16);
	out->urgent = us_get_be16(buf + 18);
	out->payload = buf + hdr_len;
	out->payload_len = len - hdr_len;
	return US_WIRE_OK;
}

bool us_tcp_csum_ok(const uint8_t *buf, size_t seg_len, uint32_t pseudo)
{
	return seg_len >= US_TCP_HDR_LEN && us_csum_ok(buf, seg_len, pseudo);
}

/* Lay the options out as tcp.h describes; with p NULL only count. One
 * function for both, so us_tcp_opts_len() and us_tcp_emit() cannot disagree. */
static size_t layout_opts(const struct us_tcp_opts *o, uint8_t *p)
{
	size_t n = 0;

	if (o->has_mss) {
		if (p) {
			p[n] = US_TCP_OPT_MSS;
			p[n + 1] = 4;
			us_put_be16(p + n + 2, o->mss);
		}
		n += 4;
	}
	if (o->has_ts) {
		if (p) {
			if (o->sack_permitted) {
				p[n] = US_TCP_OPT_SACK_PERM;
				p[n + 1] = 2;
			} else {
				p[n] = US_TCP_OPT_NOP;
				p[n + 1] = US_TCP_OPT_NOP;
			}
			p[n + 2] = US_TCP_OPT_TS;
			p[n + 3] = 10;
			us_put_be32(p + n + 4, o->ts_val);
			us_put_be32(p + n + 8, o->ts_ecr);
		}
		n += 12;
	} else if (o->sack_permitted) {
		if (p) {
			p[n] = US_TCP_OPT_NOP;
			p[n + 1] = US_TCP_OPT_NOP;
			p[n + 2] = US_TCP_OPT_SACK_PERM;
			p[n + 3] = 2;
		}
		n += 4;
	}
	if (o->has_wscale) {
		if (p) {
			p[n] = US_TCP_OPT_NOP;
			p[n + 1] = US_TCP_OPT_WSCALE;
			p[n + 2] = 3;
			p[n + 3] = o->wscale;
		}
		n += 4;
	}
	if (o->sack_count) {
		if (p) {
			p[n] = US_TCP_OPT_NOP;
			p[n + 1] = US_TCP_OPT_NOP;
			p[n + 2] = US_TCP_OPT_SACK;
			p[n + 3] = (uint8_t)(2 + 8 * o->sack_count);
			for (size_t i = 0; i < o->sack_count; i++) {
				us_put_be32(p + n + 4 + 8 * i, o->sack[i].left);
				us_put_be32(p + n + 8 + 8 * i, o->sack[i].right);
			}
		}
		n += 4 + 8 * (size_t)o->sack_count;
	}
	return n;
}

size_t us_tcp_opts_len(const struct us_tcp_opts *o)
{
	return layout_opts(o, NULL);
}

size_t us_tcp_emit(const struct us_tcp_hdr *h, uint8_t *buf, size_t cap)
{
	const struct us_tcp_opts *o = &h->opts;
	size_t opt_len, hdr_len;

	if (o->sack_count > US_TCP_MAX_SACK || (o->has_wscale && o->wscale > US_TCP_MAX_WSCALE))
		return 0;
	opt_len = us_tcp_opts_len(o);
	if (opt_len > US_TCP_MAX_OPT_LEN)
		return 0;
	hdr_len = US_TCP_HDR_LEN + opt_len;
	if (cap < hdr_len)
		return 0;

	us_put_be16(buf, h->sport);
	us_put_be16(buf + 2, h->dport);
	us_put_be32(buf + 4, h->seq);
	us_put_be32(buf + 8, h->ack);
	buf[12] = (uint8_t)(hdr_len / 4 << 4);
	buf[13] = h->flags;
	us_put_be16(buf + 14, h->window);
	us_put_be16(buf + 16, h->checksum);
	us_put_be16(buf + 18, h->urgent);
	layout_opts(o, buf + US_TCP_HDR_LEN);
	return hdr_len;
}

void us_tcp_csum_fill(uint8_t *buf, size_t seg_len, uint32_t pseudo)
{
	if (seg_len < US_TCP_HDR_LEN)
		return;
	us_csum_fill(buf, seg_len, 16, pseudo);
}

const char *us_tcp_flags_str(uint8_t flags, char buf[9])
{
	/* tcpdump's tcp_flag_values[] order. */
	static const struct {
		uint8_t bit;
		char c;
	} names[] = {
	    {US_TCP_FIN, 'F'}, {US_TCP_SYN, 'S'}, {US_TCP_RST, 'R'}, {US_TCP_PSH, 'P'},
	    {US_TCP_ACK, '.'}, {US_TCP_URG, 'U'}, {US_TCP_ECE, 'E'}, {US_TCP_CWR, 'W'},
	};
	size_t n = 0;

	if (flags == 0) {
		memcpy(buf, "none", 5);
		return buf;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (flags & names[i].bit)
			buf[n++] = names[i].c;
	buf[n] = '\0';
	return buf;
}

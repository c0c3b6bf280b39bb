/* SPDX-License-Identifier: MIT */
/*
 * wire/icmp6.c - parse and build ICMPv6 messages (RFC 4443 §2) and the
 * Neighbor Discovery messages and options (RFC 4861 §4, RFC 8106 §5.1).
 *
 * Read first: icmp6.h, whose diagrams give every offset used here. The ND
 * protocol itself (neighbor cache, router list, SLAAC) lives elsewhere; this
 * file only turns bytes into host-order structs and back.
 */
#include "wire/icmp6.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/wire.h"

int us_icmp6_parse(const uint8_t *buf, size_t len, uint32_t pseudo, struct us_icmp6_hdr *out)
{
	if (len < US_ICMP6_HDR_LEN)
		return US_WIRE_TRUNCATED;
	/* RFC 4443 §2.3: the checksum covers the message and the pseudo-header;
	 * unlike UDP over IPv4 there is no "no checksum" value. */
	if (!us_csum_ok(buf, len, pseudo))
		return US_WIRE_BAD_CHECKSUM;

	out->type = buf[0];
	out->code = buf[1];
	out->checksum = us_get_be16(buf + 2);
	out->rest = us_get_be32(buf + 4);
	out->payload = buf + US_ICMP6_HDR_LEN;
	out->payload_len = len - US_ICMP6_HDR_LEN;
	return US_WIRE_OK;
}

size_t us_icmp6_emit(const struct us_icmp6_hdr *h, uint8_t *buf, size_t cap, uint32_t pseudo)
{
	if (cap < US_ICMP6_HDR_LEN || cap - US_ICMP6_HDR_LEN < h->payload_len)
		return 0;
	buf[0] = h->type;
	buf[1] = h->code;
	us_put_be32(buf + 4, h->rest);
	us_csum_fill(buf, US_ICMP6_HDR_LEN + h->payload_len, 2, pseudo);
	return US_ICMP6_HDR_LEN;
}

void us_icmp6_csum_fill(uint8_t *buf, size_t len, uint32_t pseudo)
{
	us_csum_fill(buf, len, 2, pseudo);
}

/* ---- ND messages ---------------------------------------------------------- */

static bool ip6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

/* fe80::/10 (RFC 4291 §2.5.6). */
static bool ip6_is_link_local(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* The checks every ND message shares: its fixed length, its type, code 0. */
static int nd_check(const uint8_t *buf, size_t len, uint8_t type, size_t fixed)
{
	if (len < fixed)
		return US_WIRE_TRUNCATED;
	if (buf[0] != type || buf[1] != 0)
		return US_WIRE_BAD_FIELD;
	return US_WIRE_OK;
}

int us_ndp_rs_parse(const uint8_t *buf, size_t len, struct us_ndp_rs *out)
{
	int err = nd_check(buf, len, US_ICMP6_ND_RS, US_NDP_RS_LEN);

	if (err)
		return err;
	out->opts = buf + US_NDP_RS_LEN;
	out->opts_len = len - US_NDP_RS_LEN;
	return US_WIRE_OK;
}

int us_ndp_ra_parse(const uint8_t *buf, size_t len, struct us_ndp_ra *out)
{
	int err = nd_check(buf, len, US_ICMP6_ND_RA, US_NDP_RA_LEN);

	if (err)
		return err;
	out->cur_hop_limit = buf[4];
	out->flags = buf[5];
	out->managed = (buf[5] & US_NDP_RA_MANAGED) != 0;
	out->other = (buf[5] & US_NDP_RA_OTHER) != 0;
	out->router_lifetime_s = us_get_be16(buf + 6);
	out->reachable_time_ms = us_get_be32(buf + 8);
	out->retrans_timer_ms = us_get_be32(buf + 12);
	out->opts = buf + US_NDP_RA_LEN;
	out->opts_len = len - US_NDP_RA_LEN;
	return US_WIRE_OK;
}

int us_ndp_ns_parse(const uint8_t *buf, size_t len, struct us_ndp_ns *out)
{
	int err = nd_check(buf, len, US_ICMP6_ND_NS, US_NDP_NS_LEN);

	if (err)
		return err;
	/* RFC 4861 §7.1.1: "Target Address is not a multicast address." */
	if (ip6_is_multicast(buf + 8))
		return US_WIRE_BAD_FIELD;
	memcpy(out->target.b, buf + 8, 16);
	out->opts = buf + US_NDP_NS_LEN;
	out->opts_len = len - US_NDP_NS_LEN;
	return US_WIRE_OK;
}

int us_ndp_na_parse(const uint8_t *buf, size_t len, struct us_ndp_na *out)
{
	int err = nd_check(buf, len, US_ICMP6_ND_NA, US_NDP_NA_LEN);

	if (err)
		return err;
	/* RFC 4861 §7.1.2: "Target Address is not a multicast address." */
	if (ip6_is_multicast(buf + 8))
		return US_WIRE_BAD_FIELD;
	out->router = (buf[4] & US_NDP_NA_ROUTER) != 0;
	out->solicited = (buf[4] & US_NDP_NA_SOLICITED) != 0;
	out->override = (buf[4] & US_NDP_NA_OVERRIDE) != 0;
	memcpy(out->target.b, buf + 8, 16);
	out->opts = buf + US_NDP_NA_LEN;
	out->opts_len = len - US_NDP_NA_LEN;
	return US_WIRE_OK;
}

int us_ndp_redirect_parse(const uint8_t *buf, size_t len, struct us_ndp_redirect *out)
{
	int err = nd_check(buf, len, US_ICMP6_ND_REDIRECT, US_NDP_REDIRECT_LEN);

	if (err)
		return err;
	/* RFC 4861 §8.1: "The ICMP Destination Address field in the redirect
	 * message does not contain a multicast address." and "The ICMP Target
	 * Address is either a link-local address (when redirected to a router)
	 * or the same as the ICMP Destination Address (when redirected to the
	 * on-link destination)." */
	if (ip6_is_multicast(buf + 24))
		return US_WIRE_BAD_FIELD;
	if (!ip6_is_link_local(buf + 8) && memcmp(buf + 8, buf + 24, 16) != 0)
		return US_WIRE_BAD_FIELD;
	memcpy(out->target.b, buf + 8, 16);
	memcpy(out->dest.b, buf + 24, 16);
	out->opts = buf + US_NDP_REDIRECT_LEN;
	out->opts_len = len - US_NDP_REDIRECT_LEN;
	return US_WIRE_OK;
}

/* Type, code 0, zero checksum, zero reserved word. */
static void nd_start(uint8_t *buf, uint8_t type)
{
	buf[0] = type;
	buf[1] = 0;
	us_put_be16(buf + 2, 0);
	us_put_be32(buf + 4, 0);
}

size_t us_ndp_rs_emit(const struct us_ndp_rs *rs, uint8_t *buf, size_t cap)
{
	(void)rs; /* an RS has no fields of its own, only options */
	if (cap < US_NDP_RS_LEN)
		return 0;
	nd_start(buf, US_ICMP6_ND_RS);
	return US_NDP_RS_LEN;
}

size_t us_ndp_ra_emit(const struct us_ndp_ra *ra, uint8_t *buf, size_t cap)
{
	uint8_t flags = ra->flags & 0x3f;

	if (cap < US_NDP_RA_LEN)
		return 0;
	if (ra->managed)
		flags |= US_NDP_RA_MANAGED;
	if (ra->other)
		flags |= US_NDP_RA_OTHER;
	nd_start(buf, US_ICMP6_ND_RA);
	buf[4] = ra->cur_hop_limit;
	buf[5] = flags;
	us_put_be16(buf + 6, ra->router_lifetime_s);
	us_put_be32(buf + 8, ra->reachable_time_ms);
	us_put_be32(buf + 12, ra->retrans_timer_ms);
	return US_NDP_RA_LEN;
}

size_t us_ndp_ns_emit(const struct us_ndp_ns *ns, uint8_t *buf, size_t cap)
{
	if (cap < US_NDP_NS_LEN)
		return 0;
	nd_start(buf, US_ICMP6_ND_NS);
	memcpy(buf + 8, ns->target.b, 16);
	return US_NDP_NS_LEN;
}

size_t us_ndp_na_emit(const struct us_ndp_na *na, uint8_t *buf, size_t cap)
{
	if (cap < US_NDP_NA_LEN)
		return 0;
	nd_start(buf, US_ICMP6_ND_NA);
	buf[4] = (uint8_t)((na->router ? US_NDP_NA_ROUTER : 0) |
			   (na->solicited ? US_NDP_NA_SOLICITED : 0) |
			   (na->override ? US_NDP_NA_OVERRIDE : 0));
	memcpy(buf + 8, na->target.b, 16);
	return US_NDP_NA_LEN;
}

size_t us_ndp_redirect_emit(const struct us_ndp_redirect *rd, uint8_t *buf, size_t cap)
{
	if (cap < US_NDP_REDIRECT_LEN)
		return 0;
	nd_start(buf, US_ICMP6_ND_REDIRECT);
	memcpy(buf + 8, rd->target.b, 16);
	memcpy(buf + 24, rd->dest.b, 16);
	return US_NDP_REDIRECT_LEN;
}

/* ---- ND options ----------------------------------------------------------- */

void us_ndp_opt_iter_init(struct us_ndp_opt_iter *it, const uint8_t *opts, size_t len)
{
	it->p = opts;
	it->len = len;
	it->off = 0;
}

int us_ndp_opt_next(struct us_ndp_opt_iter *it, struct us_ndp_opt *opt)
{
	size_t left = it->len - it->off;
	size_t bytes;

	if (left == 0)
		return 0;
	/* On an error off does not move, so the error repeats. */
	if (left < 2)
		return US_WIRE_OPT_PAST_END;
	if (it->p[it->off + 1] == 0)
		return US_WIRE_OPT_BAD_LEN; /* RFC 4861 §4.6: length zero */
	bytes = (size_t)it->p[it->off + 1] * 8;
	if (bytes > left)
		return US_WIRE_OPT_PAST_END;

	opt->type = it->p[it->off];
	opt->len_units = it->p[it->off + 1];
	opt->data = it->p + it->off;
	opt->len = bytes;
	it->off += bytes;
	return 1;
}

/* Copy a 16-byte prefix, clearing every bit after the first plen (<= 128). */
static void copy_prefix(uint8_t *dst, const uint8_t *src, unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned first_bit = i * 8;

		if (first_bit >= plen)
			dst[i] = 0;
		else if (plen - first_bit < 8)
			dst[i] = src[i] & (uint8_t)(0xff << (8 - (plen - first_bit)));
		else
			dst[i] = src[i];
	}
}

int us_ndp_opt_lladdr(const struct us_ndp_opt *opt, uint8_t mac[US_ETH_ALEN])
{
	if (opt->type != US_NDP_OPT_SLLA && opt->type != US_NDP_OPT_TLLA)
		return US_WIRE_BAD_FIELD;
	/* RFC 2464 §6: on Ethernet the option is 8 bytes, Length 1. */
	if (opt->len_units != 1)
		return US_WIRE_OPT_BAD_LEN;
	memcpy(mac, opt->data + 2, US_ETH_ALEN);
	return US_WIRE_OK;
}

int us_ndp_opt_prefix(const struct us_ndp_opt *opt, struct us_ndp_prefix *out)
{
	const uint8_t *d = opt->data;
	unsigned plen;

	if (opt->type != US_NDP_OPT_PREFIX)
		return US_WIRE_BAD_FIELD;
	if (opt->len_units != 4)
		return US_WIRE_OPT_BAD_LEN;
	plen = d[2];
	if (plen > 128)
		return US_WIRE_BAD_FIELD;

	out->prefix_len = (uint8_t)plen;
	out->onlink = (d[3] & US_NDP_PREFIX_ONLINK) != 0;
	out->autonomous = (d[3] & US_NDP_PREFIX_AUTO) != 0;
	out->valid_lifetime_s = us_get_be32(d + 4);
	out->preferred_lifetime_s = us_get_be32(d + 8);
	/* RFC 4861 §4.6.2: bits after the prefix length are ignored. */
	copy_prefix(out->prefix.b, d + 16, plen);
	return US_WIRE_OK;
}

int us_ndp_opt_mtu(const struct us_ndp_opt *opt, uint32_t *mtu)
{
	if (opt->type != US_NDP_OPT_MTU)
		return US_WIRE_BAD_FIELD;
	if (opt->len_units != 1)
		return US_WIRE_OPT_BAD_LEN;
	*mtu = us_get_be32(opt->data + 4);
	return US_WIRE_OK;
}

int us_ndp_opt_rdnss(const struct us_ndp_opt *opt, struct us_ndp_rdnss *out)
{
	if (opt->type != US_NDP_OPT_RDNSS)
		return US_WIRE_BAD_FIELD;
	/* RFC 8106 §5.1: "The minimum value is 3 if one IPv6 address is
	 * contained in the option. Every additional RDNSS address increases
	 * the length by 2." */
	if (opt->len_units < 3 || opt->len_units % 2 == 0)
		return US_WIRE_OPT_BAD_LEN;
	out->lifetime_s = us_get_be32(opt->data + 4);
	out->count = (size_t)(opt->len_units - 1) / 2;
	out->addrs = opt->data + 8;
	return US_WIRE_OK;
}

void us_ndp_rdnss_addr(const struct us_ndp_rdnss *r, size_t i, struct us_ip6 *out)
{
	memcpy(out->b, r->addrs + i * 16, 16);
}

size_t us_ndp_opt_lladdr_emit(uint8_t type, const uint8_t mac[US_ETH_ALEN], uint8_t *buf,
			      size_t cap)
{
	if (cap < 8)
		return 0;
	buf[0] = type;
	buf[1] = 1;
	memcpy(buf + 2, mac, US_ETH_ALEN);
	return 8;
}

size_t us_ndp_opt_prefix_emit(const struct us_ndp_prefix *p, uint8_t *buf, size_t cap)
{
	unsigned plen = p->prefix_len;

	if (cap < 32 || plen > 128)
		return 0;
	buf[0] = US_NDP_OPT_PREFIX;
	buf[1] = 4;
	buf[2] = (uint8_t)plen;
	buf[3] = (uint8_t)((p->onlink ? US_NDP_PREFIX_ONLINK : 0) |
			   (p->autonomous ? US_NDP_PREFIX_AUTO : 0));
	us_put_be32(buf + 4, p->valid_lifetime_s);
	us_put_be32(buf + 8, p->preferred_lifetime_s);
	us_put_be32(buf + 12, 0);
	/* RFC 4861 §4.6.2: bits after the prefix length "MUST be initialized
	 * to zero by the sender". */
	copy_prefix(buf + 16, p->prefix.b, plen);
	return 32;
}

size_t us_ndp_opt_mtu_emit(uint32_t mtu, uint8_t *buf, size_t cap)
{
	if (cap < 8)
		return 0;
	buf[0] = US_NDP_OPT_MTU;
	buf[1] = 1;
	us_put_be16(buf + 2, 0);
	us_put_be32(buf + 4, mtu);
	return 8;
}

size_t us_ndp_opt_rdnss_emit(uint32_t lifetime_s, const struct us_ip6 *addrs, size_t count,
			     uint8_t *buf, size_t cap)
{
	size_t len = 8 + count * 16;

	if (count < 1 || count > 127 || cap < len)
		return 0;
	buf[0] = US_NDP_OPT_RDNSS;
	buf[1] = (uint8_t)(1 + 2 * count);
	us_put_be16(buf + 2, 0);
	us_put_be32(buf + 4, lifetime_s);
	for (size_t i = 0; i < count; i++)
		memcpy(buf + 8 + i * 16, addrs[i].b, 16);
	return len;
}

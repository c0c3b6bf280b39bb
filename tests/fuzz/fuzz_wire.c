/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_wire.c - a libFuzzer target for every wire parser.
 *
 * The input is used three ways, so that a seed of any layer is useful:
 *  1. as an Ethernet frame, walked down the stack the way input would be:
 *     eth -> ARP | IPv4 -> ICMPv4 / UDP / TCP | IPv6 -> extension headers ->
 *     ICMPv6 (ND messages and options, quoted packets) / UDP / TCP. The walk
 *     runs on a private copy whose checksums are recomputed first, so that
 *     the fuzzer gets past them (the parsers on the raw bytes see the bad
 *     checksums);
 *  2. directly as the buffer of every parser, each in turn;
 *  3. as a NUL-terminated string for the IPv4 and IPv6 text parsers.
 * Besides the sanitizers (ASan, UBSan, with no recovery), it checks
 * invariants and traps when one breaks: a payload inside its buffer,
 * emit(parse(x)) parsing back to the same fields, text round trips.
 *
 * Build and run: tests/fuzz/run-fuzz.sh (see tests/fuzz/meson.build).
 * Read first: src/stack/wire/wire.h, then the header of each layer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"
#include "wire/udp.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger inputs add nothing: the biggest thing parsed is a 64 KB datagram. */
#define MAX_INPUT (US_ETH_VLAN_HDR_LEN + 65535 + 64)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

/* A parser's return value is OK or one of the codes wire.h defines. */
static int check_rc(int rc)
{
	CHECK(rc <= 0 && rc > -US_WIRE_ERR_COUNT);
	CHECK(us_wire_strerror(rc) != NULL);
	return rc;
}

/* [p, p+n) lies inside [buf, buf+len). */
static void check_inside(const uint8_t *buf, size_t len, const uint8_t *p, size_t n)
{
	CHECK(p >= buf && p <= buf + len);
	CHECK(n <= (size_t)(buf + len - p));
}

/* Read every byte of a region, so that ASan sees an out-of-bounds span. */
static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	sink = x;
}

/* ---- Layer by layer ------------------------------------------------------ */

static void fuzz_arp(const uint8_t *buf, size_t len)
{
	struct us_arp_pkt a, back;
	if (check_rc(us_arp_parse(buf, len, &a)) != US_WIRE_OK)
		return;
	uint8_t out[US_ARP_LEN];
	CHECK(us_arp_emit(&a, out, sizeof out) == US_ARP_LEN);
	CHECK(memcmp(out, buf, US_ARP_LEN) == 0);
	CHECK(us_arp_parse(out, sizeof out, &back) == US_WIRE_OK);
}

static void fuzz_ndp_options(const uint8_t *opts, size_t len)
{
	struct us_ndp_opt_iter it;
	struct us_ndp_opt o;
	int rc;
	unsigned guard = 0;

	us_ndp_opt_iter_init(&it, opts, len);
	while ((rc = us_ndp_opt_next(&it, &o)) == 1) {
		CHECK(++guard <= len); /* every option is at least 8 bytes */
		check_inside(opts, len, o.data, o.len);
		touch(o.data, o.len);
		uint8_t mac[US_ETH_ALEN];
		struct us_ndp_prefix pfx;
		struct us_ndp_rdnss rd;
		uint32_t mtu;
		check_rc(us_ndp_opt_lladdr(&o, mac));
		check_rc(us_ndp_opt_prefix(&o, &pfx));
		check_rc(us_ndp_opt_mtu(&o, &mtu));
		if (check_rc(us_ndp_opt_rdnss(&o, &rd)) == US_WIRE_OK) {
			CHECK(rd.count >= 1);
			check_inside(o.data, o.len, rd.addrs, rd.count * 16);
			for (size_t i = 0; i < rd.count; i++) {
				struct us_ip6 a;
				us_ndp_rdnss_addr(&rd, i, &a);
			}
		}
	}
	check_rc(rc);
	/* An error repeats on every later call (icmp6.h). */
	if (rc < 0)
		CHECK(us_ndp_opt_next(&it, &o) == rc);
}

/* Every ND parser on one ICMPv6 message; each rejects the other types. */
static void fuzz_ndp(const uint8_t *buf, size_t len)
{
	struct us_ndp_rs rs;
	struct us_ndp_ra ra;
	struct us_ndp_ns ns;
	struct us_ndp_na na;
	struct us_ndp_redirect rd;
	if (check_rc(us_ndp_rs_parse(buf, len, &rs)) == US_WIRE_OK) {
		check_inside(buf, len, rs.opts, rs.opts_len);
		fuzz_ndp_options(rs.opts, rs.opts_len);
	}
	if (check_rc(us_ndp_ra_parse(buf, len, &ra)) == US_WIRE_OK) {
		check_inside(buf, len, ra.opts, ra.opts_len);
		fuzz_ndp_options(ra.opts, ra.opts_len);
	}
	if (check_rc(us_ndp_ns_parse(buf, len, &ns)) == US_WIRE_OK) {
		check_inside(buf, len, ns.opts, ns.opts_len);
		CHECK(!us_ip6_is_multicast(&ns.target));
		fuzz_ndp_options(ns.opts, ns.opts_len);
	}
	if (check_rc(us_ndp_na_parse(buf, len, &na)) == US_WIRE_OK) {
		check_inside(buf, len, na.opts, na.opts_len);
		CHECK(!us_ip6_is_multicast(&na.target));
		fuzz_ndp_options(na.opts, na.opts_len);
	}
	if (check_rc(us_ndp_redirect_parse(buf, len, &rd)) == US_WIRE_OK) {
		check_inside(buf, len, rd.opts, rd.opts_len);
		fuzz_ndp_options(rd.opts, rd.opts_len);
	}
}

static void fuzz_udp(const uint8_t *buf, size_t len, uint32_t pseudo)
{
	struct us_udp_hdr u;
	if (check_rc(us_udp_parse(buf, len, &u)) != US_WIRE_OK)
		return;
	CHECK(u.length >= US_UDP_HDR_LEN && u.length <= len);
	CHECK(u.payload_len == (size_t)u.length - US_UDP_HDR_LEN);
	check_inside(buf, len, u.payload, u.payload_len);
	touch(u.payload, u.payload_len);
	(void)us_udp_csum_ok(buf, u.length, pseudo);
}

/* The UDP checksum covers Length bytes (the pseudo-header counts the same
 * Length), not the IP payload: fix it only when that length is honest. */
static void fix_udp_csum(uint8_t *buf, size_t len, uint32_t pseudo)
{
	if (len < US_UDP_HDR_LEN)
		return;
	size_t ulen = us_get_be16(buf + 4);
	if (ulen >= US_UDP_HDR_LEN && ulen <= len)
		us_udp_csum_fill(buf, ulen, pseudo);
}

static void fuzz_tcp(const uint8_t *buf, size_t len, uint32_t pseudo)
{
	struct us_tcp_hdr t;
	if (check_rc(us_tcp_parse(buf, len, &t)) != US_WIRE_OK)
		return;
	CHECK(t.hdr_len >= US_TCP_HDR_LEN && t.hdr_len <= US_TCP_MAX_HDR_LEN && t.hdr_len <= len);
	CHECK(t.opts.sack_count <= US_TCP_MAX_SACK);
	CHECK(!t.opts.has_wscale || t.opts.wscale <= US_TCP_MAX_WSCALE);
	check_inside(buf, len, t.payload, t.payload_len);
	touch(t.payload, t.payload_len);
	(void)us_tcp_csum_ok(buf, len, pseudo);
	char flags[9];
	CHECK(us_tcp_flags_str(t.flags, flags) != NULL);

	/* Re-emitting what was parsed must give a segment that parses. */
	uint8_t out[US_TCP_MAX_HDR_LEN];
	size_t n = us_tcp_emit(&t, out, sizeof out);
	if (n) {
		struct us_tcp_hdr back;
		CHECK(n == us_tcp_opts_len(&t.opts) + US_TCP_HDR_LEN);
		CHECK(us_tcp_parse(out, n, &back) == US_WIRE_OK);
		CHECK(back.sport == t.sport && back.dport == t.dport);
		CHECK(back.seq == t.seq && back.ack == t.ack && back.flags == t.flags);
		CHECK(back.window == t.window && back.urgent == t.urgent);
	}
}

static void fuzz_ipv4_inner(const uint8_t *buf, size_t len);

static void fuzz_icmp4(const uint8_t *buf, size_t len)
{
	struct us_icmp4_hdr m;
	if (check_rc(us_icmp4_parse(buf, len, &m)) != US_WIRE_OK)
		return;
	check_inside(buf, len, m.payload, m.payload_len);
	touch(m.payload, m.payload_len);
	/* An error quotes the datagram it is about (RFC 792). */
	if (us_icmp4_is_error(m.type))
		fuzz_ipv4_inner(m.payload, m.payload_len);
}

static void fuzz_ipv4_inner(const uint8_t *buf, size_t len)
{
	struct us_ipv4_hdr q;
	if (check_rc(us_ipv4_parse_quoted(buf, len, &q)) != US_WIRE_OK)
		return;
	check_inside(buf, len, q.payload, q.payload_len);
	/* The transport header is cut short too: only its ports matter. */
	if (q.proto == US_IPPROTO_UDP)
		fuzz_udp(q.payload, q.payload_len, 0);
	else if (q.proto == US_IPPROTO_TCP)
		fuzz_tcp(q.payload, q.payload_len, 0);
}

static void check_ipv4_round_trip(const struct us_ipv4_hdr *h)
{
	uint8_t out[US_IPV4_MAX_HDR_LEN];
	struct us_ipv4_hdr copy = *h;
	size_t n = us_ipv4_emit(&copy, out, sizeof out);
	CHECK(n == h->hdr_len);
	/* Emit writes only the header: give the parser room for the payload. */
	uint8_t *full = malloc(n + h->payload_len);
	CHECK(full != NULL);
	memcpy(full, out, n);
	memset(full + n, 0, h->payload_len);
	struct us_ipv4_hdr back;
	CHECK(us_ipv4_parse(full, n + h->payload_len, &back) == US_WIRE_OK);
	CHECK(back.hdr_len == h->hdr_len && back.total_len == h->total_len);
	CHECK(back.tos == h->tos && back.id == h->id && back.df == h->df && back.mf == h->mf);
	CHECK(back.frag_offset == h->frag_offset && back.ttl == h->ttl && back.proto == h->proto);
	CHECK(back.src == h->src && back.dst == h->dst && back.options_len == h->options_len);
	CHECK(back.options_len == 0 || memcmp(back.options, h->options, h->options_len) == 0);
	free(full);
}

/* buf is the private copy: checksums may be rewritten in it. */
static void fuzz_ipv4(uint8_t *buf, size_t len)
{
	/* Fix the header checksum when the header lies in the buffer. */
	if (len >= US_IPV4_HDR_LEN) {
		size_t hl = (size_t)(buf[0] & 0x0f) * 4;
		if (hl >= US_IPV4_HDR_LEN && hl <= len)
			us_csum_fill(buf, hl, 10, 0);
	}
	struct us_ipv4_hdr h;
	if (check_rc(us_ipv4_parse(buf, len, &h)) != US_WIRE_OK)
		return;
	CHECK(h.hdr_len >= US_IPV4_HDR_LEN && h.hdr_len <= US_IPV4_MAX_HDR_LEN);
	CHECK(h.total_len == h.hdr_len + h.payload_len && h.total_len <= len);
	CHECK(h.frag_offset % 8 == 0);
	check_inside(buf, len, h.payload, h.payload_len);
	if (h.options_len)
		check_inside(buf, len, h.options, h.options_len);
	check_ipv4_round_trip(&h);

	(void)us_ipv4_is_martian_src(h.src);
	(void)us_ipv4_is_limited_broadcast(h.dst);

	/* Only a first fragment starts with the upper-layer header. */
	if (h.frag_offset != 0)
		return;
	uint8_t *p = buf + h.hdr_len;
	size_t n = h.payload_len;
	uint32_t pseudo = us_csum_pseudo4(h.src, h.dst, h.proto, (uint32_t)n);
	switch (h.proto) {
	case US_IPPROTO_ICMP:
		if (n >= 4)
			us_csum_fill(p, n, 2, 0);
		fuzz_icmp4(p, n);
		break;
	case US_IPPROTO_UDP:
		if (n >= US_UDP_HDR_LEN)
			pseudo = us_csum_pseudo4(h.src, h.dst, h.proto, us_get_be16(p + 4));
		fix_udp_csum(p, n, pseudo);
		fuzz_udp(p, n, pseudo);
		break;
	case US_IPPROTO_TCP:
		us_tcp_csum_fill(p, n, pseudo);
		fuzz_tcp(p, n, pseudo);
		break;
	default:
		break;
	}
}

static void fuzz_ipv6_walk(const struct us_ipv6_hdr *h, struct us_ipv6_ext *x, int *rc)
{
	*rc = check_rc(us_ipv6_walk(h, x));
	if (*rc != US_WIRE_OK) {
		CHECK(x->nh_offset <= US_IPV6_HDR_LEN + (size_t)h->payload_len);
		return;
	}
	CHECK(x->ext_count <= US_IPV6_MAX_EXT);
	if (x->opt_action != US_IPV6_OPT_SKIP) {
		CHECK(x->opt_pointer >= US_IPV6_HDR_LEN + 2);
		CHECK(x->opt_pointer < US_IPV6_HDR_LEN + (size_t)h->payload_len);
		return;
	}
	CHECK(x->upper_offset <= h->payload_len);
	CHECK(x->upper_len <= h->payload_len - x->upper_offset);
	CHECK(x->nh_offset < US_IPV6_HDR_LEN + x->upper_offset || x->nh_offset == 6);
	touch(h->payload + x->upper_offset, x->upper_len);
	if (x->has_frag)
		CHECK(x->frag_hdr_offset + US_IPV6_FRAG_HDR_LEN <=
		      US_IPV6_HDR_LEN + (size_t)h->payload_len);
	if (x->has_routing)
		CHECK(x->routing_offset + 8 <= US_IPV6_HDR_LEN + (size_t)h->payload_len);
}

static void fuzz_ipv6_inner(const uint8_t *buf, size_t len)
{
	struct us_ipv6_hdr q;
	struct us_ipv6_ext x;
	int rc;
	if (check_rc(us_ipv6_parse_quoted(buf, len, &q)) != US_WIRE_OK)
		return;
	check_inside(buf, len, q.payload, q.payload_len);
	fuzz_ipv6_walk(&q, &x, &rc);
	if (rc != US_WIRE_OK || x.opt_action != US_IPV6_OPT_SKIP)
		return;
	const uint8_t *p = q.payload + x.upper_offset;
	if (x.upper_proto == US_IPPROTO_UDP)
		fuzz_udp(p, x.upper_len, 0);
	else if (x.upper_proto == US_IPPROTO_TCP)
		fuzz_tcp(p, x.upper_len, 0);
}

static void fuzz_icmp6(uint8_t *buf, size_t len, uint32_t pseudo)
{
	if (len >= 4)
		us_icmp6_csum_fill(buf, len, pseudo);
	struct us_icmp6_hdr m;
	if (check_rc(us_icmp6_parse(buf, len, pseudo, &m)) != US_WIRE_OK)
		return;
	check_inside(buf, len, m.payload, m.payload_len);
	touch(m.payload, m.payload_len);
	if (us_icmp6_is_error(m.type))
		fuzz_ipv6_inner(m.payload, m.payload_len);
	else if (m.type >= US_ICMP6_ND_RS && m.type <= US_ICMP6_ND_REDIRECT)
		fuzz_ndp(buf, len);
}

static void fuzz_ipv6(uint8_t *buf, size_t len)
{
	struct us_ipv6_hdr h;
	if (check_rc(us_ipv6_parse(buf, len, &h)) != US_WIRE_OK)
		return;
	CHECK(h.payload == buf + US_IPV6_HDR_LEN);
	CHECK(h.payload_len >= 1 && h.payload_len <= len - US_IPV6_HDR_LEN);
	CHECK(h.flow_label <= US_IPV6_FLOW_LABEL_MAX);

	uint8_t out[US_IPV6_HDR_LEN];
	CHECK(us_ipv6_emit(&h, out, sizeof out) == US_IPV6_HDR_LEN);
	CHECK(memcmp(out, buf, US_IPV6_HDR_LEN) == 0);

	(void)us_ip6_is_link_local(&h.src);
	(void)us_ip6_is_unspecified(&h.src);
	(void)us_ip6_is_loopback(&h.dst);

	struct us_ipv6_ext x;
	int rc;
	fuzz_ipv6_walk(&h, &x, &rc);
	if (rc != US_WIRE_OK || x.opt_action != US_IPV6_OPT_SKIP)
		return;
	uint8_t *p = buf + US_IPV6_HDR_LEN + x.upper_offset;
	size_t n = x.upper_len;
	uint32_t pseudo = us_csum_pseudo6(&h.src, &h.dst, x.upper_proto, (uint32_t)n);
	switch (x.upper_proto) {
	case US_IPPROTO_ICMPV6:
		fuzz_icmp6(p, n, pseudo);
		break;
	case US_IPPROTO_UDP:
		if (n >= US_UDP_HDR_LEN)
			pseudo = us_csum_pseudo6(&h.src, &h.dst, x.upper_proto, us_get_be16(p + 4));
		fix_udp_csum(p, n, pseudo);
		fuzz_udp(p, n, pseudo);
		break;
	case US_IPPROTO_TCP:
		us_tcp_csum_fill(p, n, pseudo);
		fuzz_tcp(p, n, pseudo);
		break;
	case US_IPPROTO_FRAGMENT: {
		struct us_ipv6_frag f;
		CHECK(x.has_frag && (x.frag.offset != 0 || x.frag.more));
		CHECK(us_ipv6_frag_parse(buf + x.frag_hdr_offset, US_IPV6_FRAG_HDR_LEN, &f) ==
		      US_WIRE_OK);
		CHECK(f.offset == x.frag.offset && f.more == x.frag.more && f.id == x.frag.id);
		CHECK(buf[x.frag_nh_offset] == US_IPPROTO_FRAGMENT);
		break;
	}
	default:
		break;
	}
}

static void fuzz_frame(uint8_t *buf, size_t len)
{
	struct us_eth_hdr e;
	if (check_rc(us_eth_parse(buf, len, &e)) != US_WIRE_OK)
		return;
	CHECK(e.hdr_len == (e.has_vlan ? US_ETH_VLAN_HDR_LEN : US_ETH_HDR_LEN));
	CHECK(e.payload == buf + e.hdr_len && e.payload_len == len - e.hdr_len);
	CHECK(e.ethertype >= US_ETHERTYPE_MIN);
	uint8_t out[US_ETH_VLAN_HDR_LEN];
	CHECK(us_eth_emit(&e, out, sizeof out) == e.hdr_len);
	CHECK(memcmp(out, buf, e.hdr_len) == 0);
	(void)us_eth_is_broadcast(e.dst);
	(void)us_eth_is_multicast(e.dst);

	uint8_t *p = buf + e.hdr_len;
	switch (e.ethertype) {
	case US_ETHERTYPE_ARP:
		fuzz_arp(p, e.payload_len);
		break;
	case US_ETHERTYPE_IPV4:
		fuzz_ipv4(p, e.payload_len);
		break;
	case US_ETHERTYPE_IPV6:
		fuzz_ipv6(p, e.payload_len);
		break;
	default:
		break;
	}
}

/* ---- Every parser on the raw bytes --------------------------------------- */

static void fuzz_direct(const uint8_t *data, size_t size)
{
	struct us_eth_hdr e;
	struct us_arp_pkt a;
	struct us_ipv4_hdr h4;
	struct us_ipv6_hdr h6;
	struct us_ipv6_ext x;
	struct us_ipv6_frag f;
	struct us_icmp4_hdr i4;
	struct us_icmp6_hdr i6;
	struct us_udp_hdr u;
	struct us_tcp_hdr t;
	int rc;

	if (check_rc(us_eth_parse(data, size, &e)) == US_WIRE_OK)
		check_inside(data, size, e.payload, e.payload_len);
	check_rc(us_arp_parse(data, size, &a));
	if (check_rc(us_ipv4_parse(data, size, &h4)) == US_WIRE_OK)
		check_inside(data, size, h4.payload, h4.payload_len);
	if (check_rc(us_ipv4_parse_quoted(data, size, &h4)) == US_WIRE_OK)
		check_inside(data, size, h4.payload, h4.payload_len);
	if (check_rc(us_ipv6_parse(data, size, &h6)) == US_WIRE_OK)
		fuzz_ipv6_walk(&h6, &x, &rc);
	if (check_rc(us_ipv6_parse_quoted(data, size, &h6)) == US_WIRE_OK)
		fuzz_ipv6_walk(&h6, &x, &rc);
	check_rc(us_ipv6_frag_parse(data, size, &f));

	/* The walker alone: the first byte names the first header. */
	if (size >= 1) {
		struct us_ipv6_hdr w;
		memset(&w, 0, sizeof w);
		w.next_header = data[0];
		w.payload = data + 1;
		w.payload_len = (uint16_t)(size - 1 < UINT16_MAX ? size - 1 : UINT16_MAX);
		if (size >= 17)
			memcpy(w.dst.b, data + 1, 16);
		fuzz_ipv6_walk(&w, &x, &rc);
	}

	if (check_rc(us_icmp4_parse(data, size, &i4)) == US_WIRE_OK)
		check_inside(data, size, i4.payload, i4.payload_len);
	if (check_rc(us_icmp6_parse(data, size, 0, &i6)) == US_WIRE_OK)
		check_inside(data, size, i6.payload, i6.payload_len);
	fuzz_ndp(data, size);
	fuzz_ndp_options(data, size);
	if (check_rc(us_udp_parse(data, size, &u)) == US_WIRE_OK)
		(void)us_udp_csum_ok(data, u.length, 0);
	if (check_rc(us_tcp_parse(data, size, &t)) == US_WIRE_OK)
		(void)us_tcp_csum_ok(data, size, 0);
	(void)us_csum_ok(data, size, 0);
}

/* ---- Text ---------------------------------------------------------------- */

static void fuzz_text(const uint8_t *data, size_t size)
{
	char s[128];
	size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
	memcpy(s, data, n);
	s[n] = '\0';

	uint32_t v4;
	if (us_ipv4_parse_text(s, &v4) == 0) {
		/* The strict form is the canonical one: it formats back as is. */
		char buf[US_IPV4_TEXT_MAX];
		CHECK(us_ipv4_format(v4, buf) == strlen(s));
		CHECK(strcmp(buf, s) == 0);
	} else {
		CHECK(us_ipv4_parse_text(s, &v4) == US_WIRE_BAD_FIELD);
	}

	struct us_ip6 a, back;
	if (us_ip6_parse_text(s, &a) == 0) {
		char buf[US_IP6_TEXT_MAX], again[US_IP6_TEXT_MAX];
		size_t len = us_ip6_format(&a, buf);
		CHECK(len == strlen(buf) && len >= 2 && len <= 39);
		CHECK(us_ip6_parse_text(buf, &back) == 0);
		CHECK(memcmp(a.b, back.b, 16) == 0);
		us_ip6_format(&back, again);
		CHECK(strcmp(buf, again) == 0);

		struct us_ip6 sn;
		uint8_t mac[US_ETH_ALEN];
		us_ip6_solicited_node(&a, &sn);
		CHECK(us_ip6_is_multicast(&sn));
		us_eth_mcast_from_ip6(&sn, mac);
		CHECK(us_eth_is_multicast(mac));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		return -1; /* keep it out of the corpus */

	fuzz_direct(data, size);

	/* A private copy of exactly size bytes (so ASan still sees its end),
	 * whose checksums fuzz_frame() may rewrite. */
	uint8_t *copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	if (size)
		memcpy(copy, data, size);
	fuzz_frame(copy, size);
	free(copy);

	fuzz_text(data, size);
	return 0;
}

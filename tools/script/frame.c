/* SPDX-License-Identifier: MIT */
/*
 * tools/script/frame.c - frames decoded and printed for people: the
 * tcpdump-like lines of a trace, and TCP segments as script lines.
 *
 * Decoding goes through the core's wire parsers (Ethernet, ARP, IPv4 with
 * its header checksum, IPv6) and reads the TCP header's fixed fields with
 * the bytes.h accessors, so that a segment with odd options still prints.
 * The TCP checksum is verified (RFC 9293 §3.1 pseudo-header) and a bad one
 * is shown as tcpdump shows it.
 *
 * Read first: script.h (struct us_script_frame), then tcpdump(8) "TCP".
 */
#include "script.h"

#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A string being built in a caller's buffer; it never overflows. */
struct sbuf {
	char *p;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct sbuf *b, const char *fmt, ...)
{
	if (b->len + 1 >= b->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
	if (b->len >= b->cap)
		b->len = b->cap - 1;
}

static void decode_tcp(struct us_script_frame *fr, const uint8_t *seg, size_t len, uint32_t pseudo)
{
	if (len < US_TCP_HDR_LEN) {
		fr->kind = US_SFRAME_OTHER;
		return;
	}
	fr->kind = US_SFRAME_TCP;
	fr->sport = us_get_be16(seg);
	fr->dport = us_get_be16(seg + 2);
	fr->seq = us_get_be32(seg + 4);
	fr->ack = us_get_be32(seg + 8);
	size_t hl = (size_t)(seg[12] >> 4) * 4;
	fr->flags = seg[13];
	fr->win = us_get_be16(seg + 14);
	if (hl < US_TCP_HDR_LEN || hl > len)
		hl = US_TCP_HDR_LEN;
	fr->opts = seg + US_TCP_HDR_LEN;
	fr->opts_len = hl - US_TCP_HDR_LEN;
	fr->payload = seg + hl;
	fr->payload_len = len - hl;
	fr->csum_ok = us_tcp_csum_ok(seg, len, pseudo);
}

int us_script_decode(const uint8_t *f, size_t len, struct us_script_frame *fr)
{
	memset(fr, 0, sizeof *fr);
	struct us_eth_hdr eth;
	if (us_eth_parse(f, len, &eth) != US_WIRE_OK)
		return -1;
	if (eth.ethertype == US_ETHERTYPE_ARP) {
		struct us_arp_pkt a;
		if (us_arp_parse(eth.payload, eth.payload_len, &a) != US_WIRE_OK)
			return 0;
		fr->kind = US_SFRAME_ARP;
		fr->arp_op = a.op;
		fr->arp_spa = a.spa;
		fr->arp_tpa = a.tpa;
		memcpy(fr->arp_sha, a.sha, US_ETH_ALEN);
		return 0;
	}
	if (eth.ethertype == US_ETHERTYPE_IPV4) {
		struct us_ipv4_hdr ip;
		fr->family = 4;
		if (us_ipv4_parse(eth.payload, eth.payload_len, &ip) != US_WIRE_OK) {
			fr->ip_bad = true;
			return 0;
		}
		fr->src4 = ip.src;
		fr->dst4 = ip.dst;
		fr->proto = ip.proto;
		fr->tos = ip.tos;
		fr->l4 = ip.payload;
		fr->l4_len = ip.payload_len;
		if (ip.mf || ip.frag_offset)
			return 0;
		if (ip.proto == US_IPPROTO_TCP)
			decode_tcp(fr, ip.payload, ip.payload_len,
				   us_csum_pseudo4(ip.src, ip.dst, US_IPPROTO_TCP, (uint32_t)ip.payload_len));
		else if (ip.proto == US_IPPROTO_ICMP && ip.payload_len >= 2) {
			fr->kind = US_SFRAME_ICMP4;
			fr->icmp_type = ip.payload[0];
			fr->icmp_code = ip.payload[1];
		} else if (ip.proto == US_IPPROTO_UDP && ip.payload_len >= 8) {
			fr->kind = US_SFRAME_UDP;
			fr->sport = us_get_be16(ip.payload);
			fr->dport = us_get_be16(ip.payload + 2);
		}
		return 0;
	}
	if (eth.ethertype == US_ETHERTYPE_IPV6) {
		struct us_ipv6_hdr ip;
		struct us_ipv6_ext ext;
		fr->family = 6;
		if (us_ipv6_parse(eth.payload, eth.payload_len, &ip) != US_WIRE_OK ||
		    us_ipv6_walk(&ip, &ext) != US_WIRE_OK) {
			fr->ip_bad = true;
			return 0;
		}
		fr->src6 = ip.src;
		fr->dst6 = ip.dst;
		fr->proto = ext.upper_proto;
		fr->tos = ip.traffic_class;
		const uint8_t *l4 = ip.payload + ext.upper_offset;
		fr->l4 = l4;
		fr->l4_len = ext.upper_len;
		if (ext.upper_proto == US_IPPROTO_TCP)
			decode_tcp(fr, l4, ext.upper_len,
				   us_csum_pseudo6(&ip.src, &ip.dst, US_IPPROTO_TCP, (uint32_t)ext.upper_len));
		else if (ext.upper_proto == US_IPPROTO_ICMPV6 && ext.upper_len >= 2) {
			fr->kind = US_SFRAME_ICMP6;
			fr->icmp_type = l4[0];
			fr->icmp_code = l4[1];
		} else if (ext.upper_proto == US_IPPROTO_UDP && ext.upper_len >= 8) {
			fr->kind = US_SFRAME_UDP;
			fr->sport = us_get_be16(l4);
			fr->dport = us_get_be16(l4 + 2);
		}
		return 0;
	}
	return 0;
}

void us_script_format_opts(const uint8_t *o, size_t len, uint32_t sack_base, bool script_style,
			   char *buf, size_t cap)
{
	struct sbuf b = { buf, cap, 0 };
	buf[0] = '\0';
	for (size_t i = 0; i < len;) {
		const char *sep = b.len ? "," : "";
		uint8_t kind = o[i];
		if (kind == US_TCP_OPT_EOL) {
			/* Padding to the header's end: tcpdump says "eol" once. */
			put(&b, "%seol", sep);
			break;
		}
		if (kind == US_TCP_OPT_NOP) {
			put(&b, "%snop", sep);
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len) {
			put(&b, "%sbad opt", sep);
			break;
		}
		uint8_t ol = o[i + 1];
		const uint8_t *d = o + i + 2;
		if (kind == US_TCP_OPT_MSS && ol == 4)
			put(&b, "%smss %u", sep, us_get_be16(d));
		else if (kind == US_TCP_OPT_WSCALE && ol == 3)
			put(&b, "%swscale %u", sep, d[0]);
		else if (kind == US_TCP_OPT_SACK_PERM && ol == 2)
			put(&b, "%ssackOK", sep);
		else if (kind == US_TCP_OPT_TS && ol == 10)
			put(&b, "%sTS val %" PRIu32 " ecr %" PRIu32, sep, us_get_be32(d),
			    us_get_be32(d + 4));
		else if (kind == US_TCP_OPT_SACK && ol >= 10 && (ol - 2) % 8 == 0) {
			int n = (ol - 2) / 8;
			if (script_style)
				put(&b, "%ssack", sep);
			else
				put(&b, "%ssack %d", sep, n);
			for (int k = 0; k < n; k++) {
				uint32_t l = us_get_be32(d + 8 * k) - sack_base;
				uint32_t r = us_get_be32(d + 8 * k + 4) - sack_base;
				if (script_style)
					put(&b, " %" PRIu32 ":%" PRIu32, l, r);
				else
					put(&b, " {%" PRIu32 ":%" PRIu32 "}", l, r);
			}
		} else {
			put(&b, "%sopt-%u:%u", sep, kind, ol);
		}
		i += ol;
	}
}

static const char *const ecn_names[4] = { "noecn", "ect1", "ect0", "ce" };

const char *us_script_ecn_name(uint8_t ecn)
{
	return ecn_names[ecn & US_IP_ECN_MASK];
}

int us_script_ecn_value(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, ecn_names[i]) == 0)
			return i;
	return -1;
}

/* tcpdump -v's "(tos 0x2,ECT(0))" (IPv6: "class"), only when the byte is
 * not zero, so that traces of plain traffic read as before. */
static void put_tos(struct sbuf *b, const struct us_script_frame *fr)
{
	static const char *const names[4] = { "", ",ECT(1)", ",ECT(0)", ",CE" };
	if (fr->tos)
		put(b, " (%s 0x%x%s)", fr->family == 4 ? "tos" : "class", fr->tos,
		    names[fr->tos & US_IP_ECN_MASK]);
}

static void format_ip(const struct us_script_frame *fr, bool src, char *out, size_t cap)
{
	if (fr->family == 4) {
		char t[US_IPV4_TEXT_MAX];
		us_ipv4_format(src ? fr->src4 : fr->dst4, t);
		snprintf(out, cap, "%s", t);
	} else {
		char t[US_IP6_TEXT_MAX];
		us_ip6_format(src ? &fr->src6 : &fr->dst6, t);
		snprintf(out, cap, "%s", t);
	}
}

static const char *icmp6_name(uint8_t type)
{
	switch (type) {
	case US_ICMP6_DEST_UNREACH: return "destination unreachable";
	case US_ICMP6_PACKET_TOO_BIG: return "packet too big";
	case US_ICMP6_TIME_EXCEEDED: return "time exceeded";
	case US_ICMP6_PARAM_PROBLEM: return "parameter problem";
	case US_ICMP6_ECHO_REQUEST: return "echo request";
	case US_ICMP6_ECHO_REPLY: return "echo reply";
	case US_ICMP6_ND_RS: return "router solicitation";
	case US_ICMP6_ND_RA: return "router advertisement";
	case US_ICMP6_ND_NS: return "neighbor solicitation";
	case US_ICMP6_ND_NA: return "neighbor advertisement";
	case US_ICMP6_MLD2_REPORT: return "multicast listener report v2";
	default: return NULL;
	}
}

void us_script_format_frame(const struct us_script_frame *fr, const struct us_script_rel *rel,
			    char *buf, size_t cap)
{
	struct sbuf b = { buf, cap, 0 };
	char s[US_IP6_TEXT_MAX], d[US_IP6_TEXT_MAX];
	buf[0] = '\0';
	if (fr->kind == US_SFRAME_ARP) {
		char sp[US_IPV4_TEXT_MAX], tp[US_IPV4_TEXT_MAX];
		us_ipv4_format(fr->arp_spa, sp);
		us_ipv4_format(fr->arp_tpa, tp);
		if (fr->arp_op == US_ARP_REQUEST)
			put(&b, "ARP, Request who-has %s tell %s, length 28", tp, sp);
		else
			put(&b, "ARP, Reply %s is-at %02x:%02x:%02x:%02x:%02x:%02x, length 28", sp,
			    fr->arp_sha[0], fr->arp_sha[1], fr->arp_sha[2], fr->arp_sha[3],
			    fr->arp_sha[4], fr->arp_sha[5]);
		return;
	}
	if (fr->family == 0) {
		put(&b, "(not IP)");
		return;
	}
	const char *ipname = fr->family == 4 ? "IP" : "IP6";
	if (fr->ip_bad) {
		put(&b, "%s (bad header)", ipname);
		return;
	}
	format_ip(fr, true, s, sizeof s);
	format_ip(fr, false, d, sizeof d);
	switch (fr->kind) {
	case US_SFRAME_TCP: {
		uint32_t sb = rel ? rel->seq_base : 0, ab = rel ? rel->ack_base : 0;
		char fl[9];
		put(&b, "%s", ipname);
		put_tos(&b, fr);
		put(&b, " %s.%u > %s.%u: Flags [%s], seq %" PRIu32, s, fr->sport, d, fr->dport,
		    us_tcp_flags_str(fr->flags, fl), fr->seq - sb);
		if (fr->payload_len)
			put(&b, ":%" PRIu32, (uint32_t)(fr->seq - sb + fr->payload_len));
		if (fr->flags & US_TCP_ACK)
			put(&b, ", ack %" PRIu32, fr->ack - ab);
		put(&b, ", win %u", fr->win);
		if (fr->opts_len) {
			char o[256];
			us_script_format_opts(fr->opts, fr->opts_len, ab, false, o, sizeof o);
			put(&b, ", options [%s]", o);
		}
		put(&b, ", length %zu", fr->payload_len);
		if (!fr->csum_ok)
			put(&b, " [bad tcp cksum]");
		return;
	}
	case US_SFRAME_UDP:
		put(&b, "%s %s.%u > %s.%u: UDP, length %zu", ipname, s, fr->sport, d, fr->dport,
		    fr->l4_len >= 8 ? fr->l4_len - 8 : 0);
		return;
	case US_SFRAME_ICMP4:
		put(&b, "IP %s > %s: ICMP type %u code %u, length %zu", s, d, fr->icmp_type,
		    fr->icmp_code, fr->l4_len);
		return;
	case US_SFRAME_ICMP6: {
		const char *name = icmp6_name(fr->icmp_type);
		if ((fr->icmp_type == US_ICMP6_ND_NS || fr->icmp_type == US_ICMP6_ND_NA) &&
		    fr->l4_len >= 24) {
			struct us_ip6 tgt;
			char t[US_IP6_TEXT_MAX];
			memcpy(tgt.b, fr->l4 + 8, 16);
			us_ip6_format(&tgt, t);
			put(&b, "IP6 %s > %s: ICMP6, %s, %s %s, length %zu", s, d, name,
			    fr->icmp_type == US_ICMP6_ND_NS ? "who has" : "tgt is", t, fr->l4_len);
		} else if (name) {
			put(&b, "IP6 %s > %s: ICMP6, %s, length %zu", s, d, name, fr->l4_len);
		} else {
			put(&b, "IP6 %s > %s: ICMP6, type %u code %u, length %zu", s, d, fr->icmp_type,
			    fr->icmp_code, fr->l4_len);
		}
		return;
	}
	case US_SFRAME_OTHER:
	case US_SFRAME_ARP:
		break;
	}
	put(&b, "%s %s > %s: ip-proto-%u, length %zu", ipname, s, d, fr->proto, fr->l4_len);
}

void us_script_format_seg(const struct us_script_frame *fr, const struct us_script_rel *rel,
			  char *buf, size_t cap)
{
	struct sbuf b = { buf, cap, 0 };
	uint32_t sb = rel ? rel->seq_base : 0, ab = rel ? rel->ack_base : 0;
	char fl[9];
	uint32_t seq = fr->seq - sb;
	const char *flags = us_tcp_flags_str(fr->flags, fl);
	if (fr->tos & US_IP_ECN_MASK)
		put(&b, "[%s] ", us_script_ecn_name(fr->tos));
	put(&b, "%s %" PRIu32 ":%" PRIu32 "(%zu)", strcmp(flags, "none") ? flags : "",
	    seq, (uint32_t)(seq + fr->payload_len), fr->payload_len);
	if (fr->flags & US_TCP_ACK)
		put(&b, " ack %" PRIu32, fr->ack - ab);
	put(&b, " win %u", fr->win);
	if (fr->opts_len) {
		char o[256];
		us_script_format_opts(fr->opts, fr->opts_len, ab, true, o, sizeof o);
		put(&b, " <%s>", o);
	}
}

void us_script_format_time(us_time_t t, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%" PRId64 ".%06" PRId64, t < 0 ? "-" : "", (t < 0 ? -t : t) / 1000000,
		 (t < 0 ? -t : t) % 1000000);
}

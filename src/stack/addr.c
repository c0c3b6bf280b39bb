/* SPDX-License-Identifier: MIT */
/*
 * addr.c - socket addresses as text: us_addr_parse() and us_addr_format()
 * of core.h. The address forms are the wire modules': a strict dotted quad
 * (wire/ipv4.h), RFC 4291 §2.2 text in, RFC 5952 canonical text out
 * (wire/ipv6.h); this file adds the port and the zone of RFC 4007 §11.
 *
 * Read first: us_ipv4_parse_text() and us_ip6_parse_text() in the wire
 * headers (what they refuse, and why).
 *
 * Decisions:
 * - A zone is written "%N" with N the interface index (RFC 4007 §11.2:
 *   "<address>%<zone_id>", where a numeric zone_id is "the most
 *   fundamental"); names like "%eth0" are refused, since the core knows
 *   its interfaces by index only. struct us_addr keeps it as scope_id =
 *   N + 1 (0 means none). A zone is accepted only where one means
 *   something (RFC 4007 §6): on link-local unicast addresses (fe80::/10)
 *   and on interface- and link-local multicast groups (ff01::/16,
 *   ff02::/16).
 * - Text with a port uses RFC 3986 §3.2.2's brackets for IPv6
 *   ("[2001:db8::1]:53"), as in URLs, and "a.b.c.d:53" for IPv4. Parsing
 *   takes the address alone: the port is an argument.
 */
#include <ustack/core.h>

#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

/* The interface index of a zone: 1 to 10 decimal digits, no sign, no
 * leading zero (but "0" itself), below UINT32_MAX so that index + 1 fits. */
static int parse_zone(const char *z, uint32_t *index)
{
	uint64_t v = 0;
	size_t n = 0;
	for (; z[n]; n++) {
		if (z[n] < '0' || z[n] > '9' || n >= 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(z[n] - '0');
	}
	if (n == 0 || (n > 1 && z[0] == '0') || v >= UINT32_MAX)
		return -EINVAL;
	*index = (uint32_t)v;
	return 0;
}

/* RFC 4007 §6: the addresses whose zone is one link or one interface. */
static bool needs_zone(const struct us_ip6 *a)
{
	if (us_ip6_is_link_local(a))
		return true;
	if (us_ip6_is_multicast(a)) {
		unsigned scope = a->b[1] & 0x0f;
		return scope == 1 || scope == 2;
	}
	return false;
}

int us_addr_parse(const char *text, uint16_t port, struct us_addr *out)
{
	if (!text || !out)
		return -EINVAL;
	struct us_addr a;
	memset(&a, 0, sizeof a);
	a.port = port;
	if (us_ipv4_parse_text(text, &a.ip4) == US_WIRE_OK) {
		a.family = US_AF_INET;
		*out = a;
		return 0;
	}

	size_t len = strlen(text);
	const char *pct = memchr(text, '%', len);
	size_t addr_len = pct ? (size_t)(pct - text) : len;
	char buf[US_IP6_TEXT_MAX];
	if (addr_len == 0 || addr_len >= sizeof buf)
		return -EINVAL;
	memcpy(buf, text, addr_len);
	buf[addr_len] = '\0';
	if (us_ip6_parse_text(buf, &a.ip6) != US_WIRE_OK)
		return -EINVAL;
	a.family = US_AF_INET6;
	if (pct) {
		uint32_t index;
		if (!needs_zone(&a.ip6) || parse_zone(pct + 1, &index) < 0)
			return -EINVAL;
		a.scope_id = index + 1;
	}
	*out = a;
	return 0;
}

size_t us_addr_format(const struct us_addr *a, char *buf, size_t cap)
{
	struct us_fmt f;
	char tmp[US_ADDR_TEXT_MAX];
	/* Built whole first, then cut to cap: the result is a prefix of the
	 * full text however small buf is. */
	us_fmt_init(&f, tmp, sizeof tmp);
	if (!a || (a->family != US_AF_INET && a->family != US_AF_INET6)) {
		us_fmt_str(&f, "(none)");
	} else if (a->family == US_AF_INET) {
		us_fmt_ip4(&f, a->ip4);
		if (a->port) {
			us_fmt_str(&f, ":");
			us_fmt_u64(&f, a->port);
		}
	} else {
		if (a->port)
			us_fmt_str(&f, "[");
		us_fmt_ip6(&f, &a->ip6);
		if (a->scope_id) {
			us_fmt_str(&f, "%");
			us_fmt_u64(&f, (uint64_t)a->scope_id - 1);
		}
		if (a->port) {
			us_fmt_str(&f, "]:");
			us_fmt_u64(&f, a->port);
		}
	}
	if (!buf || cap == 0)
		return 0;
	size_t n = f.len < cap - 1 ? f.len : cap - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}

/* SPDX-License-Identifier: MIT */
/*
 * fmt.c - the trace message builder (see fmt.h).
 */
#include "fmt.h"

#include "wire/ipv4.h"
#include "wire/ipv6.h"

void us_fmt_init(struct us_fmt *f, char *buf, size_t cap)
{
	f->buf = buf;
	f->cap = cap;
	f->len = 0;
	if (cap)
		buf[0] = '\0';
}

static void put(struct us_fmt *f, char c)
{
	if (f->len + 1 < f->cap) {
		f->buf[f->len++] = c;
		f->buf[f->len] = '\0';
	}
}

void us_fmt_str(struct us_fmt *f, const char *s)
{
	while (s && *s)
		put(f, *s++);
}

void us_fmt_u64(struct us_fmt *f, uint64_t v)
{
	char tmp[21];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put(f, tmp[--n]);
}

void us_fmt_i64(struct us_fmt *f, int64_t v)
{
	if (v < 0) {
		put(f, '-');
		us_fmt_u64(f, (uint64_t)0 - (uint64_t)v);
	} else {
		us_fmt_u64(f, (uint64_t)v);
	}
}

void us_fmt_hex(struct us_fmt *f, uint64_t v, int min_digits)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v && n < 16);
	while (n < min_digits && n < 16)
		tmp[n++] = '0';
	while (n)
		put(f, tmp[--n]);
}

void us_fmt_ip4(struct us_fmt *f, uint32_t addr)
{
	char buf[16];
	us_ipv4_format(addr, buf);
	us_fmt_str(f, buf);
}

void us_fmt_ip6(struct us_fmt *f, const struct us_ip6 *addr)
{
	char buf[46];
	us_ip6_format(addr, buf);
	us_fmt_str(f, buf);
}

void us_fmt_mac(struct us_fmt *f, const uint8_t mac[US_ETH_ALEN])
{
	for (int i = 0; i < US_ETH_ALEN; i++) {
		if (i)
			put(f, ':');
		us_fmt_hex(f, mac[i], 2);
	}
}

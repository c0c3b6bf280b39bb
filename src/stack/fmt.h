/* SPDX-License-Identifier: MIT */
/*
 * fmt.h - a tiny string builder for trace messages.
 *
 * The core may not call stdio (not even snprintf: see
 * tests/check-core-symbols.sh), so trace messages are put together here.
 * Output is always NUL-terminated and silently truncated at the capacity.
 */
#ifndef USTACK_FMT_H
#define USTACK_FMT_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

struct us_fmt {
	char *buf;
	size_t cap;
	size_t len;
};

void us_fmt_init(struct us_fmt *f, char *buf, size_t cap);
void us_fmt_str(struct us_fmt *f, const char *s);
void us_fmt_u64(struct us_fmt *f, uint64_t v);
void us_fmt_i64(struct us_fmt *f, int64_t v);
void us_fmt_hex(struct us_fmt *f, uint64_t v, int min_digits);
void us_fmt_ip4(struct us_fmt *f, uint32_t addr);
void us_fmt_ip6(struct us_fmt *f, const struct us_ip6 *addr);
void us_fmt_mac(struct us_fmt *f, const uint8_t mac[US_ETH_ALEN]);

#endif

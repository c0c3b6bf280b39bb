/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

#include <errno.h>
#include <unistd.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* With USTACK_FUZZ_SEED_DIR set, every literal frame a test decodes is also
 * written there: the fuzzers start from the unit tests' bytes. */
static void dump_seed(const uint8_t *p, size_t n)
{
	static unsigned seq;
	const char *dir = getenv("USTACK_FUZZ_SEED_DIR");
	if (!dir || !*dir || n == 0)
		return;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s-%u-%u.bin", dir,
		 program_invocation_short_name, (unsigned)getpid(), seq++);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(p, 1, n, f);
	fclose(f);
}

uint64_t us_test_rng_state = 1;

uint64_t us_test_rng(void)
{
	us_test_rng_state ^= us_test_rng_state << 13;
	us_test_rng_state ^= us_test_rng_state >> 7;
	us_test_rng_state ^= us_test_rng_state << 17;
	return us_test_rng_state;
}

void us_test_fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)us_test_rng();
}

uint32_t us_test_csum_ref(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t s = sum;

	for (size_t i = 0; i < len; i++)
		s += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint32_t us_test_csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

size_t us_test_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (const char *p = hex; *p; p++) {
		int c = (unsigned char)*p, v;
		if (isspace(c) || c == ':' || c == '|')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			ck_abort_msg("bad hex digit '%c' in test data", c);
		if (hi < 0) {
			hi = v;
		} else {
			ck_assert_msg(n < cap, "hex test data longer than its buffer");
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	ck_assert_msg(hi < 0, "odd number of hex digits in test data");
	dump_seed(out, n);
	return n;
}

int us_test_link_transmit(void *ctx, const struct us_frame *f)
{
	struct us_test_link *l = ctx;
	if (l->fail_with)
		return l->fail_with;
	ck_assert_msg(f->len <= US_TEST_FRAME_CAP, "frame of %zu bytes too long for the test link", f->len);
	if (l->count < US_TEST_MAX_FRAMES) {
		memcpy(l->frame[l->count], f->data, f->len);
		l->len[l->count] = f->len;
	}
	l->count++;
	return 0;
}

struct us_stack *us_test_stack(struct us_test_link *link, int with_ip4)
{
	/* IPv6 stays quiet (no DAD probes, no Router Solicitation) so that tests
	 * of other layers see only their own frames; NDP tests make their own stack. */
	struct us_stack_config cfg = { .seed = 1, .small_bufs = 64, .large_bufs = 4,
				       .no_dad = true, .no_router_solicit = true };
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)i;
	struct us_stack *s = us_stack_new(&cfg);
	ck_assert_ptr_nonnull(s);
	struct us_iface_config ic = {
		.name = "test0",
		.mac = { 0x02, 0, 0, 0, 0, 0x02 },
		.mtu = 1500,
		.transmit = us_test_link_transmit,
		.transmit_ctx = link,
	};
	ck_assert_int_eq(us_stack_add_iface(s, 0, &ic), 0);
	if (with_ip4)
		ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0xc6336402, 24), 0);
	/* Forget what coming up sent (a gratuitous ARP): tests count from here. */
	link->count = 0;
	return s;
}

void us_test_meet_ipv4(struct us_stack *s, struct us_test_link *link, us_time_t now, uint32_t ip,
		       uint8_t last)
{
	uint8_t f[60] = { 0 }; /* a minimum-size frame: the ARP packet and padding */
	struct us_eth_hdr eth = { .dst = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
				  .src = { 0x02, 0, 0, 0, 0, last },
				  .ethertype = US_ETHERTYPE_ARP };
	struct us_arp_pkt a = { .op = US_ARP_REQUEST, .spa = ip, .tpa = 0xc6336402 };
	memcpy(a.sha, eth.src, 6);
	size_t n = us_eth_emit(&eth, f, sizeof f);
	ck_assert_uint_eq(n, 14);
	ck_assert_uint_eq(us_arp_emit(&a, f + n, sizeof f - n), 28);
	ck_assert_int_eq(us_stack_input(s, now, 0, f, sizeof f), 0);
	link->count = 0;
}

size_t us_test_eth_ipv4(uint8_t *f, size_t cap, const struct us_ipv4_hdr *ip)
{
	struct us_eth_hdr eth = { .dst = { 0x02, 0, 0, 0, 0, 0x02 },
				  .src = { 0x02, 0, 0, 0, 0, 0x01 },
				  .ethertype = US_ETHERTYPE_IPV4 };
	ck_assert_uint_eq(us_eth_emit(&eth, f, cap), 14);
	ck_assert_uint_eq(us_ipv4_emit(ip, f + 14, cap - 14), 20);
	return 34;
}

void us_test_stack_free(struct us_stack *s)
{
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_stack_free(s);
}

int main(void)
{
	SRunner *sr = srunner_create(us_test_suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

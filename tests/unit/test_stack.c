/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/stack/stack.c: creation, interfaces, addresses, the
 * Ethernet input filter, counters and the trace hook.
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <ustack/core.h>

static int ok_transmit(void *ctx, const struct us_frame *f)
{
	(void)ctx;
	(void)f;
	return 0;
}

static struct us_iface_config iface_cfg(void)
{
	struct us_iface_config c = { .name = "x", .mac = { 2, 0, 0, 0, 0, 9 }, .transmit = ok_transmit };
	return c;
}

START_TEST(stack_new_without_config_fails)
{
	ck_assert_ptr_null(us_stack_new(NULL));
}
END_TEST

START_TEST(add_iface_checks_its_arguments)
{
	struct us_stack_config cfg = { .seed = 1 };
	struct us_stack *s = us_stack_new(&cfg);
	struct us_iface_config c = iface_cfg();

	c.transmit = NULL;
	ck_assert_int_eq(us_stack_add_iface(s, 0, &c), -EINVAL);
	c = iface_cfg();
	c.mac[0] = 0x01; /* multicast */
	ck_assert_int_eq(us_stack_add_iface(s, 0, &c), -EINVAL);
	c = iface_cfg();
	c.mtu = 575;
	ck_assert_int_eq(us_stack_add_iface(s, 0, &c), -EINVAL);
	c.mtu = 65536;
	ck_assert_int_eq(us_stack_add_iface(s, 0, &c), -EINVAL);
	ck_assert_int_eq(us_stack_add_iface(s, 0, NULL), -EINVAL);

	c = iface_cfg();
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(us_stack_add_iface(s, 0, &c), i);
	ck_assert_int_eq(us_stack_add_iface(s, 0, &c), -ENOSPC);
	ck_assert_int_eq(us_stack_iface_count(s), 8);

	uint8_t mac[6];
	uint32_t mtu;
	ck_assert_int_eq(us_stack_iface_info(s, 3, mac, &mtu), 0);
	ck_assert_uint_eq(mtu, 1500); /* 0 picks 1500 */
	ck_assert_mem_eq(mac, c.mac, 6);
	ck_assert_int_eq(us_stack_iface_info(s, 8, mac, &mtu), -ENODEV);
	ck_assert_int_eq(us_stack_iface_info(s, -1, mac, &mtu), -ENODEV);
	us_stack_free(s);
}
END_TEST

START_TEST(addresses_are_checked_and_unique)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 0);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 1, 0xc6336402, 24), -ENODEV);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0xc6336402, 33), -EINVAL);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0xc6336402, -1), -EINVAL);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0, 24), -EINVAL);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0xc6336402, 24), 0);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0xc6336402, 24), -EEXIST);
	for (uint32_t i = 1; i < 8; i++)
		ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0xc6336402 + i, 24), 0);
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, 0xc6336480, 24), -ENOSPC);

	struct us_ip6 a = { { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 } };
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &a, 129), -EINVAL);
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, NULL, 64), -EINVAL);
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &a, 64), 0);
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &a, 64), -EEXIST);
	struct us_ip6 unspecified = { { 0 } }, loopback = { { [15] = 1 } },
		      multicast = { { 0xff, 0x02, [15] = 1 } };
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &unspecified, 64), -EINVAL);
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &loopback, 128), -EINVAL);
	ck_assert_int_eq(us_stack_add_ipv6(s, 0, 0, &multicast, 64), -EINVAL);
	us_test_stack_free(s);
}
END_TEST

/* An ARP request from 02:00:00:00:00:01 (198.51.100.1) for 198.51.100.2. */
static size_t arp_request(uint8_t *buf, size_t cap, const char *dst_mac)
{
	char hex[256];
	strcpy(hex, dst_mac);
	strcat(hex, " 02 00 00 00 00 01 08 06"               /* src, EtherType ARP */
		    " 00 01 08 00 06 04 00 01"                /* Ethernet, IPv4, 6, 4, request */
		    " 02 00 00 00 00 01 c6 33 64 01"          /* sender */
		    " 00 00 00 00 00 00 c6 33 64 02");        /* target */
	return us_test_hex(hex, buf, cap);
}

START_TEST(frames_for_another_mac_are_dropped_and_counted)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = arp_request(f, sizeof f, "02 00 00 00 00 77");
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "eth.drop_not_for_us"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(frames_from_our_own_mac_are_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = arp_request(f, sizeof f, "ff ff ff ff ff ff");
	f[11] = 0x02; /* source 02:00:00:00:00:02 is the stack's own */
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "eth.drop_own_source"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(truncated_frames_are_dropped_at_every_length)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	arp_request(f, sizeof f, "ff ff ff ff ff ff");
	for (size_t n = 0; n < 14; n++)
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "eth.drop_malformed"), 14);
	ck_assert_int_lt(us_stack_input(s, 0, 0, NULL, 10), 0);
	ck_assert_int_lt(us_stack_input(NULL, 0, 0, f, 10), 0);
	ck_assert_int_lt(us_stack_input(s, 0, 5, f, 42), 0);
	ck_assert_uint_eq(us_stack_counter(s, "eth.drop_bad_iface"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(unknown_ethertypes_are_counted)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = arp_request(f, sizeof f, "ff ff ff ff ff ff");
	f[12] = 0x88;
	f[13] = 0xb5; /* IEEE 802 local experimental */
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "eth.drop_unknown_ethertype"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "eth.in_frames"), 1);
	us_test_stack_free(s);
}
END_TEST

struct trace_log {
	int n;
	char last[200];
	us_time_t when;
	enum us_trace_kind kind;
};

static void record_trace(void *ctx, const struct us_trace_event *ev)
{
	struct trace_log *t = ctx;
	if (ev->kind != US_TRACE_DROP)
		return; /* coming up reports its addresses too */
	t->n++;
	t->when = ev->now;
	t->kind = ev->kind;
	strncpy(t->last, ev->msg, sizeof t->last - 1);
}

START_TEST(drops_are_reported_through_the_trace_hook_with_the_time)
{
	struct trace_log t = { 0 };
	struct us_stack_config cfg = { .seed = 1, .trace = record_trace, .trace_ctx = &t };
	struct us_stack *s = us_stack_new(&cfg);
	struct us_iface_config c = iface_cfg();
	ck_assert_int_eq(us_stack_add_iface(s, 0, &c), 0);
	uint8_t f[64];
	size_t n = arp_request(f, sizeof f, "02 00 00 00 00 77");
	us_stack_input(s, US_SEC(42), 0, f, n);
	ck_assert_int_eq(t.n, 1);
	ck_assert_int_eq(t.kind, US_TRACE_DROP);
	ck_assert_int_eq(t.when, US_SEC(42));
	ck_assert_str_eq(t.last, "drop eth.drop_not_for_us: destination MAC not ours");
	us_stack_free(s);
}
END_TEST

START_TEST(counters_have_unique_names_and_start_at_zero)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 0); /* no address: no announcement counted */
	struct us_counter c[512];
	size_t n = us_stack_counters(s, c, 512);
	ck_assert_uint_gt(n, 10);
	ck_assert_uint_lt(n, 512);
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(c[i].name);
		ck_assert_uint_gt(strlen(c[i].name), 3);
		ck_assert_uint_eq(c[i].value, 0);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(c[i].name, c[j].name);
	}
	ck_assert_uint_eq(us_stack_counter(s, "no.such.counter"), 0);
	ck_assert_uint_eq(us_stack_counters(s, NULL, 0), n);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_idle_stack_has_no_deadline)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 0);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	us_stack_poll(s, US_SEC(1000));
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("stack");
	TCase *tc = tcase_create("stack");
	tcase_add_test(tc, stack_new_without_config_fails);
	tcase_add_test(tc, add_iface_checks_its_arguments);
	tcase_add_test(tc, addresses_are_checked_and_unique);
	tcase_add_test(tc, frames_for_another_mac_are_dropped_and_counted);
	tcase_add_test(tc, frames_from_our_own_mac_are_dropped);
	tcase_add_test(tc, truncated_frames_are_dropped_at_every_length);
	tcase_add_test(tc, unknown_ethertypes_are_counted);
	tcase_add_test(tc, drops_are_reported_through_the_trace_hook_with_the_time);
	tcase_add_test(tc, counters_have_unique_names_and_start_at_zero);
	tcase_add_test(tc, an_idle_stack_has_no_deadline);
	suite_add_tcase(s, tc);
	return s;
}

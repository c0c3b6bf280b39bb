/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/api/runtime.c: the stack thread driving a core over the
 * in-memory link on a virtual clock; capture; clean start and stop.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/capture.h>
#include <ustack/memlink.h>
#include <ustack/ustack.h>

static _Atomic us_time_t virtual_now;

static us_time_t virtual_clock(void *ctx)
{
	(void)ctx;
	return atomic_load(&virtual_now);
}

/* The peer's side of the link, held by the test. */
static struct us_driver peer;

static struct us_runtime *start(const char *pcap_path)
{
	struct us_driver link;
	ck_assert_int_eq(us_memlink_pair(&link, &peer, NULL), 0);
	struct us_runtime_config cfg = {
		.driver = link,
		.mac = { 0x02, 0, 0, 0, 0, 0x02 },
		.ipv4 = 0xc6336402,
		.ipv4_prefix = 24,
		.pcap_path = pcap_path,
		.clock = { .now = virtual_clock, .is_virtual = true },
		.fixed_seed = true,
	};
	atomic_store(&virtual_now, US_SEC(5));
	int err = 0;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_msg(rt != NULL, "runtime did not start: %d", err);
	return rt;
}

static const char request[] =
	"ff ff ff ff ff ff 02 00 00 00 00 01 08 06 00 01 08 00 06 04 00 01"
	" 02 00 00 00 00 01 c6 33 64 01 00 00 00 00 00 00 c6 33 64 02";

/* Waits (bounded, 5 s of real time) for the next frame on the peer side. */
static int peer_recv(uint8_t *buf, size_t cap)
{
	struct pollfd p = { .fd = peer.ops->fd(peer.ctx), .events = POLLIN };
	for (int tries = 0; tries < 50; tries++) {
		int n = peer.ops->recv(peer.ctx, buf, cap, NULL);
		if (n != 0)
			return n;
		poll(&p, 1, 100);
	}
	return 0;
}

static void exchange_arp(void)
{
	uint8_t f[64], got[2048];
	size_t n = us_test_hex(request, f, sizeof f);
	struct us_frame fr = { .data = f, .len = n };
	ck_assert_int_eq(peer.ops->transmit(peer.ctx, &fr), 0);
	int len;
	/* Skip the stack's gratuitous ARP (RFC 5227 §3: sender = target address). */
	do
		len = peer_recv(got, sizeof got);
	while (len == 60 && got[21] == 1 && memcmp(got + 28, got + 38, 4) == 0);
	ck_assert_int_eq(len, 60);
	ck_assert_uint_eq(got[21], 2); /* an ARP reply */
	ck_assert_mem_eq(got + 28, "\xc6\x33\x64\x02", 4); /* for 198.51.100.2 */
}

static void read_answered(struct us_stack *s, us_time_t now, void *arg)
{
	ck_assert_int_eq(now, US_SEC(5));
	*(uint64_t *)arg = us_stack_counter(s, "arp.requests_answered");
}

START_TEST(the_runtime_answers_arp_over_the_memory_link)
{
	struct us_runtime *rt = start(NULL);
	exchange_arp();
	uint64_t answered = 0;
	us_runtime_with_core(rt, read_answered, &answered);
	ck_assert_uint_eq(answered, 1);
	us_runtime_stop(rt);
	peer.ops->close(peer.ctx);
}
END_TEST

START_TEST(the_capture_holds_every_frame_in_and_out_at_virtual_times)
{
	char path[] = "/tmp/ustack-test-runtime-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct us_runtime *rt = start(path);
	exchange_arp();
	us_runtime_stop(rt); /* flushes and closes the capture */
	peer.ops->close(peer.ctx);

	int err = 0;
	struct us_pcap_reader *r = us_pcap_reader_open(path, &err);
	ck_assert_ptr_nonnull(r);
	us_time_t ts;
	const uint8_t *data;
	size_t len;
	/* First the stack's gratuitous ARP, sent when its address came up. */
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_int_eq(ts, US_SEC(5));
	ck_assert_uint_eq(len, 60);
	ck_assert_uint_eq(data[21], 1);
	ck_assert_mem_eq(data + 28, data + 38, 4);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_int_eq(ts, US_SEC(5));
	ck_assert_uint_eq(len, 42);
	ck_assert_uint_eq(data[21], 1); /* the request, in */
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_int_eq(ts, US_SEC(5));
	ck_assert_uint_eq(len, 60);
	ck_assert_uint_eq(data[21], 2); /* the reply, out */
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 0);
	us_pcap_reader_close(r);
	unlink(path);
}
END_TEST

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

START_TEST(start_and_stop_leave_no_descriptor_or_thread_behind)
{
	int before = count_fds();
	for (int i = 0; i < 20; i++) {
		struct us_runtime *rt = start(NULL);
		if (i % 2)
			exchange_arp();
		us_runtime_stop(rt);
		peer.ops->close(peer.ctx);
	}
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

static int bad_recv(void *ctx, uint8_t *buf, size_t cap, struct us_rx_meta *m)
{
	(void)ctx, (void)buf, (void)cap, (void)m;
	return 0;
}

START_TEST(start_rejects_bad_configurations)
{
	int err = 0;
	ck_assert_ptr_null(us_runtime_start(NULL, &err));
	ck_assert_int_eq(err, -EINVAL);
	static const struct us_driver_ops half = { .recv = bad_recv };
	struct us_runtime_config cfg = { .driver = { .ops = &half } };
	ck_assert_ptr_null(us_runtime_start(&cfg, &err));
	ck_assert_int_eq(err, -EINVAL);

	/* A bad address fails the start and releases the driver it was given. */
	int before = count_fds();
	struct us_driver link;
	ck_assert_int_eq(us_memlink_pair(&link, &peer, NULL), 0);
	struct us_runtime_config bad = { .driver = link, .ipv4 = 0xc6336402, .ipv4_prefix = 40,
					 .fixed_seed = true };
	ck_assert_ptr_null(us_runtime_start(&bad, &err));
	ck_assert_int_eq(err, -EINVAL);
	peer.ops->close(peer.ctx);
	ck_assert_int_eq(count_fds(), before);
	us_runtime_stop(NULL);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *tc = tcase_create("runtime");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, the_runtime_answers_arp_over_the_memory_link);
	tcase_add_test(tc, the_capture_holds_every_frame_in_and_out_at_virtual_times);
	tcase_add_test(tc, start_and_stop_leave_no_descriptor_or_thread_behind);
	tcase_add_test(tc, start_rejects_bad_configurations);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_memlink.c - the in-process link (src/drivers/mem/memlink.c).
 *
 * No RFC: these check the driver contract of include/ustack/driver.h as the
 * memlink keeps it: frames cross both ways in order and byte-exact, the
 * bounded queue counts what it refuses and loses nothing else, the eventfd
 * follows the queue, 64 KB super-frames fit, impairment is reproducible,
 * and two threads can share the link.
 *
 * Read include/ustack/memlink.h first.
 */
#include "harness.h"

#include <ustack/memlink.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct us_frame plain(const uint8_t *data, size_t len)
{
	return (struct us_frame){ .data = data, .len = len };
}

static int tx(struct us_driver *d, const uint8_t *data, size_t len)
{
	struct us_frame f = plain(data, len);

	return d->ops->transmit(d->ctx, &f);
}

static int rx(struct us_driver *d, uint8_t *buf, size_t cap)
{
	return d->ops->recv(d->ctx, buf, cap, NULL);
}

static bool readable(struct us_driver *d)
{
	struct pollfd p = { .fd = d->ops->fd(d->ctx), .events = POLLIN };

	ck_assert_int_ge(p.fd, 0);
	ck_assert_int_ge(poll(&p, 1, 0), 0);
	return (p.revents & POLLIN) != 0;
}

static void close_pair(struct us_driver *a, struct us_driver *b)
{
	a->ops->close(a->ctx);
	b->ops->close(b->ctx);
}

/* A 64-byte test frame carrying a 32-bit sequence number after the
 * Ethernet header, ethertype 0x88b5 (IEEE 802 local experimental). */
static size_t numbered_frame(uint8_t *buf, uint32_t seq)
{
	static const uint8_t eth[14] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, /* dst 02:00:00:00:00:0b */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, /* src 02:00:00:00:00:0a */
		0x88, 0xb5,                         /* ethertype: local experimental */
	};

	memset(buf, 0, 64);
	memcpy(buf, eth, sizeof eth);
	buf[14] = (uint8_t)(seq >> 24);
	buf[15] = (uint8_t)(seq >> 16);
	buf[16] = (uint8_t)(seq >> 8);
	buf[17] = (uint8_t)seq;
	for (int i = 18; i < 64; i++)
		buf[i] = (uint8_t)(seq + (uint32_t)i);
	return 64;
}

static uint32_t frame_seq(const uint8_t *buf)
{
	return (uint32_t)buf[14] << 24 | (uint32_t)buf[15] << 16 | (uint32_t)buf[16] << 8 | buf[17];
}

START_TEST(frames_cross_both_ways_in_order_with_exact_bytes)
{
	struct us_driver a, b;
	uint8_t f1[64], f2[64], f3[64], back[64], got[128];
	size_t n1, n2, n3, nb;
	struct us_memlink_stats st;

	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);
	/* An ARP request: who has 192.0.2.1? tell 192.0.2.2. */
	n1 = us_test_hex("ff ff ff ff ff ff  02 00 00 00 00 0a  08 06" /* eth: bcast <- a, ARP */
			 "00 01 08 00 06 04 00 01"        /* Ethernet, IPv4, 6, 4, request */
			 "02 00 00 00 00 0a  c0 00 02 02" /* sender 02:..:0a 192.0.2.2 */
			 "00 00 00 00 00 00  c0 00 02 01", /* target ? 192.0.2.1 */
			 f1, sizeof f1);
	n2 = us_test_hex("02 00 00 00 00 0b  02 00 00 00 00 0a  88 b5  01 02 03", f2, sizeof f2);
	n3 = us_test_hex("02 00 00 00 00 0b  02 00 00 00 00 0a  88 b5  ff fe fd fc fb", f3,
			 sizeof f3);
	/* An ARP reply back: 192.0.2.1 is at 02:..:0b. */
	nb = us_test_hex("02 00 00 00 00 0a  02 00 00 00 00 0b  08 06"
			 "00 01 08 00 06 04 00 02"
			 "02 00 00 00 00 0b  c0 00 02 01"
			 "02 00 00 00 00 0a  c0 00 02 02",
			 back, sizeof back);

	ck_assert_int_eq(tx(&a, f1, n1), 0);
	ck_assert_int_eq(tx(&a, f2, n2), 0);
	ck_assert_int_eq(tx(&b, back, nb), 0);
	ck_assert_int_eq(tx(&a, f3, n3), 0);

	ck_assert_int_eq(rx(&b, got, sizeof got), (int)n1);
	ck_assert_mem_eq(got, f1, n1);
	ck_assert_int_eq(rx(&b, got, sizeof got), (int)n2);
	ck_assert_mem_eq(got, f2, n2);
	ck_assert_int_eq(rx(&b, got, sizeof got), (int)n3);
	ck_assert_mem_eq(got, f3, n3);
	ck_assert_int_eq(rx(&b, got, sizeof got), 0);

	ck_assert_int_eq(rx(&a, got, sizeof got), (int)nb);
	ck_assert_mem_eq(got, back, nb);
	ck_assert_int_eq(rx(&a, got, sizeof got), 0);

	ck_assert_int_eq(us_memlink_stats(&a, &st), 0);
	ck_assert_uint_eq(st.tx, 3);
	ck_assert_uint_eq(st.rx, 1);
	ck_assert_uint_eq(st.dropped_full, 0);
	ck_assert_uint_eq(st.dropped_impaired, 0);
	ck_assert_int_eq(us_memlink_stats(&b, &st), 0);
	ck_assert_uint_eq(st.tx, 1);
	ck_assert_uint_eq(st.rx, 3);
	close_pair(&a, &b);
}
END_TEST

START_TEST(pair_fills_names_mtu_and_a_nonblocking_cloexec_eventfd)
{
	struct us_memlink_options opt = { .mtu = 9000 };
	static const uint8_t zero_mac[US_ETH_ALEN];
	struct us_driver a, b;

	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);
	ck_assert_str_eq(a.name, "mem-a");
	ck_assert_str_eq(b.name, "mem-b");
	ck_assert_uint_eq(a.mtu, 1500);
	ck_assert_uint_eq(b.mtu, 1500);
	ck_assert_mem_eq(a.peer_mac, zero_mac, US_ETH_ALEN);
	for (int i = 0; i < 2; i++) {
		struct us_driver *d = i ? &b : &a;
		int fd = d->ops->fd(d->ctx);

		ck_assert_int_ge(fd, 0);
		ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
		ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	ck_assert_int_ne(a.ops->fd(a.ctx), b.ops->fd(b.ctx));
	close_pair(&a, &b);

	ck_assert_int_eq(us_memlink_pair(&a, &b, &opt), 0);
	ck_assert_uint_eq(a.mtu, 9000);
	ck_assert_uint_eq(b.mtu, 9000);
	close_pair(&a, &b);
}
END_TEST

START_TEST(queue_overflow_is_counted_and_nothing_else_is_lost)
{
	struct us_memlink_options opt = { .queue_frames = 4 };
	struct us_driver a, b;
	struct us_memlink_stats st;
	uint8_t f[64], got[64];

	ck_assert_int_eq(us_memlink_pair(&a, &b, &opt), 0);
	for (uint32_t seq = 0; seq < 4; seq++)
		ck_assert_int_eq(tx(&a, f, numbered_frame(f, seq)), 0);
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 4)), -EAGAIN);
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 5)), -EAGAIN);
	/* The other direction has its own queue. */
	ck_assert_int_eq(tx(&b, f, numbered_frame(f, 100)), 0);

	ck_assert_int_eq(us_memlink_stats(&a, &st), 0);
	ck_assert_uint_eq(st.tx, 4);
	ck_assert_uint_eq(st.dropped_full, 2);

	for (uint32_t seq = 0; seq < 4; seq++) {
		ck_assert_int_eq(rx(&b, got, sizeof got), 64);
		ck_assert_uint_eq(frame_seq(got), seq);
		ck_assert_mem_eq(got, f, 14);
	}
	ck_assert_int_eq(rx(&b, got, sizeof got), 0);

	/* Room again: the next frame goes through, after the ring wrapped. */
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 6)), 0);
	ck_assert_int_eq(rx(&b, got, sizeof got), 64);
	ck_assert_uint_eq(frame_seq(got), 6);
	ck_assert_mem_eq(got, f, 64);

	ck_assert_int_eq(rx(&a, got, sizeof got), 64);
	ck_assert_uint_eq(frame_seq(got), 100);

	ck_assert_int_eq(us_memlink_stats(&a, &st), 0);
	ck_assert_uint_eq(st.tx, 5);
	ck_assert_uint_eq(st.dropped_full, 2);
	ck_assert_uint_eq(st.rx, 1);
	ck_assert_int_eq(us_memlink_stats(&b, &st), 0);
	ck_assert_uint_eq(st.rx, 5);
	ck_assert_uint_eq(st.dropped_full, 0);
	close_pair(&a, &b);
}
END_TEST

START_TEST(eventfd_is_readable_exactly_while_frames_wait)
{
	struct us_driver a, b;
	uint8_t f[64], got[64];

	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);
	ck_assert(!readable(&a));
	ck_assert(!readable(&b));

	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 1)), 0);
	ck_assert(readable(&b));
	ck_assert(!readable(&a));
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 2)), 0);
	ck_assert(readable(&b));

	ck_assert_int_eq(rx(&b, got, sizeof got), 64);
	ck_assert(readable(&b));
	ck_assert_int_eq(rx(&b, got, sizeof got), 64);
	ck_assert(!readable(&b));
	ck_assert_int_eq(rx(&b, got, sizeof got), 0);
	ck_assert(!readable(&b));

	/* Readable again for the next frame, and for the other endpoint. */
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 3)), 0);
	ck_assert_int_eq(tx(&b, f, numbered_frame(f, 4)), 0);
	ck_assert(readable(&b));
	ck_assert(readable(&a));
	ck_assert_int_eq(rx(&a, got, sizeof got), 64);
	ck_assert(!readable(&a));
	ck_assert(readable(&b));
	close_pair(&a, &b);
}
END_TEST

START_TEST(a_65_kb_super_frame_crosses_whole)
{
	struct us_driver a, b;
	uint8_t *big = malloc(US_MEMLINK_MAX_FRAME), *got = malloc(US_MEMLINK_MAX_FRAME);
	const size_t len = 65000; /* 65 kB; the maximum is 65536 + 256 */

	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(got);
	for (size_t i = 0; i < US_MEMLINK_MAX_FRAME; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);

	ck_assert_int_eq(tx(&a, big, len), 0);
	ck_assert_int_eq(tx(&a, big, US_MEMLINK_MAX_FRAME), 0);
	memset(got, 0, US_MEMLINK_MAX_FRAME);
	ck_assert_int_eq(rx(&b, got, US_MEMLINK_MAX_FRAME), (int)len);
	ck_assert_mem_eq(got, big, len);
	memset(got, 0, US_MEMLINK_MAX_FRAME);
	ck_assert_int_eq(rx(&b, got, US_MEMLINK_MAX_FRAME), (int)US_MEMLINK_MAX_FRAME);
	ck_assert_int_eq(memcmp(got, big, US_MEMLINK_MAX_FRAME), 0);
	close_pair(&a, &b);
	free(big);
	free(got);
}
END_TEST

START_TEST(frame_larger_than_the_maximum_is_rejected_with_emsgsize)
{
	struct us_driver a, b;
	struct us_memlink_stats st;
	uint8_t *big = calloc(1, US_MEMLINK_MAX_FRAME + 1);
	uint8_t got[64];

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);
	ck_assert_int_eq(tx(&a, big, US_MEMLINK_MAX_FRAME + 1), -EMSGSIZE);
	ck_assert(!readable(&b));
	ck_assert_int_eq(rx(&b, got, sizeof got), 0);
	ck_assert_int_eq(us_memlink_stats(&a, &st), 0);
	ck_assert_uint_eq(st.tx, 0);
	ck_assert_uint_eq(st.dropped_full, 0);
	close_pair(&a, &b);
	free(big);
}
END_TEST

START_TEST(empty_frame_is_rejected_with_einval)
{
	struct us_driver a, b;
	uint8_t f[1] = { 0 };

	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);
	ck_assert_int_eq(tx(&a, f, 0), -EINVAL);
	ck_assert_int_eq(tx(&a, NULL, 0), -EINVAL);
	ck_assert(!readable(&b));
	close_pair(&a, &b);
}
END_TEST

START_TEST(frame_longer_than_the_receive_buffer_is_dropped_with_emsgsize)
{
	struct us_driver a, b;
	struct us_memlink_stats st;
	uint8_t f[64], got[64];

	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 1)), 0);
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 2)), 0);
	ck_assert_int_eq(rx(&b, got, 63), -EMSGSIZE);
	/* The frame is gone; the next one comes whole. */
	ck_assert(readable(&b));
	ck_assert_int_eq(rx(&b, got, 64), 64);
	ck_assert_uint_eq(frame_seq(got), 2);
	ck_assert(!readable(&b));
	ck_assert_int_eq(us_memlink_stats(&b, &st), 0);
	ck_assert_uint_eq(st.rx, 1);
	ck_assert_uint_eq(st.rx_too_big, 1);
	close_pair(&a, &b);
}
END_TEST

START_TEST(offload_fields_travel_into_the_receivers_meta)
{
	struct us_driver a, b;
	uint8_t f[64], got[64];
	struct us_rx_meta meta;
	struct us_frame gso = {
		.len = 64,
		.gso_type = US_GSO_TCPV4,
		.gso_size = 1448,
		.hdr_len = 54,
		.csum_partial = true,
		.csum_start = 34,
		.csum_offset = 16,
	};

	numbered_frame(f, 9);
	gso.data = f;
	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);
	ck_assert_int_eq(a.ops->transmit(a.ctx, &gso), 0);
	ck_assert_int_eq(tx(&a, f, 64), 0);

	memset(&meta, 0xa5, sizeof meta);
	ck_assert_int_eq(b.ops->recv(b.ctx, got, sizeof got, &meta), 64);
	ck_assert(!meta.csum_valid);
	ck_assert(meta.csum_partial);
	ck_assert_uint_eq(meta.csum_start, 34);
	ck_assert_uint_eq(meta.csum_offset, 16);
	ck_assert_uint_eq(meta.gso_type, US_GSO_TCPV4);
	ck_assert_uint_eq(meta.gso_size, 1448);
	ck_assert_uint_eq(meta.hdr_len, 54);

	memset(&meta, 0xa5, sizeof meta);
	ck_assert_int_eq(b.ops->recv(b.ctx, got, sizeof got, &meta), 64);
	ck_assert(!meta.csum_valid);
	ck_assert(!meta.csum_partial);
	ck_assert_uint_eq(meta.csum_start, 0);
	ck_assert_uint_eq(meta.csum_offset, 0);
	ck_assert_uint_eq(meta.gso_type, US_GSO_NONE);
	ck_assert_uint_eq(meta.gso_size, 0);
	ck_assert_uint_eq(meta.hdr_len, 0);

	/* Nothing waiting: meta is still zeroed. */
	memset(&meta, 0xa5, sizeof meta);
	ck_assert_int_eq(b.ops->recv(b.ctx, got, sizeof got, &meta), 0);
	ck_assert_uint_eq(meta.gso_size, 0);
	close_pair(&a, &b);
}
END_TEST

START_TEST(drop_every_third_frame_loses_exactly_the_third_sixth_and_ninth)
{
	struct us_memlink_options opt = { .a_to_b = { .drop_every = 3 } };
	static const uint32_t expect[] = { 1, 2, 4, 5, 7, 8, 10 };
	struct us_driver a, b;
	struct us_memlink_stats st;
	uint8_t f[64], got[64];

	ck_assert_int_eq(us_memlink_pair(&a, &b, &opt), 0);
	for (uint32_t seq = 1; seq <= 10; seq++) {
		ck_assert_int_eq(tx(&a, f, numbered_frame(f, seq)), 0);
		ck_assert_int_eq(tx(&b, f, numbered_frame(f, seq)), 0);
	}
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		ck_assert_int_eq(rx(&b, got, sizeof got), 64);
		ck_assert_uint_eq(frame_seq(got), expect[i]);
	}
	ck_assert_int_eq(rx(&b, got, sizeof got), 0);
	/* b_to_a has no impairment: all ten arrive. */
	for (uint32_t seq = 1; seq <= 10; seq++) {
		ck_assert_int_eq(rx(&a, got, sizeof got), 64);
		ck_assert_uint_eq(frame_seq(got), seq);
	}
	ck_assert_int_eq(us_memlink_stats(&a, &st), 0);
	ck_assert_uint_eq(st.tx, 7);
	ck_assert_uint_eq(st.dropped_impaired, 3);
	ck_assert_uint_eq(st.dropped_full, 0);
	ck_assert_int_eq(us_memlink_stats(&b, &st), 0);
	ck_assert_uint_eq(st.dropped_impaired, 0);
	close_pair(&a, &b);
}
END_TEST

#define LOSS_FRAMES 1000u

/* Sends LOSS_FRAMES numbered frames a -> b and marks which arrived. */
static unsigned lossy_run(const struct us_memlink_options *opt, bool arrived[LOSS_FRAMES])
{
	struct us_driver a, b;
	uint8_t f[64], got[64];
	unsigned count = 0;
	int n;

	ck_assert_int_eq(us_memlink_pair(&a, &b, opt), 0);
	memset(arrived, 0, LOSS_FRAMES * sizeof arrived[0]);
	for (uint32_t seq = 0; seq < LOSS_FRAMES; seq++) {
		ck_assert_int_eq(tx(&a, f, numbered_frame(f, seq)), 0);
		while ((n = rx(&b, got, sizeof got)) > 0) {
			ck_assert_int_eq(n, 64);
			ck_assert_uint_lt(frame_seq(got), LOSS_FRAMES);
			arrived[frame_seq(got)] = true;
			count++;
		}
		ck_assert_int_eq(n, 0);
	}
	close_pair(&a, &b);
	return count;
}

START_TEST(random_loss_is_reproducible_from_the_seed)
{
	struct us_memlink_options opt = {
		.queue_frames = 8,
		.a_to_b = { .drop_probability = 0.3, .seed = 42 },
	};
	static bool first[LOSS_FRAMES], second[LOSS_FRAMES], other[LOSS_FRAMES];
	unsigned n1, n2, n3;

	n1 = lossy_run(&opt, first);
	n2 = lossy_run(&opt, second);
	ck_assert_uint_eq(n1, n2);
	ck_assert_mem_eq(first, second, sizeof first);
	/* About 30% lost: 700 +- 5 standard deviations (14.5) arrive. */
	ck_assert_uint_gt(n1, 627);
	ck_assert_uint_lt(n1, 773);

	opt.a_to_b.seed = 43;
	n3 = lossy_run(&opt, other);
	ck_assert_uint_gt(n3, 627);
	ck_assert_uint_lt(n3, 773);
	ck_assert_int_ne(memcmp(first, other, sizeof first), 0);
}
END_TEST

START_TEST(probability_one_loses_every_frame_and_zero_none)
{
	struct us_memlink_options opt = { .a_to_b = { .drop_probability = 1.0, .seed = 7 } };
	static bool arrived[LOSS_FRAMES];

	ck_assert_uint_eq(lossy_run(&opt, arrived), 0);
	opt.a_to_b.drop_probability = 0.0;
	ck_assert_uint_eq(lossy_run(&opt, arrived), LOSS_FRAMES);
}
END_TEST

START_TEST(invalid_options_are_rejected_with_einval)
{
	struct us_driver a, b;
	struct us_memlink_options opt = { .queue_frames = US_MEMLINK_MAX_QUEUE + 1 };

	ck_assert_int_eq(us_memlink_pair(&a, &b, &opt), -EINVAL);
	opt = (struct us_memlink_options){ .a_to_b = { .drop_probability = 1.5 } };
	ck_assert_int_eq(us_memlink_pair(&a, &b, &opt), -EINVAL);
	opt = (struct us_memlink_options){ .b_to_a = { .drop_probability = -0.1 } };
	ck_assert_int_eq(us_memlink_pair(&a, &b, &opt), -EINVAL);
	opt = (struct us_memlink_options){ .b_to_a = { .drop_probability = NAN } };
	ck_assert_int_eq(us_memlink_pair(&a, &b, &opt), -EINVAL);
	ck_assert_int_eq(us_memlink_pair(&a, &a, NULL), -EINVAL);
	ck_assert_int_eq(us_memlink_pair(NULL, &b, NULL), -EINVAL);
}
END_TEST

START_TEST(transmit_to_a_closed_peer_fails_with_enotconn)
{
	struct us_driver a, b;
	uint8_t f[64], got[64];

	ck_assert_int_eq(us_memlink_pair(&a, &b, NULL), 0);
	ck_assert_int_eq(tx(&b, f, numbered_frame(f, 5)), 0);
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 6)), 0);
	b.ops->close(b.ctx);
	ck_assert_int_eq(tx(&a, f, numbered_frame(f, 7)), -ENOTCONN);
	/* What b sent before closing still arrives. */
	ck_assert(readable(&a));
	ck_assert_int_eq(rx(&a, got, sizeof got), 64);
	ck_assert_uint_eq(frame_seq(got), 5);
	ck_assert_int_eq(rx(&a, got, sizeof got), 0);
	a.ops->close(a.ctx);
}
END_TEST

static const struct us_driver_ops not_memlink_ops;

START_TEST(stats_of_a_driver_that_is_not_a_memlink_is_einval)
{
	struct us_driver other = { .ops = &not_memlink_ops };
	struct us_memlink_stats st;

	ck_assert_int_eq(us_memlink_stats(&other, &st), -EINVAL);
	ck_assert_int_eq(us_memlink_stats(NULL, &st), -EINVAL);
}
END_TEST

#define THREAD_FRAMES 10000u
#define THREAD_DEADLINE_SEC 20

struct producer {
	struct us_driver *d;
	uint32_t retries; /* transmits refused with -EAGAIN, then repeated */
	int error;        /* the first unexpected transmit result */
};

static double seconds_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	double deadline = seconds_now() + THREAD_DEADLINE_SEC;
	uint8_t f[64];

	for (uint32_t seq = 0; seq < THREAD_FRAMES; seq++) {
		int r;

		numbered_frame(f, seq);
		while ((r = tx(p->d, f, sizeof f)) == -EAGAIN) {
			struct timespec pause = { .tv_nsec = 20000 };

			p->retries++;
			if (seconds_now() > deadline) {
				p->error = -ETIMEDOUT;
				return NULL;
			}
			nanosleep(&pause, NULL);
		}
		if (r != 0) {
			p->error = r;
			return NULL;
		}
	}
	return NULL;
}

START_TEST(two_threads_move_ten_thousand_frames_without_loss)
{
	struct us_memlink_options opt = { .queue_frames = 32 };
	struct us_driver a, b;
	struct us_memlink_stats st;
	struct producer p = { .d = &a };
	double deadline = seconds_now() + THREAD_DEADLINE_SEC;
	uint32_t next = 0;
	uint8_t f[64], got[64];
	pthread_t thread;

	ck_assert_int_eq(us_memlink_pair(&a, &b, &opt), 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, produce, &p), 0);
	while (next < THREAD_FRAMES && seconds_now() < deadline) {
		struct pollfd pfd = { .fd = b.ops->fd(b.ctx), .events = POLLIN };
		int n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while ((n = rx(&b, got, sizeof got)) > 0) {
			ck_assert_int_eq(n, 64);
			numbered_frame(f, next);
			ck_assert_mem_eq(got, f, 64);
			next++;
		}
		ck_assert_int_eq(n, 0);
	}
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_int_eq(p.error, 0);
	ck_assert_uint_eq(next, THREAD_FRAMES);
	ck_assert_int_eq(rx(&b, got, sizeof got), 0);

	ck_assert_int_eq(us_memlink_stats(&a, &st), 0);
	ck_assert_uint_eq(st.tx, THREAD_FRAMES);
	ck_assert_uint_eq(st.dropped_full, p.retries);
	ck_assert_int_eq(us_memlink_stats(&b, &st), 0);
	ck_assert_uint_eq(st.rx, THREAD_FRAMES);
	close_pair(&a, &b);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("memlink");
	TCase *tc = tcase_create("link");

	tcase_add_test(tc, frames_cross_both_ways_in_order_with_exact_bytes);
	tcase_add_test(tc, pair_fills_names_mtu_and_a_nonblocking_cloexec_eventfd);
	tcase_add_test(tc, queue_overflow_is_counted_and_nothing_else_is_lost);
	tcase_add_test(tc, eventfd_is_readable_exactly_while_frames_wait);
	tcase_add_test(tc, a_65_kb_super_frame_crosses_whole);
	tcase_add_test(tc, frame_larger_than_the_maximum_is_rejected_with_emsgsize);
	tcase_add_test(tc, empty_frame_is_rejected_with_einval);
	tcase_add_test(tc, frame_longer_than_the_receive_buffer_is_dropped_with_emsgsize);
	tcase_add_test(tc, offload_fields_travel_into_the_receivers_meta);
	tcase_add_test(tc, transmit_to_a_closed_peer_fails_with_enotconn);
	tcase_add_test(tc, stats_of_a_driver_that_is_not_a_memlink_is_einval);
	tcase_add_test(tc, invalid_options_are_rejected_with_einval);
	suite_add_tcase(s, tc);

	tc = tcase_create("impairment");
	tcase_add_test(tc, drop_every_third_frame_loses_exactly_the_third_sixth_and_ninth);
	tcase_add_test(tc, random_loss_is_reproducible_from_the_seed);
	tcase_add_test(tc, probability_one_loses_every_frame_and_zero_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, 2 * THREAD_DEADLINE_SEC + 10);
	tcase_add_test(tc, two_threads_move_ten_thousand_frames_without_loss);
	suite_add_tcase(s, tc);
	return s;
}

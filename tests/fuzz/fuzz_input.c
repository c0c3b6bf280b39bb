/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.c - libFuzzer target over the core's whole frame input path.
 *
 * Each input is a sequence of frames for one stack: [2-byte length][frame]...
 * Between frames the virtual clock moves on by a step taken from the input,
 * and us_stack_poll() fires what is due, so timers (ARP and ND retries,
 * reassembly timeouts, DAD) run against hostile state too. After the last
 * frame the clock jumps far ahead, and the stack must hold no buffer it did
 * not account for: everything it queued expires or is freed by
 * us_stack_free(), which LeakSanitizer checks.
 *
 * The stack is 02:00:00:00:00:02 with 198.51.100.2/24 and 2001:db8:1::2/64,
 * DAD and Router Solicitation on. Transmitted frames are parsed back as
 * Ethernet, so whatever the stack emits in answer must be well formed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/core.h>

#include "wire/eth.h"
#include "wire/wire.h"

static int check_transmit(void *ctx, const struct us_frame *f)
{
	(void)ctx;
	struct us_eth_hdr eth;
	if (us_eth_parse(f->data, f->len, &eth) != US_WIRE_OK)
		abort(); /* the stack sent a frame that is not even Ethernet */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct us_stack_config cfg = { .seed = 7, .small_bufs = 64, .large_bufs = 6 };
	struct us_stack *s = us_stack_new(&cfg);
	if (!s)
		return 0;
	struct us_iface_config ic = { .name = "fz0", .mac = { 2, 0, 0, 0, 0, 2 }, .mtu = 1500,
				      .transmit = check_transmit };
	us_time_t now = US_SEC(1);
	us_stack_add_iface(s, now, &ic);
	us_stack_add_ipv4(s, now, 0, 0xc6336402, 24);
	struct us_ip6 a6 = { { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 } };
	us_stack_add_ipv6(s, now, 0, &a6, 64);

	size_t off = 0;
	while (off + 3 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		uint8_t step = data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		us_stack_input(s, now, 0, data + off, len);
		off += len;
		/* 0..255 steps of 50 ms: up to 12.75 s between frames. */
		now += (us_time_t)step * US_MSEC(50);
		us_stack_poll(s, now);
	}
	/* Everything timed must end: an hour later nothing may be left queued. */
	for (int i = 0; i < 64 && us_stack_next_deadline(s) != US_TIME_NEVER; i++) {
		us_time_t t = us_stack_next_deadline(s);
		now = t > now ? t : now + 1;
		if (now > US_SEC(3600))
			break;
		us_stack_poll(s, now);
	}
	us_stack_free(s);
	return 0;
}

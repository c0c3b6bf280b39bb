/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/stack/arp.c: answering requests for our addresses
 * (RFC 826), and dropping what is malformed or not for us; the neighbour
 * cache (resolution, retries, the rate limit, the queue and its bounds in
 * bytes and in packets, a fragmented datagram waiting whole, eviction,
 * ageing, RFC 826's merge rule), announcements and conflicts (RFC 5227), and
 * broadcast and multicast next hops. All on the virtual clock.
 *
 * Read first: src/stack/arp.h (the cache states and timers).
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <ustack/core.h>

#include "arp.h"
#include "ip.h"
#include "stack.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

/* The stack: 02:00:00:00:00:02, 198.51.100.2. The peer: 02:00:00:00:00:01, 198.51.100.1. */
static const char request_for_us[] =
	"ff ff ff ff ff ff 02 00 00 00 00 01 08 06"   /* broadcast, from the peer, ARP */
	" 00 01 08 00 06 04 00 01"                    /* htype 1, ptype IPv4, hlen 6, plen 4, op request */
	" 02 00 00 00 00 01 c6 33 64 01"              /* sha, spa 198.51.100.1 */
	" 00 00 00 00 00 00 c6 33 64 02";             /* tha unknown, tpa 198.51.100.2 */

START_TEST(a_request_for_our_address_gets_a_reply)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64], want[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	ck_assert_int_eq(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 1);
	size_t wn = us_test_hex(
		"02 00 00 00 00 01 02 00 00 00 00 02 08 06"  /* to the peer, from us, ARP */
		" 00 01 08 00 06 04 00 02"                   /* op reply */
		" 02 00 00 00 00 02 c6 33 64 02"             /* sha us, spa 198.51.100.2 */
		" 02 00 00 00 00 01 c6 33 64 01"             /* tha, tpa: the asker */
		" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", /* padding to 60 bytes */
		want, sizeof want);
	ck_assert_uint_eq(wn, 60);
	ck_assert_uint_eq(link.len[0], 60);
	ck_assert_mem_eq(link.frame[0], want, 60);
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_answered"), 1);
	/* The gratuitous ARP sent when the address was added, and the reply. */
	ck_assert_uint_eq(us_stack_counter(s, "eth.out_frames"), 2);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_request_for_another_address_is_not_answered)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	f[41] = 0x09; /* tpa 198.51.100.9 */
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_not_for_us"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_stack_without_addresses_answers_nothing)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 0);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(truncated_arp_packets_are_dropped_at_every_length)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	us_test_hex(request_for_us, f, sizeof f);
	for (size_t n = 14; n < 42; n++)
		ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_malformed"), 28);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(arp_for_other_hardware_or_protocols_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	const size_t field[] = { 15, 17, 18, 19 }; /* htype, ptype, hlen, plen */
	for (size_t i = 0; i < 4; i++) {
		uint8_t g[64];
		memcpy(g, f, n);
		g[field[i]] ^= 0x40;
		ck_assert_int_lt(us_stack_input(s, 0, 0, g, n), 0);
	}
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_malformed"), 4);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_multicast_sender_hardware_address_is_refused)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	f[22] = 0x01; /* sha 01:00:00:00:00:01 */
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_bad_source"), 1);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_transmit_failure_is_counted_and_frees_the_buffer)
{
	struct us_test_link link = { .fail_with = -11 };
	struct us_stack *s = us_test_stack(&link, 1);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	ck_assert_int_lt(us_stack_input(s, 0, 0, f, n), 0);
	/* The gratuitous ARP sent when the address was added failed too. */
	ck_assert_uint_eq(us_stack_counter(s, "eth.tx_errors"), 2);
	us_test_stack_free(s); /* checks that no buffer is held */
}
END_TEST

/* ---- The neighbour cache ------------------------------------------------- */

/* The test stack's first announcement repeats at 2 s; cache tests start
 * after it, at T0, with the link's count at zero. */
#define T0 US_SEC(10)
#define PEER 0xc6336401u  /* 198.51.100.1 */
#define OURS 0xc6336402u  /* 198.51.100.2 */
#define OTHER 0xc6336409u /* 198.51.100.9, not on the link as far as we know */

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t moved_mac[6] = { 0x02, 0, 0, 0, 0, 0x11 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t no_mac[6] = { 0 };

static struct us_stack *settled_stack(struct us_test_link *link)
{
	struct us_stack *s = us_test_stack(link, 1);
	us_stack_poll(s, T0);
	ck_assert_int_eq(link->count, 1); /* the second announcement, at 2 s */
	link->count = 0;
	return s;
}

/* As settled_stack(), with room for 2 * US_ARP_QUEUE_TOTAL packets (the
 * harness's pool holds 64), for tests that fill the queues. */
static struct us_stack *roomy_stack(struct us_test_link *link)
{
	struct us_stack_config cfg = { .seed = 1, .small_bufs = 2 * US_ARP_QUEUE_TOTAL,
				       .large_bufs = 4, .no_dad = true,
				       .no_router_solicit = true };
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
	ck_assert_int_eq(us_stack_add_ipv4(s, 0, 0, OURS, 24), 0);
	us_stack_poll(s, T0);
	link->count = 0;
	return s;
}

/* Hands ARP a len-byte IPv4 packet (header and zeros) for next_hop at time
 * t, its ID tagged so the order on the wire can be checked. */
static int send_ip_len(struct us_stack *s, us_time_t t, uint32_t next_hop, uint16_t id,
		       uint32_t len)
{
	struct us_pbuf *b = us_stack_alloc(s, len);
	ck_assert_ptr_nonnull(b);
	memset(us_pbuf_data(b), 0, len);
	struct us_ipv4_hdr h = { .id = id, .ttl = 64, .proto = 17, .src = OURS, .dst = next_hop,
				 .payload_len = len - US_IPV4_HDR_LEN };
	ck_assert_uint_eq(us_ipv4_emit(&h, us_pbuf_data(b), b->len), US_IPV4_HDR_LEN);
	s->now = t;
	return us_arp_output(s, &s->iface[0], next_hop, b);
}

/* The same, 20 bytes: the header alone. */
static int send_ip(struct us_stack *s, us_time_t t, uint32_t next_hop, uint16_t id)
{
	return send_ip_len(s, t, next_hop, id, US_IPV4_HDR_LEN);
}

/* An ARP packet from sha/spa on the link, in an Ethernet frame from sha to
 * eth_dst. */
static int inject(struct us_stack *s, us_time_t t, uint16_t op, const uint8_t sha[6], uint32_t spa,
		  const uint8_t tha[6], uint32_t tpa, const uint8_t eth_dst[6])
{
	uint8_t f[60] = { 0 };
	struct us_eth_hdr eh = { .ethertype = US_ETHERTYPE_ARP };
	memcpy(eh.dst, eth_dst, 6);
	memcpy(eh.src, sha, 6);
	ck_assert_uint_eq(us_eth_emit(&eh, f, sizeof f), 14);
	struct us_arp_pkt p = { .op = op, .spa = spa, .tpa = tpa };
	memcpy(p.sha, sha, 6);
	memcpy(p.tha, tha, 6);
	ck_assert_uint_eq(us_arp_emit(&p, f + 14, sizeof f - 14), 28);
	return us_stack_input(s, t, 0, f, sizeof f);
}

static int reply_from_peer(struct us_stack *s, us_time_t t, const uint8_t mac[6])
{
	return inject(s, t, US_ARP_REPLY, mac, PEER, our_mac, OURS, our_mac);
}

static enum us_arp_nstate state_of(struct us_stack *s, uint32_t ip)
{
	struct us_arp_info info[US_ARP_CACHE_SIZE];
	size_t n = us_arp_table(s, info, US_ARP_CACHE_SIZE);
	for (size_t i = 0; i < n; i++)
		if (info[i].ip == ip)
			return info[i].state;
	ck_abort_msg("no cache entry for %08x", ip);
	return US_ARP_INCOMPLETE;
}

static uint16_t frame_ethertype(const struct us_test_link *link, int i)
{
	return us_get_be16(link->frame[i] + 12);
}

static uint16_t frame_ip_id(const struct us_test_link *link, int i)
{
	ck_assert_uint_eq(frame_ethertype(link, i), US_ETHERTYPE_IPV4);
	return us_get_be16(link->frame[i] + 14 + 4);
}

/* An ARP request frame of ours for tpa: broadcast, or unicast to a cached MAC. */
static void assert_request(const struct us_test_link *link, int i, const uint8_t eth_dst[6],
			   uint32_t spa, uint32_t tpa)
{
	ck_assert_uint_eq(link->len[i], 60);
	ck_assert_mem_eq(link->frame[i], eth_dst, 6);
	ck_assert_mem_eq(link->frame[i] + 6, our_mac, 6);
	ck_assert_uint_eq(frame_ethertype(link, i), US_ETHERTYPE_ARP);
	struct us_arp_pkt p;
	ck_assert_int_eq(us_arp_parse(link->frame[i] + 14, 46, &p), US_WIRE_OK);
	ck_assert_uint_eq(p.op, US_ARP_REQUEST);
	ck_assert_mem_eq(p.sha, our_mac, 6);
	ck_assert_uint_eq(p.spa, spa);
	ck_assert_mem_eq(p.tha, no_mac, 6);
	ck_assert_uint_eq(p.tpa, tpa);
}

START_TEST(an_unresolved_next_hop_queues_the_packet_and_broadcasts_one_request)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	ck_assert_int_eq(send_ip(s, T0, PEER, 1), 0);
	ck_assert_int_eq(link.count, 1);
	uint8_t want[64];
	size_t wn = us_test_hex(
		"ff ff ff ff ff ff 02 00 00 00 00 02 08 06"  /* broadcast, from us, ARP */
		" 00 01 08 00 06 04 00 01"                   /* Ethernet, IPv4, 6, 4, op request */
		" 02 00 00 00 00 02 c6 33 64 02"             /* sha us, spa 198.51.100.2 */
		" 00 00 00 00 00 00 c6 33 64 01"             /* tha zero, tpa 198.51.100.1 */
		" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", /* padding to 60 bytes */
		want, sizeof want);
	ck_assert_uint_eq(link.len[0], wn);
	ck_assert_mem_eq(link.frame[0], want, wn);
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_out"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.queued"), 1);

	struct us_arp_info info[2];
	ck_assert_uint_eq(us_arp_table(s, info, 2), 1);
	ck_assert_int_eq(info[0].ifindex, 0);
	ck_assert_uint_eq(info[0].ip, PEER);
	ck_assert_int_eq(info[0].state, US_ARP_INCOMPLETE);
	ck_assert_mem_eq(info[0].mac, no_mac, 6);
	ck_assert_uint_eq(info[0].queued, 1);
	ck_assert_int_eq(info[0].expires, T0 + US_SEC(1));
	ck_assert_str_eq(us_arp_state_name(info[0].state), "INCOMPLETE");
	uint8_t mac[6];
	ck_assert_int_eq(us_arp_lookup(s, 0, PEER, mac), -ENOENT);
	/* The packet is held: one buffer in use. */
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 1);

	/* A second packet joins the queue without a second request. */
	ck_assert_int_eq(send_ip(s, T0 + US_MSEC(10), PEER, 2), 0);
	ck_assert_int_eq(link.count, 1);
	us_arp_fini(s); /* releases what still waits */
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_reply_flushes_the_queue_in_order_to_the_replied_mac)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	for (uint16_t id = 1; id <= 3; id++)
		ck_assert_int_eq(send_ip(s, T0, PEER, id), 0);
	ck_assert_int_eq(link.count, 1); /* the request */
	ck_assert_int_eq(reply_from_peer(s, T0 + US_MSEC(5), peer_mac), 0);
	ck_assert_int_eq(link.count, 4);
	for (int i = 1; i <= 3; i++) {
		ck_assert_mem_eq(link.frame[i], peer_mac, 6);
		ck_assert_mem_eq(link.frame[i] + 6, our_mac, 6);
		ck_assert_uint_eq(frame_ip_id(&link, i), i);
		ck_assert_uint_eq(link.len[i], 60); /* 34 bytes padded */
	}
	ck_assert_int_eq(state_of(s, PEER), US_ARP_REACHABLE);
	uint8_t mac[6];
	ck_assert_int_eq(us_arp_lookup(s, 0, PEER, mac), 0);
	ck_assert_mem_eq(mac, peer_mac, 6);
	ck_assert_uint_eq(us_stack_counter(s, "arp.replies_in"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_updated"), 1);
	/* No reply to a reply; nothing held any more. */
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_answered"), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);

	/* Resolved: the next packet goes at once, no timer but the entry's. */
	ck_assert_int_eq(send_ip(s, T0 + US_MSEC(6), PEER, 4), 0);
	ck_assert_int_eq(link.count, 5);
	ck_assert_uint_eq(frame_ip_id(&link, 4), 4);
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_MSEC(5) + US_SEC(30));
	us_test_stack_free(s);
}
END_TEST

START_TEST(requests_repeat_every_second_and_resolution_fails_after_three)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	ck_assert_int_eq(send_ip(s, T0, PEER, 1), 0);
	ck_assert_int_eq(send_ip(s, T0 + US_MSEC(300), PEER, 2), 0);
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_SEC(1));
	us_stack_poll(s, T0 + US_SEC(1) - 1);
	ck_assert_int_eq(link.count, 1);
	us_stack_poll(s, T0 + US_SEC(1));
	ck_assert_int_eq(link.count, 2);
	assert_request(&link, 1, bcast_mac, OURS, PEER);
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_SEC(2));
	us_stack_poll(s, T0 + US_SEC(2));
	ck_assert_int_eq(link.count, 3);
	assert_request(&link, 2, bcast_mac, OURS, PEER);
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_out"), 3);

	/* Three requests unanswered: at 3 s the entry fails, its two packets
	 * are dropped and counted, and no ICMP or other frame is sent. */
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_SEC(3));
	us_stack_poll(s, T0 + US_SEC(3) - 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.resolve_failed"), 0);
	us_stack_poll(s, T0 + US_SEC(3));
	ck_assert_int_eq(link.count, 3);
	ck_assert_uint_eq(us_stack_counter(s, "arp.resolve_failed"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_resolve_failed"), 2);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);

	/* A new packet starts over at once: the last request was 1 s ago. */
	ck_assert_int_eq(send_ip(s, T0 + US_SEC(3), PEER, 3), 0);
	ck_assert_int_eq(link.count, 4);
	assert_request(&link, 3, bcast_mac, OURS, PEER);
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_rate_limited"), 0);
	us_arp_fini(s);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_evicted_and_recreated_entry_waits_for_the_rate_limit)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	/* Resolve the peer (request at T0), then push it out of the cache with
	 * 64 neighbours learned from their requests for us. */
	ck_assert_int_eq(send_ip(s, T0, PEER, 1), 0);
	ck_assert_int_eq(reply_from_peer(s, T0 + US_MSEC(100), peer_mac), 0);
	for (uint32_t i = 0; i < 64; i++) {
		uint8_t mac[6] = { 0x02, 0, 0, 0, 1, (uint8_t)i };
		ck_assert_int_eq(inject(s, T0 + US_MSEC(200), US_ARP_REQUEST, mac, 0xc6336410 + i, no_mac,
					OURS, bcast_mac),
				 0);
	}
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_evicted"), 1);
	ck_assert_int_eq(us_arp_lookup(s, 0, PEER, NULL), -ENOENT);

	/* Half a second after the first request, the peer is needed again. */
	link.count = 0;
	ck_assert_int_eq(send_ip(s, T0 + US_MSEC(500), PEER, 2), 0);
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_rate_limited"), 1);
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_SEC(1));
	us_stack_poll(s, T0 + US_SEC(1) - 1);
	ck_assert_int_eq(link.count, 0);
	us_stack_poll(s, T0 + US_SEC(1));
	ck_assert_int_eq(link.count, 1);
	assert_request(&link, 0, bcast_mac, OURS, PEER);
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_out"), 2);
	/* Then every second as usual, three requests in all. */
	ck_assert_int_eq(us_arp_next_deadline(s), T0 + US_SEC(2));
	us_arp_fini(s);
	us_test_stack_free(s);
}
END_TEST

/* Full-sized packets: the byte bound, not the count, fills a queue. */
#define BIG_PKT 1500u

START_TEST(a_full_queue_drops_its_oldest_packet_and_counts_it)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = roomy_stack(&link);
	uint32_t fit = US_ARP_QUEUE_BYTES / BIG_PKT; /* 87 */
	ck_assert_uint_lt(fit, US_ARP_QUEUE_TOTAL);
	for (uint16_t id = 1; id <= fit + 2; id++)
		ck_assert_int_eq(send_ip_len(s, T0, PEER, id, BIG_PKT), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_queue_full"), 2);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_queue_total"), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), fit);
	struct us_arp_info info[1];
	ck_assert_uint_eq(us_arp_table(s, info, 1), 1);
	ck_assert_uint_eq(info[0].queued, fit);
	ck_assert_int_eq(reply_from_peer(s, T0 + US_MSEC(1), peer_mac), 0);
	ck_assert_int_eq(link.count, 1 + (int)fit);
	/* The newest ones, 3 to fit + 2, in order (as far as the link keeps them). */
	for (int i = 1; i < US_TEST_MAX_FRAMES; i++) {
		ck_assert_uint_eq(link.len[i], 14 + BIG_PKT);
		ck_assert_uint_eq(frame_ip_id(&link, i), i + 2);
	}
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_total_queue_bound_refuses_new_packets_and_counts_them)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = roomy_stack(&link);
	/* One neighbour's queue full in bytes, a second's holding the rest of
	 * the US_ARP_QUEUE_TOTAL places in small packets. */
	uint32_t fit = US_ARP_QUEUE_BYTES / BIG_PKT;
	for (uint16_t id = 0; id < fit; id++)
		ck_assert_int_eq(send_ip_len(s, T0, 0xc6336420, id, BIG_PKT), 0);
	for (uint16_t id = 0; id < US_ARP_QUEUE_TOTAL - fit; id++)
		ck_assert_int_eq(send_ip(s, T0, 0xc6336421, id), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), US_ARP_QUEUE_TOTAL);
	ck_assert_int_eq(link.count, 2);
	/* A third gets its request out, but its packet is refused. */
	ck_assert_int_eq(send_ip(s, T0, 0xc6336430, 99), -ENOBUFS);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_queue_total"), 1);
	ck_assert_int_eq(link.count, 3);
	assert_request(&link, 2, bcast_mac, OURS, 0xc6336430);
	/* So is one more for the second, though its queue has bytes to spare. */
	ck_assert_int_eq(send_ip(s, T0, 0xc6336421, 99), -ENOBUFS);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_queue_total"), 2);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), US_ARP_QUEUE_TOTAL);
	/* A queue full in bytes still takes its newest packet in place of its
	 * oldest: the total stays at its bound. */
	ck_assert_int_eq(send_ip_len(s, T0, 0xc6336420, 999, BIG_PKT), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_queue_full"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_queue_total"), 2);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), US_ARP_QUEUE_TOTAL);
	/* Nobody answers: at 3 s every packet is gone, counted. */
	us_stack_poll(s, T0 + US_SEC(1));
	us_stack_poll(s, T0 + US_SEC(2));
	us_stack_poll(s, T0 + US_SEC(3));
	ck_assert_uint_eq(us_stack_counter(s, "arp.resolve_failed"), 3);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_resolve_failed"), US_ARP_QUEUE_TOTAL);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

/* The bug a packet count had: a datagram fragmented into more packets than
 * the count allowed lost its first fragments while the neighbour resolved. */
START_TEST(a_60000_byte_datagram_to_an_unresolved_neighbour_leaves_whole)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	const uint32_t len = 60000, frag = 1480, nfrag = (len + frag - 1) / frag; /* 41 */
	ck_assert_uint_le(nfrag * (US_IPV4_HDR_LEN + frag), US_ARP_QUEUE_BYTES);
	struct us_pbuf *b = us_stack_alloc(s, len);
	ck_assert_ptr_nonnull(b);
	for (uint32_t i = 0; i < len; i++)
		us_pbuf_data(b)[i] = (uint8_t)i;
	struct us_ip_tx tx = { .dst = PEER, .proto = 253, .ifindex = -1 };
	ck_assert_int_eq(us_ip_output(s, b, &tx), 0);
	ck_assert_int_eq(link.count, 1);
	assert_request(&link, 0, bcast_mac, OURS, PEER);
	ck_assert_uint_eq(us_stack_counter(s, "arp.queued"), nfrag);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_queue_full"), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), nfrag);

	ck_assert_int_eq(reply_from_peer(s, T0 + US_MSEC(1), peer_mac), 0);
	ck_assert_int_eq(link.count, 1 + (int)nfrag);
	uint16_t id = frame_ip_id(&link, 1);
	for (uint32_t i = 0; i < nfrag; i++) {
		const uint8_t *f = link.frame[1 + i];
		ck_assert_mem_eq(f, peer_mac, 6);
		struct us_ipv4_hdr h;
		ck_assert_int_eq(us_ipv4_parse(f + 14, link.len[1 + i] - 14, &h), US_WIRE_OK);
		ck_assert_uint_eq(h.id, id);
		ck_assert_uint_eq(h.frag_offset, frag * i);
		ck_assert(h.mf == (i < nfrag - 1));
		ck_assert_uint_eq(h.payload_len, i < nfrag - 1 ? frag : len - frag * (nfrag - 1));
		for (size_t j = 0; j < h.payload_len; j++)
			ck_assert_uint_eq(h.payload[j], (uint8_t)(h.frag_offset + j));
	}
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

static void learn(struct us_stack *s, us_time_t t, uint32_t ip, uint8_t tag)
{
	uint8_t mac[6] = { 0x02, 0, 0, 0, 2, tag };
	ck_assert_int_eq(inject(s, t, US_ARP_REQUEST, mac, ip, no_mac, OURS, bcast_mac), 0);
}

START_TEST(a_full_cache_evicts_the_least_recently_used_entry)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	for (uint32_t i = 0; i < US_ARP_CACHE_SIZE; i++)
		learn(s, T0 + (us_time_t)i, 0xc6336410 + i, (uint8_t)i);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 64);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_added"), 64);
	/* The first learned is used now: the second becomes the oldest in use. */
	ck_assert_int_eq(send_ip(s, T0 + US_MSEC(100), 0xc6336410, 1), 0);
	learn(s, T0 + US_MSEC(200), 0xc6336470, 0x70);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_evicted"), 1);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 64);
	ck_assert_int_eq(us_arp_lookup(s, 0, 0xc6336411, NULL), -ENOENT);
	ck_assert_int_eq(us_arp_lookup(s, 0, 0xc6336410, NULL), 0);
	uint8_t mac[6], want[6] = { 0x02, 0, 0, 0, 2, 0x70 };
	ck_assert_int_eq(us_arp_lookup(s, 0, 0xc6336470, mac), 0);
	ck_assert_mem_eq(mac, want, 6);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_cache_full_of_incomplete_entries_refuses_a_new_neighbour)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = roomy_stack(&link);
	for (uint32_t i = 0; i < US_ARP_CACHE_SIZE; i++)
		send_ip(s, T0, 0xc6336410 + i, (uint16_t)i);
	ck_assert_int_eq(link.count, 64);
	/* As many packets wait as the total bound allows; the rest found it. */
	uint32_t waiting = US_ARP_CACHE_SIZE < US_ARP_QUEUE_TOTAL ? US_ARP_CACHE_SIZE
								  : US_ARP_QUEUE_TOTAL;
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), waiting);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_queue_total"),
			  US_ARP_CACHE_SIZE - waiting);
	ck_assert_int_eq(send_ip(s, T0, 0xc6336480, 1), -ENOBUFS);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_cache_full"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_evicted"), 0);
	ck_assert_int_eq(link.count, 64);
	/* Unanswered, they all fail by 3 s, and the cache is empty again. */
	for (int k = 1; k <= 3; k++)
		us_stack_poll(s, T0 + US_SEC(k));
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.resolve_failed"), 64);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_unconfirmed_entry_goes_stale_after_30_s_and_is_purged_60_s_later)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	learn(s, T0, PEER, 1);
	ck_assert_int_eq(state_of(s, PEER), US_ARP_REACHABLE);
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_SEC(30));
	us_stack_poll(s, T0 + US_SEC(30) - 1);
	ck_assert_int_eq(state_of(s, PEER), US_ARP_REACHABLE);
	us_stack_poll(s, T0 + US_SEC(30));
	ck_assert_int_eq(state_of(s, PEER), US_ARP_STALE);
	/* STALE still answers lookups. */
	ck_assert_int_eq(us_arp_lookup(s, 0, PEER, NULL), 0);
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_SEC(90));
	us_stack_poll(s, T0 + US_SEC(90) - 1);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 1);
	us_stack_poll(s, T0 + US_SEC(90));
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_expired"), 1);
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	ck_assert_int_eq(link.count, 1); /* only the reply to the request */
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_late_poll_walks_an_entry_through_every_due_step)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	learn(s, T0, PEER, 1);
	us_stack_poll(s, T0 + US_SEC(500));
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_expired"), 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_stale_entry_in_use_is_polled_by_unicast_and_removed_when_silent)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	learn(s, T0, PEER, 1);
	const uint8_t mac[6] = { 0x02, 0, 0, 0, 2, 1 };
	us_stack_poll(s, T0 + US_SEC(30));
	link.count = 0;
	us_time_t t = T0 + US_SEC(40);
	/* The packet still goes to the cached MAC; a request goes to it too. */
	ck_assert_int_eq(send_ip(s, t, PEER, 7), 0);
	ck_assert_int_eq(state_of(s, PEER), US_ARP_PROBE);
	ck_assert_int_eq(link.count, 2);
	uint8_t want[64];
	size_t wn = us_test_hex(
		"02 00 00 00 02 01 02 00 00 00 00 02 08 06"  /* to the cached MAC, from us, ARP */
		" 00 01 08 00 06 04 00 01"                   /* op request */
		" 02 00 00 00 00 02 c6 33 64 02"             /* sha us, spa 198.51.100.2 */
		" 00 00 00 00 00 00 c6 33 64 01"             /* tha zero, tpa 198.51.100.1 */
		" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", /* padding */
		want, sizeof want);
	ck_assert_mem_eq(link.frame[0], want, wn);
	ck_assert_mem_eq(link.frame[1], mac, 6);
	ck_assert_uint_eq(frame_ip_id(&link, 1), 7);
	ck_assert_uint_eq(us_stack_counter(s, "arp.probes_out"), 1);
	/* More packets meanwhile go straight out, without more requests. */
	ck_assert_int_eq(send_ip(s, t + US_MSEC(500), PEER, 8), 0);
	ck_assert_int_eq(link.count, 3);
	us_stack_poll(s, t + US_SEC(1));
	us_stack_poll(s, t + US_SEC(2));
	ck_assert_int_eq(link.count, 5);
	assert_request(&link, 3, mac, OURS, PEER);
	assert_request(&link, 4, mac, OURS, PEER);
	ck_assert_int_eq(us_stack_next_deadline(s), t + US_SEC(3));
	us_stack_poll(s, t + US_SEC(3));
	ck_assert_uint_eq(us_stack_counter(s, "arp.probe_failed"), 1);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	/* The next packet resolves afresh, by broadcast. */
	ck_assert_int_eq(send_ip(s, t + US_SEC(3), PEER, 9), 0);
	ck_assert_int_eq(link.count, 6);
	assert_request(&link, 5, bcast_mac, OURS, PEER);
	us_arp_fini(s);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_answered_unicast_poll_makes_the_entry_reachable_again)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	learn(s, T0, PEER, 1);
	us_stack_poll(s, T0 + US_SEC(30));
	ck_assert_int_eq(send_ip(s, T0 + US_SEC(31), PEER, 1), 0);
	ck_assert_int_eq(state_of(s, PEER), US_ARP_PROBE);
	ck_assert_int_eq(reply_from_peer(s, T0 + US_SEC(31) + US_MSEC(1), peer_mac), 0);
	ck_assert_int_eq(state_of(s, PEER), US_ARP_REACHABLE);
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_SEC(61) + US_MSEC(1));
	us_test_stack_free(s);
}
END_TEST

START_TEST(any_arp_packet_from_a_known_sender_updates_its_mac)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	learn(s, T0, PEER, 1);
	link.count = 0;
	/* RFC 826's merge: a request from the peer for someone else, with a
	 * new MAC, updates the entry and is not answered. */
	ck_assert_int_eq(inject(s, T0 + US_SEC(5), US_ARP_REQUEST, moved_mac, PEER, no_mac, OTHER,
				bcast_mac),
			 0);
	uint8_t mac[6];
	ck_assert_int_eq(us_arp_lookup(s, 0, PEER, mac), 0);
	ck_assert_mem_eq(mac, moved_mac, 6);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_updated"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_not_for_us"), 0);
	ck_assert_int_eq(link.count, 0);
	/* It confirmed the entry: REACHABLE for 30 s from now. */
	ck_assert_int_eq(us_stack_next_deadline(s), T0 + US_SEC(35));
	/* Packets follow the new MAC. */
	ck_assert_int_eq(send_ip(s, T0 + US_SEC(6), PEER, 1), 0);
	ck_assert_mem_eq(link.frame[0], moved_mac, 6);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_packet_not_for_us_never_creates_an_entry)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	/* A request between two other hosts, and another host's gratuitous ARP. */
	ck_assert_int_lt(inject(s, T0, US_ARP_REQUEST, moved_mac, 0xc6336407, no_mac, OTHER, bcast_mac),
			 0);
	ck_assert_int_lt(
		inject(s, T0, US_ARP_REQUEST, moved_mac, 0xc6336407, no_mac, 0xc6336407, bcast_mac), 0);
	ck_assert_int_lt(inject(s, T0, US_ARP_REPLY, moved_mac, 0xc6336407, peer_mac, PEER, bcast_mac),
			 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_not_for_us"), 3);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_added"), 0);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_packet_for_us_from_an_unknown_sender_adds_it)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	/* RFC 826: "If Merge_flag is false, add the triplet" -- for a reply as
	 * well as a request; only the request is answered. */
	ck_assert_int_eq(reply_from_peer(s, T0, peer_mac), 0);
	ck_assert_int_eq(state_of(s, PEER), US_ARP_REACHABLE);
	ck_assert_int_eq(link.count, 0);
	learn(s, T0, 0xc6336407, 7);
	ck_assert_int_eq(link.count, 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_added"), 2);
	ck_assert_uint_eq(us_stack_counter(s, "arp.cache_updated"), 0);
	uint8_t mac[6], want[6] = { 0x02, 0, 0, 0, 2, 7 };
	ck_assert_int_eq(us_arp_lookup(s, 0, 0xc6336407, mac), 0);
	ck_assert_mem_eq(mac, want, 6);
	/* The entry is per interface. */
	ck_assert_int_eq(us_arp_lookup(s, 1, 0xc6336407, mac), -ENOENT);
	us_test_stack_free(s);
}
END_TEST

/* ---- Announcements and conflicts ------------------------------------------ */

START_TEST(an_added_address_is_announced_at_once_and_again_2_s_later)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = us_test_stack(&link, 0);
	ck_assert_int_eq(us_stack_add_ipv4(s, US_SEC(5), 0, 0xc0000205, 24), 0);
	ck_assert_int_eq(link.count, 1);
	uint8_t want[64];
	size_t wn = us_test_hex(
		"ff ff ff ff ff ff 02 00 00 00 00 02 08 06"  /* broadcast, from us, ARP */
		" 00 01 08 00 06 04 00 01"                   /* op request (RFC 5227 §3) */
		" 02 00 00 00 00 02 c0 00 02 05"             /* sha us, spa 192.0.2.5 */
		" 00 00 00 00 00 00 c0 00 02 05"             /* tha zero, tpa = spa */
		" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", /* padding */
		want, sizeof want);
	ck_assert_uint_eq(link.len[0], wn);
	ck_assert_mem_eq(link.frame[0], want, wn);
	ck_assert_int_eq(us_stack_next_deadline(s), US_SEC(7));
	us_stack_poll(s, US_SEC(7) - 1);
	ck_assert_int_eq(link.count, 1);
	us_stack_poll(s, US_SEC(7));
	ck_assert_int_eq(link.count, 2);
	ck_assert_uint_eq(link.len[1], wn);
	ck_assert_mem_eq(link.frame[1], want, wn);
	/* Two announcements (RFC 5227 §2.3 ANNOUNCE_NUM), then quiet. */
	ck_assert_int_eq(us_stack_next_deadline(s), US_TIME_NEVER);
	us_stack_poll(s, US_SEC(100));
	ck_assert_int_eq(link.count, 2);
	ck_assert_uint_eq(us_stack_counter(s, "arp.announcements_out"), 2);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_conflict_is_counted_and_defended_at_most_every_10_s)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	/* Another host announces our address. */
	ck_assert_int_lt(inject(s, T0, US_ARP_REQUEST, moved_mac, OURS, no_mac, OURS, bcast_mac), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.conflicts"), 1);
	ck_assert_uint_eq(us_stack_counter(s, "arp.defences"), 1);
	ck_assert_int_eq(link.count, 1);
	assert_request(&link, 0, bcast_mac, OURS, OURS); /* our announcement */
	/* Nothing is cached for our own address. */
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	/* Again within DEFEND_INTERVAL: counted, not answered. */
	ck_assert_int_lt(inject(s, T0 + US_SEC(10) - 1, US_ARP_REPLY, moved_mac, OURS, our_mac, OURS,
				our_mac),
			 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.conflicts"), 2);
	ck_assert_int_eq(link.count, 1);
	ck_assert_int_lt(inject(s, T0 + US_SEC(10), US_ARP_REQUEST, moved_mac, OURS, no_mac, PEER,
				bcast_mac),
			 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.conflicts"), 3);
	ck_assert_uint_eq(us_stack_counter(s, "arp.defences"), 2);
	ck_assert_int_eq(link.count, 2);
	assert_request(&link, 1, bcast_mac, OURS, OURS);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_probe_for_our_address_is_answered_and_not_cached)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	/* RFC 5227 §2.1.1 probe: sender address 0.0.0.0. */
	ck_assert_int_eq(inject(s, T0, US_ARP_REQUEST, moved_mac, 0, no_mac, OURS, bcast_mac), 0);
	ck_assert_int_eq(link.count, 1);
	uint8_t want[64];
	size_t wn = us_test_hex(
		"02 00 00 00 00 11 02 00 00 00 00 02 08 06"  /* to the prober, from us, ARP */
		" 00 01 08 00 06 04 00 02"                   /* op reply */
		" 02 00 00 00 00 02 c6 33 64 02"             /* sha us, spa 198.51.100.2 */
		" 02 00 00 00 00 11 00 00 00 00"             /* tha the prober, tpa 0.0.0.0 */
		" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", /* padding */
		want, sizeof want);
	ck_assert_mem_eq(link.frame[0], want, wn);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	/* A probe for another address, and a "reply" from 0.0.0.0, are not. */
	ck_assert_int_lt(inject(s, T0, US_ARP_REQUEST, moved_mac, 0, no_mac, OTHER, bcast_mac), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_not_for_us"), 1);
	ck_assert_int_lt(inject(s, T0, US_ARP_REPLY, moved_mac, 0, our_mac, OURS, our_mac), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_bad_source"), 1);
	ck_assert_int_eq(link.count, 1);
	us_test_stack_free(s);
}
END_TEST

START_TEST(hostile_senders_are_dropped_before_the_cache)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	const uint8_t zero[6] = { 0 };
	const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	/* Sender MACs no neighbour can have. */
	ck_assert_int_lt(inject(s, T0, US_ARP_REQUEST, bcast_mac, PEER, no_mac, OURS, bcast_mac), 0);
	ck_assert_int_lt(inject(s, T0, US_ARP_REQUEST, mcast, PEER, no_mac, OURS, bcast_mac), 0);
	ck_assert_int_lt(inject(s, T0, US_ARP_REQUEST, zero, PEER, no_mac, OURS, bcast_mac), 0);
	/* Our own MAC as the sender, with another address (Ethernet source differs). */
	uint8_t f[60];
	size_t n = us_test_hex(
		"ff ff ff ff ff ff 02 00 00 00 00 33 08 06"  /* broadcast, from someone, ARP */
		" 00 01 08 00 06 04 00 01"                   /* op request */
		" 02 00 00 00 00 02 c6 33 64 01"             /* sha OUR MAC, spa 198.51.100.1 */
		" 00 00 00 00 00 00 c6 33 64 02"             /* tha zero, tpa 198.51.100.2 */
		" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
		f, sizeof f);
	ck_assert_int_lt(us_stack_input(s, T0, 0, f, n), 0);
	/* Sender addresses no host can have: limited and subnet broadcast,
	 * multicast, loopback, this-network, class E. */
	const uint32_t bad_spa[] = { 0xffffffff, 0xc63364ff, 0xe0000001, 0x7f000001, 0x00000005,
				     0xf0000001 };
	for (size_t i = 0; i < sizeof bad_spa / sizeof bad_spa[0]; i++)
		ck_assert_int_lt(
			inject(s, T0, US_ARP_REQUEST, moved_mac, bad_spa[i], no_mac, OURS, bcast_mac), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_bad_source"), 10);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(an_unknown_opcode_is_dropped_as_malformed)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	uint8_t f[64];
	size_t n = us_test_hex(request_for_us, f, sizeof f);
	f[21] = 0x03; /* op 3: RARP request */
	ck_assert_int_lt(us_stack_input(s, T0, 0, f, n), 0);
	f[21] = 0x00; /* op 0 */
	ck_assert_int_lt(us_stack_input(s, T0, 0, f, n), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_malformed"), 2);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	ck_assert_int_eq(link.count, 0);
	us_test_stack_free(s);
}
END_TEST

/* ---- Next hops that need no resolution ------------------------------------ */

START_TEST(broadcast_and_multicast_next_hops_map_without_resolution)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	const struct {
		uint32_t ip;
		uint8_t mac[6];
	} cases[] = {
		{ 0xffffffff, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } }, /* limited broadcast */
		{ 0xc63364ff, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } }, /* 198.51.100.255 */
		{ 0xe00000fb, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } }, /* 224.0.0.251 */
		{ 0xeffffffa, { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa } }, /* 239.255.255.250 */
		{ 0xe8817f01, { 0x01, 0x00, 0x5e, 0x01, 0x7f, 0x01 } }, /* 232.129.127.1: bit 23 dropped */
	};
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(send_ip(s, T0, cases[i].ip, (uint16_t)i), 0);
		ck_assert_int_eq(link.count, i + 1);
		ck_assert_mem_eq(link.frame[i], cases[i].mac, 6);
		ck_assert_uint_eq(frame_ip_id(&link, i), i);
	}
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	ck_assert_uint_eq(us_stack_counter(s, "arp.requests_out"), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_next_hop_that_cannot_be_a_neighbour_is_dropped)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	const uint32_t bad[] = { 0, 0x7f000001, OURS, 0xf0000001 };
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(send_ip(s, T0, bad[i], 1), -EINVAL);
	ck_assert_uint_eq(us_stack_counter(s, "arp.drop_bad_next_hop"), 4);
	ck_assert_int_eq(link.count, 0);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(a_request_comes_from_our_address_on_the_targets_subnet)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	ck_assert_int_eq(us_stack_add_ipv4(s, T0, 0, 0x0a000002, 8), 0); /* 10.0.0.2/8 */
	link.count = 0;
	ck_assert_int_eq(send_ip(s, T0, 0x0a010203, 1), 0);
	assert_request(&link, 0, bcast_mac, 0x0a000002, 0x0a010203);
	ck_assert_int_eq(send_ip(s, T0, PEER, 2), 0);
	assert_request(&link, 1, bcast_mac, OURS, PEER);
	/* Off every subnet: the first address. */
	ck_assert_int_eq(send_ip(s, T0, 0xcb007101, 3), 0);
	assert_request(&link, 2, bcast_mac, OURS, 0xcb007101);
	us_arp_fini(s);
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_packets_waiting_are_released_when_the_stack_goes)
{
	struct us_test_link link = { 0 };
	struct us_stack *s = settled_stack(&link);
	for (uint16_t id = 0; id < 5; id++)
		ck_assert_int_eq(send_ip(s, T0, PEER, id), 0);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 5);
	us_arp_fini(s);
	ck_assert_uint_eq(us_stack_pbufs_in_use(s), 0);
	ck_assert_uint_eq(us_arp_table(s, NULL, 0), 0);
	us_test_stack_free(s);
}
END_TEST

START_TEST(the_state_names_cover_every_state)
{
	ck_assert_str_eq(us_arp_state_name(US_ARP_INCOMPLETE), "INCOMPLETE");
	ck_assert_str_eq(us_arp_state_name(US_ARP_REACHABLE), "REACHABLE");
	ck_assert_str_eq(us_arp_state_name(US_ARP_STALE), "STALE");
	ck_assert_str_eq(us_arp_state_name(US_ARP_PROBE), "PROBE");
	ck_assert_str_eq(us_arp_state_name((enum us_arp_nstate)9), "?");
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("arp");
	TCase *tc = tcase_create("arp");
	tcase_add_test(tc, a_request_for_our_address_gets_a_reply);
	tcase_add_test(tc, a_request_for_another_address_is_not_answered);
	tcase_add_test(tc, a_stack_without_addresses_answers_nothing);
	tcase_add_test(tc, truncated_arp_packets_are_dropped_at_every_length);
	tcase_add_test(tc, arp_for_other_hardware_or_protocols_is_dropped);
	tcase_add_test(tc, a_multicast_sender_hardware_address_is_refused);
	tcase_add_test(tc, a_transmit_failure_is_counted_and_frees_the_buffer);
	suite_add_tcase(s, tc);

	TCase *cache = tcase_create("cache");
	tcase_add_test(cache, an_unresolved_next_hop_queues_the_packet_and_broadcasts_one_request);
	tcase_add_test(cache, the_reply_flushes_the_queue_in_order_to_the_replied_mac);
	tcase_add_test(cache, requests_repeat_every_second_and_resolution_fails_after_three);
	tcase_add_test(cache, an_evicted_and_recreated_entry_waits_for_the_rate_limit);
	tcase_add_test(cache, a_full_queue_drops_its_oldest_packet_and_counts_it);
	tcase_add_test(cache, the_total_queue_bound_refuses_new_packets_and_counts_them);
	tcase_add_test(cache, a_60000_byte_datagram_to_an_unresolved_neighbour_leaves_whole);
	tcase_add_test(cache, a_full_cache_evicts_the_least_recently_used_entry);
	tcase_add_test(cache, a_cache_full_of_incomplete_entries_refuses_a_new_neighbour);
	tcase_add_test(cache, an_unconfirmed_entry_goes_stale_after_30_s_and_is_purged_60_s_later);
	tcase_add_test(cache, a_late_poll_walks_an_entry_through_every_due_step);
	tcase_add_test(cache, a_stale_entry_in_use_is_polled_by_unicast_and_removed_when_silent);
	tcase_add_test(cache, an_answered_unicast_poll_makes_the_entry_reachable_again);
	tcase_add_test(cache, any_arp_packet_from_a_known_sender_updates_its_mac);
	tcase_add_test(cache, a_packet_not_for_us_never_creates_an_entry);
	tcase_add_test(cache, a_packet_for_us_from_an_unknown_sender_adds_it);
	tcase_add_test(cache, an_added_address_is_announced_at_once_and_again_2_s_later);
	tcase_add_test(cache, a_conflict_is_counted_and_defended_at_most_every_10_s);
	tcase_add_test(cache, a_probe_for_our_address_is_answered_and_not_cached);
	tcase_add_test(cache, hostile_senders_are_dropped_before_the_cache);
	tcase_add_test(cache, an_unknown_opcode_is_dropped_as_malformed);
	tcase_add_test(cache, broadcast_and_multicast_next_hops_map_without_resolution);
	tcase_add_test(cache, a_next_hop_that_cannot_be_a_neighbour_is_dropped);
	tcase_add_test(cache, a_request_comes_from_our_address_on_the_targets_subnet);
	tcase_add_test(cache, the_packets_waiting_are_released_when_the_stack_goes);
	tcase_add_test(cache, the_state_names_cover_every_state);
	suite_add_tcase(s, cache);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * stack.c - the core's entry points: creation, interfaces and addresses,
 * frame input, timers, counters, and Ethernet output.
 *
 * A frame's way in starts at us_stack_input(): it is parsed as Ethernet
 * (wire/eth.c), filtered by destination MAC, and handed by EtherType to
 * us_arp_input() (arp.c), the IPv4 input or the IPv6 input. The way out ends
 * in us_eth_output(), which pushes the Ethernet header in front of a pbuf and
 * calls the interface's transmit callback. Read docs/architecture.md first.
 *
 * A caller that reads several frames from the link at once brackets them
 * with us_stack_batch_begin()/_end(): TCP then sends one ACK per connection
 * for the in-order data of the whole batch (tcp_input.c, defer_ack()).
 *
 * Offloads (docs/performance.md): us_stack_input_meta() takes what the link
 * knows of a frame (a decoded virtio-net header) and keeps it in s->rx_meta
 * while the frame goes up; a UDP super-frame (USO) is split here into its
 * datagrams. On the way out, us_eth_output() turns a pbuf's offload fields
 * (set by TCP) into struct us_frame's.
 */
#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arp.h"
#include "fmt.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

#define DEFAULT_SMALL_BUFS 512
#define DEFAULT_LARGE_BUFS 16

static const char *const counter_names[US_CTR_COUNT] = {
#define US_COUNTER_NAME(id, name) [US_CTR_##id] = name,
	US_COUNTER_LIST(US_COUNTER_NAME)
#undef US_COUNTER_NAME
};

struct us_stack *us_stack_new(const struct us_stack_config *cfg)
{
	if (!cfg)
		return NULL;
	struct us_stack *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->route_gen = 1;
	us_rand_seed(&s->rand, cfg->seed);
	uint32_t small = cfg->small_bufs ? cfg->small_bufs : DEFAULT_SMALL_BUFS;
	uint32_t large = cfg->large_bufs ? cfg->large_bufs : DEFAULT_LARGE_BUFS;
	if (us_pool_init(&s->pool, small, large) < 0) {
		free(s);
		return NULL;
	}
	us_arp_init(s);
	us_reass_init(s);
	us_ip_init(s);
	us_ip6_init(s);
	us_nd6_init(s);
	us_udp_init(s);
	us_raw_init(s);
	us_tcp_init(s);
	return s;
}

void us_stack_free(struct us_stack *s)
{
	if (!s)
		return;
	/* Modules give back the buffers they hold (queues, fragments) first;
	 * sockets still open are closed. */
	us_tcp_fini(s);
	us_raw_fini(s);
	us_udp_fini(s);
	us_nd6_fini(s);
	us_reass_fini(s);
	us_arp_fini(s);
	us_pool_fini(&s->pool);
	free(s);
}

void us_trace(struct us_stack *s, enum us_trace_kind kind, int ifindex, const char *msg)
{
	if (!s->cfg.trace)
		return;
	struct us_trace_event ev = { .now = s->now, .kind = kind, .ifindex = ifindex, .msg = msg };
	s->cfg.trace(s->cfg.trace_ctx, &ev);
}

int us_drop(struct us_stack *s, enum us_counter_id id, int ifindex, const char *why)
{
	us_count(s, id);
	if (s->cfg.trace) {
		char buf[160];
		struct us_fmt f;
		us_fmt_init(&f, buf, sizeof buf);
		us_fmt_str(&f, "drop ");
		us_fmt_str(&f, counter_names[id]);
		if (why) {
			us_fmt_str(&f, ": ");
			us_fmt_str(&f, why);
		}
		us_trace(s, US_TRACE_DROP, ifindex, buf);
	}
	return -EINVAL;
}

/* ---- Interfaces and addresses ------------------------------------------- */

int us_stack_add_iface(struct us_stack *s, us_time_t now, const struct us_iface_config *cfg)
{
	if (!s || !cfg || !cfg->transmit)
		return -EINVAL;
	/* A station address must be unicast (IEEE 802: the I/G bit clear). */
	if (cfg->mac[0] & 1)
		return -EINVAL;
	uint32_t mtu = cfg->mtu ? cfg->mtu : 1500;
	/* RFC 791 §3.2: every host must take 576-byte datagrams; RFC 8200 §5: IPv6 needs 1280.
	 * 65535 is the largest IPv4 datagram. */
	if (mtu < 576 || mtu > 65535)
		return -EINVAL;
	if (s->n_iface == US_MAX_IFACES)
		return -ENOSPC;
	struct us_iface *ifc = &s->iface[s->n_iface];
	memset(ifc, 0, sizeof *ifc);
	ifc->index = s->n_iface;
	memcpy(ifc->name, cfg->name, sizeof ifc->name);
	ifc->name[sizeof ifc->name - 1] = '\0';
	memcpy(ifc->mac, cfg->mac, US_ETH_ALEN);
	ifc->mtu = mtu;
	ifc->transmit = cfg->transmit;
	ifc->transmit_ctx = cfg->transmit_ctx;
	ifc->offloads = cfg->offloads;
	s->n_iface++;
	s->now = now;
	if (cfg->offloads) {
		static const char *const names[] = { " csum", " tso4", " tso6", " uso4", " uso6" };
		char buf[80];
		struct us_fmt f;
		us_fmt_init(&f, buf, sizeof buf);
		us_fmt_str(&f, "offloads:");
		for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
			if (cfg->offloads & (1u << i))
				us_fmt_str(&f, names[i]);
		us_trace(s, US_TRACE_INFO, ifc->index, buf);
		s->any_offload = true;
	}
	us_routes_changed(s);
	us_nd6_iface_up(s, ifc);
	return ifc->index;
}

int us_stack_iface_count(const struct us_stack *s)
{
	return s ? s->n_iface : 0;
}

struct us_iface *us_iface_get(struct us_stack *s, int ifindex)
{
	if (!s || ifindex < 0 || ifindex >= s->n_iface)
		return NULL;
	return &s->iface[ifindex];
}

int us_stack_iface_info(const struct us_stack *s, int ifindex, uint8_t mac[US_ETH_ALEN], uint32_t *mtu)
{
	if (!s || ifindex < 0 || ifindex >= s->n_iface)
		return -ENODEV;
	if (mac)
		memcpy(mac, s->iface[ifindex].mac, US_ETH_ALEN);
	if (mtu)
		*mtu = s->iface[ifindex].mtu;
	return 0;
}

bool us_iface_has_ip4(const struct us_iface *ifc, uint32_t addr)
{
	for (int i = 0; i < US_MAX_ADDR4; i++)
		if (ifc->addr4[i].used && ifc->addr4[i].addr == addr)
			return true;
	return false;
}

int us_stack_add_ipv4(struct us_stack *s, us_time_t now, int ifindex, uint32_t addr, int prefix_len)
{
	struct us_iface *ifc = us_iface_get(s, ifindex);
	if (!ifc)
		return -ENODEV;
	if (prefix_len < 0 || prefix_len > 32 || addr == 0)
		return -EINVAL;
	s->now = now;
	if (us_iface_has_ip4(ifc, addr))
		return -EEXIST;
	for (int i = 0; i < US_MAX_ADDR4; i++) {
		if (!ifc->addr4[i].used) {
			ifc->addr4[i] = (struct us_addr4){ .used = true, .prefix_len = (uint8_t)prefix_len, .addr = addr };
			char buf[80];
			struct us_fmt f;
			us_fmt_init(&f, buf, sizeof buf);
			us_fmt_str(&f, "ipv4 address ");
			us_fmt_ip4(&f, addr);
			us_fmt_str(&f, "/");
			us_fmt_u64(&f, (uint64_t)prefix_len);
			us_fmt_str(&f, " added");
			us_trace(s, US_TRACE_INFO, ifindex, buf);
			us_routes_changed(s);
			us_arp_announce(s, ifc, addr);
			return 0;
		}
	}
	return -ENOSPC;
}

int us_stack_add_ipv6(struct us_stack *s, us_time_t now, int ifindex, const struct us_ip6 *addr, int prefix_len)
{
	struct us_iface *ifc = us_iface_get(s, ifindex);
	if (!ifc)
		return -ENODEV;
	if (!addr || prefix_len < 0 || prefix_len > 128)
		return -EINVAL;
	/* RFC 4291 §2.5.2/§2.5.3/§2.7: ::, ::1 and multicast are never an interface's address. */
	if (us_ip6_is_unspecified(addr) || us_ip6_is_loopback(addr) || us_ip6_is_multicast(addr))
		return -EINVAL;
	/* A duplicate link-local turned IPv6 off here (RFC 4862 §5.4.5). */
	if (s->nd6.ifs[ifindex].disabled)
		return -ENETDOWN;
	s->now = now;
	for (int i = 0; i < US_MAX_ADDR6; i++)
		if (ifc->addr6[i].used && memcmp(&ifc->addr6[i].addr, addr, sizeof *addr) == 0)
			return -EEXIST;
	for (int i = 0; i < US_MAX_ADDR6; i++) {
		if (!ifc->addr6[i].used) {
			ifc->addr6[i] = (struct us_addr6){
				.used = true,
				.prefix_len = (uint8_t)prefix_len,
				.addr = *addr,
				.state = US_ADDR6_TENTATIVE,
				.valid_until = US_TIME_NEVER,
				.preferred_until = US_TIME_NEVER,
			};
			char buf[100];
			struct us_fmt f;
			us_fmt_init(&f, buf, sizeof buf);
			us_fmt_str(&f, "ipv6 address ");
			us_fmt_ip6(&f, addr);
			us_fmt_str(&f, "/");
			us_fmt_u64(&f, (uint64_t)prefix_len);
			us_fmt_str(&f, " added");
			us_trace(s, US_TRACE_INFO, ifindex, buf);
			us_nd6_addr_added(s, ifc, i); /* bumps s->route_gen */
			return 0;
		}
	}
	return -ENOSPC;
}

int us_stack_ipv6_addrs(const struct us_stack *s, int ifindex, struct us_addr6_info *out, int max)
{
	if (!s || ifindex < 0 || ifindex >= s->n_iface)
		return -ENODEV;
	const struct us_iface *ifc = &s->iface[ifindex];
	int n = 0;
	for (int i = 0; i < US_MAX_ADDR6; i++) {
		const struct us_addr6 *a = &ifc->addr6[i];
		if (!a->used)
			continue;
		if (out && n < max)
			out[n] = (struct us_addr6_info){
				.addr = a->addr,
				.prefix_len = a->prefix_len,
				.state = a->state,
				.autoconf = a->autoconf,
				.valid_until = a->valid_until,
				.preferred_until = a->preferred_until,
			};
		n++;
	}
	return n;
}

size_t us_stack_arp_table(const struct us_stack *s, struct us_arp_info *out, size_t max)
{
	return s ? us_arp_table(s, out, max) : 0;
}

/* ---- Input -------------------------------------------------------------- */

static bool mac_equal(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, US_ETH_ALEN) == 0;
}

static int input(struct us_stack *s, us_time_t now, int ifindex, const uint8_t *frame, size_t len)
{
	s->now = now;
	struct us_iface *ifc = us_iface_get(s, ifindex);
	if (!ifc)
		return us_drop(s, US_CTR_ETH_DROP_BAD_IFACE, ifindex, "no such interface");
	if (!frame && len)
		return us_drop(s, US_CTR_ETH_DROP_MALFORMED, ifindex, "no frame");
	us_count(s, US_CTR_ETH_IN);

	struct us_eth_hdr eth;
	int err = us_eth_parse(frame, len, &eth);
	if (err == US_WIRE_BAD_VLAN)
		return us_drop(s, US_CTR_ETH_DROP_VLAN, ifindex, us_wire_strerror(err));
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_ETH_DROP_MALFORMED, ifindex, us_wire_strerror(err));

	/* Our own frames looped back by a bridge or a hub are not input. */
	if (mac_equal(eth.src, ifc->mac))
		return us_drop(s, US_CTR_ETH_DROP_OWN_SOURCE, ifindex, "source is our MAC");
	/* Multicast frames go up: the IP layers filter by group. */
	if (!mac_equal(eth.dst, ifc->mac) && !us_eth_is_multicast(eth.dst))
		return us_drop(s, US_CTR_ETH_DROP_NOT_FOR_US, ifindex, "destination MAC not ours");

	bool link_mcast = us_eth_is_multicast(eth.dst); /* broadcast included */
	switch (eth.ethertype) {
	case US_ETHERTYPE_ARP:
		return us_arp_input(s, ifc, eth.payload, eth.payload_len);
	case US_ETHERTYPE_IPV4:
		return us_ip_input(s, ifc, eth.payload, eth.payload_len, link_mcast);
	case US_ETHERTYPE_IPV6:
		return us_ip6_input(s, ifc, eth.payload, eth.payload_len, link_mcast);
	default:
		return us_drop(s, US_CTR_ETH_DROP_UNKNOWN_TYPE, ifindex, "unknown EtherType");
	}
}

int us_stack_input(struct us_stack *s, us_time_t now, int ifindex, const uint8_t *frame, size_t len)
{
	if (!s)
		return -EINVAL;
	return input(s, now, ifindex, frame, len);
}

/*
 * A UDP super-frame (USO, gso_type UDP_L4): one IP and UDP header in front
 * of several datagrams' payloads, gso_size bytes each (the last may be
 * shorter), as a sender's UDP_SEGMENT makes them. Each goes up as the
 * datagram the link would have made of it: the headers copied, the IP and
 * UDP lengths made true, the IPv4 header checksum recomputed, and the UDP
 * checksum left to the kernel's word (meta: NEEDS_CSUM or DATA_VALID).
 * The transport header starts at csum_start (tun always sets NEEDS_CSUM
 * for USO; without it the frame is dropped).
 */
static int input_uso(struct us_stack *s, us_time_t now, int ifindex, const uint8_t *frame,
		     size_t len, const struct us_rx_meta *meta)
{
	size_t l4 = meta->csum_start;
	size_t hdrs = l4 + 8; /* RFC 768: the UDP header */
	if (!meta->csum_partial || l4 < US_ETH_HDR_LEN + 20 || hdrs > len)
		return us_drop(s, US_CTR_ETH_DROP_BAD_GSO, ifindex, "USO frame without headers");
	uint16_t et = us_get_be16(frame + 12);
	bool v4 = et == US_ETHERTYPE_IPV4;
	if (!v4 && et != US_ETHERTYPE_IPV6)
		return us_drop(s, US_CTR_ETH_DROP_BAD_GSO, ifindex, "USO frame not IP");
	struct us_rx_meta one = { .csum_valid = true };
	int rc = 0;
	for (size_t off = hdrs; off < len; off += meta->gso_size) {
		size_t n = len - off < meta->gso_size ? len - off : meta->gso_size;
		struct us_pbuf *b = us_pbuf_alloc(&s->pool, 0, (uint32_t)(hdrs + n));
		if (!b) {
			us_count(s, US_CTR_PBUF_EXHAUSTED);
			return -ENOBUFS;
		}
		uint8_t *d = us_pbuf_data(b);
		memcpy(d, frame, hdrs);
		memcpy(d + hdrs, frame + off, n);
		uint8_t *ip = d + US_ETH_HDR_LEN;
		if (v4) {
			us_put_be16(ip + 2, (uint16_t)(hdrs + n - US_ETH_HDR_LEN));
			us_csum_fill(ip, (size_t)(ip[0] & 0x0f) * 4, 10, 0);
		} else {
			us_put_be16(ip + 4, (uint16_t)(hdrs + n - US_ETH_HDR_LEN - 40));
		}
		us_put_be16(d + l4 + 4, (uint16_t)(8 + n));
		s->rx_meta = &one;
		int r = input(s, now, ifindex, d, hdrs + n);
		s->rx_meta = NULL;
		us_pbuf_free(&s->pool, b);
		if (r < 0)
			rc = r;
	}
	return rc;
}

int us_stack_input_meta(struct us_stack *s, us_time_t now, int ifindex, const uint8_t *frame,
			size_t len, const struct us_rx_meta *meta)
{
	if (!s)
		return -EINVAL;
	if (!meta || (!meta->csum_valid && !meta->csum_partial && meta->gso_type == US_GSO_NONE))
		return input(s, now, ifindex, frame, len);
	s->now = now;
	if (meta->csum_valid || meta->csum_partial)
		us_count(s, US_CTR_ETH_IN_CSUM_TRUSTED);
	switch ((enum us_gso_type)meta->gso_type) {
	case US_GSO_NONE:
		break;
	case US_GSO_TCPV4:
	case US_GSO_TCPV6:
		/* Taken whole: its IP length field holds the full length
		 * (Linux's GSO keeps it true up to 64 KB), and TCP takes a
		 * segment of any size the window allows. */
		us_count(s, US_CTR_ETH_IN_GSO);
		break;
	case US_GSO_UDP_L4:
		us_count(s, US_CTR_ETH_IN_GSO);
		if (!frame || meta->gso_size == 0)
			return us_drop(s, US_CTR_ETH_DROP_BAD_GSO, ifindex, "USO without gso_size");
		return input_uso(s, now, ifindex, frame, len, meta);
	case US_GSO_UDP:
	default:
		return us_drop(s, US_CTR_ETH_DROP_BAD_GSO, ifindex, "GSO type not taken");
	}
	s->rx_meta = meta;
	int rc = input(s, now, ifindex, frame, len);
	s->rx_meta = NULL;
	return rc;
}

void us_stack_batch_begin(struct us_stack *s)
{
	if (s)
		s->batch = true;
}

void us_stack_batch_end(struct us_stack *s, us_time_t now)
{
	if (!s || !s->batch)
		return;
	s->now = now;
	s->batch = false;
	us_tcp_batch_end(s);
}

/* ---- Timers ------------------------------------------------------------- */

void us_stack_poll(struct us_stack *s, us_time_t now)
{
	if (!s)
		return;
	s->now = now;
	us_arp_poll(s);
	us_reass_poll(s);
	us_ip_poll(s);
	us_ip6_poll(s);
	us_nd6_poll(s);
	us_tcp_poll(s);
}

static us_time_t earlier(us_time_t a, us_time_t b)
{
	return a < b ? a : b;
}

us_time_t us_stack_next_deadline(const struct us_stack *s)
{
	if (!s)
		return US_TIME_NEVER;
	us_time_t t = us_arp_next_deadline(s);
	t = earlier(t, us_reass_next_deadline(s));
	t = earlier(t, us_ip_next_deadline(s));
	t = earlier(t, us_ip6_next_deadline(s));
	t = earlier(t, us_nd6_next_deadline(s));
	t = earlier(t, us_tcp_next_deadline(s));
	return t;
}

/* ---- Output ------------------------------------------------------------- */

struct us_pbuf *us_stack_alloc(struct us_stack *s, uint32_t len)
{
	struct us_pbuf *b = us_pbuf_alloc(&s->pool, US_PBUF_HEADROOM, len);
	if (!b) {
		us_count(s, US_CTR_PBUF_EXHAUSTED);
		return NULL;
	}
	b->gso_type = US_GSO_NONE;
	b->gso_size = 0;
	b->csum_at = 0;
	b->csum_offset = 0;
	return b;
}

void us_pbuf_csum_complete(struct us_pbuf *b)
{
	if (!b->csum_at || b->csum_at < b->off || b->csum_at >= b->off + b->len)
		return;
	/* virtio 1.x §5.1.6.2: the sum over [csum_start, end), the field
	 * (holding the pseudo-header sum) included, complemented. */
	uint8_t *start = b->mem + b->csum_at;
	size_t len = b->off + b->len - b->csum_at;
	if ((size_t)b->csum_offset + 2 <= len)
		us_put_be16(start + b->csum_offset, us_csum_fold(us_csum_partial(start, len, 0)));
	b->csum_at = 0;
	b->gso_type = US_GSO_NONE;
}

int us_eth_output(struct us_stack *s, struct us_iface *ifc, struct us_pbuf *b,
		  const uint8_t dst[US_ETH_ALEN], uint16_t ethertype)
{
	struct us_eth_hdr eth = { .ethertype = ethertype };
	memcpy(eth.dst, dst, US_ETH_ALEN);
	memcpy(eth.src, ifc->mac, US_ETH_ALEN);
	int rc = -ENOBUFS;
	uint8_t *h = us_pbuf_push(b, US_ETH_HDR_LEN);
	if (!h || us_eth_emit(&eth, h, US_ETH_HDR_LEN) != US_ETH_HDR_LEN)
		goto out;
	/* Pad runts to Ethernet's minimum with zeros, as a NIC would. */
	if (b->len < US_ETH_MIN_FRAME) {
		uint32_t pad = US_ETH_MIN_FRAME - b->len;
		uint8_t *p = us_pbuf_put(b, pad);
		if (!p)
			goto out;
		memset(p, 0, pad);
	}
	struct us_frame fr = { .data = us_pbuf_data(b), .len = b->len };
	if (b->csum_at) {
		/* The checksum field holds the pseudo-header sum; the link
		 * completes it over [csum_start, end) (virtio 1.x §5.1.6.2). */
		fr.csum_partial = true;
		fr.csum_start = (uint16_t)(b->csum_at - b->off);
		fr.csum_offset = b->csum_offset;
		us_count(s, US_CTR_ETH_OUT_CSUM_PARTIAL);
	}
	if (b->gso_type != US_GSO_NONE) {
		/* hdr_len: every header up to the TCP payload (the TCP data
		 * offset, RFC 9293 §3.1, in the top nibble of byte 12). */
		fr.gso_type = b->gso_type;
		fr.gso_size = b->gso_size;
		fr.hdr_len = (uint16_t)(fr.csum_start + (fr.data[fr.csum_start + 12] >> 4) * 4);
		us_count(s, US_CTR_ETH_OUT_GSO);
	}
	rc = ifc->transmit(ifc->transmit_ctx, &fr);
	if (rc < 0)
		us_count(s, US_CTR_ETH_TX_ERRORS);
	else
		us_count(s, US_CTR_ETH_OUT);
out:
	us_pbuf_free(&s->pool, b);
	return rc;
}

/* ---- Counters ----------------------------------------------------------- */

void us_stack_tx_failed(struct us_stack *s, uint64_t n)
{
	if (!s)
		return;
	s->ctr[US_CTR_ETH_TX_ERRORS] += n;
	s->ctr[US_CTR_ETH_OUT] -= n < s->ctr[US_CTR_ETH_OUT] ? n : s->ctr[US_CTR_ETH_OUT];
}

uint32_t us_stack_pbufs_in_use(const struct us_stack *s)
{
	return s ? us_pool_in_use(&s->pool) : 0;
}

size_t us_stack_counters(const struct us_stack *s, struct us_counter *out, size_t max)
{
	for (size_t i = 0; s && out && i < max && i < US_CTR_COUNT; i++) {
		out[i].name = counter_names[i];
		out[i].value = s->ctr[i];
	}
	return US_CTR_COUNT;
}

uint64_t us_stack_counter(const struct us_stack *s, const char *name)
{
	if (!s || !name)
		return 0;
	for (size_t i = 0; i < US_CTR_COUNT; i++)
		if (strcmp(counter_names[i], name) == 0)
			return s->ctr[i];
	return 0;
}

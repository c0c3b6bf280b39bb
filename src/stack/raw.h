/* SPDX-License-Identifier: MIT */
/*
 * raw.h - raw IP sockets inside the core (core.h's us_raw_* calls): copies
 * of received packets of one protocol, and packets sent with a header the
 * stack builds. IPv4 as Linux's SOCK_RAW without IP_HDRINCL; IPv6 as RFC
 * 3542 §3.
 *
 * Read first: include/ustack/core.h ("Sockets inside the core"), sock.h,
 * then raw.c.
 */
#ifndef USTACK_RAW_H
#define USTACK_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

#include "sock.h"

struct us_stack;
struct us_iface;
struct us_ipv4_hdr;
struct us_ipv6_hdr;

#define US_RAW_MAX_SOCKETS 64 /* open at once, per stack (-ENOBUFS beyond) */
/* The largest payloads: an IPv4 datagram of 65535 with its 20-byte header;
 * an IPv6 Payload Length of 65535. */
#define US_RAW_MAX_PAYLOAD4 65515
#define US_RAW_MAX_PAYLOAD6 65535

struct us_raw {
	struct us_stack *s;
	struct us_raw *next; /* every raw socket of the stack */
	int family;          /* US_AF_INET or US_AF_INET6 */
	uint8_t proto;       /* IPv4 Protocol / IPv6 Next Header it takes and sends */
	bool connected;
	struct us_addr local;  /* any, or an address of ours: filters input by destination */
	struct us_addr remote; /* when connected: filters input by source */
	struct us_sock_opts opt;
	struct us_sock_queue q;
};

struct us_raw_state {
	struct us_raw *all;
	uint32_t n_socks;
};

void us_raw_init(struct us_stack *s);
/* Closes every raw socket still open: their pointers are dead afterwards. */
void us_raw_fini(struct us_stack *s);

/* The IPv4 datagram ip (pkt/len: all of it, header first, reassembled) is
 * being delivered: every raw socket of its protocol that matches gets a
 * copy. True when at least one matched (then no Protocol Unreachable is
 * due for a protocol the stack does not speak). */
bool us_raw_input4(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		   const uint8_t *pkt, size_t len);
/* The IPv6 packet ip carries upper/len of protocol proto (after the
 * extension headers): every matching raw socket gets a copy of upper. */
bool us_raw_input6(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		   uint8_t proto, const uint8_t *upper, size_t len);

#endif

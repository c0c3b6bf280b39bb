/* SPDX-License-Identifier: MIT */
/*
 * udp.h - UDP (RFC 768, RFC 1122 §4.1) inside the core: the sockets of
 * core.h's us_udp_* calls, the demultiplexing of received datagrams, and
 * ICMP errors handed up from ip_icmp.c and ip6_icmp.c.
 *
 * Read first: include/ustack/core.h ("Sockets inside the core"), sock.h (the
 * receive queue), then udp.c from us_udp_input4() down.
 *
 * Sockets are allocated at open (open and close are not the per-packet
 * path) and live in two lists of struct us_udp_state: every socket, and the
 * bound ones hashed by local port, which is what input searches.
 */
#ifndef USTACK_UDP_H
#define USTACK_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

#include "sock.h"

struct us_stack;
struct us_iface;
struct us_ipv4_hdr;
struct us_ipv6_hdr;

/* RFC 6056 §2.1: the range IANA sets aside for ephemeral ports ("Dynamic
 * and/or Private Ports"), which §3.2 says to use at least. */
#define US_UDP_EPHEMERAL_MIN 49152
#define US_UDP_EPHEMERAL_MAX 65535

/* The largest payloads: 65535 - 20 (IPv4 header) - 8, and 65535 (the IPv6
 * Payload Length) - 8. Larger: -EMSGSIZE. */
#define US_UDP_MAX_PAYLOAD4 65507
#define US_UDP_MAX_PAYLOAD6 65527

#define US_UDP_PORT_BUCKETS 64   /* bound sockets, hashed by local port */
#define US_UDP_MAX_SOCKETS 1024  /* open at once, per stack (-ENOBUFS beyond) */

struct us_udp {
	struct us_stack *s;
	struct us_udp *next;  /* every socket of the stack */
	struct us_udp *hnext; /* its port's bucket, while bound */
	int family;           /* US_AF_INET or US_AF_INET6 */
	bool bound;           /* holds local.port */
	bool addr_locked;     /* bind() named the address: connect must not change it */
	bool port_locked;     /* bind() named the port: disconnecting keeps it */
	bool connected;
	/* In the socket's family: an IPv6 socket keeps IPv4 addresses
	 * IPv4-mapped (::ffff:a.b.c.d). local.ip4 0 / local.ip6 ::: any. */
	struct us_addr local;
	struct us_addr remote;
	struct us_sock_opts opt;
	struct us_sock_queue q;
};

struct us_udp_state {
	struct us_udp *all;
	struct us_udp *ports[US_UDP_PORT_BUCKETS];
	uint32_t n_socks;
	uint64_t eph_draws; /* ephemeral port draws so far (RFC 6056 §3.3.1) */
};

void us_udp_init(struct us_stack *s);
/* Closes every socket still open: their pointers are dead afterwards. */
void us_udp_fini(struct us_stack *s);

/* A UDP datagram arrived in the IPv4 datagram ip (pkt/len: all of it, for
 * the ICMP error quote). link_bcast as for us_ip_input(). 0 when delivered,
 * else a counted drop. */
int us_udp_input4(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		  const uint8_t *pkt, size_t len, bool link_bcast);
/* A UDP datagram (udp/udp_len: the upper-layer part) arrived in the IPv6
 * packet ip (pkt/len: all of it). */
int us_udp_input6(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		  const uint8_t *udp, size_t udp_len, const uint8_t *pkt, size_t len,
		  bool link_mcast);

/* An ICMP error (type, code) quotes q, an IPv4 datagram we sent with UDP
 * inside (RFC 1122 §4.1.3.3). */
void us_udp_icmp_error4(struct us_stack *s, uint8_t type, uint8_t code,
			const struct us_ipv4_hdr *q);
/* An ICMPv6 error quotes q, whose upper-layer part (UDP) is upper/len. */
void us_udp_icmp_error6(struct us_stack *s, uint8_t type, uint8_t code,
			const struct us_ipv6_hdr *q, const uint8_t *upper, size_t len);

/* The pending error, cleared (SO_ERROR); 0 when none. */
int us_udp_take_error(struct us_udp *u);

#endif

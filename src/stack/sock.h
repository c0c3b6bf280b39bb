/* SPDX-License-Identifier: MIT */
/*
 * sock.h - what the core's sockets (udp.c, raw.c) share: the bounded receive
 * queue of datagrams, the pending error, the event callback, the options of
 * enum us_sock_opt, the address helpers for IPv4-mapped IPv6 addresses (RFC
 * 4291 §2.5.5.2) and the choice of interface and source address for a
 * destination (RFC 1122 §3.3.4.3, RFC 6724 §5).
 *
 * Read first: include/ustack/core.h ("Sockets inside the core"), then udp.h.
 *
 * The receive queue. Each datagram waiting for the application sits in one
 * pbuf of the core's pools (no allocation per packet): the sender's address
 * (struct us_addr, copied with memcpy) and then the data. A socket's queue
 * is charged the whole capacity of the buffers it holds, as Linux charges
 * skb->truesize against SO_RCVBUF, since that is the memory it keeps from
 * everybody else: a small datagram costs US_PBUF_SMALL bytes, one larger
 * than that US_PBUF_LARGE. A datagram is queued when the queue is empty
 * (one always fits, as in Linux's __udp_enqueue_schedule_skb) or when the
 * charge stays within the receive buffer size; otherwise it is dropped and
 * the caller counts it.
 */
#ifndef USTACK_SOCK_H
#define USTACK_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

struct us_stack;
struct us_pbuf;
struct us_iface;

/* Linux's net.core.rmem_default and wmem_default. */
#define US_SOCK_RCVBUF_DEFAULT 212992u
#define US_SOCK_SNDBUF_DEFAULT 212992u
/* core.h: "bounded, >= 256". Values outside are clamped, as Linux clamps
 * to SOCK_MIN_RCVBUF and rmem_max. */
#define US_SOCK_BUF_MIN 256u
#define US_SOCK_BUF_MAX (4u * 1024u * 1024u)

struct us_sock_queue {
	struct us_pbuf *head, *tail; /* linked through pbuf->next */
	uint32_t count;              /* datagrams waiting */
	uint32_t charged;            /* bytes charged: the capacity of their buffers */
	int error;                   /* pending error, a negative errno; 0: none */
	us_sock_event_fn ev;         /* may be NULL */
	void *ev_ctx;
};

/* The options of enum us_sock_opt, as the core keeps them. */
struct us_sock_opts {
	bool reuseaddr;
	bool broadcast;
	bool v6only;
	uint32_t rcvbuf;
	uint32_t sndbuf;
	uint8_t ttl; /* 0: the default */
	uint8_t tos;
};

void us_sock_queue_init(struct us_sock_queue *q, us_sock_event_fn ev, void *ctx);
void us_sock_opts_init(struct us_sock_opts *o);

/* Queues a copy of data/len from `from`. 0, -ENOSPC when the receive buffer
 * is full, -ENOBUFS when the pools are empty (the caller counts both). The
 * event callback is told the socket is readable. */
int us_sock_queue_push(struct us_stack *s, struct us_sock_queue *q, uint32_t rcvbuf,
		       const struct us_addr *from, const uint8_t *data, size_t len);
/* Takes the oldest datagram: copies up to cap bytes into buf and returns its
 * whole length; from (may be NULL) gets its source. -EAGAIN when empty. */
int us_sock_queue_pop(struct us_stack *s, struct us_sock_queue *q, uint8_t *buf, size_t cap,
		      struct us_addr *from);
/* Frees every datagram waiting. */
void us_sock_queue_flush(struct us_stack *s, struct us_sock_queue *q);

/* Sets the pending error (negative errno) and tells the event callback. */
void us_sock_set_error(struct us_sock_queue *q, int err);
/* The pending error, cleared; 0 when none. */
int us_sock_take_error(struct us_sock_queue *q);
/* US_EV_* bits that hold now (a datagram socket is always writable). */
int us_sock_events(const struct us_sock_queue *q);

/* enum us_sock_opt on o. family: the socket's; bound: V6ONLY can no longer
 * change. 0, -EINVAL (bad value, or too late), -ENOPROTOOPT (V6ONLY on an
 * IPv4 socket, an option the socket does not have). */
int us_sock_setopt(struct us_sock_opts *o, int family, bool bound, enum us_sock_opt opt,
		   int value);
int us_sock_getopt(const struct us_sock_opts *o, int family, enum us_sock_opt opt, int *value);

/* ---- Addresses ------------------------------------------------------------ */

/* ::ffff:a.b.c.d (RFC 4291 §2.5.5.2). */
bool us_sock_is_v4mapped(const struct us_ip6 *a);
void us_sock_v4mapped(uint32_t ip4, struct us_ip6 *out);
/* The IPv4 address a stands for: a US_AF_INET address, or a US_AF_INET6
 * one that is IPv4-mapped. False for anything else. */
bool us_sock_addr_v4(const struct us_addr *a, uint32_t *ip4);
/* True when the destination is an IPv4 broadcast: 255.255.255.255 or a
 * directed broadcast of one of the interfaces' subnets. */
bool us_sock_is_bcast4(const struct us_stack *s, uint32_t dst);
/* True when ip4 may be a socket's local address: 0, one of ours, or a
 * broadcast or multicast address (to receive those). */
bool us_sock_local_ok4(const struct us_stack *s, uint32_t ip4);

/* May a socket take the IPv6 address a (family US_AF_INET6, not IPv4-mapped)
 * as its local address: ::, a multicast address, or a usable address of
 * ours (RFC 4862 §5.4: a tentative one is not yet assigned), on the
 * interface a->scope_id names when it is set. *scope_id gets the zone a
 * link-local address lives in (its interface index + 1; taken from the
 * owner when a names none), else 0. 0, -EINVAL (no such interface) or
 * -EADDRNOTAVAIL. */
int us_sock_local_ok6(struct us_stack *s, const struct us_addr *a, uint32_t *scope_id);

/* ---- Routes ---------------------------------------------------------------- */

/*
 * The interface and source address for an IPv4 datagram to dst, from a
 * socket bound to bound_src (0: any). A bound address that is one of ours
 * is the source; otherwise (any, a broadcast or a multicast address) the
 * route's (RFC 1122 §3.3.4.3). 255.255.255.255 leaves by the interface owning bound_src, else
 * by the first interface with an IPv4 address (it is never routed: RFC 1122
 * §3.2.1.3 (c)). *ifindex is -1 when the route decides. 0 or -ENETUNREACH.
 */
int us_sock_route4(struct us_stack *s, uint32_t bound_src, uint32_t dst, int *ifindex,
		   uint32_t *src);

/*
 * The interface and source address for an IPv6 packet to dst (its scope_id
 * names the interface of a link-local or multicast destination), from a
 * socket bound to bound (NULL or ::: any; its scope_id pins the interface
 * when it is link-local). The source is the bound address, else RFC 6724's
 * choice. 0, -EINVAL (a scope naming no interface), -ENETUNREACH (no route,
 * or one of our own addresses: there is no loopback path),
 * -EADDRNOTAVAIL (no usable source).
 */
int us_sock_route6(struct us_stack *s, const struct us_addr *bound, const struct us_addr *dst,
		   int *ifindex, struct us_ip6 *src);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * ustack/core.h - the sans-I/O core: frames and time in, frames out.
 *
 * The core never calls the operating system. It is handed the current time
 * with every call, a seed for its random source and a secret key at creation,
 * and a transmit callback per interface. Everything it schedules is an
 * absolute deadline; us_stack_next_deadline() says when to call
 * us_stack_poll() again. The core is not thread-safe: src/api/ wraps it with
 * one lock and one thread (see docs/architecture.md).
 *
 * Read first: docs/architecture.md, then src/stack/stack.c.
 */
#ifndef USTACK_CORE_H
#define USTACK_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Time ---------------------------------------------------------------- */

/* Microseconds on a monotonic clock whose origin the caller chooses. */
typedef int64_t us_time_t;

#define US_TIME_NEVER INT64_MAX
#define US_USEC(x) ((us_time_t)(x))
#define US_MSEC(x) ((us_time_t)(x) * 1000)
#define US_SEC(x) ((us_time_t)(x) * 1000000)

/* ---- Addresses ----------------------------------------------------------- */

#define US_ETH_ALEN 6

/* An IPv6 address in network byte order. IPv4 addresses are uint32_t in host
 * byte order throughout the core (198.51.100.2 is 0xc6336402). */
struct us_ip6 {
	uint8_t b[16];
};

/* A socket address: a value type (no pointers), the same for both families.
 * Addresses and ports are in host byte order; ip6 in network order. */
#define US_AF_UNSPEC 0
#define US_AF_INET 2
#define US_AF_INET6 10

struct us_addr {
	int family;        /* US_AF_INET or US_AF_INET6 (US_AF_UNSPEC: none) */
	uint16_t port;
	uint32_t ip4;      /* family US_AF_INET */
	struct us_ip6 ip6; /* family US_AF_INET6 */
	uint32_t scope_id; /* interface index + 1 for link-local IPv6, else 0 */
};

/* "198.51.100.2", "2001:db8:1::2", "fe80::1%1" (scope: interface index) with
 * the given port. 0, or -EINVAL for anything that is not a numeric address. */
int us_addr_parse(const char *text, uint16_t port, struct us_addr *out);
/* "198.51.100.2:7", "[2001:db8:1::2]:7" (port 0: the address alone).
 * Returns the length written (at most US_ADDR_TEXT_MAX - 1), always
 * NUL-terminated when cap > 0. */
#define US_ADDR_TEXT_MAX 64
size_t us_addr_format(const struct us_addr *a, char *buf, size_t cap);

/* ---- Frames -------------------------------------------------------------- */

/*
 * A frame handed to a driver. Offload fields follow the virtio-net header
 * (IFF_VNET_HDR): a plain frame has them all zero. A frame may be larger than
 * the interface MTU only when gso_type is not US_GSO_NONE.
 */
enum us_gso_type {
	US_GSO_NONE = 0,
	US_GSO_TCPV4 = 1,
	US_GSO_UDP = 3,
	US_GSO_TCPV6 = 4,
	US_GSO_UDP_L4 = 5, /* UDP segmentation (USO): datagrams of gso_size each */
};

/*
 * What an interface's link can do for the core (us_iface_config.offloads,
 * as granted by the driver: us_driver.offloads). All zero: plain frames,
 * every checksum computed and verified by the core.
 */
enum us_offload {
	US_OFFLOAD_CSUM = 1,  /* the link completes partial TCP/UDP checksums (TUN_F_CSUM) */
	US_OFFLOAD_TSO4 = 2,  /* the link splits TCP/IPv4 super-frames (TUN_F_TSO4) */
	US_OFFLOAD_TSO6 = 4,  /* the link splits TCP/IPv6 super-frames (TUN_F_TSO6) */
	US_OFFLOAD_USO4 = 8,  /* UDP/IPv4 segmentation (TUN_F_USO4) */
	US_OFFLOAD_USO6 = 16, /* UDP/IPv6 segmentation (TUN_F_USO6) */
};

struct us_frame {
	const uint8_t *data;
	size_t len;
	uint8_t gso_type;      /* enum us_gso_type */
	uint16_t gso_size;     /* payload bytes per segment after splitting */
	uint16_t hdr_len;      /* bytes of headers before the payload */
	bool csum_partial;     /* the driver (or kernel) completes the checksum */
	uint16_t csum_start;   /* offset where checksumming starts */
	uint16_t csum_offset;  /* where to store it, relative to csum_start */
};

/* What a driver knows of a received frame (virtio-net header); all zero for a
 * plain frame. */
struct us_rx_meta {
	bool csum_valid;      /* the kernel vouches for the checksums (DATA_VALID) */
	bool csum_partial;    /* NEEDS_CSUM: complete the checksum at csum_start+csum_offset */
	uint16_t csum_start;
	uint16_t csum_offset;
	uint8_t gso_type;     /* enum us_gso_type: a super-frame of several segments */
	uint16_t gso_size;
	uint16_t hdr_len;
};

/* Returns 0, or a negative errno when the frame was not sent (counted). */
typedef int (*us_transmit_fn)(void *ctx, const struct us_frame *frame);

/* ---- Tracing ------------------------------------------------------------- */

enum us_trace_kind {
	US_TRACE_INFO = 0,  /* an interface or address came up, a config note */
	US_TRACE_DROP = 1,  /* an input frame was dropped; msg says why */
	US_TRACE_STATE = 2, /* a TCP state transition */
	US_TRACE_DEBUG = 3, /* chatty detail */
};

struct us_trace_event {
	us_time_t now;
	enum us_trace_kind kind;
	int ifindex; /* -1 when not about one interface */
	const char *msg;
};

typedef void (*us_trace_fn)(void *ctx, const struct us_trace_event *ev);

/* ---- Echo (ping) from the stack ----------------------------------------- */

/* An ICMP or ICMPv6 echo reply to a request sent with us_stack_ping4/6. */
struct us_echo_reply {
	int family;           /* 4 or 6 */
	uint32_t src4;        /* family 4: who answered */
	struct us_ip6 src6;   /* family 6: who answered */
	uint16_t id, seq;
	uint8_t ttl;          /* TTL or hop limit the reply arrived with */
	const uint8_t *data;  /* the echoed data */
	size_t len;
};

typedef void (*us_echo_fn)(void *ctx, us_time_t now, const struct us_echo_reply *r);

/* ---- The stack ----------------------------------------------------------- */

struct us_stack_config {
	uint64_t seed;       /* seeds the core's random source (the runtime uses getrandom()) */
	uint8_t secret[16];  /* key for RFC 6528 ISNs and SYN cookies */
	/* Frame buffer pools, sized once here: no allocation per packet. 0 picks the default. */
	uint32_t small_bufs; /* buffers of US_PBUF_SMALL bytes, for one MTU-sized frame */
	uint32_t large_bufs; /* buffers of US_PBUF_LARGE bytes, for 64 KB GSO frames */
	us_trace_fn trace;   /* may be NULL */
	void *trace_ctx;
	us_echo_fn on_echo_reply; /* replies to us_stack_ping4/6; may be NULL */
	void *echo_ctx;
	/* IPv6 autoconfiguration (RFC 4862), all on when zero. */
	bool no_dad;         /* skip Duplicate Address Detection */
	bool no_slaac;       /* make no address from RA prefixes (routers and on-link prefixes are still learnt) */
	bool no_router_solicit; /* send no Router Solicitation at start */
	/* TCP (RFC 9293 §3.4.2): the Maximum Segment Lifetime; TIME_WAIT lasts
	 * twice as long. 0 picks US_TCP_DEFAULT_MSL. */
	us_time_t tcp_msl;
	/* Modern TCP (docs/tcp-modern.md), all on when zero; each can also be
	 * switched per socket (US_OPT_WSCALE, US_OPT_TIMESTAMPS, US_OPT_SACK). */
	bool tcp_no_wscale;     /* offer no window scaling (RFC 7323 §2) */
	bool tcp_no_timestamps; /* offer no timestamps, so no PAWS (RFC 7323 §3-5) */
	bool tcp_no_sack;       /* offer no SACK (RFC 2018); loss recovery is NewReno */
	bool tcp_no_syncookies; /* no SYN cookies (RFC 4987 §3.6) when a SYN queue is full */
	/* Explicit Congestion Notification (RFC 3168), off when zero: offer it
	 * on SYNs and accept it on SYN-ACKs (per socket: US_OPT_ECN). */
	bool tcp_ecn;
	int tcp_cc;             /* congestion control: enum us_tcp_cc_algo (0: NewReno) */
};

/* 30 s, so TIME_WAIT lasts 60 s as on Linux. Deviation: RFC 9293 §3.4.2
 * takes MSL to be 2 minutes "for engineering purposes". */
#define US_TCP_DEFAULT_MSL US_SEC(30)

#define US_PBUF_SMALL 2048u
#define US_PBUF_LARGE (65536u + 256u)
#define US_PBUF_HEADROOM 128u

struct us_iface_config {
	char name[16];
	uint8_t mac[US_ETH_ALEN];
	uint32_t mtu; /* IP MTU (1500 on Ethernet); 0 picks 1500 */
	us_transmit_fn transmit;
	void *transmit_ctx;
	/* enum us_offload bits the link takes; 0 (the default): none. With
	 * US_OFFLOAD_CSUM, TCP leaves partial checksums to the link; with
	 * TSO4/TSO6 too, TCP sends super-frames of up to 64 KB. */
	uint32_t offloads;
};

struct us_stack;

/* NULL when cfg is invalid or memory is short. */
struct us_stack *us_stack_new(const struct us_stack_config *cfg);
void us_stack_free(struct us_stack *s);

/* Returns the new interface's index (>= 0) or a negative errno. The
 * interface is up at once: IPv6 gives it a link-local address (and starts
 * Duplicate Address Detection and Router Solicitation) at now. */
int us_stack_add_iface(struct us_stack *s, us_time_t now, const struct us_iface_config *cfg);
int us_stack_iface_count(const struct us_stack *s);
/* The interface's MAC and MTU, or -ENODEV. */
int us_stack_iface_info(const struct us_stack *s, int ifindex, uint8_t mac[US_ETH_ALEN], uint32_t *mtu);

/* Addresses. prefix_len: 0..32 (v4), 0..128 (v6). 0 or a negative errno. */
int us_stack_add_ipv4(struct us_stack *s, us_time_t now, int ifindex, uint32_t addr, int prefix_len);
int us_stack_add_ipv6(struct us_stack *s, us_time_t now, int ifindex, const struct us_ip6 *addr, int prefix_len);

/* IPv6 addresses with their state (RFC 4862 §5.5.4). */
enum us_addr6_state {
	US_ADDR6_TENTATIVE = 0,  /* Duplicate Address Detection running: not yet usable */
	US_ADDR6_PREFERRED = 1,
	US_ADDR6_DEPRECATED = 2, /* preferred lifetime over: kept for existing traffic */
	US_ADDR6_DUPLICATE = 3,  /* DAD found another node using it: never used */
};

struct us_addr6_info {
	struct us_ip6 addr;
	int prefix_len;
	enum us_addr6_state state;
	bool autoconf;             /* made by SLAAC from a Router Advertisement */
	us_time_t valid_until;     /* US_TIME_NEVER for static addresses */
	us_time_t preferred_until;
};

/* Fills up to max entries; returns how many addresses the interface has, or -ENODEV. */
int us_stack_ipv6_addrs(const struct us_stack *s, int ifindex, struct us_addr6_info *out, int max);

/* The IPv4 neighbour (ARP) cache, for tools like `ip neigh`. */
enum us_arp_nstate {
	US_ARP_INCOMPLETE = 0,
	US_ARP_REACHABLE = 1,
	US_ARP_STALE = 2,
	US_ARP_PROBE = 3,
};

struct us_arp_info {
	int ifindex;
	uint32_t ip;
	uint8_t mac[US_ETH_ALEN]; /* zero while INCOMPLETE */
	enum us_arp_nstate state;
	us_time_t expires;	  /* the entry's next deadline */
	uint32_t queued;	  /* packets waiting for resolution */
};

/* Fills up to max entries; returns how many entries there are. */
size_t us_stack_arp_table(const struct us_stack *s, struct us_arp_info *out, size_t max);
/* "INCOMPLETE", "REACHABLE", "STALE", "PROBE". */
const char *us_arp_state_name(enum us_arp_nstate st);

/* IPv4 routes: dst/prefix_len through gateway (0: on-link) on ifindex. A
 * default route is 0.0.0.0/0. Connected routes come with every address. */
int us_stack_add_route4(struct us_stack *s, uint32_t dst, int prefix_len, uint32_t gateway, int ifindex);

/* Sends one echo request from the stack (RFC 792, RFC 4443 §4.1); replies
 * arrive through the config's on_echo_reply. ttl 0 picks the default.
 * 0, or a negative errno (-ENETUNREACH, -EMSGSIZE over 65507 bytes, ...). */
int us_stack_ping4(struct us_stack *s, us_time_t now, uint32_t dst, uint16_t id, uint16_t seq,
		   const uint8_t *data, size_t len, uint8_t ttl);
int us_stack_ping6(struct us_stack *s, us_time_t now, const struct us_ip6 *dst, uint16_t id,
		   uint16_t seq, const uint8_t *data, size_t len, uint8_t hop_limit);

/* ---- Sockets inside the core ------------------------------------------- */

/*
 * The core's endpoints: UDP (udp.c) and raw IP (raw.c). They are
 * non-blocking and not thread-safe, like everything in the core; the runtime
 * (src/api/socket.c) builds the blocking, thread-safe socket API on them.
 * Received data waits in bounded queues inside the core (buffers from its
 * pools, counted against the socket's receive buffer size); the event
 * callback says when a socket becomes readable, writable or gets an error,
 * and is called with the core's lock held: it must not call back into the
 * core.
 */
enum us_sock_events {
	US_EV_READABLE = 1, /* a datagram (or an error) waits; TCP: data, end of
			     * stream, or a connection to accept */
	US_EV_WRITABLE = 2, /* TCP: connected, and room in the send buffer */
	US_EV_ERROR = 4,    /* a pending error (ICMP port unreachable, ...) */
	US_EV_HUP = 8,      /* TCP: the connection is over both ways */
};
typedef void (*us_sock_event_fn)(void *ctx, int events);

/* Options the core keeps per socket. */
enum us_sock_opt {
	US_OPT_REUSEADDR, /* bind to a port others (not listening or connected) hold */
	US_OPT_BROADCAST, /* may send to broadcast addresses (else -EACCES) */
	US_OPT_RCVBUF,    /* bytes of received data that may wait (bounded, >= 256) */
	US_OPT_SNDBUF,    /* recorded (datagrams are not queued for sending) */
	US_OPT_TTL,       /* IPv4 TTL / IPv6 unicast hop limit; 0: the default */
	US_OPT_TOS,       /* IPv4 TOS / IPv6 traffic class */
	US_OPT_V6ONLY,    /* an IPv6 socket takes no IPv4 (default: dual stack, off) */
	/* TCP only (-ENOPROTOOPT elsewhere). */
	US_OPT_NODELAY,   /* 1: no Nagle algorithm (RFC 1122 §4.2.3.4) */
	US_OPT_KEEPALIVE, /* 1: keep-alive probes (RFC 1122 §4.2.3.6) */
	US_OPT_KEEPIDLE,  /* seconds idle before the first probe (7200) */
	US_OPT_KEEPINTVL, /* seconds between probes (75) */
	US_OPT_KEEPCNT,   /* unanswered probes before the connection fails (9) */
	US_OPT_LINGER,    /* -1: off; 0: close() aborts with RST; n > 0: seconds
			   * (the runtime waits; the core closes gracefully) */
	/* TCP, before connect() or listen() (the SYN carries them): offer the
	 * option, 1 (the stack's default, see us_stack_config) or 0. */
	US_OPT_WSCALE,     /* window scaling (RFC 7323 §2) */
	US_OPT_TIMESTAMPS, /* timestamps and PAWS (RFC 7323 §3-5) */
	US_OPT_SACK,       /* selective acknowledgments (RFC 2018, RFC 6675) */
	/* TCP, a listener: answer SYNs with SYN cookies (RFC 4987 §3.6) when
	 * its SYN queue is full, 1 (the stack's default) or 0 (then the
	 * oldest half-open connection is dropped for the new one, §3.4). */
	US_OPT_SYNCOOKIES,
	/* TCP, at any time: the congestion control, enum us_tcp_cc_algo. */
	US_OPT_CONGESTION,
	/* TCP, before connect() or listen(): negotiate ECN (RFC 3168 §6.1.1),
	 * 1 or 0 (the stack's default, us_stack_config.tcp_ecn: off). */
	US_OPT_ECN,
};

/* Congestion control algorithms (docs/tcp-modern.md). */
enum us_tcp_cc_algo {
	US_TCP_CC_NEWRENO = 0, /* RFC 5681, RFC 6582 */
	US_TCP_CC_CUBIC = 1,   /* RFC 9438, with HyStart++ (RFC 9406) */
};

struct us_udp;
struct us_raw;

/* UDP (RFC 768, RFC 1122 §4.1). family: US_AF_INET or US_AF_INET6. NULL
 * with *err a negative errno. */
struct us_udp *us_udp_open(struct us_stack *s, int family, us_sock_event_fn ev, void *ctx, int *err);
/* Drops queued datagrams and the port. */
void us_udp_close(struct us_udp *u);
/* port 0 picks an ephemeral port (RFC 6056). -EADDRINUSE, -EADDRNOTAVAIL,
 * -EINVAL (already bound, wrong family). */
int us_udp_bind(struct us_udp *u, const struct us_addr *local);
/* Fixes the peer (input from others is dropped, counted); binds first when
 * needed. A family of US_AF_UNSPEC dissolves the association. */
int us_udp_connect(struct us_udp *u, const struct us_addr *remote);
/* to NULL: the connected peer (-EDESTADDRREQ when none). -EMSGSIZE over
 * 65507 bytes (IPv4) / 65527 (IPv6), -EACCES for broadcast without
 * US_OPT_BROADCAST, -ENETUNREACH, -ENOBUFS. Larger than the MTU: fragmented. */
int us_udp_sendto(struct us_udp *u, us_time_t now, const struct us_addr *to, const uint8_t *data,
		  size_t len);
/* The next datagram: copies up to cap bytes, returns its full length (larger
 * than cap when truncated) and fills from; -EAGAIN when none waits; a pending
 * error (-ECONNREFUSED) is returned once, before data. */
int us_udp_recvfrom(struct us_udp *u, uint8_t *buf, size_t cap, struct us_addr *from);
/* US_EV_* bits that hold now. */
int us_udp_events(const struct us_udp *u);
int us_udp_setopt(struct us_udp *u, enum us_sock_opt opt, int value);
int us_udp_getopt(const struct us_udp *u, enum us_sock_opt opt, int *value);
int us_udp_local(const struct us_udp *u, struct us_addr *out);
int us_udp_remote(const struct us_udp *u, struct us_addr *out); /* -ENOTCONN */

/* Raw IP: receives a copy of every packet of protocol proto addressed to us
 * (IPv4: from the IP header on, as Linux does; IPv6: the payload only, RFC
 * 3542 §3); sends a payload for which the stack builds the IP header (and
 * for ICMPv6 the checksum, RFC 3542 §3.1). */
struct us_raw *us_raw_open(struct us_stack *s, int family, int proto, us_sock_event_fn ev, void *ctx,
			   int *err);
void us_raw_close(struct us_raw *r);
int us_raw_bind(struct us_raw *r, const struct us_addr *local);      /* port ignored */
int us_raw_connect(struct us_raw *r, const struct us_addr *remote);  /* filters input */
int us_raw_sendto(struct us_raw *r, us_time_t now, const struct us_addr *to, const uint8_t *data,
		  size_t len);
int us_raw_recvfrom(struct us_raw *r, uint8_t *buf, size_t cap, struct us_addr *from);
int us_raw_events(const struct us_raw *r);
int us_raw_setopt(struct us_raw *r, enum us_sock_opt opt, int value);
int us_raw_getopt(const struct us_raw *r, enum us_sock_opt opt, int *value);
int us_raw_local(const struct us_raw *r, struct us_addr *out);

/* ---- TCP inside the core (tcp*.c) ------------------------------------------- */

/* The states of RFC 9293 §3.3.2, numbered as the socket module's
 * getsocketsta() reports them: the numbers are a contract. */
enum us_tcp_state {
	US_TCP_CLOSED = 0,
	US_TCP_LISTEN = 1,
	US_TCP_SYN_SENT = 2,
	US_TCP_SYN_RCVD = 3,
	US_TCP_ESTABLISHED = 4,
	US_TCP_FIN_WAIT_1 = 5,
	US_TCP_FIN_WAIT_2 = 6,
	US_TCP_CLOSE_WAIT = 7,
	US_TCP_CLOSING = 8,
	US_TCP_LAST_ACK = 9,
	US_TCP_TIME_WAIT = 10,
};
#define US_TCP_NSTATES 11

/* "CLOSED", "LISTEN", "SYN_SENT", ... "TIME_WAIT"; "?" out of range. */
const char *us_tcp_state_name(int state);

struct us_tcp;

/*
 * A TCP endpoint (RFC 9293 §3.10 "Event Processing": these calls are its
 * user calls). Like UDP's, the calls never block: -EAGAIN says "not now",
 * and the event callback says when to look again. The callback also fires
 * on every state change. family: US_AF_INET or US_AF_INET6 (dual stack
 * unless US_OPT_V6ONLY). NULL with *err a negative errno (-ENOBUFS beyond
 * the core's connection limit).
 */
struct us_tcp *us_tcp_open(struct us_stack *s, int family, us_sock_event_fn ev, void *ctx,
			   int *err);
/* port 0 picks an ephemeral port (RFC 6056). -EADDRINUSE (see
 * US_OPT_REUSEADDR), -EADDRNOTAVAIL, -EINVAL (already bound, not CLOSED). */
int us_tcp_bind(struct us_tcp *t, const struct us_addr *local);
/* Passive OPEN (binds to an ephemeral port first when unbound). backlog:
 * connections completed and not yet accepted that may wait (clamped to
 * 1..US_TCP_MAX_BACKLOG; a listener may be given a new backlog). -EINVAL
 * when the endpoint is not CLOSED or LISTEN. */
int us_tcp_listen(struct us_tcp *t, us_time_t now, int backlog);
/* The oldest connection completed on listener l, now the caller's, with
 * its event callback; peer (may be NULL) gets its address. NULL with *err:
 * -EAGAIN (none waits), -EINVAL (not listening). */
struct us_tcp *us_tcp_accept(struct us_tcp *l, us_sock_event_fn ev, void *ctx,
			     struct us_addr *peer, int *err);
/* Active OPEN: sends the SYN and returns -EINPROGRESS; completion shows as
 * US_EV_WRITABLE (ESTABLISHED) or US_EV_ERROR (-ECONNREFUSED, -ETIMEDOUT,
 * -EHOSTUNREACH ... from us_tcp_take_error). -EALREADY (SYN_SENT),
 * -EISCONN (connected), -EINVAL (listening), -EADDRNOTAVAIL (no port, or
 * the 4-tuple is taken), -ENETUNREACH, -EAFNOSUPPORT. */
int us_tcp_connect(struct us_tcp *t, us_time_t now, const struct us_addr *remote);
/* SEND: queues up to len bytes; returns how many (short when the send
 * buffer fills). Data queued in SYN_SENT or SYN_RCVD leaves once
 * established (RFC 9293 §3.10.2). -EAGAIN (buffer full), -EPIPE (after
 * shutdown(SHUT_WR) or close, or the connection is over), -ENOTCONN
 * (CLOSED, LISTEN), or a pending error (once). */
int us_tcp_send(struct us_tcp *t, us_time_t now, const uint8_t *data, size_t len);
/* RECEIVE: up to cap bytes in order; 0 at end of stream (the peer's FIN,
 * after all data), -EAGAIN (nothing yet), -ENOTCONN (CLOSED never
 * connected, LISTEN), or a pending error once (-ECONNRESET, -ETIMEDOUT).
 * Reading opens the receive window again (RFC 1122 §4.2.3.3). */
int us_tcp_recv(struct us_tcp *t, us_time_t now, uint8_t *buf, size_t cap);
/* Bytes that us_tcp_recv() would return now without blocking. */
size_t us_tcp_readable(const struct us_tcp *t);
/* RECEIVE without the copy: *data points at the oldest bytes waiting, in
 * place in the receive buffer, and the count of those that lie there in
 * one piece is returned (the rest follows once they are consumed; the
 * buffer is a ring). 0 when none waits: us_tcp_recv() says why. *data is
 * valid until the next call into the core. */
size_t us_tcp_peek(const struct us_tcp *t, const uint8_t **data);
/* Takes the first n bytes waiting (at most us_tcp_readable()) as
 * us_tcp_recv() would, without copying them: the window opens. The count
 * taken, or -EINVAL. */
int us_tcp_consume(struct us_tcp *t, us_time_t now, size_t n);
/* how: 0 (SHUT_RD: discard what arrives), 1 (SHUT_WR: FIN after the queued
 * data), 2 (both). -ENOTCONN when not connected, -EINVAL for a bad how. */
int us_tcp_shutdown(struct us_tcp *t, us_time_t now, int how);
/* CLOSE (RFC 9293 §3.10.4): the endpoint is the core's from here on (the
 * pointer is dead) and finishes on its own: queued data and a FIN leave,
 * then FIN_WAIT_2 / TIME_WAIT run out. Unread received data, or
 * US_OPT_LINGER 0, make it an ABORT instead (RFC 1122 §4.2.2.13: RST). A
 * listener resets the connections waiting to be accepted. */
void us_tcp_close(struct us_tcp *t, us_time_t now);
/* ABORT (RFC 9293 §3.10.5): RST to the peer when synchronized, then
 * CLOSED; the pointer is dead. */
void us_tcp_abort(struct us_tcp *t, us_time_t now);
/* enum us_tcp_state. */
int us_tcp_state(const struct us_tcp *t);
/* US_EV_* bits that hold now. */
int us_tcp_events(const struct us_tcp *t);
/* The pending error, cleared; 0 when none. */
int us_tcp_take_error(struct us_tcp *t);
/* enum us_sock_opt: REUSEADDR, RCVBUF, SNDBUF (before the connection is
 * established), TTL, TOS, V6ONLY and the TCP ones. -ENOPROTOOPT for
 * BROADCAST. */
int us_tcp_setopt(struct us_tcp *t, enum us_sock_opt opt, int value);
int us_tcp_getopt(const struct us_tcp *t, enum us_sock_opt opt, int *value);
int us_tcp_local(const struct us_tcp *t, struct us_addr *out);
int us_tcp_remote(const struct us_tcp *t, struct us_addr *out); /* -ENOTCONN */

#define US_TCP_MAX_BACKLOG 4096

/* What `ss -ti` shows of one connection. */
struct us_tcp_info {
	int state;              /* enum us_tcp_state */
	int family;
	struct us_addr local, remote;
	bool orphan;            /* closed by its owner, finishing alone */
	bool listener_child;    /* waiting in a listener's queues, not accepted */
	uint32_t snd_queued;    /* bytes written and not yet acknowledged */
	uint32_t rcv_queued;    /* bytes received and not yet read */
	uint32_t mss;           /* the send MSS in use */
	uint32_t cwnd, ssthresh;/* bytes */
	uint32_t snd_wnd, rcv_wnd;
	us_time_t srtt_us, rttvar_us, rto_us;
	uint32_t retransmits;   /* segments sent again, all told */
	uint32_t backoff;       /* consecutive timeouts now */
	/* Added by the modern TCP issue (docs/tcp-modern.md). */
	bool wscale_ok;         /* window scaling negotiated (RFC 7323 §2) */
	uint8_t snd_wscale;     /* the peer's shift: its windows are scaled by it */
	uint8_t rcv_wscale;     /* ours */
	bool ts_ok;             /* timestamps negotiated (RFC 7323 §3) */
	bool sack_ok;           /* SACK negotiated (RFC 2018) */
	bool in_recovery;       /* fast recovery (SACK-based or NewReno) */
	uint32_t bytes_in_flight; /* SND.MAX - SND.UNA */
	uint32_t pipe;          /* RFC 6675 pipe (bytes), while in SACK recovery */
	uint32_t sacked_bytes;  /* bytes the scoreboard holds as SACKed */
	uint64_t sack_blocks_rcvd; /* SACK blocks that arrived (D-SACK included) */
	uint64_t dsacks_rcvd;   /* of those, D-SACK blocks (RFC 2883) */
	uint64_t sack_blocks_sent;
	uint64_t fast_recoveries; /* entries into fast recovery */
	uint64_t rto_timeouts;  /* retransmission timeouts, all told */
	uint64_t paws_drops;    /* segments dropped by PAWS (RFC 7323 §5) */
	uint32_t ts_recent;     /* TS.Recent */
	uint64_t tlp_probes;    /* loss probes sent (RFC 8985 §7) */
	uint64_t tlp_recoveries; /* fast recoveries a probe's SACK started */
	int cc;                 /* enum us_tcp_cc_algo */
	bool cwnd_validated;    /* RFC 7661: false in the non-validated phase */
	uint32_t pipeack;       /* RFC 7661 pipeACK, bytes (0: not measured) */
	/* ECN (RFC 3168, docs/tcp-modern.md). */
	bool ecn_ok;            /* negotiated: data leaves ECT(0) */
	uint64_t ecn_ce_rcvd;   /* data segments that arrived with CE */
	uint64_t ecn_reductions; /* cwnd reductions for an ECN-Echo */
	/* CUBIC (RFC 9438 §4), 0 under NewReno: W_max, the window before the
	 * last reduction (after fast convergence, §4.7), bytes; K, the time
	 * W_cubic(t) takes to grow back to it (§4.2). */
	uint32_t cubic_w_max;
	us_time_t cubic_k_us;
};
int us_tcp_get_info(const struct us_tcp *t, struct us_tcp_info *out);
/* Every TCP endpoint of the stack, orphans and TIME_WAIT included (the
 * order is unspecified). Fills up to max; returns how many there are. */
size_t us_stack_tcp_table(const struct us_stack *s, struct us_tcp_info *out, size_t max);

/*
 * Hand one received frame (starting at the Ethernet header) to the core.
 * The core copies what it keeps; frame is the caller's again on return.
 * Returns 0 when the frame was taken, or a negative errno when it was dropped
 * (always counted, and reported through the trace hook).
 */
int us_stack_input(struct us_stack *s, us_time_t now, int ifindex, const uint8_t *frame, size_t len);

/*
 * The same, with what the link knows of the frame (a virtio-net header,
 * decoded by the driver); meta may be NULL (a plain frame). csum_valid or
 * csum_partial: TCP and UDP take the checksum as the kernel vouches for it
 * (the frame came from the local kernel) and do not verify it. gso_type
 * TCPV4/TCPV6: a super-frame of several segments, taken whole as one TCP
 * segment (its IP length field holds the full length). UDP_L4: split into
 * datagrams of gso_size bytes each.
 */
int us_stack_input_meta(struct us_stack *s, us_time_t now, int ifindex, const uint8_t *frame,
			size_t len, const struct us_rx_meta *meta);

/*
 * A batch of frames read from the link in one go (a driver's queue drained
 * at once, as a NIC's interrupt would): call us_stack_batch_begin(), then
 * us_stack_input() or us_stack_input_meta() for each frame, then
 * us_stack_batch_end() at the time the batch ends. In between, TCP does
 * not send the ACK that every second full-sized segment asks for (RFC 5681
 * §4.2): each connection sends one ACK for all the in-order data of the
 * batch at its end (at most 64 KB, or half the receive buffer, unacknowledged
 * before it acknowledges at once), as Linux's GRO does. Out-of-order data,
 * a segment filling a gap, a FIN and every other immediate ACK still leave
 * at once. Without these calls, every frame is a batch of its own. Other
 * core calls may come between the frames of a batch.
 */
void us_stack_batch_begin(struct us_stack *s);
void us_stack_batch_end(struct us_stack *s, us_time_t now);

/* Fire every deadline that is due at now. */
void us_stack_poll(struct us_stack *s, us_time_t now);

/* The earliest pending deadline, or US_TIME_NEVER. */
us_time_t us_stack_next_deadline(const struct us_stack *s);

/* For a link that queues frames and writes them after transmit returned
 * (the runtime's transmit queue): n frames transmit took could not be
 * written. They count as eth.tx_errors and no longer as eth.out_frames,
 * as if transmit had failed. */
void us_stack_tx_failed(struct us_stack *s, uint64_t n);

/* Buffers currently taken from the pools: 0 when the core is idle (leak check). */
uint32_t us_stack_pbufs_in_use(const struct us_stack *s);

/* Counters, like `netstat -s`: a stable name and a value for each. */
struct us_counter {
	const char *name;
	uint64_t value;
};
/* Fills up to max entries; returns how many counters there are in all. */
size_t us_stack_counters(const struct us_stack *s, struct us_counter *out, size_t max);
/* One counter by name; 0 when there is no such counter. */
uint64_t us_stack_counter(const struct us_stack *s, const char *name);

#ifdef __cplusplus
}
#endif
#endif

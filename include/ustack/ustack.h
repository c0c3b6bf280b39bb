/* SPDX-License-Identifier: MIT */
/*
 * ustack/ustack.h - the public API: the runtime that owns a core and drives
 * it from one thread (and, from the socket API issue on, the sockets).
 *
 * The runtime is thread-safe; the core is not. All calls into the core are
 * made with the runtime's one core lock held ("only one thread in the core
 * at a time", as lwIP puts it). The clock and the driver are parameters:
 * by default the monotonic clock and a TAP device; tests pass a virtual clock
 * and an in-memory link, and then nothing depends on real time.
 */
#ifndef USTACK_USTACK_H
#define USTACK_USTACK_H

#include <stdio.h>
#include <sys/types.h>

#include <ustack/core.h>
#include <ustack/driver.h>

#ifdef __cplusplus
extern "C" {
#endif

struct us_clock {
	/* The current time; NULL means CLOCK_MONOTONIC. */
	us_time_t (*now)(void *ctx);
	void *ctx;
	/* A virtual clock moves only when its owner moves it: the runtime then
	 * never sleeps on a deadline but waits for us_runtime_wake(). */
	bool is_virtual;
};

/* One line of a hosts table: a name and one of its addresses. */
struct us_host_entry {
	const char *name;
	struct us_addr addr;
};

struct us_runtime_config {
	/* The link. With ops NULL the runtime opens (or creates) the TAP device
	 * tap_name. The runtime owns the driver from the call on: it closes it at
	 * stop, or at once when the start fails. */
	struct us_driver driver;
	const char *tap_name;
	/* Ask the link for offloads (docs/performance.md): the TAP device is
	 * opened with a virtio-net header (us_tap_options.vnet_hdr), and the
	 * interface takes what the driver granted (us_driver.offloads; a
	 * driver given in `driver` is taken at its word). false (the
	 * default): plain frames. */
	bool offloads;
	/* Busy polling, for latency (docs/performance.md; Linux's
	 * net.core.busy_poll): for up to this many microseconds after the last
	 * frame received or sent, the stack thread keeps reading the driver
	 * instead of sleeping, and a socket call that would wait spins first
	 * (reading the driver itself when no other thread does) before it
	 * sleeps (at most one call per runtime spins). Costs CPU: up to two
	 * threads spinning while traffic flows, and up to this long after
	 * each burst; nothing once the link has been quiet for this long. It
	 * serves small request/response exchanges; a flood of datagrams to
	 * one reader is received slower with it. 0 (the default):
	 * off, every wait sleeps at once. At most 1000000; more is EINVAL.
	 * The driver's recv is then called from socket calls' threads too,
	 * never two at once. */
	uint32_t busy_poll_us;

	uint8_t mac[US_ETH_ALEN];   /* the stack's MAC; all zero picks a random locally administered one */
	uint32_t mtu;               /* 0: the driver's */
	uint32_t ipv4;              /* host order; 0: none */
	int ipv4_prefix;
	uint32_t ipv4_gateway;      /* default route through it; 0: none */
	bool has_ipv6;
	struct us_ip6 ipv6;
	int ipv6_prefix;

	const char *pcap_path;      /* capture of every frame in and out, or NULL */

	/* Name resolution for us_getaddrinfo(): a hosts table (copied at
	 * start), then DNS to dns_server (family US_AF_UNSPEC: no DNS). */
	const struct us_host_entry *hosts;
	size_t n_hosts;
	struct us_addr dns_server;  /* port 0 means 53 */
	double dns_timeout;         /* seconds per try; 0: 2 s */
	int dns_tries;              /* 0: 3 */
	struct us_clock clock;

	/* Pools and trace hook for the core. Its seed and secret are drawn with
	 * getrandom() unless fixed_seed is set (tests, reproducible runs). */
	struct us_stack_config stack;
	bool fixed_seed;
};

struct us_runtime;

/* Starts the stack thread. NULL on failure with *err a negative errno (err may be NULL). */
struct us_runtime *us_runtime_start(const struct us_runtime_config *cfg, int *err);

/* Stops the thread, flushes and closes the capture, closes the driver, frees
 * everything. Blocked calls wake with an error. NULL is a no-op; so is a
 * call from rt's own event callbacks, which sets errno to EDEADLK. */
void us_runtime_stop(struct us_runtime *rt);

/* Tells the stack thread to look at the clock again: after moving a
 * virtual clock, or to have a new deadline noticed. */
void us_runtime_wake(struct us_runtime *rt);

/* The runtime's clock. */
us_time_t us_runtime_now(const struct us_runtime *rt);

/* Runs fn with the core lock held: the one way for other threads to look
 * into the core (counters, tables). fn must not block. */
void us_runtime_with_core(struct us_runtime *rt,
			  void (*fn)(struct us_stack *s, us_time_t now, void *arg), void *arg);

/* The interface index of the runtime's link in its core (0). */
int us_runtime_ifindex(const struct us_runtime *rt);

/* The offloads (enum us_offload bits) the runtime's interface uses: what
 * the driver granted when us_runtime_config.offloads asked, else 0. */
uint32_t us_runtime_offloads(const struct us_runtime *rt);

/* The process's default runtime, used when a call is given NULL: the first
 * one started, until it stops or another is made the default. */
void us_runtime_set_default(struct us_runtime *rt);
struct us_runtime *us_runtime_default(void);

/* ===== Sockets ==========================================================
 *
 * The socket module of ../shared/spec/socket-api.md, in C. Every call
 * returns -1 (or NULL) and sets errno on failure, with the value a CPython
 * OSError would carry. Handles are small non-negative ints that stay safe
 * after close: any call on a closed handle fails with EBADF and
 * us_getsocketsta() returns -1; a handle is never reused for a newer socket
 * (a generation count is part of it). The calls are thread-safe: several
 * threads may use several sockets, and one socket, at once.
 *
 * Blocking follows the socket's timeout (us_settimeout): US_TIMEOUT_NONE
 * blocks, 0 is non-blocking (EAGAIN), a positive value ends in ETIMEDOUT,
 * measured on the runtime's clock (a virtual clock too). Stopping the
 * runtime wakes every blocked call with ENETDOWN.
 */

/* Constants: the Linux values, so that numbers in traces look familiar. */
#define US_SOCK_STREAM 1
#define US_SOCK_DGRAM 2
#define US_SOCK_RAW 3

#ifndef US_IPPROTO_IP
#define US_IPPROTO_IP 0
#endif
#ifndef US_IPPROTO_ICMP
#define US_IPPROTO_ICMP 1
#endif
#ifndef US_IPPROTO_TCP
#define US_IPPROTO_TCP 6
#endif
#ifndef US_IPPROTO_UDP
#define US_IPPROTO_UDP 17
#endif
#ifndef US_IPPROTO_IPV6
#define US_IPPROTO_IPV6 41
#endif
#ifndef US_IPPROTO_ICMPV6
#define US_IPPROTO_ICMPV6 58
#endif

#define US_SOL_SOCKET 1
#define US_SO_TYPE 3
#define US_SO_ERROR 4
#define US_SO_REUSEADDR 2
#define US_SO_BROADCAST 6
#define US_SO_SNDBUF 7
#define US_SO_RCVBUF 8
#define US_SO_KEEPALIVE 9
#define US_SO_LINGER 13
#define US_IP_TOS 1          /* level US_IPPROTO_IP */
#define US_IP_TTL 2          /* level US_IPPROTO_IP */
#define US_IPV6_UNICAST_HOPS 16 /* level US_IPPROTO_IPV6 */
#define US_IPV6_V6ONLY 26    /* level US_IPPROTO_IPV6 */
#define US_TCP_NODELAY 1     /* level US_IPPROTO_TCP */
#define US_TCP_KEEPIDLE 4
#define US_TCP_KEEPINTVL 5
#define US_TCP_KEEPCNT 6
#define US_TCP_INFO 11       /* getsockopt only: a struct us_tcp_info (ustack/core.h) */
#define US_TCP_CONGESTION 13 /* an int here (Linux: a name): enum us_tcp_cc_algo */
/* ustack's own (Linux has sysctls for them): before connect() or
 * listen(), offer the option on the SYN, 1 (the default) or 0
 * (docs/tcp-modern.md). */
#define US_TCP_SACK_ENABLE 0x7501
#define US_TCP_TIMESTAMPS_ENABLE 0x7502
#define US_TCP_WSCALE_ENABLE 0x7503
/* Negotiate ECN (RFC 3168): 0 (the default) or 1, before connect() or
 * listen(). */
#define US_TCP_ECN_ENABLE 0x7504

#define US_SHUT_RD 0
#define US_SHUT_WR 1
#define US_SHUT_RDWR 2

/* us_settimeout(s, US_TIMEOUT_NONE): block (Python's None). */
#define US_TIMEOUT_NONE (-1.0)

/* TCP states returned by us_getsocketsta(): enum us_tcp_state in
 * ustack/core.h (US_TCP_CLOSED = 0 ... US_TCP_TIME_WAIT = 10). */

/* socket(af=AF_INET, type=SOCK_STREAM, proto=0): rt NULL is the default
 * runtime; proto 0 picks the type's protocol (SOCK_STREAM: TCP,
 * SOCK_DGRAM: UDP). EAFNOSUPPORT, EPROTONOSUPPORT (a type/protocol
 * mismatch), ESOCKTNOSUPPORT (unknown type), EMFILE (no free handle),
 * ENOBUFS (the core's socket limit), ENOMEM, ENETDOWN.
 *
 * Stream sockets (TCP): bytes in order. recv and recvfrom return what has
 * come (at least a byte; 0 at end of stream); read, readinto and readline
 * wait for all they were asked and stop short only at end of stream; a
 * read whose wait ends after part of the data came returns the part, and
 * an error met after it is the next call's: no byte is lost. send may be
 * short; write and sendall wait until everything is queued. Calls in the
 * wrong state: ENOTCONN (data before connect), EINVAL (accept on a
 * non-listener, listen on a connection, connect on a listener), EISCONN
 * (sendto, connect on a connected socket).
 *
 * Datagram sockets: every send is one datagram, whole or not at all (never
 * short); recv, recvfrom, read and readinto take one datagram, cut to the
 * buffer (the rest of it is discarded); readline stops at the first '\n' of
 * one datagram; to and from may not be NULL (EFAULT). */
int us_socket(struct us_runtime *rt, int af, int type, int proto);
/* Releases the socket; its handle is dead from here on. Stream: a graceful
 * close that the core finishes alone; a RST when received data is unread
 * or with SO_LINGER {1, 0}; with SO_LINGER {1, n} it waits up to n seconds
 * for the peer to acknowledge everything. */
int us_close(int s);
int us_bind(int s, const struct us_addr *local);
/* Datagram: fixes the peer. Stream: connects; blocking, waits for the
 * handshake (ECONNREFUSED, ETIMEDOUT, ...; a timeout aborts the attempt);
 * EINPROGRESS when non-blocking, completion through us_poll (POLLOUT,
 * POLLERR) and SO_ERROR; EALREADY while it runs, EISCONN once connected. */
int us_connect(int s, const struct us_addr *remote);
/* Stream only (EOPNOTSUPP otherwise): backlog < 0 counts as 0. */
int us_listen(int s, int backlog);
/* The new connection's handle (same runtime; blocking); peer (may be NULL)
 * gets the client's address. Blocks as the listener's timeout says. */
int us_accept(int s, struct us_addr *peer);

ssize_t us_send(int s, const void *buf, size_t len);
/* Stream: EISCONN (connected) or ENOTCONN: a stream has one peer. */
ssize_t us_sendto(int s, const void *buf, size_t len, const struct us_addr *to);
/* Sends everything: 0 once all of it is queued. Non-blocking (or on a
 * timeout): -1 with EAGAIN (ETIMEDOUT) and *sent says how much went, so no
 * byte is lost or sent twice. sent may be NULL. */
int us_sendall(int s, const void *buf, size_t len, size_t *sent);
/* Never short on a blocking socket; what was sent on a non-blocking one. */
ssize_t us_write(int s, const void *buf, size_t len);

ssize_t us_recv(int s, void *buf, size_t len);
ssize_t us_recvfrom(int s, void *buf, size_t len, struct us_addr *from);
/* Blocking: size bytes, fewer only at end of stream (datagrams: one). On a
 * timeout after part of the data came, that part is returned. */
ssize_t us_read(int s, void *buf, size_t size);
/* read() without a size: everything until end of stream into a malloc'd
 * *buf (free() it); on a timeout after part came, 0 with the part.
 * Datagrams: the next datagram whole. */
int us_readall(int s, uint8_t **buf, size_t *len);
/* At most nbytes (0: buflen) into buf; the count read. */
ssize_t us_readinto(int s, void *buf, size_t buflen, size_t nbytes);
/* One line up to and including '\n', at most cap - 1 bytes, NUL-terminated;
 * its length (0 at end of stream). Stream: byte-exact, nothing past the
 * '\n' is taken from the stream. */
ssize_t us_readline(int s, char *buf, size_t cap);

/* value/len as in setsockopt(2): an int, or a buffer (struct linger for
 * US_SO_LINGER). ENOPROTOOPT for an unknown level or option, EINVAL for a
 * wrong size or value. us_setsockopt_int() is the integer form. */
int us_setsockopt(int s, int level, int opt, const void *value, size_t len);
int us_setsockopt_int(int s, int level, int opt, int value);
int us_getsockopt(int s, int level, int opt, void *value, size_t *len);

/* seconds >= 0, or US_TIMEOUT_NONE; NaN and other negatives: EINVAL. */
int us_settimeout(int s, double seconds);
int us_gettimeout(int s, double *seconds);
int us_setblocking(int s, bool blocking);

/* A stdio stream on the socket: "rb" or "wb" (EINVAL otherwise). Closing
 * the FILE does not close the socket. Stream sockets: fully buffered both
 * ways ("wb" sends on fflush/fclose or a full buffer). */
FILE *us_makefile(int s, const char *mode);

/* The TCP state (enum us_tcp_state), live; 0 for other sockets (and once
 * the runtime stopped); -1 (EBADF) after close. */
int us_getsocketsta(int s);

int us_shutdown(int s, int how);
int us_getsockname(int s, struct us_addr *a);
int us_getpeername(int s, struct us_addr *a);

/* poll(2) over sockets. timeout_ms < 0 blocks; measured on the runtime's
 * clock. Returns how many have revents, 0 on timeout. A closed handle gets
 * US_POLLNVAL. */
#define US_POLLIN 0x001
#define US_POLLOUT 0x004
#define US_POLLERR 0x008
#define US_POLLHUP 0x010
#define US_POLLNVAL 0x020
struct us_pollfd {
	int sock;
	short events;
	short revents;
};
int us_poll(struct us_pollfd *fds, size_t n, int timeout_ms);

/*
 * Event callbacks: the application's code on the stack thread, as lwIP's
 * raw API runs it (tcp_recv(), tcp_accept()), beside the blocking calls.
 * A socket with a callback has it called, on the runtime's stack thread,
 * once after each batch of work (frames received, timers run) in which
 * the core reported something for the socket: data or end of stream, a
 * connection to accept, room to send, an error, a state change. events
 * are the socket's us_poll() bits at that moment (US_POLLIN, US_POLLOUT,
 * US_POLLERR, US_POLLHUP); with none, it is not called. It is not called
 * again until the core reports something new: read until EAGAIN (as with
 * an edge-triggered epoll).
 *
 * Inside a callback every socket call of the same runtime works as on a
 * non-blocking socket (what would wait fails with EAGAIN; a lingering
 * close does not wait), without taking a lock or waking a thread: the
 * frames it sends leave when the stack thread finishes the batch. A call
 * on a socket of another runtime fails with EDEADLK (us_poll() reports
 * it as US_POLLERR | US_POLLHUP). A callback must not
 * block, nor call us_runtime_stop() or us_getaddrinfo() (which waits for
 * an answer). It may close its socket, accept, and set callbacks.
 *
 * fn NULL removes the callback: once us_socket_callback() returns, it is
 * not running and will not run. Setting one on a socket that is readable
 * or writable already has it called soon (a connection just accepted may
 * hold data). A new connection from us_accept() has no callback.
 * EBADF, ENETDOWN, EDEADLK.
 */
typedef void (*us_socket_cb)(int s, int events, void *arg);
int us_socket_callback(int s, us_socket_cb fn, void *arg);

/* Zero-copy reads of a stream, in an event callback only (EINVAL
 * elsewhere; EOPNOTSUPP on other sockets): *data points at the oldest
 * bytes received, in place in the socket's buffer, and the count lying
 * there in one piece is returned: 0 when none waits (then us_recv() says
 * why: end of stream, EAGAIN, an error). *data stays valid until the
 * callback returns or calls into the socket API again. us_recv_consume()
 * then takes n of them (at most what us_recv_peek() returned), as a
 * us_recv() of n bytes would, without copying them. */
ssize_t us_recv_peek(int s, const void **data);
int us_recv_consume(int s, size_t n);

/* getaddrinfo(host, port): the original's five fields. Numeric addresses
 * need no lookup; then the runtime's hosts table; then DNS (A and AAAA)
 * through the stack itself to the configured name server. */
struct us_addrinfo {
	int family;    /* US_AF_INET or US_AF_INET6 */
	int type;      /* US_SOCK_STREAM */
	int proto;     /* US_IPPROTO_TCP */
	char canonname[256];
	struct us_addr addr;
	struct us_addrinfo *next;
};
/* 0, or a negative US_EAI_* code; us_gai_strerror() names it. */
#define US_EAI_NONAME (-2)   /* NXDOMAIN, or no address of any family */
#define US_EAI_AGAIN (-3)    /* the name server did not answer in time */
#define US_EAI_FAIL (-4)     /* a malformed or refused answer */
#define US_EAI_FAMILY (-6)
#define US_EAI_MEMORY (-10)
#define US_EAI_SYSTEM (-11)  /* errno says */
int us_getaddrinfo(struct us_runtime *rt, const char *host, uint16_t port, struct us_addrinfo **res);
void us_freeaddrinfo(struct us_addrinfo *res);
const char *us_gai_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif

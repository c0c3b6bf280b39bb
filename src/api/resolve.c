/* SPDX-License-Identifier: MIT */
/*
 * api/resolve.c - us_getaddrinfo(): a name and a port to addresses, in the
 * order getaddrinfo(3) users expect, through ustack itself. A DNS stub
 * resolver (RFC 1034 §5.3.1, RFC 1035 §4.2.1 and §7, RFC 1123 §6.1.3,
 * RFC 5452 §9.1) over UDP sockets of the socket API.
 *
 * Read first: dns.h (the messages, sans-I/O), then us_getaddrinfo() below.
 *
 * A host is looked up in this order, and the first step that knows it
 * answers:
 *  1. A numeric IPv4 or IPv6 address (us_addr_parse()): no lookup, no
 *     runtime needed; canonname is the text given.
 *  2. The runtime's hosts table (struct us_runtime_config.hosts): every
 *     entry with that name, in table order, both families; names compare
 *     without ASCII case and without a trailing dot; canonname is the
 *     first entry's name.
 *  3. "localhost" and names under ".localhost" go no further: RFC 6761
 *     §6.3 says they are loopback and "Name resolution APIs SHOULD NOT send
 *     queries for localhost names to their configured caching DNS
 *     server(s)". ustack has no loopback interface, so unless the hosts
 *     table maps them they are US_EAI_NONAME.
 *  4. DNS to the runtime's name server (none configured: US_EAI_NONAME).
 *
 * DNS, exactly:
 *  - Two queries, A and AAAA, outstanding at once (RFC 5452 §9.1: "Use
 *    multiple different source ports simultaneously in case of multiple
 *    outstanding queries"): each on its own UDP socket bound to port 0, so
 *    the core picks a random ephemeral port for each (RFC 6056), and
 *    connected to the server, so the core drops datagrams from any other
 *    address or port and an ICMP port unreachable ends the wait
 *    (ECONNREFUSED). Each query has a random ID from getrandom() (RFC 5452
 *    §9.1: "Use an unpredictable query ID for outgoing queries, utilizing
 *    the full range available (0-65535)"); the two IDs differ.
 *  - Tries (dns_tries, 3 by default): each try sends every query that has
 *    no final answer yet (same ID, same socket: a late answer to an earlier
 *    try still counts) and waits for answers until the try's deadline,
 *    now + dns_timeout (2 s by default), on the runtime's clock.
 *  - A datagram is taken as the answer to a query only when it comes from
 *    the server's address and port (checked again here), carries the
 *    query's ID, has QR set and echoes the question (RFC 5452 §9.1);
 *    anything else is discarded and the wait goes on.
 *  - An answer of ours that is malformed (any error of
 *    us_dns_response_parse(), a CNAME chain over US_DNS_MAX_CNAME links or
 *    looping), truncated (TC: Not implemented: the TCP fallback of RFC 1035
 *    §4.2.1), or whose RCODE is SERVFAIL, REFUSED or another failure ends
 *    that query's try; the query is sent again on the next try.
 *  - NOERROR is final for its query: its addresses are the records of its
 *    type owned by the end of the CNAME chain that starts at the question's
 *    name within the answer (RFC 1034 §3.6.2), in the server's order; no
 *    such record means the name has no address of that family (RFC 2308
 *    §2.2, "NODATA"). NXDOMAIN is final for the whole lookup: the name does
 *    not exist at all (RFC 8020 §2).
 *
 * Results: the A query's addresses first, then the AAAA query's (each in
 * the server's order), each entry with type US_SOCK_STREAM, proto
 * US_IPPROTO_TCP, addr's port set to port, and canonname the end of the
 * CNAME chain of the first family that has addresses (the name as given
 * when there was no CNAME). Errors, in this order of precedence:
 *  - some address found: those addresses, even if the other family failed;
 *  - NXDOMAIN, or NOERROR without addresses for both families: US_EAI_NONAME;
 *  - a failure answer (above) left after the last try: US_EAI_FAIL;
 *  - every send failed on every try: US_EAI_SYSTEM with that errno
 *    (ENETUNREACH when there is no route to the server);
 *  - otherwise (silence, or ICMP port unreachable): US_EAI_AGAIN. That
 *    includes one family's NODATA while the other never answered.
 *  - host or res NULL: US_EAI_SYSTEM with errno EINVAL; a name that is not
 *    numeric with no runtime given and no default runtime, or a runtime
 *    that is stopping: US_EAI_SYSTEM with errno ENETDOWN; the runtime
 *    stopping during the lookup: the same; a name DNS cannot carry (an
 *    empty label, a label over 63 or a name over 255 octets): US_EAI_NONAME.
 *
 * Not implemented: several name servers, search domains and ndots
 * (RFC 1123 §6.1.4.3), EDNS(0), a cache, DNSSEC; /etc/hosts and
 * /etc/resolv.conf are not read (the runtime's configuration is the one
 * source). Names are taken as they are written, without "\." escapes.
 */
#include <ustack/ustack.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dns.h"
#include "runtime_impl.h"
#include "wire/bytes.h"

/* Any UDP datagram fits (65,507 octets of payload over IPv4): a longer
 * answer than US_DNS_UDP_MAX from a server that ignores the limit is still
 * read whole and judged, never cut. */
#define RX_CAP 65536

enum query_state {
	Q_UNANSWERED, /* nothing usable yet */
	Q_FAILED,     /* the last answer said failure (or was malformed): send again */
	Q_DONE,	      /* NOERROR: final */
	Q_NXDOMAIN,   /* final, and for the whole lookup */
};

struct query {
	struct us_dns_question question;
	uint16_t id;
	uint8_t msg[US_DNS_QUERY_MAX];
	size_t msg_len;
	int sock;
	enum query_state state;
	bool waiting;	       /* sent in this try, no answer yet */
	bool sent;	       /* sent at least once */
	struct us_dns_msg ans; /* the last answer parsed (the final one when Q_DONE) */
};

struct lookup {
	struct us_runtime *rt;
	struct us_addr server;
	us_time_t timeout_us;
	int tries;
	struct query q[2]; /* A, AAAA */
	uint8_t *rx;
	int send_errno;	 /* the last send failure */
	int fatal_errno; /* ENETDOWN and the like: give up at once */
};

const char *us_gai_strerror(int code)
{
	switch (code) {
	case 0:
		return "Success";
	case US_EAI_NONAME:
		return "Name or service not known";
	case US_EAI_AGAIN:
		return "Temporary failure in name resolution";
	case US_EAI_FAIL:
		return "Non-recoverable failure in name resolution";
	case US_EAI_FAMILY:
		return "Address family not supported";
	case US_EAI_MEMORY:
		return "Memory allocation failure";
	case US_EAI_SYSTEM:
		return "System error";
	default:
		return "Unknown error";
	}
}

void us_freeaddrinfo(struct us_addrinfo *res)
{
	while (res) {
		struct us_addrinfo *next = res->next;
		free(res);
		res = next;
	}
}

/* Appends one entry at *tail; false when memory is short. */
static bool add_entry(struct us_addrinfo ***tail, const struct us_addr *addr, uint16_t port,
		      const char *canon)
{
	struct us_addrinfo *ai = calloc(1, sizeof *ai);
	if (!ai)
		return false;
	ai->family = addr->family;
	ai->type = US_SOCK_STREAM;
	ai->proto = US_IPPROTO_TCP;
	size_t n = strlen(canon);
	if (n >= sizeof ai->canonname)
		n = sizeof ai->canonname - 1;
	memcpy(ai->canonname, canon, n);
	ai->addr = *addr;
	ai->addr.port = port;
	**tail = ai;
	*tail = &ai->next;
	return true;
}

static int fail_memory(struct us_addrinfo **res)
{
	us_freeaddrinfo(*res);
	*res = NULL;
	return US_EAI_MEMORY;
}

/* ---- Hosts table ------------------------------------------------------- */

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* The length of name without one trailing dot. */
static size_t name_len(const char *name)
{
	size_t n = strlen(name);
	return n > 1 && name[n - 1] == '.' ? n - 1 : n;
}

static bool same_name(const char *a, const char *b)
{
	size_t n = name_len(a);
	if (n != name_len(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

/* "localhost" or a name under it (RFC 6761 §6.3). */
static bool is_localhost(const char *host)
{
	static const char lh[] = "localhost";
	size_t n = name_len(host), l = sizeof lh - 1;
	if (n < l || (n > l && host[n - l - 1] != '.'))
		return false;
	for (size_t i = 0; i < l; i++)
		if (ascii_lower(host[n - l + i]) != lh[i])
			return false;
	return true;
}

/* 0 with *res filled, 1 when the table does not have the name, or an error. */
static int from_hosts(const struct us_runtime *rt, const char *host, uint16_t port,
		      struct us_addrinfo **res)
{
	size_t n = 0;
	const struct us_host_entry *h = us_runtime_hosts(rt, &n);
	struct us_addrinfo **tail = res;
	const char *canon = NULL;

	for (size_t i = 0; h && i < n; i++) {
		if (!h[i].name || !same_name(h[i].name, host))
			continue;
		if (h[i].addr.family != US_AF_INET && h[i].addr.family != US_AF_INET6)
			continue;
		if (!canon)
			canon = h[i].name;
		if (!add_entry(&tail, &h[i].addr, port, canon))
			return fail_memory(res);
	}
	return canon ? 0 : 1;
}

/* ---- DNS --------------------------------------------------------------- */

static int fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool same_endpoint(const struct us_addr *a, const struct us_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == US_AF_INET)
		return a->ip4 == b->ip4;
	return memcmp(a->ip6.b, b->ip6.b, 16) == 0 &&
	       (!a->scope_id || !b->scope_id || a->scope_id == b->scope_id);
}

/* A UDP socket of the server's family on a random port, connected to it. */
static int open_socket(struct lookup *lk)
{
	struct us_addr local = {.family = lk->server.family};
	int s = us_socket(lk->rt, lk->server.family, US_SOCK_DGRAM, 0);

	if (s < 0)
		return -1;
	if (us_bind(s, &local) < 0 || us_connect(s, &lk->server) < 0) {
		int err = errno;
		us_close(s);
		errno = err;
		return -1;
	}
	return s;
}

/* One datagram that came to q's socket from the server. */
static void take_answer(struct query *q, const uint8_t *buf, size_t len)
{
	/* Not ours (RFC 5452 §9.1): discarded, the wait goes on. */
	if (len < 2 || us_get_be16(buf) != q->id)
		return;
	int rc = us_dns_response_parse(buf, len, q->id, &q->question, &q->ans);
	if (rc == US_DNS_NOT_RESPONSE || rc == US_DNS_WRONG_QUESTION)
		return;
	q->waiting = false;
	if (rc < 0) {
		q->state = Q_FAILED;
		return;
	}
	switch (q->ans.rcode) {
	case US_DNS_RCODE_NOERROR: {
		const uint8_t *canon;
		size_t canon_len;
		q->state = us_dns_cname_chain(&q->ans, &canon, &canon_len) < 0 ? Q_FAILED : Q_DONE;
		break;
	}
	case US_DNS_RCODE_NXDOMAIN:
		q->state = Q_NXDOMAIN;
		break;
	default: /* SERVFAIL, REFUSED, FORMERR, NOTIMP and the rest */
		q->state = Q_FAILED;
		break;
	}
}

/* Waits for q's answer until deadline. false on a fatal error. */
static bool wait_answer(struct lookup *lk, struct query *q, us_time_t deadline)
{
	while (q->waiting) {
		us_time_t now = us_runtime_now(lk->rt);
		if (now >= deadline)
			return true;
		/* The socket API rounds a timeout up to a whole microsecond:
		 * half a microsecond less comes back as exactly the time left,
		 * so the wait ends at this try's deadline, not after it (on a
		 * virtual clock, "after" may be never). */
		if (us_settimeout(q->sock, ((double)(deadline - now) - 0.5) / 1e6) < 0) {
			lk->fatal_errno = errno;
			return false;
		}
		struct us_addr from;
		ssize_t n = us_recvfrom(q->sock, lk->rx, RX_CAP, &from);
		if (n < 0) {
			if (errno == ETIMEDOUT || errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ECONNREFUSED) {
				/* No server listens (ICMP port unreachable,
				 * RFC 1122 §4.1.3.3): this try is over. */
				q->waiting = false;
				return true;
			}
			lk->fatal_errno = errno;
			return false;
		}
		if (!same_endpoint(&from, &lk->server))
			continue;
		take_answer(q, lk->rx, (size_t)n);
	}
	return true;
}

static bool is_final(const struct query *q)
{
	return q->state == Q_DONE || q->state == Q_NXDOMAIN;
}

/* Runs the tries. false on a fatal error (lk->fatal_errno). */
static bool run_tries(struct lookup *lk)
{
	for (int t = 0; t < lk->tries; t++) {
		us_time_t deadline = us_runtime_now(lk->rt) + lk->timeout_us;
		for (int i = 0; i < 2; i++) {
			struct query *q = &lk->q[i];
			q->waiting = false;
			if (is_final(q))
				continue;
			if (us_sendto(q->sock, q->msg, q->msg_len, &lk->server) < 0) {
				if (errno == ENETDOWN || errno == EBADF) {
					lk->fatal_errno = errno;
					return false;
				}
				lk->send_errno = errno;
				continue;
			}
			q->waiting = true;
			q->sent = true;
		}
		for (int i = 0; i < 2; i++) {
			if (!wait_answer(lk, &lk->q[i], deadline))
				return false;
			if (lk->q[i].state == Q_NXDOMAIN)
				return true;
		}
		if (is_final(&lk->q[0]) && is_final(&lk->q[1]))
			return true;
	}
	return true;
}

/* The addresses of a final NOERROR answer, appended at *tail. */
static bool add_answers(struct us_addrinfo ***tail, const struct query *q, uint16_t port,
			const char *canon)
{
	const uint8_t *cname;
	size_t cname_len;
	if (us_dns_cname_chain(&q->ans, &cname, &cname_len) < 0)
		return true;
	for (size_t i = 0; i < q->ans.n_answers; i++) {
		const struct us_dns_rr *rr = &q->ans.answers[i];
		if (!us_dns_answer_is_addr(&q->ans, rr, cname, cname_len))
			continue;
		struct us_addr a = {.family = rr->type == US_DNS_TYPE_A ? US_AF_INET : US_AF_INET6};
		a.ip4 = rr->type == US_DNS_TYPE_A ? rr->ip4 : 0;
		if (rr->type == US_DNS_TYPE_AAAA)
			a.ip6 = rr->ip6;
		if (!add_entry(tail, &a, port, canon))
			return false;
	}
	return true;
}

/* How many addresses a query's final answer holds; its chain's end in canon. */
static size_t count_answers(const struct query *q, char *canon, size_t cap, const char *host)
{
	const uint8_t *cname;
	size_t cname_len, n = 0;
	int links;

	if (q->state != Q_DONE || (links = us_dns_cname_chain(&q->ans, &cname, &cname_len)) < 0)
		return 0;
	for (size_t i = 0; i < q->ans.n_answers; i++)
		if (us_dns_answer_is_addr(&q->ans, &q->ans.answers[i], cname, cname_len))
			n++;
	if (links == 0 || us_dns_name_to_text(cname, cname_len, canon, cap) == 0) {
		size_t l = strlen(host);
		if (l >= cap)
			l = cap - 1;
		memcpy(canon, host, l);
		canon[l] = '\0';
	}
	return n;
}

static int finish(struct lookup *lk, const char *host, uint16_t port, struct us_addrinfo **res)
{
	char canon4[US_DNS_NAME_MAX + 1], canon6[US_DNS_NAME_MAX + 1];
	size_t n4 = count_answers(&lk->q[0], canon4, sizeof canon4, host);
	size_t n6 = count_answers(&lk->q[1], canon6, sizeof canon6, host);

	if (n4 + n6 > 0) {
		struct us_addrinfo **tail = res;
		const char *canon = n4 ? canon4 : canon6;
		if (!add_answers(&tail, &lk->q[0], port, canon) ||
		    !add_answers(&tail, &lk->q[1], port, canon))
			return fail_memory(res);
		return 0;
	}
	if (lk->q[0].state == Q_NXDOMAIN || lk->q[1].state == Q_NXDOMAIN)
		return US_EAI_NONAME;
	if (lk->q[0].state == Q_DONE && lk->q[1].state == Q_DONE)
		return US_EAI_NONAME;
	if (lk->q[0].state == Q_FAILED || lk->q[1].state == Q_FAILED)
		return US_EAI_FAIL;
	if (!lk->q[0].sent && !lk->q[1].sent && lk->send_errno) {
		errno = lk->send_errno;
		return US_EAI_SYSTEM;
	}
	return US_EAI_AGAIN;
}

static int from_dns(struct us_runtime *rt, const char *host, uint16_t port,
		    struct us_addrinfo **res)
{
	double timeout = 0;
	int tries = 0;
	const struct us_addr *server = us_runtime_dns(rt, &timeout, &tries);
	uint8_t name[US_DNS_NAME_MAX];
	size_t name_len_wire;

	if (!server || (server->family != US_AF_INET && server->family != US_AF_INET6))
		return US_EAI_NONAME;
	if (us_dns_name_from_text(host, name, &name_len_wire) < 0)
		return US_EAI_NONAME;

	struct lookup *lk = calloc(1, sizeof *lk);
	if (!lk)
		return US_EAI_MEMORY;
	lk->rx = malloc(RX_CAP);
	if (!lk->rx) {
		free(lk);
		return US_EAI_MEMORY;
	}
	lk->rt = rt;
	lk->server = *server;
	if (lk->server.port == 0)
		lk->server.port = US_DNS_PORT;
	if (!(timeout > 0) || !(timeout < 86400))
		timeout = 2.0;
	lk->timeout_us = (us_time_t)(timeout * 1e6 + 0.5);
	lk->tries = tries > 0 ? tries : 3;

	static const uint16_t qtypes[2] = {US_DNS_TYPE_A, US_DNS_TYPE_AAAA};
	uint16_t ids[2];
	int rc = 0;
	do {
		if (fill_random(ids, sizeof ids) < 0) {
			rc = US_EAI_SYSTEM;
			break;
		}
	} while (ids[0] == ids[1]);

	for (int i = 0; i < 2; i++)
		lk->q[i].sock = -1;
	for (int i = 0; i < 2 && rc == 0; i++) {
		struct query *q = &lk->q[i];
		memcpy(q->question.name, name, name_len_wire);
		q->question.name_len = name_len_wire;
		q->question.qtype = qtypes[i];
		q->question.qclass = US_DNS_CLASS_IN;
		q->id = ids[i];
		q->msg_len = us_dns_query_emit(q->id, &q->question, q->msg, sizeof q->msg);
		q->sock = open_socket(lk);
		if (q->sock < 0)
			rc = US_EAI_SYSTEM;
	}
	if (rc == 0) {
		if (run_tries(lk))
			rc = finish(lk, host, port, res);
		else
			rc = US_EAI_SYSTEM;
	}
	int err = errno;
	if (rc == US_EAI_SYSTEM && lk->fatal_errno)
		err = lk->fatal_errno;
	for (int i = 0; i < 2; i++)
		if (lk->q[i].sock >= 0)
			us_close(lk->q[i].sock);
	free(lk->rx);
	free(lk);
	errno = err;
	return rc;
}

/* ---- The entry point --------------------------------------------------- */

int us_getaddrinfo(struct us_runtime *rt, const char *host, uint16_t port, struct us_addrinfo **res)
{
	struct us_addr addr;
	int rc;

	if (!host || !res) {
		errno = EINVAL;
		return US_EAI_SYSTEM;
	}
	*res = NULL;

	if (us_addr_parse(host, port, &addr) == 0) {
		struct us_addrinfo **tail = res;
		if (!add_entry(&tail, &addr, port, host))
			return fail_memory(res);
		return 0;
	}

	/* The runtime stays alive until we are done with it (runtime_impl.h). */
	us_api_lock();
	if (!rt)
		rt = us_runtime_default_locked();
	bool pinned = rt && us_runtime_pin(rt);
	us_api_unlock();
	if (!pinned) {
		errno = ENETDOWN;
		return US_EAI_SYSTEM;
	}

	rc = from_hosts(rt, host, port, res);
	if (rc == 1)
		rc = is_localhost(host) ? US_EAI_NONAME : from_dns(rt, host, port, res);

	int err = errno;
	us_api_lock();
	us_runtime_unpin(rt);
	us_api_unlock();
	errno = err;
	return rc;
}

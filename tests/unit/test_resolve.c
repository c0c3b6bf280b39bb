/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_resolve.c - us_getaddrinfo() (src/api/resolve.c) end to
 * end: numeric addresses, the hosts table, localhost, and DNS through the
 * stack itself.
 *
 * Two runtimes share a virtual clock and an in-memory link (us_memlink_pair):
 * the client, 198.51.100.2 and 2001:db8::2, whose name server is the other
 * one, 198.51.100.83 and 2001:db8::53 (the last octet is 0x53), where a tiny
 * DNS server runs on a UDP socket of the socket API. The server's answer
 * depends on the first label of the name asked (see serve()). Nothing waits
 * on real time for protocol timing: the tests move the virtual clock and
 * wake both runtimes; real time is only waited on, with a bound, to let the
 * threads run.
 *
 * Read first: the header comment of src/api/resolve.c (every behaviour
 * tested here is listed there), then src/api/dns.h.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/memlink.h>
#include <ustack/ustack.h>

#include "wire/bytes.h"

#define T0	   US_SEC(100)
#define CLIENT_IP4 0xc6336402u
#define SERVER_IP4 0xc6336453u
#define WWW_IP4	   0xc6336450u /* 198.51.100.80 */
#define OTHER_IP4  0xc6336451u /* 198.51.100.81 */
#define TYPE_A	   1
#define TYPE_AAAA  28
#define TYPE_CNAME 5

static const struct us_ip6 client_ip6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x02}};
static const struct us_ip6 server_ip6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x53}};
static const struct us_ip6 www_ip6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x80}};
static const struct us_ip6 other_ip6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x81}};

static _Atomic us_time_t virtual_now;

static us_time_t virtual_clock(void *ctx)
{
	(void)ctx;
	return atomic_load(&virtual_now);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* ---- The DNS server on the second runtime ------------------------------- */

struct logged {
	char name[128]; /* as text, no trailing dot */
	uint16_t id, qtype, flags, qdcount;
	uint16_t sport; /* the client's source port */
	struct us_addr from;
	size_t len;
};

#define LOG_MAX 64

static struct {
	struct us_runtime *rt;
	int sock; /* port 53 */
	int alt;  /* port 5353: answers from the wrong port */
	pthread_t thread;
	pthread_mutex_t mu;
	struct logged log[LOG_MAX];
	atomic_int n_log;
} srv;

static struct us_runtime *client;
static struct us_driver client_end, server_end;

/* The query's name and type; *qend is where the question ends. */
static bool decode_query(const uint8_t *b, size_t n, struct logged *l, size_t *qend)
{
	size_t pos = 12, t = 0;
	if (n < 12)
		return false;
	while (pos < n && b[pos] != 0) {
		size_t len = b[pos];
		if (pos + 1 + len > n || t + len + 1 >= sizeof l->name)
			return false;
		if (t)
			l->name[t++] = '.';
		memcpy(l->name + t, b + pos + 1, len);
		t += len;
		pos += 1 + len;
	}
	l->name[t] = '\0';
	if (pos + 5 > n)
		return false;
	l->id = us_get_be16(b);
	l->flags = us_get_be16(b + 2);
	l->qdcount = us_get_be16(b + 4);
	l->qtype = us_get_be16(b + pos + 1);
	l->len = n;
	*qend = pos + 5;
	return true;
}

struct resp {
	uint8_t b[512];
	size_t n;
};

/* The header and question of q, with flags and an answer count. */
static void resp_start(struct resp *r, const uint8_t *q, size_t qend, uint16_t flags, uint16_t an)
{
	memcpy(r->b, q, qend);
	us_put_be16(r->b + 2, flags);
	us_put_be16(r->b + 6, an);
	us_put_be16(r->b + 8, 0);
	us_put_be16(r->b + 10, 0);
	r->n = qend;
}

/* One record owned by the question's name (a pointer to offset 12), or by
 * the name at owner_off; returns the offset of its RDATA. */
static size_t resp_rr(struct resp *r, size_t owner_off, uint16_t type, const void *rdata,
		      size_t rdlen)
{
	uint8_t *p = r->b + r->n;
	us_put_be16(p, (uint16_t)(0xc000 | owner_off));
	us_put_be16(p + 2, type);
	us_put_be16(p + 4, 1);	/* IN */
	us_put_be32(p + 6, 60); /* TTL */
	us_put_be16(p + 10, (uint16_t)rdlen);
	memcpy(p + 12, rdata, rdlen);
	r->n += 12 + rdlen;
	return r->n - rdlen;
}

static void resp_addr(struct resp *r, size_t owner_off, uint16_t qtype, uint32_t ip4,
		      const struct us_ip6 *ip6)
{
	uint8_t a[4];
	us_put_be32(a, ip4);
	if (qtype == TYPE_A)
		resp_rr(r, owner_off, TYPE_A, a, 4);
	else
		resp_rr(r, owner_off, TYPE_AAAA, ip6->b, 16);
}

/* A send may fail once teardown has stopped the server's runtime while an
 * answer was on its way; a lost answer shows on the client's side anyway. */
static void send_answer(int sock, const struct resp *r, const struct us_addr *to)
{
	(void)us_sendto(sock, r->b, r->n, to);
}

static int queries_for(const char *name, uint16_t qtype)
{
	int n = 0;
	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < atomic_load(&srv.n_log) && i < LOG_MAX; i++)
		if (strcmp(srv.log[i].name, name) == 0 && srv.log[i].qtype == qtype)
			n++;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

/*
 * The answer to query q from `from`, by the first label:
 *   www     A 198.51.100.80, AAAA 2001:db8::80
 *   multi   A .81 then .80; AAAA ::81 then ::80 (the order is kept)
 *   alias   CNAME www.example.test, then www's address
 *   loop    CNAME to itself
 *   v4      A .81; AAAA: NOERROR and no record (no data)
 *   half    A .80; AAAA: silence
 *   nx      NXDOMAIN          servfail  SERVFAIL      refused  REFUSED
 *   nxa     A: NXDOMAIN; AAAA: silence
 *   tc      the A answer with TC set            bad  an A record of 5 octets
 *   late    silence for the first query of each type, then www's answer
 *   spoof   first an answer from port 5353 (.66), one with the wrong ID
 *           (.67), one for another question (.68), then the right one
 *   silent  (and anything else) silence
 */
static void serve(const uint8_t *q, size_t n, const struct us_addr *from)
{
	struct logged l = {.sport = from->port, .from = *from};
	struct resp r;
	size_t qend;

	if (!decode_query(q, n, &l, &qend))
		return;
	pthread_mutex_lock(&srv.mu);
	int idx = atomic_load(&srv.n_log);
	if (idx < LOG_MAX)
		srv.log[idx] = l;
	atomic_store(&srv.n_log, idx + 1);
	pthread_mutex_unlock(&srv.mu);

	char label[64];
	size_t ll = strcspn(l.name, ".");
	if (ll >= sizeof label)
		return;
	for (size_t i = 0; i < ll; i++) /* names have no case (RFC 4343) */
		label[i] =
		    (char)(l.name[i] >= 'A' && l.name[i] <= 'Z' ? l.name[i] + 32 : l.name[i]);
	label[ll] = '\0';
	bool a = l.qtype == TYPE_A;

	if (!strcmp(label, "www")) {
		resp_start(&r, q, qend, 0x8580, 1);
		resp_addr(&r, 12, l.qtype, WWW_IP4, &www_ip6);
	} else if (!strcmp(label, "multi")) {
		resp_start(&r, q, qend, 0x8580, 2);
		resp_addr(&r, 12, l.qtype, OTHER_IP4, &other_ip6);
		resp_addr(&r, 12, l.qtype, WWW_IP4, &www_ip6);
	} else if (!strcmp(label, "alias")) {
		static const uint8_t www[] = "\3www\7example\4test";
		resp_start(&r, q, qend, 0x8580, 2);
		size_t at = resp_rr(&r, 12, TYPE_CNAME, www, sizeof www);
		resp_addr(&r, at, l.qtype, WWW_IP4, &www_ip6);
	} else if (!strcmp(label, "loop")) {
		static const uint8_t self[] = {0xc0, 0x0c};
		resp_start(&r, q, qend, 0x8580, 1);
		resp_rr(&r, 12, TYPE_CNAME, self, sizeof self);
	} else if (!strcmp(label, "v4")) {
		resp_start(&r, q, qend, 0x8580, a ? 1 : 0);
		if (a)
			resp_addr(&r, 12, l.qtype, OTHER_IP4, NULL);
	} else if (!strcmp(label, "half")) {
		if (!a)
			return;
		resp_start(&r, q, qend, 0x8580, 1);
		resp_addr(&r, 12, l.qtype, WWW_IP4, NULL);
	} else if (!strcmp(label, "nx") || (!strcmp(label, "nxa") && a)) {
		resp_start(&r, q, qend, 0x8183, 0);
	} else if (!strcmp(label, "servfail")) {
		resp_start(&r, q, qend, 0x8182, 0);
	} else if (!strcmp(label, "refused")) {
		resp_start(&r, q, qend, 0x8185, 0);
	} else if (!strcmp(label, "tc")) {
		resp_start(&r, q, qend, 0x8780, 1);
		resp_addr(&r, 12, l.qtype, WWW_IP4, &www_ip6);
	} else if (!strcmp(label, "bad")) {
		static const uint8_t five[5] = {198, 51, 100, 80, 0};
		resp_start(&r, q, qend, 0x8580, 1);
		resp_rr(&r, 12, a ? TYPE_A : TYPE_AAAA, five, 5);
	} else if (!strcmp(label, "late")) {
		if (queries_for(l.name, l.qtype) < 2)
			return;
		resp_start(&r, q, qend, 0x8580, 1);
		resp_addr(&r, 12, l.qtype, WWW_IP4, &www_ip6);
	} else if (!strcmp(label, "spoof")) {
		/* From the wrong port. */
		resp_start(&r, q, qend, 0x8580, 1);
		resp_addr(&r, 12, l.qtype, 0xc6336442, &other_ip6);
		send_answer(srv.alt, &r, from);
		/* With the wrong ID. */
		resp_start(&r, q, qend, 0x8580, 1);
		us_put_be16(r.b, (uint16_t)(l.id + 1));
		resp_addr(&r, 12, l.qtype, 0xc6336443, &other_ip6);
		send_answer(srv.sock, &r, from);
		/* For another name: "spoog". */
		resp_start(&r, q, qend, 0x8580, 1);
		r.b[17] = 'g';
		resp_addr(&r, 12, l.qtype, 0xc6336444, &other_ip6);
		send_answer(srv.sock, &r, from);
		/* And the answer. */
		resp_start(&r, q, qend, 0x8580, 1);
		resp_addr(&r, 12, l.qtype, WWW_IP4, &www_ip6);
	} else {
		return;
	}
	send_answer(srv.sock, &r, from);
}

static void *server_main(void *arg)
{
	static uint8_t buf[2048];
	(void)arg;
	for (;;) {
		struct us_addr from;
		ssize_t n = us_recvfrom(srv.sock, buf, sizeof buf, &from);
		if (n < 0)
			return NULL; /* the runtime stopped (ENETDOWN) */
		serve(buf, (size_t)n, &from);
	}
}

/* ---- Two runtimes ------------------------------------------------------- */

static struct us_runtime *start_rt(struct us_driver d, uint8_t last, const struct us_addr *dns,
				   const struct us_host_entry *hosts, size_t n_hosts)
{
	struct us_runtime_config cfg = {
	    .driver = d,
	    .mac = {0x02, 0, 0, 0, 0, last},
	    .ipv4 = 0xc6336400u | last,
	    .ipv4_prefix = 24,
	    .has_ipv6 = true,
	    .ipv6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = last}},
	    .ipv6_prefix = 64,
	    .hosts = hosts,
	    .n_hosts = n_hosts,
	    .clock = {.now = virtual_clock, .is_virtual = true},
	    .stack = {.seed = last, .no_dad = true, .no_router_solicit = true},
	    .fixed_seed = true,
	};
	if (dns)
		cfg.dns_server = *dns;
	int err = 0;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_msg(rt != NULL, "runtime did not start: %d", err);
	return rt;
}

static const struct us_host_entry hosts[] = {
    {"printer.lan", {.family = US_AF_INET, .ip4 = 0xc6336409}},
    {"www.override.test", {.family = US_AF_INET, .ip4 = 0xc633640b}},
    {"printer.lan", {.family = US_AF_INET6, .ip6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 9}}}},
    {"Box.LAN.", {.family = US_AF_INET, .ip4 = 0xc633640a, .port = 9999}},
};

/* The client (with the name server at dns, or none) and the server. */
static void setup_with(const struct us_addr *dns, const struct us_host_entry *h, size_t nh)
{
	atomic_store(&virtual_now, T0);
	ck_assert_int_eq(us_memlink_pair(&client_end, &server_end, NULL), 0);
	srv.rt = start_rt(server_end, 0x53, NULL, NULL, 0);
	client = start_rt(client_end, 0x02, dns, h, nh);
	pthread_mutex_init(&srv.mu, NULL);
	atomic_store(&srv.n_log, 0);

	int fam = dns && dns->family == US_AF_INET6 ? US_AF_INET6 : US_AF_INET;
	struct us_addr any53 = {.family = fam, .port = 53}, any5353 = {.family = fam, .port = 5353};
	srv.sock = us_socket(srv.rt, fam, US_SOCK_DGRAM, 0);
	srv.alt = us_socket(srv.rt, fam, US_SOCK_DGRAM, 0);
	ck_assert_int_ge(srv.sock, 0);
	ck_assert_int_ge(srv.alt, 0);
	ck_assert_int_eq(us_bind(srv.sock, &any53), 0);
	ck_assert_int_eq(us_bind(srv.alt, &any5353), 0);
	ck_assert_int_eq(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
}

static void setup_v4(void)
{
	struct us_addr dns = {.family = US_AF_INET, .ip4 = SERVER_IP4}; /* port 0: 53 */
	setup_with(&dns, hosts, sizeof hosts / sizeof hosts[0]);
}

static void teardown(void)
{
	us_runtime_stop(client);
	us_runtime_stop(srv.rt); /* wakes the server's recvfrom with ENETDOWN */
	pthread_join(srv.thread, NULL);
	us_close(srv.sock);
	us_close(srv.alt);
	client = NULL;
	srv.rt = NULL;
}

static void move_clock(us_time_t t)
{
	atomic_store(&virtual_now, t);
	us_runtime_wake(client);
	us_runtime_wake(srv.rt);
}

/* Waits (bounded: 10 s of real time) until the server has seen n queries. */
static void wait_queries(int n)
{
	for (int i = 0; i < 10000 && atomic_load(&srv.n_log) < n; i++)
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(&srv.n_log), n);
}

static struct logged logged(int i)
{
	pthread_mutex_lock(&srv.mu);
	struct logged l = srv.log[i];
	pthread_mutex_unlock(&srv.mu);
	return l;
}

/* A lookup in a thread of its own, for the tests that move the clock. */
struct call {
	const char *host;
	struct us_runtime *rt;
	struct us_addrinfo *res;
	int rc, err;
	atomic_bool done;
	pthread_t thread;
};

static void *call_main(void *arg)
{
	struct call *c = arg;
	c->rc = us_getaddrinfo(c->rt, c->host, 80, &c->res);
	c->err = errno;
	atomic_store(&c->done, true);
	return NULL;
}

static void call_start(struct call *c, const char *host)
{
	c->host = host;
	c->rt = client;
	c->res = NULL;
	atomic_store(&c->done, false);
	ck_assert_int_eq(pthread_create(&c->thread, NULL, call_main, c), 0);
}

/* The call has not returned after 50 ms of real time (it waits for the clock). */
static void call_still_waits(struct call *c)
{
	sleep_ms(50);
	ck_assert(!atomic_load(&c->done));
}

static void call_join(struct call *c)
{
	for (int i = 0; i < 10000 && !atomic_load(&c->done); i++)
		sleep_ms(1);
	ck_assert_msg(atomic_load(&c->done), "the lookup did not end");
	pthread_join(c->thread, NULL);
}

static size_t count(const struct us_addrinfo *ai)
{
	size_t n = 0;
	for (; ai; ai = ai->next)
		n++;
	return n;
}

static void assert_entry(const struct us_addrinfo *ai, int family, uint32_t ip4,
			 const struct us_ip6 *ip6, uint16_t port, const char *canon)
{
	ck_assert_ptr_nonnull(ai);
	ck_assert_int_eq(ai->family, family);
	ck_assert_int_eq(ai->type, US_SOCK_STREAM);
	ck_assert_int_eq(ai->proto, US_IPPROTO_TCP);
	ck_assert_int_eq(ai->addr.family, family);
	ck_assert_uint_eq(ai->addr.port, port);
	if (family == US_AF_INET)
		ck_assert_uint_eq(ai->addr.ip4, ip4);
	else
		ck_assert_mem_eq(ai->addr.ip6.b, ip6->b, 16);
	ck_assert_str_eq(ai->canonname, canon);
}

static int lookup(const char *host, struct us_addrinfo **res)
{
	return us_getaddrinfo(client, host, 80, res);
}

/* ---- Numeric addresses and bad arguments -------------------------------- */

START_TEST(a_numeric_ipv4_address_needs_no_lookup_and_no_runtime)
{
	struct us_addrinfo *res = NULL;

	ck_assert_ptr_null(us_runtime_default());
	ck_assert_int_eq(us_getaddrinfo(NULL, "198.51.100.7", 80, &res), 0);
	ck_assert_uint_eq(count(res), 1);
	assert_entry(res, US_AF_INET, 0xc6336407, NULL, 80, "198.51.100.7");
	us_freeaddrinfo(res);
}
END_TEST

START_TEST(a_numeric_ipv6_address_needs_no_lookup)
{
	static const struct us_ip6 want = {{0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7}};
	struct us_addrinfo *res = NULL;

	ck_assert_int_eq(us_getaddrinfo(NULL, "2001:db8:1::7", 443, &res), 0);
	ck_assert_uint_eq(count(res), 1);
	assert_entry(res, US_AF_INET6, 0, &want, 443, "2001:db8:1::7");
	us_freeaddrinfo(res);
	us_freeaddrinfo(NULL);
}
END_TEST

START_TEST(null_arguments_fail_with_einval)
{
	struct us_addrinfo *res = (struct us_addrinfo *)&res;

	errno = 0;
	ck_assert_int_eq(us_getaddrinfo(NULL, NULL, 80, &res), US_EAI_SYSTEM);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(us_getaddrinfo(NULL, "198.51.100.7", 80, NULL), US_EAI_SYSTEM);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(a_name_without_any_runtime_fails_with_enetdown)
{
	struct us_addrinfo *res = (struct us_addrinfo *)&res;

	ck_assert_ptr_null(us_runtime_default());
	errno = 0;
	ck_assert_int_eq(us_getaddrinfo(NULL, "www.example.test", 80, &res), US_EAI_SYSTEM);
	ck_assert_int_eq(errno, ENETDOWN);
	ck_assert_ptr_null(res);
}
END_TEST

START_TEST(every_error_code_has_its_message)
{
	ck_assert_str_eq(us_gai_strerror(0), "Success");
	ck_assert_str_eq(us_gai_strerror(US_EAI_NONAME), "Name or service not known");
	ck_assert_str_eq(us_gai_strerror(US_EAI_AGAIN), "Temporary failure in name resolution");
	ck_assert_str_eq(us_gai_strerror(US_EAI_FAIL),
			 "Non-recoverable failure in name resolution");
	ck_assert_str_eq(us_gai_strerror(US_EAI_FAMILY), "Address family not supported");
	ck_assert_str_eq(us_gai_strerror(US_EAI_MEMORY), "Memory allocation failure");
	ck_assert_str_eq(us_gai_strerror(US_EAI_SYSTEM), "System error");
	ck_assert_str_eq(us_gai_strerror(-99), "Unknown error");
}
END_TEST

/* ---- Hosts table and localhost ------------------------------------------ */

START_TEST(hosts_entries_come_in_table_order_with_the_port_asked)
{
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("printer.lan", &res), 0);
	ck_assert_uint_eq(count(res), 2);
	assert_entry(res, US_AF_INET, 0xc6336409, NULL, 80, "printer.lan");
	static const struct us_ip6 v6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 9}};
	assert_entry(res->next, US_AF_INET6, 0, &v6, 80, "printer.lan");
	us_freeaddrinfo(res);

	/* The table wins over DNS: the server is never asked. */
	ck_assert_int_eq(lookup("www.override.test", &res), 0);
	ck_assert_uint_eq(count(res), 1);
	assert_entry(res, US_AF_INET, 0xc633640b, NULL, 80, "www.override.test");
	us_freeaddrinfo(res);
	ck_assert_int_eq(atomic_load(&srv.n_log), 0);
	teardown();
}
END_TEST

START_TEST(hosts_names_match_without_case_or_trailing_dot)
{
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("box.lan", &res), 0);
	ck_assert_uint_eq(count(res), 1);
	/* The table's port (9999) is not used: the port asked is. */
	assert_entry(res, US_AF_INET, 0xc633640a, NULL, 80, "Box.LAN.");
	us_freeaddrinfo(res);
	ck_assert_int_eq(lookup("PRINTER.LAN.", &res), 0);
	ck_assert_uint_eq(count(res), 2);
	us_freeaddrinfo(res);
	ck_assert_int_eq(atomic_load(&srv.n_log), 0);
	teardown();
}
END_TEST

START_TEST(localhost_is_never_sent_to_the_name_server)
{
	struct us_addrinfo *res = (struct us_addrinfo *)&res;

	setup_v4();
	ck_assert_int_eq(lookup("localhost", &res), US_EAI_NONAME);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(lookup("LocalHost.", &res), US_EAI_NONAME);
	ck_assert_int_eq(lookup("db.localhost", &res), US_EAI_NONAME);
	/* Not under localhost: goes to DNS (and www answers). */
	ck_assert_int_eq(lookup("www.notlocalhost", &res), 0);
	ck_assert_uint_eq(count(res), 2);
	us_freeaddrinfo(res);
	ck_assert_int_eq(atomic_load(&srv.n_log), 2);
	teardown();
}
END_TEST

START_TEST(localhost_may_be_mapped_in_the_hosts_table)
{
	static const struct us_host_entry lh[] = {
	    {"localhost", {.family = US_AF_INET, .ip4 = CLIENT_IP4}},
	};
	struct us_addr dns = {.family = US_AF_INET, .ip4 = SERVER_IP4};
	struct us_addrinfo *res = NULL;

	setup_with(&dns, lh, 1);
	ck_assert_int_eq(lookup("localhost", &res), 0);
	ck_assert_uint_eq(count(res), 1);
	assert_entry(res, US_AF_INET, CLIENT_IP4, NULL, 80, "localhost");
	us_freeaddrinfo(res);
	teardown();
}
END_TEST

START_TEST(without_a_name_server_other_names_are_noname)
{
	struct us_addrinfo *res = (struct us_addrinfo *)&res;

	setup_with(NULL, hosts, sizeof hosts / sizeof hosts[0]);
	ck_assert_int_eq(lookup("www.example.org", &res), US_EAI_NONAME);
	ck_assert_ptr_null(res);
	/* The default runtime (the first started: the server's) serves NULL. */
	ck_assert_ptr_eq(us_runtime_default(), srv.rt);
	ck_assert_int_eq(us_getaddrinfo(NULL, "printer.lan", 80, &res), US_EAI_NONAME);
	ck_assert_int_eq(atomic_load(&srv.n_log), 0);
	teardown();
}
END_TEST

START_TEST(names_dns_cannot_carry_are_noname_without_a_query)
{
	char label64[80];
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("www..test", &res), US_EAI_NONAME);
	ck_assert_int_eq(lookup("", &res), US_EAI_NONAME);
	ck_assert_int_eq(lookup(".", &res), US_EAI_NONAME);
	memset(label64, 'x', 64);
	strcpy(label64 + 64, ".test");
	ck_assert_int_eq(lookup(label64, &res), US_EAI_NONAME);
	ck_assert_int_eq(atomic_load(&srv.n_log), 0);
	teardown();
}
END_TEST

/* ---- DNS answers -------------------------------------------------------- */

START_TEST(dns_gives_ipv4_then_ipv6_from_two_queries_on_two_ports)
{
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("www.example.test", &res), 0);
	ck_assert_uint_eq(count(res), 2);
	assert_entry(res, US_AF_INET, WWW_IP4, NULL, 80, "www.example.test");
	assert_entry(res->next, US_AF_INET6, 0, &www_ip6, 80, "www.example.test");
	us_freeaddrinfo(res);

	/* The queries: A and AAAA, standard queries with RD, one question
	 * each (12 + 18 + 4 octets), random IDs that differ, each from its
	 * own ephemeral port (RFC 5452 §9.1, RFC 6056). */
	ck_assert_int_eq(atomic_load(&srv.n_log), 2);
	struct logged a = logged(0), aaaa = logged(1);
	if (a.qtype != TYPE_A) {
		struct logged t = a;
		a = aaaa;
		aaaa = t;
	}
	ck_assert_uint_eq(a.qtype, TYPE_A);
	ck_assert_uint_eq(aaaa.qtype, TYPE_AAAA);
	ck_assert_str_eq(a.name, "www.example.test");
	ck_assert_uint_eq(a.flags, 0x0100);
	ck_assert_uint_eq(a.qdcount, 1);
	ck_assert_uint_eq(a.len, 34);
	ck_assert_uint_eq(aaaa.len, 34);
	ck_assert_uint_ne(a.id, aaaa.id);
	ck_assert_uint_ne(a.sport, aaaa.sport);
	ck_assert_uint_ge(a.sport, 49152);
	ck_assert_uint_ge(aaaa.sport, 49152);
	ck_assert_int_eq(a.from.family, US_AF_INET);
	ck_assert_uint_eq(a.from.ip4, CLIENT_IP4);
	teardown();
}
END_TEST

START_TEST(without_a_cname_the_name_as_given_is_the_canonname)
{
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("WWW.Example.test.", &res), 0);
	ck_assert_uint_eq(count(res), 2);
	assert_entry(res, US_AF_INET, WWW_IP4, NULL, 80, "WWW.Example.test.");
	assert_entry(res->next, US_AF_INET6, 0, &www_ip6, 80, "WWW.Example.test.");
	us_freeaddrinfo(res);
	teardown();
}
END_TEST

START_TEST(the_servers_order_is_kept_within_a_family)
{
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("multi.example.test", &res), 0);
	ck_assert_uint_eq(count(res), 4);
	assert_entry(res, US_AF_INET, OTHER_IP4, NULL, 80, "multi.example.test");
	assert_entry(res->next, US_AF_INET, WWW_IP4, NULL, 80, "multi.example.test");
	assert_entry(res->next->next, US_AF_INET6, 0, &other_ip6, 80, "multi.example.test");
	assert_entry(res->next->next->next, US_AF_INET6, 0, &www_ip6, 80, "multi.example.test");
	us_freeaddrinfo(res);
	teardown();
}
END_TEST

START_TEST(a_cname_gives_the_canonical_name)
{
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("alias.example.test", &res), 0);
	ck_assert_uint_eq(count(res), 2);
	assert_entry(res, US_AF_INET, WWW_IP4, NULL, 80, "www.example.test");
	assert_entry(res->next, US_AF_INET6, 0, &www_ip6, 80, "www.example.test");
	us_freeaddrinfo(res);
	teardown();
}
END_TEST

START_TEST(no_data_for_one_family_gives_the_other)
{
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("v4.example.test", &res), 0);
	ck_assert_uint_eq(count(res), 1);
	assert_entry(res, US_AF_INET, OTHER_IP4, NULL, 80, "v4.example.test");
	us_freeaddrinfo(res);
	teardown();
}
END_TEST

START_TEST(nxdomain_is_noname_at_once)
{
	struct us_addrinfo *res = (struct us_addrinfo *)&res;

	setup_v4();
	ck_assert_int_eq(lookup("nx.example.test", &res), US_EAI_NONAME);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(us_runtime_now(client), T0);
	teardown();
}
END_TEST

START_TEST(nxdomain_for_one_type_ends_the_lookup_without_the_other)
{
	struct call c;

	setup_v4();
	call_start(&c, "nxa.example.test");
	call_join(&c);
	ck_assert_int_eq(c.rc, US_EAI_NONAME);
	ck_assert_int_eq(us_runtime_now(client), T0);
	teardown();
}
END_TEST

/* A failure answer ends each try at once; after the third: US_EAI_FAIL. */
static void fails_after_three_tries(const char *name)
{
	struct us_addrinfo *res = (struct us_addrinfo *)&res;

	setup_v4();
	ck_assert_int_eq(lookup(name, &res), US_EAI_FAIL);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(queries_for(name, TYPE_A), 3);
	ck_assert_int_eq(queries_for(name, TYPE_AAAA), 3);
	ck_assert_int_eq(us_runtime_now(client), T0);
	teardown();
}

START_TEST(servfail_is_fail_after_every_try)
{
	fails_after_three_tries("servfail.example.test");
}
END_TEST

START_TEST(refused_is_fail_after_every_try)
{
	fails_after_three_tries("refused.example.test");
}
END_TEST

START_TEST(a_truncated_answer_is_fail_for_want_of_tcp)
{
	fails_after_three_tries("tc.example.test");
}
END_TEST

START_TEST(a_malformed_answer_is_fail)
{
	fails_after_three_tries("bad.example.test");
}
END_TEST

START_TEST(a_cname_loop_is_fail)
{
	fails_after_three_tries("loop.example.test");
}
END_TEST

START_TEST(answers_from_another_port_with_another_id_or_question_are_discarded)
{
	struct us_addrinfo *res = NULL;

	setup_v4();
	ck_assert_int_eq(lookup("spoof.example.test", &res), 0);
	ck_assert_uint_eq(count(res), 2);
	assert_entry(res, US_AF_INET, WWW_IP4, NULL, 80, "spoof.example.test");
	assert_entry(res->next, US_AF_INET6, 0, &www_ip6, 80, "spoof.example.test");
	us_freeaddrinfo(res);
	ck_assert_int_eq(atomic_load(&srv.n_log), 2);
	teardown();
}
END_TEST

/* ---- Timeouts and retries on the virtual clock -------------------------- */

START_TEST(a_silent_server_is_eai_again_after_three_tries_of_two_seconds)
{
	struct call c;

	setup_v4();
	call_start(&c, "silent.example.test");
	wait_queries(2);
	struct logged first[2] = {logged(0), logged(1)};
	call_still_waits(&c);
	/* A try ends at its deadline, not a microsecond before. */
	move_clock(T0 + US_SEC(2) - 1);
	call_still_waits(&c);
	ck_assert_int_eq(atomic_load(&srv.n_log), 2);
	move_clock(T0 + US_SEC(2));
	wait_queries(4);
	/* The second try sends the same queries from the same ports. */
	for (int i = 0; i < 2; i++) {
		struct logged again = logged(2 + i);
		int j = again.qtype == first[0].qtype ? 0 : 1;
		ck_assert_uint_eq(again.qtype, first[j].qtype);
		ck_assert_uint_eq(again.id, first[j].id);
		ck_assert_uint_eq(again.sport, first[j].sport);
	}
	call_still_waits(&c);
	move_clock(T0 + US_SEC(4));
	wait_queries(6);
	call_still_waits(&c);
	move_clock(T0 + US_SEC(6));
	call_join(&c);
	ck_assert_int_eq(c.rc, US_EAI_AGAIN);
	ck_assert_ptr_null(c.res);
	ck_assert_int_eq(atomic_load(&srv.n_log), 6);
	teardown();
}
END_TEST

START_TEST(a_lost_answer_is_asked_again_on_the_next_try)
{
	struct call c;

	setup_v4();
	call_start(&c, "late.example.test");
	wait_queries(2);
	call_still_waits(&c);
	move_clock(T0 + US_SEC(2));
	call_join(&c);
	ck_assert_int_eq(c.rc, 0);
	ck_assert_uint_eq(count(c.res), 2);
	assert_entry(c.res, US_AF_INET, WWW_IP4, NULL, 80, "late.example.test");
	us_freeaddrinfo(c.res);
	ck_assert_int_eq(atomic_load(&srv.n_log), 4);
	teardown();
}
END_TEST

START_TEST(one_silent_family_still_gives_the_other_after_every_try)
{
	struct call c;

	setup_v4();
	call_start(&c, "half.example.test");
	wait_queries(2);
	move_clock(T0 + US_SEC(2));
	/* Only the unanswered AAAA query is sent again. */
	wait_queries(3);
	ck_assert_int_eq(queries_for("half.example.test", TYPE_AAAA), 2);
	move_clock(T0 + US_SEC(4));
	wait_queries(4);
	call_still_waits(&c);
	move_clock(T0 + US_SEC(6));
	call_join(&c);
	ck_assert_int_eq(c.rc, 0);
	ck_assert_uint_eq(count(c.res), 1);
	assert_entry(c.res, US_AF_INET, WWW_IP4, NULL, 80, "half.example.test");
	us_freeaddrinfo(c.res);
	teardown();
}
END_TEST

START_TEST(stopping_the_runtime_ends_a_lookup_with_enetdown)
{
	struct call c;

	setup_v4();
	call_start(&c, "silent.example.test");
	wait_queries(2);
	us_runtime_stop(client);
	client = NULL;
	call_join(&c);
	ck_assert_int_eq(c.rc, US_EAI_SYSTEM);
	ck_assert_int_eq(c.err, ENETDOWN);
	us_runtime_stop(srv.rt);
	pthread_join(srv.thread, NULL);
	us_close(srv.sock);
	us_close(srv.alt);
}
END_TEST

START_TEST(no_server_listening_is_eai_again_without_waiting)
{
	/* Port 54: nobody listens, the server's stack answers each query
	 * with ICMP port unreachable, which ends the try at once. */
	struct us_addr dns = {.family = US_AF_INET, .ip4 = SERVER_IP4, .port = 54};
	struct us_addrinfo *res = (struct us_addrinfo *)&res;

	setup_with(&dns, NULL, 0);
	ck_assert_int_eq(lookup("www.example.test", &res), US_EAI_AGAIN);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(us_runtime_now(client), T0);
	ck_assert_int_eq(atomic_load(&srv.n_log), 0);
	teardown();
}
END_TEST

START_TEST(dns_runs_over_ipv6_too)
{
	struct us_addr dns = {.family = US_AF_INET6, .ip6 = server_ip6, .port = 53};
	struct us_addrinfo *res = NULL;

	setup_with(&dns, NULL, 0);
	ck_assert_int_eq(lookup("alias.example.test", &res), 0);
	ck_assert_uint_eq(count(res), 2);
	assert_entry(res, US_AF_INET, WWW_IP4, NULL, 80, "www.example.test");
	assert_entry(res->next, US_AF_INET6, 0, &www_ip6, 80, "www.example.test");
	us_freeaddrinfo(res);
	ck_assert_int_eq(atomic_load(&srv.n_log), 2);
	for (int i = 0; i < 2; i++) {
		struct logged l = logged(i);
		ck_assert_int_eq(l.from.family, US_AF_INET6);
		ck_assert_mem_eq(l.from.ip6.b, client_ip6.b, 16);
	}
	teardown();
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("local");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_numeric_ipv4_address_needs_no_lookup_and_no_runtime);
	tcase_add_test(tc, a_numeric_ipv6_address_needs_no_lookup);
	tcase_add_test(tc, null_arguments_fail_with_einval);
	tcase_add_test(tc, a_name_without_any_runtime_fails_with_enetdown);
	tcase_add_test(tc, every_error_code_has_its_message);
	tcase_add_test(tc, hosts_entries_come_in_table_order_with_the_port_asked);
	tcase_add_test(tc, hosts_names_match_without_case_or_trailing_dot);
	tcase_add_test(tc, localhost_is_never_sent_to_the_name_server);
	tcase_add_test(tc, localhost_may_be_mapped_in_the_hosts_table);
	tcase_add_test(tc, without_a_name_server_other_names_are_noname);
	tcase_add_test(tc, names_dns_cannot_carry_are_noname_without_a_query);
	suite_add_tcase(s, tc);

	tc = tcase_create("dns");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, dns_gives_ipv4_then_ipv6_from_two_queries_on_two_ports);
	tcase_add_test(tc, without_a_cname_the_name_as_given_is_the_canonname);
	tcase_add_test(tc, the_servers_order_is_kept_within_a_family);
	tcase_add_test(tc, a_cname_gives_the_canonical_name);
	tcase_add_test(tc, no_data_for_one_family_gives_the_other);
	tcase_add_test(tc, nxdomain_is_noname_at_once);
	tcase_add_test(tc, nxdomain_for_one_type_ends_the_lookup_without_the_other);
	tcase_add_test(tc, servfail_is_fail_after_every_try);
	tcase_add_test(tc, refused_is_fail_after_every_try);
	tcase_add_test(tc, a_truncated_answer_is_fail_for_want_of_tcp);
	tcase_add_test(tc, a_malformed_answer_is_fail);
	tcase_add_test(tc, a_cname_loop_is_fail);
	tcase_add_test(tc, answers_from_another_port_with_another_id_or_question_are_discarded);
	tcase_add_test(tc, no_server_listening_is_eai_again_without_waiting);
	tcase_add_test(tc, dns_runs_over_ipv6_too);
	suite_add_tcase(s, tc);

	tc = tcase_create("timing");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_silent_server_is_eai_again_after_three_tries_of_two_seconds);
	tcase_add_test(tc, a_lost_answer_is_asked_again_on_the_next_try);
	tcase_add_test(tc, one_silent_family_still_gives_the_other_after_every_try);
	tcase_add_test(tc, stopping_the_runtime_ends_a_lookup_with_enetdown);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/tap/raw_ping.c - a raw ICMP socket of the socket API pings the
 * kernel: us_socket(rt, US_AF_INET, US_SOCK_RAW, US_IPPROTO_ICMP) sends an
 * Echo Request (RFC 792) to 198.51.100.1 with us_sendto() and reads the
 * Echo Reply with us_recvfrom() and a timeout; the same over ICMPv6
 * (RFC 4443 §4.1, §4.2) to 2001:db8:1::1.
 *
 * What it checks, following src/stack/raw.c (Linux raw(7), RFC 3542 §3):
 *  - IPv4: the payload handed to us_sendto() is the ICMP message as is (the
 *    caller fills its checksum); what us_recvfrom() returns starts with the
 *    IPv4 header (version 4, protocol 1, source the kernel, destination the
 *    stack), then the Echo Reply: type 0, code 0, a valid checksum, our
 *    identifier, sequence number and data;
 *  - IPv6: payload only both ways; the checksum field is sent as zero and
 *    the stack fills it (RFC 3542 §3.1), so the kernel's reply proves it
 *    right; the reply is type 129 with our identifier, sequence and data;
 *  - from: the kernel's address; the socket's timeout ends a wait that gets
 *    nothing with ETIMEDOUT (checked against a silent address).
 * Other ICMP messages on the socket (a raw socket gets a copy of every
 * ICMPv6 packet, Neighbor Discovery too) are skipped.
 *
 * Runs inside a namespace made by netns-run.sh, through test-raw-ping.sh,
 * which makes tap0 and its kernel side (198.51.100.1/24, 2001:db8:1::1/64).
 * Prints "ok: ..." / "FAIL: ..." lines; exit 0 when everything passed, 1
 * otherwise. Read include/ustack/ustack.h (the socket API) first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#include "cli.h"
#include "wire/bytes.h"
#include "wire/checksum.h"

#define KERNEL_IP4 "198.51.100.1"
#define KERNEL_IP6 "2001:db8:1::1"
#define SILENT_IP4 "198.51.100.99"
#define STACK_MAC "02:5e:10:00:00:02"
#define ECHO_ID 0x7531
#define DATA_LEN 56
#define TRIES 3
#define TIMEOUT_S 2.0

static int failed;

static void check(bool ok, const char *what, const char *detail)
{
	if (ok) {
		printf("ok: %s\n", what);
	} else {
		printf("FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
		failed = 1;
	}
	fflush(stdout);
}

/* An Echo Request (type 8 or 128): type, code, checksum, id, seq, data. */
static size_t build_echo(uint8_t *buf, uint8_t type, uint16_t seq, bool fill_csum)
{
	buf[0] = type;
	buf[1] = 0;
	us_put_be16(buf + 2, 0);
	us_put_be16(buf + 4, ECHO_ID);
	us_put_be16(buf + 6, seq);
	for (int i = 0; i < DATA_LEN; i++)
		buf[8 + i] = (uint8_t)(0xa0 + i);
	size_t len = 8 + DATA_LEN;
	if (fill_csum)
		us_csum_fill(buf, len, 2, 0);
	return len;
}

/* True when msg is our Echo Reply to seq (type reply_type, code 0, data echoed). */
static bool is_our_reply(const uint8_t *msg, size_t len, uint8_t reply_type, uint16_t seq)
{
	return len == 8 + DATA_LEN && msg[0] == reply_type && msg[1] == 0 &&
	       us_get_be16(msg + 4) == ECHO_ID && us_get_be16(msg + 6) == seq;
}

static bool data_echoed(const uint8_t *msg)
{
	for (int i = 0; i < DATA_LEN; i++)
		if (msg[8 + i] != (uint8_t)(0xa0 + i))
			return false;
	return true;
}

/* IPv4: sends requests with seq 1..TRIES until our reply comes; checks it. */
static void ping4(struct us_runtime *rt)
{
	int s = us_socket(rt, US_AF_INET, US_SOCK_RAW, US_IPPROTO_ICMP);
	check(s >= 0, "us_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)", strerror(errno));
	if (s < 0)
		return;
	check(us_settimeout(s, TIMEOUT_S) == 0, "us_settimeout on the raw socket", strerror(errno));
	struct us_addr dst, kernel;
	us_addr_parse(KERNEL_IP4, 0, &dst);
	kernel = dst;
	uint8_t req[8 + DATA_LEN], buf[2048];
	bool got = false;
	for (uint16_t seq = 1; seq <= TRIES && !got; seq++) {
		size_t len = build_echo(req, 8, seq, true);
		ssize_t n = us_sendto(s, req, len, &dst);
		check(n == (ssize_t)len, "us_sendto of an ICMP Echo Request to " KERNEL_IP4,
		      n < 0 ? strerror(errno) : "short send");
		for (;;) {
			struct us_addr from;
			n = us_recvfrom(s, buf, sizeof buf, &from);
			if (n < 0) {
				if (errno != ETIMEDOUT)
					check(false, "us_recvfrom on the raw socket", strerror(errno));
				break;
			}
			/* RFC 791 §3.1: version 4, IHL in 32-bit words. */
			if (n < 20 || (buf[0] >> 4) != 4 || (size_t)(buf[0] & 15) * 4 > (size_t)n)
				continue;
			size_t ihl = (size_t)(buf[0] & 15) * 4;
			const uint8_t *icmp = buf + ihl;
			size_t ilen = (size_t)n - ihl;
			if (!is_our_reply(icmp, ilen, 0, seq))
				continue;
			got = true;
			check(ihl >= 20 && buf[9] == US_IPPROTO_ICMP &&
				      us_get_be32(buf + 12) == kernel.ip4 &&
				      us_get_be16(buf + 2) == (uint16_t)n,
			      "IPv4 raw socket: the reply comes with its IPv4 header (protocol 1, "
			      "from the kernel, total length the bytes read)", NULL);
			check(us_csum_ok(icmp, ilen, 0), "IPv4 Echo Reply checksum is valid", NULL);
			check(data_echoed(icmp), "IPv4 Echo Reply carries our data", NULL);
			check(from.family == US_AF_INET && from.ip4 == kernel.ip4,
			      "us_recvfrom reports the kernel's address", NULL);
			break;
		}
	}
	check(got, "IPv4 raw socket reads the kernel's Echo Reply", NULL);

	/* Nobody answers at a silent address: the timeout ends the wait. */
	us_addr_parse(SILENT_IP4, 0, &dst);
	check(us_settimeout(s, 0.5) == 0, "us_settimeout(0.5)", strerror(errno));
	size_t len = build_echo(req, 8, 100, true);
	us_sendto(s, req, len, &dst);
	int err = 0;
	struct us_addr from;
	for (int i = 0; i < 20 && !err; i++)
		if (us_recvfrom(s, buf, sizeof buf, &from) < 0)
			err = errno;
	check(err == ETIMEDOUT, "us_recvfrom with nothing to read ends in ETIMEDOUT",
	      err ? strerror(err) : "datagrams kept coming");
	check(us_close(s) == 0, "us_close of the IPv4 raw socket", strerror(errno));
}

/* IPv6: the checksum left zero for the stack to fill (RFC 3542 §3.1). */
static void ping6(struct us_runtime *rt)
{
	int s = us_socket(rt, US_AF_INET6, US_SOCK_RAW, US_IPPROTO_ICMPV6);
	check(s >= 0, "us_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)", strerror(errno));
	if (s < 0)
		return;
	check(us_settimeout(s, TIMEOUT_S) == 0, "us_settimeout on the raw socket", strerror(errno));
	struct us_addr dst;
	us_addr_parse(KERNEL_IP6, 0, &dst);
	uint8_t req[8 + DATA_LEN], buf[2048];
	bool got = false;
	for (uint16_t seq = 1; seq <= TRIES && !got; seq++) {
		size_t len = build_echo(req, 128, seq, false);
		ssize_t n = us_sendto(s, req, len, &dst);
		check(n == (ssize_t)len, "us_sendto of an ICMPv6 Echo Request to " KERNEL_IP6,
		      n < 0 ? strerror(errno) : "short send");
		for (;;) {
			struct us_addr from;
			n = us_recvfrom(s, buf, sizeof buf, &from);
			if (n < 0) {
				if (errno != ETIMEDOUT)
					check(false, "us_recvfrom on the raw socket", strerror(errno));
				break;
			}
			if (!is_our_reply(buf, (size_t)n, 129, seq))
				continue; /* Neighbor Discovery and the like */
			got = true;
			check(data_echoed(buf), "ICMPv6 Echo Reply carries our data", NULL);
			check(from.family == US_AF_INET6 && !memcmp(&from.ip6, &dst.ip6, sizeof dst.ip6),
			      "us_recvfrom reports the kernel's IPv6 address", NULL);
			break;
		}
	}
	check(got, "IPv6 raw socket reads the kernel's Echo Reply (payload only; the stack "
		   "filled the checksum of the request)", NULL);
	check(us_close(s) == 0, "us_close of the IPv6 raw socket", strerror(errno));
}

int main(void)
{
	static struct us_cli_link l;
	us_cli_link_defaults(&l, US_CLI_LOG_QUIET);
	if (us_cli_mac(&l, STACK_MAC))
		return 1;
	int rc;
	struct us_runtime *rt = us_runtime_start(&l.cfg, &rc);
	if (!rt) {
		printf("FAIL: cannot start a runtime on tap0: %s\n", strerror(-rc));
		return 1;
	}
	check(us_cli_wait_link_running(l.cfg.tap_name, 3000), "the kernel side of tap0 runs",
	      NULL);
	check(us_cli_wait_ipv6_dad(rt, &l, 10000) == 0, "duplicate address detection is done",
	      NULL);
	ping4(rt);
	ping6(rt);
	us_runtime_stop(rt);
	return failed;
}

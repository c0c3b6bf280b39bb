/* SPDX-License-Identifier: MIT */
/*
 * bench-tapceil - the TAP ceiling: the most any stack on a TAP device can
 * move here. No stack: it reads frames from the TAP device and answers by
 * hand, one TCP connection at a time, IPv4 only.
 *
 *   bench-tapceil --tap NAME --ip4 ADDR [--duration SECONDS]
 *
 *  - ARP: answers requests for ADDR (RFC 826).
 *  - TCP port 5001 (sink): answers a SYN with a SYN,ACK (MSS 1460, window
 *    scale 7 when the SYN offers it, RFC 7323 §2), then takes in-order data
 *    and answers with bare ACKs, one per two segments and one whenever the
 *    device has nothing more to read (what a receiver with delayed ACKs
 *    does, without the timer); a FIN is answered with FIN,ACK. Checksums of
 *    what arrives are not verified.
 *  - TCP port 5002 (source): after the handshake, sends MSS-sized segments
 *    of a fixed payload (its checksum sum computed once) as far as the
 *    peer's window allows, with no congestion control; three duplicate ACKs
 *    or 50 ms without progress send everything again from snd_una
 *    (go-back-N). A FIN or RST ends the connection.
 *  - ICMP echo requests are answered (RFC 792).
 * Anything else is ignored. Headers go through src/stack/wire/bytes.h.
 *
 * It is what a TAP-based stack cannot beat: one read() per frame in, one
 * write() per frame out, and nothing else. Read RFC 9293 §3.1 for the
 * header, then main().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "bytes.h"

#define ETH_LEN 14
#define IP_LEN 20
#define TCP_LEN 20
#define PORT_SINK 5001
#define PORT_SOURCE 5002
#define OUR_MSS 1460
#define OUR_WSCALE 7
#define RTO_NS 50000000ull
#define BATCH 64

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

static const uint8_t our_mac[6] = { 0x02, 0x5e, 0x10, 0x00, 0x00, 0x03 };
static uint32_t our_ip;
static int tap;

struct conn {
	bool active, established, source;
	uint8_t rmac[6];
	uint32_t raddr;
	uint16_t rport, lport;
	uint32_t rcv_nxt, iss, snd_una, snd_nxt, snd_wnd;
	int snd_wscale; /* the peer's shift, or 0 */
	bool wscale_ok;
	uint16_t mss;
	int pending_acks; /* data segments not yet acknowledged */
	int dupacks;
	uint64_t last_progress_ns;
	uint32_t payload_sum; /* of mss bytes of the fixed payload */
};

static struct conn c;
static uint8_t payload[OUR_MSS];
static unsigned long long frames_in, frames_out, acks_out, data_out;

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* RFC 1071: the 16-bit one's complement sum, not yet folded. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += us_get_be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void send_frame(const uint8_t *f, size_t len)
{
	if (write(tap, f, len) == (ssize_t)len)
		frames_out++;
}

/* One TCP segment to the peer: header (+ options) and optionally the fixed
 * payload of len bytes. */
static void send_tcp(uint8_t flags, uint32_t seq, const uint8_t *opts, size_t optlen,
		     size_t len)
{
	uint8_t f[ETH_LEN + IP_LEN + TCP_LEN + 40 + OUR_MSS];
	size_t thl = TCP_LEN + optlen;
	uint8_t *ip = f + ETH_LEN, *tcp = ip + IP_LEN;

	memcpy(f, c.rmac, 6);
	memcpy(f + 6, our_mac, 6);
	us_put_be16(f + 12, 0x0800);
	memset(ip, 0, IP_LEN);
	ip[0] = 0x45;
	us_put_be16(ip + 2, (uint16_t)(IP_LEN + thl + len));
	us_put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	us_put_be32(ip + 12, our_ip);
	us_put_be32(ip + 16, c.raddr);
	us_put_be16(ip + 10, fold(sum16(ip, IP_LEN, 0)));

	us_put_be16(tcp, c.lport);
	us_put_be16(tcp + 2, c.rport);
	us_put_be32(tcp + 4, seq);
	us_put_be32(tcp + 8, c.rcv_nxt);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = flags;
	us_put_be16(tcp + 14, 65535); /* << OUR_WSCALE when agreed */
	us_put_be16(tcp + 16, 0);
	us_put_be16(tcp + 18, 0);
	if (optlen)
		memcpy(tcp + TCP_LEN, opts, optlen);
	uint32_t sum = (our_ip >> 16) + (our_ip & 0xffff) + (c.raddr >> 16) +
		       (c.raddr & 0xffff) + 6 + (uint32_t)(thl + len);
	sum = sum16(tcp, thl, sum);
	if (len) {
		memcpy(tcp + thl, payload, len);
		sum += len == c.mss ? c.payload_sum : sum16(payload, len, 0);
	}
	us_put_be16(tcp + 16, fold(sum));
	send_frame(f, ETH_LEN + IP_LEN + thl + len);
}

static void send_ack(void)
{
	send_tcp(TCP_ACK, c.snd_nxt, NULL, 0, 0);
	acks_out++;
	c.pending_acks = 0;
}

static void arp_input(const uint8_t *f, size_t len)
{
	if (len < ETH_LEN + 28)
		return;
	const uint8_t *a = f + ETH_LEN;
	if (us_get_be16(a + 6) != 1 || us_get_be32(a + 24) != our_ip)
		return;
	uint8_t r[ETH_LEN + 28 + 18] = { 0 };
	memcpy(r, a + 8, 6);
	memcpy(r + 6, our_mac, 6);
	us_put_be16(r + 12, 0x0806);
	uint8_t *p = r + ETH_LEN;
	us_put_be16(p, 1);
	us_put_be16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	us_put_be16(p + 6, 2);
	memcpy(p + 8, our_mac, 6);
	us_put_be32(p + 14, our_ip);
	memcpy(p + 18, a + 8, 10);
	send_frame(r, sizeof r);
}

/* ICMP echo request (RFC 792): the reply is the request with the addresses
 * swapped and the type 0 (so that ping can tell the program is up). */
static void icmp_input(const uint8_t *f, size_t len)
{
	uint8_t r[2048];
	const uint8_t *ip = f + ETH_LEN;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, tot = us_get_be16(ip + 2);
	if (ihl != IP_LEN || tot > len - ETH_LEN || tot < IP_LEN + 8 || tot > sizeof r - ETH_LEN ||
	    ip[IP_LEN] != 8)
		return;
	memcpy(r, f + 6, 6);
	memcpy(r + 6, our_mac, 6);
	memcpy(r + 12, f + 12, 2 + tot);
	uint8_t *rip = r + ETH_LEN, *icmp = rip + IP_LEN;
	us_put_be32(rip + 12, our_ip);
	us_put_be32(rip + 16, us_get_be32(ip + 12));
	rip[8] = 64;
	us_put_be16(rip + 10, 0);
	us_put_be16(rip + 10, fold(sum16(rip, IP_LEN, 0)));
	icmp[0] = 0;
	us_put_be16(icmp + 2, 0);
	us_put_be16(icmp + 2, fold(sum16(icmp, tot - IP_LEN, 0)));
	send_frame(r, ETH_LEN + tot);
}

/* SYN: a new connection replaces whatever was there. */
static void tcp_syn(const uint8_t *f, const uint8_t *tcp, size_t thl, uint32_t src, uint16_t dport)
{
	memset(&c, 0, sizeof c);
	c.active = true;
	c.source = dport == PORT_SOURCE;
	memcpy(c.rmac, f + 6, 6);
	c.raddr = src;
	c.rport = us_get_be16(tcp);
	c.lport = dport;
	c.rcv_nxt = us_get_be32(tcp + 4) + 1;
	c.iss = 1000;
	c.snd_una = c.iss;
	c.snd_nxt = c.iss + 1;
	c.mss = 536;
	c.snd_wnd = us_get_be16(tcp + 14);
	for (size_t i = TCP_LEN; i < thl;) {
		uint8_t kind = tcp[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= thl || tcp[i + 1] < 2 || i + tcp[i + 1] > thl)
			break;
		if (kind == 2 && tcp[i + 1] == 4)
			c.mss = us_get_be16(tcp + i + 2);
		if (kind == 3 && tcp[i + 1] == 3) {
			c.wscale_ok = true;
			c.snd_wscale = tcp[i + 2] > 14 ? 14 : tcp[i + 2];
		}
		i += tcp[i + 1];
	}
	if (c.mss > OUR_MSS)
		c.mss = OUR_MSS;
	c.payload_sum = sum16(payload, c.mss, 0);
	uint8_t opts[8] = { 2, 4, OUR_MSS >> 8, OUR_MSS & 0xff, 1, 3, 3, OUR_WSCALE };
	send_tcp(TCP_SYN | TCP_ACK, c.iss, opts, c.wscale_ok ? 8 : 4, 0);
	c.last_progress_ns = now_ns();
}

static void tcp_input(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + ETH_LEN;
	if (len < ETH_LEN + IP_LEN || (ip[0] >> 4) != 4 || us_get_be32(ip + 16) != our_ip)
		return;
	if (ip[9] == 1) {
		icmp_input(f, len);
		return;
	}
	if (ip[9] != 6)
		return;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, tot = us_get_be16(ip + 2);
	if (ihl < IP_LEN || tot > len - ETH_LEN || tot < ihl + TCP_LEN)
		return;
	const uint8_t *tcp = ip + ihl;
	size_t thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl < TCP_LEN || ihl + thl > tot)
		return;
	uint32_t src = us_get_be32(ip + 12);
	uint16_t sport = us_get_be16(tcp), dport = us_get_be16(tcp + 2);
	uint8_t flags = tcp[13];
	uint32_t seq = us_get_be32(tcp + 4), ack = us_get_be32(tcp + 8);
	size_t plen = tot - ihl - thl;

	if ((flags & TCP_SYN) && !(flags & TCP_ACK)) {
		if (dport == PORT_SINK || dport == PORT_SOURCE)
			tcp_syn(f, tcp, thl, src, dport);
		return;
	}
	if (!c.active || src != c.raddr || sport != c.rport || dport != c.lport)
		return;
	if (flags & TCP_RST) {
		c.active = false;
		return;
	}
	if (flags & TCP_ACK) {
		if (!c.established && ack == c.iss + 1)
			c.established = true;
		c.snd_wnd = (uint32_t)us_get_be16(tcp + 14) << (c.wscale_ok ? c.snd_wscale : 0);
		if ((int32_t)(ack - c.snd_una) > 0 && (int32_t)(ack - c.snd_nxt) <= 0) {
			c.snd_una = ack;
			c.dupacks = 0;
			c.last_progress_ns = now_ns();
		} else if (ack == c.snd_una && plen == 0 && c.snd_nxt != c.snd_una &&
			   ++c.dupacks >= 3) {
			c.snd_nxt = c.snd_una; /* go back N */
			c.dupacks = 0;
		}
	}
	if (plen > 0) {
		if (seq == c.rcv_nxt) {
			c.rcv_nxt += (uint32_t)plen;
			if (++c.pending_acks >= 2)
				send_ack();
		} else {
			send_ack(); /* out of order: say where we are */
		}
	}
	if ((flags & TCP_FIN) && seq + plen == c.rcv_nxt) {
		c.rcv_nxt++;
		send_tcp(TCP_FIN | TCP_ACK, c.snd_nxt, NULL, 0, 0);
		c.active = false;
	}
}

/* Source: segments while the peer's window has room, at most a batch. */
static void source_output(void)
{
	if (!c.active || !c.source || !c.established)
		return;
	uint64_t t = now_ns();
	if (c.snd_nxt != c.snd_una && t - c.last_progress_ns > RTO_NS) {
		c.snd_nxt = c.snd_una;
		c.last_progress_ns = t;
	}
	for (int i = 0; i < BATCH && c.snd_nxt - c.snd_una + c.mss <= c.snd_wnd; i++) {
		send_tcp(TCP_ACK, c.snd_nxt, NULL, 0, c.mss);
		c.snd_nxt += c.mss;
		data_out++;
	}
}

static int tap_open(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *name = NULL, *addr = NULL;
	double duration = 600;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--tap"))
			name = argv[i + 1];
		else if (!strcmp(argv[i], "--ip4"))
			addr = argv[i + 1];
		else if (!strcmp(argv[i], "--duration"))
			duration = atof(argv[i + 1]);
	}
	struct in_addr ia;
	if (!name || !addr || inet_pton(AF_INET, addr, &ia) != 1 || !(duration > 0) ||
	    duration > 3600) {
		fprintf(stderr, "usage: bench-tapceil --tap NAME --ip4 ADDR [--duration SECONDS]\n");
		return 2;
	}
	our_ip = ntohl(ia.s_addr);
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)('a' + i % 26);
	tap = tap_open(name);
	if (tap < 0) {
		fprintf(stderr, "bench-tapceil: cannot open %s: %s\n", name, strerror(errno));
		return 1;
	}
	printf("bench-tapceil ready\n");
	fflush(stdout);

	uint64_t end = now_ns() + (uint64_t)(duration * 1e9);
	uint8_t f[65536];
	while (now_ns() < end) {
		int got = 0;
		for (; got < BATCH; got++) {
			ssize_t n = read(tap, f, sizeof f);
			if (n <= 0)
				break;
			frames_in++;
			if (n < ETH_LEN)
				continue;
			uint16_t type = us_get_be16(f + 12);
			if (type == 0x0806)
				arp_input(f, (size_t)n);
			else if (type == 0x0800)
				tcp_input(f, (size_t)n);
		}
		if (got < BATCH && c.pending_acks)
			send_ack();
		source_output();
		if (got == 0) {
			bool can_send = c.active && c.source && c.established &&
					c.snd_nxt - c.snd_una + c.mss <= c.snd_wnd;
			if (!can_send) {
				struct pollfd p = { .fd = tap, .events = POLLIN };
				poll(&p, 1, 10);
			}
		}
	}
	printf("bench-tapceil: frames in %llu, out %llu (acks %llu, data %llu)\n", frames_in,
	       frames_out, acks_out, data_out);
	return 0;
}

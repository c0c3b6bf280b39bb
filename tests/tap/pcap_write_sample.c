/* SPDX-License-Identifier: MIT */
/*
 * tests/tap/pcap_write_sample.c - writes a pcap of four well-formed frames.
 *
 *   pcap_write_sample FILE
 *
 * tests/tap/test-pcap-tshark.sh runs this and has tshark (Wireshark) check
 * that the capture writer's files open cleanly: the right frames, the right
 * protocols, the right timestamps, no malformed packet, no bad checksum.
 *
 * The frames are literal bytes (RFC 826 ARP, RFC 791/792 IPv4 and ICMP,
 * RFC 8200/4443 IPv6 and ICMPv6), with checksums computed by hand and
 * verified by tshark. Addresses are the documentation ranges: 192.0.2.0/24
 * (RFC 5737), 2001:db8::/32 (RFC 3849), locally administered MACs.
 *
 * The file's timestamps: origin 1700000000 s (2023-11-14T22:13:20Z), frames
 * at +0, +1 ms, +2.5 ms and +1 s.
 */
#include <ustack/capture.h>

#include <stdio.h>
#include <string.h>

static const uint8_t arp_request[42] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* eth dst: broadcast */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* eth src */
	0x08, 0x06,                         /* ethertype ARP */
	0x00, 0x01, 0x08, 0x00,             /* htype Ethernet, ptype IPv4 */
	0x06, 0x04, 0x00, 0x01,             /* hlen 6, plen 4, op request */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* sender MAC */
	0xc0, 0x00, 0x02, 0x02,             /* sender IP 192.0.2.2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* target MAC: unknown */
	0xc0, 0x00, 0x02, 0x01,             /* target IP 192.0.2.1 */
};

static const uint8_t arp_reply[42] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* eth dst */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* eth src */
	0x08, 0x06,                         /* ethertype ARP */
	0x00, 0x01, 0x08, 0x00,             /* htype Ethernet, ptype IPv4 */
	0x06, 0x04, 0x00, 0x02,             /* hlen 6, plen 4, op reply */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* sender MAC */
	0xc0, 0x00, 0x02, 0x01,             /* sender IP 192.0.2.1 */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* target MAC */
	0xc0, 0x00, 0x02, 0x02,             /* target IP 192.0.2.2 */
};

static const uint8_t icmp4_echo_request[58] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* eth dst */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* eth src */
	0x08, 0x00,                         /* ethertype IPv4 */
	0x45, 0x00, 0x00, 0x2c,             /* version 4, IHL 5, TOS 0, total length 44 */
	0x00, 0x01, 0x40, 0x00,             /* id 1, DF, offset 0 */
	0x40, 0x01, 0xb6, 0xcc,             /* TTL 64, protocol ICMP, header checksum */
	0xc0, 0x00, 0x02, 0x02,             /* source 192.0.2.2 */
	0xc0, 0x00, 0x02, 0x01,             /* destination 192.0.2.1 */
	0x08, 0x00, 0x45, 0x27,             /* ICMP echo request, code 0, checksum */
	0x12, 0x34, 0x00, 0x01,             /* identifier 0x1234, sequence 1 */
	'u', 's', 't', 'a', 'c', 'k', ' ', 'p', 'i', 'n', 'g', ' ', '0', '1', '2', '3',
};

static const uint8_t icmp6_echo_request[78] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* eth dst */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* eth src */
	0x86, 0xdd,                         /* ethertype IPv6 */
	0x60, 0x00, 0x00, 0x00,             /* version 6, traffic class 0, flow label 0 */
	0x00, 0x18, 0x3a, 0x40,             /* payload length 24, next ICMPv6, hop limit 64 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* source 2001:db8::2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* destination 2001:db8::1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x80, 0x00, 0x71, 0x5f,             /* ICMPv6 echo request, code 0, checksum */
	0x12, 0x34, 0x00, 0x01,             /* identifier 0x1234, sequence 1 */
	'u', 's', 't', 'a', 'c', 'k', ' ', 'p', 'i', 'n', 'g', ' ', '0', '1', '2', '3',
};

static const struct {
	us_time_t ts;
	const uint8_t *frame;
	size_t len;
} frames[] = {
	{ US_USEC(0), arp_request, sizeof arp_request },
	{ US_MSEC(1), arp_reply, sizeof arp_reply },
	{ US_USEC(2500), icmp4_echo_request, sizeof icmp4_echo_request },
	{ US_SEC(1), icmp6_echo_request, sizeof icmp6_echo_request },
};

int main(int argc, char **argv)
{
	struct us_pcap_writer *w;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	w = us_pcap_writer_open(argv[1], &err);
	if (!w) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(-err));
		return 1;
	}
	us_pcap_writer_set_origin(w, US_SEC(1700000000));
	for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
		err = us_pcap_writer_write(w, frames[i].ts, frames[i].frame, frames[i].len);
		if (err) {
			fprintf(stderr, "%s: frame %zu: %s\n", argv[0], i + 1, strerror(-err));
			us_pcap_writer_close(w);
			return 1;
		}
	}
	err = us_pcap_writer_flush(w);
	us_pcap_writer_close(w);
	if (err) {
		fprintf(stderr, "%s: flush: %s\n", argv[0], strerror(-err));
		return 1;
	}
	return 0;
}

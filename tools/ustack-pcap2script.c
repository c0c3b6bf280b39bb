/* SPDX-License-Identifier: MIT */
/*
 * ustack-pcap2script - turns a capture of one TCP connection into a packet
 * script skeleton (docs/scripts.md) to edit and run with ustack-script.
 *
 *   ustack-pcap2script [--local ADDR] [--port PORT] [-o OUT] CAPTURE.pcap
 *
 * The side at ADDR (default: 198.51.100.2 or 2001:db8:1::2, the address the
 * TAP tests give ustack; else the side that answered the first SYN) becomes
 * the stack: its segments are `>` lines, the other side's `<` lines. The
 * first connection seen is converted (or the one with PORT at either end).
 * Numbers are made relative to each side's ISN, times to the first frame,
 * rounded to milliseconds with `set tolerance 0.005` so that a real host's
 * jitter does not fail the run. Socket calls are guessed: socket/bind/listen
 * and accept for a passive open, socket/connect for an active one, a read
 * after each segment of data that arrives, a write before new data leaves
 * and a close before the stack's FIN. Timestamps are left to the runner
 * (`TS val *` on the stack's segments, `ecr *` on the peer's): the stack's
 * clock there is not the captured one. Other frames are left out.
 *
 * Read first: docs/scripts.md "From a capture".
 */
#include "script/script.h"

#include <ustack/capture.h>

#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct side {
	int family;
	uint32_t ip4;
	struct us_ip6 ip6;
	uint16_t port;
};

static bool from_side(const struct us_script_frame *fr, const struct side *s)
{
	if (fr->family != s->family || fr->sport != s->port)
		return false;
	return s->family == 4 ? fr->src4 == s->ip4 : memcmp(fr->src6.b, s->ip6.b, 16) == 0;
}

static bool to_side(const struct us_script_frame *fr, const struct side *s)
{
	if (fr->family != s->family || fr->dport != s->port)
		return false;
	return s->family == 4 ? fr->dst4 == s->ip4 : memcmp(fr->dst6.b, s->ip6.b, 16) == 0;
}

static bool addr_is(const struct us_script_frame *fr, bool src, const char *text)
{
	if (!text)
		return false;
	uint32_t a4;
	struct us_ip6 a6;
	if (fr->family == 4 && us_ipv4_parse_text(text, &a4) == 0)
		return (src ? fr->src4 : fr->dst4) == a4;
	if (fr->family == 6 && us_ip6_parse_text(text, &a6) == 0)
		return memcmp((src ? &fr->src6 : &fr->dst6)->b, a6.b, 16) == 0;
	return false;
}

static void side_of(const struct us_script_frame *fr, bool src, struct side *s)
{
	s->family = fr->family;
	s->ip4 = src ? fr->src4 : fr->dst4;
	s->ip6 = src ? fr->src6 : fr->dst6;
	s->port = src ? fr->sport : fr->dport;
}

/* Whole milliseconds, printed as seconds. */
static void print_delta(FILE *out, us_time_t ms)
{
	if (ms == 0)
		fprintf(out, "+0");
	else
		fprintf(out, "+%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
}

struct conv {
	FILE *out;
	us_time_t last_ms; /* the time of the previous line, rounded */
	int fd;            /* the connection's descriptor */
	bool passive, accepted, closed;
	bool have_iss, have_irs;
	uint32_t iss, irs;
	uint32_t snd_max;  /* the highest sequence number the stack has sent */
	uint64_t read_total;
	size_t pending_read; /* data arrived, read once the stack has answered it */
	us_time_t pending_ms;
};

static void line(struct conv *cv, us_time_t ms, const char *prefix, const char *text)
{
	print_delta(cv->out, ms - cv->last_ms);
	cv->last_ms = ms;
	fprintf(cv->out, "%s%s\n", prefix, text);
}

/* The read of data that arrived goes after the stack's immediate answer
 * to it (an ACK), as the application reads after the stack has run. */
static void flush_read(struct conv *cv)
{
	char text[128];
	if (!cv->pending_read)
		return;
	snprintf(text, sizeof text, " read(%d, ..., %zu) = %zu", cv->fd, cv->pending_read,
		 cv->pending_read);
	line(cv, cv->last_ms, "", text);
	cv->read_total += cv->pending_read;
	cv->pending_read = 0;
}

/*
 * The timestamps of a real capture cannot be replayed: the stack's TSval
 * comes from its clock (RFC 7323 §4.1), which on a virtual clock is not the
 * captured one. So a `>` line takes any TSval (`TS val *`), and a `<` line
 * echoes whatever the stack sent last (`ecr *`, docs/scripts.md). The
 * peer's own TSval and the stack's echo of it stay exact.
 */
static void wild_timestamp(char *text, size_t cap, bool outbound)
{
	const char *key = outbound ? "TS val " : " ecr ";
	char *p = strstr(text, "TS val ");
	if (!p)
		return;
	if (!outbound)
		p = strstr(p, key);
	if (!p)
		return;
	char *num = p + strlen(key);
	char *end = num;
	while (*end >= '0' && *end <= '9')
		end++;
	if (end == num || (!outbound && end - num == 1 && *num == '0'))
		return; /* no number, or ecr 0 (a SYN's: nothing to echo yet) */
	char rest[512];
	snprintf(rest, sizeof rest, "%s", end);
	snprintf(num, cap - (size_t)(num - text), "*%s", rest);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ustack-pcap2script [--local ADDR] [--port PORT] [-o OUT] CAPTURE\n"
		   "Writes a packet script skeleton (docs/scripts.md) from one TCP connection.\n"
		   "  --local ADDR  the address of the side that ustack plays (default 198.51.100.2,\n"
		   "                2001:db8:1::2, else the side that answered the first SYN)\n"
		   "  --port PORT   the connection with this port at either end (default: the first)\n"
		   "  -o OUT        write the script to OUT (default: standard output)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *local_text = NULL, *out_path = NULL;
	int want_port = 0, c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': local_text = optarg; break;
		case 'p': want_port = atoi(optarg); break;
		case 'o': out_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	int err = 0;
	struct us_pcap_reader *rd = us_pcap_reader_open(path, &err);
	if (!rd) {
		fprintf(stderr, "%s: cannot read it as a pcap file (%d)\n", path, err);
		return 1;
	}
	/* First pass: find the connection (its first SYN) and who the stack is. */
	struct side local = { 0 }, peer = { 0 };
	bool found = false;
	us_time_t ts;
	const uint8_t *data;
	size_t len;
	while (!found && us_pcap_reader_next(rd, &ts, &data, &len) == 1) {
		struct us_script_frame fr;
		if (us_script_decode(data, len, &fr) < 0 || fr.kind != US_SFRAME_TCP ||
		    !(fr.flags & US_TCP_SYN))
			continue;
		if (want_port && fr.sport != want_port && fr.dport != want_port)
			continue;
		bool src_is_local;
		if (local_text)
			src_is_local = addr_is(&fr, true, local_text);
		else if (addr_is(&fr, true, "198.51.100.2") || addr_is(&fr, true, "2001:db8:1::2"))
			src_is_local = true;
		else if (addr_is(&fr, false, "198.51.100.2") || addr_is(&fr, false, "2001:db8:1::2"))
			src_is_local = false;
		else
			src_is_local = (fr.flags & US_TCP_ACK) != 0; /* the SYN-ACK's sender serves */
		if (local_text && !src_is_local && !addr_is(&fr, false, local_text))
			continue;
		side_of(&fr, src_is_local, &local);
		side_of(&fr, !src_is_local, &peer);
		found = true;
	}
	us_pcap_reader_close(rd);
	if (!found) {
		fprintf(stderr, "%s: no TCP SYN%s found\n", path, local_text ? " for that address" : "");
		return 1;
	}
	FILE *out = out_path ? fopen(out_path, "we") : stdout;
	if (!out) {
		perror(out_path);
		return 1;
	}
	rd = us_pcap_reader_open(path, &err);
	if (!rd) {
		fprintf(stderr, "%s: cannot read it again\n", path);
		return 1;
	}
	struct conv cv = { .out = out, .fd = 3 };
	bool first = true;
	us_time_t t0 = 0;
	char text[512];
	while (us_pcap_reader_next(rd, &ts, &data, &len) == 1) {
		struct us_script_frame fr;
		if (us_script_decode(data, len, &fr) < 0 || fr.kind != US_SFRAME_TCP)
			continue;
		bool out_seg = from_side(&fr, &local) && to_side(&fr, &peer);
		bool in_seg = from_side(&fr, &peer) && to_side(&fr, &local);
		if (!out_seg && !in_seg)
			continue;
		if (first) {
			char l[US_IP6_TEXT_MAX], p[US_IP6_TEXT_MAX];
			if (local.family == 4) {
				us_ipv4_format(local.ip4, l);
				us_ipv4_format(peer.ip4, p);
			} else {
				us_ip6_format(&local.ip6, l);
				us_ip6_format(&peer.ip6, p);
			}
			cv.passive = in_seg && (fr.flags & US_TCP_SYN) && !(fr.flags & US_TCP_ACK);
			fprintf(out, "// Converted by ustack-pcap2script from %s:\n"
				     "// the stack plays %s port %u, the peer is %s port %u.\n"
				     "// A skeleton: check the socket calls and the times, then run\n"
				     "// ustack-script --update-golden on it once it passes.\n",
				path, l, local.port, p, peer.port);
			if (local.family == 6)
				fprintf(out, "set family ipv6\n");
			if (cv.passive)
				fprintf(out, "set local_port %u\nset irs %" PRIu32 "\n", local.port, fr.seq);
			fprintf(out, "set peer_port %u\nset tolerance 0.005\n\n", peer.port);
			fprintf(out, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
			if (cv.passive)
				fprintf(out, "+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n");
			else
				fprintf(out, "+0 connect(3, ..., ...) = -1 EINPROGRESS\n");
			t0 = ts;
			first = false;
		}
		us_time_t ms = (ts - t0 + 500) / 1000;
		if (in_seg && (fr.flags & US_TCP_SYN) && !cv.have_irs) {
			cv.irs = fr.seq;
			cv.have_irs = true;
		}
		if (out_seg && (fr.flags & US_TCP_SYN)) {
			cv.iss = fr.seq;
			cv.have_iss = true;
			cv.snd_max = fr.seq + 1;
		}
		struct us_script_rel rel;
		if (in_seg || ms > cv.pending_ms)
			flush_read(&cv);
		if (out_seg) {
			rel = (struct us_script_rel){ cv.iss, cv.have_irs ? cv.irs : 0 };
			uint32_t end = fr.seq + (uint32_t)fr.payload_len;
			if ((fr.payload_len && (int32_t)(end - cv.snd_max) > 0) || (fr.flags & US_TCP_FIN))
				flush_read(&cv);
			if (fr.payload_len && (int32_t)(end - cv.snd_max) > 0) {
				uint32_t fresh = end - cv.snd_max;
				snprintf(text, sizeof text, " write(%d, ..., %" PRIu32 ") = %" PRIu32,
					 cv.fd, fresh, fresh);
				line(&cv, ms, "", text);
				cv.snd_max = end;
			}
			if ((fr.flags & US_TCP_FIN) && !cv.closed) {
				snprintf(text, sizeof text, " close(%d) = 0", cv.fd);
				line(&cv, ms, "", text);
				cv.closed = true;
			}
			if (fr.flags & US_TCP_FIN)
				end++;
			if ((int32_t)(end - cv.snd_max) > 0)
				cv.snd_max = end;
			us_script_format_seg(&fr, &rel, text, sizeof text);
			wild_timestamp(text, sizeof text, true);
			line(&cv, ms, " > ", text);
		} else {
			rel = (struct us_script_rel){ cv.have_irs ? cv.irs : 0, cv.have_iss ? cv.iss : 0 };
			us_script_format_seg(&fr, &rel, text, sizeof text);
			wild_timestamp(text, sizeof text, false);
			line(&cv, ms, " < ", text);
			if (cv.passive && !cv.accepted && !(fr.flags & (US_TCP_SYN | US_TCP_RST)) &&
			    (fr.flags & US_TCP_ACK) && cv.have_iss && fr.ack == cv.iss + 1) {
				line(&cv, ms, "", " accept(3, ..., ...) = 4");
				cv.accepted = true;
				cv.fd = 4;
			}
			if (fr.payload_len && !cv.closed) {
				cv.pending_read = fr.payload_len;
				cv.pending_ms = ms;
			}
		}
	}
	flush_read(&cv);
	us_pcap_reader_close(rd);
	if (out != stdout && fclose(out) != 0) {
		perror(out_path);
		return 1;
	}
	return 0;
}

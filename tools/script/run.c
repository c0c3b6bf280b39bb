/* SPDX-License-Identifier: MIT */
/*
 * tools/script/run.c - the executor of packet scripts: one ustack core on a
 * virtual clock, driven event by event.
 *
 * The world a script runs in:
 *   the stack   198.51.100.2/24, 2001:db8:1::2/64, MAC 02:00:00:00:00:02,
 *               seed 1 and a fixed secret (so its ISS and ports repeat)
 *   the peer    198.51.100.1, 2001:db8:1::1, MAC 02:00:00:00:00:01: the
 *               script speaks for it. The runner answers ARP and Neighbor
 *               Solicitations for it by itself, and introduces it at time 0
 *               (an ARP request, or a Neighbor Solicitation, from the peer),
 *               so scripts show only TCP.
 *
 * Time. The stack's clock is the script's: before each event, every
 * deadline due at or before the event's time fires (us_stack_poll at that
 * deadline), then the event happens at its time. Every frame the stack
 * sends is recorded with the time it left, in the pcap and in the trace.
 *
 * Matching. TCP segments the stack sends queue up, in order; each `>` line
 * takes the first one and compares it field by field. A segment still
 * queued when a `<` line or a socket call comes (or the script ends) is a
 * failure: every segment must be expected. ARP, NDP and ICMP frames are
 * never matched (they stay in the trace and the pcap).
 *
 * Numbers. For each connection (told apart by the peer's port) the ISS is
 * the sequence number of the last SYN the stack sent; the IRS is the
 * script's (`set irs`, 1000000). A `<` line's seq is relative to the IRS and
 * its ack to the ISS (0 before the stack sent a SYN: absolute); a `>` line
 * the other way round. Payloads are made of a known pattern
 * (us_script_pattern at the stream offset), so data the stack delivers or
 * sends is checked byte by byte against what was sent or written.
 *
 * Offloads (`set offloads csum,tso`, docs/performance.md). The interface
 * gets those us_iface_config.offloads, so TCP leaves partial checksums to
 * the link and sends TSO super-frames. The runner is that link: it
 * completes a partial checksum in its copy of the frame before checking it
 * (so a wrong pseudo-header sum still fails), matches a super-frame whole
 * against one `>` line with `gso N` (its gso_size), and records it whole in
 * the pcap with the checksum completed (us_pcap_writer_write_partial), as
 * the runtime's capture does. A `<` line with `gso N` is handed over as the
 * kernel hands a TSO frame to a TAP reader: us_stack_input_meta() with
 * gso_type TCPv4/TCPv6, gso_size N and NEEDS_CSUM (the checksum field holds
 * the pseudo-header sum only).
 *
 * Read first: script.h, docs/scripts.md, then include/ustack/core.h "TCP
 * inside the core" (what each socket call becomes).
 */
#include "script.h"

#include <ustack/capture.h>

#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define STACK_IP4 0xc6336402u /* 198.51.100.2 */
#define PEER_IP4 0xc6336401u  /* 198.51.100.1 */
static const struct us_ip6 stack_ip6 = { { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
static const struct us_ip6 peer_ip6 = { { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const uint8_t stack_mac[US_ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t peer_mac[US_ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };

#define MAX_CONNS 64
#define MAX_FDS 256
#define FIRST_FD 3
#define MAX_REPLIES 8
#define FRAME_CAP 2048
/* How far past its time the runner looks for a segment that did not come,
 * to say when it would have left. */
#define LOOK_AHEAD US_SEC(600)
/* Polls at one instant before the core is said to be stuck. */
#define MAX_POLLS_AT_ONCE 10000

struct outframe {
	us_time_t t;
	uint8_t *data; /* a copy, its partial checksum completed */
	size_t len;
	uint8_t gso_type; /* struct us_frame's offload marks */
	uint16_t gso_size;
	bool csum_partial;
};

struct conn {
	uint16_t peer_port;
	uint16_t local_port;
	bool have_iss;
	uint32_t iss;
	bool have_tsval;
	uint32_t tsval; /* the TSval of the last segment the stack sent: `ecr *` */
};

struct fdent {
	struct us_tcp *t;
	uint64_t rd_off, wr_off; /* stream offsets, for the data pattern */
};

struct runner {
	const struct us_script *sc;
	const struct us_script_run_opts *o;
	struct us_stack *s;
	int ifindex;
	us_time_t now;      /* the stack's clock */
	us_time_t script_t; /* the time of the previous event: `+` counts from it */
	int line;           /* the event running, for messages */
	FILE *trace;
	struct us_pcap_writer *pcap;
	/* TCP segments sent and not yet matched, in order. */
	struct outframe *q;
	size_t qn, qcap;
	/* Neighbour answers to inject once the core returns. */
	uint8_t reply[MAX_REPLIES][128];
	size_t reply_len[MAX_REPLIES];
	int nreplies;
	struct conn conns[MAX_CONNS];
	int nconns;
	uint16_t local_port; /* the port the stack listens on (bind/listen) */
	struct fdent fds[MAX_FDS];
	int next_fd;
	uint16_t ip_id;
	char table[1024]; /* the TCP table last printed */
	bool failed;
	bool oom;
	bool done; /* the script is over: what the stack does now is not recorded */
};

/* ---- Trace --------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static void trace_line(struct runner *r, us_time_t t,
							     const char *tag, const char *fmt, ...)
{
	char ts[32], msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	us_script_format_time(t, ts, sizeof ts);
	fprintf(r->trace, "%11s %-5s %s\n", ts, tag, msg);
	if (r->o->trace)
		fprintf(r->o->trace, "%11s %-5s %s\n", ts, tag, msg);
}

/* The core's trace hook: state transitions and drops go into the trace. */
static void on_core_trace(void *ctx, const struct us_trace_event *ev)
{
	struct runner *r = ctx;
	if (r->done)
		return;
	switch (ev->kind) {
	case US_TRACE_STATE:
		trace_line(r, ev->now, "state", "%s", ev->msg);
		break;
	case US_TRACE_DROP:
		trace_line(r, ev->now, "drop", "%s", ev->msg);
		break;
	case US_TRACE_INFO:
	case US_TRACE_DEBUG:
		if (r->o->verbose && r->o->trace)
			fprintf(r->o->trace, "            (%s)\n", ev->msg);
		break;
	}
}

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* After each event: the state of every connection, when it changed. */
static void trace_table(struct runner *r)
{
	struct us_tcp_info info[64];
	size_t n = us_stack_tcp_table(r->s, info, 64);
	if (n > 64)
		n = 64;
	char rows[64][64];
	char *sorted[64];
	for (size_t i = 0; i < n; i++) {
		const struct us_tcp_info *e = &info[i];
		if (e->remote.port)
			snprintf(rows[i], sizeof rows[i], "%u-%u %s%s", e->local.port, e->remote.port,
				 us_tcp_state_name(e->state), e->orphan ? " (closed)" : "");
		else
			snprintf(rows[i], sizeof rows[i], "%u %s%s", e->local.port,
				 us_tcp_state_name(e->state), e->orphan ? " (closed)" : "");
		sorted[i] = rows[i];
	}
	qsort(sorted, n, sizeof sorted[0], compare_str);
	char line[1024] = "";
	size_t len = 0;
	for (size_t i = 0; i < n && len < sizeof line; i++)
		len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", i ? ", " : "", sorted[i]);
	if (n == 0)
		snprintf(line, sizeof line, "(none)");
	if (strcmp(line, r->table) != 0) {
		snprintf(r->table, sizeof r->table, "%s", line);
		trace_line(r, r->now, "tcp", "%s", line);
	}
}

/* ---- Failures ------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static int fail(struct runner *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!r->failed)
		fprintf(r->o->err, "%s:%d: %s\n", r->sc->path, r->line, msg);
	r->failed = true;
	return -1;
}

/* The two aligned lines of a mismatch. */
static void show_pair(struct runner *r, const char *expected, const char *actual)
{
	fprintf(r->o->err, "    expected: %s\n    actual:   %s\n", expected, actual);
}

/* ---- Connections --------------------------------------------------------- */

static struct conn *find_conn(struct runner *r, uint16_t peer_port)
{
	for (int i = 0; i < r->nconns; i++)
		if (r->conns[i].peer_port == peer_port)
			return &r->conns[i];
	if (r->nconns == MAX_CONNS)
		return NULL;
	struct conn *c = &r->conns[r->nconns++];
	*c = (struct conn){ .peer_port = peer_port, .local_port = r->local_port };
	return c;
}

static uint16_t seg_peer_port(const struct runner *r, const struct us_script_seg *sg)
{
	return sg->peer_port ? (uint16_t)sg->peer_port : r->sc->cfg.peer_port;
}

/* The numbers of a segment the stack sent, made relative. */
static struct us_script_rel out_rel(const struct runner *r, const struct conn *c)
{
	return (struct us_script_rel){ .seq_base = c && c->have_iss ? c->iss : 0,
				       .ack_base = r->sc->cfg.irs };
}

/* ... and of one the peer sent. */
static struct us_script_rel in_rel(const struct runner *r, const struct conn *c)
{
	return (struct us_script_rel){ .seq_base = r->sc->cfg.irs,
				       .ack_base = c && c->have_iss ? c->iss : 0 };
}

/* ---- Neighbours: the runner answers for the peer ------------------------- */

static void queue_reply(struct runner *r, const uint8_t *f, size_t len)
{
	if (r->nreplies == MAX_REPLIES || len > sizeof r->reply[0])
		return;
	memcpy(r->reply[r->nreplies], f, len);
	r->reply_len[r->nreplies++] = len;
}

/* RFC 826: the peer's reply to a request for its address. */
static size_t build_arp(uint8_t *f, size_t cap, uint16_t op, const uint8_t *eth_dst)
{
	memset(f, 0, cap < 60 ? cap : 60);
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_ARP };
	memcpy(eth.dst, eth_dst, US_ETH_ALEN);
	memcpy(eth.src, peer_mac, US_ETH_ALEN);
	struct us_arp_pkt a = { .op = op, .spa = PEER_IP4, .tpa = STACK_IP4 };
	memcpy(a.sha, peer_mac, US_ETH_ALEN);
	if (op == US_ARP_REPLY)
		memcpy(a.tha, stack_mac, US_ETH_ALEN);
	size_t n = us_eth_emit(&eth, f, cap);
	n += us_arp_emit(&a, f + n, cap - n);
	return n < 60 ? 60 : n; /* padded to the Ethernet minimum */
}

/* RFC 4861 §4.3/§4.4: a Neighbor Solicitation from the peer (with its link
 * address) or its solicited Neighbor Advertisement. */
static size_t build_nd(uint8_t *f, size_t cap, bool advert, const struct us_ip6 *dst,
		       const uint8_t *eth_dst)
{
	struct us_eth_hdr eth = { .ethertype = US_ETHERTYPE_IPV6 };
	memcpy(eth.dst, eth_dst, US_ETH_ALEN);
	memcpy(eth.src, peer_mac, US_ETH_ALEN);
	size_t off = us_eth_emit(&eth, f, cap);
	uint8_t *icmp = f + off + US_IPV6_HDR_LEN;
	size_t icap = cap - off - US_IPV6_HDR_LEN, n;
	if (advert) {
		struct us_ndp_na na = { .solicited = true, .override = true, .target = peer_ip6 };
		n = us_ndp_na_emit(&na, icmp, icap);
		n += us_ndp_opt_lladdr_emit(2, peer_mac, icmp + n, icap - n);
	} else {
		struct us_ndp_ns ns = { .target = stack_ip6 };
		n = us_ndp_ns_emit(&ns, icmp, icap);
		n += us_ndp_opt_lladdr_emit(1, peer_mac, icmp + n, icap - n);
	}
	us_icmp6_csum_fill(icmp, n, us_csum_pseudo6(&peer_ip6, dst, US_IPPROTO_ICMPV6, (uint32_t)n));
	struct us_ipv6_hdr ip = { .payload_len = (uint16_t)n, .next_header = US_IPPROTO_ICMPV6,
				  .hop_limit = 255, .src = peer_ip6, .dst = *dst };
	us_ipv6_emit(&ip, f + off, cap - off);
	return off + US_IPV6_HDR_LEN + n;
}

/* A frame the stack sent that asks for the peer: answer it. */
static void maybe_answer(struct runner *r, const struct us_script_frame *fr)
{
	uint8_t f[128];
	if (fr->kind == US_SFRAME_ARP && fr->arp_op == US_ARP_REQUEST && fr->arp_tpa == PEER_IP4) {
		queue_reply(r, f, build_arp(f, sizeof f, US_ARP_REPLY, stack_mac));
		return;
	}
	if (fr->kind == US_SFRAME_ICMP6 && fr->icmp_type == US_ICMP6_ND_NS && fr->l4_len >= 24 &&
	    memcmp(fr->l4 + 8, peer_ip6.b, 16) == 0 && !us_ip6_is_unspecified(&fr->src6))
		queue_reply(r, f, build_nd(f, sizeof f, true, &fr->src6, stack_mac));
}

/* ---- Frames in and out --------------------------------------------------- */

static void record_pcap(struct runner *r, const uint8_t *f, size_t len)
{
	if (r->pcap && us_pcap_writer_write(r->pcap, r->now, f, len) < 0)
		fail(r, "cannot write the pcap file");
}

/* A frame with a partial checksum: recorded with the checksum completed (in
 * the writer's copy), so Wireshark sees what the segments carry on a wire. */
static void record_pcap_partial(struct runner *r, const uint8_t *f, size_t len,
				uint16_t csum_start, uint16_t csum_offset)
{
	if (r->pcap &&
	    us_pcap_writer_write_partial(r->pcap, r->now, f, len, csum_start, csum_offset) < 0)
		fail(r, "cannot write the pcap file");
}

/*
 * What the link does with a partial checksum (virtio 1.x §5.1.6.2,
 * VIRTIO_NET_HDR_F_NEEDS_CSUM): the field at csum_start + csum_offset holds
 * the pseudo-header sum; the ones' complement sum from csum_start to the
 * end, that field included, goes into it. Returns false when the offsets
 * fall outside the frame (nothing changed).
 */
static bool complete_csum(uint8_t *f, size_t len, uint16_t csum_start, uint16_t csum_offset)
{
	if ((size_t)csum_start + csum_offset + 2 > len)
		return false;
	uint16_t c = us_csum_fold(us_csum_partial(f + csum_start, len - csum_start, 0));
	us_put_be16(f + csum_start + csum_offset, c);
	return true;
}

/* ", gso 1448, csum partial": a frame's offload marks in a trace line. */
static void format_marks(char *buf, size_t cap, uint16_t gso_size, bool csum_partial)
{
	size_t n = 0;
	buf[0] = 0;
	if (gso_size)
		n += (size_t)snprintf(buf, cap, ", gso %u", gso_size);
	if (csum_partial && n < cap)
		snprintf(buf + n, cap - n, ", csum partial");
}

/* The TSval of a segment the stack sent, for a later `ecr *`. */
static void remember_tsval(struct conn *c, const struct us_script_frame *fr)
{
	const uint8_t *o = fr->opts;
	for (size_t i = 0; i < fr->opts_len;) {
		if (o[i] == US_TCP_OPT_EOL)
			break;
		if (o[i] == US_TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= fr->opts_len || o[i + 1] < 2 || i + o[i + 1] > fr->opts_len)
			break;
		if (o[i] == US_TCP_OPT_TS && o[i + 1] == 10) {
			c->tsval = us_get_be32(o + i + 2);
			c->have_tsval = true;
		}
		i += o[i + 1];
	}
}

static int on_transmit(void *ctx, const struct us_frame *f)
{
	struct runner *r = ctx;
	if (r->done)
		return 0;
	if (f->csum_partial)
		record_pcap_partial(r, f->data, f->len, f->csum_start, f->csum_offset);
	else
		record_pcap(r, f->data, f->len);
	uint8_t *copy = malloc(f->len ? f->len : 1);
	if (!copy) {
		r->oom = true;
		return -ENOMEM;
	}
	memcpy(copy, f->data, f->len);
	if (f->csum_partial && !complete_csum(copy, f->len, f->csum_start, f->csum_offset))
		trace_line(r, r->now, "drop", "(a partial checksum outside the frame: %u + %u, %zu bytes)",
			   f->csum_start, f->csum_offset, f->len);
	uint16_t gso_size = f->gso_type != US_GSO_NONE ? f->gso_size : 0;
	char marks[64];
	format_marks(marks, sizeof marks, gso_size, f->csum_partial);
	struct us_script_frame fr;
	char text[512];
	if (us_script_decode(copy, f->len, &fr) < 0) {
		trace_line(r, r->now, ">", "(not Ethernet, %zu bytes)", f->len);
		free(copy);
		return 0;
	}
	if (fr.kind != US_SFRAME_TCP) {
		us_script_format_frame(&fr, NULL, text, sizeof text);
		trace_line(r, r->now, ">", "%s%s", text, marks);
		maybe_answer(r, &fr);
		free(copy);
		return 0;
	}
	struct conn *c = find_conn(r, fr.dport);
	if (c) {
		c->local_port = fr.sport;
		/* Every SYN the stack sends starts its sequence space anew. */
		if (fr.flags & US_TCP_SYN) {
			c->iss = fr.seq;
			c->have_iss = true;
		}
		remember_tsval(c, &fr);
	}
	struct us_script_rel rel = out_rel(r, c);
	us_script_format_frame(&fr, &rel, text, sizeof text);
	trace_line(r, r->now, ">", "%s%s", text, marks);
	if (r->qn == r->qcap) {
		size_t cap = r->qcap ? 2 * r->qcap : 64;
		struct outframe *q = realloc(r->q, cap * sizeof *q);
		if (!q) {
			free(copy);
			r->oom = true;
			return -ENOMEM;
		}
		r->q = q;
		r->qcap = cap;
	}
	r->q[r->qn++] = (struct outframe){ .t = r->now, .data = copy, .len = f->len,
					   .gso_type = f->gso_type, .gso_size = gso_size,
					   .csum_partial = f->csum_partial };
	return 0;
}

static void pop_frame(struct runner *r)
{
	free(r->q[0].data);
	memmove(r->q, r->q + 1, (r->qn - 1) * sizeof *r->q);
	r->qn--;
}

/* Hands a frame to the stack; meta NULL: a plain frame (us_stack_input). */
static void inject(struct runner *r, const uint8_t *f, size_t len, const struct us_script_rel *rel,
		   const struct us_rx_meta *meta)
{
	struct us_script_frame fr;
	char text[512], marks[64] = "";
	if (meta && meta->csum_partial) {
		/* The trace shows the checksum the segments would carry on a wire. */
		uint8_t *copy = malloc(len);
		if (!copy) {
			r->oom = true;
			return;
		}
		memcpy(copy, f, len);
		complete_csum(copy, len, meta->csum_start, meta->csum_offset);
		us_script_decode(copy, len, &fr);
		us_script_format_frame(&fr, rel, text, sizeof text);
		free(copy);
		record_pcap_partial(r, f, len, meta->csum_start, meta->csum_offset);
	} else {
		us_script_decode(f, len, &fr);
		us_script_format_frame(&fr, rel, text, sizeof text);
		record_pcap(r, f, len);
	}
	if (meta)
		format_marks(marks, sizeof marks, meta->gso_type != US_GSO_NONE ? meta->gso_size : 0,
			     meta->csum_partial);
	trace_line(r, r->now, "<", "%s%s", text, marks);
	if (meta)
		us_stack_input_meta(r->s, r->now, r->ifindex, f, len, meta);
	else
		us_stack_input(r->s, r->now, r->ifindex, f, len);
}

/* Inject the answers the stack asked for, at the same instant. */
static void answer_neighbours(struct runner *r)
{
	for (int rounds = 0; r->nreplies && rounds < 16; rounds++) {
		uint8_t f[MAX_REPLIES][128];
		size_t len[MAX_REPLIES];
		int n = r->nreplies;
		memcpy(f, r->reply, sizeof f);
		memcpy(len, r->reply_len, sizeof len);
		r->nreplies = 0;
		for (int i = 0; i < n; i++)
			inject(r, f[i], len[i], NULL, NULL);
	}
}

/* ---- The clock ----------------------------------------------------------- */

/*
 * Fires every deadline up to t. With stop_on_frame, stops as soon as a TCP
 * segment waits to be matched (the clock stays at the time it left).
 * Returns -1 when the core does not move on.
 */
static int advance(struct runner *r, us_time_t t, bool stop_on_frame)
{
	int polls_here = 0;
	us_time_t last = r->now;
	for (;;) {
		if (stop_on_frame && r->qn)
			return 0;
		us_time_t d = us_stack_next_deadline(r->s);
		if (d == US_TIME_NEVER || d > t)
			break;
		if (d < r->now)
			d = r->now;
		r->now = d;
		polls_here = (d == last) ? polls_here + 1 : 0;
		last = d;
		if (polls_here > MAX_POLLS_AT_ONCE)
			return fail(r, "the stack's next deadline stays at %" PRId64 " us after polling it",
				    d);
		us_stack_poll(r->s, r->now);
		answer_neighbours(r);
	}
	if (t > r->now)
		r->now = t;
	return 0;
}

static us_time_t resolve(const struct runner *r, bool relative, us_time_t t)
{
	return relative ? r->script_t + t : t;
}

/* ---- Formatting what the script says ------------------------------------- */

static void put_val(char *buf, size_t cap, size_t *len, const char *prefix,
		    const struct us_script_val *v)
{
	if (*len >= cap)
		return;
	if (v->wild)
		*len += (size_t)snprintf(buf + *len, cap - *len, "%s*", prefix);
	else
		*len += (size_t)snprintf(buf + *len, cap - *len, "%s%" PRId64, prefix, v->v);
}

static size_t format_script_opts(const struct us_script_seg *sg, char *buf, size_t cap);

/* A segment line as the script wrote it (normalised). */
static void format_script_seg(const struct us_script_seg *sg, char *buf, size_t cap)
{
	char fl[9];
	size_t len = 0;
	const char *flags = us_tcp_flags_str(sg->flags, fl);
	if (sg->ecn_given)
		len += (size_t)snprintf(buf, cap, "[%s] ", us_script_ecn_name(sg->ecn));
	len += (size_t)snprintf(buf + len, cap - len, "%s ", strcmp(flags, "none") ? flags : "");
	put_val(buf, cap, &len, "", &sg->seq);
	put_val(buf, cap, &len, ":", &sg->end);
	put_val(buf, cap, &len, "(", &sg->len);
	if (len < cap)
		len += (size_t)snprintf(buf + len, cap - len, ")");
	if (sg->ack.given)
		put_val(buf, cap, &len, " ack ", &sg->ack);
	if (sg->win.given)
		put_val(buf, cap, &len, " win ", &sg->win);
	if (sg->opts_given && len < cap)
		len += format_script_opts(sg, buf + len, cap - len);
	if (sg->gso.given)
		put_val(buf, cap, &len, " gso ", &sg->gso);
}

/* The options of a segment line, " <...>"; returns the length written. */
static size_t format_script_opts(const struct us_script_seg *sg, char *buf, size_t cap)
{
	size_t len = 0;
	if (sg->opts_wild) {
		len = (size_t)snprintf(buf, cap, " <*>");
		return len < cap ? len : cap - 1;
	}
	len += (size_t)snprintf(buf + len, cap - len, " <");
	for (int i = 0; i < sg->nopts && len < cap; i++) {
		const struct us_script_opt *o = &sg->opts[i];
		const char *sep = i ? "," : "";
		switch (o->kind) {
		case US_SOPT_EOL:
			len += (size_t)snprintf(buf + len, cap - len, "%seol", sep);
			break;
		case US_SOPT_NOP:
			len += (size_t)snprintf(buf + len, cap - len, "%snop", sep);
			break;
		case US_SOPT_SACKOK:
			len += (size_t)snprintf(buf + len, cap - len, "%ssackOK", sep);
			break;
		case US_SOPT_MSS:
			len += (size_t)snprintf(buf + len, cap - len, "%s", sep);
			put_val(buf, cap, &len, "mss ", &o->a);
			break;
		case US_SOPT_WSCALE:
			len += (size_t)snprintf(buf + len, cap - len, "%s", sep);
			put_val(buf, cap, &len, "wscale ", &o->a);
			break;
		case US_SOPT_TS:
			len += (size_t)snprintf(buf + len, cap - len, "%s", sep);
			put_val(buf, cap, &len, "TS val ", &o->a);
			put_val(buf, cap, &len, " ecr ", &o->b);
			break;
		case US_SOPT_SACK:
			len += (size_t)snprintf(buf + len, cap - len, "%ssack", sep);
			for (int k = 0; k < o->nsack; k++) {
				put_val(buf, cap, &len, " ", &o->sack[k][0]);
				put_val(buf, cap, &len, ":", &o->sack[k][1]);
			}
			break;
		}
	}
	if (len < cap)
		len += (size_t)snprintf(buf + len, cap - len, ">");
	return len < cap ? len : cap - 1;
}

static void with_port(char *buf, size_t cap, char dir, int port, us_time_t t, const char *seg)
{
	char ts[32];
	us_script_format_time(t, ts, sizeof ts);
	if (port)
		snprintf(buf, cap, "%s %c@%d %s", ts, dir, port, seg);
	else
		snprintf(buf, cap, "%s %c %s", ts, dir, seg);
}

/* The first queued segment, as a script line with its time. */
static void format_actual(struct runner *r, const struct outframe *of, int show_port, char *buf,
			  size_t cap)
{
	struct us_script_frame fr;
	char seg[512];
	us_script_decode(of->data, of->len, &fr);
	struct conn *c = find_conn(r, fr.dport);
	struct us_script_rel rel = out_rel(r, c);
	us_script_format_seg(&fr, &rel, seg, sizeof seg);
	if (of->gso_type != US_GSO_NONE)
		snprintf(seg + strlen(seg), sizeof seg - strlen(seg), " gso %u", of->gso_size);
	with_port(buf, cap, '>', show_port || fr.dport != r->sc->cfg.peer_port ? fr.dport : 0, of->t,
		  seg);
}

/* ---- `<`: the peer sends ------------------------------------------------- */

static size_t build_opts(struct runner *r, const struct us_script_seg *sg, const struct conn *c,
			 uint8_t *o)
{
	size_t n = 0;
	uint32_t sack_base = c->have_iss ? c->iss : 0;
	for (int i = 0; i < sg->nopts; i++) {
		const struct us_script_opt *op = &sg->opts[i];
		size_t need = op->kind == US_SOPT_SACK ? 2 + 8 * (size_t)op->nsack : 10;
		if (n + need > US_TCP_MAX_OPT_LEN + 8) {
			fail(r, "the options do not fit in 40 bytes");
			return 0;
		}
		switch (op->kind) {
		case US_SOPT_EOL:
			o[n++] = US_TCP_OPT_EOL;
			break;
		case US_SOPT_NOP:
			o[n++] = US_TCP_OPT_NOP;
			break;
		case US_SOPT_MSS:
			o[n++] = US_TCP_OPT_MSS;
			o[n++] = 4;
			us_put_be16(o + n, (uint16_t)op->a.v);
			n += 2;
			break;
		case US_SOPT_WSCALE:
			o[n++] = US_TCP_OPT_WSCALE;
			o[n++] = 3;
			o[n++] = (uint8_t)op->a.v;
			break;
		case US_SOPT_SACKOK:
			o[n++] = US_TCP_OPT_SACK_PERM;
			o[n++] = 2;
			break;
		case US_SOPT_TS:
			o[n++] = US_TCP_OPT_TS;
			o[n++] = 10;
			us_put_be32(o + n, (uint32_t)op->a.v);
			us_put_be32(o + n + 4, op->b.wild ? (c->have_tsval ? c->tsval : 0)
							   : (uint32_t)op->b.v);
			n += 8;
			break;
		case US_SOPT_SACK:
			o[n++] = US_TCP_OPT_SACK;
			o[n++] = (uint8_t)(2 + 8 * op->nsack);
			for (int k = 0; k < op->nsack; k++) {
				us_put_be32(o + n, sack_base + (uint32_t)op->sack[k][0].v);
				us_put_be32(o + n + 4, sack_base + (uint32_t)op->sack[k][1].v);
				n += 8;
			}
			break;
		}
	}
	while (n % 4)
		o[n++] = US_TCP_OPT_EOL;
	if (n > US_TCP_MAX_OPT_LEN) {
		fail(r, "the options take %zu bytes; at most 40 fit", n);
		return 0;
	}
	return n;
}

static int do_inbound(struct runner *r, const struct us_script_seg *sg)
{
	struct conn *c = find_conn(r, seg_peer_port(r, sg));
	if (!c)
		return fail(r, "too many connections (at most %d peer ports)", MAX_CONNS);
	const struct us_script_config *cfg = &r->sc->cfg;
	uint8_t f[US_PBUF_SMALL * 40];
	uint8_t opts[64];
	size_t olen = build_opts(r, sg, c, opts);
	if (r->failed)
		return -1;
	size_t plen = (size_t)sg->len.v;
	size_t l3 = cfg->family == 4 ? US_IPV4_HDR_LEN : US_IPV6_HDR_LEN;
	size_t seglen = US_TCP_HDR_LEN + olen + plen;
	if (US_ETH_HDR_LEN + l3 + seglen > sizeof f || (cfg->family == 4 ? l3 : 0) + seglen > 65535)
		return fail(r, "a segment of %zu bytes is too large for one IP datagram", seglen);
	uint8_t *seg = f + US_ETH_HDR_LEN + l3;
	uint32_t seq_rel = (uint32_t)sg->seq.v;
	memset(seg, 0, US_TCP_HDR_LEN);
	us_put_be16(seg, c->peer_port);
	us_put_be16(seg + 2, c->local_port);
	us_put_be32(seg + 4, cfg->irs + seq_rel);
	us_put_be32(seg + 8, sg->ack.given ? (c->have_iss ? c->iss : 0) + (uint32_t)sg->ack.v : 0);
	seg[12] = (uint8_t)(((US_TCP_HDR_LEN + olen) / 4) << 4);
	seg[13] = sg->flags;
	us_put_be16(seg + 14, sg->win.given ? (uint16_t)sg->win.v : 65535);
	memcpy(seg + US_TCP_HDR_LEN, opts, olen);
	/* The payload's first byte is at seq + 1 after a SYN: stream offset seq - 1 (+1). */
	uint32_t first = seq_rel + ((sg->flags & US_TCP_SYN) ? 1 : 0) - 1;
	for (size_t i = 0; i < plen; i++)
		seg[US_TCP_HDR_LEN + olen + i] = us_script_pattern((uint32_t)(first + i));
	struct us_eth_hdr eth = { .ethertype = cfg->family == 4 ? US_ETHERTYPE_IPV4 : US_ETHERTYPE_IPV6 };
	memcpy(eth.dst, stack_mac, US_ETH_ALEN);
	memcpy(eth.src, peer_mac, US_ETH_ALEN);
	us_eth_emit(&eth, f, sizeof f);
	if (cfg->family == 4) {
		struct us_ipv4_hdr ip = { .id = r->ip_id++, .df = true, .ttl = 64, .tos = sg->ecn,
					  .proto = US_IPPROTO_TCP, .src = PEER_IP4, .dst = STACK_IP4,
					  .payload_len = seglen };
		us_ipv4_emit(&ip, f + US_ETH_HDR_LEN, l3);
		us_tcp_csum_fill(seg, seglen, us_csum_pseudo4(PEER_IP4, STACK_IP4, US_IPPROTO_TCP,
							      (uint32_t)seglen));
	} else {
		struct us_ipv6_hdr ip = { .payload_len = (uint16_t)seglen, .next_header = US_IPPROTO_TCP,
					  .traffic_class = sg->ecn, .hop_limit = 64,
					  .src = peer_ip6, .dst = stack_ip6 };
		us_ipv6_emit(&ip, f + US_ETH_HDR_LEN, l3);
		us_tcp_csum_fill(seg, seglen, us_csum_pseudo6(&peer_ip6, &stack_ip6, US_IPPROTO_TCP,
							      (uint32_t)seglen));
	}
	size_t total = US_ETH_HDR_LEN + l3 + seglen;
	while (total < 60) /* Ethernet's minimum frame: padding after the IP packet */
		f[total++] = 0;
	struct us_script_rel rel = in_rel(r, c);
	if (sg->gso.given) {
		/*
		 * `gso N`: as the kernel hands a TSO super-frame to a TAP reader
		 * (docs/performance.md; virtio 1.x §5.1.6.2): gso_type TCPv4 or
		 * TCPv6, gso_size N, hdr_len the headers, and
		 * VIRTIO_NET_HDR_F_NEEDS_CSUM: "the checksum field holds only the
		 * pseudo-header sum" (the frame never left the host). The core
		 * must take it as one segment and not verify the sum.
		 */
		uint16_t csum_start = (uint16_t)(US_ETH_HDR_LEN + l3);
		uint32_t pseudo = cfg->family == 4
			? us_csum_pseudo4(PEER_IP4, STACK_IP4, US_IPPROTO_TCP, (uint32_t)seglen)
			: us_csum_pseudo6(&peer_ip6, &stack_ip6, US_IPPROTO_TCP, (uint32_t)seglen);
		us_put_be16(seg + 16, (uint16_t)~us_csum_fold(pseudo));
		struct us_rx_meta m = {
			.gso_type = cfg->family == 4 ? US_GSO_TCPV4 : US_GSO_TCPV6,
			.gso_size = (uint16_t)sg->gso.v,
			.hdr_len = (uint16_t)(csum_start + US_TCP_HDR_LEN + olen),
			.csum_partial = true, .csum_start = csum_start, .csum_offset = 16,
		};
		inject(r, f, total, &rel, &m);
	} else {
		inject(r, f, total, &rel, NULL);
	}
	answer_neighbours(r);
	return 0;
}

/* ---- `>`: the stack must send -------------------------------------------- */

static bool val_ok(const struct us_script_val *v, uint32_t actual)
{
	return !v->given || v->wild || (uint32_t)v->v == actual;
}

/* The options of a segment, walked into the script's form (absolute values). */
static int walk_opts(const uint8_t *o, size_t len, uint32_t sack_base, struct us_script_opt *out,
		     int max)
{
	int n = 0;
	for (size_t i = 0; i < len && n < max;) {
		struct us_script_opt *op = &out[n];
		memset(op, 0, sizeof *op);
		op->a.given = op->b.given = true;
		if (o[i] == US_TCP_OPT_EOL) {
			op->kind = US_SOPT_EOL;
			n++;
			break;
		}
		if (o[i] == US_TCP_OPT_NOP) {
			op->kind = US_SOPT_NOP;
			n++;
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			return -1;
		const uint8_t *d = o + i + 2;
		switch (o[i]) {
		case US_TCP_OPT_MSS:
			op->kind = US_SOPT_MSS;
			op->a.v = us_get_be16(d);
			break;
		case US_TCP_OPT_WSCALE:
			op->kind = US_SOPT_WSCALE;
			op->a.v = d[0];
			break;
		case US_TCP_OPT_SACK_PERM:
			op->kind = US_SOPT_SACKOK;
			break;
		case US_TCP_OPT_TS:
			op->kind = US_SOPT_TS;
			op->a.v = us_get_be32(d);
			op->b.v = us_get_be32(d + 4);
			break;
		case US_TCP_OPT_SACK:
			op->kind = US_SOPT_SACK;
			op->nsack = (o[i + 1] - 2) / 8;
			if (op->nsack > US_SCRIPT_MAX_SACK)
				op->nsack = US_SCRIPT_MAX_SACK;
			for (int k = 0; k < op->nsack; k++) {
				op->sack[k][0].v = us_get_be32(d + 8 * k) - sack_base;
				op->sack[k][1].v = us_get_be32(d + 8 * k + 4) - sack_base;
			}
			break;
		default:
			return -1;
		}
		n++;
		i += o[i + 1];
	}
	return n;
}

static const char *opts_differ(const struct us_script_seg *sg, const struct us_script_frame *fr,
			       uint32_t sack_base)
{
	if (sg->opts_wild)
		return NULL;
	struct us_script_opt got[US_SCRIPT_MAX_OPTS];
	int n = walk_opts(fr->opts, fr->opts_len, sack_base, got, US_SCRIPT_MAX_OPTS);
	if (n < 0)
		return "the options do not parse";
	/* Padding at the end is not an option. */
	while (n > 0 && got[n - 1].kind == US_SOPT_EOL &&
	       !(sg->nopts >= n && sg->opts[n - 1].kind == US_SOPT_EOL))
		n--;
	if (n != sg->nopts)
		return "options";
	for (int i = 0; i < n; i++) {
		const struct us_script_opt *e = &sg->opts[i], *a = &got[i];
		if (e->kind != a->kind || !val_ok(&e->a, (uint32_t)a->a.v) ||
		    !val_ok(&e->b, (uint32_t)a->b.v))
			return "options";
		if (e->kind == US_SOPT_SACK) {
			if (e->nsack != a->nsack)
				return "SACK blocks";
			for (int k = 0; k < e->nsack; k++)
				if (!val_ok(&e->sack[k][0], (uint32_t)a->sack[k][0].v) ||
				    !val_ok(&e->sack[k][1], (uint32_t)a->sack[k][1].v))
					return "SACK blocks";
		}
	}
	return NULL;
}

/* What differs between the expected segment and the one sent, or NULL. */
static const char *seg_differs(struct runner *r, const struct us_script_seg *sg,
			       const struct us_script_frame *fr, const struct conn *c, char *why,
			       size_t cap)
{
	uint32_t seq = fr->seq - (c->have_iss ? c->iss : 0);
	uint32_t ack = fr->ack - r->sc->cfg.irs;
	if (fr->dport != seg_peer_port(r, sg)) {
		snprintf(why, cap, "it went to peer port %u, not %u", fr->dport, seg_peer_port(r, sg));
		return why;
	}
	if (!fr->csum_ok)
		return "its TCP checksum is wrong";
	if (sg->ecn_given && (fr->tos & US_IP_ECN_MASK) != sg->ecn)
		return "IP ECN field";
	if (fr->flags != sg->flags)
		return "flags";
	if (!val_ok(&sg->seq, seq))
		return "sequence number";
	if (!val_ok(&sg->len, (uint32_t)fr->payload_len))
		return "payload length";
	if (!val_ok(&sg->end, (uint32_t)(seq + fr->payload_len)))
		return "end sequence number";
	if (!val_ok(&sg->ack, ack))
		return "ack number";
	if (!val_ok(&sg->win, fr->win))
		return "window";
	if (!sg->opts_given) {
		if (fr->opts_len)
			return "options (the script expects none)";
	} else {
		const char *d = opts_differ(sg, fr, r->sc->cfg.irs);
		if (d)
			return d;
	}
	/* The data: what the application wrote, at its stream offset. */
	uint32_t first = seq + ((fr->flags & US_TCP_SYN) ? 1 : 0) - 1;
	for (size_t i = 0; i < fr->payload_len; i++)
		if (fr->payload[i] != us_script_pattern((uint32_t)(first + i))) {
			snprintf(why, cap, "payload byte %zu (stream offset %" PRIu32
				 ") is not what the application wrote there",
				 i, (uint32_t)(first + i));
			return why;
		}
	return NULL;
}

/* A super-frame (`gso N`) or a plain segment, as the line says, or why not. */
static const char *gso_differs(struct runner *r, const struct us_script_seg *sg,
			       const struct outframe *of, char *why, size_t cap)
{
	uint8_t want = r->sc->cfg.family == 4 ? US_GSO_TCPV4 : US_GSO_TCPV6;
	if (!sg->gso.given) {
		if (of->gso_type == US_GSO_NONE)
			return NULL;
		snprintf(why, cap, "it is a super-frame of gso_size %u; the line needs 'gso %u'",
			 of->gso_size, of->gso_size);
		return why;
	}
	if (of->gso_type == US_GSO_NONE)
		return "it is a plain segment, not a super-frame ('gso' on the line)";
	if (of->gso_type != want) {
		snprintf(why, cap, "its gso_type is %u, not %u", of->gso_type, want);
		return why;
	}
	if (!val_ok(&sg->gso, of->gso_size))
		return "gso_size";
	return NULL;
}

static int do_outbound(struct runner *r, const struct us_script_event *ev, us_time_t *ev_time)
{
	const struct us_script_seg *sg = &ev->seg;
	char exp_seg[512], exp[600], act[600];
	format_script_seg(sg, exp_seg, sizeof exp_seg);
	us_time_t lo, hi, t;
	if (ev->time.any) {
		t = lo = r->now;
		hi = r->now + LOOK_AHEAD;
	} else {
		t = resolve(r, ev->time.relative, ev->time.t);
		lo = t - r->sc->cfg.tolerance;
		hi = t + r->sc->cfg.tolerance;
		if (ev->time.has_end) {
			hi = resolve(r, ev->time.end_relative, ev->time.end);
			lo = t;
		}
	}
	with_port(exp, sizeof exp, '>', sg->peer_port, t, exp_seg);
	if (advance(r, hi, true) < 0)
		return -1;
	if (!r->qn) {
		/* Say when it would have left, if at all. */
		if (advance(r, hi + LOOK_AHEAD, true) < 0)
			return -1;
		if (!r->qn) {
			fail(r, "the stack sent nothing (waited until %" PRId64 ".%06" PRId64 " s)",
			     r->now / 1000000, r->now % 1000000);
			show_pair(r, exp, "(nothing)");
			return -1;
		}
		format_actual(r, &r->q[0], sg->peer_port, act, sizeof act);
		fail(r, "the stack sent its next segment later than the script expects");
		show_pair(r, exp, act);
		return -1;
	}
	format_actual(r, &r->q[0], sg->peer_port, act, sizeof act);
	if (r->q[0].t < lo || r->q[0].t > hi) {
		fail(r, "the stack sent this segment at another time");
		show_pair(r, exp, act);
		return -1;
	}
	struct us_script_frame fr;
	us_script_decode(r->q[0].data, r->q[0].len, &fr);
	struct conn *c = find_conn(r, fr.dport);
	char why[256];
	const char *d = c ? seg_differs(r, sg, &fr, c, why, sizeof why) : "too many connections";
	if (!d)
		d = gso_differs(r, sg, &r->q[0], why, sizeof why);
	if (d) {
		fail(r, "the segment the stack sent differs (%s)", d);
		show_pair(r, exp, act);
		return -1;
	}
	*ev_time = ev->time.any ? r->q[0].t : t;
	pop_frame(r);
	return 0;
}

/* A segment waits that no `>` line took: the script is missing one. */
static int check_nothing_pending(struct runner *r, const char *before)
{
	if (!r->qn)
		return 0;
	char act[600];
	format_actual(r, &r->q[0], 0, act, sizeof act);
	fail(r, "the stack sent a segment that no line expects (%s)", before);
	fprintf(r->o->err, "    actual:   %s\n", act);
	return -1;
}

/* ---- Socket calls -------------------------------------------------------- */

static void on_socket_event(void *ctx, int events)
{
	(void)ctx;
	(void)events;
}

struct result {
	int64_t ret;
	int err; /* positive errno when ret is -1 */
};

static struct result from_rc(int64_t rc)
{
	if (rc < 0)
		return (struct result){ .ret = -1, .err = (int)-rc };
	return (struct result){ .ret = rc };
}

static void format_result(const struct result *res, char *buf, size_t cap)
{
	if (res->ret == -1) {
		const char *name = us_script_errno_name(res->err);
		if (name)
			snprintf(buf, cap, "-1 %s (%s)", name, strerror(res->err));
		else
			snprintf(buf, cap, "-1 errno %d (%s)", res->err, strerror(res->err));
	} else {
		snprintf(buf, cap, "%" PRId64, res->ret);
	}
}

static struct fdent *get_fd(struct runner *r, const struct us_script_call *c)
{
	if (c->nargs < 1 || c->args[0].kind != US_SARG_INT || c->args[0].i < 0 ||
	    c->args[0].i >= MAX_FDS || !r->fds[c->args[0].i].t)
		return NULL;
	return &r->fds[c->args[0].i];
}

static int64_t arg_int(const struct us_script_arg *a, int64_t dflt)
{
	if (a->kind == US_SARG_INT || (a->kind == US_SARG_LIST && !a->ident[0]))
		return a->i;
	return dflt;
}

static bool ident_is(const struct us_script_arg *a, const char *s)
{
	return (a->kind == US_SARG_IDENT || a->kind == US_SARG_LIST) && strcmp(a->ident, s) == 0;
}

static struct us_addr peer_addr(const struct runner *r, uint16_t port)
{
	struct us_addr a = { .family = r->sc->cfg.family == 4 ? US_AF_INET : US_AF_INET6,
			     .port = port };
	if (a.family == US_AF_INET)
		a.ip4 = PEER_IP4;
	else
		a.ip6 = peer_ip6;
	return a;
}

/* setsockopt/getsockopt names onto the core's options. */
static int map_opt(const struct us_script_arg *level, const struct us_script_arg *name,
		   enum us_sock_opt *opt)
{
	static const struct {
		const char *level, *name;
		enum us_sock_opt opt;
	} map[] = {
		{ "SOL_SOCKET", "SO_REUSEADDR", US_OPT_REUSEADDR },
		{ "SOL_SOCKET", "SO_RCVBUF", US_OPT_RCVBUF },
		{ "SOL_SOCKET", "SO_SNDBUF", US_OPT_SNDBUF },
		{ "SOL_SOCKET", "SO_KEEPALIVE", US_OPT_KEEPALIVE },
		{ "SOL_SOCKET", "SO_LINGER", US_OPT_LINGER },
		{ "IPPROTO_TCP", "TCP_NODELAY", US_OPT_NODELAY },
		{ "IPPROTO_TCP", "TCP_KEEPIDLE", US_OPT_KEEPIDLE },
		{ "IPPROTO_TCP", "TCP_KEEPINTVL", US_OPT_KEEPINTVL },
		{ "IPPROTO_TCP", "TCP_KEEPCNT", US_OPT_KEEPCNT },
		{ "IPPROTO_TCP", "TCP_CONGESTION", US_OPT_CONGESTION },
		{ "IPPROTO_TCP", "TCP_SACK_ENABLE", US_OPT_SACK },
		{ "IPPROTO_TCP", "TCP_TIMESTAMPS_ENABLE", US_OPT_TIMESTAMPS },
		{ "IPPROTO_TCP", "TCP_WSCALE_ENABLE", US_OPT_WSCALE },
		{ "IPPROTO_TCP", "TCP_SYNCOOKIES", US_OPT_SYNCOOKIES },
		{ "IPPROTO_TCP", "TCP_ECN_ENABLE", US_OPT_ECN },
		{ "IPPROTO_IP", "IP_TTL", US_OPT_TTL },
		{ "IPPROTO_IP", "IP_TOS", US_OPT_TOS },
		{ "IPPROTO_IPV6", "IPV6_V6ONLY", US_OPT_V6ONLY },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (ident_is(level, map[i].level) && ident_is(name, map[i].name)) {
			*opt = map[i].opt;
			return 0;
		}
	return -1;
}

static int call_mismatch(struct runner *r, const struct us_script_call *c, const char *expected,
			 const char *actual, const char *what)
{
	char e[512], a[512];
	snprintf(e, sizeof e, "%s = %s", c->text, expected);
	snprintf(a, sizeof a, "%s = %s", c->text, actual);
	fail(r, "%s", what);
	show_pair(r, e, a);
	return -1;
}

/* The state of the connection with these ports (peer_port 0: the
 * listener on local_port; local_port -1: any, as for an ephemeral port),
 * from the core's table; CLOSED when it is gone. */
static int tcp_state_of(struct runner *r, int local_port, uint16_t peer_port)
{
	struct us_tcp_info info[MAX_CONNS];
	size_t n = us_stack_tcp_table(r->s, info, MAX_CONNS);
	if (n > MAX_CONNS)
		n = MAX_CONNS;
	for (size_t i = 0; i < n; i++)
		if ((local_port < 0 || info[i].local.port == local_port) &&
		    info[i].remote.port == peer_port)
			return info[i].state;
	return US_TCP_CLOSED;
}

/* The fields of us_tcp_info a script may compare in tcp_info(): what a
 * test of congestion control needs to see (docs/scripts.md). */
static const char *const info_field_names[] = {
	"cwnd", "ssthresh", "w_max", "k_ms", "in_flight", "in_recovery", "srtt_us", "mss",
};

static bool info_field(const struct us_tcp_info *e, const char *name, int64_t *out)
{
	const int64_t v[] = {
		e->cwnd, e->ssthresh, e->cubic_w_max, e->cubic_k_us / 1000,
		e->bytes_in_flight, e->in_recovery, e->srtt_us, e->mss,
	};
	_Static_assert(sizeof v / sizeof v[0] == sizeof info_field_names / sizeof info_field_names[0],
		       "one value per field name");
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (strcmp(name, info_field_names[i]) == 0) {
			*out = v[i];
			return true;
		}
	return false;
}

/* A window in bytes and in segments of mss, to one decimal: "10220 (7.0)". */
static void format_window(uint32_t w, uint32_t mss, char *buf, size_t cap)
{
	if (w == UINT32_MAX)
		snprintf(buf, cap, "inf");
	else
		snprintf(buf, cap, "%" PRIu32 " (%" PRIu32 ".%" PRIu32 ")", w, mss ? w / mss : 0,
			 mss ? w % mss * 10 / mss : 0);
}

/* tcp_info(4242, 40000, {cwnd=14600, ssthresh=10220}) = 0: the congestion
 * state of the connection between those ports (us_stack_tcp_table), as
 * `ss -ti` shows it. All of it goes into the trace (so the golden file
 * pins it); the fields in braces are compared. -1 ENOTCONN when the core
 * holds no such connection. */
static int call_tcp_info(struct runner *r, const struct us_script_call *c, struct result *res)
{
	bool any_local = c->nargs >= 1 && c->args[0].kind == US_SARG_ELLIPSIS;
	if (c->nargs < 2 || (c->args[0].kind != US_SARG_INT && !any_local) ||
	    c->args[1].kind != US_SARG_INT || (c->nargs >= 3 && c->args[2].kind != US_SARG_STRUCT))
		return fail(r, "tcp_info(LOCAL_PORT, PEER_PORT[, {FIELD=VALUE, ...}])");
	const struct us_script_arg *want = c->nargs >= 3 ? &c->args[2] : NULL;
	for (int i = 0; want && i < want->nfields; i++) {
		int64_t v;
		if (!info_field(&(struct us_tcp_info){ 0 }, want->field[i], &v))
			return fail(r,
				    "tcp_info has no field '%s' (cwnd, ssthresh, w_max, k_ms, "
				    "in_flight, in_recovery, srtt_us, mss)",
				    want->field[i]);
	}
	struct us_tcp_info info[MAX_CONNS];
	size_t n = us_stack_tcp_table(r->s, info, MAX_CONNS);
	if (n > MAX_CONNS)
		n = MAX_CONNS;
	const struct us_tcp_info *e = NULL;
	for (size_t i = 0; i < n && !e; i++)
		if ((any_local || info[i].local.port == c->args[0].i) &&
		    info[i].remote.port == c->args[1].i)
			e = &info[i];
	if (!e) {
		*res = (struct result){ -1, ENOTCONN };
		return 0;
	}
	char cw[48], ss[48];
	format_window(e->cwnd, e->mss, cw, sizeof cw);
	format_window(e->ssthresh, e->mss, ss, sizeof ss);
	char cubic[96] = "";
	if (e->cc == US_TCP_CC_CUBIC)
		snprintf(cubic, sizeof cubic, " w_max %" PRIu32 " k %" PRId64 " ms", e->cubic_w_max,
			 (int64_t)(e->cubic_k_us / 1000));
	trace_line(r, r->now, "info",
		   "%u-%u %s cwnd %s ssthresh %s%s in_flight %" PRIu32 "%s srtt %" PRId64 " us",
		   e->local.port, e->remote.port, e->cc == US_TCP_CC_CUBIC ? "cubic" : "newreno",
		   cw, ss, cubic, e->bytes_in_flight, e->in_recovery ? " recovery" : "",
		   (int64_t)e->srtt_us);
	for (int i = 0; want && i < want->nfields; i++) {
		int64_t got;
		info_field(e, want->field[i], &got);
		if (got == want->field_val[i])
			continue;
		char ex[512] = "{", ac[512] = "{";
		for (int j = 0; j < want->nfields; j++) {
			int64_t g;
			info_field(e, want->field[j], &g);
			const char *sep = j ? ", " : "";
			snprintf(ex + strlen(ex), sizeof ex - strlen(ex), "%s%s=%" PRId64, sep,
				 want->field[j], want->field_val[j]);
			snprintf(ac + strlen(ac), sizeof ac - strlen(ac), "%s%s=%" PRId64, sep,
				 want->field[j], g);
		}
		fail(r, "the TCP info differs (%s)", want->field[i]);
		show_pair(r, strcat(ex, "}"), strcat(ac, "}"));
		return -1;
	}
	res->ret = 0;
	return 0;
}

static int do_call(struct runner *r, const struct us_script_call *c)
{
	struct result res = { 0 };
	struct fdent *fe = get_fd(r, c);
	const char *n = c->name;
	char state_name[32] = "";
	bool needs_fd = strcmp(n, "socket") != 0 && strcmp(n, "tcp_state") != 0 &&
			strcmp(n, "tcp_info") != 0;
	if (needs_fd && !fe) {
		res = (struct result){ -1, EBADF };
	} else if (strcmp(n, "tcp_info") == 0) {
		if (call_tcp_info(r, c, &res) < 0)
			return -1;
	} else if (strcmp(n, "tcp_state") == 0) {
		/* tcp_state(4242, 40000) = FIN_WAIT_2: a connection by its
		 * ports, also one closed by its owner that finishes alone (the
		 * descriptor is gone); tcp_state(4242) = LISTEN: a listener.
		 * CLOSED when the core holds no such connection any more. */
		bool any_local = c->nargs >= 1 && c->args[0].kind == US_SARG_ELLIPSIS;
		if (c->nargs < 1 || (c->args[0].kind != US_SARG_INT && !any_local) ||
		    (c->nargs >= 2 && c->args[1].kind != US_SARG_INT) || (any_local && c->nargs < 2))
			return fail(r, "tcp_state(LOCAL_PORT[, PEER_PORT]) or tcp_state(..., PEER_PORT)");
		res.ret = tcp_state_of(r, any_local ? -1 : (int)c->args[0].i,
				       c->nargs >= 2 ? (uint16_t)c->args[1].i : 0);
		snprintf(state_name, sizeof state_name, "%s", us_tcp_state_name((int)res.ret));
	} else if (strcmp(n, "socket") == 0) {
		int fam = r->sc->cfg.family == 4 ? US_AF_INET : US_AF_INET6;
		if (c->nargs >= 1 && ident_is(&c->args[0], "AF_INET"))
			fam = US_AF_INET;
		else if (c->nargs >= 1 && ident_is(&c->args[0], "AF_INET6"))
			fam = US_AF_INET6;
		if (c->nargs >= 2 && c->args[1].kind == US_SARG_IDENT &&
		    !ident_is(&c->args[1], "SOCK_STREAM"))
			return fail(r, "only TCP sockets (SOCK_STREAM) are scripted");
		if (r->next_fd >= MAX_FDS)
			return fail(r, "too many sockets");
		int err = 0;
		struct fdent *nf = &r->fds[r->next_fd];
		nf->t = us_tcp_open(r->s, fam, on_socket_event, nf, &err);
		res = nf->t ? (struct result){ r->next_fd++, 0 } : from_rc(err);
	} else if (strcmp(n, "bind") == 0) {
		uint16_t port = r->sc->cfg.local_port;
		if (c->nargs >= 2 && c->args[1].kind == US_SARG_INT)
			port = (uint16_t)c->args[1].i;
		struct us_addr a = { .family = r->sc->cfg.family == 4 ? US_AF_INET : US_AF_INET6,
				     .port = port };
		res = from_rc(us_tcp_bind(fe->t, &a));
	} else if (strcmp(n, "listen") == 0) {
		res = from_rc(us_tcp_listen(fe->t, r->now, c->nargs >= 2 ? (int)arg_int(&c->args[1], 1) : 1));
		struct us_addr local;
		/* The peer's segments go to the port the stack listens on. */
		if (res.ret == 0 && us_tcp_local(fe->t, &local) == 0 && local.port)
			r->local_port = local.port;
	} else if (strcmp(n, "accept") == 0) {
		if (r->next_fd >= MAX_FDS)
			return fail(r, "too many sockets");
		int err = 0;
		struct fdent *nf = &r->fds[r->next_fd];
		nf->t = us_tcp_accept(fe->t, on_socket_event, nf, NULL, &err);
		res = nf->t ? (struct result){ r->next_fd++, 0 } : from_rc(err);
	} else if (strcmp(n, "connect") == 0) {
		uint16_t port = r->sc->cfg.peer_port;
		if (c->nargs >= 2 && c->args[1].kind == US_SARG_INT)
			port = (uint16_t)c->args[1].i;
		struct us_addr a = peer_addr(r, port);
		res = from_rc(us_tcp_connect(fe->t, r->now, &a));
	} else if (strcmp(n, "write") == 0 || strcmp(n, "send") == 0) {
		int64_t len = c->nargs >= 3 ? arg_int(&c->args[2], -1) : -1;
		if (len < 0 || len > (1 << 24))
			return fail(r, "%s needs a length (0..16777216) as its third argument", n);
		uint8_t *buf = malloc((size_t)len + 1);
		if (!buf)
			return fail(r, "out of memory");
		for (int64_t i = 0; i < len; i++)
			buf[i] = us_script_pattern(fe->wr_off + (uint64_t)i);
		res = from_rc(us_tcp_send(fe->t, r->now, buf, (size_t)len));
		free(buf);
		if (res.ret > 0)
			fe->wr_off += (uint64_t)res.ret;
	} else if (strcmp(n, "read") == 0 || strcmp(n, "recv") == 0) {
		int64_t len = c->nargs >= 3 ? arg_int(&c->args[2], -1) : -1;
		if (len < 0 || len > (1 << 24))
			return fail(r, "%s needs a length (0..16777216) as its third argument", n);
		uint8_t *buf = malloc((size_t)len + 1);
		if (!buf)
			return fail(r, "out of memory");
		res = from_rc(us_tcp_recv(fe->t, r->now, buf, (size_t)len));
		for (int64_t i = 0; i < res.ret; i++)
			if (buf[i] != us_script_pattern(fe->rd_off + (uint64_t)i)) {
				free(buf);
				return fail(r, "%s returned data that differs from what the peer sent at stream offset %" PRIu64,
					    n, fe->rd_off + (uint64_t)i);
			}
		free(buf);
		if (res.ret > 0)
			fe->rd_off += (uint64_t)res.ret;
	} else if (strcmp(n, "close") == 0) {
		us_tcp_close(fe->t, r->now);
		fe->t = NULL;
		res.ret = 0;
	} else if (strcmp(n, "shutdown") == 0) {
		int how = -1;
		if (c->nargs >= 2) {
			const struct us_script_arg *a = &c->args[1];
			how = ident_is(a, "SHUT_RD") ? 0 : ident_is(a, "SHUT_WR") ? 1
				: ident_is(a, "SHUT_RDWR") ? 2 : (int)arg_int(a, -1);
		}
		res = from_rc(us_tcp_shutdown(fe->t, r->now, how));
	} else if (strcmp(n, "setsockopt") == 0 || strcmp(n, "getsockopt") == 0) {
		if (c->nargs < 4)
			return fail(r, "%s(fd, level, name, [value], len)", n);
		const struct us_script_arg *v = &c->args[3];
		bool set = n[0] == 's';
		if (!set && ident_is(&c->args[1], "SOL_SOCKET") && ident_is(&c->args[2], "SO_ERROR")) {
			int got = -us_tcp_take_error(fe->t);
			int want = v->ident[0] ? us_script_errno_value(v->ident) : (int)v->i;
			if (v->kind != US_SARG_ELLIPSIS && got != want) {
				char e[64], a[64];
				snprintf(e, sizeof e, "[%s]", want ? us_script_errno_name(want) : "0");
				snprintf(a, sizeof a, "[%s]", got ? us_script_errno_name(got) : "0");
				fail(r, "SO_ERROR differs");
				show_pair(r, e, a);
				return -1;
			}
			res.ret = 0;
		} else {
			enum us_sock_opt opt;
			if (map_opt(&c->args[1], &c->args[2], &opt) < 0)
				return fail(r, "unknown socket option %s %s", c->args[1].ident,
					    c->args[2].ident);
			if (set) {
				int64_t value = arg_int(v, 0);
				if (v->kind == US_SARG_STRUCT) { /* {l_onoff=1, l_linger=0} */
					int64_t onoff = 0, secs = 0;
					for (int i = 0; i < v->nfields; i++) {
						if (strcmp(v->field[i], "l_onoff") == 0)
							onoff = v->field_val[i];
						else if (strcmp(v->field[i], "l_linger") == 0)
							secs = v->field_val[i];
					}
					value = onoff ? secs : -1;
				}
				res = from_rc(us_tcp_setopt(fe->t, opt, (int)value));
			} else {
				int got = 0;
				res = from_rc(us_tcp_getopt(fe->t, opt, &got));
				if (res.ret == 0 && v->kind != US_SARG_ELLIPSIS && got != (int)arg_int(v, 0)) {
					char e[64], a[64];
					snprintf(e, sizeof e, "[%d]", (int)arg_int(v, 0));
					snprintf(a, sizeof a, "[%d]", got);
					fail(r, "the option's value differs");
					show_pair(r, e, a);
					return -1;
				}
			}
		}
	} else if (strcmp(n, "getsocketsta") == 0) {
		res.ret = us_tcp_state(fe->t);
		snprintf(state_name, sizeof state_name, "%s", us_tcp_state_name((int)res.ret));
	} else {
		return fail(r, "unknown call '%s' (socket, bind, listen, accept, connect, write, read, close, shutdown, setsockopt, getsockopt, getsocketsta, tcp_state, tcp_info)",
			    n);
	}
	char actual[128];
	format_result(&res, actual, sizeof actual);
	if (state_name[0])
		snprintf(actual + strlen(actual), sizeof actual - strlen(actual), " (%s)", state_name);
	trace_line(r, r->now, "call", "%s = %s", c->text, actual);
	answer_neighbours(r);
	if (c->ret_wild)
		return 0;
	if (c->ret_ident[0]) {
		if (!state_name[0] || strcmp(c->ret_ident, state_name) != 0)
			return call_mismatch(r, c, c->ret_ident, actual, "the call's result differs");
		return 0;
	}
	if (res.ret != c->ret || (res.ret == -1 && res.err != c->err)) {
		struct result want = { c->ret, c->err };
		char expected[128];
		format_result(&want, expected, sizeof expected);
		return call_mismatch(r, c, expected, actual, "the call's result differs");
	}
	return 0;
}

/* ---- The script ---------------------------------------------------------- */

static int setup(struct runner *r)
{
	const struct us_script_config *cfg = &r->sc->cfg;
	struct us_stack_config sc = { .seed = 1, .trace = on_core_trace, .trace_ctx = r,
				      .no_dad = true, .no_router_solicit = true, .no_slaac = true,
				      .tcp_msl = cfg->msl };
	for (int i = 0; i < 16; i++)
		sc.secret[i] = (uint8_t)i;
	r->s = us_stack_new(&sc);
	if (!r->s)
		return -1;
	struct us_iface_config ic = { .name = "script0", .mtu = cfg->mtu, .transmit = on_transmit,
				      .transmit_ctx = r, .offloads = cfg->offloads };
	memcpy(ic.mac, stack_mac, US_ETH_ALEN);
	r->ifindex = us_stack_add_iface(r->s, 0, &ic);
	if (r->ifindex < 0)
		return -1;
	int rc = cfg->family == 4 ? us_stack_add_ipv4(r->s, 0, r->ifindex, STACK_IP4, 24)
				  : us_stack_add_ipv6(r->s, 0, r->ifindex, &stack_ip6, 64);
	if (rc < 0)
		return -1;
	answer_neighbours(r);
	/* The peer introduces itself, so that no segment waits for ARP/NDP. */
	uint8_t f[128];
	if (cfg->family == 4) {
		static const uint8_t bcast[US_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		inject(r, f, build_arp(f, sizeof f, US_ARP_REQUEST, bcast), NULL, NULL);
	} else {
		struct us_ip6 snm;
		uint8_t mac[US_ETH_ALEN];
		us_ip6_solicited_node(&stack_ip6, &snm);
		us_eth_mcast_from_ip6(&snm, mac);
		inject(r, f, build_nd(f, sizeof f, false, &snm, mac), NULL, NULL);
	}
	answer_neighbours(r);
	return 0;
}

static int run_event(struct runner *r, const struct us_script_event *ev)
{
	r->line = ev->line;
	us_time_t t = ev->time.any ? r->now : resolve(r, ev->time.relative, ev->time.t);
	if (!ev->time.any && t < r->script_t)
		return fail(r, "time goes backwards (%" PRId64 " us before the previous event)",
			    r->script_t - t);
	switch (ev->kind) {
	case US_SEV_IN:
	case US_SEV_CALL:
		if (advance(r, t, true) < 0 || check_nothing_pending(r, "before this line") < 0)
			return -1;
		if (advance(r, t, false) < 0)
			return -1;
		if (ev->kind == US_SEV_IN ? do_inbound(r, &ev->seg) < 0 : do_call(r, &ev->call) < 0)
			return -1;
		break;
	case US_SEV_OUT:
		if (do_outbound(r, ev, &t) < 0)
			return -1;
		break;
	case US_SEV_NOTHING: {
		us_time_t until = ev->until.relative ? t + ev->until.t : ev->until.t;
		if (advance(r, t, true) < 0 || check_nothing_pending(r, "before this line") < 0)
			return -1;
		if (advance(r, until, true) < 0)
			return -1;
		if (r->qn) {
			char exp[128], act[600], ts[32];
			us_script_format_time(until, ts, sizeof ts);
			snprintf(exp, sizeof exp, "nothing until %s", ts);
			format_actual(r, &r->q[0], 0, act, sizeof act);
			fail(r, "the stack sent a segment where the script expects none");
			show_pair(r, exp, act);
			return -1;
		}
		t = until;
		break;
	}
	}
	r->script_t = t;
	if (r->oom)
		return fail(r, "out of memory");
	trace_table(r);
	return r->failed ? -1 : 0;
}

int us_script_run(const struct us_script *sc, const struct us_script_run_opts *opts,
		  char **trace_out)
{
	struct runner *r = calloc(1, sizeof *r);
	char *tbuf = NULL;
	size_t tlen = 0;
	int rc = -1;
	*trace_out = NULL;
	if (!r)
		return -1;
	r->sc = sc;
	r->o = opts;
	r->next_fd = FIRST_FD;
	r->local_port = sc->cfg.local_port;
	r->trace = open_memstream(&tbuf, &tlen);
	if (!r->trace)
		goto out;
	if (opts->pcap_path) {
		int err = 0;
		r->pcap = us_pcap_writer_open(opts->pcap_path, &err);
		if (!r->pcap) {
			fprintf(opts->err, "%s: %s\n", opts->pcap_path, strerror(-err));
			goto out;
		}
	}
	const char *base = strrchr(sc->path, '/');
	fprintf(r->trace, "# %s: every frame (< in, > out), call, state change and drop\n",
		base ? base + 1 : sc->path);
	if (setup(r) < 0) {
		fprintf(opts->err, "%s: cannot set up the stack\n", sc->path);
		goto out;
	}
	rc = 0;
	for (int i = 0; i < sc->nevents; i++)
		if (run_event(r, &sc->events[i]) < 0) {
			rc = 1;
			break;
		}
	if (rc == 0) {
		r->line = sc->nevents ? sc->events[sc->nevents - 1].line : 0;
		if (check_nothing_pending(r, "after the last line") < 0)
			rc = 1;
	}
	if (r->failed)
		rc = 1;
out:
	r->done = true;
	if (r->s) {
		/* Orphans finish in the core: it frees them with the stack. */
		for (int i = 0; i < MAX_FDS; i++)
			if (r->fds[i].t)
				us_tcp_abort(r->fds[i].t, r->now);
		us_stack_free(r->s);
	}
	if (r->pcap)
		us_pcap_writer_close(r->pcap);
	for (size_t i = 0; i < r->qn; i++)
		free(r->q[i].data);
	free(r->q);
	if (r->trace) {
		fclose(r->trace);
		*trace_out = tbuf;
	}
	free(r);
	return rc;
}

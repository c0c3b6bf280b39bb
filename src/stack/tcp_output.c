/* SPDX-License-Identifier: MIT */
/*
 * tcp_output.c - what TCP sends: segments cut from the send ring within
 * the send and congestion windows (RFC 9293 §3.8.6, RFC 5681), the Nagle
 * algorithm and the sender's silly window syndrome avoidance (RFC 1122
 * §4.2.3.4), the receive window we announce (RFC 1122 §4.2.3.3), the MSS
 * (RFC 9293 §3.7.1, RFC 6691), and RSTs for segments no TCB takes (RFC
 * 9293 §3.10.7.1).
 *
 * Read tcp.h first. us_tcp_output() is called after every event that may
 * let something leave: a user call, a segment, a timer.
 *
 * Offloads (docs/performance.md): on an interface whose link completes
 * checksums (US_OFFLOAD_CSUM), every segment leaves with a partial checksum
 * (the pseudo-header sum in the field, as virtio-net expects); with TSO
 * too, output_data() cuts super-frames of several full-sized segments, up
 * to 64 KB, which the link splits at the MSS. Everything else (the rules
 * of what may leave, retransmission, which always cuts at the MSS from
 * the send ring) is unchanged: a super-frame is only several segments
 * handed over at once.
 */
#include <errno.h>
#include <string.h>

#include "ip.h"
#include "ip6.h"
#include "nd6.h"
#include "stack.h"
#include "tcp.h"
#include "tcp_seq.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

/* RFC 9293 §3.1: the Checksum field's offset in the TCP header. */
#define TCP_CSUM_OFFSET 16

static uint32_t v4_of(const struct us_ip6 *a)
{
	return us_get_be32(a->b + 12);
}

/*
 * The route cache (tcp.h): t's route, looked up again only when the
 * stack's routing inputs changed since (s->route_gen). NULL when there is
 * no route: nothing is cached, and the segment takes the uncached way,
 * which fails as it always did (-ENETUNREACH, counted).
 */
const struct us_tcp_route *us_tcp_route(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	if (t->route.gen == s->route_gen)
		return &t->route;
	int rc = t->v4 ? us_ip_path(s, v4_of(&t->tu.laddr), v4_of(&t->tu.raddr), US_IPPROTO_TCP,
				    &t->route.v4)
		       : us_ip6_path(s, &t->tu.raddr, t->ifindex, &t->route.v6);
	t->route.gen = rc < 0 ? 0 : s->route_gen;
	return rc < 0 ? NULL : &t->route;
}

uint32_t us_tcp_send_mss(const struct us_tcp *t)
{
	/* RFC 9293 §3.7.1 (MUST-16): "the size of a segment sent ... must be
	 * no larger than the MSS the peer announced" and RFC 6691 §2: the
	 * path's MTU less the fixed IP and TCP headers. The path MTU comes
	 * from the route cache while it is current (the segment just sent
	 * refreshed it), else from IP. */
	uint32_t pmtu, hdrs;
	bool cached = t->route.gen == t->s->route_gen;
	if (t->v4) {
		pmtu = cached ? t->route.v4.mtu : us_ip_pmtu(t->s, v4_of(&t->tu.raddr));
		hdrs = US_IPV4_HDR_LEN + US_TCP_HDR_LEN;
	} else {
		pmtu = cached ? t->route.v6.mtu : us_ip6_pmtu(t->s, &t->tu.raddr);
		hdrs = US_IPV6_HDR_LEN + US_TCP_HDR_LEN;
	}
	uint32_t mss = pmtu > hdrs ? pmtu - hdrs : US_TCP_DEFAULT_MSS;
	if (t->peer_mss < mss)
		mss = t->peer_mss;
	/* RFC 6691 §2: "the sender MUST reduce the TCP data length to account
	 * for any IP or TCP options that it is including in the packets that
	 * it sends": the TSopt every segment carries (SACK blocks, which
	 * come and go, are taken off where a segment is cut). */
	uint32_t fixed = us_tcp_fixed_opt_len(t);
	mss = mss > fixed + 64 ? mss - fixed : mss;
	return mss ? mss : 1;
}

/*
 * The window to announce. RFC 1122 §4.2.3.3 (receiver SWS avoidance):
 * "the receiver should not advance the right window edge RCV.NXT+RCV.WND
 * until the allocation can be increased by at least min(Fr * RCV.BUFF,
 * Eff.snd.MSS)" with Fr = 1/2; and RFC 9293 §3.8.6.2.2 discourages
 * shrinking the window: the right edge never moves left.
 */
uint32_t us_tcp_rcv_window(struct us_tcp *t)
{
	uint32_t space = us_tcp_rcv_space(t);
	/* RFC 7323 §2.3: with window scaling the window may say up to
	 * 65535 << Rcv.Wind.Shift. */
	uint32_t max = US_TCP_MAX_WIN << (t->wscale_ok ? t->rcv_wscale : 0);
	uint32_t win = space < max ? space : max;
	uint32_t cur = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	if (win <= cur)
		return cur;
	uint32_t mss = t->adv_mss ? t->adv_mss : US_TCP_DEFAULT_MSS;
	uint32_t cap = us_tcp_rcv_cap(t);
	uint32_t step = cap / 2 < mss ? cap / 2 : mss;
	if (win - cur < step)
		return cur;
	return win;
}

/* The offloads (enum us_offload) of the interface a segment to dst leaves
 * by (rt: the connection's route, or NULL); 0 when no interface has any
 * (the common case, no lookup). */
static uint32_t path_offloads(struct us_stack *s, bool v4, const struct us_ip6 *dst, int ifindex,
			      const struct us_tcp_route *rt)
{
	struct us_iface *ifc = NULL;
	if (!s->any_offload)
		return 0;
	if (rt) {
		ifc = &s->iface[v4 ? rt->v4.ifindex : rt->v6.ifindex];
	} else if (v4) {
		if (us_ip_route(s, v4_of(dst), &ifc, NULL, NULL) < 0)
			return 0;
	} else {
		struct us_ip6 hop;
		if (us_nd6_next_hop(s, dst, ifindex, &ifc, &hop) < 0)
			return 0;
	}
	return ifc ? ifc->offloads : 0;
}

/* The partial sum (wire/checksum.h) of the last len bytes of a segment,
 * its payload, taken while they were copied out of the send ring; len 0:
 * none, the whole segment is summed here. */
struct data_sum {
	uint32_t sum;
	uint32_t len;
};

/* The TCP checksum of b: complete, or (the link completes it) the
 * pseudo-header sum, uncomplemented, with b marked for the link. RFC 9293
 * §3.1: "The checksum field is the 16-bit ones' complement of the ones'
 * complement sum of all 16-bit words in the header and text", plus the
 * pseudo-header. With the text already summed (ds), only the header is
 * summed here; the header's length is a multiple of 4, so the text's sum
 * chains on at an even offset (RFC 1071 §2(B)). */
static void csum_fill(struct us_pbuf *b, uint32_t pseudo, bool partial, const struct data_sum *ds)
{
	uint8_t *p = us_pbuf_data(b);
	if (!partial && ds && ds->len && ds->len < b->len) {
		uint32_t hlen = b->len - ds->len;
		us_put_be16(p + TCP_CSUM_OFFSET, 0);
		/* Both are folded partial sums: their plain sum is one too. */
		uint32_t sum = pseudo + ds->sum;
		us_put_be16(p + TCP_CSUM_OFFSET, us_csum_fold(us_csum_partial(p, hlen, sum)));
		return;
	}
	if (!partial) {
		us_tcp_csum_fill(p, b->len, pseudo);
		return;
	}
	us_put_be16(p + TCP_CSUM_OFFSET, (uint16_t)~us_csum_fold(pseudo));
	b->csum_at = b->off;
	b->csum_offset = TCP_CSUM_OFFSET;
}

/* Hands a finished segment (b: the TCP header and data) to IP, along the
 * connection's cached route rt when there is one. */
static int ip_send(struct us_stack *s, bool v4, const struct us_ip6 *src,
		   const struct us_ip6 *dst, int ifindex, uint8_t ttl, uint8_t tos,
		   struct us_pbuf *b, const struct data_sum *ds, const struct us_tcp_route *rt)
{
	uint32_t len = b->len;
	bool partial = path_offloads(s, v4, dst, ifindex, rt) & US_OFFLOAD_CSUM;
	if (b->gso_type != US_GSO_NONE)
		partial = true;
	if (v4) {
		csum_fill(b, us_csum_pseudo4(v4_of(src), v4_of(dst), US_IPPROTO_TCP, len), partial, ds);
		/* RFC 9293 §3.7.2 with RFC 1191: DF set, segments sized to
		 * the path MTU. */
		struct us_ip_tx tx = {
			.src = v4_of(src),
			.dst = v4_of(dst),
			.proto = US_IPPROTO_TCP,
			.ttl = ttl,
			.tos = tos,
			.df = true,
			.ifindex = -1,
		};
		return rt ? us_ip_output_path(s, b, &tx, &rt->v4) : us_ip_output(s, b, &tx);
	}
	csum_fill(b, us_csum_pseudo6(src, dst, US_IPPROTO_TCP, len), partial, ds);
	struct us_ip6_tx tx = {
		.src = *src,
		.dst = *dst,
		.next_header = US_IPPROTO_TCP,
		.hop_limit = ttl,
		.traffic_class = tos,
		.ifindex = ifindex,
	};
	return rt ? us_ip6_output_path(s, b, &tx, &rt->v6) : us_ip6_output(s, b, &tx);
}

/* One segment, or with gso_size > 0 a super-frame of len bytes that the
 * link cuts into segments of gso_size (TSO). */
static int send_segment(struct us_tcp *t, uint32_t seq, uint32_t len, uint8_t flags,
			uint32_t gso_size)
{
	struct us_stack *s = t->s;
	/* ECE, CWR and the IP ECN codepoint (RFC 3168 §6.1, tcp_ecn.c). */
	uint8_t ecn;
	flags = us_tcp_ecn_out(t, seq, len, flags, &ecn);
	struct us_tcp_hdr h = {
		.sport = t->tu.lport,
		.dport = t->tu.rport,
		.seq = seq,
		.flags = flags,
	};
	uint32_t win;
	bool syn = flags & US_TCP_SYN;
	if (syn) {
		us_tcp_syn_options(t, &h.opts, flags & US_TCP_ACK);
		uint32_t space = us_tcp_rcv_space(t);
		win = space < US_TCP_MAX_WIN ? space : US_TCP_MAX_WIN;
	} else {
		us_tcp_seg_options(t, &h.opts, flags);
		win = us_tcp_rcv_window(t);
	}
	if (flags & US_TCP_RST)
		win = 0;
	h.window = us_tcp_window_field(t, win, syn, &win);
	if (flags & US_TCP_ACK)
		h.ack = t->rcv_nxt;
	if (h.opts.sack_count && seq_lt(h.opts.sack[0].left, t->rcv_nxt))
		us_count(s, US_CTR_TCP_DSACKS_SENT);
	size_t hlen = us_tcp_opts_len(&h.opts) + US_TCP_HDR_LEN;
	struct us_pbuf *b = us_stack_alloc(s, (uint32_t)hlen + len);
	if (!b) {
		us_count(s, US_CTR_TCP_OUT_ERRORS);
		return -ENOBUFS;
	}
	uint8_t *p = us_pbuf_data(b);
	us_tcp_emit(&h, p, hlen);
	/* Without checksum offload on any interface the checksum is ours: the
	 * payload is summed as it is copied out of the send ring, one pass
	 * (us_csum_copy). With offloads the link may complete the checksum
	 * (ip_send decides), so a plain copy. */
	struct data_sum ds = { 0, 0 };
	if (len && !s->any_offload) {
		ds.sum = us_tcp_ring_read_csum(&t->sndq, seq - t->snd_buf_seq, p + hlen, len, 0);
		ds.len = len;
	} else if (len) {
		us_tcp_ring_read(&t->sndq, seq - t->snd_buf_seq, p + hlen, len);
	}
	if (gso_size && len > gso_size) {
		b->gso_type = t->v4 ? US_GSO_TCPV4 : US_GSO_TCPV6;
		b->gso_size = (uint16_t)gso_size;
	}
	if (flags & US_TCP_ACK) {
		/* This ACK is the one the delayed ACK timer waited for. */
		t->rcv_acked = t->rcv_nxt;
		us_tcp_timer_set(t, US_TCP_T_DELACK, US_TIME_NEVER);
		t->ack_now = false;
		t->ack_deferred = false;
		/* The right edge never moves left (RFC 9293 §3.8.6.2.2): a
		 * scaled window rounded down may say a little less than the
		 * edge already offered, which stays. */
		if (!(flags & US_TCP_RST) && seq_gt(t->rcv_nxt + win, t->rcv_adv))
			t->rcv_adv = t->rcv_nxt + win;
	}
	bool again = (len || (flags & (US_TCP_SYN | US_TCP_FIN))) && seq_lt(seq, t->snd_max);
	/* A super-frame counts as the segments it becomes. */
	uint32_t segs = b->gso_type != US_GSO_NONE ? (len + gso_size - 1) / gso_size : 1;
	if (again) {
		t->retransmits += segs;
		for (uint32_t i = 0; i < segs; i++)
			us_count(s, US_CTR_TCP_RETRANS_SEGS);
	}
	for (uint32_t i = 0; i < segs; i++)
		us_count(s, US_CTR_TCP_OUT_SEGS);
	/* The ECN field is TCP's, never IP_TOS's (RFC 3168 §6.1.1: no ECT
	 * unless negotiated; Linux masks it the same way). */
	uint8_t tos = (uint8_t)((t->opt.tos & ~US_IP_ECN_MASK) | ecn);
	int rc = ip_send(s, t->v4, &t->tu.laddr, &t->tu.raddr, t->ifindex, t->opt.ttl, tos, b, &ds,
			 us_tcp_route(t));
	if (rc < 0)
		us_count(s, US_CTR_TCP_OUT_ERRORS);
	return rc;
}

int us_tcp_send_segment(struct us_tcp *t, uint32_t seq, uint32_t len, uint8_t flags)
{
	return send_segment(t, seq, len, flags, 0);
}

/*
 * The most payload one frame to the peer may carry: mss, or with TSO on
 * the way out a super-frame of whole segments up to the largest IP
 * datagram (IPv4 Total Length and IPv6 Payload Length are 16 bits; the
 * TCP header with options counts against both).
 */
static uint32_t frame_payload_max(struct us_tcp *t, uint32_t mss)
{
	uint32_t off = path_offloads(t->s, t->v4, &t->tu.raddr, t->ifindex, us_tcp_route(t));
	uint32_t need = US_OFFLOAD_CSUM | (t->v4 ? US_OFFLOAD_TSO4 : US_OFFLOAD_TSO6);
	if ((off & need) != need)
		return mss;
	uint32_t hdrs = US_TCP_HDR_LEN + US_TCP_MAX_OPT_LEN + (t->v4 ? US_IPV4_HDR_LEN : 0);
	uint32_t segs = (UINT16_MAX - hdrs) / mss;
	return segs > 1 ? segs * mss : mss;
}

void us_tcp_send_rst(struct us_tcp *t)
{
	us_tcp_send_segment(t, t->snd_max, 0, US_TCP_RST | US_TCP_ACK);
	us_count(t->s, US_CTR_TCP_OUT_RSTS);
}

void us_tcp_send_ack(struct us_tcp *t)
{
	us_tcp_send_segment(t, t->snd_nxt, 0, US_TCP_ACK);
}

void us_tcp_challenge_ack(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	/* RFC 5961 §7: "implementations SHOULD include an ACK throttling
	 * mechanism": at most US_TCP_CHALLENGE_ACK_LIMIT a second. */
	us_time_t second = s->now / US_SEC(1);
	if (second != s->tcp.challenge_second) {
		s->tcp.challenge_second = second;
		s->tcp.challenge_count = 0;
	}
	if (s->tcp.challenge_count >= US_TCP_CHALLENGE_ACK_LIMIT) {
		us_count(s, US_CTR_TCP_CHALLENGE_ACK_LIMITED);
		return;
	}
	s->tcp.challenge_count++;
	us_count(s, US_CTR_TCP_CHALLENGE_ACKS);
	us_tcp_send_ack(t);
}

/*
 * RFC 9293 §3.10.7.1: "If the ACK bit is off, sequence number zero is
 * used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. If the ACK bit is on,
 * <SEQ=SEG.ACK><CTL=RST>". Never in answer to a RST.
 */
void us_tcp_reset_reply(struct us_stack *s, const struct us_tcp_seg *seg)
{
	if (seg->flags & US_TCP_RST)
		return;
	struct us_tcp_hdr h = { .sport = seg->tu.lport, .dport = seg->tu.rport };
	if (seg->flags & US_TCP_ACK) {
		h.seq = seg->ack;
		h.flags = US_TCP_RST;
	} else {
		uint32_t len = seg->len + !!(seg->flags & US_TCP_SYN) + !!(seg->flags & US_TCP_FIN);
		h.seq = 0;
		h.ack = seg->seq + len;
		h.flags = US_TCP_RST | US_TCP_ACK;
	}
	struct us_pbuf *b = us_stack_alloc(s, US_TCP_HDR_LEN);
	if (!b) {
		us_count(s, US_CTR_TCP_OUT_ERRORS);
		return;
	}
	us_tcp_emit(&h, us_pbuf_data(b), US_TCP_HDR_LEN);
	us_count(s, US_CTR_TCP_OUT_RSTS);
	us_count(s, US_CTR_TCP_OUT_SEGS);
	int ifindex = !seg->v4 && us_ip6_is_link_local(&seg->tu.raddr) ? seg->ifindex : -1;
	if (ip_send(s, seg->v4, &seg->tu.laddr, &seg->tu.raddr, ifindex, 0, 0, b, NULL, NULL) < 0)
		us_count(s, US_CTR_TCP_OUT_ERRORS);
}

/* Our SYN (active open) or SYN-ACK (passive or simultaneous), while not yet
 * acknowledged. */
static void output_syn(struct us_tcp *t)
{
	uint8_t flags = t->state == US_TCP_SYN_SENT ? US_TCP_SYN : US_TCP_SYN | US_TCP_ACK;
	bool first = t->snd_max == t->iss;
	us_tcp_send_segment(t, t->iss, 0, flags);
	t->ack_now = false;
	t->snd_nxt = t->iss + 1;
	if (first) {
		t->snd_max = t->snd_nxt;
		t->rtt_timing = true;
		t->rtt_seq = t->snd_nxt;
		t->rtt_start = t->s->now;
	}
	if (t->t_rexmt == US_TIME_NEVER)
		us_tcp_arm_rexmt(t);
}

/*
 * Data (and the FIN) from SND.NXT, as much as the windows allow, in
 * segments of at most the MSS. A segment shorter than the MSS leaves only
 * when RFC 1122 §4.2.3.4 says it may: it carries all the data queued and
 * nothing is unacknowledged (the Nagle algorithm; or TCP_NODELAY is set),
 * or it is at least half the largest window the peer offered, or it
 * carries the FIN, or it resends old data after a timeout.
 */
static void output_data(struct us_tcp *t)
{
	/* RFC 6675 §5: in SACK-based loss recovery, what leaves is chosen by
	 * NextSeg() within cwnd - pipe (tcp_opt.c); below, the window test
	 * (SND.NXT - SND.UNA against cwnd) then lets nothing more out. */
	if (t->in_recovery && t->sack_ok)
		us_tcp_sack_output(t);
	for (;;) {
		uint32_t mss = us_tcp_send_mss(t) - us_tcp_sack_opt_len(t);
		/* A CWR goes on one segment (RFC 3168 §6.1.2), not on every
		 * segment a TSO super-frame becomes. */
		uint32_t frame_max = t->ecn_cwr_pending ? mss : frame_payload_max(t, mss);
		uint32_t data_end = us_tcp_snd_end(t);
		uint32_t avail = seq_lt(t->snd_nxt, data_end) ? data_end - t->snd_nxt : 0;
		uint32_t wnd = t->snd_wnd < t->cwnd ? t->snd_wnd : t->cwnd;
		uint32_t in_flight = t->snd_nxt - t->snd_una;
		uint32_t usable = wnd > in_flight ? wnd - in_flight : 0;
		uint32_t n = avail < usable ? avail : usable;
		/* With TSO, whole segments only: what is left of a segment
		 * goes through the tests below on the next turn, as it would
		 * segment by segment. */
		if (n > frame_max)
			n = frame_max;
		if (n > mss)
			n -= n % mss;
		bool fin = t->fin_queued && t->snd_nxt + n == data_end;
		if (n == 0 && !fin)
			break;
		if (n < mss && !fin) {
			bool resend = seq_lt(t->snd_nxt, t->snd_max);
			bool all = n == avail && (t->nodelay || t->snd_nxt == t->snd_una);
			bool half = t->max_snd_wnd && n >= t->max_snd_wnd / 2;
			/* RFC 1122 §4.2.3.4 (4)'s override timeout, at once when
			 * nothing is in flight: no ACK would come to send it. */
			bool idle = n == usable && t->snd_nxt == t->snd_una;
			if (!resend && !all && !half && !idle)
				break;
		}
		uint8_t flags = US_TCP_ACK;
		if (n && n == avail)
			flags |= US_TCP_PSH;
		if (fin)
			flags |= US_TCP_FIN;
		uint32_t seq = t->snd_nxt;
		bool fresh = seq == t->snd_max;
		if (fresh && n)
			us_tcp_cwv_on_send(t);
		send_segment(t, seq, n, flags, mss);
		t->snd_nxt = seq + n + (fin ? 1 : 0);
		if (seq_gt(t->snd_nxt, t->snd_max))
			t->snd_max = t->snd_nxt;
		/* RFC 6298 §3 / Karn: time one segment at a time, never a
		 * retransmitted one. */
		if (fresh && !t->rtt_timing) {
			t->rtt_timing = true;
			t->rtt_seq = t->snd_nxt;
			t->rtt_start = t->s->now;
		}
		/* RFC 6298 §5.1: "Every time a packet containing data is sent
		 * (including a retransmission), if the timer is not running,
		 * start it running". */
		if (t->t_rexmt == US_TIME_NEVER)
			us_tcp_arm_rexmt(t);
		/* RFC 8985 §7.2: "start or restart a loss probe PTO timer
		 * after transmitting new data". */
		if (fresh)
			us_tcp_arm_tlp(t);
		if (fin)
			break;
	}
	/* RFC 9293 §3.8.6.1: with data waiting, a zero window and nothing in
	 * flight to bring an ACK, probe the window (tcp_timer.c). */
	uint32_t data_end = us_tcp_snd_end(t);
	if (t->snd_wnd == 0 && seq_lt(t->snd_nxt, data_end) && t->snd_una == t->snd_max &&
	    t->t_persist == US_TIME_NEVER) {
		us_tcp_timer_set(t, US_TCP_T_REXMT, US_TIME_NEVER);
		us_tcp_timer_set(t, US_TCP_T_PERSIST, t->s->now + us_tcp_persist_interval(t));
	}
}

void us_tcp_output(struct us_tcp *t)
{
	switch (t->state) {
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
		return;
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
		/* Data waits for ESTABLISHED (RFC 9293 §3.10.2). An ACK owed
		 * here (a SYN came again) is our SYN-ACK again. */
		if (t->snd_nxt == t->iss || t->ack_now)
			output_syn(t);
		return;
	case US_TCP_FIN_WAIT_1:
		/* CLOSE in SYN-RECEIVED (RFC 9293 §3.10.4) sends the FIN at
		 * once; a timeout before our SYN is acknowledged resends the
		 * SYN-ACK first. */
		if (t->snd_nxt == t->iss)
			output_syn(t);
		output_data(t);
		break;
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
		output_data(t);
		break;
	case US_TCP_TIME_WAIT:
		break;
	}
	if (t->ack_now)
		us_tcp_send_ack(t);
}

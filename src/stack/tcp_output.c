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
 */
#include <errno.h>
#include <string.h>

#include "ip.h"
#include "ip6.h"
#include "stack.h"
#include "tcp.h"
#include "tcp_seq.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

static uint32_t v4_of(const struct us_ip6 *a)
{
	return us_get_be32(a->b + 12);
}

uint32_t us_tcp_send_mss(const struct us_tcp *t)
{
	/* RFC 9293 §3.7.1 (MUST-16): "the size of a segment sent ... must be
	 * no larger than the MSS the peer announced" and RFC 6691 §2: the
	 * path's MTU less the fixed IP and TCP headers. */
	uint32_t pmtu, hdrs;
	if (t->v4) {
		pmtu = us_ip_pmtu(t->s, v4_of(&t->tu.raddr));
		hdrs = US_IPV4_HDR_LEN + US_TCP_HDR_LEN;
	} else {
		pmtu = us_ip6_pmtu(t->s, &t->tu.raddr);
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

/* Hands a finished segment (b: the TCP header and data) to IP. */
static int ip_send(struct us_stack *s, bool v4, const struct us_ip6 *src,
		   const struct us_ip6 *dst, int ifindex, uint8_t ttl, uint8_t tos,
		   struct us_pbuf *b)
{
	uint8_t *p = us_pbuf_data(b);
	uint32_t len = b->len;
	if (v4) {
		us_tcp_csum_fill(p, len,
				 us_csum_pseudo4(v4_of(src), v4_of(dst), US_IPPROTO_TCP, len));
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
		return us_ip_output(s, b, &tx);
	}
	us_tcp_csum_fill(p, len, us_csum_pseudo6(src, dst, US_IPPROTO_TCP, len));
	struct us_ip6_tx tx = {
		.src = *src,
		.dst = *dst,
		.next_header = US_IPPROTO_TCP,
		.hop_limit = ttl,
		.traffic_class = tos,
		.ifindex = ifindex,
	};
	return us_ip6_output(s, b, &tx);
}

int us_tcp_send_segment(struct us_tcp *t, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct us_stack *s = t->s;
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
	if (len)
		us_tcp_ring_read(&t->sndq, seq - t->snd_buf_seq, p + hlen, len);
	if (flags & US_TCP_ACK) {
		/* This ACK is the one the delayed ACK timer waited for. */
		t->rcv_acked = t->rcv_nxt;
		t->t_delack = US_TIME_NEVER;
		t->ack_now = false;
		/* The right edge never moves left (RFC 9293 §3.8.6.2.2): a
		 * scaled window rounded down may say a little less than the
		 * edge already offered, which stays. */
		if (!(flags & US_TCP_RST) && seq_gt(t->rcv_nxt + win, t->rcv_adv))
			t->rcv_adv = t->rcv_nxt + win;
	}
	bool again = (len || (flags & (US_TCP_SYN | US_TCP_FIN))) && seq_lt(seq, t->snd_max);
	if (again) {
		t->retransmits++;
		us_count(s, US_CTR_TCP_RETRANS_SEGS);
	}
	us_count(s, US_CTR_TCP_OUT_SEGS);
	int rc = ip_send(s, t->v4, &t->tu.laddr, &t->tu.raddr, t->ifindex, t->opt.ttl, t->opt.tos,
			 b);
	if (rc < 0)
		us_count(s, US_CTR_TCP_OUT_ERRORS);
	return rc;
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
	if (ip_send(s, seg->v4, &seg->tu.laddr, &seg->tu.raddr, ifindex, 0, 0, b) < 0)
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
		uint32_t data_end = t->snd_buf_seq + t->sndq.len;
		uint32_t avail = seq_lt(t->snd_nxt, data_end) ? data_end - t->snd_nxt : 0;
		uint32_t wnd = t->snd_wnd < t->cwnd ? t->snd_wnd : t->cwnd;
		uint32_t in_flight = t->snd_nxt - t->snd_una;
		uint32_t usable = wnd > in_flight ? wnd - in_flight : 0;
		uint32_t n = avail < usable ? avail : usable;
		if (n > mss)
			n = mss;
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
		us_tcp_send_segment(t, seq, n, flags);
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
	uint32_t data_end = t->snd_buf_seq + t->sndq.len;
	if (t->snd_wnd == 0 && seq_lt(t->snd_nxt, data_end) && t->snd_una == t->snd_max &&
	    t->t_persist == US_TIME_NEVER) {
		us_time_t wait = t->rto << (t->persist_backoff < 16 ? t->persist_backoff : 16);
		if (wait > US_TCP_PERSIST_MAX)
			wait = US_TCP_PERSIST_MAX;
		t->t_rexmt = US_TIME_NEVER;
		t->t_persist = t->s->now + wait;
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

/* SPDX-License-Identifier: MIT */
/*
 * tcp_input.c - SEGMENT ARRIVES (RFC 9293 §3.10.7), with the RFC 5961
 * defences against blind resets and injections, and ICMP errors for TCP
 * (RFC 5927, RFC 1122 §4.2.3.9).
 *
 * Read tcp.h first, and keep RFC 9293 §3.10.7 open beside this file: the
 * functions below follow it in order.
 *
 *   us_tcp_input4/6()      parse, checksum, addresses; find the TCB
 *   segment_arrives()      dispatches by state:
 *     closed_arrives()       §3.10.7.1  CLOSED (no TCB): RST
 *     listen_arrives()       §3.10.7.2  LISTEN
 *     syn_sent_arrives()     §3.10.7.3  SYN-SENT
 *     then for the other states, §3.10.7.4, in the RFC's numbered steps:
 *       first_check_sequence()   trim to the window
 *       second_check_rst()
 *       third_check_security()   (nothing: see there)
 *       fourth_check_syn()
 *       fifth_check_ack()        window, retransmission queue, state
 *       sixth_check_urg()        (urgent data is ordinary data here)
 *       seventh_process_text()   in order into the receive ring, or kept
 *                                out of order
 *       eighth_check_fin()
 * Each step returns whether processing goes on to the next.
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
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ipproto.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"
#include "wire/wire.h"

/* What a step tells the one calling it. */
enum step {
	GO_ON, /* on to the next step */
	DONE,  /* the segment is finished with; the TCB lives */
	GONE,  /* the TCB was freed */
};

static uint32_t seg_len(const struct us_tcp_seg *seg)
{
	return seg->len + !!(seg->flags & US_TCP_SYN) + !!(seg->flags & US_TCP_FIN);
}

/* RFC 9293 §3.7.1: the MSS option of a SYN. A value too small to carry
 * data usefully (a lying option) is raised to Linux's TCP_MIN_MSS, 88. */
static uint16_t peer_mss_of(const struct us_tcp_hdr *h)
{
	if (!h->opts.has_mss)
		return US_TCP_DEFAULT_MSS;
	return h->opts.mss < 88 ? 88 : h->opts.mss;
}

/* The receive side of a connection from the peer's SYN (RFC 9293 §3.10.7.2
 * and .3: "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ"), and the
 * options both SYNs agree on (tcp_opt.c). */
static void take_syn(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	us_tcp_negotiate(t, seg, t->state == US_TCP_SYN_SENT);
	t->irs = seg->seq;
	t->rcv_nxt = seg->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	t->rcv_acked = t->rcv_nxt;
	t->peer_mss = peer_mss_of(seg->h);
	/* "SND.WND <- SEG.WND" (a SYN's window is never scaled). */
	t->snd_wnd = seg->wnd;
	t->max_snd_wnd = seg->wnd;
	t->snd_wl1 = seg->seq;
	t->snd_wl2 = seg->ack;
}

static int synchronized_arrives(struct us_tcp *t, struct us_tcp_seg *seg);

/* ---- CLOSED, LISTEN, SYN-SENT -------------------------------------------- */

/* RFC 9293 §3.10.7.1: "all data in the incoming segment is discarded. An
 * incoming segment containing a RST is discarded. An incoming segment not
 * containing a RST causes a RST to be sent in response." */
static int closed_arrives(struct us_stack *s, const struct us_tcp_seg *seg)
{
	us_drop(s, US_CTR_TCP_DROP_NO_SOCKET, seg->ifindex, "no TCP endpoint for the segment");
	us_tcp_reset_reply(s, seg);
	return -ECONNREFUSED;
}

/* RFC 9293 §3.10.7.2. */
static int listen_arrives(struct us_tcp *l, struct us_tcp_seg *seg)
{
	struct us_stack *s = l->s;
	/* "First, check for a RST: An incoming RST should be ignored." */
	if (seg->flags & US_TCP_RST)
		return us_drop(s, US_CTR_TCP_DROP_LISTEN_BAD_FLAGS, seg->ifindex, "RST to a listener");
	/* "Second, check for an ACK: Any acknowledgment is bad if it arrives
	 * on a connection still in the LISTEN state. An acceptable reset
	 * segment should be formed for any arriving ACK-bearing segment." */
	if (seg->flags & US_TCP_ACK) {
		/* Unless it returns a SYN cookie we sent (RFC 4987 §3.6,
		 * tcp_cookie.c): then it completes a handshake we kept no
		 * state for, and is processed as in SYN-RECEIVED. */
		bool keep;
		struct us_tcp *t = us_tcp_cookie_check(l, seg, &keep);
		if (t)
			return synchronized_arrives(t, seg);
		if (keep)
			return -ENOBUFS;
		us_tcp_reset_reply(s, seg);
		return us_drop(s, US_CTR_TCP_DROP_LISTEN_BAD_FLAGS, seg->ifindex, "ACK to a listener");
	}
	/* "Third, check for a SYN". */
	if (seg->flags & US_TCP_SYN) {
		/* Deviation: a SYN with FIN is dropped, as Linux and the BSDs
		 * do; RFC 9293 would open the connection and process the FIN. */
		if (seg->flags & US_TCP_FIN)
			return us_drop(s, US_CTR_TCP_DROP_LISTEN_BAD_FLAGS, seg->ifindex,
				       "SYN with FIN");
		/* A full SYN queue (a flood, RFC 4987): answer with a SYN
		 * cookie and keep nothing, or, with cookies off, recycle the
		 * oldest half-open connection (§3.4). */
		if (l->syn_len >= us_tcp_synq_max(l)) {
			/* As Linux (tcp_conn_request()): no cookie while the
			 * accept queue is full, or the connection it makes
			 * could not be queued; the peer retries its SYN. */
			if (l->syncookies && l->accept_len >= (uint32_t)l->backlog)
				return us_drop(s, US_CTR_TCP_LISTEN_OVERFLOW, seg->ifindex,
					       "accept queue full: no SYN cookie");
			if (l->syncookies) {
				us_tcp_cookie_send(l, seg);
				return 0;
			}
			us_tcp_synq_early_drop(l);
		}
		struct us_tcp *t = us_tcp_new_child(l, seg, false);
		if (!t)
			return -ENOBUFS;
		/* "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ, and any
		 * other control or text should be queued for processing
		 * later. ISS should be selected and a SYN segment sent of the
		 * form: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>". Data on a SYN is
		 * not kept (not acknowledged either): the peer sends it again
		 * once the connection is up. */
		take_syn(t, seg);
		t->last_rcv = s->now;
		us_tcp_set_state(t, US_TCP_SYN_RCVD, "SYN received");
		us_tcp_output(t);
		return 0;
	}
	/* "Fourth, other data or control ... drop the segment and return." */
	return us_drop(s, US_CTR_TCP_DROP_LISTEN_BAD_FLAGS, seg->ifindex,
		       "neither SYN, ACK nor RST to a listener");
}

/* RFC 9293 §3.10.7.3. */
static int syn_sent_arrives(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	struct us_stack *s = t->s;
	/* "First, check the ACK bit: If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
	 * send a reset (unless the RST bit is set, if so drop the segment
	 * and return) <SEQ=SEG.ACK><CTL=RST>". */
	if (seg->flags & US_TCP_ACK) {
		if (seq_le(seg->ack, t->iss) || seq_gt(seg->ack, t->snd_max)) {
			if (!(seg->flags & US_TCP_RST))
				us_tcp_reset_reply(s, seg);
			return us_drop(s, US_CTR_TCP_DROP_SYN_SENT_BAD, seg->ifindex,
				       "ACK of something we did not send");
		}
	}
	/* "Second, check the RST bit: If the ACK was acceptable, then signal
	 * to the user 'error: connection reset', drop the segment, enter
	 * CLOSED state, delete TCB, and return. Otherwise (no ACK), drop the
	 * segment and return." */
	if (seg->flags & US_TCP_RST) {
		if (!(seg->flags & US_TCP_ACK))
			return us_drop(s, US_CTR_TCP_DROP_SYN_SENT_BAD, seg->ifindex,
				       "RST without ACK in SYN_SENT");
		us_count(s, US_CTR_TCP_RST_RECEIVED);
		us_count(s, US_CTR_TCP_ATTEMPT_FAILS);
		us_tcp_drop(t, -ECONNREFUSED, "RST received");
		return 0;
	}
	/* Third, security: nothing (see third_check_security()). */
	/* "Fourth, check the SYN bit". */
	if (!(seg->flags & US_TCP_SYN))
		return us_drop(s, US_CTR_TCP_DROP_SYN_SENT_BAD, seg->ifindex,
			       "neither SYN nor RST in SYN_SENT");
	take_syn(t, seg);
	t->last_rcv = s->now;
	if (seg->flags & US_TCP_ACK) {
		/* "SND.UNA should be advanced to equal SEG.ACK ... If SND.UNA >
		 * ISS (our SYN has been ACKed), change the connection state to
		 * ESTABLISHED, form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT>
		 * <CTL=ACK> and send it." */
		uint32_t acked = seg->ack - t->snd_una;
		t->snd_una = seg->ack;
		if (seq_lt(t->snd_nxt, t->snd_una))
			t->snd_nxt = t->snd_una;
		us_tcp_ack_advanced(t, acked, seg->ack, 0);
		us_tcp_start_cwnd(t);
		us_tcp_set_state(t, US_TCP_ESTABLISHED, "SYN,ACK received");
		us_tcp_arm_keepalive(t);
		t->ack_now = true;
		/* Data or a FIN on the SYN-ACK: "continue processing at the
		 * sixth step below where the URG bit is checked". Data is not
		 * kept (see listen_arrives()); a FIN is taken once in order. */
		if ((seg->flags & US_TCP_FIN) && seg->len == 0) {
			t->rcv_nxt++;
			t->eof = true;
			us_tcp_set_state(t, US_TCP_CLOSE_WAIT, "FIN received");
		}
		us_tcp_output(t);
		return 0;
	}
	/* "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
	 * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." (simultaneous
	 * open, RFC 9293 Figure 8). */
	t->snd_nxt = t->iss;
	t->rtt_timing = false;
	us_tcp_set_state(t, US_TCP_SYN_RCVD, "SYN received (simultaneous open)");
	us_tcp_output(t);
	return 0;
}

/* ---- The numbered steps (RFC 9293 §3.10.7.4) --------------------------------- */

/* RCV.WND: what we offered last. */
static uint32_t rcv_wnd(const struct us_tcp *t)
{
	return seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
}

/*
 * "First, check sequence number", the four cases of acceptability:
 *   Segment Length  Receive Window  Test
 *   0               0               SEG.SEQ = RCV.NXT
 *   0               >0              RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   >0              0               not acceptable
 *   >0              >0              RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND or
 *                                   RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND
 * then the segment is trimmed to the window: "segments with higher
 * beginning sequence numbers SHOULD be held for later processing"
 * (we keep their data out of order, seventh step).
 */
static enum step first_check_sequence(struct us_tcp *t, struct us_tcp_seg *seg)
{
	/* Simultaneous open (RFC 9293 Figure 7, line 6): the peer's SYN,ACK
	 * arrives in SYN-RECEIVED carrying its SYN again at IRS, which the
	 * test below would refuse (SEG.SEQ < RCV.NXT); the figure has it
	 * take us to ESTABLISHED. Like Linux, the SYN already seen is dropped
	 * from it, the rest (its ACK) goes on, and the SYN is acknowledged
	 * (in case our own SYN,ACK was lost). */
	if (t->state == US_TCP_SYN_RCVD && !t->listener &&
	    (seg->flags & (US_TCP_SYN | US_TCP_ACK)) == (US_TCP_SYN | US_TCP_ACK) &&
	    seg->seq + 1 == t->rcv_nxt) {
		seg->flags &= (uint8_t)~US_TCP_SYN;
		seg->seq++;
		t->ack_now = true;
	}
	uint32_t wnd = rcv_wnd(t);
	uint32_t len = seg_len(seg);
	bool ok;
	if (len == 0)
		ok = wnd == 0 ? seg->seq == t->rcv_nxt
			      : seq_in(seg->seq, t->rcv_nxt, t->rcv_nxt + wnd);
	else if (wnd == 0)
		/* "If the RCV.WND is zero, no segments will be acceptable,
		 * but special allowance should be made to accept valid ACKs,
		 * URGs, and RSTs": the segment at RCV.NXT is taken with its
		 * text cut off (below). */
		ok = seg->seq == t->rcv_nxt;
	else
		ok = seq_in(seg->seq, t->rcv_nxt, t->rcv_nxt + wnd) ||
		     seq_in(seg->seq + len - 1, t->rcv_nxt, t->rcv_nxt + wnd);
	if (!ok) {
		/* "If an incoming segment is not acceptable, an
		 * acknowledgment should be sent in reply (unless the RST bit
		 * is set, if so drop the segment and return)". Data wholly
		 * before RCV.NXT is a duplicate: RFC 2883 D-SACK reports it. */
		if (seg->len && seq_le(seg->seq + seg->len, t->rcv_nxt))
			us_tcp_dsack_note(t, seg->seq, seg->seq + seg->len);
		if (!(seg->flags & US_TCP_RST)) {
			/* TIME_WAIT: a retransmitted FIN restarts the 2 MSL
			 * wait (its ACK was lost). */
			if (t->state == US_TCP_TIME_WAIT && (seg->flags & US_TCP_FIN))
				us_tcp_start_time_wait(t);
			t->ack_now = true;
			us_tcp_output(t);
		}
		us_drop(t->s, US_CTR_TCP_DROP_NOT_ACCEPTABLE, seg->ifindex,
			"segment outside the receive window");
		return DONE;
	}
	/* Trim the front: what we have already (a SYN, old data). */
	if (seq_lt(seg->seq, t->rcv_nxt)) {
		uint32_t skip = t->rcv_nxt - seg->seq;
		if (seg->flags & US_TCP_SYN) {
			seg->flags &= (uint8_t)~US_TCP_SYN;
			seg->seq++;
			skip--;
		}
		if (skip > seg->len)
			skip = seg->len;
		us_tcp_dsack_note(t, seg->seq, seg->seq + skip);
		seg->data += skip;
		seg->len -= skip;
		seg->seq += skip;
	}
	/* Trim the back: beyond the window (and with it a FIN). What is cut
	 * off is answered with an ACK showing the window: RFC 9293 §3.8.6.1,
	 * the receiver "must still send an acknowledgment showing its next
	 * expected sequence number and current window (zero)" to a probe. */
	uint32_t room = t->rcv_nxt + wnd - seg->seq;
	if (seg->len > room) {
		seg->len = room;
		seg->flags &= (uint8_t)~US_TCP_FIN;
		t->ack_now = true;
		us_count(t->s, US_CTR_TCP_DROP_BEYOND_WINDOW);
	}
	return GO_ON;
}

/* "Second, check the RST bit", as RFC 5961 §3.2 tightens it: "If the RST
 * bit is set and the sequence number exactly matches the next expected
 * sequence number (RCV.NXT), then TCP MUST reset the connection";
 * otherwise (in the window) "TCP MUST send an ACK (challenge ACK)". */
static enum step second_check_rst(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	if (!(seg->flags & US_TCP_RST))
		return GO_ON;
	struct us_stack *s = t->s;
	if (seg->seq != t->rcv_nxt) {
		us_drop(s, US_CTR_TCP_DROP_RST_INEXACT, seg->ifindex,
			"RST not at RCV.NXT: challenge ACK");
		us_tcp_challenge_ack(t);
		return DONE;
	}
	us_count(s, US_CTR_TCP_RST_RECEIVED);
	switch (t->state) {
	case US_TCP_SYN_RCVD:
		/* "If this connection was initiated with a passive OPEN
		 * (i.e., came from the LISTEN state), then return this
		 * connection to LISTEN state": the listener stays, the child
		 * goes. "If this connection was initiated with an active OPEN
		 * ... then the connection was refused". */
		return us_tcp_drop(t, t->listener ? 0 : -ECONNREFUSED, "RST received") ? GONE
											 : DONE;
	case US_TCP_ESTABLISHED:
	case US_TCP_CLOSE_WAIT:
		us_count(s, US_CTR_TCP_ESTAB_RESETS);
		US_FALLTHROUGH;
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
		/* "any outstanding RECEIVEs and SEND should receive 'reset'
		 * responses ... Users should also receive an unsolicited
		 * general 'connection reset' signal. Enter the CLOSED state". */
		return us_tcp_drop(t, -ECONNRESET, "RST received") ? GONE : DONE;
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		/* "enter the CLOSED state, delete the TCB, and return". */
		return us_tcp_drop(t, 0, "RST received") ? GONE : DONE;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
		break;
	}
	return DONE;
}

/* "Third, check security": Not implemented: the IP security compartment
 * (RFC 9293 §3.10.7.4 third; RFC 791's Security option is obsolete, RFC
 * 7414 "Historic"); nothing to check. */
static enum step third_check_security(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	(void)t;
	(void)seg;
	return GO_ON;
}

/* "Fourth, check the SYN bit". */
static enum step fourth_check_syn(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	if (!(seg->flags & US_TCP_SYN))
		return GO_ON;
	/* SYN-RECEIVED: "If the connection was initiated with a passive
	 * OPEN, then return this connection to the LISTEN state and return." */
	if (t->state == US_TCP_SYN_RCVD && t->listener)
		return us_tcp_drop(t, 0, "SYN in window") ? GONE : DONE;
	/* The synchronized states: "RFC 5961 recommends that in these
	 * synchronized states, if the SYN bit is set, irrespective of the
	 * sequence number, TCP endpoints MUST send a 'challenge ACK' to the
	 * remote peer: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>" (RFC 5961 §4.2). */
	us_drop(t->s, US_CTR_TCP_DROP_NOT_ACCEPTABLE, seg->ifindex,
		"SYN on a synchronized connection: challenge ACK");
	us_tcp_challenge_ack(t);
	return DONE;
}

static bool fin_acked(const struct us_tcp *t)
{
	return us_tcp_fin_acked(t);
}

/*
 * RFC 7323 §4.1 (RTTM): "A TSecr value received in a segment is used to
 * update the averaged RTT measurement only if the segment acknowledges
 * some new data". Appendix G: with a sample on every ACK, RFC 6298's gains
 * are divided by the samples expected per RTT, ExpectedSamples =
 * ceiling(FlightSize / (SMSS * 2)), so RTTVAR keeps its meaning.
 */
static void rtt_from_timestamps(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	us_time_t r = us_tcp_ts_rtt(t, seg);
	if (r < 0)
		return;
	uint32_t mss = us_tcp_send_mss(t);
	uint32_t flight = t->snd_max - t->snd_una;
	uint32_t expected = (flight + 2 * mss - 1) / (2 * mss);
	us_tcp_rtt_sample(t, r, expected ? expected : 1);
	/* The classic sample would measure the same thing, less well. */
	t->rtt_timing = false;
	t->backoff = 0;
}

/*
 * The ACK of the ESTABLISHED state (and those that share it): "If SND.UNA
 * < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any segments on the
 * retransmission queue that are thereby entirely acknowledged are removed.
 * ... If the ACK is a duplicate (SEG.ACK =< SND.UNA), it can be ignored.
 * If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send
 * an ACK, drop the segment, and return." SND.NXT there is our snd_max
 * (we go back to SND.UNA on a timeout, BSD style).
 */
static enum step established_ack(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	struct us_stack *s = t->s;
	if (seq_gt(seg->ack, t->snd_max)) {
		us_drop(s, US_CTR_TCP_DROP_BAD_ACK, seg->ifindex, "ACK of data not sent");
		t->ack_now = true;
		us_tcp_output(t);
		return DONE;
	}
	/* RFC 5961 §5.2: "the ACK value is considered acceptable only if it
	 * is in the range of ((SND.UNA - MAX.SND.WND) =< SEG.ACK =<
	 * SND.NXT). All incoming segments whose ACK value doesn't satisfy
	 * the above condition MUST be discarded and an ACK sent back." */
	if (seq_lt(seg->ack, t->snd_una - t->max_snd_wnd)) {
		us_drop(s, US_CTR_TCP_DROP_BAD_ACK, seg->ifindex, "ACK too old: challenge ACK");
		us_tcp_challenge_ack(t);
		return DONE;
	}
	uint32_t old_wnd = t->snd_wnd;
	/* RFC 3168 §6.1.2: an ECN-Echo reduces the window before the ACK
	 * could grow it (and then it does not). */
	t->ecn_ece_ack = us_tcp_ecn_ack(t, seg);
	bool sacked_new = us_tcp_sack_update(t, seg);
	us_tcp_tlp_ack(t, seg->ack, seq_gt(seg->ack, t->snd_una), sacked_new);
	if (seq_gt(seg->ack, t->snd_una)) {
		rtt_from_timestamps(t, seg);
		uint32_t acked = seg->ack - t->snd_una;
		/* The ring holds data from snd_buf_seq on: drop what is
		 * acknowledged of it (not the SYN before, nor the FIN after). */
		uint32_t data_end = us_tcp_snd_end(t);
		uint32_t upto = seq_min(seg->ack, data_end);
		uint32_t data_acked = 0;
		if (seq_gt(upto, t->snd_buf_seq)) {
			data_acked = upto - t->snd_buf_seq;
			us_tcp_ring_drop(&t->sndq, data_acked);
			t->snd_buf_seq = upto;
		}
		t->snd_una = seg->ack;
		if (seq_lt(t->snd_nxt, t->snd_una))
			t->snd_nxt = t->snd_una;
		us_tcp_sack_prune(t);
		us_tcp_ack_advanced(t, acked, seg->ack, data_acked);
		/* RFC 8985 §7.2: an ACK of new data restarts the probe timer. */
		us_tcp_arm_tlp(t);
		/* Room in the send buffer: a writer may go on. */
		us_tcp_notify(t);
	} else if (seg->ack == t->snd_una && seg->len == 0 &&
		   !(seg->flags & (US_TCP_SYN | US_TCP_FIN)) &&
		   (seg->wnd == old_wnd || sacked_new) && t->snd_max != t->snd_una &&
		   old_wnd != 0) {
		/* RFC 5681 §2's DUPLICATE ACKNOWLEDGMENT: (a) outstanding data,
		 * (b) no data, (c) SYN and FIN off, (d) SEG.ACK = SND.UNA, (e)
		 * the same window; RFC 6675 §2 counts an ACK that SACKs new
		 * data as one whatever its window. Not into a zero window:
		 * the persist timer deals with that. */
		us_tcp_dupack(t);
	}
	/* "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be
	 * updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2
	 * =< SEG.ACK)), set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and
	 * set SND.WL2 <- SEG.ACK." */
	if (seq_lt(t->snd_wl1, seg->seq) ||
	    (t->snd_wl1 == seg->seq && seq_le(t->snd_wl2, seg->ack))) {
		t->snd_wnd = seg->wnd;
		t->snd_wl1 = seg->seq;
		t->snd_wl2 = seg->ack;
		if (seg->wnd > t->max_snd_wnd)
			t->max_snd_wnd = seg->wnd;
		if (seg->wnd > 0) {
			us_tcp_timer_set(t, US_TCP_T_PERSIST, US_TIME_NEVER);
			t->persist_backoff = 0;
		}
	}
	return GO_ON;
}

/* "Fifth, check the ACK field". */
static enum step fifth_check_ack(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	struct us_stack *s = t->s;
	/* "if the ACK bit is off, drop the segment and return" */
	if (!(seg->flags & US_TCP_ACK)) {
		us_drop(s, US_CTR_TCP_DROP_NO_ACK, seg->ifindex, "no ACK on a synchronized segment");
		return DONE;
	}
	switch (t->state) {
	case US_TCP_SYN_RCVD:
		/* "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED
		 * state and continue processing ... If the segment
		 * acknowledgment is not acceptable, form a reset segment
		 * <SEQ=SEG.ACK><CTL=RST> and send it." */
		if (!(seq_lt(t->snd_una, seg->ack) && seq_le(seg->ack, t->snd_max))) {
			us_tcp_reset_reply(s, seg);
			us_drop(s, US_CTR_TCP_DROP_BAD_ACK, seg->ifindex, "bad ACK in SYN_RCVD");
			return DONE;
		}
		if (!us_tcp_child_established(t))
			return DONE;
		/* "SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK" */
		t->snd_wnd = seg->wnd;
		t->snd_wl1 = seg->seq;
		t->snd_wl2 = seg->ack;
		if (seg->wnd > t->max_snd_wnd)
			t->max_snd_wnd = seg->wnd;
		us_tcp_start_cwnd(t);
		us_tcp_set_state(t, t->fin_queued ? US_TCP_FIN_WAIT_1 : US_TCP_ESTABLISHED,
				 "ACK of our SYN");
		us_tcp_arm_keepalive(t);
		return established_ack(t, seg);
	case US_TCP_ESTABLISHED:
	case US_TCP_CLOSE_WAIT:
		return established_ack(t, seg);
	case US_TCP_FIN_WAIT_1: {
		/* "In addition to the processing for the ESTABLISHED state,
		 * if the FIN segment is now acknowledged, then enter
		 * FIN-WAIT-2 and continue processing in that state." */
		enum step r = established_ack(t, seg);
		/* A FIN in order on this very segment takes us straight to
		 * TIME-WAIT in the eighth step (the diagram's FIN_WAIT_1 ->
		 * TIME_WAIT edge, "rcv FIN, ACK of FIN"). */
		bool fin_too = (seg->flags & US_TCP_FIN) && seg->seq == t->rcv_nxt;
		if (r == GO_ON && fin_acked(t) && !fin_too) {
			us_tcp_set_state(t, US_TCP_FIN_WAIT_2, "our FIN acked");
			if (t->orphan)
				us_tcp_timer_set(t, US_TCP_T_CLOSE,
						 s->now + US_TCP_FIN_WAIT_2_TIMEOUT);
		}
		return r;
	}
	case US_TCP_FIN_WAIT_2:
		/* "if the retransmission queue is empty, the user's CLOSE can
		 * be acknowledged ('ok')": nothing waits on it here. */
		return established_ack(t, seg);
	case US_TCP_CLOSING: {
		/* "if the ACK acknowledges our FIN, then enter the TIME-WAIT
		 * state; otherwise, ignore the segment." */
		enum step r = established_ack(t, seg);
		if (r != GO_ON)
			return r;
		if (!fin_acked(t))
			return DONE;
		us_tcp_set_state(t, US_TCP_TIME_WAIT, "our FIN acked");
		us_tcp_start_time_wait(t);
		return GO_ON;
	}
	case US_TCP_LAST_ACK: {
		/* "The only thing that can arrive in this state is an
		 * acknowledgment of our FIN. If our FIN is now acknowledged,
		 * delete the TCB, enter the CLOSED state, and return." */
		enum step r = established_ack(t, seg);
		if (r != GO_ON)
			return r;
		if (fin_acked(t))
			return us_tcp_drop(t, 0, "our FIN acked") ? GONE : DONE;
		return GO_ON;
	}
	case US_TCP_TIME_WAIT:
		/* "The only thing that can arrive in this state is a
		 * retransmission of the remote FIN. Acknowledge it, and
		 * restart the 2 MSL timeout." (eighth step). */
		return GO_ON;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
		break;
	}
	return DONE;
}

/* "Sixth, check the URG bit". Not implemented: urgent mode (RFC 6093 §6:
 * "new applications SHOULD NOT employ the TCP urgent mechanism"); urgent
 * data is delivered inline, as ordinary data, as with SO_OOBINLINE. */
static enum step sixth_check_urg(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	(void)t;
	(void)seg;
	return GO_ON;
}

static void ooo_remove(struct us_tcp *t, int i)
{
	memmove(&t->ooo[i], &t->ooo[i + 1], (size_t)(t->n_ooo - i - 1) * sizeof t->ooo[0]);
	t->n_ooo--;
}

/* Remembers [start, end) as received out of order, merging ranges; the
 * range it ends up in becomes the first (the most recent: RFC 2018 §4's
 * first SACK block). A segment wholly inside a range is a duplicate (RFC
 * 2883). False when it would need more ranges than we keep. */
static bool ooo_add(struct us_tcp *t, uint32_t start, uint32_t end)
{
	for (int i = 0; i < t->n_ooo; i++) {
		if (seq_ge(start, t->ooo[i].start) && seq_le(end, t->ooo[i].end)) {
			us_tcp_dsack_note(t, start, end);
			us_tcp_ooo_touch(t, i);
			return true;
		}
	}
	for (int i = 0; i < t->n_ooo; i++) {
		if (seq_le(start, t->ooo[i].end) && seq_ge(end, t->ooo[i].start)) {
			start = seq_min(start, t->ooo[i].start);
			end = seq_max(end, t->ooo[i].end);
			ooo_remove(t, i);
			i = -1; /* merged: look again from the start */
		}
	}
	if (t->n_ooo == US_TCP_OOO_RANGES)
		return false;
	memmove(&t->ooo[1], &t->ooo[0], (size_t)t->n_ooo * sizeof t->ooo[0]);
	t->ooo[0].start = start;
	t->ooo[0].end = end;
	t->n_ooo++;
	return true;
}

/* RCV.NXT moved: ranges it reaches are now in order. True when any was. */
static bool ooo_advance(struct us_tcp *t)
{
	bool moved = false;
	for (int i = 0; i < t->n_ooo; i++) {
		if (seq_le(t->ooo[i].start, t->rcv_nxt)) {
			if (seq_gt(t->ooo[i].end, t->rcv_nxt)) {
				uint32_t more = t->ooo[i].end - t->rcv_nxt;
				t->rcvq.len += more;
				t->rcv_nxt += more;
			}
			ooo_remove(t, i);
			i = -1;
			moved = true;
		}
	}
	return moved;
}

/* RFC 5681 §4.2's "every second full-sized segment": an ACK is owed
 * for what arrived in order since the last one, 2 * RMSS bytes or more. */
static bool ack_owed(const struct us_tcp *t)
{
	uint32_t mss = t->adv_mss ? t->adv_mss : US_TCP_DEFAULT_MSS;
	return t->rcv_nxt - t->rcv_acked >= 2 * mss;
}

/* t goes on the batch's list of connections owing an ACK. */
static void owe_ack(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	if (!t->ack_owed) {
		t->ack_owed = true;
		t->ack_next = s->tcp.ack_owed;
		s->tcp.ack_owed = t;
	}
}

/*
 * Within a batch of received frames (us_stack_batch_begin(): the runtime
 * read them from the link in one go), the ACK that ack_owed() asks for
 * waits for the batch's end (us_tcp_batch_end()), so that one ACK covers
 * all the in-order data of the burst. This is what Linux's GRO does: the
 * segments of one NAPI poll are merged before TCP sees them, and TCP
 * acknowledges the merged packet. Deviation: RFC 5681 §4.2 says "an ACK
 * SHOULD be generated for at least every second full-sized segment"; the
 * ACK of a batch is a stretch ACK, as GRO's are. It never covers more than
 * US_TCP_BATCH_ACK_MAX bytes (GRO's 64 KB) or half the receive buffer, so
 * that the sender never runs out of window waiting for it. Only this rule
 * waits: out-of-order data, a segment that fills a gap, a FIN and
 * everything else that sets ack_now is acknowledged at once, batch or not
 * (each out-of-order segment still brings its duplicate ACK, for the
 * sender's fast retransmit). The delayed-ACK timer stays armed meanwhile.
 * False: not in a batch, or too much unacknowledged: ACK now.
 */
static bool defer_ack(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	if (!s->batch)
		return false;
	uint32_t limit = us_tcp_rcv_cap(t) / 2;
	if (limit > US_TCP_BATCH_ACK_MAX)
		limit = US_TCP_BATCH_ACK_MAX;
	if (t->rcv_nxt - t->rcv_acked >= limit)
		return false;
	if (t->t_delack == US_TIME_NEVER)
		us_tcp_timer_set(t, US_TCP_T_DELACK, s->now + US_TCP_DELACK);
	owe_ack(t);
	return true;
}

/*
 * An ACK that would leave at once, for a FIN or for a window the
 * application's read opened, waits for the end of the batch too, where
 * it leaves unless a segment carried it first: the runtime calls the
 * application's event callbacks before it ends the batch, so the reply
 * they send (the echo of a request, the FIN of a close answering the
 * peer's) carries the ACK, and one frame goes instead of two. The peer
 * gets the ACK in the same pass over its frames, microseconds later.
 */
bool us_tcp_defer_ack(struct us_tcp *t)
{
	if (!t->s->batch)
		return false;
	t->ack_deferred = true;
	owe_ack(t);
	return true;
}

void us_tcp_batch_end(struct us_stack *s)
{
	struct us_tcp *t;
	while ((t = s->tcp.ack_owed) != NULL) {
		s->tcp.ack_owed = t->ack_next;
		t->ack_next = NULL;
		t->ack_owed = false;
		bool deferred = t->ack_deferred;
		t->ack_deferred = false;
		/* An ACK that left since (data, a duplicate ACK, a window
		 * update, a FIN) may have paid the debt already. */
		if (us_tcp_is_synchronized(t->state) && (ack_owed(t) || deferred)) {
			t->ack_now = true;
			us_tcp_output(t);
		}
	}
}

void us_tcp_batch_forget(struct us_tcp *t)
{
	if (!t->ack_owed)
		return;
	struct us_tcp **pp = &t->s->tcp.ack_owed;
	while (*pp != t)
		pp = &(*pp)->ack_next;
	*pp = t->ack_next;
	t->ack_next = NULL;
	t->ack_owed = false;
	t->ack_deferred = false;
}

/* "Seventh, process the segment text". */
static enum step seventh_process_text(struct us_tcp *t, struct us_tcp_seg *seg)
{
	struct us_stack *s = t->s;
	if (seg->len == 0)
		return GO_ON;
	switch (t->state) {
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
		break;
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		/* "This should not occur since a FIN has been received from
		 * the remote side. Ignore the segment text." */
		return GO_ON;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
		return GO_ON;
	}
	/* RFC 1122 §4.2.2.13: data "received after CLOSE is called" ... "its
	 * TCP SHOULD send a RST to show that data was lost". */
	if (t->orphan) {
		us_drop(s, US_CTR_TCP_DROP_AFTER_CLOSE, seg->ifindex, "data after CLOSE: RST");
		us_tcp_send_rst(t);
		us_tcp_drop(t, -ECONNRESET, "data after CLOSE");
		return GONE;
	}
	/* The first data gives the connection its receive ring (tcp.c). */
	if (!t->shut_rd && us_tcp_rcv_ring(t) < 0) {
		us_drop(s, US_CTR_TCP_DROP_NO_MEMORY, seg->ifindex, "no memory for a receive ring");
		return DONE;
	}
	if (seg->seq == t->rcv_nxt) {
		/* In order: "Once in the ESTABLISHED state, it is possible to
		 * deliver segment data to user RECEIVE buffers." */
		if (!t->shut_rd) {
			/* csum_check() put it in place while summing it. */
			if (!seg->staged || seg->seq != seg->seq_in)
				us_tcp_ring_write(&t->rcvq, t->rcvq.len, seg->data, seg->len);
			t->rcvq.len += seg->len;
		}
		t->rcv_nxt += seg->len;
		/* RFC 5681 §4.2: "an immediate ACK SHOULD be generated when a
		 * segment fills in all or part of a gap in the sequence space." */
		if (!t->shut_rd && ooo_advance(t))
			t->ack_now = true;
		/* RFC 5681 §4.2: "an ACK SHOULD be generated for at least every
		 * second full-sized segment, and MUST be generated within 500
		 * ms of the arrival of the first unacknowledged packet". In a
		 * batch, that ACK may wait for the batch's end (defer_ack()). */
		if (!ack_owed(t)) {
			if (t->t_delack == US_TIME_NEVER)
				us_tcp_timer_set(t, US_TCP_T_DELACK, s->now + US_TCP_DELACK);
		} else if (t->ack_now || !defer_ack(t)) {
			t->ack_now = true;
		}
		us_tcp_notify(t);
		return GO_ON;
	}
	/* Out of order, inside the window (first step): kept at its place in
	 * the receive ring. "Out-of-order data segments SHOULD be
	 * acknowledged immediately" (RFC 5681 §4.2), with a duplicate ACK
	 * that tells the sender of the gap. A FIN on it waits for the sender
	 * to send it again. */
	us_count(s, US_CTR_TCP_OUT_OF_ORDER);
	seg->flags &= (uint8_t)~US_TCP_FIN;
	t->ack_now = true;
	if (t->shut_rd)
		return GO_ON;
	uint32_t off = seg->seq - t->rcv_nxt;
	if (!ooo_add(t, seg->seq, seg->seq + seg->len)) {
		us_drop(s, US_CTR_TCP_DROP_OUT_OF_ORDER_FULL, seg->ifindex,
			"too many out-of-order ranges");
		return GO_ON;
	}
	us_tcp_ring_write(&t->rcvq, t->rcvq.len + off, seg->data, seg->len);
	return GO_ON;
}

/* "Eighth, check the FIN bit". */
static enum step eighth_check_fin(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	if (!(seg->flags & US_TCP_FIN))
		return GO_ON;
	/* Only a FIN in order counts (its data, if any, was in order). */
	if (seg->seq + seg->len != t->rcv_nxt)
		return GO_ON;
	/* "If the FIN bit is set, signal the user 'connection closing' and
	 * return any pending RECEIVEs with same message, advance RCV.NXT over
	 * the FIN, and send an acknowledgment for the FIN." */
	switch (t->state) {
	case US_TCP_SYN_RCVD:
	case US_TCP_ESTABLISHED:
		t->rcv_nxt++;
		t->eof = true;
		/* In a batch, the application may answer with its own FIN,
		 * which then carries the ACK (us_tcp_defer_ack()). */
		if (!us_tcp_defer_ack(t))
			t->ack_now = true;
		us_tcp_set_state(t, US_TCP_CLOSE_WAIT, "FIN received");
		break;
	case US_TCP_FIN_WAIT_1:
		/* "If our FIN has been ACKed (perhaps in this segment), then
		 * enter TIME-WAIT, start the time-wait timer, turn off the
		 * other timers; otherwise, enter the CLOSING state." */
		t->rcv_nxt++;
		t->eof = true;
		t->ack_now = true;
		if (fin_acked(t)) {
			us_tcp_set_state(t, US_TCP_TIME_WAIT, "FIN received, ours acked");
			us_tcp_start_time_wait(t);
		} else {
			us_tcp_set_state(t, US_TCP_CLOSING, "FIN received");
		}
		break;
	case US_TCP_FIN_WAIT_2:
		/* "Enter the TIME-WAIT state. Start the time-wait timer, turn
		 * off the other timers." */
		t->rcv_nxt++;
		t->eof = true;
		t->ack_now = true;
		us_tcp_set_state(t, US_TCP_TIME_WAIT, "FIN received");
		us_tcp_start_time_wait(t);
		break;
	case US_TCP_TIME_WAIT:
		/* "Remain in the TIME-WAIT state. Restart the 2 MSL time-wait
		 * timeout." (A FIN in order here can only be a new one at
		 * RCV.NXT, which the peer cannot send; kept for the rule.) */
		t->ack_now = true;
		us_tcp_start_time_wait(t);
		break;
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
		/* "Remain in the ... state." */
		break;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
		/* "Do not process the FIN if the state is CLOSED, LISTEN, or
		 * SYN-SENT since the SEG.SEQ cannot be validated". */
		return DONE;
	}
	us_tcp_notify(t);
	return GO_ON;
}

/* RFC 7323 §2.3: "The window field in a segment where the SYN bit is set
 * ... MUST NOT be scaled"; every other window is SEG.WND << Snd.Wind.Shift. */
static void scale_window(struct us_tcp *t, struct us_tcp_seg *seg)
{
	if (t->wscale_ok && !(seg->flags & US_TCP_SYN))
		seg->wnd <<= t->snd_wscale;
}

/* RFC 7323 §5.3 R1 (PAWS) and §3.2 (a segment without the TSopt), before
 * the first step: a segment that fails is answered with an ACK and
 * dropped. */
static enum step timestamps_check(struct us_tcp *t, struct us_tcp_seg *seg)
{
	if (us_tcp_paws_ok(t, seg))
		return GO_ON;
	if (t->ack_now)
		us_tcp_output(t);
	return DONE;
}

/* The states after SYN-SENT: the numbered steps in order. */
static int synchronized_arrives(struct us_tcp *t, struct us_tcp_seg *seg)
{
	struct us_stack *s = t->s;
	t->last_rcv = s->now;
	t->keep_probes = 0;
	us_tcp_arm_keepalive(t);

	scale_window(t, seg);
	/* RFC 7323 §5.3: PAWS (R1) comes before the window test (R2). */
	enum step r = timestamps_check(t, seg);
	if (r == GO_ON)
		r = first_check_sequence(t, seg);
	if (r == GO_ON) {
		/* R3: an acceptable segment may update TS.Recent. */
		us_tcp_ts_update_recent(t, seg);
		/* RFC 3168 §6.1.3: CWR and CE of an acceptable segment. */
		us_tcp_ecn_input(t, seg);
		r = second_check_rst(t, seg);
	}
	if (r == GO_ON)
		r = third_check_security(t, seg);
	if (r == GO_ON)
		r = fourth_check_syn(t, seg);
	if (r == GO_ON)
		r = fifth_check_ack(t, seg);
	if (r == GO_ON)
		r = sixth_check_urg(t, seg);
	if (r == GO_ON)
		r = seventh_process_text(t, seg);
	if (r == GO_ON)
		r = eighth_check_fin(t, seg);
	if (r != GONE)
		us_tcp_output(t);
	return 0;
}

/* The states whose seventh step puts text in order into the receive ring. */
static bool text_to_ring(enum us_tcp_state st)
{
	switch (st) {
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
		return true;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		return false;
	}
	return false;
}

/* Can seg's data be summed on its way into t's receive ring? It must be
 * the text the seventh step will append (at RCV.NXT, no SYN or RST to trim
 * or act on first, a state that keeps text), and the ring's free space must
 * hold all of it and nothing else (no out-of-order data kept there). */
static bool can_stage(const struct us_tcp *t, const struct us_tcp_seg *seg)
{
	return t && text_to_ring(t->state) && !t->shut_rd && !t->orphan && t->rcvq.buf &&
	       t->n_ooo == 0 && !(seg->flags & (US_TCP_SYN | US_TCP_RST)) &&
	       seg->seq == t->rcv_nxt && seg->len <= t->rcvq.cap - t->rcvq.len;
}

/*
 * RFC 9293 §3.1 (MUST-2, MUST-3) for a segment with data, which parse()
 * left to here: checked before anything acts on the segment, so one with a
 * wrong checksum changes nothing. Text the seventh step will append to the
 * receive ring is copied into the ring's free space while it is summed
 * (us_csum_copy: one pass over it instead of a sum here and a copy there).
 * rcvq.len does not move: until seventh_process_text() commits them the
 * bytes are not part of the ring, and after a wrong sum they are free
 * space again. The header is summed first; its length is a multiple of 4,
 * so the text's sum chains on at an even offset (RFC 1071 §2(B)).
 */
static bool csum_check(struct us_tcp *t, struct us_tcp_seg *seg)
{
	seg->csum_pending = false;
	if (!can_stage(t, seg))
		return us_tcp_csum_ok(seg->raw, seg->raw_len, seg->pseudo);
	uint32_t sum = us_csum_partial(seg->raw, seg->h->hdr_len, seg->pseudo);
	sum = us_tcp_ring_write_csum(&t->rcvq, t->rcvq.len, seg->data, seg->len, sum);
	if (us_csum_fold(sum) != 0)
		return false;
	seg->staged = true;
	return true;
}

/* SEGMENT ARRIVES: by the state of the TCB the segment belongs to. */
static int segment_arrives(struct us_stack *s, struct us_tcp_seg *seg)
{
	struct us_tcp *t = us_tcp_lookup(s, &seg->tu, seg->v4);
	if (seg->csum_pending && !csum_check(t, seg))
		return us_drop(s, US_CTR_TCP_DROP_BAD_CHECKSUM, seg->ifindex, "bad TCP checksum");
	/* RFC 9293 §3.10.7.4 fourth (TIME-WAIT) and RFC 1122 §4.2.2.13: a
	 * new SYN may end a TIME_WAIT "if it: (1) assigns its initial sequence
	 * number for the new connection to be larger than the largest
	 * sequence number it used on the previous connection incarnation,
	 * and (2) returns to TIME-WAIT state if the SYN turns out to be an old
	 * duplicate". We take (1) from the SYN's sequence number and hand it
	 * to the listener; (2) cannot happen to a new SYN above RCV.NXT. */
	if (t && t->state == US_TCP_TIME_WAIT &&
	    (seg->flags & (US_TCP_SYN | US_TCP_ACK | US_TCP_RST)) == US_TCP_SYN &&
	    seq_gt(seg->seq, t->rcv_nxt) && us_tcp_find_listener(s, &seg->tu, seg->v4)) {
		us_count(s, US_CTR_TCP_TIME_WAIT_REUSED);
		us_tcp_drop(t, 0, "new SYN in TIME_WAIT");
		t = NULL;
	}
	if (!t) {
		struct us_tcp *l = us_tcp_find_listener(s, &seg->tu, seg->v4);
		if (l)
			return listen_arrives(l, seg);
		return closed_arrives(s, seg);
	}
	switch (t->state) {
	case US_TCP_CLOSED:
		return closed_arrives(s, seg);
	case US_TCP_LISTEN:
		return listen_arrives(t, seg);
	case US_TCP_SYN_SENT:
		return syn_sent_arrives(t, seg);
	case US_TCP_SYN_RCVD:
		/* A retransmitted SYN (before the window) is answered by our
		 * SYN-ACK again (first step: "send an acknowledgment"). */
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		return synchronized_arrives(t, seg);
	}
	return 0;
}

/* ---- From IP ----------------------------------------------------------------- */

static int parse(struct us_stack *s, struct us_iface *ifc, const uint8_t *buf, size_t len,
		 uint32_t pseudo, struct us_tcp_hdr *h, struct us_tcp_seg *seg)
{
	us_count(s, US_CTR_TCP_IN_SEGS);
	int err = us_tcp_parse(buf, len, h);
	if (err == US_WIRE_TRUNCATED)
		return us_drop(s, US_CTR_TCP_DROP_TRUNCATED, ifc->index, "shorter than a TCP header");
	if (err != US_WIRE_OK)
		return us_drop(s, US_CTR_TCP_DROP_BAD_HEADER, ifc->index, us_wire_strerror(err));
	/* RFC 9293 §3.1 (MUST-2, MUST-3): the checksum is always checked:
	 * here, or by the link that vouches for it (us_rx_csum_trusted():
	 * the kernel verified it, or the segment never left this host). A
	 * segment with data is checked by segment_arrives() (csum_check()),
	 * before anything acts on it, where its text may be summed as it is
	 * copied into the receive ring. */
	bool check = !us_rx_csum_trusted(s);
	if (check && h->payload_len == 0 && !us_tcp_csum_ok(buf, len, pseudo))
		return us_drop(s, US_CTR_TCP_DROP_BAD_CHECKSUM, ifc->index, "bad TCP checksum");
	seg->raw = buf;
	seg->raw_len = (uint32_t)len;
	seg->pseudo = pseudo;
	seg->csum_pending = check && h->payload_len > 0;
	seg->h = h;
	seg->ifindex = ifc->index;
	seg->seq = h->seq;
	seg->seq_in = h->seq;
	seg->ack = h->ack;
	seg->wnd = h->window;
	seg->flags = h->flags;
	seg->data = h->payload;
	seg->len = (uint32_t)h->payload_len;
	seg->tu.lport = h->dport;
	seg->tu.rport = h->sport;
	return 0;
}

int us_tcp_input4(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		  bool link_bcast)
{
	struct us_tcp_hdr h;
	struct us_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	uint32_t pseudo = us_csum_pseudo4(ip->src, ip->dst, US_IPPROTO_TCP, ip->payload_len);
	int rc = parse(s, ifc, ip->payload, ip->payload_len, pseudo, &h, &seg);
	if (rc < 0)
		return rc;
	/* RFC 1122 §4.2.3.10: "A TCP implementation MUST silently discard an
	 * incoming SYN segment that is addressed to a broadcast or multicast
	 * address"; TCP is unicast, so we discard any such segment, and
	 * those from such a source (RFC 1122 §3.2.1.3). */
	if (link_bcast || us_ip_is_group(s, ip->dst) || us_ip_is_group(s, ip->src) || ip->src == 0)
		return us_drop(s, US_CTR_TCP_DROP_BAD_ADDRESS, ifc->index,
			       "TCP to or from a broadcast or multicast address");
	seg.v4 = true;
	seg.ip_ecn = ip->tos & US_IP_ECN_MASK;
	us_sock_v4mapped(ip->dst, &seg.tu.laddr);
	us_sock_v4mapped(ip->src, &seg.tu.raddr);
	return segment_arrives(s, &seg);
}

int us_tcp_input6(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		  const uint8_t *buf, size_t len, bool link_mcast)
{
	struct us_tcp_hdr h;
	struct us_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	uint32_t pseudo = us_csum_pseudo6(&ip->src, &ip->dst, US_IPPROTO_TCP, (uint32_t)len);
	int rc = parse(s, ifc, buf, len, pseudo, &h, &seg);
	if (rc < 0)
		return rc;
	if (link_mcast || us_ip6_is_multicast(&ip->dst) || us_ip6_is_multicast(&ip->src) ||
	    us_ip6_is_unspecified(&ip->src))
		return us_drop(s, US_CTR_TCP_DROP_BAD_ADDRESS, ifc->index,
			       "TCP to or from a multicast or unspecified address");
	seg.v4 = false;
	seg.ip_ecn = ip->traffic_class & US_IP_ECN_MASK;
	seg.tu.laddr = ip->dst;
	seg.tu.raddr = ip->src;
	return segment_arrives(s, &seg);
}

/* ---- ICMP errors ------------------------------------------------------------- */

/*
 * An ICMP error about a segment we sent (src/dst: ours and the peer's,
 * sport/dport as sent, seq the quoted sequence number). RFC 5927 §4.1:
 * act only when the quoted sequence number is in flight (SND.UNA =< seq <
 * SND.NXT), which a blind attacker cannot guess. hard: the error means
 * the peer will never answer (port or protocol unreachable). RFC 1122
 * §4.2.3.9 lets hard errors abort; like Linux (and RFC 5461 §4) we abort
 * only a connection still being set up, and otherwise keep the error to
 * report if the connection times out. pmtu: the path MTU went down
 * (already learnt by IP): resend from SND.UNA in smaller segments.
 */
static void icmp_to_tcb(struct us_stack *s, const struct us_tcp_tuple *tu, bool v4, uint32_t seq,
			int err, bool hard, bool pmtu)
{
	struct us_tcp *t = us_tcp_lookup(s, tu, v4);
	if (!t || !seq_in(seq, t->snd_una, t->snd_max)) {
		us_count(s, US_CTR_TCP_ICMP_ERRORS_IGNORED);
		return;
	}
	us_count(s, US_CTR_TCP_ICMP_ERRORS);
	if (pmtu) {
		if (t->snd_nxt != t->snd_una) {
			t->snd_nxt = t->snd_una;
			t->rtt_timing = false;
			us_tcp_output(t);
		}
		return;
	}
	if (hard && (t->state == US_TCP_SYN_SENT || t->state == US_TCP_SYN_RCVD)) {
		if (t->state == US_TCP_SYN_SENT)
			us_count(s, US_CTR_TCP_ATTEMPT_FAILS);
		us_tcp_drop(t, -err, "ICMP error");
		return;
	}
	t->soft_error = -err;
}

void us_tcp_icmp_error4(struct us_stack *s, uint8_t type, uint8_t code,
			const struct us_ipv4_hdr *q)
{
	/* RFC 792: the quote holds 64 bits of the segment: the ports and the
	 * sequence number. */
	if (q->frag_offset != 0 || q->payload_len < 8) {
		us_count(s, US_CTR_TCP_ICMP_ERRORS_IGNORED);
		return;
	}
	struct us_tcp_tuple tu;
	us_sock_v4mapped(q->src, &tu.laddr);
	us_sock_v4mapped(q->dst, &tu.raddr);
	tu.lport = us_get_be16(q->payload);
	tu.rport = us_get_be16(q->payload + 2);
	uint32_t seq = us_get_be32(q->payload + 4);
	int err = EHOSTUNREACH;
	bool hard = false, pmtu = false;
	if (type == US_ICMP4_DEST_UNREACH) {
		switch (code) {
		case US_ICMP4_UNREACH_NET:
			err = ENETUNREACH;
			break;
		case US_ICMP4_UNREACH_PROTO:
			err = ENOPROTOOPT;
			hard = true;
			break;
		case US_ICMP4_UNREACH_PORT:
			err = ECONNREFUSED;
			hard = true;
			break;
		case US_ICMP4_UNREACH_FRAG_NEEDED:
			pmtu = true;
			break;
		case US_ICMP4_UNREACH_ADMIN:
			hard = true;
			break;
		default:
			break;
		}
	} else if (type == US_ICMP4_PARAM_PROBLEM) {
		err = EPROTO;
	}
	icmp_to_tcb(s, &tu, true, seq, err, hard, pmtu);
}

void us_tcp_icmp_error6(struct us_stack *s, uint8_t type, uint8_t code,
			const struct us_ipv6_hdr *q, const uint8_t *upper, size_t len)
{
	if (len < 8) {
		us_count(s, US_CTR_TCP_ICMP_ERRORS_IGNORED);
		return;
	}
	struct us_tcp_tuple tu = { .laddr = q->src, .raddr = q->dst };
	tu.lport = us_get_be16(upper);
	tu.rport = us_get_be16(upper + 2);
	uint32_t seq = us_get_be32(upper + 4);
	int err = EHOSTUNREACH;
	bool hard = false, pmtu = false;
	switch (type) {
	case US_ICMP6_DEST_UNREACH:
		if (code == US_ICMP6_UNREACH_PORT) {
			err = ECONNREFUSED;
			hard = true;
		} else if (code == US_ICMP6_UNREACH_ADMIN || code == US_ICMP6_UNREACH_SRC_POLICY ||
			   code == US_ICMP6_UNREACH_REJECT_ROUTE) {
			err = EACCES;
			hard = true;
		} else if (code == US_ICMP6_UNREACH_NOROUTE) {
			err = ENETUNREACH;
		}
		break;
	case US_ICMP6_PACKET_TOO_BIG:
		pmtu = true;
		break;
	case US_ICMP6_PARAM_PROBLEM:
		err = EPROTO;
		break;
	default:
		break;
	}
	icmp_to_tcb(s, &tu, false, seq, err, hard, pmtu);
}

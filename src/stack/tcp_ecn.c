/* SPDX-License-Identifier: MIT */
/*
 * tcp_ecn.c - Explicit Congestion Notification for TCP (RFC 3168 §6.1):
 * a router that would drop a packet marks it Congestion Experienced (CE)
 * instead, the receiver echoes the mark to the sender (ECE), and the
 * sender reduces its window as for a loss, with nothing to retransmit,
 * and says so (CWR).
 *
 *   §6.1.1    negotiation: the ECN-setup SYN (ECE and CWR) and SYN-ACK
 *             (ECE alone); §6.1.1.1: a SYN sent again goes without them
 *   §6.1.2    the sender: ECT(0) on new data, one reduction per window
 *             for ECE, CWR on the first new data after any reduction
 *   §6.1.3    the receiver: CE on data sets ECE on every ACK until a CWR
 *   §6.1.4-6  no ECT on pure ACKs, retransmissions and window probes
 *
 * Off by default (us_stack_config.tcp_ecn, US_OPT_ECN per socket), as on
 * most hosts: docs/tcp-modern.md ("ECN") says how to turn it on and which
 * script shows it (ecn_*.pkt).
 *
 * Read first: tcp.h (the ecn_* fields of the TCB), then RFC 3168 §6.1.
 * Called from: us_tcp_negotiate() (tcp_opt.c), send_segment()
 * (tcp_output.c), synchronized_arrives() and established_ack()
 * (tcp_input.c), us_tcp_start_cwnd() and congestion_ssthresh()
 * (tcp_timer.c). SYN cookies carry the agreement in the TSval
 * (tcp_cookie.c).
 *
 * Not implemented: the ECN nonce (RFC 3540, Historic per RFC 8311),
 * Accurate ECN (AccECN, draft-ietf-tcpm-accurate-ecn), ECT(1) and L4S
 * (RFC 9331), ECT on SYN-ACKs (RFC 5562), and RFC 8511's milder
 * reduction (ABE): an ECE halves the window as a loss does.
 * Deviation: RFC 3168 §6.1.2 asks a sender whose cwnd is one segment to
 * wait a retransmission timeout before sending new data after an ECE; our
 * algorithms never go below two segments for an ECE (RFC 5681 eq. 4), so
 * the window is halved to that floor and sending goes on (Linux does the
 * same).
 */
#include "stack.h"
#include "tcp.h"
#include "tcp_seq.h"
#include "wire/ipproto.h"
#include "wire/tcp.h"

void us_tcp_ecn_negotiate(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	uint8_t f = seg->flags & (US_TCP_ECE | US_TCP_CWR);
	/* §6.1.1: "A host MUST NOT set ECT on data packets unless it has sent
	 * at least one ECN-setup SYN or ECN-setup SYN-ACK packet, and has
	 * received at least one ECN-setup SYN or ECN-setup SYN-ACK packet, and
	 * has sent no non-ECN-setup SYN or non-ECN-setup SYN-ACK packet." An
	 * ECN-setup SYN has ECE and CWR; an ECN-setup SYN-ACK ECE and not
	 * CWR (one with both is a reflected SYN, not an answer). */
	if (seg->flags & US_TCP_ACK)
		t->ecn_ok = t->want_ecn && !t->ecn_syn_fallback && f == US_TCP_ECE;
	else
		t->ecn_ok = t->want_ecn && !t->ecn_syn_fallback &&
			    f == (US_TCP_ECE | US_TCP_CWR);
}

void us_tcp_ecn_established(struct us_tcp *t)
{
	t->ecn_high = t->snd_una;
	if (t->ecn_ok)
		us_count(t->s, US_CTR_TCP_ECN_NEGOTIATED);
}

uint8_t us_tcp_ecn_out(struct us_tcp *t, uint32_t seq, uint32_t len, uint8_t flags,
		       uint8_t *ecn)
{
	/* §6.1.1: "A host MUST NOT set ECT on SYN or SYN-ACK packets"; nor
	 * on a RST, which is no data (§6.1.4's rule for pure ACKs). */
	*ecn = US_IP_ECN_NOT_ECT;
	if (flags & US_TCP_RST)
		return flags;
	if (flags & US_TCP_SYN) {
		if (flags & US_TCP_ACK)
			return t->ecn_ok ? flags | US_TCP_ECE : flags;
		/* §6.1.1.1: "A host that receives no reply to an ECN-setup
		 * SYN within the normal SYN retransmission timeout interval MAY
		 * resend the SYN and any subsequent SYN retransmissions with CWR
		 * and ECE cleared" (a middlebox may drop them); as Linux, we
		 * do, and ECN is then off for the connection. */
		if (t->want_ecn && !t->ecn_syn_fallback && seq_lt(seq, t->snd_max)) {
			t->ecn_syn_fallback = true;
			us_count(t->s, US_CTR_TCP_ECN_SYN_FALLBACKS);
		}
		if (t->want_ecn && !t->ecn_syn_fallback)
			flags |= US_TCP_ECE | US_TCP_CWR;
		return flags;
	}
	if (!t->ecn_ok)
		return flags;
	/* §6.1.3: ECE on every ACK while a CE mark waits for its CWR. */
	if (t->ecn_ce_echo && (flags & US_TCP_ACK))
		flags |= US_TCP_ECE;
	/* ECT(0) on new data only. §6.1.4: pure ACKs "MUST be sent with the
	 * not-ECT codepoint"; §6.1.5: implementations "MUST NOT set either ECT
	 * codepoint ... for retransmitted data packets"; §6.1.6: nor on window
	 * probes (data beyond the peer's window), whose loss would not be
	 * noticed. */
	bool fresh = len > 0 && !seq_lt(seq, t->snd_max);
	bool probe = seq_gt(seq + len, t->snd_una + t->snd_wnd);
	if (!fresh || probe)
		return flags;
	*ecn = US_IP_ECN_ECT0;
	/* §6.1.2: "the TCP sender sets the CWR flag in the TCP header of the
	 * first new data packet sent after the window reduction". */
	if (t->ecn_cwr_pending) {
		flags |= US_TCP_CWR;
		t->ecn_cwr_pending = false;
	}
	return flags;
}

void us_tcp_ecn_input(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	if (!t->ecn_ok)
		return;
	/* §6.1.3: the receiver sets ECE on its ACKs "until it receives a CWR
	 * packet (a packet with the CWR flag set)"; a CE on that same packet
	 * starts a new echo (the CWR is taken first). Only segments in the
	 * window get here (§6.1.5: the receiver "SHOULD ignore the ECN field
	 * on arriving data packets that are outside of the receiver's current
	 * window"). */
	if (seg->flags & US_TCP_CWR)
		t->ecn_ce_echo = false;
	if (seg->ip_ecn != US_IP_ECN_CE || seg->len == 0)
		return;
	us_count(t->s, US_CTR_TCP_ECN_CE_RECEIVED);
	t->ecn_ce_rcvd++;
	/* The first mark is acknowledged at once, not after the delayed ACK
	 * timer (as Linux's quick ACK on CE): the sender learns of it an RTT
	 * sooner. */
	if (!t->ecn_ce_echo)
		t->ack_now = true;
	t->ecn_ce_echo = true;
}

bool us_tcp_ecn_ack(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	if (!t->ecn_ok || !(seg->flags & US_TCP_ECE) || (seg->flags & US_TCP_SYN))
		return false;
	/* §6.1.2: the ECE "should be treated just as a congestion loss in
	 * non-ECN-Capable TCP. That is, the TCP source halves the congestion
	 * window "cwnd" and reduces the slow start threshold "ssthresh"", but
	 * "TCP should not react to congestion indications more than once
	 * every window of data": only for an ACK beyond what was in flight at
	 * the last reduction (a loss's too), and never in recovery, whose
	 * entry reduced the window already. */
	if (!t->in_recovery && seq_gt(seg->ack, t->ecn_high)) {
		us_tcp_cwnd_reduce(t); /* calls us_tcp_ecn_cwnd_reduced() */
		t->ecn_in_cwr = true;
		t->ecn_reductions++;
		us_count(t->s, US_CTR_TCP_ECN_CWND_REDUCTIONS);
	}
	return true;
}

void us_tcp_ecn_cwnd_reduced(struct us_tcp *t)
{
	if (!t->ecn_ok)
		return;
	t->ecn_cwr_pending = true;
	t->ecn_high = t->snd_max;
	t->ecn_in_cwr = false;
}

/* SPDX-License-Identifier: MIT */
/*
 * tcp_timer.c - TCP's timers and what reacts to ACKs: retransmission with
 * the RTO of RFC 6298 (Karn's rule, exponential backoff), congestion control
 * (RFC 5681 slow start and congestion avoidance, fast retransmit, RFC 6582
 * NewReno fast recovery, RFC 3168 §6.1.2's reduction for an ECN-Echo),
 * Tail Loss Probe (RFC 8985 §7), zero-window probes (RFC 9293 §3.8.6.1, RFC 1122
 * §4.2.2.17), keep-alives (RFC 1122 §4.2.3.6), delayed ACKs (RFC 1122
 * §4.2.3.2, RFC 5681 §4.2), TIME_WAIT (RFC 9293 §3.10.8 "Time-Wait Timeout").
 *
 * Read tcp.h first. Every timer is a deadline in its TCB (US_TIME_NEVER when
 * off); us_tcp_poll() fires the due ones and us_tcp_next_deadline() says
 * when the next is due. There is no tick. The TCBs with a timer running sit
 * in a binary min-heap keyed on their earliest timer ("The timer heap"
 * below), so neither call looks at a TCB that is not due: the runtime asks
 * both at every turn of its loop, with thousands of connections open.
 *
 *   timer      armed when                          fires
 *   t_rexmt    data, SYN or FIN in flight          resend from SND.UNA, back off
 *   t_persist  data waits, zero window, no flight  send 1 byte past the window
 *   t_keep     idle with SO_KEEPALIVE              ACK probe of SND.UNA - 1
 *   t_delack   in-order data not yet acknowledged  send the ACK
 *   t_close    TIME_WAIT; orphaned FIN_WAIT_2      CLOSED
 *   t_tlp      SACK, data in flight, not in        a loss probe (RFC 8985 §7):
 *              recovery, nothing SACKed            new data, or the last
 *                                                  segment again
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "tcp_seq.h"
#include "wire/tcp.h"

/* ---- The timer heap ------------------------------------------------------------ */

/*
 * Every TCB with at least one timer running has a slot in s->tcp.heap, a
 * binary min-heap (the array form of any algorithms textbook: the children
 * of heap[i] are heap[2i+1] and heap[2i+2], and no child is before its
 * parent). A slot holds the TCB and its key: the earliest of its six
 * timers. Two equal keys are ordered newest TCB first (t->serial), the
 * order of s->tcp.all, which the poll walked before the heap. Each TCB
 * knows its slot (t->heap_i), so that a timer set anywhere moves it up or
 * down in O(log n) and a TCB freed leaves from the middle.
 *
 * Setting a timer moves the TCB only when it changes its earliest timer: a
 * delayed ACK cleared while none runs costs a comparison. The array has
 * room for every TCB (us_tcp_timer_init() grows it when a TCB is made, the
 * one place that may fail), so arming a timer never allocates.
 */

/* Does slot a fire before slot b? */
static bool heap_before(const struct us_tcp_timer_slot *a, const struct us_tcp_timer_slot *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	return a->t->serial > b->t->serial;
}

static void heap_put(struct us_tcp_module *m, uint32_t i, struct us_tcp_timer_slot slot)
{
	m->heap[i] = slot;
	slot.t->heap_i = i;
}

static void heap_sift_up(struct us_tcp_module *m, uint32_t i)
{
	struct us_tcp_timer_slot slot = m->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!heap_before(&slot, &m->heap[parent]))
			break;
		heap_put(m, i, m->heap[parent]);
		i = parent;
	}
	heap_put(m, i, slot);
}

static void heap_sift_down(struct us_tcp_module *m, uint32_t i)
{
	struct us_tcp_timer_slot slot = m->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= m->heap_len)
			break;
		if (c + 1 < m->heap_len && heap_before(&m->heap[c + 1], &m->heap[c]))
			c++;
		if (!heap_before(&m->heap[c], &slot))
			break;
		heap_put(m, i, m->heap[c]);
		i = c;
	}
	heap_put(m, i, slot);
}

static void heap_remove(struct us_tcp_module *m, struct us_tcp *t)
{
	uint32_t i = t->heap_i;
	t->heap_i = US_TCP_NOT_QUEUED;
	struct us_tcp_timer_slot last = m->heap[--m->heap_len];
	if (last.t == t)
		return;
	/* The last slot fills the hole, then goes where its key says. */
	heap_put(m, i, last);
	if (i > 0 && heap_before(&last, &m->heap[(i - 1) / 2]))
		heap_sift_up(m, i);
	else
		heap_sift_down(m, i);
}

static us_time_t earliest(const struct us_tcp *t)
{
	us_time_t d = t->t_rexmt;
	if (t->t_persist < d)
		d = t->t_persist;
	if (t->t_keep < d)
		d = t->t_keep;
	if (t->t_delack < d)
		d = t->t_delack;
	if (t->t_close < d)
		d = t->t_close;
	if (t->t_tlp < d)
		d = t->t_tlp;
	return d;
}

/* After a timer of t changed: its key, and its place in the heap. */
static void timers_moved(struct us_tcp *t)
{
	struct us_tcp_module *m = &t->s->tcp;
	if (t->heap_i == US_TCP_NEVER_QUEUED)
		return;
	us_time_t at = earliest(t);
	if (t->heap_i == US_TCP_NOT_QUEUED) {
		if (at == US_TIME_NEVER)
			return;
		/* Its first timer: in at the bottom (the room is there). */
		heap_put(m, m->heap_len++, (struct us_tcp_timer_slot){ at, t });
		heap_sift_up(m, t->heap_i);
		return;
	}
	struct us_tcp_timer_slot *slot = &m->heap[t->heap_i];
	us_time_t old = slot->at;
	if (at == old)
		return;
	if (at == US_TIME_NEVER) {
		heap_remove(m, t);
		return;
	}
	slot->at = at;
	if (at < old)
		heap_sift_up(m, t->heap_i);
	else
		heap_sift_down(m, t->heap_i);
}

static us_time_t *timer_field(struct us_tcp *t, enum us_tcp_timer which)
{
	switch (which) {
	case US_TCP_T_REXMT:
		return &t->t_rexmt;
	case US_TCP_T_PERSIST:
		return &t->t_persist;
	case US_TCP_T_KEEP:
		return &t->t_keep;
	case US_TCP_T_DELACK:
		return &t->t_delack;
	case US_TCP_T_CLOSE:
		return &t->t_close;
	case US_TCP_T_TLP:
		return &t->t_tlp;
	}
	assert(0 && "no such timer");
	return &t->t_rexmt;
}

void us_tcp_timer_set(struct us_tcp *t, enum us_tcp_timer which, us_time_t at)
{
	us_time_t *field = timer_field(t, which);
	if (*field == at)
		return;
	*field = at;
	timers_moved(t);
}

void us_tcp_cancel_timers(struct us_tcp *t)
{
	for (int w = US_TCP_T_REXMT; w <= US_TCP_T_TLP; w++)
		*timer_field(t, (enum us_tcp_timer)w) = US_TIME_NEVER;
	timers_moved(t);
}

int us_tcp_timer_init(struct us_tcp *t)
{
	struct us_tcp_module *m = &t->s->tcp;
	if (m->heap_cap < m->n_conns + 1) {
		uint32_t cap = m->heap_cap ? 2 * m->heap_cap : 16;
		struct us_tcp_timer_slot *heap = realloc(m->heap, cap * sizeof *heap);
		if (!heap)
			return -ENOMEM;
		m->heap = heap;
		m->heap_cap = cap;
	}
	for (int w = US_TCP_T_REXMT; w <= US_TCP_T_TLP; w++)
		*timer_field(t, (enum us_tcp_timer)w) = US_TIME_NEVER;
	t->heap_i = US_TCP_NOT_QUEUED;
	t->serial = ++m->serial;
	return 0;
}

void us_tcp_timer_detach(struct us_tcp *t)
{
	for (int w = US_TCP_T_REXMT; w <= US_TCP_T_TLP; w++)
		*timer_field(t, (enum us_tcp_timer)w) = US_TIME_NEVER;
	t->heap_i = US_TCP_NEVER_QUEUED;
}

void us_tcp_timer_fini(struct us_stack *s)
{
	free(s->tcp.heap);
	s->tcp.heap = NULL;
	s->tcp.heap_len = s->tcp.heap_cap = 0;
}

bool us_tcp_timer_heap_ok(const struct us_stack *s)
{
	const struct us_tcp_module *m = &s->tcp;
	uint32_t running = 0;
	for (const struct us_tcp *t = m->all; t; t = t->next_all) {
		us_time_t at = earliest(t);
		if (at == US_TIME_NEVER) {
			if (t->heap_i != US_TCP_NOT_QUEUED)
				return false;
			continue;
		}
		running++;
		if (t->heap_i >= m->heap_len || m->heap[t->heap_i].t != t ||
		    m->heap[t->heap_i].at != at)
			return false;
	}
	if (running != m->heap_len || m->heap_cap < m->n_conns)
		return false;
	for (uint32_t i = 1; i < m->heap_len; i++)
		if (heap_before(&m->heap[i], &m->heap[(i - 1) / 2]))
			return false;
	return true;
}

/* RFC 6928 §2: "IW = min (10*MSS, max (2*MSS, 14600))" (10 segments of
 * 1460 bytes), in place of RFC 5681 §3.1's 2 to 4 segments. */
void us_tcp_start_cwnd(struct us_tcp *t)
{
	uint32_t mss = us_tcp_send_mss(t);
	t->ssthresh = UINT32_MAX;
	/* RFC 5681 §3.1: "If the SYN or SYN/ACK is lost, the initial window
	 * used by a sender after a correctly transmitted SYN MUST be one
	 * segment" (RFC 6928 §2 keeps this rule). */
	if (t->retransmits) {
		t->cwnd = mss;
	} else {
		uint32_t floor = 2 * mss > 14600 ? 2 * mss : 14600;
		t->cwnd = 10 * mss < floor ? 10 * mss : floor;
	}
	t->nvp_since = US_TIME_NEVER;
	t->cc->init(t);
	us_tcp_ecn_established(t);
}

/* RFC 6928's IW, for RFC 7661's floor. */
static uint32_t initial_window(uint32_t mss)
{
	uint32_t floor = 2 * mss > 14600 ? 2 * mss : 14600;
	return 10 * mss < floor ? 10 * mss : floor;
}

/* The RTO with the backoff of RFC 6298 §5.5, capped (§2.5). */
static us_time_t current_rto(const struct us_tcp *t)
{
	us_time_t rto = t->rto;
	for (uint32_t i = 0; i < t->backoff && rto < US_TCP_RTO_MAX; i++)
		rto *= 2;
	return rto < US_TCP_RTO_MAX ? rto : US_TCP_RTO_MAX;
}

void us_tcp_arm_rexmt(struct us_tcp *t)
{
	us_tcp_timer_set(t, US_TCP_T_PERSIST, US_TIME_NEVER);
	us_tcp_timer_set(t, US_TCP_T_REXMT, t->s->now + current_rto(t));
}

void us_tcp_start_time_wait(struct us_tcp *t)
{
	us_time_t msl = t->s->cfg.tcp_msl > 0 ? t->s->cfg.tcp_msl : US_TCP_DEFAULT_MSL;
	/* Every timer off but a delayed ACK still owed. */
	us_tcp_timer_set(t, US_TCP_T_REXMT, US_TIME_NEVER);
	us_tcp_timer_set(t, US_TCP_T_PERSIST, US_TIME_NEVER);
	us_tcp_timer_set(t, US_TCP_T_KEEP, US_TIME_NEVER);
	us_tcp_timer_set(t, US_TCP_T_TLP, US_TIME_NEVER);
	us_tcp_timer_set(t, US_TCP_T_CLOSE, t->s->now + 2 * msl);
}

void us_tcp_arm_keepalive(struct us_tcp *t)
{
	bool on = t->keepalive;
	switch (t->state) {
	case US_TCP_ESTABLISHED:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
		break;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
	case US_TCP_TIME_WAIT:
		on = false;
		break;
	}
	if (!on) {
		us_tcp_timer_set(t, US_TCP_T_KEEP, US_TIME_NEVER);
		return;
	}
	/* RFC 1122 §4.2.3.6: probes only "when no data or acknowledgement
	 * packets have been received for the connection within an interval". */
	us_time_t at = t->last_rcv + US_SEC(t->keepidle_s);
	us_tcp_timer_set(t, US_TCP_T_KEEP, at < t->s->now ? t->s->now : at);
}

/* ---- Round-trip time (RFC 6298 §2) ------------------------------------------ */

void us_tcp_rtt_sample(struct us_tcp *t, us_time_t r, uint32_t samples)
{
	if (r < 1)
		r = 1;
	if (samples < 1)
		samples = 1;
	/* RFC 8985 §7.3's second condition for the next probe. */
	t->tlp_rtt_ok = true;
	if (t->cc->on_rtt)
		t->cc->on_rtt(t, r);
	if (!t->have_rtt) {
		/* (2.2) "SRTT <- R, RTTVAR <- R/2" */
		t->srtt = r;
		t->rttvar = r / 2;
		t->have_rtt = true;
	} else {
		/* (2.3) "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,
		 * SRTT <- (1 - alpha) * SRTT + alpha * R'" with alpha = 1/8,
		 * beta = 1/4, both divided by the samples expected per RTT
		 * (RFC 7323 Appendix G) when every ACK gives one. */
		us_time_t d = t->srtt > r ? t->srtt - r : r - t->srtt;
		us_time_t k = (us_time_t)samples;
		t->rttvar += (d - t->rttvar) / (4 * k);
		t->srtt += (r - t->srtt) / (8 * k);
	}
	/* "RTO <- SRTT + max (G, K*RTTVAR)" with K = 4 and G our clock's
	 * granularity (1 µs), then (2.4) and (2.5)'s bounds. */
	us_time_t rto = t->srtt + (4 * t->rttvar > 1 ? 4 * t->rttvar : 1);
	if (rto < US_TCP_RTO_MIN)
		rto = US_TCP_RTO_MIN;
	if (rto > US_TCP_RTO_MAX)
		rto = US_TCP_RTO_MAX;
	t->rto = rto;
}

/* ---- ACKs and congestion control -------------------------------------------- */

/* FlightSize (RFC 5681 §2): data sent and not yet acknowledged. */
static uint32_t flight_size(const struct us_tcp *t)
{
	return t->snd_max - t->snd_una;
}

/* ---- RFC 7661: congestion window validation ------------------------------------ */

/*
 * RFC 5681 §4.1 would shrink cwnd after an idle period; RFC 7661 keeps
 * it, and watches instead whether the window is used. pipeACK is the most
 * data acknowledged in one RTT over the last max(3 * SRTT, 1 s) (the
 * "pipeACK Sampling Period"); the window is "non-validated" while pipeACK
 * < cwnd / 2. Then (§4.3) cwnd is kept but not grown, a loss takes it down
 * from what was really in use (§4.4), and after the Non-Validated Period
 * of five minutes it is halved (no lower than IW).
 * Deviation: the phase starts only while the sender is application
 * limited (nothing unsent), as Linux's tcp_is_cwnd_limited(): a bulk
 * sender in slow start, whose pipeACK lags cwnd by one round, is never
 * held back.
 */
#define CWV_NVP_PERIOD US_SEC(300)

static us_time_t pipeack_period(const struct us_tcp *t)
{
	us_time_t p = t->have_rtt ? 3 * t->srtt : US_SEC(1);
	return p > US_SEC(1) ? p : US_SEC(1);
}

static bool app_limited(const struct us_tcp *t)
{
	return !seq_lt(t->snd_nxt, us_tcp_snd_end(t));
}

/* §4.3's end of the NVP: "cwnd = max(cwnd/2, IW)" after five minutes,
 * ssthresh kept at least at three quarters of the old cwnd. */
static void cwv_nvp_expiry(struct us_tcp *t, uint32_t mss)
{
	if (t->nvp_since == US_TIME_NEVER || t->s->now - t->nvp_since < CWV_NVP_PERIOD)
		return;
	uint32_t q = (uint32_t)((uint64_t)t->cwnd * 3 / 4);
	if (t->ssthresh < q)
		t->ssthresh = q;
	uint32_t iw = initial_window(mss);
	t->cwnd = t->cwnd / 2 > iw ? t->cwnd / 2 : iw;
	t->nvp_since = t->s->now;
	us_count(t->s, US_CTR_TCP_CWV_NVP_END);
}

static void cwv_on_ack(struct us_tcp *t, uint32_t acked, uint32_t mss)
{
	us_time_t now = t->s->now;
	us_time_t rtt = t->have_rtt ? t->srtt : US_SEC(1);
	if (t->pipeack_acc == 0 && acked)
		t->pipeack_start = now;
	t->pipeack_acc += acked;
	if (now - t->pipeack_start >= rtt) {
		/* A sample: what one RTT acknowledged. */
		if (t->pipeack_acc >= t->pipeack || now - t->pipeack_at > pipeack_period(t)) {
			t->pipeack = t->pipeack_acc;
			t->pipeack_at = now;
		}
		t->pipeack_acc = 0;
	}
	bool under = t->pipeack && t->pipeack < t->cwnd / 2;
	if (t->nvp_since == US_TIME_NEVER) {
		if (under && app_limited(t) && !t->in_recovery) {
			t->nvp_since = now;
			us_count(t->s, US_CTR_TCP_CWV_NVP);
		}
	} else if (!under) {
		t->nvp_since = US_TIME_NEVER;
	}
	cwv_nvp_expiry(t, mss);
}

void us_tcp_cwv_on_send(struct us_tcp *t)
{
	us_time_t now = t->s->now;
	if (t->snd_una == t->snd_max && t->last_data_sent &&
	    now - t->last_data_sent >= t->rto)
		t->cc->after_idle(t, now - t->last_data_sent);
	cwv_nvp_expiry(t, us_tcp_send_mss(t));
	t->last_data_sent = now;
}

/* A loss: the algorithm's ssthresh; in the NVP, RFC 7661 §4.4 bases the
 * reduction on what was in use, (max(pipeACK, FlightSize)) / 2. */
static uint32_t congestion_ssthresh(struct us_tcp *t, uint32_t mss)
{
	uint32_t ss = t->cc->on_congestion(t, mss);
	/* RFC 3168 §6.1.2: CWR on the next new data, whatever the reason. */
	us_tcp_ecn_cwnd_reduced(t);
	if (t->nvp_since != US_TIME_NEVER) {
		uint32_t used = t->pipeack > flight_size(t) ? t->pipeack : flight_size(t);
		uint32_t cap = used / 2 > 2 * mss ? used / 2 : 2 * mss;
		if (ss > cap)
			ss = cap;
		t->nvp_since = US_TIME_NEVER;
	}
	return ss;
}

/* Sends again the first unacknowledged segment (fast retransmit, NewReno's
 * partial ACKs), without moving SND.NXT. */
static void retransmit_first(struct us_tcp *t)
{
	uint32_t mss = us_tcp_send_mss(t);
	uint32_t data_end = us_tcp_snd_end(t);
	uint32_t n = seq_lt(t->snd_una, data_end) ? data_end - t->snd_una : 0;
	if (n > mss)
		n = mss;
	uint8_t flags = US_TCP_ACK;
	if (t->fin_queued && t->snd_una + n == data_end && seq_gt(t->snd_max, data_end))
		flags |= US_TCP_FIN;
	if (n == 0 && !(flags & US_TCP_FIN))
		return;
	/* Karn: the timed segment may be this one. */
	t->rtt_timing = false;
	us_tcp_send_segment(t, t->snd_una, n, flags);
}

void us_tcp_ack_advanced(struct us_tcp *t, uint32_t acked, uint32_t ack, uint32_t data_acked)
{
	struct us_stack *s = t->s;
	(void)acked;
	/* RFC 6298 §3 with Karn's algorithm: only a segment sent once is
	 * timed (rtt_timing is cleared on any retransmission). */
	if (t->rtt_timing && seq_ge(ack, t->rtt_seq)) {
		us_tcp_rtt_sample(t, s->now - t->rtt_start, 1);
		t->rtt_timing = false;
		/* RFC 6298 §5: a new measurement may "collapse" the RTO
		 * back down after it has been subject to exponential back
		 * off; until one comes, the backed-off RTO stays. */
		t->backoff = 0;
	}
	t->timeouts = 0;
	t->persist_backoff = 0;
	/* (5.2) "When all outstanding data has been acknowledged, turn off
	 * the retransmission timer." (5.3) "When an ACK is received that
	 * acknowledges new data, restart the retransmission timer". */
	if (t->snd_una == t->snd_max)
		us_tcp_timer_set(t, US_TCP_T_REXMT, US_TIME_NEVER);
	else
		us_tcp_arm_rexmt(t);

	uint32_t mss = us_tcp_send_mss(t);
	if (t->in_recovery && t->sack_ok) {
		/* RFC 6675 §5: an ACK that covers RecoveryPoint ends the
		 * recovery (cwnd stays at ssthresh, set on entry); a partial
		 * one only updates the scoreboard, and us_tcp_output() sends
		 * what NextSeg() picks within cwnd - pipe. */
		if (seq_ge(ack, t->recover)) {
			t->in_recovery = false;
			t->dupacks = 0;
			t->cwnd = t->ssthresh;
		}
		return;
	}
	if (t->in_recovery) {
		if (seq_ge(ack, t->recover)) {
			/* RFC 6582 §3.2 (3) full acknowledgment: "Set cwnd to
			 * either (1) min (ssthresh, max(FlightSize, SMSS) +
			 * SMSS) or (2) ssthresh". */
			uint32_t f = flight_size(t);
			uint32_t c = (f > mss ? f : mss) + mss;
			t->cwnd = c < t->ssthresh ? c : t->ssthresh;
			t->in_recovery = false;
			t->dupacks = 0;
		} else {
			/* (3) partial acknowledgment: "retransmit the first
			 * unacknowledged segment ... deflate the congestion
			 * window by the amount of new data acknowledged by the
			 * cumulative acknowledgment field. If the partial ACK
			 * acknowledges at least one SMSS of new data, then add
			 * back SMSS bytes to the congestion window." */
			retransmit_first(t);
			t->cwnd = t->cwnd > data_acked ? t->cwnd - data_acked : 0;
			if (data_acked >= mss)
				t->cwnd += mss;
			if (t->cwnd < mss)
				t->cwnd = mss;
		}
		return;
	}
	t->dupacks = 0;
	if (data_acked == 0)
		return;
	/* RFC 7661 §4.3: a non-validated window is kept, not grown. */
	cwv_on_ack(t, data_acked, mss);
	if (t->nvp_since != US_TIME_NEVER)
		return;
	/* RFC 3168 §6.1.2: "the sending TCP SHOULD NOT increase the
	 * congestion window in response to the receipt of an ECN-Echo ACK
	 * packet". */
	if (t->ecn_ece_ack)
		return;
	/* The algorithm's growth (tcp_cc.c): RFC 5681 §3.1 slow start and
	 * congestion avoidance, or CUBIC's. */
	t->cc->on_ack(t, data_acked, mss);
}

/* RFC 3042 §2 (Limited Transmit): on each of the first two duplicate ACKs
 * "a TCP sender ... SHOULD send a segment of previously unsent data"
 * when "the receiver's advertised window allows" and "the amount of
 * outstanding data would remain less than or equal to the congestion
 * window plus 2*SMSS bytes". Small windows then still see three
 * duplicates, and recover without a timeout. */
static void limited_transmit(struct us_tcp *t, uint32_t mss)
{
	uint32_t data_end = us_tcp_snd_end(t);
	if (t->snd_nxt != t->snd_max || !seq_lt(t->snd_nxt, data_end))
		return;
	uint32_t n = data_end - t->snd_nxt;
	if (n > mss)
		n = mss;
	uint32_t out = t->snd_nxt + n - t->snd_una;
	if (out > t->snd_wnd || out > t->cwnd + 2 * mss)
		return;
	us_tcp_send_segment(t, t->snd_nxt, n, US_TCP_ACK | (n == data_end - t->snd_nxt ? US_TCP_PSH : 0));
	t->snd_nxt += n;
	t->snd_max = t->snd_nxt;
}

static bool tlp_shows_loss(const struct us_tcp *t);

void us_tcp_dupack(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	us_count(s, US_CTR_TCP_DUP_ACKS);
	t->dupacks++;
	uint32_t mss = us_tcp_send_mss(t);
	if (t->in_recovery && t->sack_ok) {
		/* RFC 6675 §5: no window inflation; the scoreboard (updated
		 * already) and pipe say what may leave. */
		return;
	}
	if (t->in_recovery) {
		/* RFC 5681 §3.2 (4): "For each additional duplicate ACK
		 * received (after the third), cwnd MUST be incremented by
		 * SMSS", which may let new data leave (5). */
		t->cwnd += mss;
		return;
	}
	/* RFC 6675 §5 (2): "If DupAcks < DupThresh but IsLost (HighACK + 1)
	 * returns true ... go to step (4)" (enter recovery); or RACK's
	 * verdict once a retransmitted loss probe is SACKed (RFC 8985). */
	bool rack = tlp_shows_loss(t);
	bool lost = us_tcp_sack_first_lost(t) || rack;
	if (t->dupacks < US_TCP_DUPTHRESH && !lost) {
		limited_transmit(t, mss);
		return;
	}
	if (t->dupacks != US_TCP_DUPTHRESH && !lost)
		return;
	/* RFC 6582 §3.2 (2): "If the cumulative acknowledgment field didn't
	 * cover more than recover, there is no fast retransmit" (the
	 * duplicates are from the last recovery's retransmissions). */
	if (seq_lt(t->snd_una, t->recover))
		return;
	/* RFC 5681 §3.2 (2)-(3), RFC 6582 §3.2 (2): "record the highest
	 * sequence number transmitted in the variable recover", ssthresh
	 * per eq. 4, retransmit, "cwnd = ssthresh + 3*SMSS". */
	us_count(s, US_CTR_TCP_FAST_RETRANS);
	t->fast_recoveries++;
	if (rack) {
		us_count(s, US_CTR_TCP_TLP_RECOVERIES);
		t->tlp_recoveries++;
	}
	t->recover = t->snd_max;
	/* RFC 3168 §6.1.2: once per window of data. A loss in the window an
	 * ECN-Echo already reduced keeps that reduction (as Linux, whose
	 * recovery from its CWR state does not halve again). */
	if (!(t->ecn_in_cwr && seq_lt(t->snd_una, t->ecn_high)))
		t->ssthresh = congestion_ssthresh(t, mss);
	t->in_recovery = true;
	if (t->sack_ok) {
		/* RFC 6675 §5 (4.1) "RecoveryPoint = HighData", (4.2)
		 * "ssthresh = cwnd = (FlightSize / 2)", (4.3) "Retransmit the
		 * first data segment presumed dropped", (4.4) "Run SetPipe ()"
		 * and go on sending by (C): us_tcp_output(). */
		us_count(s, US_CTR_TCP_SACK_RECOVERIES);
		t->cwnd = t->ssthresh;
		t->rescue_valid = false;
		t->high_rxt = t->snd_una;
		uint32_t end;
		uint32_t n = mss;
		if (t->n_sacked && seq_lt(t->sacked[0].start, t->snd_una + n))
			n = t->sacked[0].start - t->snd_una;
		if (us_tcp_sack_has(t, t->snd_una, &end))
			n = 0;
		if (n) {
			retransmit_first(t);
			t->high_rxt = t->snd_una + n;
		}
		return;
	}
	retransmit_first(t);
	t->cwnd = t->ssthresh + 3 * mss;
}

/* ---- Tail Loss Probe (RFC 8985 §7) ---------------------------------------------- */

void us_tcp_cwnd_reduce(struct us_tcp *t)
{
	t->ssthresh = congestion_ssthresh(t, us_tcp_send_mss(t));
	t->cwnd = t->ssthresh;
}

/* A loss repaired by a probe: the window is reduced as by a fast recovery
 * that ended at once (as Linux's CWR). */
static void tlp_congestion_response(struct us_tcp *t)
{
	t->ssthresh = congestion_ssthresh(t, us_tcp_send_mss(t));
	t->cwnd = t->ssthresh;
}

/*
 * A lost segment at the end of a flight brings no duplicate ACKs: without
 * help only the RTO (200 ms at least, then a window of one segment)
 * repairs it. RFC 8985 §7 sends a probe after about two round trips
 * instead: new data if there is some, else the last segment again. Its
 * ACK either shows the loss by SACK (and fast recovery repairs it) or
 * acknowledges everything (the probe itself was the repair).
 */

/* RFC 8985 §7.2: "The sender SHOULD start or restart a loss probe PTO
 * timer after transmitting new data ... or upon receiving an ACK that
 * cumulatively acknowledges new data, unless it is already in fast
 * recovery, RTO recovery, or the sender has segments delivered but not
 * yet ACKed" (SACKed); and RACK-TLP needs SACK (§4). */
static bool tlp_may_probe(const struct us_tcp *t)
{
	switch (t->state) {
	case US_TCP_ESTABLISHED:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
		break;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_SYN_SENT:
	case US_TCP_SYN_RCVD:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_TIME_WAIT:
		return false;
	}
	return t->sack_ok && !t->in_recovery && t->n_sacked == 0 && t->timeouts == 0 &&
	       t->snd_una != t->snd_max && t->snd_nxt == t->snd_max && t->t_rexmt != US_TIME_NEVER;
}

void us_tcp_arm_tlp(struct us_tcp *t)
{
	if (!tlp_may_probe(t)) {
		us_tcp_timer_set(t, US_TCP_T_TLP, US_TIME_NEVER);
		return;
	}
	/* §7.2.1: "If an SRTT estimate is available: PTO = 2 * SRTT; If
	 * FlightSize is equal to one segment: PTO += WCDelAckT; Else: PTO =
	 * 1 sec". The lone segment's ACK may be a delayed one. */
	us_time_t pto = US_SEC(1);
	if (t->have_rtt) {
		pto = 2 * t->srtt;
		if (flight_size(t) <= us_tcp_send_mss(t))
			pto += US_TCP_WCDELACK;
	}
	/* "If TCP_RTO_expiration < Now + PTO: PTO = TCP_RTO_expiration -
	 * Now": the probe then goes in the RTO's place. */
	us_time_t at = t->s->now + pto;
	us_tcp_timer_set(t, US_TCP_T_TLP, at < t->t_rexmt ? at : t->t_rexmt);
}

/* RFC 8985 §7.3. */
static bool tlp_fires(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	us_tcp_timer_set(t, US_TCP_T_TLP, US_TIME_NEVER);
	if (!tlp_may_probe(t))
		return false;
	/* "the sender MUST check whether both of the following conditions
	 * are met before sending a loss probe: 1. First, there is no other
	 * previous loss probe still in flight ... 2. Second, the sender has
	 * obtained an RTT measurement since the last loss probe". If not,
	 * the RTO timer (still armed) does the work. */
	if (t->tlp_rxt_out || !t->tlp_rtt_ok) {
		us_count(s, US_CTR_TCP_TLP_SKIPPED);
		return false;
	}
	uint32_t mss = us_tcp_send_mss(t) - us_tcp_sack_opt_len(t);
	uint32_t data_end = us_tcp_snd_end(t);
	/* "If the sender can transmit a previously unsent segment ... the
	 * sender SHOULD transmit that new segment" (if the peer's window
	 * takes it; the congestion window may be full: the probe is the one
	 * segment it may exceed). */
	uint32_t n = seq_lt(t->snd_nxt, data_end) ? data_end - t->snd_nxt : 0;
	if (n > mss)
		n = mss;
	if (n && t->snd_nxt + n - t->snd_una <= t->snd_wnd) {
		bool fin = t->fin_queued && t->snd_nxt + n == data_end;
		uint8_t flags = US_TCP_ACK | (t->snd_nxt + n == data_end ? US_TCP_PSH : 0);
		us_tcp_send_segment(t, t->snd_nxt, n, flags | (fin ? US_TCP_FIN : 0));
		t->snd_nxt += n + (fin ? 1 : 0);
		t->snd_max = t->snd_nxt;
	} else {
		/* "Otherwise, the sender MUST retransmit the last segment",
		 * and records "TLPRxtOut = true; TLPHighRxt = SND.NXT". */
		uint32_t end = seq_min(t->snd_max, data_end);
		bool fin = t->fin_queued && seq_gt(t->snd_max, data_end);
		n = seq_gt(end, t->snd_una) ? end - t->snd_una : 0;
		if (n > mss)
			n = mss;
		if (n == 0 && !fin)
			return false;
		t->rtt_timing = false; /* Karn */
		uint8_t flags = US_TCP_ACK | (n && end == data_end ? US_TCP_PSH : 0);
		us_tcp_send_segment(t, end - n, n, flags | (fin ? US_TCP_FIN : 0));
		t->tlp_rxt_out = true;
		t->tlp_high_rxt = t->snd_max;
		t->tlp_seq = end - n;
	}
	us_count(s, US_CTR_TCP_TLP_PROBES);
	t->tlp_probes++;
	t->tlp_rtt_ok = false;
	/* "After attempting to send a loss probe, regardless of whether a
	 * loss probe was sent, the sender MUST re-arm the RTO timer, not the
	 * PTO timer, if the FlightSize is not empty." */
	us_tcp_arm_rexmt(t);
	return false;
}

/*
 * RFC 8985 §7.4: did the probe repair a loss? As Linux
 * (tcp_process_tlp_ack): a D-SACK of it says the original arrived (no
 * loss); an ACK beyond TLPHighRxt without one says the probe was needed,
 * and the loss gets the congestion response of a fast recovery ("the
 * sender MUST invoke ... congestion control"); a pure duplicate ACK at
 * TLPHighRxt says both arrived. An ACK just at TLPHighRxt waits for the
 * next (the D-SACK of a duplicate may follow the ACK of the original).
 */
void us_tcp_tlp_ack(struct us_tcp *t, uint32_t ack, bool advanced, bool sacked_new)
{
	if (!t->tlp_rxt_out || seq_lt(ack, t->tlp_high_rxt))
		return;
	/* A fast recovery the probe started (tlp_shows_loss()) was the
	 * congestion response already. */
	if (t->ack_dsack || t->in_recovery) {
		t->tlp_rxt_out = false;
		return;
	}
	if (seq_gt(ack, t->tlp_high_rxt)) {
		t->tlp_rxt_out = false;
		if (!t->in_recovery) {
			us_count(t->s, US_CTR_TCP_TLP_REPAIRS);
			tlp_congestion_response(t);
		}
		return;
	}
	if (!advanced && !sacked_new)
		t->tlp_rxt_out = false;
}

/*
 * Deviation: RACK (RFC 8985 §6) only in this one case. RFC 8985 §6.2,
 * for the one segment whose send time we keep: the retransmitted probe. It left at least a PTO after every byte below it
 * was last sent; once it is SACKed, RACK's rule ("RACK.xmit_ts >=
 * Segment.xmit_ts and now >= Segment.xmit_ts + RACK.rtt + RACK.reo_wnd",
 * with reo_wnd at most SRTT/4 < PTO) marks those bytes lost: fast
 * recovery starts at once, on a single duplicate ACK.
 */
static bool tlp_shows_loss(const struct us_tcp *t)
{
	uint32_t end;
	return t->tlp_rxt_out && seq_lt(t->snd_una, t->tlp_seq) &&
	       us_tcp_sack_has(t, t->tlp_seq, &end);
}

/* ---- The timers ---------------------------------------------------------------- */

/* RFC 9293 §3.10.5-style end after too many tries: RST to a peer that
 * knows us, then CLOSED with ETIMEDOUT (or the last ICMP error seen). */
static bool give_up(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	us_count(s, US_CTR_TCP_TIMEOUT_DROPS);
	int err = t->soft_error ? t->soft_error : -ETIMEDOUT;
	switch (t->state) {
	case US_TCP_SYN_SENT:
		us_count(s, US_CTR_TCP_ATTEMPT_FAILS);
		break;
	case US_TCP_SYN_RCVD:
		if (t->listener)
			err = 0;
		break;
	case US_TCP_ESTABLISHED:
	case US_TCP_FIN_WAIT_1:
	case US_TCP_FIN_WAIT_2:
	case US_TCP_CLOSE_WAIT:
	case US_TCP_CLOSING:
	case US_TCP_LAST_ACK:
		us_tcp_send_rst(t);
		break;
	case US_TCP_CLOSED:
	case US_TCP_LISTEN:
	case US_TCP_TIME_WAIT:
		break;
	}
	return us_tcp_drop(t, err, "too many retransmissions");
}

/* RFC 6298 §5.4-5.7 and RFC 5681 §3.1 on a retransmission timeout. */
static bool rexmt_fires(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	us_tcp_timer_set(t, US_TCP_T_REXMT, US_TIME_NEVER);
	uint32_t limit = US_TCP_DATA_RETRIES;
	if (t->state == US_TCP_SYN_SENT)
		limit = US_TCP_SYN_RETRIES;
	else if (t->state == US_TCP_SYN_RCVD)
		limit = t->listener ? US_TCP_SYNACK_RETRIES : US_TCP_SYN_RETRIES;
	if (t->timeouts >= limit)
		return give_up(t);
	us_count(s, US_CTR_TCP_RTO_TIMEOUTS);
	t->rto_timeouts++;
	/* RFC 2018 §8: "After a retransmit timeout the data sender SHOULD
	 * turn off all of the SACKed bits, since the timeout might indicate
	 * that the data receiver has reneged." */
	us_tcp_sack_clear(t);
	t->tlp_rxt_out = false;
	uint32_t mss = us_tcp_send_mss(t);
	/* RFC 5681 eq. 4 when "the given segment has not yet been resent by
	 * way of the retransmission timer"; then "cwnd to no more than the
	 * loss window, LW, which equals 1 full-sized segment". */
	if (t->timeouts == 0 && us_tcp_is_synchronized(t->state))
		t->ssthresh = congestion_ssthresh(t, mss);
	t->cwnd = mss;
	t->in_recovery = false;
	t->dupacks = 0;
	/* RFC 6582 §3.2 (4): "After a retransmit timeout, record the highest
	 * sequence number transmitted in the variable recover". */
	t->recover = t->snd_max;
	/* (5.5) "back off the timer"; Karn: no sample from what is resent. */
	t->timeouts++;
	if (t->backoff < 16)
		t->backoff++;
	t->rtt_timing = false;
	/* Go back to SND.UNA: everything from there leaves again, paced by
	 * the congestion window. A SYN or SYN-ACK goes again whole. */
	t->snd_nxt = us_tcp_is_synchronized(t->state) ? t->snd_una : t->iss;
	us_tcp_arm_rexmt(t);
	us_tcp_output(t);
	return false;
}

/* RFC 1122 §4.2.2.17: the probe interval grows exponentially (from the
 * RTO, doubled per probe), capped at US_TCP_PERSIST_MAX. */
us_time_t us_tcp_persist_interval(const struct us_tcp *t)
{
	us_time_t wait = t->rto << (t->persist_backoff < 16 ? t->persist_backoff : 16);
	return wait < US_TCP_PERSIST_MAX ? wait : US_TCP_PERSIST_MAX;
}

/* RFC 9293 §3.8.6.1: "The sending TCP must regularly transmit at least one
 * octet of new data (if available) ... to the receiver even if the send
 * window is zero". The byte is sent past the window without moving SND.NXT;
 * if the window opened, the peer acknowledges it. RFC 1122 §4.2.2.17: the
 * interval grows exponentially, and the connection is kept as long as the
 * peer answers. */
static bool persist_fires(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	us_tcp_timer_set(t, US_TCP_T_PERSIST, US_TIME_NEVER);
	uint32_t data_end = us_tcp_snd_end(t);
	if (t->snd_wnd != 0 || !seq_lt(t->snd_nxt, data_end))
		return false;
	us_count(s, US_CTR_TCP_PERSIST_PROBES);
	us_tcp_send_segment(t, t->snd_nxt, 1, US_TCP_ACK);
	if (seq_gt(t->snd_nxt + 1, t->snd_max))
		t->snd_max = t->snd_nxt + 1;
	if (t->persist_backoff < 16)
		t->persist_backoff++;
	us_tcp_timer_set(t, US_TCP_T_PERSIST, s->now + us_tcp_persist_interval(t));
	return false;
}

/* RFC 1122 §4.2.3.6: a keep-alive is "a segment with no data ... the
 * sequence number SEG.SEQ = SND.NXT-1", which the peer must answer with an
 * ACK; "MUST NOT interpret failure to respond to any specific probe as a
 * dead connection": only keepcnt unanswered probes in a row end it. */
static bool keep_fires(struct us_tcp *t)
{
	struct us_stack *s = t->s;
	us_tcp_timer_set(t, US_TCP_T_KEEP, US_TIME_NEVER);
	if (!t->keepalive)
		return false;
	/* Data in flight: the retransmission timer watches the peer. */
	if (t->snd_una != t->snd_max) {
		us_tcp_timer_set(t, US_TCP_T_KEEP, s->now + US_SEC(t->keepidle_s));
		return false;
	}
	if (t->keep_probes >= t->keepcnt)
		return give_up(t);
	us_count(s, US_CTR_TCP_KEEPALIVE_PROBES);
	us_tcp_send_segment(t, t->snd_una - 1, 0, US_TCP_ACK);
	t->keep_probes++;
	us_tcp_timer_set(t, US_TCP_T_KEEP, s->now + US_SEC(t->keepintvl_s));
	return false;
}

static bool delack_fires(struct us_tcp *t)
{
	us_tcp_timer_set(t, US_TCP_T_DELACK, US_TIME_NEVER);
	us_count(t->s, US_CTR_TCP_DELAYED_ACKS);
	us_tcp_send_ack(t);
	return false;
}

/* RFC 9293 §3.10.8: "If the time-wait timeout expires on a connection,
 * delete the TCB, enter the CLOSED state, and return." Also the end of an
 * orphaned FIN_WAIT_2 (tcp.h). */
static bool close_fires(struct us_tcp *t)
{
	us_tcp_timer_set(t, US_TCP_T_CLOSE, US_TIME_NEVER);
	return us_tcp_drop(t, 0, t->state == US_TCP_TIME_WAIT ? "2MSL timeout"
							       : "FIN_WAIT_2 timeout");
}

/* The due timers of t, in a fixed order; one that ends the connection
 * frees an orphan, and then there is nothing more to do. */
static void fire_due(struct us_tcp *t, us_time_t now)
{
	if (t->t_delack <= now && delack_fires(t))
		return;
	/* A probe due with the RTO goes in its place (RFC 8985 §7.2) and
	 * re-arms it. */
	if (t->t_tlp <= now && tlp_fires(t))
		return;
	if (t->t_rexmt <= now && rexmt_fires(t))
		return;
	if (t->t_persist <= now && persist_fires(t))
		return;
	if (t->t_keep <= now && keep_fires(t))
		return;
	if (t->t_close <= now && close_fires(t))
		return;
}

void us_tcp_poll(struct us_stack *s)
{
	struct us_tcp_module *m = &s->tcp;
	us_time_t now = s->now;
	/* The top of the heap, while it is due: each firing moves the TCB
	 * down (its timers are off or later now) or out. At most as many
	 * firings as TCBs had timers: one that re-armed itself at `now` would
	 * otherwise come back at once; it waits for the next poll. */
	for (uint32_t budget = m->heap_len; budget > 0; budget--) {
		if (m->heap_len == 0 || m->heap[0].at > now)
			break;
		fire_due(m->heap[0].t, now);
	}
}

us_time_t us_tcp_next_deadline(const struct us_stack *s)
{
	return s->tcp.heap_len ? s->tcp.heap[0].at : US_TIME_NEVER;
}

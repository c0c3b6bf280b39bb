/* SPDX-License-Identifier: MIT */
/*
 * tcp_cc.c - congestion control behind one small interface (struct
 * us_tcp_cc_ops in tcp.h): NewReno (RFC 5681 §3.1, the window growth; the
 * fast recovery of RFC 6582 and RFC 6675 stays in tcp_timer.c and
 * tcp_opt.c, common to both) and CUBIC (RFC 9438) with HyStart++ (RFC
 * 9406) for its slow start.
 *
 * Read first: tcp.h (the interface, where each hook is called from), then
 * docs/tcp-modern.md ("Congestion control"). The algorithm is chosen per
 * stack (us_stack_config.tcp_cc) and per socket (US_OPT_CONGESTION); the
 * hooks are:
 *   init           the connection is established, cwnd = IW
 *   on_ack         an ACK of new data outside recovery: grow cwnd
 *   on_rtt         an RTT sample (HyStart++ watches them)
 *   on_congestion  a loss (three duplicate ACKs, SACK, a loss probe, a
 *                  timeout): returns the new ssthresh
 *   after_idle     sending resumes after an idle period
 *
 * Arithmetic is integer (the core links no libm): windows in bytes, times
 * in µs or ms, CUBIC's C = 0.4 and beta = 0.7 as fractions.
 *
 * Deviation: CUBIC's ssthresh is taken from cwnd, not FlightSize, as Linux
 * does; alpha_cubic stays 3(1-beta)/(1+beta) after W_est passes
 * cwnd_prior (RFC 9438 §4.3's SHOULD of 1 there is not done).
 */
#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "tcp_seq.h"

/* FlightSize (RFC 5681 §2). */
static uint32_t flight(const struct us_tcp *t)
{
	return t->snd_max - t->snd_una;
}

/* ---- NewReno (RFC 5681, RFC 6582) --------------------------------------- */

static void reno_init(struct us_tcp *t)
{
	(void)t;
}

static void reno_on_ack(struct us_tcp *t, uint32_t acked, uint32_t mss)
{
	if (t->cwnd < t->ssthresh) {
		/* RFC 5681 §3.1 slow start (eq. 2): "cwnd += min (N, SMSS)". */
		t->cwnd += acked < mss ? acked : mss;
	} else {
		/* Congestion avoidance by byte counting, the way RFC 5681 §3.1
		 * calls RECOMMENDED (RFC 3465 §2.1): count the bytes acked, and
		 * when they reach cwnd, grow cwnd by one SMSS. Unlike eq. 3
		 * (SMSS*SMSS/cwnd per ACK) it does not grow half as fast when
		 * the receiver acknowledges every second segment. */
		t->ca_acked += acked;
		if (t->ca_acked >= t->cwnd) {
			t->ca_acked -= t->cwnd;
			t->cwnd += mss;
		}
	}
}

/* RFC 5681 eq. 4: "ssthresh = max (FlightSize / 2, 2*SMSS)". */
static uint32_t reno_on_congestion(struct us_tcp *t, uint32_t mss)
{
	uint32_t h = flight(t) / 2;
	t->ca_acked = 0;
	return h > 2 * mss ? h : 2 * mss;
}

static void reno_after_idle(struct us_tcp *t, us_time_t idle)
{
	(void)t;
	(void)idle;
}

static const struct us_tcp_cc_ops newreno = {
	.name = "newreno",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.on_rtt = NULL,
	.on_congestion = reno_on_congestion,
	.after_idle = reno_after_idle,
};

/* ---- CUBIC (RFC 9438) with HyStart++ (RFC 9406) ----------------------------- */

/* RFC 9438 §5: "C SHOULD be set to 0.4"; "beta_cubic SHOULD be set to
 * 0.7". */
#define CUBIC_C_NUM 4
#define CUBIC_C_DEN 10
#define CUBIC_BETA_NUM 7
#define CUBIC_BETA_DEN 10
/* §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta) = 0.9 / 1.7. */
#define CUBIC_ALPHA_NUM 9
#define CUBIC_ALPHA_DEN 17
/* |t - K| beyond this (ms) is clamped: 60 s of cubic growth is past any
 * window a 32-bit cwnd can hold. */
#define CUBIC_T_MAX_MS 60000

/* RFC 9406 §4.3 constants. */
#define HYSTART_MIN_RTT_THRESH US_MSEC(4)
#define HYSTART_MAX_RTT_THRESH US_MSEC(16)
#define HYSTART_MIN_RTT_DIVISOR 8
#define HYSTART_N_RTT_SAMPLE 8
#define HYSTART_CSS_GROWTH_DIVISOR 4
#define HYSTART_CSS_ROUNDS 5
/* "L = infinity if paced, L = 8 if non-paced" (we do not pace). */
#define HYSTART_L 8

/* The integer cube root (floor) of x. */
static uint64_t icbrt(uint64_t x)
{
	uint64_t lo = 0, hi = 1u << 21; /* (2^21)^3 = 2^63 */
	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		if (mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

us_time_t us_tcp_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss)
{
	/* §4.2: "K = cubic_root((W_max - cwnd_epoch) / C)" in segments and
	 * seconds; in bytes and ms: K^3 = delta * 10^9 / (C * mss). */
	if (cwnd_epoch >= w_max || mss == 0)
		return 0;
	uint64_t delta = w_max - cwnd_epoch;
	if (delta > 100000000u)
		delta = 100000000u;
	uint64_t k3 = delta * 1000000000u * CUBIC_C_DEN / (CUBIC_C_NUM * (uint64_t)mss);
	return US_MSEC((us_time_t)icbrt(k3));
}

uint32_t us_tcp_cubic_window(uint32_t w_max, us_time_t k, us_time_t t, uint32_t mss)
{
	/* §4.2 (Figure 1): "W_cubic(t) = C * (t - K)^3 + W_max". */
	int64_t d = (int64_t)((t - k) / 1000); /* ms */
	if (d > CUBIC_T_MAX_MS)
		d = CUBIC_T_MAX_MS;
	if (d < -CUBIC_T_MAX_MS)
		d = -CUBIC_T_MAX_MS;
	int64_t grow = d * d * d * CUBIC_C_NUM * (int64_t)mss / CUBIC_C_DEN / 1000000000;
	int64_t w = (int64_t)w_max + grow;
	if (w < (int64_t)mss)
		w = mss;
	if (w > (int64_t)UINT32_MAX / 2)
		w = UINT32_MAX / 2;
	return (uint32_t)w;
}

static void hystart_new_round(struct us_tcp *t)
{
	t->cubic.last_round_min_rtt = t->cubic.cur_round_min_rtt;
	t->cubic.cur_round_min_rtt = US_TIME_NEVER;
	t->cubic.rtt_samples = 0;
	t->cubic.window_end = t->snd_max;
}

static void cubic_init(struct us_tcp *t)
{
	memset(&t->cubic, 0, sizeof t->cubic);
	t->cubic.epoch_start = US_TIME_NEVER;
	t->cubic.cur_round_min_rtt = US_TIME_NEVER;
	t->cubic.last_round_min_rtt = US_TIME_NEVER;
	t->cubic.window_end = t->snd_max;
}

/* RFC 9406 §4.2: "For each arriving ACK in slow start, where N is the
 * number of previously unacknowledged bytes acknowledged in the arriving
 * ACK: Update the cwnd: cwnd = cwnd + min(N, L * SMSS). Keep track of the
 * minimum observed RTT: currentRoundMinRTT = min(currentRoundMinRTT,
 * currentRTT); rttSampleCount += 1. For rounds where at least
 * N_RTT_SAMPLE RTT samples have been obtained and currentRoundMinRTT and
 * lastRoundMinRTT are valid, check to see if delay increase triggers slow
 * start exit". */
static void cubic_on_rtt(struct us_tcp *t, us_time_t rtt)
{
	if (t->cwnd >= t->ssthresh || t->cubic.hystart_done)
		return;
	if (rtt < t->cubic.cur_round_min_rtt)
		t->cubic.cur_round_min_rtt = rtt;
	t->cubic.rtt_samples++;
	if (t->cubic.css || t->cubic.rtt_samples < HYSTART_N_RTT_SAMPLE ||
	    t->cubic.cur_round_min_rtt == US_TIME_NEVER ||
	    t->cubic.last_round_min_rtt == US_TIME_NEVER)
		return;
	/* "RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT /
	 * MIN_RTT_DIVISOR, MAX_RTT_THRESH)); if (currentRoundMinRTT >=
	 * (lastRoundMinRTT + RttThresh)) cssBaselineMinRtt =
	 * currentRoundMinRTT; exit slow start and enter CSS". */
	us_time_t th = t->cubic.last_round_min_rtt / HYSTART_MIN_RTT_DIVISOR;
	if (th > HYSTART_MAX_RTT_THRESH)
		th = HYSTART_MAX_RTT_THRESH;
	if (th < HYSTART_MIN_RTT_THRESH)
		th = HYSTART_MIN_RTT_THRESH;
	if (t->cubic.cur_round_min_rtt >= t->cubic.last_round_min_rtt + th) {
		t->cubic.css = true;
		t->cubic.css_rounds = 0;
		t->cubic.css_baseline_min_rtt = t->cubic.cur_round_min_rtt;
		us_count(t->s, US_CTR_TCP_HYSTART_CSS);
	}
}

/* Slow start with HyStart++: rounds end when the ACK passes the SND.NXT of
 * the round's start ("windowEnd"). */
static void cubic_slow_start(struct us_tcp *t, uint32_t acked, uint32_t mss)
{
	if (!t->cubic.hystart_done && seq_ge(t->snd_una, t->cubic.window_end)) {
		if (t->cubic.css) {
			/* §4.2: "If the currentRoundMinRTT < cssBaselineMinRtt,
			 * set cssBaselineMinRtt = infinity and resume slow
			 * start": the RTT rise was spurious. "If CSS_ROUNDS
			 * rounds are complete, enter congestion avoidance by
			 * setting the ssthresh to the current cwnd." */
			if (t->cubic.cur_round_min_rtt < t->cubic.css_baseline_min_rtt) {
				t->cubic.css = false;
			} else if (++t->cubic.css_rounds >= HYSTART_CSS_ROUNDS) {
				t->ssthresh = t->cwnd;
				t->cubic.hystart_done = true;
				t->cubic.css = false;
				us_count(t->s, US_CTR_TCP_HYSTART_EXITS);
			}
		}
		hystart_new_round(t);
		if (t->cwnd >= t->ssthresh)
			return;
	}
	uint32_t inc = acked < HYSTART_L * mss ? acked : HYSTART_L * mss;
	/* §4.2: in CSS "cwnd = cwnd + (min(N, L * SMSS) /
	 * CSS_GROWTH_DIVISOR)". */
	if (t->cubic.css)
		inc /= HYSTART_CSS_GROWTH_DIVISOR;
	if (!inc)
		inc = 1;
	/* Slow start ends at ssthresh (RFC 5681 §3.1: it is used "when cwnd
	 * < ssthresh"): after a recovery that left cwnd below ssthresh, one
	 * ACK covering many segments must not carry cwnd past it. */
	if (t->ssthresh > t->cwnd && inc > t->ssthresh - t->cwnd)
		inc = t->ssthresh - t->cwnd;
	t->cwnd += inc;
}

static void cubic_on_ack(struct us_tcp *t, uint32_t acked, uint32_t mss)
{
	if (t->cwnd < t->ssthresh) {
		cubic_slow_start(t, acked, mss);
		return;
	}
	us_time_t now = t->s->now;
	if (t->cubic.epoch_start == US_TIME_NEVER) {
		/* §4.2: a congestion avoidance epoch starts: "cwnd_epoch is
		 * the cwnd at the beginning of the current congestion
		 * avoidance stage"; W_est starts there too (§4.3). A window
		 * above W_max (no loss yet) makes it W_max: K = 0. */
		t->cubic.epoch_start = now;
		t->cubic.cwnd_epoch = t->cwnd;
		t->cubic.w_est = t->cwnd;
		if (t->cubic.w_max < t->cwnd)
			t->cubic.w_max = t->cwnd;
		t->cubic.k = us_tcp_cubic_k(t->cubic.w_max, t->cwnd, mss);
	}
	us_time_t rtt = t->have_rtt ? t->srtt : US_MSEC(100);
	us_time_t el = now - t->cubic.epoch_start;
	/* §4.3 (Reno-friendly region): "W_est = W_est + alpha_cubic *
	 * segments_acked / cwnd" (segments), here in bytes. */
	t->cubic.w_est += (uint32_t)((uint64_t)acked * mss * CUBIC_ALPHA_NUM /
				     ((uint64_t)CUBIC_ALPHA_DEN * (t->cwnd ? t->cwnd : 1)));
	uint32_t w_now = us_tcp_cubic_window(t->cubic.w_max, t->cubic.k, el, mss);
	if (w_now < t->cubic.w_est) {
		/* "When receiving a new ACK in congestion avoidance (where
		 * cwnd could be greater than or less than W_max), CUBIC checks
		 * whether W_cubic(t) is less than W_est. If so, CUBIC is in
		 * the Reno-friendly region and cwnd SHOULD be set to W_est". */
		if (t->cubic.w_est > t->cwnd)
			t->cwnd = t->cubic.w_est;
		return;
	}
	/* §4.4-4.5: the target is W_cubic(t + RTT), kept within [cwnd, 1.5 *
	 * cwnd]; "cwnd MUST be incremented by (target - cwnd) / cwnd for
	 * each received new ACK" (segments; in bytes, per acked byte). */
	uint32_t target = us_tcp_cubic_window(t->cubic.w_max, t->cubic.k, el + rtt, mss);
	uint32_t hi = t->cwnd + t->cwnd / 2;
	if (target > hi)
		target = hi;
	if (target <= t->cwnd)
		return;
	uint64_t inc = (uint64_t)(target - t->cwnd) * acked / (t->cwnd ? t->cwnd : 1);
	t->cwnd += (uint32_t)(inc ? inc : 1);
}

/* §4.6 (multiplicative decrease) and §4.7 (fast convergence). */
static uint32_t cubic_on_congestion(struct us_tcp *t, uint32_t mss)
{
	/* "if (cwnd < W_max and fast convergence enabled) W_max = cwnd *
	 * (1 + beta_cubic) / 2 else W_max = cwnd" */
	if (t->cwnd < t->cubic.w_max)
		t->cubic.w_max = (uint32_t)((uint64_t)t->cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
					    (2 * CUBIC_BETA_DEN));
	else
		t->cubic.w_max = t->cwnd;
	t->cubic.epoch_start = US_TIME_NEVER;
	/* RFC 9406 §4.2: a loss in slow start or CSS ends HyStart++. */
	t->cubic.hystart_done = true;
	t->cubic.css = false;
	uint32_t ss = (uint32_t)((uint64_t)t->cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
	return ss > 2 * mss ? ss : 2 * mss;
}

/* Idle time is no growth time: the epoch moves on by it (as Linux's
 * CA_EVENT_TX_START), so W_cubic(t) does not jump after a pause. */
static void cubic_after_idle(struct us_tcp *t, us_time_t idle)
{
	if (t->cubic.epoch_start != US_TIME_NEVER)
		t->cubic.epoch_start += idle;
}

static const struct us_tcp_cc_ops cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_rtt = cubic_on_rtt,
	.on_congestion = cubic_on_congestion,
	.after_idle = cubic_after_idle,
};

/* ---- Choosing ------------------------------------------------------------------ */

const struct us_tcp_cc_ops *us_tcp_cc_ops(enum us_tcp_cc_algo algo)
{
	switch (algo) {
	case US_TCP_CC_NEWRENO:
		return &newreno;
	case US_TCP_CC_CUBIC:
		return &cubic;
	}
	return &newreno;
}

int us_tcp_cc_set(struct us_tcp *t, int algo)
{
	if (algo != US_TCP_CC_NEWRENO && algo != US_TCP_CC_CUBIC)
		return -1;
	t->cc_algo = (enum us_tcp_cc_algo)algo;
	t->cc = us_tcp_cc_ops(t->cc_algo);
	/* A switch mid-connection keeps cwnd and ssthresh; the new
	 * algorithm's own state starts afresh. */
	t->cc->init(t);
	return 0;
}

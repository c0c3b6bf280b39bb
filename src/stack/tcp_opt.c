/* SPDX-License-Identifier: MIT */
/*
 * tcp_opt.c - the options of modern TCP and what they drive:
 *   window scaling        RFC 7323 §2 (negotiation, scaled windows)
 *   timestamps            RFC 7323 §3 (TSopt), §4 (RTTM, the TSecr echo
 *                         rules), §5 (PAWS, TS.Recent's ageing)
 *   SACK, receiver        RFC 2018 §4 (blocks, most recent first),
 *                         RFC 2883 (D-SACK)
 *   SACK, sender          RFC 6675 (the scoreboard, IsLost, SetPipe,
 *                         NextSeg, rescue retransmission)
 *
 * Read first: tcp.h, then docs/tcp-modern.md (one section per mechanism,
 * each with the packet script that shows it). The state machine calls in
 * here from clearly named places: take_syn() (negotiation),
 * synchronized_arrives() (PAWS before the first step, TS.Recent after
 * it), established_ack() (the scoreboard), us_tcp_send_segment() (the
 * options of every segment) and us_tcp_output() (SACK recovery).
 *
 * Not implemented: D-SACK blocks that arrive are counted, not used to undo a
 * spurious recovery (RFC 2883 §5 leaves that to the sender). ECN (RFC
 * 3168), negotiated with the options, is in tcp_ecn.c.
 * Deviation: PAWS is skipped for TS.Recent older than 24 days (RFC 7323
 * §5.5) but TS.Recent is not otherwise invalidated on long idle periods
 * with data still flowing one way; the check is the RFC's own.
 */
#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "tcp_seq.h"
#include "wire/bytes.h"
#include "wire/tcp.h"

/* ---- Negotiation (RFC 7323 §2.2, §3.2; RFC 2018 §2) ---------------------- */

void us_tcp_opt_defaults(struct us_tcp *t)
{
	t->want_wscale = !t->s->cfg.tcp_no_wscale;
	t->want_ts = !t->s->cfg.tcp_no_timestamps;
	t->want_sack = !t->s->cfg.tcp_no_sack;
	t->want_ecn = t->s->cfg.tcp_ecn;
}

/* RFC 7323 §2.3: our shift is the smallest that lets the window field say
 * the whole receive ring ("the maximum receive window ... shift.cnt"),
 * at most 14. */
uint8_t us_tcp_our_wscale(const struct us_tcp *t)
{
	uint8_t shift = 0;
	while (shift < US_TCP_MAX_WSCALE && (t->opt.rcvbuf >> shift) > US_TCP_MAX_WIN)
		shift++;
	return shift;
}

/* Our TSval: a millisecond clock (RFC 7323 §5.4: "between 1 ms and 1 sec
 * per tick") plus the connection's random offset. */
static uint32_t ts_now(const struct us_tcp *t)
{
	return (uint32_t)(t->s->now / 1000) + t->ts_offset;
}

/*
 * RFC 7323 §5.4 and §7.1 (after RFC 6528's ISNs): a per-connection
 * random offset on the timestamp clock, from a keyed hash of the 4-tuple,
 * so the peer learns nothing of our uptime and two connections' clocks
 * cannot be lined up.
 */
static uint32_t ts_offset_for(const struct us_tcp *t)
{
	return us_tcp_keyed_hash(t->s, "tsof", &t->tu, true, NULL, 0);
}

uint32_t us_tcp_ts_clock(struct us_tcp *t)
{
	if (t->ts_first == 0 && t->ts_offset == 0) {
		t->ts_offset = ts_offset_for(t);
		t->ts_first = ts_now(t);
	}
	return ts_now(t);
}

void us_tcp_syn_options(struct us_tcp *t, struct us_tcp_opts *o, bool syn_ack)
{
	/* RFC 9293 §3.7.1 (MUST-14 allows sending it always; we do, on SYNs
	 * only, as it may only appear there). */
	o->has_mss = true;
	o->mss = t->adv_mss;
	us_tcp_ts_clock(t);
	/* RFC 7323 §2.2: "A TCP MAY send the Window Scale option in a <SYN>
	 * segment"; in a <SYN,ACK> "only if it has received a Window Scale
	 * option in the <SYN>". The same rule for TSopt (§3.2: "a TCP MAY
	 * send the TSopt in a <SYN,ACK> only if it received a TSopt in the
	 * initial <SYN>") and for SACK-permitted (RFC 2018 §2). */
	if (syn_ack ? t->wscale_ok : t->want_wscale) {
		o->has_wscale = true;
		o->wscale = us_tcp_our_wscale(t);
	}
	if (syn_ack ? t->sack_ok : t->want_sack)
		o->sack_permitted = true;
	if (syn_ack ? t->ts_ok : t->want_ts) {
		o->has_ts = true;
		o->ts_val = ts_now(t);
		/* RFC 7323 §3.2: "If the ACK bit is not set in the outgoing
		 * TCP header, the sender of that segment SHOULD set the TSecr
		 * field to zero"; a SYN-ACK echoes the SYN's TSval. */
		o->ts_ecr = syn_ack ? t->ts_recent : 0;
	}
}

void us_tcp_negotiate(struct us_tcp *t, const struct us_tcp_seg *seg, bool active)
{
	const struct us_tcp_opts *po = &seg->h->opts;
	(void)active;
	/* RFC 7323 §2.2: scaling is on in both directions only when both
	 * SYNs carried the option; "if a Window Scale option is received with
	 * a shift.cnt value larger than 14, the TCP SHOULD log the error but
	 * MUST use 14" (the parser clamped it; counted here). */
	t->wscale_ok = t->want_wscale && po->has_wscale;
	if (t->wscale_ok) {
		t->snd_wscale = po->wscale;
		t->rcv_wscale = us_tcp_our_wscale(t);
		if (po->wscale_clamped)
			us_count(t->s, US_CTR_TCP_WSCALE_CLAMPED);
	} else {
		t->snd_wscale = 0;
		t->rcv_wscale = 0;
	}
	/* RFC 7323 §3.2: "Once TSopt has been successfully negotiated, that
	 * is both <SYN> and <SYN,ACK> contain TSopt, the TSopt MUST be sent in
	 * every non-<RST> segment for the duration of the connection". The
	 * SYN's TSval is the first TS.Recent (§4.3 (1)). */
	t->ts_ok = t->want_ts && po->has_ts;
	if (t->ts_ok) {
		t->ts_recent = po->ts_val;
		t->ts_recent_age = t->s->now;
		t->ts_recent_valid = true;
	}
	t->sack_ok = t->want_sack && po->sack_permitted;
	/* ECN is agreed by the SYNs' flags, not an option (tcp_ecn.c). */
	us_tcp_ecn_negotiate(t, seg);
}

uint32_t us_tcp_fixed_opt_len(const struct us_tcp *t)
{
	/* NOP, NOP, TSopt: 12 bytes (RFC 7323 Appendix A's layout). */
	return t->ts_ok ? 12 : 0;
}

/* How many SACK blocks fit beside the TSopt (RFC 2018 §3: "a SACK option
 * that specifies n blocks will have a length of 8*n+2 bytes, so the 40
 * bytes available for TCP options can specify a maximum of 4 blocks ...
 * when used with the Timestamp option ... a maximum of 3"). */
static int sack_room(const struct us_tcp *t)
{
	return t->ts_ok ? 3 : US_TCP_MAX_SACK;
}

static int sack_blocks_to_send(const struct us_tcp *t)
{
	if (!t->sack_ok)
		return 0;
	int n = t->n_ooo + (t->dsack_pending ? 1 : 0);
	int room = sack_room(t);
	return n < room ? n : room;
}

uint32_t us_tcp_sack_opt_len(const struct us_tcp *t)
{
	int n = sack_blocks_to_send(t);
	return n ? 4 + 8 * (uint32_t)n : 0;
}

/*
 * RFC 2018 §4: "The first SACK block (i.e., the one immediately following
 * the kind and length fields in the option) MUST specify the contiguous
 * block of data containing the segment which triggered this ACK" and "the
 * data receiver SHOULD include as many distinct SACK blocks as possible",
 * "repeating the most recently reported SACK blocks": the out-of-order
 * ranges are kept most recent first. RFC 2883 §4: a D-SACK block goes
 * first, "the second SACK block ... MAY" be the block it lies in; it is
 * reported once.
 */
static void put_sack_blocks(struct us_tcp *t, struct us_tcp_opts *o)
{
	int room = sack_room(t);
	int n = 0;
	if (t->dsack_pending) {
		o->sack[n].left = t->dsack_start;
		o->sack[n].right = t->dsack_end;
		n++;
		t->dsack_pending = false;
	}
	for (int i = 0; i < t->n_ooo && n < room; i++, n++) {
		o->sack[n].left = t->ooo[i].start;
		o->sack[n].right = t->ooo[i].end;
	}
	o->sack_count = (uint8_t)n;
	t->sack_blocks_sent += (uint64_t)n;
}

void us_tcp_seg_options(struct us_tcp *t, struct us_tcp_opts *o, uint8_t flags)
{
	if (t->ts_ok) {
		/* RFC 7323 §4.3 (3): "When a TSopt is sent, its TSecr field is
		 * set to the current TS.Recent value." §3.2: on a RST it
		 * "SHOULD be sent" too. */
		o->has_ts = true;
		o->ts_val = ts_now(t);
		o->ts_ecr = t->ts_recent;
	}
	if ((flags & US_TCP_ACK) && !(flags & US_TCP_RST) && sack_blocks_to_send(t))
		put_sack_blocks(t, o);
}

/* ---- Window scaling (RFC 7323 §2.3) ---------------------------------------- */

uint16_t us_tcp_window_field(const struct us_tcp *t, uint32_t win, bool syn, uint32_t *announced)
{
	/* "The window field in a segment where the SYN bit is set (i.e., a
	 * <SYN> or <SYN,ACK>) MUST NOT be scaled." */
	uint8_t shift = syn || !t->wscale_ok ? 0 : t->rcv_wscale;
	uint32_t max = US_TCP_MAX_WIN << shift;
	if (win > max)
		win = max;
	/* Rounded down, so the peer never reads a window beyond the ring. */
	uint32_t field = win >> shift;
	*announced = field << shift;
	return (uint16_t)field;
}

/* ---- Timestamps: PAWS and TS.Recent (RFC 7323 §4.3, §5) -------------------- */

static bool ts_lt(uint32_t a, uint32_t b)
{
	/* §5.2: timestamps are compared "using modular arithmetic", as
	 * sequence numbers are. */
	return (int32_t)(a - b) < 0;
}

bool us_tcp_paws_ok(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	struct us_stack *s = t->s;
	if (!t->ts_ok)
		return true;
	const struct us_tcp_opts *o = &seg->h->opts;
	if (!o->has_ts) {
		/* §3.2: "If a non-<RST> segment is received without a TSopt, a
		 * TCP SHOULD silently drop the segment. A TCP MUST NOT abort a
		 * TCP connection because any segment lacks an expected
		 * TSopt." */
		if (seg->flags & US_TCP_RST)
			return true;
		us_drop(s, US_CTR_TCP_DROP_NO_TIMESTAMP, seg->ifindex,
			"no TSopt on a connection that negotiated it");
		return false;
	}
	/* §5.5: "If a connection remains idle for more than 24 days ...
	 * TS.Recent" is no longer valid: the check is skipped. */
	if (t->ts_recent_valid && s->now - t->ts_recent_age > US_TCP_PAWS_IDLE)
		t->ts_recent_valid = false;
	/* §5.3 R1: "If there is a Timestamps option in the arriving segment,
	 * SEG.TSval < TS.Recent, TS.Recent is valid (see later discussion),
	 * and the RST bit is not set, then treat the arriving segment as not
	 * acceptable: Send an acknowledgment in reply as specified in
	 * Section 3.10.7.4 of RFC 793 and drop the segment." */
	if (t->ts_recent_valid && !(seg->flags & US_TCP_RST) && ts_lt(o->ts_val, t->ts_recent)) {
		t->paws_drops++;
		us_drop(s, US_CTR_TCP_DROP_PAWS, seg->ifindex, "PAWS: timestamp older than TS.Recent");
		t->ack_now = true;
		return false;
	}
	return true;
}

void us_tcp_ts_update_recent(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	const struct us_tcp_opts *o = &seg->h->opts;
	if (!t->ts_ok || !o->has_ts)
		return;
	/* §5.3 R3 (with §4.3 (2)): "If an arriving segment satisfies
	 * SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent (see Section
	 * 4.3), then record its timestamp in TS.Recent." Last.ACK.sent is
	 * the RCV.NXT we last acknowledged (rcv_acked). */
	if ((!t->ts_recent_valid || !ts_lt(o->ts_val, t->ts_recent)) &&
	    seq_le(seg->seq_in, t->rcv_acked)) {
		t->ts_recent = o->ts_val;
		t->ts_recent_age = t->s->now;
		t->ts_recent_valid = true;
	}
}

us_time_t us_tcp_ts_rtt(const struct us_tcp *t, const struct us_tcp_seg *seg)
{
	const struct us_tcp_opts *o = &seg->h->opts;
	if (!t->ts_ok || !o->has_ts || !(seg->flags & US_TCP_ACK))
		return -1;
	/* §4.1: the RTT is the current time less the echoed TSecr. An echo
	 * from before our SYN, or from the future, is not one of ours
	 * (Linux likewise ignores a TSecr of 0). */
	uint32_t now = ts_now(t);
	if (o->ts_ecr == 0 || (int32_t)(o->ts_ecr - t->ts_first) < 0 ||
	    (int32_t)(now - o->ts_ecr) < 0)
		return -1;
	return (us_time_t)(now - o->ts_ecr) * 1000;
}

/* ---- SACK, the receiver (RFC 2018 §4, RFC 2883) ------------------------------ */

void us_tcp_dsack_note(struct us_tcp *t, uint32_t start, uint32_t end)
{
	if (!t->sack_ok || !seq_lt(start, end))
		return;
	/* RFC 2883 §4: "If the data receiver receives a duplicate segment,
	 * ... the first block in the SACK option ... specifies the
	 * duplicate". */
	t->dsack_pending = true;
	t->dsack_start = start;
	t->dsack_end = end;
}

void us_tcp_ooo_touch(struct us_tcp *t, int i)
{
	if (i <= 0 || i >= t->n_ooo)
		return;
	uint32_t start = t->ooo[i].start, end = t->ooo[i].end;
	memmove(&t->ooo[1], &t->ooo[0], (size_t)i * sizeof t->ooo[0]);
	t->ooo[0].start = start;
	t->ooo[0].end = end;
}

/* ---- SACK, the sender's scoreboard (RFC 6675 §3-4) ------------------------- */

void us_tcp_sack_clear(struct us_tcp *t)
{
	t->n_sacked = 0;
}

static void sacked_remove(struct us_tcp *t, int i)
{
	memmove(&t->sacked[i], &t->sacked[i + 1],
		(size_t)(t->n_sacked - i - 1) * sizeof t->sacked[0]);
	t->n_sacked--;
}

/* Adds [start, end) to the sorted, disjoint ranges; true when it covered
 * bytes not SACKed before. */
static bool sacked_add(struct us_tcp *t, uint32_t start, uint32_t end)
{
	uint32_t covered = 0;
	int i = 0;
	while (i < t->n_sacked && seq_lt(t->sacked[i].end, start))
		i++;
	/* Merge with every range that touches [start, end). */
	while (i < t->n_sacked && seq_le(t->sacked[i].start, end)) {
		uint32_t lo = seq_max(start, t->sacked[i].start);
		uint32_t hi = seq_min(end, t->sacked[i].end);
		if (seq_lt(lo, hi))
			covered += hi - lo;
		start = seq_min(start, t->sacked[i].start);
		end = seq_max(end, t->sacked[i].end);
		sacked_remove(t, i);
	}
	bool news = end - start > covered;
	if (t->n_sacked == US_TCP_SACK_RANGES) {
		/* Bounded memory: forget the highest range (that data may be
		 * sent again, never wrongly skipped). */
		if (i == t->n_sacked)
			return news;
		t->n_sacked--;
	}
	memmove(&t->sacked[i + 1], &t->sacked[i], (size_t)(t->n_sacked - i) * sizeof t->sacked[0]);
	t->sacked[i].start = start;
	t->sacked[i].end = end;
	t->n_sacked++;
	return news;
}

bool us_tcp_sack_update(struct us_tcp *t, const struct us_tcp_seg *seg)
{
	const struct us_tcp_opts *o = &seg->h->opts;
	t->ack_dsack = false;
	if (!t->sack_ok || o->sack_count == 0 || !(seg->flags & US_TCP_ACK))
		return false;
	bool news = false;
	for (int k = 0; k < o->sack_count; k++) {
		uint32_t l = o->sack[k].left, r = o->sack[k].right;
		t->sack_blocks_rcvd++;
		/* RFC 2883 §4.1: a first block below the cumulative ACK, or
		 * inside the second block, reports a duplicate (D-SACK): it
		 * SACKs nothing new. */
		if (k == 0 && (seq_le(r, seg->ack) ||
			       (o->sack_count > 1 && seq_ge(l, o->sack[1].left) &&
				seq_le(r, o->sack[1].right)))) {
			t->dsacks_rcvd++;
			t->ack_dsack = true;
			us_count(t->s, US_CTR_TCP_DSACKS_RECEIVED);
			continue;
		}
		/* A block must lie within what we sent, above the ACK. */
		if (!seq_lt(l, r) || seq_gt(r, t->snd_max))
			continue;
		if (seq_lt(l, seg->ack))
			l = seg->ack;
		if (!seq_lt(l, r))
			continue;
		news |= sacked_add(t, l, r);
	}
	return news;
}

void us_tcp_sack_prune(struct us_tcp *t)
{
	while (t->n_sacked && seq_le(t->sacked[0].end, t->snd_una))
		sacked_remove(t, 0);
	if (t->n_sacked && seq_lt(t->sacked[0].start, t->snd_una))
		t->sacked[0].start = t->snd_una;
}

bool us_tcp_sack_has(const struct us_tcp *t, uint32_t seq, uint32_t *end)
{
	for (int i = 0; i < t->n_sacked; i++)
		if (seq_in(seq, t->sacked[i].start, t->sacked[i].end)) {
			*end = t->sacked[i].end;
			return true;
		}
	return false;
}

static uint32_t smss(const struct us_tcp *t)
{
	return us_tcp_send_mss(t);
}

/*
 * RFC 6675 §4 IsLost (SeqNum): "This routine returns whether the given
 * sequence number is considered to be lost. The routine returns true when
 * either DupThresh discontiguous SACKed sequences have arrived above
 * 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with sequence numbers
 * greater than 'SeqNum' have been SACKed." Within one hole (the gap before
 * sacked[i]) the answer is the same for every byte: i is the hole's index.
 */
static bool hole_lost(const struct us_tcp *t, int i)
{
	uint32_t bytes = 0;
	int ranges = 0;
	for (int k = i; k < t->n_sacked; k++) {
		bytes += t->sacked[k].end - t->sacked[k].start;
		ranges++;
	}
	return ranges >= US_TCP_DUPTHRESH || bytes > (US_TCP_DUPTHRESH - 1) * smss(t);
}

bool us_tcp_sack_first_lost(const struct us_tcp *t)
{
	return t->sack_ok && t->n_sacked > 0 && seq_gt(t->sacked[0].start, t->snd_una) &&
	       hole_lost(t, 0);
}

/* The hole before sacked[i] (i == n_sacked: the tail up to SND.MAX). */
static void hole(const struct us_tcp *t, int i, uint32_t *start, uint32_t *end)
{
	*start = i == 0 ? t->snd_una : t->sacked[i - 1].end;
	*end = i == t->n_sacked ? t->snd_max : t->sacked[i].start;
}

/*
 * RFC 6675 §4 SetPipe(): "for each octet in the sequence space between
 * HighACK and HighData that has not been SACKed: (a) If IsLost (S1)
 * returns false: Pipe is incremented by 1 octet. (b) If S1 <= HighRxt:
 * Pipe is incremented by 1 octet." The tail after the last SACKed range
 * is never lost by IsLost (nothing is SACKed above it).
 */
uint32_t us_tcp_sack_pipe(const struct us_tcp *t)
{
	uint32_t pipe = 0;
	for (int i = 0; i <= t->n_sacked; i++) {
		uint32_t a, b;
		hole(t, i, &a, &b);
		if (!seq_lt(a, b))
			continue;
		bool lost = i < t->n_sacked && hole_lost(t, i);
		if (!lost)
			pipe += b - a;
		if (seq_gt(t->high_rxt, a))
			pipe += seq_min(b, t->high_rxt) - a;
	}
	return pipe;
}

/* Sends len bytes at seq again, marks them (HighRxt). */
static void resend(struct us_tcp *t, uint32_t seq, uint32_t len)
{
	uint32_t data_end = us_tcp_snd_end(t);
	uint8_t flags = US_TCP_ACK;
	if (seq + len == data_end && t->fin_queued && seq_gt(t->snd_max, data_end))
		flags |= US_TCP_FIN;
	t->rtt_timing = false; /* Karn */
	us_tcp_send_segment(t, seq, len, flags);
	if (t->t_rexmt == US_TIME_NEVER)
		us_tcp_arm_rexmt(t);
}

/* One segment of new data from SND.NXT (NextSeg rule 2); false if none may
 * leave (no data, or the peer's window is full). */
static bool send_new(struct us_tcp *t, uint32_t mss)
{
	uint32_t data_end = us_tcp_snd_end(t);
	if (t->snd_nxt != t->snd_max || !seq_lt(t->snd_nxt, data_end))
		return false;
	uint32_t n = data_end - t->snd_nxt;
	if (n > mss)
		n = mss;
	/* "the receiver's advertised window allows" */
	if (t->snd_nxt + n - t->snd_una > t->snd_wnd)
		return false;
	us_tcp_send_segment(t, t->snd_nxt, n, US_TCP_ACK | (n == data_end - t->snd_nxt ? US_TCP_PSH : 0));
	t->snd_nxt += n;
	t->snd_max = t->snd_nxt;
	if (t->t_rexmt == US_TIME_NEVER)
		us_tcp_arm_rexmt(t);
	return true;
}

/*
 * RFC 6675 §5 (C): "If cwnd - pipe >= 1 SMSS, the sender SHOULD transmit
 * one or more segments as follows: (C.1) The scoreboard MUST be queried via
 * NextSeg () for the sequence number range of the next segment to
 * transmit" ... "(C.5) If cwnd - pipe >= 1 SMSS, return to (C.1)".
 * NextSeg() (§4): (1) the first lost, not yet retransmitted octets; (2)
 * new data; (3) unSACKed octets below the highest SACKed one, not yet
 * retransmitted; (4) the rescue retransmission: "If HighACK is greater
 * than RescueRxt (or RescueRxt is undefined), then one segment of upto
 * SMSS octets that MUST include the highest outstanding unSACKed sequence
 * number SHOULD be returned, and RescueRxt set to RecoveryPoint. HighRxt
 * MUST NOT be updated."
 */
void us_tcp_sack_output(struct us_tcp *t)
{
	uint32_t mss = smss(t) - us_tcp_sack_opt_len(t);
	for (int guard = 0; guard < 1024; guard++) {
		t->pipe = us_tcp_sack_pipe(t);
		if (t->cwnd < t->pipe || t->cwnd - t->pipe < smss(t))
			return;
		bool sent = false;
		/* (1) and (3): holes below the highest SACKed octet, from the
		 * first; (1) only for lost holes, (3) for any. */
		for (int rule = 1; rule <= 3 && !sent; rule += 2) {
			for (int i = 0; i < t->n_sacked && !sent; i++) {
				uint32_t a, b;
				hole(t, i, &a, &b);
				if (seq_lt(a, t->high_rxt))
					a = t->high_rxt;
				if (!seq_lt(a, b))
					continue;
				if (rule == 1 && !hole_lost(t, i))
					continue;
				uint32_t n = b - a < mss ? b - a : mss;
				resend(t, a, n);
				t->high_rxt = a + n;
				sent = true;
			}
			if (rule == 1 && !sent)
				sent = send_new(t, mss); /* (2) */
		}
		if (!sent && (!t->rescue_valid || seq_gt(t->snd_una, t->rescue_rxt))) {
			/* (4): the last unSACKed segment below SND.MAX. */
			uint32_t a, b;
			hole(t, t->n_sacked, &a, &b);
			uint32_t data_end = us_tcp_snd_end(t);
			b = seq_min(b, data_end);
			if (seq_lt(a, b)) {
				uint32_t n = b - a < mss ? b - a : mss;
				resend(t, b - n, n);
				t->rescue_rxt = t->recover;
				t->rescue_valid = true;
				us_count(t->s, US_CTR_TCP_SACK_RESCUES);
				sent = true;
			}
		}
		if (!sent)
			return;
	}
}

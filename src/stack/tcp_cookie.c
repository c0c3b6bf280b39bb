/* SPDX-License-Identifier: MIT */
/*
 * tcp_cookie.c - SYN cookies (RFC 4987 §3.6): when a listener's SYN queue
 * is full, the SYN is answered with a SYN-ACK whose ISS encodes what the
 * connection needs, and no state is kept; the ACK that returns the cookie
 * (SEG.ACK - 1) makes the connection.
 *
 * Read first: RFC 4987 §3.6, then listen_arrives() in tcp_input.c (where
 * the two functions below are called) and docs/tcp-modern.md ("SYN
 * cookies"), whose script syn_cookies.pkt shows a handshake with a full
 * queue.
 *
 * The ISS, as Linux and the BSDs lay it out (RFC 4987 §3.6: "the TCP
 * sequence number ... is derived from a time counter, the MSS, and a
 * cryptographic hash of the connection's addresses, ports, the client's
 * initial sequence number and a secret"):
 *
 *    31        24 23  21 20                                   0
 *   +------------+------+--------------------------------------+
 *   |  counter   | MSS  |  MAC = SipHash(secret, 4-tuple, IRS, |
 *   |  (64 s)    | index|        counter, MSS index), 21 bits  |
 *   +------------+------+--------------------------------------+
 *
 * The counter ticks every 64 s; a cookie is good for the counter it was
 * made in and the one after (64 to 128 s), as Linux's two minutes. The
 * 21-bit MAC makes a blind guess succeed once in 2 million tries. The
 * peer's MSS goes in as an index into a table of common values (rounded
 * down). Window scale, SACK-permitted and ECN (RFC 3168) have no room
 * there: as Linux does, they go in the low 6 bits of our TSval when the
 * peer offered timestamps (it echoes them in TSecr); without timestamps
 * the connection has none of them (RFC 4987 §3.6: "the MSS ... is the
 * only option that can be encoded" in the sequence number alone).
 *
 * Deviation: the window scale, SACK and ECN bits in TSecr are not covered by the
 * MAC (as in Linux): a peer that alters its echo only changes its own
 * connection's options.
 */
#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "tcp_seq.h"
#include "wire/bytes.h"
#include "wire/tcp.h"

#define COOKIE_PERIOD US_SEC(64)
#define COOKIE_MAC_BITS 21
#define COOKIE_MAC_MASK ((1u << COOKIE_MAC_BITS) - 1)
/* TSval low bits: 0-3 the peer's window shift (15: none), 4 SACK, 5 ECN
 * (Linux's TS_OPT_ECN). */
#define COOKIE_TS_BITS 0x3fu
#define COOKIE_TS_NO_WSCALE 0xfu
#define COOKIE_TS_SACK 0x10u
#define COOKIE_TS_ECN 0x20u

/* The peer's MSS, rounded down to one of these (Linux's msstab has 536,
 * 1300, 1440, 1460; the others cover IPv6 tunnels and jumbo frames). */
static const uint16_t cookie_mss[8] = { 536, 1220, 1300, 1380, 1440, 1460, 4312, 8960 };

static uint32_t cookie_counter(const struct us_stack *s)
{
	return (uint32_t)(s->now / COOKIE_PERIOD);
}

static uint32_t cookie_mac(const struct us_stack *s, const struct us_tcp_tuple *tu, uint32_t irs,
			   uint32_t counter, uint32_t mss_index)
{
	/* After the tuple: IRS, the counter, the MSS index, two zero bytes. */
	uint8_t extra[8] = { 0 };
	us_put_be32(extra, irs);
	extra[4] = (uint8_t)counter;
	extra[5] = (uint8_t)mss_index;
	return us_tcp_keyed_hash(s, "cook", tu, true, extra, sizeof extra) & COOKIE_MAC_MASK;
}

static uint32_t cookie_iss(const struct us_stack *s, const struct us_tcp_tuple *tu, uint32_t irs,
			   uint32_t counter, uint32_t mss_index)
{
	return (counter & 0xffu) << 24 | mss_index << COOKIE_MAC_BITS |
	       cookie_mac(s, tu, irs, counter, mss_index);
}

void us_tcp_cookie_send(struct us_tcp *l, const struct us_tcp_seg *seg)
{
	struct us_stack *s = l->s;
	/* A TCB on the C stack only to build the SYN-ACK with the code every
	 * SYN-ACK uses: nothing of it outlives this function. */
	struct us_tcp t;
	memset(&t, 0, sizeof t);
	t.s = s;
	us_tcp_timer_detach(&t); /* zeroed, it would look like heap slot 0's */
	t.state = US_TCP_SYN_RCVD;
	us_tcp_child_init(&t, l, seg);
	t.rcvq.cap = t.opt.rcvbuf;
	us_tcp_negotiate(&t, seg, false);
	uint32_t peer_mss = seg->h->opts.has_mss ? seg->h->opts.mss : US_TCP_DEFAULT_MSS;
	uint32_t idx = 0;
	while (idx + 1 < 8 && cookie_mss[idx + 1] <= peer_mss)
		idx++;
	t.iss = cookie_iss(s, &seg->tu, seg->seq, cookie_counter(s), idx);
	t.snd_max = t.iss;
	t.rcv_nxt = seg->seq + 1;
	/* ECN (RFC 3168 §6.1.1) is agreed only where the cookie can carry
	 * it: in the TSval. Without timestamps the SYN-ACK offers none. */
	if (!t.ts_ok)
		t.ecn_ok = false;
	if (t.ts_ok) {
		/* Our TSval carries the options; it never runs ahead of the
		 * connection's clock (the low bits are cleared first), so
		 * the peer's PAWS sees our later TSvals as newer. */
		uint32_t bits = (t.wscale_ok ? t.snd_wscale : COOKIE_TS_NO_WSCALE) |
				(t.sack_ok ? COOKIE_TS_SACK : 0) | (t.ecn_ok ? COOKIE_TS_ECN : 0);
		uint32_t clock = us_tcp_ts_clock(&t);
		uint32_t val = (clock & ~COOKIE_TS_BITS) | bits;
		t.ts_offset += val - clock;
		t.ts_first = val;
	}
	us_count(s, US_CTR_TCP_SYNCOOKIES_SENT);
	l->cookies_sent = true;
	l->cookie_sent_at = s->now;
	us_tcp_send_segment(&t, t.iss, 0, US_TCP_SYN | US_TCP_ACK);
}

struct us_tcp *us_tcp_cookie_check(struct us_tcp *l, const struct us_tcp_seg *seg, bool *keep)
{
	struct us_stack *s = l->s;
	*keep = false;
	/* Only a listener that sent cookies lately looks (an ACK flood
	 * otherwise costs no hashing), and only at a bare ACK. */
	if (!l->syncookies || !l->cookies_sent || s->now - l->cookie_sent_at > 2 * COOKIE_PERIOD)
		return NULL;
	if ((seg->flags & (US_TCP_SYN | US_TCP_RST | US_TCP_ACK)) != US_TCP_ACK)
		return NULL;
	uint32_t iss = seg->ack - 1, irs = seg->seq - 1;
	uint32_t now = cookie_counter(s);
	uint32_t counter = iss >> 24;
	uint32_t idx = (iss >> COOKIE_MAC_BITS) & 7u;
	/* The cookie's counter is now's or the one before (mod 256). */
	uint32_t age = (now - counter) & 0xffu;
	uint32_t full = now - age;
	if (age > 1 || (iss & COOKIE_MAC_MASK) != cookie_mac(s, &seg->tu, irs, full, idx)) {
		us_count(s, US_CTR_TCP_SYNCOOKIES_FAILED);
		return NULL;
	}
	/* The child is made even when the accept queue is full: it then
	 * waits in SYN_RCVD like any other child whose final ACK found no
	 * room (us_tcp_child_established()), its SYN-ACK sent again by the
	 * timer, so the peer's later segments find it instead of the
	 * listener (which could not check their cookie: only the first
	 * segment carries SEG.SEQ = IRS + 1). */
	*keep = true;
	struct us_tcp *t = us_tcp_new_child(l, seg, true);
	if (!t)
		return NULL;
	us_count(s, US_CTR_TCP_SYNCOOKIES_RECV);
	/* What the SYN would have set (take_syn() in tcp_input.c). */
	t->iss = iss;
	t->snd_una = iss;
	t->snd_nxt = iss + 1;
	t->snd_max = iss + 1;
	t->snd_buf_seq = iss + 1;
	t->recover = iss;
	t->irs = irs;
	t->rcv_nxt = irs + 1;
	t->rcv_acked = t->rcv_nxt;
	/* The window of our SYN-ACK (never scaled). */
	uint32_t space = us_tcp_rcv_space(t);
	t->rcv_adv = t->rcv_nxt + (space < US_TCP_MAX_WIN ? space : US_TCP_MAX_WIN);
	t->peer_mss = cookie_mss[idx];
	t->snd_wl1 = irs;
	t->snd_wl2 = iss;
	const struct us_tcp_opts *o = &seg->h->opts;
	if (t->want_ts && o->has_ts && o->ts_ecr != 0) {
		uint32_t bits = o->ts_ecr & COOKIE_TS_BITS;
		uint32_t ws = bits & COOKIE_TS_NO_WSCALE;
		t->ts_ok = true;
		t->ts_recent = o->ts_val;
		t->ts_recent_age = s->now;
		t->ts_recent_valid = true;
		us_tcp_ts_clock(t);
		t->ts_first = o->ts_ecr;
		t->wscale_ok = t->want_wscale && ws != COOKIE_TS_NO_WSCALE;
		if (t->wscale_ok) {
			t->snd_wscale = (uint8_t)(ws > US_TCP_MAX_WSCALE ? US_TCP_MAX_WSCALE : ws);
			t->rcv_wscale = us_tcp_our_wscale(t);
		}
		t->sack_ok = t->want_sack && (bits & COOKIE_TS_SACK);
		t->ecn_ok = t->want_ecn && (bits & COOKIE_TS_ECN);
	}
	t->last_rcv = s->now;
	us_tcp_set_state(t, US_TCP_SYN_RCVD, "SYN cookie returned");
	us_tcp_arm_rexmt(t);
	return t;
}

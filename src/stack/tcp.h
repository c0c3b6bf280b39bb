/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - TCP (RFC 9293) inside the core: the Transmission Control Block
 * and what the four TCP files share.
 *
 *   tcp.c         the user calls of RFC 9293 §3.10.1-3.10.6 (OPEN, SEND,
 *                 RECEIVE, CLOSE, ABORT, STATUS), set_state(), the tables
 *                 that find a TCB (demultiplexing), the listener's queues,
 *                 ISNs (RFC 6528) and ephemeral ports (RFC 6056)
 *   tcp_input.c   SEGMENT ARRIVES (RFC 9293 §3.10.7): CLOSED, LISTEN and
 *                 SYN_SENT first, then the numbered steps for the others
 *   tcp_output.c  what to send now: data within the windows, SYN, FIN,
 *                 ACKs (Nagle, sender SWS avoidance), and RSTs without a TCB
 *   tcp_timer.c   the timers (RFC 9293 §3.10.8, RFC 6298, RFC 1122
 *                 §4.2.2.17, §4.2.3.6), RTT estimation, congestion control
 *                 (RFC 5681, RFC 6582, RFC 6928)
 *   tcp_cc.c      congestion control: NewReno, CUBIC and HyStart++
 *   tcp_cookie.c  SYN cookies (RFC 4987 §3.6) for a full SYN queue
 *   tcp_ecn.c     Explicit Congestion Notification (RFC 3168 §6.1)
 *   tcp_opt.c     the options of modern TCP (docs/tcp-modern.md): window
 *                 scaling, timestamps and PAWS (RFC 7323), SACK blocks and
 *                 D-SACK (RFC 2018, RFC 2883), the SACK scoreboard and RFC
 *                 6675 loss recovery
 *
 * Read first: RFC 9293 §3.3 (the state diagram, the variables), then
 * docs/tcp.md, then tcp_input.c from us_tcp_input4() down.
 *
 * Buffers. Each connection has two byte rings, each allocated once, when
 * first needed (never per segment): the receive ring with the first data
 * that arrives, the send ring with the first SEND, so a connection that
 * moves no data costs its TCB only. The send ring holds every byte the user
 * wrote that the peer has not acknowledged, from SND.UNA on: what is in
 * flight and what waits, so retransmission reads from it like first
 * transmission. A segment is cut from the ring at send time in any size up
 * to the MSS (or, with offloads, 64 KB): nothing here assumes one frame.
 * The receive ring holds bytes ready for the user, and beyond them, at
 * their place in the window, out-of-order bytes waiting for the gap before
 * them (tracked as a few sequence ranges): the window the peer sees is
 * the ring's free space, so out-of-order data never needs more memory.
 */
#ifndef USTACK_TCP_H
#define USTACK_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

#include "ip.h"
#include "ip6.h"
#include "sock.h"

struct us_stack;
struct us_iface;
struct us_ipv4_hdr;
struct us_ipv6_hdr;
struct us_tcp_hdr;
struct us_tcp_opts;

/* Socket buffer sizes when the user sets none. Linux's tcp_rmem and
 * tcp_wmem defaults are 131072 and 16384, grown by autotuning up to 6 MB
 * and 4 MB. We have no autotuning, so the fixed size is the window: with
 * window scaling (RFC 7323) a 256 KB ring lets 256 KB be in flight, enough
 * for 100 Mbit/s at 20 ms of RTT (the bandwidth-delay product is 250 KB),
 * where 64 KB capped the same path at 26 Mbit/s. During SACK recovery the
 * receiver holds everything above a hole, so a larger ring also means a
 * loss does not close the window. The ring is malloc()ed once per
 * connection; untouched pages of it cost no memory. */
#define US_TCP_RCVBUF_DEFAULT 262144u
#define US_TCP_SNDBUF_DEFAULT 262144u

/* RFC 9293 §3.7.1 (MUST-15): without an MSS option, "the default of 536". */
#define US_TCP_DEFAULT_MSS 536
/* The window field (unscaled: the SYN's, or without window scaling). */
#define US_TCP_MAX_WIN 65535u
/* RFC 7323 §5.5: "If a connection remains idle for more than 24 days ...
 * TS.Recent ... MUST be considered invalid" for PAWS. */
#define US_TCP_PAWS_IDLE US_SEC(24 * 24 * 3600)
/* SACKed ranges the sender remembers per connection (the scoreboard's
 * bounded memory): beyond it the highest ones are forgotten, which is
 * safe (that data may only be sent again). */
#define US_TCP_SACK_RANGES 16
/* RFC 6675 §2: "DupThresh ... 3". */
#define US_TCP_DUPTHRESH 3
/* RFC 8985 §7.2: "WCDelAckT stands for worst case delayed ACK timer ...
 * The RECOMMENDED value for WCDelAckT is 200ms". */
#define US_TCP_WCDELACK US_MSEC(200)

/* RFC 6298 §2.1: "Until a round-trip time (RTT) measurement has been made
 * ... the sender SHOULD set RTO <- 1 second". */
#define US_TCP_RTO_INIT US_SEC(1)
/* Deviation: RFC 6298 §2.4 says "RTO SHOULD be rounded up to 1 second";
 * we use Linux's 200 ms (TCP_RTO_MIN), as RFC 6298 §2.4's own note on
 * lower values allows for with fine-grained clocks. */
#define US_TCP_RTO_MIN US_MSEC(200)
/* RFC 6298 §2.5: "A maximum value MAY be placed on RTO provided it is at
 * least 60 seconds." */
#define US_TCP_RTO_MAX US_SEC(60)
/* RFC 1122 §4.2.3.5: R2 for a SYN "MUST be set large enough to provide
 * retransmission of the SYN for at least 3 minutes". Deviation: 6 retries
 * (Linux's tcp_syn_retries), sent at 1, 3, 7, 15, 31 and 63 s, and the
 * attempt fails 60 s (the RTO cap) after the last: at 123 s. */
#define US_TCP_SYN_RETRIES 6
#define US_TCP_SYNACK_RETRIES 5
/* R2 for data: 12 consecutive timeouts (about 9 minutes with the 60 s
 * cap; RFC 1122 §4.2.3.5: "at least 100 seconds"). */
#define US_TCP_DATA_RETRIES 12
/* Within a batch of received frames (us_stack_batch_begin()), the ACK
 * for every second full-sized segment waits for the batch's end, but for
 * no more than this many unacknowledged bytes: Linux's GRO merges at most
 * 64 KB into one packet, which its TCP then acknowledges at once. */
#define US_TCP_BATCH_ACK_MAX 65536u
/* RFC 1122 §4.2.3.2: an ACK "MUST NOT be excessively delayed; in
 * particular, the delay MUST be less than 0.5 seconds"; Linux's minimum
 * delayed ACK is 40 ms. */
#define US_TCP_DELACK US_MSEC(40)
/* The persist timer's ceiling (RFC 1122 §4.2.2.17 asks for exponential
 * backoff; the cap is Linux's TCP_RTO_MAX). */
#define US_TCP_PERSIST_MAX US_SEC(60)
/* RFC 1122 §4.2.3.6: keep-alive "MUST default to no less than two hours". */
#define US_TCP_KEEPIDLE_DEFAULT 7200
#define US_TCP_KEEPINTVL_DEFAULT 75
#define US_TCP_KEEPCNT_DEFAULT 9
/* Deviation: an orphaned FIN_WAIT_2 (the user closed; the peer never
 * sends its FIN) would last forever per RFC 9293; like Linux's
 * tcp_fin_timeout we give it 60 s. */
#define US_TCP_FIN_WAIT_2_TIMEOUT US_SEC(60)
/* RFC 5961 §7: challenge ACKs per second, for the whole stack. */
#define US_TCP_CHALLENGE_ACK_LIMIT 100
/* Endpoints at once, orphans and TIME_WAIT included (-ENOBUFS beyond). */
#define US_TCP_MAX_CONNS 16384
/* Out-of-order ranges remembered per connection; a segment that would need
 * more is dropped (the sender sends it again). */
#define US_TCP_OOO_RANGES 8

#define US_TCP_CONN_BUCKETS 1024 /* connections, by 4-tuple */
#define US_TCP_PORT_BUCKETS 256  /* endpoints holding a local port */

/*
 * Congestion control (tcp_cc.c): one of these per algorithm; a TCB points
 * to its own. Fast recovery itself (RFC 6582, RFC 6675) is common code in
 * tcp_timer.c and tcp_opt.c; an algorithm says how the window grows and
 * how far it falls.
 */
struct us_tcp;
struct us_tcp_cc_ops {
	const char *name;
	/* The connection is established (cwnd is the initial window), or
	 * the algorithm was switched: its own state starts afresh. */
	void (*init)(struct us_tcp *t);
	/* An ACK of acked new bytes, outside recovery, while cwnd is
	 * validated (RFC 7661): grow cwnd. */
	void (*on_ack)(struct us_tcp *t, uint32_t acked, uint32_t mss);
	/* An RTT sample (µs); may be NULL. */
	void (*on_rtt)(struct us_tcp *t, us_time_t rtt);
	/* A loss: three duplicate ACKs, SACK, a loss probe, or (the first)
	 * retransmission timeout. Returns the new ssthresh; the caller sets
	 * cwnd (ssthresh in recovery, one segment after a timeout). */
	uint32_t (*on_congestion)(struct us_tcp *t, uint32_t mss);
	/* Sending resumes after idle µs with nothing in flight. */
	void (*after_idle)(struct us_tcp *t, us_time_t idle);
};

/* A byte ring. */
struct us_tcp_ring {
	uint8_t *buf; /* cap bytes, allocated when the connection is set up */
	uint32_t cap;
	uint32_t head; /* index of the first byte */
	uint32_t len;  /* bytes in the ring */
};

/* The four numbers of a connection, addresses in IPv6 form (IPv4 ones are
 * IPv4-mapped, RFC 4291 §2.5.5.2) so that one comparison fits both. */
struct us_tcp_tuple {
	struct us_ip6 laddr, raddr;
	uint16_t lport, rport;
};

/*
 * The route cache: where the connection's segments go (interface, next
 * hop, path MTU; for IPv4 also the Identification counter), looked up
 * when the sequence starts and again only when the stack's routing inputs
 * changed since (gen != s->route_gen: an address, route, default router,
 * prefix, link or path MTU came, went or changed; stack.h,
 * us_routes_changed()). tcp_output.c, us_tcp_route().
 */
struct us_tcp_route {
	uint32_t gen; /* s->route_gen when looked up; 0: nothing cached */
	union {
		struct us_ip_path v4;  /* t->v4 */
		struct us_ip6_path v6; /* otherwise */
	};
};

/* The Transmission Control Block (RFC 9293 §3.3.1). Mind its size (1048
 * bytes on x86-64; keep new fields in the holes of the layout): at 1001 to
 * 1016, glibc's malloc places TCBs exactly 1024 bytes apart and walks over
 * them thrash the cache (docs/tcp.md, "The timers"). */
struct us_tcp {
	struct us_stack *s;
	struct us_tcp *next_all, *prev_all; /* every TCB of the stack */
	struct us_tcp *hnext;               /* its 4-tuple's bucket, once connected */
	struct us_tcp *pnext;               /* its local port's bucket, while bound */
	bool in_conn_hash, in_port_hash;
	uint16_t conn_bucket;               /* its 4-tuple's bucket (in_conn_hash) */

	enum us_tcp_state state; /* written only by us_tcp_set_state() */
	int family;              /* the socket's: US_AF_INET or US_AF_INET6 */
	bool v4;                 /* the connection runs over IPv4 */
	bool bound;
	struct us_tcp_tuple tu;  /* local part from bind, remote from connect */
	int ifindex;             /* the interface (-1: by route) */
	uint16_t adv_mss;        /* the MSS we announced */
	struct us_tcp_route route; /* the route cache (above) */

	struct us_sock_opts opt;
	bool nodelay;
	bool keepalive;
	uint32_t keepidle_s, keepintvl_s, keepcnt;
	int linger_s; /* -1: off */

	us_sock_event_fn ev; /* NULL for orphans and unaccepted children */
	void *ev_ctx;
	int error;         /* pending error (negative errno) for the user */
	int soft_error;    /* last ICMP soft error, reported on timeout */
	bool orphan;       /* the user closed it: the core frees it at CLOSED */
	bool shut_rd;      /* the user wants no more data */
	bool fin_queued;   /* CLOSE or shutdown(SHUT_WR): FIN after the ring */
	bool eof;          /* the peer's FIN is in (RCV.NXT covers it) */
	bool was_connected;

	/* The listener's two queues (RFC 9293 §3.10.7.2 leaves them to us). */
	struct us_tcp *listener;         /* a child: its listener, until accepted */
	struct us_tcp *qnext, *qprev;    /* a child: in its listener's queue */
	bool in_accept_q;                /* a child: completed, waiting for accept */
	uint32_t serial; /* creation order: equal deadlines fire newest first (tcp_timer.c) */
	struct us_tcp *synq, *synq_tail, *acceptq, *acceptq_tail;
	uint32_t syn_len, accept_len;
	int backlog;
	bool syncookies;          /* a full SYN queue sends cookies (tcp_cookie.c) */
	bool cookies_sent;        /* ... and did, last at cookie_sent_at */
	us_time_t cookie_sent_at;

	/* Send sequence variables (RFC 9293 §3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t snd_max;     /* highest sequence sent plus one (BSD's snd_max) */
	uint32_t max_snd_wnd; /* largest window the peer offered */
	uint32_t snd_buf_seq; /* sequence number of the send ring's first byte */
	uint16_t peer_mss;    /* from the peer's MSS option, or 536 */
	struct us_tcp_ring sndq;

	/* Receive sequence variables. */
	uint32_t irs, rcv_nxt;
	uint32_t rcv_adv;   /* right edge of the window we last announced */
	uint32_t rcv_acked; /* RCV.NXT last acknowledged */
	struct us_tcp_ring rcvq;
	/* Out-of-order ranges, the most recently changed first: they are
	 * also the SACK blocks we report (RFC 2018 §4). */
	uint8_t n_ooo;
	struct {
		uint32_t start, end;
	} ooo[US_TCP_OOO_RANGES];
	/* RFC 2883: a duplicate to report once in the first SACK block. */
	bool dsack_pending;
	uint32_t dsack_start, dsack_end;

	/* Options (tcp_opt.c): what we offer (from the stack and the socket
	 * options) and what the handshake agreed. */
	bool want_wscale, want_ts, want_sack;
	bool wscale_ok;
	uint8_t snd_wscale; /* RFC 7323 Snd.Wind.Shift: the peer's windows << it */
	uint8_t rcv_wscale; /* Rcv.Wind.Shift: our windows >> it */
	bool ts_ok;         /* Snd.TS.OK */
	uint32_t ts_offset; /* added to our millisecond clock (RFC 7323 §5.4) */
	uint32_t ts_recent; /* TS.Recent */
	us_time_t ts_recent_age; /* when TS.Recent was set (§5.5) */
	bool ts_recent_valid;
	uint32_t ts_first;  /* the TSval of our SYN: older echoes are bogus */
	bool sack_ok;

	/* ECN (RFC 3168 §6.1, tcp_ecn.c). */
	bool want_ecn;         /* offer (SYN) or accept (SYN-ACK) ECN */
	bool ecn_syn_fallback; /* our SYN went again without ECE and CWR (§6.1.1.1) */
	bool ecn_ok;           /* negotiated: new data leaves ECT(0) */
	bool ecn_ce_echo;      /* receiver: CE seen, ECE on every ACK until a CWR */
	bool ecn_cwr_pending;  /* sender: CWR on the next new data segment */
	bool ecn_in_cwr;       /* sender: cwnd reduced for an ECE in this window */
	bool ecn_ece_ack;      /* the ACK being processed carries ECE */
	uint32_t ecn_high;     /* SND.MAX at the last window reduction */
	uint64_t ecn_ce_rcvd, ecn_reductions;

	/* The SACK scoreboard (RFC 6675 §3): SACKed ranges above SND.UNA,
	 * sorted by sequence, disjoint. */
	uint8_t n_sacked;
	struct {
		uint32_t start, end;
	} sacked[US_TCP_SACK_RANGES];
	uint32_t high_rxt;   /* HighRxt */
	uint32_t rescue_rxt; /* RescueRxt */
	bool rescue_valid;
	uint32_t pipe;       /* the last SetPipe() */
	bool ack_dsack;      /* the ACK being processed carried a D-SACK */

	/* Tail Loss Probe (RFC 8985 §7, tcp_timer.c). */
	bool tlp_rxt_out;      /* TLPRxtOut: a retransmitted probe is out */
	bool tlp_rtt_ok;       /* an RTT sample since the last probe (§7.3) */
	uint32_t tlp_high_rxt; /* TLPHighRxt: SND.NXT when it left */
	uint32_t tlp_seq;      /* where the retransmitted probe began */
	uint64_t tlp_probes, tlp_recoveries;

	/* Congestion control (RFC 5681, RFC 6582, tcp_cc.c), bytes. */
	const struct us_tcp_cc_ops *cc;
	enum us_tcp_cc_algo cc_algo;
	struct {
		/* CUBIC (RFC 9438 §4) */
		uint32_t w_max, cwnd_epoch, w_est;
		us_time_t epoch_start; /* US_TIME_NEVER: no epoch */
		us_time_t k;
		/* HyStart++ (RFC 9406 §4) */
		bool css, hystart_done;
		uint32_t css_rounds, rtt_samples, window_end;
		us_time_t last_round_min_rtt, cur_round_min_rtt, css_baseline_min_rtt;
	} cubic;
	/* RFC 7661 congestion window validation. */
	uint32_t pipeack;          /* pipeACK: the largest sample of the period */
	uint32_t pipeack_acc;      /* bytes acked in the sample running */
	us_time_t pipeack_at;      /* when pipeack was taken */
	us_time_t pipeack_start;   /* ... since */
	us_time_t nvp_since;       /* in the non-validated phase since (NEVER: not) */
	us_time_t last_data_sent;  /* when data last left */
	uint32_t cwnd, ssthresh;
	uint32_t ca_acked;         /* NewReno: bytes acked towards the next SMSS (RFC 3465) */
	uint32_t dupacks;
	bool in_recovery;
	uint32_t recover;

	/* RTT estimation (RFC 6298). */
	bool rtt_timing;
	bool have_rtt;
	uint32_t rtt_seq;
	us_time_t rtt_start;
	us_time_t srtt, rttvar, rto;
	uint32_t backoff;  /* RFC 6298 §5.5 doublings of the RTO, until a new sample */
	uint32_t timeouts; /* consecutive timeouts without an ACK of new data */
	uint32_t retransmits;
	uint64_t sack_blocks_rcvd, dsacks_rcvd, sack_blocks_sent;
	uint64_t fast_recoveries, rto_timeouts, paws_drops;

	/* Timers: absolute deadlines, US_TIME_NEVER when off. Read them
	 * freely; write them only with us_tcp_timer_set() (or
	 * us_tcp_cancel_timers()), which keeps the stack's timer heap in
	 * step (tcp_timer.c; tests/check-tcp-timer-writes.sh checks it). */
	us_time_t t_rexmt;   /* retransmission */
	us_time_t t_persist; /* zero-window probe */
	us_time_t t_keep;    /* keep-alive */
	us_time_t t_delack;  /* delayed ACK */
	us_time_t t_close;   /* TIME_WAIT, orphaned FIN_WAIT_2 */
	us_time_t t_tlp;     /* loss probe (PTO, RFC 8985 §7.2) */
	uint32_t persist_backoff;
	uint32_t keep_probes;
	us_time_t last_rcv;  /* when a segment last arrived */
	bool ack_now;        /* an ACK must leave with the next output */
	uint32_t heap_i;     /* its slot in the timer heap, US_TCP_NOT_QUEUED */
	/* In a batch of received frames (us_stack_batch_begin()): the ACK
	 * for every second full-sized segment waits for the batch's end, on
	 * the module's ack_owed list (tcp_input.c, defer_ack()). So does
	 * an ACK that would leave at once for a FIN or a window update
	 * (ack_deferred, us_tcp_defer_ack()), unless a segment carries it
	 * first: the reply the batch's callbacks send. */
	bool ack_owed;
	bool ack_deferred;
	struct us_tcp *ack_next;
};

/* One slot of the timer heap: a TCB and its earliest timer (kept here, so
 * that sifting reads the array only). */
struct us_tcp_timer_slot {
	us_time_t at;
	struct us_tcp *t;
};

/* The six timers, for us_tcp_timer_set(). */
enum us_tcp_timer {
	US_TCP_T_REXMT,
	US_TCP_T_PERSIST,
	US_TCP_T_KEEP,
	US_TCP_T_DELACK,
	US_TCP_T_CLOSE,
	US_TCP_T_TLP,
};
#define US_TCP_NOT_QUEUED UINT32_MAX /* heap_i of a TCB with no timer running */
#define US_TCP_NEVER_QUEUED (UINT32_MAX - 1) /* ... of one that is not in s->tcp.all */

struct us_tcp_module {
	struct us_tcp *all;
	uint32_t n_conns;
	struct us_tcp *conns[US_TCP_CONN_BUCKETS];
	/* The connection the last segment's lookup found (tcp.c,
	 * us_tcp_lookup()): always one in conns, forgotten when it leaves. */
	struct us_tcp *last_hit;
	/* The last 4-tuple hashed and its bucket: a lookup that missed and
	 * the insert after it (a SYN making a child) hash once. */
	struct us_tcp_tuple memo_tu;
	uint16_t memo_bucket;
	bool memo_valid;
	struct us_tcp *ports[US_TCP_PORT_BUCKETS];
	uint64_t eph_draws;
	us_time_t challenge_second; /* RFC 5961 §7 rate limit: current second */
	uint32_t challenge_count;
	/* The timer heap (tcp_timer.c): every TCB with a timer running, a
	 * binary min-heap on its earliest timer, so that the next deadline
	 * is heap[0].at and a poll visits only the TCBs that are due. Room
	 * for every TCB is kept (heap_cap >= n_conns), so arming a timer
	 * never allocates. */
	struct us_tcp_timer_slot *heap;
	uint32_t heap_len, heap_cap;
	uint32_t serial; /* the last TCB's serial */
	struct us_tcp *ack_owed; /* TCBs owing an ACK at the end of the batch */
};

/* A received segment, as the state machine sees it. */
struct us_tcp_seg {
	const struct us_tcp_hdr *h;
	struct us_tcp_tuple tu; /* from our point of view: l = its destination */
	bool v4;
	int ifindex;
	uint32_t seq, ack, wnd;
	uint32_t seq_in; /* SEG.SEQ as it arrived, before trimming */
	uint8_t flags;
	uint8_t ip_ecn;  /* the IP header's ECN field (US_IP_ECN_*) */
	const uint8_t *data;
	uint32_t len; /* data bytes (SEG.LEN without SYN and FIN) */
	/* A segment with data has its checksum checked by segment_arrives()
	 * (tcp_input.c csum_check()), before anything acts on it, over raw
	 * (the TCP header and data, raw_len bytes) and pseudo: so that data
	 * for the receive ring is summed while it is copied there. */
	const uint8_t *raw;
	uint32_t raw_len;
	uint32_t pseudo;
	bool csum_pending; /* not checked yet */
	bool staged;       /* its data is in the receive ring's free space already */
};

/* The sequence number after the last byte written: the send ring holds
 * [snd_buf_seq, us_tcp_snd_end()); a queued FIN is at us_tcp_snd_end(). */
static inline uint32_t us_tcp_snd_end(const struct us_tcp *t)
{
	return t->snd_buf_seq + t->sndq.len;
}

/* Is our FIN sent and acknowledged? */
static inline bool us_tcp_fin_acked(const struct us_tcp *t)
{
	return t->fin_queued && t->sndq.len == 0 && (int32_t)(t->snd_una - t->snd_buf_seq) > 0;
}

/* ---- tcp.c ---- */
/* SipHash-2-4 under the stack secret of: tag (4 bytes, or none when NULL),
 * the two addresses, the two ports (when ports), then up to
 * US_TCP_HASH_EXTRA_MAX bytes of extra: the one keyed hash behind the
 * connection table, ISNs (RFC 6528), ephemeral ports (RFC 6056), SYN
 * cookies and timestamp offsets, told apart by their tags. */
#define US_TCP_HASH_EXTRA_MAX 8
uint32_t us_tcp_keyed_hash(const struct us_stack *s, const char *tag,
			   const struct us_tcp_tuple *tu, bool ports, const uint8_t *extra,
			   size_t extra_len);
void us_tcp_init(struct us_stack *s);
void us_tcp_fini(struct us_stack *s);
/* The only writer of t->state: reports "SYN_SENT -> ESTABLISHED (why)"
 * through the trace hook and tells the user. */
void us_tcp_set_state(struct us_tcp *t, enum us_tcp_state st, const char *why);
/* Tell the user what holds now (the event callback). */
void us_tcp_notify(struct us_tcp *t);
/* The connection is over: CLOSED with err (0 for a normal end) for the
 * user; the core frees an orphan or an unaccepted child here (true:
 * t is gone). */
bool us_tcp_drop(struct us_tcp *t, int err, const char *why);
/* TCB for a segment (over IPv4: v4): the connection, or NULL. */
struct us_tcp *us_tcp_lookup(struct us_stack *s, const struct us_tcp_tuple *tu, bool v4);
/* The listener for a segment to lport at laddr, or NULL. */
struct us_tcp *us_tcp_find_listener(struct us_stack *s, const struct us_tcp_tuple *tu, bool v4);
/* A child of listener l for the SYN seg (or, cookie: for the ACK of a
 * valid SYN cookie, beyond the SYN queue's bound), in its SYN queue. NULL:
 * dropped, counted. */
struct us_tcp *us_tcp_new_child(struct us_tcp *l, const struct us_tcp_seg *seg, bool cookie);
/* What a child takes from its listener and the segment: options, tuple,
 * interface, the MSS we announce. */
void us_tcp_child_init(struct us_tcp *t, const struct us_tcp *l, const struct us_tcp_seg *seg);
/* The SYN queue's bound. */
uint32_t us_tcp_synq_max(const struct us_tcp *l);
/* RFC 4987 §3.4: drop the oldest half-open child; false if none. */
bool us_tcp_synq_early_drop(struct us_tcp *l);
/* A child reached ESTABLISHED: false when the accept queue is full. */
bool us_tcp_child_established(struct us_tcp *t);
/* The receive ring's size (SO_RCVBUF until the ring exists: a
 * half-open connection has none yet) and its free space. */
uint32_t us_tcp_rcv_cap(const struct us_tcp *t);
/* Gives t its receive ring if it has none yet: 0 or -ENOMEM. */
int us_tcp_rcv_ring(struct us_tcp *t);
uint32_t us_tcp_rcv_space(const struct us_tcp *t);
void us_tcp_ring_drop(struct us_tcp_ring *r, uint32_t n);
void us_tcp_ring_read(const struct us_tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n);
void us_tcp_ring_write(struct us_tcp_ring *r, uint32_t off, const uint8_t *in, uint32_t n);
/* us_tcp_ring_read() and us_tcp_ring_write() that also return the bytes'
 * partial sum added to sum (wire/checksum.h, us_csum_copy): copied and
 * summed in one pass, across the wrap (which may fall at an odd offset). */
uint32_t us_tcp_ring_read_csum(const struct us_tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n,
			       uint32_t sum);
uint32_t us_tcp_ring_write_csum(struct us_tcp_ring *r, uint32_t off, const uint8_t *in, uint32_t n,
				uint32_t sum);
bool us_tcp_is_synchronized(enum us_tcp_state st);

/* ---- tcp_input.c ---- */
int us_tcp_input4(struct us_stack *s, struct us_iface *ifc, const struct us_ipv4_hdr *ip,
		  bool link_bcast);
int us_tcp_input6(struct us_stack *s, struct us_iface *ifc, const struct us_ipv6_hdr *ip,
		  const uint8_t *seg, size_t len, bool link_mcast);
void us_tcp_icmp_error4(struct us_stack *s, uint8_t type, uint8_t code,
			const struct us_ipv4_hdr *q);
void us_tcp_icmp_error6(struct us_stack *s, uint8_t type, uint8_t code,
			const struct us_ipv6_hdr *q, const uint8_t *upper, size_t len);
/* The batch of received frames is over: each connection on the ack_owed
 * list sends the one ACK it still owes (us_stack_batch_end()). */
void us_tcp_batch_end(struct us_stack *s);
/* t goes: off the ack_owed list. */
void us_tcp_batch_forget(struct us_tcp *t);
/* In a batch: the ACK t must send now waits for the batch's end, where it
 * leaves unless a segment carried it meanwhile; true. Outside a batch:
 * false, the caller sends it. */
bool us_tcp_defer_ack(struct us_tcp *t);

/* ---- tcp_output.c ---- */
/* Sends what the windows, Nagle and SWS avoidance allow, and an ACK when one
 * is owed. */
void us_tcp_output(struct us_tcp *t);
/* One segment of t: len bytes from seq (taken from the send ring), flags;
 * SYNs carry the MSS option. 0 or a negative errno. */
int us_tcp_send_segment(struct us_tcp *t, uint32_t seq, uint32_t len, uint8_t flags);
/* A reset to the peer of a connection that ends (ABORT, RFC 9293
 * §3.10.5: <SEQ=SND.NXT><CTL=RST>, SND.NXT being the highest sent),
 * counted. */
void us_tcp_send_rst(struct us_tcp *t);
/* An ACK now (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>). */
void us_tcp_send_ack(struct us_tcp *t);
/* RFC 5961 §7: a challenge ACK, within the stack's rate limit. */
void us_tcp_challenge_ack(struct us_tcp *t);
/* An RST (or RST+ACK) to the segment seg, which no TCB takes or which a TCB
 * refuses (RFC 9293 §3.10.7.1). */
void us_tcp_reset_reply(struct us_stack *s, const struct us_tcp_seg *seg);
/* The connection's route (the route cache, struct us_tcp_route), looked
 * up again when the stack's routes changed; NULL when there is none. */
const struct us_tcp_route *us_tcp_route(struct us_tcp *t);
/* The MSS we send with: the peer's, clamped to the path MTU (from the
 * route cache while it is current). */
uint32_t us_tcp_send_mss(const struct us_tcp *t);
/* The window to announce now (receiver SWS avoidance, never shrinking). */
uint32_t us_tcp_rcv_window(struct us_tcp *t);

/* ---- tcp_opt.c ---- */
/* A new TCB takes what it offers from the stack's configuration. */
void us_tcp_opt_defaults(struct us_tcp *t);
/* The options of our SYN or SYN-ACK (RFC 7323 §2.2, §3.2; RFC 2018 §2). */
void us_tcp_syn_options(struct us_tcp *t, struct us_tcp_opts *o, bool syn_ack);
/* Our window shift for t's receive buffer (RFC 7323 §2.3). */
uint8_t us_tcp_our_wscale(const struct us_tcp *t);
/* Our TSval now (sets up the connection's clock offset if needed). */
uint32_t us_tcp_ts_clock(struct us_tcp *t);
/* The options of any other segment: TSopt, SACK blocks on ACKs. */
void us_tcp_seg_options(struct us_tcp *t, struct us_tcp_opts *o, uint8_t flags);
/* Option bytes every non-SYN segment carries (the TSopt): taken off the
 * MSS (RFC 6691 §2). */
uint32_t us_tcp_fixed_opt_len(const struct us_tcp *t);
/* Bytes of SACK blocks the next segment will carry. */
uint32_t us_tcp_sack_opt_len(const struct us_tcp *t);
/* The peer's SYN (or SYN-ACK, active: true): what is agreed. */
void us_tcp_negotiate(struct us_tcp *t, const struct us_tcp_seg *seg, bool active);
/* The window field for a window of win bytes (scaled, RFC 7323 §2.3);
 * *announced gets what the peer will read back. */
uint16_t us_tcp_window_field(const struct us_tcp *t, uint32_t win, bool syn, uint32_t *announced);
/* RFC 7323 §5.3 R1 and §3.2 (a segment without TSopt): false when the
 * segment must be dropped (an ACK is then owed, t->ack_now). */
bool us_tcp_paws_ok(struct us_tcp *t, const struct us_tcp_seg *seg);
/* RFC 7323 §4.3 / §5.3 R3: an acceptable segment may update TS.Recent. */
void us_tcp_ts_update_recent(struct us_tcp *t, const struct us_tcp_seg *seg);
/* RFC 7323 §4.1: an RTT sample (µs) from the TSecr of an ACK of new
 * data; -1 when there is none. */
us_time_t us_tcp_ts_rtt(const struct us_tcp *t, const struct us_tcp_seg *seg);
/* RFC 2883: remember [start, end) as a duplicate to report. */
void us_tcp_dsack_note(struct us_tcp *t, uint32_t start, uint32_t end);
/* RFC 2018 §4 bookkeeping: the out-of-order range holding seq becomes the
 * most recent one. */
void us_tcp_ooo_touch(struct us_tcp *t, int i);
/* The peer's SACK blocks into the scoreboard (RFC 6675 Update()); true
 * when they SACKed data not SACKed before. */
bool us_tcp_sack_update(struct us_tcp *t, const struct us_tcp_seg *seg);
/* SND.UNA moved: forget what is below it. */
void us_tcp_sack_prune(struct us_tcp *t);
void us_tcp_sack_clear(struct us_tcp *t);
/* RFC 6675 IsLost(SND.UNA): the first hole is lost. */
bool us_tcp_sack_first_lost(const struct us_tcp *t);
/* RFC 6675 SetPipe(). */
uint32_t us_tcp_sack_pipe(const struct us_tcp *t);
/* RFC 6675 §5 (C): send while cwnd - pipe >= 1 SMSS, by NextSeg(). */
void us_tcp_sack_output(struct us_tcp *t);
/* Is the byte at seq SACKed? (retransmission after a timeout skips it) */
bool us_tcp_sack_has(const struct us_tcp *t, uint32_t seq, uint32_t *end);

/* ---- tcp_cc.c ---- */
const struct us_tcp_cc_ops *us_tcp_cc_ops(enum us_tcp_cc_algo algo);
/* Switches t to algo (enum us_tcp_cc_algo); -1 for an unknown one. */
int us_tcp_cc_set(struct us_tcp *t, int algo);
/* RFC 9438 §4.2, in bytes and µs (exported for the unit tests): K for a
 * window that fell from w_max to cwnd_epoch, and W_cubic(t). */
us_time_t us_tcp_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss);
uint32_t us_tcp_cubic_window(uint32_t w_max, us_time_t k, us_time_t t, uint32_t mss);

/* ---- tcp_cookie.c ---- */
/* RFC 4987 §3.6: answer the SYN seg to l with a SYN-ACK whose ISS is a SYN
 * cookie, keeping no state. */
void us_tcp_cookie_send(struct us_tcp *l, const struct us_tcp_seg *seg);
/* An ACK to l: if it returns a valid cookie, the child it makes (in
 * SYN_RCVD, the ACK still to be processed); NULL otherwise, with *keep
 * true when the cookie was good but no child could be made (the segment
 * is then dropped silently: the peer's retransmission may succeed). */
struct us_tcp *us_tcp_cookie_check(struct us_tcp *l, const struct us_tcp_seg *seg, bool *keep);

/* ---- tcp_ecn.c ---- */
/* The peer's SYN or SYN-ACK: is ECN on (RFC 3168 §6.1.1)? */
void us_tcp_ecn_negotiate(struct us_tcp *t, const struct us_tcp_seg *seg);
/* The connection is established (counts an ECN connection). */
void us_tcp_ecn_established(struct us_tcp *t);
/* A segment of len bytes at seq with flags is about to leave: returns its
 * flags with ECE and CWR as RFC 3168 §6.1 wants them, and *ecn the IP ECN
 * codepoint it carries. */
uint8_t us_tcp_ecn_out(struct us_tcp *t, uint32_t seq, uint32_t len, uint8_t flags,
		       uint8_t *ecn);
/* An acceptable segment arrived: CWR and CE (the receiver, §6.1.3). */
void us_tcp_ecn_input(struct us_tcp *t, const struct us_tcp_seg *seg);
/* An ACK arrived: ECE (the sender, §6.1.2), before the window grows;
 * true when it carries ECE (then the window must not grow on it). */
bool us_tcp_ecn_ack(struct us_tcp *t, const struct us_tcp_seg *seg);
/* The congestion window was reduced (a loss, a timeout, an ECE): CWR on
 * the next new data, and no reduction for ECE in this window again. */
void us_tcp_ecn_cwnd_reduced(struct us_tcp *t);

/* ---- tcp_timer.c ---- */
/* A reduction without a loss (RFC 3168 §6.1.2): ssthresh from the
 * algorithm, cwnd = ssthresh, nothing sent again. */
void us_tcp_cwnd_reduce(struct us_tcp *t);
/* Fires the timers that are due: only the TCBs at the top of the heap are
 * visited. */
void us_tcp_poll(struct us_stack *s);
/* The earliest deadline of every TCB: the top of the heap, O(1). */
us_time_t us_tcp_next_deadline(const struct us_stack *s);
/* A new TCB's timers (all off), its serial, and room for it in the heap:
 * 0 or -ENOMEM. Called before the TCB joins s->tcp.all. */
int us_tcp_timer_init(struct us_tcp *t);
/* Sets one timer (US_TIME_NEVER: off) and moves the TCB in the heap if
 * its earliest deadline changed: O(log n). */
void us_tcp_timer_set(struct us_tcp *t, enum us_tcp_timer which, us_time_t at);
/* For a TCB that is no connection of the stack (tcp_cookie.c builds one
 * on the C stack to send a SYN-ACK): timers off, and kept out of the heap
 * whatever it sets. */
void us_tcp_timer_detach(struct us_tcp *t);
/* The heap's memory, once every TCB is gone. */
void us_tcp_timer_fini(struct us_stack *s);
/* For the unit tests: true when the heap holds exactly the TCBs with a
 * timer running, each at its place, keyed on its earliest timer, and in
 * heap order. */
bool us_tcp_timer_heap_ok(const struct us_stack *s);
/* RFC 6298 §5.1: arm the retransmission timer with the current RTO. */
void us_tcp_arm_rexmt(struct us_tcp *t);
/* SND.UNA moved on by acked (SYN and FIN included; data_acked of it were
 * bytes of the send ring) to ack: RTT sample, congestion window, timers. */
void us_tcp_ack_advanced(struct us_tcp *t, uint32_t acked, uint32_t ack, uint32_t data_acked);
/* A duplicate ACK (RFC 5681 §2, RFC 6675 §2): fast retransmit and
 * recovery. */
void us_tcp_dupack(struct us_tcp *t);
/* An RTT sample of r µs (RFC 6298 §2); samples: how many the sender
 * expects per RTT (RFC 7323 Appendix G), 1 for classic timing. */
void us_tcp_rtt_sample(struct us_tcp *t, us_time_t r, uint32_t samples);
/* Arms the keep-alive timer from the last segment received. */
void us_tcp_arm_keepalive(struct us_tcp *t);
/* Starts TIME_WAIT's 2*MSL (again). */
void us_tcp_start_time_wait(struct us_tcp *t);
/* The persist timer's next interval (RFC 1122 §4.2.2.17). */
us_time_t us_tcp_persist_interval(const struct us_tcp *t);
/* All timers off: the TCB leaves the heap. */
void us_tcp_cancel_timers(struct us_tcp *t);
/* RFC 8985 §7.2: (re)start the loss probe timer after new data left or an
 * ACK of new data came, when the rules allow one (off otherwise). */
void us_tcp_arm_tlp(struct us_tcp *t);
/* RFC 8985 §7.4: an ACK at or beyond a retransmitted probe (advanced:
 * SND.UNA moved; sacked_new: it SACKed new data). */
void us_tcp_tlp_ack(struct us_tcp *t, uint32_t ack, bool advanced, bool sacked_new);
/* RFC 7661: sending data now; idle: nothing was in flight. */
void us_tcp_cwv_on_send(struct us_tcp *t);
/* The connection is established: the initial congestion window (RFC 5681
 * §3.1), one segment when the SYN or SYN-ACK had to be sent again. */
void us_tcp_start_cwnd(struct us_tcp *t);

#endif

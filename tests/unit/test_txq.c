/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_txq.c - the runtime's transmit queue (src/api/txq.c):
 * frames copied in under the caller's lock and written later, in order,
 * by whichever thread flushes. No RFC applies.
 *
 * Read first: src/api/txq.h. The write callback here records what it is
 * given (a sequence number and a checksum of the bytes, from the frame
 * itself), so order and content are checked for frames of every size
 * from 60 bytes to a 64 KB super-frame. The threaded cases bound their
 * loops by count; they sleep nowhere. The last case runs a runtime over
 * the in-memory link (on a clock that stands still) to see a refused
 * write reach the caller and the counters.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/memlink.h>
#include <ustack/ustack.h>

#include "txq.h"

#define BIG 65550u /* a super-frame: a 65,535-byte datagram behind Ethernet */

/* What the write callback saw. */
struct sink {
	pthread_mutex_t m;
	uint32_t next;       /* the sequence number expected next */
	uint32_t writes;
	uint32_t bad;        /* frames out of order or with wrong bytes */
	uint32_t fail_seq;   /* this frame's write fails (0: none does) */
	int fail_rc;
	/* A gate: the write of gate_seq waits until open (threaded cases). */
	uint32_t gate_seq;
	bool gate_reached, gate_open;
	pthread_cond_t cv;
};

static uint32_t sizes[] = { 60, 1514, 61, 9000, BIG, 128, 1514, 4000, 65, BIG, 1514, 777 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* Frame seq: its length from the table, its bytes from seq. */
static size_t frame_len(uint32_t seq)
{
	return sizes[seq % NSIZES];
}

static void frame_fill(uint8_t *b, size_t len, uint32_t seq)
{
	b[0] = (uint8_t)(seq >> 24);
	b[1] = (uint8_t)(seq >> 16);
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (size_t i = 4; i < len; i++)
		b[i] = (uint8_t)(seq * 31 + i * 7);
}

static int sink_write(void *ctx, const struct us_frame *f, us_time_t stamp)
{
	struct sink *k = ctx;
	uint32_t seq = (uint32_t)f->data[0] << 24 | (uint32_t)f->data[1] << 16 |
		       (uint32_t)f->data[2] << 8 | f->data[3];
	pthread_mutex_lock(&k->m);
	if (seq == k->gate_seq && k->gate_seq) {
		k->gate_reached = true;
		pthread_cond_broadcast(&k->cv);
		while (!k->gate_open)
			pthread_cond_wait(&k->cv, &k->m);
	}
	bool ok = seq == k->next && f->len == frame_len(seq) && stamp == (us_time_t)seq * 10 &&
		  f->gso_size == (uint16_t)seq;
	for (size_t i = 4; ok && i < f->len; i++)
		ok = f->data[i] == (uint8_t)(seq * 31 + i * 7);
	if (!ok)
		k->bad++;
	k->next = seq + 1;
	k->writes++;
	int rc = seq == k->fail_seq && k->fail_seq ? k->fail_rc : 0;
	pthread_mutex_unlock(&k->m);
	return rc;
}

static void sink_init(struct sink *k)
{
	memset(k, 0, sizeof *k);
	pthread_mutex_init(&k->m, NULL);
	pthread_cond_init(&k->cv, NULL);
	k->next = 1;
}

static void sink_fini(struct sink *k)
{
	pthread_mutex_destroy(&k->m);
	pthread_cond_destroy(&k->cv);
}

/* Pushes frame seq (stamp seq * 10, gso_size seq: checked by the sink);
 * what us_txq_push() said. */
static int push(struct us_txq *q, uint32_t seq, int *err)
{
	static uint8_t buf[BIG];
	size_t len = frame_len(seq);
	frame_fill(buf, len, seq);
	struct us_frame f = { .data = buf, .len = len, .gso_size = (uint16_t)seq };
	uint64_t ticket = 0;
	int rc = us_txq_push(q, &f, (us_time_t)seq * 10, err, &ticket);
	ck_assert_uint_eq(ticket, rc == 0 ? seq : 0); /* tickets count frames from 1 */
	return rc;
}

START_TEST(frames_of_every_size_leave_in_the_order_they_were_queued)
{
	struct sink k;
	sink_init(&k);
	struct us_txq q;
	ck_assert_int_eq(us_txq_init(&q, 1 << 20, 64, sink_write, &k), 0);
	uint32_t seq = 1;
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 5; i++)
			ck_assert_int_eq(push(&q, seq++, NULL), 0);
		ck_assert(us_txq_pending(&q));
		ck_assert_uint_eq(k.writes, (uint32_t)round * 5); /* nothing before the flush */
		us_txq_flush(&q, seq - 3); /* up to the 3rd of the 5: the rest come along */
		ck_assert(!us_txq_pending(&q));
	}
	ck_assert_uint_eq(k.writes, 100);
	ck_assert_uint_eq(k.bad, 0);
	us_txq_flush_all(&q); /* nothing queued: nothing written */
	us_txq_flush(&q, 50);
	ck_assert_uint_eq(k.writes, 100);
	us_txq_fini(&q);
	sink_fini(&k);
}
END_TEST

/* A frame that finds no room (arena or slots) is not lost: the pusher
 * writes everything queued, then it. */
START_TEST(a_full_queue_writes_through_after_what_is_queued)
{
	struct sink k;
	sink_init(&k);
	struct us_txq q;
	/* Room for two super-frames' bytes, or four frames. */
	ck_assert_int_eq(us_txq_init(&q, 2 * 65600, 4, sink_write, &k), 0);
	uint32_t seq = 1;
	int rc;
	while ((rc = push(&q, seq, NULL)) == 0)
		seq++;
	ck_assert_int_eq(rc, -ENOBUFS);
	ck_assert_uint_eq(k.writes, 0);
	uint8_t buf[BIG];
	frame_fill(buf, frame_len(seq), seq);
	struct us_frame f = { .data = buf, .len = frame_len(seq), .gso_size = (uint16_t)seq };
	ck_assert_int_eq(us_txq_write_through(&q, &f, (us_time_t)seq * 10), 0);
	ck_assert_uint_eq(k.writes, seq);
	ck_assert_uint_eq(k.bad, 0);
	ck_assert(!us_txq_pending(&q));
	ck_assert_uint_eq(atomic_load(&q.written_through), 1);
	/* The write's error comes back to the one writing through. */
	k.fail_seq = seq + 1;
	k.fail_rc = -EIO;
	frame_fill(buf, frame_len(seq + 1), seq + 1);
	f = (struct us_frame){ .data = buf, .len = frame_len(seq + 1), .gso_size = (uint16_t)(seq + 1) };
	ck_assert_int_eq(us_txq_write_through(&q, &f, (us_time_t)(seq + 1) * 10), -EIO);
	ck_assert_uint_eq(atomic_load(&q.failed), 0); /* the caller counts that one */
	us_txq_fini(&q);
	sink_fini(&k);
}
END_TEST

/* A queued frame whose write fails: its error goes where the pusher said,
 * and it counts as failed; the frames around it are written. */
START_TEST(a_failed_write_reports_to_its_pusher_and_is_counted)
{
	struct sink k;
	sink_init(&k);
	k.fail_seq = 2;
	k.fail_rc = -EAGAIN;
	struct us_txq q;
	ck_assert_int_eq(us_txq_init(&q, 1 << 20, 16, sink_write, &k), 0);
	int e1 = 0, e2 = 0;
	ck_assert_int_eq(push(&q, 1, &e1), 0);
	ck_assert_int_eq(push(&q, 2, &e2), 0);
	ck_assert_int_eq(push(&q, 3, &e2), 0);
	ck_assert_int_eq(push(&q, 4, NULL), 0);
	us_txq_flush_all(&q);
	ck_assert_int_eq(e1, 0);
	ck_assert_int_eq(e2, -EAGAIN);
	ck_assert_uint_eq(k.writes, 4);
	ck_assert_uint_eq(k.bad, 0);
	ck_assert_uint_eq(atomic_load(&q.failed), 1);
	us_txq_fini(&q);
	sink_fini(&k);
}
END_TEST

/* ---- Threads -------------------------------------------------------------- */

/* Producers share one lock (as threads share the core lock): push under
 * it, flush after it. */
struct prod {
	struct us_txq *q;
	pthread_mutex_t *core;
	uint32_t *seq; /* the next sequence number, under core */
	int frames;
	pthread_t t;
};

static void *producer_main(void *arg)
{
	struct prod *p = arg;
	static _Thread_local uint8_t buf[BIG];
	uint64_t mine = 0; /* the last frame this thread queued */
	for (int i = 0; i < p->frames;) {
		pthread_mutex_lock(p->core);
		/* A burst of 1 to 7 frames per "core call". */
		for (int b = 0; b < 1 + i % 7 && i < p->frames; b++, i++) {
			uint32_t seq = (*p->seq)++;
			size_t len = frame_len(seq);
			frame_fill(buf, len, seq);
			struct us_frame f = { .data = buf, .len = len, .gso_size = (uint16_t)seq };
			uint64_t t;
			if (us_txq_push(p->q, &f, (us_time_t)seq * 10, NULL, &t) == 0)
				mine = t;
			else
				ck_assert_int_eq(us_txq_write_through(p->q, &f, (us_time_t)seq * 10), 0);
		}
		pthread_mutex_unlock(p->core);
		us_txq_flush(p->q, mine);
		/* Its own frames are written when its flush returns. */
		ck_assert(atomic_load(&p->q->written) >= mine);
	}
	return NULL;
}

/* Three threads pushing bursts and flushing while others write: every
 * frame written once, in the order pushed, its bytes intact (the arena
 * wraps around many times; a small one makes some write through). */
START_TEST(threads_pushing_and_flushing_at_once_keep_the_order)
{
	struct sink k;
	sink_init(&k);
	struct us_txq q;
	ck_assert_int_eq(us_txq_init(&q, 2 * 65600 + 4096, 8, sink_write, &k), 0);
	pthread_mutex_t core = PTHREAD_MUTEX_INITIALIZER;
	uint32_t seq = 1;
	struct prod p[3];
	for (int i = 0; i < 3; i++) {
		p[i] = (struct prod){ .q = &q, .core = &core, .seq = &seq, .frames = 2000 };
		ck_assert_int_eq(pthread_create(&p[i].t, NULL, producer_main, &p[i]), 0);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(p[i].t, NULL);
	ck_assert(!us_txq_pending(&q));
	ck_assert_uint_eq(k.writes, 6000);
	ck_assert_uint_eq(k.bad, 0);
	ck_assert_uint_eq(atomic_load(&q.written), 6000 - atomic_load(&q.written_through));
	us_txq_fini(&q);
	pthread_mutex_destroy(&core);
	sink_fini(&k);
}
END_TEST

struct flusher {
	struct us_txq *q;
	pthread_t t;
	atomic_bool done;
};

static void *flusher_main(void *arg)
{
	struct flusher *f = arg;
	us_txq_flush_all(f->q);
	atomic_store(&f->done, true);
	return NULL;
}

/* Starts f: a thread flushing all of q. */
static void flusher_start(struct flusher *f, struct us_txq *q)
{
	f->q = q;
	atomic_init(&f->done, false);
	ck_assert_int_eq(pthread_create(&f->t, NULL, flusher_main, f), 0);
}

/* The start of the gate cases: k's gate on frame 1, q writing to k and
 * holding frames 1 to frames, and a thread a flushing them, held at the
 * gate as it writes frame 1. */
static void start_held_at_the_gate(struct sink *k, struct us_txq *q, uint32_t frames,
				   struct flusher *a)
{
	sink_init(k);
	k->gate_seq = 1;
	ck_assert_int_eq(us_txq_init(q, 1 << 20, 16, sink_write, k), 0);
	for (uint32_t seq = 1; seq <= frames; seq++)
		ck_assert_int_eq(push(q, seq, NULL), 0);
	flusher_start(a, q);
	pthread_mutex_lock(&k->m);
	while (!k->gate_reached)
		pthread_cond_wait(&k->cv, &k->m); /* a is writing frame 1 */
	pthread_mutex_unlock(&k->m);
}

/* Lets the write held at k's gate go on. */
static void open_the_gate(struct sink *k)
{
	pthread_mutex_lock(&k->m);
	k->gate_open = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->m);
}

/* A flush returns only once the frames queued before it are written, even
 * when another thread holds the write lock: B's frame, pushed while A
 * writes, is written before B's flush returns. */
START_TEST(a_flush_waits_for_the_thread_writing_and_for_its_own_frames)
{
	struct sink k;
	struct us_txq q;
	struct flusher a;
	start_held_at_the_gate(&k, &q, 1, &a);
	ck_assert_int_eq(push(&q, 2, NULL), 0);
	struct flusher b;
	flusher_start(&b, &q);
	open_the_gate(&k);
	pthread_join(b.t, NULL);
	ck_assert_uint_eq(k.writes, 2); /* B's flush saw frame 2 written */
	pthread_join(a.t, NULL);
	ck_assert_uint_eq(k.bad, 0);
	us_txq_fini(&q);
	sink_fini(&k);
}
END_TEST

/* us_txq_help(): a thread with nothing of its own to write writes what
 * waits when no one is writing, and does not wait when someone is. */
START_TEST(help_writes_what_waits_only_when_no_one_is_writing)
{
	struct sink k;
	struct us_txq q;
	struct flusher a;
	start_held_at_the_gate(&k, &q, 2, &a);
	ck_assert_int_eq(push(&q, 3, NULL), 0);
	us_txq_help(&q); /* A holds the write lock: back at once */
	pthread_mutex_lock(&k.m);
	ck_assert_uint_eq(k.writes, 0);
	pthread_mutex_unlock(&k.m);
	open_the_gate(&k);
	pthread_join(a.t, NULL);
	ck_assert_uint_eq(k.writes, 2); /* A wrote what was queued when it began */
	ck_assert(us_txq_pending(&q));
	us_txq_help(&q); /* no one writing: frame 3 leaves */
	ck_assert_uint_eq(k.writes, 3);
	ck_assert(!us_txq_pending(&q));
	ck_assert_uint_eq(k.bad, 0);
	us_txq_fini(&q);
	sink_fini(&k);
}
END_TEST

/* ---- Through the runtime --------------------------------------------------- */

static us_time_t fixed_clock(void *ctx)
{
	(void)ctx;
	return US_SEC(5);
}

struct link_counters {
	uint64_t out, errors;
};

static void read_counters(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	struct link_counters *c = arg;
	c->out = us_stack_counter(s, "eth.out_frames");
	c->errors = us_stack_counter(s, "eth.tx_errors");
}

/* The driver refuses a frame after the core lock was released (the
 * in-memory link's queue is full: -EAGAIN): a datagram send still says
 * ENOBUFS, as before the queue, and the frame counts as eth.tx_errors,
 * not eth.out_frames. */
START_TEST(a_refused_write_fails_the_datagram_send_and_is_counted)
{
	struct us_driver link, peer;
	struct us_memlink_options mo = { .queue_frames = 4 };
	ck_assert_int_eq(us_memlink_pair(&link, &peer, &mo), 0);
	struct us_runtime_config cfg = {
		.driver = link,
		.mac = { 0x02, 0, 0, 0, 0, 0x02 },
		.ipv4 = 0xc6336402,
		.ipv4_prefix = 24,
		.clock = { .now = fixed_clock, .is_virtual = true },
		.fixed_seed = true,
	};
	int err = 0;
	struct us_runtime *rt = us_runtime_start(&cfg, &err);
	ck_assert_msg(rt != NULL, "runtime did not start: %d", err);
	/* Empty the peer's queue of what coming up sent. */
	uint8_t buf[2048];
	while (peer.ops->recv(peer.ctx, buf, sizeof buf, NULL) > 0)
		;
	struct link_counters before, after;
	us_runtime_with_core(rt, read_counters, &before);

	int s = us_socket(rt, US_AF_INET, US_SOCK_DGRAM, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(us_setsockopt_int(s, US_SOL_SOCKET, US_SO_BROADCAST, 1), 0);
	struct us_addr to = { .family = US_AF_INET, .ip4 = 0xc63364ff, .port = 9 };
	int sent = 0, refused = 0;
	for (int i = 0; i < 6; i++) {
		errno = 0;
		ssize_t n = us_sendto(s, "x", 1, &to);
		if (n == 1)
			sent++;
		else if (n < 0 && errno == ENOBUFS)
			refused++;
	}
	ck_assert_int_eq(sent, 4); /* the peer's queue holds 4 */
	ck_assert_int_eq(refused, 2);
	us_runtime_with_core(rt, read_counters, &after);
	ck_assert_uint_eq(after.out - before.out, 4);
	ck_assert_uint_eq(after.errors - before.errors, 2);
	us_close(s);
	us_runtime_stop(rt);
	peer.ops->close(peer.ctx);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("txq");
	TCase *tc = tcase_create("txq");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, frames_of_every_size_leave_in_the_order_they_were_queued);
	tcase_add_test(tc, a_full_queue_writes_through_after_what_is_queued);
	tcase_add_test(tc, a_failed_write_reports_to_its_pusher_and_is_counted);
	tcase_add_test(tc, threads_pushing_and_flushing_at_once_keep_the_order);
	tcase_add_test(tc, a_flush_waits_for_the_thread_writing_and_for_its_own_frames);
	tcase_add_test(tc, help_writes_what_waits_only_when_no_one_is_writing);
	tcase_add_test(tc, a_refused_write_fails_the_datagram_send_and_is_counted);
	suite_add_tcase(s, tc);
	return s;
}

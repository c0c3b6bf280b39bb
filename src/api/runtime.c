/* SPDX-License-Identifier: MIT */
/*
 * runtime.c - one thread that drives the core: it waits on the driver's
 * descriptor and an eventfd, with the core's next deadline as its timeout.
 *
 *   loop:  lock; poll the core at now; read its next deadline;
 *          (virtual clock moved: wake the socket calls waiting on it); unlock
 *          ppoll(driver fd, wake eventfd; timeout = deadline - now)
 *          for each frame the driver has: lock; capture; us_stack_input(); unlock
 *
 * Frames leave through transmit_frame(), which the core calls with the lock
 * held: it copies the frame into the transmit queue (txq.h), stamped with
 * the time the core was given. Whoever released the core lock then writes
 * what it queued (us_runtime_unlock(): capture, then the driver's
 * transmit), in the core's order, with the core lock free: the stack
 * thread what input and timers sent, an application thread what its
 * socket call sent (txq.h: frames queued before them come along). Sockets (socket.c) call into the same core under
 * the same lock from the application's threads.
 *
 * Also here: the process's default runtime, the bookkeeping that lets
 * us_runtime_stop() wake and drain the socket calls before it frees
 * anything (runtime_impl.h explains the two locks), and the resolver's
 * configuration (hosts table and name server, copied at start).
 *
 * Busy polling (us_runtime_config.busy_poll_us, docs/performance.md; as
 * Linux's net.core.busy_poll and SO_BUSY_POLL): waking a sleeping thread
 * costs tens of microseconds on a VM whose idle vCPU halts, more than a
 * small request takes to serve. With a budget set, the stack thread, within
 * busy_poll_us of the last frame received or sent, keeps reading the
 * driver without sleeping (stack_busy_poll()), and a socket call that
 * would wait spins for up to the same time first (socket.c's
 * busy_wait()), reading the driver itself when no other thread is. Frames
 * are read under rx_lock, by one thread at a time, so they enter the core
 * in order. Every spin ends busy_poll_us after the last frame at the
 * latest; an idle stack sleeps exactly as without it.
 *
 * Offloads (us_runtime_config.offloads, docs/performance.md): the TAP
 * device is opened with a virtio-net header, the interface takes what the
 * driver granted, and received frames go in with what the header said
 * (us_stack_input_meta). The capture records frames as they cross the
 * driver, super-frames whole; a partial checksum is completed in the
 * captured copy (capture_frame()), so that Wireshark reads it as valid.
 *
 * Read docs/architecture.md first, then runtime_impl.h.
 */
#include <ustack/ustack.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <ustack/capture.h>
#include <ustack/tap.h>

#include "runtime_impl.h"
#include "socket_impl.h"
#include "wire/bytes.h"
#include "wire/checksum.h"

/* Frames read in one go before the loop looks at timers and the wake fd. */
#define RX_BATCH 64
/* The transmit queue: what one core call may send before the first write
 * (a 256 KB send window in full-sized frames, or four 64 KB super-frames,
 * fits twice). Beyond it frames are written with the core lock held. */
#define TXQ_BYTES (1024u * 1024u)
#define TXQ_FRAMES 1024u

/* RFC 1035 §4.2.1: "Messages sent using UDP user server port 53". */
#define DNS_PORT 53
#define DNS_DEFAULT_TIMEOUT 2.0
#define DNS_DEFAULT_TRIES 3

/* The largest busy-poll budget taken: one second (a spin is bounded). */
#define BUSY_POLL_MAX_US 1000000
/* A spinning stack thread yields its CPU once every this many turns, so
 * that a thread woken on the same CPU (the peer's, on a small machine)
 * runs at once: the scheduler (EEVDF, Linux 6.6 on) lets the running
 * thread go on to the end of its slice rather than preempt it at a wake.
 * Every turn: with 16 (a readv each, ~1 us) the kernel's ping-pong client
 * waited 16-18 us for its CPU (perf sched), and rr.u.bp was 7-21 us
 * (median 14); with 1, 7.2-9.9 us (median 8.5), in the same session. */
#define BUSY_POLL_YIELD_EVERY 1

/* The API lock and what it guards here (the socket table is socket.c's). */
static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;
static struct us_runtime *default_rt;

void us_api_lock(void)
{
	pthread_mutex_lock(&api_lock);
}

void us_api_unlock(void)
{
	pthread_mutex_unlock(&api_lock);
}

bool us_runtime_pin(struct us_runtime *rt)
{
	if (rt->dead)
		return false;
	rt->users++;
	return true;
}

void us_runtime_unpin(struct us_runtime *rt)
{
	if (--rt->users == 0 && rt->dead)
		pthread_cond_broadcast(&rt->drained);
}

struct us_runtime *us_runtime_default_locked(void)
{
	return default_rt;
}

void us_runtime_set_default(struct us_runtime *rt)
{
	us_api_lock();
	/* A runtime already stopping cannot become the default. */
	if (!rt || !rt->dead)
		default_rt = rt;
	us_api_unlock();
}

struct us_runtime *us_runtime_default(void)
{
	us_api_lock();
	struct us_runtime *rt = default_rt;
	us_api_unlock();
	return rt;
}

const struct us_host_entry *us_runtime_hosts(const struct us_runtime *rt, size_t *n)
{
	if (n)
		*n = rt->n_hosts;
	return rt->hosts;
}

const struct us_addr *us_runtime_dns(const struct us_runtime *rt, double *timeout, int *tries)
{
	if (timeout)
		*timeout = rt->dns_timeout;
	if (tries)
		*tries = rt->dns_tries;
	return rt->dns.family == US_AF_UNSPEC ? NULL : &rt->dns;
}

static us_time_t monotonic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (us_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

us_time_t us_runtime_monotonic_us(void)
{
	return monotonic_now();
}

void us_runtime_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Busy polling: a frame went in or out now (the budget counts from here). */
static void note_io(struct us_runtime *rt)
{
	if (rt->busy_poll_us)
		atomic_store_explicit(&rt->last_io_us, monotonic_now(), memory_order_relaxed);
}

us_time_t us_runtime_now(const struct us_runtime *rt)
{
	if (rt->clock.now)
		return rt->clock.now(rt->clock.ctx);
	return monotonic_now();
}

/*
 * Writes one frame to the capture, in the order frames cross the driver:
 * received ones as they are read, sent ones as they are written. stamp is
 * the core's time for the frame (kept from going backwards in the file: a
 * frame queued by one thread may be written after another thread read a
 * later one). A partial checksum (the pseudo-header sum, which the kernel
 * completes: virtio 1.x §5.1.6.2) is completed in a copy first, so the
 * record shows the checksum the segments carry on a wire. A super-frame
 * is one record of up to 64 KB (US_PCAP_SNAPLEN is 256 KB), with its IP
 * length fields as sent: true for the whole.
 */
static void capture_frame(struct us_runtime *rt, us_time_t stamp, const uint8_t *data, size_t len,
			  bool partial, uint16_t csum_start, uint16_t csum_offset)
{
	pthread_mutex_lock(&rt->pcap_lock);
	if (stamp < rt->pcap_last)
		stamp = rt->pcap_last;
	rt->pcap_last = stamp;
	if (partial)
		us_pcap_writer_write_partial(rt->pcap, stamp, data, len, csum_start, csum_offset);
	else
		us_pcap_writer_write(rt->pcap, stamp, data, len);
	rt->pcap_dirty = true;
	pthread_mutex_unlock(&rt->pcap_lock);
}

/* The transmit queue's writer (txq.h): one frame to the capture and the
 * driver, with the TX write lock held and the core lock free. */
static int write_frame(void *ctx, const struct us_frame *f, us_time_t stamp)
{
	struct us_runtime *rt = ctx;
	if (rt->pcap)
		capture_frame(rt, stamp, f->data, f->len, f->csum_partial, f->csum_start,
			      f->csum_offset);
	note_io(rt);
	return rt->driver.ops->transmit(rt->driver.ctx, f);
}

/* The last frame this thread queued, and on which queue: what its
 * us_runtime_unlock() must see written. (A thread holds one core lock at
 * a time, and writes what it queued before it takes another.) */
static _Thread_local struct {
	const struct us_txq *q;
	uint64_t ticket;
} tx_mine;

/* The core's transmit callback, core lock held: the frame is queued, to
 * be written once the lock is released (us_runtime_unlock()). Only when
 * the queue is full is it written now, after what is queued; the core
 * then sees the driver's answer, as before the queue. */
static int transmit_frame(void *ctx, const struct us_frame *f)
{
	struct us_runtime *rt = ctx;
	uint64_t ticket;
	if (us_txq_push(&rt->txq, f, rt->core_now, rt->tx_err, &ticket) == 0) {
		tx_mine.q = &rt->txq;
		tx_mine.ticket = ticket;
		return 0;
	}
	return us_txq_write_through(&rt->txq, f, rt->core_now);
}

/* Core lock held: queued frames whose write failed go into the core's
 * counters (eth.tx_errors), as if transmit had failed. */
static void count_tx_failures(struct us_runtime *rt)
{
	uint64_t failed = atomic_load(&rt->txq.failed);
	if (failed != rt->tx_failed_seen) {
		us_stack_tx_failed(rt->stack, failed - rt->tx_failed_seen);
		rt->tx_failed_seen = failed;
	}
}

bool us_runtime_tx_pending(struct us_runtime *rt)
{
	return tx_mine.q == &rt->txq && atomic_load(&rt->txq.written) < tx_mine.ticket;
}

/* Writes what this thread queued on rt (and what others queued before
 * it), with the core lock free. Frames other threads queued later are
 * theirs to write: a thread that queued nothing never waits for a write,
 * but writes them if no one is writing (the first thread free does: a
 * reply leaves while its sender is still waking the stack thread). */
static void write_mine(struct us_runtime *rt)
{
	if (tx_mine.q != &rt->txq) {
		us_txq_help(&rt->txq);
		return;
	}
	us_txq_flush(&rt->txq, tx_mine.ticket);
	tx_mine.q = NULL;
}

void us_runtime_unlock(struct us_runtime *rt)
{
	/* Callbacks queued from this thread run on the stack thread. */
	bool kick = rt->cb_kick;
	rt->cb_kick = false;
	pthread_mutex_unlock(&rt->lock);
	write_mine(rt);
	if (kick)
		us_runtime_wake(rt);
}

/* The runtime whose stack thread this is, or NULL. */
static _Thread_local const struct us_runtime *loop_of;

bool us_runtime_on_loop(const struct us_runtime *rt)
{
	return loop_of == rt;
}

void us_runtime_wake(struct us_runtime *rt)
{
	uint64_t one = 1;
	/* A busy-polling stack thread looks at kicked between two reads of the
	 * driver: no system call (runtime_impl.h says why none is lost). */
	if (rt->busy_poll_us) {
		atomic_store(&rt->kicked, true);
		if (atomic_load(&rt->spinning))
			return;
	}
	/* A full counter (EAGAIN) already means "wake up". */
	if (write(rt->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		return;
}

void us_runtime_with_core(struct us_runtime *rt,
			  void (*fn)(struct us_stack *s, us_time_t now, void *arg), void *arg)
{
	/* From an event callback: the lock is this thread's already, and the
	 * loop looks at the deadlines after the callbacks. */
	if (us_callback_runtime == rt) {
		rt->core_now = us_runtime_now(rt);
		fn(rt->stack, rt->core_now, arg);
		return;
	}
	pthread_mutex_lock(&rt->lock);
	rt->core_now = us_runtime_now(rt);
	count_tx_failures(rt);
	fn(rt->stack, rt->core_now, arg);
	us_runtime_unlock(rt);
	/* fn may have set a deadline the loop does not know of yet. */
	us_runtime_wake(rt);
}

int us_runtime_ifindex(const struct us_runtime *rt)
{
	return rt->ifindex;
}

uint32_t us_runtime_offloads(const struct us_runtime *rt)
{
	return rt ? rt->offloads : 0;
}

/* rx_lock held: reads what the driver has, up to max frames, and returns
 * the frames given to the core. The core lock is taken per frame (never
 * across the driver's syscalls: what the frame made the core send is
 * written after it is released). The frames are one batch for the core
 * (us_stack_batch_begin()): each TCP connection acknowledges the in-order
 * data of the batch once, at its end, and the sockets the batch gave
 * events to are woken once, then. */
static int receive_batch(struct us_runtime *rt, int max)
{
	int input = 0;
	bool began = false;
	for (int i = 0; i < max; i++) {
		struct us_rx_meta meta;
		int n = rt->driver.ops->recv(rt->driver.ctx, rt->rx_buf, US_PBUF_LARGE, &meta);
		if (n == 0)
			break;
		if (n < 0) {
			/* A frame too large or a passing error: dropped, counted by the
			 * driver; a dead descriptor is seen again by ppoll as POLLERR. */
			if (n == -EMSGSIZE || n == -EINTR || n == -EPROTO)
				continue;
			break;
		}
		pthread_mutex_lock(&rt->lock);
		/* A busy-polling socket call may still read while the runtime
		 * stops: once its sockets are released, frames are dropped. */
		if (rt->down) {
			pthread_mutex_unlock(&rt->lock);
			break;
		}
		input++;
		rt->core_now = us_runtime_now(rt);
		if (rt->pcap)
			capture_frame(rt, rt->core_now, rt->rx_buf, (size_t)n, meta.csum_partial,
				      meta.csum_start, meta.csum_offset);
		rt->defer_wakes = true;
		if (!began) {
			us_stack_batch_begin(rt->stack);
			began = true;
		}
		if (rt->offloads)
			us_stack_input_meta(rt->stack, rt->core_now, rt->ifindex, rt->rx_buf,
					    (size_t)n, &meta);
		else
			us_stack_input(rt->stack, rt->core_now, rt->ifindex, rt->rx_buf, (size_t)n);
		rt->defer_wakes = false;
		us_runtime_unlock(rt);
	}
	if (input == 0)
		return 0;
	note_io(rt);
	pthread_mutex_lock(&rt->lock);
	if (began) {
		rt->core_now = us_runtime_now(rt);
		/* The application's callbacks before the batch ends: what they
		 * send carries the ACKs the batch owes (us_tcp_defer_ack()).
		 * Only the stack thread calls them; a busy-polling caller
		 * leaves them queued, and the stack thread woken. */
		if (us_runtime_on_loop(rt))
			us_socket_run_callbacks(rt);
		us_stack_batch_end(rt->stack, rt->core_now);
	}
	us_socket_flush_wakes(rt);
	us_runtime_unlock(rt);
	return input;
}

/* Busy polling: one batch of at most max frames, unless another thread
 * is reading the driver. */
static bool poll_driver(struct us_runtime *rt, int max)
{
	if (atomic_load_explicit(&rt->stopping, memory_order_relaxed) ||
	    pthread_mutex_trylock(&rt->rx_lock) != 0)
		return false;
	int n = receive_batch(rt, max);
	pthread_mutex_unlock(&rt->rx_lock);
	if (n > 0)
		atomic_fetch_add_explicit(&rt->bp_frames, (unsigned)n, memory_order_relaxed);
	return n > 0;
}

bool us_runtime_busy_poll_driver(struct us_runtime *rt)
{
	/*
	 * One frame, then the caller looks at its socket. A batch of 64 here
	 * (the stack thread's) halved a UDP flood's delivery: the reader spent
	 * its time feeding the core instead of reading its socket, which
	 * overflowed. Measured too: leaving the driver to the stack thread
	 * whenever it spins (the caller only watching its event count) loses
	 * the whole gain of the 1-byte ping-pong (14 us instead of 7.5).
	 */
	return poll_driver(rt, 1);
}

/* Within the budget of the last frame in or out? */
static bool busy_poll_recent(struct us_runtime *rt, us_time_t t)
{
	return t - atomic_load_explicit(&rt->last_io_us, memory_order_relaxed) < rt->busy_poll_us;
}

/*
 * Busy polling in the stack thread, instead of sleeping in ppoll: while
 * the last frame in or out is less than busy_poll_us old, read the driver
 * and look at kicked (us_runtime_wake()) in turn. True when the loop must
 * go round again at once: frames came, a wake came, or the core's deadline
 * (on the runtime's clock) has come; false when it may sleep.
 */
static bool stack_busy_poll(struct us_runtime *rt, us_time_t deadline)
{
	if (!rt->busy_poll_us || !busy_poll_recent(rt, monotonic_now()))
		return false;
	bool again = false;
	atomic_store(&rt->spinning, true);
	for (unsigned turn = 1;; turn++) {
		/* The driver first: wakes coming thick and fast (senders
		 * moving deadlines) must not keep the frames waiting. */
		if (poll_driver(rt, RX_BATCH)) {
			again = true;
			break;
		}
		if (atomic_load(&rt->kicked))
			break;
		if (deadline != US_TIME_NEVER && !rt->clock.is_virtual &&
		    us_runtime_now(rt) >= deadline) {
			again = true;
			break;
		}
		if (!busy_poll_recent(rt, monotonic_now()))
			break;
		if (turn % BUSY_POLL_YIELD_EVERY == 0)
			sched_yield();
		else
			us_runtime_cpu_relax();
	}
	atomic_store(&rt->spinning, false);
	if (atomic_exchange(&rt->kicked, false))
		again = true;
	return again;
}

static void *stack_thread(void *arg)
{
	struct us_runtime *rt = arg;
	int drv_fd = rt->driver.ops->fd(rt->driver.ctx);
	loop_of = rt;
	struct pollfd pfd[2] = {
		{ .fd = rt->wake_fd, .events = POLLIN },
		{ .fd = drv_fd, .events = POLLIN },
	};

	while (!atomic_load(&rt->stopping)) {
		pthread_mutex_lock(&rt->lock);
		rt->core_now = us_runtime_now(rt);
		count_tx_failures(rt);
		us_stack_poll(rt->stack, rt->core_now);
		/* The application's callbacks still queued (by timers, other
		 * threads, or callbacks of the last round), as one batch of
		 * their own (us_socket_callback()); they may queue more. */
		bool more = false;
		if (rt->cb_list) {
			us_stack_batch_begin(rt->stack);
			more = us_socket_run_callbacks(rt);
			us_stack_batch_end(rt->stack, rt->core_now);
		}
		us_time_t deadline = us_stack_next_deadline(rt->stack);
		us_time_t now = rt->core_now;
		/* A virtual clock moves without the core's help: socket calls
		 * waiting for a deadline learn of it here, and look again. */
		if (rt->clock.is_virtual && now != rt->clock_seen) {
			rt->clock_seen = now;
			us_socket_clock_moved(rt);
		}
		us_runtime_unlock(rt);
		/* Before sleeping, let a reader of the live capture see everything. */
		pthread_mutex_lock(&rt->pcap_lock);
		if (rt->pcap_dirty) {
			us_pcap_writer_flush(rt->pcap);
			rt->pcap_dirty = false;
		}
		pthread_mutex_unlock(&rt->pcap_lock);

		if (stack_busy_poll(rt, deadline))
			continue;

		struct timespec ts, *timeout = NULL;
		if (more) {
			ts = (struct timespec){ 0, 0 };
			timeout = &ts;
		} else if (deadline != US_TIME_NEVER && !rt->clock.is_virtual) {
			us_time_t wait = deadline > now ? deadline - now : 0;
			ts.tv_sec = wait / 1000000;
			ts.tv_nsec = (long)(wait % 1000000) * 1000;
			timeout = &ts;
		}
		int n = ppoll(pfd, drv_fd >= 0 ? 2 : 1, timeout, NULL);
		if (n < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			uint64_t v;
			/* This wake is heard; a later one writes the fd again. */
			if (rt->busy_poll_us)
				atomic_store(&rt->kicked, false);
			if (read(rt->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
				break;
		}
		if (drv_fd >= 0 && (pfd[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			/* Keep reading while frames keep coming, but let timers in
			 * between batches. */
			pthread_mutex_lock(&rt->rx_lock);
			receive_batch(rt, RX_BATCH);
			pthread_mutex_unlock(&rt->rx_lock);
		}
	}
	return NULL;
}

static int open_driver(struct us_runtime *rt, const struct us_runtime_config *cfg)
{
	if (cfg->driver.ops) {
		rt->driver = cfg->driver;
		return 0;
	}
	struct us_tap_options opt = { .bring_up = true, .vnet_hdr = cfg->offloads };
	return us_tap_open(&rt->driver, cfg->tap_name ? cfg->tap_name : "tap0", &opt);
}

static int fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void free_runtime(struct us_runtime *rt)
{
	if (rt->pcap)
		us_pcap_writer_close(rt->pcap);
	if (rt->driver.ops && rt->driver.ops->close)
		rt->driver.ops->close(rt->driver.ctx);
	us_stack_free(rt->stack);
	if (rt->wake_fd >= 0)
		close(rt->wake_fd);
	us_txq_fini(&rt->txq);
	pthread_mutex_destroy(&rt->lock);
	pthread_mutex_destroy(&rt->rx_lock);
	pthread_mutex_destroy(&rt->pcap_lock);
	pthread_cond_destroy(&rt->drained);
	free(rt->hosts);
	free(rt->rx_buf);
	free(rt);
}

static int setup_core(struct us_runtime *rt, const struct us_runtime_config *cfg)
{
	struct us_stack_config scfg = cfg->stack;
	int rc;
	if (!cfg->fixed_seed) {
		if ((rc = fill_random(&scfg.seed, sizeof scfg.seed)) < 0)
			return rc;
		if ((rc = fill_random(scfg.secret, sizeof scfg.secret)) < 0)
			return rc;
	}
	rt->stack = us_stack_new(&scfg);
	if (!rt->stack)
		return -ENOMEM;
	/* Coming up may send frames (announcements): they carry this time. */
	us_time_t now = rt->core_now = us_runtime_now(rt);

	struct us_iface_config icfg = {
		.mtu = cfg->mtu ? cfg->mtu : rt->driver.mtu,
		.transmit = transmit_frame,
		.transmit_ctx = rt,
		.offloads = rt->offloads,
	};
	memcpy(icfg.name, rt->driver.name, sizeof icfg.name);
	memcpy(icfg.mac, cfg->mac, US_ETH_ALEN);
	static const uint8_t zero[US_ETH_ALEN];
	if (memcmp(icfg.mac, zero, US_ETH_ALEN) == 0) {
		if ((rc = fill_random(icfg.mac, US_ETH_ALEN)) < 0)
			return rc;
		/* Locally administered (bit 1), unicast (bit 0 clear): IEEE 802 §8.2. */
		icfg.mac[0] = (uint8_t)((icfg.mac[0] & 0xfc) | 0x02);
	}
	rc = us_stack_add_iface(rt->stack, now, &icfg);
	if (rc < 0)
		return rc;
	rt->ifindex = rc;

	if (cfg->ipv4 && (rc = us_stack_add_ipv4(rt->stack, now, rt->ifindex, cfg->ipv4, cfg->ipv4_prefix)) < 0)
		return rc;
	if (cfg->ipv4_gateway &&
	    (rc = us_stack_add_route4(rt->stack, 0, 0, cfg->ipv4_gateway, rt->ifindex)) < 0)
		return rc;
	if (cfg->has_ipv6 &&
	    (rc = us_stack_add_ipv6(rt->stack, now, rt->ifindex, &cfg->ipv6, cfg->ipv6_prefix)) < 0)
		return rc;
	return 0;
}

/* The hosts table and name server, checked and copied: the caller's memory
 * may go once us_runtime_start() returns. */
static int copy_resolver_config(struct us_runtime *rt, const struct us_runtime_config *cfg)
{
	const struct us_addr *dns = &cfg->dns_server;
	if (dns->family != US_AF_UNSPEC && dns->family != US_AF_INET && dns->family != US_AF_INET6)
		return -EINVAL;
	if (isnan(cfg->dns_timeout) || cfg->dns_timeout < 0 || isinf(cfg->dns_timeout) ||
	    cfg->dns_tries < 0)
		return -EINVAL;
	rt->dns = *dns;
	if (rt->dns.family != US_AF_UNSPEC && rt->dns.port == 0)
		rt->dns.port = DNS_PORT;
	rt->dns_timeout = cfg->dns_timeout > 0 ? cfg->dns_timeout : DNS_DEFAULT_TIMEOUT;
	rt->dns_tries = cfg->dns_tries > 0 ? cfg->dns_tries : DNS_DEFAULT_TRIES;

	if (cfg->n_hosts == 0)
		return 0;
	if (!cfg->hosts || cfg->n_hosts > SIZE_MAX / 2 / sizeof *cfg->hosts)
		return -EINVAL;
	/* One block: the entries, then their names. */
	size_t bytes = cfg->n_hosts * sizeof *cfg->hosts;
	for (size_t i = 0; i < cfg->n_hosts; i++) {
		const struct us_host_entry *h = &cfg->hosts[i];
		if (!h->name || (h->addr.family != US_AF_INET && h->addr.family != US_AF_INET6))
			return -EINVAL;
		size_t len = strlen(h->name) + 1;
		if (len > SIZE_MAX - bytes)
			return -EINVAL;
		bytes += len;
	}
	rt->hosts = malloc(bytes);
	if (!rt->hosts)
		return -ENOMEM;
	char *names = (char *)(rt->hosts + cfg->n_hosts);
	for (size_t i = 0; i < cfg->n_hosts; i++) {
		size_t len = strlen(cfg->hosts[i].name) + 1;
		memcpy(names, cfg->hosts[i].name, len);
		rt->hosts[i].name = names;
		rt->hosts[i].addr = cfg->hosts[i].addr;
		names += len;
	}
	rt->n_hosts = cfg->n_hosts;
	return 0;
}

struct us_runtime *us_runtime_start(const struct us_runtime_config *cfg, int *err)
{
	int rc = -EINVAL, dummy;
	if (!err)
		err = &dummy;
	if (!cfg || (cfg->driver.ops && (!cfg->driver.ops->recv || !cfg->driver.ops->transmit ||
					 !cfg->driver.ops->fd))) {
		*err = -EINVAL;
		return NULL;
	}
	struct us_runtime *rt = calloc(1, sizeof *rt);
	if (!rt) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&rt->lock, NULL);
	pthread_mutex_init(&rt->rx_lock, NULL);
	pthread_mutex_init(&rt->pcap_lock, NULL);
	pthread_cond_init(&rt->drained, NULL);
	atomic_init(&rt->stopping, false);
	rt->busy_poll_us = cfg->busy_poll_us;
	/* Long ago: no spinning before the first frame. */
	atomic_init(&rt->last_io_us, monotonic_now() - (us_time_t)BUSY_POLL_MAX_US - 1);
	atomic_init(&rt->spinning, false);
	atomic_init(&rt->kicked, false);
	atomic_init(&rt->app_spinners, 0);
	atomic_init(&rt->bp_frames, 0);
	atomic_init(&rt->bp_spins, 0);
	atomic_init(&rt->bp_hits, 0);
	rt->clock = cfg->clock;
	rt->wake_fd = -1;
	/* The driver first: from here on a failed start closes it. */
	if ((rc = open_driver(rt, cfg)) < 0) {
		memset(&rt->driver, 0, sizeof rt->driver);
		goto fail;
	}
	rt->offloads = cfg->offloads ? rt->driver.offloads : 0;
	rt->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rt->rx_buf = malloc(US_PBUF_LARGE);
	if (rt->wake_fd < 0 || !rt->rx_buf) {
		rc = rt->wake_fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	if ((rc = us_txq_init(&rt->txq, TXQ_BYTES, TXQ_FRAMES, write_frame, rt)) < 0)
		goto fail;
	if ((rc = copy_resolver_config(rt, cfg)) < 0)
		goto fail;
	if (cfg->busy_poll_us > BUSY_POLL_MAX_US) {
		rc = -EINVAL;
		goto fail;
	}
	/* The capture opens first: it holds even what coming up sends. */
	if (cfg->pcap_path) {
		rt->pcap = us_pcap_writer_open(cfg->pcap_path, &rc);
		if (!rt->pcap)
			goto fail;
		if (!rt->clock.now) {
			/* Stamp wall-clock time, so Wireshark shows real dates. */
			struct timespec rts;
			clock_gettime(CLOCK_REALTIME, &rts);
			us_time_t real = (us_time_t)rts.tv_sec * 1000000 + rts.tv_nsec / 1000;
			us_pcap_writer_set_origin(rt->pcap, real - monotonic_now());
		}
	}
	if ((rc = setup_core(rt, cfg)) < 0)
		goto fail;
	/* What coming up sent (announcements, solicitations). */
	us_txq_flush_all(&rt->txq);
	tx_mine.q = NULL;
	rt->clock_seen = rt->core_now;
	if ((rc = -pthread_create(&rt->thread, NULL, stack_thread, rt)) < 0)
		goto fail;
	us_api_lock();
	if (!default_rt)
		default_rt = rt;
	us_api_unlock();
	return rt;
fail:
	tx_mine.q = NULL;
	free_runtime(rt);
	*err = rc;
	return NULL;
}

void us_runtime_stop(struct us_runtime *rt)
{
	if (!rt)
		return;
	/* Its stack thread cannot join itself: refused (errno EDEADLK). */
	if (us_runtime_on_loop(rt)) {
		errno = EDEADLK;
		return;
	}
	/* First, no socket call may start on rt (ENETDOWN). */
	us_api_lock();
	rt->dead = true;
	if (default_rt == rt)
		default_rt = NULL;
	us_api_unlock();

	atomic_store(&rt->stopping, true);
	us_runtime_wake(rt);
	pthread_join(rt->thread, NULL);

	/* Then the calls in progress wake with ENETDOWN ... */
	pthread_mutex_lock(&rt->lock);
	rt->down = true;
	us_socket_runtime_down(rt);
	us_runtime_unlock(rt); /* the RSTs of the aborted connections leave */

	/* ... and leave; the sockets outlive rt until their us_close(). */
	us_api_lock();
	while (rt->users)
		pthread_cond_wait(&rt->drained, &api_lock);
	us_socket_runtime_detach(rt);
	us_api_unlock();
	free_runtime(rt);
}

/* SPDX-License-Identifier: MIT */
/*
 * runtime.c - one thread that drives the core: it waits on the driver's
 * descriptor and an eventfd, with the core's next deadline as its timeout.
 *
 *   loop:  lock; poll the core at now; read its next deadline; unlock
 *          ppoll(driver fd, wake eventfd; timeout = deadline - now)
 *          for each frame the driver has: lock; capture; us_stack_input(); unlock
 *
 * Frames leave through transmit_frame(), which the core calls with the lock
 * held: it writes the frame to the capture, stamped with the time the core
 * was given, and hands it to the driver. Read docs/architecture.md first.
 */
#include <ustack/ustack.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <ustack/capture.h>
#include <ustack/tap.h>

/* Frames read in one go before the loop looks at timers and the wake fd. */
#define RX_BATCH 64

struct us_runtime {
	pthread_mutex_t lock; /* the core lock: held for every call into the core */
	pthread_t thread;
	atomic_bool stopping;
	int wake_fd;

	struct us_stack *stack;
	int ifindex;
	struct us_driver driver;
	struct us_clock clock;
	struct us_pcap_writer *pcap;
	us_time_t core_now; /* the time given to the core call in progress */
	bool pcap_dirty;    /* written since the last flush */

	uint8_t *rx_buf;
};

static us_time_t monotonic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (us_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

us_time_t us_runtime_now(const struct us_runtime *rt)
{
	if (rt->clock.now)
		return rt->clock.now(rt->clock.ctx);
	return monotonic_now();
}

static int transmit_frame(void *ctx, const struct us_frame *f)
{
	struct us_runtime *rt = ctx;
	if (rt->pcap) {
		us_pcap_writer_write(rt->pcap, rt->core_now, f->data, f->len);
		rt->pcap_dirty = true;
	}
	return rt->driver.ops->transmit(rt->driver.ctx, f);
}

void us_runtime_wake(struct us_runtime *rt)
{
	uint64_t one = 1;
	/* A full counter (EAGAIN) already means "wake up". */
	if (write(rt->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		return;
}

void us_runtime_with_core(struct us_runtime *rt,
			  void (*fn)(struct us_stack *s, us_time_t now, void *arg), void *arg)
{
	pthread_mutex_lock(&rt->lock);
	rt->core_now = us_runtime_now(rt);
	fn(rt->stack, rt->core_now, arg);
	pthread_mutex_unlock(&rt->lock);
	/* fn may have set a deadline the loop does not know of yet. */
	us_runtime_wake(rt);
}

int us_runtime_ifindex(const struct us_runtime *rt)
{
	return rt->ifindex;
}

/* Reads what the driver has, up to one batch; false when it is drained. */
static bool receive_batch(struct us_runtime *rt)
{
	for (int i = 0; i < RX_BATCH; i++) {
		struct us_rx_meta meta;
		int n = rt->driver.ops->recv(rt->driver.ctx, rt->rx_buf, US_PBUF_LARGE, &meta);
		if (n == 0)
			return false;
		if (n < 0) {
			/* A frame too large or a passing error: dropped, counted by the
			 * driver; a dead descriptor is seen again by ppoll as POLLERR. */
			if (n == -EMSGSIZE || n == -EINTR)
				continue;
			return false;
		}
		pthread_mutex_lock(&rt->lock);
		rt->core_now = us_runtime_now(rt);
		if (rt->pcap) {
			us_pcap_writer_write(rt->pcap, rt->core_now, rt->rx_buf, (size_t)n);
			rt->pcap_dirty = true;
		}
		us_stack_input(rt->stack, rt->core_now, rt->ifindex, rt->rx_buf, (size_t)n);
		pthread_mutex_unlock(&rt->lock);
	}
	return true;
}

static void *stack_thread(void *arg)
{
	struct us_runtime *rt = arg;
	int drv_fd = rt->driver.ops->fd(rt->driver.ctx);
	struct pollfd pfd[2] = {
		{ .fd = rt->wake_fd, .events = POLLIN },
		{ .fd = drv_fd, .events = POLLIN },
	};

	while (!atomic_load(&rt->stopping)) {
		pthread_mutex_lock(&rt->lock);
		rt->core_now = us_runtime_now(rt);
		us_stack_poll(rt->stack, rt->core_now);
		us_time_t deadline = us_stack_next_deadline(rt->stack);
		us_time_t now = rt->core_now;
		/* Before sleeping, let a reader of the live capture see everything. */
		if (rt->pcap_dirty) {
			us_pcap_writer_flush(rt->pcap);
			rt->pcap_dirty = false;
		}
		pthread_mutex_unlock(&rt->lock);

		struct timespec ts, *timeout = NULL;
		if (deadline != US_TIME_NEVER && !rt->clock.is_virtual) {
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
			if (read(rt->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
				break;
		}
		if (drv_fd >= 0 && (pfd[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			/* Keep reading while frames keep coming, but let timers in
			 * between batches. */
			receive_batch(rt);
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
	struct us_tap_options opt = { .bring_up = true };
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
	pthread_mutex_destroy(&rt->lock);
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
	atomic_init(&rt->stopping, false);
	rt->clock = cfg->clock;
	rt->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rt->rx_buf = malloc(US_PBUF_LARGE);
	if (rt->wake_fd < 0 || !rt->rx_buf) {
		rc = rt->wake_fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	if ((rc = open_driver(rt, cfg)) < 0) {
		memset(&rt->driver, 0, sizeof rt->driver);
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
	if ((rc = -pthread_create(&rt->thread, NULL, stack_thread, rt)) < 0)
		goto fail;
	return rt;
fail:
	free_runtime(rt);
	*err = rc;
	return NULL;
}

void us_runtime_stop(struct us_runtime *rt)
{
	if (!rt)
		return;
	atomic_store(&rt->stopping, true);
	us_runtime_wake(rt);
	pthread_join(rt->thread, NULL);
	free_runtime(rt);
}

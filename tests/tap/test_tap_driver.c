/* SPDX-License-Identifier: MIT */
/*
 * tests/tap/test_tap_driver.c - the TAP driver against the real kernel.
 *
 * Runs inside a fresh network namespace (tests/tap/netns-run.sh makes one and
 * deletes it afterwards) and checks src/drivers/tap/tap.c against Linux's
 * tun driver: a frame the kernel sends on the interface (through an
 * AF_PACKET socket bound to it) is what recv() returns, a frame transmit()
 * writes is what the kernel receives, recv() with nothing waiting returns 0,
 * the size limits hold, and an existing device is attached to by name;
 * with vnet_hdr, offloads are negotiated and plain frames still cross.
 *
 * Every frame carries ethertype 0x88b5 (IEEE 802 "local experimental"), which
 * no kernel protocol handles, and the namespace has no route anywhere: no
 * test traffic can leave it. The program refuses to run when it sees any
 * interface besides lo, so it never touches a namespace it did not get fresh.
 *
 * Output is TAP (ok N - name); a skip is "1..0 # SKIP why" and exit 77.
 * Read include/ustack/tap.h first.
 */
#include <ustack/tap.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_LOCAL_EXP 0x88b5
#define WAIT_MS 2000
#define WATCHDOG_SEC 60

static const uint8_t stack_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static unsigned tests_run;
static unsigned tests_failed;

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

PRINTF_LIKE(2, 3) static void ok(bool pass, const char *fmt, ...)
{
	va_list ap;

	tests_run++;
	if (!pass)
		tests_failed++;
	printf("%sok %u - ", pass ? "" : "not ", tests_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

PRINTF_LIKE(1, 2) static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fprintf(stderr, "test_tap_driver: SKIP: %s\n", why);
	exit(77);
}

PRINTF_LIKE(1, 2) static void bail_out(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static void deadline_in(struct timespec *deadline, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += ms / 1000;
	deadline->tv_nsec += (ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

static int kernel_ioctl(unsigned long req, struct ifreq *ifr, const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret;

	if (s < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	ret = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return ret;
}

static int kernel_mtu(const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof ifr);
	return kernel_ioctl(SIOCGIFMTU, &ifr, name) ? -1 : ifr.ifr_mtu;
}

/* A test frame: dst, src, ethertype 0x88b5, then len - 14 bytes from tag. */
static size_t make_frame(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
			 uint8_t tag)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = ETHERTYPE_LOCAL_EXP >> 8;
	buf[13] = ETHERTYPE_LOCAL_EXP & 0xff;
	for (size_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(tag + i);
	return len;
}

/* An AF_PACKET socket on the kernel side of the interface, for our ethertype. */
static int kernel_socket(const char *ifname)
{
	struct sockaddr_ll sll;
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE_LOCAL_EXP));

	if (s < 0)
		return -1;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETHERTYPE_LOCAL_EXP);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0 || bind(s, (struct sockaddr *)&sll, sizeof sll) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static bool kernel_send(int s, const char *ifname, const uint8_t *frame, size_t len)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETHERTYPE_LOCAL_EXP);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, frame, 6);
	return sendto(s, frame, len, 0, (struct sockaddr *)&sll, sizeof sll) == (ssize_t)len;
}

/* The next frame of our ethertype the driver reads, within WAIT_MS: its recv
 * result (> 0), or the first error, or 0 on timeout. Frames of other
 * ethertypes (none expected in the fresh namespace) are reported and skipped. */
static int driver_wait_recv(struct us_driver *d, uint8_t *buf, size_t cap)
{
	struct timespec deadline;
	long left;

	deadline_in(&deadline, WAIT_MS);
	while ((left = ms_left(&deadline)) > 0) {
		struct pollfd p = { .fd = d->ops->fd(d->ctx), .events = POLLIN };
		int n;

		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = d->ops->recv(d->ctx, buf, cap, NULL);
		if (n < 0)
			return n;
		if (n >= 14 && (buf[12] << 8 | buf[13]) != ETHERTYPE_LOCAL_EXP) {
			diag("ignored a %d-byte frame of ethertype 0x%04x", n,
			     buf[12] << 8 | buf[13]);
			continue;
		}
		if (n > 0)
			return n;
	}
	return 0;
}

/* The next frame the kernel side receives on s (not one it sent), within WAIT_MS. */
static ssize_t kernel_wait_recv(int s, uint8_t *buf, size_t cap)
{
	struct timespec deadline;
	long left;

	deadline_in(&deadline, WAIT_MS);
	while ((left = ms_left(&deadline)) > 0) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fromlen = sizeof from;
		ssize_t n;

		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recvfrom(s, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			continue;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		return n;
	}
	return 0;
}

/* The kernel sends a frame of len bytes; the driver must read exactly it. */
static bool kernel_to_driver(struct us_driver *d, int s, size_t len, uint8_t tag)
{
	uint8_t frame[2048], got[2048];
	int n;

	make_frame(frame, len, stack_mac, d->peer_mac, tag);
	if (!kernel_send(s, d->name, frame, len)) {
		diag("sendto on %s: %s", d->name, strerror(errno));
		return false;
	}
	n = driver_wait_recv(d, got, sizeof got);
	if (n != (int)len) {
		diag("driver recv returned %d, expected %zu", n, len);
		return false;
	}
	return memcmp(got, frame, len) == 0;
}

static int transmit(struct us_driver *d, const uint8_t *data, size_t len)
{
	struct us_frame f = { .data = data, .len = len };

	return d->ops->transmit(d->ctx, &f);
}

/* Creates a persistent device the way `ip tuntap add NAME mode tap|tun` does,
 * without the driver. */
static int make_device(const char *name, short type)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = (short)(type | IFF_NO_PI);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* `ip tuntap del`: clears persistence, so the device goes with the descriptor. */
static int delete_device(const char *name, short type)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = (short)(type | IFF_NO_PI);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 0) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Only lo may exist: we run in a namespace made for us. */
static void require_fresh_namespace(void)
{
	struct if_nameindex *ifs = if_nameindex();

	if (!ifs)
		skip_all("cannot list interfaces");
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		if (strcmp(i->if_name, "lo") != 0) {
			if_freenameindex(ifs);
			skip_all("not in a fresh network namespace (interface besides lo); "
				 "run through tests/tap/netns-run.sh");
		}
	}
	if_freenameindex(ifs);
}

/* The kernel would send IPv6 DAD, MLD and router solicitations on a new
 * interface as soon as it is up; with IPv6 off in this namespace the only
 * frames on the link are the test's own. */
static void quiet_ipv6(void)
{
	FILE *f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w");

	if (!f)
		return;
	fputs("1\n", f);
	fclose(f);
}

static void test_new_device(void)
{
	struct us_tap_options opt = { .bring_up = true };
	static const uint8_t zero[6];
	uint8_t frame[2048], got[2048];
	struct us_rx_meta meta;
	struct us_driver d;
	struct ifreq ifr;
	char name[IFNAMSIZ];
	int fd, s, err;

	err = us_tap_open(&d, "", &opt);
	if (err == -EPERM || err == -EACCES || err == -ENOENT)
		skip_all("us_tap_open cannot create a device here (no CAP_NET_ADMIN or no tun)");
	ok(err == 0, "us_tap_open with an empty name creates a device (%d)", err);
	if (err)
		bail_out("no TAP device: %s", strerror(-err));
	snprintf(name, sizeof name, "%s", d.name);

	ok(strncmp(d.name, "tap", 3) == 0 && if_nametoindex(d.name) != 0,
	   "the kernel picked the name %s and the interface exists", d.name);
	ok(d.mtu == 1500 && kernel_mtu(d.name) == 1500, "mtu is the interface's, 1500 (%u)", d.mtu);

	memset(&ifr, 0, sizeof ifr);
	err = kernel_ioctl(SIOCGIFHWADDR, &ifr, d.name);
	ok(err == 0 && memcmp(d.peer_mac, ifr.ifr_hwaddr.sa_data, 6) == 0 &&
		   memcmp(d.peer_mac, zero, 6) != 0 && !(d.peer_mac[0] & 1),
	   "peer_mac is the kernel interface's unicast MAC %02x:%02x:%02x:%02x:%02x:%02x",
	   d.peer_mac[0], d.peer_mac[1], d.peer_mac[2], d.peer_mac[3], d.peer_mac[4],
	   d.peer_mac[5]);

	memset(&ifr, 0, sizeof ifr);
	err = kernel_ioctl(SIOCGIFFLAGS, &ifr, d.name);
	ok(err == 0 && (ifr.ifr_flags & IFF_UP), "bring_up set IFF_UP on the interface");

	fd = d.ops->fd(d.ctx);
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	   "the descriptor is non-blocking and close-on-exec");

	memset(&meta, 0xa5, sizeof meta);
	err = d.ops->recv(d.ctx, got, sizeof got, &meta);
	ok(err == 0 && !meta.csum_valid && meta.gso_size == 0 && meta.hdr_len == 0,
	   "recv with nothing waiting returns 0 and zeroes meta (%d)", err);

	s = kernel_socket(d.name);
	if (s < 0)
		bail_out("AF_PACKET socket on %s: %s", d.name, strerror(errno));

	ok(kernel_to_driver(&d, s, 100, 0x10),
	   "a frame the kernel sends is read byte-exact by recv");
	err = d.ops->recv(d.ctx, got, sizeof got, NULL);
	ok(err == 0, "then recv returns 0 again (%d)", err);
	ok(kernel_to_driver(&d, s, 14 + 1500, 0x20), "a full 1514-byte frame is read whole");

	make_frame(frame, 120, d.peer_mac, stack_mac, 0x30);
	err = transmit(&d, frame, 120);
	{
		ssize_t n = kernel_wait_recv(s, got, sizeof got);

		ok(err == 0 && n == 120 && memcmp(got, frame, 120) == 0,
		   "a frame transmit writes is received byte-exact by the kernel (%d, %zd)", err,
		   n);
	}

	make_frame(frame, 1500 + 18, d.peer_mac, stack_mac, 0x40);
	err = transmit(&d, frame, 1500 + 18);
	ok(err == 0, "a frame of mtu + 18 bytes (one VLAN tag) is sent (%d)", err);
	err = transmit(&d, frame, 1500 + 19);
	ok(err == -EMSGSIZE, "a frame of mtu + 19 bytes is refused with -EMSGSIZE (%d)", err);
	ok(transmit(&d, frame, 13) == -EINVAL,
	   "a frame shorter than an Ethernet header is -EINVAL");
	{
		struct us_frame gso = { .data = frame, .len = 100, .gso_type = US_GSO_TCPV4 };
		struct us_frame partial = { .data = frame, .len = 100, .csum_partial = true };

		ok(d.ops->transmit(d.ctx, &gso) == -ENOTSUP &&
			   d.ops->transmit(d.ctx, &partial) == -ENOTSUP,
		   "a frame asking for offloads is -ENOTSUP without a virtio-net header");
	}
	/* Drain what the kernel received, so the next check sees only its frame. */
	while (recv(s, got, sizeof got, MSG_DONTWAIT) > 0)
		;

	make_frame(frame, 200, stack_mac, d.peer_mac, 0x50);
	if (!kernel_send(s, d.name, frame, 200))
		diag("sendto: %s", strerror(errno));
	err = driver_wait_recv(&d, got, 100);
	ok(err == -EMSGSIZE, "a frame longer than recv's buffer is -EMSGSIZE (%d)", err);
	err = d.ops->recv(d.ctx, got, sizeof got, NULL);
	ok(err == 0, "and it is dropped, not returned later (%d)", err);

	err = us_tap_set_mtu(&d, 1400);
	ok(err == 0 && d.mtu == 1400 && kernel_mtu(d.name) == 1400,
	   "us_tap_set_mtu sets the interface MTU to 1400 (%d, %d)", err, kernel_mtu(d.name));
	err = transmit(&d, frame, 1400 + 19);
	ok(err == -EMSGSIZE, "and transmit now refuses mtu + 19 = 1419 bytes (%d)", err);
	err = us_tap_set_mtu(&d, 10);
	ok(err == -EINVAL && d.mtu == 1400, "an MTU of 10 is refused with -EINVAL (%d)", err);
	{
		struct us_driver other = d;
		static const struct us_driver_ops not_tap;

		other.ops = &not_tap;
		ok(us_tap_set_mtu(&other, 1500) == -EINVAL,
		   "us_tap_set_mtu on another driver is -EINVAL");
	}
	ok(kernel_to_driver(&d, s, 100, 0x60), "frames still flow after the MTU change");

	close(s);
	d.ops->close(d.ctx);
	ok(if_nametoindex(name) == 0, "closing a non-persistent device removes %s", name);
}

static void test_existing_devices(void)
{
	struct us_tap_options persist = { .persist = true };
	struct us_tap_options up = { .bring_up = true };
	uint8_t first_mac[6];
	struct us_driver d, d2;
	int err, s;

	err = us_tap_open(&d, "ustk-pers", &persist);
	ok(err == 0 && strcmp(d.name, "ustk-pers") == 0,
	   "us_tap_open creates ustk-pers by name (%d)", err);
	if (err)
		return;
	memcpy(first_mac, d.peer_mac, 6);
	d.ops->close(d.ctx);
	ok(if_nametoindex("ustk-pers") != 0, "with persist the device outlives close");

	err = us_tap_open(&d, "ustk-pers", &up);
	ok(err == 0 && strcmp(d.name, "ustk-pers") == 0 && memcmp(d.peer_mac, first_mac, 6) == 0,
	   "us_tap_open attaches to the existing device by name (%d)", err);
	if (err)
		return;
	s = kernel_socket(d.name);
	ok(s >= 0 && kernel_to_driver(&d, s, 64, 0x70), "frames reach the attached driver");
	if (s >= 0)
		close(s);

	err = us_tap_open(&d2, "ustk-pers", NULL);
	ok(err == -EBUSY, "a second open of an attached device is -EBUSY (%d)", err);
	if (err == 0)
		d2.ops->close(d2.ctx);

	d.ops->close(d.ctx);
	ok(if_nametoindex("ustk-pers") != 0,
	   "attaching without persist leaves the device persistent");
	err = delete_device("ustk-pers", IFF_TAP);
	ok(err == 0 && if_nametoindex("ustk-pers") == 0,
	   "clearing persistence removes it (%d)", err);

	err = make_device("ustk-ext", IFF_TAP);
	if (err)
		bail_out("creating ustk-ext: %s", strerror(-err));
	err = us_tap_open(&d, "ustk-ext", &up);
	ok(err == 0 && strcmp(d.name, "ustk-ext") == 0,
	   "us_tap_open attaches to a device made like `ip tuntap add` (%d)", err);
	if (err == 0) {
		s = kernel_socket(d.name);
		ok(s >= 0 && kernel_to_driver(&d, s, 64, 0x80), "and frames reach it");
		if (s >= 0)
			close(s);
		d.ops->close(d.ctx);
	}
	delete_device("ustk-ext", IFF_TAP);

	err = make_device("ustk-tun", IFF_TUN);
	if (err)
		bail_out("creating ustk-tun: %s", strerror(-err));
	err = us_tap_open(&d, "ustk-tun", NULL);
	ok(err == -EINVAL, "attaching to a TUN (not TAP) device is -EINVAL (%d)", err);
	if (err == 0)
		d.ops->close(d.ctx);
	delete_device("ustk-tun", IFF_TUN);
}

static void test_bad_arguments(void)
{
	struct us_driver d;

	ok(us_tap_open(&d, "ustk-name-too-long", NULL) == -EINVAL,
	   "a name of IFNAMSIZ bytes or more is -EINVAL");
	ok(us_tap_open(NULL, "", NULL) == -EINVAL, "a NULL driver is -EINVAL");
}

/* The device's offload features as ethtool shows them ("on" or "off"). */
static bool kernel_feature_on(const char *dev, const char *feature)
{
	char cmd[128], line[256];
	bool on = false;
	FILE *f;

	snprintf(cmd, sizeof cmd, "ethtool -k %s 2>/dev/null", dev);
	f = popen(cmd, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, feature, strlen(feature)) == 0 && line[strlen(feature)] == ':')
			on = strstr(line, ": on") != NULL;
	pclose(f);
	return on;
}

/* vnet_hdr: negotiation (what the kernel granted is in d.offloads, and the
 * device shows it), and plain frames both ways behind the header. */
static void test_offloads(void)
{
	struct us_tap_options opt = { .bring_up = true, .vnet_hdr = true };
	uint8_t frame[2048];
	struct us_driver d;
	int s, err;

	err = us_tap_open(&d, "ustk-vnet", &opt);
	ok(err == 0, "vnet_hdr: the device opens (%s)", strerror(-err));
	if (err)
		return;
	diag("granted: csum %d tso4 %d tso6 %d uso4 %d uso6 %d", !!(d.offloads & US_OFFLOAD_CSUM),
	     !!(d.offloads & US_OFFLOAD_TSO4), !!(d.offloads & US_OFFLOAD_TSO6),
	     !!(d.offloads & US_OFFLOAD_USO4), !!(d.offloads & US_OFFLOAD_USO6));
	ok((d.offloads & (US_OFFLOAD_CSUM | US_OFFLOAD_TSO4 | US_OFFLOAD_TSO6)) ==
		   (US_OFFLOAD_CSUM | US_OFFLOAD_TSO4 | US_OFFLOAD_TSO6),
	   "the kernel grants checksum offload, TSO4 and TSO6");
	if (access("/usr/sbin/ethtool", X_OK) == 0 || access("/sbin/ethtool", X_OK) == 0)
		ok(kernel_feature_on(d.name, "tcp-segmentation-offload") &&
			   kernel_feature_on(d.name, "tx-checksumming"),
		   "ethtool -k shows TSO and checksum offload on the device");
	s = kernel_socket(d.name);
	if (s < 0) {
		ok(false, "AF_PACKET socket on %s: %s", d.name, strerror(errno));
		d.ops->close(d.ctx);
		return;
	}
	ok(kernel_to_driver(&d, s, 60, 0x51) && kernel_to_driver(&d, s, 1514, 0x52),
	   "with the virtio-net header, the kernel's frames are read exactly");
	make_frame(frame, 1000, d.peer_mac, stack_mac, 0x53);
	err = transmit(&d, frame, 1000);
	uint8_t got[2048];
	ssize_t n = err ? 0 : kernel_wait_recv(s, got, sizeof got);
	ok(err == 0 && n == 1000 && memcmp(got, frame, 1000) == 0,
	   "with the virtio-net header, a plain frame written arrives exactly");
	/* A super-frame that is not TCP: the kernel refuses it (EINVAL). */
	struct us_frame bad = { .data = frame, .len = 1000, .gso_type = US_GSO_TCPV4,
				.gso_size = 100, .hdr_len = 54 };
	ok(d.ops->transmit(d.ctx, &bad) == -EINVAL,
	   "a GSO frame without a partial checksum is -EINVAL");
	close(s);
	d.ops->close(d.ctx);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0)
		skip_all("needs root (CAP_NET_ADMIN) to create TAP devices");
	if (access("/dev/net/tun", R_OK | W_OK) != 0)
		skip_all("/dev/net/tun is missing or not accessible");
	require_fresh_namespace();
	quiet_ipv6();
	/* Every wait is bounded; this catches anything that is not. */
	alarm(WATCHDOG_SEC);

	test_new_device();
	test_existing_devices();
	test_bad_arguments();
	test_offloads();

	printf("1..%u\n", tests_run);
	return tests_failed ? 1 : 0;
}

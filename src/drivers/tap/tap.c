/* SPDX-License-Identifier: MIT */
/*
 * drivers/tap/tap.c - the Linux TAP link driver.
 *
 * Implements ustack/tap.h over /dev/net/tun (Linux
 * Documentation/networking/tuntap.rst, and netdevice(7) for the interface
 * ioctls). No RFC applies: this is plumbing between the core and the kernel.
 *
 * Read first: include/ustack/driver.h (the contract every driver meets),
 * then include/ustack/tap.h.
 *
 * One descriptor carries frames both ways: read() returns exactly one frame
 * the kernel transmitted on the interface, write() injects exactly one frame
 * as if it arrived from the wire. With IFF_NO_PI there is no packet-info
 * prefix, so what crosses the descriptor is the bare Ethernet frame.
 *
 * Offloads: a later issue adds IFF_VNET_HDR, after which every frame on the
 * descriptor is preceded by a virtio-net header (GSO and checksum offload).
 * recv and transmit already move frames as an iovec whose first element is
 * that header, with length vnet_hdr_len, 0 for now; that issue fills the
 * header in from struct us_frame and decodes it into us_rx_meta.
 */
#include <ustack/tap.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define ETH_HDR_BYTES 14u
#define VLAN_TAG_BYTES 4u
/* sizeof(struct virtio_net_hdr_v1), the largest header IFF_VNET_HDR uses. */
#define VNET_HDR_MAX 12u

struct tap {
	int fd;
	uint32_t mtu;        /* the kernel interface's MTU, as last read or set */
	size_t vnet_hdr_len; /* bytes of virtio-net header before each frame: 0 for now */
	char name[IFNAMSIZ];
};

static const struct us_tap_options no_options;

static int tap_fd(void *ctx)
{
	const struct tap *t = ctx;

	return t->fd;
}

static int tap_recv(void *ctx, uint8_t *buf, size_t cap, struct us_rx_meta *meta)
{
	struct tap *t = ctx;
	uint8_t vnet_hdr[VNET_HDR_MAX];
	uint8_t overflow;
	struct iovec iov[3] = {
		{ .iov_base = vnet_hdr, .iov_len = t->vnet_hdr_len },
		{ .iov_base = buf, .iov_len = cap > INT_MAX - 1 ? INT_MAX - 1 : cap },
		{ .iov_base = &overflow, .iov_len = 1 },
	};
	ssize_t n;

	if (meta)
		memset(meta, 0, sizeof *meta);
	do {
		n = readv(t->fd, iov, 3);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if ((size_t)n < t->vnet_hdr_len)
		return -EIO;
	n -= (ssize_t)t->vnet_hdr_len;
	/*
	 * tun copies what fits, returns the bytes copied and discards the
	 * rest of the frame, so truncation would pass unseen. The one-byte
	 * overflow element makes it visible: a frame longer than cap fills
	 * it. The kernel has dequeued the frame: it is dropped, and the
	 * caller told so.
	 */
	if ((size_t)n > iov[1].iov_len)
		return -EMSGSIZE;
	return (int)n;
}

static int tap_transmit(void *ctx, const struct us_frame *frame)
{
	struct tap *t = ctx;
	uint8_t vnet_hdr[VNET_HDR_MAX] = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = vnet_hdr, .iov_len = t->vnet_hdr_len },
		{ .iov_base = (void *)(uintptr_t)frame->data, .iov_len = frame->len },
	};
	ssize_t n;

	/* Without a virtio-net header there is no way to hand the kernel a
	 * super-frame or a half-done checksum. */
	if (frame->gso_type != US_GSO_NONE || frame->csum_partial)
		return -ENOTSUP;
	if (frame->len < ETH_HDR_BYTES)
		return -EINVAL;
	if (frame->len > (size_t)t->mtu + ETH_HDR_BYTES + VLAN_TAG_BYTES)
		return -EMSGSIZE;
	do {
		n = writev(t->fd, iov, 2);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if ((size_t)n != t->vnet_hdr_len + frame->len)
		return -EIO;
	return 0;
}

static void tap_close(void *ctx)
{
	struct tap *t = ctx;

	close(t->fd);
	free(t);
}

static const struct us_driver_ops tap_ops = {
	.fd = tap_fd,
	.recv = tap_recv,
	.transmit = tap_transmit,
	.close = tap_close,
};

/* One interface ioctl (netdevice(7)) on the named interface. */
static int if_ioctl(unsigned long req, struct ifreq *ifr, const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (s < 0)
		return -errno;
	memcpy(ifr->ifr_name, name, IFNAMSIZ);
	if (ioctl(s, req, ifr) < 0)
		err = -errno;
	close(s);
	return err;
}

static int bring_up(const char *name)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof ifr);
	err = if_ioctl(SIOCGIFFLAGS, &ifr, name);
	if (err)
		return err;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
	return if_ioctl(SIOCSIFFLAGS, &ifr, name);
}

static int read_mtu_and_mac(const char *name, uint32_t *mtu, uint8_t mac[US_ETH_ALEN])
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof ifr);
	err = if_ioctl(SIOCGIFMTU, &ifr, name);
	if (err)
		return err;
	if (ifr.ifr_mtu <= 0)
		return -EIO;
	*mtu = (uint32_t)ifr.ifr_mtu;

	memset(&ifr, 0, sizeof ifr);
	err = if_ioctl(SIOCGIFHWADDR, &ifr, name);
	if (err)
		return err;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EPROTO;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, US_ETH_ALEN);
	return 0;
}

/* Everything us_tap_open() does that can fail once t exists; on failure the
 * caller closes t->fd, which removes a device we created (not persistent yet). */
static int attach(struct tap *t, const char *name, const struct us_tap_options *opt,
		  uint8_t peer_mac[US_ETH_ALEN])
{
	struct ifreq ifr;
	int err;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = '\0';

	if (opt->bring_up) {
		err = bring_up(t->name);
		if (err)
			return err;
	}
	err = read_mtu_and_mac(t->name, &t->mtu, peer_mac);
	if (err)
		return err;
	/* Last, so a failure above leaves no persistent device behind. */
	if (opt->persist && ioctl(t->fd, TUNSETPERSIST, 1) < 0)
		return -errno;
	return 0;
}

int us_tap_open(struct us_driver *out, const char *name, const struct us_tap_options *opt)
{
	uint8_t peer_mac[US_ETH_ALEN];
	struct tap *t;
	int err;

	if (!out)
		return -EINVAL;
	if (!opt)
		opt = &no_options;
	if (!name)
		name = "";
	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	if (opt->vnet_hdr)
		return -ENOTSUP;

	t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	err = attach(t, name, opt, peer_mac);
	if (err) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return err;
	}

	memset(out, 0, sizeof *out);
	out->ops = &tap_ops;
	out->ctx = t;
	_Static_assert(sizeof out->name >= IFNAMSIZ, "us_driver.name holds an interface name");
	memcpy(out->name, t->name, IFNAMSIZ);
	out->mtu = t->mtu;
	memcpy(out->peer_mac, peer_mac, US_ETH_ALEN);
	return 0;
}

int us_tap_set_mtu(struct us_driver *d, uint32_t mtu)
{
	struct ifreq ifr;
	struct tap *t;
	int err;

	if (!d || d->ops != &tap_ops || mtu > INT_MAX)
		return -EINVAL;
	t = d->ctx;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_mtu = (int)mtu;
	err = if_ioctl(SIOCSIFMTU, &ifr, t->name);
	if (err)
		return err;
	t->mtu = mtu;
	d->mtu = mtu;
	return 0;
}

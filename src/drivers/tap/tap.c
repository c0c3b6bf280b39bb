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
 * Offloads (opt->vnet_hdr; docs/performance.md): with IFF_VNET_HDR every
 * frame on the descriptor is preceded by a virtio-net header (vnet.c
 * encodes and decodes it). recv and transmit move frames as an iovec whose
 * first element is that header, of length vnet_hdr_len (0 without
 * offloads). negotiate() sets the header's size and byte order explicitly
 * and asks TUNSETOFFLOAD for as much as the kernel takes, falling back
 * step by step; what it took is us_driver.offloads.
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
_Static_assert(VNET_HDR_MAX == US_VNET_HDR_LEN, "one virtio-net header size");
/* The largest super-frame: an IP datagram of 65535 bytes behind Ethernet
 * and one 802.1Q tag. */
#define GSO_FRAME_MAX (65535u + ETH_HDR_BYTES + VLAN_TAG_BYTES)

/* USO came with Linux 6.2; older headers lack the bits. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

struct tap {
	int fd;
	uint32_t mtu;        /* the kernel interface's MTU, as last read or set */
	size_t vnet_hdr_len; /* bytes of virtio-net header before each frame: 0 or 12 */
	uint32_t offloads;   /* enum us_offload bits the kernel took */
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
	if (t->vnet_hdr_len) {
		struct us_rx_meta scratch;
		if (us_vnet_hdr_decode(vnet_hdr, (size_t)n, meta ? meta : &scratch) < 0)
			return -EPROTO;
	}
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

	if (t->vnet_hdr_len) {
		if (us_vnet_hdr_encode(frame, vnet_hdr) < 0)
			return -EINVAL;
	} else if (frame->gso_type != US_GSO_NONE || frame->csum_partial) {
		/* Without a virtio-net header there is no way to hand the
		 * kernel a super-frame or a half-done checksum. */
		return -ENOTSUP;
	}
	if (frame->len < ETH_HDR_BYTES)
		return -EINVAL;
	if (frame->len > (frame->gso_type != US_GSO_NONE
				  ? GSO_FRAME_MAX
				  : (size_t)t->mtu + ETH_HDR_BYTES + VLAN_TAG_BYTES))
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

/*
 * Offloads, once TUNSETIFF has set IFF_VNET_HDR (tuntap.rst, and Linux
 * drivers/net/tun.c for what each ioctl takes). The header size is set
 * explicitly rather than trusting the default (10, the legacy header
 * without num_buffers), and its byte order to little-endian (a no-op on
 * little-endian hosts, where an old kernel may refuse it). Then
 * TUNSETOFFLOAD, which refuses bits it does not know with -EINVAL: ask
 * for everything, then without USO (before 6.2), then checksums only,
 * then nothing. TSO needs TUN_F_CSUM (tun refuses TSO alone).
 */
static int negotiate(struct tap *t, const struct us_tap_options *opt)
{
	static const struct {
		unsigned flags;
		uint32_t offloads;
	} tries[] = {
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		  US_OFFLOAD_CSUM | US_OFFLOAD_TSO4 | US_OFFLOAD_TSO6 | US_OFFLOAD_USO4 |
			  US_OFFLOAD_USO6 },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		  US_OFFLOAD_CSUM | US_OFFLOAD_TSO4 | US_OFFLOAD_TSO6 },
		{ TUN_F_CSUM, US_OFFLOAD_CSUM },
	};
	int sz = (int)US_VNET_HDR_LEN;
	int le = 1;

	if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	t->vnet_hdr_len = US_VNET_HDR_LEN;
	if (ioctl(t->fd, TUNSETVNETLE, &le) < 0 && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return -errno;
	for (size_t i = opt->no_uso ? 1 : 0; i < sizeof tries / sizeof tries[0]; i++) {
		if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)tries[i].flags) == 0) {
			t->offloads = tries[i].offloads;
			return 0;
		}
		if (errno != EINVAL)
			return -errno;
	}
	t->offloads = 0;
	return 0;
}

/* Everything us_tap_open() does that can fail once t exists; on failure the
 * caller closes t->fd, which removes a device we created (not persistent yet). */
static int attach(struct tap *t, const char *name, const struct us_tap_options *opt,
		  uint8_t peer_mac[US_ETH_ALEN])
{
	struct ifreq ifr;
	unsigned int features = 0;
	bool vnet = false;
	int err;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	/* A kernel without IFF_VNET_HDR (before 2.6.27) gives plain frames. */
	if (opt->vnet_hdr && ioctl(t->fd, TUNGETFEATURES, &features) == 0)
		vnet = features & IFF_VNET_HDR;

	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = '\0';
	if (vnet) {
		err = negotiate(t, opt);
		if (err)
			return err;
	}

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
	out->offloads = t->offloads;
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

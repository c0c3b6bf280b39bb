/* SPDX-License-Identifier: MIT */
/*
 * ustack/tap.h - the Linux TAP link driver.
 *
 * A TAP device is an Ethernet interface whose far end is a file descriptor:
 * every frame the kernel transmits on it can be read() from /dev/net/tun,
 * and every frame written there arrives at the kernel as if received on the
 * wire. ustack sits at the descriptor end; the kernel's interface (tap0) is
 * the peer it talks to. See Documentation/networking/tuntap.rst in the Linux
 * tree, then src/drivers/tap/tap.c.
 *
 * Read ustack/driver.h first: us_tap_open() fills a struct us_driver.
 */
#ifndef USTACK_TAP_H
#define USTACK_TAP_H

#include <ustack/driver.h>

#ifdef __cplusplus
extern "C" {
#endif

struct us_tap_options {
	/* Set IFF_UP on the kernel side (SIOCSIFFLAGS), as `ip link set NAME up`. */
	bool bring_up;
	/* Make the device persistent (TUNSETPERSIST): it outlives the descriptor,
	 * as one made by `ip tuntap add`. false leaves the device's persistence
	 * as it was: attaching to a persistent device does not make it transient. */
	bool persist;
	/* Offloads (docs/performance.md): every frame on the descriptor is
	 * preceded by a virtio-net header (IFF_VNET_HDR, its size set to
	 * US_VNET_HDR_LEN with TUNSETVNETHDRSZ), and TUNSETOFFLOAD asks the
	 * kernel for checksum offload, TSO4, TSO6 and, where the kernel has
	 * them, USO4/USO6. What the kernel took is out->offloads (enum
	 * us_offload); a kernel that takes none still gets the header, and
	 * a kernel without IFF_VNET_HDR gives plain frames (offloads 0). */
	bool vnet_hdr;
	/* With vnet_hdr: do not ask for USO even where the kernel has it. */
	bool no_uso;
};

/*
 * The virtio-net header (struct virtio_net_hdr_v1, virtio 1.x §5.1.6,
 * little-endian), 12 bytes:
 *
 *    0        1        2                 4                 6
 *   +--------+--------+-----------------+-----------------+
 *   | flags  |gso_type|     hdr_len     |    gso_size     |
 *   +--------+--------+-----------------+-----------------+
 *   |   csum_start    |   csum_offset   |   num_buffers   |
 *   +-----------------+-----------------+-----------------+
 *   6                 8                 10                12
 *
 * flags: 1 NEEDS_CSUM (the checksum at csum_start + csum_offset holds
 * the pseudo-header sum: complete it over [csum_start, end)), 2
 * DATA_VALID (checksums checked). gso_type: 0 none, 1 TCPv4, 3 UDP
 * (UFO), 4 TCPv6, 5 UDP_L4 (USO), | 0x80 ECN (CWR seen).
 */
#define US_VNET_HDR_LEN 12u

/* Decodes a received header into meta. frame_len: the frame's length
 * after the header, against which csum_start/csum_offset are checked.
 * 0, or -EINVAL (an unknown gso_type or flag, or a checksum position
 * outside the frame): the frame should be dropped. */
int us_vnet_hdr_decode(const uint8_t hdr[US_VNET_HDR_LEN], size_t frame_len,
		       struct us_rx_meta *meta);
/* Encodes a frame's offload fields into hdr. 0, or -EINVAL (a gso_type
 * without csum_partial, gso_size 0 with a gso_type, a checksum position
 * outside the frame). */
int us_vnet_hdr_encode(const struct us_frame *f, uint8_t hdr[US_VNET_HDR_LEN]);

/*
 * Creates the TAP device `name`, or attaches to it when it exists (a TAP
 * device made by `ip tuntap add NAME mode tap`, or a persistent one). A NULL
 * or empty name lets the kernel pick tapN; out->name reports it. opt may be
 * NULL (all options false).
 *
 * On success fills out: ops and ctx, name, mtu (the kernel interface's MTU,
 * SIOCGIFMTU) and peer_mac (the kernel interface's MAC, SIOCGIFHWADDR). The
 * descriptor is non-blocking and close-on-exec.
 *
 * Returns 0, or a negative errno: -ENOENT when /dev/net/tun is missing,
 * -EPERM without CAP_NET_ADMIN, -EINVAL for a name of IFNAMSIZ bytes or more
 * or an existing device that is not TAP, -EBUSY when another process holds
 * the device. out is untouched on failure.
 *
 * The driver's ops:
 *  - recv reads one frame: its length, 0 when none waits, -EMSGSIZE when the
 *    frame was longer than cap (it is dropped), -EPROTO for a virtio-net
 *    header that does not decode (the frame is dropped), another negative
 *    errno on error; meta is zeroed, or decoded from the header.
 *  - transmit writes one frame: 0, -EAGAIN when the device queue is full,
 *    -EMSGSIZE for a frame longer than mtu + 18 (Ethernet header and one
 *    802.1Q tag; with gso_type set: 65535 + 18), -EINVAL for one shorter
 *    than an Ethernet header, -ENOTSUP for a frame asking for offloads
 *    (gso_type or csum_partial set) without the virtio-net header, another
 *    negative errno on error.
 */
int us_tap_open(struct us_driver *out, const char *name, const struct us_tap_options *opt);

/* Sets the kernel interface's MTU (SIOCSIFMTU) and d->mtu. Returns 0 or a
 * negative errno (-EINVAL when d is not a TAP driver or the MTU is out of
 * the device's range, 68..65535). */
int us_tap_set_mtu(struct us_driver *d, uint32_t mtu);

#ifdef __cplusplus
}
#endif
#endif

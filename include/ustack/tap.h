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
	/* Reserved for the offload issue (IFF_VNET_HDR, TUNSETOFFLOAD): must be
	 * false for now; us_tap_open() returns -ENOTSUP when it is set. */
	bool vnet_hdr;
};

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
 * the device, -ENOTSUP for opt->vnet_hdr. out is untouched on failure.
 *
 * The driver's ops:
 *  - recv reads one frame: its length, 0 when none waits, -EMSGSIZE when the
 *    frame was longer than cap (it is dropped), another negative errno on
 *    error; meta is zeroed.
 *  - transmit writes one frame: 0, -EAGAIN when the device queue is full,
 *    -EMSGSIZE for a frame longer than mtu + 18 (Ethernet header and one
 *    802.1Q tag), -EINVAL for one shorter than an Ethernet header, -ENOTSUP
 *    for a frame asking for offloads (gso_type or csum_partial set), another
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

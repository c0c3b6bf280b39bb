/* SPDX-License-Identifier: MIT */
/*
 * drivers/tap/vnet.c - the virtio-net header that precedes every frame on a
 * TAP descriptor opened with IFF_VNET_HDR: decoding it into struct
 * us_rx_meta, encoding it from struct us_frame. Pure functions, no I/O.
 *
 * The layout is struct virtio_net_hdr_v1 (virtio 1.x §5.1.6 "Device
 * Operation", drawn in ustack/tap.h), little-endian: tap.c sets
 * TUNSETVNETLE so that this holds on big-endian hosts too. Linux reads and
 * writes it in include/linux/virtio_net.h (virtio_net_hdr_to_skb,
 * virtio_net_hdr_from_skb): those are the semantics followed here.
 *
 * Read ustack/tap.h first.
 */
#include <ustack/tap.h>

#include <errno.h>
#include <string.h>

/* virtio 1.x §5.1.6: the flags and GSO types. */
#define VNET_F_NEEDS_CSUM 1u
#define VNET_F_DATA_VALID 2u
#define VNET_F_RSC_INFO 4u
#define VNET_GSO_NONE 0u
#define VNET_GSO_TCPV4 1u
#define VNET_GSO_UDP 3u
#define VNET_GSO_TCPV6 4u
#define VNET_GSO_UDP_L4 5u
#define VNET_GSO_ECN 0x80u

/* The header's fields are little-endian (virtio 1.x §1.4 "le16"). */
static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int us_vnet_hdr_decode(const uint8_t hdr[US_VNET_HDR_LEN], size_t frame_len,
		       struct us_rx_meta *meta)
{
	uint8_t flags = hdr[0];
	uint8_t gso = (uint8_t)(hdr[1] & ~VNET_GSO_ECN);

	memset(meta, 0, sizeof *meta);
	if (flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID | VNET_F_RSC_INFO))
		return -EINVAL;
	switch (gso) {
	case VNET_GSO_NONE:
		meta->gso_type = US_GSO_NONE;
		break;
	case VNET_GSO_TCPV4:
		meta->gso_type = US_GSO_TCPV4;
		break;
	case VNET_GSO_TCPV6:
		meta->gso_type = US_GSO_TCPV6;
		break;
	case VNET_GSO_UDP_L4:
		meta->gso_type = US_GSO_UDP_L4;
		break;
	case VNET_GSO_UDP: /* UFO: IP fragments to be, never asked for */
	default:
		return -EINVAL;
	}
	meta->hdr_len = get_le16(hdr + 2);
	meta->gso_size = get_le16(hdr + 4);
	if (meta->gso_type != US_GSO_NONE && meta->gso_size == 0)
		return -EINVAL;
	if (flags & VNET_F_NEEDS_CSUM) {
		meta->csum_partial = true;
		meta->csum_start = get_le16(hdr + 6);
		meta->csum_offset = get_le16(hdr + 8);
		if ((size_t)meta->csum_start + meta->csum_offset + 2 > frame_len)
			return -EINVAL;
	}
	/* RSC_INFO reuses csum_start/offset as counts, for coalesced receive
	 * on a virtio device; tun never sets it, and nothing here needs it. */
	meta->csum_valid = flags & VNET_F_DATA_VALID;
	return 0;
}

int us_vnet_hdr_encode(const struct us_frame *f, uint8_t hdr[US_VNET_HDR_LEN])
{
	uint8_t gso;

	memset(hdr, 0, US_VNET_HDR_LEN);
	switch ((enum us_gso_type)f->gso_type) {
	case US_GSO_NONE:
		gso = VNET_GSO_NONE;
		break;
	case US_GSO_TCPV4:
		gso = VNET_GSO_TCPV4;
		break;
	case US_GSO_TCPV6:
		gso = VNET_GSO_TCPV6;
		break;
	case US_GSO_UDP_L4:
		gso = VNET_GSO_UDP_L4;
		break;
	case US_GSO_UDP:
	default:
		return -EINVAL;
	}
	/* Linux (virtio_net_hdr_to_skb) takes a GSO frame's checksum as
	 * partial: a super-frame always asks for completion. */
	if (gso != VNET_GSO_NONE && (!f->csum_partial || f->gso_size == 0))
		return -EINVAL;
	if (f->csum_partial) {
		if ((size_t)f->csum_start + f->csum_offset + 2 > f->len)
			return -EINVAL;
		hdr[0] = VNET_F_NEEDS_CSUM;
		put_le16(hdr + 6, f->csum_start);
		put_le16(hdr + 8, f->csum_offset);
	}
	hdr[1] = gso;
	if (gso != VNET_GSO_NONE) {
		put_le16(hdr + 2, f->hdr_len);
		put_le16(hdr + 4, f->gso_size);
	}
	return 0;
}

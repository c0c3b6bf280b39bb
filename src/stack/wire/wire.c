/* SPDX-License-Identifier: MIT */
/*
 * wire/wire.c - stable names for the wire parsers' error codes.
 *
 * Read first: wire.h. The names appear in drop traces and counters, so they
 * are part of the interface: short, lower case, hyphenated, never reworded.
 */
#include "wire/wire.h"

const char *us_wire_strerror(int err)
{
	/* A switch over every enumerator, with no default: -Wswitch-enum makes
	 * a code added to wire.h without a name here break the build. */
	switch ((enum us_wire_err)err) {
	case US_WIRE_OK:
		return "ok";
	case US_WIRE_TRUNCATED:
		return "truncated";
	case US_WIRE_BAD_VERSION:
		return "bad-version";
	case US_WIRE_BAD_HDR_LEN:
		return "bad-hdr-len";
	case US_WIRE_HDR_PAST_END:
		return "hdr-past-end";
	case US_WIRE_BAD_TOTAL_LEN:
		return "bad-total-len";
	case US_WIRE_BAD_CHECKSUM:
		return "bad-checksum";
	case US_WIRE_OPT_PAST_END:
		return "opt-past-end";
	case US_WIRE_OPT_BAD_LEN:
		return "opt-bad-len";
	case US_WIRE_BAD_ARP:
		return "bad-arp";
	case US_WIRE_BAD_VLAN:
		return "bad-vlan";
	case US_WIRE_EXT_PAST_END:
		return "ext-past-end";
	case US_WIRE_EXT_TOO_MANY:
		return "ext-too-many";
	case US_WIRE_EXT_BAD_ORDER:
		return "ext-bad-order";
	case US_WIRE_BAD_FIELD:
		return "bad-field";
	}
	return "unknown";
}

#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Every pcap the packet scripts write opens in Wireshark without a
# malformed packet or a bad checksum: tshark's expert info, with the IP and
# TCP checksums verified, has no entry in the Malformed or Checksum groups.
# Skipped (77) without tshark.
#
# Usage: check-pcaps.sh USTACK_SCRIPT SCRIPTS_SOURCE_DIR NAME...
set -u
runner=$1
dir=$2
shift 2
command -v tshark >/dev/null 2>&1 || { echo "tshark not found: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
for name in "$@"; do
	# The pcap is checked whether or not the script passes.
	"$runner" --no-golden --pcap "$tmp/$name.pcap" "$dir/$name.pkt" >/dev/null 2>&1
	if [ ! -s "$tmp/$name.pcap" ]; then
		echo "not ok: $name: no pcap written"; bad=1; continue
	fi
	tshark -r "$tmp/$name.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
		-o udp.check_checksum:TRUE -q -z expert >"$tmp/expert" 2>/dev/null
	if grep -Eq ' (Malformed|Checksum) ' "$tmp/expert"; then
		echo "not ok: $name:"; grep -E ' (Malformed|Checksum) ' "$tmp/expert"; bad=1
	else
		echo "ok: $name"
	fi
done
exit $bad

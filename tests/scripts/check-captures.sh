#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Real captures with the Linux kernel (tests/scripts/captures/, taken with
# `ustack-demo --pcap` in a network namespace, docs/scripts.md "From a
# capture") still convert into scripts that pass, and the checked-in
# scripts made from them are the converter's output plus comments: for each
# NAME, ustack-pcap2script captures/NAME.pcap is run again, the skeleton must
# run and pass (without a golden), and its lines, comments and blank lines
# left out, must equal those of NAME.pkt.
#
# Usage: check-captures.sh USTACK_PCAP2SCRIPT USTACK_SCRIPT SCRIPTS_SOURCE_DIR NAME...
set -u
conv=$1
runner=$2
dir=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
# The events and settings of a script: no comments, no blank lines.
body() {
	sed -e 's|//.*$||' -e 's|[[:space:]]*$||' "$1" | grep -v '^$'
}
for name in "$@"; do
	# Converted from the scripts' directory, so that the skeleton names
	# the capture as the checked-in script does.
	if ! (cd "$dir" && "$conv" -o "$tmp/$name.pkt" "captures/$name.pcap") 2>"$tmp/err"; then
		echo "not ok: $name: the conversion fails:"; cat "$tmp/err"; bad=1; continue
	fi
	if ! "$runner" --no-golden "$tmp/$name.pkt" 2>"$tmp/err"; then
		echo "not ok: $name: the converted skeleton does not pass:"; cat "$tmp/err"; bad=1; continue
	fi
	body "$tmp/$name.pkt" >"$tmp/new"
	body "$dir/$name.pkt" >"$tmp/old"
	if ! diff -u "$tmp/old" "$tmp/new" >"$tmp/diff"; then
		echo "not ok: $name: $name.pkt is no longer what the converter writes (- checked in, + converted now):"
		cat "$tmp/diff"; bad=1; continue
	fi
	echo "ok: $name: converts, passes, and equals $name.pkt without its comments"
done
exit $bad

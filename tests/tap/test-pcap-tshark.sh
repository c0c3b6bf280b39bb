#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/tap/test-pcap-tshark.sh - do Wireshark's tools read our captures?
#
#   test-pcap-tshark.sh PCAP_WRITE_SAMPLE
#
# Runs pcap_write_sample (tests/tap/pcap_write_sample.c, built on
# src/drivers/pcap/capture.c) to write four literal frames, then checks with
# tshark that it reads exactly those frames, with the protocols, lengths and
# nanosecond timestamps written, that the IPv4, ICMP and ICMPv6 checksums
# verify, and that its expert analysis reports no warning or error (no
# "Malformed", no bad checksum). Needs no privileges and no network.
#
# Exit status: 0 pass, 1 fail, 77 skip (tshark missing), 99 harness error.

set -u

# `meson test --setup valgrind` runs every test under memcheck, this shell
# included, and the shell's own allocations would count as leaks. Under that
# setup (USTACK_UNDER_VALGRIND=1) the script leaves memcheck by exec'ing a
# fresh shell (valgrind follows no exec without --trace-children) and runs
# memcheck on the C program instead, which is the code under test.
if [ "${USTACK_UNDER_VALGRIND:-0}" = 1 ] && [ -z "${USTACK_VALGRIND_REEXEC:-}" ]; then
	USTACK_VALGRIND_REEXEC=1 exec /bin/sh "$0" "$@"
fi

if [ $# -ne 1 ]; then
	echo "usage: $0 PCAP_WRITE_SAMPLE" >&2
	exit 99
fi
sample=$1
run_sample() {
	if [ "${USTACK_UNDER_VALGRIND:-0}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "$sample" "$@"
	else
		"$sample" "$@"
	fi
}

if ! command -v tshark >/dev/null 2>&1; then
	echo "test-pcap-tshark.sh: SKIP: tshark (Wireshark) is not installed" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ustack-tshark-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# tshark reads the user's preferences: start from its defaults.
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/.config"

pcap="$tmp/sample.pcap"
failed=0

fail() {
	echo "FAIL: $1" >&2
	failed=1
}

# Compares two multi-line strings; on a difference shows both.
expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1"
		printf 'expected:\n%s\ngot:\n%s\n' "$3" "$2" >&2
	else
		echo "ok: $1"
	fi
}

tshark_read() {
	if ! tshark -r "$pcap" -o ip.check_checksum:TRUE "$@" 2>"$tmp/stderr"; then
		echo "tshark $* failed:" >&2
		cat "$tmp/stderr" >&2
		exit 1
	fi
}

if ! run_sample "$pcap"; then
	echo "FAIL: $sample could not write $pcap" >&2
	exit 1
fi

got=$(tshark_read -T fields -E separator=' ' \
	-e frame.number -e frame.protocols -e frame.len -e frame.cap_len -e frame.time_epoch)
expect_eq "tshark reads the four frames with their protocols, lengths and times" "$got" \
"1 eth:ethertype:arp 42 42 1700000000.000000000
2 eth:ethertype:arp 42 42 1700000000.001000000
3 eth:ethertype:ip:icmp:data 58 58 1700000000.002500000
4 eth:ethertype:ipv6:icmpv6:data 78 78 1700000001.000000000"

# Checksum status 1 is "Good" (2 would be "Bad").
got=$(tshark_read -T fields -E separator=, \
	-e ip.checksum.status -e icmp.checksum.status -e icmpv6.checksum.status)
expect_eq "the IPv4 header, ICMP and ICMPv6 checksums verify" "$got" \
",,
,,
1,1,
,,1"

got=$(tshark_read -T fields -E separator=, \
	-e arp.opcode -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4 -e ip.src -e ip.dst \
	-e icmp.type -e ipv6.src -e ipv6.dst -e icmpv6.type)
expect_eq "the addresses and message types are the ones written" "$got" \
"1,192.0.2.2,192.0.2.1,,,,,,
2,192.0.2.1,192.0.2.2,,,,,,
,,,192.0.2.2,192.0.2.1,8,,,
,,,,,,2001:db8::2,2001:db8::1,128"

# Any warning or error (malformed packet, bad checksum, length mismatch)
# prints a "Warns (n)" or "Errors (n)" table here.
expert=$(tshark_read -q -z expert,warn)
if [ -n "$(printf '%s' "$expert" | tr -d ' \n')" ]; then
	fail "tshark's expert analysis reports problems"
	printf '%s\n' "$expert" >&2
else
	echo "ok: tshark's expert analysis reports no warning or error"
fi

verbose=$(tshark_read -V)
if printf '%s\n' "$verbose" | grep -Ei 'malformed|\[incorrect|status: bad'; then
	fail "tshark -V shows a malformed packet or an incorrect checksum"
else
	echo "ok: tshark -V shows no malformed packet and no incorrect checksum"
fi
count=$(printf '%s\n' "$verbose" | grep -c 'atus: Good\]')
expect_eq "tshark -V shows three good checksums" "$count" "3"

exit $failed

#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/run-fuzz.sh - build the libFuzzer targets with clang, seed them
# from the unit tests' literal frames, and fuzz for a while.
#
# Usage (from anywhere):
#   tests/fuzz/run-fuzz.sh [SECONDS]        # default 60
# Environment:
#   USTACK_FUZZ_BUILD   build directory (default: <source>/build-fuzz)
#   USTACK_FUZZ_CORPUS  corpus directory (default: <source>/tests/fuzz/corpus,
#                       git-ignored); it keeps growing across runs
#
# What it does:
#   1. CC=clang meson setup <build> -Dfuzz=true (once), ninja -C <build>
#   2. USTACK_FUZZ_SEED_DIR=<corpus>/seeds meson test --suite unit: every
#      frame a unit test writes with us_test_hex() lands in <corpus>/seeds
#   3. fuzz_wire -max_total_time=SECONDS <corpus>/work <corpus>/seeds:
#      new inputs go to <corpus>/work; a crash is written to
#      <build>/fuzz-artifacts/crash-<sha1>, and the script exits non-zero.
#
# Reproduce a crash: <build>/tests/fuzz/fuzz_wire <build>/fuzz-artifacts/crash-...
# Needs clang and its fuzzer runtime (Debian: clang, libclang-rt-14-dev).
set -eu

secs=${1:-60}
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${USTACK_FUZZ_BUILD:-$src/build-fuzz}
corpus=${USTACK_FUZZ_CORPUS:-$src/tests/fuzz/corpus}
artifacts=$build/fuzz-artifacts

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" -Dfuzz=true
else
	meson configure "$build" -Dfuzz=true
fi
ninja -C "$build"

for f in fuzz_wire fuzz_input fuzz_dns; do
	if [ ! -x "$build/tests/fuzz/$f" ]; then
		echo "run-fuzz: $build/tests/fuzz/$f was not built (is the compiler clang? see tests/fuzz/meson.build)" >&2
		exit 1
	fi
done

mkdir -p "$corpus/seeds" "$corpus/work" "$artifacts"
# Seed files are named after the test process: start afresh each run.
find "$corpus/seeds" -name '*.bin' -type f -delete
# Seeds: a failing unit test still leaves its frames, so do not stop here.
if ! USTACK_FUZZ_SEED_DIR="$corpus/seeds" meson test -C "$build" --suite unit \
	--no-rebuild --print-errorlogs >"$build/fuzz-seed-tests.log" 2>&1; then
	echo "run-fuzz: some unit tests failed while collecting seeds (see $build/fuzz-seed-tests.log)" >&2
fi
echo "run-fuzz: $(find "$corpus/seeds" -type f | wc -l) seed files in $corpus/seeds"

# -max_len covers a 64 KB datagram in a VLAN-tagged frame (MAX_INPUT in
# fuzz_wire.c); the default (the largest seed) would keep the fuzzer from
# growing inputs, and -len_control lets it grow them sooner.
# The time is shared: half for the parsers, a third for the input path, the
# rest for DNS answers.
wire_secs=$((secs / 2))
input_secs=$((secs / 3))
dns_secs=$((secs - wire_secs - input_secs))
[ "$dns_secs" -gt 0 ] || dns_secs=1
[ "$wire_secs" -gt 0 ] || wire_secs=1
[ "$input_secs" -gt 0 ] || input_secs=1
mkdir -p "$corpus/work-input"
# A frame seed becomes an input-path seed by the [length][step] prefix.
mkdir -p "$corpus/seeds-input"
find "$corpus/seeds-input" -name '*.bin' -type f -delete
for f in "$corpus/seeds"/*.bin; do
	[ -f "$f" ] || continue
	n=$(wc -c <"$f")
	[ "$n" -le 65535 ] || continue
	{ printf "\\$(printf '%03o' $((n >> 8)))\\$(printf '%03o' $((n & 255)))\\001"; cat "$f"; } \
		>"$corpus/seeds-input/$(basename "$f")"
done
"$build/tests/fuzz/fuzz_input" \
	-max_total_time="$input_secs" \
	-max_len=65617 \
	-timeout=10 \
	-rss_limit_mb=2048 \
	-print_final_stats=1 \
	-artifact_prefix="$artifacts/" \
	"$corpus/work-input" "$corpus/seeds-input"

"$build/tests/fuzz/fuzz_wire" \
	-max_total_time="$wire_secs" \
	-max_len=65617 \
	-len_control=100 \
	-timeout=10 \
	-rss_limit_mb=2048 \
	-print_final_stats=1 \
	-artifact_prefix="$artifacts/" \
	"$corpus/work" "$corpus/seeds"

mkdir -p "$corpus/work-dns"
"$build/tests/fuzz/fuzz_dns" \
	-max_total_time="$dns_secs" \
	-max_len=4096 \
	-timeout=10 \
	-rss_limit_mb=2048 \
	-print_final_stats=1 \
	-artifact_prefix="$artifacts/" \
	"$corpus/work-dns" "$corpus/seeds"

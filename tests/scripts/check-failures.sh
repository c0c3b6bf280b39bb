#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The packet-script runner fails when it should, and says why: a syntax
# error names its line and column, a mismatch shows the expected and the
# actual line aligned, a segment no line expects is named, a trace that
# differs from its golden file fails, and --update-golden writes one.
#
# Usage: check-failures.sh USTACK_SCRIPT SCRIPTS_SOURCE_DIR
set -u
runner=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0

# expect NAME STATUS PATTERN... : the last run exited STATUS and its stderr
# holds every PATTERN (grep -E).
expect() {
	name=$1 want=$2
	shift 2
	if [ "$status" != "$want" ]; then
		echo "not ok: $name: exit status $status, expected $want"; cat "$tmp/err"; bad=1; return
	fi
	for p in "$@"; do
		if ! grep -Eq -- "$p" "$tmp/err"; then
			echo "not ok: $name: no line matching '$p' in:"; cat "$tmp/err"; bad=1; return
		fi
	done
	echo "ok: $name"
}

"$runner" --no-golden "$dir/bad/syntax_error.pkt" 2>"$tmp/err"; status=$?
expect syntax_error_names_line_and_column 2 \
	'syntax_error\.pkt:5:21: error: expected an acknowledgment number \(an integer\), found .win.' '^ {4}\+0\.1 < \. 1:1' '^ {24}\^$'

"$runner" --no-golden "$dir/bad/wrong_ack.pkt" 2>"$tmp/err"; status=$?
expect mismatch_shows_expected_and_actual 1 \
	'wrong_ack\.pkt:7: the segment the stack sent differs \(ack number\)' \
	'^    expected: 0\.100000 > S\. 0:0\(0\) ack 2 win 65535 <mss 1460>$' \
	'^    actual:   0\.100000 > S\. 0:0\(0\) ack 1 win 65535 <mss 1460>$'

"$runner" --no-golden "$dir/bad/missing_line.pkt" 2>"$tmp/err"; status=$?
expect unexpected_segment_is_named 1 \
	'missing_line\.pkt:8: the stack sent a segment that no line expects' \
	'^    actual:   0\.100000 > S\. 0:0\(0\) ack 1 '

"$runner" --no-golden "$dir/bad/wrong_state.pkt" 2>"$tmp/err"; status=$?
expect wrong_state_shows_expected_and_actual 1 \
	'wrong_state\.pkt:14: the call.s result differs' \
	'^    expected: tcp_state\(4242, 40000\) = TIME_WAIT$' \
	'^    actual:   tcp_state\(4242, 40000\) = 6 \(FIN_WAIT_2\)$'

"$runner" --no-golden "$dir/bad/wrong_tcp_info.pkt" 2>"$tmp/err"; status=$?
expect wrong_tcp_info_names_the_field 1 \
	'wrong_tcp_info\.pkt:11: the TCP info differs \(cwnd\)' \
	'^    expected: \{mss=1460, cwnd=16060\}$' \
	'^    actual:   \{mss=1460, cwnd=14600\}$'

"$runner" --no-golden "$dir/bad/wild_tsval_inbound.pkt" 2>"$tmp/err"; status=$?
expect inbound_tsval_cannot_be_wild 2 \
	'wild_tsval_inbound\.pkt:6:[0-9]+: error: a segment the peer sends cannot have wildcards'

# Goldens: written only on request, compared on every run.
cp "$dir/handshake_passive.pkt" "$tmp/hs.pkt"
"$runner" "$tmp/hs.pkt" 2>"$tmp/err"; status=$?
expect missing_golden_fails 1 'hs\.golden: .*--update-golden'
"$runner" --update-golden "$tmp/hs.pkt" 2>"$tmp/err"; status=$?
expect update_golden_writes_it 0 'hs\.golden: written'
"$runner" "$tmp/hs.pkt" 2>"$tmp/err"; status=$?
expect golden_matches 0 'hs\.pkt: pass'
sed 's/ack 1, win 65535, options/ack 2, win 65535, options/' "$tmp/hs.golden" >"$tmp/g2"
mv "$tmp/g2" "$tmp/hs.golden"
"$runner" "$tmp/hs.pkt" 2>"$tmp/err"; status=$?
expect golden_difference_fails 1 'differs from the golden file' '^  - +[0-9]+  .*ack 2,' '^  \+ +[0-9]+  .*ack 1,'
# A failing script never writes its golden.
cp "$dir/bad/wrong_ack.pkt" "$tmp/wa.pkt"
"$runner" --update-golden "$tmp/wa.pkt" 2>"$tmp/err"; status=$?
expect failing_script_writes_no_golden 1 'not written'
if [ -e "$tmp/wa.golden" ]; then echo "not ok: wa.golden was written"; bad=1; fi
exit $bad

#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file that marks a `Deviation:` or `Not implemented:` must be
# named in docs/deviations.md, so the list there stays true.
set -eu
src=${1:?usage: check-deviations-listed.sh SOURCE_ROOT}
cd "$src"
missing=0
for f in $(grep -rlE 'Deviation:|Not implemented:' src include | sort); do
	if ! grep -q "\`$f\`" docs/deviations.md; then
		echo "docs/deviations.md does not list $f"
		missing=1
	fi
done
[ $missing -eq 0 ] && echo "ok: every file that marks a deviation or gap is listed"
exit $missing

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Installs what is missing, builds, and runs the whole test suite:
#   1. gcc, -Werror: every test (unit, TAP devices in namespaces, tshark);
#   2. clang with AddressSanitizer and UndefinedBehaviorSanitizer: every test;
#   3. valgrind (memcheck, leaks are errors): the unit tests;
#      ThreadSanitizer (clang): the tests that share sockets between threads;
#   4. meson install into a temporary prefix, and a program built against it;
#   5. the fuzzers for a short run (FUZZ_SECONDS, default 20; 0 skips).
# Ends with a line "N passed, N failed, N skipped". Under CI (CI=true) a
# skipped test counts as failed: there, TAP and namespace tests must run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

jobs=$(nproc)

run_build() {  # name, setup args..., then: -- meson test args...
	local dir=$1; shift
	local setup=()
	while (($#)) && [[ $1 != -- ]]; do setup+=("$1"); shift; done
	shift
	echo "=== $dir: meson setup ${setup[*]}"
	if [[ ! -d $dir ]]; then
		meson setup "$dir" "${setup[@]}" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
	echo "=== $dir: meson test $*"
	meson test -C "$dir" --num-processes "$jobs" --print-errorlogs "$@" || true

}

run_build build-test -Dwerror=true -- 
CC=clang run_build build-test-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -- 
run_build build-test -- --setup valgrind --suite unit --logbase valgrind
# ThreadSanitizer over the tests where several threads share sockets and runtimes.
TSAN_OPTIONS=halt_on_error=1 CK_FORK=no CC=clang run_build build-test-tsan \
	-Db_sanitize=thread -Db_lundef=false -- socket runtime resolve memlink txq

# Checks outside Meson's runner, each a "name=pass|fail" for the summary.
extra=()
echo "=== install: meson install into a temporary prefix, build a user program"
if bash tests/install-check.sh build-test; then extra+=(install=pass); else extra+=(install=fail); fi
if [[ ${FUZZ_SECONDS:-20} != 0 ]]; then
	echo "=== fuzz: ${FUZZ_SECONDS:-20} s over the parsers and the input path"
	if bash tests/fuzz/run-fuzz.sh "${FUZZ_SECONDS:-20}" >build-test/fuzz.log 2>&1; then
		extra+=(fuzz=pass)
	else
		tail -40 build-test/fuzz.log
		extra+=(fuzz=fail)
	fi
fi

python3 - "${CI:-}" "${extra[@]}" <<'PY'
import json, sys, glob
ci, extra = sys.argv[1], sys.argv[2:]
passed = failed = skipped = 0
for log in sorted(glob.glob('build-test*/meson-logs/*.json')):
    for line in open(log):
        t = json.loads(line)
        r = t['result']
        name = f"{log.split('/')[0]}:{t['name']}"
        if r in ('OK', 'EXPECTEDFAIL'):
            passed += 1
        elif r == 'SKIP':
            if ci:
                print(f"FAILED (skipped under CI) {name}")
                failed += 1
            else:
                print(f"skipped {name}")
                skipped += 1
        else:
            print(f"FAILED {name}: {r}")
            failed += 1
for e in extra:
    name, result = e.split('=')
    if result == 'pass':
        passed += 1
    else:
        print(f"FAILED {name}")
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY

#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The core is sans-I/O: it may not reach the operating system. This test lists
# every symbol the core library needs from outside itself (nm -u, minus what
# its own objects define) and fails on anything not on the allow-list below:
# no I/O, clock, thread, stdio or randomness function may creep in.
set -eu
lib=${1:?usage: check-core-symbols.sh libustack-core.a}

# Pure functions of memory, allocation at creation, and what compilers and
# sanitizers insert on their own.
allowed='^(bcmp|memcpy|memmove|memset|memcmp|memchr|strlen|strcmp|strncmp|malloc|calloc|realloc|free|__assert_fail|__stack_chk_fail|__memcpy_chk|__memset_chk|__memmove_chk|_GLOBAL_OFFSET_TABLE_|__asan_.*|__ubsan_.*|__sanitizer_.*|__sancov_.*|__tsan_.*|__msan_.*|__lsan_.*)$'

defined=$(nm --defined-only -g "$lib" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u)
undefined=$(nm -u "$lib" | awk '/ U / {print $2}' | sed 's/@.*//' | sort -u)

bad=0
external=
for sym in $undefined; do
	if printf '%s\n' "$defined" | grep -qx -- "$sym"; then
		continue
	fi
	external="$external $sym"
	if printf '%s\n' "$sym" | grep -Eq "$allowed"; then
		continue
	fi
	echo "core references an outside symbol it may not use: $sym"
	bad=1
done
if [ $bad -ne 0 ]; then
	echo "FAIL: src/stack/ must not call the OS (see docs/architecture.md)"
	exit 1
fi
echo "ok: from outside itself the core uses only:$external"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/install-check.sh BUILD_DIR: `meson install` into a temporary prefix,
# then build and run a program against the installed headers, library and
# pkg-config file, as a user of the library would. Exit 0 when all works.
set -euo pipefail
build=${1:?usage: install-check.sh BUILD_DIR}
dest=$(mktemp -d /tmp/ustack-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" >/dev/null
pcdir=$(dirname "$(find "$dest" -name ustack.pc | head -n 1)")
libdir=$(dirname "$pcdir")
prefix=$(sed -n 's/^prefix=//p' "$pcdir/ustack.pc")

cat >"$dest/user.c" <<'C'
#include <stdio.h>
#include <ustack/core.h>
#include <ustack/ustack.h>
int main(void)
{
	struct us_stack_config cfg = { .seed = 1 };
	struct us_stack *s = us_stack_new(&cfg);
	if (!s)
		return 1;
	printf("next deadline: %s\n", us_stack_next_deadline(s) == US_TIME_NEVER ? "never" : "set");
	us_stack_free(s);
	return 0;
}
C
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest
cc -std=c11 -Wall -Wextra -Werror "$dest/user.c" -o "$dest/user" \
	$(pkg-config --cflags --libs ustack) -Wl,-rpath,"$libdir"
out=$("$dest/user")
[[ $out == "next deadline: never" ]] || { echo "install-check: unexpected output: $out" >&2; exit 1; }
echo "install-check: headers, library and ustack.pc work from $prefix"

# The Python package, when it was built: importable from where meson
# installed it (python/meson.build builds it for /usr/bin/python3).
pkg=$(find "$dest" -path '*/ustack/__init__.py' | head -n 1)
if [[ -n $pkg ]]; then
	pydir=$(dirname "$(dirname "$pkg")")
	out=$(LD_LIBRARY_PATH=$libdir PYTHONPATH=$pydir /usr/bin/python3 -c \
		'from ustack import socket, usocket; print(socket.SOCK_STREAM, socket.AF_INET6, usocket is socket)')
	[[ $out == "1 10 True" ]] || { echo "install-check: the installed Python package says: $out" >&2; exit 1; }
	echo "install-check: the Python package imports from $pydir"
fi

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Installs the Debian packages ustack needs that are not installed yet, and
# nothing else. Debian 12, as root. Safe to run again: it then does nothing.
set -euo pipefail

packages=(
	# build
	gcc clang meson ninja-build pkg-config
	# libraries
	libpcap-dev check libsubunit-dev
	# tests and the demo: namespaces and TAP devices, real peers, captures,
	# a router advertisement daemon for the SLAAC test (tests/tap/test-slaac.sh)
	iproute2 iputils-ping iputils-arping tshark tcpdump radvd
	# the UDP echo test (socat) and the resolver test (dnsmasq, a real DNS server)
	socat dnsmasq-base python3
	# the Python package (python/, docs/python.md) and its tests
	python3-dev python3-pytest
	# the kernel's TCP clients for the demo's services and the TCP tests
	# (curl for HTTP; ncat for echo, chargen and discard)
	curl ncat
	# the SYN flood test (tests/tap/test-tcp-synflood.sh)
	hping3
	# sanitizers, fuzzing (libFuzzer runtime) and memcheck
	valgrind libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if ((EUID != 0)); then
	echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

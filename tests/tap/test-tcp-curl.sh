#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-tcp-curl.sh - the kernel's curl against ustack-demo's HTTP/1.1
# server (TCP port 80; tools/ustack-demo.c), over IPv4 and IPv6:
#  - keep-alive (RFC 9112 §9.3 "persistent connections"): one curl process
#    fetches / 1000 times and opens one connection for all of them
#    (curl -w '%{num_connects}' adds up to 1);
#  - without it: 1000 requests with "Connection: close" (RFC 9112 §9.6), and
#    HTTP/1.0 requests, each on a connection of its own (1 connect each);
#  - every one of those requests answered 200, none missing, curl exit 0;
#  - files from --http-root come back byte for byte (sha256 equal; 0 bytes,
#    a short text, 5 MB of seeded pseudo-random bytes), several in one
#    keep-alive connection too, and a missing file is a 404;
#  - the demo stops cleanly on SIGTERM afterwards (lib.sh, stop_stack).
# The time each part takes is printed (requests per second).
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

need_tool curl
need_tool python3
need_tool sha256sum

REQUESTS=${USTACK_CURL_REQUESTS:-1000}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_up SECONDS CMD...: polls CMD every 0.1 s until it succeeds, at most
# SECONDS of wall-clock time (CMD bounds itself); 1 on timeout.
wait_up() {
	local end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# A document root: an empty file, a short text, 5 MB of seeded bytes.
www=$tap_tmp/www
mkdir -p "$www"
: >"$www/empty.txt"
echo "hello from the kernel side's files" >"$www/hello.txt"
python3 -c '
import random, sys
r = random.Random(9293)
with open(sys.argv[1], "wb") as f:
    for _ in range(5):
        f.write(r.randbytes(1 << 20))' "$www/big.bin"

kernel_side_up
start_stack --http-root "$www"
wait_ping 10 "$STACK_IP4" || fail "no ping reply from $STACK_IP4"
wait_ping 15 -6 "$STACK_IP6" || fail "no ping reply from $STACK_IP6 (DAD not done?)"
wait_up 10 curl -s -o /dev/null --max-time 2 "http://$STACK_IP4/" ||
	fail "no HTTP answer from http://$STACK_IP4/ within 10 s"

# many DESC HOST COUNT WANT_CONNECTS CURL_ARGS...: one curl process fetching
# http://HOST/ COUNT times (a config file of COUNT urls), -w printing each
# transfer's status and connects; every status must be 200 and the
# connects must add up to WANT_CONNECTS. Each transfer may take 10 s, all
# of them 100 s.
many() {
	local desc=$1 host=$2 count=$3 want=$4
	shift 4
	local cfg=$tap_tmp/urls.cfg out=$tap_tmp/many.out i t0 t1 status
	: >"$cfg"
	for ((i = 0; i < count; i++)); do
		printf 'url = "http://%s/"\noutput = "/dev/null"\n' "$host" >>"$cfg"
	done
	t0=$(now_ms)
	timeout 100 curl -sS --max-time 10 -K "$cfg" \
		-w '%{http_code} %{num_connects}\n' "$@" >"$out" 2>&1
	status=$?
	t1=$(now_ms)
	local ok conns lines
	ok=$(grep -c '^200 [0-9]*$' "$out")
	lines=$(grep -c '^[0-9][0-9]* [0-9]*$' "$out")
	conns=$(awk '/^[0-9]+ [0-9]+$/ { n += $2 } END { print n + 0 }' "$out")
	local ms=$((t1 - t0 > 0 ? t1 - t0 : 1))
	if [ "$status" = 0 ] && [ "$ok" = "$count" ] && [ "$lines" = "$count" ] && [ "$conns" = "$want" ]; then
		pass "$desc: $count of $count requests answered 200 on $conns connection(s)," \
			"$ms ms ($((count * 1000 / ms)) requests/s)"
	else
		fail "$desc: curl exit $status, $ok of $count answered 200 ($lines transfers)," \
			"$conns connection(s) (want $want), $ms ms"
		echo "  command: curl -sS -K urls.cfg -w '%{http_code} %{num_connects}\\n' $*" \
			"(http://$host/ $count times)"
		grep -v '^200 [0-9]*$' "$out" | sort | uniq -c | head -20 | sed 's/^/  | /'
	fi
}

many "IPv4 keep-alive" "$STACK_IP4" "$REQUESTS" 1
many "IPv6 keep-alive" "[$STACK_IP6]" "$REQUESTS" 1
many "IPv4 Connection: close" "$STACK_IP4" "$REQUESTS" "$REQUESTS" -H 'Connection: close'
many "IPv6 HTTP/1.0" "[$STACK_IP6]" 200 200 --http1.0

# get DESC URL FILE: one curl, the body must equal FILE (sha256).
get() {
	local desc=$1 url=$2 file=$3 out=$tap_tmp/get.out body=$tap_tmp/get.body code
	rm -f "$body"
	code=$(timeout 60 curl -sS --max-time 30 -o "$body" -w '%{http_code}' "$url" 2>"$out")
	local want got
	want=$(sha256sum <"$file" | cut -d' ' -f1)
	got=$(sha256sum <"$body" 2>/dev/null | cut -d' ' -f1)
	if [ "$code" = 200 ] && [ "$want" = "$got" ]; then
		pass "$desc: 200, $(stat -c %s "$body") bytes, sha256 $got equal"
	else
		fail "$desc: status '$code', sha256 '$got', want $want ($(stat -c %s "$file") bytes)"
		show "curl -o body $url" "$out"
	fi
}

for f in empty.txt hello.txt big.bin; do
	get "IPv4 GET /$f" "http://$STACK_IP4/$f" "$www/$f"
done
get "IPv6 GET /big.bin" "http://[$STACK_IP6]/big.bin" "$www/big.bin"

# Three files in one curl process: one connection, each body equal.
out=$tap_tmp/three.out
if run "$out" timeout 60 curl -sS --max-time 30 -w '%{http_code} %{num_connects}\n' \
	-o "$tap_tmp/1" "http://$STACK_IP4/big.bin" -o "$tap_tmp/2" "http://$STACK_IP4/hello.txt" \
	-o "$tap_tmp/3" "http://$STACK_IP4/big.bin" &&
	[ "$(awk '$1 == 200 { n++; c += $2 } END { print n "/" c }' "$out")" = 3/1 ] &&
	cmp -s "$tap_tmp/1" "$www/big.bin" && cmp -s "$tap_tmp/2" "$www/hello.txt" &&
	cmp -s "$tap_tmp/3" "$www/big.bin"; then
	pass "three files over one keep-alive connection, each equal"
else
	fail "three files over one keep-alive connection"
	show "curl -o 1 /big.bin -o 2 /hello.txt -o 3 /big.bin" "$out"
fi

code=$(timeout 30 curl -s --max-time 20 -o /dev/null -w '%{http_code}' "http://$STACK_IP4/no-such-file")
if [ "$code" = 404 ]; then
	pass "GET /no-such-file: 404"
else
	fail "GET /no-such-file: status '$code', want 404"
fi

finish

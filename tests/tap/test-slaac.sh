#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/tap/test-slaac.sh - a Router Advertisement from the kernel side gives
# ustack a SLAAC address that then answers pings (issue 3; RFC 4862 §5.5.3).
#
# The stack starts with no static IPv6 address (ustack-demo --ip6 none) and
# the fixed MAC 02:5e:10:00:00:02, so the address SLAAC must form is known:
# the advertised prefix 2001:db8:1::/64 and the EUI-64 interface identifier
# (RFC 4291 §2.5.1, appendix A), 2001:db8:1:0:5e:10ff:fe00:2. radvd (a
# Debian package) runs on the kernel side of tap0 with a configuration
# written here: the prefix with the A (autonomous) and L (on-link) flags,
# RAs every 3-4 s, and it answers Router Solicitations at once. Checked:
#  - the stack sends a Router Solicitation to all-routers ff02::2 (RFC 4861
#    §6.3.7) within its first seconds, seen in a capture on tap0 (radvd is
#    started only then: a valid RA with a non-zero Router Lifetime makes a
#    host "desist from sending additional solicitations", so an RA first
#    could rightly leave no RS to see);
#  - the SLAAC address answers `ping -6` (polled, at most 20 s: RS delay,
#    RA, DAD), then 5 pings with 0% loss;
#  - ustack-demo reports it as a SLAAC address that reached PREFERRED.
#
# Run through netns-run.sh (tests/tap/meson.build); see lib.sh.
. "$(dirname "$0")/lib.sh"

need_tool radvd
need_tool tcpdump

slaac=2001:db8:1:0:$(eui64_iid "$STACK_MAC")
kernel_side_up
capture_start "$tap_tmp/slaac.pcap"
start_stack --ip6 none

# radvd sends from the kernel's link-local address, which exists once the
# stack holds tap0 (carrier) and the kernel's own DAD for it is over.
kernel_ll_ready() {
	ip -6 -o addr show dev tap0 scope link | grep -v tentative | grep -q fe80
}
if ! wait_for 10 kernel_ll_ready; then
	fail "the kernel side of tap0 has no usable link-local address after 10 s"
	ip -6 addr show dev tap0
	finish
fi

# The RS goes after a random delay of at most MAX_RTR_SOLICITATION_DELAY (1 s).
if wait_for 5 capture_has 1 "ether src $STACK_MAC and icmp6 and ip6[40] == 133 and ip6 dst ff02::2"; then
	pass "the stack sent a Router Solicitation to ff02::2"
else
	fail "no Router Solicitation from the stack within 5 s"
	tcpdump -r "$tap_tmp/slaac.pcap" -n 2>&1 | sed 's/^/  | /'
fi

cat >"$tap_tmp/radvd.conf" <<EOT
interface tap0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	AdvDefaultLifetime 60;
	prefix 2001:db8:1::/64 {
		AdvOnLink on;
		AdvAutonomous on;
		AdvValidLifetime 600;
		AdvPreferredLifetime 300;
	};
};
EOT
chmod 600 "$tap_tmp/radvd.conf"
radvd -n -C "$tap_tmp/radvd.conf" -p "$tap_tmp/radvd.pid" -m stderr -d 1 \
	>"$tap_tmp/radvd.log" 2>&1 &
radvd_pid=$!
tap_pids="$tap_pids $radvd_pid"

if wait_ping 20 -6 "$slaac"; then
	pass "the SLAAC address $slaac answers ping -6"
else
	fail "no ping reply from the SLAAC address $slaac within 20 s"
	echo "--- radvd's output:"
	sed 's/^/  | /' "$tap_tmp/radvd.log"
fi
expect_ping "ping -6 -c 5 $slaac" 5 -6 -c 5 -i 0.2 -w 10 "$slaac"

if wait_for 5 grep -q "^ipv6 $slaac/64 (SLAAC): PREFERRED" "$stack_log"; then
	pass "ustack-demo reports $slaac/64 as a SLAAC address, PREFERRED"
else
	fail "ustack-demo does not report $slaac/64 (SLAAC) as PREFERRED"
fi

capture_stop
finish

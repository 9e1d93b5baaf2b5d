#!/usr/bin/env bash
# Debian packages the lab and its tests need. Run as root; CI runs it from .ci/run.
# chromium: the HTML report's browser test (playwright-core drives it; no browser is downloaded).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: not root; install as root: iproute2 tcpdump iperf3 ethtool iputils-ping procps libpcap-dev wireshark-common tshark nftables chromium prometheus systemd" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq iproute2 tcpdump iperf3 ethtool iputils-ping procps libpcap-dev wireshark-common tshark nftables chromium >/dev/null
# promtool (checks /metrics and the alert rules of deploy/; ~19 MB, no daemon is started) and
# systemd-analyze (verifies deploy/'s unit).
apt-get install -y -qq --no-install-recommends prometheus systemd >/dev/null

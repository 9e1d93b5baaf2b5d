#!/usr/bin/env bash
# Re-record every committed scenario under samples/ with lab.sh (root). Each scenario's README
# says what the kernel did; re-read them after a re-recording on another kernel.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
samples=$(dirname "$here")
record() {
  local name=$1; shift
  rm -rf "${samples:?}/$name.new"
  bash "$here/lab.sh" --out "$samples/$name.new" --scenario "$name" "$@"
  # keep each scenario's hand-written README
  [ -f "$samples/$name/README.md" ] && cp "$samples/$name/README.md" "$samples/$name.new/"
  rm -rf "${samples:?}/$name"; mv "$samples/$name.new" "$samples/$name"
}
record jumbo-underlay --underlay-mtu 9000
record fragmenting-underlay --underlay-mtu 1400 --pmtu-disc off
record pmtu-underlay --underlay-mtu 1400
record guest-tso-off --underlay-mtu 9000 --guest-tso off
record nic-tunnel-tso --underlay-mtu 9000 --nic-tunnel-tso on
record geneve-jumbo-underlay --underlay-mtu 9000 --encap geneve
record ipv6-jumbo-underlay --underlay-mtu 9000 --underlay ipv6
# Faults: the MTU black hole (no fragments, no ICMP reaches the guest) and loss that TCP repaired.
record mtu-blackhole-ipv6 --underlay ipv6 --underlay-mtu 1400 --pmtu-disc off --duration 4
record mtu-blackhole-ipv4-df --underlay-mtu 1400 --pmtu-disc off --tunnel-df set --duration 4
record mtu-blackhole-icmp-filtered --underlay-mtu 1400 --filter-icmp-frag --duration 4
record loss-receiving-host --underlay-mtu 9000 --bytes 1000000 --drop-rx-every 100
record loss-in-bridge --underlay-mtu 9000 --bytes 1000000 --drop-bridge-every 20

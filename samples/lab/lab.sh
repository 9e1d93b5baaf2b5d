#!/usr/bin/env bash
# hopscope lab: rebuild the hypervisor path of a VXLAN/Geneve overlay with real Linux devices in
# network namespaces, push TCP through it and capture at every hop with tcpdump.
#
#   guest1 eth0 <-veth-> host1 tap0 -> brq<VNI> -> vxlan-<VNI> -> phy0 <-veth->
#   host2 phy0 -> vxlan-<VNI> -> brq<VNI> -> tap0 <-veth-> guest2 eth0
#
# The veth between guest and host stands in for virtio/tap; the veth between the two hypervisor
# namespaces stands in for the physical wire. One pcap per interface is written to the output
# folder as <host>-<interface>.pcap, with topology.json describing every capture point.
#
# Run as root:  samples/lab/lab.sh --out /tmp/jumbo --underlay-mtu 9000
# See --help for the knobs. Every namespace name carries a per-run suffix, so two runs never
# collide, and everything is torn down on success, failure or Ctrl-C.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: lab.sh --out DIR [options]

  --out DIR                 where the captures and topology.json go (created; must be empty or new)
  --scenario NAME           name written to topology.json (default: the folder's name)
  --underlay-mtu N          MTU of the physical link between the hypervisors (default 9000)
  --overlay-mtu N           MTU of guests, taps, bridges and the tunnel device (default 1500)
  --pmtu-disc on|off        guest path MTU discovery (off sets net.ipv4.ip_no_pmtu_disc=1; default on)
  --guest-tso on|off        guest TSO/GSO (default on)
  --nic-tunnel-tso on|off   tx-udp_tnl-segmentation on the physical NIC (default off)
  --encap vxlan|geneve      encapsulation (default vxlan). This machine's kernel may lack geneve;
                            then the run records VXLAN and re-encapsulates it as Geneve with
                            samples/lab/reencap-geneve.mjs (recorded as such in topology.json)
  --underlay ipv4|ipv6      address family of the underlay (default ipv4)
  --snaplen N               tcpdump snap length (default 256)
  --bytes N                 TCP payload bytes sent from guest1 to guest2 (default 2000000)
  --vni N                   VXLAN network identifier (default 97)
  --duration N              send for N seconds (iperf3 -t) instead of --bytes, and stop the run
                            after it even when the transfer stalls (an MTU black hole)
  --tunnel-df set|unset|inherit
                            DF on the tunnel's outer IPv4 header (ip link ... df; default: the
                            kernel's, unset). set: an outer packet above the underlay MTU is dropped
  --drop-rx-every N         nftables on host2: drop every Nth tunnel packet in the input hook, after
                            the physical NIC's capture (a receiving host that loses packets)
  --drop-bridge-every N     nftables on host1: drop every Nth data frame from guest1 the bridge
                            forwards (bridge forward hook), after the bridge's capture and before
                            the tunnel device
  --filter-icmp-frag        nftables on host1: the bridge drops ICMP "fragmentation needed" on its
                            way to the guest (a firewall that filters ICMP)
  --any                     also capture each hypervisor with tcpdump -i any (Linux cooked v2):
                            <host>-any.pcap, one file holding all of that host's interfaces
  --keep                    leave the namespaces up for inspection (you tear them down)
  --setup-only              build the namespaces and devices, capture nothing, send nothing, and
                            leave them up: DIR/lab.env names them (for hopscope live and its tests)
  --push DIR                send the traffic (--bytes or --duration, --rate) through the lab that
                            --setup-only left in DIR, without capturing; the namespaces stay up
  --rate BITS               with --push: limit iperf3 to this rate (iperf3 -b, e.g. 1G)
  --teardown DIR            delete the namespaces of the lab that --setup-only left in DIR
  -h, --help                this text

Needs root, ip and ss (iproute2), tcpdump, ethtool, iperf3, sysctl (procps), ping (iputils-ping);
nft (nftables) for the drop and filter knobs.
EOF
}

die() { echo "lab: $*" >&2; exit 1; }

OUT=""; SCENARIO=""; UNDERLAY_MTU=9000; OVERLAY_MTU=1500; PMTU_DISC=on; GUEST_TSO=on
NIC_TNL_TSO=off; ENCAP=vxlan; UNDERLAY=ipv4; SNAPLEN=256; BYTES=2000000; VNI=97; KEEP=0; ANY=0
DURATION=0; TUNNEL_DF=""; DROP_RX=0; DROP_BRIDGE=0; FILTER_ICMP=0; SETUP_ONLY=0; PUSH=""; RATE=""
TEARDOWN=""

onoff() { case "$2" in on|off) ;; *) die "$1 takes on or off, not '$2'";; esac; }
num() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 takes a number, not '$2'"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=${2:-}; shift 2;;
    --scenario) SCENARIO=${2:-}; shift 2;;
    --underlay-mtu) num "$1" "${2:-}"; UNDERLAY_MTU=$2; shift 2;;
    --overlay-mtu) num "$1" "${2:-}"; OVERLAY_MTU=$2; shift 2;;
    --pmtu-disc) onoff "$1" "${2:-}"; PMTU_DISC=$2; shift 2;;
    --guest-tso) onoff "$1" "${2:-}"; GUEST_TSO=$2; shift 2;;
    --nic-tunnel-tso) onoff "$1" "${2:-}"; NIC_TNL_TSO=$2; shift 2;;
    --encap) case "${2:-}" in vxlan|geneve) ENCAP=$2;; *) die "--encap takes vxlan or geneve";; esac; shift 2;;
    --underlay) case "${2:-}" in ipv4|ipv6) UNDERLAY=$2;; *) die "--underlay takes ipv4 or ipv6";; esac; shift 2;;
    --snaplen) num "$1" "${2:-}"; SNAPLEN=$2; shift 2;;
    --bytes) num "$1" "${2:-}"; BYTES=$2; shift 2;;
    --vni) num "$1" "${2:-}"; VNI=$2; shift 2;;
    --duration) num "$1" "${2:-}"; DURATION=$2; shift 2;;
    --tunnel-df) case "${2:-}" in set|unset|inherit) TUNNEL_DF=$2;; *) die "--tunnel-df takes set, unset or inherit";; esac; shift 2;;
    --drop-rx-every) num "$1" "${2:-}"; DROP_RX=$2; shift 2;;
    --drop-bridge-every) num "$1" "${2:-}"; DROP_BRIDGE=$2; shift 2;;
    --filter-icmp-frag) FILTER_ICMP=1; shift;;
    --keep) KEEP=1; shift;;
    --setup-only) SETUP_ONLY=1; KEEP=1; shift;;
    --push) PUSH=${2:-}; shift 2;;
    --rate) [[ "${2:-}" =~ ^[0-9]+[KMG]?$ ]] || die "--rate takes a rate such as 1G, not '${2:-}'"; RATE=$2; shift 2;;
    --teardown) TEARDOWN=${2:-}; shift 2;;
    --any) ANY=1; shift;;
    -h|--help) usage; exit 0;;
    *) usage >&2; die "unknown argument '$1'";;
  esac
done

# --- a lab left up by --setup-only: push traffic through it, or tear it down ------------------
if [ -n "$PUSH$TEARDOWN" ]; then
  env_file="${PUSH:-$TEARDOWN}/lab.env"
  [ -f "$env_file" ] || die "$env_file not found: give the --out folder of a lab.sh --setup-only run"
  # shellcheck disable=SC1090
  . "$env_file"
  [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces); run it with sudo"
  if [ -n "$TEARDOWN" ]; then
    for ns in "$LAB_GUEST1" "$LAB_HOST1" "$LAB_HOST2" "$LAB_GUEST2"; do ip netns del "$ns" 2>/dev/null || true; done
    echo "lab: torn down ${LAB_HOST1%-host1}" >&2
    exit 0
  fi
  LIMIT=600; AMOUNT=(-n "$BYTES")
  if [ "$DURATION" -gt 0 ]; then LIMIT=$((DURATION + 10)); AMOUNT=(-t "$DURATION"); fi
  [ -n "$RATE" ] && AMOUNT+=(-b "$RATE")
  LOG=$(mktemp -d /tmp/hopscope-lab-push.XXXX)
  ip netns exec "$LAB_GUEST2" timeout "$LIMIT" iperf3 -s -1 -B "$LAB_GUEST2_IP" >"$LOG/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 50); do ip netns exec "$LAB_GUEST2" ss -ltn 2>/dev/null | grep -q ":5201 " && break; sleep 0.1; done
  rc=0
  ip netns exec "$LAB_GUEST1" timeout "$LIMIT" iperf3 -c "$LAB_GUEST2_IP" "${AMOUNT[@]}" -l 128K >"$LOG/client.log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  tail -4 "$LOG/client.log" >&2
  rm -rf "$LOG"
  [ "$rc" -eq 0 ] || [ "$DURATION" -gt 0 ] || die "iperf3 failed"
  exit 0
fi

[ -n "$OUT" ] || { usage >&2; die "--out DIR is required"; }

# --- preflight: say exactly what is missing, then stop --------------------------------------
missing=()
LAB_TOOLS=(ip tcpdump ethtool iperf3 sysctl ping ss)
[ "$SETUP_ONLY" -eq 1 ] && LAB_TOOLS=(ip ethtool iperf3 sysctl ping ss)
for tool in "${LAB_TOOLS[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "$DROP_RX" -gt 0 ] || [ "$DROP_BRIDGE" -gt 0 ] || [ "$FILTER_ICMP" -eq 1 ]; then
  command -v nft >/dev/null 2>&1 || missing+=(nft)
fi
if [ ${#missing[@]} -gt 0 ]; then
  die "missing tool(s): ${missing[*]} (Debian: apt-get install iproute2 tcpdump ethtool iperf3 procps iputils-ping nftables)"
fi
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, veth, bridge and vxlan devices); run it with sudo"
[ -e "$OUT" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ] && die "--out $OUT exists and is not empty"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -n "$SCENARIO" ] || SCENARIO=$(basename "$OUT")
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "$UNDERLAY_MTU" -lt 1280 ] && [ "$UNDERLAY" = ipv6 ]; then die "an IPv6 underlay needs --underlay-mtu >= 1280"; fi
[ "$OVERLAY_MTU" -ge 576 ] || die "--overlay-mtu must be at least 576"
[ -z "$TUNNEL_DF" ] || [ "$UNDERLAY" = ipv4 ] || die "--tunnel-df applies to an IPv4 underlay only"
[ -z "$TUNNEL_DF" ] || [ "$ENCAP" = vxlan ] || die "--tunnel-df is set on the vxlan device only"

# --- unique names, teardown -----------------------------------------------------------------
RUN="hs$$$(printf '%04x' $((RANDOM)))"
NS_G1="$RUN-guest1"; NS_H1="$RUN-host1"; NS_H2="$RUN-host2"; NS_G2="$RUN-guest2"
ALL_NS=("$NS_G1" "$NS_H1" "$NS_H2" "$NS_G2")
PIDS=()
WORK=$(mktemp -d "/tmp/hopscope-lab.$RUN.XXXX")

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  if [ "$KEEP" -eq 1 ] && [ "$rc" -eq 0 ]; then
    echo "lab: --keep: namespaces ${ALL_NS[*]} left up; remove with: for n in ${ALL_NS[*]}; do ip netns del \$n; done" >&2
  else
    for ns in "${ALL_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  fi
  ip netns del "$RUN-probe" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap teardown EXIT
trap 'echo "lab: interrupted" >&2; exit 130' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# --- addresses: all inside the lab's namespaces, none routed out -----------------------------
# The guests live on 10.97.0.0/24 (the overlay); the underlay is 10.200.0.0/24 or fd00:200::/64.
G1_IP=10.97.0.150; G2_IP=10.97.0.103
if [ "$UNDERLAY" = ipv4 ]; then
  H1_UL=10.200.0.42; H2_UL=10.200.0.43; UL_PREFIX=24; UL_OVERHEAD=50
else
  H1_UL=fd00:200::42; H2_UL=fd00:200::43; UL_PREFIX=64; UL_OVERHEAD=70
fi

# Geneve: use the kernel's driver when it has one, else record VXLAN and re-encapsulate.
TUNNEL_KIND=$ENCAP; SYNTH_GENEVE=0
if [ "$ENCAP" = geneve ]; then
  probe_ns="$RUN-probe"
  ip netns add "$probe_ns"
  if ip -n "$probe_ns" link add gprobe type geneve id 1 remote 127.0.0.2 2>/dev/null; then
    SYNTH_GENEVE=0
  else
    SYNTH_GENEVE=1; TUNNEL_KIND=vxlan
    echo "lab: this kernel has no geneve driver; recording VXLAN and re-encapsulating it as Geneve" >&2
  fi
  ip netns del "$probe_ns"
fi
TUN_DEV="${TUNNEL_KIND}-${VNI}"
BR_DEV="brq${VNI}"

for ns in "${ALL_NS[@]}"; do
  ip netns add "$ns"
  nsx "$ns" ip link set lo up
done

# guest <-> host tap (veth standing in for virtio/tap)
ip -n "$NS_H1" link add tap0 type veth peer name eth0 netns "$NS_G1"
ip -n "$NS_H2" link add tap0 type veth peer name eth0 netns "$NS_G2"
# the physical wire between the hypervisors
ip -n "$NS_H1" link add phy0 type veth peer name phy0 netns "$NS_H2"

setup_host() {
  local ns=$1 local_ul=$2 remote_ul=$3
  # Start the underlay large: the tunnel device's MTU may not exceed underlay - overhead when it
  # is set, so the overlay MTU is set first and the underlay lowered afterwards, as an operator
  # who changes a NIC would do.
  ip -n "$ns" link set phy0 mtu $(( OVERLAY_MTU + UL_OVERHEAD > UNDERLAY_MTU ? OVERLAY_MTU + UL_OVERHEAD : UNDERLAY_MTU ))
  ip -n "$ns" addr add "$local_ul/$UL_PREFIX" dev phy0 nodad 2>/dev/null || ip -n "$ns" addr add "$local_ul/$UL_PREFIX" dev phy0
  ip -n "$ns" link set phy0 up
  if [ "$TUNNEL_KIND" = vxlan ]; then
    local df=()
    [ -n "$TUNNEL_DF" ] && df=(df "$TUNNEL_DF")
    ip -n "$ns" link add "$TUN_DEV" type vxlan id "$VNI" local "$local_ul" remote "$remote_ul" dstport 4789 dev phy0 "${df[@]}"
  else
    ip -n "$ns" link add "$TUN_DEV" type geneve id "$VNI" remote "$remote_ul"
  fi
  ip -n "$ns" link set "$TUN_DEV" mtu "$OVERLAY_MTU"
  ip -n "$ns" link add "$BR_DEV" type bridge
  ip -n "$ns" link set tap0 mtu "$OVERLAY_MTU"
  ip -n "$ns" link set tap0 master "$BR_DEV"
  ip -n "$ns" link set "$TUN_DEV" master "$BR_DEV"
  ip -n "$ns" link set "$BR_DEV" up
  ip -n "$ns" link set tap0 up
  ip -n "$ns" link set "$TUN_DEV" up
  ip -n "$ns" link set phy0 mtu "$UNDERLAY_MTU"
  # veth only merges (GRO) on receive when it runs NAPI; a real NIC does this by default.
  nsx "$ns" ethtool -K phy0 gro on >/dev/null 2>&1 || true
  nsx "$ns" ethtool -K phy0 tx-udp_tnl-segmentation "$NIC_TNL_TSO" tx-udp_tnl-csum-segmentation "$NIC_TNL_TSO" >/dev/null 2>&1 ||
    echo "lab: could not set tx-udp_tnl-segmentation $NIC_TNL_TSO on $ns phy0" >&2
}
setup_host "$NS_H1" "$H1_UL" "$H2_UL"
setup_host "$NS_H2" "$H2_UL" "$H1_UL"

setup_guest() {
  local ns=$1 ip=$2
  nsx "$ns" ip link set eth0 mtu "$OVERLAY_MTU"
  nsx "$ns" ip addr add "$ip/24" dev eth0
  nsx "$ns" ip link set eth0 up
  if [ "$PMTU_DISC" = off ]; then nsx "$ns" sysctl -qw net.ipv4.ip_no_pmtu_disc=1; fi
  if [ "$GUEST_TSO" = off ]; then nsx "$ns" ethtool -K eth0 tso off gso off >/dev/null; fi
}
setup_guest "$NS_G1" "$G1_IP"
setup_guest "$NS_G2" "$G2_IP"

# --- faults: drops by nftables, each after one capture point and before the next ------------
# tcpdump sees a received frame before netfilter's hooks, and a bridge capture (promiscuous)
# gets its copy before the bridge forwards the frame.
if [ "$DROP_RX" -gt 0 ]; then
  nsx "$NS_H2" nft -f - <<EOF
table inet hopscope_lab {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport { 4789, 6081 } numgen inc mod $DROP_RX == 0 counter drop
  }
}
EOF
fi
if [ "$DROP_BRIDGE" -gt 0 ] || [ "$FILTER_ICMP" -eq 1 ]; then
  rules=""
  [ "$DROP_BRIDGE" -gt 0 ] && rules+="    ip saddr $G1_IP ip length > 100 numgen inc mod $DROP_BRIDGE == 0 counter drop"$'\n'
  [ "$FILTER_ICMP" -eq 1 ] && rules+="    icmp type destination-unreachable icmp code frag-needed counter drop"$'\n'
  nsx "$NS_H1" nft -f - <<EOF
table bridge hopscope_lab {
  chain forward {
    type filter hook forward priority 0; policy accept;
$rules  }
}
EOF
fi

# --- captures -------------------------------------------------------------------------------
# name ns host interface kind
CAPTURES=(
  "$NS_G1 guest1 eth0 guest"
  "$NS_H1 host1 tap0 tap"
  "$NS_H1 host1 $BR_DEV bridge"
  "$NS_H1 host1 $TUN_DEV $TUNNEL_KIND"
  "$NS_H1 host1 phy0 physical"
  "$NS_H2 host2 phy0 physical"
  "$NS_H2 host2 $TUN_DEV $TUNNEL_KIND"
  "$NS_H2 host2 $BR_DEV bridge"
  "$NS_H2 host2 tap0 tap"
  "$NS_G2 guest2 eth0 guest"
)
# tcpdump -i any on each hypervisor (not hops of the path: files that hold several of them).
ANY_CAPTURES=()
if [ "$ANY" -eq 1 ]; then ANY_CAPTURES=("$NS_H1 host1 any any" "$NS_H2 host2 any any"); fi

# Wait until both guests reach each other before capturing, so ARP and the FDB are settled.
for _ in $(seq 1 50); do
  nsx "$NS_G1" ping -c1 -W1 "$G2_IP" >/dev/null 2>&1 && break
  sleep 0.1
done
nsx "$NS_G1" ping -c1 -W1 "$G2_IP" >/dev/null 2>&1 || die "guest1 cannot reach guest2 through the overlay"

if [ "$SETUP_ONLY" -eq 1 ]; then
  # What hopscope live and its tests need to find the lab again; `--push DIR` and `--teardown DIR`
  # read it. The namespaces stay up (KEEP) until --teardown.
  {
    echo "LAB_GUEST1=$NS_G1"; echo "LAB_HOST1=$NS_H1"; echo "LAB_HOST2=$NS_H2"; echo "LAB_GUEST2=$NS_G2"
    echo "LAB_GUEST1_IP=$G1_IP"; echo "LAB_GUEST2_IP=$G2_IP"
    echo "LAB_BRIDGE=$BR_DEV"; echo "LAB_TUNNEL=$TUN_DEV"
    echo "LAB_UNDERLAY_MTU=$UNDERLAY_MTU"; echo "LAB_OVERLAY_MTU=$OVERLAY_MTU"
    # The ten hops in path order, as hopscope live names them: NAMESPACE/INTERFACE.
    echo "LAB_HOPS=\"$NS_G1/eth0 $NS_H1/tap0 $NS_H1/$BR_DEV $NS_H1/$TUN_DEV $NS_H1/phy0 $NS_H2/phy0 $NS_H2/$TUN_DEV $NS_H2/$BR_DEV $NS_H2/tap0 $NS_G2/eth0\""
  } >"$OUT/lab.env"
  echo "lab: namespaces ${ALL_NS[*]} are up; $OUT/lab.env names them" >&2
  exit 0
fi

for entry in "${CAPTURES[@]}" "${ANY_CAPTURES[@]}"; do
  read -r ns host ifname _ <<<"$entry"
  file="$OUT/$host-$ifname.pcap"
  [ "$SYNTH_GENEVE" -eq 1 ] && [ "$ifname" = phy0 ] && file="$WORK/$host-$ifname.vxlan.pcap"
  linktype=()
  [ "$ifname" = any ] && linktype=(-y LINUX_SLL2)
  # ip netns exec execs tcpdump, so $! is tcpdump itself and SIGINT reaches it; -Z root keeps it
  # able to write into a root-owned folder.
  ip netns exec "$ns" tcpdump -Z root --immediate-mode -i "$ifname" "${linktype[@]}" -s "$SNAPLEN" -nn -U -w "$file" 2>"$WORK/$host-$ifname.log" &
  PIDS+=($!)
done
# tcpdump says "listening on" once its socket is bound; only then may traffic start.
for entry in "${CAPTURES[@]}" "${ANY_CAPTURES[@]}"; do
  read -r ns host ifname _ <<<"$entry"
  for _ in $(seq 1 100); do grep -q "listening on" "$WORK/$host-$ifname.log" 2>/dev/null && break; sleep 0.05; done
  grep -q "listening on" "$WORK/$host-$ifname.log" || die "tcpdump on $host $ifname did not start: $(cat "$WORK/$host-$ifname.log")"
done

# --- traffic --------------------------------------------------------------------------------
LIMIT=600; AMOUNT=(-n "$BYTES")
if [ "$DURATION" -gt 0 ]; then LIMIT=$((DURATION + 10)); AMOUNT=(-t "$DURATION"); fi
ip netns exec "$NS_G2" timeout "$LIMIT" iperf3 -s -1 -B "$G2_IP" >"$WORK/iperf3-server.log" 2>&1 &
SERVER=$!; PIDS+=("$SERVER")
for _ in $(seq 1 50); do nsx "$NS_G2" ss -ltn 2>/dev/null | grep -q ":5201 " && break; sleep 0.1; done
# The client runs in the background and the script waits for it: bash runs the INT/TERM trap
# (and so the teardown) during `wait`, but not before a foreground child ends. timeout puts
# iperf3 in a process group of its own, so Ctrl-C reaches it only through the teardown's kill.
ip netns exec "$NS_G1" timeout "$LIMIT" iperf3 -c "$G2_IP" "${AMOUNT[@]}" -l 128K >"$WORK/iperf3-client.log" 2>&1 &
CLIENT=$!; PIDS+=("$CLIENT")
if ! wait "$CLIENT"; then
  # With --duration a stalled transfer is the point of the run: keep what was captured.
  [ "$DURATION" -gt 0 ] || die "iperf3 failed: $(tail -5 "$WORK/iperf3-client.log")"
  echo "lab: iperf3 did not finish (the transfer stalled?): $(tail -2 "$WORK/iperf3-client.log")" >&2
  kill "$SERVER" 2>/dev/null || true
fi
wait "$SERVER" 2>/dev/null || true
sleep 1

for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()

if [ "$SYNTH_GENEVE" -eq 1 ]; then
  command -v node >/dev/null 2>&1 || die "node is needed to re-encapsulate VXLAN as Geneve"
  for host in host1 host2; do
    node "$LAB_DIR/reencap-geneve.mjs" "$WORK/$host-phy0.vxlan.pcap" "$OUT/$host-phy0.pcap" "$VNI"
  done
fi

# --- topology.json --------------------------------------------------------------------------
json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
offloads_json() {
  # ethtool -k prints "feature: on [fixed]"; keep name -> on/off, note [fixed] apart.
  nsx "$1" ethtool -k "$2" 2>/dev/null | awk -F': ' 'NR>1 && NF>=2 {
      name=$1; gsub(/^[ \t]+/, "", name); split($2, v, " ");
      printf "%s\"%s\": \"%s\"", (n++ ? ", " : ""), name, v[1] }'
}
mtu_of() { nsx "$1" cat "/sys/class/net/$2/mtu"; }
{
  echo "{"
  echo "  \"scenario\": $(json_str "$SCENARIO"),"
  echo "  \"recordedWith\": \"samples/lab/lab.sh\","
  echo "  \"kernel\": $(json_str "$(uname -r)"),"
  echo "  \"tcpdump\": $(json_str "$(tcpdump --version 2>&1 | head -1)"),"
  echo "  \"knobs\": {"
  echo "    \"underlayMtu\": $UNDERLAY_MTU, \"overlayMtu\": $OVERLAY_MTU, \"pmtuDiscovery\": \"$PMTU_DISC\","
  echo "    \"guestTso\": \"$GUEST_TSO\", \"nicTunnelTso\": \"$NIC_TNL_TSO\", \"encapsulation\": \"$ENCAP\","
  echo "    \"underlay\": \"$UNDERLAY\", \"snaplen\": $SNAPLEN, \"bytes\": $BYTES, \"vni\": $VNI,"
  echo "    \"durationSec\": $DURATION, \"tunnelDf\": \"${TUNNEL_DF:-default}\", \"dropRxEvery\": $DROP_RX,"
  echo "    \"dropBridgeEvery\": $DROP_BRIDGE, \"filterIcmpFrag\": $([ "$FILTER_ICMP" -eq 1 ] && echo true || echo false)"
  echo "  },"
  if [ "$SYNTH_GENEVE" -eq 1 ]; then
    echo "  \"note\": \"The kernel that recorded this had no geneve driver: the physical captures were recorded as VXLAN and re-encapsulated as Geneve (UDP 6081, one 8-byte option) by samples/lab/reencap-geneve.mjs; the tunnel device captures carry the inner frames only.\","
  fi
  echo "  \"addresses\": { \"guest1\": \"$G1_IP\", \"guest2\": \"$G2_IP\", \"host1\": \"$H1_UL\", \"host2\": \"$H2_UL\" },"
  echo "  \"path\": ["
  n=0
  for entry in "${CAPTURES[@]}"; do
    read -r ns host ifname kind <<<"$entry"
    [ $n -gt 0 ] && echo ","
    n=$((n + 1))
    hop_kind=$kind
    [ "$SYNTH_GENEVE" -eq 1 ] && [ "$kind" = vxlan ] && hop_kind=geneve
    printf '    { "file": "%s-%s.pcap", "host": "%s", "interface": "%s", "ifindex": %s, "kind": "%s", "mtu": %s,\n      "offloads": { %s } }' \
      "$host" "$ifname" "$host" "$ifname" "$(nsx "$ns" cat "/sys/class/net/$ifname/ifindex")" "$hop_kind" \
      "$(mtu_of "$ns" "$ifname")" "$(offloads_json "$ns" "$ifname")"
  done
  echo
  if [ "$ANY" -eq 1 ]; then
    echo "  ],"
    echo "  \"anyCaptures\": ["
    echo "    { \"file\": \"host1-any.pcap\", \"host\": \"host1\" },"
    echo "    { \"file\": \"host2-any.pcap\", \"host\": \"host2\" }"
  fi
  echo "  ]"
  echo "}"
} >"$OUT/topology.json"

cp "$WORK/iperf3-client.log" "$OUT/iperf3.log" 2>/dev/null || true
echo "lab: $SCENARIO recorded in $OUT" >&2
for entry in "${CAPTURES[@]}"; do
  read -r _ host ifname _ <<<"$entry"
  f="$OUT/$host-$ifname.pcap"
  # frames, and the most common TCP payload lengths (innermost TCP, as tcpdump -v prints them)
  sizes=$(tcpdump -nn -v -r "$f" 2>/dev/null | grep -o 'length [0-9]*$' | awk '$2 > 0 {print $2}' |
    sort -n | uniq -c | sort -rn | head -3 | awk '{printf "%s%s x%s", (n++ ? ", " : ""), $2, $1}')
  printf '  %-24s %6d frames  TCP payloads: %s\n' "$(basename "$f")" \
    "$(tcpdump -nn -r "$f" 2>/dev/null | wc -l)" "${sizes:-none}" >&2
done

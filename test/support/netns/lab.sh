#!/usr/bin/env bash
# The real-traffic lab: two network namespaces, real nginx + the JSON API, and an AWS-style traffic
# mirror (VXLAN over UDP 4789) of the server's interface to a collector address in the root namespace.
#
#   cli ns (curl, wrk)                    srv ns                                  root ns
#   ┌──────────────┐   veth 10.213.1/24  ┌──────────────────────────────┐  veth  ┌────────────────┐
#   │ eth0 .1.2    │◄───────────────────►│ eth0 .1.1  nginx :80          │ 10.213.Y.0/30   │
#   │ /etc/hosts:  │                     │   └─proxy─► jsonapi 127.0.0.1:8080│               │
#   │ api.shop.example → 10.213.1.1      │ tc clsact on eth0, ingress+egress:                │
#   └──────────────┘                     │   u32 match-all → mirred egress mirror dev vx0    │
#                                        │ vx0: vxlan id VNI remote 10.213.Y.1 dstport 4789  │
#                                        │      dev uplink (10.213.Y.2) ─────────────────────►│ atr<ID> 10.213.Y.1
#                                        └──────────────────────────────┘        │ collector binds
#                                                                                 │ 10.213.Y.1:4789
# This is how AWS Traffic Mirroring delivers packets: the whole L2 frame (after the optional
# truncation below) inside VXLAN (RFC 7348) with the session's VNI, over UDP to port 4789.
#
# Usage:
#   lab.sh up [--id ID] [--dir DIR] [--vni N] [--jumbo] [--truncate BYTES] [--no-mirror] [--seed N]
#       Prints KEY=VALUE lines (also written to DIR/lab.env) and returns once nginx answers.
#       On any failure it removes what it created and exits non-zero.
#   lab.sh down DIR|ID        removes namespaces, links, qdiscs, nginx/jsonapi processes, /etc/netns
#                             entries and DIR. Idempotent; safe to call on a half-built lab.
#   lab.sh exec DIR|ID srv|cli CMD...   runs CMD inside the namespace
#   lab.sh list               lists labs of this machine (by their namespaces)
#
# Options:
#   --jumbo        MTU 9001 on the client/server veths (AWS jumbo frames) and room for it on the mirror
#                  path (uplink MTU 9001+50, the VXLAN overhead: outer IPv4 20 + UDP 8 + VXLAN 8 + inner
#                  Ethernet 14). Default MTU 1500 (uplink 1550).
#   --truncate N   Mirror only the first N bytes of each frame, like an AWS mirror session's
#                  "packet length" (bytes after the VXLAN header), which is also what AWS does to
#                  packets larger than the mirror target's MTU. The kernel's tc actions cannot cut a
#                  packet (mirred has no snaplen, skbedit/pedit/police cannot shorten, act_sample's
#                  trunc only feeds psample, not a device), so a 10-instruction eBPF classifier in
#                  direct-action mode sits on vx0's egress and calls bpf_skb_change_tail(skb, N, 0) on
#                  every mirrored frame longer than N before the VXLAN encapsulation. Only the mirror
#                  copy is cut: the original packet to/from nginx is untouched. The program is written
#                  in LLVM IR (./truncate.ll.in) and compiled with llc from the Debian `llvm` package,
#                  so no clang or libbpf headers are needed. The inner IP/TCP headers keep their
#                  original lengths, exactly like an AWS-truncated mirror packet.
#   --no-mirror    skip the VXLAN mirror (plain captures for the demo and benchmark files)
#   --vni N        VXLAN network identifier (default 4242)
#   --seed N       JSON API data seed (default 42)
#
# Offloads: TCP segmentation offload would put 64 KB super-frames on the veth (and into the mirror), which
# no wire carries; `gso_max_segs 1` on both veths makes TCP emit MSS-sized segments. TX checksum offload
# stays on (ethtool is not needed for anything else), so captured TCP checksums may read "incorrect", as in
# most host-side captures; the mirrored copies carry the same values.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
HOSTNAME_API=api.shop.example
SRV_IP=10.213.1.1
CLI_IP=10.213.1.2

die() { echo "lab.sh: $*" >&2; exit 1; }

need_tools() {
  [ "$(id -u)" = 0 ] || die "must run as root (network namespaces, veth, tc)"
  local t
  for t in ip tc nginx node curl; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || die "missing '$t' (bash deploy/dev/install-test-deps.sh)"
  done
  ip netns list >/dev/null 2>&1 || die "'ip netns' does not work here"
}

# Resolve DIR|ID to a lab dir holding lab.env and load it.
load_lab() {
  local ref=$1
  if [ -f "$ref/lab.env" ]; then LAB_DIR=$(cd "$ref" && pwd)
  elif [ -f "/tmp/apitap-lab-$ref/lab.env" ]; then LAB_DIR=/tmp/apitap-lab-$ref
  else return 1
  fi
  # shellcheck disable=SC1091
  . "$LAB_DIR/lab.env"
}

cmd_down() {
  local ref=${1:-}
  [ -n "$ref" ] || die "usage: lab.sh down DIR|ID"
  local id dir
  if load_lab "$ref"; then id=$LAB_ID; dir=$LAB_DIR
  elif [ -d "$ref" ]; then dir=$ref; id=$(basename "$ref" | sed 's/^apitap-lab-//')
  else id=$ref; dir=/tmp/apitap-lab-$ref
  fi
  local srv="apitap-srv-$id" cli="apitap-cli-$id" pid
  # Processes we started: by their pid files first (graceful), then anything still inside our namespaces.
  for f in "$dir/nginx.pid" "$dir/jsonapi.pid"; do
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  done
  for ns in "$srv" "$cli"; do
    if ip netns list 2>/dev/null | grep -qw "^$ns"; then
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -z "$pids" ] && break
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
        sleep 0.2
      done
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      # shellcheck disable=SC2086
      if [ -n "$pids" ]; then kill -9 $pids 2>/dev/null || true; fi
      ip netns del "$ns" 2>/dev/null || true
    fi
    rm -rf "/etc/netns/$ns"
  done
  rmdir /etc/netns 2>/dev/null || true  # only when empty: another lab may still use it
  # Deleting srv's namespace destroys its veths (and so their root-side peers) and vx0 with its qdiscs;
  # the root-side link is deleted explicitly in case the namespace never got its end.
  ip link del "atr$id" 2>/dev/null || true
  case "$dir" in /tmp/apitap-lab-*) rm -rf "$dir" ;; *) [ -f "$dir/lab.env" ] && rm -f "$dir/lab.env" "$dir"/nginx.* "$dir"/jsonapi.* "$dir"/truncate.* ; rm -rf "$dir/nginx-tmp" ;; esac
  return 0
}

up_exit() {
  local rc=$?
  [ "${UP_DONE:-1}" = 1 ] && return 0
  echo "lab.sh: up failed (exit $rc), removing the half-built lab" >&2
  cmd_down "$UP_DIR" >/dev/null 2>&1 || true
  exit "$rc"
}

cmd_up() {
  need_tools
  local id=$$ dir="" vni=4242 jumbo=0 trunc=0 mirror=1 seed=42
  while [ $# -gt 0 ]; do
    case "$1" in
      --id) id=$2; shift 2 ;;
      --dir) dir=$2; shift 2 ;;
      --vni) vni=$2; shift 2 ;;
      --jumbo) jumbo=1; shift ;;
      --truncate) trunc=$2; shift 2 ;;
      --no-mirror) mirror=0; shift ;;
      --seed) seed=$2; shift 2 ;;
      *) die "up: unknown option $1" ;;
    esac
  done
  [[ "$id" =~ ^[0-9a-z]{1,10}$ ]] || die "--id must be 1-10 of [0-9a-z] (it is part of interface names)"
  [[ "$vni" =~ ^[0-9]+$ ]] && [ "$vni" -ge 1 ] && [ "$vni" -le 16777215 ] || die "--vni must be 1..16777215"
  [[ "$trunc" =~ ^[0-9]+$ ]] || die "--truncate must be a byte count"
  [ "$trunc" = 0 ] || [ "$trunc" -ge 64 ] || die "--truncate must be at least 64 bytes"
  [ -n "$dir" ] || dir=/tmp/apitap-lab-$id
  local srv="apitap-srv-$id" cli="apitap-cli-$id" rootif="atr$id"
  ip netns list | grep -qw "^$srv" && die "lab $id already exists (lab.sh down $id)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/lab.env" ] && die "$dir already holds a lab"
  local mtu=1500
  [ "$jumbo" = 1 ] && mtu=9001
  local upmtu=$((mtu + 50))

  # From here on, any failure (set -e or die) tears down whatever exists so far: the EXIT trap sees a
  # minimal lab.env naming the lab, which is all cmd_down needs.
  UP_DIR=$dir
  UP_DONE=0
  trap up_exit EXIT
  printf 'LAB_ID=%s\nLAB_DIR=%s\n' "$id" "$dir" > "$dir/lab.env"

  ip netns add "$srv"
  ip netns add "$cli"
  ip -n "$srv" link set lo up
  ip -n "$cli" link set lo up
  # client <-> server
  ip -n "$srv" link add eth0 mtu "$mtu" type veth peer name eth0 netns "$cli" mtu "$mtu"
  ip -n "$srv" addr add "$SRV_IP/24" dev eth0
  ip -n "$cli" addr add "$CLI_IP/24" dev eth0
  ip -n "$srv" link set eth0 gso_max_segs 1 up
  ip -n "$cli" link set eth0 gso_max_segs 1 up
  mkdir -p "/etc/netns/$cli"
  printf '127.0.0.1 localhost\n%s %s\n' "$SRV_IP" "$HOSTNAME_API" > "/etc/netns/$cli/hosts"

  # server <-> root: the mirror's underlay. The root-side /30 must not collide with another lab's, so
  # pick a free third octet under a lock.
  local y=""
  ip link add "$rootif" mtu "$upmtu" type veth peer name "atu$id" mtu "$upmtu"
  ip link set "atu$id" netns "$srv"
  ip -n "$srv" link set "atu$id" name uplink
  exec 9>/tmp/apitap-lab.lock
  flock -w 10 9 || die "could not lock /tmp/apitap-lab.lock"
  for cand in $(seq 100 254); do
    ip -4 -o addr show | grep -q " 10\.213\.$cand\." && continue
    y=$cand; break
  done
  [ -n "$y" ] || die "no free 10.213.Y.0/30 for the mirror underlay"
  ip addr add "10.213.$y.1/30" dev "$rootif"
  flock -u 9; exec 9>&-
  ip link set "$rootif" up
  ip -n "$srv" addr add "10.213.$y.2/30" dev uplink
  ip -n "$srv" link set uplink up
  local collector=10.213.$y.1

  if [ "$mirror" = 1 ]; then
    if ss -Hulpn 'sport = :4789' 2>/dev/null | grep -q .; then
      echo "lab.sh: warning: something in the root namespace already listens on UDP 4789; it may take the mirror's datagrams" >&2
    fi
    ip -n "$srv" link add vx0 type vxlan id "$vni" local "10.213.$y.2" remote "$collector" dstport 4789 dev uplink nolearning
    ip -n "$srv" link set vx0 mtu "$mtu" up
    tc -n "$srv" qdisc add dev eth0 clsact
    # u32 "match u32 0 0" matches every packet (matchall is not built into every kernel, u32 is).
    tc -n "$srv" filter add dev eth0 ingress protocol all prio 1 u32 match u32 0 0 action mirred egress mirror dev vx0
    tc -n "$srv" filter add dev eth0 egress protocol all prio 1 u32 match u32 0 0 action mirred egress mirror dev vx0
    if [ "$trunc" != 0 ]; then
      command -v llc >/dev/null 2>&1 || die "--truncate needs llc (Debian package llvm)"
      sed "s/@SNAPLEN@/$trunc/g" "$HERE/truncate.ll.in" > "$dir/truncate.ll"
      llc -march=bpf -filetype=obj -O2 -o "$dir/truncate.o" "$dir/truncate.ll"
      tc -n "$srv" qdisc add dev vx0 clsact
      tc -n "$srv" filter add dev vx0 egress prio 1 bpf direct-action obj "$dir/truncate.o" sec tc
    fi
  fi

  # JSON API and nginx inside srv.
  mkdir -p "$dir/nginx-tmp"
  : > "$dir/access.log"
  sed -e "s#@DIR@#$dir#g" "$HERE/nginx.conf.in" > "$dir/nginx.conf"
  ip netns exec "$srv" node "$REPO/test/support/jsonapi/server.mjs" --host 127.0.0.1 --port 8080 --seed "$seed" \
    > "$dir/jsonapi.log" 2>&1 < /dev/null &
  echo $! > "$dir/jsonapi.pid"
  ip netns exec "$srv" nginx -q -t -c "$dir/nginx.conf" -p "$dir" || die "nginx config test failed ($dir/nginx.conf)"
  local ok=0
  for _ in $(seq 1 50); do
    if ip netns exec "$srv" curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:8080/health 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [ "$ok" = 1 ] || die "JSON API did not start: $(tail -5 "$dir/jsonapi.log")"
  ip netns exec "$srv" nginx -c "$dir/nginx.conf" -p "$dir"
  ok=0
  for _ in $(seq 1 50); do
    if ip netns exec "$cli" curl -fsS -o /dev/null --max-time 1 "http://$HOSTNAME_API/health" 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [ "$ok" = 1 ] || die "nginx not reachable from cli: $(tail -5 "$dir/nginx-error.log" 2>/dev/null)"
  # The readiness probe is not test traffic: start every run with an empty access log.
  : > "$dir/access.log"

  cat > "$dir/lab.env" <<EOF
LAB_ID=$id
LAB_DIR=$dir
SRV_NS=$srv
CLI_NS=$cli
SRV_IP=$SRV_IP
CLI_IP=$CLI_IP
SRV_IF=eth0
API_HOST=$HOSTNAME_API
API_URL=http://$HOSTNAME_API
ROOT_IF=$rootif
COLLECTOR_IP=$collector
VXLAN_SRC_IP=10.213.$y.2
VNI=$vni
MIRROR=$mirror
MTU=$mtu
UPLINK_MTU=$upmtu
TRUNCATE=$trunc
SEED=$seed
ACCESS_LOG=$dir/access.log
EOF
  UP_DONE=1
  trap - EXIT
  cat "$dir/lab.env"
}

cmd_exec() {
  local ref=${1:-} which=${2:-}
  [ -n "$ref" ] && [ -n "$which" ] || die "usage: lab.sh exec DIR|ID srv|cli CMD..."
  shift 2
  load_lab "$ref" || die "no lab at $ref"
  case "$which" in
    srv) exec ip netns exec "$SRV_NS" "$@" ;;
    cli) exec ip netns exec "$CLI_NS" "$@" ;;
    *) die "exec: namespace must be srv or cli" ;;
  esac
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  exec) shift; cmd_exec "$@" ;;
  list) ip netns list | grep -o 'apitap-srv-[0-9a-z]*' | sed 's/apitap-srv-//' || true ;;
  *) die "usage: lab.sh up|down|exec|list (see the header of $0)" ;;
esac

#!/usr/bin/env bash
# apitap conformance harness (issue 11's proof). Needs root (network namespaces, tcpdump).
#
#   1. two network namespaces joined by a veth pair;
#   2. the harness server (server.ts) in one, implementing shop.yaml for two hosts: one conformant,
#      one with planted deviations (scenario.ts SERVER_DEVIATIONS);
#   3. tcpdump -s 0 on the server's veth end;
#   4. the harness client (client.ts) in the other: conformant requests to both hosts, plus planted
#      request deviations (CLIENT_DEVIATIONS) to the deviant one;
#   5. teardown, then `apitap replay CAPTURE --spec shop.yaml --format json`;
#   6. score.ts: precision and recall per finding kind, and no finding on the conformant host;
#      writes test/accuracy/conformance/last-results.md. Exit 0 when every target is met.
#
# Options: --seed N (default 11), --out DIR (keep artefacts; default a fresh temp dir), --src (apitap
# from source via tsx instead of dist/), --workers N (replay with N analysis threads), --reuse DIR
# (replay and score DIR's capture again, no root), --no-results (do not write last-results.md).
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
SEED=11 OUT='' RESULTS=1 REUSE=0 WORKERS=''
APITAP=(node dist/engine/app/cli/main.js)
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) SEED=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --src) APITAP=(node --import tsx engine/app/cli/main.ts); shift ;;
    --workers) WORKERS=$2; shift 2 ;;
    --reuse) OUT=$2; REUSE=1; shift 2 ;;
    --no-results) RESULTS=0; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$REUSE" = 1 ] || [ "$(id -u)" = 0 ] || { echo "run.sh: needs root (ip netns, tcpdump)" >&2; exit 2; }
HERE=test/accuracy/conformance
SPEC=$HERE/shop.yaml

[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/apitap-conformance.XXXXXX)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PCAP=$OUT/capture.pcap

ID=$$
NET=$(( ID % 250 + 1 ))
NSP=${APITAP_NS_PREFIX:-apitap-conf}
NS_S=$NSP-s-$ID NS_C=$NSP-c-$ID
VP=${NSP:0:5}; VP=${VP//-/}
VS=${VP}s$ID VC=${VP}c$ID
IP_S=10.215.$NET.1 IP_C=10.215.$NET.2
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$NS_S" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
  ip link del "$VS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
if [ "$REUSE" = 0 ]; then
  ip netns add "$NS_S"
  ip netns add "$NS_C"
  ip link add "$VS" type veth peer name "$VC"
  ip link set "$VS" netns "$NS_S"
  ip link set "$VC" netns "$NS_C"
  ip -n "$NS_S" addr add "$IP_S/24" dev "$VS"
  ip -n "$NS_C" addr add "$IP_C/24" dev "$VC"
  for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
  ip -n "$NS_S" link set "$VS" up
  ip -n "$NS_C" link set "$VC" up

  ip netns exec "$NS_S" tcpdump -i "$VS" -s 0 -U -n -Z root -w "$PCAP" "tcp port 80" 2>"$OUT/tcpdump.log" &
  PIDS+=($!); TCPDUMP=$!
  for _ in $(seq 100); do grep -q 'listening on' "$OUT/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
  grep -q 'listening on' "$OUT/tcpdump.log" || { echo "run.sh: tcpdump did not start" >&2; cat "$OUT/tcpdump.log" >&2; exit 2; }

  rm -f "$OUT/server.ready"
  ip netns exec "$NS_S" node --import tsx $HERE/server.ts --listen "$IP_S:80" --seed "$SEED" \
    --truth-out "$OUT/server-truth.json" --ready-file "$OUT/server.ready" 2>"$OUT/server.log" &
  PIDS+=($!); SERVER=$!
  for _ in $(seq 300); do [ -f "$OUT/server.ready" ] && break; kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  [ -f "$OUT/server.ready" ] || { echo "run.sh: server did not start" >&2; cat "$OUT/server.log" >&2; exit 2; }

  CLIENT_RC=0
  ip netns exec "$NS_C" node --import tsx $HERE/client.ts --target "http://$IP_S:80" --seed "$SEED" \
    --truth-out "$OUT/client-truth.json" 2>"$OUT/client.log" || CLIENT_RC=$?
  cat "$OUT/client.log" >&2
  # The client closed its one keep-alive connection; wait until the capture holds both FINs (or an RST).
  closed() { tshark -r "$PCAP" -n -Y 'tcp.flags.fin == 1 || tcp.flags.reset == 1' 2>/dev/null | wc -l; }
  T_WAIT=$SECONDS
  until [ "$(closed)" -ge 2 ]; do
    [ $((SECONDS - T_WAIT)) -lt 60 ] || { echo "run.sh: timed out waiting for the end of the connection in the capture" >&2; exit 2; }
    sleep 0.5
  done
  SERVER_RC=0
  kill -TERM "$SERVER"; wait "$SERVER" || SERVER_RC=$?
  kill -INT "$TCPDUMP"; wait "$TCPDUMP" || true
  PIDS=()
  cleanup
  trap - EXIT
  [ "$CLIENT_RC" = 0 ] || { echo "run.sh: client failed ($CLIENT_RC)" >&2; exit 2; }
  [ "$SERVER_RC" = 0 ] || { echo "run.sh: server failed ($SERVER_RC; unmatched requests?)" >&2; cat "$OUT/server.log" >&2; exit 2; }
  if grep -Eq '^[1-9][0-9]* packets dropped by kernel' "$OUT/tcpdump.log"; then echo "run.sh: tcpdump dropped packets" >&2; exit 2; fi
else
  trap - EXIT
  for f in capture.pcap client-truth.json server-truth.json; do [ -f "$OUT/$f" ] || { echo "run.sh: --reuse $OUT: no $f" >&2; exit 2; }; done
fi
T1=$(date +%s)

[ "${APITAP[1]}" != dist/engine/app/cli/main.js ] || [ -f dist/engine/app/cli/main.js ] || { echo "run.sh: dist/ missing; npm run build (or --src)" >&2; exit 2; }
EXTRA=()
[ -z "$WORKERS" ] || EXTRA=(--workers "$WORKERS")
REPLAY_RC=0
"${APITAP[@]}" replay "$PCAP" --spec "$SPEC" --format json --no-progress "${EXTRA[@]}" >"$OUT/report.json" 2>"$OUT/replay.log" || REPLAY_RC=$?
[ "$REPLAY_RC" = 0 ] || { echo "run.sh: apitap replay exited $REPLAY_RC" >&2; tail -20 "$OUT/replay.log" >&2; exit 2; }
T2=$(date +%s)

PACKETS=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$OUT/tcpdump.log" 2>/dev/null || echo '?')
REQUESTS=$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).requests))' "$OUT/client-truth.json")
RESULT_ARGS=()
[ "$RESULTS" = 1 ] && RESULT_ARGS=(--out $HERE/last-results.md)
SCORE_RC=0
node --import tsx $HERE/score.ts --report "$OUT/report.json" --truth "$OUT/server-truth.json" --truth "$OUT/client-truth.json" \
  --note "capture: $PACKETS packets, $REQUESTS requests over one keep-alive connection between two network namespaces (seed $SEED); traffic $((T1 - T0)) s, replay $((T2 - T1)) s${WORKERS:+ with --workers $WORKERS}" \
  "${RESULT_ARGS[@]}" || SCORE_RC=$?
echo "artefacts: $OUT" >&2
exit "$SCORE_RC"

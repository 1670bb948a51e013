#!/usr/bin/env bash
# apitap accuracy harness (issue 3's proof). Needs root (network namespaces, tcpdump).
#
#   1. two network namespaces joined by a veth pair on 10.214.<n>.0/24;
#   2. the harness server (test/accuracy/server.ts) in one, implementing the corpus specs;
#   3. tcpdump -s 0 on the server's veth end, writing a pcap;
#   4. the harness client (test/accuracy/client.ts) in the other, driving realistic traffic;
#   5. teardown, then `apitap replay CAPTURE --spec … --spec-previous … --format json`;
#   6. test/accuracy/score.ts scores the report against the ground truth both sides wrote and writes
#      test/accuracy/last-results.md. Exit 0 when every target is met, 1 when one is missed, 2 on error.
#
# Options: --seed N (default 7), --scale X (calls per operation, default 1), --out DIR (keep artefacts
# there; default a fresh temp dir), --fake (score a perfect report built from the truth instead of
# running apitap: a dry run of everything but apitap), --src (run apitap from source with tsx instead
# of dist/), --reuse DIR (skip the traffic; replay and score DIR's capture and truth again),
# env APITAP_REPLAY_ARGS (more replay flags, e.g. '--body-rate 0'),
# --no-results (do not write last-results.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SEED=7 SCALE=1 OUT='' FAKE=0 RESULTS=1 REUSE=0
APITAP=(node dist/engine/app/cli/main.js)
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) SEED=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --fake) FAKE=1; shift ;;
    --src) APITAP=(node --import tsx engine/app/cli/main.ts); shift ;;
    --reuse) OUT=$2; REUSE=1; shift 2 ;;
    --no-results) RESULTS=0; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$REUSE" = 1 ] || [ "$(id -u)" = 0 ] || { echo "run.sh: needs root (ip netns, tcpdump)" >&2; exit 2; }

CORPUS=${APITAP_CORPUS:-$ROOT/../shared/corpus}
S=$CORPUS/specs
HERE_SPECS=$ROOT/test/accuracy/specs # crafted: in-segment templates, custom methods, server variables
SPECS=("$S/swagger-petstore/openapi.yaml" "$S/adyen/RecurringService-v68.yaml" "$S/redocly-museum/openapi.yaml" "$S/twilio/twilio_chat_v2.json" "$S/docker-engine/v1.41.yaml" "$HERE_SPECS/twilio-api-v2010.yaml" "$HERE_SPECS/jobs-v1.yaml")
PREVIOUS=("$S/twilio/twilio_chat_v1.json")
for f in "${SPECS[@]}" "${PREVIOUS[@]}"; do [ -f "$f" ] || { echo "run.sh: missing spec $f" >&2; exit 2; }; done
SRV_ARGS=() APITAP_ARGS=()
for f in "${SPECS[@]}"; do SRV_ARGS+=(--spec "$f"); APITAP_ARGS+=(--spec "$f"); done
for f in "${PREVIOUS[@]}"; do SRV_ARGS+=(--previous "$f"); APITAP_ARGS+=(--spec-previous "$f"); done
# Extra replay flags from the environment (e.g. APITAP_REPLAY_ARGS='--body-rate 0' to score every body walked).
read -r -a EXTRA_ARGS <<< "${APITAP_REPLAY_ARGS:-}"
APITAP_ARGS+=("${EXTRA_ARGS[@]}")

[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/apitap-accuracy.XXXXXX)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PCAP=$OUT/capture.pcap

# Unique names per run; the subnet only has to be unique inside our own namespaces.
ID=$$
NET=$(( ID % 250 + 1 ))
NSP=${APITAP_NS_PREFIX:-apitap-acc} # namespace name prefix (a parallel session may pick its own)
NS_S=$NSP-s-$ID NS_C=$NSP-c-$ID
VS=acs$ID VC=acc$ID
IP_S=10.214.$NET.1 IP_C=10.214.$NET.2
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

# Capture on the server's side of the veth: exactly what a mirror port would see.
ip netns exec "$NS_S" tcpdump -i "$VS" -s 0 -U -n -Z root -w "$PCAP" "tcp port 80" 2>"$OUT/tcpdump.log" &
PIDS+=($!); TCPDUMP=$!
for _ in $(seq 100); do grep -q 'listening on' "$OUT/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'listening on' "$OUT/tcpdump.log" || { echo "run.sh: tcpdump did not start:" >&2; cat "$OUT/tcpdump.log" >&2; exit 2; }

rm -f "$OUT/server.ready"
ip netns exec "$NS_S" node --import tsx test/accuracy/server.ts --listen "$IP_S:80" "${SRV_ARGS[@]}" \
  --seed "$SEED" --truth-out "$OUT/server-truth.json" --ready-file "$OUT/server.ready" 2>"$OUT/server.log" &
PIDS+=($!); SERVER=$!
for _ in $(seq 300); do [ -f "$OUT/server.ready" ] && break; kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
[ -f "$OUT/server.ready" ] || { echo "run.sh: server did not start:" >&2; cat "$OUT/server.log" >&2; exit 2; }

CLIENT_RC=0
ip netns exec "$NS_C" node --import tsx test/accuracy/client.ts --target "http://$IP_S:80" "${SRV_ARGS[@]}" \
  --seed "$SEED" --scale "$SCALE" --truth-out "$OUT/client-truth.json" 2>"$OUT/client.log" || CLIENT_RC=$?
cat "$OUT/client.log" >&2
# Wait until the capture holds the end of every connection the client opened: a FIN from both ends,
# or an RST. The file is checked, not the sockets: on a busy machine tcpdump writes behind the wire,
# and what it has not written when it is stopped is lost. Prints the number of connections not seen
# closed yet (-1 while no connection is in the file).
unclosed() {
  { tshark -r "$PCAP" -n -Y 'tcp.flags.syn == 1 || tcp.flags.fin == 1 || tcp.flags.reset == 1' -T fields \
      -e tcp.stream -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.reset -e tcp.srcport 2>/dev/null || true; } |
    awk -F'\t' '
      function on(v) { return v == "1" || v == "True" }
      { if (on($2) && !on($3)) opened[$1] = 1; if (on($5)) reset[$1] = 1; if (on($4)) fin[$1 SUBSEP $6] = 1 }
      END {
        total = 0; open_ = 0
        for (k in fin) { split(k, p, SUBSEP); ends[p[1]]++ }
        for (s in opened) { total++; if (!(s in reset) && ends[s] < 2) open_++ }
        print (total == 0 ? -1 : open_)
      }'
}
T_WAIT=$SECONDS
until [ "$(unclosed)" = 0 ]; do
  [ $((SECONDS - T_WAIT)) -lt 60 ] || {
    echo "run.sh: timed out after $((SECONDS - T_WAIT)) s waiting for the capture to hold the end of every connection ($(unclosed) not closed)" >&2
    exit 2
  }
  sleep 0.5
done

SERVER_RC=0
kill -TERM "$SERVER"; wait "$SERVER" || SERVER_RC=$?
cat "$OUT/server.log" >&2
kill -INT "$TCPDUMP"; wait "$TCPDUMP" || true
cat "$OUT/tcpdump.log" >&2
PIDS=()
cleanup
trap - EXIT
[ "$CLIENT_RC" = 0 ] || { echo "run.sh: client failed ($CLIENT_RC)" >&2; exit 2; }
[ "$SERVER_RC" = 0 ] || { echo "run.sh: server failed ($SERVER_RC; unmatched requests?)" >&2; exit 2; }
if grep -Eq '^[1-9][0-9]* packets dropped by kernel' "$OUT/tcpdump.log"; then echo "run.sh: tcpdump dropped packets; the capture is incomplete" >&2; exit 2; fi
else
  trap - EXIT
  for f in capture.pcap client-truth.json server-truth.json tcpdump.log; do [ -f "$OUT/$f" ] || { echo "run.sh: --reuse $OUT: no $f" >&2; exit 2; }; done
  # The notes must name the capture's seed, not this invocation's default (the truth files record it).
  SEED=$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).seed))' "$OUT/client-truth.json")
fi
T1=$(date +%s)

PACKETS=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$OUT/tcpdump.log")
BYTES=$(stat -c %s "$PCAP")
TRUTH=(--truth "$OUT/client-truth.json" --truth "$OUT/server-truth.json")
if [ "$FAKE" = 1 ]; then
  node --import tsx test/accuracy/score.ts "${TRUTH[@]}" --fake-report "$OUT/report.json"
  WHAT="a perfect report built from the truth (--fake; apitap not run)"
else
  [ "${APITAP[1]}" != dist/engine/app/cli/main.js ] || [ -f dist/engine/app/cli/main.js ] || { echo "run.sh: dist/engine/app/cli/main.js missing; run npm run build (or use --src)" >&2; exit 2; }
  rm -rf "$OUT/store"
  REPLAY_RC=0
  "${APITAP[@]}" replay "$PCAP" "${APITAP_ARGS[@]}" --format json --store "$OUT/store" --no-progress \
    >"$OUT/report.json" 2>"$OUT/replay.log" || REPLAY_RC=$?
  [ "$REPLAY_RC" = 0 ] || { echo "run.sh: apitap replay exited $REPLAY_RC:" >&2; tail -20 "$OUT/replay.log" >&2; exit 2; }
  WHAT="apitap $("${APITAP[@]}" --version 2>/dev/null || echo '?') replay --format json (${APITAP[*]})"
fi
T2=$(date +%s)

NOTES=(--note "capture: $PACKETS packets, $BYTES bytes, over a veth pair between two network namespaces (seed $SEED, scale $SCALE); traffic $([ "$REUSE" = 1 ] && echo "reused from $OUT" || echo "$((T1 - T0)) s"), replay $((T2 - T1)) s"
       --note "scored: $WHAT"
       --note "specs: $(for f in "${SPECS[@]}"; do f=${f#"$S"/}; printf '%s ' "${f#"$ROOT"/}"; done); previous: ${PREVIOUS[*]#"$S"/}")
RESULT_ARGS=()
[ "$RESULTS" = 1 ] && [ "$FAKE" = 0 ] && RESULT_ARGS=(--out test/accuracy/last-results.md)
SCORE_RC=0
node --import tsx test/accuracy/score.ts "${TRUTH[@]}" --report "$OUT/report.json" "${NOTES[@]}" "${RESULT_ARGS[@]}" || SCORE_RC=$?
echo "artefacts: $OUT" >&2
exit "$SCORE_RC"

#!/usr/bin/env bash
# Makes a large, realistic HTTP capture with real software: nginx + the JSON API in the netns lab, driven
# by wrk (capture-wrk.lua: many routes and ids, keep-alive, gzip on half of the requests, JSON POSTs)
# plus a curl loop (new connections, Connection: close, chunked list and search responses), captured with
# tcpdump -s 0 on the server's veth until the file reaches SIZE_MB.
#
#   sudo bash test/bench/make-capture.sh [SIZE_MB] OUT.pcap        (SIZE_MB default 300)
#
# Bounded: stops at SIZE_MB or after MAX_SECONDS (env, default 900), whichever comes first, and fails if
# the capture did not reach the size. Reports packets tcpdump dropped (a non-zero count means the capture
# has gaps: rerun on a quieter machine, or accept them as realism). Needs root; removes everything it
# created (namespaces, processes, temp files), also on failure or Ctrl-C. Env: WRK_THREADS (2),
# WRK_CONNECTIONS (8), SEED (42), API_HOSTS (comma-separated Host headers wrk goes round; default: the
# lab's one API host).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB="$REPO/test/support/netns/lab.sh"
die() { echo "make-capture: $*" >&2; exit 1; }

if [ $# -eq 1 ]; then SIZE_MB=300; OUT=$1
elif [ $# -eq 2 ]; then SIZE_MB=$1; OUT=$2
else die "usage: make-capture.sh [SIZE_MB] OUT.pcap"
fi
[[ "$SIZE_MB" =~ ^[0-9]+$ ]] && [ "$SIZE_MB" -ge 1 ] || die "SIZE_MB must be a positive integer, got '$SIZE_MB'"
MAX_SECONDS=${MAX_SECONDS:-900}
SEED=${SEED:-42}
[ "$(id -u)" = 0 ] || die "must run as root (it builds network namespaces)"
for t in tcpdump wrk curl node; do command -v "$t" >/dev/null || die "$t missing (bash deploy/dev/install-test-deps.sh)"; done
[ -d "$(dirname "$OUT")" ] || die "directory of $OUT does not exist"
OUT_ABS=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
LIMIT=$((SIZE_MB * 1024 * 1024))

ID=c$$
TMP=$(mktemp -d /tmp/apitap-capture.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  bash "$LAB" down "$ID" >/dev/null 2>&1 || echo "make-capture: lab teardown failed; run: bash $LAB down $ID" >&2
  rm -rf "$TMP"
  [ $rc = 0 ] || { echo "make-capture: FAILED (exit $rc)" >&2; rm -f "$OUT_ABS.partial"; }
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$LAB" up --id "$ID" --no-mirror --seed "$SEED" > "$TMP/lab.env"
# shellcheck disable=SC1091
. "$TMP/lab.env"
node "$REPO/test/support/jsonapi/server.mjs" --fixtures --seed "$SEED" \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).orderIds.join("\n")))' > "$TMP/orders.txt"

# A large kernel buffer (-B, KiB) so bursts do not drop packets while tcpdump writes.
ip netns exec "$SRV_NS" tcpdump -i eth0 -s 0 -B 65536 -n -w "$OUT_ABS.partial" 'tcp port 80' 2> "$TMP/tcpdump.log" &
TCPDUMP_PID=$!
PIDS+=("$TCPDUMP_PID")
for _ in $(seq 1 50); do grep -q 'listening on' "$TMP/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'listening on' "$TMP/tcpdump.log" || die "tcpdump did not start: $(cat "$TMP/tcpdump.log")"

start=$(date +%s)
ip netns exec "$CLI_NS" wrk -t "${WRK_THREADS:-2}" -c "${WRK_CONNECTIONS:-8}" -d "${MAX_SECONDS}s" --timeout 10s \
  -s "$HERE/capture-wrk.lua" "$API_URL" -- "$TMP/orders.txt" "$SEED" "${API_HOSTS:-}" > "$TMP/wrk.log" 2>&1 &
WRK_PID=$!
PIDS+=("$WRK_PID")

# curl loop: short-lived connections beside wrk's long keep-alive ones. Bounded by MAX_SECONDS too.
(
  i=0
  end=$((start + MAX_SECONDS))
  while [ "$(date +%s)" -lt "$end" ]; do
    i=$((i + 1))
    ip netns exec "$CLI_NS" curl -sS --max-time 10 -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
      -A 'curl-monitor/1.0' \
      "$API_URL/health" "$API_URL/api/v1/users?limit=$(( (i % 7 + 1) * 30 ))" "$API_URL/api/v1/search?q=organic" \
      "$API_URL/api/v1/users/$(( i % 1000 + 1 ))" 2>/dev/null || true
    ip netns exec "$CLI_NS" curl -sS --max-time 10 --compressed -H 'Connection: close' -o /dev/null \
      "$API_URL/api/v2/products?page=$(( i % 30 + 1 ))" 2>/dev/null || true
    sleep 0.05
  done
) &
PIDS+=("$!")

last_report=0
while :; do
  size=$(stat -c %s "$OUT_ABS.partial" 2>/dev/null || echo 0)
  now=$(date +%s)
  [ "$size" -ge "$LIMIT" ] && break
  kill -0 "$WRK_PID" 2>/dev/null || die "wrk stopped early: $(tail -5 "$TMP/wrk.log")"
  if [ $((now - start)) -ge "$MAX_SECONDS" ]; then die "only $((size / 1048576)) MB after ${MAX_SECONDS}s (raise MAX_SECONDS)"; fi
  if [ $((now - last_report)) -ge 10 ]; then
    echo "make-capture: $((size / 1048576)) / $SIZE_MB MB after $((now - start)) s" >&2
    last_report=$now
  fi
  sleep 0.5
done
elapsed=$(( $(date +%s) - start ))
kill -INT "$WRK_PID" 2>/dev/null || true
sleep 0.3
kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true
mv "$OUT_ABS.partial" "$OUT_ABS"
dropped=$(grep -o '[0-9]* packets dropped by kernel' "$TMP/tcpdump.log" | grep -o '^[0-9]*' || echo '?')
captured=$(grep -o '[0-9]* packets captured' "$TMP/tcpdump.log" | grep -o '^[0-9]*' || echo '?')
requests=$(wc -l < "$LAB_DIR/access.log")
echo "make-capture: wrote $OUT_ABS: $(( $(stat -c %s "$OUT_ABS") / 1048576 )) MB, $captured packets, ~$requests HTTP requests in ${elapsed}s; tcpdump dropped $dropped"
[ "$dropped" = 0 ] || echo "make-capture: warning: tcpdump dropped $dropped packets: the capture has TCP gaps" >&2

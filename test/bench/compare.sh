#!/usr/bin/env bash
# Times apitap's replay against tshark's HTTP dissection and tcpdump's plain read of the same capture,
# in the same run, and prints a markdown table: wall time, CPU seconds (user + sys: the figure that
# holds on a shared machine), MB/s, packets/s, exchanges, exchanges/s, peak RSS, and the ratios.
#
#   bash test/bench/compare.sh [--tshark-only] [--flood] CAPTURE.pcap
#
#   apitap:          node dist/engine/app/cli/main.js replay CAPTURE --format json [$APITAP_ARGS]
#                    (default: analysis + embedded store; run in a scratch directory, so its store
#                    lands there, not in the repo; APITAP_MAIN=path/to/main.js times another build);
#                    exchanges = .capture.exchanges of the report/v1 JSON. Needs `npm run build`
#                    first: without dist/ it fails with a clear message (the other rows still print).
#   apitap no-store: the same with --no-store (analysis, no store).
#   apitap collect:  the same with --no-analyze (collectors only).
#   tshark:          tshark -r CAPTURE -n -Y http -T fields -e http.request.method -e http.response.code
#                    -e http.request_in   (default HTTP reassembly and body decompression on);
#                    exchanges = responses that tshark paired with their request.
#   tcpdump:         tcpdump -nr CAPTURE > /dev/null (reads and prints every packet; no reassembly).
#   --flood:         one more row: apitap replay --no-analyze on a flood of half-open connections (SYN +
#                    one request each, never answered: collectors/flow/testing.ts writeHalfOpenFlood),
#                    generated in the scratch directory; FLOOD_CONNECTIONS (default 300000) sets its
#                    size. Its MB and packets are the flood file's; the tshark ratios stay empty.
# The runs alternate (tshark, apitap, apitap no-store, apitap collect, tcpdump). MB are 10^6 bytes of
# the capture file; packets from capinfos; peak RSS and CPU from /usr/bin/time -v. The file is read
# once beforehand so every tool starts from the page cache. The load average before and after is
# printed: on a shared machine compare CPU seconds, not wall. Exit 0 when everything ran, 1 when
# apitap could not (unless --tshark-only), 2 on bad usage or missing tools.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
die() { echo "compare: $*" >&2; exit 2; }

TSHARK_ONLY=0
FLOOD=0
while [ $# -gt 1 ]; do
  case $1 in
    --tshark-only) TSHARK_ONLY=1; shift ;;
    --flood) FLOOD=1; shift ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || die "usage: compare.sh [--tshark-only] [--flood] CAPTURE.pcap"
CAP=$1
[ -r "$CAP" ] || die "cannot read $CAP"
CAP=$(cd "$(dirname "$CAP")" && pwd)/$(basename "$CAP")
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time, or bash deploy/dev/install-test-deps.sh)"
for t in tshark tcpdump capinfos node; do command -v "$t" >/dev/null || die "$t missing (bash deploy/dev/install-test-deps.sh)"; done

TMP=$(mktemp -d /tmp/apitap-compare.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

BYTES=$(stat -c %s "$CAP")
PACKETS=$(capinfos -M -c "$CAP" | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }')
[[ "$PACKETS" =~ ^[0-9]+$ ]] || die "capinfos could not count packets of $CAP"
cat "$CAP" > /dev/null

# run NAME CMD... : wall time (s, from date +%s%N), peak RSS (KiB) and exit code into $TMP/NAME.*
run() {
  local name=$1; shift
  local t0 t1 rc=0
  t0=$(date +%s%N)
  ( cd "$TMP/$name.cwd" && /usr/bin/time -v -o "$TMP/$name.time" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" ) || rc=$?
  t1=$(date +%s%N)
  echo "$rc" > "$TMP/$name.rc"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' > "$TMP/$name.wall"
  awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/$name.time" > "$TMP/$name.rss" 2>/dev/null || echo 0 > "$TMP/$name.rss"
  awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f\n", s }' "$TMP/$name.time" > "$TMP/$name.cpu" 2>/dev/null || echo 0 > "$TMP/$name.cpu"
}

mkdir -p "$TMP/tshark.cwd" "$TMP/apitap.cwd" "$TMP/nostore.cwd" "$TMP/collect.cwd" "$TMP/tcpdump.cwd" "$TMP/flood.cwd"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "compare: tshark on $(basename "$CAP") ($((BYTES / 1000000)) MB, $PACKETS packets)..." >&2
run tshark tshark -r "$CAP" -n -Y http -T fields -e http.request.method -e http.response.code -e http.request_in
[ "$(cat "$TMP/tshark.rc")" = 0 ] || die "tshark failed: $(tail -3 "$TMP/tshark.err")"
TS_EXCH=$(awk -F'\t' '$2 != "" && $3 != "" { n++ } END { print n + 0 }' "$TMP/tshark.out")

# exchanges of one apitap run (its report), or a status line
apitap_exchanges() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const n = r && r.capture && typeof r.capture.exchanges === "number" ? r.capture.exchanges : NaN;
    if (Number.isNaN(n)) { console.error("no .capture.exchanges in the report"); process.exit(1); }
    console.log(n);' "$1"
}
APITAP_STATUS=skipped
declare -A AP_EXCH=([apitap]=0 [nostore]=0 [collect]=0)
declare -A AP_OK=([apitap]=0 [nostore]=0 [collect]=0)
if [ "$TSHARK_ONLY" = 0 ]; then
  MAIN=${APITAP_MAIN:-$REPO/dist/engine/app/cli/main.js}
  if [ ! -f "$MAIN" ]; then
    APITAP_STATUS="missing $MAIN (run: npm run build)"
  else
    APITAP_STATUS=ok
    for v in "apitap:" "nostore:--no-store" "collect:--no-analyze"; do
      name=${v%%:*}; flag=${v#*:}
      echo "compare: apitap $flag on the same file..." >&2
      # shellcheck disable=SC2086
      run "$name" node "$MAIN" replay "$CAP" --format json $flag ${APITAP_ARGS:-}
      if [ "$(cat "$TMP/$name.rc")" != 0 ]; then
        APITAP_STATUS="apitap $flag: exit $(cat "$TMP/$name.rc"): $(tail -3 "$TMP/$name.err" | tr '\n' ' ')"
      elif AP_EXCH[$name]=$(apitap_exchanges "$TMP/$name.out"); then
        AP_OK[$name]=1
      else
        APITAP_STATUS="apitap $flag: report without .capture.exchanges"
      fi
    done
  fi
fi
echo "compare: tcpdump -nr on the same file..." >&2
run tcpdump sh -c 'tcpdump -nr "$1" > /dev/null' sh "$CAP"
FLOOD_STATUS=skipped
if [ "$FLOOD" = 1 ] && [ "$TSHARK_ONLY" = 0 ] && [ "$APITAP_STATUS" = ok ]; then
  FLOOD_N=${FLOOD_CONNECTIONS:-300000}
  [[ "$FLOOD_N" =~ ^[0-9]+$ ]] || die "FLOOD_CONNECTIONS must be a number"
  echo "compare: writing a flood of $FLOOD_N half-open connections..." >&2
  FLOOD_CAP=$TMP/flood.pcap
  FLOOD_PACKETS=$(cd "$REPO" && node --import tsx -e '
    import("./collectors/flow/testing.ts").then((m) =>
      console.log(m.writeHalfOpenFlood(process.argv[1], { connections: Number(process.argv[2]) })));' "$FLOOD_CAP" "$FLOOD_N")
  FLOOD_BYTES=$(stat -c %s "$FLOOD_CAP")
  cat "$FLOOD_CAP" > /dev/null
  echo "compare: apitap --no-analyze on the flood..." >&2
  run flood node "$MAIN" replay "$FLOOD_CAP" --format json --no-analyze
  if [ "$(cat "$TMP/flood.rc")" = 0 ]; then FLOOD_STATUS=ok
  else FLOOD_STATUS="exit $(cat "$TMP/flood.rc"): $(tail -3 "$TMP/flood.err" | tr '\n' ' ')"
  fi
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

row() { # label name exchanges
  awk -v n="$1" -v w="$(cat "$TMP/$2.wall")" -v c="$(cat "$TMP/$2.cpu")" -v r="$(cat "$TMP/$2.rss")" -v x="$3" \
      -v b="$BYTES" -v p="$PACKETS" -v tw="$(cat "$TMP/tshark.wall")" -v tc="$(cat "$TMP/tshark.cpu")" 'BEGIN {
    if (w <= 0) w = 0.001; if (c <= 0) c = 0.001
    xs = x > 0 ? sprintf("%d | %.0f", x, x / c) : "| "
    printf "| %s | %.2f | %.2f | %.1f | %.0f | %s | %.0f | ×%.1f | ×%.1f |\n", n, w, c, b / 1e6 / c, p / c, xs, r / 1024, tw / w, tc / c }'
}
echo
echo "capture: \`$(basename "$CAP")\`, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB, $PACKETS packets; load average before $LOAD_BEFORE, after $LOAD_AFTER (2 cores)"
echo
echo "| tool | wall s | CPU s | MB per CPU s | packets per CPU s | exchanges | exchanges per CPU s | peak RSS MB | tshark wall / wall | tshark CPU / CPU |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for v in "apitap replay:apitap" "apitap replay --no-store:nostore" "apitap replay --no-analyze:collect"; do
  label=${v%%:*}; name=${v#*:}
  if [ "${AP_OK[$name]}" = 1 ]; then row "$label" "$name" "${AP_EXCH[$name]}"
  elif [ "$TSHARK_ONLY" = 0 ]; then echo "| $label | $APITAP_STATUS | | | | | | | | |"
  fi
done
row "tshark -Y http" tshark "$TS_EXCH"
row "tcpdump -nr" tcpdump 0
if [ "$FLOOD" = 1 ] && [ "$TSHARK_ONLY" = 0 ]; then
  label="apitap replay --no-analyze, flood of ${FLOOD_N:-300000} half-open connections"
  if [ "$FLOOD_STATUS" = ok ]; then
    awk -v n="$label" -v w="$(cat "$TMP/flood.wall")" -v c="$(cat "$TMP/flood.cpu")" -v r="$(cat "$TMP/flood.rss")" \
        -v b="$FLOOD_BYTES" -v p="$FLOOD_PACKETS" 'BEGIN {
      if (w <= 0) w = 0.001; if (c <= 0) c = 0.001
      printf "| %s | %.2f | %.2f | %.1f | %.0f | | | %.0f | | |\n", n, w, c, b / 1e6 / c, p / c, r / 1024 }'
  else echo "| $label | $FLOOD_STATUS | | | | | | | | |"
  fi
fi
echo
if [ "$TSHARK_ONLY" = 0 ] && [ "$APITAP_STATUS" != ok ]; then
  echo "compare: apitap did not run: $APITAP_STATUS" >&2
  exit 1
fi
if [ "$FLOOD" = 1 ] && [ "$TSHARK_ONLY" = 0 ] && [ "$FLOOD_STATUS" != ok ]; then
  echo "compare: the flood run failed: $FLOOD_STATUS" >&2
  exit 1
fi

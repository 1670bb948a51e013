#!/usr/bin/env bash
# Times apitap's replay against tshark's HTTP dissection of the same capture, in the same run, and
# prints a markdown table: wall time, MB/s, packets/s, exchanges, exchanges/s, peak RSS, and the ratio.
#
#   bash test/bench/compare.sh [--tshark-only] CAPTURE.pcap
#
#   apitap:  node dist/engine/app/cli/main.js replay CAPTURE --format json [$APITAP_ARGS]
#            (run in a scratch directory, so its default store lands there, not in the repo;
#            APITAP_MAIN=path/to/main.js times another build);
#            exchanges = .capture.exchanges of the report/v1 JSON. Needs `npm run build` first:
#            without dist/ it fails with a clear message (the tshark row is still printed).
#   tshark:  tshark -r CAPTURE -n -Y http -T fields -e http.request.method -e http.response.code
#            -e http.request_in   (default HTTP reassembly and body decompression on);
#            exchanges = responses that tshark paired with their request.
# MB are 10^6 bytes of the capture file; packets from capinfos; peak RSS from /usr/bin/time -v.
# The file is read once beforehand so both tools start from the page cache. Exit 0 when both ran,
# 1 when apitap could not (unless --tshark-only), 2 on bad usage or missing tools.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
die() { echo "compare: $*" >&2; exit 2; }

TSHARK_ONLY=0
[ "${1:-}" = "--tshark-only" ] && { TSHARK_ONLY=1; shift; }
[ $# -eq 1 ] || die "usage: compare.sh [--tshark-only] CAPTURE.pcap"
CAP=$1
[ -r "$CAP" ] || die "cannot read $CAP"
CAP=$(cd "$(dirname "$CAP")" && pwd)/$(basename "$CAP")
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time, or bash deploy/dev/install-test-deps.sh)"
for t in tshark capinfos node; do command -v "$t" >/dev/null || die "$t missing (bash deploy/dev/install-test-deps.sh)"; done

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
}

mkdir -p "$TMP/tshark.cwd" "$TMP/apitap.cwd"
echo "compare: tshark on $(basename "$CAP") ($((BYTES / 1000000)) MB, $PACKETS packets)..." >&2
run tshark tshark -r "$CAP" -n -Y http -T fields -e http.request.method -e http.response.code -e http.request_in
[ "$(cat "$TMP/tshark.rc")" = 0 ] || die "tshark failed: $(tail -3 "$TMP/tshark.err")"
TS_EXCH=$(awk -F'\t' '$2 != "" && $3 != "" { n++ } END { print n + 0 }' "$TMP/tshark.out")

APITAP_STATUS=skipped
AP_EXCH=0
if [ "$TSHARK_ONLY" = 0 ]; then
  MAIN=${APITAP_MAIN:-$REPO/dist/engine/app/cli/main.js}
  if [ ! -f "$MAIN" ]; then
    APITAP_STATUS="missing $MAIN (run: npm run build)"
  else
    echo "compare: apitap on the same file..." >&2
    # shellcheck disable=SC2086
    run apitap node "$MAIN" replay "$CAP" --format json ${APITAP_ARGS:-}
    if [ "$(cat "$TMP/apitap.rc")" != 0 ]; then
      APITAP_STATUS="exit $(cat "$TMP/apitap.rc"): $(tail -3 "$TMP/apitap.err" | tr '\n' ' ')"
    else
      AP_EXCH=$(node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const n = r && r.capture && typeof r.capture.exchanges === "number" ? r.capture.exchanges : NaN;
        if (Number.isNaN(n)) { console.error("no .capture.exchanges in the report"); process.exit(1); }
        console.log(n);' "$TMP/apitap.out") && APITAP_STATUS=ok || APITAP_STATUS="report without .capture.exchanges"
    fi
  fi
fi

row() { # name wall rss exchanges
  awk -v n="$1" -v w="$2" -v r="$3" -v x="$4" -v b="$BYTES" -v p="$PACKETS" 'BEGIN {
    if (w <= 0) w = 0.001
    printf "| %s | %.2f | %.1f | %.0f | %d | %.0f | %.0f |\n", n, w, b / 1e6 / w, p / w, x, x / w, r / 1024 }'
}
echo
echo "capture: \`$(basename "$CAP")\`, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB, $PACKETS packets"
echo
echo "| tool | wall s | MB/s | packets/s | exchanges | exchanges/s | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
if [ "$APITAP_STATUS" = ok ]; then
  row apitap "$(cat "$TMP/apitap.wall")" "$(cat "$TMP/apitap.rss")" "$AP_EXCH"
else
  echo "| apitap | $APITAP_STATUS | | | | | |"
fi
row tshark "$(cat "$TMP/tshark.wall")" "$(cat "$TMP/tshark.rss")" "$TS_EXCH"
if [ "$APITAP_STATUS" = ok ]; then
  awk -v aw="$(cat "$TMP/apitap.wall")" -v tw="$(cat "$TMP/tshark.wall")" -v ar="$(cat "$TMP/apitap.rss")" -v tr="$(cat "$TMP/tshark.rss")" \
      -v ax="$AP_EXCH" -v tx="$TS_EXCH" 'BEGIN {
    if (aw <= 0) aw = 0.001; if (tr <= 0) tr = 1; if (tx <= 0) tx = 1
    printf "| apitap / tshark | speed ×%.2f | | | %.3f of tshark | | RSS ×%.2f |\n", tw / aw, ax / tx, ar / tr }'
fi
echo
if [ "$TSHARK_ONLY" = 0 ] && [ "$APITAP_STATUS" != ok ]; then
  echo "compare: apitap did not run: $APITAP_STATUS" >&2
  exit 1
fi

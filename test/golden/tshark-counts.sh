#!/usr/bin/env bash
# Produces test/golden/tshark-counts.json: tshark's HTTP request/response counts for every capture in
# the shared corpus, once with tshark's default HTTP ports and once with HTTP tried on every TCP port.
# These are the independent expected values the golden test compares apitap's counts against.
# Usage: bash test/golden/tshark-counts.sh [CORPUS_DIR]   (re-run only when the corpus or tshark changes)
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=${1:-../shared/corpus}
out=test/golden/tshark-counts.json
command -v tshark >/dev/null || { echo "tshark missing: run deploy/dev/install-test-deps.sh" >&2; exit 1; }
count() { # file filter [extra tshark args...]
  local f=$1 filter=$2; shift 2
  tshark -n -r "$f" "$@" -Y "$filter" -T fields -e frame.number 2>/dev/null | wc -l | tr -d ' '
}
{
  echo '{'
  echo "  \"tshark\": \"$(tshark --version | head -1)\","
  echo '  "captures": {'
  first=1
  while IFS= read -r f; do
    rel=${f#"$corpus"/}
    dreq=$(count "$f" http.request); dres=$(count "$f" http.response)
    areq=$(count "$f" http.request -o 'http.tcp.port:1-65535'); ares=$(count "$f" http.response -o 'http.tcp.port:1-65535')
    [ $first -eq 1 ] || echo ','
    first=0
    printf '    "%s": {"defaultPorts": {"requests": %s, "responses": %s}, "allPorts": {"requests": %s, "responses": %s}}' "$rel" "$dreq" "$dres" "$areq" "$ares"
  done < <(find "$corpus/pcaps" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' \) | LC_ALL=C sort)
  echo
  echo '  }'
  echo '}'
} > "$out"
echo "wrote $out"

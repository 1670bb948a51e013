#!/usr/bin/env bash
# Records the bundled demo capture: real curl traffic to real nginx + the JSON API in the netns lab,
# captured with tcpdump on the server's veth (a plain Ethernet capture, not VXLAN).
# Writes deploy/demo/demo.pcap and deploy/demo/openapi.yaml (a copy of test/support/jsonapi/openapi.yaml).
#
#   sudo bash deploy/demo/make-demo.sh [OUT_DIR]      (default: the directory of this script)
#
# What is in it (19 requests on four connections, fixed client ports and User-Agents):
#   conn 1 (gzip, keep-alive): health, a product page (gzip by the API), a product, a user with PII, an
#                     order, its items (chunked), login POST with a JSON password
#   conn 2 (gzip, keep-alive): /users/me with the token, the deprecated /api/v1/accounts/3 (Deprecation +
#                     Sunset headers), the undocumented /internal/debug, a 404, a streamed user list
#                     (chunked + nginx gzip, PII)
#   conn 3 (no gzip, keep-alive): another user, the v2 account (IBAN), a search (chunked), an order, a
#                     failed login (401), an order POST (201)
#   conn 4:           one request with Connection: close
# Content is deterministic (seeded data, no Date in API bodies); nginx's Date header, TCP sequence numbers
# and timestamps differ between runs. Needs root; removes everything it created, also on failure.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT_DIR=${1:-$HERE}
LAB="$REPO/test/support/netns/lab.sh"
die() { echo "make-demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it builds network namespaces)"
command -v tcpdump >/dev/null || die "tcpdump missing (bash deploy/dev/install-test-deps.sh)"
mkdir -p "$OUT_DIR"

ID=d$$
TMP=$(mktemp -d /tmp/apitap-demo.XXXXXX)
TCPDUMP_PID=""
cleanup() {
  local rc=$?
  [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null && wait "$TCPDUMP_PID" 2>/dev/null
  bash "$LAB" down "$ID" >/dev/null 2>&1 || echo "make-demo: lab teardown failed; run: bash $LAB down $ID" >&2
  rm -rf "$TMP"
  [ $rc = 0 ] || echo "make-demo: FAILED (exit $rc)" >&2
  exit $rc
}
trap cleanup EXIT

bash "$LAB" up --id "$ID" --no-mirror --seed 42 > "$TMP/lab.env"
# shellcheck disable=SC1091
. "$TMP/lab.env"
ORDER1=$(node "$REPO/test/support/jsonapi/server.mjs" --fixtures --seed 42 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s).orderIds;console.log(o[0]+" "+o[7])})')
read -r O1 O2 <<< "$ORDER1"

ip netns exec "$SRV_NS" tcpdump -i eth0 -s 0 -U --immediate-mode -n -w "$TMP/demo.pcap" 'tcp port 80' 2> "$TMP/tcpdump.log" &
TCPDUMP_PID=$!
for _ in $(seq 1 50); do grep -q 'listening on' "$TMP/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'listening on' "$TMP/tcpdump.log" || die "tcpdump did not start: $(cat "$TMP/tcpdump.log")"

cl() { ip netns exec "$CLI_NS" curl -sS --max-time 20 "$@"; }
U=$API_URL
LOGIN='{"username":"alice.becker1","password":"S3cure-Passw0rd!"}'

# conn 1: browser-like client, gzip, keep-alive.
TOKEN=$(cl --local-port 41001 -A 'shop-web/2.3 (apitap-demo)' --compressed \
  -o /dev/null "$U/health" \
  -o /dev/null "$U/api/v2/products?page=1&per_page=10" \
  -o /dev/null "$U/api/v2/products/17" \
  -o /dev/null "$U/api/v1/users/42" \
  -o /dev/null "$U/api/v1/orders/$O1" \
  -o /dev/null "$U/api/v1/orders/$O1/items" \
  --next -sS --compressed -A 'shop-web/2.3 (apitap-demo)' -H 'Content-Type: application/json' --data "$LOGIN" "$U/api/v1/login" \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))')
cl --local-port 41002 -A 'shop-web/2.3 (apitap-demo)' --compressed -H "Authorization: Bearer $TOKEN" \
  -o /dev/null "$U/api/v1/users/me" \
  -o /dev/null "$U/api/v1/accounts/3" \
  -o /dev/null "$U/internal/debug" \
  -o /dev/null "$U/api/v1/users/5000" \
  -o /dev/null "$U/api/v1/users?limit=12"
# conn 2: a script without gzip.
cl --local-port 41003 -A 'python-requests/2.31.0' \
  -o /dev/null "$U/api/v1/users/7" \
  -o /dev/null "$U/api/v2/accounts/7" \
  -o /dev/null "$U/api/v1/search?q=lamp" \
  -o /dev/null "$U/api/v1/orders/$O2" \
  --next -sS -A 'python-requests/2.31.0' -o /dev/null -H 'Content-Type: application/json' --data '{"username":"bob","password":"wrong-password"}' "$U/api/v1/login" \
  --next -sS -A 'python-requests/2.31.0' -o /dev/null -H 'Content-Type: application/json' --data '{"items":[{"sku":"SKU-0726DC2E","qty":1},{"sku":"SKU-738847B4","qty":2}]}' "$U/api/v1/orders"
# conn 3: one request, connection close.
cl --local-port 41004 -A 'curl/monitor' -H 'Connection: close' -o /dev/null "$U/health"
sleep 0.5
kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true; TCPDUMP_PID=""

requests=$(wc -l < "$LAB_DIR/access.log")
[ "$requests" -eq 19 ] || die "expected 19 requests in nginx's log, got $requests"
cp "$TMP/demo.pcap" "$OUT_DIR/demo.pcap"
cp "$REPO/test/support/jsonapi/openapi.yaml" "$OUT_DIR/openapi.yaml"
size=$(stat -c %s "$OUT_DIR/demo.pcap")
[ "$size" -lt 307200 ] || die "demo.pcap is $size bytes, over the 300 KB budget"
echo "make-demo: wrote $OUT_DIR/demo.pcap ($size bytes, $requests HTTP requests) and $OUT_DIR/openapi.yaml"
if command -v capinfos >/dev/null; then capinfos -c -u -d "$OUT_DIR/demo.pcap" | sed 's/^/  /'; fi

#!/usr/bin/env bash
# The whole test suite, exactly what CI runs (.ci/run calls `npm test`, which runs this).
# Installs what the tests need with the project's own scripts (npm packages with `npm ci`, Debian
# packages, the newest Node LTS from the npm registry; the Kafka jars come from Maven Central on the
# broker's first start), then type-checks, lints, builds once and runs every test with node's test
# runner twice: on the machine's Node and on the newest LTS line (deploy/dev/node-lts.sh).
#   bash test/run.sh              everything
#   bash test/run.sh clickhouse   only the store suite; with CLICKHOUSE_URL=http://host:8123 it runs
#                                 the ClickHouse-server backend against that real server
#   APITAP_TEST_NODES=machine bash test/run.sh   only the machine's Node (quicker local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
# `npm ci` installs exactly package-lock.json (docs/decisions/0004-npm-ci.md). It deletes node_modules
# first, so it runs only when there is none (a fresh clone, as in CI); after changing dependencies run
# `npm ci` yourself. The lock check is offline and catches a lock that `npm ci` would reject.
node deploy/dev/npm-lock.mjs --check
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund
bash deploy/dev/install-test-deps.sh
lts_node=''
[ "${APITAP_TEST_NODES:-all}" = machine ] || lts_node="$(bash deploy/dev/node-lts.sh)"
rm -rf dist # no stale compiled tests from deleted sources
npx tsc -p tsconfig.json
if [ "${1:-}" = clickhouse ]; then
  exec node --test --test-concurrency=1 dist/test/integration/store.test.js
fi
npx eslint .
npx prettier --check . >/dev/null || {
  echo "formatting: run npm run format" >&2
  npx prettier --list-different .
  exit 1
}
# A missing shared corpus skips the tests that read it (needsCorpus, test/support/paths.ts): said once here.
corpus_dir=$(realpath -m "${APITAP_CORPUS:-../shared/corpus}")
[ -d "$corpus_dir" ] || echo "test/run.sh: shared corpus not found at $corpus_dir; set APITAP_CORPUS (the tests that read it are skipped)" >&2
mapfile -t files < <(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort)

# One run of the compiled suite on the given node binary. Its directory goes first on PATH, so the
# tests' child processes (`node dist/engine/app/cli/main.js`, servers) run on the same Node. Besides the
# usual report on stdout, a TAP copy goes to dist/test-results/ for the counts of the closing line.
summary=()
failed=0
passed_total=0 failed_total=0 skipped_total=0
suite() {
  local node="$1" version start rc=0 tap pass fail cancelled skipped
  version="$("$node" --version)"
  tap="dist/test-results/node-$version.tap"
  mkdir -p dist/test-results
  echo "== test suite on Node $version ($node)"
  start=$SECONDS
  PATH="$(dirname "$node"):$PATH" "$node" --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}" || rc=$?
  count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$tap" | tail -1; }
  pass="$(count pass)" fail="$(count fail)" cancelled="$(count cancelled)" skipped="$(count skipped)"
  pass=${pass:-0} fail=$((${fail:-0} + ${cancelled:-0})) skipped=${skipped:-0}
  [ $rc = 0 ] || [ "$fail" -gt 0 ] || fail=1 # the runner failed without a counted test: count it
  passed_total=$((passed_total + pass)) failed_total=$((failed_total + fail)) skipped_total=$((skipped_total + skipped))
  summary+=("Node $version: $pass passed, $fail failed, $skipped skipped in $((SECONDS - start)) s")
  [ $rc = 0 ] || failed=1
}
machine_node="$(command -v node)"
suite "$machine_node"
if [ -n "$lts_node" ]; then
  if [ "$("$machine_node" -p process.versions.node)" = "$("$lts_node" -p process.versions.node)" ]; then
    summary+=("newest LTS: the machine's Node is $("$lts_node" --version) already, one run")
  else
    suite "$lts_node"
  fi
fi
printf '== %s\n' "${summary[@]}"
echo "tests: $passed_total passed, $failed_total failed, $skipped_total skipped"
exit $failed

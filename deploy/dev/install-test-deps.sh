#!/usr/bin/env bash
# Debian packages the tests and benchmarks use. Idempotent; quiet when everything is there.
set -euo pipefail
need=()
for pair in tshark:tshark tcpdump:tcpdump nginx:nginx-light wrk:wrk ip:iproute2 curl:curl /usr/bin/time:time llc:llvm zstd:zstd xz:xz-utils nft:nftables nghttpd:nghttp2-server nghttp:nghttp2-client nghttpx:nghttp2-proxy openssl:openssl chromium:chromium; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections || true
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

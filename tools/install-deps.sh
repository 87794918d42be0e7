#!/usr/bin/env bash
# Installs the Debian packages portwitness needs, only those missing.
# Runs apt-get as root (directly, or through sudo when not root).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-dev python3
  libpcap-dev libnids-dev uthash-dev libjansson-dev libyaml-dev libssl-dev libnghttp2-dev
  libwiretap-dev libwsutil-dev libglib2.0-dev
  tshark tcpreplay iproute2
  chromium nodejs
)

missing=()
# npm: Debian's own package, unless a node build that carries npm is there.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The PowerShell grammar the fix-script test parses with (tests/scenarios/
# test_fix_ps.py): tree-sitter-powershell's WebAssembly build through
# web-tree-sitter, pinned by tools/pscheck/package-lock.json; no install
# scripts run (nothing native is built).
pscheck="$(dirname "$0")/pscheck"
if [ ! -d "$pscheck/node_modules/web-tree-sitter" ]; then
  echo "install-deps: npm ci in tools/pscheck"
  (cd "$pscheck" && npm ci --ignore-scripts --no-audit --no-fund)
fi

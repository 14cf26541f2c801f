#!/usr/bin/env bash
# Browser end-to-end tests and accessibility audit (e2e/): Debian's Chromium driven by
# playwright-core against the real `preuves serve --demo`. Run from anywhere; paths are
# relative to the repository. Environment: PREUVES_BIN (a built binary, relative to e2e/ or
# absolute; built here when unset), CHROMIUM (default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y chromium chromium-driver; then
      apt-get update
      apt-get install -y chromium chromium-driver
    fi
  else
    echo "Chromium introuvable ($chromium) : installez le paquet chromium ou donnez CHROMIUM." >&2
    exit 1
  fi
fi

(cd e2e && npm ci --no-audit --no-fund)

if [ -z "${PREUVES_BIN:-}" ]; then
  cargo build -p preuves --locked
  PREUVES_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/preuves"
  export PREUVES_BIN
fi

cd e2e
npm test

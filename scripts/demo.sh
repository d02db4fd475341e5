#!/usr/bin/env bash
# Builds the web UI and the release binary, then starts `jarvis demo` (simulated cluster).
# Settings such as PORT, HOST, JARVIS_PASSWORD and DB_PATH are honoured when set.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  npm --prefix web ci --no-audit --no-fund
fi
npm --prefix web run build
cargo build --release --locked -p jarvis
exec ./target/release/jarvis demo "$@"

#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: Chromium for the browser tests,
# cargo-nextest for the Rust tests, and the web packages. Idempotent; safe to run every time.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium (Debian package) =="
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi

if ! command -v /usr/sbin/sshd >/dev/null 2>&1; then
  echo "== installing openssh-server (Debian package; the SSH tests start their own sshd) =="
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq openssh-server >/dev/null
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "== installing cargo-nextest =="
  cargo install cargo-nextest --locked
fi

if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "== installing web packages =="
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm --prefix web ci --no-audit --no-fund
fi

#!/usr/bin/env bash
# Runs every check and every test: formatting, lints, Rust unit + integration tests, web unit
# tests, generated-type drift, and the Playwright browser tests against the demo binary.
# This is the README's test command and exactly what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

step() { printf '\n== %s ==\n' "$*"; }

step "install test dependencies"
./scripts/install-test-deps.sh

step "rustfmt"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "jarvis-domain stays pure (no tokio, no reqwest)"
if cargo tree -p jarvis-domain -e normal --prefix none --locked | grep -E '^(tokio|reqwest|rusqlite|hyper) '; then
  echo "jarvis-domain must not depend on IO crates" >&2
  exit 1
fi

step "web lint and unit tests"
npm --prefix web run lint
npm --prefix web run test

step "web build (embedded by the server)"
npm --prefix web run build

step "Rust tests (unit + integration)"
cargo nextest run --workspace --locked --no-fail-fast

step "generated TypeScript types are committed and in sync"
if [ -n "$(git status --porcelain -- web/src/types/generated)" ]; then
  git status --porcelain -- web/src/types/generated
  echo "web/src/types/generated changed: commit the regenerated types" >&2
  exit 1
fi

step "browser end-to-end tests (Playwright + Chromium against jarvis demo)"
cargo build --locked -p jarvis --bin jarvis
JARVIS_BIN="$PWD/target/debug/jarvis" npm --prefix web run e2e

step "all checks passed"

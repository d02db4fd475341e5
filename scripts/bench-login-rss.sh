#!/usr/bin/env bash
# Measures the resident memory of `jarvis demo` idle, after 20 sequential logins, after 20
# concurrent logins and after 30 concurrent wrong-password attempts (from 30 addresses, through
# X-Forwarded-For with TRUST_PROXY on). A benchmark, not a test: it prints figures.
#
#   scripts/bench-login-rss.sh [path/to/jarvis]   (default: target/release/jarvis)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/jarvis}"
[ -x "$bin" ] || { echo "no binary at $bin (cargo build --release -p jarvis)" >&2; exit 1; }

port=$((20000 + RANDOM % 20000))
password='bench login password'
log=$(mktemp)
PORT=$port JARVIS_PASSWORD="$password" TRUST_PROXY=true RUST_LOG=warn "$bin" demo >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  sleep 0.2
done

rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status"; }
login() { # $1: password, $2: client address
  curl -s -o /dev/null -w '%{http_code}\n' -H 'content-type: application/json' \
    -H "x-forwarded-for: $2" -d "{\"password\":\"$1\"}" "http://127.0.0.1:$port/api/auth/login"
}
export -f login
export port

sleep 5
echo "idle:                              $(rss)"
for i in $(seq 1 20); do login "$password" 10.0.0.1 >/dev/null; done
sleep 2
echo "after 20 sequential logins:        $(rss)"
seq 1 20 | xargs -P 20 -I{} bash -c "login '$password' 10.0.1.{}" | sort | uniq -c | tr '\n' ' '
sleep 2
echo
echo "after 20 concurrent logins:        $(rss)"
seq 1 30 | xargs -P 30 -I{} bash -c "login 'wrong guess' 10.0.2.{}" | sort | uniq -c | tr '\n' ' '
sleep 2
echo
echo "after 30 concurrent wrong guesses: $(rss)"

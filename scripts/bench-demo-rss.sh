#!/usr/bin/env bash
# Resident memory of `jarvis demo` through a realistic sequence: idle, a dozen logins, a few chat
# turns (scripted models), then an hour of monitoring with the demo's incidents (a guest crashes
# every JARVIS_DEMO_INCIDENTS seconds and the monitor restarts it). A benchmark: prints figures.
#
#   scripts/bench-demo-rss.sh [path/to/jarvis] [minutes]   (defaults: target/release/jarvis, 60)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/jarvis}"
minutes="${2:-60}"
[ -x "$bin" ] || { echo "no binary at $bin (cargo build --release -p jarvis)" >&2; exit 1; }
port=$((20000 + RANDOM % 20000))
password='bench demo password'
log=$(mktemp)
PORT=$port JARVIS_PASSWORD="$password" RUST_LOG=warn "$bin" demo --scripted-llm >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  sleep 0.2
done
rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status"; }
login() {
  curl -s -H 'content-type: application/json' -d "{\"password\":\"$password\"}" \
    "http://127.0.0.1:$port/api/auth/login" | sed -E 's/.*"token":"([^"]+)".*/\1/'
}
sleep 5
echo "idle:                 $(rss)"
token=""
for _ in $(seq 1 12); do token=$(login); done
sleep 2
echo "after 12 logins:      $(rss)"
URL="http://127.0.0.1:$port" TOKEN="$token" node scripts/lib/chat-turns.mjs 5
sleep 2
echo "after 5 chat turns:   $(rss)"
for m in $(seq 1 "$minutes"); do
  sleep 60
  if [ $((m % 10)) -eq 0 ] || [ "$m" -eq "$minutes" ]; then
    incidents=$(curl -s -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/monitor/status" |
      sed -E 's/.*"openIncidents":([0-9]+).*/\1/')
    actions=$(curl -s -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/monitor/actions?limit=1000" |
      grep -o '"result":"success"' | wc -l)
    echo "after ${m} min:        $(rss)   (open incidents $incidents, verified restarts $actions)"
  fi
done

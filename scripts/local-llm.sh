#!/usr/bin/env bash
# Starts a real OpenAI-compatible LLM server for manual use: llama-cpp-python serving
# SmolLM2-135M-Instruct as model "smollm2" on 127.0.0.1 (default port 8081), from the cache
# scripts/install-test-deps.sh fills. Point Jarvis at it with LOCAL_LLM_ENDPOINT=http://127.0.0.1:8081.
# Extra arguments go to the server, e.g. `--chat_format chatml-function-calling` for tool calls
# (non-streaming or forced tool_choice only; see the llama-cpp-python docs).
# Usage: scripts/local-llm.sh [port] [server args…]
set -euo pipefail
cd "$(dirname "$0")/.."

LLM_CACHE="${JARVIS_TEST_CACHE:-$HOME/.cache/jarvis-test}/llm"
PYTHON="${JARVIS_LLM_PYTHON:-$LLM_CACHE/venv/bin/python}"
MODEL="${JARVIS_LLM_MODEL:-$LLM_CACHE/SmolLM2-135M-Instruct.Q4_1.gguf}"
PORT="${1:-8081}"
shift || true

if [ ! -x "$PYTHON" ] || [ ! -f "$MODEL" ]; then
  echo "local LLM not installed ($PYTHON, $MODEL): run scripts/install-test-deps.sh first" >&2
  exit 1
fi
echo "serving $MODEL as \"smollm2\" on http://127.0.0.1:$PORT (Ctrl-C stops it)"
exec "$PYTHON" -m llama_cpp.server --model "$MODEL" --host 127.0.0.1 --port "$PORT" \
  --n_ctx 2048 --model_alias smollm2 "$@"

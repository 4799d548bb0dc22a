#!/usr/bin/env bash
# Benchmark-only dependency: a real Triton Inference Server for bench/server_vs_triton.sh,
# from PyPI's nvidia-pytriton, which ships a tritonserver binary with its Python backend inside
# the wheel. Kept in its own venv (.venv-triton, git-ignored) so the project's .venv, setup.sh
# and CI never see it. Idempotent.
#   bench/triton/setup_venv.sh [VENV]        (default: .venv-triton)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-.venv-triton}
PYTRITON_VERSION=0.7.0   # pinned: the tritonserver it bundles is what the benchmark measures
# Debian's python (3.11, glibc 2.36): the Python backend's stub is linked against the
# interpreter pytriton runs under.
PY=${PYTHON:-/usr/bin/python3}
if ! "$VENV/bin/python" -c "import pytriton" 2>/dev/null; then
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
"$VENV/bin/pip" install -q "nvidia-pytriton==$PYTRITON_VERSION"
"$VENV/bin/python" -c "import pytriton, importlib.metadata as m; print('nvidia-pytriton', m.version('nvidia-pytriton'))"

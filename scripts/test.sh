#!/usr/bin/env bash
# The second README command: runs every test (C++ via CTest, Python via pytest). Installs and
# builds first if needed (both idempotent), and exports the tiny test models (with their int8
# and fp16 files, which the backend conformance test runs).
set -euo pipefail
cd "$(dirname "$0")/.."
OPTIC_CUDA_TOOLCHAIN=1 scripts/setup.sh  # CI also compile-checks the CUDA code
scripts/build.sh
build/optic models export --models tiny_cnn,tiny_mlp,pipeline
build/optic models export --models tiny_cnn,tiny_mlp --formats onnx-int8,onnx-fp16,openvino-int8
(cd build && ctest --output-on-failure -j2 --timeout 900)
# The Python package (tests/python/test_api*.py import it): builds in build/python, incremental.
.venv/bin/pip install -q --no-build-isolation .
.venv/bin/python -m pytest -q tests/python
scripts/sanitize.sh  # server unit tests and the real server under pytest, ASan+UBSan (build-sanitize; ~10-12 min cold on 2 cores, ~1 min warm)

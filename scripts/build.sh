#!/usr/bin/env bash
# Configures and builds optic into build/ (Release, Ninja). Extra arguments go to cmake.
# Where scripts/setup.sh laid out the pip CUDA toolchain (.deps/cuda, OPTIC_CUDA_TOOLCHAIN=1),
# the CUDA code is compiled too (it cannot run without a GPU; its tests skip).
set -euo pipefail
cd "$(dirname "$0")/.."
args=(-DCMAKE_BUILD_TYPE=Release)
command -v ccache >/dev/null && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ -x .deps/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null; then
  args+=(-DCMAKE_CUDA_COMPILER="$PWD/.deps/cuda/bin/nvcc" -DCUDAToolkit_ROOT="$PWD/.deps/cuda")
fi
mkdir -p build
cmake -S . -B build -G Ninja "${args[@]}" "$@" >build/configure.log 2>&1 || {
  cat build/configure.log; exit 1; }
grep -E "^-- optic:" build/configure.log || true
ninja -C build -j"$(nproc)"

#!/usr/bin/env bash
# Configures and builds optic into build/ (Release, Ninja). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" >build.log 2>&1 || {
  cat build.log; exit 1; }
grep -E "^-- optic:" build.log || true
ninja -C build -j"$(nproc)"

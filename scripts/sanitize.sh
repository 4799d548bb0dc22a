#!/usr/bin/env bash
# The server and dynamic-batcher unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
# (issue 7): a separate build dir (build-sanitize) with the framework backends off, so only the
# null backend serves the tests' models and no framework's own leaks or instrumentation gaps get
# in the way. Builds only the two test binaries it runs.
# Usage: scripts/sanitize.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-sanitize}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOPTIC_SANITIZE=ON \
  -DOPTIC_WITH_TORCH=OFF -DOPTIC_WITH_OPENVINO=OFF -DOPTIC_WITH_ONNXRUNTIME=OFF \
  -DOPTIC_WITH_CUDA=OFF "${launcher[@]}" >/dev/null
ninja -C "$BUILD" -j2 server_batcher_test server_repository_test
# halt_on_error: a sanitizer report fails the test instead of scrolling past.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$BUILD" && ctest --output-on-failure --timeout 300 \
  -R '^(BatcherTest|BatcherOptionsTest|RepositoryTest|ModelConfigTest)\.')

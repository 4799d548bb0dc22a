#!/usr/bin/env bash
# The server under AddressSanitizer (with LeakSanitizer) + UndefinedBehaviorSanitizer,
# in a separate Debug build dir (build-sanitize): torch, OpenVINO, CUDA, XLA and IREE off; ONNX Runtime
# on when setup.sh installed it (.deps/onnxruntime), because the JPEG-in and ensemble tests
# serve the zoo's tiny_cnn on it (its prebuilt library is not instrumented: reports can only
# come from optic's own code, and its allocations at exit are suppressed, see sanitize.supp).
#  1. GoogleTest: dynamic batcher, repository/config, and the JPEG decoder/resizer that the
#     JPEG-in preprocessing stage runs (bad, truncated and odd JPEGs included).
#  2. The real `optic serve` built with the sanitizers, driven by the Python integration tests:
#     tests/server/test_jpeg_ensemble.py (JPEG-in stage, optic_preprocess/optic_average,
#     ensembles, BYTES over HTTP binary / JSON base64 / gRPC, corrupt JPEGs in a batch, stream
#     infer) and tests/python/test_tritonclient.py (codec, router, batcher, overload, SIGTERM
#     drain, optic load). Each server process writes any sanitizer report to $BUILD/sanitizer-logs
#     (leaks are checked when it exits after SIGTERM); one report there fails the script.
#  3. ThreadSanitizer (a second Debug build dir, build-tsan, no framework at all): the dynamic
#     batcher's tests, which drive its scheduler, instance workers, warm-up tasks and shutdown
#     from several threads: data races (unsynchronized access) fail it. Ordering bugs under a
#     correct lock, like the warm-up one CI once hit as a rare bad_alloc, need their own
#     deterministic tests (BatcherTest.WarmUpWaitsForAnInstanceStillFinishingABatch).
# Usage: scripts/sanitize.sh [build-dir]     SANITIZE_PYTEST=0 skips step 2, SANITIZE_TSAN=0 step 3.
# Cost on this 2-core machine (cold build, no ccache): see BENCHMARKS.md / the script's log.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-sanitize}
start=$(date +%s)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
ort=OFF
[ -d .deps/onnxruntime ] && ort=ON
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOPTIC_SANITIZE=ON \
  -DOPTIC_WITH_TORCH=OFF -DOPTIC_WITH_OPENVINO=OFF -DOPTIC_WITH_ONNXRUNTIME=$ort \
  -DOPTIC_WITH_CUDA=OFF -DOPTIC_WITH_XLA=OFF -DOPTIC_WITH_IREE=OFF "${launcher[@]}" >/dev/null
pytests=${SANITIZE_PYTEST:-1}
targets=(server_batcher_test server_repository_test preprocess_bad_input_test
         preprocess_jpeg_structure_test preprocess_decode_test)
[ "$pytests" = 1 ] && targets+=(optic)
ninja -C "$BUILD" -j2 "${targets[@]}"
built=$(date +%s)

LOGS=$PWD/$BUILD/sanitizer-logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
# halt_on_error: a report fails the process (and so the test) instead of scrolling past;
# log_path: reports of server processes started by pytest land in files checked below.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:log_path=$LOGS/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan
export LSAN_OPTIONS=suppressions=$PWD/scripts/sanitize.supp:print_suppressions=0
status=0
(cd "$BUILD" && ctest --output-on-failure --timeout 300 \
  -R '^(BatcherTest|BatcherOptionsTest|RepositoryTest|ModelConfigTest|PreprocessBadInput|PreprocessJpegStructure|PreprocessDecode)\.') \
  || status=1
unit=$(date +%s)

if [ "$pytests" = 1 ]; then
  if [ "$ort" = OFF ] || [ ! -f "${OPTIC_MODELS:-models}/tiny_cnn/model.onnx" ]; then
    # Without tiny_cnn the JPEG/ensemble module skips itself; say so rather than pass quietly.
    echo "sanitize: no ONNX Runtime or no models/tiny_cnn: the JPEG-in/ensemble tests will skip"
  fi
  OPTIC_BINARY=$PWD/$BUILD/optic timeout 900 .venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/server/test_jpeg_ensemble.py tests/python/test_tritonclient.py || status=1
fi
done_s=$(date +%s)

if [ "${SANITIZE_TSAN:-1}" = 1 ]; then
  TSAN_BUILD=${TSAN_BUILD:-build-tsan}
  cmake -S . -B "$TSAN_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOPTIC_TSAN=ON \
    -DOPTIC_WITH_TORCH=OFF -DOPTIC_WITH_OPENVINO=OFF -DOPTIC_WITH_ONNXRUNTIME=OFF \
    -DOPTIC_WITH_CUDA=OFF -DOPTIC_WITH_XLA=OFF -DOPTIC_WITH_IREE=OFF "${launcher[@]}" >/dev/null
  ninja -C "$TSAN_BUILD" -j2 server_batcher_test
  # halt_on_error: a race report fails the test; second_deadlock_stack for lock-order reports.
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$LOGS/tsan" \
    "$TSAN_BUILD/tests/server_batcher_test" --gtest_brief=1 --gtest_repeat=3 || status=1
fi
tsan_s=$(date +%s)

shopt -s nullglob
reports=("$LOGS"/*)
if ((${#reports[@]})); then
  echo "sanitize: ${#reports[@]} sanitizer report(s):"
  for f in "${reports[@]}"; do echo "== $f"; cat "$f"; done
  status=1
fi
echo "sanitize: build $((built - start)) s, unit tests $((unit - built)) s, server tests $((done_s - unit)) s," \
  "ThreadSanitizer $((tsan_s - done_s)) s"
exit $status

#!/usr/bin/env bash
# On the GPU machine: IREE-CUDA beside the other CUDA backends. Takes the modules and the runtime
# wheel that scripts/gpu/fetch_iree_cuda.sh made in .ireecuda/ (carry it in the device call),
# installs the wheel into $IREE_PY (no system change), builds optic's iree backend against it
# (runtime only: no compiler there), and runs one optic bench of resnet50 x fp32,fp16 x batch
# 1,64,256 with iree (its modules= folder: weights built from this machine's own ONNX export) beside
# torch, against torch's reference on the GPU. Rows go to $OUT/bench_iree_cuda.jsonl.
#   scripts/gpu/iree_cuda.sh                     after scripts/gpu/run.sh's build stage
#   SETUP_ONLY=1 scripts/gpu/iree_cuda.sh        only install the runtime and build the backend (for
#                                                run.sh's grid stage, with IREE_MODULES)
#   DEVICE=cpu MODULES=.ireecpu BUILD=build scripts/gpu/iree_cuda.sh
#                                                the dry run on a CPU machine (TARGET=llvm-cpu
#                                                scripts/gpu/fetch_iree_cuda.sh makes .ireecpu)
# Exit status: that of optic bench; 1 when something it needs is missing (it says what).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/out/gpu}
BUILD=${BUILD:-$ROOT/build-gpu}
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
MODULES=${MODULES:-$ROOT/.ireecuda}
MODELS=${MODELS:-resnet50}
PRECISIONS=${PRECISIONS:-$([ "$DEVICE" = cuda ] && echo fp32,fp16 || echo fp32)}
BATCHES=${BATCHES:-1,64,256}
OTHERS=${OTHERS:-torch}  # backends benched beside iree in the same run
DURATION_S=${DURATION_S:-1}
IREE_PY=${IREE_PY:-/tmp/optic-iree-py}
mkdir -p "$OUT"
MODULES=$(cd "$MODULES" 2>/dev/null && pwd) || { echo "iree_cuda: no modules folder (scripts/gpu/fetch_iree_cuda.sh makes .ireecuda)" >&2; exit 1; }
(cd "$MODULES" && sha256sum -c --quiet SHA256SUMS) || { echo "iree_cuda: $MODULES does not match its SHA256SUMS" >&2; exit 1; }

# The runtime: the carried wheel, unpacked with pip into a private folder on PYTHONPATH (which
# the embedded Python of optic inherits).
if ! $PY -c "import iree.runtime" 2>/dev/null; then
  wheel=$(ls "$MODULES"/iree_base_runtime-*.whl 2>/dev/null | head -1)
  [ -n "$wheel" ] || { echo "iree_cuda: $PY has no iree.runtime and $MODULES carries no wheel" >&2; exit 1; }
  $PY -m pip install -q --no-deps --target "$IREE_PY" "$wheel" || exit 1
  export PYTHONPATH=$IREE_PY${PYTHONPATH:+:$PYTHONPATH}
  $PY -c "import iree.runtime" || { echo "iree_cuda: iree.runtime does not import (a dependency missing? it needs numpy and ml_dtypes)" >&2; exit 1; }
fi
echo "iree_cuda: $($PY -c 'import iree.runtime.version as v; print("iree-base-runtime", v.VERSION)')"
# The weights are read from the ONNX file by the onnx package in the same Python.
$PY -c "import onnx" 2>/dev/null || { echo "iree_cuda: $PY cannot import onnx (scripts/gpu/fetch_xla_wheels.sh onnx==1.23.1 carries it)" >&2; exit 1; }

# The backend: configure the existing build with it (the build stage of scripts/gpu/run.sh made it).
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  echo "iree_cuda: no build at $BUILD: run STAGES=build scripts/gpu/run.sh first" >&2; exit 1
fi
cmake "$BUILD" -DOPTIC_WITH_IREE=ON -DOPTIC_IREE_PYTHON="$(command -v $PY)" >"$OUT/iree_configure.log" 2>&1 \
  || { tail -5 "$OUT/iree_configure.log"; exit 1; }
ninja -C "$BUILD" optic >"$OUT/iree_build.log" 2>&1 || { tail -20 "$OUT/iree_build.log"; exit 1; }
"$BUILD/optic" backends | grep -A3 '^iree'
[ -z "${SETUP_ONLY:-}" ] || exit 0  # SETUP_ONLY=1: the backend is built, no bench

for m in ${MODELS//,/ }; do
  if [ ! -f "models/$m/model.onnx" ]; then
    $PY tools/zoo/export.py --out models --models "$m" --formats torchscript,onnx || exit 1
  fi
done
exec "$BUILD/optic" bench --models "$MODELS" --backends "iree,$OTHERS" --device "$DEVICE" \
  --precision "$PRECISIONS" --batch "$BATCHES" --scenario offline --duration-s "$DURATION_S" \
  --reference-device "$DEVICE" --timeout-s "${CELL_TIMEOUT:-300}" \
  --backend-option "iree:modules=$MODULES" --out "$OUT/bench_iree_cuda.jsonl"

#!/usr/bin/env bash
# Makes, here (where IREE's compiler is: .venv, scripts/setup.sh), what scripts/gpu/iree_cuda.sh
# needs on the GPU machine, in $DEST (default .ireecuda/, ~17 MB):
#   - the iree-base-runtime wheel for that machine's CPython 3.12, at the version scripts/setup.sh
#     pins (~15 MB; the GPU image has no IREE and no PyPI);
#   - <model>-<precision>-b<batch>.vmfb with its compile record (.json) for each of MODELS x
#     PRECISIONS x BATCHES (default resnet50 x fp32,fp16 x 1,64,256), compiled for CUDA $ARCH at
#     --iree-opt-level=$OPT with the weights kept out of the module (params=external): the record
#     lists the parameters, and the iree backend builds them on the GPU machine from its own ONNX
#     export of the same graph (backend option modules=, docs/backends.md), so no 100 MB weight
#     archive travels (a module is 0.4-1 MB);
#   - SHA256SUMS over all of it.
# TARGET=llvm-cpu makes the same set for this CPU instead (DEST default .ireecpu/): the dry run of
# scripts/gpu/iree_cuda.sh here, on CPU paths only.
#   scripts/gpu/fetch_iree_cuda.sh                 then carry .ireecuda in the device call
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${TARGET:-cuda}
DEST=${DEST:-$([ "$TARGET" = cuda ] && echo .ireecuda || echo .ireecpu)}
MODELS=${MODELS:-resnet50}
PRECISIONS=${PRECISIONS:-$([ "$TARGET" = cuda ] && echo fp32,fp16 || echo fp32)}
BATCHES=${BATCHES:-1,64,256}
OPT=${OPT:-O3}
ARCH=${ARCH:-sm_80}  # IREE 3.13 refuses sm_90 ("missing GPU target"); Hopper JIT-compiles sm_80 PTX
PY=.venv/bin/python
VERSION=$(sed -n 's/^IREE_VERSION=\([^ ]*\).*/\1/p' scripts/setup.sh)
for d in "$DEST"; do grep -qx "/$d/" .git/info/exclude 2>/dev/null || echo "/$d/" >> .git/info/exclude; done
rm -rf "$DEST" && mkdir -p "$DEST"
if [ "$TARGET" = cuda ]; then
  .venv/bin/pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 -d "$DEST" "iree-base-runtime==$VERSION"
fi
for m in ${MODELS//,/ }; do
  onnx=models/$m/model.onnx
  [ -f "$onnx" ] || { echo "fetch_iree_cuda: no $onnx (build/optic models export --models $m)" >&2; exit 1; }
  # Every input's variable first axis becomes the batch; other axes as the graph declares them.
  info=$(mktemp)
  $PY src/backends/iree/optic_iree_compile.py describe "$onnx" "$info"
  for b in ${BATCHES//,/ }; do
    shapes=$($PY -c "import json,sys; j=json.load(open('$info')); print(' '.join('--shape %s=%s' % (n, 'x'.join(str($b if i == 0 and d < 0 else d) for i, d in enumerate(dims))) for n, _, dims in j['inputs']))")
    for p in ${PRECISIONS//,/ }; do
      out=$DEST/$m-$p-b$b.vmfb
      echo "fetch_iree_cuda: $out ($TARGET, $OPT, $p, batch $b)"
      $PY src/backends/iree/optic_iree_compile.py compile "$onnx" "$out" --target "$TARGET" \
        --cuda-arch "$ARCH" --opt "$OPT" --precision "$p" --params external $shapes
      rm -f "${out%.vmfb}.irpa"
    done
  done
  rm -f "$info"
done
(cd "$DEST" && sha256sum -- * > SHA256SUMS)
du -sh "$DEST"; ls -la "$DEST"

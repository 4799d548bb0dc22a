#!/usr/bin/env bash
# A second GPU call's plan (issues 7 and 5): build with the server, then
#   1. serve: optic serve with ResNet-50 fp16 on the GPU vs the same engine offline, JPEG-in
#      service rate (scripts/gpu/serve_bench.sh, via run.sh's serve stage);
#   2. xla: the xla backend's GPU rows over XLA_MODELS (resumable: rows already in
#      $OUT/bench_xla.jsonl, e.g. a cut-off earlier run copied there, are kept and skipped);
#   3. cpu: CPU_BACKENDS (default onnxruntime; needs .deps/onnxruntime carried) on this
#      machine's cores over the six zoo models;
#   4. the manifest.
# Each stage writes into $OUT as it goes, so a caller that tars $OUT mid-run gets what finished.
set -uo pipefail
cd "$(dirname "$0")/../.."
export OUT=${OUT:-$PWD/out/gpu} DURATION_S=${DURATION_S:-1} CELL_TIMEOUT=${CELL_TIMEOUT:-120}
mkdir -p "$OUT"
ALL=resnet50,vgg19,densenet201,efficientnet_b0,mobilenet_v2,vit_b_16
XLA_MODELS=${XLA_MODELS:-$ALL}
fails=0
STAGES=build BUILD_TARGETS=${BUILD_TARGETS:-optic} bash scripts/gpu/run.sh || fails=$((fails + $?))
# ONNX for xla and onnxruntime; TorchScript for the server and the xla rows' reference (torch on cuda).
python3 tools/zoo/export.py --out models --models "$ALL" --formats onnx --jobs 4 >"$OUT/export_onnx.log" 2>&1 ||
  fails=$((fails + 1))
python3 tools/zoo/export.py --out models --models "$(echo "resnet50,$XLA_MODELS" | tr , '\n' | sort -u | paste -sd,)" \
  --formats torchscript --jobs 4 >"$OUT/export_torchscript.log" 2>&1 || fails=$((fails + 1))
cp models/manifest.json "$OUT/zoo_manifest.json"
STAGES=serve MODELS=resnet50 bash scripts/gpu/run.sh || fails=$((fails + $?))
RESUME=1 STAGES=xla MODELS=$XLA_MODELS BATCHES=${BATCHES:-1,8,64,256} PRECISIONS=fp32,fp16 \
  bash scripts/gpu/run.sh || fails=$((fails + $?))
STAGES=cpu,manifest MODELS=$ALL CPU_BACKENDS=${CPU_BACKENDS:-onnxruntime} CPU_BATCHES=${CPU_BATCHES:-1,16} \
  bash scripts/gpu/run.sh || fails=$((fails + $?))
echo "[$(date +%H:%M:%S)] plan_serve: done, $fails failed stage(s)" | tee -a "$OUT/run.log"
exit $fails

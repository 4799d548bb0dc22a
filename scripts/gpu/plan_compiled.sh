#!/usr/bin/env bash
# Issue 5's compiled-model run on one GPU machine, in the order that keeps measurements apart
# from compiles (a compile saturates the CPU cores and, with max-autotune, times kernels on the
# GPU, so nothing is measured while one runs):
#   1. build; then the TorchScript/ONNX exports and AOTInductor packages (fp32 and fp16) of the
#      six zoo models (AOTI_JOBS at once), with the max-autotune ResNet-50 fp16 package compiled
#      beside them (given until MA_DEADLINE_S after it starts, then stopped and reported missing);
#   2. measure: torch_aoti with CUDA graphs over the six models x BATCHES x fp32/fp16, the
#      max-autotune package, stock eager PyTorch (same call, for the 1.6x ratio), the CPU
#      frameworks on this machine's cores (CPU_BACKENDS; openvino when .ov/ov.tgz is carried),
#      then the manifest.
# Writes into $OUT like scripts/gpu/run.sh; the exit status is the number of failed stages.
# Takes about 25 minutes on an H200: start it with scripts/gpu/bg.sh (docs/gpu.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
export OUT=${OUT:-$PWD/out/gpu} DURATION_S=${DURATION_S:-1} CELL_TIMEOUT=${CELL_TIMEOUT:-180}
mkdir -p "$OUT"
ALL=resnet50,vgg19,densenet201,efficientnet_b0,mobilenet_v2,vit_b_16
MA_DEADLINE_S=${MA_DEADLINE_S:-720}
fails=0
STAGES=build bash scripts/gpu/run.sh || exit 99
STAGES=export_ma bash scripts/gpu/run.sh >"$OUT/export_ma.out" 2>&1 &
ma=$! ma_start=$SECONDS
STAGES=export EXPORT_FORMATS=torchscript,onnx AOTI_MODELS=${AOTI_MODELS:-$ALL} AOTI_JOBS=${AOTI_JOBS:-6} \
  AOTI_FORMATS=aoti bash scripts/gpu/run.sh || fails=$((fails + $?))
while kill -0 $ma 2>/dev/null && [ $((SECONDS - ma_start)) -lt "$MA_DEADLINE_S" ]; do sleep 5; done
if kill -0 $ma 2>/dev/null; then
  echo "[$(date +%H:%M:%S)] export_ma: still compiling after ${MA_DEADLINE_S}s: stopped" | tee -a "$OUT/run.log"
  pkill -f "models-max-autotune" ; sleep 2; kill $ma 2>/dev/null
  fails=$((fails + 1))
fi
wait $ma 2>/dev/null
STAGES=aoti,bench_ma,stock,cpu,manifest AOTI_MODELS=${AOTI_MODELS:-$ALL} AOTI_VARIANTS=${AOTI_VARIANTS:-graph} \
  MODELS=${MODELS:-$ALL} BATCHES=${BATCHES:-1,8,64,256} PRECISIONS=fp32,fp16 \
  CPU_BACKENDS=${CPU_BACKENDS:-openvino,torch} CPU_BATCHES=${CPU_BATCHES:-1,16} \
  bash scripts/gpu/run.sh || fails=$((fails + $?))
echo "[$(date +%H:%M:%S)] plan_compiled: done, $fails failed stage(s)" | tee -a "$OUT/run.log"
exit $fails

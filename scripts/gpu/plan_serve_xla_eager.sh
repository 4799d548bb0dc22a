#!/usr/bin/env bash
# One GPU machine's plan for issues 7 and 5 (about 25 minutes held on an H100), in an order that
# keeps every measurement apart from compiles and from the other measurements:
#   1. build with the server; TorchScript for the six zoo models, ONNX for XLA_MODELS;
#   2. serve (issue 7): ResNet-50 fp16 served on the GPU, the configurations of SERVE_VARIANTS
#      one after another, each with its own server process, against one offline measurement of
#      the same engine (serve/<variant>/, scripts/gpu/serve_bench.sh):
#        a-default   2 instances, the server's default warm-up (every batch size on each
#                    instance's thread), HTTP sweep, gRPC, JPEG-in GPU and CPU at 64
#        b-warm-cap  2 instances warmed at the cap only (a model_warmup entry of 2 batches of
#                    64, as before this plan), HTTP at 64: what the other batch sizes' first
#                    executions cost served requests, in the same run
#        c-1inst     1 instance, HTTP at 64
#        d-threads1  2 instances with threads=1 (libtorch intra-op pool of one), HTTP at 64
#        e-http8     2 instances, 8 HTTP threads, HTTP at 64
#   3. xla: the xla backend's rows still missing (resumable: copy a cut-off run's
#      bench_xla.jsonl into $OUT first; its rows are kept and skipped);
#   4. bench: TorchScript eager (torch backend, channels-last) over the six models x BATCHES x
#      fp32/fp16, so eager, compiled (torch_aoti) and XLA rows exist for one machine kind;
#   5. stock: stock eager PyTorch and torch.compile(mode=STOCK_COMPILE) of ResNet-50 fp16 at
#      STOCK_BATCHES, the same-run reference for issue 5's 1.6x target; then the manifest.
# Writes into $OUT as it goes (a caller that tars $OUT mid-run gets what finished); the exit
# status is the number of failed stages. Start it with scripts/gpu/bg.sh (docs/gpu.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
export OUT=${OUT:-$PWD/out/gpu} DURATION_S=${DURATION_S:-1} CELL_TIMEOUT=${CELL_TIMEOUT:-150}
mkdir -p "$OUT"
ALL=resnet50,vgg19,densenet201,efficientnet_b0,mobilenet_v2,vit_b_16
XLA_MODELS=${XLA_MODELS:-$ALL}
SERVE_VARIANTS=${SERVE_VARIANTS:-a-default,b-warm-cap,c-1inst,d-threads1,e-http8}
SERVE_S=${SERVE_S:-4}
fails=0
note() { echo "[$(date +%H:%M:%S)] plan: $*" | tee -a "$OUT/run.log"; }
STAGES=build BUILD_TARGETS=${BUILD_TARGETS:-optic} bash scripts/gpu/run.sh || exit 99
python3 tools/zoo/export.py --out models --models "$ALL" --formats torchscript --jobs 6 \
  >"$OUT/export_torchscript.log" 2>&1 || fails=$((fails + 1))
python3 tools/zoo/export.py --out models --models "$XLA_MODELS" --formats onnx --jobs 4 \
  >"$OUT/export_onnx.log" 2>&1 || fails=$((fails + 1))
cp models/manifest.json "$OUT/zoo_manifest.json"

export OPTIC=$PWD/build-gpu/optic
# serve_bench.sh runs here directly, not under run.sh: the same environment for the carried
# Debian packages (optic links their gRPC; grpc_load builds against them).
ROOT=$PWD; source scripts/gpu/env.sh
serve_variant() {  # serve_variant NAME VAR=VALUE...
  local name=$1; shift
  note "serve $name: $*"
  env OUT="$OUT/serve/$name" DEVICE=cuda DURATION_S="$SERVE_S" "$@" bash scripts/gpu/serve_bench.sh \
    >"$OUT/serve_$name.log" 2>&1 || { fails=$((fails + 1)); tail -n 5 "$OUT/serve_$name.log" | tee -a "$OUT/run.log"; }
  tail -n 8 "$OUT/serve/$name/summary.txt" 2>/dev/null | tee -a "$OUT/run.log"
}
base=$OUT/serve/a-default
for v in ${SERVE_VARIANTS//,/ }; do
  case $v in
    a-default) serve_variant "$v" CONC_SWEEP=1,8,32,64,128 GRPC_CONC=64 JPEG_KINDS=gpu,cpu JPEG_CONC=64 ;;
    b-warm-cap) serve_variant "$v" OFFLINE_FROM="$base" MODEL_WARMUP=cap CONC_SWEEP=64 GRPC_CONC= JPEG_KINDS= ;;
    c-1inst) serve_variant "$v" OFFLINE_FROM="$base" INSTANCES=1 CONC_SWEEP=64 GRPC_CONC= JPEG_KINDS= ;;
    d-threads1) serve_variant "$v" OFFLINE_FROM="$base" BACKEND_OPTIONS=channels_last=true,threads=1 \
      CONC_SWEEP=64 GRPC_CONC= JPEG_KINDS= ;;
    e-http8) serve_variant "$v" OFFLINE_FROM="$base" HTTP_THREADS=8 CONC_SWEEP=64 GRPC_CONC=64 JPEG_KINDS= ;;
    *) note "unknown serve variant $v"; fails=$((fails + 1)) ;;
  esac
done

RESUME=1 STAGES=xla MODELS=$XLA_MODELS BATCHES=${BATCHES:-1,8,64,256} PRECISIONS=fp32,fp16 \
  bash scripts/gpu/run.sh || fails=$((fails + $?))
STAGES=bench MODELS=${MODELS:-$ALL} BATCHES=${BATCHES:-1,8,64,256} PRECISIONS=fp32,fp16 \
  bash scripts/gpu/run.sh || fails=$((fails + $?))
STAGES=stock,manifest STOCK_BATCHES=${STOCK_BATCHES:-256,1} STOCK_COMPILE=${STOCK_COMPILE-max-autotune} \
  bash scripts/gpu/run.sh || fails=$((fails + $?))
note "done, $fails failed stage(s)"
exit $fails

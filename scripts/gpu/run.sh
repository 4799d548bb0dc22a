#!/usr/bin/env bash
# The one-command GPU run: from a clean checkout on a CUDA machine, build optic against
# that machine's CMake, nvcc and PyTorch (libtorch inside the pip wheel), export the zoo, check
# parity on the GPU, run the GPU sweep and the stock-PyTorch reference, and write raw results plus
# a machine manifest to $OUT (default: out/gpu).
#
#   scripts/gpu/run.sh                      everything (STAGES below)
#   STAGES=build,export,parity scripts/gpu/run.sh
#   MODELS=resnet50 BATCHES=1,256 scripts/gpu/run.sh
#
# Machines without the Debian dev packages optic builds against (nlohmann-json, CLI11, GTest,
# TurboJPEG, protobuf, Boost headers, gRPC) get them from .gpu-debs/*.deb (made on a Debian 12 machine
# with `apt-get download`, see docs/gpu.md), unpacked into a private prefix; nothing is installed
# into the system. OpenVINO comes from .ov/ov.tgz when carried (scripts/gpu/fetch_openvino.sh;
# off otherwise); ONNX Runtime is the carried .deps/onnxruntime (CPU), when carried.
#
# Stages (comma-separated STAGES, in this order): build, export, export_ma, parity, tests,
# bench, sync, pageable, graph, aoti, bench_ma, ort_cuda, grid, ensemble, stock, preprocess, e2e, serve, xla,
# cpu, manifest. ort_cuda (ONNX Runtime's CUDA provider, needs scripts/gpu/ort_cuda.sh first) is not
# in the default list either. Not in the default list: export_ma/bench_ma (the max-autotune AOTI package of
# ResNet-50 and its rows), sync/pageable (the offline loop with one batch in flight / with
# pageable inputs, against bench's pipelined default), preprocess, e2e, serve (optic serve +
# optic load on the GPU, scripts/gpu/serve_bench.sh), xla, cpu (CPU frameworks on this machine's
# cores). Each stage's output goes to $OUT/<stage>.*; a failing stage is logged and the run goes
# on, so one broken path does not cost the whole GPU machine's time; the exit
# status is the number of failed stages. Never changes clocks, power limits or any GPU setting.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/out/gpu}
mkdir -p "$OUT"
STAGES=${STAGES:-build,export,parity,tests,bench,graph,aoti,ensemble,stock,manifest}
MODELS=${MODELS:-resnet50,vgg19,densenet201,efficientnet_b0,mobilenet_v2,vit_b_16}
AOTI_MODELS=${AOTI_MODELS-resnet50}  # empty: no AOTInductor compile
AOTI_FORMATS=${AOTI_FORMATS:-aoti}  # aoti = aoti-fp32,aoti-fp16
AOTI_JOBS=${AOTI_JOBS:-1}  # models compiled at once (export.py --jobs); 16 cores take 4-6
AOTI_VARIANTS=${AOTI_VARIANTS:-plain,graph}  # aoti stage: without / with CUDA graphs
# The xla backend reads ONNX, the cpu stage's onnxruntime too: EXPORT_FORMATS=torchscript,onnx.
EXPORT_FORMATS=${EXPORT_FORMATS:-torchscript}
CPU_BACKENDS=${CPU_BACKENDS:-onnxruntime,torch}  # cpu stage: CPU frameworks on this machine's cores
CPU_BATCHES=${CPU_BATCHES:-1,16,64}
MA_DIR=${MA_DIR:-$ROOT/models-max-autotune}  # export_ma / bench_ma: max-autotune AOTI package
BATCHES=${BATCHES:-1,4,16,64,256}
PRECISIONS=${PRECISIONS:-fp32,fp16}
DURATION_S=${DURATION_S:-1}
ENSEMBLE=${ENSEMBLE:-vgg19,resnet50,densenet201}
ENSEMBLE_BATCHES=${ENSEMBLE_BATCHES:-1,16,64}
BUILD=${BUILD:-$ROOT/build-gpu}
PY=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
export OPTIC_MODELS=$ROOT/models
failed=0

log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/run.log"; }
has() { [[ ",$STAGES," == *",$1,"* ]]; }
# stage NAME CMD...: runs CMD with its output in $OUT/NAME.log (and the tail on stdout).
stage() {
  local name=$1; shift
  log "stage $name: $*"
  local t0=$SECONDS
  "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 25 "$OUT/$name.log"
  log "stage $name: rc=$rc in $((SECONDS - t0))s"
  [ $rc -eq 0 ] || failed=$((failed + 1))
  return $rc
}

# --- dependencies from .gpu-debs into a private prefix ---------------------------------------
# scripts/gpu/fetch_debs.sh makes .gpu-debs (the list and why each is there). The prefix is
# unpacked again whenever the set of .debs changed. DEBS (default .gpu-debs) names the folder, so
# a call can carry a smaller set (e.g. without the server's gRPC packages) under another name.
DEBS=${DEBS:-.gpu-debs}
DEPS=/tmp/optic-gpu-deps  # the same as scripts/gpu/env.sh, sourced after the unpacking
ARCH_LIB=$DEPS/usr/lib/x86_64-linux-gnu
if [ -d "$DEBS" ] && [ "$(cat $DEPS/.done 2>/dev/null)" != "$(ls "$DEBS")" ]; then
  rm -rf $DEPS && mkdir -p $DEPS
  for f in "$DEBS"/*.deb; do dpkg -x "$f" $DEPS; done
  # Debian's .pc files spell out /usr (not ${prefix}); point them at the prefix.
  find $DEPS -name '*.pc' -exec sed -i "s|=/usr|=$DEPS/usr|g" {} +
  # -dev links whose library is not carried (libssl.so -> libssl.so.3, libz.so ->
  # /lib/.../libz.so.1.2.13, ...): point them at the same soname, carried or the system's
  # (Ubuntu's libssl3t64/zlib1g), so FindOpenSSL/FindZLIB find them.
  for l in "$ARCH_LIB"/*.so; do
    [ -L "$l" ] || continue
    t=$(readlink "$l")
    case "$t" in /*) ;; *) [ -e "$l" ] && continue ;; esac
    base=$(basename "$l"); tb=$(basename "$t"); ver=${tb#"$base".}; major=${ver%%.*}
    [ "$ver" != "$tb" ] && [ -n "$major" ] || continue
    if [ -e "$ARCH_LIB/$base.$major" ]; then ln -sfn "$base.$major" "$l"
    elif [ -e "/usr/lib/x86_64-linux-gnu/$base.$major" ]; then ln -sfn "/usr/lib/x86_64-linux-gnu/$base.$major" "$l"
    else echo "run.sh: $l -> $t: no $base.$major carried or in the system" >&2; fi
  done
  ls "$DEBS" >$DEPS/.done
fi
source scripts/gpu/env.sh  # LD_LIBRARY_PATH, PKG_CONFIG_PATH, PATH, OPTIC_DEPS_PREFIX
TORCH_PREFIX=$($PY -c "import torch.utils; print(torch.utils.cmake_prefix_path)")
# OpenVINO's C++ runtime, cut from its wheel by scripts/gpu/fetch_openvino.sh, when carried as
# .ov/ov.tgz (the cpu stage's openvino rows); otherwise the backend is left out.
OV_ARGS=(-DOPTIC_WITH_OPENVINO=OFF)
if [ -f .ov/ov.tgz ]; then
  [ -f /tmp/optic-ov/.done ] || { mkdir -p /tmp/optic-ov && tar xzf .ov/ov.tgz -C /tmp/optic-ov &&
    touch /tmp/optic-ov/.done; }
  OV_ARGS=(-DOPTIC_WITH_OPENVINO=ON -DOpenVINO_DIR=/tmp/optic-ov/openvino/cmake)
fi

# ONNX Runtime with its CUDA provider, when scripts/gpu/ort_cuda.sh has unpacked the carried
# .ortcuda/ parts (scripts/gpu/fetch_ort_cuda.sh): the onnxruntime backend is built against it and
# gets device=cuda. Its provider loads cuDNN 9, cuBLAS, cuFFT and cuRAND, taken from the CUDA 13
# wheels torch is installed with (nvidia/*/lib).
ORT_ARGS=()
ORT_CUDA_ROOT=${ORT_CUDA_ROOT:-/tmp/optic-ort-cuda}
if [ -f "$ORT_CUDA_ROOT/.done" ]; then
  ORT_ARGS=(-DOPTIC_WITH_ONNXRUNTIME=ON -DOPTIC_ORT_ROOT="$ORT_CUDA_ROOT")
  NV_LIBS=$($PY -c "import glob, os, nvidia; print(':'.join(sorted(glob.glob(os.path.join(list(nvidia.__path__)[0], '*', 'lib')))))" 2>/dev/null)
  export LD_LIBRARY_PATH=$ORT_CUDA_ROOT/lib:${NV_LIBS:+$NV_LIBS:}$LD_LIBRARY_PATH
fi

# With the pip wheel's Torch config loaded first, protobuf::libprotobuf (FindProtobuf) reached
# no link line on the GPU machine (CMake 4): Caffe2Config.cmake defines protobuf::libprotobuf as an
# alias of an empty target (its protobuf is linked in). The prefix's libprotobuf is named
# explicitly instead, and protoc/grpc_cpp_plugin are the prefix's (protoc must match that
# libprotobuf). SERVER (default AUTO) is OPTIC_WITH_SERVER; when a build with the server fails,
# the build is retried with SERVER=OFF so the other stages still run (the serve stage then fails).
SERVER=${SERVER:-AUTO}
configure_and_build() {
  local server=$1 tools=()
  [ -x $DEPS/usr/bin/protoc ] && tools+=(-DProtobuf_PROTOC_EXECUTABLE=$DEPS/usr/bin/protoc)
  [ -x $DEPS/usr/bin/grpc_cpp_plugin ] && tools+=(-DOPTIC_GRPC_CPP_PLUGIN=$DEPS/usr/bin/grpc_cpp_plugin)
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$DEPS/usr;$TORCH_PREFIX" \
    -DOPTIC_PYTHON="$(command -v $PY)" -DOPTIC_WITH_TORCH=ON -DOPTIC_WITH_CUDA=ON \
    "${OV_ARGS[@]}" "${ORT_ARGS[@]}" -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCUDAToolkit_ROOT=/usr/local/cuda -DOPTIC_TEST_MODELS="$ROOT/models" \
    -DOPTIC_WITH_SERVER="$server" "${tools[@]}" \
    -DCMAKE_CXX_STANDARD_LIBRARIES="$ARCH_LIB/libprotobuf.so" &&
  ninja -C "$BUILD" -j "$JOBS" ${BUILD_TARGETS:-all}
}
if has build; then
  if ! stage build configure_and_build "$SERVER"; then
    if [ "$SERVER" != OFF ]; then
      failed=$((failed - 1))  # counted once, by the retry
      mv "$OUT/build.log" "$OUT/build_with_server.log"
      log "build with OPTIC_WITH_SERVER=$SERVER failed (build_with_server.log): retrying without the server"
      stage build configure_and_build OFF || { log "build failed: stopping"; exit 99; }
      failed=$((failed + 1))  # the server build did fail
    else
      log "build failed: stopping"; exit 99
    fi
  fi
  grep -q "skipping optic serve" "$OUT/build.log" && log "build: $(grep -m1 'skipping optic serve' "$OUT/build.log")"
fi
OPTIC=$BUILD/optic

if has export; then
  # TorchScript for the torch backend, tiny models for the tests, AOTInductor packages (compile
  # time = cold load; recorded as compile_s in models/manifest.json).
  stage export_torchscript $PY tools/zoo/export.py --out models --models "${EXPORT_MODELS:-$MODELS}" \
    --formats "$EXPORT_FORMATS"
  stage export_tiny $PY tools/zoo/export.py --out models --models tiny_cnn,tiny_mlp --formats onnx,torchscript
  [ -z "$AOTI_MODELS" ] ||
    stage export_aoti $PY tools/zoo/export.py --out models --models "$AOTI_MODELS" --formats "$AOTI_FORMATS" \
      --jobs "$AOTI_JOBS"
  cp models/manifest.json "$OUT/zoo_manifest.json"
fi
# ResNet-50 fp16 compiled by AOTInductor with max-autotune (minutes of kernel autotuning at batch
# 256) into its own zoo ($MA_DIR, with the TorchScript file for the reference), so the default
# package in models/ stays as it is. Not in the default STAGES. MA_STATIC=1: a static batch-256
# package (what torch.compile's dynamic=False tunes), measured only at 256 (MA_BATCHES=256).
if has export_ma; then
  stage export_ma env OPTIC_AOTI_CONFIGS='{"max_autotune": true}' OPTIC_AOTI_HINT_BATCH=256 \
    OPTIC_AOTI_STATIC_BATCH="${MA_STATIC:-}" \
    $PY tools/zoo/export.py --out "$MA_DIR" --models resnet50 --formats torchscript,aoti-fp16
  cp "$MA_DIR/manifest.json" "$OUT/zoo_manifest_max_autotune.json"
fi

if has parity; then
  parity_all() {
    local rc=0
    for m in ${MODELS//,/ }; do
      "$OPTIC" parity --model "$m" --device cuda --backends torch,torch_aoti --precision "$PRECISIONS" \
        --batch 4 || rc=1
    done
    return $rc
  }
  stage parity parity_all
fi

if has tests; then
  stage tests ctest --test-dir "$BUILD" -L gpu --output-on-failure -j 4
fi

bench() {  # bench NAME extra-args...
  local name=$1; shift
  [ -n "${RESUME:-}" ] || rm -f "$OUT/$name.jsonl"  # RESUME=1: keep rows, skip their cells
  stage "$name" "$OPTIC" bench ${RESUME:+--resume} --models "$MODELS" --device "${BENCH_DEVICE:-cuda}" \
    --precision "$PRECISIONS" \
    --batch "$BATCHES" --scenario "${SCENARIO:-offline}" --duration-s "$DURATION_S" --timeout-s "${CELL_TIMEOUT:-240}" \
    --reference-device "${REFERENCE_DEVICE:-cuda}" \
    --out "$OUT/$name.jsonl" "$@"
}
if has bench; then bench bench_torch --backends torch --backend-option torch:channels_last=true; fi
# The same cells with one batch in flight (synchronous Execute loop) and with
# ordinary pageable host inputs (the backend stages each batch into pinned memory itself).
if has sync; then
  bench bench_torch_sync --backends torch --backend-option torch:channels_last=true --pipeline-depth 1
fi
if has pageable; then
  bench bench_torch_pageable --backends torch --backend-option torch:channels_last=true --pageable-inputs
fi
if has graph; then
  bench bench_torch_graph --backends torch --backend-option torch:channels_last=true \
    --backend-option torch:cuda_graph=true
fi
if has aoti; then
  [[ ",$AOTI_VARIANTS," != *",plain,"* ]] || MODELS=$AOTI_MODELS bench bench_aoti --backends torch_aoti
  [[ ",$AOTI_VARIANTS," != *",graph,"* ]] ||
    MODELS=$AOTI_MODELS bench bench_aoti_graph --backends torch_aoti --backend-option torch_aoti:cuda_graph=true
fi
# The max-autotune package (export_ma) beside the TorchScript path at batch 256, in one run with
# the stock stage: stock eager, then optic's paths, so the ratio comes from one machine and call.
# ONNX Runtime's CUDA provider on the ONNX file (EXPORT_FORMATS must include onnx), fp32, with
# cuDNN's exhaustive (default) and heuristic algorithm search and with NHWC convolutions, beside
# torch's fp32 channels-last rows in the same run.
# ORT_VARIANTS (default default,graph,heuristic,nhwc) picks which of the four benches run.
if has ort_cuda; then
  ov=,${ORT_VARIANTS:-default,graph,heuristic,nhwc},
  [ -x "$BUILD/tests/ort_cuda_test" ] && stage test_ort_cuda "$BUILD/tests/ort_cuda_test"
  [[ $ov != *,default,* ]] || PRECISIONS=${ORT_PRECISIONS:-fp32} bench bench_ort_cuda --backends onnxruntime,torch \
    --backend-option torch:channels_last=true
  [[ $ov != *,graph,* ]] || PRECISIONS=${ORT_PRECISIONS:-fp32} bench bench_ort_cuda_graph --backends onnxruntime,torch \
    --backend-option torch:channels_last=true --backend-option torch:cuda_graph=true \
    --backend-option onnxruntime:cuda_graph=true
  [[ $ov != *,heuristic,* ]] || PRECISIONS=fp32 bench bench_ort_cuda_heuristic --backends onnxruntime \
    --backend-option onnxruntime:cudnn_conv_algo_search=heuristic
  [[ $ov != *,nhwc,* ]] || PRECISIONS=fp32 bench bench_ort_cuda_nhwc --backends onnxruntime \
    --backend-option onnxruntime:prefer_nhwc=true
fi
# Every backend of the build on the GPU side by side, without and with CUDA graphs
# (scripts/gpu/backends_grid.sh; GRID_MODELS, GRID_BATCHES, GRID_PRECISIONS, default ResNet-50 and
# EfficientNet-B0 x batch 1, 256 x fp16); IREE joins when scripts/gpu/iree_cuda.sh SETUP_ONLY=1
# built it and IREE_MODULES names its modules. Not in the default STAGES.
if has grid; then
  IREE_PY=${IREE_PY:-/tmp/optic-iree-py}
  [ -d "$IREE_PY/iree" ] && export PYTHONPATH=$IREE_PY${PYTHONPATH:+:$PYTHONPATH}
  stage grid env OUT="$OUT/grid" OPTIC="$OPTIC" MODELS="${GRID_MODELS:-resnet50,efficientnet_b0}" \
    BATCHES="${GRID_BATCHES:-1,256}" PRECISIONS="${GRID_PRECISIONS:-fp16}" DURATION_S="$DURATION_S" \
    bash scripts/gpu/backends_grid.sh
fi
if has bench_ma; then
  MODELS=resnet50 PRECISIONS=fp16 BATCHES=${MA_BATCHES:-1,256} bench bench_aoti_ma --backends torch_aoti \
    --models-dir "$MA_DIR" --backend-option torch_aoti:cuda_graph=true
fi
if has ensemble; then
  rm -f "$OUT/ensemble.jsonl"
  stage ensemble "$OPTIC" bench --ensemble "$ENSEMBLE" --backends torch --device cuda --precision fp16 \
    --batch "$ENSEMBLE_BATCHES" --duration-s "$DURATION_S" --timeout-s 300 \
    --reference-device "${REFERENCE_DEVICE:-cuda}" \
    --backend-option torch:channels_last=true --out "$OUT/ensemble.jsonl"
fi
if has stock; then
  rm -f "$OUT/stock_pytorch.jsonl"
  stage stock $PY bench/gpu/stock_pytorch.py --out "$OUT/stock_pytorch.jsonl" --models resnet50 \
    --batches "${STOCK_BATCHES:-1,256}" ${STOCK_COMPILE:+--compile "$STOCK_COMPILE"}
fi
if has preprocess; then
  stage preprocess env OUT="$OUT/preprocess" SKIP_BUILD=1 BUILD="$BUILD" PY=$PY \
    bash scripts/gpu/preprocess_bench.sh
fi
if has e2e; then  # JPEG bytes -> ResNet-50, CPU vs GPU preprocessing, three image sizes
  rm -f "$OUT/e2e.jsonl"
  stage e2e "$OPTIC" bench --scenario e2e --models "${E2E_MODELS:-resnet50}" --backends torch \
    --device cuda --precision fp16 --batch "${E2E_BATCHES:-64}" --image-class small,medium,large \
    --preprocess cpu,gpu --duration-s "$DURATION_S" --timeout-s 240 \
    --reference-device "${REFERENCE_DEVICE:-cuda}" \
    --backend-option torch:channels_last=true --out "$OUT/e2e.jsonl"
fi
# optic serve on the GPU (ResNet-50 fp16 TorchScript, dynamic batching): offline bench at
# the batch cap vs HTTP/gRPC closed-loop load, JPEG-in with GPU and CPU decode (serve_bench.sh
# header; needs the build with the server and models/resnet50/model.pt from the export stage).
if has serve; then
  stage serve env OUT="$OUT/serve" OPTIC="$OPTIC" DEVICE=cuda PYTHON=$PY bash scripts/gpu/serve_bench.sh
fi
# Optional (not in the default STAGES): JAX/XLA through the xla backend's embedded Python, when the
# build found jax (src/backends/xla). Wheels the image lacks come from .whl/ (docs/gpu.md).
if has xla; then
  if compgen -G ".whl/*.whl" >/dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl &&
      export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  fi
  bench bench_xla --backends xla
fi
# CPU frameworks on this machine's cores (all of them: --threads 0), so CPU and
# GPU rows come from one machine. Needs ONNX files (EXPORT_FORMATS=torchscript,onnx).
if has cpu; then
  BATCHES=$CPU_BATCHES PRECISIONS=fp32 BENCH_DEVICE=cpu REFERENCE_DEVICE=cpu \
    bench bench_cpu --backends "$CPU_BACKENDS" --threads 0
fi
if has manifest; then
  stage manifest $PY bench/gpu/manifest.py --out "$OUT/manifest.json" --build "$BUILD"
  nvidia-smi -q >"$OUT/nvidia-smi-q.txt" 2>&1
fi
log "done: $failed failed stage(s); results in $OUT"
exit $failed

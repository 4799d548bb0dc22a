#!/usr/bin/env bash
# optic serve on the GPU: how much of the engine's offline throughput reaches clients
# through the server, and what JPEG-in serving sustains. Run by scripts/gpu/run.sh's `serve`
# stage (after build and export); also runs on a CPU machine for a smoke test:
#
#   DEVICE=cpu MODEL=mobilenet_v2 CONC_SWEEP=1,4 GRPC_CONC=4 JPEG_CONC=1,4 DURATION_S=2 \
#     OPTIC=build-server/optic OUT=/tmp/serve scripts/gpu/serve_bench.sh
#
# Steps (each logged to $OUT/<step>.log; a failing step does not stop the others; the exit status
# is the number of failed steps; the server is always stopped at exit):
#   jpeg          a seeded synthetic JPEG (PIL), JPEG_SIZE, unless JPEG_FILE is given
#   bench         `optic bench --scenario offline` of the same engine (backend, device, precision,
#                 backend options) at batch BATCH_CAP -> bench_offline.jsonl; on cuda also with
#                 --pipeline-depth 1 (one batch in flight, as each server instance runs) ->
#                 bench_offline_sync.jsonl. Runs before the server starts, on an idle GPU.
#                 OFFLINE_FROM=DIR: copy both files from an earlier run's $OUT instead (a
#                 configuration sweep of the server against one offline measurement).
#   serve         a model repository in a temp dir: $MODEL (tensor in), and ${MODEL}_jpeg_gpu /
#                 ${MODEL}_jpeg_cpu (JPEG bytes in, optic_preprocessing kind KIND_GPU / KIND_CPU):
#                 torch backend, INSTANCES instances (KIND_GPU on cuda), dynamic batching up to
#                 BATCH_CAP with QUEUE_DELAY_US (PREFERRED: optional preferred_batch_size list),
#                 MODEL_WARMUP: empty = the server's default warm-up (on a GPU every batch
#                 size 1..BATCH_CAP once, on each instance's thread), "cap" = a model_warmup
#                 entry of 2 batches at BATCH_CAP only (repository/ keeps the configs)
#   start_server  `optic serve` on loopback (free ports; its output in server.log), until ready
#   warm_*        unrecorded optic load passes over the sweep (WARM_S per concurrency, 0 = none): a
#                 first execution of each batch size pays cuDNN autotuning (cudnn_benchmark)
#   http_c<N>     `optic load` closed loop, 1x3x224x224 binary tensors over HTTP, at each
#                 concurrency of CONC_SWEEP -> load_http.jsonl (optic's results schema)
#   grpc_c<N>     the same over gRPC (`optic load --protocol grpc`, raw_input_contents) at each
#                 concurrency of GRPC_CONC -> load_grpc.jsonl (optic's results schema)
#   jpeg_<kind>_c<N>  JPEG-in models with `optic load --bytes-file` at each of JPEG_CONC ->
#                 load_jpeg_<kind>.jsonl
#   after every load run: /metrics -> metrics/<step>.prom, the model's /stats -> stats/<step>.json
#   summary       summary.json + summary.txt: concurrency-CONC HTTP throughput / offline
#                 throughput, p99 at CONC, gRPC, JPEG-in img/s per concurrency
#
# Variables (defaults for DEVICE=cuda; DEVICE=cpu: fp32, KIND_CPU, no backend options, JPEG cpu):
#   OPTIC=build-gpu/optic OUT=out/serve MODEL=resnet50 PRECISION=fp16 BATCH_CAP=64 INSTANCES=2
#   QUEUE_DELAY_US=500 PREFERRED= MODEL_WARMUP= OFFLINE_FROM=
#   BACKEND_OPTIONS=channels_last=true (key=value,... for the torch backend: config parameters and
#   bench --backend-option alike) HTTP_THREADS=4
#   CONC=64 CONC_SWEEP=1,8,32,64,128 GRPC_CONC=64 JPEG_KINDS=gpu,cpu (set empty: none) JPEG_CONC=8,32,64,128
#   JPEG_SIZE=640x480 JPEG_FILE= DURATION_S=5 WARMUP_S=2 WARM_S=2 BENCH_DURATION_S=5
#   SERVER_TIMEOUT_S=600 PYTHON=python3 OPTIC_MODELS=models
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OPTIC=${OPTIC:-$ROOT/build-gpu/optic}
OUT=${OUT:-$ROOT/out/serve}
DEVICE=${DEVICE:-cuda}
MODEL=${MODEL:-resnet50}
if [ "$DEVICE" = cuda ]; then
  PRECISION=${PRECISION:-fp16}; KIND=KIND_GPU; JPEG_KINDS=${JPEG_KINDS-gpu,cpu}
  BACKEND_OPTIONS=${BACKEND_OPTIONS-channels_last=true}; HTTP_THREADS=${HTTP_THREADS:-4}
else
  PRECISION=${PRECISION:-fp32}; KIND=KIND_CPU; JPEG_KINDS=${JPEG_KINDS-cpu}
  BACKEND_OPTIONS=${BACKEND_OPTIONS-}; HTTP_THREADS=${HTTP_THREADS:-2}
fi
BATCH_CAP=${BATCH_CAP:-64}
INSTANCES=${INSTANCES:-2}
QUEUE_DELAY_US=${QUEUE_DELAY_US:-500}
PREFERRED=${PREFERRED:-}
MODEL_WARMUP=${MODEL_WARMUP:-}
OFFLINE_FROM=${OFFLINE_FROM:-}
CONC=${CONC:-64}
CONC_SWEEP=${CONC_SWEEP:-1,8,32,64,128}
GRPC_CONC=${GRPC_CONC-64}
JPEG_CONC=${JPEG_CONC:-8,32,64,128}
JPEG_SIZE=${JPEG_SIZE:-640x480}
JPEG_FILE=${JPEG_FILE:-}
DURATION_S=${DURATION_S:-5}
WARMUP_S=${WARMUP_S:-2}
WARM_S=${WARM_S:-2}
BENCH_DURATION_S=${BENCH_DURATION_S:-5}
SERVER_TIMEOUT_S=${SERVER_TIMEOUT_S:-600}
PY=${PYTHON:-python3}
MODELS_DIR=${OPTIC_MODELS:-$ROOT/models}
mkdir -p "$OUT/metrics" "$OUT/stats"
OUT=$(cd "$OUT" && pwd)
failed=0
REPO=$(mktemp -d /tmp/optic-serve-repo.XXXXXX)
SERVER_PID=
SMI_PID=

log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/serve_bench.log"; }
# step NAME CMD...: output in $OUT/NAME.log (tail on stdout); a failure is counted, not fatal.
step() {
  local name=$1; shift
  log "step $name: $*"
  local t0=$SECONDS
  "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 12 "$OUT/$name.log"
  log "step $name: rc=$rc in $((SECONDS - t0))s"
  [ $rc -eq 0 ] || failed=$((failed + 1))
  return $rc
}
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$SERVER_PID" 2>/dev/null && { log "server $SERVER_PID did not stop in 20 s: SIGKILL"; kill -KILL "$SERVER_PID"; }
  fi
  wait "$SERVER_PID" 2>/dev/null
  log "server stopped (rc=$?)"
  SERVER_PID=
}
cleanup() {
  stop_server
  [ -n "$SMI_PID" ] && kill "$SMI_PID" 2>/dev/null
  rm -rf "$REPO"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# GET URL into FILE (python: curl may be missing); fails unless HTTP 200.
http_get() {
  $PY - "$1" "$2" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        open(sys.argv[2], "wb").write(r.read())
except Exception as e:
    sys.exit(f"{sys.argv[1]}: {e}")
EOF
}
scrape() {  # scrape STEP MODEL
  [ -n "$HTTP" ] || return 0
  http_get "http://$HTTP/metrics" "$OUT/metrics/$1.prom" || log "scrape $1: /metrics failed"
  http_get "http://$HTTP/v2/models/$2/stats" "$OUT/stats/$1.json" || log "scrape $1: stats of $2 failed"
}

log "serve_bench: device $DEVICE, model $MODEL $PRECISION, batch cap $BATCH_CAP, $INSTANCES instances, queue delay ${QUEUE_DELAY_US} us, options '${BACKEND_OPTIONS}', optic $OPTIC"
[ -x "$OPTIC" ] || { log "no optic binary at $OPTIC"; exit 99; }
"$OPTIC" --help 2>/dev/null | grep -q '^  serve ' || { log "$OPTIC has no serve command (built without the server?)"; exit 98; }
if [ "$DEVICE" = cuda ] && command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,utilization.memory,memory.used,power.draw,clocks.sm \
    --format=csv -lms 500 >"$OUT/nvidia_smi.csv" 2>&1 &
  SMI_PID=$!
fi

# --- the JPEG clients send ----------------------------------------------------------------------
make_jpeg() {
  $PY - "$1" "$JPEG_SIZE" <<'EOF'
import sys
import numpy as np
from PIL import Image
w, h = (int(v) for v in sys.argv[2].split("x"))
rng = np.random.default_rng(7)
y, x = np.mgrid[0:h, 0:w].astype(np.float32)
img = np.stack([128 + 100 * np.sin(x / 37 + c) * np.cos(y / 23 - c) for c in range(3)], -1)
img += rng.normal(0, 12, img.shape)  # texture, so the JPEG is photo-sized, not flat
Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(sys.argv[1], quality=90)
print(f"{sys.argv[1]}: {w}x{h}")
EOF
}
if [ -z "$JPEG_FILE" ]; then
  JPEG_FILE=$OUT/client.jpg
  step jpeg make_jpeg "$JPEG_FILE" && ls -l "$JPEG_FILE" | tee -a "$OUT/jpeg.log"
fi

# --- offline throughput of the same engine ---------------------------------------------------
BENCH_OPTS=()
for kv in ${BACKEND_OPTIONS//,/ }; do BENCH_OPTS+=(--backend-option "torch:$kv"); done
bench_offline() {  # bench_offline OUTFILE extra-args...
  local out=$1; shift
  rm -f "$out"
  "$OPTIC" bench --models "$MODEL" --backends torch --device "$DEVICE" --precision "$PRECISION" \
    --batch "$BATCH_CAP" --scenario offline --duration-s "$BENCH_DURATION_S" --timeout-s 300 \
    --reference-device "$DEVICE" "${BENCH_OPTS[@]}" --out "$out" "$@"
}
if [ -n "$OFFLINE_FROM" ]; then
  step bench cp "$OFFLINE_FROM/bench_offline.jsonl" "$OUT/"
  [ "$DEVICE" = cuda ] && step bench_sync cp "$OFFLINE_FROM/bench_offline_sync.jsonl" "$OUT/"
else
  step bench bench_offline "$OUT/bench_offline.jsonl"
  [ "$DEVICE" = cuda ] && step bench_sync bench_offline "$OUT/bench_offline_sync.jsonl" --pipeline-depth 1
fi

# --- the model repository --------------------------------------------------------------------
write_model() {  # write_model NAME [jpeg KIND]
  local name=$1 dir=$REPO/$1
  mkdir -p "$dir/1"
  ln -s "$MODELS_DIR/$MODEL/model.pt" "$dir/1/model.pt"
  # TorchScript keeps no shapes: the zoo manifest's, as the sidecar the torch backend reads.
  $PY - "$MODELS_DIR/manifest.json" "$MODEL" "$dir/1/model.pt.json" <<'EOF' || return 1
import json, sys
m = json.load(open(sys.argv[1]))["models"][sys.argv[2]]
json.dump({"inputs": [m["input"]], "outputs": [m["output"]]}, open(sys.argv[3], "w"))
EOF
  {
    echo "name: \"$name\""
    echo "backend: \"torch\""
    echo "max_batch_size: $BATCH_CAP"
    if [ "${2:-}" = jpeg ]; then
      echo 'input [ { name: "image", data_type: TYPE_STRING, dims: [ 1 ] } ]'
      echo "optic_preprocessing { input: \"image\" resize_shorter: 256 mean: [ 0.485, 0.456, 0.406 ] std: [ 0.229, 0.224, 0.225 ] kind: $3 max_pixels: 40000000 }"
    fi
    echo "dynamic_batching { max_queue_delay_microseconds: $QUEUE_DELAY_US${PREFERRED:+ preferred_batch_size: [ $PREFERRED ]} }"
    echo "instance_group [ { count: $INSTANCES, kind: $KIND } ]"
    [ "$MODEL_WARMUP" = cap ] && echo "model_warmup [ { name: \"cap\" batch_size: $BATCH_CAP count: 2 } ]"
    echo "parameters { key: \"precision\" value: { string_value: \"$PRECISION\" } }"
    for kv in ${BACKEND_OPTIONS//,/ }; do
      echo "parameters { key: \"${kv%%=*}\" value: { string_value: \"${kv#*=}\" } }"
    done
  } >"$dir/config.pbtxt"
}
make_repository() {
  [ -f "$MODELS_DIR/$MODEL/model.pt" ] || { echo "no $MODELS_DIR/$MODEL/model.pt (run.sh's export stage makes it)"; return 1; }
  write_model "$MODEL" || return 1
  for k in ${JPEG_KINDS//,/ }; do
    write_model "${MODEL}_jpeg_$k" jpeg "$([ "$k" = gpu ] && echo KIND_GPU || echo KIND_CPU)" || return 1
  done
  for f in "$REPO"/*/config.pbtxt; do echo "== $f"; cat "$f"; done
  mkdir -p "$OUT/repository" && cp -r "$REPO"/. "$OUT/repository/" && find "$OUT/repository" -type l -delete
}
step repository make_repository

# --- the server --------------------------------------------------------------------------------
HTTP= GRPC=
start_server() {
  "$OPTIC" serve --model-repository "$REPO" --http-port 0 --grpc-port 0 \
    --http-threads "$HTTP_THREADS" >"$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  local t0=$SECONDS line=
  while [ $((SECONDS - t0)) -lt "$SERVER_TIMEOUT_S" ]; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:"; cat "$OUT/server.log"; return 1; }
    line=$(grep -m1 "listening on http://" "$OUT/server.log")
    if [ -n "$line" ]; then
      HTTP=$(sed -E 's|.*listening on http://([^, ]+).*|\1|' <<<"$line")
      GRPC=$(sed -nE 's|.*, grpc ([^ ]+).*|\1|p' <<<"$line")
      if http_get "http://$HTTP/v2/health/ready" /dev/null 2>/dev/null; then
        echo "ready after $((SECONDS - t0)) s: http $HTTP grpc $GRPC"
        cat "$OUT/server.log"
        return 0
      fi
      # Models load before the server listens: one that failed (UNAVAILABLE in the log) keeps
      # the server not ready for good. Go on with the tensor model if it is ready (the steps of
      # the failed ones fail on their own), rather than wait out SERVER_TIMEOUT_S.
      if grep -q "UNAVAILABLE" "$OUT/server.log" &&
        http_get "http://$HTTP/v2/models/$MODEL/ready" /dev/null 2>/dev/null; then
        echo "server not ready (a model failed to load; see below), $MODEL ready after $((SECONDS - t0)) s"
        cat "$OUT/server.log"
        return 1
      fi
    fi
    sleep 1
  done
  echo "not ready after $SERVER_TIMEOUT_S s"; cat "$OUT/server.log"; return 1
}
step start_server start_server
repository_index() {
  $PY - "http://$HTTP/v2/repository/index" <<'EOF2'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=b"{}", method="POST")
print(urllib.request.urlopen(req, timeout=10).read().decode())
EOF2
}
[ -n "$HTTP" ] && repository_index >"$OUT/repository_index.json" 2>&1

# --- load -------------------------------------------------------------------------------------
load() {  # load FILE MODEL CONCURRENCY ADDRESS [extra optic load args, e.g. --protocol grpc]
  local file=$1 model=$2 c=$3 url=$4; shift 4
  "$OPTIC" load --url "$url" --model "$model" --batch 1 --concurrency "$c" \
    --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" --seed 1 --device-label "$DEVICE" \
    --output "$file" "$@"
}
warm() {  # warm MODEL [extra args]: every sweep concurrency for WARM_S, nothing recorded
  local model=$1; shift
  "$OPTIC" load --url "$HTTP" --model "$model" --batch 1 --concurrency "$WARM_CONC" \
    --duration-s "$WARM_S" --warmup-s 0 --seed 2 "$@"
}
if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null && [ -n "$HTTP" ]; then
  rm -f "$OUT"/load_*.jsonl
  WARM_CONC=$CONC_SWEEP
  [ "$WARM_S" != 0 ] && step warm_tensor warm "$MODEL"
  for c in ${CONC_SWEEP//,/ }; do
    step "http_c$c" load "$OUT/load_http.jsonl" "$MODEL" "$c" "$HTTP"
    scrape "http_c$c" "$MODEL"
  done
  if [ -n "$GRPC" ] && [ -n "$GRPC_CONC" ]; then
    for c in ${GRPC_CONC//,/ }; do
      step "grpc_c$c" load "$OUT/load_grpc.jsonl" "$MODEL" "$c" "$GRPC" --protocol grpc
      scrape "grpc_c$c" "$MODEL"
    done
  fi
  WARM_CONC=$JPEG_CONC
  for k in ${JPEG_KINDS//,/ }; do
    m=${MODEL}_jpeg_$k
    [ "$WARM_S" != 0 ] && step "warm_jpeg_$k" warm "$m" --bytes-file "$JPEG_FILE"
    for c in ${JPEG_CONC//,/ }; do
      step "jpeg_${k}_c$c" load "$OUT/load_jpeg_$k.jsonl" "$m" "$c" "$HTTP" --bytes-file "$JPEG_FILE"
      scrape "jpeg_${k}_c$c" "$m"
    done
  done
  http_get "http://$HTTP/v2/models/stats" "$OUT/stats/all_models_final.json" || true
else
  log "server not running: no load steps"
  failed=$((failed + 1))
fi
stop_server

# --- summary -----------------------------------------------------------------------------------
summarize() {
  $PY - "$OUT" "$CONC" "$DEVICE" "$MODEL" "$PRECISION" "$BATCH_CAP" "$INSTANCES" "$QUEUE_DELAY_US" <<'EOF'
import glob, json, os, sys
out, conc, device, model, precision, cap, instances, delay = sys.argv[1:9]
conc = int(conc)
def rows(name):
    p = os.path.join(out, name)
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
def offline(name):
    r = [x for x in rows(name) if x.get("status") == "ok"]
    return r[-1]["throughput_per_s"] if r else None
s = {"device": device, "model": model, "precision": precision, "batch_cap": int(cap),
     "instances": int(instances), "max_queue_delay_us": int(delay), "concurrency": conc,
     "offline_img_s": offline("bench_offline.jsonl"),
     "offline_sync_img_s": offline("bench_offline_sync.jsonl")}
http = {r["concurrency"]: r for r in rows("load_http.jsonl")}
s["http"] = {c: {"req_s": r["throughput_per_s"], "p50_ms": r["latency_ms"]["p50"],
                 "p99_ms": r["latency_ms"]["p99"], "errors": r["settings"]["errors"],
                 "server_ms": r["stages_ms"]} for c, r in sorted(http.items())}
at = http.get(conc)
s["http_img_s_at_conc"] = at["throughput_per_s"] if at else None
s["http_p99_ms_at_conc"] = at["latency_ms"]["p99"] if at else None
s["ratio_http_to_offline"] = (at["throughput_per_s"] / s["offline_img_s"]
                              if at and s["offline_img_s"] else None)
s["ratio_http_to_offline_sync"] = (at["throughput_per_s"] / s["offline_sync_img_s"]
                                   if at and s["offline_sync_img_s"] else None)
g = {r["concurrency"]: r for r in rows("load_grpc.jsonl")}
s["grpc"] = {c: {"req_s": r["throughput_per_s"], "p50_ms": r["latency_ms"]["p50"],
                 "p99_ms": r["latency_ms"]["p99"], "errors": r["settings"]["errors"],
                 "server_ms": r.get("stages_ms")} for c, r in sorted(g.items())}
s["jpeg"] = {}
for f in sorted(glob.glob(os.path.join(out, "load_jpeg_*.jsonl"))):
    kind = os.path.basename(f)[len("load_jpeg_"):-len(".jsonl")]
    s["jpeg"][kind] = {r["concurrency"]: {"img_s": r["throughput_per_s"], "p50_ms": r["latency_ms"]["p50"],
                                          "p99_ms": r["latency_ms"]["p99"], "errors": r["settings"]["errors"],
                                          "decode_ms": r["stages_ms"].get("compute_input"),
                                          "infer_ms": r["stages_ms"].get("infer")}
                       for r in rows(os.path.basename(f))}
json.dump(s, open(os.path.join(out, "summary.json"), "w"), indent=1)
f = lambda v, p=1: "-" if v is None else f"{v:.{p}f}"
lines = [f"optic serve, {model} {precision} torch on {device}: batch cap {cap}, {instances} instances, "
         f"max_queue_delay {delay} us",
         f"offline (optic bench, batch {cap}): {f(s['offline_img_s'])} img/s; one batch in flight: "
         f"{f(s['offline_sync_img_s'])} img/s",
         f"HTTP at concurrency {conc}: {f(s['http_img_s_at_conc'])} img/s = "
         f"{f(s['ratio_http_to_offline'], 3)} x offline ({f(s['ratio_http_to_offline_sync'], 3)} x "
         f"one-in-flight), p99 {f(s['http_p99_ms_at_conc'], 2)} ms",
         "HTTP sweep: " + ", ".join(f"c{c} {f(v['req_s'])}/s p99 {f(v['p99_ms'], 2)} ms"
                                     for c, v in s["http"].items())]
lines.append("gRPC: " + (", ".join(f"c{c} {f(v['req_s'])}/s p99 {f(v['p99_ms'], 2)} ms"
                                   for c, v in s["grpc"].items()) or "-"))
for kind, by_c in s["jpeg"].items():
    lines.append(f"JPEG-in ({kind} decode): " + ", ".join(
        f"c{c} {f(v['img_s'])} img/s p99 {f(v['p99_ms'], 2)} ms" for c, v in by_c.items()))
open(os.path.join(out, "summary.txt"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
}
step summary summarize
log "serve_bench: $failed failed step(s); results in $OUT"
exit $failed

#!/usr/bin/env bash
# Harness overhead: optic bench's reported throughput against each framework's own tool, same
# model, threads and batch, side by side in one run.
#   - ONNX Runtime: optic (backend onnxruntime) vs ONNX Runtime's Python API loop (ort_loop.py)
#   - OpenVINO:     optic (backend openvino)    vs benchmark_app from the openvino wheel, -api sync
#                   with the compile properties optic's openvino backend sets by default
#                   (src/backends/openvino/ov_config.cc CompileConfig, passed via -load_config:
#                   PERFORMANCE_HINT LATENCY, INFERENCE_NUM_THREADS, ENABLE_HYPER_THREADING YES,
#                   ENABLE_CPU_PINNING NO, INFERENCE_PRECISION_HINT f32). OV_HINT_NONE=1 adds the
#                   earlier unmatched run (-hint none -nstreams 1 -nthreads, plugin-default pinning).
#   - libtorch:     optic (backend torch)       vs a PyTorch loop over the same libtorch 1.13
#                   (torch_loop.py: jit.load, freeze, optimize_for_inference, as the backend does)
# Each run's load average (uptime) before and after goes into its raw row: the machine is shared.
# Runs are interleaved REPEATS times so machine noise hits all tools alike; medians and ratios
# go to results/cpu/harness_overhead-<model>-b<batch>-<stamp>.{jsonl,md} with the host manifest.
# Usage: bench/harness_overhead.sh [model] [batch]   (env: THREADS=2 DURATION=5 REPEATS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-mobilenet_v2}
BATCH=${2:-1}
THREADS=${THREADS:-$(nproc)}
DURATION=${DURATION:-5}
REPEATS=${REPEATS:-3}
OPTIC=${OPTIC:-build/optic}
PY=${PY:-.venv/bin/python}
TORCH_PY=${TORCH_PY:-/usr/bin/python3}
ONNX=models/$MODEL/model.onnx
PT=models/$MODEL/model.pt
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUTDIR=results/cpu
mkdir -p "$OUTDIR"
BASE=$OUTDIR/harness_overhead-$MODEL-b$BATCH-$STAMP
RAW=$BASE.jsonl
[ -x "$OPTIC" ] || { echo "no optic binary at $OPTIC (set OPTIC=)" >&2; exit 2; }
[ -f "$ONNX" ] || { echo "no $ONNX (run optic models export)" >&2; exit 2; }

BACKENDS=$("$OPTIC" backends 2>/dev/null | awk '/^[^ ]/{print $1}' | tr '\n' ' ' || true)
has_backend() { [[ " $BACKENDS " == *" $1 "* ]]; }
BENCHMARK_APP=""
if [ -x .venv/bin/benchmark_app ]; then BENCHMARK_APP=.venv/bin/benchmark_app
elif "$PY" -c "import openvino.tools.benchmark.main" 2>/dev/null; then BENCHMARK_APP="$PY -m openvino.tools.benchmark.main"
fi

loadavg() { cut -d' ' -f1 /proc/loadavg; }
# Runs a command that prints one JSON row; adds the load average before/after to it.
with_load() {
  local before out; before=$(loadavg)
  out=$("$@")
  "$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); r["load_before"]=float(sys.argv[2]); r["load_after"]=float(sys.argv[3]); print(json.dumps(r))' \
    "$out" "$before" "$(loadavg)"
}

optic_run() {  # backend
  local tmp; tmp=$(mktemp -d)
  "$OPTIC" bench --models "$MODEL" --backends "$1" --batch "$BATCH" --threads "$THREADS" \
    --precision fp32 --scenario offline --duration-s "$DURATION" --max-duration-s "$DURATION" \
    --models-dir models --out "$tmp/r.jsonl" >/dev/null 2>&1 || true
  "$PY" - "$tmp/r.jsonl" "$1" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = rows[-1]
print(json.dumps({"tool": "optic", "backend": sys.argv[2], "status": r["status"],
                  "throughput_per_s": r["throughput_per_s"], "latency_p50_ms": r["latency_ms"]["p50"],
                  "stable": r["stable"], "host": r["host"], "versions": r["versions"], "command": r["command"]}))
PYEOF
  rm -rf "$tmp"
}

OV_CONFIG=$(mktemp --suffix=.json)
# optic's default OpenVINO compile properties (ov_config.cc CompileConfig, LATENCY hint branch).
cat >"$OV_CONFIG" <<JSON
{"CPU": {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": "$THREADS",
         "ENABLE_HYPER_THREADING": "YES", "ENABLE_CPU_PINNING": "NO",
         "INFERENCE_PRECISION_HINT": "f32"}}
JSON
benchmark_app_run() {  # matched | hint-none
  local log; log=$(mktemp)
  if [ "$1" = matched ]; then
    $BENCHMARK_APP -m "$ONNX" -d CPU -b "$BATCH" -shape "[$BATCH,3,224,224]" -api sync \
      -load_config "$OV_CONFIG" -t "$DURATION" >"$log" 2>&1 || true
  else
    $BENCHMARK_APP -m "$ONNX" -d CPU -b "$BATCH" -shape "[$BATCH,3,224,224]" -nthreads "$THREADS" \
      -nstreams 1 -hint none -api sync -infer_precision f32 -t "$DURATION" >"$log" 2>&1 || true
  fi
  "$PY" - "$log" "$1" <<'PYEOF'
import json, re, sys
text = open(sys.argv[1]).read()
thr = re.search(r"Throughput:\s*([0-9.]+)\s*FPS", text)
med = re.search(r"Median:\s*([0-9.]+)\s*ms", text)
# The compiled model's properties as benchmark_app prints them (step 8), to show the match.
props = {k: v.strip() for k, v in re.findall(
    r"\s(PERFORMANCE_HINT|NUM_STREAMS|INFERENCE_NUM_THREADS|ENABLE_CPU_PINNING|ENABLE_HYPER_THREADING|"
    r"INFERENCE_PRECISION_HINT|SCHEDULING_CORE_TYPE|OPTIMAL_NUMBER_OF_INFER_REQUESTS):\s*(\S+)", text)}
tool = "benchmark_app" if sys.argv[2] == "matched" else "benchmark_app-hint-none"
print(json.dumps({"tool": tool, "backend": "openvino",
                  "throughput_per_s": float(thr.group(1)) if thr else None,
                  "latency_p50_ms": float(med.group(1)) if med else None, "compiled_properties": props,
                  "error": None if thr else text[-500:]}))
PYEOF
  rm -f "$log"
}

: >"$RAW"
echo "load before: $(uptime)"
for i in $(seq "$REPEATS"); do
  if has_backend onnxruntime; then
    with_load optic_run onnxruntime >>"$RAW"
    with_load "$PY" bench/harness_overhead/ort_loop.py "$ONNX" "$BATCH" "$THREADS" "$DURATION" >>"$RAW"
  fi
  if has_backend openvino && [ -n "$BENCHMARK_APP" ]; then
    with_load optic_run openvino >>"$RAW"
    with_load benchmark_app_run matched >>"$RAW"
    if [ "${OV_HINT_NONE:-0}" = 1 ]; then with_load benchmark_app_run hint-none >>"$RAW"; fi
  fi
  if has_backend torch && [ -f "$PT" ] && "$TORCH_PY" -c "import torch" 2>/dev/null; then
    with_load optic_run torch >>"$RAW"
    with_load "$TORCH_PY" bench/harness_overhead/torch_loop.py "$PT" "$BATCH" "$THREADS" "$DURATION" >>"$RAW"
  fi
done
echo "load after: $(uptime)"
rm -f "$OV_CONFIG"

"$PY" - "$RAW" "$BASE.md" "$MODEL" "$BATCH" "$THREADS" "$DURATION" "$REPEATS" "${BENCHMARK_APP:-absent}" "$BACKENDS" <<'PYEOF'
import json, statistics, sys, platform
raw, md, model, batch, threads, duration, repeats, bapp, backends = sys.argv[1:]
rows = [json.loads(l) for l in open(raw) if l.strip()]
def med(tool, backend):
    v = [r["throughput_per_s"] for r in rows if r["tool"] == tool and r.get("backend", "onnxruntime") == backend
         and r.get("throughput_per_s")]
    return (statistics.median(v), v) if v else (None, v)
host = next((r["host"] for r in rows if r.get("host")), {})
versions = next((r["versions"] for r in rows if r.get("versions")), {})
lines = [f"# Harness overhead: {model}, batch {batch}, {threads} threads, {duration} s x {repeats} (interleaved)", "",
         f"host: {json.dumps(host)}", f"versions: {json.dumps(versions)}", f"benchmark_app: {bapp}", "",
         "| framework | optic img/s (median) | framework's tool | tool img/s (median) | optic / tool | median of per-repeat ratios | runs (optic; tool) |",
         "|---|---|---|---|---|---|---|"]
loads = [r[k] for r in rows for k in ("load_before", "load_after") if k in r]
if loads:
    lines[1:1] = ["", f"load average (1 min) around the runs: min {min(loads):.2f}, median "
                  f"{statistics.median(loads):.2f}, max {max(loads):.2f} on {platform.node() or 'this host'}"]
pairs = [("onnxruntime", "onnxruntime-python", "onnxruntime"), ("openvino", "benchmark_app", "openvino"),
         ("openvino", "benchmark_app-hint-none", "openvino"), ("torch", "torch-python", "torch")]
for backend, tool, tb in pairs:
    o, ov = med("optic", backend)
    t, tv = med(tool, tb)
    if t is None and tool == "benchmark_app-hint-none":
        continue  # optional run (OV_HINT_NONE=1) not requested
    if o is None and t is None:
        lines.append(f"| {backend} | - | {tool} | - | not run (backend or tool absent) | | |")
        continue
    ratio = f"{o / t:.3f}" if o and t else "-"
    # Each repeat runs optic and the tool back to back, so their ratio sees similar machine load.
    pair = [a / b for a, b in zip(ov, tv) if a and b]
    pair_ratio = f"{statistics.median(pair):.3f}" if pair else "-"
    fmt = lambda x: f"{x:.1f}" if x else "-"
    lines.append(f"| {backend} | {fmt(o)} | {tool} | {fmt(t)} | {ratio} | {pair_ratio} | "
                 f"{', '.join(f'{x:.1f}' for x in ov)}; {', '.join(f'{x:.1f}' for x in tv)} |")
open(md, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PYEOF
echo "raw rows: $RAW; table: $BASE.md"

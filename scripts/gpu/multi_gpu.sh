#!/usr/bin/env bash
# GPU scaling of one model served by optic serve: inference-only (tensor in) and JPEG-in end-to-end
# throughput (CPU and GPU preprocessing) on 1, 2, 4, 8 GPUs of this host (the counts up to what is
# visible), with the CPU cores the host used meanwhile. Each GPU count is one run of
# scripts/gpu/serve_bench.sh with CUDA_VISIBLE_DEVICES set to the first N visible GPUs, so its
# KIND_GPU instance group (no gpus list) puts INSTANCES instances on each of them and the dynamic
# batcher spreads batches over all of them.
#
#   scripts/gpu/multi_gpu.sh                   # every count up to the visible GPUs
#   DRY_RUN=1 scripts/gpu/multi_gpu.sh         # print the plan, run nothing
#   scripts/gpu/multi_gpu.sh --device cpu      # the whole flow on the CPU, short (one "device")
#
# Writes into $OUT:
#   g<N>/            serve_bench.sh's output for N GPUs (logs, load_*.jsonl, metrics/, stats/)
#   g<N>/cpu.tsv     host CPU busy cores, one line a second (seconds since start, busy cores)
#   rows.jsonl       every load row of every count (schema v1) with `devices` (the GPUs served
#                    on), its cell_id suffixed |gpus<N>, and settings.gpu_count,
#                    settings.cuda_visible_devices, settings.host_cores,
#                    settings.cpu_busy_cores_p90 and settings.cpu_busy_cores_max (over its run)
#   bench_offline.jsonl  the engine alone on one GPU (serve_bench's bench step, first count only)
#   manifest.json    host, versions (from the rows), nproc, GPUs, CUDA_VISIBLE_DEVICES, git commit,
#                    the command; command.sh: how to run it again
#   report.md, report.html  `optic report` of rows.jsonl: "GPU scaling", throughput vs GPU count
#                    with the ideal line (N x the 1-GPU throughput)
#   summary.txt      throughput per GPU count and workload
# Exit status: the number of failed GPU counts (a failed count does not stop the others).
#
# Variables: OPTIC=build-gpu/optic OUT=out/multi_gpu GPU_COUNTS=1,2,4,8 MODEL=resnet50
#   PYTHON (default .venv/bin/python where present, else python3) INSTANCES=2 (per GPU) and every serve_bench.sh variable (BATCH_CAP, CONC_SWEEP, JPEG_CONC,
#   JPEG_KINDS, DURATION_S, ...), passed through. --device cpu: DEVICE=cpu, MODEL=mobilenet_v2,
#   short sweeps (CONC_SWEEP=1,4 JPEG_CONC=4 GRPC_CONC= DURATION_S=2 unless set).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEVICE=cuda
while [ $# -gt 0 ]; do
  case $1 in
    --device) DEVICE=${2:-}; shift 2 ;;
    --device=*) DEVICE=${1#--device=}; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "multi_gpu.sh: unknown argument '$1' (expected --device cpu|cuda)" >&2; exit 2 ;;
  esac
done
case $DEVICE in
  cpu|cuda) ;;
  *) echo "multi_gpu.sh: --device must be cpu or cuda, not '$DEVICE'" >&2; exit 2 ;;
esac
OUT=${OUT:-$ROOT/out/multi_gpu}
GPU_COUNTS=${GPU_COUNTS:-1,2,4,8}
# serve_bench.sh makes its JPEG with numpy and PIL: the repository's .venv where there is one.
if [ -z "${PYTHON:-}" ] && [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; fi
export PYTHON=${PYTHON:-python3}
PY=$PYTHON
if [ "$DEVICE" = cpu ]; then
  OPTIC=${OPTIC:-$ROOT/build/optic}
  export MODEL=${MODEL:-mobilenet_v2} CONC_SWEEP=${CONC_SWEEP:-1,4} JPEG_CONC=${JPEG_CONC:-4}
  export GRPC_CONC=${GRPC_CONC-} DURATION_S=${DURATION_S:-2} WARMUP_S=${WARMUP_S:-1}
  export WARM_S=${WARM_S:-0} BENCH_DURATION_S=${BENCH_DURATION_S:-2} BATCH_CAP=${BATCH_CAP:-8}
  export INSTANCES=${INSTANCES:-1}
else
  OPTIC=${OPTIC:-$ROOT/build-gpu/optic}
  export MODEL=${MODEL:-resnet50} INSTANCES=${INSTANCES:-2}
fi
export DEVICE OPTIC

# The GPUs this process may use, as CUDA numbers them: the CUDA_VISIBLE_DEVICES entries when set,
# else every GPU nvidia-smi lists. Each run sets CUDA_VISIBLE_DEVICES to a prefix of this list.
VISIBLE=()
if [ "$DEVICE" = cuda ]; then
  if [ -n "${CUDA_VISIBLE_DEVICES+x}" ]; then
    IFS=, read -r -a VISIBLE <<<"$CUDA_VISIBLE_DEVICES"
  elif command -v nvidia-smi >/dev/null; then
    n=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
    for ((i = 0; i < n; i++)); do VISIBLE+=("$i"); done
  fi
  if [ ${#VISIBLE[@]} -eq 0 ]; then
    echo "multi_gpu.sh: no GPU is visible (nvidia-smi lists none; CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-unset}); run with --device cpu for the CPU pass" >&2
    [ "${DRY_RUN:-0}" = 1 ] || exit 2
  fi
fi
COUNTS=()
IFS=, read -r -a asked <<<"$GPU_COUNTS"
for n in "${asked[@]}"; do
  if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
    echo "multi_gpu.sh: GPU_COUNTS entry '$n' is not a positive integer" >&2; exit 2
  fi
  if [ "$DEVICE" = cpu ]; then
    [ "$n" = 1 ] && COUNTS+=(1)
  elif [ "$n" -le ${#VISIBLE[@]} ]; then
    COUNTS+=("$n")
  fi
done
if [ ${#COUNTS[@]} -eq 0 ]; then
  echo "multi_gpu.sh: none of GPU_COUNTS=$GPU_COUNTS fits the ${#VISIBLE[@]} visible GPU(s)" >&2
  [ "${DRY_RUN:-0}" = 1 ] || exit 2
fi
prefix() { local IFS=,; echo "${VISIBLE[*]:0:$1}"; }

echo "multi_gpu.sh: device $DEVICE, model $MODEL, $INSTANCES instance(s) per device, counts ${COUNTS[*]:-none}, host $(nproc) cores, out $OUT"
if [ "${DRY_RUN:-0}" = 1 ]; then
  for n in "${COUNTS[@]}"; do
    if [ "$DEVICE" = cuda ]; then vis="CUDA_VISIBLE_DEVICES=$(prefix "$n") "; else vis=""; fi
    off=""; [ "$n" != "${COUNTS[0]}" ] && off="OFFLINE_FROM=$OUT/g${COUNTS[0]} "
    echo "  $n: ${vis}${off}OUT=$OUT/g$n scripts/gpu/serve_bench.sh"
  done
  echo "  then: rows.jsonl, manifest.json, $OPTIC report rows.jsonl --markdown report.md -o report.html"
  exit 0
fi
[ -x "$OPTIC" ] || { echo "multi_gpu.sh: $OPTIC is not an executable optic build (set OPTIC)" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
: >"$OUT/rows.jsonl"
{
  echo "#!/usr/bin/env bash"
  echo "# $(date -u +%FT%TZ) on $(hostname)"
  printf 'cd %q && ' "$ROOT"
  for v in DEVICE MODEL INSTANCES GPU_COUNTS CUDA_VISIBLE_DEVICES BATCH_CAP CONC_SWEEP JPEG_CONC \
           JPEG_KINDS GRPC_CONC DURATION_S PRECISION BACKEND_OPTIONS; do
    [ -n "${!v+x}" ] && printf '%s=%q ' "$v" "${!v}"
  done
  printf 'OPTIC=%q OUT=%q scripts/gpu/multi_gpu.sh --device %s\n' "$OPTIC" "$OUT" "$DEVICE"
} >"$OUT/command.sh"
chmod +x "$OUT/command.sh"

# cpu_sampler FILE: busy cores of the whole host, once a second, until killed.
cpu_sampler() {
  $PY - "$1" <<'EOF'
import os, sys, time
tck = os.sysconf("SC_CLK_TCK")
def busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle
t0 = time.monotonic(); b0 = busy(); last = t0
with open(sys.argv[1], "w") as out:
    while True:
        time.sleep(1)
        now = time.monotonic(); b = busy()
        out.write("%.1f\t%.2f\n" % (now - t0, (b - b0) / tck / (now - last)))
        out.flush(); b0, last = b, now
EOF
}

failed=0
for n in "${COUNTS[@]}"; do
  dir=$OUT/g$n
  mkdir -p "$dir"
  if [ "$DEVICE" = cuda ]; then vis=$(prefix "$n"); else vis=""; fi
  echo "[$(date +%H:%M:%S)] $n device(s) ${vis:+(CUDA_VISIBLE_DEVICES=$vis)} -> $dir"
  cpu_sampler "$dir/cpu.tsv" &
  sampler=$!
  (
    [ "$DEVICE" = cuda ] && export CUDA_VISIBLE_DEVICES=$vis
    [ "$n" != "${COUNTS[0]}" ] && export OFFLINE_FROM=$OUT/g${COUNTS[0]}
    OUT=$dir scripts/gpu/serve_bench.sh
  ) >"$dir/multi_gpu.log" 2>&1
  rc=$?
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
  tail -n 4 "$dir/multi_gpu.log"
  [ $rc -eq 0 ] || { echo "  serve_bench.sh for $n device(s) exited $rc (its failed steps; $dir/multi_gpu.log)"; failed=$((failed + 1)); }
  $PY - "$dir" "$n" "$DEVICE" "$vis" "$OUT/rows.jsonl" <<'EOF' || failed=$((failed + 1))
import glob, json, os, sys
d, n, device, vis, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
busy = []
try:
    busy = sorted(float(l.split("\t")[1]) for l in open(os.path.join(d, "cpu.tsv")) if "\t" in l)
except OSError:
    pass
devices = ["cpu"] if device == "cpu" else ["cuda" if k == 0 else "cuda:%d" % k for k in range(n)]
rows = 0
with open(out, "a") as o:
    for f in sorted(glob.glob(os.path.join(d, "load_*.jsonl"))):
        for line in open(f):
            if not line.strip():
                continue
            r = json.loads(line)
            r["devices"] = devices
            r["cell_id"] = r.get("cell_id", "") + "|gpus%d" % n
            s = r.setdefault("settings", {})
            s["gpu_count"] = n if device == "cuda" else 0
            s["cuda_visible_devices"] = vis or None
            s["host_cores"] = os.cpu_count()
            s["cpu_busy_cores_p90"] = busy[int(0.9 * (len(busy) - 1))] if busy else None
            s["cpu_busy_cores_max"] = busy[-1] if busy else None
            s["workload"] = os.path.basename(f)[len("load_"):-len(".jsonl")]
            o.write(json.dumps(r) + "\n")
            rows += 1
print("  %d load rows from %d device(s); host CPU busy p90 %s of %d cores" %
      (rows, n, "%.1f" % busy[int(0.9 * (len(busy) - 1))] if busy else "-", os.cpu_count()))
sys.exit(0 if rows else 1)
EOF
done
first=$OUT/g${COUNTS[0]}
[ -f "$first/bench_offline.jsonl" ] && cp "$first/bench_offline.jsonl" "$OUT/bench_offline.jsonl"

$PY - "$OUT" "$DEVICE" "${VISIBLE[*]:-}" "$ROOT" <<'EOF'
import json, os, subprocess, sys
out, device, visible, root = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = [json.loads(l) for l in open(os.path.join(out, "rows.jsonl")) if l.strip()]
def run(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:
        return "unavailable: %s" % e
m = {
    "what": "optic serve GPU scaling (scripts/gpu/multi_gpu.sh): load rows per GPU count",
    "device": device,
    "visible_gpus": visible.split() if visible else [],
    "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
    "nproc": os.cpu_count(),
    "gpus": run("nvidia-smi", "-L") if device == "cuda" else None,
    "git_commit": run("git", "-C", root, "rev-parse", "HEAD"),
    "git_dirty": bool(run("git", "-C", root, "status", "--porcelain", "--untracked-files=no")),
    "host": rows[0].get("host") if rows else None,
    "versions": rows[0].get("versions") if rows else None,
    "command": open(os.path.join(out, "command.sh")).read().splitlines()[-1],
}
json.dump(m, open(os.path.join(out, "manifest.json"), "w"), indent=1)
best = {}
for r in rows:
    if r.get("status") != "ok" or r.get("throughput_per_s") is None:
        continue
    k = (r["settings"].get("workload", "?"), r.get("protocol") or "http", len(r["devices"]))
    if r["throughput_per_s"] > best.get(k, (0, 0, 0))[0]:
        best[k] = (r["throughput_per_s"], r.get("concurrency"), r["settings"].get("cpu_busy_cores_p90"))
with open(os.path.join(out, "summary.txt"), "w") as f:
    f.write("%-12s %-5s %5s %12s %8s %6s %10s\n" % ("workload", "proto", "GPUs", "throughput/s", "vs 1", "conc", "cpu busy"))
    for (w, p, n), (t, c, b) in sorted(best.items()):
        one = best.get((w, p, min(k[2] for k in best if k[:2] == (w, p))), (t,))[0]
        f.write("%-12s %-5s %5d %12.1f %8.2f %6s %10s\n" % (w, p, n, t, t / one if one else 0, c, "%.1f" % b if b is not None else "-"))
print(open(os.path.join(out, "summary.txt")).read(), end="")
EOF
"$OPTIC" report "$OUT/rows.jsonl" --quiet --markdown "$OUT/report.md" -o "$OUT/report.html" \
  --title "optic serve GPU scaling ($MODEL)" || {
  echo "multi_gpu.sh: optic report failed" >&2; failed=$((failed + 1)); }
echo "multi_gpu.sh: $OUT (rows.jsonl, report.md, report.html, manifest.json); failed counts: $failed"
exit $failed

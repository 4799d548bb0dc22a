#!/usr/bin/env bash
# optic serve next to a real Triton Inference Server, in one run, interleaved.
#   bench/server_vs_triton.sh [BUILD_DIR]     (default: build; uses BUILD_DIR/optic)
# Env: PAIRS=3 rounds, DURATION=8 s per stage, CONCURRENCY=1,2,4,8 (optic load), WRK_C="1 8",
#      OUT=results/cpu/server-vs-triton/<UTC time>, TRITON_VENV=.venv-triton, NOTE (into the
#      manifest, e.g. which source the optic binary was built from).
# Both servers serve the identity model on 1x3x224x224 FP32 with the same config (max batch 8,
# dynamic batching, queue delay 0, one CPU instance): optic from examples/model-repository/identity
# (null backend: a C++ copy), Triton 2.51 (nvidia-pytriton's bundled tritonserver) from
# bench/triton/model-repository/identity (Python backend: model.py in a stub process, tensors
# through shared memory; the wheel ships no other backend). Both run the whole time, idle when not
# measured; each round measures both, alternating which goes first. Same clients for both:
# `optic load` (closed loop, binary tensors, server split from /stats) and wrk with the same
# binary request body. Before measuring, bench/triton/client_sanity.py (tritonclient from .venv)
# checks both servers answer the same way. Writes raw outputs, the machine manifest, uptime
# before/after and summary.md (medians over rounds) into OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OPTIC=$BUILD/optic
PAIRS=${PAIRS:-3}
DURATION=${DURATION:-8}
CONCURRENCY=${CONCURRENCY:-1,2,4,8}
WRK_C=${WRK_C:-1 8}
OUT=${OUT:-results/cpu/server-vs-triton/$(date -u +%Y%m%dT%H%MZ)}
VENV=${TRITON_VENV:-.venv-triton}
[ -x "$OPTIC" ] || { echo "no $OPTIC: build it first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || bench/triton/setup_venv.sh "$VENV"
mkdir -p "$OUT"
TMP=$(mktemp -d)
OPTIC_PID="" TRITON_PID=""
cleanup() {
  for p in $OPTIC_PID $TRITON_PID; do kill "$p" 2>/dev/null || true; done
  for p in $OPTIC_PID $TRITON_PID; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {  # URL NAME LOG
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$1/v2/health/ready")" = 200 ] && return 0
    sleep 0.2
  done
  echo "$2 did not become ready:" >&2; tail -20 "$3" >&2; exit 1
}

# optic: a repository holding only the identity model, as Triton's does.
mkdir -p "$TMP/optic-repo"
cp -r examples/model-repository/identity "$TMP/optic-repo/"
"$OPTIC" serve --model-repository "$TMP/optic-repo" --http-port 0 --grpc-port 0 --http-threads 2 \
  >"$TMP/optic.out" 2>"$TMP/optic.err" &
OPTIC_PID=$!
for _ in $(seq 100); do grep -q listening "$TMP/optic.out" 2>/dev/null && break; sleep 0.1; done
OPTIC_HTTP=$(sed -n 's/.*listening on http:\/\/\([^,]*\),.*$/\1/p' "$TMP/optic.out")
OPTIC_GRPC=$(sed -n 's/.*, grpc \([^ ]*\).*$/\1/p' "$TMP/optic.out")
[ -n "$OPTIC_HTTP" ] || { echo "optic serve did not start:" >&2; cat "$TMP/optic.err" >&2; exit 1; }
wait_ready "$OPTIC_HTTP" "optic serve" "$TMP/optic.err"

TH=$(free_port) TG=$(free_port) TM=$(free_port)
mkdir -p "$TMP/triton-backends"
TRITON_VENV=$VENV TRITON_BACKEND_DIR=$TMP/triton-backends \
  bench/triton/tritonserver.sh "$PWD/bench/triton/model-repository" "$TH" "$TG" "$TM" \
  >"$TMP/triton.log" 2>&1 &
TRITON_PID=$!
TRITON_HTTP=127.0.0.1:$TH TRITON_GRPC=127.0.0.1:$TG
wait_ready "$TRITON_HTTP" tritonserver "$TMP/triton.log"
echo "optic serve at $OPTIC_HTTP (grpc $OPTIC_GRPC), tritonserver at $TRITON_HTTP (grpc $TRITON_GRPC)"

.venv/bin/python bench/triton/client_sanity.py "optic=$OPTIC_HTTP,$OPTIC_GRPC" \
  "triton=$TRITON_HTTP,$TRITON_GRPC" | tee "$OUT/client_sanity.txt"

# Manifest: the machine and every version that can change the numbers.
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: ${BENCH_COMMAND:-PAIRS=$PAIRS DURATION=$DURATION CONCURRENCY=$CONCURRENCY WRK_C=\"$WRK_C\" bench/server_vs_triton.sh $BUILD}"
  echo "optic_commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (src modified)')"
  [ -z "${NOTE:-}" ] || echo "note: $NOTE"
  echo "optic_binary: $OPTIC ($(grep -E '^CMAKE_BUILD_TYPE' "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2))"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "nproc: $(nproc)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "nvidia-pytriton: $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("nvidia-pytriton"))')"
  echo "tritonserver: $(curl -s "http://$TRITON_HTTP/v2" )"
  echo "tritonclient (.venv): $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("tritonclient"))')"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "optic serve flags: --http-threads 2; tritonserver flags: defaults (see bench/triton/tritonserver.sh)"
} >"$OUT/manifest.txt"

# wrk's request: the same body and headers optic load sends.
python3 bench/wrk_identity_request.py "$TMP"

measure() {  # NAME ADDR ROUND
  local name=$1 addr=$2 r=$3
  echo "== round $r: $name (load $(cut -d' ' -f1 /proc/loadavg))"
  rm -f "$OUT/load_${name}_r$r.jsonl"
  "$OPTIC" load --url "$addr" --model identity --concurrency "$CONCURRENCY" --duration-s "$DURATION" \
    --warmup-s 2 --output "$OUT/load_${name}_r$r.jsonl" | tee "$OUT/load_${name}_r$r.txt"
  for c in $WRK_C; do
    local t=$(( c < 2 ? 1 : 2 ))
    echo "wrk -t$t -c$c -d${DURATION}s --latency" >"$OUT/wrk_${name}_r${r}_c$c.txt"
    wrk -t$t -c$c -d"${DURATION}s" --latency -s "$TMP/post.lua" "http://$addr/v2/models/identity/infer" \
      >>"$OUT/wrk_${name}_r${r}_c$c.txt"
    grep -E 'Requests/sec|^ +50%' "$OUT/wrk_${name}_r${r}_c$c.txt" | tr -s ' ' | paste -sd' ' | sed "s/^/wrk -c$c: /"
  done
}

{ date -u +%H:%M:%SZ; uptime; } >"$OUT/uptime_before.txt"
cat "$OUT/uptime_before.txt"
for r in $(seq "$PAIRS"); do
  if (( r % 2 )); then
    measure optic "$OPTIC_HTTP" "$r"; measure triton "$TRITON_HTTP" "$r"
  else
    measure triton "$TRITON_HTTP" "$r"; measure optic "$OPTIC_HTTP" "$r"
  fi
done
{ date -u +%H:%M:%SZ; uptime; } >"$OUT/uptime_after.txt"
cat "$OUT/uptime_after.txt"
curl -s "http://$OPTIC_HTTP/v2/models/identity/stats" >"$OUT/stats_optic.json"
curl -s "http://$TRITON_HTTP/v2/models/identity/stats" >"$OUT/stats_triton.json"
cp "$TMP/triton.log" "$OUT/triton.log"
cp "$TMP/optic.out" "$OUT/optic_serve.out"

python3 bench/triton/summarize.py "$OUT" "$PAIRS" | tee "$OUT/summary.md"

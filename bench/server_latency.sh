#!/usr/bin/env bash
# optic serve's latency under load on the CPU, stage by stage, against the transport floor.
#   bench/server_latency.sh [BUILD_DIR]                     (default build)
# Serves the identity model (null backend: a copy; max batch 8, dynamic batching, queue delay 0,
# one CPU instance, as examples/model-repository/identity, with max_queue_size 1024 so that 256
# closed-loop clients are never refused) and drives it with `optic load` (closed loop, binary
# tensors / raw_input_contents, 1x3x224x224 FP32) over HTTP and gRPC at each CONCURRENCY. The
# same client, request and concurrencies also drive optic_echo_server (bench/server_echo: Beast
# and gRPC++ answering each request with its own bytes, no queue, no model), so optic minus echo
# is what optic adds over its transport. With BASELINE=<another optic binary> that build is
# served too (its own port) and measured in the same rounds, for before/after ratios.
# Every server runs the whole time; each round measures all of them, in an order that rotates.
# Writes into OUT: load_<server>_<protocol>_r<k>.{jsonl,txt} (optic load rows and table), the
# servers' /stats and /metrics after the run, manifest.txt (machine, versions, command),
# uptime.txt, summary.md (medians over rounds, ratios) from bench/server_latency_summary.py.
# Env: REPEATS (3), DURATION (3 s), WARMUP (1 s), CONCURRENCY (1,4,16,64,256),
#      PROTOCOLS ("http grpc"), BASELINES (unset), OUT (results/cpu/server-latency-<yyyymmdd>).
# DRY_RUN=1: one round, 1 s stages, concurrency 1,4, into a temporary folder (checks the script).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OPTIC=$BUILD/optic
ECHO_SERVER=$BUILD/bench/server_echo/optic_echo_server
REPEATS=${REPEATS:-3}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
CONCURRENCY=${CONCURRENCY:-1,4,16,64,256}
PROTOCOLS=${PROTOCOLS:-http grpc}
OUT=${OUT:-results/cpu/server-latency-$(date -u +%Y%m%d)}
if [ "${DRY_RUN:-0}" = 1 ]; then
  REPEATS=1 DURATION=1 WARMUP=0.5 CONCURRENCY=1,4 OUT=$(mktemp -d)
fi
BASE_BINS=""
for nb in ${BASELINES:-}; do BASE_BINS="$BASE_BINS ${nb#*=}"; done
for b in "$OPTIC" "$ECHO_SERVER" $BASE_BINS; do
  [ -x "$b" ] || { echo "no $b: build it first (ninja -C $BUILD optic optic_echo_server)" >&2; exit 1; }
done
mkdir -p "$OUT"
TMP=$(mktemp -d)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  for p in $PIDS; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/repo"
cp -r examples/model-repository/identity "$TMP/repo/"
sed -i 's/max_queue_size: [0-9]*/max_queue_size: 1024/' "$TMP/repo/identity/config.pbtxt"
grep -q "max_queue_size: 1024" "$TMP/repo/identity/config.pbtxt" ||
  { echo "examples/model-repository/identity/config.pbtxt has no max_queue_size to raise" >&2; exit 1; }

declare -A HTTP GRPC
start() {  # NAME COMMAND...
  local name=$1; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS="$PIDS $!"
  for _ in $(seq 300); do grep -q listening "$TMP/$name.out" 2>/dev/null && break; sleep 0.1; done
  HTTP[$name]=$(sed -n 's/.*listening on http:\/\/\([^,]*\),.*$/\1/p' "$TMP/$name.out")
  GRPC[$name]=$(sed -n 's/.*, grpc \([^ ]*\).*$/\1/p' "$TMP/$name.out")
  [ -n "${HTTP[$name]}" ] || { echo "$name did not start:" >&2; cat "$TMP/$name.err" >&2; exit 1; }
  echo "$name at http ${HTTP[$name]}, grpc ${GRPC[$name]}"
}
SERVERS="optic"
start optic "$OPTIC" serve --model-repository "$TMP/repo" --http-port 0 --grpc-port 0 --http-threads 2
for nb in ${BASELINES:-}; do
  SERVERS="$SERVERS ${nb%%=*}"
  start "${nb%%=*}" "${nb#*=}" serve --model-repository "$TMP/repo" --http-port 0 --grpc-port 0 --http-threads 2
done
SERVERS="$SERVERS echo"
start echo "$ECHO_SERVER" --http-port 0 --grpc-port 0 --threads 2

{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: REPEATS=$REPEATS DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=$CONCURRENCY PROTOCOLS=\"$PROTOCOLS\"${BASELINES:+ BASELINES=\"$BASELINES\"} bench/server_latency.sh $BUILD"
  echo "optic_commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench/server_echo || echo ' (src modified)')"
  [ -z "${BASELINE_NOTE:-}" ] || echo "baseline: $BASELINE_NOTE"
  echo "optic_binary: $OPTIC sha256 $(sha256sum "$OPTIC" | cut -c1-16) ($(grep -E '^CMAKE_BUILD_TYPE' "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2))"
  for nb in ${BASELINES:-}; do echo "baseline ${nb%%=*}: ${nb#*=} sha256 $(sha256sum "${nb#*=}" | cut -c1-16)"; done
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "nproc: $(nproc)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "compiler: $(c++ --version | head -1)"
  echo "boost: $(dpkg-query -W -f '${Version}' libboost-dev 2>/dev/null)"
  echo "grpc++: $(dpkg-query -W -f '${Version}' libgrpc++-dev 2>/dev/null)"
  echo "protobuf: $(dpkg-query -W -f '${Version}' libprotobuf-dev 2>/dev/null)"
  echo "servers: optic serve --http-threads 2 (gRPC: its defaults); optic_echo_server --threads 2"
  echo "model: identity (examples/model-repository/identity, max_queue_size 1024)"
} >"$OUT/manifest.txt"
uptime >"$OUT/uptime.txt"
"$OPTIC" manifest --out "$OUT/manifest.json" >/dev/null 2>&1 || echo "($OPTIC has no manifest command)" >"$OUT/manifest.json"

set -- $SERVERS
for r in $(seq "$REPEATS"); do
  order="$*"
  for _ in $(seq $(( (r - 1) % $# ))); do order="${order#* } ${order%% *}"; done
  for name in $order; do
    for proto in $PROTOCOLS; do
      addr=${HTTP[$name]}; [ "$proto" = grpc ] && addr=${GRPC[$name]}
      echo "== round $r: $name $proto (load $(cut -d' ' -f1 /proc/loadavg))"
      f="$OUT/load_${name}_${proto}_r$r"
      rm -f "$f.jsonl"
      "$OPTIC" load --protocol "$proto" --url "$addr" --model identity --concurrency "$CONCURRENCY" \
        --duration-s "$DURATION" --warmup-s "$WARMUP" --device-label "$name" --output "$f.jsonl" \
        | tee "$f.txt"
    done
  done
done
uptime >>"$OUT/uptime.txt"
for name in $SERVERS; do
  [ "$name" = echo ] && continue
  curl -s "http://${HTTP[$name]}/v2/models/identity/stats" >"$OUT/stats_$name.json"
  curl -s "http://${HTTP[$name]}/metrics" >"$OUT/metrics_$name.txt"
done
python3 bench/server_latency_summary.py "$OUT" $SERVERS | tee "$OUT/summary.md"
[ "${DRY_RUN:-0}" = 1 ] && echo "dry run: wrote $OUT"
exit 0

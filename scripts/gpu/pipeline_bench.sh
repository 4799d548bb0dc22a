#!/usr/bin/env bash
# optic pipeline on one device: fused and Redis Streams (and Kafka where a JVM is found) at 1, 5, 9
# and 25 objects per frame (synthetic boxes), one stage-2 worker, then Redis with two workers.
# Rows (rows.jsonl), the printed tables and the brokers' logs go into $OUT.
#   OPTIC   the optic binary (default build/optic)
#   OUT     output directory (default results/gpu/pipeline-<UTC date>)
#   DEVICE  device of both models (default cuda; DEVICE=cpu dry-runs it on a CPU machine)
#   DURATION_S, LATENCY_FRAMES  loaded-phase seconds (5) and zero-load frames (100)
# Needs redis-server and redis-cli on PATH; Kafka also needs java and the jars in the cache
# (scripts/brokers/kafka.sh fetch), otherwise it is skipped and the log says why.
set -euo pipefail
cd "$(dirname "$0")/../.."
OPTIC=${OPTIC:-build/optic}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-results/gpu/pipeline-$(date -u +%Y%m%d)}
DURATION_S=${DURATION_S:-5}
LATENCY_FRAMES=${LATENCY_FRAMES:-100}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/pipeline_bench.log
: >"$LOG"
say() { echo "pipeline_bench: $*" | tee -a "$LOG" >&2; }

RPORT=${REDIS_PORT:-6393}
KPORT=${KAFKA_PORT:-9194}
RDIR=$OUT/redis-data
KDIR=${TMPDIR:-/tmp}/optic-kafka-pipeline-bench-$KPORT
redis_up=0 kafka_up=0
cleanup() {
  if [ "$redis_up" = 1 ]; then scripts/brokers/redis.sh stop --port "$RPORT" --dir "$RDIR" --wipe >>"$LOG" 2>&1 || true; fi
  if [ "$kafka_up" = 1 ]; then scripts/brokers/kafka.sh stop --port "$KPORT" --dir "$KDIR" --wipe >>"$LOG" 2>&1 || true; fi
}
trap cleanup EXIT

"$OPTIC" models export --models pipeline >>"$LOG" 2>&1

transports=fused
brokers=()
if scripts/brokers/redis.sh start --port "$RPORT" --dir "$RDIR" >>"$LOG" 2>&1; then
  redis_up=1
  transports+=,redis
  brokers+=(--broker "redis://127.0.0.1:$RPORT")
else
  say "redis skipped: scripts/brokers/redis.sh start failed (is redis-server on PATH?), see $LOG"
fi
if ! command -v java >/dev/null; then
  say "kafka skipped: no java on PATH"
elif scripts/brokers/kafka.sh start --port "$KPORT" --dir "$KDIR" >>"$LOG" 2>&1; then
  kafka_up=1
  transports+=,kafka
  brokers+=(--kafka "kafka://127.0.0.1:$KPORT")
else
  say "kafka skipped: scripts/brokers/kafka.sh start failed (jars not in the cache, or no network to fetch them), see $LOG"
fi

common=(--device "$DEVICE" --objects 1,5,9,25 --latency-frames "$LATENCY_FRAMES" --duration-s "$DURATION_S"
        --inflight 4 --max-batch 32 --threads 1 --seed 1 --output "$OUT/rows.jsonl")
say "transports $transports on $DEVICE -> $OUT"
rc=0
"$OPTIC" pipeline --transport "$transports" "${brokers[@]}" --workers 1 "${common[@]}" 2>&1 | tee -a "$OUT/stdout.txt" || rc=1
broker_transports=${transports#fused}
broker_transports=${broker_transports#,}
if [ -n "$broker_transports" ]; then
  "$OPTIC" pipeline --transport "$broker_transports" "${brokers[@]}" --workers 2 "${common[@]}" 2>&1 | tee -a "$OUT/stdout.txt" || rc=1
fi
if [ "$redis_up" = 1 ]; then cp "$RDIR/redis.log" "$OUT/redis.log" 2>/dev/null || true; fi
say "rows: $(wc -l <"$OUT/rows.jsonl") in $OUT/rows.jsonl (exit $rc)"
exit $rc

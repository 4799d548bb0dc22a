#!/bin/bash
# optic pipeline on the 2-core CPU VM: fused vs Redis Streams at 1, 5, 9 and 25 objects per frame
# (synthetic boxes), one stage-2 worker; then Redis with two workers. OPTIC names the binary.
set -eu
cd "$(dirname "$0")/../../.."
R=results/cpu/pipeline-20261207
OPTIC=${OPTIC:-build/optic}
build/optic models export --models pipeline 2>/dev/null || "$OPTIC" models export --models pipeline
scripts/brokers/redis.sh start --port 6391
common="--objects 1,5,9,25 --latency-frames 50 --duration-s 3 --inflight 4 --max-batch 32 --threads 1 --seed 1"
"$OPTIC" pipeline --transport fused,redis --broker redis://127.0.0.1:6391 --workers 1 $common \
  --output $R/rows.jsonl | tee $R/stdout.txt
"$OPTIC" pipeline --transport redis --broker redis://127.0.0.1:6391 --workers 2 $common \
  --output $R/rows.jsonl | tee -a $R/stdout.txt
scripts/brokers/redis.sh stop --port 6391

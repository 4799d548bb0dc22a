#!/bin/bash
# optic pipeline on the 2-core CPU VM: fused vs Redis Streams vs Kafka at 1, 5, 9 and 25 objects
# per frame (synthetic boxes), one stage-2 worker; then both brokers with two workers.
# OPTIC names the binary (default build/optic).
set -eu
cd "$(dirname "$0")/../../.."
R=results/cpu/pipeline-20261207
OPTIC=${OPTIC:-build/optic}
rm -f $R/rows.jsonl $R/stdout.txt
"$OPTIC" models export --models pipeline >/dev/null
scripts/brokers/redis.sh start --port 6391
scripts/brokers/kafka.sh start --port 9192 --dir "${TMPDIR:-/tmp}/optic-kafka-pipeline-run"
brokers="--broker redis://127.0.0.1:6391 --kafka kafka://127.0.0.1:9192"
common="--objects 1,5,9,25 --latency-frames 50 --duration-s 3 --inflight 4 --max-batch 32 --threads 1 --seed 1"
"$OPTIC" pipeline --transport fused,redis,kafka $brokers --workers 1 $common --output $R/rows.jsonl | tee $R/stdout.txt
"$OPTIC" pipeline --transport redis,kafka $brokers --workers 2 $common --output $R/rows.jsonl | tee -a $R/stdout.txt
scripts/brokers/redis.sh stop --port 6391
scripts/brokers/kafka.sh stop --port 9192 --dir "${TMPDIR:-/tmp}/optic-kafka-pipeline-run" --wipe

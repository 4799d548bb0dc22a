#!/usr/bin/env bash
# optic bench over three real CPU frameworks x the six zoo models x batch
# 1..64, fp32, offline, 2 threads, into results/cpu/sweep-6x3/ (rows, log, load samples).
# Resumable: rerunning the script skips the cells that already have a row (--resume).
# Fast models first, so a sweep cut short still covers most of the grid. The per-cell limit
# (TIMEOUT) turns cells too slow for the time budget into `timeout` rows instead of dropping them.
# The correctness reference is onnxruntime (REFERENCE): all three frameworks agree to <= 5e-6 rel
# in fp32 (results/cpu/parity.txt), and under CPU contention libtorch's OpenMP pool slows down
# far more than the others, so torch reference cells would spend most of the time budget.
# One warm-up run (plus >= 200 ms): first inference and the correctness check already ran it.
# Usage: bench/sweep_6x3.sh   (env: OPTIC=build/optic OUTDIR=results/cpu/sweep-6x3 TIMEOUT=40
#        DURATION=1 MAXDUR=4 MINSAMPLES=6 WARMUP_RUNS=1 REFERENCE=onnxruntime MODELS=... BATCH=1-64
#        NAME=sweep: files $OUTDIR/$NAME.{jsonl,log,load.txt})
# Reproducibility rerun (same settings, a subset, its own file):
#   NAME=rerun-subset MODELS=mobilenet_v2,resnet50 BATCH=1,8,64 bench/sweep_6x3.sh
#   bench/reproducibility.py results/cpu/sweep-6x3/sweep.jsonl results/cpu/sweep-6x3/rerun-subset.jsonl
set -uo pipefail
cd "$(dirname "$0")/.."
OPTIC=${OPTIC:-build/optic}
OUTDIR=${OUTDIR:-results/cpu/sweep-6x3}
MODELS=${MODELS:-mobilenet_v2,efficientnet_b0,resnet50,densenet201,vit_b_16,vgg19}
BACKENDS=${BACKENDS:-torch,onnxruntime,openvino}
BATCH=${BATCH:-1-64}
TIMEOUT=${TIMEOUT:-40}
DURATION=${DURATION:-1}
MAXDUR=${MAXDUR:-4}
MINSAMPLES=${MINSAMPLES:-6}
WARMUP_RUNS=${WARMUP_RUNS:-1}
REFERENCE=${REFERENCE:-onnxruntime}
NAME=${NAME:-sweep}
mkdir -p "$OUTDIR"
LOG=$OUTDIR/$NAME.log
LOAD=$OUTDIR/$NAME.load.txt
# The machine is shared: sample the load average every 60 s for the whole run.
( while sleep 60; do echo "during $(date -u +%FT%TZ) $(uptime)"; done ) >>"$LOAD" &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null' EXIT
echo "before $(date -u +%FT%TZ) $(uptime)" >>"$LOAD"
CMD=("$OPTIC" bench --models "$MODELS" --backends "$BACKENDS" --batch "$BATCH" --precision fp32
     --threads 2 --scenario offline --duration-s "$DURATION" --max-duration-s "$MAXDUR"
     --min-samples "$MINSAMPLES" --warmup-runs "$WARMUP_RUNS" --reference "$REFERENCE"
     --timeout-s "$TIMEOUT" --models-dir models
     --out "$OUTDIR/$NAME.jsonl" --resume)
echo "\$ ${CMD[*]}" | tee -a "$LOG" "$OUTDIR/commands.txt"
/usr/bin/time -v "${CMD[@]}" >>"$LOG" 2>&1
RC=$?
echo "after $(date -u +%FT%TZ) $(uptime) rc=$RC" >>"$LOAD"
exit $RC

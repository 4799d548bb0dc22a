#!/usr/bin/env bash
# Tuned vs default on the CPU: resnet50, mobilenet_v2, efficientnet_b0 x onnxruntime, openvino,
# torch x batch 1 and 8, fp32, offline, with the settings search (--tune-budget-s: each backend's
# defaults first, then one knob at a time, then the winning knobs together). Run from the
# repository root on build/optic; the load average is sampled every minute (the machine is shared).
set -uo pipefail
cd "$(dirname "$0")/../../.."
R=results/cpu/tune-20261207
( while sleep 60; do echo "during $(date -u +%FT%TZ) $(uptime)"; done ) >>"$R/load.txt" &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null' EXIT
echo "before $(date -u +%FT%TZ) $(uptime)" >>"$R/load.txt"
build/optic backends > "$R/backends.txt"
.venv/bin/python -c "import json; m = json.load(open('models/manifest.json')); \
m['models'] = {k: m['models'][k] for k in ('resnet50', 'mobilenet_v2', 'efficientnet_b0')}; \
print(json.dumps(m, indent=1))" > "$R/manifest.json"
build/optic bench --models mobilenet_v2,efficientnet_b0,resnet50 --backends onnxruntime,openvino,torch \
  --batch 1,8 --precision fp32 --scenario offline --duration-s 2 --max-duration-s 6 --min-samples 3 \
  --warmup-runs 1 --timeout-s 300 --reference onnxruntime --tune-budget-s 1500 \
  --out "$R/rows.jsonl" > "$R/bench.log" 2>&1
RC=$?
echo "after $(date -u +%FT%TZ) $(uptime) rc=$RC" >>"$R/load.txt"
build/optic report "$R/rows.jsonl" --markdown "$R/report.md" -q -o "$R/report.html" && rm -f "$R/report.html"
exit $RC

#!/usr/bin/env bash
# The CPU grid in one run: five zoo CNNs (squeezenet1_1, shufflenet_v2, resnet18 from the framework
# study; mobilenet_v2, resnet50 from the six) x every CPU backend build/optic holds (onnxruntime,
# openvino, torch, iree) x fp32/int8 x batch 1, 8, 64, offline, 2 threads,
# with each cell's load phase (cold: empty cache folder, so it holds the compile; cached).
# int8 a backend cannot do is an `unsupported` row; cells over TIMEOUT are `timeout` rows.
# Resumable: rerunning the script skips every cell that already has a row (--resume).
# Run from anywhere; the load average is sampled every minute (the machine is shared).
set -uo pipefail
cd "$(dirname "$0")/../../.."
R=results/cpu/grid-20261207
TIMEOUT=${TIMEOUT:-90}
( while sleep 60; do echo "during $(date -u +%FT%TZ) $(uptime)"; done ) >>"$R/load.txt" &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null' EXIT
echo "before $(date -u +%FT%TZ) $(uptime)" >>"$R/load.txt"
MODELS=squeezenet1_1,shufflenet_v2,mobilenet_v2,resnet18,resnet50
# the models' files: fp32 ONNX and TorchScript, onnxruntime QDQ int8, OpenVINO NNCF int8
.venv/bin/python -W ignore tools/zoo/export.py --out models --models $MODELS \
  --formats onnx,torchscript,onnx-int8,openvino-int8 >>"$R/export.log" 2>&1
build/optic backends > "$R/backends.txt"
.venv/bin/python -c "import json, sys; m = json.load(open('models/manifest.json')); \
m['models'] = {k: m['models'][k] for k in sys.argv[1].split(',')}; \
print(json.dumps(m, indent=1))" $MODELS > "$R/manifest.json"
build/optic bench --models $MODELS --backends onnxruntime,openvino,torch,iree \
  --precision fp32,int8 --batch 1,8,64 --scenario offline --threads 2 \
  --duration-s 1 --max-duration-s 4 --min-samples 3 --warmup-runs 1 --reference onnxruntime \
  --timeout-s "$TIMEOUT" --resume --out "$R/rows.jsonl" >>"$R/bench.log" 2>&1
RC=$?
echo "after $(date -u +%FT%TZ) $(uptime) rc=$RC" >>"$R/load.txt"
build/optic report "$R/rows.jsonl" --markdown "$R/report.md" -q -o "$R/report.html" && rm -f "$R/report.html"
exit $RC

#!/usr/bin/env bash
# From the repository root of a build with the iree backend (scripts/setup.sh, scripts/build.sh).
# Rows carry the bench's own manifest (host, versions, load average); backends.txt is
# `optic backends`, manifest.json the two models' zoo manifest entries (their files' sha256).
set -euo pipefail
OUT=results/cpu/iree-20261207
build/optic backends > "$OUT/backends.txt"
.venv/bin/python -c "import json; m = json.load(open('models/manifest.json')); m['models'] = {k: m['models'][k] for k in ('resnet50', 'mobilenet_v2')}; json.dump(m, open('$OUT/manifest.json', 'w'), indent=2)"
build/optic bench --models resnet50,mobilenet_v2 --backends onnxruntime,openvino,iree \
  --batch 1,8 --precision fp32 --scenario offline --duration-s 2 --min-samples 3 --warmup-runs 1 \
  --timeout-s 900 --out "$OUT/bench.jsonl"

#!/usr/bin/env bash
# The first README command: installs every dependency (scripts/setup.sh), builds optic, exports
# the models that the README's commands and examples/model-repository use, and runs the main job
# on its built-in default: fp32 parity across the frameworks, then the default `optic bench`
# sweep (about 2 minutes on 2 cores) and its report. Leaves build/optic runnable.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/optic backends
build/optic models export --models mobilenet_v2,resnet50,efficientnet_b0,tiny_cnn,tiny_mlp
build/optic parity --model mobilenet_v2 --precision fp32
mkdir -p out
rm -f out/bench-default.jsonl
build/optic bench --out out/bench-default.jsonl
build/optic report out/bench-default.jsonl -o out/report.html --markdown out/summary.md -q
echo "quickstart: results in out/bench-default.jsonl, report in out/report.html"

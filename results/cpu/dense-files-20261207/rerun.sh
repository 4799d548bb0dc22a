#!/bin/bash
# The affected cells of results/cpu/dense-files-20261207/command.sh: ssdlite320 at 320 and 512,
# lraspp_mobilenet_v3 and mini_depth at 512, same flags (the export step was not re-run: the
# three model.onnx files still had the sha256 of manifest.json). build/optic-rerun is a copy of
# build/optic, so that other builds in the shared tree could not replace the binary mid-sweep.
set -u
cd "$(dirname "$0")/../../.."
R=results/cpu/dense-files-20261207
run() {
  ./build/optic-rerun bench models/$1/model.onnx --shape input=1x3x${2}x${2} --batch 1 \
    --precision fp32 --scenario single_stream --threads 0 --duration-s 2 --max-duration-s 6 \
    --warmup-runs 2 --timeout-s 300 --reference onnxruntime --out $R/rows.jsonl
}
run ssdlite320 320; run ssdlite320 512; run lraspp_mobilenet_v3 512; run mini_depth 512

#!/bin/bash
# The CPU grid for the zoo's detector, segmenter and depth net, each given as its ONNX file.
set -u
cd "$(dirname "$0")/../../.."
R=results/cpu/dense-files-20261207
.venv/bin/python -W ignore tools/zoo/export.py --out models --models dense
for m in ssdlite320 lraspp_mobilenet_v3 mini_depth; do
  for s in 320 512; do
    ./build/optic bench models/$m/model.onnx --shape input=1x3x${s}x${s} --batch 1 \
      --precision fp32 --scenario single_stream --threads 0 --duration-s 2 --max-duration-s 6 \
      --warmup-runs 2 --timeout-s 300 --reference onnxruntime --out $R/rows.jsonl
  done
done

#!/bin/bash
# int8 (onnxruntime static QDQ, NNCF OpenVINO IR) and fp16 ONNX against fp32 on the CPU:
# resnet50 and mobilenet_v2 x onnxruntime/openvino x fp32/int8/fp16 x batch 1 and 8, one run.
set -u
cd "$(dirname "$0")/../../.."
R=results/cpu/int8-20261207
.venv/bin/python -W ignore tools/zoo/export.py --out models --models resnet50,mobilenet_v2 \
  --formats onnx,onnx-int8,openvino-int8,onnx-fp16
./build/optic backends > $R/backends.txt
./build/optic bench --models resnet50,mobilenet_v2 --backends onnxruntime,openvino \
  --precision fp32,int8,fp16 --batch 1,8 --scenario offline --threads 0 --duration-s 3 \
  --max-duration-s 8 --timeout-s 600 --reference onnxruntime --out $R/rows.jsonl
# the zoo manifest's entries of the two models: every file's sha256, the calibration set, the
# quantizers' settings
.venv/bin/python -c "import json; m = json.load(open('models/manifest.json')); \
m['models'] = {k: m['models'][k] for k in ('resnet50', 'mobilenet_v2')}; \
print(json.dumps(m, indent=1))" > $R/manifest.json
./build/optic report $R/rows.jsonl --markdown $R/report.md -q -o $R/report.html && rm $R/report.html
# agreement on photographs outside the calibration set (9 opencv-doc JPEGs none of which it holds)
H=$(mktemp -d)
for f in aloeR leuvenB ela_modified HappyFish pca_test1 stuff licenseplate_motion Blender_Suzanne1; do
  cp /usr/share/doc/opencv-doc/examples/data/$f.jpg $H/
done
cp /usr/share/doc/opencv-doc/examples/alphamat/input_images/plant.jpg $H/
for m in resnet50 mobilenet_v2; do
  ./build/optic parity --model $m --images $H --backends onnxruntime,openvino \
    --precision fp32,int8,fp16 --reference onnxruntime
done > $R/parity-heldout-photos.txt 2>&1
rm -rf $H

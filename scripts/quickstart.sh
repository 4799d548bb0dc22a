#!/usr/bin/env bash
# The first README command: installs every dependency (scripts/setup.sh), builds optic, exports
# the default models and runs the main job on its built-in default. Leaves build/optic runnable.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/optic backends
build/optic models export --models mobilenet_v2,resnet50,tiny_cnn,tiny_mlp
build/optic parity --model mobilenet_v2
build/optic predict --backend onnxruntime --file models/mobilenet_v2/model.onnx --rows 32 --batch 8 --repeat 5

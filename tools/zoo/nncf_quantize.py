#!/usr/bin/env python3
"""OpenVINO post-training int8 quantization with NNCF: ONNX file + calibration images -> IR.

    .deps/nncf-venv/bin/python tools/zoo/nncf_quantize.py --onnx models/resnet50/model.onnx \
        --calibration calib.npy --out models/resnet50/model.int8.xml

Runs in its own environment (.deps/nncf-venv, made by scripts/setup.sh): NNCF needs scipy and
scikit-learn releases built for numpy 2, while the main .venv keeps Debian's numpy 1.24 for
Debian's torch. tools/zoo/export.py (format openvino-int8) calls it with the zoo's calibration
set (tools/zoo/calibration.py) saved as a .npy of [N, 3, H, W] float32 images.

Writes <out>.xml and <out>.bin (weights kept fp32 where not quantized: no fp16 compression) and
prints one JSON line: nncf and openvino versions, images used, the FakeQuantize count.
Exit codes: 0 ok, 1 quantization failed, 2 bad arguments or unreadable inputs.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--onnx", required=True, type=Path, help="the fp32 ONNX file")
    p.add_argument("--calibration", required=True, type=Path, help=".npy [N,3,H,W] float32")
    p.add_argument("--out", required=True, type=Path, help="the IR's .xml path")
    p.add_argument("--batch", type=int, default=8, help="images per calibration batch")
    p.add_argument("--input", default="input", help="the model input the images feed")
    args = p.parse_args(argv)
    if not args.onnx.is_file():
        print(f"nncf_quantize: ONNX file {args.onnx} does not exist", file=sys.stderr)
        return 2
    try:
        images = np.load(args.calibration, allow_pickle=False)
    except (OSError, ValueError) as e:
        print(f"nncf_quantize: calibration file {args.calibration} is unreadable: {e}",
              file=sys.stderr)
        return 2
    if images.ndim != 4 or images.dtype != np.float32 or len(images) == 0:
        print(f"nncf_quantize: calibration file {args.calibration} holds {images.dtype} "
              f"{list(images.shape)}; needs [N>0, C, H, W] float32", file=sys.stderr)
        return 2

    import nncf
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(args.onnx))
    batches = [images[i:i + args.batch] for i in range(0, len(images), args.batch)]
    dataset = nncf.Dataset(batches, lambda b: {args.input: b})
    quantized = nncf.quantize(model, dataset, preset=nncf.QuantizationPreset.PERFORMANCE,
                              target_device=nncf.TargetDevice.CPU, subset_size=len(batches))
    fq = sum(1 for op in quantized.get_ops() if op.get_type_name() == "FakeQuantize")
    if fq == 0:
        print("nncf_quantize: NNCF inserted no FakeQuantize operators", file=sys.stderr)
        return 1
    ov.save_model(quantized, str(args.out), compress_to_fp16=False)
    print(json.dumps({"nncf": nncf.__version__, "openvino": ov.__version__,
                      "images": int(len(images)), "batch": args.batch, "fake_quantize": fq,
                      "preset": "performance (symmetric int8 activations and weights)"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Export optic's model zoo to ONNX and TorchScript, with a manifest.

    .venv/bin/python tools/zoo/export.py --out models
    .venv/bin/python tools/zoo/export.py --out models --models tiny_cnn,tiny_mlp \
        --formats onnx,torchscript,onnx-int8 --seed 0 --force

Weights are seeded random (no network access): the benchmarks measure speed, not accuracy, and
a fixed seed makes the files reproducible. Layout under --out:

    <model>/model.onnx       opset 17, input "input", output "output", dynamic batch (axis 0)
    <model>/model.pt         torch.jit.trace, not frozen (libtorch 1.13 torch::jit::load reads it)
    <model>/model.int8.onnx  --formats onnx-int8: onnxruntime static QDQ quantization
    <model>/model.fp16.onnx  --formats onnx-fp16: fp16 weights/operators, fp32 inputs/outputs
    <model>/model.int8.xml   --formats openvino-int8: NNCF int8 OpenVINO IR (+ model.int8.bin)
    manifest.json            shapes, parameter counts, sizes and sha256 of every file

Re-running is incremental: a format whose file exists and whose sha256 and seed match the
manifest is skipped unless --force. The manifest is merged, so exporting a subset keeps the
other models' entries. Exit codes: 0 ok, 1 an export or validation failed, 2 bad arguments.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import functools
import inspect
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
import torch
import torchvision
from torch import nn

SCHEMA = 1
GENERATOR = "tools/zoo/export.py"
OPSET = 17  # torch 1.13's newest; ViT-B/16 needs >= 14 anyway
REL_TOL = 1e-3  # max |onnx - torch| relative to max |torch|
VALIDATE_BATCH = 2  # differs from the traced batch of 1, so a baked-in batch size shows up

FORMATS = ("onnx", "torchscript", "onnx-int8", "onnx-fp16", "openvino-int8", "aoti-fp32", "aoti-fp16", "aoti-bf16")
DEFAULT_FORMATS = ("onnx", "torchscript")
DERIVED = ("onnx-int8", "onnx-fp16", "openvino-int8")  # made from model.onnx
ALIASES = {"aoti": "aoti-fp32,aoti-fp16"}  # --formats aoti: the precisions optic bench sweeps
FILE_NAMES = {"onnx": "model.onnx", "torchscript": "model.pt", "onnx-int8": "model.int8.onnx",
              "onnx-fp16": "model.fp16.onnx", "openvino-int8": "model.int8.xml",
              "aoti-fp32": "model.fp32.pt2", "aoti-fp16": "model.fp16.pt2",
              "aoti-bf16": "model.bf16.pt2"}


class TinyCnn(nn.Module):
    """A few-KB conv-bn-relu-pool-linear net: fast enough for unit tests of every backend."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.classifier = nn.Linear(16, classes)

    def forward(self, x):
        return self.classifier(self.features(x))


class TinyMlp(nn.Module):
    """Flatten + two linear layers: the smallest model that still has a non-trivial graph."""

    def __init__(self, in_features: int = 3 * 8 * 8, hidden: int = 16, classes: int = 5):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, classes))

    def forward(self, x):
        return self.net(x)


@dataclass(frozen=True)
class ModelSpec:
    build: Callable[[], nn.Module]
    input_shape: tuple  # without the batch axis
    classes: int
    task: str = "classification"  # classification, detection, segmentation, depth
    source: str = "torchvision"
    # Models that are not classifiers: (name, shape with -1 where variable, dtype) per output,
    # and height/width variable in the ONNX file. A detector takes one image (batch fixed at 1).
    outputs: tuple = ()
    variable_hw: bool = False
    batch: int = -1


def _timm(name: str) -> Callable[[], nn.Module]:
    def build():
        import timm  # pinned in scripts/setup.sh; only the models that need it import it
        return timm.create_model(name, pretrained=False)
    return build


def _dense(name: str) -> Callable[[], nn.Module]:
    def build():
        import dense  # tools/zoo/dense.py
        return getattr(dense, name)()
    return build


def _pipeline(name: str) -> Callable[[], nn.Module]:
    def build():
        import pipeline_nets  # tools/zoo/pipeline_nets.py
        return getattr(pipeline_nets, name)()
    return build


def _torchvision(name: str) -> Callable[[], nn.Module]:
    # weights=None: random init, never a download.
    return lambda: getattr(torchvision.models, name)(weights=None)


ZOO = {name: ModelSpec(_torchvision(name), (3, 224, 224), 1000)
       for name in ("resnet50", "vgg19", "densenet201", "efficientnet_b0", "mobilenet_v2",
                    "vit_b_16")}
TINY = {
    "tiny_cnn": ModelSpec(TinyCnn, (3, 32, 32), 10),
    "tiny_mlp": ModelSpec(TinyMlp, (3, 8, 8), 5),
}
# The framework study's 17 CNNs (the six above hold vgg19, resnet50 and mobilenet_v2). Not to be
# had from torchvision 0.14 or timm 1.0: Inception v2 (BN-Inception) and ShuffleNet v1.
_tv = functools.partial(ModelSpec, input_shape=(3, 224, 224), classes=1000)
STUDY = {
    "alexnet": _tv(_torchvision("alexnet")),
    "vgg16": _tv(_torchvision("vgg16")),
    "resnet18": _tv(_torchvision("resnet18")),
    "resnet34": _tv(_torchvision("resnet34")),
    "resnet101": _tv(_torchvision("resnet101")),
    "resnet152": _tv(_torchvision("resnet152")),
    "googlenet": _tv(lambda: torchvision.models.googlenet(weights=None, aux_logits=False,
                                                          init_weights=True)),
    "inception_v3": ModelSpec(lambda: torchvision.models.inception_v3(
        weights=None, aux_logits=False, init_weights=True), (3, 299, 299), 1000),
    "inception_v4": ModelSpec(_timm("inception_v4"), (3, 299, 299), 1000, source="timm"),
    "mobilenet_v1": _tv(_timm("mobilenetv1_100"), source="timm"),
    "shufflenet_v2": _tv(_torchvision("shufflenet_v2_x1_0")),
    "squeezenet1_0": _tv(_torchvision("squeezenet1_0")),
    "squeezenet1_1": _tv(_torchvision("squeezenet1_1")),
}
DENSE = {
    "ssdlite320": ModelSpec(_dense("ssdlite"), (3, 320, 320), 91, task="detection",
                            outputs=(("boxes", [-1, 4], "fp32"), ("scores", [-1], "fp32"),
                                     ("labels", [-1], "int64")), variable_hw=True, batch=1),
    "lraspp_mobilenet_v3": ModelSpec(_dense("lraspp"), (3, 320, 320), 21, task="segmentation",
                                     outputs=(("out", [-1, 21, -1, -1], "fp32"),),
                                     variable_hw=True),
    "mini_depth": ModelSpec(_dense("mini_depth"), (3, 256, 256), 1, task="depth",
                            source="optic (tools/zoo/dense.py) on torchvision mobilenet_v3_large",
                            outputs=(("depth", [-1, 1, -1, -1], "fp32"),), variable_hw=True),
}
# optic pipeline's detector and embedding net (tools/zoo/pipeline_nets.py).
PIPELINE = {
    "face_detector": ModelSpec(_pipeline("face_detector"), (3, 160, 160), 1, task="detection",
                               source="optic (tools/zoo/pipeline_nets.py)",
                               outputs=(("scores", [-1, 1, -1, -1], "fp32"),
                                        ("boxes", [-1, 4, -1, -1], "fp32"))),
    "face_embedder": ModelSpec(_pipeline("face_embedder"), (3, 64, 64), 128, task="embedding",
                               source="optic (tools/zoo/pipeline_nets.py)",
                               outputs=(("embedding", [-1, 128], "fp32"),)),
}
MODELS = {**ZOO, **TINY, **STUDY, **DENSE, **PIPELINE}
DEFAULT_MODELS = [*ZOO, *TINY]  # what `optic models export` makes with no --models
GROUPS = {"default": DEFAULT_MODELS, "study": [*STUDY, "vgg19", "resnet50", "mobilenet_v2"],
          "dense": list(DENSE), "pipeline": list(PIPELINE), "all": list(MODELS)}


# torch >= 2.9 exports ONNX through torch.export (dynamo=True) by default; the files here come from
# the TorchScript-based exporter on every torch version, so they do not change with the version.
LEGACY_ONNX = ({"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters
               else {})


class ExportError(Exception):
    """An export ran but its result is wrong (validation failed)."""


class SkipFormat(Exception):
    """An optional format cannot be produced here; the reason goes into the manifest."""


# ---------------------------------------------------------------------------------------------
# Small helpers


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_seed(seed: int, name: str) -> int:
    # crc32, unlike hash(), is stable across processes (no PYTHONHASHSEED salt), so each model
    # gets its own reproducible stream and adding a model to the zoo does not change the others.
    return seed + zlib.crc32(name.encode()) % 100_000


def fill_zero_weights(model: nn.Module) -> None:
    """Gives all-zero weight matrices small random values.

    torchvision zero-initializes some classifier heads (ViT's heads.head): with random weights
    everywhere else the output would be all zero, which makes the ONNX/TorchScript validation
    vacuous and gives int8 quantization a zero scale.
    """
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, nn.Parameter) and weight.dim() >= 2 and not weight.any():
            nn.init.trunc_normal_(weight, std=0.02)


# Bumped whenever the way weights are made changes, so older exports are redone.
WEIGHTS_RECIPE = 2


def calibrate_batchnorm(model: nn.Module, input_shape, batches: int = 4, batch: int = 8) -> None:
    """Sets BatchNorm running statistics from seeded N(0, 1) inputs, then returns to eval mode.

    Freshly initialized BatchNorm layers hold mean 0 / variance 1, which does not normalize
    anything: through deep nets (MobileNet-V2, EfficientNet-B0) activations shrink layer after
    layer until the logits are ~1e-13, which fp16 flushes to zero and which makes every
    precision comparison meaningless. Calibrated statistics give activations the scale of a
    trained network's, so speed and parity are measured on realistic magnitudes.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch, *input_shape))
    model.eval()


class UsageError(Exception):
    """A bad --models/--formats value: printed as one line, without argparse's usage text."""


def parse_list(value: str, valid, what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise UsageError(f"no {what} given (known: {', '.join(valid)})")
    for v in items:
        if v not in valid:
            close = difflib.get_close_matches(v, valid, n=3, cutoff=0.5)
            close += [n for n in valid if n.startswith(v) and n not in close]
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise UsageError(f"unknown {what} '{v}' (known: {', '.join(valid)}){hint}")
    return list(dict.fromkeys(items))  # dedupe, keep order


def load_manifest(path: Path) -> dict:
    if path.exists():
        try:
            manifest = json.loads(path.read_text())
            if manifest.get("schema") == SCHEMA:
                return manifest
            print(f"warning: {path} has schema {manifest.get('schema')}, starting afresh")
        except (json.JSONDecodeError, AttributeError) as e:
            print(f"warning: {path} is unreadable ({e}), starting afresh")
    return {"models": {}}


def write_manifest(path: Path, manifest: dict) -> None:
    # tmp + rename in the same directory: readers never see a half-written manifest.
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def is_up_to_date(out: Path, entry: dict | None, fmt: str, seed: int) -> bool:
    if not entry or entry.get("seed") != seed or entry.get("weights_recipe") != WEIGHTS_RECIPE:
        return False
    record = entry.get("files", {}).get(fmt)
    if not record:
        return False
    path = out / record["path"]
    return path.is_file() and sha256_of(path) == record["sha256"]


def file_record(out: Path, path: Path) -> dict:
    return {"path": path.relative_to(out).as_posix(), "bytes": path.stat().st_size,
            "sha256": sha256_of(path)}


def check_close(name: str, fmt: str, got: np.ndarray, want: np.ndarray) -> str:
    """Compares with the eager torch output; returns a note for the log."""
    if got.shape != want.shape:
        raise ExportError(f"{name} {fmt}: output shape {got.shape}, torch gives {want.shape}")
    scale = float(np.max(np.abs(want)))
    if not scale > 0:  # an all-zero reference would let any file pass
        raise ExportError(f"{name} {fmt}: torch output is all zero, nothing to compare")
    err = float(np.max(np.abs(got - want)))
    rel = err / scale
    if not rel <= REL_TOL:  # "not <=" also catches NaN
        raise ExportError(f"{name} {fmt}: max abs err {err:.3g} is {rel:.3g} relative "
                          f"to the torch output (limit {REL_TOL})")
    return f"max abs err {err:.1e} (rel {rel:.1e})"


def ort_run(path: Path, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x.numpy()})[0]


def output_names(spec: ModelSpec) -> list[str]:
    return [o[0] for o in spec.outputs] or ["output"]


def as_arrays(out) -> list[np.ndarray]:
    return [t.numpy() for t in out] if isinstance(out, (tuple, list)) else [out.numpy()]


def check_outputs(name: str, fmt: str, got: list, want: list) -> str:
    """check_close over every output. A detector's boxes and labels are compared by shape only:
    with random weights many scores tie, and tied detections come out of NMS in either order."""
    spec = MODELS[name]
    notes = []
    for (out, _, _), g, w in zip(spec.outputs or [("output", 0, 0)], got, want):
        if spec.task == "detection" and out != "scores":
            if g.shape != w.shape:
                raise ExportError(f"{name} {fmt}: {out} shape {g.shape}, torch gives {w.shape}")
            continue
        notes.append(f"{out}: {check_close(name, fmt, g, w)}")
    return "; ".join(notes)


# ---------------------------------------------------------------------------------------------
# One function per format. Each writes to `tmp` (a path in a scratch directory beside the final
# file, so a failed validation never leaves a bad file in place) and returns a note for the log.


def export_onnx(name, model, example, check, reference, tmp: Path, out_dir: Path) -> str:
    if MODELS[name].outputs:
        return export_onnx_dense(name, model, example, check, reference, tmp)
    # Exported with autograd on: under no_grad, torch 1.13's nn.MultiheadAttention takes its
    # fused fast path (aten::_native_multi_head_attention), which has no ONNX symbolic (ViT).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about asserts/shape-to-int are expected
        torch.onnx.export(
            model, example, str(tmp), export_params=True, opset_version=OPSET,
            do_constant_folding=True, input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **LEGACY_ONNX)
    return check_close(name, "onnx", ort_run(tmp, check), reference)


def export_onnx_dense(name, model, example, check, reference, tmp: Path) -> str:
    spec = MODELS[name]
    names = output_names(spec)
    axes = {**({} if spec.batch == 1 else {0: "batch"}), 2: "height", 3: "width"}
    dynamic = {"input": axes, **{o: {i: f"{o}_{i}" for i, d in enumerate(shape) if d < 0}
                                 for o, shape, _ in spec.outputs}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, example, str(tmp), export_params=True, opset_version=OPSET,
            do_constant_folding=True, input_names=["input"], output_names=names,
            dynamic_axes=dynamic, **LEGACY_ONNX)
    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    return check_outputs(name, "onnx", session.run(names, {"input": check.numpy()}), reference)


def export_torchscript(name, model, example, check, reference, tmp: Path, out_dir: Path) -> str:
    # Traced and saved as-is, not frozen: torch::jit::load in libtorch 1.13 reads this directly.
    # Traced under no_grad, as inference runs: ViT's attention records torch's fused fast path.
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, example, check_trace=False)
    traced.save(str(tmp))
    loaded = torch.jit.load(str(tmp))  # proves the file round-trips
    if MODELS[name].outputs:
        with torch.no_grad():
            return check_outputs(name, "torchscript", as_arrays(loaded(check)), reference)
    with torch.no_grad():
        got = loaded(check).numpy()
    return check_close(name, "torchscript", got, reference)


def calibration_images(name: str, fmt: str):
    """The zoo's calibration set at the model's input size (tools/zoo/calibration.py)."""
    import calibration
    _, height, width = MODELS[name].input_shape
    try:
        return calibration.calibration_set(height, width)
    except calibration.CalibrationError as e:
        raise ExportError(f"{name} {fmt}: {e}") from e


def agreement_note(got: np.ndarray, want: np.ndarray) -> dict:
    """Cosine and top-1 agreement of a reduced-precision file with torch, for the manifest."""
    g, w = got.reshape(len(got), -1).astype(np.float64), want.reshape(len(want), -1)
    cos = float(np.sum(g * w) / (np.linalg.norm(g) * np.linalg.norm(w)))
    return {"cosine": round(cos, 6), "top1": float(np.mean(g.argmax(1) == w.argmax(1)))}


def check_reduced(name: str, fmt: str, got: np.ndarray, want: np.ndarray) -> dict:
    # A lossy file is not held to REL_TOL; it must give the right shape and finite values.
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        raise ExportError(f"{name} {fmt}: bad output (shape {got.shape}, torch gives "
                          f"{want.shape}, finite {bool(np.all(np.isfinite(got)))})")
    return agreement_note(got, want)


class CalibrationReader:
    """onnxruntime.quantization's CalibrationDataReader over the calibration images."""

    def __init__(self, images: np.ndarray, batch: int = 8):
        self._batches = iter([images[i:i + batch] for i in range(0, len(images), batch)])

    def get_next(self):
        b = next(self._batches, None)
        return None if b is None else {"input": b}


def export_onnx_int8(name, model, example, check, reference, tmp: Path, out_dir: Path) -> dict:
    source = out_dir / FILE_NAMES["onnx"]
    if MODELS[name].outputs:
        raise SkipFormat("int8 calibration is made for classifiers' image inputs")
    # Asked for by name, so a missing quantizer is an error, not a skip: a sweep would otherwise
    # find no int8 file and report int8 unsupported without saying why.
    try:
        import onnx  # noqa: F401  (onnxruntime.quantization reads and writes models through it)
        from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                              quantize_static)
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as e:
        raise ExportError(
            f"{name} onnx-int8: the Python package 'onnx' is missing ({e}); onnxruntime's "
            f"quantizer needs it. Run scripts/setup.sh (it installs the pinned onnx into .venv) "
            f"or: .venv/bin/pip install onnx==1.17.0") from e
    ort.set_default_logger_severity(3)  # unused-initializer warnings of the pre-processing pass
    images, record = calibration_images(name, "onnx-int8")
    # Shape inference and ONNX Runtime's basic graph fusions first, as onnxruntime recommends:
    # BatchNorm folded into Conv means one quantized Conv instead of Conv + BatchNorm.
    pre = tmp.with_name("pre.onnx")
    quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
    quantize_static(str(pre), str(tmp), CalibrationReader(images),
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    note = check_reduced(name, "onnx-int8", ort_run(tmp, check), reference)
    return {"note": f"static QDQ, per-channel QInt8 weights, QUInt8 activations, MinMax over "
                    f"{record['images']} images; vs torch cosine {note['cosine']}",
            "quantization": {"tool": f"onnxruntime {ort.__version__} quantize_static",
                             "format": "QDQ", "weights": "int8 per-channel (symmetric)",
                             "activations": "uint8 per-tensor", "calibrate": "MinMax",
                             "vs_fp32_torch": note},
            "calibration": record}


def export_onnx_fp16(name, model, example, check, reference, tmp: Path, out_dir: Path) -> dict:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    source = out_dir / FILE_NAMES["onnx"]
    spec = MODELS[name]
    if spec.task == "detection":  # tied scores leave NMS in either order: no output to check
        raise SkipFormat("fp16 of a detector with NMS is not made")
    if spec.outputs:
        reference = reference[0]
    # Inputs and outputs stay fp32 (a Cast at each end), so callers feed the same tensors as to
    # model.onnx; weights and every operator in between are fp16.
    half = convert_float_to_float16(onnx.load(str(source)), keep_io_types=True)
    onnx.save(half, str(tmp))
    # ONNX Runtime's x86 CPU provider lacks fp16 kernels for most operators, so the file is
    # checked in OpenVINO, which reads fp16 ONNX on any CPU.
    import openvino as ov
    compiled = ov.Core().compile_model(str(tmp), "CPU")
    got = compiled(check.numpy())[0]
    note = check_reduced(name, "onnx-fp16", np.asarray(got), reference)
    return {"note": f"fp16 weights and operators, fp32 inputs/outputs; vs torch cosine "
                    f"{note['cosine']} (checked in openvino {ov.__version__})",
            "conversion": {"tool": f"onnxruntime {ort.__version__} "
                                   "transformers.float16.convert_float_to_float16",
                           "keep_io_types": True, "vs_fp32_torch": note}}


NNCF_PYTHON = Path(__file__).resolve().parents[2] / ".deps" / "nncf-venv" / "bin" / "python"


def export_openvino_int8(name, model, example, check, reference, tmp: Path, out_dir: Path) -> dict:
    source = out_dir / FILE_NAMES["onnx"]
    if MODELS[name].outputs:
        raise SkipFormat("int8 calibration is made for classifiers' image inputs")
    python = Path(os.environ.get("OPTIC_NNCF_PYTHON", NNCF_PYTHON))
    if not python.is_file():
        raise ExportError(f"{name} openvino-int8: NNCF's environment {python} is missing; "
                          f"run scripts/setup.sh (it makes .deps/nncf-venv)")
    images, record = calibration_images(name, "openvino-int8")
    calib = tmp.with_name("calibration.npy")
    np.save(calib, images)
    script = Path(__file__).resolve().with_name("nncf_quantize.py")
    run = subprocess.run([str(python), str(script), "--onnx", str(source), "--calibration",
                          str(calib), "--out", str(tmp)], capture_output=True, text=True)
    if run.returncode != 0:
        raise ExportError(f"{name} openvino-int8: nncf_quantize.py exited {run.returncode}: "
                          f"{run.stderr.strip()[-2000:]}")
    info = json.loads(run.stdout.strip().splitlines()[-1])
    import openvino as ov
    got = np.asarray(ov.Core().compile_model(str(tmp), "CPU")(check.numpy())[0])
    note = check_reduced(name, "openvino-int8", got, reference)
    weights = tmp.with_suffix(".bin")
    os.replace(weights, out_dir / weights.name)  # the .xml is moved by export_format
    return {"note": f"NNCF {info['nncf']} post-training int8 ({info['fake_quantize']} "
                    f"FakeQuantize) over {record['images']} images; vs torch cosine "
                    f"{note['cosine']}",
            "weights_file": file_record(out_dir.parent, out_dir / weights.name),
            "quantization": {"tool": f"nncf {info['nncf']} quantize (openvino {info['openvino']})",
                             "preset": info["preset"], "vs_fp32_torch": note},
            "calibration": record}


def export_aoti(name, model, example, check, reference, tmp: Path, out_dir: Path, fmt) -> dict:
    # AOTInductor package for CUDA (tools/zoo/aoti.py); skipped where torch or the GPU cannot.
    import aoti
    return aoti.export_aoti(fmt, name, model, check, reference, tmp, SkipFormat, ExportError)


EXPORTERS = {"onnx": export_onnx, "torchscript": export_torchscript,
             "onnx-int8": export_onnx_int8, "onnx-fp16": export_onnx_fp16,
             "openvino-int8": export_openvino_int8,
             **{f: functools.partial(export_aoti, fmt=f) for f in ("aoti-fp32", "aoti-fp16", "aoti-bf16")}}


# ---------------------------------------------------------------------------------------------
# Per-model driver


def model_entry(name: str, spec: ModelSpec, params: int, seed: int) -> dict:
    shape = [spec.batch, *spec.input_shape]
    if spec.variable_hw:
        shape[2:] = [-1, -1]
    inputs = [{"name": "input", "shape": shape, "dtype": "fp32"}]
    outputs = [{"name": n, "shape": s, "dtype": d} for n, s, d in spec.outputs] or [
        {"name": "output", "shape": [-1, spec.classes], "dtype": "fp32"}]
    source = spec.source
    if source in ("torchvision", "timm"):
        source += " " + (torchvision.__version__ if source == "torchvision"
                         else __import__("timm").__version__)
    return {
        "input": inputs[0],
        "output": outputs[0],
        "inputs": inputs,
        "outputs": outputs,
        "task": spec.task,
        "source": source,
        "params": params,
        "seed": seed,
        "weights_recipe": WEIGHTS_RECIPE,
        "weights": "seeded random init; BatchNorm statistics calibrated on N(0,1) inputs",
        "files": {},
        "export_s": 0.0,
    }


def plan_formats(out: Path, entry, formats, seed, force) -> list[str]:
    todo = [f for f in formats if force or not is_up_to_date(out, entry, f, seed)]
    # The int8 and fp16 files are made from model.onnx, so that must be current first.
    if set(todo) & set(DERIVED) and "onnx" not in todo and not is_up_to_date(out, entry, "onnx", seed):
        todo.append("onnx")
    return sorted(todo, key=FORMATS.index)


def export_model(name: str, out: Path, todo, seed: int, manifest: dict) -> bool:
    """Exports the formats `todo` of one model; updates manifest["models"][name].

    Runs in a worker process of its own (see run_worker). Returns False on any failure.
    """
    spec = MODELS[name]
    old = manifest["models"].get(name)
    start = time.monotonic()
    torch.manual_seed(model_seed(seed, name))
    model = spec.build().eval()
    fill_zero_weights(model)
    # A detector's BatchNorms are its backbone's; the detector itself needs targets in train mode.
    calibrate_batchnorm(model.calibration_target() if hasattr(model, "calibration_target")
                        else model, spec.input_shape)
    params = sum(p.numel() for p in model.parameters())
    # Keep entries of formats not redone (same seed, so they describe the same weights).
    entry = model_entry(name, spec, params, seed)
    if old and old.get("seed") == seed and old.get("weights_recipe") == WEIGHTS_RECIPE:
        entry["files"] = {f: r for f, r in old.get("files", {}).items() if f not in todo}
        entry["skipped"] = {f: r for f, r in old.get("skipped", {}).items() if f not in todo}
    example = torch.randn(1, *spec.input_shape)
    check_shape = [*spec.input_shape]
    if spec.variable_hw:  # another size than the traced one, so a baked-in H/W shows up
        check_shape[1:] = [check_shape[1] - 64, check_shape[2] + 64]
    check = torch.randn(1 if spec.batch == 1 else VALIDATE_BATCH, *check_shape)
    with torch.no_grad():
        reference = as_arrays(model(check)) if spec.outputs else model(check).numpy()

    out_dir = out / name
    out_dir.mkdir(parents=True, exist_ok=True)
    ok = True
    for fmt in todo:
        ok &= export_format(name, fmt, model, example, check, reference, out, out_dir, entry)

    entry["export_s"] = round(time.monotonic() - start, 2)
    if not entry.get("skipped"):
        entry.pop("skipped", None)
    manifest["models"][name] = entry
    return ok


def export_format(name, fmt, model, example, check, reference, out, out_dir, entry) -> bool:
    final = out_dir / FILE_NAMES[fmt]
    t0 = time.monotonic()
    try:
        # Same basename in a scratch dir: torch.jit.save names the archive after the file.
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tmp-") as scratch:
            tmp = Path(scratch) / FILE_NAMES[fmt]
            note = EXPORTERS[fmt](name, model, example, check, reference, tmp, out_dir)
            extra = {}
            if isinstance(note, dict):  # an exporter may add fields to the file's record
                extra = {k: v for k, v in note.items() if k != "note"}
                note = note["note"]
            os.replace(tmp, final)
    except SkipFormat as e:
        entry.setdefault("skipped", {})[fmt] = str(e)
        final.unlink(missing_ok=True)  # a stale file would disagree with the manifest
        final.with_suffix(".bin").unlink(missing_ok=True) if final.suffix == ".xml" else None
        print(f"[{name}] {fmt}: SKIPPED ({e})", flush=True)
        return True
    except Exception as e:
        print(f"[{name}] {fmt}: FAILED after {time.monotonic() - t0:.1f}s: "
              f"{type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return False
    entry["files"][fmt] = {**file_record(out, final), **extra}
    entry.get("skipped", {}).pop(fmt, None)
    size_mb = final.stat().st_size / 1e6
    print(f"[{name}] {fmt}: {time.monotonic() - t0:.1f}s, {size_mb:.2f} MB, {note}", flush=True)
    return True


# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--models", default="default",
                   help=f"comma-separated names or groups ({', '.join(GROUPS)}); default: "
                        f"{','.join(DEFAULT_MODELS)}. Known: {','.join(MODELS)}")
    p.add_argument("--formats", default=",".join(DEFAULT_FORMATS),
                   help=f"comma-separated from {','.join(FORMATS)} (default onnx,torchscript)")
    p.add_argument("--seed", type=int, default=0, help="base seed for the random weights")
    p.add_argument("--force", action="store_true", help="re-export even if up to date")
    p.add_argument("--jobs", type=int, default=1,
                   help="models exported at once (each in its own process; default 1). For slow "
                        "compiles such as AOTInductor on a many-core machine")
    p.add_argument("--worker-result", type=Path, help=argparse.SUPPRESS)  # see run_worker
    args = p.parse_args(argv)  # argparse exits with code 2 on a malformed command line
    args.models = parse_list(",".join(",".join(GROUPS.get(m.strip(), [m])) for m in
                                      args.models.split(",")), [*MODELS, *GROUPS], "model")
    args.formats = parse_list(",".join(ALIASES.get(f.strip(), f) for f in args.formats.split(",")),
                              FORMATS, "format")
    return args


def run_worker(name: str, todo, args) -> tuple[dict | None, bool]:
    """Exports one model in a fresh interpreter; returns (its manifest entry or None, ok).

    Why a process per model: TorchScript names traced module types with a process-wide counter
    (__torch__...___torch_mangle_N), so a model traced after others would get different bytes;
    a fresh process makes each file depend only on the model, the seed and this script. It also
    returns all memory (vgg19 is ~550 MB of weights) and keeps a crash from stopping the run.
    """
    with tempfile.TemporaryDirectory() as scratch:
        result = Path(scratch) / "entry.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--out", str(args.out),
               "--models", name, "--formats", ",".join(todo), "--seed", str(args.seed),
               "--worker-result", str(result)]
        code = subprocess.run(cmd).returncode
        if not result.exists():
            print(f"[{name}] FAILED: worker exited with code {code}", file=sys.stderr, flush=True)
            return None, False
        return json.loads(result.read_text()), code == 0


def worker_main(args) -> int:
    """The worker side of run_worker: exports the given formats of one model."""
    # With --jobs N the parent gives each worker its share of the cores.
    torch.set_num_threads(int(os.environ.get("OPTIC_EXPORT_THREADS", os.cpu_count() or 1)))
    (name,) = args.models
    manifest = load_manifest(args.out / "manifest.json")  # the parent keeps it current
    ok = export_model(name, args.out, args.formats, args.seed, manifest)
    args.worker_result.write_text(json.dumps(manifest["models"][name]))
    return 0 if ok else 1


def with_header(manifest: dict, seed: int) -> dict:
    return {"schema": SCHEMA, "generator": GENERATOR, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "seed": seed, "models": manifest["models"]}


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as e:
        print(f"optic models export: {e}", file=sys.stderr)
        return 2
    if args.worker_result:
        return worker_main(args)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "manifest.json"
    manifest = with_header(load_manifest(manifest_path), args.seed)
    # Written before each worker starts (workers read their model's old entry from it) and
    # after each model, so an interrupted run keeps what it finished.
    write_manifest(manifest_path, manifest)

    if args.jobs < 1:
        print("--jobs: must be >= 1", file=sys.stderr)
        return 2
    if args.jobs > 1:
        os.environ["OPTIC_EXPORT_THREADS"] = str(max(1, (os.cpu_count() or 1) // args.jobs))
    plans = []
    for name in args.models:
        todo = plan_formats(args.out, manifest["models"].get(name), args.formats, args.seed,
                            args.force)
        for fmt in args.formats:
            if fmt not in todo:
                print(f"[{name}] {fmt}: up to date, skipped", flush=True)
        if todo:
            plans.append((name, todo))

    # Workers run in parallel; only this thread touches the manifest, as each worker finishes
    # (a worker reads its own model's old entry, which no other worker changes).
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_worker, name, todo, args): name for name, todo in plans}
        for fut in concurrent.futures.as_completed(futures):
            name = futures[fut]
            entry, ok = fut.result()
            if entry is not None:
                manifest["models"][name] = entry
                write_manifest(manifest_path, manifest)
            if not ok:
                failed.append(name)

    if failed:
        print(f"export failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The zoo's reduced-precision files on tiny_cnn (seconds): onnxruntime static QDQ int8, NNCF
int8 OpenVINO IR, fp16 ONNX; the calibration set recorded in the manifest; damaged calibration
photos and a missing NNCF environment are errors that name what to do.

Run: .venv/bin/python -m pytest -q tests/python/test_quantize.py
"""
import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

REPO = Path(__file__).resolve().parents[2]
ZOO_TOOLS = REPO / "tools" / "zoo"
sys.path.insert(0, str(ZOO_TOOLS))
import calibration  # noqa: E402


def load_export_module():
    spec = importlib.util.spec_from_file_location("zoo_export_q", ZOO_TOOLS / "export.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


export = load_export_module()
FORMATS = "onnx,onnx-int8,onnx-fp16,openvino-int8"


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    if not export.NNCF_PYTHON.is_file():
        pytest.fail(f"{export.NNCF_PYTHON} is missing: run scripts/setup.sh")
    out = tmp_path_factory.mktemp("zoo")
    assert export.main(["--out", str(out), "--models", "tiny_cnn", "--formats", FORMATS]) == 0
    return out


def entry(zoo):
    return json.loads((zoo / "manifest.json").read_text())["models"]["tiny_cnn"]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_every_file_is_in_the_manifest_with_its_sha256(zoo):
    files = entry(zoo)["files"]
    for fmt, name in [("onnx-int8", "model.int8.onnx"), ("onnx-fp16", "model.fp16.onnx"),
                      ("openvino-int8", "model.int8.xml")]:
        record = files[fmt]
        assert record["path"] == f"tiny_cnn/{name}"
        assert record["sha256"] == sha256(zoo / record["path"])
    weights = files["openvino-int8"]["weights_file"]
    assert weights["path"] == "tiny_cnn/model.int8.bin"
    assert weights["sha256"] == sha256(zoo / weights["path"])


def test_calibration_set_is_recorded(zoo):
    for fmt in ("onnx-int8", "openvino-int8"):
        record = entry(zoo)["files"][fmt]["calibration"]
        assert record["images"] == len(calibration.PHOTOS) + calibration.SYNTHETIC
        assert [Path(p["file"]).name for p in record["photos"]] == list(calibration.PHOTOS)
        for p in record["photos"]:
            assert p["sha256"] == sha256(p["file"])
        assert record["synthetic"]["seed"] == calibration.SYNTHETIC_SEED
        assert record["input_shape"] == [3, 32, 32]
    # Both quantizers saw the same images.
    files = entry(zoo)["files"]
    assert files["onnx-int8"]["calibration"]["sha256"] == \
        files["openvino-int8"]["calibration"]["sha256"]


def test_calibration_set_is_deterministic():
    a, ra = calibration.calibration_set(16, 16)
    b, rb = calibration.calibration_set(16, 16)
    assert a.shape == (32, 3, 16, 16) and a.dtype == np.float32
    assert np.array_equal(a, b) and ra["sha256"] == rb["sha256"]
    assert 0.5 < float(a.std()) < 2.0  # normalised, not raw 0..255


def test_int8_onnx_is_static_qdq_with_per_channel_weights(zoo):
    model = onnx.load(str(zoo / "tiny_cnn" / "model.int8.onnx"))
    ops = [n.op_type for n in model.graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    assert "DynamicQuantizeLinear" not in ops  # static: activation scales fixed by calibration
    init = {t.name: t for t in model.graph.initializer}
    # Per-channel: a Conv weight's DequantizeLinear has one scale per output channel.
    per_channel = [n for n in model.graph.node if n.op_type == "DequantizeLinear"
                   and n.input[1] in init and len(init[n.input[1]].dims) == 1
                   and init[n.input[1]].dims[0] > 1]
    assert per_channel
    io = [i.type.tensor_type.elem_type for i in [*model.graph.input, *model.graph.output]]
    assert io == [onnx.TensorProto.FLOAT] * 2


def test_fp16_onnx_keeps_fp32_inputs_and_outputs(zoo):
    model = onnx.load(str(zoo / "tiny_cnn" / "model.fp16.onnx"))
    types = {t.data_type for t in model.graph.initializer}
    assert onnx.TensorProto.FLOAT16 in types and onnx.TensorProto.FLOAT not in types
    io = [i.type.tensor_type.elem_type for i in [*model.graph.input, *model.graph.output]]
    assert io == [onnx.TensorProto.FLOAT] * 2


def test_openvino_ir_has_fake_quantize_and_agrees(zoo):
    text = (zoo / "tiny_cnn" / "model.int8.xml").read_text()
    assert 'type="FakeQuantize"' in text
    note = entry(zoo)["files"]["openvino-int8"]["quantization"]["vs_fp32_torch"]
    assert note["cosine"] > 0.99


def test_damaged_calibration_photo_names_the_file(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in calibration.PHOTOS:
        shutil.copy(calibration.PHOTO_DIR / name, photos / name)
    broken = photos / calibration.PHOTOS[3]
    broken.write_bytes(broken.read_bytes()[:200])
    with pytest.raises(calibration.CalibrationError, match=str(broken)):
        calibration.calibration_set(32, 32, photo_dir=photos)
    (photos / calibration.PHOTOS[0]).unlink()
    with pytest.raises(calibration.CalibrationError, match="opencv-doc"):
        calibration.calibration_set(32, 32, photo_dir=photos)


def test_missing_nncf_environment_fails_and_says_what_to_run(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("OPTIC_NNCF_PYTHON", str(tmp_path / "no-venv" / "python"))
    out = tmp_path / "zoo"
    assert export.main(["--out", str(out), "--models", "tiny_cnn", "--formats",
                        "openvino-int8"]) == 1
    err = capfd.readouterr().err  # printed by the worker process
    assert "no-venv" in err and "scripts/setup.sh" in err
    assert not (out / "tiny_cnn" / "model.int8.xml").exists()

"""The sweep's reference outputs on a user's model file: one reference per input shape in one
results file, and integer and varying-length outputs (a detector's labels and boxes) judged.

Run: .venv/bin/python -m pytest tests/python/test_parity_reference.py
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
OPTIC = Path(os.environ.get("OPTIC_BIN", REPO / "build" / "optic"))
SHORT = ["--duration-s", "0.1", "--max-duration-s", "0.4", "--warmup-ms", "0", "--scenario", "offline",
         "--precision", "fp32", "--backends", "onnxruntime,openvino", "--reference", "onnxruntime"]

pytestmark = pytest.mark.skipif(not OPTIC.exists(), reason=f"{OPTIC} not built")


class Dense(torch.nn.Module):
    """A segmenter's shape: output at the input's height and width."""

    def __init__(self):
        super().__init__()
        self.down = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.head = torch.nn.Conv2d(4, 3, 1)

    def forward(self, image):
        z = torch.relu(self.down(image))
        return self.head(torch.nn.functional.interpolate(z, size=image.shape[-2:], mode="bilinear",
                                                         align_corners=False))


class Labels(torch.nn.Module):
    """Scores [N, 3, H, W], int64 labels [N, H, W] (their argmax) and the scores above 0.5, whose
    count varies with the image (as a detector's boxes do)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, image):
        s = self.conv(image)
        return s, s.argmax(dim=1), s[s > 0.5]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("refs")
    torch.manual_seed(0)
    torch.onnx.export(Dense().eval(), torch.randn(1, 3, 16, 16), str(d / "dense.onnx"),
                      input_names=["image"], output_names=["mask"], opset_version=13,
                      dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "mask": {0: "N", 2: "H", 3: "W"}})
    torch.onnx.export(Labels().eval(), torch.randn(1, 3, 16, 16), str(d / "labels.onnx"),
                      input_names=["image"], output_names=["scores", "labels", "picked"], opset_version=13,
                      dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "scores": {0: "N", 2: "H", 3: "W"},
                                    "labels": {0: "N", 1: "H", 2: "W"}, "picked": {0: "K"}})
    return d


def bench(model, size, out, *extra):
    p = subprocess.run([str(OPTIC), "bench", str(model), "--shape", f"image=1x3x{size}x{size}",
                        "--out", str(out), *SHORT, *extra], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return [json.loads(line) for line in Path(out).read_text().splitlines() if line]


def assert_verdicts(rs):
    assert rs
    for r in rs:
        assert r["status"] == "ok", (r["cell_id"], r["error"])
        assert r.get("parity_error") is None, (r["cell_id"], r.get("parity_error"))
        assert r.get("parity_pass") is True, (r["cell_id"], r.get("parity_failure"))


def test_each_input_shape_gets_its_own_reference(models, tmp_path):
    out = tmp_path / "rows.jsonl"
    bench(models / "dense.onnx", 24, out, "--batch", "1")
    rs = bench(models / "dense.onnx", 40, out, "--batch", "1")
    assert sorted(r["input_shapes"]["image"]["shape"][2] for r in rs) == [24, 24, 40, 40]
    assert_verdicts(rs)
    refs = sorted((tmp_path / "rows.ref").glob("*.ref"))
    assert len(refs) == 2, refs
    keyed = sorted(json.loads(f.open("rb").readline())["key"]["shapes"]["image"][2] for f in refs)
    assert keyed == [24, 40]


def test_a_cached_reference_of_other_inputs_is_recomputed(models, tmp_path):
    """A file under the name a reference would have but holding another's outputs (a stale or
    hand-copied cache) is not read: its header's key is not the sweep's."""
    out = tmp_path / "rows.jsonl"
    bench(models / "dense.onnx", 24, out, "--batch", "1")
    bench(models / "dense.onnx", 40, out, "--batch", "1")
    by_size = {json.loads(f.open("rb").readline())["key"]["shapes"]["image"][2]: f
               for f in (tmp_path / "rows.ref").glob("*.ref")}
    shutil.copyfile(by_size[24], by_size[40])
    out.unlink()
    assert_verdicts(bench(models / "dense.onnx", 40, out, "--batch", "1"))
    assert json.loads(by_size[40].open("rb").readline())["key"]["shapes"]["image"][2] == 40


def test_integer_and_varying_length_outputs_get_a_verdict(models, tmp_path):
    rs = bench(models / "labels.onnx", 20, tmp_path / "rows.jsonl", "--batch", "1,2")
    assert {(r["backend"], r["batch_size"]) for r in rs} == {(b, n) for b in ("onnxruntime", "openvino")
                                                            for n in (1, 2)}
    assert_verdicts(rs)
    assert all(r["parity_samples"] == 32 for r in rs)
    ref = next((tmp_path / "rows.ref").glob("labels-*-b2-*.ref"))
    header = json.loads(ref.open("rb").readline())
    assert [(o["name"], o["dtype"]) for o in header["outputs"]] == [
        ("scores", "fp32"), ("labels", "int64"), ("picked", "fp32")]
    assert len({tuple(p) for p in header["outputs"][2]["parts"]}) > 1  # the count varies

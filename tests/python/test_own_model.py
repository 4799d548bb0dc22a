"""A user's own model files through optic bench: models made here with torch (never in the zoo).

The two-input model has an image with variable height and width, an int64 index input feeding an
embedding (random 64-bit values would index out of its 100 rows) and two outputs.

Run: .venv/bin/python -m pytest tests/python/test_own_model.py
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
OPTIC = Path(os.environ.get("OPTIC_BIN", REPO / "build" / "optic"))
SHORT = ["--duration-s", "0.1", "--max-duration-s", "0.4", "--warmup-ms", "0", "--scenario", "offline"]

pytestmark = pytest.mark.skipif(not OPTIC.exists(), reason=f"{OPTIC} not built")


class TwoInputs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(100, 8)
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, image, ids):
        f = self.conv(image).mean(dim=(2, 3))
        e = self.emb(ids).mean(dim=1)
        return f + e, (f * e).sum(dim=1, keepdim=True)


@pytest.fixture(scope="module")
def two_onnx(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("own") / "two.onnx"
    torch.onnx.export(TwoInputs().eval(), (torch.randn(1, 3, 32, 32), torch.randint(0, 100, (1, 5))),
                      str(path), input_names=["image", "ids"], output_names=["scores", "dot"],
                      dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "ids": {0: "N"},
                                    "scores": {0: "N"}, "dot": {0: "N"}}, opset_version=13)
    return path


def optic(*args, cwd):
    return subprocess.run([str(OPTIC), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def rows(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line]


def check_rows(rs, model_file):
    assert rs, "no rows"
    backends = {r["backend"] for r in rs}
    assert {"onnxruntime", "openvino", "torch"} <= backends
    for r in rs:
        assert r["status"] in ("ok", "unsupported"), (r["cell_id"], r["error"])
        assert r["source_file"] == str(Path(model_file).resolve())
        assert len(r["source_sha256"]) == 64
        if r["status"] == "unsupported":
            assert r["error"], r["cell_id"]
        if r["backend"] in ("onnxruntime", "openvino"):
            assert r["status"] == "ok", (r["cell_id"], r["error"])
            assert r["converted_by"] is None  # reads ONNX natively


def test_bench_two_inputs_variable_hw(two_onnx, tmp_path):
    out = tmp_path / "r.jsonl"
    p = optic("bench", two_onnx, "--batch", "2", "--shape", "image=1x3x40x48", "--out", out, *SHORT,
              cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    rs = rows(out)
    check_rows(rs, two_onnx)
    for r in rs:
        if r["status"] != "ok":
            continue
        assert r["input_shapes"] == {"image": {"dtype": "fp32", "shape": [2, 3, 40, 48]},
                                     "ids": {"dtype": "int64", "shape": [2, 5]}}
        # Every output compared with the reference (fp32 rows agree to rounding).
        if r["precision"] == "fp32":
            assert r["rel_l2_err"] is not None and r["rel_l2_err"] < 1e-4, r["cell_id"]
    v = optic("bench", "--validate", out, cwd=tmp_path)
    assert v.returncode == 0, v.stdout


def test_bench_index_range_out_of_table_is_a_row_not_a_crash(two_onnx, tmp_path):
    # ids beyond the embedding's 100 rows: each framework reports it as it does, never a sweep crash.
    out = tmp_path / "r.jsonl"
    p = optic("bench", two_onnx, "--backends", "onnxruntime", "--batch", "1", "--shape",
              "image=1x3x16x16", "--input-range", "ids=0:99", "--out", out, *SHORT, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert all(r["status"] == "ok" for r in rows(out))


class Dense(torch.nn.Module):
    """Encoder-decoder with a skip: the upsample takes the skip's size, which a trace records as
    constants, so a TorchScript trace holds only the size it was traced at."""

    def __init__(self):
        super().__init__()
        self.down = torch.nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.skip = torch.nn.Conv2d(3, 16, 1)
        self.head = torch.nn.Conv2d(16, 2, 3, padding=1)

    def forward(self, image):
        z = torch.relu(self.down(image))
        s = self.skip(image)
        up = torch.nn.functional.interpolate(z, size=s.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(torch.relu(s + up))


@pytest.fixture(scope="module")
def dense_onnx(tmp_path_factory):
    torch.manual_seed(2)
    path = tmp_path_factory.mktemp("dense") / "dense.onnx"
    torch.onnx.export(Dense().eval(), torch.randn(1, 3, 64, 64), str(path), input_names=["image"],
                      output_names=["mask"], dynamic_axes={"image": {0: "N", 2: "H", 3: "W"},
                                                           "mask": {0: "N", 2: "H", 3: "W"}},
                      opset_version=13)
    return path


def test_bench_converts_at_the_shape_given(dense_onnx, tmp_path):
    """torch reads no ONNX: its file is converted, traced at --shape's size (not a default 224),
    so its rows run at that size and agree with onnxruntime's."""
    out = tmp_path / "r.jsonl"
    env_cache = tmp_path / "cache"
    p = subprocess.run([str(OPTIC), "bench", str(dense_onnx), "--shape", "image=1x3x72x96",
                        "--backends", "torch,onnxruntime", "--batch", "1,2", "--precision", "fp32",
                        "--out", str(out), *SHORT], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600, env={**os.environ, "OPTIC_CONVERT_CACHE": str(env_cache)})
    assert p.returncode == 0, p.stdout + p.stderr
    rs = rows(out)
    assert {r["backend"] for r in rs} == {"torch", "onnxruntime"}
    for r in rs:
        assert r["status"] == "ok", (r["cell_id"], r["error"])
        assert r["input_shapes"]["image"]["shape"][1:] == [3, 72, 96], r["input_shapes"]
        assert r["parity_pass"] is True, (r["cell_id"], r.get("parity_failure"), r.get("parity_error"))
        assert r["rel_l2_err"] < 1e-4, r["cell_id"]
    torch_rows = [r for r in rs if r["backend"] == "torch"]
    assert len(torch_rows) == 2
    assert all(r["converted_by"].startswith("onnx2torch") for r in torch_rows)
    # The conversion was traced at the given size; its sidecar fixes the dims it holds.
    traced = [json.loads(i.read_text()) for i in env_cache.glob("*/info.json")]
    assert [t["traced_shapes"] for t in traced] == [[[1, 3, 72, 96]]], traced


@pytest.mark.parametrize("args,needle", [
    ([], "input 'image' has variable dims [-1,3,-1,-1]: set them with --shape image=Nx3xHxW"),
    (["--shape", "img=1x3x8x8"], "--shape names input 'img', which the model does not have (its inputs: image"),
    (["--shape", "image=1x4x8x8"], "dim 1 is 4 but the model fixes it at 3"),
    (["--shape", "image=1x3x8", ], "3 dims given, the input has 4"),
    (["--input-range", "ids=5:1"], "low 5 is above high 1"),
])
def test_bench_input_errors(two_onnx, tmp_path, args, needle):
    p = optic("bench", two_onnx, "--out", tmp_path / "r.jsonl", *args, cwd=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert needle in p.stderr, p.stderr
    assert not (tmp_path / "r.jsonl").exists() or not rows(tmp_path / "r.jsonl")


def test_bench_bad_files(tmp_path):
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "corrupt.onnx").write_bytes(b"this is not a protobuf" * 10)
    (tmp_path / "dir.onnx").mkdir()
    cases = {
        "empty.onnx": "is empty (0 bytes)",
        "corrupt.onnx": "cannot read the inputs and outputs of 'corrupt.onnx'",
        "dir.onnx": "is a directory, not a model file",
        "missing.onnx": "does not exist",
        "model.weird": "unknown extension '.weird'",
    }
    (tmp_path / "model.weird").write_bytes(b"x")
    for name, needle in cases.items():
        p = optic("bench", name, "--out", tmp_path / "r.jsonl", cwd=tmp_path)
        assert p.returncode == 2, (name, p.stdout, p.stderr)
        assert needle in p.stderr, (name, p.stderr)


def test_bench_a_torchvision_model_the_zoo_never_saw(tmp_path):
    """One command, no hand-written files: a seeded resnet18 exported to ONNX, on every backend."""
    import torchvision
    torch.manual_seed(1)
    model = torchvision.models.resnet18(num_classes=1000).eval()
    path = tmp_path / "resnet18.onnx"
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), str(path), input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      opset_version=13)
    out = tmp_path / "r.jsonl"
    p = optic("bench", path, "--batch", "1", "--precision", "fp32", "--out", out, *SHORT, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    rs = rows(out)
    check_rows(rs, path)
    ok = [r for r in rs if r["status"] == "ok"]
    for r in ok:
        assert r["parity_pass"] is True, (r["cell_id"], r.get("parity_failure"), r.get("parity_error"))
        assert r["top1_agreement"] is not None  # class scores: top-k agreement measured


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_predict_two_inputs_two_outputs(two_onnx, tmp_path, backend):
    p = optic("predict", "--backend", backend, "--file", two_onnx, "--shape", "image=1x3x20x24",
              "--rows", "3", "--batch", "2", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "image fp32[3, 3, 20, 24]" in p.stdout and "ids int64[3, 5]" in p.stdout, p.stdout
    assert "scores fp32[3, 8]" in p.stdout and "dot fp32[3, 1]" in p.stdout, p.stdout


def test_predict_input_errors(two_onnx, tmp_path):
    p = optic("predict", "--backend", "onnxruntime", "--file", two_onnx, cwd=tmp_path)
    assert p.returncode == 2
    assert "set them with --shape image=Nx3xHxW" in p.stderr, p.stderr
    p = optic("predict", "--backend", "onnxruntime", "--file", two_onnx, "--shape", "x=1x3x8x8", cwd=tmp_path)
    assert p.returncode == 2
    assert "which the model does not have (its inputs: image" in p.stderr, p.stderr
    (tmp_path / "empty.onnx").write_bytes(b"")
    p = optic("predict", "--backend", "onnxruntime", "--file", tmp_path / "empty.onnx", cwd=tmp_path)
    assert p.returncode == 2 and "is empty (0 bytes)" in p.stderr, p.stderr


def test_parity_every_output_on_every_backend(two_onnx, tmp_path):
    p = optic("parity", "--model", two_onnx, "--shape", "image=1x3x24x24", "--precision", "fp32",
              "--samples", "8", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    for backend in ("onnxruntime", "openvino", "torch"):
        line = next(l for l in p.stdout.splitlines() if l.startswith(backend))
        assert line.endswith(("pass", "reference")) or "unsupported: " in line, line
    p = optic("parity", "--model", two_onnx, cwd=tmp_path)
    assert p.returncode == 2 and "set them with --shape image=Nx3xHxW" in p.stderr, p.stderr


# --input-data: .npy / .npz files of input values.

def output_sums(stdout):
    import re
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"(\w+) fp32\[[^\]]*\] cpu \w+ sum (\S+?)[;:]?(?:\s|$)", stdout)}


@pytest.fixture(scope="module")
def two_data(tmp_path_factory):
    import numpy as np
    rng = np.random.default_rng(3)
    d = tmp_path_factory.mktemp("data")
    image = rng.uniform(-1, 1, (3, 3, 20, 24)).astype(np.float32)
    ids = rng.integers(0, 100, (3, 5)).astype(np.int64)
    np.savez(d / "two.npz", image=image, ids=ids)
    np.savez_compressed(d / "two_deflated.npz", image=image, ids=ids)
    return d, image, ids


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
@pytest.mark.parametrize("name", ["two.npz", "two_deflated.npz"])
def test_predict_input_data_gives_the_outputs_of_those_values(two_onnx, two_data, tmp_path, backend, name):
    import onnxruntime as ort
    d, image, ids = two_data
    want = ort.InferenceSession(str(two_onnx), providers=["CPUExecutionProvider"]).run(
        None, {"image": image, "ids": ids})
    p = optic("predict", "--backend", backend, "--file", two_onnx, "--input-data", d / name,
              "--batch", "2", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "image fp32[3, 3, 20, 24]" in p.stdout and "ids int64[3, 5]" in p.stdout, p.stdout
    sums = output_sums(p.stdout)
    assert sums["scores"] == pytest.approx(float(want[0].sum()), rel=1e-4, abs=1e-3), p.stdout
    assert sums["dot"] == pytest.approx(float(want[1].sum()), rel=1e-4, abs=1e-3), p.stdout
    seeded = optic("predict", "--backend", backend, "--file", two_onnx, "--shape", "image=1x3x20x24",
                   "--rows", "3", cwd=tmp_path)
    assert output_sums(seeded.stdout)["scores"] != sums["scores"]  # the file's values were used


def test_predict_npy_for_one_input(dense_onnx, tmp_path):
    import numpy as np
    import onnxruntime as ort
    x = np.random.default_rng(4).uniform(-1, 1, (2, 3, 40, 56)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    want = ort.InferenceSession(str(dense_onnx), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    p = optic("predict", "--backend", "onnxruntime", "--file", dense_onnx, "--input-data",
              tmp_path / "x.npy", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert output_sums(p.stdout)["mask"] == pytest.approx(float(want.sum()), rel=1e-4, abs=1e-3)


def test_parity_and_bench_take_input_data(two_onnx, two_data, tmp_path):
    d, image, ids = two_data
    p = optic("parity", "--model", two_onnx, "--input-data", d / "two.npz", "--precision", "fp32",
              cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3 samples in batches of 2, " + str(d / "two.npz") in p.stdout, p.stdout
    out = tmp_path / "r.jsonl"
    p = optic("bench", two_onnx, "--input-data", d / "two.npz", "--backends", "onnxruntime,torch",
              "--batch", "2,4", "--precision", "fp32", "--out", out, *SHORT, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    rs = rows(out)
    assert len(rs) == 4
    for r in rs:
        assert r["status"] == "ok", (r["cell_id"], r["error"])
        assert r["input_data"] == str(d / "two.npz")
        b = r["batch_size"]  # the file's 3 rows tiled (4) or sliced (2) to the batch
        assert r["input_shapes"] == {"image": {"dtype": "fp32", "shape": [b, 3, 20, 24]},
                                     "ids": {"dtype": "int64", "shape": [b, 5]}}, r["input_shapes"]
        assert r["parity_pass"] is True, (r["cell_id"], r.get("parity_failure"), r.get("parity_error"))
    assert optic("bench", "--validate", out, cwd=tmp_path).returncode == 0


def damaged_files(d, image, ids):
    import numpy as np
    np.savez(d / "missing.npz", image=image)
    np.savez(d / "extra.npz", image=image, ids=ids, mask=ids)
    np.savez(d / "int32.npz", image=image, ids=ids.astype(np.int32))
    np.savez(d / "shape.npz", image=image[:, :2], ids=ids)
    np.savez(d / "rows.npz", image=image, ids=ids[:2])
    np.savez(d / "fortran.npz", image=np.asfortranarray(image), ids=ids)
    good = (d / "two.npz").read_bytes()
    (d / "truncated.npz").write_bytes(good[: len(good) // 2])
    (d / "magic.npz").write_bytes(b"XX" + good[2:])
    # A flipped byte inside the stored image data: the entry's CRC no longer matches.
    flipped = bytearray(good)
    at = good.index(b"NUMPY") + 400
    flipped[at] ^= 0xFF
    (d / "crc.npz").write_bytes(bytes(flipped))
    import io
    import zipfile
    with zipfile.ZipFile(d / "notnpy.npz", "w") as z:
        for name, a in (("image", image), ("ids", ids)):
            buf = io.BytesIO()
            np.save(buf, a)
            z.writestr(name + ".npy", buf.getvalue())
        z.writestr("readme.txt", b"hello")
    (d / "badheader.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}   \n")


@pytest.mark.parametrize("name,needle", [
    ("missing.npz", "has no array for input 'ids' (it holds: image"),
    ("extra.npz", "has array 'mask', which is no input of the model"),
    ("int32.npz", "input 'ids': the model takes int64, the file gives int32: save x.astype(numpy.int64)"),
    ("shape.npz", "input 'image': the model takes [-1,3,-1,-1] (-1: any; the first dim is the rows), "
                  "the file gives [3,2,20,24]"),
    ("rows.npz", "arrays have different row counts"),
    ("fortran.npz", "entry 'image.npy' is in Fortran (column-major) order"),
    ("truncated.npz", "is not a readable .npz (zip) archive"),
    ("magic.npz", "is not a readable .npz (zip) archive"),
    ("crc.npz", "is damaged (CRC error)"),
    ("notnpy.npz", "entry 'readme.txt' is no .npy array"),
    ("badheader.npy", "is a .npy (one array), the model has 2 inputs"),
    ("absent.npz", "no such file"),
])
def test_damaged_input_data_is_a_clear_error(two_onnx, two_data, tmp_path, name, needle):
    d, image, ids = two_data
    if not (d / "missing.npz").exists():
        damaged_files(d, image, ids)
    for args in (["predict", "--backend", "onnxruntime", "--file", two_onnx],
                 ["parity", "--model", two_onnx],
                 ["bench", two_onnx, "--out", tmp_path / "r.jsonl"]):
        p = optic(*args, "--input-data", d / name, cwd=tmp_path)
        assert p.returncode == 2, (args[0], p.stdout, p.stderr)
        assert needle in p.stderr, (args[0], p.stderr)
        assert str(d / name) in p.stderr or name in p.stderr, (args[0], p.stderr)
    assert not (tmp_path / "r.jsonl").exists()


def test_damaged_npy_header_for_one_input(dense_onnx, tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}   \n")
    p = optic("predict", "--backend", "onnxruntime", "--file", dense_onnx, "--input-data",
              tmp_path / "bad.npy", cwd=tmp_path)
    assert p.returncode == 2
    assert "input 'image' fp32 [-1, 3, -1, -1]: '" in p.stderr and "damaged .npy header" in p.stderr, p.stderr


class HardActivations(torch.nn.Module):
    """MobileNet-V3's activations on channel counts that are no multiple of 16 (libtorch's
    oneDNN element-wise ops answer those wrongly after optimize_for_inference)."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.mid = torch.nn.Conv2d(8, 24, 1)
        self.se = torch.nn.Conv2d(24, 24, 1)
        self.head = torch.nn.Conv2d(24, 4, 1)

    def forward(self, image):
        x = torch.nn.functional.hardswish(self.stem(image))
        x = torch.nn.functional.relu6(self.mid(x))
        x = x * torch.nn.functional.hardsigmoid(self.se(x))
        return self.head(x)


def test_torch_agrees_on_hard_activations(tmp_path):
    torch.manual_seed(5)
    path = tmp_path / "hard.onnx"
    torch.onnx.export(HardActivations().eval(), torch.randn(1, 3, 32, 32), str(path),
                      input_names=["image"], output_names=["out"],
                      dynamic_axes={"image": {0: "N"}, "out": {0: "N"}}, opset_version=14)
    out = tmp_path / "r.jsonl"
    p = subprocess.run([str(OPTIC), "bench", str(path), "--backends", "torch,onnxruntime", "--batch", "2",
                        "--precision", "fp32", "--out", str(out), *SHORT], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "OPTIC_CONVERT_CACHE": str(tmp_path / "cache")})
    assert p.returncode == 0, p.stdout + p.stderr
    rs = rows(out)
    assert {r["backend"] for r in rs} == {"torch", "onnxruntime"}
    for r in rs:
        assert r["status"] == "ok", (r["cell_id"], r["error"])
        assert r["parity_pass"] is True, (r["cell_id"], r.get("parity_failure"))


# --images DIR [--labels FILE]: JPEG folders through the zoo's ImageNet preprocessing.

class MeanColour(torch.nn.Module):
    """Class c scores the mean of channel c: a red image is class 0, green 1, blue 2, after
    ImageNet normalisation too (so the expected accuracy is known)."""

    def forward(self, image):
        return image.mean(dim=(2, 3))


@pytest.fixture(scope="module")
def colour_onnx(tmp_path_factory):
    path = tmp_path_factory.mktemp("colour") / "colour.onnx"
    torch.onnx.export(MeanColour().eval(), torch.randn(1, 3, 224, 224), str(path), input_names=["image"],
                      output_names=["scores"], dynamic_axes={"image": {0: "N"}, "scores": {0: "N"}},
                      opset_version=13)
    return path


def colour_folder(root):
    from PIL import Image
    colours = {"red": (230, 20, 20), "green": (20, 230, 20), "blue": (20, 20, 230)}
    for name in colours:
        (root / name).mkdir(parents=True)
    for i, (name, rgb) in enumerate([("red", "red"), ("red", "red"), ("green", "green"), ("blue", "blue"),
                                     ("green", "red")]):  # the last is a red image filed as green
        Image.new("RGB", (300 + 10 * i, 260), colours[rgb]).save(root / name / f"{i}.jpg", quality=90)
    (root.parent / "labels.txt").write_text("red\ngreen\nblue\n")
    return root, root.parent / "labels.txt"


def test_images_with_labels_give_accuracy(colour_onnx, tmp_path):
    images, labels = colour_folder(tmp_path / "images")
    p = optic("predict", "--backend", "onnxruntime", "--file", colour_onnx, "--images", images,
              "--labels", labels, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "image fp32[5, 3, 224, 224]" in p.stdout, p.stdout
    assert "accuracy on 5 labelled images: top1 0.8000 top5 1.0000" in p.stdout, p.stdout
    p = optic("parity", "--model", colour_onnx, "--images", images, "--labels", labels,
              "--precision", "fp32", "--backends", "onnxruntime,openvino", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "accuracy on 5 labelled images" in p.stdout, p.stdout
    for backend in ("onnxruntime", "openvino"):
        assert f"{backend:<12} fp32  top1 0.8000 top5 1.0000" in p.stdout, p.stdout
    # Without labels: a flat folder, no accuracy.
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in (images / "red").iterdir():
        (flat / f.name).write_bytes(f.read_bytes())
    p = optic("predict", "--backend", "onnxruntime", "--file", colour_onnx, "--images", flat, cwd=tmp_path)
    assert p.returncode == 0 and "image fp32[2, 3, 224, 224]" in p.stdout and "accuracy" not in p.stdout, p.stdout


def test_image_folder_errors(colour_onnx, two_onnx, tmp_path):
    images, labels = colour_folder(tmp_path / "images")
    (images / "cat").mkdir()
    (images / "cat" / "x.jpg").write_bytes((images / "red" / "0.jpg").read_bytes())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ok.jpg").write_bytes((images / "red" / "0.jpg").read_bytes())
    (bad / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "empty").mkdir()
    cases = [
        ([colour_onnx, "--images", images, "--labels", labels], "folder 'cat' is no class of --labels"),
        ([colour_onnx, "--images", bad], "broken.jpg' cannot be used"),
        ([colour_onnx, "--images", tmp_path / "empty"], "holds no .jpg/.jpeg files"),
        ([colour_onnx, "--images", tmp_path / "absent"], "no such folder"),
        ([colour_onnx, "--labels", labels], "--labels names the classes of an --images folder"),
        ([two_onnx, "--images", bad], "--images feeds a model of one image input; this one has 2"),
    ]
    for args, needle in cases:
        p = optic("predict", "--backend", "onnxruntime", "--file", *args, cwd=tmp_path)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert needle in p.stderr, (args, p.stderr)
        p = optic("parity", "--model", *args, cwd=tmp_path)
        assert p.returncode == 2 and needle in p.stderr, (args, p.stderr)

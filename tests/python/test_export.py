"""Tests for tools/zoo/export.py on the tiny models.

Every model export starts a worker interpreter (~2 s of imports), so the tests share exports
where they can.

Run: .venv/bin/python -m pytest tests/python/test_export.py
"""
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "zoo" / "export.py"
TINY = ["tiny_cnn", "tiny_mlp"]


def load_export_module():
    # tools/zoo is not a package: load the script by path.
    spec = importlib.util.spec_from_file_location("zoo_export", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


export = load_export_module()


def run_export(out, *extra):
    return export.main(["--out", str(out), "--models", ",".join(TINY), *extra])


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_manifest(out):
    return json.loads((Path(out) / "manifest.json").read_text())


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """One export of the tiny models, shared by the read-only tests."""
    out = tmp_path_factory.mktemp("zoo")
    assert run_export(out) == 0
    return out


def test_manifest_fields(zoo):
    m = read_manifest(zoo)
    assert m["schema"] == 1
    assert m["generator"] == "tools/zoo/export.py"
    assert m["torch"] and m["torchvision"]
    assert m["seed"] == 0
    assert set(m["models"]) == set(TINY)

    cnn = m["models"]["tiny_cnn"]
    assert cnn["input"] == {"name": "input", "shape": [-1, 3, 32, 32], "dtype": "fp32"}
    assert cnn["output"] == {"name": "output", "shape": [-1, 10], "dtype": "fp32"}
    mlp = m["models"]["tiny_mlp"]
    assert mlp["input"]["shape"] == [-1, 3, 8, 8]
    assert mlp["output"]["shape"] == [-1, 5]
    assert mlp["params"] == 3 * 8 * 8 * 16 + 16 + 16 * 5 + 5
    assert 0 < cnn["params"] < 10_000
    assert cnn["export_s"] >= 0


@pytest.mark.parametrize("name", TINY)
def test_files_match_manifest(zoo, name):
    files = read_manifest(zoo)["models"][name]["files"]
    assert set(files) == {"onnx", "torchscript"}
    assert files["onnx"]["path"] == f"{name}/model.onnx"
    assert files["torchscript"]["path"] == f"{name}/model.pt"
    for record in files.values():
        path = zoo / record["path"]
        assert path.stat().st_size == record["bytes"]
        assert sha256(path) == record["sha256"]
    assert not list((zoo / name).glob(".tmp-*")), "scratch directory left behind"


def test_onnx_dynamic_batch_matches_torchscript(zoo):
    import onnxruntime as ort
    import torch

    x = np.random.default_rng(0).standard_normal((3, 3, 32, 32), dtype=np.float32)
    session = ort.InferenceSession(str(zoo / "tiny_cnn" / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert [o.name for o in session.get_outputs()] == ["output"]
    got = session.run(["output"], {"input": x})[0]
    with torch.no_grad():
        want = torch.jit.load(str(zoo / "tiny_cnn" / "model.pt"))(torch.from_numpy(x)).numpy()
    assert got.shape == (3, 10)  # batch 3: neither the traced 1 nor the validated 2
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_same_seed_is_byte_identical(zoo, tmp_path):
    # The fixture exported tiny_cnn before tiny_mlp; this exports it alone: the bytes must not
    # depend on what else was exported in the run (TorchScript's type-name counter).
    assert export.main(["--out", str(tmp_path / "a"), "--models", "tiny_cnn"]) == 0
    assert export.main(["--out", str(tmp_path / "b"), "--models", "tiny_cnn", "--seed", "1"]) == 0
    same = read_manifest(tmp_path / "a")["models"]["tiny_cnn"]["files"]["torchscript"]["sha256"]
    first = read_manifest(zoo)["models"]["tiny_cnn"]["files"]["torchscript"]["sha256"]
    other = read_manifest(tmp_path / "b")["models"]["tiny_cnn"]["files"]["torchscript"]["sha256"]
    assert same == first == sha256(tmp_path / "a" / "tiny_cnn" / "model.pt")
    assert other != first


def test_parallel_jobs_give_the_same_files_and_manifest(zoo, tmp_path):
    # --jobs runs the per-model workers at once; the parent alone writes the manifest, so every
    # model's entry must be there and the files must be the serial run's bytes.
    assert run_export(tmp_path, "--jobs", "2") == 0
    serial, parallel = read_manifest(zoo)["models"], read_manifest(tmp_path)["models"]
    assert sorted(parallel) == sorted(serial)
    for name, entry in serial.items():
        for fmt, rec in entry["files"].items():
            assert parallel[name]["files"][fmt]["sha256"] == rec["sha256"], (name, fmt)


def test_unknown_model_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path),
                           "--models", "tiny_cnn,resnet5"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "resnet5" in proc.stderr
    for name in ("resnet50", "vit_b_16", "tiny_cnn", "tiny_mlp"):
        assert name in proc.stderr  # the message lists the valid names
    assert not (tmp_path / "manifest.json").exists()


def test_incremental_skip_force_and_merge(zoo, tmp_path, capfd):
    out = tmp_path / "zoo"
    shutil.copytree(zoo, out)
    pt = out / "tiny_cnn" / "model.pt"
    mtime = pt.stat().st_mtime_ns
    capfd.readouterr()

    assert run_export(out) == 0
    assert capfd.readouterr().out.count("up to date, skipped") == 4
    assert pt.stat().st_mtime_ns == mtime

    pt.write_bytes(b"corrupt")  # sha256 no longer matches: only this file is redone
    assert run_export(out) == 0
    log = capfd.readouterr().out  # worker output too: it writes to the same file descriptors
    assert "[tiny_cnn] torchscript: " in log and log.count("up to date, skipped") == 3
    assert sha256(pt) == read_manifest(zoo)["models"]["tiny_cnn"]["files"]["torchscript"]["sha256"]

    # --force on a subset redoes only that model and keeps the others' manifest entries.
    before = read_manifest(out)["models"]["tiny_cnn"]
    assert export.main(["--out", str(out), "--models", "tiny_mlp", "--force"]) == 0
    log = capfd.readouterr().out
    assert "[tiny_mlp] onnx: " in log and "skipped" not in log
    after = read_manifest(out)
    assert set(after["models"]) == set(TINY)
    assert after["models"]["tiny_cnn"] == before
    assert not (out / "manifest.json.tmp").exists()


def test_int8_is_exported(tmp_path):
    # scripts/setup.sh installs the pinned onnx package that onnxruntime's quantizer needs.
    out = tmp_path / "zoo"
    assert export.main(["--out", str(out), "--models", "tiny_mlp", "--formats", "onnx-int8"]) == 0
    entry = read_manifest(out)["models"]["tiny_mlp"]
    assert "onnx" in entry["files"]  # made as the int8 model's source
    assert "onnx-int8" in entry["files"] and not entry.get("skipped")
    assert (out / "tiny_mlp" / "model.int8.onnx").is_file()


def test_int8_without_onnx_fails_and_says_what_to_install(tmp_path):
    # A machine without the onnx package: an import hook that refuses it, in the workers too.
    hook = tmp_path / "no_onnx"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import sys\n"
        "class NoOnnx:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'onnx' or name.startswith('onnx.'):\n"
        "            raise ImportError(\"No module named 'onnx'\")\n"
        "sys.meta_path.insert(0, NoOnnx())\n")
    env = {**os.environ, "PYTHONPATH": str(hook)}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "zoo"),
                           "--models", "tiny_mlp", "--formats", "onnx-int8"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "SKIPPED" not in proc.stdout
    assert "'onnx' is missing" in proc.stderr and "scripts/setup.sh" in proc.stderr, proc.stderr
    assert not (tmp_path / "zoo" / "tiny_mlp" / "model.int8.onnx").exists()


def test_unknown_model_is_one_line_with_the_known_names(tmp_path):
    for args, bad in ((["--models", "vgg"], "vgg"), (["--formats", "onnx-int4"], "onnx-int4")):
        proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), *args],
                              capture_output=True, text=True)
        assert proc.returncode == 2
        assert "usage:" not in proc.stderr, proc.stderr
        assert f"unknown {'model' if bad == 'vgg' else 'format'} '{bad}'" in proc.stderr, proc.stderr
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--models", "vgg"],
                          capture_output=True, text=True)
    assert "did you mean vgg19 or vgg16?" in proc.stderr, proc.stderr
    assert not (tmp_path / "manifest.json").exists()

"""The zoo beyond today's six: model groups, and a dense-prediction model exported with variable
height/width and its outputs, task and source in the manifest.

Run: .venv/bin/python -m pytest tests/python/test_zoo_dense.py
"""
import json

import numpy as np
import onnxruntime as ort
import pytest


def test_default_set_is_unchanged_and_groups_are_explicit(zoo_export):
    assert zoo_export.parse_args(["--out", "x"]).models == [
        "resnet50", "vgg19", "densenet201", "efficientnet_b0", "mobilenet_v2", "vit_b_16",
        "tiny_cnn", "tiny_mlp"]
    study = zoo_export.parse_args(["--out", "x", "--models", "study"]).models
    assert len(study) == 16  # the study's list less Inception v2 and ShuffleNet v1
    assert {"alexnet", "vgg16", "vgg19", "resnet18", "resnet152", "googlenet", "inception_v4",
            "mobilenet_v1", "shufflenet_v2", "squeezenet1_1"} <= set(study)
    dense = zoo_export.parse_args(["--out", "x", "--models", "dense,tiny_cnn"]).models
    assert dense == ["ssdlite320", "lraspp_mobilenet_v3", "mini_depth", "tiny_cnn"]
    assert set(zoo_export.parse_args(["--out", "x", "--models", "all"]).models) == set(zoo_export.MODELS)


@pytest.fixture(scope="module")
def depth_zoo(tmp_path_factory, zoo_export):
    out = tmp_path_factory.mktemp("zoo")
    assert zoo_export.main(["--out", str(out), "--models", "mini_depth"]) == 0
    return out


def test_manifest_records_task_source_and_io(depth_zoo):
    entry = json.loads((depth_zoo / "manifest.json").read_text())["models"]["mini_depth"]
    assert entry["task"] == "depth"
    assert "torchvision" in entry["source"]
    assert entry["inputs"] == [{"name": "input", "shape": [-1, 3, -1, -1], "dtype": "fp32"}]
    assert entry["outputs"] == [{"name": "depth", "shape": [-1, 1, -1, -1], "dtype": "fp32"}]
    assert entry["input"] == entry["inputs"][0]  # the single-tensor fields readers use today
    assert set(entry["files"]) == {"onnx", "torchscript"}


@pytest.mark.parametrize("shape", [(1, 3, 192, 256), (2, 3, 320, 224)])
def test_onnx_takes_any_height_and_width(depth_zoo, shape):
    session = ort.InferenceSession(str(depth_zoo / "mini_depth" / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    (depth,) = session.run(None, {"input": np.random.default_rng(0).standard_normal(
        shape, dtype=np.float32)})
    assert depth.shape == (shape[0], 1, shape[2], shape[3])
    assert np.all(np.isfinite(depth)) and np.all(depth > 0)  # Softplus head: inverse depth > 0

"""tools/zoo/convert.py on ONNX files torch writes: weights that torch.onnx.export shares between
layers (one initializer behind Identity nodes) still convert to TorchScript through onnx2torch.

Run: .venv/bin/python -m pytest tests/python/test_convert.py
"""
import json
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn


class SharedBias(nn.Module):
    """Two convolutions whose biases hold equal values: the exporter keeps one copy."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(4, 4, 1)
        with torch.no_grad():
            self.a.bias.zero_()
            self.b.bias.zero_()

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


@pytest.fixture()
def shared_bias_onnx(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "shared.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(SharedBias().eval(), torch.randn(1, 3, 8, 8), str(path),
                          opset_version=17, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch", 2: "h", 3: "w"}})
    import onnx
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert "Identity" in ops, f"the exporter no longer shares the bias ({ops}): test is moot"
    return path


def test_shared_weights_convert_to_torchscript(shared_bias_onnx, tmp_path, capsys, zoo_convert):
    out = tmp_path / "out"
    rc = zoo_convert.main(["convert", "--source", str(shared_bias_onnx), "--target", "torchscript",
                       "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["converted_by"].startswith("onnx2torch ")
    assert info["max_rel_err"] <= zoo_convert.REL_TOL
    assert info["variable_sizes_kept"] is True
    sidecar = json.loads((out / "model.pt.json").read_text())
    assert sidecar["inputs"] == [{"name": "input", "dtype": "fp32", "shape": [-1, 3, -1, -1]}]


def test_corrupt_onnx_is_bad_input_naming_the_file(tmp_path, capsys, zoo_convert):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    rc = zoo_convert.main(["convert", "--source", str(bad), "--target", "torchscript",
                       "--out", str(tmp_path / "out")])
    assert rc == zoo_convert.EXIT_BAD_INPUT
    assert "not a valid ONNX model" in capsys.readouterr().err


def test_cache_key_versions_change_with_the_script(tmp_path, zoo_convert, load_script):
    # A conversion (or a refusal) cached by one convert.py must not be served by an edited one.
    edited = tmp_path / "convert.py"
    edited.write_text(Path(zoo_convert.__file__).read_text() + "\n# edited\n")
    module = load_script(edited, "zoo_convert_edited")
    assert module.versions() != zoo_convert.versions()
    assert {k: v for k, v in module.versions().items() if k != "script"} == \
        {k: v for k, v in zoo_convert.versions().items() if k != "script"}

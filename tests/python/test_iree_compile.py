"""The iree backend's compile script (src/backends/iree/optic_iree_compile.py) and run module
(optic_iree.py) on small ONNX graphs made here: static shapes, fp16 conversion, weights kept out
of the module and rebuilt from the ONNX file (also under other initializer names), and the exit
codes and reasons for a damaged file and an operator IREE cannot lower.

Run: .venv/bin/python -m pytest tests/python/test_iree_compile.py
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

iree_runtime = pytest.importorskip("iree.runtime", reason="iree-base-runtime not installed")
pytest.importorskip("iree.compiler", reason="iree-base-compiler not installed")
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "src" / "backends" / "iree" / "optic_iree_compile.py"
sys.path.insert(0, str(SCRIPT.parent))
import optic_iree  # noqa: E402


def conv_net(path, weight_name="w"):
    """input [N,3,8,8] -> Conv 3x3 (4 channels) -> Relu -> GlobalAveragePool -> Flatten."""
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32), weight_name)
    b = numpy_helper.from_array(rng.normal(0, 0.1, (4,)).astype(np.float32), "b")
    nodes = [helper.make_node("Conv", ["input", weight_name, "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["output"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", 4])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return model


def compile_(onnx_path, out, *extra):
    return subprocess.run([sys.executable, str(SCRIPT), "compile", str(onnx_path), str(out),
                           "--target", "llvm-cpu", "--opt", "O2", *extra],
                          capture_output=True, text=True)


def run(vmfb, x, **kw):
    record = json.loads(Path(vmfb).with_suffix(".json").read_text())
    program = optic_iree.Program(str(vmfb), record["entry"], "cpu", 0, 1, kw.get("params"), 1,
                                 kw.get("onnx"), kw.get("param_map", record.get("param_map")))
    return program.run(x)[0][0]


def reference(model, x):
    w = numpy_helper.to_array(model.graph.initializer[0])
    b = numpy_helper.to_array(model.graph.initializer[1])
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], 4, 8, 8), np.float64)
    for i in range(8):
        for j in range(8):
            out[:, :, i, j] = np.einsum("nchw,ochw->no", xp[:, :, i:i + 3, j:j + 3], w)
    out += b[None, :, None, None]
    return np.maximum(out, 0).mean(axis=(2, 3))


def test_static_fp32_matches_numpy_and_records_its_shapes(tmp_path):
    model = conv_net(tmp_path / "net.onnx")
    r = compile_(tmp_path / "net.onnx", tmp_path / "m.vmfb", "--shape", "input=2x3x8x8")
    assert r.returncode == 0, r.stderr
    record = json.loads((tmp_path / "m.json").read_text())
    assert record["inputs"] == [["input", "fp32", [2, 3, 8, 8]]]
    assert record["outputs"] == [["output", "fp32", [2, 4]]]
    assert record["declared"]["inputs"] == [["input", "fp32", [-1, 3, 8, 8]]]
    x = np.random.default_rng(0).normal(size=(2, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(run(tmp_path / "m.vmfb", x), reference(model, x), rtol=1e-4, atol=1e-5)


def test_fp16_computes_in_fp16_with_an_fp32_interface(tmp_path):
    model = conv_net(tmp_path / "net.onnx")
    r = compile_(tmp_path / "net.onnx", tmp_path / "h.vmfb", "--shape", "input=2x3x8x8",
                 "--precision", "fp16")
    assert r.returncode == 0, r.stderr
    x = np.random.default_rng(1).normal(size=(2, 3, 8, 8)).astype(np.float32)
    y = run(tmp_path / "h.vmfb", x)
    ref = reference(model, x)
    assert y.dtype == np.float32
    err = np.linalg.norm(y - ref) / np.linalg.norm(ref)
    assert 1e-6 < err < 1e-2, f"rel_l2 {err}: fp16 rounding, neither exact fp32 nor broken"


def test_external_weights_come_from_the_onnx_file_under_other_names(tmp_path):
    conv_net(tmp_path / "net.onnx")
    r = compile_(tmp_path / "net.onnx", tmp_path / "e.vmfb", "--shape", "input=1x3x8x8",
                 "--params", "external")
    assert r.returncode == 0, r.stderr
    x = np.random.default_rng(2).normal(size=(1, 3, 8, 8)).astype(np.float32)
    from_archive = run(tmp_path / "e.vmfb", x, params=str(tmp_path / "e.irpa"))
    other = conv_net(tmp_path / "renamed.onnx", weight_name="onnx::Conv_7")  # another exporter
    from_onnx = run(tmp_path / "e.vmfb", x, onnx=str(tmp_path / "renamed.onnx"))
    np.testing.assert_array_equal(from_archive, from_onnx)
    np.testing.assert_allclose(from_onnx, reference(other, x), rtol=1e-4, atol=1e-5)
    record = json.loads((tmp_path / "e.json").read_text())
    bad = [[k, n, d, [5] + dims[1:]] for k, n, d, dims in record["param_map"]]
    with pytest.raises(ValueError, match="compiled from another graph"):
        run(tmp_path / "e.vmfb", x, onnx=str(tmp_path / "net.onnx"), param_map=bad)


def test_damaged_file_and_unlowerable_operator_are_named(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x07junk" * 10)
    r = compile_(tmp_path / "junk.onnx", tmp_path / "j.vmfb", "--shape", "input=1")
    assert r.returncode == 2 and "not a valid ONNX model" in r.stderr, r.stderr
    graph = helper.make_graph([helper.make_node("DFT", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "dft.onnx")
    r = compile_(tmp_path / "dft.onnx", tmp_path / "d.vmfb", "--shape", "x=1x4x1")
    assert r.returncode == 3, r.stderr
    assert "operator DFT" in r.stderr.strip().splitlines()[-1], r.stderr
    assert not (tmp_path / "d.vmfb").exists()
    r = compile_(tmp_path / "dft.onnx", tmp_path / "d.vmfb", "--shape", "x=2x4x1")
    assert r.returncode == 2 and "does not fit" in r.stderr, r.stderr

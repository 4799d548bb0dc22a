"""optic serve on the models users have: folders with no config.pbtxt, `--model FILE`, Triton's
standard pytorch_libtorch config, folders that cannot be served, and Triton's config defaults and
statistics fields.

Every model is made here with torch (ONNX export and TorchScript), and every inference result is
compared with torch's own forward pass on the same input. The real `optic serve` runs on free
loopback ports and is driven by tritonclient (HTTP and gRPC) and raw HTTP.
Run: OPTIC_BINARY=build/optic .venv/bin/python -m pytest tests/server/test_model_files.py
"""
import http.client
import json
import os
import pathlib
import re
import signal
import subprocess

import numpy as np
import pytest
import torch
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("OPTIC_BINARY", str(ROOT / "build" / "optic"))


def built_backends():
    if not os.path.exists(BINARY):
        return set()
    out = subprocess.run([BINARY, "backends"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line and not line[0].isspace()}


BUILT = built_backends()
needs_ort = pytest.mark.skipif("onnxruntime" not in BUILT,
                               reason="optic built without the onnxruntime backend")
needs_torch = pytest.mark.skipif("torch" not in BUILT,
                                 reason="optic built without the torch backend")


class Conv(torch.nn.Module):
    """Variable batch, height and width: no dimension but the channels is fixed."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return torch.relu(self.conv(x)).mean(dim=(2, 3))


class TwoInputs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, a, b):
        return self.fc(a * 2.0 + b)


def export_onnx(net, x, path, dynamic):
    axes = {"input": {0: "n", 2: "h", 3: "w"}, "output": {0: "n"}} if dynamic else None
    torch.onnx.export(net, x, str(path), input_names=["input"], output_names=["output"],
                      opset_version=17, dynamic_axes=axes)


LIBTORCH_CONFIG = """name: "libtorch"
platform: "pytorch_libtorch"
max_batch_size: 8
input [
  { name: "INPUT__0" data_type: TYPE_FP32 dims: [ 6 ] },
  { name: "INPUT__1" data_type: TYPE_FP32 dims: [ 6 ] }
]
output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 5 ] } ]
default_model_filename: "model.pt"
"""


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("files")
    torch.manual_seed(0)
    conv, two = Conv().eval(), TwoInputs().eval()
    repo = root / "repo"
    for d in ["auto/1", "static/1", "libtorch/1", "empty_file/1", "random_bytes/1",
              "dir_named_model/1/model.onnx", "unknown_ext/1", "nothing"]:
        (repo / d).mkdir(parents=True)
    export_onnx(conv, torch.randn(2, 3, 8, 8), repo / "auto" / "1" / "model.onnx", dynamic=True)
    export_onnx(conv, torch.randn(1, 3, 8, 8), repo / "static" / "1" / "model.onnx", dynamic=False)
    torch.jit.trace(two, (torch.randn(2, 6), torch.randn(2, 6))).save(
        str(repo / "libtorch" / "1" / "model.pt"))
    (repo / "libtorch" / "config.pbtxt").write_text(LIBTORCH_CONFIG)
    (repo / "empty_file" / "1" / "model.onnx").write_bytes(b"")
    (repo / "random_bytes" / "1" / "model.onnx").write_bytes(
        np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (repo / "unknown_ext" / "1" / "model.tflite").write_bytes(b"TFL3")
    loose = root / "loose" / "conv_model.onnx"
    loose.parent.mkdir()
    export_onnx(conv, torch.randn(2, 3, 8, 8), loose, dynamic=True)
    return {"repo": repo, "loose": loose, "conv": conv, "two": two}


class Server:
    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--http-port", "0", "--grpc-port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://([\d.]+):(\d+), grpc ([\d.]+:\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("optic serve did not start: " + line + self.proc.stderr.read())
        self.url, self.port = f"{m.group(1)}:{m.group(2)}", int(m.group(2))
        self.grpc_url = m.group(3)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        return err


@pytest.fixture(scope="module")
def server(models):
    if not os.path.exists(BINARY):
        pytest.fail(f"optic binary {BINARY} not built (set OPTIC_BINARY)")
    s = Server("--model-repository", str(models["repo"]), "--model", f"loose={models['loose']}")
    yield s
    s.stop()


@pytest.fixture()
def client(server):
    c = httpclient.InferenceServerClient(url=server.url)
    yield c
    c.close()


def post(server, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("POST", path, body=json.dumps(body))
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data)


def infer_conv(client, model, x):
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    return client.infer(model, [inp]).as_numpy("output")


@needs_ort
def test_folder_without_config_is_completed_from_the_model(client):
    cfg = client.get_model_config("auto")
    assert cfg["backend"] == "onnxruntime" and cfg["platform"] == "onnxruntime_onnx"
    # A variable first dimension: batching on with Triton's default max_batch_size (4) and the
    # dynamic batcher with Triton's preferred_batch_size [max_batch_size].
    assert cfg["max_batch_size"] == 4
    assert cfg["dynamic_batching"]["preferred_batch_size"] == [4]
    assert cfg["dynamic_batching"]["max_queue_delay_microseconds"] == 0
    assert [(i["name"], i["data_type"], i["dims"]) for i in cfg["input"]] == \
        [("input", "TYPE_FP32", [3, -1, -1])]
    assert [(o["name"], o["data_type"], o["dims"]) for o in cfg["output"]] == \
        [("output", "TYPE_FP32", [4])]
    assert cfg["version_policy"] == {"latest": {"num_versions": 1}}
    assert [(g["name"], g["kind"], g["count"]) for g in cfg["instance_group"]] == \
        [("auto", "KIND_CPU", 1)]
    assert cfg["default_model_filename"] == "model.onnx"
    meta = client.get_model_metadata("auto")
    assert meta["platform"] == "onnxruntime_onnx"
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 3, -1, -1]}]


@needs_ort
@pytest.mark.parametrize("shape", [(1, 3, 8, 8), (3, 3, 11, 7), (4, 3, 32, 20)])
def test_variable_height_and_width_serve_with_the_request_shape(client, models, shape):
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    want = models["conv"](torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(infer_conv(client, "auto", x), want, rtol=1e-4, atol=1e-5)


@needs_ort
def test_fixed_batch_model_is_not_batched(client, models):
    cfg = client.get_model_config("static")
    assert cfg["max_batch_size"] == 0
    assert "dynamic_batching" not in cfg
    assert cfg["input"][0]["dims"] == [1, 3, 8, 8]
    x = np.random.default_rng(5).standard_normal((1, 3, 8, 8)).astype(np.float32)
    want = models["conv"](torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(infer_conv(client, "static", x), want, rtol=1e-4, atol=1e-5)


@needs_ort
def test_model_file_flag_serves_without_a_folder(client, models):
    cfg = client.get_model_config("loose")
    assert cfg["max_batch_size"] == 4
    assert cfg["default_model_filename"] == "conv_model.onnx"
    assert cfg["instance_group"][0]["name"] == "loose"
    x = np.random.default_rng(6).standard_normal((2, 3, 9, 9)).astype(np.float32)
    want = models["conv"](torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(infer_conv(client, "loose", x), want, rtol=1e-4, atol=1e-5)
    index = {e["name"]: e for e in client.get_model_repository_index()}
    assert index["loose"]["state"] == "READY"


@needs_ort
def test_model_file_flag_alone_with_default_name(models):
    s = Server("--model", str(models["loose"]))
    try:
        c = httpclient.InferenceServerClient(url=s.url)
        assert c.is_model_ready("conv_model")
        assert [e["name"] for e in c.get_model_repository_index()] == ["conv_model"]
        c.close()
    finally:
        s.stop()


@needs_torch
def test_pytorch_libtorch_config_serves_unchanged(client, models):
    cfg = client.get_model_config("libtorch")
    assert cfg["platform"] == "pytorch_libtorch"
    assert cfg["backend"] == "pytorch"
    assert [i["name"] for i in cfg["input"]] == ["INPUT__0", "INPUT__1"]
    assert [o["name"] for o in cfg["output"]] == ["OUTPUT__0"]
    assert cfg["output"][0]["dims"] == [5]
    assert cfg["default_model_filename"] == "model.pt"
    rng = np.random.default_rng(7)
    a, b = (rng.standard_normal((3, 6)).astype(np.float32) for _ in range(2))
    inputs = []
    for name, v in [("INPUT__0", a), ("INPUT__1", b)]:
        inp = httpclient.InferInput(name, list(v.shape), "FP32")
        inp.set_data_from_numpy(v)
        inputs.append(inp)
    got = client.infer("libtorch", inputs).as_numpy("OUTPUT__0")
    want = models["two"](torch.from_numpy(a), torch.from_numpy(b)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


UNSERVABLE = {
    "empty_file": r"model\.onnx' is empty \(0 bytes\)",
    "random_bytes": r"onnxruntime",
    "dir_named_model": r"is a directory, not a model file",
    "unknown_ext": r"model\.tflite, which no backend built into optic reads",
    "nothing": r"no config\.pbtxt and no numbered version folder",
}


@needs_ort
def test_folders_that_cannot_be_served_are_unavailable_with_the_reason(client, server):
    status, index = post(server, "/v2/repository/index", {})
    assert status == 200
    entries = {e["name"]: e for e in index}
    for name, pattern in UNSERVABLE.items():
        assert entries[name]["state"] == "UNAVAILABLE", name
        assert re.search(pattern, entries[name]["reason"]), (name, entries[name]["reason"])
        assert not client.is_model_ready(name)
    assert entries["auto"]["state"] == "READY"
    assert client.is_server_live()


@needs_ort
def test_empty_and_corrupt_files_say_what_is_wrong(server):
    _, index = post(server, "/v2/repository/index", {})
    reasons = {e["name"]: e["reason"] for e in index}
    for name in ["empty_file", "random_bytes"]:
        assert f"{name}/1/model.onnx" in reasons[name], reasons[name]
    # Random bytes: the backend and its parser's verdict, not a bare "failed".
    reason = reasons["random_bytes"]
    assert re.search(r"onnxruntime: cannot load .*(Protobuf|parsing|parse)", reason, re.I), reason


@needs_ort
@pytest.mark.parametrize("use_grpc", [False, True])
def test_statistics_carry_memory_usage_and_response_stats(server, models, use_grpc):
    if use_grpc:
        c = grpcclient.InferenceServerClient(url=server.grpc_url)
        stats = c.get_inference_statistics("auto", as_json=True)["model_stats"][0]
        cfg = c.get_model_config("auto", as_json=True)["config"]
        assert cfg["instance_group"][0]["name"] == "auto"
        assert cfg["version_policy"]["latest"]["num_versions"] == 1
        # Proto3 JSON leaves out empty maps; the field exists in the message.
        assert stats.get("response_stats", {}) == {}
    else:
        c = httpclient.InferenceServerClient(url=server.url)
        stats = c.get_inference_statistics("auto")["model_stats"][0]
        assert stats["response_stats"] == {}
    c.close()
    size = (models["repo"] / "auto" / "1" / "model.onnx").stat().st_size
    usage = stats["memory_usage"]
    assert len(usage) == 1
    assert usage[0]["type"] == "CPU" and int(usage[0].get("id", 0)) == 0
    assert int(usage[0]["byte_size"]) == size


@needs_ort
def test_each_unservable_folder_is_logged_with_its_reason(models):
    s = Server("--model-repository", str(models["repo"]))
    log = s.stop()
    for name, pattern in UNSERVABLE.items():
        line = next((l for l in log.splitlines() if re.search(rf"model {name}\s+UNAVAILABLE", l)),
                    None)
        assert line is not None, (name, log)
        assert re.search(pattern, line), line

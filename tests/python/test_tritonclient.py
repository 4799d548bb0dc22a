"""optic serve against Triton's own Python client (tritonclient, unchanged) and raw HTTP.

Starts the real `optic serve` on a free loopback port with a temporary model repository (null
backend models, plus tiny_cnn on ONNX Runtime when the zoo is exported), then checks health,
metadata, config, statistics, binary and JSON inference, bad-input status codes, overload 503,
dynamic batching across HTTP requests, and draining on SIGTERM.
Run: OPTIC_BINARY=build/optic .venv/bin/python -m pytest tests/python/test_tritonclient.py
"""
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("OPTIC_BINARY", str(ROOT / "build" / "optic"))
ZOO = pathlib.Path(os.environ.get("OPTIC_MODELS", ROOT / "models"))

MODELS = {
    "identity": """backend: "null" max_batch_size: 8
      parameters { key: "shape" value: { string_value: "3x4x4" } }
      dynamic_batching { }""",
    "slow": """backend: "null" max_batch_size: 1
      parameters { key: "shape" value: { string_value: "2" } }
      parameters { key: "delay_us" value: { string_value: "100000" } }
      dynamic_batching { default_queue_policy { max_queue_size: 2 } }""",
    "batched": """backend: "null" max_batch_size: 8
      parameters { key: "shape" value: { string_value: "2" } }
      dynamic_batching { preferred_batch_size: [4] max_queue_delay_microseconds: 2000000 }""",
}


def make_repository(root):
    repo = root / "repo"
    for name, config in MODELS.items():
        (repo / name / "1").mkdir(parents=True)
        (repo / name / "config.pbtxt").write_text(config)
        (repo / name / "1" / "model.null").write_text("")
    onnx = ZOO / "tiny_cnn" / "model.onnx"
    if onnx.exists():
        (repo / "tiny_cnn" / "1").mkdir(parents=True)
        shutil.copy(ROOT / "examples" / "model-repository" / "tiny_cnn" / "config.pbtxt",
                    repo / "tiny_cnn" / "config.pbtxt")
        (repo / "tiny_cnn" / "1" / "model.onnx").symlink_to(onnx)
    return repo


class Server:
    def __init__(self, repo, *extra):
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--model-repository", str(repo), "--http-port", "0",
             "--grpc-port", "0", "--exit-timeout-s", "10", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://([\d.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("optic serve did not start: " + line + self.proc.stderr.read())
        self.url = f"{m.group(1)}:{m.group(2)}"
        self.port = int(m.group(2))
        g = re.search(r"grpc ([\d.]+:\d+)", line)
        self.grpc_url = g.group(1) if g else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.exists(BINARY):
        pytest.fail(f"optic binary {BINARY} not built (set OPTIC_BINARY)")
    s = Server(make_repository(tmp_path_factory.mktemp("serve")))
    yield s
    s.stop()
    assert s.proc.returncode == 0


@pytest.fixture()
def client(server):
    c = httpclient.InferenceServerClient(url=server.url, concurrency=16)
    yield c
    c.close()


def raw(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def test_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    meta = client.get_server_metadata()
    assert meta["name"] == "optic"
    assert "binary_tensor_data" in meta["extensions"]
    assert client.is_model_ready("identity")
    assert client.is_model_ready("identity", "1")
    assert not client.is_model_ready("identity", "7")
    m = client.get_model_metadata("identity")
    assert m["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 3, 4, 4]}]
    assert m["versions"] == ["1"]


def test_config_and_repository_index(client):
    cfg = client.get_model_config("batched")
    assert cfg["max_batch_size"] == 8
    assert cfg["input"][0]["dims"] == [2]
    assert cfg["dynamic_batching"]["preferred_batch_size"] == [4]
    names = {e["name"]: e["state"] for e in client.get_model_repository_index()}
    assert names["identity"] == "READY"


@pytest.mark.parametrize("binary", [True, False])
def test_infer_identity(client, binary):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    out = httpclient.InferRequestedOutput("output", binary_data=binary)
    r = client.infer("identity", [inp], outputs=[out], request_id="req-7")
    np.testing.assert_array_equal(r.as_numpy("output"), x)
    assert r.get_response()["id"] == "req-7"


def test_infer_real_classifier_matches_onnxruntime(client):
    onnx = ZOO / "tiny_cnn" / "model.onnx"
    if not onnx.exists():
        pytest.skip("zoo not exported (optic models export): tiny_cnn/model.onnx missing")
    import onnxruntime as ort
    x = np.random.default_rng(1).uniform(-2, 2, (3, 3, 32, 32)).astype(np.float32)
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    got = client.infer("tiny_cnn", [inp]).as_numpy("output")
    ref = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_statistics_and_metrics(server, client):
    x = np.ones((1, 3, 4, 4), np.float32)
    inp = httpclient.InferInput("input", [1, 3, 4, 4], "FP32")
    inp.set_data_from_numpy(x)
    client.infer("identity", [inp])
    stats = client.get_inference_statistics("identity")["model_stats"][0]
    assert stats["inference_stats"]["success"]["count"] >= 1
    assert stats["inference_stats"]["compute_infer"]["ns"] > 0
    status, text = raw(server, "GET", "/metrics")
    assert status == 200
    text = text.decode()
    assert "# TYPE nv_inference_request_success counter" in text
    m = re.search(r'nv_inference_request_success\{model="identity",version="1"\} (\d+)', text)
    assert m and int(m.group(1)) >= 1
    assert 'nv_inference_queue_duration_us{model="identity",version="1"}' in text


def binary_body(header, payload):
    h = json.dumps(header).encode()
    return h + payload, {"Inference-Header-Content-Length": str(len(h)),
                         "Content-Type": "application/octet-stream"}


@pytest.mark.parametrize("case,status,needle", [
    ("malformed_json", 400, "not valid JSON"),
    ("header_too_long", 400, "exceeds the body"),
    ("header_not_number", 400, "not a byte count"),
    ("binary_size_wrong", 400, "binary_data_size must be"),
    ("shape", 400, "does not match the model's"),
    ("dtype", 400, "datatype INT32 does not match"),
    ("name", 400, "unexpected input 'image'"),
    ("missing_data", 400, "neither 'data'"),
    ("batch_too_big", 400, "max_batch_size"),
    ("unknown_model", 404, "unknown model 'nope'"),
    ("unknown_version", 404, "no loaded version '9'"),
    ("wrong_method", 405, "not allowed on /v2/models/identity/infer (use POST)"),
    ("unknown_path", 404, "unknown endpoint"),
])
def test_bad_input(server, case, status, needle):
    good = {"name": "input", "shape": [1, 3, 4, 4], "datatype": "FP32", "data": [0.5] * 48}
    path, method, headers = "/v2/models/identity/infer", "POST", {}
    if case == "malformed_json":
        body = b'{"inputs": [ {'
    elif case == "header_too_long":
        body, headers = binary_body({"inputs": []}, b"")
        headers["Inference-Header-Content-Length"] = "100000"
    elif case == "header_not_number":
        body, headers = binary_body({"inputs": []}, b"")
        headers["Inference-Header-Content-Length"] = "12abc"
    elif case == "binary_size_wrong":
        body, headers = binary_body({"inputs": [dict(good, data=None, parameters={"binary_data_size": 12})]},
                                    b"\0" * 12)
    else:
        bad = dict(good)
        if case == "shape":
            bad["shape"] = [1, 3, 5, 4]
        elif case == "dtype":
            bad["datatype"] = "INT32"
        elif case == "name":
            bad["name"] = "image"
        elif case == "missing_data":
            del bad["data"]
        elif case == "batch_too_big":
            bad["shape"], bad["data"] = [9, 3, 4, 4], [0] * 9 * 48
        elif case == "unknown_model":
            path = "/v2/models/nope/infer"
        elif case == "unknown_version":
            path = "/v2/models/identity/versions/9/infer"
        elif case == "wrong_method":
            method = "GET"
        elif case == "unknown_path":
            path = "/v2/models/identity/frobnicate/now"
        body = json.dumps({"inputs": [bad]}).encode()
    got, data = raw(server, method, path, body if method == "POST" else None, headers)
    assert got == status, data
    assert needle in json.loads(data)["error"]


def test_body_limit_gives_413(tmp_path):
    s = Server(make_repository(tmp_path), "--max-body-mb", "0.01")
    try:
        status, data = raw(s, "POST", "/v2/models/identity/infer", b"x" * 20000)
        assert status == 413 and b"limit" in data
    finally:
        s.stop()


def test_bearer_token(tmp_path):
    s = Server(make_repository(tmp_path), "--auth-token", "s3cret")
    try:
        assert raw(s, "GET", "/v2/health/live")[0] == 200  # probes stay open
        assert raw(s, "GET", "/v2")[0] == 401
        assert raw(s, "GET", "/v2", headers={"Authorization": "Bearer s3cret"})[0] == 200
        g = grpcclient.InferenceServerClient(url=s.grpc_url)
        assert g.is_server_live()  # probes stay open over gRPC too
        with pytest.raises(InferenceServerException) as e:
            g.get_server_metadata()
        assert e.value.status() == "StatusCode.UNAUTHENTICATED"
        assert g.get_server_metadata(headers={"authorization": "Bearer s3cret"}).name == "optic"
        g.close()
    finally:
        s.stop()


def test_overload_returns_503_and_keeps_accepted(client):
    x = np.ones((1, 2), np.float32)
    pending = []
    for i in range(12):
        inp = httpclient.InferInput("input", [1, 2], "FP32")
        inp.set_data_from_numpy(x * i)
        pending.append((i, client.async_infer("slow", [inp])))
    ok, rejected = 0, 0
    for i, p in pending:
        try:
            r = p.get_result()
            np.testing.assert_array_equal(r.as_numpy("output"), x * i)
            ok += 1
        except Exception as e:  # tritonclient raises InferenceServerException
            assert "queue full" in str(e), e
            rejected += 1
    assert rejected > 0 and ok >= 3 and ok + rejected == 12


def test_requests_batched_up_to_preferred_size(client):
    before = {b["batch_size"]: b["compute_infer"]["count"]
              for b in client.get_inference_statistics("batched")["model_stats"][0]["batch_stats"]}
    start = time.monotonic()
    pending = []
    for i in range(4):
        inp = httpclient.InferInput("input", [1, 2], "FP32")
        inp.set_data_from_numpy(np.full((1, 2), i, np.float32))
        pending.append((i, client.async_infer("batched", [inp])))
    for i, p in pending:
        assert p.get_result().as_numpy("output")[0, 0] == i
    assert time.monotonic() - start < 1.5  # sent at 4 rows, not after the 2 s delay
    after = {b["batch_size"]: b["compute_infer"]["count"]
             for b in client.get_inference_statistics("batched")["model_stats"][0]["batch_stats"]}
    assert after.get(4, 0) - before.get(4, 0) == 1


def test_sigterm_drains_in_flight(tmp_path):
    s = Server(make_repository(tmp_path))
    results = []

    def one(i):
        body = json.dumps({"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32",
                                       "data": [i, i]}]}).encode()
        results.append(raw(s, "POST", "/v2/models/slow/infer", body))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.02)
    late = raw(s, "GET", "/v2/health/ready")
    for t in threads:
        t.join()
    s.proc.wait(timeout=30)
    assert late[0] == 503
    assert sorted(r[0] for r in results) == [200, 200], results
    assert s.proc.returncode == 0


def test_optic_load_writes_schema_rows(server, tmp_path):
    out = tmp_path / "load.jsonl"
    r = subprocess.run([BINARY, "load", "--url", server.url, "--model", "identity",
                        "--concurrency", "2", "--rate", "50", "--duration-s", "1",
                        "--warmup-s", "0.2", "--output", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "does not match the schema" not in r.stderr, r.stderr
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert [row["scenario"] for row in rows] == ["closed_loop", "server"]
    for row in rows:
        assert row["kind"] == "load" and row["status"] == "ok" and row["samples"] > 0
        assert row["latency_ms"]["p50"] <= row["latency_ms"]["p99"]
        assert row["stages_ms"]["server"] > 0
        # stable: bench's rule (the last 3 windows within 10% on throughput and p50 latency)
        # over the stage's three windows
        assert len(row["windows"]) == 3, row["windows"]
        tp = [w["throughput_per_s"] for w in row["windows"]]
        p50 = [w["latency_p50_ms"] for w in row["windows"]]
        assert row["stable"] == (max(tp) <= 1.1 * min(tp) and max(p50) <= 1.1 * min(p50))
    assert rows[0]["concurrency"] == 2
    assert rows[1]["server"]["target_qps"] == 50


def test_optic_load_reports_unknown_model(server):
    r = subprocess.run([BINARY, "load", "--url", server.url, "--model", "nope"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "nope" in r.stderr


def optic_load(*args):
    return subprocess.run([BINARY, "load", *args], capture_output=True, text=True, timeout=60)


def test_optic_load_grpc_rows_match_http_rows(server, tmp_path):
    assert server.grpc_url, "optic serve did not report a gRPC port"
    stage = ["--model", "identity", "--concurrency", "2", "--rate", "50", "--duration-s", "1",
             "--warmup-s", "0.2"]
    files = {}
    for protocol, url in (("http", server.url), ("grpc", server.grpc_url)):
        files[protocol] = tmp_path / f"{protocol}.jsonl"
        r = optic_load("--protocol", protocol, "--url", url, *stage, "--output", str(files[protocol]))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "does not match the schema" not in r.stderr, r.stderr
        assert f"over {protocol}" in r.stdout, r.stdout
    http_rows, grpc_rows = ([json.loads(l) for l in files[p].read_text().splitlines()]
                            for p in ("http", "grpc"))
    assert [row["scenario"] for row in grpc_rows] == ["closed_loop", "server"]
    for h, g in zip(http_rows, grpc_rows):
        # One row writer: the same fields, the protocol named, other cells than HTTP's.
        assert set(h) == set(g) and set(h["settings"]) == set(g["settings"])
        assert h["protocol"] == "http" and g["protocol"] == "grpc"
        assert g["cell_id"] == h["cell_id"] + "|grpc"
        assert g["settings"]["url"] == server.grpc_url
        assert g["kind"] == "load" and g["status"] == "ok" and g["samples"] > 0
        assert g["settings"]["errors"] == 0
        assert g["latency_ms"]["p50"] <= g["latency_ms"]["p99"]
        # the server's statistics, read over gRPC, split the latency
        assert 0 < g["stages_ms"]["server"] <= g["latency_ms"]["mean"]
        assert len(g["windows"]) == 3, g["windows"]
    assert grpc_rows[0]["concurrency"] == 2
    assert grpc_rows[1]["server"]["target_qps"] == 50
    # optic report reads them beside the HTTP rows
    r = subprocess.run([BINARY, "report", str(files["http"]), str(files["grpc"])],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_optic_load_grpc_names_an_address_without_a_server():
    import socket
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = optic_load("--protocol", "grpc", "--url", f"127.0.0.1:{port}", "--model", "identity")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"no KServe gRPC server answers at 127.0.0.1:{port}" in r.stderr, r.stderr


def test_optic_load_grpc_reports_the_servers_error(server):
    r = optic_load("--protocol", "grpc", "--url", server.grpc_url, "--model", "nope")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "unknown model 'nope'" in r.stderr and "NOT_FOUND" in r.stderr, r.stderr
    # a request the server refuses: a batch over the model's max_batch_size (8)
    r = optic_load("--protocol", "grpc", "--url", server.grpc_url, "--model", "identity",
                   "--batch", "9")
    assert r.returncode == 2 and "first inference failed" in r.stderr, r.stderr
    assert "INVALID_ARGUMENT" in r.stderr, r.stderr


def test_optic_load_protocol_usage_errors(server):
    r = optic_load("--protocol", "quic", "--url", server.url, "--model", "identity")
    assert r.returncode == 2 and "--protocol must be http or grpc, not 'quic'" in r.stderr, r.stderr
    r = optic_load("--protocol", "grpc", "--url", server.grpc_url, "--model", "identity", "--json")
    assert r.returncode == 2 and "--json applies to HTTP only" in r.stderr, r.stderr


# --- gRPC: tritonclient.grpc, unchanged, against the same server ---------------------------------


@pytest.fixture()
def gclient(server):
    assert server.grpc_url, "optic serve did not report a gRPC port"
    c = grpcclient.InferenceServerClient(url=server.grpc_url)
    yield c
    c.close()


def test_grpc_health_metadata_config(gclient):
    assert gclient.is_server_live()
    assert gclient.is_server_ready()
    meta = gclient.get_server_metadata(as_json=True)
    assert meta["name"] == "optic" and "statistics" in meta["extensions"]
    assert gclient.is_model_ready("identity")
    assert not gclient.is_model_ready("identity", "7")
    assert not gclient.is_model_ready("nope")
    m = gclient.get_model_metadata("identity", as_json=True)
    assert m["inputs"] == [{"name": "input", "datatype": "FP32", "shape": ["-1", "3", "4", "4"]}]
    cfg = gclient.get_model_config("batched", as_json=True)["config"]
    assert cfg["max_batch_size"] == 8
    assert cfg["input"][0]["dims"] == ["2"]
    assert cfg["dynamic_batching"]["preferred_batch_size"] == [4]
    index = gclient.get_model_repository_index(as_json=True)["models"]
    assert {e["name"]: e["state"] for e in index}["identity"] == "READY"


def test_grpc_infer_identity_and_stats(gclient):
    before = gclient.get_inference_statistics("identity", as_json=True)["model_stats"][0]
    x = np.random.default_rng(2).standard_normal((3, 3, 4, 4)).astype(np.float32)
    inp = grpcclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    r = gclient.infer("identity", [inp], outputs=[grpcclient.InferRequestedOutput("output")],
                      request_id="g-1")
    np.testing.assert_array_equal(r.as_numpy("output"), x)
    assert r.get_response().id == "g-1"
    after = gclient.get_inference_statistics("identity", as_json=True)["model_stats"][0]
    assert int(after["inference_stats"]["success"]["count"]) == \
        int(before["inference_stats"]["success"].get("count", 0)) + 1


def test_grpc_infer_real_classifier_matches_onnxruntime(gclient):
    onnx = ZOO / "tiny_cnn" / "model.onnx"
    if not onnx.exists():
        pytest.skip("zoo not exported (optic models export): tiny_cnn/model.onnx missing")
    import onnxruntime as ort
    x = np.random.default_rng(3).uniform(-2, 2, (2, 3, 32, 32)).astype(np.float32)
    inp = grpcclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    got = gclient.infer("tiny_cnn", [inp]).as_numpy("output")
    ref = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("model,shape,dtype,code,needle", [
    ("nope", (1, 3, 4, 4), np.float32, "StatusCode.NOT_FOUND", "nope"),
    ("identity", (1, 3, 4, 5), np.float32, "StatusCode.INVALID_ARGUMENT", "input"),
    ("identity", (1, 3, 4, 4), np.int32, "StatusCode.INVALID_ARGUMENT", "INT32"),
    ("identity", (9, 3, 4, 4), np.float32, "StatusCode.INVALID_ARGUMENT", "batch"),
])
def test_grpc_bad_input_status_codes(gclient, model, shape, dtype, code, needle):
    x = np.zeros(shape, dtype)
    inp = grpcclient.InferInput("input", list(shape), "FP32" if dtype == np.float32 else "INT32")
    inp.set_data_from_numpy(x)
    with pytest.raises(InferenceServerException) as e:
        gclient.infer(model, [inp])
    assert e.value.status() == code
    assert needle in e.value.message()


@pytest.mark.parametrize("raw,needle", [([b"\0" * 12], "bytes"), ([], "neither contents"),
                                         ([b"\0" * 192, b""], "raw_input_contents has 2")])
def test_grpc_raw_contents_mismatch_is_invalid_argument(server, raw, needle):
    # Triton's own protobuf messages and stub, to send what tritonclient's helpers would not.
    import grpc
    from tritonclient.grpc import service_pb2, service_pb2_grpc
    stub = service_pb2_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(server.grpc_url))
    req = service_pb2.ModelInferRequest(model_name="identity", raw_input_contents=raw)
    req.inputs.add(name="input", datatype="FP32", shape=[1, 3, 4, 4])
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(req, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in e.value.details()


def test_grpc_overload_is_unavailable(server):
    # "slow": max_batch_size 1, 100 ms per request, queue of 2: most of 8 concurrent requests
    # are refused with UNAVAILABLE, and every accepted one succeeds.
    c = grpcclient.InferenceServerClient(url=server.grpc_url)
    results, lock = [], threading.Lock()

    def cb(result, error):
        with lock:
            results.append(error.status() if error else "OK")
    for _ in range(8):
        inp = grpcclient.InferInput("input", [1, 2], "FP32")
        inp.set_data_from_numpy(np.zeros((1, 2), np.float32))
        c.async_infer("slow", [inp], cb)
    deadline = time.time() + 20
    while len(results) < 8 and time.time() < deadline:
        time.sleep(0.01)
    c.close()
    assert len(results) == 8
    assert results.count("StatusCode.UNAVAILABLE") >= 1
    assert results.count("OK") >= 1
    assert set(results) <= {"OK", "StatusCode.UNAVAILABLE"}

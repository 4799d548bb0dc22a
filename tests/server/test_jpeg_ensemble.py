"""optic serve's JPEG-in models and ensembles against Triton's Python client (unchanged).

Starts the real `optic serve` on loopback with a temporary repository built on the zoo's tiny_cnn
(3x32x32 -> 10, ONNX Runtime): a JPEG-in classifier (optic_preprocessing), the decode as a model
of its own (optic_preprocess), an averaging model (optic_average) and two ensembles. Checks the
decoded pixels against PIL, the JPEG-in output against the tensor classifier, BYTES over HTTP
binary, JSON (base64) and gRPC, a corrupt JPEG inside a dynamic batch (its request gets 400 naming
the element and reason, the others in the same batch succeed), the ensembles' results and their
load-time graph checks, and gRPC ModelStreamInfer.
Run: OPTIC_BINARY=build/optic .venv/bin/python -m pytest tests/server/test_jpeg_ensemble.py
"""
import base64
import io
import json
import os
import pathlib
import re
import signal
import subprocess
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from PIL import Image
from tritonclient.utils import InferenceServerException

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("OPTIC_BINARY", str(ROOT / "build" / "optic"))
ZOO = pathlib.Path(os.environ.get("OPTIC_MODELS", ROOT / "models"))
ONNX = ZOO / "tiny_cnn" / "model.onnx"

PRE = 'optic_preprocessing { input: "image" resize_shorter: 40 dct_scaling: false threads: 2 }'
MODELS = {
    # JPEG-in classifier: a preferred batch of 4 and a long delay so concurrent requests meet.
    "tiny_jpeg": ("tiny_cnn", f"""backend: "onnxruntime" max_batch_size: 8
      input [ {{ name: "image", data_type: TYPE_STRING, dims: [ 1 ] }} ]
      {PRE}
      dynamic_batching {{ preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 3000000 }}
      parameters {{ key: "threads" value: {{ string_value: "1" }} }}"""),
    "tiny_jpeg_small": ("tiny_cnn", """backend: "onnxruntime" max_batch_size: 8
      optic_preprocessing { input: "image" max_pixels: 4096 }
      dynamic_batching { }"""),
    "tiny": ("tiny_cnn", """backend: "onnxruntime" max_batch_size: 8 dynamic_batching { }
      parameters { key: "threads" value: { string_value: "1" } }"""),
    "tiny_b": ("tiny_cnn", """backend: "onnxruntime" max_batch_size: 8 dynamic_batching { }
      parameters { key: "threads" value: { string_value: "1" } }"""),
    "pre32": (None, f"""backend: "optic_preprocess" max_batch_size: 8
      input [ {{ name: "image", data_type: TYPE_STRING, dims: [ 1 ] }} ]
      output [ {{ name: "pixels", data_type: TYPE_FP32, dims: [ 3, 32, 32 ] }} ]
      {PRE}
      dynamic_batching {{ }}"""),
    "avg10": (None, """backend: "optic_average" max_batch_size: 8
      input [ { name: "a", data_type: TYPE_FP32, dims: [ 10 ] },
              { name: "b", data_type: TYPE_FP32, dims: [ 10 ] } ]
      output [ { name: "mean", data_type: TYPE_FP32, dims: [ 10 ] } ]
      dynamic_batching { }"""),
    "jpeg_to_tiny": (None, """platform: "ensemble" max_batch_size: 8
      input [ { name: "IMAGE", data_type: TYPE_STRING, dims: [ 1 ] } ]
      output [ { name: "LOGITS", data_type: TYPE_FP32, dims: [ 10 ] } ]
      ensemble_scheduling { step [
        { model_name: "pre32" model_version: -1
          input_map { key: "image" value: "IMAGE" } output_map { key: "pixels" value: "px" } },
        { model_name: "tiny" model_version: -1
          input_map { key: "input" value: "px" } output_map { key: "output" value: "LOGITS" } } ] }"""),
    "jpeg_avg": (None, """platform: "ensemble" max_batch_size: 8
      input [ { name: "IMAGE", data_type: TYPE_STRING, dims: [ 1 ] } ]
      output [ { name: "MEAN", data_type: TYPE_FP32, dims: [ 10 ] },
               { name: "PIXELS", data_type: TYPE_FP32, dims: [ 3, 32, 32 ] } ]
      ensemble_scheduling { step [
        { model_name: "pre32" input_map { key: "image" value: "IMAGE" }
          output_map { key: "pixels" value: "PIXELS" } },
        { model_name: "tiny" input_map { key: "input" value: "PIXELS" }
          output_map { key: "output" value: "a" } },
        { model_name: "tiny_b" input_map { key: "input" value: "PIXELS" }
          output_map { key: "output" value: "b" } },
        { model_name: "avg10" input_map [ { key: "a" value: "a" }, { key: "b" value: "b" } ]
          output_map { key: "mean" value: "MEAN" } } ] }"""),
}

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def jpeg(seed, w, h, quality=90):
    rng = np.random.default_rng(seed)
    # Smooth content (a gradient plus noise) so the resize reference is meaningful.
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h)], -1)
    img = np.clip(base + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    b = io.BytesIO()
    Image.fromarray(img).save(b, format="JPEG", quality=quality)
    return b.getvalue()


def pil_reference(data):
    """torchvision's Resize(40) + CenterCrop(32) + Normalize with PIL, NCHW fp32."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = img.size
    s = 40 / min(w, h)
    img = img.resize((round(w * s), round(h * s)), Image.BILINEAR)
    w, h = img.size
    left, top = int(round((w - 32) / 2)), int(round((h - 32) / 2))
    img = img.crop((left, top, left + 32, top + 32))
    a = (np.asarray(img, np.float32) / 255 - MEAN) / STD
    return a.transpose(2, 0, 1)


class Server:
    def __init__(self, repo, *extra):
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--model-repository", str(repo), "--http-port", "0",
             "--grpc-port", "0", "--exit-timeout-s", "10", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://([\d.]+):(\d+), grpc ([\d.]+:\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("optic serve did not start: " + line + self.proc.stderr.read())
        self.url = f"{m.group(1)}:{m.group(2)}"
        self.grpc_url = m.group(3)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    if not os.path.exists(BINARY):
        pytest.fail(f"optic binary {BINARY} not built (set OPTIC_BINARY)")
    if not ONNX.exists():
        pytest.skip(f"{ONNX} missing: run `optic models export` first")
    root = tmp_path_factory.mktemp("jpeg") / "repo"
    for name, (zoo, config) in MODELS.items():
        (root / name).mkdir(parents=True)
        (root / name / "config.pbtxt").write_text(config)
        if zoo:
            (root / name / "1").mkdir()
            (root / name / "1" / "model.onnx").symlink_to(ZOO / zoo / "model.onnx")
    return root


@pytest.fixture(scope="module")
def server(repo):
    s = Server(repo)
    yield s
    s.stop()
    assert s.proc.returncode == 0, s.proc.stderr.read()


@pytest.fixture()
def client(server):
    c = httpclient.InferenceServerClient(url=server.url, concurrency=8)
    yield c
    c.close()


@pytest.fixture()
def gclient(server):
    c = grpcclient.InferenceServerClient(url=server.grpc_url)
    yield c
    c.close()


def image_input(module, images, name="image"):
    arr = np.array([[d] for d in images], dtype=np.object_)
    i = module.InferInput(name, list(arr.shape), "BYTES")
    i.set_data_from_numpy(arr)
    return i


def tensor_input(module, name, arr):
    i = module.InferInput(name, list(arr.shape), "FP32")
    i.set_data_from_numpy(arr)
    return i


def post_json(server, path, body):
    req = urllib.request.Request(f"http://{server.url}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_metadata_and_config_show_bytes_input(client):
    m = client.get_model_metadata("tiny_jpeg")
    assert m["inputs"] == [{"name": "image", "datatype": "BYTES", "shape": [-1, 1]}]
    assert m["outputs"] == [{"name": "output", "datatype": "FP32", "shape": [-1, 10]}]
    c = client.get_model_config("tiny_jpeg")
    assert c["input"][0]["data_type"] == "TYPE_STRING"
    assert c["optic_preprocessing"]["resize_shorter"] == 40
    e = client.get_model_metadata("jpeg_avg")
    assert e["platform"] == "ensemble"
    assert [o["name"] for o in e["outputs"]] == ["MEAN", "PIXELS"]


def test_preprocess_model_matches_pil(client):
    images = [jpeg(1, 64, 48), jpeg(2, 37, 90), jpeg(3, 200, 150)]
    got = client.infer("pre32", [image_input(httpclient, images)]).as_numpy("pixels")
    assert got.shape == (3, 3, 32, 32)
    for k, data in enumerate(images):
        ref = pil_reference(data)
        diff = np.abs(got[k] - ref)
        # Both decode with libjpeg and resize with a triangle filter: about one 8-bit level apart
        # at most (1/255/0.225 = 0.017); measured mean 0.005, max 0.018.
        assert diff.mean() < 0.015, (k, diff.mean())
        assert diff.max() < 0.06, (k, diff.max())


def test_jpeg_in_equals_tensor_classifier_http_and_grpc(client, gclient):
    images = [jpeg(4, 80, 60), jpeg(5, 50, 50)]
    pixels = client.infer("pre32", [image_input(httpclient, images)]).as_numpy("pixels")
    expect = client.infer("tiny", [tensor_input(httpclient, "input", pixels)]).as_numpy("output")
    # (tiny_jpeg waits up to its 3 s queue delay for a batch of 4; 2 rows go out then.)
    http_out = client.infer("tiny_jpeg", [image_input(httpclient, images)]).as_numpy("output")
    np.testing.assert_allclose(http_out, expect, rtol=1e-5, atol=1e-5)
    grpc_out = gclient.infer("tiny_jpeg", [image_input(grpcclient, images)]).as_numpy("output")
    np.testing.assert_allclose(grpc_out, expect, rtol=1e-5, atol=1e-5)


def test_jpeg_over_json_base64_and_plain_strings(server, client):
    data = jpeg(6, 40, 40)
    expect = client.infer("pre32", [image_input(httpclient, [data])]).as_numpy("pixels")
    body = {"inputs": [{"name": "image", "shape": [1, 1], "datatype": "BYTES",
                        "parameters": {"content_type": "base64"},
                        "data": [base64.b64encode(data).decode()]}]}
    status, r = post_json(server, "/v2/models/pre32/infer", body)
    assert status == 200, r
    got = np.array(r["outputs"][0]["data"], np.float32).reshape(1, 3, 32, 32)
    np.testing.assert_allclose(got, expect, atol=1e-6)
    # Triton's JSON BYTES: the string's bytes are the element; text is no JPEG -> 400 naming it.
    body = {"inputs": [{"name": "image", "shape": [2, 1], "datatype": "BYTES",
                        "data": ["hello", "world"]}]}
    status, r = post_json(server, "/v2/models/pre32/infer", body)
    assert status == 400 and "image[0]" in r["error"] and "not a JPEG" in r["error"], r
    body["inputs"][0]["parameters"] = {"content_type": "base64"}
    body["inputs"][0]["data"] = ["!!!", "AAAA"]
    status, r = post_json(server, "/v2/models/pre32/infer", body)
    assert status == 400 and "element 0 is not valid base64" in r["error"], r


def test_malformed_binary_bytes_is_400(server):
    header = json.dumps({"inputs": [{"name": "image", "shape": [1, 1], "datatype": "BYTES",
                                     "parameters": {"binary_data_size": 8}}]}).encode()
    body = header + (100).to_bytes(4, "little") + b"abcd"  # claims 100 bytes, 4 follow
    req = urllib.request.Request(f"http://{server.url}/v2/models/pre32/infer", data=body,
                                 headers={"Inference-Header-Content-Length": str(len(header))})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
    assert "claims 100 bytes, 4 remain" in json.loads(e.value.read())["error"]


def test_corrupt_jpeg_fails_only_its_request_in_a_batch(client):
    good = [jpeg(10 + k, 60 + 7 * k, 50) for k in range(3)]
    full = jpeg(20, 60, 50)
    truncated = full[: len(full) // 2]
    before = client.get_inference_statistics("tiny_jpeg")["model_stats"][0]
    # Four concurrent requests meet in one batch (preferred size 4, 3 s delay).
    order = [good[0], truncated, good[1], good[2]]
    pending = [client.async_infer("tiny_jpeg", [image_input(httpclient, [d])]) for d in order]
    results = []
    for p in pending:
        try:
            results.append(p.get_result().as_numpy("output"))
        except InferenceServerException as e:
            results.append(e)
    err = results[1]
    assert isinstance(err, InferenceServerException), "the truncated JPEG was accepted"
    assert err.status() == "400" and "image[0]" in err.message(), err.message()
    assert "truncated or corrupt JPEG" in err.message(), err.message()
    pixels = client.infer("pre32", [image_input(httpclient, good)]).as_numpy("pixels")
    expect = client.infer("tiny", [tensor_input(httpclient, "input", pixels)]).as_numpy("output")
    for k, idx in enumerate([0, 2, 3]):
        np.testing.assert_allclose(results[idx][0], expect[k], rtol=1e-5, atol=1e-5)
    after = client.get_inference_statistics("tiny_jpeg")["model_stats"][0]
    # One model execution ran the three good rows together.
    assert int(after["execution_count"]) - int(before["execution_count"]) == 1
    assert int(after["inference_count"]) - int(before["inference_count"]) == 3
    fail = after["inference_stats"]["fail"]
    assert int(fail["count"]) - int(before["inference_stats"]["fail"]["count"]) == 1
    assert client.is_server_live()


def bogus_huffman(data):
    """The first DHT's code-length counts claim 3 more symbols than it holds ("Bogus Huffman table
    definition" in libjpeg-turbo)."""
    b = bytearray(data)
    b[data.index(b"\xff\xc4") + 5] += 3
    return bytes(b)


def zero_sampling(data):
    """A frame header whose first component has sampling factors 0x0."""
    b = bytearray(data)
    b[data.index(b"\xff\xc0") + 11] = 0
    return bytes(b)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_bad_upload_leaves_later_requests_alone(client, gclient, protocol):
    module, c = (httpclient, client) if protocol == "http" else (grpcclient, gclient)
    goods = [jpeg(40 + k, 60 + 3 * k, 50) for k in range(4)]

    def infer(data):
        return c.infer("tiny_jpeg_small", [image_input(module, [data])]).as_numpy("output")

    want = [infer(g) for g in goods]
    bads = [bogus_huffman(goods[0]), zero_sampling(goods[1]), goods[2][: len(goods[2]) // 2]]
    for bad in bads:
        with pytest.raises(InferenceServerException) as e:
            infer(bad)
        assert "400" in str(e.value.status()) or "INVALID_ARGUMENT" in str(e.value.status()), e.value
        assert "image[0]" in e.value.message(), e.value.message()
        for _ in range(2):
            for g, w in zip(goods, want):
                np.testing.assert_array_equal(infer(g), w)
    # Several images per request: the bad one fails its request; the next requests are whole.
    with pytest.raises(InferenceServerException):
        c.infer("tiny_jpeg_small", [image_input(module, [goods[3], bads[0], goods[1]])])
    out = c.infer("tiny_jpeg_small", [image_input(module, goods)]).as_numpy("output")
    np.testing.assert_array_equal(out, np.concatenate(want))


def test_pixel_cap_is_400(client):
    with pytest.raises(InferenceServerException) as e:
        client.infer("tiny_jpeg_small", [image_input(httpclient, [jpeg(7, 100, 100)])])
    assert e.value.status() == "400"
    assert "image[0]" in e.value.message() and "4096" in e.value.message(), e.value.message()


def test_average_model_is_elementwise_mean(client):
    a = np.random.default_rng(1).normal(size=(3, 10)).astype(np.float32)
    b = np.random.default_rng(2).normal(size=(3, 10)).astype(np.float32)
    got = client.infer("avg10", [tensor_input(httpclient, "a", a),
                                 tensor_input(httpclient, "b", b)]).as_numpy("mean")
    np.testing.assert_allclose(got, (a + b) / 2, rtol=1e-6)


@pytest.mark.parametrize("proto", ["http", "grpc"])
def test_ensembles(client, gclient, proto):
    images = [jpeg(30, 90, 70), jpeg(31, 45, 45)]
    pixels = client.infer("pre32", [image_input(httpclient, images)]).as_numpy("pixels")
    a = client.infer("tiny", [tensor_input(httpclient, "input", pixels)]).as_numpy("output")
    b = client.infer("tiny_b", [tensor_input(httpclient, "input", pixels)]).as_numpy("output")
    c, mod = (client, httpclient) if proto == "http" else (gclient, grpcclient)
    chain = c.infer("jpeg_to_tiny", [image_input(mod, images, "IMAGE")]).as_numpy("LOGITS")
    np.testing.assert_allclose(chain, a, rtol=1e-5, atol=1e-5)
    r = c.infer("jpeg_avg", [image_input(mod, images, "IMAGE")])
    np.testing.assert_allclose(r.as_numpy("MEAN"), (a + b) / 2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(r.as_numpy("PIXELS"), pixels, atol=1e-6)
    with pytest.raises(InferenceServerException) as e:
        c.infer("jpeg_avg", [image_input(mod, [images[0], b"\xff\xd8junk"], "IMAGE")])
    assert "ensemble step 0 ('pre32')" in e.value.message() and "image[1]" in e.value.message()


def test_concurrent_ensemble_requests_share_step_batches(client):
    before = client.get_inference_statistics("pre32")["model_stats"][0]
    images = [jpeg(40 + k, 50, 50) for k in range(8)]
    pending = [client.async_infer("jpeg_avg", [image_input(httpclient, [d], "IMAGE")])
               for d in images]
    outs = [p.get_result().as_numpy("MEAN") for p in pending]
    assert all(o.shape == (1, 10) for o in outs)
    after = client.get_inference_statistics("pre32")["model_stats"][0]
    assert int(after["inference_count"]) - int(before["inference_count"]) == 8
    assert int(after["execution_count"]) - int(before["execution_count"]) <= 8


BAD_ENSEMBLES = {
    "missing model": ('{ model_name: "nope" input_map { key: "x" value: "IMAGE" } '
                      'output_map { key: "y" value: "LOGITS" } }', "'nope'"),
    "unfed input": ('{ model_name: "tiny" input_map { key: "input" value: "ghost" } '
                    'output_map { key: "output" value: "LOGITS" } }', "tensor 'ghost'"),
    "type mismatch": ('{ model_name: "tiny" input_map { key: "input" value: "IMAGE" } '
                      'output_map { key: "output" value: "LOGITS" } }', "needs FP32"),
    "no output": ('{ model_name: "pre32" input_map { key: "image" value: "IMAGE" } '
                  'output_map { key: "pixels" value: "px" } }', "output 'LOGITS' is produced by no step"),
}


@pytest.mark.parametrize("case", sorted(BAD_ENSEMBLES))
def test_bad_ensemble_fails_to_load_with_reason(server, repo, client, case):
    step, needle = BAD_ENSEMBLES[case]
    name = "bad_" + case.replace(" ", "_")
    (repo / name).mkdir(exist_ok=True)
    (repo / name / "config.pbtxt").write_text(
        'platform: "ensemble" max_batch_size: 8 '
        'input [ { name: "IMAGE", data_type: TYPE_STRING, dims: [ 1 ] } ] '
        'output [ { name: "LOGITS", data_type: TYPE_FP32, dims: [ 10 ] } ] '
        f"ensemble_scheduling {{ step [ {step} ] }}")
    try:
        status, r = post_json(server, f"/v2/repository/models/{name}/load", {})
        assert status == 400, r
        assert needle in r["error"], r
    finally:
        (repo / name / "config.pbtxt").unlink()
        (repo / name).rmdir()


def test_bad_preprocessing_config_fails_to_load(server, repo):
    name = "bad_pre"
    (repo / name / "1").mkdir(parents=True, exist_ok=True)
    (repo / name / "1" / "model.onnx").symlink_to(ONNX)
    (repo / name / "config.pbtxt").write_text(
        'backend: "onnxruntime" max_batch_size: 4 '
        'input [ { name: "image", data_type: TYPE_STRING, dims: [ 2 ] } ] '
        'optic_preprocessing { input: "image" }')
    try:
        status, r = post_json(server, f"/v2/repository/models/{name}/load", {})
        assert status == 400 and "dims must be [ 1 ]" in r["error"], r
    finally:
        (repo / name / "1" / "model.onnx").unlink()
        (repo / name / "1").rmdir()
        (repo / name / "config.pbtxt").unlink()
        (repo / name).rmdir()


def test_grpc_stream_infer(client, server):
    """ModelStreamInfer: answers matched by id, a failing request answers with an error and the
    stream goes on."""
    import queue
    answers = queue.Queue()
    c = grpcclient.InferenceServerClient(url=server.grpc_url)
    c.start_stream(callback=lambda result, error: answers.put((result, error)))
    images = [jpeg(50 + k, 48, 40) for k in range(3)]
    pixels = client.infer("pre32", [image_input(httpclient, images)]).as_numpy("pixels")
    expect = client.infer("tiny", [tensor_input(httpclient, "input", pixels)]).as_numpy("output")
    for k, d in enumerate(images):
        c.async_stream_infer("jpeg_to_tiny", [image_input(grpcclient, [d], "IMAGE")],
                             request_id=f"img{k}")
    c.async_stream_infer("jpeg_to_tiny", [image_input(grpcclient, [b"junk"], "IMAGE")],
                         request_id="bad")
    c.async_stream_infer("no_such_model", [image_input(grpcclient, [images[0]], "IMAGE")],
                         request_id="unknown")
    c.async_stream_infer("tiny", [tensor_input(grpcclient, "input", pixels[:1])], request_id="t")
    got, errors = {}, []
    for _ in range(6):
        result, error = answers.get(timeout=60)
        if error is not None:
            errors.append(error.message())
        else:
            got[result.get_response().id] = result.as_numpy(
                "LOGITS" if result.get_response().model_name == "jpeg_to_tiny" else "output")
    c.stop_stream()
    c.close()
    assert sorted(got) == ["img0", "img1", "img2", "t"]
    for k in range(3):
        np.testing.assert_allclose(got[f"img{k}"][0], expect[k], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got["t"][0], expect[0], rtol=1e-5, atol=1e-5)
    assert any("not a JPEG" in e for e in errors), errors
    assert any("no_such_model" in e for e in errors), errors


def test_optic_load_sends_jpeg_bytes(server, tmp_path):
    """optic load --bytes-file drives a JPEG-in model (binary and JSON/base64) and writes rows."""
    image = tmp_path / "x.jpg"
    image.write_bytes(jpeg(60, 64, 48))
    out = tmp_path / "rows.jsonl"
    for extra in ([], ["--json"]):
        r = subprocess.run([BINARY, "load", "--url", server.url, "--model", "jpeg_to_tiny",
                            "--bytes-file", str(image), "--concurrency", "2", "--duration-s", "1",
                            "--warmup-s", "0.2", "--output", str(out), *extra],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and all(row["throughput_per_s"] > 0 for row in rows)
    assert "--bytes-file" in rows[0]["command"]
    r = subprocess.run([BINARY, "load", "--url", server.url, "--model", "pre32",
                        "--concurrency", "1", "--duration-s", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "pass --bytes-file" in r.stderr


def test_server_wide_image_pixel_cap(repo):
    """--max-image-pixels caps every JPEG-in model below its config's max_pixels."""
    s = Server(repo, "--max-image-pixels", "2000")
    try:
        c = httpclient.InferenceServerClient(url=s.url)
        ok = c.infer("pre32", [image_input(httpclient, [jpeg(70, 40, 40)])])  # 1600 pixels
        assert ok.as_numpy("pixels").shape == (1, 3, 32, 32)
        with pytest.raises(InferenceServerException) as e:
            c.infer("pre32", [image_input(httpclient, [jpeg(71, 50, 50)])])  # 2500 pixels
        assert e.value.status() == "400" and "2000" in e.value.message(), e.value.message()
        c.close()
    finally:
        s.stop()
    assert s.proc.returncode == 0

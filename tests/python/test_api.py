"""The installed `optic` package (pip install .; scripts/test.sh installs it): predict against each
framework's own Python API on the same file, zero-copy in, threads, futures and errors."""
import concurrent.futures
import threading
from pathlib import Path

import numpy as np
import pytest

import optic

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
ONNX = MODELS / "tiny_cnn" / "model.onnx"
TORCHSCRIPT = MODELS / "tiny_cnn" / "model.pt"


@pytest.fixture(scope="module", autouse=True)
def tiny_models():
    if not ONNX.exists() or not TORCHSCRIPT.exists():
        pytest.fail(f"{ONNX} or {TORCHSCRIPT} missing: run build/optic models export --models tiny_cnn")


def batch(rows=3, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, (rows, 3, 32, 32)).astype(np.float32)


def test_backends_lists_availability_and_reasons():
    by_name = {b["name"]: b for b in optic.backends()}
    for name in ("onnxruntime", "openvino", "torch"):
        assert by_name[name]["available"], by_name[name]
        assert by_name[name]["version"]
    assert not by_name["xla"]["available"] and "embeds its own CPython" in by_name["xla"]["reason"]
    with pytest.raises(optic.UnsupportedError, match="embeds its own CPython"):
        optic.load(str(ONNX), backend="xla")


def test_inputs_and_outputs():
    m = optic.load(str(ONNX), backend="onnxruntime")
    assert m.inputs == [optic.TensorSpec("input", "float32", (None, 3, 32, 32))]
    assert [(o.name, o.dtype, o.shape) for o in m.outputs] == [("output", "float32", (None, 10))]


def test_onnxruntime_equals_inference_session():
    import onnxruntime as ort
    x = batch()
    ref = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    y = optic.load(str(ONNX), backend="onnxruntime").predict(x)
    assert y.dtype == np.float32 and y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_openvino_equals_openvino_runtime():
    import openvino as ov
    x = batch()
    compiled = ov.Core().compile_model(str(ONNX), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    ref = compiled(x)[0]
    y = optic.load(str(ONNX), backend="openvino").predict({"input": x})["output"]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_torch_equals_torch_jit_in_the_same_process():
    import torch  # Debian's torch: the same libtorch optic's backend links
    x = batch()
    with torch.no_grad():
        ref = torch.jit.load(str(TORCHSCRIPT)).eval()(torch.from_numpy(x)).numpy()
    y = optic.load(str(TORCHSCRIPT), backend="torch").predict(x)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_zoo_name_resolves_like_the_cli():
    m = optic.load("tiny_cnn", backend="torch", models_dir=str(MODELS))
    assert m.file == str(TORCHSCRIPT)
    x = batch()
    np.testing.assert_allclose(m.predict(x), optic.load(str(ONNX)).predict(x), rtol=1e-4, atol=1e-5)


def test_zero_copy_in_numpy_and_dlpack():
    import torch
    m = optic.load(str(ONNX), backend="onnxruntime")
    x = batch()
    m.predict(x)
    assert m._m._last_input_pointers() == [x.ctypes.data]
    t = torch.from_numpy(batch(seed=1))
    y = m.predict(t)
    assert m._m._last_input_pointers() == [t.data_ptr()]
    np.testing.assert_allclose(y, m.predict(t.numpy()), rtol=0, atol=0)
    # A strided view is copied once into C order: another pointer, the same result.
    strided = np.ascontiguousarray(batch().transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    y = m.predict(strided)
    assert m._m._last_input_pointers() != [strided.ctypes.data]
    np.testing.assert_allclose(y, m.predict(np.ascontiguousarray(strided)), rtol=0, atol=0)


def test_outputs_own_their_memory():
    m = optic.load(str(ONNX), backend="onnxruntime")
    y1 = m.predict(batch(seed=1))
    keep = y1.copy()
    m.predict(batch(seed=2))
    np.testing.assert_array_equal(y1, keep)


def test_threads_share_one_model_and_use_their_own():
    shared = optic.load(str(ONNX), backend="onnxruntime", threads=1)
    inputs = [batch(rows=2, seed=s) for s in range(8)]
    expected = [shared.predict(x) for x in inputs]
    errors = []

    def work(model, k):
        try:
            for _ in range(20):
                np.testing.assert_allclose(model.predict(inputs[k]), expected[k], rtol=1e-6, atol=1e-6)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
    own = [optic.load(str(ONNX), backend="openvino") for _ in range(2)]
    threads = [threading.Thread(target=work, args=(shared, k)) for k in range(6)]
    threads += [threading.Thread(target=work, args=(own[k - 6], k)) for k in (6, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_predict_async_returns_futures():
    m = optic.load(str(ONNX), backend="onnxruntime")
    futures = [m.predict_async(batch(seed=s)) for s in range(4)]
    for s, f in enumerate(futures):
        assert isinstance(f, concurrent.futures.Future)
        np.testing.assert_allclose(f.result(timeout=60), m.predict(batch(seed=s)), rtol=1e-6)
    bad = m.predict_async(batch().astype(np.float64))
    with pytest.raises(optic.InvalidArgumentError):
        bad.result(timeout=60)


def test_missing_file():
    with pytest.raises(optic.NotFoundError, match="does not exist"):
        optic.load("/nonexistent/model.onnx", backend="onnxruntime")
    with pytest.raises(optic.NotFoundError):
        optic.load("no_such_zoo_model", backend="onnxruntime", models_dir=str(MODELS))


def test_damaged_file(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(ONNX.read_bytes()[:200])
    with pytest.raises(optic.Error) as e:
        optic.load(str(broken), backend="onnxruntime")
    assert "broken.onnx" in str(e.value)


def test_bad_options():
    with pytest.raises(optic.InvalidArgumentError):
        optic.load(str(ONNX), backend="onnxruntime", no_such_option=1)
    with pytest.raises(optic.InvalidArgumentError):
        optic.load(str(ONNX), backend="onnxruntime", device="gpu7")
    with pytest.raises(optic.NotFoundError):
        optic.load(str(ONNX), backend="no_such_backend")


@pytest.mark.parametrize("bad, pattern", [
    (lambda x: {"image": x}, "no input named 'image'.*'input' float32"),
    (lambda x: x.astype(np.float64), "dtype float64"),
    (lambda x: x[:, :2].copy(), r"expects shape \[-1, 3, 32, 32\], got \[3, 2, 32, 32\]"),
    (lambda x: x[0], "expects shape"),
    (lambda x: {"input": x.tolist()}, "expected an array.*got list"),
    (lambda x: "x", "expected an array.*got str"),
    (lambda x: [x, x], "got 2 arrays"),
    (lambda x: {}, "missing input 'input'"),
])
def test_bad_inputs_raise_and_the_next_call_works(bad, pattern):
    m = optic.load(str(ONNX), backend="onnxruntime")
    x = batch()
    with pytest.raises(optic.InvalidArgumentError, match=pattern) as e:
        m.predict(bad(x))
    assert isinstance(e.value, ValueError) and e.value.code == "INVALID_ARGUMENT"
    np.testing.assert_allclose(m.predict(x), optic.load(str(ONNX)).predict(x), rtol=1e-6)


def test_error_hierarchy_mirrors_status_codes():
    names = {"InvalidArgumentError": "INVALID_ARGUMENT", "NotFoundError": "NOT_FOUND",
             "UnavailableError": "UNAVAILABLE", "UnsupportedError": "UNSUPPORTED",
             "UnsupportedHardwareError": "UNSUPPORTED_HARDWARE", "OutOfMemoryError": "OUT_OF_MEMORY",
             "CancelledError": "CANCELLED", "InternalError": "INTERNAL"}
    for name, code in names.items():
        cls = getattr(optic, name)
        assert issubclass(cls, optic.Error) and cls.code == code


def test_cuda_tensor_stays_on_the_device():
    """GPU machines only (skipped, never passed, elsewhere): a CUDA torch tensor reaches the torch
    backend's model as it is (same device pointer), and the result equals the CPU model's."""
    import torch
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")
    x = batch()
    m = optic.load(str(TORCHSCRIPT), backend="torch", device="cuda")
    t = torch.from_numpy(x).cuda()
    y = m.predict(t)
    assert m._m._last_input_pointers() == [t.data_ptr()]
    np.testing.assert_allclose(y, optic.load(str(TORCHSCRIPT), backend="torch").predict(x), rtol=1e-3, atol=1e-4)
    with pytest.raises(optic.InvalidArgumentError, match="takes host inputs only"):
        optic.load(str(ONNX), backend="onnxruntime").predict(t)


def test_gil_is_released_while_a_model_runs():
    # The null backend busy-waits 300 ms in Execute. Held, the GIL would stop this thread for all
    # of it; released, this thread's loop never waits long.
    import time
    m = optic.load(str(ONNX), backend="null", delay_us=300000, shape="3x8x8")
    x = np.zeros((1, 3, 8, 8), np.float32)
    started, done = threading.Event(), threading.Event()

    def run():
        started.set()
        m.predict(x)
        done.set()
    t = threading.Thread(target=run)
    t.start()
    started.wait()
    longest, last = 0.0, time.perf_counter()
    t0 = last
    while not done.is_set():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    t.join()
    assert time.perf_counter() - t0 >= 0.25
    assert longest < 0.15, f"this thread stalled {longest * 1e3:.0f} ms while the model ran"


def test_backend_failure_is_an_error_and_the_model_stays_usable():
    failing = optic.load(str(ONNX), backend="null", fail="error", shape="3x8x8")
    with pytest.raises(optic.Error) as e:
        failing.predict(np.zeros((1, 3, 8, 8), np.float32))
    assert "null" in str(e.value)
    m = optic.load(str(ONNX), backend="onnxruntime")
    np.testing.assert_allclose(m.predict(batch()), m.predict(batch()), rtol=0)

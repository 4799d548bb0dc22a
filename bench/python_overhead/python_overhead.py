"""Per-call latency at batch 1 of the same ONNX file through three doors, interleaved in rounds
(the order alternates, so drift hits all three): optic's Model.predict from Python, optic's C++
Predictor::Predict loop on that very model (Model._time_cpp_loop, no Python between calls), and
ONNX Runtime's own Python API (InferenceSession.run) with the session settings optic's backend
uses (intra-op threads, one inter-op thread, sequential, all graph optimizations).
Usage: python_overhead.py MODEL.onnx THREADS ROUNDS ITERS OUT_DIR
Writes OUT_DIR/raw.jsonl (every call's ms, per side and round) and prints a summary JSON line."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

import optic


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def main():
    path, threads, rounds, iters, out_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
    out_dir.mkdir(parents=True, exist_ok=True)
    model = optic.load(path, backend="onnxruntime", threads=threads)
    spec = model.inputs[0]
    x = np.random.default_rng(1).uniform(-2, 2, [1] + [int(d) for d in spec.shape[1:]]).astype(np.float32)

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feed = {spec.name: x}
    np.testing.assert_allclose(model.predict(x), session.run(None, feed)[0], rtol=1e-5, atol=1e-5)

    predict = model.predict
    run = session.run
    clock = time.perf_counter

    def time_python(fn, arg):
        ms = []
        for _ in range(iters):
            t0 = clock()
            fn(arg)
            ms.append((clock() - t0) * 1e3)
        return ms

    sides = {
        "optic_python": lambda: time_python(predict, x),
        "optic_cpp": lambda: model._m._time_cpp_loop(iters),
        "ort_python": lambda: time_python(lambda f: run(None, f), feed),
    }
    for fn in sides.values():  # warm-up, discarded
        fn()
    samples = {name: [] for name in sides}
    order = list(sides)
    with open(out_dir / "raw.jsonl", "w") as raw:
        for r in range(rounds):
            for name in (order if r % 2 == 0 else order[::-1]):
                ms = sides[name]()
                samples[name].extend(ms)
                raw.write(json.dumps({"round": r, "side": name, "ms": [round(v, 5) for v in ms]}) + "\n")
    summary = {"model": path, "batch": 1, "threads": threads, "rounds": rounds, "iters_per_round": iters,
               "optic": optic.__version__, "onnxruntime_python": ort.__version__,
               "optic_onnxruntime": next(b["version"] for b in optic.backends() if b["name"] == "onnxruntime")}
    for name, ms in samples.items():
        summary[name + "_median_ms"] = round(percentile(ms, 50), 5)
        summary[name + "_p99_ms"] = round(percentile(ms, 99), 5)
    summary["python_minus_cpp_median_us"] = round(1e3 * (summary["optic_python_median_ms"] - summary["optic_cpp_median_ms"]), 2)
    summary["optic_python_vs_ort_python_median"] = round(summary["optic_python_median_ms"] / summary["ort_python_median_ms"], 4)
    summary["optic_python_vs_ort_python_p99"] = round(summary["optic_python_p99_ms"] / summary["ort_python_p99_ms"], 4)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

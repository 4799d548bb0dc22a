"""ONNX Runtime's own Python API loop: the reference optic bench's throughput is compared with.

Same conditions as an optic offline cell: one InferenceSession with intra_op_num_threads=THREADS,
inter_op 1, sequential execution, a pool of distinct seeded batches (>= 64 MiB, >= 8 batches)
prepared before timing, 200 ms / 5 runs warm-up, then back-to-back runs for DURATION seconds.
Prints one JSON line: {"tool": "onnxruntime-python", "throughput_per_s": ..., ...}.
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort

model, batch, threads, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0]
shape = [batch] + [int(d) for d in inp.shape[1:]]
per_batch = int(np.prod(shape)) * 4
n = max(8, -(-(64 << 20) // per_batch))
rng = np.random.default_rng(1)
pool = [rng.uniform(-2, 2, size=shape).astype(np.float32) for _ in range(n)]
name = inp.name
t0, i = time.perf_counter(), 0
while i < 5 or time.perf_counter() - t0 < 0.2:
    sess.run(None, {name: pool[i % n]})
    i += 1
lat = []
start = time.perf_counter()
i = 0
while True:
    a = time.perf_counter()
    sess.run(None, {name: pool[i % n]})
    b = time.perf_counter()
    lat.append((b - a) * 1e3)
    i += 1
    if b - start >= duration and i >= 20:
        break
elapsed = time.perf_counter() - start
print(json.dumps({"tool": "onnxruntime-python", "version": ort.__version__,
                  "throughput_per_s": i * batch / elapsed, "latency_p50_ms": float(np.median(lat)),
                  "queries": i, "seconds": elapsed}))

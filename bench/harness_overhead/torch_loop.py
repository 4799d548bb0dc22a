"""libtorch's own loop (through PyTorch's Python API over the same libtorch 1.13): the reference
optic bench's torch backend is compared with.

Same model preparation as src/backends/torch/torch_backend.cc on the CPU: torch.jit.load,
eval(), torch.jit.freeze, torch.jit.optimize_for_inference (oneDNN convolutions), intra-op
threads = THREADS, contiguous NCHW fp32 inputs, inference under torch.inference_mode().
Same timing as an optic offline cell / ort_loop.py: a pool of distinct seeded batches (>= 64 MiB,
>= 8 batches) prepared before timing, 200 ms / 5 runs warm-up, then back-to-back runs for
DURATION seconds (and >= 20 runs).
Run it with /usr/bin/python3 (Debian's python3-torch 1.13, the libtorch optic links).
Prints one JSON line: {"tool": "torch-python", "throughput_per_s": ..., ...}.
"""
import json
import sys
import time

import numpy as np
import torch

model, batch, threads, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
torch.set_num_threads(threads)
m = torch.jit.load(model, map_location="cpu")
m.eval()
with torch.no_grad():
    m = torch.jit.freeze(m)
    m = torch.jit.optimize_for_inference(m)
shape = [batch, 3, 224, 224]
per_batch = int(np.prod(shape)) * 4
n = max(8, -(-(64 << 20) // per_batch))
rng = np.random.default_rng(1)
pool = [torch.from_numpy(rng.uniform(-2, 2, size=shape).astype(np.float32)) for _ in range(n)]
with torch.inference_mode():
    t0, i = time.perf_counter(), 0
    while i < 5 or time.perf_counter() - t0 < 0.2:
        m(pool[i % n])
        i += 1
    lat = []
    start = time.perf_counter()
    i = 0
    while True:
        a = time.perf_counter()
        m(pool[i % n])
        b = time.perf_counter()
        lat.append((b - a) * 1e3)
        i += 1
        if b - start >= duration and i >= 20:
            break
elapsed = time.perf_counter() - start
print(json.dumps({"tool": "torch-python", "backend": "torch", "version": torch.__version__,
                  "throughput_per_s": i * batch / elapsed, "latency_p50_ms": float(np.median(lat)),
                  "queries": i, "seconds": elapsed}))

#!/usr/bin/env python3
"""Stock eager PyTorch reference for optic's GPU targets, measured in the same run as optic.

    python3 bench/gpu/stock_pytorch.py --out results.jsonl [--models resnet50] [--iters 50]

What it measures (the stock-PyTorch reference points), per model, fp16 weights and inputs, channels-last,
random weights (torchvision, weights=None), torch.inference_mode, cudnn.benchmark on:
  eager  batch 1 and 256        plain module calls
  graph  batch 1                the same module captured once in a CUDA graph, replayed
  compile:<mode>  each batch     with --compile MODE[,MODE]: torch.compile(mode=MODE,
                                 dynamic=False) of the same module (max-autotune uses CUDA graphs
                                 itself); the first call of each batch size compiles, and its wall
                                 time is the row's compile_s
Inputs are already on the GPU (the usual "stock" number: no host copies); optic's rows include
the host-to-device and device-to-host copies, so the comparison is conservative for optic.
Timing: CUDA events around each call (graph: each replay), after warm-up; the median of --iters
calls gives ms per batch; img/s = batch / median. Energy: NVML's total-energy counter read around
the timed loop (pynvml; absent values are null, never made up).
Each measurement is one JSON line appended to --out; a table is printed last.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch
import torchvision


def nvml_handle():
    try:
        import pynvml
        pynvml.nvmlInit()
        return pynvml, pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
    except Exception as e:  # no pynvml or no driver: energy stays null
        print(f"note: NVML unavailable ({e}); energy not measured", file=sys.stderr)
        return None, None


def energy_mj(nv, h):
    if nv is None:
        return None
    try:
        return nv.nvmlDeviceGetTotalEnergyConsumption(h)
    except Exception:
        return None


def time_calls(fn, iters: int, warmup: int):
    """Median and all times (ms) of fn() measured with CUDA events, one pair per call."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for s, e in zip(starts, ends):
        s.record()
        fn()
        e.record()
    torch.cuda.synchronize()
    ms = [s.elapsed_time(e) for s, e in zip(starts, ends)]
    return statistics.median(ms), ms


def measure(name, model, batch, mode, iters, warmup, nv, h):
    x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=torch.half)
    x = x.contiguous(memory_format=torch.channels_last)
    compile_s = None
    if mode.startswith("compile:"):
        t0 = time.perf_counter()
        model(x)  # compiles (and autotunes) for this shape
        torch.cuda.synchronize()
        compile_s = time.perf_counter() - t0
    if mode == "eager" or mode.startswith("compile:"):
        fn = lambda: model(x)  # noqa: E731
    else:
        # Capture needs a side stream and a warmed-up model (cuDNN autotuning done).
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                model(x)
        torch.cuda.current_stream().wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = model(x)  # noqa: F841  (kept alive by the graph's pool)
        fn = graph.replay
    e0 = energy_mj(nv, h)
    t0 = time.perf_counter()
    med, all_ms = time_calls(fn, iters, warmup)
    wall = time.perf_counter() - t0
    e1 = energy_mj(nv, h)
    calls = iters + warmup
    joules = (e1 - e0) / 1000.0 if e0 is not None and e1 is not None else None
    row = {
        "kind": "stock_pytorch", "model": name, "mode": mode, "batch_size": batch,
        "precision": "fp16", "channels_last": True, "inputs_on_device": True,
        "compile_s": compile_s,
        "latency_median_ms": med, "latency_min_ms": min(all_ms), "latency_max_ms": max(all_ms),
        "throughput_per_s": batch * 1e3 / med, "iters": iters, "warmup": warmup,
        "mean_power_w": joules / wall if joules is not None and wall > 0 else None,
        # energy over warm-up + timed calls (the counter cannot be split finer)
        "energy_j_per_image": joules / (calls * batch) if joules is not None else None,
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(), "gpu": torch.cuda.get_device_name(),
    }
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--models", default="resnet50")
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--batches", default="1,256")
    p.add_argument("--compile", default="",
                   help="torch.compile modes to measure too, e.g. max-autotune (minutes per shape)")
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("stock_pytorch: no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True
    nv, h = nvml_handle()
    batches = [int(b) for b in args.batches.split(",")]
    rows = []

    def emit(row):  # appended at once: a run cut off during a long compile keeps what it measured
        rows.append(row)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")

    with torch.inference_mode():
        for name in args.models.split(","):
            torch.manual_seed(0)
            model = getattr(torchvision.models, name)(weights=None).eval().cuda().half()
            model = model.to(memory_format=torch.channels_last)
            for b in batches:
                emit(measure(name, model, b, "eager", args.iters, args.warmup, nv, h))
            emit(measure(name, model, 1, "cuda_graph", args.iters * 4, args.warmup, nv, h))
            for mode in filter(None, args.compile.split(",")):
                torch._dynamo.reset()
                compiled = torch.compile(model, mode=mode, dynamic=False)
                for b in batches:
                    emit(measure(name, compiled, b, f"compile:{mode}", args.iters, args.warmup,
                                 nv, h))
                    print(json.dumps(rows[-1]), flush=True)
                del compiled
            del model
            torch.cuda.empty_cache()
    print(f"{'model':<12}{'mode':<22}{'batch':>6}{'ms':>10}{'img/s':>12}{'J/img':>10}")
    for r in rows:
        j = r["energy_j_per_image"]
        print(f"{r['model']:<12}{r['mode']:<22}{r['batch_size']:>6}{r['latency_median_ms']:>10.3f}"
              f"{r['throughput_per_s']:>12.1f}{(f'{j:.4f}' if j is not None else 'n/a'):>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

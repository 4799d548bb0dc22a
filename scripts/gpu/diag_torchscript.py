#!/usr/bin/env python3
"""Where does loading a zoo TorchScript model spend its time on this machine's PyTorch?

Times torch.jit.load, .to(cuda, dtype), torch.jit.freeze, torch.jit.optimize_for_inference and
the first three forward passes (with and without the graph executor's optimizations), each step in a fresh child process with a time limit, so a step
that never finishes (densenet201 stalled for >240 s in optic's load on PyTorch 2.11) is named
instead of hanging the run. Prints one JSON line per (model, variant).

    python3 scripts/gpu/diag_torchscript.py --models densenet201,resnet50 --timeout 90
"""
import argparse
import json
import multiprocessing as mp
import time


def run(path, device, dtype, freeze, optimize, jit_opt, q):
    import torch
    torch._C._set_graph_executor_optimize(jit_opt)
    t = {}
    t0 = time.perf_counter()
    m = torch.jit.load(path, map_location="cpu").eval()
    t["load_s"] = time.perf_counter() - t0
    dt = {"fp32": torch.float32, "fp16": torch.float16}[dtype]
    t0 = time.perf_counter()
    m = m.to(device=device, dtype=dt)
    t["to_s"] = time.perf_counter() - t0
    q.put(("partial", dict(t)))
    if freeze:
        t0 = time.perf_counter()
        m = torch.jit.freeze(m)
        t["freeze_s"] = time.perf_counter() - t0
        q.put(("partial", dict(t)))
    if optimize:
        t0 = time.perf_counter()
        m = torch.jit.optimize_for_inference(m)
        t["optimize_s"] = time.perf_counter() - t0
        q.put(("partial", dict(t)))
    x = torch.randn(4, 3, 224, 224, device=device, dtype=dt)
    with torch.inference_mode():
        for i in range(3):
            t0 = time.perf_counter()
            m(x)
            if device == "cuda":
                torch.cuda.synchronize()
            t[f"forward{i}_ms"] = (time.perf_counter() - t0) * 1e3
            q.put(("partial", dict(t)))
    q.put(("done", t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="densenet201")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="fp16")
    ap.add_argument("--timeout", type=float, default=90)
    a = ap.parse_args()
    ctx = mp.get_context("spawn")
    for model in a.models.split(","):
        path = f"{a.models_dir}/{model}/model.pt"
        for freeze, optimize, jit_opt in ((True, False, True), (True, False, False),
                                          (True, True, False)):
            q = ctx.Queue()
            p = ctx.Process(target=run, args=(path, a.device, a.dtype, freeze, optimize, jit_opt, q))
            t0 = time.perf_counter()
            p.start()
            last, status = {}, "timeout"
            while time.perf_counter() - t0 < a.timeout:
                try:
                    kind, t = q.get(timeout=1)
                    last = t
                    if kind == "done":
                        status = "ok"
                        break
                except Exception:
                    if not p.is_alive():
                        status = f"exit {p.exitcode}"
                        break
            if p.is_alive():
                p.kill()
            p.join()
            print(json.dumps({"model": model, "device": a.device, "dtype": a.dtype,
                              "freeze": freeze, "optimize": optimize,
                              "jit_optimize": jit_opt, "status": status,
                              "wall_s": round(time.perf_counter() - t0, 2), **last}), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Machine manifest for a GPU run: GPU (name, driver, clocks, temperature, power limit), CPU,
memory, OS, and the versions of everything that made the numbers. Read-only: queries NVML and
tools, changes no setting.

    python3 bench/gpu/manifest.py --out manifest.json [--build build-gpu]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as e:  # tool missing: say so rather than guess
        return f"unavailable: {e}"


def gpus():
    fields = ("name,driver_version,pci.bus_id,memory.total,power.limit,power.default_limit,"
              "power.max_limit,power.draw,temperature.gpu,clocks.sm,clocks.mem,clocks.max.sm,"
              "clocks.max.mem,clocks_event_reasons.active,persistence_mode,compute_mode,"
              "ecc.mode.current,pstate")
    out = run(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"])
    names = fields.split(",")
    rows = []
    for line in out.splitlines():
        vals = [v.strip() for v in line.split(",")]
        if len(vals) == len(names):
            rows.append(dict(zip(names, vals)))
    return rows or out


def versions(build):
    v = {"python": sys.version.split()[0]}
    try:
        import torch
        v.update(torch=torch.__version__, torch_cuda=torch.version.cuda,
                 cudnn=torch.backends.cudnn.version(),
                 gpu_torch=torch.cuda.get_device_name() if torch.cuda.is_available() else None)
    except Exception as e:
        v["torch"] = f"unavailable: {e}"
    for mod in ("torchvision", "triton", "onnxruntime", "onnx", "numpy"):
        try:
            v[mod] = __import__(mod).__version__
        except Exception:
            v[mod] = None
    v["nvcc"] = run(["nvcc", "--version"]).splitlines()[-1:] or None
    v["cmake"] = (run(["cmake", "--version"]).splitlines() or [None])[0]
    v["gcc"] = (run(["c++", "--version"]).splitlines() or [None])[0]
    v["nvidia_smi"] = (run(["nvidia-smi", "--version"]).splitlines() or [None])
    v["optic_git"] = run(["git", "rev-parse", "HEAD"])
    v["optic_git_dirty"] = bool(run(["git", "status", "--porcelain", "--untracked-files=no"]))
    if build and os.path.exists(os.path.join(build, "optic")):
        v["optic_backends"] = run([os.path.join(build, "optic"), "backends"])
    return v


def cpu():
    model = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = None
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return {"model": model, "cores": os.cpu_count(), "memory_gb": mem_kb / 2**20 if mem_kb else None,
            "kernel": platform.release(), "os": run(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"])}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--build", default="")
    a = p.parse_args()
    m = {"utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "hostname": platform.node(),
         "gpus": gpus(), "cpu": cpu(), "versions": versions(a.build),
         "env": {k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")}}
    with open(a.out, "w") as f:
        json.dump(m, f, indent=2)
    print(json.dumps(m["gpus"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Is this machine's own speed stable? A fixed workload timed in windows, no optic involved.

    .venv/bin/python bench/machine_stability.py --threads 1,2 --seconds 80 --out results.json

For each thread count: a 256x256 float32 matrix product (NumPy's BLAS with that many threads)
repeated for --seconds, counted per 1-s window; prints and writes the min/median/max per window
and the max/min of 10-s windows. Why: on the 2-core development VM two optic runs minutes
apart disagreed by up to 1.8x on cells that were stable inside each run, with no other process
using CPU (`host_other_cpu` ~0.01 cores) and under 3% steal. If a workload that never changes
shows the same drift, the machine, not the harness, is the cause; the thread count at which it
stays flat is the one whose numbers can be reproduced on it. Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def child(seconds: float) -> None:
    import numpy as np
    a = np.random.default_rng(0).random((256, 256), dtype=np.float32)
    counts = []
    end = time.time() + seconds
    while time.time() < end:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 1.0:
            a @ a
            n += 1
        counts.append(n)
    print(json.dumps(counts))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--seconds", type=float, default=80)
    p.add_argument("--out")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(a.seconds)
        return 0
    results = {"seconds": a.seconds, "loadavg_before": open("/proc/loadavg").read().split()[:3],
               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                            if l.startswith("model name")), "?"), "nproc": os.cpu_count(), "runs": []}
    for t in (int(x) for x in a.threads.split(",")):
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t))
        out = subprocess.run([sys.executable, __file__, "--child", "--seconds", str(a.seconds)],
                             env=env, capture_output=True, text=True, check=True).stdout
        counts = json.loads(out)
        tens = [sum(counts[i:i + 10]) for i in range(0, len(counts) - 9, 10)]
        run = {"threads": t, "per_1s": counts, "per_10s": tens,
               "1s_min": min(counts), "1s_median": statistics.median(counts), "1s_max": max(counts),
               "10s_max_over_min": round(max(tens) / min(tens), 3) if tens else None}
        results["runs"].append(run)
        print(f"threads {t}: products per 1-s window min {run['1s_min']} median {run['1s_median']} "
              f"max {run['1s_max']}; 10-s windows {tens} max/min {run['10s_max_over_min']}", flush=True)
    results["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Markdown tables from an optic bench results file (the CPU sweep in BENCHMARKS.md).

Prints: row counts per status; per model the best backend for latency (lowest p50 at batch 1,
offline: one query at a time with a synchronous Execute, the single-stream loop) and for
throughput (highest img/s over all batches); and the full grid, img/s per model x backend x
batch with the p50 in ms, `T` for a timeout row, `F` failed, `U` unsupported, `*` unstable.
Every row of the file appears in the grid; none is dropped.
Usage: bench/sweep_tables.py results.jsonl
"""
import collections
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    rows = [r for r in rows if r.get("kind", "bench") == "bench"]  # not ensemble or e2e rows
    status = collections.Counter(r["status"] for r in rows)
    unstable = sum(1 for r in rows if r["status"] == "ok" and not r.get("stable"))
    print(f"rows: {len(rows)}; " + ", ".join(f"{k} {v}" for k, v in sorted(status.items())) +
          f"; ok but unstable: {unstable}")
    errs = [r["max_rel_err"] for r in rows if r["status"] == "ok" and r.get("max_rel_err") is not None]
    if errs:
        print(f"max_rel_err vs reference over ok rows: max {max(errs):.2e}")
    print()
    models = list(dict.fromkeys(r["model"] for r in rows))
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    batches = sorted({r["batch_size"] for r in rows})
    ok = [r for r in rows if r["status"] == "ok"]
    print("| model | best latency (b1 p50) | runner-up | best throughput | runner-up |")
    print("|---|---|---|---|---|")
    for m in models:
        lat = sorted((r for r in ok if r["model"] == m and r["batch_size"] == 1),
                     key=lambda r: r["latency_ms"]["p50"])
        thr = sorted((r for r in ok if r["model"] == m), key=lambda r: -r["throughput_per_s"])

        def fl(r):
            return f"{r['backend']}: {r['latency_ms']['p50']:.1f} ms" + ("" if r["stable"] else " *")

        def ft(r):
            return f"{r['backend']} b{r['batch_size']}: {r['throughput_per_s']:.1f} img/s" + \
                ("" if r["stable"] else " *")
        cells = [fl(lat[0]) if lat else "-", fl(lat[1]) if len(lat) > 1 else "-",
                 ft(thr[0]) if thr else "-"]
        # runner-up throughput: best of a different backend
        other = [r for r in thr[1:] if thr and r["backend"] != thr[0]["backend"]]
        cells.append(ft(other[0]) if other else "-")
        print(f"| {m} | " + " | ".join(cells) + " |")
    print()
    print("img/s (p50 ms) per cell; T timeout, F failed, U unsupported, * unstable")
    print()
    print("| model | backend | " + " | ".join(f"b{b}" for b in batches) + " |")
    print("|---|---|" + "---|" * len(batches))
    index = {(r["model"], r["backend"], r["batch_size"]): r for r in rows}
    for m in models:
        for be in backends:
            out = []
            for b in batches:
                r = index.get((m, be, b))
                if r is None:
                    out.append("(no row)")
                elif r["status"] == "ok":
                    out.append(f"{r['throughput_per_s']:.1f} ({r['latency_ms']['p50']:.0f})" +
                               ("" if r["stable"] else "*"))
                else:
                    out.append({"timeout": "T", "failed": "F", "unsupported": "U"}.get(r["status"], r["status"]))
            print(f"| {m} | {be} | " + " | ".join(out) + " |")


if __name__ == "__main__":
    main()

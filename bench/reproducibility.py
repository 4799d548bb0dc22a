#!/usr/bin/env python3
"""Reproducibility of optic bench: compare two results files cell by cell (issue 3, "the numbers
are reproducible within the stability rule on a second run").

For every cell_id with an `ok` row in both files: throughput and p50 latency of run B over run A,
and whether the pair is within the stability rule (max/min <= 1 + TOL, TOL 0.10, the same rule
a cell applies to its last 3 windows). Cells present in one file only, or not `ok` in both, are
listed, never dropped. Exit code 0 when every compared cell is within the rule, 1 otherwise,
2 for bad usage.

Usage: bench/reproducibility.py A.jsonl B.jsonl [--cells SUBSTR,...] [--tol 0.10] [--md OUT.md]
  --cells: keep only cell_ids containing one of the substrings (all of them: comma = or,
           '+' inside one = and, e.g. "mobilenet_v2+|b8|,resnet50").
"""
import argparse
import json
import statistics
import sys


def load(path):
    rows = {}
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: not JSON ({e})")
                if "cell_id" not in r:
                    sys.exit(f"{path}:{n}: row has no cell_id (not an optic bench results file?)")
                rows[r["cell_id"]] = r  # a resumed/rerun cell: the last row wins
    except OSError as e:
        sys.exit(f"cannot read {path}: {e}")
    return rows


def keep(cell_id, filters):
    if not filters:
        return True
    return any(all(part in cell_id for part in f.split("+")) for f in filters)


def spread(a, b):
    return max(a, b) / min(a, b) if a and b and a > 0 and b > 0 else float("inf")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--cells", default="")
    ap.add_argument("--tol", type=float, default=0.10)
    ap.add_argument("--md", help="also write the table to this markdown file")
    args = ap.parse_args()
    if not 0 < args.tol < 1:
        ap.error("--tol must be in (0, 1)")
    filters = [f for f in args.cells.split(",") if f]
    a, b = load(args.a), load(args.b)
    ids_a = {k for k in a if keep(k, filters)}
    ids_b = {k for k in b if keep(k, filters)}
    limit = 1 + args.tol
    lines = [f"A: {args.a}", f"B: {args.b}",
             f"rule: max/min <= {limit:.2f} on throughput and on p50 latency", "",
             "| cell | A img/s | B img/s | B/A thr | A p50 ms | B p50 ms | B/A p50 | stable A/B | within |",
             "|---|---|---|---|---|---|---|---|---|"]
    compared, within, thr_ratios, p50_ratios, skipped = 0, 0, [], [], []
    for cid in sorted(ids_a & ids_b):
        ra, rb = a[cid], b[cid]
        if ra.get("status") != "ok" or rb.get("status") != "ok":
            skipped.append(f"{cid}: status {ra.get('status')} / {rb.get('status')}")
            continue
        ta, tb = ra["throughput_per_s"], rb["throughput_per_s"]
        pa, pb = ra["latency_ms"]["p50"], rb["latency_ms"]["p50"]
        ok = spread(ta, tb) <= limit and spread(pa, pb) <= limit
        compared += 1
        within += ok
        thr_ratios.append(tb / ta)
        p50_ratios.append(pb / pa)
        lines.append(f"| {cid} | {ta:.2f} | {tb:.2f} | {tb / ta:.3f} | {pa:.2f} | {pb:.2f} | {pb / pa:.3f} | "
                     f"{str(ra.get('stable')).lower()}/{str(rb.get('stable')).lower()} | "
                     f"{'yes' if ok else '**no**'} |")
    lines.append("")
    lines.append(f"{within} of {compared} cells within the rule")
    if compared:
        lines.append(f"B/A throughput ratio: median {statistics.median(thr_ratios):.3f}, "
                     f"min {min(thr_ratios):.3f}, max {max(thr_ratios):.3f}; "
                     f"B/A p50 ratio: median {statistics.median(p50_ratios):.3f}, "
                     f"min {min(p50_ratios):.3f}, max {max(p50_ratios):.3f}")
    for cid in sorted(ids_a - ids_b):
        skipped.append(f"{cid}: only in A")
    for cid in sorted(ids_b - ids_a):
        skipped.append(f"{cid}: only in B")
    if skipped:
        lines.append("not compared: " + "; ".join(skipped))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    if compared == 0:
        print("no cell has an ok row in both files", file=sys.stderr)
        return 1
    return 0 if within == compared else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Reproducibility of optic bench: compare two results files cell by cell (are the numbers
reproducible within the stability rule on a second run?).

For every cell_id with an `ok` row in both files: throughput and p50 latency of run B over run A,
and whether the pair is within the stability rule (max/min <= 1 + TOL, TOL 0.10, the same rule
a cell applies to its last 3 windows). Cells present in one file only, or not `ok` in both, are
listed, never dropped. Exit code 0 when every compared cell is within the rule, 1 otherwise,
2 for bad usage.

Repeats (optic bench --repeat N): when a file's rows carry `repeat`/`repeats` with N > 1, a cell
is the median of its ok repeats (throughput and p50 each), as optic report shows it, and the
table adds each side's repeat spread (max/min throughput across that side's repeats, `!` past
the rule) and the number of repeats. The rows that make a cell follow optic report
(src/results/repeats.h): the latest row of each repeat index, none beyond the latest `repeats`.
Files without repeats are compared exactly as before.

Usage: bench/reproducibility.py A.jsonl B.jsonl [--cells SUBSTR,...] [--tol 0.10] [--md OUT.md]
  --cells: keep only cell_ids containing one of the substrings (all of them: comma = or,
           '+' inside one = and, e.g. "mobilenet_v2+|b8|,resnet50").
"""
import argparse
import json
import statistics
import sys


def load(path):
    """cell_id -> list of rows, one per repeat index (the later row of an index wins)."""
    cells = {}
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
                # A resumed/rerun cell: the last row of each repeat index wins; rows without the
                # field are repeat 1, so files without repeats keep "the last row wins".
                r["_line"] = n
                cells.setdefault(r["cell_id"], {})[r.get("repeat") or 1] = r
    except OSError as e:
        sys.exit(f"cannot read {path}: {e}")
    out = {}
    for cid, by_repeat in cells.items():
        latest = max(by_repeat.values(), key=lambda r: r["_line"])
        n = latest.get("repeats") or 1
        kept = [by_repeat[k] for k in sorted(by_repeat) if k <= n] or [latest]
        out[cid] = kept
    return out


def has_repeats(cells):
    return any(len(rows) > 1 or (rows[0].get("repeats") or 1) > 1 for rows in cells.values())


class Cell:
    """The numbers compared for one cell of one file: the row's, or the medians of its ok repeats."""

    def __init__(self, rows):
        ok = [r for r in rows if r.get("status") == "ok"]
        self.status = "ok" if ok else rows[-1].get("status")
        self.repeats = len(ok)
        self.thr = self.p50 = None
        self.spread = None
        self.stable = None
        self.contended = any(r.get("contended") is True for r in ok)
        if ok:
            thr = [r["throughput_per_s"] for r in ok]
            # median_high: optic's one median (src/measure/stats.h), a repeat's own value.
            self.thr = statistics.median_high(thr)
            self.p50 = statistics.median_high(r["latency_ms"]["p50"] for r in ok)
            self.spread = spread(max(thr), min(thr)) if len(thr) > 1 else None
            self.stable = all(r.get("stable") for r in ok) if all("stable" in r for r in ok) else None


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
    repeated = has_repeats(a) or has_repeats(b)
    ids_a = {k for k in a if keep(k, filters)}
    ids_b = {k for k in b if keep(k, filters)}
    limit = 1 + args.tol
    lines = [f"A: {args.a}", f"B: {args.b}",
             f"rule: max/min <= {limit:.2f} on throughput and on p50 latency"]
    if repeated:
        lines += [f"repeats: A and B values are medians across each side's ok repeats; spread = "
                  f"max/min throughput across one side's repeats (! = above {limit:.2f})", "",
                  "| cell | A img/s | B img/s | B/A thr | A p50 ms | B p50 ms | B/A p50 | A repeats, spread | "
                  "B repeats, spread | stable A/B | within |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
    else:
        lines += ["", "| cell | A img/s | B img/s | B/A thr | A p50 ms | B p50 ms | B/A p50 | stable A/B | within |",
                  "|---|---|---|---|---|---|---|---|---|"]

    def spread_text(c):
        if c.spread is None:
            return f"{c.repeats}, -"
        return f"{c.repeats}, {c.spread:.3f}{'!' if c.spread > limit else ''}"

    compared, within, thr_ratios, p50_ratios, skipped = 0, 0, [], [], []
    disagree = {"A": 0, "B": 0}
    for cid in sorted(ids_a & ids_b):
        ca, cb = Cell(a[cid]), Cell(b[cid])
        if ca.status != "ok" or cb.status != "ok":
            skipped.append(f"{cid}: status {ca.status} / {cb.status}")
            continue
        ta, tb = ca.thr, cb.thr
        pa, pb = ca.p50, cb.p50
        ok = spread(ta, tb) <= limit and spread(pa, pb) <= limit
        compared += 1
        within += ok
        thr_ratios.append(tb / ta)
        p50_ratios.append(pb / pa)
        for side, c in (("A", ca), ("B", cb)):
            disagree[side] += c.spread is not None and c.spread > limit
        cols = f"| {cid} | {ta:.2f} | {tb:.2f} | {tb / ta:.3f} | {pa:.2f} | {pb:.2f} | {pb / pa:.3f} | "
        if repeated:
            cols += f"{spread_text(ca)} | {spread_text(cb)} | "
        lines.append(cols + f"{str(ca.stable).lower()}/{str(cb.stable).lower()} | "
                     f"{'yes' if ok else '**no**'} |")
    lines.append("")
    lines.append(f"{within} of {compared} cells within the rule")
    if compared:
        lines.append(f"B/A throughput ratio: median {statistics.median(thr_ratios):.3f}, "
                     f"min {min(thr_ratios):.3f}, max {max(thr_ratios):.3f}; "
                     f"B/A p50 ratio: median {statistics.median(p50_ratios):.3f}, "
                     f"min {min(p50_ratios):.3f}, max {max(p50_ratios):.3f}")
    if repeated and compared:
        lines.append(f"cells whose own repeats spread beyond {limit:.2f}: A {disagree['A']}, "
                     f"B {disagree['B']} of {compared}")
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

"""Summary table of one bench/server_vs_triton.sh run: per server, the median over rounds of
each measure, and optic / Triton ratios. Reads OUT/load_<server>_r<N>.jsonl (optic load rows),
OUT/wrk_<server>_r<N>_c<C>.txt, OUT/uptime_*.txt, OUT/manifest.txt; prints Markdown.
  python3 bench/triton/summarize.py OUT PAIRS
"""
import glob
import json
import os
import re
import statistics
import sys

SERVERS = ("optic", "triton")


def wrk_file(path):
    """(requests/s, p50 ms) from wrk --latency output."""
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    m = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", text)
    return rps, float(m.group(1)) * scale, errors.group(0) if errors else ""


def rounds(out, server, pairs):
    result = []
    for r in range(1, pairs + 1):
        rows = [json.loads(line) for line in open(f"{out}/load_{server}_r{r}.jsonl")]
        c1 = next(x for x in rows if x["concurrency"] == 1)
        best = max(rows, key=lambda x: x["throughput_per_s"] or 0)
        st = c1.get("stages_ms") or {}
        m = {
            "load_c1_p50": c1["latency_ms"]["p50"],
            "load_c1_infer": st.get("infer", float("nan")),
            "load_c1_server": st.get("server", float("nan")),
            "load_c1_rps": c1["throughput_per_s"],
            "load_max_rps": best["throughput_per_s"],
            "load_max_c": best["concurrency"],
            "errors": sum(int(x.get("error") not in (None, "", 0)) for x in rows),
        }
        m["load_c1_added"] = m["load_c1_p50"] - m["load_c1_infer"]
        for path in sorted(glob.glob(f"{out}/wrk_{server}_r{r}_c*.txt")):
            c = int(re.search(r"_c(\d+)\.txt$", path).group(1))
            rps, p50, err = wrk_file(path)
            m[f"wrk_c{c}_rps"], m[f"wrk_c{c}_p50"] = rps, p50
            if err:
                m[f"wrk_c{c}_errors"] = err
        result.append(m)
    return result


def main(out, pairs):
    data = {s: rounds(out, s, pairs) for s in SERVERS}
    keys = [k for k in data["optic"][0] if not k.endswith("errors") and k != "load_max_c"]
    med = {s: {k: statistics.median(r[k] for r in data[s]) for k in keys} for s in SERVERS}
    labels = {
        "load_c1_p50": "optic load c=1: median latency (ms)",
        "load_c1_infer": "c=1: model compute, server's compute_infer (ms)",
        "load_c1_added": "c=1: added latency = median - compute_infer (ms)",
        "load_c1_server": "c=1: server-side request time from /stats (ms)",
        "load_c1_rps": "optic load c=1: req/s",
        "load_max_rps": "optic load: max req/s over concurrency",
    }
    for k in keys:
        if k.startswith("wrk_"):
            c, what = re.match(r"wrk_c(\d+)_(\w+)", k).groups()
            labels[k] = f"wrk -c{c}: " + ("median latency (ms)" if what == "p50" else "req/s")
    lines = [f"# optic serve vs Triton: identity 1x3x224x224 FP32, binary tensors ({os.path.basename(out)})", ""]
    lines += ["```", open(f"{out}/manifest.txt").read().rstrip(), "```", ""]
    for name in ("before", "after"):
        lines.append(f"uptime {name}: " + " ".join(open(f"{out}/uptime_{name}.txt").read().split()))
    lines += ["", f"Medians over {pairs} interleaved rounds (each value per round in the table below).", "",
              "| measure | optic serve | Triton | optic / Triton |", "|---|---|---|---|"]
    for k in keys:
        o, t = med["optic"][k], med["triton"][k]
        ratio = f"{o / t:.2f}" if t else "n/a"
        lines.append(f"| {labels.get(k, k)} | {o:.3f} | {t:.3f} | {ratio} |")
    lines += ["", "Per round (max req/s concurrency in parentheses):", "",
              "| server | round | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for s in SERVERS:
        for i, r in enumerate(data[s], 1):
            vals = [f"{r[k]:.3f}" + (f" (c{r['load_max_c']})" if k == "load_max_rps" else "") for k in keys]
            lines.append(f"| {s} | {i} | " + " | ".join(vals) + " |")
    errs = [f"{s} r{i}: {k}={v}" for s in SERVERS for i, r in enumerate(data[s], 1)
            for k, v in r.items() if k.endswith("errors") and v]
    lines += ["", "Errors: " + ("; ".join(errs) if errs else "none (optic load rows and wrk)")]
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

#!/usr/bin/env python3
"""Summary of a bench/server_latency.sh run: medians over rounds per server, protocol and
concurrency (throughput, p50, p99, the server's stage split from its statistics), optic's added
latency over the echo server (p50 and p99 differences, throughput ratio) and, with a baseline
build, after/before ratios. Prints Markdown.
   bench/server_latency_summary.py RUN_DIR [SERVER ...]   (servers in run order: optic,
   its baselines oldest first, echo; ratios: each baseline over the one before it, optic over
   the last baseline)"""
import glob
import json
import os
import re
import statistics
import sys


def load(run):
    rows = {}  # (server, protocol, concurrency) -> [row per round]
    for path in sorted(glob.glob(os.path.join(run, "load_*_r*.jsonl"))):
        m = re.match(r"load_(\w+?)_(http|grpc)_r(\d+)\.jsonl$", os.path.basename(path))
        if not m:
            continue
        server, proto = m.group(1), m.group(2)
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                rows.setdefault((server, proto, r["concurrency"]), []).append(r)
    return rows


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def summarize(rows):
    out = {}
    for key, rs in rows.items():
        st = [r.get("stages_ms") or {} for r in rs]
        out[key] = {
            "n": len(rs),
            "rps": med([r["throughput_per_s"] for r in rs]),
            "p50": med([r["latency_ms"]["p50"] for r in rs]),
            "p99": med([r["latency_ms"]["p99"] for r in rs]),
            "errors": sum((r.get("settings") or {}).get("errors", 0) for r in rs),
            **{k: med([s.get(k) for s in st])
               for k in ("server", "queue", "compute_input", "infer", "compute_output", "client")},
            "rps_all": [r["throughput_per_s"] for r in rs],
        }
    return out


def ratio_table(s, protos, concs, old, new):
    print(f"\n## {new} / {old} (same rounds)\n")
    print("| protocol | conc | req/s ratio | p50 ratio | p99 ratio | server-time ratio |")
    print("|---|---|---|---|---|---|")
    for p in protos:
        for c in concs:
            a, b = s.get((new, p, c)), s.get((old, p, c))
            if not a or not b:
                continue
            srv = a["server"] / b["server"] if a["server"] and b["server"] else None
            print(f"| {p} | {c} | {fmt(a['rps'] / b['rps'])} | {fmt(a['p50'] / b['p50'])} | "
                  f"{fmt(a['p99'] / b['p99'])} | {fmt(srv)} |")


def main():
    run = sys.argv[1]
    s = summarize(load(run))
    found = {k[0] for k in s}
    servers = [x for x in sys.argv[2:] if x in found] or sorted(found)
    protos = [p for p in ("http", "grpc") if any(k[1] == p for k in s)]
    concs = sorted({k[2] for k in s})
    rounds = max(v["n"] for v in s.values())
    print(f"# server latency under load: medians of {rounds} rounds\n")
    manifest = os.path.join(run, "manifest.txt")
    if os.path.exists(manifest):
        print("```\n" + open(manifest).read().strip() + "\n```\n")
    print("## Per server (ms; req/s). stage columns: the server's statistics per request\n")
    print("| server | protocol | conc | req/s | p50 | p99 | server | queue | compute_input | infer "
          "| compute_output | client | errors | req/s per round |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for server in servers:
        for p in protos:
            for c in concs:
                v = s.get((server, p, c))
                if not v:
                    continue
                print(f"| {server} | {p} | {c} | {fmt(v['rps'], 0)} | {fmt(v['p50'], 3)} | "
                      f"{fmt(v['p99'], 3)} | {fmt(v['server'], 3)} | {fmt(v['queue'], 3)} | "
                      f"{fmt(v['compute_input'], 3)} | {fmt(v['infer'], 3)} | "
                      f"{fmt(v['compute_output'], 3)} | {fmt(v['client'], 3)} | {v['errors']} | "
                      + ", ".join(f"{x:.0f}" for x in v["rps_all"]) + " |")
    if "echo" in servers:
        print("\n## optic over the echo server (same client, request, concurrency)\n")
        print("| server | protocol | conc | p50 added (ms) | p99 added (ms) | p50 ratio | req/s ratio |")
        print("|---|---|---|---|---|---|---|")
        for server in [x for x in servers if x != "echo"]:
            for p in protos:
                for c in concs:
                    a, e = s.get((server, p, c)), s.get(("echo", p, c))
                    if not a or not e:
                        continue
                    print(f"| {server} | {p} | {c} | {fmt(a['p50'] - e['p50'], 3)} | "
                          f"{fmt(a['p99'] - e['p99'], 3)} | {fmt(a['p50'] / e['p50'])} | "
                          f"{fmt(a['rps'] / e['rps'])} |")
    builds = [x for x in servers if x not in ("optic", "echo")] + ["optic"]
    pairs = list(zip(builds, builds[1:]))
    if len(builds) > 2:
        pairs.append((builds[0], "optic"))
    for old, new in pairs:
        ratio_table(s, protos, concs, old, new)
    # The server's own counters agree with each other: /stats success count = /metrics count.
    for server in [x for x in servers if x != "echo"]:
        stats_path = os.path.join(run, f"stats_{server}.json")
        metrics_path = os.path.join(run, f"metrics_{server}.txt")
        if not (os.path.exists(stats_path) and os.path.exists(metrics_path)):
            continue
        st = json.load(open(stats_path))["model_stats"][0]["inference_stats"]["success"]["count"]
        mt = None
        for line in open(metrics_path):
            if line.startswith("nv_inference_request_success{"):
                mt = int(float(line.split()[-1]))
        print(f"\n{server}: /stats success count {st}, /metrics nv_inference_request_success {mt}"
              f" ({'agree' if st == mt else 'DISAGREE'})")


if __name__ == "__main__":
    main()

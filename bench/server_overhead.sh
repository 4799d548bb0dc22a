#!/usr/bin/env bash
# Server overhead of optic serve: a 1x3x224x224 fp32 request (binary tensor extension) to the
# identity model on the null backend (examples/model-repository/identity: a copy, no framework),
# so what is measured is the HTTP front end, codec, batcher and transfer.
#   bench/server_overhead.sh [BUILD_DIR]      (default: build)
# Measures, with optic load and with wrk:
#   - median latency per request at concurrency 1 (added latency = median - the model's own
#     compute, which the server's statistics report),
#   - max requests/s over concurrency 1,2,4,8.
# Writes results/cpu/server_overhead.jsonl (optic load rows, schema v1, with the host manifest)
# and results/cpu/server_overhead.md (summary, wrk output, machine load during the run).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OPTIC=$BUILD/optic
DURATION=${DURATION:-10}
OUT=results/cpu
mkdir -p "$OUT"
JSONL=$OUT/server_overhead.jsonl
MD=$OUT/server_overhead.md
TMP=$(mktemp -d)
trap 'kill $SERVER_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT

"$OPTIC" serve --model-repository examples/model-repository --http-port 0 --grpc-port -1 --http-threads 2 \
  >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q listening "$TMP/serve.out" 2>/dev/null && break; sleep 0.1; done
ADDR=$(sed -n 's/.*listening on http:\/\/\([^,]*\).*$/\1/p' "$TMP/serve.out")
[ -n "$ADDR" ] || { echo "server did not start:"; cat "$TMP/serve.err"; exit 1; }
echo "server at $ADDR"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$JSONL"
"$OPTIC" load --url "$ADDR" --model identity --concurrency 1,2,4,8 --duration-s "$DURATION" \
  --warmup-s 2 --output "$JSONL" | tee "$TMP/load.txt"

# wrk: the same request body and headers.
python3 bench/wrk_identity_request.py "$TMP"
WRK=""
for c in 1 8; do
  t=$(( c < 2 ? 1 : 2 ))
  r=$(wrk -t$t -c$c -d${DURATION}s --latency -s "$TMP/post.lua" "http://$ADDR/v2/models/identity/infer")
  WRK+="### wrk -t$t -c$c -d${DURATION}s"$'\n```\n'"$r"$'\n```\n'
done
STATS=$(curl -s "http://$ADDR/v2/models/identity/stats")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$JSONL" "$MD" "$TMP/load.txt" "$LOAD_BEFORE" "$LOAD_AFTER" "$STATS" "$WRK" <<'PY'
import json, sys, subprocess
jsonl, md, load_txt, lb, la, stats, wrk = sys.argv[1:]
rows = [json.loads(l) for l in open(jsonl)]
c1 = next(r for r in rows if r["concurrency"] == 1)
best = max(rows, key=lambda r: r["throughput_per_s"] or 0)
infer = c1.get("stages_ms", {}).get("infer", 0.0)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
host = c1["host"]
with open(md, "w") as f:
    f.write(f"""# optic serve overhead (CPU)

Request: 1x3x224x224 FP32, binary tensor extension, binary output, identity model on the null
backend. Command: `bench/server_overhead.sh` at commit {commit}.
Host: {host.get('cpu')} x{host.get('cores')} cores, {host.get('memory_gb', 0):.1f} GB, {host.get('os')}.
Load average before/after: {lb} / {la} (other work on the machine inflates every number).

| measure | value |
|---|---|
| median latency, concurrency 1 (optic load) | {c1['latency_ms']['p50']:.3f} ms |
| model compute (server compute_infer) | {infer:.3f} ms |
| **median added latency** | **{c1['latency_ms']['p50'] - infer:.3f} ms** |
| server-side time per request (stats) | {c1.get('stages_ms', {}).get('server', float('nan')):.3f} ms |
| max requests/s (optic load, concurrency {best['concurrency']}) | {best['throughput_per_s']:.1f} |

## optic load
```
{open(load_txt).read()}```

## wrk
{wrk}
## server statistics after the run
```
{stats}
```
""")
print(open(md).read())
PY

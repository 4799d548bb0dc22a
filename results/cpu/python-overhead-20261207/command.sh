#!/usr/bin/env bash
# From the repository root after scripts/setup.sh, scripts/build.sh,
# `build/optic models export --models tiny_cnn` and `.venv/bin/pip install --no-build-isolation .`.
# Per-call latency at batch 1 of tiny_cnn's ONNX file: optic's Model.predict from Python, optic's
# C++ Predictor loop on the same model, onnxruntime.InferenceSession.run (10 interleaved rounds of
# 1000 calls each), at 1 and 2 intra-op threads; then bench/api_overhead/ort_overhead (ONNX
# Runtime's own C++ Session::Run vs optic's Predictor, p90) for the C++ side of the same question.
set -euo pipefail
OUT=results/cpu/python-overhead-20261207
MODEL=models/tiny_cnn/model.onnx
.venv/bin/python - "$MODEL" > "$OUT/manifest.json" <<'PY'
import hashlib, json, os, platform, subprocess, sys
import numpy, onnxruntime, optic
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(json.dumps({
    "host": platform.node(), "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(),
    "loadavg": os.getloadavg(), "python": sys.version.split()[0], "numpy": numpy.__version__,
    "onnxruntime_python": onnxruntime.__version__, "optic": optic.__version__,
    "optic_backends": {b["name"]: b.get("version") for b in optic.backends() if b["available"]},
    "optic_commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
    "model": sys.argv[1], "model_sha256": hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest(),
}, indent=2))
PY
for t in 1 2; do
  .venv/bin/python bench/python_overhead/python_overhead.py "$MODEL" "$t" 10 1000 "$OUT/threads$t" \
    | tee "$OUT/summary-threads$t.json"
done
build/bench/api_overhead/ort_overhead "$MODEL" 1 10 1000 | tee "$OUT/ort_overhead_cpp-threads1.json"

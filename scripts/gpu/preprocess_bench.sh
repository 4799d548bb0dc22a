#!/usr/bin/env bash
# GPU preprocessing benchmark, run on the GPU machine from the repository root:
#   scripts/gpu/preprocess_bench.sh            (results in $OUT, default results/gpu)
# 1. uses nvcc from PATH (the GPU machines' image has CUDA 13.0), else the pip toolchain in
#    .deps/cuda (OPTIC_CUDA_TOOLCHAIN=1 scripts/setup.sh, which needs the network),
# 2. builds optic with OPTIC_WITH_CUDA=ON and no framework backends in build-gpu (needs the
#    Debian dev packages of scripts/setup.sh: libturbojpeg0-dev, GTest, CLI11, nlohmann-json;
#    SKIP_BUILD=1 BUILD=<dir> reuses a CUDA build made by scripts/gpu/run.sh instead) and
#    runs the preprocess tests, the GPU ones included,
# 3. generates 128 medium JPEGs (500x375, ~120 kB, as bench/preprocess_cpu.py does) and times,
#    at batch 128, decode + Resize(256) + CenterCrop(224) + normalize:
#      optic GPU   optic preprocess --device cuda (nvJPEG batched + fused kernel, fp32 NCHW)
#      optic CPU   optic preprocess --device cpu, all cores (for reference)
#      torchvision torchvision.io.decode_jpeg(list, device='cuda') + F.interpolate per image
#                  (bilinear, antialias) + crop + normalize, if a CUDA torch is importable.
# Writes $OUT/preprocess_gpu.json, $OUT/preprocess_cuda_test.txt and $OUT/build.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-results/gpu}
mkdir -p "$OUT"
REPEAT=${REPEAT:-20}
BATCH=${BATCH:-128}

PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
BUILD=${BUILD:-build-gpu}
CUDA_ARGS=()
if [ -n "${SKIP_BUILD:-}" ] && [ -x "$BUILD/optic" ]; then
  echo "using the existing build in $BUILD (SKIP_BUILD)"
elif ! command -v nvcc >/dev/null; then
  [ -x .deps/cuda/bin/nvcc ] || OPTIC_CUDA_TOOLCHAIN=1 scripts/setup.sh
  CUDA_ARGS=(-DCMAKE_CUDA_COMPILER="$PWD/.deps/cuda/bin/nvcc" -DCUDAToolkit_ROOT="$PWD/.deps/cuda")
fi
[ -n "${SKIP_BUILD:-}" ] && [ -x "$BUILD/optic" ] || {
  cmake -S . -B build-gpu -G Ninja -DOPTIC_WITH_CUDA=ON -DOPTIC_WITH_ONNXRUNTIME=OFF \
    -DOPTIC_WITH_OPENVINO=OFF -DOPTIC_WITH_TORCH=OFF "${CUDA_ARGS[@]}"
  ninja -C build-gpu optic preprocess_cuda_test preprocess_decode_test preprocess_resize_test \
    preprocess_bad_input_test
} > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1 || true
for t in preprocess_cuda_test preprocess_decode_test preprocess_resize_test preprocess_bad_input_test; do
  "$BUILD/tests/$t" 2>&1 | tee -a "$OUT/preprocess_cuda_test.txt" | tail -3
done

IMG=$(mktemp -d)
"$PY" - "$IMG" "$BATCH" <<'PY'
import os, sys
sys.path.insert(0, "bench")
import numpy as np
from preprocess_cpu import photo_like, noise_for, encode
root, n = sys.argv[1], int(sys.argv[2])
noise = noise_for(500, 375, 120_000)
for i in range(n):
    with open(os.path.join(root, f"m{i:04d}.jpg"), "wb") as f:
        f.write(encode(photo_like(500, 375, noise, np.random.default_rng(1 + i))))
PY

gpu_json=$($BUILD/optic preprocess "$IMG" --device cuda --batch "$BATCH" --repeat "$REPEAT" --json)
cpu_json=$($BUILD/optic preprocess "$IMG" --device cpu --batch "$BATCH" --repeat 5 --json)
"$PY" - "$IMG" "$BATCH" "$REPEAT" "$gpu_json" "$cpu_json" "$OUT/preprocess_gpu.json" <<'PY'
import glob, json, os, statistics, sys, time
img, batch, repeat, gpu, cpu, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5]), sys.argv[6]
res = {"batch": batch, "images": "500x375 ~120 kB JPEG, Resize(256)+CenterCrop(224)+normalize fp32",
       "optic_gpu": gpu, "optic_cpu_all_cores": cpu,
       "optic_gpu_img_per_s": 1e3 / gpu["median_batch_ms_per_image"],
       "optic_cpu_img_per_s": 1e3 / cpu["median_batch_ms_per_image"]}
try:
    import torch, torchvision
    from torchvision.io import decode_jpeg
    import torch.nn.functional as F
    assert torch.cuda.is_available()
    datas = [torchvision.io.read_file(p) for p in sorted(glob.glob(os.path.join(img, "*.jpg")))[:batch]]
    mean = torch.tensor([0.485, 0.456, 0.406], device="cuda").view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device="cuda").view(3, 1, 1)
    def run():
        imgs = decode_jpeg(datas, device="cuda")
        outs = []
        for t in imgs:
            h, w = t.shape[1:]
            nh, nw = (int(256 * h / w), 256) if w <= h else (256, int(256 * w / h))
            r = F.interpolate(t[None].float(), size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0]
            top, left = round((nh - 224) / 2), round((nw - 224) / 2)
            outs.append((r[:, top:top + 224, left:left + 224] / 255 - mean) / std)
        return torch.stack(outs)
    for _ in range(3): run()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); run(); torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3 / batch)
    res["torchvision"] = {"version": torchvision.__version__, "torch": torch.__version__,
                          "median_ms_per_image": statistics.median(times)}
    res["torchvision_img_per_s"] = 1e3 / statistics.median(times)
    res["ratio_optic_gpu_vs_torchvision"] = res["optic_gpu_img_per_s"] / res["torchvision_img_per_s"]
except Exception as e:  # no CUDA torch on this machine: say so in the results
    res["torchvision"] = {"skipped": repr(e)}
json.dump(res, open(out, "w"), indent=2)
print(json.dumps({k: v for k, v in res.items() if k.endswith("per_s") or k.startswith("ratio")}, indent=1))
PY
rm -rf "$IMG"

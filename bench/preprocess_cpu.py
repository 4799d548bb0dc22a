#!/usr/bin/env python3
"""Per-core CPU preprocessing throughput: optic's CPU path against OpenCV, side by side.

Generates three deterministic image classes (small ~60x70 ~4 kB, medium ~500x375 ~120 kB, large
~3564x2880 ~9.5 MB), then times, single-threaded, from JPEG bytes in memory:
  optic            build/optic preprocess DIR --threads 1 (decode + Resize(256) + CenterCrop(224)
                   + normalize to fp32 NCHW), default antialias filter and DCT-scaled decode
  optic_bilinear   same with --filter bilinear (the filter OpenCV uses below)
  opencv           cv2.imdecode + cv2.resize(shorter side 256, INTER_LINEAR) + crop (no normalize)
  opencv_full      opencv + BGR->RGB + normalize to fp32 NCHW (the same output optic writes)
  opencv_reduced   opencv_full but decoding with IMREAD_REDUCED_COLOR_{2,4,8} chosen like optic's
                   DCT scaling (OpenCV's own reduced decode; powers of two only)
Reports medians over repeats (ms per image) and ratio = opencv / optic (>1: optic faster).

  .venv/bin/python bench/preprocess_cpu.py --optic build/optic --out results/cpu/preprocess.json
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

CLASSES = {  # name: (width, height, target bytes, count)
    "small": (60, 70, 4_000, 200),
    "medium": (500, 375, 120_000, 100),
    "large": (3564, 2880, 9_500_000, 6),
}
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def photo_like(w, h, noise, rng):
    """Smooth colour fields plus texture: compresses like a photograph at high quality."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([
        128 + 90 * np.sin(x / (w / 7.0) + 0.5) * np.cos(y / (h / 5.0)),
        128 + 90 * np.sin((x + y) / (w / 9.0)),
        128 + 90 * np.cos(x / (w / 3.0)) * np.sin(y / (h / 11.0) + 1.0),
    ], axis=-1)
    img = base + rng.normal(0, noise, size=(h, w, 3)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def noise_for(w, h, target):
    """Texture level whose JPEG (q 92) is near `target` bytes, by bisection (deterministic)."""
    lo, hi = 0.0, 80.0
    for _ in range(10):
        mid = (lo + hi) / 2
        size = len(encode(photo_like(w, h, mid, np.random.default_rng(0))))
        lo, hi = (mid, hi) if size < target else (lo, mid)
    return (lo + hi) / 2


def encode(img):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return buf.tobytes()


def generate(root):
    sets = {}
    for name, (w, h, target, count) in CLASSES.items():
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        noise = noise_for(w, h, target)
        files = []
        for i in range(count):
            data = encode(photo_like(w, h, noise, np.random.default_rng(1 + i)))
            with open(os.path.join(d, f"{name}_{i:04d}.jpg"), "wb") as f:
                f.write(data)
            files.append(data)
        sets[name] = (d, files)
    return sets


def run_optic(optic, d, repeat, extra):
    cmd = [optic, "preprocess", d, "--threads", "1", "--repeat", str(repeat), "--json"] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1]), " ".join(cmd)


def opencv_pipeline(data, full, reduced):
    arr = np.frombuffer(data, np.uint8)
    img = cv2.imdecode(arr, reduced or cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    if w <= h:
        nw, nh = 256, int(256 * h / w)
    else:
        nw, nh = int(256 * w / h), 256
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, left = int(round((nh - 224) / 2.0)), int(round((nw - 224) / 2.0))
    img = img[top:top + 224, left:left + 224]
    if full:
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32)
        img = ((rgb * (1 / 255.0) - MEAN) / STD).transpose(2, 0, 1).copy()
    return img


def reduced_flag(w, h):
    """Largest power-of-two reduction whose result still has a shorter side >= 256."""
    for d, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                    (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if min((w + d - 1) // d, (h + d - 1) // d) >= 256:
            return flag
    return 0


def time_opencv(files, repeat, full, reduced):
    per_image = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for data in files:
            opencv_pipeline(data, full, reduced)
        per_image.append((time.perf_counter() - t0) * 1e3 / len(files))
    return statistics.median(per_image)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--optic", default="build/optic")
    ap.add_argument("--out", default="results/cpu/preprocess.json")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--workdir", default=None, help="where the images go (default: a temp dir)")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    load_before = os.getloadavg()
    work = a.workdir or tempfile.mkdtemp(prefix="optic-pre-bench-")
    sets = generate(work)
    rows = {}
    for name, (d, files) in sets.items():
        w, h = CLASSES[name][:2]
        rep = a.repeat if name != "large" else max(3, a.repeat // 2)
        optic, cmd = run_optic(a.optic, d, rep, [])
        optic_bl, cmd_bl = run_optic(a.optic, d, rep, ["--filter", "bilinear"])
        if optic["failed"]:
            sys.exit(f"optic failed on {optic['failed']} {name} images")
        ocv = time_opencv(files, rep, False, 0)
        ocv_full = time_opencv(files, rep, True, 0)
        ocv_red = time_opencv(files, rep, True, reduced_flag(w, h))
        o_ms = optic["median_batch_ms_per_image"]
        rows[name] = {
            "width": w, "height": h, "images": len(files),
            "mean_bytes": int(sum(map(len, files)) / len(files)),
            "optic_ms": o_ms, "optic_bilinear_ms": optic_bl["median_batch_ms_per_image"],
            "optic_decode_ms": optic["decode_ms_per_image"], "optic_resize_ms": optic["resize_ms_per_image"],
            "opencv_ms": ocv, "opencv_full_ms": ocv_full, "opencv_reduced_ms": ocv_red,
            "ratio_vs_opencv": ocv / o_ms, "ratio_vs_opencv_full": ocv_full / o_ms,
            "ratio_vs_opencv_reduced": ocv_red / o_ms,
            "optic_command": cmd, "optic_bilinear_command": cmd_bl,
        }
        print(f"{name:7s} {w}x{h} {rows[name]['mean_bytes']/1e3:8.1f} kB  optic {o_ms:8.3f} ms"
              f" (bilinear {rows[name]['optic_bilinear_ms']:.3f})  opencv {ocv:8.3f} ms"
              f"  opencv_full {ocv_full:8.3f}  opencv_reduced {ocv_red:8.3f}"
              f"  ratio {ocv / o_ms:5.2f}x / full {ocv_full / o_ms:5.2f}x / reduced {ocv_red / o_ms:5.2f}x",
              flush=True)
    result = {
        "benchmark": "preprocess_cpu", "unit": "ms per image, single thread, median of repeats",
        "command": " ".join([sys.executable] + sys.argv),
        "machine": {"cpu_model": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
                    # 1-minute load average before and after: other work on the machine skews
                    # both sides alike, but inflates absolute times.
                    "load_average_before": load_before[0], "load_average_after": os.getloadavg()[0]},
        "versions": {"opencv": cv2.__version__, "numpy": np.__version__},
        "pipeline": "Resize(256) + CenterCrop(224); optic also normalizes to fp32 NCHW",
        "classes": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
    print("wrote", a.out)


if __name__ == "__main__":
    main()

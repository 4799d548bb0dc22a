"""The fixed image set that int8 quantization calibrates on (tools/zoo/export.py).

Half real photographs, half seeded synthetic images, every one through the zoo's ImageNet
preprocessing (shorter side to round(max(H, W) * 256 / 224), centre crop H x W, RGB / 255,
ImageNet mean and std, NCHW float32), so the activation ranges the quantizers pick come from
image-like inputs at the model's own input size.

The photographs are the OpenCV sample images that Debian's opencv-doc package installs
(scripts/setup.sh installs it); each file's sha256 goes into the record, so a changed file shows
up in the manifest. No network, no data set download.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

PHOTO_DIR = Path("/usr/share/doc/opencv-doc/examples/data")
# Photographs only: no logos, chessboards, text or line drawings, whose flat colours would
# narrow the activation ranges.
PHOTOS = ("aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "building.jpg",
          "butterfly.jpg", "fruits.jpg", "home.jpg", "leuvenA.jpg", "messi5.jpg", "orange.jpg",
          "squirrel_cls.jpg", "starry_night.jpg", "ela_original.jpg", "board.jpg")
SYNTHETIC = 16
SYNTHETIC_SEED = 20261207
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
PREPROCESS = ("shorter side round(max(H,W)*256/224) (PIL bilinear), centre crop HxW, RGB/255, "
              "ImageNet mean/std, NCHW float32")


class CalibrationError(Exception):
    """The calibration set cannot be made: names the file and what to do."""


def preprocess(image, height: int, width: int) -> np.ndarray:
    """A PIL image -> [3, height, width] float32, the zoo's ImageNet preprocessing."""
    from PIL import Image
    image = image.convert("RGB")
    short = round(max(height, width) * 256 / 224)
    w, h = image.size
    scale = short / min(w, h)
    rw, rh = max(width, round(w * scale)), max(height, round(h * scale))
    image = image.resize((rw, rh), Image.BILINEAR)
    left, top = (rw - width) // 2, (rh - height) // 2
    image = image.crop((left, top, left + width, top + height))
    x = np.asarray(image, dtype=np.float32) / 255.0
    return ((x - MEAN) / STD).transpose(2, 0, 1).copy()


def synthetic_images(count: int, seed: int):
    """Seeded smooth colour fields with noise and edges: image-like statistics, no files."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    for _ in range(count):
        coarse = rng.integers(0, 256, size=(rng.integers(3, 9), rng.integers(3, 9), 3))
        field = Image.fromarray(coarse.astype(np.uint8)).resize((320, 256), Image.BICUBIC)
        x = np.asarray(field, dtype=np.float32)
        x += rng.normal(0, rng.uniform(2, 20), size=x.shape)  # sensor-like noise
        y0, x0 = rng.integers(0, 200), rng.integers(0, 260)  # one hard-edged block
        x[y0:y0 + 56, x0:x0 + 60] = rng.integers(0, 256, size=3)
        yield Image.fromarray(np.clip(x, 0, 255).astype(np.uint8))


def calibration_set(height: int, width: int, photo_dir: Path = PHOTO_DIR):
    """Returns (images [N, 3, height, width] float32, record for the manifest)."""
    from PIL import Image, UnidentifiedImageError
    arrays, files = [], []
    for name in PHOTOS:
        path = photo_dir / name
        if not path.is_file():
            raise CalibrationError(
                f"calibration photo {path} is missing; it comes with Debian's opencv-doc "
                f"package: run scripts/setup.sh (or apt-get install opencv-doc)")
        data = path.read_bytes()
        try:
            with Image.open(path) as image:
                image.load()
                arrays.append(preprocess(image, height, width))
        except (UnidentifiedImageError, OSError, SyntaxError) as e:
            raise CalibrationError(
                f"calibration photo {path} cannot be decoded ({e}); reinstall it: "
                f"apt-get install --reinstall opencv-doc") from e
        files.append({"file": str(path), "sha256": hashlib.sha256(data).hexdigest()})
    for image in synthetic_images(SYNTHETIC, SYNTHETIC_SEED):
        arrays.append(preprocess(image, height, width))
    images = np.stack(arrays).astype(np.float32)
    record = {
        "images": len(images),
        "photos": files,
        "synthetic": {"count": SYNTHETIC, "seed": SYNTHETIC_SEED,
                      "recipe": "bicubic colour field + gaussian noise + one flat block, "
                                "320x256, numpy default_rng"},
        "preprocess": PREPROCESS,
        "input_shape": [3, height, width],
        "sha256": hashlib.sha256(images.tobytes()).hexdigest(),
    }
    return images, record

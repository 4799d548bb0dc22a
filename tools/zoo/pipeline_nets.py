"""The two models of `optic pipeline` (export.py group "pipeline"): a face detector and a
FaceNet-style embedding net, both small enough for CPU sweeps and tests.

- face_detector: an SSD/CenterNet-shaped single-shot detector on a 160x160 image. A stride-8
  backbone (four conv-bn-relu blocks) and two 1x1 heads on the 20x20 grid: "scores" [B, 1, 20, 20]
  (objectness logits) and "boxes" [B, 4, 20, 20] (dx, dy of the box centre within its cell in
  cell units, log width and log height in cells). Decoding, thresholding and NMS are the
  pipeline's post-processing (src/pipeline/detect.cc), as in RetinaFace deployments.
- face_embedder: FaceNet-shaped: conv-bn-relu stages to stride 16 on a 64x64 crop, global
  average pooling, a 128-d projection, L2-normalised ("embedding" [B, 128]).
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class FaceDetector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(_block(3, 16, 2), _block(16, 32, 2), _block(32, 64, 2),
                                      _block(64, 64, 1))
        self.scores = nn.Conv2d(64, 1, 1)
        self.boxes = nn.Conv2d(64, 4, 1)

    def forward(self, x):
        f = self.backbone(x)
        return self.scores(f), self.boxes(f)


class FaceEmbedder(nn.Module):
    def __init__(self, dim: int = 128):
        super().__init__()
        self.features = nn.Sequential(_block(3, 32, 2), _block(32, 32, 1), _block(32, 64, 2),
                                      _block(64, 64, 1), _block(64, 128, 2), _block(128, 128, 2))
        self.project = nn.Linear(128, dim)

    def forward(self, x):
        f = self.features(x).mean(dim=(2, 3))
        return F.normalize(self.project(f), dim=1)


def face_detector() -> nn.Module:
    return FaceDetector()


def face_embedder() -> nn.Module:
    return FaceEmbedder()

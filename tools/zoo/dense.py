"""The zoo's models beyond classifiers (export.py group "dense"): a detector, a segmenter and a
depth estimator, each taking one NCHW float image of any height and width and returning plain
tensors, so every exporter and backend sees a fixed list of outputs.

- ssdlite320_mobilenet_v3_large (torchvision): the whole detector, post-processing included:
  resize to 320x320, box decoding, score threshold and batched NMS (torchvision.ops.nms, ONNX
  NonMaxSuppression) and the rescale of boxes to the input size. Outputs boxes [N, 4] (x1, y1,
  x2, y2 in input pixels), scores [N], labels [N] (int64), N <= 300 varying with the image. One
  image per call: torchvision's detectors take a list of images, so the batch axis is fixed at 1.
- lraspp_mobilenet_v3_large (torchvision): semantic segmentation, 21 classes; output "out"
  [B, 21, H, W] (logits at the input's size; argmax over axis 1 is the post-processing).
- mini_depth: a MiDaS-shaped encoder-decoder written here (torchvision has no depth model and
  timm's DPT/MiDaS weights are hub downloads): MobileNet-V3-Large features at strides 4-32,
  a top-down decoder that upsamples and adds each skip, and a Softplus head giving inverse depth
  [B, 1, H, W] at the input size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import nn


class Detector(nn.Module):
    """A torchvision detector as a tensor-in, tensors-out module (one image).

    The image is resized to the detector's size here, and boxes scaled back here: torchvision's
    own rescale builds its ratios with torch.tensor(), which a trace records as constants, so an
    exported file would scale every image's boxes as if it had the traced size.
    """

    def __init__(self, model: nn.Module, size: int):
        super().__init__()
        self.model = model
        self.size = size

    def calibration_target(self) -> nn.Module:
        return self.model.backbone  # where the BatchNorms are; takes a plain image batch

    def forward(self, x):
        hw = torch._shape_as_tensor(x)[2:].to(torch.float32) / self.size  # traced, not constant
        image = F.interpolate(x, size=(self.size, self.size), mode="bilinear",
                              align_corners=False)
        det = self.model([image[0]])[0]
        scale = torch.stack([hw[1], hw[0], hw[1], hw[0]])
        return det["boxes"] * scale, det["scores"], det["labels"]


class Segmenter(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


class MiniDepth(nn.Module):
    """Encoder-decoder depth net on MobileNet-V3-Large features (see the module docstring)."""

    TAPS = (3, 6, 12, 16)  # feature indices ending strides 4, 8, 16, 32

    def __init__(self, width: int = 64):
        super().__init__()
        self.encoder = torchvision.models.mobilenet_v3_large(weights=None).features
        channels = [self.encoder[i].out_channels if hasattr(self.encoder[i], "out_channels")
                    else self.encoder[i][0].out_channels for i in self.TAPS]
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in channels)
        self.refine = nn.ModuleList(
            nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
            for _ in channels)
        self.head = nn.Sequential(nn.Conv2d(width, width // 2, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width // 2, 1, 1), nn.Softplus())

    def forward(self, x):
        feats = []
        y = x
        for i, layer in enumerate(self.encoder):
            y = layer(y)
            if i in self.TAPS:
                feats.append(y)
        z = self.refine[-1](self.lateral[-1](feats[-1]))
        for i in range(len(feats) - 2, -1, -1):
            skip = self.lateral[i](feats[i])
            z = self.refine[i](skip + F.interpolate(z, size=skip.shape[-2:], mode="bilinear",
                                                    align_corners=False))
        return F.interpolate(self.head(z), size=x.shape[-2:], mode="bilinear",
                             align_corners=False)


def ssdlite() -> nn.Module:
    # weights=None and weights_backbone=None: random init, never a download.
    return Detector(torchvision.models.detection.ssdlite320_mobilenet_v3_large(
        weights=None, weights_backbone=None), 320)


def lraspp() -> nn.Module:
    return Segmenter(torchvision.models.segmentation.lraspp_mobilenet_v3_large(
        weights=None, weights_backbone=None))


def mini_depth() -> nn.Module:
    return MiniDepth()

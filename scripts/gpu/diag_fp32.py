#!/usr/bin/env python3
"""Is "fp32" on CUDA really IEEE fp32 for channels-last convolutions? (issue 5 open question)

    python3 scripts/gpu/diag_fp32.py [--models resnet50,tiny] [--batch 8]

TorchCudaTest.EveryPrecisionMatchesCpuFp32 fails for fp32 + channels_last only (rel_l2 3.1e-4
against the CPU, limit 1e-4), and on the H100 the torch backend's fp32 channels-last rows differ
from torch_aoti and XLA (which agree with each other) by TF32-sized errors. This script runs the
same seeded model and input on the CPU in float64 (the truth) and on the GPU in float32 under
each way of turning TF32 off, NCHW and NHWC, and prints rel_l2 against the truth:
  legacy   torch.backends.cudnn.allow_tf32 = False (what optic's setAllowTF32CuDNN(false) does)
  ieee     torch.backends.cudnn.conv.fp32_precision = "ieee" (the newer API, where it exists)
  tf32     TF32 allowed (for scale: what reduced precision looks like)
Each case runs twice: as the eager nn.Module, and as optic's torch backend runs it (traced, then
torch.jit.freeze, which folds conv+batchnorm). --models conv adds one VGG-sized 3x3 convolution
(256->256 channels, 56x56, batch 32) whose time gives effective TFLOP/s: above the card's fp32
peak (H100 SXM ~67) means reduced-precision math or a Winograd-class algorithm, not plain FMA.
IEEE fp32 gives ~1e-6; TF32 ~1e-3. The row whose NHWC error drops to ~1e-6 names the fix for
src/backends/torch/torch_model.cc SetGlobals. If no TF32 switch helps and only some
benchmark/heuristic combinations are off, cuDNN picked Winograd/FFT-class engines instead. Prints one line per case; exit 2 without CUDA.
"""
import argparse
import sys
import time

import torch
import torchvision


def tiny():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(32, 10))


def conv():
    return torch.nn.Sequential(torch.nn.Conv2d(256, 256, 3, padding=1))


def set_mode(mode):
    conv = getattr(torch.backends.cudnn, "conv", None)
    has_new = conv is not None and hasattr(conv, "fp32_precision")
    if mode == "legacy":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    elif mode == "ieee":
        if not has_new:
            return False
        conv.fp32_precision = "ieee"
        torch.backends.cuda.matmul.fp32_precision = "ieee"
    elif mode == "tf32":
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cuda.matmul.allow_tf32 = True
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="tiny,conv,resnet50")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--device", default="cuda", help="cpu: a smoke test of this script only")
    a = p.parse_args()
    dev = a.device
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    if dev == "cuda" and not torch.cuda.is_available():
        print("diag_fp32: no CUDA device", file=sys.stderr)
        return 2
    print(f"torch {torch.__version__}, cudnn {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name() if dev == 'cuda' else 'cpu'}")
    for name in a.models.split(","):
        torch.manual_seed(0)
        if name == "tiny":
            model = tiny()
        elif name == "conv":
            model = conv()
        else:
            model = getattr(torchvision.models, name)(weights=None)
        model.eval()
        x = torch.randn(32, 256, 56, 56) if name == "conv" else torch.randn(a.batch, 3, 224, 224)
        flop = 2 * 32 * 56 * 56 * 256 * 256 * 9 if name == "conv" else 0
        with torch.no_grad():
            truth = model.double()(x.double()).float()
            model.float()
            for mode in ("legacy", "ieee", "tf32"):
                for bench in (False, True):
                    for nhwc in (False, True):
                        # a fresh process state is not possible here: set every flag each time
                        torch.backends.cudnn.benchmark = bench
                        try:
                            ok = set_mode(mode)
                        except Exception as e:  # PyTorch may refuse a mix of the two APIs
                            print(f"{name:10} {mode:7} setting failed: {str(e).splitlines()[0]}")
                            break
                        if not ok:
                            if not bench and not nhwc:
                                print(f"{name:10} {mode:7} (API absent)")
                            break
                        fmt = torch.channels_last if nhwc else torch.contiguous_format
                        for path in ("eager", "frozen"):
                            label = (f"{name:10} {mode:7} benchmark={int(bench)} "
                                     f"{'NHWC' if nhwc else 'NCHW'} {path:6}")
                            try:
                                m = model.to(dev).to(memory_format=fmt)
                                xc = x.to(dev).contiguous(memory_format=fmt)
                                if path == "frozen":  # what optic's torch backend runs
                                    m = torch.jit.freeze(torch.jit.trace(m, xc))
                                y = m(xc).float().cpu()
                                extra = ""
                                if flop:
                                    for _ in range(3):
                                        m(xc)
                                    sync()
                                    t0 = time.perf_counter()
                                    for _ in range(10):
                                        m(xc)
                                    sync()
                                    dt = (time.perf_counter() - t0) / 10
                                    extra = f"  {dt * 1e3:.2f} ms  {flop / dt / 1e12:.1f} TFLOP/s"
                            except Exception as e:  # e.g. PyTorch refusing a mix of the two APIs
                                print(f"{label}  error: {str(e).splitlines()[0]}", flush=True)
                                continue
                            rel = ((y - truth).norm() / truth.norm()).item()
                            print(f"{label}  rel_l2 {rel:.2e}{extra}", flush=True)
            model.to("cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())

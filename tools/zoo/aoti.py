"""AOTInductor packages for the zoo (formats aoti-fp32, aoti-fp16, aoti-bf16 of export.py).

Each format is one .pt2 package made by torch.export + torch._inductor.aoti_compile_and_package
for CUDA, in one precision (AOTInductor bakes the dtype into the generated kernels), with a
dynamic batch axis (1..MAX_BATCH), so one package serves every batch size
(OPTIC_AOTI_STATIC_BATCH=1: exactly OPTIC_AOTI_HINT_BATCH instead, for comparison with
torch.compile's dynamic=False). optic's torch_aoti
backend loads it from C++ with torch::inductor::AOTIModelPackageLoader.

Needs PyTorch >= 2.6 built with CUDA and a visible GPU; elsewhere the format is recorded as
skipped with the reason (SkipFormat), so CPU-only machines still export everything else.
The compile time is the model's cold load: export.py records it in the manifest (compile_s);
the package is the cache, loading it is the cached load that optic bench measures.
"""
from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

MAX_BATCH = 1024
DTYPES = {"aoti-fp32": torch.float32, "aoti-fp16": torch.float16, "aoti-bf16": torch.bfloat16}
# max |aoti - torch fp32| / max |torch fp32|; low precisions only need to be in the right range.
TOLERANCE = {"aoti-fp32": 1e-3, "aoti-fp16": 5e-2, "aoti-bf16": 1e-1}


def _version_ok() -> bool:
    major, minor = (int(v) for v in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 6)


def available() -> str | None:
    """None when AOTInductor packages can be made here, else the reason they cannot."""
    if not _version_ok():
        return f"AOTInductor packages need torch >= 2.6 (this is {torch.__version__})"
    if not torch.cuda.is_available():
        return "AOTInductor packages are compiled for CUDA and no GPU is visible"
    return None


def export_aoti(fmt: str, name: str, model, check: torch.Tensor, reference: np.ndarray,
                tmp: Path, skip_error, export_error) -> dict:
    """Compiles `model` into the package `tmp`; returns notes for the log and the manifest."""
    reason = available()
    if reason:
        raise skip_error(reason)
    dtype = DTYPES[fmt]
    # Inductor options, e.g. OPTIC_AOTI_CONFIGS='{"max_autotune": true}' (minutes of autotuning
    # for faster kernels); recorded in the manifest with the file.
    configs = json.loads(os.environ.get("OPTIC_AOTI_CONFIGS", "{}"))
    # fp32 must mean fp32 (PyTorch lets cuDNN use TF32 by default); the backend does the same.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    gpu = copy.deepcopy(model).to("cuda", dtype)  # the CPU fp32 model stays as it is
    # The example's batch is Inductor's size hint: max-autotune times its kernel choices at this
    # size, so a package meant for large batches wants OPTIC_AOTI_HINT_BATCH=256 (not 1: a batch
    # of 1 would be specialized away).
    hint = int(os.environ.get("OPTIC_AOTI_HINT_BATCH", "2"))
    if not 2 <= hint <= MAX_BATCH:
        raise export_error(f"OPTIC_AOTI_HINT_BATCH={hint} is outside 2..{MAX_BATCH}")
    example = torch.randn(hint, *check.shape[1:], device="cuda", dtype=dtype)
    # OPTIC_AOTI_STATIC_BATCH=1: a package for exactly the hint batch (what torch.compile with
    # dynamic=False tunes for); optic runs it at that batch size only (others fail their cell).
    static = os.environ.get("OPTIC_AOTI_STATIC_BATCH", "") == "1"
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    t0 = time.monotonic()
    with torch.no_grad():
        program = torch.export.export(gpu, (example,),
                                      dynamic_shapes=None if static else ({0: batch},))
        path = torch._inductor.aoti_compile_and_package(program, package_path=str(tmp),
                                                        inductor_configs=configs)
    compile_s = time.monotonic() - t0
    runner = torch._inductor.aoti_load_package(path)
    with torch.no_grad():
        if static:  # the check rows, repeated up to the package's one batch size
            rows = check.shape[0]
            if rows > hint:
                raise export_error(f"{name} {fmt}: static batch {hint} is below the check's {rows} rows")
            tiled = check.repeat((hint + rows - 1) // rows, *([1] * (check.dim() - 1)))[:hint]
            got = runner(tiled.to("cuda", dtype)).float().cpu().numpy()[:rows]
        else:
            got = runner(check.to("cuda", dtype)).float().cpu().numpy()
    if got.shape != reference.shape:
        raise export_error(f"{name} {fmt}: output shape {got.shape}, torch gives {reference.shape}")
    scale = float(np.max(np.abs(reference)))
    rel = float(np.max(np.abs(got - reference))) / scale if scale > 0 else float("nan")
    if not rel <= TOLERANCE[fmt]:
        raise export_error(f"{name} {fmt}: max error {rel:.3g} relative to the fp32 torch output "
                           f"(limit {TOLERANCE[fmt]})")
    del gpu, program, runner
    torch.cuda.empty_cache()
    shape_note = f"static batch {hint}" if static else f"dynamic batch 1..{MAX_BATCH}"
    return {"note": f"compiled in {compile_s:.1f}s, rel err {rel:.1e}, {shape_note}",
            "compile_s": round(compile_s, 2), "inductor_configs": configs, "hint_batch": hint,
            "static_batch": static}

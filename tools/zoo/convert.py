#!/usr/bin/env python3
"""Convert a model file into the format another backend reads (optic's ConvertModel runs this).

    .venv/bin/python tools/zoo/convert.py versions
    .venv/bin/python tools/zoo/convert.py convert --source model.onnx --target torchscript \
        --out DIR [--source-format onnx] [--shape input=1x3x224x224]

Paths:
    onnx        -> torchscript  onnx2torch (ONNX graph to torch.fx) + torch.jit.trace
    torchscript -> onnx         torch.onnx.export of the loaded ScriptModule
    pt2         -> onnx         torch.onnx.export(dynamo=True) of the torch.export program
    pt2         -> torchscript  torch.jit.trace of ExportedProgram.module()
The .pt2 paths need torch >= 2.1 (torch.export); AOTInductor packages hold compiled kernels, not
a graph, and cannot be converted. Every result is loaded back and compared with the source run
in its own framework on the same inputs; a file that disagrees is not written.

`convert` writes DIR/model.<ext> and prints one JSON line (converted_by, seconds, checks) on
stdout. Exit codes: 0 converted, 2 bad arguments or unreadable source, 3 the converter cannot
take this model (the message, on stderr and in DIR/error.txt, starts with the operator or the
converter's error), 4 a package the path needs is missing (the message says what to install).
"""
from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import sys
import time
import warnings
import zipfile
from pathlib import Path

# Bumped when the way files are converted changes, so cached conversions are redone.
RECIPE = 1
OPSET = 17  # torch 1.13's newest; the zoo's ONNX files use it too
REL_TOL = 1e-3  # max |converted - source| relative to max |source|
DEFAULT_BATCH = 1
DEFAULT_SPATIAL = 224  # a variable dimension other than the batch, where no --shape names it
SECOND_SPATIAL = 160  # a second size, to see whether a trace kept H/W variable

EXIT_BAD_INPUT, EXIT_UNSUPPORTED, EXIT_MISSING = 2, 3, 4
EXTENSIONS = {"onnx": ".onnx", "torchscript": ".pt"}


class Unsupported(Exception):
    """The converter cannot take this model; str() starts with the operator or its error."""


class BadInput(Exception):
    """The source file cannot be read as the format it claims."""


class Missing(Exception):
    """A package this path needs is not installed."""


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def versions() -> dict:
    # importlib.metadata only: no torch import, so a cache lookup costs milliseconds. The
    # script's own hash is in too: a cached refusal must not outlive the code that refused.
    import hashlib
    return {"recipe": RECIPE, "torch": version("torch"), "onnx2torch": version("onnx2torch"),
            "onnx": version("onnx"), "onnxruntime": version("onnxruntime"),
            "script": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]}


def detect_format(path: Path) -> str:
    if not zipfile.is_zipfile(path):
        return "onnx"
    names = zipfile.ZipFile(path).namelist()
    if any("aotinductor" in n or n.endswith(".so") for n in names):
        return "aoti"
    if any("serialized_exported_program" in n or n.endswith("archive_format") for n in names):
        return "pt2"
    return "torchscript"


# ---------------------------------------------------------------------------------------------
# Example inputs


def parse_shapes(items) -> dict:
    shapes = {}
    for item in items or []:
        name, _, dims = item.partition("=")
        try:
            shapes[name] = [int(d) for d in dims.lower().split("x")]
        except ValueError:
            raise BadInput(f"--shape {item}: expected name=1x3x224x224") from None
    return shapes


def concrete(dims, shape_hint, spatial: int) -> list[int]:
    if shape_hint:
        return shape_hint
    return [d if d > 0 else (DEFAULT_BATCH if i == 0 else spatial) for i, d in enumerate(dims)]


def example_tensor(dtype, shape):
    import torch
    if dtype.is_floating_point:
        return torch.randn(*shape, dtype=dtype)
    if dtype == torch.bool:
        return torch.zeros(*shape, dtype=torch.bool)
    return torch.zeros(*shape, dtype=dtype)  # index inputs: 0 is in range for any table


# ---------------------------------------------------------------------------------------------
# Comparison


def flatten(out):
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in flatten(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in flatten(o)]
    return [out]


def compare(what: str, got, want) -> float:
    """Largest relative error over the outputs; raises Unsupported past REL_TOL."""
    import numpy as np
    if len(got) != len(want):
        raise Unsupported(f"{what}: {len(got)} outputs, the source gives {len(want)}")
    worst = 0.0
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape:
            raise Unsupported(f"{what}: output {i} has shape {g.shape}, the source gives {w.shape}")
        if w.size == 0:
            continue
        scale = float(np.max(np.abs(w.astype(np.float64)))) or 1.0
        rel = float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)))) / scale
        if not rel <= REL_TOL:  # "not <=" also catches NaN
            raise Unsupported(f"{what}: output {i} differs from the source by {rel:.3g} of its "
                              f"largest value (limit {REL_TOL})")
        worst = max(worst, rel)
    return worst


# ---------------------------------------------------------------------------------------------
# ONNX -> TorchScript


def onnx_dtype(elem_type):
    import onnx
    import torch
    np_type = onnx.helper.tensor_dtype_to_np_dtype(elem_type)
    return torch.from_numpy(__import__("numpy").zeros(1, dtype=np_type)).dtype


OPTIC_DTYPES = {1: "fp32", 10: "fp16", 16: "bf16", 2: "uint8", 3: "int8", 6: "int32", 7: "int64"}


def write_sidecar(dest: Path, inputs, outputs, fixed=None) -> None:
    """<file>.json beside a TorchScript file: the inputs and outputs TorchScript does not record
    (the torch backend reads it; the ONNX graph's names, dtypes and shapes, -1 where variable).
    `fixed`: the traced input shapes, for a trace that holds only those (batch left variable)."""
    def info(v, shape=None):
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        if shape is not None:
            dims = [dims[0], *shape[1:]]
        return {"name": v.name, "dtype": OPTIC_DTYPES.get(t.elem_type, "fp32"), "shape": dims}
    ins = [info(v, fixed[i] if fixed else None) for i, v in enumerate(inputs)]
    Path(str(dest) + ".json").write_text(json.dumps(
        {"inputs": ins, "outputs": [info(v) for v in outputs]}, indent=2))


def inline_identity_initializers(model) -> int:
    """Turns Identity(initializer) nodes into initializers of their own; returns how many.

    torch.onnx.export deduplicates equal weights (e.g. SE blocks' zero-initialized biases) into
    one initializer plus Identity nodes, and onnx2torch reads Conv/Gemm weights only from
    initializers (KeyError otherwise).
    """
    import onnx
    inits = {i.name: i for i in model.graph.initializer}
    keep, count = [], 0
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            copy = onnx.TensorProto()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            model.graph.initializer.append(copy)
            count += 1
        else:
            keep.append(node)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return count


def consumer_of(model, value: str) -> str:
    for node in model.graph.node:
        if value in node.input:
            return f"operator {node.op_type} (node {node.name or '?'})"
    return "a node"


def lacking_operators(model) -> list[str]:
    """The nodes onnx2torch has no converter for, as 'Op (domain, opset N)', in graph order."""
    from onnx2torch.node_converters.registry import get_converter
    opsets = {o.domain or "": o.version for o in model.opset_import}
    lacking = []
    for node in model.graph.node:
        domain = node.domain or ""
        label = f"{node.op_type} (domain {domain or 'ai.onnx'}, opset {opsets.get(domain, '?')})"
        try:
            get_converter(node.op_type, opsets.get(domain, OPSET), domain)
        except NotImplementedError:
            if label not in lacking:
                lacking.append(label)
    return lacking


def onnx_to_torchscript(source: Path, dest: Path, shapes: dict) -> dict:
    try:
        import onnx
        import onnx2torch
        import onnxruntime as ort
    except ImportError as e:
        raise Missing(f"{e.name} is not installed; run scripts/setup.sh (pins onnx, onnx2torch)")
    import torch
    try:
        model = onnx.load(str(source))
        onnx.checker.check_model(model)
    except Exception as e:
        raise BadInput(f"{source}: not a valid ONNX model: {type(e).__name__}: {e}") from None
    lacking = lacking_operators(model)
    if lacking:
        raise Unsupported(f"onnx2torch {version('onnx2torch')} has no converter for operator "
                          f"{lacking[0]}" + (f"; also lacks {', '.join(lacking[1:])}"
                                             if len(lacking) > 1 else ""))
    inline_identity_initializers(model)
    try:
        module = onnx2torch.convert(model).eval()
    except KeyError as e:  # a weight input that is computed, where onnx2torch wants a constant
        raise Unsupported(f"onnx2torch {version('onnx2torch')} cannot convert "
                          f"{consumer_of(model, e.args[0])}: its input '{e.args[0]}' is computed "
                          f"in the graph, onnx2torch takes only initializers there") from None
    except Exception as e:  # a converter exists but refuses the node's attributes
        raise Unsupported(f"onnx2torch {version('onnx2torch')}: {type(e).__name__}: {e}") from None

    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]

    def examples(spatial, hinted=True):
        xs = []
        for i in graph_inputs:
            t = i.type.tensor_type
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
            hint = shapes.get(i.name) if hinted else None
            xs.append(example_tensor(onnx_dtype(t.elem_type), concrete(dims, hint, spatial)))
        return xs

    session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])

    def check(loaded, xs, what):
        want = session.run(None, {i.name: x.numpy() for i, x in zip(graph_inputs, xs)})
        with torch.no_grad():
            got = [t.numpy() for t in flatten(loaded(*xs))]
        return compare(what, got, want)

    xs = examples(DEFAULT_SPATIAL)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, tuple(xs), check_trace=False)
    except Exception as e:
        raise Unsupported(f"torch.jit.trace {torch.__version__} of the onnx2torch module: "
                          f"{type(e).__name__}: {e}") from None
    traced.save(str(dest))
    write_sidecar(dest, graph_inputs, model.graph.output)
    loaded = torch.jit.load(str(dest))
    err = check(loaded, xs, "onnx2torch + torch.jit.trace")
    # A trace records shape arithmetic as constants: say whether the file still takes a second
    # spatial size, rather than letting a backend find out with a wrong answer.
    variable = any(-1 in [d.dim_value if d.HasField("dim_value") else -1
                          for d in i.type.tensor_type.shape.dim][1:] for i in graph_inputs)
    other_sizes = None
    if variable:
        try:
            check(loaded, examples(SECOND_SPATIAL, hinted=False), "second input size")
            other_sizes = True
        except Exception:
            other_sizes = False
            # Say so in the sidecar: a backend then refuses other sizes by name instead of
            # answering them wrongly.
            write_sidecar(dest, graph_inputs, model.graph.output, [list(x.shape) for x in xs])
    return {"converted_by": f"onnx2torch {version('onnx2torch')} + torch.jit.trace "
                            f"{torch.__version__}",
            "max_rel_err": err, "traced_shapes": [list(x.shape) for x in xs],
            "variable_sizes_kept": other_sizes}


# ---------------------------------------------------------------------------------------------
# TorchScript / torch.export program -> ONNX or TorchScript


def script_examples(module, shapes: dict):
    """Example inputs for a TorchScript forward: --shape per argument name, else 1x3x224x224."""
    import torch
    args = module.forward.schema.arguments[1:]  # [0] is self
    xs, names = [], []
    for a in args:
        if "Tensor" not in str(a.type):
            raise Unsupported(f"forward argument {a.name} is {a.type}; only tensors can be "
                              f"exported")
        names.append(a.name)
        xs.append(example_tensor(torch.float32,
                                 shapes.get(a.name, [DEFAULT_BATCH, 3, DEFAULT_SPATIAL,
                                                     DEFAULT_SPATIAL])))
    return xs, names


def onnx_export(model, xs, names, dest: Path, reference_outputs) -> float:
    import onnxruntime as ort
    import torch
    dynamic = {n: {0: "batch", **({2: "height", 3: "width"} if x.dim() == 4 else {})}
               for n, x in zip(names, xs)}
    output_names = [f"output{i}" if i else "output" for i in range(len(reference_outputs))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, tuple(xs), str(dest), opset_version=OPSET,
                              input_names=names, output_names=output_names,
                              dynamic_axes=dynamic, do_constant_folding=True)
    except Exception as e:
        raise Unsupported(f"torch.onnx.export {torch.__version__}: {type(e).__name__}: {e}") \
            from None
    session = ort.InferenceSession(str(dest), providers=["CPUExecutionProvider"])
    got = session.run(None, {n: x.numpy() for n, x in zip(names, xs)})
    return compare("torch.onnx.export", got, reference_outputs)


def torchscript_to_onnx(source: Path, dest: Path, shapes: dict) -> dict:
    import torch
    try:
        module = torch.jit.load(str(source)).eval()
    except Exception as e:
        raise BadInput(f"{source}: not a TorchScript file torch {torch.__version__} can load: "
                       f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    xs, names = script_examples(module, shapes)
    with torch.no_grad():
        want = [t.numpy() for t in flatten(module(*xs))]
    err = onnx_export(module, xs, names, dest, want)
    return {"converted_by": f"torch.onnx.export {torch.__version__} (TorchScript)",
            "max_rel_err": err, "traced_shapes": [list(x.shape) for x in xs]}


def load_program(source: Path):
    import torch
    if not hasattr(torch, "export"):
        raise Unsupported(f"torch {torch.__version__} has no torch.export (torch >= 2.1 reads "
                          f".pt2 programs); export ONNX or TorchScript from the model instead")
    try:
        return torch.export.load(str(source))
    except Exception as e:
        raise BadInput(f"{source}: not a torch.export program: {type(e).__name__}: {e}") from None


def program_examples(program):
    import torch
    xs = []
    for spec in program.graph_signature.input_specs:
        if spec.kind.name != "USER_INPUT":
            continue
        meta = program.graph.find_nodes(op="placeholder", target=spec.arg.name)[0].meta["val"]
        shape = [int(d) if str(d).isdigit() else (DEFAULT_BATCH if i == 0 else DEFAULT_SPATIAL)
                 for i, d in enumerate(meta.shape)]
        xs.append(example_tensor(meta.dtype, shape))
    return xs


def pt2_to_onnx(source: Path, dest: Path, shapes: dict) -> dict:
    import torch
    program = load_program(source)
    xs = program_examples(program)
    with torch.no_grad():
        want = [t.numpy() for t in flatten(program.module()(*xs))]
    try:
        torch.onnx.export(program, tuple(xs), str(dest), dynamo=True)
    except Exception as e:
        raise Unsupported(f"torch.onnx.export(dynamo=True) {torch.__version__}: "
                          f"{type(e).__name__}: {e}") from None
    import onnxruntime as ort
    session = ort.InferenceSession(str(dest), providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: x.numpy() for i, x in zip(session.get_inputs(), xs)})
    return {"converted_by": f"torch.onnx.export(dynamo) {torch.__version__}",
            "max_rel_err": compare("torch.onnx.export(dynamo)", got, want)}


def pt2_to_torchscript(source: Path, dest: Path, shapes: dict) -> dict:
    import torch
    program = load_program(source)
    xs = program_examples(program)
    module = program.module()
    with torch.no_grad():
        want = [t.numpy() for t in flatten(module(*xs))]
        try:
            traced = torch.jit.trace(module, tuple(xs), check_trace=False)
        except Exception as e:
            raise Unsupported(f"torch.jit.trace {torch.__version__} of the exported program: "
                              f"{type(e).__name__}: {e}") from None
    traced.save(str(dest))
    with torch.no_grad():
        got = [t.numpy() for t in flatten(torch.jit.load(str(dest))(*xs))]
    return {"converted_by": f"torch.export + torch.jit.trace {torch.__version__}",
            "max_rel_err": compare("torch.jit.trace", got, want)}


PATHS = {("onnx", "torchscript"): onnx_to_torchscript,
         ("torchscript", "onnx"): torchscript_to_onnx,
         ("pt2", "onnx"): pt2_to_onnx,
         ("pt2", "torchscript"): pt2_to_torchscript}


def convert(args) -> int:
    source = Path(args.source)
    if not source.is_file() or source.stat().st_size == 0:
        print(f"{source}: not a non-empty file", file=sys.stderr)
        return EXIT_BAD_INPUT
    source_format = args.source_format or detect_format(source)
    path = PATHS.get((source_format, args.target))
    if source_format == "aoti":
        print(f"{source} is an AOTInductor package (compiled kernels, no graph to convert); "
              f"convert the model's ONNX or torch.export program instead", file=sys.stderr)
        return EXIT_UNSUPPORTED
    if path is None:
        print(f"no converter from {source_format} to {args.target}; paths: "
              f"{', '.join(f'{s} -> {t}' for s, t in PATHS)}", file=sys.stderr)
        return EXIT_UNSUPPORTED
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dest = out / ("model" + EXTENSIONS[args.target])
    start = time.monotonic()

    def fail(e: Exception, code: int) -> int:
        # Also in a file: frameworks write their own lines to stderr, the caller wants this one.
        (out / "error.txt").write_text(str(e) + "\n")
        print(str(e), file=sys.stderr)
        return code

    try:
        info = path(source, dest, parse_shapes(args.shape))
    except Unsupported as e:
        dest.unlink(missing_ok=True)
        return fail(e, EXIT_UNSUPPORTED)
    except BadInput as e:
        return fail(e, EXIT_BAD_INPUT)
    except Missing as e:
        return fail(e, EXIT_MISSING)
    info.update({"path": str(dest), "source_format": source_format, "target_format": args.target,
                 "seconds": round(time.monotonic() - start, 3)})
    print(json.dumps(info))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("versions", help="print the converters' versions as JSON (fast)")
    c = sub.add_parser("convert", help="convert one file")
    c.add_argument("--source", required=True)
    c.add_argument("--target", required=True, choices=sorted(EXTENSIONS))
    c.add_argument("--out", required=True, help="directory for model.<ext>")
    c.add_argument("--source-format", choices=["onnx", "torchscript", "pt2", "aoti"])
    c.add_argument("--shape", action="append",
                   help="name=1x3x224x224 for an input whose size the file does not fix")
    args = p.parse_args(argv)
    if args.command == "versions":
        print(json.dumps(versions(), sort_keys=True))
        return 0
    return convert(args)


if __name__ == "__main__":
    sys.exit(main())

"""Compiles an ONNX file with IREE (iree-base-compiler) into a .vmfb the iree backend runs. Run by
the backend as a child process with the Python of OPTIC_IREE_PYTHON:

  optic_iree_compile.py version
  optic_iree_compile.py describe ONNX OUT.json
  optic_iree_compile.py compile ONNX OUT.vmfb --target llvm-cpu|cuda --opt O0..O3
      [--shape NAME=1x3x224x224 ...] [--precision fp32|fp16] [--cuda-arch sm_80] [--params inline|external]

`compile` fixes every variable axis of the inputs to the --shape sizes (IREE's kernels are best at
static shapes), imports the graph with IREE's ONNX importer (iree-import-onnx) and compiles it
with iree-compile for the target: llvm-cpu for this host's CPU (--iree-llvmcpu-target-cpu=host)
or cuda for --cuda-arch (default sm_80: IREE 3.13 has no sm_90 CUDA target; no GPU needed to
compile). fp16 converts the graph to fp16 before the import (weights and activations; the fp32
inputs and outputs are cast where they enter and leave). --params external
keeps the weights out of the .vmfb in OUT.irpa (a parameter archive next to it). It writes
OUT.vmfb and OUT.json (inputs, outputs, entry function, versions, flags, compile seconds), both
through a temporary name and a rename, so a reader never sees half a file.
Exit codes: 0 ok, 2 the file is not a valid ONNX model, 3 the model uses something IREE's importer
or compiler does not support (the reason names the operator where the compiler does), 1 anything
else; the last line on stderr is the reason.
"""

import json
import os
import re
import sys
import tempfile
import time

# The shared half of optic's ONNX compile scripts: exit codes, ONNX inputs/outputs, atomic writes.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "cache"))
from onnx_script import ONNX_DTYPES, describe, fail, graph_io, load_onnx, write_json  # noqa: E402





def versions():
    import onnx
    from iree.compiler import version as cv

    return f"iree-base-compiler {cv.VERSION}, onnx {onnx.__version__}"






def fix_shapes(model, inputs, shapes):
    """Gives every variable input axis its --shape size; the graph's outputs are re-inferred."""
    import onnx

    by_name = {v.name: v for v in model.graph.input}
    fixed = []
    for name, dtype, dims in inputs:
        want = shapes.get(name)
        if want is None:
            fail(2, f"no --shape for input '{name}'")
        if len(want) != len(dims) or any(d >= 0 and d != w for d, w in zip(dims, want)):
            fail(2, f"--shape {name}={'x'.join(map(str, want))} does not fit the declared {dims}")
        for axis, size in zip(by_name[name].type.tensor_type.shape.dim, want):
            axis.Clear()
            axis.dim_value = size
        fixed.append([name, dtype, want])
    del model.graph.value_info[:]
    for out in model.graph.output:
        for axis in out.type.tensor_type.shape.dim:
            if not axis.HasField("dim_value"):
                axis.Clear()
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as e:
        fail(2, f"the graph does not infer at the shapes {shapes} ({type(e).__name__}: {e})")
    return inferred, fixed


def to_fp16(model):
    """The graph computing in fp16 with its fp32 interface kept: float initializers, Constant
    nodes and Casts to float become fp16, each fp32 input is cast to fp16 where it enters and each
    fp32 output back to fp32 where it leaves (what torch's .half() does to a model). Resize's roi
    and scales stay fp32, as ONNX requires."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    FLOAT, HALF = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
    graph = model.graph
    keep = {name for n in graph.node if n.op_type == "Resize" for name in n.input[1:3]}
    for i, init in enumerate(graph.initializer):
        if init.data_type == FLOAT and init.name not in keep:
            half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name)
            graph.initializer[i].CopyFrom(half)
    for node in graph.node:
        for a in node.attribute:
            if node.op_type == "Constant" and a.name == "value" and a.t.data_type == FLOAT \
                    and not set(node.output) & keep:
                a.t.CopyFrom(numpy_helper.from_array(
                    numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
            if node.op_type == "Cast" and a.name == "to" and a.i == FLOAT:
                a.i = HALF
    casts_in, casts_out = [], []
    for v in graph.input:
        if v.type.tensor_type.elem_type == FLOAT:
            inner = v.name + "__fp16"
            for node in graph.node:
                for k, name in enumerate(node.input):
                    if name == v.name:
                        node.input[k] = inner
            casts_in.append(helper.make_node("Cast", [v.name], [inner], to=HALF))
    for v in graph.output:
        if v.type.tensor_type.elem_type == FLOAT:
            inner = v.name + "__fp16"
            for node in graph.node:
                for k, name in enumerate(node.output):
                    if name == v.name:
                        node.output[k] = inner
                for k, name in enumerate(node.input):
                    if name == v.name:
                        node.input[k] = inner
            casts_out.append(helper.make_node("Cast", [inner], [v.name], to=FLOAT))
    nodes = casts_in + list(graph.node) + casts_out
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as e:
        fail(3, f"the graph does not convert to fp16 ({type(e).__name__}: {e})")


def import_mlir(model, onnx_path, mlir_path, params_path):
    from iree.compiler.tools.import_onnx import __main__ as importer

    with tempfile.TemporaryDirectory(dir=os.path.dirname(mlir_path)) as tmp:
        static = os.path.join(tmp, "static.onnx")
        import onnx

        onnx.save(model, static)
        argv = [static, "-o", mlir_path]
        if params_path:
            argv += ["--externalize-params", "--save-params-to", params_path]
        try:
            importer.main(importer.parse_arguments(argv))
        except Exception as e:
            fail(3, f"IREE's ONNX importer cannot import '{onnx_path}' ({type(e).__name__}: {e})")


# The compiler's reason: the first "error:" line, with the ONNX operator it names where it does
# (an operator IREE cannot lower stays a torch.operator "onnx.<Op>"). A compiler crash names no
# operator; the reason then lists the graph's operator types (IREE's own backtrace is not kept).
def compiler_reason(stderr, op_types):
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if any(line.startswith("Stack dump:") for line in lines):
        return ("iree-compile crashed (a compiler bug or an operator it cannot handle) on a graph "
                f"of {len(op_types)} operator types: {', '.join(op_types[:12])}"
                + (", ..." if len(op_types) > 12 else ""))
    errors = [line for line in lines if "error:" in line]
    ops = []
    for line in lines:
        for op in re.findall(r'name = "onnx\.([A-Za-z0-9]+)"', line):
            if op not in ops:
                ops.append(op)
    first = errors[0] if errors else (lines[-1] if lines else "no message")
    first = re.sub(r"^.*?error: ", "", first)
    first = re.sub(r' loc\(.*$', "", first)
    if ops:
        return f"operator {', '.join(ops)}: {first}"
    return first


def param_map(model, irpa):
    """The module's parameters in the ONNX graph's initializer order: [key, initializer name,
    dtype, dims] each, so a machine without the compiler can build them from its own export of
    the same graph (optic_iree.py) instead of carrying the archive."""
    import iree.runtime as rt

    index = rt.ParameterIndex()
    index.load(irpa)
    keys = {key for key, _ in index.items()}
    out = []
    for init in model.graph.initializer:
        key = init.name.replace(":", "_")  # the importer's sanitize_name
        if key in keys:
            out.append([key, init.name, ONNX_DTYPES.get(init.data_type, str(init.data_type)),
                        list(init.dims)])
    if len(out) != len(keys):
        fail(1, f"{len(keys) - len(out)} parameters of the archive match no ONNX initializer")
    return out


def diagnostics(error):
    text = str(error)
    start = text.find("Diagnostics:")
    end = text.find("Invoked with:")
    return text[start + len("Diagnostics:"):end if end > 0 else None] if start >= 0 else text


def compile_model(path, out, opts):
    from iree.compiler import tools as ireec

    target = opts["--target"]
    if target not in ("llvm-cpu", "cuda"):
        fail(1, f"--target must be llvm-cpu or cuda, not '{target}'")
    level = opts["--opt"]
    if level not in ("O0", "O1", "O2", "O3"):
        fail(1, f"--opt must be O0, O1, O2 or O3, not '{level}'")
    precision = opts.get("--precision", "fp32")
    shapes = {}
    for spec in opts.get("--shape", []):
        name, _, dims = spec.rpartition("=")
        shapes[name] = [int(d) for d in dims.split("x")]

    model = load_onnx(path)
    inputs, declared_outputs = graph_io(model, "iree")
    declared = {"inputs": inputs, "outputs": declared_outputs}
    op_types = sorted({n.op_type for n in model.graph.node})
    if precision not in ("fp32", "fp16"):
        fail(3, f"precision {precision} is not offered by optic's iree backend")
    start = time.monotonic()
    model, inputs = fix_shapes(model, inputs, shapes)
    outputs = describe(model.graph.output, "iree")
    if precision == "fp16":
        model = to_fp16(model)

    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(out)[0]
    external = opts.get("--params", "inline") == "external"
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        mlir = os.path.join(tmp, "model.mlir")
        tmp_params = os.path.join(tmp, "params.irpa") if external else None
        import_mlir(model, path, mlir, tmp_params)
        entry = None
        with open(mlir) as f:
            for line in f:
                entry = re.search(r"func\.func @([A-Za-z0-9_$.]+)", line)
                if entry:
                    break
        if not entry:
            fail(3, f"IREE's ONNX importer produced no function for '{path}'")
        flags = [f"--iree-opt-level={level}"]
        if target == "llvm-cpu":
            flags += ["--iree-hal-target-device=local",
                      "--iree-hal-local-target-device-backends=llvm-cpu",
                      "--iree-llvmcpu-target-cpu=host"]
        else:
            flags += ["--iree-hal-target-device=cuda",
                      f"--iree-cuda-target={opts.get('--cuda-arch', 'sm_80')}"]
        tmp_vmfb = os.path.join(tmp, "model.vmfb")
        try:
            ireec.compile_file(mlir, output_file=tmp_vmfb, extra_args=flags)
        except ireec.CompilerToolError as e:
            fail(3, f"iree-compile for {target}: {compiler_reason(diagnostics(e), op_types)}")
        info = {
            "inputs": inputs,
            "outputs": outputs,
            "declared": declared,
            "entry": entry.group(1),
            "target": target,
            "precision": precision,
            "flags": flags,
            "params": os.path.basename(stem + ".irpa") if external else None,
            "param_map": param_map(model, tmp_params) if external else None,
            "versions": versions(),
            "compile_s": round(time.monotonic() - start, 3),
        }
        tmp_json = os.path.join(tmp, "model.json")
        with open(tmp_json, "w") as f:
            json.dump(info, f)
        if external:
            os.replace(tmp_params, stem + ".irpa")
        os.replace(tmp_vmfb, out)
        os.replace(tmp_json, stem + ".json")


def describe_model(path, out):
    """Writes the graph's declared inputs and outputs (-1 for a variable axis) to OUT.json."""
    inputs, outputs = graph_io(load_onnx(path), "iree")
    write_json({"inputs": inputs, "outputs": outputs}, out)


def main(argv):
    if len(argv) >= 1 and argv[0] == "version":
        print(versions())
        return
    if len(argv) == 3 and argv[0] == "describe":
        describe_model(argv[1], argv[2])
        return
    if len(argv) >= 3 and argv[0] == "compile":
        opts = {"--shape": []}
        rest = argv[3:]
        if len(rest) % 2:
            fail(1, f"options come in pairs: {rest}")
        for key, value in zip(rest[::2], rest[1::2]):
            if key == "--shape":
                opts["--shape"].append(value)
            else:
                opts[key] = value
        for key in ("--target", "--opt"):
            if key not in opts:
                fail(1, f"compile needs {key}")
        compile_model(argv[1], argv[2], opts)
        return
    fail(1, "usage: optic_iree_compile.py version | describe ONNX OUT.json | compile ONNX OUT.vmfb --target llvm-cpu|cuda "
         "--opt O0..O3 [--shape NAME=AxBxC ...] [--precision fp32|fp16] [--cuda-arch sm_80] "
         "[--params inline|external]")


if __name__ == "__main__":
    main(sys.argv[1:])

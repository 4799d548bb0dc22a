"""What optic's ONNX compile scripts share (src/backends/tvm/optic_tvm_compile.py,
src/backends/iree/optic_iree_compile.py): their exit-code convention (0 ok, 2 the file is not a
valid ONNX model, 3 the model uses something the compiler does not support, 1 anything else; the
last line on stderr is the reason, which src/cache/cache.cc reads), the ONNX file's inputs and
outputs as [name, dtype, dims] (-1 for a variable axis), and files written through a temporary
name and a rename, so a reader never sees half a file.
"""

import json
import os
import sys
import tempfile

ONNX_DTYPES = {1: "fp32", 10: "fp16", 16: "bf16", 3: "int8", 2: "uint8", 6: "int32", 7: "int64"}


def fail(code, message):
    sys.stderr.write(message.replace("\n", " ") + "\n")
    sys.exit(code)


def describe(values, backend):
    out = []
    for v in values:
        t = v.type.tensor_type
        dtype = ONNX_DTYPES.get(t.elem_type)
        if dtype is None:
            fail(3, f"tensor '{v.name}' has ONNX element type {t.elem_type}, which optic's {backend} "
                 "backend does not pass")
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        out.append([v.name, dtype, dims])
    return out


def graph_io(model, backend):
    """The graph's inputs (initializers left out) and outputs, described."""
    initializers = {i.name for i in model.graph.initializer}
    return (describe([v for v in model.graph.input if v.name not in initializers], backend),
            describe(model.graph.output, backend))


def load_onnx(path):
    import onnx

    try:
        model = onnx.load(path)
        onnx.checker.check_model(model)
    except Exception as e:  # onnx raises DecodeError, ValidationError, ...
        fail(2, f"'{path}' is not a valid ONNX model ({type(e).__name__}: {e}); "
             "re-export it (build/optic models export)")
    if not model.graph.node:
        fail(2, f"'{path}' holds an empty ONNX graph; re-export it (build/optic models export)")
    return model


def temp_beside(path, suffix):
    """A new temporary file's name in the folder of `path` (made if missing), for os.replace."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(fd)
    return tmp


def write_json(info, path):
    tmp = temp_beside(path, ".json")
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, path)

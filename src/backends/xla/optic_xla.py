"""optic's XLA backend, Python side: an ONNX file -> one jax.jit-compiled function.

Called from C++ (xla_backend.cc) through an embedded CPython; also usable on its own:
    python optic_xla.py models/tiny_cnn/model.onnx [cpu|cuda] [fp32|fp16|bf16] [batch]

Why our own ONNX interpreter instead of Google's jaxonnxruntime (PyPI, 0.3.0, the last release):
checked here with jax 0.10.2 on the zoo, it converts tiny_cnn, resnet50 and efficientnet_b0 but
fails the rest: mobilenet_v2 (its Clip calls jnp.clip(a_min=, a_max=), keywords current JAX
removed), densenet201 (Pad's pads come from a Constant node, refused as a static argument) and
vit_b_16 (its Shape/Cast chains, refused the same way unless a global safety flag is turned off).
It also converts by running every node eagerly at the sample shape (15 s for resnet50, 30 s for
efficientnet_b0 on 2 cores) before jit compiles anything. The interpreter in optic_xla_ops.py is
the ~35 operators these graphs use, traced straight into one jit; shape arithmetic folds in numpy.

Threading: the C++ side holds the GIL for every call into this module; a Program is called by
one thread at a time (optic's Model contract).
"""
import os
import time

# JAX on a GPU otherwise takes 75% of the card's memory at start; optic may share the card with
# other backends and reports memory peaks, so allocate on demand unless the user chose otherwise.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import sys  # noqa: E402

import numpy as np  # noqa: E402


def _import_onnx():
    """Inside optic, Debian's libtorch has already loaded libonnx.so: the onnx wheel's extension
    would bind its schema registry to that library's symbols (another ONNX version) and fail
    (MemoryError in onnx.defs). RTLD_DEEPBIND makes the extension use its own copies."""
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | getattr(os, "RTLD_DEEPBIND", 0))
    try:
        import onnx
    finally:
        sys.setdlopenflags(flags)
    return onnx


onnx = _import_onnx()
from onnx import helper, numpy_helper  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

import optic_xla_ops  # noqa: E402

_DTYPES = {"fp32": jnp.float32, "tf32": jnp.float32, "fp16": jnp.float16, "bf16": jnp.bfloat16}
_cache_dir_in_use = None


def versions():
    import jaxlib
    return "jax %s (jaxlib %s, onnx %s)" % (jax.__version__, jaxlib.__version__, onnx.__version__)


def gpu_count():
    try:
        return len(jax.devices("gpu"))
    except RuntimeError:  # no GPU backend in this jaxlib, or no GPU
        return 0


def _configure_cache(cache_dir):
    """JAX's persistent compilation cache is process-wide and set once: the first load with a
    cache_dir picks the folder; later loads with another folder share the first (returned)."""
    global _cache_dir_in_use
    if not cache_dir:
        return _cache_dir_in_use or ""
    if _cache_dir_in_use is None:
        path = os.path.join(cache_dir, "jax")
        os.makedirs(path, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", path)
        # Cache every executable: the zoo's small models compile in well under JAX's 1 s default.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        _cache_dir_in_use = path
    return _cache_dir_in_use


def _device(kind, index):
    if kind == "cpu":
        return jax.devices("cpu")[0]
    gpus = jax.devices("gpu") if gpu_count() else []
    if index >= len(gpus):
        raise RuntimeError("device cuda:%d not available to JAX (%d GPU(s) seen)"
                           % (index, len(gpus)))
    return gpus[index]


def _attrs(node):
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        out[a.name] = v
    return out


def _type_name(elem_type):
    return {onnx.TensorProto.FLOAT: "fp32", onnx.TensorProto.FLOAT16: "fp16",
            onnx.TensorProto.BFLOAT16: "bf16", onnx.TensorProto.INT64: "int64",
            onnx.TensorProto.INT32: "int32", onnx.TensorProto.UINT8: "uint8",
            onnx.TensorProto.INT8: "int8"}.get(elem_type, "unknown")


def _value_info(v):
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim]
    return (v.name, _type_name(v.type.tensor_type.elem_type), dims)


class _Context:
    def __init__(self, dtype, matmul_precision):
        self.dtype = dtype
        self.matmul_precision = matmul_precision


class Program:
    """One loaded model: weights on the device in the compute dtype, a jit of the whole graph.

    inputs/outputs: lists of (name, dtype name, dims with -1 for symbolic ones).
    compile_s: seconds the load spent tracing + compiling (or reading JAX's cache) for `batch`.
    """

    def __init__(self, path, device="cpu", index=0, precision="fp32", cache_dir="", batch=1):
        if precision not in _DTYPES:
            raise NotImplementedError("precision %s (have fp32, tf32, fp16, bf16)" % precision)
        self.cache_dir = _configure_cache(cache_dir)
        self.device = _device(device, index)
        self.dtype = _DTYPES[precision]
        # fp32 means fp32 math also on GPUs, whose XLA default for fp32 dots is tf32.
        prec = lax.Precision.DEFAULT if precision == "tf32" else lax.Precision.HIGHEST
        self.ctx = _Context(self.dtype, prec)
        model = onnx.load(path)
        for opset in model.opset_import:
            if opset.domain not in ("", "ai.onnx"):
                raise NotImplementedError("operator domain '%s'" % opset.domain)
        graph = model.graph
        unknown = sorted({n.op_type for n in graph.node if n.op_type not in optic_xla_ops.OPS
                          and n.op_type != "Constant"})
        if unknown:
            raise NotImplementedError("ONNX operator(s) %s" % ", ".join(unknown))
        init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.static = {}
        weights = {}
        for name, value in init.items():
            if np.issubdtype(value.dtype, np.floating):
                weights[name] = value.astype(self.dtype)
            else:
                self.static[name] = value
        self.nodes = []
        for n in graph.node:
            attrs = _attrs(n)
            if n.op_type == "Constant":  # folded now: its value is static
                self.static[n.output[0]] = next(iter(attrs.values()))
                continue
            self.nodes.append((optic_xla_ops.OPS[n.op_type], list(n.input), list(n.output), attrs))
        self.inputs = [_value_info(v) for v in graph.input if v.name not in init]
        self.outputs = [_value_info(v) for v in graph.output]
        self.weights = jax.device_put(weights, self.device)
        self._fn = jax.jit(self._forward)
        t0 = time.perf_counter()
        self._compile(batch)
        self.compile_s = time.perf_counter() - t0

    def _forward(self, weights, *xs):
        env = dict(self.static)
        env.update(weights)
        for (name, _, _), x in zip(self.inputs, xs):
            env[name] = x.astype(self.dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x
        for op, ins, outs, attrs in self.nodes:
            args = [env[i] if i else None for i in ins]
            while args and args[-1] is None:
                args.pop()
            y = op(self.ctx, *args, **attrs)
            for name, v in zip(outs, y if isinstance(y, tuple) else (y,)):
                env[name] = v
        return tuple(jnp.asarray(env[name]).astype(jnp.float32) for name, _, _ in self.outputs)

    def _compile(self, batch):
        specs = []
        for name, dtype, dims in self.inputs:
            if any(d < 0 for d in dims[1:]):
                raise NotImplementedError(
                    "input '%s' has a symbolic dimension beyond the batch" % name)
            shape = [batch if d < 0 else d for d in dims]
            specs.append(jax.ShapeDtypeStruct(shape, np.float32 if dtype == "fp32" else dtype))
        # Compiling through the jit (not lower().compile()) fills the jit's own executable cache.
        zeros = [jax.device_put(np.zeros(s.shape, s.dtype), self.device) for s in specs]
        jax.block_until_ready(self._fn(self.weights, *zeros))

    def run(self, *xs):
        """Host numpy inputs -> (list of fp32 numpy outputs, seconds in here, (h2d, compute, d2h)).

        The phases are host-timed around synchronizing calls (device_put then block_until_ready,
        the jit call then block_until_ready, the copy back), so they add a little waiting that
        one asynchronous chain would hide; the total is what a caller sees.
        """
        t0 = time.perf_counter()
        dev = jax.block_until_ready(jax.device_put(xs, self.device))
        t1 = time.perf_counter()
        ys = jax.block_until_ready(self._fn(self.weights, *dev))
        t2 = time.perf_counter()
        out = [np.asarray(y) for y in ys]
        t3 = time.perf_counter()
        return out, t3 - t0, (t1 - t0, t2 - t1, t3 - t2)


def _main(argv):
    path = argv[1]
    device = argv[2] if len(argv) > 2 else "cpu"
    precision = argv[3] if len(argv) > 3 else "fp32"
    batch = int(argv[4]) if len(argv) > 4 else 1
    t0 = time.perf_counter()
    p = Program(path, device, 0, precision, "", batch)
    print("%s: load %.2f s (compile %.2f s), inputs %s outputs %s" %
          (versions(), time.perf_counter() - t0, p.compile_s, p.inputs, p.outputs))
    x = np.random.default_rng(1).uniform(-2, 2, [batch] + p.inputs[0][2][1:]).astype(np.float32)
    out, _, _ = p.run(x)
    times = [p.run(x)[1] for _ in range(10)]
    print("run median %.3f ms, output %s" % (1e3 * sorted(times)[5], out[0].shape))


if __name__ == "__main__":
    _main(sys.argv)

"""ONNX operators in jax.numpy / lax, for optic's XLA backend (optic_xla.py runs the graph).

Each op takes (ctx, *inputs, **attributes) and returns one value or a tuple. A value is either a
numpy array (static: known while tracing, e.g. shapes, Reshape targets, Slice bounds) or a jax
array (traced). Ops whose inputs are all static compute in numpy, so shape arithmetic (ViT's
Shape -> Gather -> Concat -> Reshape chains) folds to constants at trace time and never reaches XLA.

Covers the opset-17 graphs of optic's zoo (resnet50, vgg19, densenet201, efficientnet_b0,
mobilenet_v2, vit_b_16, tiny_cnn, tiny_mlp) plus a few neighbours; anything else is rejected at
load with the operator's name (optic_xla.Program checks the whole graph before tracing).
"""
import numpy as np
import jax
import jax.numpy as jnp
from jax import lax
from onnx import helper


def is_static(*values):
    return all(v is None or isinstance(v, (np.ndarray, np.generic)) for v in values)


def _float(v):
    return np.issubdtype(np.asarray(v).dtype if is_static(v) else v.dtype, np.floating) or (
        not is_static(v) and v.dtype == jnp.bfloat16)


def align(ctx, *values):
    """Static float constants take the traced operand's float dtype (fp16/bf16 stay low)."""
    traced = [v for v in values if v is not None and not is_static(v) and _float(v)]
    if not traced:
        return values
    dtype = traced[0].dtype
    return tuple(v.astype(dtype) if v is not None and is_static(v) and _float(v) else v
                 for v in values)


def _binary(fn):
    def op(ctx, a, b):
        if is_static(a, b):
            return np.asarray(fn(np, a, b))
        a, b = align(ctx, a, b)
        return fn(jnp, a, b)
    return op


def _div(xp, a, b):
    if np.issubdtype(np.asarray(a).dtype if xp is np else a.dtype, np.integer):
        return (np.trunc(a / b).astype(a.dtype) if xp is np else lax.div(a, b))
    return a / b


def mod(ctx, a, b, fmod=0):
    # ONNX Mod: fmod=0 takes the divisor's sign (Python's %, np.mod), fmod=1 the dividend's (C).
    return _binary(lambda xp, x, y: xp.fmod(x, y) if fmod else xp.mod(x, y))(ctx, a, b)


def _unary(fn):
    def op(ctx, x):
        return fn(x)
    return op


def _pairs(pads, n):
    pads = list(pads) if pads is not None else [0] * (2 * n)
    return [(int(pads[i]), int(pads[i + n])) for i in range(n)]


def _no_auto_pad(auto_pad):
    if auto_pad not in (None, "NOTSET"):
        raise NotImplementedError("auto_pad=%s is not supported (only explicit pads)" % auto_pad)


def conv(ctx, x, w, b=None, auto_pad=None, dilations=None, group=1, kernel_shape=None,
         pads=None, strides=None):
    _no_auto_pad(auto_pad)
    x, w, b = align(ctx, x, w, b)
    n = w.ndim - 2
    spatial = "DHW"[-n:] if n <= 3 else None
    y = lax.conv_general_dilated(
        x, w, tuple(strides or [1] * n), _pairs(pads, n),
        rhs_dilation=tuple(dilations or [1] * n), feature_group_count=int(group),
        dimension_numbers=("NC" + spatial, "OI" + spatial, "NC" + spatial),
        precision=ctx.matmul_precision)
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * n)
    return y


def _pool_padding(x, kernel, strides, dilations, pads, ceil_mode):
    n = len(kernel)
    pairs = _pairs(pads, n)
    if ceil_mode:  # extend the end padding so the last partial window counts (PyTorch's rule)
        for i in range(n):
            size = x.shape[2 + i]
            eff = (kernel[i] - 1) * dilations[i] + 1
            lo, hi = pairs[i]
            out = -(-(size + lo + hi - eff) // strides[i]) + 1
            if (out - 1) * strides[i] >= size + lo:
                out -= 1
            need = (out - 1) * strides[i] + eff - (size + lo + hi)
            pairs[i] = (lo, hi + max(0, need))
    return [(0, 0), (0, 0)] + pairs


def max_pool(ctx, x, auto_pad=None, ceil_mode=0, dilations=None, kernel_shape=None, pads=None,
             storage_order=0, strides=None):
    _no_auto_pad(auto_pad)
    n = len(kernel_shape)
    strides, dilations = list(strides or [1] * n), list(dilations or [1] * n)
    padding = _pool_padding(x, kernel_shape, strides, dilations, pads, ceil_mode)
    return lax.reduce_window(x, jnp.array(-jnp.inf, x.dtype), lax.max, (1, 1) + tuple(kernel_shape),
                             (1, 1) + tuple(strides), padding,
                             window_dilation=(1, 1) + tuple(dilations))


def average_pool(ctx, x, auto_pad=None, ceil_mode=0, count_include_pad=0, dilations=None,
                 kernel_shape=None, pads=None, strides=None):
    _no_auto_pad(auto_pad)
    n = len(kernel_shape)
    strides, dilations = list(strides or [1] * n), list(dilations or [1] * n)
    padding = _pool_padding(x, kernel_shape, strides, dilations, pads, ceil_mode)
    window, stride = (1, 1) + tuple(kernel_shape), (1, 1) + tuple(strides)
    dil = (1, 1) + tuple(dilations)
    total = lax.reduce_window(x.astype(jnp.float32), 0.0, lax.add, window, stride, padding,
                              window_dilation=dil)
    if count_include_pad or all(p == (0, 0) for p in padding):
        return (total / float(np.prod(kernel_shape))).astype(x.dtype)
    ones = jnp.ones((1, 1) + x.shape[2:], jnp.float32)
    count = lax.reduce_window(ones, 0.0, lax.add, window, stride, padding, window_dilation=dil)
    return (total / count).astype(x.dtype)


def global_average_pool(ctx, x):
    axes = tuple(range(2, x.ndim))
    return jnp.mean(x.astype(jnp.float32), axis=axes, keepdims=True).astype(x.dtype)


def gemm(ctx, a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    a, b, c = align(ctx, a, b, c)
    a = a.T if transA else a
    b = b.T if transB else b
    y = jnp.matmul(a, b, precision=ctx.matmul_precision)
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (c * beta if beta != 1.0 else c)
    return y


def matmul(ctx, a, b):
    a, b = align(ctx, a, b)
    return jnp.matmul(a, b, precision=ctx.matmul_precision)


def batch_norm(ctx, x, scale, bias, mean, var, epsilon=1e-5, momentum=0.9, training_mode=0):
    if training_mode:
        raise NotImplementedError("BatchNormalization with training_mode=1")
    x, scale, bias, mean, var = align(ctx, x, scale, bias, mean, var)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    inv = scale / jnp.sqrt(var + jnp.asarray(epsilon, var.dtype))
    return x * inv.reshape(shape) + (bias - mean * inv).reshape(shape)


def layer_norm(ctx, x, scale, bias=None, axis=-1, epsilon=1e-5, stash_type=1):
    axes = tuple(range(axis % x.ndim, x.ndim))
    xf = x.astype(jnp.float32)  # statistics in fp32 also for fp16/bf16 (stash_type=1)
    mean = jnp.mean(xf, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(xf - mean), axis=axes, keepdims=True)
    y = ((xf - mean) * lax.rsqrt(var + epsilon)).astype(x.dtype)
    y, scale, bias = align(ctx, y, scale, bias)
    y = y * scale
    return y + bias if bias is not None else y


def softmax(ctx, x, axis=-1):
    return jax.nn.softmax(x.astype(jnp.float32), axis=axis).astype(x.dtype)


def clip(ctx, x, lo=None, hi=None, min=None, max=None):  # noqa: A002 (ONNX attribute names)
    lo = min if lo is None and min is not None else lo
    hi = max if hi is None and max is not None else hi
    x, lo, hi = align(ctx, x, lo, hi)
    if lo is not None:
        x = jnp.maximum(x, lo)
    if hi is not None:
        x = jnp.minimum(x, hi)
    return x


def pad(ctx, x, pads, value=None, axes=None, mode="constant"):
    if axes is not None:
        raise NotImplementedError("Pad with an axes input")
    pads = [int(p) for p in pads]
    if any(p < 0 for p in pads):
        raise NotImplementedError("Pad with negative pads")
    width = _pairs(pads, x.ndim)
    if mode == "constant":
        cv = 0 if value is None else np.asarray(value).reshape(()).item()
        return jnp.pad(x, width, mode="constant", constant_values=cv)
    return jnp.pad(x, width, mode={"reflect": "reflect", "edge": "edge"}[mode])


def _xp(*values):
    return np if is_static(*values) else jnp


def shape(ctx, x, start=0, end=None):
    return np.array(x.shape[start:end], dtype=np.int64)


def gather(ctx, data, indices, axis=0):
    if is_static(indices):
        indices = np.where(indices < 0, indices + data.shape[axis], indices)
    return _xp(data, indices).take(data, indices, axis=axis)


def _axes(values, rank):
    return sorted(int(a) % rank for a in np.asarray(values).reshape(-1))


def unsqueeze(ctx, x, axes=None, axes_attr=None):
    rank = np.ndim(x) + len(np.asarray(axes).reshape(-1))
    return _xp(x).expand_dims(x, tuple(_axes(axes, rank)))


def squeeze(ctx, x, axes=None):
    if axes is None:
        return _xp(x).squeeze(x)
    return _xp(x).squeeze(x, tuple(_axes(axes, np.ndim(x))))


def concat(ctx, *values, axis=0):
    if is_static(*values):
        return np.concatenate(values, axis=axis)
    return jnp.concatenate(align(ctx, *values), axis=axis)


def reshape(ctx, x, target, allowzero=0):
    target = [int(t) for t in target]
    if not allowzero:
        target = [x.shape[i] if t == 0 else t for i, t in enumerate(target)]
    return _xp(x).reshape(x, target)


def transpose(ctx, x, perm=None):
    return _xp(x).transpose(x, perm if perm is None else tuple(perm))


def constant_of_shape(ctx, target, value=None):
    fill = np.zeros(1, np.float32) if value is None else value
    return np.full([int(t) for t in target], fill.reshape(-1)[0], dtype=fill.dtype)


def expand(ctx, x, target):
    out = np.broadcast_shapes(np.shape(x), tuple(int(t) for t in target))
    return _xp(x).broadcast_to(x, out)


def slice_(ctx, x, starts, ends, axes=None, steps=None):
    index = [slice(None)] * np.ndim(x)
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[int(a)] = slice(int(s), int(e), int(st))
    return x[tuple(index)]


def cast(ctx, x, to):
    dtype = helper.tensor_dtype_to_np_dtype(to)
    if is_static(x):
        return x.astype(dtype)
    if np.issubdtype(dtype, np.floating) and _float(x):
        return x.astype(ctx.dtype)  # a float cast keeps the compute precision (fp16 stays fp16)
    return x.astype(dtype)


def where(ctx, cond, a, b):
    if is_static(cond, a, b):
        return np.where(cond, a, b)
    a, b = align(ctx, a, b)
    return jnp.where(cond, a, b)


def flatten(ctx, x, axis=1):
    return _xp(x).reshape(x, (int(np.prod(x.shape[:axis])), -1))


def identity(ctx, x):
    return x


OPS = {
    "Add": _binary(lambda xp, a, b: a + b),
    "Sub": _binary(lambda xp, a, b: a - b),
    "Mul": _binary(lambda xp, a, b: a * b),
    "Div": _binary(_div),
    "Pow": _binary(lambda xp, a, b: xp.power(a, b)),
    "Mod": mod,
    "Equal": _binary(lambda xp, a, b: xp.equal(a, b)),
    "Relu": _unary(lambda x: jnp.maximum(x, 0)),
    "Sigmoid": _unary(jax.nn.sigmoid),
    "Tanh": _unary(jnp.tanh),
    "Erf": _unary(lax.erf),
    "Sqrt": _unary(jnp.sqrt),
    "Conv": conv,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": global_average_pool,
    "Gemm": gemm,
    "MatMul": matmul,
    "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm,
    "Softmax": softmax,
    "Clip": clip,
    "Pad": pad,
    "Shape": shape,
    "Gather": gather,
    "Unsqueeze": unsqueeze,
    "Squeeze": squeeze,
    "Concat": concat,
    "Reshape": reshape,
    "Transpose": transpose,
    "ConstantOfShape": constant_of_shape,
    "Expand": expand,
    "Slice": slice_,
    "Cast": cast,
    "Where": where,
    "Flatten": flatten,
    "Identity": identity,
}

"""optic's iree backend, run side: a compiled .vmfb on an IREE HAL device, through the IREE
runtime's Python bindings (iree-base-runtime). Called from C++ (iree_model.cc) in the process's
embedded CPython: the runtime wheel ships no C headers and no linkable library (its extension
exports only PyInit__runtime), so the runtime's C API is reached through its own bindings.

Threading: the C++ side holds the GIL for every call into this module; a Program is called by one
thread at a time (optic's Model contract). IREE's invoke releases the GIL while the device runs,
so Programs of different Models execute at once.
"""
import os
import sys
import time

import numpy as np
import iree.runtime as rt

_DTYPES = {"fp32": np.float32, "fp16": np.float16, "int8": np.int8, "uint8": np.uint8,
           "int32": np.int32, "int64": np.int64}


def versions():
    from iree.runtime import version as rv

    return "iree-base-runtime %s" % rv.VERSION


def cuda_devices():
    """How many CUDA devices IREE's cuda driver sees (0 without a driver or a GPU)."""
    try:
        return len(rt.get_driver("cuda").query_available_devices())
    except Exception:  # no libcuda, no GPU: the driver does not start
        return 0


def _import_onnx():
    """Inside optic, Debian's libtorch has already loaded libonnx.so: the onnx wheel's extension
    would bind its schema registry to that library's symbols (another ONNX version) and fail.
    RTLD_DEEPBIND makes the extension use its own copies (as the xla backend does)."""
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | getattr(os, "RTLD_DEEPBIND", 0))
    try:
        import onnx
        from onnx import numpy_helper
    finally:
        sys.setdlopenflags(flags)
    return onnx, numpy_helper


_weights = {}  # (path, size, mtime) -> {initializer name: array}, one ONNX read per file


def _initializers(path):
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _weights:
        onnx, numpy_helper = _import_onnx()
        model = onnx.load(path)
        _weights.clear()
        _weights[key] = [(i.name, numpy_helper.to_array(i)) for i in model.graph.initializer]
    return _weights[key]


def weights_from_onnx(path, param_map):
    """A ParameterIndex holding the module's parameters (param_map: [key, initializer name,
    dtype, dims] in graph order, from the compile record) taken from the ONNX file at `path`: by
    initializer name where every name is there with its shape, else in graph order, each
    parameter the next initializer of its dtype and shape (another exporter's names for the same
    graph). Raises ValueError naming the first parameter that has no match. Returns the index
    and the arrays it reads from."""
    inits = _initializers(path)
    by_name = {name: a for name, a in inits}
    dtypes = {"fp32": np.float32, "fp16": np.float16, "int64": np.int64, "int32": np.int32,
              "int8": np.int8, "uint8": np.uint8}

    def fits(a, entry):
        # An fp16 module takes the fp32 file's weights rounded to fp16 (as it was compiled).
        want = dtypes.get(entry[2])
        same = a.dtype == want or (a.dtype == np.float32 and want == np.float16)
        return list(a.shape) == list(entry[3]) and same

    chosen = []
    if all(e[1] in by_name and fits(by_name[e[1]], e) for e in param_map):
        chosen = [by_name[e[1]] for e in param_map]
    else:
        pos = 0
        for e in param_map:
            while pos < len(inits) and not fits(inits[pos][1], e):
                pos += 1
            if pos == len(inits):
                raise ValueError("'%s' has no initializer for the module's parameter %s (%s %s); "
                                 "the module was compiled from another graph: compile it from "
                                 "this file" % (path, e[1], e[2], "x".join(map(str, e[3]))))
            chosen.append(inits[pos][1])
            pos += 1
    index = rt.ParameterIndex()
    arrays = [np.ascontiguousarray(a, dtype=dtypes[e[2]]) for e, a in zip(param_map, chosen)]
    for e, a in zip(param_map, arrays):
        index.add_buffer(e[0], a)
    return index, arrays  # the index reads the arrays' memory: keep them alive with it


def _device(kind, index, threads):
    if kind == "cpu":
        # The task executor reads its worker count and stack size from global flags when a device
        # is created. IREE's default 128 KiB worker stack is refused by pthread_create (EINVAL)
        # in a process whose libraries (libtorch, OpenVINO, oneDNN) carry a large static TLS,
        # which glibc places on every thread's stack: 4 MiB leaves room.
        rt.flags.parse_flags("--task_topology_group_count=%d" % max(0, threads),
                             "--task_worker_stack_size=%d" % (4 << 20))
        return rt.get_driver("local-task").create_default_device()
    driver = rt.get_driver("cuda")
    devices = driver.query_available_devices()
    if index >= len(devices):
        raise RuntimeError("device cuda:%d not available to IREE's cuda driver (%d seen)"
                           % (index, len(devices)))
    return driver.create_device(devices[index]["device_id"], None)


class Program:
    """A .vmfb loaded on a device: `run(*arrays)` calls its entry function."""

    def __init__(self, vmfb, entry, device_kind, device_index, threads, params, outputs,
                 weights_onnx=None, param_map=None):
        self.device = _device(device_kind, device_index, threads)
        self.config = rt.Config(device=self.device)
        modules = []
        index = None
        self.arrays = None
        if weights_onnx:
            index, self.arrays = weights_from_onnx(weights_onnx, param_map)
        elif params:
            index = rt.ParameterIndex()
            index.load(params)
        if index is not None:
            self.index = index  # the provider reads from it for as long as the context lives
            modules.append(rt.create_io_parameters_module(
                self.config.vm_instance, index.create_provider(scope="model")))
        self.module = rt.VmModule.mmap(self.config.vm_instance, vmfb)
        self.context = rt.SystemContext(vm_modules=modules + [self.module], config=self.config)
        bound = getattr(self.context.modules, self.module.name)
        self.function = bound[entry]
        self.outputs = outputs

    def run(self, *arrays):
        """Returns (outputs as numpy arrays, seconds spent here, (h2d, compute, d2h) seconds)."""
        start = time.perf_counter()
        args = [rt.asdevicearray(self.device, a) for a in arrays]
        t1 = time.perf_counter()
        result = self.function(*args)
        if not isinstance(result, (tuple, list)):
            result = (result,)
        # The call returns when its results are ready (synchronous invoke).
        t2 = time.perf_counter()
        outs = [np.ascontiguousarray(r.to_host()) for r in result]
        t3 = time.perf_counter()
        return outs, t3 - start, (t1 - start, t2 - t1, t3 - t2)

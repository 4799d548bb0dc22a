"""Compiles an ONNX file with Apache TVM (Relax frontend) into a shared library the tvm backend's
C++ runtime loads. Run by the backend as a child process with the Python of OPTIC_TVM_PYTHON:

  optic_tvm_compile.py version
  optic_tvm_compile.py compile ONNX OUT.so --batch dyn|N --trials T --work-dir DIR

`compile` writes OUT.so and OUT.json (inputs, outputs, versions, compile seconds) next to it, both
through a temporary name and a rename, so a reader never sees half a file. --batch dyn keeps a
symbolic batch axis (one library for every batch size); N fixes it, as meta-schedule tuning
(--trials > 0) needs static shapes. Exit codes: 0 ok, 2 the file is not a valid ONNX model,
3 the model uses something the importer or compiler does not support, 1 anything else; the last
line on stderr is the reason.
"""

import os
import sys
import time

# The shared half of optic's ONNX compile scripts: exit codes, ONNX inputs/outputs, atomic writes.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "cache"))
from onnx_script import fail, graph_io, load_onnx, temp_beside, write_json  # noqa: E402





def host_target():
    import tvm

    # TVM's "-mcpu=native" is refused under the wheel's conda triple; LLVM's own host CPU name is
    # what native would resolve to.
    cpu = tvm.target.codegen.llvm_get_system_cpu()
    return tvm.target.Target({"kind": "llvm", "mcpu": cpu, "num-cores": os.cpu_count() or 1})


def versions():
    import tvm
    import tvm_ffi
    import onnx

    return f"tvm {tvm.__version__}, tvm-ffi {tvm_ffi.__version__}, onnx {onnx.__version__}"






def compile_model(path, out, batch, trials, work_dir):
    import tvm
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx

    model = load_onnx(path)
    inputs, outputs = graph_io(model, "tvm")
    shape_dict = None
    if batch != "dyn":
        shape_dict = {name: [int(batch) if i == 0 and d < 0 else d for i, d in enumerate(dims)]
                      for name, _, dims in inputs}
        for name, dims in shape_dict.items():
            if any(d < 0 for d in dims):
                fail(3, f"input '{name}' has a variable axis other than the batch ({dims}); "
                     "tuning needs static shapes")
    start = time.monotonic()
    try:
        mod = from_onnx(model, shape_dict=shape_dict, keep_params_in_input=False)
    except tvm.error.OpNotImplemented as e:
        fail(3, f"TVM's ONNX importer cannot import '{path}': {e}")
    except Exception as e:
        fail(3, f"TVM's ONNX importer failed on '{path}' ({type(e).__name__}: {e})")
    target = host_target()
    try:
        if trials > 0:
            os.makedirs(work_dir, exist_ok=True)
            tasks = max(1, len(model.graph.node))
            pipeline = relax.pipeline.static_shape_tuning_pipeline(
                total_trials=trials, target=target, work_dir=work_dir,
                max_trials_per_task=max(1, trials // tasks))
            mod = pipeline(mod)
        executable = tvm.compile(mod, target=target)
    except Exception as e:
        fail(3, f"TVM cannot compile '{path}' for {target} ({type(e).__name__}: {e})")
    tmp_so = temp_beside(out, ".so")
    executable.export_library(tmp_so)
    info = {
        "inputs": inputs,
        "outputs": outputs,
        "versions": versions(),
        "target": str(target),
        "batch": batch,
        "trials": trials,
        "compile_s": round(time.monotonic() - start, 3),
    }
    os.replace(tmp_so, out)
    write_json(info, os.path.splitext(out)[0] + ".json")


def main(argv):
    if len(argv) >= 1 and argv[0] == "version":
        print(versions())
        return
    if len(argv) >= 3 and argv[0] == "compile":
        opts = dict(zip(argv[3::2], argv[4::2]))
        batch = opts.get("--batch", "dyn")
        if batch != "dyn" and not batch.isdigit():
            fail(1, f"--batch must be dyn or a positive integer, not '{batch}'")
        compile_model(argv[1], argv[2], batch, int(opts.get("--trials", "0")),
                      opts.get("--work-dir", os.path.dirname(os.path.abspath(argv[2]))))
        return
    fail(1, "usage: optic_tvm_compile.py version | compile ONNX OUT.so [--batch dyn|N] "
         "[--trials T] [--work-dir DIR]")


if __name__ == "__main__":
    main(sys.argv[1:])

"""optic: one API over ONNX Runtime, OpenVINO and libtorch (docs/python.md).

    model = optic.load("tiny_cnn", backend="openvino")
    y = model.predict(x)                     # x: NumPy array, torch/CuPy tensor, or {name: array}
    rows = optic.bench(models=["tiny_cnn"], backends=["onnxruntime", "openvino"])
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import shlex
import sys
import tempfile
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _optic
from ._optic import (  # noqa: F401  (re-exported)
    CancelledError,
    Error,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfMemoryError,
    UnavailableError,
    UnsupportedError,
    UnsupportedHardwareError,
)
from ._spec import TensorSpec

__all__ = [
    "load", "Model", "TensorSpec", "backends", "bench", "report", "Rows",
    "Error", "InvalidArgumentError", "NotFoundError", "UnavailableError", "UnsupportedError",
    "UnsupportedHardwareError", "OutOfMemoryError", "CancelledError", "InternalError",
]
__version__ = "0.1.0"

# Built into the CLI but left out of this module: both embed CPython, and this process already is
# one (pyproject.toml turns them off).
_LEFT_OUT = {
    "xla": "unsupported in the Python package: the xla backend embeds its own CPython; use the optic CLI",
    "iree": "unsupported in the Python package: the iree backend embeds its own CPython; use the optic CLI",
}


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Model:
    """A loaded model. predict() releases the GIL; threads may share a Model (its calls run one
    at a time, as Model::Execute's contract says); separate Models run in parallel."""

    __slots__ = ("_m", "predict", "_executor")

    def __init__(self, native: "_optic.Model") -> None:
        self._m = native
        # The bound C++ method itself: no Python frame between the caller and optic.
        self.predict = native.predict
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None

    @property
    def inputs(self) -> list:
        return self._m.inputs

    @property
    def outputs(self) -> list:
        return self._m.outputs

    @property
    def backend(self) -> str:
        return self._m.backend

    @property
    def file(self) -> str:
        """The file the backend loaded (a zoo file or a converted one for a zoo name)."""
        return self._m.file

    @property
    def converted_by(self) -> str:
        return self._m.converted_by

    def predict_async(self, x: Any) -> "concurrent.futures.Future":
        """predict(x) on this model's worker thread; the Future holds its result or exception."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="optic-predict")
        return self._executor.submit(self._m.predict, x)

    def __repr__(self) -> str:
        return repr(self._m)


def load(model: Union[str, os.PathLike], backend: str = "onnxruntime", device: str = "cpu",
         precision: str = "fp32", *, models_dir: Optional[str] = None, **options: Any) -> Model:
    """Loads a zoo model name or a model file (.onnx, .pt, .xml, .pt2) with one backend, resolved
    and converted as the CLI does. options: threads, inter_op_threads, batch_size, cache_dir or the
    backend's own keys (optic.backends() lists them), as `optic predict -o key=value`."""
    opts = {"device": device, "precision": precision}
    opts.update({k: _option_text(v) for k, v in options.items()})
    if backend in _LEFT_OUT:
        raise UnsupportedError(f"{backend}: {_LEFT_OUT[backend]}")
    return Model(_optic._load(os.fspath(model), backend, opts, models_dir or ""))


def backends() -> list:
    """Every backend: name, available, reason (why not), version, devices, precisions,
    file_extensions, options, dynamic_batch, synthetic."""
    out = _optic._backends()
    for name, reason in _LEFT_OUT.items():
        out.append({"name": name, "available": False, "reason": reason})
    return out


class Rows(list):
    """Result rows (dicts in the schema of results files, docs/results-schema.md)."""

    path: Optional[str] = None

    def to_pandas(self):
        import pandas  # optional dependency: pip install optic[pandas]
        return pandas.json_normalize(list(self), max_level=0)


def _cli() -> str:
    exe = os.path.join(os.path.dirname(__file__), "bin", "optic")
    if not os.access(exe, os.X_OK):
        raise NotFoundError(f"the optic CLI is not installed with the package ({exe}): reinstall "
                            "with `pip install .` from the optic checkout")
    return exe


# Config keys that take lists; a single value is one item.
_LIST_KEYS = {"threads", "device", "scenario", "image_class", "preprocess", "ensemble"}


def bench(models: Union[str, Sequence[str]], backends: Union[str, Sequence[str], None] = None, *,
          batch: Union[int, Sequence[int], None] = None, precision: Union[str, Sequence[str], None] = None,
          out: Optional[str] = None, **config: Any) -> Rows:
    """Runs a grid through the same sweep as `optic bench` (cells in child processes of the
    installed CLI) and returns its rows. config takes the config file's other keys (docs/bench.md):
    threads, device, scenario, repeat, settings={"min_duration_s": 0.5, ...}, backend_options, ...
    Rows are appended to `out` (a .jsonl file; default: a new temporary file, Rows.path)."""
    def as_list(v):
        return [v] if isinstance(v, (str, int)) else list(v)
    cfg = {"models": as_list(models)}
    if backends is not None:
        cfg["backends"] = as_list(backends)
    if batch is not None:
        cfg["batch"] = as_list(batch)
    if precision is not None:
        cfg["precision"] = as_list(precision)
    for key, value in config.items():
        cfg[key] = as_list(value) if key in _LIST_KEYS and isinstance(value, (str, int)) else value
    if out is None:
        out = os.path.join(tempfile.mkdtemp(prefix="optic-bench-"), "results.jsonl")
    cfg["out"] = os.fspath(out)
    command = "python: optic.bench(" + shlex.quote(json.dumps(cfg, sort_keys=True)) + ")"
    rows = Rows(json.loads(line) for line in _optic._bench(json.dumps(cfg), _cli(), command))
    rows.path = cfg["out"]
    return rows


def report(rows_or_paths: Union[str, os.PathLike, Iterable[Any]], out: Optional[str] = None, *,
           markdown: Optional[str] = None, title: str = "optic benchmark report",
           quiet: bool = False) -> str:
    """optic report: rows (dicts, e.g. optic.bench's) or results files (.jsonl) into the terminal
    table (returned, and printed unless quiet), an HTML page at `out` and a Markdown summary."""
    items = [rows_or_paths] if isinstance(rows_or_paths, (str, os.PathLike)) else list(rows_or_paths)
    paths = [os.fspath(i) for i in items if isinstance(i, (str, os.PathLike))]
    dicts = [i for i in items if isinstance(i, Mapping)]
    if len(paths) + len(dicts) != len(items):
        raise InvalidArgumentError("report: pass results files (paths) or rows (dicts), got "
                                   + ", ".join(sorted({type(i).__name__ for i in items})))
    with tempfile.TemporaryDirectory(prefix="optic-report-") as tmp:
        if dicts:
            rows_file = os.path.join(tmp, "rows.jsonl")
            with open(rows_file, "w") as f:
                for d in dicts:
                    f.write(json.dumps(d) + "\n")
            paths.append(rows_file)
        text = _optic._report(paths, os.fspath(out) if out else "",
                              os.fspath(markdown) if markdown else "", title)
    if not quiet:
        sys.stdout.write(text)
    return text

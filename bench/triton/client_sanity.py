"""Sanity check before bench/server_vs_triton.sh measures: the same tritonclient calls
(the project's .venv, tritonclient 2.73.0) against optic serve and against a real Triton give
the same answers for the identity model.

Per server: HTTP and gRPC live/ready, model metadata (input/output names, datatypes, shapes),
one binary HTTP infer and one gRPC infer of a random 1x3x224x224 FP32 tensor (output must equal
the input bit for bit), and that a wrong shape is rejected (HTTP 400 / gRPC INVALID_ARGUMENT on
both). Prints one line per check and exits 1 on the first disagreement.
  .venv/bin/python bench/triton/client_sanity.py NAME=HTTP_HOST:PORT,GRPC_HOST:PORT ...
"""
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

MODEL = "identity"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        sys.exit(1)


def metadata_summary(meta):
    """Name, datatype, shape of every input/output, whichever client produced meta."""
    if not isinstance(meta, dict):  # gRPC protobuf message
        meta = {"inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)}
                           for t in meta.inputs],
                "outputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)}
                            for t in meta.outputs]}
    return [(k, t["name"], t["datatype"], [int(d) for d in t["shape"]])
            for k in ("inputs", "outputs") for t in meta[k]]


def run(name, http_url, grpc_url):
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32)
    h = httpclient.InferenceServerClient(http_url)
    g = grpcclient.InferenceServerClient(grpc_url)
    check(h.is_server_live() and h.is_server_ready(), f"{name}: HTTP live/ready")
    check(g.is_server_live() and g.is_server_ready(), f"{name}: gRPC live/ready")
    hm = metadata_summary(h.get_model_metadata(MODEL))
    gm = metadata_summary(g.get_model_metadata(MODEL))
    check(hm == gm, f"{name}: metadata HTTP == gRPC {hm}")

    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=True)
    out = httpclient.InferRequestedOutput("output", binary_data=True)
    y = h.infer(MODEL, [inp], outputs=[out]).as_numpy("output")
    check(y is not None and y.dtype == np.float32 and np.array_equal(x, y),
          f"{name}: HTTP binary infer returns the input unchanged")

    ginp = grpcclient.InferInput("input", list(x.shape), "FP32")
    ginp.set_data_from_numpy(x)
    y = g.infer(MODEL, [ginp], outputs=[grpcclient.InferRequestedOutput("output")]).as_numpy("output")
    check(y is not None and np.array_equal(x, y), f"{name}: gRPC infer returns the input unchanged")

    bad = np.zeros((1, 3, 224, 223), dtype=np.float32)
    inp = httpclient.InferInput("input", list(bad.shape), "FP32")
    inp.set_data_from_numpy(bad, binary_data=True)
    try:
        h.infer(MODEL, [inp])
        check(False, f"{name}: HTTP wrong shape rejected")
    except InferenceServerException as e:
        check(str(e.status()) == "400", f"{name}: HTTP wrong shape rejected ({e.status()}: {e.message()[:80]})")
    ginp = grpcclient.InferInput("input", list(bad.shape), "FP32")
    ginp.set_data_from_numpy(bad)
    try:
        g.infer(MODEL, [ginp])
        check(False, f"{name}: gRPC wrong shape rejected")
    except InferenceServerException as e:
        check(e.status() == "StatusCode.INVALID_ARGUMENT",
              f"{name}: gRPC wrong shape rejected ({e.status()}: {e.message()[:80]})")
    return hm


def main(argv):
    if not argv:
        sys.exit(__doc__)
    metas = {}
    for arg in argv:
        name, urls = arg.split("=", 1)
        http_url, grpc_url = urls.split(",")
        metas[name] = run(name, http_url, grpc_url)
    first = next(iter(metas.values()))
    check(all(m == first for m in metas.values()), "all servers: same model metadata")


if __name__ == "__main__":
    main(sys.argv[1:])

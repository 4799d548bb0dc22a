"""The OpenVINO CPU plugin's compiled-model properties for optic's default configuration and for
the configuration benchmark_app gets from `-hint none -nstreams 1 -nthreads T -infer_precision f32`,
side by side: which setting differs between the two harness-overhead runs.

optic's map is the LATENCY branch of src/backends/openvino/ov_config.cc CompileConfig.
Usage: .venv/bin/python bench/harness_overhead/ov_properties.py model.onnx [batch] [threads]
"""
import json
import sys

import openvino as ov

path = sys.argv[1]
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 1
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
core = ov.Core()
model = core.read_model(path)
model.reshape([batch, 3, 224, 224])
keys = ["PERFORMANCE_HINT", "NUM_STREAMS", "INFERENCE_NUM_THREADS", "ENABLE_CPU_PINNING",
        "ENABLE_HYPER_THREADING", "INFERENCE_PRECISION_HINT", "SCHEDULING_CORE_TYPE"]
configs = {
    "optic (ov_config.cc)": {"INFERENCE_PRECISION_HINT": ov.Type.f32, "INFERENCE_NUM_THREADS": threads,
                             "PERFORMANCE_HINT": "LATENCY", "ENABLE_HYPER_THREADING": True,
                             "ENABLE_CPU_PINNING": False},
    "benchmark_app -hint none -nstreams 1": {"INFERENCE_PRECISION_HINT": ov.Type.f32,
                                             "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1},
}
out = {"openvino": ov.get_version(), "model": path, "batch": batch, "threads": threads}
for name, cfg in configs.items():
    compiled = core.compile_model(model, "CPU", cfg)
    out[name] = {k: str(compiled.get_property(k)) for k in keys}
print(json.dumps(out, indent=1))

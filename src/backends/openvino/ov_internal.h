// Internal pieces of the OpenVINO backend, split by concern: ov_config.cc turns optic's options
// into OpenVINO properties and answers what the CPU plugin supports; ov_model.cc runs a compiled
// model; ov_backend.cc loads files and owns the edge where exceptions become a Status.
#pragma once

#include <functional>

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <openvino/openvino.hpp>

#include "optic/backend.h"

namespace optic::openvino {

// The process's one ov::Core: it loads the device plugins once, and OpenVINO documents its
// methods as safe to call from several threads, so concurrent Loads share it. Fails (instead of
// throwing) when the runtime cannot find its plugins.
Status GlobalCore(ov::Core** out);

// What the CPU plugin reports for this machine (ov::device::capabilities), queried once per
// process: fp32 always, bf16/fp16/int8 only when the plugin lists them. If the query fails, fp32
// only, so that Load runs and reports the real error.
const std::vector<Precision>& CpuPrecisions();

// The backend's own options (LoadOptions::backend_options), typed. See option_specs() in
// ov_backend.cc for what each means and why the defaults are what they are.
struct OvOptions {
  enum class Hint { kLatency, kThroughput, kNone };
  Hint hint = Hint::kLatency;
  int num_streams = 0;       // 0: let the hint decide (latency -> 1 stream)
  bool cpu_pinning = false;
};
std::vector<OptionSpec> OvOptionSpecs();
Status ParseOvOptions(const LoadOptions& options, OvOptions* out);

// The compile_model properties for `options`: inference precision (fp32 is forced, since the CPU
// plugin computes in bf16 by default on machines with bf16 support), threads, streams, pinning,
// cache directory.
ov::AnyMap CompileConfig(const LoadOptions& options, const OvOptions& ov_options);

Status ToDType(const ov::element::Type& type, DType* out);
ov::element::Type ToOvType(DType dtype);

// An exception's message without the lines that locate it in OpenVINO's sources, on one line.
std::string Reason(const std::exception& e);

// Wraps a compiled model in an optic Model; describes its inputs and outputs. `read_model` gives
// the uncompiled model; it is called (and the model kept for shape checks) only when an input has
// a variable dimension other than the batch. It may throw.
Status CreateOvModel(ov::CompiledModel compiled, const std::string& path,
                     const std::function<std::shared_ptr<ov::Model>()>& read_model,
                     std::unique_ptr<Model>* out);

}  // namespace optic::openvino

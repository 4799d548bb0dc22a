// OpenVINO properties from optic's typed options, and the CPU plugin's precision report.
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include "ov_internal.h"

namespace optic::openvino {

Status GlobalCore(ov::Core** out) {
  // Built on first use, not at static-init time, so a broken installation becomes a Status.
  static ov::Core* core = nullptr;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      core = new ov::Core();  // never destroyed: plugins must outlive every compiled model
    } catch (const std::exception& e) {
      error = Reason(e);
    }
  });
  if (core == nullptr) return Status::Internal("openvino: cannot create ov::Core: " + error);
  *out = core;
  return Status::OK();
}

const std::vector<Precision>& CpuPrecisions() {
  static const std::vector<Precision> precisions = [] {
    std::vector<Precision> p = {Precision::kFP32};
    ov::Core* core;
    if (!GlobalCore(&core).ok()) return p;
    try {
      const std::vector<std::string> caps = core->get_property("CPU", ov::device::capabilities);
      auto has = [&](const char* c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); };
      if (has(ov::device::capability::FP16)) p.push_back(Precision::kFP16);
      if (has(ov::device::capability::BF16)) p.push_back(Precision::kBF16);
      // int8 needs a quantized file (the zoo's onnx-int8); Load checks the file is one.
      if (has(ov::device::capability::INT8)) p.push_back(Precision::kINT8);
    } catch (const std::exception&) {
      // fp32 only; Load will surface the plugin's error.
    }
    return p;
  }();
  return precisions;
}

std::vector<OptionSpec> OvOptionSpecs() {
  return {
      {"performance_hint", OptionSpec::Type::kEnum, {"latency", "throughput", "none"},
       "ov::hint::performance_mode (default latency: one stream using all `threads`, like the "
       "other backends; throughput: several streams for parallel requests; none: plugin default)"},
      {"num_streams", OptionSpec::Type::kInt, {},
       "ov::num_streams, parallel inference streams (default: chosen by performance_hint)"},
      {"enable_cpu_pinning", OptionSpec::Type::kBool, {},
       "ov::hint::enable_cpu_pinning, pin inference threads to cores (default false)"},
  };
}

Status ParseOvOptions(const LoadOptions& options, OvOptions* out) {
  OvOptions o;
  for (const auto& [key, value] : options.backend_options) {
    if (key == "performance_hint") {
      o.hint = value == "throughput" ? OvOptions::Hint::kThroughput
               : value == "none"     ? OvOptions::Hint::kNone
                                     : OvOptions::Hint::kLatency;
    } else if (key == "num_streams") {
      o.num_streams = std::atoi(value.c_str());
      if (o.num_streams < 1) {
        return Status::InvalidArgument("openvino: option 'num_streams' takes an integer >= 1, got '" +
                                       value + "'");
      }
    } else if (key == "enable_cpu_pinning") {
      o.cpu_pinning = value == "true" || value == "1";
    }
    // Unknown keys were rejected by ValidateLoadOptions against OvOptionSpecs().
  }
  *out = o;
  return Status::OK();
}

ov::AnyMap CompileConfig(const LoadOptions& options, const OvOptions& o) {
  ov::AnyMap config;
  switch (options.precision) {
    case Precision::kBF16: config.emplace(ov::hint::inference_precision(ov::element::bf16)); break;
    case Precision::kFP16: config.emplace(ov::hint::inference_precision(ov::element::f16)); break;
    // int8: the file's quantized operators run in int8; everything else stays fp32, so the
    // number measures the quantization the file declares and not an extra bf16 lowering.
    default: config.emplace(ov::hint::inference_precision(ov::element::f32)); break;
  }
  // Same meaning as for the other backends: 0 = every core the OS reports. OpenVINO's own
  // default would use physical cores only, which would make cross-backend numbers unequal.
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  config.emplace(ov::inference_num_threads(threads));
  // Defaults give what LoadOptions describes for every backend: one request at a time on one
  // stream with all its threads (latency). Pinning stays off because the other backends do not
  // pin, and pinned threads contend badly with a server's own threads on a shared machine.
  if (o.hint == OvOptions::Hint::kLatency) {
    config.emplace(ov::hint::performance_mode(ov::hint::PerformanceMode::LATENCY));
    // The latency hint alone caps threads at the physical cores on SMT machines; `threads` means
    // logical cores for every backend, so let OpenVINO use them too (it still caps at the count
    // the OS gives it).
    config.emplace(ov::hint::enable_hyper_threading(true));
  } else if (o.hint == OvOptions::Hint::kThroughput) {
    config.emplace(ov::hint::performance_mode(ov::hint::PerformanceMode::THROUGHPUT));
  }
  if (o.num_streams > 0) config.emplace(ov::num_streams(o.num_streams));
  config.emplace(ov::hint::enable_cpu_pinning(o.cpu_pinning));
  if (!options.cache_dir.empty()) config.emplace(ov::cache_dir(options.cache_dir));
  return config;
}

Status ToDType(const ov::element::Type& type, DType* out) {
  switch (type) {
    case ov::element::Type_t::f32: *out = DType::kFP32; return Status::OK();
    case ov::element::Type_t::f16: *out = DType::kFP16; return Status::OK();
    case ov::element::Type_t::bf16: *out = DType::kBF16; return Status::OK();
    case ov::element::Type_t::i8: *out = DType::kINT8; return Status::OK();
    case ov::element::Type_t::u8: *out = DType::kUINT8; return Status::OK();
    case ov::element::Type_t::i32: *out = DType::kINT32; return Status::OK();
    case ov::element::Type_t::i64: *out = DType::kINT64; return Status::OK();
    default:
      return Status::Unsupported("openvino: element type " + type.get_type_name() +
                                 " is not supported by optic");
  }
}

ov::element::Type ToOvType(DType dtype) {
  switch (dtype) {
    case DType::kFP32: return ov::element::f32;
    case DType::kFP16: return ov::element::f16;
    case DType::kBF16: return ov::element::bf16;
    case DType::kINT8: return ov::element::i8;
    case DType::kUINT8: return ov::element::u8;
    case DType::kINT32: return ov::element::i32;
    case DType::kINT64: return ov::element::i64;
  }
  return ov::element::dynamic;
}

std::string Reason(const std::exception& e) {
  std::istringstream in(e.what());
  std::string line, out;
  while (std::getline(in, line)) {
    // OpenVINO prefixes the reason with where in its own sources it was found.
    if (line.empty() || line.rfind("Exception from ", 0) == 0 || line.rfind("Check '", 0) == 0) {
      continue;
    }
    out += (out.empty() ? "" : out.back() == ':' ? " " : "; ") + line;
  }
  return out.empty() ? std::string(e.what()) : out;
}

}  // namespace optic::openvino

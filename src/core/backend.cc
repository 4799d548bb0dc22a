#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "optic/backend.h"

namespace optic {

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kFP32: return "fp32";
    case Precision::kTF32: return "tf32";
    case Precision::kFP16: return "fp16";
    case Precision::kBF16: return "bf16";
    case Precision::kINT8: return "int8";
  }
  return "?";
}

Status ParsePrecision(const std::string& text, Precision* out) {
  for (Precision p : {Precision::kFP32, Precision::kTF32, Precision::kFP16, Precision::kBF16,
                      Precision::kINT8}) {
    if (text == PrecisionName(p)) { *out = p; return Status::OK(); }
  }
  return Status::InvalidArgument("unknown precision '" + text +
                                 "' (expected fp32, tf32, fp16, bf16 or int8)");
}

namespace {

bool ParseInt(const std::string& v, int* out) {
  if (v.empty() || v.size() > 9) return false;
  size_t i = (v[0] == '-') ? 1 : 0;
  if (i == v.size()) return false;
  for (; i < v.size(); ++i) if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  *out = std::atoi(v.c_str());
  return true;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

Status CheckBackendOption(const Backend& backend, const std::string& key,
                          const std::string& value) {
  const auto specs = backend.option_specs();
  auto it = std::find_if(specs.begin(), specs.end(),
                         [&](const OptionSpec& s) { return s.key == key; });
  if (it == specs.end()) {
    std::vector<std::string> keys;
    for (const auto& s : specs) keys.push_back(s.key);
    return Status::InvalidArgument(backend.name() + ": unknown option '" + key + "'" +
                                   (keys.empty() ? " (this backend takes no options)"
                                                 : " (known: " + Join(keys) + ")"));
  }
  int unused;
  switch (it->type) {
    case OptionSpec::Type::kBool:
      if (value != "true" && value != "false" && value != "1" && value != "0") {
        return Status::InvalidArgument(backend.name() + ": option '" + key +
                                       "' takes true or false, got '" + value + "'");
      }
      break;
    case OptionSpec::Type::kInt:
      if (!ParseInt(value, &unused)) {
        return Status::InvalidArgument(backend.name() + ": option '" + key +
                                       "' takes an integer, got '" + value + "'");
      }
      break;
    case OptionSpec::Type::kEnum:
      if (std::find(it->choices.begin(), it->choices.end(), value) == it->choices.end()) {
        return Status::InvalidArgument(backend.name() + ": option '" + key + "' takes one of " +
                                       Join(it->choices) + ", got '" + value + "'");
      }
      break;
    case OptionSpec::Type::kString:
      break;
  }
  return Status::OK();
}

}  // namespace

Status ValidateLoadOptions(const Backend& backend, const LoadOptions& options) {
  const Capabilities caps = backend.capabilities();
  if (std::find(caps.devices.begin(), caps.devices.end(), options.device.type) ==
      caps.devices.end()) {
    return Status::Unsupported(backend.name() + ": device " + DeviceName(options.device) +
                               " is not supported by this build");
  }
  if (Status s = CheckDeviceVisible(options.device); !s.ok()) {
    return Status(s.code(), backend.name() + ": " + s.message());
  }
  if (std::find(caps.precisions.begin(), caps.precisions.end(), options.precision) ==
      caps.precisions.end()) {
    std::vector<std::string> names;
    for (Precision p : caps.precisions) names.push_back(PrecisionName(p));
    return Status::Unsupported(backend.name() + ": precision " + PrecisionName(options.precision) +
                               " is not supported on this machine (supported: " + Join(names) +
                               ")");
  }
  if (options.threads < 0 || options.inter_op_threads < 0) {
    return Status::InvalidArgument(backend.name() + ": thread counts must be >= 0");
  }
  if (options.batch_size < 1) {
    return Status::InvalidArgument(backend.name() + ": batch_size must be >= 1");
  }
  for (const auto& [k, v] : options.backend_options) {
    OPTIC_RETURN_IF_ERROR(CheckBackendOption(backend, k, v));
  }
  return Status::OK();
}

Status ValidateLoadOptions(const Backend& backend, const LoadOptions& options,
                           const std::string& path) {
  Status s = ValidateLoadOptions(backend, options);
  if (s.ok()) return s;
  const std::string prefix = backend.name() + ": ";
  std::string reason = s.message();
  if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
  return Status(s.code(), prefix + "cannot load '" + path + "': " + reason);
}

Status ParseLoadOption(const Backend& backend, const std::string& setting, LoadOptions* options) {
  const size_t eq = setting.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument(backend.name() + ": option '" + setting +
                                   "' is not of the form key=value");
  }
  const std::string key = setting.substr(0, eq), value = setting.substr(eq + 1);
  auto int_option = [&](int* field, int min) {
    int v;
    if (!ParseInt(value, &v) || v < min) {
      return Status::InvalidArgument(backend.name() + ": option '" + key +
                                     "' takes an integer >= " + std::to_string(min) + ", got '" +
                                     value + "'");
    }
    *field = v;
    return Status::OK();
  };
  if (key == "device") return ParseDevice(value, &options->device);
  if (key == "precision") return ParsePrecision(value, &options->precision);
  if (key == "threads") return int_option(&options->threads, 0);
  if (key == "inter_op_threads") return int_option(&options->inter_op_threads, 0);
  if (key == "batch_size") return int_option(&options->batch_size, 1);
  if (key == "cache_dir") { options->cache_dir = value; return Status::OK(); }
  OPTIC_RETURN_IF_ERROR(CheckBackendOption(backend, key, value));
  options->backend_options[key] = value;
  return Status::OK();
}

Status CheckInputs(const std::vector<TensorInfo>& declared, const std::vector<Tensor>& inputs) {
  if (declared.size() != inputs.size()) {
    return Status::InvalidArgument("expected " + std::to_string(declared.size()) +
                                   " inputs, got " + std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo& d = declared[i];
    const Tensor& t = inputs[i];
    if (t.dtype() != d.dtype) {
      return Status::InvalidArgument("input '" + d.name + "' expects " + DTypeName(d.dtype) +
                                     ", got " + DTypeName(t.dtype()));
    }
    bool match = t.rank() == d.shape.size();
    for (size_t k = 0; match && k < d.shape.size(); ++k) {
      match = d.shape[k] < 0 || d.shape[k] == t.dim(k);
    }
    if (!match) {
      return Status::InvalidArgument("input '" + d.name + "' expects shape " +
                                     ShapeToString(d.shape) + ", got " +
                                     ShapeToString(t.shape()));
    }
  }
  return Status::OK();
}

}  // namespace optic

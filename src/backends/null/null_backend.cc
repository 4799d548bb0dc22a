// The null backend: no framework, an identity model with a configurable delay and failure mode.
// It lets the predictor, bench harness, batcher and server be tested without any framework
// (MLPerf LoadGen's null SUT, Triton's identity backend), including crashes and hangs.
//
// Model file: any existing file (conventionally model.null); its contents are ignored.
// Options: shape (per-row input shape, e.g. 3x224x224), delay_us (added per Execute),
// fail (none | error | crash | hang | oom), dtype (fp32 | fp16 | uint8 ...).
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "optic/backend.h"

namespace optic {
namespace {

Status ParseRowShape(const std::string& text, Shape* out) {
  Shape shape{-1};
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, 'x')) {
    char* end = nullptr;
    const long v = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v <= 0 || v > (1 << 24)) {
      return Status::InvalidArgument("null: option shape='" + text +
                                     "' is not like 3x224x224 (positive dims joined by x)");
    }
    shape.push_back(v);
  }
  *out = shape;
  return Status::OK();
}

class NullModel final : public Model {
 public:
  NullModel(std::vector<TensorInfo> io, int delay_us, std::string fail)
      : inputs_(io), outputs_(io), delay_us_(delay_us), fail_(std::move(fail)) {
    outputs_[0].name = "output";
  }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    OPTIC_RETURN_IF_ERROR(CheckInputs(inputs_, inputs).Prefixed("null"));
    if (fail_ == "error") return Status::Internal("null: failing as configured (fail=error)");
    if (fail_ == "crash") std::abort();
    if (fail_ == "hang") for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    if (fail_ == "oom") {
      // Touch memory until the process is killed or allocation fails.
      for (;;) {
        char* p = static_cast<char*>(std::malloc(size_t{1} << 28));
        if (p == nullptr) return Status::OutOfMemory("null: out of memory (fail=oom)");
        std::memset(p, 1, size_t{1} << 28);
      }
    }
    if (delay_us_ > 0) {
      // Busy-wait: sleeping would understate what a compute-bound model costs the CPU.
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(delay_us_);
      while (std::chrono::steady_clock::now() < until) {}
    }
    Tensor out;
    OPTIC_RETURN_IF_ERROR(inputs[0].Clone(&out));
    outputs->clear();
    outputs->push_back(std::move(out));
    return Status::OK();
  }

 private:
  std::vector<TensorInfo> inputs_, outputs_;
  int delay_us_;
  std::string fail_;
};

class NullBackend final : public Backend {
 public:
  std::string name() const override { return "null"; }
  std::string version() const override { return "1"; }
  Capabilities capabilities() const override {
    Capabilities c;
    c.file_extensions = {".null"};
    c.devices = {DeviceType::kCPU};
    c.precisions = {Precision::kFP32, Precision::kFP16, Precision::kBF16, Precision::kINT8};
    c.dynamic_batch = true;
    c.synthetic = true;
    return c;
  }
  std::vector<OptionSpec> option_specs() const override {
    return {{"shape", OptionSpec::Type::kString, {}, "per-row input shape, e.g. 3x224x224"},
            {"delay_us", OptionSpec::Type::kInt, {}, "busy-wait added to each Execute"},
            {"fail", OptionSpec::Type::kEnum, {"none", "error", "crash", "hang", "oom"},
             "failure to simulate in Execute"},
            {"dtype", OptionSpec::Type::kString, {}, "input/output dtype (default fp32)"}};
  }
  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    OPTIC_RETURN_IF_ERROR(ValidateLoadOptions(*this, options, path));
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return Status::NotFound("null: model file '" + path + "' does not exist");
    }
    auto get = [&](const char* k, const char* def) {
      auto it = options.backend_options.find(k);
      return it == options.backend_options.end() ? std::string(def) : it->second;
    };
    TensorInfo io{"input", DType::kFP32, {}};
    OPTIC_RETURN_IF_ERROR(ParseRowShape(get("shape", "3x8x8"), &io.shape));
    OPTIC_RETURN_IF_ERROR(ParseDType(get("dtype", "fp32"), &io.dtype).Prefixed("null"));
    const int delay = std::atoi(get("delay_us", "0").c_str());
    if (delay < 0) return Status::InvalidArgument("null: delay_us must be >= 0");
    *out = std::make_unique<NullModel>(std::vector<TensorInfo>{io}, delay, get("fail", "none"));
    return Status::OK();
  }
};

}  // namespace

std::unique_ptr<Backend> CreateNullBackend() { return std::make_unique<NullBackend>(); }

}  // namespace optic

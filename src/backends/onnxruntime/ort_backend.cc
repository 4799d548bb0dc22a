// ONNX Runtime backend, on its official C++ API (onnxruntime_cxx_api.h), CPU execution provider.
//
// Cache: with LoadOptions::cache_dir set, the first load saves the fully optimized graph
// (SessionOptions::SetOptimizedModelFilePath) and later loads read it with graph optimization
// turned off, skipping the optimizer; the key covers the file's path, size and time, ONNX
// Runtime's version and every option that changes the optimized graph.
// Precisions: fp32, and int8 for a model file that is already quantized (the zoo's
// model.int8.onnx); ONNX Runtime's CPU provider has no general fp16/bf16 kernels.
#include <onnxruntime_cxx_api.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "optic/backend.h"

namespace optic {
namespace {

namespace fs = std::filesystem;

Status ToDType(ONNXTensorElementDataType t, DType* out) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: *out = DType::kFP32; return Status::OK();
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: *out = DType::kFP16; return Status::OK();
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: *out = DType::kBF16; return Status::OK();
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: *out = DType::kINT8; return Status::OK();
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: *out = DType::kUINT8; return Status::OK();
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: *out = DType::kINT32; return Status::OK();
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: *out = DType::kINT64; return Status::OK();
    default:
      return Status::Unsupported("onnxruntime: tensor element type " + std::to_string(t) +
                                 " is not supported by optic");
  }
}

ONNXTensorElementDataType FromDType(DType d) {
  switch (d) {
    case DType::kFP32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DType::kFP16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DType::kBF16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16;
    case DType::kINT8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case DType::kUINT8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case DType::kINT32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DType::kINT64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

// One Ort::Env per process, as ONNX Runtime requires.
Ort::Env& GlobalEnv() {
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "optic");
  return env;
}

class OrtModel final : public Model {
 public:
  explicit OrtModel(std::unique_ptr<Ort::Session> session) : session_(std::move(session)) {}

  Status Describe() {
    Ort::AllocatorWithDefaultOptions alloc;
    auto describe = [&](size_t n, auto name_of, auto type_of, std::vector<TensorInfo>* infos,
                        std::vector<std::string>* names) -> Status {
      for (size_t i = 0; i < n; ++i) {
        TensorInfo info;
        info.name = name_of(i, alloc).get();
        Ort::TypeInfo ti = type_of(i);
        if (ti.GetONNXType() != ONNX_TYPE_TENSOR) {
          return Status::Unsupported("onnxruntime: '" + info.name + "' is not a tensor");
        }
        auto tt = ti.GetTensorTypeAndShapeInfo();
        OPTIC_RETURN_IF_ERROR(ToDType(tt.GetElementType(), &info.dtype));
        info.shape = tt.GetShape();  // symbolic dims come back as -1
        names->push_back(info.name);
        infos->push_back(std::move(info));
      }
      return Status::OK();
    };
    OPTIC_RETURN_IF_ERROR(describe(
        session_->GetInputCount(),
        [&](size_t i, auto& a) { return session_->GetInputNameAllocated(i, a); },
        [&](size_t i) { return session_->GetInputTypeInfo(i); }, &inputs_, &input_names_));
    OPTIC_RETURN_IF_ERROR(describe(
        session_->GetOutputCount(),
        [&](size_t i, auto& a) { return session_->GetOutputNameAllocated(i, a); },
        [&](size_t i) { return session_->GetOutputTypeInfo(i); }, &outputs_, &output_names_));
    for (auto& n : input_names_) input_cstr_.push_back(n.c_str());
    for (auto& n : output_names_) output_cstr_.push_back(n.c_str());
    return Status::OK();
  }

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    OPTIC_RETURN_IF_ERROR(CheckInputs(inputs_, inputs).Prefixed("onnxruntime"));
    try {
      std::vector<Ort::Value> in;
      in.reserve(inputs.size());
      for (const Tensor& t : inputs) {
        // ONNX Runtime only reads inputs; the const_cast is its API's, not a write.
        in.push_back(Ort::Value::CreateTensor(mem_info_, const_cast<void*>(t.raw()), t.nbytes(),
                                              t.shape().data(), t.shape().size(),
                                              FromDType(t.dtype())));
      }
      std::vector<Ort::Value> out =
          session_->Run(run_options_, input_cstr_.data(), in.data(), in.size(),
                        output_cstr_.data(), output_cstr_.size());
      outputs->clear();
      for (size_t i = 0; i < out.size(); ++i) {
        auto info = out[i].GetTensorTypeAndShapeInfo();
        DType dtype;
        OPTIC_RETURN_IF_ERROR(ToDType(info.GetElementType(), &dtype));
        Shape shape = info.GetShape();
        void* data = out[i].GetTensorMutableRawData();
        // The output keeps ONNX Runtime's buffer alive instead of copying it.
        auto holder = std::make_shared<Ort::Value>(std::move(out[i]));
        outputs->push_back(Tensor::FromHolder(holder, data, dtype, std::move(shape), Device{}));
      }
    } catch (const Ort::Exception& e) {
      return Status::Internal(std::string("onnxruntime: run failed: ") + e.what());
    } catch (const std::exception& e) {
      return Status::Internal(std::string("onnxruntime: run failed: ") + e.what());
    }
    return Status::OK();
  }

 private:
  std::unique_ptr<Ort::Session> session_;
  Ort::MemoryInfo mem_info_ = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  Ort::RunOptions run_options_;
  std::vector<TensorInfo> inputs_, outputs_;
  std::vector<std::string> input_names_, output_names_;
  std::vector<const char*> input_cstr_, output_cstr_;
};

GraphOptimizationLevel OptLevel(const std::string& name) {
  if (name == "disable") return GraphOptimizationLevel::ORT_DISABLE_ALL;
  if (name == "basic") return GraphOptimizationLevel::ORT_ENABLE_BASIC;
  if (name == "extended") return GraphOptimizationLevel::ORT_ENABLE_EXTENDED;
  return GraphOptimizationLevel::ORT_ENABLE_ALL;
}

class OrtBackend final : public Backend {
 public:
  std::string name() const override { return "onnxruntime"; }
  std::string version() const override { return Ort::GetVersionString(); }
  Capabilities capabilities() const override {
    Capabilities c;
    c.file_extensions = {".onnx", ".ort"};
    c.devices = {DeviceType::kCPU};
    c.precisions = {Precision::kFP32, Precision::kINT8};
    c.dynamic_batch = true;
    c.model_cache = true;
    return c;
  }
  std::vector<OptionSpec> option_specs() const override {
    return {{"graph_optimization", OptionSpec::Type::kEnum,
             {"disable", "basic", "extended", "all"}, "graph optimization level (default all)"},
            {"allow_spinning", OptionSpec::Type::kBool, {},
             "intra-op threads spin while waiting for work (default true)"}};
  }

  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    OPTIC_RETURN_IF_ERROR(ValidateLoadOptions(*this, options, path));
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return Status::NotFound("onnxruntime: model file '" + path + "' does not exist");
    }
    auto opt = [&](const char* k, const char* def) {
      auto it = options.backend_options.find(k);
      return it == options.backend_options.end() ? std::string(def) : it->second;
    };
    try {
      Ort::SessionOptions so;
      const int threads =
          options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
      so.SetIntraOpNumThreads(threads);
      so.SetInterOpNumThreads(std::max(1, options.inter_op_threads));
      so.SetExecutionMode(options.inter_op_threads > 1 ? ExecutionMode::ORT_PARALLEL
                                                       : ExecutionMode::ORT_SEQUENTIAL);
      const std::string spin = opt("allow_spinning", "true");
      so.AddConfigEntry("session.intra_op.allow_spinning",
                        (spin == "true" || spin == "1") ? "1" : "0");
      const std::string level = opt("graph_optimization", "all");
      std::string load_path = path;
      if (!options.cache_dir.empty()) {
        fs::create_directories(options.cache_dir, ec);
        if (ec) {
          return Status::InvalidArgument("onnxruntime: cannot create cache_dir '" +
                                         options.cache_dir + "': " + ec.message());
        }
        const auto size = fs::file_size(path, ec);
        const auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
        const std::string key = fs::absolute(path).string() + "|" + std::to_string(size) + "|" +
                                std::to_string(mtime) + "|" + version() + "|" + level;
        const std::string cached = (fs::path(options.cache_dir) /
                                    ("ort-" + std::to_string(std::hash<std::string>{}(key)) +
                                     ".onnx")).string();
        if (fs::is_regular_file(cached, ec)) {
          load_path = cached;  // already optimized: skip the optimizer
          so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_DISABLE_ALL);
        } else {
          so.SetGraphOptimizationLevel(OptLevel(level));
          so.SetOptimizedModelFilePath(cached.c_str());
        }
      } else {
        so.SetGraphOptimizationLevel(OptLevel(level));
      }
      auto session = std::make_unique<Ort::Session>(GlobalEnv(), load_path.c_str(), so);
      auto model = std::make_unique<OrtModel>(std::move(session));
      OPTIC_RETURN_IF_ERROR(model->Describe());
      *out = std::move(model);
    } catch (const Ort::Exception& e) {
      return Status::InvalidArgument("onnxruntime: cannot load '" + path + "': " + e.what());
    } catch (const std::exception& e) {
      return Status::Internal("onnxruntime: cannot load '" + path + "': " + e.what());
    }
    return Status::OK();
  }
};

}  // namespace

std::unique_ptr<Backend> CreateOnnxRuntimeBackend() { return std::make_unique<OrtBackend>(); }

}  // namespace optic

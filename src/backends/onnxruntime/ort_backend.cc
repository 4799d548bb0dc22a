// ONNX Runtime backend, on its official C++ API (onnxruntime_cxx_api.h): the CPU execution
// provider, and the CUDA execution provider where the ONNX Runtime library found at run time has it
// (the onnxruntime-gpu build; scripts/gpu/fetch_ort_cuda.sh). On CUDA the session runs through an
// IO binding: host inputs are copied to the device by ONNX Runtime and outputs are written into
// CUDA-pinned host memory, so callers keep the host-tensor contract of Model::Execute. With
// cuda_graph=true the provider captures the run into a CUDA graph and replays it: inputs and
// outputs are then bound once to device buffers at fixed addresses (allocated at the first
// Execute, one input shape per model), optic copies host inputs into them and outputs out of them
// on the session's own stream (cuda_runtime.h), and a later Execute with another shape is refused.
//
// Cache: with LoadOptions::cache_dir set, the first load saves the fully optimized graph
// (SessionOptions::SetOptimizedModelFilePath) and later loads read it with graph optimization
// turned off, skipping the optimizer; the key covers the file's path, size and time, ONNX
// Runtime's version and every option that changes the optimized graph.
// Precisions: fp32, int8 for a model file that is already quantized (the zoo's model.int8.onnx,
// static QDQ) and fp16 for a file with fp16 weights (model.fp16.onnx). ONNX Runtime runs
// whatever operators the file holds, so the requested precision must match the file: int8 takes
// only a quantized file, fp16 only an fp16 one, fp32 neither (ScanFilePrecision reads the graph).
// The x86 CPU provider has fp16 kernels for few operators: a session it cannot build fails with
// ONNX Runtime's own message naming the operator.
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "cuda_runtime.h"
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
  // `stream` is the CUDA stream the session runs on when it captures CUDA graphs, else null.
  OrtModel(std::unique_ptr<Ort::Session> session, std::optional<Device> cuda,
           std::shared_ptr<void> stream)
      : stream_(std::move(stream)), session_(std::move(session)) {
    if (cuda) {
      binding_ = std::make_unique<Ort::IoBinding>(*session_);
      pinned_ = std::make_unique<Ort::MemoryInfo>("CudaPinned", OrtDeviceAllocator, cuda->index,
                                                  OrtMemTypeCPUOutput);
    }
    if (stream_) {
      device_mem_ = std::make_unique<Ort::MemoryInfo>("Cuda", OrtDeviceAllocator, cuda->index,
                                                      OrtMemTypeDefault);
      device_alloc_ = std::make_unique<Ort::Allocator>(*session_, *device_mem_);
    }
  }

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
    if (stream_) return ExecuteGraph(inputs, outputs);
    try {
      std::vector<Ort::Value> in;
      in.reserve(inputs.size());
      for (const Tensor& t : inputs) {
        // ONNX Runtime only reads inputs; the const_cast is its API's, not a write.
        in.push_back(Ort::Value::CreateTensor(mem_info_, const_cast<void*>(t.raw()), t.nbytes(),
                                              t.shape().data(), t.shape().size(),
                                              FromDType(t.dtype())));
      }
      std::vector<Ort::Value> out;
      if (binding_) {
        binding_->ClearBoundInputs();
        binding_->ClearBoundOutputs();
        for (size_t i = 0; i < in.size(); ++i) binding_->BindInput(input_cstr_[i], in[i]);
        for (const char* name : output_cstr_) binding_->BindOutput(name, *pinned_);
        session_->Run(run_options_, *binding_);
        binding_->SynchronizeOutputs();
        out = binding_->GetOutputValues();
      } else {
        out = session_->Run(run_options_, input_cstr_.data(), in.data(), in.size(),
                            output_cstr_.data(), output_cstr_.size());
      }
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
  // The CUDA-graph path: fixed device buffers, copies on stream_, outputs copied into new host
  // tensors so that a caller's outputs survive the next Execute.
  Status ExecuteGraph(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
    const ort_cuda::Stream stream = stream_.get();
    try {
      if (device_in_.empty()) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          const Shape& s = inputs[i].shape();
          device_in_.push_back(Ort::Value::CreateTensor(*device_alloc_, s.data(), s.size(),
                                                        FromDType(inputs[i].dtype())));
          graph_shapes_.push_back(s);
          binding_->BindInput(input_cstr_[i], device_in_.back());
        }
        for (const char* name : output_cstr_) binding_->BindOutput(name, *device_mem_);
      } else {
        for (size_t i = 0; i < inputs.size(); ++i) {
          if (inputs[i].shape() != graph_shapes_[i]) {
            return Status::InvalidArgument(
                "onnxruntime: cuda_graph=true replays the graph captured for input '" +
                input_names_[i] + "' of shape " + ShapeToString(graph_shapes_[i]) + ", not " +
                ShapeToString(inputs[i].shape()) +
                "; load one model per input shape, or set cuda_graph=false");
          }
        }
      }
      for (size_t i = 0; i < inputs.size(); ++i) {
        OPTIC_RETURN_IF_ERROR(ort_cuda::CopyToDevice(device_in_[i].GetTensorMutableRawData(),
                                                     inputs[i].raw(), inputs[i].nbytes(), stream));
      }
      session_->Run(run_options_, *binding_);
      if (device_out_.empty()) {
        // The first run is the provider's warm-up, outside any graph; its outputs become the
        // fixed output buffers of the runs it captures and replays.
        device_out_ = binding_->GetOutputValues();
        binding_->ClearBoundOutputs();
        for (size_t i = 0; i < device_out_.size(); ++i) {
          binding_->BindOutput(output_cstr_[i], device_out_[i]);
        }
      }
      outputs->clear();
      for (Ort::Value& v : device_out_) {
        auto info = v.GetTensorTypeAndShapeInfo();
        DType dtype;
        OPTIC_RETURN_IF_ERROR(ToDType(info.GetElementType(), &dtype));
        Tensor host;
        OPTIC_RETURN_IF_ERROR(Tensor::Empty(dtype, info.GetShape(), &host));
        OPTIC_RETURN_IF_ERROR(
            ort_cuda::CopyToHost(host.raw(), v.GetTensorMutableRawData(), host.nbytes(), stream));
        outputs->push_back(std::move(host));
      }
      OPTIC_RETURN_IF_ERROR(ort_cuda::Synchronize(stream));
    } catch (const Ort::Exception& e) {
      return Status::Internal(std::string("onnxruntime: run failed: ") + e.what());
    }
    return Status::OK();
  }

  std::shared_ptr<void> stream_;  // CUDA graphs only; outlives the session that runs on it
  std::unique_ptr<Ort::Session> session_;
  Ort::MemoryInfo mem_info_ = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  Ort::RunOptions run_options_;
  std::unique_ptr<Ort::IoBinding> binding_;  // CUDA only
  std::unique_ptr<Ort::MemoryInfo> pinned_;  // CUDA only: where outputs land
  std::unique_ptr<Ort::MemoryInfo> device_mem_;    // CUDA graphs only
  std::unique_ptr<Ort::Allocator> device_alloc_;   // CUDA graphs only; owns device_in_'s memory
  std::vector<Ort::Value> device_in_, device_out_;  // CUDA graphs only: the fixed buffers
  std::vector<Shape> graph_shapes_;
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

// Protocol-buffer wire format, just enough to list a ModelProto's operator types without
// reading its weights: ModelProto.graph = 7, GraphProto.node = 1, NodeProto.op_type = 4.
bool ReadVarint(std::istream& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const int c = in.get();
    if (c == EOF) return false;
    *v |= static_cast<uint64_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) return true;
  }
  return false;
}

// Calls fn(field, length) for each length-delimited field in [in.tellg(), end), with the stream
// at the field's bytes; fn must leave the stream at the field's end or return false to stop.
template <typename Fn>
bool ForEachField(std::istream& in, uint64_t end, Fn&& fn) {
  while (static_cast<uint64_t>(in.tellg()) < end) {
    uint64_t key, len = 0;
    if (!ReadVarint(in, &key)) return false;
    switch (key & 7) {
      case 0: if (!ReadVarint(in, &len)) return false; break;
      case 1: in.seekg(8, std::ios::cur); break;
      case 5: in.seekg(4, std::ios::cur); break;
      case 2: {
        if (!ReadVarint(in, &len)) return false;
        const uint64_t field_end = static_cast<uint64_t>(in.tellg()) + len;
        if (field_end > end) return false;
        if (!fn(key >> 3, field_end)) return false;
        in.seekg(static_cast<std::streamoff>(field_end));
        break;
      }
      default: return false;
    }
    if (!in) return false;
  }
  return true;
}

// The data type of a TensorProto (field 2, a varint) in [in.tellg(), end); -1 if absent.
int64_t TensorDataType(std::istream& in, uint64_t end) {
  while (static_cast<uint64_t>(in.tellg()) < end) {
    uint64_t key, v;
    if (!ReadVarint(in, &key)) return -1;
    switch (key & 7) {
      case 0:
        if (!ReadVarint(in, &v)) return -1;
        if (key >> 3 == 2) return static_cast<int64_t>(v);
        break;
      case 1: in.seekg(8, std::ios::cur); break;
      case 5: in.seekg(4, std::ios::cur); break;
      case 2:
        if (!ReadVarint(in, &v)) return -1;
        in.seekg(static_cast<std::streamoff>(v), std::ios::cur);
        break;
      default: return -1;
    }
    if (!in) return -1;
  }
  return -1;
}

// What an ONNX file's main graph holds that decides its precision: quantized operators (QDQ,
// QOperator and dynamic quantization all leave some) and fp16 weights (GraphProto.initializer
// = 5, TensorProto.data_type FLOAT16 = 10). nullopt when the file cannot be read as a
// ModelProto (ONNX Runtime's own load then reports why).
struct FilePrecision {
  std::vector<std::string> quantized_ops;
  bool fp16_weights = false;
};

std::optional<FilePrecision> ScanFilePrecision(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  FilePrecision found;
  auto quantized = [](const std::string& op) {
    return op.find("Quantize") != std::string::npos || op.rfind("QLinear", 0) == 0 ||
           (op.size() > 7 && op.compare(op.size() - 7, 7, "Integer") == 0) ||
           op == "QGemm" || op == "QAttention";
  };
  auto& ops = found.quantized_ops;
  const bool ok = ForEachField(in, size, [&](uint64_t field, uint64_t end) {
    if (field != 7) return true;
    return ForEachField(in, end, [&](uint64_t gfield, uint64_t gend) {
      if (gfield == 5) {
        if (TensorDataType(in, gend) == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16) {
          found.fp16_weights = true;
        }
        in.clear();
        return true;
      }
      if (gfield != 1) return true;
      return ForEachField(in, gend, [&](uint64_t nfield, uint64_t nend) {
        if (nfield != 4) return true;
        std::string op(nend - static_cast<uint64_t>(in.tellg()), '\0');
        in.read(op.data(), static_cast<std::streamsize>(op.size()));
        if (quantized(op) && std::find(ops.begin(), ops.end(), op) == ops.end()) {
          ops.push_back(op);
        }
        return static_cast<bool>(in);
      });
    });
  });
  if (!ok) return std::nullopt;
  return found;
}

// The requested precision must be the file's: int8 takes only a quantized file, fp16 only a
// file with fp16 weights, fp32 neither. Otherwise the session would run the file's precision
// under the requested one's name.
Status CheckFilePrecision(const std::string& path, Precision precision) {
  if (fs::path(path).extension() != ".onnx") return Status::OK();  // .ort: flatbuffers, not read
  const auto file = ScanFilePrecision(path);
  if (!file) return Status::OK();
  const auto& ops = file->quantized_ops;
  const std::string where =
      "onnxruntime: cannot load '" + path + "' at precision " + PrecisionName(precision) + ": ";
  if (precision == Precision::kINT8 && ops.empty()) {
    return Status::Unsupported(
        where + "the file has no quantized operators, so it would run " +
        (file->fp16_weights ? "fp16" : "fp32") + ". Export an int8 file (optic models export "
        "--formats onnx-int8 writes <model>/model.int8.onnx) and pass that file, or drop -o "
        "precision=int8");
  }
  if (precision == Precision::kFP16 && !file->fp16_weights) {
    return Status::Unsupported(
        where + "the file has no fp16 weights, so it would run " +
        (ops.empty() ? "fp32" : "int8") + ". Export an fp16 file (optic models export --formats "
        "onnx-fp16 writes <model>/model.fp16.onnx) and pass that file, or drop -o precision=fp16");
  }
  if (precision != Precision::kINT8 && !ops.empty()) {
    std::string list;
    for (const auto& op : ops) list += (list.empty() ? "" : ", ") + op;
    return Status::Unsupported(where + "the file is quantized (" + list +
                               "), so it would run int8. Pass -o precision=int8 to run it as "
                               "int8, or load the unquantized file");
  }
  if (precision != Precision::kFP16 && file->fp16_weights) {
    return Status::Unsupported(where + "the file has fp16 weights, so it would run fp16. Pass -o "
                               "precision=fp16 to run it as fp16, or load the fp32 file");
  }
  return Status::OK();
}

// Registers the CUDA execution provider on device `index` with the backend options' CUDA keys.
// With `stream` set, the provider runs on that stream and captures CUDA graphs.
template <typename Opt>
Status AppendCuda(int index, Precision precision, const Opt& opt, void* stream,
                  Ort::SessionOptions* so) {
  const OrtApi& api = Ort::GetApi();
  OrtCUDAProviderOptionsV2* cuda = nullptr;
  Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
  std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2*)> owned(
      cuda, api.ReleaseCUDAProviderOptions);
  auto flag = [&](const char* key, const char* def) {
    const std::string v = opt(key, def);
    return std::string(v == "true" || v == "1" ? "1" : "0");
  };
  std::string search = opt("cudnn_conv_algo_search", "exhaustive");
  for (auto& ch : search) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string device_id = std::to_string(index);
  const std::string nhwc = flag("prefer_nhwc", "false");
  const std::string tf32 = precision == Precision::kTF32 ? "1" : "0";  // fp32 means fp32 math
  const std::string graph = stream ? "1" : "0";
  const char* keys[] = {"device_id", "cudnn_conv_algo_search", "prefer_nhwc", "use_tf32",
                        "enable_cuda_graph"};
  const char* values[] = {device_id.c_str(), search.c_str(), nhwc.c_str(), tf32.c_str(),
                          graph.c_str()};
  Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda, keys, values, 5));
  if (stream) {
    Ort::ThrowOnError(api.UpdateCUDAProviderOptionsWithValue(cuda, "user_compute_stream", stream));
  }
  if (OrtStatus* st = api.SessionOptionsAppendExecutionProvider_CUDA_V2(*so, cuda)) {
    const std::string msg = api.GetErrorMessage(st);
    api.ReleaseStatus(st);
    return Status::UnsupportedHardware(
        "onnxruntime: the CUDA execution provider did not load on cuda:" + device_id + ": " + msg +
        " (it needs libonnxruntime_providers_cuda.so beside libonnxruntime.so, cuDNN 9 and the "
        "CUDA 13 runtime libraries on the library path)");
  }
  return Status::OK();
}

class OrtBackend final : public Backend {
 public:
  std::string name() const override { return "onnxruntime"; }
  std::string version() const override { return Ort::GetVersionString(); }
  Capabilities capabilities() const override {
    Capabilities c;
    c.file_extensions = {".onnx", ".ort"};
    c.devices = {DeviceType::kCPU};
    if (HasCuda()) c.devices.push_back(DeviceType::kCUDA);
    c.precisions = {Precision::kFP32, Precision::kFP16, Precision::kINT8};
    c.precisions_from_file = {Precision::kFP16, Precision::kINT8};
    if (HasCuda()) c.precisions.push_back(Precision::kTF32);  // a CUDA math mode on fp32 files
    c.dynamic_batch = true;
    c.model_cache = true;
    return c;
  }
  std::vector<OptionSpec> option_specs() const override {
    return {{"graph_optimization", OptionSpec::Type::kEnum,
             {"disable", "basic", "extended", "all"}, "graph optimization level (default all)"},
            {"allow_spinning", OptionSpec::Type::kBool, {},
             "intra-op threads spin while waiting for work (default true)"},
            {"cudnn_conv_algo_search", OptionSpec::Type::kEnum,
             {"exhaustive", "heuristic", "default"},
             "CUDA: how cuDNN picks convolution algorithms (default exhaustive)"},
            {"prefer_nhwc", OptionSpec::Type::kBool, {},
             "CUDA: run convolutions in NHWC where the provider can (default false)"},
            {"cuda_graph", OptionSpec::Type::kBool, {},
             "CUDA: capture the run into a CUDA graph and replay it; one input shape per model "
             "(default false)"}};
  }

  // Whether the ONNX Runtime library loaded at run time was built with the CUDA provider.
  static bool HasCuda() {
    static const bool has = [] {
      try {
        for (const auto& p : Ort::GetAvailableProviders()) {
          if (p == "CUDAExecutionProvider") return true;
        }
      } catch (const std::exception&) {
      }
      return false;
    }();
    return has;
  }

  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    OPTIC_RETURN_IF_ERROR(ValidateLoadOptions(*this, options, path));
    GlobalEnv();  // execution providers log through the Env's logger: it must exist before them
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return Status::NotFound("onnxruntime: model file '" + path + "' does not exist");
    }
    OPTIC_RETURN_IF_ERROR(CheckFilePrecision(path, options.precision));
    if (options.precision == Precision::kTF32 && options.device.is_cpu()) {
      return Status::Unsupported(
          "onnxruntime: tf32 is a CUDA math mode; use it with device=cuda, or fp32 on the CPU");
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
        // A graph optimized for the CUDA provider holds its fused nodes: the device is in the key.
        const std::string key = fs::absolute(path).string() + "|" + std::to_string(size) + "|" +
                                std::to_string(mtime) + "|" + version() + "|" + level + "|" +
                                DeviceName(options.device);
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
      std::optional<Device> cuda;
      std::shared_ptr<void> stream;
      if (!options.device.is_cpu()) {
        cuda = options.device;
        const std::string graph = opt("cuda_graph", "false");
        if (graph == "true" || graph == "1") {
          OPTIC_RETURN_IF_ERROR(ort_cuda::Open());
          ort_cuda::Stream s = nullptr;
          OPTIC_RETURN_IF_ERROR(ort_cuda::CreateStream(&s));
          stream = std::shared_ptr<void>(s, ort_cuda::DestroyStream);
        }
        OPTIC_RETURN_IF_ERROR(
            AppendCuda(options.device.index, options.precision, opt, stream.get(), &so));
      } else if (opt("cuda_graph", "false") != "false") {
        return Status::InvalidArgument(
            "onnxruntime: cuda_graph is a CUDA option; use it with device=cuda or drop it");
      }
      auto session = std::make_unique<Ort::Session>(GlobalEnv(), load_path.c_str(), so);
      auto model = std::make_unique<OrtModel>(std::move(session), cuda, std::move(stream));
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

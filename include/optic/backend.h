// The Backend/Model interface every inference framework implements (ONNX Runtime, OpenVINO,
// libtorch, ...). It is the seeds' load(path, params) / predict(x) API, kept small: a Backend
// reports what it can do and loads a file into a Model; a Model describes its inputs and outputs
// and executes one batch.
//
// Exceptions: no exception leaves a Backend or Model method. Each implementation catches its
// framework's exceptions at its edge and returns a Status naming the backend and the cause.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "optic/status.h"
#include "optic/tensor.h"

namespace optic {

// Numeric precision the framework computes in. kTF32 is fp32 storage with tf32 matrix math.
// kINT8 selects a quantized model file or the framework's own quantization.
enum class Precision { kFP32, kTF32, kFP16, kBF16, kINT8 };
const char* PrecisionName(Precision p);  // fp32, tf32, fp16, bf16, int8
Status ParsePrecision(const std::string& text, Precision* out);

// A backend-specific option the backend accepts, e.g. ONNX Runtime's "graph_optimization".
// Options are validated when parsed (ParseLoadOptions), against this declaration.
struct OptionSpec {
  enum class Type { kBool, kInt, kString, kEnum };
  std::string key;
  Type type = Type::kString;
  std::vector<std::string> choices;  // for kEnum
  std::string help;
};

struct LoadOptions {
  Device device;                       // where the model runs
  Precision precision = Precision::kFP32;
  int threads = 0;                     // intra-op threads; 0 = all cores of the machine
  int inter_op_threads = 1;            // parallel operators; 1 = sequential graph execution
  int batch_size = 1;                  // the batch the model will mostly see (for static shapes)
  std::string cache_dir;               // framework's optimized-model cache; empty = no cache
  std::map<std::string, std::string> backend_options;  // validated against option_specs()
};

// Describes a model input or output. Dimension -1 means variable (e.g. the batch axis).
struct TensorInfo {
  std::string name;
  DType dtype = DType::kFP32;
  Shape shape;
};

struct Capabilities {
  std::vector<std::string> file_extensions;  // e.g. ".onnx", ".pt"
  std::vector<DeviceType> devices;
  std::vector<Precision> precisions;         // on this machine, as the framework reports it
  // Precisions run only from a file exported in them (onnxruntime's fp16 takes the zoo's
  // model.fp16.onnx); the others are made from the fp32 file at load. int8 always needs a
  // quantized file, listed here or not.
  std::vector<Precision> precisions_from_file;
  bool dynamic_batch = false;                // one loaded model accepts any batch size
  bool model_cache = false;                  // LoadOptions::cache_dir speeds up a second load
  bool accepts_device_tensors = false;       // Execute may take device-resident inputs
  // A backend with no framework behind it (the null backend, for tests of the harness and the
  // server); parity and bench leave it out unless it is named explicitly.
  bool synthetic = false;
};

// A loaded model instance.
// Threading: Execute is never called concurrently on one Model (the predictor, bench and server
// guarantee it), so implementations need no locks. Different Model objects may execute at once.
class Model {
 public:
  virtual ~Model() = default;
  virtual const std::vector<TensorInfo>& inputs() const = 0;
  virtual const std::vector<TensorInfo>& outputs() const = 0;
  // Runs one batch. `inputs` match inputs() in order, dtype and shape (with the batch dimension
  // set); they stay owned by the caller and are only read during the call. On success `outputs`
  // holds one owning host tensor per outputs() entry (fp32 unless the model declares otherwise);
  // on failure its contents are unspecified.
  virtual Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) = 0;
};

// A framework. Backends are stateless apart from framework-global state (e.g. ONNX Runtime's
// Ort::Env); Load may be called from any thread, also concurrently.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;     // "onnxruntime", "openvino", "torch", ...
  virtual std::string version() const = 0;  // the framework's own version string
  virtual Capabilities capabilities() const = 0;
  virtual std::vector<OptionSpec> option_specs() const { return {}; }
  // Loads the file at `path`. On success `*out` owns the new Model; on failure `*out` is
  // untouched and the Status names the backend, the file and the reason.
  virtual Status Load(const std::string& path, const LoadOptions& options,
                      std::unique_ptr<Model>* out) = 0;
};

// Checks `options` against a backend's capabilities and option specs (unknown key, bad value,
// unsupported device or precision). Backends call it at the start of Load.
Status ValidateLoadOptions(const Backend& backend, const LoadOptions& options);
// Same, with the message naming the file: "<backend>: cannot load '<path>': <reason>".
Status ValidateLoadOptions(const Backend& backend, const LoadOptions& options,
                           const std::string& path);

// Parses "key=value" settings for `backend` into `options`: the common keys device, precision,
// threads, inter_op_threads, batch_size, cache_dir, and the backend's own keys (validated now).
Status ParseLoadOption(const Backend& backend, const std::string& setting, LoadOptions* options);

// Checks batch inputs against a model's declared inputs (count, dtype, rank, fixed dims);
// the message names the input and what differs.
Status CheckInputs(const std::vector<TensorInfo>& declared, const std::vector<Tensor>& inputs);

}  // namespace optic

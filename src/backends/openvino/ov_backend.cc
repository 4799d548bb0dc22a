// OpenVINO backend on OpenVINO's C++ runtime (ov::Core, read_model, compile_model), CPU plugin.
//
// Files: ONNX (.onnx) and OpenVINO IR (.xml with its .bin beside it).
// Batch: a model whose inputs have a fixed batch is reshaped to a variable batch before
// compiling, so one load serves every batch size; if the graph cannot be reshaped (a hard-coded
// batch inside), it keeps its fixed shape and inputs() says so.
// Precisions: as the CPU plugin reports them on this machine (CpuPrecisions). fp32 sets
// inference_precision f32 explicitly: on CPUs with bf16 support the plugin otherwise computes in
// bf16 by default. int8 takes only a quantized file (e.g. the zoo's onnx-int8).
// Cache: LoadOptions::cache_dir becomes ov::cache_dir; the plugin saves the compiled blob there
// (keyed by model, device and compile properties) and imports it on a later load. With a cache,
// Load first compiles straight from the file path, which on a hit skips even parsing the file.
#include <cctype>
#include <filesystem>
#include <map>

#include <openvino/frontend/manager.hpp>

#include "ov_internal.h"

namespace optic {
namespace openvino {
namespace {

namespace fs = std::filesystem;

std::string Extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// ONNX goes straight to OpenVINO's ONNX frontend instead of ov::Core::read_model, which would try
// every frontend on a file the ONNX one rejects: the error then says why the ONNX parser failed,
// and the TensorFlow frontend does not log its own parse errors to stderr.
bool LooksLikeOnnx(const std::string& path) {
  ov::frontend::FrontEndManager manager;
  return manager.load_by_framework("onnx")->supported(path);
}

std::shared_ptr<ov::Model> ReadModel(ov::Core& core, const std::string& path) {
  if (Extension(path) != ".onnx") return core.read_model(path);
  ov::frontend::FrontEndManager manager;
  ov::frontend::FrontEnd::Ptr onnx = manager.load_by_framework("onnx");
  return onnx->convert(onnx->load(path));
}

// True when some input has a fixed leading (batch) dimension.
template <typename Ports>
bool HasFixedBatch(const Ports& inputs) {
  for (const auto& in : inputs) {
    const ov::PartialShape& ps = in.get_partial_shape();
    if (ps.rank().is_static() && ps.size() > 0 && ps[0].is_static()) return true;
  }
  return false;
}

// Makes the leading dimension of every input variable. A graph that bakes its batch into a
// Reshape fails here; it then keeps its fixed shapes (and a message on why is not needed: the
// model's inputs() show the fixed batch, and CheckInputs names it on a mismatch).
void ReshapeToVariableBatch(const std::shared_ptr<ov::Model>& model) {
  std::map<ov::Output<ov::Node>, ov::PartialShape> shapes;
  for (const ov::Output<ov::Node>& in : model->inputs()) {
    ov::PartialShape ps = in.get_partial_shape();
    if (ps.rank().is_dynamic() || ps.size() == 0) continue;
    ps[0] = ov::Dimension::dynamic();
    shapes.emplace(in, ps);
  }
  try {
    model->reshape(shapes);
  } catch (const std::exception&) {
    // keep the fixed batch
  }
}

// A file quantized for int8 carries 8-bit weights or FakeQuantize operators (ONNX QDQ and
// onnxruntime's dynamic quantization both come out that way).
bool IsQuantized(const ov::Model& model) {
  for (const auto& op : model.get_ordered_ops()) {
    const std::string type = op->get_type_name();
    if (type == "FakeQuantize") return true;
    if (type == "Constant") {
      const ov::element::Type t = op->get_output_element_type(0);
      if (t == ov::element::i8 || t == ov::element::u8) return true;
    }
  }
  return false;
}

class OvBackend final : public Backend {
 public:
  std::string name() const override { return "openvino"; }
  std::string version() const override { return ov::get_openvino_version().buildNumber; }

  Capabilities capabilities() const override {
    Capabilities c;
    c.file_extensions = {".onnx", ".xml"};
    c.devices = {DeviceType::kCPU};
    c.precisions = CpuPrecisions();
    c.dynamic_batch = true;
    c.model_cache = true;
    return c;
  }

  std::vector<OptionSpec> option_specs() const override { return OvOptionSpecs(); }

  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    const std::string where = "openvino: cannot load '" + path + "': ";
    auto fail = [&](const Status& s) {
      // The messages below start with "openvino: "; say it once, with the file.
      std::string m = s.message();
      if (m.rfind("openvino: ", 0) == 0) m = m.substr(10);
      return Status(s.code(), where + m);
    };
    OPTIC_RETURN_IF_ERROR(ValidateLoadOptions(*this, options, path));
    Status s;
    OvOptions ov_options;
    s = ParseOvOptions(options, &ov_options);
    if (!s.ok()) return fail(s);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return Status::NotFound(where + "no such file");
    const std::string ext = Extension(path);
    if (ext != ".onnx" && ext != ".xml") {
      return Status::Unsupported(where + "reads .onnx and .xml (OpenVINO IR) files, not '" + ext +
                                 "'");
    }
    if (!options.cache_dir.empty()) {
      fs::create_directories(options.cache_dir, ec);
      if (ec) return Status::InvalidArgument(where + "cannot create cache_dir '" +
                                             options.cache_dir + "': " + ec.message());
    }
    ov::Core* core;
    OPTIC_RETURN_IF_ERROR(GlobalCore(&core));
    const ov::AnyMap config = CompileConfig(options, ov_options);
    try {
      ov::CompiledModel compiled;
      bool done = false;
      std::shared_ptr<ov::Model> model;
      if (!options.cache_dir.empty() && options.precision != Precision::kINT8 &&
          (ext != ".onnx" || LooksLikeOnnx(path))) {
        try {
          compiled = core->compile_model(path, "CPU", config);
          done = !HasFixedBatch(compiled.inputs());
        } catch (const std::exception&) {
          // Retried below step by step, where a bad file is told apart from a failed compile.
        }
      }
      if (!done) {
        try {
          model = ReadModel(*core, path);
        } catch (const std::exception& e) {
          return Status::InvalidArgument(where + Reason(e));
        }
        if (options.precision == Precision::kINT8 && !IsQuantized(*model)) {
          return Status::Unsupported(where + "int8 needs a quantized model file; this one has " +
                                     "no 8-bit weights or FakeQuantize operators");
        }
        if (HasFixedBatch(model->inputs())) ReshapeToVariableBatch(model);
        compiled = core->compile_model(model, "CPU", config);
      }
      // The model as compiled (variable batch included), for shape checks.
      auto read_model = [&]() {
        if (model == nullptr) {
          model = ReadModel(*core, path);
          if (HasFixedBatch(model->inputs())) ReshapeToVariableBatch(model);
        }
        return model;
      };
      s = CreateOvModel(std::move(compiled), path, read_model, out);
      if (!s.ok()) return fail(s);
    } catch (const std::bad_alloc&) {
      return Status::OutOfMemory(where + "out of memory");
    } catch (const std::exception& e) {
      return Status::Internal(where + Reason(e));
    }
    return Status::OK();
  }
};

}  // namespace
}  // namespace openvino

std::unique_ptr<Backend> CreateOpenVinoBackend() {
  return std::make_unique<openvino::OvBackend>();
}

}  // namespace optic

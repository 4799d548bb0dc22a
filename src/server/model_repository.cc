#include "model_repository.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "builtin_models.h"
#include "ensemble.h"
#include "instance_placement.h"
#include "optic/registry.h"
#include "preprocess_stage.h"

namespace optic::server {
namespace fs = std::filesystem;
namespace {

bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() < 18 && std::all_of(s.begin(), s.end(), ::isdigit);
}

// Version folders the policy selects (Triton's default: the latest one).
Status SelectVersions(const fs::path& model_dir, const inference::ModelConfig& config,
                      bool folder_optional, bool has_config, std::vector<int64_t>* out) {
  std::vector<int64_t> all;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(model_dir, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_directory() && IsNumber(n)) all.push_back(std::stoll(n));
  }
  std::sort(all.begin(), all.end());
  if (all.empty() && folder_optional) all.push_back(1);  // ensembles and built-ins have no file
  if (all.empty()) {
    return Status::NotFound("model folder '" + model_dir.string() + "' has " +
                            (has_config ? "" : "no config.pbtxt and ") +
                            "no numbered version folder (e.g. " +
                            model_dir.filename().string() + "/1/model.onnx)");
  }
  const auto& p = config.version_policy();
  if (p.has_specific()) {
    for (int64_t v : p.specific().versions()) {
      if (std::find(all.begin(), all.end(), v) == all.end()) {
        return Status::NotFound("version_policy names version " + std::to_string(v) +
                                " but '" + model_dir.string() + "' has no such folder");
      }
      out->push_back(v);
    }
  } else if (p.has_all()) {
    *out = all;
  } else {
    const size_t n = p.has_latest() && p.latest().num_versions() > 0 ? p.latest().num_versions() : 1;
    out->assign(all.end() - std::min(n, all.size()), all.end());
  }
  return Status::OK();
}

Status FindModelFile(const fs::path& version_dir, const inference::ModelConfig& config,
                     const Backend& backend, std::string* path) {
  if (!config.default_model_filename().empty()) {
    const fs::path p = version_dir / config.default_model_filename();
    if (!fs::exists(p)) return Status::NotFound("model file '" + p.string() + "' does not exist");
    *path = p.string();
    return Status::OK();
  }
  std::string dangling;
  for (const auto& ext : backend.capabilities().file_extensions) {
    const fs::path p = version_dir / ("model" + ext);
    if (fs::exists(p)) {
      *path = p.string();
      return Status::OK();
    }
    std::error_code ec;
    if (dangling.empty() && fs::is_symlink(p, ec)) {
      dangling = "; '" + p.filename().string() + "' links to '" + fs::read_symlink(p, ec).string() +
                 "', which does not exist (a link into optic's zoo folder is written by "
                 "`optic models export --models " + version_dir.parent_path().filename().string() +
                 "`)";
    }
  }
  std::string exts;
  for (const auto& ext : backend.capabilities().file_extensions) exts += " model" + ext;
  return Status::NotFound("'" + version_dir.string() + "' holds none of" + exts + " for backend " +
                          backend.name() + dangling);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Each built backend with the file extensions it reads, in registry order.
std::vector<std::pair<std::string, std::vector<std::string>>> BackendExtensions() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const std::string& n : BackendNames()) {
    std::unique_ptr<Backend> b;
    if (CreateBackend(n, &b).ok()) out.emplace_back(n, b->capabilities().file_extensions);
  }
  return out;
}

std::string KnownExtensions() {
  std::string known;
  for (const auto& [n, exts] : BackendExtensions()) {
    known += (known.empty() ? "" : "; ") + n + ":";
    for (const auto& e : exts) known += " " + e;
  }
  return known;
}

// The backend that reads `path`, from its extension: the first backend in registry order that
// lists it (so .onnx goes to ONNX Runtime before OpenVINO and XLA).
Status BackendForFile(const std::string& path, std::string* backend) {
  const std::string ext = Lower(fs::path(path).extension().string());
  for (const auto& [n, exts] : BackendExtensions()) {
    if (std::find(exts.begin(), exts.end(), ext) != exts.end()) {
      *backend = n;
      return Status::OK();
    }
  }
  return Status::Unsupported("no backend built into optic reads " +
                             (ext.empty() ? std::string("files without an extension")
                                          : "'" + ext + "' files") +
                             " ('" + path + "'; built backends read " + KnownExtensions() +
                             "); name the backend in config.pbtxt or convert the model");
}

// Triton's convention without a backend in the config: the version folder holds model.<ext>, and
// the extension picks the backend (registry order, then each backend's extension order).
Status DetectModelFile(const fs::path& version_dir, std::string* backend, std::string* path) {
  std::error_code ec;
  for (const auto& [n, exts] : BackendExtensions()) {
    for (const auto& ext : exts) {
      const fs::path p = version_dir / ("model" + ext);
      if (fs::exists(p, ec) || fs::is_symlink(p, ec)) {
        *backend = n;
        *path = p.string();
        return Status::OK();
      }
    }
  }
  std::vector<std::string> entries, model_named;
  for (const auto& e : fs::directory_iterator(version_dir, ec)) {
    const std::string f = e.path().filename().string();
    entries.push_back(f);
    if (f.rfind("model.", 0) == 0) model_named.push_back(f);
  }
  std::sort(entries.begin(), entries.end());
  std::sort(model_named.begin(), model_named.end());
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out;
  };
  const std::string where = "'" + version_dir.string() + "'";
  if (entries.empty()) {
    return Status::NotFound(where + " is empty: put the model file there as model.<ext> (" +
                            KnownExtensions() + ")");
  }
  if (!model_named.empty()) {
    return Status::Unsupported(where + " holds " + join(model_named) +
                               ", which no backend built into optic reads (built backends read " +
                               KnownExtensions() + ")");
  }
  return Status::NotFound(where + " holds no model.<ext> file (it has: " + join(entries) +
                          "); name the model file model.<ext> or set default_model_filename in "
                          "config.pbtxt");
}

// The file a backend is handed must be a regular file (or a link to one).
Status CheckModelFile(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return Status::InvalidArgument("'" + path + "' is a directory, not a model file");
  }
  if (!fs::exists(path, ec)) {
    if (fs::is_symlink(path, ec)) {
      return Status::NotFound("'" + path + "' links to '" + fs::read_symlink(path, ec).string() +
                              "', which does not exist");
    }
    return Status::NotFound("model file '" + path + "' does not exist");
  }
  return Status::OK();
}

// What an instance's weights take, estimated as the bytes of the model's files (an OpenVINO IR's
// .xml with its .bin): the framework's arenas, activations and precision conversions are not
// counted. 0 when the size cannot be read.
uint64_t ModelFileBytes(const std::string& path) {
  std::error_code ec;
  uint64_t bytes = fs::file_size(path, ec);
  if (ec) return 0;
  fs::path weights = fs::path(path);
  if (Lower(weights.extension().string()) == ".xml") {
    weights.replace_extension(".bin");
    const uint64_t extra = fs::file_size(weights, ec);
    if (!ec) bytes += extra;
  }
  return bytes;
}

// A model tensor of shape [-1] has no recorded shape (TorchScript keeps none); the config's dims
// are taken as given and the backend checks them when it runs.
bool Undescribed(const TensorInfo& t) { return t.shape.size() == 1 && t.shape[0] == -1; }

// Triton's convention for models whose tensor names are not usable (TorchScript): a config name
// "<anything>__<i>" stands for the model's i-th input (or output). -1 when `name` has no such form.
int PositionalIndex(const std::string& name) {
  const size_t p = name.rfind("__");
  if (p == std::string::npos || p + 2 == name.size() || name.size() - p > 8) return -1;
  for (size_t i = p + 2; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
  }
  return std::stoi(name.substr(p + 2));
}

// Matches the config's declared tensors (if any) with the model's, by name or else by position
// (PositionalIndex), fills what the config omits, and returns the served specs in the model's
// order, named as the config names them.
Status ReconcileIO(const std::vector<TensorInfo>& model_io, bool batching, bool is_input,
                   inference::ModelConfig* config, std::vector<IOSpec>* specs) {
  const std::string kind = is_input ? "input" : "output";
  const int declared = is_input ? config->input_size() : config->output_size();
  auto config_name = [&](int i) -> const std::string& {
    return is_input ? config->input(i).name() : config->output(i).name();
  };
  std::vector<int> entry(model_io.size(), -1);  // model tensor -> config entry
  std::vector<bool> used(declared, false);
  for (size_t j = 0; j < model_io.size(); ++j) {
    for (int i = 0; i < declared && entry[j] < 0; ++i) {
      if (config_name(i) == model_io[j].name) {
        entry[j] = i;
        used[i] = true;
      }
    }
  }
  for (int i = 0; i < declared; ++i) {
    const int p = used[i] ? -1 : PositionalIndex(config_name(i));
    if (p >= 0 && p < static_cast<int>(model_io.size()) && entry[p] < 0) {
      entry[p] = i;
      used[i] = true;
    }
  }
  for (size_t j = 0; j < model_io.size(); ++j) {
    const TensorInfo& t = model_io[j];
    IOSpec spec{t.name, t.dtype, t.shape};
    if (batching) {
      if (spec.dims.empty()) {
        return Status::InvalidArgument("max_batch_size > 0 but model " + kind + " '" + t.name +
                                       "' has no batch dimension");
      }
      spec.dims.erase(spec.dims.begin());
    }
    if (entry[j] < 0 && declared > 0 && is_input) {
      return Status::InvalidArgument("config lists inputs but not the model's input '" + t.name +
                                     "'");
    }
    if (entry[j] < 0 && Undescribed(t)) {
      return Status::InvalidArgument(
          "the model records no shape for its " + kind + " '" + t.name + "' (" + kind + " " +
          std::to_string(j) + "): list it in config.pbtxt with data_type and dims (Triton's "
          "naming " + (is_input ? "INPUT__" : "OUTPUT__") + std::to_string(j) +
          " selects it by position)");
    }
    if (entry[j] < 0) {
      if (is_input) {
        auto* in = config->add_input();
        in->set_name(t.name);
        in->set_data_type(ConfigFromDType(t.dtype));
        for (int64_t d : spec.dims) in->add_dims(d);
      } else {
        auto* out = config->add_output();
        out->set_name(t.name);
        out->set_data_type(ConfigFromDType(t.dtype));
        for (int64_t d : spec.dims) out->add_dims(d);
      }
      specs->push_back(std::move(spec));
      continue;
    }
    const int i = entry[j];
    const std::string& name = config_name(i);
    const auto type = is_input ? config->input(i).data_type() : config->output(i).data_type();
    const auto& dims = is_input ? config->input(i).dims() : config->output(i).dims();
    DType dt;
    OPTIC_RETURN_IF_ERROR(DTypeFromConfig(type, &dt).Prefixed(kind + " " + name));
    if (dt != t.dtype) {
      return Status::InvalidArgument(kind + " '" + name + "': config says " + KServeDatatype(type) +
                                     ", model has " + DTypeKServeName(t.dtype));
    }
    Shape cdims(dims.begin(), dims.end());
    bool ok = Undescribed(t) || cdims.size() == spec.dims.size();
    for (size_t d = 0; ok && !Undescribed(t) && d < cdims.size(); ++d) {
      ok = spec.dims[d] == -1 || cdims[d] == spec.dims[d];
    }
    if (!ok) {
      return Status::InvalidArgument(kind + " '" + name + "': config dims " + ShapeToString(cdims) +
                                     " do not match the model's " + ShapeToString(spec.dims) +
                                     (batching ? " (batch dimension excluded)" : ""));
    }
    spec.name = name;
    spec.dims = cdims;
    specs->push_back(std::move(spec));
  }
  for (int i = 0; i < declared; ++i) {
    if (used[i]) continue;
    std::string names;
    for (const auto& t : model_io) names += (names.empty() ? "'" : ", '") + t.name + "'";
    return Status::InvalidArgument("config " + kind + " '" + config_name(i) + "' is not an " +
                                   kind + " of the model (its " + kind + "s: " + names +
                                   "; a name <name>__<index> selects one by position)");
  }
  return Status::OK();
}

bool IsEnsemble(const inference::ModelConfig& config) { return config.platform() == "ensemble"; }

// The warm-up plan: the config's model_warmup entries (batch_size and count; inputs are zeros),
// else, for a batching model on a GPU, every batch size the dynamic batcher can form, once (a
// shape's first execution plans every convolution again: 50-90 ms a shape for ResNet-50 on an
// H100, which a served request would otherwise pay), else one batch of one row.
std::vector<DynamicBatcher::WarmUpBatch> WarmUpPlan(const ServedModel& m, bool on_gpu) {
  std::vector<DynamicBatcher::WarmUpBatch> plan;
  for (const auto& w : m.config.model_warmup()) {
    plan.push_back({std::max<int64_t>(1, w.batch_size()), std::max(1, static_cast<int>(w.count()))});
  }
  if (!plan.empty()) return plan;
  const int largest = on_gpu && m.config.has_dynamic_batching() ? m.max_batch_size : 1;
  for (int n = 1; n <= std::max(1, largest); ++n) plan.push_back({n, 1});
  return plan;
}

Status WarmUpModel(const ServedModel& m, bool on_gpu) {
  if (!m.batcher->staged()) {
    for (const auto& in : m.inputs) {
      for (int64_t d : in.dims) {
        if (d < 0) return Status::OK();  // variable dims: no shape to warm up with
      }
    }
  }
  auto make_inputs = [&m](int64_t rows, std::vector<Tensor>* inputs) -> Status {
    for (const auto& in : m.inputs) {
      Shape shape = in.dims;
      if (m.max_batch_size > 0) shape.insert(shape.begin(), rows);
      Tensor t;
      OPTIC_RETURN_IF_ERROR(Tensor::Empty(in.dtype, shape, &t));
      std::fill_n(static_cast<char*>(t.raw()), t.nbytes(), 0);
      inputs->push_back(std::move(t));
    }
    return Status::OK();
  };
  return m.batcher->WarmUp(WarmUpPlan(m, on_gpu), make_inputs);
}

// One Model per device through optic's backend registry, from `file`.
Status LoadInstances(const std::string& file, const inference::ModelConfig& parsed,
                     const std::string& backend_name, const std::vector<Device>& devices,
                     std::vector<std::unique_ptr<Model>>* out) {
  std::unique_ptr<Backend> backend;
  OPTIC_RETURN_IF_ERROR(CreateBackend(backend_name, &backend));
  LoadOptions base;
  // The batch the model will mostly see: what the config allows, or what completing it from a
  // batch-capable model will allow.
  base.batch_size = parsed.has_max_batch_size() ? std::max(1, parsed.max_batch_size())
                                                : kDefaultMaxBatchSize;
  for (const auto& [key, value] : parsed.parameters()) {
    OPTIC_RETURN_IF_ERROR(
        ParseLoadOption(*backend, key + "=" + value.string_value(), &base).Prefixed("parameters"));
  }
  for (const Device& d : devices) {
    LoadOptions options = base;
    options.device = d;
    std::unique_ptr<Model> model;
    OPTIC_RETURN_IF_ERROR(backend->Load(file, options, &model));
    out->push_back(std::move(model));
  }
  return Status::OK();
}

// Triton's memory_usage entries: one per (type, device id), summed over the instances there.
std::vector<MemoryUsage> EstimateMemoryUsage(const std::string& file,
                                             const std::vector<Device>& devices) {
  std::vector<MemoryUsage> out;
  const uint64_t bytes = ModelFileBytes(file);
  if (file.empty() || bytes == 0) return out;
  for (const Device& d : devices) {
    const bool cpu = d.type == DeviceType::kCPU;
    MemoryUsage u{cpu ? "CPU" : "GPU", cpu ? 0 : d.index, bytes};
    auto it = std::find_if(out.begin(), out.end(), [&](const MemoryUsage& m) {
      return m.type == u.type && m.id == u.id;
    });
    if (it == out.end()) out.push_back(u);
    else it->byte_size += bytes;
  }
  return out;
}

}  // namespace

Status BatcherOptionsFromConfig(const inference::ModelConfig& config, BatcherOptions* out) {
  BatcherOptions o;
  if (config.max_batch_size() < 0) return Status::InvalidArgument("max_batch_size must be >= 0");
  o.max_batch_size = config.max_batch_size();
  if (config.has_dynamic_batching()) {
    const auto& db = config.dynamic_batching();
    o.dynamic = o.max_batch_size > 0;
    o.preferred_batch_sizes.assign(db.preferred_batch_size().begin(), db.preferred_batch_size().end());
    o.max_queue_delay_us = db.max_queue_delay_microseconds();
    o.priority_levels = static_cast<uint32_t>(db.priority_levels());
    o.default_priority = static_cast<uint32_t>(db.default_priority_level());
    if (o.priority_levels > 0 && (o.default_priority < 1 || o.default_priority > o.priority_levels)) {
      return Status::InvalidArgument("default_priority_level must be in 1..priority_levels");
    }
    auto convert = [](const inference::ModelQueuePolicy& p) {
      return QueuePolicy{p.max_queue_size(), p.default_timeout_microseconds(),
                         p.allow_timeout_override()};
    };
    const uint32_t levels = std::max<uint32_t>(1, o.priority_levels);
    for (uint32_t level = 1; level <= levels; ++level) {
      auto it = db.priority_queue_policy().find(level);
      o.policies.push_back(convert(it != db.priority_queue_policy().end() ? it->second
                                                                         : db.default_queue_policy()));
    }
  }
  *out = std::move(o);
  return Status::OK();
}

ModelRepository::ModelRepository(std::string dir) : dir_(std::move(dir)) {}
ModelRepository::~ModelRepository() { UnloadAll(); }

Status ModelRepository::AddModelFile(const std::string& name, const std::string& file) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return Status::InvalidArgument("invalid model name '" + name + "' for '" + file +
                                   "' (a name has no '/'; give one as NAME=FILE)");
  }
  std::error_code ec;
  if (!dir_.empty() && fs::is_directory(fs::path(dir_) / name, ec)) {
    return Status::InvalidArgument("model name '" + name + "' (for '" + file +
                                   "') is also a folder of repository '" + dir_ +
                                   "'; give the file another name as NAME=FILE");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!files_.emplace(name, file).second) {
    return Status::InvalidArgument("two model files are named '" + name + "' ('" + files_[name] +
                                   "' and '" + file + "'); name them apart as NAME=FILE");
  }
  return Status::OK();
}

std::vector<std::string> ModelRepository::ModelNames() const {
  std::vector<std::string> names;
  std::error_code ec;
  if (!dir_.empty()) {
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
      if (e.is_directory(ec)) names.push_back(e.path().filename().string());
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [n, f] : files_) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Status ModelRepository::LoadAll() {
  std::error_code ec;
  if (!dir_.empty() && !fs::is_directory(dir_, ec)) {
    return Status::NotFound("model repository '" + dir_ + "' is not a directory");
  }
  // A model file directly in the repository is a common slip; say so instead of passing over it.
  if (!dir_.empty()) {
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
      std::string backend;
      if (e.is_directory(ec) || !BackendForFile(e.path().string(), &backend).ok()) continue;
      const std::string f = e.path().filename().string();
      std::lock_guard<std::mutex> lock(mu_);
      failures_[f] = "a model file directly in the repository is not served: a model needs its "
                     "own folder, " + dir_ + "/<name>/1/model" + e.path().extension().string() +
                     " (or serve the file with --model)";
    }
  }
  std::vector<std::string> names = ModelNames();
  // Ensembles after the models their steps use.
  std::stable_partition(names.begin(), names.end(), [&](const std::string& n) {
    inference::ModelConfig c;
    return !ReadModelConfigFile((fs::path(dir_) / n / "config.pbtxt").string(), &c).ok() ||
           !IsEnsemble(c);
  });
  Status first;
  for (const auto& n : names) {
    Status s = Load(n);
    if (!s.ok() && first.ok()) first = s;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (first.ok() && !failures_.empty()) {
    first = Status::InvalidArgument(failures_.begin()->first + ": " + failures_.begin()->second);
  }
  return first;
}

Status ModelRepository::ResolveModelFile(const std::string& name, int64_t version,
                                         const inference::ModelConfig& config, std::string* backend,
                                         std::string* file) const {
  std::string given;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(name);
    if (it != files_.end()) given = it->second;
  }
  const fs::path vdir = fs::path(dir_) / name / std::to_string(version);
  if (!given.empty()) {
    *file = given;
  } else if (!backend->empty()) {
    std::unique_ptr<Backend> b;
    OPTIC_RETURN_IF_ERROR(CreateBackend(*backend, &b));
    OPTIC_RETURN_IF_ERROR(FindModelFile(vdir, config, *b, file));
  } else if (!config.default_model_filename().empty()) {
    *file = (vdir / config.default_model_filename()).string();
  } else {
    OPTIC_RETURN_IF_ERROR(DetectModelFile(vdir, backend, file));
  }
  OPTIC_RETURN_IF_ERROR(CheckModelFile(*file));
  if (backend->empty()) OPTIC_RETURN_IF_ERROR(BackendForFile(*file, backend));
  // An empty file is an export or copy that did not finish; say so rather than pass on the
  // framework's parse error. Synthetic backends ignore the file's contents.
  std::unique_ptr<Backend> b;
  std::error_code ec;
  if (CreateBackend(*backend, &b).ok() && !b->capabilities().synthetic &&
      fs::file_size(*file, ec) == 0 && !ec) {
    return Status::InvalidArgument("model file '" + *file + "' is empty (0 bytes): the export or "
                                   "copy that wrote it did not finish; write it again");
  }
  return Status::OK();
}

Status ModelRepository::LoadVersion(const std::string& name, const inference::ModelConfig& parsed,
                                    int64_t version, std::shared_ptr<ServedModel>* out) {
  auto m = std::make_shared<ServedModel>();
  m->name = name;
  m->version = version;
  m->config = parsed;
  m->max_batch_size = parsed.max_batch_size();
  m->stats = std::make_shared<ModelStats>();
  if (IsEnsemble(parsed)) {
    m->backend = "ensemble";
    OPTIC_RETURN_IF_ERROR(EnsembleSignature(parsed, &m->signature));
    m->inputs = m->signature.inputs;
    m->outputs = m->signature.outputs;
    OPTIC_RETURN_IF_ERROR(Ensemble::Create(*this, parsed, m->signature, &m->ensemble));
    FillConfigDefaults(name, m->backend, "", &m->config);
    *out = std::move(m);
    return Status::OK();
  }
  const bool names_backend = !parsed.backend().empty() || !parsed.platform().empty();
  if (names_backend) OPTIC_RETURN_IF_ERROR(BackendForConfig(parsed, &m->backend));
  if (!names_backend || !IsBuiltinBackend(m->backend)) {
    OPTIC_RETURN_IF_ERROR(ResolveModelFile(name, version, parsed, &m->backend, &m->file));
  }
  // Instances on their devices (instance_placement.h); `placed_config` lists each KIND_GPU
  // group's GPUs, as Triton's .../config shows them.
  std::vector<InstancePlacement> placement;
  inference::ModelConfig placed_config;
  OPTIC_RETURN_IF_ERROR(
      PlaceInstances(name, parsed, VisibleCudaDevices(), &placement, &placed_config));
  std::vector<Device> devices;
  for (const InstancePlacement& p : placement) devices.push_back(p.device);
  std::vector<std::unique_ptr<Model>> instances;
  if (IsBuiltinBackend(m->backend)) {
    OPTIC_RETURN_IF_ERROR(CreateBuiltinInstances(m->backend, parsed, devices.size(), &instances));
  } else {
    OPTIC_RETURN_IF_ERROR(LoadInstances(m->file, parsed, m->backend, devices, &instances));
  }
  // `completed`: the config as the batcher runs it (batching from the model where the config
  // leaves it open); m->config adds Triton's display defaults on top.
  inference::ModelConfig completed = parsed;
  CompleteBatching(instances[0]->inputs(), instances[0]->outputs(), &completed);
  m->config = completed;
  m->max_batch_size = completed.max_batch_size();
  const bool batching = m->max_batch_size > 0;
  // JPEG-in: the model's image input is served as a BYTES input that each instance's stage
  // decodes per batch; the config reconciles against the model without that BYTES entry.
  std::vector<std::unique_ptr<InputStage>> stages;
  ImagePreprocessing pre;
  const bool staged = parsed.has_optic_preprocessing();
  if (staged) {
    OPTIC_RETURN_IF_ERROR(ImagePreprocessingFromConfig(parsed, instances[0]->inputs(), &pre));
    if (max_image_pixels_ > 0) pre.options.max_pixels = std::min(pre.options.max_pixels, max_image_pixels_);
    for (size_t i = 0; i < instances.size(); ++i) {
      // GPU preprocessing of a GPU instance decodes on that instance's GPU.
      ImagePreprocessing own = pre;
      if (!own.device.is_cpu() && !devices[i].is_cpu()) own.device = devices[i];
      std::unique_ptr<InputStage> stage;
      OPTIC_RETURN_IF_ERROR(CreateImageStage(own, &stage));
      stages.push_back(std::move(stage));
    }
    inference::ModelConfig without = m->config;
    without.clear_input();
    for (const auto& in : m->config.input()) {
      if (in.name() != pre.served.name) *without.add_input() = in;
    }
    m->config = std::move(without);
  }
  OPTIC_RETURN_IF_ERROR(ReconcileIO(instances[0]->inputs(), batching, true, &m->config, &m->inputs));
  OPTIC_RETURN_IF_ERROR(
      ReconcileIO(instances[0]->outputs(), batching, false, &m->config, &m->outputs));
  if (staged) {
    m->config.clear_input();
    auto* in = m->config.add_input();
    in->set_name(pre.served.name);
    in->set_data_type(inference::TYPE_STRING);
    in->add_dims(1);
    m->inputs = {pre.served};
  }
  m->signature = ModelSignature{m->inputs, m->outputs, m->max_batch_size};
  bool on_gpu = false;
  for (const Device& d : devices) on_gpu = on_gpu || d.type != DeviceType::kCPU;
  for (int i = 0; i < m->config.instance_group_size(); ++i) {
    *m->config.mutable_instance_group(i) = placed_config.instance_group(i);
  }
  FillConfigDefaults(name, m->backend, m->file, &m->config);
  m->stats->SetMemoryUsage(EstimateMemoryUsage(m->file, devices));
  BatcherOptions bo;
  OPTIC_RETURN_IF_ERROR(BatcherOptionsFromConfig(completed, &bo));
  bo.page_locked_batches = on_gpu;
  OPTIC_RETURN_IF_ERROR(
      DynamicBatcher::Create(bo, std::move(instances), std::move(stages), m->stats, &m->batcher));
  OPTIC_RETURN_IF_ERROR(WarmUpModel(*m, on_gpu));
  *out = std::move(m);
  return Status::OK();
}

Status ModelRepository::Load(const std::string& name) {
  std::lock_guard<std::mutex> serial(load_mu_);
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return Status::InvalidArgument("invalid model name '" + name + "'");
  }
  bool in_memory = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_memory = files_.count(name) > 0;
  }
  const fs::path mdir = fs::path(dir_) / name;
  Status s;
  std::map<int64_t, std::shared_ptr<ServedModel>> versions;
  inference::ModelConfig config;  // none: completed from the model
  std::vector<int64_t> wanted;
  std::error_code ec;
  if (in_memory) {
    wanted = {1};
  } else if (dir_.empty() || !fs::is_directory(mdir, ec)) {
    s = Status::NotFound("model '" + name + "' is not in repository '" + dir_ + "'");
  }
  const bool has_config = !in_memory && fs::exists(mdir / "config.pbtxt", ec);
  if (s.ok() && has_config) s = ReadModelConfigFile((mdir / "config.pbtxt").string(), &config);
  if (s.ok() && !config.name().empty() && config.name() != name) {
    s = Status::InvalidArgument("config.pbtxt name '" + config.name() +
                                "' differs from its folder name '" + name + "'");
  }
  if (s.ok() && !in_memory) {
    std::string backend;
    const bool no_file = IsEnsemble(config) ||
                         (BackendForConfig(config, &backend).ok() && IsBuiltinBackend(backend));
    s = SelectVersions(mdir, config, no_file, has_config, &wanted);
  }
  for (int64_t v : wanted) {
    if (!s.ok()) break;
    std::shared_ptr<ServedModel> m;
    s = LoadVersion(name, config, v, &m);
    if (s.ok()) versions[v] = std::move(m);
    else s = s.Prefixed("model '" + name + "' version " + std::to_string(v));
  }
  std::map<int64_t, std::shared_ptr<ServedModel>> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok()) {
      failures_[name] = s.message();
      return s;
    }
    failures_.erase(name);
    old = std::move(models_[name]);
    models_[name] = std::move(versions);
  }
  for (auto& [v, m] : old) m->Shutdown();
  return Status::OK();
}

Status ModelRepository::Unload(const std::string& name) {
  std::lock_guard<std::mutex> serial(load_mu_);
  std::map<int64_t, std::shared_ptr<ServedModel>> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return Status::NotFound("model '" + name + "' is not loaded");
    old = std::move(it->second);
    models_.erase(it);
  }
  for (auto& [v, m] : old) m->Shutdown();
  return Status::OK();
}

void ModelRepository::UnloadAll() {
  std::lock_guard<std::mutex> serial(load_mu_);
  std::map<std::string, std::map<int64_t, std::shared_ptr<ServedModel>>> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(models_);
  }
  for (auto& [n, versions] : old) {
    for (auto& [v, m] : versions) m->Shutdown();
  }
}

Status ModelRepository::Find(const std::string& name, const std::string& version,
                             std::shared_ptr<ServedModel>* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end() || it->second.empty()) {
    auto f = failures_.find(name);
    if (f != failures_.end()) return Status::Unavailable("model '" + name + "' failed to load: " + f->second);
    return Status::NotFound("unknown model '" + name + "'");
  }
  if (version.empty()) {
    *out = it->second.rbegin()->second;
    return Status::OK();
  }
  if (IsNumber(version)) {
    auto v = it->second.find(std::stoll(version));
    if (v != it->second.end()) {
      *out = v->second;
      return Status::OK();
    }
  }
  return Status::NotFound("model '" + name + "' has no loaded version '" + version + "'");
}

std::vector<std::shared_ptr<ServedModel>> ModelRepository::Loaded() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<ServedModel>> out;
  for (const auto& [n, versions] : models_) {
    for (const auto& [v, m] : versions) out.push_back(m);
  }
  return out;
}

std::vector<RepositoryEntry> ModelRepository::Index() const {
  std::vector<RepositoryEntry> out;
  std::vector<std::string> names = ModelNames();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [n, reason] : failures_) names.push_back(n);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const auto& n : names) {
    auto it = models_.find(n);
    if (it != models_.end() && !it->second.empty()) {
      for (const auto& [v, m] : it->second) out.push_back({n, std::to_string(v), "READY", ""});
      continue;
    }
    auto f = failures_.find(n);
    out.push_back({n, "", "UNAVAILABLE", f == failures_.end() ? "unloaded" : f->second});
  }
  return out;
}

}  // namespace optic::server

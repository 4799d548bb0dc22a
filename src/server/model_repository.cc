#include "model_repository.h"

#include <algorithm>
#include <filesystem>

#include "builtin_models.h"
#include "ensemble.h"
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
                      bool folder_optional, std::vector<int64_t>* out) {
  std::vector<int64_t> all;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(model_dir, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_directory() && IsNumber(n)) all.push_back(std::stoll(n));
  }
  std::sort(all.begin(), all.end());
  if (all.empty() && folder_optional) all.push_back(1);  // ensembles and built-ins have no file
  if (all.empty()) {
    return Status::NotFound("model folder '" + model_dir.string() +
                            "' has no numbered version folder (e.g. 1/model.onnx)");
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

// Matches the config's declared tensors (if any) with the model's, fills what the config omits,
// and returns the served specs in the model's order.
Status ReconcileIO(const std::vector<TensorInfo>& model_io, bool batching, bool is_input,
                   inference::ModelConfig* config, std::vector<IOSpec>* specs) {
  const char* kind = is_input ? "input" : "output";
  const int declared = is_input ? config->input_size() : config->output_size();
  for (const TensorInfo& t : model_io) {
    IOSpec spec{t.name, t.dtype, t.shape};
    if (batching) {
      if (spec.dims.empty()) {
        return Status::InvalidArgument(std::string("max_batch_size > 0 but model ") + kind + " '" +
                                       t.name + "' has no batch dimension");
      }
      spec.dims.erase(spec.dims.begin());
    }
    bool found = false;
    for (int i = 0; i < declared; ++i) {
      const std::string& name = is_input ? config->input(i).name() : config->output(i).name();
      if (name != t.name) continue;
      found = true;
      const auto type = is_input ? config->input(i).data_type() : config->output(i).data_type();
      const auto& dims = is_input ? config->input(i).dims() : config->output(i).dims();
      DType dt;
      OPTIC_RETURN_IF_ERROR(DTypeFromConfig(type, &dt).Prefixed(std::string(kind) + " " + name));
      if (dt != t.dtype) {
        return Status::InvalidArgument(std::string(kind) + " '" + name + "': config says " +
                                       KServeDatatype(type) + ", model has " +
                                       DTypeKServeName(t.dtype));
      }
      Shape cdims(dims.begin(), dims.end());
      bool ok = cdims.size() == spec.dims.size();
      for (size_t d = 0; ok && d < cdims.size(); ++d) {
        ok = spec.dims[d] == -1 || cdims[d] == spec.dims[d];
      }
      if (!ok) {
        return Status::InvalidArgument(std::string(kind) + " '" + name + "': config dims " +
                                       ShapeToString(cdims) + " do not match the model's " +
                                       ShapeToString(spec.dims) +
                                       (batching ? " (batch dimension excluded)" : ""));
      }
      spec.dims = cdims;
    }
    if (!found && declared > 0 && is_input) {
      return Status::InvalidArgument(std::string("config lists inputs but not the model's input '") +
                                     t.name + "'");
    }
    if (!found) {
      auto* added = is_input ? static_cast<google::protobuf::Message*>(config->add_input())
                             : static_cast<google::protobuf::Message*>(config->add_output());
      if (is_input) {
        auto* in = static_cast<inference::ModelInput*>(added);
        in->set_name(t.name);
        in->set_data_type(ConfigFromDType(t.dtype));
        for (int64_t d : spec.dims) in->add_dims(d);
      } else {
        auto* out = static_cast<inference::ModelOutput*>(added);
        out->set_name(t.name);
        out->set_data_type(ConfigFromDType(t.dtype));
        for (int64_t d : spec.dims) out->add_dims(d);
      }
    }
    specs->push_back(std::move(spec));
  }
  for (int i = 0; i < declared; ++i) {
    const std::string& name = is_input ? config->input(i).name() : config->output(i).name();
    bool known = false;
    for (const auto& t : model_io) known = known || t.name == name;
    if (!known) {
      return Status::InvalidArgument(std::string("config ") + kind + " '" + name +
                                     "' is not a " + kind + " of the model");
    }
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

// One Model per device through optic's backend registry.
Status LoadInstances(const std::string& repo, const std::string& name, int64_t version,
                     const inference::ModelConfig& parsed, const std::string& backend_name,
                     const std::vector<Device>& devices, std::vector<std::unique_ptr<Model>>* out) {
  std::unique_ptr<Backend> backend;
  OPTIC_RETURN_IF_ERROR(CreateBackend(backend_name, &backend));
  std::string file;
  const fs::path vdir = fs::path(repo) / name / std::to_string(version);
  OPTIC_RETURN_IF_ERROR(FindModelFile(vdir, parsed, *backend, &file));
  LoadOptions base;
  base.batch_size = std::max(1, parsed.max_batch_size());
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

Status ModelRepository::LoadAll() {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) {
    return Status::NotFound("model repository '" + dir_ + "' is not a directory");
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.is_directory() && fs::exists(e.path() / "config.pbtxt")) {
      names.push_back(e.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
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
  return first;
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
    m->config.set_name(name);
    *out = std::move(m);
    return Status::OK();
  }
  OPTIC_RETURN_IF_ERROR(BackendForConfig(parsed, &m->backend));
  std::vector<Device> devices;
  for (const auto& g : parsed.instance_group()) {
    const int count = g.count() > 0 ? g.count() : 1;
    for (int i = 0; i < count; ++i) {
      Device d;
      if (g.kind() == inference::ModelInstanceGroup::KIND_GPU) {
        d.type = DeviceType::kCUDA;
        d.index = g.gpus_size() > 0 ? g.gpus(i % g.gpus_size()) : 0;
      }
      devices.push_back(d);
    }
  }
  if (devices.empty()) devices.push_back(Device{});
  std::vector<std::unique_ptr<Model>> instances;
  if (IsBuiltinBackend(m->backend)) {
    OPTIC_RETURN_IF_ERROR(CreateBuiltinInstances(m->backend, parsed, devices.size(), &instances));
  } else {
    OPTIC_RETURN_IF_ERROR(LoadInstances(dir_, name, version, parsed, m->backend, devices, &instances));
  }
  const bool batching = m->max_batch_size > 0;
  m->config.set_name(name);
  if (m->config.instance_group_size() == 0) {
    auto* g = m->config.add_instance_group();
    g->set_count(1);
    g->set_kind(inference::ModelInstanceGroup::KIND_CPU);
  }
  // JPEG-in: the model's image input is served as a BYTES input that each instance's stage
  // decodes per batch; the config reconciles against the model without that BYTES entry.
  std::vector<std::unique_ptr<InputStage>> stages;
  ImagePreprocessing pre;
  const bool staged = parsed.has_optic_preprocessing();
  if (staged) {
    OPTIC_RETURN_IF_ERROR(ImagePreprocessingFromConfig(parsed, instances[0]->inputs(), &pre));
    if (max_image_pixels_ > 0) pre.options.max_pixels = std::min(pre.options.max_pixels, max_image_pixels_);
    for (size_t i = 0; i < instances.size(); ++i) {
      std::unique_ptr<InputStage> stage;
      OPTIC_RETURN_IF_ERROR(CreateImageStage(pre, &stage));
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
  BatcherOptions bo;
  OPTIC_RETURN_IF_ERROR(BatcherOptionsFromConfig(parsed, &bo));
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
  const fs::path mdir = fs::path(dir_) / name;
  Status s;
  std::map<int64_t, std::shared_ptr<ServedModel>> versions;
  inference::ModelConfig config;
  if (!fs::is_directory(mdir)) {
    s = Status::NotFound("model '" + name + "' is not in repository '" + dir_ + "'");
  }
  if (s.ok()) s = ReadModelConfigFile((mdir / "config.pbtxt").string(), &config);
  if (s.ok() && !config.name().empty() && config.name() != name) {
    s = Status::InvalidArgument("config.pbtxt name '" + config.name() +
                                "' differs from its folder name '" + name + "'");
  }
  std::vector<int64_t> wanted;
  if (s.ok()) {
    std::string backend;
    const bool no_file = IsEnsemble(config) ||
                         (BackendForConfig(config, &backend).ok() && IsBuiltinBackend(backend));
    s = SelectVersions(mdir, config, no_file, &wanted);
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
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.is_directory() && fs::exists(e.path() / "config.pbtxt")) {
      names.push_back(e.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::lock_guard<std::mutex> lock(mu_);
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

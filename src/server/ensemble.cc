#include "ensemble.h"

#include <map>
#include <mutex>

namespace optic::server {
namespace {

Status Bad(const std::string& m) { return Status::InvalidArgument("ensemble: " + m); }

bool DimsAgree(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != -1 && b[i] != -1 && a[i] != b[i]) return false;
  }
  return true;
}

std::string Describe(const IOSpec& s) { return SpecDatatype(s) + ShapeToString(s.dims); }

bool SpecsAgree(const IOSpec& a, const IOSpec& b) {
  return a.bytes == b.bytes && (a.bytes || a.dtype == b.dtype) && DimsAgree(a.dims, b.dims);
}

const IOSpec* FindSpec(const std::vector<IOSpec>& specs, const std::string& name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

uint64_t NsSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
}

}  // namespace

Status EnsembleSignature(const inference::ModelConfig& config, ModelSignature* out) {
  ModelSignature sig;
  sig.max_batch_size = config.max_batch_size();
  if (sig.max_batch_size < 0) return Bad("max_batch_size must be >= 0");
  if (config.input_size() == 0 || config.output_size() == 0) {
    return Bad("config must list the ensemble's input and output tensors");
  }
  auto spec = [](const std::string& name, inference::DataType type,
                 const google::protobuf::RepeatedField<int64_t>& dims, IOSpec* s) {
    s->name = name;
    s->dims.assign(dims.begin(), dims.end());
    if (type == inference::TYPE_STRING) {
      s->bytes = true;
      return Status::OK();
    }
    return DTypeFromConfig(type, &s->dtype).Prefixed("ensemble tensor '" + name + "'");
  };
  for (const auto& in : config.input()) {
    IOSpec s;
    OPTIC_RETURN_IF_ERROR(spec(in.name(), in.data_type(), in.dims(), &s));
    sig.inputs.push_back(std::move(s));
  }
  for (const auto& o : config.output()) {
    IOSpec s;
    OPTIC_RETURN_IF_ERROR(spec(o.name(), o.data_type(), o.dims(), &s));
    if (s.bytes) return Bad("output '" + s.name + "': BYTES outputs are not supported");
    sig.outputs.push_back(std::move(s));
  }
  *out = std::move(sig);
  return Status::OK();
}

Status Ensemble::Create(const ModelRepository& repo, const inference::ModelConfig& config,
                        const ModelSignature& sig, std::shared_ptr<const Ensemble>* out) {
  auto e = std::shared_ptr<Ensemble>(new Ensemble());
  e->signature_ = sig;
  e->repo_ = &repo;
  const auto& steps = config.ensemble_scheduling().step();
  if (steps.empty()) return Bad("ensemble_scheduling has no step");
  // Tensors known so far: the ensemble's inputs, then each step's outputs once it can run.
  std::map<std::string, IOSpec> known;
  for (const auto& in : sig.inputs) known[in.name] = in;
  std::vector<std::shared_ptr<ServedModel>> models;
  for (int i = 0; i < steps.size(); ++i) {
    const auto& st = steps[i];
    const std::string where = "step " + std::to_string(i) + " ('" + st.model_name() + "')";
    EnsembleStep step;
    step.model = st.model_name();
    if (st.model_version() > 0) step.version = std::to_string(st.model_version());
    std::shared_ptr<ServedModel> m;
    Status s = repo.Find(step.model, step.version, &m);
    if (!s.ok()) return Bad(where + ": " + s.message());
    if (m->ensemble) return Status::Unsupported("ensemble: " + where + " is itself an ensemble");
    if ((sig.max_batch_size > 0) != (m->max_batch_size > 0) || m->max_batch_size < sig.max_batch_size) {
      return Bad(where + ": max_batch_size " + std::to_string(m->max_batch_size) +
                 " cannot take the ensemble's batches (max_batch_size " +
                 std::to_string(sig.max_batch_size) + ")");
    }
    for (const auto& in : m->inputs) {
      auto it = st.input_map().find(in.name);
      if (it == st.input_map().end()) return Bad(where + ": input_map does not feed input '" + in.name + "'");
      step.inputs.emplace_back(in.name, it->second);
    }
    for (const auto& [k, v] : st.input_map()) {
      if (!FindSpec(m->inputs, k)) return Bad(where + ": input_map key '" + k + "' is not an input of the model");
    }
    for (const auto& [k, v] : st.output_map()) {
      if (!FindSpec(m->outputs, k)) return Bad(where + ": output_map key '" + k + "' is not an output of the model");
      step.outputs.emplace_back(k, v);
    }
    e->steps_.push_back(std::move(step));
    models.push_back(std::move(m));
  }
  // Resolve in dependency order; what never resolves is a missing tensor or a cycle.
  std::vector<bool> placed(steps.size(), false);
  for (size_t done = 0; done < steps.size();) {
    bool progress = false;
    for (size_t i = 0; i < steps.size(); ++i) {
      if (placed[i]) continue;
      const EnsembleStep& st = e->steps_[i];
      bool ready = true;
      for (const auto& [mi, t] : st.inputs) ready = ready && known.count(t) > 0;
      if (!ready) continue;
      const std::string where = "step " + std::to_string(i) + " ('" + st.model + "')";
      for (const auto& [mi, t] : st.inputs) {
        const IOSpec& want = *FindSpec(models[i]->inputs, mi);
        if (!SpecsAgree(known[t], want)) {
          return Bad(where + ": tensor '" + t + "' is " + Describe(known[t]) + ", input '" + mi +
                     "' needs " + Describe(want));
        }
      }
      for (const auto& [mo, t] : st.outputs) {
        if (known.count(t)) return Bad(where + ": tensor '" + t + "' is produced twice");
        IOSpec s = *FindSpec(models[i]->outputs, mo);
        s.name = t;
        known[t] = s;
      }
      placed[i] = true;
      ++done;
      progress = true;
    }
    if (!progress) {
      for (size_t i = 0; i < steps.size(); ++i) {
        if (placed[i]) continue;
        for (const auto& [mi, t] : e->steps_[i].inputs) {
          if (!known.count(t)) {
            return Bad("step " + std::to_string(i) + " ('" + e->steps_[i].model + "'): tensor '" + t +
                       "' is neither an ensemble input nor produced by a step that can run first");
          }
        }
      }
      return Bad("the steps form a cycle");
    }
  }
  for (const auto& o : sig.outputs) {
    auto it = known.find(o.name);
    if (it == known.end()) return Bad("output '" + o.name + "' is produced by no step");
    if (!SpecsAgree(it->second, o)) {
      return Bad("output '" + o.name + "' is declared " + Describe(o) + " but produced as " +
                 Describe(it->second));
    }
  }
  *out = std::move(e);
  return Status::OK();
}

struct Ensemble::RunState {
  std::mutex mu;
  std::shared_ptr<const ParsedInferRequest> request;
  std::shared_ptr<const void> keep_alive;
  Done done;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, BytesInput> bytes;
  std::vector<bool> started;
  size_t running = 0, finished = 0;
  Status error;
  bool answered = false;
};

void Ensemble::Run(std::shared_ptr<const ParsedInferRequest> request,
                   std::shared_ptr<const void> keep_alive, Done done) const {
  auto st = std::make_shared<RunState>();
  for (size_t i = 0; i < signature_.inputs.size(); ++i) {
    if (signature_.inputs[i].bytes) st->bytes[signature_.inputs[i].name] = request->bytes[i];
    else st->tensors[signature_.inputs[i].name] = request->inputs[i];
  }
  st->request = std::move(request);
  st->keep_alive = std::move(keep_alive);
  st->done = std::move(done);
  st->started.assign(steps_.size(), false);
  Launch(st);
}

void Ensemble::Launch(const std::shared_ptr<RunState>& st) const {
  struct Pending {
    size_t step;
    std::shared_ptr<ServedModel> model;
    std::unique_ptr<InferRequest> request;
  };
  std::vector<Pending> launch;
  std::vector<std::pair<size_t, Status>> failed;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    if (!st->error.ok()) return;
    for (size_t i = 0; i < steps_.size(); ++i) {
      if (st->started[i]) continue;
      const EnsembleStep& step = steps_[i];
      bool ready = true;
      for (const auto& [mi, t] : step.inputs) ready = ready && (st->tensors.count(t) || st->bytes.count(t));
      if (!ready) continue;
      st->started[i] = true;
      ++st->running;
      Pending p{i, nullptr, std::make_unique<InferRequest>()};
      Status s = repo_->Find(step.model, step.version, &p.model);
      if (s.ok() && p.model->ensemble) s = Status::Unsupported("step model became an ensemble");
      InferRequest& r = *p.request;
      if (s.ok()) {
        r.id = st->request->id;
        r.rows = st->request->rows;
        r.timeout_us = st->request->timeout_us;
        r.keep_alive = st->keep_alive;
        r.arrival = Clock::now();
        const auto& specs = p.model->inputs;
        r.inputs.resize(specs.size());
        r.bytes.resize(specs.size());
        for (size_t k = 0; k < specs.size() && s.ok(); ++k) {
          std::string tensor;
          for (const auto& [mi, t] : step.inputs) {
            if (mi == specs[k].name) tensor = t;
          }
          if (specs[k].bytes) {
            auto it = st->bytes.find(tensor);
            if (it == st->bytes.end()) s = Status::InvalidArgument("input '" + specs[k].name + "' needs BYTES");
            else r.bytes[k] = it->second;
          } else {
            auto it = st->tensors.find(tensor);
            if (it == st->tensors.end()) {
              s = Status::InvalidArgument("input '" + specs[k].name + "' needs a tensor");
            } else {
              // The model may have been reloaded with other dims since Create.
              Shape dims = it->second.shape();
              if (p.model->max_batch_size > 0 && !dims.empty()) dims.erase(dims.begin());
              if (it->second.dtype() != specs[k].dtype || !DimsAgree(dims, specs[k].dims)) {
                s = Status::InvalidArgument("tensor '" + tensor + "' " + it->second.DebugString() +
                                            " does not fit input '" + specs[k].name + "'");
              }
              r.inputs[k] = it->second;
            }
          }
        }
      }
      if (!s.ok()) {
        failed.emplace_back(i, s);
        continue;
      }
      launch.push_back(std::move(p));
    }
  }
  for (auto& [i, s] : failed) StepDone(st, i, nullptr, s, {});
  for (auto& p : launch) {
    const size_t i = p.step;
    auto model = p.model;
    const auto start = Clock::now();
    p.request->done = [this, st, i, model, start](const Status& s, std::vector<Tensor> outputs) {
      if (s.ok()) model->stats->RecordSuccess(NsSince(start));
      else model->stats->RecordFailure(FailReason::kOther, NsSince(start));
      StepDone(st, i, model.get(), s, std::move(outputs));
    };
    Status s = model->batcher->Enqueue(std::move(p.request));
    if (!s.ok()) {
      model->stats->RecordFailure(s.code() == StatusCode::kUnavailable ? FailReason::kRejected
                                                                       : FailReason::kOther,
                                  NsSince(start));
      StepDone(st, i, model.get(), s, {});
    }
  }
}

void Ensemble::StepDone(const std::shared_ptr<RunState>& st, size_t i, const ServedModel* m,
                        const Status& status, std::vector<Tensor> outputs) const {
  Done done;
  Status result;
  std::vector<Tensor> final_outputs;
  bool more = false;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    --st->running;
    ++st->finished;
    const EnsembleStep& step = steps_[i];
    if (!status.ok()) {
      if (st->error.ok()) {
        st->error = status.Prefixed("ensemble step " + std::to_string(i) + " ('" + step.model + "')");
      }
    } else if (st->error.ok() && m != nullptr) {
      // Outputs arrive in the step model's signature order.
      for (size_t k = 0; k < m->outputs.size() && k < outputs.size(); ++k) {
        for (const auto& [mo, t] : step.outputs) {
          if (mo == m->outputs[k].name) st->tensors[t] = outputs[k];
        }
      }
    }
    if (st->answered) return;
    if (!st->error.ok()) {
      if (st->running > 0) return;  // answer once the running steps are back
      st->answered = true;
      result = st->error;
    } else if (st->finished == steps_.size()) {
      st->answered = true;
      for (const auto& o : signature_.outputs) {
        auto it = st->tensors.find(o.name);
        if (it == st->tensors.end()) {
          result = Status::Internal("ensemble output '" + o.name + "' was not produced");
          break;
        }
        final_outputs.push_back(it->second);
      }
    } else {
      more = true;
    }
    if (st->answered) done = std::move(st->done);
  }
  if (more) {
    Launch(st);
    return;
  }
  if (done) done(result, result.ok() ? std::move(final_outputs) : std::vector<Tensor>{});
}

}  // namespace optic::server

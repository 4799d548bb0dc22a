#include "inference_service.h"

#include <algorithm>

#include "ensemble.h"

namespace optic::server {
namespace {

uint64_t NsSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
}

std::vector<TensorMetadataEntry> TensorMetadata(const std::vector<IOSpec>& specs, int max_batch) {
  std::vector<TensorMetadataEntry> out;
  for (const auto& s : specs) {
    Shape shape = s.dims;
    if (max_batch > 0) shape.insert(shape.begin(), -1);
    out.push_back({s.name, SpecDatatype(s), shape});
  }
  return out;
}

// The outputs a request gets, in the order it gets them, paired with the model's tensors.
Status SelectOutputs(const ParsedInferRequest& request, const ModelSignature& sig,
                     std::vector<Tensor> model_outputs, InferenceResponse* r) {
  if (model_outputs.size() != sig.outputs.size()) {
    return Status::Internal("model returned " + std::to_string(model_outputs.size()) +
                            " outputs, " + std::to_string(sig.outputs.size()) + " declared");
  }
  r->outputs = request.outputs;
  if (r->outputs.empty()) {
    for (const auto& s : sig.outputs) r->outputs.push_back({s.name, request.binary_output_default});
  }
  for (const auto& o : r->outputs) {
    size_t i = 0;
    while (sig.outputs[i].name != o.name) ++i;  // validation admitted known names only
    r->tensors.push_back(model_outputs[i]);
  }
  return Status::OK();
}

}  // namespace

InferenceService::InferenceService(ModelRepository* repository, ServiceOptions options)
    : repository_(repository), options_(std::move(options)) {}

bool InferenceService::Authorized(const std::string& authorization) const {
  return options_.auth_token.empty() || authorization == "Bearer " + options_.auth_token;
}

const char* InferenceService::UnauthorizedMessage() {
  return "missing or wrong bearer token (Authorization: Bearer ...)";
}

void InferenceService::Infer(InferenceRequest request, InferDone done) {
  const auto arrival = Clock::now();
  auto refuse = [&done, &request](const Status& s) {
    InferenceResponse r;
    r.status = s;
    r.id = request.id;
    r.finish = [](const Status&) {};
    done(std::move(r));
  };
  if (shutting_down_) return refuse(Status::Unavailable("server is shutting down"));
  std::shared_ptr<ServedModel> m;
  Status s = repository_->Find(request.model, request.version, &m);
  if (!s.ok()) return refuse(s);
  auto parsed = std::make_shared<ParsedInferRequest>();
  s = ValidateInferRequest(request, m->signature, options_.limits, parsed.get());
  if (!s.ok()) {
    m->stats->RecordFailure(FailReason::kOther, NsSince(arrival));
    return refuse(s);
  }
  ++inflight_;
  InferRequest::Done batch_done = [this, m, parsed, arrival, done](const Status& status,
                                                                   std::vector<Tensor> outputs) {
    InferenceResponse r;
    r.status = status;
    r.model_name = m->name;
    r.model_version = std::to_string(m->version);
    r.id = parsed->id;
    if (r.status.ok()) r.status = SelectOutputs(*parsed, m->signature, std::move(outputs), &r);
    r.finish = [this, m, arrival, status](const Status& final_status) {
      if (final_status.ok()) {
        m->stats->RecordSuccess(NsSince(arrival));
      } else {
        // A request's own bad data (a corrupt JPEG found while batching) is not a backend failure.
        m->stats->RecordFailure(status.ok() || status.code() == StatusCode::kInvalidArgument
                                    ? FailReason::kOther
                                : status.code() == StatusCode::kUnavailable ? FailReason::kRejected
                                                                            : FailReason::kBackend,
                                NsSince(arrival));
      }
      --inflight_;
    };
    done(std::move(r));
  };
  if (m->ensemble) {
    m->ensemble->Run(parsed, request.keep_alive, std::move(batch_done));
    return;
  }
  auto req = std::make_unique<InferRequest>();
  req->id = parsed->id;
  req->inputs = parsed->inputs;  // shares memory; `parsed` lives until the answer
  req->bytes = parsed->bytes;
  req->rows = parsed->rows;
  req->priority = static_cast<uint32_t>(std::min<int64_t>(parsed->priority, 1 << 30));
  req->timeout_us = parsed->timeout_us;
  req->keep_alive = request.keep_alive;
  req->arrival = arrival;
  req->done = std::move(batch_done);
  s = m->batcher->Enqueue(std::move(req));
  if (!s.ok()) {
    --inflight_;
    m->stats->RecordFailure(
        s.code() == StatusCode::kUnavailable ? FailReason::kRejected : FailReason::kOther,
        NsSince(arrival));
    refuse(s);
  }
}

ServerMetadataInfo InferenceService::ServerMetadata() {
  return {"optic", "0.1.0",
          {"binary_tensor_data", "model_repository", "model_configuration", "statistics"}};
}

bool InferenceService::ready() const {
  if (shutting_down_) return false;
  for (const auto& e : repository_->Index()) {
    if (e.state != "READY") return false;
  }
  return true;
}

std::string InferenceService::NotReadyReason() const {
  return shutting_down_ ? "server is shutting down" : "not every model is ready";
}

Status InferenceService::ModelReady(const std::string& model, const std::string& version) const {
  std::shared_ptr<ServedModel> m;
  OPTIC_RETURN_IF_ERROR(repository_->Find(model, version, &m));
  if (shutting_down_) return Status::Unavailable("server is shutting down");
  return Status::OK();
}

Status InferenceService::ModelMetadata(const std::string& model, const std::string& version,
                                       ModelMetadataInfo* out) const {
  std::shared_ptr<ServedModel> m;
  OPTIC_RETURN_IF_ERROR(repository_->Find(model, version, &m));
  ModelMetadataInfo info;
  info.name = m->name;
  for (const auto& e : repository_->Index()) {
    if (e.name == model && !e.version.empty()) info.versions.push_back(e.version);
  }
  info.platform = m->config.platform().empty() ? m->backend : m->config.platform();
  info.inputs = TensorMetadata(m->inputs, m->max_batch_size);
  info.outputs = TensorMetadata(m->outputs, m->max_batch_size);
  *out = std::move(info);
  return Status::OK();
}

std::vector<RepositoryEntry> InferenceService::Index(bool ready_only) const {
  std::vector<RepositoryEntry> out;
  for (auto& e : repository_->Index()) {
    if (!ready_only || e.state == "READY") out.push_back(std::move(e));
  }
  return out;
}

Status InferenceService::LoadModel(const std::string& model) {
  if (shutting_down_) return Status::Unavailable("server is shutting down");
  return repository_->Load(model);
}

Status InferenceService::UnloadModel(const std::string& model) {
  if (shutting_down_) return Status::Unavailable("server is shutting down");
  return repository_->Unload(model);
}

}  // namespace optic::server

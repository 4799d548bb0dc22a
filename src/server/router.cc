#include "router.h"

#include <nlohmann/json.hpp>

#include "ensemble.h"

namespace optic::server {
namespace {

using nlohmann::json;

HttpReply JsonReply(int status, const json& j) { return {status, "application/json", j.dump(), 0}; }

std::vector<std::string> SplitPath(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path + "/") {
    if (c == '/') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return parts;
}

uint64_t NsSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
}

json TensorMetadata(const std::vector<IOSpec>& specs, int max_batch) {
  json out = json::array();
  for (const auto& s : specs) {
    Shape shape = s.dims;
    if (max_batch > 0) shape.insert(shape.begin(), -1);
    out.push_back({{"name", s.name}, {"datatype", SpecDatatype(s)}, {"shape", shape}});
  }
  return out;
}

// Splits /v2/models/<m>[/versions/<v>][/<action>]; false when the shape is not that.
bool ModelPath(const std::vector<std::string>& p, std::string* model, std::string* version,
               std::string* action) {
  if (p.size() < 3 || p[0] != "v2" || p[1] != "models") return false;
  *model = p[2];
  size_t i = 3;
  if (p.size() >= 5 && p[3] == "versions") {
    *version = p[4];
    i = 5;
  }
  if (p.size() == i) return true;
  if (p.size() == i + 1) {
    *action = p[i];
    return true;
  }
  return false;
}

}  // namespace

HttpReply ErrorReply(const Status& status) {
  return JsonReply(status.HttpStatus(), {{"error", status.message()}});
}

Router::Router(ModelRepository* repository, RouterOptions options, PostFn post)
    : repository_(repository), options_(std::move(options)), post_(std::move(post)) {}

bool Router::ready() const {
  if (shutting_down_) return false;
  for (const auto& e : repository_->Index()) {
    if (e.state != "READY") return false;
  }
  return true;
}

void Router::Handle(const HttpRequestView& request, std::function<void(HttpReply)> reply) {
  const auto parts = SplitPath(request.target);
  const bool health = parts.size() == 3 && parts[0] == "v2" && parts[1] == "health";
  if (!options_.auth_token.empty() && !health &&
      request.authorization != "Bearer " + options_.auth_token) {
    reply(JsonReply(401, {{"error", "missing or wrong bearer token (Authorization: Bearer ...)"}}));
    return;
  }
  std::string model, version, action;
  if (ModelPath(parts, &model, &version, &action) && action == "infer") {
    if (request.method != "POST") {
      reply(JsonReply(405, {{"error", "infer needs POST"}}));
      return;
    }
    Infer(model, version, request, std::move(reply));
    return;
  }
  bool matched = false;
  HttpReply r;
  if (request.method == "GET") {
    r = HandleGet(parts, &matched);
  } else if (request.method == "POST") {
    r = HandlePost(parts, request, &matched);
  }
  if (!matched) {
    // Known path, wrong method -> 405; unknown path -> 404.
    bool get_ok = false, post_ok = false;
    if (request.method != "GET") HandleGet(parts, &get_ok);
    if (request.method != "POST") HandlePost(parts, request, &post_ok);
    r = (get_ok || post_ok) ? JsonReply(405, {{"error", "method " + request.method + " not allowed on " + request.target}})
                            : JsonReply(404, {{"error", "unknown endpoint " + request.target}});
  }
  reply(std::move(r));
}

HttpReply Router::HandleGet(const std::vector<std::string>& p, bool* matched) {
  *matched = true;
  if (p == std::vector<std::string>{"v2", "health", "live"}) return JsonReply(200, json::object());
  if (p == std::vector<std::string>{"v2", "health", "ready"}) {
    return ready() ? JsonReply(200, json::object())
                   : JsonReply(503, {{"error", shutting_down_ ? "server is shutting down"
                                                              : "not every model is ready"}});
  }
  if (p == std::vector<std::string>{"v2"}) {
    return JsonReply(200, {{"name", "optic"},
                           {"version", "0.1.0"},
                           {"extensions",
                            {"binary_tensor_data", "model_repository", "model_configuration",
                             "statistics"}}});
  }
  if (p == std::vector<std::string>{"metrics"}) {
    std::map<std::string, std::string> families;
    for (const auto& m : repository_->Loaded()) {
      m->stats->AppendPrometheus(m->name, std::to_string(m->version), &families);
    }
    return {200, "text/plain; version=0.0.4; charset=utf-8", PrometheusDocument(families), 0};
  }
  if (p == std::vector<std::string>{"v2", "models", "stats"}) {
    json all = json::array();
    for (const auto& m : repository_->Loaded()) {
      all.push_back(m->stats->ToJson(m->name, std::to_string(m->version)));
    }
    return JsonReply(200, {{"model_stats", all}});
  }
  std::string model, version, action;
  if (!ModelPath(p, &model, &version, &action) ||
      !(action.empty() || action == "ready" || action == "config" || action == "stats")) {
    *matched = false;
    return {};
  }
  std::shared_ptr<ServedModel> m;
  Status s = repository_->Find(model, version, &m);
  if (action == "ready") {
    return s.ok() && !shutting_down_ ? JsonReply(200, json::object())
                                     : JsonReply(400, {{"error", s.ok() ? "server is shutting down" : s.message()}});
  }
  if (!s.ok()) return ErrorReply(s);
  if (action == "config") return {200, "application/json", ModelConfigToJson(m->config), 0};
  if (action == "stats") {
    return JsonReply(200, {{"model_stats", {m->stats->ToJson(m->name, std::to_string(m->version))}}});
  }
  json versions = json::array();
  for (const auto& e : repository_->Index()) {
    if (e.name == model && !e.version.empty()) versions.push_back(e.version);
  }
  return JsonReply(200, {{"name", m->name},
                         {"versions", versions},
                         {"platform", m->config.platform().empty() ? m->backend : m->config.platform()},
                         {"inputs", TensorMetadata(m->inputs, m->max_batch_size)},
                         {"outputs", TensorMetadata(m->outputs, m->max_batch_size)}});
}

HttpReply Router::HandlePost(const std::vector<std::string>& p, const HttpRequestView& request,
                       bool* matched) {
  *matched = true;
  if (p == std::vector<std::string>{"v2", "repository", "index"}) {
    bool ready_only = false;
    if (request.body && !request.body->empty()) {
      json j = json::parse(*request.body, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return JsonReply(400, {{"error", "request body is not a JSON object"}});
      if (j.contains("ready") && j["ready"].is_boolean()) ready_only = j["ready"].get<bool>();
    }
    json out = json::array();
    for (const auto& e : repository_->Index()) {
      if (ready_only && e.state != "READY") continue;
      json entry = {{"name", e.name}, {"state", e.state}, {"reason", e.reason}};
      if (!e.version.empty()) entry["version"] = e.version;
      out.push_back(entry);
    }
    return JsonReply(200, out);
  }
  if (p.size() == 5 && p[0] == "v2" && p[1] == "repository" && p[2] == "models" &&
      (p[4] == "load" || p[4] == "unload")) {
    if (shutting_down_) return ErrorReply(Status::Unavailable("server is shutting down"));
    Status s = p[4] == "load" ? repository_->Load(p[3]) : repository_->Unload(p[3]);
    return s.ok() ? JsonReply(200, json::object()) : ErrorReply(s);
  }
  *matched = false;
  return {};
}

void Router::Infer(const std::string& model, const std::string& version,
                   const HttpRequestView& request, std::function<void(HttpReply)> reply) {
  const auto arrival = Clock::now();
  if (shutting_down_) {
    reply(ErrorReply(Status::Unavailable("server is shutting down")));
    return;
  }
  std::shared_ptr<ServedModel> m;
  Status s = repository_->Find(model, version, &m);
  if (!s.ok()) {
    reply(ErrorReply(s));
    return;
  }
  std::optional<uint64_t> hlen;
  if (request.header_length) {
    uint64_t v = 0;
    s = ParseHeaderLength(*request.header_length, &v);
    hlen = v;
  }
  auto parsed = std::make_shared<ParsedInferRequest>();
  static const std::string kEmpty;
  const std::string& body = request.body ? *request.body : kEmpty;
  if (s.ok()) s = ParseInferRequest(body, hlen, m->signature, options_.limits, parsed.get());
  if (!s.ok()) {
    m->stats->RecordFailure(FailReason::kOther, NsSince(arrival));
    reply(ErrorReply(s));
    return;
  }
  ++inflight_;
  auto shared_reply = std::make_shared<std::function<void(HttpReply)>>(std::move(reply));
  InferRequest::Done done = [this, m, parsed, shared_reply, arrival](const Status& status,
                                                                     std::vector<Tensor> outputs) {
    auto outs = std::make_shared<std::vector<Tensor>>(std::move(outputs));
    // Encoding (JSON numbers can be slow) runs on the front end's threads, not the instance's.
    post_([this, m, parsed, shared_reply, arrival, status, outs] {
      HttpReply r;
      Status s = status;
      if (s.ok()) {
        EncodedResponse enc;
        s = EncodeInferResponse(m->name, std::to_string(m->version), *parsed, m->signature, *outs, &enc);
        if (s.ok()) {
          r.body = std::move(enc.body);
          r.header_length = enc.header_length;
          r.content_type = enc.header_length > 0 ? "application/octet-stream" : "application/json";
        }
      }
      if (s.ok()) {
        m->stats->RecordSuccess(NsSince(arrival));
      } else {
        // A request's own bad data (a corrupt JPEG found while batching) is not a backend failure.
        m->stats->RecordFailure(status.ok() || status.code() == StatusCode::kInvalidArgument
                                    ? FailReason::kOther
                                : status.code() == StatusCode::kUnavailable ? FailReason::kRejected
                                                                            : FailReason::kBackend,
                                NsSince(arrival));
        r = ErrorReply(s);
      }
      --inflight_;
      (*shared_reply)(std::move(r));
    });
  };
  if (m->ensemble) {
    m->ensemble->Run(parsed, request.body, std::move(done));
    return;
  }
  auto req = std::make_unique<InferRequest>();
  req->id = parsed->id;
  req->inputs = parsed->inputs;  // shares memory; `parsed` lives until the reply
  req->bytes = parsed->bytes;
  req->rows = parsed->rows;
  req->priority = static_cast<uint32_t>(std::min<int64_t>(parsed->priority, 1 << 30));
  req->timeout_us = parsed->timeout_us;
  req->keep_alive = request.body;
  req->arrival = arrival;
  req->done = std::move(done);
  s = m->batcher->Enqueue(std::move(req));
  if (!s.ok()) {
    --inflight_;
    m->stats->RecordFailure(s.code() == StatusCode::kUnavailable ? FailReason::kRejected : FailReason::kOther,
                            NsSince(arrival));
    (*shared_reply)(ErrorReply(s));
  }
}

}  // namespace optic::server

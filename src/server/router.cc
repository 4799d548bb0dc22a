#include "router.h"

#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "ensemble.h"
#include "gpu_metrics.h"

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

json TensorMetadata(const std::vector<TensorMetadataEntry>& entries) {
  json out = json::array();
  for (const auto& e : entries) {
    out.push_back({{"name", e.name}, {"datatype", e.datatype}, {"shape", e.shape}});
  }
  return out;
}

// True when `parts` has the pattern's shape; captures its {m} and {v} segments.
template <typename Params>
bool MatchPattern(const std::vector<std::string>& pattern, const std::vector<std::string>& parts,
                  Params* params) {
  if (pattern.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (pattern[i] == "{m}") params->model = parts[i];
    else if (pattern[i] == "{v}") params->version = parts[i];
    else if (pattern[i] != parts[i]) return false;
  }
  return true;
}

}  // namespace

HttpReply ErrorReply(const Status& status) {
  return JsonReply(status.HttpStatus(), {{"error", status.message()}});
}

Router::Router(ModelRepository* repository, RouterOptions options, PostFn post)
    : repository_(repository),
      service_(repository, ServiceOptions{options.limits, options.auth_token}),
      post_(std::move(post)) {}

const std::vector<Router::Route>& Router::Routes() {
  // Literal paths come before patterns that could also capture them (/v2/models/stats).
  static const std::vector<Route> routes = [] {
    std::vector<Route> r = {
        {"GET", {"v2", "health", "live"}, &Router::Live},
        {"GET", {"v2", "health", "ready"}, &Router::Ready},
        {"GET", {"v2"}, &Router::ServerMetadata},
        {"GET", {"metrics"}, &Router::Metrics},
        {"GET", {"v2", "models", "stats"}, &Router::AllStats},
        {"POST", {"v2", "repository", "index"}, &Router::RepositoryIndex},
        {"POST", {"v2", "repository", "models", "{m}", "load"}, &Router::RepositoryLoad},
        {"POST", {"v2", "repository", "models", "{m}", "unload"}, &Router::RepositoryUnload},
    };
    // Model endpoints, each with and without the optional /versions/{v} segment.
    const std::vector<std::tuple<const char*, const char*, Handler>> model_routes = {
        {"GET", "", &Router::ModelMetadata},     {"GET", "ready", &Router::ModelReady},
        {"GET", "config", &Router::ModelConfigReply}, {"GET", "stats", &Router::ModelStats},
        {"POST", "infer", &Router::Infer},
    };
    for (const auto& [method, action, handler] : model_routes) {
      for (bool versioned : {false, true}) {
        std::vector<std::string> pattern = {"v2", "models", "{m}"};
        if (versioned) pattern.insert(pattern.end(), {"versions", "{v}"});
        if (*action) pattern.push_back(action);
        r.push_back({method, pattern, handler});
      }
    }
    return r;
  }();
  return routes;
}

void Router::Handle(const HttpRequestView& request, std::function<void(HttpReply)> reply) {
  const auto parts = SplitPath(request.target);
  const bool health = parts.size() == 3 && parts[0] == "v2" && parts[1] == "health";
  if (!health && !service_.Authorized(request.authorization)) {
    reply(JsonReply(401, {{"error", InferenceService::UnauthorizedMessage()}}));
    return;
  }
  // The first route whose method and path match runs; a path that only other methods match is
  // 405, decided here without running anything.
  std::string allowed;
  for (const auto& route : Routes()) {
    PathParams params;
    if (!MatchPattern(route.pattern, parts, &params)) continue;
    if (request.method == route.method) {
      (this->*route.handler)(params, request, std::move(reply));
      return;
    }
    if (allowed.find(route.method) == std::string::npos) {
      allowed += (allowed.empty() ? "" : ", ") + std::string(route.method);
    }
  }
  if (!allowed.empty()) {
    reply(JsonReply(405, {{"error", "method " + request.method + " not allowed on " +
                                        request.target + " (use " + allowed + ")"}}));
    return;
  }
  reply(JsonReply(404, {{"error", "unknown endpoint " + request.target}}));
}

void Router::Live(const PathParams&, const HttpRequestView&, ReplyFn reply) {
  reply(JsonReply(200, json::object()));
}

void Router::Ready(const PathParams&, const HttpRequestView&, ReplyFn reply) {
  reply(ready() ? JsonReply(200, json::object())
                : JsonReply(503, {{"error", service_.NotReadyReason()}}));
}

void Router::ServerMetadata(const PathParams&, const HttpRequestView&, ReplyFn reply) {
  const ServerMetadataInfo info = InferenceService::ServerMetadata();
  reply(JsonReply(200, {{"name", info.name}, {"version", info.version}, {"extensions", info.extensions}}));
}

void Router::Metrics(const PathParams&, const HttpRequestView&, ReplyFn reply) {
  std::map<std::string, std::string> families;
  for (const auto& m : repository_->Loaded()) {
    m->stats->AppendPrometheus(m->name, std::to_string(m->version), &families);
  }
  AppendGpuMetrics(&families);
  reply({200, "text/plain; version=0.0.4; charset=utf-8", PrometheusDocument(families), 0});
}

void Router::AllStats(const PathParams&, const HttpRequestView&, ReplyFn reply) {
  json all = json::array();
  for (const auto& m : repository_->Loaded()) {
    all.push_back(m->stats->ToJson(m->name, std::to_string(m->version)));
  }
  reply(JsonReply(200, {{"model_stats", all}}));
}

void Router::ModelMetadata(const PathParams& p, const HttpRequestView&, ReplyFn reply) {
  ModelMetadataInfo info;
  Status s = service_.ModelMetadata(p.model, p.version, &info);
  if (!s.ok()) return reply(ErrorReply(s));
  reply(JsonReply(200, {{"name", info.name},
                        {"versions", info.versions},
                        {"platform", info.platform},
                        {"inputs", TensorMetadata(info.inputs)},
                        {"outputs", TensorMetadata(info.outputs)}}));
}

void Router::ModelReady(const PathParams& p, const HttpRequestView&, ReplyFn reply) {
  Status s = service_.ModelReady(p.model, p.version);
  reply(s.ok() ? JsonReply(200, json::object()) : JsonReply(400, {{"error", s.message()}}));
}

void Router::ModelConfigReply(const PathParams& p, const HttpRequestView&, ReplyFn reply) {
  std::shared_ptr<ServedModel> m;
  Status s = repository_->Find(p.model, p.version, &m);
  if (!s.ok()) return reply(ErrorReply(s));
  reply({200, "application/json", ModelConfigToJson(m->config), 0});
}

void Router::ModelStats(const PathParams& p, const HttpRequestView&, ReplyFn reply) {
  std::shared_ptr<ServedModel> m;
  Status s = repository_->Find(p.model, p.version, &m);
  if (!s.ok()) return reply(ErrorReply(s));
  reply(JsonReply(200, {{"model_stats", {m->stats->ToJson(m->name, std::to_string(m->version))}}}));
}

void Router::RepositoryIndex(const PathParams&, const HttpRequestView& request, ReplyFn reply) {
  bool ready_only = false;
  if (request.body && !request.body->empty()) {
    json j = json::parse(*request.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return reply(JsonReply(400, {{"error", "request body is not a JSON object"}}));
    }
    if (j.contains("ready") && j["ready"].is_boolean()) ready_only = j["ready"].get<bool>();
  }
  json out = json::array();
  for (const auto& e : service_.Index(ready_only)) {
    json entry = {{"name", e.name}, {"state", e.state}, {"reason", e.reason}};
    if (!e.version.empty()) entry["version"] = e.version;
    out.push_back(entry);
  }
  reply(JsonReply(200, out));
}

void Router::RepositoryLoad(const PathParams& p, const HttpRequestView&, ReplyFn reply) {
  Status s = service_.LoadModel(p.model);
  reply(s.ok() ? JsonReply(200, json::object()) : ErrorReply(s));
}

void Router::RepositoryUnload(const PathParams& p, const HttpRequestView&, ReplyFn reply) {
  Status s = service_.UnloadModel(p.model);
  reply(s.ok() ? JsonReply(200, json::object()) : ErrorReply(s));
}

void Router::Infer(const PathParams& p, const HttpRequestView& request, ReplyFn reply) {
  InferenceRequest typed;
  Status s;
  std::optional<uint64_t> hlen;
  if (request.header_length) {
    uint64_t v = 0;
    s = ParseHeaderLength(*request.header_length, &v);
    hlen = v;
  }
  static const std::string kEmpty;
  const std::string& body = request.body ? *request.body : kEmpty;
  if (s.ok()) s = DecodeInferRequest(body, hlen, &typed);
  if (!s.ok()) {
    // Refused by the service (shutting down, unknown model) before the body's own problems, and
    // counted in the model's statistics like any other malformed request.
    typed = InferenceRequest{};
    typed.inputs_error = s;
  }
  typed.model = p.model;
  typed.version = p.version;
  typed.keep_alive = request.body;
  auto shared_reply = std::make_shared<ReplyFn>(std::move(reply));
  PostFn post = request.post ? request.post : post_;
  service_.Infer(std::move(typed), [post, shared_reply](InferenceResponse response) {
    auto resp = std::make_shared<InferenceResponse>(std::move(response));
    // Encoding (JSON numbers can be slow) runs on the front end's threads, not the instance's.
    post([resp, shared_reply] {
      HttpReply r;
      Status s = resp->status;
      if (s.ok()) {
        EncodedResponse enc;
        s = EncodeInferResponseHeader(*resp, &enc);
        if (s.ok()) {
          r.body = std::move(enc.body);
          r.tail = std::move(enc.tail);
          r.header_length = enc.header_length;
          r.content_type = enc.header_length > 0 ? "application/octet-stream" : "application/json";
        }
      }
      if (!s.ok()) r = ErrorReply(s);
      resp->finish(s);
      (*shared_reply)(std::move(r));
    });
  });
}

}  // namespace optic::server

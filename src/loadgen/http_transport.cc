// KServe v2 over HTTP/1.1 (http_client.h): metadata and statistics as JSON, the request as JSON
// or with Triton's binary tensor extension.
#include <nlohmann/json.hpp>

#include "loadgen/http_client.h"
#include "loadgen/transport.h"

namespace optic::loadgen {
namespace {

using nlohmann::json;

struct Request {
  std::string host, port, target;
  std::string body;
  std::map<std::string, std::string> headers;
};

class HttpConnection : public Connection {
 public:
  explicit HttpConnection(const Request* req) : req_(req), client_(req->host, req->port) {}
  Status Infer() override {
    OPTIC_RETURN_IF_ERROR(client_.Request("POST", req_->target, req_->body, req_->headers, &r_));
    if (r_.status == 200) return Status::OK();
    return Status::Unavailable("HTTP " + std::to_string(r_.status) + " " + r_.body.substr(0, 300));
  }

 private:
  const Request* req_;
  HttpClient client_;
  HttpResult r_;
};

std::vector<TensorMeta> Tensors(const json& list) {
  std::vector<TensorMeta> out;
  for (const auto& t : list) {
    out.push_back({t.value("name", ""), t.value("datatype", ""),
                   t.value("shape", std::vector<int64_t>{})});
  }
  return out;
}

class HttpTransport : public Transport {
 public:
  HttpTransport(const LoadSettings& s, std::string host, std::string port) : s_(s) {
    req_.host = std::move(host);
    req_.port = std::move(port);
    model_path_ = "/v2/models/" + s.model + (s.version.empty() ? "" : "/versions/" + s.version);
    if (!s.auth_token.empty()) headers_["Authorization"] = "Bearer " + s.auth_token;
  }

  Status Metadata(ModelMeta* out) override {
    HttpClient client(req_.host, req_.port);
    HttpResult r;
    OPTIC_RETURN_IF_ERROR(client.Request("GET", model_path_, "", headers_, &r));
    if (r.status != 200) {
      return Status(r.status == 404 ? StatusCode::kNotFound : StatusCode::kUnavailable,
                    "GET " + model_path_ + ": HTTP " + std::to_string(r.status) + " " + r.body);
    }
    const json meta = json::parse(r.body, nullptr, false);
    if (meta.is_discarded() || !meta.is_object() || !meta.contains("inputs") || !meta["inputs"].is_array()) {
      return Status::InvalidArgument("model metadata is not KServe v2: " + r.body.substr(0, 200));
    }
    try {
      out->name = meta.value("name", s_.model);
      out->platform = meta.value("platform", "");
      out->inputs = Tensors(meta["inputs"]);
      out->outputs = Tensors(meta.value("outputs", json::array()));
    } catch (const json::exception& e) {
      return Status::InvalidArgument("model metadata is not KServe v2 (" + std::string(e.what()) +
                                     "): " + r.body.substr(0, 200));
    }
    return Status::OK();
  }

  Status Prepare(const std::vector<RequestInput>& inputs, const ModelMeta& meta) override {
    json ins = json::array();
    std::string raw;
    for (const RequestInput& in : inputs) {
      json entry = {{"name", in.tensor.name}, {"shape", in.tensor.shape}, {"datatype", in.tensor.datatype}};
      if (s_.binary) {
        entry["parameters"] = {{"binary_data_size", in.raw.size()}};
        raw += in.raw;
      } else {
        if (in.tensor.datatype == "BYTES") entry["parameters"] = {{"content_type", "base64"}};
        entry["data"] = in.json_data;
      }
      ins.push_back(std::move(entry));
    }
    json outs = json::array();
    for (const TensorMeta& o : meta.outputs) {
      outs.push_back({{"name", o.name}, {"parameters", {{"binary_data", s_.binary}}}});
    }
    const std::string header = json{{"inputs", ins}, {"outputs", outs}}.dump();
    req_.target = model_path_ + "/infer";
    req_.body = header + raw;
    req_.headers = headers_;
    req_.headers["Content-Type"] = s_.binary ? "application/octet-stream" : "application/json";
    if (s_.binary) req_.headers["Inference-Header-Content-Length"] = std::to_string(header.size());
    return Status::OK();
  }

  std::unique_ptr<Connection> NewConnection() const override {
    return std::make_unique<HttpConnection>(&req_);
  }

  Status Stats(StatsSnapshot* out) const override {
    *out = StatsSnapshot{};
    HttpClient client(req_.host, req_.port);
    HttpResult r;
    OPTIC_RETURN_IF_ERROR(client.Request("GET", model_path_ + "/stats", "", headers_, &r));
    if (r.status != 200) return Status::OK();
    const json j = json::parse(r.body, nullptr, false);
    try {
      const json& st = j.at("model_stats").at(0).at("inference_stats");
      out->success_count = st.at("success").at("count").get<double>();
      out->success_ns = st.at("success").at("ns").get<double>();
      out->queue_ns = st.at("queue").at("ns").get<double>();
      out->compute_input_ns = st.at("compute_input").at("ns").get<double>();
      out->compute_infer_ns = st.at("compute_infer").at("ns").get<double>();
      out->compute_output_ns = st.at("compute_output").at("ns").get<double>();
      out->valid = true;
    } catch (const json::exception&) {
      *out = StatsSnapshot{};
    }
    return Status::OK();
  }

 private:
  LoadSettings s_;
  std::string model_path_;
  std::map<std::string, std::string> headers_;
  Request req_;
};

}  // namespace

Status CreateHttpTransport(const LoadSettings& settings, std::unique_ptr<Transport>* out) {
  std::string host, port;
  OPTIC_RETURN_IF_ERROR(SplitUrl(settings.url, &host, &port));
  *out = std::make_unique<HttpTransport>(settings, std::move(host), std::move(port));
  return Status::OK();
}

}  // namespace optic::loadgen

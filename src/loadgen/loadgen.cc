#include "loadgen.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <thread>

#include "http_client.h"

namespace optic::loadgen {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

size_t DtypeBytes(const std::string& t) {
  if (t == "FP64" || t == "INT64" || t == "UINT64") return 8;
  if (t == "FP32" || t == "INT32" || t == "UINT32") return 4;
  if (t == "FP16" || t == "BF16" || t == "INT16" || t == "UINT16") return 2;
  return 1;
}

std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Per-thread sample buffers merged at the end: no lock on the hot path.
struct Samples {
  std::vector<double> latencies, completed_s;
  int64_t errors = 0, late = 0;
  std::string first_error;
};

void Merge(std::vector<Samples>& per_thread, StageResult* out) {
  for (auto& s : per_thread) {
    out->latencies_ms.insert(out->latencies_ms.end(), s.latencies.begin(), s.latencies.end());
    out->completed_s.insert(out->completed_s.end(), s.completed_s.begin(), s.completed_s.end());
    out->errors += s.errors;
    out->late += s.late;
    if (out->first_error.empty()) out->first_error = s.first_error;
  }
  out->completed = static_cast<int64_t>(out->latencies_ms.size());
}

}  // namespace

Status LoadGenerator::Create(const LoadSettings& settings, std::unique_ptr<LoadGenerator>* out) {
  std::unique_ptr<LoadGenerator> g(new LoadGenerator(settings));
  OPTIC_RETURN_IF_ERROR(SplitUrl(settings.url, &g->host_, &g->port_));
  if (settings.model.empty()) return Status::InvalidArgument("--model is required");
  g->model_path_ = "/v2/models/" + settings.model +
                   (settings.version.empty() ? "" : "/versions/" + settings.version);
  if (!settings.auth_token.empty()) g->headers_["Authorization"] = "Bearer " + settings.auth_token;
  HttpClient client(g->host_, g->port_);
  HttpResult r;
  OPTIC_RETURN_IF_ERROR(client.Request("GET", g->model_path_, "", g->headers_, &r));
  if (r.status != 200) {
    return Status(r.status == 404 ? StatusCode::kNotFound : StatusCode::kUnavailable,
                  "GET " + g->model_path_ + ": HTTP " + std::to_string(r.status) + " " + r.body);
  }
  g->metadata_ = json::parse(r.body, nullptr, false);
  if (g->metadata_.is_discarded() || !g->metadata_.contains("inputs")) {
    return Status::InvalidArgument("model metadata is not KServe v2: " + r.body.substr(0, 200));
  }
  std::mt19937_64 rng(settings.seed);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  json inputs = json::array();
  std::string raw;
  for (const auto& in : g->metadata_["inputs"]) {
    std::vector<int64_t> shape = in["shape"].get<std::vector<int64_t>>();
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] < 0 && i == 0) shape[i] = settings.batch;
      else if (shape[i] < 0) return Status::InvalidArgument("input " + in["name"].get<std::string>() + " has a variable dimension; optic load needs fixed ones");
    }
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const std::string dt = in["datatype"];
    json entry = {{"name", in["name"]}, {"shape", shape}, {"datatype", dt}};
    if (dt == "BYTES") {
      if (settings.bytes_file.empty()) {
        return Status::InvalidArgument("input " + in["name"].get<std::string>() +
                                       " is BYTES: pass --bytes-file (e.g. a JPEG for a JPEG-in model)");
      }
      std::ifstream f(settings.bytes_file, std::ios::binary);
      if (!f) return Status::NotFound("--bytes-file '" + settings.bytes_file + "' cannot be read");
      const std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (settings.binary) {
        const auto len = static_cast<uint32_t>(content.size());
        const char prefix[4] = {char(len & 0xFF), char((len >> 8) & 0xFF), char((len >> 16) & 0xFF),
                                char(len >> 24)};
        const size_t at = raw.size();
        for (int64_t i = 0; i < n; ++i) raw.append(prefix, 4).append(content);
        entry["parameters"] = {{"binary_data_size", raw.size() - at}};
      } else {
        entry["parameters"] = {{"content_type", "base64"}};
        entry["data"] = std::vector<std::string>(static_cast<size_t>(n), Base64(content));
      }
      inputs.push_back(entry);
      continue;
    }
    if (settings.binary) {
      const size_t bytes = static_cast<size_t>(n) * DtypeBytes(dt);
      entry["parameters"] = {{"binary_data_size", bytes}};
      const size_t at = raw.size();
      raw.resize(at + bytes);
      if (dt == "FP32") {
        for (int64_t i = 0; i < n; ++i) {
          const float v = uni(rng);
          std::memcpy(&raw[at + i * 4], &v, 4);
        }
      } else {
        for (size_t i = 0; i < bytes; ++i) raw[at + i] = static_cast<char>(rng() & 0x7f);
      }
    } else {
      std::vector<float> data(static_cast<size_t>(n));
      for (auto& v : data) v = dt == "FP32" ? uni(rng) : static_cast<float>(rng() % 100);
      entry["data"] = data;
    }
    inputs.push_back(entry);
  }
  json outputs = json::array();
  for (const auto& o : g->metadata_["outputs"]) {
    outputs.push_back({{"name", o["name"]}, {"parameters", {{"binary_data", settings.binary}}}});
  }
  const std::string header = json{{"inputs", inputs}, {"outputs", outputs}}.dump();
  g->body_ = header + raw;
  g->headers_["Content-Type"] = settings.binary ? "application/octet-stream" : "application/json";
  if (settings.binary) g->headers_["Inference-Header-Content-Length"] = std::to_string(header.size());
  // One request now: a setup error (bad input, auth) is clearer here than as N errors later.
  OPTIC_RETURN_IF_ERROR(client.Request("POST", g->model_path_ + "/infer", g->body_, g->headers_, &r));
  if (r.status != 200) {
    return Status::InvalidArgument("first inference failed: HTTP " + std::to_string(r.status) + " " +
                                   r.body.substr(0, 300));
  }
  *out = std::move(g);
  return Status::OK();
}

Status LoadGenerator::FetchStats(json* out) const {
  HttpClient client(host_, port_);
  HttpResult r;
  OPTIC_RETURN_IF_ERROR(client.Request("GET", model_path_ + "/stats", "", headers_, &r));
  *out = r.status == 200 ? json::parse(r.body, nullptr, false) : json();
  return Status::OK();
}

void LoadGenerator::Finish(const json& before, StageResult* out) const {
  json after;
  if (!FetchStats(&after).ok()) return;
  auto get = [](const json& j, const char* key, const char* field) -> double {
    try {
      return j.at("model_stats").at(0).at("inference_stats").at(key).at(field).get<double>();
    } catch (...) {
      return -1;
    }
  };
  const double n = get(after, "success", "count") - get(before, "success", "count");
  if (get(after, "success", "count") < 0 || get(before, "success", "count") < 0 || n <= 0) return;
  auto per = [&](const char* key) {
    return (get(after, key, "ns") - get(before, key, "ns")) / n / 1e6;
  };
  out->server.valid = true;
  out->server.request = per("success");
  out->server.queue = per("queue");
  out->server.compute_input = per("compute_input");
  out->server.compute_infer = per("compute_infer");
  out->server.compute_output = per("compute_output");
}

Status LoadGenerator::RunClosedLoop(int concurrency, StageResult* out) {
  *out = StageResult{};
  out->mode = "closed_loop";
  out->concurrency = concurrency;
  std::vector<Samples> per(concurrency);
  std::atomic<int> phase{0};  // 0 warm-up, 1 measure, 2 stop
  std::atomic<Clock::time_point> measure_start{Clock::now()};
  json before;
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(host_, port_);
      HttpResult r;
      while (phase.load() < 2) {
        const int p = phase.load();
        const auto start = Clock::now();
        Status s = client.Request("POST", model_path_ + "/infer", body_, headers_, &r);
        const auto end = Clock::now();
        if (p != 1 || phase.load() != 1) continue;  // only requests wholly inside the window
        if (s.ok() && r.status == 200) {
          per[t].latencies.push_back(Ms(end - start));
          per[t].completed_s.push_back(Ms(end - measure_start.load()) / 1000);
        } else {
          ++per[t].errors;
          if (per[t].first_error.empty()) {
            per[t].first_error = s.ok() ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200) : s.message();
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(settings_.warmup_s));
  (void)FetchStats(&before);
  const auto t0 = Clock::now();
  measure_start = t0;
  phase = 1;
  std::this_thread::sleep_for(std::chrono::duration<double>(settings_.duration_s));
  phase = 2;
  out->elapsed_s = Ms(Clock::now() - t0) / 1000;
  for (auto& th : threads) th.join();
  Merge(per, out);
  Finish(before, out);
  Summarize(out);
  return Status::OK();
}

Status LoadGenerator::RunPoisson(double qps, StageResult* out) {
  if (qps <= 0) return Status::InvalidArgument("rate must be > 0");
  *out = StageResult{};
  out->mode = "poisson";
  out->target_qps = qps;
  out->concurrency = settings_.max_inflight;
  // The whole schedule is drawn up front (seeded): arrivals do not depend on the server.
  std::mt19937_64 rng(settings_.seed);
  std::exponential_distribution<double> gap(qps);
  const double total_s = settings_.warmup_s + settings_.duration_s;
  std::vector<double> at;  // seconds from the start
  for (double t = gap(rng); t < total_s; t += gap(rng)) at.push_back(t);
  std::atomic<size_t> next{0};
  std::vector<Samples> per(settings_.max_inflight);
  json before;
  (void)FetchStats(&before);  // includes warm-up requests: the split is per request either way
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  std::vector<std::thread> threads;
  for (int t = 0; t < settings_.max_inflight; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(host_, port_);
      HttpResult r;
      for (;;) {
        const size_t k = next.fetch_add(1);
        if (k >= at.size()) return;
        const auto scheduled = start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(at[k]));
        std::this_thread::sleep_until(scheduled);
        const bool measured = at[k] >= settings_.warmup_s;
        if (measured && Clock::now() - scheduled > std::chrono::milliseconds(1)) ++per[t].late;
        Status s = client.Request("POST", model_path_ + "/infer", body_, headers_, &r);
        const auto end = Clock::now();
        if (!measured) continue;
        if (s.ok() && r.status == 200) {
          per[t].latencies.push_back(Ms(end - scheduled));
          per[t].completed_s.push_back(Ms(end - start) / 1000 - settings_.warmup_s);
        } else {
          ++per[t].errors;
          if (per[t].first_error.empty()) {
            per[t].first_error = s.ok() ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200) : s.message();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const double end_s = Ms(Clock::now() - start) / 1000;
  out->elapsed_s = std::max(settings_.duration_s, end_s - settings_.warmup_s);
  Merge(per, out);
  Finish(before, out);
  Summarize(out);
  return Status::OK();
}

void Summarize(StageResult* r) {
  const double requests = static_cast<double>(r->latencies_ms.size());
  r->throughput_rps = r->elapsed_s > 0 ? requests / r->elapsed_s : 0;
  r->latency = measure::Summarize(r->latencies_ms);
  r->windows.clear();
  r->stable = false;
  if (r->completed_s.size() != r->latencies_ms.size() || r->elapsed_s <= 0) return;
  const double width = r->elapsed_s / kStageWindows;
  std::vector<std::vector<double>> lat(kStageWindows);
  for (size_t i = 0; i < r->completed_s.size(); ++i) {
    const int w = static_cast<int>(r->completed_s[i] / width);
    lat[std::clamp(w, 0, kStageWindows - 1)].push_back(r->latencies_ms[i]);
  }
  for (auto& l : lat) {
    if (l.size() < 2) continue;  // bench's window_min_queries
    std::sort(l.begin(), l.end());
    r->windows.push_back({static_cast<double>(l.size()) / width, measure::PercentileOfSorted(l, 50)});
  }
  r->stable = bench::IsStable(r->windows);
}

}  // namespace optic::loadgen

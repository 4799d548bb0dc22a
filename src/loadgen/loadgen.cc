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

#include "loadgen/transport.h"

namespace optic::loadgen {
namespace {

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

const char* ProtocolName(Protocol p) { return p == Protocol::kGrpc ? "grpc" : "http"; }

Status ParseProtocol(const std::string& text, Protocol* out) {
  if (text == "http") *out = Protocol::kHttp;
  else if (text == "grpc") *out = Protocol::kGrpc;
  else return Status::InvalidArgument("--protocol must be http or grpc, not '" + text + "'");
  return Status::OK();
}

std::string DefaultUrl(Protocol p) { return p == Protocol::kGrpc ? "127.0.0.1:8001" : "127.0.0.1:8000"; }

LoadGenerator::LoadGenerator(LoadSettings s) : settings_(std::move(s)) {}
LoadGenerator::~LoadGenerator() = default;

namespace {

// Each input of the model filled once: FP32 uniform in [-1, 1), other numbers small random
// values, BYTES the --bytes-file contents per element.
Status BuildInputs(const LoadSettings& settings, const ModelMeta& meta, std::vector<RequestInput>* out) {
  std::mt19937_64 rng(settings.seed);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  std::string content;
  for (const TensorMeta& in : meta.inputs) {
    RequestInput r;
    r.tensor = in;
    std::vector<int64_t>& shape = r.tensor.shape;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] < 0 && i == 0) shape[i] = settings.batch;
      else if (shape[i] < 0) return Status::InvalidArgument("input " + in.name + " has a variable dimension; optic load needs fixed ones");
    }
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const std::string& dt = in.datatype;
    if (dt == "BYTES") {
      if (settings.bytes_file.empty()) {
        return Status::InvalidArgument("input " + in.name +
                                       " is BYTES: pass --bytes-file (e.g. a JPEG for a JPEG-in model)");
      }
      if (content.empty()) {
        std::ifstream f(settings.bytes_file, std::ios::binary);
        if (!f) return Status::NotFound("--bytes-file '" + settings.bytes_file + "' cannot be read");
        content.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
      }
      if (settings.binary) {
        const auto len = static_cast<uint32_t>(content.size());
        const char prefix[4] = {char(len & 0xFF), char((len >> 8) & 0xFF), char((len >> 16) & 0xFF),
                                char(len >> 24)};
        for (int64_t i = 0; i < n; ++i) r.raw.append(prefix, 4).append(content);
      } else {
        r.json_data = std::vector<std::string>(static_cast<size_t>(n), Base64(content));
      }
    } else if (settings.binary) {
      const size_t bytes = static_cast<size_t>(n) * DtypeBytes(dt);
      r.raw.resize(bytes);
      if (dt == "FP32") {
        for (int64_t i = 0; i < n; ++i) {
          const float v = uni(rng);
          std::memcpy(&r.raw[i * 4], &v, 4);
        }
      } else {
        for (size_t i = 0; i < bytes; ++i) r.raw[i] = static_cast<char>(rng() & 0x7f);
      }
    } else {
      std::vector<float> data(static_cast<size_t>(n));
      for (auto& v : data) v = dt == "FP32" ? uni(rng) : static_cast<float>(rng() % 100);
      r.json_data = data;
    }
    out->push_back(std::move(r));
  }
  return Status::OK();
}

}  // namespace

Status LoadGenerator::Create(const LoadSettings& settings, std::unique_ptr<LoadGenerator>* out) {
  if (settings.model.empty()) return Status::InvalidArgument("--model is required");
  if (settings.protocol == Protocol::kGrpc && !settings.binary) {
    return Status::InvalidArgument("--json applies to HTTP only: gRPC sends tensors as raw_input_contents");
  }
  std::unique_ptr<LoadGenerator> g(new LoadGenerator(settings));
  OPTIC_RETURN_IF_ERROR(settings.protocol == Protocol::kGrpc ? CreateGrpcTransport(settings, &g->transport_)
                                                             : CreateHttpTransport(settings, &g->transport_));
  OPTIC_RETURN_IF_ERROR(g->transport_->Metadata(&g->meta_));
  std::vector<RequestInput> inputs;
  OPTIC_RETURN_IF_ERROR(BuildInputs(settings, g->meta_, &inputs));
  OPTIC_RETURN_IF_ERROR(g->transport_->Prepare(inputs, g->meta_));
  Status first = g->transport_->NewConnection()->Infer();
  if (!first.ok()) return Status(first.code(), "first inference failed: " + first.message());
  *out = std::move(g);
  return Status::OK();
}

void LoadGenerator::Finish(const StatsSnapshot& before, StageResult* out) const {
  StatsSnapshot after;
  if (!transport_->Stats(&after).ok() || !after.valid || !before.valid) return;
  const double n = after.success_count - before.success_count;
  if (n <= 0) return;
  auto per = [&](double a, double b) { return (a - b) / n / 1e6; };
  out->server.valid = true;
  out->server.request = per(after.success_ns, before.success_ns);
  out->server.queue = per(after.queue_ns, before.queue_ns);
  out->server.compute_input = per(after.compute_input_ns, before.compute_input_ns);
  out->server.compute_infer = per(after.compute_infer_ns, before.compute_infer_ns);
  out->server.compute_output = per(after.compute_output_ns, before.compute_output_ns);
}

Status LoadGenerator::RunClosedLoop(int concurrency, StageResult* out) {
  *out = StageResult{};
  out->mode = "closed_loop";
  out->concurrency = concurrency;
  std::vector<Samples> per(concurrency);
  std::atomic<int> phase{0};  // 0 warm-up, 1 measure, 2 stop
  std::atomic<Clock::time_point> measure_start{Clock::now()};
  StatsSnapshot before;
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<Connection> conn = transport_->NewConnection();
      while (phase.load() < 2) {
        const int p = phase.load();
        const auto start = Clock::now();
        Status s = conn->Infer();
        const auto end = Clock::now();
        if (p != 1 || phase.load() != 1) continue;  // only requests wholly inside the window
        if (s.ok()) {
          per[t].latencies.push_back(Ms(end - start));
          per[t].completed_s.push_back(Ms(end - measure_start.load()) / 1000);
        } else {
          ++per[t].errors;
          if (per[t].first_error.empty()) per[t].first_error = s.message();
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(settings_.warmup_s));
  (void)transport_->Stats(&before);
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
  StatsSnapshot before;
  (void)transport_->Stats(&before);  // includes warm-up requests: the split is per request either way
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  std::vector<std::thread> threads;
  for (int t = 0; t < settings_.max_inflight; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<Connection> conn = transport_->NewConnection();
      for (;;) {
        const size_t k = next.fetch_add(1);
        if (k >= at.size()) return;
        const auto scheduled = start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(at[k]));
        std::this_thread::sleep_until(scheduled);
        const bool measured = at[k] >= settings_.warmup_s;
        if (measured && Clock::now() - scheduled > std::chrono::milliseconds(1)) ++per[t].late;
        Status s = conn->Infer();
        const auto end = Clock::now();
        if (!measured) continue;
        if (s.ok()) {
          per[t].latencies.push_back(Ms(end - scheduled));
          per[t].completed_s.push_back(Ms(end - start) / 1000 - settings_.warmup_s);
        } else {
          ++per[t].errors;
          if (per[t].first_error.empty()) per[t].first_error = s.message();
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
  r->stable = measure::IsStable(r->windows);
}

}  // namespace optic::loadgen

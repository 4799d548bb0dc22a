// grpc_load: closed-loop load over KServe v2 gRPC (inference.GRPCInferenceService/ModelInfer),
// the gRPC counterpart of `optic load --concurrency` for scripts/gpu/serve_bench.sh.
//
//   grpc_load --url 127.0.0.1:8001 --model resnet50 --concurrency 64 [--batch 1]
//             [--duration-s 5] [--warmup-s 1] [--seed 1] [--bytes-file img.jpg] [--output rows.jsonl]
//
// Same method as optic load: N client threads, each with its own channel (its own HTTP/2
// connection, as optic load gives each client its own keep-alive connection), each sending the
// next request when the answer arrives; inputs are built once from the model's metadata (FP32/FP16
// random in [-1, 1) from --seed, BYTES = the --bytes-file contents per element) and sent as
// raw_input_contents, as tritonclient does. Only requests wholly inside the measured window count.
// Output: a table on stdout and, with --output, one JSON object per stage (kind "load",
// transport "grpc"; not optic's results schema, which optic load writes for HTTP).
// Exit status: 0, 1 when a stage completed nothing, 2 on bad arguments or metadata failure.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpc_service.grpc.pb.h"
#include "measure/stats.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string url = "127.0.0.1:8001", model, version, bytes_file, output;
  std::vector<int> concurrency = {1, 2, 4, 8};
  int batch = 1;
  double duration_s = 5, warmup_s = 1;
  uint64_t seed = 1;
  std::string command;
};

int ElementSize(const std::string& t) {
  if (t == "FP32" || t == "INT32" || t == "UINT32") return 4;
  if (t == "FP16" || t == "BF16" || t == "INT16" || t == "UINT16") return 2;
  if (t == "FP64" || t == "INT64" || t == "UINT64") return 8;
  if (t == "INT8" || t == "UINT8" || t == "BOOL") return 1;
  return 0;
}

uint16_t FloatToHalf(float f) {  // round-to-nearest-even is not needed for load inputs
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int exp = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return static_cast<uint16_t>(sign);
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  return static_cast<uint16_t>(sign | (exp << 10) | ((x >> 13) & 0x3ffu));
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& url, int id) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // no connection shared between clients
  args.SetInt("optic.grpc_load.client", id);
  return grpc::CreateCustomChannel(url, grpc::InsecureChannelCredentials(), args);
}

bool BuildRequest(const Flags& f, inference::ModelInferRequest* req, std::string* error) {
  auto stub = inference::GRPCInferenceService::NewStub(NewChannel(f.url, -1));
  inference::ModelMetadataRequest mreq;
  mreq.set_name(f.model);
  mreq.set_version(f.version);
  inference::ModelMetadataResponse meta;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::Status s = stub->ModelMetadata(&ctx, mreq, &meta);
  if (!s.ok()) {
    *error = "ModelMetadata(" + f.model + ") at " + f.url + ": " + s.error_message();
    return false;
  }
  std::string bytes;
  if (!f.bytes_file.empty()) {
    std::ifstream in(f.bytes_file, std::ios::binary);
    if (!in) {
      *error = "cannot read --bytes-file '" + f.bytes_file + "'";
      return false;
    }
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::mt19937_64 rng(f.seed);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  req->set_model_name(f.model);
  req->set_model_version(f.version);
  for (const auto& t : meta.inputs()) {
    auto* in = req->add_inputs();
    in->set_name(t.name());
    in->set_datatype(t.datatype());
    int64_t elements = 1;
    for (int d = 0; d < t.shape_size(); ++d) {
      int64_t n = t.shape(d);
      if (n < 0 && d == 0) n = f.batch;
      if (n < 0) {
        *error = "input '" + t.name() + "' has a variable non-batch dimension";
        return false;
      }
      in->add_shape(n);
      elements *= n;
    }
    std::string raw;
    if (t.datatype() == "BYTES") {
      if (bytes.empty()) {
        *error = "input '" + t.name() + "' is BYTES: pass --bytes-file";
        return false;
      }
      const uint32_t len = static_cast<uint32_t>(bytes.size());
      for (int64_t i = 0; i < elements; ++i) {
        raw.append(reinterpret_cast<const char*>(&len), 4);  // little-endian hosts only
        raw += bytes;
      }
    } else if (t.datatype() == "FP32" || t.datatype() == "FP16") {
      const bool half = t.datatype() == "FP16";
      raw.resize(static_cast<size_t>(elements) * (half ? 2 : 4));
      for (int64_t i = 0; i < elements; ++i) {
        const float v = uni(rng);
        if (half) {
          const uint16_t h = FloatToHalf(v);
          std::memcpy(&raw[i * 2], &h, 2);
        } else {
          std::memcpy(&raw[i * 4], &v, 4);
        }
      }
    } else if (ElementSize(t.datatype()) > 0) {
      raw.assign(static_cast<size_t>(elements) * ElementSize(t.datatype()), '\0');
    } else {
      *error = "input '" + t.name() + "' has unsupported datatype " + t.datatype();
      return false;
    }
    req->add_raw_input_contents(std::move(raw));
  }
  return true;
}

struct Stage {
  int concurrency = 0;
  int64_t completed = 0, errors = 0;
  std::string first_error;
  double measured_s = 0;
  std::vector<double> latencies_ms;
  optic::measure::Summary latency;  // of latencies_ms, with optic's one percentile definition
};

Stage RunClosedLoop(const Flags& f, const inference::ModelInferRequest& req, int concurrency) {
  Stage st;
  st.concurrency = concurrency;
  std::mutex mu;
  std::atomic<bool> stop{false};
  const auto start = Clock::now();
  const auto window_begin = start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(f.warmup_s));
  const auto window_end = window_begin + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(f.duration_s));
  std::vector<std::thread> clients;
  for (int c = 0; c < concurrency; ++c) {
    clients.emplace_back([&, c] {
      auto stub = inference::GRPCInferenceService::NewStub(NewChannel(f.url, c));
      std::vector<double> mine;
      int64_t errors = 0;
      std::string first_error;
      inference::ModelInferResponse resp;
      while (!stop.load(std::memory_order_relaxed)) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        const auto t0 = Clock::now();
        const grpc::Status s = stub->ModelInfer(&ctx, req, &resp);
        const auto t1 = Clock::now();
        if (t1 >= window_end) stop = true;
        if (t0 < window_begin || t1 > window_end) continue;
        if (s.ok()) {
          mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else {
          if (errors++ == 0) first_error = std::to_string(s.error_code()) + " " + s.error_message();
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      st.latencies_ms.insert(st.latencies_ms.end(), mine.begin(), mine.end());
      st.errors += errors;
      if (st.first_error.empty()) st.first_error = first_error;
    });
  }
  for (auto& t : clients) t.join();
  st.completed = static_cast<int64_t>(st.latencies_ms.size());
  st.measured_s = f.duration_s;
  st.latency = optic::measure::Summarize(st.latencies_ms);
  return st;
}

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) { o += ' '; continue; }
    o += c;
  }
  return o;
}

// A JSON number, or null for a stage that measured nothing (NaN).
std::string Number(double v) {
  if (std::isnan(v)) return "null";
  std::ostringstream o;
  o << v;
  return o.str();
}

std::string Row(const Flags& f, const Stage& st) {
  const optic::measure::Summary& l = st.latency;
  const double rps = st.completed / st.measured_s;
  char utc[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::ostringstream o;
  o << "{\"kind\":\"load\",\"transport\":\"grpc\",\"scenario\":\"closed_loop\",\"utc\":\"" << utc
    << "\",\"url\":\"" << JsonEscape(f.url) << "\",\"model\":\"" << JsonEscape(f.model)
    << "\",\"batch\":" << f.batch << ",\"concurrency\":" << st.concurrency
    << ",\"duration_s\":" << f.duration_s << ",\"warmup_s\":" << f.warmup_s
    << ",\"completed\":" << st.completed << ",\"errors\":" << st.errors
    << ",\"first_error\":\"" << JsonEscape(st.first_error) << "\",\"throughput_rps\":" << rps
    << ",\"throughput_ips\":" << rps * f.batch << ",\"latency_ms\":{\"p50\":" << Number(l.p50)
    << ",\"p90\":" << Number(l.p90) << ",\"p95\":" << Number(l.p95) << ",\"p99\":" << Number(l.p99)
    << ",\"p999\":" << Number(l.p999) << ",\"mean\":" << Number(l.mean)
    << "},\"latency_percentiles_valid\":{\"p90\":" << (l.p90_valid ? "true" : "false")
    << ",\"p99\":" << (l.p99_valid ? "true" : "false")
    << ",\"p999\":" << (l.p999_valid ? "true" : "false") << "},\"command\":\"" << JsonEscape(f.command) << "\"}";
  return o.str();
}

bool ParseArgs(int argc, char** argv, Flags* f, std::string* error) {
  for (int i = 0; i < argc; ++i) f->command += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) { *error = a + " needs a value"; return false; }
    const std::string v = argv[++i];
    try {
      if (a == "--url") f->url = v;
      else if (a == "--model") f->model = v;
      else if (a == "--model-version") f->version = v;
      else if (a == "--batch") f->batch = std::stoi(v);
      else if (a == "--duration-s") f->duration_s = std::stod(v);
      else if (a == "--warmup-s") f->warmup_s = std::stod(v);
      else if (a == "--seed") f->seed = std::stoull(v);
      else if (a == "--bytes-file") f->bytes_file = v;
      else if (a == "--output") f->output = v;
      else if (a == "--concurrency") {
        f->concurrency.clear();
        std::stringstream ss(v);
        for (std::string c; std::getline(ss, c, ',');) f->concurrency.push_back(std::stoi(c));
      } else { *error = "unknown flag " + a; return false; }
    } catch (const std::exception&) {
      *error = "bad value '" + v + "' for " + a;
      return false;
    }
  }
  if (f->model.empty()) { *error = "--model is required"; return false; }
  if (f->batch < 1 || f->duration_s <= 0 || f->warmup_s < 0) { *error = "bad --batch/--duration-s/--warmup-s"; return false; }
  for (int c : f->concurrency) {
    if (c < 1 || c > 4096) { *error = "concurrency must be in 1..4096"; return false; }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  std::string error;
  if (!ParseArgs(argc, argv, &f, &error)) {
    std::cerr << "grpc_load: " << error << "\n";
    return 2;
  }
  inference::ModelInferRequest req;
  if (!BuildRequest(f, &req, &error)) {
    std::cerr << "grpc_load: " << error << "\n";
    return 2;
  }
  std::ofstream out;
  if (!f.output.empty()) {
    out.open(f.output, std::ios::app);
    if (!out) {
      std::cerr << "grpc_load: cannot append to '" << f.output << "'\n";
      return 2;
    }
  }
  std::printf("grpc_load: %s at %s (gRPC), batch %d, %.1f s per stage (+%.1f s warm-up)\n",
              f.model.c_str(), f.url.c_str(), f.batch, f.duration_s, f.warmup_s);
  std::printf("%-10s %9s %8s %8s %8s %8s %8s %8s\n", "stage", "req/s", "p50_ms", "p90_ms",
              "p99_ms", "p999_ms", "mean_ms", "errors");
  int failures = 0;
  for (int c : f.concurrency) {
    const Stage st = RunClosedLoop(f, req, c);
    const optic::measure::Summary& l = st.latency;
    std::printf("conc %-5d %9.1f %8.3f %8.3f %8.3f %8.3f %8.3f %8lld\n", c,
                st.completed / st.measured_s, l.p50, l.p90, l.p99, l.p999, l.mean,
                static_cast<long long>(st.errors));
    if (st.errors > 0) std::printf("  first error: %s\n", st.first_error.c_str());
    std::fflush(stdout);
    if (st.completed == 0) ++failures;
    if (out) out << Row(f, st) << "\n" << std::flush;
  }
  return failures ? 1 : 0;
}

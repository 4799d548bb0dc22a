// optic load: a load generator for any KServe v2 server (optic serve, Triton), over HTTP or gRPC
// (transport.h). Closed loop
// (N clients, each sending its next request when the previous answer arrives) and open loop
// (Poisson arrivals at a target rate, latency measured from each request's *scheduled* send time
// so a slow server cannot hide queueing behind a slowed-down generator; sends more than 1 ms late
// are counted). The server's own statistics (.../stats) before and after each stage split the
// latency into client/network and server queue/compute time.
//
// Threading: Run* start their own client threads and return when the stage ends.
// Failure: setup problems (server unreachable, unknown model) are a Status; request errors during
// a stage are counted in StageResult::errors (with the first message), not fatal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "measure/stats.h"
#include "measure/steady.h"
#include "optic/status.h"
#include "results/row.h"

namespace optic::loadgen {

enum class Protocol { kHttp, kGrpc };
const char* ProtocolName(Protocol p);                  // "http" | "grpc"
Status ParseProtocol(const std::string& text, Protocol* out);  // http|grpc
// KServe's ports: 8000 for HTTP, 8001 for gRPC, on the loopback.
std::string DefaultUrl(Protocol p);

struct LoadSettings {
  Protocol protocol = Protocol::kHttp;
  std::string url = "127.0.0.1:8000";  // host:port of the server's endpoint for `protocol`
  std::string model, version;
  int batch = 1;
  bool binary = true;  // HTTP: Triton's binary tensor extension (else JSON data); gRPC: always
  double duration_s = 5, warmup_s = 1;
  int max_inflight = 64;  // open loop: client threads (requests in flight at most)
  uint64_t seed = 1;
  std::string auth_token;
  std::string device_label = "cpu";  // what the server runs on, for the results rows
  // Contents of every element of a BYTES input (e.g. one JPEG, for JPEG-in models); binary:
  // length-prefixed elements, JSON: base64 strings with content_type "base64".
  std::string bytes_file;
};

struct TensorMeta {
  std::string name, datatype;  // datatype as KServe names it: FP32, INT64, BYTES, ...
  std::vector<int64_t> shape;  // -1: variable
};
// The model metadata both protocols return (GET /v2/models/<m>, ModelMetadata).
struct ModelMeta {
  std::string name, platform;
  std::vector<TensorMeta> inputs, outputs;
};

class Transport;
struct StatsSnapshot;

struct ServerSplit {  // per request, from the server's statistics delta; ms
  bool valid = false;
  double request = 0, queue = 0, compute_input = 0, compute_infer = 0, compute_output = 0;
};

struct StageResult {
  std::string mode;  // "closed_loop" | "poisson"
  int concurrency = 0;
  double target_qps = 0;
  int64_t completed = 0, errors = 0, late = 0;
  std::string first_error;
  double elapsed_s = 0;
  std::vector<double> latencies_ms;  // successful requests
  // When each of latencies_ms's requests completed, in seconds from the start of the measured
  // stage (same order); empty: no windows, never stable.
  std::vector<double> completed_s;
  ServerSplit server;
  // Derived by Summarize: requests per second, and latencies_ms summarized (ms); the stage cut
  // into kStageWindows equal windows (those with at least 2 requests) and the stability rule
  // over them (measure::IsStable: the last 3 within 10% on throughput and p50 latency).
  double throughput_rps = 0;
  measure::Summary latency;
  std::vector<measure::Window> windows;
  bool stable = false;
};

// A stage runs for a fixed duration, so it is judged as a bench cell is at its minimum duration:
// three windows of a third each.
inline constexpr int kStageWindows = 3;

// Reads model metadata, builds the request once (random inputs from `seed`) and sends it once,
// so that a setup problem (no server at the address, unknown model, bad input, auth) is a
// Status here rather than N request errors later.
class LoadGenerator {
 public:
  static Status Create(const LoadSettings& settings, std::unique_ptr<LoadGenerator>* out);
  ~LoadGenerator();
  Status RunClosedLoop(int concurrency, StageResult* out);
  Status RunPoisson(double qps, StageResult* out);
  const ModelMeta& metadata() const { return meta_; }
  const LoadSettings& settings() const { return settings_; }

 private:
  explicit LoadGenerator(LoadSettings s);
  void Finish(const StatsSnapshot& before, StageResult* out) const;
  LoadSettings settings_;
  std::unique_ptr<Transport> transport_;
  ModelMeta meta_;
};

void Summarize(StageResult* r);

// The result row (results/row.h, kind "load") of one stage.
results::Row LoadRow(const LoadGenerator& gen, const StageResult& r, const std::string& run_id,
                       const std::string& command);

}  // namespace optic::loadgen

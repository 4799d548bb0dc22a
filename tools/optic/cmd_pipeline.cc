// optic pipeline [--transport fused,redis] [--objects 1,2,5,9,16,25]: a detector, crops of its
// boxes, an embedding model on every crop, through one transport after another; prints and
// writes (--output) one row per transport and objects-per-frame (docs/pipeline.md).
// optic pipeline worker --broker redis://host:port: a stage-2 worker on Redis Streams.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "host/manifest.h"
#include "optic/device.h"
#include "results/row.h"
#include "commands.h"
#include "optic/parse_number.h"
#include "optic/registry.h"
#include "pipeline/kafka.h"
#include "pipeline/redis_client.h"
#include "pipeline/rows.h"
#include "pipeline/runner.h"
#include "pipeline/worker.h"
#include "pipeline/workers.h"

namespace optic::cli {
namespace {

using namespace optic::pipeline;

struct Flags {
  std::string transports = "fused", objects = "1,2,5,9,16,25", boxes = "synthetic";
  std::string broker = "redis://127.0.0.1:6379", stream = "optic:pipeline";
  std::string kafka = "kafka://127.0.0.1:9092", topic = "optic.pipeline";
  std::string backend = "onnxruntime", device = "cpu";
  std::string detector = "models/face_detector/model.onnx", embedder = "models/face_embedder/model.onnx";
  std::string output;
  int workers = 1, threads = 1, max_batch = 32;
  float score_threshold = 0.5f;
  CellSettings cell;
};

struct WorkerFlags {
  WorkerSettings s;
  std::string topic = "optic.pipeline";
  int session_timeout_ms = 6000;
  int threads = 1;
  std::string device = "cpu";
};

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

// Both models' load options: --threads on --device, checked against the backend now.
Status Options(const std::string& backend, const std::string& device, int threads, LoadOptions* o) {
  std::unique_ptr<Backend> b;
  OPTIC_RETURN_IF_ERROR(CreateBackend(backend, &b));
  OPTIC_RETURN_IF_ERROR(ParseDevice(device, &o->device).Prefixed("--device"));
  o->threads = threads;
  return ValidateLoadOptions(*b, *o).Prefixed("--device " + device);
}

int Fail(const Status& s) {
  std::cerr << "optic pipeline: " << s.ToString() << "\n";
  return 2;
}

int RunWorkerCommand(const WorkerFlags& f) {
  WorkerSettings s = f.s;
  Status st = Options(s.backend, f.device, f.threads, &s.load);
  if (!st.ok()) return Fail(st);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  WorkerStats stats;
  if (s.broker.rfind("kafka://", 0) == 0) {
    KafkaWorkerSettings k;
    k.broker = s.broker;
    k.names.prefix = f.topic;
    k.consumer = s.consumer.empty() ? "worker-" + std::to_string(getpid()) : s.consumer;
    k.backend = s.backend;
    k.embedder_file = s.embedder_file;
    k.load = s.load;
    k.max_batch = s.max_batch;
    k.session_timeout_ms = f.session_timeout_ms;
    k.exit_idle_s = s.exit_idle_s;
    s.consumer = k.consumer;
    st = RunKafkaWorker(k, &g_stop, &stats);
  } else {
    st = RunWorker(s, &g_stop, &stats);
  }
  std::fprintf(stderr, "optic pipeline worker %s: %lld crops in %lld batches, %lld claimed, %lld dead-lettered\n",
               s.consumer.c_str(), static_cast<long long>(stats.crops), static_cast<long long>(stats.batches),
               static_cast<long long>(stats.claimed), static_cast<long long>(stats.dead_letters));
  if (!st.ok()) {
    std::cerr << "optic pipeline worker: " << st.ToString() << "\n";
    return 1;
  }
  return 0;
}

// Everything checked before a model loads or a broker is reached.
Status Check(const Flags& f, std::vector<std::string>* transports, std::vector<int>* objects) {
  *transports = SplitList(f.transports);
  if (transports->empty()) return Status::InvalidArgument("--transport: empty (expected fused, redis, kafka)");
  for (const std::string& t : *transports) {
    if (t != "fused" && t != "redis" && t != "kafka") {
      return Status::InvalidArgument("--transport '" + t + "': unknown (expected fused, redis or kafka)");
    }
    if (t == "kafka") {
      std::string bootstrap;
      OPTIC_RETURN_IF_ERROR(ParseKafkaUrl(f.kafka, &bootstrap));
    }
    if (t == "redis") {
      std::string host;
      int port = 0;
      OPTIC_RETURN_IF_ERROR(ParseRedisUrl(f.broker, &host, &port));
    }
  }
  if (f.boxes != "synthetic" && f.boxes != "detector") {
    return Status::InvalidArgument("--boxes '" + f.boxes + "': expected synthetic or detector");
  }
  if (f.boxes == "detector") {
    objects->assign(1, 0);
    return Status::OK();
  }
  return ParseIntegerList(f.objects, "--objects", 0, 4096, objects);
}

int Run(const Flags& f, const std::string& command) {
  std::vector<std::string> transports;
  std::vector<int> objects;
  Status s = Check(f, &transports, &objects);
  if (!s.ok()) return Fail(s);
  LoadOptions load;
  s = Options(f.backend, f.device, f.threads, &load);
  if (!s.ok()) return Fail(s);
  DetectorSettings ds;
  ds.score_threshold = f.score_threshold;
  ds.max_objects = 25;
  std::unique_ptr<Detector> detector;
  s = Detector::Create(f.backend, f.detector, load, ds, &detector);
  if (!s.ok()) return Fail(s.Prefixed("--detector (export it with: build/optic models export --models pipeline)"));
  results::ResultsWriter writer;
  if (!f.output.empty() && !(s = writer.Open(f.output)).ok()) return Fail(s);
  RowContext ctx;
  ctx.run_id = host::NewRunId();
  ctx.command = command;
  ctx.backend = f.backend;
  ctx.device = DeviceName(load.device);
  ctx.max_batch = f.max_batch;
  ctx.threads = f.threads;
  std::printf("optic pipeline: %s -> %s on %s (%s), %d thread(s) per model, stage-2 batches <= %d, %d frames in "
              "flight under load\n", f.detector.c_str(), f.embedder.c_str(), f.backend.c_str(), ctx.device.c_str(), f.threads,
              f.max_batch, f.cell.inflight);
  std::printf("%-6s %4s %8s %8s | %8s %8s | %7s %7s %7s %7s %6s | %5s\n", "trans", "obj", "frames/s", "objs/s",
              "p50_ms", "mean_ms", "stage1", "broker", "stage2", "gather", "brk%", "batch");
  int failures = 0;
  for (const std::string& t : transports) {
    std::unique_ptr<Transport> transport;
    WorkerProcesses workers;
    ctx.transport = t;
    ctx.broker = t == "redis" ? f.broker : t == "kafka" ? f.kafka : "";
    ctx.workers = t == "fused" ? 1 : f.workers;
    std::unique_ptr<Embedder> embedder;
    int crop = 0;
    s = Embedder::Create(f.backend, f.embedder, load, &embedder);
    if (!s.ok()) return Fail(s.Prefixed("--embedder (export it with: build/optic models export --models pipeline)"));
    crop = embedder->size();
    if (t == "fused") {
      FusedSettings fs;
      fs.max_batch = f.max_batch;
      s = CreateFusedTransport(std::move(embedder), fs, &transport);
    } else if (t == "kafka") {
      embedder.reset();
      TopicNames names;
      names.prefix = f.topic;
      s = CreateKafkaTransport(f.kafka, names, ctx.run_id, &transport);
      if (s.ok() && f.workers > 0) {
        s = workers.Start(SelfExe(), {"--broker", f.kafka, "--topic", f.topic, "--backend", f.backend,
                                      "--embedder", f.embedder, "--threads", std::to_string(f.threads),
                                      "--device", f.device, "--max-batch", std::to_string(f.max_batch)},
                          f.workers, "optic-" + ctx.run_id.substr(ctx.run_id.size() - 8));
      }
    } else {
      embedder.reset();
      StreamNames names;
      names.prefix = f.stream;
      s = CreateRedisTransport(f.broker, names, ctx.run_id, &transport);
      if (s.ok() && f.workers > 0) {
        s = workers.Start(SelfExe(), {"--broker", f.broker, "--stream", f.stream, "--backend", f.backend,
                                      "--embedder", f.embedder, "--threads", std::to_string(f.threads),
                                      "--device", f.device, "--max-batch", std::to_string(f.max_batch)},
                          f.workers, "optic-" + ctx.run_id.substr(ctx.run_id.size() - 8));
      }
    }
    if (!s.ok()) return Fail(s);
    for (int n : objects) {
      ctx.cell = f.cell;
      ctx.cell.objects = n;
      ctx.cell.boxes = f.boxes == "detector" ? BoxSource::kDetector : BoxSource::kSynthetic;
      CellResult r;
      s = RunCell(ctx.cell, detector.get(), crop, transport.get(), &r);
      const results::Row row = PipelineRow(ctx, r, s.ok() ? "" : s.message());
      if (!s.ok()) {
        ++failures;
        std::printf("%-6s %4d failed: %s\n", t.c_str(), n, s.message().c_str());
      } else {
        const nlohmann::json j = results::ToJson(row);
        const auto& st = j["stages_ms"];
        const auto& p = j["pipeline"];
        auto num = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : 0.0; };
        std::printf("%-6s %4d %8.1f %8.1f | %8.3f %8.3f | %7.3f %7.3f %7.3f %7.3f %5.1f%% | %5.1f\n", t.c_str(),
                    p["objects_per_frame"].get<int>(), num(j["throughput_per_s"]), num(p["objects_per_s"]),
                    num(j["latency_ms"]["p50"]), num(j["latency_ms"]["mean"]), num(st["stage1"]),
                    num(st["broker"]), num(st["stage2"]), num(st["gather"]), 100 * num(p["broker_share"]),
                    num(p["stage2_batch_mean"]["loaded"]));
        if (r.duplicates > 0) std::printf("  %lld redelivered result(s) dropped by key\n", static_cast<long long>(r.duplicates));
        if (r.resent > 0) std::printf("  %lld overdue crop(s) sent again\n", static_cast<long long>(r.resent));
      }
      std::fflush(stdout);
      if (!f.output.empty()) {
        Status w = writer.Append(row);
        if (!w.ok()) std::cerr << "optic pipeline: " << w.ToString() << "\n";
      }
      if (!s.ok()) break;  // the transport may be broken; the next transport starts afresh
    }
  }
  return failures ? 1 : 0;
}

void AddPipelineCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("pipeline", "Detector -> crops -> embedding model per object, fused or through "
                                             "Redis Streams or Kafka; throughput and latency split per objects-per-frame");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--transport", f->transports, "comma-separated: fused (one process), redis (Redis Streams), kafka");
  cmd->add_option("--objects", f->objects, "objects per frame, comma-separated (synthetic boxes; default 1,2,5,9,16,25)");
  cmd->add_option("--boxes", f->boxes, "synthetic (exactly --objects per frame) or detector (its decoded boxes)");
  cmd->add_option("--score-threshold", f->score_threshold, "--boxes detector: objectness threshold")->check(RealCheck(0, false, 1));
  cmd->add_option("--broker", f->broker, "Redis broker, redis://host:port (scripts/brokers/redis.sh start)");
  cmd->add_option("--stream", f->stream, "redis: stream key prefix on the broker");
  cmd->add_option("--kafka", f->kafka, "Kafka broker, kafka://host:port (scripts/brokers/kafka.sh start)");
  cmd->add_option("--topic", f->topic, "kafka: topic name prefix");
  cmd->add_option("--workers", f->workers, "redis, kafka: stage-2 worker processes to start here (0: use running ones)")->check(IntegerCheck(0, 256));
  cmd->add_option("--backend", f->backend, "backend for both models");
  cmd->add_option("--device", f->device, "device for both models: cpu, cuda, cuda:K (stage-2 workers started here too)");
  cmd->add_option("--detector", f->detector, "stage-1 model file");
  cmd->add_option("--embedder", f->embedder, "stage-2 model file");
  cmd->add_option("--threads", f->threads, "intra-op threads per model")->check(IntegerCheck(1, 1024));
  cmd->add_option("--max-batch", f->max_batch, "largest stage-2 batch (crops of several frames together)")->check(IntegerCheck(1, 4096));
  cmd->add_option("--inflight", f->cell.inflight, "frames in flight in the loaded phase")->check(IntegerCheck(1, 4096));
  cmd->add_option("--latency-frames", f->cell.latency_frames, "frames timed at zero load (one in flight)")->check(IntegerCheck(1, 1000000));
  cmd->add_option("--duration-s", f->cell.duration_s, "seconds of the loaded phase (0: none)")->check(RealCheck(0, false));
  cmd->add_option("--warmup-frames", f->cell.warmup_frames, "untimed frames first")->check(IntegerCheck(0, 1000000));
  cmd->add_option("--timeout-s", f->cell.timeout_s, "fail when no result arrives for this long")->check(RealCheck(0, true));
  cmd->add_option("--resend-s", f->cell.resend_s, "redis: no result for this long after a reconnect to the broker sends open frames' missing crops again (0: never)")->check(RealCheck(0, false));
  cmd->add_option("--seed", f->cell.seed, "frames and synthetic boxes");
  cmd->add_option("--output", f->output, "append results rows (.jsonl) for optic report");

  auto* wcmd = cmd->add_subcommand("worker", "A stage-2 worker on Redis Streams (consumer group, XAUTOCLAIM of a "
                                             "dead worker's crops, bad messages to <stream>:dead) or Kafka");
  auto w = std::make_shared<WorkerFlags>();
  wcmd->add_option("--broker", w->s.broker, "redis://host:port (Redis Streams) or kafka://host:port");
  wcmd->add_option("--stream", w->s.names.prefix, "redis: stream key prefix on the broker");
  wcmd->add_option("--topic", w->topic, "kafka: topic name prefix");
  wcmd->add_option("--session-timeout-ms", w->session_timeout_ms, "kafka: the group hands a silent worker's partitions on after this long")->check(IntegerCheck(100, 3600000));
  wcmd->add_option("--consumer", w->s.consumer, "consumer name in the group (default worker-<pid>)");
  wcmd->add_option("--backend", w->s.backend, "backend for the embedder");
  wcmd->add_option("--device", w->device, "device for the embedder: cpu, cuda, cuda:K");
  wcmd->add_option("--embedder", w->s.embedder_file, "stage-2 model file");
  wcmd->add_option("--threads", w->threads, "intra-op threads")->check(IntegerCheck(1, 1024));
  wcmd->add_option("--max-batch", w->s.max_batch, "largest batch of crops")->check(IntegerCheck(1, 4096));
  wcmd->add_option("--claim-idle-ms", w->s.claim_idle_ms, "take over crops pending this long on another consumer")->check(IntegerCheck(1, 86400000));
  wcmd->add_option("--exit-idle-s", w->s.exit_idle_s, "exit after this long without crops (0: run until SIGTERM)")->check(RealCheck(0, false));
  wcmd->callback([&ctx, w] { ctx.exit_code = RunWorkerCommand(*w); });

  cmd->callback([&ctx, f, cmd] {
    if (cmd->got_subcommand("worker")) return;
    const std::string command = "optic pipeline --transport " + f->transports + " --objects " + f->objects +
                                " --boxes " + f->boxes + " --backend " + f->backend + " --device " + f->device + " --threads " +
                                std::to_string(f->threads) + " --max-batch " + std::to_string(f->max_batch) +
                                " --inflight " + std::to_string(f->cell.inflight) + " --latency-frames " +
                                std::to_string(f->cell.latency_frames) + " --duration-s " +
                                std::to_string(f->cell.duration_s) + " --workers " + std::to_string(f->workers) +
                                " --broker " + f->broker + " --kafka " + f->kafka + " --seed " + std::to_string(f->cell.seed);
    ctx.exit_code = Run(*f, command);
  });
}

const CommandRegistrar kRegistrar("pipeline", AddPipelineCommand);

}  // namespace
}  // namespace optic::cli

// optic bench's server scenario and optic serve batch the same arrival process the same way:
// bursts of one-row queries, spaced well beyond the queue delay, through RunServerArrivals (the
// bench) and through a DynamicBatcher built from a model config with the server's
// BatcherOptionsFromConfig and its ModelStats as the observer (the server). Both must report the
// batch-size distribution the bursts imply. Short real timings (a 2 ms model, 20 ms queue delay,
// 80 ms between bursts), no assertion on speed.
#include <gtest/gtest.h>

#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "bench/pool.h"
#include "bench/scenarios.h"
#include "optic/registry.h"
#include "server/batcher.h"
#include "server/model_repository.h"

namespace optic {
namespace {

using Clock = std::chrono::steady_clock;

const std::vector<int> kBursts = {3, 1, 4, 2, 4, 1};
constexpr double kGapS = 0.08;
constexpr int kMaxBatch = 4;

// The offsets of every query: a burst's queries share its time.
std::vector<double> Offsets() {
  std::vector<double> out;
  for (size_t b = 0; b < kBursts.size(); ++b) {
    for (int k = 0; k < kBursts[b]; ++k) out.push_back(0.01 + kGapS * b);
  }
  return out;
}

std::map<int64_t, int64_t> Expected() {
  std::map<int64_t, int64_t> h;
  for (int n : kBursts) ++h[n];
  return h;
}

std::unique_ptr<Model> NullModel() {
  const auto file = std::filesystem::temp_directory_path() / "optic_bench_batching_test.null";
  std::ofstream(file) << "";
  LoadOptions o;
  o.backend_options = {{"shape", "4"}, {"delay_us", "2000"}};
  std::unique_ptr<Model> m;
  EXPECT_TRUE(LoadModel("null", file.string(), o, &m).ok());
  return m;
}

TEST(BenchAndServerBatching, SameArrivalsGiveTheSameBatchSizes) {
  const std::vector<double> offsets = Offsets();
  // The bench: the server scenario's steady state over these arrivals.
  std::map<int64_t, int64_t> bench_hist;
  {
    std::unique_ptr<Model> model = NullModel();
    ASSERT_TRUE(model);
    bench::MeasureSettings s;
    s.min_duration_s = 30;  // only the end of the arrivals ends it
    s.max_duration_s = 30;
    s.max_queue_delay_ms = 20;
    s.pool_bytes = 1024;
    s.pool_min_batches = 2;
    bench::InputPool pool;
    ASSERT_TRUE(bench::InputPool::Make(model->inputs(), kMaxBatch, s, &pool).ok());
    bench::ArrivalFn arrivals = [&](int64_t i, double* at) {
      if (i >= static_cast<int64_t>(offsets.size())) return false;
      *at = offsets[static_cast<size_t>(i)];
      return true;
    };
    bench::SteadyResult r;
    Status st = bench::RunServerArrivals(model.get(), pool, kMaxBatch, true, arrivals, s, &r);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(r.samples, static_cast<int64_t>(offsets.size()));
    EXPECT_EQ(r.latencies_ms.size(), offsets.size());
    for (const auto& [size, count] : r.server["batch_histogram"].items()) {
      bench_hist[std::stoll(size)] = count.get<int64_t>();
    }
  }
  // The server: the batcher optic serve builds from this config, ModelStats observing.
  std::map<int64_t, int64_t> server_hist;
  {
    inference::ModelConfig config;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        "max_batch_size: 4 dynamic_batching { max_queue_delay_microseconds: 20000 }", &config));
    server::BatcherOptions options;
    ASSERT_TRUE(server::BatcherOptionsFromConfig(config, &options).ok());
    auto stats = std::make_shared<server::ModelStats>();
    std::vector<std::unique_ptr<Model>> instances;
    instances.push_back(NullModel());
    std::unique_ptr<server::DynamicBatcher> batcher;
    ASSERT_TRUE(server::DynamicBatcher::Create(options, std::move(instances), stats, &batcher).ok());
    std::vector<std::future<Status>> done;
    const auto start = Clock::now();
    for (double at : offsets) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(at)));
      auto req = std::make_unique<server::InferRequest>();
      req->inputs = {Tensor::EmptyOrDie(DType::kFP32, {1, 4})};
      auto p = std::make_shared<std::promise<Status>>();
      done.push_back(p->get_future());
      req->done = [p](const Status& s, std::vector<Tensor>) { p->set_value(s); };
      ASSERT_TRUE(batcher->Enqueue(std::move(req)).ok());
    }
    for (auto& f : done) EXPECT_TRUE(f.get().ok());
    batcher->Shutdown();
    const nlohmann::json j = stats->ToJson("m", "1");  // kept: the loop reads into it
    for (const auto& b : j["batch_stats"]) {
      server_hist[b["batch_size"].get<int64_t>()] = b["compute_infer"]["count"].get<int64_t>();
    }
  }
  EXPECT_EQ(bench_hist, Expected());
  EXPECT_EQ(server_hist, Expected());
}

TEST(BenchAndServerBatching, BadBatchSizeIsAnError) {
  std::unique_ptr<Model> model = NullModel();
  ASSERT_TRUE(model);
  bench::MeasureSettings s;
  s.pool_bytes = 1024;
  bench::InputPool pool;
  ASSERT_TRUE(bench::InputPool::Make(model->inputs(), 1, s, &pool).ok());
  bench::SteadyResult r;
  bench::ArrivalFn none = [](int64_t, double*) { return false; };
  Status st = bench::RunServerArrivals(model.get(), pool, 0, true, none, s, &r);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.ToString().find("batch size must be >= 1"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace optic

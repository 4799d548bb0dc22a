// Dynamic batcher on the null backend (identity with a busy-wait delay): merging up to the
// preferred size within the queue delay, overload rejection without losing accepted requests,
// queue timeouts, priorities and one batch at a time per instance.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>

#include "optic/pipelining.h"
#include "optic/registry.h"
#include "server/batcher.h"

namespace optic::server {
namespace {

using namespace std::chrono_literals;

// Wraps a model and fails the test if Execute is ever entered twice at once.
class ExclusiveCheck final : public Model {
 public:
  ExclusiveCheck(std::unique_ptr<Model> m, std::atomic<int>* overlaps)
      : m_(std::move(m)), overlaps_(overlaps) {}
  const std::vector<TensorInfo>& inputs() const override { return m_->inputs(); }
  const std::vector<TensorInfo>& outputs() const override { return m_->outputs(); }
  Status Execute(const std::vector<Tensor>& in, std::vector<Tensor>* out) override {
    if (busy_.exchange(true)) ++*overlaps_;
    Status s = m_->Execute(in, out);
    busy_ = false;
    return s;
  }

 private:
  std::unique_ptr<Model> m_;
  std::atomic<int>* overlaps_;
  std::atomic<bool> busy_{false};
};

// Records which thread ran each batch and its rows.
class ThreadRecorder final : public Model {
 public:
  struct Run {
    std::thread::id thread;
    int64_t rows;
  };
  explicit ThreadRecorder(std::unique_ptr<Model> m) : m_(std::move(m)) {}
  const std::vector<TensorInfo>& inputs() const override { return m_->inputs(); }
  const std::vector<TensorInfo>& outputs() const override { return m_->outputs(); }
  Status Execute(const std::vector<Tensor>& in, std::vector<Tensor>* out) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      runs_.push_back({std::this_thread::get_id(), in.at(0).dim(0)});
    }
    return m_->Execute(in, out);
  }
  std::vector<Run> runs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_;
  }

 private:
  std::unique_ptr<Model> m_;
  mutable std::mutex mu_;
  std::vector<Run> runs_;
};

// An accelerator-like model: offers host input buffers (counted) and returns fresh output copies.
class CopyModel final : public Model, public PipelinedExecution {
 public:
  explicit CopyModel(int64_t width) {
    in_ = {{"x", DType::kFP32, {-1, width}}};
    out_ = {{"y", DType::kFP32, {-1, width}}};
  }
  const std::vector<TensorInfo>& inputs() const override { return in_; }
  const std::vector<TensorInfo>& outputs() const override { return out_; }
  Status Execute(const std::vector<Tensor>& in, std::vector<Tensor>* out) override {
    Tensor y = Tensor::EmptyOrDie(DType::kFP32, in.at(0).shape());
    std::memcpy(y.raw(), in[0].raw(), in[0].nbytes());
    out->push_back(std::move(y));
    return Status::OK();
  }
  int max_in_flight() const override { return 1; }
  int in_flight() const override { return 0; }
  Status Submit(const std::vector<Tensor>&) override { return Status::Unsupported("no"); }
  Status Collect(std::vector<Tensor>*, ExecutePhases*) override { return Status::Unsupported("no"); }
  Status AllocateHostInput(DType dtype, const Shape& shape, Tensor* out) override {
    ++allocations;
    allocated_rows = shape.at(0);
    return Tensor::Empty(dtype, shape, out);
  }
  std::atomic<int> allocations{0};
  std::atomic<int64_t> allocated_rows{0};

 private:
  std::vector<TensorInfo> in_, out_;
};

class BatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = std::filesystem::temp_directory_path() / "optic_batcher_test.null";
    std::ofstream(file_) << "";
  }
  std::vector<std::unique_ptr<Model>> Instances(int n, int delay_us) {
    std::vector<std::unique_ptr<Model>> out;
    for (int i = 0; i < n; ++i) {
      LoadOptions o;
      o.backend_options = {{"shape", "4"}, {"delay_us", std::to_string(delay_us)}};
      std::unique_ptr<Model> m;
      EXPECT_TRUE(LoadModel("null", file_.string(), o, &m).ok());
      out.push_back(std::make_unique<ExclusiveCheck>(std::move(m), &overlaps_));
    }
    return out;
  }
  // A request of `rows` rows whose values are `value`; its result goes to the returned future.
  struct Result {
    Status status;
    std::vector<Tensor> outputs;
    Clock::time_point at;
  };
  std::unique_ptr<InferRequest> Request(float value, std::future<Result>* fut, int64_t rows = 1,
                                        uint32_t priority = 0, uint64_t timeout_us = 0) {
    auto req = std::make_unique<InferRequest>();
    Tensor t = Tensor::EmptyOrDie(DType::kFP32, {rows, 4});
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = value;
    req->inputs = {t};
    req->rows = rows;
    req->priority = priority;
    req->timeout_us = timeout_us;
    auto p = std::make_shared<std::promise<Result>>();
    *fut = p->get_future();
    req->done = [p](const Status& s, std::vector<Tensor> out) {
      p->set_value({s, std::move(out), Clock::now()});
    };
    return req;
  }
  std::filesystem::path file_;
  std::atomic<int> overlaps_{0};
};

TEST_F(BatcherTest, MergesUpToPreferredSizeWithinDelay) {
  BatcherOptions o;
  o.max_batch_size = 8;
  o.dynamic = true;
  o.preferred_batch_sizes = {4};
  o.max_queue_delay_us = 500'000;  // long: the batch must go when it reaches 4, not at the delay
  auto stats = std::make_shared<ModelStats>();
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(1, 0), stats, &b).ok());
  const auto start = Clock::now();
  std::vector<std::future<Result>> futs(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(b->Enqueue(Request(float(i), &futs[i])).ok());
  for (int i = 0; i < 4; ++i) {
    Result r = futs[i].get();
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_EQ(r.outputs.size(), 1u);
    EXPECT_EQ(r.outputs[0].shape(), (Shape{1, 4}));
    EXPECT_EQ(r.outputs[0].data<float>()[3], float(i));  // each request gets its own rows back
    EXPECT_LT(r.at - start, 400ms);
  }
  auto j = stats->ToJson("m", "1");
  EXPECT_EQ(j["execution_count"], 1);
  EXPECT_EQ(j["inference_count"], 4);
  EXPECT_EQ(j["batch_stats"][0]["batch_size"], 4);
  EXPECT_EQ(overlaps_, 0);
}

TEST_F(BatcherTest, PartialBatchLeavesAfterQueueDelay) {
  BatcherOptions o;
  o.max_batch_size = 8;
  o.dynamic = true;
  o.preferred_batch_sizes = {4};
  o.max_queue_delay_us = 100'000;
  auto stats = std::make_shared<ModelStats>();
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(1, 0), stats, &b).ok());
  const auto start = Clock::now();
  std::future<Result> f1, f2;
  ASSERT_TRUE(b->Enqueue(Request(1, &f1)).ok());
  ASSERT_TRUE(b->Enqueue(Request(2, &f2, /*rows=*/2)).ok());
  Result r1 = f1.get(), r2 = f2.get();
  ASSERT_TRUE(r1.status.ok() && r2.status.ok());
  EXPECT_GE(r1.at - start, 95ms);
  EXPECT_EQ(r2.outputs[0].shape(), (Shape{2, 4}));
  auto j = stats->ToJson("m", "1");
  EXPECT_EQ(j["execution_count"], 1);
  EXPECT_EQ(j["batch_stats"][0]["batch_size"], 3);
}

TEST_F(BatcherTest, FullQueueRejectsWithoutLosingAcceptedRequests) {
  BatcherOptions o;
  o.max_batch_size = 2;
  o.dynamic = true;
  o.policies = {QueuePolicy{/*max_queue_size=*/4, 0, false}};
  auto stats = std::make_shared<ModelStats>();
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(1, 20'000), stats, &b).ok());
  std::vector<std::future<Result>> accepted;
  int rejected = 0;
  for (int i = 0; i < 40; ++i) {
    std::future<Result> f;
    Status s = b->Enqueue(Request(float(i), &f));
    if (s.ok()) {
      accepted.push_back(std::move(f));
    } else {
      EXPECT_EQ(s.code(), StatusCode::kUnavailable);
      EXPECT_NE(s.message().find("queue full"), std::string::npos) << s.message();
      EXPECT_EQ(s.HttpStatus(), 503);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GE(accepted.size(), 4u);
  for (auto& f : accepted) EXPECT_TRUE(f.get().status.ok());
  EXPECT_EQ(stats->ToJson("m", "1")["inference_count"], accepted.size());
  // The worker calls `done` before it takes the batch off its running count, so the last
  // future can be ready a moment before InFlight drops to zero.
  for (int i = 0; i < 200 && b->InFlight() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(b->InFlight(), 0u);
}

TEST_F(BatcherTest, RequestTimesOutInQueue) {
  BatcherOptions o;
  o.max_batch_size = 1;
  o.dynamic = true;
  o.policies = {QueuePolicy{0, /*default_timeout_us=*/10'000, /*allow_override=*/true}};
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(1, 150'000), nullptr, &b).ok());
  std::future<Result> busy, late, patient;
  ASSERT_TRUE(b->Enqueue(Request(1, &busy)).ok());
  std::this_thread::sleep_for(5ms);  // the first request is running now
  ASSERT_TRUE(b->Enqueue(Request(2, &late)).ok());
  ASSERT_TRUE(b->Enqueue(Request(3, &patient, 1, 0, /*timeout_us=*/2'000'000)).ok());
  Result r = late.get();
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("timed out"), std::string::npos) << r.status.message();
  EXPECT_TRUE(busy.get().status.ok());
  EXPECT_TRUE(patient.get().status.ok());  // per-request override of the default timeout
}

TEST_F(BatcherTest, HigherPriorityRunsFirst) {
  BatcherOptions o;
  o.max_batch_size = 1;
  o.dynamic = true;
  o.priority_levels = 2;
  o.default_priority = 2;
  o.policies = {QueuePolicy{}, QueuePolicy{}};
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(1, 30'000), nullptr, &b).ok());
  std::future<Result> busy, low, high;
  ASSERT_TRUE(b->Enqueue(Request(0, &busy)).ok());
  std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(b->Enqueue(Request(1, &low)).ok());  // default level 2
  ASSERT_TRUE(b->Enqueue(Request(2, &high, 1, /*priority=*/1)).ok());
  Result rl = low.get(), rh = high.get();
  ASSERT_TRUE(rl.status.ok() && rh.status.ok());
  EXPECT_LT(rh.at, rl.at);
  std::future<Result> bad;
  EXPECT_EQ(b->Enqueue(Request(3, &bad, 1, /*priority=*/3)).code(), StatusCode::kInvalidArgument);
}

TEST_F(BatcherTest, InstancesRunInParallelButNeverTwoBatchesAtOnce) {
  BatcherOptions o;  // no dynamic batching: each request alone
  o.max_batch_size = 4;
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(2, 60'000), nullptr, &b).ok());
  const auto start = Clock::now();
  std::vector<std::future<Result>> futs(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(b->Enqueue(Request(float(i), &futs[i])).ok());
  for (auto& f : futs) EXPECT_TRUE(f.get().status.ok());
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 115ms);  // 4 requests, 2 instances, 60 ms each: two rounds
  EXPECT_LT(took, 230ms);  // but not four
  EXPECT_EQ(overlaps_, 0);
}

TEST_F(BatcherTest, ShutdownDrainsQueuedWorkAndRejectsNew) {
  BatcherOptions o;
  o.max_batch_size = 1;
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(1, 20'000), nullptr, &b).ok());
  std::vector<std::future<Result>> futs(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b->Enqueue(Request(float(i), &futs[i])).ok());
  b->Shutdown();
  for (auto& f : futs) EXPECT_TRUE(f.get().status.ok());
  std::future<Result> f;
  EXPECT_EQ(b->Enqueue(Request(9, &f)).code(), StatusCode::kUnavailable);
}

// libtorch keeps cuDNN plans and executor state per thread, so warm-up must run on the threads
// that later run real batches.
TEST_F(BatcherTest, WarmUpRunsThePlanOnEachInstancesOwnWorkerThread) {
  BatcherOptions o;
  o.max_batch_size = 4;
  std::vector<std::unique_ptr<Model>> models;
  std::vector<ThreadRecorder*> rec;
  for (auto& m : Instances(2, 0)) {
    auto r = std::make_unique<ThreadRecorder>(std::move(m));
    rec.push_back(r.get());
    models.push_back(std::move(r));
  }
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, std::move(models), nullptr, &b).ok());
  auto make = [](int64_t rows, std::vector<Tensor>* in) {
    in->push_back(Tensor::EmptyOrDie(DType::kFP32, {rows, 4}));
    return Status::OK();
  };
  ASSERT_TRUE(b->WarmUp({{1, 1}, {3, 2}}, make).ok());
  std::vector<std::thread::id> warm_thread;
  for (ThreadRecorder* r : rec) {
    const auto runs = r->runs();
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].rows, 1);
    EXPECT_EQ(runs[1].rows, 3);
    EXPECT_EQ(runs[2].rows, 3);
    for (const auto& run : runs) {
      EXPECT_NE(run.thread, std::this_thread::get_id());
      EXPECT_EQ(run.thread, runs[0].thread);
    }
    warm_thread.push_back(runs[0].thread);
  }
  EXPECT_NE(warm_thread[0], warm_thread[1]);
  // Served batches run on the same threads as the warm-up did.
  std::vector<std::future<Result>> futs(8);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(b->Enqueue(Request(float(i), &futs[i])).ok());
  for (auto& f : futs) EXPECT_TRUE(f.get().status.ok());
  for (size_t k = 0; k < rec.size(); ++k) {
    for (const auto& run : rec[k]->runs()) EXPECT_EQ(run.thread, warm_thread[k]);
  }
  // A failing warm-up names the instance and the batch size.
  auto fail = [&make](int64_t rows, std::vector<Tensor>* in) {
    return rows == 2 ? Status::InvalidArgument("no inputs") : make(rows, in);
  };
  Status s = b->WarmUp({{1, 1}, {2, 1}}, fail);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("instance 0"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("warm-up batch of 2"), std::string::npos) << s.message();
}

// CI once aborted the test above: WarmUp called while an instance was still finishing a served
// batch returned before the warm-up had run (the batch's completion cleared `busy` under the
// pending task). Here the request's completion lingers, so WarmUp always meets that case.
TEST_F(BatcherTest, WarmUpWaitsForAnInstanceStillFinishingABatch) {
  BatcherOptions o;
  o.max_batch_size = 4;
  auto recorder = std::make_unique<ThreadRecorder>(std::move(Instances(1, 20'000)[0]));
  ThreadRecorder* rec = recorder.get();
  std::vector<std::unique_ptr<Model>> models;
  models.push_back(std::move(recorder));
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, std::move(models), nullptr, &b).ok());
  std::future<Result> fut;
  auto req = Request(1, &fut);
  auto done = std::move(req->done);
  req->done = [done](const Status& s, std::vector<Tensor> out) {
    done(s, std::move(out));
    std::this_thread::sleep_for(100ms);  // still inside the served batch when WarmUp starts
  };
  ASSERT_TRUE(b->Enqueue(std::move(req)).ok());
  ASSERT_TRUE(fut.get().status.ok());
  auto make = [](int64_t rows, std::vector<Tensor>* in) {
    in->push_back(Tensor::EmptyOrDie(DType::kFP32, {rows, 4}));
    return Status::OK();
  };
  ASSERT_TRUE(b->WarmUp({{2, 3}}, make).ok());
  const auto runs = rec->runs();  // read right as WarmUp returns: all three warm-up runs are in
  ASSERT_EQ(runs.size(), 4u);
  for (size_t i = 1; i < runs.size(); ++i) EXPECT_EQ(runs[i].rows, 2);
}

// Merged batches of any size are gathered into one reused buffer of max_batch_size rows (the
// model's page-locked memory on a GPU); big batches are copied by several threads. Every request
// still gets its own rows back.
// Many clients at once, two instances, batches merged: every accepted request is answered
// exactly once, with its own rows, and the batcher ends idle.
TEST_F(BatcherTest, ConcurrentClientsGetTheirOwnRowsAndNothingIsLost) {
  BatcherOptions o;
  o.max_batch_size = 8;
  o.dynamic = true;
  auto stats = std::make_shared<ModelStats>();
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(2, 50), stats, &b).ok());
  constexpr int kClients = 16, kEach = 150;
  std::atomic<int> answered{0}, wrong{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kEach; ++i) {
        std::future<Result> f;
        const float value = float(c * 1000 + i);
        ASSERT_TRUE(b->Enqueue(Request(value, &f)).ok());
        Result r = f.get();
        ++answered;
        if (!r.status.ok()) ++failed;
        else if (r.outputs.size() != 1 || r.outputs[0].numel() != 4 ||
                 r.outputs[0].data<float>()[0] != value || r.outputs[0].data<float>()[3] != value)
          ++wrong;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(answered, kClients * kEach);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(overlaps_, 0);
  EXPECT_EQ(stats->ToJson("m", "1")["inference_count"], kClients * kEach);
  for (int i = 0; i < 200 && b->InFlight() != 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(b->InFlight(), 0u);
}

// Fails the requests whose first value is negative and gathers the others' rows.
class RejectNegative final : public InputStage {
 public:
  Status Prepare(const std::vector<std::unique_ptr<InferRequest>>& batch,
                 std::vector<Tensor>* inputs, std::vector<Status>* failures) override {
    int64_t rows = 0;
    for (size_t k = 0; k < batch.size(); ++k) {
      if (batch[k]->inputs[0].data<float>()[0] < 0) {
        (*failures)[k] = Status::InvalidArgument("negative input in request " + batch[k]->id);
      } else {
        rows += batch[k]->rows;
      }
    }
    Tensor t = Tensor::EmptyOrDie(DType::kFP32, {rows, 4});
    char* at = static_cast<char*>(t.raw());
    for (size_t k = 0; k < batch.size(); ++k) {
      if (!(*failures)[k].ok()) continue;
      std::memcpy(at, batch[k]->inputs[0].raw(), batch[k]->inputs[0].nbytes());
      at += batch[k]->inputs[0].nbytes();
    }
    inputs->push_back(std::move(t));
    return Status::OK();
  }
  Status WarmUpInputs(int64_t n, std::vector<Tensor>* inputs) override {
    inputs->push_back(Tensor::EmptyOrDie(DType::kFP32, {n, 4}));
    return Status::OK();
  }
};

// A request whose data fails while its batch is prepared gets its own error; the requests batched
// with it run and get their own rows.
TEST_F(BatcherTest, ARequestFailingInABatchLeavesTheOthersAlone) {
  BatcherOptions o;
  o.max_batch_size = 8;
  o.dynamic = true;
  o.max_queue_delay_us = 100'000;
  o.preferred_batch_sizes = {8};
  std::vector<std::unique_ptr<InputStage>> stages;
  stages.push_back(std::make_unique<RejectNegative>());
  auto batches = std::make_shared<ModelStats>();
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, Instances(1, 0), std::move(stages), batches, &b).ok());
  std::vector<std::future<Result>> futs(8);
  for (int k = 0; k < 8; ++k) {
    auto req = Request(k == 2 || k == 5 ? -1.f : float(k), &futs[k]);
    req->id = std::to_string(k);
    ASSERT_TRUE(b->Enqueue(std::move(req)).ok());
  }
  for (int k = 0; k < 8; ++k) {
    Result r = futs[k].get();
    if (k == 2 || k == 5) {
      EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status.message().find("request " + std::to_string(k)), std::string::npos)
          << r.status.message();
      continue;
    }
    ASSERT_TRUE(r.status.ok()) << k << ": " << r.status.message();
    ASSERT_EQ(r.outputs.size(), 1u);
    EXPECT_EQ(r.outputs[0].data<float>()[0], float(k));
    EXPECT_EQ(r.outputs[0].data<float>()[3], float(k));
  }
  // One execution of the six good rows.
  const auto j = batches->ToJson("m", "1");
  EXPECT_EQ(j["execution_count"], 1);
  EXPECT_EQ(j["inference_count"], 6);
}

TEST(BatcherBuffersTest, MergedBatchesReuseOnePageLockedBufferAndKeepEveryRequestsRows) {
  constexpr int64_t kWidth = 1 << 20;  // 4 MB a request: 8 of them are copied by 4 threads
  BatcherOptions o;
  o.max_batch_size = 8;
  o.dynamic = true;
  o.max_queue_delay_us = 200'000;
  o.preferred_batch_sizes = {8};
  o.page_locked_batches = true;
  auto model = std::make_unique<CopyModel>(kWidth);
  CopyModel* m = model.get();
  std::vector<std::unique_ptr<Model>> instances;
  instances.push_back(std::move(model));
  std::unique_ptr<DynamicBatcher> b;
  ASSERT_TRUE(DynamicBatcher::Create(o, std::move(instances), nullptr, &b).ok());
  for (int round = 0; round < 3; ++round) {
    const int n = round == 1 ? 3 : 8;  // a full batch, a partial one (after the delay), a full one
    std::vector<std::future<std::vector<Tensor>>> futs;
    for (int k = 0; k < n; ++k) {
      auto req = std::make_unique<InferRequest>();
      Tensor t = Tensor::EmptyOrDie(DType::kFP32, {1, kWidth});
      std::fill_n(t.data<float>(), kWidth, float(round * 100 + k));
      req->inputs = {t};
      auto p = std::make_shared<std::promise<std::vector<Tensor>>>();
      futs.push_back(p->get_future());
      req->done = [p](const Status& s, std::vector<Tensor> out) {
        EXPECT_TRUE(s.ok()) << s.message();
        p->set_value(std::move(out));
      };
      ASSERT_TRUE(b->Enqueue(std::move(req)).ok());
    }
    for (int k = 0; k < n; ++k) {
      std::vector<Tensor> out = futs[k].get();
      ASSERT_EQ(out.size(), 1u);
      ASSERT_EQ(out[0].numel(), kWidth);
      const float want = float(round * 100 + k);
      EXPECT_EQ(out[0].data<float>()[0], want);
      EXPECT_EQ(out[0].data<float>()[kWidth - 1], want);
    }
  }
  EXPECT_EQ(m->allocations, 1);
  EXPECT_EQ(m->allocated_rows, 8);
}

TEST(BatcherOptionsTest, RejectsPreferredSizeAboveMax) {
  BatcherOptions o;
  o.max_batch_size = 4;
  o.dynamic = true;
  o.preferred_batch_sizes = {8};
  std::unique_ptr<DynamicBatcher> b;
  std::vector<std::unique_ptr<Model>> none;
  LoadOptions lo;
  std::unique_ptr<Model> m;
  const auto file = std::filesystem::temp_directory_path() / "optic_batcher_opt.null";
  std::ofstream(file) << "";
  ASSERT_TRUE(LoadModel("null", file.string(), lo, &m).ok());
  none.push_back(std::move(m));
  Status s = DynamicBatcher::Create(o, std::move(none), nullptr, &b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("preferred_batch_size 8"), std::string::npos);
}

}  // namespace
}  // namespace optic::server

// Two instances of one model on cuda:0 (label gpu): instance_group { kind: KIND_GPU count: 2
// gpus: [0] } through the repository loads both on the GPU, requests sent at once are all
// answered with the CPU instance's outputs, and the config and memory_usage name the GPU.
// Skips, with the reason, without a GPU or an onnxruntime with CUDA.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "optic/parity.h"
#include "optic/registry.h"
#include "optic/zoo.h"
#include "server/model_repository.h"

namespace optic::server {
namespace {
namespace fs = std::filesystem;

TEST(ServerInstancesGpu, TwoInstancesOnOneGpuServeConcurrently) {
  if (VisibleCudaDevices().count == 0) GTEST_SKIP() << "no GPU: " << VisibleCudaDevices().reason;
  std::unique_ptr<Backend> backend;
  if (!CreateBackend("onnxruntime", &backend).ok()) GTEST_SKIP() << "onnxruntime not built";
  const auto devices = backend->capabilities().devices;
  if (std::find(devices.begin(), devices.end(), DeviceType::kCUDA) == devices.end()) {
    GTEST_SKIP() << "ONNX Runtime " << backend->version() << " has no CUDA provider";
  }
  Zoo zoo;
  const ZooModel* zm = nullptr;
  std::string file;
  if (!Zoo::Open(OPTIC_TEST_MODELS, &zoo).ok() || !zoo.Find("tiny_cnn", &zm).ok()) {
    GTEST_SKIP() << "tiny_cnn is not in the zoo";
  }
  ASSERT_TRUE(zoo.FileFor(*zm, *backend, Precision::kFP32, &file).ok());
  const fs::path dir = fs::temp_directory_path() / ("optic_instances_gpu_" + std::to_string(getpid()));
  fs::remove_all(dir);
  for (const char* name : {"gpu2", "cpu1"}) {
    fs::create_directories(dir / name / "1");
    fs::copy_file(file, dir / name / "1" / "model.onnx");
  }
  std::ofstream(dir / "gpu2" / "config.pbtxt")
      << "backend: \"onnxruntime\" max_batch_size: 4 dynamic_batching { "
         "max_queue_delay_microseconds: 2000 } instance_group [{ kind: KIND_GPU count: 2 gpus: [0] }]";
  std::ofstream(dir / "cpu1" / "config.pbtxt")
      << "backend: \"onnxruntime\" max_batch_size: 4 instance_group [{ kind: KIND_CPU }]";
  {
    ModelRepository repo(dir.string());
    Status s = repo.LoadAll();
    ASSERT_TRUE(s.ok()) << s.message();
    std::shared_ptr<ServedModel> gpu, cpu;
    ASSERT_TRUE(repo.Find("gpu2", "", &gpu).ok());
    ASSERT_TRUE(repo.Find("cpu1", "", &cpu).ok());
    ASSERT_EQ(gpu->config.instance_group_size(), 1);
    EXPECT_EQ(gpu->config.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_GPU);
    ASSERT_EQ(gpu->config.instance_group(0).gpus_size(), 1);
    const auto stats = gpu->stats->ToJson("gpu2", "1");
    ASSERT_EQ(stats["memory_usage"].size(), 1u) << stats.dump();
    EXPECT_EQ(stats["memory_usage"][0]["type"], "GPU");
    EXPECT_EQ(stats["memory_usage"][0]["byte_size"], 2 * fs::file_size(file));

    constexpr int kRequests = 32;
    TensorInfo row = zm->input;
    std::vector<Tensor> inputs(kRequests);
    for (int i = 0; i < kRequests; ++i) ASSERT_TRUE(MakeInput(row, 1, 100 + i, &inputs[i]).ok());
    struct Result {
      Status status;
      std::vector<Tensor> outputs;
    };
    auto run = [&](ServedModel* m, std::vector<Result>* results) {
      results->assign(kRequests, {});
      std::mutex mu;
      std::condition_variable cv;
      int left = kRequests;
      for (int i = 0; i < kRequests; ++i) {
        auto r = std::make_unique<InferRequest>();
        r->inputs = {inputs[i]};
        r->rows = 1;
        r->done = [&, i](const Status& st, std::vector<Tensor> outs) {
          std::lock_guard<std::mutex> lock(mu);
          (*results)[i] = {st, std::move(outs)};
          if (--left == 0) cv.notify_all();
        };
        Status e = m->batcher->Enqueue(std::move(r));
        ASSERT_TRUE(e.ok()) << e.message();
      }
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return left == 0; });
    };
    std::vector<Result> on_gpu, on_cpu;
    run(gpu.get(), &on_gpu);
    run(cpu.get(), &on_cpu);
    for (int i = 0; i < kRequests; ++i) {
      ASSERT_TRUE(on_gpu[i].status.ok()) << on_gpu[i].status.message();
      ASSERT_TRUE(on_cpu[i].status.ok()) << on_cpu[i].status.message();
      TensorDiff d;
      ASSERT_TRUE(CompareTensors(on_gpu[i].outputs[0], on_cpu[i].outputs[0], &d).ok());
      EXPECT_LT(d.rel_l2, 1e-3) << "request " << i;
    }
    // 32 rows in batches of at most 4 on two instances: at least 8 executions.
    const auto after = gpu->stats->ToJson("gpu2", "1");
    EXPECT_EQ(after["inference_count"], kRequests);
    EXPECT_GE(after["execution_count"].get<int>(), kRequests / 4);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace optic::server

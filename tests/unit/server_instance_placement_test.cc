// Instance placement (server/instance_placement.h): Triton's instance_group semantics against a
// given set of visible GPUs (count instances per listed GPU, every visible GPU without a list,
// CPU groups, the config as served), refusals naming the group, the index and the visible count,
// and through the repository on this machine: a GPU group it cannot place is refused at load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/instance_placement.h"
#include "server/model_repository.h"

namespace optic::server {
namespace {
namespace fs = std::filesystem;

inference::ModelConfig Config(const std::string& text) {
  inference::ModelConfig c;
  Status s = ParseModelConfig(text, "config.pbtxt", &c);
  EXPECT_TRUE(s.ok()) << s.message();
  return c;
}

VisibleGpus Gpus(int n) {
  VisibleGpus v;
  v.count = n;
  if (n == 0) v.reason = "no CUDA driver";
  return v;
}

std::vector<std::string> Where(const std::vector<InstancePlacement>& p) {
  std::vector<std::string> out;
  for (const auto& i : p) out.push_back(i.name + "@" + DeviceName(i.device));
  return out;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(InstancePlacement, CpuGroups) {
  std::vector<InstancePlacement> p;
  ASSERT_TRUE(PlaceInstances("m", Config("instance_group [{ count: 3 kind: KIND_CPU }]"), Gpus(0),
                             &p, nullptr).ok());
  EXPECT_EQ(Where(p), (std::vector<std::string>{"m_0_0@cpu", "m_0_1@cpu", "m_0_2@cpu"}));
  ASSERT_TRUE(PlaceInstances("m", Config(""), Gpus(2), &p, nullptr).ok());
  EXPECT_EQ(Where(p), (std::vector<std::string>{"m@cpu"}));  // no group: one CPU instance
  ASSERT_TRUE(PlaceInstances("m", Config("instance_group [{ name: \"g\" }, { kind: KIND_MODEL }]"),
                             Gpus(1), &p, nullptr).ok());
  EXPECT_EQ(Where(p), (std::vector<std::string>{"g@cpu", "m_1@cpu"}));
}

TEST(InstancePlacement, CountInstancesOnEachListedGpu) {
  std::vector<InstancePlacement> p;
  inference::ModelConfig served;
  ASSERT_TRUE(PlaceInstances("m", Config("instance_group [{ kind: KIND_GPU count: 2 gpus: [0, 1] }]"),
                             Gpus(2), &p, &served).ok());
  EXPECT_EQ(Where(p), (std::vector<std::string>{"m_0_0@cuda", "m_0_0@cuda:1", "m_0_1@cuda",
                                                "m_0_1@cuda:1"}));
  ASSERT_EQ(served.instance_group(0).gpus_size(), 2);
  ASSERT_TRUE(PlaceInstances("m", Config("instance_group [{ kind: KIND_GPU gpus: [1] }]"), Gpus(2),
                             &p, nullptr).ok());
  EXPECT_EQ(Where(p), (std::vector<std::string>{"m_0@cuda:1"}));
  // KIND_AUTO with gpus is a GPU group.
  ASSERT_TRUE(PlaceInstances("m", Config("instance_group [{ gpus: [0] }]"), Gpus(1), &p, &served).ok());
  EXPECT_EQ(Where(p), (std::vector<std::string>{"m_0@cuda"}));
  EXPECT_EQ(served.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_GPU);
}

TEST(InstancePlacement, NoGpusListMeansEveryVisibleGpu) {
  std::vector<InstancePlacement> p;
  inference::ModelConfig served;
  ASSERT_TRUE(PlaceInstances("m", Config("instance_group [{ kind: KIND_GPU }]"), Gpus(4), &p,
                             &served).ok());
  EXPECT_EQ(Where(p), (std::vector<std::string>{"m_0@cuda", "m_0@cuda:1", "m_0@cuda:2",
                                                "m_0@cuda:3"}));
  EXPECT_EQ(std::vector<int>(served.instance_group(0).gpus().begin(),
                             served.instance_group(0).gpus().end()),
            (std::vector<int>{0, 1, 2, 3}));
}

TEST(InstancePlacement, RefusesWhatCannotBePlaced) {
  std::vector<InstancePlacement> p{{"keep", Device{}}};
  Status s = PlaceInstances("m", Config("instance_group [{ kind: KIND_GPU gpus: [7] }]"), Gpus(1),
                            &p, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kUnsupportedHardware);
  EXPECT_TRUE(Has(s.message(), "instance_group 'm_0' of model 'm' lists gpu 7")) << s.message();
  EXPECT_TRUE(Has(s.message(), "1 GPU is visible")) << s.message();
  EXPECT_TRUE(Has(s.message(), "CUDA_VISIBLE_DEVICES")) << s.message();
  s = PlaceInstances("m", Config("instance_group [{ name: \"g\" kind: KIND_GPU gpus: [0] }]"),
                     Gpus(0), &p, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kUnsupportedHardware);
  EXPECT_TRUE(Has(s.message(), "'g' of model 'm' is KIND_GPU (gpus [0])")) << s.message();
  EXPECT_TRUE(Has(s.message(), "no GPU is visible")) << s.message();
  EXPECT_TRUE(Has(s.message(), "KIND_CPU")) << s.message();
  s = PlaceInstances("m", Config("instance_group [{ kind: KIND_GPU }]"), Gpus(0), &p, nullptr);
  EXPECT_TRUE(Has(s.message(), "no GPU is visible")) << s.message();
  s = PlaceInstances("m", Config("instance_group [{ kind: KIND_CPU gpus: [0] }]"), Gpus(1), &p,
                     nullptr);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(s.message(), "KIND_CPU but lists gpus")) << s.message();
  s = PlaceInstances("m", Config("instance_group [{ kind: KIND_GPU gpus: [-1] }]"), Gpus(1), &p,
                     nullptr);
  EXPECT_TRUE(Has(s.message(), "gpu -1")) << s.message();
  s = PlaceInstances("m", Config("instance_group [{ count: -2 }]"), Gpus(1), &p, nullptr);
  EXPECT_TRUE(Has(s.message(), "count -2")) << s.message();
  EXPECT_EQ(Where(p), (std::vector<std::string>{"keep@cpu"}));  // untouched by the refusals
}

// On this machine: a GPU group past its GPUs is UNAVAILABLE with the reason, and the CPU model
// beside it serves.
TEST(InstancePlacement, RepositoryRefusesAGpuItCannotSee) {
  const fs::path dir = fs::temp_directory_path() /
                       ("optic_placement_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  const int past = VisibleCudaDevices().count + 6;
  auto add = [&](const std::string& name, const std::string& groups) {
    fs::create_directories(dir / name / "1");
    std::ofstream(dir / name / "config.pbtxt")
        << "backend: \"null\" max_batch_size: 2 parameters { key: \"shape\" value: { "
           "string_value: \"3\" } } "
        << groups;
    std::ofstream(dir / name / "1" / "model.null") << "";
  };
  add("far", "instance_group [{ kind: KIND_GPU gpus: [" + std::to_string(past) + "] }]");
  add("cpu", "instance_group [{ kind: KIND_CPU count: 2 }]");
  {
    ModelRepository repo(dir.string());
    Status s = repo.LoadAll();
    EXPECT_FALSE(s.ok());
    std::shared_ptr<ServedModel> m;
    EXPECT_TRUE(repo.Find("cpu", "", &m).ok());
    s = repo.Find("far", "", &m);
    EXPECT_EQ(s.code(), StatusCode::kUnavailable);
    EXPECT_TRUE(Has(s.message(), VisibleCudaDevices().count == 0
                                     ? "(gpus [" + std::to_string(past) + "])"
                                     : "lists gpu " + std::to_string(past)))
        << s.message();
    EXPECT_TRUE(Has(s.message(), VisibleCudaDevices().count == 0 ? "no GPU is visible"
                                                                  : " visible to this process"))
        << s.message();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace optic::server

// Model repository: config.pbtxt parsing through protobuf TextFormat (errors name line and field),
// loading versions through the registry (null backend), completing the config from the model, and
// rejecting configs that contradict the model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/model_repository.h"

namespace optic::server {
namespace {
namespace fs = std::filesystem;

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("optic_repo_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void AddModel(const std::string& name, const std::string& config,
                std::vector<int> versions = {1}) {
    fs::create_directories(dir_ / name);
    std::ofstream(dir_ / name / "config.pbtxt") << config;
    for (int v : versions) {
      fs::create_directories(dir_ / name / std::to_string(v));
      std::ofstream(dir_ / name / std::to_string(v) / "model.null") << "";
    }
  }
  fs::path dir_;
};

TEST(ModelConfigTest, ParseErrorNamesLineAndField) {
  inference::ModelConfig c;
  Status s = ParseModelConfig("name: \"a\"\nmax_batch_size: oops\n", "cfg", &c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cfg:2:"), std::string::npos) << s.message();
  s = ParseModelConfig("name: \"a\"\nsequence_batching {}\n", "cfg", &c);
  EXPECT_NE(s.message().find("sequence_batching"), std::string::npos) << s.message();
}

TEST(ModelConfigTest, ParsesDynamicBatchingSubset) {
  inference::ModelConfig c;
  ASSERT_TRUE(ParseModelConfig(R"(
    name: "m" platform: "onnxruntime_onnx" max_batch_size: 8
    input [{ name: "x" data_type: TYPE_FP32 dims: [3, -1] }]
    dynamic_batching { preferred_batch_size: [2, 4] max_queue_delay_microseconds: 100
      priority_levels: 2 default_priority_level: 2
      default_queue_policy { max_queue_size: 7 default_timeout_microseconds: 9 } }
    instance_group [{ count: 2 kind: KIND_CPU }])", "cfg", &c).ok());
  std::string backend;
  ASSERT_TRUE(BackendForConfig(c, &backend).ok());
  EXPECT_EQ(backend, "onnxruntime");
  BatcherOptions o;
  ASSERT_TRUE(BatcherOptionsFromConfig(c, &o).ok());
  EXPECT_TRUE(o.dynamic);
  EXPECT_EQ(o.preferred_batch_sizes, (std::vector<int>{2, 4}));
  EXPECT_EQ(o.max_queue_delay_us, 100u);
  ASSERT_EQ(o.policies.size(), 2u);
  EXPECT_EQ(o.policies[1].max_queue_size, 7u);
  EXPECT_EQ(o.policies[1].default_timeout_us, 9u);
  EXPECT_EQ(KServeDatatype(inference::TYPE_STRING), "BYTES");
  EXPECT_EQ(KServeDatatype(inference::TYPE_FP32), "FP32");
}

TEST_F(RepositoryTest, LoadsLatestVersionAndCompletesConfig) {
  AddModel("ident", R"(backend: "null" max_batch_size: 4
    parameters { key: "shape" value: { string_value: "3x2" } })", {1, 3});
  ModelRepository repo(dir_.string());
  ASSERT_TRUE(repo.LoadAll().ok());
  std::shared_ptr<ServedModel> m;
  ASSERT_TRUE(repo.Find("ident", "", &m).ok());
  EXPECT_EQ(m->version, 3);
  ASSERT_EQ(m->config.input_size(), 1);
  EXPECT_EQ(m->config.input(0).name(), "input");
  EXPECT_EQ(m->config.input(0).dims_size(), 2);  // batch dimension excluded
  EXPECT_EQ(m->inputs[0].dims, (Shape{3, 2}));
  EXPECT_EQ(repo.Find("ident", "1", &m).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo.Find("nope", "", &m).code(), StatusCode::kNotFound);
  ASSERT_EQ(repo.Index().size(), 1u);
  EXPECT_EQ(repo.Index()[0].state, "READY");
  EXPECT_NE(ModelConfigToJson(m->config).find("\"max_batch_size\":4"), std::string::npos);
  ASSERT_TRUE(repo.Unload("ident").ok());
  EXPECT_EQ(repo.Index()[0].state, "UNAVAILABLE");
  ASSERT_TRUE(repo.Load("ident").ok());
}

TEST_F(RepositoryTest, RejectsConfigThatContradictsModel) {
  AddModel("wrongdims", R"(backend: "null" max_batch_size: 4
    input [{ name: "input" data_type: TYPE_FP32 dims: [5] }]
    parameters { key: "shape" value: { string_value: "3x2" } })");
  AddModel("wrongname", R"(backend: "null" max_batch_size: 4
    input [{ name: "image" data_type: TYPE_FP32 dims: [8] }])");
  AddModel("badoption", R"(backend: "null" parameters { key: "bogus" value: { string_value: "1" } })");
  AddModel("noversion", R"(backend: "null")", {});
  ModelRepository repo(dir_.string());
  EXPECT_FALSE(repo.LoadAll().ok());
  std::map<std::string, std::string> reasons;
  for (const auto& e : repo.Index()) {
    EXPECT_EQ(e.state, "UNAVAILABLE") << e.name;
    reasons[e.name] = e.reason;
  }
  EXPECT_NE(reasons["wrongdims"].find("config dims [5]"), std::string::npos) << reasons["wrongdims"];
  EXPECT_NE(reasons["wrongname"].find("'input'"), std::string::npos) << reasons["wrongname"];
  EXPECT_NE(reasons["badoption"].find("bogus"), std::string::npos) << reasons["badoption"];
  EXPECT_NE(reasons["noversion"].find("version folder"), std::string::npos) << reasons["noversion"];
  std::shared_ptr<ServedModel> m;
  EXPECT_EQ(repo.Find("wrongdims", "", &m).code(), StatusCode::kUnavailable);
}

TEST_F(RepositoryTest, DanglingModelLinkSaysWhatWritesIt) {
  AddModel("linked", R"(backend: "null")", {});
  fs::create_directories(dir_ / "linked" / "1");
  fs::create_symlink(dir_ / "missing" / "model.null", dir_ / "linked" / "1" / "model.null");
  ModelRepository repo(dir_.string());
  EXPECT_FALSE(repo.LoadAll().ok());
  ASSERT_EQ(repo.Index().size(), 1u);
  const std::string& reason = repo.Index()[0].reason;
  EXPECT_NE(reason.find("links to '" + (dir_ / "missing" / "model.null").string() + "'"),
            std::string::npos) << reason;
  EXPECT_NE(reason.find("optic models export --models linked"), std::string::npos) << reason;
}

TEST(ExampleRepositoryTest, IdentityModelLoads) {
  ModelRepository repo(std::string(OPTIC_SOURCE_DIR) + "/examples/model-repository");
  ASSERT_TRUE(repo.Load("identity").ok());
  std::shared_ptr<ServedModel> m;
  ASSERT_TRUE(repo.Find("identity", "1", &m).ok());
  EXPECT_EQ(m->inputs[0].dims, (Shape{3, 224, 224}));
}

}  // namespace
}  // namespace optic::server

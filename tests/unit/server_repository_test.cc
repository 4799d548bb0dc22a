// Model repository: config.pbtxt parsing through protobuf TextFormat (errors name line and field),
// loading versions through the registry (null backend), completing the config from the model (with
// and without config.pbtxt, model files held in memory), Triton's config defaults and statistics
// fields, rejecting configs that contradict the model, and reporting folders that cannot be served.
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
  void AddFile(const fs::path& rel, const std::string& contents) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << contents;
  }
  std::map<std::string, RepositoryEntry> IndexByName(const ModelRepository& repo) {
    std::map<std::string, RepositoryEntry> out;
    for (const auto& e : repo.Index()) out[e.name] = e;
    return out;
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
  const std::string reason = repo.Index()[0].reason;
  EXPECT_NE(reason.find("links to '" + (dir_ / "missing" / "model.null").string() + "'"),
            std::string::npos) << reason;
  EXPECT_NE(reason.find("optic models export --models linked"), std::string::npos) << reason;
}

TEST_F(RepositoryTest, FolderWithoutConfigIsCompletedFromTheModel) {
  AddFile("auto/1/model.null", "weights");
  ModelRepository repo(dir_.string());
  ASSERT_TRUE(repo.LoadAll().ok()) << repo.Index()[0].reason;
  std::shared_ptr<ServedModel> m;
  ASSERT_TRUE(repo.Find("auto", "", &m).ok());
  const inference::ModelConfig& c = m->config;
  EXPECT_EQ(m->backend, "null");
  EXPECT_EQ(c.name(), "auto");
  EXPECT_EQ(c.backend(), "null");
  // The null model's first dimension is variable: batching with Triton's default of 4, dynamic
  // batching on, and Triton's preferred_batch_size [max_batch_size].
  EXPECT_EQ(c.max_batch_size(), kDefaultMaxBatchSize);
  EXPECT_EQ(m->max_batch_size, 4);
  ASSERT_TRUE(c.has_dynamic_batching());
  EXPECT_EQ(std::vector<int>(c.dynamic_batching().preferred_batch_size().begin(),
                             c.dynamic_batching().preferred_batch_size().end()),
            std::vector<int>{4});
  ASSERT_EQ(c.input_size(), 1);
  EXPECT_EQ(c.input(0).name(), "input");
  EXPECT_EQ(c.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(Shape(c.input(0).dims().begin(), c.input(0).dims().end()), (Shape{3, 8, 8}));
  ASSERT_EQ(c.output_size(), 1);
  EXPECT_EQ(c.output(0).name(), "output");
  ASSERT_TRUE(c.version_policy().has_latest());
  EXPECT_EQ(c.version_policy().latest().num_versions(), 1u);
  ASSERT_EQ(c.instance_group_size(), 1);
  EXPECT_EQ(c.instance_group(0).name(), "auto");  // Triton names the group it adds after the model
  EXPECT_EQ(c.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(c.instance_group(0).count(), 1);
  EXPECT_EQ(c.default_model_filename(), "model.null");
  const std::string json = ModelConfigToJson(c);
  EXPECT_NE(json.find("\"version_policy\":{\"latest\":{\"num_versions\":1}}"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"preferred_batch_size\":[4]"), std::string::npos) << json;
  // The batcher runs the completed config: requests of up to 4 rows are accepted.
  EXPECT_EQ(m->signature.max_batch_size, 4);
}

TEST_F(RepositoryTest, ExplicitMaxBatchSizeZeroIsKept) {
  AddModel("nobatch", R"(backend: "null" max_batch_size: 0)");
  AddModel("absent", R"(backend: "null")");
  ModelRepository repo(dir_.string());
  ASSERT_TRUE(repo.LoadAll().ok());
  std::shared_ptr<ServedModel> m;
  ASSERT_TRUE(repo.Find("nobatch", "", &m).ok());
  EXPECT_EQ(m->max_batch_size, 0);
  EXPECT_EQ(m->inputs[0].dims, (Shape{-1, 3, 8, 8}));
  EXPECT_FALSE(m->config.has_dynamic_batching());
  ASSERT_TRUE(repo.Find("absent", "", &m).ok());
  EXPECT_EQ(m->max_batch_size, 4);
  EXPECT_EQ(m->inputs[0].dims, (Shape{3, 8, 8}));
}

TEST_F(RepositoryTest, InstanceGroupsGetTritonNamesAndDefaults) {
  AddModel("grouped", R"(backend: "null" max_batch_size: 2
    instance_group [{ count: 2 }, { name: "mine" kind: KIND_CPU }])");
  AddFile("grouped/1/model.null", "0123456789");
  ModelRepository repo(dir_.string());
  ASSERT_TRUE(repo.LoadAll().ok());
  std::shared_ptr<ServedModel> m;
  ASSERT_TRUE(repo.Find("grouped", "", &m).ok());
  ASSERT_EQ(m->config.instance_group_size(), 2);
  EXPECT_EQ(m->config.instance_group(0).name(), "grouped_0");
  EXPECT_EQ(m->config.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(m->config.instance_group(0).count(), 2);
  EXPECT_EQ(m->config.instance_group(1).name(), "mine");
  EXPECT_EQ(m->config.instance_group(1).count(), 1);
  // Statistics: three CPU instances, each estimated at the model file's 10 bytes, summed per
  // device as Triton sums memory_usage; response_stats present and empty.
  const auto stats = m->stats->ToJson("grouped", "1");
  ASSERT_EQ(stats["memory_usage"].size(), 1u) << stats.dump();
  EXPECT_EQ(stats["memory_usage"][0]["type"], "CPU");
  EXPECT_EQ(stats["memory_usage"][0]["id"], 0);
  EXPECT_EQ(stats["memory_usage"][0]["byte_size"], 30);
  ASSERT_TRUE(stats["response_stats"].is_object()) << stats.dump();
  EXPECT_TRUE(stats["response_stats"].empty());
}

TEST_F(RepositoryTest, ConfigNamesSelectModelTensorsByPosition) {
  AddModel("positional", R"(backend: "null" max_batch_size: 4
    input [{ name: "INPUT__0" data_type: TYPE_FP32 dims: [3, 8, 8] }]
    output [{ name: "OUTPUT__0" data_type: TYPE_FP32 dims: [3, 8, 8] }])");
  AddModel("outofrange", R"(backend: "null" max_batch_size: 4
    input [{ name: "INPUT__1" data_type: TYPE_FP32 dims: [3, 8, 8] }])");
  ModelRepository repo(dir_.string());
  EXPECT_FALSE(repo.LoadAll().ok());
  std::shared_ptr<ServedModel> m;
  ASSERT_TRUE(repo.Find("positional", "", &m).ok()) << IndexByName(repo)["positional"].reason;
  EXPECT_EQ(m->inputs[0].name, "INPUT__0");
  EXPECT_EQ(m->outputs[0].name, "OUTPUT__0");
  EXPECT_EQ(m->config.input(0).name(), "INPUT__0");
  const std::string reason = IndexByName(repo)["outofrange"].reason;
  EXPECT_NE(reason.find("'input'"), std::string::npos) << reason;
}

TEST_F(RepositoryTest, ModelFilesServeWithoutAFolder) {
  AddFile("elsewhere/a.null", "x");
  ModelRepository repo("");
  ASSERT_TRUE(repo.AddModelFile("first", (dir_ / "elsewhere" / "a.null").string()).ok());
  ASSERT_TRUE(repo.AddModelFile("second", (dir_ / "elsewhere" / "a.null").string()).ok());
  EXPECT_EQ(repo.AddModelFile("first", "b.null").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo.AddModelFile("a/b", "b.null").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(repo.LoadAll().ok());
  std::shared_ptr<ServedModel> m;
  ASSERT_TRUE(repo.Find("first", "1", &m).ok());
  EXPECT_EQ(m->config.default_model_filename(), "a.null");
  EXPECT_EQ(m->max_batch_size, 4);
  ASSERT_EQ(repo.Index().size(), 2u);
  EXPECT_EQ(repo.Index()[1].name, "second");
  EXPECT_EQ(repo.Index()[1].state, "READY");
  ASSERT_TRUE(repo.Unload("first").ok());
  ASSERT_TRUE(repo.Load("first").ok());
  // A repository folder and a file may not share a name.
  AddModel("taken", R"(backend: "null")");
  ModelRepository both(dir_.string());
  EXPECT_EQ(both.AddModelFile("taken", "x.null").code(), StatusCode::kInvalidArgument);
}

TEST_F(RepositoryTest, FoldersThatCannotBeServedAreReportedWithTheReason) {
  AddFile("good/1/model.null", "");
  fs::create_directories(dir_ / "empty");                // no config, no version folder
  fs::create_directories(dir_ / "noversionfile" / "1");  // a version folder with nothing in it
  AddFile("unknownext/1/model.tflite", "TFL3");
  AddFile("misnamed/1/resnet.null", "");
  fs::create_directories(dir_ / "isdir" / "1" / "model.null");
  AddFile("model.onnx", "stray");                        // a model file outside any folder
  AddFile("README.md", "not a model");
  ModelRepository repo(dir_.string());
  EXPECT_FALSE(repo.LoadAll().ok());
  std::shared_ptr<ServedModel> m;
  EXPECT_TRUE(repo.Find("good", "", &m).ok());
  auto index = IndexByName(repo);
  EXPECT_EQ(index.count("README.md"), 0u);
  EXPECT_EQ(index["good"].state, "READY");
  const std::map<std::string, std::string> expected = {
      {"empty", "no config.pbtxt and no numbered version folder"},
      {"noversionfile", "is empty: put the model file there as model.<ext>"},
      {"unknownext", "model.tflite, which no backend built into optic reads"},
      {"misnamed", "holds no model.<ext> file (it has: resnet.null)"},
      {"isdir", "is a directory, not a model file"},
      {"model.onnx", "a model needs its own folder"}};
  for (const auto& [name, text] : expected) {
    EXPECT_EQ(index[name].state, "UNAVAILABLE") << name;
    EXPECT_NE(index[name].reason.find(text), std::string::npos)
        << name << ": " << index[name].reason;
    EXPECT_EQ(repo.Find(name, "", &m).code(), StatusCode::kUnavailable) << name;
  }
  EXPECT_NE(index["unknownext"].reason.find("null: .null"), std::string::npos)
      << index["unknownext"].reason;
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

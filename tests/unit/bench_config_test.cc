// Typed configuration of optic bench: batch lists, backend options, config files, cell JSON.
#include <gtest/gtest.h>

#include "bench/config.h"

namespace optic::bench {
namespace {

TEST(BenchConfig, DefaultBatchListText) {
  EXPECT_EQ(BatchListText(kDefaultBatches), "1,8");
  std::vector<int> b;
  ASSERT_TRUE(ParseBatchList(BatchListText(kDefaultBatches), &b).ok());
  EXPECT_EQ(b, kDefaultBatches);
}

TEST(BenchConfig, BatchListsAndPowerOfTwoRanges) {
  std::vector<int> b;
  ASSERT_TRUE(ParseBatchList("1,2,4", &b).ok());
  EXPECT_EQ(b, (std::vector<int>{1, 2, 4}));
  ASSERT_TRUE(ParseBatchList("1-64", &b).ok());
  EXPECT_EQ(b, (std::vector<int>{1, 2, 4, 8, 16, 32, 64}));
  ASSERT_TRUE(ParseBatchList("1,3, 5,16-32", &b).ok());
  EXPECT_EQ(b, (std::vector<int>{1, 3, 5, 16, 32}));
  // A range whose bounds are not powers of two would run sizes the text does not name.
  for (const char* bad : {"3-5", "3-20", "1-48", "3-4"}) {
    Status s = ParseBatchList(bad, &b);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("powers of two"), std::string::npos) << s.message();
  }
  EXPECT_NE(ParseBatchList("3-5", &b).message().find("3,4,5"), std::string::npos);
  EXPECT_FALSE(ParseBatchList("1,2,2", &b).ok());
  EXPECT_FALSE(ParseBatchList("1-4,4", &b).ok());
  EXPECT_FALSE(ParseBatchList("1-", &b).ok());
  EXPECT_FALSE(ParseBatchList("-4", &b).ok());
  EXPECT_FALSE(ParseBatchList("99999999999999999999", &b).ok());
  EXPECT_FALSE(ParseBatchList("0", &b).ok());
  EXPECT_FALSE(ParseBatchList("8-2", &b).ok());
  EXPECT_FALSE(ParseBatchList("x", &b).ok());
  EXPECT_FALSE(ParseBatchList("", &b).ok());
}

TEST(BenchConfig, BackendOptions) {
  BackendOptionMap m;
  ASSERT_TRUE(ParseBackendOption("null:fail=crash", &m).ok());
  EXPECT_EQ(m["null"]["fail"], "crash");
  EXPECT_FALSE(ParseBackendOption("fail=crash", &m).ok());
  EXPECT_FALSE(ParseBackendOption("null:fail", &m).ok());
}

TEST(BenchConfig, BackendOptionsAreCheckedAgainstTheBackendsKeys) {
  BackendOptionMap m;
  ASSERT_TRUE(ParseBackendOption("null:fail=crash", &m).ok());
  EXPECT_TRUE(ValidateBackendOptions(m).ok());
  ASSERT_TRUE(ParseBackendOption("null:fial=crash", &m).ok());
  Status s = ValidateBackendOptions(m);
  EXPECT_FALSE(s.ok());
  for (const char* part : {"null:fial=crash", "'fial'", "fail", "shape"}) {
    EXPECT_NE(s.message().find(part), std::string::npos) << part << " not in " << s.message();
  }
  BackendOptionMap bad_value{{"null", {{"fail", "sometimes"}}}};
  EXPECT_NE(ValidateBackendOptions(bad_value).message().find("sometimes"), std::string::npos);
  BackendOptionMap no_backend{{"tensorrt", {{"x", "1"}}}};
  EXPECT_NE(ValidateBackendOptions(no_backend).message().find("tensorrt"), std::string::npos);
}

TEST(BenchConfig, ConfigJsonIsTypedAndStrict) {
  BenchConfig c;
  auto j = nlohmann::json::parse(R"({"models":["resnet50"],"batch":"1-4","precision":["fp32"],
      "scenario":["offline","server"],"threads":[1,2],"settings":{"min_duration_s":0.5,"qps":10},
      "backend_options":{"null":{"delay_us":"10"}}})");
  ASSERT_TRUE(ConfigFromJson(j, &c).ok());
  EXPECT_EQ(c.batches, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(c.scenarios[1], Scenario::kServer);
  EXPECT_DOUBLE_EQ(c.settings.min_duration_s, 0.5);
  EXPECT_DOUBLE_EQ(c.settings.qps, 10);
  EXPECT_EQ(c.backend_options["null"]["delay_us"], "10");
  Status s = ConfigFromJson(nlohmann::json::parse(R"({"modles":["x"]})"), &c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("modles"), std::string::npos);
  EXPECT_FALSE(ConfigFromJson(nlohmann::json::parse(R"({"settings":{"min_duration_s":-1}})"), &c).ok());
  EXPECT_FALSE(ConfigFromJson(nlohmann::json::parse(R"({"scenario":["fast"]})"), &c).ok());
}

TEST(BenchConfig, CellRoundTripsThroughJsonAndHasAStableId) {
  CellSpec c;
  c.model = "resnet50";
  c.backend = "onnxruntime";
  c.precision = Precision::kBF16;
  c.batch_size = 8;
  c.threads = 2;
  c.scenario = Scenario::kSingleStream;
  c.backend_options = {{"k", "v"}};
  c.settings.seed = 7;
  EXPECT_EQ(c.CellId(), "resnet50|onnxruntime|cpu|bf16|b8|t2|single_stream");
  CellSpec back;
  ASSERT_TRUE(CellFromJson(CellToJson(c), &back).ok());
  EXPECT_EQ(back.CellId(), c.CellId());
  EXPECT_EQ(back.settings.seed, 7u);
  EXPECT_EQ(back.backend_options, c.backend_options);
  CellSpec ens = c;
  ens.kind = CellKind::kEnsemble;
  ens.members = {"a", "b"};
  EXPECT_EQ(ens.CellId().rfind("ensemble:a+b|", 0), 0u);
}

}  // namespace
}  // namespace optic::bench

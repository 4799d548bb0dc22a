// The HTTP router's matching: a known path with the wrong method answers 405 and has no effect
// (model control endpoints included); an unknown path answers 404; the right method still works.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/router.h"
#include "unit/server_repository_testing.h"

namespace optic::server {
namespace {

class RouterTest : public optic::testing::NullModelRepositoryTest {
 protected:
  void SetUp() override {
    NullModelRepositoryTest::SetUp();
    router_ = std::make_unique<Router>(repo_.get(), RouterOptions{},
                                       [](std::function<void()> fn) { fn(); });
  }
  void TearDown() override {
    router_.reset();
    NullModelRepositoryTest::TearDown();
  }
  HttpReply Call(const std::string& method, const std::string& target) {
    HttpReply out;
    bool replied = false;
    router_->Handle({method, target, std::make_shared<const std::string>(), std::nullopt, ""},
                    [&](HttpReply r) {
                      out = std::move(r);
                      replied = true;
                    });
    EXPECT_TRUE(replied) << method << " " << target;
    return out;
  }
  std::string State() {
    for (const auto& e : repo_->Index()) {
      if (e.name == "m") return e.state;
    }
    return "absent";
  }
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, WrongMethodOnLoadDoesNotLoad) {
  ASSERT_NE(State(), "READY");
  for (const char* method : {"GET", "DELETE", "PUT", "PATCH", "HEAD"}) {
    HttpReply r = Call(method, "/v2/repository/models/m/load");
    EXPECT_EQ(r.status, 405) << method << ": " << r.body;
    EXPECT_NE(State(), "READY") << method << " .../load loaded the model";
  }
  EXPECT_EQ(Call("POST", "/v2/repository/models/m/load").status, 200);
  EXPECT_EQ(State(), "READY");
}

TEST_F(RouterTest, WrongMethodOnUnloadDoesNotUnload) {
  ASSERT_TRUE(repo_->Load("m").ok());
  for (const char* method : {"GET", "DELETE", "PUT"}) {
    HttpReply r = Call(method, "/v2/repository/models/m/unload");
    EXPECT_EQ(r.status, 405) << method << ": " << r.body;
    EXPECT_EQ(State(), "READY") << method << " .../unload unloaded the model";
  }
  EXPECT_EQ(Call("POST", "/v2/repository/models/m/unload").status, 200);
  EXPECT_EQ(State(), "UNAVAILABLE");
}

TEST_F(RouterTest, MethodsAndPathsMatchTheTable) {
  ASSERT_TRUE(repo_->Load("m").ok());
  EXPECT_EQ(Call("GET", "/v2/health/live").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/m").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/m/versions/1/ready").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/m/config").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/m/stats").status, 200);
  EXPECT_EQ(Call("POST", "/v2/repository/index").status, 200);
  // Known paths, wrong methods; the reply says which method the path takes.
  HttpReply r = Call("POST", "/v2/health/live");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.body.find("GET"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/v2/repository/index").status, 405);
  EXPECT_EQ(Call("DELETE", "/v2/models/m").status, 405);
  EXPECT_EQ(Call("GET", "/v2/models/m/infer").status, 405);
  EXPECT_EQ(Call("POST", "/v2/models/m/versions/1/config").status, 405);
  // Unknown paths, whatever the method.
  EXPECT_EQ(Call("GET", "/v2/nope").status, 404);
  EXPECT_EQ(Call("POST", "/v2/repository/models/m/reload").status, 404);
  EXPECT_EQ(Call("GET", "/v2/models/m/versions/1/nope").status, 404);
  EXPECT_EQ(Call("DELETE", "/v2/repository/models/m").status, 404);
  EXPECT_EQ(Call("GET", "/v2/models/absent").status, 404);  // matched; the model is not found
  EXPECT_EQ(State(), "READY");
}

}  // namespace
}  // namespace optic::server

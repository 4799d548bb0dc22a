// Test helper for the server tests: a fixture whose model repository holds one null-backend model
// "m" (max batch 4, one input of 3 floats) in a directory of its own, removed after the test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "server/model_repository.h"

namespace optic::testing {

class NullModelRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("optic_repository_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "m" / "1");
    std::ofstream(dir_ / "m" / "config.pbtxt") << R"(backend: "null" max_batch_size: 4
      parameters { key: "shape" value: { string_value: "3" } })";
    std::ofstream(dir_ / "m" / "1" / "model.null") << "";
    repo_ = std::make_unique<server::ModelRepository>(dir_.string());
  }
  // A subclass resets what uses the repository first, then calls this.
  void TearDown() override {
    repo_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<server::ModelRepository> repo_;
};

}  // namespace optic::testing

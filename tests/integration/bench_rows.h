// The rows of a bench results file, for the end-to-end sweep tests: every line must parse and
// every row must pass the schema checker (failures are reported, the rows still returned).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/results.h"

namespace optic::bench {

inline std::vector<nlohmann::json> Rows(const std::string& path) {
  std::vector<nlohmann::json> rows;
  int bad = 0;
  EXPECT_TRUE(ReadRows(path, &rows, &bad).ok());
  EXPECT_EQ(bad, 0);
  for (const nlohmann::json& r : rows) EXPECT_EQ(ValidateRow(r), "") << r.dump();
  return rows;
}

}  // namespace optic::bench

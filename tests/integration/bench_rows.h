// The rows of a bench results file, for the end-to-end sweep tests: every line must parse and
// every row must pass the one reader in its strict mode (failures are reported, the rows still
// returned as the JSON objects the file holds).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/row.h"

namespace optic::bench {

// Why the one reader in its strict mode rejects `row` (results::FromJson); empty when it is valid.
inline std::string StrictError(const nlohmann::json& row) {
  results::Row typed;
  const Status s = results::FromJson(row, results::ReadMode::kStrict, &typed);
  return s.ok() ? "" : s.message();
}

// Every line of `path` that is a JSON object (a missing file: none).
inline std::vector<nlohmann::json> JsonLines(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) rows.push_back(std::move(j));
  }
  return rows;
}

inline std::vector<nlohmann::json> Rows(const std::string& path) {
  std::vector<results::Row> typed;
  std::vector<results::LineError> bad;
  EXPECT_TRUE(results::ReadFile(path, results::ReadMode::kStrict, &typed, &bad).ok());
  for (const results::LineError& e : bad) ADD_FAILURE() << path << ":" << e.line << ": " << e.status.ToString();
  return JsonLines(path);
}

}  // namespace optic::bench

#include "bench/results.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/manifest.h"

namespace optic::bench {

using nlohmann::json;

json RowSkeleton(const CellSpec& c, const RunInfo& run) {
  json r;
  r["schema"] = kSchemaVersion;
  r["kind"] = c.kind == CellKind::kEnsemble ? "ensemble" : c.kind == CellKind::kE2E ? "e2e" : "bench";
  r["run_id"] = run.run_id;
  r["cell_id"] = c.CellId();
  r["timestamp"] = UtcTimestamp();
  r["model"] = c.model;
  r["backend"] = c.backend;
  r["device"] = DeviceName(c.device);
  r["precision"] = PrecisionName(c.precision);
  r["batch_size"] = c.batch_size;
  r["threads"] = c.threads;
  r["scenario"] = ScenarioName(c.scenario);
  r["status"] = "failed";
  r["error"] = "not run";
  r["throughput_per_s"] = nullptr;
  r["latency_ms"] = json{{"p50", nullptr}, {"p90", nullptr}, {"p95", nullptr}, {"p99", nullptr},
                         {"p999", nullptr}, {"mean", nullptr}, {"min", nullptr}, {"max", nullptr}};
  r["latency_percentiles_valid"] = json{{"p90", false}, {"p99", false}, {"p999", false}};
  r["samples"] = 0;
  r["stable"] = false;
  r["windows"] = json::array();
  r["load_s"] = json{{"cold", nullptr}, {"cached", nullptr}};
  r["first_inference_ms"] = nullptr;
  r["peak_rss_mb"] = nullptr;
  r["gpu_mem_peak_mb"] = nullptr;
  r["power_w"] = nullptr;
  r["energy_j_per_inference"] = nullptr;
  r["cpu_energy_j_per_inference"] = nullptr;
  r["max_abs_err"] = nullptr;
  r["max_rel_err"] = nullptr;
  r["parity_reference"] = c.reference_name.empty() ? json(nullptr) : json(c.reference_name);
  json settings = SettingsToJson(c.settings);
  settings["backend_options"] = c.backend_options;
  r["settings"] = settings;
  r["versions"] = run.versions;
  r["host"] = run.host;
  r["command"] = run.command;
  // Where the model came from: a user's file (zoo models: null), and the converter that made
  // the file this backend loaded (null when it reads the source natively).
  auto or_null = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  r["source_file"] = or_null(c.source_file);
  r["source_sha256"] = or_null(c.source_sha256);
  r["converted_by"] = or_null(c.converted_by);
  r["input_data"] = or_null(c.inputs.data_file);
  if (c.kind == CellKind::kEnsemble) r["ensemble"] = json{{"members", c.members}};
  if (c.kind == CellKind::kE2E) {
    r["image_class"] = c.image_class;
    r["preprocess"] = c.preprocess;
    r["stages_ms"] = nullptr;
    r["inference_only_throughput_per_s"] = nullptr;
  }
  return r;
}

void SetLatency(const measure::Summary& s, json* row) {
  json& l = (*row)["latency_ms"];
  if (s.count == 0) return;
  l = json{{"p50", s.p50}, {"p90", s.p90}, {"p95", s.p95}, {"p99", s.p99},
           {"p999", s.p999}, {"mean", s.mean}, {"min", s.min}, {"max", s.max}};
  (*row)["latency_percentiles_valid"] = json{{"p90", s.p90_valid}, {"p99", s.p99_valid},
                                             {"p999", s.p999_valid}};
  (*row)["samples"] = s.count;
}

namespace {

enum Type : unsigned { kStr = 1, kInt = 2, kNum = 4, kBool = 8, kObj = 16, kArr = 32, kNull = 64 };

bool HasType(const json& v, unsigned types) {
  return ((types & kStr) && v.is_string()) || ((types & kInt) && v.is_number_integer()) ||
         ((types & kNum) && v.is_number()) || ((types & kBool) && v.is_boolean()) ||
         ((types & kObj) && v.is_object()) || ((types & kArr) && v.is_array()) ||
         ((types & kNull) && v.is_null());
}

struct Field {
  const char* name;
  unsigned types;
};

// The required fields of schema v1 and their types (docs/results-schema.md).
const Field kRequired[] = {
    {"schema", kInt}, {"kind", kStr}, {"run_id", kStr}, {"cell_id", kStr}, {"timestamp", kStr},
    {"model", kStr}, {"backend", kStr}, {"device", kStr}, {"precision", kStr},
    {"batch_size", kInt}, {"threads", kInt}, {"scenario", kStr}, {"status", kStr},
    {"error", kStr | kNull}, {"throughput_per_s", kNum | kNull}, {"latency_ms", kObj},
    {"latency_percentiles_valid", kObj}, {"samples", kInt}, {"stable", kBool},
    {"load_s", kObj}, {"first_inference_ms", kNum | kNull}, {"peak_rss_mb", kNum | kNull},
    {"gpu_mem_peak_mb", kNum | kNull}, {"power_w", kNum | kNull},
    {"energy_j_per_inference", kNum | kNull}, {"max_abs_err", kNum | kNull},
    {"max_rel_err", kNum | kNull}, {"settings", kObj}, {"versions", kObj}, {"host", kObj},
};

bool OneOf(const json& v, std::initializer_list<const char*> choices) {
  if (!v.is_string()) return false;
  for (const char* c : choices) {
    if (v.get<std::string>() == c) return true;
  }
  return false;
}

}  // namespace

std::string ValidateRow(const json& row) {
  if (!row.is_object()) return "row is not a JSON object";
  for (const Field& f : kRequired) {
    auto it = row.find(f.name);
    if (it == row.end()) return std::string("missing required field '") + f.name + "'";
    if (!HasType(*it, f.types)) {
      return std::string("field '") + f.name + "' has the wrong type: " + it->dump();
    }
  }
  if (row["schema"].get<int>() != kSchemaVersion) return "unknown schema version " + row["schema"].dump();
  if (!OneOf(row["kind"], {"bench", "load", "e2e", "ensemble", "pipeline"})) {
    return "bad kind " + row["kind"].dump();
  }
  if (!OneOf(row["status"], {"ok", "failed", "unsupported", "timeout"})) {
    return "bad status " + row["status"].dump();
  }
  if (!OneOf(row["scenario"], {"offline", "single_stream", "server", "server_search"}) &&
      row["kind"] != "load" && row["kind"] != "e2e" && row["kind"] != "pipeline") {
    return "bad scenario " + row["scenario"].dump();
  }
  for (const char* k : {"p50", "p90", "p95", "p99", "p999", "mean", "min", "max"}) {
    auto it = row["latency_ms"].find(k);
    if (it == row["latency_ms"].end() || !HasType(*it, kNum | kNull)) {
      return std::string("latency_ms.") + k + " missing or not a number/null";
    }
  }
  for (const char* k : {"p90", "p99", "p999"}) {
    auto it = row["latency_percentiles_valid"].find(k);
    if (it == row["latency_percentiles_valid"].end() || !it->is_boolean()) {
      return std::string("latency_percentiles_valid.") + k + " missing or not a bool";
    }
  }
  for (const char* k : {"cold", "cached"}) {
    auto it = row["load_s"].find(k);
    if (it == row["load_s"].end() || !HasType(*it, kNum | kNull)) {
      return std::string("load_s.") + k + " missing or not a number/null";
    }
  }
  if (row["batch_size"].get<int64_t>() < 1) return "batch_size < 1";
  const bool ok = row["status"] == "ok";
  if (ok && !row["error"].is_null()) return "status ok with an error";
  if (!ok && !row["error"].is_string()) return "status " + row["status"].dump() + " without an error";
  if (ok && (!row["throughput_per_s"].is_number() || row["latency_ms"]["p50"].is_null() ||
             row["samples"].get<int64_t>() < 1)) {
    return "status ok without throughput_per_s, latency_ms.p50 or samples";
  }
  if (row.contains("server") && !row["server"].is_object()) return "server is not an object";
  // Optional fields of repeats and contention (docs/results-schema.md): typed when present.
  for (const char* k : {"repeat", "repeats"}) {
    if (row.contains(k) && (!row[k].is_number_integer() || row[k].get<int64_t>() < 1)) {
      return std::string(k) + " is not an integer >= 1: " + row[k].dump();
    }
  }
  if (row.contains("repeat") && row.contains("repeats") && row["repeat"].is_number_integer() &&
      row["repeat"].get<int64_t>() > row["repeats"].get<int64_t>()) {
    return "repeat " + row["repeat"].dump() + " > repeats " + row["repeats"].dump();
  }
  for (const char* k : {"host_other_cpu", "cpu_steal_pct", "loadavg_1m"}) {
    if (row.contains(k) && !HasType(row[k], kNum | kNull)) return std::string(k) + " is not a number or null";
  }
  // Parity agreement (docs/results-schema.md); absent in older files.
  for (const char* k : {"rel_l2_err", "cosine_similarity", "top1_agreement", "top5_agreement"}) {
    if (row.contains(k) && !HasType(row[k], kNum | kNull)) return std::string(k) + " is not a number or null";
  }
  for (const char* k : {"top1_agreement", "top5_agreement"}) {
    if (row.contains(k) && row[k].is_number() && (row[k].get<double>() < 0 || row[k].get<double>() > 1)) {
      return std::string(k) + " is not in [0, 1]: " + row[k].dump();
    }
  }
  if (row.contains("parity_samples") && !row["parity_samples"].is_number_integer()) {
    return "parity_samples is not an integer";
  }
  if (row.contains("parity_pass") && !HasType(row["parity_pass"], kBool | kNull)) {
    return "parity_pass is not a bool or null";
  }
  if (row.contains("parity_failure") && !HasType(row["parity_failure"], kStr | kNull)) {
    return "parity_failure is not a string or null";
  }
  if (row.value("parity_pass", json()) == false && !row.value("parity_failure", json()).is_string()) {
    return "parity_pass false without parity_failure saying why";
  }
  // Model files (docs/results-schema.md); absent in older files.
  for (const char* k : {"source_file", "source_sha256", "converted_by", "input_data"}) {
    if (row.contains(k) && !HasType(row[k], kStr | kNull)) return std::string(k) + " is not a string or null";
  }
  if (row.contains("source_sha256") && row["source_sha256"].is_string() &&
      row["source_sha256"].get<std::string>().size() != 64) {
    return "source_sha256 is not 64 hex digits";
  }
  if (row.contains("input_shapes")) {
    if (!row["input_shapes"].is_object()) return "input_shapes is not an object";
    for (const auto& [name, v] : row["input_shapes"].items()) {
      if (!v.is_object() || !v.contains("shape") || !v["shape"].is_array() || !v.contains("dtype") ||
          !v["dtype"].is_string()) {
        return "input_shapes." + name + " is not {dtype, shape}";
      }
    }
  }
  if (row.contains("contended") && !HasType(row["contended"], kBool | kNull)) {
    return "contended is not a bool or null";
  }
  if (row["scenario"] == "server" && ok) {
    for (const char* k : {"target_qps", "achieved_qps", "late_fraction", "generator_fell_behind"}) {
      if (!row["server"].contains(k)) return std::string("server row without server.") + k;
    }
  }
  if (row["kind"] == "ensemble" && (!row.contains("ensemble") || !row["ensemble"].is_object() ||
                                    !row["ensemble"].contains("members"))) {
    return "ensemble row without ensemble.members";
  }
  if (row["kind"] == "e2e") {
    if (!row.contains("image_class") || !row["image_class"].is_string()) return "e2e row without image_class";
    if (!OneOf(row.value("preprocess", json()), {"cpu", "gpu"})) return "e2e row without preprocess cpu|gpu";
    if (ok) {
      const json& st = row.value("stages_ms", json());
      if (!st.is_object()) return "ok e2e row without stages_ms";
      for (const char* k : {"decode", "preprocess", "h2d", "infer", "d2h"}) {
        if (!st.contains(k) || !st[k].is_number()) return std::string("e2e row: stages_ms.") + k + " missing";
      }
    }
  }
  return "";
}

Status ValidateFile(const std::string& path, FileCheck* out) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("results file '" + path + "' cannot be read");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    json row = json::parse(line, nullptr, false);
    const std::string err = row.is_discarded() ? "not valid JSON" : ValidateRow(row);
    ++out->rows;
    if (!err.empty()) out->errors.push_back("line " + std::to_string(n) + ": " + err);
  }
  return Status::OK();
}

ResultsWriter::~ResultsWriter() {
  if (fd_ >= 0) close(fd_);
}

Status ResultsWriter::Open(const std::string& path) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return Status::NotFound("cannot open results file '" + path + "': " + std::strerror(errno));
  }
  path_ = path;
  return Status::OK();
}

Status ResultsWriter::Append(const json& row) {
  if (fd_ < 0) return Status::Internal("results writer is not open");
  const std::string line = row.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  // One write() of the whole line: with O_APPEND it lands as a unit, never interleaved.
  const ssize_t n = write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    return Status::Internal("writing a row to '" + path_ + "' failed: " +
                            (n < 0 ? std::strerror(errno) : "short write"));
  }
  if (fsync(fd_) != 0) return Status::Internal("fsync of '" + path_ + "' failed: " + std::strerror(errno));
  return Status::OK();
}

Status ReadRows(const std::string& path, std::vector<json>* rows, int* bad_lines) {
  *bad_lines = 0;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::OK();
  std::ifstream in(path);
  if (!in) return Status::NotFound("results file '" + path + "' cannot be read");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json row = json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object()) {
      ++*bad_lines;
      continue;
    }
    rows->push_back(std::move(row));
  }
  return Status::OK();
}

}  // namespace optic::bench

#include "bench/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "optic/parse_number.h"
#include "optic/registry.h"

namespace optic::bench {

using nlohmann::json;

const char* ScenarioName(Scenario s) {
  switch (s) {
    case Scenario::kOffline: return "offline";
    case Scenario::kSingleStream: return "single_stream";
    case Scenario::kServer: return "server";
    case Scenario::kServerSearch: return "server_search";
  }
  return "?";
}

Status ParseScenario(const std::string& text, Scenario* out) {
  for (Scenario s : {Scenario::kOffline, Scenario::kSingleStream, Scenario::kServer,
                     Scenario::kServerSearch}) {
    if (text == ScenarioName(s)) {
      *out = s;
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unknown scenario '" + text +
                                 "' (choose offline, single_stream, server, server_search)");
}

const char* CellKindName(CellKind k) {
  switch (k) {
    case CellKind::kBench: return "bench";
    case CellKind::kEnsemble: return "ensemble";
    case CellKind::kReference: return "reference";
    case CellKind::kE2E: return "e2e";
  }
  return "?";
}

namespace {

// One table of the settings' fields, so JSON in and out cannot drift apart.
template <typename Fn>
void ForEachSetting(MeasureSettings& s, Fn&& fn) {
  fn("warmup_ms", s.warmup_ms);
  fn("warmup_runs", s.warmup_runs);
  fn("min_duration_s", s.min_duration_s);
  fn("min_samples", s.min_samples);
  fn("max_duration_s", s.max_duration_s);
  fn("window_s", s.window_s);
  fn("window_min_queries", s.window_min_queries);
  fn("pool_bytes", s.pool_bytes);
  fn("pool_min_batches", s.pool_min_batches);
  fn("seed", s.seed);
  fn("check_seed", s.check_seed);
  fn("timeout_s", s.timeout_s);
  fn("qps", s.qps);
  fn("max_queue_delay_ms", s.max_queue_delay_ms);
  fn("p99_bound_ms", s.p99_bound_ms);
  fn("search_steps", s.search_steps);
  fn("pipeline_depth", s.pipeline_depth);
  fn("pinned_inputs", s.pinned_inputs);
}

Status CheckSettings(const MeasureSettings& s) {
  if (s.min_duration_s <= 0 || s.max_duration_s < s.min_duration_s) {
    return Status::InvalidArgument("bench: need 0 < min_duration_s <= max_duration_s (got " +
                                   std::to_string(s.min_duration_s) + ", " +
                                   std::to_string(s.max_duration_s) + ")");
  }
  if (s.timeout_s <= 0) return Status::InvalidArgument("bench: timeout_s must be > 0");
  if (s.warmup_ms < 0 || s.warmup_runs < 0 || s.min_samples < 1 || s.window_min_queries < 1 ||
      s.pool_min_batches < 1 || s.pool_bytes < 0 || s.qps < 0 || s.max_queue_delay_ms < 0 ||
      s.p99_bound_ms < 0 || s.search_steps < 1 || s.pipeline_depth < 0 ||
      (s.pinned_inputs != 0 && s.pinned_inputs != 1)) {
    return Status::InvalidArgument("bench: a measurement setting is out of range (negative, or "
                                   "min_samples/window_min_queries/pool_min_batches/search_steps < 1, "
                                   "pinned_inputs not 0/1)");
  }
  return Status::OK();
}

template <typename T>
Status GetList(const json& j, const char* key, std::vector<T>* out) {
  if (!j.is_array()) return Status::InvalidArgument(std::string("config: '") + key + "' must be a list");
  for (const auto& v : j) {
    try {
      out->push_back(v.get<T>());
    } catch (const json::exception&) {
      return Status::InvalidArgument(std::string("config: '") + key + "' has a bad item " + v.dump());
    }
  }
  return Status::OK();
}

}  // namespace

json SettingsToJson(const MeasureSettings& s) {
  json j = json::object();
  MeasureSettings copy = s;
  ForEachSetting(copy, [&](const char* key, auto& field) { j[key] = field; });
  return j;
}

Status SettingsFromJson(const json& j, MeasureSettings* out) {
  if (!j.is_object()) return Status::InvalidArgument("settings must be a JSON object");
  MeasureSettings s = *out;
  size_t known = 0;
  Status status;
  ForEachSetting(s, [&](const char* key, auto& field) {
    auto it = j.find(key);
    if (it == j.end()) return;
    ++known;
    try {
      field = it->template get<std::decay_t<decltype(field)>>();
    } catch (const json::exception&) {
      status = Status::InvalidArgument(std::string("setting '") + key + "' has a bad value " +
                                       it->dump());
    }
  });
  OPTIC_RETURN_IF_ERROR(status);
  if (known != j.size()) {
    for (const auto& [k, v] : j.items()) {
      if (!SettingsToJson(s).contains(k)) {
        return Status::InvalidArgument("unknown setting '" + k + "' (docs/bench.md lists them)");
      }
    }
  }
  OPTIC_RETURN_IF_ERROR(CheckSettings(s));
  *out = s;
  return Status::OK();
}

std::string CellSpec::CellId() const {
  std::string m = model;
  if (kind == CellKind::kEnsemble) {
    m = "ensemble:";
    for (size_t i = 0; i < members.size(); ++i) m += (i ? "+" : "") + members[i];
  }
  std::string id = m + "|" + backend + "|" + DeviceName(device) + "|" + PrecisionName(precision) +
                   "|b" + std::to_string(batch_size) + "|t" + std::to_string(threads) + "|" +
                   ScenarioName(scenario);
  if (kind == CellKind::kE2E) id += "|e2e:" + image_class + ":" + preprocess;
  return id;
}

json CellToJson(const CellSpec& c) {
  return json{{"kind", CellKindName(c.kind)},
              {"model", c.model},
              {"members", c.members},
              {"backend", c.backend},
              {"device", DeviceName(c.device)},
              {"precision", PrecisionName(c.precision)},
              {"batch_size", c.batch_size},
              {"threads", c.threads},
              {"scenario", ScenarioName(c.scenario)},
              {"backend_options", c.backend_options},
              {"settings", SettingsToJson(c.settings)},
              {"models_dir", c.models_dir},
              {"work_dir", c.work_dir},
              {"reference_file", c.reference_file},
              {"reference_name", c.reference_name},
              {"image_class", c.image_class},
              {"preprocess", c.preprocess},
              {"model_file", c.model_file},
              {"source_file", c.source_file},
              {"source_sha256", c.source_sha256},
              {"converted_by", c.converted_by},
              {"inputs", InputSettingsToJson(c.inputs)}};
}

Status CellFromJson(const json& j, CellSpec* out) {
  CellSpec c;
  try {
    const std::string kind = j.at("kind").get<std::string>();
    if (kind == "bench") c.kind = CellKind::kBench;
    else if (kind == "ensemble") c.kind = CellKind::kEnsemble;
    else if (kind == "reference") c.kind = CellKind::kReference;
    else if (kind == "e2e") c.kind = CellKind::kE2E;
    else return Status::InvalidArgument("cell: unknown kind '" + kind + "'");
    c.model = j.at("model").get<std::string>();
    c.members = j.at("members").get<std::vector<std::string>>();
    c.backend = j.at("backend").get<std::string>();
    OPTIC_RETURN_IF_ERROR(ParseDevice(j.at("device").get<std::string>(), &c.device));
    OPTIC_RETURN_IF_ERROR(ParsePrecision(j.at("precision").get<std::string>(), &c.precision));
    c.batch_size = j.at("batch_size").get<int>();
    c.threads = j.at("threads").get<int>();
    OPTIC_RETURN_IF_ERROR(ParseScenario(j.at("scenario").get<std::string>(), &c.scenario));
    c.backend_options = j.at("backend_options").get<std::map<std::string, std::string>>();
    OPTIC_RETURN_IF_ERROR(SettingsFromJson(j.at("settings"), &c.settings));
    c.models_dir = j.at("models_dir").get<std::string>();
    c.work_dir = j.at("work_dir").get<std::string>();
    c.reference_file = j.at("reference_file").get<std::string>();
    c.reference_name = j.at("reference_name").get<std::string>();
    c.image_class = j.value("image_class", std::string());
    c.preprocess = j.value("preprocess", std::string());
    c.model_file = j.value("model_file", std::string());
    c.source_file = j.value("source_file", std::string());
    c.source_sha256 = j.value("source_sha256", std::string());
    c.converted_by = j.value("converted_by", std::string());
    OPTIC_RETURN_IF_ERROR(InputSettingsFromJson(j.value("inputs", std::string()), &c.inputs));
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("cell: malformed cell JSON: ") + e.what());
  }
  if (c.batch_size < 1) return Status::InvalidArgument("cell: batch_size must be >= 1");
  *out = std::move(c);
  return Status::OK();
}

std::string BatchListText(const std::vector<int>& batches) {
  std::string out;
  for (int b : batches) out += (out.empty() ? "" : ",") + std::to_string(b);
  return out;
}

Status ParseBatchList(const std::string& text, std::vector<int>* out) {
  constexpr int kMaxBatch = 65536;
  auto is_pow2 = [](int v) { return (v & (v - 1)) == 0; };
  std::vector<int> batches;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
    if (item.empty()) continue;
    const size_t dash = item.find('-', 1);
    if (dash == std::string::npos) {
      OPTIC_RETURN_IF_ERROR(ParseInteger(item, "--batch", 1, kMaxBatch, &batches.emplace_back()));
      continue;
    }
    int lo, hi;
    OPTIC_RETURN_IF_ERROR(ParseInteger(item.substr(0, dash), "--batch", 1, kMaxBatch, &lo)
                              .Prefixed("range '" + item + "'"));
    OPTIC_RETURN_IF_ERROR(ParseInteger(item.substr(dash + 1), "--batch", 1, kMaxBatch, &hi)
                              .Prefixed("range '" + item + "'"));
    if (lo > hi) {
      return Status::InvalidArgument("--batch: range '" + item + "' is reversed (write " +
                                     std::to_string(hi) + "-" + std::to_string(lo) + ")");
    }
    if (!is_pow2(lo) || !is_pow2(hi)) {
      std::string every;
      for (int v = lo; v <= hi && v < lo + 8; ++v) every += (every.empty() ? "" : ",") + std::to_string(v);
      if (hi >= lo + 8) every += ",...";
      return Status::InvalidArgument(
          "--batch: range '" + item + "' has a bound that is not a power of two; a range steps in "
          "powers of two (1-64 means 1,2,4,8,16,32,64), so both bounds must be powers of two. "
          "For every size from " + std::to_string(lo) + " to " + std::to_string(hi) +
          " list them: " + every);
    }
    for (int p = lo; p <= hi; p *= 2) batches.push_back(p);
  }
  if (batches.empty()) {
    return Status::InvalidArgument("--batch: no batch sizes in '" + text + "' (e.g. 1,8 or 1-64)");
  }
  std::vector<int> sorted = batches;
  std::sort(sorted.begin(), sorted.end());
  const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
  if (dup != sorted.end()) {
    return Status::InvalidArgument("--batch: size " + std::to_string(*dup) + " appears more than once in '" +
                                   text + "' (each size runs once; drop the repeat)");
  }
  *out = std::move(batches);
  return Status::OK();
}

Status ValidateBackendOptions(const BackendOptionMap& options) {
  for (const auto& [name, opts] : options) {
    std::unique_ptr<Backend> backend;
    OPTIC_RETURN_IF_ERROR(CreateBackend(name, &backend).Prefixed("--backend-option"));
    for (const auto& [key, value] : opts) {
      LoadOptions scratch;
      OPTIC_RETURN_IF_ERROR(ParseLoadOption(*backend, key + "=" + value, &scratch)
                                .Prefixed("--backend-option " + name + ":" + key + "=" + value));
    }
  }
  return Status::OK();
}

Status ParseBackendOption(const std::string& text, BackendOptionMap* out) {
  const size_t colon = text.find(':');
  const size_t eq = text.find('=', colon == std::string::npos ? 0 : colon);
  if (colon == std::string::npos || eq == std::string::npos || colon == 0 || eq == colon + 1) {
    return Status::InvalidArgument("--backend-option: '" + text +
                                   "' is not like backend:key=value (e.g. null:fail=crash)");
  }
  (*out)[text.substr(0, colon)][text.substr(colon + 1, eq - colon - 1)] = text.substr(eq + 1);
  return Status::OK();
}

Status ConfigFromJson(const json& j, BenchConfig* out) {
  if (!j.is_object()) return Status::InvalidArgument("config: the file must hold a JSON object");
  BenchConfig c = *out;
  for (const auto& [key, v] : j.items()) {
    if (key == "models") OPTIC_RETURN_IF_ERROR(GetList(v, "models", &c.models));
    else if (key == "backends") OPTIC_RETURN_IF_ERROR(GetList(v, "backends", &c.backends));
    else if (key == "ensemble") OPTIC_RETURN_IF_ERROR(GetList(v, "ensemble", &c.ensemble));
    else if (key == "threads") OPTIC_RETURN_IF_ERROR(GetList(v, "threads", &c.threads));
    else if (key == "image_class") OPTIC_RETURN_IF_ERROR(GetList(v, "image_class", &c.image_classes));
    else if (key == "preprocess") OPTIC_RETURN_IF_ERROR(GetList(v, "preprocess", &c.preprocess));
    else if (key == "e2e") {
      if (!v.is_boolean()) return Status::InvalidArgument("config: 'e2e' must be true or false");
      c.e2e = v.get<bool>();
    }
    else if (key == "batch") {
      if (v.is_string()) OPTIC_RETURN_IF_ERROR(ParseBatchList(v.get<std::string>(), &c.batches));
      else OPTIC_RETURN_IF_ERROR(GetList(v, "batch", &c.batches));
    } else if (key == "precision" || key == "device" || key == "scenario") {
      std::vector<std::string> items;
      OPTIC_RETURN_IF_ERROR(GetList(v, key.c_str(), &items));
      for (const auto& s : items) {
        if (key == "scenario" && s == "e2e") {
          c.e2e = true;
          continue;
        }
        if (key == "precision") {
          OPTIC_RETURN_IF_ERROR(ParsePrecision(s, &c.precisions.emplace_back()));
        } else if (key == "device") {
          OPTIC_RETURN_IF_ERROR(ParseDevice(s, &c.devices.emplace_back()));
        } else {
          OPTIC_RETURN_IF_ERROR(ParseScenario(s, &c.scenarios.emplace_back()));
        }
      }
    } else if (key == "backend_options") {
      try {
        c.backend_options = v.get<BackendOptionMap>();
      } catch (const json::exception&) {
        return Status::InvalidArgument("config: backend_options must be {backend: {key: value}}");
      }
    } else if (key == "settings") {
      OPTIC_RETURN_IF_ERROR(SettingsFromJson(v, &c.settings).Prefixed("config"));
    } else if (key == "reference" || key == "models_dir" || key == "out") {
      if (!v.is_string()) return Status::InvalidArgument("config: '" + key + "' must be a string");
      (key == "reference" ? c.reference : key == "models_dir" ? c.models_dir : c.out) = v.get<std::string>();
    } else if (key == "repeat") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kMaxRepeat) {
        return Status::InvalidArgument("config: 'repeat' must be an integer from 1 to " +
                                       std::to_string(kMaxRepeat) + ", got " + v.dump());
      }
      c.repeat = v.get<int>();
    } else if (key == "resume") {
      if (!v.is_boolean()) return Status::InvalidArgument("config: 'resume' must be true or false");
      c.resume = v.get<bool>();
    } else {
      return Status::InvalidArgument("config: unknown key '" + key + "' (docs/bench.md lists them)");
    }
  }
  *out = std::move(c);
  return Status::OK();
}

Status LoadConfigFile(const std::string& path, BenchConfig* out) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("config file '" + path + "' cannot be read");
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) return Status::InvalidArgument("config file '" + path + "' is not valid JSON");
  return ConfigFromJson(j, out).Prefixed(path);
}

}  // namespace optic::bench

// Results-file reader: JSON Lines, one row per line, schema v1 (docs/results-schema.md).
#include "report/results.h"
#include "measure/stats.h"

#include <fstream>
#include <map>
#include <sstream>

namespace optic::report {

namespace {

using nlohmann::json;

Status FieldError(const std::string& field, const std::string& want, const json& got) {
  return Status::InvalidArgument("field '" + field + "' must be " + want + ", got " +
                                 std::string(got.type_name()) + " " + got.dump().substr(0, 40));
}

// Optional number: absent or null leaves `out` empty.
Status GetNumber(const json& obj, const char* field, std::optional<double>* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return Status::OK();
  if (!it->is_number()) return FieldError(field, "a number or null", *it);
  *out = it->get<double>();
  return Status::OK();
}

Status GetString(const json& obj, const char* field, bool required, std::string* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) {
    return required ? Status::InvalidArgument("missing required field '" + std::string(field) + "'")
                    : Status::OK();
  }
  if (!it->is_string()) return FieldError(field, "a string", *it);
  *out = it->get<std::string>();
  return Status::OK();
}

Status GetInt(const json& obj, const char* field, bool required, int* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) {
    return required ? Status::InvalidArgument("missing required field '" + std::string(field) + "'")
                    : Status::OK();
  }
  if (!it->is_number_integer()) return FieldError(field, "an integer", *it);
  *out = it->get<int>();
  return Status::OK();
}

Status GetObject(const json& obj, const char* field, json* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return Status::OK();
  if (!it->is_object()) return FieldError(field, "an object", *it);
  *out = *it;
  return Status::OK();
}

Status ParseLatency(const json& obj, Row* r) {
  json lat;
  OPTIC_RETURN_IF_ERROR(GetObject(obj, "latency_ms", &lat));
  if (lat.is_null()) return Status::OK();
  LatencyMs& l = r->latency_ms;
  const std::pair<const char*, std::optional<double>*> fields[] = {
      {"p50", &l.p50}, {"p90", &l.p90}, {"p95", &l.p95}, {"p99", &l.p99}, {"p999", &l.p999},
      {"mean", &l.mean}, {"min", &l.min}, {"max", &l.max}};
  for (const auto& [name, dst] : fields) {
    Status s = GetNumber(lat, name, dst);
    if (!s.ok()) return s.Prefixed("latency_ms");
  }
  // Validity: as written by the producer; when absent, judged from the sample count with the
  // same thresholds the bench uses (docs/results-schema.md), unknown counts count as valid.
  json valid;
  OPTIC_RETURN_IF_ERROR(GetObject(obj, "latency_percentiles_valid", &valid));
  const std::tuple<const char*, bool*, int64_t> rules[] = {
      {"p90", &r->p90_valid, measure::kMinSamplesP90},
      {"p99", &r->p99_valid, measure::kMinSamplesP99},
      {"p999", &r->p999_valid, measure::kMinSamplesP999}};
  for (const auto& [name, dst, min_samples] : rules) {
    if (valid.is_object() && valid.contains(name)) {
      if (!valid[name].is_boolean()) {
        return FieldError(std::string("latency_percentiles_valid.") + name, "a boolean", valid[name]);
      }
      *dst = valid[name].get<bool>();
    } else if (r->samples) {
      *dst = *r->samples >= min_samples;
    }
  }
  return Status::OK();
}

Status ParseOptionalParts(const json& o, Row* r) {
  json load, stages;
  OPTIC_RETURN_IF_ERROR(GetObject(o, "load_s", &load));
  if (load.is_object()) {
    OPTIC_RETURN_IF_ERROR(GetNumber(load, "cold", &r->load_cold_s).Prefixed("load_s"));
    OPTIC_RETURN_IF_ERROR(GetNumber(load, "cached", &r->load_cached_s).Prefixed("load_s"));
  }
  const std::pair<const char*, std::optional<double>*> numbers[] = {
      {"throughput_per_s", &r->throughput_per_s},
      {"first_inference_ms", &r->first_inference_ms},
      {"peak_rss_mb", &r->peak_rss_mb},
      {"gpu_mem_peak_mb", &r->gpu_mem_peak_mb},
      {"power_w", &r->power_w},
      {"energy_j_per_inference", &r->energy_j_per_inference},
      {"cpu_energy_j_per_inference", &r->cpu_energy_j_per_inference},
      {"max_abs_err", &r->max_abs_err},
      {"max_rel_err", &r->max_rel_err},
      {"rel_l2_err", &r->rel_l2_err},
      {"cosine_similarity", &r->cosine_similarity},
      {"top1_agreement", &r->top1_agreement},
      {"top5_agreement", &r->top5_agreement},
      {"host_other_cpu", &r->host_other_cpu},
      {"cpu_steal_pct", &r->cpu_steal_pct},
      {"loadavg_1m", &r->loadavg_1m}};
  for (const auto& [name, dst] : numbers) OPTIC_RETURN_IF_ERROR(GetNumber(o, name, dst));
  OPTIC_RETURN_IF_ERROR(GetObject(o, "stages_ms", &stages));
  if (stages.is_object()) {
    for (const auto& [name, value] : stages.items()) {
      if (value.is_null()) continue;
      if (!value.is_number()) return FieldError("stages_ms." + name, "a number or null", value);
      r->stages_ms.emplace_back(name, value.get<double>());
    }
  }
  if (o.contains("concurrency") && !o["concurrency"].is_null()) {
    int c = 0;
    OPTIC_RETURN_IF_ERROR(GetInt(o, "concurrency", true, &c));
    r->concurrency = c;
  }
  if (o.contains("samples") && !o["samples"].is_null()) {
    if (!o["samples"].is_number_integer()) return FieldError("samples", "an integer", o["samples"]);
    r->samples = o["samples"].get<long long>();
  }
  if (o.contains("contended") && !o["contended"].is_null()) {
    if (!o["contended"].is_boolean()) return FieldError("contended", "a boolean", o["contended"]);
    r->contended = o["contended"].get<bool>();
  }
  OPTIC_RETURN_IF_ERROR(GetInt(o, "repeat", false, &r->repeat));
  OPTIC_RETURN_IF_ERROR(GetInt(o, "repeats", false, &r->repeats));
  if (r->repeat < 1 || r->repeats < 1) {
    return Status::InvalidArgument("fields 'repeat' and 'repeats' must be >= 1");
  }
  if (o.contains("stable") && !o["stable"].is_null()) {
    if (!o["stable"].is_boolean()) return FieldError("stable", "a boolean", o["stable"]);
    r->stable = o["stable"].get<bool>();
  }
  if (o.contains("parity_pass") && !o["parity_pass"].is_null()) {
    if (!o["parity_pass"].is_boolean()) return FieldError("parity_pass", "a boolean", o["parity_pass"]);
    r->parity_pass = o["parity_pass"].get<bool>();
  }
  OPTIC_RETURN_IF_ERROR(GetString(o, "parity_failure", false, &r->parity_failure));
  OPTIC_RETURN_IF_ERROR(GetObject(o, "server", &r->server));
  OPTIC_RETURN_IF_ERROR(GetObject(o, "ensemble", &r->ensemble));
  OPTIC_RETURN_IF_ERROR(GetObject(o, "settings", &r->settings));
  OPTIC_RETURN_IF_ERROR(GetObject(o, "versions", &r->versions));
  OPTIC_RETURN_IF_ERROR(GetObject(o, "host", &r->host));
  return Status::OK();
}

}  // namespace

Status ParseRow(const std::string& text, Row* out) {
  json o = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (o.is_discarded()) return Status::InvalidArgument("not valid JSON");
  if (!o.is_object()) return Status::InvalidArgument("a row must be a JSON object");
  auto schema = o.find("schema");
  if (schema == o.end()) return Status::InvalidArgument("missing required field 'schema'");
  if (!schema->is_number_integer()) return FieldError("schema", "an integer", *schema);
  if (schema->get<int>() != kSchemaVersion) {
    // kUnsupported, not kInvalidArgument: the caller never skips this one.
    return Status::Unsupported("results schema version " + std::to_string(schema->get<int>()) +
                               " is not supported (this optic reads version " +
                               std::to_string(kSchemaVersion) + "); use a matching optic report");
  }
  Row r;
  OPTIC_RETURN_IF_ERROR(GetString(o, "kind", false, &r.kind));
  for (auto [name, dst] : {std::pair{"model", &r.model}, {"backend", &r.backend},
                           {"device", &r.device}, {"precision", &r.precision},
                           {"status", &r.status}}) {
    OPTIC_RETURN_IF_ERROR(GetString(o, name, true, dst));
  }
  for (auto [name, dst] : {std::pair{"run_id", &r.run_id}, {"cell_id", &r.cell_id},
                           {"timestamp", &r.timestamp}, {"scenario", &r.scenario},
                           {"error", &r.error}, {"parity_reference", &r.parity_reference},
                           {"command", &r.command}}) {
    OPTIC_RETURN_IF_ERROR(GetString(o, name, false, dst));
  }
  OPTIC_RETURN_IF_ERROR(GetInt(o, "batch_size", true, &r.batch_size));
  OPTIC_RETURN_IF_ERROR(GetInt(o, "threads", false, &r.threads));
  if (r.batch_size < 1) return Status::InvalidArgument("field 'batch_size' must be >= 1");
  if (r.status != "ok" && r.status != "failed" && r.status != "unsupported" &&
      r.status != "timeout") {
    return Status::InvalidArgument("field 'status' must be ok, failed, unsupported or timeout, got '" +
                                   r.status + "'");
  }
  OPTIC_RETURN_IF_ERROR(ParseOptionalParts(o, &r));
  OPTIC_RETURN_IF_ERROR(ParseLatency(o, &r));
  *out = std::move(r);
  return Status::OK();
}

Status LoadResultsFile(const std::string& path, const LoadOptions& options, ResultsSet* set) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open results file '" + path + "'");
  std::vector<Row> rows;
  std::map<std::string, size_t> index;  // (host, match key) -> position in rows
  std::string text;
  int line = 0, superseded = 0;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    Row row;
    Status s = ParseRow(text, &row);
    if (s.code() == StatusCode::kUnsupported || (!s.ok() && options.strict)) {
      return Status(s.code(), path + ":" + std::to_string(line) + ": " + s.message());
    }
    if (!s.ok()) {
      set->warnings.push_back({path, line, "skipped malformed line: " + s.message()});
      continue;
    }
    row.file = path;
    row.line = line;
    // cell_id does not name the backend options, so rows of two configurations (files joined
    // with cat) are two cells, not a re-run of one.
    // Repeats of one cell (optic bench --repeat) are not re-runs: each index keeps its own row.
    std::string key =
        JsonString(row.host, "hostname") + "\n" + row.MatchKey() + "\n" + row.OptionsLabel();
    if (row.repeat > 1) key += "\n#" + std::to_string(row.repeat);
    auto [it, inserted] = index.emplace(key, rows.size());
    if (inserted) {
      rows.push_back(std::move(row));
    } else {
      rows[it->second] = std::move(row);  // the later measurement of the same cell wins
      ++superseded;
    }
  }
  if (in.bad()) return Status::Internal("error reading '" + path + "'");
  if (superseded) {
    set->warnings.push_back({path, 0, std::to_string(superseded) +
                                          " row(s) replaced by a later row of the same cell "
                                          "(resumed or repeated sweep); the later one is shown"});
  }
  if (rows.empty()) {
    set->warnings.push_back({path, 0, "no usable rows"});
  }
  set->files.push_back(path);
  for (auto& r : rows) set->rows.push_back(std::move(r));
  return Status::OK();
}

std::string Row::MatchKey() const {
  if (!cell_id.empty()) return cell_id;
  std::ostringstream k;
  k << model << '|' << backend << '|' << device << '|' << precision << "|b" << batch_size << "|t"
    << threads << '|' << scenario << '|' << kind;
  if (concurrency) k << "|c" << *concurrency;
  return k.str();
}

std::string Row::Hardware() const {
  const bool gpu = device.rfind("cuda", 0) == 0 || device.rfind("gpu", 0) == 0;
  return JsonString(host, gpu ? "gpu" : "cpu", device);
}

std::string JsonString(const nlohmann::json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string Row::OptionsLabel() const {
  if (!settings.is_object()) return "";
  auto it = settings.find("backend_options");
  if (it == settings.end() || !it->is_object()) return "";
  std::string out;
  for (const auto& [key, value] : it->items()) {  // nlohmann::json objects iterate in key order
    const std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    out += (out.empty() ? "+" : " +") + key;
    if (v != "true") out += "=" + v;
  }
  return out;
}

std::string Row::Config() const {
  const std::string options = OptionsLabel();
  return options.empty() ? backend : backend + " " + options;
}

std::string Row::Label() const {
  std::string s = model + " " + Config() + " " + device + " " + precision + " b" +
                  std::to_string(batch_size);
  if (concurrency) s += " c" + std::to_string(*concurrency);
  return s;
}

std::string LoadWarning::ToString() const {
  return line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
}

}  // namespace optic::report

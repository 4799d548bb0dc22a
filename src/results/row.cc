#include "results/row.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <tuple>

#include "measure/stats.h"

namespace optic::results {

using nlohmann::json;

namespace {

// ---- writing one field: empty values are null, omitted or "" by the field's rules ----

void Put(json& o, const char* name, const std::string& v, unsigned rules) {
  if (!v.empty()) o[name] = v;
  else if (rules & kOmit) return;
  else o[name] = (rules & kNull) ? json(nullptr) : json("");
}
void Put(json& o, const char* name, int v, unsigned) { o[name] = v; }
template <class T>
void Put(json& o, const char* name, const std::optional<T>& v, unsigned rules) {
  if (v) o[name] = *v;
  else if (!(rules & kOmit)) o[name] = nullptr;
}
void Put(json& o, const char* name, const json& v, unsigned rules) {
  if (!v.is_null() || !(rules & kOmit)) o[name] = v;
}

// ---- reading one field: absent and null leave the default ----

Status FieldError(const std::string& field, const std::string& want, const json& got) {
  return Status::InvalidArgument("field '" + field + "' must be " + want + ", got " +
                                 std::string(got.type_name()) + " " + got.dump().substr(0, 40));
}

bool IsInt(const json& v) { return v.is_number_integer(); }

Status Get(const json& v, const char* name, unsigned, std::string* out) {
  if (!v.is_string()) return FieldError(name, "a string", v);
  *out = v.get<std::string>();
  return Status::OK();
}
Status Get(const json& v, const char* name, unsigned, int* out) {
  if (!IsInt(v)) return FieldError(name, "an integer", v);
  *out = v.get<int>();
  return Status::OK();
}
Status Get(const json& v, const char* name, unsigned, std::optional<int>* out) {
  if (!IsInt(v)) return FieldError(name, "an integer", v);
  *out = v.get<int>();
  return Status::OK();
}
Status Get(const json& v, const char* name, unsigned, OptInt* out) {
  if (!IsInt(v)) return FieldError(name, "an integer", v);
  *out = v.get<int64_t>();
  return Status::OK();
}
Status Get(const json& v, const char* name, unsigned, OptNum* out) {
  if (!v.is_number()) return FieldError(name, "a number or null", v);
  *out = v.get<double>();
  return Status::OK();
}
Status Get(const json& v, const char* name, unsigned, OptBool* out) {
  if (!v.is_boolean()) return FieldError(name, "a boolean", v);
  *out = v.get<bool>();
  return Status::OK();
}
Status Get(const json& v, const char* name, unsigned rules, json* out) {
  if ((rules & kArray) ? !v.is_array() : !v.is_object()) {
    return FieldError(name, (rules & kArray) ? "an array" : "an object", v);
  }
  *out = v;
  return Status::OK();
}

template <class T>
Status ReadField(const json& o, const char* name, unsigned rules, ReadMode mode, T* out) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) {
    const bool required = (rules & kKey) || (mode == ReadMode::kStrict && (rules & kRequired));
    if (it == o.end() && required) {
      return Status::InvalidArgument("missing required field '" + std::string(name) + "'");
    }
    // A required field that may not be null: strings, integers, objects, samples and stable.
    if (it != o.end() && required && !(rules & kNull)) {
      return Status::InvalidArgument("field '" + std::string(name) + "' must not be null");
    }
    return Status::OK();
  }
  return Get(*it, name, rules, out);
}

bool OneOf(const std::string& v, std::initializer_list<const char*> choices) {
  for (const char* c : choices) {
    if (v == c) return true;
  }
  return false;
}

Status ReadLatency(const json& o, ReadMode mode, Row* r) {
  auto lat = o.find("latency_ms");
  if (lat == o.end() || lat->is_null()) {
    if (mode == ReadMode::kStrict) return Status::InvalidArgument("missing required field 'latency_ms'");
  } else {
    if (!lat->is_object()) return FieldError("latency_ms", "an object", *lat);
    LatencyMs& l = r->latency_ms;
    const std::pair<const char*, OptNum*> fields[] = {
        {"p50", &l.p50}, {"p90", &l.p90}, {"p95", &l.p95}, {"p99", &l.p99}, {"p999", &l.p999},
        {"mean", &l.mean}, {"min", &l.min}, {"max", &l.max}};
    for (const auto& [name, dst] : fields) {
      auto it = lat->find(name);
      if (it == lat->end()) {
        if (mode == ReadMode::kStrict) return Status::InvalidArgument(std::string("latency_ms.") + name + " missing");
        continue;
      }
      if (it->is_null()) continue;
      if (!it->is_number()) return FieldError(std::string("latency_ms.") + name, "a number or null", *it);
      *dst = it->get<double>();
    }
  }
  // Validity: as written by the producer; when absent, judged from the sample count with the
  // thresholds of measure/stats.h (docs/results-schema.md); unknown counts count as valid.
  auto valid = o.find("latency_percentiles_valid");
  if (valid != o.end() && !valid->is_null() && !valid->is_object()) {
    return FieldError("latency_percentiles_valid", "an object", *valid);
  }
  const bool have = valid != o.end() && valid->is_object();
  if (!have && mode == ReadMode::kStrict) {
    return Status::InvalidArgument("missing required field 'latency_percentiles_valid'");
  }
  const std::tuple<const char*, bool*, int64_t> rules[] = {
      {"p90", &r->p90_valid, measure::kMinSamplesP90},
      {"p99", &r->p99_valid, measure::kMinSamplesP99},
      {"p999", &r->p999_valid, measure::kMinSamplesP999}};
  for (const auto& [name, dst, min_samples] : rules) {
    if (have && valid->contains(name)) {
      if (!(*valid)[name].is_boolean()) {
        return FieldError(std::string("latency_percentiles_valid.") + name, "a boolean", (*valid)[name]);
      }
      *dst = (*valid)[name].get<bool>();
    } else if (mode == ReadMode::kStrict) {
      return Status::InvalidArgument(std::string("latency_percentiles_valid.") + name + " missing");
    } else if (r->samples) {
      *dst = *r->samples >= min_samples;
    }
  }
  return Status::OK();
}

Status ReadLoadAndStages(const json& o, ReadMode mode, Row* r) {
  auto load = o.find("load_s");
  if (load == o.end() || load->is_null()) {
    if (mode == ReadMode::kStrict) return Status::InvalidArgument("missing required field 'load_s'");
  } else {
    if (!load->is_object()) return FieldError("load_s", "an object", *load);
    for (auto [name, dst] : {std::pair{"cold", &r->load_cold_s}, {"cached", &r->load_cached_s}}) {
      auto it = load->find(name);
      if (it == load->end()) {
        if (mode == ReadMode::kStrict) return Status::InvalidArgument(std::string("load_s.") + name + " missing");
        continue;
      }
      if (it->is_null()) continue;
      if (!it->is_number()) return FieldError(std::string("load_s.") + name, "a number or null", *it);
      *dst = it->get<double>();
    }
  }
  auto stages = o.find("stages_ms");
  if (stages != o.end() && !stages->is_null()) {
    if (!stages->is_object()) return FieldError("stages_ms", "an object", *stages);
    for (const auto& [name, value] : stages->items()) {
      if (value.is_null()) continue;
      if (!value.is_number()) return FieldError("stages_ms." + name, "a number or null", value);
      r->stages_ms.emplace_back(name, value.get<double>());
    }
  }
  return Status::OK();
}

}  // namespace

json ToJson(const Row& r) {
  json o = json::object();
  o["schema"] = kSchemaVersion;
#define OPTIC_ROW_PUT(type, name, init, rules) Put(o, #name, r.name, rules);
  OPTIC_RESULT_ROW_FIELDS(OPTIC_ROW_PUT)
#undef OPTIC_ROW_PUT
  const LatencyMs& l = r.latency_ms;
  auto num = [](const OptNum& v) { return v ? json(*v) : json(nullptr); };
  o["latency_ms"] = {{"p50", num(l.p50)}, {"p90", num(l.p90)}, {"p95", num(l.p95)},
                     {"p99", num(l.p99)}, {"p999", num(l.p999)}, {"mean", num(l.mean)},
                     {"min", num(l.min)}, {"max", num(l.max)}};
  o["latency_percentiles_valid"] = {{"p90", r.p90_valid}, {"p99", r.p99_valid}, {"p999", r.p999_valid}};
  o["load_s"] = {{"cold", num(r.load_cold_s)}, {"cached", num(r.load_cached_s)}};
  if (!r.stages_ms.empty()) {
    json& st = o["stages_ms"] = json::object();
    for (const auto& [name, ms] : r.stages_ms) st[name] = ms;
  }
  return o;
}

std::string ToLine(const Row& row) {
  return ToJson(row).dump(-1, ' ', false, json::error_handler_t::replace);
}

Status FromJson(const json& o, ReadMode mode, Row* out) {
  if (!o.is_object()) return Status::InvalidArgument("a row must be a JSON object");
  auto schema = o.find("schema");
  if (schema == o.end()) return Status::InvalidArgument("missing required field 'schema'");
  if (!schema->is_number_integer()) return FieldError("schema", "an integer", *schema);
  if (schema->get<int>() != kSchemaVersion) {
    // kUnsupported, not kInvalidArgument: a reader never skips this one.
    return Status::Unsupported("results schema version " + std::to_string(schema->get<int>()) +
                               " is not supported (this optic reads version " +
                               std::to_string(kSchemaVersion) + "); use a matching optic");
  }
  Row r;
#define OPTIC_ROW_GET(type, name, init, rules) \
  OPTIC_RETURN_IF_ERROR(ReadField(o, #name, rules, mode, &r.name));
  OPTIC_RESULT_ROW_FIELDS(OPTIC_ROW_GET)
#undef OPTIC_ROW_GET
  OPTIC_RETURN_IF_ERROR(ReadLatency(o, mode, &r));
  OPTIC_RETURN_IF_ERROR(ReadLoadAndStages(o, mode, &r));
  if (r.batch_size < 1) return Status::InvalidArgument("field 'batch_size' must be >= 1");
  if (!OneOf(r.status, {"ok", "failed", "unsupported", "timeout"})) {
    return Status::InvalidArgument("field 'status' must be ok, failed, unsupported or timeout, got '" +
                                   r.status + "'");
  }
  if (r.repeat_index() < 1 || r.repeat_count() < 1) {
    return Status::InvalidArgument("fields 'repeat' and 'repeats' must be >= 1");
  }
  if (mode == ReadMode::kStrict) {
    const std::string invalid = Validate(r);
    if (!invalid.empty()) return Status::InvalidArgument(invalid);
  }
  *out = std::move(r);
  return Status::OK();
}

Status ParseLine(const std::string& text, ReadMode mode, Row* out) {
  json o = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (o.is_discarded()) return Status::InvalidArgument("not valid JSON");
  return FromJson(o, mode, out);
}

std::string Validate(const Row& r) {
  for (auto [name, v] : {std::pair{"kind", &r.kind}, {"model", &r.model}, {"backend", &r.backend},
                         {"device", &r.device}, {"precision", &r.precision}, {"status", &r.status}}) {
    if (v->empty()) return std::string("field '") + name + "' is empty";
  }
  if (!OneOf(r.kind, {"bench", "load", "e2e", "ensemble", "pipeline"})) return "bad kind \"" + r.kind + "\"";
  if (!OneOf(r.status, {"ok", "failed", "unsupported", "timeout"})) return "bad status \"" + r.status + "\"";
  if (!OneOf(r.scenario, {"offline", "single_stream", "server", "server_search"}) && r.kind != "load" &&
      r.kind != "e2e" && r.kind != "pipeline") {
    return "bad scenario \"" + r.scenario + "\"";
  }
  if (r.batch_size < 1) return "batch_size < 1";
  if (!r.samples || !r.stable) return "samples and stable must be set";
  if (!r.settings.is_object() || !r.versions.is_object() || !r.host.is_object()) {
    return "settings, versions and host must be objects";
  }
  if (!r.windows.is_array()) return "windows must be an array";
  if (r.ok() && !r.error.empty()) return "status ok with an error";
  if (!r.ok() && r.error.empty()) return "status " + r.status + " without an error";
  if (r.ok() && (!r.throughput_per_s || !r.latency_ms.p50 || *r.samples < 1)) {
    return "status ok without throughput_per_s, latency_ms.p50 or samples";
  }
  if (r.repeat_index() < 1 || r.repeat_count() < 1) return "repeat and repeats must be >= 1";
  if (r.repeat && r.repeats && *r.repeat > *r.repeats) {
    return "repeat " + std::to_string(*r.repeat) + " > repeats " + std::to_string(*r.repeats);
  }
  for (auto [name, v] : {std::pair{"top1_agreement", &r.top1_agreement}, {"top5_agreement", &r.top5_agreement}}) {
    if (*v && (**v < 0 || **v > 1)) return std::string(name) + " is not in [0, 1]: " + std::to_string(**v);
  }
  if (r.parity_pass == false && r.parity_failure.empty()) {
    return "parity_pass false without parity_failure saying why";
  }
  if (!r.source_sha256.empty() && r.source_sha256.size() != 64) return "source_sha256 is not 64 hex digits";
  if (!r.input_shapes.is_null()) {
    for (const auto& [name, v] : r.input_shapes.items()) {
      if (!v.is_object() || !v.contains("shape") || !v["shape"].is_array() || !v.contains("dtype") ||
          !v["dtype"].is_string()) {
        return "input_shapes." + name + " is not {dtype, shape}";
      }
    }
  }
  if (r.scenario == "server" && r.ok()) {
    for (const char* k : {"target_qps", "achieved_qps", "late_fraction", "generator_fell_behind"}) {
      if (!r.server.is_object() || !r.server.contains(k)) return std::string("server row without server.") + k;
    }
  }
  if (r.kind == "ensemble" && (!r.ensemble.is_object() || !r.ensemble.contains("members"))) {
    return "ensemble row without ensemble.members";
  }
  if (r.kind == "pipeline") {
    if (!r.pipeline.is_object() || !r.pipeline.contains("transport") || !r.pipeline.contains("objects_per_frame")) {
      return "pipeline row without pipeline.transport and pipeline.objects_per_frame";
    }
    if (r.ok()) {
      for (const char* k : {"stage1", "broker", "stage2", "gather"}) {
        bool found = false;
        for (const auto& [name, ms] : r.stages_ms) found = found || name == k;
        if (!found) return std::string("pipeline row: stages_ms.") + k + " missing";
      }
    }
  }
  if (r.kind == "e2e") {
    if (r.image_class.empty()) return "e2e row without image_class";
    if (!OneOf(r.preprocess, {"cpu", "gpu"})) return "e2e row without preprocess cpu|gpu";
    if (r.ok()) {
      for (const char* k : {"decode", "preprocess", "h2d", "infer", "d2h"}) {
        bool found = false;
        for (const auto& [name, ms] : r.stages_ms) found = found || name == k;
        if (!found) return std::string("e2e row: stages_ms.") + k + " missing";
      }
    }
  }
  return "";
}

Status ReadFile(const std::string& path, ReadMode mode, std::vector<Row>* rows,
                std::vector<LineError>* errors) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open results file '" + path + "'");
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    Row row;
    Status s = ParseLine(text, mode, &row);
    if (s.code() == StatusCode::kUnsupported) {
      return Status(s.code(), path + ":" + std::to_string(line) + ": " + s.message());
    }
    if (!s.ok()) {
      if (errors) errors->push_back({line, s});
      continue;
    }
    row.file = path;
    row.line = line;
    rows->push_back(std::move(row));
  }
  if (in.bad()) return Status::Internal("error reading '" + path + "'");
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

Status ResultsWriter::Append(const Row& row) {
  if (fd_ < 0) return Status::Internal("results writer is not open");
  const std::string invalid = Validate(row);
  if (!invalid.empty()) {
    return Status::InvalidArgument("row " + row.cell_id + " does not match the schema (" + invalid +
                                   "); not written to '" + path_ + "'");
  }
  const std::string line = ToLine(row) + "\n";
  // One write() of the whole line: with O_APPEND it lands as a unit, never interleaved.
  const ssize_t n = write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    return Status::Internal("writing a row to '" + path_ + "' failed: " +
                            (n < 0 ? std::strerror(errno) : "short write"));
  }
  if (fsync(fd_) != 0) return Status::Internal("fsync of '" + path_ + "' failed: " + std::strerror(errno));
  return Status::OK();
}

Status ResultsWriter::Append(const json& row) {
  Row typed;
  OPTIC_RETURN_IF_ERROR(FromJson(row, ReadMode::kStrict, &typed)
                            .Prefixed("row " + JsonString(row, "cell_id") + " does not match the schema; not written to '" + path_ + "'"));
  return Append(typed);
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

std::string JsonString(const json& object, const char* key, const std::string& fallback) {
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

}  // namespace optic::results

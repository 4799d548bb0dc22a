// Typed configuration of `optic bench`: the sweep (grid, settings) and one cell of it.
// Flags and config files are parsed once, here, into these structs; nothing downstream looks at
// option strings. A CellSpec travels to the child process as JSON (CellToJson / CellFromJson).
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optic/backend.h"
#include "optic/model_source.h"

namespace optic::bench {

enum class Scenario { kOffline, kSingleStream, kServer, kServerSearch };
const char* ScenarioName(Scenario s);  // offline, single_stream, server, server_search
Status ParseScenario(const std::string& text, Scenario* out);

// kE2E: the end-to-end scenario (JPEG bytes in, outputs out; src/bench/e2e_cell.h).
enum class CellKind { kBench, kEnsemble, kReference, kE2E };
const char* CellKindName(CellKind k);  // bench, ensemble, reference, e2e

// How one cell measures. Defaults follow docs/bench.md (MLPerf / perf_analyzer / trtexec rules).
struct MeasureSettings {
  double warmup_ms = 200;          // warm-up lasts at least this long ...
  int warmup_runs = 3;             // ... and at least this many queries; discarded
  double min_duration_s = 1.0;     // steady state: at least this long ...
  int64_t min_samples = 10;        // ... and at least this many timed queries, and stable
  double max_duration_s = 6.0;     // give up waiting for stability here (stable=false)
  double window_s = 0;             // stability window; 0 = min_duration_s / 3
  int window_min_queries = 2;      // a window also needs this many queries
  int64_t pool_bytes = 64LL << 20; // input pool at least this large (bigger than the LLC) ...
  int pool_min_batches = 8;        // ... and at least this many distinct batches
  uint64_t seed = 1;               // input pool and Poisson schedule
  uint64_t check_seed = 20240601;  // the correctness-check batch
  double timeout_s = 180;          // per cell; the child is killed after it
  double qps = 0;                  // server: target samples/s; 0 = half the measured capacity
  double max_queue_delay_ms = 2;   // server: how long the batcher waits to fill a batch
  double p99_bound_ms = 0;         // server_search: the latency bound (required there)
  int search_steps = 6;            // server_search: bisection steps
  int pipeline_depth = 0;          // offline on models with optic/pipelining.h (accelerators):
                                   // batches in flight; 0 = the model's max, 1 = synchronous
  int pinned_inputs = 1;           // accelerators: pool in the model's page-locked memory (1)
                                   // or ordinary pageable memory (0, staged by the backend)
  double window() const { return window_s > 0 ? window_s : min_duration_s / 3.0; }
};
nlohmann::json SettingsToJson(const MeasureSettings& s);
Status SettingsFromJson(const nlohmann::json& j, MeasureSettings* out);

using BackendOptionMap = std::map<std::string, std::map<std::string, std::string>>;

// One cell of the grid, everything the child process needs to run it.
struct CellSpec {
  CellKind kind = CellKind::kBench;
  std::string model;                  // zoo name, or "null" for a generated empty model file
  std::vector<std::string> members;   // ensemble members (kind ensemble)
  std::string backend;
  Device device;
  Precision precision = Precision::kFP32;
  int batch_size = 1;
  int threads = 0;                    // as resolved (0 never reaches a cell: it becomes cores)
  Scenario scenario = Scenario::kOffline;
  std::map<std::string, std::string> backend_options;
  MeasureSettings settings;
  std::string models_dir;
  std::string work_dir;               // scratch: cache dirs, generated model files
  std::string reference_file;         // reference outputs: read (bench) or written (reference)
  std::string reference_name;         // "backend/fp32", for the rows
  std::string image_class;            // e2e: small | medium | large (bench/e2e_images.h)
  std::string preprocess;             // e2e: cpu | gpu
  // A model file of the user's (model is then the file as given): the file this backend loads,
  // resolved by the parent (the source itself or a converted file), and what the rows record.
  std::string model_file;
  std::string source_file, source_sha256, converted_by;
  InputSettings inputs;               // --shape, --input-range
  // Stable key for resume and comparison: model|backend|device|precision|b<N>|t<N>|scenario,
  // and for e2e cells |e2e:<image_class>:<preprocess>.
  std::string CellId() const;
};
nlohmann::json CellToJson(const CellSpec& c);
Status CellFromJson(const nlohmann::json& j, CellSpec* out);

// Upper bound of BenchConfig::repeat: a guard against a typo (--repeat 300 for 3), not a limit of
// the harness.
inline constexpr int kMaxRepeat = 100;

// Batch sizes when no flag or config key sets them; --help and docs/bench.md quote this list.
inline const std::vector<int> kDefaultBatches = {1, 8};
// "1,8": a batch list as --batch takes it.
std::string BatchListText(const std::vector<int>& batches);

// The whole sweep.
struct BenchConfig {
  std::vector<std::string> models;        // zoo names or model files; empty: built-in default
  InputSettings inputs;                   // --shape, --input-range (per input name)
  std::vector<std::string> backends;      // empty: every real backend compiled in
  std::vector<int> batches;               // empty: kDefaultBatches
  std::vector<Precision> precisions;      // empty: fp32, plus bf16 where a backend supports it
  std::vector<Device> devices;            // empty: cpu
  std::vector<int> threads;               // empty: 0 (all cores)
  std::vector<Scenario> scenarios;        // empty: offline, single_stream
  std::vector<std::string> ensemble;      // members of one co-located ensemble, if any
  // End-to-end cells (--scenario e2e / --e2e): one per model x backend x device x precision x
  // batch x threads x image class x preprocessing device, besides the scenarios above (an e2e-only
  // sweep leaves `scenarios` empty and runs no plain cells).
  bool e2e = false;
  std::vector<std::string> image_classes; // empty: small, medium, large
  std::vector<std::string> preprocess;    // empty: cpu
  BackendOptionMap backend_options;       // per backend: key -> value
  MeasureSettings settings;
  std::string reference;                  // reference backend; empty = first real that loads
  // Where reference cells run (fp32). CPU by default; on a GPU machine `cuda` avoids a slow CPU
  // reference for large models (a densenet201 CPU reference did not finish in 240 s there).
  Device reference_device;
  std::string models_dir;
  std::string out = "results.jsonl";
  bool resume = false;
  // Runs of every cell, each in its own child process, interleaved: pass 1 runs every cell once,
  // pass 2 again, ... (docs/bench.md, "Repeats"). 1 = today's single run.
  int repeat = 1;
  // Set by the built-in default grid: single_stream only at batch 1 (MLPerf's one sample per
  // query), offline at every batch size; an explicit grid runs every combination.
  bool single_stream_batch1_only = false;
};

// "1,2,4" or "1-64" (every power of two from 1 to 64); a range's bounds must be powers of two
// and no size may appear twice, so the sweep runs exactly the sizes the text names.
Status ParseBatchList(const std::string& text, std::vector<int>* out);
// "backend:key=value".
Status ParseBackendOption(const std::string& text, BackendOptionMap* out);
// Every key and value against its backend's option specs (ParseLoadOption), so a typo stops the
// sweep before any cell runs; the error names the option, the backend and its accepted keys.
Status ValidateBackendOptions(const BackendOptionMap& options);
// A JSON config file (docs/bench.md lists the keys); unknown keys are an error.
Status LoadConfigFile(const std::string& path, BenchConfig* out);
Status ConfigFromJson(const nlohmann::json& j, BenchConfig* out);

}  // namespace optic::bench

// The measured phases of a cell: warm-up and the steady state of each MLPerf scenario.
//  - closed loop (offline, single_stream): one query at a time, back to back; offline reports
//    samples/s, single_stream the per-query latency. With one model instance and a synchronous
//    Execute the loop is the same; what differs is the metric the summary ranks by.
//  - server: Poisson arrivals at a target rate through optic serve's dynamic batcher (max batch,
//    max queue delay); latency from the *scheduled* arrival, so a slow generator cannot hide
//    queueing.
//  - server search: bisection on the rate for the highest that keeps p99 under a bound.
// Every steady state runs until min duration and min count are met and the last 3 windows are
// stable, or until max duration (then stable=false; the numbers are still reported).
//  - offline on an accelerator model with optic/pipelining.h: up to `depth` batches in flight,
//    so uploads, compute and downloads of neighbouring batches overlap; a query's latency runs
//    from its Submit to the end of its Collect.
// Threading: the calling thread measures; in the server scenario it generates the arrivals and
// the batcher's threads (scheduler, one instance worker) run the batches.
#pragma once

#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/row.h"

#include "bench/config.h"
#include "bench/pool.h"
#include "measure/steady.h"

namespace optic::bench {

// Runs query number i; returns its Status. A failing query stops the measurement.
using QueryFn = std::function<Status(int64_t i)>;

struct SteadyResult {
  std::vector<double> latencies_ms;  // one per query (server: one per sample)
  std::vector<measure::Window> windows;
  int64_t queries = 0;
  int64_t samples = 0;               // images
  double elapsed_s = 0;
  bool stable = false;
  double throughput_per_s() const { return elapsed_s > 0 ? samples / elapsed_s : 0; }
  nlohmann::json server;             // server scenario: target/achieved qps, lateness, batches
};

// Writes a steady-state measurement into a results row: throughput_per_s, latency_ms (and its
// validity), stable, windows, phases.{steady_s,queries,images}, and server when present.
void WriteSteadyResult(const SteadyResult& r, results::Row* row);

// Warm-up: at least settings.warmup_ms and settings.warmup_runs queries, but no longer than
// max_duration_s (at least one query). Returns the mean query
// time in ms in *mean_ms (the capacity estimate the server scenario starts from).
Status Warmup(const QueryFn& query, const MeasureSettings& settings, int64_t* runs, double* mean_ms);

// The closed loop (offline, single_stream); each query is `samples_per_query` images.
Status RunClosedLoop(const QueryFn& query, int samples_per_query, const MeasureSettings& settings,
                     SteadyResult* out);

// The pipelined closed loop: submit(i) enqueues query i, collect() waits for the oldest one.
// `depth` queries are submitted and collected untimed first (slot buffers, allocator warm-up);
// on return nothing is left in flight, also after a failure.
using SubmitFn = std::function<Status(int64_t i)>;
using CollectFn = std::function<Status()>;
Status RunPipelinedLoop(const SubmitFn& submit, const CollectFn& collect, int depth,
                        int samples_per_query, const MeasureSettings& settings, SteadyResult* out);

// The server scenario at `qps` samples/s (seeded Poisson arrivals), one sample per query,
// batched up to `max_batch` by the dynamic batcher optic serve runs (batching/batcher.h).
// `dynamic_batch`: the model takes partial batches; otherwise partial batches are padded.
Status RunServer(Model* model, const InputPool& pool, int max_batch, bool dynamic_batch, double qps,
                 const MeasureSettings& settings, SteadyResult* out);

// Arrival offsets in seconds from the start, nondecreasing, of queries 0, 1, ...; false when
// the arrival process has no more queries.
using ArrivalFn = std::function<bool(int64_t i, double* offset_s)>;
// RunServer for any arrival process: ends by the steady-state rules, or when `arrivals` has no
// more queries and every enqueued one has completed. out->server has no target_qps.
Status RunServerArrivals(Model* model, const InputPool& pool, int max_batch, bool dynamic_batch,
                         const ArrivalFn& arrivals, const MeasureSettings& settings, SteadyResult* out);

// Bisection between 0 and `capacity_qps` for the highest rate with p99 <= settings.p99_bound_ms.
// *out is the measurement at the best passing rate (or the lowest tried when none passes);
// out->server["search"] lists every trial.
Status SearchServer(Model* model, const InputPool& pool, int max_batch, bool dynamic_batch,
                    double capacity_qps, const MeasureSettings& settings, SteadyResult* out);

}  // namespace optic::bench

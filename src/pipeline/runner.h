// The pipeline driver: frames through stage 1 (detector, boxes, crops), a Transport to stage 2,
// and the gathering of each frame's results; timed at zero load and under load.
//
// Per frame, along the crop whose result completed it (the critical path):
//   stage1  frame start -> its crops handed to the transport (detector, decoding, crop+resize)
//   broker  enqueue -> stage 2 took the crop (serialisation, queueing, network)
//   stage2  dequeue -> its batch's embedder call returned
//   gather  -> the driver holds every result of the frame (the way back, deserialisation)
// The four add up to the frame's latency.
// Threading: RunCell runs on the calling thread; the transport may run threads or processes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "measure/stats.h"
#include "optic/status.h"
#include "pipeline/stages.h"
#include "pipeline/transport.h"

namespace optic::pipeline {

enum class BoxSource { kSynthetic, kDetector };

struct CellSettings {
  int objects = 1;            // synthetic boxes per frame (kSynthetic)
  BoxSource boxes = BoxSource::kSynthetic;
  int warmup_frames = 3;
  int latency_frames = 20;    // zero load: one frame in flight
  double duration_s = 2.0;    // under load: `inflight` frames in flight
  int inflight = 4;
  int frame_pool = 8;         // distinct seeded frames, reused in turn
  uint64_t seed = 1;
  double timeout_s = 30;      // no result for this long: the cell fails
  // No result for this long after the transport reconnected to its broker (which may have crashed
  // and lost crops): the crops of open frames still missing results are sent again, once per
  // reconnect (0: never).
  double resend_s = 5;
  bool keep_embeddings = false;
  // Called on the driver's thread after each completed frame of a timed phase, with the phase's
  // count so far (progress, and tests that act mid-run).
  std::function<void(int64_t)> on_frame;
};

struct FrameTiming {
  double total_ms = 0, stage1_ms = 0, broker_ms = 0, stage2_ms = 0, gather_ms = 0;
};

struct PhaseResult {
  int64_t frames = 0;
  int64_t objects = 0;
  double wall_s = 0;
  std::vector<FrameTiming> timings;
  double batch_mean = 0;  // stage-2 batch size, mean over results
};

struct CellResult {
  int objects_per_frame = 0;  // exact for synthetic boxes; the mean for detector boxes
  PhaseResult zero_load, loaded;
  int64_t duplicates = 0;     // results delivered again for a (frame, object) already held
  int64_t bad_results = 0;
  int64_t resent = 0;         // crops sent again (resend_s)
  std::map<std::string, int64_t> workers;  // results per stage-2 worker
  // (frame, object) -> embedding, zero-load phase only, with keep_embeddings.
  std::map<std::pair<int64_t, int32_t>, std::vector<float>> embeddings;
};

// Runs warm-up, the zero-load phase and the loaded phase. Frame ids start at 0, so two
// transports given the same settings see the same frames and crops.
Status RunCell(const CellSettings& settings, Detector* detector, int crop_size, Transport* transport,
               CellResult* out);

// Summary of one timing field over a phase (milliseconds).
measure::Summary Summarize(const std::vector<FrameTiming>& t, double FrameTiming::*field);

}  // namespace optic::pipeline

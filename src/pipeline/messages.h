// The two messages between the pipeline's stages: a crop (stage 1 -> stage 2) and a result
// (stage 2 -> the gatherer), and their encoding as Redis stream fields.
//
// Times are wall-clock nanoseconds (std::chrono::system_clock) so that processes on one host
// share a clock; across hosts the broker share includes their clock offset.
// A (frame, object) pair is a result's idempotent key: at-least-once delivery may bring one
// twice, and the gatherer keeps the first.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "optic/status.h"
#include "optic/tensor.h"

namespace optic::pipeline {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Crop {
  int64_t frame = 0;     // unique within a run
  int32_t object = 0;    // 0 .. objects-1
  int32_t objects = 0;   // objects in this frame
  int64_t enqueue_ns = 0;
  std::string reply;     // where the result goes (a Redis stream; unused in one process)
  Tensor pixels;         // fp32 [3, S, S], the embedder's input size
};

struct Result {
  int64_t frame = 0;
  int32_t object = 0;
  int64_t enqueue_ns = 0;
  int64_t dequeue_ns = 0;     // stage 2 took it from the transport
  int64_t stage2_end_ns = 0;  // its batch's embedder call returned
  int32_t batch = 0;          // crops in that batch
  std::string worker;
  std::vector<float> embedding;
};

int64_t NowNs();

// Stream fields of a crop: frame object objects enq reply shape data (fp32 bytes, CHW).
Fields EncodeCrop(const Crop& crop);
// Checks every field (present, integers in range, shape == `expected`, data size) and fills
// `out`. The message says which field is wrong and how; nothing else is touched.
Status DecodeCrop(const Fields& fields, const Shape& expected, Crop* out);

// Stream fields of a result: frame object enq deq s2end batch worker emb (fp32 bytes).
Fields EncodeResult(const Result& result);
Status DecodeResult(const Fields& fields, Result* out);

}  // namespace optic::pipeline

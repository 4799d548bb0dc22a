// The pipeline's two models and what sits between them: stage 1 (a detector, its decoding to
// boxes, crop+resize) and stage 2 (an embedding model over a batch of crops).
// Ownership: each stage owns its loaded Model. Threading: one thread at a time per object
// (a Model never runs two batches at once); different objects may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "optic/backend.h"
#include "optic/status.h"
#include "optic/tensor.h"

namespace optic::pipeline {

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // input pixels
  float score = 0;
};

struct DetectorSettings {
  float score_threshold = 0.5f;
  float nms_iou = 0.4f;
  int max_objects = 25;
};

// A single-shot detector with a score head [1, 1, h, w] and a box head [1, 4, h, w] on a grid of
// stride H/h (tools/zoo/pipeline_nets.py): cell (i, j) with sigmoid(score) above the threshold
// is a box centred at ((j + sigmoid(dx)) * stride, (i + sigmoid(dy)) * stride), exp(lw) x exp(lh)
// cells large; greedy NMS keeps at most max_objects, highest score first.
class Detector {
 public:
  static Status Create(const std::string& backend, const std::string& path, const LoadOptions& options,
                       const DetectorSettings& settings, std::unique_ptr<Detector>* out);
  // `frame` is fp32 [1, 3, H, W] at the model's size. Runs the model and decodes its boxes.
  Status Detect(const Tensor& frame, std::vector<Box>* boxes);
  int height() const { return height_; }
  int width() const { return width_; }

 private:
  std::unique_ptr<Model> model_;
  DetectorSettings settings_;
  int height_ = 0, width_ = 0;
  int score_output_ = 0, box_output_ = 1;
};

// Decodes the two heads (host fp32 tensors as above) for an input of width x height.
std::vector<Box> DecodeBoxes(const Tensor& scores, const Tensor& boxes, int width, int height,
                             const DetectorSettings& settings);

// `n` boxes laid out on a grid over the frame, their sizes varied by `seed`: makes the number of
// objects per frame exact whatever the detector finds.
std::vector<Box> SyntheticBoxes(int n, int width, int height, uint64_t seed);

// Bilinear crop of `box` (clipped to the frame) from fp32 [1, 3, H, W] into fp32 [3, size, size].
Status CropResize(const Tensor& frame, const Box& box, int size, Tensor* out);

// An embedding model: fp32 [B, 3, S, S] -> fp32 [B, D].
class Embedder {
 public:
  static Status Create(const std::string& backend, const std::string& path, const LoadOptions& options,
                       std::unique_ptr<Embedder>* out);
  // Embeds every crop (each [3, S, S]) in one batch; out[i] is crop i's embedding.
  Status Embed(const std::vector<const Tensor*>& crops, std::vector<std::vector<float>>* out);
  int size() const { return size_; }
  Shape crop_shape() const { return {3, size_, size_}; }

 private:
  std::unique_ptr<Model> model_;
  int size_ = 0;
};

}  // namespace optic::pipeline

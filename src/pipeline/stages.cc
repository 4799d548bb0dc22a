#include "pipeline/stages.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "optic/registry.h"

namespace optic::pipeline {
namespace {

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

float IoU(const Box& a, const Box& b) {
  const float w = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float h = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float inter = w * h;
  const float uni = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return uni > 0 ? inter / uni : 0;
}

// The fixed spatial size of a model input [N, 3, H, W]; variable dims take `fallback`.
void InputSize(const TensorInfo& in, int fallback_h, int fallback_w, int* h, int* w) {
  *h = in.shape.size() == 4 && in.shape[2] > 0 ? static_cast<int>(in.shape[2]) : fallback_h;
  *w = in.shape.size() == 4 && in.shape[3] > 0 ? static_cast<int>(in.shape[3]) : fallback_w;
}

}  // namespace

Status Detector::Create(const std::string& backend, const std::string& path, const LoadOptions& options,
                        const DetectorSettings& settings, std::unique_ptr<Detector>* out) {
  auto d = std::make_unique<Detector>();
  OPTIC_RETURN_IF_ERROR(LoadModel(backend, path, options, &d->model_));
  const auto& ins = d->model_->inputs();
  const auto& outs = d->model_->outputs();
  if (ins.size() != 1 || ins[0].shape.size() != 4 || outs.size() != 2) {
    return Status::InvalidArgument("detector '" + path +
                                   "': expected one NCHW input and two outputs (scores [N,1,h,w], boxes "
                                   "[N,4,h,w]), as tools/zoo/pipeline_nets.py exports");
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    if (outs[i].name == "boxes") d->box_output_ = static_cast<int>(i);
    if (outs[i].name == "scores") d->score_output_ = static_cast<int>(i);
  }
  InputSize(ins[0], 160, 160, &d->height_, &d->width_);
  d->settings_ = settings;
  *out = std::move(d);
  return Status::OK();
}

Status Detector::Detect(const Tensor& frame, std::vector<Box>* boxes) {
  std::vector<Tensor> outs;
  OPTIC_RETURN_IF_ERROR(model_->Execute({frame}, &outs));
  const Tensor& s = outs.at(score_output_);
  const Tensor& b = outs.at(box_output_);
  if (s.rank() != 4 || b.rank() != 4 || s.dim(1) != 1 || b.dim(1) != 4 || s.dim(2) != b.dim(2) ||
      s.dim(3) != b.dim(3)) {
    return Status::InvalidArgument("detector outputs " + ShapeToString(s.shape()) + " and " +
                                   ShapeToString(b.shape()) + " are not scores [1,1,h,w] and boxes [1,4,h,w]");
  }
  *boxes = DecodeBoxes(s, b, static_cast<int>(frame.dim(3)), static_cast<int>(frame.dim(2)), settings_);
  return Status::OK();
}

std::vector<Box> DecodeBoxes(const Tensor& scores, const Tensor& boxes, int width, int height,
                             const DetectorSettings& st) {
  const int64_t gh = scores.dim(2), gw = scores.dim(3), cells = gh * gw;
  const float sy = static_cast<float>(height) / static_cast<float>(gh);
  const float sx = static_cast<float>(width) / static_cast<float>(gw);
  const float* sc = scores.data<float>();
  const float* bx = boxes.data<float>();
  std::vector<Box> cand;
  for (int64_t i = 0; i < gh; ++i) {
    for (int64_t j = 0; j < gw; ++j) {
      const int64_t k = i * gw + j;
      const float p = Sigmoid(sc[k]);
      if (p < st.score_threshold) continue;
      const float cx = (static_cast<float>(j) + Sigmoid(bx[k])) * sx;
      const float cy = (static_cast<float>(i) + Sigmoid(bx[cells + k])) * sy;
      const float w = std::exp(std::clamp(bx[2 * cells + k], -4.0f, 3.0f)) * sx;
      const float h = std::exp(std::clamp(bx[3 * cells + k], -4.0f, 3.0f)) * sy;
      Box b{std::max(0.0f, cx - w / 2), std::max(0.0f, cy - h / 2),
            std::min(static_cast<float>(width), cx + w / 2), std::min(static_cast<float>(height), cy + h / 2), p};
      if (b.x2 - b.x1 >= 1 && b.y2 - b.y1 >= 1) cand.push_back(b);
    }
  }
  std::stable_sort(cand.begin(), cand.end(), [](const Box& a, const Box& b) { return a.score > b.score; });
  std::vector<Box> keep;
  for (const Box& c : cand) {
    if (static_cast<int>(keep.size()) >= st.max_objects) break;
    bool suppressed = false;
    for (const Box& k : keep) suppressed = suppressed || IoU(c, k) > st.nms_iou;
    if (!suppressed) keep.push_back(c);
  }
  return keep;
}

std::vector<Box> SyntheticBoxes(int n, int width, int height, uint64_t seed) {
  std::vector<Box> out;
  if (n <= 0) return out;
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int rows = (n + cols - 1) / cols;
  const float cw = static_cast<float>(width) / static_cast<float>(cols);
  const float ch = static_cast<float>(height) / static_cast<float>(rows);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> scale(0.6f, 0.95f);
  for (int k = 0; k < n; ++k) {
    const float cx = (static_cast<float>(k % cols) + 0.5f) * cw;
    const float cy = (static_cast<float>(k / cols) + 0.5f) * ch;
    const float w = cw * scale(rng), h = ch * scale(rng);
    out.push_back({cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, 1.0f});
  }
  return out;
}

Status CropResize(const Tensor& frame, const Box& box, int size, Tensor* out) {
  if (frame.dtype() != DType::kFP32 || frame.rank() != 4 || frame.dim(0) != 1 || frame.dim(1) != 3) {
    return Status::InvalidArgument("crop: frame " + frame.DebugString() + " is not fp32 [1, 3, H, W]");
  }
  const int64_t H = frame.dim(2), W = frame.dim(3);
  const float x1 = std::clamp(box.x1, 0.0f, static_cast<float>(W - 1));
  const float y1 = std::clamp(box.y1, 0.0f, static_cast<float>(H - 1));
  const float x2 = std::clamp(box.x2, x1 + 1, static_cast<float>(W));
  const float y2 = std::clamp(box.y2, y1 + 1, static_cast<float>(H));
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, {3, size, size}, out));
  const float* src = frame.data<float>();
  float* dst = out->data<float>();
  const float step_x = (x2 - x1) / static_cast<float>(size), step_y = (y2 - y1) / static_cast<float>(size);
  for (int y = 0; y < size; ++y) {
    // Sample at pixel centres, as cv::resize with INTER_LINEAR does.
    const float fy = std::clamp(y1 + (static_cast<float>(y) + 0.5f) * step_y - 0.5f, 0.0f, static_cast<float>(H - 1));
    const int64_t y0 = static_cast<int64_t>(fy), yb = std::min<int64_t>(y0 + 1, H - 1);
    const float wy = fy - static_cast<float>(y0);
    for (int x = 0; x < size; ++x) {
      const float fx = std::clamp(x1 + (static_cast<float>(x) + 0.5f) * step_x - 0.5f, 0.0f, static_cast<float>(W - 1));
      const int64_t x0 = static_cast<int64_t>(fx), xb = std::min<int64_t>(x0 + 1, W - 1);
      const float wx = fx - static_cast<float>(x0);
      for (int c = 0; c < 3; ++c) {
        const float* p = src + c * H * W;
        const float top = p[y0 * W + x0] * (1 - wx) + p[y0 * W + xb] * wx;
        const float bot = p[yb * W + x0] * (1 - wx) + p[yb * W + xb] * wx;
        dst[(c * size + y) * size + x] = top * (1 - wy) + bot * wy;
      }
    }
  }
  return Status::OK();
}

Status Embedder::Create(const std::string& backend, const std::string& path, const LoadOptions& options,
                        std::unique_ptr<Embedder>* out) {
  auto e = std::make_unique<Embedder>();
  OPTIC_RETURN_IF_ERROR(LoadModel(backend, path, options, &e->model_));
  const auto& ins = e->model_->inputs();
  if (ins.size() != 1 || ins[0].shape.size() != 4 || e->model_->outputs().size() != 1) {
    return Status::InvalidArgument("embedder '" + path +
                                   "': expected one NCHW input and one [N, D] output, as "
                                   "tools/zoo/pipeline_nets.py exports");
  }
  int h = 0, w = 0;
  InputSize(ins[0], 64, 64, &h, &w);
  if (h != w) return Status::InvalidArgument("embedder '" + path + "': input is not square");
  e->size_ = h;
  *out = std::move(e);
  return Status::OK();
}

Status Embedder::Embed(const std::vector<const Tensor*>& crops, std::vector<std::vector<float>>* out) {
  out->clear();
  if (crops.empty()) return Status::OK();
  const int64_t per = 3LL * size_ * size_;
  Tensor batch;
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, {static_cast<int64_t>(crops.size()), 3, size_, size_}, &batch));
  for (size_t i = 0; i < crops.size(); ++i) {
    if (crops[i]->numel() != per || crops[i]->dtype() != DType::kFP32) {
      return Status::InvalidArgument("embedder: crop " + crops[i]->DebugString() + " is not fp32 [3, " +
                                     std::to_string(size_) + ", " + std::to_string(size_) + "]");
    }
    std::memcpy(batch.data<float>() + i * per, crops[i]->data<float>(), per * sizeof(float));
  }
  std::vector<Tensor> outs;
  OPTIC_RETURN_IF_ERROR(model_->Execute({batch}, &outs));
  const Tensor& y = outs.at(0);
  if (y.rank() != 2 || y.dim(0) != static_cast<int64_t>(crops.size())) {
    return Status::InvalidArgument("embedder output " + ShapeToString(y.shape()) + " is not [" +
                                   std::to_string(crops.size()) + ", D]");
  }
  const int64_t d = y.dim(1);
  for (size_t i = 0; i < crops.size(); ++i) {
    const float* row = y.data<float>() + i * d;
    out->emplace_back(row, row + d);
  }
  return Status::OK();
}

}  // namespace optic::pipeline

// Agreement with the reference beyond rel_l2 (centred cosine, top-k), the per-precision limits
// and the check input parity compares on (optic/parity.h; docs/architecture.md, "Parity").
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "optic/parity.h"

namespace optic {

ParityLimits ParityLimitsFor(Precision precision) {
  // {max rel_l2, min cosine, min top-1, min top-5}; the measurements behind them are in
  // docs/architecture.md.
  switch (precision) {
    case Precision::kFP32: return {1e-4, 0, 0, 0};
    case Precision::kTF32:
    case Precision::kFP16: return {5e-2, 0.98, 0.6, 0.9};
    case Precision::kBF16: return {0.25, 0.8, 0.25, 0.7};
    case Precision::kINT8: return {0.5, 0.7, 0.2, 0.6};
  }
  return {};
}

double ParityTolerance(Precision precision) { return ParityLimitsFor(precision).max_rel_l2; }

namespace {

// Indices of the k largest of `v`, best first (ties: lower index first).
std::vector<int64_t> TopK(const std::vector<double>& v, int64_t k) {
  std::vector<int64_t> idx(v.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  k = std::min<int64_t>(k, static_cast<int64_t>(v.size()));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int64_t a, int64_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  idx.resize(k);
  return idx;
}

bool IsInteger(DType d) {
  return d == DType::kINT8 || d == DType::kUINT8 || d == DType::kINT32 || d == DType::kINT64;
}

// Element i of an integer tensor, exactly (GetAsDouble rounds int64 beyond 2^53).
int64_t IntAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kINT8: return t.data<int8_t>()[i];
    case DType::kUINT8: return t.data<uint8_t>()[i];
    case DType::kINT32: return t.data<int32_t>()[i];
    case DType::kINT64: return t.data<int64_t>()[i];
    default: return 0;
  }
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

Status MeasureAgreement(const Tensor& out, const Tensor& ref, TensorDiff* diff,
                        Agreement* agreement) {
  Agreement a;
  const Shape& shape = ref.shape();
  const int64_t n = shape.empty() ? 1 : shape[0];
  if (IsInteger(out.dtype()) || IsInteger(ref.dtype())) {
    if (IsInteger(out.dtype()) != IsInteger(ref.dtype())) {
      return Status::InvalidArgument(std::string("dtype ") + DTypeName(out.dtype()) +
                                     " differs from reference " + DTypeName(ref.dtype()));
    }
    if (out.shape() != ref.shape()) {
      return Status::InvalidArgument("shape " + ShapeToString(out.shape()) +
                                     " differs from reference " + ShapeToString(ref.shape()));
    }
    if (!out.is_host() || !ref.is_host()) return Status::Unsupported("compare needs host tensors");
    a.samples = n;
    a.int_elements = ref.numel();
    for (int64_t i = 0; i < ref.numel(); ++i) a.int_mismatches += IntAt(out, i) != IntAt(ref, i);
    *diff = TensorDiff{};
    *agreement = a;
    return Status::OK();
  }
  OPTIC_RETURN_IF_ERROR(CompareTensors(out, ref, diff));
  const int64_t per = n > 0 ? ref.numel() / n : 0;
  a.samples = n;
  // The reference's mean over the batch, per output element.
  std::vector<double> mean(per, 0.0);
  if (n >= 2) {
    for (int64_t s = 0; s < n; ++s) {
      for (int64_t j = 0; j < per; ++j) mean[j] += ref.GetAsDouble(s * per + j) / n;
    }
  }
  auto cosine = [&](bool centred) {
    double dot = 0, oo = 0, rr = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) {
      const double m = centred ? mean[i % per] : 0.0;
      const double o = out.GetAsDouble(i) - m, r = ref.GetAsDouble(i) - m;
      if (!std::isfinite(o) || !std::isfinite(r)) continue;  // counted in diff->nan_count
      dot += o * r;
      oo += o * o;
      rr += r * r;
    }
    if (rr == 0 && oo == 0) return 1.0;
    return rr > 0 && oo > 0 ? dot / std::sqrt(oo * rr) : 0.0;
  };
  bool varies = false;
  for (int64_t i = 0; n >= 2 && i < ref.numel() && !varies; ++i) {
    varies = std::fabs(ref.GetAsDouble(i) - mean[i % per]) > 1e-12 * (1 + std::fabs(mean[i % per]));
  }
  a.cosine = cosine(varies);
  a.class_scores = shape.size() == 2 && n >= 2 && shape[1] >= 10;
  if (a.class_scores) {
    int64_t top1 = 0, top5 = 0;
    std::vector<double> o(per), r(per);
    for (int64_t s = 0; s < n; ++s) {
      for (int64_t j = 0; j < per; ++j) {
        const double m = varies ? mean[j] : 0.0;
        o[j] = out.GetAsDouble(s * per + j) - m;
        r[j] = ref.GetAsDouble(s * per + j) - m;
        if (!std::isfinite(o[j])) o[j] = -INFINITY;  // a NaN class never wins
      }
      const int64_t want = TopK(r, 1)[0];
      const std::vector<int64_t> got = TopK(o, 5);
      top1 += got[0] == want;
      top5 += std::find(got.begin(), got.end(), want) != got.end();
    }
    a.top1 = static_cast<double>(top1) / n;
    a.top5 = static_cast<double>(top5) / n;
  }
  *agreement = a;
  return Status::OK();
}

void MergeWorst(const TensorDiff& next_diff, const Agreement& next, TensorDiff* worst_diff,
                Agreement* worst) {
  worst_diff->max_abs = std::max(worst_diff->max_abs, next_diff.max_abs);
  worst_diff->max_rel = std::max(worst_diff->max_rel, next_diff.max_rel);
  worst_diff->rel_l2 = std::max(worst_diff->rel_l2, next_diff.rel_l2);
  worst_diff->nan_count += next_diff.nan_count;
  worst->cosine = std::min(worst->cosine, next.cosine);
  worst->samples = std::max(worst->samples, next.samples);
  worst->int_elements += next.int_elements;
  worst->int_mismatches += next.int_mismatches;
  if (next.class_scores) {
    worst->top1 = worst->class_scores ? std::min(worst->top1, next.top1) : next.top1;
    worst->top5 = worst->class_scores ? std::min(worst->top5, next.top5) : next.top5;
    worst->class_scores = true;
  }
}

std::string ParityFailure(Precision precision, const TensorDiff& diff, const Agreement& a) {
  const ParityLimits l = ParityLimitsFor(precision);
  std::vector<std::string> why;
  if (diff.nan_count) why.push_back(std::to_string(diff.nan_count) + " non-finite output(s)");
  if (l.max_rel_l2 > 0 && !(diff.rel_l2 <= l.max_rel_l2)) {
    why.push_back("rel_l2 " + Num(diff.rel_l2) + " > " + Num(l.max_rel_l2));
  }
  if (l.min_cosine > 0 && !(a.cosine >= l.min_cosine)) {
    why.push_back("cosine " + Num(a.cosine) + " < " + Num(l.min_cosine));
  }
  if (a.class_scores && l.min_top1 > 0 && !(a.top1 >= l.min_top1)) {
    why.push_back("top-1 agreement " + Num(a.top1) + " < " + Num(l.min_top1));
  }
  if (a.class_scores && l.min_top5 > 0 && !(a.top5 >= l.min_top5)) {
    why.push_back("top-5 agreement " + Num(a.top5) + " < " + Num(l.min_top5));
  }
  if (a.int_mismatches > 0) {
    const double equal = 1.0 - static_cast<double>(a.int_mismatches) / a.int_elements;
    if (l.min_top1 <= 0) {
      why.push_back(std::to_string(a.int_mismatches) + " of " + std::to_string(a.int_elements) +
                    " integer output elements differ");
    } else if (!(equal >= l.min_top1)) {
      why.push_back("integer outputs " + Num(equal) + " equal < " + Num(l.min_top1));
    }
  }
  if (why.empty()) return "";
  std::string s = std::string(PrecisionName(precision)) + ": ";
  for (size_t i = 0; i < why.size(); ++i) s += (i ? "; " : "") + why[i];
  return s;
}

Status MakeCheckInput(const TensorInfo& info, int64_t samples, uint64_t seed, Tensor* out) {
  const Shape& s = info.shape;
  const bool nchw = s.size() == 4 && (s[1] == 1 || s[1] == 3) && s[2] > 1 && s[3] > 1;
  const bool nhwc = !nchw && s.size() == 4 && (s[3] == 1 || s[3] == 3) && s[1] > 1 && s[2] > 1;
  if (!nchw && !nhwc) return MakeInput(info, samples, seed, out);
  OPTIC_RETURN_IF_ERROR(MakeInput(info, samples, seed, out));  // shape checks; noise reused below
  const int64_t c = nchw ? s[1] : s[3], h = nchw ? s[2] : s[1], w = nchw ? s[3] : s[2];
  constexpr int kWaves = 6;
  constexpr double kMaxCycles = 8, kNoise = 0.25, kClip = 2.5, kTwoPi = 6.283185307179586;
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  float* data = out->data<float>();
  std::vector<double> img(static_cast<size_t>(c * h * w));
  for (int64_t n = 0; n < samples; ++n) {
    float* x = data + n * c * h * w;
    for (int64_t ch = 0; ch < c; ++ch) {
      double* plane = img.data() + ch * h * w;
      std::fill(plane, plane + h * w, 0.0);
      for (int k = 0; k < kWaves; ++k) {
        const double fy = u(rng) * kMaxCycles, fx = u(rng) * kMaxCycles;
        const double phase = u(rng) * kTwoPi / 2, amp = u(rng);
        for (int64_t i = 0; i < h; ++i) {
          for (int64_t j = 0; j < w; ++j) {
            plane[i * w + j] += amp * std::sin(kTwoPi * (fy * i / h + fx * j / w) + phase);
          }
        }
      }
    }
    double sum = 0, sq = 0;
    for (double v : img) sum += v, sq += v * v;
    const double m = sum / img.size();
    const double sd = std::sqrt(std::max(sq / img.size() - m * m, 1e-12));
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t i = 0; i < h * w; ++i) {
        const size_t at = static_cast<size_t>(nchw ? ch * h * w + i : i * c + ch);
        // The uniform [-2, 2) noise MakeInput left there, scaled to +-kNoise.
        const double v = (img[ch * h * w + i] - m) / sd + x[at] * (kNoise / 2);
        x[at] = static_cast<float>(std::clamp(v, -kClip, kClip));
      }
    }
  }
  return Status::OK();
}

}  // namespace optic

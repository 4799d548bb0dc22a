#include "geometry.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cmath>

namespace optic::preprocess {

ResizeGeometry ComputeGeometry(const PreprocessOptions& o, int width, int height) {
  ResizeGeometry g;
  if (o.resize_shorter > 0) {
    const int s = o.resize_shorter;
    if (width <= height) {
      g.resized_w = s;
      g.resized_h = static_cast<int>(static_cast<int64_t>(s) * height / width);
    } else {
      g.resized_h = s;
      g.resized_w = static_cast<int>(static_cast<int64_t>(s) * width / height);
    }
  } else {
    g.resized_w = o.crop_width;
    g.resized_h = o.crop_height;
  }
  g.crop_w = o.crop_width;
  g.crop_h = o.crop_height;
  // std::nearbyint rounds half to even in the default rounding mode, as Python's round does.
  g.crop_x = static_cast<int>(std::nearbyint((g.resized_w - g.crop_w) / 2.0));
  g.crop_y = static_cast<int>(std::nearbyint((g.resized_h - g.crop_h) / 2.0));
  return g;
}

int AxisCoeffs::min_input() const {
  int m = start.empty() ? 0 : start[0];
  for (int s : start) m = std::min(m, s);
  return m;
}

int AxisCoeffs::max_input() const {
  int m = 0;
  for (size_t i = 0; i < start.size(); ++i) m = std::max(m, start[i] + count[i]);
  return m;
}

namespace {
double Triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}
double Box(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }
}  // namespace

AxisCoeffs ComputeAxisCoeffs(ResizeFilter filter, int in_size, int out_size, int out_begin, int n) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = filter == ResizeFilter::kBilinear ? 1.0 : std::max(scale, 1.0);
  const double base_support = filter == ResizeFilter::kArea ? 0.5 : 1.0;
  const double support = base_support * filterscale;
  AxisCoeffs c;
  c.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.start.resize(n);
  c.count.resize(n);
  c.weights.assign(static_cast<size_t>(n) * c.taps, 0.0f);
  std::vector<double> w(c.taps);
  for (int i = 0; i < n; ++i) {
    const double center = (out_begin + i + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    int xmax = static_cast<int>(center + support + 0.5);
    xmin = std::max(xmin, 0);
    xmax = std::min(xmax, in_size);
    int cnt = std::min(xmax - xmin, c.taps);
    double total = 0;
    for (int k = 0; k < cnt; ++k) {
      const double x = (xmin + k - center + 0.5) / filterscale;
      w[k] = filter == ResizeFilter::kArea ? Box(x) : Triangle(x);
      total += w[k];
    }
    if (total <= 0) {  // cannot happen for in_size >= 1; keep a valid nearest tap anyway
      xmin = std::clamp(static_cast<int>(center), 0, in_size - 1);
      cnt = 1;
      w[0] = total = 1.0;
    }
    // Trim zero-weight taps at the ends so loops read only what matters.
    int lo = 0, hi = cnt;
    while (lo < hi - 1 && w[lo] == 0.0) ++lo;
    while (hi - 1 > lo && w[hi - 1] == 0.0) --hi;
    c.start[i] = xmin + lo;
    c.count[i] = hi - lo;
    for (int k = lo; k < hi; ++k) c.weights[static_cast<size_t>(i) * c.taps + (k - lo)] = static_cast<float>(w[k] / total);
  }
  return c;
}

void ChooseDctScale(int width, int height, int min_w, int min_h, int* num, int* denom,
                    int* scaled_w, int* scaled_h) {
  *num = 1;
  *denom = 1;
  *scaled_w = width;
  *scaled_h = height;
  int n = 0;
  tjscalingfactor* f = tjGetScalingFactors(&n);
  if (f == nullptr) return;
  for (int i = 0; i < n; ++i) {
    // Only 1/2, 1/4, 1/8: libjpeg-turbo has SIMD reduced IDCTs for those, while the n/8 ones
    // (3/4, 5/8, ...) run plain C and decode slower than a full-size SIMD decode (measured: a
    // 500x375 image at 3/4 took 1.3x the time of the full decode).
    if (f[i].num != 1 || f[i].denom == 1) continue;
    const int sw = TJSCALED(width, f[i]);
    const int sh = TJSCALED(height, f[i]);
    if (sw >= min_w && sh >= min_h && static_cast<int64_t>(sw) * sh < static_cast<int64_t>(*scaled_w) * *scaled_h) {
      *num = f[i].num;
      *denom = f[i].denom;
      *scaled_w = sw;
      *scaled_h = sh;
    }
  }
}

}  // namespace optic::preprocess

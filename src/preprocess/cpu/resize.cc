#include "resize.h"

#include <algorithm>

namespace optic::preprocess {

namespace {

struct Half {
  uint16_t bits;
};
template <typename T> T Convert(float v);
template <> inline float Convert<float>(float v) { return v; }
template <> inline Half Convert<Half>(float v) { return Half{FloatToHalf(v)}; }

// The compiler vectorizes these loops; target_clones picks AVX-512/AVX2 at load time on machines
// that have them while the binary still runs on baseline x86-64.
#if defined(__x86_64__) && defined(__GNUC__)
#define OPTIC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define OPTIC_CLONES
#endif

OPTIC_CLONES
void VerticalPass(const uint8_t* src, size_t stride, int y0, int count, const float* w, int n,
                  float* acc) {
  const uint8_t* r0 = src + static_cast<size_t>(y0) * stride;
  const float w0 = w[0];
  for (int i = 0; i < n; ++i) acc[i] = w0 * static_cast<float>(r0[i]);
  for (int k = 1; k < count; ++k) {
    const uint8_t* r = src + static_cast<size_t>(y0 + k) * stride;
    const float wk = w[k];
    for (int i = 0; i < n; ++i) acc[i] += wk * static_cast<float>(r[i]);
  }
}

template <int C, typename Store>
void HorizontalPass(const float* vrow, int x_base, const AxisCoeffs& cx, int n, Store store) {
  for (int x = 0; x < n; ++x) {
    const float* p = vrow + static_cast<size_t>(cx.start[x] - x_base) * C;
    const float* w = cx.weights.data() + static_cast<size_t>(x) * cx.taps;
    float a[C] = {};
    for (int k = 0; k < cx.count[x]; ++k) {
      for (int c = 0; c < C; ++c) a[c] += w[k] * p[k * C + c];
    }
    if constexpr (C == 1) {
      store(x, a[0], a[0], a[0]);
    } else {
      store(x, a[0], a[1], a[2]);
    }
  }
}

template <int C, typename T, bool kNchw>
void RunRows(const uint8_t* src, int src_w, int src_h, const ResizeGeometry& g,
             const PreprocessOptions& o, ResizeScratch* s, T* out) {
  const AxisCoeffs cy = ComputeAxisCoeffs(o.filter, src_h, g.resized_h, g.crop_y, g.crop_h);
  const AxisCoeffs cx = ComputeAxisCoeffs(o.filter, src_w, g.resized_w, g.crop_x, g.crop_w);
  const int x0 = cx.min_input(), x1 = cx.max_input();
  const int n = (x1 - x0) * C;
  s->vrow.resize(n);
  const size_t stride = static_cast<size_t>(src_w) * C;
  float mul[3], add[3];
  for (int c = 0; c < 3; ++c) {
    mul[c] = o.scale / o.std[c];
    add[c] = -o.mean[c] / o.std[c];
  }
  const size_t plane = static_cast<size_t>(g.crop_h) * g.crop_w;
  (void)src_h;
  for (int y = 0; y < g.crop_h; ++y) {
    VerticalPass(src + static_cast<size_t>(x0) * C, stride, cy.start[y], cy.count[y],
                 cy.weights.data() + static_cast<size_t>(y) * cy.taps, n, s->vrow.data());
    T* row = out + (kNchw ? static_cast<size_t>(y) * g.crop_w : static_cast<size_t>(y) * g.crop_w * 3);
    auto store = [&](int x, float r, float gr, float b) {
      const float v0 = r * mul[0] + add[0], v1 = gr * mul[1] + add[1], v2 = b * mul[2] + add[2];
      if constexpr (kNchw) {
        row[x] = Convert<T>(v0);
        row[plane + x] = Convert<T>(v1);
        row[2 * plane + x] = Convert<T>(v2);
      } else {
        row[3 * x] = Convert<T>(v0);
        row[3 * x + 1] = Convert<T>(v1);
        row[3 * x + 2] = Convert<T>(v2);
      }
    };
    HorizontalPass<C>(s->vrow.data(), x0, cx, g.crop_w, store);
  }
}

template <int C, typename T>
void Dispatch(const uint8_t* src, int w, int h, const ResizeGeometry& g, const PreprocessOptions& o,
              ResizeScratch* s, void* out) {
  if (o.layout == Layout::kNCHW) {
    RunRows<C, T, true>(src, w, h, g, o, s, static_cast<T*>(out));
  } else {
    RunRows<C, T, false>(src, w, h, g, o, s, static_cast<T*>(out));
  }
}

}  // namespace

void ResizeCropNormalize(const uint8_t* src, int src_w, int src_h, int channels,
                         const ResizeGeometry& g, const PreprocessOptions& o,
                         ResizeScratch* scratch, void* out) {
  const bool half = o.dtype == DType::kFP16;
  if (channels == 1) {
    half ? Dispatch<1, Half>(src, src_w, src_h, g, o, scratch, out)
         : Dispatch<1, float>(src, src_w, src_h, g, o, scratch, out);
  } else {
    half ? Dispatch<3, Half>(src, src_w, src_h, g, o, scratch, out)
         : Dispatch<3, float>(src, src_w, src_h, g, o, scratch, out);
  }
}

}  // namespace optic::preprocess

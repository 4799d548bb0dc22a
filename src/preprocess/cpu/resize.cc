#include "resize.h"

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace optic::preprocess {

namespace {

// The compiler vectorizes these loops (the horizontal one into gathers); target_clones picks
// AVX-512/AVX2 at load time on machines that have them while the binary still runs on baseline
// x86-64 (no -march in the build flags). Not under ThreadSanitizer: the ifunc resolvers that
// target_clones generates are instrumented but run during relocation, before TSan's runtime is
// up, and crash every binary at load.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_THREAD__)
#define OPTIC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define OPTIC_CLONES
#endif

// acc[i] = sum_k w[k] * row(k)[i] over n contiguous elements (bytes or floats), rows `stride`
// elements apart. Up to 4 taps at a time are summed in registers (one pass over acc per 4 taps).
template <int K, typename In>
inline void VerticalTaps(const In* __restrict src, size_t stride, const float* __restrict w, int n,
                         bool first, float* __restrict acc) {
  const In* __restrict r[4];
  float wk[4];
  for (int k = 0; k < K; ++k) {
    r[k] = src + static_cast<size_t>(k) * stride;
    wk[k] = w[k];
  }
  for (int i = 0; i < n; ++i) {
    float a = first ? 0.0f : acc[i];
    for (int k = 0; k < K; ++k) a += wk[k] * static_cast<float>(r[k][i]);
    acc[i] = a;
  }
}

template <typename In>
inline void VerticalSum(const In* __restrict src, size_t stride, int count,
                        const float* __restrict w, int n, float* __restrict acc) {
  for (int k0 = 0; k0 < count; k0 += 4) {
    const In* s = src + static_cast<size_t>(k0) * stride;
    const bool first = k0 == 0;
    switch (std::min(4, count - k0)) {
      case 1: VerticalTaps<1>(s, stride, w + k0, n, first, acc); break;
      case 2: VerticalTaps<2>(s, stride, w + k0, n, first, acc); break;
      case 3: VerticalTaps<3>(s, stride, w + k0, n, first, acc); break;
      default: VerticalTaps<4>(s, stride, w + k0, n, first, acc); break;
    }
  }
}

OPTIC_CLONES
void VerticalPass(const uint8_t* __restrict src, size_t stride, int count,
                  const float* __restrict w, int n, float* __restrict acc) {
  VerticalSum(src, stride, count, w, n, acc);
}

// The same over float rows (the horizontally filtered rows of the horizontal-first order).
OPTIC_CLONES
void VerticalPassF(const float* __restrict src, size_t stride, int count,
                   const float* __restrict w, int n, float* __restrict acc) {
  VerticalSum(src, stride, count, w, n, acc);
}

OPTIC_CLONES
void ToFloat(const uint8_t* __restrict src, int n, float* __restrict out) {
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>(src[i]);
}

// out[x] = mul * sum_k w[k][x] * v[g[k][x]] + add for one channel (v already offset to it).
// GCC's generic tuning turns v[g[x]] into scalar loads and inserts; explicit AVX-512 gathers are
// about 2x faster on the AMD EPYC this was measured on, so that version is written out and
// picked at run time.
void HorizontalPassPortable(const float* __restrict v, const int32_t* __restrict g,
                            const float* __restrict w, int taps, int n, float mul, float add,
                            float* __restrict out) {
  for (int x = 0; x < n; ++x) out[x] = w[x] * v[g[x]];
  for (int k = 1; k < taps; ++k) {
    const int32_t* __restrict gk = g + static_cast<size_t>(k) * n;
    const float* __restrict wk = w + static_cast<size_t>(k) * n;
    for (int x = 0; x < n; ++x) out[x] += wk[x] * v[gk[x]];
  }
  for (int x = 0; x < n; ++x) out[x] = out[x] * mul + add;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) void HorizontalPass512(
    const float* __restrict v, const int32_t* __restrict g, const float* __restrict w, int taps,
    int n, float mul, float add, float* __restrict out) {
  const __m512 vm = _mm512_set1_ps(mul), va = _mm512_set1_ps(add);
  for (int x = 0; x < n; x += 16) {
    const __mmask16 m = n - x >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - x)) - 1);
    __m512 acc = _mm512_setzero_ps();
    for (int k = 0; k < taps; ++k) {
      const size_t o = static_cast<size_t>(k) * n + x;
      const __m512i idx = _mm512_maskz_loadu_epi32(m, g + o);
      const __m512 px = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, v, 4);
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + o), px, acc);
    }
    _mm512_mask_storeu_ps(out + x, m, _mm512_fmadd_ps(acc, vm, va));
  }
}
#endif

using HorizontalFn = void (*)(const float*, const int32_t*, const float*, int, int, float, float,
                              float*);
HorizontalFn PickHorizontal() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f")) return HorizontalPass512;
#endif
  return HorizontalPassPortable;
}
const HorizontalFn HorizontalPass = PickHorizontal();

// Writes one channel of one output row computed in `row` (fp32, contiguous) to its place:
// NCHW fp32 rows are computed in place, so there is nothing to do.
void Store(const float* row, int n, float* out, int step) {
  if (row == out) return;
  for (int x = 0; x < n; ++x) out[static_cast<size_t>(x) * step] = row[x];
}
void Store(const float* row, int n, uint16_t* out, int step) {
  for (int x = 0; x < n; ++x) out[static_cast<size_t>(x) * step] = FloatToHalf(row[x]);
}

// Where the row for channel c of output row y is computed: straight in the batch row for NCHW
// fp32, else in scratch and then interleaved/converted by Store (same arithmetic either way, so
// layouts and dtypes agree bit for bit before the fp16 rounding).
inline float* WorkRow(float* out, bool nchw, float* tmp) { return nchw ? out : tmp; }
inline float* WorkRow(uint16_t*, bool, float* tmp) { return tmp; }

bool SamePlan(const ResizePlan& p, const SourceImage& s, const ResizeGeometry& g, ResizeFilter f) {
  return p.src_w == s.width && p.src_h == s.height && p.channels == s.channels && p.filter == f &&
         p.g.resized_w == g.resized_w && p.g.resized_h == g.resized_h && p.g.crop_x == g.crop_x &&
         p.g.crop_y == g.crop_y && p.g.crop_w == g.crop_w && p.g.crop_h == g.crop_h;
}

void BuildPlan(const SourceImage& s, const ResizeGeometry& g, ResizeFilter f, ResizePlan* p) {
  p->src_w = s.width;
  p->src_h = s.height;
  p->channels = s.channels;
  p->g = g;
  p->filter = f;
  p->cy = ComputeAxisCoeffs(f, s.height, g.resized_h, g.crop_y, g.crop_h);
  p->y0 = p->cy.min_input();
  p->y1 = p->cy.max_input();
  const AxisCoeffs cx = ComputeAxisCoeffs(f, s.width, g.resized_w, g.crop_x, g.crop_w);
  p->x0 = cx.min_input();
  const int x1 = cx.max_input();
  p->cols = x1 - p->x0;
  int taps = 1;
  for (int c : cx.count) taps = std::max(taps, c);
  p->tx = taps;
  const int n = g.crop_w;
  p->gx.assign(static_cast<size_t>(taps) * n, 0);
  p->wx.assign(static_cast<size_t>(taps) * n, 0.0f);
  for (int x = 0; x < n; ++x) {
    // Fixed `taps` reads from `first`; shifted left near the right edge so every read stays in
    // [x0, x1) (cols >= taps since some output reads `taps` columns); the real taps then sit at
    // offset `lead` and the rest weigh 0.
    const int first = std::min(cx.start[x], x1 - taps);
    const int lead = cx.start[x] - first;
    for (int k = 0; k < taps; ++k) {
      p->gx[static_cast<size_t>(k) * n + x] = (first - p->x0 + k) * s.channels;
      const int j = k - lead;
      if (j >= 0 && j < cx.count[x]) p->wx[static_cast<size_t>(k) * n + x] = cx.weights[static_cast<size_t>(x) * cx.taps + j];
    }
  }
}

void NormalizeConstants(const PreprocessOptions& o, float* mul, float* add) {
  for (int c = 0; c < 3; ++c) {
    mul[c] = o.scale / o.std[c];
    add[c] = -o.mean[c] / o.std[c];
  }
}

// Where channel c of output row y goes.
template <typename T>
T* OutRow(T* out, const ResizeGeometry& g, bool nchw, int c, int y) {
  const size_t n = g.crop_w;
  return nchw ? out + c * static_cast<size_t>(g.crop_h) * n + y * n : out + y * n * 3 + c;
}

// Vertical first: per output row, a vertical pass over the source columns the crop reads, then
// the horizontal pass per channel. Fewer horizontal (gather) passes when the image shrinks.
template <typename T>
void RunVerticalFirst(const SourceImage& s, const ResizePlan& p, const PreprocessOptions& o,
                      ResizeScratch* scr, T* out) {
  const int C = s.channels, n = p.g.crop_w;
  const bool nchw = o.layout == Layout::kNCHW;
  scr->vrow.resize(static_cast<size_t>(p.cols) * C);
  float mul[3], add[3];
  NormalizeConstants(o, mul, add);
  for (int y = 0; y < p.g.crop_h; ++y) {
    const uint8_t* rows = s.data + static_cast<size_t>(p.cy.start[y] - s.y0) * s.stride +
                          static_cast<size_t>(p.x0 - s.x0) * C;
    VerticalPass(rows, s.stride, p.cy.count[y], p.cy.weights.data() + static_cast<size_t>(y) * p.cy.taps,
                 p.cols * C, scr->vrow.data());
    for (int c = 0; c < 3; ++c) {
      T* dst = OutRow(out, p.g, nchw, c, y);
      float* row = WorkRow(dst, nchw, scr->tmp.data());
      // Gray: one horizontal pass per row, normalized per channel.
      HorizontalPass(scr->vrow.data() + (C == 3 ? c : 0), p.gx.data(), p.wx.data(), p.tx, n,
                     mul[c], add[c], row);
      Store(row, n, dst, nchw ? 1 : 3);
    }
  }
}

// Horizontal first: each source row the crop reads is filtered horizontally once into
// hbuf[row][channel][x]; each output row is then a vertical sum of contiguous float rows. Fewer
// horizontal passes when the image grows (small images upscaled to 224).
template <typename T>
void RunHorizontalFirst(const SourceImage& s, const ResizePlan& p, const PreprocessOptions& o,
                        ResizeScratch* scr, T* out) {
  const int C = s.channels, n = p.g.crop_w;
  const bool nchw = o.layout == Layout::kNCHW;
  const int rows = p.y1 - p.y0;
  const int planes = C == 3 ? 3 : 1;
  float mul[3], add[3];
  NormalizeConstants(o, mul, add);
  // Gray is filtered once per source row and normalized per output channel, hence 3 planes.
  scr->vrow.resize(static_cast<size_t>(p.cols) * C);
  scr->hbuf.resize(static_cast<size_t>(rows) * 3 * n);
  for (int r = 0; r < rows; ++r) {
    ToFloat(s.data + static_cast<size_t>(p.y0 + r - s.y0) * s.stride + static_cast<size_t>(p.x0 - s.x0) * C,
            p.cols * C, scr->vrow.data());
    for (int c = 0; c < 3; ++c) {
      HorizontalPass(scr->vrow.data() + (planes == 3 ? c : 0), p.gx.data(), p.wx.data(), p.tx, n,
                     mul[c], add[c], scr->hbuf.data() + (static_cast<size_t>(r) * 3 + c) * n);
    }
  }
  // The vertical weights sum to 1, so normalizing before the vertical sum gives the same values.
  const size_t stride = static_cast<size_t>(3) * n;
  for (int y = 0; y < p.g.crop_h; ++y) {
    const float* w = p.cy.weights.data() + static_cast<size_t>(y) * p.cy.taps;
    for (int c = 0; c < 3; ++c) {
      T* dst = OutRow(out, p.g, nchw, c, y);
      float* row = WorkRow(dst, nchw, scr->tmp.data());
      VerticalPassF(scr->hbuf.data() + (p.cy.start[y] - p.y0) * stride + static_cast<size_t>(c) * n,
                    stride, p.cy.count[y], w, n, row);
      Store(row, n, dst, nchw ? 1 : 3);
    }
  }
}

template <typename T>
void RunRows(const SourceImage& s, const ResizePlan& p, const PreprocessOptions& o,
             ResizeScratch* scr, T* out) {
  scr->tmp.resize(p.g.crop_w);
  if (p.y1 - p.y0 < p.g.crop_h) {
    RunHorizontalFirst(s, p, o, scr, out);
  } else {
    RunVerticalFirst(s, p, o, scr, out);
  }
}

}  // namespace

void ResizeSourceWindow(int src_w, int src_h, const ResizeGeometry& g, ResizeFilter filter,
                        int* x0, int* y0, int* x1, int* y1) {
  const AxisCoeffs cx = ComputeAxisCoeffs(filter, src_w, g.resized_w, g.crop_x, g.crop_w);
  const AxisCoeffs cy = ComputeAxisCoeffs(filter, src_h, g.resized_h, g.crop_y, g.crop_h);
  *x0 = cx.min_input();
  *x1 = cx.max_input();
  *y0 = cy.min_input();
  *y1 = cy.max_input();
}

void ResizeCropNormalize(const SourceImage& src, const ResizeGeometry& g,
                         const PreprocessOptions& o, ResizeScratch* scratch, void* out) {
  ResizePlan& p = scratch->plan;
  if (!SamePlan(p, src, g, o.filter)) BuildPlan(src, g, o.filter, &p);
  if (o.dtype == DType::kFP16) {
    RunRows<uint16_t>(src, p, o, scratch, static_cast<uint16_t*>(out));
  } else {
    RunRows<float>(src, p, o, scratch, static_cast<float*>(out));
  }
}

}  // namespace optic::preprocess

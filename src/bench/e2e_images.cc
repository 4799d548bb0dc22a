#include "bench/e2e_images.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace optic::bench {

namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from a 64-bit state, advancing it.
double Uniform(uint64_t* state) {
  *state = SplitMix(*state);
  return static_cast<double>(*state >> 11) * (1.0 / 9007199254740992.0);
}

uint8_t Clamp8(float v) { return static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f) + 0.5f); }

}  // namespace

Status ParseImageClass(const std::string& name, ImageClassSpec* out) {
  ImageClassSpec s;
  s.name = name;
  // Grain and quality were tuned once so the sizes land near the seed's (recorded per row as
  // e2e.image_bytes_mean; see docs/bench.md).
  if (name == "small") {
    s.width = 60, s.height = 70, s.target_bytes = 4 * 1000, s.pool = 64, s.quality = 95, s.grain = 35;
  } else if (name == "medium") {
    s.width = 500, s.height = 375, s.target_bytes = 120 * 1000, s.pool = 16, s.quality = 95, s.grain = 27;
  } else if (name == "large") {
    s.width = 3564, s.height = 2880, s.target_bytes = 9500 * 1000, s.pool = 4, s.quality = 97, s.grain = 41;
  } else {
    return Status::InvalidArgument("unknown image class '" + name + "' (choose small, medium, large)");
  }
  *out = s;
  return Status::OK();
}

Status ParseImageClassList(const std::string& text, std::vector<std::string>* out) {
  out->clear();
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    ImageClassSpec spec;
    OPTIC_RETURN_IF_ERROR(ParseImageClass(item, &spec).Prefixed("--image-class"));
    if (std::find(out->begin(), out->end(), item) == out->end()) out->push_back(item);
  }
  if (out->empty()) return Status::InvalidArgument("--image-class: no image class in '" + text + "'");
  return Status::OK();
}

Status MakeSyntheticJpeg(const ImageClassSpec& spec, uint64_t seed, int index,
                         std::vector<uint8_t>* jpeg) {
  const int w = spec.width, h = spec.height;
  uint64_t st = SplitMix(seed * 1000003ULL + static_cast<uint64_t>(index) * 7919ULL +
                         std::hash<std::string>{}(spec.name));
  // Scene: two colours blended along a random direction, a few soft blobs, and an oriented
  // texture made separable (row and column tables) so a 10-megapixel image stays cheap.
  float c0[3], c1[3];
  for (int c = 0; c < 3; ++c) c0[c] = 40 + 170 * Uniform(&st), c1[c] = 40 + 170 * Uniform(&st);
  const float angle = static_cast<float>(Uniform(&st) * 6.2831853);
  const float dx = std::cos(angle) / w, dy = std::sin(angle) / h;
  struct Blob { float x, y, r2, amp[3]; };
  std::vector<Blob> blobs(6);
  for (auto& b : blobs) {
    b.x = static_cast<float>(Uniform(&st) * w), b.y = static_cast<float>(Uniform(&st) * h);
    const float r = static_cast<float>((0.05 + 0.2 * Uniform(&st)) * std::min(w, h));
    b.r2 = r * r;
    for (float& a : b.amp) a = static_cast<float>(-60 + 120 * Uniform(&st));
  }
  // Texture periods scale with the image, as a photo of a bigger scene keeps its detail.
  std::vector<float> tx(w), ty(h);
  const float fx1 = static_cast<float>(6.2831853 / (3 + 9 * Uniform(&st)));
  const float fx2 = static_cast<float>(6.2831853 / (15 + 40 * Uniform(&st)));
  const float fy1 = static_cast<float>(6.2831853 / (3 + 9 * Uniform(&st)));
  const float fy2 = static_cast<float>(6.2831853 / (15 + 40 * Uniform(&st)));
  for (int x = 0; x < w; ++x) tx[x] = std::sin(fx1 * x) + 0.7f * std::sin(fx2 * x + 1.3f);
  for (int y = 0; y < h; ++y) ty[y] = std::sin(fy1 * y + 0.4f) + 0.7f * std::sin(fy2 * y);
  const float tex_amp = 12.0f;
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  uint64_t noise = SplitMix(st);
  for (int y = 0; y < h; ++y) {
    uint8_t* row = rgb.data() + static_cast<size_t>(y) * w * 3;
    for (int x = 0; x < w; ++x) {
      const float t = std::clamp(0.5f + (x * dx + y * dy), 0.0f, 1.0f);
      float px[3];
      for (int c = 0; c < 3; ++c) px[c] = c0[c] + (c1[c] - c0[c]) * t;
      for (const Blob& b : blobs) {
        const float ddx = x - b.x, ddy = y - b.y, d2 = ddx * ddx + ddy * ddy;
        if (d2 < 4 * b.r2) {
          const float k = 1.0f - d2 / (4 * b.r2);
          for (int c = 0; c < 3; ++c) px[c] += b.amp[c] * k * k;
        }
      }
      const float tex = tex_amp * tx[x] * ty[y];
      // Grain: mostly luminance, some chroma, like sensor noise.
      noise = SplitMix(noise);
      const float g = spec.grain * (static_cast<float>(noise & 0xFFFF) / 32768.0f - 1.0f);
      const float gc = 0.3f * spec.grain * (static_cast<float>((noise >> 16) & 0xFFFF) / 32768.0f - 1.0f);
      row[3 * x + 0] = Clamp8(px[0] + tex + g + gc);
      row[3 * x + 1] = Clamp8(px[1] + tex + g);
      row[3 * x + 2] = Clamp8(px[2] + tex + g - gc);
    }
  }
  tjhandle tj = tjInitCompress();
  if (tj == nullptr) return Status::Internal("image class " + spec.name + ": tjInitCompress failed");
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(tj, rgb.data(), w, 0, h, TJPF_RGB, &buf, &size, TJSAMP_420,
                             spec.quality, TJFLAG_ACCURATEDCT);
  Status s;
  if (rc != 0) {
    s = Status::Internal("image class " + spec.name + ": TurboJPEG encode failed: " +
                         tjGetErrorStr2(tj));
  } else {
    jpeg->assign(buf, buf + size);
  }
  tjFree(buf);
  tjDestroy(tj);
  return s;
}

Status MakeJpegPool(const ImageClassSpec& spec, uint64_t seed,
                    std::vector<std::vector<uint8_t>>* pool) {
  pool->assign(spec.pool, {});
  for (int i = 0; i < spec.pool; ++i) {
    OPTIC_RETURN_IF_ERROR(MakeSyntheticJpeg(spec, seed, i, &(*pool)[i]));
  }
  return Status::OK();
}

}  // namespace optic::bench

// Test helpers for the preprocess tests: synthetic images and TurboJPEG encoding, so every JPEG a
// test uses is made by the test itself.
#pragma once

#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace optic::testing {

enum class Pattern { kGradient, kNoise, kMixed };

// Packed RGB, deterministic.
inline std::vector<uint8_t> MakeRgb(int w, int h, Pattern p, uint32_t seed = 1) {
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3);
  std::mt19937 rng(seed);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* d = &px[(static_cast<size_t>(y) * w + x) * 3];
      const int gx = x * 255 / std::max(1, w - 1), gy = y * 255 / std::max(1, h - 1);
      const int n = static_cast<int>(rng() & 0xff);
      switch (p) {
        case Pattern::kGradient:
          d[0] = gx; d[1] = gy; d[2] = (gx + gy) / 2;
          break;
        case Pattern::kNoise:
          d[0] = n; d[1] = (n * 7) & 0xff; d[2] = static_cast<uint8_t>(rng() & 0xff);
          break;
        case Pattern::kMixed:  // smooth base + texture, like a photo
          d[0] = static_cast<uint8_t>(std::clamp(gx + (n & 31) - 16, 0, 255));
          d[1] = static_cast<uint8_t>(128 + 100 * std::sin(x * 0.05) * std::cos(y * 0.03));
          d[2] = static_cast<uint8_t>(std::clamp(gy + (n >> 3) - 16, 0, 255));
          break;
      }
    }
  }
  return px;
}

// Encodes pixels in pixel format pf (TJPF_RGB, TJPF_GRAY, TJPF_CMYK).
inline std::vector<uint8_t> EncodeJpeg(const std::vector<uint8_t>& px, int w, int h, int pf,
                                       int subsamp, int quality, int flags = 0) {
  tjhandle t = tjInitCompress();
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  if (tjCompress2(t, px.data(), w, 0, h, pf, &buf, &size, subsamp, quality, flags) != 0) {
    std::string e = tjGetErrorStr2(t);
    tjDestroy(t);
    throw std::runtime_error("tjCompress2: " + e);
  }
  std::vector<uint8_t> out(buf, buf + size);
  tjFree(buf);
  tjDestroy(t);
  return out;
}

inline std::vector<uint8_t> RgbJpeg(int w, int h, Pattern p, int quality = 90, int flags = 0,
                                    uint32_t seed = 1) {
  return EncodeJpeg(MakeRgb(w, h, p, seed), w, h, TJPF_RGB, TJSAMP_420, quality, flags);
}

// libjpeg-turbo's rgb_to_cmyk (tjutil cmyk.h): inverted CMYK as Adobe writes it.
inline std::vector<uint8_t> RgbToCmyk(const std::vector<uint8_t>& rgb) {
  std::vector<uint8_t> out(rgb.size() / 3 * 4);
  for (size_t i = 0; i < rgb.size() / 3; ++i) {
    double c = 1.0 - rgb[3 * i] / 255.0, m = 1.0 - rgb[3 * i + 1] / 255.0,
           y = 1.0 - rgb[3 * i + 2] / 255.0;
    double k = std::min(std::min(c, m), y);
    if (k == 1.0) {
      c = m = y = 0.0;
    } else {
      c = (c - k) / (1.0 - k); m = (m - k) / (1.0 - k); y = (y - k) / (1.0 - k);
    }
    out[4 * i] = static_cast<uint8_t>(255.0 - c * 255.0 + 0.5);
    out[4 * i + 1] = static_cast<uint8_t>(255.0 - m * 255.0 + 0.5);
    out[4 * i + 2] = static_cast<uint8_t>(255.0 - y * 255.0 + 0.5);
    out[4 * i + 3] = static_cast<uint8_t>(255.0 - k * 255.0 + 0.5);
  }
  return out;
}

// Reference decode with TurboJPEG itself (full scale unless denom > 1), packed in format pf.
inline std::vector<uint8_t> ReferenceDecode(const std::vector<uint8_t>& jpg, int pf, int* w, int* h,
                                            int denom = 1) {
  tjhandle t = tjInitDecompress();
  int sub = 0, cs = 0;
  tjDecompressHeader3(t, jpg.data(), jpg.size(), w, h, &sub, &cs);
  tjscalingfactor sf{1, denom};
  *w = TJSCALED(*w, sf);
  *h = TJSCALED(*h, sf);
  std::vector<uint8_t> out(static_cast<size_t>(*w) * *h * tjPixelSize[pf]);
  if (tjDecompress2(t, jpg.data(), jpg.size(), out.data(), *w, 0, *h, pf, 0) != 0) {
    std::string e = tjGetErrorStr2(t);
    tjDestroy(t);
    throw std::runtime_error("reference decode: " + e);
  }
  tjDestroy(t);
  return out;
}

}  // namespace optic::testing

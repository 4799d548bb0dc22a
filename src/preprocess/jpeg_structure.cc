#include "jpeg_structure.h"

#include <cstdio>
#include <cstring>

namespace optic::preprocess {

namespace {

constexpr uint8_t kSoi = 0xD8, kEoi = 0xD9, kSos = 0xDA, kDri = 0xDD, kTem = 0x01;

bool IsRst(uint8_t m) { return m >= 0xD0 && m <= 0xD7; }

JpegStructure Problem(JpegStructure r, JpegStructureProblem p, size_t offset, int marker = 0) {
  r.problem = p;
  r.offset = offset;
  r.marker = marker;
  return r;
}

// Walks one entropy-coded segment from `pos` (just after the SOS header) the way libjpeg-turbo's
// Huffman decoder reads it: FF 00 (after any FF fill bytes) is a data byte FF, FF Dn a restart
// marker, any other FF xx the marker that ends the scan. On success *pos is at that marker's
// first FF (fill bytes included, so the marker loop sees them as fill).
bool ScanEntropyData(const uint8_t* data, size_t size, int restart_interval, size_t* pos,
                     JpegStructure* r) {
  int expected = 0;  // libjpeg-turbo restarts the D0..D7 count at every SOS
  size_t p = *pos;
  while (true) {
    const void* hit = p < size ? std::memchr(data + p, 0xFF, size - p) : nullptr;
    if (hit == nullptr) {
      *r = Problem(*r, JpegStructureProblem::kTruncated, size);
      return false;
    }
    const size_t ff = static_cast<const uint8_t*>(hit) - data;
    size_t q = ff + 1;
    while (q < size && data[q] == 0xFF) ++q;
    if (q >= size) {
      *r = Problem(*r, JpegStructureProblem::kTruncated, size);
      return false;
    }
    const uint8_t c = data[q];
    if (c == 0x00) {
      p = q + 1;
      continue;
    }
    if (IsRst(c)) {
      if (restart_interval == 0) {
        *r = Problem(*r, JpegStructureProblem::kRestartWithoutInterval, q - 1, c);
        return false;
      }
      if (c - 0xD0 != expected) {
        *r = Problem(*r, JpegStructureProblem::kRestartOutOfOrder, q - 1, c);
        return false;
      }
      expected = (expected + 1) & 7;
      ++r->restarts;
      p = q + 1;
      continue;
    }
    *pos = ff;
    return true;
  }
}

}  // namespace

JpegStructure CheckJpegStructure(const uint8_t* data, size_t size) {
  JpegStructure r;
  if (data == nullptr || size < 2 || data[0] != 0xFF || data[1] != kSoi) {
    return Problem(r, JpegStructureProblem::kNoSoi, 0);
  }
  int restart_interval = 0;
  size_t pos = 2;
  while (true) {
    if (pos >= size) return Problem(r, JpegStructureProblem::kTruncated, size);
    // libjpeg-turbo's next_marker: anything but FF here is discarded with a warning, as is FF 00.
    if (data[pos] != 0xFF) return Problem(r, JpegStructureProblem::kExtraneousBytes, pos);
    const size_t at = pos;
    while (pos < size && data[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= size) return Problem(r, JpegStructureProblem::kTruncated, size);
    const uint8_t m = data[pos++];
    if (m == 0x00) return Problem(r, JpegStructureProblem::kExtraneousBytes, at);
    if (m == kEoi) {
      if (r.scans == 0) return Problem(r, JpegStructureProblem::kMalformedSegment, at, m);
      r.offset = pos;
      return r;
    }
    if (m == kSoi) return Problem(r, JpegStructureProblem::kMalformedSegment, at, m);
    if (IsRst(m) || m == kTem) continue;  // parameterless; libjpeg-turbo skips them here
    if (size - pos < 2) return Problem(r, JpegStructureProblem::kTruncated, size);
    const size_t len = (size_t{data[pos]} << 8) | data[pos + 1];
    if (len < 2) return Problem(r, JpegStructureProblem::kMalformedSegment, at, m);
    if (size - pos < len) return Problem(r, JpegStructureProblem::kTruncated, size);
    if (m == kDri) {
      if (len != 4) return Problem(r, JpegStructureProblem::kMalformedSegment, at, m);
      restart_interval = (data[pos + 2] << 8) | data[pos + 3];
    }
    pos += len;
    if (m == kSos) {
      ++r.scans;
      if (!ScanEntropyData(data, size, restart_interval, &pos, &r)) return r;
    }
  }
}

std::string JpegStructure::Describe() const {
  char buf[160];
  switch (problem) {
    case JpegStructureProblem::kNone:
      std::snprintf(buf, sizeof buf, "ok (%d scans, %d restart markers, EOI ends at byte %zu)", scans,
                    restarts, offset);
      break;
    case JpegStructureProblem::kNoSoi:
      return "no SOI marker (does not start with ff d8)";
    case JpegStructureProblem::kTruncated:
      std::snprintf(buf, sizeof buf, "truncated: the data ends at byte %zu before the EOI marker", offset);
      break;
    case JpegStructureProblem::kRestartWithoutInterval:
      std::snprintf(buf, sizeof buf, "RST%d marker at byte %zu in scan %d with no restart interval (no DRI)",
                    marker - 0xD0, offset, scans);
      break;
    case JpegStructureProblem::kRestartOutOfOrder:
      std::snprintf(buf, sizeof buf, "RST%d marker at byte %zu in scan %d out of the RST0..RST7 sequence",
                    marker - 0xD0, offset, scans);
      break;
    case JpegStructureProblem::kMalformedSegment:
      std::snprintf(buf, sizeof buf, "malformed marker segment ff %02x at byte %zu", marker, offset);
      break;
    case JpegStructureProblem::kExtraneousBytes:
      std::snprintf(buf, sizeof buf, "extraneous bytes at byte %zu where a marker should be", offset);
      break;
  }
  return buf;
}

}  // namespace optic::preprocess

// CheckJpegStructure: a byte scan of a JPEG's marker segments and entropy-coded scans, without
// decoding, for the damage that nvJPEG decodes silently but libjpeg-turbo reports (and optic's CPU
// path therefore fails): restart markers (RSTn) in a scan when no restart interval (DRI) is in
// force, RSTn out of the cyclic D0..D7 sequence, extraneous bytes between marker segments, and a
// stream that ends before its EOI marker (truncated). The GPU path sends any image this check
// flags to libjpeg-turbo, which then decodes it or fails it with its own reason, so a bad image
// fails the same way on both paths.
//
// Not detected (it would need Huffman decoding): a scan whose entropy data ends early or carries
// the wrong number of restart intervals, and damaged Huffman codes that keep the marker
// structure. Bytes after EOI are allowed: libjpeg-turbo stops reading at EOI without a warning,
// and cameras append data there (e.g. Samsung trailers, Motion Photo video).
//
// Cost: one pass; the entropy-coded data is searched for 0xFF with memchr. Threading: pure
// function, any thread. Failure: none; the result says what is wrong and where.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace optic::preprocess {

enum class JpegStructureProblem {
  kNone,
  kNoSoi,                    // does not start with FF D8
  kTruncated,                // the data ends before EOI (inside a segment, a scan, or between)
  kRestartWithoutInterval,   // RSTn inside a scan while the restart interval is 0 / undefined
  kRestartOutOfOrder,        // RSTn not the next of D0..D7 (each scan starts at D0)
  kMalformedSegment,         // a segment length < 2, a DRI of the wrong length, FF 00 or a
                             // second SOI outside a scan, or a RSTn outside a scan
  kExtraneousBytes,          // bytes that are not a marker between segments
};

struct JpegStructure {
  JpegStructureProblem problem = JpegStructureProblem::kNone;
  size_t offset = 0;  // byte offset of the problem (or of the end of EOI when kNone)
  int marker = 0;     // the marker byte involved (0xD0..0xD7 for the restart problems), or 0
  int scans = 0;      // SOS segments seen
  int restarts = 0;   // RSTn markers seen inside scans
  bool ok() const { return problem == JpegStructureProblem::kNone; }
  // "RST3 at byte 61234 with no restart interval (no DRI)", "ok", ...
  std::string Describe() const;
};

JpegStructure CheckJpegStructure(const uint8_t* data, size_t size);

}  // namespace optic::preprocess

// CheckJpegStructure: a byte scan of a JPEG's marker segments and entropy-coded scans, without
// decoding. It is the structural check both the CPU and the GPU path run before any decoder, so a
// damaged file gets the same verdict on both (docs/preprocess.md, "Bad input"):
//  - rejected (`problem`): data that ends before the EOI marker (truncated), malformed marker
//    segments (a length < 2, a second SOI or SOF, a SOS before the SOF or naming a component the
//    frame lacks, invalid progressive parameters), and tables libjpeg-turbo refuses to decode
//    with: a DHT whose code lengths over-subscribe the code space or whose DC symbols exceed 15,
//    used by a scan ("Bogus Huffman table definition"), and a quantization table or Huffman table
//    2/3 that a scan uses but no segment defined;
//  - accepted as damage (`damage`): restart markers (RSTn) in a scan with no restart interval
//    (DRI), RSTn out of the cyclic D0..D7 sequence, and extraneous bytes between marker segments.
//    libjpeg-turbo resynchronizes at the next marker and decodes a full image with a warning; the
//    GPU path decodes such files with libjpeg-turbo too, so both paths give the same pixels.
// `default_huffman_tables` says a scan uses Huffman table 0 or 1 that the file never defines
// (Motion-JPEG style): libjpeg-turbo then uses the standard tables, but only in a decompressor
// that no earlier image has filled, so the CPU decoder takes a fresh TurboJPEG handle for it.
//
// Not detected (it would need Huffman decoding): a scan whose entropy data ends early or carries
// the wrong number of restart intervals, and damaged Huffman codes that keep the marker
// structure (both decode to a full image, with a libjpeg-turbo warning on the CPU). Bytes after
// EOI are allowed: libjpeg-turbo stops reading at EOI without a warning, and cameras append data
// there (e.g. Samsung trailers, Motion Photo video).
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
  kMalformedSegment,         // a segment length < 2 or not matching its contents, a second
                             // SOI or SOF, a SOS before the SOF or naming an unknown component,
                             // invalid progressive parameters, EOI before any scan
  kExtraneousBytes,          // bytes that are not a marker between segments
  kBadHuffmanTable,          // a DHT libjpeg-turbo rejects (see above)
  kMissingTable,             // a scan uses a quantization table, or Huffman table 2/3, never defined
};

// kRestartWithoutInterval, kRestartOutOfOrder and kExtraneousBytes: libjpeg-turbo decodes past
// them (with a warning). Everything else but kNone rejects the image.
bool IsRejected(JpegStructureProblem p);

struct JpegStructure {
  // The problem that rejects the image (kNone: none; then offset is the end of EOI).
  JpegStructureProblem problem = JpegStructureProblem::kNone;
  size_t offset = 0;  // byte offset of the problem (or of the end of EOI when kNone)
  int marker = 0;     // the marker byte involved (0xD0..0xD7 for the restart problems), or 0
  int table = 0;      // table problems: class << 4 | index, as in DHT (0x00 DC 0, 0x11 AC 1)
  const char* detail = "";  // table and segment problems: what is wrong, or ""
  int scans = 0;      // SOS segments seen
  int restarts = 0;   // RSTn markers seen inside scans
  // The first damage libjpeg-turbo decodes past, and how many such findings there were.
  JpegStructureProblem damage = JpegStructureProblem::kNone;
  size_t damage_offset = 0;
  int damage_marker = 0, damage_scan = 0, damage_count = 0;
  bool default_huffman_tables = false;
  bool ok() const { return problem == JpegStructureProblem::kNone; }  // not rejected
  bool clean() const { return ok() && damage == JpegStructureProblem::kNone; }
  // "RST3 marker at byte 61234 in scan 1 with no restart interval (no DRI)", "ok (...)", ...
  std::string Describe() const;
  std::string DescribeDamage() const;  // "" when there is none
};

JpegStructure CheckJpegStructure(const uint8_t* data, size_t size);

}  // namespace optic::preprocess

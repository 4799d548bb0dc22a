#include "jpeg_structure.h"

#include <array>
#include <cstdio>
#include <cstring>

namespace optic::preprocess {

namespace {

constexpr uint8_t kSoi = 0xD8, kEoi = 0xD9, kSos = 0xDA, kDqt = 0xDB, kDri = 0xDD, kDht = 0xC4,
                  kTem = 0x01;

bool IsRst(uint8_t m) { return m >= 0xD0 && m <= 0xD7; }
// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
bool IsSof(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != kDht && m != 0xC8 && m != 0xCC; }

// What libjpeg-turbo keeps per table slot while it reads one image (libjpeg's 4 slots each).
enum class Table : uint8_t { kUndefined, kValid, kBogus };

struct Component {
  int id = 0, blocks = 0, quant = 0;  // blocks = h * v sampling
  bool latched = false;               // its quantization table was taken at its first scan
};

struct State {
  JpegStructure r;
  int restart_interval = 0;
  bool sof = false, progressive = false, arithmetic = false;
  std::array<Table, 4> dc{}, ac{};
  std::array<const char*, 8> bogus_why{};  // per DHT slot (class * 4 + index)
  std::array<size_t, 8> bogus_at{};
  std::array<bool, 4> quant{};
  std::array<Component, 10> comps{};  // libjpeg-turbo's MAX_COMPONENTS
  int ncomps = 0;
};

bool Reject(State* s, JpegStructureProblem p, size_t offset, int marker = 0, const char* detail = "") {
  s->r.problem = p;
  s->r.offset = offset;
  s->r.marker = marker;
  s->r.detail = detail;
  return false;
}

void Damage(State* s, JpegStructureProblem p, size_t offset, int marker = 0) {
  if (s->r.damage_count++ > 0) return;
  s->r.damage = p;
  s->r.damage_offset = offset;
  s->r.damage_marker = marker;
  s->r.damage_scan = s->r.scans;
}

// Walks one entropy-coded segment from `pos` (just after the SOS header) the way libjpeg-turbo's
// Huffman decoder reads it: FF 00 (after any FF fill bytes) is a data byte FF, FF Dn a restart
// marker, any other FF xx the marker that ends the scan. A misplaced RSTn is damage libjpeg-turbo
// resynchronizes past (it then skips to the next marker), so the walk goes on. On success *pos is
// at that marker's first FF (fill bytes included, so the marker loop sees them as fill).
bool ScanEntropyData(const uint8_t* data, size_t size, State* s, size_t* pos) {
  int expected = 0;  // libjpeg-turbo restarts the D0..D7 count at every SOS
  size_t p = *pos;
  while (true) {
    const void* hit = p < size ? std::memchr(data + p, 0xFF, size - p) : nullptr;
    if (hit == nullptr) return Reject(s, JpegStructureProblem::kTruncated, size);
    const size_t ff = static_cast<const uint8_t*>(hit) - data;
    size_t q = ff + 1;
    while (q < size && data[q] == 0xFF) ++q;
    if (q >= size) return Reject(s, JpegStructureProblem::kTruncated, size);
    const uint8_t c = data[q];
    if (c == 0x00) {
      p = q + 1;
      continue;
    }
    if (IsRst(c)) {
      if (s->restart_interval == 0) {
        Damage(s, JpegStructureProblem::kRestartWithoutInterval, q - 1, c);
      } else if (c - 0xD0 != expected) {
        Damage(s, JpegStructureProblem::kRestartOutOfOrder, q - 1, c);
      }
      expected = (c - 0xD0 + 1) & 7;
      ++s->r.restarts;
      p = q + 1;
      continue;
    }
    *pos = ff;
    return true;
  }
}

// libjpeg-turbo's get_dht checks (while reading the header) and, for a table a scan uses,
// jpeg_make_d_derived_tbl's (when decoding starts): both fail "Bogus Huffman table definition".
bool ParseDht(const uint8_t* seg, size_t len, size_t at, State* s) {
  size_t p = 0;
  while (len - p > 16) {
    const int tc = seg[p] >> 4, th = seg[p] & 0x0F;
    const uint8_t* bits = seg + p + 1;  // bits[0] = codes of length 1
    p += 17;
    int count = 0;
    for (int l = 0; l < 16; ++l) count += bits[l];
    if (count > 256 || static_cast<size_t>(count) > len - p) {
      s->r.table = seg[p - 17];
      return Reject(s, JpegStructureProblem::kBadHuffmanTable, at, kDht,
                    "its code-length counts claim more symbols than the segment holds");
    }
    if (tc > 1 || th > 3) {
      s->r.table = seg[p - 17];
      return Reject(s, JpegStructureProblem::kBadHuffmanTable, at, kDht, "the table class or index is not 0..1 / 0..3");
    }
    const char* why = nullptr;
    long code = 0;
    int maxlen = 0;
    for (int l = 0; l < 16; ++l) if (bits[l]) maxlen = l + 1;
    for (int l = 1; l <= maxlen && !why; ++l) {  // every code fits its length, none all ones
      code += bits[l - 1];
      if (code >= (1L << l)) why = "its code lengths over-subscribe the code space";
      code <<= 1;
    }
    for (int i = 0; tc == 0 && i < count && !why; ++i) {
      if (seg[p + i] > 15) why = "a DC symbol is over 15";
    }
    (tc ? s->ac : s->dc)[th] = why ? Table::kBogus : Table::kValid;
    s->bogus_why[tc * 4 + th] = why;
    s->bogus_at[tc * 4 + th] = at;
    p += count;
  }
  if (p != len) return Reject(s, JpegStructureProblem::kMalformedSegment, at, kDht, "the DHT length does not match its tables");
  return true;
}

bool ParseDqt(const uint8_t* seg, size_t len, size_t at, State* s) {
  size_t p = 0;
  while (p < len) {
    const int pq = seg[p] >> 4, tq = seg[p] & 0x0F;
    const size_t n = pq ? 128 : 64;
    if (tq > 3) return Reject(s, JpegStructureProblem::kMalformedSegment, at, kDqt, "a quantization table index over 3");
    if (len - p - 1 < n) return Reject(s, JpegStructureProblem::kMalformedSegment, at, kDqt, "the DQT length does not match its tables");
    s->quant[tq] = true;
    p += 1 + n;
  }
  return true;
}

bool ParseSof(uint8_t m, const uint8_t* seg, size_t len, size_t at, State* s) {
  if (s->sof) return Reject(s, JpegStructureProblem::kMalformedSegment, at, m, "a second frame header (SOF)");
  s->sof = true;
  s->progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE;
  s->arithmetic = m >= 0xC9;
  if (len < 6) return Reject(s, JpegStructureProblem::kMalformedSegment, at, m, "a frame header (SOF) too short");
  const int n = seg[5];
  if (n < 1 || n > 10 || len != 6 + 3 * static_cast<size_t>(n)) {
    return Reject(s, JpegStructureProblem::kMalformedSegment, at, m, "a frame header (SOF) with a bad component count or length");
  }
  s->ncomps = n;
  for (int i = 0; i < n; ++i) {
    const uint8_t* c = seg + 6 + 3 * i;
    s->comps[i] = Component{c[0], (c[1] >> 4) * (c[1] & 0x0F), c[2], false};
  }
  return true;
}

// What libjpeg-turbo checks when a scan starts: get_sos, latch_quant_tables, the MCU size, the
// progressive parameters (jdphuff.c) and the Huffman tables the scan's coder builds.
bool ParseSos(const uint8_t* seg, size_t len, size_t at, State* s) {
  if (!s->sof) return Reject(s, JpegStructureProblem::kMalformedSegment, at, kSos, "a scan (SOS) before the frame header (SOF)");
  const int n = len > 0 ? seg[0] : 0;
  if (n < 1 || n > 4 || len != 4 + 2 * static_cast<size_t>(n)) {
    return Reject(s, JpegStructureProblem::kMalformedSegment, at, kSos, "a scan header (SOS) with a bad component count or length");
  }
  const int ss = seg[1 + 2 * n], se = seg[2 + 2 * n], ah = seg[3 + 2 * n] >> 4, al = seg[3 + 2 * n] & 0x0F;
  if (s->progressive) {
    const bool dc = ss == 0;
    bool bad = dc ? se != 0 : (ss > se || se > 63 || n != 1);
    if (ah != 0 && al != ah - 1) bad = true;
    if (al > 13) bad = true;
    if (bad) return Reject(s, JpegStructureProblem::kMalformedSegment, at, kSos, "invalid progressive parameters (Ss, Se, Ah, Al)");
  }
  int blocks = 0;
  for (int i = 0; i < n; ++i) {
    const int id = seg[1 + 2 * i], td = seg[2 + 2 * i] >> 4, ta = seg[2 + 2 * i] & 0x0F;
    Component* c = nullptr;
    for (int k = 0; k < s->ncomps; ++k) if (s->comps[k].id == id) c = &s->comps[k];
    for (int k = 0; k < i; ++k) {
      if (seg[1 + 2 * k] == id) c = nullptr;
    }
    if (c == nullptr) return Reject(s, JpegStructureProblem::kMalformedSegment, at, kSos, "a scan names a component the frame lacks (or twice)");
    blocks += n > 1 ? c->blocks : 1;
    if (!c->latched) {
      if (c->quant > 3 || !s->quant[c->quant]) {
        s->r.table = c->quant;
        return Reject(s, JpegStructureProblem::kMissingTable, at, kSos, "quantization");
      }
      c->latched = true;
    }
    if (s->arithmetic) continue;
    // Sequential scans build both tables; progressive DC-first scans the DC one, DC refinement
    // none, AC scans the AC one.
    const bool use_dc = !s->progressive || (ss == 0 && ah == 0);
    const bool use_ac = !s->progressive || ss != 0;
    for (int cls = 0; cls < 2; ++cls) {
      if (!(cls ? use_ac : use_dc)) continue;
      const int idx = cls ? ta : td;
      s->r.table = cls << 4 | idx;
      const Table t = idx > 3 ? Table::kUndefined : (cls ? s->ac : s->dc)[idx];
      if (t == Table::kBogus) {
        return Reject(s, JpegStructureProblem::kBadHuffmanTable, s->bogus_at[cls * 4 + idx], kDht,
                      s->bogus_why[cls * 4 + idx]);
      }
      if (t == Table::kUndefined) {
        if (idx > 1) return Reject(s, JpegStructureProblem::kMissingTable, at, kSos, "Huffman");
        s->r.default_huffman_tables = true;
      }
    }
  }
  s->r.table = 0;
  if (blocks > 10) return Reject(s, JpegStructureProblem::kMalformedSegment, at, kSos, "more than 10 blocks per MCU");
  return true;
}

// libjpeg-turbo's next_marker: skips anything that is not FF xx (xx not 00 or FF) with a warning.
// Returns false when the data ends first.
bool SkipToMarker(const uint8_t* data, size_t size, size_t* pos) {
  size_t p = *pos;
  while (true) {
    const void* hit = p < size ? std::memchr(data + p, 0xFF, size - p) : nullptr;
    if (hit == nullptr) return false;
    size_t q = static_cast<const uint8_t*>(hit) - data;
    const size_t ff = q;
    while (q < size && data[q] == 0xFF) ++q;
    if (q >= size) return false;
    if (data[q] != 0x00) {
      *pos = ff;
      return true;
    }
    p = q + 1;
  }
}

}  // namespace

bool IsRejected(JpegStructureProblem p) {
  return p != JpegStructureProblem::kNone && p != JpegStructureProblem::kRestartWithoutInterval &&
         p != JpegStructureProblem::kRestartOutOfOrder && p != JpegStructureProblem::kExtraneousBytes;
}

JpegStructure CheckJpegStructure(const uint8_t* data, size_t size) {
  State s;
  if (data == nullptr || size < 2 || data[0] != 0xFF || data[1] != kSoi) {
    Reject(&s, JpegStructureProblem::kNoSoi, 0);
    return s.r;
  }
  size_t pos = 2;
  while (true) {
    if (pos >= size) {
      Reject(&s, JpegStructureProblem::kTruncated, size);
      return s.r;
    }
    if (data[pos] != 0xFF || (pos + 1 < size && data[pos + 1] == 0x00)) {
      Damage(&s, JpegStructureProblem::kExtraneousBytes, pos);
      if (!SkipToMarker(data, size, &pos)) {
        Reject(&s, JpegStructureProblem::kTruncated, size);
        return s.r;
      }
    }
    const size_t at = pos;
    while (pos < size && data[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= size) {
      Reject(&s, JpegStructureProblem::kTruncated, size);
      return s.r;
    }
    const uint8_t m = data[pos++];
    if (m == 0x00) {  // FF FF 00: a stuffed zero where a marker should be
      Damage(&s, JpegStructureProblem::kExtraneousBytes, at);
      continue;
    }
    if (m == kEoi) {
      if (s.r.scans == 0) Reject(&s, JpegStructureProblem::kMalformedSegment, at, m, "EOI before any scan");
      else s.r.offset = pos;
      return s.r;
    }
    if (m == kSoi) {
      Reject(&s, JpegStructureProblem::kMalformedSegment, at, m, "a second SOI marker");
      return s.r;
    }
    if (IsRst(m) || m == kTem) continue;  // parameterless; libjpeg-turbo skips them here
    if (size - pos < 2) {
      Reject(&s, JpegStructureProblem::kTruncated, size);
      return s.r;
    }
    const size_t len = (size_t{data[pos]} << 8) | data[pos + 1];
    if (len < 2) {
      Reject(&s, JpegStructureProblem::kMalformedSegment, at, m, "a segment length under 2");
      return s.r;
    }
    if (size - pos < len) {
      Reject(&s, JpegStructureProblem::kTruncated, size);
      return s.r;
    }
    const uint8_t* seg = data + pos + 2;
    const size_t body = len - 2;
    bool ok = true;
    if (m == kDri) {
      if (len != 4) ok = Reject(&s, JpegStructureProblem::kMalformedSegment, at, m, "a DRI length other than 4");
      else s.restart_interval = (seg[0] << 8) | seg[1];
    } else if (m == kDht) {
      ok = ParseDht(seg, body, at, &s);
    } else if (m == kDqt) {
      ok = ParseDqt(seg, body, at, &s);
    } else if (IsSof(m)) {
      ok = ParseSof(m, seg, body, at, &s);
    } else if (m == kSos) {
      ok = ParseSos(seg, body, at, &s);
    }
    if (!ok) return s.r;
    pos += len;
    if (m == kSos) {
      ++s.r.scans;
      if (!ScanEntropyData(data, size, &s, &pos)) return s.r;
    }
  }
}

namespace {

std::string Describe(JpegStructureProblem p, size_t offset, int marker, int scan, int table, const char* detail) {
  char buf[200];
  const char* cls = (table >> 4) ? "AC" : "DC";
  switch (p) {
    case JpegStructureProblem::kNone:
      return "ok";
    case JpegStructureProblem::kNoSoi:
      return "no SOI marker (does not start with ff d8)";
    case JpegStructureProblem::kTruncated:
      std::snprintf(buf, sizeof buf, "truncated: the data ends at byte %zu before the EOI marker", offset);
      break;
    case JpegStructureProblem::kRestartWithoutInterval:
      std::snprintf(buf, sizeof buf, "RST%d marker at byte %zu in scan %d with no restart interval (no DRI)",
                    marker - 0xD0, offset, scan);
      break;
    case JpegStructureProblem::kRestartOutOfOrder:
      std::snprintf(buf, sizeof buf, "RST%d marker at byte %zu in scan %d out of the RST0..RST7 sequence",
                    marker - 0xD0, offset, scan);
      break;
    case JpegStructureProblem::kMalformedSegment:
      std::snprintf(buf, sizeof buf, "malformed marker segment ff %02x at byte %zu%s%s", marker, offset,
                    *detail ? ": " : "", detail);
      break;
    case JpegStructureProblem::kExtraneousBytes:
      std::snprintf(buf, sizeof buf, "extraneous bytes at byte %zu where a marker should be", offset);
      break;
    case JpegStructureProblem::kBadHuffmanTable:
      std::snprintf(buf, sizeof buf, "bogus Huffman table %s %d (DHT at byte %zu): %s", cls, table & 0x0F,
                    offset, detail);
      break;
    case JpegStructureProblem::kMissingTable:
      if (std::strcmp(detail, "Huffman") == 0) {
        std::snprintf(buf, sizeof buf, "the scan at byte %zu uses Huffman table %s %d, which is never defined",
                      offset, cls, table & 0x0F);
      } else {
        std::snprintf(buf, sizeof buf, "the scan at byte %zu uses quantization table %d, which is never defined",
                      offset, table);
      }
      break;
  }
  return buf;
}

}  // namespace

std::string JpegStructure::Describe() const {
  if (problem == JpegStructureProblem::kNone) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "ok (%d scans, %d restart markers, EOI ends at byte %zu)", scans,
                  restarts, offset);
    return buf;
  }
  return preprocess::Describe(problem, offset, marker, scans, table, detail);
}

std::string JpegStructure::DescribeDamage() const {
  if (damage == JpegStructureProblem::kNone) return "";
  std::string d = preprocess::Describe(damage, damage_offset, damage_marker, damage_scan, 0, "");
  if (damage_count > 1) d += " (and " + std::to_string(damage_count - 1) + " more)";
  return d;
}

}  // namespace optic::preprocess

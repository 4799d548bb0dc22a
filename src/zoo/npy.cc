#include "npy.h"

#include <zip.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace optic {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  Status Parse(std::string* descr, bool* fortran, Shape* shape) {
    bool got_descr = false, got_order = false, got_shape = false;
    OPTIC_RETURN_IF_ERROR(Expect('{'));
    while (true) {
      Skip();
      if (Peek() == '}') { ++p_; break; }
      std::string key;
      OPTIC_RETURN_IF_ERROR(String(&key));
      OPTIC_RETURN_IF_ERROR(Expect(':'));
      if (key == "descr") {
        OPTIC_RETURN_IF_ERROR(String(descr));
        got_descr = true;
      } else if (key == "fortran_order") {
        OPTIC_RETURN_IF_ERROR(Bool(fortran));
        got_order = true;
      } else if (key == "shape") {
        OPTIC_RETURN_IF_ERROR(Tuple(shape));
        got_shape = true;
      } else {
        return Bad("unknown key '" + key + "'");
      }
      Skip();
      if (Peek() == ',') ++p_;
    }
    Skip();
    if (p_ != s_.size()) return Bad("text after the closing '}'");
    if (!got_descr || !got_order || !got_shape) {
      return Bad("it needs 'descr', 'fortran_order' and 'shape'");
    }
    return Status::OK();
  }

 private:
  Status Bad(const std::string& why) const {
    return Status::InvalidArgument(what_ + ": damaged .npy header (" + why + "): write the file "
                                   "again with numpy.save");
  }
  void Skip() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  char Peek() const { return p_ < s_.size() ? s_[p_] : '\0'; }
  Status Expect(char c) {
    Skip();
    if (Peek() != c) return Bad(std::string("expected '") + c + "' at byte " + std::to_string(p_));
    ++p_;
    return Status::OK();
  }
  Status String(std::string* out) {
    Skip();
    const char q = Peek();
    if (q != '\'' && q != '"') return Bad("expected a quoted name at byte " + std::to_string(p_));
    const size_t end = s_.find(q, p_ + 1);
    if (end == std::string::npos) return Bad("unterminated string");
    *out = s_.substr(p_ + 1, end - p_ - 1);
    p_ = end + 1;
    return Status::OK();
  }
  Status Bool(bool* out) {
    Skip();
    if (s_.compare(p_, 4, "True") == 0) { *out = true; p_ += 4; return Status::OK(); }
    if (s_.compare(p_, 5, "False") == 0) { *out = false; p_ += 5; return Status::OK(); }
    return Bad("fortran_order is neither True nor False");
  }
  Status Tuple(Shape* out) {
    OPTIC_RETURN_IF_ERROR(Expect('('));
    out->clear();
    while (true) {
      Skip();
      if (Peek() == ')') { ++p_; return Status::OK(); }
      if (!std::isdigit(static_cast<unsigned char>(Peek()))) return Bad("shape holds a non-integer");
      int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(Peek()))) {
        if (v > (int64_t{1} << 40)) return Bad("a dimension is too large");
        v = v * 10 + (s_[p_++] - '0');
      }
      out->push_back(v);
      Skip();
      if (Peek() == ',') ++p_;
      else if (Peek() != ')') return Bad("shape is not a tuple of integers");
    }
  }

  const std::string& s_;
  const std::string& what_;
  size_t p_ = 0;
};

Status DTypeOf(const std::string& descr, const std::string& what, DType* out) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(what + ": dtype '" + descr + "' " + why);
  };
  if (descr.empty()) return bad("is empty");
  if (descr[0] == '>' && descr.size() > 2 && descr.substr(2) != "1") {
    return bad("is big-endian; optic reads little-endian arrays: save "
               "x.astype(x.dtype.newbyteorder('<'))");
  }
  const std::string code = descr[0] == '<' || descr[0] == '|' || descr[0] == '=' || descr[0] == '>'
                               ? descr.substr(1) : descr;
  if (code == "f4") *out = DType::kFP32;
  else if (code == "f2") *out = DType::kFP16;
  else if (code == "i8") *out = DType::kINT64;
  else if (code == "i4") *out = DType::kINT32;
  else if (code == "i1") *out = DType::kINT8;
  else if (code == "u1") *out = DType::kUINT8;
  else if (code == "O") return bad("holds Python objects (a pickle), which optic never loads: save a numeric array");
  else if (code == "b1") return bad("is bool; optic's tensors have no bool dtype: save it as uint8");
  else return bad("is not one optic's tensors hold (float32, float16, int64, int32, int8, uint8): "
                  "convert it with x.astype(...)");
  return Status::OK();
}

}  // namespace

Status ParseNpy(const std::string& bytes, const std::string& what, Tensor* out) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) {
    return Status::InvalidArgument(what + " is not a .npy file (no \\x93NUMPY magic): write it "
                                   "with numpy.save");
  }
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const int major = b[6];
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = b[8] | b[9] << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Status::InvalidArgument(what + ": truncated .npy header");
    header_len = b[8] | b[9] << 8 | b[10] << 16 | static_cast<size_t>(b[11]) << 24;
    start = 12;
  } else {
    return Status::InvalidArgument(what + ": .npy format version " + std::to_string(major) +
                                   " (optic reads 1, 2 and 3)");
  }
  if (start + header_len > bytes.size()) {
    return Status::InvalidArgument(what + ": truncated .npy header (" +
                                   std::to_string(header_len) + " bytes announced, " +
                                   std::to_string(bytes.size() - start) + " present)");
  }
  std::string descr;
  bool fortran = false;
  Shape shape;
  OPTIC_RETURN_IF_ERROR(HeaderParser(bytes.substr(start, header_len), what).Parse(&descr, &fortran, &shape));
  DType dtype;
  OPTIC_RETURN_IF_ERROR(DTypeOf(descr, what, &dtype));
  if (fortran) {
    return Status::InvalidArgument(what + " is in Fortran (column-major) order; optic reads C "
                                   "order: save numpy.ascontiguousarray(x)");
  }
  if (shape.empty()) {
    return Status::InvalidArgument(what + " holds a scalar; an input needs at least a batch axis");
  }
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d > 0 && count > (int64_t{1} << 40) / d) return Status::InvalidArgument(what + ": shape too large");
    count *= d;
  }
  const size_t need = static_cast<size_t>(count) * DTypeSize(dtype);
  const size_t have = bytes.size() - start - header_len;
  if (have != need) {
    return Status::InvalidArgument(what + ": " + (have < need ? "truncated" : "overlong") + " data: " +
                                   std::to_string(have) + " bytes after the header, shape " +
                                   ShapeToString(shape) + " " + DTypeName(dtype) + " needs " +
                                   std::to_string(need) + "; copy or save the file again");
  }
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(dtype, shape, out));
  if (need > 0) std::memcpy(out->raw(), bytes.data() + start + header_len, need);
  return Status::OK();
}

Status ReadNpyFile(const std::string& path, Tensor* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseNpy(ss.str(), "'" + path + "'", out);
}

Status ReadNpzFile(const std::string& path, std::map<std::string, Tensor>* out) {
  out->clear();
  int err = 0;
  std::unique_ptr<zip_t, int (*)(zip_t*)> archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err),
                                                  zip_close);
  if (!archive) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    const std::string why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return Status::InvalidArgument("'" + path + "' is not a readable .npz (zip) archive: " + why +
                                   "; write it with numpy.savez");
  }
  const zip_int64_t n = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(archive.get(), i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE)) {
      return Status::InvalidArgument("'" + path + "': entry " + std::to_string(i) + " is unreadable");
    }
    const std::string name = st.name;
    const std::string what = "'" + path + "' entry '" + name + "'";
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".npy") != 0) {
      return Status::InvalidArgument(what + " is no .npy array; a .npz holds only arrays "
                                     "(numpy.savez)");
    }
    if (st.size > (uint64_t{1} << 36)) return Status::InvalidArgument(what + " is too large");
    std::string bytes(static_cast<size_t>(st.size), '\0');
    zip_file_t* f = zip_fopen_index(archive.get(), i, 0);
    if (f == nullptr) {
      return Status::InvalidArgument(what + ": " + zip_strerror(archive.get()));
    }
    zip_int64_t got = 0;
    while (got < static_cast<zip_int64_t>(bytes.size())) {
      const zip_int64_t r = zip_fread(f, bytes.data() + got, bytes.size() - got);
      if (r <= 0) break;
      got += r;
    }
    char extra;
    const zip_int64_t tail = got == static_cast<zip_int64_t>(bytes.size()) ? zip_fread(f, &extra, 1) : 0;
    const std::string ferr = zip_error_strerror(zip_file_get_error(f));
    zip_fclose(f);
    if (got != static_cast<zip_int64_t>(bytes.size()) || tail < 0) {
      return Status::InvalidArgument(what + " is damaged (" + ferr + "): write the file again");
    }
    Tensor t;
    OPTIC_RETURN_IF_ERROR(ParseNpy(bytes, what, &t));
    (*out)[name.substr(0, name.size() - 4)] = t;
  }
  if (out->empty()) return Status::InvalidArgument("'" + path + "' holds no arrays");
  return Status::OK();
}

}  // namespace optic

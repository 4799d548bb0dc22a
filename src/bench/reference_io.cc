#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/cell.h"
#include "bench/resources.h"
#include "optic/model_source.h"
#include "optic/parity.h"

namespace optic::bench {

using nlohmann::json;

void CellReporter::Line(const std::string& line) {
  if (fd_ < 0) return;
  std::string s = line + "\n";
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    const ssize_t n = write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone; nothing left to report to
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void CellReporter::Phase(const std::string& name) { Line("phase " + name); }

void CellReporter::Row(const results::Row& row) { Line("row " + results::ToLine(row)); }

const char* RowStatusFor(const Status& s) {
  return s.code() == StatusCode::kUnsupported || s.code() == StatusCode::kUnsupportedHardware
             ? "unsupported"
             : "failed";
}

void FinishRow(const Status& s, results::Row* row) {
  row->status = s.ok() ? "ok" : RowStatusFor(s);
  row->error = s.ok() ? "" : s.ToString();
  const double rss = PeakRssMb();
  if (rss >= 0) row->peak_rss_mb = rss;
}

namespace {

bool IsFloat(DType d) { return d == DType::kFP32 || d == DType::kFP16 || d == DType::kBF16; }

// The parts of one output joined into one tensor: along axis 0 when `batched`, else flattened.
Status Join(const std::vector<Tensor>& parts, bool batched, Tensor* out) {
  Shape shape = batched ? parts[0].shape() : Shape{0};
  shape[0] = 0;
  for (const Tensor& t : parts) shape[0] += batched ? t.shape()[0] : t.numel();
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(parts[0].dtype(), shape, out));
  char* at = static_cast<char*>(out->raw());
  for (const Tensor& t : parts) {
    if (t.nbytes() > 0) std::memcpy(at, t.raw(), t.nbytes());
    at += t.nbytes();
  }
  return Status::OK();
}

// Every part of both sides has the batch's rows and one trailing shape: a [batch, ...] output.
bool Batched(const std::vector<Tensor>& out, const std::vector<Tensor>& ref, int batch_size) {
  const Shape& first = ref[0].shape();
  for (const auto* side : {&out, &ref}) {
    for (const Tensor& t : *side) {
      const Shape& s = t.shape();
      if (s.empty() || s[0] != batch_size || s.size() != first.size() ||
          !std::equal(s.begin() + 1, s.end(), first.begin() + 1)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

json ReferenceKey(const CellSpec& c) {
  json key = {{"format", kReferenceFormat},
              {"model", c.source_sha256.empty() ? c.model : "sha256:" + c.source_sha256},
              {"models_dir", c.source_sha256.empty() ? c.models_dir : ""},
              {"converted_by", c.converted_by},
              {"backend", c.backend},
              {"device", DeviceName(c.device)},
              {"backend_options", c.backend_options},
              {"batch_size", c.batch_size},
              {"check_seed", c.settings.check_seed},
              {"samples", CheckSamples(c.batch_size)},
              {"shapes", json::object()},
              {"ranges", json::object()},
              {"data_sha256", nullptr}};
  for (const auto& [name, shape] : c.inputs.shapes) key["shapes"][name] = shape;
  for (const auto& [name, r] : c.inputs.ranges) key["ranges"][name] = {r.lo, r.hi};
  std::string data_sha;
  if (!c.inputs.data_file.empty()) {
    key["data_sha256"] = FileSha256(c.inputs.data_file, &data_sha).ok() ? data_sha : "unreadable";
  }
  return key;
}

Status WriteReference(const std::string& path, const CheckOutputs& outputs, const json& header) {
  json h = header;
  h["format"] = kReferenceFormat;
  h["outputs"] = json::array();
  for (size_t o = 0; o < outputs.parts.size(); ++o) {
    json parts = json::array();
    for (const Tensor& t : outputs.parts[o]) parts.push_back(t.shape());
    h["outputs"].push_back({{"name", o < outputs.names.size() ? outputs.names[o] : ""},
                            {"dtype", DTypeName(outputs.parts[o].at(0).dtype())},
                            {"parts", parts}});
  }
  // Written to a temporary name and renamed, so a killed reference cell leaves no half file.
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out << h.dump() << "\n";
    for (const auto& parts : outputs.parts) {
      for (const Tensor& t : parts) out.write(static_cast<const char*>(t.raw()), t.nbytes());
    }
    if (!out) return Status::Internal("cannot write reference file '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  return Status::OK();
}

Status ReadReferenceHeader(const std::string& path, json* header) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("reference file '" + path + "' cannot be read");
  std::string line;
  std::getline(in, line);
  json h = json::parse(line, nullptr, false);
  if (h.is_discarded() || !h.is_object() || !h.contains("outputs")) {
    return Status::InvalidArgument("reference file '" + path + "' has a bad header");
  }
  if (h.value("format", 0) != kReferenceFormat) {
    return Status::InvalidArgument("reference file '" + path + "' has format " +
                                   std::to_string(h.value("format", 0)) + ", not " +
                                   std::to_string(kReferenceFormat) + ": delete it to recompute it");
  }
  *header = std::move(h);
  return Status::OK();
}

Status ReadReference(const std::string& path, CheckOutputs* outputs, json* header) {
  json h;
  OPTIC_RETURN_IF_ERROR(ReadReferenceHeader(path, &h));
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::getline(in, line);
  CheckOutputs read;
  try {
    for (const auto& o : h.at("outputs")) {
      DType dtype;
      OPTIC_RETURN_IF_ERROR(ParseDType(o.at("dtype").get<std::string>(), &dtype));
      std::vector<Tensor> parts;
      for (const auto& shape : o.at("parts")) {
        Tensor t;
        OPTIC_RETURN_IF_ERROR(Tensor::Empty(dtype, shape.get<Shape>(), &t));
        in.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
        if (!in) return Status::InvalidArgument("reference file '" + path + "' is truncated");
        parts.push_back(t);
      }
      if (parts.empty()) return Status::InvalidArgument("reference file '" + path + "' has an output without parts");
      read.names.push_back(o.value("name", std::string()));
      read.parts.push_back(std::move(parts));
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument("reference file '" + path + "' has a bad header: " + e.what());
  }
  *outputs = std::move(read);
  if (header) *header = std::move(h);
  return Status::OK();
}

Status CompareCheckOutputs(const CheckOutputs& out, const CheckOutputs& ref, int batch_size,
                           TensorDiff* worst, Agreement* agree, std::vector<std::string>* mismatches) {
  if (out.parts.size() != ref.parts.size()) {
    return Status::InvalidArgument("the reference has " + std::to_string(ref.parts.size()) +
                                   " outputs, this model " + std::to_string(out.parts.size()));
  }
  *worst = TensorDiff{};
  *agree = Agreement{};
  mismatches->clear();
  for (size_t o = 0; o < out.parts.size(); ++o) {
    const std::vector<Tensor>& a = out.parts[o];
    const std::vector<Tensor>& b = ref.parts[o];
    const std::string name = "output " + (o < ref.names.size() && !ref.names[o].empty()
                                              ? "'" + ref.names[o] + "'" : std::to_string(o));
    if (a.size() != b.size() || a.empty()) {
      return Status::InvalidArgument(name + ": " + std::to_string(a.size()) + " check batches, the reference " +
                                     std::to_string(b.size()));
    }
    if (IsFloat(a[0].dtype()) != IsFloat(b[0].dtype())) {
      return Status::InvalidArgument(name + ": dtype " + DTypeName(a[0].dtype()) + " differs from reference " +
                                     DTypeName(b[0].dtype()));
    }
    TensorDiff d;
    Agreement g;
    if (Batched(a, b, batch_size)) {
      Tensor ja, jb;
      OPTIC_RETURN_IF_ERROR(Join(a, true, &ja));
      OPTIC_RETURN_IF_ERROR(Join(b, true, &jb));
      OPTIC_RETURN_IF_ERROR(MeasureAgreement(ja, jb, &d, &g).Prefixed(name));
    } else {
      // Rows per check batch that vary (a detector's boxes): compared batch by batch, the batches
      // of equal shape together; a batch of another shape than the reference's is a mismatch.
      std::vector<Tensor> sa, sb;
      int differ = 0;
      std::string first;
      for (size_t k = 0; k < a.size(); ++k) {
        if (a[k].shape() == b[k].shape()) {
          sa.push_back(a[k]);
          sb.push_back(b[k]);
        } else if (differ++ == 0) {
          first = "check batch " + std::to_string(k) + " " + ShapeToString(a[k].shape()) +
                  ", the reference " + ShapeToString(b[k].shape());
        }
      }
      if (differ > 0) {
        mismatches->push_back(name + ": " + std::to_string(differ) + " of " + std::to_string(a.size()) +
                              " check batches differ in shape (first: " + first + ")");
      }
      if (sa.empty()) continue;
      Tensor ja, jb;
      OPTIC_RETURN_IF_ERROR(Join(sa, false, &ja));
      OPTIC_RETURN_IF_ERROR(Join(sb, false, &jb));
      OPTIC_RETURN_IF_ERROR(MeasureAgreement(ja, jb, &d, &g).Prefixed(name));
      g.samples = static_cast<int64_t>(a.size()) * batch_size;
    }
    MergeWorst(d, g, worst, agree);
  }
  return Status::OK();
}

}  // namespace optic::bench

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/cell.h"
#include "bench/resources.h"

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

Status WriteReference(const std::string& path, const std::vector<Tensor>& outputs,
                      const json& header) {
  json h = header;
  h["outputs"] = json::array();
  std::vector<Tensor> fp32;
  for (const Tensor& t : outputs) {
    Tensor f;
    OPTIC_RETURN_IF_ERROR(t.ConvertTo(DType::kFP32, &f).Prefixed("reference output"));
    h["outputs"].push_back({{"shape", f.shape()}});
    fp32.push_back(f);
  }
  // Written to a temporary name and renamed, so a killed reference cell leaves no half file.
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out << h.dump() << "\n";
    for (const Tensor& f : fp32) out.write(static_cast<const char*>(f.raw()), f.nbytes());
    if (!out) return Status::Internal("cannot write reference file '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  return Status::OK();
}

Status ReadReference(const std::string& path, std::vector<Tensor>* outputs) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("reference file '" + path + "' cannot be read");
  std::string line;
  std::getline(in, line);
  json h = json::parse(line, nullptr, false);
  if (h.is_discarded() || !h.contains("outputs")) {
    return Status::InvalidArgument("reference file '" + path + "' has a bad header");
  }
  outputs->clear();
  for (const auto& o : h["outputs"]) {
    Tensor t;
    OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, o.at("shape").get<Shape>(), &t));
    in.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
    if (!in) return Status::InvalidArgument("reference file '" + path + "' is truncated");
    outputs->push_back(t);
  }
  return Status::OK();
}

}  // namespace optic::bench

// Per-input settings of optic/model_source.h: --shape, --input-range, seeded values.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "optic/model_source.h"
#include "optic/parity.h"
#include "optic/parse_number.h"
#include "npy.h"

namespace optic {

using nlohmann::json;

namespace {

Status SplitSetting(const std::string& text, const std::string& flag, const char* example,
                    std::string* name, std::string* value) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return Status::InvalidArgument(flag + ": '" + text + "' is not name=value (e.g. " + flag + " " +
                                   example + ")");
  }
  *name = text.substr(0, eq);
  *value = text.substr(eq + 1);
  return Status::OK();
}

std::string Names(const std::vector<TensorInfo>& inputs) {
  std::string s;
  for (const auto& t : inputs) s += (s.empty() ? "" : ", ") + t.name + " " + ShapeToString(t.shape);
  return s;
}

// "'image' fp32 [-1,3,-1,-1], 'ids' int64 [-1,5]"
std::string Typed(const std::vector<TensorInfo>& inputs) {
  std::string s;
  for (const auto& t : inputs) {
    s += (s.empty() ? "'" : ", '") + t.name + "' " + DTypeName(t.dtype) + " " + ShapeToString(t.shape);
  }
  return s;
}

// "image=Nx3xHxW": the dims to give, variable ones as letters.
std::string ShapeHint(const TensorInfo& t) {
  if (t.shape.size() == 1 && t.shape[0] < 0) return t.name + "=Nx...";  // rank unknown
  std::string s = t.name + "=";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    std::string d = std::to_string(t.shape[i]);
    if (t.shape[i] < 0) d = i == 0 ? "N" : t.shape.size() == 4 && i >= 2 ? (i == 2 ? "H" : "W")
                                                                        : "D" + std::to_string(i);
    s += (i ? "x" : "") + d;
  }
  return s;
}

std::string DimsText(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

bool IsFloat(DType d) { return d == DType::kFP32 || d == DType::kFP16 || d == DType::kBF16; }

}  // namespace

Status ParseShapeSetting(const std::string& text, const std::string& flag, InputSettings* settings) {
  std::string name, dims;
  OPTIC_RETURN_IF_ERROR(SplitSetting(text, flag, "image=1x3x960x960", &name, &dims));
  Shape shape;
  size_t start = 0;
  while (start <= dims.size()) {
    const size_t x = dims.find('x', start);
    const std::string d = dims.substr(start, x == std::string::npos ? std::string::npos : x - start);
    int64_t v = 0;
    OPTIC_RETURN_IF_ERROR(ParseInteger(d, flag + " " + name, int64_t{1}, int64_t{1} << 31, &v));
    shape.push_back(v);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  settings->shapes[name] = shape;
  return Status::OK();
}

Status ParseRangeSetting(const std::string& text, const std::string& flag, InputSettings* settings) {
  std::string name, range;
  OPTIC_RETURN_IF_ERROR(SplitSetting(text, flag, "ids=0:99", &name, &range));
  const size_t colon = range.find(':', 1);
  if (colon == std::string::npos) {
    return Status::InvalidArgument(flag + " " + name + ": '" + range + "' is not lo:hi (e.g. 0:99)");
  }
  ValueRange r;
  OPTIC_RETURN_IF_ERROR(ParseReal(range.substr(0, colon), flag + " " + name + " low", -1e18, false, 1e18, &r.lo));
  OPTIC_RETURN_IF_ERROR(ParseReal(range.substr(colon + 1), flag + " " + name + " high", -1e18, false, 1e18, &r.hi));
  if (r.lo > r.hi) {
    return Status::InvalidArgument(flag + " " + name + ": low " + range.substr(0, colon) +
                                   " is above high " + range.substr(colon + 1));
  }
  settings->ranges[name] = r;
  return Status::OK();
}

Status ConcreteInputs(const std::vector<TensorInfo>& declared, const InputSettings& settings,
                      std::vector<TensorInfo>* out) {
  auto has = [&](const std::string& name) {
    return std::any_of(declared.begin(), declared.end(), [&](const TensorInfo& t) { return t.name == name; });
  };
  for (const auto& [name, shape] : settings.shapes) {
    if (!has(name)) {
      return Status::InvalidArgument("--shape names input '" + name + "', which the model does not "
                                     "have (its inputs: " + Names(declared) + ")");
    }
  }
  for (const auto& [name, range] : settings.ranges) {
    if (!has(name)) {
      return Status::InvalidArgument("--input-range names input '" + name + "', which the model "
                                     "does not have (its inputs: " + Names(declared) + ")");
    }
  }
  out->clear();
  for (const TensorInfo& orig : declared) {
    TensorInfo t = orig;
    auto it = settings.shapes.find(t.name);
    const bool rank_unknown = t.shape.size() == 1 && t.shape[0] < 0;
    if (it != settings.shapes.end()) {
      const Shape& given = it->second;
      if (!rank_unknown && given.size() != t.shape.size()) {
        return Status::InvalidArgument("--shape " + t.name + ": " + std::to_string(given.size()) +
                                       " dims given, the input has " + std::to_string(t.shape.size()) +
                                       " " + DimsText(t.shape) + " (--shape " + ShapeHint(t) + ")");
      }
      for (size_t i = 1; !rank_unknown && i < given.size(); ++i) {
        if (t.shape[i] >= 0 && t.shape[i] != given[i]) {
          return Status::InvalidArgument("--shape " + t.name + ": dim " + std::to_string(i) + " is " +
                                         std::to_string(given[i]) + " but the model fixes it at " +
                                         std::to_string(t.shape[i]) + " " + DimsText(t.shape));
        }
      }
      const bool batch_variable = t.shape.empty() || t.shape[0] < 0;
      Shape s = given;
      if (batch_variable && !s.empty()) s[0] = -1;
      t.shape = s;
    }
    for (size_t i = 1; i < t.shape.size(); ++i) {
      if (t.shape[i] < 0) {
        return Status::InvalidArgument("input '" + t.name + "' has variable dims " +
                                       DimsText(orig.shape) + ": set them with --shape " + ShapeHint(orig));
      }
    }
    if (rank_unknown && it == settings.shapes.end()) {
      return Status::InvalidArgument("input '" + t.name + "' has variable dims [-1] (the file records "
                                     "no shape): set them with --shape " + t.name + "=Nx3xHxW, the "
                                     "dims the model takes");
    }
    out->push_back(t);
  }
  return Status::OK();
}

Status LoadInputData(const std::vector<TensorInfo>& declared, InputSettings* settings) {
  if (settings->data_file.empty() || !settings->data.empty()) return Status::OK();
  const std::string& path = settings->data_file;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("--input-data '" + path + "': " +
                            (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
  }
  char magic[6] = {};
  std::ifstream(path, std::ios::binary).read(magic, sizeof magic);
  const std::string ext = std::filesystem::path(path).extension().string();
  std::map<std::string, Tensor> arrays;
  if (std::memcmp(magic, "PK", 2) == 0 || ext == ".npz") {
    OPTIC_RETURN_IF_ERROR(ReadNpzFile(path, &arrays).Prefixed("--input-data (the model takes " + Typed(declared) + ")"));
  } else if (ext == ".npy") {
    if (declared.size() != 1) {
      return Status::InvalidArgument("--input-data '" + path + "' is a .npy (one array), the model "
                                     "has " + std::to_string(declared.size()) + " inputs (" +
                                     Names(declared) + "): save them with numpy.savez(FILE.npz, "
                                     "name=array, ...)");
    }
    OPTIC_RETURN_IF_ERROR(ReadNpyFile(path, &arrays[declared[0].name])
                              .Prefixed("--input-data for input " + Typed(declared)));
  } else {
    return Status::InvalidArgument("--input-data '" + path + "': unknown extension '" + ext +
                                   "' (optic reads .npy and .npz files)");
  }
  for (const auto& [name, t] : arrays) {
    if (std::none_of(declared.begin(), declared.end(), [&](const TensorInfo& d) { return d.name == name; })) {
      return Status::InvalidArgument("--input-data '" + path + "' has array '" + name + "', which "
                                     "is no input of the model (its inputs: " + Names(declared) +
                                     "): name each array after an input");
    }
  }
  InputSettings next = *settings;
  int64_t rows = -1;
  std::string first;
  for (const TensorInfo& in : declared) {
    auto it = arrays.find(in.name);
    if (it == arrays.end()) {
      std::string held;
      for (const auto& [n, t] : arrays) held += (held.empty() ? "" : ", ") + n;
      return Status::InvalidArgument("--input-data '" + path + "' has no array for input '" + in.name +
                                     "' (it holds: " + held + "; the model's inputs: " +
                                     Names(declared) + "): add it, e.g. numpy.savez(FILE, " +
                                     in.name + "=...)");
    }
    const Tensor& t = it->second;
    const std::string what = "--input-data '" + path + "' input '" + in.name + "'";
    if (t.dtype() != in.dtype) {
      return Status::InvalidArgument(what + ": the model takes " + DTypeName(in.dtype) + ", the file "
                                     "gives " + DTypeName(t.dtype()) + ": save x.astype(numpy." +
                                     (in.dtype == DType::kFP32 ? std::string("float32")
                                      : in.dtype == DType::kFP16 ? std::string("float16")
                                      : std::string(DTypeName(in.dtype))) + ")");
    }
    const bool rank_unknown = in.shape.size() == 1 && in.shape[0] < 0;
    bool fits = rank_unknown || t.shape().size() == in.shape.size();
    for (size_t i = 1; fits && !rank_unknown && i < in.shape.size(); ++i) {
      fits = in.shape[i] < 0 || in.shape[i] == t.shape()[i];
    }
    if (!fits) {
      return Status::InvalidArgument(what + ": the model takes " + DimsText(in.shape) + " (-1: any; "
                                     "the first dim is the rows), the file gives " +
                                     DimsText(t.shape()) + ": save an array of that shape");
    }
    if (t.shape()[0] < 1) return Status::InvalidArgument(what + ": the array has no rows " + DimsText(t.shape()));
    if (rows >= 0 && t.shape()[0] != rows) {
      return Status::InvalidArgument("--input-data '" + path + "': arrays have different row counts (" +
                                     first + " " + std::to_string(rows) + ", " + in.name + " " +
                                     std::to_string(t.shape()[0]) + "): give every input the same rows");
    }
    if (rows < 0) rows = t.shape()[0], first = in.name;
    auto given = settings->shapes.find(in.name);
    if (given != settings->shapes.end()) {
      bool same = given->second.size() == t.shape().size();
      for (size_t i = 1; same && i < t.shape().size(); ++i) same = given->second[i] == t.shape()[i];
      if (!same) {
        return Status::InvalidArgument("--shape " + in.name + " is " + DimsText(given->second) + " but " +
                                       what + " is " + DimsText(t.shape()) + ": drop --shape (the "
                                       "file sets it)");
      }
    }
    if (settings->ranges.count(in.name)) {
      return Status::InvalidArgument("--input-range " + in.name + " and --input-data both set the "
                                     "values of '" + in.name + "': drop one");
    }
    next.shapes[in.name] = t.shape();
  }
  next.data = std::move(arrays);
  *settings = std::move(next);
  return Status::OK();
}

int64_t InputDataRows(const InputSettings& settings) {
  return settings.data.empty() ? 0 : settings.data.begin()->second.shape()[0];
}

ValueRange DefaultRange(DType dtype) {
  if (IsFloat(dtype)) return {-2, 2};
  if (dtype == DType::kUINT8) return {0, 255};
  return {0, 99};
}

Status MakeInputValues(const TensorInfo& info, int64_t batch, const InputSettings& settings,
                       uint64_t seed, Tensor* out, int64_t first_row) {
  auto data = settings.data.find(info.name);
  if (data != settings.data.end()) {
    const Tensor& src = data->second;
    Shape shape = src.shape();
    const int64_t rows = shape[0];
    shape[0] = batch;
    OPTIC_RETURN_IF_ERROR(Tensor::Empty(src.dtype(), shape, out));
    const size_t row_bytes = rows > 0 ? src.nbytes() / static_cast<size_t>(rows) : 0;
    for (int64_t j = 0; j < batch; ++j) {
      const int64_t r = (first_row + j) % rows;
      std::memcpy(static_cast<char*>(out->raw()) + j * row_bytes,
                  static_cast<const char*>(src.raw()) + r * row_bytes, row_bytes);
    }
    return Status::OK();
  }
  auto it = settings.ranges.find(info.name);
  const ValueRange r = it != settings.ranges.end() ? it->second : DefaultRange(info.dtype);
  Shape shape = info.shape;
  if (shape.empty()) return Status::InvalidArgument("input '" + info.name + "' has no batch axis");
  shape[0] = batch;
  for (int64_t d : shape) {
    if (d < 0) return Status::InvalidArgument("input '" + info.name + "' has variable dims " + DimsText(info.shape));
  }
  if (IsFloat(info.dtype)) {
    Tensor f;
    OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, shape, &f));
    OPTIC_RETURN_IF_ERROR(FillUniform(&f, seed, static_cast<float>(r.lo), static_cast<float>(r.hi)));
    if (info.dtype == DType::kFP32) {
      *out = f;
      return Status::OK();
    }
    return f.ConvertTo(info.dtype, out);
  }
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(info.dtype, shape, out));
  const int64_t lo = static_cast<int64_t>(std::ceil(r.lo)), hi = static_cast<int64_t>(std::floor(r.hi));
  if (lo > hi) return Status::InvalidArgument("--input-range " + info.name + ": no integer in the range");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  const int64_t n = out->numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = dist(rng);
    switch (info.dtype) {
      case DType::kINT64: out->data<int64_t>()[i] = v; break;
      case DType::kINT32: out->data<int32_t>()[i] = static_cast<int32_t>(v); break;
      case DType::kINT8: out->data<int8_t>()[i] = static_cast<int8_t>(v); break;
      case DType::kUINT8: out->data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
      default: return Status::Internal("MakeInputValues: unhandled dtype");
    }
  }
  return Status::OK();
}

std::string InputSettingsToJson(const InputSettings& s) {
  json j = {{"shapes", json::object()}, {"ranges", json::object()}};
  for (const auto& [n, shape] : s.shapes) j["shapes"][n] = shape;
  for (const auto& [n, r] : s.ranges) j["ranges"][n] = {r.lo, r.hi};
  if (!s.data_file.empty()) j["data_file"] = s.data_file;
  return j.dump();
}

Status InputSettingsFromJson(const std::string& text, InputSettings* out) {
  *out = InputSettings{};
  if (text.empty()) return Status::OK();
  const json j = json::parse(text, nullptr, false);
  try {
    for (const auto& [n, shape] : j.at("shapes").items()) out->shapes[n] = shape.get<Shape>();
    for (const auto& [n, r] : j.at("ranges").items()) out->ranges[n] = {r.at(0).get<double>(), r.at(1).get<double>()};
    if (j.contains("data_file")) out->data_file = j.at("data_file").get<std::string>();
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("input settings are malformed: ") + e.what());
  }
  return Status::OK();
}

}  // namespace optic

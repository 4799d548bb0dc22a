// --images DIR [--labels FILE] of optic/model_source.h: a JPEG folder as an image input's rows.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "optic/model_source.h"
#include "optic/preprocess.h"

namespace optic {

namespace fs = std::filesystem;

namespace {

bool IsJpeg(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg";
}

Status ReadLabels(const std::string& path, std::vector<std::string>* names) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("--labels '" + path + "': cannot read it");
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    names->push_back(line);
  }
  if (names->empty()) return Status::InvalidArgument("--labels '" + path + "' is empty: give one class name a line");
  return Status::OK();
}

}  // namespace

Status LoadImageFolder(const std::vector<TensorInfo>& declared, const std::string& dir,
                       const std::string& labels_file, InputSettings* settings, ImageFolder* out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound("--images '" + dir + "': " + (fs::exists(dir, ec) ? "not a folder" : "no such folder"));
  }
  if (declared.size() != 1) {
    return Status::InvalidArgument("--images feeds a model of one image input; this one has " +
                                   std::to_string(declared.size()) + ": use --input-data with a .npz");
  }
  std::vector<TensorInfo> concrete;
  OPTIC_RETURN_IF_ERROR(ConcreteInputs(declared, *settings, &concrete));
  PreprocessOptions options;
  OPTIC_RETURN_IF_ERROR(PreprocessOptionsForInput(concrete[0], nullptr, &options).Prefixed("--images"));

  ImageFolder folder;
  std::vector<std::pair<std::string, int64_t>> found;  // (path, class)
  if (labels_file.empty()) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file() && IsJpeg(e.path())) found.push_back({e.path().string(), -1});
    }
  } else {
    std::vector<std::string> names;
    OPTIC_RETURN_IF_ERROR(ReadLabels(labels_file, &names));
    for (const auto& sub : fs::directory_iterator(dir, ec)) {
      if (!sub.is_directory()) continue;
      const std::string cls = sub.path().filename().string();
      const auto it = std::find(names.begin(), names.end(), cls);
      if (it == names.end()) {
        return Status::InvalidArgument("--images '" + dir + "': folder '" + cls + "' is no class of --labels '" +
                                       labels_file + "' (" + std::to_string(names.size()) +
                                       " classes, one a line): rename it or add the class");
      }
      for (const auto& e : fs::directory_iterator(sub.path(), ec)) {
        if (e.is_regular_file() && IsJpeg(e.path())) found.push_back({e.path().string(), it - names.begin()});
      }
    }
  }
  if (found.empty()) {
    return Status::InvalidArgument("--images '" + dir + "' holds no .jpg/.jpeg files" +
                                   (labels_file.empty() ? std::string() : " in class folders (<class>/<file>.jpg)"));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> bytes(found.size());
  std::vector<ImageInput> images(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    std::ifstream in(found[i].first, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    bytes[i] = ss.str();
    images[i] = {found[i].first, reinterpret_cast<const uint8_t*>(bytes[i].data()), bytes[i].size()};
    folder.files.push_back(found[i].first);
    if (found[i].second >= 0) folder.labels.push_back(found[i].second);
  }
  std::unique_ptr<Preprocessor> pre;
  OPTIC_RETURN_IF_ERROR(CreatePreprocessor(options, Device{}, &pre).Prefixed("--images"));
  Tensor batch;
  OPTIC_RETURN_IF_ERROR(pre->AllocateBatch(static_cast<int64_t>(images.size()), &batch));
  std::vector<ImageResult> results;
  OPTIC_RETURN_IF_ERROR(pre->Run(images, &batch, &results).Prefixed("--images"));
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].status.ok()) {
      return Status::InvalidArgument("--images: '" + found[i].first + "' cannot be used: " +
                                     results[i].status.message() + "; remove or replace it");
    }
  }
  InputSettings next = *settings;
  next.shapes[declared[0].name] = batch.shape();
  next.data[declared[0].name] = batch;
  *settings = std::move(next);
  *out = std::move(folder);
  return Status::OK();
}

Status TopKAccuracy(const Tensor& scores, const std::vector<int64_t>& labels, double* top1, double* top5) {
  if (scores.shape().size() != 2 || scores.shape()[0] != static_cast<int64_t>(labels.size())) {
    return Status::InvalidArgument("accuracy needs class scores [" + std::to_string(labels.size()) +
                                   ", classes]; the first output is " + ShapeToString(scores.shape()));
  }
  const int64_t n = scores.shape()[0], classes = scores.shape()[1];
  int64_t hit1 = 0, hit5 = 0;
  for (int64_t r = 0; r < n; ++r) {
    const int64_t label = labels[r];
    if (label >= classes) {
      return Status::InvalidArgument("label " + std::to_string(label) + " is beyond the model's " +
                                     std::to_string(classes) + " classes");
    }
    const double mine = scores.GetAsDouble(r * classes + label);
    int64_t above = 0;  // classes scoring higher than the label's (ties count for the label)
    for (int64_t c = 0; c < classes; ++c) above += scores.GetAsDouble(r * classes + c) > mine;
    hit1 += above == 0;
    hit5 += above < 5;
  }
  *top1 = static_cast<double>(hit1) / static_cast<double>(n);
  *top5 = static_cast<double>(hit5) / static_cast<double>(n);
  return Status::OK();
}

}  // namespace optic

// The model zoo: models exported by `optic models export` (tools/zoo/export.py) into a directory
// with a manifest.json. This header reads the manifest and picks the file a backend loads.
// Thread safety: a Zoo is immutable after Open; share it freely.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "optic/backend.h"

namespace optic {

struct ZooFile {
  std::string path;    // absolute
  std::string sha256;
  int64_t bytes = 0;
};

struct ZooModel {
  std::string name;
  TensorInfo input;    // batch dimension -1
  TensorInfo output;
  int64_t params = 0;
  std::map<std::string, ZooFile> files;  // by format: "onnx", "torchscript", "onnx-int8", ...
};

class Zoo {
 public:
  // Reads DIR/manifest.json. kNotFound when it is missing (with the command that makes it),
  // kInvalidArgument naming the field when it is malformed.
  static Status Open(const std::string& dir, Zoo* out);

  const std::string& dir() const { return dir_; }
  std::vector<std::string> ModelNames() const;
  Status Find(const std::string& name, const ZooModel** out) const;
  // The file `backend` should load for `precision`, among the formats it reads (by file
  // extension): a file exported in that precision (FormatPrecision), one named after the
  // backend first (openvino-int8 for openvino); else the fp32 file, except for kINT8 and the
  // backend's Capabilities::precisions_from_file, which take only a file of their own.
  // kUnsupported says which formats exist and which export makes the missing file.
  Status FileFor(const ZooModel& model, const Backend& backend, Precision precision,
                 std::string* path) const;

 private:
  std::string dir_;
  std::map<std::string, ZooModel> models_;
};

// The precision a zoo format's file holds, from the format's suffix: "onnx-int8" and
// "openvino-int8" kINT8, "onnx-fp16" and "aoti-fp16" kFP16, "aoti-bf16" kBF16; "onnx",
// "torchscript" and "aoti-fp32" kFP32.
Precision FormatPrecision(const std::string& format);

// The default zoo directory: $OPTIC_MODELS, else ./models.
std::string DefaultZooDir();

}  // namespace optic

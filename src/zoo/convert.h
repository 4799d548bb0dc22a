// Model conversion: one model file in, the format another backend reads out. The converters are
// Python tools (tools/zoo/convert.py: onnx2torch + torch.jit.trace for ONNX -> TorchScript,
// torch.onnx.export for TorchScript -> ONNX); this seam runs them and caches what they write.
//
// Cache: a converted file is kept under cache_dir/<key>/ where key is the sha256 of the source
// file's bytes, the target format and the converter's version, so the same file converted again
// costs one hash and a directory lookup, and an upgraded converter converts afresh.
//
// Thread safety: ConvertModel may be called from several threads or processes at once; a
// conversion is written into a temporary directory and renamed into place, so a reader sees a
// complete entry or none. Two concurrent misses on one key both convert; one rename wins.
#pragma once

#include <string>
#include <vector>

#include "optic/status.h"

namespace optic {

struct ConvertedFile {
  std::string path;           // the converted file (absolute), inside cache_dir
  std::string source_format;  // "onnx", "torchscript", "pt2": what the source was read as
  std::string target_format;  // as asked
  // The tools that made the file, with versions: "onnx2torch 1.5.15 + torch.jit.trace 1.13.0".
  std::string converted_by;
  double seconds = 0;          // wall time of this call (hashing + lookup when cached)
  double convert_seconds = 0;  // wall time of the conversion itself, when it was made
  std::string cache_key;       // 64 hex digits
  bool cached = false;         // true: no converter ran in this call
};

// Converts `source` (a model file; its format is read from its contents and extension) to
// `target_format` ("torchscript" or "onnx"), caching the result under `cache_dir` (empty:
// DefaultConvertCacheDir()). When the source already is in the target format, `out->path` is the
// source itself and converted_by is empty.
//
// Errors: kNotFound (no such file), kInvalidArgument (empty file, a directory, a file no format
// recognizes, an unknown target format), kUnsupported (no converter for this pair, or the
// converter refused the model: the message starts with the converter's own error, e.g. the
// operator it lacks), kUnavailable (the converter's Python or package is missing, with the
// command that installs it), kInternal (the cache directory cannot be written). Never aborts.
Status ConvertModel(const std::string& source, const std::string& target_format,
                    const std::string& cache_dir, ConvertedFile* out);

// As above, for a source whose inputs have variable dimensions: `shapes` are the sizes to trace
// at, as --shape takes them ("input=1x3x256x256"), and are part of the cache key. A TorchScript
// trace that holds only the traced sizes says so in its sidecar (<file>.json, inputs' dims fixed
// but the batch), so a backend refuses another size by name instead of answering it wrongly.
Status ConvertModel(const std::string& source, const std::string& target_format,
                    const std::string& cache_dir, const std::vector<std::string>& shapes,
                    ConvertedFile* out);

// $OPTIC_CONVERT_CACHE, else $XDG_CACHE_HOME/optic/converted, else ~/.cache/optic/converted.
std::string DefaultConvertCacheDir();

}  // namespace optic

// Where the torch backend learns a TorchScript file's input and output shapes.
//
// A TorchScript module records argument names and types but no shapes, so they come from a
// description written next to the file, first match wins:
//   1. a sidecar "<file>.json" (e.g. model.pt.json):
//        {"inputs":  [{"name": "input", "shape": [-1, 3, 224, 224], "dtype": "fp32"}],
//         "outputs": [{"name": "output", "shape": [-1, 1000], "dtype": "fp32"}]}
//   2. the zoo manifest two directories up (<zoo>/<model>/model.pt -> <zoo>/manifest.json), the
//      entry whose "files" list this very file (compared as canonical paths);
// and otherwise nothing is known: `found` stays false and the backend falls back to one entry per
// forward() argument with shape [-1] and an unchecked rank (see torch_model.h).
//
// Thread safety: plain functions over the file system; callable from any thread.
// Failure: a sidecar or manifest that exists but is malformed is kInvalidArgument naming that file
// and the field (a wrong description is worse than none); an unreadable manifest that does not
// mention the file is ignored.
#pragma once

#include <string>
#include <vector>

#include "optic/backend.h"

namespace optic::torch_backend {

struct IoSpec {
  bool found = false;
  std::string source;  // the file the description came from, for messages
  std::vector<TensorInfo> inputs, outputs;
};

Status FindIoSpec(const std::string& model_path, IoSpec* spec);

}  // namespace optic::torch_backend

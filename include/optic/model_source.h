// Where a model comes from: a zoo name or a model file of the user's. ResolveModel turns either
// into one description (inputs, outputs, the files by format, the source file's content hash)
// and FileForBackend picks, for each backend, the file it loads or says why it cannot take the
// model. Input settings (--shape, --input-range) make a model's variable dimensions concrete.
//
// Formats read natively: ONNX (.onnx), TorchScript (.pt, .pth, .ts, .torchscript), OpenVINO IR
// (.xml with its .bin), torch.export programs and AOTInductor packages (both .pt2, told apart by
// the archive's entries). A backend that does not read the source's format gets a converted file
// through ConvertModel (src/zoo/convert.h) when a converter for the pair is configured, else an
// unsupported reason.
//
// Thread safety: plain functions and values; callable from any thread.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "optic/backend.h"
#include "optic/zoo.h"

namespace optic {

// "onnx", "torchscript", "openvino", "torch_export", "aoti_package". Reads the extension and, for
// .pt2, the archive's entry names. kInvalidArgument for a directory, an empty file, an unknown
// extension or a .pt2 that is no zip archive; kNotFound when nothing is at `path`.
Status DetectModelFormat(const std::string& path, std::string* format);

// True when `text` reads as a model file rather than a zoo name: it exists on disk, contains a
// '/', or ends in a model file extension.
bool LooksLikeModelFile(const std::string& text);

// sha256 of the file's bytes as 64 hex digits, remembered per (path, mtime, size) within the
// process so a sweep hashes a big file once.
Status FileSha256(const std::string& path, std::string* hex);

struct ModelDescription {
  std::string name;          // zoo name, or the file as the user gave it
  bool from_zoo = false;
  const ZooModel* zoo_model = nullptr;  // from_zoo: the manifest entry (owned by the Zoo)
  std::string source_file;   // file sources: absolute path
  std::string source_sha256; // file sources: content hash
  std::string source_format; // file sources: DetectModelFormat's answer
  std::vector<TensorInfo> inputs, outputs;  // -1 for a variable dimension
  std::string described_by;  // the backend that loaded the file to read its inputs and outputs
  std::map<std::string, std::string> files;  // by format
};

struct ResolveOptions {
  std::string zoo_dir;       // for zoo names (empty: DefaultZooDir())
  // Describe a file by loading it in a child process (fork), so that a framework that crashes on
  // the file cannot take the caller down (bench's parent). Off: load in this process.
  bool isolate_describe = true;
};

// A zoo name (the Zoo at options.zoo_dir, opened into *zoo, which must outlive *out) or a model
// file. For a file: the format, the hash, and inputs and outputs read by loading it at fp32 on
// the CPU with the first backend in registry order that reads its format. Errors name the file
// and what to do: a missing file, a directory, an empty or unreadable file, a format no backend
// compiled in reads.
Status ResolveModel(const std::string& name_or_path, const ResolveOptions& options, Zoo* zoo,
                    ModelDescription* out);

struct BackendFile {
  std::string path;          // the file `backend` loads
  std::string converted_by;  // empty when the file is native to the backend
  std::string unsupported;   // non-empty: why the backend cannot take the model (path empty)
};
// What the user set per input: --shape name=1x3x960x960 and --input-range name=lo:hi.
struct ValueRange {
  double lo = 0, hi = 0;
};
struct InputSettings {
  std::map<std::string, Shape> shapes;
  std::map<std::string, ValueRange> ranges;
  // --input-data: a .npy (one input) or .npz (arrays named after the inputs) file, absolute.
  std::string data_file;
  // Its arrays by input name, filled by LoadInputData (not part of the JSON form: each process
  // reads the file itself).
  std::map<std::string, Tensor> data;
};

// Reads settings->data_file (nothing to do when it is empty or already read) and checks it
// against the model's declared inputs: a .npy only for a model of one input, a .npz with one
// array per input and no other, each in the input's dtype, its rank, and its fixed dims but the
// first (the rows, which need not be the batch: bench tiles and slices them to each batch size).
// Each array's shape becomes settings->shapes[name], so variable dims need no --shape; a --shape
// that disagrees, or an --input-range for an input the file feeds, is an error. Errors name the
// file, the input, the expected and the given shape or dtype, and what to do. On error
// *settings is unchanged.
Status LoadInputData(const std::vector<TensorInfo>& declared, InputSettings* settings);

// The file `backend` loads for `model` at `precision`: a zoo file (Zoo::FileFor), the source
// file when the backend reads its format, or one converted by ConvertModel (cached by content
// hash and trace shapes, so asking again costs a hash). A conversion traces at the sizes
// `inputs.shapes` sets for the model's inputs, so a model with variable dims converts at the
// sizes it is then fed.
BackendFile FileForBackend(const ModelDescription& model, const Zoo* zoo, const Backend& backend,
                           Precision precision, const InputSettings& inputs = {});

// "name=1x3x40x48" for each shape in `settings` that names one of `inputs`: ConvertModel's
// trace shapes.
std::vector<std::string> TraceShapes(const std::vector<TensorInfo>& inputs,
                                     const InputSettings& settings);
// "name=1x3x960x960" into settings->shapes (flag names the option in errors).
Status ParseShapeSetting(const std::string& text, const std::string& flag, InputSettings* settings);
// "name=0:99" (lo inclusive; integers: hi inclusive, floats: hi exclusive) into settings->ranges.
Status ParseRangeSetting(const std::string& text, const std::string& flag, InputSettings* settings);

// The inputs with every dimension but a variable first one fixed from `settings`. A shape set
// for an input replaces its dimensions (rank and fixed dimensions must agree); its first
// dimension becomes -1 again when the model's is variable (the batch comes from --batch).
// Errors: an input left with a variable dimension ("input 'image' has variable dims
// [-1,3,-1,-1]: set them with --shape image=Nx3xHxW"), a setting naming an input the model does
// not have (listing its inputs), a range with lo > hi.
Status ConcreteInputs(const std::vector<TensorInfo>& declared, const InputSettings& settings,
                      std::vector<TensorInfo>* out);

// The default value range of an input: floats [-2, 2) (like a normalized image), integer
// inputs [0, 99] so index inputs stay in a small table's range, uint8 [0, 255].
ValueRange DefaultRange(DType dtype);
// `info` with the batch set, in the input's dtype: rows first_row, first_row + 1, ... of
// settings.data (cycling through its rows) when the file feeds this input, else seeded values in
// the input's range (settings.ranges, else DefaultRange).
Status MakeInputValues(const TensorInfo& info, int64_t batch, const InputSettings& settings,
                       uint64_t seed, Tensor* out, int64_t first_row = 0);

// --images DIR [--labels FILE]: JPEG files as the values of a model's one image input.
struct ImageFolder {
  std::vector<std::string> files;  // in the order of the rows (sorted paths)
  std::vector<int64_t> labels;     // the class of each file, with a labels file; else empty
};
// Reads DIR's .jpg/.jpeg files, or with `labels_file` (class names, one a line; line i is class
// i) DIR/<class name>/<file>.jpg, and preprocesses them on the CPU with the zoo's ImageNet
// preprocessing fitted to the model's one image input (optic/preprocess.h,
// PreprocessOptionsForInput: resize, centre crop, ImageNet mean/std, the input's H x W from the
// model or --shape) into settings->data, one row per file, as LoadInputData would. Errors: no
// such folder, no JPEG in it, a model of more than one input or without fixed H and W, a class
// folder the labels file does not name, an image that does not decode (named, with the reason).
// On error *settings is unchanged.
Status LoadImageFolder(const std::vector<TensorInfo>& declared, const std::string& dir,
                       const std::string& labels_file, InputSettings* settings, ImageFolder* out);

// Fraction of rows of `scores` ([n, classes]) whose label is the top-1 / among the top-5 classes.
Status TopKAccuracy(const Tensor& scores, const std::vector<int64_t>& labels, double* top1,
                    double* top5);

// The rows settings.data gives (the first array's leading dim), 0 when no file feeds inputs.
int64_t InputDataRows(const InputSettings& settings);

// JSON-ready text of settings for cells: {"shapes": {name: [dims]}, "ranges": {name: [lo, hi]},
// "data_file": path}.
std::string InputSettingsToJson(const InputSettings& settings);
Status InputSettingsFromJson(const std::string& text, InputSettings* out);

}  // namespace optic

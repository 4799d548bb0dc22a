#include "preprocess_stage.h"

#include <cmath>
#include <cstring>

namespace optic::server {
namespace {

Status Bad(const std::string& m) { return Status::InvalidArgument("optic_preprocessing: " + m); }

class ImageStage final : public InputStage {
 public:
  ImageStage(ImagePreprocessing p, std::unique_ptr<Preprocessor> pre)
      : p_(std::move(p)), pre_(std::move(pre)) {}

  Status Prepare(const std::vector<std::unique_ptr<InferRequest>>& batch,
                 std::vector<Tensor>* inputs, std::vector<Status>* failures) override {
    std::vector<ImageInput> images;
    std::vector<size_t> owner;  // request index of each image
    for (size_t k = 0; k < batch.size(); ++k) {
      const InferRequest& r = *batch[k];
      if (r.bytes.empty() || static_cast<int64_t>(r.bytes[0].elements.size()) != r.rows) {
        (*failures)[k] = Status::Internal("request carries no encoded images for input '" +
                                          p_.served.name + "'");
        continue;
      }
      for (size_t i = 0; i < r.bytes[0].elements.size(); ++i) {
        const std::string_view e = r.bytes[0].elements[i];
        images.push_back({p_.served.name + "[" + std::to_string(i) + "]",
                          reinterpret_cast<const uint8_t*>(e.data()), e.size()});
        owner.push_back(k);
      }
    }
    if (images.empty()) return Status::OK();  // every request failed above
    Tensor t;
    OPTIC_RETURN_IF_ERROR(pre_->AllocateBatch(static_cast<int64_t>(images.size()), &t));
    std::vector<ImageResult> results;
    OPTIC_RETURN_IF_ERROR(pre_->Run(images, &t, &results).Prefixed("preprocessing"));
    if (!pre_->device().is_cpu()) {
      // Models get host tensors; compaction below works on host memory.
      Tensor host;
      OPTIC_RETURN_IF_ERROR(pre_->BatchToHost(t, &host));
      t = std::move(host);
    }
    for (size_t j = 0; j < results.size(); ++j) {
      Status& f = (*failures)[owner[j]];
      if (!results[j].status.ok() && f.ok()) {
        f = Status::InvalidArgument(results[j].status.message());
      }
    }
    // Drop the rows of failed requests so the model runs only the good ones, in order.
    const size_t row = t.nbytes() / images.size();
    auto* base = static_cast<char*>(t.raw());
    int64_t kept = 0;
    for (size_t j = 0; j < images.size(); ++j) {
      if (!(*failures)[owner[j]].ok()) continue;
      if (static_cast<int64_t>(j) != kept) std::memmove(base + kept * row, base + j * row, row);
      ++kept;
    }
    Tensor rows;
    OPTIC_RETURN_IF_ERROR(t.Slice(0, kept, &rows));
    inputs->assign(1, std::move(rows));
    return Status::OK();
  }

  Status WarmUpInputs(int64_t n, std::vector<Tensor>* inputs) override {
    Tensor t;
    OPTIC_RETURN_IF_ERROR(Tensor::Empty(p_.options.dtype, PreprocessBatchShape(p_.options, n), &t));
    std::memset(t.raw(), 0, t.nbytes());
    inputs->assign(1, std::move(t));
    return Status::OK();
  }

 private:
  ImagePreprocessing p_;
  std::unique_ptr<Preprocessor> pre_;
};

}  // namespace

Status ImagePreprocessingFromConfig(const inference::ModelConfig& config,
                                    const std::vector<TensorInfo>& model_inputs,
                                    ImagePreprocessing* out) {
  const auto& c = config.optic_preprocessing();
  ImagePreprocessing p;
  if (config.max_batch_size() <= 0) {
    return Bad("needs max_batch_size > 0 (one image per batch row)");
  }
  if (model_inputs.size() != 1) {
    return Bad("the model has " + std::to_string(model_inputs.size()) +
               " inputs; preprocessing needs a model with one image input");
  }
  const TensorInfo& mi = model_inputs[0];
  if (!c.model_input().empty() && c.model_input() != mi.name) {
    return Bad("model_input '" + c.model_input() + "' is not the model's input '" + mi.name + "'");
  }
  p.model_input = mi.name;
  // The model input decides crop, resize, layout, dtype and normalization as it does for bench's
  // e2e cells (optic/preprocess.h); the config may name the layout and override the rest.
  Layout layout = Layout::kNCHW;
  if (c.layout() == "NCHW") layout = Layout::kNCHW;
  else if (c.layout() == "NHWC") layout = Layout::kNHWC;
  else if (!c.layout().empty()) return Bad("layout must be NCHW or NHWC, not '" + c.layout() + "'");
  Status fit = PreprocessOptionsForInput(mi, c.layout().empty() ? nullptr : &layout, &p.options);
  if (!fit.ok()) return Bad(fit.message());
  if (c.has_resize_shorter()) p.options.resize_shorter = c.resize_shorter();
  if (c.mean_size() != 0 && c.mean_size() != 3) return Bad("mean needs 3 values (RGB)");
  if (c.std_size() != 0 && c.std_size() != 3) return Bad("std needs 3 values (RGB)");
  for (int i = 0; i < c.mean_size(); ++i) p.options.mean[i] = c.mean(i);
  for (int i = 0; i < c.std_size(); ++i) p.options.std[i] = c.std(i);
  if (c.has_scale()) p.options.scale = c.scale();
  if (!c.filter().empty()) {
    OPTIC_RETURN_IF_ERROR(ParseResizeFilter(c.filter(), &p.options.filter).Prefixed("optic_preprocessing"));
  }
  if (c.has_dct_scaling()) p.options.dct_scaling = c.dct_scaling();
  if (c.max_pixels() < 0) return Bad("max_pixels must be positive");
  if (c.max_pixels() > 0) p.options.max_pixels = c.max_pixels();
  if (c.threads() < 0) return Bad("threads must be >= 0");
  p.options.threads = c.threads();
  OPTIC_RETURN_IF_ERROR(ValidatePreprocessOptions(p.options).Prefixed("optic_preprocessing"));
  if (c.kind() == inference::ModelInstanceGroup::KIND_GPU) {
    p.device = Device{DeviceType::kCUDA, c.gpu()};
  } else if (c.kind() != inference::ModelInstanceGroup::KIND_CPU &&
             c.kind() != inference::ModelInstanceGroup::KIND_AUTO) {
    return Bad("kind must be KIND_CPU or KIND_GPU");
  }
  // The served BYTES input: from the config when listed, else named by `input` (default "image").
  p.served.name = c.input().empty() ? "image" : c.input();
  p.served.bytes = true;
  p.served.dims = {1};
  for (const auto& in : config.input()) {
    if (in.name() != p.served.name) continue;
    if (in.data_type() != inference::TYPE_STRING) {
      return Bad("input '" + in.name() + "' must be TYPE_STRING (BYTES): it carries encoded images");
    }
    if (!(in.dims_size() == 1 && in.dims(0) == 1)) {
      return Bad("input '" + in.name() + "' dims must be [ 1 ] (one encoded image per batch row)");
    }
  }
  *out = std::move(p);
  return Status::OK();
}

Status CreateImageStage(const ImagePreprocessing& p, std::unique_ptr<InputStage>* out) {
  std::unique_ptr<Preprocessor> pre;
  OPTIC_RETURN_IF_ERROR(CreatePreprocessor(p.options, p.device, &pre).Prefixed("optic_preprocessing"));
  *out = std::make_unique<ImageStage>(p, std::move(pre));
  return Status::OK();
}

}  // namespace optic::server

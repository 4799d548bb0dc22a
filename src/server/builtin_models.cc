#include "builtin_models.h"

namespace optic::server {
namespace {

Status Bad(const std::string& backend, const std::string& m) {
  return Status::InvalidArgument(backend + ": " + m);
}

// The preprocessed batch is the output: no copy when the input owns its memory (it does: the
// preprocessing stage allocates it), so the output keeps that memory alive.
class PassThrough final : public Model {
 public:
  PassThrough(TensorInfo in, TensorInfo out) : inputs_{std::move(in)}, outputs_{std::move(out)} {}
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    if (inputs.size() != 1) return Status::InvalidArgument("optic_preprocess: one input expected");
    Tensor t = inputs[0];
    if (!t.owning()) OPTIC_RETURN_IF_ERROR(inputs[0].Clone(&t));
    outputs->assign(1, std::move(t));
    return Status::OK();
  }

 private:
  std::vector<TensorInfo> inputs_, outputs_;
};

class Average final : public Model {
 public:
  Average(std::vector<TensorInfo> in, TensorInfo out) : inputs_(std::move(in)), outputs_{std::move(out)} {}
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    if (inputs.size() != inputs_.size()) return Status::InvalidArgument("optic_average: input count");
    for (const Tensor& t : inputs) {
      if (t.dtype() != DType::kFP32 || t.shape() != inputs[0].shape() || !t.is_host()) {
        return Status::InvalidArgument("optic_average: inputs must be host FP32 of one shape, got " +
                                       t.DebugString() + " and " + inputs[0].DebugString());
      }
    }
    Tensor out;
    OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, inputs[0].shape(), &out));
    float* o = out.data<float>();
    const int64_t n = out.numel();
    const float inv = 1.0f / static_cast<float>(inputs.size());
    for (int64_t i = 0; i < n; ++i) {
      float sum = 0;
      for (const Tensor& t : inputs) sum += t.data<float>()[i];
      o[i] = sum * inv;
    }
    outputs->assign(1, std::move(out));
    return Status::OK();
  }

 private:
  std::vector<TensorInfo> inputs_, outputs_;
};

Status Info(const std::string& backend, const std::string& name, inference::DataType type,
            const google::protobuf::RepeatedField<int64_t>& dims, TensorInfo* out) {
  out->name = name;
  OPTIC_RETURN_IF_ERROR(DTypeFromConfig(type, &out->dtype).Prefixed(backend + " tensor '" + name + "'"));
  out->shape = {-1};
  for (int64_t d : dims) {
    if (d <= 0) return Bad(backend, "tensor '" + name + "' needs fixed dims (got " + std::to_string(d) + ")");
    out->shape.push_back(d);
  }
  return Status::OK();
}

}  // namespace

bool IsBuiltinBackend(const std::string& backend) {
  return backend == "optic_preprocess" || backend == "optic_average";
}

Status CreateBuiltinInstances(const std::string& backend, const inference::ModelConfig& config,
                              size_t count, std::vector<std::unique_ptr<Model>>* out) {
  if (config.max_batch_size() <= 0) return Bad(backend, "needs max_batch_size > 0");
  if (config.output_size() != 1) return Bad(backend, "needs exactly one output in the config");
  TensorInfo output;
  const auto& o = config.output(0);
  OPTIC_RETURN_IF_ERROR(Info(backend, o.name(), o.data_type(), o.dims(), &output));
  if (backend == "optic_preprocess") {
    if (!config.has_optic_preprocessing()) {
      return Bad(backend, "needs an optic_preprocessing block (the decode and resize settings)");
    }
    TensorInfo input = output;
    input.name = output.name + "_pixels";  // replaced by the BYTES input clients send
    for (size_t i = 0; i < count; ++i) out->push_back(std::make_unique<PassThrough>(input, output));
    return Status::OK();
  }
  if (output.dtype != DType::kFP32) return Bad(backend, "output must be TYPE_FP32");
  if (config.input_size() < 1) return Bad(backend, "needs at least one input in the config");
  std::vector<TensorInfo> inputs;
  for (const auto& in : config.input()) {
    TensorInfo t;
    OPTIC_RETURN_IF_ERROR(Info(backend, in.name(), in.data_type(), in.dims(), &t));
    if (t.dtype != DType::kFP32 || t.shape != output.shape) {
      return Bad(backend, "input '" + t.name + "' must be TYPE_FP32 with the output's dims");
    }
    inputs.push_back(std::move(t));
  }
  for (size_t i = 0; i < count; ++i) out->push_back(std::make_unique<Average>(inputs, output));
  return Status::OK();
}

}  // namespace optic::server

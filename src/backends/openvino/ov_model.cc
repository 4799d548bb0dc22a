// A compiled OpenVINO model behind optic's Model interface.
//
// Memory: inputs are wrapped in ov::Tensor views of the caller's memory (no copy). Each Execute
// gives the request fresh output tensors, allocated by OpenVINO, and hands them out as owning
// optic Tensors that keep the ov::Tensor alive; the request never writes into them again, so a
// caller may hold outputs across batches. Only an output whose shape cannot be known before
// inference (a variable dimension other than the batch) is copied out of the request's buffer.
// Shapes: for a model with variable dimensions other than the batch, each new set of input shapes
// is first checked by OpenVINO's shape inference on a clone of the uncompiled model. The CPU
// plugin does not reject shapes its operators cannot take (a 3x3 convolution given a 1x1 image):
// it returns without writing the outputs, and from then on every inference of that compiled model,
// on any request, returns without writing them too. Checking first keeps such an input an error
// of its own call.
// Threading: one InferRequest per Model; Execute is never called concurrently on one Model.
#include <set>

#include "ov_internal.h"

namespace optic::openvino {
namespace {

Status Describe(const std::vector<ov::Output<const ov::Node>>& ports, const char* kind,
                std::vector<TensorInfo>* infos) {
  for (size_t i = 0; i < ports.size(); ++i) {
    TensorInfo info;
    info.name = ports[i].get_names().empty() ? std::string(kind) + std::to_string(i)
                                             : ports[i].get_any_name();
    OPTIC_RETURN_IF_ERROR(ToDType(ports[i].get_element_type(), &info.dtype));
    const ov::PartialShape& ps = ports[i].get_partial_shape();
    if (ps.rank().is_dynamic()) {
      return Status::Unsupported("openvino: " + std::string(kind) + " '" + info.name +
                                 "' has a variable rank");
    }
    for (const ov::Dimension& d : ps) info.shape.push_back(d.is_static() ? d.get_length() : -1);
    infos->push_back(std::move(info));
  }
  return Status::OK();
}

class OvModel final : public Model {
 public:
  OvModel(ov::CompiledModel compiled, ov::InferRequest request,
          std::shared_ptr<ov::Model> shape_model)
      : compiled_(std::move(compiled)),
        request_(std::move(request)),
        shape_model_(std::move(shape_model)) {}

  Status Init() {
    OPTIC_RETURN_IF_ERROR(Describe(compiled_.inputs(), "input", &inputs_));
    OPTIC_RETURN_IF_ERROR(Describe(compiled_.outputs(), "output", &outputs_));
    return Status::OK();
  }

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    OPTIC_RETURN_IF_ERROR(CheckInputs(inputs_, inputs).Prefixed("openvino"));
    for (const Tensor& t : inputs) {
      if (!t.is_host()) return Status::InvalidArgument("openvino: inputs must be host tensors");
    }
    OPTIC_RETURN_IF_ERROR(CheckShapes(inputs));
    try {
      for (size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& t = inputs[i];
        // OpenVINO only reads inputs; the const_cast is its API's, not a write.
        request_.set_input_tensor(
            i, ov::Tensor(ToOvType(t.dtype()), ov::Shape(t.shape().begin(), t.shape().end()),
                          const_cast<void*>(t.raw())));
      }
      const int64_t batch = inputs.empty() || inputs[0].rank() == 0 ? -1 : inputs[0].dim(0);
      std::vector<bool> fresh(outputs_.size(), false);
      for (size_t i = 0; i < outputs_.size(); ++i) {
        ov::Shape shape;
        if (OutputShape(outputs_[i], batch, &shape)) {
          request_.set_output_tensor(i, ov::Tensor(ToOvType(outputs_[i].dtype), shape));
          fresh[i] = true;
        }
      }
      request_.infer();
      outputs->clear();
      for (size_t i = 0; i < outputs_.size(); ++i) {
        ov::Tensor o = request_.get_output_tensor(i);
        DType dtype;
        OPTIC_RETURN_IF_ERROR(ToDType(o.get_element_type(), &dtype));
        const ov::Shape& s = o.get_shape();
        Shape shape(s.begin(), s.end());
        if (fresh[i]) {
          void* data = o.data();
          auto holder = std::make_shared<ov::Tensor>(std::move(o));
          outputs->push_back(Tensor::FromHolder(holder, data, dtype, std::move(shape), Device{}));
        } else {
          // The request reuses this buffer on the next call: copy.
          Tensor copy;
          OPTIC_RETURN_IF_ERROR(
              Tensor::Borrow(o.data(), dtype, std::move(shape)).Clone(&copy));
          outputs->push_back(std::move(copy));
        }
      }
    } catch (const std::bad_alloc&) {
      return Status::OutOfMemory("openvino: out of memory running the model");
    } catch (const std::exception& e) {
      return Status::Internal("openvino: inference failed: " + Reason(e));
    }
    return Status::OK();
  }

 private:
  // OpenVINO's shape inference over `inputs`' shapes, once per distinct set of shapes.
  Status CheckShapes(const std::vector<Tensor>& inputs) {
    if (shape_model_ == nullptr) return Status::OK();
    std::vector<Shape> shapes;
    for (const Tensor& t : inputs) shapes.push_back(t.shape());
    if (checked_.count(shapes)) return Status::OK();
    try {
      std::map<size_t, ov::PartialShape> target;
      for (size_t i = 0; i < shapes.size(); ++i) {
        target[i] = ov::PartialShape(std::vector<ov::Dimension>(shapes[i].begin(), shapes[i].end()));
      }
      shape_model_->clone()->reshape(target);
    } catch (const std::exception& e) {
      std::string text;
      for (size_t i = 0; i < shapes.size(); ++i) {
        text += (i ? ", " : "") + inputs_[i].name + " " + ShapeToString(shapes[i]);
      }
      return Status::InvalidArgument("openvino: the model cannot take inputs of shape " + text +
                                     ": " + Reason(e));
    }
    if (checked_.size() >= kMaxCheckedShapes) checked_.clear();
    checked_.insert(std::move(shapes));
    return Status::OK();
  }

  static constexpr size_t kMaxCheckedShapes = 256;

  // The output's shape for this batch when every variable dimension is the leading batch axis.
  static bool OutputShape(const TensorInfo& info, int64_t batch, ov::Shape* out) {
    for (size_t d = 0; d < info.shape.size(); ++d) {
      int64_t n = info.shape[d];
      if (n < 0) {
        if (d != 0 || batch < 0) return false;
        n = batch;
      }
      out->push_back(static_cast<size_t>(n));
    }
    return true;
  }

  ov::CompiledModel compiled_;
  ov::InferRequest request_;
  std::shared_ptr<ov::Model> shape_model_;  // null: only the batch dimension varies
  std::set<std::vector<Shape>> checked_;
  std::vector<TensorInfo> inputs_, outputs_;
};

}  // namespace

bool HasVariableNonBatchDims(const std::vector<ov::Output<const ov::Node>>& ports) {
  for (const auto& port : ports) {
    const ov::PartialShape& ps = port.get_partial_shape();
    if (ps.rank().is_dynamic()) return true;
    for (size_t d = 1; d < ps.size(); ++d) {
      if (ps[d].is_dynamic()) return true;
    }
  }
  return false;
}

Status CreateOvModel(ov::CompiledModel compiled, const std::string& path,
                     const std::function<std::shared_ptr<ov::Model>()>& read_model,
                     std::unique_ptr<Model>* out) {
  std::shared_ptr<ov::Model> shape_model;
  if (HasVariableNonBatchDims(compiled.inputs())) shape_model = read_model();
  ov::InferRequest request = compiled.create_infer_request();
  auto model =
      std::make_unique<OvModel>(std::move(compiled), std::move(request), std::move(shape_model));
  Status s = model->Init();
  if (!s.ok()) return Status(s.code(), s.message() + " (in '" + path + "')");
  *out = std::move(model);
  return Status::OK();
}

}  // namespace optic::openvino

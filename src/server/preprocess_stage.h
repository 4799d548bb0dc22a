// JPEG-in models: a model config's `optic_preprocessing` block (optic's extension of Triton's
// config) turns the model's image input into a BYTES input of encoded images. Each instance owns
// an optic Preprocessor (CPU: libjpeg-turbo + thread pool; GPU: nvJPEG + CUDA kernel where built)
// that decodes a whole dynamic batch straight into the model's input batch.
//
// Ownership: the stage owns its Preprocessor; images borrow from the requests' BytesInputs.
// Threading: one stage per instance, used only by that instance's worker (Preprocessor::Run is not
// reentrant).
// Failure: config problems are kInvalidArgument at load, naming the field. An image that cannot be
// decoded fails only its own request (400 naming the input, element index and reason); the other
// requests of the batch run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "batcher.h"
#include "infer_request.h"
#include "model_config.h"
#include "optic/backend.h"
#include "optic/preprocess.h"

namespace optic::server {

struct ImagePreprocessing {
  PreprocessOptions options;
  Device device;
  IOSpec served;            // the BYTES input clients send (dims [1]: one image per row)
  std::string model_input;  // the model's image tensor it replaces
};

// Reads config.optic_preprocessing against the model's inputs (batch dimension included, as
// Model::inputs() reports them). The model must take exactly one input, the image.
Status ImagePreprocessingFromConfig(const inference::ModelConfig& config,
                                    const std::vector<TensorInfo>& model_inputs,
                                    ImagePreprocessing* out);

Status CreateImageStage(const ImagePreprocessing& p, std::unique_ptr<InputStage>* out);

}  // namespace optic::server

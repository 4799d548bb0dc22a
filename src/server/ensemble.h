// Ensembles (Triton's `platform: "ensemble"` with ensemble_scheduling): a fixed graph of steps,
// each a model of the repository, wired by input_map/output_map (keys: the step model's tensor
// names; values: the ensemble's tensor names). E.g. optic_preprocess -> classifier, or one
// preprocess step feeding several classifiers whose outputs an optic_average step averages.
//
// Each step is queued on its model's own dynamic batcher, so steps of concurrent ensemble
// requests are batched together (the JPEG decode too), and independent steps run at once on
// their models' instances. Intermediate tensors are shared views (no copies between steps).
//
// Ownership: an Ensemble is immutable after Create; Run keeps the request, its body and every
// intermediate tensor alive until `done`.
// Threading: Run may be called from any thread; `done` is called exactly once, on a batcher
// worker thread or the calling thread.
// Failure: Create checks the graph at load (step models loaded, every step input fed, each tensor
// produced once, types and dims agree, every output produced, no cycle). At run time the first
// failing step's Status, prefixed with the step, fails the request (a 400 from a corrupt JPEG
// stays a 400).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model_repository.h"

namespace optic::server {

struct EnsembleStep {
  std::string model;
  std::string version;  // empty: the latest loaded
  std::vector<std::pair<std::string, std::string>> inputs;   // (model input, ensemble tensor)
  std::vector<std::pair<std::string, std::string>> outputs;  // (model output, ensemble tensor)
};

class Ensemble {
 public:
  using Done = std::function<void(const Status& status, std::vector<Tensor> outputs)>;
  // `signature` is the ensemble's own (EnsembleSignature); step models are looked up in `repo`.
  static Status Create(const ModelRepository& repo, const inference::ModelConfig& config,
                       const ModelSignature& signature, std::shared_ptr<const Ensemble>* out);
  // Runs the graph for one request; outputs come back in signature order.
  void Run(std::shared_ptr<const ParsedInferRequest> request,
           std::shared_ptr<const void> keep_alive, Done done) const;
  const std::vector<EnsembleStep>& steps() const { return steps_; }

 private:
  struct RunState;
  void Launch(const std::shared_ptr<RunState>& state) const;
  void StepDone(const std::shared_ptr<RunState>& state, size_t step, const ServedModel* model,
                const Status& status, std::vector<Tensor> outputs) const;
  std::vector<EnsembleStep> steps_;
  ModelSignature signature_;
  const ModelRepository* repo_ = nullptr;
};

// The ensemble's served inputs and outputs from its config (input/output lists are required).
Status EnsembleSignature(const inference::ModelConfig& config, ModelSignature* out);

}  // namespace optic::server

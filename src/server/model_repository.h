// A Triton-style model repository: <repo>/<model>/config.pbtxt and <repo>/<model>/<version>/
// model.<ext>, and model files added one by one (AddModelFile: a repository held in memory, with
// or without a folder). Each loaded version gets its instances (through optic's backend registry,
// so any backend), a DynamicBatcher and statistics; it is warmed up before it is reported ready.
// A folder without config.pbtxt, or a model file, is served with its config completed from the
// model as Triton's auto-complete does: backend from the file's extension, inputs and outputs,
// batching (model_config.h, CompleteBatching), then Triton's defaults (FillConfigDefaults).
//
// Ownership: the repository owns the loaded models; Find hands out shared_ptrs so a request keeps
// its model alive across an unload (the unload drains the model's queue).
// Threading: every method may be called from any thread; Load and Unload are serialized.
// Failure: Load returns the reason (config parse error with line, missing, empty, corrupt file or a
// directory in its place, no backend for the file, backend error, config/model I/O mismatch) and
// keeps the reason for Index; a failed load leaves any previously loaded version serving.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "batcher.h"
#include "codec.h"
#include "model_config.h"

namespace optic::server {

class Ensemble;

struct ServedModel {
  std::string name;
  int64_t version = 0;
  std::string backend;
  std::string file;  // the model file the instances were loaded from; empty for built-ins
  inference::ModelConfig config;  // as parsed, completed from the model and with Triton's defaults
  std::vector<IOSpec> inputs, outputs;  // in the Model's order
  int max_batch_size = 0;
  ModelSignature signature;  // inputs, outputs and max_batch_size, for the codec
  std::shared_ptr<ModelStats> stats;
  std::unique_ptr<DynamicBatcher> batcher;  // null for an ensemble
  std::shared_ptr<const Ensemble> ensemble;  // platform "ensemble": its steps run on other models
  // Stops the batcher (draining it); nothing for an ensemble.
  void Shutdown() {
    if (batcher) batcher->Shutdown();
  }
};

struct RepositoryEntry {
  std::string name;
  std::string version;  // empty when not loaded
  std::string state;    // READY, UNAVAILABLE, LOADING
  std::string reason;
};

class ModelRepository {
 public:
  // `dir` empty: no folder, only the files given to AddModelFile.
  explicit ModelRepository(std::string dir);
  // Server-wide cap on decoded image size (width * height) for JPEG-in models, applied over each
  // config's optic_preprocessing.max_pixels; 0 = the configs' own limits. Set before LoadAll.
  void set_max_image_pixels(int64_t pixels) { max_image_pixels_ = pixels; }
  ~ModelRepository();  // unloads everything (drains)

  // Serves `file` as model `name`, version 1, config completed from the model (call before
  // LoadAll). kInvalidArgument for a bad or duplicate name, or one that is also a folder of `dir`.
  Status AddModelFile(const std::string& name, const std::string& file);
  // Loads every model folder (every subdirectory, with or without config.pbtxt) and every added
  // file; the first error is returned, every reason stays in Index(). A model file lying directly
  // in the repository is reported there too, not passed over.
  Status LoadAll();
  Status Load(const std::string& name);
  Status Unload(const std::string& name);
  // `version` empty: the highest loaded version. kNotFound names the model or version.
  Status Find(const std::string& name, const std::string& version,
              std::shared_ptr<ServedModel>* out) const;
  std::vector<std::shared_ptr<ServedModel>> Loaded() const;
  std::vector<RepositoryEntry> Index() const;
  // Stops every batcher (each drains what it queued) and drops the models.
  void UnloadAll();
  const std::string& dir() const { return dir_; }

 private:
  Status LoadVersion(const std::string& name, const inference::ModelConfig& config,
                     int64_t version, std::shared_ptr<ServedModel>* out);
  // The model file of a version and, where the config names no backend, the backend for it.
  Status ResolveModelFile(const std::string& name, int64_t version,
                          const inference::ModelConfig& config, std::string* backend,
                          std::string* file) const;
  std::vector<std::string> ModelNames() const;  // folders of dir_ and added files, sorted
  std::string dir_;
  int64_t max_image_pixels_ = 0;
  std::mutex load_mu_;  // serializes Load/Unload
  mutable std::mutex mu_;
  std::map<std::string, std::map<int64_t, std::shared_ptr<ServedModel>>> models_;
  std::map<std::string, std::string> failures_;
  std::map<std::string, std::string> files_;  // AddModelFile: name -> file
};

// BatcherOptions from a config (max_batch_size, dynamic_batching, queue policies).
Status BatcherOptionsFromConfig(const inference::ModelConfig& config, BatcherOptions* out);

}  // namespace optic::server

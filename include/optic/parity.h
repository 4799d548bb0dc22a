// Cross-framework parity: the same seeded input through every backend and precision, compared
// with a reference (the first real backend in registry order, at fp32).
// Thread safety: RunParity loads and runs models on the calling thread only.
#pragma once

#include <string>
#include <vector>

#include "optic/backend.h"
#include "optic/zoo.h"

namespace optic {

// What a row at `precision` must meet to pass (docs/architecture.md, "Parity", gives the reasons
// and the measurements behind each number). fp32 is judged on rel_l2 alone; the reduced
// precisions (tf32, fp16, bf16, int8) on the centred cosine and top-k agreement, with a loose
// rel_l2 bound that catches what those ignore (a wrong scale). A limit of 0 is not judged.
struct ParityLimits {
  double max_rel_l2 = 0;   // ||out - ref|| / ||ref||
  double min_cosine = 0;   // Agreement::cosine
  double min_top1 = 0;     // Agreement::top1, class-score outputs only
  double min_top5 = 0;     // Agreement::top5, class-score outputs only
};
ParityLimits ParityLimitsFor(Precision precision);

// The rel_l2 bound of ParityLimitsFor (tests that compare two runs of one precision use it).
double ParityTolerance(Precision precision);

// How far a candidate's outputs are from the reference's over a batch of samples (axis 0), next
// to CompareTensors' max_abs, max_rel and rel_l2 (MeasureAgreement fills both):
// - cosine: cosine similarity of out - m and ref - m, where m is the reference's mean over the
//   batch (per output element). Centring removes what every input shares: the zoo's random
//   weights give outputs that are mostly one input-independent vector, whose plain cosine is
//   near 1 even for a shuffled batch. Plain cosine when the batch has one sample or the
//   reference does not vary across it.
// - top1, top5 (only for class scores: a 2-D [batch >= 2, classes >= 10] output): the share of
//   samples whose reference top-1 class is the candidate's top-1 (top1) or among the candidate's
//   top 5 (top5), both ranked on the centred scores for the reason above (on a trained network
//   centring barely moves the top class).
// - integer outputs (int8, uint8, int32, int64: labels, indices, counts) are compared element by
//   element for equality, never through the float measures (their TensorDiff stays zero):
//   int_elements counts the elements compared, int_mismatches those that differ.
struct Agreement {
  double cosine = 1;
  bool class_scores = false;  // top1/top5 are measured
  double top1 = 1, top5 = 1;
  int64_t samples = 0;
  int64_t int_elements = 0, int_mismatches = 0;
};
Status MeasureAgreement(const Tensor& out, const Tensor& ref, TensorDiff* diff,
                        Agreement* agreement);
// Several outputs of one model: the worst of each measure (non-finite elements add up).
void MergeWorst(const TensorDiff& next_diff, const Agreement& next, TensorDiff* worst_diff,
                Agreement* worst);

// Empty when the measures meet ParityLimitsFor(precision); otherwise why not, e.g.
// "bf16: top-1 agreement 0.41 < 0.6" (every failed limit, separated by "; "). Integer outputs
// must be equal everywhere where the precision sets no top-1 limit (fp32); elsewhere the share of
// equal elements must meet that limit.
std::string ParityFailure(Precision precision, const TensorDiff& diff, const Agreement& a);

// Rows of the check input: enough that one disagreeing sample moves top-1 agreement by 3%.
inline constexpr int kParitySamples = 32;

struct ParityOptions {
  std::vector<std::string> backends;     // empty: every non-synthetic backend compiled in
  std::vector<Precision> precisions;     // empty: every precision each backend supports here
  std::string reference;                 // empty: the first backend of the list that loads
  int samples = kParitySamples;          // rows of the check input (MakeCheckInput)
  int batch_size = 2;                    // rows per Execute; the samples run in batches of it
  int threads = 0;
  uint64_t seed = 1;
  Device device;
  std::vector<int64_t> labels;  // the class of each sample (--images with --labels); empty: none
};

struct ParityRow {
  std::string backend;
  Precision precision = Precision::kFP32;
  std::string file;
  bool ran = false;        // loaded and executed; otherwise `error` says why
  bool reference = false;
  std::string error;
  TensorDiff diff;
  Agreement agreement;
  double tolerance = 0;    // limits.max_rel_l2
  ParityLimits limits;
  bool pass = false;       // ran and within `limits`, no NaN; otherwise `failure` says why
  std::string failure;
  double load_s = 0;
  double run_ms = 0;
  // With ParityOptions::labels: top-1/top-5 accuracy of the first output; -1 otherwise.
  double top1_accuracy = -1, top5_accuracy = -1;
};

// Fails only for problems outside the rows (unknown model, no reference could run); a backend
// that fails to load or run gives a row with ran=false and its reason.
Status RunParity(const Zoo& zoo, const std::string& model, const ParityOptions& options,
                 std::vector<ParityRow>* rows);
// Same for a model file or zoo model (optic/model_source.h; `zoo` may be null for a file), its
// inputs made concrete by `values` (--shape, --input-range); every output is compared with the
// reference's and a row records the worst of each measure.
struct ModelDescription;
struct InputSettings;
Status RunParity(const Zoo* zoo, const ModelDescription& model, const InputSettings& values,
                 const ParityOptions& options, std::vector<ParityRow>* rows);

// A deterministic input batch for `info` (batch dimension replaced by `batch`), values in [-2, 2)
// like a normalized image, from `seed`. Independent uniform values: cheap, right for timing.
Status MakeInput(const TensorInfo& info, int64_t batch, uint64_t seed, Tensor* out);

// The input parity compares on: for an image input (4-D, 1 or 3 channels, NCHW or NHWC) smooth
// random images, each channel a sum of a few plane waves (up to 8 cycles across the image) plus
// mild pixel noise, scaled to unit variance and clipped to [-2.5, 2.5] like a normalized photo;
// other inputs as MakeInput. Independent pixel noise makes every sample the same image to a
// network (its outputs differ by ~1% between samples), so agreement on it means little.
Status MakeCheckInput(const TensorInfo& info, int64_t samples, uint64_t seed, Tensor* out);

}  // namespace optic

// optic preprocess DIR|FILES --size 224: decodes and preprocesses every file with optic's CPU (or
// GPU) path and reports each image that fails and why. Exit 1 when any image failed, 2 on bad
// usage. --repeat N times the batches (per-image medians) for benchmarks; --json prints a summary.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "measure/stats.h"
#include "optic/preprocess.h"

namespace optic::cli {

namespace {

namespace fs = std::filesystem;

struct Flags {
  std::vector<std::string> paths;
  int size = 224, resize = -1, threads = 0, batch = 64, repeat = 0;
  int64_t max_pixels = PreprocessOptions{}.max_pixels;
  std::string filter = "antialias", dtype = "fp32", layout = "nchw", device = "cpu";
  bool no_dct_scaling = false, json = false;
};

Status ListFiles(const std::vector<std::string>& paths, std::vector<std::string>* files) {
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(p, ec)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && !name.empty() && name[0] != '.') found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      files->insert(files->end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files->push_back(p);
    } else {
      return Status::NotFound("no such file or directory: " + p);
    }
  }
  return Status::OK();
}

Status MakeOptions(const Flags& f, PreprocessOptions* o) {
  o->crop_width = o->crop_height = f.size;
  // torchvision's ImageNet convention: Resize(256) before CenterCrop(224), kept for other sizes.
  o->resize_shorter = f.resize >= 0 ? f.resize : static_cast<int>(std::lround(f.size * 256.0 / 224.0));
  o->threads = f.threads;
  o->max_pixels = f.max_pixels;
  o->dct_scaling = !f.no_dct_scaling;
  OPTIC_RETURN_IF_ERROR(ParseResizeFilter(f.filter, &o->filter));
  OPTIC_RETURN_IF_ERROR(ParseDType(f.dtype, &o->dtype));
  if (f.layout == "nchw") o->layout = Layout::kNCHW;
  else if (f.layout == "nhwc") o->layout = Layout::kNHWC;
  else return Status::InvalidArgument("--layout must be nchw or nhwc");
  return ValidatePreprocessOptions(*o);
}

int Run(const Flags& f) {
  PreprocessOptions o;
  Device device;
  std::vector<std::string> files;
  Status s = MakeOptions(f, &o);
  if (s.ok()) s = ParseDevice(f.device, &device);
  if (s.ok()) s = ListFiles(f.paths, &files);
  std::unique_ptr<Preprocessor> pre;
  if (s.ok()) s = CreatePreprocessor(o, device, &pre);
  if (!s.ok()) {
    std::cerr << "optic preprocess: " << s.ToString() << "\n";
    return 2;
  }
  // All bytes are read before timing starts, so --repeat measures decode + preprocess only.
  std::vector<std::vector<uint8_t>> bytes(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    std::ifstream in(files[i], std::ios::binary);
    bytes[i].assign(std::istreambuf_iterator<char>(in), {});
  }
  int failed = 0, warned = 0;
  std::vector<double> per_image_ms;
  PreprocessTimings total;
  for (size_t b0 = 0; b0 < files.size(); b0 += f.batch) {
    const size_t n = std::min(files.size() - b0, static_cast<size_t>(f.batch));
    std::vector<ImageInput> in;
    for (size_t i = b0; i < b0 + n; ++i) in.push_back({files[i], bytes[i].data(), bytes[i].size()});
    Tensor batch;
    s = pre->AllocateBatch(static_cast<int64_t>(n), &batch);
    if (!s.ok()) {
      std::cerr << "optic preprocess: " << s.ToString() << "\n";
      return 2;
    }
    std::vector<ImageResult> res;
    for (int r = 0; r <= f.repeat; ++r) {  // run 0 checks; runs 1..repeat are timed
      s = pre->Run(in, &batch, &res);
      if (!s.ok()) {
        std::cerr << "optic preprocess: " << s.ToString() << "\n";
        return 2;
      }
      if (r > 0 || f.repeat == 0) {
        const auto& t = pre->last_timings();
        per_image_ms.push_back(t.wall_ms / n);
        total.decode_ms += t.decode_ms;
        total.resize_ms += t.resize_ms;
        total.wall_ms += t.wall_ms;
      }
    }
    for (size_t i = 0; i < res.size(); ++i) {
      const ImageResult& r = res[i];
      if (!r.status.ok()) {
        ++failed;
        if (!f.json) std::printf("FAIL %s\n", r.status.message().c_str());
      } else if (!r.warning.empty()) {
        ++warned;  // damaged but decoded to a full image: used, as PIL and torchvision do
        if (!f.json) std::printf("WARN image '%s': %s\n", in[i].name.c_str(), r.warning.c_str());
      }
    }
  }
  const double runs = std::max(1, f.repeat);
  if (f.json) {
    nlohmann::json j = {{"images", files.size()}, {"failed", failed}, {"warnings", warned}, {"threads", pre ? f.threads : 0},
                        {"size", f.size}, {"resize", o.resize_shorter}, {"filter", f.filter},
                        {"dtype", f.dtype}, {"repeat", f.repeat},
                        {"median_batch_ms_per_image", measure::Median(per_image_ms)},
                        {"decode_ms_per_image", total.decode_ms / runs / std::max<size_t>(1, files.size())},
                        {"resize_ms_per_image", total.resize_ms / runs / std::max<size_t>(1, files.size())},
                        {"wall_ms", total.wall_ms / runs}};
    std::cout << j.dump() << "\n";
  } else {
    std::printf("%zu images, %d failed, %d decoded with warnings; decode %.2f ms, resize+normalize %.2f ms (CPU time), wall %.2f ms%s\n",
                files.size(), failed, warned, total.decode_ms / runs, total.resize_ms / runs,
                total.wall_ms / runs, f.repeat ? " (mean of repeats)" : "");
  }
  return failed ? 1 : 0;
}

void AddPreprocessCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("preprocess", "Decode and preprocess images; report each failure");
  auto f = std::make_shared<Flags>();
  cmd->add_option("paths", f->paths, "image files or directories")->required();
  cmd->add_option("--size", f->size, "center-crop size (square)")->check(CLI::Range(1, 16384));
  cmd->add_option("--resize", f->resize, "shorter side before the crop (default size*256/224; 0 = straight to size)");
  cmd->add_option("--threads", f->threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-pixels", f->max_pixels, "reject images with more pixels (decompression bombs)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--filter", f->filter, "bilinear, antialias or area");
  cmd->add_option("--dtype", f->dtype, "fp32 or fp16");
  cmd->add_option("--layout", f->layout, "nchw or nhwc");
  cmd->add_option("--device", f->device, "cpu or cuda[:N] (GPU path when built with CUDA)");
  cmd->add_option("--batch", f->batch, "images per batch")->check(CLI::Range(1, 4096));
  cmd->add_option("--repeat", f->repeat, "time each batch this many times (benchmarks)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-dct-scaling", f->no_dct_scaling, "always decode at full size");
  cmd->add_flag("--json", f->json, "print a JSON summary instead of text");
  cmd->callback([&ctx, f] { ctx.exit_code = Run(*f); });
}

const CommandRegistrar kRegistrar("preprocess", AddPreprocessCommand);

}  // namespace

}  // namespace optic::cli

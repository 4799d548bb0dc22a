#include "pipeline/runner.h"

#include <chrono>
#include <cmath>
#include <unordered_map>

namespace optic::pipeline {
namespace {

struct FrameState {
  int64_t start_ns = 0, enqueue_ns = 0;
  int objects = 0;
  std::vector<bool> got;
  int received = 0;
  Result last;  // timestamps of the result that completed it
};

class Driver {
 public:
  Driver(const CellSettings& s, Detector* d, int crop_size, Transport* t, CellResult* out)
      : s_(s), detector_(d), crop_size_(crop_size), transport_(t), out_(out) {}

  Status Init() {
    reconnects_seen_ = transport_->reconnects();
    for (int i = 0; i < s_.frame_pool; ++i) {
      Tensor f;
      OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, {1, 3, detector_->height(), detector_->width()}, &f));
      OPTIC_RETURN_IF_ERROR(FillUniform(&f, s_.seed * 1000003ULL + static_cast<uint64_t>(i), -1.0f, 1.0f));
      pool_.push_back(f);
    }
    return Status::OK();
  }

  // Runs frames with `inflight` in flight until `frames` have been started (frames > 0) or
  // `duration_s` has passed; waits for the stragglers. Completions land in *phase.
  Status Phase(int inflight, int64_t frames, double duration_s, PhaseResult* phase, bool keep) {
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    int64_t started = 0;
    double batch_sum = 0;
    int64_t batch_n = 0;
    phase_ = phase;
    keep_ = keep;
    auto more = [&] { return frames > 0 ? started < frames : elapsed() < duration_s; };
    while (more() || !open_.empty()) {
      while (more() && static_cast<int>(open_.size()) < inflight) {
        OPTIC_RETURN_IF_ERROR(StartFrame());
        ++started;
      }
      if (open_.empty()) continue;
      std::vector<Result> results;
      const auto wait_start = std::chrono::steady_clock::now();
      for (;;) {
        OPTIC_RETURN_IF_ERROR(transport_->Receive(50, &results));
        if (!results.empty()) break;
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - wait_start).count() > s_.timeout_s) {
          return Status::Unavailable(transport_->name() + ": no stage-2 result for " + std::to_string(s_.timeout_s) +
                                     " s with " + std::to_string(open_.size()) +
                                     " frames in flight (is a stage-2 worker running on this broker?)");
        }
        if (s_.resend_s > 0 && transport_->reconnects() > reconnects_seen_ &&
            std::chrono::duration<double>(now - wait_start).count() > s_.resend_s) {
          reconnects_seen_ = transport_->reconnects();
          OPTIC_RETURN_IF_ERROR(ResendOpen());
        }
      }
      for (Result& r : results) {
        batch_sum += r.batch;
        ++batch_n;
        Accept(std::move(r));
      }
    }
    phase->wall_s = elapsed();
    phase->batch_mean = batch_n ? batch_sum / static_cast<double>(batch_n) : 0;
    return Status::OK();
  }

 private:
  // Stage 1 of frame `id`: the same crops every time it runs (seeded frames and boxes).
  Status MakeCrops(int64_t id, std::vector<Crop>* crops) {
    const Tensor& frame = pool_[static_cast<size_t>(id % s_.frame_pool)];
    std::vector<Box> boxes;
    OPTIC_RETURN_IF_ERROR(detector_->Detect(frame, &boxes));
    if (s_.boxes == BoxSource::kSynthetic) {
      boxes = SyntheticBoxes(s_.objects, detector_->width(), detector_->height(),
                             s_.seed + static_cast<uint64_t>(id % s_.frame_pool));
    }
    crops->assign(boxes.size(), Crop());
    for (size_t i = 0; i < boxes.size(); ++i) {
      Crop& c = (*crops)[i];
      OPTIC_RETURN_IF_ERROR(CropResize(frame, boxes[i], crop_size_, &c.pixels));
      c.frame = id;
      c.object = static_cast<int32_t>(i);
      c.objects = static_cast<int32_t>(boxes.size());
    }
    return Status::OK();
  }

  // Sends again the crops of open frames whose results have not arrived (a broker that lost
  // messages in a crash); results that arrive twice are dropped by key.
  Status ResendOpen() {
    for (auto& [id, st] : open_) {
      std::vector<Crop> crops, missing;
      OPTIC_RETURN_IF_ERROR(MakeCrops(id, &crops));
      for (Crop& c : crops) {
        if (c.object < st.objects && !st.got[c.object]) {
          c.enqueue_ns = st.enqueue_ns;
          missing.push_back(std::move(c));
        }
      }
      out_->resent += static_cast<int64_t>(missing.size());
      if (!missing.empty()) OPTIC_RETURN_IF_ERROR(transport_->Send(std::move(missing)));
    }
    return Status::OK();
  }

  Status StartFrame() {
    const int64_t id = next_id_++;
    FrameState st;
    st.start_ns = NowNs();
    std::vector<Crop> crops;
    OPTIC_RETURN_IF_ERROR(MakeCrops(id, &crops));
    st.objects = static_cast<int>(crops.size());
    st.got.assign(crops.size(), false);
    st.enqueue_ns = NowNs();
    for (Crop& c : crops) c.enqueue_ns = st.enqueue_ns;
    if (crops.empty()) {  // nothing for stage 2: done after stage 1
      st.last.dequeue_ns = st.last.stage2_end_ns = st.enqueue_ns;
      Finish(st, st.enqueue_ns);
      return Status::OK();
    }
    open_.emplace(id, std::move(st));
    return transport_->Send(std::move(crops));
  }

  void Accept(Result r) {
    ++out_->workers[r.worker];
    auto it = open_.find(r.frame);
    if (it == open_.end() || r.object < 0 || r.object >= it->second.objects || it->second.got[r.object]) {
      ++out_->duplicates;  // a redelivery: the first result for this key was kept
      return;
    }
    FrameState& st = it->second;
    st.got[r.object] = true;
    ++st.received;
    if (keep_) out_->embeddings[{r.frame, r.object}] = r.embedding;
    st.last = std::move(r);
    if (st.received == st.objects) {
      Finish(st, NowNs());
      open_.erase(it);
    }
  }

  void Finish(const FrameState& st, int64_t done_ns) {
    auto ms = [](int64_t a, int64_t b) { return std::max<int64_t>(0, b - a) / 1e6; };
    FrameTiming t;
    t.stage1_ms = ms(st.start_ns, st.enqueue_ns);
    t.broker_ms = ms(st.enqueue_ns, st.last.dequeue_ns);
    t.stage2_ms = ms(st.last.dequeue_ns, st.last.stage2_end_ns);
    t.gather_ms = ms(st.last.stage2_end_ns, done_ns);
    t.total_ms = t.stage1_ms + t.broker_ms + t.stage2_ms + t.gather_ms;
    phase_->timings.push_back(t);
    ++phase_->frames;
    phase_->objects += st.objects;
    if (s_.on_frame) s_.on_frame(phase_->frames);
  }

  const CellSettings& s_;
  Detector* detector_;
  int crop_size_;
  Transport* transport_;
  CellResult* out_;
  std::vector<Tensor> pool_;
  std::unordered_map<int64_t, FrameState> open_;
  int64_t next_id_ = 0;
  int64_t reconnects_seen_ = 0;
  PhaseResult* phase_ = nullptr;
  bool keep_ = false;
};

}  // namespace

Status RunCell(const CellSettings& s, Detector* detector, int crop_size, Transport* transport, CellResult* out) {
  if (s.objects < 0 || s.inflight < 1 || s.frame_pool < 1) {
    return Status::InvalidArgument("pipeline: objects must be >= 0, inflight and frame_pool >= 1");
  }
  *out = CellResult();
  Driver d(s, detector, crop_size, transport, out);
  OPTIC_RETURN_IF_ERROR(d.Init());
  PhaseResult warm;
  OPTIC_RETURN_IF_ERROR(d.Phase(1, s.warmup_frames, 0, &warm, false));
  OPTIC_RETURN_IF_ERROR(d.Phase(1, s.latency_frames, 0, &out->zero_load, s.keep_embeddings));
  if (s.duration_s > 0) OPTIC_RETURN_IF_ERROR(d.Phase(s.inflight, 0, s.duration_s, &out->loaded, false));
  out->bad_results = transport->bad_results();
  const PhaseResult& z = out->zero_load;
  out->objects_per_frame = z.frames ? static_cast<int>(std::lround(static_cast<double>(z.objects) / z.frames)) : 0;
  return Status::OK();
}

measure::Summary Summarize(const std::vector<FrameTiming>& t, double FrameTiming::*field) {
  std::vector<double> v;
  v.reserve(t.size());
  for (const FrameTiming& f : t) v.push_back(f.*field);
  return measure::Summarize(v);
}

}  // namespace optic::pipeline

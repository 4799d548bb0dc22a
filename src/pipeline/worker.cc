#include "pipeline/worker.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "pipeline/redis_client.h"
#include "pipeline/stages.h"

namespace optic::pipeline {
namespace {

struct Batch {
  std::vector<std::string> ids;  // every entry read, good or bad: all are acknowledged
  std::vector<Crop> crops;
};

class Worker {
 public:
  Worker(const WorkerSettings& s, std::unique_ptr<RedisClient> redis, std::unique_ptr<Embedder> embedder,
         WorkerStats* stats)
      : s_(s), redis_(std::move(redis)), embedder_(std::move(embedder)), stats_(stats) {}

  // Reads the next entries: crops pending too long on any consumer first, then new ones.
  Status Read(Batch* batch) {
    std::vector<StreamEntry> entries;
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_claim_) {
      next_claim_ = now + std::chrono::milliseconds(std::max(50, s_.claim_idle_ms / 2));
      RedisValue reply;
      OPTIC_RETURN_IF_ERROR(redis_->Command({"XAUTOCLAIM", s_.names.crops(), s_.names.group(), s_.consumer,
                                             std::to_string(s_.claim_idle_ms), "0-0", "COUNT",
                                             std::to_string(s_.max_batch)}, &reply));
      if (reply.type == RedisValue::Type::kArray && reply.elements.size() >= 2) {
        OPTIC_RETURN_IF_ERROR(ParseEntries(reply.elements[1], &entries));
      }
      stats_->claimed += static_cast<int64_t>(entries.size());
    }
    if (entries.empty()) {
      RedisValue reply;
      OPTIC_RETURN_IF_ERROR(redis_->Command({"XREADGROUP", "GROUP", s_.names.group(), s_.consumer, "COUNT",
                                             std::to_string(s_.max_batch), "BLOCK", std::to_string(s_.block_ms),
                                             "STREAMS", s_.names.crops(), ">"}, &reply));
      OPTIC_RETURN_IF_ERROR(ParseReadReply(reply, &entries));
    }
    const std::string reply_prefix = s_.names.prefix + ":results:";
    for (StreamEntry& e : entries) {
      batch->ids.push_back(e.id);
      Crop c;
      Status st = DecodeCrop(e.fields, embedder_->crop_shape(), &c);
      if (st.ok() && c.reply.rfind(reply_prefix, 0) != 0) {
        st = Status::InvalidArgument("field 'reply' = '" + c.reply.substr(0, 60) + "' is not a stream under '" +
                                     reply_prefix + "'");
      }
      if (!st.ok()) {
        OPTIC_RETURN_IF_ERROR(DeadLetter(e.id, st.message()));
        continue;
      }
      batch->crops.push_back(std::move(c));
    }
    return Status::OK();
  }

  Status DeadLetter(const std::string& id, const std::string& reason) {
    ++stats_->dead_letters;
    std::fprintf(stderr, "optic pipeline worker %s: dead-lettered %s on %s: %s\n", s_.consumer.c_str(), id.c_str(),
                 s_.names.crops().c_str(), reason.c_str());
    return redis_->Command({"XADD", s_.names.dead(), "*", "id", id, "stream", s_.names.crops(), "consumer",
                            s_.consumer, "reason", reason});
  }

  Status Process(Batch& batch) {
    if (!batch.crops.empty()) {
      const int64_t deq = NowNs();
      std::vector<const Tensor*> pixels;
      for (const Crop& c : batch.crops) pixels.push_back(&c.pixels);
      std::vector<std::vector<float>> emb;
      Status st = embedder_->Embed(pixels, &emb);
      if (!st.ok()) return st.Prefixed("stage 2");  // a model failure is the worker's, not the message's
      const int64_t end = NowNs();
      std::vector<std::vector<std::string>> cmds;
      for (size_t i = 0; i < batch.crops.size(); ++i) {
        const Crop& c = batch.crops[i];
        Result r{c.frame, c.object, c.enqueue_ns, deq, end, static_cast<int32_t>(batch.crops.size()),
                 s_.consumer, std::move(emb[i])};
        std::vector<std::string> args = {"XADD", c.reply, "*"};
        for (auto& [k, v] : EncodeResult(r)) {
          args.push_back(k);
          args.push_back(std::move(v));
        }
        cmds.push_back(std::move(args));
      }
      AppendAckAndDelete(batch.ids, &cmds);
      OPTIC_RETURN_IF_ERROR(redis_->Pipeline(cmds));
      stats_->crops += static_cast<int64_t>(batch.crops.size());
      ++stats_->batches;
      return Status::OK();
    }
    if (batch.ids.empty()) return Status::OK();
    std::vector<std::vector<std::string>> cmds;
    AppendAckAndDelete(batch.ids, &cmds);
    return redis_->Pipeline(cmds);
  }

 private:
  // The results, the acknowledgement and the deletion of their crops go out in one pipelined
  // write, so a crop whose result is on its reply stream is already leaving the crops stream (no
  // window in which a stopped worker leaves answered crops queued), in one round trip.
  void AppendAckAndDelete(const std::vector<std::string>& ids,
                          std::vector<std::vector<std::string>>* cmds) const {
    if (ids.empty()) return;
    std::vector<std::string> ack = {"XACK", s_.names.crops(), s_.names.group()};
    std::vector<std::string> del = {"XDEL", s_.names.crops()};
    ack.insert(ack.end(), ids.begin(), ids.end());
    del.insert(del.end(), ids.begin(), ids.end());
    cmds->push_back(std::move(ack));
    cmds->push_back(std::move(del));
  }

  const WorkerSettings& s_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<Embedder> embedder_;
  WorkerStats* stats_;
  std::chrono::steady_clock::time_point next_claim_{};
};

}  // namespace

Status RunWorker(const WorkerSettings& in, const std::atomic<bool>* stop, WorkerStats* stats) {
  WorkerSettings s = in;
  if (s.consumer.empty()) s.consumer = "worker-" + std::to_string(getpid());
  if (s.max_batch < 1) return Status::InvalidArgument("--max-batch must be >= 1");
  std::unique_ptr<Embedder> embedder;
  OPTIC_RETURN_IF_ERROR(Embedder::Create(s.backend, s.embedder_file, s.load, &embedder));
  std::unique_ptr<RedisClient> redis;
  OPTIC_RETURN_IF_ERROR(RedisClient::Connect(s.broker, 2000, &redis));
  OPTIC_RETURN_IF_ERROR(EnsureGroup(redis.get(), s.names));
  Worker worker(s, std::move(redis), std::move(embedder), stats);
  auto last_work = std::chrono::steady_clock::now();
  while (stop == nullptr || !stop->load()) {
    Batch batch;
    OPTIC_RETURN_IF_ERROR(worker.Read(&batch));
    OPTIC_RETURN_IF_ERROR(worker.Process(batch));
    const auto now = std::chrono::steady_clock::now();
    if (!batch.ids.empty()) {
      last_work = now;
    } else if (s.exit_idle_s > 0 && std::chrono::duration<double>(now - last_work).count() >= s.exit_idle_s) {
      break;
    }
  }
  return Status::OK();
}

}  // namespace optic::pipeline

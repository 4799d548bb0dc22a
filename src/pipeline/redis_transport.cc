// The Redis Streams transport, driver side: XADD crops, XREAD the run's reply stream.
#include <cstdio>

#include "pipeline/redis_client.h"
#include "pipeline/transport.h"

namespace optic::pipeline {

Status EnsureGroup(RedisClient* redis, const StreamNames& names) {
  // Id 0: a group made after crops were added still delivers them.
  Status s = redis->Command({"XGROUP", "CREATE", names.crops(), names.group(), "0", "MKSTREAM"});
  if (!s.ok() && s.message().find("BUSYGROUP") == std::string::npos) return s;
  return Status::OK();
}

namespace {

class RedisTransport : public Transport {
 public:
  RedisTransport(std::unique_ptr<RedisClient> redis, StreamNames names, std::string reply)
      : redis_(std::move(redis)), names_(std::move(names)), reply_(std::move(reply)) {}
  ~RedisTransport() override { (void)redis_->Command({"DEL", reply_}); }
  std::string name() const override { return "redis"; }
  int64_t bad_results() const override { return bad_; }
  int64_t reconnects() const override { return redis_->reconnects(); }

  Status Send(std::vector<Crop> crops) override {
    std::vector<std::vector<std::string>> cmds;
    cmds.reserve(crops.size());
    for (Crop& c : crops) {
      c.reply = reply_;
      std::vector<std::string> args = {"XADD", names_.crops(), "*"};
      for (auto& [k, v] : EncodeCrop(c)) {
        args.push_back(k);
        args.push_back(std::move(v));
      }
      cmds.push_back(std::move(args));
    }
    return redis_->Pipeline(cmds);
  }

  Status Receive(int timeout_ms, std::vector<Result>* out) override {
    RedisValue reply;
    OPTIC_RETURN_IF_ERROR(redis_->Command({"XREAD", "COUNT", "1024", "BLOCK", std::to_string(timeout_ms),
                                           "STREAMS", reply_, last_id_}, &reply));
    std::vector<StreamEntry> entries;
    OPTIC_RETURN_IF_ERROR(ParseReadReply(reply, &entries));
    if (entries.empty()) return Status::OK();
    std::vector<std::string> del = {"XDEL", reply_};
    for (const StreamEntry& e : entries) {
      last_id_ = e.id;
      del.push_back(e.id);
      Result r;
      Status s = DecodeResult(e.fields, &r);
      if (!s.ok()) {
        ++bad_;
        std::fprintf(stderr, "optic pipeline: skipped result %s on %s: %s\n", e.id.c_str(), reply_.c_str(),
                     s.message().c_str());
        continue;
      }
      out->push_back(std::move(r));
    }
    return redis_->Command(del);
  }

 private:
  std::unique_ptr<RedisClient> redis_;
  StreamNames names_;
  std::string reply_;
  std::string last_id_ = "0";
  int64_t bad_ = 0;
};

}  // namespace

Status CreateRedisTransport(const std::string& url, const StreamNames& names, const std::string& run,
                            std::unique_ptr<Transport>* out) {
  std::unique_ptr<RedisClient> redis;
  OPTIC_RETURN_IF_ERROR(RedisClient::Connect(url, 2000, &redis));
  OPTIC_RETURN_IF_ERROR(EnsureGroup(redis.get(), names));
  const std::string reply = names.results(run);
  OPTIC_RETURN_IF_ERROR(redis->Command({"DEL", reply}));
  *out = std::make_unique<RedisTransport>(std::move(redis), names, reply);
  return Status::OK();
}

}  // namespace optic::pipeline

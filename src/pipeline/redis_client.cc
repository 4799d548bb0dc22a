#include "pipeline/redis_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

namespace optic::pipeline {

Status ParseRedisUrl(const std::string& url, std::string* host, int* port) {
  const std::string scheme = "redis://";
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--broker '" + url + "': " + why +
                                   " (expected redis://host:port, e.g. redis://127.0.0.1:6379)");
  };
  if (url.rfind(scheme, 0) != 0) return bad("not a redis:// address");
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("no host:port");
  *host = rest.substr(0, colon);
  const std::string p = rest.substr(colon + 1);
  int value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value < 1 || value > 65535) {
    return bad("port '" + p + "' is not a number in 1..65535");
  }
  *port = value;
  return Status::OK();
}

namespace {

RedisValue Convert(const redisReply* r) {
  RedisValue v;
  if (r == nullptr) return v;
  switch (r->type) {
    case REDIS_REPLY_STRING: v.type = RedisValue::Type::kString; v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: v.type = RedisValue::Type::kStatus; v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ERROR: v.type = RedisValue::Type::kError; v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_INTEGER: v.type = RedisValue::Type::kInteger; v.integer = r->integer; break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      v.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(Convert(r->element[i]));
      break;
    default: break;  // nil
  }
  return v;
}

std::string Name(const std::vector<std::string>& args) { return args.empty() ? "?" : args[0]; }

}  // namespace

RedisClient::~RedisClient() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

Status RedisClient::Open() {
  if (ctx_ != nullptr) redisFree(ctx_);
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (ctx_ == nullptr || ctx_->err) {
    const std::string why = ctx_ ? ctx_->errstr : "out of memory";
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
    return Status::Unavailable("cannot reach the Redis broker at " + url_ + ": " + why +
                               " (start one with scripts/brokers/redis.sh start, or pass --broker)");
  }
  return Status::OK();
}

Status RedisClient::Connect(const std::string& url, int timeout_ms, std::unique_ptr<RedisClient>* out) {
  std::unique_ptr<RedisClient> c(new RedisClient());
  OPTIC_RETURN_IF_ERROR(ParseRedisUrl(url, &c->host_, &c->port_));
  c->url_ = url;
  c->timeout_ms_ = timeout_ms;
  OPTIC_RETURN_IF_ERROR(c->Open());
  RedisValue pong;
  const double reconnect = c->reconnect_s_;
  c->reconnect_s_ = 0;  // a broker that is not there at the start is an error at once
  OPTIC_RETURN_IF_ERROR(c->Command({"PING"}, &pong));
  c->reconnect_s_ = reconnect;
  *out = std::move(c);
  return Status::OK();
}

Status RedisClient::Check(const std::string& what) {
  return Status::Unavailable("Redis broker at " + url_ + ": " + what + ": " +
                             (ctx_ != nullptr && ctx_->err ? ctx_->errstr : "no reply"));
}

Status RedisClient::Reconnect(const std::string& what) {
  const Status lost = Check(what);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(reconnect_s_);
  int backoff_ms = 50;
  Status last = lost;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(1000, backoff_ms * 2);
    last = Open();
    if (!last.ok()) continue;
    // A server still loading its append-only file answers LOADING: wait for it like for a refusal.
    auto* r = static_cast<redisReply*>(redisCommand(ctx_, "PING"));
    const bool ready = r != nullptr && r->type != REDIS_REPLY_ERROR;
    if (r != nullptr) freeReplyObject(r);
    if (ready) {
      ++reconnects_;
      return Status::OK();
    }
    last = Status::Unavailable("Redis broker at " + url_ + " is not ready yet");
  }
  if (reconnect_s_ <= 0) return lost;
  return Status::Unavailable(lost.message() + "; no connection again within " + std::to_string(reconnect_s_) +
                             " s (last: " + last.message() + ")");
}

// attempt(&lost) runs the command once; *lost says the connection broke (send it again after
// reconnecting) rather than the command failing.
template <class Attempt>
Status RedisClient::WithReconnect(const std::string& what, Attempt attempt) {
  for (;;) {
    bool lost = false;
    Status s = ctx_ == nullptr ? (lost = true, Check(what)) : attempt(&lost);
    if (!lost) return s;
    OPTIC_RETURN_IF_ERROR(Reconnect(what));
  }
}

Status RedisClient::Command(const std::vector<std::string>& args, RedisValue* reply) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) { argv.push_back(a.data()); lens.push_back(a.size()); }
  return WithReconnect(Name(args), [&](bool* lost) {
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (r == nullptr) {
      *lost = true;
      return Check(Name(args));
    }
    RedisValue v = Convert(r);
    freeReplyObject(r);
    if (v.type == RedisValue::Type::kError) {
      // LOADING: the server restarted and is reading its append-only file.
      if (v.str.rfind("LOADING", 0) == 0) {
        *lost = true;
        return Status::Unavailable("Redis broker at " + url_ + ": " + v.str);
      }
      return Status::InvalidArgument("Redis broker at " + url_ + ": " + Name(args) + ": " + v.str);
    }
    if (reply != nullptr) *reply = std::move(v);
    return Status::OK();
  });
}

Status RedisClient::Pipeline(const std::vector<std::vector<std::string>>& commands,
                             std::vector<RedisValue>* replies) {
  return WithReconnect(commands.empty() ? "?" : Name(commands[0]), [&](bool* lost) {
    if (replies != nullptr) replies->clear();
    for (const auto& args : commands) {
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const std::string& a : args) { argv.push_back(a.data()); lens.push_back(a.size()); }
      if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
        *lost = true;
        return Check(Name(args));
      }
    }
    Status first;
    for (const auto& args : commands) {
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
        *lost = true;
        return Check(Name(args));
      }
      RedisValue v = Convert(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      if (v.type == RedisValue::Type::kError && v.str.rfind("LOADING", 0) == 0) *lost = true;
      if (v.type == RedisValue::Type::kError && first.ok()) {
        first = Status::InvalidArgument("Redis broker at " + url_ + ": " + Name(args) + ": " + v.str);
      }
      if (replies != nullptr) replies->push_back(std::move(v));
    }
    return first;
  });
}

Status ParseEntries(const RedisValue& list, std::vector<StreamEntry>* out) {
  if (list.type == RedisValue::Type::kNil) return Status::OK();
  if (list.type != RedisValue::Type::kArray) return Status::Internal("stream reply: not a list of entries");
  for (const RedisValue& e : list.elements) {
    if (e.type == RedisValue::Type::kNil) continue;
    if (e.type != RedisValue::Type::kArray || e.elements.size() != 2) {
      return Status::Internal("stream reply: an entry is not [id, fields]");
    }
    StreamEntry entry;
    entry.id = e.elements[0].str;
    const RedisValue& f = e.elements[1];
    if (f.type == RedisValue::Type::kArray) {
      for (size_t i = 0; i + 1 < f.elements.size(); i += 2) {
        entry.fields.emplace_back(f.elements[i].str, f.elements[i + 1].str);
      }
    }
    out->push_back(std::move(entry));
  }
  return Status::OK();
}

Status ParseReadReply(const RedisValue& reply, std::vector<StreamEntry>* out) {
  if (reply.type == RedisValue::Type::kNil) return Status::OK();  // BLOCK timed out
  if (reply.type != RedisValue::Type::kArray) return Status::Internal("XREAD reply: not a list");
  for (const RedisValue& stream : reply.elements) {
    if (stream.type != RedisValue::Type::kArray || stream.elements.size() != 2) {
      return Status::Internal("XREAD reply: a stream is not [name, entries]");
    }
    OPTIC_RETURN_IF_ERROR(ParseEntries(stream.elements[1], out));
  }
  return Status::OK();
}

}  // namespace optic::pipeline

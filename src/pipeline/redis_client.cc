#include "pipeline/redis_client.h"

#include <hiredis/hiredis.h>

#include <charconv>

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

Status RedisClient::Connect(const std::string& url, int timeout_ms, std::unique_ptr<RedisClient>* out) {
  std::string host;
  int port = 0;
  OPTIC_RETURN_IF_ERROR(ParseRedisUrl(url, &host, &port));
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  std::unique_ptr<RedisClient> c(new RedisClient());
  c->url_ = url;
  c->ctx_ = redisConnectWithTimeout(host.c_str(), port, tv);
  if (c->ctx_ == nullptr || c->ctx_->err) {
    const std::string why = c->ctx_ ? c->ctx_->errstr : "out of memory";
    return Status::Unavailable("cannot reach the Redis broker at " + url + ": " + why +
                               " (start one with scripts/brokers/redis.sh start, or pass --broker)");
  }
  RedisValue pong;
  OPTIC_RETURN_IF_ERROR(c->Command({"PING"}, &pong));
  *out = std::move(c);
  return Status::OK();
}

Status RedisClient::Check(const std::string& what) {
  return Status::Unavailable("Redis broker at " + url_ + ": " + what + ": " +
                             (ctx_->err ? ctx_->errstr : "no reply"));
}

Status RedisClient::Command(const std::vector<std::string>& args, RedisValue* reply) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) { argv.push_back(a.data()); lens.push_back(a.size()); }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (r == nullptr) return Check(Name(args));
  RedisValue v = Convert(r);
  freeReplyObject(r);
  if (v.type == RedisValue::Type::kError) {
    return Status::InvalidArgument("Redis broker at " + url_ + ": " + Name(args) + ": " + v.str);
  }
  if (reply != nullptr) *reply = std::move(v);
  return Status::OK();
}

Status RedisClient::Pipeline(const std::vector<std::vector<std::string>>& commands,
                             std::vector<RedisValue>* replies) {
  for (const auto& args : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : args) { argv.push_back(a.data()); lens.push_back(a.size()); }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
      return Check(Name(args));
    }
  }
  Status first;
  for (const auto& args : commands) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) return Check(Name(args));
    RedisValue v = Convert(static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    if (v.type == RedisValue::Type::kError && first.ok()) {
      first = Status::InvalidArgument("Redis broker at " + url_ + ": " + Name(args) + ": " + v.str);
    }
    if (replies != nullptr) replies->push_back(std::move(v));
  }
  return first;
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

// A small synchronous Redis client over hiredis for the Streams commands the pipeline uses.
// Ownership: a RedisClient owns one connection. Threading: one thread at a time per client.
// Failure: every call returns a Status naming the broker address and the command; a Redis error
// reply is a Status too (kUnavailable for connection loss, kInvalidArgument for error replies).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "optic/status.h"

struct redisContext;
struct redisReply;

namespace optic::pipeline {

// "redis://host:port" -> host, port. Anything else is kInvalidArgument naming the text.
Status ParseRedisUrl(const std::string& url, std::string* host, int* port);

// A reply as a tree of values (hiredis' types, flattened to what Streams return).
struct RedisValue {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // string, status or error text
  long long integer = 0;
  std::vector<RedisValue> elements;
};

// One stream entry: id and field/value pairs in order.
struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;
};

class RedisClient {
 public:
  ~RedisClient();
  // Connects to `url` ("redis://host:port") within timeout_ms and checks it with PING.
  static Status Connect(const std::string& url, int timeout_ms, std::unique_ptr<RedisClient>* out);

  // Runs one command given as separate arguments (binary-safe). An error reply is a Status.
  Status Command(const std::vector<std::string>& args, RedisValue* reply = nullptr);
  // Sends every command, then reads every reply (one round trip). Fails on the first error
  // reply, after reading them all.
  Status Pipeline(const std::vector<std::vector<std::string>>& commands,
                  std::vector<RedisValue>* replies = nullptr);
  const std::string& url() const { return url_; }

 private:
  RedisClient() = default;
  Status Check(const std::string& what);
  redisContext* ctx_ = nullptr;
  std::string url_;
};

// Reads the entries of an XREAD/XREADGROUP reply for one stream ([[name, [[id, [f, v, ...]]...]]])
// or of XRANGE/XAUTOCLAIM's entry list. Nil entries (deleted while pending) are skipped.
Status ParseEntries(const RedisValue& list, std::vector<StreamEntry>* out);
Status ParseReadReply(const RedisValue& reply, std::vector<StreamEntry>* out);

}  // namespace optic::pipeline

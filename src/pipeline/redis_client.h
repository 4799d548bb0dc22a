// A small synchronous Redis client over hiredis for the Streams commands the pipeline uses.
// Ownership: a RedisClient owns one connection. Threading: one thread at a time per client.
// Failure: every call returns a Status naming the broker address and the command; a Redis error
// reply is a Status too (kUnavailable for connection loss, kInvalidArgument for error replies).
// Reconnection: a command whose connection is lost (the broker restarted, the network dropped)
// reconnects with backoff (50 ms doubling to 1 s) and is sent again, for up to reconnect_s
// seconds; only then is it kUnavailable. A command sent again may have been applied once already
// (an XADD twice): callers keep at-least-once semantics and drop repeats by key.
#pragma once

#include <cstdint>
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
  // How long a lost connection is retried before a command fails (0: not at all).
  void set_reconnect_s(double seconds) { reconnect_s_ = seconds; }
  // Connections re-established so far.
  int64_t reconnects() const { return reconnects_; }

 private:
  RedisClient() = default;
  Status Check(const std::string& what);
  Status Open();
  // After a lost connection: reconnects within the deadline, or says why not.
  Status Reconnect(const std::string& what);
  template <class Attempt>
  Status WithReconnect(const std::string& what, Attempt attempt);
  redisContext* ctx_ = nullptr;
  std::string url_, host_;
  int port_ = 0, timeout_ms_ = 2000;
  double reconnect_s_ = 30;
  int64_t reconnects_ = 0;
};

// Reads the entries of an XREAD/XREADGROUP reply for one stream ([[name, [[id, [f, v, ...]]...]]])
// or of XRANGE/XAUTOCLAIM's entry list. Nil entries (deleted while pending) are skipped.
Status ParseEntries(const RedisValue& list, std::vector<StreamEntry>* out);
Status ParseReadReply(const RedisValue& reply, std::vector<StreamEntry>* out);

}  // namespace optic::pipeline

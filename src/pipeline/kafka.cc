#include "pipeline/kafka.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "pipeline/stages.h"

namespace optic::pipeline {

Status ParseKafkaUrl(const std::string& url, std::string* bootstrap) {
  const std::string scheme = "kafka://";
  std::string rest = url.rfind(scheme, 0) == 0 ? url.substr(scheme.size()) : "";
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  const std::string port = colon == std::string::npos ? "" : rest.substr(colon + 1);
  const bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
  if (rest.empty() || colon == 0 || !digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return Status::InvalidArgument("--kafka '" + url + "': expected kafka://host:port, e.g. kafka://127.0.0.1:9092");
  }
  *bootstrap = rest;
  return Status::OK();
}

std::string TopicNames::results(const std::string& run) const {
  std::string r = run;
  for (char& c : r) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '-';
  }
  return prefix + ".results." + r;
}

namespace {

void PutU32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::string EncodeFields(const Fields& fields) {
  std::string out;
  PutU32(&out, static_cast<uint32_t>(fields.size()));
  for (const auto& [k, v] : fields) {
    PutU32(&out, static_cast<uint32_t>(k.size()));
    out += k;
    PutU32(&out, static_cast<uint32_t>(v.size()));
    out += v;
  }
  return out;
}

Status DecodeFields(const std::string& b, Fields* out) {
  size_t pos = 0;
  auto u32 = [&](uint32_t* v) {
    if (b.size() - pos < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<unsigned char>(b[pos + i])) << (8 * i);
    pos += 4;
    return true;
  };
  auto truncated = [&](const std::string& what) {
    return Status::InvalidArgument("message of " + std::to_string(b.size()) + " bytes is truncated at byte " +
                                   std::to_string(pos) + " (" + what + ")");
  };
  uint32_t n = 0;
  if (!u32(&n)) return truncated("field count");
  if (n > 64) return Status::InvalidArgument("message claims " + std::to_string(n) + " fields (at most 64)");
  Fields f;
  for (uint32_t i = 0; i < n; ++i) {
    std::string kv[2];
    for (std::string& s : kv) {
      uint32_t len = 0;
      if (!u32(&len)) return truncated("length of field " + std::to_string(i));
      if (b.size() - pos < len) return truncated("field " + std::to_string(i) + " needs " + std::to_string(len) + " bytes");
      s = b.substr(pos, len);
      pos += len;
    }
    f.emplace_back(std::move(kv[0]), std::move(kv[1]));
  }
  if (pos != b.size()) return Status::InvalidArgument(std::to_string(b.size() - pos) + " bytes after the last field");
  *out = std::move(f);
  return Status::OK();
}

namespace {

struct Conf {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ~Conf() {
    if (conf != nullptr) rd_kafka_conf_destroy(conf);
  }
  Status Set(const std::string& k, const std::string& v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument("kafka setting " + k + "=" + v + ": " + err);
    }
    return Status::OK();
  }
};

using Handle = std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)>;

// Delivery reports: the first failure of a flush, through the handle's opaque.
struct Delivery {
  std::string error;
};
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivery*>(opaque);
  if (m->err && d->error.empty()) d->error = rd_kafka_err2str(m->err);
}

Status NewHandle(rd_kafka_type_t type, const std::string& url, const std::vector<std::pair<std::string, std::string>>& settings,
                 Delivery* delivery, Handle* out) {
  std::string bootstrap;
  OPTIC_RETURN_IF_ERROR(ParseKafkaUrl(url, &bootstrap));
  Conf c;
  OPTIC_RETURN_IF_ERROR(c.Set("bootstrap.servers", bootstrap));
  OPTIC_RETURN_IF_ERROR(c.Set("log_level", "3"));  // errors only
  for (const auto& [k, v] : settings) OPTIC_RETURN_IF_ERROR(c.Set(k, v));
  if (delivery != nullptr) {
    rd_kafka_conf_set_dr_msg_cb(c.conf, OnDelivery);
    rd_kafka_conf_set_opaque(c.conf, delivery);
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, c.conf, err, sizeof(err));
  if (rk == nullptr) return Status::InvalidArgument("kafka client for " + url + ": " + err);
  c.conf = nullptr;  // owned by rk now
  Handle h(rk, [](rd_kafka_t* k) { rd_kafka_destroy(k); });
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, nullptr, &md, 5000);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("cannot reach the Kafka broker at " + url + ": " + rd_kafka_err2str(e) +
                               " (start one with scripts/brokers/kafka.sh start, or pass --kafka)");
  }
  rd_kafka_metadata_destroy(md);
  *out = std::move(h);
  return Status::OK();
}

// Creates `topic` unless it exists.
Status EnsureTopic(rd_kafka_t* rk, const std::string& topic, int partitions, const std::string& url) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
  if (nt == nullptr) return Status::InvalidArgument("kafka topic '" + topic + "': " + err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 10000);
  Status s;
  if (ev == nullptr) {
    s = Status::Unavailable("Kafka broker at " + url + ": creating topic '" + topic + "' timed out");
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** r =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    const rd_kafka_resp_err_t e = n ? rd_kafka_topic_result_error(r[0]) : rd_kafka_event_error(ev);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      s = Status::Unavailable("Kafka broker at " + url + ": creating topic '" + topic + "': " + rd_kafka_err2str(e));
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  return s;
}

Status Produce(rd_kafka_t* rk, const std::string& topic, const std::string& key, const std::string& value) {
  for (;;) {
    const rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::Unavailable("kafka produce to '" + topic + "': " + rd_kafka_err2str(e));
    }
    rd_kafka_poll(rk, 10);  // the local queue is full: wait for deliveries (back-pressure)
  }
}

Status Flush(rd_kafka_t* rk, Delivery* d, const std::string& what) {
  const rd_kafka_resp_err_t e = rd_kafka_flush(rk, 30000);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Unavailable("kafka " + what + ": " + rd_kafka_err2str(e));
  if (!d->error.empty()) {
    Status s = Status::Unavailable("kafka " + what + ": " + d->error);
    d->error.clear();
    return s;
  }
  return Status::OK();
}

const std::vector<std::pair<std::string, std::string>> kLowLatency = {
    {"linger.ms", "0"}, {"fetch.wait.max.ms", "5"}, {"fetch.error.backoff.ms", "10"}};
const std::vector<std::pair<std::string, std::string>> kProducer = {{"linger.ms", "0"}, {"acks", "all"}};

class KafkaTransport : public Transport {
 public:
  KafkaTransport(Handle producer, Handle consumer, TopicNames names, std::string reply, Delivery* d)
      : producer_(std::move(producer)), consumer_(std::move(consumer)), names_(std::move(names)),
        reply_(std::move(reply)), delivery_(d) {}
  ~KafkaTransport() override {
    rd_kafka_consumer_close(consumer_.get());
    consumer_.reset();
    producer_.reset();
    delete delivery_;
  }
  std::string name() const override { return "kafka"; }
  int64_t bad_results() const override { return bad_; }

  Status Send(std::vector<Crop> crops) override {
    for (Crop& c : crops) {
      c.reply = reply_;
      OPTIC_RETURN_IF_ERROR(Produce(producer_.get(), names_.crops(),
                                    std::to_string(c.frame) + "/" + std::to_string(c.object), EncodeFields(EncodeCrop(c))));
    }
    rd_kafka_poll(producer_.get(), 0);
    if (!delivery_->error.empty()) return Flush(producer_.get(), delivery_, "sending crops");
    return Status::OK();
  }

  Status Receive(int timeout_ms, std::vector<Result>* out) override {
    rd_kafka_poll(producer_.get(), 0);
    int wait = timeout_ms;
    for (int i = 0; i < 1024; ++i) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), wait);
      if (m == nullptr) break;
      wait = 0;  // take what else is there without waiting
      if (m->err) {
        const std::string e = rd_kafka_message_errstr(m);
        // A topic made a moment ago may not be in the metadata yet.
        const bool eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                         m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        rd_kafka_message_destroy(m);
        if (eof) continue;
        return Status::Unavailable("kafka results on '" + reply_ + "': " + e);
      }
      Fields f;
      Result r;
      Status s = DecodeFields(std::string(static_cast<const char*>(m->payload), m->len), &f);
      if (s.ok()) s = DecodeResult(f, &r);
      if (!s.ok()) {
        ++bad_;
        std::fprintf(stderr, "optic pipeline: skipped result at offset %lld on %s: %s\n",
                     static_cast<long long>(m->offset), reply_.c_str(), s.message().c_str());
      } else {
        out->push_back(std::move(r));
      }
      rd_kafka_message_destroy(m);
    }
    return Status::OK();
  }

 private:
  Handle producer_, consumer_;
  TopicNames names_;
  std::string reply_;
  Delivery* delivery_;
  int64_t bad_ = 0;
};

}  // namespace

Status CreateKafkaTransport(const std::string& url, const TopicNames& names, const std::string& run,
                            std::unique_ptr<Transport>* out) {
  auto* delivery = new Delivery();
  std::unique_ptr<Delivery> guard(delivery);
  Handle producer(nullptr, [](rd_kafka_t*) {});
  auto settings = kProducer;
  OPTIC_RETURN_IF_ERROR(NewHandle(RD_KAFKA_PRODUCER, url, settings, delivery, &producer));
  const std::string reply = names.results(run);
  OPTIC_RETURN_IF_ERROR(EnsureTopic(producer.get(), names.crops(), 4, url));
  OPTIC_RETURN_IF_ERROR(EnsureTopic(producer.get(), names.dead(), 1, url));
  OPTIC_RETURN_IF_ERROR(EnsureTopic(producer.get(), reply, 1, url));
  Handle consumer(nullptr, [](rd_kafka_t*) {});
  auto cs = kLowLatency;
  cs.push_back({"group.id", names.prefix + ".driver." + std::to_string(getpid())});
  cs.push_back({"enable.auto.commit", "false"});
  OPTIC_RETURN_IF_ERROR(NewHandle(RD_KAFKA_CONSUMER, url, cs, nullptr, &consumer));
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, reply.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  const rd_kafka_resp_err_t e = rd_kafka_assign(consumer.get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("kafka: reading '" + reply + "': " + rd_kafka_err2str(e));
  }
  guard.release();
  *out = std::make_unique<KafkaTransport>(std::move(producer), std::move(consumer), names, reply, delivery);
  return Status::OK();
}

Status KafkaProduceValue(const std::string& url, const std::string& topic, const std::string& value) {
  Delivery d;
  Handle producer(nullptr, [](rd_kafka_t*) {});
  OPTIC_RETURN_IF_ERROR(NewHandle(RD_KAFKA_PRODUCER, url, kProducer, &d, &producer));
  OPTIC_RETURN_IF_ERROR(Produce(producer.get(), topic, "", value));
  return Flush(producer.get(), &d, "producing to '" + topic + "'");
}

Status KafkaReadValues(const std::string& url, const std::string& topic, int timeout_ms,
                       std::vector<std::string>* values) {
  Handle consumer(nullptr, [](rd_kafka_t*) {});
  auto cs = kLowLatency;
  cs.push_back({"group.id", "optic.read." + std::to_string(getpid())});
  cs.push_back({"enable.auto.commit", "false"});
  OPTIC_RETURN_IF_ERROR(NewHandle(RD_KAFKA_CONSUMER, url, cs, nullptr, &consumer));
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer.get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 50);
    if (m == nullptr) continue;
    if (!m->err) values->emplace_back(static_cast<const char*>(m->payload), m->len);
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer.get());
  return Status::OK();
}

Status RunKafkaWorker(const KafkaWorkerSettings& in, const std::atomic<bool>* stop, WorkerStats* stats) {
  KafkaWorkerSettings s = in;
  if (s.consumer.empty()) s.consumer = "worker-" + std::to_string(getpid());
  std::unique_ptr<Embedder> embedder;
  OPTIC_RETURN_IF_ERROR(Embedder::Create(s.backend, s.embedder_file, s.load, &embedder));
  Delivery delivery;
  Handle producer(nullptr, [](rd_kafka_t*) {});
  OPTIC_RETURN_IF_ERROR(NewHandle(RD_KAFKA_PRODUCER, s.broker, kProducer, &delivery, &producer));
  OPTIC_RETURN_IF_ERROR(EnsureTopic(producer.get(), s.names.crops(), 4, s.broker));
  OPTIC_RETURN_IF_ERROR(EnsureTopic(producer.get(), s.names.dead(), 1, s.broker));
  Handle consumer(nullptr, [](rd_kafka_t*) {});
  auto cs = kLowLatency;
  cs.insert(cs.end(), {{"group.id", s.names.group()},
                       {"client.id", s.consumer},
                       {"enable.auto.commit", "false"},
                       {"auto.offset.reset", "earliest"},
                       {"session.timeout.ms", std::to_string(s.session_timeout_ms)},
                       {"heartbeat.interval.ms", std::to_string(std::max(100, s.session_timeout_ms / 4))}});
  OPTIC_RETURN_IF_ERROR(NewHandle(RD_KAFKA_CONSUMER, s.broker, cs, nullptr, &consumer));
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, s.names.crops().c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(consumer.get(), sub);
  rd_kafka_topic_partition_list_destroy(sub);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("kafka: subscribing to '" + s.names.crops() + "': " + rd_kafka_err2str(e));
  }
  auto dead_letter = [&](const rd_kafka_message_t* m, const std::string& reason) {
    ++stats->dead_letters;
    const std::string where = s.names.crops() + "[" + std::to_string(m->partition) + "]@" + std::to_string(m->offset);
    std::fprintf(stderr, "optic pipeline worker %s: dead-lettered %s: %s\n", s.consumer.c_str(), where.c_str(),
                 reason.c_str());
    return Produce(producer.get(), s.names.dead(), where,
                   EncodeFields({{"id", where}, {"consumer", s.consumer}, {"reason", reason}}));
  };
  auto last_work = std::chrono::steady_clock::now();
  Status result;
  while (result.ok() && (stop == nullptr || !stop->load())) {
    std::vector<Crop> crops;
    int read = 0;
    int wait = 100;
    while (static_cast<int>(crops.size()) < s.max_batch) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), wait);
      if (m == nullptr) break;
      wait = 0;
      if (m->err) {
        const bool benign = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                            m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        if (!benign) std::fprintf(stderr, "optic pipeline worker %s: %s\n", s.consumer.c_str(), rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        continue;
      }
      ++read;
      Fields f;
      Crop c;
      Status st = DecodeFields(std::string(static_cast<const char*>(m->payload), m->len), &f);
      if (st.ok()) st = DecodeCrop(f, embedder->crop_shape(), &c);
      if (st.ok() && c.reply.rfind(s.names.prefix + ".results.", 0) != 0) {
        st = Status::InvalidArgument("field 'reply' = '" + c.reply.substr(0, 60) + "' is not a topic under '" +
                                     s.names.prefix + ".results.'");
      }
      if (!st.ok()) {
        result = dead_letter(m, st.message());
      } else {
        crops.push_back(std::move(c));
      }
      rd_kafka_message_destroy(m);
      if (!result.ok()) break;
    }
    if (!result.ok()) break;
    if (!crops.empty()) {
      const int64_t deq = NowNs();
      std::vector<const Tensor*> pixels;
      for (const Crop& c : crops) pixels.push_back(&c.pixels);
      std::vector<std::vector<float>> emb;
      result = embedder->Embed(pixels, &emb);
      if (!result.ok()) break;
      const int64_t end = NowNs();
      for (size_t i = 0; i < crops.size() && result.ok(); ++i) {
        Result r{crops[i].frame, crops[i].object, crops[i].enqueue_ns, deq, end, static_cast<int32_t>(crops.size()),
                 s.consumer, std::move(emb[i])};
        result = Produce(producer.get(), crops[i].reply,
                         std::to_string(r.frame) + "/" + std::to_string(r.object), EncodeFields(EncodeResult(r)));
      }
      stats->crops += static_cast<int64_t>(crops.size());
      ++stats->batches;
    }
    if (read > 0) {
      // Results (and dead letters) acknowledged by the broker before the offsets move on.
      if (result.ok()) result = Flush(producer.get(), &delivery, "producing results");
      if (result.ok()) {
        e = rd_kafka_commit(consumer.get(), nullptr, 0);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
          std::fprintf(stderr, "optic pipeline worker %s: commit: %s (the batch may be redelivered)\n",
                       s.consumer.c_str(), rd_kafka_err2str(e));
        }
      }
      last_work = std::chrono::steady_clock::now();
    } else if (s.exit_idle_s > 0 &&
               std::chrono::duration<double>(std::chrono::steady_clock::now() - last_work).count() >= s.exit_idle_s) {
      break;
    }
  }
  rd_kafka_consumer_close(consumer.get());
  return result;
}

}  // namespace optic::pipeline

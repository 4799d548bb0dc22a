// optic pipeline on a real redis-server started here (skipped where redis-server is missing):
// fused and Redis results agree frame by frame; malformed crops are dead-lettered and the worker
// goes on; a dead consumer's pending crops are reclaimed; a worker SIGKILLed mid-stream and the
// broker SIGKILLed and restarted mid-run lose no frame and duplicate none in the output; a stalled
// stage 2 holds the stream at the frames in flight.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <cmath>
#include <filesystem>
#include <thread>

#include "optic_child.h"
#include "pipeline/redis_client.h"
#include "pipeline/runner.h"
#include "pipeline/worker.h"
#include "pipeline/workers.h"

extern char** environ;

namespace optic::pipeline {
namespace {

namespace fs = std::filesystem;

const std::string kModels = OPTIC_TEST_MODELS;
const std::string kDetector = kModels + "/face_detector/model.onnx";
const std::string kEmbedder = kModels + "/face_embedder/model.onnx";

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::string FindRedisServer() {
  for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
    if (fs::exists(p)) return p;
  }
  return "";
}

class PipelineRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string server = FindRedisServer();
    if (server.empty()) GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";
    ASSERT_TRUE(fs::exists(kDetector) && fs::exists(kEmbedder))
        << "export the pipeline models first: build/optic models export --models pipeline";
    dir_ = fs::temp_directory_path() / ("optic-redis-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    server_ = server;
    port_ = FreePort();
    url_ = "redis://127.0.0.1:" + std::to_string(port_);
    ASSERT_NO_FATAL_FAILURE(StartServer());
    for (int i = 0; i < 100 && !RedisClient::Connect(url_, 200, &redis_).ok(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_NE(redis_, nullptr) << "redis-server did not answer on " << url_;
    load_.threads = 1;
    ASSERT_TRUE(Detector::Create("onnxruntime", kDetector, load_, {}, &detector_).ok());
  }
  // The server as scripts/brokers/redis.sh runs it: an append-only file fsynced every second.
  void StartServer() {
    std::vector<std::string> args = {server_, "--bind", "127.0.0.1", "--port", std::to_string(port_), "--dir",
                                     dir_.string(), "--save", "", "--appendonly", "yes", "--appendfsync",
                                     "everysec", "--logfile", (dir_ / "redis.log").string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&server_pid_, server_.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  }
  void TearDown() override {
    workers_.Stop();
    redis_.reset();
    if (server_pid_ > 0) {
      kill(server_pid_, SIGTERM);
      waitpid(server_pid_, nullptr, 0);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::vector<std::string> WorkerArgs(int claim_idle_ms = 2000) {
    return {"--broker", url_, "--stream", names_.prefix, "--embedder", kEmbedder, "--threads", "1",
            "--max-batch", "16", "--claim-idle-ms", std::to_string(claim_idle_ms)};
  }

  long long Int(const std::vector<std::string>& cmd) {
    RedisValue v;
    EXPECT_TRUE(redis_->Command(cmd, &v).ok());
    return v.integer;
  }
  long long PendingNow() {
    RedisValue v;
    EXPECT_TRUE(redis_->Command({"XPENDING", names_.crops(), names_.group()}, &v).ok());
    return v.elements.empty() ? -1 : v.elements[0].integer;
  }
  // Crops still pending once the workers have acknowledged what they answered (a worker writes a
  // result before it acknowledges the crop, so the driver may see the result first).
  long long Pending() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (PendingNow() != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return PendingNow();
  }

  CellSettings Cell(int objects, int frames) {
    CellSettings c;
    c.objects = objects;
    c.warmup_frames = 0;
    c.latency_frames = frames;
    c.duration_s = 0;
    c.timeout_s = 30;
    c.keep_embeddings = true;
    return c;
  }

  fs::path dir_;
  std::string server_, url_;
  int port_ = 0;
  pid_t server_pid_ = -1;
  std::unique_ptr<RedisClient> redis_;
  LoadOptions load_;
  std::unique_ptr<Detector> detector_;
  StreamNames names_;
  WorkerProcesses workers_;
};

void ExpectComplete(const CellResult& r, int frames, int objects) {
  EXPECT_EQ(r.zero_load.frames, frames);
  EXPECT_EQ(r.zero_load.objects, static_cast<int64_t>(frames) * objects);
  ASSERT_EQ(r.embeddings.size(), static_cast<size_t>(frames * objects));
  for (int f = 0; f < frames; ++f) {
    for (int o = 0; o < objects; ++o) EXPECT_EQ(r.embeddings.count({f, o}), 1u) << f << "/" << o;
  }
}

TEST_F(PipelineRedis, FusedAndRedisGiveTheSameResults) {
  std::unique_ptr<Embedder> embedder;
  ASSERT_TRUE(Embedder::Create("onnxruntime", kEmbedder, load_, &embedder).ok());
  const int crop = embedder->size();
  std::unique_ptr<Transport> fused, redis;
  ASSERT_TRUE(CreateFusedTransport(std::move(embedder), {}, &fused).ok());
  CellResult a, b;
  Status s = RunCell(Cell(5, 6), detector_.get(), crop, fused.get(), &a);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(CreateRedisTransport(url_, names_, "agree", &redis).ok());
  ASSERT_TRUE(workers_.Start(optic::testing::OpticBinary(), WorkerArgs(), 2, "agree").ok());
  s = RunCell(Cell(5, 6), detector_.get(), crop, redis.get(), &b);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectComplete(a, 6, 5);
  ExpectComplete(b, 6, 5);
  EXPECT_EQ(a.duplicates, 0);
  EXPECT_EQ(b.duplicates, 0);
  for (const auto& [key, emb] : a.embeddings) {
    const auto& other = b.embeddings.at(key);
    ASSERT_EQ(other.size(), emb.size());
    ASSERT_EQ(emb.size(), 128u);
    double diff = 0, norm = 0;
    for (size_t i = 0; i < emb.size(); ++i) {
      diff = std::max(diff, static_cast<double>(std::fabs(emb[i] - other[i])));
      norm += emb[i] * emb[i];
    }
    EXPECT_LT(diff, 1e-4) << "frame " << key.first << " object " << key.second;
    EXPECT_NEAR(norm, 1.0, 1e-3);  // L2-normalised embeddings: a zero or garbage crop would show
  }
  // Different crops give different embeddings.
  EXPECT_GT(std::fabs(a.embeddings.at({0, 0})[0] - a.embeddings.at({0, 1})[0]) +
                std::fabs(a.embeddings.at({0, 0})[1] - a.embeddings.at({0, 1})[1]), 1e-4);
  EXPECT_EQ(Pending(), 0);
}

TEST_F(PipelineRedis, MalformedCropsAreDeadLetteredAndTheWorkerGoesOn) {
  ASSERT_TRUE(EnsureGroup(redis_.get(), names_).ok());
  // Garbage, a wrong shape, a truncated payload, a reply outside the prefix.
  ASSERT_TRUE(redis_->Command({"XADD", names_.crops(), "*", "hello", "world"}).ok());
  const std::string reply = names_.results("bad");
  auto crop = [&](const std::string& shape, size_t bytes, const std::string& to) {
    return std::vector<std::string>{"XADD", names_.crops(), "*", "frame", "0", "object", "0", "objects", "1",
                                    "enq", "1", "reply", to, "shape", shape, "data", std::string(bytes, '\0')};
  };
  ASSERT_TRUE(redis_->Command(crop("3,8,8", 3 * 8 * 8 * 4, reply)).ok());
  ASSERT_TRUE(redis_->Command(crop("3,64,64", 1000, reply)).ok());
  ASSERT_TRUE(redis_->Command(crop("3,64,64", 3 * 64 * 64 * 4, "somewhere:else")).ok());
  pid_t pid = 0;
  ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(), "w-bad", &pid).ok());
  // The next good frames go through the same worker.
  std::unique_ptr<Transport> redis;
  ASSERT_TRUE(CreateRedisTransport(url_, names_, "good", &redis).ok());
  CellResult r;
  Status s = RunCell(Cell(3, 4), detector_.get(), 64, redis.get(), &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectComplete(r, 4, 3);
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), 0) << "the worker died";
  ASSERT_EQ(Int({"XLEN", names_.dead()}), 4);
  RedisValue dead;
  ASSERT_TRUE(redis_->Command({"XRANGE", names_.dead(), "-", "+"}, &dead).ok());
  std::vector<StreamEntry> entries;
  ASSERT_TRUE(ParseEntries(dead, &entries).ok());
  std::string reasons;
  for (const auto& e : entries) {
    for (const auto& [k, v] : e.fields) {
      if (k == "reason") reasons += v + "\n";
    }
  }
  EXPECT_NE(reasons.find("field 'frame' is missing"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("field 'shape' is '3,8,8'"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("field 'data' has 1000 bytes"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("'somewhere:else' is not a stream under"), std::string::npos) << reasons;
  EXPECT_EQ(Pending(), 0) << "dead letters are acknowledged";
  EXPECT_EQ(Int({"XLEN", reply}), 0) << "nothing was answered for a bad crop";
}

TEST_F(PipelineRedis, ADeadConsumersPendingCropsAreReclaimed) {
  ASSERT_TRUE(EnsureGroup(redis_.get(), names_).ok());
  const std::string reply = names_.results("claim");
  const int n = 6;
  for (int i = 0; i < n; ++i) {
    Crop c;
    c.frame = i;
    c.object = 0;
    c.objects = 1;
    c.enqueue_ns = NowNs();
    c.reply = reply;
    c.pixels = Tensor::EmptyOrDie(DType::kFP32, {3, 64, 64});
    ASSERT_TRUE(FillUniform(&c.pixels, static_cast<uint64_t>(i)).ok());
    std::vector<std::string> args = {"XADD", names_.crops(), "*"};
    for (auto& [k, v] : EncodeCrop(c)) {
      args.push_back(k);
      args.push_back(v);
    }
    ASSERT_TRUE(redis_->Command(args).ok());
  }
  // A consumer reads them all and dies before acknowledging any.
  RedisValue got;
  ASSERT_TRUE(redis_->Command({"XREADGROUP", "GROUP", names_.group(), "ghost", "COUNT", "100", "STREAMS",
                               names_.crops(), ">"}, &got).ok());
  ASSERT_EQ(PendingNow(), n);
  pid_t pid = 0;
  ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(200), "heir", &pid).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Int({"XLEN", reply}) < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Int({"XLEN", reply}), n);
  EXPECT_EQ(Pending(), 0);
  RedisValue results;
  ASSERT_TRUE(redis_->Command({"XRANGE", reply, "-", "+"}, &results).ok());
  std::vector<StreamEntry> entries;
  ASSERT_TRUE(ParseEntries(results, &entries).ok());
  std::set<int64_t> frames;
  for (const auto& e : entries) {
    Result r;
    ASSERT_TRUE(DecodeResult(e.fields, &r).ok());
    EXPECT_EQ(r.worker, "heir");
    frames.insert(r.frame);
  }
  EXPECT_EQ(frames.size(), static_cast<size_t>(n));
}

TEST_F(PipelineRedis, AWorkerKilledMidStreamLosesAndDuplicatesNoFrame) {
  pid_t first = 0, second = 0;
  ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(300), "first", &first).ok());
  std::unique_ptr<Transport> redis;
  ASSERT_TRUE(CreateRedisTransport(url_, names_, "kill", &redis).ok());
  CellResult r;
  Status s;
  std::thread run([&] { s = RunCell(Cell(9, 40), detector_.get(), 64, redis.get(), &r); });
  // SIGKILL the worker while it holds crops it has read and not acknowledged.
  auto holding = [&] {
    RedisValue v;
    EXPECT_TRUE(redis_->Command({"XPENDING", names_.crops(), names_.group(), "-", "+", "10", "first"}, &v).ok());
    return !v.elements.empty();
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!holding() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(holding()) << "the first worker never held a crop";
  workers_.Kill(first);
  ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(300), "second", &second).ok());
  run.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectComplete(r, 40, 9);
  EXPECT_GT(r.workers["second"], 0) << "the replacement did part of the work";
  EXPECT_EQ(Pending(), 0);
}


TEST_F(PipelineRedis, ABrokerCrashMidRunLosesAndDuplicatesNoFrame) {
  pid_t worker = 0;
  ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(300), "survivor", &worker).ok());
  std::unique_ptr<Transport> redis;
  ASSERT_TRUE(CreateRedisTransport(url_, names_, "crash", &redis).ok());
  CellSettings c = Cell(5, 40);
  c.resend_s = 1;
  std::atomic<int64_t> done{0};
  c.on_frame = [&](int64_t n) { done = n; };
  CellResult r;
  Status s;
  std::thread run([&] { s = RunCell(c, detector_.get(), 64, redis.get(), &r); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (done < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(done.load(), 10) << "the run never got going";
  // SIGKILL: no shutdown, the append-only file has what was fsynced; the driver and the worker
  // see their connections drop and reconnect once the server is back on the same port.
  kill(server_pid_, SIGKILL);
  waitpid(server_pid_, nullptr, 0);
  const int64_t at_crash = done;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  run.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_LT(at_crash, 40) << "the crash came after the run";
  ExpectComplete(r, 40, 5);
  EXPECT_EQ(waitpid(worker, nullptr, WNOHANG), 0) << "the worker did not survive the broker's restart";
  EXPECT_GE(redis->reconnects(), 1);
  EXPECT_GT(r.workers["survivor"], 0);
}

TEST_F(PipelineRedis, AStalledStageTwoHoldsAtMostInflightTimesObjectsCrops) {
  pid_t worker = 0;
  ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(), "stalled", &worker).ok());
  std::unique_ptr<Transport> redis;
  ASSERT_TRUE(CreateRedisTransport(url_, names_, "stall", &redis).ok());
  const int objects = 5, inflight = 3;
  CellSettings c = Cell(objects, 2);
  c.keep_embeddings = false;
  c.inflight = inflight;
  c.duration_s = 3;
  std::atomic<int> calls{0};
  c.on_frame = [&](int64_t) { ++calls; };
  CellResult r;
  Status s;
  std::thread run([&] { s = RunCell(c, detector_.get(), 64, redis.get(), &r); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (calls < 2 + 5 && std::chrono::steady_clock::now() < deadline) {  // into the loaded phase
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE(calls.load(), 7);
  // Stage 2 stops taking crops: the driver must stop producing, not queue more.
  kill(worker, SIGSTOP);
  long long most = 0;
  const auto stall_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
  while (std::chrono::steady_clock::now() < stall_end) {
    most = std::max(most, Int({"XLEN", names_.crops()}));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int during = calls;
  kill(worker, SIGCONT);
  run.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_LE(most, inflight * objects) << "crops queued beyond the frames in flight";
  EXPECT_GE(most, objects) << "the stall never showed on the stream";
  EXPECT_GT(calls.load(), during) << "frames went on after stage 2 came back";
  EXPECT_EQ(r.duplicates, 0);
}
}  // namespace
}  // namespace optic::pipeline

namespace optic::pipeline {
namespace {

// `optic pipeline ... 2>&1`: exit status and output.
int RunCapture(const std::string& args, std::string* out) {
  FILE* p = popen((optic::testing::OpticBinary() + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(PipelineCli, BadSettingsAreNamedBeforeAnythingRuns) {
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"pipeline --transport mqtt", "--transport 'mqtt': unknown (expected fused, redis or kafka)"},
      {"pipeline --transport kafka --kafka localhost:9092", "--kafka 'localhost:9092': expected kafka://host:port"},
      {"pipeline --transport kafka --kafka kafka://127.0.0.1:1 --objects 1 --detector " + kDetector +
           " --embedder " + kEmbedder,
       "cannot reach the Kafka broker at kafka://127.0.0.1:1"},
      {"pipeline --transport redis --broker localhost:6379", "--broker 'localhost:6379': not a redis:// address"},
      {"pipeline --objects 1,x", "--objects"},
      {"pipeline --boxes some", "--boxes 'some': expected synthetic or detector"},
      {"pipeline --device tpu", "--device"},
      {"pipeline worker --device cuda:x --broker redis://127.0.0.1:1 --embedder " + kEmbedder, "--device"},
      {"pipeline --detector /nonexistent/det.onnx", "/nonexistent/det.onnx"},
      {"pipeline --transport redis --broker redis://127.0.0.1:1 --objects 1 --detector " + kDetector +
           " --embedder " + kEmbedder,
       "cannot reach the Redis broker at redis://127.0.0.1:1"},
      {"pipeline worker --broker redis://127.0.0.1:1 --embedder " + kEmbedder,
       "cannot reach the Redis broker at redis://127.0.0.1:1"},
  };
  for (const Case& c : cases) {
    std::string out;
    const int rc = RunCapture(c.args, &out);
    EXPECT_NE(rc, 0) << c.args;
    EXPECT_NE(out.find(c.expect), std::string::npos) << c.args << "\n" << out;
  }
}

}  // namespace
}  // namespace optic::pipeline

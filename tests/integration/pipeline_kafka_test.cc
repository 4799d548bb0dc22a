// optic pipeline on a real single-node Kafka broker (KRaft) started here with
// scripts/brokers/kafka.sh (skipped where java is missing): fused and Kafka results agree; bad
// messages are dead-lettered and the worker goes on; a worker SIGKILLed mid-stream and a broker
// restart mid-run lose no frame and duplicate none in the output.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "optic_child.h"
#include "pipeline/kafka.h"
#include "pipeline/runner.h"
#include "pipeline/workers.h"

namespace optic::pipeline {
namespace {

namespace fs = std::filesystem;

const std::string kModels = OPTIC_TEST_MODELS;
const std::string kDetector = kModels + "/face_detector/model.onnx";
const std::string kEmbedder = kModels + "/face_embedder/model.onnx";
const std::string kScript = std::string(OPTIC_SOURCE_DIR) + "/scripts/brokers/kafka.sh";

int FreePortPair() {
  for (;;) {
    int ports[2] = {0, 0};
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ports[0] = ntohs(a.sin_port);
    close(fd);
    // The controller takes port + 1: check that it is free too.
    const int fd2 = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = htons(static_cast<uint16_t>(ports[0] + 1));
    ports[1] = bind(fd2, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    close(fd2);
    if (ports[1] == 0 && ports[0] < 65535) return ports[0];
  }
}

int Sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

class PipelineKafka : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (Sh("command -v java") != 0) return;
    dir_ = new std::string((fs::temp_directory_path() / ("optic-kafka-test-" + std::to_string(getpid()))).string());
    port_ = FreePortPair();
    started_ = std::system((kScript + " start --port " + std::to_string(port_) + " --dir " + *dir_).c_str()) == 0;
  }
  static void TearDownTestSuite() {
    if (dir_ == nullptr) return;
    Sh(kScript + " stop --wipe --port " + std::to_string(port_) + " --dir " + *dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (Sh("command -v java") != 0) GTEST_SKIP() << "java is not installed (apt-get install openjdk-17-jre-headless)";
    ASSERT_TRUE(started_) << "scripts/brokers/kafka.sh start failed; see " << *dir_ << "/kafka.log";
    ASSERT_TRUE(fs::exists(kDetector) && fs::exists(kEmbedder))
        << "export the pipeline models first: build/optic models export --models pipeline";
    url_ = "kafka://127.0.0.1:" + std::to_string(port_);
    // Topics of one test only.
    names_.prefix = std::string("t.") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    load_.threads = 1;
    ASSERT_TRUE(Detector::Create("onnxruntime", kDetector, load_, {}, &detector_).ok());
  }
  void TearDown() override { workers_.Stop(); }

  std::vector<std::string> WorkerArgs() {
    return {"--broker", url_, "--topic", names_.prefix, "--embedder", kEmbedder, "--threads", "1",
            "--max-batch", "16", "--session-timeout-ms", "1000"};
  }
  CellSettings Cell(int objects, int frames) {
    CellSettings c;
    c.objects = objects;
    c.warmup_frames = 0;
    c.latency_frames = frames;
    c.duration_s = 0;
    c.timeout_s = 60;
    c.keep_embeddings = true;
    return c;
  }

  static std::string* dir_;
  static int port_;
  static bool started_;
  std::string url_;
  TopicNames names_;
  LoadOptions load_;
  std::unique_ptr<Detector> detector_;
  WorkerProcesses workers_;
};
std::string* PipelineKafka::dir_ = nullptr;
int PipelineKafka::port_ = 0;
bool PipelineKafka::started_ = false;

void ExpectComplete(const CellResult& r, int frames, int objects) {
  EXPECT_EQ(r.zero_load.frames, frames);
  EXPECT_EQ(r.zero_load.objects, static_cast<int64_t>(frames) * objects);
  ASSERT_EQ(r.embeddings.size(), static_cast<size_t>(frames * objects));
  for (int f = 0; f < frames; ++f) {
    for (int o = 0; o < objects; ++o) EXPECT_EQ(r.embeddings.count({f, o}), 1u) << f << "/" << o;
  }
}

TEST_F(PipelineKafka, FusedAndKafkaGiveTheSameResults) {
  std::unique_ptr<Embedder> embedder;
  ASSERT_TRUE(Embedder::Create("onnxruntime", kEmbedder, load_, &embedder).ok());
  std::unique_ptr<Transport> fused, kafka;
  ASSERT_TRUE(CreateFusedTransport(std::move(embedder), {}, &fused).ok());
  CellResult a, b;
  ASSERT_TRUE(RunCell(Cell(5, 6), detector_.get(), 64, fused.get(), &a).ok());
  Status s = CreateKafkaTransport(url_, names_, "agree", &kafka);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(workers_.Start(optic::testing::OpticBinary(), WorkerArgs(), 1, "agree").ok());
  s = RunCell(Cell(5, 6), detector_.get(), 64, kafka.get(), &b);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectComplete(b, 6, 5);
  EXPECT_EQ(b.duplicates, 0);
  for (const auto& [key, emb] : a.embeddings) {
    const auto& other = b.embeddings.at(key);
    ASSERT_EQ(other.size(), emb.size());
    double diff = 0;
    for (size_t i = 0; i < emb.size(); ++i) diff = std::max(diff, static_cast<double>(std::fabs(emb[i] - other[i])));
    EXPECT_LT(diff, 1e-4) << "frame " << key.first << " object " << key.second;
  }
}

TEST_F(PipelineKafka, BadMessagesAreDeadLetteredAndTheWorkerGoesOn) {
  std::unique_ptr<Transport> kafka;
  ASSERT_TRUE(CreateKafkaTransport(url_, names_, "bad", &kafka).ok());
  // Not length-prefixed fields; fields cut short; a crop of the wrong shape.
  ASSERT_TRUE(KafkaProduceValue(url_, names_.crops(), "garbage").ok());
  std::string cut = EncodeFields({{"frame", "1"}, {"object", "0"}});
  cut.resize(cut.size() - 3);
  ASSERT_TRUE(KafkaProduceValue(url_, names_.crops(), cut).ok());
  ASSERT_TRUE(KafkaProduceValue(url_, names_.crops(), EncodeFields({{"frame", "0"}, {"object", "0"}, {"objects", "1"},
                                                                     {"enq", "1"}, {"reply", names_.results("bad")},
                                                                     {"shape", "3,8,8"}, {"data", std::string(768, '\0')}}))
                  .ok());
  pid_t pid = 0;
  ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(), "w-bad", &pid).ok());
  CellResult r;
  Status s = RunCell(Cell(3, 4), detector_.get(), 64, kafka.get(), &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectComplete(r, 4, 3);
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), 0) << "the worker died";
  std::vector<std::string> dead;
  ASSERT_TRUE(KafkaReadValues(url_, names_.dead(), 3000, &dead).ok());
  std::string reasons;
  for (const std::string& v : dead) {
    Fields f;
    ASSERT_TRUE(DecodeFields(v, &f).ok());
    for (const auto& [k, val] : f) {
      if (k == "reason") reasons += val + "\n";
    }
  }
  EXPECT_EQ(dead.size(), 3u) << reasons;
  EXPECT_NE(reasons.find("message claims"), std::string::npos) << reasons;  // "garbage" read as a count
  EXPECT_NE(reasons.find("is truncated at byte"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("field 'shape' is '3,8,8'"), std::string::npos) << reasons;
}

// Runs 40 frames of 5 objects; `act` runs on this thread once `after` frames are done.
void RunWithActionMidway(Detector* detector, Transport* t, CellSettings cell, int after,
                         const std::function<void()>& act, CellResult* r, Status* s) {
  std::atomic<int64_t> done{0};
  cell.on_frame = [&](int64_t n) { done = n; };
  std::thread run([&] { *s = RunCell(cell, detector, 64, t, r); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done < after && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  act();
  run.join();
}

TEST_F(PipelineKafka, AWorkerKilledMidStreamLosesAndDuplicatesNoFrame) {
  std::unique_ptr<Transport> kafka;
  ASSERT_TRUE(CreateKafkaTransport(url_, names_, "kill", &kafka).ok());
  pid_t first = 0, second = 0;
  ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(), "first", &first).ok());
  CellResult r;
  Status s;
  RunWithActionMidway(detector_.get(), kafka.get(), Cell(5, 40), 5, [&] {
    workers_.Kill(first);
    ASSERT_TRUE(workers_.StartOne(optic::testing::OpticBinary(), WorkerArgs(), "second", &second).ok());
  }, &r, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectComplete(r, 40, 5);
  EXPECT_GT(r.workers["second"], 0) << "the replacement did part of the work";
}

TEST_F(PipelineKafka, ABrokerRestartMidRunLosesAndDuplicatesNoFrame) {
  std::unique_ptr<Transport> kafka;
  ASSERT_TRUE(CreateKafkaTransport(url_, names_, "restart", &kafka).ok());
  ASSERT_TRUE(workers_.Start(optic::testing::OpticBinary(), WorkerArgs(), 1, "restart").ok());
  CellResult r;
  Status s;
  const std::string port = std::to_string(port_);
  RunWithActionMidway(detector_.get(), kafka.get(), Cell(5, 40), 5, [&] {
    ASSERT_EQ(Sh(kScript + " stop --port " + port + " --dir " + *dir_), 0);
    ASSERT_EQ(Sh(kScript + " start --port " + port + " --dir " + *dir_), 0);
  }, &r, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectComplete(r, 40, 5);
}

}  // namespace
}  // namespace optic::pipeline

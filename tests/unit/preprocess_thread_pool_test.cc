// The CPU preprocessor's workers across batches: an exception in one task (one image) must not
// kill the process or leave the pool unusable, and an image whose decode buffer cannot be
// allocated fails alone (kOutOfMemory naming the image) while the next images decode.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

#include "optic/preprocess.h"
#include "preprocess/cpu/thread_pool.h"
#include "unit/preprocess_testing.h"

namespace optic {
namespace {

using preprocess::ThreadPool;

TEST(PreprocessThreadPool, ExceptionReachesTheCallerAndThePoolStaysUsable) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 3; ++round) {
      std::vector<std::atomic<int>> ran(16);
      EXPECT_THROW(pool.ParallelFor(16, [&](int i, int) {
                     ran[i]++;
                     if (i == 5 || i == 11) throw std::runtime_error("task failed");
                   }),
                   std::runtime_error) << threads << " threads";
      for (int i = 0; i < 16; ++i) EXPECT_EQ(ran[i].load(), 1) << "index " << i << " (every index still runs)";
      std::atomic<int> sum{0};
      pool.ParallelFor(100, [&](int i, int) { sum += i; });
      EXPECT_EQ(sum.load(), 4950) << threads << " threads, round " << round;
    }
  }
}

// Sets the frame size in the SOF marker (a header that asks for a huge image).
void PatchFrameSize(std::vector<uint8_t>* jpg, int w, int h) {
  for (size_t i = 2; i + 9 < jpg->size(); ++i) {
    if ((*jpg)[i] == 0xFF && (*jpg)[i + 1] == 0xC0) {
      (*jpg)[i + 5] = h >> 8; (*jpg)[i + 6] = h & 0xFF;
      (*jpg)[i + 7] = w >> 8; (*jpg)[i + 8] = w & 0xFF;
      return;
    }
  }
}

#if defined(__SANITIZE_ADDRESS__)
#define OPTIC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OPTIC_ASAN 1
#endif
#endif

// Runs in the death-test child: exits 0 when the huge image failed alone with kOutOfMemory.
[[noreturn]] void HugeImageThenGood() {
  const rlimit lim{rlim_t{1536} << 20, rlim_t{1536} << 20};
  setrlimit(RLIMIT_AS, &lim);
  auto huge = testing::RgbJpeg(64, 64, testing::Pattern::kGradient);
  PatchFrameSize(&huge, 30000, 30000);
  const auto good = testing::RgbJpeg(300, 200, testing::Pattern::kMixed);
  PreprocessOptions o;
  o.threads = 2;
  o.max_pixels = int64_t{1} << 40;
  o.dct_scaling = false;
  std::unique_ptr<Preprocessor> p;
  if (!CreatePreprocessor(o, Device{}, &p).ok()) std::exit(2);
  Tensor t = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, 3));
  std::vector<ImageResult> res;
  if (!p->Run({{"huge.jpg", huge.data(), huge.size()}, {"good.jpg", good.data(), good.size()},
               {"good2.jpg", good.data(), good.size()}}, &t, &res).ok()) std::exit(3);
  const bool named = res[0].status.code() == StatusCode::kOutOfMemory &&
                     res[0].status.message().find("'huge.jpg'") != std::string::npos;
  if (!named || !res[1].status.ok() || !res[2].status.ok()) std::exit(4);
  if (!p->Run({{"good.jpg", good.data(), good.size()}}, &t, &res).ok() || !res[0].status.ok()) std::exit(5);
  std::exit(0);
}

TEST(PreprocessThreadPool, ImageTooBigToAllocateFailsAlone) {
#ifdef OPTIC_ASAN
  GTEST_SKIP() << "an address-space limit breaks AddressSanitizer's shadow memory";
#endif
  // In a child process with 1.5 GB of address space: a header claiming 30000x30000 (2.7 GB of
  // RGB) under a raised pixel cap makes the decode buffer's allocation fail, without touching it.
  EXPECT_EXIT(HugeImageThenGood(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace optic

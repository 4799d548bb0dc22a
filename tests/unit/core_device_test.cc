// Device strings (optic/device.h): cpu, cuda, gpu, cuda:K and lists of them, and the check of a
// CUDA index against the GPUs visible to the process, whose message names the index, how many
// GPUs are visible and CUDA_VISIBLE_DEVICES.
#include <gtest/gtest.h>

#include <cstdlib>

#include "optic/backend.h"
#include "optic/device.h"
#include "optic/registry.h"

namespace optic {
namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(DeviceParse, AcceptsTheForms) {
  Device d;
  ASSERT_TRUE(ParseDevice("cpu", &d).ok());
  EXPECT_TRUE(d.is_cpu());
  ASSERT_TRUE(ParseDevice("CUDA", &d).ok());
  EXPECT_EQ(d, (Device{DeviceType::kCUDA, 0}));
  ASSERT_TRUE(ParseDevice("gpu", &d).ok());
  EXPECT_EQ(d, (Device{DeviceType::kCUDA, 0}));
  ASSERT_TRUE(ParseDevice(" cuda:3 ", &d).ok());
  EXPECT_EQ(d, (Device{DeviceType::kCUDA, 3}));
  EXPECT_EQ(DeviceName(d), "cuda:3");
  EXPECT_EQ(DeviceName(Device{DeviceType::kCUDA, 0}), "cuda");
}

TEST(DeviceParse, RejectsDamagedText) {
  Device d{DeviceType::kCUDA, 5};
  for (const char* bad : {"", "tpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1.5", "cuda:99999",
                          "cuda0", "cpu:0"}) {
    Status s = ParseDevice(bad, &d);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(Has(s.message(), "cuda:K")) << s.message();
  }
  EXPECT_EQ(d, (Device{DeviceType::kCUDA, 5}));  // untouched
}

TEST(DeviceParse, Lists) {
  std::vector<Device> v;
  ASSERT_TRUE(ParseDeviceList("cuda:0,cuda:1", &v).ok());
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1], (Device{DeviceType::kCUDA, 1}));
  EXPECT_EQ(DeviceListName(v), "cuda+cuda:1");
  ASSERT_TRUE(ParseDeviceList("cpu", &v).ok());
  EXPECT_EQ(v.size(), 1u);
  Status s = ParseDeviceList("cuda:0,,cuda:1", &v);
  EXPECT_TRUE(Has(s.message(), "empty entry")) << s.message();
  s = ParseDeviceList("cuda:1,cuda:1", &v);
  EXPECT_TRUE(Has(s.message(), "cuda:1 twice")) << s.message();
  s = ParseDeviceList("cuda,cuda:0", &v);  // the same GPU by two names
  EXPECT_FALSE(s.ok());
  s = ParseDeviceList("cuda:0,tpu", &v);
  EXPECT_TRUE(Has(s.message(), "'tpu'")) << s.message();
  EXPECT_EQ(v.size(), 1u);  // untouched by the failures
}

TEST(DeviceVisible, IndexAgainstTheVisibleGpus) {
  VisibleGpus one;
  one.count = 1;
  EXPECT_TRUE(CheckDeviceVisible(Device{}, one).ok());
  EXPECT_TRUE(CheckDeviceVisible(Device{DeviceType::kCUDA, 0}, one).ok());
  Status s = CheckDeviceVisible(Device{DeviceType::kCUDA, 7}, one);
  EXPECT_EQ(s.code(), StatusCode::kUnsupportedHardware);
  EXPECT_TRUE(Has(s.message(), "cuda:7")) << s.message();
  EXPECT_TRUE(Has(s.message(), "1 GPU is visible")) << s.message();
  EXPECT_TRUE(Has(s.message(), "CUDA_VISIBLE_DEVICES")) << s.message();
  VisibleGpus four;
  four.count = 4;
  s = CheckDeviceVisible(Device{DeviceType::kCUDA, 4}, four);
  EXPECT_TRUE(Has(s.message(), "4 GPUs are visible to this process (cuda:0 to cuda:3;")) << s.message();
  VisibleGpus none;
  none.reason = "no CUDA driver";
  s = CheckDeviceVisible(Device{DeviceType::kCUDA, 1}, none);
  EXPECT_TRUE(Has(s.message(), "cuda:1: no GPU is visible")) << s.message();
  EXPECT_TRUE(Has(s.message(), "no CUDA driver")) << s.message();
}

TEST(DeviceVisible, NotesCudaVisibleDevices) {
  const char* old = std::getenv("CUDA_VISIBLE_DEVICES");
  const std::string saved = old ? old : "";
  setenv("CUDA_VISIBLE_DEVICES", "2,3", 1);
  EXPECT_EQ(CudaVisibleDevicesNote(), "CUDA_VISIBLE_DEVICES=2,3");
  unsetenv("CUDA_VISIBLE_DEVICES");
  EXPECT_EQ(CudaVisibleDevicesNote(), "CUDA_VISIBLE_DEVICES unset");
  if (old) setenv("CUDA_VISIBLE_DEVICES", saved.c_str(), 1);
}

// This machine's own GPUs: one index past the last visible one is refused with the count (or the
// reason none is visible), also through a backend's load options.
TEST(DeviceVisible, ThisMachine) {
  const VisibleGpus& v = VisibleCudaDevices();
  EXPECT_EQ(v.uuids.size(), static_cast<size_t>(v.count));
  if (v.count == 0) EXPECT_FALSE(v.reason.empty());
  const Device past{DeviceType::kCUDA, v.count};
  Status s = CheckDeviceVisible(past);
  EXPECT_EQ(s.code(), StatusCode::kUnsupportedHardware);
  EXPECT_TRUE(Has(s.message(), "cuda:" + std::to_string(v.count))) << s.message();
  EXPECT_TRUE(Has(s.message(), v.count == 0 ? "no GPU is visible"
                                           : std::to_string(v.count) + " GPU"))
      << s.message();
  for (const std::string& name : BackendNames()) {
    std::unique_ptr<Backend> b;
    if (!CreateBackend(name, &b).ok()) continue;
    const auto devices = b->capabilities().devices;
    if (std::find(devices.begin(), devices.end(), DeviceType::kCUDA) == devices.end()) continue;
    LoadOptions o;
    o.device = past;
    s = ValidateLoadOptions(*b, o);
    EXPECT_EQ(s.code(), StatusCode::kUnsupportedHardware) << name << ": " << s.message();
    EXPECT_TRUE(Has(s.message(), name + ": cuda:" + std::to_string(v.count))) << s.message();
  }
}

}  // namespace
}  // namespace optic

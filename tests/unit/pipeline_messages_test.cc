// The pipeline's messages, box decoding and crops on hand-made input, damaged input included.
#include <gtest/gtest.h>

#include <cstring>

#include "pipeline/messages.h"
#include "pipeline/redis_client.h"
#include "pipeline/stages.h"

namespace optic::pipeline {
namespace {

Crop MakeCrop() {
  Crop c;
  c.frame = 7;
  c.object = 2;
  c.objects = 5;
  c.enqueue_ns = 123456789;
  c.reply = "optic:pipeline:results:r1";
  c.pixels = Tensor::EmptyOrDie(DType::kFP32, {3, 4, 4});
  for (int i = 0; i < 48; ++i) c.pixels.data<float>()[i] = static_cast<float>(i) * 0.5f;
  return c;
}

void Set(Fields* f, const std::string& key, const std::string& value) {
  for (auto& [k, v] : *f) {
    if (k == key) v = value;
  }
}

TEST(PipelineMessages, CropRoundTrips) {
  Crop out;
  ASSERT_TRUE(DecodeCrop(EncodeCrop(MakeCrop()), {3, 4, 4}, &out).ok());
  EXPECT_EQ(out.frame, 7);
  EXPECT_EQ(out.object, 2);
  EXPECT_EQ(out.objects, 5);
  EXPECT_EQ(out.enqueue_ns, 123456789);
  EXPECT_EQ(out.reply, "optic:pipeline:results:r1");
  EXPECT_EQ(std::memcmp(out.pixels.raw(), MakeCrop().pixels.raw(), 48 * sizeof(float)), 0);
}

TEST(PipelineMessages, DamagedCropsNameTheField) {
  struct Case {
    std::string key, value, expect;
  } cases[] = {
      {"frame", "x12", "field 'frame' is not an integer"},
      {"frame", "", "field 'frame' is not an integer"},
      {"object", "5", "field 'object' = 5 is outside 0..4"},
      {"objects", "0", "field 'objects' = 0 is outside"},
      {"shape", "3,8,8", "field 'shape' is '3,8,8', the embedder takes '3,4,4'"},
      {"data", std::string(17, 'a'), "field 'data' has 17 bytes, shape 3,4,4 fp32 needs 192"},
      {"reply", "", "field 'reply' is missing or empty"},
  };
  for (const Case& c : cases) {
    Fields f = EncodeCrop(MakeCrop());
    Set(&f, c.key, c.value);
    Crop out;
    out.frame = -1;
    Status s = DecodeCrop(f, {3, 4, 4}, &out);
    EXPECT_FALSE(s.ok()) << c.key;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_EQ(out.frame, -1) << "a rejected message leaves the output alone";
  }
  Crop out;
  Status s = DecodeCrop({{"garbage", "\x01\x02"}}, {3, 4, 4}, &out);
  EXPECT_NE(s.message().find("field 'frame' is missing"), std::string::npos) << s.message();
}

TEST(PipelineMessages, ResultRoundTripsAndRejectsTruncatedEmbedding) {
  Result r{3, 1, 10, 20, 30, 4, "w0", {0.25f, -1.0f, 2.0f}};
  Result out;
  ASSERT_TRUE(DecodeResult(EncodeResult(r), &out).ok());
  EXPECT_EQ(out.frame, 3);
  EXPECT_EQ(out.batch, 4);
  EXPECT_EQ(out.worker, "w0");
  EXPECT_EQ(out.embedding, r.embedding);
  Fields f = EncodeResult(r);
  Set(&f, "emb", "abcde");
  EXPECT_NE(DecodeResult(f, &out).message().find("field 'emb'"), std::string::npos);
}

TEST(PipelineMessages, BrokerUrls) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(ParseRedisUrl("redis://127.0.0.1:6390", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 6390);
  for (const char* bad : {"127.0.0.1:6379", "redis://host", "redis://host:0", "redis://host:70000",
                          "redis://host:12x", "kafka://host:9092", "redis://:6379"}) {
    Status s = ParseRedisUrl(bad, &host, &port);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find(bad), std::string::npos) << s.message();
  }
}

TEST(PipelineStages, SyntheticBoxesAreExactAndInside) {
  for (int n : {0, 1, 2, 5, 9, 16, 25}) {
    auto boxes = SyntheticBoxes(n, 160, 120, 3);
    ASSERT_EQ(static_cast<int>(boxes.size()), n);
    for (const Box& b : boxes) {
      EXPECT_GE(b.x1, 0);
      EXPECT_GE(b.y1, 0);
      EXPECT_LE(b.x2, 160);
      EXPECT_LE(b.y2, 120);
      EXPECT_GT(b.x2 - b.x1, 1);
    }
  }
}

TEST(PipelineStages, CropResizeSamplesTheBox) {
  // A frame whose value is its x coordinate: a crop of x in [40, 80) has values in that range,
  // increasing left to right, on every channel.
  Tensor frame = Tensor::EmptyOrDie(DType::kFP32, {1, 3, 50, 100});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 50; ++y)
      for (int x = 0; x < 100; ++x) frame.data<float>()[(c * 50 + y) * 100 + x] = static_cast<float>(x);
  Tensor crop;
  ASSERT_TRUE(CropResize(frame, {40, 10, 80, 30, 1}, 8, &crop).ok());
  ASSERT_EQ(crop.shape(), (Shape{3, 8, 8}));
  const float* p = crop.data<float>();
  EXPECT_NEAR(p[0], 42.0f, 0.51f);
  EXPECT_NEAR(p[7], 77.0f, 0.51f);
  EXPECT_FLOAT_EQ(p[2 * 64 + 5 * 8 + 3], p[3]);
  Tensor wrong = Tensor::EmptyOrDie(DType::kFP32, {3, 50, 100});
  EXPECT_FALSE(CropResize(wrong, {0, 0, 10, 10, 1}, 8, &crop).ok());
}

TEST(PipelineStages, DecodeBoxesThresholdsAndSuppresses) {
  // A 2x2 grid on a 16x16 input (stride 8): cells (0,0) and (0,1) fire, (1,1) is below threshold.
  Tensor s = Tensor::EmptyOrDie(DType::kFP32, {1, 1, 2, 2});
  Tensor b = Tensor::EmptyOrDie(DType::kFP32, {1, 4, 2, 2});
  float sc[] = {3.0f, 2.0f, -5.0f, -0.1f};
  std::memcpy(s.raw(), sc, sizeof(sc));
  std::memset(b.raw(), 0, 16 * sizeof(float));  // centred in the cell, 1x1 cell in size
  DetectorSettings st;
  auto boxes = DecodeBoxes(s, b, 16, 16, st);
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_GT(boxes[0].score, boxes[1].score);
  EXPECT_FLOAT_EQ(boxes[0].x1, 0.0f);
  EXPECT_FLOAT_EQ(boxes[0].x2, 8.0f);
  EXPECT_FLOAT_EQ(boxes[1].x1, 8.0f);
  // Boxes 3 cells wide overlap: NMS keeps the stronger one.
  for (int k = 8; k < 16; ++k) b.data<float>()[k] = 1.0986f;  // log 3
  boxes = DecodeBoxes(s, b, 16, 16, st);
  EXPECT_EQ(boxes.size(), 1u);
  st.max_objects = 0;
  EXPECT_TRUE(DecodeBoxes(s, b, 16, 16, st).empty());
}

}  // namespace
}  // namespace optic::pipeline

// The gRPC codec onto the typed inference service: a ModelInferRequest's raw_input_contents reach
// the validated request as borrowed memory (no JSON body, no copy) and the answer's
// raw_output_contents come from the output tensors; the same malformed request gets the same
// status and message over HTTP (KServe binary extension) and gRPC, through the real service and
// a null-backend model. And the HTTP codec's header form, whose binary outputs are sent from
// the tensors themselves.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "server/codec.h"
#include "server/grpc_codec.h"
#include "server/inference_service.h"
#include "server/router.h"
#include "unit/server_repository_testing.h"

namespace optic::server {
namespace {

std::string Floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

inference::ModelInferRequest GrpcRequest(const std::string& name, const std::string& datatype,
                                         Shape shape, std::string raw) {
  inference::ModelInferRequest m;
  m.set_model_name("m");
  m.set_id("req-1");
  auto* in = m.add_inputs();
  in->set_name(name);
  in->set_datatype(datatype);
  for (int64_t d : shape) in->add_shape(d);
  m.add_raw_input_contents(std::move(raw));
  return m;
}

// The same input as a binary-extension body: JSON header, then the raw bytes.
std::string HttpBody(const std::string& name, const std::string& datatype, Shape shape,
                     const std::string& raw, size_t* header_length) {
  nlohmann::json h = {{"id", "req-1"},
                      {"inputs",
                       {{{"name", name},
                         {"datatype", datatype},
                         {"shape", shape},
                         {"parameters", {{"binary_data_size", raw.size()}}}}}},
                      {"parameters", {{"binary_data_output", true}}}};
  std::string body = h.dump();
  *header_length = body.size();
  return body + raw;
}

TEST(GrpcCodecTest, RawInputsAreBorrowedAndOutputsWrittenFromTensors) {
  const ModelSignature sig{{{"input", DType::kFP32, {3}}}, {{"output", DType::kFP32, {3}}}, 4};
  auto msg = GrpcRequest("input", "FP32", {2, 3}, Floats({1, 2, 3, 4, 5, 6}));
  InferenceRequest typed;
  ASSERT_TRUE(DecodeInferRequest(msg, nullptr, &typed).ok());
  ASSERT_EQ(typed.inputs.size(), 1u);
  EXPECT_EQ(typed.inputs[0].raw.data(), msg.raw_input_contents(0).data());
  ParsedInferRequest parsed;
  ASSERT_TRUE(ValidateInferRequest(typed, sig, CodecLimits{}, &parsed).ok());
  EXPECT_EQ(parsed.rows, 2);
  // The tensor the batcher gets points into the protobuf's own bytes.
  EXPECT_EQ(parsed.inputs[0].raw(), static_cast<const void*>(msg.raw_input_contents(0).data()));
  EXPECT_EQ(parsed.inputs[0].shape(), (Shape{2, 3}));

  Tensor out;
  ASSERT_TRUE(Tensor::Empty(DType::kFP32, {2, 3}, &out).ok());
  for (int i = 0; i < 6; ++i) out.data<float>()[i] = 0.5f * static_cast<float>(i);
  InferenceResponse r;
  r.model_name = "m";
  r.model_version = "1";
  r.id = "req-1";
  r.outputs = {{"output", true}};
  r.tensors = {out};
  inference::ModelInferResponse pb;
  EncodeInferResponse(r, &pb);
  ASSERT_EQ(pb.raw_output_contents_size(), 1);
  ASSERT_EQ(pb.raw_output_contents(0).size(), out.nbytes());
  EXPECT_EQ(std::memcmp(pb.raw_output_contents(0).data(), out.raw(), out.nbytes()), 0);
  EXPECT_EQ(pb.outputs(0).datatype(), "FP32");
  EXPECT_EQ(pb.outputs(0).shape_size(), 2);
  EXPECT_EQ(pb.id(), "req-1");
}

TEST(GrpcCodecTest, TypedContentsAreConvertedIntoTheModelType) {
  const ModelSignature sig{{{"input", DType::kINT64, {2}}}, {}, 0};
  inference::ModelInferRequest m;
  auto* in = m.add_inputs();
  in->set_name("input");
  in->set_datatype("INT64");
  in->add_shape(2);
  in->mutable_contents()->add_int64_contents(7);
  in->mutable_contents()->add_int64_contents(-3);
  InferenceRequest typed;
  ASSERT_TRUE(DecodeInferRequest(m, nullptr, &typed).ok());
  ParsedInferRequest parsed;
  ASSERT_TRUE(ValidateInferRequest(typed, sig, CodecLimits{}, &parsed).ok());
  ASSERT_EQ(parsed.inputs[0].dtype(), DType::kINT64);
  EXPECT_EQ(parsed.inputs[0].data<int64_t>()[0], 7);
  EXPECT_EQ(parsed.inputs[0].data<int64_t>()[1], -3);
  in->mutable_contents()->add_int64_contents(1);  // three values for shape [2]
  ASSERT_TRUE(DecodeInferRequest(m, nullptr, &typed).ok());
  Status s = ValidateInferRequest(typed, sig, CodecLimits{}, &parsed);
  EXPECT_EQ(s.message(), "input 'input': data has more elements than its shape");
}

TEST(GrpcCodecTest, StatusMapsOntoGrpcCodes) {
  EXPECT_EQ(ToGrpcStatus(Status::InvalidArgument("x")).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(Status::NotFound("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(Status::Unavailable("x")).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(Status::Unsupported("x")).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ToGrpcStatus(Status::Internal("x")).error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(ToGrpcStatus(Status::NotFound("model 'q'")).error_message(), "model 'q'");
}

class ServiceTest : public optic::testing::NullModelRepositoryTest {
 protected:
  void SetUp() override {
    NullModelRepositoryTest::SetUp();
    ASSERT_TRUE(repo_->LoadAll().ok());
    service_ = std::make_unique<InferenceService>(repo_.get(), ServiceOptions{});
  }
  void TearDown() override {
    service_.reset();
    NullModelRepositoryTest::TearDown();
  }
  // Runs the request through the service and waits for its answer.
  InferenceResponse Run(InferenceRequest request) {
    std::mutex mu;
    std::condition_variable cv;
    bool answered = false;
    InferenceResponse out;
    service_->Infer(std::move(request), [&](InferenceResponse r) {
      r.finish(r.status);
      std::lock_guard<std::mutex> lock(mu);
      out = std::move(r);
      answered = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return answered; });
    return out;
  }
  InferenceResponse OverGrpc(const inference::ModelInferRequest& msg) {
    InferenceRequest typed;
    grpc::Status s = DecodeInferRequest(msg, nullptr, &typed);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return Run(std::move(typed));
  }
  InferenceResponse OverHttp(const std::shared_ptr<const std::string>& body, size_t header_length) {
    InferenceRequest typed;
    Status s = DecodeInferRequest(*body, header_length, &typed);
    EXPECT_TRUE(s.ok()) << s.message();
    typed.model = "m";
    typed.keep_alive = body;
    return Run(std::move(typed));
  }
  std::unique_ptr<InferenceService> service_;
};

TEST_F(ServiceTest, GrpcRequestRunsWithoutJson) {
  auto msg = GrpcRequest("input", "FP32", {2, 3}, Floats({1, 2, 3, 4, 5, 6}));
  InferenceResponse r = OverGrpc(msg);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  inference::ModelInferResponse pb;
  EncodeInferResponse(r, &pb);
  EXPECT_EQ(pb.model_name(), "m");
  EXPECT_EQ(pb.model_version(), "1");
  EXPECT_EQ(pb.id(), "req-1");
  ASSERT_EQ(pb.outputs_size(), 1);
  EXPECT_EQ(pb.outputs(0).name(), "output");
  EXPECT_EQ(pb.raw_output_contents(0), msg.raw_input_contents(0));  // the identity model
  EXPECT_EQ(service_->InFlight(), 0);
}

TEST_F(ServiceTest, MalformedRequestGetsTheSameAnswerOverHttpAndGrpc) {
  struct Case {
    const char* what;
    std::string name, datatype;
    Shape shape;
    std::string raw;
  };
  const std::vector<Case> cases = {
      {"wrong datatype", "input", "INT32", {1, 3}, std::string(12, '\0')},
      {"wrong shape", "input", "FP32", {1, 4}, std::string(16, '\0')},
      {"batch too large", "input", "FP32", {9, 3}, std::string(108, '\0')},
      {"unknown input", "pixels", "FP32", {1, 3}, std::string(12, '\0')},
      {"byte size mismatch", "input", "FP32", {1, 3}, std::string(8, '\0')},
  };
  for (const auto& c : cases) {
    size_t hlen = 0;
    auto body = std::make_shared<const std::string>(HttpBody(c.name, c.datatype, c.shape, c.raw, &hlen));
    const InferenceResponse http = OverHttp(body, hlen);
    const InferenceResponse grpc = OverGrpc(GrpcRequest(c.name, c.datatype, c.shape, c.raw));
    ASSERT_FALSE(http.status.ok()) << c.what;
    EXPECT_EQ(http.status.code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(http.status.message(), grpc.status.message()) << c.what;
    EXPECT_EQ(ToGrpcStatus(grpc.status).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what;
    EXPECT_EQ(ErrorReply(http.status).status, 400) << c.what;
  }
}

}  // namespace
}  // namespace optic::server

namespace optic::server {
namespace {

// The HTTP answer's header form sends the binary outputs from the tensors themselves (no copy),
// and header + outputs are byte for byte the body the copying form builds.
TEST(HttpCodecTest, BinaryOutputsTravelFromTheTensorsNotACopy) {
  InferenceResponse r;
  r.model_name = "m";
  r.model_version = "1";
  r.id = "a";
  Tensor t = Tensor::EmptyOrDie(DType::kFP32, {1, 3});
  for (int i = 0; i < 3; ++i) t.data<float>()[i] = float(i) + 0.5f;
  Tensor u = Tensor::EmptyOrDie(DType::kFP32, {1, 2});
  u.data<float>()[0] = 7, u.data<float>()[1] = 8;
  r.outputs = {{"y", true}, {"z", false}, {"w", true}};
  r.tensors = {t, u, u};
  EncodedResponse header, whole;
  ASSERT_TRUE(EncodeInferResponseHeader(r, &header).ok());
  ASSERT_TRUE(EncodeInferResponse(r, &whole).ok());
  ASSERT_EQ(header.tail.size(), 2u);  // the binary outputs only, in order; "z" is JSON data
  EXPECT_EQ(header.tail[0].raw(), t.raw());
  EXPECT_EQ(header.tail[1].raw(), u.raw());
  EXPECT_EQ(header.header_length, header.body.size());
  EXPECT_EQ(whole.header_length, header.header_length);
  EXPECT_TRUE(whole.tail.empty());
  std::string joined = header.body;
  for (const Tensor& x : header.tail) joined.append(static_cast<const char*>(x.raw()), x.nbytes());
  EXPECT_EQ(joined, whole.body);
  EXPECT_NE(whole.body.find("\"data\":[7.0,8.0]"), std::string::npos) << whole.body.substr(0, 300);
}

}  // namespace
}  // namespace optic::server

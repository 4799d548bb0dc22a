// ModelStreamInfer (Triton's bidirectional streaming inference, used by tritonclient's
// start_stream/async_stream_infer and perf_analyzer --streaming): every request read from the
// stream goes through the Router like a unary ModelInfer, so it is batched with other traffic;
// answers are written as they complete, one write in flight at a time.
#include <deque>
#include <mutex>

#include "grpc_internal.h"

namespace optic::server::grpc_detail {
namespace {

using StreamResponse = inference::ModelStreamInferResponse;

class StreamReactor final : public grpc::ServerBidiReactor<inference::ModelInferRequest, StreamResponse> {
 public:
  StreamReactor(Router* router, std::string authorization)
      : router_(router), authorization_(std::move(authorization)) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed (or the call broke): answer what is pending, then finish
      {
        std::lock_guard<std::recursive_mutex> lock(mu_);
        reads_done_ = true;
      }
      MaybeFinish();
      return;
    }
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      ++pending_;
    }
    Submit(request_);
    request_.Clear();
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      queue_.pop_front();
      if (!ok) {
        broken_ = true;
        queue_.clear();
      }
      if (!queue_.empty()) {
        StartWrite(&queue_.front());
        return;
      }
      writing_ = false;
    }
    MaybeFinish();
  }

  void OnDone() override { delete this; }

 private:
  void Submit(const inference::ModelInferRequest& in) {
    const std::string id = in.id();
    auto body = std::make_shared<std::string>();
    size_t hlen = 0;
    grpc::Status s = BuildBody(in, body.get(), &hlen);
    if (!s.ok()) {
      Answer(id, s, nullptr);
      return;
    }
    HttpRequestView v;
    v.method = "POST";
    v.target = InferTarget(in.model_name(), in.model_version());
    v.body = std::move(body);
    v.header_length = std::to_string(hlen);
    v.authorization = authorization_;
    // The reactor lives until every pending request has been answered (MaybeFinish).
    router_->Handle(v, [this, id](HttpReply r) {
      StreamResponse resp;
      grpc::Status st = r.status == 200 ? ParseAnswer(r, resp.mutable_infer_response()) : ErrorFromReply(r);
      Answer(id, st, &resp);
    });
  }

  void Answer(const std::string& id, const grpc::Status& status, StreamResponse* ok_response) {
    StreamResponse resp;
    if (status.ok() && ok_response != nullptr) {
      resp = std::move(*ok_response);
    } else {
      resp.set_error_message(status.error_message());
      resp.mutable_infer_response()->set_id(id);
    }
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      --pending_;
      if (!broken_) {
        queue_.push_back(std::move(resp));  // deque: the element being written does not move
        if (!writing_) {
          writing_ = true;
          StartWrite(&queue_.front());
        }
      }
    }
    MaybeFinish();
  }

  void MaybeFinish() {
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (!reads_done_ || pending_ > 0 || writing_ || finished_) return;
      finished_ = true;
    }
    Finish(grpc::Status::OK);
  }

  Router* router_;
  std::string authorization_;
  inference::ModelInferRequest request_;  // the read buffer; reads are sequential
  std::recursive_mutex mu_;  // recursive: gRPC may run OnWriteDone inline in StartWrite
  std::deque<StreamResponse> queue_;
  int64_t pending_ = 0;
  bool reads_done_ = false, writing_ = false, finished_ = false, broken_ = false;
};

}  // namespace

grpc::ServerBidiReactor<inference::ModelInferRequest, StreamResponse>* NewStreamReactor(
    Router* router, grpc::CallbackServerContext* ctx) {
  return new StreamReactor(router, Authorization(ctx));
}

}  // namespace optic::server::grpc_detail

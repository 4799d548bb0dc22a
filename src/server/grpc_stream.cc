// ModelStreamInfer (Triton's bidirectional streaming inference, used by tritonclient's
// start_stream/async_stream_infer and perf_analyzer --streaming): every request read from the
// stream goes to the InferenceService like a unary ModelInfer, so it is batched with other
// traffic; answers are written as they complete, one write in flight at a time.
#include <deque>
#include <mutex>

#include "grpc_codec.h"
#include "grpc_internal.h"

namespace optic::server::grpc_detail {
namespace {

using StreamResponse = inference::ModelStreamInferResponse;

class StreamReactor final : public grpc::ServerBidiReactor<inference::ModelInferRequest, StreamResponse> {
 public:
  StreamReactor(InferenceService* service, const PostFn* post, std::string authorization)
      : service_(service), post_(post), authorization_(std::move(authorization)) {
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
    // The request's own message is moved out of the read buffer: its inputs are borrowed until
    // the answer, while the next read fills the buffer.
    auto message = std::make_shared<inference::ModelInferRequest>();
    message->Swap(&request_);
    Submit(std::move(message));
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
  void Submit(std::shared_ptr<const inference::ModelInferRequest> message) {
    const std::string id = message->id();
    if (!service_->Authorized(authorization_)) return Answer(id, Unauthenticated(), nullptr);
    InferenceRequest typed;
    grpc::Status s = DecodeInferRequest(*message, message, &typed);
    if (!s.ok()) return Answer(id, s, nullptr);
    // The reactor lives until every pending request has been answered (MaybeFinish).
    service_->Infer(std::move(typed), [this, id](InferenceResponse response) {
      auto r = std::make_shared<InferenceResponse>(std::move(response));
      (*post_)([this, id, r] {
        StreamResponse resp;
        if (r->status.ok()) EncodeInferResponse(*r, resp.mutable_infer_response());
        r->finish(r->status);
        Answer(id, ToGrpcStatus(r->status), &resp);
      });
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

  InferenceService* service_;
  const PostFn* post_;
  std::string authorization_;
  inference::ModelInferRequest request_;  // the read buffer; reads are sequential
  std::recursive_mutex mu_;  // recursive: gRPC may run OnWriteDone inline in StartWrite
  std::deque<StreamResponse> queue_;
  int64_t pending_ = 0;
  bool reads_done_ = false, writing_ = false, finished_ = false, broken_ = false;
};

}  // namespace

grpc::ServerBidiReactor<inference::ModelInferRequest, StreamResponse>* NewStreamReactor(
    InferenceService* service, const PostFn* post, grpc::CallbackServerContext* ctx) {
  return new StreamReactor(service, post, Authorization(ctx));
}

}  // namespace optic::server::grpc_detail

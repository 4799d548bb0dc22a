// Status: the one error type of optic's API. No exception crosses a public function; every
// fallible call returns a Status (or fills an out-parameter and returns one).
// Thread safety: a Status is a value; copies are independent.
#pragma once

#include <string>
#include <utility>

namespace optic {

// Codes map onto HTTP statuses (see HttpStatus) so the server can answer with them unchanged.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,      // bad option, shape, dtype, file contents: 400
  kNotFound,             // missing file, model, backend: 404
  kUnavailable,          // queue full, shutting down, timed out in queue: 503
  kUnsupported,          // the backend cannot do this (precision, operator, format): 501
  kUnsupportedHardware,  // the machine lacks what is needed (no GPU, no AVX-512 BF16): 501
  kOutOfMemory,          // host or device allocation failed: 500
  kCancelled,            // the caller asked to stop: 499-like, reported as 400
  kInternal,             // a framework failed or an invariant broke: 500
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status UnsupportedHardware(std::string m) {
    return {StatusCode::kUnsupportedHardware, std::move(m)};
  }
  static Status OutOfMemory(std::string m) { return {StatusCode::kOutOfMemory, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: <message>", or "OK".
  std::string ToString() const;
  // The HTTP status the KServe v2 protocol (and Triton) uses for this code.
  int HttpStatus() const;
  // Returns a Status with the same code and "<prefix>: <message>", to add context on the way up.
  Status Prefixed(const std::string& prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace optic

#define OPTIC_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::optic::Status optic_status_ = (expr);      \
    if (!optic_status_.ok()) return optic_status_; \
  } while (0)

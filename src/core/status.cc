#include "optic/status.h"

namespace optic {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kUnsupported: return "UNSUPPORTED";
    case StatusCode::kUnsupportedHardware: return "UNSUPPORTED_HARDWARE";
    case StatusCode::kOutOfMemory: return "OUT_OF_MEMORY";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

int Status::HttpStatus() const {
  switch (code_) {
    case StatusCode::kOk: return 200;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kUnsupported:
    case StatusCode::kUnsupportedHardware: return 501;
    case StatusCode::kOutOfMemory:
    case StatusCode::kInternal: return 500;
    case StatusCode::kInvalidArgument:
    case StatusCode::kCancelled: return 400;
  }
  return 500;
}

Status Status::Prefixed(const std::string& prefix) const {
  if (ok()) return *this;
  return Status(code_, prefix + ": " + message_);
}

}  // namespace optic

// gRPC for a build without the server's dependencies (src/server/CMakeLists.txt): the protocol
// is named, and why it is missing.
#include "loadgen/transport.h"

namespace optic::loadgen {

Status CreateGrpcTransport(const LoadSettings& settings, std::unique_ptr<Transport>* out) {
  (void)settings;
  out->reset();
  return Status::Unsupported(
      "--protocol grpc: this optic was built without gRPC (the server build is off: it needs "
      "libprotobuf-dev, libgrpc++-dev and protobuf-compiler-grpc; rebuild with them, or use "
      "--protocol http)");
}

}  // namespace optic::loadgen

// libFuzzer target for the KServe v2 request parser and response encoder (src/server/codec.cc):
// the bytes a client controls (JSON header, binary tensor section, header-length value).
// Input layout: byte 0 bit 0 set -> binary request, bytes 1..2 = header length (big endian),
// body from byte 3; otherwise a JSON request, body from byte 1. Byte 0 bit 1 set -> the model
// takes one BYTES input "image" (JPEG-in models: length-prefixed elements, JSON/base64 strings).
// Build: with clang (-fsanitize=fuzzer,address,undefined); run: fuzz_infer_request -max_total_time=20
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "codec.h"

using namespace optic;
using namespace optic::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const ModelSignature sig{
      {{"input", DType::kFP32, {3, 4}}, {"mask", DType::kUINT8, {-1}}},
      {{"input", DType::kFP32, {3, 4}}, {"mask", DType::kUINT8, {-1}}},
      8};
  static const ModelSignature bytes_sig{{{"image", DType::kFP32, {1}, /*bytes=*/true}}, {}, 8};
  const bool bytes = (data[0] & 2) != 0;
  std::optional<uint64_t> hlen;
  size_t start = 1;
  if ((data[0] & 1) && size >= 3) {
    hlen = (uint64_t{data[1]} << 8) | data[2];
    start = 3;
  }
  std::string_view body(reinterpret_cast<const char*>(data) + start, size - start);
  CodecLimits limits;
  limits.max_elements = 1 << 16;
  ParsedInferRequest req;
  if (!ParseInferRequest(body, hlen, bytes ? bytes_sig : sig, limits, &req).ok()) return 0;
  if (bytes) {
    // Every element view lies inside the body or the request's own strings.
    size_t total = 0;
    for (auto e : req.bytes[0].elements) total += e.size();
    return total > (size_t{1} << 40) ? 1 : 0;
  }
  // A parsed request is consistent: echo it through the encoder like the identity model would.
  EncodedResponse out;
  (void)EncodeInferResponse("m", "1", req, sig, req.inputs, &out);
  return 0;
}

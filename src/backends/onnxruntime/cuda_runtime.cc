#include "cuda_runtime.h"

#include <dlfcn.h>

#include <mutex>

namespace optic::ort_cuda {
namespace {

// cudaMemcpyKind values of the CUDA runtime API.
constexpr int kHostToDevice = 1;
constexpr int kDeviceToHost = 2;

struct Runtime {
  int (*stream_create)(Stream*, unsigned) = nullptr;  // cudaStreamCreateWithFlags
  int (*stream_destroy)(Stream) = nullptr;
  int (*stream_sync)(Stream) = nullptr;
  int (*memcpy_async)(void*, const void*, size_t, int, Stream) = nullptr;
  const char* (*error_string)(int) = nullptr;
};

template <typename F>
bool Sym(void* lib, const char* name, F* f) {
  *f = reinterpret_cast<F>(dlsym(lib, name));
  return *f != nullptr;
}

const Runtime* Get(std::string* failure) {
  static std::once_flag once;
  static Runtime rt;
  static std::string why;
  static bool ok = false;
  std::call_once(once, [] {
    void* lib = nullptr;
    for (const char* name : {"libcudart.so.13", "libcudart.so.12", "libcudart.so"}) {
      lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib) break;
    }
    if (!lib) {
      why = "onnxruntime: libcudart.so.13 (or .12) is not loadable; put the CUDA runtime on the "
            "library path";
      return;
    }
    ok = Sym(lib, "cudaStreamCreateWithFlags", &rt.stream_create) &&
         Sym(lib, "cudaStreamDestroy", &rt.stream_destroy) &&
         Sym(lib, "cudaStreamSynchronize", &rt.stream_sync) &&
         Sym(lib, "cudaMemcpyAsync", &rt.memcpy_async) &&
         Sym(lib, "cudaGetErrorString", &rt.error_string);
    if (!ok) why = "onnxruntime: the CUDA runtime library lacks a symbol optic needs";
  });
  if (!ok) *failure = why;
  return ok ? &rt : nullptr;
}

Status Check(int code, const char* what) {
  if (code == 0) return Status::OK();
  std::string unused;
  const Runtime* rt = Get(&unused);
  return Status::Internal(std::string("onnxruntime: ") + what + " failed: " +
                          (rt ? rt->error_string(code) : "CUDA error " + std::to_string(code)));
}

}  // namespace

Status Open() {
  std::string failure;
  return Get(&failure) ? Status::OK() : Status::UnsupportedHardware(failure);
}

Status CreateStream(Stream* stream) {
  OPTIC_RETURN_IF_ERROR(Open());
  std::string unused;
  return Check(Get(&unused)->stream_create(stream, /*cudaStreamNonBlocking=*/1), "cudaStreamCreate");
}

void DestroyStream(Stream stream) {
  std::string unused;
  if (const Runtime* rt = Get(&unused); rt && stream) rt->stream_destroy(stream);
}

Status CopyToDevice(void* dst, const void* src, size_t bytes, Stream stream) {
  std::string unused;
  return Check(Get(&unused)->memcpy_async(dst, src, bytes, kHostToDevice, stream),
               "cudaMemcpyAsync to the device");
}

Status CopyToHost(void* dst, const void* src, size_t bytes, Stream stream) {
  std::string unused;
  return Check(Get(&unused)->memcpy_async(dst, src, bytes, kDeviceToHost, stream),
               "cudaMemcpyAsync to the host");
}

Status Synchronize(Stream stream) {
  std::string unused;
  return Check(Get(&unused)->stream_sync(stream), "cudaStreamSynchronize");
}

}  // namespace optic::ort_cuda

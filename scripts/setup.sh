#!/usr/bin/env bash
# Installs every dependency optic needs on a fresh Debian 12 (bookworm) x86-64 machine, at pinned
# versions, into the system (Debian packages) and into the repository (.venv, .deps). Idempotent:
# a second run only checks. Downloads are cached under ${OPTIC_CACHE:-$HOME/.cache/optic}.
#   scripts/setup.sh            dependencies only
#   OPTIC_CUDA_TOOLCHAIN=1 scripts/setup.sh   also the CUDA 13.0 compiler, runtime and nvJPEG
#                               from pip, laid out as a CUDA root in .deps/cuda (no driver needed
#                               to build; running needs a GPU driver)
# Used by scripts/quickstart.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${OPTIC_CACHE:-$HOME/.cache/optic}
mkdir -p "$CACHE" .deps

# Pinned versions. Debian packages come from bookworm; their versions are those of Debian 12.11,
# recorded in docs/dependencies.md (apt cannot pin across point releases without breaking).
ORT_NPM_VERSION=0.4.9        # npm com.github.asus4.onnxruntime: ONNX Runtime 1.29.0 headers + Linux x64 lib
OPENVINO_VERSION=2026.4.1    # PyPI openvino: runtime, C++ headers and CMake package
TRITONCLIENT_VERSION=2.73.0  # PyPI tritonclient[http,grpc]: protocol tests of optic serve
ORT_PY_VERSION=1.29.0        # PyPI onnxruntime: int8 quantization at export, reference loop in bench/
ONNX_PY_VERSION=1.17.0       # PyPI onnx: onnxruntime's quantizer needs it (models export --formats
                             # onnx-int8); cp311 wheel, accepts Debian's numpy 1.24 and protobuf
OPENCV_PY_VERSION=4.10.0.84  # PyPI opencv-python-headless: baseline in bench/preprocess_cpu.py only
                             # (the last release that accepts Debian's numpy 1.24)
# CUDA 13.0 toolchain wheels (OPTIC_CUDA_TOOLCHAIN=1): newest 13.0.x of each on PyPI. nvcc pulls
# crt and nvvm unpinned (pip would take 13.5, whose PTX the 13.0 ptxas rejects), so they are pinned.
CUDA_WHEELS="nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 nvidia-nvjpeg==13.0.3.75 nvidia-nvml-dev==13.0.87"
PYTEST_VERSION=8.3.3         # PyPI pytest: the Python tests
# The Python package (pyproject.toml, `pip install --no-build-isolation .`): its build backend and
# binding library, and scikit-build-core's one dependency pip would not find in Debian's set.
PYBUILD_WHEELS="scikit-build-core==1.1.2 nanobind==2.9.2 pathspec==1.1.1"
ONNX2TORCH_VERSION=1.5.15    # PyPI onnx2torch: ONNX -> TorchScript conversion (tools/zoo/convert.py)
TIMM_VERSION=1.0.31          # PyPI timm: zoo models torchvision lacks (inception_v3/v4, mobilenet v1)
IREE_VERSION=3.13.0          # PyPI iree-base-compiler + iree-base-runtime (cp311): the iree backend
                             # (ONNX import, iree-compile, the runtime's Python bindings), in .venv
# tvm backend: its own venv (.deps/tvm-venv, no system site-packages): apache-tvm 0.27 needs
# ml_dtypes 0.7, which needs numpy 2 (Debian's is 1.24). tvm-ffi 0.1.14: with 0.1.15 meta-schedule
# tuning segfaults in tvm::ffi::ToJSONGraph. psutil, cloudpickle, xgboost-cpu: meta-schedule's
# tuning workers and cost model.
TVM_WHEELS="apache-tvm==0.27.0.post1 apache-tvm-ffi==0.1.14.post1 onnx==1.17.0 numpy==2.4.6 ml_dtypes==0.7.0 protobuf==7.36.2 typing_extensions==4.16.0 psutil==7.2.2 cloudpickle==3.1.3 xgboost-cpu==3.2.0 scipy==1.17.1"
# nncf backend of `optic models export --formats openvino-int8`: its own venv (.deps/nncf-venv, no
# system site-packages), as NNCF's scipy and scikit-learn need numpy 2 and .venv keeps Debian's 1.24.
NNCF_WHEELS="nncf==3.4.0 openvino==$OPENVINO_VERSION numpy==2.4.6 scipy==1.17.1 scikit-learn==1.9.1 networkx==3.6.1 pydot==4.0.1 rich==15.0.0 safetensors==0.8.0 tabulate==0.10.0 ninja==1.13.2 psutil==7.2.2"
APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libtorch-dev python3-torch python3-torchvision python3-venv python3-pip
  # Debian's libtorch calls the system libblas.so.3 (BLAS_INFO=generic); without this it is the
  # netlib reference BLAS and vit_b_16 runs ~5x slower. The OpenMP build shares libtorch's pool.
  libopenblas0-openmp
  libturbojpeg0-dev libjs-chart.js chromium
  libboost-dev libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc clang libclang-rt-14-dev wrk
  # xla backend: embeds CPython (python3-dev: libpython3.11.so and headers) through pybind11
  pybind11-dev python3-dev
  libssl-dev  # sha256 of model files: the conversion cache (src/zoo/convert.cc)
  libzip-dev  # .npz files of --input-data (src/zoo/npy.cc)
  redis-server libhiredis-dev  # optic pipeline: the Redis Streams broker and its C client (src/pipeline)
  # optic pipeline's Kafka transport: librdkafka, and the JVM and Maven for the broker's jars
  # (scripts/brokers/kafka.sh fetch, below)
  librdkafka-dev openjdk-17-jre-headless maven
  opencv-doc  # 4.6.0+dfsg-12: its sample photographs, the int8 calibration set (tools/zoo/calibration.py)
)

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_ apt-get update -q
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Kafka broker's jars (Maven Central, cached under $CACHE) for scripts/brokers/kafka.sh start.
OPTIC_CACHE=$CACHE scripts/brokers/kafka.sh fetch

# Python environment for model export and reference loops: Debian's torch/torchvision are visible
# through --system-site-packages (the PyPI torch wheel is a multi-GB CUDA build; keep it out).
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
want="openvino==$OPENVINO_VERSION onnxruntime==$ORT_PY_VERSION onnx==$ONNX_PY_VERSION pytest==$PYTEST_VERSION"
if ! .venv/bin/python -c "import openvino, onnxruntime, onnx, pytest, sys; sys.exit(0 if (openvino.__version__.startswith('$OPENVINO_VERSION') and onnxruntime.__version__=='$ORT_PY_VERSION' and onnx.__version__=='$ONNX_PY_VERSION' and pytest.__version__=='$PYTEST_VERSION') else 1)" 2>/dev/null; then
  echo "setup: pip install $want"
  .venv/bin/pip install -q --cache-dir "$CACHE/pip" $want
fi

# onnx2torch and timm without their dependencies: both list torch/torchvision, which pip would
# otherwise fetch from PyPI over Debian's; timm's hub and safetensors are for pretrained weights,
# which the zoo never loads. Both work with Debian's torch 1.13 and numpy 1.24.
if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(0 if (m.version('onnx2torch')=='$ONNX2TORCH_VERSION' and m.version('timm')=='$TIMM_VERSION') else 1)" 2>/dev/null; then
  echo "setup: pip install --no-deps onnx2torch==$ONNX2TORCH_VERSION timm==$TIMM_VERSION"
  .venv/bin/pip install -q --no-deps --cache-dir "$CACHE/pip" "onnx2torch==$ONNX2TORCH_VERSION" "timm==$TIMM_VERSION"
fi

# IREE: compiler (a child process of the iree backend) and runtime (its embedded Python). Both
# accept Debian's numpy 1.24; ml_dtypes is pinned to the version that does too.
if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(0 if (m.version('iree-base-compiler')=='$IREE_VERSION' and m.version('iree-base-runtime')=='$IREE_VERSION') else 1)" 2>/dev/null; then
  echo "setup: pip install iree-base-compiler==$IREE_VERSION iree-base-runtime==$IREE_VERSION"
  .venv/bin/pip install -q --cache-dir "$CACHE/pip" "iree-base-compiler==$IREE_VERSION" "iree-base-runtime==$IREE_VERSION" ml_dtypes==0.5.4
fi

if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(0 if [m.version(p) for p in ('scikit-build-core', 'nanobind', 'pathspec')] == [w.split('==')[1] for w in '$PYBUILD_WHEELS'.split()] else 1)" 2>/dev/null; then
  echo "setup: pip install $PYBUILD_WHEELS"
  .venv/bin/pip install -q --cache-dir "$CACHE/pip" $PYBUILD_WHEELS
fi

# Triton's own Python client drives the server's protocol tests (tests/python/test_tritonclient.py).
if ! .venv/bin/python -c "import tritonclient.http, tritonclient.grpc, pytest, importlib.metadata as m, sys; sys.exit(0 if m.version('tritonclient')=='$TRITONCLIENT_VERSION' else 1)" 2>/dev/null; then
  echo "setup: pip install tritonclient[http,grpc]==$TRITONCLIENT_VERSION"
  .venv/bin/pip install -q --cache-dir "$CACHE/pip" "tritonclient[http,grpc]==$TRITONCLIENT_VERSION"
fi

if ! .venv/bin/python -c "import cv2, sys; sys.exit(0 if cv2.__version__ == '${OPENCV_PY_VERSION%.*}' else 1)" 2>/dev/null; then
  echo "setup: pip install opencv-python-headless==$OPENCV_PY_VERSION"
  .venv/bin/pip install -q --cache-dir "$CACHE/pip" "opencv-python-headless==$OPENCV_PY_VERSION"
fi

# Optional CUDA toolchain from pip: nvcc, cudart, CCCL and nvJPEG wheels install under
# site-packages/nvidia/cu13; .deps/cuda links them into the layout CMake's FindCUDAToolkit and
# nvcc.profile expect (bin, nvvm, include, lib with unversioned .so names). Configure with
# -DCMAKE_CUDA_COMPILER=$PWD/.deps/cuda/bin/nvcc -DCUDAToolkit_ROOT=$PWD/.deps/cuda (CI does).
if [ "${OPTIC_CUDA_TOOLCHAIN:-0}" = 1 ]; then
  stamp=".deps/cuda/.wheels-$(echo "$CUDA_WHEELS" | md5sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    echo "setup: pip install $CUDA_WHEELS"
    .venv/bin/pip install -q --cache-dir "$CACHE/pip" $CUDA_WHEELS
    wheel_root=$(.venv/bin/python -c "import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], 'cu13'))")
    # bin and lib are real folders of links: nvcc finds its libraries at bin/../lib64, which
    # must resolve here, not in the wheel.
    rm -rf .deps/cuda && mkdir -p .deps/cuda/bin .deps/cuda/lib
    for d in nvvm include; do ln -s "$wheel_root/$d" ".deps/cuda/$d"; done
    for d in bin lib; do
      for f in "$wheel_root/$d"/*; do ln -s "$f" ".deps/cuda/$d/$(basename "$f")"; done
    done
    ln -s libcudart.so.13 .deps/cuda/lib/libcudart.so
    ln -s libnvjpeg.so.13 .deps/cuda/lib/libnvjpeg.so
    ln -s lib .deps/cuda/lib64
    .deps/cuda/bin/nvcc --version | tail -1
    touch "$stamp"
  fi
fi

# TVM (compiler in Python, runtime libraries and C++ headers inside the wheels) for the tvm backend.
stamp=".deps/tvm-venv/.wheels-$(echo "$TVM_WHEELS" | md5sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: pip install into .deps/tvm-venv: $TVM_WHEELS"
  rm -rf .deps/tvm-venv
  /usr/bin/python3 -m venv .deps/tvm-venv
  .deps/tvm-venv/bin/pip install -q --cache-dir "$CACHE/pip" $TVM_WHEELS
  .deps/tvm-venv/bin/python -c "import tvm, tvm_ffi, onnx; print('setup: tvm', tvm.__version__)"
  touch "$stamp"
fi

# NNCF (OpenVINO post-training quantization) for tools/zoo/nncf_quantize.py.
stamp=".deps/nncf-venv/.wheels-$(echo "$NNCF_WHEELS" | md5sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: pip install into .deps/nncf-venv: $NNCF_WHEELS"
  rm -rf .deps/nncf-venv
  /usr/bin/python3 -m venv .deps/nncf-venv
  .deps/nncf-venv/bin/pip install -q --cache-dir "$CACHE/pip" $NNCF_WHEELS
  .deps/nncf-venv/bin/python -c "import nncf, openvino; print('setup: nncf', nncf.__version__)"
  touch "$stamp"
fi

# ONNX Runtime C/C++: official headers and libonnxruntime.so from the npm package.
ORT_DIR=.deps/onnxruntime
if [ ! -f "$ORT_DIR/.version-$ORT_NPM_VERSION" ]; then
  tgz="$CACHE/com.github.asus4.onnxruntime-$ORT_NPM_VERSION.tgz"
  if [ ! -f "$tgz" ]; then
    echo "setup: fetching ONNX Runtime C/C++ (npm com.github.asus4.onnxruntime@$ORT_NPM_VERSION)"
    (cd "$CACHE" && npm pack --silent "com.github.asus4.onnxruntime@$ORT_NPM_VERSION" >/dev/null)
  fi
  rm -rf "$ORT_DIR" /tmp/optic-ort && mkdir -p "$ORT_DIR/include" "$ORT_DIR/lib" /tmp/optic-ort
  tar xzf "$tgz" -C /tmp/optic-ort --wildcards \
    'package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers/*' \
    'package/Plugins/Linux/x64/*.so'
  cp /tmp/optic-ort/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers/*.h "$ORT_DIR/include/"
  cp /tmp/optic-ort/package/Plugins/Linux/x64/*.so "$ORT_DIR/lib/"
  ln -sf libonnxruntime.so "$ORT_DIR/lib/libonnxruntime.so.1"
  rm -rf /tmp/optic-ort
  touch "$ORT_DIR/.version-$ORT_NPM_VERSION"
fi

# Chart.js for the HTML report is Debian's libjs-chart.js (/usr/share/javascript/chart.js).
# playwright-core for the report's browser test (tests/browser), pinned by its package-lock.json.
# It drives Debian's chromium above and downloads no browser; npm's cache keeps reruns offline.
PW_VERSION=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' tests/browser/package.json)
if [ "$(node -p "require('./tests/browser/node_modules/playwright-core/package.json').version" 2>/dev/null)" != "$PW_VERSION" ]; then
  if command -v npm >/dev/null; then
    echo "setup: npm ci playwright-core@$PW_VERSION (tests/browser)"
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund --cache "$CACHE/npm")
  else
    echo "setup: npm not found: the report browser test (ctest -L browser) will fail until it is installed"
  fi
fi
echo "setup: dependencies ready (venv: $ROOT/.venv, ONNX Runtime: $ROOT/$ORT_DIR)"

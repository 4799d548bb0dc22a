#!/usr/bin/env bash
# Runs the tritonserver binary that the nvidia-pytriton wheel bundles (bench/triton/setup_venv.sh)
# directly on a model repository, with the wheel's Python backend, bound to loopback only.
#   bench/triton/tritonserver.sh REPO HTTP_PORT GRPC_PORT METRICS_PORT [extra tritonserver flags]
# The wheel lays the Python backend's stubs out per Python version (python_backend_stubs/3.X),
# while the backend looks for triton_python_backend_stub next to libtriton_python.so, so a
# private backend directory is assembled in a temp dir; the copied stub then needs the wheel's
# bundled libs (libcudart, ...) on LD_LIBRARY_PATH, as its RPATH is relative to the wheel.
# The stub embeds Debian's libpython3.11, so the venv must be built on /usr/bin/python3 and its
# site-packages (numpy) is put on PYTHONPATH for model.py. Execs tritonserver (its pid is ours).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${TRITON_VENV:-$ROOT/.venv-triton}
REPO=$1 HTTP=$2 GRPC=$3 METRICS=$4
shift 4
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
TS=$SITE/pytriton/tritonserver
PYVER=$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
[ -x "$TS/bin/tritonserver" ] || { echo "no tritonserver in $VENV: run bench/triton/setup_venv.sh" >&2; exit 1; }
BACKENDS=${TRITON_BACKEND_DIR:-$(mktemp -d /tmp/optic-triton-backends.XXXXXX)}  # the caller may own and clean it
mkdir -p "$BACKENDS/python"
cp "$TS/backends/python/libtriton_python.so" "$TS/backends/python/triton_python_backend_utils.py" \
  "$TS/python_backend_stubs/$PYVER/triton_python_backend_stub" "$BACKENDS/python/"
export LD_LIBRARY_PATH=$SITE/nvidia_pytriton.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONPATH=$SITE
exec "$TS/bin/tritonserver" --model-repository "$REPO" --backend-directory "$BACKENDS" \
  --http-address 127.0.0.1 --http-port "$HTTP" --grpc-address 127.0.0.1 --grpc-port "$GRPC" \
  --metrics-address 127.0.0.1 --metrics-port "$METRICS" --allow-gpu-metrics false "$@"

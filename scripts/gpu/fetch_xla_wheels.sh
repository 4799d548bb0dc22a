#!/usr/bin/env bash
# Fetches, here (where pip reaches PyPI), the pure-Python wheels the GPU machine lacks for the xla
# backend, into .whl/ for scripts/gpu/run.sh's xla stage to install with
#   pip install --no-index --no-deps --target /tmp/site .whl/*.whl; export PYTHONPATH=/tmp/site
# (docs/gpu.md, "xla (JAX)").
#
# What the xla backend needs at run time: jax + jaxlib with the CUDA PJRT plugin, numpy and onnx
# (src/backends/xla/optic_xla.py); at build time pybind11 and an embeddable libpython. The GPU
# image lists all of them (jax 0.11.2, jax-cuda13-plugin, numpy, onnx 1.23.1, pybind11: see
# /work/.library/device/KINDS.md "Python packages already there"), so by default nothing is
# missing and nothing is fetched. optic does not use jaxonnxruntime (optic_xla.py says why), so it
# is not fetched either. Name wheels to fetch anyway (another version, a package the image lost):
#   scripts/gpu/fetch_xla_wheels.sh onnx==1.23.1 ml_dtypes==0.5.4
# The GPU machine runs CPython 3.12 on x86-64; wheels are fetched for exactly that.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
mkdir -p .whl
if [ $# -eq 0 ]; then
  echo "fetch_xla_wheels: the GPU image already has jax, jaxlib, numpy, onnx and pybind11; nothing to fetch"
  exit 0
fi
for spec in "$@"; do
  case "$spec" in *==*) ;; *) echo "fetch_xla_wheels: pin a version: '$spec' (NAME==VERSION)" >&2; exit 2;; esac
  # --no-deps: each dependency the image lacks must be named too (unzip -p .whl/NAME-*.whl
  # '*/METADATA' | grep ^Requires-Dist lists them); keep one version of each.
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    -d .whl "$spec"
done
ls -la .whl

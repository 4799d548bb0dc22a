#!/usr/bin/env bash
# Makes .ortcuda/: ONNX Runtime with its CUDA execution provider, cut to fit the GPU machine's
# 64 MiB-per-call transfer, for the onnxruntime backend on device=cuda.
#
#   scripts/gpu/fetch_ort_cuda.sh        (here, where PyPI is reachable; ~3 min on 2 cores)
#
# From the pinned PyPI onnxruntime-gpu wheel (checked against its SHA-256) it takes
# libonnxruntime.so, libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so (built
# for CUDA 13, ~284 MB, of which ~218 MB is GPU code for sm_75..sm_120), keeps only the sm_90 code
# (scripts/gpu/fatbin_keep_arch.py: the library then runs on H100/H200 only), adds the C/C++ headers
# of .deps/onnxruntime (the C API is append-only: headers of an older release work with a newer
# library), and packs it as one zstd tar split into parts of at most PART_MB (default 40) with
# SHA256SUMS. Each part travels in its own device call (carry: .ortcuda/SHA256SUMS and the part);
# scripts/gpu/ort_cuda.sh on the device collects them and unpacks once all are there.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=1.31.1
WHEEL=onnxruntime_gpu-$VERSION-cp312-cp312-manylinux_2_28_x86_64.whl
SHA256=05d548956197b9d01f59b625de740e0d6be3593f874e241a12dc0362650ecdf7
PART_MB=${PART_MB:-40}
CACHE=${OPTIC_CACHE:-$HOME/.cache/optic}
PY=${PYTHON:-.venv/bin/python}
[ -f .deps/onnxruntime/include/onnxruntime_c_api.h ] ||
  { echo "fetch_ort_cuda: .deps/onnxruntime/include is missing: run scripts/setup.sh first" >&2; exit 1; }
mkdir -p "$CACHE"
if [ ! -f "$CACHE/$WHEEL" ]; then
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 "onnxruntime-gpu==$VERSION" -d "$CACHE"
fi
echo "$SHA256  $CACHE/$WHEEL" | sha256sum -c --quiet ||
  { echo "fetch_ort_cuda: $CACHE/$WHEEL does not match its pinned SHA-256" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unzip -q "$CACHE/$WHEEL" 'onnxruntime/capi/libonnxruntime*.so*' -d "$work/wheel"
capi=$work/wheel/onnxruntime/capi
mkdir -p "$work/ort/lib" "$work/ort/include"
cp "$capi/libonnxruntime.so.$VERSION" "$capi/libonnxruntime_providers_shared.so" "$work/ort/lib/"
ln -s "libonnxruntime.so.$VERSION" "$work/ort/lib/libonnxruntime.so.1"
ln -s "libonnxruntime.so.1" "$work/ort/lib/libonnxruntime.so"
python3 scripts/gpu/fatbin_keep_arch.py "$capi/libonnxruntime_providers_cuda.so" \
  "$work/ort/lib/libonnxruntime_providers_cuda.so" 90
cp .deps/onnxruntime/include/*.h "$work/ort/include/"
echo "onnxruntime-gpu $VERSION (PyPI $WHEEL, sha256 $SHA256), CUDA provider cut to sm_90" >"$work/ort/SOURCE"
tar -C "$work" -cf - ort | zstd -q -T0 -19 --long=27 -o "$work/ort.tar.zst"
rm -rf .ortcuda && mkdir -p .ortcuda
split -b "${PART_MB}M" -d -a 2 "$work/ort.tar.zst" .ortcuda/part-
cp "$(command -v zstd)" .ortcuda/zstd  # the GPU machine has no zstd: carry it with the first part
(cd .ortcuda && sha256sum part-* >SHA256SUMS && sha256sum <"$work/ort.tar.zst" | sed 's/-$/ort.tar.zst/' >>SHA256SUMS)
ls -l .ortcuda

#!/usr/bin/env bash
# OpenVINO's C++ runtime for the GPU machine's CPU rows (run.sh's cpu stage), as .ov/ov.tgz: the
# PyPI wheel for that machine's Python 3.12 (same pinned version as scripts/setup.sh), cut down
# to what a C++ CPU build needs: libopenvino, the CPU plugin, the frontends its CMake package
# names, TBB, headers and the CMake package. The GPU/NPU plugins, the Python bindings and the GPU
# kernel cache are left out (the wheel is 59 MB, too large to carry beside the rest; this is
# ~34 MB). scripts/gpu/run.sh unpacks it and builds the openvino backend when it is there.
#   scripts/gpu/fetch_openvino.sh        (here, on the Debian machine with PyPI access)
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(sed -n 's/^OPENVINO_VERSION=\([0-9.]*\).*/\1/p' scripts/setup.sh)
[ -n "$VERSION" ] || { echo "fetch_openvino: no openvino==<version> pin in scripts/setup.sh" >&2; exit 1; }
mkdir -p .ov
grep -qx '/.ov/' .git/info/exclude 2>/dev/null || echo '/.ov/' >>.git/info/exclude
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$tmp" "openvino==$VERSION"
(cd "$tmp" && unzip -q openvino-*.whl 'openvino/libs/*' 'openvino/include/*' 'openvino/cmake/*' &&
  rm -f openvino/libs/libopenvino_intel_gpu_plugin.so openvino/libs/libopenvino_intel_npu_plugin.so \
    openvino/libs/cache.json)
tar czf .ov/ov.tgz -C "$tmp" openvino
echo "fetch_openvino: .ov/ov.tgz ($(du -h .ov/ov.tgz | cut -f1)) from openvino==$VERSION"

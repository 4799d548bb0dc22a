#!/usr/bin/env bash
# On the GPU machine: collects the parts of .ortcuda/ (scripts/gpu/fetch_ort_cuda.sh) that this
# call carried into $ORT_PARTS (kept while the machine stays warm between calls), and once every
# part listed in SHA256SUMS is there and matches, unpacks ONNX Runtime with its CUDA provider into
# $ORT_CUDA_ROOT (default /tmp/optic-ort-cuda: lib/, include/). Exit status: 0 unpacked (now or
# earlier), 3 parts still missing (their names are printed), 1 a part or the whole does not match.
set -uo pipefail
cd "$(dirname "$0")/../.."
ORT_PARTS=${ORT_PARTS:-/tmp/optic-ort-parts}
ORT_CUDA_ROOT=${ORT_CUDA_ROOT:-/tmp/optic-ort-cuda}
[ -f "$ORT_CUDA_ROOT/.done" ] && { echo "ort_cuda: $ORT_CUDA_ROOT ready: $(cat "$ORT_CUDA_ROOT/SOURCE")"; exit 0; }
mkdir -p "$ORT_PARTS"
[ -f .ortcuda/SHA256SUMS ] && cp .ortcuda/SHA256SUMS "$ORT_PARTS/"
[ -f "$ORT_PARTS/SHA256SUMS" ] || { echo "ort_cuda: no .ortcuda/SHA256SUMS carried" >&2; exit 1; }
for p in .ortcuda/part-*; do [ -f "$p" ] && cp "$p" "$ORT_PARTS/"; done
cd "$ORT_PARTS"
missing=()
while read -r sum name; do
  [ "$name" = ort.tar.zst ] && continue
  if [ ! -f "$name" ]; then missing+=("$name"); continue; fi
  echo "$sum  $name" | sha256sum -c --quiet || { echo "ort_cuda: $name does not match SHA256SUMS" >&2; rm -f "$name"; exit 1; }
done <SHA256SUMS
if [ ${#missing[@]} -gt 0 ]; then echo "ort_cuda: still missing: ${missing[*]}"; exit 3; fi
want=$(awk '$2 == "ort.tar.zst" {print $1}' SHA256SUMS)
got=$(cat part-* | sha256sum | cut -c1-64)
[ "$want" = "$got" ] || { echo "ort_cuda: the joined parts do not match (want $want, got $got)" >&2; exit 1; }
rm -rf "$ORT_CUDA_ROOT" && mkdir -p "$(dirname "$ORT_CUDA_ROOT")"
tmp=$(mktemp -d)
ZSTD=$(command -v zstd || echo "$OLDPWD/.ortcuda/zstd")
cat part-* | "$ZSTD" -q -d --long=27 | tar -x -C "$tmp" && mv "$tmp/ort" "$ORT_CUDA_ROOT" || exit 1
touch "$ORT_CUDA_ROOT/.done"
echo "ort_cuda: unpacked into $ORT_CUDA_ROOT: $(cat "$ORT_CUDA_ROOT/SOURCE")"

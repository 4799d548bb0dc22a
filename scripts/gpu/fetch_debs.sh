#!/usr/bin/env bash
# Fetches the Debian 12 packages that scripts/gpu/run.sh unpacks on the GPU machine (Ubuntu 24.04,
# no internet, none of optic's dev packages) into .gpu-debs/ (git-ignored), with `apt-get
# download` on a Debian 12 (bookworm) machine (static libraries dropped from the -dev packages
# that have big ones, see SLIM below). Idempotent: a package whose .deb (any version) is already
# there is skipped; `--clean` first removes .debs that are not in the list (e.g. older
# versions after a Debian point release).
#
# What is carried and why (docs/gpu.md): the build's dev packages (headers + CMake/pkg-config
# files) and the runtime libraries Ubuntu 24.04 does not have under the same soname. Not carried:
# libc, libstdc++, libssl3t64 and zlib1g (Ubuntu's base system has libssl.so.3, libcrypto.so.3 and
# libz.so.1; run.sh points the -dev packages' libssl.so/libcrypto.so/libz.so links at them).
set -euo pipefail
cd "$(dirname "$0")/../.."
PACKAGES=(
  # core build: JSON, CLI, logging, tests, JPEG decode
  nlohmann-json3-dev libcli11-dev libfmt-dev libfmt9 libspdlog-dev libspdlog1.10
  libgtest-dev libgmock-dev libturbojpeg0-dev libturbojpeg0
  # protobuf (model_config.proto; protoc must match libprotobuf: both 3.21.12)
  libprotobuf-dev libprotobuf32 libprotoc32 protobuf-compiler
  # libzip: .npz files of --input-data (src/zoo/npy.cc)
  libzip-dev libzip4
  # Boost headers (Beast/Asio: the HTTP front end and optic load)
  libboost1.74-dev
  # gRPC 1.51 (the server's gRPC front end): gRPCConfig.cmake find_package()s ZLIB, Protobuf,
  # OpenSSL, c-ares, absl and re2 (re2 through pkg-config), and its targets file checks that every
  # libgrpc*.so it names exists.
  libgrpc++-dev libgrpc-dev libgrpc++1.51 libgrpc29 protobuf-compiler-grpc
  libabsl-dev libabsl20220623 libre2-dev libre2-9 libc-ares-dev libc-ares2
  libssl-dev zlib1g-dev
  # optic pipeline: hiredis and librdkafka (its Redis Streams and Kafka clients), and a Redis
  # server for the pipeline stage (redis-server is a link to redis-tools' binary)
  libhiredis-dev libhiredis0.14 librdkafka-dev librdkafka1 libsasl2-2 libsasl2-modules-db
  redis-server redis-tools liblzf1 libjemalloc2
)
DIR=.gpu-debs
mkdir -p "$DIR"
if [ "${1:-}" = "--clean" ]; then
  for f in "$DIR"/*.deb; do
    [ -e "$f" ] || continue
    name=$(dpkg-deb -f "$f" Package)
    [[ " ${PACKAGES[*]} " == *" $name "* ]] || { echo "removing $f (not in the list)"; rm -f "$f"; }
  done
fi
missing=()
for p in "${PACKAGES[@]}"; do
  compgen -G "$DIR/${p}_*.deb" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "downloading: ${missing[*]}"
  (cd "$DIR" && apt-get download "${missing[@]}")
fi
# Static libraries are never linked (every CMake config and .pc file here names the shared ones)
# and are most of these packages' bytes (libgrpc.a alone is 19 MB): they are dropped, with the
# docs, by rebuilding the .deb without them, which keeps .gpu-debs within the device call's
# carry limit. GTest/GMock and TurboJPEG keep theirs (GTestConfig.cmake names libgtest.a).
SLIM=(libgrpc-dev libgrpc++-dev libssl-dev libprotobuf-dev libabsl-dev libre2-dev libc-ares-dev zlib1g-dev)
for p in "${SLIM[@]}"; do
  for f in "$DIR/${p}"_*.deb; do
    [ -e "$f" ] || continue
    [ "$(dpkg-deb -c "$f" | grep -c '\.a$')" != 0 ] || continue  # already slim
    tmp=$(mktemp -d)
    dpkg-deb -R "$f" "$tmp/pkg"
    find "$tmp/pkg" -name '*.a' -delete
    rm -rf "$tmp/pkg/usr/share/doc" "$tmp/pkg/usr/share/man"
    dpkg-deb -Zxz -b "$tmp/pkg" "$tmp/slim.deb" >/dev/null && mv "$tmp/slim.deb" "$f"
    rm -rf "$tmp"
    echo "slimmed $f: $(stat -c %s "$f") bytes"
  done
done
echo "$DIR: $(ls "$DIR"/*.deb | wc -l) packages, $(du -sh "$DIR" | cut -f1)"

#!/usr/bin/env bash
# The two runs in this folder (from the repository root, after
# `ninja -C build optic optic_echo_server`). before/step1 are optic binaries built from the
# commits named in manifest.txt, copied aside before the next change was built.
set -euo pipefail
OUT=results/cpu/server-latency-20261207 \
  BASELINES="before=/tmp/s10/optic-before step1=/tmp/s10/optic-batcher-grpc" \
  bench/server_latency.sh build
OUT=results/cpu/server-latency-20261207/http-single-write PROTOCOLS=http \
  BASELINES="before=/tmp/s10/optic-before step1=/tmp/s10/optic-batcher-grpc" \
  bench/server_latency.sh build

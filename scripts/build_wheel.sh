#!/usr/bin/env bash
# Builds the optic wheel into build/dist/ (pip wheel over pyproject.toml, in build/python like
# `pip install .`, so both reuse one CMake build). Needs scripts/setup.sh's .venv.
#   scripts/build_wheel.sh && .venv/bin/pip install --force-reinstall --no-deps build/dist/optic-*.whl
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip wheel --no-build-isolation --no-deps -w build/dist .
ls build/dist/optic-*.whl

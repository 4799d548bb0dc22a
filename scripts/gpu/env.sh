# Sourced by scripts/gpu/run.sh: where run.sh unpacks the carried Debian packages
# (.gpu-debs), and the environment every optic binary built against them needs (libgrpc, protoc).
# Needs ROOT (the checkout); sets DEPS and ARCH_LIB.
DEPS=/tmp/optic-gpu-deps
ARCH_LIB=$DEPS/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$ARCH_LIB:$ROOT/.deps/onnxruntime/lib:${LD_LIBRARY_PATH:-}
export PKG_CONFIG_PATH=$ARCH_LIB/pkgconfig:${PKG_CONFIG_PATH:-}
export PATH=$DEPS/usr/bin:/usr/local/cuda/bin:$PATH
export OPTIC_DEPS_PREFIX=$DEPS/usr

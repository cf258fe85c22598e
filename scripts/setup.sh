#!/usr/bin/env bash
# Install every Debian package bertkit needs (only those missing, so a second
# run needs no network), then configure and build into ./build.
#   scripts/setup.sh            # install + build everything (library, bertkit, tests, benchmarks)
#   scripts/setup.sh bertkit_exe   # install + build only these targets (the quickstart needs just bertkit)
#   BUILD_DIR=out scripts/setup.sh
#   CMAKE_ARGS="-DCMAKE_PREFIX_PATH=..." scripts/setup.sh   # e.g. LibTorch from a PyTorch wheel
# Every caller configures the same way (the ../shared folder is found here, once), so running
# scripts/quickstart.sh and then scripts/test.sh builds each object once.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake g++ ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread        # LibTorch 1.13 (CPU); OpenBLAS: without it matmuls run ~50x slower
  libsentencepiece-dev nlohmann-json3-dev libcli11-dev libgtest-dev libutf8proc-dev zlib1g-dev
  libcairo2-dev fonts-dejavu-core          # attention heatmap PNG: cells, token labels, colour scale
  libmecab-dev mecab-ipadic-utf8           # Japanese word splitter
  libgloo-dev                              # c10d Gloo: multi-process (torchrun-style) training
  libcurl4-openssl-dev libssl-dev          # models by Hub id: downloads into the HuggingFace cache
  libcpp-httplib-dev                       # bertkit serve (HTTP server); tests: HTTP client, the local Hub server
  protobuf-compiler                        # tests: protoc decodes the TensorBoard event files
  python3-sentencepiece mecab              # scripts/fixtures: reference SentencePiece / MeCab outputs
  clang-14 libfuzzer-14-dev python3        # only scripts/fuzz.sh needs these (libFuzzer targets, docs/fuzzing.md)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
# The fixtures and data the tests read: $BERTKIT_SHARED, else ../shared beside the checkout.
if [ -n "${BERTKIT_SHARED:-}" ]; then
  CMAKE_ARGS="${CMAKE_ARGS:-} -DBERTKIT_SHARED_DIR=$(cd "$BERTKIT_SHARED" && pwd)"
elif [ -d ../shared ]; then
  CMAKE_ARGS="${CMAKE_ARGS:-} -DBERTKIT_SHARED_DIR=$(cd ../shared && pwd)"
fi
# ccache and precompiled headers: these settings let ccache cache PCH users.
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}  # relative paths: a clone elsewhere reuses the cache
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
if (($#)); then
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "$@"
  echo "setup: built $* in $BUILD_DIR" >&2
else
  cmake --build "$BUILD_DIR" -j "$JOBS"
  echo "setup: built $BUILD_DIR/bertkit, the tests and the benchmarks" >&2
fi

#!/usr/bin/env bash
# One call on a CUDA machine: build bertkit against the PyTorch wheel's
# LibTorch (2.x, CUDA), run the model parity tests on CUDA, run the
# benchmarks side by side with transformers, and check that transformers
# loads what bertkit exports. Results go to $OUT (or ./out).
#
# Prepare on a machine with Debian's apt (the GPU machine has no network):
#   scripts/gpu-check.sh --prepare        # .device/: Debian .debs + fixture copies
# then run it there with .device carried, e.g. through the device tool:
#   scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEV=$ROOT/.device
OUT=${OUT:-$ROOT/out}
mkdir -p "$OUT"

if [ "${1:-}" = "--prepare" ]; then
  set -e
  SHARED=${BERTKIT_SHARED:-$ROOT/../shared}
  mkdir -p "$DEV/debs" "$DEV/shared/fixtures" "$DEV/shared/data/bert-vocab" "$DEV/shared/data/corpus"
  (cd "$DEV/debs" && apt-get download nlohmann-json3-dev libcli11-dev libsentencepiece-dev \
     libsentencepiece0 libprotobuf-lite32 libutf8proc-dev libutf8proc2 libmecab-dev libmecab2 \
     libgtest-dev googletest zlib1g-dev)
  cp -r "$SHARED/fixtures/hf-tiny" "$DEV/shared/fixtures/"
  cp "$SHARED/data/bert-vocab/bert-base-uncased-vocab.txt" "$DEV/shared/data/bert-vocab/"
  cp "$SHARED/data/corpus/wikitext-2.valid.tokens.txt" "$DEV/shared/data/corpus/"
  du -sh "$DEV"
  exit 0
fi

log() { echo "== $*" | tee -a "$OUT/gpu-check.log"; }
T0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"

# 1. Debian libraries into a private prefix.
PREFIX=$DEV/prefix
if [ ! -d "$PREFIX/usr" ]; then
  for f in "$DEV"/debs/*.deb; do dpkg -x "$f" "$PREFIX"; done
fi
# zlib1g-dev's libz.so points at the runtime package, which the machine has in
# /usr/lib: link against that, never against the non-PIC libz.a.
for lib in libz.so libz.a; do  # libz.a too: a build dir configured earlier may name it
  ln -sf /usr/lib/x86_64-linux-gnu/libz.so.1 "$PREFIX"/usr/lib/x86_64-linux-gnu/$lib
done
export PKG_CONFIG_PATH=$PREFIX/usr/lib/x86_64-linux-gnu/pkgconfig:$PREFIX/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$PREFIX
export LD_LIBRARY_PATH=$PREFIX/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
TORCH_PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
log "torch $(python3 -c 'import torch;print(torch.__version__)') at $TORCH_PREFIX"

# 2. Build against the wheel's LibTorch (the one CMAKE_PREFIX_PATH entry selects it). No network
#    there: BERTKIT_WITH_HUB=OFF (no libcurl needed; Hub ids resolve from the cache only). Neither
#    cpp-httplib nor cairo (with its X11/font closure) is carried: no `serve`, SVG heatmaps only.
log "configure + build ($(( $(date +%s) - T0 )) s)"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$PREFIX/usr" -DBERTKIT_SHARED_DIR="$DEV/shared" -DBERTKIT_WITH_HUB=OFF \
  -DBERTKIT_WITH_SERVE=OFF -DBERTKIT_WITH_CAIRO=OFF \
  -DZLIB_LIBRARY_RELEASE="$PREFIX/usr/lib/x86_64-linux-gnu/libz.so" -DCMAKE_CUDA_ARCHITECTURES=90 >"$OUT/cmake.log" 2>&1 || { tail -40 "$OUT/cmake.log"; exit 1; }
TARGETS=${GPU_TARGETS:-"bertkit_exe test_model test_training test_tasks bench_pretrain"}
ninja -C build-gpu -j 16 -k 0 $TARGETS >"$OUT/build.log" 2>&1 || { grep -m20 -B2 -A8 "error" "$OUT/build.log"; }
log "built ($(( $(date +%s) - T0 )) s)"

# 3. Tests on CUDA (fixture parity runs on CPU and CUDA when a GPU is visible).
export BERTKIT_SHARED=$DEV/shared BERTKIT_SOURCE_DIR=$ROOT BERTKIT_BINARY=$ROOT/build-gpu/bertkit
for t in test_model test_training test_tasks; do
  [ -x build-gpu/tests/$t ] || continue
  log "$t"
  timeout 300 build-gpu/tests/$t --gtest_brief=1 >/tmp/$t.log 2>&1; echo "$t rc=$?" | tee -a "$OUT/gpu-check.log"
  # Only the verdicts come back (a full log can exceed what $OUT returns).
  grep -a -E "^\[ +(FAILED|PASSED|SKIPPED) +\]|Failure|Expected|Which is|actual" /tmp/$t.log | head -200 >"$OUT/$t.log"
  tail -3 "$OUT/$t.log"
done

# 4. transformers loads what bertkit exports, with identical outputs.
log "export -> transformers"
timeout 300 python3 scripts/bench/hf_roundtrip.py build-gpu/bertkit "$DEV/shared/fixtures/hf-tiny" /tmp/bertkit-roundtrip \
  2>&1 | tee -a "$OUT/gpu-check.log"

# 5. Benchmarks side by side: bertkit vs transformers, same GPU, same shapes.
log "benchmarks ($(( $(date +%s) - T0 )) s)"
for cfg in "bert-base 128 128 bf16" "bert-base 128 128 fp32"; do
  set -- $cfg
  timeout 200 build-gpu/bench_pretrain --model "$1" --batch-size "$2" --seq-len "$3" --precision "$4" \
    --device cuda --steps 30 --warmup-steps 10 2>&1 | tail -2 | tee -a "$OUT/bench.txt"
  timeout 200 python3 scripts/bench/hf_pretrain.py --model "$1" --batch-size "$2" --seq-len "$3" --precision "$4" \
    --steps 30 --warmup-steps 10 2>&1 | tail -2 | tee -a "$OUT/bench.txt"
done
log "done ($(( $(date +%s) - T0 )) s)"

#!/usr/bin/env bash
# Fuzz every parser with libFuzzer under ASan + UBSan (docs/fuzzing.md).
#   scripts/fuzz.sh [SECONDS]            each target for SECONDS (default 60), one after another
#   TARGETS="safetensors conll" scripts/fuzz.sh 300
# Builds ./build (the normal build: the server target links its LibTorch layers)
# and ./build-fuzz (clang-14, BERTKIT_FUZZ=ON). Each target's corpus starts from
# fuzz/seeds/<t>, fuzz/regressions/<t> and cuts of ../shared made at run time
# into build-fuzz/seeds-shared (never into the repository); what the fuzzer
# finds grows build-fuzz/corpus/<t>. A crash leaves build-fuzz/artifacts/<t>/crash-*:
# fix the parser, then commit the input as fuzz/regressions/<t>/NAME (CI replays it).
# Prints a table: target, executions, crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
FUZZ_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
ALL_TARGETS="safetensors torch_bin bert_config run_config tokenizer_json vocab_txt sentencepiece shard_index
  shard_file conll squad classification tokenize_jsonl serve_request"
TARGETS=${TARGETS:-$ALL_TARGETS}

# clang-14 and libFuzzer (also in scripts/setup.sh's list), python3 for the shared seeds.
missing=()
for p in clang-14 libfuzzer-14-dev python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The normal build's LibTorch layers (fuzz_serve_request links them).
JOBS=$JOBS scripts/setup.sh bertkit_tasks >/dev/null
shared=${BERTKIT_SHARED:-../shared}
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
cmake -S . -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
  -DBERTKIT_FUZZ=ON -DBERTKIT_FUZZ_PREBUILT="$(pwd)/build" \
  ${shared:+-DBERTKIT_SHARED_DIR=$(cd "$shared" 2>/dev/null && pwd || echo "$shared")} >/dev/null
cmake --build "$FUZZ_DIR" -j "$JOBS" --target bertkit_fuzz_targets

rm -rf "$FUZZ_DIR/seeds-shared"
if [ -d "$shared/data" ]; then
  python3 fuzz/shared_seeds.py "$shared" "$FUZZ_DIR/seeds-shared"
else
  echo "fuzz: $shared missing: hand-made seeds only (set BERTKIT_SHARED)" >&2
fi

# Leaks are findings too; LibTorch's own start-up allocations are not ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export BERTKIT_SHARED=$shared OMP_NUM_THREADS=1
rows=()
for t in $TARGETS; do
  bin="$FUZZ_DIR/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: $bin not built" >&2; rows+=("$t - not-built"); continue; }
  corpus="$FUZZ_DIR/corpus/$t" artifacts="$FUZZ_DIR/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  dirs=("$corpus")
  for d in "fuzz/seeds/$t" "fuzz/regressions/$t" "$FUZZ_DIR/seeds-shared/$t"; do [ -d "$d" ] && dirs+=("$d"); done
  log="$FUZZ_DIR/fuzz-$t.log"
  # Findings only: libFuzzer also leaves slow-unit-* there, an input that took
  # long once (on a loaded machine, often the machine), which is not a crash.
  findings() { find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l; }
  before=$(findings)
  # -rss_limit_mb/-malloc_limit_mb: a size taken from the input and allocated
  # unchecked (a "100 GB from a 1 KB header") is reported as a crash.
  set +e
  nice "$bin" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2560 -malloc_limit_mb=1024 -timeout=20 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  crashes=$(( $(findings) - before ))
  # (not "$([ $rc -ne 0 ] && echo ...)": under set -e its status 1 ended the script after a clean target)
  note=""
  [ "$rc" -ne 0 ] && note=" see:$log"
  rows+=("$t ${execs:-?} $crashes$note")
  echo "fuzz: $t: ${execs:-?} executions, $crashes crashes (log $log)" >&2
done
printf '\n%-16s %12s %8s\n' target executions crashes
for r in "${rows[@]}"; do
  set -- $r
  printf '%-16s %12s %8s %s\n' "$1" "$2" "$3" "${4:-}"
done

#!/usr/bin/env bash
# The torch-free test suites (test_core: core; test_text: tokenizers) built with
# ASan + UBSan (gcc; UBSan non-recoverable, so any finding fails the run) into
# build-asan, then run. scripts/test.sh calls it; alone:
#   scripts/sanitize.sh                 # configure, build, run
#   SANITIZE_SUITES="test_core" scripts/sanitize.sh
# LibTorch (Debian's libtorch-dev) is not ASan-built and the torch layers take most
# of a full build, so the suites that link LibTorch are not part of it (docs/errors.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SANITIZE_DIR=${SANITIZE_DIR:-build-asan}
SUITES=(${SANITIZE_SUITES:-test_core test_text})
start=$SECONDS
BUILD_DIR=$SANITIZE_DIR CMAKE_ARGS="${CMAKE_ARGS:-} -DBERTKIT_SANITIZE=ON -DBERTKIT_BUILD_BENCHMARKS=OFF" \
  scripts/setup.sh "${SUITES[@]}"
built=$SECONDS
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# The suites run side by side (one per core); each prints only on failure.
pids=()
for s in "${SUITES[@]}"; do
  "$SANITIZE_DIR/tests/$s" --gtest_brief=1 >"$SANITIZE_DIR/$s.log" 2>&1 & pids+=($!)
done
rc=0
for i in "${!SUITES[@]}"; do
  if ! wait "${pids[$i]}"; then
    rc=1
    echo "sanitize: ${SUITES[$i]} failed under ASan/UBSan:" >&2
    tail -n 80 "$SANITIZE_DIR/${SUITES[$i]}.log" >&2
  fi
done
echo "sanitize: ${SUITES[*]} under ASan+UBSan: build $((built - start)) s, run $((SECONDS - built)) s, $([ $rc = 0 ] && echo passed || echo FAILED)" >&2
exit $rc

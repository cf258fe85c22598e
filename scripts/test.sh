#!/usr/bin/env bash
# Build bertkit (installing what is missing) and run every test suite.
#   scripts/test.sh              # unit tests, then the labelled end-to-end tests
#   scripts/test.sh -LE e2e      # extra arguments go to ctest (here: unit tests only)
# Tests that read ../shared (fixtures, data) skip when it is absent, unless
# BERTKIT_REQUIRE_SHARED=1 (as .ci/run sets) turns a missing ../shared into failures.
# Then the torch-free suites again under ASan + UBSan (scripts/sanitize.sh, build-asan;
# about 30 objects built a second time, see docs/errors.md); SANITIZE=0 skips that.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/setup.sh
if [ "${BERTKIT_REQUIRE_SHARED:-0}" = "1" ]; then
  shared=${BERTKIT_SHARED:-../shared}
  [ -d "$shared/fixtures" ] || { echo "test: BERTKIT_REQUIRE_SHARED=1 but $shared/fixtures is missing" >&2; exit 1; }
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
(cd "$BUILD_DIR" && ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 900 "$@")
if [ "${SANITIZE:-1}" = "1" ]; then
  scripts/sanitize.sh
fi

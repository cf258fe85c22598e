#!/usr/bin/env bash
# The main job on the embedded default: install what is missing, build, then
# pretrain a small BERT from scratch, fine-tune it, evaluate and export it —
# offline, on the CPU, in a few minutes. Extra arguments go to `bertkit quickstart`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh bertkit_exe   # the main job needs only the binary; scripts/test.sh builds the rest
exec "${BUILD_DIR:-build}/bertkit" quickstart "$@"

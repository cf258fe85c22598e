#!/usr/bin/env bash
# bertkit against transformers on this CPU: every row runs bertkit and transformers
# alternately (A B A B ...) with the same threads, shapes, data and (for inference) the
# same checkpoint, and prints one Markdown table of medians and ratios with peak RSS.
#   scripts/bench/compare-cpu.sh [--quick] [--reps N] [--diagnose] [--only TEXT] [--build DIR]
# Needs: bertkit built (targets bertkit_exe bench_pretrain bench_finetune bench_infer) and the
# transformers peer on Debian's torch 1.13 (scripts/bench/hfref-install.sh; HFREF=its DEST,
# default /opt/hfref). Full mode is sized for about 15 minutes on a quiet 2-core machine;
# --quick is a smoke test (tiny shapes, one step, one rep). Every child's output: build/compare-cpu.log.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HFREF=${HFREF:-/opt/hfref}
[ -f "$HFREF/env.sh" ] || { echo "compare-cpu: $HFREF/env.sh not found: install the peer with scripts/bench/hfref-install.sh (or set HFREF)" >&2; exit 2; }
for t in bertkit bench_pretrain bench_finetune bench_infer; do
  [ -x "${BUILD:-$ROOT/build}/$t" ] || { echo "compare-cpu: ${BUILD:-$ROOT/build}/$t not built: cmake --build build --target bertkit_exe bench_pretrain bench_finetune bench_infer" >&2; exit 2; }
done
. "$HFREF/env.sh"
exec /usr/bin/python3 "$ROOT/benchmarks/hf/compare.py" --build "${BUILD:-$ROOT/build}" "$@"

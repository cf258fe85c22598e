#!/usr/bin/env bash
# The transformers peer for CPU comparisons, on Debian 12's own torch 1.13 (the LibTorch bertkit links).
#   scripts/bench/hfref-install.sh DEST TRANSFORMERS_GIT HUB_GIT SAFETENSORS_GIT ACCELERATE_GIT [TRANSFORMERS_REV]
# Like ../shared/hfref/install.sh, but for the transformers line a session can reach: ../shared/hfref
# pins 4.47.0.dev0, whose source mirror (1.3 GB) is over the fetch limit; the mirror of
# SiddhantPoojaryHelix/transformers_4.26 holds upstream history up to 4.32.0.dev0 (commit 347001237,
# Aug 2023), which accepts torch 1.13 as released. BERT's eager path (the only one torch 1.13 runs) and
# the Trainer are the same code in both lines for what the benchmarks use. Matching dependencies:
# huggingface_hub v0.16.4, safetensors v0.4.5 (Python files + ../shared's pure-Python core), accelerate v0.21.0.
# Then: . DEST/env.sh && /usr/bin/python3 -c "import transformers"
set -euo pipefail
[ $# -ge 5 ] || { sed -n 2,10p "$0"; exit 2; }
DEST=$1; TF=$2; HUB=$3; ST=$4; ACC=$5; TF_REV=${6:-HEAD}
SHARED=${BERTKIT_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
STUBS=$SHARED/hfref/stubs
[ -d "$STUBS" ] || { echo "hfref-install: $STUBS not found (set BERTKIT_SHARED)" >&2; exit 2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get install -y -qq --no-install-recommends python3-torch libopenblas0-pthread python3-numpy python3-yaml \
  python3-regex python3-requests python3-filelock python3-packaging python3-tqdm python3-fsspec \
  python3-typing-extensions python3-psutil >/dev/null
SITE=$DEST/site; rm -rf "$SITE"; mkdir -p "$SITE"
take() { git --git-dir="$1" archive "$2" "$3" | tar -x -C "$SITE" --strip-components="$4"; }
take "$TF" "$TF_REV" src/transformers 1
take "$HUB" v0.16.4 src/huggingface_hub 1
take "$ST" v0.4.5 bindings/python/py_src/safetensors 3
take "$ACC" v0.21.0 src/accelerate 1
cp "$STUBS/_safetensors_rust.py" "$SITE/safetensors/"
cp -r "$STUBS/tokenizers" "$SITE/"
# ../shared's two import fixes (written for 4.47) apply to this line with an offset.
(cd "$SITE" && patch -s -p2 < "$SHARED/hfref/transformers.patch")
TF_VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$SITE/transformers/__init__.py")
meta() { mkdir -p "$SITE/$1-$2.dist-info"; printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" > "$SITE/$1-$2.dist-info/METADATA"; }
meta transformers "$TF_VERSION"; meta huggingface_hub 0.16.4; meta safetensors 0.4.5; meta accelerate 0.21.0
cat > "$DEST/env.sh" <<ENV
export PYTHONPATH="$SITE\${PYTHONPATH:+:\$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 WANDB_DISABLED=true
ENV
. "$DEST/env.sh" && /usr/bin/python3 -c "import torch, transformers, accelerate; print('transformers', transformers.__version__, 'torch', torch.__version__)"

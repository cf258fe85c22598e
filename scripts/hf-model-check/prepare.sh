#!/bin/bash
# prepare.sh WORKDIR: random checkpoints + inputs, and bertkit exports of the hf-tiny fixtures
# (fp16, bf16, another head, a new classifier, sinusoidal -> absolute).
# Env: BERTKIT (the binary, default bertkit), FIXTURES (default ../shared/fixtures/hf-tiny).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); W=$1; B=${BERTKIT:-bertkit}; F=$(realpath "${FIXTURES:-$HERE/../../../shared/fixtures/hf-tiny}")
python3 "$HERE/make_cases.py" "$W"
cd "$W"
$B export "$F/seqcls" exp_seqcls_fp16 --dtype fp16
$B export "$F/pretraining" exp_pre_bf16 --dtype bf16
$B export "$F/pretraining" exp_pre_as_mlm --head maskedlm 2>/dev/null
$B export "$F/maskedlm" exp_mlm_as_seqcls --head seqcls --num-labels 4 2>/dev/null
$B export sin_src exp_sin 2>/dev/null
cp "$HERE/hf_outputs.py" .

#!/usr/bin/env bash
# Live parity of `bertkit tokenize` with HF tokenizers (npm) on real data.
#   [VOCABS="uncased cased multilingual-cased"] scripts/hf-tokenizers/compare.sh [BERTKIT_BINARY] [SHARED_DIR] [WORK_DIR]
# Needs: (cd scripts/hf-tokenizers && npm install). Prints one JSON line per
# (vocabulary, data set) with the count of mismatching lines (goal: 0).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../build/bertkit}"
shared="${2:-$here/../../../shared}"
work="${3:-/tmp/bertkit-hf-compare}"
mkdir -p "$work"
node "$here/make_inputs.js" "$shared/data" "$work/inputs" > /dev/null
for v in ${VOCABS:-uncased cased multilingual-cased}; do
  vocab="$shared/data/bert-vocab/bert-base-$v-vocab.txt"
  if [ "$v" = uncased ]; then lc=true; flag=--lowercase; else lc=false; flag=--no-lowercase; fi
  for inp in "$work"/inputs/*.jsonl; do
    name="$(basename "$inp" .jsonl)"
    node "$here/hf_tokenize.js" --vocab "$vocab" --lowercase $lc --max-length 512 --all-fields --decode \
      --input "$inp" --output "$work/$v.$name.hf.jsonl"
    "$bin" tokenize --tokenizer "$vocab" $flag --max-length 512 --all-fields --decode \
      --input "$inp" --output "$work/$v.$name.bertkit.jsonl"
    node "$here/compare.js" "$work/$v.$name.hf.jsonl" "$work/$v.$name.bertkit.jsonl" --show 2
  done
done
# QA windows (max_length 384, only_second, stride 128): the first window of each
# question/context pair. HF tokenizers 0.23 stops tokenizing a sequence once
# max_length tokens are reached (its truncation early exit), so its later
# overflowing windows lose the end of long contexts; bertkit keeps the
# transformers <= 0.22 windows, which cover the whole context. Count both.
vocab="$shared/data/bert-vocab/bert-base-uncased-vocab.txt"
node "$here/hf_tokenize.js" --vocab "$vocab" --max-length 384 --truncation only_second --stride 128 --overflowing \
  --input "$work/inputs/squad.jsonl" --output "$work/squad-windows.hf.jsonl"
"$bin" tokenize --tokenizer "$vocab" --max-length 384 --truncation only_second --stride 128 --overflowing \
  --input "$work/inputs/squad.jsonl" --output "$work/squad-windows.bertkit.jsonl"
node "$here/compare.js" "$work/squad-windows.hf.jsonl" "$work/squad-windows.bertkit.jsonl" --fields ids,tokens,type_ids,offsets --show 1
node "$here/compare.js" "$work/squad-windows.hf.jsonl" "$work/squad-windows.bertkit.jsonl" --fields overflowing --show 0

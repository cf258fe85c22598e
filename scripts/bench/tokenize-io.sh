#!/usr/bin/env bash
# `bertkit tokenize` against the tokenizer's own speed (issue 8, item 6).
# Over the same lines (every non-blank line of the files, no special tokens,
# one thread), tokens/s of:
#   encode        in-process encode, line by line (bench_tokenizers, 1 thread)
#   cli_jsonl     bertkit tokenize: JSONL in -> JSONL out (text, ids, type_ids, tokens, offsets)
#   cli_ids       bertkit tokenize: JSONL in -> --output-format ids
# The CLI rows are whole processes timed from outside (start, tokenizer load,
# reading, parsing, encoding, writing). Runs alternate; medians of the rates
# per wall-clock second and per CPU second are printed.
#
#   scripts/bench/tokenize-io.sh [BUILD_DIR [RUNS [FILE...]]]
#
# Defaults: build, 5 runs, ../shared/data/corpus/gutenberg/*.txt. Needs the
# bertkit and bench_tokenizers targets built; python3 writes the JSONL input.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
runs=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
shared=${BERTKIT_SHARED:-$here/../shared}
files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$shared"/data/corpus/gutenberg/*.txt)
vocab=$shared/data/bert-vocab/bert-base-uncased-vocab.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat "${files[@]}" | python3 -c '
import json, sys
for line in sys.stdin.buffer.read().decode("utf-8", "replace").split("\n"):
    if line.strip(" \t\r"):
        print(json.dumps({"text": line.rstrip("\r")}, ensure_ascii=False))
' > "$tmp/in.jsonl"

# `timed OUT CMD...`: runs CMD, appends "wall_tokens_per_s cpu_tokens_per_s" to OUT.
timed() {
  local out=$1; shift
  local TIMEFORMAT='%R %U %S' t
  t=$( { time "$@" > /dev/null 2> "$tmp/stderr"; } 2>&1 ) || { cat "$tmp/stderr" >&2; return 1; }
  awk -v n="$tokens" -v t="$t" 'BEGIN { split(t, x, " "); printf "%.0f %.0f\n", n / x[1], n / (x[2] + x[3]) }' >> "$out"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

tok=(nice "$build/bertkit" tokenize -t "$vocab" --lowercase --no-special-tokens --threads 1 -i "$tmp/in.jsonl")
: > "$tmp/encode"; : > "$tmp/jsonl"; : > "$tmp/ids"
tokens=0
for ((r = 1; r <= runs; ++r)); do
  line=$(nice "$build/bench_tokenizers" --vocab "$vocab" --threads 1 --repeat 1 "${files[@]}" | grep -m1 '"threads":1,')
  tokens=$(sed 's/.*"tokens":\([0-9]*\).*/\1/' <<<"$line")
  sed 's/.*"tokens_per_s":\([0-9]*\).*"tokens_per_cpu_s":\([0-9]*\).*/\1 \2/' <<<"$line" >> "$tmp/encode"
  timed "$tmp/jsonl" "${tok[@]}" -o "$tmp/out.jsonl"
  timed "$tmp/ids" "${tok[@]}" --output-format ids -o "$tmp/out.ids"
done
ids_tokens=$(wc -w < "$tmp/out.ids")
[ "$ids_tokens" -eq "$tokens" ] || { echo "token counts differ: encode $tokens, ids $ids_tokens" >&2; exit 1; }

# Medians of the wall-clock and of the CPU-time rates (CPU time: the fairer
# comparison on a loaded machine, where a process waits for a core).
row() { printf '%s %s %s\n' "$1" "$(cut -d' ' -f1 "$tmp/$1" | median)" "$(cut -d' ' -f2 "$tmp/$1" | median)"; }
printf 'lines %s, tokens %s, %s runs, load %s\n' "$(wc -l < "$tmp/in.jsonl")" "$tokens" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
{ row encode; row jsonl; row ids; } | awk '
  NR == 1 { ew = $2; ec = $3 }
  { name = ($1 == "encode") ? "encode" : "cli_" $1
    if (NR == 1) printf "%-10s %14s %8s %14s %8s\n", "row", "tokens/s wall", "x encode", "tokens/cpu-s", "x encode"
    printf "%-10s %14.0f %8.2f %14.0f %8.2f\n", name, $2, $2 / ew, $3, $3 / ec }'

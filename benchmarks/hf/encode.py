#!/usr/bin/env python3
"""The transformers peer of `bertkit tokenize`: the slow BertTokenizer (bert-base-uncased)
encoding a text file (named encode.py: a tokenize.py here would shadow Python's own module), one text a line, with [CLS]/[SEP]; times the encode alone
(in-process, no I/O) and prints one JSON line with tokens/s.  encode.py FILE"""
import argparse, time
from common import emit, slow_tokenizer

ap = argparse.ArgumentParser()
ap.add_argument("file")
a = ap.parse_args()
tok = slow_tokenizer()
with open(a.file, encoding="utf-8") as f:
    texts = [line.rstrip("\n") for line in f]
t0 = time.perf_counter()
ids = tok(texts)["input_ids"]
s = time.perf_counter() - t0
tokens = sum(len(x) for x in ids)
emit({"bench": "tokenize", "texts": len(texts), "tokens": tokens, "seconds": round(s, 3),
      "tokens_per_second": round(tokens / s, 1)})

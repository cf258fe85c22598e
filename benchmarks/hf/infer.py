#!/usr/bin/env python3
"""The transformers peer of `bertkit evaluate` and benchmarks/bench_infer: classify SST-2
dev with BertForSequenceClassification.from_pretrained(DIR) as an HF user's loop does:
batches of 32 in file order, the slow BertTokenizer padding each batch to its longest,
torch.inference_mode(). Times the loop (tokenize + forward) and the forward alone; prints
one JSON line.  infer.py DIR --threads 2"""
import argparse, time
import torch
from common import emit, read_sentences, set_threads, slow_tokenizer
from transformers import BertForSequenceClassification


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--data", default="dev", help="TSV with a sentence column (default: SST-2 dev)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--profile", help="write torch.profiler's table of operators here")
    a = ap.parse_args()
    threads = set_threads(a.threads)
    t_start = time.perf_counter()
    tok = slow_tokenizer(a.model_dir)
    model = BertForSequenceClassification.from_pretrained(a.model_dir).eval()
    texts = [s for s, _ in read_sentences(a.data)]
    load_s = time.perf_counter() - t_start
    tokens, forward_s, correct, checksum = 0, 0.0, 0, 0.0
    prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) if a.profile else None
    if prof:
        prof.__enter__()
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        for s in range(0, len(texts), a.batch_size):
            enc = tok(texts[s:s + a.batch_size], padding=True, truncation=True, max_length=a.max_length,
                      return_tensors="pt")
            tokens += int(enc["attention_mask"].sum())
            f0 = time.perf_counter()
            logits = model(**enc).logits
            forward_s += time.perf_counter() - f0
            checksum += float(logits.abs().sum())
    loop_s, loop_cpu = time.perf_counter() - t0, time.process_time() - c0
    if prof:
        prof.__exit__(None, None, None)
        with open(a.profile, "w") as f:
            f.write(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=40))
    emit({"bench": "infer", "sentences": len(texts), "tokens": tokens, "batch_size": a.batch_size, "order": "file",
          "threads": threads, "seconds": round(loop_s, 3), "forward_seconds": round(forward_s, 3), "cpu_seconds": round(loop_cpu, 3),
          "load_seconds": round(load_s, 3), "sentences_per_second": round(len(texts) / loop_s, 1),
          "tokens_per_second": round(tokens / loop_s, 1), "checksum": checksum})


if __name__ == "__main__":
    main()

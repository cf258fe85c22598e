#!/usr/bin/env python3
"""The transformers peer of benchmarks/bench_pretrain on the CPU: BertForPreTraining
training steps (MLM 15% + NSP, clip 1.0, torch.optim.AdamW) on the same synthetic batch
shape; prints one JSON line (ms_per_step, tokens_per_second, peak_rss_mib).
  pretrain.py --model bert-mini --threads 1 --batch-size 8 --seq-len 128 --steps 5"""
import argparse, time
import torch
from common import SIZES, bert_config, emit, set_threads
from transformers import BertForPreTraining


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base", choices=SIZES)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    threads = set_threads(a.threads)
    cfg = bert_config(a.model)
    torch.manual_seed(0)
    model = BertForPreTraining(cfg).train()
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)
    B, T = a.batch_size, a.seq_len
    ids = torch.randint(1000, cfg.vocab_size, (B, T))
    labels = torch.where(torch.rand(B, T) < 0.15, ids, torch.full_like(ids, -100))
    nsp = torch.randint(0, 2, (B,))
    tt = torch.cat([torch.zeros(B, T // 2, dtype=torch.long), torch.ones(B, T - T // 2, dtype=torch.long)], 1)
    mask = torch.ones(B, T, dtype=torch.long)

    def step():
        out = model(input_ids=ids, token_type_ids=tt, attention_mask=mask, labels=labels, next_sentence_label=nsp)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return out.loss

    for _ in range(a.warmup_steps):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    loss.item()
    s = time.perf_counter() - t0
    emit({"bench": "pretrain", "model": a.model, "batch_size": B, "seq_len": T, "steps": a.steps, "threads": threads,
          "ms_per_step": round(1e3 * s / a.steps, 3), "tokens_per_second": round(B * T * a.steps / s, 1)})


if __name__ == "__main__":
    main()

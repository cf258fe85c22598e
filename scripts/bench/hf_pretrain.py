#!/usr/bin/env python3
"""The peer for benchmarks/bench_pretrain: one BertForPreTraining training step
(MLM 15% + NSP, AdamW) in HF transformers, on the same shapes, printing the same
JSON line (tokens/s, ms/step, peak memory). Used by scripts/gpu-check.sh."""
import argparse, json, time
import torch
from transformers import BertConfig, BertForPreTraining

SIZES = {  # hidden, layers, heads, intermediate
    "bert-tiny": (128, 2, 2, 512),
    "bert-mini": (256, 4, 4, 1024),
    "bert-base": (768, 12, 12, 3072),
}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base", choices=SIZES)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup-steps", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    h, l, nh, i = SIZES[a.model]
    cfg = BertConfig(hidden_size=h, num_hidden_layers=l, num_attention_heads=nh, intermediate_size=i,
                     attn_implementation="sdpa")
    dev = torch.device(a.device)
    torch.manual_seed(0)
    model = BertForPreTraining(cfg).to(dev).train()
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4, fused=dev.type == "cuda")
    B, T = a.batch_size, a.seq_len
    ids = torch.randint(1000, cfg.vocab_size, (B, T), device=dev)
    labels = torch.full((B, T), -100, device=dev)
    mask = torch.rand(B, T, device=dev) < 0.15
    labels[mask] = ids[mask]
    nsp = torch.randint(0, 2, (B,), device=dev)
    tt = torch.zeros(B, T, dtype=torch.long, device=dev)
    tt[:, T // 2:] = 1
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[a.precision]
    scaler = torch.amp.GradScaler(enabled=a.precision == "fp16")

    def step():
        with torch.autocast(dev.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model(input_ids=ids, token_type_ids=tt, labels=labels, next_sentence_label=nsp)
        scaler.scale(out.loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        return out.loss

    for _ in range(a.warmup_steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    loss.item()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / a.steps
    peak = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else float("nan")
    print(json.dumps({"impl": "transformers", "model": a.model, "device": str(dev), "precision": a.precision,
                      "batch_size": B, "seq_len": T, "ms_per_step": round(dt * 1e3, 2),
                      "tokens_per_s": round(B * T / dt, 1), "peak_mem_mib": round(peak, 1)}))

if __name__ == "__main__":
    main()

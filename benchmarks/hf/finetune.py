#!/usr/bin/env python3
"""The transformers peer of benchmarks/bench_finetune: HF Trainer fine-tuning
BertForSequenceClassification on SST-2 training sentences, batches padded to their
longest by DataCollatorWithPadding (the Trainer's dynamic padding), torch.optim.AdamW
(optim="adamw_torch"), lr 2e-5, weight decay 0.01, clip 1.0; nothing saved, evaluated or
logged. Steps after --warmup-steps are timed by a callback; prints one JSON line.
  finetune.py --model 2-layer --threads 1 --steps 50"""
import argparse, tempfile, time
import torch
from common import SIZES, bert_config, emit, read_sentences, set_threads, slow_tokenizer
from transformers import (BertForSequenceClassification, DataCollatorWithPadding, Trainer, TrainerCallback,
                          TrainingArguments)


class StepTimer(TrainerCallback):
    """Wall time and real tokens of the steps after the first `warmup` ones."""

    def __init__(self, warmup):
        self.warmup, self.t0, self.seconds = warmup, None, 0.0

    def on_step_begin(self, args, state, control, **kw):
        if state.global_step == self.warmup:
            self.t0 = time.perf_counter()

    def on_train_end(self, args, state, control, **kw):
        self.seconds = time.perf_counter() - self.t0


class Sentences(torch.utils.data.Dataset):
    def __init__(self, encodings, labels):
        self.encodings, self.labels = encodings, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.encodings[i], "labels": self.labels[i]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="2-layer", choices=SIZES)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-seq-length", type=int, default=128)
    ap.add_argument("--train", default="train", help="TSV with sentence and label columns (default: SST-2 train)")
    a = ap.parse_args()
    threads = set_threads(a.threads)
    tok = slow_tokenizer()
    pairs = read_sentences(a.train)
    t0 = time.perf_counter()
    enc = tok([s for s, _ in pairs], truncation=True, max_length=a.max_seq_length)["input_ids"]
    tokenize_s = time.perf_counter() - t0
    data = Sentences(enc, [l for _, l in pairs])
    torch.manual_seed(0)
    model = BertForSequenceClassification(bert_config(a.model, vocab_size=tok.vocab_size, num_labels=2))
    timer = StepTimer(a.warmup_steps)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=a.batch_size,
                                 max_steps=a.warmup_steps + a.steps, learning_rate=2e-5, weight_decay=0.01,
                                 max_grad_norm=1.0, optim="adamw_torch", save_strategy="no",
                                 evaluation_strategy="no", logging_strategy="no", report_to=[], use_cpu=True,
                                 dataloader_num_workers=0, disable_tqdm=True, seed=42)
        trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[timer],
                          data_collator=DataCollatorWithPadding(tok))
        trainer.train()
    s = timer.seconds
    emit({"bench": "finetune", "model": a.model, "batch_size": a.batch_size, "steps": a.steps, "threads": threads,
          "ms_per_step": round(1e3 * s / a.steps, 3), "sentences_per_second": round(a.batch_size * a.steps / s, 2),
          "tokenize_seconds": round(tokenize_s, 3)})


if __name__ == "__main__":
    main()

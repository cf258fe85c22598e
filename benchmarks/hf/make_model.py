#!/usr/bin/env python3
"""A random-init BertForSequenceClassification (2 labels) of a named shape, saved by
transformers' save_pretrained (model.safetensors + config.json) with the bert-base-uncased
vocab: the one checkpoint both `bertkit evaluate`/bench_infer and infer.py load, so both
sides run the same weights.  make_model.py --model bert-base DIR"""
import argparse
import torch
from common import SIZES, bert_config, slow_tokenizer
from transformers import BertForSequenceClassification

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="bert-base", choices=SIZES)
ap.add_argument("dir")
a = ap.parse_args()
tok = slow_tokenizer()
torch.manual_seed(0)
model = BertForSequenceClassification(bert_config(a.model, vocab_size=tok.vocab_size, num_labels=2)).eval()
model.save_pretrained(a.dir, safe_serialization=True)
tok.save_pretrained(a.dir)

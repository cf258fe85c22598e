#!/usr/bin/env python3
"""bertkit export -> transformers.from_pretrained: for every hf-tiny head,
re-save the fixture with `bertkit export` (fp32), load the result with
transformers and compare its outputs on the fixture inputs with the reference
outputs, then compare `bertkit forward` with transformers on the same inputs.
usage: hf_roundtrip.py BERTKIT HF_TINY_DIR WORK_DIR"""
import json, os, subprocess, sys
import torch
from safetensors.torch import load_file
import transformers as tf

HEADS = {"maskedlm": "BertForMaskedLM", "pretraining": "BertForPreTraining", "qa": "BertForQuestionAnswering",
         "seqcls": "BertForSequenceClassification", "tokcls": "BertForTokenClassification"}
INPUTS = ["input_ids", "token_type_ids", "attention_mask", "labels", "next_sentence_label",
          "start_positions", "end_positions"]

def rel(a, b):
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()

bertkit, tiny, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
worst = 0.0
ok = True
for head, cls in HEADS.items():
    src = os.path.join(tiny, head)
    ref = load_file(os.path.join(src, "reference.safetensors"))
    for dtype in ["fp32", "bf16"]:
        dst = os.path.join(work, f"{head}-{dtype}")
        r = subprocess.run([bertkit, "export", src, dst, "--dtype", dtype], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{head} {dtype}: export failed: {r.stderr.strip()}"); ok = False; continue
        model = getattr(tf, cls).from_pretrained(dst, torch_dtype=torch.float32).eval()
        inputs = {k: ref[k] for k in INPUTS if k in ref}
        with torch.no_grad():
            out = model(**inputs, output_hidden_states=True)
        errs = {}
        for k in ["logits", "prediction_logits", "seq_relationship_logits", "start_logits", "end_logits", "loss"]:
            if k in ref and getattr(out, k, None) is not None:
                errs[k] = rel(getattr(out, k), ref[k])
        m = max(errs.values())
        tol = 1e-5 if dtype == "fp32" else 5e-2
        ok &= m <= tol
        if dtype == "fp32":
            worst = max(worst, m)
        print(f"{head:12s} {dtype}: transformers loads bertkit export; max rel err vs reference {m:.2e} (tol {tol:g})")
    # bertkit forward vs transformers on the same inputs
    inp = os.path.join(work, f"{head}-inputs.safetensors")
    from safetensors.torch import save_file
    save_file({k: ref[k].contiguous() for k in INPUTS if k in ref}, inp)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        outp = os.path.join(work, f"{head}-bertkit-{device}.safetensors")
        r = subprocess.run([bertkit, "forward", src, "--inputs", inp, "--output", outp, "--hidden-states",
                            "--device", device], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{head}: bertkit forward on {device} failed: {r.stderr.strip()}"); ok = False; continue
        bk = load_file(outp)
        common = [k for k in bk if k in ref and bk[k].shape == ref[k].shape and bk[k].is_floating_point()]
        m = max(rel(bk[k], ref[k]) for k in common) if common else float("nan")
        ok &= bool(common) and m <= 1e-5
        print(f"{head:12s} bertkit forward ({device}) vs transformers reference: {len(common)} tensors, max rel err {m:.2e}")
print(json.dumps({"roundtrip_ok": bool(ok), "worst_fp32_rel_err": worst}))
sys.exit(0 if ok else 1)

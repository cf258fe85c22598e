# hf_outputs.py OUTDIR, run inside WORKDIR where transformers is installed: load each case with
# transformers (eager attention), run it in fp32 eval mode, write OUTDIR/hf_outputs.safetensors.
import sys, json, torch, transformers
from safetensors.torch import load_file, save_file
out_dir = sys.argv[1]
cases = [("pre_gelunew", "inputs_pre"), ("seqcls_relu_reg", "inputs_reg"), ("tokcls_silu", "inputs_tok"),
         ("exp_seqcls_fp16", "inputs_fix_cls"), ("exp_pre_bf16", "inputs_fix"), ("exp_pre_as_mlm", "inputs_fix_mlm"),
         ("exp_mlm_as_seqcls", "inputs_fix_cls"), ("exp_sin", "inputs_pre")]
res = {}
log = {}
for d, inp in cases:
    arch = json.load(open(d + "/config.json"))["architectures"][0]
    model = getattr(transformers, arch).from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    x = load_file(inp + ".safetensors")
    if arch == "BertForMaskedLM": x.pop("next_sentence_label", None)
    if arch == "BertForSequenceClassification" and x["labels"].dim() > 1: x.pop("labels")
    o = model(**x, output_hidden_states=True, output_attentions=True)
    o.loss.backward()
    for k in ["loss", "logits", "prediction_logits", "seq_relationship_logits", "pooler_output"]:
        v = getattr(o, k, None)
        if v is not None: res[d + "/" + k] = v.detach().reshape(-1) if k == "loss" else v.detach()
    for i, h in enumerate(o.hidden_states): res[d + "/hidden_states.%d" % i] = h.detach()
    for i, a in enumerate(o.attentions): res[d + "/attentions.%d" % i] = a.detach()
    for n, p in model.named_parameters():
        if p.grad is not None: res[d + "/grad." + n] = p.grad.detach()
    log[d] = {"arch": arch, "loss": float(o.loss), "dtype_loaded": str(next(model.parameters()).dtype)}
res = {k: v.contiguous() for k, v in res.items()}
save_file(res, out_dir + "/hf_outputs.safetensors")
json.dump(log, open(out_dir + "/log.json", "w"), indent=1)
print(json.dumps(log, indent=1))

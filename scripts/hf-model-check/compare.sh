#!/bin/bash
# compare.sh WORKDIR HF_OUTPUTS: run `bertkit forward` on every case of WORKDIR and compare
# with transformers' outputs (hf_outputs.py): outputs within 1e-5 of each tensor's scale,
# gradients elementwise within 1e-4 |ref| + 1e-6 ||all grads||. Env: BERTKIT (the binary).
set -euo pipefail
W=$1; HF=$(realpath "$2"); B=${BERTKIT:-bertkit}
cd "$W"; mkdir -p bk
run() { $B forward "$1" --inputs "$2.safetensors" --output "bk/$3.safetensors" --hidden-states --attentions --grads >/dev/null 2>&1; }
run pre_gelunew inputs_pre pre_gelunew
run seqcls_relu_reg inputs_reg seqcls_relu_reg
run tokcls_silu inputs_tok tokcls_silu
run exp_seqcls_fp16 inputs_fix_cls exp_seqcls_fp16
run exp_pre_bf16 inputs_fix exp_pre_bf16
run exp_pre_as_mlm inputs_fix_mlm exp_pre_as_mlm
run exp_mlm_as_seqcls inputs_fix_cls exp_mlm_as_seqcls
run sin_src inputs_pre exp_sin   # bertkit's sinusoidal model vs transformers on its export
python3 - "$HF" <<'P'
import json, struct, array, sys, math
def load(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8+n]); base = 8 + n; out = {}
    for k, v in h.items():
        if k == "__metadata__": continue
        s, e = v["data_offsets"]; a = array.array({"F32": "f", "I64": "q"}[v["dtype"]]); a.frombytes(b[base+s:base+e]); out[k] = list(a)
    return out
hf = load(sys.argv[1]); ok = True
for c in sorted({k.split("/")[0] for k in hf}):
    bk = load("bk/%s.safetensors" % c)
    gsq = sum(x * x for k, v in hf.items() if k.startswith(c + "/grad.") for x in v); floor = 1e-6 * math.sqrt(gsq)
    out_rel = 0; bad = 0; n = 0
    for k, v in hf.items():
        if not k.startswith(c + "/"): continue
        name = k[len(c) + 1:]
        if name not in bk:
            # A sinusoidal model has no position-embedding parameter (a fixed table).
            if not (c == "exp_sin" and name == "grad.bert.embeddings.position_embeddings.weight"):
                print("missing", c, name); ok = False
            continue
        w = bk[name]; n += 1
        if name.startswith("grad."):
            bad += sum(1 for x, y in zip(w, v) if abs(x - y) > 1e-4 * abs(y) + floor)
        else:
            out_rel = max(out_rel, max(abs(x - y) for x, y in zip(w, v)) / (max(abs(y) for y in v) or 1))
    print("%-18s %3d tensors  outputs max rel diff %.1e  gradient elements outside tolerance %d" % (c, n, out_rel, bad))
    ok = ok and out_rel <= 1e-5 and bad == 0
print("ALL MATCH" if ok else "MISMATCH"); sys.exit(0 if ok else 1)
P

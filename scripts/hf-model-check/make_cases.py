#!/usr/bin/env python3
"""Write random BERT checkpoints in HF layout and their inputs into WORKDIR (no torch needed).

Usage: make_cases.py WORKDIR
Cases: pre_gelunew (BertForPreTraining, gelu_new, 3 layers, 6 heads, 3 token types),
seqcls_relu_reg (regression head, relu), tokcls_silu (token classification, silu),
sin_src (pre_gelunew with bertkit's sinusoidal positions). prepare.sh adds bertkit exports.
"""
import json, os, random, struct, sys
random.seed(7)
os.makedirs(sys.argv[1], exist_ok=True)
os.chdir(sys.argv[1])
def write_st(path, tensors):  # tensors: name -> (dtype, shape, bytes)
    header, off, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for k in sorted(tensors):
        dt, shape, data = tensors[k]
        header[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(data)]}
        off += len(data); blobs.append(data)
    h = json.dumps(header).encode(); h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
def f32(shape, std=0.08, mean=0.0):
    n = 1
    for s in shape: n *= s
    return ("F32", list(shape), struct.pack("<%df" % n, *[random.gauss(mean, std) for _ in range(n)]))
def i64(shape, vals):
    return ("I64", list(shape), struct.pack("<%dq" % len(vals), *vals))
def bert_weights(c, pooler=True, prefix="bert."):
    H, I, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    w = {}
    e = prefix + "embeddings."
    w[e + "word_embeddings.weight"] = f32([V, H]); w[e + "position_embeddings.weight"] = f32([c["max_position_embeddings"], H])
    w[e + "token_type_embeddings.weight"] = f32([c["type_vocab_size"], H])
    w[e + "LayerNorm.weight"] = f32([H], 0.1, 1.0); w[e + "LayerNorm.bias"] = f32([H])
    for l in range(c["num_hidden_layers"]):
        p = prefix + "encoder.layer.%d." % l
        for n in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]:
            w[p + n + ".weight"] = f32([H, H]); w[p + n + ".bias"] = f32([H])
        w[p + "intermediate.dense.weight"] = f32([I, H]); w[p + "intermediate.dense.bias"] = f32([I])
        w[p + "output.dense.weight"] = f32([H, I]); w[p + "output.dense.bias"] = f32([H])
        for n in ["attention.output.LayerNorm", "output.LayerNorm"]:
            w[p + n + ".weight"] = f32([H], 0.1, 1.0); w[p + n + ".bias"] = f32([H])
    if pooler:
        w[prefix + "pooler.dense.weight"] = f32([H, H]); w[prefix + "pooler.dense.bias"] = f32([H])
    return w
base = {"model_type": "bert", "vocab_size": 300, "hidden_size": 48, "num_hidden_layers": 3, "num_attention_heads": 6,
        "intermediate_size": 96, "hidden_act": "gelu_new", "max_position_embeddings": 40, "type_vocab_size": 3,
        "layer_norm_eps": 1e-7, "pad_token_id": 0, "initializer_range": 0.02, "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1}
def save(name, cfg, w):
    os.makedirs(name, exist_ok=True)
    json.dump(cfg, open(name + "/config.json", "w"), indent=1)
    write_st(name + "/model.safetensors", w)
# 1. pretraining, gelu_new
c = dict(base, architectures=["BertForPreTraining"])
w = bert_weights(c); H, V = 48, 300
w["cls.predictions.transform.dense.weight"] = f32([H, H]); w["cls.predictions.transform.dense.bias"] = f32([H])
w["cls.predictions.transform.LayerNorm.weight"] = f32([H], 0.1, 1.0); w["cls.predictions.transform.LayerNorm.bias"] = f32([H])
w["cls.predictions.bias"] = f32([V]); w["cls.seq_relationship.weight"] = f32([2, H]); w["cls.seq_relationship.bias"] = f32([2])
save("pre_gelunew", c, w)
# 2. seqcls regression with relu, classifier_dropout set
c = dict(base, architectures=["BertForSequenceClassification"], hidden_act="relu", num_labels=1, classifier_dropout=0.2,
         id2label={"0": "score"}, label2id={"score": 0})
w = bert_weights(c); w["classifier.weight"] = f32([1, H]); w["classifier.bias"] = f32([1])
save("seqcls_relu_reg", c, w)
# 3. tokcls with silu
c = dict(base, architectures=["BertForTokenClassification"], hidden_act="silu", num_labels=5,
         id2label={str(i): "T%d" % i for i in range(5)}, label2id={"T%d" % i: i for i in range(5)})
w = bert_weights(c, pooler=False); w["classifier.weight"] = f32([5, H]); w["classifier.bias"] = f32([5])
save("tokcls_silu", c, w)
# inputs: B=3, T=20, padding, 3 token types
B, T = 3, 20
ids, tt, am, mlm, tok = [], [], [], [], []
for b in range(B):
    n = T - 6 * b
    for t in range(T):
        ids.append(random.randrange(1, V) if t < n else 0); tt.append(min(2, t // 7) if t < n else 0)
        am.append(1 if t < n else 0)
        mlm.append(random.randrange(1, V) if (t < n and random.random() < 0.3) else -100)
        tok.append(random.randrange(0, 5) if t < n else -100)
write_st("inputs_pre.safetensors", {"input_ids": i64([B, T], ids), "token_type_ids": i64([B, T], tt), "attention_mask": i64([B, T], am),
         "labels": i64([B, T], mlm), "next_sentence_label": i64([B], [1, 0, 1])})
write_st("inputs_reg.safetensors", {"input_ids": i64([B, T], ids), "token_type_ids": i64([B, T], tt), "attention_mask": i64([B, T], am),
         "labels": ("F32", [B], struct.pack("<3f", 0.5, -1.25, 2.0))})
write_st("inputs_tok.safetensors", {"input_ids": i64([B, T], ids), "token_type_ids": i64([B, T], tt), "attention_mask": i64([B, T], am),
         "labels": i64([B, T], tok)})
def read_st(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8+n]); base = 8 + n
    return {k: (v["dtype"], v["shape"], b[base+v["data_offsets"][0]:base+v["data_offsets"][1]]) for k, v in h.items() if k != "__metadata__"}
# sinusoidal source: pre_gelunew without learned positions
os.makedirs("sin_src", exist_ok=True)
c = json.load(open("pre_gelunew/config.json")); c["position_embedding_type"] = "sinusoidal"
json.dump(c, open("sin_src/config.json", "w"))
w = read_st("pre_gelunew/model.safetensors"); del w["bert.embeddings.position_embeddings.weight"]
write_st("sin_src/model.safetensors", w)
# inputs for the hf-tiny-shaped exports: token types 0/1, 3 labels
x = read_st("inputs_pre.safetensors")
tt = struct.unpack("<60q", x["token_type_ids"][2])
x["token_type_ids"] = ("I64", [3, 20], struct.pack("<60q", *[min(1, t) for t in tt]))
write_st("inputs_fix.safetensors", x)
y = {k: x[k] for k in ["input_ids", "token_type_ids", "attention_mask"]}
write_st("inputs_fix_mlm.safetensors", dict(y, labels=x["labels"]))
write_st("inputs_fix_cls.safetensors", dict(y, labels=("I64", [3], struct.pack("<3q", 2, 0, 1))))

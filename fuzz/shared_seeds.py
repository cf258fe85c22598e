#!/usr/bin/env python3
"""Seed corpora from ../shared, made at run time by scripts/fuzz.sh into a
build directory (never the repository): small valid cuts of the real files
(fuzzing is fastest on small inputs), with the option byte some targets read
first.   shared_seeds.py SHARED_DIR OUT_DIR"""
import glob, json, os, struct, sys

shared, out = sys.argv[1], sys.argv[2]


def put(target, name, data, prefix=None):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if prefix is not None:
        data = bytes([prefix]) + data
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def head(path, lines, binary=False):
    with open(path, "rb") as f:
        return b"".join(f.readline() for _ in range(lines))


def have(rel):
    return os.path.exists(os.path.join(shared, rel))


def p(rel):
    return os.path.join(shared, rel)


# vocab.txt: the first 3000 lines of each BERT vocabulary.
for v in sorted(glob.glob(p("data/bert-vocab/*.txt"))):
    put("vocab_txt", os.path.basename(v), head(v, 3000))

# tokenizer.json: the fixtures' tokenizers with the vocabulary cut to 400 ids.
for i, t in enumerate(sorted(glob.glob(p("fixtures/pipelines/*/tokenizer.json")))[:1]):
    j = json.load(open(t, encoding="utf-8"))
    j["model"]["vocab"] = {k: v for k, v in j["model"]["vocab"].items() if v < 400}
    j["added_tokens"] = [a for a in j.get("added_tokens", []) if a["id"] < 400]
    put("tokenizer_json", "pipelines-%d.json" % i, json.dumps(j))

# SentencePiece models, whole (a cut protobuf is just an error).
for m in sorted(glob.glob(p("data/sentencepiece/*.model"))):
    if os.path.getsize(m) < 400000:
        put("sentencepiece", os.path.basename(m), open(m, "rb").read())

# safetensors: the first tensors of the tiny fixture models, rewritten.
for d in sorted(glob.glob(p("fixtures/hf-tiny/*/model.safetensors")))[:2]:
    raw = open(d, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    keep, blob = {}, b""
    if "__metadata__" in header:
        keep["__metadata__"] = header.pop("__metadata__")
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])[:5]:
        b, end = e["data_offsets"]
        if end - b > 8192:
            continue
        keep[name] = dict(e, data_offsets=[len(blob), len(blob) + end - b])
        blob += body[b:end]
    h = json.dumps(keep).encode()
    h += b" " * (-len(h) % 8)
    put("safetensors", d.split("/")[-2], struct.pack("<Q", len(h)) + h + blob)

# config.json of every fixture model.
for c in sorted(glob.glob(p("fixtures/*/*/config.json"))):
    put("bert_config", c.split("/")[-2] + "-config.json", open(c, "rb").read())

# CoNLL: the first sentences of CoNLL-2003 and WNUT-17 (option byte 0: auto scheme, last column).
for rel in ("data/conll2003/train.txt", "data/wnut17/wnut17train.conll"):
    if have(rel):
        put("conll", os.path.basename(rel), head(p(rel), 80), prefix=0)

# Classification: GLUE TSV heads (header), SMS spam (no header, columns by index).
for rel in ("data/glue/SST-2/train.tsv", "data/glue/MRPC/train.tsv", "data/glue/RTE/train.tsv"):
    if have(rel):
        put("classification", rel.split("/")[-2] + ".tsv", head(p(rel), 30), prefix=0)
if have("data/sms_spam/SMSSpamCollection"):
    put("classification", "sms_spam.tsv", head(p("data/sms_spam/SMSSpamCollection"), 30), prefix=4 | 8)

# SQuAD: one article's first paragraph of dev-v1.1.
if have("data/squad/dev-v1.1.part1.json"):
    j = json.load(open(p("data/squad/dev-v1.1.part1.json"), encoding="utf-8"))
    art = j["data"][0]
    art = dict(art, paragraphs=art["paragraphs"][:1])
    put("squad", "dev-v1.1-cut.json", json.dumps({"version": j.get("version", "1.1"), "data": [art]}))

# tokenize input: the HF tokenizer fixture's input lines (option byte 0: JSONL).
if have("fixtures/tokenizer/input.jsonl"):
    put("tokenize_jsonl", "input.jsonl", head(p("fixtures/tokenizer/input.jsonl"), 40), prefix=0)

"""Shared helpers of the transformers peers in benchmarks/hf/: thread setup, the SST-2
sentences, peak RSS and the one JSON line each benchmark prints (the same keys as
bertkit's bench_* programs where they measure the same thing)."""
import json, os, resource, sys

SHARED = os.environ.get("BERTKIT_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
SST2 = os.path.join(SHARED, "data", "glue", "SST-2")
VOCAB = os.path.join(SHARED, "data", "bert-vocab", "bert-base-uncased-vocab.txt")

# hidden, layers, heads, intermediate: benchmarks/model_shapes.h and bench_finetune's 2-layer.
SIZES = {
    "2-layer": (128, 2, 2, 256),
    "tiny": (128, 2, 2, 512),
    "bert-mini": (256, 4, 4, 1024),
    "bert-base": (768, 12, 12, 3072),
}


def set_threads(n):
    """torch's intra-op threads (and OMP_NUM_THREADS for anything started later)."""
    import torch
    if n > 0:
        os.environ["OMP_NUM_THREADS"] = str(n)
        torch.set_num_threads(n)
    return torch.get_num_threads()


def bert_config(name, **extra):
    from transformers import BertConfig
    h, l, nh, i = SIZES[name]
    return BertConfig(hidden_size=h, num_hidden_layers=l, num_attention_heads=nh, intermediate_size=i, **extra)


def read_sentences(path, limit=0):
    """(sentence, label) pairs of a GLUE TSV (header row, tab-separated, no quoting); `path`
    is a file or the name of an SST-2 split ("train", "dev")."""
    out = []
    if not os.path.exists(path):
        path = os.path.join(SST2, path + ".tsv")
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        s, l = header.index("sentence"), header.index("label")
        for line in f:
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) > max(s, l):
                out.append((fields[s], int(fields[l])))
            if limit and len(out) >= limit:
                break
    return out


def slow_tokenizer(path=VOCAB):
    """transformers' Python BertTokenizer (no Rust tokenizers in this environment)."""
    from transformers import BertTokenizer
    return BertTokenizer(path, do_lower_case=True) if path.endswith(".txt") else BertTokenizer.from_pretrained(path)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def emit(record):
    import transformers
    record = {"impl": "transformers", "transformers": transformers.__version__, **record,
              "peak_rss_mib": round(peak_rss_mib(), 1)}
    print(json.dumps(record))
    sys.stdout.flush()

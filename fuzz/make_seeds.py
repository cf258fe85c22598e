#!/usr/bin/env python3
"""Write the small hand-made seeds of fuzz/seeds/<target>/ (committed; rerun
to regenerate). Python's standard library only: the torch.save pickle is
built with stand-in classes that pickle under torch's global names."""
import collections, io, json, os, pickle, struct, sys, types

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def torch_pickle():
    # Stand-ins that pickle as torch's globals (protocol 2, as torch.save).
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    torch._utils = utils

    class FloatStorage: pass
    class LongStorage: pass
    FloatStorage.__module__ = LongStorage.__module__ = "torch"

    def _rebuild_tensor_v2(*a): pass
    def _rebuild_parameter(*a): pass
    _rebuild_tensor_v2.__module__ = _rebuild_parameter.__module__ = "torch._utils"
    for x in (FloatStorage, LongStorage, _rebuild_tensor_v2, _rebuild_parameter):
        x.__qualname__ = x.__name__
    torch.FloatStorage, torch.LongStorage = FloatStorage, LongStorage
    utils._rebuild_tensor_v2, utils._rebuild_parameter = _rebuild_tensor_v2, _rebuild_parameter
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

    class Storage:
        def __init__(self, kind, key, numel): self.kind, self.key, self.numel = kind, key, numel

    class Tensor:
        def __init__(self, storage, offset, size, stride): self.args = (storage, offset, size, stride)
        def __reduce__(self):
            return (_rebuild_tensor_v2, self.args + (False, collections.OrderedDict()))

    class Param:
        def __init__(self, t): self.t = t
        def __reduce__(self): return (_rebuild_parameter, (self.t, True, collections.OrderedDict()))

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", obj.kind, obj.key, "cpu", obj.numel)
            return None

    s0, s1, s2 = Storage(FloatStorage, "0", 1024), Storage(LongStorage, "1", 512), Storage(FloatStorage, "2", 1024)
    sd = collections.OrderedDict()
    sd["bert.embeddings.word_embeddings.weight"] = Tensor(s0, 0, (16, 8), (8, 1))
    sd["bert.embeddings.position_ids"] = Tensor(s1, 0, (1, 16), (16, 1))
    sd["bert.pooler.dense.bias"] = Param(Tensor(s2, 4, (8,), (1,)))
    sd["transposed"] = Tensor(s0, 0, (8, 16), (1, 8))
    sd["empty"] = Tensor(s2, 0, (0, 4), (4, 1))
    buf = io.BytesIO()
    P(buf, protocol=2).dump(sd)
    return buf.getvalue()


def main():
    f32 = struct.pack("<4f", 1, 2, 3, 4)
    put("safetensors", "two-tensors", safetensors({"a": ("F32", [2, 2], f32), "b": ("I64", [1], struct.pack("<q", 7))},
                                                 {"format": "pt"}))
    put("safetensors", "empty-tensor", safetensors({"e": ("BF16", [0, 3], b""), "x": ("U8", [3], b"abc")}))
    put("safetensors", "no-tensors", safetensors({}))

    vocab = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "!", ",", ".", "a", "hello", "world",
             "##s", "##ing", "caf", "##\u00e9", "\u65e5", "\u672c", "una", "##ff", "##able", "\u00e9"]
    put("vocab_txt", "small", "\n".join(vocab) + "\n")
    put("vocab_txt", "crlf-and-blank", "[PAD]\r\n[UNK]\r\n\r\n[CLS]\r\n[SEP]\r\nhello\r\n##s\r\n")
    put("tokenizer_json", "bert", json.dumps({
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(vocab[:6]) if t.startswith("[") and t != "[unused0]"],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [3], "tokens": ["[CLS]"]},
                                              "[SEP]": {"id": "[SEP]", "ids": [4], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}}}, indent=1))
    put("tokenizer_json", "bert-processing", json.dumps({
        "normalizer": None, "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 4], "cls": ["[CLS]", 3]},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {t: i for i, t in enumerate(vocab)}}}))

    put("tokenize_jsonl", "jsonl", "\x00" + '{"text": "Hello world"}\n{"text": "a", "text_pair": "b"}\n\n{"text": ""}\n')
    put("tokenize_jsonl", "lines", "\x01" + "hello world\n\ncaf\u00e9 \u65e5\u672c\r\n")
    put("tokenize_jsonl", "words", "\x02" + '{"words": ["Hello", "world", "!"]}\n{"words": []}\n')

    put("bert_config", "tiny", json.dumps({
        "architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": 100,
        "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 64, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "position_embedding_type": "absolute",
        "id2label": {"0": "NEG", "1": "POS"}, "label2id": {"NEG": 0, "POS": 1},
        "problem_type": "single_label_classification", "classifier_dropout": None,
        "torch_dtype": "float32", "transformers_version": "4.40.0"}, indent=2))
    put("bert_config", "minimal", "{}")

    put("run_config", "classification", json.dumps({
        "model": {"pretrained": "bert-base-uncased"},
        "task": {"type": "classification", "max_seq_length": 64},
        "data": {"train": "train.tsv", "eval": "dev.tsv"},
        "train": {"learning_rate": 2e-5, "epochs": 1, "batch_size": 4, "precision": "bf16",
                  "distributed": {"backend": "gloo"}},
        "eval": {"every_steps": 10}, "checkpoint": {"every_steps": 5, "keep_last": 1},
        "output": {"dir": "runs/x"}}, indent=1))

    put("shard_index", "index", json.dumps({
        "format": "bertkit-shards", "version": 1, "vocab_size": 30522, "id_bytes": 2, "nsp": True,
        "max_seq_length": 128, "static_masking": False, "seed": 12345,
        "special_tokens": {"cls": 101, "sep": 102, "pad": 0, "mask": 103},
        "train": {"files": ["train-00000.bin"], "instances": 2, "tokens": 7, "documents": 1},
        "eval": {"files": [], "instances": 0, "tokens": 0, "documents": 0}, "summary": {}}, indent=1))

    def shard(instances, id_bytes):
        ids = [i for a, b, _ in instances for i in a + b]
        out = b"BKSHARD1" + struct.pack("<IIQQ", id_bytes, 0, len(instances), len(ids))
        off = 0
        for a, b, nl in instances:
            out += struct.pack("<QIIiI", off, len(a), len(b), nl, 0)
            off += len(a) + len(b)
        return out + b"".join(struct.pack("<H" if id_bytes == 2 else "<I", i) for i in ids)
    put("shard_file", "nsp-u16", shard([([5, 6, 7], [8, 9], 0), ([10], [11], 1)], 2))
    put("shard_file", "packed-u32", shard([([70000, 1, 2], [], -1)], 4))

    put("conll", "conll2003", "\x00" + "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"
        "German JJ B-NP B-MISC\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n")
    put("conll", "iob1-tabs", "\x00" + "John\tI-PER\nSmith\tI-PER\nvisits\tO\nParis\tI-LOC\n\n")
    put("conll", "unlabelled", "\x04" + "one\ntwo\n\nthree\n")

    put("squad", "v2", json.dumps({"version": "v2.0", "data": [{"title": "T", "paragraphs": [{
        "context": "Caf\u00e9 in Paris since 1900.",
        "qas": [{"id": "q1", "question": "Where?", "answers": [{"text": "Paris", "answer_start": 8}], "is_impossible": False},
                {"id": "q2", "question": "Who?", "answers": [], "is_impossible": True,
                 "plausible_answers": [{"text": "Caf\u00e9", "answer_start": 0}]}]}]}]}))

    put("classification", "tsv", "\x00" + "sentence\tlabel\nhello world\t1\nbad \"quote\t0\n\n")
    put("classification", "csv", "\x01" + 'sentence,label\n"a, b",yes\n"multi\nline",no\r\n')
    put("classification", "csv-pair-cols", bytes([1 | 16]) + b'sentence1,sentence2,label\n"a, b","q ""x""",yes\n')
    put("classification", "jsonl", "\x02" + '{"sentence": "hi", "label": 1}\n{"sentence": "yo", "label": ["a", "b"]}\n')
    put("classification", "tsv-index-multilabel", bytes([0 | 8 | 32 | 4]) + b"a\tb\tx,y\nc\td\tz\n")

    put("torch_bin", "state-dict.pkl", torch_pickle())

    put("serve_request", "embed", "\x00" + json.dumps({"inputs": ["The cat", "A dog"], "normalize": True}))
    put("serve_request", "openai", "\x01" + json.dumps({"input": "The cat", "model": "m", "encoding_format": "float"}))
    put("serve_request", "tokenize", "\x02" + json.dumps({"inputs": ["The cat"], "add_special_tokens": True}))
    put("serve_request", "predict", "\x03" + json.dumps({"inputs": [["good", "bad"]], "raw_scores": False}))
    put("serve_request", "rerank", "\x04" + json.dumps({"query": "q", "texts": ["a", "b"]}))
    put("serve_request", "tokenize-cls", "\x05" + json.dumps({"inputs": "x"}))
    put("serve_request", "ner", "\x06" + json.dumps({"inputs": "John lives in Paris", "aggregation_strategy": "simple"}))
    put("serve_request", "qa", "\x07" + json.dumps({"question": "Where?", "context": "He lives in Paris.", "top_k": 2}))


if __name__ == "__main__":
    main()

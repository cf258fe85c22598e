// The bad-input matrix (issue 12, docs/errors.md): every kind of input bertkit
// reads, broken in the ways users break it, fed to the real `bertkit` binary.
// Each case must exit 2 with a message naming the file/line/key and what was
// expected, and leave its folder (inputs and an already existing output)
// byte-identical: nothing overwritten, nothing half-written.
//
// One row per case: {kind, variant, files written first, arguments, substrings
// the error must contain, environment}. In arguments and file contents:
//   {s}     ../shared           {vocab}  a BERT vocab.txt in ../shared
//   {model} a small fine-tuned text-classification model with its tokenizer
// Every case runs in its own folder (the working directory), which holds
// existing/keep.txt and existing.jsonl: outputs that must survive.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;

namespace bertkit::test {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------
// File contents, made when the case runs (some read ../shared).
// ---------------------------------------------------------------------------
struct Content {
  std::function<std::string()> make;
  bool directory = false;
  Content(const char* text) : Content(std::string(text)) {}  // NOLINT: rows read as data
  Content(std::string text) : make([s = std::move(text)] { return s; }) {}  // NOLINT
  Content(std::function<std::string()> f, bool dir = false) : make(std::move(f)), directory(dir) {}
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string expand(std::string s);

// A folder in place of a file.
Content folder() { return Content([] { return std::string(); }, true); }
// The first n bytes of a ../shared file (all of it for n < 0).
Content shared_head(std::string rel, long n = -1) {
  return Content([rel, n] {
    std::string s = slurp(shared_path(rel));
    return n < 0 ? s : s.substr(0, static_cast<std::size_t>(n));
  });
}
// A safetensors file: the 8-byte little-endian header length, the header, then `data` bytes.
Content safetensors(std::string header, std::size_t data = 0, std::uint64_t length = 0) {
  return Content([header, data, length] {
    std::uint64_t n = length ? length : header.size();
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s + header + std::string(data, '\0');
  });
}
// A JSON document with placeholders expanded.
Content doc(std::string text) { return Content([text] { return expand(text); }); }
// A text of n lines "word N".
Content lines(int n) {
  return Content([n] {
    std::string s;
    for (int i = 0; i < n; ++i) s += "the quick brown fox number " + std::to_string(i) + " jumps\n";
    return s;
  });
}

// The tiny model's config.json, with `patch` merged in (JSON merge patch).
Content model_config(std::string patch = "{}") {
  return Content([patch] {
    json c = json::parse(slurp(shared_path("fixtures/hf-tiny/seqcls/config.json")));
    c.merge_patch(json::parse(patch));
    return c.dump(2);
  });
}

// A run config (classification on train.tsv, a tiny random model, the BERT vocab,
// two CPU steps, output run/) with `patch` merged in.
Content run_config(std::string patch = "{}") {
  return Content([patch] {
    json c = json::parse(expand(R"({
      "model": {"config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                           "intermediate_size": 64, "max_position_embeddings": 64}},
      "tokenizer": {"path": "{vocab}"},
      "task": {"type": "classification", "max_seq_length": 16},
      "data": {"train": "train.tsv", "format": "tsv", "text_column": "sentence", "label_column": "label"},
      "train": {"device": "cpu", "max_steps": 2, "batch_size": 2, "num_threads": 1},
      "logging": {"progress": false, "tensorboard": false},
      "output": {"dir": "run"}})"));
    c.merge_patch(json::parse(patch));
    return c.dump(2);
  });
}

const char* kTsv = "sentence\tlabel\na good film\t1\na bad film\t0\nfine\t1\nawful\t0\n";
const char* kConll = "EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n";
const char* kSquadNoData = R"({"version": "1.1"})";

using Files = std::vector<std::pair<std::string, Content>>;

struct Case {
  std::string kind;                 // the input kind (a row of docs/errors.md)
  std::string variant;              // what is broken
  Files files;                      // written into the case folder first
  std::string args;                 // after `bertkit`
  std::vector<std::string> expect;  // the error names these (file/line/key, what was expected)
  std::string env = "";             // VAR=value ... for the run
};

// Shorthands for the usual model folder m/: config.json + weights.
Files model_with(std::string weights_name, Content weights) {
  return {{"m/config.json", model_config()}, {"m/" + weights_name, std::move(weights)}};
}
Files config_with(Content config) {
  return {{"m/config.json", std::move(config)}, {"m/model.safetensors", shared_head("fixtures/hf-tiny/seqcls/model.safetensors")}};
}
Files run_with(Content config, Files more = {}) {
  more.insert(more.begin(), {{"c.json", std::move(config)}, {"train.tsv", kTsv}});
  return more;
}
Files shards_with(Files more) {
  more.insert(more.begin(), {"c.json", run_config(R"({"task": {"type": "pretraining", "max_seq_length": null}, "data": {"train": null,
                             "format": null, "text_column": null, "label_column": null, "shards": "shards"}})")});
  return more;
}

const std::string kST = "fixtures/hf-tiny/seqcls/model.safetensors";
const std::string kSpm = "data/sentencepiece/test_model.model";
const std::string kIndexOk = R"({"format": "bertkit-shards", "version": 1, "vocab_size": 30522, "id_bytes": 2, "nsp": true,
  "max_seq_length": 32, "special_ids": {"cls": 101, "sep": 102, "pad": 0, "mask": 103},
  "train": {"files": ["s0.bin"], "instances": 4}, "eval": {"files": []}})";

const std::vector<Case>& cases() {
  static const std::vector<Case> table = {
      // --- safetensors weights (info reads the header; forward loads the tensors) ---
      {"safetensors", "empty file", model_with("model.safetensors", ""), "info m", {"m/model.safetensors", "truncated"}},
      {"safetensors", "truncated", model_with("model.safetensors", shared_head(kST, 1000)), "info m", {"m/model.safetensors", "truncated"}},
      {"safetensors", "garbage bytes", model_with("model.safetensors", "this is not a safetensors file"), "info m", {"m/model.safetensors", "header length"}},
      {"safetensors", "header length 10^15", model_with("model.safetensors", safetensors("{}", 0, 1000000000000000ULL)), "info m", {"m/model.safetensors", "header length"}},
      {"safetensors", "header not JSON", model_with("model.safetensors", safetensors("{{{{", 8)), "info m", {"m/model.safetensors", "JSON"}},
      {"safetensors", "header an array", model_with("model.safetensors", safetensors("[1, 2]", 8)), "info m", {"m/model.safetensors", "'{'"}},
      {"safetensors", "offsets past the end", model_with("model.safetensors", safetensors(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}})", 8)), "info m", {"m/model.safetensors", "'a'", "data_offsets"}},
      {"safetensors", "shape of 10^12 elements", model_with("model.safetensors", safetensors(R"({"a": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 4]}})", 4)), "info m", {"m/model.safetensors", "'a'", "bytes"}},
      {"safetensors", "unknown dtype", model_with("model.safetensors", safetensors(R"({"a": {"dtype": "Q99", "shape": [2], "data_offsets": [0, 8]}})", 8)), "info m", {"m/model.safetensors", "'a'", "dtype"}},
      {"safetensors", "negative shape", model_with("model.safetensors", safetensors(R"({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8)), "info m", {"m/model.safetensors", "'a'", "shape"}},
      {"safetensors", "dtype a number", model_with("model.safetensors", safetensors(R"({"a": {"dtype": 3, "shape": [2], "data_offsets": [0, 8]}})", 8)), "info m", {"m/model.safetensors", "'a'", "dtype"}},
      {"safetensors", "missing data_offsets", model_with("model.safetensors", safetensors(R"({"a": {"dtype": "F32", "shape": [2]}})", 8)), "info m", {"m/model.safetensors", "'a'", "data_offsets"}},
      {"safetensors", "a folder", model_with("model.safetensors", folder()), "info m", {"m", "no weights", "model.safetensors"}},
      {"safetensors", "wrong tensor shape for the config", model_with("model.safetensors", safetensors(R"({"bert.embeddings.word_embeddings.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}})", 16)),
       "predict m hello --task text-classification", {"bert.embeddings.word_embeddings.weight", "[2, 2]"}},
      // --- pytorch_model.bin (torch.save zip + pickle) ---
      {"pytorch_model.bin", "empty file", model_with("pytorch_model.bin", ""), "info m", {"m/pytorch_model.bin"}},
      {"pytorch_model.bin", "garbage bytes", model_with("pytorch_model.bin", "garbage, not a zip"), "info m", {"m/pytorch_model.bin", "zip"}},
      {"pytorch_model.bin", "truncated zip", model_with("pytorch_model.bin", "PK\x03\x04\x14\x00\x00\x00\x00\x00"), "info m", {"m/pytorch_model.bin"}},
      {"pytorch_model.bin", "a folder", model_with("pytorch_model.bin", folder()), "info m", {"m", "no weights", "pytorch_model.bin"}},
      // --- config.json ---
      {"config.json", "missing", {{"m/model.safetensors", shared_head(kST)}}, "info m", {"m/config.json"}},
      {"config.json", "empty file", config_with(""), "info m", {"m/config.json", "JSON"}},
      {"config.json", "truncated", config_with("{\"hidden_size\": 64"), "info m", {"m/config.json", "JSON"}},
      {"config.json", "an array", config_with("[1, 2]"), "info m", {"m/config.json", "object"}},
      {"config.json", "wrong type", config_with(model_config(R"({"hidden_size": "abc"})")), "info m", {"m/config.json", "hidden_size", "integer"}},
      {"config.json", "heads do not divide hidden_size", config_with(model_config(R"({"num_attention_heads": 5})")), "info m", {"m/config.json", "num_attention_heads"}},
      {"config.json", "negative layers", config_with(model_config(R"({"num_hidden_layers": -1})")), "info m", {"m/config.json", "num_hidden_layers"}},
      {"config.json", "vocab_size 0", config_with(model_config(R"({"vocab_size": 0})")), "info m", {"m/config.json", "vocab_size"}},
      {"config.json", "unknown hidden_act", config_with(model_config(R"({"hidden_act": "swoosh"})")), "info m", {"m/config.json", "hidden_act", "swoosh"}},
      {"config.json", "a folder", config_with(folder()), "info m", {"m/config.json"}},
      {"config.json", "garbage bytes", config_with("\x89PNG\r\n\x1a\n\xff\xfe"), "info m", {"m/config.json", "JSON"}},
      // --- run configs (configs/*.json), --set, options of train ---
      {"run config", "truncated JSON", {{"c.json", "{\"train\": {\"epochs\": 1"}}, "train c.json", {"c.json", "JSON"}},
      {"run config", "empty file", {{"c.json", ""}}, "train c.json", {"c.json", "JSON"}},
      {"run config", "top level an array", {{"c.json", "[]"}}, "train c.json", {"c.json", "object"}},
      {"run config", "unknown key", run_with(run_config(R"({"train": {"epoch": 1}})")), "train c.json", {"c.json", "train", "\"epoch\"", "valid keys"}},
      {"run config", "unknown section", run_with(run_config(R"({"trian": {}})")), "train c.json", {"c.json", "\"trian\""}},
      {"run config", "wrong type", run_with(run_config(R"({"train": {"batch_size": "eight"}})")), "train c.json", {"c.json", "train.batch_size", "integer"}},
      {"run config", "out of range", run_with(run_config(R"({"train": {"learning_rate": -1}})")), "train c.json", {"c.json", "train.learning_rate", "> 0"}},
      {"run config", "unknown task type", run_with(run_config(R"({"task": {"type": "summarization"}})")), "train c.json", {"task.type", "summarization", "known tasks"}},
      {"run config", "unknown lr_scheduler", run_with(run_config(R"({"train": {"lr_scheduler": "zigzag"}})")), "train c.json", {"c.json", "train.lr_scheduler", "zigzag"}},
      {"run config", "no model", run_with(run_config(R"({"model": null})")), "train c.json", {"c.json", "model"}},
      {"run config", "a folder", {{"c.json", folder()}}, "train c.json", {"c.json", "directory"}},
      {"run config", "missing file", {}, "train nope.json", {"nope.json"}},
      {"--set", "no '='", run_with(run_config()), "train c.json --set train.epochs", {"--set", "train.epochs", "KEY.PATH=VALUE"}},
      {"--set", "wrong type", run_with(run_config()), "train c.json --set train.epochs=abc", {"train.epochs", "integer", "abc"}},
      {"--set", "unknown key", run_with(run_config()), "train c.json --set train.nosuch=1", {"train", "\"nosuch\""}},
      {"--set", "out of range", run_with(run_config()), "train c.json --set train.batch_size=0", {"train.batch_size", ">= 1"}},
      {"--set", "empty key", run_with(run_config()), "train c.json --set =3", {"--set", "KEY.PATH=VALUE"}},
      {"train arguments", "no config", {}, "train", {"config", "required"}},
      {"train arguments", "--stop-after not a number", run_with(run_config()), "train c.json --stop-after x", {"--stop-after"}},
      {"train arguments", "--resume-from a missing folder", run_with(run_config()), "train c.json --resume-from nowhere", {"nowhere"}},
      {"train arguments", "output is an existing file", run_with(run_config()), "train c.json -o existing.jsonl", {"existing.jsonl"}},
      // --- datasets: TSV/CSV/JSONL (classification), through train ---
      {"TSV dataset", "missing file", {{"c.json", run_config()}}, "train c.json", {"train.tsv"}},
      {"TSV dataset", "empty file", run_with(run_config(), {{"train.tsv", ""}}), "train c.json", {"train.tsv"}},
      {"TSV dataset", "a folder", run_with(run_config(), {{"train.tsv", folder()}}), "train c.json", {"train.tsv"}},
      {"TSV dataset", "no such column", run_with(run_config(), {{"train.tsv", "text\tlabel\nhi\t1\n"}}), "train c.json", {"train.tsv", "'sentence'", "data.text_column"}},
      {"TSV dataset", "short row", run_with(run_config(), {{"train.tsv", "sentence\tlabel\nhi\t1\nnolabel\n"}}), "train c.json", {"train.tsv:3", "'label'"}},
      {"TSV dataset", "label not a number", run_with(run_config(R"({"task": {"labels": ["0", "1"]}})"), {{"train.tsv", "sentence\tlabel\nhi\t1\nyo\tmaybe\n"}}), "train c.json", {"train.tsv:3", "maybe"}},
      {"CSV dataset", "unterminated quote", run_with(run_config(R"({"data": {"train": "train.csv", "format": "csv"}})"), {{"train.csv", "sentence,label\n\"hello, world,1\nok,0\n"}}), "train c.json", {"train.csv:2", "quoted"}},
      {"CSV dataset", "unknown format", run_with(run_config(R"({"data": {"format": "xml"}})")), "train c.json", {"data.format", "xml"}},
      {"JSONL dataset", "line not JSON", run_with(run_config(R"({"data": {"train": "train.jsonl", "format": "jsonl"}})"), {{"train.jsonl", "{\"sentence\": \"a\", \"label\": 1}\n{oops\n"}}), "train c.json", {"train.jsonl:2", "JSON"}},
      {"JSONL dataset", "text not a string", run_with(run_config(R"({"data": {"train": "train.jsonl", "format": "jsonl"}})"), {{"train.jsonl", "{\"sentence\": \"a\", \"label\": 1}\n{\"sentence\": [1], \"label\": 0}\n"}}), "train c.json", {"train.jsonl:2", "sentence"}},
      {"JSONL dataset", "missing key", run_with(run_config(R"({"data": {"train": "train.jsonl", "format": "jsonl"}})"), {{"train.jsonl", "{\"sentence\": \"a\", \"label\": 1}\n{\"label\": 0}\n"}}), "train c.json", {"train.jsonl:2", "'sentence'"}},
      {"JSONL dataset", "line an array", run_with(run_config(R"({"data": {"train": "train.jsonl", "format": "jsonl"}})"), {{"train.jsonl", "[1, 2]\n"}}), "train c.json", {"train.jsonl:1", "object"}},
      // --- CoNLL (NER) ---
      {"CoNLL", "one field on a line", run_with(run_config(R"({"task": {"type": "ner"}, "data": {"train": "train.txt", "format": null, "text_column": null, "label_column": null}})"), {{"train.txt", "EU B-ORG\nrejects\n"}}), "train c.json", {"train.txt:2", "tag"}},
      {"CoNLL", "unknown tag scheme", run_with(run_config(R"({"task": {"type": "ner"}, "data": {"train": "train.txt", "scheme": "bilou5", "format": null, "text_column": null, "label_column": null}})"), {{"train.txt", kConll}}), "train c.json", {"bilou5", "iob"}},
      {"CoNLL", "empty file", run_with(run_config(R"({"task": {"type": "ner"}, "data": {"train": "train.txt", "format": null, "text_column": null, "label_column": null}})"), {{"train.txt", ""}}), "train c.json", {"task.labels", "none found in the data"}},
      // --- SQuAD JSON (QA) ---
      {"SQuAD JSON", "not JSON", run_with(run_config(R"({"task": {"type": "qa", "max_seq_length": 64, "doc_stride": 16}, "data": {"train": "train.json", "format": null, "text_column": null, "label_column": null}})"), {{"train.json", "{\"data\": ["}}), "train c.json", {"train.json", "JSON"}},
      {"SQuAD JSON", "no data key", run_with(run_config(R"({"task": {"type": "qa", "max_seq_length": 64, "doc_stride": 16}, "data": {"train": "train.json", "format": null, "text_column": null, "label_column": null}})"), {{"train.json", kSquadNoData}}), "train c.json", {"train.json", "'data'"}},
      {"SQuAD JSON", "context a number", run_with(run_config(R"({"task": {"type": "qa", "max_seq_length": 64, "doc_stride": 16}, "data": {"train": "train.json", "format": null, "text_column": null, "label_column": null}})"), {{"train.json", R"({"data": [{"title": "t", "paragraphs": [{"context": 5, "qas": []}]}]})"}}), "train c.json", {"train.json", "context", "string"}},
      {"SQuAD JSON", "answer without answer_start", run_with(run_config(R"({"task": {"type": "qa", "max_seq_length": 64, "doc_stride": 16}, "data": {"train": "train.json", "format": null, "text_column": null, "label_column": null}})"), {{"train.json", R"({"data": [{"title": "t", "paragraphs": [{"context": "a b c", "qas": [{"id": "1", "question": "q?", "answers": [{"text": "b"}]}]}]}]})"}}), "train c.json", {"train.json", "answer_start"}},
      // --- shard index + shards (pretraining) ---
      {"shards", "no index.json", shards_with({{"shards/s0.bin", "x"}}), "train c.json", {"shards/index.json", "bertkit prepare"}},
      {"shards", "index not JSON", shards_with({{"shards/index.json", "{\"format\": "}}), "train c.json", {"shards/index.json", "JSON"}},
      {"shards", "index of another format", shards_with({{"shards/index.json", R"({"format": "tfrecord", "version": 1})"}}), "train c.json", {"shards/index.json", "bertkit-shards"}},
      {"shards", "index version 9", shards_with({{"shards/index.json", R"({"format": "bertkit-shards", "version": 9})"}}), "train c.json", {"shards/index.json", "version"}},
      {"shards", "shard missing", shards_with({{"shards/index.json", kIndexOk}}), "train c.json", {"s0.bin"}},
      {"shards", "shard garbage", shards_with({{"shards/index.json", kIndexOk}, {"shards/s0.bin", "garbage garbage garbage garbage"}}), "train c.json", {"s0.bin", "not a valid bertkit shard"}},
      {"shards", "shard empty", shards_with({{"shards/index.json", kIndexOk}, {"shards/s0.bin", ""}}), "train c.json", {"s0.bin"}},
      // --- tokenizer.json ---
      {"tokenizer.json", "empty file", {{"t/tokenizer.json", ""}}, "tokenize -t t hello", {"t/tokenizer.json", "JSON"}},
      {"tokenizer.json", "truncated", {{"t/tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0"}}, "tokenize -t t hello", {"t/tokenizer.json", "JSON"}},
      {"tokenizer.json", "an array", {{"t/tokenizer.json", "[1, 2]"}}, "tokenize -t t hello", {"t/tokenizer.json", "object"}},
      {"tokenizer.json", "vocab not an object", {{"t/tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": [1]}})"}}, "tokenize -t t hello", {"t/tokenizer.json", "model.vocab"}},
      {"tokenizer.json", "vocab id a string", {{"t/tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {"a": "x"}}})"}}, "tokenize -t t hello", {"t/tokenizer.json", "model.vocab['a']", "integer"}},
      {"tokenizer.json", "BPE model", {{"t/tokenizer.json", R"({"model": {"type": "BPE", "vocab": {}}})"}}, "tokenize -t t hello", {"t/tokenizer.json", "BPE"}},
      {"tokenizer.json", "a folder", {{"t/tokenizer.json", folder()}}, "tokenize -t t hello", {"t", "no tokenizer"}},
      {"tokenizer.json", "no tokenizer in the folder", {{"t/readme.txt", "x"}}, "tokenize -t t hello", {"t", "tokenizer.json"}},
      // --- vocab.txt ---
      {"vocab.txt", "empty file", {{"vocab.txt", ""}}, "tokenize -t vocab.txt hello", {"vocab.txt", "empty"}},
      {"vocab.txt", "missing", {}, "tokenize -t ./vocab.txt hello", {"./vocab.txt"}},
      {"vocab.txt", "a folder named vocab.txt", {{"vocab.txt", folder()}}, "tokenize -t vocab.txt hello", {"vocab.txt"}},
      {"vocab.txt", "not UTF-8", {{"vocab.txt", "[PAD]\n[UNK]\n\xff\xfe\n"}}, "tokenize -t vocab.txt hello", {"vocab.txt:3", "UTF-8"}},
      {"vocab.txt", "no [UNK]", {{"vocab.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n"}}, "tokenize -t vocab.txt hello world", {"vocab.txt", "[UNK]"}},
      // --- SentencePiece .model ---
      {"SentencePiece .model", "garbage bytes", {{"sp.model", "garbage garbage"}}, "tokenize -t sp.model hello", {"sp.model", "SentencePiece"}},
      {"SentencePiece .model", "empty file", {{"sp.model", ""}}, "tokenize -t sp.model hello", {"sp.model", "SentencePiece"}},
      {"SentencePiece .model", "truncated", {{"sp.model", shared_head(kSpm, 5000)}}, "tokenize -t sp.model hello", {"sp.model", "SentencePiece"}},
      // --- tokenize JSONL input ---
      {"tokenize JSONL", "line not JSON", {{"in.jsonl", "{\"text\": \"a\"}\nnot json\n"}}, "tokenize -t {vocab} -i in.jsonl -o existing.jsonl", {"in.jsonl:2", "JSON"}},
      {"tokenize JSONL", "text not a string", {{"in.jsonl", "{\"text\": 5}\n"}}, "tokenize -t {vocab} -i in.jsonl -o existing.jsonl", {"in.jsonl:1", "\"text\""}},
      {"tokenize JSONL", "missing text", {{"in.jsonl", "{\"text\": \"a\"}\n{\"txt\": \"b\"}\n"}}, "tokenize -t {vocab} -i in.jsonl -o existing.jsonl", {"in.jsonl:2", "\"text\""}},
      {"tokenize JSONL", "text_pair not a string", {{"in.jsonl", "{\"text\": \"a\", \"text_pair\": 3}\n"}}, "tokenize -t {vocab} -i in.jsonl -o existing.jsonl", {"in.jsonl:1", "text_pair"}},
      {"tokenize JSONL", "invalid UTF-8", {{"in.jsonl", "{\"text\": \"\xff\xfe\"}\n"}}, "tokenize -t {vocab} -i in.jsonl -o existing.jsonl", {"in.jsonl:1"}},
      {"tokenize JSONL", "missing file", {}, "tokenize -t {vocab} -i in.jsonl -o existing.jsonl", {"in.jsonl"}},
      {"tokenize JSONL", "a folder", {{"in.jsonl", folder()}}, "tokenize -t {vocab} -i in.jsonl -o existing.jsonl", {"in.jsonl", "directory"}},
      // --- command arguments ---
      {"arguments", "no command", {}, "", {"subcommand"}},
      {"arguments", "unknown command", {}, "fly", {"fly"}},
      {"arguments", "unknown option", {}, "info {model} --frobnicate", {"--frobnicate"}},
      {"info arguments", "a file, not a folder", {{"f.txt", "x"}}, "info f.txt", {"f.txt", "not a directory"}},
      {"info arguments", "unknown --head", {}, "info {model} --head BertForPoetry", {"BertForPoetry"}},
      {"forward arguments", "no --inputs", {}, "forward {model} --output existing.jsonl", {"--inputs"}},
      {"forward arguments", "--inputs garbage", {{"in.safetensors", "garbage"}}, "forward {model} --inputs in.safetensors --output out.safetensors", {"in.safetensors"}},
      {"forward arguments", "--inputs without input_ids", {{"in.safetensors", safetensors(R"({"x": {"dtype": "I64", "shape": [1, 1], "data_offsets": [0, 8]}})", 8)}}, "forward {model} --inputs in.safetensors --output out.safetensors", {"in.safetensors", "input_ids"}},
      {"forward arguments", "--device nonsense", {}, "forward {model} --inputs x --output y --device tpu", {"tpu"}},
      {"export arguments", "no destination", {}, "export {model}", {"dst", "required"}},
      {"export arguments", "--dtype fp8", {}, "export {model} out --dtype fp8", {"--dtype", "fp8"}},
      {"export arguments", "--head unknown", {}, "export {model} out --head BertForPoetry", {"BertForPoetry"}},
      {"export arguments", "--num-labels 0", {}, "export {model} out --head BertForSequenceClassification --num-labels 0", {"--num-labels"}},
      {"export arguments", "source missing", {}, "export ./nowhere/model out", {"./nowhere/model"}},
      {"predict arguments", "unknown --task", {}, "predict {model} hi --task poetry", {"poetry", "text-classification"}},
      {"predict arguments", "no texts", {}, "predict {model}", {"text"}},
      {"predict arguments", "--top-k 0", {}, "predict {model} hi --top-k 0", {"--top-k"}},
      {"predict arguments", "--format xml", {}, "predict {model} hi --format xml", {"--format", "xml"}},
      {"predict arguments", "--input missing", {}, "predict {model} -i nope.txt -o existing.jsonl", {"nope.txt"}},
      {"predict arguments", "--aggregation bogus", {}, "predict {model} hi --aggregation bogus", {"--aggregation", "bogus"}},
      {"predict arguments", "--max-length -1", {}, "predict {model} hi --task embeddings --max-length -1", {"--max-length"}},
      {"evaluate arguments", "no --config and no --task", {}, "evaluate {model}", {"--config", "--task"}},
      {"evaluate arguments", "--data missing", {}, "evaluate {model} --task classification --data nope.tsv -o existing.jsonl", {"nope.tsv"}},
      {"prepare arguments", "no --tokenizer", {{"a.txt", lines(5)}}, "prepare a.txt -o existing", {"--tokenizer", "required"}},
      {"prepare arguments", "--max-seq-length 2", {{"a.txt", lines(5)}}, "prepare a.txt -o out -t {vocab} --max-seq-length 2", {"max_seq_length", ">= 8"}},
      {"prepare arguments", "--eval-fraction 2", {{"a.txt", lines(5)}}, "prepare a.txt -o out -t {vocab} --eval-fraction 2", {"eval_fraction", "[0, 1)"}},
      {"prepare arguments", "--short-seq-prob -1", {{"a.txt", lines(5)}}, "prepare a.txt -o out -t {vocab} --short-seq-prob -1", {"short_seq_prob", "[0, 1]"}},
      {"prepare arguments", "--dupe-factor 0", {{"a.txt", lines(5)}}, "prepare a.txt -o out -t {vocab} --dupe-factor 0", {"dupe_factor", ">= 1"}},
      {"prepare arguments", "input missing", {}, "prepare nope.txt -o out -t {vocab}", {"nope.txt"}},
      {"prepare arguments", "input not UTF-8", {{"a.txt", "good line\ncaf\xE9 au lait\n"}}, "prepare a.txt -o out -t {vocab}", {"a.txt:2", "not valid UTF-8", "byte 4"}},
      {"prepare arguments", "output holds other files", {{"a.txt", lines(5)}}, "prepare a.txt -o existing -t {vocab}", {"existing"}},
      {"tokenize arguments", "no tokenizer", {}, "tokenize hello", {"--tokenizer"}},
      {"tokenize arguments", "--max-length -3", {}, "tokenize -t {vocab} --max-length -3 hello", {"--max-length"}},
      {"tokenize arguments", "--stride -1", {}, "tokenize -t {vocab} --stride -1 --max-length 8 hello", {"--stride"}},
      {"tokenize arguments", "--truncation bogus", {}, "tokenize -t {vocab} --truncation bogus hello", {"--truncation", "bogus"}},
      {"tokenize arguments", "--padding bogus", {}, "tokenize -t {vocab} --padding bogus hello", {"--padding", "bogus"}},
      {"tokenize arguments", "--stride >= the room left", {}, "tokenize -t {vocab} --max-length 5 --stride 100 --overflowing \"a b c d e f g h\"", {"stride", "--stride"}},
      {"tokenize arguments", "--lowercase with --no-lowercase", {}, "tokenize -t {vocab} --lowercase --no-lowercase hi", {"--lowercase", "--no-lowercase"}},
      {"tokenizer arguments", "train: no --input", {}, "tokenizer train -o existing", {"--input", "required"}},
      {"tokenizer arguments", "train: --type bogus", {{"a.txt", lines(5)}}, "tokenizer train --type bogus -i a.txt -o out", {"--type", "bogus"}},
      {"tokenizer arguments", "train: --vocab-size 0", {{"a.txt", lines(5)}}, "tokenizer train -i a.txt -o out --vocab-size 0", {"--vocab-size"}},
      {"tokenizer arguments", "train: input missing", {}, "tokenizer train -i nope.txt -o out", {"nope.txt"}},
      {"tokenizer arguments", "train: --output holds a tokenizer", {{"a.txt", lines(5)}, {"t/vocab.txt", "[PAD]\n[UNK]\n"}}, "tokenizer train -i a.txt -o t --vocab-size 50", {"--output t", "vocab.txt", "--overwrite"}},
      {"tokenizer arguments", "train: --output holds other files", {{"a.txt", lines(5)}}, "tokenizer train --type sentencepiece -i a.txt -o existing", {"--output existing", "keep.txt", "--overwrite"}},
      {"tokenizer arguments", "stats: --subword bogus", {{"a.txt", lines(5)}}, "tokenizer stats -t {vocab} -i a.txt --subword bogus", {"--subword", "bogus"}},
      {"serve arguments", "--port 70000", {}, "serve {model} --port 70000", {"--port"}},
      {"serve arguments", "--max-batch-tokens 0", {}, "serve {model} --port 0 --max-batch-tokens 0", {"--max-batch-tokens"}},
      {"serve arguments", "model missing", {}, "serve nowhere/m --port 0", {"nowhere/m"}},
      {"attention arguments", "--format gif", {}, "attention {model} hi --format gif", {"--format", "gif"}},
      {"attention arguments", "--layer 99", {}, "attention {model} hi --layer 99 -o existing", {"--layer", "99"}},
      {"attention arguments", "--head 99", {}, "attention {model} hi --head 99 -o existing", {"--head", "99"}},
      {"quickstart arguments", "--steps 0", {}, "quickstart --out existing --steps 0", {"pretrain.steps"}},
      {"quickstart arguments", "--set unknown key", {}, "quickstart --out existing --set pretrain.nosuch=1", {"pretrain", "nosuch"}},
      {"download arguments", "invalid id", {}, "download 'bad id!!'", {"bad id!!"}},
      // --- environment variables (torchrun's, OpenMP's, bertkit's) ---
      {"environment", "WORLD_SIZE not a number", run_with(run_config()), "train c.json", {"WORLD_SIZE", "integer"}, "WORLD_SIZE=abc"},
      {"environment", "WORLD_SIZE 0", run_with(run_config()), "train c.json", {"WORLD_SIZE", ">= 1"}, "WORLD_SIZE=0"},
      {"environment", "RANK >= WORLD_SIZE", run_with(run_config()), "train c.json", {"RANK=5", "WORLD_SIZE=2"}, "WORLD_SIZE=2 RANK=5 MASTER_ADDR=127.0.0.1"},
      {"environment", "RANK negative", run_with(run_config()), "train c.json", {"RANK", ">= 0"}, "WORLD_SIZE=2 RANK=-1"},
      {"environment", "LOCAL_RANK not a number", run_with(run_config()), "train c.json", {"LOCAL_RANK", "integer"}, "WORLD_SIZE=2 RANK=0 LOCAL_RANK=x"},
      {"environment", "LOCAL_RANK >= LOCAL_WORLD_SIZE", run_with(run_config()), "train c.json", {"LOCAL_RANK=3", "LOCAL_WORLD_SIZE=2"}, "WORLD_SIZE=2 RANK=0 LOCAL_RANK=3 LOCAL_WORLD_SIZE=2"},
      {"environment", "MASTER_PORT 70000", run_with(run_config()), "train c.json", {"MASTER_PORT", "65535"}, "WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=70000"},
      {"environment", "MASTER_PORT not a number", run_with(run_config()), "train c.json", {"MASTER_PORT", "integer"}, "WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=http"},
      {"environment", "TORCHELASTIC_USE_AGENT_STORE not a bool", run_with(run_config()), "train c.json", {"TORCHELASTIC_USE_AGENT_STORE", "True or False"}, "TORCHELASTIC_USE_AGENT_STORE=maybe"},
      {"environment", "OMP_NUM_THREADS not a number", {}, "tokenize -t {vocab} hello", {"OMP_NUM_THREADS", "positive integer"}, "OMP_NUM_THREADS=abc"},
      {"environment", "OMP_NUM_THREADS 0", {}, "tokenize -t {vocab} hello", {"OMP_NUM_THREADS", "positive integer"}, "OMP_NUM_THREADS=0"},
  };
  return table;
}

// ---------------------------------------------------------------------------
// Running one case.
// ---------------------------------------------------------------------------
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

std::string expand(std::string s) {
  s = replace_all(s, "{vocab}", shared_path("data/bert-vocab/bert-base-uncased-vocab.txt"));
  s = replace_all(s, "{model}", shared_path("fixtures/pipelines/textcls"));
  return replace_all(s, "{s}", shared_dir());
}

// Every path under `dir` with its bytes ("<dir>" for folders): compared before and after.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = fs::relative(e.path(), dir).string();
    files[rel] = e.is_directory() ? "<dir>" : slurp(e.path().string());
  }
  return files;
}

void write_case_files(const std::string& dir, const Files& files) {
  fs::create_directories(dir + "/existing");
  std::ofstream(dir + "/existing/keep.txt") << "precious: written before the run\n";
  std::ofstream(dir + "/existing.jsonl") << "{\"precious\": true}\n";
  for (const auto& [rel, content] : files) {
    fs::path p = fs::path(dir) / rel;
    fs::remove_all(p);  // a later entry replaces an earlier one (run_with's train.tsv)
    fs::create_directories(p.parent_path());
    if (content.directory) {
      fs::create_directories(p);
      std::ofstream(p / "inside.txt") << "a folder where a file was expected\n";
    } else {
      std::ofstream(p, std::ios::binary) << content.make();
    }
  }
}

std::string sanitized_name(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class BadInputMatrix : public testing::TestWithParam<std::size_t> {};

TEST_P(BadInputMatrix, ExitsTwoNamingTheInputAndLeavesTheDiskAlone) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/textcls");
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  const Case& c = cases().at(GetParam());
  SCOPED_TRACE(c.kind + ": " + c.variant);
  const std::string root = make_temp_dir("bad-input");
  const std::string dir = root + "/work";
  write_case_files(dir, c.files);
  const auto before = snapshot(dir);
  // stderr to a file outside the case folder (the folder must not change); a
  // hang is a failure too (timeout's exit 124).
  const std::string cmd = "{ cd '" + dir + "' && env " + c.env + " timeout 300 '" + bertkit_binary() + "' " +
                          expand(c.args) + " </dev/null >'" + root + "/stdout' 2>'" + root + "/stderr'; }";
  std::string ignored;
  const int rc = run_command(cmd, &ignored);
  const std::string err = slurp(root + "/stderr");
  EXPECT_EQ(rc, 2) << "bertkit " << expand(c.args) << "\nstderr:\n" << err;
  for (const auto& want : c.expect) EXPECT_NE(err.find(want), std::string::npos) << "missing '" << want << "' in:\n" << err;
  EXPECT_EQ(err.find("terminate called"), std::string::npos) << err;
  EXPECT_EQ(err.find("Exception raised from"), std::string::npos) << "a torch stack trace, not a message:\n" << err;
  const auto after = snapshot(dir);
  for (const auto& [path, bytes] : before) {
    auto it = after.find(path);
    EXPECT_TRUE(it != after.end() && it->second == bytes) << path << " was removed or changed";
  }
  for (const auto& [path, bytes] : after) EXPECT_TRUE(before.count(path)) << path << " was left behind";
  // BERTKIT_BAD_INPUT_REPORT=FILE: one line per case (kind, variant, the message),
  // from which docs/errors.md's table is written.
  if (const char* report = std::getenv("BERTKIT_BAD_INPUT_REPORT"))
    std::ofstream(report, std::ios::app) << GetParam() << "\t" << c.kind << "\t" << c.variant << "\t" << rc << "\t"
                                         << json(err.substr(0, err.find('\n'))).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  if (!HasFailure()) fs::remove_all(root);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadInputMatrix, testing::Range<std::size_t>(0, cases().size()),
                         [](const testing::TestParamInfo<std::size_t>& info) {
                           const Case& c = cases().at(info.param);
                           return sanitized_name(std::to_string(info.param) + "_" + c.kind + "_" + c.variant);
                         });

}  // namespace
}  // namespace bertkit::test

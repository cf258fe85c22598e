// bertkit prepare: raw text -> tokenized pretraining shards (+ index.json).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/data/pretraining.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "bertkit/hub/resolve.h"
#include "command.h"

namespace bertkit::cli {
namespace {

struct PrepareArgs {
  std::vector<std::string> inputs;
  std::string output, tokenizer, format = "bert";
  int64_t max_seq_length = 128, dupe_factor = 1, eval_documents = 0, instances_per_shard = 200000, max_documents = 0;
  double short_seq_prob = 0.1, eval_fraction = 0.0;
  bool no_nsp = false, static_masking = false, quiet = false, overwrite = false;
  uint64_t seed = 12345;
  unsigned threads = 0;
};

// Shards of an earlier run that index.json no longer lists must not stay
// beside the new ones: refuse a non-empty folder, or with --overwrite replace
// a folder that an earlier prepare wrote (one holding index.json).
void check_output_folder(const PrepareArgs& a) {
  namespace fs = std::filesystem;
  if (!fs::exists(a.output) || (fs::is_directory(a.output) && fs::is_empty(a.output))) return;
  if (!fs::is_directory(a.output)) throw InputError("prepare: --output " + a.output + " is a file, not a folder");
  if (!a.overwrite)
    throw InputError("prepare: --output " + a.output +
                     " is not empty: choose an empty folder, or pass --overwrite to replace earlier shards");
  if (!fs::exists(fs::path(a.output) / "index.json"))
    throw InputError("prepare: --overwrite replaces only a folder of shards (with index.json); " + a.output +
                     " has none: choose another folder");
  fs::remove_all(a.output);
}

int run_prepare(const PrepareArgs& a) {
  check_output_folder(a);
  PrepareOptions o;
  o.inputs = a.inputs;
  o.output_dir = a.output;
  o.format = parse_corpus_format(a.format);
  o.max_seq_length = a.max_seq_length;
  o.short_seq_prob = a.short_seq_prob;
  o.nsp = !a.no_nsp;
  o.dupe_factor = a.dupe_factor;
  o.static_masking = a.static_masking;
  o.seed = a.seed;
  o.eval_fraction = a.eval_fraction;
  o.eval_documents = a.eval_documents;
  o.instances_per_shard = a.instances_per_shard;
  o.threads = a.threads;
  o.progress = !a.quiet;
  o.max_documents = a.max_documents;
  auto tokenizer = load_tokenizer(a.tokenizer);
  PrepareSummary s = prepare_pretraining_data(o, *tokenizer);
  std::fprintf(stderr,
               "prepare: %lld documents (%lld train, %lld eval), %lld sentences, %lld tokens -> %lld train + %lld eval "
               "instances in %.1f s\n",
               static_cast<long long>(s.documents), static_cast<long long>(s.train_documents),
               static_cast<long long>(s.eval_documents), static_cast<long long>(s.sentences),
               static_cast<long long>(s.tokens), static_cast<long long>(s.train_instances),
               static_cast<long long>(s.eval_instances), s.seconds);
  json::Json j = s.to_json();
  j["output"] = a.output;
  std::cout << j.dump() << "\n";
  return 0;
}

Action setup(CLI::App& sub) {
  auto a = std::make_shared<PrepareArgs>();
  add_verbatim_positionals(sub, "inputs", a->inputs, "Text files (plain or .gz) or folders of them")->required();
  sub.add_option("-o,--output", a->output, "Output folder for shards and index.json")->required();
  sub.add_option("-t,--tokenizer", a->tokenizer, "Tokenizer: model dir, vocab.txt, SentencePiece .model or Hub id")->required();
  sub.add_option("--format", a->format,
                 "bert: sentence per line, blank line between documents; doc_per_line: one document per line")
      ->capture_default_str()->check(CLI::IsMember({"bert", "doc_per_line"}));
  sub.add_option("--max-seq-length", a->max_seq_length, "Sequence length including [CLS]/[SEP]")->capture_default_str();
  sub.add_option("--short-seq-prob", a->short_seq_prob, "Probability of a shorter target length (NSP)")->capture_default_str();
  sub.add_flag("--no-nsp", a->no_nsp, "No sentence pairs: pack documents into full-length segments (RoBERTa style)");
  sub.add_option("--dupe-factor", a->dupe_factor, "Build the instances this many times")->capture_default_str();
  sub.add_flag("--static-masking", a->static_masking,
               "Fix each instance's mask (with --dupe-factor copies masked differently) instead of masking anew every step");
  sub.add_option("--seed", a->seed, "Seed for every random choice")->check(CLI::NonNegativeNumber)->capture_default_str();
  sub.add_option("--eval-fraction", a->eval_fraction, "Fraction of documents held out for evaluation")->capture_default_str();
  sub.add_option("--eval-documents", a->eval_documents, "Number of documents held out (instead of a fraction)");
  sub.add_option("--instances-per-shard", a->instances_per_shard, "Instances per shard file")->capture_default_str();
  sub.add_option("--threads", a->threads, "Tokenization threads (0: all cores)")->capture_default_str();
  sub.add_option("--max-documents", a->max_documents, "Read at most this many documents (0: all)");
  sub.add_flag("-q,--quiet", a->quiet, "No progress output");
  sub.add_flag("--overwrite", a->overwrite, "Replace the shards of an earlier prepare in --output");
  return [a] {
    a->tokenizer = bertkit::hub::resolve_model_dir(a->tokenizer, "--tokenizer");  // a Hub id -> its snapshot
    return run_prepare(*a);
  };
}

Registrar reg({"prepare", "Tokenize a text corpus into pretraining shards (MLM+NSP or packed)", setup});

}  // namespace
}  // namespace bertkit::cli

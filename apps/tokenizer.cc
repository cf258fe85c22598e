// bertkit tokenizer train|stats: learn a vocabulary, measure a tokenizer on a corpus.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/tokenizers/japanese.h"
#include "bertkit/tokenizers/sentencepiece.h"
#include "bertkit/tokenizers/trainer.h"
#include "bertkit/tokenizers/wordpiece.h"
#include "bertkit/hub/resolve.h"
#include "command.h"

namespace {

struct TrainArgs {
  std::string type = "wordpiece";
  std::vector<std::string> inputs;
  std::string output;
  std::size_t vocab_size = 30000;
  uint64_t min_frequency = 2;
  std::size_t limit_alphabet = 1000;
  std::vector<std::string> special_tokens;
  bool lowercase = false, no_lowercase = false;
  std::string strip_accents = "auto";
  std::string model_type = "unigram";
  double character_coverage = 0.9995;
  std::vector<std::string> user_defined_symbols;
  std::size_t input_sentence_size = 0;
  std::size_t model_max_length = 512;
  unsigned threads = 0;
  bool overwrite = false;
};

// The files `tokenizer train` writes into --output, by --type.
const std::vector<std::string> kWordPieceFiles = {"vocab.txt", "special_tokens_map.json", "tokenizer_config.json",
                                                  "tokenizer.json"};
const std::vector<std::string> kSentencePieceFiles = {"spiece.model", "spiece.vocab", "special_tokens_map.json",
                                                      "tokenizer_config.json"};
const std::vector<std::string>& files_written(const TrainArgs& a) {
  return a.type == "wordpiece" ? kWordPieceFiles : kSentencePieceFiles;
}

// Training must not silently overwrite what --output holds (as prepare and
// train refuse a non-empty output folder): a non-empty folder needs
// --overwrite, which replaces only the tokenizer files. Checked before
// anything is trained or written, so a refusal changes nothing on disk.
void check_output_folder(const TrainArgs& a) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(a.output, ec)) return;
  if (!fs::is_directory(a.output, ec))
    throw bertkit::InputError("tokenizer train: --output " + a.output + " is a file, not a folder");
  if (fs::is_empty(a.output, ec) || a.overwrite) return;
  for (const auto& name : files_written(a))
    if (fs::exists(fs::path(a.output) / name, ec))
      throw bertkit::InputError("tokenizer train: --output " + a.output + " already holds " + name +
                                ", which training would overwrite: choose an empty folder, or pass --overwrite "
                                "to replace the tokenizer files in it");
  throw bertkit::InputError("tokenizer train: --output " + a.output + " is not empty (it holds " +
                            fs::directory_iterator(a.output)->path().filename().string() +
                            "): choose an empty folder, or pass --overwrite to write the tokenizer files beside "
                            "what is there");
}

// After --overwrite: the other tokenizer type's files of an earlier run would
// be loaded in preference to the new ones (tokenizer.json before spiece.model),
// so they go. Files that are not a tokenizer's stay.
void remove_stale_tokenizer_files(const TrainArgs& a) {
  const auto& kept = files_written(a);
  for (const auto& list : {kWordPieceFiles, kSentencePieceFiles})
    for (const auto& name : list)
      if (std::find(kept.begin(), kept.end(), name) == kept.end()) std::filesystem::remove(a.output + "/" + name);
}

std::vector<std::string> split_commas(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) {
    std::size_t pos = 0;
    while (pos <= s.size()) {
      std::size_t c = s.find(',', pos);
      if (c == std::string::npos) c = s.size();
      if (c > pos) out.push_back(s.substr(pos, c - pos));
      pos = c + 1;
    }
  }
  return out;
}

int run_train(const TrainArgs& a) {
  if (a.inputs.empty()) throw bertkit::InputError("tokenizer train: give at least one --input FILE");
  if (a.output.empty()) throw bertkit::InputError("tokenizer train: --output DIR is required");
  for (const auto& f : a.inputs)  // before the output folder is made: a typo leaves nothing behind
    if (!bertkit::file_exists(f)) throw bertkit::InputError(f + ": no such training file");
  check_output_folder(a);
  bertkit::make_dirs(a.output);
  if (a.type == "wordpiece") {
    bertkit::WordPieceTrainOptions o;
    o.inputs = a.inputs;
    o.vocab_size = a.vocab_size;
    o.min_frequency = a.min_frequency;
    o.limit_alphabet = a.limit_alphabet;
    if (!a.special_tokens.empty()) o.special_tokens = split_commas(a.special_tokens);
    o.normalizer.lowercase = !a.no_lowercase;
    if (a.strip_accents == "true") o.normalizer.strip_accents = true;
    if (a.strip_accents == "false") o.normalizer.strip_accents = false;
    o.threads = a.threads;
    auto r = bertkit::train_wordpiece(o);
    bertkit::WordPieceConfig cfg;
    cfg.normalizer = o.normalizer;
    cfg.model_max_length = a.model_max_length;
    if (std::find(r.vocab.begin(), r.vocab.end(), cfg.unk_token) == r.vocab.end())
      throw bertkit::InputError("tokenizer train: the special tokens must include " + cfg.unk_token);
    bertkit::WordPieceTokenizer tok(r.vocab, cfg);
    tok.save(a.output);
    if (a.overwrite) remove_stale_tokenizer_files(a);
    std::printf("{\"type\":\"wordpiece\",\"vocab_size\":%zu,\"merges\":%zu,\"distinct_words\":%zu,\"words\":%llu,\"output\":\"%s\"}\n",
                r.vocab.size(), r.merges, r.words, static_cast<unsigned long long>(r.word_occurrences), a.output.c_str());
    return 0;
  }
  bertkit::SentencePieceTrainOptions o;
  o.inputs = a.inputs;
  o.model_prefix = a.output + "/spiece";
  o.vocab_size = static_cast<int>(a.vocab_size);
  o.model_type = a.model_type;
  o.character_coverage = a.character_coverage;
  o.user_defined_symbols = split_commas(a.user_defined_symbols);
  o.lowercase = a.lowercase;
  o.input_sentence_size = a.input_sentence_size;
  o.threads = static_cast<int>(a.threads);
  std::string model = bertkit::train_sentencepiece(o);
  bertkit::SentencePieceTokenizer tok(model);
  tok.set_model_max_length(a.model_max_length);
  tok.save(a.output);
  if (a.overwrite) remove_stale_tokenizer_files(a);
  std::printf("{\"type\":\"sentencepiece\",\"model_type\":\"%s\",\"vocab_size\":%zu,\"output\":\"%s\"}\n",
              a.model_type.c_str(), tok.vocab_size(), model.c_str());
  return 0;
}

struct StatsArgs {
  std::string tokenizer;
  std::string mecab_dic;
  std::string subword = "wordpiece";
  bool lowercase = false;
  std::vector<std::string> inputs;
  unsigned threads = 0;
};

int run_stats(const StatsArgs& a) {
  std::unique_ptr<bertkit::Tokenizer> tok;
  if (!a.mecab_dic.empty()) {
    bertkit::JapaneseConfig cfg;
    cfg.mecab_dic = a.mecab_dic;
    cfg.subword = a.subword;
    cfg.lowercase = a.lowercase;
    std::string vocab = bertkit::dir_exists(a.tokenizer) ? a.tokenizer + "/vocab.txt" : a.tokenizer;
    std::string text = bertkit::read_file(vocab);
    std::vector<std::string> v;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      v.push_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
    tok = std::make_unique<bertkit::JapaneseTokenizer>(std::move(v), cfg);
  } else {
    tok = bertkit::load_tokenizer(a.tokenizer);
  }
  std::vector<std::string> lines;
  for (const auto& f : a.inputs) {
    std::string text = bertkit::read_file(f);
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      std::string line = text.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files
      if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(std::move(line));
      pos = nl + 1;
    }
  }
  if (lines.empty()) throw bertkit::InputError("tokenizer stats: the inputs hold no text");
  bertkit::EncodeOptions opt;
  opt.add_special_tokens = false;
  auto encs = tok->encode_batch(lines, nullptr, opt, a.threads);
  std::size_t tokens = 0, unk = 0, words = 0, chars = 0;
  const int32_t unk_id = tok->special_tokens().unk;
  for (std::size_t i = 0; i < encs.size(); ++i) {
    tokens += encs[i].size();
    int32_t last = -1;
    for (std::size_t k = 0; k < encs[i].size(); ++k) {
      if (encs[i].ids[k] == unk_id) {
        ++unk;
        chars += encs[i].offsets[k].second - encs[i].offsets[k].first;
      }
      if (encs[i].word_ids[k] != last) ++words;
      last = encs[i].word_ids[k];
    }
  }
  nlohmann::ordered_json out;
  out["tokenizer"] = a.tokenizer;
  if (!a.mecab_dic.empty()) {
    out["mecab_dictionary"] = bertkit::mecab_dictionary_dir(a.mecab_dic);
    out["subword"] = a.subword;
  }
  out["lines"] = lines.size();
  out["words"] = words;
  out["tokens"] = tokens;
  out["unk_tokens"] = unk;
  out["unk_rate"] = tokens ? static_cast<double>(unk) / tokens : 0.0;
  out["unk_characters"] = chars;
  out["tokens_per_word"] = words ? static_cast<double>(tokens) / words : 0.0;
  std::cout << out.dump() << "\n";
  return 0;
}

bertkit::cli::Action setup(CLI::App& sub) {
  sub.require_subcommand(1);
  auto t = std::make_shared<TrainArgs>();
  CLI::App* train = sub.add_subcommand("train", "Train a WordPiece vocabulary (HF BertWordPieceTokenizer.train) or a "
                                                "SentencePiece model into a model directory");
  train->add_option("--type", t->type, "wordpiece or sentencepiece")
      ->check(CLI::IsMember({"wordpiece", "sentencepiece"}))
      ->capture_default_str();
  train->add_option("--input,-i", t->inputs, "Training text files (one text a line)")->required();
  train->add_option("--output,-o", t->output, "Output directory (vocab.txt + tokenizer.json..., or spiece.model)")->required();
  train->add_option("--vocab-size", t->vocab_size, "Vocabulary size (default 30000)")->check(CLI::PositiveNumber);
  train->add_option("--min-frequency", t->min_frequency, "WordPiece: least count of a pair to merge (default 2)")
      ->check(CLI::NonNegativeNumber);
  train->add_option("--limit-alphabet", t->limit_alphabet, "WordPiece: at most this many initial characters (default 1000)")
      ->check(CLI::NonNegativeNumber);
  bertkit::cli::verbatim_values(train->add_option("--special-tokens", t->special_tokens,
                    "WordPiece: special tokens first in the vocabulary, comma-separated or repeated "
                    "(default [PAD],[UNK],[CLS],[SEP],[MASK])"));
  auto* lo = train->add_flag("--lowercase", t->lowercase, "Lowercase (WordPiece default; SentencePiece: nmt_nfkc_cf)");
  auto* nlo = train->add_flag("--no-lowercase", t->no_lowercase, "WordPiece: do not lowercase (cased vocabulary)");
  lo->excludes(nlo);
  train->add_option("--strip-accents", t->strip_accents, "WordPiece: true, false or auto (= as lowercase)")
      ->check(CLI::IsMember({"true", "false", "auto"}));
  train->add_option("--model-type", t->model_type, "SentencePiece: unigram, bpe, char or word")
      ->check(CLI::IsMember({"unigram", "bpe", "char", "word"}));
  train->add_option("--character-coverage", t->character_coverage, "SentencePiece: character coverage (default 0.9995)");
  train->add_option("--user-defined-symbols", t->user_defined_symbols, "SentencePiece: symbols never split (comma-separated)");
  train->add_option("--input-sentence-size", t->input_sentence_size, "SentencePiece: sample this many sentences (0: all)")
      ->check(CLI::NonNegativeNumber);
  train->add_option("--model-max-length", t->model_max_length, "model_max_length written to tokenizer_config.json")
      ->check(CLI::PositiveNumber);
  train->add_option("--threads", t->threads, "Threads (0: all cores)");
  train->add_flag("--overwrite", t->overwrite,
                  "Write into a non-empty --output: replace the tokenizer files there (vocab.txt, tokenizer.json, "
                  "tokenizer_config.json, special_tokens_map.json, spiece.model, spiece.vocab), keep the others");

  auto s = std::make_shared<StatsArgs>();
  CLI::App* stats = sub.add_subcommand("stats", "Tokens, words and unknown-token rate of a tokenizer on text files");
  stats->add_option("--tokenizer,-t", s->tokenizer, "Tokenizer (directory, vocab.txt, .model or Hub id)")->required();
  stats->add_option("--mecab-dic", s->mecab_dic,
                    "Japanese: split words with MeCab first (ipadic, unidic, unidic_lite, naist-jdic, jumandic or a directory)");
  stats->add_option("--subword", s->subword, "Japanese: wordpiece or character subwords")
      ->check(CLI::IsMember({"wordpiece", "character"}));
  stats->add_flag("--lowercase", s->lowercase, "Japanese: lowercase words");
  stats->add_option("--input,-i", s->inputs, "Text files")->required();
  stats->add_option("--threads", s->threads, "Threads (0: all cores)");

  return [train, stats, t, s]() -> int {
    if (train->parsed()) return run_train(*t);
    if (stats->parsed()) {
      s->tokenizer = bertkit::hub::resolve_model_dir(s->tokenizer, "--tokenizer");  // a Hub id -> its snapshot
      return run_stats(*s);
    }
    return 2;
  };
}

bertkit::cli::Registrar reg({"tokenizer", "Train a tokenizer vocabulary or measure one on a corpus", setup});

}  // namespace

// bertkit quickstart: the whole path, offline, on an embedded default.
//  1. corpus: the license texts every Debian system ships (base-files,
//     /usr/share/common-licenses), paragraphs as lines;
//  2. a WordPiece vocabulary trained on it (words seen twice + characters);
//  3. pretraining (MLM) of a small BERT from scratch;
//  4. fine-tuning on "which license is this passage from?" (deterministic
//     train/dev split), evaluation against the majority-class baseline;
//  5. the exported model directory and what to run next.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/core/utf8.h"
#include "bertkit/data/pretraining.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "bertkit/training/run_config.h"
#include "bertkit/training/trainer.h"
#include "command.h"

namespace bertkit::cli {
namespace {

namespace fs = std::filesystem;

// The embedded default; configs/quickstart.json holds the same values.
const char* kDefaultConfig = R"({
  "corpus_dir": "/usr/share/common-licenses",
  "classes": ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "Artistic", "CC0-1.0"],
  "chunk_words": 24,
  "min_chunk_words": 8,
  "dev_every": 4,
  "vocab_min_count": 2,
  "model": {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 256,
            "max_position_embeddings": 128, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1},
  "pretrain": {"max_seq_length": 64, "steps": 300, "batch_size": 32, "learning_rate": 0.001, "warmup_ratio": 0.1},
  "finetune": {"max_seq_length": 64, "epochs": 20, "batch_size": 16, "learning_rate": 0.001, "warmup_ratio": 0.1},
  "seed": 42,
  "threads": 2
})";

struct QuickArgs {
  std::string out = "quickstart-run", config;
  std::vector<std::string> sets;
  int64_t steps = -1, epochs = -1;
  std::string device = "cpu";
};

struct Paragraph {
  std::string text, source;
};

// Paragraphs (blank-line separated, whitespace collapsed) of a text file.
std::vector<std::string> paragraphs(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  std::string line, cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
  };
  while (std::getline(is, line)) {
    if (line.find_first_not_of(" \t\r\f") == std::string::npos) {
      flush();
      continue;
    }
    std::istringstream ws(line);
    std::string w;
    while (ws >> w) cur += (cur.empty() ? "" : " ") + w;
  }
  flush();
  return out;
}

std::size_t count_words(const std::string& s) {
  std::istringstream is(s);
  std::string w;
  std::size_t n = 0;
  while (is >> w) ++n;
  return n;
}

// Consecutive pieces of at most n words of each paragraph.
std::vector<std::string> chunks(const std::vector<std::string>& paras, int64_t n) {
  std::vector<std::string> out;
  for (auto& p : paras) {
    std::istringstream is(p);
    std::string w, cur;
    int64_t k = 0;
    while (is >> w) {
      cur += (cur.empty() ? "" : " ") + w;
      if (++k == n) out.push_back(cur), cur.clear(), k = 0;
    }
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

// Words as BERT's basic tokenizer splits them (lowercased ASCII, punctuation alone).
std::vector<std::string> basic_words(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
  };
  for (unsigned char c : text) {
    if (std::isspace(c)) {
      flush();
    } else if (c < 128 && std::ispunct(c)) {
      flush();
      out.push_back(std::string(1, static_cast<char>(c)));
    } else {
      cur.push_back(static_cast<char>(c < 128 ? std::tolower(c) : c));
    }
  }
  flush();
  return out;
}

// A WordPiece vocabulary: specials, every character (alone and as ##piece),
// and every word seen at least min_count times.
std::vector<std::string> build_vocab(const std::vector<std::string>& texts, int64_t min_count) {
  std::map<std::string, int64_t> words;
  std::set<std::string> chars;
  for (auto& t : texts)
    for (auto& w : basic_words(t)) {
      ++words[w];
      for (std::size_t i = 0; i < w.size();) {
        const std::size_t start = i;
        utf8::next(w, i);
        chars.insert(w.substr(start, i - start));
      }
    }
  std::vector<std::string> vocab{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (auto& c : chars) vocab.push_back(c);
  for (auto& c : chars) vocab.push_back("##" + c);
  std::vector<std::pair<int64_t, std::string>> freq;
  for (auto& [w, n] : words)
    if (n >= min_count && w.size() > 1) freq.emplace_back(-n, w);
  std::sort(freq.begin(), freq.end());
  for (auto& [n, w] : freq) vocab.push_back(w);
  return vocab;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::string s;
  for (auto& l : lines) s += l + "\n";
  write_file_atomic(path, s);
}

int run_quickstart(const QuickArgs& a) {
  using json::Json;
  Json cfg = a.config.empty() ? json::parse(kDefaultConfig, "<embedded quickstart config>") : json::load_file(a.config);
  json::apply_overrides(cfg, a.sets);
  json::ObjectReader r(cfg, "");
  const std::string corpus_dir = r.get("corpus_dir", std::string("/usr/share/common-licenses"));
  const auto classes = r.required<std::vector<std::string>>("classes");
  const int64_t chunk_words = r.get<int64_t>("chunk_words", 24);
  const int64_t min_words = r.get<int64_t>("min_chunk_words", 8);
  BERTKIT_CHECK_INPUT(chunk_words >= 1 && min_words >= 1, "chunk_words and min_chunk_words must be positive");
  const int64_t dev_every = r.get<int64_t>("dev_every", 4);
  const int64_t vocab_min = r.get<int64_t>("vocab_min_count", 2);
  const Json model_cfg = r.required<Json>("model");
  json::ObjectReader pre = r.object("pretrain");
  const int64_t pre_len = pre.get<int64_t>("max_seq_length", 64);
  int64_t pre_steps = pre.get<int64_t>("steps", 300);
  const int64_t pre_bs = pre.get<int64_t>("batch_size", 32);
  const double pre_lr = pre.get("learning_rate", 1e-3);
  const double pre_warm = pre.get("warmup_ratio", 0.1);
  pre.finish();
  json::ObjectReader ft = r.object("finetune");
  const int64_t ft_len = ft.get<int64_t>("max_seq_length", 128);
  int64_t ft_epochs = ft.get<int64_t>("epochs", 10);
  const int64_t ft_bs = ft.get<int64_t>("batch_size", 16);
  const double ft_lr = ft.get("learning_rate", 5e-4);
  const double ft_warm = ft.get("warmup_ratio", 0.1);
  ft.finish();
  const uint64_t seed = r.get<uint64_t>("seed", 42);
  const int threads = static_cast<int>(r.get<int64_t>("threads", 2));
  r.finish();
  if (a.steps != -1) pre_steps = a.steps;
  if (a.epochs != -1) ft_epochs = a.epochs;
  BERTKIT_CHECK_INPUT(pre_steps > 0, "quickstart: pretrain.steps (--steps) = " + std::to_string(pre_steps) +
                                         ": expected a positive number of steps");
  BERTKIT_CHECK_INPUT(ft_epochs > 0, "quickstart: finetune.epochs (--epochs) = " + std::to_string(ft_epochs) +
                                         ": expected a positive number of epochs");
  BERTKIT_CHECK_INPUT(dir_exists(corpus_dir), corpus_dir +
                                                  ": not found. The quickstart reads the license texts of Debian's "
                                                  "base-files package; set corpus_dir (--set corpus_dir=DIR) to a folder of text files");
  const std::string out = fs::absolute(a.out).string();
  if (dir_exists(out) && !fs::is_empty(out))
    std::cerr << "note: " << out << " exists; its quickstart outputs are replaced\n";
  make_dirs(out);
  for (const char* sub : {"pretrain", "finetune", "shards"})
    if (dir_exists(out + "/" + sub)) fs::remove_all(out + "/" + sub);

  // 1. corpus + labelled paragraphs
  std::cout << "[1/5] corpus: license texts from " << corpus_dir << "\n";
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(corpus_dir))
    if (e.is_regular_file() && !e.is_symlink()) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  std::vector<std::string> corpus_lines, all_paragraphs;
  std::vector<Json> train_rows, dev_rows;
  std::map<std::string, int64_t> dev_count;
  for (auto& f : files) {
    auto paras = paragraphs(read_file(corpus_dir + "/" + f));
    for (auto& p : paras) corpus_lines.push_back(p), all_paragraphs.push_back(p);
    corpus_lines.push_back("");  // document boundary
    if (std::find(classes.begin(), classes.end(), f) == classes.end()) continue;
    int64_t k = 0;
    for (auto& chunk : chunks(paras, chunk_words)) {
      if (static_cast<int64_t>(count_words(chunk)) < min_words) continue;
      Json row{{"text", chunk}, {"label", f}};
      if (k++ % dev_every == dev_every - 1) {
        dev_rows.push_back(row);
        ++dev_count[f];
      } else {
        train_rows.push_back(row);
      }
    }
  }
  for (auto& c : classes)
    BERTKIT_CHECK_INPUT(file_exists(corpus_dir + "/" + c), corpus_dir + "/" + c + ": a class of the quickstart is missing");
  make_dirs(out + "/data");
  write_lines(out + "/data/corpus.txt", corpus_lines);
  std::string tr, dv;
  for (auto& j : train_rows) tr += j.dump() + "\n";
  for (auto& j : dev_rows) dv += j.dump() + "\n";
  write_file_atomic(out + "/data/train.jsonl", tr);
  write_file_atomic(out + "/data/dev.jsonl", dv);
  int64_t majority = 0;
  for (auto& [c, n] : dev_count) majority = std::max(majority, n);
  std::cout << "      " << files.size() << " files, " << all_paragraphs.size() << " paragraphs; classification: "
            << train_rows.size() << " train / " << dev_rows.size() << " dev passages (<= " << chunk_words << " words) over " << classes.size()
            << " licenses\n";

  // 2. vocabulary
  auto vocab = build_vocab(all_paragraphs, vocab_min);
  make_dirs(out + "/tokenizer");
  write_lines(out + "/tokenizer/vocab.txt", vocab);
  write_file_atomic(out + "/tokenizer/tokenizer_config.json",
                    Json{{"do_lower_case", true}, {"tokenizer_class", "BertTokenizer"}, {"model_max_length", 128}}.dump(2) + "\n");
  auto tok = load_tokenizer(out + "/tokenizer");
  std::cout << "[2/5] WordPiece vocabulary: " << vocab.size() << " tokens -> " << out << "/tokenizer\n";

  // 3. pretraining
  PrepareOptions po;
  po.inputs = {out + "/data/corpus.txt"};
  po.output_dir = out + "/shards";
  po.max_seq_length = pre_len;
  po.nsp = false;
  po.seed = seed;
  po.dupe_factor = 1;
  po.progress = false;
  po.threads = static_cast<unsigned>(std::max(1, threads));
  PrepareSummary ps = prepare_pretraining_data(po, *tok);
  Json mc = model_cfg;
  mc["vocab_size"] = static_cast<int64_t>(vocab.size());
  Json pre_run{{"model", {{"config", mc}}},
               {"tokenizer", {{"path", out + "/tokenizer"}}},
               {"task", {{"type", "mlm"}}},
               {"data", {{"shards", out + "/shards"}}},
               {"train",
                {{"device", a.device}, {"seed", seed}, {"learning_rate", pre_lr}, {"warmup_ratio", pre_warm},
                 {"max_steps", pre_steps}, {"batch_size", pre_bs}, {"num_threads", threads}, {"weight_decay", 0.01}}},
               {"eval", {{"per_epoch", false}, {"at_end", false}}},
               {"logging", {{"every_steps", 50}, {"progress", true}, {"tensorboard", false}}},
               {"checkpoint", {{"keep_last", 1}, {"at_end", false}}},
               {"output", {{"dir", out + "/pretrain"}, {"overwrite", true}}}};
  std::cout << "[3/5] pretraining (MLM) from scratch: " << ps.train_instances << " sequences of " << pre_len << " tokens, "
            << pre_steps << " steps\n";
  TrainResult pr = Trainer(RunConfig::from_json(pre_run)).train();
  double first_loss = pr.step_loss.empty() ? 0 : pr.step_loss.begin()->second;
  double last_loss = pr.step_loss.empty() ? 0 : pr.step_loss.rbegin()->second;
  std::cout << "      MLM loss " << first_loss << " -> " << last_loss << " (" << pr.seconds << " s)\n";

  // 4. fine-tuning
  Json ft_run{{"model", {{"pretrained", pr.model_dir}}},
              {"task", {{"type", "classification"}, {"max_seq_length", ft_len}, {"labels", classes}, {"f1_average", "macro"}}},
              {"data",
               {{"train", out + "/data/train.jsonl"}, {"eval", out + "/data/dev.jsonl"}, {"format", "jsonl"},
                {"text_column", "text"}, {"label_column", "label"}}},
              {"train",
               {{"device", a.device}, {"seed", seed}, {"learning_rate", ft_lr}, {"warmup_ratio", ft_warm},
                {"epochs", ft_epochs}, {"batch_size", ft_bs}, {"num_threads", threads}, {"weight_decay", 0.01}}},
              {"eval", {{"per_epoch", true}, {"load_best_at_end", true}, {"predictions", true}, {"metric", "accuracy"}}},
              {"logging", {{"every_steps", 50}, {"progress", true}, {"tensorboard", false}}},
              {"checkpoint", {{"keep_last", 1}}},
              {"output", {{"dir", out + "/finetune"}, {"overwrite", true}}}};
  std::cout << "[4/5] fine-tuning: which license is a passage from? " << ft_epochs << " epochs\n";
  TrainResult fr = Trainer(RunConfig::from_json(ft_run)).train();

  // 5. report
  const double acc = fr.last_eval.count("accuracy") ? fr.last_eval.at("accuracy") : 0.0;
  const double maj = dev_rows.empty() ? 0.0 : double(majority) / dev_rows.size();
  Json report{{"dev_accuracy", acc}, {"majority_baseline", maj},
              {"dev_macro_f1", fr.last_eval.count("f1") ? fr.last_eval.at("f1") : 0.0},
              {"pretrain_mlm_loss_first", first_loss}, {"pretrain_mlm_loss_last", last_loss},
              {"train_passages", train_rows.size()}, {"dev_passages", dev_rows.size()},
              {"model_dir", fr.model_dir}, {"pretrained_dir", pr.model_dir}};
  write_file_atomic(out + "/quickstart_report.json", report.dump(2) + "\n");
  std::cout << "[5/5] dev accuracy " << acc << " (majority class " << maj << "), macro F1 " << report["dev_macro_f1"].get<double>()
            << "\n\nExported model: " << fr.model_dir << "\nReport:         " << out << "/quickstart_report.json\n\n"
            << "Next:\n"
            << "  bertkit predict " << fr.model_dir << " \"Licensed under the Apache License, Version 2.0\"\n"
            << "  bertkit evaluate " << fr.model_dir << " --task classification --data " << out << "/data/dev.jsonl"
            << " --set data.text_column=text --set data.label_column=label\n"
            << "  bertkit attention " << fr.model_dir << " \"This program is free software\" --layer -1 --out attention\n"
            << "  bertkit predict " << pr.model_dir << " \"you may [MASK] it under the terms of the license\"\n"
            << "  bertkit train configs/sst2.json --set model.pretrained=DIR   (real datasets: see docs/tasks.md)\n";
  return 0;
}

Action setup(CLI::App& sub) {
  auto a = std::make_shared<QuickArgs>();
  sub.add_option("--out", a->out, "Output folder")->capture_default_str();
  sub.add_option("--config", a->config, "Quickstart config (default: embedded, same as configs/quickstart.json)");
  verbatim_values(sub.add_option("--set", a->sets, "Override a quickstart config key, e.g. --set pretrain.steps=100 (repeatable)"));
  sub.add_option("--steps", a->steps, "Pretraining steps (overrides pretrain.steps)");
  sub.add_option("--epochs", a->epochs, "Fine-tuning epochs (overrides finetune.epochs)");
  sub.add_option("--device", a->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  return [a] { return run_quickstart(*a); };
}

Registrar reg({"quickstart", "Offline demo: pretrain a small BERT on Debian's license texts, fine-tune, evaluate, export",
               setup});

}  // namespace
}  // namespace bertkit::cli

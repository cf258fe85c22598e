// bertkit train / prepare as a new user meets them (issue 14): --resume with the
// saved config, errors naming the key to change, best/ usable by predict,
// metric names, warnings, --print-config, careful prepare, progress in logs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace bertkit::test {
namespace {

using nlohmann::json;

const char* kVocab = "data/bert-vocab/bert-base-uncased-vocab.txt";

json tiny_model() {
  return {{"hidden_size", 32}, {"num_hidden_layers", 2}, {"num_attention_heads", 2}, {"intermediate_size", 64},
          {"max_position_embeddings", 64}};
}

json quiet_cpu_run(int steps) {
  return {{"train", {{"device", "cpu"}, {"learning_rate", 1e-3}, {"max_steps", steps}, {"batch_size", 8}, {"num_threads", 1}}},
          {"logging", {{"every_steps", 1}, {"progress", false}, {"tensorboard", false}}},
          {"checkpoint", {{"keep_last", 1}}}};
}

std::string write_config(const std::string& path, const json& j) {
  std::ofstream(path) << j.dump(2);
  return path;
}

// `bertkit prepare` of 150 documents of Alice (no eval split) into dir/shards.
std::string prepare_shards(const std::string& dir) {
  std::string out = dir + "/shards";
  cli_stdout({"prepare", shared_path("data/corpus/gutenberg/pg11.txt"), "-o", out, "-t", shared_path(kVocab),
              "--max-seq-length", "32", "--max-documents", "150", "-q"});
  return out;
}

TEST(TrainCommand, ResumeUsesTheSavedRunConfig) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  std::string dir = make_temp_dir("resume");
  std::string shards = prepare_shards(dir);
  json c = quiet_cpu_run(4);
  c["model"] = {{"config", tiny_model()}};
  c["tokenizer"] = {{"path", shared_path(kVocab)}};
  c["task"] = {{"type", "pretraining"}};
  c["data"] = {{"shards", dir + "/made-by-no-command"}};  // as configs/pretrain-tiny.json's runs/shards-tiny
  c["eval"] = {{"every_steps", 2}, {"at_end", false}};
  std::string cfg = write_config(dir + "/c.json", c);
  int rc = 0;
  std::string err = cli_stderr({"train", cfg, "--set", "data.shards=" + shards, "-o", dir + "/run", "--stop-after", "2"}, &rc);
  ASSERT_EQ(rc, 0) << err;
  // No eval split in the shards: eval.every_steps cannot act, and says so.
  EXPECT_NE(err.find("eval.every_steps"), std::string::npos) << err;
  // As docs/training.md: --resume without repeating --set data.shards.
  json r = json::parse(cli_stdout({"train", cfg, "-o", dir + "/run", "--resume"}));
  EXPECT_EQ(r["global_step"], 4);
}

TEST(TrainCommand, BestModelHasTokenizerAndLossIsEvalLoss) {
  BERTKIT_NEED_SHARED(kVocab);
  std::string dir = make_temp_dir("best");
  {
    std::ofstream tsv(dir + "/data.tsv");
    tsv << "sentence\tlabel\n";
    for (int i = 0; i < 16; ++i) tsv << (i % 2 ? "a good film" : "a bad film") << "\t" << i % 2 << "\n";
  }
  json c = quiet_cpu_run(4);
  c["model"] = {{"config", tiny_model()}};
  c["tokenizer"] = {{"path", shared_path(kVocab)}};
  c["task"] = {{"type", "classification"}, {"max_seq_length", 16}};
  c["data"] = {{"train", dir + "/data.tsv"}, {"eval", dir + "/data.tsv"}};
  c["eval"] = {{"every_steps", 2}, {"per_epoch", false}, {"load_best_at_end", true}};
  c["output"] = {{"dir", dir + "/run"}};
  cli_stdout({"train", write_config(dir + "/c.json", c)});
  // predict on OUTPUT/best needs the tokenizer files there.
  json p = json::parse(cli_stdout({"predict", dir + "/run/best", "a good film"}));
  EXPECT_EQ(p.size(), 2u) << p;
  // The evaluation loss is eval_loss (HF's name), never eval_eval_loss.
  std::ifstream metrics(dir + "/run/metrics.jsonl");
  std::string all((std::istreambuf_iterator<char>(metrics)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("\"eval_loss\""), std::string::npos) << all;
  EXPECT_EQ(all.find("eval_eval_loss"), std::string::npos) << all;
  for (const auto& e : fs::directory_iterator(dir + "/run")) {
    if (e.path().extension() != ".json") continue;
    std::ifstream f(e.path());
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find("eval_eval_loss"), std::string::npos) << e.path();
  }
}

TEST(TrainCommand, ShippedConfigsNameTheKeyToChange) {
  std::string dir = make_temp_dir("configs");
  // No network in tests: bert-base-uncased is looked up in an empty cache, offline.
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  ::setenv("HF_HUB_CACHE", (dir + "/hf-cache").c_str(), 1);
  int rc = 0;
  std::string err = cli_stderr({"train", source_dir() + "/configs/sst2.json", "-o", dir + "/run"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("model.pretrained"), std::string::npos) << err;
  EXPECT_NE(err.find("docs/tasks.md"), std::string::npos) << err;
  err = cli_stderr({"train", source_dir() + "/configs/quickstart.json", "-o", dir + "/q"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("bertkit quickstart --config"), std::string::npos) << err;
  ::unsetenv("HF_HUB_OFFLINE");
  ::unsetenv("HF_HUB_CACHE");
}

// --print-config is what the run uses: the same JSON, key for key, as the
// run_config.json a real run of that config writes, with the labels read from
// the data, the metric and the tokenizer filled in.
TEST(TrainCommand, PrintConfigIsTheRunConfigTheRunWrites) {
  BERTKIT_NEED_SHARED(kVocab);
  std::string dir = make_temp_dir("printconfig");
  {
    std::ofstream tsv(dir + "/data.tsv");
    tsv << "sentence\tlabel\n";
    for (int i = 0; i < 16; ++i) tsv << (i % 2 ? "a good film" : "a bad film") << "\t" << (i % 2 ? "pos" : "neg") << "\n";
  }
  json c = quiet_cpu_run(2);
  c["model"] = {{"config", tiny_model()}};
  c["tokenizer"] = {{"path", shared_path(kVocab)}};
  c["task"] = {{"type", "classification"}, {"max_seq_length", 16}};
  c["data"] = {{"train", dir + "/data.tsv"}, {"eval", dir + "/data.tsv"}};
  c["output"] = {{"dir", dir + "/run"}};
  const std::string cfg = write_config(dir + "/c.json", c);
  json printed = json::parse(cli_stdout({"train", cfg, "--print-config"}));
  EXPECT_FALSE(fs::exists(dir + "/run"));  // printing makes nothing
  // Hand-derived: the labels as they first appear in the file, the task's metric.
  EXPECT_EQ(printed["task"]["labels"], json({"neg", "pos"}));
  EXPECT_EQ(printed["eval"]["metric"], "accuracy");
  EXPECT_EQ(printed["tokenizer"]["path"], shared_path(kVocab));
  cli_stdout({"train", cfg});
  std::ifstream saved(dir + "/run/run_config.json");
  ASSERT_TRUE(saved.good());
  json written = json::parse(saved);
  EXPECT_EQ(printed, written) << json::diff(printed, written).dump(1);
}

TEST(TrainCommand, PrintConfigValidates) {
  BERTKIT_NEED_SHARED(kVocab);
  std::string dir = make_temp_dir("printconfig-bad");
  std::ofstream(dir + "/data.tsv") << "sentence\tlabel\na good film\t1\n";
  json c = quiet_cpu_run(2);
  c["model"] = {{"config", tiny_model()}};
  c["tokenizer"] = {{"path", shared_path(kVocab)}};
  c["task"] = {{"type", "classification"}};
  c["data"] = {{"train", dir + "/data.tsv"}};
  c["output"] = {{"dir", dir + "/run"}};
  const std::string cfg = write_config(dir + "/c.json", c);
  int rc = 0;
  std::string err = cli_stderr({"train", cfg, "--set", "task.type=foo", "--print-config"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("task.type"), std::string::npos) << err;
  EXPECT_NE(err.find("classification"), std::string::npos) << err;  // the known tasks are listed
  err = cli_stderr({"train", cfg, "--set", "train.device=tpu", "--print-config"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("tpu"), std::string::npos) << err;
  err = cli_stderr({"train", cfg, "--set", "data.train=" + dir + "/missing.tsv", "--print-config"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("missing.tsv"), std::string::npos) << err;
}

TEST(PrepareCommand, RefusesToMixWithEarlierShards) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  std::string dir = make_temp_dir("prepare");
  const std::vector<std::string> base = {"prepare", shared_path("data/corpus/gutenberg/pg11.txt"), "-o", dir + "/s",
                                         "-t", shared_path(kVocab), "--max-seq-length", "32", "--max-documents", "100"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  int rc = 0;
  std::string err = cli_stderr(with({"--instances-per-shard", "50"}), &rc);
  ASSERT_EQ(rc, 0) << err;
  // Progress into a file: plain lines, no carriage returns.
  EXPECT_NE(err.find("prepare: tokenized 100/100 documents"), std::string::npos) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos);
  const auto first = std::distance(fs::directory_iterator(dir + "/s"), fs::directory_iterator());
  ASSERT_GT(first, 2);
  err = cli_stderr(with({"-q"}), &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("not empty"), std::string::npos) << err;
  err = cli_stderr(with({"-q", "--overwrite"}), &rc);
  ASSERT_EQ(rc, 0) << err;
  // One shard of up to 200000 instances now, and nothing else but index.json.
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir + "/s")) files.push_back(e.path().filename().string());
  EXPECT_EQ(files.size(), 2u);
  // --overwrite never removes a folder prepare did not write.
  fs::create_directories(dir + "/mine");
  std::ofstream(dir + "/mine/notes.txt") << "keep";
  auto args = with({"-q", "--overwrite"});
  args[3] = dir + "/mine";
  cli_stderr(args, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(path_exists(dir + "/mine/notes.txt"));
}

}  // namespace
}  // namespace bertkit::test

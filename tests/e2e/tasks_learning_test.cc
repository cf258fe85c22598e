// Learning runs on CPU through the CLI (`bertkit train`, `evaluate`,
// `predict`): small models from scratch on SST-2 and CoNLL-2003 learn well
// above the trivial baselines within a few minutes on one core, and predict
// returns entities / answers whose offsets slice the input text exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace bertkit;
using test::cp_slice;
using test::run_json;
using nlohmann::json;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string squash(const std::string& s) {  // lowercase, no spaces, no ## (WordPiece word vs text)
  std::string o;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "##") == 0) {
      ++i;
      continue;
    }
    if (s[i] == ' ') continue;
    o.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[i]))));
  }
  return o;
}

json small_model() {
  return {{"hidden_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 2}, {"intermediate_size", 256},
          {"max_position_embeddings", 128}};
}

json base_config(const std::string& out, int64_t steps) {
  return {{"train",
           {{"device", "cpu"}, {"seed", 42}, {"learning_rate", 1e-3}, {"weight_decay", 0.01}, {"warmup_ratio", 0.1},
            {"max_steps", steps}, {"batch_size", 32}, {"num_threads", 1}}},
          {"eval", {{"per_epoch", false}, {"at_end", true}, {"batch_size", 128}}},
          {"logging", {{"every_steps", 100}, {"progress", false}, {"tensorboard", false}}},
          {"checkpoint", {{"keep_last", 1}, {"at_end", false}}},
          {"output", {{"dir", out}, {"overwrite", true}}}};
}

}  // namespace

TEST(TasksLearning, Sst2FromScratchBeatsMajority) {
  BERTKIT_NEED_SHARED("data/glue/SST-2/train.tsv");
  const std::string dir = test::make_temp_dir("bertkit-sst2");
  json c = base_config(dir + "/run", 300);
  c["model"] = {{"config", small_model()}};
  c["tokenizer"] = {{"path", test::shared_path("data/bert-vocab/bert-base-uncased-vocab.txt")}};
  c["task"] = {{"type", "classification"}, {"max_seq_length", 64}};
  c["data"] = {{"train", test::shared_path("data/glue/SST-2/train.tsv")}, {"eval", test::shared_path("data/glue/SST-2/dev.tsv")}};
  std::ofstream(dir + "/c.json") << c.dump(2);
  std::string out;
  ASSERT_EQ(test::run_command(test::bertkit_binary() + " train " + dir + "/c.json", &out), 0) << out;
  // bertkit evaluate on the exported model: dev accuracy clearly above the majority class.
  json m = run_json(test::bertkit_binary() + " evaluate " + dir + "/run/model --task classification --data " +
                    test::shared_path("data/glue/SST-2/dev.tsv") + " --predictions " + dir + "/pred.jsonl");
  std::cout << "[sst2 300 steps, batch 32, hidden 128 x 2 layers, from scratch] dev accuracy " << m["accuracy"]
            << " (majority " << m["majority_accuracy"] << "), f1 " << m["f1"] << "\n";
  EXPECT_GT(m["accuracy"].get<double>(), m["majority_accuracy"].get<double>() + 0.15);
  EXPECT_NEAR(m["majority_accuracy"].get<double>(), 444.0 / 872, 1e-9);
  // predictions JSONL: one line per dev example
  std::ifstream pf(dir + "/pred.jsonl");
  int lines = 0;
  for (std::string l; std::getline(pf, l);) ++lines;
  EXPECT_EQ(lines, 872);
  // predict: labels of the saved id2label, scores summing to 1
  json p = run_json(test::bertkit_binary() + " predict " + dir + "/run/model \"a wonderful , moving film\"");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NEAR(p[0]["score"].get<double>() + p[1]["score"].get<double>(), 1.0, 1e-5);
}

TEST(TasksLearning, Conll2003EntityF1RisesAndOffsetsSliceText) {
  BERTKIT_NEED_SHARED("data/conll2003/train.txt");
  const std::string dir = test::make_temp_dir("bertkit-conll");
  json c = base_config(dir + "/run", 400);
  c["model"] = {{"config", small_model()}};
  c["tokenizer"] = {{"path", test::shared_path("data/bert-vocab/bert-base-cased-vocab.txt")}};
  c["task"] = {{"type", "ner"}, {"max_seq_length", 128}};
  c["data"] = {{"train", test::shared_path("data/conll2003/train.txt")},
               {"eval", test::shared_path("data/conll2003/valid.txt")}};
  std::ofstream(dir + "/c.json") << c.dump(2);
  std::string out;
  ASSERT_EQ(test::run_command(test::bertkit_binary() + " train " + dir + "/c.json", &out), 0) << out;
  json m = run_json(test::bertkit_binary() + " evaluate " + dir + "/run/model --task ner --data " +
                    test::shared_path("data/conll2003/valid.txt"));
  std::cout << "[conll2003 400 steps, batch 32, hidden 128 x 2 layers, from scratch] entity F1 " << m["f1"] << " (P "
            << m["precision"] << ", R " << m["recall"] << ")\n";
  EXPECT_GT(m["f1"].get<double>(), 0.25);
  // predict: entity offsets slice the input exactly (code points; multi-byte text)
  const std::vector<std::string> texts{"EU rejects German call to boycott British lamb .",
                                       "Peter Blackburn met José Müller in Zürich on Monday .",
                                       "The Wall Street Journal reported that Microsoft hired 200 people in Seattle ."};
  std::ofstream(dir + "/in.jsonl") << [&] {
    std::string s;
    for (auto& t : texts) s += json{{"text", t}}.dump() + "\n";
    return s;
  }();
  for (const char* agg : {"none", "simple", "first", "average", "max"}) {
    std::string o;
    ASSERT_EQ(test::run_stdout(test::bertkit_binary() + " predict " + dir + "/run/model --input " + dir +
                                   "/in.jsonl --format jsonl --aggregation " + agg,
                               &o),
              0);
    std::istringstream is(o);
    std::string line;
    std::size_t t = 0, entities = 0;
    while (std::getline(is, line)) {
      json ents = json::parse(line);
      for (auto& e : ents) {
        std::string slice = cp_slice(texts.at(t), e["start"], e["end"]);
        ASSERT_FALSE(slice.empty()) << agg << " " << e.dump();
        bool ascii = std::all_of(slice.begin(), slice.end(), [](char ch) { return static_cast<unsigned char>(ch) < 128; });
        // the word is the tokenizer's (lowercased, accents stripped): compare ASCII slices
        if (ascii && (std::string(agg) != "none" || e["word"].get<std::string>().rfind("##", 0) != 0))
          EXPECT_EQ(squash(slice), squash(e["word"])) << agg << " " << e.dump() << " slice '" << slice << "'";
        ++entities;
      }
      ++t;
    }
    EXPECT_EQ(t, texts.size());
    EXPECT_GT(entities, 0u) << agg;
  }
}

// QA fine-tuning through the CLI, then `bertkit predict` on the fine-tuned
// model: answers are exact slices of the context (code points), also for long
// contexts split into windows and for multi-byte text; plus the fill-mask,
// text-classification, NER, embeddings and attention commands on the
// ../shared/fixtures/pipelines models.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace bertkit;
using test::cp_slice;
using test::run_json;
using nlohmann::json;

namespace {

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

}  // namespace

TEST(TasksQa, FineTunedAnswersSliceTheContext) {
  BERTKIT_NEED_SHARED("data/squad/dev-v1.1.part1.json");
  const std::string dir = test::make_temp_dir("bertkit-qa");
  json c = {{"model",
             {{"config",
               {{"hidden_size", 64}, {"num_hidden_layers", 2}, {"num_attention_heads", 2}, {"intermediate_size", 128},
                {"max_position_embeddings", 256}}}}},
            {"tokenizer", {{"path", test::shared_path("data/bert-vocab/bert-base-uncased-vocab.txt")}}},
            {"task", {{"type", "qa"}, {"max_seq_length", 192}, {"doc_stride", 64}}},
            {"data", {{"train", test::shared_path("data/squad/dev-v1.1.part1.json")}}},
            {"train",
             {{"device", "cpu"}, {"seed", 1}, {"learning_rate", 1e-3}, {"max_steps", 40}, {"batch_size", 16},
              {"num_threads", 1}}},
            {"eval", {{"per_epoch", false}, {"at_end", false}}},
            {"logging", {{"every_steps", 20}, {"progress", false}, {"tensorboard", false}}},
            {"checkpoint", {{"keep_last", 1}, {"at_end", false}}},
            {"output", {{"dir", dir + "/run"}, {"overwrite", true}}}};
  std::ofstream(dir + "/c.json") << c.dump(2);
  std::string out;
  ASSERT_EQ(test::run_command(test::bertkit_binary() + " train " + dir + "/c.json", &out), 0) << out;
  const std::string model = dir + "/run/model";
  std::string long_ctx;
  for (int i = 0; i < 30; ++i)
    long_ctx += "Paragraph " + std::to_string(i) + " talks about Zürich, São Paulo and the naïve café near the river. ";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"Where is the café?", "The café «Le Naïf» is in Zürich, next to the Limmat river."},
      {"Who won?", "Denver Broncos defeated the Carolina Panthers 24–10 to earn their third Super Bowl title."},
      {"What is near the river?", long_ctx}};
  for (auto& [q, ctx] : cases) {
    for (const char* extra : {"", " --top-k 5", " --handle-impossible-answer --top-k 3", " --max-seq-len 64 --doc-stride 16"}) {
      json r = run_json(test::bertkit_binary() + " predict " + model + " --task question-answering --question " +
                        shell_quote(q) + " --context " + shell_quote(ctx) + extra);
      if (r.is_object()) r = json::array({r});
      ASSERT_FALSE(r.empty());
      for (auto& a : r) {
        std::size_t s = a["start"], e = a["end"];
        EXPECT_EQ(cp_slice(ctx, s, e), a["answer"].get<std::string>()) << extra << " " << a.dump();
        if (a["answer"] != "") EXPECT_LT(s, e);
      }
    }
  }
}

TEST(TasksCli, PredictMatchesPipelineFixtures) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/pipelines.json");
  std::ifstream f(test::shared_path("fixtures/pipelines/pipelines.json"));
  json fx = json::parse(f);
  const std::string fxdir = test::shared_path("fixtures/pipelines");
  // fill-mask
  json fm = run_json(test::bertkit_binary() + " predict " + fxdir + "/fillmask " + shell_quote(fx["fill_mask"]["texts"][0]));
  ASSERT_EQ(fm.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(fm[i]["token"], fx["fill_mask"]["outputs"][0][i]["token"]);
    EXPECT_EQ(fm[i]["sequence"], fx["fill_mask"]["outputs"][0][i]["sequence"]);
  }
  // text classification, pair
  json tc = run_json(test::bertkit_binary() + " predict " + fxdir + "/textcls " + shell_quote(fx["text_classification"]["pair"]["text"]) +
                     " --pair " + shell_quote(fx["text_classification"]["pair"]["text_pair"]));
  ASSERT_EQ(tc.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(tc[i]["score"].get<double>(), fx["text_classification"]["pair"]["output"][i]["score"].get<double>(), 1e-4);
  // token classification, average
  json ner = run_json(test::bertkit_binary() + " predict " + fxdir + "/ner --aggregation average " +
                      shell_quote(fx["ner"]["texts"][2]));
  EXPECT_EQ(ner.size(), fx["ner"]["outputs"]["average"][2].size());
  // sentence-transformers embeddings + cosine matrix
  std::string args;
  for (auto& s : fx["sentence_transformers"]["sentences"]) args += " " + shell_quote(s);
  json emb = run_json(test::bertkit_binary() + " predict " + fxdir + "/sentence-transformers --similarity" + args);
  ASSERT_EQ(emb["similarity"].size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 5; ++j)
      EXPECT_NEAR(emb["similarity"][i][j].get<double>(), fx["sentence_transformers"]["cosine"][i][j].get<double>(), 1e-5);
  // attention heatmap: PNG + JSON whose rows are probability distributions
  const std::string dir = test::make_temp_dir("bertkit-attn");
  std::string out;
  ASSERT_EQ(test::run_command(test::bertkit_binary() + " attention " + fxdir + "/fillmask 'The cat sat on the mat.' --layer 1 --head 1 --out " +
                                  dir + "/a",
                              &out),
            0)
      << out;
  std::ifstream png(dir + "/a.png", std::ios::binary);
  std::string sig(8, '\0');
  png.read(&sig[0], 8);
  EXPECT_EQ(sig, std::string("\x89PNG\r\n\x1a\n", 8));
  std::ifstream jf(dir + "/a.json");
  json a = json::parse(jf);
  ASSERT_EQ(a["tokens"].size(), 9u);
  for (auto& row : a["attention"]) {
    double sum = 0;
    for (auto& v : row) sum += v.get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-4);
  }
  ASSERT_EQ(test::run_command(test::bertkit_binary() + " attention " + fxdir + "/fillmask 'x' --format svg --mean-heads --out " +
                                  dir + "/b",
                              &out),
            0);
  EXPECT_TRUE(test::path_exists(dir + "/b.svg"));
  EXPECT_NE(test::run_command(test::bertkit_binary() + " attention " + fxdir + "/fillmask 'x' --head 7 --out " + dir + "/c", &out), 0);
}

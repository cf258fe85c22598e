// Batched pipelines (batched.h: the code path `predict` and `serve` share) against ../shared/fixtures/pipelines (outputs of
// transformers' pipelines and sentence-transformers) with budgets small enough
// that inputs of different lengths share padded batches.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bertkit/core/fs.h"
#include "bertkit/pipelines/batched.h"
#include "test_util.h"

using namespace bertkit;
namespace P = bertkit::pipelines;

static nlohmann::json fixture() {
  return nlohmann::json::parse(read_file(test::shared_path("fixtures/pipelines/pipelines.json")));
}

// Hand-packed: sorted 10,10,5,3,1 (ties in input order); 2 x 10 fits 20, 3 x 5 fits 20.
TEST(BatchedPipelines, PackByTokenBudget) {
  std::vector<std::size_t> lengths{3, 10, 5, 10, 1};
  P::BatchingOptions o;
  o.max_batch_tokens = 20;
  EXPECT_EQ(P::pack_by_token_budget(lengths, o), (std::vector<std::vector<std::size_t>>{{1, 3}, {2, 0, 4}}));
  o.max_batch_size = 2;
  EXPECT_EQ(P::pack_by_token_budget(lengths, o), (std::vector<std::vector<std::size_t>>{{1, 3}, {2, 0}, {4}}));
  o.max_batch_tokens = 5;  // a sequence longer than the budget still runs, alone
  o.max_batch_size = 0;
  EXPECT_EQ(P::pack_by_token_budget(lengths, o), (std::vector<std::vector<std::size_t>>{{1}, {3}, {2}, {0}, {4}}));
  EXPECT_TRUE(P::pack_by_token_budget({}, o).empty());
}

TEST(BatchedPipelines, TextClassificationEqualsFixtureInInputOrder) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/textcls/config.json");
  auto fx = fixture()["text_classification"];
  auto m = P::load_model(test::shared_path("fixtures/pipelines/textcls"));
  std::vector<P::TextInput> inputs;
  std::vector<nlohmann::json> want;
  for (std::size_t t = 0; t < fx["texts"].size(); ++t) inputs.push_back({fx["texts"][t], std::nullopt}), want.push_back(fx["outputs"][t]);
  inputs.push_back({fx["pair"]["text"], fx["pair"]["text_pair"].get<std::string>()});
  want.push_back(fx["pair"]["output"]);
  P::BatchingOptions o;
  o.max_batch_tokens = 40;  // two or three padded sequences per batch
  auto got = P::text_classification(m, inputs, 0, P::ClassifyFunction::Default, o);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t t = 0; t < want.size(); ++t) {
    ASSERT_EQ(got[t].size(), want[t].size());
    for (std::size_t i = 0; i < want[t].size(); ++i) {
      EXPECT_EQ(got[t][i].label, want[t][i]["label"].get<std::string>()) << t;
      EXPECT_NEAR(got[t][i].score, want[t][i]["score"].get<double>(), 1e-4) << t << " " << i;
    }
  }
}

TEST(BatchedPipelines, TokenClassificationEqualsFixtureForEveryAggregation) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/ner/config.json");
  auto fx = fixture()["ner"];
  auto m = P::load_model(test::shared_path("fixtures/pipelines/ner"));
  std::vector<std::string> texts = fx["texts"];
  P::BatchingOptions o;
  o.max_batch_tokens = 64;
  for (const char* name : {"none", "simple", "first", "average", "max"}) {
    auto agg = P::parse_aggregation(name);
    auto got = P::token_classification(m, texts, agg, {"O"}, o);
    ASSERT_EQ(got.size(), texts.size());
    for (std::size_t t = 0; t < texts.size(); ++t) {
      auto g = P::to_json(got[t], agg);
      const auto& want = fx["outputs"][name][t];
      ASSERT_EQ(g.size(), want.size()) << name << " " << t;
      for (std::size_t i = 0; i < want.size(); ++i) {
        const char* key = agg == P::Aggregation::None ? "entity" : "entity_group";
        EXPECT_EQ(g[i][key], want[i][key]) << name << " " << t << " " << i;
        EXPECT_EQ(g[i]["word"], want[i]["word"]);
        EXPECT_EQ(g[i]["start"], want[i]["start"]);
        EXPECT_EQ(g[i]["end"], want[i]["end"]);
        EXPECT_NEAR(g[i]["score"].get<double>(), want[i]["score"].get<double>(), 1e-4) << name << " " << t << " " << i;
      }
    }
  }
}

TEST(BatchedPipelines, EmbeddingsEqualSentenceTransformersAndOneAtATime) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  auto fx = fixture()["sentence_transformers"];
  auto m = P::load_embedding_model(test::shared_path("fixtures/pipelines/sentence-transformers"));
  std::vector<std::string> s = fx["sentences"];
  for (std::size_t budget : {16, 40, 16384}) {
    P::BatchingOptions o;
    o.max_batch_tokens = budget;
    auto emb = P::embed_batched(m, s, o).to(torch::kDouble);
    auto single = P::embed(m, s).to(torch::kDouble);
    ASSERT_EQ(emb.size(0), static_cast<int64_t>(s.size()));
    for (std::size_t i = 0; i < s.size(); ++i)
      for (std::size_t d = 0; d < fx["embeddings"][i].size(); ++d) {
        EXPECT_NEAR(emb[i][d].item<double>(), fx["embeddings"][i][d].get<double>(), 1e-5) << budget << " " << i << " " << d;
        EXPECT_NEAR(emb[i][d].item<double>(), single[i][d].item<double>(), 1e-6) << budget << " " << i << " " << d;
      }
  }
}

// A sentence-transformers directory through export and predict --task embeddings
// (issue 14), checked against sentence-transformers' own embeddings.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

using nlohmann::json;

json fixture_outputs() {
  std::ifstream in(shared_path("fixtures/pipelines/pipelines.json"));
  return json::parse(in)["sentence_transformers"];
}

std::vector<std::string> predict_args(const std::string& model, const json& sentences) {
  std::vector<std::string> args = {"predict", model, "--task", "embeddings"};
  for (const auto& s : sentences) args.push_back(s.get<std::string>());
  return args;
}

double max_abs_diff(const json& a, const json& b) {
  double m = 0;
  for (std::size_t i = 0; i < b.size(); ++i) m = std::max(m, std::abs(a[i].get<double>() - b[i].get<double>()));
  return m;
}

TEST(SentenceTransformers, ExportKeepsPoolingAndNormalize) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers");
  const json fx = fixture_outputs();
  std::string dst = make_temp_dir("st-export") + "/exported";
  ASSERT_EQ(cli({"export", shared_path("fixtures/pipelines/sentence-transformers"), dst}), 0);
  for (const char* f : {"modules.json", "sentence_bert_config.json", "1_Pooling/config.json", "2_Normalize"})
    EXPECT_TRUE(path_exists(dst + "/" + f)) << f;
  json got = json::parse(cli_stdout(predict_args(dst, fx["sentences"])))["embeddings"];
  ASSERT_EQ(got.size(), fx["embeddings"].size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_LT(max_abs_diff(got[i], fx["embeddings"][i]), 1e-5) << i;
}

TEST(SentenceTransformers, ExportRefusesATransformerOutsideTheRoot) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers");
  std::string src = make_temp_dir("st-sub");
  std::filesystem::copy(shared_path("fixtures/pipelines/sentence-transformers"), src,
                        std::filesystem::copy_options::recursive);
  json modules = json::parse(std::ifstream(src + "/modules.json"));
  modules[0]["path"] = "0_Transformer";
  std::ofstream(src + "/modules.json") << modules.dump();
  int rc = 0;
  std::string err = cli_stderr({"export", src, src + "-out"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("0_Transformer"), std::string::npos) << err;
  EXPECT_FALSE(path_exists(src + "-out"));
}

TEST(SentenceTransformers, JsonlSimilarityGivesEachLineItsRow) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers");
  const json fx = fixture_outputs();
  auto args = predict_args(shared_path("fixtures/pipelines/sentence-transformers"), fx["sentences"]);
  args.insert(args.end(), {"--similarity", "--format", "jsonl"});
  std::istringstream lines(cli_stdout(args));
  const json& emb = fx["embeddings"];
  std::size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    json row = json::parse(line);
    ASSERT_TRUE(row.contains("similarity")) << line;
    ASSERT_EQ(row["similarity"].size(), emb.size());
    for (std::size_t j = 0; j < emb.size(); ++j)
      EXPECT_NEAR(row["similarity"][j].get<double>(), fx["cosine"][i][j].get<double>(), 1e-5) << i << "," << j;
  }
  EXPECT_EQ(i, emb.size());
}

}  // namespace
}  // namespace bertkit::test

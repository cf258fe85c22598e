// SentencePiece encodings against the reference library's own output
// (tests/fixtures/sentencepiece/encode-0.1.97.jsonl, made by
// scripts/fixtures/sentencepiece_encode.py with Debian's python3-sentencepiece).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <memory>

#include <nlohmann/json.hpp>

#include "bertkit/tokenizers/tokenizer.h"
#include "test_util.h"

using namespace bertkit;

TEST(SentencePieceFixture, IdsAndPiecesMatchTheReferenceLibrary) {
  BERTKIT_NEED_SHARED("data/sentencepiece/test_model.model");
  std::ifstream in(test::source_dir() + "/tests/fixtures/sentencepiece/encode-0.1.97.jsonl");
  ASSERT_TRUE(in) << "fixture missing";
  std::map<std::string, std::unique_ptr<Tokenizer>> tokenizers;
  EncodeOptions no_specials;
  no_specials.add_special_tokens = false;
  std::set<std::string> models;
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    const std::string model = row["model"], text = row["text"];
    auto& tok = tokenizers[model];
    if (!tok) tok = load_tokenizer(test::shared_path("data/sentencepiece/" + model));
    const auto ids = row["ids"].get<std::vector<int32_t>>();
    const auto pieces = row["pieces"].get<std::vector<std::string>>();
    Encoding e = tok->encode(text, std::nullopt, no_specials);
    EXPECT_EQ(e.ids, ids) << model << ": " << text;
    // An unknown piece is the text itself in the reference, the unknown token here.
    ASSERT_EQ(e.tokens.size(), pieces.size()) << model << ": " << text;
    for (std::size_t i = 0; i < pieces.size(); ++i)
      if (ids[i] != tok->special_tokens().unk) EXPECT_EQ(e.tokens[i], pieces[i]) << model << ": " << text;
    models.insert(model);
    ++rows;
  }
  EXPECT_EQ(models.size(), 4u);
  EXPECT_GE(rows, 20);
}

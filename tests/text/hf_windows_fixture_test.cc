// Overflow windows against HF tokenizers 0.23.2's own output
// (tests/fixtures/hf-tokenizers/windows-0.23.2.jsonl, made by
// scripts/fixtures/hf_windows.sh): with EncodeOptions::truncation_early_exit, every
// field of every window equals what the Node binding returned.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "bertkit/tokenizers/tokenizer.h"
#include "test_util.h"

using namespace bertkit;
using nlohmann::json;

namespace {

const char* kUncased = "data/bert-vocab/bert-base-uncased-vocab.txt";

Truncation parse_truncation(const std::string& s) {
  if (s == "only_first") return Truncation::OnlyFirst;
  if (s == "only_second") return Truncation::OnlySecond;
  return Truncation::LongestFirst;
}

void expect_window_equals(const Encoding& e, const json& hf, const std::string& where) {
  EXPECT_EQ(e.ids, hf["ids"].get<std::vector<int32_t>>()) << where;
  EXPECT_EQ(e.type_ids, hf["type_ids"].get<std::vector<int32_t>>()) << where;
  EXPECT_EQ(e.tokens, hf["tokens"].get<std::vector<std::string>>()) << where;
  std::vector<Offset> offsets;
  for (const auto& o : hf["offsets"]) offsets.emplace_back(o[0].get<std::size_t>(), o[1].get<std::size_t>());
  EXPECT_EQ(e.offsets, offsets) << where;
  EXPECT_EQ(e.word_ids, hf["word_ids"].get<std::vector<int32_t>>()) << where;
  EXPECT_EQ(e.special_tokens_mask, hf["special_tokens_mask"].get<std::vector<int32_t>>()) << where;
  EXPECT_EQ(e.attention_mask, hf["attention_mask"].get<std::vector<int32_t>>()) << where;
}

}  // namespace

TEST(HfWindowsFixture, EveryWindowEqualsHfTokenizers0232) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = load_tokenizer(test::shared_path(kUncased));
  std::ifstream in(test::source_dir() + "/tests/fixtures/hf-tokenizers/windows-0.23.2.jsonl");
  ASSERT_TRUE(in) << "fixture missing in the source tree";
  int cases = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    json hf = json::parse(line);
    const std::string name = hf["case"];
    EncodeOptions o;
    o.max_length = hf["max_length"];
    o.stride = hf["stride"];
    o.truncation = parse_truncation(hf["truncation"]);
    o.return_overflowing = true;
    o.truncation_early_exit = true;
    std::optional<std::string> pair;
    if (hf.contains("text_pair")) pair = hf["text_pair"].get<std::string>();
    Encoding e = tok->encode(hf["text"].get<std::string>(), pair ? std::optional<std::string_view>(*pair) : std::nullopt, o);
    expect_window_equals(e, hf, name + " window 0");
    ASSERT_EQ(e.overflowing.size(), hf["overflowing"].size()) << name;
    for (std::size_t i = 0; i < e.overflowing.size(); ++i)
      expect_window_equals(e.overflowing[i], hf["overflowing"][i], name + " window " + std::to_string(i + 1));
    ++cases;
  }
  EXPECT_EQ(cases, 7);
}

// Parity with HF tokenizers 0.23.2 (BertTokenizerFast) on the shared fixture:
// ids, tokens, type ids and code-point offsets must be identical.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bertkit/tokenizers/wordpiece.h"
#include "test_util.h"

using bertkit::EncodeOptions;
using bertkit::Truncation;
using bertkit::WordPieceConfig;
using bertkit::WordPieceTokenizer;
using json = nlohmann::json;

namespace {

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

void check_fixture(const std::string& vocab, const std::string& expected, bool lowercase) {
  BERTKIT_NEED_SHARED("fixtures/tokenizer/input.jsonl");
  BERTKIT_NEED_SHARED(expected);
  auto tok = WordPieceTokenizer::from_vocab_file(bertkit::test::shared_path(vocab));
  bertkit::BertNormalizerOptions norm;
  norm.lowercase = lowercase;
  tok->set_normalizer(norm);
  auto inputs = read_jsonl(bertkit::test::shared_path("fixtures/tokenizer/input.jsonl"));
  auto wants = read_jsonl(bertkit::test::shared_path(expected));
  ASSERT_EQ(inputs.size(), wants.size());
  ASSERT_GT(inputs.size(), 1000u);
  EncodeOptions opt;
  opt.truncation = Truncation::LongestFirst;
  opt.max_length = 512;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const json& in = inputs[i];
    const json& want = wants[i];
    std::string text = in["text"].get<std::string>();
    bertkit::Encoding e;
    if (in.contains("text_pair")) {
      std::string pair = in["text_pair"].get<std::string>();
      e = tok->encode(text, std::string_view(pair), opt);
    } else {
      e = tok->encode(text, std::nullopt, opt);
    }
    std::vector<std::vector<std::size_t>> offsets;
    for (auto& o : e.offsets) offsets.push_back({o.first, o.second});
    bool same = want["ids"].get<std::vector<int32_t>>() == e.ids &&
                want["tokens"].get<std::vector<std::string>>() == e.tokens &&
                want["type_ids"].get<std::vector<int32_t>>() == e.type_ids &&
                want["offsets"].get<std::vector<std::vector<std::size_t>>>() == offsets;
    if (!same) {
      ++bad;
      if (bad <= 5) {
        json got = {{"tokens", e.tokens}, {"offsets", offsets}, {"type_ids", e.type_ids}};
        ADD_FAILURE() << expected << " line " << i + 1 << " differs\n input: " << in.dump() << "\n want: "
                      << json{{"tokens", want["tokens"]}, {"offsets", want["offsets"]}, {"type_ids", want["type_ids"]}}.dump()
                      << "\n got:  " << got.dump();
      }
    }
  }
  EXPECT_EQ(bad, 0u) << "mismatching lines in " << expected;
}

}  // namespace

TEST(WordPieceFixture, Uncased) {
  check_fixture("data/bert-vocab/bert-base-uncased-vocab.txt", "fixtures/tokenizer/expected-uncased.jsonl", true);
}
TEST(WordPieceFixture, Cased) {
  check_fixture("data/bert-vocab/bert-base-cased-vocab.txt", "fixtures/tokenizer/expected-cased.jsonl", false);
}
TEST(WordPieceFixture, MultilingualCased) {
  check_fixture("data/bert-vocab/bert-base-multilingual-cased-vocab.txt",
                "fixtures/tokenizer/expected-multilingual-cased.jsonl", false);
}

// MeCab words against the MeCab CLI itself (tests/fixtures/mecab/ipadic-0.996.jsonl,
// made by scripts/fixtures/mecab_words.sh with Debian's mecab and mecab-ipadic-utf8).
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "bertkit/tokenizers/japanese.h"
#include "test_util.h"

using namespace bertkit;

TEST(MecabFixture, SplitterWordsMatchTheMecabCli) {
  std::ifstream in(test::source_dir() + "/tests/fixtures/mecab/ipadic-0.996.jsonl");
  ASSERT_TRUE(in) << "fixture missing";
  MecabSplitter splitter(mecab_dictionary_dir("ipadic"));
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    const std::string text = row["text"];
    std::vector<std::string> words;
    for (auto [begin, end] : splitter.split(text)) words.push_back(text.substr(begin, end - begin));
    EXPECT_EQ(words, row["words"].get<std::vector<std::string>>()) << text;
    ++rows;
  }
  EXPECT_EQ(rows, 11);
}

// Texts on the command line are data: CLI11 must not read "[MASK]" or
// "[PAD],[UNK]" as a list literal (issue 14).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

using nlohmann::json;

std::string pipeline(const std::string& name) { return shared_path("fixtures/pipelines/" + name); }

TEST(ArgumentText, TokenizeKeepsBracketedText) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/fillmask");
  // bert-base-uncased ids: [CLS] 101, [MASK] 103, "and" 1998, [SEP] 102.
  json j = json::parse(cli_stdout({"tokenize", "-t", pipeline("fillmask"), "[MASK] and [MASK]"}));
  EXPECT_EQ(j["text"], "[MASK] and [MASK]");
  EXPECT_EQ(j["ids"], json({101, 103, 1998, 103, 102}));
}

TEST(ArgumentText, FillMaskOfTheMaskAlone) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/fillmask");
  json j = json::parse(cli_stdout({"predict", pipeline("fillmask"), "[MASK]"}));
  ASSERT_EQ(j.size(), 5u) << j;
  // The text is the mask alone, so each filled sequence is the token itself.
  for (const auto& p : j) EXPECT_EQ(p["sequence"], p["token_str"]) << p;
}

TEST(ArgumentText, NerOffsetsIndexTheTextAsGiven) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/ner");
  const std::string text = "[Tim Cook]";
  json j = json::parse(cli_stdout({"predict", pipeline("ner"), "--aggregation", "none", text}));
  ASSERT_FALSE(j.empty());
  for (const auto& e : j) {
    std::string word = e["word"];
    if (word.rfind("##", 0) == 0) word = word.substr(2);
    std::string slice = text.substr(e["start"].get<std::size_t>(), e["end"].get<std::size_t>() - e["start"].get<std::size_t>());
    for (auto& c : slice) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(slice, word) << e;
  }
}

TEST(ArgumentText, SeveralTextsStillMakeSeveralInputs) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/fillmask");
  std::string out = cli_stdout({"predict", pipeline("fillmask"), "--format", "jsonl", "[MASK] one", "two [MASK]", "[MASK]"});
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
}

TEST(ArgumentText, SeveralBracketedTextsEachAsTyped) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/fillmask");
  const std::vector<std::string> texts = {"[MASK]", "[Tim Cook]", "[a,b]", "x]", "[y"};
  std::vector<std::string> args = {"tokenize", "-t", pipeline("fillmask")};
  args.insert(args.end(), texts.begin(), texts.end());
  std::istringstream out(cli_stdout(args));
  std::vector<std::string> got;
  for (std::string line; std::getline(out, line);) got.push_back(json::parse(line)["text"]);
  EXPECT_EQ(got, texts);
}

TEST(ArgumentText, AfterDoubleDashATextMayStartWithADash) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/fillmask");
  json j = json::parse(cli_stdout({"tokenize", "-t", pipeline("fillmask"), "--", "--[MASK]"}));
  EXPECT_EQ(j["text"], "--[MASK]");
}

TEST(ArgumentText, UnknownOptionBetweenTextsIsStillAnError) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/fillmask");
  int rc = 0;
  std::string err = cli_stderr({"tokenize", "-t", pipeline("fillmask"), "one", "--bogus", "[two]"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("--bogus"), std::string::npos) << err;
}

// File names are data too: "[notes]" and "more]" are two corpus files.
TEST(ArgumentText, FileNamesWithBracketsArePrepared) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  std::string dir = make_temp_dir("bracket-files");
  // bert format: a sentence per line, a blank line between documents -> 2 + 1 documents.
  std::ofstream(dir + "/[notes]") << "the first document.\nit has two lines.\n\nthe second document.\n";
  std::ofstream(dir + "/more]") << "a third document, in another file.\n";
  json j = json::parse(cli_stdout({"prepare", dir + "/[notes]", dir + "/more]", "-o", dir + "/shards", "-t",
                                   shared_path("data/bert-vocab/bert-base-uncased-vocab.txt"), "-q"}));
  EXPECT_EQ(j["documents"], 3) << j;
}

// The vocabulary's first lines are the special tokens, in the order given.
std::vector<std::string> vocab_head(const std::string& dir, std::size_t n) {
  std::ifstream in(dir + "/vocab.txt");
  std::vector<std::string> lines;
  for (std::string l; lines.size() < n && std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(ArgumentText, TokenizerTrainSpecialTokensInEveryForm) {
  std::string dir = make_temp_dir("specials");
  {
    std::ofstream txt(dir + "/corpus.txt");
    for (int i = 0; i < 50; ++i) txt << "the quick brown fox jumps over the lazy dog " << i << "\n";
  }
  const std::vector<std::string> want = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  const std::vector<std::vector<std::string>> forms = {
      {"--special-tokens", "[PAD],[UNK],[CLS],[SEP],[MASK]"},
      {"--special-tokens=[PAD],[UNK],[CLS],[SEP],[MASK]"},
      {"--special-tokens", "[PAD]", "--special-tokens", "[UNK]", "--special-tokens", "[CLS]", "--special-tokens",
       "[SEP]", "--special-tokens", "[MASK]"}};
  int n = 0;
  for (const auto& form : forms) {
    std::string out = dir + "/tok" + std::to_string(n++);
    std::vector<std::string> args = {"tokenizer", "train", "-i", dir + "/corpus.txt", "-o", out, "--vocab-size", "60"};
    args.insert(args.end(), form.begin(), form.end());
    cli_stdout(args);
    EXPECT_EQ(vocab_head(out, want.size()), want) << form[0];
  }
}

}  // namespace
}  // namespace bertkit::test

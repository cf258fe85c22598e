// EncodeOptions::truncation_early_exit: the windows of HF tokenizers 0.23
// (PR #1990, PreTokenizedString::tokenize_with_limit): a sequence that may be
// truncated stops being tokenised after the first word that brings its token
// count to >= max_length. Expectations are hand-derived from that rule (each
// commented). HF tokenizers 0.23.2's own output for the text/pair cases is a
// fixture, compared field by field in hf_windows_fixture_test.cc.
#include <gtest/gtest.h>

#include "bertkit/core/error.h"
#include "bertkit/tokenizers/wordpiece.h"
#include "test_util.h"

using namespace bertkit;

namespace {

const char* kUncased = "data/bert-vocab/bert-base-uncased-vocab.txt";

std::unique_ptr<Tokenizer> uncased() { return load_tokenizer(test::shared_path(kUncased)); }

using Tokens = std::vector<std::string>;

EncodeOptions windows(std::size_t max_length, std::size_t stride, Truncation t, bool early_exit) {
  EncodeOptions o;
  o.max_length = max_length;
  o.truncation = t;
  o.stride = stride;
  o.return_overflowing = true;
  o.truncation_early_exit = early_exit;
  return o;
}

}  // namespace

TEST(TruncationEarlyExit, SingleTextStopsAtMaxLengthTokens) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  const std::string text = "The quick brown fox jumps over the lazy dog while Shakespeare wrote plays in London.";
  // 16 one-token words. Early exit keeps words until 9 (= max_length) tokens:
  // "the ... dog". Windows of 9 - 2 specials = 7, every 7 - 2 = 5 tokens:
  // [0, 7) and [5, 9) — one short overflowing window.
  Encoding e = tok->encode(text, std::nullopt, windows(9, 2, Truncation::LongestFirst, true));
  EXPECT_EQ(e.tokens, (Tokens{"[CLS]", "the", "quick", "brown", "fox", "jumps", "over", "the", "[SEP]"}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].tokens, (Tokens{"[CLS]", "over", "the", "lazy", "dog", "[SEP]"}));
  EXPECT_EQ(e.overflowing[0].offsets[4], (Offset{40, 43}));  // "dog"

  // Off (tokenizers <= 0.22): the windows reach the end of the text.
  Encoding full = tok->encode(text, std::nullopt, windows(9, 2, Truncation::LongestFirst, false));
  EXPECT_EQ(full.tokens, e.tokens);
  ASSERT_EQ(full.overflowing.size(), 2u);
  EXPECT_EQ(full.overflowing[1].tokens.at(6), ".");
}

TEST(TruncationEarlyExit, TheWordThatCrossesTheLimitIsKeptWhole) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  // the quick brown fox jumps over the lazy = 8 tokens; "tokenization" =
  // token ##ization brings it to 10 >= 9: kept whole, "dog ..." dropped.
  // Windows of 7 every 5: [0, 7) and [5, 10).
  Encoding e = tok->encode("The quick brown fox jumps over the lazy tokenization dog while Shakespeare wrote plays.",
                           std::nullopt, windows(9, 2, Truncation::LongestFirst, true));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].tokens, (Tokens{"[CLS]", "over", "the", "lazy", "token", "##ization", "[SEP]"}));
}

TEST(TruncationEarlyExit, AddedTokensCountButNeverStopIt) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  // max_length 5: a b c d = 4, [MASK] (an added token: already a token in
  // HF, not checked) = 5, e = 6 >= 5 stops. Kept: a b c d [MASK] e; windows
  // of 3 without stride: [a b c] [d [MASK] e].
  Encoding e = tok->encode("a b c d [MASK] e f g", std::nullopt, windows(5, 0, Truncation::LongestFirst, true));
  EXPECT_EQ(e.tokens, (Tokens{"[CLS]", "a", "b", "c", "[SEP]"}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].tokens, (Tokens{"[CLS]", "d", "[MASK]", "e", "[SEP]"}));
}

TEST(TruncationEarlyExit, OnlySecondLimitsTheContextOnly) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  std::string q = "Who wrote it?";
  std::string c = "The quick brown fox jumps over the lazy dog while Shakespeare wrote plays in London. He also wrote poems.";
  // Context: 21 one-token words; early exit keeps the first 16 (= max_length,
  // not the 9 left after the question): "the ... london .". Windows of
  // 16 - 4 - 3 = 9 every 9 - 3 = 6: [0, 9), [6, 15), [12, 16).
  Encoding e = tok->encode(q, std::string_view(c), windows(16, 3, Truncation::OnlySecond, true));
  Tokens head = {"[CLS]", "who", "wrote", "it", "?", "[SEP]"};
  auto with = [&](Tokens ctx) {
    Tokens v = head;
    v.insert(v.end(), ctx.begin(), ctx.end());
    v.push_back("[SEP]");
    return v;
  };
  EXPECT_EQ(e.tokens, with({"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"}));
  ASSERT_EQ(e.overflowing.size(), 2u);
  EXPECT_EQ(e.overflowing[0].tokens, with({"the", "lazy", "dog", "while", "shakespeare", "wrote", "plays", "in", "london"}));
  EXPECT_EQ(e.overflowing[1].tokens, with({"plays", "in", "london", "."}));

  // Off: the third window is [12, 21), to the end of the context.
  Encoding full = tok->encode(q, std::string_view(c), windows(16, 3, Truncation::OnlySecond, false));
  ASSERT_EQ(full.overflowing.size(), 2u);
  EXPECT_EQ(full.overflowing[1].tokens, with({"plays", "in", "london", ".", "he", "also", "wrote", "poems", "."}));
}

TEST(TruncationEarlyExit, LongestFirstLimitsBothSequences) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  // A: 11 words, kept up to "while" (10 tokens); B: 15 tokens, kept up to
  // "and" (10). 10 + 10 > 7 left: 3 from A, 4 from B (longest_first); stride 1:
  // A windows every 2 (5 of them), B windows every 3 (3 of them) = 15 encodings.
  Encoding e = tok->encode("The quick brown fox jumps over the lazy dog while Shakespeare",
                           std::string_view("wrote plays in London. He also wrote poems and sonnets for the king"),
                           windows(10, 1, Truncation::LongestFirst, true));
  EXPECT_EQ(e.tokens, (Tokens{"[CLS]", "the", "quick", "brown", "[SEP]", "wrote", "plays", "in", "london", "[SEP]"}));
  ASSERT_EQ(e.overflowing.size(), 14u);
  // A's last window with B's first; A's first window with B's last.
  EXPECT_EQ(e.overflowing[9].tokens, (Tokens{"[CLS]", "dog", "while", "[SEP]", "wrote", "plays", "in", "london", "[SEP]"}));
  EXPECT_EQ(e.overflowing[13].tokens, (Tokens{"[CLS]", "the", "quick", "brown", "[SEP]", "also", "wrote", "poems", "and", "[SEP]"}));
}

TEST(TruncationEarlyExit, PreSplitWordsAreLimitedOneByOne) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  // HF encodes each word of a pre-split input as its own sequence, so the
  // limit (5) cuts inside a word only: "a,b,c,d,e" -> a , b , c (5 tokens,
  // stop); "f" is its own word. 6 tokens in windows of 3: [a , b] [, c f].
  Encoding e = tok->encode_words({"a,b,c,d,e", "f"}, windows(5, 0, Truncation::LongestFirst, true));
  EXPECT_EQ(e.tokens, (Tokens{"[CLS]", "a", ",", "b", "[SEP]"}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].tokens, (Tokens{"[CLS]", ",", "c", "f", "[SEP]"}));
  EXPECT_EQ(e.overflowing[0].word_ids, (std::vector<int32_t>{-1, 0, 0, 1, -1}));
  EXPECT_EQ(e.overflowing[0].offsets[3], (Offset{0, 1}));  // "f", relative to its word
}

TEST(TruncationEarlyExit, WithoutTruncationItDoesNothing) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  EncodeOptions o;
  o.truncation_early_exit = true;  // no truncation: HF has no TruncationParams, no limit
  o.max_length = 3;
  Encoding e = tok->encode("a b c d e f", std::nullopt, o);
  EXPECT_EQ(e.tokens.size(), 8u);
}

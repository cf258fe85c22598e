// MeCab + WordPiece/character (HF BertJapaneseTokenizer) and WordPiece
// vocabulary training (HF BertWordPieceTokenizer.train).
#include <gtest/gtest.h>

#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/tokenizers/japanese.h"
#include "bertkit/tokenizers/trainer.h"
#include "test_util.h"

using namespace bertkit;

namespace {
const char* kJaVocab = "data/bert-vocab/bert-base-japanese-v3-vocab.txt";

std::vector<std::string> read_vocab(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> v;
  std::string line;
  while (std::getline(in, line)) v.push_back(line);
  return v;
}
}  // namespace

TEST(Japanese, MecabWordsThenWordPieceWithOriginalOffsets) {
  BERTKIT_NEED_SHARED(kJaVocab);
  JapaneseConfig cfg;
  cfg.mecab_dic = "ipadic";
  JapaneseTokenizer tok(read_vocab(test::shared_path(kJaVocab)), cfg);
  // IPAdic splits 吾輩/は/猫/で/ある; each is in the v3 vocabulary.
  EXPECT_EQ(tok.words("吾輩は猫である。"), (std::vector<std::string>{"吾輩", "は", "猫", "で", "ある", "。"}));
  // Full-width "ＡＢＣ" is NFKC-normalised to "ABC" but offsets index the original.
  std::string text = "吾輩は猫である。ＡＢＣ";
  Encoding e = tok.encode(text);
  EXPECT_EQ(e.tokens.front(), "[CLS]");
  EXPECT_EQ(e.ids.front(), 2);
  EXPECT_EQ(e.ids.back(), 3);
  // "吾輩" is not in the vocabulary: 吾 ##輩 (both are).
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "吾", "##輩", "は", "猫", "で", "ある", "。", "ABC", "[SEP]"}));
  EXPECT_EQ(e.offsets[1], (Offset{0, 1}));
  EXPECT_EQ(e.offsets[2], (Offset{1, 2}));
  EXPECT_EQ(e.byte_offsets[2], (Offset{3, 6}));
  EXPECT_EQ(e.offsets[4], (Offset{3, 4}));  // 猫
  EXPECT_EQ(e.offsets[6], (Offset{5, 7}));  // ある
  // "ABC" comes from the full-width "ＡＢＣ": code points 8..11, bytes 24..33.
  EXPECT_EQ(e.offsets[8], (Offset{8, 11}));
  EXPECT_EQ(e.byte_offsets[8], (Offset{24, 33}));
  EXPECT_EQ(e.word_ids[1], e.word_ids[2]);
  EXPECT_EQ(tok.decode(tok.encode("吾輩は猫である").ids), "吾輩 は 猫 で ある");

  cfg.subword = "character";
  JapaneseTokenizer chars(read_vocab(test::shared_path(kJaVocab)), cfg);
  Encoding c = chars.encode("吾輩は猫");
  EXPECT_EQ(c.tokens, (std::vector<std::string>{"[CLS]", "吾", "輩", "は", "猫", "[SEP]"}));
  EXPECT_EQ(c.word_ids, (std::vector<int32_t>{-1, 0, 0, 1, 2, -1}));
}

TEST(Japanese, MissingDictionaryNamesThePackage) {
  try {
    mecab_dictionary_dir("no-such-dictionary-name");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ipadic"), std::string::npos);
  }
}

TEST(WordPieceTrainer, SpecialsAlphabetThenMerges) {
  // Hand-derived: words "hug"x10 "pug"x5 "pun"x12 "bun"x4 "hugs"x5.
  std::vector<std::pair<std::string, uint64_t>> counts = {
      {"bun", 4}, {"hug", 10}, {"hugs", 5}, {"pug", 5}, {"pun", 12}};
  WordPieceTrainOptions o;
  o.vocab_size = 18;
  o.min_frequency = 2;
  auto r = train_wordpiece_from_counts(counts, o);
  std::vector<std::string> want_head = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                                        // alphabet, sorted
                                        "b", "g", "h", "n", "p", "s", "u",
                                        // continuation characters, sorted
                                        "##g", "##n", "##s", "##u"};
  ASSERT_GE(r.vocab.size(), want_head.size());
  EXPECT_EQ(std::vector<std::string>(r.vocab.begin(), r.vocab.begin() + want_head.size()), want_head);
  // Pair counts: (h,##u)=15 (p,##u)=17 (b,##u)=4 (##u,##g)=20 (##u,##n)=16 (##g,##s)=5.
  // First merge: ##u ##g -> "##ug" (20). Then (h,##ug)=15 (p,##ug)=5 (p,##u)=12
  // (##u,##n)=16 (b,##u)=4 (##ug,##s)=5: ##u ##n -> "##un" (16).
  ASSERT_EQ(r.vocab.size(), 18u);
  EXPECT_EQ(r.vocab[16], "##ug");
  EXPECT_EQ(r.vocab[17], "##un");
  // The trained vocabulary tokenises like WordPiece.
  WordPieceTokenizer tok(r.vocab);
  EXPECT_EQ(tok.tokenize("hugs pun"), (std::vector<std::string>{"h", "##ug", "##s", "p", "##un"}));
}

TEST(WordPieceTrainer, TrainsFromFilesWithLimitsAndMinFrequency) {
  BERTKIT_NEED_SHARED("data/sentencepiece/botchan.txt");
  WordPieceTrainOptions o;
  o.inputs = {test::shared_path("data/sentencepiece/botchan.txt")};
  o.vocab_size = 2000;
  o.limit_alphabet = 40;
  o.threads = 2;
  auto r = train_wordpiece(o);
  EXPECT_EQ(r.vocab.size(), 2000u);
  EXPECT_EQ(r.vocab[1], "[UNK]");
  EXPECT_GT(r.word_occurrences, 50000u);
  // At most 40 alphabet characters (+ their ## forms) before the first merge.
  std::size_t singles = 0;
  for (std::size_t i = 5; i < r.vocab.size(); ++i)
    if (r.vocab[i].size() == 1) ++singles;
  EXPECT_LE(singles, 40u);
  WordPieceTokenizer tok(r.vocab);
  auto toks = tok.tokenize("the young man was always getting into trouble");
  for (const auto& t : toks) EXPECT_NE(t, "[UNK]");
  // A huge min_frequency stops before any merge.
  o.min_frequency = 1u << 30;
  auto none = train_wordpiece(o);
  EXPECT_EQ(none.merges, 0u);
  EXPECT_LT(none.vocab.size(), 2000u);
}

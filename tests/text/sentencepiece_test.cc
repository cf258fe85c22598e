// SentencePiece as a drop-in Tokenizer: specials per model layout, offsets
// that point at the pieces' text, decode round trip, training.
#include <gtest/gtest.h>

#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/tokenizers/sentencepiece.h"
#include "test_util.h"

using namespace bertkit;

namespace {

// Each non-special token's offsets cover exactly its piece's text (without "▁").
void expect_offsets_match_pieces(const Tokenizer& tok, const std::string& text, const Encoding& e, bool lowercase) {
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e.special_tokens_mask[i] || e.sequence_ids[i] != 0) continue;
    std::string piece = e.tokens[i];
    if (piece.rfind("\xE2\x96\x81", 0) == 0) piece = piece.substr(3);
    if (piece.empty() || piece == tok.special_tokens().unk_token) continue;
    std::string got = text.substr(e.byte_offsets[i].first, e.byte_offsets[i].second - e.byte_offsets[i].first);
    if (lowercase)
      for (auto& c : got) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(got, piece) << "token " << i << " of: " << text;
  }
}

}  // namespace

TEST(SentencePiece, AlbertLayoutSpecials) {
  BERTKIT_NEED_SHARED("data/sentencepiece/albert-format-german-30k-clean.model");
  auto tok = load_tokenizer(test::shared_path("data/sentencepiece/albert-format-german-30k-clean.model"));
  const auto& s = tok->special_tokens();
  EXPECT_EQ(s.pad, 0);
  EXPECT_EQ(s.unk, 1);
  EXPECT_EQ(s.cls, 2);
  EXPECT_EQ(s.sep, 3);
  EXPECT_EQ(s.mask, 4);
  EXPECT_EQ(tok->vocab_size(), 30000u);
  std::string text = "Die Katze schläft auf dem Sofa.";
  Encoding e = tok->encode(text, std::string_view("Der Hund bellt."));
  EXPECT_EQ(e.ids.front(), 2);
  EXPECT_EQ(e.ids.back(), 3);
  EXPECT_EQ(e.type_ids.back(), 1);
  EXPECT_EQ(e.type_ids.front(), 0);
  expect_offsets_match_pieces(*tok, text, e, false);
  EXPECT_EQ(tok->decode(e.ids, true), "Die Katze schläft auf dem Sofa. Der Hund bellt.");
  // [MASK] in the text is one token.
  Encoding m = tok->encode("Die [MASK] schläft.");
  EXPECT_NE(std::find(m.ids.begin(), m.ids.end(), 4), m.ids.end());
}

TEST(SentencePiece, XlnetAndTestModels) {
  BERTKIT_NEED_SHARED("data/sentencepiece/xlnet-base-cased-spiece.model");
  auto x = load_tokenizer(test::shared_path("data/sentencepiece/xlnet-base-cased-spiece.model"));
  EXPECT_EQ(x->special_tokens().cls, 3);
  EXPECT_EQ(x->special_tokens().sep, 4);
  EXPECT_EQ(x->special_tokens().pad, 5);
  EXPECT_EQ(x->special_tokens().mask, 6);
  std::string text = "Hello world, this is XLNet's vocabulary.";
  Encoding e = x->encode(text);
  expect_offsets_match_pieces(*x, text, e, false);
  EXPECT_EQ(x->decode(e.ids), text);
  // Word ids: a new word starts at each "▁" piece.
  EXPECT_EQ(e.word_ids[1], 0);
  EXPECT_EQ(e.word_ids[e.size() - 2], e.word_ids[e.size() - 3]);  // "." continues "vocabulary"

  auto t = load_tokenizer(test::shared_path("data/sentencepiece/test_model.model"));
  EXPECT_EQ(t->special_tokens().cls, 1);  // <s>
  EXPECT_EQ(t->special_tokens().sep, 2);  // </s>
  EncodeOptions opt;
  opt.max_length = 8;
  opt.truncation = Truncation::LongestFirst;
  opt.return_overflowing = true;
  opt.stride = 2;
  Encoding w = t->encode("I saw a girl with a telescope and she saw me too.", std::nullopt, opt);
  EXPECT_EQ(w.size(), 8u);
  EXPECT_FALSE(w.overflowing.empty());
}

TEST(SentencePiece, JapaneseTestModelOffsets) {
  BERTKIT_NEED_SHARED("data/sentencepiece/test_ja_model.model");
  auto tok = load_tokenizer(test::shared_path("data/sentencepiece/test_ja_model.model"));
  std::string text = "吾輩は猫である。名前はまだ無い。";
  Encoding e = tok->encode(text);
  expect_offsets_match_pieces(*tok, text, e, false);
  // Code-point offsets: the last real token ends at the 16th character.
  EXPECT_EQ(e.offsets[e.size() - 2].second, 16u);
  EXPECT_EQ(e.byte_offsets[e.size() - 2].second, text.size());
  EXPECT_EQ(tok->decode(e.ids), text);
}

TEST(SentencePiece, TrainUnigramAndBpeWithUserSymbols) {
  BERTKIT_NEED_SHARED("data/sentencepiece/botchan.txt");
  std::string dir = test::make_temp_dir("bertkit-spm");
  for (const char* type : {"unigram", "bpe"}) {
    SentencePieceTrainOptions o;
    o.inputs = {test::shared_path("data/sentencepiece/botchan.txt")};
    o.model_prefix = dir + "/" + type;
    o.vocab_size = 600;
    o.model_type = type;
    o.character_coverage = 1.0;
    o.user_defined_symbols = {"<ent>"};
    o.threads = 1;
    std::string model = train_sentencepiece(o);
    SentencePieceTokenizer tok(model);
    EXPECT_EQ(tok.vocab_size(), 600u) << type;
    EXPECT_EQ(tok.special_tokens().pad, 0);
    EXPECT_EQ(tok.special_tokens().unk, 1);
    EXPECT_EQ(tok.special_tokens().cls, 2);
    EXPECT_EQ(tok.special_tokens().sep, 3);
    EXPECT_EQ(tok.special_tokens().mask, 4);
    auto tokens = tok.tokenize("the <ent> was here");
    EXPECT_NE(std::find(tokens.begin(), tokens.end(), "<ent>"), tokens.end()) << type;
    tok.save(dir + "/saved-" + type);
    auto again = load_tokenizer(dir + "/saved-" + type);
    EXPECT_EQ(again->encode("I am a cat.").ids, tok.encode("I am a cat.").ids);
  }
  SentencePieceTrainOptions bad;
  bad.inputs = {dir + "/missing.txt"};
  bad.model_prefix = dir + "/x";
  EXPECT_THROW(train_sentencepiece(bad), InputError);
}

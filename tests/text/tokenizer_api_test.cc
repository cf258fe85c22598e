// The Encoding API: pairs, truncation windows, padding, word ids, byte
// offsets, decode, files. Expectations are hand-derived from HF's documented
// semantics of tokenizers <= 0.22 (windows to the end of the text), which no
// installable HF tokenizers reproduces any more (npm has 0.23.2, with the early
// exit); HF 0.23.2's own windows are the fixture of hf_windows_fixture_test.cc.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/tokenizers/wordpiece.h"
#include "test_util.h"

using namespace bertkit;

namespace {

const char* kUncased = "data/bert-vocab/bert-base-uncased-vocab.txt";

std::unique_ptr<Tokenizer> uncased() { return load_tokenizer(test::shared_path(kUncased)); }


}  // namespace

TEST(TokenizerApi, SingleTextWindowsWithStride) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  EncodeOptions opt;
  opt.max_length = 9;
  opt.truncation = Truncation::LongestFirst;
  opt.stride = 2;
  opt.return_overflowing = true;
  // 16 tokens; 7 per window (9 - [CLS] - [SEP]), windows start every 7 - 2 = 5 tokens.
  Encoding e = tok->encode("The quick brown fox jumps over the lazy dog while Shakespeare wrote plays in London.",
                           std::nullopt, opt);
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "the", "quick", "brown", "fox", "jumps", "over", "the", "[SEP]"}));
  ASSERT_EQ(e.overflowing.size(), 2u);
  EXPECT_EQ(e.overflowing[0].tokens,
            (std::vector<std::string>{"[CLS]", "over", "the", "lazy", "dog", "while", "shakespeare", "wrote", "[SEP]"}));
  EXPECT_EQ(e.overflowing[1].tokens,
            (std::vector<std::string>{"[CLS]", "shakespeare", "wrote", "plays", "in", "london", ".", "[SEP]"}));
  // Offsets stay in the original text: "shakespeare" is characters 50..61.
  EXPECT_EQ(e.overflowing[1].offsets[1], (Offset{50, 61}));
  EXPECT_EQ(e.overflowing[1].word_ids[1], 10);
}

TEST(TokenizerApi, QuestionContextOnlySecondWindows) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  EncodeOptions opt;
  opt.max_length = 16;
  opt.truncation = Truncation::OnlySecond;
  opt.stride = 3;
  opt.return_overflowing = true;
  std::string q = "Who wrote it?";
  std::string c = "The quick brown fox jumps over the lazy dog while Shakespeare wrote plays in London.";
  Encoding e = tok->encode(q, std::string_view(c), opt);
  // 16 - 4 question tokens - 3 specials = 9 context tokens a window, every 9 - 3 = 6 tokens.
  std::vector<std::string> head = {"[CLS]", "who", "wrote", "it", "?", "[SEP]"};
  auto with = [&](std::vector<std::string> ctx) {
    std::vector<std::string> v = head;
    v.insert(v.end(), ctx.begin(), ctx.end());
    v.push_back("[SEP]");
    return v;
  };
  EXPECT_EQ(e.tokens, with({"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"}));
  ASSERT_EQ(e.overflowing.size(), 2u);
  EXPECT_EQ(e.overflowing[0].tokens, with({"the", "lazy", "dog", "while", "shakespeare", "wrote", "plays", "in", "london"}));
  EXPECT_EQ(e.overflowing[1].tokens, with({"plays", "in", "london", "."}));
  const Encoding& w = e.overflowing[1];
  EXPECT_EQ(w.type_ids, (std::vector<int32_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(w.sequence_ids, (std::vector<int32_t>{-1, 0, 0, 0, 0, -1, 1, 1, 1, 1, -1}));
  EXPECT_EQ(w.offsets[6], (Offset{68, 73}));  // "plays" in the context
  EXPECT_EQ(w.offsets[9], (Offset{83, 84}));  // "."
  EXPECT_EQ(w.special_tokens_mask, (std::vector<int32_t>{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(w.word_ids[6], 12);  // the(0) quick brown fox jumps over the lazy dog while shakespeare wrote plays(12)
}

TEST(TokenizerApi, LongestFirstPairSplitsTheBudget) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  EncodeOptions opt;
  opt.max_length = 10;  // 7 tokens for the two texts
  opt.truncation = Truncation::LongestFirst;
  // Both longer than 7/2: the longer text (first here) gets 4, the other 3.
  Encoding e = tok->encode("one two three four five six", std::string_view("a b c d e"), opt);
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "one", "two", "three", "four", "[SEP]", "a", "b", "c", "[SEP]"}));
  // Short first text: the second takes what is left.
  e = tok->encode("one", std::string_view("a b c d e f g h"), opt);
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "one", "[SEP]", "a", "b", "c", "d", "e", "f", "[SEP]"}));
  EXPECT_EQ(e.type_ids, (std::vector<int32_t>{0, 0, 0, 1, 1, 1, 1, 1, 1, 1}));
  opt.truncation = Truncation::OnlyFirst;
  EXPECT_THROW(tok->encode("one", std::string_view("a b c d e f g h"), opt), InputError);
}

TEST(TokenizerApi, PaddingAndMultiple) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  EncodeOptions opt;
  opt.padding = Padding::Longest;
  opt.pad_to_multiple_of = 8;
  auto batch = tok->encode_batch({"hello world", "a much longer sentence with more words"}, nullptr, opt, 2);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].size(), 16u);  // longest has 9 tokens -> 16
  EXPECT_EQ(batch[1].size(), 16u);
  EXPECT_EQ(batch[0].ids[4], 0);
  EXPECT_EQ(batch[0].tokens[4], "[PAD]");
  EXPECT_EQ(batch[0].attention_mask, (std::vector<int32_t>{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(batch[0].special_tokens_mask[0], 1);
  EXPECT_EQ(batch[0].special_tokens_mask[1], 0);
  EXPECT_EQ(batch[0].word_ids[5], -1);
  opt.padding = Padding::MaxLength;
  opt.pad_to_multiple_of = 0;
  opt.max_length = 6;
  Encoding e = tok->encode("hello", std::nullopt, opt);
  EXPECT_EQ(e.ids, (std::vector<int32_t>{101, 7592, 102, 0, 0, 0}));
}

TEST(TokenizerApi, ByteAndCodePointOffsets) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  // "é" is 2 bytes, 1 code point; "東" 3 bytes.
  Encoding e = tok->encode("café 東京", std::nullopt, {});
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "cafe", "東", "京", "[SEP]"}));
  EXPECT_EQ(e.offsets[1], (Offset{0, 4}));
  EXPECT_EQ(e.byte_offsets[1], (Offset{0, 5}));
  EXPECT_EQ(e.offsets[2], (Offset{5, 6}));
  EXPECT_EQ(e.byte_offsets[2], (Offset{6, 9}));
  EXPECT_EQ(e.byte_offsets[3], (Offset{9, 12}));
  EXPECT_EQ(e.word_ids, (std::vector<int32_t>{-1, 0, 1, 2, -1}));
}

TEST(TokenizerApi, SpecialTokensInTextAreNotSplit) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  Encoding e = tok->encode("the [MASK] is[SEP]", std::nullopt, {});
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "the", "[MASK]", "is", "[SEP]", "[SEP]"}));
  EXPECT_EQ(e.offsets[2], (Offset{4, 10}));
  EXPECT_EQ(e.word_ids[2], 1);
  EXPECT_EQ(e.word_ids[3], 2);
  EXPECT_EQ(e.offsets[4], (Offset{13, 18}));
}

TEST(TokenizerApi, EncodeWordsLikeIsSplitIntoWords) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  Encoding e = tok->encode_words({"EU", "rejects", "German", "call", "don't"});
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "eu", "rejects", "german", "call", "don", "'", "t", "[SEP]"}));
  EXPECT_EQ(e.word_ids, (std::vector<int32_t>{-1, 0, 1, 2, 3, 4, 4, 4, -1}));
  // Offsets are within each word's own text.
  EXPECT_EQ(e.offsets[2], (Offset{0, 7}));
  EXPECT_EQ(e.offsets[6], (Offset{3, 4}));
}

TEST(TokenizerApi, DecodeJoinsPiecesAndCleansSpaces) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  Encoding e = tok->encode("The laughable film, isn't it?", std::nullopt, {});
  // tokenizers' decoder cleans per token (" ," -> ","), so "isn ' t" keeps its spaces
  // unless clean_up_tokenization_spaces (transformers, whole string) is on.
  EXPECT_EQ(tok->decode(e.ids, true), "the laughable film, isn ' t it?");
  EXPECT_EQ(tok->decode(e.ids, false), "[CLS] the laughable film, isn ' t it? [SEP]");
  auto wp = WordPieceTokenizer::from_vocab_file(test::shared_path(kUncased));
  WordPieceConfig cfg = wp->config();
  cfg.clean_up_tokenization_spaces = true;
  WordPieceTokenizer cleaned(wp->model().vocab(), cfg);
  EXPECT_EQ(cleaned.decode(e.ids, true), "the laughable film, isn't it?");
  EXPECT_TRUE(tok->is_continuation(tok->token_to_id("##able")));
  EXPECT_FALSE(tok->is_continuation(tok->token_to_id("laugh")));
}

TEST(TokenizerApi, SpecialTokenIds) {
  BERTKIT_NEED_SHARED(kUncased);
  auto tok = uncased();
  const SpecialTokens& s = tok->special_tokens();
  EXPECT_EQ(s.pad, 0);
  EXPECT_EQ(s.unk, 100);
  EXPECT_EQ(s.cls, 101);
  EXPECT_EQ(s.sep, 102);
  EXPECT_EQ(s.mask, 103);
  EXPECT_EQ(tok->vocab_size(), 30522u);
  EXPECT_EQ(tok->model_max_length(), 512u);
  EXPECT_EQ(tok->token_to_id("nonexistenttoken"), -1);
}

TEST(TokenizerApi, LoadsTransformers5Directory) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/ner/tokenizer.json");
  auto dir_tok = load_tokenizer(test::shared_path("fixtures/pipelines/ner"));
  auto vocab_tok = uncased();
  EXPECT_EQ(dir_tok->vocab_size(), vocab_tok->vocab_size());
  std::string text = "Hugging Face Inc. is a company based in New York City. Its headquarters are in DUMBO.";
  EXPECT_EQ(dir_tok->encode(text).ids, vocab_tok->encode(text).ids);
  EXPECT_EQ(dir_tok->encode(text).offsets, vocab_tok->encode(text).offsets);
  EXPECT_EQ(dir_tok->encode("a", std::string_view("b")).type_ids, (std::vector<int32_t>{0, 0, 0, 1, 1}));
}

TEST(TokenizerApi, SaveThenLoadGivesTheSameTokenizer) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-cased-vocab.txt");
  auto tok = WordPieceTokenizer::from_vocab_file(test::shared_path("data/bert-vocab/bert-base-cased-vocab.txt"));
  BertNormalizerOptions n;
  n.lowercase = false;
  tok->set_normalizer(n);
  std::string dir = test::make_temp_dir("bertkit-tok-save");
  tok->save(dir);
  for (const char* f : {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"})
    EXPECT_TRUE(test::path_exists(dir + "/" + f)) << f;
  auto cfg = nlohmann::json::parse(std::ifstream(dir + "/tokenizer_config.json"));
  EXPECT_EQ(cfg["do_lower_case"], false);
  auto tj = nlohmann::json::parse(std::ifstream(dir + "/tokenizer.json"));
  EXPECT_EQ(tj["normalizer"]["lowercase"], false);
  EXPECT_EQ(tj["model"]["vocab"]["[CLS]"], 101);
  std::string text = "Héllo Wörld, the CASED vocabulary [MASK]!";
  auto from_json = load_tokenizer(dir);  // tokenizer.json preferred
  auto from_vocab = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt", dir + "/tokenizer_config.json");
  Encoding want = tok->encode(text);
  EXPECT_EQ(from_json->encode(text).tokens, want.tokens);
  EXPECT_EQ(from_json->encode(text).offsets, want.offsets);
  EXPECT_EQ(from_vocab->encode(text).tokens, want.tokens);
  EXPECT_EQ(want.tokens[1], "H");  // cased: no lowercasing, no accent stripping
}

TEST(TokenizerApi, BadInputsNameThePath) {
  try {
    load_tokenizer("/nonexistent/dir/vocab.txt");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/vocab.txt"), std::string::npos);
  }
  std::string dir = test::make_temp_dir("bertkit-tok-bad");
  std::ofstream(dir + "/tokenizer.json") << "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}";
  EXPECT_THROW(load_tokenizer(dir), InputError);
}

TEST(TokenizerApi, StripAccentsIsIndependentOfLowercase) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-cased-vocab.txt");
  auto tok = WordPieceTokenizer::from_vocab_file(test::shared_path("data/bert-vocab/bert-base-cased-vocab.txt"));
  BertNormalizerOptions n;
  n.lowercase = false;
  n.strip_accents = true;  // cased, but accents stripped
  tok->set_normalizer(n);
  EXPECT_EQ(tok->tokenize("Héllo"), (std::vector<std::string>{"Hello"}));
  n.strip_accents.reset();  // null: follows lowercase (false) -> keep accents
  tok->set_normalizer(n);
  EXPECT_NE(tok->tokenize("Héllo"), (std::vector<std::string>{"Hello"}));
  n.lowercase = true;
  n.strip_accents = false;  // lowercase but keep accents: "é" stays
  tok->set_normalizer(n);
  auto t = tok->tokenize("Café");
  EXPECT_EQ(t.front().substr(0, 3), "caf");
  EXPECT_NE(t, (std::vector<std::string>{"cafe"}));
  n.strip_accents = true;
  tok->set_normalizer(n);
  EXPECT_EQ(tok->tokenize("Café"), (std::vector<std::string>{"cafe"}));
}

TEST(TokenizerApi, BatchOnThreadsEqualsOneByOne) {
  BERTKIT_NEED_SHARED("data/corpus/tinyshakespeare.txt");
  auto tok = uncased();
  std::ifstream in(test::shared_path("data/corpus/tinyshakespeare.txt"));
  std::vector<std::string> lines, pairs;
  std::string line;
  while (std::getline(in, line) && lines.size() < 3000)
    if (!line.empty()) lines.push_back(line);
  pairs.assign(lines.rbegin(), lines.rend());
  EncodeOptions opt;
  opt.max_length = 24;
  opt.truncation = Truncation::LongestFirst;
  opt.stride = 4;
  opt.return_overflowing = true;
  auto batch = tok->encode_batch(lines, &pairs, opt, 4);
  ASSERT_EQ(batch.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Encoding one = tok->encode(lines[i], std::string_view(pairs[i]), opt);
    ASSERT_EQ(batch[i].ids, one.ids) << i;
    ASSERT_EQ(batch[i].offsets, one.offsets) << i;
    ASSERT_EQ(batch[i].overflowing.size(), one.overflowing.size()) << i;
  }
  // Bad pairs count is an input error.
  std::vector<std::string> short_pairs = {"x"};
  EXPECT_THROW(tok->encode_batch(lines, &short_pairs, opt, 2), InputError);
}

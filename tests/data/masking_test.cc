// Batch-time MLM masking: rates, specials, whole words, caps, determinism.
#include <map>
#include <random>
#include <set>

#include "bertkit/data/masking.h"
#include "test_util.h"

using namespace bertkit;

namespace {
// A made-up vocabulary of 1000 ids: 0 [PAD], 1 [CLS], 2 [SEP], 3 [MASK];
// ids 500..999 are "##" continuation pieces.
MaskingVocab toy_vocab() {
  MaskingVocab v;
  v.mask_id = 3;
  v.vocab_size = 1000;
  v.is_special.assign(1000, 0);
  v.is_continuation.assign(1000, 0);
  v.is_special[0] = v.is_special[1] = v.is_special[2] = v.is_special[3] = 1;
  for (int i = 500; i < 1000; ++i) v.is_continuation[i] = 1;
  return v;
}
// [CLS] w w w ... [SEP] [PAD] x 8, words from 10..499.
std::vector<int32_t> toy_sequence(std::mt19937_64& rng, int n_words, bool with_pieces) {
  std::vector<int32_t> s{1};
  for (int i = 0; i < n_words; ++i) {
    s.push_back(10 + static_cast<int32_t>(rng() % 490));
    if (with_pieces) {
      int pieces = static_cast<int>(rng() % 3);
      for (int p = 0; p < pieces; ++p) s.push_back(500 + static_cast<int32_t>(rng() % 500));
    }
  }
  s.push_back(2);
  return s;
}
}  // namespace

TEST(Masking, RatesMatchTheConfiguredProbabilities) {
  auto vocab = toy_vocab();
  MaskingOptions o;  // 0.15, 80/10/10
  std::mt19937_64 data_rng(1);
  int64_t maskable = 0, predicted = 0, to_mask = 0, to_random = 0, kept = 0;
  for (int seq = 0; seq < 2000; ++seq) {
    auto ids = toy_sequence(data_rng, 100, false);  // 100 maskable tokens: exactly 15 predictions
    auto original = ids;
    std::vector<int64_t> labels;
    std::mt19937_64 rng(mix_seed(7, seq));
    int64_t n = mask_sequence(ids, labels, ids.size(), vocab, o, rng);
    EXPECT_EQ(n, 15);
    maskable += 100;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (labels[i] == -100) {
        EXPECT_EQ(ids[i], original[i]) << "an unpredicted token changed";
        continue;
      }
      ++predicted;
      EXPECT_EQ(labels[i], original[i]);
      if (ids[i] == 3) ++to_mask;
      else if (ids[i] == original[i]) ++kept;
      else ++to_random;
    }
  }
  EXPECT_NEAR(static_cast<double>(predicted) / maskable, 0.15, 1e-12);
  // 30000 predictions: binomial standard deviations ~0.0023 (80%) and ~0.0017 (10%).
  EXPECT_NEAR(static_cast<double>(to_mask) / predicted, 0.8, 0.01);
  // Random replacement can draw the original id (1 in 1000): "kept" is 10% + ~0.01%.
  EXPECT_NEAR(static_cast<double>(to_random) / predicted, 0.1, 0.008);
  EXPECT_NEAR(static_cast<double>(kept) / predicted, 0.1, 0.008);
}

TEST(Masking, ConfigurableSplitAndRoundedCount) {
  auto vocab = toy_vocab();
  MaskingOptions o;
  o.mlm_probability = 0.3;
  o.mask_token_probability = 1.0;
  o.random_token_probability = 0.0;
  std::mt19937_64 data_rng(2);
  auto ids = toy_sequence(data_rng, 10, false);  // 10 maskable: round(3.0) = 3
  std::vector<int64_t> labels;
  std::mt19937_64 rng(3);
  EXPECT_EQ(mask_sequence(ids, labels, ids.size(), vocab, o, rng), 3);
  int masks = 0;
  for (auto id : ids) masks += id == 3;
  EXPECT_EQ(masks, 3);
  // Never fewer than one prediction when something is maskable: 3 tokens x 0.15 = 0.45 -> 1.
  o.mlm_probability = 0.15;
  std::vector<int32_t> short_seq{1, 20, 21, 22, 2};
  EXPECT_EQ(mask_sequence(short_seq, labels, short_seq.size(), vocab, o, rng), 1);
}

TEST(Masking, SpecialsAndPaddingAreNeverMasked) {
  auto vocab = toy_vocab();
  MaskingOptions o;
  o.mlm_probability = 1.0;  // everything maskable is predicted
  std::mt19937_64 data_rng(4);
  for (int seq = 0; seq < 200; ++seq) {
    auto ids = toy_sequence(data_rng, 20, true);
    std::size_t length = ids.size();
    for (int p = 0; p < 8; ++p) ids.push_back(0);  // padding after the real tokens
    auto original = ids;
    std::vector<int64_t> labels;
    std::mt19937_64 rng(seq);
    int64_t n = mask_sequence(ids, labels, length, vocab, o, rng);
    EXPECT_EQ(n, static_cast<int64_t>(length) - 2);  // all but [CLS] and [SEP]
    EXPECT_EQ(labels.front(), -100);                // [CLS]
    EXPECT_EQ(labels[length - 1], -100);            // [SEP]
    EXPECT_EQ(ids.front(), 1);
    EXPECT_EQ(ids[length - 1], 2);
    for (std::size_t i = length; i < ids.size(); ++i) {
      EXPECT_EQ(labels[i], -100);
      EXPECT_EQ(ids[i], 0);
    }
  }
}

TEST(Masking, WholeWordsAreMaskedTogether) {
  auto vocab = toy_vocab();
  MaskingOptions o;
  o.whole_word_masking = true;
  std::mt19937_64 data_rng(5);
  int64_t words_with_pieces_predicted = 0;
  for (int seq = 0; seq < 500; ++seq) {
    auto ids = toy_sequence(data_rng, 40, true);
    auto original = ids;
    std::vector<int64_t> labels;
    std::mt19937_64 rng(mix_seed(9, seq));
    mask_sequence(ids, labels, ids.size(), vocab, o, rng);
    // Walk words: a word starts at a non-continuation token; all its tokens share one fate.
    for (std::size_t i = 1; i + 1 < original.size();) {
      std::size_t j = i + 1;
      while (j + 1 < original.size() && original[j] >= 500) ++j;
      bool first = labels[i] != -100;
      for (std::size_t k = i; k < j; ++k) EXPECT_EQ(labels[k] != -100, first) << "word split at " << k;
      if (first && j - i > 1) ++words_with_pieces_predicted;
      i = j;
    }
  }
  EXPECT_GT(words_with_pieces_predicted, 100);  // the property was exercised
}

TEST(Masking, MaxPredictionsPerSequenceCaps) {
  auto vocab = toy_vocab();
  MaskingOptions o;
  o.max_predictions_per_seq = 5;
  std::mt19937_64 data_rng(6);
  auto ids = toy_sequence(data_rng, 200, false);  // 0.15 x 200 = 30 > 5
  std::vector<int64_t> labels;
  std::mt19937_64 rng(1);
  EXPECT_EQ(mask_sequence(ids, labels, ids.size(), vocab, o, rng), 5);
  int64_t n = 0;
  for (auto l : labels) n += l != -100;
  EXPECT_EQ(n, 5);
}

TEST(Masking, DeterministicForASeedAndDifferentAcrossSeeds) {
  auto vocab = toy_vocab();
  MaskingOptions o;
  std::mt19937_64 data_rng(7);
  auto base = toy_sequence(data_rng, 100, true);
  auto run = [&](uint64_t seed) {
    auto ids = base;
    std::vector<int64_t> labels;
    std::mt19937_64 rng(seed);
    mask_sequence(ids, labels, ids.size(), vocab, o, rng);
    return std::make_pair(ids, labels);
  };
  EXPECT_EQ(run(mix_seed(42, 3)), run(mix_seed(42, 3)));
  EXPECT_NE(run(mix_seed(42, 3)).second, run(mix_seed(42, 4)).second);
}

TEST(Masking, OptionsValidationNamesTheKey) {
  MaskingOptions o;
  o.mask_token_probability = 0.9;
  o.random_token_probability = 0.2;
  try {
    o.validate("task");
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("task: mask_token_probability + random_token_probability"), std::string::npos)
        << e.what();
  }
  o = MaskingOptions{};
  o.mlm_probability = 1.5;
  EXPECT_THROW(o.validate("task"), std::exception);
}

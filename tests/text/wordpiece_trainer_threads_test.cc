// WordPiece vocabulary training is deterministic: the words are counted on
// several threads, but the vocabulary must not depend on how many, nor vary
// between two runs (quickstart/prepare users expect byte-identical output).
#include <gtest/gtest.h>

#include "bertkit/tokenizers/trainer.h"
#include "test_util.h"

using namespace bertkit;

TEST(WordPieceTrainer, SameVocabularyForAnyThreadCountAndTwice) {
  BERTKIT_NEED_SHARED("data/sentencepiece/botchan.txt");
  WordPieceTrainOptions o;
  o.inputs = {test::shared_path("data/sentencepiece/botchan.txt")};
  o.vocab_size = 1500;
  o.threads = 1;
  const auto one = train_wordpiece(o);
  ASSERT_EQ(one.vocab.size(), 1500u);
  ASSERT_GT(one.merges, 0u);
  for (unsigned threads : {2u, 5u, 5u}) {
    o.threads = threads;
    const auto r = train_wordpiece(o);
    EXPECT_EQ(r.word_occurrences, one.word_occurrences) << threads << " threads";
    EXPECT_EQ(r.words, one.words) << threads << " threads";
    EXPECT_EQ(r.merges, one.merges) << threads << " threads";
    ASSERT_EQ(r.vocab.size(), one.vocab.size()) << threads << " threads";
    for (std::size_t i = 0; i < r.vocab.size(); ++i)
      ASSERT_EQ(r.vocab[i], one.vocab[i]) << "entry " << i << " with " << threads << " threads";
  }
}

// WordPiece vocabulary training, as HF tokenizers' BertWordPieceTokenizer.train
// (WordPieceTrainer = a BPE trainer with the "##" continuing-subword prefix):
// special tokens first, then the alphabet (at most limit_alphabet characters,
// the most frequent), then "##"-continuation characters, then merges of the
// most frequent adjacent pair (ties: the pair of lowest ids) until vocab_size
// tokens or a pair occurs fewer than min_frequency times.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bertkit/tokenizers/wordpiece.h"

namespace bertkit {

struct WordPieceTrainOptions {
  std::vector<std::string> inputs;  // text files, one text a line
  std::size_t vocab_size = 30000;
  uint64_t min_frequency = 2;
  std::size_t limit_alphabet = 1000;
  std::vector<std::string> special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::vector<std::string> initial_alphabet;  // characters always kept
  std::string prefix = "##";
  BertNormalizerOptions normalizer;  // lowercase, strip_accents, clean_text, CJK
  unsigned threads = 0;              // counting words; 0: all cores
};

struct WordPieceTrainResult {
  std::vector<std::string> vocab;  // id order
  std::size_t words = 0;           // distinct words counted
  uint64_t word_occurrences = 0;
  std::size_t merges = 0;
};

// Count words over the inputs and learn the vocabulary.
WordPieceTrainResult train_wordpiece(const WordPieceTrainOptions& options);
// The same from already counted words (word -> count), e.g. for tests.
WordPieceTrainResult train_wordpiece_from_counts(const std::vector<std::pair<std::string, uint64_t>>& counts,
                                                 const WordPieceTrainOptions& options);

}  // namespace bertkit

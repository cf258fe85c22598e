// Masked-language-model masking at batch time (BERT's create_pretraining_data
// rules): choose round(n * mlm_probability) of the n maskable tokens (at least
// 1, at most max_predictions_per_seq), as whole words when whole_word_masking
// is on (a word = a token plus the "##" continuation pieces after it); of the
// chosen tokens replace mask_token_probability with [MASK],
// random_token_probability with a random id, and keep the rest.
// Special tokens and padding are never chosen. Deterministic for an RNG state.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace bertkit {

class Tokenizer;

struct MaskingOptions {
  double mlm_probability = 0.15;
  double mask_token_probability = 0.8;   // of the chosen tokens, -> [MASK]
  double random_token_probability = 0.1; // of the chosen tokens, -> a random id (the rest stay)
  bool whole_word_masking = false;
  int64_t max_predictions_per_seq = 0;   // 0: no cap
  void validate(const std::string& where) const;  // InputError naming the key
};

// What masking needs to know about the vocabulary.
struct MaskingVocab {
  int32_t mask_id = -1;
  int64_t vocab_size = 0;
  std::vector<uint8_t> is_special;       // by id: never masked ([CLS], [SEP], [PAD], ...)
  std::vector<uint8_t> is_continuation;  // by id: continues the previous token's word ("##x")
  // From a tokenizer: specials are its special tokens; continuation from is_continuation().
  static MaskingVocab from_tokenizer(const Tokenizer& tokenizer);
};

// Mask `ids` in place (only positions with attention 1, i.e. the first
// `length` entries). labels[i] becomes the original id where a prediction is
// made, else -100. Returns the number of predictions.
int64_t mask_sequence(std::vector<int32_t>& ids, std::vector<int64_t>& labels, std::size_t length,
                      const MaskingVocab& vocab, const MaskingOptions& options, std::mt19937_64& rng);

// A 64-bit mix of several values (splitmix64), to derive independent seeds
// from (run seed, step, example).
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0);

}  // namespace bertkit

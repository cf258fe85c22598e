// NER datasets in CoNLL format and their alignment to sub-tokens.
//   token [middle columns ...] tag     (tab- or space-separated)
//   blank line between sentences; -DOCSTART- lines skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit {

enum class TagScheme { Auto, IOB1, IOB2 };
// "auto" | "iob1" | "iob2"
TagScheme parse_tag_scheme(const std::string& s);

struct ConllReadOptions {
  int tag_column = -1;               // 0-based column of the tag; -1: the last column
  TagScheme scheme = TagScheme::Auto;  // Auto: IOB1 when the tags look like IOB1, converted to IOB2
  bool labelled = true;              // false: one token per line is accepted (tags left empty)
};

struct TaggedSentence {
  std::vector<std::string> words;
  std::vector<std::string> tags;  // IOB2 after reading (empty when unlabelled)
  std::size_t line = 0;           // 1-based line of the first word
};

std::vector<TaggedSentence> read_conll(const std::string& path, const ConllReadOptions& options = {});

// IOB1 (I- starts an entity unless it continues one of the same type; B- only
// between two adjacent entities of one type) -> IOB2 (every entity starts with B-).
std::vector<std::string> iob1_to_iob2(const std::vector<std::string>& tags);
// True when some entity starts with I- and every B- follows a tag of its own type.
bool looks_like_iob1(const std::vector<TaggedSentence>& sentences);

// The label list of a tag set, ordered as HF's run_ner does for CoNLL-2003:
// "O" first, then sorted.
std::vector<std::string> collect_tags(const std::vector<TaggedSentence>& sentences);

struct NerFeatureOptions {
  std::size_t max_seq_length = 128;
  bool label_all_tokens = false;  // label every sub-token (B- continued as I-), not only the first
};

// One model input window of a sentence.
struct NerFeature {
  std::size_t sentence = 0;
  std::vector<int32_t> input_ids;
  std::vector<int32_t> labels;       // -100 where not scored (specials, non-first sub-tokens)
  std::vector<int32_t> word_index;   // per token: word of the sentence, -1 for specials
  std::vector<uint8_t> first_of_word;
};

// Tokenise `words`, label the first sub-token of each word, and split the
// sentence into windows of at most max_seq_length tokens at word boundaries
// (a word longer than a window is split) so no word is lost. `label_ids`
// (one per word) may be empty for unlabelled input; `b_to_i` maps a label id
// to its I- counterpart (for label_all_tokens; may be empty).
std::vector<NerFeature> make_ner_features(const Tokenizer& tokenizer, const std::vector<std::string>& words,
                                          const std::vector<int32_t>& label_ids, const NerFeatureOptions& options,
                                          std::size_t sentence_index = 0,
                                          const std::vector<int32_t>& b_to_i = {});

// Word-level predictions from per-token predictions of a sentence's windows:
// each word takes the label predicted at its first sub-token; a word with no
// sub-token (the tokenizer dropped it) gets `fallback`.
std::vector<int32_t> word_predictions(const std::vector<const NerFeature*>& windows,
                                      const std::vector<std::vector<int32_t>>& token_predictions,
                                      std::size_t num_words, int32_t fallback);

}  // namespace bertkit

// Extractive QA: SQuAD v1.1 / v2.0 JSON, question+context windows with
// answers mapped through offsets, and the n-best post-processing of HF's
// run_qa (utils_qa.postprocess_qa_predictions).
// Character positions are code points of the context, as SQuAD's
// answer_start (a Python string index) counts them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit {

struct SquadAnswer {
  std::string text;
  std::size_t start = 0;  // code points into the context
};

struct SquadExample {
  std::string id, title, question, context;
  std::vector<SquadAnswer> answers;
  bool is_impossible = false;
};

// Read SQuAD v1.1 or v2.0 JSON ({"data":[{"paragraphs":[{"context","qas"}]}]}).
// InputError naming the file and key path when the layout differs.
std::vector<SquadExample> read_squad(const std::string& path);

struct QaFeatureOptions {
  std::size_t max_seq_length = 384;
  std::size_t doc_stride = 128;
  std::size_t max_query_length = 64;  // questions longer than this many tokens are cut
};

struct QaFeature {
  std::size_t example = 0;
  std::vector<int32_t> input_ids, type_ids;
  std::vector<Offset> offsets;          // code points of the context; (0,0) outside it
  std::vector<int32_t> sequence_ids;    // 0 question, 1 context, -1 specials
  std::vector<int32_t> word_ids;
  int64_t start_position = 0, end_position = 0;  // training labels; 0 ([CLS]) when the window lacks the answer
  bool has_answer = false;
};

// Windows of question + context (truncating only the context, overlapping by
// doc_stride tokens). With `answer`, each window is labelled with the answer's
// first/last tokens, or [CLS] when the window does not hold the whole answer.
std::vector<QaFeature> make_qa_features(const Tokenizer& tokenizer, const std::string& question,
                                        const std::string& context, const std::optional<SquadAnswer>& answer,
                                        const QaFeatureOptions& options, std::size_t example_index = 0);

struct QaPostprocessOptions {
  std::size_t n_best_size = 20;
  std::size_t max_answer_length = 30;
  bool version_2_with_negative = false;
  double null_score_diff_threshold = 0.0;
};

struct QaCandidate {
  std::string text;
  std::size_t start = 0, end = 0;  // code points
  double score = 0;                // start_logit + end_logit
  double probability = 0;          // softmax over the n-best
  bool is_null = false;
};

struct QaPrediction {
  std::string text;                // "" = no answer (v2)
  std::size_t start = 0, end = 0;
  double null_score_diff = 0;      // v2: null score - best non-null score
  std::vector<QaCandidate> nbest;
};

// HF run_qa post-processing of one example from its windows' logits.
QaPrediction postprocess_qa(const std::string& context, const std::vector<const QaFeature*>& features,
                            const std::vector<std::vector<float>>& start_logits,
                            const std::vector<std::vector<float>>& end_logits, const QaPostprocessOptions& options);

}  // namespace bertkit

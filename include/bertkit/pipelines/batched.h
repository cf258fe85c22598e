// Batched pipelines: many inputs at once, answers in input order and equal
// (up to float rounding of padded matmuls) to the one-at-a-time functions of
// pipelines.h. Inputs are tokenised first, sorted by length, packed into
// batches whose padded size (sequences x longest) fits a token budget, and
// padded to the longest sequence of their batch. `bertkit predict` and
// `bertkit serve` both run through these functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bertkit/pipelines/pipelines.h"

namespace bertkit::pipelines {

struct BatchingOptions {
  std::size_t max_batch_tokens = 16384;  // padded tokens (sequences x longest) per forward pass
  std::size_t max_batch_size = 0;        // sequences per forward pass; 0: no limit
};

// Indices into `lengths`, grouped into batches: sorted by length (longest
// first, ties in input order); each batch holds as many as fit the budget
// (always at least one).
std::vector<std::vector<std::size_t>> pack_by_token_budget(const std::vector<std::size_t>& lengths,
                                                           const BatchingOptions& options);

// Right-padded model inputs [B, T] of the encodings (T: the longest).
// `token_type_ids` false: all zeros (LoadedModel::token_type_ids).
Batch pad_encodings(const std::vector<const Encoding*>& encodings, int32_t pad_id, bool token_type_ids,
                    torch::Device device);

// A text or a pair of texts.
struct TextInput {
  std::string text;
  std::optional<std::string> text_pair;
};

// Tokenise as the pipelines do: truncated to `max_length` tokens (0: the
// model's limit, min(model_max_length, max_position_embeddings)).
std::size_t model_max_length(const LoadedModel& m);
std::vector<Encoding> encode_inputs(const LoadedModel& m, const std::vector<TextInput>& inputs, std::size_t max_length = 0);

// Logits [N, L] (float32, CPU) of a sequence-classification model, one row per encoding.
torch::Tensor classification_logits(const LoadedModel& m, const std::vector<Encoding>& encodings,
                                    const BatchingOptions& options = {});
std::vector<std::vector<LabelScore>> text_classification(const LoadedModel& m, const std::vector<TextInput>& inputs,
                                                         std::size_t top_k = 0,
                                                         ClassifyFunction fn = ClassifyFunction::Default,
                                                         const BatchingOptions& options = {});

// Token classification of texts with their (untruncated) encodings.
std::vector<std::vector<TokenEntity>> token_classification(const LoadedModel& m, const std::vector<std::string>& texts,
                                                           const std::vector<Encoding>& encodings, Aggregation aggregation,
                                                           const std::vector<std::string>& ignore_labels = {"O"},
                                                           const BatchingOptions& options = {});
std::vector<std::vector<TokenEntity>> token_classification(const LoadedModel& m, const std::vector<std::string>& texts,
                                                           Aggregation aggregation,
                                                           const std::vector<std::string>& ignore_labels = {"O"},
                                                           const BatchingOptions& options = {});

// Embeddings [N, D] float32 of encoded texts (encode_inputs with
// EmbeddingModel::options.max_seq_length); normalised when `normalize`.
torch::Tensor embed_encodings(const EmbeddingModel& m, const std::vector<Encoding>& encodings, bool normalize,
                              const BatchingOptions& options = {});
torch::Tensor embed_batched(const EmbeddingModel& m, const std::vector<std::string>& texts,
                            const BatchingOptions& options = {});

}  // namespace bertkit::pipelines

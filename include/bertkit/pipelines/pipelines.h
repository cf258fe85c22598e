// Inference with the behaviour and output fields of HF transformers'
// pipelines (text-classification, token-classification, question-answering
// from transformers 4.47, fill-mask, feature-extraction) and of
// sentence-transformers' SentenceTransformer.encode.
// Character positions (start/end) are code points of the input text, as
// Python string indices are.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "bertkit/models/bert_model.h"
#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit::pipelines {

// A model directory loaded for inference (eval mode), with its tokenizer.
struct LoadedModel {
  BertPreTrainedModel model;
  std::shared_ptr<Tokenizer> tokenizer;
  torch::Device device = torch::kCPU;
  std::string dir;
  // Whether the tokenizer's model_input_names include token_type_ids, as
  // transformers decides: a tokenizer_config.json naming the generic
  // "TokenizersBackend" / "PreTrainedTokenizerFast" class (transformers 5
  // directories) feeds none, so a pair's second segment gets type 0.
  bool token_type_ids = true;
};
// `dir`: a model directory or a Hub id (resolved through the cache, bertkit/hub/resolve.h).
// `arch` unset: config.json's architectures[0].
LoadedModel load_model(const std::string& dir, std::optional<Architecture> arch = std::nullopt,
                       torch::Device device = torch::kCPU);

// The WordPiece decoder of HF tokenizers (cleanup on): tokens -> text.
std::string decode_tokens(const std::vector<std::string>& tokens);
// tokenizer.decode as transformers does for WordPiece models.
std::string decode_ids(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special_tokens);

// ---- text classification ----
struct LabelScore {
  std::string label;
  double score = 0;
};
enum class ClassifyFunction { Default, Softmax, Sigmoid, None };
ClassifyFunction parse_classify_function(const std::string& s);  // default|softmax|sigmoid|none
// Scores of every label sorted by score (descending), cut to top_k when > 0.
std::vector<LabelScore> text_classification(const LoadedModel& m, const std::string& text,
                                            const std::optional<std::string>& text_pair = std::nullopt,
                                            std::size_t top_k = 0, ClassifyFunction fn = ClassifyFunction::Default);
// The step after the model: one row of logits [L] -> sorted label scores.
std::vector<LabelScore> classification_scores(const LoadedModel& m, const std::vector<float>& logits, std::size_t top_k = 0,
                                              ClassifyFunction fn = ClassifyFunction::Default);

// ---- token classification ----
enum class Aggregation { None, Simple, First, Average, Max };
Aggregation parse_aggregation(const std::string& s);  // none|simple|first|average|max
struct TokenEntity {
  std::string entity;        // label (aggregation none) or entity_group (others)
  double score = 0;
  int64_t index = -1;        // token index (aggregation none only)
  std::string word;
  std::size_t start = 0, end = 0;
};
std::vector<TokenEntity> token_classification(const LoadedModel& m, const std::string& text, Aggregation aggregation,
                                              const std::vector<std::string>& ignore_labels = {"O"});
// The step after the model: the text's encoding `e` and its logits [T, L]
// (float32, CPU, contiguous; rows past e.size() are ignored) -> entities.
std::vector<TokenEntity> token_entities(const LoadedModel& m, const std::string& text, const Encoding& e,
                                        const torch::Tensor& logits, Aggregation aggregation,
                                        const std::vector<std::string>& ignore_labels = {"O"});

// ---- question answering (transformers 4.47's QuestionAnsweringPipeline) ----
struct QaOptions {
  std::size_t top_k = 1;
  int64_t doc_stride = -1;    // -1: min(max_seq_len / 2, 128)
  std::size_t max_answer_len = 15;
  int64_t max_seq_len = -1;   // -1: min(model_max_length, 384)
  bool handle_impossible_answer = false;
  bool align_to_words = true;
  // Windows as HF tokenizers >= 0.23 cut them (EncodeOptions::truncation_early_exit):
  // the context stops being tokenised once it has max_seq_len tokens, so the
  // overflowing windows cover only its start. What transformers 4.47's
  // QuestionAnsweringPipeline gives with tokenizers 0.23.x installed.
  bool hf_tokenizers_early_exit = false;
};
struct QaAnswer {
  double score = 0;
  std::size_t start = 0, end = 0;
  std::string answer;
};
std::vector<QaAnswer> question_answering(const LoadedModel& m, const std::string& question, const std::string& context,
                                         const QaOptions& options = {});

// ---- fill-mask ----
struct MaskFill {
  double score = 0;
  int64_t token = 0;
  std::string token_str, sequence;
};
// One list per [MASK] in the text (InputError when there is none).
std::vector<std::vector<MaskFill>> fill_mask(const LoadedModel& m, const std::string& text, std::size_t top_k = 5);

// ---- embeddings ----
enum class Pooling { Cls, Mean, Max, MeanSqrtLen };
Pooling parse_pooling(const std::string& s);  // cls|mean|max|mean_sqrt_len_tokens
struct EmbeddingOptions {
  std::vector<Pooling> pooling{Pooling::Mean};  // concatenated in this order
  bool normalize = false;
  std::size_t max_seq_length = 0;  // 0: the tokenizer's model_max_length (capped by the model's positions)
};
struct EmbeddingModel {
  LoadedModel base;
  EmbeddingOptions options;
  bool sentence_transformers = false;  // loaded from modules.json
};
// A plain BERT directory (options as given) or a sentence-transformers
// directory (modules.json: Transformer, Pooling, Normalize; options read from
// 1_Pooling/config.json and sentence_bert_config.json; `overrides` win when set).
EmbeddingModel load_embedding_model(const std::string& dir, const std::optional<EmbeddingOptions>& overrides = std::nullopt,
                                    torch::Device device = torch::kCPU);
// [N, D] float32 embeddings, as SentenceTransformer.encode computes them.
torch::Tensor embed(const EmbeddingModel& m, const std::vector<std::string>& texts, std::size_t batch_size = 32);
// Cosine similarity matrix [N, M] of two embedding sets.
torch::Tensor cosine_similarity_matrix(const torch::Tensor& a, const torch::Tensor& b);

// JSON renderings with the pipelines' field names.
nlohmann::json to_json(const std::vector<LabelScore>& v);
nlohmann::json to_json(const std::vector<TokenEntity>& v, Aggregation aggregation);
nlohmann::json to_json(const std::vector<QaAnswer>& v);   // one object when v has one answer
nlohmann::json to_json(const std::vector<std::vector<MaskFill>>& v);  // one list when one mask

}  // namespace bertkit::pipelines

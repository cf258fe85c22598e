// BertConfig: HF's config.json for BERT, every field, validated.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bertkit {

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";  // gelu, gelu_new, gelu_pytorch_tanh, relu, silu/swish, tanh, ...
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;
  // "absolute" (learned, HF) or "sinusoidal" (bertkit's fixed sin/cos table,
  // the original Transformer formula; not a value HF knows).
  std::string position_embedding_type = "absolute";
  std::optional<double> classifier_dropout;
  int64_t num_labels = 2;
  std::map<int64_t, std::string> id2label;  // default LABEL_0..LABEL_{n-1}
  std::map<std::string, int64_t> label2id;
  std::string problem_type;  // "", single_label_classification, multi_label_classification, regression
  std::vector<std::string> architectures;
  std::string model_type = "bert";
  // Every key of config.json we do not model, kept verbatim so a round trip loses nothing.
  nlohmann::json extra = nlohmann::json::object();

  // Parse config.json contents; `where` (a path) is named in errors.
  static BertConfig from_json(const nlohmann::json& j, const std::string& where = "config.json");
  static BertConfig load(const std::string& path);  // a config.json path
  nlohmann::json to_json() const;
  void save(const std::string& path) const;  // atomic
  // Throws InputError naming the key when inconsistent (hidden_size % heads, ...).
  void validate(const std::string& where = "config.json") const;
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // Set num_labels and reset id2label/label2id to LABEL_0..LABEL_{n-1}
  // (kept when they already have n labels).
  void set_num_labels(int64_t n);
  // HF's tie_word_embeddings (kept in `extra`; default true).
  bool tie_word_embeddings() const;
};

}  // namespace bertkit

#include "bertkit/pipelines/batched.h"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "bertkit/core/error.h"

namespace bertkit::pipelines {

// Legend: N inputs, B batch, T tokens, L labels, H hidden, D embedding.

std::vector<std::vector<std::size_t>> pack_by_token_budget(const std::vector<std::size_t>& lengths,
                                                           const BatchingOptions& o) {
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<std::size_t>> batches;
  std::size_t longest = 0;
  for (std::size_t i : order) {
    bool fits = !batches.empty() && (batches.back().size() + 1) * longest <= o.max_batch_tokens &&
                (o.max_batch_size == 0 || batches.back().size() < o.max_batch_size);
    if (!fits) {
      batches.emplace_back();
      longest = std::max<std::size_t>(lengths[i], 1);  // sorted: the first is the longest
    }
    batches.back().push_back(i);
  }
  return batches;
}

Batch pad_encodings(const std::vector<const Encoding*>& encs, int32_t pad_id, bool token_type_ids, torch::Device device) {
  const int64_t B = static_cast<int64_t>(encs.size());
  int64_t T = 0;
  for (auto* e : encs) T = std::max<int64_t>(T, static_cast<int64_t>(e->ids.size()));
  auto ids = torch::full({B, T}, static_cast<int64_t>(std::max(pad_id, 0)), torch::kLong);
  auto types = torch::zeros({B, T}, torch::kLong);
  auto mask = torch::zeros({B, T}, torch::kLong);
  auto pi = ids.accessor<int64_t, 2>(), pt = types.accessor<int64_t, 2>(), pm = mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const Encoding& e = *encs[b];
    for (std::size_t t = 0; t < e.ids.size(); ++t) {
      pi[b][t] = e.ids[t];
      pt[b][t] = token_type_ids && !e.type_ids.empty() ? e.type_ids[t] : 0;
      pm[b][t] = e.attention_mask.empty() ? 1 : e.attention_mask[t];
    }
  }
  Batch batch;
  batch.input_ids = ids.to(device);
  batch.token_type_ids = types.to(device);
  batch.attention_mask = mask.to(device);
  return batch;
}

std::size_t model_max_length(const LoadedModel& m) {
  std::size_t cap = static_cast<std::size_t>(m.model->config.max_position_embeddings);
  std::size_t t = m.tokenizer->model_max_length();
  return t > 0 ? std::min(t, cap) : cap;
}

std::vector<Encoding> encode_inputs(const LoadedModel& m, const std::vector<TextInput>& inputs, std::size_t max_length) {
  EncodeOptions eo;
  eo.max_length = max_length > 0 ? max_length : model_max_length(m);
  eo.truncation = Truncation::LongestFirst;
  std::vector<Encoding> out;
  out.reserve(inputs.size());
  for (const auto& in : inputs)
    out.push_back(in.text_pair ? m.tokenizer->encode(in.text, std::string_view(*in.text_pair), eo)
                               : m.tokenizer->encode(in.text, std::nullopt, eo));
  return out;
}

// Runs `forward_rows(batch, members)` on each packed batch of the encodings.
template <class Fn>
static void for_each_batch(const LoadedModel& m, const std::vector<Encoding>& encodings, const BatchingOptions& o,
                           Fn&& forward_rows) {
  std::vector<std::size_t> lengths;
  for (const auto& e : encodings) lengths.push_back(e.ids.size());
  for (const auto& members : pack_by_token_budget(lengths, o)) {
    std::vector<const Encoding*> encs;
    for (std::size_t i : members) encs.push_back(&encodings[i]);
    forward_rows(pad_encodings(encs, m.tokenizer->special_tokens().pad, m.token_type_ids, m.device), members);
  }
}

torch::Tensor classification_logits(const LoadedModel& m, const std::vector<Encoding>& encodings,
                                    const BatchingOptions& o) {
  torch::NoGradGuard ng;
  const int64_t L = m.model->config.num_labels;
  auto logits = torch::zeros({static_cast<int64_t>(encodings.size()), L}, torch::kFloat);
  for_each_batch(m, encodings, o, [&](const Batch& batch, const std::vector<std::size_t>& members) {
    auto rows = m.model->forward(batch).logits.to(torch::kCPU).to(torch::kFloat);  // [B, L]
    for (std::size_t b = 0; b < members.size(); ++b) logits[static_cast<int64_t>(members[b])] = rows[b];
  });
  return logits;
}

std::vector<std::vector<LabelScore>> text_classification(const LoadedModel& m, const std::vector<TextInput>& inputs,
                                                         std::size_t top_k, ClassifyFunction fn, const BatchingOptions& o) {
  auto logits = classification_logits(m, encode_inputs(m, inputs), o).contiguous();  // [N, L]
  std::vector<std::vector<LabelScore>> out;
  for (int64_t i = 0; i < logits.size(0); ++i) {
    const float* row = logits[i].data_ptr<float>();
    out.push_back(classification_scores(m, std::vector<float>(row, row + logits.size(1)), top_k, fn));
  }
  return out;
}

std::vector<std::vector<TokenEntity>> token_classification(const LoadedModel& m, const std::vector<std::string>& texts,
                                                           const std::vector<Encoding>& encodings, Aggregation agg,
                                                           const std::vector<std::string>& ignore_labels,
                                                           const BatchingOptions& o) {
  torch::NoGradGuard ng;
  BERTKIT_CHECK_INPUT(texts.size() == encodings.size(), "token_classification: one encoding per text expected");
  std::vector<std::vector<TokenEntity>> out(texts.size());
  for_each_batch(m, encodings, o, [&](const Batch& batch, const std::vector<std::size_t>& members) {
    auto logits = m.model->forward(batch).logits.to(torch::kCPU).to(torch::kFloat);  // [B, T, L]
    for (std::size_t b = 0; b < members.size(); ++b) {
      std::size_t i = members[b];
      out[i] = token_entities(m, texts[i], encodings[i], logits[static_cast<int64_t>(b)].contiguous(), agg, ignore_labels);
    }
  });
  return out;
}

std::vector<std::vector<TokenEntity>> token_classification(const LoadedModel& m, const std::vector<std::string>& texts,
                                                           Aggregation agg, const std::vector<std::string>& ignore_labels,
                                                           const BatchingOptions& o) {
  std::vector<Encoding> encodings;
  for (const auto& t : texts) encodings.push_back(m.tokenizer->encode(t, std::nullopt, EncodeOptions{}));
  return token_classification(m, texts, encodings, agg, ignore_labels, o);
}

// Pooled rows [B, D] of token states [B, T, H] under attention mask [B, T].
static torch::Tensor pool(const std::vector<Pooling>& pooling, const torch::Tensor& tokens, const torch::Tensor& attention) {
  auto mask = attention.unsqueeze(-1).to(torch::kFloat);  // [B, T, 1]
  std::vector<torch::Tensor> parts;
  for (Pooling p : pooling) {
    switch (p) {
      case Pooling::Cls: parts.push_back(tokens.select(1, 0)); break;
      case Pooling::Max: parts.push_back(std::get<0>(tokens.masked_fill(mask == 0, -1e9).max(1))); break;
      case Pooling::Mean: parts.push_back((tokens * mask).sum(1) / torch::clamp(mask.sum(1), 1e-9)); break;
      case Pooling::MeanSqrtLen:
        parts.push_back((tokens * mask).sum(1) / torch::sqrt(torch::clamp(mask.sum(1), 1e-9)));
        break;
    }
  }
  return torch::cat(parts, -1);
}

torch::Tensor embed_encodings(const EmbeddingModel& m, const std::vector<Encoding>& encodings, bool normalize,
                              const BatchingOptions& o) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> rows(encodings.size());
  for_each_batch(m.base, encodings, o, [&](const Batch& batch, const std::vector<std::size_t>& members) {
    auto tokens = m.base.model->forward(batch).last_hidden_state.to(torch::kFloat);  // [B, T, H]
    auto v = pool(m.options.pooling, tokens, batch.attention_mask);                  // [B, D]
    if (normalize) v = torch::nn::functional::normalize(v, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    v = v.to(torch::kCPU);
    for (std::size_t b = 0; b < members.size(); ++b) rows[members[b]] = v[static_cast<int64_t>(b)];
  });
  if (rows.empty()) return torch::zeros({0, 0});
  return torch::stack(rows, 0);
}

torch::Tensor embed_batched(const EmbeddingModel& m, const std::vector<std::string>& texts, const BatchingOptions& o) {
  std::vector<TextInput> inputs;
  for (const auto& t : texts) inputs.push_back({t, std::nullopt});
  return embed_encodings(m, encode_inputs(m.base, inputs, m.options.max_seq_length), m.options.normalize, o);
}

}  // namespace bertkit::pipelines

#include "bertkit/models/modules.h"

#include <cmath>
#include <limits>

#include <torch/nn/functional.h>

#include "bertkit/core/error.h"
#include "bertkit/nn/torch_compat.h"
#include "bertkit/nn/varlen_attention.h"

namespace bertkit {

namespace nn = torch::nn;

namespace {
nn::LayerNorm layer_norm(const BertConfig& c) {
  return nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}
}  // namespace

torch::Tensor sinusoidal_position_table(int64_t max_positions, int64_t hidden) {
  // Computed in double, stored in float32.
  auto pos = torch::arange(max_positions, torch::kFloat64).unsqueeze(1);           // [P,1]
  auto two_i = torch::arange(0, hidden, 2, torch::kFloat64);                          // [ceil(H/2)]
  auto angle = pos / torch::pow(10000.0, two_i / static_cast<double>(hidden));        // [P,ceil(H/2)]
  auto table = torch::zeros({max_positions, hidden}, torch::kFloat64);
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, hidden, 2)}, torch::sin(angle));
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, hidden, 2)},
                   torch::cos(angle).narrow(1, 0, hidden / 2));
  return table.to(torch::kFloat32);
}

torch::Tensor extended_attention_mask(const torch::Tensor& attention_mask, torch::Dtype dtype) {
  // [B,T] -> [B,1,1,T]: 0 where attended, finfo(dtype).min where masked.
  auto m = attention_mask.unsqueeze(1).unsqueeze(2).to(dtype);
  double lowest;
  switch (dtype) {
    case torch::kFloat16: lowest = -65504.0; break;
    case torch::kBFloat16: lowest = -3.3895313892515355e38; break;
    case torch::kFloat64: lowest = std::numeric_limits<double>::lowest(); break;
    default: lowest = std::numeric_limits<float>::lowest(); break;
  }
  return (1.0 - m) * lowest;
}

// ---------------------------------------------------------------- embeddings
BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) : max_positions(c.max_position_embeddings) {
  auto wopts = nn::EmbeddingOptions(c.vocab_size, c.hidden_size);
  if (c.pad_token_id >= 0) wopts.padding_idx(c.pad_token_id);
  word_embeddings = register_module("word_embeddings", nn::Embedding(wopts));
  if (c.position_embedding_type == "sinusoidal") {
    sinusoidal_table =
        register_buffer("sinusoidal_table", sinusoidal_position_table(c.max_position_embeddings, c.hidden_size));
  } else {
    position_embeddings =
        register_module("position_embeddings", nn::Embedding(c.max_position_embeddings, c.hidden_size));
  }
  token_type_embeddings = register_module("token_type_embeddings", nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", Dropout(c.hidden_dropout_prob));
}

void BertEmbeddingsImpl::check_length(int64_t T) const {
  if (T > max_positions)
    throw InputError("input has " + std::to_string(T) + " tokens but max_position_embeddings is " +
                     std::to_string(max_positions));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                          const torch::Tensor& position_ids) {
  if (input_ids.dim() == 2) check_length(input_ids.size(1));  // flat [N] ids: the caller checked T
  auto tt = token_type_ids.defined() ? token_type_ids : torch::zeros_like(input_ids);
  auto pos = position_ids.defined()
                 ? position_ids
                 : torch::arange(input_ids.size(-1), input_ids.options().dtype(torch::kLong)).expand_as(input_ids);
  auto x = word_embeddings(input_ids) + token_type_embeddings(tt);  // [B,T,H] or [N,H]
  if (position_embeddings)
    x = x + position_embeddings(pos);
  else
    x = x + sinusoidal_table.index_select(0, pos.reshape(-1)).view(x.sizes()).to(x.dtype());
  return dropout(LayerNorm(x));
}

// ---------------------------------------------------------------- attention
BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& c)
    : num_heads(c.num_attention_heads), head_dim(c.head_dim()), dropout_p(c.attention_probs_dropout_prob) {
  query = register_module("query", nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", nn::Linear(c.hidden_size, c.hidden_size));
  dropout = register_module("dropout", Dropout(c.attention_probs_dropout_prob));
}

std::pair<torch::Tensor, torch::Tensor> BertSelfAttentionImpl::forward(const torch::Tensor& hidden,
                                                                       const torch::Tensor& mask, bool need_probs,
                                                                       AttentionKernel kernel,
                                                                       const UnpaddedLayout* unpadded) {
  if (unpadded) {
    if (need_probs) throw RuntimeError("BertSelfAttention: attention probabilities need the padded path");
    return {attend_unpadded(query(hidden), key(hidden), value(hidden), *unpadded, kernel), torch::Tensor()};
  }
  const int64_t B = hidden.size(0), T = hidden.size(1);
  auto heads = [&](const torch::Tensor& x) { return x.view({B, T, num_heads, head_dim}).transpose(1, 2); };
  auto [context, probs] = attend(heads(query(hidden)), heads(key(hidden)), heads(value(hidden)), mask, need_probs,
                                 kernel);  // [B,NH,T,D]
  context = context.transpose(1, 2).reshape({B, T, num_heads * head_dim});
  return {context, probs};
}

namespace {
// Whether attend() computes matmul/softmax/matmul itself (HF's eager attention).
bool uses_math_kernel(AttentionKernel kernel) {
  return !BERTKIT_HAVE_SDPA || kernel == AttentionKernel::Math;
}
}  // namespace

torch::Tensor BertSelfAttentionImpl::attend_unpadded(const torch::Tensor& q, const torch::Tensor& k,
                                                     const torch::Tensor& v, const UnpaddedLayout& layout,
                                                     AttentionKernel kernel) {
  if (uses_math_kernel(kernel)) {
    VarlenAttentionOptions o;
    o.num_heads = num_heads;
    o.scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
    o.dropout_p = dropout_p;
    o.training = is_training();
    return varlen_attention(q, k, v, layout, o);  // [N,H]
  }
  // SDPA: each run of G sequences of length L is rows [offset, offset+G*L) of q/k/v, a view [G,NH,L,D].
  std::vector<torch::Tensor> parts;
  parts.reserve(layout.runs.size());
  for (const auto& run : layout.runs) {
    const int64_t rows = run.count * run.length;
    auto heads = [&](const torch::Tensor& x) {
      return x.narrow(0, run.offset, rows).view({run.count, run.length, num_heads, head_dim}).transpose(1, 2);
    };
    auto context = attend(heads(q), heads(k), heads(v), torch::Tensor(), false, kernel).first;  // [G,NH,L,D]
    parts.push_back(context.transpose(1, 2).reshape({rows, num_heads * head_dim}));
  }
  if (parts.size() == 1 && parts[0].size(0) == q.size(0)) return parts[0];
  if (parts.empty()) return torch::zeros_like(q);
  return torch::cat(parts, 0);  // [N,H]
}

std::pair<torch::Tensor, torch::Tensor> BertSelfAttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k,
                                                                      const torch::Tensor& v, const torch::Tensor& mask,
                                                                      bool need_probs, AttentionKernel kernel) {
#if BERTKIT_HAVE_SDPA
  if (kernel == AttentionKernel::SDPA && !need_probs) {
    // A boolean mask (true = attend): SDPA wants a bool mask or one of the query's
    // dtype, and under autocast q is bf16/fp16 while the additive mask is fp32.
    c10::optional<at::Tensor> attend_mask;
    if (mask.defined()) attend_mask = mask.eq(0);
    return {at::scaled_dot_product_attention(q, k, v, attend_mask, is_training() ? dropout_p : 0.0,
                                             /*is_causal=*/false),
            torch::Tensor()};
  }
#else
  (void)kernel;
#endif
  auto scores = torch::matmul(q, k.transpose(-1, -2)) * (1.0 / std::sqrt(static_cast<double>(head_dim)));
  if (mask.defined()) scores = scores + mask;  // [B,NH,T,T]
  auto probs = torch::softmax(scores, -1);
  auto context = torch::matmul(dropout(probs), v);  // [B,NH,T,D]
  return {context, need_probs ? probs : torch::Tensor()};
}

BertSelfOutputImpl::BertSelfOutputImpl(const BertConfig& c) {
  dense = register_module("dense", nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", Dropout(c.hidden_dropout_prob));
}

torch::Tensor BertSelfOutputImpl::forward(const torch::Tensor& hidden, const torch::Tensor& input) {
  return LayerNorm(dropout(dense(hidden)) + input);
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertSelfOutput(c));
}

std::pair<torch::Tensor, torch::Tensor> BertAttentionImpl::forward(const torch::Tensor& hidden,
                                                                   const torch::Tensor& mask, bool need_probs,
                                                                   AttentionKernel kernel,
                                                                   const UnpaddedLayout* unpadded) {
  auto [context, probs] = self->forward(hidden, mask, need_probs, kernel, unpadded);
  return {output(context, hidden), probs};
}

// ---------------------------------------------------------------- feed-forward
BertIntermediateImpl::BertIntermediateImpl(const BertConfig& c) : act(parse_activation(c.hidden_act)) {
  dense = register_module("dense", nn::Linear(c.hidden_size, c.intermediate_size));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& hidden) {
  return apply_activation(act, dense(hidden));
}

BertOutputImpl::BertOutputImpl(const BertConfig& c) {
  dense = register_module("dense", nn::Linear(c.intermediate_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", Dropout(c.hidden_dropout_prob));
}

torch::Tensor BertOutputImpl::forward(const torch::Tensor& hidden, const torch::Tensor& input) {
  return LayerNorm(dropout(dense(hidden)) + input);
}

BertLayerImpl::BertLayerImpl(const BertConfig& c) {
  attention = register_module("attention", BertAttention(c));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertOutput(c));
}

std::pair<torch::Tensor, torch::Tensor> BertLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& mask,
                                                               bool need_probs, AttentionKernel kernel,
                                                               const UnpaddedLayout* unpadded) {
  auto [attn, probs] = attention->forward(hidden, mask, need_probs, kernel, unpadded);
  return {output(intermediate(attn), attn), probs};
}

BertEncoderImpl::BertEncoderImpl(const BertConfig& c) {
  layer = register_module("layer", nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(BertLayer(c));
}

EncoderOutput BertEncoderImpl::forward(const torch::Tensor& hidden, const torch::Tensor& mask,
                                       const ForwardOptions& options, const UnpaddedLayout* unpadded) {
  EncoderOutput out;
  torch::Tensor h = hidden;
  for (size_t i = 0; i < layer->size(); ++i) {
    if (options.output_hidden_states) out.hidden_states.push_back(h);
    auto [next, probs] = layer->ptr<BertLayerImpl>(i)->forward(h, mask, options.output_attentions,
                                                               options.attention_kernel, unpadded);
    h = next;
    if (options.output_attentions) out.attentions.push_back(probs);
  }
  if (options.output_hidden_states) out.hidden_states.push_back(h);
  out.last_hidden_state = h;
  return out;
}

BertPoolerImpl::BertPoolerImpl(const BertConfig& c) {
  dense = register_module("dense", nn::Linear(c.hidden_size, c.hidden_size));
}

torch::Tensor BertPoolerImpl::forward(const torch::Tensor& hidden) {
  return torch::tanh(dense(hidden.select(1, 0)));
}

// ---------------------------------------------------------------- heads
BertPredictionHeadTransformImpl::BertPredictionHeadTransformImpl(const BertConfig& c)
    : act(parse_activation(c.hidden_act)) {
  dense = register_module("dense", nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
}

torch::Tensor BertPredictionHeadTransformImpl::forward(const torch::Tensor& hidden) {
  return LayerNorm(apply_activation(act, dense(hidden)));
}

BertLMPredictionHeadImpl::BertLMPredictionHeadImpl(const BertConfig& c) {
  transform = register_module("transform", BertPredictionHeadTransform(c));
  if (!c.tie_word_embeddings())
    decoder = register_module("decoder", nn::Linear(nn::LinearOptions(c.hidden_size, c.vocab_size).bias(false)));
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
}

torch::Tensor BertLMPredictionHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) {
  const auto& w = decoder ? decoder->weight : word_embeddings;
  return torch::nn::functional::linear(transform(hidden), w, bias);
}

BertOnlyMLMHeadImpl::BertOnlyMLMHeadImpl(const BertConfig& c) {
  predictions = register_module("predictions", BertLMPredictionHead(c));
}

torch::Tensor BertOnlyMLMHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) {
  return predictions(hidden, word_embeddings);
}

BertOnlyNSPHeadImpl::BertOnlyNSPHeadImpl(const BertConfig& c) {
  seq_relationship = register_module("seq_relationship", nn::Linear(c.hidden_size, 2));
}

torch::Tensor BertOnlyNSPHeadImpl::forward(const torch::Tensor& pooled) { return seq_relationship(pooled); }

BertPreTrainingHeadsImpl::BertPreTrainingHeadsImpl(const BertConfig& c) {
  predictions = register_module("predictions", BertLMPredictionHead(c));
  seq_relationship = register_module("seq_relationship", nn::Linear(c.hidden_size, 2));
}

}  // namespace bertkit

// The BERT building blocks, one module per HF class with HF's registered names
// (transformers/models/bert/modeling_bert.py), so a module's named_parameters()
// are HF's state-dict keys.
// Legend: B batch, T tokens, H hidden, NH heads, D head dim (H/NH), I intermediate, V vocab.
#pragma once

#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include "bertkit/models/bert_model.h"
#include "bertkit/nn/dropout.h"
#include "bertkit/models/config.h"
#include "bertkit/nn/activations.h"

namespace bertkit {

// The fixed sin/cos table of "Attention Is All You Need" (bertkit's
// position_embedding_type "sinusoidal"): [max_positions, H] with
//   PE[pos, 2i]   = sin(pos / 10000^(2i/H))
//   PE[pos, 2i+1] = cos(pos / 10000^(2i/H))
torch::Tensor sinusoidal_position_table(int64_t max_positions, int64_t hidden);

// The additive mask HF builds from a [B,T] 0/1 attention mask: [B,1,1,T] with
// 0 where attended and the dtype's lowest finite value where masked.
torch::Tensor extended_attention_mask(const torch::Tensor& attention_mask, torch::Dtype dtype);

class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& c);
  // input_ids/token_type_ids/position_ids [B,T] -> [B,T,H]; token types default
  // to 0 and positions to 0..T-1. Padding-free: [N] ids with their [N] positions -> [N,H].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids = {},
                        const torch::Tensor& position_ids = {});
  torch::nn::Embedding word_embeddings{nullptr};
  torch::nn::Embedding position_embeddings{nullptr};  // absent for "sinusoidal"
  torch::nn::Embedding token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  Dropout dropout{nullptr};  // nn/dropout.h
  void check_length(int64_t T) const;  // InputError when T > max_position_embeddings
  torch::Tensor sinusoidal_table;  // buffer [max_positions, H] for "sinusoidal" (not saved: derived from config)
  int64_t max_positions;
};
TORCH_MODULE(BertEmbeddings);

class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const BertConfig& c);
  // Padded (unpadded == nullptr): hidden [B,T,H], mask [B,1,1,T] additive (or undefined)
  // -> context [B,T,H] and, when need_probs, probabilities [B,NH,T,T] (else undefined).
  // Padding-free: hidden [N,H] laid out by `unpadded` (mask unused, need_probs must be
  // false) -> context [N,H]; each run of equal-length sequences attends as one
  // [count,NH,len,len] batch, so no work is spent on padding.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& hidden, const torch::Tensor& mask,
                                                  bool need_probs, AttentionKernel kernel,
                                                  const UnpaddedLayout* unpadded = nullptr);
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  Dropout dropout{nullptr};  // nn/dropout.h
  int64_t num_heads, head_dim;
  double dropout_p;

 private:
  // q, k, v [G,NH,L,D], mask broadcastable to [G,NH,L,L] or undefined -> context [G,NH,L,D]
  // (and probs [G,NH,L,L] when need_probs).
  std::pair<torch::Tensor, torch::Tensor> attend(const torch::Tensor& q, const torch::Tensor& k,
                                                 const torch::Tensor& v, const torch::Tensor& mask, bool need_probs,
                                                 AttentionKernel kernel);
  torch::Tensor attend_unpadded(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const UnpaddedLayout& layout, AttentionKernel kernel);  // [N,H] each -> [N,H]
};
TORCH_MODULE(BertSelfAttention);

class BertSelfOutputImpl : public torch::nn::Module {
 public:
  explicit BertSelfOutputImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& input);  // LN(drop(dense(h)) + input)
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  Dropout dropout{nullptr};  // nn/dropout.h
};
TORCH_MODULE(BertSelfOutput);

class BertAttentionImpl : public torch::nn::Module {
 public:
  explicit BertAttentionImpl(const BertConfig& c);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& hidden, const torch::Tensor& mask,
                                                  bool need_probs, AttentionKernel kernel,
                                                  const UnpaddedLayout* unpadded = nullptr);
  BertSelfAttention self{nullptr};  // registered as "self"
  BertSelfOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

class BertIntermediateImpl : public torch::nn::Module {
 public:
  explicit BertIntermediateImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden);  // [B,T,H] -> [B,T,I]
  torch::nn::Linear dense{nullptr};
  Activation act;
};
TORCH_MODULE(BertIntermediate);

class BertOutputImpl : public torch::nn::Module {
 public:
  explicit BertOutputImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& input);  // [B,T,I],[B,T,H] -> [B,T,H]
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  Dropout dropout{nullptr};  // nn/dropout.h
};
TORCH_MODULE(BertOutput);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& c);
  // [B,T,H] padded, or [N,H] with `unpadded` (see BertSelfAttention).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& hidden, const torch::Tensor& mask,
                                                  bool need_probs, AttentionKernel kernel,
                                                  const UnpaddedLayout* unpadded = nullptr);
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

struct EncoderOutput {
  torch::Tensor last_hidden_state;           // [B,T,H] ([N,H] padding-free)
  std::vector<torch::Tensor> hidden_states;  // embeddings + each layer, when requested
  std::vector<torch::Tensor> attentions;     // each layer [B,NH,T,T], when requested
};

class BertEncoderImpl : public torch::nn::Module {
 public:
  explicit BertEncoderImpl(const BertConfig& c);
  EncoderOutput forward(const torch::Tensor& hidden, const torch::Tensor& mask, const ForwardOptions& options,
                        const UnpaddedLayout* unpadded = nullptr);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(BertEncoder);

class BertPoolerImpl : public torch::nn::Module {
 public:
  explicit BertPoolerImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden);  // tanh(dense(hidden[:, 0])): [B,T,H] -> [B,H]
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

class BertPredictionHeadTransformImpl : public torch::nn::Module {
 public:
  explicit BertPredictionHeadTransformImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden);  // LN(act(dense(h)))
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  Activation act;
};
TORCH_MODULE(BertPredictionHeadTransform);

// The MLM decoder is tied to the word embeddings (HF's tie_word_embeddings,
// default true): forward takes that weight; only `bias` [V] is this module's
// own ("cls.predictions.bias", also HF's "cls.predictions.decoder.bias").
// With tie_word_embeddings false, an own "decoder" Linear(H, V, no bias) is registered.
class BertLMPredictionHeadImpl : public torch::nn::Module {
 public:
  explicit BertLMPredictionHeadImpl(const BertConfig& c);
  // hidden [..., H], tied decoder weight [V,H] -> logits [..., V]
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings);
  BertPredictionHeadTransform transform{nullptr};
  torch::nn::Linear decoder{nullptr};  // only when untied
  torch::Tensor bias;
};
TORCH_MODULE(BertLMPredictionHead);

class BertOnlyMLMHeadImpl : public torch::nn::Module {
 public:
  explicit BertOnlyMLMHeadImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings);
  BertLMPredictionHead predictions{nullptr};
};
TORCH_MODULE(BertOnlyMLMHead);

class BertOnlyNSPHeadImpl : public torch::nn::Module {
 public:
  explicit BertOnlyNSPHeadImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& pooled);  // [B,H] -> [B,2]
  torch::nn::Linear seq_relationship{nullptr};
};
TORCH_MODULE(BertOnlyNSPHead);

class BertPreTrainingHeadsImpl : public torch::nn::Module {
 public:
  explicit BertPreTrainingHeadsImpl(const BertConfig& c);
  BertLMPredictionHead predictions{nullptr};
  torch::nn::Linear seq_relationship{nullptr};
};
TORCH_MODULE(BertPreTrainingHeads);

}  // namespace bertkit

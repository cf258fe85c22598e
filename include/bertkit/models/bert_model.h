// The BERT models. Module and parameter names are exactly HF's, so
// named_parameters() is the HF state dict (docs/architecture.md).
// Legend: B batch, T tokens, H hidden, NH heads, V vocab, L labels.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "bertkit/models/config.h"
#include "bertkit/nn/batch.h"

namespace bertkit {

// How BertSelfAttention computes softmax(QK^T/sqrt(d) + mask) V.
enum class AttentionKernel {
  Math,  // explicit matmul/softmax/matmul: the default and the reference (HF "eager")
  SDPA,  // torch scaled_dot_product_attention (LibTorch >= 2.0; BERTKIT_HAVE_SDPA). Used only
         // when no attention probabilities are requested; otherwise, and on LibTorch 1.x, Math.
};

// Whether BertModel carries padding through the encoder (see docs/model.md).
enum class PaddingMode {
  Auto,      // padding-free where it gives the same outputs at real positions and is faster: on the
             // CPU, when the attention mask has padding, every row starts with a real token, and
             // neither hidden_states nor attentions are requested; padded otherwise
  Padded,    // [B,T,H] through every layer, padding included (HF's computation, exact at every position)
  Unpadded,  // padding-free whenever there is an attention mask (padded when attentions are requested)
};

struct ForwardOptions {
  bool output_hidden_states = false;
  bool output_attentions = false;
  AttentionKernel attention_kernel = AttentionKernel::Math;
  // Sparse MLM head (BertForMaskedLM, BertForPreTraining): when labels are given,
  // run the prediction head only on positions whose label != -100. The loss is
  // the dense one; logits then are [P, V] for those P positions in row-major
  // (batch, token) order instead of [B, T, V]. Ignored without labels.
  bool sparse_mlm = false;
  // Padding-free: the real tokens are gathered into [N,H] before the embeddings, every
  // layer runs on them (attention per sequence), and the outputs are re-padded to
  // [B,T,...] with zeros at padding positions. Real positions equal the padded path.
  PaddingMode padding = PaddingMode::Auto;
};

// Every output a head can produce; those a head does not produce stay undefined.
struct ModelOutput {
  torch::Tensor loss;                     // scalar, when labels were given
  torch::Tensor logits;                   // MLM [B,T,V] (pretraining: prediction_logits), seq cls [B,L], token cls [B,T,L]
  torch::Tensor seq_relationship_logits;  // pretraining NSP [B,2]
  torch::Tensor start_logits, end_logits; // QA [B,T]
  torch::Tensor last_hidden_state;        // [B,T,H]
  torch::Tensor pooler_output;            // [B,H] (when the model has a pooler)
  std::vector<torch::Tensor> hidden_states;  // num_hidden_layers+1 of [B,T,H], on request
  std::vector<torch::Tensor> attentions;     // num_hidden_layers of [B,NH,T,T], on request
  torch::Tensor mlm_loss, nsp_loss;       // pretraining: the two parts of loss
  torch::Tensor mlm_positions;            // sparse MLM: [P] flat indices (b*T+t) the logits rows belong to
};

// The architectures, by HF class name.
enum class Architecture {
  BertModel,
  BertForPreTraining,
  BertForMaskedLM,
  BertForSequenceClassification,
  BertForTokenClassification,
  BertForQuestionAnswering,
};
std::string architecture_name(Architecture a);
Architecture parse_architecture(const std::string& name);  // InputError listing valid names

// Base of every head: config + a uniform forward over a Batch.
class BertPreTrainedModelImpl : public torch::nn::Module {
 public:
  explicit BertPreTrainedModelImpl(BertConfig config) : config(std::move(config)) {}
  virtual ModelOutput forward(const Batch& batch, const ForwardOptions& options = {}) = 0;
  virtual Architecture architecture() const = 0;
  // HF's _init_weights over every submodule: normal(0, initializer_range) for
  // Linear/Embedding weights, zero biases and padding row, LayerNorm 1/0.
  void init_weights();
  BertConfig config;
};
using BertPreTrainedModel = std::shared_ptr<BertPreTrainedModelImpl>;

// A freshly initialised model of an architecture.
BertPreTrainedModel create_model(Architecture arch, const BertConfig& config);

}  // namespace bertkit

// BertModel and the task heads, HF class names and registered names.
// Each is a BertPreTrainedModelImpl with forward(Batch) -> ModelOutput and the
// loss HF computes when the batch carries labels.
// Legend: B batch, T tokens, H hidden, V vocab, L labels, P MLM positions.
#pragma once

#include <memory>

#include "bertkit/models/bert_model.h"
#include "bertkit/models/modules.h"

namespace bertkit {

// HF BertModel: embeddings, encoder, optional pooler. Its own state-dict keys
// have no "bert." prefix.
class BertModelImpl : public BertPreTrainedModelImpl {
 public:
  BertModelImpl(const BertConfig& c, bool add_pooling_layer = true);
  // Fills last_hidden_state, pooler_output (with a pooler), hidden_states and
  // attentions on request.
  ModelOutput forward(const Batch& batch, const ForwardOptions& options = {}) override;
  Architecture architecture() const override { return Architecture::BertModel; }
  // The padding-free forward (ForwardOptions::padding): real tokens only through the
  // embeddings and encoder; outputs re-padded to [B,T,H] with zeros at padding.
  ModelOutput forward_padding_free(const Batch& batch, const ForwardOptions& options);
  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};  // null when add_pooling_layer is false
};

// HF: BertForPreTraining: bert (with pooler) + cls (BertPreTrainingHeads).
// loss = MLM CE (ignore -100) + NSP CE, when both labels and next_sentence_label are given.
class BertForPreTrainingImpl : public BertPreTrainedModelImpl {
 public:
  explicit BertForPreTrainingImpl(const BertConfig& c);
  ModelOutput forward(const Batch& batch, const ForwardOptions& options = {}) override;
  Architecture architecture() const override { return Architecture::BertForPreTraining; }
  std::shared_ptr<BertModelImpl> bert;
  BertPreTrainingHeads cls{nullptr};
};

// HF: BertForMaskedLM: bert (no pooler) + cls (BertOnlyMLMHead).
class BertForMaskedLMImpl : public BertPreTrainedModelImpl {
 public:
  explicit BertForMaskedLMImpl(const BertConfig& c);
  ModelOutput forward(const Batch& batch, const ForwardOptions& options = {}) override;
  Architecture architecture() const override { return Architecture::BertForMaskedLM; }
  std::shared_ptr<BertModelImpl> bert;
  BertOnlyMLMHead cls{nullptr};
};

// HF: BertForSequenceClassification: pooled -> dropout -> classifier [B,L].
// problem_type as HF infers it on the first call with labels (and records it in
// config): num_labels == 1 -> regression (MSE); integer labels ->
// single_label_classification (CE); else multi_label_classification (BCE with logits).
class BertForSequenceClassificationImpl : public BertPreTrainedModelImpl {
 public:
  explicit BertForSequenceClassificationImpl(const BertConfig& c);
  ModelOutput forward(const Batch& batch, const ForwardOptions& options = {}) override;
  Architecture architecture() const override { return Architecture::BertForSequenceClassification; }
  std::shared_ptr<BertModelImpl> bert;
  Dropout dropout{nullptr};  // nn/dropout.h
  torch::nn::Linear classifier{nullptr};
};

// HF: BertForTokenClassification: bert (no pooler) -> dropout -> classifier [B,T,L]; CE ignoring -100.
class BertForTokenClassificationImpl : public BertPreTrainedModelImpl {
 public:
  explicit BertForTokenClassificationImpl(const BertConfig& c);
  ModelOutput forward(const Batch& batch, const ForwardOptions& options = {}) override;
  Architecture architecture() const override { return Architecture::BertForTokenClassification; }
  std::shared_ptr<BertModelImpl> bert;
  Dropout dropout{nullptr};  // nn/dropout.h
  torch::nn::Linear classifier{nullptr};
};

// HF: BertForQuestionAnswering: bert (no pooler) -> qa_outputs [B,T,2] -> start/end [B,T].
// loss = (CE(start) + CE(end)) / 2 with positions clamped to [0, T] and T ignored.
// With positions given, PaddingMode::Auto runs padded: the loss spans the padding positions.
class BertForQuestionAnsweringImpl : public BertPreTrainedModelImpl {
 public:
  explicit BertForQuestionAnsweringImpl(const BertConfig& c);
  ModelOutput forward(const Batch& batch, const ForwardOptions& options = {}) override;
  Architecture architecture() const override { return Architecture::BertForQuestionAnswering; }
  std::shared_ptr<BertModelImpl> bert;
  torch::nn::Linear qa_outputs{nullptr};
};

// The BertModel inside any head (the model itself for Architecture::BertModel).
std::shared_ptr<BertModelImpl> base_model(const BertPreTrainedModel& model);

}  // namespace bertkit

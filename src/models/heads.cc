#include "bertkit/models/heads.h"

#include <torch/nn/functional.h>

#include "bertkit/core/error.h"

namespace bertkit {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {
constexpr int64_t kIgnoreIndex = -100;

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_index) {
  return F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().ignore_index(ignore_index));
}

torch::Tensor word_embedding_weight(const std::shared_ptr<BertModelImpl>& bert) {
  return bert->embeddings->word_embeddings->weight;
}

// The MLM head over all positions ([B,T,V]) or, with sparse_mlm and labels,
// over the labelled positions only ([P,V]); fills logits, mlm_loss and
// mlm_positions.
template <typename Head>
void mlm_head(Head& predictions, const std::shared_ptr<BertModelImpl>& bert, const torch::Tensor& sequence,
              const torch::Tensor& labels, const ForwardOptions& options, int64_t vocab, ModelOutput& out) {
  if (labels.defined() && options.sparse_mlm) {
    auto flat_labels = labels.reshape({-1});                                        // [B*T]
    auto positions = (flat_labels != kIgnoreIndex).nonzero().squeeze(1);           // [P]
    auto hidden = sequence.reshape({-1, sequence.size(-1)}).index_select(0, positions);  // [P,H]
    out.logits = predictions(hidden, word_embedding_weight(bert));                  // [P,V]
    out.mlm_positions = positions;
    out.mlm_loss = cross_entropy(out.logits, flat_labels.index_select(0, positions), kIgnoreIndex);
    return;
  }
  out.logits = predictions(sequence, word_embedding_weight(bert));  // [B,T,V]
  if (labels.defined())
    out.mlm_loss = cross_entropy(out.logits.view({-1, vocab}), labels.reshape({-1}), kIgnoreIndex);
}
}  // namespace

std::string architecture_name(Architecture a) {
  switch (a) {
    case Architecture::BertModel: return "BertModel";
    case Architecture::BertForPreTraining: return "BertForPreTraining";
    case Architecture::BertForMaskedLM: return "BertForMaskedLM";
    case Architecture::BertForSequenceClassification: return "BertForSequenceClassification";
    case Architecture::BertForTokenClassification: return "BertForTokenClassification";
    case Architecture::BertForQuestionAnswering: return "BertForQuestionAnswering";
  }
  return "?";
}

Architecture parse_architecture(const std::string& name) {
  for (auto a : {Architecture::BertModel, Architecture::BertForPreTraining, Architecture::BertForMaskedLM,
                 Architecture::BertForSequenceClassification, Architecture::BertForTokenClassification,
                 Architecture::BertForQuestionAnswering})
    if (architecture_name(a) == name) return a;
  // Short names as the CLI's --head accepts them.
  if (name == "base" || name == "model") return Architecture::BertModel;
  if (name == "pretraining") return Architecture::BertForPreTraining;
  if (name == "maskedlm" || name == "mlm") return Architecture::BertForMaskedLM;
  if (name == "seqcls") return Architecture::BertForSequenceClassification;
  if (name == "tokcls") return Architecture::BertForTokenClassification;
  if (name == "qa") return Architecture::BertForQuestionAnswering;
  throw InputError("unknown architecture '" + name +
                   "' (expected BertModel, BertForPreTraining, BertForMaskedLM, BertForSequenceClassification, "
                   "BertForTokenClassification, BertForQuestionAnswering, or base|pretraining|maskedlm|seqcls|"
                   "tokcls|qa)");
}

void BertPreTrainedModelImpl::init_weights() {
  torch::NoGradGuard no_grad;
  const double std = config.initializer_range;
  for (const auto& item : named_modules()) {
    auto* m = item.value().get();
    if (auto* lin = dynamic_cast<nn::LinearImpl*>(m)) {
      lin->weight.normal_(0.0, std);
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* emb = dynamic_cast<nn::EmbeddingImpl*>(m)) {
      emb->weight.normal_(0.0, std);
      if (emb->options.padding_idx()) emb->weight[*emb->options.padding_idx()].zero_();
    } else if (auto* ln = dynamic_cast<nn::LayerNormImpl*>(m)) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    } else if (auto* lm = dynamic_cast<BertLMPredictionHeadImpl*>(m)) {
      lm->bias.zero_();
    }
  }
}

// ---------------------------------------------------------------- BertModel
BertModelImpl::BertModelImpl(const BertConfig& c, bool add_pooling_layer) : BertPreTrainedModelImpl(c) {
  embeddings = register_module("embeddings", BertEmbeddings(c));
  encoder = register_module("encoder", BertEncoder(c));
  if (add_pooling_layer) pooler = register_module("pooler", BertPooler(c));
}

namespace {
// Whether BertModel runs padding-free (ForwardOptions::padding, docs/model.md).
bool runs_padding_free(const Batch& batch, const ForwardOptions& options) {
  if (options.padding == PaddingMode::Padded || !batch.attention_mask.defined() || options.output_attentions)
    return false;
  if (options.padding == PaddingMode::Unpadded) return true;
  if (!batch.attention_mask.device().is_cpu() || options.output_hidden_states) return false;
  const auto& mask = batch.attention_mask;
  return mask.eq(0).any().item<bool>() && mask.select(1, 0).ne(0).all().item<bool>();
}
}  // namespace

ModelOutput BertModelImpl::forward(const Batch& batch, const ForwardOptions& options) {
  if (!batch.input_ids.defined()) throw InputError("forward: the batch has no input_ids");
  if (runs_padding_free(batch, options)) return forward_padding_free(batch, options);
  auto x = embeddings(batch.input_ids, batch.token_type_ids, batch.position_ids);  // [B,T,H]
  torch::Tensor mask;
  if (batch.attention_mask.defined()) mask = extended_attention_mask(batch.attention_mask, x.scalar_type());
  auto enc = encoder(x, mask, options);
  ModelOutput out;
  out.last_hidden_state = enc.last_hidden_state;
  if (pooler) out.pooler_output = pooler(enc.last_hidden_state);
  out.hidden_states = std::move(enc.hidden_states);
  out.attentions = std::move(enc.attentions);
  return out;
}

ModelOutput BertModelImpl::forward_padding_free(const Batch& batch, const ForwardOptions& options) {
  const int64_t B = batch.input_ids.size(0), T = batch.input_ids.size(1);
  embeddings->check_length(T);
  UnpaddedLayout layout = unpadded_layout(batch.attention_mask);
  auto positions = batch.position_ids.defined()
                       ? batch.position_ids
                       : torch::arange(T, batch.input_ids.options().dtype(torch::kLong)).expand({B, T});
  auto types = batch.token_type_ids.defined() ? layout.unpad(batch.token_type_ids) : torch::Tensor();
  auto x = embeddings(layout.unpad(batch.input_ids), types, layout.unpad(positions));  // [N,H]
  auto enc = encoder->forward(x, torch::Tensor(), options, &layout);
  ModelOutput out;
  out.last_hidden_state = layout.pad(enc.last_hidden_state);  // [B,T,H], zeros at padding
  if (pooler) out.pooler_output = pooler(out.last_hidden_state);
  for (const auto& h : enc.hidden_states) out.hidden_states.push_back(layout.pad(h));
  return out;
}

// ---------------------------------------------------------------- heads
BertForPreTrainingImpl::BertForPreTrainingImpl(const BertConfig& c) : BertPreTrainedModelImpl(c) {
  bert = register_module("bert", std::make_shared<BertModelImpl>(c, true));
  cls = register_module("cls", BertPreTrainingHeads(c));
}

ModelOutput BertForPreTrainingImpl::forward(const Batch& batch, const ForwardOptions& options) {
  ModelOutput out = bert->forward(batch, options);
  mlm_head(cls->predictions, bert, out.last_hidden_state, batch.labels, options, config.vocab_size, out);
  out.seq_relationship_logits = cls->seq_relationship(out.pooler_output);  // [B,2]
  if (batch.next_sentence_label.defined())
    out.nsp_loss = cross_entropy(out.seq_relationship_logits.view({-1, 2}), batch.next_sentence_label.reshape({-1}),
                                 kIgnoreIndex);
  if (out.mlm_loss.defined() && out.nsp_loss.defined()) out.loss = out.mlm_loss + out.nsp_loss;
  return out;
}

BertForMaskedLMImpl::BertForMaskedLMImpl(const BertConfig& c) : BertPreTrainedModelImpl(c) {
  bert = register_module("bert", std::make_shared<BertModelImpl>(c, false));
  cls = register_module("cls", BertOnlyMLMHead(c));
}

ModelOutput BertForMaskedLMImpl::forward(const Batch& batch, const ForwardOptions& options) {
  ModelOutput out = bert->forward(batch, options);
  mlm_head(cls->predictions, bert, out.last_hidden_state, batch.labels, options, config.vocab_size, out);
  out.loss = out.mlm_loss;
  return out;
}

BertForSequenceClassificationImpl::BertForSequenceClassificationImpl(const BertConfig& c)
    : BertPreTrainedModelImpl(c) {
  bert = register_module("bert", std::make_shared<BertModelImpl>(c, true));
  dropout = register_module("dropout", Dropout(c.classifier_dropout ? *c.classifier_dropout : c.hidden_dropout_prob));
  classifier = register_module("classifier", nn::Linear(c.hidden_size, c.num_labels));
}

ModelOutput BertForSequenceClassificationImpl::forward(const Batch& batch, const ForwardOptions& options) {
  ModelOutput out = bert->forward(batch, options);
  out.logits = classifier(dropout(out.pooler_output));  // [B,L]
  const auto& labels = batch.labels;
  if (labels.defined()) {
    const int64_t L = config.num_labels;
    if (config.problem_type.empty()) {
      if (L == 1)
        config.problem_type = "regression";
      else if (labels.scalar_type() == torch::kLong || labels.scalar_type() == torch::kInt)
        config.problem_type = "single_label_classification";
      else
        config.problem_type = "multi_label_classification";
    }
    if (config.problem_type == "regression") {
      auto target = labels.to(out.logits.scalar_type());
      out.loss = L == 1 ? F::mse_loss(out.logits.squeeze(), target.squeeze()) : F::mse_loss(out.logits, target);
    } else if (config.problem_type == "single_label_classification") {
      out.loss = F::cross_entropy(out.logits.view({-1, L}), labels.reshape({-1}).to(torch::kLong));
    } else {
      out.loss = F::binary_cross_entropy_with_logits(out.logits, labels.to(out.logits.scalar_type()));
    }
  }
  return out;
}

BertForTokenClassificationImpl::BertForTokenClassificationImpl(const BertConfig& c) : BertPreTrainedModelImpl(c) {
  bert = register_module("bert", std::make_shared<BertModelImpl>(c, false));
  dropout = register_module("dropout", Dropout(c.classifier_dropout ? *c.classifier_dropout : c.hidden_dropout_prob));
  classifier = register_module("classifier", nn::Linear(c.hidden_size, c.num_labels));
}

ModelOutput BertForTokenClassificationImpl::forward(const Batch& batch, const ForwardOptions& options) {
  ModelOutput out = bert->forward(batch, options);
  out.logits = classifier(dropout(out.last_hidden_state));  // [B,T,L]
  if (batch.labels.defined())
    out.loss = cross_entropy(out.logits.view({-1, config.num_labels}), batch.labels.reshape({-1}), kIgnoreIndex);
  return out;
}

BertForQuestionAnsweringImpl::BertForQuestionAnsweringImpl(const BertConfig& c) : BertPreTrainedModelImpl(c) {
  bert = register_module("bert", std::make_shared<BertModelImpl>(c, false));
  qa_outputs = register_module("qa_outputs", nn::Linear(c.hidden_size, c.num_labels));
}

ModelOutput BertForQuestionAnsweringImpl::forward(const Batch& batch, const ForwardOptions& options) {
  const bool has_positions = batch.start_positions.defined() && batch.end_positions.defined();
  ForwardOptions bert_options = options;
  // HF's loss takes the softmax over every position, padding included: keep it exact.
  if (has_positions && options.padding == PaddingMode::Auto) bert_options.padding = PaddingMode::Padded;
  ModelOutput out = bert->forward(batch, bert_options);
  auto logits = qa_outputs(out.last_hidden_state);  // [B,T,2]
  auto parts = logits.split(1, -1);
  out.start_logits = parts[0].squeeze(-1).contiguous();  // [B,T]
  out.end_logits = parts[1].squeeze(-1).contiguous();
  if (has_positions) {
    auto sp = batch.start_positions, ep = batch.end_positions;
    if (sp.dim() > 1) sp = sp.squeeze(-1);
    if (ep.dim() > 1) ep = ep.squeeze(-1);
    // HF: positions outside the sequence are clamped to T and ignored.
    const int64_t ignored = out.start_logits.size(1);
    sp = sp.clamp(0, ignored);
    ep = ep.clamp(0, ignored);
    auto start_loss = cross_entropy(out.start_logits, sp, ignored);
    auto end_loss = cross_entropy(out.end_logits, ep, ignored);
    out.loss = (start_loss + end_loss) / 2;
  }
  return out;
}

std::shared_ptr<BertModelImpl> base_model(const BertPreTrainedModel& model) {
  if (auto m = std::dynamic_pointer_cast<BertModelImpl>(model)) return m;
  if (auto m = std::dynamic_pointer_cast<BertForPreTrainingImpl>(model)) return m->bert;
  if (auto m = std::dynamic_pointer_cast<BertForMaskedLMImpl>(model)) return m->bert;
  if (auto m = std::dynamic_pointer_cast<BertForSequenceClassificationImpl>(model)) return m->bert;
  if (auto m = std::dynamic_pointer_cast<BertForTokenClassificationImpl>(model)) return m->bert;
  if (auto m = std::dynamic_pointer_cast<BertForQuestionAnsweringImpl>(model)) return m->bert;
  throw RuntimeError("base_model: unknown model class");
}

BertPreTrainedModel create_model(Architecture arch, const BertConfig& config) {
  config.validate("config");
  BertConfig c = config;
  c.architectures = {architecture_name(arch)};
  if (c.id2label.empty()) {  // a config built in code: HF's default LABEL_i names
    const int64_t n = c.num_labels;
    c.num_labels = 0;
    c.set_num_labels(n);
  }
  BertPreTrainedModel m;
  switch (arch) {
    case Architecture::BertModel: m = std::make_shared<BertModelImpl>(c, true); break;
    case Architecture::BertForPreTraining: m = std::make_shared<BertForPreTrainingImpl>(c); break;
    case Architecture::BertForMaskedLM: m = std::make_shared<BertForMaskedLMImpl>(c); break;
    case Architecture::BertForSequenceClassification: m = std::make_shared<BertForSequenceClassificationImpl>(c); break;
    case Architecture::BertForTokenClassification: m = std::make_shared<BertForTokenClassificationImpl>(c); break;
    case Architecture::BertForQuestionAnswering: m = std::make_shared<BertForQuestionAnsweringImpl>(c); break;
  }
  m->init_weights();
  return m;
}

}  // namespace bertkit

// bertkit forward DIR --inputs IN.safetensors --output OUT.safetensors: run a
// model in eval mode and write its outputs (and gradients) under HF's names,
// for comparison with transformers.
#include <iostream>
#include <memory>

#include "bertkit/core/error.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/training/device.h"
#include "bertkit/hub/resolve.h"
#include "command.h"

namespace {

struct ForwardArgs {
  std::string dir, inputs, output;
  bool hidden_states = false, attentions = false, grads = false;
  std::string head, device = "cpu";
};

int run_forward(const ForwardArgs& a) {
  using namespace bertkit;
  torch::Device device = parse_device(a.device);
  auto in = load_safetensors(a.inputs);
  auto get = [&](const char* key, bool integer) -> torch::Tensor {
    auto it = in.find(key);
    if (it == in.end()) return {};
    auto t = it->second;
    if (integer) {
      if (t.is_floating_point())
        throw InputError(a.inputs + ": tensor '" + key + "' must be an integer tensor, got " +
                         c10::toString(t.scalar_type()));
      t = t.to(torch::kLong);
    }
    return t.to(device);
  };
  Batch batch;
  batch.input_ids = get("input_ids", true);
  if (!batch.input_ids.defined()) throw InputError(a.inputs + ": no tensor 'input_ids'");
  if (batch.input_ids.dim() != 2) throw InputError(a.inputs + ": 'input_ids' must be [batch, tokens]");
  batch.token_type_ids = get("token_type_ids", true);
  batch.attention_mask = get("attention_mask", true);
  batch.position_ids = get("position_ids", true);
  batch.labels = get("labels", false);
  if (batch.labels.defined() && !batch.labels.is_floating_point()) batch.labels = batch.labels.to(torch::kLong);
  batch.next_sentence_label = get("next_sentence_label", true);
  batch.start_positions = get("start_positions", true);
  batch.end_positions = get("end_positions", true);

  LoadOptions lo;
  lo.device = device;
  // Out-of-range ids would otherwise surface as an index error deep in LibTorch.
  auto check_range = [&](const torch::Tensor& t, const char* key, int64_t limit, const char* config_key) {
    if (!t.defined() || t.numel() == 0) return;
    int64_t lo_v = t.min().item<int64_t>(), hi_v = t.max().item<int64_t>();
    if (lo_v < 0 || hi_v >= limit)
      throw InputError(a.inputs + ": tensor '" + key + "' has values in [" + std::to_string(lo_v) + ", " +
                       std::to_string(hi_v) + "] but the model's " + config_key + " is " + std::to_string(limit));
  };
  {
    auto cfg = BertConfig::load(a.dir + "/config.json");
    check_range(batch.input_ids, "input_ids", cfg.vocab_size, "vocab_size");
    check_range(batch.token_type_ids, "token_type_ids", cfg.type_vocab_size, "type_vocab_size");
    check_range(batch.position_ids, "position_ids", cfg.max_position_embeddings, "max_position_embeddings");
  }
  if (!a.head.empty()) lo.architecture = parse_architecture(a.head);
  auto model = load_pretrained(a.dir, lo);
  model->eval();
  if (batch.labels.defined() && !batch.labels.is_floating_point() && batch.labels.numel() > 0) {
    const auto arch = model->architecture();
    int64_t limit = 0;
    const char* what = "";
    if (arch == Architecture::BertForMaskedLM || arch == Architecture::BertForPreTraining) {
      limit = model->config.vocab_size;
      what = "vocab_size";
    } else if (arch == Architecture::BertForTokenClassification ||
               (arch == Architecture::BertForSequenceClassification && model->config.num_labels > 1)) {
      limit = model->config.num_labels;
      what = "num_labels";
    }
    if (limit > 0) {
      auto real = batch.labels.masked_select(batch.labels != -100);
      if (real.numel() > 0 && (real.min().item<int64_t>() < 0 || real.max().item<int64_t>() >= limit))
        throw InputError(a.inputs + ": tensor 'labels' has values outside [0, " + std::to_string(limit) +
                         ") (the model's " + what + "; -100 marks ignored positions)");
    }
  }
  ForwardOptions fo;
  fo.padding = PaddingMode::Padded;  // every position as HF computes it, padding included
  fo.output_hidden_states = a.hidden_states;
  fo.output_attentions = a.attentions;
  ModelOutput out;
  if (a.grads) {
    out = model->forward(batch, fo);
    if (!out.loss.defined())
      throw InputError("--grads needs a loss: " + a.inputs + " has no labels (labels, next_sentence_label, "
                       "start_positions/end_positions) for " + architecture_name(model->architecture()));
    out.loss.backward();
  } else {
    torch::NoGradGuard ng;
    out = model->forward(batch, fo);
  }
  std::map<std::string, torch::Tensor> t;
  auto put = [&](const std::string& k, const torch::Tensor& v) {
    if (v.defined()) t[k] = v.detach().to(torch::kCPU).contiguous();
  };
  if (out.loss.defined()) put("loss", out.loss.reshape({1}));
  if (model->architecture() == Architecture::BertForPreTraining) {
    put("prediction_logits", out.logits);
    put("seq_relationship_logits", out.seq_relationship_logits);
  } else {
    put("logits", out.logits);
  }
  put("start_logits", out.start_logits);
  put("end_logits", out.end_logits);
  put("last_hidden_state", out.last_hidden_state);
  put("pooler_output", out.pooler_output);
  for (size_t i = 0; i < out.hidden_states.size(); ++i) put("hidden_states." + std::to_string(i), out.hidden_states[i]);
  for (size_t i = 0; i < out.attentions.size(); ++i) put("attentions." + std::to_string(i), out.attentions[i]);
  if (a.grads)
    for (const auto& p : model->named_parameters())
      if (p.value().grad().defined()) put("grad." + p.key(), p.value().grad());
  save_safetensors(a.output, t, {{"format", "pt"}});
  std::cout << "wrote " << t.size() << " tensors to " << a.output;
  if (out.loss.defined()) std::cout << " (loss " << out.loss.item<double>() << ")";
  std::cout << "\n";
  return 0;
}

bertkit::cli::Action setup_forward(CLI::App& sub) {
  auto a = std::make_shared<ForwardArgs>();
  sub.add_option("dir", a->dir, "An HF model directory, a bertkit training checkpoint or a Hub id (org/name[@revision])")->required();
  sub.add_option("--inputs", a->inputs,
                 "Safetensors with input_ids [B,T] and optionally token_type_ids, attention_mask, position_ids, "
                 "labels, next_sentence_label, start_positions, end_positions")
      ->required();
  sub.add_option("--output", a->output,
                 "Safetensors to write: loss, logits (prediction_logits/seq_relationship_logits for pretraining, "
                 "start_logits/end_logits for QA), last_hidden_state, pooler_output")
      ->required();
  sub.add_flag("--hidden-states", a->hidden_states, "Also write hidden_states.0..N (embeddings, then each layer)");
  sub.add_flag("--attentions", a->attentions, "Also write attentions.0..N-1, each layer's probabilities [B,NH,T,T]");
  sub.add_flag("--grads", a->grads, "Backpropagate the loss and write grad.<parameter> for every parameter");
  sub.add_option("--head", a->head, "Architecture to load as (default: config.json's architectures[0])");
  sub.add_option("--device", a->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  return [a] {
    a->dir = bertkit::hub::resolve_model_dir(a->dir, "DIR");  // a Hub id -> its snapshot
    return run_forward(*a);
  };
}

bertkit::cli::Registrar reg({"forward", "Run a model on saved tensors and write outputs/gradients (HF names)",
                             setup_forward, "Models"});

}  // namespace

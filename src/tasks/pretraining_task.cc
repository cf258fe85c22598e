#include "bertkit/tasks/pretraining_task.h"

#include <cmath>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/data/masking.h"
#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit {

PretrainingDataset::PretrainingDataset(std::shared_ptr<ShardedInstances> instances,
                                       std::shared_ptr<PretrainingCollator> collator, bool static_masking,
                                       uint64_t static_seed)
    : instances_(std::move(instances)), collator_(std::move(collator)), static_masking_(static_masking),
      static_seed_(static_seed) {}

Batch PretrainingDataset::collate(const std::vector<int64_t>& indices, uint64_t seed) const {
  std::vector<InstanceView> views;
  std::vector<uint64_t> seeds;
  views.reserve(indices.size());
  seeds.reserve(indices.size());
  for (int64_t i : indices) {
    views.push_back(instances_->get(i));
    seeds.push_back(static_masking_ ? mix_seed(static_seed_, static_cast<uint64_t>(i), 0x57A7)
                                    : mix_seed(seed, static_cast<uint64_t>(i)));
  }
  return collator_->collate(views, seeds);
}

int64_t PretrainingDataset::example_length(int64_t i) const {
  const InstanceView in = instances_->get(i);
  return 2 + static_cast<int64_t>(in.len_a) + (in.len_b > 0 ? 1 + static_cast<int64_t>(in.len_b) : 0);
}

namespace {

class PretrainingTask : public Task {
 public:
  PretrainingTask(const TaskInputs& in, bool mlm_only) : mlm_only_(mlm_only) {
    json::ObjectReader data(in.data, in.data_path);
    dir_ = data.required<std::string>("shards");
    data.finish();
    index_ = ShardIndex::load(dir_);

    json::ObjectReader t(in.task, in.task_path);
    CollatorOptions co;
    nsp_ = mlm_only ? false : t.get<bool>("nsp", index_.nsp);
    if (mlm_only && t.has("nsp") && t.get<bool>("nsp", false))
      throw InputError(in.task_path + ".nsp: the \"mlm\" task has no NSP; use type \"pretraining\"");
    if (nsp_ && !index_.nsp)
      throw InputError(in.task_path + ".nsp: the shards in " + dir_ +
                       " were prepared without NSP (packed segments); prepare with NSP or set nsp false");
    t.read("mlm_probability", co.masking.mlm_probability);
    t.read("mask_token_probability", co.masking.mask_token_probability);
    t.read("random_token_probability", co.masking.random_token_probability);
    t.read("whole_word_masking", co.masking.whole_word_masking);
    t.read("max_predictions_per_seq", co.masking.max_predictions_per_seq);
    t.read("pad_to_multiple_of", co.pad_to_multiple_of);
    t.read("pad_to_max_length", co.pad_to_max_length);
    t.finish();
    co.masking.validate(in.task_path);
    co.nsp = nsp_;
    co.max_seq_length = index_.max_seq_length;
    if (index_.max_seq_length > in.context.max_seq_length)
      throw InputError(dir_ + ": shards prepared for max_seq_length " + std::to_string(index_.max_seq_length) +
                       " but the model has only " + std::to_string(in.context.max_seq_length) + " positions");
    options_ = co;

    const Tokenizer& tok = *in.tokenizer;
    const auto& sp = tok.special_tokens();
    if (static_cast<int64_t>(tok.vocab_size()) != index_.vocab_size || sp.cls != index_.cls_id ||
        sp.sep != index_.sep_id || sp.pad != index_.pad_id || sp.mask != index_.mask_id)
      throw InputError(dir_ + "/index.json: the shards were made with another tokenizer (vocab " +
                       std::to_string(index_.vocab_size) + ", [CLS] " + std::to_string(index_.cls_id) +
                       ") than the run's (vocab " + std::to_string(tok.vocab_size()) + ", [CLS] " +
                       std::to_string(sp.cls) + ")");
    collator_ = std::make_shared<PretrainingCollator>(MaskingVocab::from_tokenizer(tok), sp.cls, sp.sep, sp.pad, co);
    train_ = std::make_shared<PretrainingDataset>(std::make_shared<ShardedInstances>(dir_, index_.train), collator_,
                                                  index_.static_masking, index_.seed);
    if (!index_.eval.files.empty())
      eval_ = std::make_shared<PretrainingDataset>(std::make_shared<ShardedInstances>(dir_, index_.eval), collator_,
                                                   index_.static_masking, index_.seed);
  }

  std::string name() const override { return mlm_only_ ? "mlm" : "pretraining"; }
  Architecture architecture() const override {
    return nsp_ ? Architecture::BertForPreTraining : Architecture::BertForMaskedLM;
  }
  std::shared_ptr<Dataset> train_dataset() override { return train_; }
  bool has_eval() const override { return eval_ && eval_->size() > 0; }
  MetricSpec default_metric() const override { return {"loss", false}; }

  nlohmann::json resolved_task_section() const override {
    return {{"nsp", nsp_}, {"mlm_probability", options_.masking.mlm_probability},
            {"mask_token_probability", options_.masking.mask_token_probability},
            {"random_token_probability", options_.masking.random_token_probability},
            {"whole_word_masking", options_.masking.whole_word_masking},
            {"max_predictions_per_seq", options_.masking.max_predictions_per_seq},
            {"pad_to_multiple_of", options_.pad_to_multiple_of}, {"pad_to_max_length", options_.pad_to_max_length}};
  }
  nlohmann::json resolved_data_section() const override { return {{"shards", dir_}}; }

  // MLM loss/accuracy over all predicted tokens, NSP loss/accuracy over pairs.
  Metrics evaluate(BertPreTrainedModelImpl& model, const EvalOptions& eo) override {
    double mlm_loss_sum = 0, mlm_correct = 0, mlm_count = 0, nsp_loss_sum = 0, nsp_correct = 0, nsp_count = 0;
    const int64_t n = eval_->size();
    int64_t batches = 0;
    for (int64_t start = 0; start < n; start += eo.batch_size) {
      if (eo.max_batches > 0 && batches >= eo.max_batches) break;
      if (!eo.runs_batch(batches++)) continue;  // another process's batch
      std::vector<int64_t> idx;
      for (int64_t i = start; i < std::min(n, start + eo.batch_size); ++i) idx.push_back(i);
      Batch batch = eval_->collate(idx, eo.seed).to(eo.device);
      ModelOutput out = model.forward(batch, eo.forward);
      // labels [B, T] -> the predicted positions' labels [P]
      torch::Tensor flat_labels = batch.labels.reshape({-1});
      torch::Tensor logits, labels;
      if (out.mlm_positions.defined()) {  // sparse head: logits [P, V]
        logits = out.logits;
        labels = flat_labels.index_select(0, out.mlm_positions);
      } else {                            // dense head: logits [B, T, V]
        torch::Tensor keep = flat_labels.ne(-100);
        logits = out.logits.reshape({-1, out.logits.size(-1)}).index({keep});
        labels = flat_labels.index({keep});
      }
      const double count = static_cast<double>(labels.numel());
      if (count > 0) {
        mlm_loss_sum += torch::nn::functional::cross_entropy(logits.to(torch::kFloat), labels,
                                                             torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                            .item<double>();
        mlm_correct += logits.argmax(-1).eq(labels).sum().item<double>();
        mlm_count += count;
      }
      if (nsp_ && out.seq_relationship_logits.defined()) {
        auto nsp_logits = out.seq_relationship_logits.to(torch::kFloat);  // [B, 2]
        nsp_loss_sum += torch::nn::functional::cross_entropy(nsp_logits, batch.next_sentence_label,
                                                             torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                            .item<double>();
        nsp_correct += nsp_logits.argmax(-1).eq(batch.next_sentence_label).sum().item<double>();
        nsp_count += static_cast<double>(batch.next_sentence_label.numel());
      }
    }
    const std::vector<double> sums =
        eo.sum({mlm_loss_sum, mlm_correct, mlm_count, nsp_loss_sum, nsp_correct, nsp_count});
    mlm_loss_sum = sums[0], mlm_correct = sums[1], mlm_count = sums[2];
    nsp_loss_sum = sums[3], nsp_correct = sums[4], nsp_count = sums[5];
    Metrics m;
    const double mlm_loss = mlm_count > 0 ? mlm_loss_sum / mlm_count : 0.0;
    m["mlm_loss"] = mlm_loss;
    m["mlm_accuracy"] = mlm_count > 0 ? mlm_correct / mlm_count : 0.0;
    m["perplexity"] = std::exp(mlm_loss);
    double loss = mlm_loss;
    if (nsp_) {
      m["nsp_loss"] = nsp_count > 0 ? nsp_loss_sum / nsp_count : 0.0;
      m["nsp_accuracy"] = nsp_count > 0 ? nsp_correct / nsp_count : 0.0;
      loss += m["nsp_loss"];
    }
    m["loss"] = loss;
    return m;
  }

 private:
  bool mlm_only_;
  bool nsp_ = true;
  std::string dir_;
  ShardIndex index_;
  CollatorOptions options_;
  std::shared_ptr<PretrainingCollator> collator_;
  std::shared_ptr<PretrainingDataset> train_, eval_;
};

}  // namespace

std::unique_ptr<Task> make_pretraining_task(const TaskInputs& inputs) {
  return std::make_unique<PretrainingTask>(inputs, false);
}
std::unique_ptr<Task> make_mlm_task(const TaskInputs& inputs) { return std::make_unique<PretrainingTask>(inputs, true); }

}  // namespace bertkit

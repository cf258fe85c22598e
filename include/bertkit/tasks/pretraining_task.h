// The pretraining task: MLM (+ NSP) over shards made by `bertkit prepare`.
// Registered as "pretraining" (NSP follows the shards unless task.nsp says
// otherwise) and "mlm" (MLM only, BertForMaskedLM).
//
// task section:
//   nsp                       bool    default: the shards' (pairs with a next-sentence label)
//   mlm_probability           number  0.15
//   mask_token_probability    number  0.8   (chosen tokens -> [MASK])
//   random_token_probability  number  0.1   (chosen tokens -> random id; the rest stay)
//   whole_word_masking        bool    false
//   max_predictions_per_seq   int     0 (no cap; BERT used 20 at seq 128, 80 at 512)
//   pad_to_multiple_of        int     8
//   pad_to_max_length         bool    false (static shapes: T = the shards' max_seq_length)
// data section:
//   shards                    string  the folder made by `bertkit prepare` (required)
//
// Metrics: loss (mlm_loss + nsp_loss), mlm_loss, mlm_accuracy, perplexity
// (exp mlm_loss), nsp_loss and nsp_accuracy (with NSP). Best by "loss", lower.
#pragma once

#include <memory>
#include <string>

#include "bertkit/data/collator.h"
#include "bertkit/data/shards.h"
#include "bertkit/training/task.h"

namespace bertkit {

// A split of prepared shards as a trainer Dataset. Masks are drawn from
// mix_seed(seed, index) per instance (dynamic: seed changes every step), or
// from the shards' seed and the instance index (static masking: the same
// mask every epoch).
class PretrainingDataset : public Dataset {
 public:
  PretrainingDataset(std::shared_ptr<ShardedInstances> instances, std::shared_ptr<PretrainingCollator> collator,
                     bool static_masking, uint64_t static_seed);
  int64_t size() const override { return instances_->size(); }
  Batch collate(const std::vector<int64_t>& indices, uint64_t seed) const override;
  // [CLS] A [SEP] (B [SEP]), without collating.
  int64_t example_length(int64_t i) const override;

 private:
  std::shared_ptr<ShardedInstances> instances_;
  std::shared_ptr<PretrainingCollator> collator_;
  bool static_masking_;
  uint64_t static_seed_;
};

// The pretraining tasks (registered by register_builtin_tasks(), tasks/registry.h):
// "pretraining" (MLM + NSP, BertForPreTraining) and "mlm" (MLM only, BertForMaskedLM).
std::unique_ptr<Task> make_pretraining_task(const TaskInputs& inputs);
std::unique_ptr<Task> make_mlm_task(const TaskInputs& inputs);

}  // namespace bertkit

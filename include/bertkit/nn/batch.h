// Batch: the one flat struct between data and models (docs/architecture.md).
// Shapes use the legend: B batch, T tokens, P masked positions.
#pragma once

#include <torch/types.h>

namespace bertkit {

struct Batch {
  torch::Tensor input_ids;            // [B, T] int64
  torch::Tensor token_type_ids;       // [B, T] int64 (undefined: zeros)
  torch::Tensor attention_mask;       // [B, T] int64 1 real / 0 pad (undefined: all ones)
  torch::Tensor position_ids;         // [B, T] int64 (undefined: 0..T-1)
  // Labels, each undefined when absent:
  torch::Tensor labels;               // MLM [B, T] (-100 ignored); token cls [B, T]; seq cls [B] int64 or [B] / [B, L] float
  torch::Tensor next_sentence_label;  // [B] int64
  torch::Tensor start_positions;      // [B] int64
  torch::Tensor end_positions;        // [B] int64

  int64_t batch_size() const { return input_ids.defined() ? input_ids.size(0) : 0; }
  int64_t num_tokens() const;         // count of attention_mask == 1 (or B*T)
  Batch to(const torch::Device& device) const;
};

}  // namespace bertkit

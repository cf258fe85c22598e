#include "bertkit/nn/batch.h"

namespace bertkit {

int64_t Batch::num_tokens() const {
  if (!input_ids.defined()) return 0;
  if (!attention_mask.defined()) return input_ids.numel();
  return attention_mask.sum().item<int64_t>();
}

Batch Batch::to(const torch::Device& device) const {
  auto mv = [&](const torch::Tensor& t) { return t.defined() ? t.to(device, /*non_blocking=*/true) : t; };
  Batch b;
  b.input_ids = mv(input_ids);
  b.token_type_ids = mv(token_type_ids);
  b.attention_mask = mv(attention_mask);
  b.position_ids = mv(position_ids);
  b.labels = mv(labels);
  b.next_sentence_label = mv(next_sentence_label);
  b.start_positions = mv(start_positions);
  b.end_positions = mv(end_positions);
  return b;
}

}  // namespace bertkit

// Attention over variable-length sequences stored back to back (the padding-free
// layout of nn/batch.h): softmax(q k^T * scale) v for each sequence, with dropout
// on the probabilities in training, as HF's eager BertSelfAttention computes it.
//
// One autograd node for the whole batch: the forward and the backward loop over
// the runs of equal-length sequences with plain ATen ops. Written per run with
// autograd ops instead, every narrow() of q/k/v gets its own backward node that
// fills a zero [N,H] gradient (quadratic in the number of runs) and each op
// records a node; for a batch of 32 short sentences that bookkeeping costs more
// than the attention arithmetic. Dropout's masks are nn/dropout.h's, drawn for
// each run's probabilities in run order.
#pragma once

#include <torch/types.h>

#include "bertkit/nn/batch.h"

namespace bertkit {

struct VarlenAttentionOptions {
  int64_t num_heads = 1;
  double scale = 1.0;      // 1/sqrt(head_dim)
  double dropout_p = 0.0;  // on the attention probabilities, when training
  bool training = false;
};

// q, k, v: [N, num_heads*head_dim] rows in `layout`'s order -> context [N, num_heads*head_dim].
// Differentiable in q, k and v.
torch::Tensor varlen_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const UnpaddedLayout& layout, const VarlenAttentionOptions& options);

}  // namespace bertkit

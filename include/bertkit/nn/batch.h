// Batch: the one flat struct between data and models (docs/architecture.md).
// Shapes use the legend: B batch, T tokens, P masked positions.
#pragma once

#include <vector>

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

// Consecutive sequences of one length in an UnpaddedLayout: rows offset..offset+count*length
// of the flat tensor, viewable as [count, length, ...] without a copy.
struct SequenceRun {
  int64_t offset, count, length;
};

// The padding-free layout of a [B,T] attention mask: the real tokens of all sequences back
// to back, sequence b in rows cu_seqlens[b]..cu_seqlens[b+1] (N = attention_mask.sum()).
struct UnpaddedLayout {
  int64_t batch_size = 0, seq_len = 0;   // B, T of the padded batch
  torch::Tensor indices;                 // [N] int64: flat positions b*T+t of the real tokens, row-major
  torch::Tensor cu_seqlens;              // [B+1] int64 cumulative lengths (on the mask's device)
  std::vector<int64_t> seqlens;          // [B] lengths on the host
  std::vector<SequenceRun> runs;         // maximal runs of equal, non-zero length, in batch order

  int64_t num_tokens() const { return indices.defined() ? indices.size(0) : 0; }
  torch::Tensor unpad(const torch::Tensor& padded) const;  // [B,T,...] -> [N,...]
  torch::Tensor pad(const torch::Tensor& flat) const;      // [N,...] -> [B,T,...], zeros at padding
};

// Reads the lengths back to the host (one sync). Any 0/1 mask works; tokens keep their row order.
UnpaddedLayout unpadded_layout(const torch::Tensor& attention_mask);

}  // namespace bertkit

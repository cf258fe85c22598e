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

UnpaddedLayout unpadded_layout(const torch::Tensor& attention_mask) {
  UnpaddedLayout l;
  l.batch_size = attention_mask.size(0);
  l.seq_len = attention_mask.size(1);
  auto real = attention_mask.ne(0);
  l.indices = real.reshape({-1}).nonzero().squeeze(1);  // [N]
  auto lengths = real.sum(1).to(torch::kCPU, torch::kLong).contiguous();  // [B]
  l.seqlens.assign(lengths.data_ptr<int64_t>(), lengths.data_ptr<int64_t>() + l.batch_size);
  auto cu = torch::zeros({l.batch_size + 1}, torch::kLong);
  if (l.batch_size > 0) cu.slice(0, 1).copy_(lengths.cumsum(0));
  l.cu_seqlens = cu.to(attention_mask.device());
  int64_t offset = 0;
  for (int64_t len : l.seqlens) {
    if (len > 0) {
      if (!l.runs.empty() && l.runs.back().length == len)
        ++l.runs.back().count;
      else
        l.runs.push_back({offset, 1, len});
    }
    offset += len;
  }
  return l;
}

torch::Tensor UnpaddedLayout::unpad(const torch::Tensor& padded) const {
  auto sizes = padded.sizes().vec();
  sizes.erase(sizes.begin());
  sizes[0] = batch_size * seq_len;
  return padded.reshape(sizes).index_select(0, indices);
}

torch::Tensor UnpaddedLayout::pad(const torch::Tensor& flat) const {
  auto sizes = flat.sizes().vec();
  sizes[0] = batch_size * seq_len;
  auto out = torch::zeros(sizes, flat.options()).index_copy(0, indices, flat);
  sizes[0] = seq_len;
  sizes.insert(sizes.begin(), batch_size);
  return out.view(sizes);
}

}  // namespace bertkit

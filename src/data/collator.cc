#include "bertkit/data/collator.h"

#include <random>

#include "bertkit/core/error.h"

namespace bertkit {

PretrainingCollator::PretrainingCollator(MaskingVocab vocab, int32_t cls_id, int32_t sep_id, int32_t pad_id,
                                         CollatorOptions options)
    : vocab_(std::move(vocab)), cls_(cls_id), sep_(sep_id), pad_(pad_id), options_(std::move(options)) {}

Batch PretrainingCollator::collate(const std::vector<InstanceView>& instances, const std::vector<uint64_t>& seeds) const {
  const int64_t B = static_cast<int64_t>(instances.size());
  if (B == 0) throw RuntimeError("collate: empty batch");
  if (seeds.size() != instances.size()) throw RuntimeError("collate: one seed per instance expected");
  // Build each sequence with its specials.
  std::vector<std::vector<int32_t>> seqs(B);
  std::vector<std::size_t> len_first(B);  // [CLS] A [SEP]
  int64_t T = 0;
  for (int64_t i = 0; i < B; ++i) {
    const auto& in = instances[i];
    auto& s = seqs[i];
    s.reserve(in.len_a + in.len_b + 3);
    s.push_back(cls_);
    for (uint32_t k = 0; k < in.len_a; ++k) s.push_back(in.id(k));
    s.push_back(sep_);
    len_first[i] = s.size();
    if (in.len_b > 0) {
      for (uint32_t k = 0; k < in.len_b; ++k) s.push_back(in.id(in.len_a + k));
      s.push_back(sep_);
    }
    if (static_cast<int64_t>(s.size()) > options_.max_seq_length)
      throw InputError("instance of " + std::to_string(s.size()) + " tokens exceeds max_seq_length " +
                       std::to_string(options_.max_seq_length) + " (shards prepared for a longer sequence length?)");
    T = std::max<int64_t>(T, static_cast<int64_t>(s.size()));
  }
  if (options_.pad_to_max_length) T = options_.max_seq_length;
  else if (options_.pad_to_multiple_of > 1)
    T = std::min(options_.max_seq_length,
                 (T + options_.pad_to_multiple_of - 1) / options_.pad_to_multiple_of * options_.pad_to_multiple_of);

  auto ids = torch::full({B, T}, pad_, torch::kLong);            // [B, T]
  auto types = torch::zeros({B, T}, torch::kLong);               // [B, T]
  auto mask = torch::zeros({B, T}, torch::kLong);                // [B, T]
  auto labels = torch::full({B, T}, -100, torch::kLong);         // [B, T]
  auto nsp = torch::full({B}, -100, torch::kLong);               // [B]
  auto ids_a = ids.accessor<int64_t, 2>();
  auto types_a = types.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<int64_t, 2>();
  auto labels_a = labels.accessor<int64_t, 2>();
  std::vector<int64_t> lab;
  for (int64_t i = 0; i < B; ++i) {
    auto& s = seqs[i];
    const std::size_t n = s.size();
    std::mt19937_64 rng(seeds[i]);
    mask_sequence(s, lab, n, vocab_, options_.masking, rng);
    for (std::size_t t = 0; t < n; ++t) {
      ids_a[i][t] = s[t];
      mask_a[i][t] = 1;
      types_a[i][t] = t < len_first[i] ? 0 : 1;
      labels_a[i][t] = lab[t];
    }
    if (options_.nsp) nsp[i] = instances[i].next_label;
  }
  Batch b;
  b.input_ids = ids;
  b.token_type_ids = types;
  b.attention_mask = mask;
  b.labels = labels;
  if (options_.nsp) b.next_sentence_label = nsp;
  return b;
}

}  // namespace bertkit

// Pretraining instances -> Batch: adds [CLS]/[SEP], segment ids, padding, MLM
// masking (masking.h) and the NSP label.
//   NSP pair:  [CLS] A [SEP] B [SEP]   token_type 0...0 1...1
//   packed:    [CLS] A [SEP]           token_type 0
// Legend: B batch, T tokens (the longest sequence in the batch, rounded up to
// pad_to_multiple_of, or max_seq_length with pad_to_max_length).
#pragma once

#include <cstdint>
#include <vector>

#include "bertkit/data/masking.h"
#include "bertkit/data/shards.h"
#include "bertkit/nn/batch.h"

namespace bertkit {

struct CollatorOptions {
  MaskingOptions masking;
  bool nsp = true;                 // emit next_sentence_label
  int64_t pad_to_multiple_of = 8;  // 0/1: no rounding
  bool pad_to_max_length = false;  // fixed T = max_seq_length (static shapes)
  int64_t max_seq_length = 512;
};

class PretrainingCollator {
 public:
  PretrainingCollator(MaskingVocab vocab, int32_t cls_id, int32_t sep_id, int32_t pad_id, CollatorOptions options);
  // One batch. seeds[i] seeds the masking of instances[i].
  //   input_ids, token_type_ids, attention_mask, labels: [B, T] int64; next_sentence_label: [B] int64
  Batch collate(const std::vector<InstanceView>& instances, const std::vector<uint64_t>& seeds) const;
  const CollatorOptions& options() const { return options_; }
  const MaskingVocab& vocab() const { return vocab_; }

 private:
  MaskingVocab vocab_;
  int32_t cls_, sep_, pad_;
  CollatorOptions options_;
};

}  // namespace bertkit

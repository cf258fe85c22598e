// Helpers the fine-tuning tasks share (src/tasks/*_task.cc): padded input
// batches, label lists in a model config, length-sorted evaluation batches,
// prediction files. Internal to bertkit_tasks.
// Legend: B batch, T tokens.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bertkit/models/config.h"
#include "bertkit/nn/batch.h"
#include "bertkit/training/task.h"

namespace bertkit {

// [B, T] inputs from id sequences, right-padded.
Batch pad_inputs(const std::vector<const std::vector<int32_t>*>& ids,
                 const std::vector<const std::vector<int32_t>*>& types, int32_t pad_id);

// A tensor's values as floats, on the host.
std::vector<float> row_vector(const torch::Tensor& t);

// One JSON object a line, written atomically; nothing when path is empty.
void write_jsonl(const std::string& path, const std::vector<nlohmann::json>& rows);

// Label names of a model config when they are real names (not LABEL_i defaults).
std::vector<std::string> config_labels(const BertConfig* c);

// num_labels, id2label and label2id from a list of names.
void set_labels(BertConfig& config, const std::vector<std::string>& labels);

// Evaluation batches: the examples (the first max_batches * batch_size of them when
// max_batches is set) sorted by length, so a batch pads to little; `f` gets each
// batch's example indices, and callers store results by index to report them in
// input order.
template <class Length, class F>
void for_batches(int64_t n, const EvalOptions& o, Length&& length_of, F&& f) {
  const int64_t bs = std::max<int64_t>(1, o.batch_size);
  if (o.max_batches > 0) n = std::min(n, o.max_batches * bs);
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return length_of(a) < length_of(b); });
  for (int64_t s = 0; s < n; s += bs) {
    f(std::vector<int64_t>(order.begin() + s, order.begin() + std::min(n, s + bs)));
    if (o.on_progress) o.on_progress(std::min(n, s + bs), n);
  }
}

}  // namespace bertkit

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
// batch's example indices (with several processes, only this process's batches:
// o.runs_batch), and callers store results by index to report them in input
// order, after gather_rows when evaluating with several processes.
template <class Length, class F>
void for_batches(int64_t n, const EvalOptions& o, Length&& length_of, F&& f) {
  const int64_t bs = std::max<int64_t>(1, o.batch_size);
  if (o.max_batches > 0) n = std::min(n, o.max_batches * bs);
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return length_of(a) < length_of(b); });
  for (int64_t s = 0; s < n; s += bs) {
    if (o.runs_batch(s / bs)) f(std::vector<int64_t>(order.begin() + s, order.begin() + std::min(n, s + bs)));
    if (o.on_progress) o.on_progress(std::min(n, s + bs), n);
  }
}

// After a data-parallel for_batches, where each process filled the rows of
// its own batches and left the others empty: every row, on every process
// (values of float or int32 rows pass through double exactly).
template <class T>
void gather_rows(std::vector<std::vector<T>>& rows, const EvalOptions& o) {
  if (!o.shared_out()) return;
  std::vector<double> lengths(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) lengths[i] = static_cast<double>(rows[i].size());
  lengths = o.sum(lengths);  // each row is filled on one process only
  std::vector<std::size_t> offset(rows.size() + 1, 0);
  for (std::size_t i = 0; i < rows.size(); ++i) offset[i + 1] = offset[i] + static_cast<std::size_t>(lengths[i]);
  std::vector<double> flat(offset.back(), 0.0);
  for (std::size_t i = 0; i < rows.size(); ++i) std::copy(rows[i].begin(), rows[i].end(), flat.begin() + offset[i]);
  flat = o.sum(flat);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].resize(offset[i + 1] - offset[i]);
    for (std::size_t k = 0; k < rows[i].size(); ++k) rows[i][k] = static_cast<T>(flat[offset[i] + k]);
  }
}

// A loss summed over examples (or tokens) and their count: over every process.
inline void sum_loss_over_processes(double& loss_sum, int64_t& loss_count, const EvalOptions& o) {
  const std::vector<double> sums = o.sum({loss_sum, static_cast<double>(loss_count)});
  loss_sum = sums[0];
  loss_count = static_cast<int64_t>(sums[1]);
}

}  // namespace bertkit

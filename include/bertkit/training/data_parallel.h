// Gradient averaging for data-parallel training with c10d's Reducer, the
// engine under PyTorch's DistributedDataParallel (DESIGN.md decision 8):
// gradients are copied into buckets (the first 1 MiB, then
// train.distributed.bucket_cap_mb, assigned by c10d's
// compute_bucket_assignment_by_size in the order backward produces them) and
// each bucket is all-reduced as soon as it is full, while backward still runs.
// With gradient accumulation only the last micro-batch's backward reduces
// (DDP's no_sync): the others accumulate locally.
//
// The step reads:
//   data_parallel.before_backward(loss, /*sync=*/last_micro_batch);
//   loss.backward();                       // buckets all-reduced on the way
//   data_parallel.synchronize_gradients(); // after the last micro-batch: grads are the mean
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bertkit/training/distributed.h"

namespace bertkit {

struct DataParallelOptions {
  bool find_unused_parameters = false;  // DDP's: traverse the loss's graph for parameters it does not reach
  double bucket_cap_mb = 25;            // DDP's bucket_cap_mb
};

class DataParallel {
 public:
  // `params`: the trainable parameters (duplicates, i.e. tied weights, once).
  // Nothing is reduced when dist has one process.
  DataParallel(std::shared_ptr<Distributed> dist, const std::vector<torch::Tensor>& params,
               const std::vector<std::string>& names, const DataParallelOptions& options = {});
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  // Before a micro-batch's backward: `sync` when it is the optimizer step's
  // last, whose backward all-reduces (with the gradients of the earlier ones).
  void before_backward(const torch::Tensor& loss, bool sync);
  // After the step's last backward: checks that it did reduce (the averaged
  // gradients are then in each parameter's grad()). RuntimeError naming the
  // rank when a collective failed.
  void synchronize_gradients();
  // Buckets as the Reducer holds them now (parameter indices), for tests.
  std::vector<std::vector<std::size_t>> buckets() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bertkit

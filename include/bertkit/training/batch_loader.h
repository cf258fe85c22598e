// The training data order and the prefetching loader that follows it.
//
// BatchSampler says which examples form micro-batch `micro_batch` of `epoch`
// for this process: a permutation seeded by (train.seed, epoch), cut into
// global batches of batch_size x world_size, each split across ranks with
// token counts as even as split_by_tokens can make them (a data-parallel step
// waits for its slowest process). With
// group_by_length it first regroups the permutation as HF's LengthGroupedSampler
// (megabatches of 50 global steps, each sorted longest first, the longest
// example of the epoch in the first batch). The order depends on nothing but
// (seed, epoch), so a resumed run sees the batches it would have seen.
//
// BatchLoader collates the micro-batches from a position on, in order, on
// `workers` threads into a bounded queue while the step runs (0 workers: on
// the caller's thread). Each batch depends only on its position (indices and
// the MLM-masking seed mix_seed(seed, epoch, micro_batch)), never on which
// thread made it or when, so every worker count yields the same batches.
// On CUDA the batches are pinned by the workers and copied without blocking.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <torch/types.h>

#include "bertkit/training/task.h"

namespace bertkit {

// Where a run is in its data: the next micro-batch of an epoch.
struct DataPosition {
  int64_t epoch = 0;
  int64_t micro_batch = 0;
};

struct BatchSamplerOptions {
  uint64_t seed = 42;
  int64_t batch_size = 8;   // per process
  int rank = 0;
  int world_size = 1;
  bool drop_last = false;   // drop an incomplete last global batch (always with > 1 process)
  bool group_by_length = false;
  // HF's LengthGroupedSampler batch size: examples per optimizer step, all
  // processes together (batch_size x gradient_accumulation_steps x world_size).
  int64_t examples_per_step = 8;
};

// One global batch split into world_size parts of equal size (it must divide),
// the longest examples first, each to the part with room and the fewest tokens
// so far (the lowest-numbered of equals); each part keeps the batch's order.
// lengths[k] is global_batch[k]'s token count.
std::vector<std::vector<int64_t>> split_by_tokens(const std::vector<int64_t>& global_batch,
                                                  const std::vector<int64_t>& lengths, int world_size);

class BatchSampler {
 public:
  BatchSampler(const Dataset& data, BatchSamplerOptions options);
  int64_t micro_batches_per_epoch() const { return micro_per_epoch_; }
  // The examples of micro-batch `p` for this process.
  std::vector<int64_t> indices(const DataPosition& p);
  // The seed of that micro-batch's random choices (MLM masking).
  uint64_t collate_seed(const DataPosition& p) const;
  // Every example index of `epoch` in the order batches take them.
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  // The position after `p` (the next epoch after its last micro-batch).
  DataPosition next(const DataPosition& p) const;

 private:
  const Dataset& data_;
  BatchSamplerOptions options_;
  int64_t micro_per_epoch_ = 0;
  std::vector<int64_t> lengths_;      // example lengths (group_by_length only)
  std::vector<int64_t> order_;        // epoch_order(order_of_)
  int64_t order_of_ = -1;
};

// HF's LengthGroupedSampler regrouping of a permutation: megabatches of
// min(n / (4 x examples_per_step), 50) x examples_per_step (at least one step),
// each sorted by length, longest first (ties keep their order), then the
// example of the longest megabatch head swapped to the very front.
std::vector<int64_t> group_by_length(const std::vector<int64_t>& permutation, const std::vector<int64_t>& lengths,
                                     int64_t examples_per_step);

struct LoadedBatch {
  DataPosition position;
  Batch batch;          // on the loader's device
  int64_t tokens = 0;   // Dataset::count_tokens of the batch
};

struct BatchLoaderOptions {
  int workers = 1;      // collating threads; 0: collate in next() on the caller's thread
  int64_t prefetch = 0; // batches made ahead (bounded queue); 0: 2 per worker
  torch::Device device = torch::kCPU;
};

class BatchLoader {
 public:
  BatchLoader(std::shared_ptr<Dataset> data, BatchSampler sampler, BatchLoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;
  const BatchSampler& sampler() const { return sampler_; }
  // Yield the micro-batches from `from` on (drops whatever was prefetched).
  void start(const DataPosition& from);
  // The next micro-batch; rethrows a worker's exception.
  LoadedBatch next();

 private:
  struct Job {
    DataPosition position;
    std::vector<int64_t> indices;
    uint64_t seed = 0;
  };
  struct Made {
    LoadedBatch batch;
    std::exception_ptr error;
  };
  Job claim_locked();                 // the next position to make (mutex held)
  LoadedBatch make(const Job& job) const;
  void work();
  void stop_workers();

  std::shared_ptr<Dataset> data_;
  BatchSampler sampler_;
  BatchLoaderOptions options_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable job_room_, made_ready_;
  DataPosition claim_at_;             // the next position to claim
  int64_t claimed_ = 0, taken_ = 0;   // sequence numbers since start()
  std::map<int64_t, Made> made_;      // sequence number -> batch
  bool stopping_ = false;
};

}  // namespace bertkit

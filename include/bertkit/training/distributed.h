// Data-parallel training over LibTorch's c10d process groups (docs/architecture.md),
// configured from the variables torchrun sets: RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT.
//
// The backend is Gloo (CPU tensors; CUDA tensors are staged through it too).
// NCCL is used for CUDA when bertkit is compiled with -DBERTKIT_WITH_NCCL=1
// against a CUDA LibTorch. Both need the c10d headers and, for Gloo, the gloo
// headers (Debian: libgloo-dev); without them bertkit builds single-process
// only and a WORLD_SIZE > 1 is an error saying so (distributed_available()).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace bertkit {

// Whether this build can run multi-process (and which backends).
bool distributed_available();
std::string distributed_backends();  // e.g. "gloo", "gloo, nccl", or "" when unavailable

class Distributed {
 public:
  // World size 1 when WORLD_SIZE is unset or 1: every collective is a no-op.
  // Otherwise connects to MASTER_ADDR:MASTER_PORT (rank 0 hosts the store).
  // InputError naming the variable when one is missing or malformed.
  static std::shared_ptr<Distributed> from_env(const torch::Device& device);
  // A single-process instance.
  static std::shared_ptr<Distributed> single();
  virtual ~Distributed() = default;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  bool is_main() const { return rank_ == 0; }
  // Average gradients (or any tensors) in place across processes, as one flat buffer.
  virtual void all_reduce_mean(const std::vector<torch::Tensor>& tensors) {}
  // Sum a few scalars across processes.
  virtual std::vector<double> all_reduce_sum(const std::vector<double>& values) { return values; }
  // Copy rank 0's tensors to every process (initial weights).
  virtual void broadcast(const std::vector<torch::Tensor>& tensors) {}
  virtual void barrier() {}

 protected:
  int rank_ = 0, world_size_ = 1, local_rank_ = 0;
};

}  // namespace bertkit

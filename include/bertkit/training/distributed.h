// Processes of one data-parallel run over LibTorch's c10d process groups
// (docs/architecture.md), placed by the variables torchrun sets (launch_env.h).
//
// Backends: Gloo for CPU tensors, NCCL for CUDA ones when the LibTorch has it
// (found by CMake, no option to pass); `train.distributed.backend` chooses.
// Without the c10d/gloo headers bertkit builds single-process only and a
// WORLD_SIZE > 1 is an error saying so (distributed_available()).
// Gradients are not averaged here but by the Reducer in data_parallel.h.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bertkit/training/launch_env.h"

namespace bertkit {

// Whether this build can run multi-process (and which backends).
bool distributed_available();
std::string distributed_backends();  // e.g. "gloo", "gloo, nccl", or "" when unavailable

struct DistributedOptions {
  std::string backend = "auto";  // auto | nccl | gloo
  double timeout_seconds = 300;  // rendezvous and each collective
};

class Distributed {
 public:
  // World size 1 when WORLD_SIZE is unset or 1: every collective is a no-op.
  // Otherwise connects to MASTER_ADDR:MASTER_PORT (rank 0 hosts the store
  // unless torchrun's agent does). InputError naming the variable when one is
  // missing, malformed or inconsistent.
  static std::shared_ptr<Distributed> from_env(const torch::Device& device, const DistributedOptions& options = {});
  // The same from an explicit placement (tests run ranks as threads).
  static std::shared_ptr<Distributed> connect(const LaunchEnv& env, const torch::Device& device,
                                              const DistributedOptions& options = {});
  // A single-process instance.
  static std::shared_ptr<Distributed> single();
  virtual ~Distributed() = default;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  int local_rank() const { return env_.local_rank; }
  bool is_main() const { return env_.rank == 0; }
  const LaunchEnv& launch() const { return env_; }
  const std::string& backend() const { return backend_; }  // "gloo", "nccl", "" for one process
  double timeout_seconds() const { return timeout_seconds_; }

  // Sum a few scalars across processes.
  virtual std::vector<double> all_reduce_sum(const std::vector<double>& values) { return values; }
  // Rank 0's values on every process (metrics that must agree everywhere).
  virtual std::vector<double> broadcast_values(const std::vector<double>& values) { return values; }
  // Rank 0's metric values under the same names (each rank computes the whole
  // eval set's metrics from the ranks' shared-out batches, EvalOptions::
  // sum_over_processes; this makes sure all ranks take the same decisions
  // from them, to the last bit).
  std::map<std::string, double> broadcast_metrics(const std::map<std::string, double>& metrics);
  // Copy rank 0's tensors to every process (initial weights).
  virtual void broadcast(const std::vector<torch::Tensor>& tensors) {}
  virtual void barrier() {}

 protected:
  LaunchEnv env_;
  std::string backend_;
  double timeout_seconds_ = 0;
};

// The message of a RuntimeError for a collective that failed on `dist`: which
// rank, the cause, the timeout, and that the run resumes with --resume.
std::string describe_collective_failure(const Distributed& dist, const std::string& cause);
// The same for an exception (LibTorch's without their C++ backtrace).
std::string describe_collective_failure(const Distributed& dist, const std::exception& cause);

}  // namespace bertkit

// Wall time per phase of a benchmark's step (load, forward, backward, ...),
// summed over the timed steps: where a step's milliseconds go. On CUDA each lap
// synchronizes the device first, so use it for diagnosis, not for the headline
// number.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/cuda.h>
#include <torch/torch.h>

namespace bertkit::bench {

class PhaseTimes {
 public:
  using Clock = std::chrono::steady_clock;

  class Lap {
   public:
    Lap(PhaseTimes& owner, torch::Device device) : owner_(owner), device_(device), last_(Clock::now()) {}
    void lap(const std::string& phase) {
      if (device_.is_cuda()) torch::cuda::synchronize(device_.index());
      const auto now = Clock::now();
      owner_.add(phase, std::chrono::duration<double>(now - last_).count());
      last_ = now;
    }

   private:
    PhaseTimes& owner_;
    torch::Device device_;
    Clock::time_point last_;
  };

  Lap start(torch::Device device) { return Lap(*this, device); }
  void clear() { seconds_.clear(), order_.clear(); }

  // "load 1.2 ms, forward 30.1 ms, ..." averaged over `steps`.
  std::string summary(int64_t steps) const {
    std::string out;
    for (const auto& phase : order_) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s%s %.1f ms", out.empty() ? "" : ", ", phase.c_str(),
                    1000.0 * seconds_.at(phase) / static_cast<double>(steps));
      out += buf;
    }
    return out;
  }

 private:
  void add(const std::string& phase, double seconds) {
    if (!seconds_.count(phase)) order_.push_back(phase);
    seconds_[phase] += seconds;
  }
  std::map<std::string, double> seconds_;
  std::vector<std::string> order_;
};

// LibTorch's profiler recording into `path` (chrome://tracing JSON) until the
// result is destroyed; nothing when `path` is empty (--trace not given).
inline std::unique_ptr<torch::autograd::profiler::RecordProfile> trace_to(const std::string& path) {
  if (path.empty()) return nullptr;
  return std::make_unique<torch::autograd::profiler::RecordProfile>(path);
}

}  // namespace bertkit::bench

// Server metrics in the Prometheus text exposition format: requests by route
// and status, request latency, queue size, batch sizes and tokens.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bertkit::serving {

// A cumulative histogram with fixed upper bounds (+Inf implied).
struct Histogram {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;  // one per bound, plus +Inf
  double sum = 0;
  uint64_t count = 0;
  explicit Histogram(std::vector<double> b = {}) : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}
  void observe(double v);
};

class Metrics {
 public:
  Metrics();
  void record_status(const std::string& route, int status);
  void record_latency(const std::string& route, double seconds);
  void record_batch(std::size_t sequences, std::size_t tokens);
  std::atomic<int64_t> queue_size{0};  // requests waiting or running
  std::string prometheus() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  Histogram batch_size_, batch_tokens_;
  uint64_t tokens_total_ = 0;
};

}  // namespace bertkit::serving

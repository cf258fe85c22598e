#include "bertkit/serving/metrics.h"

#include <sstream>

namespace bertkit::serving {

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds.size() && v > bounds[i]) ++i;
  ++counts[i];
  sum += v;
  ++count;
}

static const std::vector<double> kLatencyBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

Metrics::Metrics()
    : batch_size_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512}),
      batch_tokens_({16, 64, 256, 1024, 4096, 16384, 65536}) {}

void Metrics::record_status(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}

void Metrics::record_latency(const std::string& route, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = latency_.find(route);
  if (it == latency_.end()) it = latency_.emplace(route, Histogram(kLatencyBounds)).first;
  it->second.observe(seconds);
}

void Metrics::record_batch(std::size_t sequences, std::size_t tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  batch_size_.observe(static_cast<double>(sequences));
  batch_tokens_.observe(static_cast<double>(tokens));
  tokens_total_ += tokens;
}

static std::string number(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

static void write_histogram(std::ostringstream& os, const std::string& name, const std::string& labels, const Histogram& h) {
  const std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    os << name << "_bucket{" << sep << "le=\"" << number(h.bounds[i]) << "\"} " << cumulative << "\n";
  }
  os << name << "_bucket{" << sep << "le=\"+Inf\"} " << h.count << "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  os << name << "_sum" << braces << " " << number(h.sum) << "\n";
  os << name << "_count" << braces << " " << h.count << "\n";
}

std::string Metrics::prometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream os;
  os << "# HELP bertkit_requests_total HTTP requests answered, by route and status code.\n"
     << "# TYPE bertkit_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    os << "bertkit_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  os << "# HELP bertkit_request_duration_seconds Time from request to answer, by route.\n"
     << "# TYPE bertkit_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_)
    write_histogram(os, "bertkit_request_duration_seconds", "route=\"" + route + "\"", h);
  os << "# HELP bertkit_queue_size Requests waiting for or in inference.\n"
     << "# TYPE bertkit_queue_size gauge\n"
     << "bertkit_queue_size " << queue_size.load() << "\n";
  os << "# HELP bertkit_batch_size Sequences per inference batch.\n# TYPE bertkit_batch_size histogram\n";
  write_histogram(os, "bertkit_batch_size", "", batch_size_);
  os << "# HELP bertkit_batch_tokens Tokens (unpadded) per inference batch.\n# TYPE bertkit_batch_tokens histogram\n";
  write_histogram(os, "bertkit_batch_tokens", "", batch_tokens_);
  os << "# HELP bertkit_tokens_total Tokens run through the model.\n# TYPE bertkit_tokens_total counter\n"
     << "bertkit_tokens_total " << tokens_total_ << "\n";
  return os.str();
}

}  // namespace bertkit::serving

// The batching queue of one model: requests (jobs of one or more sequences)
// wait here; one inference thread takes the oldest job plus the later jobs of
// the same kind that fit the token budget, runs them as one call of the
// runner (the batched pipelines pack them into padded batches), and hands each
// job its answers in order. A full queue refuses at once (the server's 429);
// a cancelled job (its client went away) is dropped before it runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertkit/serving/metrics.h"
#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit::serving {

// One input of a request: its encoding and texts (QA: question, context).
struct Sequence {
  Encoding encoding;
  std::string text, text_pair;
};

struct Job {
  std::string kind;  // jobs of the same kind (route + options) share batches
  std::vector<Sequence> sequences;
  std::size_t tokens = 0;
  std::atomic<bool> cancelled{false};
  std::promise<std::vector<nlohmann::json>> answers;  // one per sequence, in order
};

// Answers one JSON value per sequence, in order; all sequences share `kind`.
using Runner = std::function<std::vector<nlohmann::json>(const std::string& kind, const std::vector<const Sequence*>&)>;

class BatchQueue {
 public:
  BatchQueue(Runner runner, std::size_t max_batch_tokens, std::size_t max_requests, Metrics& metrics);
  ~BatchQueue();
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // False (nothing queued) when max_requests jobs are already waiting or running.
  bool submit(const std::shared_ptr<Job>& job);
  // Runs every queued job, then ends the inference thread.
  void drain_and_stop();

 private:
  void run_loop();
  std::vector<std::shared_ptr<Job>> take_jobs();
  void finish(const std::vector<std::shared_ptr<Job>>& jobs);
  static void answer(const std::vector<std::shared_ptr<Job>>& live, std::vector<nlohmann::json>& answers,
                     const std::exception_ptr& error);

  Runner runner_;
  std::size_t max_batch_tokens_, max_requests_;
  Metrics& metrics_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bertkit::serving

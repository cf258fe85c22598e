#include "bertkit/serving/batch_queue.h"

#include <exception>

namespace bertkit::serving {

BatchQueue::BatchQueue(Runner runner, std::size_t max_batch_tokens, std::size_t max_requests, Metrics& metrics)
    : runner_(std::move(runner)), max_batch_tokens_(max_batch_tokens), max_requests_(max_requests), metrics_(metrics) {
  thread_ = std::thread([this] { run_loop(); });
}

BatchQueue::~BatchQueue() { drain_and_stop(); }

bool BatchQueue::submit(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || in_flight_ >= max_requests_) return false;
    ++in_flight_;
    queue_.push_back(job);
  }
  ++metrics_.queue_size;
  wake_.notify_one();
  return true;
}

void BatchQueue::drain_and_stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// The oldest job, then later jobs of its kind while their tokens fit the budget.
std::vector<std::shared_ptr<Job>> BatchQueue::take_jobs() {
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
  std::vector<std::shared_ptr<Job>> taken;
  if (queue_.empty()) return taken;
  taken.push_back(queue_.front());
  queue_.pop_front();
  std::size_t tokens = taken[0]->tokens;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->kind == taken[0]->kind && tokens + (*it)->tokens <= max_batch_tokens_) {
      tokens += (*it)->tokens;
      taken.push_back(*it);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

void BatchQueue::finish(const std::vector<std::shared_ptr<Job>>& jobs) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ -= jobs.size();
  }
  metrics_.queue_size -= static_cast<int64_t>(jobs.size());
}

void BatchQueue::run_loop() {
  for (;;) {
    std::vector<std::shared_ptr<Job>> jobs = take_jobs();
    if (jobs.empty()) return;  // stopping and drained
    std::vector<std::shared_ptr<Job>> live;
    std::vector<const Sequence*> sequences;
    std::size_t tokens = 0;
    for (auto& j : jobs) {
      if (j->cancelled) {  // the client went away: nobody waits for these answers
        j->answers.set_value({});
        continue;
      }
      live.push_back(j);
      tokens += j->tokens;
      for (const auto& s : j->sequences) sequences.push_back(&s);
    }
    if (!sequences.empty()) {
      try {
        std::vector<nlohmann::json> answers = runner_(live[0]->kind, sequences);
        metrics_.record_batch(sequences.size(), tokens);
        std::size_t next = 0;
        for (auto& j : live) {
          std::vector<nlohmann::json> mine(answers.begin() + next, answers.begin() + next + j->sequences.size());
          next += j->sequences.size();
          j->answers.set_value(std::move(mine));
        }
      } catch (...) {
        for (auto& j : live) j->answers.set_exception(std::current_exception());
      }
    } else {
      for (auto& j : live) j->answers.set_value({});
    }
    finish(jobs);
  }
}

}  // namespace bertkit::serving

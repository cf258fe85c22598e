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

// Each batch: run the live jobs' sequences together, free their places in the
// queue, then answer them, so that a client holding its answer never finds its
// own request still counted (queue_size, the max_requests admission).
void BatchQueue::run_loop() {
  for (;;) {
    std::vector<std::shared_ptr<Job>> jobs = take_jobs();
    if (jobs.empty()) return;  // stopping and drained
    std::vector<std::shared_ptr<Job>> live, cancelled;
    std::vector<const Sequence*> sequences;
    std::size_t tokens = 0;
    for (auto& j : jobs) {
      if (j->cancelled) {  // the client went away: nobody waits for these answers
        cancelled.push_back(j);
        continue;
      }
      live.push_back(j);
      tokens += j->tokens;
      for (const auto& s : j->sequences) sequences.push_back(&s);
    }
    std::vector<nlohmann::json> answers;
    std::exception_ptr error;
    if (!sequences.empty()) {
      try {
        answers = runner_(live[0]->kind, sequences);
        metrics_.record_batch(sequences.size(), tokens);
      } catch (...) {
        error = std::current_exception();
      }
    }
    finish(jobs);
    for (auto& j : cancelled) j->answers.set_value({});
    answer(live, answers, error);
  }
}

// Each job of the batch its own slice of the answers, in order, or the error.
void BatchQueue::answer(const std::vector<std::shared_ptr<Job>>& live, std::vector<nlohmann::json>& answers,
                        const std::exception_ptr& error) {
  std::size_t next = 0;
  for (auto& j : live) {
    if (error) {
      j->answers.set_exception(error);
    } else {
      std::vector<nlohmann::json> mine(std::make_move_iterator(answers.begin() + next),
                                       std::make_move_iterator(answers.begin() + next + j->sequences.size()));
      next += j->sequences.size();
      j->answers.set_value(std::move(mine));
    }
  }
}

}  // namespace bertkit::serving

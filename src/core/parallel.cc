#include "bertkit/core/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace bertkit {

namespace {

// One parallel_for call: workers and the caller take chunks until none is
// left. `active` counts the threads between taking a chunk and finishing it,
// so the caller waits exactly for the chunks that were taken.
struct Job {
  std::function<void(std::size_t)> fn;
  std::size_t n = 0, chunk = 1;
  std::atomic<std::size_t> next{0};
  std::atomic<unsigned> active{0};
  std::mutex m;
  std::condition_variable finished;
  std::exception_ptr error;

  void run() {
    for (;;) {
      active.fetch_add(1);
      const std::size_t start = next.fetch_add(chunk);
      if (start < n) run_chunk(start, std::min(start + chunk, n));
      if (active.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(m);
        finished.notify_all();
      }
      if (start >= n) return;
    }
  }

  void run_chunk(std::size_t start, std::size_t stop) {
    try {
      for (std::size_t i = start; i < stop; ++i) fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(m);
      if (!error) error = std::current_exception();
      next = n;  // hand out no more work
    }
  }

  void wait() {
    std::unique_lock<std::mutex> lock(m);
    finished.wait(lock, [&] { return next.load() >= n && active.load() == 0; });
  }
};

// Process-wide workers. The caller works too and only waits for chunks a
// worker has actually taken, so a busy machine (workers slow to wake) costs at
// most the single-thread time; workers that wake late find the job finished.
class WorkerPool {
 public:
  static WorkerPool& instance() {
    static WorkerPool* pool = new WorkerPool();  // never destroyed: workers may outlive main's statics
    return *pool;
  }

  void run(const std::shared_ptr<Job>& job, unsigned helpers) {
    {
      std::lock_guard<std::mutex> lock(m_);
      while (workers_.size() < helpers) workers_.emplace_back([this] { loop(); });
      for (unsigned i = 0; i < helpers; ++i) queue_.push_back(job);
    }
    cv_.notify_all();
    job->run();
    job->wait();
  }

 private:
  void loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return !queue_.empty(); });
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job->run();
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace

unsigned resolve_threads(unsigned requested) {
  return requested > 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& fn, std::size_t chunk) {
  if (n == 0) return;
  chunk = std::max<std::size_t>(1, chunk);
  const std::size_t chunks = (n + chunk - 1) / chunk;
  threads = static_cast<unsigned>(std::min<std::size_t>(resolve_threads(threads), chunks));
  auto job = std::make_shared<Job>();
  job->fn = fn;
  job->n = n;
  job->chunk = chunk;
  if (threads <= 1) {
    job->run();
  } else {
    WorkerPool::instance().run(job, threads - 1);
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace bertkit

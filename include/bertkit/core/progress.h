// A progress line on stderr: rewritten in place ("\r") on a terminal; in a log
// file (stderr not a terminal) one plain line per tenth of the work, so the log
// gets readable lines instead of one very long one.
#pragma once

#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

namespace bertkit {

class ProgressLine {
 public:
  // `what` names the work ("prepare: tokenized", ...), `unit` the items ("documents").
  ProgressLine(std::string what, int64_t total, std::string unit)
      : what_(std::move(what)), unit_(std::move(unit)), total_(total), terminal_(::isatty(2) == 1),
        start_(std::chrono::steady_clock::now()) {}

  // `done` items of `total` are finished (not thread-safe: callers serialise).
  void update(int64_t done) {
    if (total_ <= 0) return;
    const int64_t tenth = done * 10 / total_;
    if (terminal_) {
      std::fprintf(stderr, "\r%s %lld/%lld %s (%.1f s)", what_.c_str(), static_cast<long long>(done),
                   static_cast<long long>(total_), unit_.c_str(), seconds());
      if (done >= total_) std::fprintf(stderr, "\n");
    } else if (tenth > last_tenth_) {
      std::fprintf(stderr, "%s %lld/%lld %s (%.1f s)\n", what_.c_str(), static_cast<long long>(done),
                   static_cast<long long>(total_), unit_.c_str(), seconds());
    }
    last_tenth_ = std::max(last_tenth_, tenth);
    std::fflush(stderr);
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  std::string what_, unit_;
  int64_t total_;
  bool terminal_;
  int64_t last_tenth_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace bertkit

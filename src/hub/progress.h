// One progress bar per downloaded file on stderr: redrawn in place on a
// terminal, two plain lines (start, end) otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bertkit::hub {

class ProgressBar {
 public:
  ProgressBar(std::string name, std::int64_t total, std::int64_t initial);
  void add(std::int64_t bytes);  // may be negative (a restarted transfer)
  void finish();

 private:
  void draw(bool force);
  std::string name_;
  std::int64_t total_, done_, initial_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "12.3 MB": decimal units, as huggingface_hub's tqdm bars show them.
std::string human_bytes(std::int64_t n);

}  // namespace bertkit::hub

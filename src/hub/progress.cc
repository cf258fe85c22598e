#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace bertkit::hub {

std::string human_bytes(std::int64_t n) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

ProgressBar::ProgressBar(std::string name, std::int64_t total, std::int64_t initial)
    : name_(std::move(name)), total_(total), done_(initial), initial_(initial), tty_(::isatty(2) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (tty_) {
    draw(true);
  } else {
    std::cerr << "downloading " << name_ << " (" << human_bytes(total_) << ")";
    if (initial_ > 0) std::cerr << ", resuming at " << human_bytes(initial_);
    std::cerr << "\n";
  }
}

void ProgressBar::add(std::int64_t bytes) {
  done_ += bytes;
  if (tty_) draw(false);
}

void ProgressBar::draw(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const int width = 30;
  double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  if (frac > 1) frac = 1;
  int filled = static_cast<int>(frac * width);
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(done_ - initial_) / secs : 0;
  std::string shown = name_.size() > 40 ? "(...)" + name_.substr(name_.size() - 40) : name_;
  std::cerr << "\r" << shown << " " << static_cast<int>(frac * 100) << "% |" << std::string(filled, '#')
            << std::string(width - filled, ' ') << "| " << human_bytes(done_) << "/" << human_bytes(total_) << " ["
            << human_bytes(static_cast<std::int64_t>(rate)) << "/s]\x1b[K" << std::flush;
}

void ProgressBar::finish() {
  if (tty_) {
    draw(true);
    std::cerr << "\n";
  } else {
    std::cerr << "downloaded " << name_ << " (" << human_bytes(done_) << ")\n";
  }
}

}  // namespace bertkit::hub

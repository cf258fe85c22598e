#include "bertkit/core/fault_injection.h"

#include <cstdlib>
#include <mutex>
#include <string>

#include <signal.h>
#include <unistd.h>

namespace bertkit {

namespace {

// BERTKIT_FAULT split into its parts.
struct FaultSpec {
  std::string point;
  long hit = 1;
  bool pause = false;
};

FaultSpec parse_fault_spec(std::string text) {
  FaultSpec s;
  auto colon = text.find(':');
  if (colon != std::string::npos) {
    s.pause = text.substr(colon + 1) == "pause";
    text.resize(colon);
  }
  auto hash = text.find('#');
  if (hash != std::string::npos) {
    s.hit = std::atol(text.c_str() + hash + 1);
    text.resize(hash);
  }
  s.point = text;
  return s;
}

// True when BERTKIT_FAULT names `point` for the call counted now; the count
// starts again when BERTKIT_FAULT changes or is unset (tests set it per run).
bool reached(const char* point, bool* pause) {
  static std::mutex mutex;
  static std::string counted_for;
  static long calls = 0;
  const char* env = std::getenv("BERTKIT_FAULT");
  std::lock_guard<std::mutex> lock(mutex);
  if (!env || !*env) {
    counted_for.clear();
    return false;
  }
  if (counted_for != env) {
    counted_for = env;
    calls = 0;
  }
  const FaultSpec spec = parse_fault_spec(env);
  if (spec.point != point) return false;
  if (pause) *pause = spec.pause;
  return ++calls == spec.hit;
}

}  // namespace

bool fault_injected(const char* point) { return reached(point, nullptr); }

void kill_point(const char* point) {
  bool pause = false;
  if (!reached(point, &pause)) return;
  if (!pause) ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();
}

}  // namespace bertkit

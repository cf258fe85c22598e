#include "bertkit/core/malloc_tuning.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bertkit {

void tune_malloc_for_steps() {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
      std::getenv("MALLOC_TOP_PAD_") || std::getenv("GLIBC_TUNABLES"))
    return;
  constexpr int kMiB = 1 << 20;
  mallopt(M_MMAP_THRESHOLD, 32 * kMiB);   // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1024 * kMiB);  // give the heap back only above 1 GiB free at the top
  mallopt(M_TOP_PAD, 64 * kMiB);
#endif
}

}  // namespace bertkit

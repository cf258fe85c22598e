// The one thread pool: parallel_for over [0, n) on a process-wide set of
// persistent workers, the calling thread working too. A worker's exception
// is passed back to the caller (the first one, after all work has stopped).
#pragma once

#include <cstddef>
#include <functional>

namespace bertkit {

// The number of threads `requested` means: 0 = all hardware threads.
unsigned resolve_threads(unsigned requested);

// Run fn(i) for every i in [0, n) on up to `threads` threads (0: all hardware
// threads), handing out `chunk` consecutive indices at a time. Returns when
// every call has returned; rethrows the first exception any call threw.
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& fn,
                  std::size_t chunk = 1);

}  // namespace bertkit

// The one thread pool: every index once, exceptions passed back, any thread count.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bertkit/core/parallel.h"

using namespace bertkit;

TEST(ParallelFor, VisitsEveryIndexExactlyOnceForAnyThreadsAndChunk) {
  for (unsigned threads : {0u, 1u, 2u, 5u}) {
    for (std::size_t chunk : {1u, 7u, 1000u}) {
      std::vector<std::atomic<int>> seen(1003);
      parallel_for(seen.size(), threads, [&](std::size_t i) { seen[i].fetch_add(1); }, chunk);
      for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "index " << i << " threads " << threads;
    }
  }
}

TEST(ParallelFor, AWorkersExceptionReachesTheCaller) {
  for (unsigned threads : {1u, 3u}) {
    std::atomic<int> calls{0};
    EXPECT_THROW(parallel_for(10000, threads,
                              [&](std::size_t i) {
                                ++calls;
                                if (i == 17) throw std::runtime_error("index 17");
                                // Each call takes a moment, so the other workers cannot finish all
                                // 10000 while the thrower waits for a core (ctest -j2 on 2 cores).
                                std::this_thread::sleep_for(std::chrono::microseconds(50));
                              }),
                 std::runtime_error);
    EXPECT_LT(calls.load(), 10000) << "work went on after the error";
    // The pool is usable afterwards.
    std::atomic<int> after{0};
    parallel_for(100, threads, [&](std::size_t) { ++after; });
    EXPECT_EQ(after.load(), 100);
  }
}

TEST(ParallelFor, NestedCallsFinish) {
  std::atomic<int> total{0};
  parallel_for(8, 4, [&](std::size_t) { parallel_for(50, 4, [&](std::size_t) { ++total; }); });
  EXPECT_EQ(total.load(), 400);
}

TEST(ParallelFor, ZeroMeansAllHardwareThreads) {
  EXPECT_GE(resolve_threads(0), 1u);
  EXPECT_EQ(resolve_threads(3), 3u);
}

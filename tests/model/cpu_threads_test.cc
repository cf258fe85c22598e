// set_cpu_threads: with OpenBLAS under LibTorch (Debian's build) the threads go to
// OpenBLAS and LibTorch's pool keeps one; OPENBLAS_NUM_THREADS leaves the split to torch.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <torch/torch.h>

#include "bertkit/nn/cpu_threads.h"

namespace bertkit::test {
namespace {

using GetThreads = int (*)();

GetThreads openblas_getter() {
  return reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
}

TEST(CpuThreads, OpenBlasGetsTheThreadsAndTorchOne) {
  auto get_openblas = openblas_getter();
  if (!get_openblas) GTEST_SKIP() << "this LibTorch's BLAS is not OpenBLAS (e.g. a PyTorch wheel's MKL): nothing to split";
  ASSERT_EQ(getenv("OPENBLAS_NUM_THREADS"), nullptr) << "unset OPENBLAS_NUM_THREADS to run this test";
  set_cpu_threads(2);
  EXPECT_EQ(get_openblas(), 2);
  EXPECT_EQ(torch::get_num_threads(), 1);
  EXPECT_EQ(cpu_threads(), 2);
  set_cpu_threads(1);
  EXPECT_EQ(get_openblas(), 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  EXPECT_EQ(cpu_threads(), 1);
}

TEST(CpuThreads, OpenblasNumThreadsInTheEnvironmentLeavesTheSplitToTorch) {
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  set_cpu_threads(2);
  unsetenv("OPENBLAS_NUM_THREADS");
  EXPECT_EQ(torch::get_num_threads(), 2);
  set_cpu_threads(1);
}

}  // namespace
}  // namespace bertkit::test

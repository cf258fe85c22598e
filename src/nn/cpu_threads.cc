#include "bertkit/nn/cpu_threads.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>

#include <torch/torch.h>

namespace bertkit {

namespace {

std::atomic<int> g_cpu_threads{0};

// OpenBLAS's own setter when the process's BLAS is OpenBLAS; null otherwise.
using OpenblasSetNumThreads = void (*)(int);
OpenblasSetNumThreads openblas_setter() {
  return reinterpret_cast<OpenblasSetNumThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}

}  // namespace

void set_cpu_threads(int n) {
  const int threads = n > 0 ? n : cpu_threads();
  g_cpu_threads = threads;
  auto set_openblas = openblas_setter();
  if (!set_openblas || std::getenv("OPENBLAS_NUM_THREADS")) {
    torch::set_num_threads(threads);
    return;
  }
  torch::set_num_threads(1);
  set_openblas(threads);
}

int cpu_threads() { return g_cpu_threads.load() > 0 ? g_cpu_threads.load() : torch::get_num_threads(); }

}  // namespace bertkit

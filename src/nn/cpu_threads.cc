#include "bertkit/nn/cpu_threads.h"

#include <dlfcn.h>

#include <cstdlib>

#include <torch/torch.h>

namespace bertkit {

namespace {

// OpenBLAS's own setter when the process's BLAS is OpenBLAS; null otherwise.
using OpenblasSetNumThreads = void (*)(int);
OpenblasSetNumThreads openblas_setter() {
  return reinterpret_cast<OpenblasSetNumThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}

}  // namespace

void set_cpu_threads(int n) {
  if (n > 0) torch::set_num_threads(n);
  if (std::getenv("OPENBLAS_NUM_THREADS")) return;  // the user's explicit choice
  if (auto set_openblas = openblas_setter()) set_openblas(torch::get_num_threads());
}

}  // namespace bertkit

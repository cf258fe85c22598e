// One setting for the CPU threads of a process: LibTorch's intra-op pool and the
// BLAS library under it.
//
// Debian's LibTorch calls OpenBLAS's pthreads build, which runs its own pool of
// one thread per core whatever torch::set_num_threads says. With torch on one
// thread, OpenBLAS still used two on a 2-core machine and its threads fought the
// process's other work: bert-mini classification of SST-2 dev took 3.7 s instead
// of 2.9 s (docs/performance.md). After set_cpu_threads, OpenBLAS uses exactly as
// many threads as torch, unless OPENBLAS_NUM_THREADS is set (then that). Other BLAS
// libraries are left alone.
#pragma once

namespace bertkit {

// n > 0: torch::set_num_threads(n); then the BLAS library to torch::get_num_threads().
// n == 0 keeps LibTorch's choice (OMP_NUM_THREADS, else the cores) and aligns the BLAS to it.
void set_cpu_threads(int n);

}  // namespace bertkit

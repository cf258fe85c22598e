// One setting for the CPU threads of a process, split between LibTorch's
// intra-op pool (OpenMP) and the BLAS library under it.
//
// Debian's LibTorch calls OpenBLAS's pthreads build, which keeps its own pool of
// one thread per core whatever torch::set_num_threads says. Both pools spin while
// they wait, so with N torch threads and N OpenBLAS threads on N cores each pool
// steals the cores of the other: on 2 cores a bert-mini pretraining step took
// 1153 ms that way, 745 ms with OpenBLAS on one thread, and 588 ms with torch on
// one thread and OpenBLAS on two (docs/performance.md). The matrix products are
// most of a BERT step, so with OpenBLAS present the N threads go to OpenBLAS and
// LibTorch's element-wise kernels run on the calling thread.
//
// OPENBLAS_NUM_THREADS in the environment is an explicit choice: then only
// torch::set_num_threads(n) is applied, as without OpenBLAS.
#pragma once

namespace bertkit {

// n > 0: use n CPU threads; n == 0: LibTorch's default count (OMP_NUM_THREADS, else the cores).
void set_cpu_threads(int n);

// The threads set_cpu_threads gave the process (for logs and benchmark records).
int cpu_threads();

}  // namespace bertkit
